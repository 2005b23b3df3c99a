//! SQL statements per request for the benchmark suite's workloads (bench/run), counted on the
//! synthetic programme of `seed --scale 1`: each is a small constant, whatever the page size or
//! the number of nested rows — the property that keeps latency flat as the programme grows.

use crate::common;

use common::{TestApp, code};
use serde_json::{Value, json};

const DASHBOARD: &str =
    "query($n: Int!, $y: [Int!]) { applications(first: $n, filter: {editionYear: $y},
  orderBy: [{field: UPDATED_AT, direction: DESC}]) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { title status leadMunicipality { name countryCode }
    mentorAssignments { kind mentor { name email } } plan { isFrozen submittedVersion }
    latestStatusChange { toStatus changedAt } } } } }";

const PLAN: &str = "query($id: ID!) { node(id: $id) { ... on Plan { id version vision budget
  actions { title budget status startsOn themes { name } inspiredBy { title } latestProgress { implementation percentage } }
  indicators { name unit baseline target actual } comments { section body createdAt author { name } } } } }";

const KPI_PANEL: &str = "query($f: KpiFilter) { kpis(filter: $f) {
  funnel { applied eligible shortlisted plansSubmitted awarded awardRate }
  planActions(groupBy: [THEME]) { group { theme { name } } actions budgetPlanned participantsReached }
  events(groupBy: [COUNTRY]) { group { countryCode } events registrations attended } } }";

/// One term and a language filter: at scale 1 the bench's three terms and three countries match
/// no practice, and an empty page would not show what a page of rows costs.
const SEARCH: &str = "query($n: Int!) { practices(search: \"harbour\", first: $n,
  filter: {language: [\"en\"]}) { totalCount
  edges { node { title summary countryCode themes { name } reuseCount } } } }";

/// Runs `query` and returns how many statements it cost (failing on any error).
async fn cost(app: &TestApp, token: Option<&str>, query: &str, vars: Value) -> u64 {
    let before = app.statements();
    let body = app.gql(token, query, vars).await;
    assert_eq!(code(&body), "<no error>", "{body}");
    app.statements() - before
}

both!(
    benchmark_workloads_cost_a_fixed_number_of_statements,
    // What executing costs: the response cache would answer the repeated requests itself
    // (tests/cache.rs counts those).
    tweak = |c| c.response_cache = false,
    |app: TestApp| async move {
        app.seed_scale_1().await;
        let coordinator = app.login("coordinator@pearls.example", "pearls-demo").await;
        let partner = app.login("partner@pearls.example", "pearls-demo").await;
        let municipality = app
            .login("municipality@pearls.example", "pearls-demo")
            .await;

        // `me`: the signed-in user, read with their organisation by the one statement that
        // authenticates every request.
        let me = cost(
            &app,
            Some(&municipality),
            "{ me { email role organisation { name } } }",
            json!({}),
        )
        .await;
        assert_eq!(
            me, 1,
            "me: the user and its organisation, read when authenticating"
        );
        eprintln!("statements: me {me}");

        // The dashboard page at 1, 20 and 100 rows, for every role that has one: the user, then
        // the page planned as one statement with its count and everything nested.
        for (role, token) in [
            ("coordinator", &coordinator),
            ("partner", &partner),
            ("municipality", &municipality),
        ] {
            for n in [1, 20, 100] {
                let c = cost(&app, Some(token), DASHBOARD, json!({ "n": n, "y": null })).await;
                assert_eq!(c, 2, "{role}'s dashboard at first: {n}");
            }
        }
        eprintln!("statements: dashboard 2");

        // A plan with its actions (themes, practices, latest progress), indicators and
        // comments: the same for a plan of 10 actions as for one of 50.
        let plans = app
            .gql(
                Some(&coordinator),
                "{ applications(first: 100) { edges { node { plan { id actions { id } } } } } }",
                json!({}),
            )
            .await;
        let mut sized: Vec<(usize, Value)> = plans["data"]["applications"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| !e["node"]["plan"].is_null())
            .map(|e| {
                let p = &e["node"]["plan"];
                (p["actions"].as_array().unwrap().len(), p["id"].clone())
            })
            .collect();
        sized.sort_by_key(|(n, _)| *n);
        let (small, large) = (sized.first().unwrap(), sized.last().unwrap());
        assert!(
            large.0 >= 2 * small.0,
            "plans of different sizes: {sized:?}"
        );
        let c_small = cost(&app, Some(&coordinator), PLAN, json!({ "id": small.1 })).await;
        let c_large = cost(&app, Some(&coordinator), PLAN, json!({ "id": large.1 })).await;
        assert_eq!(c_small, c_large, "{} vs {} actions", small.0, large.0);
        assert_eq!(
            c_small, 9,
            "plan page: user, plan, actions, themes, practices, latest progress, indicators, comments, authors"
        );
        eprintln!("statements: plan page {c_small}");

        // The KPI panel: one aggregate per figure (+ the user, + the theme names).
        for filter in [json!({ "editionYears": [2027] }), Value::Null] {
            let c = cost(&app, Some(&partner), KPI_PANEL, json!({ "f": filter })).await;
            assert_eq!(c, 5, "KPI panel: user, three aggregates, theme names");
            eprintln!("statements: KPI panel {c}");
        }

        // Catalogue search: the ranked page with its count, and the terms of its rows.
        let anonymous: Vec<u64> = {
            let mut v = Vec::new();
            for n in [2, 20] {
                v.push(cost(&app, None, SEARCH, json!({ "n": n })).await);
            }
            v
        };
        let page = app.gql(None, SEARCH, json!({ "n": 20 })).await;
        let rows = page["data"]["practices"]["edges"]
            .as_array()
            .map_or(0, Vec::len);
        assert!(
            rows > 2,
            "the search must fill more than the small page to compare their costs: {page}"
        );
        assert_eq!(anonymous[0], anonymous[1], "{anonymous:?}");
        assert_eq!(
            anonymous[0], 3,
            "search: the ranked page with its count, the terms of its rows, their reuse counts"
        );
        eprintln!("statements: search {anonymous:?}");
    }
);

both!(
    without_the_planner_the_dashboard_goes_through_the_loaders,
    tweak = |c| {
        c.planner = false;
        c.response_cache = false;
    },
    |app: TestApp| async move {
        app.seed_scale_1().await;
        let coordinator = app.login("coordinator@pearls.example", "pearls-demo").await;
        for n in [1, 20, 100] {
            let c = cost(
                &app,
                Some(&coordinator),
                DASHBOARD,
                json!({ "n": n, "y": null }),
            )
            .await;
            assert_eq!(
                c, 6,
                "user, page with count, organisations, assignments with mentors, plans, latest changes"
            );
        }
    }
);
