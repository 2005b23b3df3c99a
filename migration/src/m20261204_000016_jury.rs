//! The jury (DOMAIN.md, "Jury members"): people outside the consortium — users with the JUROR
//! role in an EXTERNAL organisation — assigned to score given applications in given stages.
//! An assignment names one application, one stage and one juror; it is what a juror may read
//! (the application, and its CuReAP where the stage scores plans) and score. The role itself
//! is a stored string like the others, so no column changes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "jury_assignment";

fn fk(col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{TABLE}_{col}"))
        .from(TABLE, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TABLE)
                .col(pk_uuid("id"))
                .col(uuid("application_id"))
                .col(string_len("stage", 32))
                .col(uuid("juror_id"))
                .col(uuid_null("assigned_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("application_id", "application"))
                .foreign_key(&mut fk("juror_id", "app_user"))
                .to_owned(),
        )
        .await?;
        // One assignment per application, stage and juror; a juror's own list is a range of
        // the second index (the scopes ask "assigned to me" in every statement a juror makes).
        m.create_index(index(TABLE, &["application_id", "stage", "juror_id"], true))
            .await?;
        m.create_index(index(
            TABLE,
            &["juror_id", "stage", "application_id"],
            false,
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
