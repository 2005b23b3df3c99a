//! Subscriptions over a real WebSocket (graphql-transport-ws): status changes and plan comments
//! reach exactly those allowed to see them; on PostgreSQL they cross API nodes.

use crate::common;

use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, WsClient};
use entity::ApplicationStatus;
use pearls_api::graphql::ids::encode;
use serde_json::{Value, json};

const STATUS: &str = "subscription { applicationStatusChanged { application { title status } change { fromStatus toStatus note } } }";
const SUBMIT: &str = "mutation($i: ApplicationTransitionInput!) { submitApplication(input: $i) { application { status } } }";
const WITHDRAW: &str = "mutation($i: ApplicationTransitionInput!) { withdrawApplication(input: $i) { application { status } } }";

async fn open(app: &TestApp, token: &str, query: &str) -> WsClient {
    let (mut ws, ack) = app.websocket(Some(token)).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.subscribe("1", query, json!({})).await;
    ws
}

fn payload(msg: &Value) -> &Value {
    assert_eq!(msg["type"], "next", "{msg}");
    &msg["payload"]["data"]
}

both!(
    status_changes_reach_only_those_who_may_see_them,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let svendborg = app.login("svendborg@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let mut kiel_ws = open(&app, &kiel, STATUS).await;
        let mut svendborg_ws = open(&app, &svendborg, STATUS).await;
        let mut partner_ws = open(&app, &partner, STATUS).await;

        // Kiel submits its draft: Kiel hears it, and so does the partner (a submitted
        // application is theirs to read); Svendborg must not.
        let body = app
            .gql(
                Some(&kiel),
                SUBMIT,
                json!({ "i": { "id": encode("Application", w.kiel_app).0, "note": "Here we go" } }),
            )
            .await;
        assert_eq!(
            body["data"]["submitApplication"]["application"]["status"], "SUBMITTED",
            "{body}"
        );
        let got = kiel_ws.next().await;
        let data = payload(&got);
        assert_eq!(
            data["applicationStatusChanged"]["application"]["title"],
            "Kiel culture harbour"
        );
        assert_eq!(
            data["applicationStatusChanged"]["change"],
            json!({ "fromStatus": "DRAFT", "toStatus": "SUBMITTED", "note": "Here we go" })
        );
        let got = partner_ws.next().await;
        assert_eq!(
            payload(&got)["applicationStatusChanged"]["change"]["toStatus"],
            "SUBMITTED",
            "{got}"
        );

        // Then Svendborg withdraws its own draft. The first thing Svendborg's socket carries is
        // that, so Kiel's submission (earlier on the same bus) was never delivered to it. The
        // partner never sees a draft, not even its withdrawal.
        let body = app
            .gql(
                Some(&svendborg),
                WITHDRAW,
                json!({ "i": { "id": encode("Application", w.svendborg_draft).0 } }),
            )
            .await;
        assert_eq!(
            body["data"]["withdrawApplication"]["application"]["status"], "WITHDRAWN",
            "{body}"
        );
        let got = svendborg_ws.next().await;
        assert_eq!(
            payload(&got)["applicationStatusChanged"]["application"]["title"],
            "Svendborg next year",
            "{got}"
        );
        // A last change the partner may see proves nothing was queued before it.
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let body = app
            .gql(
                Some(&coordinator),
                WITHDRAW,
                json!({ "i": { "id": encode("Application", w.svendborg_app).0 } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let got = partner_ws.next().await;
        assert_eq!(
            payload(&got)["applicationStatusChanged"]["application"]["title"],
            "Svendborg stories",
            "{got}"
        );
    }
);

both!(
    a_socket_without_a_valid_token_is_refused,
    |app: TestApp| async move {
        World::build(&app).await;
        let (_ws, first) = app.websocket(None).await;
        assert_eq!(first["close"], 4403, "{first}");
        let (_ws, first) = app.websocket(Some("not.a.token")).await;
        assert_eq!(first["close"], 4403, "{first}");

        // Integration tokens read by POST; they cannot hold a socket open.
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let secret = app
            .gql(
                Some(&coordinator),
                "mutation { createIntegrationToken(input: {name: \"sync\", scopes: [KPI_READ, REPORTING_READ]}) { secret } }",
                json!({}),
            )
            .await["data"]["createIntegrationToken"]["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        let (_ws, first) = app.websocket(Some(&secret)).await;
        assert_eq!(first["close"], 4403, "{first}");
    }
);

both!(
    the_socket_carries_subscriptions_only,
    |app: TestApp| async move {
        World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let (mut ws, first) = app.websocket(Some(&coordinator)).await;
        assert_eq!(first["type"], "connection_ack", "{first}");
        // A query or a mutation over the socket would outlive its token's revocation and the
        // request time limit: refused, and the socket stays usable.
        for (id, query) in [
            ("q", "{ me { email } }"),
            ("m", "mutation { logout { ok } }"),
        ] {
            ws.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
                .await;
            let reply = ws.next().await;
            assert_eq!(reply["id"], id, "{reply}");
            assert!(reply["payload"]["data"].is_null(), "{reply}");
            assert_eq!(
                reply["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                "{reply}"
            );
            let done = ws.next().await;
            assert_eq!(
                (done["type"].as_str(), done["id"].as_str()),
                (Some("complete"), Some(id))
            );
        }
        ws.subscribe(
            "s",
            "subscription { applicationStatusChanged { application { title } } }",
            json!({}),
        )
        .await;
    }
);

both!(
    plan_comments_reach_the_plan_readers,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let e = fixtures::edition_all_phases(db, 2090, true, (4, true, 1)).await;
        let a = fixtures::application(
            db,
            e,
            w.kiel,
            "Kiel CuReAP",
            ApplicationStatus::CureapInDevelopment,
        )
        .await;
        fixtures::assign_mentor(db, a, w.mentor).await;
        let plan = fixtures::complete_plan(db, a).await;
        let plan_id = encode("Plan", plan).0;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let svendborg = app.login("svendborg@test.example", PASSWORD).await;
        let mentor = app.login("mentor@test.example", PASSWORD).await;
        let q = "subscription { planCommentAdded { plan { vision } comment { body section author { email } } } }";
        let mut kiel_ws = open(&app, &kiel, q).await;
        let svendborg_ws = open(&app, &svendborg, q).await;
        let comment =
            "mutation($i: CommentOnPlanInput!) { commentOnPlan(input: $i) { comment { body } } }";
        let body = app
            .gql(
                Some(&mentor),
                comment,
                json!({ "i": { "planId": plan_id, "section": "VISION", "body": "Bolder, please" } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let got = kiel_ws.next().await;
        assert_eq!(
            payload(&got)["planCommentAdded"]["comment"],
            json!({ "body": "Bolder, please", "section": "VISION", "author": { "email": "mentor@test.example" } }),
            "{got}"
        );
        // Svendborg hears nothing of Kiel's plan: its first message is its own withdrawal.
        let mut status_ws = svendborg_ws;
        status_ws.subscribe("2", STATUS, json!({})).await;
        let body = app
            .gql(
                Some(&svendborg),
                WITHDRAW,
                json!({ "i": { "id": encode("Application", w.svendborg_draft).0 } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let got = status_ws.next().await;
        assert_eq!(
            got["id"], "2",
            "the first message must be the status change: {got}"
        );
    }
);

/// Two API nodes on one PostgreSQL: an event written through one is delivered by the other
/// (LISTEN/NOTIFY). SQLite is one process by design, so this runs on PostgreSQL only.
#[actix_web::test]
async fn events_cross_api_nodes_on_postgres() {
    let Some(a) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let w = World::build(&a).await;
    let b = a.second_node().await;
    let coordinator = b.login("coordinator@test.example", PASSWORD).await;
    let mut on_b = open(&b, &coordinator, STATUS).await;
    let kiel = a.login("kiel@test.example", PASSWORD).await;
    let body = a
        .gql(
            Some(&kiel),
            SUBMIT,
            json!({ "i": { "id": encode("Application", w.kiel_app).0 } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let got = on_b.next().await;
    assert_eq!(
        payload(&got)["applicationStatusChanged"]["change"]["toStatus"],
        "SUBMITTED",
        "{got}"
    );
    // And the other way round, to the writer's own node as well.
    let mut on_a = open(&a, &kiel, STATUS).await;
    let body = b
        .gql(
            Some(&coordinator),
            WITHDRAW,
            json!({ "i": { "id": encode("Application", w.kiel_app).0 } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let got = on_a.next().await;
    assert_eq!(
        payload(&got)["applicationStatusChanged"]["change"]["toStatus"],
        "WITHDRAWN",
        "{got}"
    );
    let got = on_b.next().await;
    assert_eq!(
        payload(&got)["applicationStatusChanged"]["change"]["toStatus"],
        "WITHDRAWN",
        "{got}"
    );
}

const STATUS_AFTER: &str = "subscription($after: String) { applicationStatusChanged(after: $after) { cursor application { title } change { toStatus } } }";

/// Opens a status subscription starting after `after`. Without a cursor it waits until the
/// server took the subscription up (a ping answered); with one, the replayed events may come
/// first, so the caller reads them.
async fn open_after(app: &TestApp, token: &str, after: Option<&str>) -> WsClient {
    let Some(after) = after else {
        return open(app, token, STATUS_AFTER).await;
    };
    let (mut ws, ack) = app.websocket(Some(token)).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.send(json!({ "id": "1", "type": "subscribe",
                    "payload": { "query": STATUS_AFTER, "variables": { "after": after } } }))
        .await;
    ws
}

/// The (title, new status, cursor) of a delivered status event.
fn status_event(msg: &Value) -> (String, String, String) {
    let e = &payload(msg)["applicationStatusChanged"];
    (
        e["application"]["title"]
            .as_str()
            .expect("title")
            .to_owned(),
        e["change"]["toStatus"].as_str().expect("status").to_owned(),
        e["cursor"].as_str().expect("cursor").to_owned(),
    )
}

/// A subscriber that lost its connection reconnects with the cursor of the last event it got:
/// it receives, in order, what it may see of what happened meanwhile — on PostgreSQL through
/// another API node — then the live events, nothing twice, nothing it may not see.
async fn reconnect_and_replay(first: &TestApp, second: &TestApp) {
    let w = World::build(first).await;
    let db = &first.state.db;
    let later = fixtures::edition_all_phases(db, 2095, true, (4, true, 1)).await;
    let kiel_second = fixtures::application(
        db,
        later,
        w.kiel,
        "Kiel second try",
        ApplicationStatus::Draft,
    )
    .await;
    let kiel = first.login("kiel@test.example", PASSWORD).await;
    let coordinator = first.login("coordinator@test.example", PASSWORD).await;

    let mut ws = open_after(first, &kiel, None).await;
    let submit = first
        .gql(
            Some(&kiel),
            SUBMIT,
            json!({ "i": { "id": encode("Application", w.kiel_app).0 } }),
        )
        .await;
    assert!(submit["errors"].is_null(), "{submit}");
    let (title, status, c1) = status_event(&ws.next().await);
    assert_eq!(
        (title.as_str(), status.as_str()),
        ("Kiel culture harbour", "SUBMITTED")
    );
    drop(ws);

    // While Kiel is away: a change Kiel may not see, then one it may.
    for id in [w.svendborg_app, w.kiel_app] {
        let body = first
            .gql(
                Some(&coordinator),
                WITHDRAW,
                json!({ "i": { "id": encode("Application", id).0 } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }

    let mut ws = open_after(second, &kiel, Some(&c1)).await;
    let (title, status, c2) = status_event(&ws.next().await);
    assert_eq!(
        (title.as_str(), status.as_str()),
        ("Kiel culture harbour", "WITHDRAWN"),
        "the missed event Kiel may see comes first; Svendborg's never"
    );
    // Then live, after the replay, with no duplicate.
    let body = first
        .gql(
            Some(&kiel),
            SUBMIT,
            json!({ "i": { "id": encode("Application", kiel_second).0 } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let (title, status, c3) = status_event(&ws.next().await);
    assert_eq!(
        (title.as_str(), status.as_str()),
        ("Kiel second try", "SUBMITTED")
    );
    let order = |c: &str| pearls_api::live::decode_cursor(c).expect("cursor");
    assert!(order(&c1) < order(&c2) && order(&c2) < order(&c3));

    // A cursor that is not one, or from beyond the log, is refused on subscribe.
    for bad in [
        "garbage",
        pearls_api::live::cursor(order(&c3) + 1000).as_str(),
    ] {
        let (mut ws, _) = second.websocket(Some(&kiel)).await;
        ws.send(json!({ "id": "x", "type": "subscribe",
                        "payload": { "query": STATUS_AFTER, "variables": { "after": bad } } }))
            .await;
        let reply = ws.next().await;
        assert_eq!(reply["type"], "next", "{reply}");
        assert_eq!(
            reply["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{reply}"
        );
        assert_eq!(ws.next().await["type"], "complete");
    }
}

both!(
    a_reconnecting_subscriber_receives_what_it_missed,
    |app: TestApp| async move {
        reconnect_and_replay(&app, &app).await;
    }
);

#[actix_web::test]
async fn replay_crosses_api_nodes_on_postgres() {
    let Some(a) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let b = a.second_node().await;
    reconnect_and_replay(&a, &b).await;
}

both!(
    an_expiring_token_closes_the_socket_with_a_code,
    tweak = |c| c.access_token_ttl_secs = 1,
    |app: TestApp| async move {
        World::build(&app).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let mut ws = open_after(&app, &kiel, None).await;
        // No event needed: the socket closes when the token expires, never silently.
        let msg = ws.next().await;
        assert_eq!(msg["close"], 4401, "{msg}");
    }
);

both!(
    logout_and_a_role_change_close_the_socket_at_the_next_event,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let mut kiel_ws = open_after(&app, &kiel, None).await;
        let mut partner_ws = open_after(&app, &partner, None).await;
        let out = app
            .gql(
                Some(&kiel),
                "mutation { logout(input: {everywhere: true}) { success } }",
                json!({}),
            )
            .await;
        assert_eq!(out["data"]["logout"]["success"], true, "{out}");
        let version = app
            .gql(
                Some(&coordinator),
                "query($id: ID!) { node(id: $id) { ... on User { version } } }",
                json!({ "id": encode("User", w.partner).0 }),
            )
            .await["data"]["node"]["version"]
            .clone();
        let changed = app
            .gql(
                Some(&coordinator),
                "mutation($i: ChangeUserRoleInput!) { changeUserRole(input: $i) { user { role } } }",
                json!({ "i": { "id": encode("User", w.partner).0, "role": "MENTOR", "expectedVersion": version } }),
            )
            .await;
        assert!(changed["errors"].is_null(), "{changed}");
        // An event both would have received.
        let body = app
            .gql(
                Some(&coordinator),
                WITHDRAW,
                json!({ "i": { "id": encode("Application", w.svendborg_app).0 } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(kiel_ws.next().await["close"], 4401, "logged out");
        assert_eq!(partner_ws.next().await["close"], 4403, "role changed");
    }
);
