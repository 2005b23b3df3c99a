//! Event queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::{edition, event, participation};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Order, QueryFilter};

use super::service::{self, EventFields};
use super::types::{Event, EventConnection, EventFilter, EventOrder, Participation};
use crate::error::AppError;
use crate::graphql::connection::{PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::graphql::enums::{EventKind, ParticipationRole};
use crate::graphql::ids;
use crate::graphql::planner::{self, EVENT, Planned};
use crate::graphql::scalars::Timestamp;
use crate::policy::scope;

/// The connection's type names, for a planned page.
const TYPES: planner::ConnectionTypes = planner::ConnectionTypes {
    connection: "EventConnection",
    edge: "EventEdge",
};

/// Event queries.
#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Events the caller may see (all for signed-in users, public ones for everyone else), by
    /// start unless `orderBy` says otherwise.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<EventFilter>,
        #[graphql(desc = "Ordering criteria, applied in turn.")] order_by: Option<Vec<EventOrder>>,
    ) -> Result<Option<Planned<EventConnection>>> {
        let rc = req(ctx);
        let mut select = scope::events(&rc.actor);
        if let Some(f) = filter {
            if let Some(kinds) = f.kind {
                select = select.filter(
                    event::Column::Kind.is_in(kinds.into_iter().map(entity::EventKind::from)),
                );
            }
            if let Some(t) = f.ends_after {
                select = select.filter(event::Column::EndsAt.gt(t.0));
            }
            if let Some(t) = f.starts_before {
                select = select.filter(event::Column::StartsAt.lt(t.0));
            }
            if let Some(years) = f.edition_year {
                select = select.filter(
                    event::Column::EditionId.in_subquery(
                        Query::select()
                            .column(edition::Column::Id)
                            .from(edition::Entity)
                            .and_where(edition::Column::TitleYear.is_in(years))
                            .to_owned(),
                    ),
                );
            }
            if let Some(org) = f.organiser_id {
                let org = ids::decode(&org, "Organisation", "filter.organiserId")?;
                select = select.filter(event::Column::OrganiserId.eq(org));
            }
            if let Some(public) = f.is_public {
                select = select.filter(event::Column::IsPublic.eq(public));
            }
            if f.include_cancelled == Some(false) {
                select = select.filter(event::Column::CancelledAt.is_null());
            }
            if f.registered_by_me == Some(true) {
                let p = rc.actor.principal()?;
                select = select.filter(
                    event::Column::Id.in_subquery(
                        Query::select()
                            .column(participation::Column::EventId)
                            .from(participation::Entity)
                            .and_where(participation::Column::UserId.eq(p.user_id))
                            .and_where(participation::Column::Status.is_in([
                                entity::ParticipationStatus::Registered,
                                entity::ParticipationStatus::Waitlisted,
                            ]))
                            .to_owned(),
                    ),
                );
            }
        }
        let order = order_with_tiebreak(
            order_by
                .unwrap_or_default()
                .iter()
                .map(EventOrder::column)
                .collect(),
            (event::Column::StartsAt, Order::Asc),
            event::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        if rc.state.config.planner
            && let Some(built) =
                planner::connection(ctx, &EVENT, &TYPES, select.clone(), &order, &args).await?
        {
            return Ok(Some(Planned::built(built)));
        }
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Some(Planned::Resolved(EventConnection::from_page(
            page,
            total,
            Event::from,
        ))))
    }
}

/// An event's content (an edit replaces all of it).
#[derive(InputObject)]
pub struct EventInput {
    /// What kind of event.
    pub kind: EventKind,
    /// Title (1–300 characters).
    pub title: String,
    /// What it is about (up to 20000 characters).
    #[graphql(default)]
    pub description: String,
    /// The programme (up to 50000 characters).
    #[graphql(default)]
    pub programme: String,
    /// Start.
    pub starts_at: Timestamp,
    /// End (after the start).
    pub ends_at: Timestamp,
    /// IANA time zone it is held in, e.g. "Europe/Riga".
    pub time_zone: String,
    /// Place (omit for online-only).
    pub place: Option<String>,
    /// Link to join online (http or https).
    pub online_url: Option<String>,
    /// The organising organisation (a partner: its own).
    pub organiser_id: ID,
    /// The edition it belongs to, if any.
    pub edition_id: Option<ID>,
    /// Listed publicly (without signing in).
    #[graphql(default)]
    pub is_public: bool,
    /// Places (omit for no limit).
    pub capacity: Option<i32>,
    /// Self-registration closes then (not after the start; omit: at the start).
    pub registration_deadline: Option<Timestamp>,
}

impl EventInput {
    fn parse(self) -> Result<EventFields, AppError> {
        let organiser = ids::decode(&self.organiser_id, "Organisation", "organiserId")?;
        let edition = self
            .edition_id
            .map(|e| ids::decode(&e, "Edition", "editionId"))
            .transpose()?;
        EventFields::parse(
            self.kind.into(),
            &self.title,
            &self.description,
            &self.programme,
            self.starts_at.0,
            self.ends_at.0,
            &self.time_zone,
            self.place.as_deref(),
            self.online_url.as_deref(),
            organiser,
            edition,
            self.is_public,
            self.capacity,
            self.registration_deadline.map(|t| t.0),
        )
    }
}

/// Input of `createEvent`.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// The event.
    pub event: EventInput,
}

/// Input of `updateEvent`.
#[derive(InputObject)]
pub struct UpdateEventInput {
    /// The event.
    pub id: ID,
    /// The `version` the edit is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// Its new content.
    pub event: EventInput,
}

/// Input of `cancelEvent`.
#[derive(InputObject)]
pub struct CancelEventInput {
    /// The event.
    pub id: ID,
    /// Why (kept in the audit log).
    pub reason: Option<String>,
}

/// Input of `registerForEvent`.
#[derive(InputObject)]
pub struct RegisterForEventInput {
    /// The event.
    pub event_id: ID,
    /// Someone else to register (the event's organisers and coordinators only); default: the
    /// caller.
    pub user_id: Option<ID>,
    /// Their part (only organisers set anything but PARTICIPANT).
    #[graphql(default_with = "ParticipationRole::Participant")]
    pub role: ParticipationRole,
}

/// Input of `cancelRegistration`.
#[derive(InputObject)]
pub struct CancelRegistrationInput {
    /// The registration.
    pub id: ID,
}

/// Input of `recordAttendance`.
#[derive(InputObject)]
pub struct RecordAttendanceInput {
    /// The registration.
    pub id: ID,
    /// Whether the person came.
    pub attended: bool,
}

/// Result of an event mutation.
#[derive(SimpleObject)]
pub struct EventPayload {
    /// The event as it is now.
    pub event: Event,
}

/// Result of a registration mutation.
#[derive(SimpleObject)]
pub struct ParticipationPayload {
    /// The registration as it is now.
    pub participation: Participation,
}

/// Result of `cancelRegistration`.
#[derive(SimpleObject)]
pub struct CancelRegistrationPayload {
    /// The cancelled registration.
    pub participation: Participation,
    /// Registrations moved from the waiting list to a place by this cancellation.
    pub promoted: Vec<ID>,
}

/// Result of `createCalendarFeed`.
#[derive(SimpleObject)]
pub struct CalendarFeedPayload {
    /// The feed's address relative to the API (`/calendar/<secret>.ics`): shown this once;
    /// creating a new feed ends the old one.
    pub path: String,
}

/// Event mutations.
#[derive(Default)]
pub struct EventMutation;

#[Object]
impl EventMutation {
    /// Creates an event (coordinators for any organiser; partners for their own organisation).
    async fn create_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateEventInput,
    ) -> Result<Option<EventPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let f = input.event.parse()?;
        let e = service::create(rc.db(), &rc.actor, f).await?;
        Ok(Some(EventPayload { event: e.into() }))
    }

    /// Replaces an event's content (its organisers and coordinators).
    async fn update_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateEventInput,
    ) -> Result<Option<EventPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let id = ids::decode(&input.id, "Event", "id")?;
        let f = input.event.parse()?;
        let e = service::update(rc.db(), &rc.actor, id, input.expected_version, f).await?;
        Ok(Some(EventPayload { event: e.into() }))
    }

    /// Cancels an event (its organisers and coordinators).
    async fn cancel_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CancelEventInput,
    ) -> Result<Option<EventPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let id = ids::decode(&input.id, "Event", "id")?;
        let reason = input
            .reason
            .filter(|r| !r.trim().is_empty())
            .map(|r| {
                crate::domain::NonEmptyText::parse("reason", &r, 2000)
                    .map(crate::domain::NonEmptyText::into_inner)
            })
            .transpose()?;
        let e = service::cancel(rc.db(), &rc.actor, id, reason).await?;
        Ok(Some(EventPayload { event: e.into() }))
    }

    /// Registers the caller (or, for the event's organisers, someone else): a place if one is
    /// free, otherwise the waiting list.
    async fn register_for_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RegisterForEventInput,
    ) -> Result<Option<ParticipationPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let event = ids::decode(&input.event_id, "Event", "eventId")?;
        let user = input
            .user_id
            .map(|u| ids::decode(&u, "User", "userId"))
            .transpose()?;
        let p = service::register(rc.db(), &rc.actor, event, user, input.role.into()).await?;
        Ok(Some(ParticipationPayload {
            participation: p.into(),
        }))
    }

    /// Cancels a registration (the person, or the event's organisers); a freed place goes to
    /// the first on the waiting list.
    async fn cancel_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CancelRegistrationInput,
    ) -> Result<Option<CancelRegistrationPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let id = ids::decode(&input.id, "Participation", "id")?;
        let (p, promoted) = service::cancel_registration(rc.db(), &rc.actor, id).await?;
        Ok(Some(CancelRegistrationPayload {
            participation: p.into(),
            promoted: promoted
                .into_iter()
                .map(|id| ids::encode("Participation", id))
                .collect(),
        }))
    }

    /// Records whether a registered person came (the event's organisers, once it started).
    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RecordAttendanceInput,
    ) -> Result<Option<ParticipationPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let id = ids::decode(&input.id, "Participation", "id")?;
        let p = service::record_attendance(rc.db(), &rc.actor, id, input.attended).await?;
        Ok(Some(ParticipationPayload {
            participation: p.into(),
        }))
    }

    /// Creates a personal iCalendar feed of the caller's registrations for calendar apps; a new
    /// one replaces (and ends) the previous one.
    async fn create_calendar_feed(&self, ctx: &Context<'_>) -> Result<Option<CalendarFeedPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let secret = service::new_calendar_feed(rc.db(), &rc.actor).await?;
        Ok(Some(CalendarFeedPayload {
            path: format!("/calendar/{secret}.ics"),
        }))
    }
}
