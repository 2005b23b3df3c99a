//! The reporting figures, computed in SQL and used alike by the GraphQL API and the exports (so
//! their numbers are equal): each indicator's value in a period and cumulated from the start of
//! the project (the first period's first day) to the period's end, and expenditure totals.
//!
//! Periods are calendar days in UTC. Figures count what has been reviewed: contributed values of
//! an organisation count once its partner report for that period is ACCEPTED (a returned or
//! pending report's figures wait), and so does its expenditure.
//!
//! Derived indicators (DOMAIN.md: "derived, never retyped"):
//! - RCO81, attended participations: registrations whose attendance was recorded, at programme
//!   events (not cancelled) starting within the window;
//! - RCO87, cooperating organisations: distinct organisations of those attendees;
//! - RCO115, public events: public, not cancelled events starting within the window;
//! - RCO83, action plans: CuReAP plans whose first version was submitted within the window.
//!
//! However many periods are asked for, the figures cost six statements: indicators, periods,
//! contributions grouped by period, and one conditional aggregate per source of derived data
//! (attendances, public events, plans) with a column per period and window.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    CostCategory, Derivation, ParticipationStatus, ReportStatus, event, expenditure, indicator,
    indicator_contribution, participation, partner_report, plan_version, reporting_period,
};
use sea_orm::sea_query::{
    Alias, CaseStatement, Expr, ExprTrait, Func, IntoCondition, SelectStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

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
    let after = p
        .ends_on
        .succ_opt()
        .map_or(DateTime::<Utc>::MAX_UTC, day_start);
    (day_start(p.starts_on), after)
}

fn participation_event() -> sea_orm::RelationDef {
    participation::Entity::belongs_to(event::Entity)
        .from(participation::Column::EventId)
        .to(event::Column::Id)
        .into()
}

/// The windows figures are computed for: per period asked for, `[its start, its end)` and
/// `[project start, its end)`.
/// A half-open time window `[from, until)`.
type Window = (DateTime<Utc>, DateTime<Utc>);

struct Windows {
    /// Per period: its id, its own window, the cumulative window.
    periods: Vec<(Uuid, Window, Window)>,
}

impl Windows {
    /// `COUNT(CASE WHEN col in window THEN value END)` — one column per period and window,
    /// named `{prefix}p{i}` (in period) and `{prefix}c{i}` (cumulative); `distinct` counts
    /// distinct values.
    fn columns(
        &self,
        q: &mut SelectStatement,
        prefix: &str,
        time: Expr,
        value: Expr,
        distinct: bool,
    ) {
        for (i, (_, in_period, cumulative)) in self.periods.iter().enumerate() {
            for (name, (from, until)) in [("p", in_period), ("c", cumulative)] {
                let case = CaseStatement::new()
                    .case(
                        time.clone()
                            .gte(*from)
                            .and(time.clone().lt(*until))
                            .into_condition(),
                        value.clone(),
                    )
                    .finally(Expr::null());
                let count = if distinct {
                    Func::count_distinct(case)
                } else {
                    Func::count(case)
                };
                q.expr_as(count, Alias::new(format!("{prefix}{name}{i}")));
            }
        }
    }

    /// Reads the `{prefix}p{i}`/`{prefix}c{i}` columns of `row` back: (in period, cumulative)
    /// per period id, in thousandths.
    fn read(
        &self,
        row: &sea_orm::QueryResult,
        prefix: &str,
    ) -> AppResult<HashMap<Uuid, (i64, i64)>> {
        let mut out = HashMap::new();
        for (i, (id, _, _)) in self.periods.iter().enumerate() {
            let p = row.try_get::<i64>("", &format!("{prefix}p{i}"))?;
            let c = row.try_get::<i64>("", &format!("{prefix}c{i}"))?;
            out.insert(*id, (p * 1000, c * 1000));
        }
        Ok(out)
    }

    /// The earliest instant any window starts.
    fn earliest(&self) -> DateTime<Utc> {
        self.periods
            .iter()
            .map(|(_, _, c)| c.0)
            .min()
            .unwrap_or_else(Utc::now)
    }

    /// The latest instant any window ends.
    fn latest(&self) -> DateTime<Utc> {
        self.periods
            .iter()
            .map(|(_, p, _)| p.1)
            .max()
            .unwrap_or_else(Utc::now)
    }
}

/// Runs an aggregate and returns its one row.
async fn one_row(
    db: &impl ConnectionTrait,
    q: &SelectStatement,
) -> AppResult<sea_orm::QueryResult> {
    db.query_one(q)
        .await?
        .ok_or_else(|| AppError::internal("aggregate returned no row"))
}

/// The derived figures per derivation and period: (in period, cumulative). One statement per
/// source: attendances (RCO81 and RCO87 together), public events, submitted plans.
async fn derived(
    db: &impl ConnectionTrait,
    w: &Windows,
    wanted: &[Derivation],
) -> AppResult<HashMap<(Derivation, Uuid), (i64, i64)>> {
    let mut out = HashMap::new();
    let mut put = |d: Derivation, figures: HashMap<Uuid, (i64, i64)>| {
        for (period, v) in figures {
            out.insert((d, period), v);
        }
    };
    let starts = || Expr::col((event::Entity, event::Column::StartsAt));
    let attendances = wanted.contains(&Derivation::AttendedParticipations);
    let organisations = wanted.contains(&Derivation::CooperatingOrganisations);
    if attendances || organisations {
        let mut q = participation::Entity::find()
            .select_only()
            .join(JoinType::InnerJoin, participation_event())
            .filter(participation::Column::Attended.eq(true))
            .filter(participation::Column::Status.eq(ParticipationStatus::Registered))
            .filter(event::Column::CancelledAt.is_null())
            .filter(event::Column::StartsAt.gte(w.earliest()))
            .filter(event::Column::StartsAt.lt(w.latest()))
            .into_query();
        let org = Expr::col((participation::Entity, participation::Column::OrganisationId));
        w.columns(&mut q, "a", starts(), Expr::val(1), false);
        w.columns(&mut q, "o", starts(), org, true);
        let row = one_row(db, &q).await?;
        put(Derivation::AttendedParticipations, w.read(&row, "a")?);
        put(Derivation::CooperatingOrganisations, w.read(&row, "o")?);
    }
    if wanted.contains(&Derivation::PublicEvents) {
        let mut q = event::Entity::find()
            .select_only()
            .filter(event::Column::IsPublic.eq(true))
            .filter(event::Column::CancelledAt.is_null())
            .filter(event::Column::StartsAt.gte(w.earliest()))
            .filter(event::Column::StartsAt.lt(w.latest()))
            .into_query();
        w.columns(&mut q, "e", starts(), Expr::val(1), false);
        put(
            Derivation::PublicEvents,
            w.read(&one_row(db, &q).await?, "e")?,
        );
    }
    if wanted.contains(&Derivation::PlansSubmitted) {
        let submitted = Expr::col((plan_version::Entity, plan_version::Column::SubmittedAt));
        let mut q = plan_version::Entity::find()
            .select_only()
            .filter(plan_version::Column::Number.eq(1))
            .filter(plan_version::Column::SubmittedAt.gte(w.earliest()))
            .filter(plan_version::Column::SubmittedAt.lt(w.latest()))
            .into_query();
        w.columns(&mut q, "v", submitted, Expr::val(1), false);
        put(
            Derivation::PlansSubmitted,
            w.read(&one_row(db, &q).await?, "v")?,
        );
    }
    Ok(out)
}

/// The contributions that count: those of organisations whose report for the period is
/// accepted, summed per (indicator, period), in thousandths.
async fn accepted_contributions(
    db: &impl ConnectionTrait,
) -> AppResult<HashMap<(Uuid, Uuid), i64>> {
    let report: sea_orm::RelationDef =
        indicator_contribution::Entity::belongs_to(partner_report::Entity)
            .from(indicator_contribution::Column::PeriodId)
            .to(partner_report::Column::PeriodId)
            .into();
    let report = report.on_condition(|c, r| {
        Expr::col((c, indicator_contribution::Column::OrganisationId))
            .equals((r, partner_report::Column::OrganisationId))
            .into_condition()
    });
    let rows: Vec<(Uuid, Uuid, Option<i64>)> = indicator_contribution::Entity::find()
        .select_only()
        .column(indicator_contribution::Column::IndicatorId)
        .column(indicator_contribution::Column::PeriodId)
        .column_as(
            Expr::expr(Func::cast_as(
                Func::sum(Expr::col((
                    indicator_contribution::Entity,
                    indicator_contribution::Column::ValueMilli,
                ))),
                Alias::new("BIGINT"),
            )),
            "v",
        )
        .join(JoinType::InnerJoin, report)
        .filter(partner_report::Column::Status.eq(ReportStatus::Accepted))
        .group_by(indicator_contribution::Column::IndicatorId)
        .group_by(indicator_contribution::Column::PeriodId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(i, p, v)| ((i, p), v.unwrap_or(0)))
        .collect())
}

/// Every indicator's figures for each of `periods`, by period id.
pub async fn indicators_for(
    db: &impl ConnectionTrait,
    periods: &[reporting_period::Model],
) -> AppResult<HashMap<Uuid, Vec<IndicatorFigure>>> {
    if periods.is_empty() {
        return Ok(HashMap::new());
    }
    let mut all = indicator::Entity::find().all(db).await?;
    all.sort_by_cached_key(super::indicator_order);
    let every = reporting_period::Entity::find().all(db).await?;
    let project_start = every
        .iter()
        .map(|p| p.starts_on)
        .min()
        .map(day_start)
        .unwrap_or_else(Utc::now);
    let windows = Windows {
        periods: periods
            .iter()
            .map(|p| {
                let (from, until) = window(p);
                (
                    p.id,
                    (from, until),
                    (std::cmp::min(project_start, from), until),
                )
            })
            .collect(),
    };
    let wanted: Vec<Derivation> = all.iter().filter_map(|i| i.derivation).collect();
    let derived = derived(db, &windows, &wanted).await?;
    let contributed = if all.iter().any(|i| i.derivation.is_none()) {
        accepted_contributions(db).await?
    } else {
        HashMap::new()
    };
    let number: HashMap<Uuid, i32> = every.iter().map(|p| (p.id, p.number)).collect();
    let mut out = HashMap::new();
    for period in periods {
        let figures = all
            .iter()
            .map(|ind| {
                let (in_period, cumulative) = match ind.derivation {
                    Some(d) => derived.get(&(d, period.id)).copied().unwrap_or((0, 0)),
                    None => {
                        let mut in_period = 0;
                        let mut cumulative = 0;
                        for ((i, p), v) in &contributed {
                            if *i != ind.id {
                                continue;
                            }
                            if *p == period.id {
                                in_period += v;
                            }
                            if number.get(p).is_some_and(|n| *n <= period.number) {
                                cumulative += v;
                            }
                        }
                        (in_period, cumulative)
                    }
                };
                IndicatorFigure {
                    indicator: ind.clone(),
                    in_period,
                    cumulative,
                }
            })
            .collect();
        out.insert(period.id, figures);
    }
    Ok(out)
}

/// Every indicator's figures for one period.
pub async fn indicators(
    db: &impl ConnectionTrait,
    period: &reporting_period::Model,
) -> AppResult<Vec<IndicatorFigure>> {
    Ok(indicators_for(db, std::slice::from_ref(period))
        .await?
        .remove(&period.id)
        .unwrap_or_default())
}

/// Expenditure of the periods' accepted partner reports, per period and cost category (every
/// category, zero where nothing was spent), in cents.
pub async fn expenditure_totals_for(
    db: &impl ConnectionTrait,
    period_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<(CostCategory, i64)>>> {
    let rows: Vec<(Uuid, CostCategory, Option<i64>)> = expenditure::Entity::find()
        .select_only()
        .column(partner_report::Column::PeriodId)
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
        .filter(partner_report::Column::PeriodId.is_in(period_ids.iter().copied()))
        .filter(partner_report::Column::Status.eq(ReportStatus::Accepted))
        .group_by(partner_report::Column::PeriodId)
        .group_by(expenditure::Column::Category)
        .into_tuple()
        .all(db)
        .await?;
    let by: HashMap<(Uuid, CostCategory), i64> = rows
        .into_iter()
        .map(|(p, c, v)| ((p, c), v.unwrap_or(0)))
        .collect();
    Ok(period_ids
        .iter()
        .map(|p| {
            let lines = crate::reporting::types::COST_CATEGORIES
                .iter()
                .map(|c| (*c, by.get(&(*p, *c)).copied().unwrap_or(0)))
                .collect();
            (*p, lines)
        })
        .collect())
}
