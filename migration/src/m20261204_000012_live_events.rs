//! The live-event log: every event a subscription can deliver is also a row, numbered in commit
//! order, so a client that reconnects with the cursor of the last event it received is sent
//! what it missed (a bounded window: `api/src/live/mod.rs`), and a node whose `LISTEN`
//! connection dropped, or whose subscriber fell behind, catches up from the table instead of
//! skipping. Rows older than the window are swept.

use sea_orm_migration::prelude::*;

use crate::index::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "live_event";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TABLE)
                // SQLite: INTEGER PRIMARY KEY AUTOINCREMENT never hands out a number again,
                // even after the newest rows were deleted; PostgreSQL: an identity column.
                .col(
                    ColumnDef::new("seq")
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new("occurred_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new("payload").text().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(index(TABLE, &["occurred_at"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
