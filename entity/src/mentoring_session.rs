//! A mentoring session logged by a mentor under one of their assignments.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::SessionFormat;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "mentoring_session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub assignment_id: Uuid,
    pub held_on: Date,
    pub minutes: i32,
    pub format: SessionFormat,
    #[sea_orm(column_type = "Text")]
    pub topics: String,
    #[sea_orm(column_type = "Text")]
    pub notes: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::mentor_assignment::Entity",
        from = "Column::AssignmentId",
        to = "super::mentor_assignment::Column::Id",
        on_delete = "Cascade"
    )]
    Assignment,
}

impl Related<super::mentor_assignment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assignment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
