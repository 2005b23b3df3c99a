//! Backups of the embedded SQLite database, safe while the server runs.
//!
//! - `pearls backup --to FILE`: `VACUUM INTO` writes a consistent copy — one read transaction,
//!   so exactly the writes committed before it began, compacted — without stopping writers
//!   (WAL mode). The copy is then opened and checked.
//! - `pearls restore --from FILE`: checks the copy before anything is touched (SQLite's
//!   integrity check; its migrations must all be known to this binary — an older copy is
//!   brought up to date at the next start), then copies it over the configured database with
//!   SQLite's online backup API: page by page under the database's own locks, in one step, so
//!   a running server sees the old content or the new, never a mix. Stopping the server first
//!   is still the calm way (README, "Backups").
//!
//! PostgreSQL has its own tools for this (`pg_dump` / `pg_restore`, or base backups with WAL
//! archiving); the README gives the procedure instead of a second one here.

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{ConnectOptions, Connection, Row};

use crate::config::Config;

/// What a backup or a restore did, for the operator.
#[derive(Debug)]
pub struct Report {
    /// The migrations the copy carries, oldest first.
    pub migrations: Vec<String>,
    /// Migrations this binary knows that the copy lacks (applied at the next start).
    pub pending: Vec<String>,
    /// The copy's size in bytes.
    pub bytes: u64,
}

/// Why a backup or restore was refused; nothing was changed.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

fn refused(msg: impl Into<String>) -> Refused {
    Refused(msg.into())
}

/// The SQLite file a configuration names, or a refusal for PostgreSQL.
fn sqlite_file(config: &Config) -> Result<PathBuf, Refused> {
    if !config.is_sqlite() {
        return Err(refused(
            "backup and restore here are for the embedded SQLite database; for PostgreSQL use \
             pg_dump and pg_restore (README, \"Backups\")",
        ));
    }
    let opts = SqliteConnectOptions::from_str(config.database_url())
        .map_err(|e| refused(format!("DATABASE_URL: {e}")))?;
    Ok(opts.get_filename().to_path_buf())
}

async fn open(path: &Path, read_only: bool) -> Result<SqliteConnection, Refused> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .create_if_missing(!read_only)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .map_err(|e| refused(format!("cannot open {}: {e}", path.display())))
}

/// Opens `path` read-only and checks it: SQLite's integrity check passes and every migration
/// it carries is known to this binary.
async fn check(path: &Path) -> Result<Report, Refused> {
    let mut conn = open(path, true).await?;
    let integrity: Vec<String> = sea_orm::sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| {
            refused(format!(
                "{} is not a readable database: {e}",
                path.display()
            ))
        })?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    if integrity != ["ok"] {
        return Err(refused(format!(
            "{} fails SQLite's integrity check: {}",
            path.display(),
            integrity.join("; ")
        )));
    }
    let migrations: Vec<String> =
        sea_orm::sqlx::query("SELECT version FROM seaql_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .map_err(|_| {
                refused(format!(
                    "{} is not a database of this portal",
                    path.display()
                ))
            })?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
    conn.close().await.ok();
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    if let Some(unknown) = migrations.iter().find(|m| !known.contains(m)) {
        return Err(refused(format!(
            "{} was made by a newer version (migration {unknown} is unknown to this binary); \
             restore it with that version",
            path.display()
        )));
    }
    let pending = known
        .into_iter()
        .filter(|m| !migrations.contains(m))
        .collect();
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(Report {
        migrations,
        pending,
        bytes,
    })
}

/// Writes a consistent copy of the configured SQLite database to `to` (which must not exist),
/// while the server may be running, and checks the copy.
pub async fn backup(config: &Config, to: &Path) -> Result<Report, Refused> {
    let from = sqlite_file(config)?;
    if to.exists() {
        return Err(refused(format!(
            "{} exists; choose a new file (a backup never overwrites)",
            to.display()
        )));
    }
    let mut conn = open(&from, true).await?;
    sea_orm::sqlx::query("VACUUM INTO ?")
        .bind(to.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await
        .map_err(|e| refused(format!("the backup failed: {e}")))?;
    conn.close().await.ok();
    check(to).await
}

/// Checks the backup `from`, then copies it over the configured SQLite database.
pub async fn restore(config: &Config, from: &Path) -> Result<Report, Refused> {
    let to = sqlite_file(config)?;
    if !from.exists() {
        return Err(refused(format!("{} does not exist", from.display())));
    }
    let report = check(from).await?;
    // The copy is restored from a scratch file next to the database, whose data version is
    // moved past any number the running database can reach meanwhile.
    let scratch = to.with_extension("restoring");
    std::fs::copy(from, &scratch)
        .map_err(|e| refused(format!("cannot copy {}: {e}", from.display())))?;
    let restored = restore_from(&scratch, &to).await;
    std::fs::remove_file(&scratch).ok();
    restored?;
    let after = check(&to).await?;
    Ok(Report {
        bytes: after.bytes,
        ..report
    })
}

/// How far a restore moves the data version past the running database's. A running node's
/// response cache serves an answer only at the version it was stored at; the restored content
/// must never carry a number the replaced content had (or reaches while the restore runs), or
/// a node could serve an answer of the old content for the new. A billion writes cannot happen
/// during one restore; an `i64` holds nine billion restores.
const RESTORE_VERSION_JUMP: i64 = 1_000_000_000;

/// The data version of an open database, if it has one (a copy made before migration 13 has
/// none: it is migrated at the next start, with empty caches).
async fn data_version(conn: &mut SqliteConnection) -> Option<i64> {
    sea_orm::sqlx::query("SELECT version FROM data_version WHERE id = 1")
        .fetch_optional(conn)
        .await
        .ok()
        .flatten()
        .map(|r| r.get::<i64, _>(0))
}

/// Moves the scratch copy's data version past the target's, then copies it over the target.
async fn restore_from(scratch: &Path, to: &Path) -> Result<(), Refused> {
    let mut target = open(to, false).await?;
    let mut source = open(scratch, false).await?;
    if let Some(restored) = data_version(&mut source).await {
        let current = data_version(&mut target).await.unwrap_or(0);
        sea_orm::sqlx::query("UPDATE data_version SET version = ? WHERE id = 1")
            .bind(restored.max(current).saturating_add(RESTORE_VERSION_JUMP))
            .execute(&mut source)
            .await
            .map_err(|e| refused(format!("cannot prepare the copy: {e}")))?;
    }
    {
        let mut s = source
            .lock_handle()
            .await
            .map_err(|e| refused(e.to_string()))?;
        let mut t = target
            .lock_handle()
            .await
            .map_err(|e| refused(e.to_string()))?;
        let (src, dst) = (s.as_raw_handle().as_ptr(), t.as_raw_handle().as_ptr());
        // SAFETY: both handles are locked out of their connections' worker threads for the
        // whole block; the backup object is finished before they are released.
        let outcome = unsafe {
            let main = c"main".as_ptr();
            let b = libsqlite3_sys::sqlite3_backup_init(dst, main, src, main);
            if b.is_null() {
                Err(CStr::from_ptr(libsqlite3_sys::sqlite3_errmsg(dst))
                    .to_string_lossy()
                    .into_owned())
            } else {
                // -1: every page in one step, under one lock on the target.
                let step = libsqlite3_sys::sqlite3_backup_step(b, -1);
                let finish = libsqlite3_sys::sqlite3_backup_finish(b);
                if step == libsqlite3_sys::SQLITE_DONE && finish == libsqlite3_sys::SQLITE_OK {
                    Ok(())
                } else {
                    Err(CStr::from_ptr(libsqlite3_sys::sqlite3_errstr(step))
                        .to_string_lossy()
                        .into_owned())
                }
            }
        };
        outcome.map_err(|e| refused(format!("the restore failed (nothing was replaced): {e}")))?;
    }
    source.close().await.ok();
    target.close().await.ok();
    Ok(())
}
