//! The score an assessment gives on one criterion.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "assessment_score")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub assessment_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub criterion_id: Uuid,
    pub score: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::assessment::Entity",
        from = "Column::AssessmentId",
        to = "super::assessment::Column::Id",
        on_delete = "Cascade"
    )]
    Assessment,
    #[sea_orm(
        belongs_to = "super::criterion::Entity",
        from = "Column::CriterionId",
        to = "super::criterion::Column::Id",
        on_delete = "Cascade"
    )]
    Criterion,
}

impl Related<super::assessment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assessment.def()
    }
}

impl Related<super::criterion::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Criterion.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
