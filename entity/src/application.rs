//! A municipality's application for the title in one edition.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ApplicationStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "application")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub edition_id: Uuid,
    pub lead_municipality_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub motivation: String,
    pub status: ApplicationStatus,
    pub submitted_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// Derived (migration 10): the status it was withdrawn from; NULL unless withdrawn. Kept
    /// by the lifecycle transition (`kpis/rollup.rs`), read by the funnel.
    pub withdrawn_from: Option<ApplicationStatus>,
    /// Derived (migration 10): when its CuReAP's first version was handed in.
    pub cureap_submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::edition::Entity",
        from = "Column::EditionId",
        to = "super::edition::Column::Id"
    )]
    Edition,
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::LeadMunicipalityId",
        to = "super::organisation::Column::Id"
    )]
    LeadMunicipality,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::CreatedBy",
        to = "super::user::Column::Id"
    )]
    CreatedBy,
}

impl Related<super::edition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Edition.def()
    }
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LeadMunicipality.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
