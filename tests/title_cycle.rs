//! The title cycle over HTTP: the lifecycle transition table walked as a table, the award policy
//! under concurrent awards, deadlines and their extensions, edition administration, mentoring.

use crate::common;

use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::{ApplicationStatus, OrganisationKind, Role};
use pearls_api::applications::lifecycle::{Action, TRANSITIONS};
use pearls_api::graphql::ids::encode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

const ALL_STATUSES: [ApplicationStatus; 13] = [
    ApplicationStatus::Draft,
    ApplicationStatus::Submitted,
    ApplicationStatus::Eligible,
    ApplicationStatus::Ineligible,
    ApplicationStatus::Shortlisted,
    ApplicationStatus::NotShortlisted,
    ApplicationStatus::CureapInDevelopment,
    ApplicationStatus::CureapSubmitted,
    ApplicationStatus::Awarded,
    ApplicationStatus::NotAwarded,
    ApplicationStatus::TitleYearActive,
    ApplicationStatus::TitleYearCompleted,
    ApplicationStatus::Withdrawn,
];

const ADVANCE: &str = "mutation($i: AdvanceApplicationInput!) { advanceApplication(input: $i) { application { status } } }";

fn action_name(a: Action) -> String {
    // camelCase name → SCREAMING_SNAKE_CASE enum value
    let mut out = String::new();
    for ch in a.name().chars() {
        if ch.is_uppercase() {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

/// A fresh municipality (own organisation, own user) with an application in `status` in the
/// edition, a mentor assigned. Returns (application id, municipality user's token).
async fn candidate(
    app: &TestApp,
    w: &World,
    edition: Uuid,
    status: ApplicationStatus,
    n: &mut u32,
) -> (Uuid, String) {
    *n += 1;
    let db = &app.state.db;
    let org = fixtures::organisation(
        db,
        &format!("Candidate {n}"),
        "DE",
        OrganisationKind::Municipality,
    )
    .await;
    let a = fixtures::application(db, edition, org, &format!("Application {n}"), status).await;
    fixtures::assign_mentor(db, a, w.mentor).await;
    if status == ApplicationStatus::CureapInDevelopment {
        fixtures::complete_plan(db, a).await;
    }
    let email = format!("candidate{n}@test.example");
    fixtures::user(app, &email, Role::Municipality, Some(org)).await;
    (a, app.login(&email, PASSWORD).await)
}

async fn advance(app: &TestApp, token: &str, id: Uuid, action: Action) -> Value {
    app.gql(
        Some(token),
        ADVANCE,
        json!({ "i": { "id": encode("Application", id).0, "action": action_name(action) } }),
    )
    .await
}

both!(
    the_transition_table_is_enforced_row_by_row,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let open = fixtures::edition_all_phases(db, 2050, true, (100, false, 0)).await;
        let closed = fixtures::edition_all_phases(db, 2051, false, (100, false, 0)).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let mentor = app.login("mentor@test.example", PASSWORD).await;
        let other = app.login("svendborg@test.example", PASSWORD).await;
        let mut n = 0;

        // The table's content is what DOMAIN.md says for the municipality's own steps.
        let submit = TRANSITIONS
            .iter()
            .find(|t| t.action == Action::Submit)
            .expect("submit row");
        assert!(
            submit.roles.contains(&Role::Municipality) && submit.from == [ApplicationStatus::Draft]
        );

        for row in TRANSITIONS {
            let from = row.from[0];
            // Allowed for each of its roles, from each of its states.
            for role in row.roles {
                for state in row.from {
                    let (id, own) = candidate(&app, &w, open, *state, &mut n).await;
                    let token = if *role == Role::Municipality {
                        &own
                    } else {
                        &coordinator
                    };
                    let body = advance(&app, token, id, row.action).await;
                    assert_eq!(
                        body["data"]["advanceApplication"]["application"]["status"],
                        row.to.as_str(),
                        "{:?} by {role:?} from {state:?} on {:?}: {body}",
                        row.action,
                        app.backend
                    );
                }
            }
            // Refused for the other roles: FORBIDDEN when they may see it, NOT_FOUND otherwise.
            let (id, own) = candidate(&app, &w, open, from, &mut n).await;
            let mut refusals = vec![(Role::Partner, &partner), (Role::Mentor, &mentor)];
            if !row.roles.contains(&Role::Municipality) {
                refusals.push((Role::Municipality, &own));
            }
            for (role, token) in refusals {
                let body = advance(&app, token, id, row.action).await;
                let expected = if role == Role::Partner && from == ApplicationStatus::Draft {
                    "NOT_FOUND"
                } else {
                    "FORBIDDEN"
                };
                assert_eq!(
                    code(&body),
                    expected,
                    "{:?} by {role:?}: {body}",
                    row.action
                );
            }
            assert_eq!(
                code(&advance(&app, &other, id, row.action).await),
                "NOT_FOUND",
                "{:?} by another municipality",
                row.action
            );
            // Refused from every other state.
            for state in ALL_STATUSES.iter().filter(|s| !row.from.contains(s)) {
                let (id, _) = candidate(&app, &w, open, *state, &mut n).await;
                let body = advance(&app, &coordinator, id, row.action).await;
                assert_eq!(
                    code(&body),
                    "CONFLICT",
                    "{:?} from {state:?}: {body}",
                    row.action
                );
            }
            // Refused outside its phase, with the deadline in the message.
            if row.phase.is_some() {
                let (id, _) = candidate(&app, &w, closed, from, &mut n).await;
                let body = advance(&app, &coordinator, id, row.action).await;
                assert_eq!(
                    code(&body),
                    "CONFLICT",
                    "{:?} outside its phase: {body}",
                    row.action
                );
                assert!(
                    body["errors"][0]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("closed on"),
                    "{body}"
                );
            }
        }
        // Every step wrote its history row and audit entry: spot-check the last allowed one.
        let body = app
            .gql(
                Some(&coordinator),
                "{ auditEntries(filter: {entityType: \"Application\"}) { totalCount } }",
                json!({}),
            )
            .await;
        assert!(
            body["data"]["auditEntries"]["totalCount"]
                .as_i64()
                .unwrap_or(0)
                >= TRANSITIONS.len() as i64,
            "{body}"
        );
    }
);

both!(the_cureap_phase_needs_a_mentor, |app: TestApp| async move {
    World::build(&app).await;
    let db = &app.state.db;
    let e = fixtures::edition_all_phases(db, 2052, true, (4, true, 1)).await;
    let org = fixtures::organisation(db, "Lonely", "DK", OrganisationKind::Municipality).await;
    let a =
        fixtures::application(db, e, org, "No mentor yet", ApplicationStatus::Shortlisted).await;
    let coordinator = app.login("coordinator@test.example", PASSWORD).await;
    let body = advance(&app, &coordinator, a, Action::StartCureap).await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("mentor")
    );
});

both!(
    awards_hold_the_policy_under_concurrency,
    |app: TestApp| async move {
        World::build(&app).await;
        let db = &app.state.db;
        // Nominal rule: four titles, one per country, one extra that ignores the country rule.
        let e = fixtures::edition_all_phases(db, 2053, true, (4, true, 1)).await;
        let mut ids = Vec::new();
        for (n, cc) in ["DE", "DE", "DE", "DK", "DK", "SE", "FI", "EE"]
            .iter()
            .enumerate()
        {
            let org = fixtures::organisation(
                db,
                &format!("Finalist {n}"),
                cc,
                OrganisationKind::Municipality,
            )
            .await;
            ids.push(
                fixtures::application(
                    db,
                    e,
                    org,
                    &format!("CuReAP {n}"),
                    ApplicationStatus::CureapSubmitted,
                )
                .await,
            );
        }
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let award = "mutation($i: ApplicationTransitionInput!) { awardTitle(input: $i) { application { status } } }";
        // Eight awards at the same instant.
        let requests = ids.iter().map(|id| {
            app.gql(
                Some(&coordinator),
                award,
                json!({ "i": { "id": encode("Application", *id).0 } }),
            )
        });
        let results = futures_util::future::join_all(requests).await;
        let granted = results
            .iter()
            .filter(|b| b["data"]["awardTitle"]["application"]["status"] == "AWARDED")
            .count();
        for b in &results {
            assert!(
                b["errors"].is_null() || code(b) == "CONFLICT",
                "only policy refusals: {b}"
            );
        }
        assert!(granted <= 4, "cap of 4 broken: {granted}");
        // Check the policy on what the database holds, not on the responses.
        let body = app
        .gql(None, "{ applications(filter: {editionYear: [2053], status: [AWARDED]}) { totalCount edges { node { leadMunicipality { countryCode } } } } }", json!({}))
        .await;
        let countries: Vec<String> = body["data"]["applications"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                e["node"]["leadMunicipality"]["countryCode"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(countries.len(), granted);
        let mut distinct = countries.clone();
        distinct.sort();
        distinct.dedup();
        assert!(
            countries.len() - distinct.len() <= 1,
            "more than one extra title shares a country: {countries:?}"
        );

        // Fill up sequentially, then a fifth award is refused whatever the country.
        for id in &ids {
            app.gql(
                Some(&coordinator),
                award,
                json!({ "i": { "id": encode("Application", *id).0 } }),
            )
            .await;
        }
        let body = app
            .gql(
                None,
                "{ applications(filter: {editionYear: [2053], status: [AWARDED]}) { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["applications"]["totalCount"], 4, "{body}");
        let last =
            fixtures::organisation(db, "Latecomer", "LT", OrganisationKind::Municipality).await;
        let late =
            fixtures::application(db, e, last, "Fifth", ApplicationStatus::CureapSubmitted).await;
        let body = app
            .gql(
                Some(&coordinator),
                award,
                json!({ "i": { "id": encode("Application", late).0 } }),
            )
            .await;
        assert_eq!(code(&body), "CONFLICT", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("cap"),
            "{body}"
        );
    }
);

both!(
    a_deadline_extension_reopens_the_call_for_one_application,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let closed = fixtures::edition(db, 2054, false).await;
        let late = fixtures::application(
            db,
            closed,
            w.kiel,
            "Late but excused",
            ApplicationStatus::Draft,
        )
        .await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let submit = "mutation($i: ApplicationTransitionInput!) { submitApplication(input: $i) { application { status } } }";
        let vars = json!({ "i": { "id": encode("Application", late).0 } });
        assert_eq!(
            code(&app.gql(Some(&kiel), submit, vars.clone()).await),
            "CONFLICT"
        );
        let extend =
            "mutation($i: ExtendDeadlineInput!) { extendDeadline(input: $i) { extendedUntil } }";
        let until = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
        let ext = json!({ "i": { "applicationId": encode("Application", late).0, "phase": "CALL", "until": until, "reason": "Flooded town hall" } });
        assert_eq!(
            code(&app.gql(Some(&kiel), extend, ext.clone()).await),
            "FORBIDDEN"
        );
        // An extension cannot be granted after the fact.
        let mut past = ext.clone();
        past["i"]["until"] = json!((chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339());
        let body = app.gql(Some(&coordinator), extend, past).await;
        assert_eq!(
            (
                code(&body),
                body["errors"][0]["extensions"]["field"].as_str()
            ),
            ("BAD_USER_INPUT", Some("until")),
            "{body}"
        );
        let body = app.gql(Some(&coordinator), extend, ext).await;
        assert!(
            body["data"]["extendDeadline"]["extendedUntil"].is_string(),
            "{body}"
        );
        // The edition has started: its dates move only with a reason, kept in the audit log.
        let phase =
            "mutation($i: SetPhaseInput!) { setPhase(input: $i) { phase { kind endsAt } } }";
        let moved = json!({ "i": { "editionId": encode("Edition", closed).0, "kind": "CALL",
            "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2020-03-01T00:00:00Z" } });
        let body = app.gql(Some(&coordinator), phase, moved.clone()).await;
        assert_eq!(
            (
                code(&body),
                body["errors"][0]["extensions"]["field"].as_str()
            ),
            ("BAD_USER_INPUT", Some("reason")),
            "{body}"
        );
        let mut with_reason = moved.clone();
        with_reason["i"]["reason"] = json!("The call was announced with the wrong closing day");
        let body = app.gql(Some(&coordinator), phase, with_reason).await;
        assert_eq!(
            body["data"]["setPhase"]["phase"]["endsAt"], "2020-03-01T00:00:00Z",
            "{body}"
        );
        let body = app.gql(Some(&kiel), submit, vars).await;
        assert_eq!(
            body["data"]["submitApplication"]["application"]["status"], "SUBMITTED",
            "{body}"
        );
        let log = app
        .gql(Some(&coordinator), "query($id: ID!) { auditEntries(filter: {entityId: $id}) { edges { node { action changes } } } }",
            json!({ "id": encode("Application", late).0 }))
        .await;
        let actions: Vec<&str> = log["data"]["auditEntries"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .filter_map(|e| e["node"]["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            ["application.submit", "application.extendDeadline"],
            "{log}"
        );
        assert_eq!(
            log["data"]["auditEntries"]["edges"][1]["node"]["changes"]["reason"],
            "Flooded town hall"
        );
    }
);

both!(
    coordinators_run_editions_and_phases,
    |app: TestApp| async move {
        World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let create = "mutation($i: CreateEditionInput!) { createEdition(input: $i) { edition { id titleYear version awardPolicy { awardCap } } } }";
        let input = json!({ "i": { "titleYear": 2060, "name": "BSR Cultural Pearls 2060", "awardPolicy": { "awardCap": 4, "onePerCountry": true, "extraAwards": 1 } } });
        assert_eq!(
            code(&app.gql(Some(&partner), create, input.clone()).await),
            "FORBIDDEN"
        );
        let body = app.gql(Some(&coordinator), create, input.clone()).await;
        let id = body["data"]["createEdition"]["edition"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        assert_eq!(
            code(&app.gql(Some(&coordinator), create, input).await),
            "CONFLICT"
        );
        let bad = json!({ "i": { "titleYear": 2061, "name": "x", "awardPolicy": { "awardCap": 2, "onePerCountry": true, "extraAwards": 3 } } });
        let body = app.gql(Some(&coordinator), create, bad).await;
        assert_eq!(
            (
                code(&body),
                body["errors"][0]["extensions"]["field"].as_str()
            ),
            ("BAD_USER_INPUT", Some("awardPolicy.extraAwards"))
        );

        let phase = "mutation($i: SetPhaseInput!) { setPhase(input: $i) { phase { kind startsAt endsAt } } }";
        let body = app
        .gql(Some(&coordinator), phase, json!({ "i": { "editionId": id, "kind": "CALL", "startsAt": "2059-03-01T00:00:00+02:00", "endsAt": "2059-06-30T21:59:59Z" } }))
        .await;
        assert_eq!(
            body["data"]["setPhase"]["phase"]["startsAt"], "2059-02-28T22:00:00Z",
            "{body}"
        );
        let body = app
        .gql(Some(&coordinator), phase, json!({ "i": { "editionId": id, "kind": "CALL", "startsAt": "2059-06-30T00:00:00Z", "endsAt": "2059-03-01T00:00:00Z" } }))
        .await;
        assert_eq!(code(&body), "BAD_USER_INPUT");
        let update = "mutation($i: UpdateEditionInput!) { updateEdition(input: $i) { edition { version awardPolicy { awardCap } } } }";
        // A changed award rule needs its reason; the audit keeps the rule before and after.
        let six = json!({ "awardCap": 6, "onePerCountry": false, "extraAwards": 0 });
        let body = app
            .gql(
                Some(&coordinator),
                update,
                json!({ "i": { "id": id, "expectedVersion": 1, "awardPolicy": six } }),
            )
            .await;
        assert_eq!(
            (
                code(&body),
                body["errors"][0]["extensions"]["field"].as_str()
            ),
            ("BAD_USER_INPUT", Some("reason")),
            "{body}"
        );
        let body = app
            .gql(
                Some(&coordinator),
                update,
                json!({ "i": { "id": id, "expectedVersion": 1, "awardPolicy": six,
                "reason": "The jury proposes six titles for 2025" } }),
            )
            .await;
        assert_eq!(
            body["data"]["updateEdition"]["edition"]["awardPolicy"]["awardCap"], 6,
            "{body}"
        );
        let audit = entity::audit_entry::Entity::find()
            .filter(entity::audit_entry::Column::Action.eq("edition.update"))
            .all(&app.state.db)
            .await
            .unwrap();
        assert_eq!(audit.len(), 1, "the refused change left nothing");
        assert_eq!(
            audit[0].changes["before"]["awardPolicy"]["awardCap"], 4,
            "{:?}",
            audit[0].changes
        );
        assert_eq!(audit[0].changes["after"]["awardPolicy"], six);
        assert_eq!(
            audit[0].changes["reason"],
            "The jury proposes six titles for 2025"
        );
        let body = app
            .gql(
                Some(&coordinator),
                update,
                json!({ "i": { "id": id, "expectedVersion": 1, "name": "stale" } }),
            )
            .await;
        assert_eq!(code(&body), "CONFLICT");
        let body = app
            .gql(
                None,
                "{ edition(year: 2060) { name phases { kind } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["data"]["edition"]["phases"][0]["kind"], "CALL",
            "{body}"
        );
    }
);

both!(
    mentoring_assignments_and_sessions_follow_the_policy,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let mentor = app.login("mentor@test.example", PASSWORD).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let svendborg = app.login("svendborg@test.example", PASSWORD).await;

        // The coordinator assigns the mentor to Svendborg's submitted application too.
        let assign = "mutation($i: AssignMentorInput!) { assignMentor(input: $i) { assignment { id kind mentor { email } } } }";
        let input = json!({ "i": { "applicationId": encode("Application", w.svendborg_app).0, "mentorId": encode("User", w.mentor).0,
                               "kind": "TWIN", "startsOn": "2026-01-01" } });
        assert_eq!(
            code(&app.gql(Some(&partner), assign, input.clone()).await),
            "FORBIDDEN"
        );
        let body = app.gql(Some(&coordinator), assign, input.clone()).await;
        assert_eq!(
            body["data"]["assignMentor"]["assignment"]["kind"], "TWIN",
            "{body}"
        );
        assert_eq!(
            code(&app.gql(Some(&coordinator), assign, input).await),
            "CONFLICT"
        );
        let not_a_mentor = json!({ "i": { "applicationId": encode("Application", w.svendborg_app).0, "mentorId": encode("User", w.partner).0,
                                      "kind": "NATIONAL", "startsOn": "2026-01-01" } });
        assert_eq!(
            code(&app.gql(Some(&coordinator), assign, not_a_mentor).await),
            "BAD_USER_INPUT"
        );

        // The mentor logs a session on Kiel's assignment; nobody else can.
        let log = "mutation($i: LogMentoringSessionInput!) { logMentoringSession(input: $i) { session { id minutes version } } }";
        let session = json!({ "heldOn": "2026-11-02", "minutes": 90, "format": "ONLINE", "topics": "Stakeholder map", "notes": "Good start" });
        let vars = json!({ "i": { "assignmentId": encode("MentorAssignment", w.assignment).0, "session": session } });
        assert_eq!(
            code(&app.gql(Some(&coordinator), log, vars.clone()).await),
            "FORBIDDEN"
        );
        assert_eq!(
            code(&app.gql(Some(&kiel), log, vars.clone()).await),
            "FORBIDDEN"
        );
        let body = app.gql(Some(&mentor), log, vars).await;
        assert_eq!(
            body["data"]["logMentoringSession"]["session"]["minutes"], 90,
            "{body}"
        );
        let session_id = body["data"]["logMentoringSession"]["session"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let future = json!({ "i": { "assignmentId": encode("MentorAssignment", w.assignment).0,
        "session": { "heldOn": "2999-01-01", "minutes": 30, "format": "ONSITE", "topics": "x" } } });
        assert_eq!(
            code(&app.gql(Some(&mentor), log, future).await),
            "BAD_USER_INPUT"
        );

        // Who sees what.
        let q = "query($id: ID!) { application(id: $id) { mentoringSummary { sessions minutes } mentoringSessions { topics } } }";
        let kiel_app = json!({ "id": encode("Application", w.kiel_app).0 });
        for token in [&coordinator, &mentor, &kiel] {
            let body = app.gql(Some(token), q, kiel_app.clone()).await;
            assert_eq!(
                body["data"]["application"]["mentoringSessions"][0]["topics"], "Stakeholder map",
                "{body}"
            );
            assert_eq!(
                body["data"]["application"]["mentoringSummary"]["minutes"],
                90
            );
        }
        // Partners: aggregates only (Kiel's is a draft they cannot see, so use Svendborg's).
        let body = app
            .gql(
                Some(&partner),
                q,
                json!({ "id": encode("Application", w.svendborg_app).0 }),
            )
            .await;
        assert_eq!(
            body["data"]["application"]["mentoringSummary"]["sessions"], 0,
            "{body}"
        );
        assert!(body["data"]["application"]["mentoringSessions"].is_null());
        assert_eq!(code(&body), "FORBIDDEN");
        let body = app
            .gql(
                Some(&svendborg),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": session_id }),
            )
            .await;
        assert_eq!(code(&body), "NOT_FOUND");

        // Editing with optimistic locking.
        let update = "mutation($i: UpdateMentoringSessionInput!) { updateMentoringSession(input: $i) { session { minutes version } } }";
        let edit = |v: i64| {
            json!({ "i": { "id": session_id, "expectedVersion": v,
        "session": { "heldOn": "2026-11-02", "minutes": 75, "format": "ONLINE", "topics": "Stakeholder map" } } })
        };
        let body = app.gql(Some(&mentor), update, edit(1)).await;
        assert_eq!(
            body["data"]["updateMentoringSession"]["session"]["version"], 2,
            "{body}"
        );
        assert_eq!(
            code(&app.gql(Some(&mentor), update, edit(1)).await),
            "CONFLICT"
        );
    }
);

/// Moves an application's recorded history back: its status changes took effect `days` ago.
async fn history_from(app: &TestApp, id: Uuid, days: i64) {
    use sea_orm::sea_query::Expr;
    entity::application_status_change::Entity::update_many()
        .col_expr(
            entity::application_status_change::Column::EffectiveAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(days)),
        )
        .filter(entity::application_status_change::Column::ApplicationId.eq(id))
        .exec(&app.state.db)
        .await
        .expect("move the history");
}

both!(
    a_decision_entered_late_takes_effect_when_it_was_taken,
    |app: TestApp| async move {
        use chrono::{Duration, Utc};
        let w = World::build(&app).await;
        let db = &app.state.db;
        // Every phase opened ten days ago.
        let e = fixtures::edition_all_phases(db, 2097, true, (4, true, 1)).await;
        let mut n = 0;
        let (eligible, _) = candidate(&app, &w, e, ApplicationStatus::Submitted, &mut n).await;
        history_from(&app, eligible, 20).await;
        let (draft, municipality) = candidate(&app, &w, e, ApplicationStatus::Draft, &mut n).await;
        history_from(&app, draft, 20).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let step = |id: Uuid, action: &str, at: chrono::DateTime<Utc>| {
            json!({ "i": { "id": encode("Application", id).0, "action": action,
                           "effectiveAt": at.to_rfc3339(), "note": "Committee of Friday" } })
        };
        let audit_count = || async {
            use sea_orm::PaginatorTrait;
            entity::audit_entry::Entity::find()
                .count(&app.state.db)
                .await
                .expect("count")
        };
        let before = audit_count().await;
        // Bounded: not in the future, not before its phase opened, only by a coordinator.
        for (who, at, expected) in [
            (
                &coordinator,
                Utc::now() + Duration::hours(1),
                "BAD_USER_INPUT",
            ),
            (
                &coordinator,
                Utc::now() - Duration::days(15),
                "BAD_USER_INPUT",
            ),
            (&municipality, Utc::now() - Duration::days(3), "FORBIDDEN"),
        ] {
            let body = app.gql(Some(who), ADVANCE, step(draft, "SUBMIT", at)).await;
            assert_eq!(code(&body), expected, "{body}");
            if expected == "BAD_USER_INPUT" {
                assert_eq!(
                    body["errors"][0]["extensions"]["field"], "effectiveAt",
                    "{body}"
                );
            }
        }
        assert_eq!(audit_count().await, before, "refused steps write nothing");

        // Entered now, decided five days ago: the submission date, the status change and the
        // audit entry say so, and the KPIs count it on that day.
        let decided = Utc::now() - Duration::days(5);
        let funnel = "query($f: KpiFilter) { kpis(filter: $f) { funnel { applied } } }";
        let day = |d: chrono::DateTime<Utc>| d.date_naive().to_string();
        let applied = |from: String, to: String| {
            let coordinator = coordinator.clone();
            let app = &app;
            async move {
                let body = app
                    .gql(
                        Some(&coordinator),
                        funnel,
                        json!({ "f": { "editionYears": [2097], "from": from, "to": to } }),
                    )
                    .await;
                // One row without a grouping (or none).
                body["data"]["kpis"]["funnel"]
                    .as_array()
                    .unwrap_or_else(|| panic!("the funnel: {body}"))
                    .iter()
                    .map(|row| row["applied"].as_i64().expect("a count"))
                    .sum::<i64>()
            }
        };
        let today = Utc::now();
        let on_the_day = applied(day(decided), day(decided)).await;
        let lately = applied(day(today - Duration::days(1)), day(today)).await;

        let body = app
            .gql(Some(&coordinator), ADVANCE, step(draft, "SUBMIT", decided))
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let q = "query($id: ID!) { application(id: $id) { status submittedAt
            latestStatusChange { toStatus changedAt effectiveAt } } }";
        let body = app
            .gql(
                Some(&coordinator),
                q,
                json!({ "id": encode("Application", draft).0 }),
            )
            .await;
        let a = &body["data"]["application"];
        let at = |v: &Value| {
            chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
                .expect("RFC 3339")
                .to_utc()
        };
        assert_eq!(a["status"], "SUBMITTED", "{body}");
        assert_eq!(
            at(&a["submittedAt"]).timestamp(),
            decided.timestamp(),
            "{body}"
        );
        let change = &a["latestStatusChange"];
        assert_eq!(
            at(&change["effectiveAt"]).timestamp(),
            decided.timestamp(),
            "{body}"
        );
        assert!(
            at(&change["changedAt"]) > Utc::now() - Duration::minutes(5),
            "recorded now: {body}"
        );
        let entry = entity::audit_entry::Entity::find()
            .filter(entity::audit_entry::Column::Action.eq("application.submit"))
            .filter(entity::audit_entry::Column::EntityId.eq(draft.to_string()))
            .one(db)
            .await
            .expect("read")
            .expect("the audit entry");
        let detail = entry.changes;
        assert_eq!(
            at(&detail["effectiveAt"]).timestamp(),
            decided.timestamp(),
            "{detail}"
        );
        assert!(detail["recordedAt"].is_string(), "{detail}");
        assert_eq!(
            applied(day(decided), day(decided)).await,
            on_the_day + 1,
            "counted on the day it took effect"
        );
        assert_eq!(
            applied(day(today - Duration::days(1)), day(today)).await,
            lately,
            "not on the day it was entered"
        );

        // Dates never run backwards: a step cannot take effect before the one before it.
        let body = app
            .gql(
                Some(&coordinator),
                ADVANCE,
                step(draft, "CONFIRM_ELIGIBILITY", decided - Duration::days(1)),
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        let body = app
            .gql(
                Some(&coordinator),
                ADVANCE,
                step(
                    eligible,
                    "CONFIRM_ELIGIBILITY",
                    Utc::now() - Duration::days(2),
                ),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
);
