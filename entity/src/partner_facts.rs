//! What the programme's monitoring systems record of a consortium partner beyond the
//! organisation itself (keep.eu's `partner`): organisation type, legal status, address, budget
//! and co-financing. One row per partner organisation, every fact optional.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "partner_facts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    pub organisation_type: Option<String>,
    pub legal_status: Option<String>,
    pub street: Option<String>,
    pub town: Option<String>,
    pub postal_code: Option<String>,
    pub website: Option<String>,
    pub total_eligible_budget_cents: Option<i64>,
    pub cofinancing_cents: Option<i64>,
    /// Hundredths of a percent (80 % = 8000).
    pub cofinancing_rate_bp: Option<i32>,
    pub partner_contribution_cents: Option<i64>,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
