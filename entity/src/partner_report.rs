//! A partner's report for one period: progress, deliverables, expenditure.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "partner_report")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub period_id: Uuid,
    pub organisation_id: Uuid,
    pub status: crate::ReportStatus,
    #[sea_orm(column_type = "Text")]
    pub narrative: String,
    pub submitted_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub review_comment: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
