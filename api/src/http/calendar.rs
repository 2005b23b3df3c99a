//! iCalendar downloads: `GET /events/{id}.ics` (any event the caller may see; public events
//! without signing in), `GET /me/events.ics` (the caller's registrations, with the bearer
//! token), and `GET /calendar/{secret}.ics` (the same feed for calendar apps, which cannot send
//! headers: the secret from `createCalendarFeed` is the credential, revocable by creating a new
//! one).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use entity::{event, participation};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::auth::request::authenticate;
use crate::error::AppError;
use crate::events::{calendar, service};
use crate::policy::{Actor, scope};
use crate::ratelimit::Budgets;
use crate::state::AppState;

fn error(err: AppError) -> HttpResponse {
    err.http_response()
}

fn ics(body: String, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/calendar; charset=utf-8"),
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(body)
}

fn base(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

async fn actor(req: &HttpRequest, state: &AppState) -> Result<Actor, AppError> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    Ok(authenticate(state, authorization).await?.actor)
}

/// `GET /events/{id}.ics`.
pub async fn one(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let run = async {
        let raw = path.into_inner();
        let id = Uuid::parse_str(&raw).map_err(|_| AppError::not_found("event"))?;
        let actor = actor(&req, &state).await?;
        Budgets::charge(state.budgets.as_deref(), &actor, Budgets::CALENDAR)?;
        let ev = scope::events(&actor)
            .filter(event::Column::Id.eq(id))
            .one(&state.db)
            .await?
            .ok_or_else(|| AppError::not_found("event"))?;
        let name = ev.title.clone();
        Ok::<_, AppError>(calendar::render(&name, &[ev], &base(&req)))
    };
    match run.await {
        Ok(body) => ics(body, "event.ics"),
        Err(e) => error(e),
    }
}

/// The events `user` is registered (or waiting) for, from a year ago on, through their scope.
async fn feed_of(state: &AppState, actor: &Actor) -> Result<Vec<event::Model>, AppError> {
    let p = actor.principal()?;
    let since = chrono::Utc::now() - chrono::Duration::days(365);
    let mine: Vec<Uuid> = scope::participations(actor)
        .filter(participation::Column::UserId.eq(p.user_id))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|r| calendar::in_feed(r.status))
        .map(|r| r.event_id)
        .collect();
    Ok(scope::events(actor)
        .filter(event::Column::Id.is_in(mine))
        .filter(event::Column::EndsAt.gte(since))
        .order_by_asc(event::Column::StartsAt)
        .all(&state.db)
        .await?)
}

/// `GET /me/events.ics` with a bearer token.
pub async fn mine(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let run = async {
        let actor = actor(&req, &state).await?;
        Budgets::charge(state.budgets.as_deref(), &actor, Budgets::CALENDAR)?;
        let events = feed_of(&state, &actor).await?;
        Ok::<_, AppError>(calendar::render(
            "BSR Cultural Pearls — my events",
            &events,
            &base(&req),
        ))
    };
    match run.await {
        Ok(body) => ics(body, "my-events.ics"),
        Err(e) => error(e),
    }
}

/// `GET /calendar/{secret}.ics`.
pub async fn feed(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let run = async {
        let raw = path.into_inner();
        let secret = raw.as_str();
        let owner = service::feed_owner(&state.db, secret)
            .await?
            .ok_or_else(|| AppError::not_found("calendar feed"))?;
        let (principal, _) = crate::auth::request::current_principal(&state.db, owner, None)
            .await?
            .ok_or_else(|| AppError::not_found("calendar feed"))?;
        let actor = Actor::User(principal);
        // A calendar app polls with its owner's budget.
        Budgets::charge(state.budgets.as_deref(), &actor, Budgets::CALENDAR)?;
        let events = feed_of(&state, &actor).await?;
        Ok::<_, AppError>(calendar::render(
            "BSR Cultural Pearls — my events",
            &events,
            &base(&req),
        ))
    };
    match run.await {
        Ok(body) => ics(body, "my-events.ics"),
        Err(e) => error(e),
    }
}
