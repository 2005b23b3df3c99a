//! Applications over HTTP: create, edit with optimistic locking, submit within the call, withdraw,
//! with status history and audit entries written in the same transaction.

use crate::common;

use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::{ApplicationStatus, OrganisationKind, audit_entry};
use pearls_api::graphql::ids::encode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const CREATE: &str = "mutation($i: CreateApplicationInput!) { createApplication(input: $i) {
    application { id title status version leadMunicipality { name } coApplicants { name } } } }";
const UPDATE: &str = "mutation($i: UpdateApplicationInput!) { updateApplication(input: $i) { application { title motivation version } } }";
const SUBMIT: &str = "mutation($i: ApplicationTransitionInput!) { submitApplication(input: $i) {
    application { status submittedAt statusHistory { fromStatus toStatus note actor { email } }
    latestStatusChange { fromStatus toStatus note } } } }";

both!(
    a_municipality_applies_edits_and_submits,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let year = fixtures::edition(db, 2032, true).await;
        let _ = year;
        let neighbour =
            fixtures::organisation(db, "Eckernförde", "DE", OrganisationKind::Municipality).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;

        let created = app
            .gql(
                Some(&kiel),
                CREATE,
                json!({ "i": { "editionYear": 2032, "title": "  Kiel 2032  ",
            "coApplicantIds": [encode("Organisation", neighbour).0] } }),
            )
            .await;
        let a = &created["data"]["createApplication"]["application"];
        assert_eq!(a["title"], "Kiel 2032", "{created}");
        assert_eq!(a["status"], "DRAFT");
        assert_eq!(a["version"], 1);
        assert_eq!(a["leadMunicipality"]["name"], "Kiel");
        assert_eq!(a["coApplicants"][0]["name"], "Eckernförde");
        let id = a["id"].as_str().expect("id").to_owned();

        // One application per municipality and edition.
        let dup = app
            .gql(
                Some(&kiel),
                CREATE,
                json!({ "i": { "editionYear": 2032, "title": "Again" } }),
            )
            .await;
        assert_eq!(code(&dup), "CONFLICT", "{dup}");
        // Someone else's municipality: refused.
        let other = app
            .gql(
                Some(&kiel),
                CREATE,
                json!({ "i": { "editionYear": 2032, "title": "Not mine",
            "leadMunicipalityId": encode("Organisation", w.svendborg).0 } }),
            )
            .await;
        assert_eq!(code(&other), "FORBIDDEN", "{other}");
        // Bad input names its field.
        let bad = app
            .gql(
                Some(&kiel),
                UPDATE,
                json!({ "i": { "id": id, "expectedVersion": 1, "title": "   " } }),
            )
            .await;
        assert_eq!(
            (code(&bad), bad["errors"][0]["extensions"]["field"].as_str()),
            ("BAD_USER_INPUT", Some("title"))
        );

        // Optimistic locking: the second save based on version 1 loses and changes nothing.
        let first = app
            .gql(
                Some(&kiel),
                UPDATE,
                json!({ "i": { "id": id, "expectedVersion": 1, "motivation": "Culture heals." } }),
            )
            .await;
        assert_eq!(
            first["data"]["updateApplication"]["application"]["version"], 2,
            "{first}"
        );
        let stale = app
            .gql(
                Some(&kiel),
                UPDATE,
                json!({ "i": { "id": id, "expectedVersion": 1, "motivation": "Overwrite!" } }),
            )
            .await;
        assert_eq!(code(&stale), "CONFLICT", "{stale}");
        let now = app
            .gql(
                Some(&kiel),
                "query($id: ID!) { application(id: $id) { motivation version } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(now["data"]["application"]["motivation"], "Culture heals.");
        assert_eq!(now["data"]["application"]["version"], 2);

        let submitted = app
            .gql(
                Some(&kiel),
                SUBMIT,
                json!({ "i": { "id": id, "note": "Here it is" } }),
            )
            .await;
        let s = &submitted["data"]["submitApplication"]["application"];
        assert_eq!(s["status"], "SUBMITTED", "{submitted}");
        assert!(s["submittedAt"].is_string());
        let history = s["statusHistory"].as_array().expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(history[1]["fromStatus"], "DRAFT");
        assert_eq!(history[1]["toStatus"], "SUBMITTED");
        assert_eq!(history[1]["note"], "Here it is");
        assert_eq!(history[1]["actor"]["email"], "kiel@test.example");
        // The latest change is the last of the history (chosen in SQL, not from the history).
        assert_eq!(
            s["latestStatusChange"],
            json!({ "fromStatus": "DRAFT", "toStatus": "SUBMITTED", "note": "Here it is" })
        );
        // Submitted applications are no longer editable, nor submittable again.
        let edit = app
            .gql(
                Some(&kiel),
                UPDATE,
                json!({ "i": { "id": id, "expectedVersion": 3, "title": "Late edit" } }),
            )
            .await;
        assert_eq!(code(&edit), "CONFLICT", "{edit}");
        assert_eq!(
            code(
                &app.gql(Some(&kiel), SUBMIT, json!({ "i": { "id": id } }))
                    .await
            ),
            "CONFLICT"
        );

        // Every change has its audit entry.
        let uuid =
            pearls_api::graphql::ids::decode(&async_graphql::ID(id.clone()), "Application", "id")
                .expect("uuid");
        let entries = audit_entry::Entity::find()
            .filter(audit_entry::Column::EntityId.eq(uuid.to_string()))
            .count(db)
            .await
            .expect("count");
        assert_eq!(entries, 3, "create, update, submit");

        // Withdraw, then nothing more.
        let body = app
        .gql(Some(&kiel), "mutation($i: ApplicationTransitionInput!) { withdrawApplication(input: $i) { application { status } } }",
            json!({ "i": { "id": id } }))
        .await;
        assert_eq!(
            body["data"]["withdrawApplication"]["application"]["status"], "WITHDRAWN",
            "{body}"
        );
        // The funnel's copy of "withdrawn from" is the history's.
        common::assert_rollups_exact(&app).await;
    }
);

both!(deadlines_are_the_servers, |app: TestApp| async move {
    let w = World::build(&app).await;
    let db = &app.state.db;
    let closed = fixtures::edition(db, 2020, false).await;
    let late =
        fixtures::application(db, closed, w.kiel, "Too late", ApplicationStatus::Draft).await;
    let kiel = app.login("kiel@test.example", PASSWORD).await;
    let body = app
        .gql(
            Some(&kiel),
            SUBMIT,
            json!({ "i": { "id": encode("Application", late).0 } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    let msg = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("2020") && msg.contains("closed on"),
        "the message names the deadline: {msg}"
    );
    // Creating for a closed call is refused the same way.
    let body = app
        .gql(
            Some(&kiel),
            CREATE,
            json!({ "i": { "editionYear": 2020, "title": "x" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    // And nothing was written by the refused submission.
    let status = app
        .gql(
            Some(&kiel),
            "query($id: ID!) { application(id: $id) { status version } }",
            json!({ "id": encode("Application", late).0 }),
        )
        .await;
    assert_eq!(status["data"]["application"]["status"], "DRAFT");
    assert_eq!(status["data"]["application"]["version"], 1);
});

both!(
    nested_application_lists_cost_a_fixed_number_of_statements,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let e = fixtures::edition(db, 2040, true).await;
        for n in 0..25 {
            let org = fixtures::organisation(
                db,
                &format!("Town {n}"),
                "DE",
                OrganisationKind::Municipality,
            )
            .await;
            let a = fixtures::application(
                db,
                e,
                org,
                &format!("Application {n}"),
                ApplicationStatus::Submitted,
            )
            .await;
            fixtures::assign_mentor(db, a, w.mentor).await;
        }
        let token = app.login("coordinator@test.example", PASSWORD).await;
        let q = "query($n: Int!) { applications(first: $n) { totalCount edges { node { title status
        leadMunicipality { name } mentorAssignments { mentor { email } } plan { isFrozen version } latestStatusChange { toStatus changedAt } } } } }";
        let mut counts = Vec::new();
        for n in [1, 20, 100] {
            let before = app.statements();
            let body = app.gql(Some(&token), q, json!({ "n": n })).await;
            assert!(body["errors"].is_null(), "{body}");
            counts.push(app.statements() - before);
        }
        assert_eq!(
            counts[0], counts[1],
            "statements must not grow with the page: {counts:?}"
        );
        assert_eq!(
            counts[1], counts[2],
            "statements must not grow with the page: {counts:?}"
        );
        // The signed-in user, and the planned page: its rows, its count, the municipalities,
        // the assignments with their mentors, the plans and the latest status changes in one
        // statement (tests/performance.rs: six with the planner off), whatever the page size.
        assert_eq!(counts[1], 2, "{counts:?}");
        eprintln!("statements per dashboard page: {counts:?}");
    }
);
