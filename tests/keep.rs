//! The keep.eu exchange document end to end: the project's facts kept by the coordinator
//! (audited, versioned, checked), then `/export/keep.json` validated against the committed JSON
//! Schema and `/export/keep.xml` parsed, their indicator values equal to the period export's
//! cumulative figures and to the KPIs for the same dates, `pearls export keep`'s bytes equal to
//! the HTTP document, and who may read it.

use crate::common;

use chrono::{TimeZone, Utc};
use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::Role;
use pearls_api::graphql::ids::encode;
use pearls_api::reporting::keep::KeepFormat;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::reporting::{attend, event, indicator, ok};

const SETTINGS: &str = "mutation($i: UpdateProjectSettingsInput!) { updateProjectSettings(input: $i) { settings { version acronym names { text language } euCofinancingRate totalBudget } } }";
const PARTNER_FACTS: &str = "mutation($i: SetPartnerFactsInput!) { setPartnerFacts(input: $i) { partner { version partnerType town cofinancingRate organisation { name } } } }";

fn schema() -> (boon::Schemas, boon::SchemaIndex) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/api/schemas/keep.schema.json");
    let text = std::fs::read_to_string(path).expect("the committed schema");
    let doc: Value = serde_json::from_str(&text).expect("the schema is JSON");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("urn:keep", doc)
        .expect("the schema loads");
    let index = compiler
        .compile("urn:keep", &mut schemas)
        .expect("the schema compiles");
    (schemas, index)
}

/// `{code: delivered}` of a keep document's indicators, outputs and results alike.
fn delivered(doc: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = doc["programme"]["project"][0]["project_indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .map(|i| {
            let (code, value) = if i["output_indicator_code"].is_string() {
                (
                    &i["output_indicator_code"],
                    &i["output_indicator_delivered"],
                )
            } else {
                (
                    &i["result_indicator_code"],
                    &i["result_indicator_delivered"],
                )
            };
            (code.as_str().unwrap().to_owned(), value.to_string())
        })
        .collect();
    out.sort();
    out
}

/// The coordinator keeps the project's facts and a partner's record; refused changes leave
/// nothing behind; the audit holds each changed field.
async fn the_facts_are_kept(app: &TestApp, w: &World, c: &str, partner: &str) {
    let db = &app.state.db;
    // Before the facts are kept, the document names what it lacks.
    let (status, _, body) = app.download("/export/keep.json", Some(c)).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("CONFLICT") && text.contains("programmeName") && text.contains("projectCode"),
        "{text}"
    );
    let s = ok(app, c, "{ projectSettings { version updatedAt names { text } partners { partnerType version organisation { name } } } }", json!({})).await;
    assert_eq!(s["projectSettings"]["version"], 0);
    assert_eq!(s["projectSettings"]["updatedAt"], Value::Null);
    assert_eq!(
        s["projectSettings"]["partners"],
        json!([
            { "partnerType": "LEAD_PARTNER", "version": 0, "organisation": { "name": "CBSS Secretariat" } },
            { "partnerType": "PARTNER", "version": 0, "organisation": { "name": "Creative Estonia" } },
        ])
    );

    // The coordinator keeps the facts; refused changes leave nothing behind.
    let facts = json!({ "i": {
        "expectedVersion": 0,
        "programmeName": "Interreg Baltic Sea Region", "programmePeriod": "2021-2027",
        "callSerialNumber": "1", "callStartDate": "2022-02-07", "callEndDate": "2022-05-20",
        "projectCode": "C004", "acronym": "BSR Cultural Pearls",
        "names": [{ "text": "BSR Cultural Pearls", "language": "en" },
                  { "text": "Kulturperlen der Ostseeregion", "language": "DE" }],
        "descriptions": [{ "text": "Municipalities build resilience through culture.", "language": "en" }],
        "expectedAchievements": [{ "text": "Twelve Pearls a year.", "language": "en" }],
        "startDate": "2026-01-01", "endDate": "2027-12-31",
        "totalBudget": "3500000.00", "euFundingAmount": "2800000", "euCofinancingRate": "80",
        "website": "https://pearls.example" } });
    for (name, change, code_) in [
        ("a partner", None, "FORBIDDEN"),
        (
            "a rate above 100",
            Some(("euCofinancingRate", json!("120"))),
            "BAD_USER_INPUT",
        ),
        (
            "an end before the start",
            Some(("endDate", json!("2025-12-31"))),
            "BAD_USER_INPUT",
        ),
        (
            "funding above the budget",
            Some(("euFundingAmount", json!("4000000"))),
            "BAD_USER_INPUT",
        ),
        (
            "a language twice",
            Some((
                "names",
                json!([{ "text": "a", "language": "en" }, { "text": "b", "language": "en" }]),
            )),
            "BAD_USER_INPUT",
        ),
        (
            "a language that is not one",
            Some(("names", json!([{ "text": "a", "language": "english" }]))),
            "BAD_USER_INPUT",
        ),
        (
            "a link that is not one",
            Some(("website", json!("javascript:alert(1)"))),
            "BAD_USER_INPUT",
        ),
        (
            "two lines in a name",
            Some(("acronym", json!("BSR\nPearls"))),
            "BAD_USER_INPUT",
        ),
    ] {
        let mut v = facts.clone();
        let who = match change {
            Some((field, value)) => {
                v["i"][field] = value;
                c
            }
            None => partner,
        };
        let body = app.gql(Some(who), SETTINGS, v).await;
        assert_eq!(code(&body), code_, "{name}: {body}");
    }
    let s = ok(app, c, "{ projectSettings { version } }", json!({})).await;
    assert_eq!(
        s["projectSettings"]["version"], 0,
        "refused changes wrote nothing"
    );
    let s = ok(app, c, SETTINGS, facts.clone()).await;
    assert_eq!(
        s["updateProjectSettings"]["settings"],
        json!({ "version": 1, "acronym": "BSR Cultural Pearls",
                "names": [{ "text": "BSR Cultural Pearls", "language": "en" },
                          { "text": "Kulturperlen der Ostseeregion", "language": "de" }],
                "euCofinancingRate": "80.00", "totalBudget": "3500000.00" })
    );
    let stale = app.gql(Some(c), SETTINGS, facts.clone()).await;
    assert_eq!(code(&stale), "CONFLICT", "{stale}");
    // A field left out stays; null clears.
    let s = ok(
        app,
        c,
        SETTINGS,
        json!({ "i": { "expectedVersion": 1, "website": null, "acronym": "BSR Cultural Pearls" } }),
    )
    .await;
    assert_eq!(s["updateProjectSettings"]["settings"]["version"], 2);
    let audit = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Action.eq("project.updateSettings"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2, "one entry per change");
    let last = audit.iter().max_by_key(|a| a.id).unwrap();
    assert_eq!(
        last.changes,
        json!({ "website": { "before": "https://pearls.example", "after": null } }),
        "the audit holds each changed field before and after, and only those"
    );

    let pf = json!({ "i": { "organisationId": encode("Organisation", w.partner_org).0,
        "expectedVersion": 0, "organisationType": "Public body", "legalStatus": "Public",
        "street": "Suur-Karja 23", "town": "Tallinn", "postalCode": "10148",
        "totalEligibleBudget": "400000", "cofinancingAmount": "320000.00",
        "cofinancingRate": "80", "partnerContribution": "80000" } });
    let body = app.gql(Some(partner), PARTNER_FACTS, pf.clone()).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let mut municipality = pf.clone();
    municipality["i"]["organisationId"] = json!(encode("Organisation", w.kiel).0);
    let body = app.gql(Some(c), PARTNER_FACTS, municipality).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let f = ok(app, c, PARTNER_FACTS, pf.clone()).await;
    assert_eq!(
        f["setPartnerFacts"]["partner"],
        json!({ "version": 1, "partnerType": "PARTNER", "town": "Tallinn",
                "cofinancingRate": "80.00", "organisation": { "name": "Creative Estonia" } })
    );
    assert_eq!(code(&app.gql(Some(c), PARTNER_FACTS, pf).await), "CONFLICT");
}

/// Two periods, the work plan, portal data the derived indicators count, and an accepted
/// contribution.
async fn a_year_is_recorded(app: &TestApp, w: &World, c: &str, partner: &str) {
    let db = &app.state.db;
    // Two periods, the work plan, portal data the derived indicators count, and an
    // accepted contribution.
    let period = "mutation($i: CreateReportingPeriodInput!) { createReportingPeriod(input: $i) { period { id } } }";
    ok(app, c, period, json!({ "i": { "number": 1, "startsOn": "2026-01-01", "endsOn": "2026-06-30", "reportDeadline": "2026-07-31" } })).await;
    ok(app, c, period, json!({ "i": { "number": 2, "startsOn": "2026-07-01", "endsOn": "2026-12-31", "reportDeadline": "2027-01-31" } })).await;
    let wp = ok(
        app,
        c,
        "mutation($i: PlanItemInput!) { createWorkPackage(input: $i) { workPackage { id } } }",
        json!({ "i": { "code": "WP1", "title": "Title cycle" } }),
    )
    .await;
    let wp = wp["createWorkPackage"]["workPackage"]["id"].clone();
    let act = ok(app, c, "mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id } } }",
        json!({ "i": { "workPackageId": wp, "activity": { "code": "A1.1", "title": "Mentoring" } } })).await;
    let act = act["createActivity"]["activity"]["id"].clone();
    for (code_, title) in [("D1.1.2", "Jury report"), ("D1.1.1", "Mentor handbook")] {
        ok(app, c, "mutation($i: CreateDeliverableInput!) { createDeliverable(input: $i) { deliverable { id } } }",
            json!({ "i": { "activityId": act, "code": code_, "title": title, "duePeriodNumber": 1 } })).await;
    }
    let list = ok(app, c, "{ indicators { id code } }", json!({})).await;
    let rco84 = indicator(&list["indicators"], "RCO84")["id"].clone();
    ok(app, c, "mutation($i: CreateOutputInput!) { createOutput(input: $i) { output { id } } }",
        json!({ "i": { "workPackageId": wp, "code": "O1.1", "title": "Pilot actions", "indicatorId": rco84, "target": "10" } })).await;
    let at = |m, d| Utc.with_ymd_and_hms(2026, m, d, 9, 0, 0).unwrap();
    let spring = event(db, w.partner_org, at(3, 1), true, false).await;
    let autumn = event(db, w.partner_org, at(8, 1), true, false).await;
    for (n, (e, org)) in [(spring, w.kiel), (spring, w.svendborg), (autumn, w.kiel)]
        .into_iter()
        .enumerate()
    {
        let u = fixtures::user(
            app,
            &format!("k{n}@test.example"),
            Role::Municipality,
            Some(org),
        )
        .await;
        attend(db, e, u, org, Some(true)).await;
    }
    fixtures::rebuild_rollups(db).await;
    ok(app, partner, "mutation($i: ContributeToIndicatorInput!) { contributeToIndicator(input: $i) { contribution { value } } }",
        json!({ "i": { "indicatorId": rco84, "periodNumber": 1, "value": "3", "evidence": "Three pilots" } })).await;
    let report = ok(
        app,
        partner,
        "mutation { savePartnerReport(input: {periodNumber: 1}) { report { id } } }",
        json!({}),
    )
    .await;
    let report = report["savePartnerReport"]["report"]["id"].clone();
    for (who, step) in [(partner, "submitPartnerReport"), (c, "acceptPartnerReport")] {
        ok(app, who, &format!("mutation($i: PartnerReportStepInput!) {{ {step}(input: $i) {{ report {{ status }} }} }}"),
            json!({ "i": { "id": report } })).await;
    }
}

/// The JSON documents of periods 1 and 2 checked against the schema, the period exports and
/// the KPIs; returns period 2's, parsed and as sent.
async fn the_json_document(app: &TestApp, c: &str) -> (Value, Vec<u8>) {
    let db = &app.state.db;
    // The JSON document: valid against the committed schema, its figures those of the
    // period export, cumulative.
    let (schemas, index) = schema();
    let mut docs = Vec::new();
    for n in [1, 2] {
        let (status, ct, body) = app
            .download(&format!("/export/keep.json?period={n}"), Some(c))
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert!(ct.starts_with("application/json"), "{ct}");
        let doc: Value = serde_json::from_slice(&body).expect("JSON");
        if let Err(e) = schemas.validate(&doc, index) {
            panic!("period {n}: the document does not meet the schema: {e:#}\n{doc:#}");
        }
        let (_, _, period) = app
            .download(&format!("/export/periods/{n}.json"), Some(c))
            .await;
        let period: Value = serde_json::from_slice(&period).unwrap();
        let mut expected: Vec<(String, String)> = period["project_indicators"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["type"] != "PORTAL")
            .map(|i| {
                (
                    i["code"].as_str().unwrap().to_owned(),
                    i["delivered_cumulative"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        expected.sort();
        assert_eq!(
            delivered(&doc),
            expected,
            "period {n}: the period export's cumulative figures"
        );
        docs.push((doc, body));
    }
    let (doc, bytes) = &docs[1];
    let values: std::collections::HashMap<String, String> = delivered(doc).into_iter().collect();
    assert_eq!(
        (
            values["RCO81"].as_str(),
            values["RCO115"].as_str(),
            values["RCO84"].as_str()
        ),
        ("3", "2", "3"),
        "attended participations and public events up to period 2; the accepted pilots"
    );
    assert_eq!(
        delivered(&docs[0].0)
            .into_iter()
            .find(|(c, _)| c == "RCO81")
            .unwrap()
            .1,
        "2"
    );
    // … and those of the KPIs for the same dates (project start to the period's end).
    for (to, attended) in [("2026-06-30", 2), ("2026-12-31", 3)] {
        let k = ok(app, c, &format!("{{ kpis(filter: {{from: \"2026-01-01\", to: \"{to}\"}}) {{ participations {{ attended }} }} }}"), json!({})).await;
        assert_eq!(
            k["kpis"]["participations"][0]["attended"], attended,
            "to {to}"
        );
    }
    let p = &doc["programme"];
    assert_eq!(
        (p["programme_name"].as_str(), p["period"].as_str()),
        (Some("Interreg Baltic Sea Region"), Some("2021-2027"))
    );
    assert_eq!(
        p["call"],
        json!([{ "serial_number": "1", "call_start_date": "2022-02-07", "call_end_date": "2022-05-20" }])
    );
    let project = &p["project"][0];
    assert_eq!(project["project_id"], "C004");
    assert_eq!(project["total_budget"], json!(3500000.00));
    assert_eq!(project["eu_funding_cofinancing_rate"], json!(80.00));
    assert_eq!(
        project["multi_languages_name"][1],
        json!({ "name": "Kulturperlen der Ostseeregion", "language": "de" })
    );
    assert_eq!(
        project["multi_languages_expected_achievements"],
        json!([[{ "expected_achievements": "Twelve Pearls a year.", "language": "en" }]])
    );
    assert!(project.get("website").is_none(), "cleared, so left out");
    assert!(
        project.get("multi_languages_actual_achievements").is_none(),
        "unknown, so left out"
    );
    assert!(project.get("programme_priority_code").is_none());
    assert_eq!(
        project["deliverables"],
        json!([{ "description": "D1.1.1 Mentor handbook", "language": "en" },
               { "description": "D1.1.2 Jury report", "language": "en" }])
    );
    let rco84 = project["project_indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["output_indicator_code"] == "RCO84")
        .unwrap();
    assert_eq!(
        rco84["output_indicator_title"],
        json!([{ "name": "Pilot actions" }])
    );
    let partners = project["partner"].as_array().unwrap();
    assert_eq!(partners.len(), 2);
    assert_eq!(
        partners[0],
        json!({ "partner_type": "LEAD_PARTNER", "multi_languages_organisation_name": [{ "name": "CBSS Secretariat" }],
                "address": [{ "main_or_department": "Main", "country": "SE" }] }),
        "nothing recorded for the lead partner: nothing invented"
    );
    assert_eq!(
        partners[1],
        json!({ "partner_type": "PARTNER", "multi_languages_organisation_name": [{ "name": "Creative Estonia" }],
                "address": [{ "main_or_department": "Main", "country": "EE", "town": "Tallinn", "street": "Suur-Karja 23", "postal_code": "10148" }],
                "organisation_type": "Public body", "legal_status": "Public",
                "total_eligible_budget": 400000.00, "cofinancing_amount": 320000.00, "cofinancing_rate": 80.00,
                "partner_contribution": 80000.00 })
    );
    // Today (real clock, after period 2 began) the default is period 2.
    let (_, _, default) = app.download("/export/keep.json", Some(c)).await;
    assert_eq!(
        &default, bytes,
        "without ?period, the latest period that has begun"
    );
    // `pearls export keep` writes the same bytes.
    let mut cli = Vec::new();
    pearls_api::reporting::export::keep_to(
        db,
        KeepFormat::Json,
        Some(2),
        Utc::now().date_naive(),
        &mut cli,
    )
    .await
    .expect("the command's export");
    assert_eq!(&cli, bytes);
    docs.swap_remove(1)
}

/// The XML document carries what the JSON does, and the command writes the same bytes.
async fn the_xml_document(app: &TestApp, c: &str, doc: &Value) {
    let db = &app.state.db;
    // The XML document: the same members as elements, lists repeated without a wrapper.
    let (status, ct, body) = app.download("/export/keep.xml?period=2", Some(c)).await;
    assert_eq!((status, ct.as_str()), (200, "application/xml"));
    let text = String::from_utf8(body).expect("UTF-8");
    let xml = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "programme");
    let child = |n: roxmltree::Node<'_, '_>, name: &str| -> Vec<String> {
        n.children()
            .filter(|c| c.tag_name().name() == name)
            .map(|c| c.text().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        child(root, "programme_name"),
        ["Interreg Baltic Sea Region"]
    );
    let project_el = root
        .children()
        .find(|c| c.tag_name().name() == "project")
        .expect("project");
    assert_eq!(child(project_el, "project_id"), ["C004"]);
    assert_eq!(
        project_el
            .children()
            .filter(|c| c.tag_name().name() == "partner")
            .count(),
        2
    );
    assert_eq!(
        project_el
            .children()
            .filter(|c| c.tag_name().name() == "multi_languages_name")
            .count(),
        2
    );
    let mut xml_values: Vec<(String, String)> = project_el
        .children()
        .filter(|c| c.tag_name().name() == "project_indicators")
        .map(|i| {
            let (code_, value) = if child(i, "output_indicator_code").is_empty() {
                ("result_indicator_code", "result_indicator_delivered")
            } else {
                ("output_indicator_code", "output_indicator_delivered")
            };
            (child(i, code_).concat(), child(i, value).concat())
        })
        .collect();
    xml_values.sort();
    assert_eq!(
        xml_values,
        delivered(doc),
        "the XML carries the JSON's figures"
    );
    let mut xml_cli = Vec::new();
    pearls_api::reporting::export::keep_to(
        db,
        KeepFormat::Xml,
        Some(2),
        Utc::now().date_naive(),
        &mut xml_cli,
    )
    .await
    .unwrap();
    assert_eq!(xml_cli, text.as_bytes());
}

/// Who reads the document and the facts.
async fn who_reads_it(app: &TestApp, c: &str, partner: &str) {
    // Who reads it: the coordinator and `reporting:read` tokens; not partners, `kpi:read`
    // tokens or the public. Partners and reporting tokens read the facts in the API.
    let token = |scope: &'static str| async move {
        app.gql(Some(c), "mutation($i: CreateIntegrationTokenInput!) { createIntegrationToken(input: $i) { secret } }",
                json!({ "i": { "name": scope, "scopes": [scope] } }))
                .await["data"]["createIntegrationToken"]["secret"]
                .as_str()
                .expect("secret")
                .to_owned()
    };
    let reporting = token("REPORTING_READ").await;
    let kpi = token("KPI_READ").await;
    let mentor = app.login("mentor@test.example", PASSWORD).await;
    for path in ["/export/keep.json", "/export/keep.xml"] {
        assert_eq!(app.download(path, Some(&reporting)).await.0, 200, "{path}");
        assert_eq!(app.download(path, Some(partner)).await.0, 403, "{path}");
        assert_eq!(app.download(path, Some(&kpi)).await.0, 403, "{path}");
        assert_eq!(app.download(path, None).await.0, 401, "{path}");
    }
    assert_eq!(
        app.download("/export/keep.json?period=9", Some(c)).await.0,
        404
    );
    // A period that is not a number is the contract's BAD_USER_INPUT, in its JSON body.
    let (status, ct, body) = app.download("/export/keep.json?period=abc", Some(c)).await;
    assert_eq!((status, ct.as_str()), (400, "application/json"));
    let body: Value = serde_json::from_slice(&body).expect("a JSON error body");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let read = "{ projectSettings { projectCode } }";
    for (who, expected) in [
        (reporting.as_str(), None),
        (partner, None),
        (mentor.as_str(), Some("FORBIDDEN")),
        (kpi.as_str(), Some("FORBIDDEN")),
    ] {
        let body = app.gql(Some(who), read, json!({})).await;
        match expected {
            None => assert_eq!(
                body["data"]["projectSettings"]["projectCode"], "C004",
                "{body}"
            ),
            Some(e) => assert_eq!(code(&body), e, "{body}"),
        }
    }
}

both!(
    the_keep_document_carries_the_project_s_facts_and_figures,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let c = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        the_facts_are_kept(&app, &w, &c, &partner).await;
        a_year_is_recorded(&app, &w, &c, &partner).await;
        let (doc, _) = the_json_document(&app, &c).await;
        the_xml_document(&app, &c, &doc).await;
        who_reads_it(&app, &c, &partner).await;
    }
);
