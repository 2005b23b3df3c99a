//! CuReAP plans: the plan of a shortlisted application with its actions, indicators, comments and
//! frozen submitted versions, and the progress updates of the title year.
//!
//! Money is stored as integer euro cents and indicator values as integer thousandths: exact on
//! both databases (SQLite has no decimal type) and summable in SQL. The API speaks `Decimal`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from: &'static str,
    col: &'static str,
    to: &'static str,
    cascade: bool,
) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(from, col)
        .to(to, "id")
        .to_owned();
    if cascade {
        f.on_delete(ForeignKeyAction::Cascade);
    }
    f
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("plan")
                .col(pk_uuid("id"))
                .col(uuid("application_id"))
                .col(text("vision"))
                .col(text("context"))
                .col(text("objectives"))
                .col(text("stakeholders"))
                .col(big_integer_null("budget_cents"))
                .col(text("timeline"))
                .col(integer("submitted_version").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(integer("version").default(1))
                .foreign_key(&mut fk("plan", "application_id", "application", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("plan", &["application_id"], true))
            .await?;

        m.create_table(
            Table::create()
                .table("plan_version")
                .col(pk_uuid("id"))
                .col(uuid("plan_id"))
                .col(integer("number"))
                .col(json("snapshot"))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(uuid_null("submitted_by"))
                .foreign_key(&mut fk("plan_version", "plan_id", "plan", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("plan_version", &["plan_id", "number"], true))
            .await?;

        m.create_table(
            Table::create()
                .table("plan_action")
                .col(pk_uuid("id"))
                .col(uuid("plan_id"))
                .col(integer("position"))
                .col(string_len("title", 300))
                .col(text("description"))
                .col(text("target_groups"))
                .col(text("cultural_partners"))
                .col(date_null("starts_on"))
                .col(date_null("ends_on"))
                .col(big_integer("budget_cents").default(0))
                .col(string_len("status", 32))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("plan_action", "plan_id", "plan", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("plan_action", &["plan_id", "position"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("plan_indicator")
                .col(pk_uuid("id"))
                .col(uuid("plan_id"))
                .col(string_len("name", 300))
                .col(string_len("unit", 50))
                .col(big_integer("baseline_milli"))
                .col(big_integer("target_milli"))
                .col(big_integer_null("actual_milli"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("plan_indicator", "plan_id", "plan", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("plan_indicator", &["plan_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("plan_comment")
                .col(pk_uuid("id"))
                .col(uuid("plan_id"))
                .col(string_len_null("section", 32))
                .col(uuid_null("author_id"))
                .col(text("body"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("plan_comment", "plan_id", "plan", true))
                .foreign_key(&mut fk("plan_comment", "author_id", "app_user", false))
                .to_owned(),
        )
        .await?;
        m.create_index(index("plan_comment", &["plan_id", "created_at"], false))
            .await?;

        m.create_table(
            Table::create()
                .table("progress_update")
                .col(pk_uuid("id"))
                .col(uuid("action_id"))
                .col(string_len("implementation", 32))
                .col(integer("percentage"))
                .col(integer("participants_reached"))
                .col(string_len_null("evidence_url", 2000))
                .col(text("note"))
                .col(uuid_null("posted_by"))
                .col(timestamp_with_time_zone("posted_at"))
                .foreign_key(&mut fk("progress_update", "action_id", "plan_action", true))
                .foreign_key(&mut fk("progress_update", "posted_by", "app_user", false))
                .to_owned(),
        )
        .await?;
        m.create_index(index("progress_update", &["action_id", "posted_at"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "progress_update",
            "plan_comment",
            "plan_indicator",
            "plan_action",
            "plan_version",
            "plan",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
