//! Turning a request's `Authorization` header (or a WebSocket's `connection_init` token) into
//! an [`Actor`].

use chrono::{DateTime, Utc};
use entity::{organisation, refresh_token, user};
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait,
};
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
    /// The session (refresh-token family) of the token, when we issued it.
    pub session: Option<Uuid>,
    /// The data version, read by the same statement (`None` for anonymous requests: they
    /// have no authenticating statement). The response cache validates its answers by it.
    pub data_version: Option<i64>,
}

fn invalid() -> AppError {
    AppError::Unauthenticated("invalid or expired access token".into())
}

/// The principal of a user as the database knows them now: `None` when the user is gone or
/// deactivated, or when `session` (the token's refresh-token family) was ended. Role and
/// organisation come from here, never from the token, so a change applies to tokens already
/// issued.
pub async fn current_principal(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session: Option<Uuid>,
) -> AppResult<Option<(Principal, user::Model)>> {
    let mut q = user::Entity::find_by_id(user_id);
    if let Some(session) = session {
        q = q.filter(session_live(session));
    }
    Ok(q.one(db)
        .await?
        .filter(|u| u.active)
        .map(|u| (principal_of(&u), u)))
}

/// The user row's session `session` is live: some token of that refresh-token family, of this
/// user, is not revoked (logout, `everywhere`, reuse detection revoke the whole family). Part
/// of the authenticating statement, so checking it costs no statement of its own.
fn session_live(session: Uuid) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(refresh_token::Entity)
            .and_where(
                Expr::col((refresh_token::Entity, refresh_token::Column::FamilyId)).eq(session),
            )
            .and_where(
                Expr::col((refresh_token::Entity, refresh_token::Column::UserId))
                    .equals((user::Entity, user::Column::Id)),
            )
            .and_where(
                Expr::col((refresh_token::Entity, refresh_token::Column::RevokedAt)).is_null(),
            )
            .to_owned(),
    )
}

/// The authenticating statement: the user `id` with their organisation, live only while
/// `session` (if any) is, and the data version.
fn auth_query(id: Uuid, session: Option<Uuid>) -> sea_orm::sea_query::SelectStatement {
    let mut q = user::Entity::find_by_id(id).find_also_related(organisation::Entity);
    if let Some(session) = session {
        q = q.filter(session_live(session));
    }
    q.expr_as(
        crate::db::data_version_expr(),
        crate::db::DATA_VERSION_COLUMN,
    )
    .into_query()
}

/// [`auth_query`] as a statement. Every request runs it, and building its text with sea-query
/// cost a tenth of a `me` request: the text is built once per backend and shape (with or
/// without a session) with stand-in ids, and each request binds its own ids in their places.
fn auth_statement(
    backend: sea_orm::DbBackend,
    id: Uuid,
    session: Option<Uuid>,
) -> sea_orm::Statement {
    use sea_orm::sea_query::Value;
    use std::sync::OnceLock;
    // Stand-ins no real id equals (ids are UUIDv4/v7, whose version nibble these lack).
    const USER: Uuid = Uuid::from_u128(0x0bad_0000_0000_0000_0000_0000_0000_0001);
    const SESSION: Uuid = Uuid::from_u128(0x0bad_0000_0000_0000_0000_0000_0000_0002);
    static TEXTS: [[OnceLock<sea_orm::Statement>; 2]; 3] = [
        [OnceLock::new(), OnceLock::new()],
        [OnceLock::new(), OnceLock::new()],
        [OnceLock::new(), OnceLock::new()],
    ];
    let b = match backend {
        sea_orm::DbBackend::Postgres => 0,
        sea_orm::DbBackend::Sqlite => 1,
        _ => 2,
    };
    let template = TEXTS[b][usize::from(session.is_some())]
        .get_or_init(|| backend.build(&auth_query(USER, session.map(|_| SESSION))));
    let values = template
        .values
        .iter()
        .flat_map(|v| v.0.iter())
        .map(|v| match v {
            Value::Uuid(Some(u)) if *u == USER => Value::from(id),
            Value::Uuid(Some(u)) if *u == SESSION => Value::from(session.unwrap_or(SESSION)),
            other => other.clone(),
        });
    sea_orm::Statement::from_sql_and_values(backend, template.sql.clone(), values)
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
        let (integration, expires_at, data_version) =
            crate::integrations::authenticate(state, token).await?;
        return Ok(Authenticated {
            actor: Actor::Integration(integration),
            user: None,
            organisation: None,
            expires_at,
            session: None,
            data_version: Some(data_version),
        });
    }
    let verified = state.keys.verify(token)?;
    let claims = verified.claims;
    let id = Uuid::parse_str(&claims.sub).map_err(|_| invalid())?;
    let session = match (&claims.sid, verified.ours) {
        (Some(sid), true) => Some(Uuid::parse_str(sid).map_err(|_| invalid())?),
        // An external identity provider's token: its sessions are the provider's.
        _ => None,
    };
    // One statement: the user, their organisation, whether the session is live, and the data
    // version (so a response-cache hit costs nothing more).
    let row = state
        .lane
        .query_one(auth_statement(state.lane.backend(), id, session))
        .await?
        .ok_or_else(invalid)?;
    let user = user::Model::from_query_result(&row, "A_")?;
    if !user.active {
        return Err(invalid());
    }
    let organisation = organisation::Model::from_query_result_optional(&row, "B_")?;
    let data_version: i64 = row.try_get("", crate::db::DATA_VERSION_COLUMN)?;
    Ok(Authenticated {
        actor: Actor::User(principal_of(&user)),
        user: Some(user),
        organisation,
        expires_at: DateTime::from_timestamp(claims.exp, 0),
        session,
        data_version: Some(data_version),
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
            session: None,
            data_version: None,
        });
    };
    let token = bearer(value).ok_or_else(|| {
        AppError::Unauthenticated("expected `Authorization: Bearer <token>`".into())
    })?;
    authenticate_token(state, token).await
}

/// The token of an `Authorization: Bearer <token>` value (scheme in either case), if any.
pub fn bearer(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statement bound from the kept text is the statement sea-query builds for the same
    /// ids: same text, same values in the same order — on both databases, with and without a
    /// session, for ids met before and new ones.
    #[test]
    fn the_kept_authenticating_statement_is_the_built_one() {
        for backend in [sea_orm::DbBackend::Postgres, sea_orm::DbBackend::Sqlite] {
            for _ in 0..3 {
                for session in [None, Some(Uuid::now_v7())] {
                    let id = Uuid::new_v4();
                    let kept = auth_statement(backend, id, session);
                    let built = backend.build(&auth_query(id, session));
                    assert_eq!(kept.sql, built.sql);
                    assert_eq!(kept.values, built.values);
                    let ids = built.values.as_ref().map_or(0, |v| {
                        v.0.iter()
                            .filter(|v| matches!(v, sea_orm::Value::Uuid(Some(_))))
                            .count()
                    });
                    assert_eq!(ids, 1 + usize::from(session.is_some()));
                }
            }
        }
    }
}
