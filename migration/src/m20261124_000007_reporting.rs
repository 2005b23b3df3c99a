//! Interreg reporting and integration tokens: reporting periods; the work plan (work packages →
//! activities → deliverables, outputs); indicators (the EU common indicators seeded here) with
//! partner contributions; partner reports per period with activity and deliverable progress and
//! expenditure per cost category; and scoped read-only tokens for integrations.
//!
//! Money is integer euro cents, indicator values integer thousandths (exact on both databases).

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

/// The EU common indicators the project reports (DOMAIN.md), with how the portal derives the
/// ones it can: (code, name, unit, kind, derivation).
const INDICATORS: [(&str, &str, &str, &str, Option<&str>); 8] = [
    (
        "RCO81",
        "Participations in joint actions across borders",
        "participations",
        "OUTPUT",
        Some("ATTENDED_PARTICIPATIONS"),
    ),
    (
        "RCO83",
        "Strategies and action plans jointly developed",
        "strategies/action plans",
        "OUTPUT",
        Some("PLANS_SUBMITTED"),
    ),
    (
        "RCO84",
        "Pilot actions developed jointly and implemented in projects",
        "pilot actions",
        "OUTPUT",
        None,
    ),
    (
        "RCO87",
        "Organisations cooperating across borders",
        "organisations",
        "OUTPUT",
        Some("COOPERATING_ORGANISATIONS"),
    ),
    (
        "RCO115",
        "Public events across borders jointly organised",
        "events",
        "OUTPUT",
        Some("PUBLIC_EVENTS"),
    ),
    (
        "RCO116",
        "Jointly developed solutions",
        "solutions",
        "OUTPUT",
        None,
    ),
    (
        "RCR79",
        "Joint strategies and action plans taken up by organisations",
        "strategies/action plans",
        "RESULT",
        None,
    ),
    (
        "RCR104",
        "Solutions taken up or up-scaled by organisations",
        "solutions",
        "RESULT",
        None,
    ),
];

/// Reporting periods and the work plan: work packages, activities, deliverables.
async fn periods_and_work_plan(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("reporting_period")
            .col(pk_uuid("id"))
            .col(integer("number"))
            .col(date("starts_on"))
            .col(date("ends_on"))
            .col(date("report_deadline"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .to_owned(),
    )
    .await?;
    m.create_index(index("reporting_period", &["number"], true))
        .await?;

    m.create_table(
        Table::create()
            .table("work_package")
            .col(pk_uuid("id"))
            .col(string_len("code", 20))
            .col(string_len("title", 300))
            .col(text("description"))
            .col(uuid_null("lead_organisation_id"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk(
                "work_package",
                "lead_organisation_id",
                "organisation",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("work_package", &["code"], true))
        .await?;

    m.create_table(
        Table::create()
            .table("activity")
            .col(pk_uuid("id"))
            .col(uuid("work_package_id"))
            .col(string_len("code", 20))
            .col(string_len("title", 300))
            .col(text("description"))
            .col(uuid_null("lead_organisation_id"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk("activity", "work_package_id", "work_package", true))
            .foreign_key(&mut fk(
                "activity",
                "lead_organisation_id",
                "organisation",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("activity", &["code"], true)).await?;
    m.create_index(index("activity", &["work_package_id"], false))
        .await?;

    m.create_table(
        Table::create()
            .table("deliverable")
            .col(pk_uuid("id"))
            .col(uuid("activity_id"))
            .col(string_len("code", 20))
            .col(string_len("title", 300))
            .col(uuid_null("due_period_id"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk("deliverable", "activity_id", "activity", true))
            .foreign_key(&mut fk(
                "deliverable",
                "due_period_id",
                "reporting_period",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("deliverable", &["code"], true))
        .await?;
    m.create_index(index("deliverable", &["activity_id"], false))
        .await?;
    Ok(())
}

/// Indicators and the work plan's outputs they measure.
async fn indicators_and_outputs(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("indicator")
            .col(pk_uuid("id"))
            .col(string_len("code", 20))
            .col(string_len("name", 300))
            .col(string_len("unit", 100))
            .col(string_len("kind", 32))
            .col(big_integer_null("target_milli"))
            .col(big_integer_null("milestone_milli"))
            .col(string_len_null("derivation", 64))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .to_owned(),
    )
    .await?;
    m.create_index(index("indicator", &["code"], true)).await?;

    m.create_table(
        Table::create()
            .table("output")
            .col(pk_uuid("id"))
            .col(uuid("work_package_id"))
            .col(string_len("code", 20))
            .col(string_len("title", 300))
            .col(uuid("indicator_id"))
            .col(big_integer_null("target_milli"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk("output", "work_package_id", "work_package", true))
            .foreign_key(&mut fk("output", "indicator_id", "indicator", false))
            .to_owned(),
    )
    .await?;
    m.create_index(index("output", &["code"], true)).await?;
    Ok(())
}

/// Partner reports with activity and deliverable progress and expenditure.
async fn partner_reports(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("partner_report")
            .col(pk_uuid("id"))
            .col(uuid("period_id"))
            .col(uuid("organisation_id"))
            .col(string_len("status", 32))
            .col(text("narrative"))
            .col(timestamp_with_time_zone_null("submitted_at"))
            .col(uuid_null("reviewed_by"))
            .col(text_null("review_comment"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk(
                "partner_report",
                "period_id",
                "reporting_period",
                true,
            ))
            .foreign_key(&mut fk(
                "partner_report",
                "organisation_id",
                "organisation",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index(
        "partner_report",
        &["period_id", "organisation_id"],
        true,
    ))
    .await?;

    m.create_table(
        Table::create()
            .table("activity_progress")
            .col(uuid("report_id"))
            .col(uuid("activity_id"))
            .col(string_len("status", 32))
            .col(text("narrative"))
            .primary_key(
                Index::create()
                    .name("pk_activity_progress")
                    .col("report_id")
                    .col("activity_id"),
            )
            .foreign_key(&mut fk(
                "activity_progress",
                "report_id",
                "partner_report",
                true,
            ))
            .foreign_key(&mut fk(
                "activity_progress",
                "activity_id",
                "activity",
                true,
            ))
            .to_owned(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("deliverable_progress")
            .col(uuid("report_id"))
            .col(uuid("deliverable_id"))
            .col(string_len("status", 32))
            .col(text("note"))
            .primary_key(
                Index::create()
                    .name("pk_deliverable_progress")
                    .col("report_id")
                    .col("deliverable_id"),
            )
            .foreign_key(&mut fk(
                "deliverable_progress",
                "report_id",
                "partner_report",
                true,
            ))
            .foreign_key(&mut fk(
                "deliverable_progress",
                "deliverable_id",
                "deliverable",
                true,
            ))
            .to_owned(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table("expenditure")
            .col(uuid("report_id"))
            .col(string_len("category", 40))
            .col(big_integer("amount_cents"))
            .primary_key(
                Index::create()
                    .name("pk_expenditure")
                    .col("report_id")
                    .col("category"),
            )
            .foreign_key(&mut fk("expenditure", "report_id", "partner_report", true))
            .to_owned(),
    )
    .await?;
    Ok(())
}

/// Indicator contributions and integration tokens.
async fn contributions_and_tokens(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("indicator_contribution")
            .col(pk_uuid("id"))
            .col(uuid("indicator_id"))
            .col(uuid("period_id"))
            .col(uuid("organisation_id"))
            .col(big_integer("value_milli"))
            .col(text("evidence"))
            .col(string_len_null("evidence_url", 2000))
            .col(uuid_null("contributed_by"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk(
                "indicator_contribution",
                "indicator_id",
                "indicator",
                true,
            ))
            .foreign_key(&mut fk(
                "indicator_contribution",
                "period_id",
                "reporting_period",
                true,
            ))
            .foreign_key(&mut fk(
                "indicator_contribution",
                "organisation_id",
                "organisation",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index(
        "indicator_contribution",
        &["indicator_id", "period_id", "organisation_id"],
        true,
    ))
    .await?;
    m.create_index(index(
        "indicator_contribution",
        &["period_id", "organisation_id"],
        false,
    ))
    .await?;

    m.create_table(
        Table::create()
            .table("integration_token")
            .col(pk_uuid("id"))
            .col(string_len("name", 200))
            .col(string_len("token_hash", 64))
            .col(string_len("scopes", 200))
            .col(uuid_null("created_by"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("expires_at"))
            .col(timestamp_with_time_zone_null("last_used_at"))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .foreign_key(&mut fk(
                "integration_token",
                "created_by",
                "app_user",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("integration_token", &["token_hash"], true))
        .await?;
    Ok(())
}

/// The EU common indicators, as reference data.
async fn seed_indicators(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let now = chrono::Utc::now();
    let mut insert = Query::insert()
        .into_table("indicator")
        .columns([
            "id",
            "code",
            "name",
            "unit",
            "kind",
            "derivation",
            "created_at",
            "updated_at",
            "version",
        ])
        .to_owned();
    for (code, name, unit, kind, derivation) in INDICATORS {
        insert.values_panic([
            uuid::Uuid::now_v7().into(),
            code.into(),
            name.into(),
            unit.into(),
            kind.into(),
            derivation.map(str::to_owned).into(),
            now.into(),
            now.into(),
            1.into(),
        ]);
    }
    m.exec_stmt(insert).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        periods_and_work_plan(m).await?;
        indicators_and_outputs(m).await?;
        partner_reports(m).await?;
        contributions_and_tokens(m).await?;
        seed_indicators(m).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "integration_token",
            "indicator_contribution",
            "expenditure",
            "deliverable_progress",
            "activity_progress",
            "partner_report",
            "output",
            "indicator",
            "deliverable",
            "activity",
            "work_package",
            "reporting_period",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
