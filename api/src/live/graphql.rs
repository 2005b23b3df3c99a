//! The `Subscription` root: live application status changes and plan comments, each delivered
//! only to subscribers whose scope contains the changed row at the moment it is delivered.

use std::sync::Arc;

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use entity::{application, application_status_change, edition, plan_comment};
use futures_util::Stream;
use sea_orm::{ColumnTrait, QueryFilter};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::Event;
use crate::applications::types::{Application, StatusChange};
use crate::auth::request::current_principal;
use crate::error::{AppError, AppResult};
use crate::graphql::context::{RequestContext, req};
use crate::graphql::ids;
use crate::plans::types::{Plan, PlanComment};
use crate::policy::{Actor, scope};

/// An application moved in its lifecycle.
#[derive(SimpleObject)]
pub struct ApplicationStatusEvent {
    /// The application as it is now.
    pub application: Application,
    /// The status change (from, to, who, when, note).
    pub change: StatusChange,
}

/// A comment was added to a CuReAP plan.
#[derive(SimpleObject)]
pub struct PlanCommentEvent {
    /// The plan commented on.
    pub plan: Plan,
    /// The new comment.
    pub comment: PlanComment,
}

/// Whether the subscriber may still receive events: signed in with an unexpired token, and
/// still the same active user with the same role and organisation (otherwise the stream ends and
/// the client reconnects, authenticating afresh).
async fn still_valid(rc: &RequestContext) -> AppResult<bool> {
    let Actor::User(p) = &rc.actor else {
        return Ok(false);
    };
    if rc
        .token_expires_at
        .is_some_and(|exp| exp <= chrono::Utc::now())
    {
        return Ok(false);
    }
    Ok(current_principal(rc.db(), p.user_id, rc.session)
        .await?
        .is_some_and(|(now, _)| now.role == p.role && now.organisation_id == p.organisation_id))
}

/// Turns the bus into the stream of one subscription: each event is checked by `pick` (which
/// loads it through the subscriber's scope and returns `None` for events it may not see); the
/// stream ends when the subscriber's session is no longer valid or the bus closes.
fn stream<T, F, Fut>(rc: Arc<RequestContext>, pick: F) -> impl Stream<Item = T>
where
    T: Send + 'static,
    F: Fn(Arc<RequestContext>, Event) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = AppResult<Option<T>>> + Send,
{
    let rx = rc.state.live.subscribe();
    futures_util::stream::unfold((rx, rc, pick), |(mut rx, rc, pick)| async move {
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "a slow subscriber skipped events");
                    continue;
                }
                Err(RecvError::Closed) => return None,
            };
            match still_valid(&rc).await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(_) => continue,
            }
            match pick(rc.clone(), event).await {
                Ok(Some(item)) => return Some((item, (rx, rc, pick))),
                Ok(None) => continue,
                Err(e) => {
                    e.log();
                    continue;
                }
            }
        }
    })
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
    ) -> Result<impl Stream<Item = ApplicationStatusEvent>> {
        let rc = ctx.data_unchecked::<Arc<RequestContext>>().clone();
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
        Ok(stream(rc, move |rc, event| async move {
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
                application: app.into(),
                change: change.into(),
            }))
        }))
    }

    /// New comments on the CuReAP plans the caller may see; optionally on one plan only.
    /// Signed-in users only.
    async fn plan_comment_added(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only comments on this plan.")] plan_id: Option<ID>,
    ) -> Result<impl Stream<Item = PlanCommentEvent>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let rc = ctx.data_unchecked::<Arc<RequestContext>>().clone();
        let only_plan = plan_id
            .map(|id| ids::decode(&id, "Plan", "planId"))
            .transpose()?;
        Ok(stream(rc, move |rc, event| async move {
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
                plan: plan.into(),
                comment: comment.into(),
            }))
        }))
    }
}
