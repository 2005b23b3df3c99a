//! The coordinator's administration over HTTP: organisations and users.

use crate::common;

use common::fixtures::{PASSWORD, World};
use common::{TestApp, code};
use pearls_api::graphql::ids::encode;
use serde_json::json;

const CREATE_ORG: &str = "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { organisation { id name version kind } } }";
const UPDATE_ORG: &str = "mutation($i: UpdateOrganisationInput!) { updateOrganisation(input: $i) { organisation { name version population } } }";

both!(
    coordinators_register_and_correct_organisations,
    |app: TestApp| async move {
        World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        let org = json!({ "kind": "MUNICIPALITY", "name": "Rūjiena", "countryCode": "lv", "population": 3000 });
        let body = app
            .gql(
                Some(&partner),
                CREATE_ORG,
                json!({ "i": { "organisation": org } }),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
        let body = app
            .gql(
                Some(&coordinator),
                CREATE_ORG,
                json!({ "i": { "organisation": org } }),
            )
            .await;
        let created = &body["data"]["createOrganisation"]["organisation"];
        assert_eq!(created["name"], "Rūjiena", "{body}");
        let id = created["id"].as_str().expect("id").to_owned();
        // Same name in the same country: CONFLICT.
        let body = app
            .gql(
                Some(&coordinator),
                CREATE_ORG,
                json!({ "i": { "organisation": org } }),
            )
            .await;
        assert_eq!(code(&body), "CONFLICT", "{body}");
        // A country outside the programme area, a negative population: BAD_USER_INPUT with the field.
        for (bad, field) in [
            (
                json!({ "kind": "MUNICIPALITY", "name": "X", "countryCode": "US" }),
                "organisation.countryCode",
            ),
            (
                json!({ "kind": "MUNICIPALITY", "name": "Y", "countryCode": "LV", "population": -1 }),
                "organisation.population",
            ),
            (
                json!({ "kind": "MUNICIPALITY", "name": " ", "countryCode": "LV" }),
                "organisation.name",
            ),
        ] {
            let body = app
                .gql(
                    Some(&coordinator),
                    CREATE_ORG,
                    json!({ "i": { "organisation": bad } }),
                )
                .await;
            assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field);
        }
        // Update with optimistic locking.
        let fixed = json!({ "kind": "MUNICIPALITY", "name": "Rūjiena", "countryCode": "LV", "population": 3100 });
        let body = app
            .gql(
                Some(&coordinator),
                UPDATE_ORG,
                json!({ "i": { "id": id, "expectedVersion": 1, "organisation": fixed } }),
            )
            .await;
        assert_eq!(
            body["data"]["updateOrganisation"]["organisation"]["version"], 2,
            "{body}"
        );
        let body = app
            .gql(
                Some(&coordinator),
                UPDATE_ORG,
                json!({ "i": { "id": id, "expectedVersion": 1, "organisation": fixed } }),
            )
            .await;
        assert_eq!(code(&body), "CONFLICT", "{body}");
        // The audit log shows both changes, newest first.
        let body = app
        .gql(Some(&coordinator), "query($id: ID!) { auditEntries(filter: {entityId: $id}) { totalCount edges { node { action actor { email } } } } }",
            json!({ "id": id }))
        .await;
        let log = &body["data"]["auditEntries"];
        assert_eq!(log["totalCount"], 2, "{body}");
        assert_eq!(log["edges"][0]["node"]["action"], "organisation.update");
        assert_eq!(
            log["edges"][1]["node"]["actor"]["email"],
            "coordinator@test.example"
        );
    }
);

both!(user_administration, |app: TestApp| async move {
    let w = World::build(&app).await;
    let coordinator = app.login("coordinator@test.example", PASSWORD).await;
    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id email role version organisation { name } } } }";
    // A municipality user must belong to a municipality.
    let body = app
        .gql(Some(&coordinator), create, json!({ "i": { "email": "x@test.example", "name": "X", "role": "MUNICIPALITY",
            "organisationId": encode("Organisation", w.partner_org).0, "password": "long enough password" } }))
        .await;
    assert_eq!(
        (
            code(&body),
            body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("BAD_USER_INPUT", Some("organisationId"))
    );
    for (email, password, field) in [
        ("not-an-email", "long enough password", "email"),
        ("ok@test.example", "short", "password"),
    ] {
        let body = app
            .gql(Some(&coordinator), create, json!({ "i": { "email": email, "name": "X", "role": "MENTOR", "password": password } }))
            .await;
        assert_eq!(
            (
                code(&body),
                body["errors"][0]["extensions"]["field"].as_str()
            ),
            ("BAD_USER_INPUT", Some(field)),
            "{body}"
        );
    }
    let body = app
        .gql(Some(&coordinator), create, json!({ "i": { "email": "Kiel.Two@Test.Example", "name": "Kiel Two", "role": "MUNICIPALITY",
            "organisationId": encode("Organisation", w.kiel).0, "password": "long enough password" } }))
        .await;
    let user = &body["data"]["createUser"]["user"];
    assert_eq!(user["email"], "kiel.two@test.example", "{body}");
    assert_eq!(user["organisation"]["name"], "Kiel");
    let body = app
        .gql(
            Some(&coordinator),
            create,
            json!({ "i": { "email": "kiel.two@test.example", "name": "Dup", "role": "MENTOR",
            "password": "long enough password" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT");
    // The new user signs in; a role change applies to tokens already issued.
    let token = app
        .login("kiel.two@test.example", "long enough password")
        .await;
    let id = user["id"].as_str().expect("id");
    let change = "mutation($i: ChangeUserRoleInput!) { changeUserRole(input: $i) { user { role version } } }";
    let body = app
        .gql(
            Some(&coordinator),
            change,
            json!({ "i": { "id": id, "role": "MENTOR", "expectedVersion": 1,
            "organisationId": encode("Organisation", w.partner_org).0 } }),
        )
        .await;
    assert_eq!(
        body["data"]["changeUserRole"]["user"]["role"], "MENTOR",
        "{body}"
    );
    assert_eq!(
        app.gql(Some(&token), "{ me { role } }", json!({})).await["data"]["me"]["role"],
        "MENTOR"
    );
    let stale = app
        .gql(
            Some(&coordinator),
            change,
            json!({ "i": { "id": id, "role": "PARTNER", "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT");
    // A coordinator cannot lock themselves out.
    let body = app
        .gql(
            Some(&coordinator),
            "mutation($i: DeactivateUserInput!) { deactivateUser(input: $i) { user { active } } }",
            json!({ "i": { "id": encode("User", w.coordinator).0 } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
});

both!(
    nodes_resolve_each_id_through_the_policy,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let ids = json!([
            encode("Application", w.kiel_app).0,
            encode("Application", w.svendborg_app).0,
            encode("Organisation", w.kiel).0,
            "garbage",
            encode("User", w.mentor).0,
        ]);
        let body = app
        .gql(Some(&kiel), "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Application { title } } }", json!({ "ids": ids }))
        .await;
        let nodes = body["data"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), 5, "{body}");
        assert_eq!(nodes[0]["title"], "Kiel culture harbour");
        assert!(nodes[1].is_null() && nodes[3].is_null());
        assert_eq!(nodes[2]["__typename"], "Organisation");
        assert_eq!(nodes[4]["__typename"], "User");
        let errors: Vec<(serde_json::Value, String)> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                (
                    e["path"].clone(),
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect();
        assert!(
            errors.contains(&(json!(["nodes", 1]), "NOT_FOUND".into())),
            "{errors:?}"
        );
        assert!(
            errors.contains(&(json!(["nodes", 3]), "BAD_USER_INPUT".into())),
            "{errors:?}"
        );
    }
);
