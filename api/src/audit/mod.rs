//! The audit log: one entry per change, written with the change in the same transaction, so an
//! entry exists exactly when its change does.

pub mod graphql;

use chrono::Utc;
use entity::audit_entry;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::error::AppResult;

/// Appends an audit entry on the given connection (pass the change's transaction).
pub async fn record(
    db: &impl ConnectionTrait,
    actor_id: Option<Uuid>,
    action: &str,
    entity_type: &str,
    entity_id: impl ToString,
    changes: Value,
) -> AppResult<()> {
    audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(Utc::now()),
        actor_id: Set(actor_id),
        action: Set(action.to_owned()),
        entity_type: Set(entity_type.to_owned()),
        entity_id: Set(entity_id.to_string()),
        changes: Set(changes),
    }
    .insert(db)
    .await?;
    Ok(())
}
