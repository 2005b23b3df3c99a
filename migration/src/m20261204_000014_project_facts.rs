//! The project's own facts, as the Interreg monitoring systems (keep.eu, Jems) know a project:
//! one row of project settings (programme, call, identity, multilingual names and descriptions,
//! dates, budget and EU funding, priority, achievements) and, per consortium partner, the facts
//! a partner record carries (organisation type, legal status, address, budget, co-financing).
//! Kept by the coordinator with an audit entry per change; read by the keep.eu export.
//!
//! Every fact is optional: a fresh installation knows none of them, and the export leaves out
//! what is not known instead of inventing it. Money is integer euro cents, rates hundredths of
//! a percent (80 % = 8000), multilingual texts JSON arrays of `{text, language}`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SETTINGS: &str = "project_settings";
const PARTNER: &str = "partner_facts";

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

fn cents(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

fn texts(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).json().not_null().to_owned()
}

fn stamp() -> [ColumnDef; 2] {
    [
        ColumnDef::new("updated_at")
            .timestamp_with_time_zone()
            .not_null()
            .to_owned(),
        ColumnDef::new("version").integer().not_null().to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut settings = Table::create();
        settings.table(SETTINGS).col(
            ColumnDef::new("id")
                .integer()
                .not_null()
                .primary_key()
                // One project per installation: the settings are one row, always id 1.
                .check(Expr::col("id").eq(1)),
        );
        for c in [
            text("programme_name"),
            text("programme_period"),
            text("call_serial_number"),
            ColumnDef::new("call_start_date").date().null().to_owned(),
            ColumnDef::new("call_end_date").date().null().to_owned(),
            text("project_code"),
            text("acronym"),
            texts("names"),
            texts("descriptions"),
            texts("expected_achievements"),
            texts("actual_achievements"),
            ColumnDef::new("start_date").date().null().to_owned(),
            ColumnDef::new("end_date").date().null().to_owned(),
            cents("total_budget_cents"),
            text("contributing_eu_funds"),
            cents("eu_funding_cents"),
            ColumnDef::new("eu_cofinancing_rate_bp")
                .integer()
                .null()
                .to_owned(),
            text("programme_priority_code"),
            text("priority_specific_objective"),
            text("website"),
        ]
        .into_iter()
        .chain(stamp())
        {
            settings.col(c);
        }
        m.create_table(settings).await?;

        let mut partner = Table::create();
        partner
            .table(PARTNER)
            .col(
                ColumnDef::new("organisation_id")
                    .uuid()
                    .not_null()
                    .primary_key(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_partner_facts_organisation_id")
                    .from(PARTNER, "organisation_id")
                    .to("organisation", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        for c in [
            text("organisation_type"),
            text("legal_status"),
            text("street"),
            text("town"),
            text("postal_code"),
            text("website"),
            cents("total_eligible_budget_cents"),
            cents("cofinancing_cents"),
            ColumnDef::new("cofinancing_rate_bp")
                .integer()
                .null()
                .to_owned(),
            cents("partner_contribution_cents"),
        ]
        .into_iter()
        .chain(stamp())
        {
            partner.col(c);
        }
        m.create_table(partner).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PARTNER).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SETTINGS).to_owned()).await
    }
}
