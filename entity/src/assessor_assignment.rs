//! A user (coordinator or partner) assigned to score one stage of an edition.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AssessmentStage;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "assessor_assignment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub edition_id: Uuid,
    pub stage: AssessmentStage,
    pub assessor_id: Uuid,
    pub assigned_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::edition::Entity",
        from = "Column::EditionId",
        to = "super::edition::Column::Id",
        on_delete = "Cascade"
    )]
    Edition,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::AssessorId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Assessor,
}

impl ActiveModelBehavior for ActiveModel {}
