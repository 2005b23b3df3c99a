//! A juror (a JUROR user of an EXTERNAL organisation) assigned to score one application in one
//! stage: what the juror may read and score.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AssessmentStage;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "jury_assignment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub stage: AssessmentStage,
    pub juror_id: Uuid,
    pub assigned_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
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
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::JurorId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Juror,
}

impl ActiveModelBehavior for ActiveModel {}
