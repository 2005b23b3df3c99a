//! The response cache (`api/src/graphql/cache.rs`): a repeated query costs only the statement
//! that authenticates it, and is never stale — not after a write through this node or another
//! one, not after the time a field depends on has come, not for another caller.

use chrono::{Duration, Utc};
use entity::{PhaseKind, phase};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{TestApp, code, fixtures};

const THEMES: &str = "{ vocabulary(kind: THEME) { name } }";
const CREATE_TERM: &str = "mutation($i: CreateVocabularyTermInput!) { createVocabularyTerm(input: $i) { term { name } } }";

/// The answer to `query` and the statements it cost on `node`.
async fn ask(node: &TestApp, token: Option<&str>, query: &str, vars: Value) -> (Value, u64) {
    let before = node.statements();
    let body = node.gql(token, query, vars).await;
    assert_eq!(code(&body), "<no error>", "{body}");
    (body, node.statements() - before)
}

/// A counter of the node's `/metrics`.
async fn metric(node: &TestApp, name: &str) -> u64 {
    let (status, _, body) = node.download("/metrics", None).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(body).expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} is not on /metrics:\n{text}"))
        .trim()
        .parse::<f64>()
        .expect("a number") as u64
}

fn names(body: &Value) -> Vec<String> {
    let mut n: Vec<String> = body["data"]["vocabulary"]
        .as_array()
        .expect("terms")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect();
    n.sort();
    n
}

both!(
    a_repeated_query_costs_only_its_authenticating_statement,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        let me = "{ me { email role organisation { name } } }";
        let (first, _) = ask(&app, Some(&token), me, json!({})).await;
        let hits = metric(&app, "pearls_response_cache_hits_total").await;
        let (again, cost) = ask(&app, Some(&token), me, json!({})).await;
        assert_eq!(first, again);
        assert_eq!(cost, 1, "a hit costs the authenticating statement only");
        assert_eq!(
            metric(&app, "pearls_response_cache_hits_total").await,
            hits + 1
        );

        // A page: executed once, then answered from memory.
        let page = "{ organisations(first: 20) { totalCount edges { node { name } } } }";
        let (first, executed) = ask(&app, Some(&token), page, json!({})).await;
        assert!(executed >= 2, "{executed}");
        let (again, cost) = ask(&app, Some(&token), page, json!({})).await;
        assert_eq!((first, cost), (again, 1));

        // Another variable is another answer.
        fixtures::organisation(
            &app.state.db,
            "Cēsis",
            "LV",
            entity::OrganisationKind::Municipality,
        )
        .await;
        let (a, _) = ask(
            &app,
            Some(&token),
            "query($n: Int!) { organisations(first: $n) { edges { node { name } } } }",
            json!({ "n": 1 }),
        )
        .await;
        let (b, _) = ask(
            &app,
            Some(&token),
            "query($n: Int!) { organisations(first: $n) { edges { node { name } } } }",
            json!({ "n": 2 }),
        )
        .await;
        assert_ne!(a, b);

        // Anonymous callers have no authenticating statement: reading the version is theirs.
        let (_, first) = ask(&app, None, THEMES, json!({})).await;
        let (_, again) = ask(&app, None, THEMES, json!({})).await;
        assert_eq!(
            (first, again),
            (2, 1),
            "version + vocabulary, then version only"
        );
        assert!(metric(&app, "pearls_response_cache_entries").await >= 4);
        assert!(metric(&app, "pearls_response_cache_bytes").await > 0);
    }
);

both!(
    a_write_is_seen_by_the_next_read_on_every_node,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        let other = app.second_node().await;
        // Both nodes hold the vocabulary in their caches.
        let (before, _) = ask(&app, None, THEMES, json!({})).await;
        let (on_other, _) = ask(&other, None, THEMES, json!({})).await;
        assert_eq!(before, on_other);
        assert_eq!(ask(&other, None, THEMES, json!({})).await.1, 1, "cached");

        // A write through the first node…
        let body = app
            .gql(
                Some(&token),
                CREATE_TERM,
                json!({ "i": { "kind": "THEME", "name": "cache coherence" } }),
            )
            .await;
        assert_eq!(code(&body), "<no error>", "{body}");

        // …is in the next answer of both, which each execute again.
        for node in [&app, &other] {
            let (after, cost) = ask(node, None, THEMES, json!({})).await;
            assert!(
                names(&after).contains(&"cache coherence".to_owned()),
                "{after}"
            );
            assert!(cost >= 2, "executed again: {cost}");
        }

        // A mutation is never answered from the cache, even when sent twice.
        let twice = app
            .gql(
                Some(&token),
                CREATE_TERM,
                json!({ "i": { "kind": "THEME", "name": "cache coherence" } }),
            )
            .await;
        assert_eq!(code(&twice), "CONFLICT", "{twice}");
    }
);

both!(
    one_callers_answer_is_never_another_callers,
    |app: TestApp| async move {
        let first = app.coordinator().await;
        fixtures::user(&app, "second@test.example", entity::Role::Mentor, None).await;
        let second = app.login("second@test.example", fixtures::PASSWORD).await;
        let me = "{ me { email } }";
        let (a, _) = ask(&app, Some(&first), me, json!({})).await;
        let (b, cost) = ask(&app, Some(&second), me, json!({})).await;
        assert_ne!(a, b, "each caller gets their own `me`");
        assert!(cost >= 1);

        // A signed-out session gets no cached answer: authentication comes first.
        assert_eq!(ask(&app, Some(&first), me, json!({})).await.1, 1);
        let out = app
            .gql(
                Some(&first),
                "mutation { logout(input: {everywhere: true}) { success } }",
                json!({}),
            )
            .await;
        assert_eq!(code(&out), "<no error>", "{out}");
        let refused = app.gql(Some(&first), me, json!({})).await;
        assert_eq!(code(&refused), "UNAUTHENTICATED", "{refused}");
    }
);

both!(
    an_answer_that_depends_on_the_time_ends_when_that_time_comes,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        // An edition whose call opens in an hour.
        let edition = fixtures::edition(&app.state.db, 2031, false).await;
        let opens = Utc::now() + Duration::hours(1);
        phase::ActiveModel {
            id: Set(Uuid::now_v7()),
            edition_id: Set(edition),
            kind: Set(PhaseKind::Preselection),
            starts_at: Set(opens),
            ends_at: Set(opens + Duration::days(10)),
        }
        .insert(&app.state.db)
        .await
        .expect("phase");
        let q = "{ editions(first: 10) { edges { node { titleYear currentPhase { kind }
            phases { kind isOpen } } } } }";
        let (before, _) = ask(&app, Some(&token), q, json!({})).await;
        let edge = &before["data"]["editions"]["edges"][0]["node"];
        assert_eq!(edge["currentPhase"], Value::Null, "{before}");
        assert_eq!(ask(&app, Some(&token), q, json!({})).await.1, 1, "cached");

        // Nothing was written, but the phase opened: the cached answer has ended.
        app.state.clock.advance(Duration::hours(2));
        let (after, cost) = ask(&app, Some(&token), q, json!({})).await;
        let edge = &after["data"]["editions"]["edges"][0]["node"];
        assert_eq!(edge["currentPhase"]["kind"], "PRESELECTION", "{after}");
        assert!(cost >= 2, "executed again: {cost}");
    }
);

both!(
    the_off_switch_executes_every_query,
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        // The node's first request also opens its pooled connection.
        ask(
            &app,
            None,
            "{ vocabulary(kind: METHOD) { name } }",
            json!({}),
        )
        .await;
        let (_, first) = ask(&app, None, THEMES, json!({})).await;
        let (_, again) = ask(&app, None, THEMES, json!({})).await;
        assert_eq!((first, again), (1, 1));
        let (status, _, body) = app.download("/metrics", None).await;
        assert_eq!(status, 200);
        assert!(
            !String::from_utf8(body)
                .unwrap()
                .contains("pearls_response_cache_hits_total")
        );
    }
);
