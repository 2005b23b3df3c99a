//! Integration tokens: named, scoped (`kpi:read`, `reporting:read`), read-only credentials for
//! reporting systems and partners' dashboards. Created and revoked by a coordinator, shown once,
//! stored as a SHA-256 digest, with an optional expiry and the time it was last used.

pub mod graphql;

use chrono::{DateTime, Utc};
use entity::integration_token;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::domain::NonEmptyText;
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, Integration, rules};

/// Every integration token starts with this, so the server tells it from a JWT at a glance.
pub const PREFIX: &str = "pit_";

/// The scopes a token can carry.
pub const KPI_READ: &str = "kpi:read";
/// See [`KPI_READ`].
pub const REPORTING_READ: &str = "reporting:read";

/// Creates a token (coordinators). Returns the row and the secret, which is not stored.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    name: NonEmptyText,
    scopes: Vec<&'static str>,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<(integration_token::Model, String)> {
    rules::manage_integrations(actor)?;
    if scopes.is_empty() {
        return Err(AppError::bad_input("scopes", "name at least one scope"));
    }
    if expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(AppError::bad_input("expiresAt", "must be in the future"));
    }
    let mut scopes = scopes;
    scopes.sort_unstable();
    scopes.dedup();
    let secret = format!(
        "{PREFIX}{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            crate::auth::random_bytes(32)
        )
    );
    let txn = begin_write(db).await?;
    let model = integration_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.into_inner()),
        token_hash: Set(crate::auth::sha256_hex(secret.as_bytes())),
        scopes: Set(scopes.join(" ")),
        created_by: Set(actor.user_id()),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "integrationToken.create",
        "IntegrationToken",
        model.id,
        json!({ "name": model.name, "scopes": model.scopes, "expiresAt": expires_at }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok((model, secret))
}

/// Revokes a token (coordinators); it stops working at once, on every node.
pub async fn revoke(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<integration_token::Model> {
    rules::manage_integrations(actor)?;
    let txn = begin_write(db).await?;
    let current = integration_token::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("integration token"))?;
    if current.revoked_at.is_some() {
        return Err(AppError::conflict("the token is already revoked"));
    }
    let mut am: integration_token::ActiveModel = current.into();
    am.revoked_at = Set(Some(Utc::now()));
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "integrationToken.revoke",
        "IntegrationToken",
        id,
        json!({ "name": updated.name }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

fn invalid() -> AppError {
    AppError::Unauthenticated("invalid, expired or revoked integration token".into())
}

/// The integration a presented token belongs to, when its token expires, and the data version
/// (read by the same statement). Notes when it was last used (at most once a minute, so polling
/// dashboards do not write on every request).
pub async fn authenticate(
    state: &crate::state::AppState,
    secret: &str,
) -> AppResult<(Integration, Option<DateTime<Utc>>, i64)> {
    use sea_orm::{FromQueryResult, QuerySelect, QueryTrait};
    let db = &state.db;
    let now = state.clock.now();
    let q = integration_token::Entity::find()
        .filter(integration_token::Column::TokenHash.eq(crate::auth::sha256_hex(secret.as_bytes())))
        .expr_as(
            crate::db::data_version_expr(),
            crate::db::DATA_VERSION_COLUMN,
        );
    let row = state
        .lane
        .query_one(state.lane.backend().build(&q.into_query()))
        .await?
        .ok_or_else(invalid)?;
    let token = integration_token::Model::from_query_result(&row, "")?;
    let data_version: i64 = row.try_get("", crate::db::DATA_VERSION_COLUMN)?;
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= now) {
        return Err(invalid());
    }
    let a_minute_ago = now - chrono::Duration::seconds(60);
    if token.last_used_at.is_none_or(|t| t < a_minute_ago) {
        // Best effort: a busy database never fails a read over bookkeeping.
        if let Err(e) = note_last_use(db, token.id, now, a_minute_ago).await {
            tracing::warn!(error = %e, "could not note an integration token's last use");
        }
    }
    let scopes: Vec<&str> = token.scopes.split_whitespace().collect();
    Ok((
        Integration {
            token_id: token.id,
            kpi_read: scopes.contains(&KPI_READ),
            reporting_read: scopes.contains(&REPORTING_READ),
        },
        token.expires_at,
        data_version,
    ))
}

/// Notes a token's use. Conditional, so concurrent requests (on any node) write it once; a
/// write that readers can see (`integrationTokens { lastUsedAt }`), so it advances the data
/// version — only when it changed the row.
async fn note_last_use(
    db: &DatabaseConnection,
    id: Uuid,
    now: DateTime<Utc>,
    a_minute_ago: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let noted = integration_token::Entity::update_many()
        .col_expr(integration_token::Column::LastUsedAt, Expr::value(now))
        .filter(integration_token::Column::Id.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(integration_token::Column::LastUsedAt.is_null())
                .add(integration_token::Column::LastUsedAt.lt(a_minute_ago)),
        )
        .exec(&txn)
        .await?;
    if noted.rows_affected > 0 {
        crate::db::commit(txn).await
    } else {
        txn.rollback().await
    }
}
