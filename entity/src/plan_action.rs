//! An action of a plan; budget in euro cents.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ActionStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "plan_action")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub position: i32,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text")]
    pub target_groups: String,
    #[sea_orm(column_type = "Text")]
    pub cultural_partners: String,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub budget_cents: i64,
    pub status: ActionStatus,
    /// The implementation of the latest progress post (kept with each post).
    pub latest_implementation: Option<crate::Implementation>,
    /// The participants reached of the latest progress post (kept with each post).
    pub latest_participants_reached: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::plan::Entity",
        from = "Column::PlanId",
        to = "super::plan::Column::Id",
        on_delete = "Cascade"
    )]
    Plan,
}

impl Related<super::plan::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Plan.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
