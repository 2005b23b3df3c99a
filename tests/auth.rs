//! Sign-in over HTTP: login, uniform failures, the throttle, refresh rotation with reuse
//! detection, logout, and every way an access token can be wrong.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use common::fixtures::{PASSWORD, World};
use common::{TEST_SECRET, TestApp, code};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pearls_api::graphql::ids::encode;
use serde_json::{Value, json};

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken expiresAt user { email role organisation { name } } } }";
const REFRESH: &str =
    "mutation($i: RefreshSessionInput!) { refreshSession(input: $i) { accessToken refreshToken } }";
const ME: &str = "{ me { email role organisation { name } } }";

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql(
        None,
        LOGIN,
        json!({ "i": { "email": email, "password": password } }),
    )
    .await
}

both!(login_me_and_uniform_failures, |app: TestApp| async move {
    World::build(&app).await;
    let ok = login(&app, "Kiel@Test.Example ", PASSWORD).await;
    let session = &ok["data"]["login"];
    assert_eq!(session["user"]["email"], "kiel@test.example", "{ok}");
    assert_eq!(session["user"]["role"], "MUNICIPALITY");
    assert_eq!(session["user"]["organisation"]["name"], "Kiel");
    assert!(
        session["expiresAt"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z') || s.contains("+00:00"))
    );
    let token = session["accessToken"].as_str().expect("token");
    let me = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "kiel@test.example", "{me}");

    // Wrong password and unknown account: the same answer.
    let wrong = login(&app, "kiel@test.example", "wrong password!").await;
    let unknown = login(&app, "nobody@test.example", PASSWORD).await;
    for body in [&wrong, &unknown] {
        assert_eq!(code(body), "UNAUTHENTICATED", "{body}");
        assert_eq!(body["errors"][0]["message"], "invalid credentials");
        assert!(body["data"]["login"].is_null());
    }
});

both!(
    failed_logins_are_throttled_per_account,
    |app: TestApp| async move {
        World::build(&app).await;
        for _ in 0..5 {
            assert_eq!(
                code(&login(&app, "mentor@test.example", "nope nope nope").await),
                "UNAUTHENTICATED"
            );
        }
        // Even the right password is refused now, with a retry hint.
        let body = login(&app, "mentor@test.example", PASSWORD).await;
        assert_eq!(code(&body), "RATE_LIMITED", "{body}");
        assert!(
            body["errors"][0]["extensions"]["retryAfterSeconds"]
                .as_u64()
                .is_some()
        );
        // Other accounts are not affected (below the per-address limit).
        assert!(
            login(&app, "kiel@test.example", PASSWORD).await["data"]["login"]["accessToken"]
                .is_string()
        );
    }
);

both!(
    concurrent_guesses_cannot_slip_under_the_limit,
    |app: TestApp| async move {
        World::build(&app).await;
        // Twelve wrong guesses at once: each attempt is recorded before its password is checked,
        // so no more than the limit (5) are ever checked; the rest are RATE_LIMITED.
        let guesses = (0..12).map(|n| {
            let app = &app;
            async move { login(app, "mentor@test.example", &format!("guess number {n}")).await }
        });
        let bodies = futures_util::future::join_all(guesses).await;
        let checked = bodies
            .iter()
            .filter(|b| code(b) == "UNAUTHENTICATED")
            .count();
        let limited = bodies.iter().filter(|b| code(b) == "RATE_LIMITED").count();
        assert_eq!(checked + limited, 12, "{bodies:?}");
        assert!(checked <= 5, "{checked} guesses were checked: {bodies:?}");
        // A long e-mail cannot break the throttle (keys are digests); one past any e-mail's
        // length is refused as input before anything runs.
        let long = format!("{}@test.example", "a".repeat(240));
        assert_eq!(
            code(&login(&app, &long, "whatever it is").await),
            "UNAUTHENTICATED"
        );
        let longer = format!("{}@test.example", "a".repeat(400));
        assert_eq!(
            code(&login(&app, &longer, "whatever it is").await),
            "BAD_USER_INPUT"
        );
    }
);

mod per_address {
    use super::*;

    async fn run(backend: common::Backend) {
        let Some(app) =
            TestApp::spawn_with(backend, |c| c.login_max_failures_per_address = 3).await
        else {
            return;
        };
        World::build(&app).await;
        for n in 0..3 {
            let body = login(&app, &format!("unknown{n}@test.example"), "whatever it is").await;
            assert_eq!(code(&body), "UNAUTHENTICATED");
        }
        let body = login(&app, "kiel@test.example", PASSWORD).await;
        assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    }

    #[actix_web::test]
    async fn sqlite() {
        run(common::Backend::Sqlite).await
    }

    #[actix_web::test]
    async fn postgres() {
        run(common::Backend::Postgres).await
    }
}

both!(
    refresh_rotates_and_reuse_revokes_the_family,
    |app: TestApp| async move {
        World::build(&app).await;
        let first = login(&app, "partner@test.example", PASSWORD).await;
        let r1 = first["data"]["login"]["refreshToken"]
            .as_str()
            .expect("refresh")
            .to_owned();

        let second = app
            .gql(None, REFRESH, json!({ "i": { "refreshToken": r1 } }))
            .await;
        let r2 = second["data"]["refreshSession"]["refreshToken"]
            .as_str()
            .expect("rotated")
            .to_owned();
        let access2 = second["data"]["refreshSession"]["accessToken"]
            .as_str()
            .expect("access")
            .to_owned();
        assert_ne!(r1, r2);
        assert_eq!(
            app.gql(Some(&access2), ME, json!({})).await["data"]["me"]["email"],
            "partner@test.example"
        );

        // The old token is dead, and presenting it revokes the new one too.
        let reuse = app
            .gql(None, REFRESH, json!({ "i": { "refreshToken": r1 } }))
            .await;
        assert_eq!(code(&reuse), "UNAUTHENTICATED");
        let after = app
            .gql(None, REFRESH, json!({ "i": { "refreshToken": r2 } }))
            .await;
        assert_eq!(
            code(&after),
            "UNAUTHENTICATED",
            "the family must be revoked: {after}"
        );

        // A fresh login is a new family and works.
        let again = login(&app, "partner@test.example", PASSWORD).await;
        let r3 = again["data"]["login"]["refreshToken"]
            .as_str()
            .expect("refresh")
            .to_owned();
        let access3 = again["data"]["login"]["accessToken"]
            .as_str()
            .expect("access")
            .to_owned();
        // Logout ends it.
        let out = app
            .gql(
                Some(&access3),
                "mutation($i: LogoutInput!) { logout(input: $i) { success } }",
                json!({ "i": { "refreshToken": r3 } }),
            )
            .await;
        assert_eq!(out["data"]["logout"]["success"], true, "{out}");
        assert_eq!(
            code(
                &app.gql(None, REFRESH, json!({ "i": { "refreshToken": r3 } }))
                    .await
            ),
            "UNAUTHENTICATED"
        );
        // The session's access token stops at once, not when it expires; the reused family's
        // access token too.
        assert_eq!(
            code(&app.gql(Some(&access3), ME, json!({})).await),
            "UNAUTHENTICATED",
            "an access token outlived its logout"
        );
        assert_eq!(
            code(&app.gql(Some(&access2), ME, json!({})).await),
            "UNAUTHENTICATED",
            "an access token outlived its family's revocation"
        );

        // `everywhere` ends every session of the user, and only theirs.
        let a = app.login("partner@test.example", PASSWORD).await;
        let b = app.login("partner@test.example", PASSWORD).await;
        let other = app.login("coordinator@test.example", PASSWORD).await;
        assert!(app.gql(Some(&b), ME, json!({})).await["errors"].is_null());
        let out = app
            .gql(
                Some(&a),
                "mutation { logout(input: {everywhere: true}) { success } }",
                json!({}),
            )
            .await;
        assert_eq!(out["data"]["logout"]["success"], true, "{out}");
        for t in [&a, &b] {
            assert_eq!(
                code(&app.gql(Some(t), ME, json!({})).await),
                "UNAUTHENTICATED"
            );
        }
        assert!(app.gql(Some(&other), ME, json!({})).await["errors"].is_null());
        assert_eq!(
            code(
                &app.gql(None, REFRESH, json!({ "i": { "refreshToken": "garbage" } }))
                    .await
            ),
            "UNAUTHENTICATED"
        );
    }
);

fn claims(sub: &str, iat: i64, nbf: i64, exp: i64, iss: &str, aud: &str) -> Value {
    json!({ "sub": sub, "role": "COORDINATOR", "org": null, "iat": iat, "nbf": nbf, "exp": exp,
            "iss": iss, "aud": aud, "jti": "t" })
}

/// The session id (`sid`) an access token we issued carries.
fn session_of(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json");
    claims["sid"].as_str().expect("a session id").to_owned()
}

fn sign(alg: Algorithm, kid: Option<&str>, secret: &str, c: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, c, &EncodingKey::from_secret(secret.as_bytes())).expect("sign")
}

/// The claims `c` naming the session `sid`.
fn with_sid(mut c: Value, sid: &str) -> Value {
    c["sid"] = json!(sid);
    c
}

/// The issuer and audience of the test configuration's tokens.
const ISSUER_AND_AUDIENCE: (&str, &str) = ("bsr-cultural-pearls", "pearls-portal");

both!(
    every_bad_access_token_is_unauthenticated,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let sub = w.coordinator.to_string();
        let now = Utc::now().timestamp();
        let sid = a_right_token_is_good_only_with_a_live_session(&app, &sub, now).await;
        every_wrong_token_is_refused_with_401(&app, &w, &sub, now, &sid).await;
        an_expired_token_may_refresh_but_do_nothing_else(&app, &sub, now).await;
        a_deactivated_users_token_stops_working_at_once(&app, &w).await;
    }
);

/// A token signed with the right key and naming a live session is accepted; returns the session.
async fn a_right_token_is_good_only_with_a_live_session(
    app: &TestApp,
    sub: &str,
    now: i64,
) -> String {
    let (iss, aud) = ISSUER_AND_AUDIENCE;
    // Our tokens belong to a session (a refresh-token family): a token signed with the
    // right key is good only with a live one.
    let issued = app.login("coordinator@test.example", PASSWORD).await;
    let sid = session_of(&issued);
    let good = sign(
        Algorithm::HS256,
        None,
        TEST_SECRET,
        &with_sid(claims(sub, now, now, now + 600, iss, aud), &sid),
    );
    assert_eq!(
        app.gql(Some(&good), ME, json!({})).await["data"]["me"]["role"],
        "COORDINATOR"
    );
    sid
}

/// Every way a token can be wrong answers 401 UNAUTHENTICATED.
async fn every_wrong_token_is_refused_with_401(
    app: &TestApp,
    w: &World,
    sub: &str,
    now: i64,
    sid: &str,
) {
    let (iss, aud) = ISSUER_AND_AUDIENCE;
    let none = {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(claims(sub, now, now, now + 600, iss, aud).to_string());
        format!("{h}.{p}.")
    };
    let cases = [
        ("alg none", none),
        (
            "wrong signature",
            sign(
                Algorithm::HS256,
                None,
                "another-secret-another-secret-another-secret",
                &claims(sub, now, now, now + 600, iss, aud),
            ),
        ),
        (
            "wrong algorithm",
            sign(
                Algorithm::HS512,
                None,
                TEST_SECRET,
                &claims(sub, now, now, now + 600, iss, aud),
            ),
        ),
        (
            "expired",
            sign(
                Algorithm::HS256,
                None,
                TEST_SECRET,
                &claims(sub, now - 7200, now - 7200, now - 3600, iss, aud),
            ),
        ),
        (
            "not yet valid",
            sign(
                Algorithm::HS256,
                None,
                TEST_SECRET,
                &claims(sub, now, now + 3600, now + 7200, iss, aud),
            ),
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::HS256,
                None,
                TEST_SECRET,
                &claims(sub, now, now, now + 600, "evil", aud),
            ),
        ),
        (
            "wrong audience",
            sign(
                Algorithm::HS256,
                None,
                TEST_SECRET,
                &claims(sub, now, now, now + 600, iss, "other"),
            ),
        ),
        (
            "unknown kid",
            sign(
                Algorithm::HS256,
                Some("who-knows"),
                TEST_SECRET,
                &claims(sub, now, now, now + 600, iss, aud),
            ),
        ),
        (
            "unknown user",
            sign(
                Algorithm::HS256,
                None,
                TEST_SECRET,
                &claims(
                    &uuid::Uuid::now_v7().to_string(),
                    now,
                    now,
                    now + 600,
                    iss,
                    aud,
                ),
            ),
        ),
        (
            "no session",
            sign(
                Algorithm::HS256,
                None,
                TEST_SECRET,
                &claims(sub, now, now, now + 600, iss, aud),
            ),
        ),
        (
            "unknown session",
            sign(
                Algorithm::HS256,
                None,
                TEST_SECRET,
                &with_sid(
                    claims(sub, now, now, now + 600, iss, aud),
                    &uuid::Uuid::now_v7().to_string(),
                ),
            ),
        ),
        (
            "another user's session",
            sign(
                Algorithm::HS256,
                None,
                TEST_SECRET,
                &with_sid(
                    claims(&w.partner.to_string(), now, now, now + 600, iss, aud),
                    sid,
                ),
            ),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (name, token) in cases {
        let (status, body) = app.gql_as(Some(&token), ME, json!({})).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(code(&body), "UNAUTHENTICATED", "{name}: {body}");
    }
}

/// An expired token in the header still lets the client refresh, and nothing else.
async fn an_expired_token_may_refresh_but_do_nothing_else(app: &TestApp, sub: &str, now: i64) {
    let (iss, aud) = ISSUER_AND_AUDIENCE;
    // A client holding an expired access token can still refresh (or sign in) with it in the
    // header; anything else in the same request is refused as before.
    let expired = sign(
        Algorithm::HS256,
        None,
        TEST_SECRET,
        &claims(sub, now - 7200, now - 7200, now - 3600, iss, aud),
    );
    let session = login(app, "partner@test.example", PASSWORD).await;
    let refresh = session["data"]["login"]["refreshToken"].clone();
    let (status, body) = app
        .gql_as(
            Some(&expired),
            REFRESH,
            json!({ "i": { "refreshToken": refresh } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["refreshSession"]["accessToken"].is_string(),
        "{body}"
    );
    let mixed = "mutation($i: RefreshSessionInput!) { refreshSession(input: $i) { accessToken } logout(input: {everywhere: true}) { success } }";
    let (status, body) = app
        .gql_as(
            Some(&expired),
            mixed,
            json!({ "i": { "refreshToken": "x" } }),
        )
        .await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body}");
}

/// A deactivated user's token stops working at once, and the user cannot sign in again.
async fn a_deactivated_users_token_stops_working_at_once(app: &TestApp, w: &World) {
    // A deactivated user's token stops working at once, and they cannot sign in again.
    let coordinator = app.login("coordinator@test.example", PASSWORD).await;
    let mentor = app.login("mentor@test.example", PASSWORD).await;
    let body = app
        .gql(
            Some(&coordinator),
            "mutation($i: DeactivateUserInput!) { deactivateUser(input: $i) { user { active } } }",
            json!({ "i": { "id": encode("User", w.mentor).0 } }),
        )
        .await;
    assert_eq!(
        body["data"]["deactivateUser"]["user"]["active"], false,
        "{body}"
    );
    let (status, body) = app.gql_as(Some(&mentor), ME, json!({})).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));
    assert_eq!(
        code(&login(app, "mentor@test.example", PASSWORD).await),
        "UNAUTHENTICATED"
    );
}

fn key(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

/// EdDSA with key files, plus an external identity provider's JWKS: tokens of both are
/// accepted, HS256 tokens no longer are (the allow-list is the configured algorithm).
async fn eddsa_key_files_and_an_external_jwks(backend: common::Backend) {
    use pearls_api::config::JwtAlgorithm;
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.jwt_algorithm = JwtAlgorithm::EdDsa;
        c.jwt_private_key_file = Some(key("ed25519-private.pem"));
        c.jwt_public_key_file = Some(key("ed25519-public.pem"));
        c.jwt_kid = Some("pearls-1".into());
        c.jwks_file = Some(key("idp-jwks.json"));
    })
    .await
    else {
        return;
    };
    let w = World::build(&app).await;
    // Our own login issues EdDSA tokens that work.
    let token = app.login("kiel@test.example", PASSWORD).await;
    let header = jsonwebtoken::decode_header(&token).expect("header");
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (Algorithm::EdDSA, Some("pearls-1"))
    );
    assert_eq!(
        app.gql(Some(&token), ME, json!({})).await["data"]["me"]["email"],
        "kiel@test.example"
    );

    let now = Utc::now().timestamp();
    let c = claims(
        &w.partner.to_string(),
        now,
        now,
        now + 600,
        "bsr-cultural-pearls",
        "pearls-portal",
    );
    let sign_ed = |file: &str, kid: &str| {
        let mut h = Header::new(Algorithm::EdDSA);
        h.kid = Some(kid.into());
        let pem = std::fs::read(key(file)).expect("key");
        jsonwebtoken::encode(&h, &c, &EncodingKey::from_ed_pem(&pem).expect("pem")).expect("sign")
    };
    // The identity provider's token, by its kid.
    let idp = sign_ed("idp-private.pem", "idp-1");
    assert_eq!(
        app.gql(Some(&idp), ME, json!({})).await["data"]["me"]["email"],
        "partner@test.example"
    );
    // The provider's key under our kid, our key under theirs, and HS256: all refused.
    for (name, token) in [
        ("idp key, our kid", sign_ed("idp-private.pem", "pearls-1")),
        ("our key, idp kid", sign_ed("ed25519-private.pem", "idp-1")),
        (
            "HS256",
            sign(Algorithm::HS256, Some("pearls-1"), TEST_SECRET, &c),
        ),
    ] {
        let (status, body) = app.gql_as(Some(&token), ME, json!({})).await;
        assert_eq!(
            (status, code(&body)),
            (401, "UNAUTHENTICATED"),
            "{name}: {body}"
        );
    }
}

#[actix_web::test]
async fn eddsa_key_files_and_an_external_jwks_sqlite() {
    eddsa_key_files_and_an_external_jwks(common::Backend::Sqlite).await
}

#[actix_web::test]
async fn eddsa_key_files_and_an_external_jwks_postgres() {
    eddsa_key_files_and_an_external_jwks(common::Backend::Postgres).await
}

both!(
    the_janitor_sweeps_expired_throttle_rows_and_events,
    tweak = |c| c.sweep_interval_secs = 1,
    |app: TestApp| async move {
        use entity::{live_event, login_failure};
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
        let db = &app.state.db;

        let window = app.state.config.login_window_secs as i64;
        // Failures under keys nobody tries again (random e-mails), one within the window.
        for (key, age) in [("account:gone", window * 2), ("account:recent", 5)] {
            login_failure::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                throttle_key: Set(key.into()),
                failed_at: Set(Utc::now() - chrono::Duration::seconds(age)),
            }
            .insert(db)
            .await
            .expect("failure row");
        }
        live_event::ActiveModel {
            occurred_at: Set(Utc::now() - chrono::Duration::hours(25)),
            payload: Set("{}".into()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("event row");
        let mut swept = false;
        for _ in 0..100 {
            let failures = login_failure::Entity::find()
                .count(db)
                .await
                .expect("count");
            let events = live_event::Entity::find().count(db).await.expect("count");
            if failures == 1 && events == 0 {
                swept = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(swept, "the janitor did not sweep within 10 s");
        let left = login_failure::Entity::find()
            .one(db)
            .await
            .expect("read")
            .expect("the recent failure stays");
        assert_eq!(left.throttle_key, "account:recent");
    }
);
