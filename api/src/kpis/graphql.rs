//! The `kpis` entry point.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject};
use rust_decimal::Decimal as Dec;

use super::sql::{self, Dim, Filter, Group, Row};
use crate::domain::EurAmount;
use crate::error::AppError;
use crate::graphql::context::req;
use crate::graphql::enums::{ActionStatus, EventKind, Implementation};
use crate::graphql::loaders::{OrganisationById, TermById};
use crate::graphql::scalars::{CountryCode, Date, Decimal};
use crate::organisations::types::Organisation;
use crate::policy::rules;
use crate::vocabulary::types::VocabularyTerm;

/// What a KPI can be grouped by (each figure lists the dimensions it supports).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum KpiDimension {
    /// The edition's title year.
    Edition,
    /// The country (of the lead municipality, the organiser, the participant or the practice).
    Country,
    /// The organisation (lead municipality, organiser or participant).
    Organisation,
    /// The calendar month, e.g. "2028-03" (a time series).
    Month,
    /// The calendar quarter, e.g. "2028-Q1" (a time series).
    Quarter,
    /// The theme (vocabulary term).
    Theme,
    /// The plan action's status.
    Status,
    /// How far a plan action was implemented (its latest progress update).
    Implementation,
    /// The event's kind.
    Kind,
}

impl From<KpiDimension> for Dim {
    fn from(d: KpiDimension) -> Self {
        match d {
            KpiDimension::Edition => Dim::Edition,
            KpiDimension::Country => Dim::Country,
            KpiDimension::Organisation => Dim::Organisation,
            KpiDimension::Month => Dim::Month,
            KpiDimension::Quarter => Dim::Quarter,
            KpiDimension::Theme => Dim::Theme,
            KpiDimension::Status => Dim::Status,
            KpiDimension::Implementation => Dim::Implementation,
            KpiDimension::Kind => Dim::Kind,
        }
    }
}

/// Which data the KPIs cover; all conditions hold (each where it applies).
#[derive(InputObject, Default)]
pub struct KpiFilter {
    /// Only these editions (title years).
    pub edition_years: Option<Vec<i32>>,
    /// Only these countries.
    pub country_codes: Option<Vec<CountryCode>>,
    /// From this day on, by each figure's own date (UTC): `funnel` the application's submission,
    /// `planSubmissions` the plan's first version, `mentoring` the day a session was held,
    /// `events` and `participations` the event's start, `practices` publication. Mentoring
    /// coverage and `planActions` have no date and ignore `from`/`to`.
    pub from: Option<Date>,
    /// Up to and including this day.
    pub to: Option<Date>,
}

/// The values of a row's dimensions (null where the row is not grouped by one, or has none).
#[derive(SimpleObject, Clone, Debug, Default)]
#[graphql(complex)]
pub struct KpiGroup {
    /// Title year.
    pub edition: Option<i32>,
    /// Country.
    pub country_code: Option<CountryCode>,
    /// Month ("2028-03") or quarter ("2028-Q1").
    pub period: Option<String>,
    /// Plan action status.
    pub status: Option<ActionStatus>,
    /// Implementation of the latest progress update.
    pub implementation: Option<Implementation>,
    /// Event kind.
    pub kind: Option<EventKind>,
    #[graphql(skip)]
    pub organisation_id: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub theme_id: Option<uuid::Uuid>,
}

fn enum_of<T: Copy>(
    all: &[T],
    name: Option<&str>,
    as_str: impl Fn(T) -> &'static str,
) -> Option<T> {
    name.and_then(|n| all.iter().copied().find(|v| as_str(*v) == n))
}

impl From<Group> for KpiGroup {
    fn from(g: Group) -> Self {
        use sea_orm::Iterable;
        let statuses: Vec<entity::ActionStatus> = entity::ActionStatus::iter().collect();
        let impls: Vec<entity::Implementation> = entity::Implementation::iter().collect();
        let kinds: Vec<entity::EventKind> = entity::EventKind::iter().collect();
        Self {
            edition: g.edition,
            country_code: g.country.map(CountryCode),
            period: g.period,
            status: enum_of(&statuses, g.status.as_deref(), |s| s.as_str()).map(Into::into),
            implementation: enum_of(&impls, g.implementation.as_deref(), |s| s.as_str())
                .map(Into::into),
            kind: enum_of(&kinds, g.kind.as_deref(), |s| s.as_str()).map(Into::into),
            organisation_id: g.organisation,
            theme_id: g.theme,
        }
    }
}

#[ComplexObject]
impl KpiGroup {
    /// The organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.organisation_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(id))
            .await?
            .map(Into::into))
    }

    /// The theme.
    async fn theme(&self, ctx: &Context<'_>) -> Result<Option<VocabularyTerm>> {
        let Some(id) = self.theme_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(TermById(id))
            .await?
            .map(Into::into))
    }
}

/// `numerator / denominator` with four decimals (null when the denominator is 0).
fn rate(n: i64, d: i64) -> Option<Decimal> {
    (d > 0).then(|| (Dec::from(n) / Dec::from(d)).round_dp(4).normalize().into())
}

/// One row of the selection funnel.
#[derive(SimpleObject)]
pub struct FunnelRow {
    /// The group.
    pub group: KpiGroup,
    /// Applications submitted.
    pub applied: i64,
    /// Found eligible.
    pub eligible: i64,
    /// Shortlisted.
    pub shortlisted: i64,
    /// CuReAP plans submitted.
    pub plans_submitted: i64,
    /// CuReAP plans submitted by the deadline (or the application's extension).
    pub plans_submitted_on_time: i64,
    /// Awarded the title.
    pub awarded: i64,
    /// eligible / applied.
    pub eligibility_rate: Option<Decimal>,
    /// shortlisted / eligible.
    pub shortlist_rate: Option<Decimal>,
    /// plans submitted / shortlisted.
    pub plan_submission_rate: Option<Decimal>,
    /// awarded / plans submitted.
    pub award_rate: Option<Decimal>,
}

/// One row of the plan submissions, counted by the plan's own date.
#[derive(SimpleObject)]
pub struct PlanSubmissionRow {
    /// The group.
    pub group: KpiGroup,
    /// CuReAP plans whose first version was handed in within the filter's dates.
    pub plans_submitted: i64,
}

/// One row of the mentoring figures.
#[derive(SimpleObject)]
pub struct MentoringRow {
    /// The group.
    pub group: KpiGroup,
    /// Applications in or past CuReAP development (null when grouped by time).
    pub applications_in_development: Option<i64>,
    /// Of those, how many have a mentor (null when grouped by time).
    pub mentored: Option<i64>,
    /// mentored / applications in development.
    pub coverage_rate: Option<Decimal>,
    /// Mentoring sessions held.
    pub sessions: i64,
    /// Their length in minutes.
    pub minutes: i64,
    /// Their length in hours (two decimals).
    pub hours: Decimal,
}

/// One row of the plan-action figures.
#[derive(SimpleObject)]
pub struct PlanActionRow {
    /// The group (an action with two themes counts under both).
    pub group: KpiGroup,
    /// Actions.
    pub actions: i64,
    /// Their planned budget in EUR.
    pub budget_planned: Decimal,
    /// Participants reached, by the actions' latest progress updates.
    pub participants_reached: i64,
}

/// One row of the event figures.
#[derive(SimpleObject)]
pub struct EventRow {
    /// The group.
    pub group: KpiGroup,
    /// Events (not cancelled).
    pub events: i64,
    /// Places taken.
    pub registrations: i64,
    /// Attendances recorded.
    pub attended: i64,
}

/// One row of the participation figures.
#[derive(SimpleObject)]
pub struct ParticipationRow {
    /// The group.
    pub group: KpiGroup,
    /// Places taken.
    pub registrations: i64,
    /// On waiting lists.
    pub waitlisted: i64,
    /// Attendances recorded.
    pub attended: i64,
}

/// One row of the catalogue figures.
#[derive(SimpleObject)]
pub struct PracticeRow {
    /// The group (a practice with two themes counts under both).
    pub group: KpiGroup,
    /// Published practices.
    pub published: i64,
    /// Of those, cited by at least one plan.
    pub reused: i64,
    /// Distinct plans citing them.
    pub reused_by_plans: i64,
}

/// The programme's KPIs, within what the caller's KPIs cover.
pub struct Kpis {
    filter: Filter,
}

fn dims(group_by: Option<Vec<KpiDimension>>) -> Result<Vec<Dim>, AppError> {
    let d: Vec<Dim> = group_by
        .unwrap_or_default()
        .into_iter()
        .map(Dim::from)
        .collect();
    if d.len() > 4 {
        return Err(AppError::bad_input("groupBy", "at most 4 dimensions"));
    }
    Ok(d)
}

fn v(r: &Row, i: usize) -> i64 {
    r.values.get(i).copied().unwrap_or(0)
}

/// The programme's KPIs, within what the caller's KPIs cover: every figure is an aggregate over
/// the rows the caller may see, so a partner's funnel and the coordinator's differ.
#[Object]
impl Kpis {
    /// The selection funnel (applied → eligible → shortlisted → plans submitted → awarded) with
    /// its conversion rates, of the applications submitted within the filter's dates (every
    /// stage counts those applications, whenever it happened; `planSubmissions` counts plans by
    /// their own date). Groups: EDITION, COUNTRY, ORGANISATION, MONTH, QUARTER (by submission).
    async fn funnel(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Dimensions to group by (at most 4; a grouping that yields more rows than the server allows — 5,000 by default — is refused with QUERY_TOO_COMPLEX)."
        )]
        group_by: Option<Vec<KpiDimension>>,
    ) -> Result<Vec<FunnelRow>> {
        let rc = req(ctx);
        let rows = sql::funnel(rc.db(), &rc.actor, &self.filter, &dims(group_by)?).await?;
        Ok(rows
            .into_iter()
            .map(|r| FunnelRow {
                applied: v(&r, 0),
                eligible: v(&r, 1),
                shortlisted: v(&r, 2),
                plans_submitted: v(&r, 3),
                plans_submitted_on_time: v(&r, 4),
                awarded: v(&r, 5),
                eligibility_rate: rate(v(&r, 1), v(&r, 0)),
                shortlist_rate: rate(v(&r, 2), v(&r, 1)),
                plan_submission_rate: rate(v(&r, 3), v(&r, 2)),
                award_rate: rate(v(&r, 5), v(&r, 3)),
                group: r.group.into(),
            })
            .collect())
    }

    /// CuReAP plans by the day their first version was handed in (the filter's `from`/`to`
    /// apply to that day, not to the application's submission): over a reporting period's
    /// dates this is the period's RCO83. Groups: EDITION, COUNTRY, ORGANISATION, MONTH,
    /// QUARTER (by that day).
    async fn plan_submissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Dimensions to group by (at most 4; a grouping that yields more rows than the server allows — 5,000 by default — is refused with QUERY_TOO_COMPLEX)."
        )]
        group_by: Option<Vec<KpiDimension>>,
    ) -> Result<Vec<PlanSubmissionRow>> {
        let rc = req(ctx);
        let rows =
            sql::plan_submissions(rc.db(), &rc.actor, &self.filter, &dims(group_by)?).await?;
        Ok(rows
            .into_iter()
            .map(|r| PlanSubmissionRow {
                plans_submitted: v(&r, 0),
                group: r.group.into(),
            })
            .collect())
    }

    /// Mentoring: coverage of the applications in CuReAP development, sessions and hours.
    /// Dates: sessions by the day held; coverage ignores them. Groups: EDITION, COUNTRY,
    /// ORGANISATION, MONTH, QUARTER (by when sessions were held; coverage is not a time series
    /// and is null then).
    async fn mentoring(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Dimensions to group by (at most 4; a grouping that yields more rows than the server allows — 5,000 by default — is refused with QUERY_TOO_COMPLEX)."
        )]
        group_by: Option<Vec<KpiDimension>>,
    ) -> Result<Vec<MentoringRow>> {
        let rc = req(ctx);
        let d = dims(group_by)?;
        let timed = d.iter().any(|x| x.is_time());
        let sessions = sql::sessions(rc.db(), &rc.actor, &self.filter, &d).await?;
        let coverage = if timed {
            Vec::new()
        } else {
            sql::coverage(rc.db(), &rc.actor, &self.filter, &d).await?
        };
        // Merge the two (both sorted by group): every group of either appears once.
        let mut groups: Vec<Group> = sessions
            .iter()
            .map(|r| r.group.clone())
            .chain(coverage.iter().map(|r| r.group.clone()))
            .collect();
        groups.sort();
        groups.dedup();
        Ok(groups
            .into_iter()
            .map(|g| {
                let s = sessions.iter().find(|r| r.group == g);
                let c = coverage.iter().find(|r| r.group == g);
                let (sessions, minutes) = s.map_or((0, 0), |r| (v(r, 0), v(r, 1)));
                let (dev, mentored) = match (timed, c) {
                    (true, _) => (None, None),
                    (false, Some(r)) => (Some(v(r, 0)), Some(v(r, 1))),
                    (false, None) => (Some(0), Some(0)),
                };
                MentoringRow {
                    applications_in_development: dev,
                    mentored,
                    coverage_rate: match (mentored, dev) {
                        (Some(m), Some(d)) => rate(m, d),
                        _ => None,
                    },
                    sessions,
                    minutes,
                    hours: (Dec::from(minutes) / Dec::from(60)).round_dp(2).into(),
                    group: g.into(),
                }
            })
            .collect())
    }

    /// Plan actions: count, planned budget, participants reached (as they stand: `from`/`to`
    /// do not narrow them). Groups: EDITION, COUNTRY, ORGANISATION, STATUS, THEME,
    /// IMPLEMENTATION.
    async fn plan_actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Dimensions to group by (at most 4; a grouping that yields more rows than the server allows — 5,000 by default — is refused with QUERY_TOO_COMPLEX)."
        )]
        group_by: Option<Vec<KpiDimension>>,
    ) -> Result<Vec<PlanActionRow>> {
        let rc = req(ctx);
        let rows = sql::plan_actions(rc.db(), &rc.actor, &self.filter, &dims(group_by)?).await?;
        Ok(rows
            .into_iter()
            .map(|r| PlanActionRow {
                actions: v(&r, 0),
                budget_planned: EurAmount::to_decimal(v(&r, 1)).into(),
                participants_reached: v(&r, 2),
                group: r.group.into(),
            })
            .collect())
    }

    /// Events (not cancelled) with their registrations and attendances. Groups: KIND, COUNTRY
    /// and ORGANISATION (of the organiser), EDITION, MONTH, QUARTER (by start).
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Dimensions to group by (at most 4; a grouping that yields more rows than the server allows — 5,000 by default — is refused with QUERY_TOO_COMPLEX)."
        )]
        group_by: Option<Vec<KpiDimension>>,
    ) -> Result<Vec<EventRow>> {
        let rc = req(ctx);
        let rows = sql::events(rc.db(), &rc.actor, &self.filter, &dims(group_by)?).await?;
        Ok(rows
            .into_iter()
            .map(|r| EventRow {
                events: v(&r, 0),
                registrations: v(&r, 1),
                attended: v(&r, 2),
                group: r.group.into(),
            })
            .collect())
    }

    /// Participations in events. Groups: KIND, COUNTRY and ORGANISATION (of the participant),
    /// EDITION, MONTH, QUARTER (by the event's start).
    async fn participations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Dimensions to group by (at most 4; a grouping that yields more rows than the server allows — 5,000 by default — is refused with QUERY_TOO_COMPLEX)."
        )]
        group_by: Option<Vec<KpiDimension>>,
    ) -> Result<Vec<ParticipationRow>> {
        let rc = req(ctx);
        let rows = sql::participations(rc.db(), &rc.actor, &self.filter, &dims(group_by)?).await?;
        Ok(rows
            .into_iter()
            .map(|r| ParticipationRow {
                registrations: v(&r, 0),
                waitlisted: v(&r, 1),
                attended: v(&r, 2),
                group: r.group.into(),
            })
            .collect())
    }

    /// Published practices and their reuse in plans (programme-wide, as each practice's public
    /// `reuseCount`). Groups: THEME, COUNTRY, MONTH, QUARTER (by publication). Practices belong
    /// to no edition: `editionYears` does not narrow them.
    async fn practices(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Dimensions to group by (at most 4; a grouping that yields more rows than the server allows — 5,000 by default — is refused with QUERY_TOO_COMPLEX)."
        )]
        group_by: Option<Vec<KpiDimension>>,
    ) -> Result<Vec<PracticeRow>> {
        let rc = req(ctx);
        let rows = sql::practices(rc.db(), &self.filter, &dims(group_by)?).await?;
        Ok(rows
            .into_iter()
            .map(|r| PracticeRow {
                published: v(&r, 0),
                reused: v(&r, 1),
                reused_by_plans: v(&r, 2),
                group: r.group.into(),
            })
            .collect())
    }
}

/// KPI queries.
#[derive(Default)]
pub struct KpiQuery;

#[Object]
impl KpiQuery {
    /// The programme's KPIs within what the caller's KPIs cover: all for coordinators, partners
    /// and `kpi:read` integrations; a mentor's mentees; a municipality's own applications. Each
    /// figure is one SQL aggregate.
    async fn kpis(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which data the figures cover.")] filter: Option<KpiFilter>,
    ) -> Result<Option<Kpis>> {
        rules::read_kpis(&req(ctx).actor)?;
        let f = filter.unwrap_or_default();
        if let (Some(a), Some(b)) = (&f.from, &f.to)
            && b.0 < a.0
        {
            return Err(AppError::bad_input("filter.to", "must not be before filter.from").into());
        }
        Ok(Some(Kpis {
            filter: Filter {
                edition_years: f.edition_years,
                country_codes: f
                    .country_codes
                    .map(|c| c.into_iter().map(|c| c.0).collect()),
                from: f.from.map(|d| d.0),
                to: f.to.map(|d| d.0),
                max_groups: req(ctx).state.config.kpi_max_groups,
            },
        }))
    }
}
