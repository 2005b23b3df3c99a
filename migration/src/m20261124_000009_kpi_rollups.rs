//! Figures the programme-wide KPI panels read instead of counting a whole history per request
//! (BENCHMARKS.md: across all editions at scale 1000 the panel scanned ~475k plan actions with
//! their themes and ~930k registrations, ~0.5 s of PostgreSQL time per panel):
//! - `kpi_action_total`: plan actions, their budget and the participants their latest progress
//!   reports, summed per edition, lead municipality's country, whether the plan was submitted,
//!   and theme. `by_theme = false` rows hold each bucket's totals (every action once); the
//!   `by_theme = true` rows split them by theme, an action counted under each of its themes and
//!   actions without a theme under the nil id. The services that write actions, themes,
//!   progress, plan submissions and organisations' countries keep it exact in the same
//!   transaction (`api/src/kpis/rollup.rs`); bulk loaders rebuild it.
//! - `event.registered_count` / `event.attended_count`: an event's registrations and
//!   attendances, recounted under the event's row lock by every registration write.
//!
//! - covering indexes for the funnel across all editions, which reads every submitted
//!   application with its plan: index-only scans instead of the wide rows (85 → 65–73 ms for
//!   the statement at scale 1000 on PostgreSQL).
//!
//! The backfill below is this migration's own copy of the rollup's definition, as of this
//! migration; the application's `rollup::rebuild` is the living one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::index::{index, index_name};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "kpi_action_total";

/// The funnel's covering index of applications (named by hand: the rule's name would pass
/// PostgreSQL's 63 characters).
const FUNNEL_INDEX: &str = "ix_application_funnel";
const FUNNEL_COLUMNS: [&str; 5] = [
    "submitted_at",
    "edition_id",
    "lead_municipality_id",
    "status",
    "id",
];
const PLAN_INDEX: (&str, &[&str]) = ("plan", &["application_id", "id"]);

fn backfill(backend: DbBackend) -> [String; 3] {
    let nil = match backend {
        DbBackend::Postgres => "'00000000-0000-0000-0000-000000000000'::uuid",
        _ => "zeroblob(16)",
    };
    let from = "FROM plan_action pa \
        JOIN plan p ON p.id = pa.plan_id \
        JOIN application a ON a.id = p.application_id \
        JOIN organisation o ON o.id = a.lead_municipality_id";
    let cols = "edition_id, country_code, submitted, by_theme, term_id, actions, budget_cents, \
        participants";
    let sums = "COUNT(*), COALESCE(SUM(pa.budget_cents), 0), \
        COALESCE(SUM(pa.latest_participants_reached), 0)";
    [
        format!(
            "INSERT INTO {TABLE} ({cols}) SELECT a.edition_id, o.country_code, \
             p.submitted_version > 0, false, {nil}, {sums} {from} \
             GROUP BY a.edition_id, o.country_code, p.submitted_version > 0"
        ),
        format!(
            "INSERT INTO {TABLE} ({cols}) SELECT a.edition_id, o.country_code, \
             p.submitted_version > 0, true, COALESCE(t.term_id, {nil}), {sums} {from} \
             LEFT JOIN plan_action_theme t ON t.action_id = pa.id \
             GROUP BY a.edition_id, o.country_code, p.submitted_version > 0, t.term_id"
        ),
        "UPDATE event SET \
           registered_count = (SELECT COUNT(*) FROM participation p \
             WHERE p.event_id = event.id AND p.status = 'REGISTERED'), \
           attended_count = (SELECT COUNT(*) FROM participation p \
             WHERE p.event_id = event.id AND p.status = 'REGISTERED' AND p.attended)"
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TABLE)
                .col(ColumnDef::new("edition_id").uuid().not_null())
                .col(ColumnDef::new("country_code").string_len(2).not_null())
                .col(ColumnDef::new("submitted").boolean().not_null())
                .col(ColumnDef::new("by_theme").boolean().not_null())
                .col(ColumnDef::new("term_id").uuid().not_null())
                .col(ColumnDef::new("actions").big_integer().not_null())
                .col(ColumnDef::new("budget_cents").big_integer().not_null())
                .col(ColumnDef::new("participants").big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col("edition_id")
                        .col("country_code")
                        .col("submitted")
                        .col("by_theme")
                        .col("term_id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TABLE, "edition_id")
                        .to("edition", "id"),
                )
                .to_owned(),
        )
        .await?;
        for column in ["registered_count", "attended_count"] {
            m.alter_table(
                Table::alter()
                    .table("event")
                    .add_column(ColumnDef::new(column).integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        }
        let mut funnel = Index::create()
            .name(FUNNEL_INDEX)
            .table("application")
            .to_owned();
        for c in FUNNEL_COLUMNS {
            funnel.col(c);
        }
        m.create_index(funnel).await?;
        m.create_index(index(PLAN_INDEX.0, PLAN_INDEX.1, false))
            .await?;
        let db = m.get_connection();
        for sql in backfill(db.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["attended_count", "registered_count"] {
            m.alter_table(Table::alter().table("event").drop_column(column).to_owned())
                .await?;
        }
        m.drop_table(Table::drop().table(TABLE).to_owned()).await?;
        m.drop_index(
            Index::drop()
                .name(index_name(PLAN_INDEX.0, PLAN_INDEX.1))
                .table(PLAN_INDEX.0)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name(FUNNEL_INDEX)
                .table("application")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
