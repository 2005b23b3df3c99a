//! Database connection, migrations and transactions, the same for SQLite and PostgreSQL; the
//! read lane for the authenticating statement ([`lane`]).

pub mod lane;

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
/// costs a fixed number of statements (no query per row); `/metrics` exports it as the counter
/// `pearls_db_statements_total`.
#[derive(Clone, Debug)]
pub struct StatementCounter(prometheus::IntCounter);

impl Default for StatementCounter {
    fn default() -> Self {
        Self(
            prometheus::IntCounter::new(
                "pearls_db_statements_total",
                "SQL statements run by this process since it started",
            )
            .expect("a valid metric name"),
        )
    }
}

impl StatementCounter {
    /// Statements run so far by this process's pool.
    pub fn get(&self) -> u64 {
        self.0.get()
    }

    /// The counter, to register with `/metrics`.
    pub fn collector(&self) -> prometheus::IntCounter {
        self.0.clone()
    }
}

/// Statements slower than this are logged as warnings (every statement is logged at TRACE
/// level under the `pearls_api::sql` target).
const SLOW_STATEMENT: Duration = Duration::from_millis(500);

/// SQLite's page size for new databases (we never change it): the unit of the storage quota.
pub const SQLITE_PAGE_BYTES: u64 = 4096;

/// Opens the pool. SQLite gets WAL, a busy timeout and enforced foreign keys so that several
/// pooled connections behave like one database; the file is created on first start.
///
/// Two guards make sure a write is acknowledged only when it committed:
/// - every statement error that means "the database cannot serve now" is answered UNAVAILABLE
///   (`error::unavailability`), never as a success;
/// - a SQLite connection that comes back to the pool still inside a transaction (a failed
///   `COMMIT` or `ROLLBACK` after a full disk or an I/O error, where SQLite and sqlx may
///   disagree on whether a transaction is open) is closed instead of reused: reused, the next
///   write on it would run inside the dead transaction — answered as a success and lost at
///   shutdown — while holding the write lock every other writer waits for.
pub async fn connect(config: &Config) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let mut opts = ConnectOptions::new(config.database_url().to_owned());
    let max_pages = config
        .sqlite_max_bytes
        .map(|bytes| (bytes / SQLITE_PAGE_BYTES).max(1));
    opts.max_connections(config.pool_size())
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        // A request waits at most this long for a connection: while the database is away, every
        // request is answered UNAVAILABLE within it instead of hanging (README, Failure modes).
        .acquire_timeout(Duration::from_millis(config.db_acquire_timeout_ms.max(1)))
        .sqlx_logging(false)
        // JIT compilation pays off for long analytical queries, not for a web API's: it added
        // 20–100 ms to KPI aggregates at scale 1000 (BENCHMARKS.md).
        .map_sqlx_postgres_opts(|o| o.options([("jit", "off")]))
        .map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                .create_if_missing(true);
            match max_pages {
                Some(pages) => o.pragma("max_page_count", pages.to_string()),
                None => o,
            }
        })
        .map_sqlx_sqlite_pool_opts(|o| {
            o.after_release(|conn, _| Box::pin(sqlite_connection_is_clean(conn)))
        });
    let mut db = Database::connect(opts).await?;
    let counter = StatementCounter::default();
    let c = counter.clone();
    db.set_metric_callback(move |info| observe(&c, info));
    Ok((db, counter))
}

/// What every statement run by this process leaves behind, whether the pool or the read lane
/// ran it: one count, its trace span, and a log line (a warning when slow).
fn observe(counter: &StatementCounter, info: &sea_orm::metric::Info<'_>) {
    counter.0.inc();
    crate::telemetry::statement_span(info);
    let ms = info.elapsed.as_secs_f64() * 1000.0;
    if info.failed {
        tracing::debug!(target: "pearls_api::sql", sql = %info.statement, ms, "statement failed");
    } else if info.elapsed >= SLOW_STATEMENT {
        tracing::warn!(target: "pearls_api::sql", sql = %info.statement, ms, "slow statement");
    } else {
        tracing::trace!(target: "pearls_api::sql", sql = %info.statement, ms, "statement");
    }
}

/// How long a SQLite writer waits for another's write lock before the request is answered
/// UNAVAILABLE (busy). Write transactions take milliseconds; a wait this long means something
/// is wrong, and the client is better served by a clean answer it may retry.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a SQLite connection coming back to the pool is outside any transaction, both as
/// SQLite sees it and as sqlx counts it. Taking the handle first lets the connection's worker
/// run what is queued before (the rollback a dropped transaction queued). Anything else closes
/// the connection (SQLite rolls an open transaction back on close) and the pool opens a new one.
async fn sqlite_connection_is_clean(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection;
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is locked out of the worker thread for the duration of this call, and
    // `sqlite3_get_autocommit` only reads the connection's state.
    let autocommit =
        unsafe { libsqlite3_sys::sqlite3_get_autocommit(handle.as_raw_handle().as_ptr()) } != 0;
    drop(handle);
    let counted = conn.is_in_transaction();
    if autocommit && !counted {
        return Ok(true);
    }
    tracing::warn!(
        sqlite_in_transaction = !autocommit,
        sqlx_in_transaction = counted,
        "closing a pooled SQLite connection left inside a transaction"
    );
    Ok(false)
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

/// Commits a write transaction, advancing the data version in it first (`data_version`,
/// migration 13): the last statement before `COMMIT`, so on PostgreSQL the one row every writer
/// updates stays locked only for the commit itself, and no writer ever waits for another lock
/// while holding it. Response caches compare their answers' version with this number
/// (`graphql/cache.rs`), so every write that readers can see must commit through here.
pub async fn commit(txn: DatabaseTransaction) -> Result<(), DbErr> {
    txn.execute_raw(sea_orm::Statement::from_string(
        txn.get_database_backend(),
        "UPDATE data_version SET version = version + 1 WHERE id = 1",
    ))
    .await?;
    txn.commit().await
}

/// The data version now (anonymous requests, which have no authenticating statement to carry
/// it).
pub async fn data_version(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    use sea_orm::EntityTrait;
    entity::data_version::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|v| v.version)
        .ok_or_else(|| DbErr::RecordNotFound("data_version".into()))
}

/// The column the authenticating statements add to their row, `data_version`: the data
/// version as of that statement's snapshot.
pub const DATA_VERSION_COLUMN: &str = "data_version";

/// `(SELECT version FROM data_version WHERE id = 1)`, for [`DATA_VERSION_COLUMN`].
pub fn data_version_expr() -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    Expr::SubQuery(
        None,
        Box::new(
            Query::select()
                .column(entity::data_version::Column::Version)
                .from(entity::data_version::Entity)
                .and_where(Expr::col(entity::data_version::Column::Id).eq(1))
                .to_owned()
                .into(),
        ),
    )
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

    async fn count(db: &impl ConnectionTrait, sql: &str) -> i64 {
        db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .expect("query")
            .expect("row")
            .try_get_by_index::<i64>(0)
            .expect("count")
    }

    /// The mechanism behind writes acknowledged and then lost on a full disk: a `COMMIT` that
    /// fails with SQLITE_FULL may make SQLite roll the whole transaction back by itself, while
    /// sqlx still counts it open. Reused, that connection turns the next transaction into a
    /// savepoint; a failed write then ends with `ROLLBACK TO SAVEPOINT`, which leaves SQLite
    /// inside a transaction holding the write lock; and the next write — a savepoint inside
    /// that dead transaction — is "committed" by `RELEASE`, acknowledged, and never written.
    /// Here SQLite is made to end the transaction behind sqlx's back the same way; the pool
    /// must close that connection, so the write after it is really committed.
    #[tokio::test]
    async fn a_connection_left_inside_a_transaction_is_never_reused() {
        let path = std::env::temp_dir().join(format!(
            "pearls_unit_release_{}.db",
            uuid::Uuid::now_v7().simple()
        ));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut config = crate::config::Config::from_env_for_tests();
        config.database_url = url.clone().into();
        config.db_max_connections = Some(1);
        let (db, _) = super::connect(&config).await.expect("pool");
        db.execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await
            .expect("table");

        let txn = super::begin_write(&db).await.expect("begin");
        txn.execute_unprepared("COMMIT")
            .await
            .expect("SQLite ends it");
        drop(txn);

        let txn = super::begin_write(&db).await.expect("begin");
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .expect("insert");
        drop(txn); // a write that failed half-way: rolled back

        let txn = super::begin_write(&db).await.expect("begin");
        txn.execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .expect("insert");
        txn.commit().await.expect("acknowledged");

        let other = Database::connect(url.as_str()).await.expect("other");
        assert_eq!(
            count(&other, "SELECT COUNT(*) FROM t WHERE v = 2").await,
            1,
            "the acknowledged write is committed"
        );
        assert_eq!(count(&other, "SELECT COUNT(*) FROM t WHERE v = 1").await, 0);
        // And nobody holds the write lock: another connection writes at once.
        other
            .execute_unprepared("INSERT INTO t VALUES (3)")
            .await
            .expect("the write lock is free");
        drop((db, other));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

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
