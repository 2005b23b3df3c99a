//! A programme event: kick-off, training, webinar, forum, conference, meeting, visit, ceremony.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: crate::EventKind,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text")]
    pub programme: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub time_zone: String,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub organiser_id: Uuid,
    pub edition_id: Option<Uuid>,
    pub is_public: bool,
    pub capacity: Option<i32>,
    pub registration_deadline: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// Derived (migration 9): registrations with a place, recounted under the event's row
    /// lock by every registration write (`kpis/rollup.rs`).
    pub registered_count: i32,
    /// Derived (migration 9): registrations with recorded attendance, kept alike.
    pub attended_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
