//! Reporting types: periods, the work plan, indicators and their values, contributions and
//! partner reports.

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use entity::{
    CostCategory, activity, activity_progress, deliverable, deliverable_progress, expenditure,
    indicator, indicator_contribution, output, partner_report, reporting_period, work_package,
};

use super::figures::{self, IndicatorFigure};
use crate::domain::{EurAmount, Measure};
use crate::graphql::context::req;
use crate::graphql::enums::{
    CostCategory as GqlCostCategory, DeliverableStatus, Derivation, Implementation, IndicatorKind,
    ReportStatus,
};
use crate::graphql::ids;
use crate::graphql::loaders::{
    ActivitiesOfWorkPackage, ActivityById, ActivityProgressOf, ContributionsOfIndicator,
    DeliverableById, DeliverableProgressOf, DeliverablesOfActivity, ExpenditureOf,
    ExpenditureTotalsOf, IndicatorById, IndicatorValuesOf, OrganisationById, OutputsOfWorkPackage,
    PeriodById, ReportsOfPeriod,
};
use crate::graphql::scalars::{Date, Decimal, Timestamp};
use crate::organisations::types::Organisation;

/// The Interreg cost categories, in the order reports list them.
pub const COST_CATEGORIES: [CostCategory; 5] = [
    CostCategory::Staff,
    CostCategory::OfficeAdministration,
    CostCategory::TravelAccommodation,
    CostCategory::ExternalExpertise,
    CostCategory::Equipment,
];

/// A reporting period towards the programme.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ReportingPeriod {
    /// Opaque global id.
    pub id: ID,
    /// Its number (1 = the first).
    pub number: i32,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
    /// When partner reports are due.
    pub report_deadline: Date,
    /// Optimistic-concurrency version.
    pub version: i32,
    #[graphql(skip)]
    pub model: reporting_period::Model,
}

impl From<reporting_period::Model> for ReportingPeriod {
    fn from(m: reporting_period::Model) -> Self {
        Self {
            id: ids::encode("ReportingPeriod", m.id),
            number: m.number,
            starts_on: Date(m.starts_on),
            ends_on: Date(m.ends_on),
            report_deadline: Date(m.report_deadline),
            version: m.version,
            model: m,
        }
    }
}

#[ComplexObject]
impl ReportingPeriod {
    /// Every indicator's value in this period and cumulated to its end, against its target.
    async fn indicator_values(&self, ctx: &Context<'_>) -> Result<Vec<IndicatorValue>> {
        let figures = req(ctx)
            .loaders
            .load_one(IndicatorValuesOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(figures.into_iter().map(IndicatorValue::from).collect())
    }

    /// Expenditure of this period's accepted partner reports, per cost category.
    async fn expenditure_totals(&self, ctx: &Context<'_>) -> Result<Vec<ExpenditureLine>> {
        let rows = req(ctx)
            .loaders
            .load_one(ExpenditureTotalsOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|(c, cents)| ExpenditureLine {
                category: c.into(),
                amount: EurAmount::to_decimal(cents).into(),
            })
            .collect())
    }

    /// The partner reports of this period the caller may see (coordinators all, a partner its
    /// own).
    async fn partner_reports(&self, ctx: &Context<'_>) -> Result<Vec<PartnerReport>> {
        let rows = req(ctx)
            .loaders
            .load_one(ReportsOfPeriod(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// An indicator's figures for one period.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct IndicatorValue {
    /// Value in the period.
    pub in_period: Decimal,
    /// Value from the start of the project to the end of the period.
    pub cumulative: Decimal,
    /// The cumulative value against the target, in percent (null without a target).
    pub progress_percent: Option<Decimal>,
    /// Whether the portal derives it from its own data (and nobody types it in).
    pub derived: bool,
    #[graphql(skip)]
    pub indicator: indicator::Model,
}

impl From<IndicatorFigure> for IndicatorValue {
    fn from(f: IndicatorFigure) -> Self {
        Self {
            in_period: Measure::to_decimal(f.in_period).into(),
            cumulative: Measure::to_decimal(f.cumulative).into(),
            progress_percent: f.progress_percent().map(Into::into),
            derived: f.indicator.derivation.is_some(),
            indicator: f.indicator,
        }
    }
}

#[ComplexObject]
impl IndicatorValue {
    /// The indicator.
    async fn indicator(&self) -> Indicator {
        self.indicator.clone().into()
    }
}

/// An indicator: an EU common indicator the project reports, or a portal one.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Indicator {
    /// Opaque global id.
    pub id: ID,
    /// Its code, e.g. RCO87.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Unit of measurement.
    pub unit: String,
    /// Output, result or portal indicator.
    pub kind: IndicatorKind,
    /// The project's target.
    pub target: Option<Decimal>,
    /// The milestone.
    pub milestone: Option<Decimal>,
    /// How the portal derives it, if it does.
    pub derivation: Option<Derivation>,
    /// The derivation in words.
    pub derived_how: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
}

impl From<indicator::Model> for Indicator {
    fn from(m: indicator::Model) -> Self {
        Self {
            id: ids::encode("Indicator", m.id),
            code: m.code,
            name: m.name,
            unit: m.unit,
            kind: m.kind.into(),
            target: m.target_milli.map(|v| Measure::to_decimal(v).into()),
            milestone: m.milestone_milli.map(|v| Measure::to_decimal(v).into()),
            derivation: m.derivation.map(Into::into),
            derived_how: m.derivation.map(|d| figures::explain(d).to_owned()),
            version: m.version,
            uuid: m.id,
        }
    }
}

#[ComplexObject]
impl Indicator {
    /// The contributions the caller may see (coordinators all, a partner its own), optionally of
    /// one period.
    async fn contributions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this period's.")] period_number: Option<i32>,
    ) -> Result<Vec<IndicatorContribution>> {
        let rc = req(ctx);
        let rows = rc
            .loaders
            .load_one(ContributionsOfIndicator(self.uuid))
            .await?
            .unwrap_or_default();
        let mut out = Vec::new();
        for r in rows {
            if let Some(n) = period_number {
                let p = rc.loaders.load_one(PeriodById(r.period_id)).await?;
                if p.is_none_or(|p| p.number != n) {
                    continue;
                }
            }
            out.push(r.into());
        }
        Ok(out)
    }
}

/// A partner's contribution to an indicator in a period.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct IndicatorContribution {
    /// Opaque global id.
    pub id: ID,
    /// The value contributed.
    pub value: Decimal,
    /// What supports it.
    pub evidence: String,
    /// A link to the evidence.
    pub evidence_url: Option<String>,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: i32,
    #[graphql(skip)]
    pub model: indicator_contribution::Model,
}

impl From<indicator_contribution::Model> for IndicatorContribution {
    fn from(m: indicator_contribution::Model) -> Self {
        Self {
            id: ids::encode("IndicatorContribution", m.id),
            value: Measure::to_decimal(m.value_milli).into(),
            evidence: m.evidence.clone(),
            evidence_url: m.evidence_url.clone(),
            updated_at: m.updated_at.into(),
            version: m.version,
            model: m,
        }
    }
}

#[ComplexObject]
impl IndicatorContribution {
    /// The contributing organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(self.model.organisation_id))
            .await?
            .map(Into::into))
    }

    /// The period.
    async fn period(&self, ctx: &Context<'_>) -> Result<Option<ReportingPeriod>> {
        Ok(req(ctx)
            .loaders
            .load_one(PeriodById(self.model.period_id))
            .await?
            .map(Into::into))
    }

    /// The indicator.
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        Ok(req(ctx)
            .loaders
            .load_one(IndicatorById(self.model.indicator_id))
            .await?
            .map(Into::into))
    }
}

/// A work package of the work plan.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct WorkPackage {
    /// Opaque global id.
    pub id: ID,
    /// Code, e.g. WP1.
    pub code: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    #[graphql(skip)]
    pub model: work_package::Model,
}

impl From<work_package::Model> for WorkPackage {
    fn from(m: work_package::Model) -> Self {
        Self {
            id: ids::encode("WorkPackage", m.id),
            code: m.code.clone(),
            title: m.title.clone(),
            description: m.description.clone(),
            model: m,
        }
    }
}

#[ComplexObject]
impl WorkPackage {
    /// The leading partner.
    async fn lead_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.model.lead_organisation_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(id))
            .await?
            .map(Into::into))
    }

    /// Its activities, by code.
    async fn activities(&self, ctx: &Context<'_>) -> Result<Vec<Activity>> {
        Ok(req(ctx)
            .loaders
            .load_one(ActivitiesOfWorkPackage(self.model.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Its outputs, by code.
    async fn outputs(&self, ctx: &Context<'_>) -> Result<Vec<Output>> {
        Ok(req(ctx)
            .loaders
            .load_one(OutputsOfWorkPackage(self.model.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// An activity of a work package.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Activity {
    /// Opaque global id.
    pub id: ID,
    /// Code, e.g. A1.2.
    pub code: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    #[graphql(skip)]
    pub model: activity::Model,
}

impl From<activity::Model> for Activity {
    fn from(m: activity::Model) -> Self {
        Self {
            id: ids::encode("Activity", m.id),
            code: m.code.clone(),
            title: m.title.clone(),
            description: m.description.clone(),
            model: m,
        }
    }
}

#[ComplexObject]
impl Activity {
    /// Its deliverables, by code.
    async fn deliverables(&self, ctx: &Context<'_>) -> Result<Vec<Deliverable>> {
        Ok(req(ctx)
            .loaders
            .load_one(DeliverablesOfActivity(self.model.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The leading partner.
    async fn lead_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.model.lead_organisation_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(id))
            .await?
            .map(Into::into))
    }
}

/// A deliverable of an activity.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Deliverable {
    /// Opaque global id.
    pub id: ID,
    /// Code, e.g. D1.2.1.
    pub code: String,
    /// Title.
    pub title: String,
    #[graphql(skip)]
    pub model: deliverable::Model,
}

impl From<deliverable::Model> for Deliverable {
    fn from(m: deliverable::Model) -> Self {
        Self {
            id: ids::encode("Deliverable", m.id),
            code: m.code.clone(),
            title: m.title.clone(),
            model: m,
        }
    }
}

#[ComplexObject]
impl Deliverable {
    /// The period it is due in.
    async fn due_period(&self, ctx: &Context<'_>) -> Result<Option<ReportingPeriod>> {
        let Some(id) = self.model.due_period_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(PeriodById(id))
            .await?
            .map(Into::into))
    }
}

/// An output of the work plan, measured by an indicator.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Output {
    /// Opaque global id.
    pub id: ID,
    /// Code.
    pub code: String,
    /// Title.
    pub title: String,
    /// Target.
    pub target: Option<Decimal>,
    #[graphql(skip)]
    pub model: output::Model,
}

impl From<output::Model> for Output {
    fn from(m: output::Model) -> Self {
        Self {
            id: ids::encode("Output", m.id),
            code: m.code.clone(),
            title: m.title.clone(),
            target: m.target_milli.map(|v| Measure::to_decimal(v).into()),
            model: m,
        }
    }
}

#[ComplexObject]
impl Output {
    /// The indicator measuring it.
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        Ok(req(ctx)
            .loaders
            .load_one(IndicatorById(self.model.indicator_id))
            .await?
            .map(Into::into))
    }
}

/// A partner's report for one period: DRAFT → SUBMITTED → ACCEPTED (frozen) or RETURNED.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PartnerReport {
    /// Opaque global id.
    pub id: ID,
    /// Where it stands.
    pub status: ReportStatus,
    /// The partner's narrative.
    pub narrative: String,
    /// When it was (last) submitted.
    pub submitted_at: Option<Timestamp>,
    /// The coordinator's comment when it was returned.
    pub review_comment: Option<String>,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when saving.
    pub version: i32,
    #[graphql(skip)]
    pub model: partner_report::Model,
}

impl From<partner_report::Model> for PartnerReport {
    fn from(m: partner_report::Model) -> Self {
        Self {
            id: ids::encode("PartnerReport", m.id),
            status: m.status.into(),
            narrative: m.narrative.clone(),
            submitted_at: m.submitted_at.map(Into::into),
            review_comment: m.review_comment.clone(),
            version: m.version,
            model: m,
        }
    }
}

#[ComplexObject]
impl PartnerReport {
    /// The reporting partner.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(self.model.organisation_id))
            .await?
            .map(Into::into))
    }

    /// The period.
    async fn period(&self, ctx: &Context<'_>) -> Result<Option<ReportingPeriod>> {
        Ok(req(ctx)
            .loaders
            .load_one(PeriodById(self.model.period_id))
            .await?
            .map(Into::into))
    }

    /// How far each activity got.
    async fn activities(&self, ctx: &Context<'_>) -> Result<Vec<ActivityProgress>> {
        Ok(req(ctx)
            .loaders
            .load_one(ActivityProgressOf(self.model.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Where each deliverable stands.
    async fn deliverables(&self, ctx: &Context<'_>) -> Result<Vec<DeliverableProgress>> {
        Ok(req(ctx)
            .loaders
            .load_one(DeliverableProgressOf(self.model.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Expenditure per cost category (every category, zero when none).
    async fn expenditure(&self, ctx: &Context<'_>) -> Result<Vec<ExpenditureLine>> {
        let rows = req(ctx)
            .loaders
            .load_one(ExpenditureOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(lines(&rows))
    }

    /// Total expenditure.
    async fn expenditure_total(&self, ctx: &Context<'_>) -> Result<Decimal> {
        let rows = req(ctx)
            .loaders
            .load_one(ExpenditureOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(EurAmount::to_decimal(rows.iter().map(|e| e.amount_cents).sum()).into())
    }
}

/// One expenditure line per category, in the categories' order.
pub fn lines(rows: &[expenditure::Model]) -> Vec<ExpenditureLine> {
    COST_CATEGORIES
        .iter()
        .map(|c| ExpenditureLine {
            category: (*c).into(),
            amount: EurAmount::to_decimal(
                rows.iter()
                    .find(|e| e.category == *c)
                    .map_or(0, |e| e.amount_cents),
            )
            .into(),
        })
        .collect()
}

/// How far an activity got in a report.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ActivityProgress {
    /// Fully, partly or not achieved.
    pub status: Implementation,
    /// What was done.
    pub narrative: String,
    #[graphql(skip)]
    pub activity_id: uuid::Uuid,
}

impl From<activity_progress::Model> for ActivityProgress {
    fn from(m: activity_progress::Model) -> Self {
        Self {
            status: m.status.into(),
            narrative: m.narrative,
            activity_id: m.activity_id,
        }
    }
}

#[ComplexObject]
impl ActivityProgress {
    /// The activity.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        Ok(req(ctx)
            .loaders
            .load_one(ActivityById(self.activity_id))
            .await?
            .map(Into::into))
    }
}

/// Where a deliverable stands in a report.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct DeliverableProgress {
    /// Its status.
    pub status: DeliverableStatus,
    /// A note.
    pub note: String,
    #[graphql(skip)]
    pub deliverable_id: uuid::Uuid,
}

impl From<deliverable_progress::Model> for DeliverableProgress {
    fn from(m: deliverable_progress::Model) -> Self {
        Self {
            status: m.status.into(),
            note: m.note,
            deliverable_id: m.deliverable_id,
        }
    }
}

#[ComplexObject]
impl DeliverableProgress {
    /// The deliverable.
    async fn deliverable(&self, ctx: &Context<'_>) -> Result<Option<Deliverable>> {
        Ok(req(ctx)
            .loaders
            .load_one(DeliverableById(self.deliverable_id))
            .await?
            .map(Into::into))
    }
}

/// Expenditure in one cost category.
#[derive(SimpleObject, Clone)]
pub struct ExpenditureLine {
    /// The Interreg cost category.
    pub category: GqlCostCategory,
    /// The amount in EUR.
    pub amount: Decimal,
}
