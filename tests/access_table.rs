//! The access table of DOMAIN.md, walked as a table: role × operation × own/other data, each cell
//! allowed (with the exact visible count where it is a list) or refused with FORBIDDEN, NOT_FOUND
//! or UNAUTHENTICATED — over HTTP, on SQLite and PostgreSQL.

use crate::common;

use common::TestApp;
use common::fixtures::{PASSWORD, World};
use pearls_api::graphql::ids::encode;
use serde_json::{Value, json};

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Coordinator,
    Partner,
    Mentor,
    /// The Kiel contact: own application (draft), assigned mentor.
    OwnMunicipality,
    /// The Svendborg contact: someone else's data.
    OtherMunicipality,
    /// A juror of an external organisation, scoring Svendborg's CuReAP in the jury stage
    /// (`jury_table` only).
    Juror,
    /// Another juror, scoring Svendborg's application in the preselection stage only.
    OtherJuror,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::Coordinator,
    Who::Partner,
    Who::Mentor,
    Who::OwnMunicipality,
    Who::OtherMunicipality,
];

/// What must happen.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    /// Allowed; for lists, the exact `totalCount`.
    Ok,
    Count(i64),
    Refused(&'static str),
}
use Expect::*;

/// The callers' tokens, and the table's failing cells: every cell is checked and every
/// failure reported together when the table is done (when this is dropped), so one wrong cell
/// does not hide the others.
struct Tokens(Vec<(Who, Option<String>)>, std::cell::RefCell<Vec<String>>);

impl Drop for Tokens {
    fn drop(&mut self) {
        let failures = self.1.borrow();
        if !failures.is_empty() && !std::thread::panicking() {
            panic!(
                "{} cell(s) of the table failed:\n{}",
                failures.len(),
                failures.join("\n")
            );
        }
    }
}

impl Tokens {
    async fn new(app: &TestApp) -> Self {
        let mut v = vec![(Who::Anonymous, None)];
        for (who, email) in [
            (Who::Coordinator, "coordinator@test.example"),
            (Who::Partner, "partner@test.example"),
            (Who::Mentor, "mentor@test.example"),
            (Who::OwnMunicipality, "kiel@test.example"),
            (Who::OtherMunicipality, "svendborg@test.example"),
        ] {
            v.push((who, Some(app.login(email, PASSWORD).await)));
        }
        Self(v, Default::default())
    }

    /// The table's callers and the two jurors (who must exist already).
    async fn with_jurors(app: &TestApp) -> Self {
        let mut t = Self::new(app).await;
        for (who, email) in [
            (Who::Juror, "juror@test.example"),
            (Who::OtherJuror, "juror2@test.example"),
        ] {
            t.0.push((who, Some(app.login(email, PASSWORD).await)));
        }
        t
    }

    fn of(&self, who: Who) -> Option<&str> {
        self.0
            .iter()
            .find(|(w, _)| *w == who)
            .and_then(|(_, t)| t.as_deref())
    }
}

/// Classifies a response: the error code of `field` if it failed, otherwise Ok or its count.
/// An `Ok` cell must hold the object: a field that names an `id` in its variables answers that
/// very object.
fn outcome(body: &Value, field: &str, vars: &Value) -> Result<Expect, String> {
    if let Some(e) = body["errors"].as_array().and_then(|errors| errors.first()) {
        let c = e["extensions"]["code"].as_str().unwrap_or("NO_CODE");
        return match c {
            "UNAUTHENTICATED" => Result::Ok(Refused("UNAUTHENTICATED")),
            "FORBIDDEN" => Result::Ok(Refused("FORBIDDEN")),
            "NOT_FOUND" => Result::Ok(Refused("NOT_FOUND")),
            "CONFLICT" => Result::Ok(Refused("CONFLICT")),
            "BAD_USER_INPUT" => Result::Ok(Refused("BAD_USER_INPUT")),
            other => Err(format!("unexpected code {other}")),
        };
    }
    let data = &body["data"][field];
    if let Some(n) = data["totalCount"].as_i64() {
        return Result::Ok(Count(n));
    }
    if data.is_null() {
        return Err("no data and no error".into());
    }
    if let (Some(asked), Some(got)) = (vars["id"].as_str(), data["id"].as_str())
        && asked != got
    {
        return Err(format!("asked for {asked}, answered {got}"));
    }
    Result::Ok(Ok)
}

/// How many audit entries there are: every write leaves one, so a refused write must leave
/// this unchanged.
async fn audit_entries(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::audit_entry::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count the audit log")
}

async fn check_row(
    app: &TestApp,
    tokens: &Tokens,
    name: &str,
    query: &str,
    vars: Value,
    field: &str,
    row: &[(Who, Expect)],
) {
    let write = query.trim_start().starts_with("mutation");
    for (who, expected) in row {
        let before = if write { audit_entries(app).await } else { 0 };
        let body = app.gql(tokens.of(*who), query, vars.clone()).await;
        let got = outcome(&body, field, &vars);
        let mut failure = match &got {
            Result::Ok(got) if got == expected => None,
            Result::Ok(got) => Some(format!("expected {expected:?}, got {got:?}")),
            Err(why) => Some(why.clone()),
        };
        if write && failure.is_none() && matches!(expected, Refused(_)) {
            let after = audit_entries(app).await;
            if after != before {
                failure = Some(format!(
                    "refused, yet {} audit entries were written",
                    after - before
                ));
            }
        }
        if let Some(why) = failure {
            tokens.1.borrow_mut().push(format!(
                "{name} as {who:?} on {:?}: {why}: {body}",
                app.backend
            ));
        }
    }
}

fn all(e: Expect) -> Vec<(Who, Expect)> {
    EVERYONE.iter().map(|w| (*w, e.clone())).collect()
}

both!(role_table, |app: TestApp| async move {
    let w = World::build(&app).await;
    let t = Tokens::new(&app).await;
    applications_are_seen_only_by_their_readers(&app, &t, &w).await;
    users_are_seen_only_by_their_circle(&app, &t, &w).await;
    organisations_editions_assignments_and_the_audit_log(&app, &t, &w).await;
    user_administration_is_the_coordinators(&app, &t, &w).await;
    applications_are_written_by_their_municipality_or_the_coordinator(&app, &t, &w).await;
});

/// Applications by id and as lists: each caller sees exactly its own, a filter reveals nothing.
async fn applications_are_seen_only_by_their_readers(app: &TestApp, t: &Tokens, w: &World) {
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let id = |ty: &str, u| json!({ "id": encode(ty, u).0 });

    // Applications by id: own draft, someone else's submitted one.
    check_row(
        app,
        t,
        "node(kiel draft)",
        node,
        id("Application", w.kiel_app),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Refused("NOT_FOUND")), // partners never see drafts
            (Who::Mentor, Ok),                    // assigned
            (Who::OwnMunicipality, Ok),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "node(svendborg submitted)",
        node,
        id("Application", w.svendborg_app),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Ok),
            (Who::Mentor, Refused("NOT_FOUND")), // not assigned
            (Who::OwnMunicipality, Refused("NOT_FOUND")),
            (Who::OtherMunicipality, Ok),
        ],
    )
    .await;
    // A made-up id answers exactly like an invisible one.
    check_row(
        app,
        t,
        "node(unknown)",
        node,
        id("Application", uuid::Uuid::now_v7()),
        "node",
        &all(Refused("NOT_FOUND")),
    )
    .await;

    // Application lists: totalCount counts only what the caller may see.
    let apps = "{ applications { totalCount edges { node { id } } } }";
    check_row(
        app,
        t,
        "applications",
        apps,
        json!({}),
        "applications",
        &[
            (Who::Anonymous, Count(0)),
            (Who::Coordinator, Count(3)),
            (Who::Partner, Count(1)),
            (Who::Mentor, Count(1)),
            (Who::OwnMunicipality, Count(1)),
            (Who::OtherMunicipality, Count(2)),
        ],
    )
    .await;
    // A filter cannot reveal hidden rows either.
    let by_status = "{ applications(filter: {status: [DRAFT]}) { totalCount } }";
    check_row(
        app,
        t,
        "applications(DRAFT)",
        by_status,
        json!({}),
        "applications",
        &[
            (Who::Anonymous, Count(0)),
            (Who::Coordinator, Count(2)),
            (Who::Partner, Count(0)),
            (Who::Mentor, Count(1)),
            (Who::OwnMunicipality, Count(1)),
            (Who::OtherMunicipality, Count(1)),
        ],
    )
    .await;
}

/// Users by id, the user list and `me`: each caller sees its own circle.
async fn users_are_seen_only_by_their_circle(app: &TestApp, t: &Tokens, w: &World) {
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let id = |ty: &str, u| json!({ "id": encode(ty, u).0 });

    // Users.
    check_row(
        app,
        t,
        "node(kiel user)",
        node,
        id("User", w.kiel_user),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Refused("NOT_FOUND")), // municipality contacts are not consortium users
            (Who::Mentor, Ok),                    // mentee's contact
            (Who::OwnMunicipality, Ok),           // self
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "node(mentor)",
        node,
        id("User", w.mentor),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Ok),
            (Who::Mentor, Ok),
            (Who::OwnMunicipality, Ok), // own mentor
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "users",
        "{ users { totalCount } }",
        json!({}),
        "users",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Count(5)),
            (Who::Partner, Count(3)),
            (Who::Mentor, Count(2)),
            (Who::OwnMunicipality, Count(2)),
            (Who::OtherMunicipality, Count(1)),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "me",
        "{ me { email } }",
        json!({}),
        "me",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Ok),
            (Who::Partner, Ok),
            (Who::Mentor, Ok),
            (Who::OwnMunicipality, Ok),
            (Who::OtherMunicipality, Ok),
        ],
    )
    .await;
}

/// Organisations, editions, mentor assignments and the audit log, read by each role.
async fn organisations_editions_assignments_and_the_audit_log(
    app: &TestApp,
    t: &Tokens,
    w: &World,
) {
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let id = |ty: &str, u| json!({ "id": encode(ty, u).0 });

    // Organisations and editions: readable by every signed-in user; anonymous visitors see the
    // consortium only (no title holders in this fixture).
    check_row(
        app,
        t,
        "organisations",
        "{ organisations { totalCount } }",
        json!({}),
        "organisations",
        &[
            (Who::Anonymous, Count(2)),
            (Who::Coordinator, Count(4)),
            (Who::Partner, Count(4)),
            (Who::Mentor, Count(4)),
            (Who::OwnMunicipality, Count(4)),
            (Who::OtherMunicipality, Count(4)),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "editions",
        "{ editions { totalCount } }",
        json!({}),
        "editions",
        &all(Count(2)),
    )
    .await;

    // Mentor assignments.
    check_row(
        app,
        t,
        "node(assignment)",
        node,
        id("MentorAssignment", w.assignment),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Refused("NOT_FOUND")), // of a draft the partner cannot see
            (Who::Mentor, Ok),
            (Who::OwnMunicipality, Ok),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;

    // The audit log.
    check_row(
        app,
        t,
        "auditEntries",
        "{ auditEntries { totalCount } }",
        json!({}),
        "auditEntries",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Count(10)), // five user.create (fixture) + five session.login (tokens)
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("FORBIDDEN")),
        ],
    )
    .await;
}

/// Creating and deactivating users is the coordinator's alone.
async fn user_administration_is_the_coordinators(app: &TestApp, t: &Tokens, w: &World) {
    // User administration is the coordinator's.
    let create_user = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { email } } }";
    for (n, (who, expected)) in [
        (Who::Anonymous, Refused("UNAUTHENTICATED")),
        (Who::Partner, Refused("FORBIDDEN")),
        (Who::Mentor, Refused("FORBIDDEN")),
        (Who::OwnMunicipality, Refused("FORBIDDEN")),
        (Who::OtherMunicipality, Refused("FORBIDDEN")),
        (Who::Coordinator, Ok),
    ]
    .into_iter()
    .enumerate()
    {
        let vars = json!({ "i": { "email": format!("new{n}@test.example"), "name": "New", "role": "MENTOR",
                                  "password": "long enough password" } });
        check_row(
            app,
            t,
            "createUser",
            create_user,
            vars,
            "createUser",
            &[(who, expected)],
        )
        .await;
    }
    let deactivate =
        "mutation($i: DeactivateUserInput!) { deactivateUser(input: $i) { user { active } } }";
    let vars = json!({ "i": { "id": encode("User", w.partner).0 } });
    check_row(
        app,
        t,
        "deactivateUser",
        deactivate,
        vars,
        "deactivateUser",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("FORBIDDEN")),
        ],
    )
    .await;
}

/// Editing, creating, submitting and withdrawing applications: the municipality or the coordinator.
async fn applications_are_written_by_their_municipality_or_the_coordinator(
    app: &TestApp,
    t: &Tokens,
    w: &World,
) {
    // Editing Kiel's draft: allowed for Kiel and the coordinator; the mentor sees it but may not
    // edit (FORBIDDEN); those who cannot see it get NOT_FOUND.
    let update = "mutation($i: UpdateApplicationInput!) { updateApplication(input: $i) { application { version } } }";
    for (who, expected) in [
        (Who::Anonymous, Refused("UNAUTHENTICATED")),
        (Who::Partner, Refused("NOT_FOUND")),
        (Who::Mentor, Refused("FORBIDDEN")),
        (Who::OtherMunicipality, Refused("NOT_FOUND")),
        (Who::OwnMunicipality, Ok),
        (Who::Coordinator, Ok),
    ] {
        let version = current_version(app, t, w.kiel_app).await;
        let vars = json!({ "i": { "id": encode("Application", w.kiel_app).0, "expectedVersion": version,
                                  "title": format!("Edited by {who:?}") } });
        check_row(
            app,
            t,
            "updateApplication",
            update,
            vars,
            "updateApplication",
            &[(who, expected)],
        )
        .await;
    }

    // Applying: a municipality for itself, a coordinator on a municipality's behalf; one
    // application per municipality and edition.
    let create = "mutation($i: CreateApplicationInput!) { createApplication(input: $i) { application { status } } }";
    let vars = json!({ "i": { "editionYear": 2031, "leadMunicipalityId": encode("Organisation", w.kiel).0,
                              "title": "Kiel applies again" } });
    check_row(
        app,
        t,
        "createApplication",
        create,
        vars,
        "createApplication",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Ok),
            (Who::Coordinator, Refused("CONFLICT")),
        ],
    )
    .await;

    // Submitting: only the lead municipality (or a coordinator), and others learn nothing.
    let submit = "mutation($i: ApplicationTransitionInput!) { submitApplication(input: $i) { application { status } } }";
    let vars = json!({ "i": { "id": encode("Application", w.kiel_app).0 } });
    check_row(
        app,
        t,
        "submitApplication",
        submit,
        vars.clone(),
        "submitApplication",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Partner, Refused("NOT_FOUND")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
            (Who::OwnMunicipality, Ok),
        ],
    )
    .await;
    // Now submitted: the partner sees it, still may not act on it.
    let withdraw = "mutation($i: ApplicationTransitionInput!) { withdrawApplication(input: $i) { application { status } } }";
    check_row(
        app,
        t,
        "withdrawApplication",
        withdraw,
        vars,
        "withdrawApplication",
        &[
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
            (Who::OwnMunicipality, Ok),
        ],
    )
    .await;
}

async fn current_version(app: &TestApp, t: &Tokens, id: uuid::Uuid) -> i64 {
    let body = app
        .gql(
            t.of(Who::Coordinator),
            "query($id: ID!) { application(id: $id) { version } }",
            json!({ "id": encode("Application", id).0 }),
        )
        .await;
    body["data"]["application"]["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("{body}"))
}

both!(nested_fields_follow_the_policy, |app: TestApp| async move {
    let w = World::build(&app).await;
    let kiel = app.login("kiel@test.example", PASSWORD).await;
    // Kiel sees its mentor through its application, but the status change made by a coordinator
    // names no one Kiel may not see.
    let body = app
        .gql(
            Some(&kiel),
            "query($id: ID!) { application(id: $id) { mentorAssignments { mentor { email } }
                 leadMunicipality { name members { email } } } }",
            json!({ "id": encode("Application", w.kiel_app).0 }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let app_json = &body["data"]["application"];
    assert_eq!(
        app_json["mentorAssignments"][0]["mentor"]["email"],
        "mentor@test.example"
    );
    assert_eq!(
        app_json["leadMunicipality"]["members"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // A partner listing organisations sees no municipality contacts among their members.
    let partner = app.login("partner@test.example", PASSWORD).await;
    let body = app
        .gql(
            Some(&partner),
            "{ organisations(first: 10) { edges { node { name members { email } } } } }",
            json!({}),
        )
        .await;
    let emails: Vec<String> = body["data"]["organisations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .flat_map(|e| e["node"]["members"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m["email"].as_str().map(String::from))
        .collect();
    assert!(
        !emails
            .iter()
            .any(|e| e.starts_with("kiel") || e.starts_with("svendborg")),
        "{emails:?}"
    );
    assert!(
        emails.contains(&"partner@test.example".to_string()),
        "{emails:?}"
    );
});

// The title cycle's entities: plans and their parts, mentoring sessions, criteria, assessor
// assignments, assessments, the ranking, Pearls and countries — by id, as lists, as nested
// fields, and their writes.
both!(title_cycle_table, |app: TestApp| async move {
    let w = World::build(&app).await;
    let t = Tokens::new(&app).await;
    let f = title_cycle_fixture(&app, &w).await;
    title_cycle_objects_by_id_follow_the_policy(&app, &t, &f).await;
    title_cycle_lists_and_aggregates_follow_the_policy(&app, &t, &f).await;
    nested_title_cycle_fields_show_only_what_the_reader_may_see(&app, &t, &f).await;
    title_cycle_writes_follow_the_policy(&app, &t, &f).await;
});

/// The title cycle's rows, written straight into the database (see `title_cycle_fixture`).
struct TitleCycle {
    now: chrono::DateTime<chrono::Utc>,
    e: uuid::Uuid,
    kiel_app: uuid::Uuid,
    assignment: uuid::Uuid,
    plan: uuid::Uuid,
    action: uuid::Uuid,
    session: uuid::Uuid,
    comment: uuid::Uuid,
    svendborg_app: uuid::Uuid,
    crit: uuid::Uuid,
    assessor: uuid::Uuid,
    assessed: uuid::Uuid,
}

/// Kiel's CuReAP with its mentor, plan, session and comment; Svendborg's, scored at the jury.
async fn title_cycle_fixture(app: &TestApp, w: &World) -> TitleCycle {
    use chrono::Utc;
    use entity::{
        ApplicationStatus, AssessmentStage, SessionFormat, assessment, assessment_score,
        assessor_assignment, criterion, mentoring_session, plan_action, plan_comment,
    };
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    use uuid::Uuid;

    let db = &app.state.db;
    let now = Utc::now();
    let e = common::fixtures::edition_all_phases(db, 2095, true, (4, true, 1)).await;
    // Kiel writes its CuReAP with the mentor; Svendborg's CuReAP is with the jury, where the
    // partner assesses it.
    let kiel_app = common::fixtures::application(
        db,
        e,
        w.kiel,
        "Kiel CuReAP",
        ApplicationStatus::CureapInDevelopment,
    )
    .await;
    let assignment = common::fixtures::assign_mentor(db, kiel_app, w.mentor).await;
    let plan = common::fixtures::complete_plan(db, kiel_app).await;
    let action = plan_action::Entity::find()
        .filter(plan_action::Column::PlanId.eq(plan))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let session = mentoring_session::ActiveModel {
        id: Set(Uuid::now_v7()),
        assignment_id: Set(assignment),
        held_on: Set(now.date_naive()),
        minutes: Set(60),
        format: Set(SessionFormat::Online),
        topics: Set("Vision".into()),
        notes: Set("Good start".into()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    let comment = plan_comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan),
        section: Set(None),
        author_id: Set(Some(w.mentor)),
        body: Set("Keep going".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    let svendborg_app = common::fixtures::application(
        db,
        e,
        w.svendborg,
        "Svendborg CuReAP",
        ApplicationStatus::CureapSubmitted,
    )
    .await;
    let crit = criterion::ActiveModel {
        id: Set(Uuid::now_v7()),
        edition_id: Set(e),
        stage: Set(AssessmentStage::Jury),
        position: Set(1),
        name: Set("Capacity to deliver".into()),
        description: Set(String::new()),
        weight_milli: Set(1000),
        max_score: Set(10),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    let assessor = assessor_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        edition_id: Set(e),
        stage: Set(AssessmentStage::Jury),
        assessor_id: Set(w.partner),
        assigned_by: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    let assessed = assessment::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(svendborg_app),
        assessor_id: Set(w.partner),
        stage: Set(AssessmentStage::Jury),
        conflict_of_interest: Set(false),
        comment: Set("Strong".into()),
        submitted_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    assessment_score::ActiveModel {
        assessment_id: Set(assessed),
        criterion_id: Set(crit),
        score: Set(8),
    }
    .insert(db)
    .await
    .unwrap();
    TitleCycle {
        now,
        e,
        kiel_app,
        assignment,
        plan,
        action,
        session,
        comment,
        svendborg_app,
        crit,
        assessor,
        assessed,
    }
}

/// Plans and their parts, sessions, assessments, assessors, criteria and countries by id.
async fn title_cycle_objects_by_id_follow_the_policy(app: &TestApp, t: &Tokens, f: &TitleCycle) {
    let TitleCycle {
        plan,
        action,
        comment,
        session,
        assessed,
        assessor,
        crit,
        ..
    } = *f;
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let id = |ty: &str, u| json!({ "id": encode(ty, u).0 });
    let kiel_cureap = [
        (Who::Anonymous, Refused("NOT_FOUND")),
        (Who::Coordinator, Ok),
        (Who::Partner, Refused("NOT_FOUND")), // not submitted yet
        (Who::Mentor, Ok),                    // assigned
        (Who::OwnMunicipality, Ok),
        (Who::OtherMunicipality, Refused("NOT_FOUND")),
    ];
    for (ty, u) in [
        ("Plan", plan),
        ("PlanAction", action),
        ("PlanComment", comment),
    ] {
        check_row(app, t, ty, node, id(ty, u), "node", &kiel_cureap).await;
    }
    check_row(
        app,
        t,
        "MentoringSession",
        node,
        id("MentoringSession", session),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Refused("NOT_FOUND")), // aggregates only
            (Who::Mentor, Ok),
            (Who::OwnMunicipality, Ok),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
    let own_scores = [
        (Who::Anonymous, Refused("NOT_FOUND")),
        (Who::Coordinator, Ok),
        (Who::Partner, Ok), // the assessor
        (Who::Mentor, Refused("NOT_FOUND")),
        (Who::OwnMunicipality, Refused("NOT_FOUND")),
        (Who::OtherMunicipality, Refused("NOT_FOUND")), // the assessed town: never the scores
    ];
    check_row(
        app,
        t,
        "Assessment",
        node,
        id("Assessment", assessed),
        "node",
        &own_scores,
    )
    .await;
    check_row(
        app,
        t,
        "AssessorAssignment",
        node,
        id("AssessorAssignment", assessor),
        "node",
        &own_scores,
    )
    .await;
    check_row(
        app,
        t,
        "Criterion",
        node,
        id("Criterion", crit),
        "node",
        &all(Ok),
    )
    .await;
    check_row(
        app,
        t,
        "Country",
        node,
        json!({ "id": pearls_api::graphql::ids::encode_key("Country", "SE").0 }),
        "node",
        &all(Ok),
    )
    .await;
}

/// The assessment list, the ranking and the nested mentoring sessions, per role.
async fn title_cycle_lists_and_aggregates_follow_the_policy(
    app: &TestApp,
    t: &Tokens,
    f: &TitleCycle,
) {
    let kiel_app = f.kiel_app;
    let id = |ty: &str, u| json!({ "id": encode(ty, u).0 });
    // Lists and aggregates.
    check_row(
        app,
        t,
        "assessments",
        "{ assessments { totalCount } }",
        json!({}),
        "assessments",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Count(1)),
            (Who::Partner, Count(1)),
            (Who::Mentor, Count(0)),
            (Who::OwnMunicipality, Count(0)),
            (Who::OtherMunicipality, Count(0)),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "ranking",
        "{ ranking(editionYear: 2095, stage: JURY) { rankedCount } }",
        json!({}),
        "ranking",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Ok),
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("FORBIDDEN")),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "mentoringSessions (nested)",
        "query($id: ID!) { application(id: $id) { mentoringSessions { id } } }",
        id("Application", kiel_app),
        "application",
        &[
            (Who::Coordinator, Ok),
            (Who::Partner, Refused("FORBIDDEN")), // it sees the application, not the sessions
            (Who::Mentor, Ok),
            (Who::OwnMunicipality, Ok),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
}

/// Nested plan, mentoring summary and assessments return only what the reader may see.
async fn nested_title_cycle_fields_show_only_what_the_reader_may_see(
    app: &TestApp,
    t: &Tokens,
    f: &TitleCycle,
) {
    let (kiel_app, svendborg_app) = (f.kiel_app, f.svendborg_app);
    let id = |ty: &str, u| json!({ "id": encode(ty, u).0 });
    // Nested fields return only what the reader may see: the plan of Kiel's application is
    // there for its readers and null for the partner; the partner's view of the mentoring is the
    // summary.
    let nested = "query($id: ID!) { application(id: $id) { plan { id comments { body } } mentoringSummary { sessions minutes } assessments { id } } }";
    for (who, plan_visible, summary) in [
        (Who::Coordinator, true, Some(60)),
        (Who::Partner, false, Some(60)),
        (Who::Mentor, true, Some(60)),
        (Who::OwnMunicipality, true, Some(60)),
    ] {
        let body = app
            .gql(t.of(who), nested, id("Application", kiel_app))
            .await;
        assert!(body["errors"].is_null(), "{who:?}: {body}");
        let a = &body["data"]["application"];
        assert_eq!(!a["plan"].is_null(), plan_visible, "{who:?}: {body}");
        assert_eq!(
            a["mentoringSummary"]["minutes"].as_i64(),
            summary,
            "{who:?}: {body}"
        );
        assert_eq!(a["assessments"], json!([]), "{who:?}: {body}");
    }
    let body = app
        .gql(
            t.of(Who::OtherMunicipality),
            nested,
            id("Application", svendborg_app),
        )
        .await;
    assert_eq!(
        body["data"]["application"]["assessments"],
        json!([]),
        "{body}"
    );
}

/// Comments, plan edits, mentoring sessions, scores and criteria are written by their roles only.
async fn title_cycle_writes_follow_the_policy(app: &TestApp, t: &Tokens, f: &TitleCycle) {
    let TitleCycle {
        now,
        e,
        assignment,
        plan,
        svendborg_app,
        crit,
        ..
    } = *f;
    // Writes.
    let comment_q =
        "mutation($i: CommentOnPlanInput!) { commentOnPlan(input: $i) { comment { id } } }";
    check_row(
        app,
        t,
        "commentOnPlan",
        comment_q,
        json!({ "i": { "planId": encode("Plan", plan).0, "body": "A comment" } }),
        "commentOnPlan",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Ok),
            (Who::Partner, Refused("NOT_FOUND")),
            (Who::Mentor, Ok),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
    let update_plan =
        "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { version } } }";
    check_row(
        app,
        t,
        "updatePlan",
        update_plan,
        json!({ "i": { "planId": encode("Plan", plan).0, "expectedVersion": 1, "vision": "Ours" } }),
        "updatePlan",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Partner, Refused("NOT_FOUND")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::Coordinator, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
            (Who::OwnMunicipality, Ok),
        ],
    )
    .await;
    let log = "mutation($i: LogMentoringSessionInput!) { logMentoringSession(input: $i) { session { id } } }";
    let session_input = json!({ "i": { "assignmentId": encode("MentorAssignment", assignment).0,
        "session": { "heldOn": now.date_naive().to_string(), "minutes": 45, "format": "ONSITE", "topics": "Budget" } } });
    check_row(
        app,
        t,
        "logMentoringSession",
        log,
        session_input,
        "logMentoringSession",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Refused("FORBIDDEN")),
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("FORBIDDEN")),
            (Who::Mentor, Ok),
        ],
    )
    .await;
    let score = "mutation($i: SubmitAssessmentInput!) { submitAssessment(input: $i) { assessment { id } } }";
    check_row(
        app,
        t,
        "submitAssessment",
        score,
        json!({ "i": { "applicationId": encode("Application", svendborg_app).0, "stage": "JURY",
                       "scores": [{ "criterionId": encode("Criterion", crit).0, "score": 9 }],
                       "expectedVersion": 1 } }),
        "submitAssessment",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("FORBIDDEN")),
            (Who::Coordinator, Refused("FORBIDDEN")), // not assigned as assessor
            (Who::Partner, Ok),
        ],
    )
    .await;
    let create_criterion =
        "mutation($i: CreateCriterionInput!) { createCriterion(input: $i) { criterion { id } } }";
    check_row(
        app,
        t,
        "createCriterion",
        create_criterion,
        json!({ "i": { "editionId": encode("Edition", e).0, "stage": "PRESELECTION", "name": "Motivation",
                       "weight": "1", "maxScore": 10 } }),
        "createCriterion",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("FORBIDDEN")),
            (Who::Coordinator, Ok),
        ],
    )
    .await;
}

// The knowledge and community entities: vocabulary, practices (published and draft), events
// (public and internal), registrations, peer-learning groups — by id, as lists, and writes.
both!(knowledge_table, |app: TestApp| async move {
    let w = World::build(&app).await;
    let t = Tokens::new(&app).await;
    let k = knowledge_fixture(&app, &w).await;
    practices_and_terms_are_seen_by_their_readers(&app, &t, &k).await;
    events_registrations_and_peer_groups_are_seen_by_their_readers(&app, &t, &k).await;
    knowledge_writes_follow_the_policy(&app, &t, k).await;
    let _ = entity::Role::Mentor;
});

/// The knowledge table's rows (see `knowledge_fixture`).
struct Knowledge {
    theme: uuid::Uuid,
    partner: pearls_api::policy::Actor,
    published: uuid::Uuid,
    draft: uuid::Uuid,
    open: uuid::Uuid,
    internal: uuid::Uuid,
    registration: uuid::Uuid,
    group: uuid::Uuid,
}

/// Practices (published, draft), events (public, internal), Kiel's registration, a peer group.
async fn knowledge_fixture(app: &TestApp, w: &World) -> Knowledge {
    use chrono::{Duration, Utc};
    use entity::{OrganisationKind, PeerRole, Role, TermKind};
    use pearls_api::policy::{Actor, Principal};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    use uuid::Uuid;

    let db = &app.state.db;
    let theme = common::fixtures::term(db, TermKind::Theme, "heritage").await;
    let as_user = |id, role| {
        Actor::User(Principal {
            user_id: id,
            role,
            organisation_id: None,
        })
    };
    let partner = as_user(w.partner, Role::Partner);
    let coordinator = as_user(w.coordinator, Role::Coordinator);
    let fields = |title: &str| {
        pearls_api::practices::service::PracticeFields::parse(
            title,
            "Summary",
            "Body",
            None,
            None,
            None,
            "",
            None,
            "CC BY 4.0",
            "en",
            (vec![theme], vec![], vec![]),
        )
        .unwrap()
    };
    use pearls_api::practices::service::{Review, create, review};
    let published = create(db, &partner, fields("Published practice"))
        .await
        .unwrap()
        .id;
    review(db, &partner, published, Review::Submit, None, None)
        .await
        .unwrap();
    review(db, &coordinator, published, Review::Publish, None, None)
        .await
        .unwrap();
    let draft = create(db, &partner, fields("Draft practice"))
        .await
        .unwrap()
        .id;
    let now = Utc::now();
    let event = |public: bool| entity::event::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(entity::EventKind::Forum),
        title: Set(if public {
            "Open forum"
        } else {
            "Partner meeting"
        }
        .into()),
        description: Set(String::new()),
        programme: Set(String::new()),
        starts_at: Set(now + Duration::days(3)),
        ends_at: Set(now + Duration::days(4)),
        time_zone: Set("Europe/Tallinn".into()),
        place: Set(Some("Tallinn".into())),
        online_url: Set(None),
        organiser_id: Set(w.partner_org),
        edition_id: Set(None),
        is_public: Set(public),
        capacity: Set(Some(50)),
        registration_deadline: Set(None),
        cancelled_at: Set(None),
        created_by: Set(Some(w.partner)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        registered_count: Set(0),
        attended_count: Set(0),
    };
    let open = event(true).insert(db).await.unwrap().id;
    let internal = event(false).insert(db).await.unwrap().id;
    let registration = entity::participation::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(internal),
        user_id: Set(w.kiel_user),
        organisation_id: Set(Some(w.kiel)),
        role: Set(entity::ParticipationRole::Participant),
        status: Set(entity::ParticipationStatus::Registered),
        registered_at: Set(now),
        registered_by: Set(Some(w.kiel_user)),
        attended: Set(None),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    let vejle =
        common::fixtures::organisation(db, "Vejle", "DK", OrganisationKind::Municipality).await;
    let group = pearls_api::peers::service::create(
        db,
        &coordinator,
        pearls_api::peers::service::GroupFields::parse(
            "Harbour towns",
            "",
            None,
            Some(w.mentor),
            vec![(vejle, PeerRole::Shares), (w.kiel, PeerRole::Learns)],
        )
        .unwrap(),
    )
    .await
    .unwrap()
    .id;
    Knowledge {
        theme,
        partner,
        published,
        draft,
        open,
        internal,
        registration,
        group,
    }
}

/// Published and draft practices and vocabulary terms, by id and as a list.
async fn practices_and_terms_are_seen_by_their_readers(app: &TestApp, t: &Tokens, k: &Knowledge) {
    let Knowledge {
        theme,
        published,
        draft,
        ..
    } = *k;
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let id = |ty: &str, u| json!({ "id": encode(ty, u).0 });
    check_row(
        app,
        t,
        "published practice",
        node,
        id("GoodPractice", published),
        "node",
        &all(Ok),
    )
    .await;
    check_row(
        app,
        t,
        "VocabularyTerm",
        node,
        id("VocabularyTerm", theme),
        "node",
        &all(Ok),
    )
    .await;
    check_row(
        app,
        t,
        "draft practice",
        node,
        id("GoodPractice", draft),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Ok), // the author
            (Who::Mentor, Refused("NOT_FOUND")),
            (Who::OwnMunicipality, Refused("NOT_FOUND")),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "practices",
        "{ practices { totalCount } }",
        json!({}),
        "practices",
        &[
            (Who::Anonymous, Count(1)),
            (Who::Coordinator, Count(2)),
            (Who::Partner, Count(2)),
            (Who::Mentor, Count(1)),
            (Who::OwnMunicipality, Count(1)),
            (Who::OtherMunicipality, Count(1)),
        ],
    )
    .await;
}

/// Public and internal events, a registration and a peer-learning group, by id and as a list.
async fn events_registrations_and_peer_groups_are_seen_by_their_readers(
    app: &TestApp,
    t: &Tokens,
    k: &Knowledge,
) {
    let Knowledge {
        open,
        internal,
        registration,
        group,
        ..
    } = *k;
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let id = |ty: &str, u| json!({ "id": encode(ty, u).0 });
    check_row(
        app,
        t,
        "public event",
        node,
        id("Event", open),
        "node",
        &all(Ok),
    )
    .await;
    check_row(
        app,
        t,
        "internal event",
        node,
        id("Event", internal),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Ok),
            (Who::Mentor, Ok),
            (Who::OwnMunicipality, Ok),
            (Who::OtherMunicipality, Ok),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "events",
        "{ events { totalCount } }",
        json!({}),
        "events",
        &[
            (Who::Anonymous, Count(1)),
            (Who::Coordinator, Count(2)),
            (Who::Partner, Count(2)),
            (Who::Mentor, Count(2)),
            (Who::OwnMunicipality, Count(2)),
            (Who::OtherMunicipality, Count(2)),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "Participation",
        node,
        id("Participation", registration),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Ok), // its organisation organises the event
            (Who::Mentor, Refused("NOT_FOUND")),
            (Who::OwnMunicipality, Ok), // Kiel's own registration
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "PeerLearningGroup",
        node,
        id("PeerLearningGroup", group),
        "node",
        &[
            (Who::Anonymous, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
            (Who::Partner, Ok),
            (Who::Mentor, Ok),          // facilitates it
            (Who::OwnMunicipality, Ok), // Kiel learns in it
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
        ],
    )
    .await;
}

/// Publishing a practice, creating terms and registering for events, per role.
async fn knowledge_writes_follow_the_policy(app: &TestApp, t: &Tokens, k: Knowledge) {
    use pearls_api::practices::service::{Review, review};
    let Knowledge {
        partner,
        draft,
        open,
        ..
    } = k;
    let db = &app.state.db;
    // Writes.
    let publish =
        "mutation($i: PracticeReviewInput!) { publishPractice(input: $i) { practice { status } } }";
    review(db, &partner, draft, Review::Submit, None, None)
        .await
        .unwrap();
    check_row(
        app,
        t,
        "publishPractice",
        publish,
        json!({ "i": { "id": encode("GoodPractice", draft).0 } }),
        "publishPractice",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Partner, Refused("FORBIDDEN")), // the author, not a reviewer
            (Who::Mentor, Refused("NOT_FOUND")),
            (Who::OwnMunicipality, Refused("NOT_FOUND")),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
            (Who::Coordinator, Ok),
        ],
    )
    .await;
    let create_term = "mutation($i: CreateVocabularyTermInput!) { createVocabularyTerm(input: $i) { term { id } } }";
    for (n, (who, expected)) in [
        (Who::Anonymous, Refused("UNAUTHENTICATED")),
        (Who::Partner, Refused("FORBIDDEN")),
        (Who::Mentor, Refused("FORBIDDEN")),
        (Who::OwnMunicipality, Refused("FORBIDDEN")),
        (Who::Coordinator, Ok),
    ]
    .into_iter()
    .enumerate()
    {
        check_row(
            app,
            t,
            "createVocabularyTerm",
            create_term,
            json!({ "i": { "kind": "METHOD", "name": format!("method {n}") } }),
            "createVocabularyTerm",
            &[(who, expected)],
        )
        .await;
    }
    let register = "mutation($i: RegisterForEventInput!) { registerForEvent(input: $i) { participation { status } } }";
    check_row(
        app,
        t,
        "registerForEvent",
        register,
        json!({ "i": { "eventId": encode("Event", open).0 } }),
        "registerForEvent",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Ok),
            (Who::Partner, Ok),
            (Who::Mentor, Ok),
            (Who::OwnMunicipality, Ok),
            (Who::OtherMunicipality, Ok),
        ],
    )
    .await;
}

// Reporting, KPIs and integration tokens: who reads the project-level reporting, who writes
// contributions, who reads KPIs, and what each kind of token may touch.
both!(reporting_and_token_table, |app: TestApp| async move {
    let w = World::build(&app).await;
    let t = Tokens::new(&app).await;
    let r = reporting_period_and_integration_tokens(&app, &t).await;
    reporting_kpis_and_token_lists_are_read_by_their_scopes(&app, &t, &r).await;
    project_facts_are_the_coordinators(&app, &t, &w, &r).await;
    edition_history_is_imported_by_coordinators(&app, &t, &r).await;
    reporting_objects_by_id_follow_the_same_scopes(&app, &t, &r).await;
});

/// What the reporting rows need: the coordinator's token, both integration tokens, RCO84's id.
struct Reporting {
    coordinator: String,
    kpi_token: String,
    reporting_token: String,
    rco84: Value,
}

/// The first reporting period, a KPI_READ and a REPORTING_READ token, and the RCO84 indicator.
async fn reporting_period_and_integration_tokens(app: &TestApp, t: &Tokens) -> Reporting {
    let coordinator = t.of(Who::Coordinator).unwrap().to_owned();
    let body = app
        .gql(Some(&coordinator), "mutation($i: CreateReportingPeriodInput!) { createReportingPeriod(input: $i) { period { id } } }",
            json!({ "i": { "number": 1, "startsOn": "2026-01-01", "endsOn": "2026-06-30", "reportDeadline": "2026-07-31" } }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let token = |scope: &str| {
        let coordinator = coordinator.clone();
        let scope = scope.to_owned();
        async move {
            app.gql(Some(&coordinator), "mutation($i: CreateIntegrationTokenInput!) { createIntegrationToken(input: $i) { secret } }",
                json!({ "i": { "name": scope, "scopes": [scope] } }))
                .await["data"]["createIntegrationToken"]["secret"]
                .as_str()
                .expect("secret")
                .to_owned()
        }
    };
    let kpi_token = token("KPI_READ").await;
    let reporting_token = token("REPORTING_READ").await;
    let rco84 = app
        .gql(Some(&coordinator), "{ indicators { id code } }", json!({}))
        .await["data"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "RCO84")
        .unwrap()["id"]
        .clone();
    Reporting {
        coordinator,
        kpi_token,
        reporting_token,
        rco84,
    }
}

/// Reporting, KPIs, token lists and contributions: each role and each token kind.
async fn reporting_kpis_and_token_lists_are_read_by_their_scopes(
    app: &TestApp,
    t: &Tokens,
    r: &Reporting,
) {
    let Reporting {
        kpi_token,
        reporting_token,
        rco84,
        ..
    } = r;
    // (name, operation, variables, per user in EVERYONE order, KPI_READ token, REPORTING_READ token)
    type Case = (
        &'static str,
        &'static str,
        Value,
        [Expect; 6],
        Expect,
        Expect,
    );
    let cases: Vec<Case> = vec![
        // (name, query, vars, [anonymous, coordinator, partner, mentor, own, other], kpi token, reporting token)
        (
            "reportingPeriods",
            "{ reportingPeriods { number indicatorValues { inPeriod } } }",
            json!({}),
            [
                Refused("UNAUTHENTICATED"),
                Ok,
                Ok,
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
            ],
            Refused("FORBIDDEN"),
            Ok,
        ),
        (
            "partnerReports",
            "{ partnerReports { id } }",
            json!({}),
            [
                Refused("UNAUTHENTICATED"),
                Ok,
                Ok,
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
            ],
            Refused("FORBIDDEN"),
            Ok,
        ),
        (
            "projectSettings",
            "{ projectSettings { version partners { partnerType } } }",
            json!({}),
            [
                Refused("UNAUTHENTICATED"),
                Ok,
                Ok,
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
            ],
            Refused("FORBIDDEN"),
            Ok,
        ),
        (
            "kpis",
            "{ kpis { funnel { applied } } }",
            json!({}),
            [Refused("UNAUTHENTICATED"), Ok, Ok, Ok, Ok, Ok],
            Ok,
            Refused("FORBIDDEN"),
        ),
        (
            "integrationTokens",
            "{ integrationTokens { name } }",
            json!({}),
            [
                Refused("UNAUTHENTICATED"),
                Ok,
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
            ],
            Refused("FORBIDDEN"),
            Refused("FORBIDDEN"),
        ),
        (
            "contributeToIndicator",
            "mutation($i: ContributeToIndicatorInput!) { contributeToIndicator(input: $i) { contribution { value } } }",
            json!({ "i": { "indicatorId": rco84, "periodNumber": 1, "value": "1", "evidence": "e",
                        "organisationId": null } }),
            // The coordinator's account belongs to the lead partner: it reports for it unless it
            // names another organisation.
            [
                Refused("UNAUTHENTICATED"),
                Ok,
                Ok,
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
                Refused("FORBIDDEN"),
            ],
            Refused("FORBIDDEN"),
            Refused("FORBIDDEN"),
        ),
    ];
    for (name, q, vars, users, kpi, reporting) in cases {
        let row: Vec<(Who, Expect)> = EVERYONE.iter().copied().zip(users).collect();
        let field = q
            .trim_start_matches("mutation($i: ContributeToIndicatorInput!) ")
            .trim_start_matches("{ ")
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap()
            .to_owned();
        check_row(app, t, name, q, vars.clone(), &field, &row).await;
        for (secret, expected) in [(&kpi_token, kpi), (&reporting_token, reporting)] {
            let body = app.gql(Some(secret), q, vars.clone()).await;
            assert_eq!(
                outcome(&body, &field, &vars),
                Result::Ok(expected),
                "{name} with a token: {body}"
            );
        }
    }
}

/// The project's facts are kept by the coordinator; no token may change them.
async fn project_facts_are_the_coordinators(app: &TestApp, t: &Tokens, w: &World, r: &Reporting) {
    let Reporting {
        kpi_token,
        reporting_token,
        ..
    } = r;
    // The project's facts: the coordinator keeps them (each cell after the coordinator's
    // change finds version 1, so a stale-version refusal could not pass for an access one).
    for (name, q, vars) in [
        (
            "updateProjectSettings",
            "mutation($i: UpdateProjectSettingsInput!) { updateProjectSettings(input: $i) { settings { version } } }",
            json!({ "i": { "expectedVersion": 0, "acronym": "BSR Cultural Pearls" } }),
        ),
        (
            "setPartnerFacts",
            "mutation($i: SetPartnerFactsInput!) { setPartnerFacts(input: $i) { partner { version } } }",
            json!({ "i": { "organisationId": encode("Organisation", w.partner_org).0,
                           "expectedVersion": 0, "town": "Tallinn" } }),
        ),
    ] {
        let row = [
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Coordinator, Ok),
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::OtherMunicipality, Refused("FORBIDDEN")),
        ];
        check_row(app, t, name, q, vars.clone(), name, &row).await;
        for secret in [&kpi_token, &reporting_token] {
            let body = app.gql(Some(secret), q, vars.clone()).await;
            assert_eq!(
                outcome(&body, name, &vars),
                Result::Ok(Refused("FORBIDDEN")),
                "{name} with a token: {body}"
            );
        }
    }
}

/// An edition's history is loaded by coordinators only; no token may load it.
async fn edition_history_is_imported_by_coordinators(app: &TestApp, t: &Tokens, r: &Reporting) {
    let name = "importEditionHistory";
    let q =
        "mutation($i: ImportEditionHistoryInput!) { importEditionHistory(input: $i) { changed } }";
    let vars = json!({ "i": { "document": crate::history::sample_document() } });
    let row = [
        (Who::Anonymous, Refused("UNAUTHENTICATED")),
        (Who::Partner, Refused("FORBIDDEN")),
        (Who::Mentor, Refused("FORBIDDEN")),
        (Who::OwnMunicipality, Refused("FORBIDDEN")),
        (Who::OtherMunicipality, Refused("FORBIDDEN")),
        (Who::Coordinator, Ok),
    ];
    check_row(app, t, name, q, vars.clone(), name, &row).await;
    for secret in [&r.kpi_token, &r.reporting_token] {
        let body = app.gql(Some(secret), q, vars.clone()).await;
        assert_eq!(
            outcome(&body, name, &vars),
            Result::Ok(Refused("FORBIDDEN")),
            "{name} with a token: {body}"
        );
    }
}

/// Reports, periods, contributions and tokens by id: the same scopes, never through a token.
async fn reporting_objects_by_id_follow_the_same_scopes(app: &TestApp, t: &Tokens, r: &Reporting) {
    let Reporting {
        coordinator,
        kpi_token,
        reporting_token,
        ..
    } = r;
    // Reporting objects by id: through the same scopes (tokens never use `node`).
    let partner = t.of(Who::Partner).unwrap().to_owned();
    let report = app
        .gql(
            Some(&partner),
            "mutation { savePartnerReport(input: {periodNumber: 1}) { report { id } } }",
            json!({}),
        )
        .await["data"]["savePartnerReport"]["report"]["id"]
        .clone();
    let contributions = app
        .gql(
            Some(coordinator),
            "{ indicators { code contributions(periodNumber: 1) { id organisation { kind } } } }",
            json!({}),
        )
        .await;
    let lead_contribution = contributions["data"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["contributions"].as_array().unwrap().clone())
        .find(|c| c["organisation"]["kind"] == "LEAD_PARTNER")
        .expect("the lead partner's contribution")["id"]
        .clone();
    let period_id = app
        .gql(
            Some(coordinator),
            "{ reportingPeriod(number: 1) { id } }",
            json!({}),
        )
        .await["data"]["reportingPeriod"]["id"]
        .clone();
    let token_id = app
        .gql(Some(coordinator), "{ integrationTokens { id } }", json!({}))
        .await["data"]["integrationTokens"][0]["id"]
        .clone();
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let nf = Refused("NOT_FOUND");
    for (name, id, users) in [
        (
            "node(partner report)",
            report,
            [nf.clone(), Ok, Ok, nf.clone(), nf.clone(), nf.clone()],
        ),
        (
            "node(period)",
            period_id,
            [nf.clone(), Ok, Ok, nf.clone(), nf.clone(), nf.clone()],
        ),
        (
            "node(the lead partner's contribution)",
            lead_contribution,
            [
                nf.clone(),
                Ok,
                nf.clone(),
                nf.clone(),
                nf.clone(),
                nf.clone(),
            ],
        ),
        (
            "node(integration token)",
            token_id,
            [
                nf.clone(),
                Ok,
                nf.clone(),
                nf.clone(),
                nf.clone(),
                nf.clone(),
            ],
        ),
    ] {
        assert!(id.is_string(), "{name}: no id");
        let row: Vec<(Who, Expect)> = EVERYONE.iter().copied().zip(users).collect();
        check_row(app, t, name, node, json!({ "id": id }), "node", &row).await;
        for secret in [&kpi_token, &reporting_token] {
            let body = app.gql(Some(secret), node, json!({ "id": id })).await;
            assert_eq!(
                outcome(&body, "node", &json!({ "id": id })),
                Result::Ok(Refused("FORBIDDEN")),
                "{name} with a token: {body}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The jury (DOMAIN.md, "Jury members")

both!(jury_table, |app: TestApp| async move {
    let w = World::build(&app).await;
    let f = title_cycle_fixture(&app, &w).await;
    let j = jury_fixture(&app, &w, &f).await;
    let t = Tokens::with_jurors(&app).await;
    jurors_read_exactly_what_they_score(&app, &t, &w, &f, &j).await;
    jurors_see_nothing_else(&app, &t, &w).await;
    jurors_score_what_they_are_assigned(&app, &t, &f).await;
    jury_assignments_are_the_coordinators(&app, &t, &w, &f, &j).await;
    jurors_hear_nothing_on_subscriptions(&app, &t, &f, &j).await;
});

/// The jury's rows: two jurors of an external organisation, assigned by the coordinator through
/// the API; Svendborg's CuReAP written and commented on by its mentor.
struct Jury {
    org: uuid::Uuid,
    pearl: uuid::Uuid,
    juror: uuid::Uuid,
    svendborg_plan: uuid::Uuid,
    svendborg_comment: uuid::Uuid,
    assignment: String,
    other_assignment: String,
}

async fn jury_fixture(app: &TestApp, w: &World, f: &TitleCycle) -> Jury {
    use entity::{OrganisationKind, Role, plan_comment};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let db = &app.state.db;
    let org = common::fixtures::organisation(
        db,
        "Nordic Jury Foundation",
        "FI",
        OrganisationKind::External,
    )
    .await;
    let juror = common::fixtures::user(app, "juror@test.example", Role::Juror, Some(org)).await;
    let other = common::fixtures::user(app, "juror2@test.example", Role::Juror, Some(org)).await;
    let svendborg_plan = common::fixtures::complete_plan(db, f.svendborg_app).await;
    // Handed in, as a CuReAP with the jury is (a juror never reads a draft plan).
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        entity::plan::Entity::update_many()
            .col_expr(entity::plan::Column::SubmittedVersion, Expr::value(1))
            .filter(entity::plan::Column::Id.eq(svendborg_plan))
            .exec(db)
            .await
            .unwrap();
    }
    // A title holder of another year: public, yet not a juror's to read as a file.
    let earlier = common::fixtures::edition(db, 2094, false).await;
    let pearl = common::fixtures::application(
        db,
        earlier,
        w.kiel,
        "Kiel, Pearl of 2094",
        entity::ApplicationStatus::Awarded,
    )
    .await;
    let svendborg_comment = plan_comment::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        plan_id: Set(svendborg_plan),
        section: Set(None),
        author_id: Set(Some(w.mentor)),
        body: Set("Tighten the budget".into()),
        created_at: Set(f.now),
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    let coordinator = app.login("coordinator@test.example", PASSWORD).await;
    let assign = "mutation($i: AssignJurorInput!) { assignJuror(input: $i) { assignment { id stage juror { id } application { id } } } }";
    let mut ids = Vec::new();
    for (who, stage) in [(juror, "JURY"), (other, "PRESELECTION")] {
        let body = app
            .gql(
                Some(&coordinator),
                assign,
                json!({ "i": { "applicationId": encode("Application", f.svendborg_app).0,
                               "stage": stage, "jurorId": encode("User", who).0 } }),
            )
            .await;
        let a = &body["data"]["assignJuror"]["assignment"];
        assert_eq!(a["stage"], stage, "{body}");
        assert_eq!(a["juror"]["id"], encode("User", who).0, "{body}");
        ids.push(a["id"].as_str().expect("an id").to_owned());
    }
    Jury {
        org,
        pearl,
        juror,
        svendborg_plan,
        svendborg_comment,
        assignment: ids[0].clone(),
        other_assignment: ids[1].clone(),
    }
}

/// By id and in lists: a juror reads the application they score, its CuReAP where the stage
/// scores plans, and nothing of the others'.
async fn jurors_read_exactly_what_they_score(
    app: &TestApp,
    t: &Tokens,
    w: &World,
    f: &TitleCycle,
    j: &Jury,
) {
    let node = "query($id: ID!) { node(id: $id) { id } }";
    let by_id = |ty: &str, id: uuid::Uuid| json!({ "id": encode(ty, id).0 });
    for (name, vars, juror, other) in [
        (
            "the juried application",
            by_id("Application", f.svendborg_app),
            Ok,
            Ok,
        ),
        (
            "another application",
            by_id("Application", f.kiel_app),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        (
            "a draft",
            by_id("Application", w.kiel_app),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        (
            "a public title holder's file",
            by_id("Application", j.pearl),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        // The CuReAP only in the stage that scores plans.
        (
            "the juried plan",
            by_id("Plan", j.svendborg_plan),
            Ok,
            Refused("NOT_FOUND"),
        ),
        (
            "another plan",
            by_id("Plan", f.plan),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        (
            "the plan's comment",
            by_id("PlanComment", j.svendborg_comment),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        (
            "another plan's action",
            by_id("PlanAction", f.action),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        ("the criterion", by_id("Criterion", f.crit), Ok, Ok),
        ("the own organisation", by_id("Organisation", j.org), Ok, Ok),
        (
            "the juried municipality",
            by_id("Organisation", w.svendborg),
            Ok,
            Ok,
        ),
        (
            // Kiel holds a title (public), so its organisation is everyone's to read.
            "a title holder",
            by_id("Organisation", w.kiel),
            Ok,
            Ok,
        ),
        (
            "themselves",
            by_id("User", j.juror),
            Ok,
            Refused("NOT_FOUND"),
        ),
        (
            "a partner",
            by_id("User", w.partner),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        (
            "a partner's assessment",
            by_id("Assessment", f.assessed),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        (
            "a mentor assignment",
            by_id("MentorAssignment", f.assignment),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        (
            "a mentoring session",
            by_id("MentoringSession", f.session),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
        (
            "an assessor assignment",
            by_id("AssessorAssignment", f.assessor),
            Refused("NOT_FOUND"),
            Refused("NOT_FOUND"),
        ),
    ] {
        check_row(
            app,
            t,
            &format!("node: {name}"),
            node,
            vars,
            "node",
            &[(Who::Juror, juror), (Who::OtherJuror, other)],
        )
        .await;
    }
    // Own jury assignment by id: the juror and the coordinator; nobody else.
    let own = json!({ "id": j.assignment });
    check_row(
        app,
        t,
        "node: a jury assignment",
        node,
        own,
        "node",
        &[
            (Who::Juror, Ok),
            (Who::Coordinator, Ok),
            (Who::OtherJuror, Refused("NOT_FOUND")),
            (Who::Partner, Refused("NOT_FOUND")),
            (Who::Mentor, Refused("NOT_FOUND")),
            (Who::OtherMunicipality, Refused("NOT_FOUND")),
            (Who::Anonymous, Refused("NOT_FOUND")),
        ],
    )
    .await;
    // Lists, counts and filters count only what is visible.
    for (name, query, juror, other) in [
        (
            "applications",
            "{ applications { totalCount } }",
            Count(1),
            Count(1),
        ),
        (
            "applications by title",
            "{ applications(filter: {titleContains: \"Kiel\"}) { totalCount } }",
            Count(0),
            Count(0),
        ),
        ("users", "{ users { totalCount } }", Count(1), Count(1)),
        // The public ones (the consortium, Kiel holding a title), the own organisation and
        // the juried municipality.
        (
            "organisations",
            "{ organisations { totalCount } }",
            Count(5),
            Count(5),
        ),
        (
            "organisations by kind",
            "{ organisations(filter: {kind: [MUNICIPALITY]}) { totalCount } }",
            Count(2),
            Count(2),
        ),
        (
            "assessments",
            "{ assessments { totalCount } }",
            Count(0),
            Count(0),
        ),
        (
            "jury assignments",
            "{ juryAssignments { totalCount } }",
            Count(1),
            Count(1),
        ),
    ] {
        check_row(
            app,
            t,
            name,
            query,
            json!({}),
            query.split(['{', '(']).nth(1).unwrap_or_default().trim(),
            &[(Who::Juror, juror), (Who::OtherJuror, other)],
        )
        .await;
    }
    // Nested: the application's history, mentors, others' scores and the plan's comments are
    // not the juror's; the plan is.
    let nested = "query($id: ID!) { application(id: $id) { statusHistory { id }
        latestStatusChange { id } mentorAssignments { id } assessments { id } juryAssignments { id }
        coApplicants { id } allowedActions plan { id comments { id } actions { id } } } }";
    let body = app
        .gql(
            t.of(Who::Juror),
            nested,
            json!({ "id": encode("Application", f.svendborg_app).0 }),
        )
        .await;
    let a = &body["data"]["application"];
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(a["statusHistory"], json!([]), "{body}");
    assert_eq!(a["latestStatusChange"], Value::Null, "{body}");
    assert_eq!(a["mentorAssignments"], json!([]), "{body}");
    assert_eq!(a["assessments"], json!([]), "{body}");
    assert_eq!(
        a["juryAssignments"],
        json!([{ "id": j.assignment }]),
        "{body}"
    );
    assert_eq!(a["allowedActions"], json!([]), "{body}");
    assert_eq!(
        a["plan"]["id"],
        encode("Plan", j.svendborg_plan).0,
        "{body}"
    );
    assert_eq!(a["plan"]["comments"], json!([]), "{body}");
    assert!(
        !a["plan"]["actions"].as_array().expect("actions").is_empty(),
        "the CuReAP's actions are part of it: {body}"
    );
    // The other juror (preselection) reads the application but not its plan.
    let body = app
        .gql(
            t.of(Who::OtherJuror),
            nested,
            json!({ "id": encode("Application", f.svendborg_app).0 }),
        )
        .await;
    assert_eq!(body["data"]["application"]["plan"], Value::Null, "{body}");
    assert_eq!(
        body["data"]["application"]["juryAssignments"],
        json!([{ "id": j.other_assignment }]),
        "{body}"
    );
}

/// Everything else is closed to jurors: the programme's figures, the ranking, the audit log,
/// internal events, the exports; the public sees no more than before.
async fn jurors_see_nothing_else(app: &TestApp, t: &Tokens, w: &World) {
    let ranking = "{ ranking(editionYear: 2095, stage: JURY) { entries { rank } } }";
    for (name, query, field) in [
        ("kpis", "{ kpis { funnel { applied } } }", "kpis"),
        ("ranking", ranking, "ranking"),
        (
            "audit log",
            "{ auditEntries { totalCount } }",
            "auditEntries",
        ),
        (
            "reporting periods",
            "{ reportingPeriods { number } }",
            "reportingPeriods",
        ),
    ] {
        check_row(
            app,
            t,
            &format!("jurors: {name}"),
            query,
            json!({}),
            field,
            &[
                (Who::Juror, Refused("FORBIDDEN")),
                (Who::OtherJuror, Refused("FORBIDDEN")),
            ],
        )
        .await;
    }
    // Events as the public sees them: public ones only, without their registration figures.
    let db = &app.state.db;
    let soon = chrono::Utc::now() + chrono::Duration::days(3);
    crate::reporting::event(db, w.partner_org, soon, true, false).await;
    crate::reporting::event(db, w.partner_org, soon, false, false).await;
    let figures = "{ events { nodes { registeredCount waitlistCount placesLeft } } }";
    let body = app.gql(t.of(Who::Juror), figures, json!({})).await;
    let nodes = body["data"]["events"]["nodes"].as_array().expect("events");
    assert!(!nodes.is_empty(), "{body}");
    assert!(
        nodes
            .iter()
            .all(|n| n["registeredCount"].is_null() && n["waitlistCount"].is_null()),
        "a juror reads no registration figures: {body}"
    );
    let events = "{ events(filter: {includeCancelled: true}) { totalCount } }";
    let public = app.gql(None, events, json!({})).await["data"]["events"]["totalCount"].clone();
    let juror = app.gql(t.of(Who::Juror), events, json!({})).await;
    assert_eq!(juror["data"]["events"]["totalCount"], public, "{juror}");
    // The reporting files.
    for path in [
        "/export/periods/1.json",
        "/export/keep.json",
        "/export/periods/1.xlsx",
    ] {
        assert_eq!(app.download(path, t.of(Who::Juror)).await.0, 403, "{path}");
    }
}

/// A juror scores the application in the stage assigned, and nothing else.
async fn jurors_score_what_they_are_assigned(app: &TestApp, t: &Tokens, f: &TitleCycle) {
    let score = "mutation($i: SubmitAssessmentInput!) { submitAssessment(input: $i) { assessment { id } } }";
    let scores = |app_id: uuid::Uuid| {
        json!({ "i": { "applicationId": encode("Application", app_id).0, "stage": "JURY",
                       "scores": [{ "criterionId": encode("Criterion", f.crit).0, "score": 7 }] } })
    };
    check_row(
        app,
        t,
        "submitAssessment: another application",
        score,
        scores(f.kiel_app),
        "submitAssessment",
        &[
            (Who::Juror, Refused("NOT_FOUND")),
            (Who::OtherJuror, Refused("NOT_FOUND")),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "submitAssessment: the juried application",
        score,
        scores(f.svendborg_app),
        "submitAssessment",
        &[
            // Assigned to the preselection stage, not this one.
            (Who::OtherJuror, Refused("FORBIDDEN")),
            (Who::Juror, Ok),
        ],
    )
    .await;
    // Their own score is theirs to read; others' stay closed.
    check_row(
        app,
        t,
        "assessments after scoring",
        "{ assessments { totalCount } }",
        json!({}),
        "assessments",
        &[(Who::Juror, Count(1)), (Who::OtherJuror, Count(0))],
    )
    .await;
    let conflict = "mutation($i: DeclareConflictInput!) { declareConflictOfInterest(input: $i) { assessment { id conflictOfInterest } } }";
    let body = app
        .gql(
            t.of(Who::Juror),
            conflict,
            json!({ "i": { "applicationId": encode("Application", f.svendborg_app).0,
                           "stage": "JURY", "note": "I advised the town in 2024",
                           "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(
        body["data"]["declareConflictOfInterest"]["assessment"]["conflictOfInterest"], true,
        "{body}"
    );
}

/// Assigning jurors is the coordinator's; only JUROR users of an external organisation serve.
async fn jury_assignments_are_the_coordinators(
    app: &TestApp,
    t: &Tokens,
    w: &World,
    f: &TitleCycle,
    j: &Jury,
) {
    let assign = "mutation($i: AssignJurorInput!) { assignJuror(input: $i) { assignment { id } } }";
    let kiel = |juror: uuid::Uuid| {
        json!({ "i": { "applicationId": encode("Application", f.kiel_app).0, "stage": "JURY",
                       "jurorId": encode("User", juror).0 } })
    };
    check_row(
        app,
        t,
        "assignJuror",
        assign,
        kiel(j.juror),
        "assignJuror",
        &[
            (Who::Anonymous, Refused("UNAUTHENTICATED")),
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::Mentor, Refused("FORBIDDEN")),
            (Who::OwnMunicipality, Refused("FORBIDDEN")),
            (Who::Juror, Refused("FORBIDDEN")),
            (Who::OtherJuror, Refused("FORBIDDEN")),
        ],
    )
    .await;
    check_row(
        app,
        t,
        "assignJuror: a partner user",
        assign,
        kiel(w.partner),
        "assignJuror",
        &[(Who::Coordinator, Refused("BAD_USER_INPUT"))],
    )
    .await;
    check_row(
        app,
        t,
        "assignJuror: twice",
        assign,
        json!({ "i": { "applicationId": encode("Application", f.svendborg_app).0,
                       "stage": "JURY", "jurorId": encode("User", j.juror).0 } }),
        "assignJuror",
        &[(Who::Coordinator, Refused("CONFLICT"))],
    )
    .await;
    let unassign =
        "mutation($i: DeleteByIdInput!) { unassignJuror(input: $i) { assignment { id } } }";
    check_row(
        app,
        t,
        "unassignJuror",
        unassign,
        json!({ "i": { "id": j.other_assignment } }),
        "unassignJuror",
        &[
            (Who::Partner, Refused("FORBIDDEN")),
            (Who::OtherJuror, Refused("FORBIDDEN")),
            (Who::Coordinator, Ok),
        ],
    )
    .await;
    // Unassigned, the other juror reads the application no more.
    check_row(
        app,
        t,
        "applications after unassigning",
        "{ applications { totalCount } }",
        json!({}),
        "applications",
        &[(Who::OtherJuror, Count(0)), (Who::Juror, Count(1))],
    )
    .await;
    // A juror is a user of an external organisation.
    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id role } } }";
    let new_user = |org: uuid::Uuid, email: &str| {
        json!({ "i": { "email": email, "name": "Jury member", "role": "JUROR",
                       "organisationId": encode("Organisation", org).0,
                       "password": "a long enough password" } })
    };
    check_row(
        app,
        t,
        "createUser: a juror in a partner organisation",
        create,
        new_user(w.partner_org, "juror3@test.example"),
        "createUser",
        &[(Who::Coordinator, Refused("BAD_USER_INPUT"))],
    )
    .await;
    check_row(
        app,
        t,
        "createUser: a juror in an external organisation",
        create,
        new_user(j.org, "juror4@test.example"),
        "createUser",
        &[(Who::Juror, Refused("FORBIDDEN")), (Who::Coordinator, Ok)],
    )
    .await;
}

/// Subscriptions follow the same scopes: a comment on the juried plan and a status change of
/// the juried application reach the coordinator's socket, never the juror's (who reads neither
/// the plan's comments nor the application's history).
async fn jurors_hear_nothing_on_subscriptions(app: &TestApp, t: &Tokens, f: &TitleCycle, j: &Jury) {
    const STATUS: &str = "subscription { applicationStatusChanged { change { toStatus } } }";
    const COMMENTS: &str = "subscription { planCommentAdded { comment { body } } }";
    let mut sockets = Vec::new();
    for who in [Who::Juror, Who::Coordinator] {
        let (mut ws, ack) = app.websocket(t.of(who)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws.subscribe("status", STATUS, json!({})).await;
        ws.subscribe("comments", COMMENTS, json!({})).await;
        sockets.push(ws);
    }
    let coordinator = t.of(Who::Coordinator);
    let comment =
        "mutation($i: CommentOnPlanInput!) { commentOnPlan(input: $i) { comment { body } } }";
    let body = app
        .gql(
            coordinator,
            comment,
            json!({ "i": { "planId": encode("Plan", j.svendborg_plan).0, "body": "For the jury" } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let withdraw = "mutation($i: ApplicationTransitionInput!) { withdrawApplication(input: $i) { application { status } } }";
    let body = app
        .gql(
            coordinator,
            withdraw,
            json!({ "i": { "id": encode("Application", f.svendborg_app).0 } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // The coordinator hears both: the events were published and dispatched.
    let mut heard = Vec::new();
    for _ in 0..2 {
        heard.push(sockets[1].next().await["id"].clone());
    }
    heard.sort_by_key(|v| v.to_string());
    assert_eq!(heard, [json!("comments"), json!("status")]);
    // The juror's socket answers a ping with nothing queued before the pong.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sockets[0].send(json!({ "type": "ping" })).await;
    let got = sockets[0].next().await;
    assert_eq!(got["type"], "pong", "the juror heard: {got}");
}
