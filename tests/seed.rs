//! `seed --demo`: real facts plus demo accounts, idempotent, usable right away.

use crate::common;

use common::{TestApp, code};
use serde_json::json;

both!(
    the_demo_seed_is_idempotent_and_usable,
    |app: TestApp| async move {
        let first = pearls_api::seed::demo(&app.state.db, &app.state.passwords)
            .await
            .expect("seed");
        assert!(first.inserted > 30, "{first:?}");
        let second = pearls_api::seed::demo(&app.state.db, &app.state.passwords)
            .await
            .expect("seed again");
        assert_eq!(second.inserted, 0, "running the seed twice changes nothing");

        // The public can see the consortium, the editions and the 2024 title holders.
        let body = app
        .gql(None, r#"{ organisations(filter: {kind: [LEAD_PARTNER, PARTNER]}) { totalCount }
                 edition(year: 2024) { awardPolicy { awardCap onePerCountry extraAwards } phases { kind startsAt endsAt } }
                 applications(filter: {editionYear: [2024]}) { totalCount edges { node { leadMunicipality { name countryCode } } } } }"#,
            json!({}))
        .await;
        assert_eq!(body["data"]["organisations"]["totalCount"], 12, "{body}");
        assert_eq!(body["data"]["edition"]["awardPolicy"]["awardCap"], 4);
        // The 2024 edition is the committed history document, loaded through the importer.
        let cureap = body["data"]["edition"]["phases"]
            .as_array()
            .expect("phases")
            .iter()
            .find(|p| p["kind"] == "CUREAP_DEVELOPMENT")
            .expect("the CuReAP window")
            .clone();
        assert_eq!(cureap["startsAt"], "2023-10-25T00:00:00Z");
        assert_eq!(cureap["endsAt"], "2023-11-16T23:59:00Z");
        assert_eq!(body["data"]["applications"]["totalCount"], 4);
        let mut names: Vec<String> = body["data"]["applications"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                e["node"]["leadMunicipality"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        names.sort();
        assert_eq!(names, ["Jakobstad", "Kiel", "Rūjiena", "Svendborg"]);

        // The public list of Pearls.
        let body = app
            .gql(
                None,
                "{ pearls(titleYear: 2024) { titleYear title municipality { name } } }",
                json!({}),
            )
            .await;
        let pearls = body["data"]["pearls"].as_array().expect("pearls");
        assert_eq!(pearls.len(), 4, "{body}");
        assert!(
            pearls
                .iter()
                .all(|p| p["titleYear"] == 2024 && p["municipality"]["name"].is_string()),
            "{body}"
        );

        // Each demo account signs in and sees its part.
        for (email, role) in [
            ("coordinator@pearls.example", "COORDINATOR"),
            ("partner@pearls.example", "PARTNER"),
            ("mentor@pearls.example", "MENTOR"),
            ("municipality@pearls.example", "MUNICIPALITY"),
        ] {
            let token = app.login(email, pearls_api::seed::DEMO_PASSWORD).await;
            let me = app.gql(Some(&token), "{ me { role } }", json!({})).await;
            assert_eq!(me["data"]["me"]["role"], role);
        }
        let mentor = app.login("mentor@pearls.example", "pearls-demo").await;
        let body = app
        .gql(Some(&mentor), "{ applications { totalCount edges { node { status leadMunicipality { members { email } } } } } }", json!({}))
        .await;
        assert_eq!(
            body["data"]["applications"]["totalCount"], 1,
            "the mentor sees the one assigned draft: {body}"
        );
        assert_eq!(
            body["data"]["applications"]["edges"][0]["node"]["status"],
            "DRAFT"
        );
        assert_eq!(
            body["data"]["applications"]["edges"][0]["node"]["leadMunicipality"]["members"][0]["email"],
            "municipality@pearls.example"
        );
        assert_eq!(code(&body), "<no error>");

        // The project's reporting periods and work plan, ready for reports and exports.
        let coordinator = app.login("coordinator@pearls.example", "pearls-demo").await;
        // The real editions agree with the public record (issue 16).
        let body = app
            .gql(
                Some(&coordinator),
                "{ kpis(filter: {editionYears: [2024, 2025, 2026]}) { funnel(groupBy: [EDITION]) {
                     applied shortlisted plansSubmitted awarded } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["data"]["kpis"]["funnel"],
            json!([
                { "applied": 12, "shortlisted": 12, "plansSubmitted": 12, "awarded": 4 },
                { "applied": 18, "shortlisted": 16, "plansSubmitted": 16, "awarded": 6 },
                { "applied": 17, "shortlisted": 11, "plansSubmitted": 11, "awarded": 4 }
            ]),
            "{body}"
        );
        let body = app
            .gql(
                Some(&coordinator),
                "{ reportingPeriods { number startsOn endsOn reportDeadline }
                   workPackages { code activities { code deliverables { code duePeriod { number } } } outputs { code indicator { code } } } }",
                json!({}),
            )
            .await;
        let periods = body["data"]["reportingPeriods"]
            .as_array()
            .expect("periods");
        assert_eq!(periods.len(), 6, "{body}");
        assert_eq!(periods[0]["startsOn"], "2023-01-01");
        assert_eq!(periods[5]["endsOn"], "2025-12-31");
        assert_eq!(periods[5]["reportDeadline"], "2026-03-31");
        let wps = body["data"]["workPackages"]
            .as_array()
            .expect("work packages");
        assert_eq!(
            wps.iter()
                .map(|w| w["code"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["WP1", "WP2", "WP3"]
        );
        assert_eq!(wps[1]["outputs"][0]["indicator"]["code"], "RCO83");
        assert_eq!(
            wps[2]["activities"][0]["deliverables"][0]["duePeriod"]["number"],
            6
        );
        let (status, _, body) = app
            .download("/export/periods/6.json", Some(&coordinator))
            .await;
        assert_eq!(status, 200);
        let export: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(export["reporting_period"]["end_date"], "2025-12-31");
        assert_eq!(export["partners"].as_array().map(Vec::len), Some(12));
        let codes: Vec<&str> = export["project_indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "RCO81", "RCO83", "RCO84", "RCO87", "RCO115", "RCO116", "RCR79", "RCR104"
            ],
            "outputs, then results, each in natural order"
        );
    }
);

both!(
    the_scale_seed_is_deterministic_and_usable,
    |app: TestApp| async move {
        use pearls_api::seed::scale::{ScaleOptions, load};
        use sea_orm::{ConnectionTrait, Statement};
        let opts = ScaleOptions {
            scale: 1,
            anchor: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        };
        let report = load(&app.state.db, &app.state.passwords, &opts)
            .await
            .expect("scale seed");
        assert!(report.inserted > 3_000, "{}", report.inserted);
        let again = load(&app.state.db, &app.state.passwords, &opts).await;
        assert!(again.is_err(), "only into an empty database");

        // Same N and anchor, same rows: a second database gets the same ids.
        let other = TestApp::spawn(app.backend)
            .await
            .expect("a second database");
        load(&other.state.db, &other.state.passwords, &opts)
            .await
            .expect("scale seed");
        let ids = |db: sea_orm::DatabaseConnection| async move {
            let backend = db.get_database_backend();
            let mut out = Vec::new();
            for table in [
                "application",
                "plan_action",
                "participation",
                "good_practice",
            ] {
                let rows = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        match backend {
                            sea_orm::DbBackend::Sqlite => {
                                format!("SELECT hex(id) AS id FROM {table} ORDER BY id")
                            }
                            _ => format!("SELECT CAST(id AS TEXT) AS id FROM {table} ORDER BY id"),
                        },
                    ))
                    .await
                    .unwrap();
                out.push(
                    rows.iter()
                        .map(|r| r.try_get::<String>("", "id").unwrap())
                        .collect::<Vec<_>>(),
                );
            }
            out
        };
        let (a, b) = (
            ids(app.state.db.clone()).await,
            ids(other.state.db.clone()).await,
        );
        assert!(a.iter().all(|t| !t.is_empty()));
        assert_eq!(a, b, "deterministic");

        // The logins work and see their part: the municipality edits its CuReAP.
        let municipality = app
            .login("municipality@pearls.example", "pearls-demo")
            .await;
        let body = app
            .gql(
                Some(&municipality),
                "{ applications { edges { node { status plan { id version } } } } }",
                json!({}),
            )
            .await;
        let edges = body["data"]["applications"]["edges"].as_array().unwrap();
        let statuses: Vec<&str> = edges
            .iter()
            .map(|e| e["node"]["status"].as_str().unwrap())
            .collect();
        assert!(statuses.contains(&"CUREAP_IN_DEVELOPMENT"), "{body}");
        assert!(statuses.contains(&"TITLE_YEAR_ACTIVE"), "{body}");
        let plan = edges
            .iter()
            .find(|e| e["node"]["status"] == "CUREAP_IN_DEVELOPMENT")
            .unwrap()["node"]["plan"]
            .clone();
        let body = app
            .gql(
                Some(&municipality),
                "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { version } } }",
                json!({ "i": { "planId": plan["id"], "expectedVersion": plan["version"], "vision": "Sing" } }),
            )
            .await;
        assert_eq!(code(&body), "<no error>", "{body}");
        // The frozen versions read back (their snapshots have the served shape).
        let coordinator = app.login("coordinator@pearls.example", "pearls-demo").await;
        let body = app
            .gql(
                Some(&coordinator),
                "{ applications(first: 100, filter: {status: [CUREAP_SUBMITTED, TITLE_YEAR_ACTIVE]}) { edges { node {
                   plan { versions { number content { vision actions { title } } } } } } } }",
                json!({}),
            )
            .await;
        assert_eq!(code(&body), "<no error>", "{body}");
        assert!(body.to_string().contains("\"number\":1"), "{body}");
    }
);
