//! The read lane: a few database connections of their own for the one statement every request
//! runs first, the authenticating statement (`auth/request.rs`, `integrations`).
//!
//! Why not the pool: sqlx's pool pings a connection before handing it out and pings it again
//! on its way back (the second to flush what a dropped future may have left half-read). On
//! PostgreSQL each ping is a round trip: a one-statement request costs three, each a wake-up of
//! the server and of a PostgreSQL backend. Measured on the `me` request, that was the largest
//! cost left (BENCHMARKS.md, Stop 27).
//!
//! What the lane does instead, and why it is safe:
//! - It runs only single read statements outside any transaction. A read can always be run
//!   again, so a connection is never tested beforehand: a kept connection that turns out to
//!   be broken (the server restarted, the backend was terminated, the network cut it) fails
//!   its statement with an "unreachable" error ([`crate::error::unavailability`]), is dropped,
//!   and the statement is run once more on a newly opened connection. Only that second
//!   failure reaches the caller, as UNAVAILABLE.
//! - A connection goes back to the lane only after its statement completed: one whose
//!   statement failed, or whose future was dropped half-way (a cancelled request), is closed
//!   instead, so nothing half-read is ever reused and no ping on release is needed.
//! - It is bounded: at most `size` connections exist, a caller waits for one at most the
//!   pool's acquire timeout (then UNAVAILABLE, as the pool answers), and a statement is given
//!   at most the request time limit. A kept connection idle longer than [`IDLE`] is closed,
//!   not used, the next time the lane takes one.
//! - Every statement is counted and traced as the pool's are ([`super::observe`]).
//!
//! Writes and transactions always use the pool: its pings and its check of a released
//! SQLite connection (`db::connect`) stay where a write needs them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx::{self, ConnectOptions, Database, Postgres, Sqlite};
use sea_orm::{ConnAcquireErr, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};

use super::StatementCounter;

/// A kept connection not used for this long is closed rather than used (as sqlx's pool
/// closes idle connections after ten minutes): the lane does not hold connections a quiet
/// node no longer needs.
pub const IDLE: Duration = Duration::from_secs(600);

/// The lane of one node: `None` inside when it is switched off (size 0), and then every
/// statement goes through the pool.
pub struct ReadLane {
    pool: DatabaseConnection,
    kind: Option<Kind>,
    permits: tokio::sync::Semaphore,
    size: usize,
    wait: Duration,
    limit: Duration,
    statements: StatementCounter,
}

enum Kind {
    Postgres(Kept<Postgres>),
    Sqlite(Kept<Sqlite>),
}

/// The idle connections of one database, most recently used last.
struct Kept<DB: Database> {
    options: Arc<<DB::Connection as sqlx::Connection>::Options>,
    idle: Mutex<Vec<(DB::Connection, Instant)>>,
}

impl<DB: Database> Kept<DB> {
    fn new(options: Arc<<DB::Connection as sqlx::Connection>::Options>) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<(DB::Connection, Instant)>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most recently used idle connection that has not been idle too long. Older ones are
    /// dropped (closing their sockets) outside the lock.
    fn take(&self) -> Option<DB::Connection> {
        let mut idle = self.idle();
        let now = Instant::now();
        let fresh = idle.partition_point(|(_, since)| now.duration_since(*since) > IDLE);
        let stale: Vec<_> = idle.drain(..fresh).collect();
        let taken = idle.pop().map(|(c, _)| c);
        drop(idle);
        drop(stale);
        taken
    }

    fn keep(&self, conn: DB::Connection) {
        self.idle().push((conn, Instant::now()));
    }

    fn len(&self) -> usize {
        self.idle().len()
    }
}

/// What running a statement on one connection came to.
enum Ran {
    Done(Option<QueryResult>),
    /// The connection is broken (or the database away): worth one more try on a new one.
    Unreachable(DbErr),
    Failed(DbErr),
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into()))
}

fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()))
}

fn timed_out() -> DbErr {
    DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)
}

/// The statement's values as sqlx arguments (as sea-orm binds them).
fn arguments(stmt: &Statement) -> sea_query_sqlx::SqlxValues {
    sea_query_sqlx::SqlxValues(
        stmt.values
            .clone()
            .unwrap_or(sea_orm::sea_query::Values(Vec::new())),
    )
}

impl ReadLane {
    /// A lane of `size` connections beside `pool`, opened with the pool's own connect options
    /// (so SQLite's pragmas and PostgreSQL's settings are the same); `size` 0 switches it off.
    pub fn new(
        pool: DatabaseConnection,
        size: u32,
        wait: Duration,
        limit: Duration,
        statements: StatementCounter,
    ) -> Self {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let kind = (size > 0).then(|| match pool.get_database_backend() {
            DbBackend::Postgres => Kind::Postgres(Kept::new(
                pool.get_postgres_connection_pool().connect_options(),
            )),
            _ => Kind::Sqlite(Kept::new(
                pool.get_sqlite_connection_pool().connect_options(),
            )),
        });
        Self {
            pool,
            kind,
            permits: tokio::sync::Semaphore::new(size),
            size,
            wait,
            limit,
            statements,
        }
    }

    /// The database this lane reads.
    pub fn backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    /// Connections of the lane now: (in use, idle).
    pub fn connections(&self) -> (usize, usize) {
        let idle = match &self.kind {
            None => return (0, 0),
            Some(Kind::Postgres(k)) => k.len(),
            Some(Kind::Sqlite(k)) => k.len(),
        };
        (self.size - self.permits.available_permits(), idle)
    }

    /// Runs one read statement and returns its first row, if any. See the module's comment for
    /// how a broken connection is handled.
    pub async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        use sea_orm::ConnectionTrait;
        let Some(kind) = &self.kind else {
            return self.pool.query_one_raw(stmt).await;
        };
        let started = std::time::SystemTime::now();
        let result = match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Err(_) => Err(timed_out()),
            Ok(Err(_)) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
            Ok(Ok(_permit)) => match kind {
                Kind::Postgres(k) => self.run(k, &stmt).await,
                Kind::Sqlite(k) => self.run(k, &stmt).await,
            },
        };
        super::observe(
            &self.statements,
            &sea_orm::metric::Info {
                elapsed: started.elapsed().unwrap_or_default(),
                statement: &stmt,
                failed: result.is_err(),
            },
        );
        result
    }

    /// A kept connection, and if it proves broken, one newly opened.
    async fn run<DB>(&self, kept: &Kept<DB>, stmt: &Statement) -> Result<Option<QueryResult>, DbErr>
    where
        DB: Database,
        sea_query_sqlx::SqlxValues: for<'q> sqlx::IntoArguments<DB>,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        QueryResult: From<DB::Row>,
    {
        if let Some(conn) = kept.take() {
            match self.once(kept, conn, stmt).await {
                Ran::Done(row) => return Ok(row),
                Ran::Failed(e) => return Err(e),
                Ran::Unreachable(e) => {
                    tracing::info!(error = %e, "a kept read-lane connection was broken; opening a new one");
                }
            }
        }
        let conn = match tokio::time::timeout(self.wait, kept.options.connect()).await {
            Err(_) => return Err(timed_out()),
            Ok(Err(e)) => return Err(conn_err(e)),
            Ok(Ok(conn)) => conn,
        };
        match self.once(kept, conn, stmt).await {
            Ran::Done(row) => Ok(row),
            Ran::Failed(e) | Ran::Unreachable(e) => Err(e),
        }
    }

    /// Runs the statement on `conn`, which goes back to `kept` only when it completed.
    async fn once<DB>(&self, kept: &Kept<DB>, mut conn: DB::Connection, stmt: &Statement) -> Ran
    where
        DB: Database,
        sea_query_sqlx::SqlxValues: for<'q> sqlx::IntoArguments<DB>,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        QueryResult: From<DB::Row>,
    {
        let query = sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), arguments(stmt));
        match tokio::time::timeout(self.limit, query.fetch_optional(&mut conn)).await {
            Ok(Ok(row)) => {
                kept.keep(conn);
                Ran::Done(row.map(QueryResult::from))
            }
            // The connection is dropped (closed) with the error.
            Ok(Err(e)) => {
                let e = query_err(e);
                if crate::error::unavailability(&e) == Some(crate::error::Unavailable::Unreachable)
                {
                    Ran::Unreachable(e)
                } else {
                    Ran::Failed(e)
                }
            }
            Err(_) => Ran::Failed(timed_out()),
        }
    }
}
