//! Reporting queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::{partner_report, reporting_period};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

use super::service::{self, PlanItem, ReportContent, ReportStep};
use super::types::{
    Activity, Deliverable, Indicator, IndicatorContribution, Output, PartnerReport,
    ReportingPeriod, WorkPackage,
};
use crate::domain::{EurAmount, Measure, NonEmptyText, natural_key, parse_url};
use crate::error::AppError;
use crate::graphql::context::req;
use crate::graphql::enums::{CostCategory, DeliverableStatus, Implementation};
use crate::graphql::ids;
use crate::graphql::scalars::{Date, Decimal};
use crate::policy::{rules, scope};

/// Reporting queries (coordinators, partners, integrations with `reporting:read`).
#[derive(Default)]
pub struct ReportingQuery;

#[Object]
impl ReportingQuery {
    /// The reporting periods, in order.
    async fn reporting_periods(&self, ctx: &Context<'_>) -> Result<Vec<ReportingPeriod>> {
        let rc = req(ctx);
        rules::read_reporting(&rc.actor)?;
        let rows = scope::reporting_periods(&rc.actor)
            .order_by_asc(reporting_period::Column::Number)
            .all(rc.db())
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// One reporting period by number.
    async fn reporting_period(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period's number.")] number: i32,
    ) -> Result<Option<ReportingPeriod>> {
        let rc = req(ctx);
        rules::read_reporting(&rc.actor)?;
        Ok(Some(
            service::period(rc.db(), &rc.actor, number).await?.into(),
        ))
    }

    /// The work plan: work packages with their activities, deliverables and outputs.
    async fn work_packages(&self, ctx: &Context<'_>) -> Result<Vec<WorkPackage>> {
        let rc = req(ctx);
        rules::read_reporting(&rc.actor)?;
        let mut rows = scope::work_packages(&rc.actor)
            .all(rc.db())
            .await
            .map_err(AppError::from)?;
        rows.sort_by_cached_key(|w| natural_key(&w.code));
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The indicators: outputs, results, portal figures.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        let rc = req(ctx);
        rules::read_reporting(&rc.actor)?;
        let mut rows = scope::indicators(&rc.actor)
            .all(rc.db())
            .await
            .map_err(AppError::from)?;
        rows.sort_by_cached_key(super::indicator_order);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Partner reports the caller may see (coordinators all, a partner its own), optionally of
    /// one period. At most one per consortium partner and period, so the list is bounded by
    /// the consortium's size times the periods (at most 100); it costs as much as 100 reports
    /// in the complexity limit.
    #[graphql(complexity = "100 * child_complexity")]
    async fn partner_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this period's.")] period_number: Option<i32>,
    ) -> Result<Vec<PartnerReport>> {
        let rc = req(ctx);
        rules::read_reporting(&rc.actor)?;
        let mut q = scope::partner_reports(&rc.actor);
        if let Some(n) = period_number {
            let p = service::period(rc.db(), &rc.actor, n).await?;
            q = q.filter(partner_report::Column::PeriodId.eq(p.id));
        }
        let rows = q
            .order_by_asc(partner_report::Column::CreatedAt)
            .order_by_asc(partner_report::Column::Id)
            .all(rc.db())
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// Input of `createReportingPeriod`.
#[derive(InputObject)]
pub struct CreateReportingPeriodInput {
    /// Its number (1–100, unique).
    pub number: i32,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
    /// When partner reports are due (not before the last day).
    pub report_deadline: Date,
}

/// A work-plan item as input.
#[derive(InputObject)]
pub struct PlanItemInput {
    /// Code, e.g. WP1 or A1.2 (1–20 characters, unique).
    pub code: String,
    /// Title (1–300 characters).
    pub title: String,
    /// Description.
    #[graphql(default)]
    pub description: String,
    /// The leading partner.
    pub lead_organisation_id: Option<ID>,
}

impl PlanItemInput {
    fn parse(self) -> Result<PlanItem, AppError> {
        let description = self.description.trim().to_owned();
        if description.chars().count() > 10_000 {
            return Err(AppError::bad_input(
                "description",
                "must be at most 10000 characters",
            ));
        }
        Ok(PlanItem {
            code: NonEmptyText::parse("code", &self.code, 20)?,
            title: NonEmptyText::parse("title", &self.title, 300)?,
            description,
            lead_organisation_id: self
                .lead_organisation_id
                .map(|o| ids::decode(&o, "Organisation", "leadOrganisationId"))
                .transpose()?,
        })
    }
}

/// Input of `createActivity`.
#[derive(InputObject)]
pub struct CreateActivityInput {
    /// The work package.
    pub work_package_id: ID,
    /// The activity.
    pub activity: PlanItemInput,
}

/// Input of `createDeliverable`.
#[derive(InputObject)]
pub struct CreateDeliverableInput {
    /// The activity.
    pub activity_id: ID,
    /// Code (unique).
    pub code: String,
    /// Title.
    pub title: String,
    /// The period it is due in.
    pub due_period_number: Option<i32>,
}

/// Input of `createOutput`.
#[derive(InputObject)]
pub struct CreateOutputInput {
    /// The work package.
    pub work_package_id: ID,
    /// Code (unique).
    pub code: String,
    /// Title.
    pub title: String,
    /// The indicator measuring it.
    pub indicator_id: ID,
    /// Target.
    pub target: Option<Decimal>,
}

/// Input of `setIndicatorTargets`.
#[derive(InputObject)]
pub struct SetIndicatorTargetsInput {
    /// The indicator.
    pub id: ID,
    /// The `version` the change is based on.
    pub expected_version: i32,
    /// Target for the whole project (null: none).
    pub target: Option<Decimal>,
    /// Milestone (null: none).
    pub milestone: Option<Decimal>,
}

/// Input of `contributeToIndicator`.
#[derive(InputObject)]
pub struct ContributeToIndicatorInput {
    /// A contributed (not derived) indicator.
    pub indicator_id: ID,
    /// The period.
    pub period_number: i32,
    /// For coordinators: the organisation; partners contribute for their own.
    pub organisation_id: Option<ID>,
    /// When replacing an earlier value: its current `version` (a stale one is CONFLICT).
    pub expected_version: Option<i32>,
    /// The value (not negative, three decimals).
    pub value: Decimal,
    /// What supports it (1–5000 characters).
    pub evidence: String,
    /// A link to the evidence.
    pub evidence_url: Option<String>,
}

/// An activity's progress as input.
#[derive(InputObject)]
pub struct ActivityProgressInput {
    /// The activity.
    pub activity_id: ID,
    /// Fully, partly or not achieved.
    pub status: Implementation,
    /// What was done.
    #[graphql(default)]
    pub narrative: String,
}

/// A deliverable's progress as input.
#[derive(InputObject)]
pub struct DeliverableProgressInput {
    /// The deliverable.
    pub deliverable_id: ID,
    /// Its status.
    pub status: DeliverableStatus,
    /// A note.
    #[graphql(default)]
    pub note: String,
}

/// Expenditure in one category as input.
#[derive(InputObject)]
pub struct ExpenditureInput {
    /// The cost category.
    pub category: CostCategory,
    /// Amount in EUR (not negative, two decimals).
    pub amount: Decimal,
}

/// Input of `savePartnerReport` (the report's whole content).
#[derive(InputObject)]
pub struct SavePartnerReportInput {
    /// The period.
    pub period_number: i32,
    /// For coordinators: the organisation; partners report for their own.
    pub organisation_id: Option<ID>,
    /// The report's current `version` when it exists already.
    pub expected_version: Option<i32>,
    /// The narrative (up to 50000 characters).
    #[graphql(default)]
    pub narrative: String,
    /// Activity progress.
    #[graphql(default)]
    pub activities: Vec<ActivityProgressInput>,
    /// Deliverable progress.
    #[graphql(default)]
    pub deliverables: Vec<DeliverableProgressInput>,
    /// Expenditure per category (each category at most once).
    #[graphql(default)]
    pub expenditure: Vec<ExpenditureInput>,
}

impl SavePartnerReportInput {
    fn content(&self) -> Result<ReportContent, AppError> {
        let narrative = self.narrative.trim().to_owned();
        if narrative.chars().count() > 50_000 {
            return Err(AppError::bad_input(
                "narrative",
                "must be at most 50000 characters",
            ));
        }
        let bounded = |field: String, t: &str| {
            let t = t.trim();
            if t.chars().count() > 10_000 {
                Err(AppError::bad_input(
                    field,
                    "must be at most 10000 characters",
                ))
            } else {
                Ok(t.to_owned())
            }
        };
        let activities = self
            .activities
            .iter()
            .enumerate()
            .map(|(i, a)| {
                Ok((
                    ids::decode(
                        &a.activity_id,
                        "Activity",
                        &format!("activities.{i}.activityId"),
                    )?,
                    a.status.into(),
                    bounded(format!("activities.{i}.narrative"), &a.narrative)?,
                ))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let deliverables = self
            .deliverables
            .iter()
            .enumerate()
            .map(|(i, d)| {
                Ok((
                    ids::decode(
                        &d.deliverable_id,
                        "Deliverable",
                        &format!("deliverables.{i}.deliverableId"),
                    )?,
                    d.status.into(),
                    bounded(format!("deliverables.{i}.note"), &d.note)?,
                ))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let mut expenditure = Vec::new();
        for (i, e) in self.expenditure.iter().enumerate() {
            let category: entity::CostCategory = e.category.into();
            if expenditure.iter().any(|(c, _)| *c == category) {
                return Err(AppError::bad_input(
                    format!("expenditure.{i}.category"),
                    "each category at most once",
                ));
            }
            expenditure.push((
                category,
                EurAmount::parse(&format!("expenditure.{i}.amount"), e.amount.0)?,
            ));
        }
        for (field, list) in [
            (
                "activities",
                &activities.iter().map(|a| a.0).collect::<Vec<_>>(),
            ),
            ("deliverables", &deliverables.iter().map(|d| d.0).collect()),
        ] {
            let mut seen = std::collections::HashSet::new();
            if list.iter().any(|id| !seen.insert(*id)) {
                return Err(AppError::bad_input(field, "each item at most once"));
            }
        }
        Ok(ReportContent {
            narrative,
            activities,
            deliverables,
            expenditure,
        })
    }
}

/// Input of a report review step.
#[derive(InputObject)]
pub struct PartnerReportStepInput {
    /// The report.
    pub id: ID,
    /// If given, CONFLICT unless the report still has this `version`.
    pub expected_version: Option<i32>,
    /// A comment for the partner (required to return a report).
    pub comment: Option<String>,
}

/// Result of `createReportingPeriod`.
#[derive(SimpleObject)]
pub struct ReportingPeriodPayload {
    /// The period.
    pub period: ReportingPeriod,
}

/// Result of `createWorkPackage`.
#[derive(SimpleObject)]
pub struct WorkPackagePayload {
    /// The work package.
    pub work_package: WorkPackage,
}

/// Result of `createActivity`.
#[derive(SimpleObject)]
pub struct ActivityPayload {
    /// The activity.
    pub activity: Activity,
}

/// Result of `createDeliverable`.
#[derive(SimpleObject)]
pub struct DeliverablePayload {
    /// The deliverable.
    pub deliverable: Deliverable,
}

/// Result of `createOutput`.
#[derive(SimpleObject)]
pub struct OutputPayload {
    /// The output.
    pub output: Output,
}

/// Result of `setIndicatorTargets`.
#[derive(SimpleObject)]
pub struct IndicatorPayload {
    /// The indicator.
    pub indicator: Indicator,
}

/// Result of `contributeToIndicator`.
#[derive(SimpleObject)]
pub struct ContributionPayload {
    /// The contribution as it is now.
    pub contribution: IndicatorContribution,
}

/// Result of a partner-report mutation.
#[derive(SimpleObject)]
pub struct PartnerReportPayload {
    /// The report as it is now.
    pub report: PartnerReport,
}

fn measure(field: &str, d: Option<Decimal>) -> Result<Option<Measure>, AppError> {
    d.map(|v| Measure::parse(field, v.0)).transpose()
}

/// Reporting mutations.
#[derive(Default)]
pub struct ReportingMutation;

impl ReportingMutation {
    async fn step(
        ctx: &Context<'_>,
        input: PartnerReportStepInput,
        step: ReportStep,
    ) -> Result<Option<PartnerReportPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let id = ids::decode(&input.id, "PartnerReport", "id")?;
        let comment = input
            .comment
            .filter(|c| !c.trim().is_empty())
            .map(|c| NonEmptyText::parse("comment", &c, 5000).map(NonEmptyText::into_inner))
            .transpose()?;
        let r = service::review_report(
            rc.db(),
            &rc.actor,
            id,
            step,
            input.expected_version,
            comment,
        )
        .await?;
        Ok(Some(PartnerReportPayload { report: r.into() }))
    }
}

#[Object]
impl ReportingMutation {
    /// Creates a reporting period (coordinators).
    async fn create_reporting_period(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateReportingPeriodInput,
    ) -> Result<Option<ReportingPeriodPayload>> {
        let rc = req(ctx);
        rules::manage_reporting(&rc.actor)?;
        let p = service::create_period(
            rc.db(),
            &rc.actor,
            input.number,
            input.starts_on.0,
            input.ends_on.0,
            input.report_deadline.0,
        )
        .await?;
        Ok(Some(ReportingPeriodPayload { period: p.into() }))
    }

    /// Adds a work package (coordinators).
    async fn create_work_package(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PlanItemInput,
    ) -> Result<Option<WorkPackagePayload>> {
        let rc = req(ctx);
        rules::manage_reporting(&rc.actor)?;
        let w = service::create_work_package(rc.db(), &rc.actor, input.parse()?).await?;
        Ok(Some(WorkPackagePayload {
            work_package: w.into(),
        }))
    }

    /// Adds an activity to a work package (coordinators).
    async fn create_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateActivityInput,
    ) -> Result<Option<ActivityPayload>> {
        let rc = req(ctx);
        rules::manage_reporting(&rc.actor)?;
        let wp = ids::decode(&input.work_package_id, "WorkPackage", "workPackageId")?;
        let a = service::create_activity(rc.db(), &rc.actor, wp, input.activity.parse()?).await?;
        Ok(Some(ActivityPayload { activity: a.into() }))
    }

    /// Adds a deliverable to an activity (coordinators).
    async fn create_deliverable(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateDeliverableInput,
    ) -> Result<Option<DeliverablePayload>> {
        let rc = req(ctx);
        rules::manage_reporting(&rc.actor)?;
        let a = ids::decode(&input.activity_id, "Activity", "activityId")?;
        let d = service::create_deliverable(
            rc.db(),
            &rc.actor,
            a,
            NonEmptyText::parse("code", &input.code, 20)?,
            NonEmptyText::parse("title", &input.title, 300)?,
            input.due_period_number,
        )
        .await?;
        Ok(Some(DeliverablePayload {
            deliverable: d.into(),
        }))
    }

    /// Adds an output measured by an indicator (coordinators).
    async fn create_output(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateOutputInput,
    ) -> Result<Option<OutputPayload>> {
        let rc = req(ctx);
        rules::manage_reporting(&rc.actor)?;
        let wp = ids::decode(&input.work_package_id, "WorkPackage", "workPackageId")?;
        let ind = ids::decode(&input.indicator_id, "Indicator", "indicatorId")?;
        let o = service::create_output(
            rc.db(),
            &rc.actor,
            wp,
            NonEmptyText::parse("code", &input.code, 20)?,
            NonEmptyText::parse("title", &input.title, 300)?,
            ind,
            measure("target", input.target)?,
        )
        .await?;
        Ok(Some(OutputPayload { output: o.into() }))
    }

    /// Sets an indicator's target and milestone (coordinators).
    async fn set_indicator_targets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SetIndicatorTargetsInput,
    ) -> Result<Option<IndicatorPayload>> {
        let rc = req(ctx);
        rules::manage_reporting(&rc.actor)?;
        let id = ids::decode(&input.id, "Indicator", "id")?;
        let i = service::set_targets(
            rc.db(),
            &rc.actor,
            id,
            input.expected_version,
            measure("target", input.target)?,
            measure("milestone", input.milestone)?,
        )
        .await?;
        Ok(Some(IndicatorPayload {
            indicator: i.into(),
        }))
    }

    /// Records an organisation's value for a contributed indicator in a period (partners for
    /// their own organisation, coordinators for any); replaces an earlier one.
    async fn contribute_to_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ContributeToIndicatorInput,
    ) -> Result<Option<ContributionPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let ind = ids::decode(&input.indicator_id, "Indicator", "indicatorId")?;
        let org = input
            .organisation_id
            .map(|o| ids::decode(&o, "Organisation", "organisationId"))
            .transpose()?;
        let c = service::contribute(
            rc.db(),
            &rc.actor,
            ind,
            input.period_number,
            org,
            input.expected_version,
            Measure::parse("value", input.value.0)?,
            NonEmptyText::parse("evidence", &input.evidence, 5000)?,
            input
                .evidence_url
                .filter(|u| !u.trim().is_empty())
                .map(|u| parse_url("evidenceUrl", &u))
                .transpose()?,
        )
        .await?;
        Ok(Some(ContributionPayload {
            contribution: c.into(),
        }))
    }

    /// Writes an organisation's report for a period (its partner, or a coordinator), while it is
    /// a draft or returned; replaces its whole content.
    async fn save_partner_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SavePartnerReportInput,
    ) -> Result<Option<PartnerReportPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let content = input.content()?;
        let org = input
            .organisation_id
            .as_ref()
            .map(|o| ids::decode(o, "Organisation", "organisationId"))
            .transpose()?;
        let r = service::save_report(
            rc.db(),
            &rc.actor,
            input.period_number,
            org,
            input.expected_version,
            content,
        )
        .await?;
        Ok(Some(PartnerReportPayload { report: r.into() }))
    }

    /// DRAFT or RETURNED → SUBMITTED.
    async fn submit_partner_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PartnerReportStepInput,
    ) -> Result<Option<PartnerReportPayload>> {
        Self::step(ctx, input, ReportStep::Submit).await
    }

    /// SUBMITTED → ACCEPTED, by the coordinator: the report and the organisation's
    /// contributions for the period freeze.
    async fn accept_partner_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PartnerReportStepInput,
    ) -> Result<Option<PartnerReportPayload>> {
        Self::step(ctx, input, ReportStep::Accept).await
    }

    /// SUBMITTED → RETURNED with a comment, by the coordinator.
    async fn return_partner_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PartnerReportStepInput,
    ) -> Result<Option<PartnerReportPayload>> {
        Self::step(ctx, input, ReportStep::Return).await
    }
}
