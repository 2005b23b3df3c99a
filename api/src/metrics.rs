//! What `/metrics` tells an operator, beside the HTTP figures `actix-web-prom` keeps
//! (`pearls_http_requests_total`, `pearls_http_requests_duration_seconds`):
//!
//! - `pearls_graphql_operations_total` and `pearls_graphql_operation_duration_seconds`, by
//!   operation name and type. Names are bounded: the first [`MAX_NAMES`] distinct valid names a
//!   node sees are kept, every later or anonymous one counts as `other`/`anonymous`, so a client
//!   inventing names cannot grow the registry;
//! - `pearls_graphql_errors_total` by `extensions.code` (a fixed set);
//! - `pearls_db_statements_total`, `pearls_db_pool_connections` and
//!   `pearls_db_read_lane_connections` (in use, idle; `db/lane.rs`);
//! - `pearls_subscription_sockets_open`, `pearls_http_requests_in_flight`;
//! - the response cache's counters (`graphql/cache.rs`) and the process's own (`process_*`:
//!   CPU seconds, resident memory, open file descriptors, start time).
//!
//! Every figure is per node: a fleet is summed by Prometheus over its targets.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// Distinct operation names a node labels before the rest count as `other`.
pub const MAX_NAMES: usize = 200;

/// The GraphQL and pool figures; registered with the node's registry at start.
pub struct Metrics {
    operations: IntCounterVec,
    durations: HistogramVec,
    errors: IntCounterVec,
    pool: IntGaugeVec,
    lane: IntGaugeVec,
    /// Open graphql-transport-ws sockets.
    pub sockets: prometheus::IntGauge,
    names: Mutex<HashSet<String>>,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        Ok(Self {
            operations: IntCounterVec::new(
                Opts::new(
                    "pearls_graphql_operations_total",
                    "GraphQL operations executed, by operation name and type",
                ),
                &["operation", "type"],
            )?,
            durations: HistogramVec::new(
                HistogramOpts::new(
                    "pearls_graphql_operation_duration_seconds",
                    "Time to execute a GraphQL operation (authentication included), by operation name and type",
                )
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ]),
                &["operation", "type"],
            )?,
            errors: IntCounterVec::new(
                Opts::new(
                    "pearls_graphql_errors_total",
                    "GraphQL errors answered, by extensions.code",
                ),
                &["code"],
            )?,
            pool: IntGaugeVec::new(
                Opts::new(
                    "pearls_db_pool_connections",
                    "Database pool connections of this node, by state (in_use, idle)",
                ),
                &["state"],
            )?,
            lane: IntGaugeVec::new(
                Opts::new(
                    "pearls_db_read_lane_connections",
                    "Read-lane connections of this node, by state (in_use, idle)",
                ),
                &["state"],
            )?,
            sockets: prometheus::IntGauge::new(
                "pearls_subscription_sockets_open",
                "Subscription WebSocket connections open on this node",
            )?,
            names: Mutex::new(HashSet::new()),
        })
    }

    /// Adds these figures to `registry`.
    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.operations.clone()))?;
        registry.register(Box::new(self.durations.clone()))?;
        registry.register(Box::new(self.errors.clone()))?;
        registry.register(Box::new(self.pool.clone()))?;
        registry.register(Box::new(self.lane.clone()))?;
        registry.register(Box::new(self.sockets.clone()))
    }

    /// The label of an operation name: itself while the node has room, else `other`.
    fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".into();
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return "other".into();
        }
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if names.contains(name) || names.len() < MAX_NAMES {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// One executed operation: its name (as the client named it, or none), its type
    /// (`query`, `mutation`, `subscription`, or `unknown` when it did not parse), how long
    /// it took, and the codes of its errors.
    pub fn operation<'a>(
        &self,
        name: Option<&str>,
        kind: &str,
        took: Duration,
        codes: impl Iterator<Item = &'a str>,
    ) {
        let name = self.label(name);
        self.operations.with_label_values(&[&name, kind]).inc();
        self.durations
            .with_label_values(&[&name, kind])
            .observe(took.as_secs_f64());
        for code in codes {
            self.errors.with_label_values(&[code]).inc();
        }
    }

    /// The pool's and the read lane's connections now.
    pub fn pool(&self, db: &sea_orm::DatabaseConnection, lane: &crate::db::lane::ReadLane) {
        let (size, idle) = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let p = db.get_postgres_connection_pool();
                (p.size(), p.num_idle())
            }
            _ => {
                let p = db.get_sqlite_connection_pool();
                (p.size(), p.num_idle())
            }
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(size - idle));
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        let (in_use, idle) = lane.connections();
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.lane.with_label_values(&["in_use"]).set(gauge(in_use));
        self.lane.with_label_values(&["idle"]).set(gauge(idle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        let m = Metrics::new().unwrap();
        assert_eq!(m.label(None), "anonymous");
        assert_eq!(m.label(Some("Dashboard")), "Dashboard");
        assert_eq!(m.label(Some("not a name")), "other");
        assert_eq!(m.label(Some(&"x".repeat(65))), "other");
        for i in 0..MAX_NAMES * 2 {
            m.label(Some(&format!("Op{i}")));
        }
        assert_eq!(m.label(Some("Dashboard")), "Dashboard", "known names stay");
        assert_eq!(m.label(Some("BrandNew")), "other");
        assert_eq!(m.names.lock().unwrap().len(), MAX_NAMES);
    }
}
