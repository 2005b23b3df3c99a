//! The planner answers exactly what the resolvers and DataLoaders answer: the same bytes, key
//! order included. Two API nodes on one database — one planning, one not — get the same
//! selections (nested objects and lists, aliases, fragments, `@skip`/`@include`, variables,
//! `__typename`, pagination both ways, `totalCount`) from every role on the scale-1 programme,
//! on both databases. The planning node must also have planned them (one statement for the
//! page), so the comparison cannot pass by both nodes taking the same road.

use serde_json::{Value, json};

use crate::common::TestApp;

const PAGE: &str = "query($n: Int, $m: Int, $after: String, $before: String, $withPlan: Boolean!,
    $skipMentors: Boolean!, $f: ApplicationFilter, $o: [ApplicationOrder!]) {
  page: applications(first: $n, last: $m, after: $after, before: $before, filter: $f, orderBy: $o) {
    __typename
    totalCount
    count2: totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
    edges { __typename cursor node { ...App } }
    nodes { ...App }
  }
}
fragment App on Application {
  __typename id t: title title status submittedAt createdAt updatedAt version
  edition { id titleYear name awardPolicy { awardCap onePerCountry extraAwards __typename }
    createdAt version }
  lead: leadMunicipality { id name kind countryCode region population isCapital createdAt
    updatedAt version __typename }
  coApplicants { id name countryCode }
  mentorAssignments @skip(if: $skipMentors) { id kind startsOn endsOn createdAt
    mentor { id email name role countryCode active createdAt version } }
  plan @include(if: $withPlan) { id vision context objectives stakeholders budget timeline
    submittedVersion isFrozen updatedAt version __typename }
  latestStatusChange { id fromStatus toStatus note changedAt actor { id name role } }
  statusHistory { id fromStatus toStatus changedAt }
  ... on Node { id }
}";

const DASHBOARD: &str =
    "query($n: Int!, $y: [Int!]) { applications(first: $n, filter: {editionYear: $y},
  orderBy: [{field: UPDATED_AT, direction: DESC}]) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { title status leadMunicipality { name countryCode }
    mentorAssignments { kind mentor { name email } } plan { isFrozen submittedVersion }
    latestStatusChange { toStatus changedAt } } } } }";

/// The raw response body (bytes, so key order counts) and the statements it cost.
async fn ask(node: &TestApp, token: Option<&str>, query: &str, vars: &Value) -> (String, u64) {
    let before = node.statements();
    let mut req = node.client.post(format!("{}/graphql", node.base));
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let mut res = req
        .send_json(&json!({ "query": query, "variables": vars }))
        .await
        .expect("request");
    let body = res.body().limit(10 << 20).await.expect("body");
    (
        String::from_utf8(body.to_vec()).expect("utf-8"),
        node.statements() - before,
    )
}

/// The two answers are the same bytes; if not, shows where they part.
fn assert_same(planned: &str, loaded: &str, what: &str) {
    if planned == loaded {
        return;
    }
    let at = planned
        .bytes()
        .zip(loaded.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(planned.len().min(loaded.len()));
    let from = planned[..at]
        .char_indices()
        .rev()
        .nth(150)
        .map_or(0, |(i, _)| i);
    panic!(
        "{what}: the planned answer differs from the loaders' at byte {at}:\nplanned …{}\nloaders …{}",
        planned
            .get(from..(at + 150).min(planned.len()))
            .unwrap_or(""),
        loaded.get(from..(at + 150).min(loaded.len())).unwrap_or("")
    );
}

/// Asks the planning node and the loaders' node the same, checks that the two bodies are the
/// same bytes, and answers the planning node's body and the statements it cost.
async fn both_ways(
    planner: &TestApp,
    loaders: &TestApp,
    token: Option<&str>,
    query: &str,
    vars: &Value,
    what: &str,
) -> (String, u64) {
    let (planned, cost) = ask(planner, token, query, vars).await;
    let (loaded, _) = ask(loaders, token, query, vars).await;
    assert_same(&planned, &loaded, what);
    (planned, cost)
}

/// The five callers of the scale-1 programme: the public and a user of each role.
async fn callers(app: &TestApp) -> Vec<(&'static str, Option<String>)> {
    let mut tokens = vec![("anonymous", None)];
    for who in ["coordinator", "partner", "mentor", "municipality"] {
        let t = app
            .login(&format!("{who}@pearls.example"), "pearls-demo")
            .await;
        tokens.push((who, Some(t)));
    }
    tokens
}

/// A second API node on the same database that answers through the loaders only.
async fn loaders_node(app: &TestApp) -> TestApp {
    app.node_with(|c| {
        c.planner = false;
        c.response_cache = false;
    })
    .await
}

/// Seeds the scale-1 programme, starts the loaders' node beside `app`, and signs the
/// coordinator in.
async fn seeded_with_loaders(app: &TestApp) -> (TestApp, String) {
    app.seed_scale_1().await;
    let loaders = loaders_node(app).await;
    let coordinator = app.login("coordinator@pearls.example", "pearls-demo").await;
    (loaders, coordinator)
}

/// `base` with the entries of `extra` set over it.
fn merged(base: &Value, extra: Value) -> Value {
    let mut v = base.clone();
    for (k, x) in extra.as_object().expect("object") {
        v[k] = x.clone();
    }
    v
}

fn vars(extra: Value) -> Value {
    let base = json!({ "n": 20, "m": null, "after": null, "before": null, "withPlan": true,
                       "skipMentors": false, "f": null, "o": null });
    merged(&base, extra)
}

both!(
    planned_pages_answer_what_the_loaders_answer,
    // Every answer executed (the response cache would answer a repeated selection itself).
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        app.seed_scale_1().await;
        let loaders = loaders_node(&app).await;
        let tokens = callers(&app).await;
        let mut compared = 0;
        for (who, token) in &tokens {
            let token = token.as_deref();
            // The first page, and the next one after its end cursor.
            let (first, _) = ask(&app, token, PAGE, &vars(json!({}))).await;
            let first: Value = serde_json::from_str(&first).expect("json");
            let end = first["data"]["page"]["pageInfo"]["endCursor"].clone();
            let start = first["data"]["page"]["pageInfo"]["startCursor"].clone();
            let cases = [
                vars(json!({})),
                vars(json!({ "after": end })),
                vars(json!({ "n": null, "m": 5, "before": end })),
                vars(json!({ "n": null, "m": 3 })),
                vars(json!({ "n": 0 })),
                vars(json!({ "after": start, "n": 7, "withPlan": false, "skipMentors": true })),
                vars(json!({ "o": [{ "field": "TITLE", "direction": "ASC" }], "n": 50 })),
                vars(
                    json!({ "f": { "status": ["AWARDED", "TITLE_YEAR_ACTIVE", "CUREAP_SUBMITTED"] } }),
                ),
                vars(json!({ "f": { "editionYear": [2027], "titleContains": "a" }, "n": 100 })),
                vars(json!({ "f": { "countryCode": ["LV", "EE"] } })),
            ];
            for v in &cases {
                let (planned, cost) =
                    both_ways(&app, &loaders, token, PAGE, v, &format!("{who} with {v}")).await;
                assert!(!planned.contains("\"errors\""), "{who} with {v}: {planned}");
                // One statement for the page (two with a count after an empty page past a
                // cursor), plus the user's.
                let signed_in = u64::from(token.is_some());
                assert!(cost <= 2 + signed_in, "{who} with {v}: {cost} statements");
                compared += 1;
            }
            for y in [json!(null), json!([2027]), json!([2026, 2028])] {
                let v = json!({ "n": 20, "y": y });
                let (_, cost) = both_ways(
                    &app,
                    &loaders,
                    token,
                    DASHBOARD,
                    &v,
                    &format!("{who}'s dashboard with {v}"),
                )
                .await;
                assert!(cost <= 1 + u64::from(token.is_some()), "{who}: {cost}");
                compared += 1;
            }
        }
        assert_eq!(compared, 5 * 13);

        // A selection the planner does not cover (a nested field it has no column for) goes
        // through the loaders, and answers the same as well.
        let coordinator = tokens[1].1.as_deref();
        let q = "{ applications(first: 5) { edges { node { title allowedActions
            edition { titleYear } } } } }";
        let (a, cost) = ask(&app, coordinator, q, &json!({})).await;
        let (b, _) = ask(&loaders, coordinator, q, &json!({})).await;
        assert_eq!(a, b);
        assert!(cost > 2, "this selection is not planned");
        // The public asking for the motivation (an error for them) is not planned either.
        let q = "{ applications(first: 2) { nodes { title motivation } } }";
        let (a, _) = ask(&app, None, q, &json!({})).await;
        let (b, _) = ask(&loaders, None, q, &json!({})).await;
        assert_eq!(a, b);
    }
);

both!(
    // The planned object's SQL is kept per caller and selection (`planner/text.rs`): callers
    // asking the same selection in turn, each twice (the second from the kept text), get their
    // own rows — exactly what the loaders give them — never another caller's.
    callers_asking_in_turn_each_get_their_own_planned_rows,
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        use crate::common::fixtures::{World, assign_mentor, user};
        let w = World::build(&app).await;
        // A second mentor of Kiel's application: each mentor reads their own assignment only.
        let second = user(
            &app,
            "mentor2@test.example",
            entity::Role::Mentor,
            Some(w.partner_org),
        )
        .await;
        assign_mentor(&app.state.db, w.kiel_app, second).await;
        let loaders = loaders_node(&app).await;
        let password = crate::common::fixtures::PASSWORD;
        let mut callers = Vec::new();
        // Svendborg before Kiel: Kiel's application has a mentor, whom the rule of Svendborg's
        // users would not show.
        for email in [
            "svendborg@test.example",
            "kiel@test.example",
            "mentor@test.example",
            "mentor2@test.example",
            "partner@test.example",
            "coordinator@test.example",
        ] {
            callers.push((email, app.login(email, password).await));
        }
        let v = json!({ "n": 20, "y": null });
        let mut first: Vec<String> = Vec::new();
        for round in 0..2 {
            for (i, (who, token)) in callers.iter().enumerate() {
                let what = format!("{who}, round {round}");
                let (planned, cost) =
                    both_ways(&app, &loaders, Some(token), DASHBOARD, &v, &what).await;
                assert!(
                    cost <= 2,
                    "{what}: {cost} statements (planned: the user's and one)"
                );
                assert!(!planned.contains("\"errors\""), "{what}: {planned}");
                if round == 0 {
                    first.push(planned);
                } else {
                    assert_eq!(planned, first[i], "{what}");
                }
            }
        }
        // The two municipalities read their own applications, none of the other's.
        let titles = |body: &str| -> Vec<String> {
            let v: Value = serde_json::from_str(body).expect("json");
            v["data"]["applications"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"]["title"].as_str().expect("title").to_owned())
                .collect()
        };
        let (svendborg, kiel) = (titles(&first[0]), titles(&first[1]));
        assert!(!kiel.is_empty() && !svendborg.is_empty());
        assert!(
            kiel.iter().all(|t| !svendborg.contains(t)),
            "{kiel:?} / {svendborg:?}"
        );
    }
);

// Text that JSON must escape (quotes, a backslash, the tab and line breaks the API accepts —
// it refuses other control characters) and text it must not
// (non-ASCII, an emoji, `</script>`): the planner copies the database's JSON text of a string
// only when it holds no escape, and otherwise writes it as the response serialiser does.
both!(
    planned_text_with_escapes_answers_what_the_loaders_answer,
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        let (loaders, coordinator) = seeded_with_loaders(&app).await;
        let token = Some(coordinator.as_str());
        // A municipality that leads an application, so that its name is nested in a page too.
        let q = "{ applications(first: 1) { nodes { leadMunicipality {
            id version countryCode population } } } }";
        let (found, _) = ask(&app, token, q, &json!({})).await;
        let found: Value = serde_json::from_str(&found).expect("json");
        let org = &found["data"]["applications"]["nodes"][0]["leadMunicipality"];
        let name = "Quote \"Q\" back\\slash\ttab ü Łódź 🎉 </script> 'single' end";
        let region = "line one\nline two\r\nthree";
        let renamed = app
            .gql(
                token,
                "mutation($i: UpdateOrganisationInput!) { updateOrganisation(input: $i) {
                    organisation { name region } } }",
                json!({ "i": { "id": org["id"], "expectedVersion": org["version"],
                    "organisation": { "kind": "MUNICIPALITY", "name": name, "region": region,
                        "countryCode": org["countryCode"], "population": org["population"] } } }),
            )
            .await;
        assert!(renamed["errors"].is_null(), "{renamed}");
        assert_eq!(
            renamed["data"]["updateOrganisation"]["organisation"]["name"],
            name
        );
        let v = json!({ "n": 5, "m": null, "after": null, "before": null,
            "f": { "nameContains": "back" }, "o": null, "withMembers": true });
        let (planned, cost) =
            both_ways(&app, &loaders, token, ORGANISATIONS, &v, "escaped names").await;
        assert!(cost <= 2, "planned: {cost} statements");
        let answer: Value = serde_json::from_str(&planned).expect("json");
        assert_eq!(
            answer["data"]["page"]["nodes"][0]["name"], name,
            "{planned}"
        );
        assert_eq!(
            answer["data"]["page"]["nodes"][0]["region"], region,
            "{planned}"
        );
        // The applications it leads, with the name nested.
        let v = vars(json!({ "f": { "countryCode": [org["countryCode"]] }, "n": 100 }));
        let (planned, _) = both_ways(&app, &loaders, token, PAGE, &v, "escaped leads").await;
        assert!(
            planned.contains("back\\\\slash"),
            "the renamed lead is on the page"
        );
    }
);

// Only the first and the last row's cursors are encoded unless the edges' cursors are
// selected; selected through a fragment and an alias, every edge has its own, and paging after a
// middle one continues from the next row, planned and through the loaders.
both!(
    every_selected_edge_cursor_pages_on_from_its_row,
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        let (loaders, coordinator) = seeded_with_loaders(&app).await;
        let token = Some(coordinator.as_str());
        let q = "query($after: String) { applications(first: 6, after: $after) { ...C } }
            fragment C on ApplicationConnection { es: edges { c: cursor node { id } }
              pageInfo { startCursor endCursor } }";
        for node in [&app, &loaders] {
            let (first, _) = ask(node, token, q, &json!({ "after": null })).await;
            let first: Value = serde_json::from_str(&first).expect("json");
            let page = &first["data"]["applications"];
            let edges = page["es"].as_array().expect("edges");
            assert_eq!(edges.len(), 6, "{first}");
            assert!(
                edges
                    .iter()
                    .all(|e| e["c"].as_str().is_some_and(|c| !c.is_empty())),
                "{first}"
            );
            assert_eq!(page["pageInfo"]["startCursor"], edges[0]["c"]);
            assert_eq!(page["pageInfo"]["endCursor"], edges[5]["c"]);
            let (next, _) = ask(node, token, q, &json!({ "after": edges[2]["c"] })).await;
            let next: Value = serde_json::from_str(&next).expect("json");
            let next = next["data"]["applications"]["es"]
                .as_array()
                .expect("edges")
                .clone();
            assert_eq!(next[..3], edges[3..], "after the third edge");
        }
        let (planned, _) = ask(&app, token, q, &json!({ "after": null })).await;
        let (loaded, _) = ask(&loaders, token, q, &json!({ "after": null })).await;
        assert_same(&planned, &loaded, "edge cursors");
    }
);

const ORGANISATIONS: &str = "query($n: Int, $m: Int, $after: String, $before: String,
    $f: OrganisationFilter, $o: [OrganisationOrder!], $withMembers: Boolean!) {
  page: organisations(first: $n, last: $m, after: $after, before: $before, filter: $f, orderBy: $o) {
    __typename
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
    edges { __typename cursor node { ...Org } }
    nodes { ...Org }
  }
}
fragment Org on Organisation {
  __typename id kind name countryCode region population isCapital createdAt updatedAt version
  members @include(if: $withMembers) { id email name role countryCode active createdAt version
    organisation { id name } }
}";

const USERS: &str = "query($n: Int, $m: Int, $after: String, $before: String, $f: UserFilter,
    $o: [UserOrder!]) {
  users(first: $n, last: $m, after: $after, before: $before, filter: $f, orderBy: $o) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename id email name role countryCode active createdAt version
      org: organisation { id kind name countryCode members { id name } } } }
  }
}";

const EVENTS: &str = "query($n: Int, $m: Int, $after: String, $before: String, $f: EventFilter,
    $o: [EventOrder!]) {
  events(first: $n, last: $m, after: $after, before: $before, filter: $f, orderBy: $o) {
    __typename totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename id kind title description programme startsAt endsAt
      timeZone place onlineUrl isPublic capacity registrationDeadline cancelledAt version
      organiser { id name kind countryCode } } }
    nodes { id title organiser { name } }
  }
}";

const ASSESSMENTS: &str = "query($n: Int, $m: Int, $after: String, $before: String) {
  assessments(first: $n, last: $m, after: $after, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename id stage conflictOfInterest comment submittedAt updatedAt
      version application { id title status lead: leadMunicipality { name } }
      assessor { id name role organisation { name } } } }
  }
}";

both!(
    planned_organisation_user_event_and_assessment_pages_answer_what_the_loaders_answer,
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        app.seed_scale_1().await;
        let loaders = loaders_node(&app).await;
        let tokens = callers(&app).await;
        let mut compared = 0;
        for (who, token) in &tokens {
            let token = token.as_deref();
            let signed_in = u64::from(token.is_some());
            let base = json!({ "n": 20, "m": null, "after": null, "before": null, "f": null,
                               "o": null, "withMembers": true });
            let with = |extra: Value| merged(&base, extra);
            let (first, _) = ask(&app, token, ORGANISATIONS, &base).await;
            let first: Value = serde_json::from_str(&first).expect("json");
            let end = first["data"]["page"]["pageInfo"]["endCursor"].clone();
            for v in [
                base.clone(),
                with(json!({ "after": end })),
                with(json!({ "n": null, "m": 4, "before": end, "withMembers": false })),
                with(
                    json!({ "f": { "kind": ["MUNICIPALITY"], "countryCode": ["LV", "DE"] },
                             "o": [{ "field": "COUNTRY_CODE", "direction": "DESC" }] }),
                ),
                with(json!({ "f": { "nameContains": "a" }, "n": 50, "withMembers": false })),
            ] {
                let (planned, cost) = both_ways(
                    &app,
                    &loaders,
                    token,
                    ORGANISATIONS,
                    &v,
                    &format!("{who}'s organisations with {v}"),
                )
                .await;
                assert!(!planned.contains("\"errors\""), "{who} with {v}: {planned}");
                assert!(cost <= 2 + signed_in, "{who} with {v}: {cost} statements");
                compared += 1;
            }
            for v in [
                with(json!({})),
                with(json!({ "n": null, "m": 3 })),
                with(
                    json!({ "f": { "role": ["MENTOR", "PARTNER"], "active": true },
                             "o": [{ "field": "EMAIL", "direction": "DESC" }] }),
                ),
                with(json!({ "f": { "search": "e" }, "n": 100 })),
            ] {
                let (planned, cost) = both_ways(
                    &app,
                    &loaders,
                    token,
                    USERS,
                    &v,
                    &format!("{who}'s users with {v}"),
                )
                .await;
                if token.is_some() {
                    assert!(!planned.contains("\"errors\""), "{who} with {v}: {planned}");
                    assert!(cost <= 2 + signed_in, "{who} with {v}: {cost} statements");
                }
                compared += 1;
            }
            let (first, _) = ask(&app, token, EVENTS, &base).await;
            let first: Value = serde_json::from_str(&first).expect("json");
            assert!(
                first["data"]["events"]["totalCount"].as_i64() > Some(0),
                "{who} sees events: {first}"
            );
            let end = first["data"]["events"]["pageInfo"]["endCursor"].clone();
            for v in [
                with(json!({})),
                with(json!({ "after": end, "n": 5 })),
                with(json!({ "n": null, "m": 4 })),
                with(
                    json!({ "f": { "includeCancelled": true, "kind": ["WEBINAR", "CONFERENCE", "FORUM"] },
                             "o": [{ "field": "TITLE", "direction": "DESC" }] }),
                ),
                with(json!({ "f": { "isPublic": true, "editionYear": [2026, 2027] } })),
            ] {
                let (planned, cost) = both_ways(
                    &app,
                    &loaders,
                    token,
                    EVENTS,
                    &v,
                    &format!("{who}'s events with {v}"),
                )
                .await;
                assert!(!planned.contains("\"errors\""), "{who} with {v}: {planned}");
                assert!(cost <= 2 + signed_in, "{who} with {v}: {cost} statements");
                compared += 1;
            }
            let (first, _) = ask(&app, token, ASSESSMENTS, &base).await;
            let first: Value = serde_json::from_str(&first).expect("json");
            let end = first["data"]["assessments"]["pageInfo"]["endCursor"].clone();
            if *who == "coordinator" {
                assert!(
                    first["data"]["assessments"]["totalCount"].as_i64() > Some(20),
                    "the seed scores applications: {first}"
                );
            }
            for v in [
                with(json!({})),
                with(json!({ "after": end, "n": 7 })),
                with(json!({ "n": null, "m": 5 })),
            ] {
                let (planned, cost) = both_ways(
                    &app,
                    &loaders,
                    token,
                    ASSESSMENTS,
                    &v,
                    &format!("{who}'s assessments with {v}"),
                )
                .await;
                if token.is_some() {
                    assert!(!planned.contains("\"errors\""), "{who} with {v}: {planned}");
                    assert!(cost <= 2 + signed_in, "{who} with {v}: {cost} statements");
                }
                compared += 1;
            }
        }
        assert_eq!(compared, 5 * 17);
    }
);

const PRACTICES: &str = "query($n: Int, $m: Int, $after: String, $before: String,
    $f: PracticeFilter, $o: [PracticeOrder!], $s: String) {
  practices(first: $n, last: $m, after: $after, before: $before, filter: $f, orderBy: $o,
            search: $s) {
    __typename totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ...P } }
    nodes { ...P }
  }
}
fragment P on GoodPractice {
  __typename id title summary body countryCode sourceText outcomes link licence language status
  publishedAt createdAt updatedAt version
  sourceOrganisation { id name kind } author { id name role organisation { name } }
}";

both!(
    planned_practice_pages_answer_what_the_loaders_answer,
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        app.seed_scale_1().await;
        let loaders = loaders_node(&app).await;
        let tokens = callers(&app).await;
        let base = json!({ "n": 20, "m": null, "after": null, "before": null, "f": null,
                           "o": null, "s": null });
        let with = |extra: Value| merged(&base, extra);
        // Drafts in review, with an author who is not the reader: what each role sees of them
        // differs (coordinators all; partners and mentors the published ones and their own).
        let coordinator = tokens[1].1.as_deref();
        let (all, _) = ask(&app, coordinator, PRACTICES, &with(json!({ "n": 100 }))).await;
        let all: Value = serde_json::from_str(&all).expect("json");
        assert!(
            all["data"]["practices"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .any(|p| p["status"] != "PUBLISHED"),
            "the seed has unpublished practices: {all}"
        );
        let mut compared = 0;
        for (who, token) in &tokens {
            let token = token.as_deref();
            let signed_in = u64::from(token.is_some());
            let (first, _) = ask(&app, token, PRACTICES, &base).await;
            let first: Value = serde_json::from_str(&first).expect("json");
            assert!(
                first["data"]["practices"]["totalCount"].as_i64() > Some(0),
                "{who} sees practices: {first}"
            );
            let end = first["data"]["practices"]["pageInfo"]["endCursor"].clone();
            for v in [
                base.clone(),
                with(json!({ "after": end, "n": 5 })),
                with(json!({ "n": null, "m": 4, "before": end })),
                with(
                    json!({ "f": { "status": ["PUBLISHED", "IN_REVIEW", "DRAFT"] },
                             "o": [{ "field": "TITLE", "direction": "DESC" }], "n": 100 }),
                ),
                with(json!({ "f": { "countryCode": ["LV", "SE", "FI"] },
                             "o": [{ "field": "UPDATED_AT", "direction": "ASC" }] })),
            ] {
                let (planned, cost) = both_ways(
                    &app,
                    &loaders,
                    token,
                    PRACTICES,
                    &v,
                    &format!("{who}'s practices with {v}"),
                )
                .await;
                assert!(!planned.contains("\"errors\""), "{who} with {v}: {planned}");
                assert!(cost <= 2 + signed_in, "{who} with {v}: {cost} statements");
                compared += 1;
            }
            // A search is ranked (not planned) and a review comment has its own readers (not
            // planned): both answer as the loaders do.
            for (q, v) in [
                (PRACTICES, with(json!({ "s": "bridge" }))),
                (
                    "{ practices(first: 10) { nodes { title reviewComment reuseCount } } }",
                    json!({}),
                ),
            ] {
                let (_, cost) = both_ways(
                    &app,
                    &loaders,
                    token,
                    q,
                    &v,
                    &format!("{who}'s practices with {v}"),
                )
                .await;
                assert!(
                    cost > 1 + signed_in,
                    "{who}: not planned, {cost} statements"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 5 * 7);
    }
);

const EDITIONS: &str = "query($n: Int, $m: Int, $after: String, $before: String,
    $f: EditionFilter, $o: [EditionOrder!]) {
  editions(first: $n, last: $m, after: $after, before: $before, filter: $f, orderBy: $o) {
    __typename totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ...E } }
    nodes { ...E }
  }
}
fragment E on Edition {
  __typename id titleYear name createdAt version
  policy: awardPolicy { __typename awardCap onePerCountry extraAwards }
  awardPolicy { extraAwards }
}";

both!(
    planned_edition_pages_answer_what_the_loaders_answer,
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        app.seed_scale_1().await;
        let loaders = loaders_node(&app).await;
        let tokens = callers(&app).await;
        let base = json!({ "n": 2, "m": null, "after": null, "before": null, "f": null,
                           "o": null });
        let with = |extra: Value| merged(&base, extra);
        let mut compared = 0;
        for (who, token) in &tokens {
            let token = token.as_deref();
            let signed_in = u64::from(token.is_some());
            let (first, _) = ask(&app, token, EDITIONS, &base).await;
            let first: Value = serde_json::from_str(&first).expect("json");
            assert!(
                first["data"]["editions"]["totalCount"].as_i64() > Some(3),
                "{who} sees the editions: {first}"
            );
            let end = first["data"]["editions"]["pageInfo"]["endCursor"].clone();
            for v in [
                base.clone(),
                with(json!({ "after": end, "n": 2 })),
                with(json!({ "n": null, "m": 3 })),
                with(json!({ "f": { "titleYearFrom": 2025, "titleYearTo": 2028 },
                             "o": [{ "field": "CREATED_AT", "direction": "ASC" }], "n": 100 })),
            ] {
                let (planned, cost) = both_ways(
                    &app,
                    &loaders,
                    token,
                    EDITIONS,
                    &v,
                    &format!("{who}'s editions with {v}"),
                )
                .await;
                assert!(!planned.contains("\"errors\""), "{who} with {v}: {planned}");
                assert!(cost <= 2 + signed_in, "{who} with {v}: {cost} statements");
                compared += 1;
            }
            // The current phase changes by time alone: not planned, and the same answer.
            let q = "{ editions(first: 3) { nodes { titleYear currentPhase { kind } } } }";
            let what = format!("{who}'s editions with a phase");
            let (_, cost) = both_ways(&app, &loaders, token, q, &json!({}), &what).await;
            assert!(
                cost > 1 + signed_in,
                "{who}: not planned, {cost} statements"
            );
            compared += 1;
        }
        assert_eq!(compared, 5 * 5);
    }
);
