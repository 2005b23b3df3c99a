//! `Event`, `Participation` and the event list inputs.

use std::str::FromStr;

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use entity::{ParticipationStatus as PS, event, participation};
use sea_orm::{ColumnTrait, Order, QueryFilter};

use crate::editions::types::Edition;
use crate::graphql::connection::OrderDirection;
use crate::graphql::context::req;
use crate::graphql::enums::{EventKind, ParticipationRole, ParticipationStatus};
use crate::graphql::ids;
use crate::graphql::loaders::{
    EditionById, EventById, OrganisationById, ParticipantsOf, ParticipationCounts, UserById,
    WaitlistOf,
};
use crate::graphql::scalars::Timestamp;
use crate::organisations::types::Organisation;
use crate::policy::Actor;
use crate::users::types::User;

/// A programme event: kick-off, training, webinar, forum, conference, partner meeting, study
/// visit, ceremony or peer-learning meeting.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Event {
    /// Opaque global id.
    pub id: ID,
    /// What kind of event.
    pub kind: EventKind,
    /// Title.
    pub title: String,
    /// What it is about.
    pub description: String,
    /// The programme (agenda).
    pub programme: String,
    /// When it starts (UTC).
    pub starts_at: Timestamp,
    /// When it ends (UTC).
    pub ends_at: Timestamp,
    /// The IANA time zone it is held in, e.g. "Europe/Riga".
    pub time_zone: String,
    /// Where it takes place (null for online-only events).
    pub place: Option<String>,
    /// The link to join online.
    pub online_url: Option<String>,
    /// Whether it is listed publicly (without signing in).
    pub is_public: bool,
    /// Places (null: no limit).
    pub capacity: Option<i32>,
    /// Self-registration closes then (null: at the start).
    pub registration_deadline: Option<Timestamp>,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<Timestamp>,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub model: event::Model,
}

impl From<event::Model> for Event {
    fn from(m: event::Model) -> Self {
        Self {
            id: ids::encode("Event", m.id),
            kind: m.kind.into(),
            title: m.title.clone(),
            description: m.description.clone(),
            programme: m.programme.clone(),
            starts_at: m.starts_at.into(),
            ends_at: m.ends_at.into(),
            time_zone: m.time_zone.clone(),
            place: m.place.clone(),
            online_url: m.online_url.clone(),
            is_public: m.is_public,
            capacity: m.capacity,
            registration_deadline: m.registration_deadline.map(Into::into),
            cancelled_at: m.cancelled_at.map(Into::into),
            version: m.version,
            model: m,
        }
    }
}

fn signed_in(ctx: &Context<'_>) -> bool {
    crate::policy::rules::read_registration_figures(&req(ctx).actor)
}

#[ComplexObject]
impl Event {
    /// Start and end in the event's own time zone (RFC 3339 with offset), for display.
    async fn local_times(&self) -> Vec<String> {
        let Ok(tz) = chrono_tz::Tz::from_str(&self.model.time_zone) else {
            return Vec::new();
        };
        [self.model.starts_at, self.model.ends_at]
            .iter()
            .map(|t| t.with_timezone(&tz).to_rfc3339())
            .collect()
    }

    /// Whether one may register oneself right now.
    async fn registration_open(&self, ctx: &Context<'_>) -> bool {
        let rc = req(ctx);
        let now = rc.state.clock.now();
        let closes = self
            .model
            .registration_deadline
            .unwrap_or(self.model.starts_at);
        let open = self.model.cancelled_at.is_none() && now < self.model.ends_at && now <= closes;
        if open {
            // Closed by time alone at whichever comes first; once closed, it stays closed.
            rc.cache_hints.changes_at(
                self.model
                    .ends_at
                    .min(closes + chrono::Duration::milliseconds(1)),
            );
        }
        open
    }

    /// The organising organisation.
    async fn organiser(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(self.model.organiser_id))
            .await?
            .map(Organisation::from))
    }

    /// The edition it belongs to, if any.
    async fn edition(&self, ctx: &Context<'_>) -> Result<Option<Edition>> {
        let Some(id) = self.model.edition_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(EditionById(id))
            .await?
            .map(Edition::from))
    }

    /// People with a place (signed-in readers; null for the public, who see no participant
    /// data).
    async fn registered_count(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        if !signed_in(ctx) {
            return Ok(None);
        }
        let (registered, _) = req(ctx)
            .loaders
            .load_one(ParticipationCounts(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(Some(registered))
    }

    /// People on the waiting list (signed-in readers).
    async fn waitlist_count(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        if !signed_in(ctx) {
            return Ok(None);
        }
        let (_, waiting) = req(ctx)
            .loaders
            .load_one(ParticipationCounts(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(Some(waiting))
    }

    /// Free places (signed-in readers; null without a limit).
    async fn places_left(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        let (Some(capacity), true) = (self.model.capacity, signed_in(ctx)) else {
            return Ok(None);
        };
        let (registered, _) = req(ctx)
            .loaders
            .load_one(ParticipationCounts(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(Some((capacity as i64 - registered).max(0)))
    }

    /// The caller's own registration, if any.
    async fn my_participation(&self, ctx: &Context<'_>) -> Result<Option<Participation>> {
        let rc = req(ctx);
        let Actor::User(p) = &rc.actor else {
            return Ok(None);
        };
        let rows = rc
            .loaders
            .load_one(ParticipantsOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .find(|r| r.user_id == p.user_id)
            .map(Participation::from))
    }

    /// Registrations the caller may see (all for its organisers and coordinators, the
    /// caller's own for everyone else, none for the public), earliest first: at most the first
    /// 200. Use `registrations` to page through all of them.
    #[graphql(
        deprecation = "Use `registrations`, a paged connection; this list stops at 200 entries.",
        complexity = "PARTICIPANTS_CAP * child_complexity"
    )]
    async fn participants(&self, ctx: &Context<'_>) -> Result<Vec<Participation>> {
        let rows = req(ctx)
            .loaders
            .load_one(ParticipantsOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .take(PARTICIPANTS_CAP)
            .map(Participation::from)
            .collect())
    }

    /// Registrations the caller may see (all for its organisers and coordinators, the
    /// caller's own for everyone else, none for the public), earliest first, a page at a time.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn registrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
    ) -> Result<ParticipationConnection> {
        let rc = req(ctx);
        let select = crate::policy::scope::participations(&rc.actor)
            .filter(participation::Column::EventId.eq(self.model.id));
        let order = vec![
            (participation::Column::RegisteredAt, Order::Asc),
            (participation::Column::Id, Order::Asc),
        ];
        let args = crate::graphql::connection::PageArgs::new(ctx, first, after, last, before);
        let (page, total) =
            crate::graphql::connection::paginate(rc.db(), select, order, &args).await?;
        Ok(ParticipationConnection::from_page(
            page,
            total,
            Participation::from,
        ))
    }

    /// Where to download it as iCalendar (relative to the API's address).
    async fn ics_path(&self) -> String {
        format!("/events/{}.ics", self.model.id)
    }
}

/// The most entries the deprecated `Event.participants` list returns.
const PARTICIPANTS_CAP: usize = 200;

crate::connection!(
    ParticipationConnection,
    ParticipationEdge,
    Participation,
    "A page of an event's registrations."
);

/// A person's registration for an event.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Participation {
    /// Opaque global id.
    pub id: ID,
    /// Participant, speaker or organiser.
    pub role: ParticipationRole,
    /// Registered, waiting or cancelled.
    pub status: ParticipationStatus,
    /// When the person (last) registered: the waiting list's order.
    pub registered_at: Timestamp,
    /// Whether they came (null until the organisers record it).
    pub attended: Option<bool>,
    /// Optimistic-concurrency version.
    pub version: i32,
    #[graphql(skip)]
    pub model: participation::Model,
}

impl From<participation::Model> for Participation {
    fn from(m: participation::Model) -> Self {
        Self {
            id: ids::encode("Participation", m.id),
            role: m.role.into(),
            status: m.status.into(),
            registered_at: m.registered_at.into(),
            attended: m.attended,
            version: m.version,
            model: m,
        }
    }
}

#[ComplexObject]
impl Participation {
    /// The event.
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        Ok(req(ctx)
            .loaders
            .load_one(EventById(self.model.event_id))
            .await?
            .map(Event::from))
    }

    /// The person (null if the caller may not see that user).
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(req(ctx)
            .loaders
            .load_one(UserById(self.model.user_id))
            .await?
            .map(User::from))
    }

    /// The person's organisation when they registered.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.model.organisation_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(id))
            .await?
            .map(Organisation::from))
    }

    /// Position on the waiting list (1 = next to get a place; null when not waiting).
    async fn waitlist_position(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        if self.model.status != PS::Waitlisted {
            return Ok(None);
        }
        let queue = req(ctx)
            .loaders
            .load_one(WaitlistOf(self.model.event_id))
            .await?
            .unwrap_or_default();
        Ok(queue
            .iter()
            .position(|id| *id == self.model.id)
            .map(|i| i as i32 + 1))
    }
}

crate::connection!(EventConnection, EventEdge, Event, "A page of events.");

/// Which events to list; all conditions must hold.
#[derive(InputObject, Default)]
pub struct EventFilter {
    /// Only these kinds.
    pub kind: Option<Vec<EventKind>>,
    /// Only events ending after this time (e.g. now, for upcoming events).
    pub ends_after: Option<Timestamp>,
    /// Only events starting before this time.
    pub starts_before: Option<Timestamp>,
    /// Only events of these title years' editions.
    pub edition_year: Option<Vec<i32>>,
    /// Only events organised by this organisation.
    pub organiser_id: Option<ID>,
    /// Only public (true) or only internal (false) events.
    pub is_public: Option<bool>,
    /// Only events the caller is registered for or waiting for.
    pub registered_by_me: Option<bool>,
    /// Include cancelled events (default: yes).
    pub include_cancelled: Option<bool>,
}

/// Fields events can be ordered by.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum EventOrderField {
    /// By start.
    StartsAt,
    /// By title.
    Title,
    /// By creation time.
    CreatedAt,
}

/// One ordering criterion for events.
#[derive(InputObject)]
pub struct EventOrder {
    /// The field.
    pub field: EventOrderField,
    /// The direction (default ascending).
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl EventOrder {
    pub fn column(&self) -> (event::Column, Order) {
        let col = match self.field {
            EventOrderField::StartsAt => event::Column::StartsAt,
            EventOrderField::Title => event::Column::Title,
            EventOrderField::CreatedAt => event::Column::CreatedAt,
        };
        (col, self.direction.sql())
    }
}
