//! The title cycle, first part: per-application deadline extensions and mentoring sessions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("deadline_extension")
                .col(pk_uuid("id"))
                .col(uuid("application_id"))
                .col(string_len("phase_kind", 32))
                .col(timestamp_with_time_zone("extended_until"))
                .col(text("reason"))
                .col(uuid_null("granted_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_deadline_extension_application_id")
                        .from("deadline_extension", "application_id")
                        .to("application", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_deadline_extension_granted_by")
                        .from("deadline_extension", "granted_by")
                        .to("app_user", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_deadline_extension_application_id_phase_kind")
                .table("deadline_extension")
                .col("application_id")
                .col("phase_kind")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("mentoring_session")
                .col(pk_uuid("id"))
                .col(uuid("assignment_id"))
                .col(date("held_on"))
                .col(integer("minutes"))
                .col(string_len("format", 32))
                .col(text("topics"))
                .col(text("notes"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(integer("version").default(1))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_mentoring_session_assignment_id")
                        .from("mentoring_session", "assignment_id")
                        .to("mentor_assignment", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_mentoring_session_assignment_id_held_on")
                .table("mentoring_session")
                .col("assignment_id")
                .col("held_on")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("mentoring_session").to_owned())
            .await?;
        m.drop_table(Table::drop().table("deadline_extension").to_owned())
            .await
    }
}
