//! `login`, `refreshSession` and `logout`.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use super::service::{self, Session};
use crate::graphql::context::req;
use crate::users::types::User;

/// Input of `login`.
#[derive(InputObject)]
pub struct LoginInput {
    /// The account's e-mail address.
    pub email: String,
    /// The password.
    pub password: String,
}

/// A new session: send `accessToken` as `Authorization: Bearer …`; exchange `refreshToken` for a
/// new session with `refreshSession` before `expiresAt`.
#[derive(SimpleObject)]
pub struct SessionPayload {
    /// Short-lived JWT for the `Authorization` header.
    pub access_token: String,
    /// Opaque single-use token for `refreshSession`; keep it secret.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: Timestamp,
    /// The signed-in user.
    pub user: User,
}

impl From<Session> for SessionPayload {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            expires_at: s.expires_at.into(),
            user: User {
                session_owner: true,
                ..User::from(s.user)
            },
        }
    }
}

/// Input of `refreshSession`.
#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The refresh token of the current session; it stops working once used.
    pub refresh_token: String,
}

/// Input of `logout`.
#[derive(InputObject)]
pub struct LogoutInput {
    /// The refresh token of the session to end.
    pub refresh_token: Option<String>,
    /// End every session of the signed-in user instead.
    #[graphql(default)]
    pub everywhere: bool,
}

/// Result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// Always true: the sessions are ended.
    pub success: bool,
}

/// Sign-in mutations.
#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Signs in with e-mail and password. Failures say only "invalid credentials" and are
    /// rate-limited per account and per client address (RATE_LIMITED).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: LoginInput,
    ) -> Result<Option<SessionPayload>> {
        let rc = req(ctx);
        let session =
            service::login(&rc.state, &input.email, &input.password, &rc.client_address).await?;
        Ok(Some(session.into()))
    }

    /// Exchanges a refresh token for a new session. Each refresh token works once; presenting
    /// a used one revokes all sessions descended from the same login.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RefreshSessionInput,
    ) -> Result<Option<SessionPayload>> {
        let session = service::refresh(&req(ctx).state, &input.refresh_token).await?;
        Ok(Some(session.into()))
    }

    /// Ends the session of the given refresh token, or all sessions with `everywhere: true`.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: LogoutInput,
    ) -> Result<Option<LogoutPayload>> {
        let rc = req(ctx);
        service::logout(
            &rc.state,
            &rc.actor,
            input.refresh_token.as_deref(),
            input.everywhere,
        )
        .await?;
        Ok(Some(LogoutPayload { success: true }))
    }
}
