//! Test harness: every test starts the real server (`Application::build`) on port 0 against a
//! fresh database of its own — an SQLite file, or a PostgreSQL database created for it and
//! dropped after — and talks to it over HTTP.
//!
//! PostgreSQL: `PEARLS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`) names the
//! server. When `CI` is set or `PEARLS_TEST_POSTGRES=required`, an unreachable server fails the
//! test; otherwise the PostgreSQL variant prints a visible SKIPPED line and returns.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pearls_api::config::Config;
use pearls_api::startup::Application;
use pearls_api::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub mod fixtures;
pub mod proxy;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per database: `both!(name, |app| async move { … });`, optionally with a
/// configuration tweak: `both!(name, tweak = |c| …, |app| async move { … });`.
#[macro_export]
macro_rules! both {
    ($name:ident, tweak = $tweak:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[actix_web::test]
            async fn sqlite() {
                if let Some(app) =
                    $crate::common::TestApp::spawn_with($crate::common::Backend::Sqlite, $tweak)
                        .await
                {
                    let f = $body;
                    f(app).await;
                }
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(app) =
                    $crate::common::TestApp::spawn_with($crate::common::Backend::Postgres, $tweak)
                        .await
                {
                    let f = $body;
                    f(app).await;
                }
            }
        }
    };
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[actix_web::test]
            async fn sqlite() {
                if let Some(app) =
                    $crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await
                {
                    let f = $body;
                    f(app).await;
                }
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(app) =
                    $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await
                {
                    let f = $body;
                    f(app).await;
                }
            }
        }
    };
}

fn pg_server() -> String {
    std::env::var("PEARLS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn pg_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
        || std::env::var("PEARLS_TEST_POSTGRES").is_ok_and(|v| v == "required")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    format!(
        "pearls_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::now_v7().simple()
    )
}

/// A database made for one test, removed when the test ends.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    name: String,
}

impl TestDatabase {
    /// Creates a fresh database, or `None` when PostgreSQL is unavailable and not required.
    pub async fn create(backend: Backend) -> Option<Self> {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Some(Self {
                    backend,
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    name,
                })
            }
            Backend::Postgres => {
                let admin = match Database::connect(format!("{}/postgres", pg_server())).await {
                    Ok(c) => c,
                    Err(e) => {
                        if pg_required() {
                            panic!(
                                "PostgreSQL is required (CI) but unreachable at {}: {e}",
                                pg_server()
                            );
                        }
                        eprintln!(
                            "SKIPPED (PostgreSQL unreachable at {}): set up PostgreSQL to run this test",
                            pg_server()
                        );
                        return None;
                    }
                };
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                Some(Self {
                    backend,
                    url: format!("{}/{name}", pg_server()),
                    name,
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self.backend {
            Backend::Sqlite => {
                let base = self
                    .url
                    .trim_start_matches("sqlite://")
                    .trim_end_matches("?mode=rwc")
                    .to_owned();
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{base}{suffix}"));
                }
            }
            Backend::Postgres => {
                // Dropped from a plain thread: the test's runtime may be shutting down.
                let name = self.name.clone();
                let server = pg_server();
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async move {
                        if let Ok(admin) = Database::connect(format!("{server}/postgres")).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// The secret tests sign with (and forge tokens with).
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// A configuration for tests: port 0, fast (but real) argon2id, short failure delay.
pub fn test_config(url: &str) -> Config {
    let mut c = Config::from_env_for_tests();
    c.database_url = url.to_owned().into();
    c.bind = "127.0.0.1:0".parse().expect("addr");
    c.jwt_secret = Some(TEST_SECRET.into());
    c.argon2_memory_kib = 1024;
    c.argon2_iterations = 1;
    c.login_failure_delay_ms = 20;
    c.db_max_connections = Some(5);
    // Small, so that tests fill it (tests/faults.rs counts on three).
    c.db_read_lane = Some(3);
    c.log_filter = "warn".into();
    // Off for tests; tests/platform.rs turns it on where it is the subject.
    c.rate_limit_per_minute = 0;
    c
}

/// A running server and a client for it.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub backend: Backend,
    pub client: awc::Client,
    /// The database URL (a second node can be started on it).
    pub url: String,
    /// Owned by the first node only: dropped (and the database removed) with it.
    _db: Option<TestDatabase>,
    /// The running server (it ends after a graceful shutdown).
    pub server: std::cell::RefCell<Option<tokio::task::JoinHandle<std::io::Result<()>>>>,
}

/// A test body that only reads fields of the app (`app.state`, `app.url`) would, by the
/// closures' disjoint capture, move just those fields into its `async move` block and drop the
/// rest — the test database with it — before the first statement. A type with `Drop` is always
/// captured whole.
impl Drop for TestApp {
    fn drop(&mut self) {}
}

impl TestApp {
    /// Starts a server on a fresh database with the default test configuration.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a server with a configuration tweak.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let db = TestDatabase::create(backend).await?;
        let mut app = Self::start(backend, &db.url, tweak).await;
        app._db = Some(db);
        Some(app)
    }

    /// Starts a server on a database the test already made (the server's URL may differ from
    /// the database's, e.g. through a proxy): the app owns and removes the database.
    pub async fn on_database(
        db: TestDatabase,
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let mut app = Self::start(backend, &db.url, tweak).await;
        app._db = Some(db);
        app
    }

    async fn start(backend: Backend, url: &str, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config(url);
        tweak(&mut config);
        let url = config.database_url().to_owned();
        let app = Application::build(config).await.expect("server starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        let server = actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        Self {
            base,
            state,
            backend,
            client,
            url,
            _db: None,
            server: std::cell::RefCell::new(Some(server)),
        }
    }

    /// Starts a second API node on the same database (as a load balancer would run several).
    pub async fn second_node(&self) -> TestApp {
        Self::start(self.backend, &self.url, |_| {}).await
    }

    /// Starts another API node on the same database with a configuration tweak (a storage
    /// quota, a read-only URL, a shorter timeout).
    pub async fn node_with(&self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::start(self.backend, &self.url, tweak).await
    }

    /// A coordinator (of a lead partner organisation) signed in: its access token.
    pub async fn coordinator(&self) -> String {
        let org = fixtures::organisation(
            &self.state.db,
            "CBSS Secretariat",
            "SE",
            entity::OrganisationKind::LeadPartner,
        )
        .await;
        let email = format!("coordinator-{}@test.example", uuid::Uuid::now_v7().simple());
        fixtures::user(self, &email, entity::Role::Coordinator, Some(org)).await;
        self.login(&email, fixtures::PASSWORD).await
    }

    /// Opens a connection of the test's own to the server's database (to inspect what was
    /// committed, or to cause a fault beside the server).
    pub async fn own_connection(&self) -> sea_orm::DatabaseConnection {
        Database::connect(self.url.as_str())
            .await
            .expect("a connection of the test's own")
    }

    /// Opens a GraphQL WebSocket (graphql-transport-ws), sends `connection_init` with the token
    /// and returns the socket and the server's first reply (`connection_ack`, or the close).
    pub async fn websocket(&self, token: Option<&str>) -> (WsClient, Value) {
        let url = format!("{}/graphql/ws", self.base.replacen("http", "ws", 1));
        let (_res, conn) = self
            .client
            .ws(url)
            .protocols(["graphql-transport-ws"])
            .connect()
            .await
            .expect("websocket");
        let mut ws = WsClient { conn };
        let payload = match token {
            Some(t) => json!({ "authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let first = ws.next().await;
        (ws, first)
    }

    /// POSTs a GraphQL operation; returns (HTTP status, JSON body).
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        self.post_json(token, &json!({ "query": query, "variables": variables }))
            .await
    }

    /// GETs a side endpoint (exports, calendars), optionally with a bearer token: status,
    /// content type, body.
    pub async fn download(&self, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
        let mut r = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let mut res = r.send().await.expect("request");
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = res
            .body()
            .limit(50 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec();
        (status, ct, body)
    }

    /// POSTs a GraphQL operation and returns the body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.gql_as(token, query, variables).await.1
    }

    /// POSTs any JSON body to `/graphql`.
    pub async fn post_json(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.client.post(format!("{}/graphql", self.base));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let mut res = req.send_json(body).await.expect("request");
        let status = res.status().as_u16();
        let bytes = res.body().limit(10 * 1024 * 1024).await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The synthetic programme at the real programme's size (`seed --scale 1`), on the fixed
    /// anchor the benchmark uses, so counts and pages are the same in every run.
    pub async fn seed_scale_1(&self) {
        let opts = pearls_api::seed::scale::ScaleOptions {
            scale: 1,
            anchor: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date"),
        };
        pearls_api::seed::scale::load(&self.state.db, &self.state.passwords, &opts)
            .await
            .expect("scale seed");
    }

    /// The names of the THEME vocabulary as `token` reads them through the API.
    pub async fn theme_names(&self, token: &str) -> std::collections::HashSet<String> {
        self.gql(
            Some(token),
            "{ vocabulary(kind: THEME) { name } }",
            json!({}),
        )
        .await["data"]["vocabulary"]
            .as_array()
            .expect("terms")
            .iter()
            .map(|t| t["name"].as_str().expect("name").to_owned())
            .collect()
    }

    /// Submits an application as `token` (a lifecycle step that must succeed).
    pub async fn submit_application(&self, token: &str, application: uuid::Uuid) {
        let body = self
            .gql(
                Some(token),
                "mutation($i: ApplicationTransitionInput!) { submitApplication(input: $i) { application { status } } }",
                json!({ "i": { "id": pearls_api::graphql::ids::encode("Application", application).0 } }),
            )
            .await;
        assert!(body["errors"].is_null(), "submitting {application}: {body}");
    }

    /// Signs in and returns the access token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .gql(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": password } }),
            )
            .await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {email} failed: {body}"))
            .to_owned()
    }

    /// SQL statements the server has run so far.
    pub fn statements(&self) -> u64 {
        self.state.statements.get()
    }
}

/// Asserts that the KPI rollups the services keep equal what the rows add up to.
pub async fn assert_rollups_exact(app: &TestApp) {
    let drift = pearls_api::kpis::rollup::drift(&app.state.db)
        .await
        .expect("recompute the KPI rollups");
    assert!(drift.is_empty(), "KPI rollups drifted: {drift:#?}");
}

/// The `extensions.code` of the first error of a response.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<no error>")
}

/// Every `extensions.code` of a response.
pub fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A test client's end of a GraphQL WebSocket.
pub struct WsClient {
    conn: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>,
}

impl WsClient {
    /// Sends one protocol message.
    pub async fn send(&mut self, msg: Value) {
        use futures_util::SinkExt;
        self.conn
            .send(awc::ws::Message::Text(msg.to_string().into()))
            .await
            .expect("send");
    }

    /// Starts a subscription under `id`, then pings and waits for the pong: the server reads
    /// messages in order, so once it answered the ping it has taken the subscription up.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe",
                          "payload": { "query": query, "variables": variables } }))
            .await;
        self.send(json!({ "type": "ping" })).await;
        let pong = self.next().await;
        assert_eq!(pong["type"], "pong", "{pong}");
    }

    /// The next protocol message (a close frame comes back as `{"close": code}`); fails the
    /// test after 15 s.
    pub async fn next(&mut self) -> Value {
        use futures_util::StreamExt;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(15), self.conn.next())
                .await
                .expect("a message within 15 s")
                .expect("an open socket")
                .expect("a frame");
            match frame {
                awc::ws::Frame::Text(t) => return serde_json::from_slice(&t).expect("json"),
                awc::ws::Frame::Close(reason) => {
                    return json!({ "close": reason.map(|r| u16::from(r.code)) });
                }
                _ => continue,
            }
        }
    }
}
