//! What the benchmarks at scale 1000 asked for (BENCHMARKS.md has the before and after):
//! - applications by edition in the dashboard's orders, so a page is an index range, not a sort
//!   of the whole edition;
//! - covering indexes for the funnel's "ever reached" probes and for counting registrations
//!   and attendance per event;
//! - each plan action carries its latest progress (implementation, participants reached),
//!   written with every progress post, so the implementation KPIs aggregate actions without
//!   looking for each one's newest post;
//! - on PostgreSQL, the practices' search vector is stored (title, summary and body weighted
//!   A/B/C) instead of being computed per row and query, indexed with GIN.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::index::{index, index_name};

#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_SEARCH_UP: [&str; 3] = [
    "DROP INDEX IF EXISTS ix_good_practice_search",
    "ALTER TABLE good_practice ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (\
       setweight(to_tsvector('simple', search_title), 'A') || \
       setweight(to_tsvector('simple', search_summary), 'B') || \
       setweight(to_tsvector('simple', search_body), 'C')) STORED",
    "CREATE INDEX ix_good_practice_search_tsv ON good_practice USING GIN (search_tsv)",
];

const PG_SEARCH_DOWN: [&str; 3] = [
    "DROP INDEX IF EXISTS ix_good_practice_search_tsv",
    "ALTER TABLE good_practice DROP COLUMN search_tsv",
    "CREATE INDEX ix_good_practice_search ON good_practice USING GIN \
       (to_tsvector('simple', search_title || ' ' || search_summary || ' ' || search_body))",
];

/// The latest post of each action (by time, then id), as the progress service writes it.
const BACKFILL: &str = "UPDATE plan_action SET \
    latest_implementation = (SELECT pu.implementation FROM progress_update pu \
      WHERE pu.action_id = plan_action.id ORDER BY pu.posted_at DESC, pu.id DESC LIMIT 1), \
    latest_participants_reached = (SELECT pu.participants_reached FROM progress_update pu \
      WHERE pu.action_id = plan_action.id ORDER BY pu.posted_at DESC, pu.id DESC LIMIT 1)";

const INDEXES: [(&str, &[&str]); 4] = [
    ("application", &["edition_id", "updated_at"]),
    ("application", &["edition_id", "created_at"]),
    // The funnel asks per application whether it ever reached a status: an index-only probe.
    (
        "application_status_change",
        &["application_id", "to_status"],
    ),
    // Registrations and attendance per event, counted from the index alone.
    ("participation", &["event_id", "status", "attended"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, cols) in INDEXES {
            m.create_index(index(table, cols, false)).await?;
        }
        m.alter_table(
            Table::alter()
                .table("plan_action")
                .add_column(
                    ColumnDef::new("latest_implementation")
                        .string_len(16)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("plan_action")
                .add_column(
                    ColumnDef::new("latest_participants_reached")
                        .integer()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(BACKFILL).await?;
        if db.get_database_backend() == DbBackend::Postgres {
            for sql in PG_SEARCH_UP {
                db.execute_unprepared(sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            for sql in PG_SEARCH_DOWN {
                db.execute_unprepared(sql).await?;
            }
        }
        for column in ["latest_participants_reached", "latest_implementation"] {
            m.alter_table(
                Table::alter()
                    .table("plan_action")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for (table, cols) in INDEXES {
            m.drop_index(
                Index::drop()
                    .name(index_name(table, cols))
                    .table(table)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
