//! Turning a request's `Authorization` header (or a WebSocket's `connection_init` token) into
//! an [`Actor`].

use chrono::{DateTime, Utc};
use entity::{organisation, user};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::policy::{Actor, Principal};
use crate::state::AppState;

/// Who a request is from, and until when its access token is valid.
pub struct Authenticated {
    pub actor: Actor,
    pub user: Option<user::Model>,
    /// The user's organisation, read by the same statement (most pages show it).
    pub organisation: Option<organisation::Model>,
    /// When the presented access token expires (`None` for anonymous requests).
    pub expires_at: Option<DateTime<Utc>>,
}

fn invalid() -> AppError {
    AppError::Unauthenticated("invalid or expired access token".into())
}

/// The principal of a user as the database knows them now: `None` when the user is gone or
/// deactivated. Role and organisation come from here, never from the token, so a change applies
/// to tokens already issued.
pub async fn current_principal(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Option<(Principal, user::Model)>> {
    Ok(user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
        .map(|u| (principal_of(&u), u)))
}

fn principal_of(u: &user::Model) -> Principal {
    Principal {
        user_id: u.id,
        role: u.role,
        organisation_id: u.organisation_id,
    }
}

/// Verifies a bare access token and loads its user — a token of a deleted or deactivated user is
/// UNAUTHENTICATED like a forged one.
pub async fn authenticate_token(state: &AppState, token: &str) -> AppResult<Authenticated> {
    if token.starts_with(crate::integrations::PREFIX) {
        let (integration, expires_at) = crate::integrations::authenticate(&state.db, token).await?;
        return Ok(Authenticated {
            actor: Actor::Integration(integration),
            user: None,
            organisation: None,
            expires_at,
        });
    }
    let claims = state.keys.verify(token)?;
    let id = Uuid::parse_str(&claims.sub).map_err(|_| invalid())?;
    let (user, organisation) = user::Entity::find_by_id(id)
        .find_also_related(organisation::Entity)
        .one(&state.db)
        .await?
        .filter(|(u, _)| u.active)
        .ok_or_else(invalid)?;
    Ok(Authenticated {
        actor: Actor::User(principal_of(&user)),
        user: Some(user),
        organisation,
        expires_at: DateTime::from_timestamp(claims.exp, 0),
    })
}

/// No header: anonymous. `Bearer <token>`: verified as [`authenticate_token`] does.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
) -> AppResult<Authenticated> {
    let Some(value) = authorization else {
        return Ok(Authenticated {
            actor: Actor::Anonymous,
            user: None,
            organisation: None,
            expires_at: None,
        });
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthenticated("expected `Authorization: Bearer <token>`".into())
        })?;
    authenticate_token(state, token).await
}
