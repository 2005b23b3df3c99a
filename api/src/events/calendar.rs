//! iCalendar (RFC 5545) export: one event, or a person's registered events as a feed that
//! calendar apps subscribe to. Times are written in UTC; calendars show them in the reader's
//! zone. Escaping and line folding are the `icalendar` crate's.

use entity::{ParticipationStatus, event};
use icalendar::{Calendar, Component, EventLike, EventStatus};

/// The calendar of `events`; `base` is the public address of the API (for links back).
pub fn render(name: &str, events: &[event::Model], base: &str) -> String {
    let mut cal = Calendar::new();
    cal.name(name);
    for e in events {
        let mut v = icalendar::Event::new();
        v.uid(&format!("{}@bsr-cultural-pearls", e.id))
            .summary(&e.title)
            .starts(e.starts_at)
            .ends(e.ends_at)
            .sequence(e.version.max(1) as u32 - 1)
            .last_modified(e.updated_at)
            .created(e.created_at)
            .status(if e.cancelled_at.is_some() {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        let mut description = e.description.clone();
        if let Some(url) = &e.online_url {
            description.push_str(&format!("\n\nOnline: {url}"));
            v.url(url);
        } else {
            v.url(&format!("{base}/events/{}.ics", e.id));
        }
        if !description.trim().is_empty() {
            v.description(description.trim());
        }
        match (&e.place, &e.online_url) {
            (Some(place), _) => {
                v.location(place);
            }
            (None, Some(_)) => {
                v.location("Online");
            }
            _ => {}
        }
        v.add_property("X-PEARLS-TIMEZONE", &e.time_zone);
        cal.push(v.done());
    }
    cal.done().to_string()
}

/// Whether a registration belongs in its person's feed.
pub fn in_feed(status: ParticipationStatus) -> bool {
    matches!(
        status,
        ParticipationStatus::Registered | ParticipationStatus::Waitlisted
    )
}
