//! iCalendar (RFC 5545) export: one event, or a person's registered events as a feed that
//! calendar apps subscribe to. An event's times are written in its own zone (`DTSTART;TZID=…`)
//! with a `VTIMEZONE` per zone, so a calendar shows a Riga event at Riga's time and moves it
//! with Riga's rules, not the reader's; an event whose zone is unknown is written in UTC.
//! Escaping and line folding are the `icalendar` crate's.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use entity::{ParticipationStatus, event};
use icalendar::{Calendar, CalendarDateTime, Component, EventLike, EventStatus};

/// Who wrote the calendar (RFC 5545 §3.7.3).
pub const PRODID: &str = "-//BSR Cultural Pearls//Portal API//EN";

/// The calendar of `events`; `base` is the public address of the API (for links back).
pub fn render(name: &str, events: &[event::Model], base: &str) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODID))
        .append_property(("CALSCALE", "GREGORIAN"));
    // The name is an event's title for a single event: no line breaks may reach the file (the
    // library escapes NAME's text only partly).
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cal.name(&name);
    // Each zone with the first and last year its events touch.
    let mut zones: BTreeMap<&'static str, (i32, i32)> = BTreeMap::new();
    for e in events {
        let mut v = icalendar::Event::new();
        v.uid(&format!("{}@bsr-cultural-pearls", e.id))
            .summary(&e.title)
            .sequence(e.version.max(1) as u32 - 1)
            .last_modified(e.updated_at)
            .created(e.created_at)
            .status(if e.cancelled_at.is_some() {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        match e.time_zone.parse::<Tz>() {
            Ok(tz) => {
                let local = |t: DateTime<Utc>| CalendarDateTime::WithTimezone {
                    date_time: t.with_timezone(&tz).naive_local(),
                    tzid: tz.name().to_owned(),
                };
                v.starts(local(e.starts_at)).ends(local(e.ends_at));
                let (first, last) = (e.starts_at.year(), e.ends_at.year());
                zones
                    .entry(tz.name())
                    .and_modify(|(a, b)| (*a, *b) = ((*a).min(first), (*b).max(last)))
                    .or_insert((first, last));
            }
            Err(_) => {
                v.starts(e.starts_at).ends(e.ends_at);
            }
        }
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
        cal.push(v.done());
    }
    let text = cal.done().to_string();
    let timezones: String = zones
        .into_iter()
        .filter_map(|(zone, (first, last))| Some(vtimezone(zone.parse().ok()?, first, last)))
        .collect();
    // The zones go before the events (RFC 5545 §3.6.5: a TZID must have its VTIMEZONE).
    // At the start of a line: text of a property can never match there.
    let at = text
        .find("\r\nBEGIN:VEVENT\r\n")
        .or_else(|| text.find("\r\nEND:VCALENDAR"))
        .map_or(text.len(), |i| i + 2);
    format!("{}{timezones}{}", &text[..at], &text[at..])
}

/// `+0200`, `-0330`.
fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let (m, s) = (seconds.abs() / 60, seconds.abs() % 60);
    if s == 0 {
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    } else {
        format!("{sign}{:02}{:02}{s:02}", m / 60, m % 60)
    }
}

fn local_stamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// One observance: `STANDARD` or `DAYLIGHT` from `onset` (wall time in the old offset).
fn observance(tz: Tz, at: DateTime<Utc>, from: i32) -> String {
    let o = tz.offset_from_utc_datetime(&at.naive_utc());
    let to = o.fix().local_minus_utc();
    let kind = if o.dst_offset().is_zero() {
        "STANDARD"
    } else {
        "DAYLIGHT"
    };
    let mut s = format!(
        "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\n",
        local_stamp(at.naive_utc() + Duration::seconds(from.into())),
        offset(from),
        offset(to),
    );
    if let Some(name) = o.abbreviation() {
        s.push_str(&format!("TZNAME:{name}\r\n"));
    }
    s.push_str(&format!("END:{kind}\r\n"));
    s
}

/// The `VTIMEZONE` of `tz` for the years `first..=last`: the observance in force on the first
/// day, then every change of offset until the end of the last year, each at its exact instant
/// (explicit onsets rather than rules, so what a reader's calendar applies is what the zone
/// database said when the file was written).
fn vtimezone(tz: Tz, first: i32, last: i32) -> String {
    // Bounded whatever dates an event claims: the zone database's rules are written out for at
    // most a decade from the first year (a calendar keeps applying the last observance).
    let first = first.clamp(1900, 2100);
    let last = last.clamp(first, first + 10);
    let start = NaiveDate::from_ymd_opt(first, 1, 1).unwrap_or(NaiveDate::MIN);
    let end = NaiveDate::from_ymd_opt(last.saturating_add(1), 1, 1).unwrap_or(NaiveDate::MAX);
    let utc = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let off = |t: DateTime<Utc>| {
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc()
    };
    let mut s = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", tz.name());
    let mut t = utc(start);
    s.push_str(&observance(tz, t, off(t)));
    let mut day = start;
    while day < end {
        let next = day.succ_opt().unwrap_or(end);
        let (a, b) = (utc(day), utc(next));
        if off(a) != off(b) {
            // The change lies in (a, b]: find its first second.
            let (mut lo, mut hi) = (a, b);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if off(mid) == off(a) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            t = hi;
            s.push_str(&observance(tz, t, off(lo)));
        }
        day = next;
    }
    s.push_str("END:VTIMEZONE\r\n");
    s
}

/// Whether a registration belongs in its person's feed.
pub fn in_feed(status: ParticipationStatus) -> bool {
    matches!(
        status,
        ParticipationStatus::Registered | ParticipationStatus::Waitlisted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(zone: &str, starts: DateTime<Utc>) -> event::Model {
        event::Model {
            id: uuid::Uuid::nil(),
            kind: entity::EventKind::Forum,
            title: "Forum".into(),
            description: String::new(),
            programme: String::new(),
            starts_at: starts,
            ends_at: starts + Duration::hours(2),
            time_zone: zone.into(),
            place: Some("Rīga".into()),
            online_url: None,
            organiser_id: uuid::Uuid::nil(),
            edition_id: None,
            is_public: true,
            capacity: None,
            registration_deadline: None,
            cancelled_at: None,
            created_by: None,
            created_at: starts,
            updated_at: starts,
            version: 1,
            registered_count: 0,
            attended_count: 0,
        }
    }

    #[test]
    fn events_are_written_in_their_zone_with_its_rules() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let ics = render("Pearls", &[event("Europe/Riga", at)], "https://x");
        assert!(
            ics.contains("PRODID:-//BSR Cultural Pearls//Portal API//EN\r\n"),
            "{ics}"
        );
        assert!(
            !ics.contains("ICALENDAR-RS") && !ics.contains("X-PEARLS"),
            "{ics}"
        );
        assert!(
            ics.contains("DTSTART;TZID=Europe/Riga:20260301T110000\r\n"),
            "{ics}"
        );
        assert!(
            ics.contains("DTEND;TZID=Europe/Riga:20260301T130000\r\n"),
            "{ics}"
        );
        let tz = ics.find("BEGIN:VTIMEZONE").expect("a VTIMEZONE");
        assert!(
            tz < ics.find("BEGIN:VEVENT").unwrap(),
            "zones before events"
        );
        for part in [
            "TZID:Europe/Riga\r\n",
            // In force on 1 January 2026: EET.
            "BEGIN:STANDARD\r\nDTSTART:20260101T020000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0200\r\nTZNAME:EET\r\n",
            // Summer time from 03:00 on the last Sunday of March, back at 04:00 in October.
            "BEGIN:DAYLIGHT\r\nDTSTART:20260329T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0300\r\nTZNAME:EEST\r\n",
            "BEGIN:STANDARD\r\nDTSTART:20261025T040000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0200\r\n",
        ] {
            assert!(ics.contains(part), "{part:?} in {ics}");
        }
        assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1);
    }

    #[test]
    fn a_title_cannot_inject_lines_and_a_claimed_span_stays_bounded() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let mut e = event("Europe/Riga", at);
        e.title = "x\r\nBEGIN:VEVENT\r\nURL:https://evil.example".into();
        e.ends_at = Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).unwrap();
        let ics = render(&e.title.clone(), &[e], "https://x");
        assert_eq!(ics.matches("\r\nBEGIN:VEVENT\r\n").count(), 1, "{ics}");
        assert!(!ics.contains("\r\nURL:https://evil"), "{ics}");
        let tz = ics
            .find("\r\nBEGIN:VTIMEZONE\r\n")
            .expect("a VTIMEZONE at a line start");
        assert!(tz < ics.find("\r\nBEGIN:VEVENT\r\n").unwrap());
        // A decade of observances at most: two changes a year.
        assert!(ics.matches("BEGIN:DAYLIGHT").count() <= 11, "{ics}");
        assert_eq!(offset(5794), "+013634");
    }

    #[test]
    fn zones_without_summer_time_and_unknown_zones() {
        let at = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap();
        let ics = render(
            "x",
            &[event("UTC", at), event("Not/AZone", at)],
            "https://x",
        );
        assert!(
            ics.contains("DTSTART;TZID=UTC:20260701T090000\r\n"),
            "{ics}"
        );
        assert!(
            ics.contains("DTSTART:20260701T090000Z\r\n"),
            "an unknown zone in UTC: {ics}"
        );
        assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1, "{ics}");
        assert!(!ics.contains("DAYLIGHT"), "{ics}");
    }
}
