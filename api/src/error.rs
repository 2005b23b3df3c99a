//! The one error type of the API and its mapping to `errors[].extensions.code`.
//!
//! Services return [`AppError`]; resolvers turn it into a GraphQL error with exactly one of the
//! codes CONVENTIONS.md documents. Database errors are mapped by hand: what a client may learn
//! (a uniqueness conflict, a missing row) becomes a code, the rest is logged with the request id
//! and reaches the client as a bare INTERNAL_SERVER_ERROR.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql converts anything that
//! does into an error carrying its text, which is how SQL would leak to clients.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Result of every service call.
pub type AppResult<T> = Result<T, AppError>;

/// Everything that can go wrong, as a client is allowed to see it.
#[derive(Clone, Debug)]
pub enum AppError {
    /// No valid credentials: missing, expired, forged or revoked token; wrong password.
    Unauthenticated(String),
    /// The caller may know the object exists but may not do this with it.
    Forbidden(String),
    /// No such object, or one the caller must not learn exists.
    NotFound(String),
    /// An input value is invalid; `field` names the input field (camelCase path).
    BadUserInput { field: String, message: String },
    /// The request conflicts with the current state: a stale version, a duplicate, a closed phase.
    Conflict(String),
    /// Too many attempts; retry after the given number of seconds.
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The operation exceeds a configured limit (depth, complexity, aliases, batch, time).
    QueryTooComplex(String),
    /// A bug or an outage. The detail is logged, never sent.
    Internal(String),
}

/// The stable `extensions.code` values of the API contract.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
}

impl AppError {
    pub fn unauthenticated() -> Self {
        Self::Unauthenticated("authentication required".into())
    }
    pub fn invalid_credentials() -> Self {
        Self::Unauthenticated("invalid credentials".into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        Self::Conflict(msg.into())
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal(detail.into())
    }
    /// The stale-version refusal every editable aggregate shares.
    pub fn stale_version(what: &str) -> Self {
        Self::Conflict(format!(
            "the {what} was changed by someone else; reload it and apply your change again"
        ))
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => code::UNAUTHENTICATED,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::NotFound(_) => code::NOT_FOUND,
            Self::BadUserInput { .. } => code::BAD_USER_INPUT,
            Self::Conflict(_) => code::CONFLICT,
            Self::RateLimited { .. } => code::RATE_LIMITED,
            Self::QueryTooComplex(_) => code::QUERY_TOO_COMPLEX,
            Self::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a client sees.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::QueryTooComplex(m) => m.clone(),
            Self::BadUserInput { message, .. } => message.clone(),
            Self::RateLimited { message, .. } => message.clone(),
            Self::Internal(_) => "internal server error".into(),
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        if let AppError::Internal(detail) = &err {
            tracing::error!(error = %detail, "internal error");
        }
        let message = err.public_message();
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", err.code());
            match &err {
                AppError::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                AppError::RateLimited {
                    retry_after_secs, ..
                } => ext.set("retryAfterSeconds", *retry_after_secs),
                _ => {}
            }
        })
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("this already exists".into())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                AppError::Conflict("a referenced object does not exist or is still in use".into())
            }
            _ => match err {
                DbErr::RecordNotFound(_) => AppError::NotFound("not found".into()),
                other => AppError::Internal(format!("database: {other}")),
            },
        }
    }
}
