//! The reporting figures, computed in SQL and used alike by the GraphQL API and the exports (so
//! their numbers are equal): each indicator's value in a period and cumulated up to its end, and
//! expenditure totals.
//!
//! Derived indicators (DOMAIN.md: "derived, never retyped"):
//! - RCO81, attended participations: registrations whose attendance was recorded, at programme
//!   events (not cancelled) starting within the window;
//! - RCO87, cooperating organisations: distinct organisations of those attendees;
//! - RCO115, public events: public, not cancelled events starting within the window;
//! - RCO83, action plans: CuReAP plans whose first version was submitted within the window.
//!
//! Contributed indicators sum the partners' contributions for the period (cumulative: for every
//! period up to and including it).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    CostCategory, Derivation, ParticipationStatus, ReportStatus, event, expenditure, indicator,
    indicator_contribution, participation, partner_report, plan_version, reporting_period,
};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::error::AppResult;

/// What a derivation counts, in words (served as `derivedHow`).
pub fn explain(d: Derivation) -> &'static str {
    match d {
        Derivation::AttendedParticipations => {
            "Derived: registrations with recorded attendance at programme events (not cancelled) starting in the period."
        }
        Derivation::CooperatingOrganisations => {
            "Derived: distinct organisations of the people who attended programme events starting in the period."
        }
        Derivation::PublicEvents => {
            "Derived: public programme events (not cancelled) starting in the period."
        }
        Derivation::PlansSubmitted => {
            "Derived: CuReAP action plans whose first version was submitted in the period."
        }
    }
}

/// One indicator's figures for a period, in thousandths.
#[derive(Clone, Debug)]
pub struct IndicatorFigure {
    pub indicator: indicator::Model,
    pub in_period: i64,
    pub cumulative: i64,
}

impl IndicatorFigure {
    /// Cumulative value against the target, in percent with one decimal.
    pub fn progress_percent(&self) -> Option<rust_decimal::Decimal> {
        let target = self.indicator.target_milli.filter(|t| *t > 0)?;
        let p = rust_decimal::Decimal::from(self.cumulative) * rust_decimal::Decimal::from(100)
            / rust_decimal::Decimal::from(target);
        Some(p.round_dp(1))
    }
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// `[start, end)` of a period in UTC: from its first day to the day after its last.
pub fn window(p: &reporting_period::Model) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        day_start(p.starts_on),
        day_start(p.ends_on) + chrono::Duration::days(1),
    )
}

async fn derived(
    db: &impl ConnectionTrait,
    d: Derivation,
    from: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
) -> AppResult<i64> {
    let n = match d {
        Derivation::AttendedParticipations | Derivation::CooperatingOrganisations => {
            let mut q = participation::Entity::find()
                .join(JoinType::InnerJoin, participation_event())
                .filter(participation::Column::Attended.eq(true))
                .filter(participation::Column::Status.eq(ParticipationStatus::Registered))
                .filter(event::Column::CancelledAt.is_null())
                .filter(event::Column::StartsAt.lt(until));
            if let Some(f) = from {
                q = q.filter(event::Column::StartsAt.gte(f));
            }
            if d == Derivation::AttendedParticipations {
                q.count(db).await? as i64
            } else {
                let orgs: Vec<Option<Uuid>> = q
                    .select_only()
                    .column(participation::Column::OrganisationId)
                    .distinct()
                    .filter(participation::Column::OrganisationId.is_not_null())
                    .into_tuple()
                    .all(db)
                    .await?;
                orgs.len() as i64
            }
        }
        Derivation::PublicEvents => {
            let mut q = event::Entity::find()
                .filter(event::Column::IsPublic.eq(true))
                .filter(event::Column::CancelledAt.is_null())
                .filter(event::Column::StartsAt.lt(until));
            if let Some(f) = from {
                q = q.filter(event::Column::StartsAt.gte(f));
            }
            q.count(db).await? as i64
        }
        Derivation::PlansSubmitted => {
            let mut q = plan_version::Entity::find()
                .filter(plan_version::Column::Number.eq(1))
                .filter(plan_version::Column::SubmittedAt.lt(until));
            if let Some(f) = from {
                q = q.filter(plan_version::Column::SubmittedAt.gte(f));
            }
            q.count(db).await? as i64
        }
    };
    // Counts are whole units; values are kept in thousandths.
    Ok(n * 1000)
}

fn participation_event() -> sea_orm::RelationDef {
    participation::Entity::belongs_to(event::Entity)
        .from(participation::Column::EventId)
        .to(event::Column::Id)
        .into()
}

/// Every indicator's figures for a period.
pub async fn indicators(
    db: &impl ConnectionTrait,
    period: &reporting_period::Model,
) -> AppResult<Vec<IndicatorFigure>> {
    let mut all = indicator::Entity::find().all(db).await?;
    all.sort_by_cached_key(super::indicator_order);
    let sum = |e: Expr| Expr::expr(Func::cast_as(Func::sum(e), Alias::new("BIGINT")));
    let in_period: HashMap<Uuid, i64> = indicator_contribution::Entity::find()
        .select_only()
        .column(indicator_contribution::Column::IndicatorId)
        .column_as(
            sum(Expr::col(indicator_contribution::Column::ValueMilli)),
            "v",
        )
        .filter(indicator_contribution::Column::PeriodId.eq(period.id))
        .group_by(indicator_contribution::Column::IndicatorId)
        .into_tuple::<(Uuid, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(i, v)| (i, v.unwrap_or(0)))
        .collect();
    let cumulative: HashMap<Uuid, i64> = indicator_contribution::Entity::find()
        .select_only()
        .column(indicator_contribution::Column::IndicatorId)
        .column_as(
            sum(Expr::col((
                indicator_contribution::Entity,
                indicator_contribution::Column::ValueMilli,
            ))),
            "v",
        )
        .join(
            JoinType::InnerJoin,
            indicator_contribution::Entity::belongs_to(reporting_period::Entity)
                .from(indicator_contribution::Column::PeriodId)
                .to(reporting_period::Column::Id)
                .into(),
        )
        .filter(reporting_period::Column::Number.lte(period.number))
        .group_by(indicator_contribution::Column::IndicatorId)
        .into_tuple::<(Uuid, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(i, v)| (i, v.unwrap_or(0)))
        .collect();
    let (from, until) = window(period);
    let mut out = Vec::with_capacity(all.len());
    for ind in all {
        let (p, c) = match ind.derivation {
            Some(d) => (
                derived(db, d, Some(from), until).await?,
                derived(db, d, None, until).await?,
            ),
            None => (
                in_period.get(&ind.id).copied().unwrap_or(0),
                cumulative.get(&ind.id).copied().unwrap_or(0),
            ),
        };
        out.push(IndicatorFigure {
            indicator: ind,
            in_period: p,
            cumulative: c,
        });
    }
    Ok(out)
}

/// Expenditure of a period's accepted partner reports, per cost category, in cents.
pub async fn expenditure_totals(
    db: &impl ConnectionTrait,
    period_id: Uuid,
) -> AppResult<Vec<(CostCategory, i64)>> {
    let rows: Vec<(CostCategory, Option<i64>)> = expenditure::Entity::find()
        .select_only()
        .column(expenditure::Column::Category)
        .column_as(
            Expr::expr(Func::cast_as(
                Func::sum(Expr::col((
                    expenditure::Entity,
                    expenditure::Column::AmountCents,
                ))),
                Alias::new("BIGINT"),
            )),
            "v",
        )
        .join(
            JoinType::InnerJoin,
            expenditure::Entity::belongs_to(partner_report::Entity)
                .from(expenditure::Column::ReportId)
                .to(partner_report::Column::Id)
                .into(),
        )
        .filter(partner_report::Column::PeriodId.eq(period_id))
        .filter(partner_report::Column::Status.eq(ReportStatus::Accepted))
        .group_by(expenditure::Column::Category)
        .into_tuple()
        .all(db)
        .await?;
    let by: HashMap<CostCategory, i64> =
        rows.into_iter().map(|(c, v)| (c, v.unwrap_or(0))).collect();
    Ok(crate::reporting::types::COST_CATEGORIES
        .iter()
        .map(|c| (*c, by.get(c).copied().unwrap_or(0)))
        .collect())
}
