//! The `Subscription` root: live application status changes and plan comments, each delivered
//! only to subscribers whose scope contains the changed row at the moment it is delivered.

use std::sync::Arc;

use std::collections::VecDeque;

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use entity::{application, application_status_change, edition, plan_comment};
use futures_util::Stream;
use sea_orm::{ColumnTrait, QueryFilter};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::{BusItem, Close, Event, Logged, SocketControl};
use crate::applications::types::{Application, StatusChange};
use crate::auth::request::current_principal;
use crate::error::{AppError, AppResult};
use crate::graphql::context::{RequestContext, req};
use crate::graphql::ids;
use crate::live;
use crate::plans::types::{Plan, PlanComment};
use crate::policy::{Actor, scope};

/// An application moved in its lifecycle.
#[derive(SimpleObject)]
pub struct ApplicationStatusEvent {
    /// This event's place in the event log: pass it as `after` when subscribing again (after a
    /// lost connection) to receive what happened since.
    pub cursor: String,
    /// The application as it is now.
    pub application: Application,
    /// The status change (from, to, who, when, note).
    pub change: StatusChange,
}

/// A comment was added to a CuReAP plan.
#[derive(SimpleObject)]
pub struct PlanCommentEvent {
    /// This event's place in the event log: pass it as `after` when subscribing again (after a
    /// lost connection) to receive what happened since.
    pub cursor: String,
    /// The plan commented on.
    pub plan: Plan,
    /// The new comment.
    pub comment: PlanComment,
}

/// Whether the subscriber may still receive events, and if not, how the socket closes:
/// signed in with an unexpired token of a live session, still the same active user with the
/// same role and organisation.
pub(crate) async fn validity(rc: &RequestContext) -> AppResult<Option<Close>> {
    let Actor::User(p) = &rc.actor else {
        return Ok(Some(Close::SESSION_ENDED));
    };
    if rc
        .token_expires_at
        .is_some_and(|exp| exp <= chrono::Utc::now())
    {
        return Ok(Some(Close::SESSION_ENDED));
    }
    Ok(
        match current_principal(rc.db(), p.user_id, rc.session).await? {
            None => Some(Close::SESSION_ENDED),
            Some((now, _)) if now.role != p.role || now.organisation_id != p.organisation_id => {
                Some(Close::RIGHTS_CHANGED)
            }
            Some(_) => None,
        },
    )
}

/// One subscription's feed: the events after its cursor, from the log first (a replay, or a
/// catch-up after it fell behind or the node's `LISTEN` connection came back), then from the
/// bus, each once and in commit order.
struct Feed<F> {
    rx: broadcast::Receiver<BusItem>,
    rc: Arc<RequestContext>,
    /// The number of the last event this feed has gone past (delivered or not visible).
    last: i64,
    backlog: VecDeque<Logged>,
    pick: F,
}

impl<F> Feed<F> {
    /// Reads what the log holds after `last`. A database that is only just back (the node's
    /// `LISTEN` connection came back first) gets a few tries, half a second apart, before the
    /// error is the caller's.
    async fn catch_up(&mut self) -> AppResult<()> {
        let mut tries = 0;
        loop {
            match live::since(self.rc.db(), self.last, live::REPLAY_EVENTS).await {
                Ok(missed) => {
                    self.backlog.extend(missed);
                    return Ok(());
                }
                Err(AppError::Unavailable(_)) if tries < CATCH_UP_TRIES => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// How often a subscription tries to read what it missed before it closes with 1013.
const CATCH_UP_TRIES: u32 = 6;

/// Turns the log and the bus into the stream of one subscription: each event is checked by
/// `pick` (which loads it through the subscriber's scope and returns `None` for events it may
/// not see). The stream never completes by itself: when the subscriber's session ends or
/// their rights change, or the database cannot be read, it asks the socket to close with the
/// documented code (README, "Failure modes") and the client reconnects with its last cursor.
async fn stream<T, F, Fut>(
    rc: Arc<RequestContext>,
    control: Option<SocketControl>,
    after: Option<String>,
    pick: F,
) -> AppResult<impl Stream<Item = T>>
where
    T: Send + 'static,
    F: Fn(Arc<RequestContext>, Event, String) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = AppResult<Option<T>>> + Send,
{
    // Subscribed before the log is read: nothing committed from here on can be missed.
    let rx = rc.state.live.subscribe();
    let mut feed = Feed {
        rx,
        rc: rc.clone(),
        last: 0,
        backlog: VecDeque::new(),
        pick,
    };
    match after {
        Some(cursor) => {
            let after = live::decode_cursor(&cursor)?;
            if !live::replayable(rc.db(), after).await? {
                return Err(AppError::bad_input(
                    "after",
                    format!(
                        "this cursor is older than the replay window ({} hours, {} events); \
                         reload and subscribe without `after`",
                        live::REPLAY_WINDOW_HOURS,
                        live::REPLAY_EVENTS
                    ),
                ));
            }
            feed.last = after;
            feed.catch_up().await?;
        }
        None => feed.last = live::newest(rc.db()).await?,
    }
    let stop = move |control: &Option<SocketControl>, close: Close| {
        if let Some(c) = control {
            c.close(close);
        }
    };
    Ok(futures_util::stream::unfold(
        (feed, control),
        move |(mut feed, control)| async move {
            loop {
                let logged = match feed.backlog.pop_front() {
                    Some(l) => l,
                    None => match feed.rx.recv().await {
                        Ok(BusItem::Event(l)) if l.seq <= feed.last => continue,
                        Ok(BusItem::Event(l)) => l,
                        Ok(BusItem::Resync) | Err(RecvError::Lagged(_)) => {
                            if let Err(e) = feed.catch_up().await {
                                e.log();
                                stop(&control, Close::TRY_AGAIN_LATER);
                                return futures_util::future::pending().await;
                            }
                            continue;
                        }
                        Err(RecvError::Closed) => return futures_util::future::pending().await,
                    },
                };
                match validity(&feed.rc).await {
                    Ok(None) => {}
                    Ok(Some(close)) => {
                        stop(&control, close);
                        return futures_util::future::pending().await;
                    }
                    Err(e) => {
                        e.log();
                        stop(&control, Close::TRY_AGAIN_LATER);
                        return futures_util::future::pending().await;
                    }
                }
                let seq = logged.seq;
                match (feed.pick)(feed.rc.clone(), logged.event, live::cursor(seq)).await {
                    Ok(Some(item)) => {
                        feed.last = seq;
                        return Some((item, (feed, control)));
                    }
                    Ok(None) => feed.last = seq,
                    // The database cannot be read: close, so the client comes back with its
                    // cursor instead of this event being skipped.
                    Err(e @ AppError::Unavailable(_)) => {
                        e.log();
                        stop(&control, Close::TRY_AGAIN_LATER);
                        return futures_util::future::pending().await;
                    }
                    Err(e) => {
                        e.log();
                        feed.last = seq;
                    }
                }
            }
        },
    ))
}

/// The subscription root.
#[derive(Default)]
pub struct Subscription;

/// Live updates over `/graphql/ws` (graphql-transport-ws; the access token goes in the
/// `connection_init` payload as `{"authorization": "Bearer …"}`). Each event reaches only those
/// who may see the changed object.
#[Subscription]
impl Subscription {
    /// Status changes of the applications the caller may see, as they happen; optionally of one
    /// application or one edition only. Signed-in users only.
    async fn application_status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this application.")] application_id: Option<ID>,
        #[graphql(desc = "Only applications of this title year.")] edition_year: Option<i32>,
        #[graphql(
            desc = "Start after this event (the `cursor` of the last event received): the events since then are sent first, then the live ones, none twice. The log keeps 24 hours and at most 1,000 events after a cursor; an older cursor is refused (BAD_USER_INPUT)."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = ApplicationStatusEvent>> {
        let rc = ctx.data_unchecked::<Arc<RequestContext>>().clone();
        let control = ctx.data_opt::<SocketControl>().cloned();
        rc.actor.principal()?;
        let only_app = application_id
            .map(|id| ids::decode(&id, "Application", "applicationId"))
            .transpose()?;
        let only_edition: Option<Uuid> = match edition_year {
            Some(y) => Some(
                scope::editions(&rc.actor)
                    .filter(edition::Column::TitleYear.eq(y))
                    .one(rc.db())
                    .await
                    .map_err(AppError::from)?
                    .ok_or_else(|| AppError::NotFound(format!("there is no {y} edition")))?
                    .id,
            ),
            None => None,
        };
        Ok(
            stream(rc, control, after, move |rc, event, cursor| async move {
                let Event::ApplicationStatusChanged {
                    application_id,
                    status_change_id,
                } = event
                else {
                    return Ok(None);
                };
                if only_app.is_some_and(|a| a != application_id) {
                    return Ok(None);
                }
                let Some(change) = scope::status_changes(&rc.actor)
                    .filter(application_status_change::Column::Id.eq(status_change_id))
                    .one(rc.db())
                    .await?
                else {
                    return Ok(None);
                };
                let Some(app) = scope::applications(&rc.actor)
                    .filter(application::Column::Id.eq(application_id))
                    .one(rc.db())
                    .await?
                else {
                    return Ok(None);
                };
                if only_edition.is_some_and(|e| e != app.edition_id) {
                    return Ok(None);
                }
                Ok(Some(ApplicationStatusEvent {
                    cursor,
                    application: app.into(),
                    change: change.into(),
                }))
            })
            .await?,
        )
    }

    /// New comments on the CuReAP plans the caller may see; optionally on one plan only.
    /// Signed-in users only.
    async fn plan_comment_added(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only comments on this plan.")] plan_id: Option<ID>,
        #[graphql(
            desc = "Start after this event (the `cursor` of the last event received): the events since then are sent first, then the live ones, none twice. The log keeps 24 hours and at most 1,000 events after a cursor; an older cursor is refused (BAD_USER_INPUT)."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = PlanCommentEvent>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let rc = ctx.data_unchecked::<Arc<RequestContext>>().clone();
        let control = ctx.data_opt::<SocketControl>().cloned();
        let only_plan = plan_id
            .map(|id| ids::decode(&id, "Plan", "planId"))
            .transpose()?;
        Ok(
            stream(rc, control, after, move |rc, event, cursor| async move {
                let Event::PlanCommentAdded {
                    plan_id,
                    comment_id,
                } = event
                else {
                    return Ok(None);
                };
                if only_plan.is_some_and(|p| p != plan_id) {
                    return Ok(None);
                }
                let Some(comment) = scope::plan_comments(&rc.actor)
                    .filter(plan_comment::Column::Id.eq(comment_id))
                    .one(rc.db())
                    .await?
                else {
                    return Ok(None);
                };
                let Some(plan) = scope::plans(&rc.actor)
                    .filter(entity::plan::Column::Id.eq(plan_id))
                    .one(rc.db())
                    .await?
                else {
                    return Ok(None);
                };
                Ok(Some(PlanCommentEvent {
                    cursor,
                    plan: plan.into(),
                    comment: comment.into(),
                }))
            })
            .await?,
        )
    }
}
