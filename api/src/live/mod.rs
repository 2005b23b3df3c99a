//! Live events for subscriptions: what changed, by id only. Subscribers load the changed rows
//! themselves, through their own scopes, so an event reaches a subscriber only as far as the
//! access policy lets them see it.
//!
//! Every event is first a row of the event log (`live_event`), written by the changing
//! transaction and numbered in commit order: writers that emit events serialise on the log
//! (PostgreSQL: a transaction-level advisory lock taken just before the insert and held to the
//! commit; SQLite: one writer at a time anyway), so a later commit always has a larger number.
//! The number is the event's cursor. That is what makes subscriptions lose nothing:
//! - a client that reconnects with `after: <cursor>` is first sent the events since then that
//!   it may see (at most [`REPLAY_EVENTS`] events of the last [`REPLAY_WINDOW_HOURS`] hours),
//!   then the live ones, with no gap and no duplicate;
//! - a subscriber that fell behind the bus, or whose node lost its `LISTEN` connection for a
//!   while, reads what it missed from the log.
//!
//! Delivery:
//! - **PostgreSQL**: the writing transaction runs `pg_notify` before it commits. PostgreSQL
//!   delivers the notification at commit (never for a rolled-back change) to every API node
//!   that LISTENs, including the writer's own; each node's [`listen`] task feeds its local bus.
//!   So N nodes behind a load balancer all deliver every event. (LISTEN needs the primary, not
//!   a read replica.)
//! - **SQLite** (one process): the event goes onto the local bus right after the commit.

pub mod graphql;

use std::time::Duration;

use entity::live_event;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The PostgreSQL channel the nodes listen on.
pub const CHANNEL: &str = "pearls_events";

/// The advisory-lock key event writers serialise on (PostgreSQL), so the log's numbers follow
/// commit order: "pearls_live_event" folded into 63 bits.
const LOG_LOCK: i64 = 0x7065_6172_6c73_6c76;

/// Items kept on the bus for slow subscribers; one that falls further behind reads the log.
const BUS_CAPACITY: usize = 1024;

/// How far back a reconnecting subscription may start: the log keeps this many hours.
pub const REPLAY_WINDOW_HOURS: i64 = 24;

/// At most this many events are replayed to a reconnecting subscription (the ones it may not
/// see included); a cursor further behind is refused, and the client reloads instead.
pub const REPLAY_EVENTS: u64 = 1000;

/// Why a subscription socket closes, as a WebSocket close code (README, "Failure modes").
/// The client reconnects — after refreshing its token where the code says so — and passes the
/// cursor of the last event it received, so nothing is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
}

impl Close {
    /// The access token expired, its session ended (logout, revocation) or the user was
    /// deactivated: refresh the token (or sign in) and reconnect.
    pub const SESSION_ENDED: Close = Close {
        code: 4401,
        reason: "session ended: refresh the access token and reconnect",
    };
    /// The user's role or organisation changed: reconnect with a fresh token for the new rights.
    pub const RIGHTS_CHANGED: Close = Close {
        code: 4403,
        reason: "rights changed: refresh the access token and reconnect",
    };
    /// The database could not be read to deliver an event: reconnect a little later.
    pub const TRY_AGAIN_LATER: Close = Close {
        code: 1013,
        reason: "the database is unavailable: reconnect later with the last cursor",
    };
    /// The server is shutting down: reconnect (to another node).
    pub const GOING_AWAY: Close = Close {
        code: 1001,
        reason: "the server is shutting down: reconnect",
    };
}

/// A subscription's way to ask its WebSocket to close (the socket's handler holds the other
/// end). Cheap to clone; closing twice keeps the first reason.
#[derive(Clone)]
pub struct SocketControl(tokio::sync::mpsc::UnboundedSender<Close>);

impl SocketControl {
    /// A control and the receiver the socket's handler watches.
    pub fn new() -> (Self, tokio::sync::mpsc::UnboundedReceiver<Close>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    /// Asks the socket to close.
    pub fn close(&self, close: Close) {
        let _ = self.0.send(close);
    }
}

/// An event with its place in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub seq: i64,
    pub event: Event,
}

/// What the bus carries.
#[derive(Clone, Debug)]
pub enum BusItem {
    /// A committed event.
    Event(Logged),
    /// The node may have missed events (its `LISTEN` connection was lost and is back):
    /// subscribers read the log from their last cursor.
    Resync,
}

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
    sender: broadcast::Sender<BusItem>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BUS_CAPACITY).0,
        }
    }
}

impl EventBus {
    /// A receiver of every item from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<BusItem> {
        self.sender.subscribe()
    }

    fn deliver(&self, item: BusItem) {
        // No subscriber is not an error.
        let _ = self.sender.send(item);
    }

    /// Commits a write transaction together with its events: each is logged in the
    /// transaction (numbered in commit order); on PostgreSQL it is also notified inside the
    /// transaction (delivered only if it commits); on SQLite it goes on the bus after the
    /// commit succeeded.
    pub async fn commit(&self, txn: DatabaseTransaction, events: Vec<Event>) -> AppResult<()> {
        let postgres = txn.get_database_backend() == DbBackend::Postgres;
        if postgres && !events.is_empty() {
            // Held to the commit: the next writer's numbers come after ours are committed.
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [LOG_LOCK.into()],
            ))
            .await?;
        }
        let mut logged = Vec::with_capacity(events.len());
        for event in events {
            let payload = serde_json::to_string(&event)
                .map_err(|e| AppError::internal_from("encoding an event", e))?;
            let row = live_event::ActiveModel {
                occurred_at: Set(chrono::Utc::now()),
                payload: Set(payload.clone()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            if postgres {
                let note = serde_json::json!({ "seq": row.seq, "event": event }).to_string();
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), note.into()],
                ))
                .await?;
            }
            logged.push(Logged {
                seq: row.seq,
                event,
            });
        }
        crate::db::commit(txn).await?;
        if !postgres {
            for l in logged {
                self.deliver(BusItem::Event(l));
            }
        }
        Ok(())
    }
}

/// The number of the newest logged event (0 when there is none): where a subscription without
/// a cursor starts.
pub async fn newest(db: &impl ConnectionTrait) -> AppResult<i64> {
    Ok(live_event::Entity::find()
        .select_only()
        .column_as(live_event::Column::Seq.max(), "seq")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// The logged events after `after`, oldest first, at most `limit`.
pub async fn since(db: &impl ConnectionTrait, after: i64, limit: u64) -> AppResult<Vec<Logged>> {
    let rows = live_event::Entity::find()
        .filter(live_event::Column::Seq.gt(after))
        .order_by_asc(live_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            let event = serde_json::from_str(&r.payload)
                .map_err(|e| AppError::internal_from("decoding a logged event", e))?;
            Ok(Logged { seq: r.seq, event })
        })
        .collect()
}

/// Whether a reconnecting subscription may start after `after`: the log still holds every
/// event since (the oldest kept row is at most `after + 1`, or nothing newer was ever
/// logged), within the window, and not more than [`REPLAY_EVENTS`] of them.
pub async fn replayable(db: &impl ConnectionTrait, after: i64) -> AppResult<bool> {
    let oldest: Option<(i64, chrono::DateTime<chrono::Utc>)> = live_event::Entity::find()
        .select_only()
        .column(live_event::Column::Seq)
        .column(live_event::Column::OccurredAt)
        .filter(live_event::Column::Seq.gt(after))
        .order_by_asc(live_event::Column::Seq)
        .into_tuple()
        .one(db)
        .await?;
    let Some((first, at)) = oldest else {
        // Nothing after the cursor: replayable if the cursor is not from the future.
        return Ok(after <= newest(db).await?);
    };
    let window = chrono::Utc::now() - chrono::Duration::hours(REPLAY_WINDOW_HOURS);
    let pruned_since = first > after + 1 && after < pruned_below(db).await?;
    let count = live_event::Entity::find()
        .filter(live_event::Column::Seq.gt(after))
        .select_only()
        .column(live_event::Column::Seq)
        .limit(REPLAY_EVENTS + 1)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .len() as u64;
    Ok(at >= window && !pruned_since && count <= REPLAY_EVENTS)
}

/// Events numbered below this were swept (or never existed): the oldest kept number, or one
/// past the newest when the log is empty.
async fn pruned_below(db: &impl ConnectionTrait) -> AppResult<i64> {
    let oldest: Option<i64> = live_event::Entity::find()
        .select_only()
        .column_as(live_event::Column::Seq.min(), "seq")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(oldest.unwrap_or(0))
}

/// Deletes logged events older than the replay window (run by the janitor).
pub async fn sweep(db: &impl ConnectionTrait) -> AppResult<u64> {
    let before = chrono::Utc::now() - chrono::Duration::hours(REPLAY_WINDOW_HOURS);
    Ok(live_event::Entity::delete_many()
        .filter(live_event::Column::OccurredAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// The opaque cursor of a logged event.
pub fn cursor(seq: i64) -> String {
    crate::graphql::ids::opaque(&format!("live:{seq}"))
}

/// The event number a cursor names, or BAD_USER_INPUT.
pub fn decode_cursor(cursor: &str) -> AppResult<i64> {
    crate::graphql::ids::unopaque(cursor)
        .and_then(|s| s.strip_prefix("live:").and_then(|n| n.parse().ok()))
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(|| AppError::bad_input("after", "not a cursor of a live event"))
}

/// On PostgreSQL, listens on [`CHANNEL`] for the whole life of the process and feeds the local
/// bus. When the connection is lost it reconnects (every half second, each attempt bounded by
/// a second) and then puts [`BusItem::Resync`] on the bus: notifications sent meanwhile are
/// gone, but their events are in the log, where every subscriber reads what it missed. Returns
/// at once on SQLite.
pub async fn listen(db: &DatabaseConnection, url: &str, bus: EventBus) -> AppResult<()> {
    use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    // The listener's own one-connection pool, with short waits: its reconnections are ours.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(1))
        .connect(url)
        .await
        .map_err(|e| AppError::internal_from("LISTEN connection", e))?;
    let mut listener = PgListener::connect_with(&pool)
        .await
        .map_err(|e| AppError::internal_from("LISTEN connection", e))?;
    listener.eager_reconnect(false);
    listener
        .listen(CHANNEL)
        .await
        .map_err(|e| AppError::internal_from("LISTEN", e))?;
    tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => match serde_json::from_str::<Notified>(n.payload()) {
                    Ok(Notified { seq, event }) => {
                        bus.deliver(BusItem::Event(Logged { seq, event }))
                    }
                    Err(e) => tracing::warn!(error = %e, "ignoring a malformed event"),
                },
                Ok(None) | Err(_) => {
                    tracing::warn!("event listener lost its connection; reconnecting");
                    while let Err(e) = listener.listen_all(std::iter::empty::<&str>()).await {
                        tracing::debug!(error = %e, "event listener still reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    tracing::info!("event listener reconnected");
                    bus.deliver(BusItem::Resync);
                }
            }
        }
    });
    Ok(())
}

/// The notification's payload: the logged event and its number.
#[derive(Deserialize)]
struct Notified {
    seq: i64,
    event: Event,
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
        let note = serde_json::json!({ "seq": 7, "event": e }).to_string();
        let back: Notified = serde_json::from_str(&note).unwrap();
        assert_eq!((back.seq, back.event), (7, e));
    }

    #[test]
    fn cursors_are_opaque_and_checked() {
        let c = cursor(42);
        assert!(!c.contains("42"));
        assert_eq!(decode_cursor(&c).unwrap(), 42);
        assert!(decode_cursor("live:42").is_err());
        assert!(decode_cursor(&crate::graphql::ids::opaque("live:-1")).is_err());
    }
}
