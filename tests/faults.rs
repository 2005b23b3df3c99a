//! Faults are features: a full disk, a read-only database, PostgreSQL backends killed in the
//! middle of transactions, a database that goes away. Whatever the fault, every write the API
//! answered with success is in the database afterwards, failures carry UNAVAILABLE (never
//! INTERNAL_SERVER_ERROR), and the server recovers by itself once the cause is gone.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, code};

const CREATE_TERM: &str = "mutation($i: CreateVocabularyTermInput!) { createVocabularyTerm(input: $i) { term { id name } } }";

/// What a run of concurrent writes got back.
#[derive(Default)]
struct Outcome {
    /// Names of the terms whose creation was answered with success.
    acknowledged: Vec<String>,
    /// (HTTP status, code, reason) of every refused write.
    refused: Vec<(u16, String, String)>,
}

/// `workers` clients each create terms one after another through `node` until `enough` says
/// so (it sees the outcome so far), or each has sent `max_each`.
async fn concurrent_writes(
    node: &TestApp,
    token: &str,
    prefix: &str,
    workers: usize,
    max_each: usize,
    enough: impl Fn(&Outcome) -> bool,
) -> Outcome {
    let outcome = RefCell::new(Outcome::default());
    let stop = Cell::new(false);
    let worker = |w: usize| {
        let outcome = &outcome;
        let stop = &stop;
        let enough = &enough;
        async move {
            for i in 0..max_each {
                if stop.get() {
                    break;
                }
                let name = format!("{prefix} {w}-{i}");
                let (status, body) = node
                    .gql_as(
                        Some(token),
                        CREATE_TERM,
                        json!({ "i": { "kind": "THEME", "name": name } }),
                    )
                    .await;
                let mut o = outcome.borrow_mut();
                if body["data"]["createVocabularyTerm"]["term"]["name"] == json!(name) {
                    assert_eq!(status, 200, "{body}");
                    o.acknowledged.push(name);
                } else {
                    o.refused.push((
                        status,
                        code(&body).to_owned(),
                        body["errors"][0]["extensions"]["reason"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned(),
                    ));
                }
                if enough(&o) {
                    stop.set(true);
                }
            }
        }
    };
    futures_util::future::join_all((0..workers).map(worker)).await;
    outcome.into_inner()
}

/// Every acknowledged term is committed: a connection of the test's own, opened after the
/// fact, finds each of them (and its audit entry).
async fn assert_all_committed(app: &TestApp, acknowledged: &[String]) {
    let db = app.own_connection().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM vocabulary_term",
        ))
        .await
        .expect("read the terms");
    let names: std::collections::HashSet<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("name"))
        .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|n| !names.contains(*n))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes are not in the database: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    let audited = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM audit_entry WHERE action = 'vocabularyTerm.create'",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get_by_index::<i64>(0)
        .expect("count");
    assert!(
        audited as usize >= acknowledged.len(),
        "{audited} audit entries for {} terms",
        acknowledged.len()
    );
    db.close().await.ok();
}

/// SQLite's page count and the page count of its free list.
async fn pages(db: &sea_orm::DatabaseConnection) -> (u64, u64) {
    let one = |sql: &'static str| async move {
        db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .expect("pragma")
            .expect("row")
            .try_get_by_index::<i64>(0)
            .expect("number") as u64
    };
    (
        one("PRAGMA page_count").await,
        one("PRAGMA freelist_count").await,
    )
}

#[actix_web::test]
async fn a_full_sqlite_database_loses_no_acknowledged_write_and_recovers() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let token = app.coordinator().await;
    // The test's own connection (no quota) takes room with filler rows, then the node under
    // test gets a quota of exactly the file's size: it can grow no further, so its writes
    // soon find the storage full.
    let own = app.own_connection().await;
    own.execute_unprepared(
        "CREATE TABLE fault_filler (id INTEGER PRIMARY KEY, b BLOB);
         INSERT INTO fault_filler (b) SELECT zeroblob(3500) FROM (SELECT 1 UNION ALL SELECT 2
           UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6
           UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10);
         INSERT INTO fault_filler (b) SELECT b FROM fault_filler;
         INSERT INTO fault_filler (b) SELECT b FROM fault_filler;
         INSERT INTO fault_filler (b) SELECT b FROM fault_filler;",
    )
    .await
    .expect("filler");
    own.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint");
    let (page_count, free) = pages(&own).await;
    assert_eq!(free, 0, "no free pages before the quota");
    let node = app
        .node_with(|c| {
            c.sqlite_max_bytes = Some(page_count * pearls_api::db::SQLITE_PAGE_BYTES);
        })
        .await;

    let full = concurrent_writes(&node, &token, "full", 8, 60, |o| o.refused.len() >= 40).await;
    assert!(
        full.refused.len() >= 40,
        "the quota was never reached: {} writes acknowledged",
        full.acknowledged.len()
    );
    for (status, code, reason) in &full.refused {
        assert_eq!(
            (*status, code.as_str()),
            (503, "UNAVAILABLE"),
            "reason {reason}"
        );
        assert!(
            ["STORAGE_FULL", "BUSY"].contains(&reason.as_str()),
            "{reason}"
        );
    }
    assert!(
        full.refused.iter().any(|r| r.2 == "STORAGE_FULL"),
        "the storage-full reason is named"
    );
    // Reads go on while the storage is full.
    let read = node
        .gql(
            Some(&token),
            "{ vocabulary(kind: THEME) { id } }",
            json!({}),
        )
        .await;
    assert!(read["errors"].is_null(), "{read}");

    // Space comes back (the filler is deleted: its pages go to the free list); the node
    // recovers without a restart, and every write succeeds again.
    own.execute_unprepared("DELETE FROM fault_filler")
        .await
        .expect("free the space");
    let after = concurrent_writes(&node, &token, "after", 4, 10, |_| false).await;
    assert!(
        after.refused.is_empty(),
        "writes after the space came back were refused: {:?}",
        after.refused
    );
    assert_eq!(after.acknowledged.len(), 40);
    own.close().await.ok();

    let mut acknowledged = full.acknowledged;
    acknowledged.extend(after.acknowledged);
    assert_all_committed(&app, &acknowledged).await;

    // And after a restart of the node that took the writes: a new server on the same file
    // lists every acknowledged term.
    node.state.shutdown.send_replace(true);
    let stopped = node.server.borrow_mut().take().expect("server task");
    assert!(stopped.await.expect("joined").is_ok());
    let restarted = app.node_with(|_| {}).await;
    let listed = restarted.theme_names(&token).await;
    assert!(acknowledged.iter().all(|n| listed.contains(n)));
}

#[actix_web::test]
async fn a_read_only_sqlite_database_serves_reads_and_refuses_writes_cleanly() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let token = app.coordinator().await;
    let read_only = app
        .node_with(|c| c.database_url = c.database_url().replace("mode=rwc", "mode=ro").into())
        .await;
    let read = read_only
        .gql(Some(&token), "{ me { email } }", json!({}))
        .await;
    assert!(read["data"]["me"]["email"].is_string(), "{read}");
    let (status, body) = read_only
        .gql_as(
            Some(&token),
            CREATE_TERM,
            json!({ "i": { "kind": "THEME", "name": "never written" } }),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(code(&body), "UNAVAILABLE");
    assert_eq!(body["errors"][0]["extensions"]["reason"], "READ_ONLY");
    // The same write through a writable node succeeds.
    let ok = app
        .gql(
            Some(&token),
            CREATE_TERM,
            json!({ "i": { "kind": "THEME", "name": "written" } }),
        )
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
}

#[actix_web::test]
async fn postgres_backends_killed_mid_transaction_lose_no_acknowledged_write() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let token = app.coordinator().await;
    let killer = app.own_connection().await;
    let kills = Cell::new(0u32);
    let writes = concurrent_writes(&app, &token, "killed", 6, 40, |_| false);
    let kill_loop = async {
        // Every backend of the test database but the killer's own, over and over, while the
        // writers run: statements, commits and idle pooled connections are all hit.
        for _ in 0..25 {
            tokio::time::sleep(Duration::from_millis(40)).await;
            let killed = killer
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                ))
                .await
                .expect("terminate backends");
            kills.set(kills.get() + killed.len() as u32);
        }
    };
    let (outcome, ()) = futures_util::future::join(writes, kill_loop).await;
    assert!(kills.get() > 0, "no backend was killed");
    assert!(
        !outcome.refused.is_empty(),
        "killing backends refused no write ({} acknowledged)",
        outcome.acknowledged.len()
    );
    for (status, code, reason) in &outcome.refused {
        assert_eq!(
            (*status, code.as_str()),
            (503, "UNAVAILABLE"),
            "reason {reason}"
        );
    }
    // The pool replaces the killed connections by itself.
    let after = concurrent_writes(&app, &token, "after", 3, 5, |_| false).await;
    assert!(after.refused.is_empty(), "{:?}", after.refused);
    killer.close().await.ok();
    let mut acknowledged = outcome.acknowledged;
    acknowledged.extend(after.acknowledged);
    assert_all_committed(&app, &acknowledged).await;
}

/// The answer of `/readyz` and how long it took.
async fn readyz(node: &TestApp) -> (u16, Duration) {
    let started = Instant::now();
    let (status, _, _) = node.download("/readyz", None).await;
    (status, started.elapsed())
}

#[actix_web::test]
async fn a_postgres_outage_is_answered_fast_and_recovers_without_restart() {
    let Some(db) = crate::common::TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let Some(upstream) = db
        .url
        .strip_prefix("postgres://postgres@")
        .and_then(|rest| rest.split('/').next())
        .and_then(|host| host.parse().ok())
    else {
        eprintln!(
            "SKIPPED: the outage test needs PEARLS_TEST_POSTGRES_URL as postgres://postgres@<ip>:<port>"
        );
        return;
    };
    let proxy = crate::common::proxy::Proxy::start(upstream).await;
    let through_proxy = db
        .url
        .replace(&upstream.to_string(), &format!("127.0.0.1:{}", proxy.port));
    let app = TestApp::on_database(db, Backend::Postgres, move |c| {
        c.database_url = through_proxy.into();
    })
    .await;
    let w = crate::common::fixtures::World::build(&app).await;
    let token = app
        .login(
            "coordinator@test.example",
            crate::common::fixtures::PASSWORD,
        )
        .await;
    let before = app
        .gql(
            Some(&token),
            CREATE_TERM,
            json!({ "i": { "kind": "THEME", "name": "before the outage" } }),
        )
        .await;
    assert!(before["errors"].is_null(), "{before}");
    assert_eq!(readyz(&app).await.0, 200);
    // A subscriber connected before the outage.
    let kiel = app
        .login("kiel@test.example", crate::common::fixtures::PASSWORD)
        .await;
    let (mut ws, ack) = app.websocket(Some(&kiel)).await;
    assert_eq!(ack["type"], "connection_ack");
    ws.subscribe(
        "1",
        "subscription { applicationStatusChanged { cursor change { toStatus } } }",
        json!({}),
    )
    .await;

    proxy.cut();
    // Every answer comes quickly (the pool's acquire timeout is 750 ms; the bound leaves room
    // for a loaded machine) and says what happened.
    let bound = Duration::from_millis(2500);
    for (query, variables) in [
        ("{ vocabulary(kind: THEME) { id } }", json!({})),
        (
            CREATE_TERM,
            json!({ "i": { "kind": "THEME", "name": "during the outage" } }),
        ),
    ] {
        let started = Instant::now();
        let (status, body) = app.gql_as(Some(&token), query, variables).await;
        let took = started.elapsed();
        assert_eq!(status, 503, "{body}");
        assert!(took < bound, "answered after {took:?}");
        assert_eq!(code(&body), "UNAVAILABLE", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["reason"],
            "DATABASE_UNREACHABLE"
        );
    }
    let (status, took) = readyz(&app).await;
    assert_eq!(status, 503);
    assert!(took < bound, "/readyz answered after {took:?}");
    assert_eq!(app.download("/healthz", None).await.0, 200);

    proxy.restore().await;
    let mut recovered: Option<Value> = None;
    for _ in 0..40 {
        let body = app
            .gql(
                Some(&token),
                CREATE_TERM,
                json!({ "i": { "kind": "THEME", "name": "after the outage" } }),
            )
            .await;
        if body["errors"].is_null() {
            recovered = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered.is_some(), "the node did not recover by itself");
    assert_eq!(readyz(&app).await.0, 200);
    // The subscription stayed open through the outage, and an event after it arrives (the
    // node's LISTEN connection came back, or its subscribers read the log).
    app.submit_application(&kiel, w.kiel_app).await;
    let msg = ws.next().await;
    assert_eq!(
        msg["payload"]["data"]["applicationStatusChanged"]["change"]["toStatus"], "SUBMITTED",
        "{msg}"
    );
    assert_all_committed(
        &app,
        &[
            "before the outage".to_owned(),
            "after the outage".to_owned(),
        ],
    )
    .await;
}

/// The read lane's connections now, from `/metrics`: (in use, idle).
async fn lane_connections(node: &TestApp) -> (u64, u64) {
    let (status, _, body) = node.download("/metrics", None).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(body).expect("text");
    let gauge = |state: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "pearls_db_read_lane_connections{{state=\"{state}\"}} "
                ))
            })
            .unwrap_or_else(|| panic!("no read-lane gauge for {state}:\n{text}"))
            .trim()
            .parse::<u64>()
            .expect("a number")
    };
    (gauge("in_use"), gauge("idle"))
}

const ME: &str = "{ me { email role } }";

/// `n` concurrent `me` requests, every one answered with the caller; the statements the node
/// ran meanwhile.
async fn all_answered(node: &TestApp, token: &str, n: usize) -> u64 {
    let before = node.statements();
    let answers =
        futures_util::future::join_all((0..n).map(|_| node.gql_as(Some(token), ME, json!({}))))
            .await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["data"]["me"]["role"], "COORDINATOR", "{body}");
    }
    node.statements() - before
}

// The authenticating statement runs on the read lane (`db/lane.rs`), whose connections are
// never tested before use. Its size bounds the connections it holds however many requests
// come at once, and switched off (0) every statement runs through the pool as before.
both!(
    the_read_lane_holds_at_most_its_size,
    |app: TestApp| async move {
        let token = app.coordinator().await;
        for _ in 0..3 {
            // One statement each, the authenticating one, whichever way it runs.
            assert_eq!(all_answered(&app, &token, 12).await, 12);
            let (in_use, idle) = lane_connections(&app).await;
            assert_eq!(in_use, 0);
            assert!((1..=3).contains(&idle), "{idle} idle lane connections");
        }
        let off = app.node_with(|c| c.db_read_lane = Some(0)).await;
        assert_eq!(all_answered(&off, &token, 12).await, 12);
        assert_eq!(lane_connections(&off).await, (0, 0));
    }
);

/// The lane's connections are not pinged before use, so PostgreSQL ending them while they sit
/// idle (a restart, a failover, an administrator) must still cost no request its answer: the
/// broken connection's statement is a read, run again on a new connection.
#[actix_web::test]
async fn postgres_backends_killed_under_the_idle_read_lane_cost_no_answer() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let token = app.coordinator().await;
    let killer = app.own_connection().await;
    for round in 0..3 {
        all_answered(&app, &token, 12).await;
        let (_, idle) = lane_connections(&app).await;
        assert!(idle >= 1, "round {round}: the lane keeps its connections");
        let killed = killer
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            ))
            .await
            .expect("terminate backends");
        // Every pooled, listening and lane connection of the node, each waited for until gone.
        assert!(
            killed.len() as u64 > idle,
            "round {round}: {} backends ended",
            killed.len()
        );
        all_answered(&app, &token, 12).await;
    }
    killer.close().await.ok();
}
