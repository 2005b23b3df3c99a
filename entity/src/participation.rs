//! A user registered for (or waiting for, or cancelled from) an event, and whether they came.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "participation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    /// The user's organisation when they registered (for reporting).
    pub organisation_id: Option<Uuid>,
    pub role: crate::ParticipationRole,
    pub status: crate::ParticipationStatus,
    pub registered_at: DateTimeUtc,
    pub registered_by: Option<Uuid>,
    pub attended: Option<bool>,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
