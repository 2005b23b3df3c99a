//! Building and running the server. `Application::build` connects, migrates, binds its own
//! listener and returns before serving, so tests can start the real server on port 0 and ask it
//! which port it got.

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;
use prometheus::{IntGauge, Registry};
use sea_orm::DatabaseConnection;
use tracing_actix_web::{RequestId, TracingLogger};

use crate::auth::jwt::TokenKeys;
use crate::auth::password::Passwords;
use crate::config::Config;
use crate::db::{self, StatementCounter};
use crate::graphql::schema;
use crate::state::AppState;

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

/// Why the server could not start.
#[derive(Debug)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

fn err(e: impl std::fmt::Display) -> StartupError {
    StartupError(e.to_string())
}

/// Connects to the database and applies pending migrations.
pub async fn prepare_database(
    config: &Config,
) -> Result<(DatabaseConnection, StatementCounter), StartupError> {
    let (db, counter) = db::connect(config)
        .await
        .map_err(|e| err(format!("database: {e}")))?;
    // Only when something is pending: a database opened read-only (a copy under inspection, a
    // read-only mount) serves reads, and answers writes UNAVAILABLE, instead of failing to start.
    let pending = !db::migrations_applied(&db)
        .await
        .map_err(|e| err(format!("migrations: {e}")))?;
    if pending {
        db::migrate(&db)
            .await
            .map_err(|e| err(format!("migrations: {e}")))?;
    }
    Ok((db, counter))
}

/// Builds the shared state (keys, password hasher) over an open pool.
pub fn build_state(
    config: &Config,
    db: DatabaseConnection,
    statements: StatementCounter,
) -> Result<AppState, StartupError> {
    config.validate().map_err(err)?;
    let keys = TokenKeys::from_config(config).map_err(err)?;
    let passwords =
        Passwords::new(config.argon2_memory_kib, config.argon2_iterations).map_err(err)?;
    let lane = Arc::new(crate::db::lane::ReadLane::new(
        db.clone(),
        config.read_lane_size(),
        std::time::Duration::from_millis(config.db_acquire_timeout_ms.max(1)),
        config.request_timeout(),
        statements.clone(),
    ));
    Ok(AppState {
        db,
        lane,
        config: Arc::new(config.clone()),
        keys: Arc::new(keys),
        passwords,
        statements,
        live: crate::live::EventBus::default(),
        clock: crate::clock::Clock::default(),
        shutdown: Arc::new(tokio::sync::watch::channel(false).0),
        metrics: Arc::new(crate::metrics::Metrics::new().map_err(err)?),
        budgets: crate::ratelimit::Budgets::new(config.rate_limit_per_minute).map(Arc::new),
        response_cache: config.response_cache.then(|| {
            Arc::new(crate::graphql::cache::ResponseCache::new(
                usize::try_from(config.response_cache_mb.saturating_mul(1 << 20))
                    .unwrap_or(usize::MAX),
            ))
        }),
    })
}

impl Application {
    /// Connects, migrates, binds `config.bind` and prepares the server.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        config.validate().map_err(err)?;
        let (db, statements) = prepare_database(&config).await?;
        let state = build_state(&config, db, statements)?;
        crate::live::listen(&state.db, config.database_url(), state.live.clone())
            .await
            .map_err(|e| err(format!("events: {}", e.public_message())))?;
        crate::janitor::spawn(
            state.clone(),
            std::time::Duration::from_secs(config.sweep_interval_secs.max(1)),
        );
        let listener = TcpListener::bind(config.bind)
            .map_err(|e| err(format!("bind {}: {e}", config.bind)))?;
        let port = listener.local_addr().map_err(err)?.port();
        let server = run(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests use its pool and statement counter).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is stopped. SIGTERM or SIGINT (or `state().shutdown` set to
    /// `true`, which is how tests and embedders ask) starts a graceful shutdown: the listener
    /// closes, subscription sockets are closed with 1001 (going away), requests in flight —
    /// a streaming export included — finish within `PEARLS_SHUTDOWN_GRACE_SECS`, then this
    /// returns `Ok` (the process exits 0).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut task = tokio::spawn(self.server);
        let mut requested = self.state.shutdown.subscribe();
        tokio::select! {
            res = &mut task => return res.map_err(std::io::Error::other)?,
            _ = termination() => tracing::info!("termination signal: shutting down gracefully"),
            _ = requested.wait_for(|stop| *stop) => tracing::info!("shutdown requested"),
        }
        self.state.shutdown.send_replace(true);
        handle.stop(true).await;
        let res = task.await.map_err(std::io::Error::other)?;
        tracing::info!("stopped");
        res
    }
}

/// One request counted in the in-flight gauge until it is answered (or dropped).
struct InFlight(IntGauge);

impl InFlight {
    fn enter(gauge: &IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Resolves at the first SIGTERM or SIGINT.
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn cors(config: &Config) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(3600);
    for origin in config.cors_origins.iter().filter(|o| !o.trim().is_empty()) {
        cors = if origin.trim() == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin.trim())
        };
    }
    cors
}

/// Who may read `/metrics`: with `PEARLS_METRICS_TOKEN`, whoever presents it; without one,
/// anyone in development and no one in production (404, as if there were no such page).
/// `Some` is the refusal.
fn metrics_refusal(req: &actix_web::dev::ServiceRequest, state: &AppState) -> Option<HttpResponse> {
    use secrecy::ExposeSecret;
    match &state.config.metrics_token {
        Some(token) => {
            let presented = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::auth::request::bearer);
            let expected = token.expose_secret().as_bytes();
            // Digests compared, so the comparison's time says nothing about the token.
            let allowed = presented.is_some_and(|p| {
                crate::auth::sha256_hex(p.as_bytes()) == crate::auth::sha256_hex(expected)
            });
            (!allowed).then(|| {
                HttpResponse::Unauthorized()
                    .insert_header((actix_web::http::header::WWW_AUTHENTICATE, "Bearer"))
                    .finish()
            })
        }
        None if state.config.is_production() => Some(HttpResponse::NotFound().finish()),
        None => None,
    }
}

fn run(listener: TcpListener, state: AppState) -> Result<Server, StartupError> {
    let schema = schema::build(&state.config).map_err(err)?;
    let registry = Registry::new();
    registry
        .register(Box::new(state.statements.collector()))
        .map_err(err)?;
    state.metrics.register(&registry).map_err(err)?;
    #[cfg(target_os = "linux")]
    registry
        .register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))
        .map_err(err)?;
    let in_flight = IntGauge::new(
        "pearls_http_requests_in_flight",
        "HTTP requests being handled now (not counting /metrics)",
    )
    .map_err(err)?;
    registry
        .register(Box::new(in_flight.clone()))
        .map_err(err)?;
    if let Some(cache) = &state.response_cache {
        cache.register(&registry).map_err(err)?;
    }
    let metrics = PrometheusMetricsBuilder::new("pearls")
        .registry(registry)
        .endpoint("/metrics")
        // Unknown paths share one label: a scan of random URLs must not grow the registry.
        .mask_unmatched_patterns("UNKNOWN")
        .build()
        .map_err(err)?;
    let max_body = state.config.max_body_bytes;
    let config_grace = state.config.shutdown_grace_secs;
    let data = web::Data::new(state.clone());
    let schema = web::Data::new(schema);
    let config = state.config.clone();
    let server = HttpServer::new(move || {
        let in_flight = in_flight.clone();
        let node = data.clone();
        App::new()
            .wrap(cors(&config))
            .wrap(metrics.clone())
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                use actix_web::http::Method;
                // The methods the API serves; any other is refused here, before the metrics
                // middleware labels it (a label per invented method would grow the registry).
                if ![Method::GET, Method::HEAD, Method::POST, Method::OPTIONS]
                    .contains(req.method())
                {
                    let refused = actix_web::HttpResponse::MethodNotAllowed()
                        .insert_header((actix_web::http::header::ALLOW, "GET, HEAD, POST, OPTIONS"))
                        .json(serde_json::json!({ "errors": [{
                            "message": "the API answers GET, HEAD, POST and OPTIONS only",
                            "extensions": { "code": crate::error::code::BAD_USER_INPUT },
                        }] }));
                    let res = req.into_response(refused).map_into_boxed_body();
                    return Box::pin(async move { Ok(res) })
                        as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>;
                }
                if req.path() == "/metrics" {
                    if let Some(refused) = metrics_refusal(&req, &node) {
                        let res = req.into_response(refused).map_into_boxed_body();
                        return Box::pin(async move { Ok(res) })
                            as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>;
                    }
                    node.metrics.pool(&node.db, &node.lane);
                }
                let id = req.extensions().get::<RequestId>().map(|r| r.to_string());
                let counted = (req.path() != "/metrics").then(|| InFlight::enter(&in_flight));
                let fut = srv.call(req);
                Box::pin(async move {
                    let mut res = fut.await?;
                    drop(counted);
                    if let Some(id) = id.and_then(|i| HeaderValue::from_str(&i).ok()) {
                        res.headers_mut()
                            .insert(HeaderName::from_static("x-request-id"), id);
                    }
                    Ok(res.map_into_boxed_body())
                })
            })
            .wrap(TracingLogger::default())
            .app_data(web::PayloadConfig::new(max_body))
            // A query string that does not parse (`?period=abc`) is the contract's
            // BAD_USER_INPUT in the usual error body, not the framework's plain-text 400.
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                let e = crate::error::AppError::bad_input(
                    "query",
                    format!("the query string is not valid: {err}"),
                );
                actix_web::error::InternalError::from_response(err, e.http_response()).into()
            }))
            .app_data(data.clone())
            .app_data(schema.clone())
            .configure(crate::http::routes)
    })
    // Signals are ours (`run_until_stopped`): the sockets must be told before the workers
    // wait for their connections to end.
    .disable_signals()
    .shutdown_timeout(config_grace)
    .listen(listener)
    .map_err(err)?
    .run();
    Ok(server)
}
