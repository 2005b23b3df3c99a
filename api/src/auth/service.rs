//! Sign-in flows without GraphQL types: login, refresh-token rotation, logout.
//!
//! Refresh tokens are opaque random strings; only their SHA-256 is stored. Each login starts a
//! *family*; every refresh marks the presented token used and issues its successor in the same
//! family. Presenting a used (rotated) token means it leaked: the whole family is revoked.
//! Marking a token used is a conditional UPDATE, so two nodes racing on one token cannot both
//! succeed.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::{refresh_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{sha256_hex, throttle};
use crate::audit;
use crate::db::begin_write;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

/// A signed-in session as returned to the client.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: user::Model,
}

fn new_refresh_secret() -> String {
    URL_SAFE_NO_PAD.encode(super::random_bytes(32))
}

/// Issues an access token and a refresh token in `family` (a new family when `None`).
async fn issue_session(
    state: &AppState,
    db: &impl ConnectionTrait,
    user: user::Model,
    family: Option<Uuid>,
) -> AppResult<Session> {
    let family = family.unwrap_or_else(Uuid::now_v7);
    let (access_token, expires_at) =
        state
            .keys
            .issue(user.id, user.role.as_str(), user.organisation_id, family)?;
    let secret = new_refresh_secret();
    let now = Utc::now();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        family_id: Set(family),
        token_hash: Set(sha256_hex(secret.as_bytes())),
        issued_at: Set(now),
        expires_at: Set(now + chrono::Duration::days(state.config.refresh_token_ttl_days as i64)),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(Session {
        access_token,
        refresh_token: secret,
        expires_at,
        user,
    })
}

/// Signs a user in. Failures are uniform ("invalid credentials"), take at least the configured
/// delay whether or not the account exists, and are throttled per account and per address.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client_address: &str,
) -> AppResult<Session> {
    let started = Instant::now();
    let cfg = &state.config;
    let email = email.trim().to_lowercase();
    let account = throttle::account_key(&email);
    let address = throttle::address_key(client_address);
    let attempt = throttle::attempt(
        &state.db,
        &[
            (account.as_str(), cfg.login_max_failures_per_account),
            (address.as_str(), cfg.login_max_failures_per_address),
        ],
        cfg.login_window_secs,
    )
    .await?;

    let found = if email.len() <= 254 && password.len() <= super::password::MAX_PASSWORD_BYTES {
        user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&state.db)
            .await?
    } else {
        None
    };
    let matched = state
        .passwords
        .verify(password, found.as_ref().map(|u| u.password_hash.as_str()))
        .await;
    match found {
        Some(user) if matched && user.active => {
            let txn = begin_write(&state.db).await?;
            throttle::succeeded(&txn, &account, attempt).await?;
            audit::record(
                &txn,
                Some(user.id),
                "session.login",
                "User",
                user.id,
                json!({}),
            )
            .await?;
            let session = issue_session(state, &txn, user, None).await?;
            crate::db::commit(txn).await?;
            Ok(session)
        }
        _ => {
            // The attempt's rows stay: they are this failure.
            let floor = Duration::from_millis(cfg.login_failure_delay_ms);
            if let Some(rest) = floor.checked_sub(started.elapsed()) {
                tokio::time::sleep(rest).await;
            }
            Err(AppError::invalid_credentials())
        }
    }
}

/// Revokes every live token of a family (reuse detected, or logout).
async fn revoke_family(db: &impl ConnectionTrait, family: Uuid) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

fn invalid_refresh() -> AppError {
    AppError::Unauthenticated("invalid or expired refresh token".into())
}

/// Exchanges a refresh token for a new session in the same family.
pub async fn refresh(state: &AppState, presented: &str) -> AppResult<Session> {
    let hash = sha256_hex(presented.trim().as_bytes());
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(&state.db)
        .await?
        .ok_or_else(invalid_refresh)?;
    if token.revoked_at.is_some() {
        return Err(invalid_refresh());
    }
    let now = state.clock.now();
    if token.used_at.is_some() {
        // A rotated token came back: whoever holds the family is not to be trusted.
        let txn = begin_write(&state.db).await?;
        revoke_family(&txn, token.family_id).await?;
        audit::record(
            &txn,
            Some(token.user_id),
            "session.reuseDetected",
            "User",
            token.user_id,
            json!({ "family": token.family_id }),
        )
        .await?;
        crate::db::commit(txn).await?;
        tracing::warn!(user = %token.user_id, family = %token.family_id, "refresh token reuse: family revoked");
        return Err(invalid_refresh());
    }
    if token.expires_at <= now {
        return Err(invalid_refresh());
    }
    let txn = begin_write(&state.db).await?;
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Lost a race with another use of the same token: treat it as reuse.
        txn.rollback().await?;
        let txn = begin_write(&state.db).await?;
        revoke_family(&txn, token.family_id).await?;
        audit::record(
            &txn,
            Some(token.user_id),
            "session.reuseDetected",
            "User",
            token.user_id,
            json!({ "family": token.family_id, "concurrent": true }),
        )
        .await?;
        crate::db::commit(txn).await?;
        return Err(invalid_refresh());
    }
    let user = user::Entity::find_by_id(token.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.active)
        .ok_or_else(invalid_refresh)?;
    audit::record(
        &txn,
        Some(user.id),
        "session.refresh",
        "User",
        user.id,
        json!({ "family": token.family_id }),
    )
    .await?;
    let session = issue_session(state, &txn, user, Some(token.family_id)).await?;
    crate::db::commit(txn).await?;
    Ok(session)
}

/// Ends sessions: the family of the given refresh token, or with `everywhere` all of the user's.
/// Access tokens of an ended session stop working at their next request (the authenticating
/// statement checks that the session is live).
pub async fn logout(
    state: &AppState,
    actor: &Actor,
    presented: Option<&str>,
    everywhere: bool,
) -> AppResult<()> {
    let p = actor.principal()?;
    let txn = begin_write(&state.db).await?;
    if everywhere {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(refresh_token::Column::UserId.eq(p.user_id))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
    } else if let Some(secret) = presented {
        let token = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(sha256_hex(secret.trim().as_bytes())))
            .filter(refresh_token::Column::UserId.eq(p.user_id))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                AppError::bad_input("refreshToken", "not a refresh token of this user")
            })?;
        revoke_family(&txn, token.family_id).await?;
    } else {
        return Err(AppError::bad_input(
            "refreshToken",
            "pass the refresh token or everywhere: true",
        ));
    }
    audit::record(
        &txn,
        Some(p.user_id),
        "session.logout",
        "User",
        p.user_id,
        json!({ "everywhere": everywhere }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(())
}
