//! The KPI queries: each a single `SELECT … GROUP BY` in the database (never rows loaded into
//! Rust to be counted), over the rows the caller's KPIs cover, grouped by the dimensions asked
//! for. Rows come back sorted the same way on both databases (sorted here, since PostgreSQL and
//! SQLite place NULLs differently).

use entity::{ApplicationStatus as S, ParticipationStatus, PhaseKind, PracticeStatus, TermKind};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult};
use uuid::Uuid;

use crate::applications::lifecycle::reached_or_past;
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, scope};

/// What a KPI can be grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dim {
    Edition,
    Country,
    Organisation,
    Month,
    Quarter,
    Theme,
    Status,
    Implementation,
    Kind,
}

impl Dim {
    fn alias(self) -> &'static str {
        match self {
            Dim::Edition => "d_edition",
            Dim::Country => "d_country",
            Dim::Organisation => "d_organisation",
            Dim::Month | Dim::Quarter => "d_period",
            Dim::Theme => "d_theme",
            Dim::Status => "d_status",
            Dim::Implementation => "d_implementation",
            Dim::Kind => "d_kind",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dim::Edition => "EDITION",
            Dim::Country => "COUNTRY",
            Dim::Organisation => "ORGANISATION",
            Dim::Month => "MONTH",
            Dim::Quarter => "QUARTER",
            Dim::Theme => "THEME",
            Dim::Status => "STATUS",
            Dim::Implementation => "IMPLEMENTATION",
            Dim::Kind => "KIND",
        }
    }

    pub fn is_time(self) -> bool {
        matches!(self, Dim::Month | Dim::Quarter)
    }
}

/// The filters every KPI understands (each applies to what makes sense for it).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub edition_years: Option<Vec<i32>>,
    pub country_codes: Option<Vec<String>>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// The most rows a grouped figure may return (`PEARLS_KPI_MAX_GROUPS`).
    pub max_groups: u64,
}

/// The values of a row's dimensions.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Group {
    pub edition: Option<i32>,
    pub country: Option<String>,
    pub organisation: Option<Uuid>,
    pub period: Option<String>,
    pub theme: Option<Uuid>,
    pub status: Option<String>,
    pub implementation: Option<String>,
    pub kind: Option<String>,
}

/// One result row: its group and its named figures.
#[derive(Clone, Debug)]
pub struct Row {
    pub group: Group,
    pub values: Vec<i64>,
}

/// The calendar month (`2028-03`) or quarter (`2028-Q1`) of a timestamp or date column, in UTC.
fn period(backend: DbBackend, col: &str, dim: Dim, timestamp: bool) -> String {
    let utc = if timestamp && backend == DbBackend::Postgres {
        format!("({col} AT TIME ZONE 'UTC')")
    } else {
        col.to_owned()
    };
    match (backend, dim) {
        (DbBackend::Postgres, Dim::Month) => format!("to_char({utc}, 'YYYY-MM')"),
        (DbBackend::Postgres, _) => format!("to_char({utc}, 'YYYY-\"Q\"Q')"),
        (_, Dim::Month) => format!("strftime('%Y-%m', {utc})"),
        _ => format!(
            "(strftime('%Y', {utc}) || '-Q' || ((CAST(strftime('%m', {utc}) AS INTEGER) + 2) / 3))"
        ),
    }
}

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A query under construction: its dimension expressions and figure expressions.
struct Kpi {
    select: SelectStatement,
    dims: Vec<(Dim, String)>,
    figures: Vec<(&'static str, String)>,
}

impl Kpi {
    fn new(select: SelectStatement) -> Self {
        Self {
            select,
            dims: Vec::new(),
            figures: Vec::new(),
        }
    }

    fn dim(&mut self, d: Dim, sql: String) {
        self.dims.push((d, sql));
    }

    fn figure(&mut self, name: &'static str, sql: String) {
        self.figures.push((name, sql));
    }

    /// Runs the figure grouped by `group_by`. A grouping that would return more than
    /// `max_groups` rows is refused with QUERY_TOO_COMPLEX (four dimensions over a large
    /// programme multiply quickly).
    async fn run(
        mut self,
        db: &DatabaseConnection,
        group_by: &[Dim],
        max_groups: u64,
    ) -> AppResult<Vec<Row>> {
        let mut chosen: Vec<(Dim, String)> = Vec::new();
        for d in group_by {
            if chosen.iter().any(|(c, _)| c == d) {
                continue;
            }
            if chosen.iter().any(|(c, _)| c.is_time()) && d.is_time() {
                return Err(AppError::bad_input(
                    "groupBy",
                    "group by either MONTH or QUARTER",
                ));
            }
            let Some((_, sql)) = self.dims.iter().find(|(c, _)| c == d) else {
                return Err(AppError::bad_input(
                    "groupBy",
                    format!("this figure cannot be grouped by {}", d.name()),
                ));
            };
            chosen.push((*d, sql.clone()));
        }
        for (d, sql) in &chosen {
            self.select
                .expr_as(Expr::cust(sql.clone()), Alias::new(d.alias()));
            self.select.add_group_by([Expr::cust(sql.clone())]);
        }
        for (name, sql) in &self.figures {
            self.select.expr_as(
                Expr::cust(format!("CAST(COALESCE({sql}, 0) AS BIGINT)")),
                Alias::new(*name),
            );
        }
        if !chosen.is_empty() {
            self.select.limit(max_groups + 1);
        }
        let rows = db.query_all(&self.select).await?;
        if rows.len() as u64 > max_groups {
            return Err(AppError::QueryTooComplex(format!(
                "this grouping yields more than {max_groups} rows; narrow the filter or group by \
                 fewer dimensions"
            )));
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(Row {
                group: read_group(&r, &chosen)?,
                values: self
                    .figures
                    .iter()
                    .map(|(name, _)| r.try_get::<i64>("", name))
                    .collect::<Result<_, _>>()?,
            });
        }
        out.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(out)
    }
}

fn read_group(r: &QueryResult, dims: &[(Dim, String)]) -> AppResult<Group> {
    let mut g = Group::default();
    for (d, _) in dims {
        let a = d.alias();
        match d {
            Dim::Edition => g.edition = r.try_get::<Option<i32>>("", a)?,
            Dim::Country => g.country = r.try_get::<Option<String>>("", a)?,
            Dim::Organisation => g.organisation = r.try_get::<Option<Uuid>>("", a)?,
            Dim::Month | Dim::Quarter => g.period = r.try_get::<Option<String>>("", a)?,
            Dim::Theme => g.theme = r.try_get::<Option<Uuid>>("", a)?,
            Dim::Status => g.status = r.try_get::<Option<String>>("", a)?,
            Dim::Implementation => g.implementation = r.try_get::<Option<String>>("", a)?,
            Dim::Kind => g.kind = r.try_get::<Option<String>>("", a)?,
        }
    }
    Ok(g)
}

/// `col IN (values)` with bound values.
fn within<V: Into<sea_orm::Value> + Clone>(col: &str, values: &[V]) -> Expr {
    Expr::cust(col.to_owned()).is_in(
        values
            .iter()
            .cloned()
            .map(Into::into)
            .collect::<Vec<sea_orm::Value>>(),
    )
}

fn date_bounds(q: &mut SelectStatement, col: &str, f: &Filter) {
    if let Some(from) = f.from {
        q.and_where(
            Expr::cust(col.to_owned()).gte(from.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
        );
    }
    // The day after `to` (none after the calendar's last day: then no upper bound is needed).
    if let Some(end) = f.to.and_then(|to| to.succ_opt()) {
        let end = end.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        q.and_where(Expr::cust(col.to_owned()).lt(end));
    }
}

fn date_bounds_on_dates(q: &mut SelectStatement, col: &str, f: &Filter) {
    if let Some(from) = f.from {
        q.and_where(Expr::cust(col.to_owned()).gte(from));
    }
    if let Some(to) = f.to {
        q.and_where(Expr::cust(col.to_owned()).lte(to));
    }
}

/// The application rows a KPI covers, with their edition and lead municipality joined.
fn applications(actor: &Actor, f: &Filter) -> SelectStatement {
    // LEFT JOINs on primary keys: both databases drop them when a query uses neither table
    // (every application has both, so the rows are the same as with inner joins).
    let mut q = Query::select()
        .from(Alias::new("application"))
        .left_join(
            Alias::new("edition"),
            Expr::cust("edition.id = application.edition_id"),
        )
        .left_join(
            Alias::new("organisation"),
            Expr::cust("organisation.id = application.lead_municipality_id"),
        )
        .to_owned();
    if let Some(covered) = scope::kpi_applications(actor) {
        q.cond_where(covered);
    }
    if let Some(years) = &f.edition_years {
        q.and_where(within("edition.title_year", years));
    }
    if let Some(codes) = &f.country_codes {
        q.and_where(within("organisation.country_code", codes));
    }
    q
}

/// The applications a KPI covers that have a `date` (a timestamp column of the row), within
/// the filter's dates.
fn applications_dated(actor: &Actor, f: &Filter, date: &str) -> SelectStatement {
    let mut q = applications(actor, f);
    q.and_where(Expr::cust(format!("{date} IS NOT NULL")));
    date_bounds(&mut q, date, f);
    q
}

/// A KPI over such applications: by edition, country, organisation, and month or quarter of
/// `date`.
fn application_kpi(db: &DatabaseConnection, q: SelectStatement, date: &str) -> Kpi {
    let backend = db.get_database_backend();
    let mut k = Kpi::new(q);
    application_dims(&mut k);
    k.dim(Dim::Month, period(backend, date, Dim::Month, true));
    k.dim(Dim::Quarter, period(backend, date, Dim::Quarter, true));
    k
}

fn application_dims(k: &mut Kpi) {
    k.dim(Dim::Edition, "edition.title_year".into());
    k.dim(Dim::Country, "organisation.country_code".into());
    k.dim(Dim::Organisation, "organisation.id".into());
}

/// `'A', 'B', …`: the statuses at or past `status` ([`reached_or_past`]) as SQL literals.
fn reached_or_past_sql(status: S) -> String {
    quoted(
        &reached_or_past(status)
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    )
}

/// "Reached this status": now in it or past it ([`reached_or_past`], from the lifecycle table),
/// or withdrawn from a status in or past it. Withdrawal is the only way off the forward path (a
/// test below checks it), so the status an application was withdrawn from, which the
/// transition keeps on the row, stands for its whole history.
fn reached(status: S) -> String {
    let implied = reached_or_past_sql(status);
    format!(
        "SUM(CASE WHEN application.status IN ({implied}) \
         OR application.withdrawn_from IN ({implied}) THEN 1 ELSE 0 END)"
    )
}

/// The selection funnel: applied (submitted), eligible, shortlisted, plans submitted (and on
/// time: by the CuReAP deadline or the application's extension), awarded.
pub async fn funnel(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let mut q = applications_dated(actor, f, "application.submitted_at");
    // The plan's first submission is on the application row (migration 10); the deadline it
    // is measured against stays a join (one CuReAP phase per edition, one extension per
    // application and phase), so "on time" follows a moved deadline or a late extension.
    let cureap = PhaseKind::CureapDevelopment.as_str();
    q.left_join(
        Alias::new("phase"),
        Expr::cust(format!(
            "phase.edition_id = application.edition_id AND phase.kind = '{cureap}'"
        )),
    )
    .left_join(
        Alias::new("deadline_extension"),
        Expr::cust(format!(
            "deadline_extension.application_id = application.id \
             AND deadline_extension.phase_kind = '{cureap}'"
        )),
    );
    let mut k = application_kpi(db, q, "application.submitted_at");
    k.figure("applied", "COUNT(*)".into());
    k.figure("eligible", reached(S::Eligible));
    k.figure("shortlisted", reached(S::Shortlisted));
    k.figure(
        "plans_submitted",
        "SUM(CASE WHEN application.cureap_submitted_at IS NOT NULL THEN 1 ELSE 0 END)".into(),
    );
    // On time: the first version by the CuReAP deadline or the application's extension.
    k.figure(
        "plans_on_time",
        "SUM(CASE WHEN application.cureap_submitted_at <= phase.ends_at \
         OR application.cureap_submitted_at <= deadline_extension.extended_until \
         THEN 1 ELSE 0 END)"
            .into(),
    );
    k.figure("awarded", reached(S::Awarded));
    k.run(db, group_by, f.max_groups).await
}

/// CuReAP plans by the day their first version was handed in — the date the reporting's RCO83
/// counts by (`reporting/figures.rs`), so a period's RCO83 is this figure over its dates.
pub async fn plan_submissions(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let q = applications_dated(actor, f, "application.cureap_submitted_at");
    let mut k = application_kpi(db, q, "application.cureap_submitted_at");
    k.figure("plans_submitted", "COUNT(*)".into());
    k.run(db, group_by, f.max_groups).await
}

/// Mentoring coverage: applications in (or past) CuReAP development and how many have a mentor
/// (not by time).
pub async fn coverage(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let mut q = applications(actor, f);
    q.and_where(Expr::cust(format!(
        "application.status IN ({})",
        reached_or_past_sql(S::CureapInDevelopment)
    )));
    let mut k = Kpi::new(q);
    application_dims(&mut k);
    k.figure("in_development", "COUNT(*)".into());
    k.figure(
        "mentored",
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM mentor_assignment m WHERE m.application_id = application.id) \
         THEN 1 ELSE 0 END)"
            .into(),
    );
    k.run(db, group_by, f.max_groups).await
}

/// Mentoring sessions and their minutes, by when they were held.
pub async fn sessions(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let backend = db.get_database_backend();
    let mut q = applications(actor, f);
    q.inner_join(
        Alias::new("mentor_assignment"),
        Expr::cust("mentor_assignment.application_id = application.id"),
    )
    .inner_join(
        Alias::new("mentoring_session"),
        Expr::cust("mentoring_session.assignment_id = mentor_assignment.id"),
    );
    date_bounds_on_dates(&mut q, "mentoring_session.held_on", f);
    let mut k = Kpi::new(q);
    application_dims(&mut k);
    k.dim(
        Dim::Month,
        period(backend, "mentoring_session.held_on", Dim::Month, false),
    );
    k.dim(
        Dim::Quarter,
        period(backend, "mentoring_session.held_on", Dim::Quarter, false),
    );
    k.figure("sessions", "COUNT(*)".into());
    k.figure("minutes", "SUM(mentoring_session.minutes)".into());
    k.run(db, group_by, f.max_groups).await
}

/// Plan actions: how many, their budget (cents), and the participants their latest progress
/// reports; by status, theme, implementation (of the latest progress update).
///
/// Readers of the whole programme grouping by edition, country and theme read the rollup the
/// writing transactions keep ([`super::rollup`]): a few thousand sums instead of every action
/// of every edition (~475k with their themes at scale 1000). Plans exist only for submitted
/// applications, so their "submitted applications" scope adds nothing to "submitted plans".
pub async fn plan_actions(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    if scope::kpi_whole_programme(actor)
        && group_by
            .iter()
            .all(|d| matches!(d, Dim::Edition | Dim::Country | Dim::Theme))
    {
        return plan_action_totals(db, scope::kpi_submitted_plans_only(actor), f, group_by).await;
    }
    plan_actions_counted(db, actor, f, group_by).await
}

/// [`plan_actions`] from the rollup.
async fn plan_action_totals(
    db: &DatabaseConnection,
    submitted_only: bool,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let t = sea_orm::EntityName::table_name(&entity::kpi_action_total::Entity);
    let mut q = Query::select()
        .from(Alias::new(t))
        .left_join(
            Alias::new("edition"),
            Expr::cust(format!("edition.id = {t}.edition_id")),
        )
        .and_where(Expr::cust(format!("{t}.by_theme")).eq(group_by.contains(&Dim::Theme)))
        .to_owned();
    if !group_by.is_empty() {
        // Groups whose actions were all removed keep a row of zeros; the rows have no such
        // group. (Without groups the total row is always there, zeros included, as counted.)
        q.and_having(Expr::cust(format!("SUM({t}.actions)")).gt(0));
    }
    if submitted_only {
        q.and_where(Expr::cust(format!("{t}.submitted")).eq(true));
    }
    if let Some(years) = &f.edition_years {
        q.and_where(within("edition.title_year", years));
    }
    if let Some(codes) = &f.country_codes {
        q.and_where(within(&format!("{t}.country_code"), codes));
    }
    let mut k = Kpi::new(q);
    k.dim(Dim::Edition, "edition.title_year".into());
    k.dim(Dim::Country, format!("{t}.country_code"));
    k.dim(Dim::Theme, format!("{t}.term_id"));
    k.figure("actions", format!("SUM({t}.actions)"));
    k.figure("budget_cents", format!("SUM({t}.budget_cents)"));
    k.figure("participants", format!("SUM({t}.participants)"));
    let mut rows = k.run(db, group_by, f.max_groups).await?;
    // Actions without a theme are kept under the nil id; the counted query groups them as NULL.
    for r in &mut rows {
        if r.group.theme == Some(Uuid::nil()) {
            r.group.theme = None;
        }
    }
    rows.sort_by(|a, b| a.group.cmp(&b.group));
    Ok(rows)
}

/// [`plan_actions`] counted from the actions themselves: any grouping, any reader.
pub async fn plan_actions_counted(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let mut q = applications(actor, f);
    q.inner_join(
        Alias::new("plan"),
        Expr::cust("plan.application_id = application.id"),
    )
    .inner_join(
        Alias::new("plan_action"),
        Expr::cust("plan_action.plan_id = plan.id"),
    );
    if scope::kpi_submitted_plans_only(actor) {
        q.and_where(Expr::cust("plan.submitted_version > 0"));
    }
    if group_by.contains(&Dim::Theme) {
        q.left_join(
            Alias::new("plan_action_theme"),
            Expr::cust("plan_action_theme.action_id = plan_action.id"),
        );
    }
    let mut k = Kpi::new(q);
    application_dims(&mut k);
    k.dim(Dim::Status, "plan_action.status".into());
    k.dim(Dim::Theme, "plan_action_theme.term_id".into());
    k.dim(
        Dim::Implementation,
        "plan_action.latest_implementation".into(),
    );
    k.figure("actions", "COUNT(*)".into());
    k.figure("budget_cents", "SUM(plan_action.budget_cents)".into());
    k.figure(
        "participants",
        "SUM(plan_action.latest_participants_reached)".into(),
    );
    k.run(db, group_by, f.max_groups).await
}

/// Events (not cancelled), their registrations and attendances, by when they start. Mentors and
/// municipalities count the events their organisations registered for.
pub async fn events(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let backend = db.get_database_backend();
    let mut q = Query::select()
        .from(Alias::new("event"))
        .inner_join(
            Alias::new("organisation"),
            Expr::cust("organisation.id = event.organiser_id"),
        )
        .left_join(
            Alias::new("edition"),
            Expr::cust("edition.id = event.edition_id"),
        )
        .and_where(Expr::cust("event.cancelled_at IS NULL"))
        .to_owned();
    let registered = ParticipationStatus::Registered.as_str();
    // Readers of the whole programme count every event once with the registrations and
    // attendances the registration service keeps on it (`rollup::recount_event`): counting
    // them per event took ~280 ms across all editions at scale 1000, joining them ~1.5 s.
    // Mentors and municipalities count only their organisations' registrations, a few rows.
    let scoped = scope::kpi_organisations(actor);
    let (events, registrations, attended) = match scoped {
        None => (
            "COUNT(*)".to_owned(),
            "SUM(event.registered_count)".to_owned(),
            "SUM(event.attended_count)".to_owned(),
        ),
        Some(orgs) => {
            q.left_join(
                Alias::new("participation"),
                Expr::cust(format!(
                    "participation.event_id = event.id AND participation.status <> '{}'",
                    ParticipationStatus::Cancelled.as_str()
                )),
            )
            .and_where(
                Expr::col((Alias::new("participation"), Alias::new("organisation_id")))
                    .in_subquery(orgs),
            );
            (
                "COUNT(DISTINCT event.id)".to_owned(),
                format!("SUM(CASE WHEN participation.status = '{registered}' THEN 1 ELSE 0 END)"),
                format!(
                    "SUM(CASE WHEN participation.attended AND participation.status = '{registered}' \
                     THEN 1 ELSE 0 END)"
                ),
            )
        }
    };
    if let Some(years) = &f.edition_years {
        q.and_where(within("edition.title_year", years));
    }
    if let Some(codes) = &f.country_codes {
        q.and_where(within("organisation.country_code", codes));
    }
    date_bounds(&mut q, "event.starts_at", f);
    let mut k = Kpi::new(q);
    k.dim(Dim::Kind, "event.kind".into());
    k.dim(Dim::Country, "organisation.country_code".into());
    k.dim(Dim::Organisation, "organisation.id".into());
    k.dim(Dim::Edition, "edition.title_year".into());
    k.dim(
        Dim::Month,
        period(backend, "event.starts_at", Dim::Month, true),
    );
    k.dim(
        Dim::Quarter,
        period(backend, "event.starts_at", Dim::Quarter, true),
    );
    k.figure("events", events);
    k.figure("registrations", registrations);
    k.figure("attended", attended);
    k.run(db, group_by, f.max_groups).await
}

/// Participations in events (not cancelled), by the participants' organisations.
pub async fn participations(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let backend = db.get_database_backend();
    let mut q = Query::select()
        .from(Alias::new("participation"))
        .inner_join(
            Alias::new("event"),
            Expr::cust("event.id = participation.event_id"),
        )
        .left_join(
            Alias::new("organisation"),
            Expr::cust("organisation.id = participation.organisation_id"),
        )
        .left_join(
            Alias::new("edition"),
            Expr::cust("edition.id = event.edition_id"),
        )
        .and_where(Expr::cust("event.cancelled_at IS NULL"))
        .and_where(Expr::cust(format!(
            "participation.status <> '{}'",
            ParticipationStatus::Cancelled.as_str()
        )))
        .to_owned();
    if let Some(orgs) = scope::kpi_organisations(actor) {
        q.and_where(
            Expr::col((Alias::new("participation"), Alias::new("organisation_id")))
                .in_subquery(orgs),
        );
    }
    if let Some(years) = &f.edition_years {
        q.and_where(within("edition.title_year", years));
    }
    if let Some(codes) = &f.country_codes {
        q.and_where(within("organisation.country_code", codes));
    }
    date_bounds(&mut q, "event.starts_at", f);
    let mut k = Kpi::new(q);
    k.dim(Dim::Kind, "event.kind".into());
    k.dim(Dim::Country, "organisation.country_code".into());
    k.dim(Dim::Organisation, "organisation.id".into());
    k.dim(Dim::Edition, "edition.title_year".into());
    k.dim(
        Dim::Month,
        period(backend, "event.starts_at", Dim::Month, true),
    );
    k.dim(
        Dim::Quarter,
        period(backend, "event.starts_at", Dim::Quarter, true),
    );
    k.figure(
        "registrations",
        format!(
            "SUM(CASE WHEN participation.status = '{}' THEN 1 ELSE 0 END)",
            ParticipationStatus::Registered.as_str()
        ),
    );
    k.figure(
        "waitlisted",
        format!(
            "SUM(CASE WHEN participation.status = '{}' THEN 1 ELSE 0 END)",
            ParticipationStatus::Waitlisted.as_str()
        ),
    );
    k.figure(
        "attended",
        format!(
            "SUM(CASE WHEN participation.attended AND participation.status = '{}' THEN 1 ELSE 0 END)",
            ParticipationStatus::Registered.as_str()
        ),
    );
    k.run(db, group_by, f.max_groups).await
}

/// Published practices and their reuse (distinct plans citing them), by theme, country and
/// when they were published.
pub async fn practices(
    db: &DatabaseConnection,
    f: &Filter,
    group_by: &[Dim],
) -> AppResult<Vec<Row>> {
    let backend = db.get_database_backend();
    let mut q = Query::select()
        .from(Alias::new("good_practice"))
        .left_join(
            Alias::new("plan_action_practice"),
            Expr::cust("plan_action_practice.practice_id = good_practice.id"),
        )
        .left_join(
            Alias::new("plan_action"),
            Expr::cust("plan_action.id = plan_action_practice.action_id"),
        )
        .and_where(Expr::cust(format!(
            "good_practice.status = '{}'",
            PracticeStatus::Published.as_str()
        )))
        .to_owned();
    if group_by.contains(&Dim::Theme) {
        q.left_join(
            Alias::new("practice_term"),
            Expr::cust(format!(
                "practice_term.practice_id = good_practice.id AND practice_term.term_id IN \
                 (SELECT id FROM vocabulary_term WHERE kind = '{}')",
                TermKind::Theme.as_str()
            )),
        );
    }
    if let Some(codes) = &f.country_codes {
        q.and_where(within("good_practice.country_code", codes));
    }
    date_bounds(&mut q, "good_practice.published_at", f);
    let mut k = Kpi::new(q);
    k.dim(Dim::Theme, "practice_term.term_id".into());
    k.dim(Dim::Country, "good_practice.country_code".into());
    k.dim(
        Dim::Month,
        period(backend, "good_practice.published_at", Dim::Month, true),
    );
    k.dim(
        Dim::Quarter,
        period(backend, "good_practice.published_at", Dim::Quarter, true),
    );
    k.figure("published", "COUNT(DISTINCT good_practice.id)".into());
    k.figure(
        "reused",
        "COUNT(DISTINCT CASE WHEN plan_action.id IS NOT NULL THEN good_practice.id END)".into(),
    );
    k.figure(
        "reused_by_plans",
        "COUNT(DISTINCT plan_action.plan_id)".into(),
    );
    k.run(db, group_by, f.max_groups).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::lifecycle::TRANSITIONS;

    /// The funnel's milestones (its `reached` figures).
    const MILESTONES: [S; 3] = [S::Eligible, S::Shortlisted, S::Awarded];

    /// `reached` reads the status a withdrawn application was withdrawn from, not its history.
    /// That is exact while every transition out of a milestone's "reached" statuses stays
    /// inside them or withdraws, and the milestone is entered by the one transition to it.
    #[test]
    fn only_withdrawal_leaves_a_reached_milestone() {
        for milestone in MILESTONES {
            let implied = reached_or_past(milestone);
            assert!(implied.contains(&milestone));
            for t in TRANSITIONS {
                if t.from.iter().any(|f| implied.contains(f)) {
                    assert!(
                        implied.contains(&t.to) || t.to == S::Withdrawn,
                        "{:?} leaves {milestone:?}'s reached statuses for {:?}",
                        t.action,
                        t.to
                    );
                }
                if implied.contains(&t.to) && !t.from.iter().all(|f| implied.contains(f)) {
                    assert_eq!(t.to, milestone, "{:?} skips {milestone:?}", t.action);
                }
            }
        }
    }

    /// The sets the funnel and the coverage KPI used to spell out by hand.
    #[test]
    fn reached_statuses_follow_the_lifecycle() {
        let sorted = |mut v: Vec<S>| {
            v.sort_by_key(|s| s.as_str());
            v
        };
        let after_cureap = vec![
            S::CureapInDevelopment,
            S::CureapSubmitted,
            S::Awarded,
            S::NotAwarded,
            S::TitleYearActive,
            S::TitleYearCompleted,
        ];
        assert_eq!(
            sorted(reached_or_past(S::CureapInDevelopment)),
            sorted(after_cureap.clone())
        );
        let mut shortlisted = vec![S::Shortlisted];
        shortlisted.extend(after_cureap.clone());
        assert_eq!(sorted(reached_or_past(S::Shortlisted)), sorted(shortlisted));
        let mut eligible = vec![S::Eligible, S::Shortlisted, S::NotShortlisted];
        eligible.extend(after_cureap);
        assert_eq!(sorted(reached_or_past(S::Eligible)), sorted(eligible));
        assert_eq!(
            sorted(reached_or_past(S::Awarded)),
            sorted(vec![S::Awarded, S::TitleYearActive, S::TitleYearCompleted])
        );
    }
}
