//! The good-practice catalogue over HTTP: full-text search on a fixture of 220 practices, checked
//! against an independent oracle on both databases (so both give the same rows in the same
//! order), hostile query strings, filters with search, paging through ranked results, drafts
//! that never leak, and the review workflow.

use crate::common;

use std::collections::HashMap;

use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::{Role, TermKind};
use pearls_api::graphql::ids::encode;
use pearls_api::policy::{Actor, Principal};
use pearls_api::practices::service::{self, PracticeFields, Review};
use pearls_api::search::{Query, normalise};
use serde_json::{Value, json};
use uuid::Uuid;

const ADJECTIVES: [&str; 8] = [
    "Singing", "Open", "Shared", "Floating", "Green", "Young", "Silent", "Digital",
];
const NOUNS: [&str; 8] = [
    "harbour", "library", "festival", "theatre", "museum", "garden", "archive", "choir",
];
const TOWNS: [&str; 8] = [
    "Rūjiena",
    "Gdańsk",
    "Łódź",
    "Kiel",
    "Vejle",
    "Jakobstad",
    "Alytus",
    "Tartu",
];
const COUNTRIES: [&str; 8] = ["LV", "PL", "PL", "DE", "DK", "FI", "LT", "EE"];

/// One practice of the fixture as the oracle knows it.
struct Known {
    id: Uuid,
    title: String,
    summary: String,
    body: String,
    published: bool,
}

/// 220 practices: 200 published, 20 drafts (10 of them carry the word "confidential").
async fn fixture(app: &TestApp, author: Uuid, theme: Uuid) -> Vec<Known> {
    let author = Actor::User(Principal {
        user_id: author,
        role: Role::Partner,
        organisation_id: None,
    });
    let coordinator = {
        let id = fixtures::user(app, "editor@test.example", Role::Coordinator, None).await;
        Actor::User(Principal {
            user_id: id,
            role: Role::Coordinator,
            organisation_id: None,
        })
    };
    let db = &app.state.db;
    let mut out = Vec::new();
    for n in 0..220usize {
        let (a, b, t) = (n % 8, (n / 8) % 8, (n / 64) % 8);
        let title = format!("{} {} of {}", ADJECTIVES[a], NOUNS[b], TOWNS[t]);
        let summary = format!(
            "How {} used {}s to bring neighbours together ({n})",
            TOWNS[(t + 1) % 8],
            NOUNS[(b + 3) % 8]
        );
        let mut body = format!(
            "Residents of {} met every week. The {} grew into a place for {} and {}.",
            TOWNS[t],
            NOUNS[b],
            NOUNS[(a + 5) % 8],
            ADJECTIVES[(b + 2) % 8].to_lowercase()
        );
        if (200..210).contains(&n) {
            body.push_str(" Confidential draft notes.");
        }
        let f = PracticeFields::parse(
            &title,
            &summary,
            &body,
            Some(COUNTRIES[t].into()),
            None,
            None,
            "",
            None,
            "CC BY 4.0",
            "en",
            (
                if n % 3 == 0 { vec![theme] } else { vec![] },
                vec![],
                vec![],
            ),
        )
        .expect("fields");
        let p = service::create(db, &author, f).await.expect("create");
        let published = n < 200;
        if published {
            service::review(db, &author, p.id, Review::Submit, None, None)
                .await
                .expect("submit");
            service::review(db, &coordinator, p.id, Review::Publish, None, None)
                .await
                .expect("publish");
        }
        out.push(Known {
            id: p.id,
            title,
            summary,
            body,
            published,
        });
    }
    out
}

/// The oracle: which published practices match a query, best first — computed here from the
/// texts, independently of either database.
fn expected(known: &[Known], input: &str, only: impl Fn(&Known) -> bool) -> Vec<Uuid> {
    let Some(q) = Query::parse(input) else {
        let mut all: Vec<&Known> = known.iter().filter(|k| k.published && only(k)).collect();
        all.sort_by_key(|k| std::cmp::Reverse(k.id));
        return all.iter().map(|k| k.id).collect();
    };
    let has = |text: &str, i: usize| {
        let term = &q.terms[i];
        let prefix = i + 1 == q.terms.len() && term.chars().count() >= 2;
        normalise(text).split(' ').any(|w| {
            if prefix {
                w.starts_with(term.as_str())
            } else {
                w == term
            }
        })
    };
    let mut hits: Vec<(i64, Uuid)> = known
        .iter()
        .filter(|k| k.published && only(k))
        .filter_map(|k| {
            let mut rank = 0;
            for i in 0..q.terms.len() {
                let (t, s, b) = (has(&k.title, i), has(&k.summary, i), has(&k.body, i));
                if !(t || s || b) {
                    return None;
                }
                rank += 4 * t as i64 + 2 * s as i64 + b as i64;
            }
            Some((rank, k.id))
        })
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    hits.into_iter().map(|(_, id)| id).collect()
}

/// Every id of a search, following the cursors in pages of `page`.
async fn all_pages(
    app: &TestApp,
    token: Option<&str>,
    search: &str,
    filter: Value,
    page: i64,
) -> Vec<Uuid> {
    let q = "query($s: String, $f: PracticeFilter, $n: Int, $a: String) {
        practices(search: $s, filter: $f, first: $n, after: $a) { totalCount
            pageInfo { hasNextPage endCursor } edges { node { id } } } }";
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .gql(
                token,
                q,
                json!({ "s": search, "f": filter, "n": page, "a": after }),
            )
            .await;
        assert!(body["errors"].is_null(), "search {search:?}: {body}");
        let conn = &body["data"]["practices"];
        for e in conn["edges"].as_array().expect("edges") {
            let (_, id) = pearls_api::graphql::ids::decode_any(
                &async_graphql::ID(e["node"]["id"].as_str().expect("id").to_owned()),
                "id",
            )
            .expect("global id");
            out.push(id);
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            assert_eq!(
                conn["totalCount"].as_u64(),
                Some(out.len() as u64),
                "totalCount of {search:?}"
            );
            return out;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

both!(
    search_matches_the_oracle_on_both_databases,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let theme = fixtures::term(&app.state.db, TermKind::Theme, "social cohesion").await;
        let known = fixture(&app, w.partner, theme).await;
        assert_eq!(known.len(), 220);

        for search in [
            "festival",
            "festivals",
            "Rujiena",
            "rūjiena",
            "RŪJIENA",
            "lodz",
            "harbour fest",
            "singing harbour",
            "neighbours together",
            "the",
            "museum of ki",
            "\"harbour",
            "harbour & | ! ( ) :*",
            "'; DROP TABLE good_practice; --",
            "title : choir NEAR(open green) AND OR NOT",
            "*",
            "",
            "zzzz nothing like this",
        ] {
            let want = expected(&known, search, |_| true);
            let got = all_pages(&app, None, search, Value::Null, 50).await;
            assert_eq!(got, want, "search {search:?} on {:?}", app.backend);
        }
        // The table survived the hostile strings.
        assert_eq!(all_pages(&app, None, "", Value::Null, 100).await.len(), 200);

        // Search combines with the typed filters.
        let filter =
            json!({ "themeIds": [encode("VocabularyTerm", theme).0], "countryCode": ["PL"] });
        let codes: HashMap<Uuid, usize> =
            known.iter().enumerate().map(|(n, k)| (k.id, n)).collect();
        let want = expected(&known, "harbour", |k| {
            let n = codes[&k.id];
            n.is_multiple_of(3) && COUNTRIES[(n / 64) % 8] == "PL"
        });
        assert!(!want.is_empty());
        assert_eq!(all_pages(&app, None, "harbour", filter, 3).await, want);

        // Paging backwards through ranked results gives the same rows.
        let want = expected(&known, "choir", |_| true);
        let q = "query($l: Int, $b: String) { practices(search: \"choir\", last: $l, before: $b) {
        pageInfo { hasPreviousPage startCursor } edges { node { id } } } }";
        let mut back: Vec<Uuid> = Vec::new();
        let mut before = Value::Null;
        loop {
            let body = app.gql(None, q, json!({ "l": 4, "b": before })).await;
            let conn = &body["data"]["practices"];
            let mut page: Vec<Uuid> = conn["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| {
                    pearls_api::graphql::ids::decode_any(
                        &async_graphql::ID(e["node"]["id"].as_str().unwrap().to_owned()),
                        "id",
                    )
                    .unwrap()
                    .1
                })
                .collect();
            page.extend(back);
            back = page;
            if conn["pageInfo"]["hasPreviousPage"] != true {
                break;
            }
            before = conn["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(back, want);

        // Drafts never leak: not by search, count, filter or id — except to their author.
        let secret = all_pages(&app, None, "confidential", Value::Null, 20).await;
        assert!(secret.is_empty());
        let other = fixtures::user(
            &app,
            "other.partner@test.example",
            Role::Partner,
            Some(w.partner_org),
        )
        .await;
        let _ = other;
        let other = app.login("other.partner@test.example", PASSWORD).await;
        let municipality = app.login("kiel@test.example", PASSWORD).await;
        for token in [&other, &municipality] {
            assert!(
                all_pages(&app, Some(token), "confidential", Value::Null, 20)
                    .await
                    .is_empty()
            );
            let body = app
                .gql(
                    Some(token),
                    "{ practices(filter: {status: [DRAFT, IN_REVIEW]}) { totalCount } }",
                    json!({}),
                )
                .await;
            assert_eq!(body["data"]["practices"]["totalCount"], 0, "{body}");
        }
        let author = app.login("partner@test.example", PASSWORD).await;
        assert_eq!(
            all_pages(&app, Some(&author), "confidential", Value::Null, 20)
                .await
                .len(),
            10
        );
        let draft = encode("GoodPractice", known[205].id).0;
        for token in [None, Some(other.as_str()), Some(municipality.as_str())] {
            let body = app
                .gql(
                    token,
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({ "id": draft }),
                )
                .await;
            assert_eq!(code(&body), "NOT_FOUND", "{body}");
        }
    }
);

both!(
    the_review_workflow_and_who_may_do_what,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let method = fixtures::term(db, TermKind::Method, "co-creation").await;
        let theme = fixtures::term(db, TermKind::Theme, "youth").await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let mentor = app.login("mentor@test.example", PASSWORD).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let id = only_the_consortium_creates_practices_with_terms_of_the_right_kind(
            &app, &kiel, &mentor, method, theme,
        )
        .await;
        only_the_author_submits_and_only_the_coordinator_reviews(
            &app,
            &id,
            &coordinator,
            &partner,
            &mentor,
        )
        .await;
        the_author_edits_the_returned_draft_until_it_is_published(&app, &id, &coordinator, &mentor)
            .await;
        a_published_practice_is_public_frozen_and_searchable_until_archived(
            &app,
            &id,
            &coordinator,
            &partner,
            &mentor,
        )
        .await;
        let _ = w;
    }
);

/// The review mutation `m`, answering the practice's status, version and review comment.
fn step(m: &str) -> String {
    format!(
        "mutation($i: PracticeReviewInput!) {{ {m}(input: $i) {{ practice {{ status version reviewComment }} }} }}"
    )
}

/// The input of a review step on the practice `id`, with the `extra` fields.
fn review_input(id: &str, extra: Value) -> Value {
    let mut i = json!({ "id": id });
    if let Some(o) = extra.as_object() {
        for (k, v) in o {
            i[k] = v.clone();
        }
    }
    json!({ "i": i })
}

/// Updates a practice, answering its version, title and review comment.
const UPDATE_PRACTICE: &str = "mutation($i: UpdatePracticeInput!) { updatePractice(input: $i) { practice { version title reviewComment } } }";

/// Municipalities and visitors may not create practices; a term of the wrong vocabulary is refused.
async fn only_the_consortium_creates_practices_with_terms_of_the_right_kind(
    app: &TestApp,
    kiel: &str,
    mentor: &str,
    method: Uuid,
    theme: Uuid,
) -> String {
    let create = "mutation($i: CreatePracticeInput!) { createPractice(input: $i) { practice { id version status methods { name } } } }";
    let practice = |terms: Value| {
        json!({ "i": { "practice": { "title": "Youth radio", "summary": "Teenagers run a radio station",
        "body": "Weekly shows.", "language": "EN", "countryCode": "EE", "methodIds": terms } } })
    };
    // Municipalities read the catalogue but do not write it.
    assert_eq!(
        code(&app.gql(Some(kiel), create, practice(json!([]))).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&app.gql(None, create, practice(json!([]))).await),
        "UNAUTHENTICATED"
    );
    // A term of the wrong vocabulary is refused with its field.
    let body = app
        .gql(
            Some(mentor),
            create,
            practice(json!([encode("VocabularyTerm", theme).0])),
        )
        .await;
    assert_eq!(
        (
            code(&body),
            body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("BAD_USER_INPUT", Some("methodIds")),
        "{body}"
    );
    let body = app
        .gql(
            Some(mentor),
            create,
            practice(json!([encode("VocabularyTerm", method).0])),
        )
        .await;
    let p = &body["data"]["createPractice"]["practice"];
    assert_eq!(
        (p["status"].as_str(), p["methods"][0]["name"].as_str()),
        (Some("DRAFT"), Some("co-creation")),
        "{body}"
    );
    p["id"].as_str().expect("id").to_owned()
}

/// Only the author submits; only the coordinator publishes or returns (with a comment).
async fn only_the_author_submits_and_only_the_coordinator_reviews(
    app: &TestApp,
    id: &str,
    coordinator: &str,
    partner: &str,
    mentor: &str,
) {
    let vars = |extra: Value| review_input(id, extra);
    // Only the author submits; only the coordinator publishes or returns.
    assert_eq!(
        code(
            &app.gql(
                Some(partner),
                &step("submitPracticeForReview"),
                vars(json!({}))
            )
            .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            &app.gql(Some(coordinator), &step("publishPractice"), vars(json!({})))
                .await
        ),
        "CONFLICT"
    );
    let body = app
        .gql(
            Some(mentor),
            &step("submitPracticeForReview"),
            vars(json!({})),
        )
        .await;
    assert_eq!(
        body["data"]["submitPracticeForReview"]["practice"]["status"], "IN_REVIEW",
        "{body}"
    );
    assert_eq!(
        code(
            &app.gql(Some(mentor), &step("publishPractice"), vars(json!({})))
                .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &app.gql(Some(coordinator), &step("returnPractice"), vars(json!({})))
                .await
        ),
        "BAD_USER_INPUT"
    );
    let body = app
        .gql(
            Some(coordinator),
            &step("returnPractice"),
            vars(json!({ "comment": "Name the school" })),
        )
        .await;
    assert_eq!(
        body["data"]["returnPractice"]["practice"]["status"], "DRAFT",
        "{body}"
    );
}

/// The author sees the comment and edits the draft, a stale edit is refused; it is then published.
async fn the_author_edits_the_returned_draft_until_it_is_published(
    app: &TestApp,
    id: &str,
    coordinator: &str,
    mentor: &str,
) {
    let vars = |extra: Value| review_input(id, extra);
    // The author sees the comment and edits the draft; a stale edit is refused.
    let update = UPDATE_PRACTICE;
    let body = app
    .gql(Some(mentor), update, json!({ "i": { "id": id, "expectedVersion": 3, "practice": {
        "title": "Youth radio at Viljandi school", "summary": "Teenagers run a radio station" } } }))
    .await;
    assert_eq!(
        body["data"]["updatePractice"]["practice"]["reviewComment"], "Name the school",
        "{body}"
    );
    let stale = app
        .gql(
            Some(mentor),
            update,
            json!({ "i": { "id": id, "expectedVersion": 3, "practice": {
        "title": "x", "summary": "y" } } }),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT");
    app.gql(
        Some(mentor),
        &step("submitPracticeForReview"),
        vars(json!({})),
    )
    .await;
    let body = app
        .gql(Some(coordinator), &step("publishPractice"), vars(json!({})))
        .await;
    assert_eq!(
        body["data"]["publishPractice"]["practice"]["status"], "PUBLISHED",
        "{body}"
    );
}

/// Published: public without comment or author, frozen, found by search; archived: gone.
async fn a_published_practice_is_public_frozen_and_searchable_until_archived(
    app: &TestApp,
    id: &str,
    coordinator: &str,
    partner: &str,
    mentor: &str,
) {
    let vars = |extra: Value| review_input(id, extra);
    let update = UPDATE_PRACTICE;
    // Published: everyone reads it, the review comment stays private.
    let read = "query($id: ID!) { node(id: $id) { ... on GoodPractice { title status reviewComment author { email } } } }";
    let body = app.gql(None, read, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["node"]["title"], "Youth radio at Viljandi school",
        "{body}"
    );
    assert!(body["data"]["node"]["reviewComment"].is_null());
    assert!(
        body["data"]["node"]["author"].is_null(),
        "no user data for the public: {body}"
    );
    // The author can no longer edit a published practice; another partner never could.
    let body = app
        .gql(
            Some(mentor),
            update,
            json!({ "i": { "id": id, "expectedVersion": 6, "practice": {
        "title": "x", "summary": "y" } } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    let body = app
        .gql(
            Some(partner),
            update,
            json!({ "i": { "id": id, "expectedVersion": 6, "practice": {
        "title": "x", "summary": "y" } } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // The search index followed the edit (old title words gone, new ones found).
    let count = |q: &str| {
        let q = q.to_owned();
        async move {
            app.gql(
                None,
                "query($s: String) { practices(search: $s) { totalCount } }",
                json!({ "s": q }),
            )
            .await["data"]["practices"]["totalCount"]
                .as_i64()
        }
    };
    assert_eq!(count("viljandi school").await, Some(1));
    assert_eq!(count("youth radio").await, Some(1));
    // Archived: gone from the public catalogue.
    app.gql(Some(coordinator), &step("archivePractice"), vars(json!({})))
        .await;
    let body = app.gql(None, read, json!({ "id": id })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
}
