//! Events from January 2023 to half a year after the anchor day, with their participants.

use chrono::{DateTime, Duration, Utc};
use entity::{EventKind, ParticipationRole, ParticipationStatus, event, participation};
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

use super::{Bulk, Gen, Programme, ymd};
use crate::error::AppResult;
use crate::seed::Seeder;

/// The kinds of event, drawn evenly.
const KINDS: [EventKind; 9] = [
    EventKind::KickOff,
    EventKind::MentorTraining,
    EventKind::Webinar,
    EventKind::Forum,
    EventKind::Conference,
    EventKind::PartnerMeeting,
    EventKind::StudyVisit,
    EventKind::Ceremony,
    EventKind::PeerLearning,
];

/// An event as generated: its id and start (participations need them).
struct Planned {
    id: Uuid,
    starts: DateTime<Utc>,
}

impl Programme {
    /// 10 + 4 N events with about 1000 N participations between them (the largest table).
    pub(super) async fn events(&self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<()> {
        let planned = self.plan_events(s, g).await?;
        self.participations(s, g, &planned).await
    }

    /// The events: a few cancelled, half online, half of them tied to an edition.
    async fn plan_events(&self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<Vec<Planned>> {
        let mut planned = Vec::new();
        let rows = (0..self.events_n()).map(|_| {
            let id = g.id();
            let starts = g.during(ymd(2023, 1, 1), self.now + Duration::days(180));
            let cancelled = g.chance(0.03);
            let online = g.chance(0.5);
            planned.push(Planned { id, starts });
            event::ActiveModel {
                id: Set(id),
                kind: Set(*g.pick(&KINDS)),
                title: Set(g.title()),
                description: Set(g.words(40)),
                programme: Set(g.words(20)),
                starts_at: Set(starts),
                ends_at: Set(starts + Duration::hours(g.between(1, 48))),
                time_zone: Set("Europe/Riga".into()),
                place: Set((!online).then(|| g.town(0))),
                online_url: Set(online.then(|| "https://meet.pearls.example/room".into())),
                organiser_id: Set(*g.pick(&self.consortium)),
                edition_id: Set(g.chance(0.5).then(|| g.pick(&self.editions).0)),
                is_public: Set(g.chance(0.6)),
                capacity: Set(None),
                registration_deadline: Set(None),
                cancelled_at: Set(cancelled.then_some(starts - Duration::days(3))),
                created_by: Set(None),
                created_at: Set(starts - Duration::days(60)),
                updated_at: Set(starts - Duration::days(60)),
                version: Set(1),
                registered_count: Set(0),
                attended_count: Set(0),
            }
        });
        Bulk::insert_all("events", s, rows).await?;
        Ok(planned)
    }

    /// How many events there are.
    fn events_n(&self) -> usize {
        10 + 4 * self.n
    }

    /// The events' participants.
    async fn participations(
        &self,
        s: &mut Seeder<'_>,
        g: &mut Gen,
        planned: &[Planned],
    ) -> AppResult<()> {
        let per_event = (1000 * self.n / self.events_n()).max(1) as i64;
        let rows = planned
            .iter()
            .flat_map(|ev| self.participants(g, ev, per_event));
        Bulk::insert_all("participations", s, rows).await
    }

    /// An event's participants: between half and one and a half times `per_event`, distinct
    /// people; a few waitlisted or cancelled, and attendance recorded if it is past.
    fn participants(
        &self,
        g: &mut Gen,
        ev: &Planned,
        per_event: i64,
    ) -> Vec<participation::ActiveModel> {
        let everyone = self.people.len();
        let k = (g.between(per_event / 2, per_event * 3 / 2) as usize).min(everyone);
        // Distinct people: a stride coprime with the number of people visits each once.
        let mut stride = 1 + g.below(everyone.max(2) - 1);
        while gcd(stride, everyone) != 1 {
            stride += 1;
        }
        let start = g.below(everyone);
        (0..k)
            .map(|j| {
                let (who, org) = self.people[(start + j * stride) % everyone];
                let status = match g.below(25) {
                    0 => ParticipationStatus::Waitlisted,
                    1 => ParticipationStatus::Cancelled,
                    _ => ParticipationStatus::Registered,
                };
                let attended = (status == ParticipationStatus::Registered && ev.starts < self.now)
                    .then(|| match g.below(10) {
                        0 => None,
                        1 => Some(false),
                        _ => Some(true),
                    });
                let registered = (ev.starts - Duration::days(g.between(1, 60))).min(self.now);
                participation::ActiveModel {
                    id: Set(g.id()),
                    event_id: Set(ev.id),
                    user_id: Set(who),
                    organisation_id: Set(org),
                    role: Set(ParticipationRole::Participant),
                    status: Set(status),
                    registered_at: Set(registered),
                    registered_by: Set(None),
                    attended: Set(attended.flatten()),
                    updated_at: Set(registered),
                    version: Set(1),
                }
            })
            .collect()
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}
