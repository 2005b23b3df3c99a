//! One event of the live-event log (what a subscription delivers), numbered in commit order.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "live_event")]
pub struct Model {
    /// Commit order: a later commit has a larger number (writers serialise on the log).
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub occurred_at: DateTimeUtc,
    /// The event as tagged JSON (`api/src/live/mod.rs`): what changed, by id.
    pub payload: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
