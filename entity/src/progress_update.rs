//! Title-year progress posted on a plan action.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Implementation;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "progress_update")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub action_id: Uuid,
    pub implementation: Implementation,
    pub percentage: i32,
    pub participants_reached: i32,
    pub evidence_url: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub posted_by: Option<Uuid>,
    pub posted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::plan_action::Entity",
        from = "Column::ActionId",
        to = "super::plan_action::Column::Id",
        on_delete = "Cascade"
    )]
    Action,
}

impl Related<super::plan_action::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Action.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
