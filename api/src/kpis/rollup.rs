//! The programme-wide KPI figures the writing transactions keep, so a panel across every
//! edition reads a few thousand sums instead of the whole history (migration 9 has the tables):
//!
//! - `kpi_action_total`: plan actions, budget and participants reached, summed per edition,
//!   lead municipality's country, submitted or not, and theme (`by_theme = false`: every action
//!   once; `by_theme = true`: under each of its themes, or under the nil id without one).
//!   Whoever changes a plan's actions, their themes or progress, a plan's submission or an
//!   organisation's country takes [`ActionTotals::read`] of the plans concerned *while holding
//!   their row locks*, makes the change, then [`ActionTotals::settle`]s: the difference between
//!   the plans' sums before and after goes into the table in the same transaction. Differences
//!   are additive, so transactions on different plans never wait for one another's reads.
//! - `event.registered_count` / `event.attended_count`: recounted by [`recount_event`] under
//!   the event's row lock by every registration write.
//!
//! - `application.withdrawn_from` / `application.cureap_submitted_at`: the funnel's milestones
//!   (migration 10), written by the lifecycle transition that withdraws an application or
//!   hands in its CuReAP ([`record_withdrawal`], [`record_cureap_submission`]).
//!
//! Bulk loaders (the seeders, tests that insert rows directly) call [`rebuild`]; [`drift`]
//! recomputes everything from the rows and lists what differs (tests assert it is empty).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::kpi_action_total::{self, Column as T};
use entity::{
    ApplicationStatus, ParticipationStatus, application, application_status_change, event,
    organisation, participation, plan, plan_action, plan_action_theme, plan_version,
};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, OnConflict, Query, SelectStatement, UpdateStatement,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::error::AppResult;

/// The rollup's figures, in the order of [`Figures`].
const FIGURES: [T; 3] = [T::Actions, T::BudgetCents, T::Participants];

/// Which plans a change touches.
#[derive(Clone, Copy, Debug)]
pub enum Plans {
    One(Uuid),
    /// Every plan whose application this organisation leads.
    LedBy(Uuid),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    edition_id: Uuid,
    country_code: String,
    submitted: bool,
    by_theme: bool,
    term_id: Uuid,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Figures([i64; 3]);

impl Figures {
    fn read(r: &QueryResult) -> AppResult<Self> {
        let mut f = Figures::default();
        for (v, col) in f.0.iter_mut().zip(FIGURES) {
            *v = r.try_get("", col.as_str())?;
        }
        Ok(f)
    }
    fn add(&mut self, o: Figures) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a += b;
        }
    }
    fn minus(self, o: Figures) -> Figures {
        let mut d = self;
        for (a, b) in d.0.iter_mut().zip(o.0) {
            *a -= b;
        }
        d
    }
    fn is_zero(&self) -> bool {
        self.0 == [0, 0, 0]
    }
}

type Totals = BTreeMap<Key, Figures>;

/// The sums of some plans' actions, taken before a change.
#[must_use = "settle the totals after the change, in the same transaction"]
pub struct ActionTotals {
    plans: Plans,
    before: Totals,
}

impl ActionTotals {
    /// Locks what the sums depend on and reads them. On PostgreSQL: first the lead
    /// organisation's row (`FOR SHARE` for one plan; `FOR UPDATE` for a country change, which
    /// then waits for every plan write of that organisation and holds new ones off, so no
    /// action is counted under both countries), then the plans' rows (`FOR UPDATE`, in id
    /// order). SQLite serialises its writers already. Every writer locks organisation, plan,
    /// then actions, in that order, so they cannot deadlock.
    pub async fn read(txn: &impl ConnectionTrait, plans: Plans) -> AppResult<Self> {
        if txn.get_database_backend() == DbBackend::Postgres {
            let org = organisation::Entity::find()
                .select_only()
                .column(organisation::Column::Id);
            let org = match plans {
                Plans::One(id) => {
                    let lead = Query::select()
                        .column((application::Entity, application::Column::LeadMunicipalityId))
                        .from(application::Entity)
                        .inner_join(
                            plan::Entity,
                            Expr::col((plan::Entity, plan::Column::ApplicationId))
                                .equals((application::Entity, application::Column::Id)),
                        )
                        .and_where(Expr::col((plan::Entity, plan::Column::Id)).eq(id))
                        .to_owned();
                    org.filter(organisation::Column::Id.in_subquery(lead))
                        .lock_shared()
                }
                Plans::LedBy(org_id) => org
                    .filter(organisation::Column::Id.eq(org_id))
                    .lock_exclusive(),
            };
            txn.query_all(&org.into_query()).await?;
        }
        let locked = plan::Entity::find()
            .select_only()
            .column(plan::Column::Id)
            .order_by_asc(plan::Column::Id);
        let locked = match plans {
            Plans::One(id) => locked.filter(plan::Column::Id.eq(id)),
            Plans::LedBy(org) => locked.filter(
                plan::Column::ApplicationId.in_subquery(
                    application::Entity::find()
                        .select_only()
                        .column(application::Column::Id)
                        .filter(application::Column::LeadMunicipalityId.eq(org))
                        .into_query(),
                ),
            ),
        };
        let locked = crate::db::for_update(locked, txn);
        txn.query_all(&locked.into_query()).await?;
        Ok(Self {
            plans,
            before: totals(txn, Some(plans)).await?,
        })
    }

    /// Reads the plans' sums again and writes the differences.
    pub async fn settle(self, txn: &impl ConnectionTrait) -> AppResult<()> {
        let mut delta = totals(txn, Some(self.plans)).await?;
        for (k, v) in self.before {
            let d = delta.entry(k).or_default();
            *d = d.minus(v);
        }
        delta.retain(|_, v| !v.is_zero());
        add(txn, &delta).await
    }
}

/// The sums per key of the given plans' actions (all plans: `None`), computed from the rows.
async fn totals(db: &impl ConnectionTrait, plans: Option<Plans>) -> AppResult<Totals> {
    let mut out = Totals::new();
    for by_theme in [false, true] {
        for r in db.query_all(&totals_query(plans, by_theme)).await? {
            let key = Key {
                edition_id: r.try_get("", "edition_id")?,
                country_code: r.try_get("", "country_code")?,
                submitted: r.try_get::<i32>("", "submitted_version")? > 0,
                by_theme,
                term_id: r
                    .try_get::<Option<Uuid>>("", "term_id")?
                    .unwrap_or(Uuid::nil()),
            };
            out.entry(key).or_default().add(Figures::read(&r)?);
        }
    }
    Ok(out)
}

fn totals_query(plans: Option<Plans>, by_theme: bool) -> SelectStatement {
    use application::Column as A;
    use plan::Column as P;
    use plan_action::Column as PA;
    let col = |c: &'static str| Alias::new(c);
    let sum = |c: PA| {
        Expr::cust(format!(
            "CAST(COALESCE(SUM({}.{}), 0) AS BIGINT)",
            plan_action::Entity.table_name(),
            c.as_str()
        ))
    };
    let mut q = Query::select()
        .from(plan_action::Entity)
        .inner_join(
            plan::Entity,
            Expr::col((plan::Entity, P::Id)).equals((plan_action::Entity, PA::PlanId)),
        )
        .inner_join(
            application::Entity,
            Expr::col((application::Entity, A::Id)).equals((plan::Entity, P::ApplicationId)),
        )
        .inner_join(
            organisation::Entity,
            Expr::col((organisation::Entity, organisation::Column::Id))
                .equals((application::Entity, A::LeadMunicipalityId)),
        )
        .expr_as(
            Expr::col((application::Entity, A::EditionId)),
            col("edition_id"),
        )
        .expr_as(
            Expr::col((organisation::Entity, organisation::Column::CountryCode)),
            col("country_code"),
        )
        .expr_as(
            Expr::col((plan::Entity, P::SubmittedVersion)),
            col("submitted_version"),
        )
        .expr_as(Expr::cust("COUNT(*)"), col(T::Actions.as_str()))
        .expr_as(sum(PA::BudgetCents), col(T::BudgetCents.as_str()))
        .expr_as(
            sum(PA::LatestParticipantsReached),
            col(T::Participants.as_str()),
        )
        .add_group_by([
            Expr::col((application::Entity, A::EditionId)),
            Expr::col((organisation::Entity, organisation::Column::CountryCode)),
            Expr::col((plan::Entity, P::SubmittedVersion)),
        ])
        .to_owned();
    if by_theme {
        q.left_join(
            plan_action_theme::Entity,
            Expr::col((
                plan_action_theme::Entity,
                plan_action_theme::Column::ActionId,
            ))
            .equals((plan_action::Entity, PA::Id)),
        )
        .expr_as(
            Expr::col((plan_action_theme::Entity, plan_action_theme::Column::TermId)),
            col("term_id"),
        )
        .add_group_by([Expr::col((
            plan_action_theme::Entity,
            plan_action_theme::Column::TermId,
        ))]);
    }
    match plans {
        Some(Plans::One(id)) => {
            q.and_where(Expr::col((plan::Entity, P::Id)).eq(id));
        }
        Some(Plans::LedBy(org)) => {
            q.and_where(Expr::col((application::Entity, A::LeadMunicipalityId)).eq(org));
        }
        None => {}
    }
    q
}

/// Adds figures to the table's rows (creating missing ones), in statements of 500 rows.
async fn add(db: &impl ConnectionTrait, delta: &Totals) -> AppResult<()> {
    let entries: Vec<_> = delta.iter().collect();
    for chunk in entries.chunks(500) {
        let rows = chunk.iter().map(|(k, v)| kpi_action_total::ActiveModel {
            edition_id: Set(k.edition_id),
            country_code: Set(k.country_code.clone()),
            submitted: Set(k.submitted),
            by_theme: Set(k.by_theme),
            term_id: Set(k.term_id),
            actions: Set(v.0[0]),
            budget_cents: Set(v.0[1]),
            participants: Set(v.0[2]),
        });
        let table = kpi_action_total::Entity.table_name();
        let mut on_conflict = OnConflict::columns([
            T::EditionId,
            T::CountryCode,
            T::Submitted,
            T::ByTheme,
            T::TermId,
        ]);
        for f in FIGURES {
            let f = f.as_str();
            on_conflict.value(f, Expr::cust(format!("{table}.{f} + excluded.{f}")));
        }
        kpi_action_total::Entity::insert_many(rows)
            .on_conflict(on_conflict)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Columns that restate what other rows say, each with the SQL that recomputes it for the row
/// at hand: the writers keep them, [`rebuild`] recomputes them, [`drift`] compares them.
struct Derived {
    table: &'static str,
    columns: [(&'static str, String); 2],
    // (The names come from the entities: `event::Column::RegisteredCount.as_str()` …)
    /// What the columns are derived from, for [`drift`]'s lines.
    from: &'static str,
}

impl Derived {
    /// An event's registrations and attendances.
    fn event_counts() -> Self {
        let registered = ParticipationStatus::Registered.as_str();
        let count = |extra: &str| {
            format!(
                "(SELECT COUNT(*) FROM participation p WHERE p.event_id = event.id \
                 AND p.status = '{registered}'{extra})"
            )
        };
        Self {
            table: event::Entity.table_name(),
            columns: [
                (event::Column::RegisteredCount.as_str(), count("")),
                (
                    event::Column::AttendedCount.as_str(),
                    count(" AND p.attended"),
                ),
            ],
            from: "its participations",
        }
    }

    /// The funnel's milestones on an application (migration 10): the status it was withdrawn
    /// from (withdrawal is terminal, so there is one such change) and when its plan's first
    /// version was handed in.
    fn funnel_milestones() -> Self {
        let withdrawn = ApplicationStatus::Withdrawn.as_str();
        Self {
            table: application::Entity.table_name(),
            columns: [
                (
                    application::Column::WithdrawnFrom.as_str(),
                    format!(
                        "CASE WHEN application.status = '{withdrawn}' THEN (SELECT \
                         sc.from_status FROM application_status_change sc \
                         WHERE sc.application_id = application.id \
                         AND sc.to_status = '{withdrawn}' \
                         ORDER BY sc.changed_at DESC, sc.id DESC LIMIT 1) END"
                    ),
                ),
                (
                    application::Column::CureapSubmittedAt.as_str(),
                    "(SELECT pv.submitted_at FROM plan p JOIN plan_version pv \
                     ON pv.plan_id = p.id AND pv.number = 1 \
                     WHERE p.application_id = application.id)"
                        .to_owned(),
                ),
            ],
            from: "its history and plan",
        }
    }

    /// `UPDATE` every row's columns to what they derive from (narrow it with `and_where`).
    fn recompute(&self) -> UpdateStatement {
        let mut q = Query::update().table(Alias::new(self.table)).to_owned();
        for (col, sql) in &self.columns {
            q.value(Alias::new(*col), Expr::cust(sql.clone()));
        }
        q
    }

    /// The rows whose stored columns differ from what they derive from (`IS DISTINCT FROM`:
    /// NULL-safe; SQLite has it since 3.39, the bundled library is newer).
    fn differ(&self) -> Expr {
        Expr::cust(
            self.columns
                .iter()
                .map(|(col, sql)| format!("{}.{col} IS DISTINCT FROM {sql}", self.table))
                .collect::<Vec<_>>()
                .join(" OR "),
        )
    }

    /// Recomputes the rows that differ.
    async fn rebuild(&self, db: &impl ConnectionTrait) -> AppResult<()> {
        let mut q = self.recompute();
        q.and_where(self.differ());
        db.execute(&q).await?;
        Ok(())
    }

    /// A line for each row that differs.
    async fn drift(&self, db: &impl ConnectionTrait, out: &mut Vec<String>) -> AppResult<()> {
        let q = Query::select()
            .from(Alias::new(self.table))
            .expr_as(Expr::cust(format!("{}.id", self.table)), Alias::new("id"))
            .and_where(self.differ())
            .to_owned();
        for r in db.query_all(&q).await? {
            out.push(format!(
                "{} {}: stored {} differ from {}",
                self.table,
                r.try_get::<Uuid>("", "id")?,
                self.columns
                    .iter()
                    .map(|(col, _)| *col)
                    .collect::<Vec<_>>()
                    .join(", "),
                self.from
            ));
        }
        Ok(())
    }
}

/// Recounts an event's registrations and attendances. Call it under the event's row lock after
/// changing its participations, so concurrent writers count one after the other.
pub async fn recount_event(txn: &impl ConnectionTrait, event_id: Uuid) -> AppResult<()> {
    let mut q = Derived::event_counts().recompute();
    q.and_where(Expr::col((event::Entity, event::Column::Id)).eq(event_id));
    txn.execute(&q).await?;
    Ok(())
}

/// Records on the application row the status it is being withdrawn from (the transition's
/// transaction; the funnel reads it instead of the status history).
pub async fn record_withdrawal(
    txn: &impl ConnectionTrait,
    application_id: Uuid,
    from: ApplicationStatus,
) -> AppResult<()> {
    application::Entity::update_many()
        .col_expr(application::Column::WithdrawnFrom, Expr::value(from))
        .filter(application::Column::Id.eq(application_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Records on the application row when its CuReAP was first handed in (kept on a later
/// submission: "on time" is about the first).
pub async fn record_cureap_submission(
    txn: &impl ConnectionTrait,
    application_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<()> {
    application::Entity::update_many()
        .col_expr(application::Column::CureapSubmittedAt, Expr::value(at))
        .filter(application::Column::Id.eq(application_id))
        .filter(application::Column::CureapSubmittedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// How long [`rebuild`] keeps trying to take its locks before it gives up.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Takes, on PostgreSQL, every table the rollups are computed from and the rollup itself in
/// `SHARE ROW EXCLUSIVE` mode: writers wait until the rebuild commits, readers go on. The
/// writers take these tables in different orders (a registration writes the participation,
/// then the event; an event edit the event, then its promotions), so no one order of
/// `LOCK TABLE` is safe: holding some while waiting for the next deadlocks with a writer. All
/// are taken at once with `NOWAIT`, and whenever one is busy everything taken is let go (the
/// savepoint) and the attempt repeated a moment later, so the rebuild never waits while holding.
async fn lock_sources(db: &impl ConnectionTrait) -> AppResult<()> {
    let tables = [
        plan_action::Entity.table_name(),
        plan_action_theme::Entity.table_name(),
        plan_version::Entity.table_name(),
        plan::Entity.table_name(),
        organisation::Entity.table_name(),
        application::Entity.table_name(),
        application_status_change::Entity.table_name(),
        participation::Entity.table_name(),
        event::Entity.table_name(),
        kpi_action_total::Entity.table_name(),
    ];
    let lock = format!(
        "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE NOWAIT",
        tables.join(", ")
    );
    let give_up = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        db.execute_unprepared("SAVEPOINT rollup_locks").await?;
        match db.execute_unprepared(&lock).await {
            Ok(_) => {
                db.execute_unprepared("RELEASE SAVEPOINT rollup_locks")
                    .await?;
                return Ok(());
            }
            Err(e) if lock_not_available(&e) && std::time::Instant::now() < give_up => {
                db.execute_unprepared("ROLLBACK TO SAVEPOINT rollup_locks")
                    .await?;
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// PostgreSQL's `lock_not_available` (SQLSTATE 55P03): a `NOWAIT` lock was busy.
fn lock_not_available(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == "55P03"),
        _ => false,
    }
}

/// Recomputes every rollup from the rows (for bulk loads, which bypass the services). Run it in
/// a transaction: on PostgreSQL it first waits for the writers of the tables it reads
/// ([`lock_sources`], never while holding a lock) and holds them (and any other rebuild) off
/// until commit, so no change is counted twice or missed; readers go on.
pub async fn rebuild(db: &impl ConnectionTrait) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        lock_sources(db).await?;
    }
    kpi_action_total::Entity::delete_many().exec(db).await?;
    add(db, &totals(db, None).await?).await?;
    Derived::event_counts().rebuild(db).await?;
    Derived::funnel_milestones().rebuild(db).await?;
    Ok(())
}

/// What the stored rollups get wrong, recomputed from the rows: empty when they are exact.
pub async fn drift(db: &impl ConnectionTrait) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    let expected = totals(db, None).await?;
    let mut stored = Totals::new();
    for r in kpi_action_total::Entity::find().all(db).await? {
        let f = Figures([r.actions, r.budget_cents, r.participants]);
        if f.is_zero() {
            continue;
        }
        let key = Key {
            edition_id: r.edition_id,
            country_code: r.country_code,
            submitted: r.submitted,
            by_theme: r.by_theme,
            term_id: r.term_id,
        };
        stored.insert(key, f);
    }
    if stored != expected {
        for (k, v) in &expected {
            if stored.get(k) != Some(v) {
                out.push(format!("{k:?}: stored {:?}, rows {v:?}", stored.get(k)));
            }
        }
        for (k, v) in &stored {
            if !expected.contains_key(k) {
                out.push(format!("{k:?}: stored {v:?}, no rows"));
            }
        }
    }
    Derived::event_counts().drift(db, &mut out).await?;
    Derived::funnel_milestones().drift(db, &mut out).await?;
    Ok(out)
}
