//! Shutdown that finishes work: once asked to stop (SIGTERM in production; here the same
//! request through the server's shutdown switch), the server accepts no new connection, closes
//! subscription sockets with 1001 (going away), lets the request in flight finish and answer —
//! its write committed — and then returns `Ok` (the process exits 0).

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::json;

use crate::common::fixtures::{PASSWORD, World};
use crate::common::{Backend, TestApp};

/// The server's in-flight request count, from `/metrics`.
async fn in_flight(app: &TestApp) -> i64 {
    let (_, _, body) = app.download("/metrics", None).await;
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix("pearls_http_requests_in_flight "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1)
}

both!(
    a_shutdown_lets_the_request_in_flight_finish,
    |app: TestApp| async move {
        World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let (mut ws, ack) = app.websocket(Some(&kiel)).await;
        assert_eq!(ack["type"], "connection_ack");
        ws.subscribe(
            "1",
            "subscription { applicationStatusChanged { cursor } }",
            json!({}),
        )
        .await;

        // The test holds the write lock, so the server's write waits: a slow request.
        let own = app.own_connection().await;
        let blocker = pearls_api::db::begin_write(&own).await.expect("begin");
        if app.backend == Backend::Postgres {
            blocker
                .execute_unprepared("LOCK TABLE vocabulary_term IN EXCLUSIVE MODE")
                .await
                .expect("lock");
        }
        assert_eq!(
            own.get_database_backend() == DbBackend::Postgres,
            app.backend == Backend::Postgres
        );

        let slow = app.gql_as(
            Some(&coordinator),
            "mutation($i: CreateVocabularyTermInput!) { createVocabularyTerm(input: $i) { term { name } } }",
            json!({ "i": { "kind": "THEME", "name": "written during shutdown" } }),
        );
        let drive = async {
            // Once the write is in flight, ask the server to stop.
            let mut waited = 0;
            while in_flight(&app).await < 1 {
                waited += 1;
                assert!(waited < 200, "the request never reached the server");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            app.state.shutdown.send_replace(true);
            // The subscriber is told to go elsewhere.
            assert_eq!(ws.next().await["close"], 1001);
            // No new connection is accepted.
            let fresh = awc::Client::builder()
                .timeout(Duration::from_secs(2))
                .finish();
            let mut refused = false;
            for _ in 0..100 {
                if fresh
                    .get(format!("{}/healthz", app.base))
                    .send()
                    .await
                    .is_err()
                {
                    refused = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(refused, "the server still accepts connections");
            // The lock goes: the write in flight proceeds.
            blocker.rollback().await.expect("release");
        };
        let ((status, body), ()) = futures_util::future::join(slow, drive).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"]["createVocabularyTerm"]["term"]["name"], "written during shutdown",
            "{body}"
        );
        let server = app.server.borrow_mut().take().expect("the server task");
        let stopped = tokio::time::timeout(Duration::from_secs(20), server)
            .await
            .expect("the server stops within its grace period")
            .expect("the server task");
        assert!(stopped.is_ok(), "{stopped:?}");
        // The write answered during the shutdown is committed.
        let found = own
            .query_one_raw(sea_orm::Statement::from_string(
                own.get_database_backend(),
                "SELECT COUNT(*) FROM vocabulary_term WHERE name = 'written during shutdown'",
            ))
            .await
            .expect("count")
            .expect("row")
            .try_get_by_index::<i64>(0)
            .expect("count");
        assert_eq!(found, 1);
        own.close().await.ok();
    }
);
