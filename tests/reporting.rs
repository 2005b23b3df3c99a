//! Interreg reporting end to end over HTTP: a period, the work plan, portal data that derived
//! indicators count, partner contributions and reports through their review, the exports as
//! JSON, CSV, Excel and ZIP, figures checked against the KPIs, and integration tokens.

use crate::common;

use chrono::{TimeZone, Utc};
use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::{EventKind, OrganisationKind, ParticipationRole, ParticipationStatus, Role};
use pearls_api::graphql::ids::encode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

pub(crate) async fn event(
    db: &DatabaseConnection,
    org: Uuid,
    starts: chrono::DateTime<Utc>,
    public: bool,
    cancelled: bool,
) -> Uuid {
    entity::event::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(EventKind::Forum),
        title: Set("Forum".into()),
        description: Set(String::new()),
        programme: Set(String::new()),
        starts_at: Set(starts),
        ends_at: Set(starts + chrono::Duration::hours(3)),
        time_zone: Set("Europe/Gdansk".into()),
        place: Set(Some("Gdańsk".into())),
        online_url: Set(None),
        organiser_id: Set(org),
        edition_id: Set(None),
        is_public: Set(public),
        capacity: Set(None),
        registration_deadline: Set(None),
        cancelled_at: Set(cancelled.then(Utc::now)),
        created_by: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        version: Set(1),
        registered_count: Set(0),
        attended_count: Set(0),
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

pub(crate) async fn attend(
    db: &DatabaseConnection,
    event: Uuid,
    user: Uuid,
    org: Uuid,
    attended: Option<bool>,
) {
    entity::participation::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event),
        user_id: Set(user),
        organisation_id: Set(Some(org)),
        role: Set(ParticipationRole::Participant),
        status: Set(ParticipationStatus::Registered),
        registered_at: Set(Utc::now()),
        registered_by: Set(None),
        attended: Set(attended),
        updated_at: Set(Utc::now()),
        version: Set(1),
    }
    .insert(db)
    .await
    .unwrap();
}

pub(crate) async fn ok(app: &TestApp, token: &str, q: &str, vars: Value) -> Value {
    let body = app.gql(Some(token), q, vars).await;
    assert!(body["errors"].is_null(), "{q}\n→ {body}");
    body["data"].clone()
}

pub(crate) fn indicator<'a>(list: &'a Value, code: &str) -> &'a Value {
    list.as_array()
        .expect("list")
        .iter()
        .find(|i| i["code"] == code || i["indicator"]["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {list}"))
}

/// Contributes a value to an indicator for a period.
const CONTRIBUTE: &str = "mutation($i: ContributeToIndicatorInput!) { contributeToIndicator(input: $i) { contribution { value version } } }";

/// The work plan's activity and deliverable, and the two indicators the period reports on.
struct WorkPlan {
    act: Value,
    del: Value,
    rco84: Value,
    rco81: Value,
}

/// The period (its number taken once only) and the work plan, an output and two targets.
async fn the_period_and_the_work_plan_are_set_up(app: &TestApp, c: &str, w: &World) -> WorkPlan {
    ok(app, c, "mutation($i: CreateReportingPeriodInput!) { createReportingPeriod(input: $i) { period { id } } }",
    json!({ "i": { "number": 1, "startsOn": "2026-01-01", "endsOn": "2026-06-30", "reportDeadline": "2026-07-31" } })).await;
    let bad = app.gql(Some(c), "mutation($i: CreateReportingPeriodInput!) { createReportingPeriod(input: $i) { period { id } } }",
    json!({ "i": { "number": 1, "startsOn": "2026-07-01", "endsOn": "2026-12-31", "reportDeadline": "2027-01-31" } })).await;
    assert_eq!(code(&bad), "CONFLICT");
    let wp = ok(app, c, "mutation($i: PlanItemInput!) { createWorkPackage(input: $i) { workPackage { id } } }",
    json!({ "i": { "code": "WP1", "title": "Title cycle", "leadOrganisationId": encode("Organisation", w.lead_partner).0 } })).await;
    let wp = wp["createWorkPackage"]["workPackage"]["id"].clone();
    let act = ok(app, c, "mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id } } }",
    json!({ "i": { "workPackageId": wp, "activity": { "code": "A1.1", "title": "Mentoring programme" } } })).await;
    let act = act["createActivity"]["activity"]["id"].clone();
    let del = ok(app, c, "mutation($i: CreateDeliverableInput!) { createDeliverable(input: $i) { deliverable { id } } }",
    json!({ "i": { "activityId": act, "code": "D1.1.1", "title": "Mentor handbook", "duePeriodNumber": 1 } })).await;
    let del = del["createDeliverable"]["deliverable"]["id"].clone();
    let indicators = ok(
        app,
        c,
        "{ indicators { id code derivation derivedHow version } }",
        json!({}),
    )
    .await;
    let list = &indicators["indicators"];
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(8),
        "the EU common indicators are seeded"
    );
    assert_eq!(
        indicator(list, "RCO87")["derivation"],
        "COOPERATING_ORGANISATIONS"
    );
    let rco84 = indicator(list, "RCO84")["id"].clone();
    let rco81 = indicator(list, "RCO81")["id"].clone();
    ok(app, c, "mutation($i: CreateOutputInput!) { createOutput(input: $i) { output { id } } }",
    json!({ "i": { "workPackageId": wp, "code": "O1.1", "title": "Pilot actions", "indicatorId": rco84, "target": "10" } })).await;
    for (id, target) in [(&rco84, "10"), (&rco81, "100")] {
        ok(app, c, "mutation($i: SetIndicatorTargetsInput!) { setIndicatorTargets(input: $i) { indicator { target } } }",
        json!({ "i": { "id": id, "expectedVersion": 1, "target": target } })).await;
    }
    WorkPlan {
        act,
        del,
        rco84,
        rco81,
    }
}

/// Portal data inside and outside the period: events, attendances and a submitted plan.
async fn portal_data_is_recorded_in_and_around_the_period(app: &TestApp, w: &World) {
    let db = &app.state.db;
    // Portal data inside and outside the period, for the derived indicators.
    let gdansk = fixtures::organisation(db, "Gdańsk centre", "PL", OrganisationKind::Partner).await;
    let at = |m, d| Utc.with_ymd_and_hms(2026, m, d, 9, 0, 0).unwrap();
    let forum = event(db, w.partner_org, at(3, 1), true, false).await;
    let cancelled = event(db, w.partner_org, at(3, 5), true, true).await;
    let internal = event(db, w.lead_partner, at(4, 1), false, false).await;
    let later = event(db, w.partner_org, at(8, 1), true, false).await;
    let mut people = Vec::new();
    for (n, org) in [w.kiel, w.svendborg, gdansk, w.kiel, w.kiel, w.kiel]
        .iter()
        .enumerate()
    {
        people.push((
            fixtures::user(
                app,
                &format!("p{n}@test.example"),
                if *org == gdansk {
                    Role::Partner
                } else {
                    Role::Municipality
                },
                Some(*org),
            )
            .await,
            *org,
        ));
    }
    attend(db, forum, people[0].0, people[0].1, Some(true)).await;
    attend(db, forum, people[1].0, people[1].1, Some(true)).await;
    attend(db, forum, people[2].0, people[2].1, Some(true)).await;
    attend(db, forum, people[3].0, people[3].1, Some(false)).await;
    attend(db, internal, people[4].0, people[4].1, Some(true)).await;
    attend(db, cancelled, people[5].0, people[5].1, Some(true)).await;
    attend(db, later, people[5].0, people[5].1, Some(true)).await;
    let e = fixtures::edition_all_phases(db, 2070, true, (4, true, 1)).await;
    let a = fixtures::application(
        db,
        e,
        w.kiel,
        "Kiel plan",
        entity::ApplicationStatus::CureapSubmitted,
    )
    .await;
    let plan = fixtures::complete_plan(db, a).await;
    entity::plan_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan),
        number: Set(1),
        snapshot: Set(json!({})),
        submitted_at: Set(at(2, 1)),
        submitted_by: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    // Inserted past the services: the derived figures (the funnel's milestones) follow.
    fixtures::rebuild_rollups(db).await;
}

/// Contributions: partners for their own organisation only, never to a derived indicator.
async fn contributions_are_made_for_the_own_organisation(
    app: &TestApp,
    c: &str,
    partner: &str,
    mentor: &str,
    w: &World,
    work: &WorkPlan,
) {
    let WorkPlan { rco84, rco81, .. } = work;
    // Contributions: the partner for its own organisation, the coordinator for the lead partner.
    ok(app, partner, CONTRIBUTE, json!({ "i": { "indicatorId": rco84, "periodNumber": 1, "value": "3", "evidence": "Three pilots" } })).await;
    ok(app, c, CONTRIBUTE, json!({ "i": { "indicatorId": rco84, "periodNumber": 1, "value": "2", "evidence": "Two pilots",
    "organisationId": encode("Organisation", w.lead_partner).0 } })).await;
    let body = app
        .gql(
            Some(partner),
            CONTRIBUTE,
            json!({ "i": { "indicatorId": rco84, "periodNumber": 1, "value": "1", "evidence": "x",
    "organisationId": encode("Organisation", w.lead_partner).0 } }),
        )
        .await;
    assert_eq!(
        code(&body),
        "FORBIDDEN",
        "partners contribute for their own organisation: {body}"
    );
    let body = app.gql(Some(partner), CONTRIBUTE, json!({ "i": { "indicatorId": rco81, "periodNumber": 1, "value": "9", "evidence": "typed" } })).await;
    assert_eq!(
        (
            code(&body),
            body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("BAD_USER_INPUT", Some("indicatorId")),
        "derived: {body}"
    );
    assert_eq!(
        code(
            &app.gql(Some(mentor), "{ reportingPeriods { number } }", json!({}))
                .await
        ),
        "FORBIDDEN"
    );
}

/// The partner's report is written, returned, rewritten and accepted, then frozen.
async fn the_partner_report_is_reviewed_and_frozen(
    app: &TestApp,
    c: &str,
    partner: &str,
    work: &WorkPlan,
) {
    let WorkPlan {
        act, del, rco84, ..
    } = work;
    // The partner's report: written, submitted, returned, rewritten, accepted — then frozen.
    let save = "mutation($i: SavePartnerReportInput!) { savePartnerReport(input: $i) { report { id version status expenditureTotal } } }";
    let content = |version: Option<i64>, staff: &str| {
        json!({ "i": { "periodNumber": 1, "expectedVersion": version,
    "narrative": "We ran the mentoring programme.",
    "activities": [{ "activityId": act, "status": "FULLY", "narrative": "=HYPERLINK(\"https://evil.example\",\"annex\")" }],
    "deliverables": [{ "deliverableId": del, "status": "DELIVERED" }],
    "expenditure": [{ "category": "STAFF", "amount": staff }, { "category": "TRAVEL_ACCOMMODATION", "amount": "250.50" }] } })
    };
    let r = ok(app, partner, save, content(None, "900.00")).await;
    let report = r["savePartnerReport"]["report"]["id"].clone();
    assert_eq!(
        r["savePartnerReport"]["report"]["expenditureTotal"],
        "1150.50"
    );
    let step = |m: &str| {
        format!(
            "mutation($i: PartnerReportStepInput!) {{ {m}(input: $i) {{ report {{ status version reviewComment }} }} }}"
        )
    };
    ok(
        app,
        partner,
        &step("submitPartnerReport"),
        json!({ "i": { "id": report } }),
    )
    .await;
    assert_eq!(
        code(
            &app.gql(
                Some(partner),
                &step("acceptPartnerReport"),
                json!({ "i": { "id": report } })
            )
            .await
        ),
        "FORBIDDEN"
    );
    let r = ok(
        app,
        c,
        &step("returnPartnerReport"),
        json!({ "i": { "id": report, "comment": "Staff costs look low" } }),
    )
    .await;
    assert_eq!(r["returnPartnerReport"]["report"]["status"], "RETURNED");
    let version = r["returnPartnerReport"]["report"]["version"].as_i64();
    let stale = app
        .gql(Some(partner), save, content(Some(1), "1000.00"))
        .await;
    assert_eq!(code(&stale), "CONFLICT");
    ok(app, partner, save, content(version, "1000.00")).await;
    ok(
        app,
        partner,
        &step("submitPartnerReport"),
        json!({ "i": { "id": report } }),
    )
    .await;
    ok(
        app,
        c,
        &step("acceptPartnerReport"),
        json!({ "i": { "id": report } }),
    )
    .await;
    assert_eq!(
        code(&app.gql(Some(partner), save, content(Some(6), "1.00")).await),
        "CONFLICT"
    );
    let frozen = app.gql(Some(partner), CONTRIBUTE, json!({ "i": { "indicatorId": rco84, "periodNumber": 1, "value": "4", "evidence": "more" } })).await;
    assert_eq!(
        code(&frozen),
        "CONFLICT",
        "contributions freeze with the accepted report: {frozen}"
    );
    // The partner sees only its own report; the coordinator both (none from the lead yet).
    let reports = ok(
        app,
        partner,
        "{ partnerReports(periodNumber: 1) { organisation { name } status } }",
        json!({}),
    )
    .await;
    assert_eq!(reports["partnerReports"].as_array().map(Vec::len), Some(1));
}

/// The period's figures count only what the period holds and what was accepted.
async fn the_period_figures_count_what_was_accepted(app: &TestApp, c: &str) {
    // The figures.
    let figures = ok(app, c, "{ reportingPeriod(number: 1) { indicatorValues { indicator { code } inPeriod cumulative progressPercent derived }
        expenditureTotals { category amount } } }", json!({})).await;
    let values = &figures["reportingPeriod"]["indicatorValues"];
    let value = |code: &str| {
        let v = indicator(values, code);
        (
            v["inPeriod"].as_str().unwrap().to_owned(),
            v["derived"].as_bool().unwrap(),
        )
    };
    assert_eq!(
        value("RCO81"),
        ("4".into(), true),
        "3 at the forum + 1 internal; not the cancelled or later event"
    );
    assert_eq!(
        value("RCO87"),
        ("3".into(), true),
        "Kiel, Svendborg, Gdańsk"
    );
    assert_eq!(value("RCO115"), ("1".into(), true), "the public forum");
    assert_eq!(value("RCO83"), ("1".into(), true));
    assert_eq!(
        value("RCO84"),
        ("3".into(), false),
        "the partner's accepted 3; the lead partner's 2 wait for its own report"
    );
    assert_eq!(indicator(values, "RCO84")["progressPercent"], "30");
    assert_eq!(indicator(values, "RCO81")["progressPercent"], "4");
    assert_eq!(
        figures["reportingPeriod"]["expenditureTotals"][0],
        json!({ "category": "STAFF", "amount": "1000.00" })
    );
}

/// The derived figures agree with the KPIs for the same window.
async fn the_derived_figures_agree_with_the_kpis(app: &TestApp, c: &str) {
    let k = ok(app, c, "{ kpis(filter: {from: \"2026-01-01\", to: \"2026-06-30\"}) {
        participations { attended } byOrg: participations(groupBy: [ORGANISATION]) { attended } } }", json!({})).await;
    assert_eq!(k["kpis"]["participations"][0]["attended"], 4);
    let orgs = k["kpis"]["byOrg"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["attended"].as_i64() > Some(0))
        .count();
    assert_eq!(orgs, 3);
}

/// The JSON export carries the project, indicators, partners, activities and deliverables.
async fn the_json_export_carries_the_figures(app: &TestApp, c: &str) -> Value {
    // The exports: JSON, CSV and ZIP, with the same numbers.
    let (status, ct, body) = app.download("/export/periods/1.json", Some(c)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(ct.starts_with("application/json"));
    let export: Value = serde_json::from_slice(&body).expect("valid JSON");
    assert_eq!(
        (export["project_id"].as_str(), export["acronym"].as_str()),
        (Some("C004"), Some("BSR Cultural Pearls"))
    );
    assert_eq!(export["reporting_period"]["number"], 1);
    let inds = &export["project_indicators"];
    assert_eq!(indicator(inds, "RCO81")["delivered_in_period"], "4");
    assert_eq!(indicator(inds, "RCO84")["delivered_in_period"], "3");
    assert_eq!(indicator(inds, "RCO87")["derived"], true);
    let partners = export["partners"].as_array().expect("partners");
    let creative = partners
        .iter()
        .find(|p| p["name"] == "Creative Estonia")
        .expect("the partner");
    assert_eq!(
        (
            creative["report_status"].as_str(),
            creative["expenditure_total"].as_str(),
            creative["role"].as_str()
        ),
        (Some("ACCEPTED"), Some("1250.50"), Some("PP"))
    );
    let lead = partners
        .iter()
        .find(|p| p["name"] == "CBSS Secretariat")
        .expect("the lead partner");
    assert_eq!(
        (lead["role"].as_str(), lead["report_status"].clone()),
        (Some("LP"), Value::Null)
    );
    assert_eq!(export["activities"][0]["status"], "FULLY");
    assert_eq!(export["deliverables"][0]["status"], "DELIVERED");
    export
}

/// The CSV exports carry the same numbers, and a formula-like narrative stays text.
async fn the_csv_exports_carry_the_same_numbers(app: &TestApp, c: &str) {
    let (status, ct, body) = app
        .download("/export/periods/1/indicators.csv", Some(c))
        .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"));
    let csv = String::from_utf8(body).unwrap();
    // For spreadsheets: a byte-order mark, then RFC 4180 records with CRLF line ends.
    assert!(
        csv.starts_with("\u{feff}code,name,unit,kind,target,in_period,cumulative"),
        "{csv}"
    );
    assert!(
        csv.ends_with("\r\n") && !csv.replace("\r\n", "").contains('\n'),
        "CRLF only: {csv:?}"
    );
    // The derivation in words, as the JSON export and the README give it.
    assert!(
        csv.lines().any(|l| l.starts_with("RCO81,")
            && l.contains(",100,4,4,4,true,Derived: registrations with recorded attendance")),
        "{csv}"
    );
    let (_, _, body) = app
        .download("/export/periods/1/expenditure.csv", Some(c))
        .await;
    let csv = String::from_utf8(body).unwrap();
    assert!(
        csv.contains(",ACCEPTED,STAFF,1000.00")
            && csv.contains(",ACCEPTED,TRAVEL_ACCOMMODATION,250.50"),
        "{csv}"
    );
    assert_eq!(
        csv.lines().count(),
        1 + 5,
        "header + five categories: {csv}"
    );

    // A narrative that looks like a formula stays text in a spreadsheet.
    let (_, _, body) = app
        .download("/export/periods/1/activities.csv", Some(c))
        .await;
    let csv = String::from_utf8(body).unwrap();
    assert!(
        csv.contains(",FULLY,\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"annex\"\")\""),
        "{csv}"
    );
}

/// The ZIP holds every file, its JSON the same as the JSON export.
async fn the_zip_holds_every_file_and_the_same_json(app: &TestApp, c: &str, export: &Value) {
    let (status, ct, body) = app.download("/export/periods/1.zip", Some(c)).await;
    assert_eq!((status, ct.as_str()), (200, "application/zip"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("a valid ZIP");
    let mut names: Vec<String> = zip
        .file_names()
        .map(|n| n.expect("a file name").into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "period-1-activities.csv",
            "period-1-deliverables.csv",
            "period-1-expenditure.csv",
            "period-1-indicators.csv",
            "period-1.json",
            "period-1.xlsx"
        ]
    );
    let mut inner = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("period-1.xlsx").unwrap(), &mut inner).unwrap();
    let sheets = workbook_sheets(inner);
    assert_eq!(sheets.len(), 5, "the ZIP's workbook is whole");
    let mut inner = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("period-1.json").unwrap(), &mut inner).unwrap();
    let inner: Value = serde_json::from_str(&inner).unwrap();
    assert_eq!(inner["project_indicators"], export["project_indicators"]);
    assert_eq!(inner["partners"], export["partners"]);
}

/// Every sheet of a workbook as a spreadsheet program reads it: name and cell rows.
fn workbook_sheets(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a valid workbook");
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("a sheet");
            let rows = range.rows().map(|r| r.to_vec()).collect();
            (name, rows)
        })
        .collect()
}

/// A cell's text, or its number as the JSON export writes decimals ("4", "1250.50" → 1250.5).
fn number(cell: &calamine::Data) -> Option<f64> {
    match cell {
        calamine::Data::Float(f) => Some(*f),
        calamine::Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn json_number(v: &Value) -> Option<f64> {
    v.as_str().map(|s| s.parse().expect("a decimal"))
}

fn text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::String(s) => s.clone(),
        calamine::Data::Empty => String::new(),
        other => panic!("not text: {other:?}"),
    }
}

/// Excel's serial day number of a date (days since 1899-12-30).
fn serial(date: &str) -> f64 {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("a date");
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("the epoch");
    (d - epoch).num_days() as f64
}

/// The workbook: one sheet per CSV table after the period's, numbers as numbers, dates as
/// dates, a frozen header — and every figure equal to the JSON export's.
async fn the_workbook_holds_the_json_figures(app: &TestApp, c: &str, export: &Value) {
    let (status, ct, body) = app.download("/export/periods/1.xlsx", Some(c)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        ct,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    // The header row is frozen (a pane below row 1) on every sheet.
    let mut raw = zip::ZipArchive::new(std::io::Cursor::new(body.clone())).expect("a ZIP");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut raw.by_name("xl/worksheets/sheet2.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    assert!(
        xml.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ),
        "{xml}"
    );
    let sheets = workbook_sheets(body);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "period",
            "indicators",
            "activities",
            "deliverables",
            "expenditure"
        ]
    );
    let sheet = |name: &str| &sheets.iter().find(|(n, _)| n == name).unwrap().1;

    let period = sheet("period");
    let value = |field: &str| &period.iter().find(|r| text(&r[0]) == field).unwrap()[1];
    assert_eq!(text(value("project_id")), "C004");
    assert_eq!(number(value("reporting_period")), Some(1.0));
    for field in ["start_date", "end_date", "report_deadline"] {
        let cell = value(field);
        let calamine::Data::DateTime(d) = cell else {
            panic!("{field} is not a date: {cell:?}")
        };
        let expected = export["reporting_period"][field].as_str().unwrap();
        assert_eq!(d.as_f64(), serial(expected), "{field}");
    }

    // Every indicator's figures, in the export's order.
    let rows = sheet("indicators");
    assert_eq!(
        rows[0].iter().map(text).collect::<Vec<_>>(),
        [
            "code",
            "name",
            "unit",
            "kind",
            "target",
            "in_period",
            "cumulative",
            "progress_percent",
            "derived",
            "derivation"
        ]
    );
    let inds = export["project_indicators"].as_array().unwrap();
    assert_eq!(rows.len() - 1, inds.len());
    for (row, ind) in rows[1..].iter().zip(inds) {
        assert_eq!(text(&row[0]), ind["code"].as_str().unwrap());
        assert_eq!(text(&row[1]), ind["name"].as_str().unwrap());
        assert_eq!(number(&row[4]), json_number(&ind["target"]), "{ind}");
        assert_eq!(
            number(&row[5]),
            json_number(&ind["delivered_in_period"]),
            "{ind}"
        );
        assert_eq!(
            number(&row[6]),
            json_number(&ind["delivered_cumulative"]),
            "{ind}"
        );
        assert_eq!(
            number(&row[7]),
            json_number(&ind["progress_percent"]),
            "{ind}"
        );
        assert_eq!(
            row[8],
            calamine::Data::Bool(ind["derived"].as_bool().unwrap())
        );
        assert_eq!(text(&row[9]), ind["derivation"].as_str().unwrap_or(""));
    }
    assert!(
        rows.iter()
            .any(|r| text(&r[0]) == "RCO81" && number(&r[5]) == Some(4.0)),
        "{rows:?}"
    );

    // The activity and deliverable lines, text as the JSON has it (a formula stays text).
    // Each text sheet's rows are the JSON list's objects, cell by cell in the columns' order.
    let same_lines = |name: &str, keys: &[&str]| {
        let rows = sheet(name);
        let list = export[name].as_array().unwrap();
        assert_eq!(rows.len() - 1, list.len(), "{name}");
        for (row, line) in rows[1..].iter().zip(list) {
            for (cell, key) in row.iter().zip(keys) {
                assert_eq!(text(cell), line[*key].as_str().unwrap(), "{name}.{key}");
            }
        }
        rows
    };
    let rows = same_lines(
        "activities",
        &[
            "work_package",
            "code",
            "title",
            "partner",
            "status",
            "narrative",
        ],
    );
    assert!(
        rows.iter().any(|r| text(&r[5]).starts_with("=HYPERLINK(")),
        "{rows:?}"
    );
    same_lines(
        "deliverables",
        &[
            "activity",
            "code",
            "title",
            "due_period",
            "partner",
            "status",
            "note",
        ],
    );

    // Expenditure: an amount per category of each accepted report, as numbers.
    let rows = sheet("expenditure");
    let mut expected = Vec::new();
    for p in export["partners"].as_array().unwrap() {
        if p["report_status"] != "ACCEPTED" {
            continue;
        }
        for e in p["expenditure"].as_array().unwrap() {
            expected.push((
                p["partner_id"].as_str().unwrap().to_owned(),
                e["category"].as_str().unwrap().to_owned(),
                json_number(&e["amount"]),
            ));
        }
    }
    let got: Vec<(String, String, Option<f64>)> = rows[1..]
        .iter()
        .map(|r| (text(&r[0]), text(&r[4]), number(&r[5])))
        .collect();
    assert_eq!(got, expected);
    assert!(
        got.iter()
            .any(|(_, c, a)| c == "TRAVEL_ACCOMMODATION" && *a == Some(250.5))
    );
}

/// Who may export: coordinators; not partners, not the public; unknown periods and files are 404.
async fn only_the_coordinator_may_export(app: &TestApp, c: &str, partner: &str) {
    // Who may export: coordinators and reporting tokens; not partners, not the public.
    assert_eq!(
        app.download("/export/periods/1.json", Some(partner))
            .await
            .0,
        403
    );
    assert_eq!(app.download("/export/periods/1.json", None).await.0, 401);
    assert_eq!(app.download("/export/periods/9.json", Some(c)).await.0, 404);
    assert_eq!(
        app.download("/export/periods/1.xlsx", Some(partner))
            .await
            .0,
        403
    );
    assert_eq!(app.download("/export/periods/1.xlsx", None).await.0, 401);
    assert_eq!(app.download("/export/periods/9.xlsx", Some(c)).await.0, 404);
    assert_eq!(
        app.download("/export/periods/1/secrets.csv", Some(c))
            .await
            .0,
        404
    );
}

both!(
    a_period_is_reported_and_exported,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let mentor = app.login("mentor@test.example", PASSWORD).await;
        let c = coordinator.as_str();
        let work = the_period_and_the_work_plan_are_set_up(&app, c, &w).await;
        portal_data_is_recorded_in_and_around_the_period(&app, &w).await;
        contributions_are_made_for_the_own_organisation(&app, c, &partner, &mentor, &w, &work)
            .await;
        the_partner_report_is_reviewed_and_frozen(&app, c, &partner, &work).await;
        the_period_figures_count_what_was_accepted(&app, c).await;
        the_derived_figures_agree_with_the_kpis(&app, c).await;
        let export = the_json_export_carries_the_figures(&app, c).await;
        the_csv_exports_carry_the_same_numbers(&app, c).await;
        the_zip_holds_every_file_and_the_same_json(&app, c, &export).await;
        the_workbook_holds_the_json_figures(&app, c, &export).await;
        only_the_coordinator_may_export(&app, c, &partner).await;
    }
);

both!(
    integration_tokens_read_only_their_scopes,
    |app: TestApp| async move {
        World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let create = "mutation($i: CreateIntegrationTokenInput!) { createIntegrationToken(input: $i) { secret token { id scopes lastUsedAt } } }";
        assert_eq!(
            code(
                &app.gql(
                    Some(&partner),
                    create,
                    json!({ "i": { "name": "x", "scopes": ["KPI_READ"] } })
                )
                .await
            ),
            "FORBIDDEN"
        );
        let kpi = ok(
            &app,
            &coordinator,
            create,
            json!({ "i": { "name": "Dashboard", "scopes": ["KPI_READ"] } }),
        )
        .await;
        let kpi_secret = kpi["createIntegrationToken"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(kpi_secret.starts_with("pit_"));
        let rep = ok(
            &app,
            &coordinator,
            create,
            json!({ "i": { "name": "Reporting sync", "scopes": ["REPORTING_READ"] } }),
        )
        .await;
        let rep_secret = rep["createIntegrationToken"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        let rep_id = rep["createIntegrationToken"]["token"]["id"].clone();

        // A kpi:read token reads KPIs and nothing else — not public data, not `me`, no mutations.
        let body = app
            .gql(
                Some(&kpi_secret),
                "{ kpis { funnel { applied } } }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["kpis"]["funnel"][0]["applied"], 1, "{body}");
        for q in [
            "{ me { email } }",
            "{ applications { totalCount } }",
            "{ editions { totalCount } }",
            "{ reportingPeriods { number } }",
            "query { node(id: \"x\") { id } }",
            "{ pearls { title } }",
        ] {
            let body = app.gql(Some(&kpi_secret), q, json!({})).await;
            assert_eq!(code(&body), "FORBIDDEN", "{q}: {body}");
        }
        let body = app
            .gql(
                Some(&kpi_secret),
                "mutation { createCalendarFeed { path } }",
                json!({}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
        // A kpi:read token cannot export; a reporting:read token can, and reads reporting.
        assert_eq!(
            app.download("/export/periods/1.json", Some(&kpi_secret))
                .await
                .0,
            403
        );
        let body = app
            .gql(Some(&rep_secret), "{ indicators { code } }", json!({}))
            .await;
        assert_eq!(
            body["data"]["indicators"].as_array().map(Vec::len),
            Some(8),
            "{body}"
        );
        assert_eq!(
            code(
                &app.gql(
                    Some(&rep_secret),
                    "{ kpis { funnel { applied } } }",
                    json!({})
                )
                .await
            ),
            "FORBIDDEN"
        );
        ok(&app, &coordinator, "mutation($i: CreateReportingPeriodInput!) { createReportingPeriod(input: $i) { period { id } } }",
        json!({ "i": { "number": 1, "startsOn": "2026-01-01", "endsOn": "2026-06-30", "reportDeadline": "2026-07-31" } })).await;
        assert_eq!(
            app.download("/export/periods/1.json", Some(&rep_secret))
                .await
                .0,
            200
        );
        // The coordinator sees when tokens were used; a revoked token stops at once.
        let list = ok(
            &app,
            &coordinator,
            "{ integrationTokens { name lastUsedAt revokedAt } }",
            json!({}),
        )
        .await;
        assert!(
            list["integrationTokens"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["lastUsedAt"].is_string()),
            "{list}"
        );
        ok(&app, &coordinator, "mutation($i: RevokeIntegrationTokenInput!) { revokeIntegrationToken(input: $i) { token { revokedAt } } }",
        json!({ "i": { "id": rep_id } })).await;
        let (status, body) = app
            .gql_as(Some(&rep_secret), "{ indicators { code } }", json!({}))
            .await;
        assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));
        assert_eq!(
            app.download("/export/periods/1.json", Some(&rep_secret))
                .await
                .0,
            401
        );
        // Expired and unknown tokens are refused too.
        let expired = ok(
            &app,
            &coordinator,
            create,
            json!({ "i": { "name": "Soon", "scopes": ["KPI_READ"],
        "expiresAt": (Utc::now() + chrono::Duration::seconds(2)).to_rfc3339() } }),
        )
        .await;
        let expired = expired["createIntegrationToken"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        // Two seconds pass on the server's clock.
        app.state
            .clock
            .advance(chrono::Duration::milliseconds(2100));
        assert_eq!(
            app.gql_as(Some(&expired), "{ kpis { funnel { applied } } }", json!({}))
                .await
                .0,
            401
        );
        assert_eq!(
            app.gql_as(
                Some("pit_guessed"),
                "{ kpis { funnel { applied } } }",
                json!({})
            )
            .await
            .0,
            401
        );
    }
);

both!(
    figures_over_periods_count_what_was_accepted,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let c = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let period = "mutation($i: CreateReportingPeriodInput!) { createReportingPeriod(input: $i) { period { id } } }";
        for (n, from, to, due) in [
            (1, "2026-01-01", "2026-06-30", "2026-07-31"),
            (2, "2026-07-01", "2026-12-31", "2027-01-31"),
            (3, "2027-01-01", "2027-06-30", "2027-07-31"),
        ] {
            ok(&app, &c, period, json!({ "i": { "number": n, "startsOn": from, "endsOn": to, "reportDeadline": due } })).await;
        }
        let overlap = app
            .gql(Some(&c), period, json!({ "i": { "number": 4, "startsOn": "2027-06-01", "endsOn": "2027-12-31", "reportDeadline": "2028-01-31" } }))
            .await;
        assert_eq!(
            (
                code(&overlap),
                overlap["errors"][0]["extensions"]["field"].as_str()
            ),
            ("BAD_USER_INPUT", Some("startsOn")),
            "periods never overlap: {overlap}"
        );

        // Public events before the project, in period 1 and in period 2, with attendees.
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap();
        let before = event(db, w.partner_org, at(2025, 12, 15), true, false).await;
        let first = event(db, w.partner_org, at(2026, 3, 1), true, false).await;
        let second = event(db, w.partner_org, at(2026, 9, 1), true, false).await;
        let kiel = fixtures::user(&app, "k@test.example", Role::Municipality, Some(w.kiel)).await;
        let svendborg = fixtures::user(
            &app,
            "s@test.example",
            Role::Municipality,
            Some(w.svendborg),
        )
        .await;
        attend(db, before, svendborg, w.svendborg, Some(true)).await;
        attend(db, first, kiel, w.kiel, Some(true)).await;
        attend(db, second, kiel, w.kiel, Some(true)).await;
        attend(db, second, svendborg, w.svendborg, Some(true)).await;

        // RCO84: the partner reports 3 in period 1 (accepted) and 4 in period 2 (submitted);
        // the lead partner 2 in period 1 without a report.
        let rco84 = ok(&app, &c, "{ indicators { id code } }", json!({})).await["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "RCO84")
            .unwrap()["id"]
            .clone();
        let contribute = "mutation($i: ContributeToIndicatorInput!) { contributeToIndicator(input: $i) { contribution { version } } }";
        for (who, n, v) in [(&partner, 1, "3"), (&partner, 2, "4"), (&c, 1, "2")] {
            ok(&app, who, contribute, json!({ "i": { "indicatorId": rco84, "periodNumber": n, "value": v, "evidence": "e" } })).await;
        }
        let save = "mutation($i: SavePartnerReportInput!) { savePartnerReport(input: $i) { report { id } } }";
        let step = |m: &str| {
            format!(
                "mutation($i: PartnerReportStepInput!) {{ {m}(input: $i) {{ report {{ status }} }} }}"
            )
        };
        let mut reports = Vec::new();
        for n in [1, 2] {
            let r = ok(
                &app,
                &partner,
                save,
                json!({ "i": { "periodNumber": n, "narrative": "n",
                "expenditure": [{ "category": "STAFF", "amount": format!("{n}00.00") }] } }),
            )
            .await;
            let id = r["savePartnerReport"]["report"]["id"].clone();
            ok(
                &app,
                &partner,
                &step("submitPartnerReport"),
                json!({ "i": { "id": id } }),
            )
            .await;
            reports.push(id);
        }
        ok(
            &app,
            &c,
            &step("acceptPartnerReport"),
            json!({ "i": { "id": reports[0] } }),
        )
        .await;

        let q =
            "{ reportingPeriods { number indicatorValues { indicator { code } inPeriod cumulative }
                   expenditureTotals { category amount } } }";
        let figures = |body: Value, code: &str| -> Vec<(String, String)> {
            body["reportingPeriods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let v = indicator(&p["indicatorValues"], code);
                    (
                        v["inPeriod"].as_str().unwrap().to_owned(),
                        v["cumulative"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        };
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let before_count = app.statements();
        let body = ok(&app, &c, q, json!({})).await;
        let all_periods = app.statements() - before_count;
        assert_eq!(
            figures(body.clone(), "RCO115"),
            pairs(&[("1", "1"), ("1", "2"), ("0", "2")]),
            "cumulative from the project's first day: the December 2025 event is not counted"
        );
        assert_eq!(
            figures(body.clone(), "RCO87"),
            pairs(&[("1", "1"), ("2", "2"), ("0", "2")]),
            "distinct organisations, also over the cumulative window"
        );
        assert_eq!(
            figures(body.clone(), "RCO84"),
            pairs(&[("3", "3"), ("0", "3"), ("0", "3")]),
            "only accepted reports' contributions count"
        );
        assert_eq!(
            body["reportingPeriods"][1]["expenditureTotals"][0]["amount"], "0.00",
            "period 2's report is not accepted yet"
        );
        assert_eq!(
            body["reportingPeriods"][0]["expenditureTotals"][0]["amount"],
            "100.00"
        );
        // The export says the same.
        let (_, _, json2) = app.download("/export/periods/2.json", Some(&c)).await;
        let export: Value = serde_json::from_slice(&json2).unwrap();
        let rco84_export = indicator(&export["project_indicators"], "RCO84");
        assert_eq!(
            (
                rco84_export["delivered_in_period"].as_str(),
                rco84_export["delivered_cumulative"].as_str()
            ),
            (Some("0"), Some("3"))
        );

        ok(
            &app,
            &c,
            &step("acceptPartnerReport"),
            json!({ "i": { "id": reports[1] } }),
        )
        .await;
        let body = ok(&app, &c, q, json!({})).await;
        assert_eq!(
            figures(body, "RCO84"),
            pairs(&[("3", "3"), ("4", "7"), ("0", "7")])
        );

        // One period or three: the same number of statements.
        let before_count = app.statements();
        ok(&app, &c, "{ reportingPeriod(number: 1) { number indicatorValues { indicator { code } inPeriod cumulative }
                   expenditureTotals { category amount } } }", json!({})).await;
        let one_period = app.statements() - before_count;
        assert_eq!(
            one_period, all_periods,
            "figures are batched across periods"
        );
        // The user, the periods; for the figures: the periods seen, indicators, all periods,
        // attendances, public events, plans, contributions; for expenditure: the periods seen,
        // the totals.
        assert_eq!(all_periods, 11);

        // A failure before the first byte is a plain 500 with the API's error body, never a
        // 200 with a truncated file.
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("DROP TABLE indicator_contribution")
            .await
            .unwrap();
        let (status, _, body) = app.download("/export/periods/1.json", Some(&c)).await;
        assert_eq!(status, 500);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "INTERNAL_SERVER_ERROR"
        );
    }
);
