//! A vocabulary term tagged on a practice.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "practice_term")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub practice_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub term_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::good_practice::Entity",
        from = "Column::PracticeId",
        to = "super::good_practice::Column::Id",
        on_delete = "Cascade"
    )]
    Practice,
    #[sea_orm(
        belongs_to = "super::vocabulary_term::Entity",
        from = "Column::TermId",
        to = "super::vocabulary_term::Column::Id",
        on_delete = "Cascade"
    )]
    Term,
}

impl Related<super::good_practice::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Practice.def()
    }
}

impl Related<super::vocabulary_term::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Term.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
