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
    /// A whole document refused for the rules it breaks (CONFLICT, with `extensions.reasons`
    /// listing every reason, so a history import is corrected in one round).
    Refused {
        message: String,
        reasons: Vec<String>,
    },
    /// Too many attempts; retry after the given number of seconds.
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The operation exceeds a configured limit (depth, complexity, aliases, batch, time).
    QueryTooComplex(String),
    /// The database cannot serve the request right now (unreachable, storage full, read-only,
    /// busy). Nothing was written; the same request may succeed later.
    Unavailable(Unavailable),
    /// A bug. The detail and its cause chain are logged, never sent.
    Internal(Internal),
}

/// Why the database cannot serve a request now. Each reason has its own message and retry
/// advice (README, "Failure modes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// The database does not answer: stopped, restarting, the network is down, or every pooled
    /// connection stayed busy for the acquire timeout.
    Unreachable,
    /// The database's storage is full (disk, or the configured SQLite quota).
    StorageFull,
    /// The database refuses writes (a read-only file or mount, a hot standby).
    ReadOnly,
    /// The database's storage reported an I/O error.
    StorageError,
    /// Concurrent work kept the database busy (a lock wait ran out, a serialisation failure).
    Busy,
}

impl Unavailable {
    fn message(self) -> &'static str {
        match self {
            Self::Unreachable => "the database is not reachable at the moment; retry shortly",
            Self::StorageFull => {
                "the database storage is full; nothing was written, retry once space is freed"
            }
            Self::ReadOnly => "the database is read-only at the moment; nothing was written",
            Self::StorageError => {
                "the database storage reported an error; nothing was written, retry shortly"
            }
            Self::Busy => "the database is busy; nothing was written, retry shortly",
        }
    }

    /// Seconds a client should wait before retrying (the `Retry-After` header).
    pub fn retry_after_secs(self) -> u64 {
        match self {
            Self::Unreachable | Self::Busy => 1,
            Self::StorageError => 5,
            Self::StorageFull | Self::ReadOnly => 30,
        }
    }

    /// The stable name of the reason, in `extensions.reason` and in the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreachable => "DATABASE_UNREACHABLE",
            Self::StorageFull => "STORAGE_FULL",
            Self::ReadOnly => "READ_ONLY",
            Self::StorageError => "STORAGE_ERROR",
            Self::Busy => "BUSY",
        }
    }
}

/// An unexpected failure: what we were doing and, when there is one, the error that caused it.
/// Only the logs see either.
#[derive(Clone)]
pub struct Internal {
    context: String,
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl Internal {
    /// The failure with its whole cause chain, for the log.
    pub fn detail(&self) -> String {
        let mut out = self.context.clone();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = cause {
            out.push_str(": ");
            out.push_str(&e.to_string());
            cause = e.source();
        }
        out
    }
}

impl std::fmt::Debug for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
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
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    /// An automatic persisted query's hash this node does not know: send the text with it.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// Persisted queries cannot be registered here (trusted-documents mode): send the text.
    pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
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
    /// A spent request budget (`ratelimit.rs`): retry after `wait`, in whole seconds.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        Self::RateLimited {
            message: format!("request budget spent; retry in {secs} s"),
            retry_after_secs: secs,
        }
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
        Self::Internal(Internal {
            context: detail.into(),
            source: None,
        })
    }
    /// A bug with its cause kept for the log.
    pub fn internal_from(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal(Internal {
            context: context.into(),
            source: Some(std::sync::Arc::new(source)),
        })
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
            Self::Conflict(_) | Self::Refused { .. } => code::CONFLICT,
            Self::RateLimited { .. } => code::RATE_LIMITED,
            Self::QueryTooComplex(_) => code::QUERY_TOO_COMPLEX,
            Self::Unavailable(_) => code::UNAVAILABLE,
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
            Self::BadUserInput { message, .. } | Self::Refused { message, .. } => message.clone(),
            Self::RateLimited { message, .. } => message.clone(),
            Self::Unavailable(why) => why.message().into(),
            Self::Internal(_) => "internal server error".into(),
        }
    }

    /// Seconds after which a retry may succeed (`Retry-After`), for the errors that pass.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            Self::Unavailable(why) => Some(why.retry_after_secs()),
            _ => None,
        }
    }

    /// The HTTP status of this error where a transport answers with one (the side endpoints,
    /// and GraphQL refusals before execution).
    pub fn status(&self) -> actix_web::http::StatusCode {
        use actix_web::http::StatusCode;
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadUserInput { .. }
            | Self::Conflict(_)
            | Self::Refused { .. }
            | Self::QueryTooComplex(_) => StatusCode::BAD_REQUEST,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Writes what an operator needs to the log: the detail of a bug, the reason of an outage.
    pub fn log(&self) {
        match self {
            Self::Internal(detail) => tracing::error!(error = ?detail, "internal error"),
            Self::Unavailable(why) => {
                tracing::warn!(reason = why.as_str(), "database unavailable")
            }
            _ => {}
        }
    }

    /// The contract's error body (`{"errors": [{message, extensions}]}`), for transports that
    /// answer outside GraphQL execution.
    pub fn body(&self) -> serde_json::Value {
        let mut ext = serde_json::json!({ "code": self.code() });
        match self {
            Self::BadUserInput { field, .. } => ext["field"] = field.as_str().into(),
            Self::Refused { reasons, .. } => ext["reasons"] = reasons.clone().into(),
            Self::RateLimited {
                retry_after_secs, ..
            } => ext["retryAfterSeconds"] = (*retry_after_secs).into(),
            Self::Unavailable(why) => {
                ext["reason"] = why.as_str().into();
                ext["retryAfterSeconds"] = why.retry_after_secs().into();
            }
            _ => {}
        }
        serde_json::json!({ "errors": [{ "message": self.public_message(), "extensions": ext }] })
    }
}

impl AppError {
    /// The one mapping of an error to an HTTP response, used by every endpoint outside GraphQL
    /// execution (and by GraphQL refusals before execution): its status, `Retry-After` where a
    /// retry may succeed, `WWW-Authenticate` for 401, and the contract's error body.
    /// (`AppError` is not an actix `ResponseError`: that needs `Display`, which would let
    /// async-graphql turn any error into a message with its text.)
    pub fn http_response(&self) -> actix_web::HttpResponse {
        use actix_web::http::header;
        self.log();
        let mut res = actix_web::HttpResponse::build(self.status());
        if let Some(secs) = self.retry_after_secs() {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if matches!(self, Self::Unauthenticated(_)) {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        res.json(self.body())
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.log();
        let message = err.public_message();
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", err.code());
            match &err {
                AppError::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                AppError::Refused { reasons, .. } => ext.set("reasons", reasons.clone()),
                AppError::RateLimited {
                    retry_after_secs, ..
                } => ext.set("retryAfterSeconds", *retry_after_secs),
                AppError::Unavailable(why) => {
                    ext.set("reason", why.as_str());
                    ext.set("retryAfterSeconds", why.retry_after_secs());
                }
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
            _ => match unavailability(&err) {
                Some(why) => AppError::Unavailable(why),
                None => match err {
                    DbErr::RecordNotFound(_) => AppError::NotFound("not found".into()),
                    other => AppError::internal_from("database", other),
                },
            },
        }
    }
}

/// Whether a database error says the database cannot serve now (rather than that the
/// statement is wrong): a lost or refused connection, a full or read-only storage, an I/O
/// error, a lock wait or serialisation failure. These are answered UNAVAILABLE with retry
/// advice instead of INTERNAL_SERVER_ERROR.
pub fn unavailability(err: &DbErr) -> Option<Unavailable> {
    use sea_orm::{ConnAcquireErr, RuntimeErr};
    let runtime = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            return Some(Unavailable::Unreachable);
        }
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return None,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return None;
    };
    use sea_orm::sqlx::Error as E;
    match sqlx.as_ref() {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            Some(Unavailable::Unreachable)
        }
        E::Protocol(_) => Some(Unavailable::Unreachable),
        E::Database(db) => {
            if db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
            {
                // SQLite's code is the extended result code; the low byte is the primary one.
                let primary = db.code()?.parse::<i32>().ok()? & 0xff;
                sqlite_unavailability(primary)
            } else {
                postgres_unavailability(db.code()?.as_ref())
            }
        }
        _ => None,
    }
}

/// SQLite's primary result codes that mean "not now" (<https://sqlite.org/rescode.html>).
fn sqlite_unavailability(primary: i32) -> Option<Unavailable> {
    match primary {
        5 | 6 => Some(Unavailable::Busy), // SQLITE_BUSY, SQLITE_LOCKED
        7 => Some(Unavailable::Busy),     // SQLITE_NOMEM
        8 => Some(Unavailable::ReadOnly), // SQLITE_READONLY
        10 | 11 | 26 => Some(Unavailable::StorageError), // SQLITE_IOERR, _CORRUPT, _NOTADB
        13 => Some(Unavailable::StorageFull), // SQLITE_FULL
        14 => Some(Unavailable::Unreachable), // SQLITE_CANTOPEN
        _ => None,
    }
}

/// PostgreSQL SQLSTATEs that mean "not now"
/// (<https://www.postgresql.org/docs/current/errcodes-appendix.html>).
fn postgres_unavailability(state: &str) -> Option<Unavailable> {
    match state {
        // connection_exception; admin_shutdown, crash_shutdown, cannot_connect_now
        s if s.starts_with("08") => Some(Unavailable::Unreachable),
        "57P01" | "57P02" | "57P03" | "57P05" => Some(Unavailable::Unreachable),
        "53100" => Some(Unavailable::StorageFull), // disk_full
        // insufficient_resources, out_of_memory, too_many_connections
        "53000" | "53200" | "53300" => Some(Unavailable::Busy),
        // serialization_failure, deadlock_detected, lock_not_available, query_canceled
        "40001" | "40P01" | "55P03" | "57014" => Some(Unavailable::Busy),
        "25006" => Some(Unavailable::ReadOnly), // read_only_sql_transaction (a standby)
        s if s.starts_with("58") => Some(Unavailable::StorageError), // system_error (I/O)
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_and_connection_failures_are_unavailable_not_internal() {
        assert_eq!(sqlite_unavailability(13), Some(Unavailable::StorageFull));
        assert_eq!(sqlite_unavailability(8), Some(Unavailable::ReadOnly));
        assert_eq!(sqlite_unavailability(5), Some(Unavailable::Busy));
        assert_eq!(sqlite_unavailability(10), Some(Unavailable::StorageError));
        assert_eq!(
            sqlite_unavailability(1),
            None,
            "SQLITE_ERROR is a bug, not an outage"
        );
        assert_eq!(
            postgres_unavailability("57P01"),
            Some(Unavailable::Unreachable)
        );
        assert_eq!(
            postgres_unavailability("08006"),
            Some(Unavailable::Unreachable)
        );
        assert_eq!(
            postgres_unavailability("53100"),
            Some(Unavailable::StorageFull)
        );
        assert_eq!(postgres_unavailability("40P01"), Some(Unavailable::Busy));
        assert_eq!(postgres_unavailability("42P01"), None);
        let pool = AppError::from(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout));
        assert_eq!(pool.code(), code::UNAVAILABLE);
        assert_eq!(pool.status().as_u16(), 503);
        assert_eq!(pool.retry_after_secs(), Some(1));
    }

    #[test]
    fn internal_errors_keep_their_cause_for_the_log_only() {
        let e = AppError::internal_from("database", DbErr::Custom("boom".into()));
        assert_eq!(e.public_message(), "internal server error");
        let AppError::Internal(detail) = &e else {
            panic!("internal")
        };
        assert!(detail.detail().contains("boom"), "{}", detail.detail());
    }
}
