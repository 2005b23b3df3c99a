//! Backups of the embedded database while the server runs: a backup taken during concurrent
//! writes holds every write acknowledged before it started; a restore checks the copy first
//! and refuses a damaged one, or one from a newer version, without touching anything.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::time::Instant;

use pearls_api::backup::{backup, restore};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::json;

use crate::common::{Backend, TestApp, code};

const CREATE_TERM: &str =
    "mutation($i: CreateVocabularyTermInput!) { createVocabularyTerm(input: $i) { term { id } } }";

/// Creates terms named `{prefix} {n}` one after another; returns the acknowledged names.
async fn write(app: &TestApp, token: &str, prefix: &str, n: usize) -> Vec<String> {
    write_logged(app, token, prefix, n, &RefCell::default()).await
}

/// As [`write`], also noting in `log` when each write was acknowledged.
async fn write_logged(
    app: &TestApp,
    token: &str,
    prefix: &str,
    n: usize,
    log: &RefCell<Vec<(String, Instant)>>,
) -> Vec<String> {
    let mut acked = Vec::new();
    for i in 0..n {
        let name = format!("{prefix} {i}");
        let body = app
            .gql(
                Some(token),
                CREATE_TERM,
                json!({ "i": { "kind": "THEME", "name": name } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        log.borrow_mut().push((name.clone(), Instant::now()));
        acked.push(name);
    }
    acked
}

async fn term_names(url: &str) -> HashSet<String> {
    let db = Database::connect(url).await.expect("open");
    let names = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM vocabulary_term",
        ))
        .await
        .expect("terms")
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("name"))
        .collect();
    db.close().await.ok();
    names
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "pearls_{name}_{}.db",
        uuid::Uuid::now_v7().simple()
    ))
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[actix_web::test]
async fn a_backup_during_writes_restores_every_earlier_write() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let token = app.coordinator().await;
    let before = write(&app, &token, "before", 25).await;

    // The backup starts while four clients keep writing.
    let file = temp("backup");
    let log = RefCell::new(Vec::new());
    let started = Cell::new(None);
    let prefixes: Vec<String> = (0..4).map(|w| format!("during {w}")).collect();
    let writers = futures_util::future::join_all(
        prefixes
            .iter()
            .map(|p| write_logged(&app, &token, p, 25, &log)),
    );
    let backing_up = async {
        while log.borrow().len() < 20 {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        started.set(Some(Instant::now()));
        backup(&app.state.config, &file).await
    };
    let (report, _) = futures_util::future::join(backing_up, writers).await;
    let report = report.expect("backup");
    assert!(report.pending.is_empty(), "{report:?}");
    assert!(report.bytes > 0);
    let started = started.get().expect("the backup started");
    let after = write(&app, &token, "after", 5).await;

    // Restored into a new file: every write acknowledged before the backup began is there;
    // nothing written after it finished is.
    let fresh = temp("restored");
    let mut config = (*app.state.config).clone();
    config.database_url = format!("sqlite://{}?mode=rwc", fresh.display()).into();
    restore(&config, &file).await.expect("restore");
    let restored = term_names(config.database_url()).await;
    let log = log.into_inner();
    let acked_before: Vec<&String> = before
        .iter()
        .chain(log.iter().filter(|(_, at)| *at < started).map(|(n, _)| n))
        .collect();
    assert!(
        acked_before.len() >= 45,
        "{} writes before the backup",
        acked_before.len()
    );
    for name in &acked_before {
        assert!(
            restored.contains(*name),
            "{name} is missing from the backup"
        );
    }
    for name in &after {
        assert!(
            !restored.contains(name),
            "{name} was written after the backup"
        );
    }

    // A backup never overwrites.
    let again = backup(&app.state.config, &file).await;
    assert!(again.is_err(), "{again:?}");

    // Restored over the live server's own database: the server reads the restored content at
    // its next request (the online backup API copies under the database's locks) — also
    // where its response cache holds the replaced content's answer: the restored data version
    // is past any the replaced content had.
    let cached = app.theme_names(&token).await;
    assert!(after.iter().all(|n| cached.contains(n)));
    let version_before = pearls_api::db::data_version(&app.state.db)
        .await
        .expect("version");
    restore(&app.state.config, &file)
        .await
        .expect("restore in place");
    let names = app.theme_names(&token).await;
    assert!(
        pearls_api::db::data_version(&app.state.db)
            .await
            .expect("version")
            > version_before
    );
    assert!(before.iter().all(|n| names.contains(n)));
    assert!(after.iter().all(|n| !names.contains(n)));
    // Writes go on.
    write(&app, &token, "after restore", 3).await;
    remove(&file);
    remove(&fresh);
}

#[actix_web::test]
async fn a_damaged_or_newer_backup_is_refused_and_nothing_changes() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let token = app.coordinator().await;
    let kept = write(&app, &token, "kept", 3).await;

    // Not a database at all.
    let garbage = temp("garbage");
    std::fs::write(&garbage, vec![0x42u8; 8192]).expect("write");
    let refused = restore(&app.state.config, &garbage).await;
    assert!(refused.is_err(), "{refused:?}");

    // A backup from a newer version: it carries a migration this binary does not know.
    let newer = temp("newer");
    backup(&app.state.config, &newer).await.expect("backup");
    let db = Database::connect(format!("sqlite://{}?mode=rw", newer.display()).as_str())
        .await
        .expect("open");
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000001_future', 0)",
    )
    .await
    .expect("a future migration");
    db.close().await.ok();
    let refused = restore(&app.state.config, &newer).await;
    let message = refused.expect_err("newer").to_string();
    assert!(message.contains("newer version"), "{message}");

    // Nothing was replaced: the server still has its data and writes on.
    let names = term_names(app.state.config.database_url()).await;
    assert!(kept.iter().all(|n| names.contains(n)));
    write(&app, &token, "still", 1).await;
    remove(&garbage);
    remove(&newer);
}

#[actix_web::test]
async fn postgres_backups_are_pg_dumps_job() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let refused = backup(&app.state.config, &temp("pg")).await;
    let message = refused.expect_err("refused").to_string();
    assert!(message.contains("pg_dump"), "{message}");
    // The API is untouched by the refusal.
    let body = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(code(&body), "<no error>");
}
