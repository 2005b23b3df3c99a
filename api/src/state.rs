//! What every request handler shares: the pool, the configuration and the keys.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::jwt::TokenKeys;
use crate::auth::password::Passwords;
use crate::config::Config;
use crate::db::StatementCounter;
use crate::live::EventBus;

/// Cheap to clone; one per process.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Connections of their own for the authenticating statement (`db/lane.rs`).
    pub lane: Arc<crate::db::lane::ReadLane>,
    pub config: Arc<Config>,
    pub keys: Arc<TokenKeys>,
    pub passwords: Passwords,
    pub statements: StatementCounter,
    /// This node's live events (fed by LISTEN on PostgreSQL).
    pub live: EventBus,
    /// The clock expiry decisions are made by (moved forward only by tests).
    pub clock: crate::clock::Clock,
    /// Tells long-lived work (subscription sockets) that the server is shutting down.
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    /// This node's response cache (`None` when `PEARLS_RESPONSE_CACHE=false`).
    pub response_cache: Option<Arc<crate::graphql::cache::ResponseCache>>,
    /// This node's GraphQL, pool and socket figures for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Per-principal request budgets (`None` when `PEARLS_RATE_LIMIT_PER_MINUTE=0`).
    pub budgets: Option<Arc<crate::ratelimit::Budgets>>,
}
