//! Live events for subscriptions: what changed, by id only. Subscribers load the changed rows
//! themselves, through their own scopes, so an event reaches a subscriber only as far as the
//! access policy lets them see it.
//!
//! Delivery:
//! - **PostgreSQL**: the writing transaction runs `pg_notify` before it commits. PostgreSQL
//!   delivers the notification at commit (never for a rolled-back change) to every API node
//!   that LISTENs, including the writer's own; each node's [`listen`] task feeds its local bus.
//!   So N nodes behind a load balancer all deliver every event. (LISTEN needs the primary, not
//!   a read replica.)
//! - **SQLite** (one process): the event goes onto the local bus right after the commit.
//!
//! The local bus is a bounded broadcast channel: a subscriber too slow to keep up skips the
//! events it missed (it is told nothing; the client re-reads on reconnect), and never slows the
//! writers.

pub mod graphql;

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::error::AppResult;

/// The PostgreSQL channel the nodes listen on.
pub const CHANNEL: &str = "pearls_events";

/// Events kept for slow subscribers before they skip.
const BUS_CAPACITY: usize = 1024;

/// Something that changed, by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Event {
    /// An application moved in its lifecycle (a new status-history row).
    #[serde(rename_all = "camelCase")]
    ApplicationStatusChanged {
        application_id: Uuid,
        status_change_id: Uuid,
    },
    /// A comment was added to a CuReAP plan.
    #[serde(rename_all = "camelCase")]
    PlanCommentAdded { plan_id: Uuid, comment_id: Uuid },
}

/// The node's event bus. Cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BUS_CAPACITY).0,
        }
    }
}

impl EventBus {
    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    fn deliver(&self, event: Event) {
        // No subscriber is not an error.
        let _ = self.sender.send(event);
    }

    /// Commits a write transaction together with its events: on PostgreSQL they are notified
    /// inside the transaction (and delivered only if it commits); on SQLite they are delivered
    /// after the commit succeeded.
    pub async fn commit(&self, txn: DatabaseTransaction, events: Vec<Event>) -> AppResult<()> {
        if txn.get_database_backend() == DbBackend::Postgres {
            for e in &events {
                let payload = serde_json::to_string(e)
                    .map_err(|err| crate::error::AppError::internal(err.to_string()))?;
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                ))
                .await?;
            }
            txn.commit().await?;
        } else {
            txn.commit().await?;
            for e in events {
                self.deliver(e);
            }
        }
        Ok(())
    }
}

/// On PostgreSQL, listens on [`CHANNEL`] for the whole life of the process and feeds the local
/// bus; reconnects (with a pause) if the connection is lost. Returns at once on SQLite.
pub async fn listen(db: &DatabaseConnection, url: &str, bus: EventBus) -> AppResult<()> {
    use sea_orm::sqlx::postgres::PgListener;
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let mut listener = PgListener::connect(url)
        .await
        .map_err(|e| crate::error::AppError::internal(format!("LISTEN connection: {e}")))?;
    listener
        .listen(CHANNEL)
        .await
        .map_err(|e| crate::error::AppError::internal(format!("LISTEN {CHANNEL}: {e}")))?;
    tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(n) => match serde_json::from_str::<Event>(n.payload()) {
                    Ok(event) => bus.deliver(event),
                    Err(e) => tracing::warn!(error = %e, "ignoring a malformed event"),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "event listener lost its connection; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_travel_as_small_tagged_json() {
        let e = Event::ApplicationStatusChanged {
            application_id: Uuid::nil(),
            status_change_id: Uuid::nil(),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            json.starts_with(r#"{"kind":"applicationStatusChanged","applicationId""#),
            "{json}"
        );
        assert!(json.len() < 200);
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
    }
}
