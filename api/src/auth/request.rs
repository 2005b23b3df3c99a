//! Turning a request's `Authorization` header into an [`Actor`].

use entity::user;
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::policy::{Actor, Principal};
use crate::state::AppState;

/// No header: anonymous. A bearer token: verified, and its user loaded — a token of a deleted or
/// deactivated user is UNAUTHENTICATED like a forged one. The role comes from the database, so a
/// role change applies to tokens already issued.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
) -> AppResult<(Actor, Option<user::Model>)> {
    let Some(value) = authorization else {
        return Ok((Actor::Anonymous, None));
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthenticated("expected `Authorization: Bearer <token>`".into())
        })?;
    let claims = state.keys.verify(token)?;
    let id = Uuid::parse_str(&claims.sub)
        .map_err(|_| AppError::Unauthenticated("invalid or expired access token".into()))?;
    let user = user::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| AppError::Unauthenticated("invalid or expired access token".into()))?;
    let principal = Principal {
        user_id: user.id,
        role: user.role,
        organisation_id: user.organisation_id,
    };
    Ok((Actor::User(principal), Some(user)))
}
