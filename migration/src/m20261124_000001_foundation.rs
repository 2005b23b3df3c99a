//! The foundation: countries, organisations, users and their sessions, the login throttle,
//! editions with phases, applications with co-applicants and status history, mentor assignments
//! and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::index::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables in creation order (dropped in reverse).
const TABLES: &[&str] = &[
    "country",
    "organisation",
    "app_user",
    "refresh_token",
    "login_failure",
    "edition",
    "phase",
    "application",
    "application_co_applicant",
    "application_status_change",
    "mentor_assignment",
    "audit_entry",
];

fn fk(
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
    to_col: &'static str,
    cascade: bool,
) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, to_col)
        .to_owned();
    if cascade {
        f.on_delete(ForeignKeyAction::Cascade);
    }
    f
}

fn stamps(t: &mut TableCreateStatement) {
    t.col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .col(integer("version").default(1));
}

/// Countries, organisations and their users.
async fn people_and_organisations(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("country")
            .col(string_len("code", 2).primary_key())
            .col(string_len("name", 100))
            .to_owned(),
    )
    .await?;

    let mut t = Table::create()
        .table("organisation")
        .col(pk_uuid("id"))
        .col(string_len("kind", 32))
        .col(string_len("name", 300))
        .col(string_len("country_code", 2))
        .col(string_len_null("region", 200))
        .col(big_integer_null("population"))
        .col(boolean("is_capital").default(false))
        .foreign_key(&mut fk(
            "organisation",
            "country_code",
            "country",
            "code",
            false,
        ))
        .to_owned();
    stamps(&mut t);
    m.create_table(t).await?;
    m.create_index(index("organisation", &["name", "country_code"], true))
        .await?;

    let mut t = Table::create()
        .table("app_user")
        .col(pk_uuid("id"))
        .col(string_len("email", 254).unique_key())
        .col(string_len("name", 200))
        .col(string_len("role", 32))
        .col(uuid_null("organisation_id"))
        .col(string_len_null("country_code", 2))
        .col(boolean("active").default(true))
        .col(text("password_hash"))
        .foreign_key(&mut fk(
            "app_user",
            "organisation_id",
            "organisation",
            "id",
            false,
        ))
        .foreign_key(&mut fk(
            "app_user",
            "country_code",
            "country",
            "code",
            false,
        ))
        .to_owned();
    stamps(&mut t);
    m.create_table(t).await?;
    m.create_index(index("app_user", &["organisation_id"], false))
        .await?;
    Ok(())
}

/// Refresh-token families and the login throttle.
async fn sessions(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("refresh_token")
            .col(pk_uuid("id"))
            .col(uuid("user_id"))
            .col(uuid("family_id"))
            .col(string_len("token_hash", 64).unique_key())
            .col(timestamp_with_time_zone("issued_at"))
            .col(timestamp_with_time_zone("expires_at"))
            .col(timestamp_with_time_zone_null("used_at"))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .foreign_key(&mut fk("refresh_token", "user_id", "app_user", "id", true))
            .to_owned(),
    )
    .await?;
    m.create_index(index("refresh_token", &["family_id"], false))
        .await?;
    m.create_index(index("refresh_token", &["user_id"], false))
        .await?;

    m.create_table(
        Table::create()
            .table("login_failure")
            .col(pk_uuid("id"))
            .col(string_len("throttle_key", 300))
            .col(timestamp_with_time_zone("failed_at"))
            .to_owned(),
    )
    .await?;
    m.create_index(index(
        "login_failure",
        &["throttle_key", "failed_at"],
        false,
    ))
    .await?;
    Ok(())
}

/// Editions, their phases, and applications.
async fn editions_and_applications(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut t = Table::create()
        .table("edition")
        .col(pk_uuid("id"))
        .col(integer("title_year").unique_key())
        .col(string_len("name", 200))
        .col(integer("award_cap"))
        .col(boolean("one_per_country"))
        .col(integer("extra_awards"))
        .to_owned();
    stamps(&mut t);
    m.create_table(t).await?;

    m.create_table(
        Table::create()
            .table("phase")
            .col(pk_uuid("id"))
            .col(uuid("edition_id"))
            .col(string_len("kind", 32))
            .col(timestamp_with_time_zone("starts_at"))
            .col(timestamp_with_time_zone("ends_at"))
            .foreign_key(&mut fk("phase", "edition_id", "edition", "id", true))
            .to_owned(),
    )
    .await?;
    m.create_index(index("phase", &["edition_id", "kind"], true))
        .await?;

    let mut t = Table::create()
        .table("application")
        .col(pk_uuid("id"))
        .col(uuid("edition_id"))
        .col(uuid("lead_municipality_id"))
        .col(string_len("title", 300))
        .col(text("motivation"))
        .col(string_len("status", 32))
        .col(timestamp_with_time_zone_null("submitted_at"))
        .col(uuid_null("created_by"))
        .foreign_key(&mut fk("application", "edition_id", "edition", "id", false))
        .foreign_key(&mut fk(
            "application",
            "lead_municipality_id",
            "organisation",
            "id",
            false,
        ))
        .foreign_key(&mut fk(
            "application",
            "created_by",
            "app_user",
            "id",
            false,
        ))
        .to_owned();
    stamps(&mut t);
    m.create_table(t).await?;
    // One application per municipality and edition, held by the database.
    m.create_index(index(
        "application",
        &["edition_id", "lead_municipality_id"],
        true,
    ))
    .await?;
    m.create_index(index("application", &["lead_municipality_id"], false))
        .await?;
    m.create_index(index("application", &["status"], false))
        .await?;
    m.create_index(index("application", &["created_at"], false))
        .await?;
    Ok(())
}

/// Co-applicants and the status history of applications.
async fn application_history(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("application_co_applicant")
            .col(uuid("application_id"))
            .col(uuid("organisation_id"))
            .primary_key(Index::create().col("application_id").col("organisation_id"))
            .foreign_key(&mut fk(
                "application_co_applicant",
                "application_id",
                "application",
                "id",
                true,
            ))
            .foreign_key(&mut fk(
                "application_co_applicant",
                "organisation_id",
                "organisation",
                "id",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index(
        "application_co_applicant",
        &["organisation_id"],
        false,
    ))
    .await?;

    m.create_table(
        Table::create()
            .table("application_status_change")
            .col(pk_uuid("id"))
            .col(uuid("application_id"))
            .col(string_len_null("from_status", 32))
            .col(string_len("to_status", 32))
            .col(uuid_null("actor_id"))
            .col(text_null("note"))
            .col(timestamp_with_time_zone("changed_at"))
            .foreign_key(&mut fk(
                "application_status_change",
                "application_id",
                "application",
                "id",
                true,
            ))
            .foreign_key(&mut fk(
                "application_status_change",
                "actor_id",
                "app_user",
                "id",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index(
        "application_status_change",
        &["application_id", "changed_at"],
        false,
    ))
    .await?;
    Ok(())
}

/// Mentor assignments and the audit log.
async fn mentoring_and_audit(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("mentor_assignment")
            .col(pk_uuid("id"))
            .col(uuid("application_id"))
            .col(uuid("mentor_id"))
            .col(string_len("kind", 32))
            .col(date("starts_on"))
            .col(date_null("ends_on"))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk(
                "mentor_assignment",
                "application_id",
                "application",
                "id",
                true,
            ))
            .foreign_key(&mut fk(
                "mentor_assignment",
                "mentor_id",
                "app_user",
                "id",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index(
        "mentor_assignment",
        &["application_id", "mentor_id"],
        true,
    ))
    .await?;
    m.create_index(index("mentor_assignment", &["mentor_id"], false))
        .await?;

    m.create_table(
        Table::create()
            .table("audit_entry")
            .col(pk_uuid("id"))
            .col(timestamp_with_time_zone("occurred_at"))
            .col(uuid_null("actor_id"))
            .col(string_len("action", 100))
            .col(string_len("entity_type", 100))
            .col(string_len("entity_id", 100))
            .col(json("changes"))
            .to_owned(),
    )
    .await?;
    m.create_index(index("audit_entry", &["entity_type", "entity_id"], false))
        .await?;
    m.create_index(index("audit_entry", &["actor_id"], false))
        .await?;
    m.create_index(index("audit_entry", &["occurred_at"], false))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        people_and_organisations(m).await?;
        sessions(m).await?;
        editions_and_applications(m).await?;
        application_history(m).await?;
        mentoring_and_audit(m).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
