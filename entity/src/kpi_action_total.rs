//! A KPI rollup row (migration 9): plan actions, their budget and the participants their latest
//! progress reports, summed per edition, lead municipality's country, whether the plan was
//! submitted, and theme. Kept exact by the writing transactions (`api/src/kpis/rollup.rs`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "kpi_action_total")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub edition_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub country_code: String,
    /// Whether the plans summed here were submitted (version 1 handed in).
    #[sea_orm(primary_key, auto_increment = false)]
    pub submitted: bool,
    /// `false`: every action once; `true`: under each of its themes.
    #[sea_orm(primary_key, auto_increment = false)]
    pub by_theme: bool,
    /// The theme (a vocabulary term), or the nil id for actions without one (and in the
    /// `by_theme = false` rows).
    #[sea_orm(primary_key, auto_increment = false)]
    pub term_id: Uuid,
    pub actions: i64,
    pub budget_cents: i64,
    pub participants: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::edition::Entity",
        from = "Column::EditionId",
        to = "super::edition::Column::Id"
    )]
    Edition,
}

impl Related<super::edition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Edition.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
