//! Assessment: the criteria of each edition's two scoring stages, the assessors assigned per
//! edition and stage, and their assessments (a score per criterion, or a declared conflict of
//! interest). Weights are integer thousandths, exact on both databases.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("criterion")
                .col(pk_uuid("id"))
                .col(uuid("edition_id"))
                .col(string_len("stage", 32))
                .col(integer("position"))
                .col(string_len("name", 200))
                .col(text("description"))
                .col(big_integer("weight_milli"))
                .col(integer("max_score"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(integer("version").default(1))
                .foreign_key(&mut fk("criterion", "edition_id", "edition"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("criterion", &["edition_id", "stage", "name"], true))
            .await?;

        m.create_table(
            Table::create()
                .table("assessor_assignment")
                .col(pk_uuid("id"))
                .col(uuid("edition_id"))
                .col(string_len("stage", 32))
                .col(uuid("assessor_id"))
                .col(uuid_null("assigned_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("assessor_assignment", "edition_id", "edition"))
                .foreign_key(&mut fk("assessor_assignment", "assessor_id", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "assessor_assignment",
            &["edition_id", "stage", "assessor_id"],
            true,
        ))
        .await?;
        m.create_index(index("assessor_assignment", &["assessor_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("assessment")
                .col(pk_uuid("id"))
                .col(uuid("application_id"))
                .col(uuid("assessor_id"))
                .col(string_len("stage", 32))
                .col(boolean("conflict_of_interest"))
                .col(text("comment"))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(integer("version").default(1))
                .foreign_key(&mut fk("assessment", "application_id", "application"))
                .foreign_key(&mut fk("assessment", "assessor_id", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "assessment",
            &["application_id", "stage", "assessor_id"],
            true,
        ))
        .await?;
        m.create_index(index("assessment", &["assessor_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("assessment_score")
                .col(uuid("assessment_id"))
                .col(uuid("criterion_id"))
                .col(integer("score"))
                .primary_key(
                    Index::create()
                        .name("pk_assessment_score")
                        .col("assessment_id")
                        .col("criterion_id"),
                )
                .foreign_key(&mut fk("assessment_score", "assessment_id", "assessment"))
                .foreign_key(&mut fk("assessment_score", "criterion_id", "criterion"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("assessment_score", &["criterion_id"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "assessment_score",
            "assessment",
            "assessor_assignment",
            "criterion",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
