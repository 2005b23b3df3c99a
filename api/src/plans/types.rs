//! `Plan`, its actions, indicators, comments, frozen versions and progress updates.

use crate::graphql::scalars::Decimal;
use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use entity::{plan, plan_action, plan_comment, plan_indicator, plan_version, progress_update};

use super::service::Snapshot;
use crate::domain::{EurAmount, Measure};
use crate::graphql::context::req;
use crate::graphql::enums::{ActionStatus, Implementation, PlanSection};
use crate::graphql::ids;
use crate::graphql::loaders::{
    ActionsOfPlan, ApplicationById, CommentsOfPlan, IndicatorsOfPlan, ProgressOfAction, UserById,
    VersionsOfPlan,
};
use crate::graphql::scalars::{Date, Timestamp};
use crate::users::types::User;

/// A Culture and Resilience Action Plan (CuReAP): written by a shortlisted municipality with
/// its mentor, frozen when submitted, carried out in the title year.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Plan {
    /// Opaque global id.
    pub id: ID,
    /// The vision.
    pub vision: String,
    /// Context and challenges.
    pub context: String,
    /// Objectives.
    pub objectives: String,
    /// Stakeholders.
    pub stakeholders: String,
    /// Total budget in EUR.
    pub budget: Option<Decimal>,
    /// Timeline.
    pub timeline: String,
    /// Number of the last submitted version (0: not submitted yet).
    pub submitted_version: i32,
    /// Whether the plan is frozen (submitted).
    pub is_frozen: bool,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version of the whole plan (sections, actions, indicators).
    pub version: i32,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
    #[graphql(skip)]
    pub application_id: uuid::Uuid,
}

impl From<plan::Model> for Plan {
    fn from(m: plan::Model) -> Self {
        Self {
            id: ids::encode("Plan", m.id),
            vision: m.vision,
            context: m.context,
            objectives: m.objectives,
            stakeholders: m.stakeholders,
            budget: m.budget_cents.map(|c| EurAmount::to_decimal(c).into()),
            timeline: m.timeline,
            submitted_version: m.submitted_version,
            is_frozen: m.submitted_version > 0,
            updated_at: m.updated_at.into(),
            version: m.version,
            uuid: m.id,
            application_id: m.application_id,
        }
    }
}

#[ComplexObject]
impl Plan {
    /// The application the plan belongs to.
    async fn application(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::applications::types::Application>> {
        Ok(req(ctx)
            .loaders
            .load_one(ApplicationById(self.application_id))
            .await?
            .map(Into::into))
    }

    /// The actions, in order.
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<PlanAction>> {
        let rows = req(ctx)
            .loaders
            .load_one(ActionsOfPlan(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The indicators.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<PlanIndicator>> {
        let rows = req(ctx)
            .loaders
            .load_one(IndicatorsOfPlan(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Comments from mentors, partners and coordinators, oldest first.
    async fn comments(&self, ctx: &Context<'_>) -> Result<Vec<PlanComment>> {
        let rows = req(ctx)
            .loaders
            .load_one(CommentsOfPlan(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The submitted versions, exactly as submitted.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<PlanVersion>> {
        let rows = req(ctx)
            .loaders
            .load_one(VersionsOfPlan(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Sum of the actions' budgets in EUR.
    async fn actions_budget(&self, ctx: &Context<'_>) -> Result<Decimal> {
        let rows = req(ctx)
            .loaders
            .load_one(ActionsOfPlan(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(EurAmount::to_decimal(rows.iter().map(|a| a.budget_cents).sum()).into())
    }
}

/// One action of a plan.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PlanAction {
    /// Opaque global id.
    pub id: ID,
    /// Position in the plan (1 = first).
    pub position: i32,
    /// Title.
    pub title: String,
    /// What will be done.
    pub description: String,
    /// Who it is for.
    pub target_groups: String,
    /// Cultural organisations involved.
    pub cultural_partners: String,
    /// Planned start.
    pub starts_on: Option<Date>,
    /// Planned end.
    pub ends_on: Option<Date>,
    /// Budget in EUR.
    pub budget: Decimal,
    /// Where it stands.
    pub status: ActionStatus,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
}

impl From<plan_action::Model> for PlanAction {
    fn from(m: plan_action::Model) -> Self {
        Self {
            id: ids::encode("PlanAction", m.id),
            position: m.position,
            title: m.title,
            description: m.description,
            target_groups: m.target_groups,
            cultural_partners: m.cultural_partners,
            starts_on: m.starts_on.map(Date),
            ends_on: m.ends_on.map(Date),
            budget: EurAmount::to_decimal(m.budget_cents).into(),
            status: m.status.into(),
            uuid: m.id,
        }
    }
}

#[ComplexObject]
impl PlanAction {
    /// Its themes (vocabulary terms).
    async fn themes(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::vocabulary::types::VocabularyTerm>> {
        let rows = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::ThemesOfAction(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The good practices it builds on, as far as the reader may see them.
    async fn inspired_by(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::practices::types::GoodPractice>> {
        let rows = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::PracticesOfAction(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Title-year progress posted on this action, oldest first.
    async fn progress_updates(&self, ctx: &Context<'_>) -> Result<Vec<ProgressUpdate>> {
        let rows = req(ctx)
            .loaders
            .load_one(ProgressOfAction(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The latest progress update.
    async fn latest_progress(&self, ctx: &Context<'_>) -> Result<Option<ProgressUpdate>> {
        Ok(req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::LatestProgressOf(self.uuid))
            .await?
            .map(Into::into))
    }
}

/// A measurable indicator of a plan.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PlanIndicator {
    /// Opaque global id.
    pub id: ID,
    /// What is measured.
    pub name: String,
    /// Unit (e.g. participants, events, %).
    pub unit: String,
    /// Value before the plan.
    pub baseline: Decimal,
    /// Value the plan aims at.
    pub target: Decimal,
    #[graphql(skip)]
    pub measured: Option<Decimal>,
}

#[ComplexObject]
impl PlanIndicator {
    /// Value measured in the title year, if recorded (null for jurors, who score the plan and
    /// read nothing of the title year).
    async fn actual(&self, ctx: &Context<'_>) -> Option<Decimal> {
        self.measured
            .filter(|_| crate::policy::rules::read_title_year_figures(&req(ctx).actor))
    }
}

impl From<plan_indicator::Model> for PlanIndicator {
    fn from(m: plan_indicator::Model) -> Self {
        Self {
            id: ids::encode("PlanIndicator", m.id),
            name: m.name,
            unit: m.unit,
            baseline: Measure::to_decimal(m.baseline_milli).into(),
            target: Measure::to_decimal(m.target_milli).into(),
            measured: m.actual_milli.map(|v| Measure::to_decimal(v).into()),
        }
    }
}

/// A comment on a plan or one of its sections.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PlanComment {
    /// Opaque global id.
    pub id: ID,
    /// The section commented on (null: the plan as a whole).
    pub section: Option<PlanSection>,
    /// The comment.
    pub body: String,
    /// When it was written.
    pub created_at: Timestamp,
    #[graphql(skip)]
    pub author_id: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub plan_id: uuid::Uuid,
}

impl From<plan_comment::Model> for PlanComment {
    fn from(m: plan_comment::Model) -> Self {
        Self {
            id: ids::encode("PlanComment", m.id),
            section: m.section.map(Into::into),
            body: m.body,
            created_at: m.created_at.into(),
            author_id: m.author_id,
            plan_id: m.plan_id,
        }
    }
}

#[ComplexObject]
impl PlanComment {
    /// Who wrote it (null if the reader may not see that user).
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.author_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(UserById(id))
            .await?
            .map(User::from))
    }
}

/// A submitted version of a plan, frozen: its content exactly as submitted.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PlanVersion {
    /// Opaque global id.
    pub id: ID,
    /// Version number (1 = first submission).
    pub number: i32,
    /// When it was submitted.
    pub submitted_at: Timestamp,
    #[graphql(skip)]
    pub snapshot: serde_json::Value,
    #[graphql(skip)]
    pub submitted_by: Option<uuid::Uuid>,
}

impl From<plan_version::Model> for PlanVersion {
    fn from(m: plan_version::Model) -> Self {
        Self {
            id: ids::encode("PlanVersion", m.id),
            number: m.number,
            submitted_at: m.submitted_at.into(),
            snapshot: m.snapshot,
            submitted_by: m.submitted_by,
        }
    }
}

/// The content of a submitted plan.
#[derive(SimpleObject)]
pub struct PlanContent {
    /// The vision.
    pub vision: String,
    /// Context and challenges.
    pub context: String,
    /// Objectives.
    pub objectives: String,
    /// Stakeholders.
    pub stakeholders: String,
    /// Total budget in EUR.
    pub budget: Option<Decimal>,
    /// Timeline.
    pub timeline: String,
    /// The actions as submitted.
    pub actions: Vec<SubmittedAction>,
    /// The indicators as submitted.
    pub indicators: Vec<SubmittedIndicator>,
}

/// An action as submitted.
#[derive(SimpleObject)]
pub struct SubmittedAction {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Theme names.
    pub themes: Vec<String>,
    /// Titles of the practices it cited.
    pub practices: Vec<String>,
    /// Target groups.
    pub target_groups: String,
    /// Cultural partners.
    pub cultural_partners: String,
    /// Planned start.
    pub starts_on: Option<Date>,
    /// Planned end.
    pub ends_on: Option<Date>,
    /// Budget in EUR.
    pub budget: Decimal,
}

/// An indicator as submitted.
#[derive(SimpleObject)]
pub struct SubmittedIndicator {
    /// What is measured.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Baseline.
    pub baseline: Decimal,
    /// Target.
    pub target: Decimal,
}

#[ComplexObject]
impl PlanVersion {
    /// The plan's content as submitted.
    async fn content(&self) -> Result<PlanContent> {
        let s: Snapshot = serde_json::from_value(self.snapshot.clone())
            .map_err(|e| crate::error::AppError::internal(format!("plan snapshot: {e}")))?;
        Ok(PlanContent {
            vision: s.vision,
            context: s.context,
            objectives: s.objectives,
            stakeholders: s.stakeholders,
            budget: s.budget_cents.map(|c| EurAmount::to_decimal(c).into()),
            timeline: s.timeline,
            actions: s
                .actions
                .into_iter()
                .map(|a| SubmittedAction {
                    title: a.title,
                    description: a.description,
                    themes: a.themes,
                    practices: a.practices,
                    target_groups: a.target_groups,
                    cultural_partners: a.cultural_partners,
                    starts_on: a.starts_on.map(Date),
                    ends_on: a.ends_on.map(Date),
                    budget: EurAmount::to_decimal(a.budget_cents).into(),
                })
                .collect(),
            indicators: s
                .indicators
                .into_iter()
                .map(|i| SubmittedIndicator {
                    name: i.name,
                    unit: i.unit,
                    baseline: Measure::to_decimal(i.baseline_milli).into(),
                    target: Measure::to_decimal(i.target_milli).into(),
                })
                .collect(),
        })
    }

    /// Who submitted it.
    async fn submitted_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.submitted_by else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(UserById(id))
            .await?
            .map(User::from))
    }
}

/// Title-year progress on an action.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ProgressUpdate {
    /// Opaque global id.
    pub id: ID,
    /// Fully, partly or not implemented.
    pub implementation: Implementation,
    /// Estimated completion, 0–100.
    pub percentage: i32,
    /// People reached so far.
    pub participants_reached: i32,
    /// A link to evidence (photos, press, report).
    pub evidence_url: Option<String>,
    /// Note.
    pub note: String,
    /// When it was posted.
    pub posted_at: Timestamp,
    #[graphql(skip)]
    pub posted_by: Option<uuid::Uuid>,
}

impl From<progress_update::Model> for ProgressUpdate {
    fn from(m: progress_update::Model) -> Self {
        Self {
            id: ids::encode("ProgressUpdate", m.id),
            implementation: m.implementation.into(),
            percentage: m.percentage,
            participants_reached: m.participants_reached,
            evidence_url: m.evidence_url,
            note: m.note,
            posted_at: m.posted_at.into(),
            posted_by: m.posted_by,
        }
    }
}

#[ComplexObject]
impl ProgressUpdate {
    /// Who posted it.
    async fn posted_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.posted_by else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(UserById(id))
            .await?
            .map(User::from))
    }
}
