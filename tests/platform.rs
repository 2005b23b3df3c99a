//! The GraphQL platform over HTTP: the checked-in SDL, descriptions, partial results, limits,
//! CSRF, persisted queries, trusted documents, pagination and the side endpoints.

use crate::common;

use common::fixtures::{self, PASSWORD, World};
use common::{Backend, TestApp, code, codes};
use entity::{ApplicationStatus, OrganisationKind};
use serde_json::{Value, json};

#[test]
fn schema_graphql_is_the_served_schema() {
    let served = pearls_api::graphql::schema::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        served == checked_in,
        "schema.graphql differs from the served schema; regenerate it with `cargo run -- schema > schema.graphql`"
    );
}

const INTROSPECT: &str = r#"{ __schema { types { name kind description
    fields(includeDeprecated: true) { name description args { name description } }
    inputFields { name description }
    enumValues(includeDeprecated: true) { name description } } } }"#;

#[actix_web::test]
async fn every_type_field_argument_and_value_is_described() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let body = app.gql(None, INTROSPECT, json!({})).await;
    let mut missing = Vec::new();
    let described = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    for t in body["data"]["__schema"]["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || ["String", "Int", "Boolean", "ID", "Float"].contains(&name) {
            continue;
        }
        if !described(&t["description"]) {
            missing.push(name.to_string());
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            if !described(&f["description"]) {
                missing.push(format!("{name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(&a["description"]) {
                    missing.push(format!("{name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            if !described(&f["description"]) {
                missing.push(format!("{name}.{}", f["name"]));
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            if !described(&v["description"]) {
                missing.push(format!("{name}.{}", v["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
}

both!(
    a_failing_nullable_field_is_null_and_its_siblings_keep_their_data,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        // A public title holder, so anonymous readers see the application but not its motivation.
        let e = fixtures::edition(&app.state.db, 2024, false).await;
        let jakobstad = fixtures::organisation(
            &app.state.db,
            "Jakobstad",
            "SE",
            OrganisationKind::Municipality,
        )
        .await;
        fixtures::application(
            &app.state.db,
            e,
            jakobstad,
            "Jakobstad",
            ApplicationStatus::Awarded,
        )
        .await;
        let _ = w;
        let body = app
        .gql(None, "{ editions { totalCount } applications { totalCount edges { node { title motivation } } } me { email } }", json!({}))
        .await;
        let node = &body["data"]["applications"]["edges"][0]["node"];
        assert_eq!(node["title"], "Jakobstad", "{body}");
        assert!(
            node.get("motivation").is_some_and(Value::is_null),
            "motivation must be present and null: {body}"
        );
        assert_eq!(body["data"]["editions"]["totalCount"], 3);
        assert!(body["data"].get("me").is_some_and(Value::is_null), "{body}");
        let paths: Vec<Value> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["path"].clone())
            .collect();
        assert!(
            paths.contains(&json!(["applications", "edges", 0, "node", "motivation"])),
            "{paths:?}"
        );
        assert!(paths.contains(&json!(["me"])), "{paths:?}");
        assert_eq!(codes(&body), vec!["UNAUTHENTICATED", "UNAUTHENTICATED"]);

        // Nested lists that the public may not read are scoped, not refused: the page survives.
        // (Non-null propagation itself is unit-tested in graphql::extensions.)
        let body = app
        .gql(None, "{ editions { totalCount } applications { edges { node { title statusHistory { toStatus } latestStatusChange { toStatus } } } } }", json!({}))
        .await;
        let node = &body["data"]["applications"]["edges"][0]["node"];
        assert_eq!(node["title"], "Jakobstad", "{body}");
        assert_eq!(node["statusHistory"], json!([]), "{body}");
        assert!(node["latestStatusChange"].is_null(), "{body}");
        assert!(body["errors"].is_null(), "{body}");
    }
);

both!(
    response_keys_follow_the_query_order,
    |app: TestApp| async move {
        World::build(&app).await;
        let token = app.login("coordinator@test.example", PASSWORD).await;
        let mut res = app
        .client
        .post(format!("{}/graphql", app.base))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&json!({ "query": "{ users { totalCount } me { role email name } editions { totalCount } countries { code } }" }))
        .await
        .expect("request");
        let text = String::from_utf8(res.body().await.expect("body").to_vec()).expect("utf8");
        let pos = |k: &str| {
            text.find(&format!("\"{k}\""))
                .unwrap_or_else(|| panic!("{k} in {text}"))
        };
        assert!(
            pos("users") < pos("me")
                && pos("me") < pos("editions")
                && pos("editions") < pos("countries"),
            "{text}"
        );
        assert!(
            pos("role") < pos("email") && pos("email") < pos("name"),
            "{text}"
        );
    }
);

both!(pages_never_skip_or_repeat_rows, |app: TestApp| async move {
    World::build(&app).await;
    for n in 0..23 {
        // 24 organisations share a country code, so the tie-breaker decides their order.
        fixtures::organisation(
            &app.state.db,
            &format!("Town {n:02}"),
            "DE",
            OrganisationKind::Municipality,
        )
        .await;
    }
    let token = app.login("partner@test.example", PASSWORD).await;
    let q = "query($after: String, $before: String, $first: Int, $last: Int) {
        organisations(first: $first, after: $after, last: $last, before: $before,
                      orderBy: [{field: COUNTRY_CODE, direction: DESC}]) {
          totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id name } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .gql(Some(&token), q, json!({ "first": 5, "after": after }))
            .await;
        let conn = &body["data"]["organisations"];
        assert_eq!(conn["totalCount"], 27, "{body}");
        for e in conn["edges"].as_array().expect("edges") {
            seen.push(e["node"]["id"].as_str().expect("id").to_owned());
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (27, 27));

    // Backwards from the end gives the same rows in the same order.
    let mut back = Vec::new();
    let mut before = Value::Null;
    loop {
        let body = app
            .gql(Some(&token), q, json!({ "last": 7, "before": before }))
            .await;
        let conn = &body["data"]["organisations"];
        let ids: Vec<String> = conn["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect();
        back.splice(0..0, ids);
        if conn["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = conn["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(back, seen);

    // totalCount comes with the page; it stays right where the page cannot carry it: after the
    // last row, with `first: 0`, under an alias, with a filter that matches nothing.
    let last_cursor = {
        let body = app
            .gql(Some(&token), q, json!({ "last": 1, "before": null }))
            .await;
        body["data"]["organisations"]["pageInfo"]["endCursor"].clone()
    };
    for vars in [
        json!({ "first": 5, "after": last_cursor }),
        json!({ "first": 0 }),
        json!({ "last": 3 }),
    ] {
        let body = app.gql(Some(&token), q, vars.clone()).await;
        assert_eq!(
            body["data"]["organisations"]["totalCount"], 27,
            "{vars}: {body}"
        );
    }
    let body = app
        .gql(
            Some(&token),
            "{ a: organisations(first: 2) { n: totalCount } b: organisations(filter: {countryCode: [IS]}) { totalCount edges { cursor } }
               c: organisations(first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["a"]["n"], 27, "{body}");
    assert_eq!(body["data"]["b"]["totalCount"], 0, "{body}");
    assert!(body["data"]["c"]["totalCount"].is_null());

    for (vars, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 1, "last": 1 }), "first"),
        (json!({ "after": "bm90IGEgY3Vyc29y" }), "after"),
    ] {
        let body = app.gql(Some(&token), q, vars).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
});

async fn limits_are_enforced_with_their_code(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.max_depth = 6;
        c.max_aliases = 3;
        c.max_batch = 2;
        c.max_body_bytes = 4096;
        c.max_complexity = 500;
    })
    .await
    else {
        return;
    };
    let deep = "{ applications { edges { node { leadMunicipality { members { organisation { members { email } } } } } } } }";
    assert_eq!(
        code(&app.gql(None, deep, json!({})).await),
        "QUERY_TOO_COMPLEX"
    );
    let complex =
        "{ organisations(first: 100) { edges { node { members { email name role } } } } }";
    assert_eq!(
        code(&app.gql(None, complex, json!({})).await),
        "QUERY_TOO_COMPLEX"
    );
    let aliases = "{ a: editions { totalCount } b: editions { totalCount } c: editions { totalCount } d: editions { totalCount } }";
    assert_eq!(
        code(&app.gql(None, aliases, json!({})).await),
        "QUERY_TOO_COMPLEX"
    );
    let op = json!({ "query": "{ editions { totalCount } }" });
    let (status, body) = app.post_json(None, &json!([op, op, op])).await;
    assert_eq!((status, code(&body)), (400, "QUERY_TOO_COMPLEX"), "{body}");
    let (status, body) = app.post_json(None, &json!([op, op])).await;
    assert_eq!(status, 200);
    assert_eq!(body[1]["data"]["editions"]["totalCount"], 0, "{body}");
    let big = json!({ "query": format!("{{ editions {{ totalCount }} }} # {}", "x".repeat(5000)) });
    let (status, body) = app.post_json(None, &big).await;
    assert_eq!((status, code(&body)), (413, "QUERY_TOO_COMPLEX"), "{body}");
    // Syntax errors and unknown fields are the client's: BAD_USER_INPUT, no internals.
    let body = app.gql(None, "{ editions { nope } }", json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let body = app.gql(None, "{ editions { ", json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}

#[actix_web::test]
async fn get_runs_queries_only_and_posts_must_be_json() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let get = |q: &str| {
        let url = format!("{}/graphql?query={}", app.base, urlencode(q));
        app.client.get(url).send()
    };
    let mut res = get("{ editions { totalCount } }").await.expect("get");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["data"]["editions"]["totalCount"], 0, "{body}");
    let mut res = get("mutation { logout(input: {everywhere: true}) { success } }")
        .await
        .expect("get");
    let body: Value = res.json().await.expect("json");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("POST")
    );

    let mut res = app
        .client
        .post(format!("{}/graphql", app.base))
        .insert_header(("Content-Type", "text/plain"))
        .send_body(r#"{"query":"{ me { email } }"}"#)
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 415);
    let body: Value = res.json().await.expect("json");
    assert_eq!(code(&body), "BAD_USER_INPUT");

    // GraphiQL in development.
    let mut res = app
        .client
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .expect("graphiql");
    let html = String::from_utf8(res.body().await.expect("body").to_vec()).expect("utf8");
    assert!(html.contains("graphiql"), "{html}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sha256(s: &str) -> String {
    pearls_api::auth::sha256_hex(s.as_bytes())
}

async fn automatic_persisted_queries(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let q = "{ editions { totalCount } }";
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(q) } });
    let (status, body) = app.post_json(None, &json!({ "extensions": ext })).await;
    // Apollo clients look for either the message or the code, then send the text along.
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["errors"][0]["message"], "PersistedQueryNotFound",
        "{body}"
    );
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    let wrong =
        json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256("{ me { id } }") } });
    let (_, body) = app
        .post_json(None, &json!({ "query": q, "extensions": wrong }))
        .await;
    assert_eq!(
        code(&body),
        "BAD_USER_INPUT",
        "a hash that is not the text's: {body}"
    );
    let (_, body) = app
        .post_json(None, &json!({ "extensions": { "persistedQuery": { "version": 2, "sha256Hash": sha256(q) } } }))
        .await;
    assert_eq!(
        code(&body),
        "BAD_USER_INPUT",
        "an unknown protocol version: {body}"
    );
    let (_, body) = app
        .post_json(None, &json!({ "query": q, "extensions": ext }))
        .await;
    assert_eq!(body["data"]["editions"]["totalCount"], 0, "{body}");
    let (_, body) = app.post_json(None, &json!({ "extensions": ext })).await;
    assert_eq!(body["data"]["editions"]["totalCount"], 0, "{body}");
}

async fn trusted_documents_mode_runs_only_the_allow_list(backend: Backend) {
    let allowed = "query Editions { editions { totalCount } }";
    let path = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&path, json!({ sha256(allowed): allowed }).to_string()).expect("write");
    let p = path.clone();
    let Some(app) = TestApp::spawn_with(backend, move |c| c.trusted_documents = Some(p)).await
    else {
        return;
    };
    let (_, body) = app
        .post_json(
            None,
            &json!({ "query": "{ organisations { totalCount } }" }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(allowed) } });
    let (_, body) = app.post_json(None, &json!({ "extensions": ext })).await;
    assert_eq!(body["data"]["editions"]["totalCount"], 0, "{body}");
    let (_, body) = app.post_json(None, &json!({ "query": allowed })).await;
    assert_eq!(body["data"]["editions"]["totalCount"], 0, "{body}");
    // A hash outside the list cannot be registered here: the client should stop trying.
    let other =
        json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256("{ me { id } }") } });
    let (_, body) = app.post_json(None, &json!({ "extensions": other })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_SUPPORTED", "{body}");
    let (_, body) = app
        .post_json(
            None,
            &json!({ "query": "{ me { id } }", "extensions": other }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let _ = std::fs::remove_file(path);
}

both!(
    health_readiness_metrics_and_request_ids,
    |app: TestApp| async move {
        for path in ["/healthz", "/readyz"] {
            let res = app
                .client
                .get(format!("{}{path}", app.base))
                .send()
                .await
                .expect("get");
            assert_eq!(res.status().as_u16(), 200, "{path}");
            assert!(res.headers().contains_key("x-request-id"), "{path}");
        }
        app.gql(None, "{ editions { totalCount } }", json!({}))
            .await;
        let mut res = app
            .client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .expect("metrics");
        let text = String::from_utf8(res.body().await.expect("body").to_vec()).expect("utf8");
        assert!(text.contains("pearls_http_requests_total"), "{text}");
        assert!(text.contains("pearls_db_statements_total"), "{text}");
    }
);

#[actix_web::test]
async fn production_mode_is_hardened() {
    use pearls_api::config::Environment;
    // Without a proper secret the server refuses to start.
    let db = common::TestDatabase::create(Backend::Sqlite)
        .await
        .expect("db");
    for secret in [None, Some("short".to_string())] {
        let mut c = common::test_config(&db.url);
        c.environment = Environment::Production;
        c.jwt_secret = secret.map(Into::into);
        assert!(pearls_api::startup::Application::build(c).await.is_err());
    }
    let Some(app) =
        TestApp::spawn_with(Backend::Sqlite, |c| c.environment = Environment::Production).await
    else {
        return;
    };
    let body = app
        .gql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection must be off: {body}"
    );
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 400, "no GraphiQL in production");
    // No "did you mean" suggestions leak the schema either.
    let body = app
        .gql(None, "{ editionz { totalCount } }", json!({}))
        .await;
    assert!(
        !body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Did you mean"),
        "{body}"
    );
}

#[actix_web::test]
async fn cors_allows_only_configured_origins() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.cors_origins = vec!["https://portal.example.org".into()]
    })
    .await
    else {
        return;
    };
    let preflight = |origin: &'static str| {
        app.client
            .request(awc::http::Method::OPTIONS, format!("{}/graphql", app.base))
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ))
            .send()
    };
    let ok = preflight("https://portal.example.org")
        .await
        .expect("preflight");
    assert_eq!(
        ok.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://portal.example.org")
    );
    let other = preflight("https://evil.example").await.expect("preflight");
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

both!(forged_cursors_are_bad_input, |app: TestApp| async move {
    use base64::Engine;
    World::build(&app).await;
    let token = app.login("partner@test.example", PASSWORD).await;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"[{"S":"x"},{"S":"' OR 1=1 --"}]"#);
    let body = app
        .gql(
            Some(&token),
            "query($a: String) { organisations(after: $a) { totalCount } }",
            json!({ "a": forged }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "after");
});

both!(
    values_the_types_refuse_are_bad_input,
    |app: TestApp| async move {
        World::build(&app).await;
        let token = app.login("partner@test.example", PASSWORD).await;
        // Literals and variables a scalar or enum refuses: BAD_USER_INPUT, never an internal error.
        for (query, vars) in [
            (
                r#"{ organisations(filter: {countryCode: ["XYZ"]}) { totalCount } }"#,
                json!({}),
            ),
            (
                "{ organisations(filter: {countryCode: [X1]}) { totalCount } }",
                json!({}),
            ),
            (
                "query($c: [CountryCode!]) { organisations(filter: {countryCode: $c}) { totalCount } }",
                json!({ "c": ["SWE"] }),
            ),
            (
                "query($c: [CountryCode!]) { organisations(filter: {countryCode: $c}) { totalCount } }",
                json!({ "c": [46] }),
            ),
            (
                "query($k: [OrganisationKind!]) { organisations(filter: {kind: $k}) { totalCount } }",
                json!({ "k": ["CASTLE"] }),
            ),
            (
                "query($t: DateTime) { auditEntries(filter: {occurredAfter: $t}) { totalCount } }",
                json!({ "t": "yesterday" }),
            ),
        ] {
            let body = app.gql(Some(&token), query, vars.clone()).await;
            assert_eq!(code(&body), "BAD_USER_INPUT", "{query} {vars}: {body}");
        }
        // Unquoted codes are fine (as in the README's examples).
        let body = app
            .gql(
                Some(&token),
                "{ organisations(filter: {countryCode: [de, SE]}) { totalCount } }",
                json!({}),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
);

#[actix_web::test]
async fn limits_are_enforced_with_their_code_sqlite() {
    limits_are_enforced_with_their_code(Backend::Sqlite).await
}

#[actix_web::test]
async fn limits_are_enforced_with_their_code_postgres() {
    limits_are_enforced_with_their_code(Backend::Postgres).await
}

#[actix_web::test]
async fn automatic_persisted_queries_sqlite() {
    automatic_persisted_queries(Backend::Sqlite).await
}

#[actix_web::test]
async fn automatic_persisted_queries_postgres() {
    automatic_persisted_queries(Backend::Postgres).await
}

#[actix_web::test]
async fn trusted_documents_mode_runs_only_the_allow_list_sqlite() {
    trusted_documents_mode_runs_only_the_allow_list(Backend::Sqlite).await
}

#[actix_web::test]
async fn trusted_documents_mode_runs_only_the_allow_list_postgres() {
    trusted_documents_mode_runs_only_the_allow_list(Backend::Postgres).await
}

/// The standard introspection query of graphql-js 16.15 (`getIntrospectionQuery` with every
/// option: descriptions, `specifiedByURL`, `isRepeatable`, schema description, deprecated
/// input values, `isOneOf`), as GraphiQL, graphql-codegen and Python `gql` send it: 15 levels
/// deep, so it passes only because an operation that just introspects is exempt from the depth
/// limit in development. Its answer is the whole schema. Other operations keep the limit.
#[actix_web::test]
async fn the_standard_introspection_query_works_in_development() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let body = app
        .gql(None, include_str!("introspection-full.graphql"), json!({}))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    assert_eq!(schema["mutationType"]["name"], "Mutation");
    assert_eq!(schema["subscriptionType"]["name"], "Subscription");
    let types = schema["types"].as_array().expect("types");
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    let named = sdl
        .lines()
        .filter(|l| {
            [
                "type ",
                "input ",
                "enum ",
                "scalar ",
                "interface ",
                "union ",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .count();
    let ours = types
        .iter()
        .filter(|t| !t["name"].as_str().unwrap_or("__").starts_with("__"))
        .count();
    assert!(
        ours >= named,
        "{ours} types introspected, {named} in schema.graphql"
    );
    // Every custom scalar names its specification, so codegen and Relay can map it.
    let custom: Vec<(&str, &str)> = types
        .iter()
        .filter(|t| t["kind"] == "SCALAR")
        .filter_map(|t| {
            t["name"]
                .as_str()
                .map(|n| (n, t["specifiedByURL"].as_str().unwrap_or("")))
        })
        .filter(|(n, _)| !["String", "Int", "Float", "Boolean", "ID"].contains(n))
        .collect();
    assert_eq!(custom.len(), 5, "{custom:?}");
    for (name, url) in custom {
        assert!(
            url.starts_with("https://"),
            "{name} has no @specifiedBy: {url:?}"
        );
        assert!(
            sdl.contains(&format!("scalar {name} @specifiedBy(url: \"{url}\")")),
            "{name} in schema.graphql"
        );
    }
    // A deep ordinary query still meets the depth limit, with its code.
    let deep = format!(
        "{{ me {{ {} id {} }} }}",
        "organisation { members { ".repeat(6),
        "} } ".repeat(6)
    );
    let body = app.gql(None, &deep, json!({})).await;
    assert_eq!(common::code(&body), "QUERY_TOO_COMPLEX", "{body}");
}

/// GraphQL over HTTP: a client that accepts `application/graphql-response+json` gets that media
/// type, a 4xx without `data` for a request that fails before execution, and a 200 with data for
/// field errors; `application/json` clients keep today's answers (200 with the errors).
#[actix_web::test]
async fn the_graphql_response_media_type_gets_the_specification_s_status_codes() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let ask = |body: Value, accept: &'static str| {
        let app = &app;
        async move {
            let mut res = app
                .client
                .post(format!("{}/graphql", app.base))
                .insert_header(("Accept", accept))
                .send_json(&body)
                .await
                .expect("request");
            let ct = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let bytes = res.body().await.expect("body");
            let json: Value = serde_json::from_slice(&bytes).expect("a JSON body");
            (res.status().as_u16(), ct, json)
        }
    };
    const SPEC: &str = "application/graphql-response+json, application/json;q=0.9";
    let (status, ct, body) = ask(json!({ "query": "{ editions { totalCount } }" }), SPEC).await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "application/graphql-response+json; charset=utf-8")
    );
    assert_eq!(body["data"]["editions"]["totalCount"], 0);
    for (name, query) in [
        ("a syntax error", "{ editions { "),
        ("an unknown field", "{ nothing }"),
    ] {
        let (status, ct, body) = ask(json!({ "query": query }), SPEC).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert!(
            ct.starts_with("application/graphql-response+json"),
            "{name}: {ct}"
        );
        assert!(
            body.get("data").is_none(),
            "{name}: a request error has no data entry: {body}"
        );
        assert_eq!(common::code(&body), "BAD_USER_INPUT", "{name}: {body}");
        let (status, ct, body) = ask(json!({ "query": query }), "application/json").await;
        assert_eq!(
            (status, ct.as_str()),
            (200, "application/json"),
            "{name}: {body}"
        );
        assert_eq!(common::code(&body), "BAD_USER_INPUT", "{name}: {body}");
    }
    // A field error is a partial result: it ran, so it is a 200 with its data entry.
    let (status, _, body) = ask(
        json!({ "query": "{ editions { totalCount } me { id } }" }),
        SPEC,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["editions"]["totalCount"], 0, "{body}");
    assert_eq!(common::code(&body), "UNAUTHENTICATED", "{body}");
    // A transport refusal carries the negotiated media type too.
    let (status, ct, _) = ask(json!([]), SPEC).await;
    assert_eq!(status, 400);
    assert!(ct.starts_with("application/graphql-response+json"), "{ct}");
    // q=0 refuses the media type.
    let (_, ct, _) = ask(
        json!({ "query": "{ editions { totalCount } }" }),
        "application/graphql-response+json;q=0, application/json",
    )
    .await;
    assert_eq!(ct, "application/json");
}

/// A request stopped by the time limit has no data: under `application/graphql-response+json`
/// that is a 400 of that media type (a limit exceeded, as the others), `application/json`
/// clients keep their 200. Both carry QUERY_TOO_COMPLEX.
#[actix_web::test]
async fn a_stopped_request_answers_as_its_media_type_requires() {
    // No time at all: the operation is stopped before its first step.
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| c.request_timeout_ms = 0).await else {
        return;
    };
    let query = "{ editions { totalCount } events { totalCount } practices { totalCount } }";
    for (accept, status, media) in [
        (
            "application/graphql-response+json",
            400,
            "application/graphql-response+json; charset=utf-8",
        ),
        ("application/json", 200, "application/json"),
    ] {
        let mut res = app
            .client
            .post(format!("{}/graphql", app.base))
            .insert_header(("Accept", accept))
            .send_json(&json!({ "query": query }))
            .await
            .expect("request");
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = serde_json::from_slice(&res.body().await.expect("body")).expect("json");
        assert_eq!(
            (res.status().as_u16(), ct.as_str()),
            (status, media),
            "{body}"
        );
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(common::code(&body), "QUERY_TOO_COMPLEX", "{body}");
    }
}

/// `GET /metrics` as text, with an optional bearer token: (status, body).
async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut req = app.client.get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let mut res = req.send().await.expect("metrics");
    let body = res.body().limit(4 << 20).await.expect("body");
    (
        res.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// The families of a Prometheus text exposition, checked against the naming rules
/// `promtool check metrics` applies: every family has HELP and TYPE; names are valid; counters
/// end in `_total` and nothing else does; durations are in `_seconds`, sizes in `_bytes`; a
/// histogram has its `_bucket` (with `le`, ending at `+Inf`), `_sum` and `_count`; every sample
/// belongs to a declared family. Returns family name → type.
fn exposition(text: &str) -> std::collections::HashMap<String, String> {
    use std::collections::HashMap;
    let valid = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helps = std::collections::HashSet::new();
    let mut samples: Vec<(String, String)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.trim().is_empty(), "{name} has an empty HELP");
            helps.insert(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').expect("TYPE name type");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&ty),
                "{name}: type {ty}"
            );
            assert!(
                types.insert(name.to_owned(), ty.to_owned()).is_none(),
                "{name} twice"
            );
        } else if !line.starts_with('#') {
            let name_end = line.find(['{', ' ']).expect("a sample");
            let name = &line[..name_end];
            let labels = line[name_end..]
                .strip_prefix('{')
                .and_then(|l| l.split_once('}'))
                .map(|(l, _)| l.to_owned())
                .unwrap_or_default();
            let value = line.rsplit(' ').next().expect("a value");
            assert!(
                value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
                "{line}"
            );
            samples.push((name.to_owned(), labels));
        }
    }
    for (name, ty) in &types {
        assert!(valid(name), "invalid metric name {name}");
        assert!(helps.contains(name), "{name} has no HELP");
        assert_eq!(
            ty == "counter",
            name.ends_with("_total"),
            "{name} is a {ty}: only counters end in _total"
        );
        if name.contains("duration") || name.contains("latency") {
            assert!(name.ends_with("_seconds"), "{name}: durations in seconds");
        }
        if name.contains("memory") || name.ends_with("_size") {
            assert!(name.ends_with("_bytes"), "{name}: sizes in bytes");
        }
        if ty == "histogram" {
            for part in ["_bucket", "_sum", "_count"] {
                assert!(
                    samples.iter().any(|(n, _)| *n == format!("{name}{part}")),
                    "{name}{part} missing"
                );
            }
            assert!(
                samples
                    .iter()
                    .any(|(n, l)| *n == format!("{name}_bucket") && l.contains("le=\"+Inf\"")),
                "{name}: no +Inf bucket"
            );
        }
    }
    for (name, labels) in &samples {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s).filter(|b| {
                    types
                        .get(*b)
                        .is_some_and(|t| t == "histogram" || t == "summary")
                })
            })
            .unwrap_or(name);
        assert!(
            types.contains_key(family),
            "sample {name}{{{labels}}} has no TYPE"
        );
    }
    types
}

/// What an operator alerts on is on `/metrics`, by rules a Prometheus toolchain accepts.
#[actix_web::test]
async fn metrics_an_operator_can_alert_on() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    app.gql(
        None,
        "query Editions { editions { totalCount } }",
        json!({}),
    )
    .await;
    app.gql(
        None,
        "query Editions { editions { totalCount } }",
        json!({}),
    )
    .await;
    app.gql(None, "query Me { me { id } }", json!({})).await;
    app.gql(None, "{ nothing }", json!({})).await;
    // An invented method is refused before it could become a label.
    let method = awc::http::Method::from_bytes(b"INVENTED").expect("a method token");
    let res = app
        .client
        .request(method, format!("{}/graphql", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(
        res.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, HEAD, POST, OPTIONS")
    );
    let (status, text) = scrape(&app, None).await;
    assert_eq!(status, 200, "open in development");
    assert!(!text.contains("INVENTED"), "{text}");
    let types = exposition(&text);
    for (family, ty) in [
        ("pearls_http_requests_total", "counter"),
        ("pearls_http_requests_duration_seconds", "histogram"),
        ("pearls_http_requests_in_flight", "gauge"),
        ("pearls_db_statements_total", "counter"),
        ("pearls_db_pool_connections", "gauge"),
        ("pearls_graphql_operations_total", "counter"),
        ("pearls_graphql_operation_duration_seconds", "histogram"),
        ("pearls_graphql_errors_total", "counter"),
        ("pearls_subscription_sockets_open", "gauge"),
        ("pearls_response_cache_hits_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_open_fds", "gauge"),
    ] {
        assert_eq!(types.get(family).map(String::as_str), Some(ty), "{family}");
    }
    let has = |needle: &str| text.lines().any(|l| l.starts_with(needle));
    assert!(
        has("pearls_graphql_operations_total{operation=\"Editions\",type=\"query\"} 2"),
        "{text}"
    );
    assert!(
        has("pearls_graphql_operations_total{operation=\"Me\",type=\"query\"} 1"),
        "{text}"
    );
    assert!(
        has("pearls_graphql_operations_total{operation=\"anonymous\",type=\"query\"} 1"),
        "{text}"
    );
    assert!(
        has("pearls_graphql_errors_total{code=\"UNAUTHENTICATED\"} 1"),
        "{text}"
    );
    assert!(
        has("pearls_graphql_errors_total{code=\"BAD_USER_INPUT\"} 1"),
        "{text}"
    );
    assert!(has("pearls_db_pool_connections{state=\"idle\"}"), "{text}");
}

/// In production `/metrics` is off unless a token is configured; with one, only its holder
/// scrapes.
#[actix_web::test]
async fn metrics_are_closed_in_production_unless_a_token_is_set() {
    use pearls_api::config::Environment;
    let Some(app) =
        TestApp::spawn_with(Backend::Sqlite, |c| c.environment = Environment::Production).await
    else {
        return;
    };
    assert_eq!(scrape(&app, None).await.0, 404);
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.environment = Environment::Production;
        c.metrics_token = Some("scrape-secret-0123456789".into());
    })
    .await
    else {
        return;
    };
    assert_eq!(scrape(&app, None).await.0, 401);
    assert_eq!(scrape(&app, Some("wrong")).await.0, 401);
    let (status, text) = scrape(&app, Some("scrape-secret-0123456789")).await;
    assert_eq!(status, 200);
    exposition(&text);
}

/// GraphiQL in development: exact versions with subresource integrity, React's production
/// builds, subscriptions over `/graphql/ws`, an `Authorization` template in the headers editor.
#[actix_web::test]
async fn graphiql_is_pinned_and_ready_for_subscriptions() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let mut res = app
        .client
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200);
    let page = String::from_utf8(res.body().await.expect("body").to_vec()).expect("utf8");
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("https://"))
        .collect();
    assert_eq!(assets.len(), 5, "{assets:?}");
    for asset in &assets {
        let version = asset
            .split('@')
            .nth(1)
            .and_then(|v| v.split('/').next())
            .unwrap_or_default();
        assert!(
            version.split('.').count() == 3 && version.split('.').all(|n| n.parse::<u32>().is_ok()),
            "an exact version: {asset}"
        );
        let tag = page[..page.find(asset).unwrap()].rfind('<').unwrap();
        let element = &page[tag..page[tag..].find('>').unwrap() + tag];
        assert!(
            element.contains("integrity=\"sha384-")
                && element.contains("crossorigin=\"anonymous\""),
            "{element}"
        );
    }
    assert!(
        page.contains("react.production.min.js") && page.contains("react-dom.production.min.js")
    );
    assert!(!page.contains("development"), "no development builds");
    assert!(
        page.contains("'/ws'") && page.contains("graphqlWs.createClient"),
        "subscriptions"
    );
    assert!(
        page.contains("\"Authorization\": \"Bearer <"),
        "the headers template"
    );
}

/// Request budgets per principal: a user who spends theirs gets 429 / RATE_LIMITED with
/// `Retry-After`, and nobody else is held back — another user, an integration token, the public.
#[actix_web::test]
async fn request_budgets_are_per_principal() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |c| c.rate_limit_per_minute = 5).await
    else {
        return;
    };
    common::fixtures::World::build(&app).await;
    let partner = app
        .login("partner@test.example", common::fixtures::PASSWORD)
        .await;
    let mentor = app
        .login("mentor@test.example", common::fixtures::PASSWORD)
        .await;
    let cheap = "{ editions(first: 1) { totalCount } }";
    for _ in 0..5 {
        let body = app.gql(Some(&partner), cheap, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let mut res = app
        .client
        .post(format!("{}/graphql", app.base))
        .insert_header(("Authorization", format!("Bearer {partner}")))
        .send_json(&json!({ "query": cheap }))
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 429);
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = serde_json::from_slice(&res.body().await.expect("body")).expect("json");
    assert_eq!(common::code(&body), "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], retry);
    // Others keep their budgets.
    let body = app.gql(Some(&mentor), cheap, json!({})).await;
    assert!(body["errors"].is_null(), "another user: {body}");
    for _ in 0..6 {
        let body = app.gql(None, cheap, json!({})).await;
        assert!(body["errors"].is_null(), "anonymous: {body}");
    }
    // A heavy operation costs more: 1 + complexity / 100 (a page of 100 with 3 fields each).
    let coordinator = app
        .login("coordinator@test.example", common::fixtures::PASSWORD)
        .await;
    let heavy = "{ organisations(first: 100) { edges { node { id name countryCode } } } }";
    let body = app.gql(Some(&coordinator), heavy, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app.gql(Some(&coordinator), heavy, json!({})).await;
    assert_eq!(
        common::code(&body),
        "RATE_LIMITED",
        "the second heavy page: {body}"
    );
    // Files spend the same budget: a spent one refuses an export (429, Retry-After) before
    // anything is read, and a calendar file costs as a page of events does (5, here all of it).
    let mut res = app
        .client
        .get(format!("{}/export/periods/1.json", app.base))
        .insert_header(("Authorization", format!("Bearer {coordinator}")))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = serde_json::from_slice(&res.body().await.expect("body")).expect("json");
    assert_eq!(common::code(&body), "RATE_LIMITED", "{body}");
    let kiel = app
        .login("kiel@test.example", common::fixtures::PASSWORD)
        .await;
    assert_eq!(app.download("/me/events.ics", Some(&kiel)).await.0, 200);
    assert_eq!(app.download("/me/events.ics", Some(&kiel)).await.0, 429);
    let body = app.gql(Some(&kiel), cheap, json!({})).await;
    assert_eq!(common::code(&body), "RATE_LIMITED", "one budget: {body}");
}
