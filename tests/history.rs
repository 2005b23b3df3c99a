//! An edition's history as a document (issue 16, item 1): imported through the coordinators'
//! mutation on both databases with the real (past) dates and without touching the clock,
//! exported back byte for byte, idempotent, audited with the document's hash, within the
//! rules (refused whole with every reason otherwise, nothing written), and counted by the KPIs
//! on the dates the decisions took effect.

use crate::common;

use common::{TestApp, assert_rollups_exact, code};
use pearls_api::history::EditionHistory;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const IMPORT: &str = "mutation($i: ImportEditionHistoryInput!) { importEditionHistory(input: $i) {
    edition { titleYear name } changed documentSha256 applications organisationsCreated } }";

fn step(status: &str, at: &str) -> Value {
    json!({ "status": status, "effectiveAt": at, "note": null })
}

fn content(vision: &str) -> Value {
    json!({ "vision": vision, "context": "A harbour town after the shipyard closed.",
            "objectives": "Bring neighbourhoods together through culture.",
            "stakeholders": "Library, museum, schools, associations.", "budgetCents": 12_000_000,
            "timeline": "Title year, quarter by quarter.",
            "actions": [{ "title": "Harbour stories", "description": "Oral history walks.",
                          "themes": [], "practices": [], "targetGroups": "Older residents",
                          "culturalPartners": "Town museum", "startsOn": "2023-03-01",
                          "endsOn": "2023-10-31", "budgetCents": 4_000_000 }],
            "indicators": [{ "name": "Participants", "unit": "people", "baselineMilli": 0,
                             "targetMilli": 500_000 }] })
}

fn org(name: &str, cc: &str) -> Value {
    json!({ "countryCode": cc, "name": name })
}

/// The path of a candidate up to and including the jury's decision `last` (from 2022 dates).
fn to_the_jury(last: &str) -> Vec<Value> {
    vec![
        step("DRAFT", "2022-03-01T09:00:00Z"),
        step("SUBMITTED", "2022-04-28T15:30:00Z"),
        step("ELIGIBLE", "2022-05-10T10:00:00Z"),
        step("SHORTLISTED", "2022-06-15T10:00:00Z"),
        step("CUREAP_IN_DEVELOPMENT", "2022-06-20T10:00:00Z"),
        step("CUREAP_SUBMITTED", "2022-09-30T12:00:00Z"),
        step(last, "2022-11-18T14:00:00Z"),
    ]
}

/// A past edition (title year 2023, decided in 2022): a Pearl with a co-applicant, a plan not
/// awarded, one not shortlisted, one withdrawn while writing its plan, one ineligible.
pub fn sample_document() -> Value {
    let version = |vision: &str| {
        json!([{ "number": 1, "submittedAt": "2022-09-30T12:00:00Z",
                                          "content": content(vision) }])
    };
    let mut pearl = to_the_jury("AWARDED");
    pearl.push(step("TITLE_YEAR_ACTIVE", "2023-01-01T00:00:00Z"));
    pearl.push(
        json!({ "status": "TITLE_YEAR_COMPLETED", "effectiveAt": "2023-12-31T23:00:00Z",
                       "note": "Closing ceremony held" }),
    );
    let mut withdrawn = to_the_jury("AWARDED");
    withdrawn.truncate(5);
    withdrawn.push(
        json!({ "status": "WITHDRAWN", "effectiveAt": "2022-08-01T08:00:00Z",
                           "note": "Council elections" }),
    );
    json!({
        "format": "bsr-cultural-pearls/edition-history", "formatVersion": 1,
        "edition": { "titleYear": 2023, "name": "BSR Cultural Pearls 2023 (test history)",
            "awardPolicy": { "awardCap": 1, "onePerCountry": true, "extraAwards": 0 },
            "phases": [
                { "kind": "CALL", "startsAt": "2022-02-01T00:00:00Z", "endsAt": "2022-04-30T23:59:00Z" },
                { "kind": "PRESELECTION", "startsAt": "2022-05-01T00:00:00Z", "endsAt": "2022-06-15T23:59:00Z" },
                { "kind": "CUREAP_DEVELOPMENT", "startsAt": "2022-06-16T00:00:00Z", "endsAt": "2022-09-30T23:59:00Z" },
                { "kind": "AWARD", "startsAt": "2022-11-01T00:00:00Z", "endsAt": "2022-11-30T23:59:00Z" },
                { "kind": "TITLE_YEAR", "startsAt": "2023-01-01T00:00:00Z", "endsAt": "2023-12-31T23:59:00Z" } ] },
        "organisations": [
            { "name": "Faaborg (test)", "countryCode": "DK", "region": "Funen", "population": 7000 },
            { "name": "Viljandi (test)", "countryCode": "EE", "region": null, "population": null },
            { "name": "Kokkola (test)", "countryCode": "FI", "region": null, "population": null },
            { "name": "Cēsis (test)", "countryCode": "LV", "region": null, "population": null },
            { "name": "Simrishamn (test)", "countryCode": "SE", "region": null, "population": null },
            { "name": "Ystad (test)", "countryCode": "SE", "region": "Skåne", "population": 30000 } ],
        "applications": [
            { "leadMunicipality": org("Faaborg (test)", "DK"), "coApplicants": [],
              "title": "Faaborg: culture on the quay", "motivation": "Fishing heritage.",
              "history": to_the_jury("NOT_AWARDED"), "planVersions": version("A quay for all") },
            { "leadMunicipality": org("Viljandi (test)", "EE"), "coApplicants": [],
              "title": "Viljandi sings", "motivation": "Folk music.",
              "history": [step("DRAFT", "2022-03-02T09:00:00Z"), step("SUBMITTED", "2022-04-29T09:00:00Z"),
                          step("INELIGIBLE", "2022-05-11T09:00:00Z")], "planVersions": [] },
            { "leadMunicipality": org("Kokkola (test)", "FI"), "coApplicants": [],
              "title": "Kokkola reads", "motivation": "Libraries.",
              "history": [step("DRAFT", "2022-03-03T09:00:00Z"), step("SUBMITTED", "2022-04-27T09:00:00Z"),
                          step("ELIGIBLE", "2022-05-10T10:00:00Z"), step("NOT_SHORTLISTED", "2022-06-15T10:00:00Z")],
              "planVersions": [] },
            { "leadMunicipality": org("Cēsis (test)", "LV"), "coApplicants": [],
              "title": "Cēsis castle nights", "motivation": "Heritage.",
              "history": withdrawn, "planVersions": [] },
            { "leadMunicipality": org("Ystad (test)", "SE"), "coApplicants": [org("Simrishamn (test)", "SE")],
              "title": "Ystad and Simrishamn: the coast as a stage", "motivation": "Film and theatre.",
              "history": pearl, "planVersions": version("The coast as a stage") } ]
    })
}

/// `doc` with a national mentor (by e-mail) and two sessions on the Pearl's application.
fn with_mentor(mut doc: Value, email: &str) -> Value {
    doc["applications"][4]["mentors"] = json!([{ "email": email, "kind": "NATIONAL",
        "startsOn": "2022-06-20", "endsOn": "2023-12-31", "sessions": [
            { "heldOn": "2022-08-10", "minutes": 60, "format": "ONSITE", "topics": "Stakeholders", "notes": "" },
            { "heldOn": "2022-07-05", "minutes": 90, "format": "ONLINE", "topics": "Vision", "notes": "First draft read" } ] }]);
    doc
}

/// `doc` with the criteria and assessors of both stages (the partner `email`) and their
/// assessments: Kokkola and Ystad scored at pre-selection, Ystad at the jury, where the
/// assessor declared a conflict of interest over Faaborg.
fn with_scoring(mut doc: Value, email: &str) -> Value {
    doc["edition"]["criteria"] = json!([
        { "stage": "PRESELECTION", "name": "Motivation", "description": "Why the title", "weight": "1", "maxScore": 10 },
        { "stage": "PRESELECTION", "name": "Approach", "description": "", "weight": "1.5", "maxScore": 10 },
        { "stage": "JURY", "name": "Capacity to deliver", "description": "", "weight": "2", "maxScore": 5 } ]);
    doc["edition"]["assessors"] = json!([{ "stage": "PRESELECTION", "email": email },
                                         { "stage": "JURY", "email": email }]);
    let scored = |stage: &str, at: &str, scores: Value| {
        json!({ "stage": stage, "assessor": email,
        "conflictOfInterest": false, "comment": "Clear", "submittedAt": at, "scores": scores })
    };
    doc["applications"][2]["assessments"] = json!([scored(
        "PRESELECTION",
        "2022-06-01T10:00:00Z",
        json!([{ "criterion": "Motivation", "score": 5 }, { "criterion": "Approach", "score": 4 }])
    )]);
    doc["applications"][4]["assessments"] = json!([
        scored(
            "PRESELECTION",
            "2022-06-01T11:00:00Z",
            json!([{ "criterion": "Approach", "score": 9 }, { "criterion": "Motivation", "score": 8 }])
        ),
        scored(
            "JURY",
            "2022-11-10T09:00:00Z",
            json!([{ "criterion": "Capacity to deliver", "score": 5 }])
        )
    ]);
    doc["applications"][0]["assessments"] = json!([{ "stage": "JURY", "assessor": email,
        "conflictOfInterest": true, "comment": "I advised Faaborg", "submittedAt": "2022-11-10T09:30:00Z",
        "scores": [] }]);
    doc
}

/// `doc` with the Pearl's title year: its action cites `theme` and a practice the catalogue
/// does not hold, two progress posts on it and the value measured for its indicator.
fn with_title_year(mut doc: Value, theme: &str) -> Value {
    for v in doc["applications"][4]["planVersions"]
        .as_array_mut()
        .unwrap()
    {
        v["content"]["actions"][0]["themes"] = json!([theme]);
        v["content"]["actions"][0]["practices"] = json!(["Harbour walks of Gdynia"]);
    }
    doc["applications"][4]["progress"] = json!([
        { "action": 1, "postedAt": "2023-09-30T16:00:00Z", "implementation": "FULLY", "percentage": 100,
          "participantsReached": 480, "evidenceUrl": "https://ystad.example/harbour-stories", "note": "Done " },
        { "action": 1, "postedAt": "2023-03-15T10:00:00Z", "implementation": "PARTLY", "percentage": 40,
          "participantsReached": 120, "evidenceUrl": null, "note": "" } ]);
    doc["applications"][4]["indicatorActuals"] = json!([{ "indicator": 1, "actual": "480.5" }]);
    doc
}

/// The imported title year reads as the live one: the action as a row with its theme, its
/// posts oldest first with the latest kept on it, the measured value, and the KPIs.
async fn title_year_reads(app: &TestApp, token: &str) {
    let plans = app
        .gql(
            Some(token),
            "{ applications(filter: {editionYear: [2023], status: [TITLE_YEAR_COMPLETED]}) {
                 edges { node { plan { actions { position title themes { name } inspiredBy { title }
                     progressUpdates { implementation percentage participantsReached evidenceUrl note postedAt }
                     latestProgress { percentage } }
                   indicators { name actual } } } } } }",
            json!({}),
        )
        .await;
    let plan = &plans["data"]["applications"]["edges"][0]["node"]["plan"];
    assert_eq!(
        plan["actions"],
        json!([{ "position": 1, "title": "Harbour stories", "themes": [{ "name": "maritime heritage" }],
                 "inspiredBy": [],
                 "progressUpdates": [
                    { "implementation": "PARTLY", "percentage": 40, "participantsReached": 120,
                      "evidenceUrl": null, "note": "", "postedAt": "2023-03-15T10:00:00Z" },
                    { "implementation": "FULLY", "percentage": 100, "participantsReached": 480,
                      "evidenceUrl": "https://ystad.example/harbour-stories", "note": "Done",
                      "postedAt": "2023-09-30T16:00:00Z" } ],
                 "latestProgress": { "percentage": 100 } }]),
        "{plans}"
    );
    assert_eq!(
        plan["indicators"],
        json!([{ "name": "Participants", "actual": "480.5" }]),
        "{plans}"
    );
    // The KPIs count the imported actions: the Pearl's by its latest post, Faaborg's plan (not
    // awarded) without one.
    let kpis = app
        .gql(
            Some(token),
            "{ kpis(filter: {editionYears: [2023]}) {
                 planActions(groupBy: [IMPLEMENTATION]) { group { implementation } actions participantsReached budgetPlanned }
                 byTheme: planActions(groupBy: [THEME]) { group { theme { name } } actions } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        kpis["data"]["kpis"]["planActions"],
        json!([
            { "group": { "implementation": null }, "actions": 1, "participantsReached": 0, "budgetPlanned": "40000.00" },
            { "group": { "implementation": "FULLY" }, "actions": 1, "participantsReached": 480, "budgetPlanned": "40000.00" } ]),
        "{kpis}"
    );
    assert_eq!(
        kpis["data"]["kpis"]["byTheme"],
        json!([
            { "group": { "theme": null }, "actions": 1 },
            { "group": { "theme": { "name": "maritime heritage" } }, "actions": 1 } ]),
        "{kpis}"
    );
}

/// `doc` with an external juror assigned to the Pearl's application in the jury stage, and
/// the juror's scoresheet (call after [`with_scoring`]).
fn with_juror(mut doc: Value, email: &str) -> Value {
    doc["applications"][4]["jurors"] = json!([{ "stage": "JURY", "email": email }]);
    doc["applications"][4]["assessments"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({ "stage": "JURY", "assessor": email, "conflictOfInterest": false,
            "comment": "Convincing partnerships", "submittedAt": "2022-11-12T10:00:00Z",
            "scores": [{ "criterion": "Capacity to deliver", "score": 4 }] }),
        );
    doc
}

/// A user with `role` in a new organisation of `kind`.
async fn member(
    app: &TestApp,
    email: &str,
    role: entity::Role,
    organisation: &str,
    country: &str,
    kind: entity::OrganisationKind,
) {
    let org = common::fixtures::organisation(&app.state.db, organisation, country, kind).await;
    common::fixtures::user(app, email, role, Some(org)).await;
}

/// Imports `doc` expecting a refusal: the answer and its reasons (as JSON text).
async fn refused(app: &TestApp, token: &str, doc: Value) -> (Value, String) {
    let body = app
        .gql(Some(token), IMPORT, json!({ "i": { "document": doc } }))
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    let reasons = body["errors"][0]["extensions"]["reasons"].to_string();
    (body, reasons)
}

/// The canonical text of a document value.
pub fn canonical(doc: &Value) -> String {
    let mut d = EditionHistory::from_value(doc.clone()).expect("a document");
    d.canonicalise();
    d.to_canonical_text()
}

fn schema() -> (boon::Schemas, boon::SchemaIndex) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/api/schemas/edition-history.schema.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("urn:history", doc).unwrap();
    let index = compiler.compile("urn:history", &mut schemas).unwrap();
    (schemas, index)
}

/// Checks a document's text against the committed JSON Schema.
pub fn assert_meets_schema(text: &str) {
    let (schemas, index) = schema();
    let doc: Value = serde_json::from_str(text).unwrap();
    if let Err(e) = schemas.validate(&doc, index) {
        panic!("the document does not meet the schema: {e:#}\n{text}");
    }
}

pub async fn export_text(app: &TestApp, year: i32) -> String {
    pearls_api::history::export(&app.state.db, year)
        .await
        .unwrap_or_else(|e| panic!("export {year}: {}", e.public_message()))
        .to_canonical_text()
}

async fn count<E>(app: &TestApp) -> u64
where
    E: EntityTrait,
    E::Model: Sync,
{
    E::find().count(&app.state.db).await.unwrap()
}

async fn imports(app: &TestApp) -> Vec<entity::audit_entry::Model> {
    entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Action.eq("edition.import"))
        .all(&app.state.db)
        .await
        .unwrap()
}

both!(
    a_past_edition_round_trips_and_imports_once,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        let mentor = "mentor.history@test.example";
        common::fixtures::user(&app, mentor, entity::Role::Mentor, None).await;
        let partner = "juror.history@test.example";
        member(
            &app,
            partner,
            entity::Role::Partner,
            "Creative Estonia",
            "EE",
            entity::OrganisationKind::Partner,
        )
        .await;
        common::fixtures::term(&app.state.db, entity::TermKind::Theme, "maritime heritage").await;
        let juror = "juror.external@test.example";
        member(
            &app,
            juror,
            entity::Role::Juror,
            "Nordic Culture Point (test)",
            "FI",
            entity::OrganisationKind::External,
        )
        .await;
        let doc = with_juror(
            with_title_year(
                with_scoring(with_mentor(sample_document(), mentor), partner),
                "maritime heritage",
            ),
            juror,
        );
        let text = canonical(&doc);
        assert_meets_schema(&text);
        // The document as a value in canonical order: what is imported is what comes back.
        let canonical_value: Value = serde_json::from_str(&text).unwrap();
        let body = app
            .gql(
                Some(&token),
                IMPORT,
                json!({ "i": { "document": canonical_value } }),
            )
            .await;
        let r = &body["data"]["importEditionHistory"];
        assert_eq!(r["changed"], true, "{body}");
        assert_eq!(r["applications"], 5, "{body}");
        assert_eq!(r["organisationsCreated"], 6, "{body}");
        assert_eq!(r["edition"]["titleYear"], 2023);
        let sha = r["documentSha256"].as_str().unwrap().to_owned();
        assert_eq!(sha.len(), 64);

        let exported = export_text(&app, 2023).await;
        assert_eq!(
            exported, text,
            "the export differs from the imported document"
        );
        assert_meets_schema(&exported);

        // Audited once, as an import by the coordinator with the document's hash.
        let audit = imports(&app).await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].changes["documentSha256"], sha.as_str());
        assert_eq!(audit[0].changes["statusChanges"], 29);
        assert_eq!(audit[0].changes["progressUpdates"], 2);
        assert_eq!(count::<entity::mentoring_session::Entity>(&app).await, 2);
        assert_eq!(count::<entity::assessment::Entity>(&app).await, 5);
        assert_eq!(count::<entity::assessment_score::Entity>(&app).await, 6);
        assert_eq!(count::<entity::jury_assignment::Entity>(&app).await, 1);
        // The external juror reads the application assigned to them, and only that one.
        let juror = app.login(juror, common::fixtures::PASSWORD).await;
        let seen = app
            .gql(
                Some(&juror),
                "{ applications { totalCount edges { node { title
                     plan { indicators { name actual } actions { progressUpdates { percentage } } } } } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            seen["data"]["applications"],
            // The plan as handed in, and nothing of the title year.
            json!({ "totalCount": 1, "edges": [{ "node": { "title": "Ystad and Simrishamn: the coast as a stage",
                "plan": { "indicators": [{ "name": "Participants", "actual": null }],
                          "actions": [{ "progressUpdates": [] }] } } }] }),
            "{seen}"
        );
        // The jury's ranking reads the imported scores (the conflict is not scored).
        let ranking = app
            .gql(
                Some(&token),
                "{ ranking(editionYear: 2023, stage: JURY) { entries { scoreCount conflictsDeclared
                     application { title } } } }",
                json!({}),
            )
            .await;
        let entries = ranking["data"]["ranking"]["entries"].to_string();
        assert!(entries.contains("\"conflictsDeclared\":1"), "{ranking}");
        assert!(entries.contains("\"scoreCount\":2"), "{ranking}");
        // The imported plans are frozen: the municipality's own edit is refused.
        let plans = app
            .gql(
                Some(&token),
                "{ applications(filter: {editionYear: [2023], status: [TITLE_YEAR_COMPLETED]}) {
                     edges { node { plan { id version isFrozen submittedVersion vision } } } } }",
                json!({}),
            )
            .await;
        let plan = &plans["data"]["applications"]["edges"][0]["node"]["plan"];
        title_year_reads(&app, &token).await;
        assert_eq!(plan["isFrozen"], true, "{plans}");
        assert_eq!(plan["submittedVersion"], 1, "{plans}");
        assert_eq!(plan["vision"], "The coast as a stage", "{plans}");
        let ystad = entity::organisation::Entity::find()
            .filter(entity::organisation::Column::Name.eq("Ystad (test)"))
            .one(&app.state.db)
            .await
            .unwrap()
            .expect("the imported municipality");
        let contact = "contact@ystad.test.example";
        common::fixtures::user(&app, contact, entity::Role::Municipality, Some(ystad.id)).await;
        let contact = app.login(contact, common::fixtures::PASSWORD).await;
        let edit = app
            .gql(
                Some(&contact),
                "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { version } } }",
                json!({ "i": { "planId": plan["id"], "expectedVersion": plan["version"],
                               "vision": "Rewritten" } }),
            )
            .await;
        assert_eq!(code(&edit), "CONFLICT", "{edit}");
        assert!(edit.to_string().contains("the plan is frozen"), "{edit}");
        assert!(audit[0].actor_id.is_some());
        assert_rollups_exact(&app).await;

        // Again, even written in another order: nothing changes, and the answer says so.
        let mut shuffled = doc.clone();
        shuffled["applications"].as_array_mut().unwrap().reverse();
        shuffled["organisations"].as_array_mut().unwrap().reverse();
        let rows = count::<entity::application_status_change::Entity>(&app).await;
        let body = app
            .gql(
                Some(&token),
                IMPORT,
                json!({ "i": { "document": shuffled } }),
            )
            .await;
        let r = &body["data"]["importEditionHistory"];
        assert_eq!(r["changed"], false, "{body}");
        assert_eq!(r["documentSha256"], sha.as_str());
        assert_eq!(imports(&app).await.len(), 1);
        assert_eq!(
            count::<entity::application_status_change::Entity>(&app).await,
            rows
        );
        assert_eq!(export_text(&app, 2023).await, text);
    }
);

both!(
    the_kpis_and_the_pearls_read_the_effective_dates,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        let body = app
            .gql(
                Some(&token),
                IMPORT,
                json!({ "i": { "document": sample_document() } }),
            )
            .await;
        assert_eq!(
            body["data"]["importEditionHistory"]["changed"], true,
            "{body}"
        );
        let kpis = app
        .gql(
            Some(&token),
            "{ kpis(filter: {editionYears: [2023]}) { funnel { applied eligible shortlisted plansSubmitted awarded } } }",
            json!({}),
        )
        .await;
        assert_eq!(
            kpis["data"]["kpis"]["funnel"][0],
            json!({ "applied": 5, "eligible": 4, "shortlisted": 3, "plansSubmitted": 2, "awarded": 1 }),
            "{kpis}"
        );
        // Counted by the day the decisions took effect (2022), not the day they were recorded.
        for (from, to, applied, plans) in [
            ("2022-04-01", "2022-04-30", 5, 0),
            ("2022-09-01", "2022-09-30", 0, 2),
            ("2026-01-01", "2030-12-31", 0, 0),
        ] {
            let q = format!(
                "{{ kpis(filter: {{from: \"{from}\", to: \"{to}\"}}) {{ funnel {{ applied }} planSubmissions {{ plansSubmitted }} }} }}"
            );
            let k = app.gql(Some(&token), &q, json!({})).await;
            assert_eq!(
                k["data"]["kpis"]["funnel"][0]["applied"], applied,
                "{from}: {k}"
            );
            assert_eq!(
                k["data"]["kpis"]["planSubmissions"][0]["plansSubmitted"], plans,
                "{from}: {k}"
            );
        }
        let pearls = app
            .gql(
                None,
                "{ pearls(titleYear: 2023) { title awardedAt } }",
                json!({}),
            )
            .await;
        assert_eq!(
            pearls["data"]["pearls"],
            json!([{ "title": "Ystad and Simrishamn: the coast as a stage",
                 "awardedAt": "2022-11-18T14:00:00Z" }]),
            "{pearls}"
        );
        let history = app
        .gql(
            Some(&token),
            "{ applications(filter: {editionYear: [2023], status: [WITHDRAWN]}) { edges { node {
                 statusHistory { toStatus effectiveAt changedAt note } } } } }",
            json!({}),
        )
        .await;
        let steps = history["data"]["applications"]["edges"][0]["node"]["statusHistory"]
            .as_array()
            .unwrap_or_else(|| panic!("{history}"))
            .clone();
        assert_eq!(steps.len(), 6, "{history}");
        assert_eq!(steps[5]["toStatus"], "WITHDRAWN");
        assert_eq!(steps[5]["note"], "Council elections");
        assert_ne!(steps[5]["effectiveAt"], steps[5]["changedAt"]);
        assert!(
            steps[5]["effectiveAt"]
                .as_str()
                .unwrap()
                .starts_with("2022-08-01"),
            "{history}"
        );
    }
);

both!(
    a_rule_breaking_history_is_refused_whole,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        let orgs = count::<entity::organisation::Entity>(&app).await;
        let audit = count::<entity::audit_entry::Entity>(&app).await;
        // Two titles where the policy allows one, and a second application of Kokkola.
        let mut bad = sample_document();
        let apps = bad["applications"].as_array_mut().unwrap();
        apps[0]["history"] = json!(to_the_jury("AWARDED"));
        let mut again = apps[2].clone();
        again["title"] = "Kokkola again".into();
        apps.push(again);
        let body = app
            .gql(Some(&token), IMPORT, json!({ "i": { "document": bad } }))
            .await;
        assert_eq!(code(&body), "CONFLICT", "{body}");
        let reasons: Vec<String> = body["errors"][0]["extensions"]["reasons"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:#?}");
        assert!(
            reasons.iter().any(|r| r.contains("award cap of 1")),
            "{reasons:#?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("Kokkola (test) (FI): a municipality has one application")),
            "{reasons:#?}"
        );
        // Nothing written.
        let none = entity::edition::Entity::find()
            .filter(entity::edition::Column::TitleYear.eq(2023))
            .one(&app.state.db)
            .await
            .unwrap();
        assert!(none.is_none());
        assert_eq!(count::<entity::organisation::Entity>(&app).await, orgs);
        assert_eq!(count::<entity::audit_entry::Entity>(&app).await, audit);

        // Not a document: an input error on the document, with serde's position.
        let body = app
            .gql(
                Some(&token),
                IMPORT,
                json!({ "i": { "document": { "format": "csv" } } }),
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "document",
            "{body}"
        );

        // Once imported, a different history of the same edition is refused with what differs.
        let good = sample_document();
        let body = app
            .gql(
                Some(&token),
                IMPORT,
                json!({ "i": { "document": good.clone() } }),
            )
            .await;
        assert_eq!(
            body["data"]["importEditionHistory"]["changed"], true,
            "{body}"
        );
        let before = export_text(&app, 2023).await;
        let mut changed = good;
        changed["applications"][1]["title"] = "Viljandi sings louder".into();
        let (_, reasons) = refused(&app, &token, changed).await;
        assert!(
            reasons.contains("Viljandi (test) (EE): differs"),
            "{reasons}"
        );
        assert_eq!(export_text(&app, 2023).await, before);
        assert_eq!(imports(&app).await.len(), 1);

        // A municipality stored with other facts than the document's is a reason too.
        let mut other_year = sample_document();
        other_year["edition"]["titleYear"] = 2022.into();
        other_year["organisations"][0]["population"] = 7100.into();
        let other_year = with_mentor(other_year, "nobody@test.example");
        let (body, reasons) = refused(&app, &token, other_year).await;
        assert!(reasons.contains("population"), "{body}");
        assert!(
            reasons.contains("nobody@test.example: no user with the MENTOR role"),
            "{body}"
        );
        // A score above its criterion's maximum.
        let mut scored_badly = with_scoring(sample_document(), "nobody@test.example");
        scored_badly["edition"]["titleYear"] = 2021.into();
        scored_badly["applications"][4]["assessments"][1]["scores"][0]["score"] = 6.into();
        let (body, reasons) = refused(&app, &token, scored_badly).await;
        assert!(
            reasons.contains("Capacity to deliver is scored from 0 to 5"),
            "{body}"
        );
        // Title-year figures out of the title year, on an action the plan does not have,
        // beyond the bounds of postProgress, and a theme the vocabulary does not hold.
        let mut progress_badly = with_title_year(sample_document(), "no such theme");
        progress_badly["edition"]["titleYear"] = 2020.into();
        progress_badly["applications"][4]["progress"][0]["postedAt"] =
            "2024-02-01T00:00:00Z".into();
        progress_badly["applications"][4]["progress"][1]["action"] = 2.into();
        progress_badly["applications"][4]["progress"][1]["percentage"] = 101.into();
        progress_badly["applications"][4]["indicatorActuals"][0]["actual"] = "1.2345".into();
        progress_badly["applications"][0]["progress"] =
            progress_badly["applications"][4]["progress"].clone();
        let (body, reasons) = refused(&app, &token, progress_badly).await;
        for expected in [
            "Faaborg (test) (DK): progress and indicator values are recorded in the title year",
            "progress.0.postedAt: progress is posted during the title year",
            "progress.1.action: the last CuReAP version has actions 1 to 1",
            "must be between 0 and 100",
            "indicatorActuals.1: at most three decimals",
            "theme \\\"no such theme\\\" is not a theme of the vocabulary",
        ] {
            assert!(reasons.contains(expected), "{expected}: {body}");
        }
        assert_eq!(count::<entity::plan_action::Entity>(&app).await, 2);
        assert_eq!(count::<entity::progress_update::Entity>(&app).await, 0);
        // A juror must be a JUROR user, and scores only what they are assigned to.
        let partner = "partner.history@test.example";
        member(
            &app,
            partner,
            entity::Role::Partner,
            "Creative Estonia",
            "EE",
            entity::OrganisationKind::Partner,
        )
        .await;
        let mut jury_badly = with_juror(with_scoring(sample_document(), partner), partner);
        jury_badly["edition"]["titleYear"] = 2019.into();
        jury_badly["applications"][0]["assessments"][0]["assessor"] = "other@test.example".into();
        let (body, reasons) = refused(&app, &token, jury_badly).await;
        for expected in [
            "jurors.partner.history@test.example: no user with the JUROR role has this e-mail",
            "Faaborg (test) (DK).assessments.JURY.other@test.example: neither an assessor of the JURY stage nor a juror",
        ] {
            assert!(reasons.contains(expected), "{expected}: {body}");
        }
        assert_eq!(count::<entity::jury_assignment::Entity>(&app).await, 0);
    }
);

both!(
    only_coordinators_import_history,
    |app: TestApp| async move {
        let coordinator = app.coordinator().await;
        let org = common::fixtures::organisation(
            &app.state.db,
            "Creative Estonia",
            "EE",
            entity::OrganisationKind::Partner,
        )
        .await;
        common::fixtures::user(&app, "p@test.example", entity::Role::Partner, Some(org)).await;
        let partner = app
            .login("p@test.example", common::fixtures::PASSWORD)
            .await;
        let vars = json!({ "i": { "document": sample_document() } });
        assert_eq!(
            code(&app.gql(None, IMPORT, vars.clone()).await),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            code(&app.gql(Some(&partner), IMPORT, vars.clone()).await),
            "FORBIDDEN"
        );
        assert!(imports(&app).await.is_empty());
        let body = app.gql(Some(&coordinator), IMPORT, vars).await;
        assert_eq!(
            body["data"]["importEditionHistory"]["changed"], true,
            "{body}"
        );
    }
);

/// The committed documents of the real editions (issue 16, item 6).
fn real_edition(year: i32) -> String {
    std::fs::read_to_string(format!(
        "{}/api/seed/editions/{year}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the committed document")
}

both!(
    the_real_editions_load_with_their_funnels_and_pearls,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        for year in [2024, 2025, 2026] {
            let text = real_edition(year);
            assert_meets_schema(&text);
            assert_eq!(
                canonical(&serde_json::from_str(&text).unwrap()),
                text,
                "{year} is canonical"
            );
            let doc: Value = serde_json::from_str(&text).unwrap();
            let body = app
                .gql(Some(&token), IMPORT, json!({ "i": { "document": doc } }))
                .await;
            assert_eq!(
                body["data"]["importEditionHistory"]["changed"], true,
                "{year}: {body}"
            );
            assert_eq!(
                export_text(&app, year).await,
                text,
                "{year} exports as committed"
            );
        }
        assert_rollups_exact(&app).await;
        let kpis = app
            .gql(
                Some(&token),
                "{ kpis(filter: {editionYears: [2024, 2025, 2026]}) { funnel(groupBy: [EDITION]) {
                 group { edition } applied shortlisted plansSubmitted awarded } } }",
                json!({}),
            )
            .await;
        let funnels: Vec<(i64, i64, i64, i64)> = kpis["data"]["kpis"]["funnel"]
            .as_array()
            .unwrap_or_else(|| panic!("{kpis}"))
            .iter()
            .map(|r| {
                let n = |f: &str| r[f].as_i64().unwrap();
                (
                    n("applied"),
                    n("shortlisted"),
                    n("plansSubmitted"),
                    n("awarded"),
                )
            })
            .collect();
        assert_eq!(
            funnels,
            [(12, 12, 12, 4), (18, 16, 16, 6), (17, 11, 11, 4)],
            "{kpis}"
        );
        for (year, winners) in [
            (
                2024,
                vec!["Jakobstad FI", "Kiel DE", "Rūjiena LV", "Svendborg DK"],
            ),
            (
                2025,
                vec![
                    "Alytus district LT",
                    "Helsingborg SE",
                    "Kaskinen FI",
                    "Peipsiääre EE",
                    "Płock PL",
                    "Smiltene LV",
                ],
            ),
            (
                2026,
                vec![
                    "Glücksburg DE",
                    "Kristinestad FI",
                    "Krosno PL",
                    "Schleswig DE",
                ],
            ),
        ] {
            let q = format!(
                "{{ pearls(titleYear: {year}) {{ municipality {{ name countryCode }} }} }}"
            );
            let body = app.gql(None, &q, json!({})).await;
            let mut got: Vec<String> = body["data"]["pearls"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .map(|p| {
                    format!(
                        "{} {}",
                        p["municipality"]["name"].as_str().unwrap(),
                        p["municipality"]["countryCode"].as_str().unwrap()
                    )
                })
                .collect();
            got.sort();
            assert_eq!(got, winners, "{year}");
        }
        // The 2024 CuReAPs were all handed in within the public window, 25 Oct – 16 Nov 2023.
        let k = app
        .gql(Some(&token), "{ kpis(filter: {from: \"2023-10-25\", to: \"2023-11-16\"}) { planSubmissions { plansSubmitted } } }", json!({}))
        .await;
        assert_eq!(
            k["data"]["kpis"]["planSubmissions"][0]["plansSubmitted"], 12,
            "{k}"
        );
    }
);

both!(
    a_real_edition_against_its_policy_is_refused,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        // 2026 without its extra title: the second German Pearl breaks the one-per-country rule.
        let mut doc: Value = serde_json::from_str(&real_edition(2026)).unwrap();
        doc["edition"]["awardPolicy"]["extraAwards"] = 0.into();
        let orgs = count::<entity::organisation::Entity>(&app).await;
        let body = app
            .gql(Some(&token), IMPORT, json!({ "i": { "document": doc } }))
            .await;
        assert_eq!(code(&body), "CONFLICT", "{body}");
        let reasons = body["errors"][0]["extensions"]["reasons"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(reasons.len(), 1, "{body}");
        assert!(
            reasons[0]
                .as_str()
                .unwrap()
                .contains("at most one title per country (DE has one)"),
            "{body}"
        );
        assert_eq!(count::<entity::organisation::Entity>(&app).await, orgs);
        assert_eq!(count::<entity::application::Entity>(&app).await, 0);
        assert!(imports(&app).await.is_empty());
    }
);

both!(
    concurrent_imports_register_a_municipality_once,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        let first = sample_document();
        let mut second = sample_document();
        second["edition"]["titleYear"] = 2022.into();
        let (a, b) = futures_util::join!(
            app.gql(Some(&token), IMPORT, json!({ "i": { "document": first } })),
            app.gql(Some(&token), IMPORT, json!({ "i": { "document": second } })),
        );
        assert_eq!(a["data"]["importEditionHistory"]["changed"], true, "{a}");
        assert_eq!(b["data"]["importEditionHistory"]["changed"], true, "{b}");
        let created = a["data"]["importEditionHistory"]["organisationsCreated"]
            .as_i64()
            .unwrap()
            + b["data"]["importEditionHistory"]["organisationsCreated"]
                .as_i64()
                .unwrap();
        assert_eq!(created, 6, "{a} {b}");
        let ystad = entity::organisation::Entity::find()
            .filter(entity::organisation::Column::Name.eq("Ystad (test)"))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(ystad, 1);
        assert_eq!(imports(&app).await.len(), 2);
        assert_rollups_exact(&app).await;
    }
);
