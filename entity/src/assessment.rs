//! One assessor's assessment of one application in one stage: scores per criterion, or a
//! declared conflict of interest (then without scores, and left out of the ranking).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AssessmentStage;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "assessment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub assessor_id: Uuid,
    pub stage: AssessmentStage,
    pub conflict_of_interest: bool,
    #[sea_orm(column_type = "Text")]
    pub comment: String,
    pub submitted_at: DateTimeUtc,
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
    #[sea_orm(has_many = "super::assessment_score::Entity")]
    Scores,
}

impl Related<super::assessment_score::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Scores.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
