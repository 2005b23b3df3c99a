//! Plan mutations. The lead municipality writes; mentors, partners and coordinators comment;
//! the Pearl and its mentors post progress in the title year.

use crate::graphql::scalars::Decimal;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::service::{self, ActionFields, IndicatorFields, PlanChanges, ProgressFields};
use super::types::{Plan, PlanComment, PlanIndicator, ProgressUpdate};
use crate::domain::{EurAmount, Measure, NonEmptyText};
use crate::error::AppError;
use crate::graphql::context::req;
use crate::graphql::enums::{ActionStatus, Implementation, PlanSection};
use crate::graphql::ids;
use crate::graphql::scalars::Date;

/// Longest text of a plan section, in characters.
const MAX_SECTION: usize = 50_000;

fn section(field: &str, raw: Option<String>) -> Result<Option<String>, AppError> {
    raw.map(|t| {
        let t = t.trim().to_owned();
        if t.chars().count() > MAX_SECTION {
            Err(AppError::bad_input(
                field,
                format!("must be at most {MAX_SECTION} characters"),
            ))
        } else {
            Ok(t)
        }
    })
    .transpose()
}

/// Input of `updatePlan`; omitted sections stay as they are.
#[derive(InputObject)]
pub struct UpdatePlanInput {
    /// The plan.
    pub plan_id: ID,
    /// The plan `version` the edit is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// The vision.
    pub vision: Option<String>,
    /// Context and challenges.
    pub context: Option<String>,
    /// Objectives.
    pub objectives: Option<String>,
    /// Stakeholders.
    pub stakeholders: Option<String>,
    /// Total budget in EUR (at most two decimals).
    pub budget: Option<Decimal>,
    /// Timeline.
    pub timeline: Option<String>,
}

/// The fields of a plan action.
#[derive(InputObject)]
pub struct PlanActionInput {
    /// Title (1–300 characters).
    pub title: String,
    /// What will be done.
    #[graphql(default)]
    pub description: String,
    /// Themes (vocabulary terms of kind THEME).
    #[graphql(default)]
    pub theme_ids: Vec<ID>,
    /// Published good practices the action builds on.
    #[graphql(default)]
    pub practice_ids: Vec<ID>,
    /// Target groups.
    #[graphql(default)]
    pub target_groups: String,
    /// Cultural partners.
    #[graphql(default)]
    pub cultural_partners: String,
    /// Planned start.
    pub starts_on: Option<Date>,
    /// Planned end (not before the start).
    pub ends_on: Option<Date>,
    /// Budget in EUR (at most two decimals, not negative).
    pub budget: Decimal,
    /// Status (default PLANNED).
    pub status: Option<ActionStatus>,
}

impl PlanActionInput {
    fn parse(self) -> Result<ActionFields, AppError> {
        if let (Some(s), Some(e)) = (self.starts_on, self.ends_on)
            && e < s
        {
            return Err(AppError::bad_input(
                "action.endsOn",
                "must not be before startsOn",
            ));
        }
        let decode = |list: &[ID], ty: &str, field: &str| {
            list.iter()
                .enumerate()
                .map(|(i, id)| ids::decode(id, ty, &format!("{field}.{i}")))
                .collect::<Result<Vec<_>, _>>()
        };
        let themes = decode(&self.theme_ids, "VocabularyTerm", "action.themeIds")?;
        let practices = decode(&self.practice_ids, "GoodPractice", "action.practiceIds")?;
        Ok(ActionFields {
            title: NonEmptyText::parse("action.title", &self.title, 300)?,
            description: section("action.description", Some(self.description))?.unwrap_or_default(),
            themes,
            practices,
            target_groups: section("action.targetGroups", Some(self.target_groups))?
                .unwrap_or_default(),
            cultural_partners: section("action.culturalPartners", Some(self.cultural_partners))?
                .unwrap_or_default(),
            starts_on: self.starts_on.map(|d| d.0),
            ends_on: self.ends_on.map(|d| d.0),
            budget: EurAmount::parse("action.budget", self.budget.0)?,
            status: self
                .status
                .map(Into::into)
                .unwrap_or(entity::ActionStatus::Planned),
        })
    }
}

/// Input of `addPlanAction`.
#[derive(InputObject)]
pub struct AddPlanActionInput {
    /// The plan.
    pub plan_id: ID,
    /// The plan `version` the edit is based on.
    pub expected_version: i32,
    /// The new action.
    pub action: PlanActionInput,
}

/// Input of `updatePlanAction`.
#[derive(InputObject)]
pub struct UpdatePlanActionInput {
    /// The action.
    pub action_id: ID,
    /// The plan `version` the edit is based on.
    pub expected_version: i32,
    /// All of its fields, as they should be.
    pub action: PlanActionInput,
}

/// Input of `removePlanAction` and `removePlanIndicator`.
#[derive(InputObject)]
pub struct RemovePlanItemInput {
    /// The action or indicator.
    pub id: ID,
    /// The plan `version` the edit is based on.
    pub expected_version: i32,
}

/// The fields of a plan indicator.
#[derive(InputObject)]
pub struct PlanIndicatorInput {
    /// What is measured (1–300 characters).
    pub name: String,
    /// Unit (1–50 characters).
    pub unit: String,
    /// Value before the plan (at most three decimals).
    pub baseline: Decimal,
    /// Value aimed at (at most three decimals).
    pub target: Decimal,
    /// Value measured, if already known.
    pub actual: Option<Decimal>,
}

impl PlanIndicatorInput {
    fn parse(self) -> Result<IndicatorFields, AppError> {
        Ok(IndicatorFields {
            name: NonEmptyText::parse("indicator.name", &self.name, 300)?,
            unit: NonEmptyText::parse("indicator.unit", &self.unit, 50)?,
            baseline: Measure::parse("indicator.baseline", self.baseline.0)?,
            target: Measure::parse("indicator.target", self.target.0)?,
            actual: self
                .actual
                .map(|a| Measure::parse("indicator.actual", a.0))
                .transpose()?,
        })
    }
}

/// Input of `addPlanIndicator`.
#[derive(InputObject)]
pub struct AddPlanIndicatorInput {
    /// The plan.
    pub plan_id: ID,
    /// The plan `version` the edit is based on.
    pub expected_version: i32,
    /// The new indicator.
    pub indicator: PlanIndicatorInput,
}

/// Input of `updatePlanIndicator`.
#[derive(InputObject)]
pub struct UpdatePlanIndicatorInput {
    /// The indicator.
    pub indicator_id: ID,
    /// The plan `version` the edit is based on.
    pub expected_version: i32,
    /// All of its fields, as they should be.
    pub indicator: PlanIndicatorInput,
}

/// Input of `recordIndicatorValue`.
#[derive(InputObject)]
pub struct RecordIndicatorValueInput {
    /// The indicator.
    pub indicator_id: ID,
    /// The value measured (at most three decimals).
    pub actual: Decimal,
}

/// Input of `commentOnPlan`.
#[derive(InputObject)]
pub struct CommentOnPlanInput {
    /// The plan.
    pub plan_id: ID,
    /// The section commented on (omit for the plan as a whole).
    pub section: Option<PlanSection>,
    /// The comment (1–5000 characters).
    pub body: String,
}

/// Input of `postProgress`.
#[derive(InputObject)]
pub struct PostProgressInput {
    /// The plan action.
    pub action_id: ID,
    /// Fully, partly or not implemented.
    pub implementation: Implementation,
    /// Estimated completion, 0–100.
    pub percentage: i32,
    /// People reached so far (not negative).
    pub participants_reached: i32,
    /// A link to evidence (http or https).
    pub evidence_url: Option<String>,
    /// Note (up to 5000 characters).
    #[graphql(default)]
    pub note: String,
}

/// Result of a plan mutation.
#[derive(SimpleObject)]
pub struct PlanPayload {
    /// The plan as it is now.
    pub plan: Plan,
}

/// Result of `commentOnPlan`.
#[derive(SimpleObject)]
pub struct PlanCommentPayload {
    /// The new comment.
    pub comment: PlanComment,
}

/// Result of `postProgress`.
#[derive(SimpleObject)]
pub struct ProgressPayload {
    /// The new progress update.
    pub progress: ProgressUpdate,
}

/// Result of `recordIndicatorValue`.
#[derive(SimpleObject)]
pub struct PlanIndicatorPayload {
    /// The indicator as it is now.
    pub indicator: PlanIndicator,
}

/// Plan mutations.
#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Edits the plan's sections (the lead municipality, while the CuReAP is being written).
    async fn update_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdatePlanInput,
    ) -> Result<Option<PlanPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.plan_id, "Plan", "planId")?;
        let changes = PlanChanges {
            vision: section("vision", input.vision)?,
            context: section("context", input.context)?,
            objectives: section("objectives", input.objectives)?,
            stakeholders: section("stakeholders", input.stakeholders)?,
            budget: input
                .budget
                .map(|b| EurAmount::parse("budget", b.0))
                .transpose()?,
            timeline: section("timeline", input.timeline)?,
        };
        let plan =
            service::update_plan(rc.db(), &rc.actor, id, input.expected_version, changes).await?;
        Ok(Some(PlanPayload { plan: plan.into() }))
    }

    /// Adds an action at the end of the plan.
    async fn add_plan_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: AddPlanActionInput,
    ) -> Result<Option<PlanPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.plan_id, "Plan", "planId")?;
        let plan = service::add_action(
            rc.db(),
            &rc.actor,
            id,
            input.expected_version,
            input.action.parse()?,
        )
        .await?;
        Ok(Some(PlanPayload { plan: plan.into() }))
    }

    /// Replaces an action's fields.
    async fn update_plan_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdatePlanActionInput,
    ) -> Result<Option<PlanPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.action_id, "PlanAction", "actionId")?;
        let plan = service::update_action(
            rc.db(),
            &rc.actor,
            id,
            input.expected_version,
            input.action.parse()?,
        )
        .await?;
        Ok(Some(PlanPayload { plan: plan.into() }))
    }

    /// Removes an action.
    async fn remove_plan_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RemovePlanItemInput,
    ) -> Result<Option<PlanPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.id, "PlanAction", "id")?;
        let plan = service::remove_action(rc.db(), &rc.actor, id, input.expected_version).await?;
        Ok(Some(PlanPayload { plan: plan.into() }))
    }

    /// Adds an indicator.
    async fn add_plan_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: AddPlanIndicatorInput,
    ) -> Result<Option<PlanPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.plan_id, "Plan", "planId")?;
        let plan = service::add_indicator(
            rc.db(),
            &rc.actor,
            id,
            input.expected_version,
            input.indicator.parse()?,
        )
        .await?;
        Ok(Some(PlanPayload { plan: plan.into() }))
    }

    /// Replaces an indicator's fields (before submission).
    async fn update_plan_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdatePlanIndicatorInput,
    ) -> Result<Option<PlanPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.indicator_id, "PlanIndicator", "indicatorId")?;
        let plan = service::update_indicator(
            rc.db(),
            &rc.actor,
            id,
            input.expected_version,
            input.indicator.parse()?,
        )
        .await?;
        Ok(Some(PlanPayload { plan: plan.into() }))
    }

    /// Removes an indicator.
    async fn remove_plan_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RemovePlanItemInput,
    ) -> Result<Option<PlanPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.id, "PlanIndicator", "id")?;
        let plan =
            service::remove_indicator(rc.db(), &rc.actor, id, input.expected_version).await?;
        Ok(Some(PlanPayload { plan: plan.into() }))
    }

    /// Records an indicator's measured value in the title year (the Pearl or its mentors).
    async fn record_indicator_value(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RecordIndicatorValueInput,
    ) -> Result<Option<PlanIndicatorPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.indicator_id, "PlanIndicator", "indicatorId")?;
        let actual = Measure::parse("actual", input.actual.0)?;
        let ind = service::record_actual(rc.db(), &rc.actor, id, actual).await?;
        Ok(Some(PlanIndicatorPayload {
            indicator: ind.into(),
        }))
    }

    /// Comments on a plan or a section (coordinators; partners on submitted plans; its mentors).
    async fn comment_on_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CommentOnPlanInput,
    ) -> Result<Option<PlanCommentPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.plan_id, "Plan", "planId")?;
        let body = NonEmptyText::parse("body", &input.body, 5000)?;
        let c = service::comment(
            rc.db(),
            &rc.state.live,
            &rc.actor,
            id,
            input.section.map(Into::into),
            body,
        )
        .await?;
        Ok(Some(PlanCommentPayload { comment: c.into() }))
    }

    /// Posts title-year progress on an action (the Pearl or its mentors, during the title year).
    async fn post_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PostProgressInput,
    ) -> Result<Option<ProgressPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.action_id, "PlanAction", "actionId")?;
        let fields = ProgressFields::parse(
            input.implementation.into(),
            input.percentage,
            input.participants_reached,
            input.evidence_url.as_deref(),
            &input.note,
        )?;
        let p = service::post_progress(rc.db(), &rc.actor, id, fields).await?;
        Ok(Some(ProgressPayload { progress: p.into() }))
    }
}
