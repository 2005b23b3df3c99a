//! Events over HTTP: organisers, registration under capacity (also concurrent), the waiting list,
//! deadlines, attendance, what the public sees, iCalendar downloads and feeds, peer learning.

use crate::common;

use chrono::{Duration, Utc};
use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::{OrganisationKind, Role};
use pearls_api::graphql::ids::encode;
use serde_json::{Value, json};

const CREATE: &str =
    "mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id version capacity } } }";
const REGISTER: &str = "mutation($i: RegisterForEventInput!) { registerForEvent(input: $i) { participation { id status } } }";
const CANCEL: &str = "mutation($i: CancelRegistrationInput!) { cancelRegistration(input: $i) { participation { status } promoted } }";

fn event_input(
    org: uuid::Uuid,
    starts_in_hours: i64,
    capacity: Option<i64>,
    public: bool,
) -> Value {
    let start = Utc::now() + Duration::hours(starts_in_hours);
    json!({ "i": { "event": {
        "kind": "WEBINAR", "title": "Culture and resilience webinar", "description": "Monthly exchange",
        "startsAt": start.to_rfc3339(), "endsAt": (start + Duration::hours(3)).to_rfc3339(),
        "timeZone": "Europe/Riga", "onlineUrl": "https://meet.example/pearls",
        "organiserId": encode("Organisation", org).0, "isPublic": public, "capacity": capacity } } })
}

async fn create_event(app: &TestApp, token: &str, vars: Value) -> String {
    let body = app.gql(Some(token), CREATE, vars).await;
    body["data"]["createEvent"]["event"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

both!(
    capacity_holds_under_concurrent_registration,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let event = create_event(
            &app,
            &partner,
            event_input(w.partner_org, 48, Some(5), false),
        )
        .await;
        let (tokens, all) = twelve_guests_register_at_once_for_five_places(&app, &w, &event).await;
        let ev = five_are_registered_and_seven_wait_in_order(&app, &partner, &event, &tokens).await;
        a_cancelled_place_goes_to_the_first_waiting_and_nobody_registers_twice(
            &app, &event, &tokens, &all, &ev,
        )
        .await;
        more_places_promote_from_the_waiting_list_in_order(&app, &w, &partner, &event).await;
    }
);

/// Twelve guests register at the same moment for five places: five get one, seven wait.
async fn twelve_guests_register_at_once_for_five_places(
    app: &TestApp,
    w: &World,
    event: &str,
) -> (Vec<String>, Vec<Value>) {
    let mut tokens = Vec::new();
    for n in 0..12 {
        let email = format!("guest{n}@test.example");
        fixtures::user(app, &email, Role::Mentor, Some(w.partner_org)).await;
        tokens.push(app.login(&email, PASSWORD).await);
    }
    // Twelve people register at the same moment for five places.
    let all = futures_util::future::join_all(
        tokens
            .iter()
            .map(|t| app.gql(Some(t), REGISTER, json!({ "i": { "eventId": event } }))),
    )
    .await;
    let statuses: Vec<&str> = all
        .iter()
        .map(|b| {
            b["data"]["registerForEvent"]["participation"]["status"]
                .as_str()
                .unwrap_or_else(|| panic!("{b}"))
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "REGISTERED").count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == "WAITLISTED").count(), 7);
    (tokens, all)
}

/// The event counts five registered and seven waiting, listed and paged alike; returns the event.
async fn five_are_registered_and_seven_wait_in_order(
    app: &TestApp,
    partner: &str,
    event: &str,
    tokens: &[String],
) -> Value {
    let q =
        "query($id: ID!) { node(id: $id) { ... on Event { registeredCount waitlistCount placesLeft
        participants { status waitlistPosition user { email } } } } }";
    let body = app.gql(Some(partner), q, json!({ "id": event })).await;
    let ev = &body["data"]["node"];
    assert_eq!(
        (
            ev["registeredCount"].as_i64(),
            ev["waitlistCount"].as_i64(),
            ev["placesLeft"].as_i64()
        ),
        (Some(5), Some(7), Some(0)),
        "{body}"
    );
    let positions: Vec<i64> = ev["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .filter_map(|p| p["waitlistPosition"].as_i64())
        .collect();
    assert_eq!(positions.len(), 7);
    // The same registrations a page at a time, in the same order; a guest sees only theirs.
    let pages = "query($id: ID!, $after: String) { node(id: $id) { ... on Event {
            registrations(first: 5, after: $after) { totalCount pageInfo { hasNextPage endCursor }
              nodes { user { email } } } } } }";
    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .gql(Some(partner), pages, json!({ "id": event, "after": after }))
            .await;
        let conn = &body["data"]["node"]["registrations"];
        assert_eq!(conn["totalCount"], 12, "{body}");
        paged.extend(
            conn["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| n["user"]["email"].clone()),
        );
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    let listed: Vec<Value> = ev["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| p["user"]["email"].clone())
        .collect();
    assert_eq!(paged, listed);
    let guest = app
        .gql(
            Some(&tokens[0]),
            pages,
            json!({ "id": event, "after": null }),
        )
        .await;
    assert_eq!(
        guest["data"]["node"]["registrations"]["totalCount"], 1,
        "{guest}"
    );
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(sorted, (1..=7).collect::<Vec<_>>());
    ev.clone()
}

/// Only its holder cancels a place, which goes to the first waiting; nobody registers twice.
async fn a_cancelled_place_goes_to_the_first_waiting_and_nobody_registers_twice(
    app: &TestApp,
    event: &str,
    tokens: &[String],
    all: &[Value],
    ev: &Value,
) {
    // A registered person cancels: the first on the waiting list gets the place.
    let first_waiting = ev["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["waitlistPosition"] == 1)
        .expect("first")["user"]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let (registered_idx, registered_id) = all
        .iter()
        .enumerate()
        .find_map(|(i, b)| {
            let p = &b["data"]["registerForEvent"]["participation"];
            (p["status"] == "REGISTERED").then(|| (i, p["id"].as_str().unwrap().to_owned()))
        })
        .expect("a registered one");
    // Someone else cannot cancel it (they do not even see it).
    let other = (registered_idx + 1) % 12;
    assert_eq!(
        code(
            &app.gql(
                Some(&tokens[other]),
                CANCEL,
                json!({ "i": { "id": registered_id } })
            )
            .await
        ),
        "NOT_FOUND"
    );
    let body = app
        .gql(
            Some(&tokens[registered_idx]),
            CANCEL,
            json!({ "i": { "id": registered_id } }),
        )
        .await;
    assert_eq!(
        body["data"]["cancelRegistration"]["participation"]["status"], "CANCELLED",
        "{body}"
    );
    assert_eq!(
        body["data"]["cancelRegistration"]["promoted"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let idx = (0..12)
        .find(|n| format!("guest{n}@test.example") == first_waiting)
        .unwrap();
    let body = app
        .gql(
            Some(&tokens[idx]),
            "query($id: ID!) { node(id: $id) { ... on Event { myParticipation { status } } } }",
            json!({ "id": event }),
        )
        .await;
    assert_eq!(
        body["data"]["node"]["myParticipation"]["status"], "REGISTERED",
        "{body}"
    );
    // Registering twice is refused; registering again after cancelling joins the queue's end.
    assert_eq!(
        code(
            &app.gql(
                Some(&tokens[idx]),
                REGISTER,
                json!({ "i": { "eventId": event } })
            )
            .await
        ),
        "CONFLICT"
    );
    let body = app
        .gql(
            Some(&tokens[registered_idx]),
            REGISTER,
            json!({ "i": { "eventId": event } }),
        )
        .await;
    assert_eq!(
        body["data"]["registerForEvent"]["participation"]["status"], "WAITLISTED",
        "{body}"
    );
}

/// Raising the capacity promotes from the waiting list in order; the counts stay exact.
async fn more_places_promote_from_the_waiting_list_in_order(
    app: &TestApp,
    w: &World,
    partner: &str,
    event: &str,
) {
    // More places promote from the waiting list in order.
    let body = app
        .gql(
            Some(partner),
            "query($id: ID!) { node(id: $id) { ... on Event { version } } }",
            json!({ "id": event }),
        )
        .await;
    let version = body["data"]["node"]["version"].as_i64().unwrap();
    let mut input = event_input(w.partner_org, 48, Some(8), false);
    input["i"]["id"] = json!(event);
    input["i"]["expectedVersion"] = json!(version);
    let body = app
    .gql(Some(partner), "mutation($i: UpdateEventInput!) { updateEvent(input: $i) { event { registeredCount waitlistCount } } }", input)
    .await;
    assert_eq!(
        (
            body["data"]["updateEvent"]["event"]["registeredCount"].as_i64(),
            body["data"]["updateEvent"]["event"]["waitlistCount"].as_i64()
        ),
        (Some(8), Some(4)),
        "{body}"
    );
    // Each registration, cancellation and promotion recounted the event under its lock.
    common::assert_rollups_exact(app).await;
}

both!(
    deadlines_attendance_organisers_and_the_public,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let mentor = app.login("mentor@test.example", PASSWORD).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let elsewhere = fixtures::organisation(
            db,
            "Baltic Sea Cultural Centre",
            "PL",
            OrganisationKind::Partner,
        )
        .await;
        let c = Callers {
            coordinator,
            partner,
            mentor,
            kiel,
        };
        let (public, internal) =
            partners_organise_only_for_their_own_organisation(&app, &w, &c, elsewhere).await;
        the_public_sees_public_events_only_and_no_participants(&app, &c, &public, &internal).await;
        an_event_under_way_takes_people_and_attendance_from_its_organisers_only(
            &app, &w, &c, &internal,
        )
        .await;
        a_cancelled_event_takes_no_registrations(&app, &c, &public).await;
    }
);

/// The callers of `deadlines_attendance_organisers_and_the_public`.
struct Callers {
    coordinator: String,
    partner: String,
    mentor: String,
    kiel: String,
}

/// Partners organise for their own organisation only; returns the public and the internal event.
async fn partners_organise_only_for_their_own_organisation(
    app: &TestApp,
    w: &World,
    c: &Callers,
    elsewhere: uuid::Uuid,
) -> (String, String) {
    let (coordinator, partner, mentor) = (&c.coordinator, &c.partner, &c.mentor);
    // Partners organise for their own organisation only.
    assert_eq!(
        code(
            &app.gql(
                Some(partner),
                CREATE,
                event_input(elsewhere, 24, None, true)
            )
            .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &app.gql(
                Some(mentor),
                CREATE,
                event_input(w.partner_org, 24, None, true)
            )
            .await
        ),
        "FORBIDDEN"
    );
    let bad = app
        .gql(Some(coordinator), CREATE, {
            let mut v = event_input(elsewhere, 24, None, true);
            v["i"]["event"]["timeZone"] = json!("Mars/Olympus");
            v
        })
        .await;
    assert_eq!(
        (code(&bad), bad["errors"][0]["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("timeZone"))
    );
    let public = create_event(app, coordinator, event_input(elsewhere, 24, Some(30), true)).await;
    let internal = create_event(app, partner, event_input(w.partner_org, 24, None, false)).await;
    // Another partner organisation cannot change the partner's event.
    fixtures::user(app, "gdansk@test.example", Role::Partner, Some(elsewhere)).await;
    let other_partner = app.login("gdansk@test.example", PASSWORD).await;
    let mut input = event_input(w.partner_org, 24, None, false);
    input["i"]["id"] = json!(internal);
    input["i"]["expectedVersion"] = json!(1);
    assert_eq!(
        code(
            &app.gql(
                Some(&other_partner),
                "mutation($i: UpdateEventInput!) { updateEvent(input: $i) { event { id } } }",
                input
            )
            .await
        ),
        "FORBIDDEN"
    );
    (public, internal)
}

/// Visitors see public events without participant data, never internal ones; members see both.
async fn the_public_sees_public_events_only_and_no_participants(
    app: &TestApp,
    c: &Callers,
    public: &str,
    internal: &str,
) {
    let kiel = &c.kiel;
    // The public sees public events, never participant data, never internal events — though
    // someone is registered for the public one.
    let registered = app
        .gql(Some(kiel), REGISTER, json!({ "i": { "eventId": public } }))
        .await;
    assert_eq!(
        registered["data"]["registerForEvent"]["participation"]["status"], "REGISTERED",
        "{registered}"
    );
    let body = app
    .gql(None, "{ events { totalCount edges { node { id title registeredCount participants { id } myParticipation { id } } } } }", json!({}))
    .await;
    assert_eq!(body["data"]["events"]["totalCount"], 1, "{body}");
    let node = &body["data"]["events"]["edges"][0]["node"];
    assert_eq!(
        (
            node["registeredCount"].clone(),
            node["participants"].clone()
        ),
        (Value::Null, json!([])),
        "{body}"
    );
    assert_eq!(
        code(
            &app.gql(
                None,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": internal })
            )
            .await
        ),
        "NOT_FOUND"
    );
    // Signed in: both events; the municipality sees only its own registration.
    let body = app
        .gql(
            Some(kiel),
            "{ events { totalCount } mine: events(filter: {registeredByMe: true}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (
            body["data"]["events"]["totalCount"].as_i64(),
            body["data"]["mine"]["totalCount"].as_i64()
        ),
        (Some(2), Some(1)),
        "{body}"
    );
}

/// Under way, self-registration is closed; organisers still add people and record attendance.
async fn an_event_under_way_takes_people_and_attendance_from_its_organisers_only(
    app: &TestApp,
    w: &World,
    c: &Callers,
    internal: &str,
) {
    let (partner, mentor, kiel) = (&c.partner, &c.mentor, &c.kiel);
    // An event under way: self-registration has closed, the organisers may still add people
    // and record attendance; others may not.
    let live = create_event(app, partner, event_input(w.partner_org, -1, None, false)).await;
    let body = app
        .gql(Some(kiel), REGISTER, json!({ "i": { "eventId": live } }))
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("registration closed"),
        "{body}"
    );
    let body = app
        .gql(
            Some(partner),
            REGISTER,
            json!({ "i": { "eventId": live, "userId": encode("User", w.mentor).0 } }),
        )
        .await;
    let reg = body["data"]["registerForEvent"]["participation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    assert_eq!(
        code(
            &app.gql(
                Some(kiel),
                REGISTER,
                json!({ "i": { "eventId": live, "userId": encode("User", w.mentor).0 } })
            )
            .await
        ),
        "FORBIDDEN"
    );
    let attend = "mutation($i: RecordAttendanceInput!) { recordAttendance(input: $i) { participation { attended } } }";
    assert_eq!(
        code(
            &app.gql(
                Some(mentor),
                attend,
                json!({ "i": { "id": reg, "attended": true } })
            )
            .await
        ),
        "FORBIDDEN"
    );
    let body = app
        .gql(
            Some(partner),
            attend,
            json!({ "i": { "id": reg, "attended": true } }),
        )
        .await;
    assert_eq!(
        body["data"]["recordAttendance"]["participation"]["attended"], true,
        "{body}"
    );
    // Before the start, attendance cannot be recorded yet.
    let body = app
        .gql(
            Some(mentor),
            REGISTER,
            json!({ "i": { "eventId": internal } }),
        )
        .await;
    let early = body["data"]["registerForEvent"]["participation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        code(
            &app.gql(
                Some(partner),
                attend,
                json!({ "i": { "id": early, "attended": true } })
            )
            .await
        ),
        "CONFLICT"
    );
}

/// A cancelled event takes no registrations; the counts stay exact.
async fn a_cancelled_event_takes_no_registrations(app: &TestApp, c: &Callers, public: &str) {
    let (coordinator, mentor) = (&c.coordinator, &c.mentor);
    // Cancelled events take no registrations.
    app.gql(
        Some(coordinator),
        "mutation($i: CancelEventInput!) { cancelEvent(input: $i) { event { cancelledAt } } }",
        json!({ "i": { "id": public, "reason": "Venue flooded" } }),
    )
    .await;
    assert_eq!(
        code(
            &app.gql(
                Some(mentor),
                REGISTER,
                json!({ "i": { "eventId": public } })
            )
            .await
        ),
        "CONFLICT"
    );
    common::assert_rollups_exact(app).await;
}

both!(
    icalendar_downloads_and_personal_feeds,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let public = create_event(
            &app,
            &coordinator,
            event_input(w.partner_org, 24, None, true),
        )
        .await;
        let internal = create_event(
            &app,
            &coordinator,
            event_input(w.partner_org, 72, None, false),
        )
        .await;
        let uuid = |id: &str| {
            pearls_api::graphql::ids::decode_any(&async_graphql::ID(id.to_owned()), "id")
                .unwrap()
                .1
        };
        let get = |path: String, token: Option<String>| {
            let app = &app;
            async move {
                let (status, ct, body) = app.download(&path, token.as_deref()).await;
                (status, ct, String::from_utf8(body).expect("utf8"))
            }
        };
        let (status, ct, body) = get(format!("/events/{}.ics", uuid(&public)), None).await;
        assert_eq!(status, 200, "{body}");
        assert!(ct.starts_with("text/calendar"), "{ct}");
        assert!(
            body.contains("BEGIN:VCALENDAR") && body.contains("BEGIN:VEVENT"),
            "{body}"
        );
        assert!(
            body.contains("SUMMARY:Culture and resilience webinar"),
            "{body}"
        );
        assert!(
            body.contains(&format!("UID:{}@bsr-cultural-pearls", uuid(&public))),
            "{body}"
        );
        // Internal events need a signed-in reader.
        assert_eq!(
            get(format!("/events/{}.ics", uuid(&internal)), None)
                .await
                .0,
            404
        );
        assert_eq!(
            get(
                format!("/events/{}.ics", uuid(&internal)),
                Some(kiel.clone())
            )
            .await
            .0,
            200
        );
        assert_eq!(get("/events/not-a-uuid.ics".into(), None).await.0, 404);

        // A personal feed of one's registrations.
        for e in [&public, &internal] {
            app.gql(Some(&kiel), REGISTER, json!({ "i": { "eventId": e } }))
                .await;
        }
        let (status, _, body) = get("/me/events.ics".into(), Some(kiel.clone())).await;
        assert_eq!(status, 200);
        assert_eq!(body.matches("BEGIN:VEVENT").count(), 2, "{body}");
        assert_eq!(get("/me/events.ics".into(), None).await.0, 401);
        let feed = "mutation { createCalendarFeed { path } }";
        let path =
            app.gql(Some(&kiel), feed, json!({})).await["data"]["createCalendarFeed"]["path"]
                .as_str()
                .expect("path")
                .to_owned();
        let (status, _, body) = get(path.clone(), None).await;
        assert_eq!(status, 200);
        assert_eq!(body.matches("BEGIN:VEVENT").count(), 2, "{body}");
        // A new feed ends the old one.
        app.gql(Some(&kiel), feed, json!({})).await;
        assert_eq!(get(path, None).await.0, 404);
        assert_eq!(get("/calendar/guessing.ics".into(), None).await.0, 404);
    }
);

both!(
    peer_learning_groups_follow_the_policy,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let mentor = app.login("mentor@test.example", PASSWORD).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let svendborg = app.login("svendborg@test.example", PASSWORD).await;
        let vejle = fixtures::organisation(db, "Vejle", "DK", OrganisationKind::Municipality).await;
        let create = "mutation($i: CreatePeerLearningGroupInput!) { createPeerLearningGroup(input: $i) { group { id facilitator { email } members { role municipality { name } } } } }";
        let group = |members: Value, facilitator: Option<uuid::Uuid>| {
            json!({ "i": { "group": { "name": "Harbour towns", "members": members,
            "facilitatorId": facilitator.map(|f| encode("User", f).0) } } })
        };
        let m = |org: uuid::Uuid, role: &str| json!({ "organisationId": encode("Organisation", org).0, "role": role });
        // A group needs someone who shares and someone who learns; members are municipalities.
        let body = app
            .gql(
                Some(&coordinator),
                create,
                group(json!([m(w.kiel, "LEARNS")]), Some(w.mentor)),
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT");
        let body = app
            .gql(
                Some(&coordinator),
                create,
                group(
                    json!([m(w.kiel, "LEARNS"), m(w.partner_org, "SHARES")]),
                    Some(w.mentor),
                ),
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT");
        // The mentor forms a group it facilitates (Vejle shares with Kiel).
        let body = app
            .gql(
                Some(&mentor),
                create,
                group(json!([m(vejle, "SHARES"), m(w.kiel, "LEARNS")]), None),
            )
            .await;
        assert_eq!(
            body["data"]["createPeerLearningGroup"]["group"]["facilitator"]["email"],
            "mentor@test.example",
            "{body}"
        );
        assert_eq!(
            code(
                &app.gql(
                    Some(&mentor),
                    create,
                    group(
                        json!([m(vejle, "SHARES"), m(w.kiel, "LEARNS")]),
                        Some(w.coordinator)
                    )
                )
                .await
            ),
            "FORBIDDEN"
        );
        assert_eq!(
            code(
                &app.gql(
                    Some(&partner),
                    create,
                    group(json!([m(vejle, "SHARES"), m(w.kiel, "LEARNS")]), None)
                )
                .await
            ),
            "FORBIDDEN"
        );
        assert_eq!(
            code(
                &app.gql(
                    Some(&kiel),
                    create,
                    group(json!([m(vejle, "SHARES"), m(w.kiel, "LEARNS")]), None)
                )
                .await
            ),
            "FORBIDDEN"
        );
        // Who sees it: coordinator, partners, the mentor, Kiel — not Svendborg.
        let list = "{ peerLearningGroups { totalCount } }";
        for (token, n) in [
            (&coordinator, 1),
            (&partner, 1),
            (&mentor, 1),
            (&kiel, 1),
            (&svendborg, 0),
        ] {
            let body = app.gql(Some(token), list, json!({})).await;
            assert_eq!(
                body["data"]["peerLearningGroups"]["totalCount"], n,
                "{body}"
            );
        }
        assert_eq!(
            code(&app.gql(None, list, json!({})).await),
            "UNAUTHENTICATED"
        );
    }
);
