//! Runtime configuration, read from the environment (or the equivalent command-line flags).
//!
//! Every knob has a safe development default so that `cargo run --release` works on a fresh
//! machine; production mode (`PEARLS_ENV=production`) turns the defaults that are only safe on a
//! laptop into start-up errors instead.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

/// Reads a setting that must never be printed.
fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// Whether the server runs on a developer's machine or serves real users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// GraphiQL, introspection and field suggestions on; a random signing secret if none is set.
    Development,
    /// Hardened: secrets required, no GraphiQL, no introspection, no suggestions, no demo data.
    Production,
}

/// Signature algorithms an access token may use. Anything else (including `none`) is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with the shared secret `PEARLS_JWT_SECRET` (the default).
    #[value(name = "HS256")]
    Hs256,
    /// RSA PKCS#1 v1.5 with SHA-256, keys from PEM files.
    #[value(name = "RS256")]
    Rs256,
    /// Ed25519, keys from PEM files.
    #[value(name = "EdDSA")]
    EdDsa,
}

/// All settings of one server process. Field docs double as `--help` text.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Database URL: `sqlite://pearls.db?mode=rwc` (embedded default) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://pearls.db?mode=rwc",
        value_parser = secret,
        hide_env_values = true,
        global = true
    )]
    pub database_url: SecretString,

    /// Maximum pooled database connections per process [default: 28 on PostgreSQL, 10 on
    /// SQLite]. N nodes on one PostgreSQL need N × (pool + read lane + 1: each node's LISTEN
    /// connection) of the server's `max_connections`.
    #[arg(long, env = "PEARLS_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,

    /// Connections of the read lane per process [default: 16; 0 switches it off]: the
    /// authenticating statement every request runs first gets connections of its own, used
    /// without sqlx's two pings per statement (`db/lane.rs`). N nodes on one PostgreSQL need
    /// N × (pool + lane + 1) of the server's `max_connections`.
    #[arg(long, env = "PEARLS_DB_READ_LANE", global = true)]
    pub db_read_lane: Option<u32>,

    /// Longest wait for a pooled database connection, in milliseconds. While the database is
    /// away, every request is answered UNAVAILABLE (HTTP 503) within this time.
    #[arg(
        long,
        env = "PEARLS_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 750,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,

    /// A size quota for the embedded SQLite database, in bytes (whole 4 KiB pages): writes that
    /// would grow the file beyond it are refused with UNAVAILABLE (storage full) instead of
    /// filling the disk other services share. Reads go on; writes succeed again once rows are
    /// deleted or the quota is raised (restart). No quota by default; ignored on PostgreSQL.
    #[arg(long, env = "PEARLS_SQLITE_MAX_BYTES", global = true)]
    pub sqlite_max_bytes: Option<u64>,

    /// Address the HTTP server listens on (`127.0.0.1:0` picks a free port).
    #[arg(
        long,
        env = "PEARLS_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// `development` or `production`.
    #[arg(
        long = "env",
        env = "PEARLS_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,

    /// Shared secret for HS256 access tokens (at least 32 bytes; required in production).
    #[arg(
        long,
        env = "PEARLS_JWT_SECRET",
        value_parser = secret,
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<SecretString>,

    /// Bearer token that `/metrics` requires (`Authorization: Bearer …`). Without one, metrics
    /// are open in development and off (404) in production: a production node that should be
    /// scraped is given a token, and its Prometheus job the same token.
    #[arg(
        long,
        env = "PEARLS_METRICS_TOKEN",
        value_parser = secret,
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<SecretString>,

    /// Request budget per signed-in user and per integration token, per minute and per node,
    /// in cost units: an operation costs 1 + its complexity / 100. 0 turns the limit off.
    #[arg(
        long,
        env = "PEARLS_RATE_LIMIT_PER_MINUTE",
        default_value_t = 6000,
        global = true
    )]
    pub rate_limit_per_minute: u32,

    /// Algorithm of the access tokens this server issues and accepts.
    #[arg(
        long,
        env = "PEARLS_JWT_ALGORITHM",
        value_enum,
        default_value = "HS256",
        global = true
    )]
    pub jwt_algorithm: JwtAlgorithm,

    /// PEM private key used to sign tokens with RS256/EdDSA.
    #[arg(long, env = "PEARLS_JWT_PRIVATE_KEY_FILE", global = true)]
    pub jwt_private_key_file: Option<PathBuf>,

    /// PEM public key used to verify RS256/EdDSA tokens.
    #[arg(long, env = "PEARLS_JWT_PUBLIC_KEY_FILE", global = true)]
    pub jwt_public_key_file: Option<PathBuf>,

    /// JWKS file (`{"keys":[…]}`) of an external identity provider whose tokens are accepted too.
    #[arg(long, env = "PEARLS_JWKS_FILE", global = true)]
    pub jwks_file: Option<PathBuf>,

    /// Key id written into (and required from) tokens signed with our own key.
    #[arg(long, env = "PEARLS_JWT_KID", global = true)]
    pub jwt_kid: Option<String>,

    /// `iss` claim of issued tokens, and the only issuer accepted.
    #[arg(
        long,
        env = "PEARLS_JWT_ISSUER",
        default_value = "bsr-cultural-pearls",
        global = true
    )]
    pub jwt_issuer: String,

    /// `aud` claim of issued tokens, and the only audience accepted.
    #[arg(
        long,
        env = "PEARLS_JWT_AUDIENCE",
        default_value = "pearls-portal",
        global = true
    )]
    pub jwt_audience: String,

    /// Lifetime of an access token, in seconds.
    #[arg(
        long,
        env = "PEARLS_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// Lifetime of a refresh token, in days.
    #[arg(
        long,
        env = "PEARLS_REFRESH_TOKEN_TTL_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub refresh_token_ttl_days: u64,

    /// Comma-separated origins allowed by CORS (empty: same-origin only).
    #[arg(
        long,
        env = "PEARLS_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// Take the client address from `X-Forwarded-For` (only behind a trusted load balancer).
    #[arg(
        long,
        env = "PEARLS_TRUST_FORWARDED_FOR",
        default_value_t = false,
        global = true
    )]
    pub trust_forwarded_for: bool,

    /// Failed logins per account within the throttle window before RATE_LIMITED.
    #[arg(
        long,
        env = "PEARLS_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = 5,
        global = true
    )]
    pub login_max_failures_per_account: u64,

    /// Failed logins per client address within the throttle window before RATE_LIMITED.
    #[arg(
        long,
        env = "PEARLS_LOGIN_MAX_FAILURES_PER_ADDRESS",
        default_value_t = 20,
        global = true
    )]
    pub login_max_failures_per_address: u64,

    /// Length of the login throttle window, in seconds.
    #[arg(
        long,
        env = "PEARLS_LOGIN_WINDOW_SECS",
        default_value_t = 900,
        global = true
    )]
    pub login_window_secs: u64,

    /// Minimum duration of a failed login, in milliseconds (uniform, slow failures).
    #[arg(
        long,
        env = "PEARLS_LOGIN_FAILURE_DELAY_MS",
        default_value_t = 400,
        global = true
    )]
    pub login_failure_delay_ms: u64,

    /// Maximum nesting depth of a GraphQL operation.
    #[arg(long, env = "PEARLS_MAX_DEPTH", default_value_t = 12, global = true)]
    pub max_depth: usize,

    /// Maximum complexity of an operation (each field costs 1; page sizes multiply).
    #[arg(
        long,
        env = "PEARLS_MAX_COMPLEXITY",
        default_value_t = 20_000,
        global = true
    )]
    pub max_complexity: usize,

    /// Maximum number of aliased fields in one document.
    #[arg(long, env = "PEARLS_MAX_ALIASES", default_value_t = 30, global = true)]
    pub max_aliases: usize,

    /// Maximum operations in one batched request.
    #[arg(long, env = "PEARLS_MAX_BATCH", default_value_t = 10, global = true)]
    pub max_batch: usize,

    /// Maximum request body size, in bytes.
    #[arg(long, env = "PEARLS_MAX_BODY_BYTES", default_value_t = 256 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Time limit for one GraphQL request, in milliseconds.
    #[arg(
        long,
        env = "PEARLS_REQUEST_TIMEOUT_MS",
        default_value_t = 15_000,
        global = true
    )]
    pub request_timeout_ms: u64,

    /// Entries kept in each node's automatic-persisted-query cache.
    #[arg(
        long,
        env = "PEARLS_APQ_CACHE_SIZE",
        default_value_t = 1024,
        global = true
    )]
    pub apq_cache_size: usize,

    /// JSON file mapping sha256 hashes to operations; when set only these operations run.
    #[arg(long, env = "PEARLS_TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<PathBuf>,

    /// Argon2id memory cost in KiB (OWASP: 19456).
    #[arg(
        long,
        env = "PEARLS_ARGON2_MEMORY_KIB",
        default_value_t = 19_456,
        global = true
    )]
    pub argon2_memory_kib: u32,

    /// Argon2id iterations (OWASP: 2).
    #[arg(
        long,
        env = "PEARLS_ARGON2_ITERATIONS",
        default_value_t = 2,
        global = true
    )]
    pub argon2_iterations: u32,

    /// On SIGTERM, how long requests in flight (a streaming export included) may take to
    /// finish before the process exits, in seconds.
    #[arg(
        long,
        env = "PEARLS_SHUTDOWN_GRACE_SECS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_grace_secs: u64,

    /// The most rows one grouped KPI figure may return; a grouping that would yield more is
    /// refused with QUERY_TOO_COMPLEX.
    #[arg(
        long,
        env = "PEARLS_KPI_MAX_GROUPS",
        default_value_t = 5_000,
        global = true
    )]
    pub kpi_max_groups: u64,

    /// Answer the connection pages the planner covers with one statement each (`false`: every
    /// page through the resolvers and DataLoaders, as a comparison or a way out).
    #[arg(
        long,
        env = "PEARLS_PLANNER",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub planner: bool,

    /// Answer repeated identical queries of one caller from this node's response cache while
    /// nothing was written since (`false`: every query executes).
    #[arg(
        long,
        env = "PEARLS_RESPONSE_CACHE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub response_cache: bool,

    /// The most memory the response cache holds (keys and answers), in MiB; the least recently
    /// used answers go first.
    #[arg(
        long,
        env = "PEARLS_RESPONSE_CACHE_MB",
        default_value_t = 64,
        global = true
    )]
    pub response_cache_mb: u64,

    /// Seconds between two sweeps of expired login failures and live events (each node sweeps).
    #[arg(
        long,
        env = "PEARLS_SWEEP_INTERVAL_SECS",
        default_value_t = 600,
        global = true
    )]
    pub sweep_interval_secs: u64,

    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(
        long,
        env = "RUST_LOG",
        default_value = "info,sqlx=warn,sea_orm=warn",
        global = true
    )]
    pub log_filter: String,
}

impl Config {
    /// Parses a configuration from the process environment only (no flags); used by tests and
    /// embedders that build an [`crate::startup::Application`] directly.
    pub fn from_env() -> Result<Self, clap::Error> {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        <Only as clap::Parser>::try_parse_from(["pearls"]).map(|o| o.config)
    }

    /// The defaults, ignoring the process environment (so a developer's `DATABASE_URL` cannot
    /// leak into a test).
    pub fn from_env_for_tests() -> Self {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        let mut cmd = <Only as clap::CommandFactory>::command();
        cmd = cmd.mut_args(|a| a.env(None::<&str>));
        let matches = cmd
            .try_get_matches_from(["pearls"])
            .expect("defaults parse");
        <Only as clap::FromArgMatches>::from_arg_matches(&matches)
            .expect("defaults")
            .config
    }

    /// True in production mode.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Refuses configurations that are unsafe to serve real users with.
    pub fn validate(&self) -> Result<(), String> {
        if self.is_production() && self.jwt_algorithm == JwtAlgorithm::Hs256 {
            match &self.jwt_secret {
                None => return Err("PEARLS_JWT_SECRET is required in production".into()),
                Some(s) if s.expose_secret().len() < 32 => {
                    return Err("PEARLS_JWT_SECRET must be at least 32 bytes in production".into());
                }
                _ => {}
            }
        }
        if self.jwt_algorithm != JwtAlgorithm::Hs256 && self.jwt_public_key_file.is_none() {
            return Err("PEARLS_JWT_PUBLIC_KEY_FILE is required for RS256 and EdDSA".into());
        }
        if self.max_batch == 0 || self.max_body_bytes < 1024 {
            return Err("PEARLS_MAX_BATCH must be ≥ 1 and PEARLS_MAX_BODY_BYTES ≥ 1024".into());
        }
        Ok(())
    }

    /// The per-request execution time limit.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// The pool size: as set, or by database. On PostgreSQL a statement holds its connection
    /// for three round trips (sqlx's ping before, the statement, and sqlx's ping on release),
    /// each ending when a busy worker thread next polls the request: under load a connection
    /// is held ~2 ms for a 0.2 ms statement. With 10 connections that wait was the limit:
    /// 17–19 % of two cores stayed idle at saturation, and 32 served the municipality's
    /// dashboard page 20 % faster and `me` 26 % faster (BENCHMARKS.md, Stop 26). Since the
    /// authenticating statement runs on the read lane, 28 serve as 32 did (municipality
    /// 1,890 against 1,826 req/s, coordinator 1,000 against 993; Stop 27), and one node's
    /// pool, lane and LISTEN connection (45) leave room for two nodes in PostgreSQL's default
    /// `max_connections`. SQLite's connections each run on a thread of their own and keep
    /// their own page cache: 10.
    pub fn pool_size(&self) -> u32 {
        self.db_max_connections
            .unwrap_or(if self.is_sqlite() { 10 } else { 28 })
            .max(1)
    }

    /// The read lane's size: as set, or 16 (`db/lane.rs`). `me` on PostgreSQL, scale 1000:
    /// 8 against 16 in one run 6,458 against 8,276 req/s; 24 against 16 in another 7,177
    /// against 7,421 (BENCHMARKS.md, Stop 27).
    pub fn read_lane_size(&self) -> u32 {
        self.db_read_lane.unwrap_or(16)
    }

    /// Whether the database URL points at SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    /// The database URL (it may hold a password: never log it).
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let mut c = Config::from_env_for_tests();
        c.jwt_secret = Some("a-very-secret-signing-key-0123456789abcdef".into());
        c.database_url = "postgres://portal:hunter2@db.internal/pearls"
            .to_owned()
            .into();
        let printed = format!("{c:?}");
        assert!(!printed.contains("a-very-secret"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(
            c.database_url(),
            "postgres://portal:hunter2@db.internal/pearls"
        );
        assert!(!c.is_sqlite());
    }

    #[test]
    fn the_pool_size_follows_the_database_unless_set() {
        let mut c = Config::from_env_for_tests();
        assert_eq!(c.pool_size(), 10, "the embedded default is SQLite");
        c.database_url = "postgres://postgres@127.0.0.1/pearls".to_owned().into();
        assert_eq!(c.pool_size(), 28);
        c.db_max_connections = Some(12);
        assert_eq!(c.pool_size(), 12);
        c.db_max_connections = Some(0);
        assert_eq!(c.pool_size(), 1, "never an empty pool");
    }
}
