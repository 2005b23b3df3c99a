//! Database connection, migrations and transactions, the same for SQLite and PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Config;

/// Counts every SQL statement a connection pool runs. Tests read it to prove that a request
/// costs a fixed number of statements (no query per row); `/metrics` exports it.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements run so far by this process's pool.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Statements slower than this are logged as warnings (every statement is logged at TRACE
/// level under the `pearls_api::sql` target).
const SLOW_STATEMENT: Duration = Duration::from_millis(500);

/// Opens the pool. SQLite gets WAL, a busy timeout and enforced foreign keys so that several
/// pooled connections behave like one database; the file is created on first start.
pub async fn connect(config: &Config) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let mut opts = ConnectOptions::new(config.database_url.clone());
    opts.max_connections(config.db_max_connections.max(1))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // JIT compilation pays off for long analytical queries, not for a web API's: it added
        // 20–100 ms to KPI aggregates at scale 1000 (BENCHMARKS.md).
        .map_sqlx_postgres_opts(|o| o.options([("jit", "off")]))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    let mut db = Database::connect(opts).await?;
    let counter = StatementCounter::default();
    let c = counter.clone();
    db.set_metric_callback(move |info| {
        c.0.fetch_add(1, Ordering::Relaxed);
        let ms = info.elapsed.as_secs_f64() * 1000.0;
        if info.failed {
            tracing::debug!(target: "pearls_api::sql", sql = %info.statement, ms, "statement failed");
        } else if info.elapsed >= SLOW_STATEMENT {
            tracing::warn!(target: "pearls_api::sql", sql = %info.statement, ms, "slow statement");
        } else {
            tracing::trace!(target: "pearls_api::sql", sql = %info.statement, ms, "statement");
        }
    });
    Ok((db, counter))
}

/// Applies all pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether every migration the binary knows has been applied (used by `/readyz`).
pub async fn migrations_applied(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// Starts a transaction for a write. On SQLite it is `BEGIN IMMEDIATE`, which takes the write
/// lock up front: two concurrent read-then-write transactions then queue behind the busy
/// timeout instead of failing with SQLITE_BUSY half-way.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}

/// Serialises the transaction's writes to `table` with every other transaction that calls this
/// for the same table, while reads go on: on PostgreSQL a `SHARE ROW EXCLUSIVE` table lock
/// (needed where a check spans rows that do not exist yet, e.g. "no overlapping period"); on
/// SQLite `BEGIN IMMEDIATE` (see [`begin_write`]) already serialises all writers.
pub async fn serialise_writes(txn: &DatabaseTransaction, table: &str) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        debug_assert!(table.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        txn.execute_unprepared(&format!(
            "LOCK TABLE \"{table}\" IN SHARE ROW EXCLUSIVE MODE"
        ))
        .await?;
    }
    Ok(())
}

/// `select` with `FOR UPDATE` on PostgreSQL: the rows it reads stay locked until the transaction
/// ends, so a check made on them still holds when the transaction writes. (SQLite has no row
/// locks and needs none: `BEGIN IMMEDIATE` serialises writers.)
pub fn for_update<E: sea_orm::EntityTrait>(
    select: sea_orm::Select<E>,
    db: &impl ConnectionTrait,
) -> sea_orm::Select<E> {
    use sea_orm::QuerySelect;
    if db.get_database_backend() == DbBackend::Postgres {
        select.lock_exclusive()
    } else {
        select
    }
}

/// Starts a read-only transaction that sees one snapshot of the database for all its reads
/// (PostgreSQL: REPEATABLE READ READ ONLY; SQLite: a read transaction in WAL mode, which holds
/// its snapshot from the first read).
pub async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(sea_orm::IsolationLevel::RepeatableRead),
                Some(sea_orm::AccessMode::ReadOnly),
            )
            .await
        }
        _ => db.begin().await,
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

    /// `.cargo/config.toml` builds the bundled SQLite with the query planner stability
    /// guarantee; without it every statement with `LIMIT ?` was prepared again at every
    /// execution (BENCHMARKS.md).
    #[tokio::test]
    async fn the_embedded_sqlite_keeps_plans_independent_of_bound_values() {
        let db = Database::connect("sqlite::memory:").await.expect("opens");
        let options: Vec<String> = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA compile_options",
            ))
            .await
            .expect("reads")
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).expect("text"))
            .collect();
        assert!(options.iter().any(|o| o == "ENABLE_FTS5"), "{options:?}");
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
    }
}
