//! The selection funnel's milestones on the application row, so the funnel across every edition
//! is one scan of a covering index instead of probing each application's plan, its first
//! version and (for withdrawn ones) its status history (BENCHMARKS.md: ~350 ms per panel on
//! SQLite at scale 1000):
//! - `withdrawn_from`: the status an application was withdrawn from (NULL unless withdrawn).
//!   Withdrawal is the only way off the lifecycle's forward path, so "reached status X" is
//!   "is at or past X, or was withdrawn from a status at or past X".
//! - `cureap_submitted_at`: when its CuReAP was first handed in (the plan's version 1).
//!
//! The transition function writes both in the transition's transaction; bulk loaders call the
//! application's `rollup::rebuild`. The backfill below is this migration's own copy of their
//! definition.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The funnel's covering index (named by hand: the rule's name would pass PostgreSQL's 63
/// characters); migration 9 created it without the milestones.
const FUNNEL_INDEX: &str = "ix_application_funnel";
const BEFORE: [&str; 5] = [
    "submitted_at",
    "edition_id",
    "lead_municipality_id",
    "status",
    "id",
];
const AFTER: [&str; 7] = [
    "submitted_at",
    "edition_id",
    "lead_municipality_id",
    "status",
    "withdrawn_from",
    "cureap_submitted_at",
    "id",
];

const BACKFILL: [&str; 2] = [
    "UPDATE application SET withdrawn_from = (SELECT sc.from_status \
       FROM application_status_change sc \
       WHERE sc.application_id = application.id AND sc.to_status = 'WITHDRAWN' \
       ORDER BY sc.changed_at DESC, sc.id DESC LIMIT 1) \
     WHERE application.status = 'WITHDRAWN'",
    "UPDATE application SET cureap_submitted_at = (SELECT pv.submitted_at \
       FROM plan p JOIN plan_version pv ON pv.plan_id = p.id AND pv.number = 1 \
       WHERE p.application_id = application.id) \
     WHERE EXISTS (SELECT 1 FROM plan p JOIN plan_version pv ON pv.plan_id = p.id \
       AND pv.number = 1 WHERE p.application_id = application.id)",
];

fn funnel_index(cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create()
        .name(FUNNEL_INDEX)
        .table("application")
        .to_owned();
    for c in cols {
        i.col(*c);
    }
    i
}

fn drop_funnel_index() -> IndexDropStatement {
    Index::drop()
        .name(FUNNEL_INDEX)
        .table("application")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too (SeaORM wraps only PostgreSQL's by default): all or
    /// nothing, every statement on one connection. Run statement by statement over the pool,
    /// this migration failed once on the scale-1000 SQLite database with "index
    /// ix_application_funnel already exists" right after dropping it, and left its columns
    /// added without being recorded.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("application")
                .add_column(ColumnDef::new("withdrawn_from").string_len(32).null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("application")
                .add_column(
                    ColumnDef::new("cureap_submitted_at")
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        for sql in BACKFILL {
            db.execute_unprepared(sql).await?;
        }
        m.drop_index(drop_funnel_index()).await?;
        m.create_index(funnel_index(&AFTER)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(drop_funnel_index()).await?;
        m.create_index(funnel_index(&BEFORE)).await?;
        for column in ["cureap_submitted_at", "withdrawn_from"] {
            m.alter_table(
                Table::alter()
                    .table("application")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
