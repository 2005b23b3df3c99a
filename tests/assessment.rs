//! Assessment over HTTP: criteria, assessors, scoring with its checks, conflicts of interest, the
//! ranking with the award policy's proposal, and who sees which scores.

use crate::common;

use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::{ApplicationStatus, OrganisationKind, Role};
use pearls_api::graphql::ids::encode;
use serde_json::{Value, json};
use uuid::Uuid;

const CREATE_CRITERION: &str = "mutation($i: CreateCriterionInput!) { createCriterion(input: $i) { criterion { id name weight maxScore position version } } }";
const ASSIGN: &str = "mutation($i: AssignAssessorInput!) { assignAssessor(input: $i) { assignment { id stage assessor { email } } } }";
const SUBMIT: &str = "mutation($i: SubmitAssessmentInput!) { submitAssessment(input: $i) { assessment { id version weightedTotal conflictOfInterest scores { score criterion { name } } } } }";
const CONFLICT: &str = "mutation($i: DeclareConflictInput!) { declareConflictOfInterest(input: $i) { assessment { id conflictOfInterest weightedTotal } } }";
const RANKING: &str = "query($y: Int!, $s: AssessmentStage!) { ranking(editionYear: $y, stage: $s) { maxScore rankedCount
    entries { rank averageScore scoreCount conflictsDeclared proposal application { title } criteria { averageScore criterion { name } } }
    proposedWinners { title } } }";
/// Every assessment of an application and its results, as each caller sees them.
const SCORES: &str = "query($id: ID!) { application(id: $id) { assessments { comment assessor { email } } assessmentResults { stage averageScore rank rankedCount } } }";

async fn criterion(
    app: &TestApp,
    token: &str,
    edition: Uuid,
    stage: &str,
    name: &str,
    weight: &str,
    max: i64,
) -> String {
    let body = app
        .gql(
            Some(token),
            CREATE_CRITERION,
            json!({ "i": { "editionId": encode("Edition", edition).0, "stage": stage, "name": name,
                       "weight": weight, "maxScore": max } }),
        )
        .await;
    body["data"]["createCriterion"]["criterion"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

fn scores(ids: &[&str], values: &[i64]) -> Value {
    json!(
        ids.iter()
            .zip(values)
            .map(|(c, s)| json!({ "criterionId": c, "score": s }))
            .collect::<Vec<_>>()
    )
}

async fn submit(
    app: &TestApp,
    token: &str,
    application: Uuid,
    stage: &str,
    s: Value,
    version: Option<i64>,
) -> Value {
    app.gql(
        Some(token),
        SUBMIT,
        json!({ "i": { "applicationId": encode("Application", application).0, "stage": stage,
                   "scores": s, "comment": "Clear and feasible", "expectedVersion": version } }),
    )
    .await
}

both!(
    assessors_score_conflicts_are_excluded_and_the_policy_proposes,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let j = jury_edition_assessors_and_three_cureaps(&app, &w).await;
        let (innovative, methods) =
            criteria_are_the_coordinators_with_exact_weights(&app, &j).await;
        let c = [innovative.as_str(), methods.as_str()];
        only_assigned_partners_may_assess(&app, &w, &j, c).await;
        scores_cover_every_criterion_within_its_maximum_once(&app, &j, c).await;
        assessors_score_and_one_declares_a_conflict(&app, &j, c).await;
        criteria_are_frozen_once_scoring_has_begun(&app, &j, &innovative).await;
        the_ranking_proposes_one_top_title_per_country_then_the_extra(&app, &j).await;
        coordinators_see_every_score_and_assessors_their_own(&app, &j).await;
        let luebeck_user = the_applicant_sees_its_result_only_after_the_decision(&app, &j).await;
        mentors_and_the_applicant_never_see_an_assessment(&app, &w, &j, &luebeck_user).await;
    }
);

/// The jury's edition, the callers' tokens, the second assessor and the three CuReAPs.
struct Jury {
    e: Uuid,
    coordinator: String,
    partner: String,
    mentor: String,
    second: Uuid,
    partner2: String,
    luebeck: Uuid,
    flensburg: Uuid,
    vejle: Uuid,
}

/// An edition capped at two titles (one per country, one extra) with three submitted CuReAPs.
async fn jury_edition_assessors_and_three_cureaps(app: &TestApp, w: &World) -> Jury {
    let db = &app.state.db;
    // Cap 2, one per country, 1 extra: one top title + one extra.
    let e = fixtures::edition_all_phases(db, 2080, true, (2, true, 1)).await;
    let coordinator = app.login("coordinator@test.example", PASSWORD).await;
    let partner = app.login("partner@test.example", PASSWORD).await;
    let mentor = app.login("mentor@test.example", PASSWORD).await;
    let second = fixtures::user(
        app,
        "partner2@test.example",
        Role::Partner,
        Some(w.partner_org),
    )
    .await;
    let partner2 = app.login("partner2@test.example", PASSWORD).await;

    // Three CuReAPs: two German, one Danish.
    let mut apps = Vec::new();
    for (name, cc) in [("Lübeck", "DE"), ("Flensburg", "DE"), ("Vejle", "DK")] {
        let org = fixtures::organisation(db, name, cc, OrganisationKind::Municipality).await;
        apps.push(
            fixtures::application(
                db,
                e,
                org,
                &format!("{name} plan"),
                ApplicationStatus::CureapSubmitted,
            )
            .await,
        );
    }
    let (luebeck, flensburg, vejle) = (apps[0], apps[1], apps[2]);
    Jury {
        e,
        coordinator,
        partner,
        mentor,
        second,
        partner2,
        luebeck,
        flensburg,
        vejle,
    }
}

/// Only coordinators set criteria, and a criterion's weight must be positive.
async fn criteria_are_the_coordinators_with_exact_weights(
    app: &TestApp,
    j: &Jury,
) -> (String, String) {
    let e = j.e;
    let (coordinator, partner) = (&j.coordinator, &j.partner);
    // Criteria: only coordinators set them; weights are exact decimals.
    let innovative = criterion(
        app,
        coordinator,
        e,
        "JURY",
        "Innovative and holistic approach",
        "2",
        10,
    )
    .await;
    let methods = criterion(
        app,
        coordinator,
        e,
        "JURY",
        "Participatory methods",
        "1.5",
        5,
    )
    .await;
    let refused = app
        .gql(
            Some(partner),
            CREATE_CRITERION,
            json!({ "i": { "editionId": encode("Edition", e).0, "stage": "JURY", "name": "x",
                       "weight": "1", "maxScore": 5 } }),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let bad = app
        .gql(
            Some(coordinator),
            CREATE_CRITERION,
            json!({ "i": { "editionId": encode("Edition", e).0, "stage": "JURY", "name": "x",
                       "weight": "0", "maxScore": 5 } }),
        )
        .await;
    assert_eq!(
        (code(&bad), bad["errors"][0]["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("weight"))
    );
    (innovative, methods)
}

/// Only assigned assessors score; mentors can never be assigned or score.
async fn only_assigned_partners_may_assess(app: &TestApp, w: &World, j: &Jury, c: [&str; 2]) {
    let Jury {
        e, second, luebeck, ..
    } = *j;
    let (coordinator, partner, mentor) = (&j.coordinator, &j.partner, &j.mentor);
    // Not yet an assessor: refused.
    let body = submit(app, partner, luebeck, "JURY", scores(&c, &[8, 4]), None).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // Mentors can never be assessors.
    let body = app
        .gql(
            Some(coordinator),
            ASSIGN,
            json!({ "i": { "editionId": encode("Edition", e).0, "stage": "JURY",
                       "assessorId": encode("User", w.mentor).0 } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    for user in [w.partner, second] {
        let body = app
            .gql(
                Some(coordinator),
                ASSIGN,
                json!({ "i": { "editionId": encode("Edition", e).0, "stage": "JURY",
                           "assessorId": encode("User", user).0 } }),
            )
            .await;
        assert_eq!(
            body["data"]["assignAssessor"]["assignment"]["stage"], "JURY",
            "{body}"
        );
    }
    let body = submit(app, mentor, luebeck, "JURY", scores(&c, &[8, 4]), None).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
}

/// A score sheet must cover every criterion, each once, within its maximum.
async fn scores_cover_every_criterion_within_its_maximum_once(
    app: &TestApp,
    j: &Jury,
    c: [&str; 2],
) {
    let (partner, luebeck) = (&j.partner, j.luebeck);
    // Scoring checks: every criterion, within its maximum, each once.
    let body = submit(app, partner, luebeck, "JURY", scores(&c[..1], &[8]), None).await;
    assert_eq!(
        (
            code(&body),
            body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("BAD_USER_INPUT", Some("scores")),
        "{body}"
    );
    let body = submit(app, partner, luebeck, "JURY", scores(&c, &[11, 4]), None).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "scores.0.score",
        "{body}"
    );
    let body = submit(
        app,
        partner,
        luebeck,
        "JURY",
        scores(&[c[0], c[0]], &[1, 1]),
        None,
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}

/// Weighted totals, versioned resubmission, and a declared conflict that carries no score.
async fn assessors_score_and_one_declares_a_conflict(app: &TestApp, j: &Jury, c: [&str; 2]) {
    let Jury {
        luebeck,
        flensburg,
        vejle,
        ..
    } = *j;
    let (partner, partner2) = (&j.partner, &j.partner2);
    // Lübeck: partner (8,4) → 22 and partner2 (6,2) → 15: mean 18.5.
    let body = submit(app, partner, luebeck, "JURY", scores(&c, &[8, 4]), None).await;
    let a = &body["data"]["submitAssessment"]["assessment"];
    assert_eq!(a["weightedTotal"], "22", "{body}");
    assert_eq!(
        a["scores"][0]["criterion"]["name"],
        "Innovative and holistic approach"
    );
    // Resubmitting without the version is a conflict; with it, a replacement.
    let again = submit(app, partner, luebeck, "JURY", scores(&c, &[9, 4]), None).await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    let again = submit(app, partner, luebeck, "JURY", scores(&c, &[8, 4]), Some(1)).await;
    assert_eq!(
        again["data"]["submitAssessment"]["assessment"]["version"], 2,
        "{again}"
    );
    submit(app, partner2, luebeck, "JURY", scores(&c, &[6, 2]), None).await;
    // Flensburg: partner (10,5) → 27.5; partner2 declares a conflict.
    submit(app, partner, flensburg, "JURY", scores(&c, &[10, 5]), None).await;
    let body = app
        .gql(
            Some(partner2),
            CONFLICT,
            json!({ "i": { "applicationId": encode("Application", flensburg).0, "stage": "JURY",
                       "note": "I advised Flensburg on its plan" } }),
        )
        .await;
    assert_eq!(
        body["data"]["declareConflictOfInterest"]["assessment"]["conflictOfInterest"], true,
        "{body}"
    );
    assert!(body["data"]["declareConflictOfInterest"]["assessment"]["weightedTotal"].is_null());
    // Vejle: partner (5,5) → 17.5, partner2 (7,3) → 18.5: mean 18.
    submit(app, partner, vejle, "JURY", scores(&c, &[5, 5]), None).await;
    submit(app, partner2, vejle, "JURY", scores(&c, &[7, 3]), None).await;
}

/// A criterion cannot be changed once scoring has begun.
async fn criteria_are_frozen_once_scoring_has_begun(app: &TestApp, j: &Jury, innovative: &str) {
    let coordinator = &j.coordinator;
    // Criteria are frozen once scoring has begun.
    let body = app
        .gql(
            Some(coordinator),
            "mutation($i: UpdateCriterionInput!) { updateCriterion(input: $i) { criterion { id } } }",
            json!({ "i": { "id": innovative, "expectedVersion": 1, "weight": "3" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
}

/// The ranking averages without the conflicted, and proposes the top per country plus the extra.
async fn the_ranking_proposes_one_top_title_per_country_then_the_extra(app: &TestApp, j: &Jury) {
    let (coordinator, partner, mentor) = (&j.coordinator, &j.partner, &j.mentor);
    // The ranking: Flensburg 27.5 (1 score, 1 conflict), Lübeck 18.5, Vejle 18.
    let body = app
        .gql(
            Some(coordinator),
            RANKING,
            json!({ "y": 2080, "s": "JURY" }),
        )
        .await;
    let r = &body["data"]["ranking"];
    assert_eq!(r["maxScore"], "27.5", "{body}");
    assert_eq!(r["rankedCount"], 3);
    let line = |i: usize| &r["entries"][i];
    assert_eq!(line(0)["application"]["title"], "Flensburg plan");
    assert_eq!(
        (
            line(0)["averageScore"].as_str(),
            line(0)["scoreCount"].as_i64(),
            line(0)["conflictsDeclared"].as_i64()
        ),
        (Some("27.50"), Some(1), Some(1))
    );
    assert_eq!(line(1)["application"]["title"], "Lübeck plan");
    assert_eq!(line(1)["averageScore"], "18.50");
    assert_eq!(line(1)["criteria"][0]["averageScore"], "7.00");
    assert_eq!(line(2)["application"]["title"], "Vejle plan");
    assert_eq!(line(2)["rank"], 3);
    // One top title per country (Flensburg, DE), then the extra ignores the rule: Lübeck (DE)
    // outranks Vejle (DK).
    assert_eq!(
        (
            line(0)["proposal"].as_str(),
            line(1)["proposal"].as_str(),
            line(2)["proposal"].as_str()
        ),
        (Some("TOP"), Some("EXTRA"), None)
    );
    assert_eq!(
        r["proposedWinners"],
        json!([{ "title": "Flensburg plan" }, { "title": "Lübeck plan" }])
    );
    // The ranking is the coordinators'.
    for token in [partner, mentor] {
        let body = app
            .gql(Some(token), RANKING, json!({ "y": 2080, "s": "JURY" }))
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
    }
}

/// Coordinators see every assessment and both stages' results; an assessor only its own.
async fn coordinators_see_every_score_and_assessors_their_own(app: &TestApp, j: &Jury) {
    let (coordinator, partner, luebeck) = (&j.coordinator, &j.partner, j.luebeck);
    // Who sees which scores.
    let q = SCORES;
    let vars = json!({ "id": encode("Application", luebeck).0 });
    let body = app.gql(Some(coordinator), q, vars.clone()).await;
    assert_eq!(
        body["data"]["application"]["assessments"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{body}"
    );
    // Both stages for coordinators (nobody scored Lübeck's pre-selection here).
    let results = &body["data"]["application"]["assessmentResults"];
    assert_eq!(
        (
            results[0]["stage"].as_str(),
            results[0]["averageScore"].as_str()
        ),
        (Some("PRESELECTION"), None)
    );
    assert_eq!(
        (
            results[1]["stage"].as_str(),
            results[1]["averageScore"].as_str()
        ),
        (Some("JURY"), Some("18.50"))
    );
    let body = app.gql(Some(partner), q, vars.clone()).await;
    let own = &body["data"]["application"]["assessments"];
    assert_eq!(
        (
            own.as_array().map(Vec::len),
            own[0]["assessor"]["email"].as_str()
        ),
        (Some(1), Some("partner@test.example")),
        "{body}"
    );
    assert_eq!(body["data"]["application"]["assessmentResults"], json!([]));
    let body = app
        .gql(Some(partner), "{ assessments { totalCount } }", json!({}))
        .await;
    assert_eq!(body["data"]["assessments"]["totalCount"], 3, "{body}");
    let body = app
        .gql(
            Some(coordinator),
            "{ assessments(filter: {conflictOfInterest: true}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["assessments"]["totalCount"], 1, "{body}");
}

/// The applicant sees no assessment, and its jury result only once the title is decided.
async fn the_applicant_sees_its_result_only_after_the_decision(app: &TestApp, j: &Jury) -> String {
    let db = &app.state.db;
    let (coordinator, luebeck) = (&j.coordinator, j.luebeck);
    let q = SCORES;
    let vars = json!({ "id": encode("Application", luebeck).0 });
    // The applicant: nothing before the decision, its own result after it.
    let lead: Uuid = {
        use sea_orm::EntityTrait;
        entity::application::Entity::find_by_id(luebeck)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .lead_municipality_id
    };
    fixtures::user(app, "luebeck@test.example", Role::Municipality, Some(lead)).await;
    let luebeck_user = app.login("luebeck@test.example", PASSWORD).await;
    let body = app.gql(Some(&luebeck_user), q, vars.clone()).await;
    assert_eq!(
        body["data"]["application"]["assessments"],
        json!([]),
        "{body}"
    );
    // Its pre-selection is decided (it was shortlisted), the jury's decision is not yet.
    let stages: Vec<&str> = body["data"]["application"]["assessmentResults"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["stage"].as_str())
        .collect();
    assert_eq!(stages, vec!["PRESELECTION"], "{body}");
    let award = "mutation($i: ApplicationTransitionInput!) { awardTitle(input: $i) { application { status } } }";
    let body = app
        .gql(
            Some(coordinator),
            award,
            json!({ "i": { "id": encode("Application", luebeck).0 } }),
        )
        .await;
    assert_eq!(
        body["data"]["awardTitle"]["application"]["status"], "AWARDED",
        "{body}"
    );
    let body = app.gql(Some(&luebeck_user), q, vars.clone()).await;
    let result = &body["data"]["application"]["assessmentResults"][1];
    assert_eq!(
        body["data"]["application"]["assessmentResults"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{body}"
    );
    assert_eq!(
        (
            result["stage"].as_str(),
            result["averageScore"].as_str(),
            result["rank"].as_i64(),
            result["rankedCount"].as_i64()
        ),
        (Some("JURY"), Some("18.50"), Some(2), Some(3))
    );
    assert_eq!(body["data"]["application"]["assessments"], json!([]));
    luebeck_user
}

/// The mentor never sees scores; an assessment id is NOT_FOUND to those who may not see it.
async fn mentors_and_the_applicant_never_see_an_assessment(
    app: &TestApp,
    w: &World,
    j: &Jury,
    luebeck_user: &str,
) {
    let db = &app.state.db;
    let (coordinator, mentor, luebeck) = (&j.coordinator, &j.mentor, j.luebeck);
    let q = SCORES;
    let vars = json!({ "id": encode("Application", luebeck).0 });
    // The mentor never sees scores.
    fixtures::assign_mentor(db, luebeck, w.mentor).await;
    let body = app.gql(Some(mentor), q, vars.clone()).await;
    assert_eq!(
        body["data"]["application"]["assessmentResults"],
        json!([]),
        "{body}"
    );
    assert_eq!(body["data"]["application"]["assessments"], json!([]));
    // An assessment id is NOT_FOUND for those who may not see it.
    let body = app
        .gql(
            Some(coordinator),
            "{ assessments(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let id = body["data"]["assessments"]["edges"][0]["node"]["id"].clone();
    for token in [mentor, luebeck_user] {
        let body = app
            .gql(
                Some(token),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(code(&body), "NOT_FOUND", "{body}");
    }
}

both!(
    scoring_needs_the_open_phase_and_the_right_status,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let closed = fixtures::edition_all_phases(db, 2081, false, (4, true, 1)).await;
        let open = fixtures::edition_all_phases(db, 2082, true, (4, true, 1)).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let mut tried = Vec::new();
        for (e, status) in [
            (closed, ApplicationStatus::Eligible),
            (open, ApplicationStatus::Submitted),
        ] {
            let c = criterion(&app, &coordinator, e, "PRESELECTION", "Motivation", "1", 5).await;
            app.gql(
                Some(&coordinator),
                ASSIGN,
                json!({ "i": { "editionId": encode("Edition", e).0, "stage": "PRESELECTION",
                           "assessorId": encode("User", w.partner).0 } }),
            )
            .await;
            let a = fixtures::application(db, e, w.svendborg, "Svendborg", status).await;
            let body = submit(&app, &partner, a, "PRESELECTION", scores(&[&c], &[3]), None).await;
            tried.push(code(&body).to_owned());
        }
        // Closed phase: the deadline; open phase but not yet eligible: the status.
        assert_eq!(tried, vec!["CONFLICT", "CONFLICT"]);
        // The same assessor cannot be assigned twice.
        let body = app
            .gql(
                Some(&coordinator),
                ASSIGN,
                json!({ "i": { "editionId": encode("Edition", open).0, "stage": "PRESELECTION",
                           "assessorId": encode("User", w.partner).0 } }),
            )
            .await;
        assert_eq!(code(&body), "CONFLICT", "{body}");
        let body = app
            .gql(
                Some(&partner),
                "query($y: Int!) { edition(year: $y) { criteria(stage: PRESELECTION) { name weight } assessors { stage assessor { email } } } }",
                json!({ "y": 2082 }),
            )
            .await;
        assert_eq!(
            body["data"]["edition"]["criteria"],
            json!([{ "name": "Motivation", "weight": "1" }]),
            "{body}"
        );
        assert_eq!(
            body["data"]["edition"]["assessors"][0]["assessor"]["email"],
            "partner@test.example"
        );
        let _ = w.partner;
    }
);
