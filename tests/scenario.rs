//! A whole edition through the real HTTP server, as the programme runs it: twelve municipalities
//! apply, are screened, scored and shortlisted, get mentors, write, revise and submit their
//! CuReAPs (one too late), the jury scores, four titles are awarded under the policy (a fifth is
//! refused), and the Pearls report progress in their title year. On SQLite and PostgreSQL.

use std::collections::HashMap;

use crate::common;

use chrono::{Duration, Utc};
use common::{TestApp, code};
use serde_json::{Value, json};

const PASSWORD: &str = "a long scenario password";

/// The candidates: name and country. Three German towns, so the one-per-country rule bites.
const TOWNS: [(&str, &str); 12] = [
    ("Svendborg", "DK"),
    ("Kiel", "DE"),
    ("Jakobstad", "FI"),
    ("Rūjiena", "LV"),
    ("Lübeck", "DE"),
    ("Alytus", "LT"),
    ("Gdynia", "PL"),
    ("Viljandi", "EE"),
    ("Visby", "SE"),
    ("Flensburg", "DE"),
    ("Vaasa", "FI"),
    ("Ventspils", "LV"),
];

struct Api<'a> {
    app: &'a TestApp,
}

impl Api<'_> {
    /// Runs an operation that must succeed and returns its `data`.
    async fn ok(&self, token: &str, query: &str, vars: Value) -> Value {
        let body = self.app.gql(Some(token), query, vars).await;
        assert!(body["errors"].is_null(), "{query}\n→ {body}");
        body["data"].clone()
    }

    /// Runs an operation that must fail and returns its error code.
    async fn refused(&self, token: &str, query: &str, vars: Value) -> String {
        let body = self.app.gql(Some(token), query, vars).await;
        code(&body).to_owned()
    }

    async fn advance(&self, token: &str, id: &str, action: &str) -> Value {
        self.ok(
            token,
            "mutation($i: AdvanceApplicationInput!) { advanceApplication(input: $i) { application { status } } }",
            json!({ "i": { "id": id, "action": action } }),
        )
        .await
    }

    async fn set_phase(&self, token: &str, edition: &str, kind: &str, from: i64, to: i64) {
        let now = Utc::now();
        self.ok(
            token,
            "mutation($i: SetPhaseInput!) { setPhase(input: $i) { phase { kind } } }",
            json!({ "i": { "editionId": edition, "kind": kind,
                           "startsAt": (now + Duration::days(from)).to_rfc3339(),
                           "endsAt": (now + Duration::days(to)).to_rfc3339(),
                           "reason": format!("{kind}: the scenario's calendar") } }),
        )
        .await;
    }

    async fn user(&self, token: &str, email: &str, role: &str, org: Option<&str>) -> String {
        let data = self
            .ok(
                token,
                "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }",
                json!({ "i": { "email": email, "name": email, "role": role, "organisationId": org,
                               "password": PASSWORD } }),
            )
            .await;
        data["createUser"]["user"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    async fn score(&self, token: &str, app: &str, stage: &str, criteria: &[String], s: &[i64]) {
        let scores: Vec<Value> = criteria
            .iter()
            .zip(s)
            .map(|(c, v)| json!({ "criterionId": c, "score": v }))
            .collect();
        self.ok(
            token,
            "mutation($i: SubmitAssessmentInput!) { submitAssessment(input: $i) { assessment { id } } }",
            json!({ "i": { "applicationId": app, "stage": stage, "scores": scores } }),
        )
        .await;
    }
}

struct Candidate {
    name: &'static str,
    token: String,
    application: String,
    plan: Option<(String, i64)>,
}

/// The run's tokens and ids, filled in phase by phase.
#[derive(Default)]
struct Run {
    coordinator: String,
    assessor_ids: [String; 2],
    mentor_ids: [String; 2],
    assessors: [String; 2],
    mentors: [String; 2],
    edition: String,
    criteria: HashMap<&'static str, Vec<String>>,
    candidates: Vec<Candidate>,
    shortlist: Vec<usize>,
    themes: Vec<String>,
    practice: String,
    submitted: Vec<usize>,
    winners: Vec<String>,
}

/// The lead partner, its coordinator and the consortium (two assessing partners, two mentors).
async fn the_lead_partner_and_the_consortium_are_set_up(app: &TestApp) -> Run {
    let api = Api { app };
    let db = &app.state.db;

    // The lead partner and its coordinator exist (bootstrapped as `pearls user create` would).
    let lead = common::fixtures::organisation(
        db,
        "CBSS Secretariat",
        "SE",
        entity::OrganisationKind::LeadPartner,
    )
    .await;
    common::fixtures::user(
        app,
        "coordinator@scenario.example",
        entity::Role::Coordinator,
        Some(lead),
    )
    .await;
    let coordinator = app
        .login("coordinator@scenario.example", common::fixtures::PASSWORD)
        .await;
    let c = coordinator.as_str();

    // The consortium: two partners who assess, two mentors.
    let data = api
        .ok(
            c,
            "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id } } }",
            json!({ "i": { "organisation": { "kind": "PARTNER", "name": "Danish Cultural Institute", "countryCode": "DK" } } }),
        )
        .await;
    let partner_org = data["createOrganisation"]["organisation"]["id"]
        .as_str()
        .expect("org")
        .to_owned();
    let assessor_ids = [
        api.user(c, "anna@partners.example", "PARTNER", Some(&partner_org))
            .await,
        api.user(c, "bo@partners.example", "PARTNER", Some(&partner_org))
            .await,
    ];
    let mentor_ids = [
        api.user(
            c,
            "mentor.north@partners.example",
            "MENTOR",
            Some(&partner_org),
        )
        .await,
        api.user(
            c,
            "mentor.south@partners.example",
            "MENTOR",
            Some(&partner_org),
        )
        .await,
    ];
    let assessors = [
        app.login("anna@partners.example", PASSWORD).await,
        app.login("bo@partners.example", PASSWORD).await,
    ];
    let mentors = [
        app.login("mentor.north@partners.example", PASSWORD).await,
        app.login("mentor.south@partners.example", PASSWORD).await,
    ];
    Run {
        coordinator,
        assessor_ids,
        mentor_ids,
        assessors,
        mentors,
        ..Run::default()
    }
}

/// The edition opens with every phase, its criteria for both stages and both assessors.
async fn an_edition_opens_with_phases_criteria_and_assessors(app: &TestApp, run: &mut Run) {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let assessor_ids = &run.assessor_ids;

    // The edition: four titles, one per country, one extra; every phase open for the run.
    let data = api
        .ok(
            c,
            "mutation($i: CreateEditionInput!) { createEdition(input: $i) { edition { id } } }",
            json!({ "i": { "titleYear": 2099, "name": "BSR Cultural Pearls 2099",
                           "awardPolicy": { "awardCap": 4, "onePerCountry": true, "extraAwards": 1 } } }),
        )
        .await;
    let edition = data["createEdition"]["edition"]["id"]
        .as_str()
        .expect("edition")
        .to_owned();
    for kind in [
        "CALL",
        "PRESELECTION",
        "CUREAP_DEVELOPMENT",
        "JURY",
        "AWARD",
        "TITLE_YEAR",
    ] {
        api.set_phase(c, &edition, kind, -1, 30).await;
    }
    let create_criterion =
        "mutation($i: CreateCriterionInput!) { createCriterion(input: $i) { criterion { id } } }";
    let mut criteria = HashMap::new();
    for (stage, name, weight, max) in [
        ("PRESELECTION", "Motivation", "1", 10),
        ("PRESELECTION", "Approach", "1", 10),
        ("PRESELECTION", "Impact potential", "1.5", 10),
        ("PRESELECTION", "Stakeholder engagement", "1", 10),
        ("JURY", "Innovative and holistic approach", "2", 10),
        (
            "JURY",
            "Participatory methods and cultural tools",
            "1.5",
            10,
        ),
        ("JURY", "Capacity to deliver", "1", 10),
    ] {
        let data = api
            .ok(
                c,
                create_criterion,
                json!({ "i": { "editionId": edition, "stage": stage, "name": name,
                               "weight": weight, "maxScore": max } }),
            )
            .await;
        criteria.entry(stage).or_insert_with(Vec::new).push(
            data["createCriterion"]["criterion"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    for stage in ["PRESELECTION", "JURY"] {
        for a in assessor_ids {
            api.ok(
                c,
                "mutation($i: AssignAssessorInput!) { assignAssessor(input: $i) { assignment { id } } }",
                json!({ "i": { "editionId": edition, "stage": stage, "assessorId": a } }),
            )
            .await;
        }
    }
    run.edition = edition;
    run.criteria = criteria;
}

/// Twelve municipalities apply once each; a second application of the same town is refused.
async fn twelve_municipalities_apply_once_each(app: &TestApp, run: &mut Run) {
    let api = Api { app };
    let c = run.coordinator.as_str();

    // Twelve municipalities apply: organisation and contact by the coordinator, the application
    // by the municipality itself — drafted, completed, submitted.
    let mut candidates = Vec::new();
    for (n, (name, cc)) in TOWNS.iter().enumerate() {
        let data = api
            .ok(
                c,
                "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id } } }",
                json!({ "i": { "organisation": { "kind": "MUNICIPALITY", "name": name, "countryCode": cc,
                                                 "population": 20000 + n * 1000 } } }),
            )
            .await;
        let org = data["createOrganisation"]["organisation"]["id"]
            .as_str()
            .expect("org")
            .to_owned();
        let email = format!("contact{n}@towns.example");
        api.user(c, &email, "MUNICIPALITY", Some(&org)).await;
        let token = app.login(&email, PASSWORD).await;
        let data = api
            .ok(
                &token,
                "mutation($i: CreateApplicationInput!) { createApplication(input: $i) { application { id version } } }",
                json!({ "i": { "editionYear": 2099, "title": format!("{name}: culture that holds us together") } }),
            )
            .await;
        let application = data["createApplication"]["application"]["id"]
            .as_str()
            .expect("application")
            .to_owned();
        api.ok(
            &token,
            "mutation($i: UpdateApplicationInput!) { updateApplication(input: $i) { application { version } } }",
            json!({ "i": { "id": application, "expectedVersion": 1,
                           "motivation": format!("{name} wants to use culture for social resilience.") } }),
        )
        .await;
        api.ok(
            &token,
            "mutation($i: ApplicationTransitionInput!) { submitApplication(input: $i) { application { status } } }",
            json!({ "i": { "id": application } }),
        )
        .await;
        candidates.push(Candidate {
            name,
            token,
            application,
            plan: None,
        });
    }
    // A second application of the same town for the same edition is refused.
    assert_eq!(
        api.refused(
            &candidates[0].token,
            "mutation($i: CreateApplicationInput!) { createApplication(input: $i) { application { id } } }",
            json!({ "i": { "editionYear": 2099, "title": "Again" } }),
        )
        .await,
        "CONFLICT"
    );
    run.candidates = candidates;
}

/// Screening finds Ventspils ineligible and the other eleven eligible.
async fn screening_finds_one_town_ineligible(app: &TestApp, run: &Run) {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let candidates = &run.candidates;

    // Screening: Ventspils turns out ineligible; the other eleven are eligible.
    for (i, cand) in candidates.iter().enumerate() {
        let action = if i == 11 {
            "REJECT_ELIGIBILITY"
        } else {
            "CONFIRM_ELIGIBILITY"
        };
        api.advance(c, &cand.application, action).await;
    }
}

/// Stage 1 ranks the eleven, with Bo's declared conflict counted for Alytus; returns the ranking.
async fn stage_1_ranks_the_eleven_around_a_declared_conflict(
    app: &TestApp,
    run: &Run,
) -> Vec<Value> {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let (assessors, criteria, candidates) = (&run.assessors, &run.criteria, &run.candidates);

    // Stage 1: both assessors score the eleven; Bo has a conflict with Alytus. The score falls
    // with the position in the list, so the ranking is known.
    let pre = &criteria["PRESELECTION"];
    for (i, cand) in candidates.iter().take(11).enumerate() {
        let s = 10 - (i as i64 * 10 / 11);
        api.score(
            &assessors[0],
            &cand.application,
            "PRESELECTION",
            pre,
            &[s, s, s, s],
        )
        .await;
        if cand.name == "Alytus" {
            api.ok(
                &assessors[1],
                "mutation($i: DeclareConflictInput!) { declareConflictOfInterest(input: $i) { assessment { id } } }",
                json!({ "i": { "applicationId": cand.application, "stage": "PRESELECTION",
                               "note": "I sit on Alytus's culture board" } }),
            )
            .await;
        } else {
            api.score(
                &assessors[1],
                &cand.application,
                "PRESELECTION",
                pre,
                &[s, s, s - 1, s],
            )
            .await;
        }
    }
    let data = api
        .ok(
            c,
            "{ ranking(editionYear: 2099, stage: PRESELECTION) { rankedCount entries { rank scoreCount conflictsDeclared application { id } } } }",
            json!({}),
        )
        .await;
    let entries = data["ranking"]["entries"]
        .as_array()
        .expect("entries")
        .clone();
    assert_eq!(data["ranking"]["rankedCount"], 11);
    let alytus = entries
        .iter()
        .find(|e| e["application"]["id"] == candidates[5].application.as_str())
        .expect("Alytus ranked");
    assert_eq!(
        (
            alytus["scoreCount"].as_i64(),
            alytus["conflictsDeclared"].as_i64()
        ),
        (Some(1), Some(1))
    );
    entries
}

/// The coordinator shortlists the best eight of the ranking and rejects the rest.
async fn the_coordinator_shortlists_the_best_eight(
    app: &TestApp,
    run: &Run,
    entries: &[Value],
) -> Vec<String> {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let candidates = &run.candidates;

    // The coordinator shortlists the best eight of the ranking.
    let shortlisted: Vec<String> = entries
        .iter()
        .take(8)
        .map(|e| e["application"]["id"].as_str().expect("id").to_owned())
        .collect();
    for cand in candidates.iter().take(11) {
        let action = if shortlisted.contains(&cand.application) {
            "SHORTLIST"
        } else {
            "REJECT_SHORTLIST"
        };
        api.advance(c, &cand.application, action).await;
    }
    shortlisted
}

/// No CuReAP starts without a mentor; with one assigned, all eight start.
async fn no_cureap_starts_before_its_mentor_is_assigned(
    app: &TestApp,
    run: &mut Run,
    shortlisted: &[String],
) {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let (candidates, mentor_ids) = (&run.candidates, &run.mentor_ids);

    // Mentors are assigned (a CuReAP cannot start without one), then the CuReAP phase starts.
    let today = Utc::now().date_naive().to_string();
    let shortlist: Vec<usize> = (0..11)
        .filter(|i| shortlisted.contains(&candidates[*i].application))
        .collect();
    assert_eq!(shortlist.len(), 8);
    assert_eq!(
        api.refused(
            c,
            "mutation($i: AdvanceApplicationInput!) { advanceApplication(input: $i) { application { status } } }",
            json!({ "i": { "id": candidates[shortlist[0]].application, "action": "START_CUREAP" } }),
        )
        .await,
        "CONFLICT",
        "no mentor yet"
    );
    for (k, i) in shortlist.iter().enumerate() {
        api.ok(
            c,
            "mutation($i: AssignMentorInput!) { assignMentor(input: $i) { assignment { id } } }",
            json!({ "i": { "applicationId": candidates[*i].application, "mentorId": mentor_ids[k % 2],
                           "kind": "NATIONAL", "startsOn": today } }),
        )
        .await;
        api.advance(c, &candidates[*i].application, "START_CUREAP")
            .await;
    }
    run.shortlist = shortlist;
}

/// The catalogue: the vocabulary is kept, a practice is returned once and then published.
async fn a_practice_is_returned_once_then_published(app: &TestApp, run: &mut Run) {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let assessors = &run.assessors;

    // The catalogue: the coordinator keeps the vocabulary; a partner writes a practice, the
    // coordinator returns it once, then publishes it; the towns cite it in their plans.
    let mut themes = Vec::new();
    for name in ["social cohesion", "heritage"] {
        let data = api
            .ok(
                c,
                "mutation($i: CreateVocabularyTermInput!) { createVocabularyTerm(input: $i) { term { id } } }",
                json!({ "i": { "kind": "THEME", "name": name } }),
            )
            .await;
        themes.push(
            data["createVocabularyTerm"]["term"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let data = api
        .ok(
            &assessors[0],
            "mutation($i: CreatePracticeInput!) { createPractice(input: $i) { practice { id version status } } }",
            json!({ "i": { "practice": { "title": "Singing harbours", "summary": "Choirs in the old docks",
                                         "body": "How a port town brought its generations together with song.",
                                         "countryCode": "DK", "themeIds": themes } } }),
        )
        .await;
    let practice = data["createPractice"]["practice"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let review = |m: &str| {
        format!(
            "mutation($i: PracticeReviewInput!) {{ {m}(input: $i) {{ practice {{ status }} }} }}"
        )
    };
    api.ok(
        &assessors[0],
        &review("submitPracticeForReview"),
        json!({ "i": { "id": practice } }),
    )
    .await;
    api.ok(
        c,
        &review("returnPractice"),
        json!({ "i": { "id": practice, "comment": "Add outcomes" } }),
    )
    .await;
    api.ok(
        &assessors[0],
        &review("submitPracticeForReview"),
        json!({ "i": { "id": practice } }),
    )
    .await;
    api.ok(
        c,
        &review("publishPractice"),
        json!({ "i": { "id": practice } }),
    )
    .await;
    run.themes = themes;
    run.practice = practice;
}

/// Each shortlisted town writes its plan, its mentor comments, a stale save is refused, it revises.
async fn each_shortlisted_town_writes_and_revises_its_plan(app: &TestApp, run: &mut Run) {
    let api = Api { app };
    let candidates = &mut run.candidates;
    let (shortlist, mentors, themes, practice) =
        (&run.shortlist, &run.mentors, &run.themes, &run.practice);

    // Each shortlisted town writes its plan; its mentor comments; the town revises.
    let plan_q = "query($id: ID!) { application(id: $id) { plan { id version } } }";
    for (k, i) in shortlist.iter().enumerate() {
        let cand = &mut candidates[*i];
        let data = api
            .ok(&cand.token, plan_q, json!({ "id": cand.application }))
            .await;
        let plan_id = data["application"]["plan"]["id"]
            .as_str()
            .expect("plan")
            .to_owned();
        let v = data["application"]["plan"]["version"]
            .as_i64()
            .expect("version");
        let data = api
            .ok(
                &cand.token,
                "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { version } } }",
                json!({ "i": { "planId": plan_id, "expectedVersion": v,
                               "vision": format!("{} sings together", cand.name),
                               "context": "An ageing town after the shipyard closed",
                               "objectives": "Bring generations together through culture",
                               "stakeholders": "Library, choirs, schools, the harbour association",
                               "budget": "180000.00", "timeline": "Spring to autumn of the title year" } }),
            )
            .await;
        let mut v = data["updatePlan"]["plan"]["version"]
            .as_i64()
            .expect("version");
        for (title, budget) in [
            ("Harbour choir festival", "60000.50"),
            ("Stories of the shipyard", "45000"),
        ] {
            let data = api
                .ok(
                    &cand.token,
                    "mutation($i: AddPlanActionInput!) { addPlanAction(input: $i) { plan { version } } }",
                    json!({ "i": { "planId": plan_id, "expectedVersion": v, "action": {
                        "title": title, "themeIds": themes, "practiceIds": [practice], "budget": budget,
                        "targetGroups": "Seniors and pupils" } } }),
                )
                .await;
            v = data["addPlanAction"]["plan"]["version"]
                .as_i64()
                .expect("version");
        }
        let data = api
            .ok(
                &cand.token,
                "mutation($i: AddPlanIndicatorInput!) { addPlanIndicator(input: $i) { plan { version } } }",
                json!({ "i": { "planId": plan_id, "expectedVersion": v, "indicator": {
                    "name": "Participants", "unit": "people", "baseline": "0", "target": "1500" } } }),
            )
            .await;
        v = data["addPlanIndicator"]["plan"]["version"]
            .as_i64()
            .expect("version");
        api.ok(
            &mentors[k % 2],
            "mutation($i: CommentOnPlanInput!) { commentOnPlan(input: $i) { comment { id } } }",
            json!({ "i": { "planId": plan_id, "section": "OBJECTIVES", "body": "Make them measurable" } }),
        )
        .await;
        // A stale save after someone else saved is refused and loses nothing.
        assert_eq!(
            api.refused(
                &cand.token,
                "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { version } } }",
                json!({ "i": { "planId": plan_id, "expectedVersion": v - 1, "objectives": "stale" } }),
            )
            .await,
            "CONFLICT"
        );
        let data = api
            .ok(
                &cand.token,
                "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { version objectives } } }",
                json!({ "i": { "planId": plan_id, "expectedVersion": v,
                               "objectives": "1500 participants, 40% over 65" } }),
            )
            .await;
        v = data["updatePlan"]["plan"]["version"]
            .as_i64()
            .expect("version");
        cand.plan = Some((plan_id, v));
    }
}

/// Seven submit before the deadline; once the window closes the eighth is refused, naming it.
async fn seven_submit_in_time_and_the_eighth_is_late(app: &TestApp, run: &Run) {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let (candidates, shortlist, edition) = (&run.candidates, &run.shortlist, &run.edition);

    // Seven submit before the deadline; then the CuReAP window closes and the eighth is late.
    for i in shortlist.iter().take(7) {
        let cand = &candidates[*i];
        api.advance(&cand.token, &cand.application, "SUBMIT_CUREAP")
            .await;
    }
    api.set_phase(c, edition, "CUREAP_DEVELOPMENT", -20, -1)
        .await;
    let late = &candidates[shortlist[7]];
    let body = app
        .gql(
            Some(&late.token),
            "mutation($i: AdvanceApplicationInput!) { advanceApplication(input: $i) { application { status } } }",
            json!({ "i": { "id": late.application, "action": "SUBMIT_CUREAP" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("deadline"),
        "the refusal names the deadline: {body}"
    );
}

/// Submitted plans read exactly as submitted and can no longer be edited.
async fn submitted_plans_are_frozen_as_submitted(app: &TestApp, run: &Run) {
    let api = Api { app };
    let (candidates, shortlist, assessors) = (&run.candidates, &run.shortlist, &run.assessors);

    // Frozen: the submitted plans can be read exactly as submitted, and no longer edited.
    let first = &candidates[shortlist[0]];
    let (plan_id, v) = first.plan.clone().expect("plan");
    let data = api
        .ok(
            &assessors[0],
            "query($id: ID!) { node(id: $id) { ... on Plan { isFrozen versions { number content { vision budget actions { title budget } } } } } }",
            json!({ "id": plan_id }),
        )
        .await;
    assert_eq!(data["node"]["isFrozen"], true);
    assert_eq!(
        data["node"]["versions"][0]["content"]["budget"],
        "180000.00"
    );
    assert_eq!(
        data["node"]["versions"][0]["content"]["actions"][0]["budget"],
        "60000.50"
    );
    assert_eq!(
        api.refused(
            &first.token,
            "mutation($i: UpdatePlanInput!) { updatePlan(input: $i) { plan { version } } }",
            json!({ "i": { "planId": plan_id, "expectedVersion": v + 1, "vision": "after" } }),
        )
        .await,
        "CONFLICT"
    );
}

/// Stage 2: the jury's scores propose the first four, from four countries; returns the ranking.
async fn the_jury_proposes_the_first_four_submitted(app: &TestApp, run: &mut Run) -> Value {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let (criteria, shortlist, assessors, candidates) = (
        &run.criteria,
        &run.shortlist,
        &run.assessors,
        &run.candidates,
    );

    // Stage 2: the jury scores the seven CuReAPs. Scores fall with the order of submission, so
    // the first four countries decide the proposal.
    let jury = &criteria["JURY"];
    let submitted: Vec<usize> = shortlist.iter().take(7).copied().collect();
    for (rank, i) in submitted.iter().enumerate() {
        let s = 10 - rank as i64;
        for a in assessors {
            api.score(a, &candidates[*i].application, "JURY", jury, &[s, s, s])
                .await;
        }
    }
    let data = api
        .ok(
            c,
            "{ ranking(editionYear: 2099, stage: JURY) { entries { rank proposal application { id leadMunicipality { countryCode } } } proposedWinners { id } } }",
            json!({}),
        )
        .await;
    let winners: Vec<String> = data["ranking"]["proposedWinners"]
        .as_array()
        .expect("winners")
        .iter()
        .map(|w| w["id"].as_str().expect("id").to_owned())
        .collect();
    // The jury's scores fall with the order of submission and the first four come from four
    // countries, so the proposal is exactly them, best first: Svendborg, Kiel, Jakobstad,
    // Rūjiena (2024's real Pearls, as it happens).
    let expected: Vec<&String> = (0..4)
        .map(|i| &candidates[submitted[i]].application)
        .collect();
    assert_eq!(winners.iter().collect::<Vec<_>>(), expected, "{data}");
    assert_eq!(
        submitted[..4]
            .iter()
            .map(|i| TOWNS[*i].0)
            .collect::<Vec<_>>(),
        ["Svendborg", "Kiel", "Jakobstad", "Rūjiena"]
    );
    run.submitted = submitted;
    run.winners = winners;
    data
}

/// The four proposed are awarded, a fifth breaks the cap, at most one country has two titles.
async fn four_titles_are_awarded_and_a_fifth_is_refused(
    app: &TestApp,
    run: &Run,
    jury_ranking: &Value,
) {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let (winners, submitted, candidates) = (&run.winners, &run.submitted, &run.candidates);

    // Award the proposed four; a fifth is refused by the cap.
    for w in winners {
        api.ok(
            c,
            "mutation($i: ApplicationTransitionInput!) { awardTitle(input: $i) { application { status } } }",
            json!({ "i": { "id": w, "note": "Jury decision" } }),
        )
        .await;
    }
    let rest: Vec<&String> = submitted
        .iter()
        .map(|i| &candidates[*i].application)
        .filter(|a| !winners.contains(a))
        .collect();
    assert_eq!(rest.len(), 3);
    assert_eq!(
        api.refused(
            c,
            "mutation($i: ApplicationTransitionInput!) { awardTitle(input: $i) { application { status } } }",
            json!({ "i": { "id": rest[0] } }),
        )
        .await,
        "CONFLICT",
        "a fifth title breaks the cap"
    );
    for a in &rest {
        api.ok(
            c,
            "mutation($i: ApplicationTransitionInput!) { declineTitle(input: $i) { application { status } } }",
            json!({ "i": { "id": a } }),
        )
        .await;
    }
    // At most one title per country, except the one extra.
    let countries: Vec<String> = jury_ranking["ranking"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            winners.contains(
                &e["application"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .map(|e| {
            e["application"]["leadMunicipality"]["countryCode"]
                .as_str()
                .expect("cc")
                .to_owned()
        })
        .collect();
    let mut distinct = countries.clone();
    distinct.sort();
    distinct.dedup();
    assert!(countries.len() - distinct.len() <= 1, "{countries:?}");
}

/// The public sees the four Pearls without signing in.
async fn the_public_sees_the_four_pearls(app: &TestApp) {
    let body = app
        .gql(
            None,
            "{ pearls(titleYear: 2099) { title municipality { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["pearls"].as_array().map(Vec::len),
        Some(4),
        "{body}"
    );
}

/// In the title year the Pearls post progress on their actions.
async fn the_pearls_post_progress_in_their_title_year(app: &TestApp, run: &Run) {
    let api = Api { app };
    let c = run.coordinator.as_str();
    let (winners, candidates) = (&run.winners, &run.candidates);

    for w in winners {
        api.advance(c, w, "START_TITLE_YEAR").await;
        let cand = candidates
            .iter()
            .find(|cand| &cand.application == w)
            .expect("winner");
        let data = api
            .ok(
                &cand.token,
                "query($id: ID!) { application(id: $id) { plan { actions { id } } } }",
                json!({ "id": w }),
            )
            .await;
        let action = data["application"]["plan"]["actions"][0]["id"].clone();
        api.ok(
            &cand.token,
            "mutation($i: PostProgressInput!) { postProgress(input: $i) { progress { id } } }",
            json!({ "i": { "actionId": action, "implementation": "PARTLY", "percentage": 60,
                           "participantsReached": 420, "evidenceUrl": "https://towns.example/festival",
                           "note": "Two of three festival days held" } }),
        )
        .await;
    }
}

/// The applicant sees its own jury result, never the scores.
async fn the_winner_sees_its_result_but_not_the_scores(app: &TestApp, run: &Run) {
    let api = Api { app };
    let (candidates, winners) = (&run.candidates, &run.winners);

    let winner = candidates
        .iter()
        .find(|cand| cand.application == winners[0])
        .expect("winner");
    let data = api
        .ok(
            &winner.token,
            "query($id: ID!) { application(id: $id) { status assessments { id } assessmentResults { stage rank } } }",
            json!({ "id": winner.application }),
        )
        .await;
    assert_eq!(data["application"]["status"], "TITLE_YEAR_ACTIVE");
    assert_eq!(data["application"]["assessments"], json!([]));
    assert_eq!(data["application"]["assessmentResults"][1]["stage"], "JURY");
    assert_eq!(data["application"]["assessmentResults"][1]["rank"], 1);
}

/// The practice shows its reuse: the eight shortlisted plans cite it.
async fn the_practice_shows_its_reuse_by_eight_plans(app: &TestApp, run: &Run) {
    let practice = &run.practice;

    let body = app
        .gql(
            None,
            "query($id: ID!) { node(id: $id) { ... on GoodPractice { title reuseCount } } }",
            json!({ "id": practice }),
        )
        .await;
    assert_eq!(body["data"]["node"]["reuseCount"], 8, "{body}");
}

/// Every change of the run is in the audit log, exactly one entry each.
async fn the_audit_log_holds_every_change_of_the_run(app: &TestApp, run: &Run) {
    let api = Api { app };
    let c = run.coordinator.as_str();

    let data = api
        .ok(
            c,
            "{ all: auditEntries { totalCount } awards: auditEntries(filter: {entityType: \"Application\"}) { totalCount } }",
            json!({}),
        )
        .await;
    // Exactly: every sign-in, every write of the run, one entry each (an audited action added
    // or lost changes these numbers, on purpose).
    assert_eq!(
        (
            data["all"]["totalCount"].as_i64(),
            data["awards"]["totalCount"].as_i64()
        ),
        (Some(254), Some(93)),
        "{data}"
    );
    let data = api
        .ok(
            c,
            "{ applications(filter: {editionYear: [2099]}) { totalCount } ineligible: applications(filter: {editionYear: [2099], status: [INELIGIBLE]}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["applications"]["totalCount"], 12);
    assert_eq!(data["ineligible"]["totalCount"], 1);
}

both!(a_whole_edition_runs_end_to_end, |app: TestApp| async move {
    let mut run = the_lead_partner_and_the_consortium_are_set_up(&app).await;
    an_edition_opens_with_phases_criteria_and_assessors(&app, &mut run).await;
    twelve_municipalities_apply_once_each(&app, &mut run).await;
    screening_finds_one_town_ineligible(&app, &run).await;
    let ranking = stage_1_ranks_the_eleven_around_a_declared_conflict(&app, &run).await;
    let shortlisted = the_coordinator_shortlists_the_best_eight(&app, &run, &ranking).await;
    no_cureap_starts_before_its_mentor_is_assigned(&app, &mut run, &shortlisted).await;
    a_practice_is_returned_once_then_published(&app, &mut run).await;
    each_shortlisted_town_writes_and_revises_its_plan(&app, &mut run).await;
    seven_submit_in_time_and_the_eighth_is_late(&app, &run).await;
    submitted_plans_are_frozen_as_submitted(&app, &run).await;
    let jury_ranking = the_jury_proposes_the_first_four_submitted(&app, &mut run).await;
    four_titles_are_awarded_and_a_fifth_is_refused(&app, &run, &jury_ranking).await;
    the_public_sees_the_four_pearls(&app).await;
    the_pearls_post_progress_in_their_title_year(&app, &run).await;
    the_winner_sees_its_result_but_not_the_scores(&app, &run).await;
    the_practice_shows_its_reuse_by_eight_plans(&app, &run).await;
    the_audit_log_holds_every_change_of_the_run(&app, &run).await;
});
