//! The project's own facts as the Interreg monitoring systems know them (one row, id 1): the
//! programme and call, the project's identity, multilingual names, descriptions and achievements
//! (JSON arrays of `{text, language}`), dates, budget and EU funding. Every fact is optional.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "project_settings")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub programme_name: Option<String>,
    /// The programming period, e.g. `2021-2027`.
    pub programme_period: Option<String>,
    pub call_serial_number: Option<String>,
    pub call_start_date: Option<Date>,
    pub call_end_date: Option<Date>,
    /// The project's id in the programme (keep.eu `project_id`, e.g. `C004`).
    pub project_code: Option<String>,
    pub acronym: Option<String>,
    pub names: Json,
    pub descriptions: Json,
    pub expected_achievements: Json,
    pub actual_achievements: Json,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub total_budget_cents: Option<i64>,
    pub contributing_eu_funds: Option<String>,
    pub eu_funding_cents: Option<i64>,
    /// Hundredths of a percent (80 % = 8000).
    pub eu_cofinancing_rate_bp: Option<i32>,
    pub programme_priority_code: Option<String>,
    pub priority_specific_objective: Option<String>,
    pub website: Option<String>,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
