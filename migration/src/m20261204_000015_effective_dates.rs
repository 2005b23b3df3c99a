//! A status change's effective date apart from the date it was recorded (issue 16): a decision
//! takes effect when it was taken (the jury met on Friday, the result is typed on Monday; an
//! edition of 2024 is loaded as history in 2026), while `changed_at` keeps when the row was
//! written. Every existing change took effect when it was recorded, so the backfill copies
//! `changed_at`.
//!
//! The column is NOT NULL on PostgreSQL; SQLite cannot add that constraint to an existing
//! column, so there every writer sets it (the entity's field is not optional).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "application_status_change";
const COLUMN: &str = "effective_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(TABLE)
                .add_column(ColumnDef::new(COLUMN).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE application_status_change SET effective_at = changed_at \
             WHERE effective_at IS NULL",
        )
        .await?;
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE application_status_change ALTER COLUMN effective_at SET NOT NULL",
            )
            .await?;
        }
        // The award dates of the public Pearls and the history's order read it per application.
        m.create_index(
            Index::create()
                .name("ix_application_status_change_effective")
                .table(TABLE)
                .col("application_id")
                .col(COLUMN)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_application_status_change_effective")
                .table(TABLE)
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(TABLE).drop_column(COLUMN).to_owned())
            .await?;
        Ok(())
    }
}
