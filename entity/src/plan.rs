//! A CuReAP (Culture and Resilience Action Plan) of one application; money in euro cents.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "plan")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub application_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub vision: String,
    #[sea_orm(column_type = "Text")]
    pub context: String,
    #[sea_orm(column_type = "Text")]
    pub objectives: String,
    #[sea_orm(column_type = "Text")]
    pub stakeholders: String,
    pub budget_cents: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub timeline: String,
    pub submitted_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::application::Entity",
        from = "Column::ApplicationId",
        to = "super::application::Column::Id",
        on_delete = "Cascade"
    )]
    Application,
}

impl Related<super::application::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Application.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
