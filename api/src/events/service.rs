//! Event use cases, without GraphQL types. Registrations for one event are serialised by
//! locking the event row (PostgreSQL `SELECT … FOR UPDATE`; SQLite's `BEGIN IMMEDIATE` already
//! serialises writers), so concurrent registrations can never over-book it.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::{
    EventKind, ParticipationRole, ParticipationStatus as PS, edition, event, organisation,
    participation, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::domain::{NonEmptyText, parse_url};
use crate::error::{AppError, AppResult};
use crate::kpis::rollup::recount_event;
use crate::policy::{Actor, rules, scope};

/// An event's content, checked.
pub struct EventFields {
    pub kind: EventKind,
    pub title: NonEmptyText,
    pub description: String,
    pub programme: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub organiser_id: Uuid,
    pub edition_id: Option<Uuid>,
    pub is_public: bool,
    pub capacity: Option<i32>,
    pub registration_deadline: Option<DateTime<Utc>>,
}

fn bounded(field: &str, raw: &str, max: usize) -> AppResult<String> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

impl EventFields {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        kind: EventKind,
        title: &str,
        description: &str,
        programme: &str,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        time_zone: &str,
        place: Option<&str>,
        online_url: Option<&str>,
        organiser_id: Uuid,
        edition_id: Option<Uuid>,
        is_public: bool,
        capacity: Option<i32>,
        registration_deadline: Option<DateTime<Utc>>,
    ) -> AppResult<Self> {
        if ends_at <= starts_at {
            return Err(AppError::bad_input("endsAt", "must be after startsAt"));
        }
        let tz = chrono_tz::Tz::from_str(time_zone.trim()).map_err(|_| {
            AppError::bad_input("timeZone", "an IANA time zone such as \"Europe/Riga\"")
        })?;
        if capacity.is_some_and(|c| !(1..=100_000).contains(&c)) {
            return Err(AppError::bad_input(
                "capacity",
                "between 1 and 100000 places (omit for no limit)",
            ));
        }
        if registration_deadline.is_some_and(|d| d > starts_at) {
            return Err(AppError::bad_input(
                "registrationDeadline",
                "must not be after the start",
            ));
        }
        let place = place
            .filter(|p| !p.trim().is_empty())
            .map(|p| NonEmptyText::parse("place", p, 300).map(NonEmptyText::into_inner))
            .transpose()?;
        let online_url = online_url
            .filter(|u| !u.trim().is_empty())
            .map(|u| parse_url("onlineUrl", u))
            .transpose()?;
        Ok(Self {
            kind,
            title: NonEmptyText::parse("title", title, 300)?,
            description: bounded("description", description, 20_000)?,
            programme: bounded("programme", programme, 50_000)?,
            starts_at,
            ends_at,
            time_zone: tz.name().to_owned(),
            place,
            online_url,
            organiser_id,
            edition_id,
            is_public,
            capacity,
            registration_deadline,
        })
    }
}

async fn check_refs(db: &impl ConnectionTrait, actor: &Actor, f: &EventFields) -> AppResult<()> {
    rules::manage_event(actor, f.organiser_id)?;
    scope::organisations(actor)
        .filter(organisation::Column::Id.eq(f.organiser_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("organiserId", "no such organisation"))?;
    if let Some(e) = f.edition_id {
        edition::Entity::find_by_id(e)
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("editionId", "no such edition"))?;
    }
    Ok(())
}

fn write_fields(am: &mut event::ActiveModel, f: EventFields) {
    am.kind = Set(f.kind);
    am.title = Set(f.title.into_inner());
    am.description = Set(f.description);
    am.programme = Set(f.programme);
    am.starts_at = Set(f.starts_at);
    am.ends_at = Set(f.ends_at);
    am.time_zone = Set(f.time_zone);
    am.place = Set(f.place);
    am.online_url = Set(f.online_url);
    am.organiser_id = Set(f.organiser_id);
    am.edition_id = Set(f.edition_id);
    am.is_public = Set(f.is_public);
    am.capacity = Set(f.capacity);
    am.registration_deadline = Set(f.registration_deadline);
    am.updated_at = Set(Utc::now());
}

/// Creates an event (coordinators for any organiser, partners for their own organisation).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    f: EventFields,
) -> AppResult<event::Model> {
    let p = rules::manage_event(actor, f.organiser_id)?;
    let txn = begin_write(db).await?;
    check_refs(&txn, actor, &f).await?;
    let now = Utc::now();
    let mut am = event::ActiveModel {
        id: Set(Uuid::now_v7()),
        cancelled_at: Set(None),
        created_by: Set(Some(p.user_id)),
        created_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    write_fields(&mut am, f);
    let model = am.insert(&txn).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "event.create",
        "Event",
        model.id,
        json!({ "title": model.title, "kind": model.kind.as_str(), "startsAt": model.starts_at,
                "capacity": model.capacity }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Locks an event visible to the actor for the rest of the transaction.
async fn locked(txn: &DatabaseTransaction, actor: &Actor, id: Uuid) -> AppResult<event::Model> {
    crate::db::for_update(scope::events(actor).filter(event::Column::Id.eq(id)), txn)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("event"))
}

/// Fills free places from the waiting list, first come first served.
async fn promote(txn: &DatabaseTransaction, ev: &event::Model) -> AppResult<Vec<Uuid>> {
    let Some(capacity) = ev.capacity else {
        // No limit: nobody should be waiting.
        let waiting = participation::Entity::find()
            .filter(participation::Column::EventId.eq(ev.id))
            .filter(participation::Column::Status.eq(PS::Waitlisted))
            .all(txn)
            .await?;
        return promote_rows(txn, waiting).await;
    };
    let registered = participation::Entity::find()
        .filter(participation::Column::EventId.eq(ev.id))
        .filter(participation::Column::Status.eq(PS::Registered))
        .count(txn)
        .await? as i64;
    let free = capacity as i64 - registered;
    if free <= 0 {
        return Ok(Vec::new());
    }
    let waiting = participation::Entity::find()
        .filter(participation::Column::EventId.eq(ev.id))
        .filter(participation::Column::Status.eq(PS::Waitlisted))
        .order_by_asc(participation::Column::RegisteredAt)
        .order_by_asc(participation::Column::Id)
        .limit(free as u64)
        .all(txn)
        .await?;
    promote_rows(txn, waiting).await
}

async fn promote_rows(
    txn: &DatabaseTransaction,
    rows: Vec<participation::Model>,
) -> AppResult<Vec<Uuid>> {
    let mut promoted = Vec::new();
    for row in rows {
        let id = row.id;
        let version = row.version;
        let mut am: participation::ActiveModel = row.into();
        am.status = Set(PS::Registered);
        am.updated_at = Set(Utc::now());
        am.version = Set(version + 1);
        am.update(txn).await?;
        promoted.push(id);
    }
    Ok(promoted)
}

/// Replaces an event's content (its managers). More places promote from the waiting list;
/// fewer places keep everyone already registered (nobody is bumped).
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    f: EventFields,
) -> AppResult<event::Model> {
    rules::organise_events(actor)?;
    let txn = begin_write(db).await?;
    let current = locked(&txn, actor, id).await?;
    let p = rules::manage_event(actor, current.organiser_id)?;
    check_refs(&txn, actor, &f).await?;
    if current.version != expected_version {
        return Err(AppError::stale_version("event"));
    }
    let mut am: event::ActiveModel = current.clone().into();
    write_fields(&mut am, f);
    am.version = Set(current.version + 1);
    let updated = am.update(&txn).await?;
    let promoted = promote(&txn, &updated).await?;
    recount_event(&txn, id).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "event.update",
        "Event",
        id,
        json!({ "version": updated.version, "capacity": updated.capacity, "promoted": promoted }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// Cancels an event (its managers): registrations stay as they are, no new ones are taken, and
/// calendars show it as cancelled.
pub async fn cancel(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    reason: Option<String>,
) -> AppResult<event::Model> {
    rules::organise_events(actor)?;
    let txn = begin_write(db).await?;
    let current = locked(&txn, actor, id).await?;
    let p = rules::manage_event(actor, current.organiser_id)?;
    if current.cancelled_at.is_some() {
        return Err(AppError::conflict("the event is already cancelled"));
    }
    let mut am: event::ActiveModel = current.clone().into();
    am.cancelled_at = Set(Some(Utc::now()));
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "event.cancel",
        "Event",
        id,
        json!({ "reason": reason }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// Registers a user for an event: the caller themselves, or — for the event's managers — anyone
/// they can see. A place if one is free, otherwise the waiting list. Self-registration closes at
/// the registration deadline (or the start); managers may still add people afterwards.
pub async fn register(
    db: &DatabaseConnection,
    actor: &Actor,
    event_id: Uuid,
    user_id: Option<Uuid>,
    role: ParticipationRole,
) -> AppResult<participation::Model> {
    let p = actor.principal()?;
    let txn = begin_write(db).await?;
    let ev = locked(&txn, actor, event_id).await?;
    let who = user_id.unwrap_or(p.user_id);
    rules::register_for_event(actor, ev.organiser_id, who, role)?;
    // Managers may still add people after self-registration closed.
    let manager = rules::manages_event(actor, ev.organiser_id);
    let person: user::Model = scope::users(actor)
        .filter(user::Column::Id.eq(who))
        .one(&txn)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| AppError::bad_input("userId", "no such user"))?;
    if ev.cancelled_at.is_some() {
        return Err(AppError::conflict("the event is cancelled"));
    }
    let now = Utc::now();
    if now >= ev.ends_at {
        return Err(AppError::conflict("the event is over"));
    }
    let closes = ev.registration_deadline.unwrap_or(ev.starts_at);
    if !manager && now > closes {
        return Err(AppError::conflict(format!(
            "registration closed on {}",
            closes.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    let registered = participation::Entity::find()
        .filter(participation::Column::EventId.eq(ev.id))
        .filter(participation::Column::Status.eq(PS::Registered))
        .count(&txn)
        .await? as i64;
    let status = match ev.capacity {
        Some(c) if registered >= c as i64 => PS::Waitlisted,
        _ => PS::Registered,
    };
    let existing = participation::Entity::find()
        .filter(participation::Column::EventId.eq(ev.id))
        .filter(participation::Column::UserId.eq(who))
        .one(&txn)
        .await?;
    let model = match existing {
        Some(row) if row.status != PS::Cancelled => {
            return Err(AppError::conflict(format!(
                "{} is already {}",
                person.name,
                if row.status == PS::Registered {
                    "registered"
                } else {
                    "on the waiting list"
                }
            )));
        }
        // Registering again after cancelling: back of the queue.
        Some(row) => {
            let version = row.version;
            let mut am: participation::ActiveModel = row.into();
            am.status = Set(status);
            am.role = Set(role);
            am.registered_at = Set(now);
            am.registered_by = Set(Some(p.user_id));
            am.organisation_id = Set(person.organisation_id);
            am.attended = Set(None);
            am.updated_at = Set(now);
            am.version = Set(version + 1);
            am.update(&txn).await?
        }
        None => {
            participation::ActiveModel {
                id: Set(Uuid::now_v7()),
                event_id: Set(ev.id),
                user_id: Set(who),
                organisation_id: Set(person.organisation_id),
                role: Set(role),
                status: Set(status),
                registered_at: Set(now),
                registered_by: Set(Some(p.user_id)),
                attended: Set(None),
                updated_at: Set(now),
                version: Set(1),
            }
            .insert(&txn)
            .await?
        }
    };
    recount_event(&txn, ev.id).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "event.register",
        "Participation",
        model.id,
        json!({ "eventId": ev.id, "userId": who, "status": model.status.as_str() }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

async fn participation_of(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
) -> AppResult<participation::Model> {
    scope::participations(actor)
        .filter(participation::Column::Id.eq(id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("registration"))
}

/// Cancels a registration (its user, or the event's managers). A freed place goes to the first
/// person on the waiting list, in the same transaction.
pub async fn cancel_registration(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<(participation::Model, Vec<Uuid>)> {
    let p = actor.principal()?;
    let txn = begin_write(db).await?;
    let event_id = participation_of(&txn, actor, id).await?.event_id;
    let ev = locked(&txn, actor, event_id).await?;
    // Read again under the event's lock: a concurrent cancellation may have come first.
    let current = participation_of(&txn, actor, id).await?;
    rules::cancel_registration(actor, ev.organiser_id, current.user_id)?;
    if current.status == PS::Cancelled {
        return Err(AppError::conflict("the registration is already cancelled"));
    }
    let version = current.version;
    let mut am: participation::ActiveModel = current.clone().into();
    am.status = Set(PS::Cancelled);
    am.updated_at = Set(Utc::now());
    am.version = Set(version + 1);
    let updated = am.update(&txn).await?;
    let promoted = if current.status == PS::Registered && ev.cancelled_at.is_none() {
        promote(&txn, &ev).await?
    } else {
        Vec::new()
    };
    recount_event(&txn, ev.id).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "event.cancelRegistration",
        "Participation",
        id,
        json!({ "eventId": ev.id, "was": current.status.as_str(), "promoted": promoted }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok((updated, promoted))
}

/// Records whether a registered person came (the event's managers, once it has started).
pub async fn record_attendance(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    attended: bool,
) -> AppResult<participation::Model> {
    let p = actor.principal()?;
    let txn = begin_write(db).await?;
    let event_id = participation_of(&txn, actor, id).await?.event_id;
    // The event's lock orders the writes that recount its attendance.
    let ev = locked(&txn, actor, event_id).await?;
    let current = participation_of(&txn, actor, id).await?;
    rules::manage_event(actor, ev.organiser_id)?;
    if Utc::now() < ev.starts_at {
        return Err(AppError::conflict(
            "attendance is recorded once the event has started",
        ));
    }
    if current.status != PS::Registered {
        return Err(AppError::conflict(
            "only registered participants can attend",
        ));
    }
    let version = current.version;
    let mut am: participation::ActiveModel = current.into();
    am.attended = Set(Some(attended));
    am.updated_at = Set(Utc::now());
    am.version = Set(version + 1);
    let updated = am.update(&txn).await?;
    recount_event(&txn, ev.id).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "event.recordAttendance",
        "Participation",
        id,
        json!({ "eventId": ev.id, "attended": attended }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// Creates (or replaces) the caller's personal calendar feed; returns the secret, shown once.
pub async fn new_calendar_feed(db: &DatabaseConnection, actor: &Actor) -> AppResult<String> {
    let p = actor.principal()?;
    let secret = base64_secret();
    let txn = begin_write(db).await?;
    entity::calendar_feed::Entity::delete_by_id(p.user_id)
        .exec(&txn)
        .await?;
    entity::calendar_feed::ActiveModel {
        user_id: Set(p.user_id),
        token_hash: Set(crate::auth::sha256_hex(secret.as_bytes())),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "calendarFeed.create",
        "User",
        p.user_id,
        json!({}),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(secret)
}

fn base64_secret() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crate::auth::random_bytes(32))
}

/// Whose feed a secret opens (an active user's), if any.
pub async fn feed_owner(db: &DatabaseConnection, secret: &str) -> AppResult<Option<Uuid>> {
    let Some(feed) = entity::calendar_feed::Entity::find()
        .filter(
            entity::calendar_feed::Column::TokenHash.eq(crate::auth::sha256_hex(secret.as_bytes())),
        )
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(feed.user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
        .map(|u| u.id))
}
