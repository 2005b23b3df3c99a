//! CuReAP plans over HTTP: writing with optimistic locking, comments, who sees what, submission
//! that freezes a numbered version, and title-year progress.

use crate::common;

use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::{ApplicationStatus, Role};
use pearls_api::graphql::ids::encode;
use serde_json::{Value, json};

const PLAN: &str = "query($id: ID!) { application(id: $id) { status plan { id version isFrozen submittedVersion budget actionsBudget
    vision actions { id title budget themes { name } } indicators { id name target } comments { section body author { email } }
    versions { number content { vision budget actions { title budget } indicators { name target } } } } } }";

async fn plan_of(app: &TestApp, token: &str, application: uuid::Uuid) -> Value {
    let body = app
        .gql(
            Some(token),
            PLAN,
            json!({ "id": encode("Application", application).0 }),
        )
        .await;
    body["data"]["application"]["plan"].clone()
}

/// Moves the application through its workflow.
const ADVANCE: &str = "mutation($i: AdvanceApplicationInput!) { advanceApplication(input: $i) { application { status } } }";
/// Saves plan fields with the expected version.
const UPDATE: &str =
    "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { version budget } } }";
/// Comments on a plan section.
const COMMENT: &str =
    "mutation($i: CommentOnPlanInput!) { commentOnPlan(input: $i) { comment { section body } } }";
/// Posts progress on a plan action.
const POST: &str = "mutation($i: PostProgressInput!) { postProgress(input: $i) { progress { implementation percentage postedBy { email } } } }";

/// The input that moves the application by `action`.
fn step(a: uuid::Uuid, action: &str) -> Value {
    json!({ "i": { "id": encode("Application", a).0, "action": action } })
}

/// Who takes part, signed in, and Kiel's application the plan belongs to.
struct Cast {
    coordinator: String,
    kiel: String,
    mentor: String,
    partner: String,
    a: uuid::Uuid,
}

/// Kiel's application is shortlisted with a mentor; everyone signs in.
async fn kiel_is_shortlisted_with_a_mentor(app: &TestApp) -> Cast {
    let w = World::build(app).await;
    let db = &app.state.db;
    let e = fixtures::edition_all_phases(db, 2070, true, (4, true, 1)).await;
    let a = fixtures::application(
        db,
        e,
        w.kiel,
        "Kiel's CuReAP",
        ApplicationStatus::Shortlisted,
    )
    .await;
    fixtures::assign_mentor(db, a, w.mentor).await;
    let coordinator = app.login("coordinator@test.example", PASSWORD).await;
    let kiel = app.login("kiel@test.example", PASSWORD).await;
    let mentor = app.login("mentor@test.example", PASSWORD).await;
    let partner = app.login("partner@test.example", PASSWORD).await;
    Cast {
        coordinator,
        kiel,
        mentor,
        partner,
        a,
    }
}

/// Starting the CuReAP phase opens an empty plan; returns its id.
async fn starting_the_cureap_opens_an_empty_plan(app: &TestApp, cast: &Cast) -> String {
    let Cast {
        coordinator,
        kiel,
        a,
        ..
    } = cast;
    let a = *a;
    let body = app
        .gql(Some(coordinator), ADVANCE, step(a, "START_CUREAP"))
        .await;
    assert_eq!(
        body["data"]["advanceApplication"]["application"]["status"], "CUREAP_IN_DEVELOPMENT",
        "{body}"
    );
    let plan = plan_of(app, kiel, a).await;
    let plan_id = plan["id"].as_str().expect("plan").to_owned();
    assert_eq!(
        (plan["version"].as_i64(), plan["isFrozen"].as_bool()),
        (Some(1), Some(false))
    );
    plan_id
}

/// The municipality writes with exact money; stale saves, bad decimals and the mentor are refused.
async fn the_municipality_writes_the_plan_with_exact_money(
    app: &TestApp,
    cast: &Cast,
    plan_id: &str,
) {
    let Cast { kiel, mentor, .. } = cast;
    // The municipality writes; money is exact.
    let body = app
    .gql(Some(kiel), UPDATE, json!({ "i": { "planId": plan_id, "expectedVersion": 1, "vision": "Culture harbour",
        "context": "Shipyard closed", "objectives": "Cohesion", "stakeholders": "Everyone", "timeline": "2071",
        "budget": "250000.10" } }))
    .await;
    assert_eq!(
        body["data"]["updatePlan"]["plan"]["budget"], "250000.10",
        "{body}"
    );
    assert_eq!(body["data"]["updatePlan"]["plan"]["version"], 2);
    // A stale save is refused and loses nothing.
    let stale = app
        .gql(
            Some(kiel),
            UPDATE,
            json!({ "i": { "planId": plan_id, "expectedVersion": 1, "vision": "Overwritten" } }),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT");
    // Too many decimals: refused with the field.
    let bad = app
        .gql(
            Some(kiel),
            UPDATE,
            json!({ "i": { "planId": plan_id, "expectedVersion": 2, "budget": "1.005" } }),
        )
        .await;
    assert_eq!(
        (code(&bad), bad["errors"][0]["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("budget"))
    );
    // The mentor reads but does not write.
    assert_eq!(
        code(
            &app.gql(
                Some(mentor),
                UPDATE,
                json!({ "i": { "planId": plan_id, "expectedVersion": 2, "vision": "x" } })
            )
            .await
        ),
        "FORBIDDEN"
    );
}

/// An incomplete plan's submission names what is missing; an action and an indicator follow.
async fn an_incomplete_plan_is_refused_until_completed(app: &TestApp, cast: &Cast, plan_id: &str) {
    let Cast { kiel, a, .. } = cast;
    let a = *a;
    let db = &app.state.db;
    // Submitting an incomplete plan names what is missing.
    let body = app.gql(Some(kiel), ADVANCE, step(a, "SUBMIT_CUREAP")).await;
    assert_eq!(
        (
            code(&body),
            body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("BAD_USER_INPUT", Some("actions")),
        "{body}"
    );

    let themes: Vec<String> = [
        fixtures::term(db, entity::TermKind::Theme, "social cohesion").await,
        fixtures::term(db, entity::TermKind::Theme, "heritage").await,
    ]
    .iter()
    .map(|t| encode("VocabularyTerm", *t).0.to_string())
    .collect();
    let add_action = "mutation($i: AddPlanActionInput!) { addPlanAction(input: $i) { plan { version actionsBudget } } }";
    let body = app
        .gql(
            Some(kiel),
            add_action,
            json!({ "i": { "planId": plan_id, "expectedVersion": 2, "action": {
        "title": "Harbour festival", "themeIds": themes, "budget": "100000.05",
        "startsOn": "2071-05-01", "endsOn": "2071-05-03" } } }),
        )
        .await;
    assert_eq!(
        body["data"]["addPlanAction"]["plan"]["actionsBudget"], "100000.05",
        "{body}"
    );
    let add_ind =
        "mutation($i: AddPlanIndicatorInput!) { addPlanIndicator(input: $i) { plan { version } } }";
    let body = app
        .gql(
            Some(kiel),
            add_ind,
            json!({ "i": { "planId": plan_id, "expectedVersion": 3, "indicator": {
        "name": "Participants", "unit": "people", "baseline": "0", "target": "1200.5" } } }),
        )
        .await;
    assert_eq!(
        body["data"]["addPlanIndicator"]["plan"]["version"], 4,
        "{body}"
    );
}

/// Mentor and coordinator comment; the municipality cannot, the partner cannot even see the plan.
async fn only_mentor_and_coordinator_comment_before_submission(
    app: &TestApp,
    cast: &Cast,
    plan_id: &str,
) {
    let Cast {
        kiel,
        mentor,
        partner,
        ..
    } = cast;
    // Comments: mentor and coordinator now; the partner cannot even see an unsubmitted plan.
    let body = app
        .gql(
            Some(mentor),
            COMMENT,
            json!({ "i": { "planId": plan_id, "section": "VISION", "body": "Sharpen it" } }),
        )
        .await;
    assert_eq!(
        body["data"]["commentOnPlan"]["comment"]["section"], "VISION",
        "{body}"
    );
    assert_eq!(
        code(
            &app.gql(
                Some(kiel),
                COMMENT,
                json!({ "i": { "planId": plan_id, "body": "self" } })
            )
            .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &app.gql(
                Some(partner),
                COMMENT,
                json!({ "i": { "planId": plan_id, "body": "hi" } })
            )
            .await
        ),
        "NOT_FOUND"
    );
    let node = "query($id: ID!) { node(id: $id) { id } }";
    assert_eq!(
        code(&app.gql(Some(partner), node, json!({ "id": plan_id })).await),
        "NOT_FOUND"
    );
}

/// Submission freezes version 1 exactly as it was; partners then read and comment, nobody edits.
async fn submission_freezes_the_plan_as_version_1(app: &TestApp, cast: &Cast, plan_id: &str) {
    let Cast {
        kiel, partner, a, ..
    } = cast;
    let a = *a;
    // Submit: frozen as version 1, exactly as it was.
    let body = app.gql(Some(kiel), ADVANCE, step(a, "SUBMIT_CUREAP")).await;
    assert_eq!(
        body["data"]["advanceApplication"]["application"]["status"], "CUREAP_SUBMITTED",
        "{body}"
    );
    let plan = plan_of(app, partner, a).await;
    assert_eq!(
        plan["isFrozen"], true,
        "partners read submitted plans: {plan}"
    );
    assert_eq!(plan["submittedVersion"], 1);
    let v1 = &plan["versions"][0];
    assert_eq!(v1["number"], 1);
    assert_eq!(v1["content"]["vision"], "Culture harbour");
    assert_eq!(v1["content"]["budget"], "250000.10");
    assert_eq!(v1["content"]["actions"][0]["budget"], "100000.05");
    assert_eq!(v1["content"]["indicators"][0]["target"], "1200.5");
    assert_eq!(
        plan["comments"][0]["author"]["email"],
        "mentor@test.example"
    );
    let body = app
        .gql(
            Some(partner),
            COMMENT,
            json!({ "i": { "planId": plan_id, "body": "Strong plan" } }),
        )
        .await;
    assert_eq!(
        body["data"]["commentOnPlan"]["comment"]["body"], "Strong plan",
        "{body}"
    );
    let current = plan["version"].as_i64().expect("version");
    let frozen = app
        .gql(
            Some(kiel),
            UPDATE,
            json!({ "i": { "planId": plan_id, "expectedVersion": current, "vision": "After" } }),
        )
        .await;
    assert_eq!(code(&frozen), "CONFLICT", "{frozen}");
}

/// The Pearl and its mentor post progress in the title year, others may not; returns the action.
async fn the_pearl_and_its_mentor_post_progress(app: &TestApp, cast: &Cast) -> String {
    let Cast {
        coordinator,
        kiel,
        mentor,
        partner,
        a,
    } = cast;
    let a = *a;
    // Title year: award, start, then progress from the Pearl and its mentor.
    for action in ["AWARD", "START_TITLE_YEAR"] {
        let body = app.gql(Some(coordinator), ADVANCE, step(a, action)).await;
        assert!(body["errors"].is_null(), "{action}: {body}");
    }
    let action_id = plan_of(app, kiel, a).await["actions"][0]["id"]
        .as_str()
        .expect("action")
        .to_owned();
    let progress = |pct: i64| {
        json!({ "i": { "actionId": action_id, "implementation": "PARTLY", "percentage": pct,
    "participantsReached": 340, "evidenceUrl": "https://kiel.example/festival", "note": "Day one done" } })
    };
    let body = app.gql(Some(kiel), POST, progress(40)).await;
    assert_eq!(
        body["data"]["postProgress"]["progress"]["percentage"], 40,
        "{body}"
    );
    let body = app.gql(Some(mentor), POST, progress(45)).await;
    assert_eq!(
        body["data"]["postProgress"]["progress"]["postedBy"]["email"], "mentor@test.example",
        "{body}"
    );
    assert_eq!(
        code(&app.gql(Some(partner), POST, progress(50)).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&app.gql(Some(kiel), POST, progress(101)).await),
        "BAD_USER_INPUT"
    );
    let other = app.login("svendborg@test.example", PASSWORD).await;
    assert_eq!(
        code(&app.gql(Some(&other), POST, progress(50)).await),
        "NOT_FOUND"
    );
    let body = app
    .gql(Some(coordinator), "query($id: ID!) { node(id: $id) { ... on PlanAction { latestProgress { percentage } progressUpdates { note } } } }",
        json!({ "id": action_id }))
    .await;
    assert_eq!(
        body["data"]["node"]["latestProgress"]["percentage"], 45,
        "{body}"
    );
    action_id
}

/// The implementation KPIs follow the latest post, and the rollups stay exact.
async fn the_implementation_kpis_follow_the_latest_post(
    app: &TestApp,
    cast: &Cast,
    action_id: &str,
) {
    let Cast {
        coordinator, kiel, ..
    } = cast;
    // The implementation KPIs follow the latest post (kept on the action with each post).
    let fully = json!({ "i": { "actionId": action_id, "implementation": "FULLY", "percentage": 100,
        "participantsReached": 500 } });
    assert_eq!(code(&app.gql(Some(kiel), POST, fully).await), "<no error>");
    let body = app
        .gql(
            Some(coordinator),
            "{ kpis { planActions(groupBy: [IMPLEMENTATION]) { group { implementation } actions participantsReached } } }",
            json!({}),
        )
        .await;
    let rows = body["data"]["kpis"]["planActions"]
        .as_array()
        .expect("rows");
    let fully = rows
        .iter()
        .find(|r| r["group"]["implementation"] == "FULLY")
        .expect("a FULLY group");
    assert_eq!(
        (
            fully["actions"].as_i64(),
            fully["participantsReached"].as_i64()
        ),
        (Some(1), Some(500)),
        "{body}"
    );
    assert!(
        rows.iter()
            .all(|r| r["group"]["implementation"] != "PARTLY"),
        "an earlier post no longer counts: {body}"
    );
    // Every write above (actions, themes, submission, progress) kept the KPI rollups exact.
    common::assert_rollups_exact(app).await;
    let _ = Role::Mentor;
}

both!(
    a_plan_is_written_commented_submitted_and_frozen,
    |app: TestApp| async move {
        let cast = kiel_is_shortlisted_with_a_mentor(&app).await;
        let plan_id = starting_the_cureap_opens_an_empty_plan(&app, &cast).await;
        the_municipality_writes_the_plan_with_exact_money(&app, &cast, &plan_id).await;
        an_incomplete_plan_is_refused_until_completed(&app, &cast, &plan_id).await;
        only_mentor_and_coordinator_comment_before_submission(&app, &cast, &plan_id).await;
        submission_freezes_the_plan_as_version_1(&app, &cast, &plan_id).await;
        let action_id = the_pearl_and_its_mentor_post_progress(&app, &cast).await;
        the_implementation_kpis_follow_the_latest_post(&app, &cast, &action_id).await;
    }
);
