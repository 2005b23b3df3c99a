//! A good practice of the catalogue (case study, method, cultural tool); `search_*` hold its
//! normalised text for full-text search.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "good_practice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub country_code: Option<String>,
    pub source_organisation_id: Option<Uuid>,
    pub source_text: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub outcomes: String,
    pub link: Option<String>,
    pub licence: String,
    pub language: String,
    pub status: crate::PracticeStatus,
    pub author_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub review_comment: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub search_title: String,
    #[sea_orm(column_type = "Text")]
    pub search_summary: String,
    #[sea_orm(column_type = "Text")]
    pub search_body: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
