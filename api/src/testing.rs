//! Unit-test support: a migrated SQLite database of the test's own (a temporary file, removed
//! with the guard) and actors, so services — which need no GraphQL context — are tested
//! directly.

use entity::Role;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::policy::{Actor, Principal};

/// A migrated database and the file it lives in (removed on drop).
pub struct TestDb {
    pub db: DatabaseConnection,
    path: std::path::PathBuf,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// A fresh, migrated SQLite database.
pub async fn database() -> TestDb {
    let path = std::env::temp_dir().join(format!("pearls_unit_{}.db", Uuid::now_v7().simple()));
    let mut config = crate::config::Config::from_env_for_tests();
    config.database_url = format!("sqlite://{}?mode=rwc", path.display()).into();
    let (db, _) = crate::startup::prepare_database(&config)
        .await
        .expect("a migrated test database");
    TestDb { db, path }
}

/// A signed-in user of `role` (no organisation), as the services see them.
pub fn actor(role: Role) -> Actor {
    Actor::User(Principal {
        user_id: Uuid::now_v7(),
        role,
        organisation_id: None,
    })
}
