//! Relay cursor connections over any scoped `Select`, with keyset pagination.
//!
//! The order is the caller's `orderBy` list followed by the primary key, so every row has a
//! distinct position. A cursor carries the row's values of those columns (typed), and the next
//! page is `WHERE (order columns) > (cursor values)` — no OFFSET, so pages never skip or repeat
//! rows when rows are inserted or deleted between requests, and deep pages cost the same as the
//! first. `totalCount`, when the query selects it, rides along with the page as an uncorrelated
//! scalar subquery (`(SELECT COUNT(*) FROM (scoped select))`, evaluated once by both databases),
//! so a page with its count is one statement; only an empty page after a cursor needs a second.

use async_graphql::{Context, Enum, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement, SubQueryStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, ModelTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Value,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::graphql::planner::{Fragment, MARKER, as_text, cursor_keys};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE: u64 = 100;

/// Sort direction of one `orderBy` entry.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl OrderDirection {
    /// The SQL direction.
    pub fn sql(self) -> Order {
        match self {
            OrderDirection::Asc => Order::Asc,
            OrderDirection::Desc => Order::Desc,
        }
    }
}

/// The full order of a list: the requested criteria (or the default), without repeats, then the
/// primary key as the tie-breaker that makes every position unique.
pub fn order_with_tiebreak<C: ColumnTrait>(
    requested: Vec<(C, Order)>,
    default: (C, Order),
    id: C,
) -> AppResult<Vec<(C, Order)>> {
    if requested.len() > 3 {
        return Err(AppError::bad_input(
            "orderBy",
            "at most 3 ordering criteria",
        ));
    }
    let mut out: Vec<(C, Order)> = Vec::new();
    for (c, o) in if requested.is_empty() {
        vec![default]
    } else {
        requested
    } {
        if !out.iter().any(|(x, _)| x.as_str() == c.as_str()) {
            out.push((c, o));
        }
    }
    if !out.iter().any(|(x, _)| x.as_str() == id.as_str()) {
        out.push((id, Order::Asc));
    }
    Ok(out)
}

/// Pagination information of a connection.
#[derive(SimpleObject, Clone, Debug, Default)]
pub struct PageInfo {
    /// Whether more rows follow the last edge (exact when paginating forwards).
    pub has_next_page: bool,
    /// Whether rows precede the first edge (exact when paginating backwards).
    pub has_previous_page: bool,
    /// Cursor of the first edge, for `before:`.
    pub start_cursor: Option<String>,
    /// Cursor of the last edge, for `after:`.
    pub end_cursor: Option<String>,
}

/// The four Relay arguments, checked, and whether the query asks for `totalCount`.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    /// Whether `totalCount` is selected on this connection field (then it is fetched with the
    /// page).
    pub count: bool,
    /// Whether the edges' `cursor` is selected. When it is not, only the first and the last
    /// row's cursors are written (for `pageInfo`): encoding one per row was 4 % of a dashboard
    /// page's instructions.
    pub cursors: bool,
}

impl PageArgs {
    /// The arguments of the connection field being resolved in `ctx`.
    pub fn new(
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
            count: ctx.look_ahead().field("totalCount").exists(),
            cursors: ctx.look_ahead().field("edges").field("cursor").exists(),
        }
    }
}

/// Complexity of a connection field: its page size times the cost of one edge, so that a query
/// asking for 100 × 100 nested rows is refused before it runs.
pub fn cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first.or(last).map(|n| n.clamp(0, MAX_PAGE as i32) as usize);
    size.unwrap_or(DEFAULT_PAGE as usize).max(1) * child + 1
}

/// One typed value of a cursor.
#[derive(Serialize, Deserialize, Debug, Clone)]
enum CursorValue {
    S(String),
    I(i64),
    U(Uuid),
    T(DateTime<Utc>),
    D(NaiveDate),
    B(bool),
}

impl CursorValue {
    fn from_value(v: Value) -> AppResult<Self> {
        Ok(match v {
            Value::String(Some(s)) => Self::S(s),
            Value::BigInt(Some(i)) => Self::I(i),
            Value::Int(Some(i)) => Self::I(i as i64),
            Value::SmallInt(Some(i)) => Self::I(i as i64),
            Value::Uuid(Some(u)) => Self::U(u),
            Value::ChronoDateTimeUtc(Some(t)) => Self::T(t),
            Value::ChronoDate(Some(d)) => Self::D(d),
            Value::Bool(Some(b)) => Self::B(b),
            other => {
                return Err(AppError::internal(format!(
                    "column not usable in a cursor: {other:?}"
                )));
            }
        })
    }

    fn into_value(self) -> Value {
        match self {
            Self::S(s) => s.into(),
            Self::I(i) => i.into(),
            Self::U(u) => u.into(),
            Self::T(t) => t.into(),
            Self::D(d) => d.into(),
            Self::B(b) => b.into(),
        }
    }
}

/// A fetched page: rows with their cursors, and the paging flags.
pub struct Page<M> {
    /// Each row with its cursor; the cursor is empty between the first and the last row when
    /// the edges' cursors are not selected (`PageArgs::cursors`).
    pub rows: Vec<(String, M)>,
    pub page_info: PageInfo,
}

/// `totalCount`: known when it came with the page, otherwise counted when asked for — over the
/// scoped, filtered query without cursors, order or limit.
#[derive(Clone)]
pub struct TotalCount {
    db: DatabaseConnection,
    query: SelectStatement,
    known: Option<i64>,
}

/// Alias of the count that rides along with a page.
const PAGE_TOTAL: &str = "page_total";

/// `SELECT COUNT(*) FROM (query) AS scoped`.
fn count_of(query: SelectStatement) -> SelectStatement {
    Query::select()
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"))
        .from_subquery(query, Alias::new("scoped"))
        .to_owned()
}

impl TotalCount {
    /// Counts the rows of `query`, whose select list does not matter: no page query is
    /// `DISTINCT` or grouped (one that became so would need its list kept here). The list is
    /// replaced by a constant, so that the server does not write every column of the entity
    /// into the count's SQL.
    fn new(db: &DatabaseConnection, mut query: SelectStatement) -> Self {
        query.clear_selects().expr(Expr::cust("1"));
        Self {
            db: db.clone(),
            query,
            known: None,
        }
    }

    /// The number of rows of the scoped, filtered select.
    pub async fn get(&self) -> AppResult<i64> {
        if let Some(n) = self.known {
            return Ok(n);
        }
        let row = self
            .db
            .query_one(&count_of(self.query.clone()))
            .await?
            .ok_or_else(|| AppError::internal("COUNT returned no row"))?;
        Ok(row.try_get::<i64>("", "n")?)
    }
}

/// A page row with the count that came along with it (when asked for).
struct Counted<R> {
    row: R,
    total: Option<i64>,
}

impl<R: sea_orm::FromQueryResult> sea_orm::FromQueryResult for Counted<R> {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            row: R::from_query_result(res, pre)?,
            // Absent when the page was fetched without it; then counted separately if needed.
            total: res.try_get::<i64>("", PAGE_TOTAL).ok(),
        })
    }
}

fn encode_cursor(values: Vec<CursorValue>) -> AppResult<String> {
    let json = serde_json::to_vec(&values).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// One key of a list's order: an expression (usually a column), its direction, and the type its
/// cursor value must have.
struct Key {
    expr: Expr,
    order: Order,
    accepts: fn(&CursorValue) -> bool,
}

/// Whether a cursor value has the type of its column. Cursors are client input: a forged one
/// must be a BAD_USER_INPUT, not a type error in the database.
fn column_key<C: ColumnTrait>(col: C, order: Order) -> Key {
    use sea_orm::sea_query::ColumnType as T;
    let accepts: fn(&CursorValue) -> bool = match col.def().get_column_type() {
        T::String(_) | T::Text | T::Char(_) | T::Enum { .. } => |v| matches!(v, CursorValue::S(_)),
        T::Integer | T::BigInteger | T::SmallInteger | T::TinyInteger => {
            |v| matches!(v, CursorValue::I(_))
        }
        T::Uuid => |v| matches!(v, CursorValue::U(_)),
        T::TimestampWithTimeZone | T::DateTime | T::Timestamp => |v| matches!(v, CursorValue::T(_)),
        T::Date => |v| matches!(v, CursorValue::D(_)),
        T::Boolean => |v| matches!(v, CursorValue::B(_)),
        _ => |_| false,
    };
    Key {
        expr: Expr::col((col.entity_name(), col)),
        order,
        accepts,
    }
}

fn decode_cursor(cursor: &str, field: &str, keys: &[Key]) -> AppResult<Vec<Value>> {
    let invalid = || AppError::bad_input(field, "not a valid cursor for this list and order");
    let json = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let values: Vec<CursorValue> = serde_json::from_slice(&json).map_err(|_| invalid())?;
    if values.len() != keys.len() || !keys.iter().zip(&values).all(|(k, v)| (k.accepts)(v)) {
        return Err(invalid());
    }
    Ok(values.into_iter().map(CursorValue::into_value).collect())
}

/// `(k1, k2, …) > (v1, v2, …)` in the given directions, written out so both databases and any
/// mix of directions work: `k1 > v1 OR (k1 = v1 AND k2 > v2) OR …`.
fn after_condition(keys: &[Key], values: &[Value], forward: bool) -> Condition {
    let mut any = Condition::any();
    for i in 0..keys.len() {
        let mut all = Condition::all();
        for (j, key) in keys.iter().enumerate().take(i) {
            all = all.add(key.expr.clone().eq(values[j].clone()));
        }
        let ascending = matches!(keys[i].order, Order::Asc) == forward;
        let v = values[i].clone();
        let c = keys[i].expr.clone();
        all = all.add(if ascending { c.gt(v) } else { c.lt(v) });
        any = any.add(all);
    }
    any
}

/// A row with its search rank (see [`paginate_ranked`]).
pub struct Ranked<M> {
    pub model: M,
    pub rank: i64,
}

/// Alias of the rank column in ranked pages.
const RANK: &str = "search_rank";

impl<M: sea_orm::FromQueryResult> sea_orm::FromQueryResult for Ranked<M> {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            model: M::from_query_result(res, pre)?,
            rank: res.try_get::<i64>("", RANK)?,
        })
    }
}

/// Checks the four Relay arguments: (forward, limit).
fn direction_and_limit(args: &PageArgs) -> AppResult<(bool, u64)> {
    if args.first.is_some() && args.last.is_some() {
        return Err(AppError::bad_input(
            "first",
            "pass either first or last, not both",
        ));
    }
    let check = |n: i32, field: &str| -> AppResult<u64> {
        if n < 0 || n as u64 > MAX_PAGE {
            Err(AppError::bad_input(
                field,
                format!("must be between 0 and {MAX_PAGE}"),
            ))
        } else {
            Ok(n as u64)
        }
    };
    let forward = args.last.is_none() && !(args.before.is_some() && args.first.is_none());
    let limit = match (args.first, args.last) {
        (Some(n), _) => check(n, "first")?,
        (_, Some(n)) => check(n, "last")?,
        _ => DEFAULT_PAGE,
    };
    Ok((forward, limit))
}

/// `query` with `LIMIT n`, as a statement reading `Counted<R>`.
///
/// On PostgreSQL the number is written into the text (it is one the server computed, 1–101,
/// never the client's text), not bound: PostgreSQL plans a prepared statement whose `LIMIT` is
/// a parameter as if it returned a tenth of the table, so such a plan never looks cheaper than a
/// custom one and the page was planned again on every request (0.2–0.4 ms of PostgreSQL time
/// for a dashboard page). With the number in the text it settles on one generic plan per
/// connection, statement and page size after five executions, as for any other statement.
/// SQLite keeps the bound parameter: its query planner stability guarantee (`SQLITE_ENABLE_QPSG`,
/// README) already keeps one plan.
///
/// A planned page's statement selects the planner's marker, and gets the planned object's text
/// and values from `planned` here (`planner/text.rs`).
fn limited<E, R>(
    db: &DatabaseConnection,
    query: Select<E>,
    n: u64,
    planned: Option<&Fragment>,
) -> AppResult<sea_orm::SelectorRaw<sea_orm::SelectModel<Counted<R>>>>
where
    E: EntityTrait,
    R: sea_orm::FromQueryResult,
{
    let backend = db.get_database_backend();
    let mut stmt = if backend == sea_orm::DbBackend::Postgres {
        let mut stmt = backend.build(&query.into_query());
        // Appended after ORDER BY (the statement has no LIMIT or OFFSET yet).
        stmt.sql.push_str(&format!(" LIMIT {n}"));
        stmt
    } else {
        backend.build(&query.limit(n).into_query())
    };
    if let Some(fragment) = planned {
        fragment.splice(&mut stmt)?;
    }
    Ok(<Counted<R> as sea_orm::FromQueryResult>::find_by_statement(
        stmt,
    ))
}

/// The shared keyset paging: applies the cursors and the order, fetches `limit + 1` rows as `R`
/// (with the total of `total.query` when the query asks for it) and cuts the page.
async fn page_by_keys<E, R>(
    db: &DatabaseConnection,
    mut query: Select<E>,
    keys: &[Key],
    args: &PageArgs,
    total: &mut TotalCount,
    planned: Option<&Fragment>,
    values_of: impl Fn(&R) -> AppResult<Vec<CursorValue>>,
) -> AppResult<Page<R>>
where
    E: EntityTrait,
    R: sea_orm::FromQueryResult + Send + Sync,
{
    let (forward, limit) = direction_and_limit(args)?;
    if args.count && limit > 0 {
        query = query.expr_as(
            Expr::SubQuery(
                None,
                Box::new(SubQueryStatement::from(count_of(total.query.clone()))),
            ),
            PAGE_TOTAL,
        );
    }
    if let Some(after) = &args.after {
        let values = decode_cursor(after, "after", keys)?;
        query = query.filter(after_condition(keys, &values, true));
    }
    if let Some(before) = &args.before {
        let values = decode_cursor(before, "before", keys)?;
        query = query.filter(after_condition(keys, &values, false));
    }
    for key in keys {
        let dir = match (&key.order, forward) {
            (Order::Asc, true) | (Order::Desc, false) => Order::Asc,
            _ => Order::Desc,
        };
        query = query.order_by(key.expr.clone(), dir);
    }
    let fetched: Vec<Counted<R>> = if limit == 0 {
        Vec::new()
    } else {
        limited(db, query, limit + 1, planned)?.all(db).await?
    };
    total.known = match fetched.first() {
        Some(first) => first.total,
        // Nothing matches at all: no cursor narrowed an empty result.
        None if args.count && limit > 0 && args.after.is_none() && args.before.is_none() => Some(0),
        None => None,
    };
    let mut rows: Vec<R> = fetched.into_iter().map(|c| c.row).collect();
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if !forward {
        rows.reverse();
    }
    let mut out = Vec::with_capacity(rows.len());
    let last = rows.len().saturating_sub(1);
    for (i, row) in rows.into_iter().enumerate() {
        let cursor = if args.cursors || i == 0 || i == last {
            encode_cursor(values_of(&row)?)?
        } else {
            String::new()
        };
        out.push((cursor, row));
    }
    let page_info = PageInfo {
        has_next_page: if forward { more } else { args.before.is_some() },
        has_previous_page: if forward { args.after.is_some() } else { more },
        start_cursor: out.first().map(|(c, _)| c.clone()),
        end_cursor: out.last().map(|(c, _)| c.clone()),
    };
    Ok(Page {
        rows: out,
        page_info,
    })
}

/// Fetches one page of `select` (already scoped and filtered) in `order` (which must end with the
/// primary key), plus the lazily counted total.
pub async fn paginate<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    order: Vec<(E::Column, Order)>,
    args: &PageArgs,
) -> AppResult<(Page<E::Model>, TotalCount)>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E> + sea_orm::FromQueryResult + Sync,
{
    let mut total = TotalCount::new(db, select.clone().into_query());
    let keys: Vec<Key> = order
        .iter()
        .map(|(c, o)| column_key(*c, o.clone()))
        .collect();
    let page = page_by_keys(
        db,
        select,
        &keys,
        args,
        &mut total,
        None,
        |row: &E::Model| {
            order
                .iter()
                .map(|(col, _)| CursorValue::from_value(row.get(*col)))
                .collect()
        },
    )
    .await?;
    Ok((page, total))
}

/// One row of a page the planner built as JSON: the selected object's text (`j`) and its
/// ordering values (`k`, a JSON array), both as the database wrote them.
pub struct JsonRow {
    json: String,
    keys: String,
}

impl sea_orm::FromQueryResult for JsonRow {
    fn from_query_result(res: &sea_orm::QueryResult, _: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            json: res.try_get("", PLANNED)?,
            keys: res.try_get("", PLANNED_KEYS)?,
        })
    }
}

/// Alias of the planner's JSON column.
const PLANNED: &str = "j";
/// Alias of the planned row's ordering values (its cursor), a JSON array.
const PLANNED_KEYS: &str = "k";

/// A cursor value read back from the planner's JSON, by the column's type.
fn json_cursor_value<C: ColumnTrait>(col: C, v: &serde_json::Value) -> AppResult<CursorValue> {
    use sea_orm::sea_query::ColumnType as T;
    let bad = || {
        AppError::internal(format!(
            "planned page: cursor value {v} of {}",
            col.as_str()
        ))
    };
    let text = || v.as_str().ok_or_else(bad);
    Ok(match col.def().get_column_type() {
        T::String(_) | T::Text | T::Char(_) | T::Enum { .. } => CursorValue::S(text()?.to_owned()),
        T::Integer | T::BigInteger | T::SmallInteger | T::TinyInteger => {
            CursorValue::I(v.as_i64().ok_or_else(bad)?)
        }
        T::Uuid => CursorValue::U(crate::graphql::planner::uuid(text()?).ok_or_else(bad)?),
        T::TimestampWithTimeZone | T::DateTime | T::Timestamp => {
            CursorValue::T(crate::graphql::planner::instant(text()?).ok_or_else(bad)?)
        }
        T::Date => {
            CursorValue::D(NaiveDate::parse_from_str(text()?, "%Y-%m-%d").map_err(|_| bad())?)
        }
        T::Boolean => CursorValue::B(match v {
            serde_json::Value::Bool(b) => *b,
            other => other.as_i64().ok_or_else(bad)? != 0,
        }),
        _ => return Err(bad()),
    })
}

/// Like [`paginate`], but each row is one JSON document the database builds as text (`json`,
/// the planner's object of the row, read as text: `planner::sql::as_text`, spliced into the
/// statement as `planner/text.rs` keeps it) beside its ordering
/// values (a JSON array of `order`'s columns, as text): the page, its count and everything
/// nested in one statement. The rows come back as the database's text; nothing parses them
/// into a tree.
pub async fn paginate_json<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    json: &Fragment,
    order: Vec<(E::Column, Order)>,
    args: &PageArgs,
) -> AppResult<(Page<String>, TotalCount)>
where
    E: EntityTrait,
{
    let backend = db.get_database_backend();
    let columns: Vec<(&str, bool)> = order
        .iter()
        .map(|(c, _)| (sea_orm::IdenStatic::as_str(c), is_uuid(*c)))
        .collect();
    let keys_json = as_text(
        backend,
        cursor_keys(backend, E::default().table_name(), &columns),
    );
    let mut total = TotalCount::new(db, select.clone().into_query());
    let keys: Vec<Key> = order
        .iter()
        .map(|(c, o)| column_key(*c, o.clone()))
        .collect();
    let query = select
        .select_only()
        .expr_as(Expr::cust(MARKER), PLANNED)
        .expr_as(keys_json, PLANNED_KEYS);
    let page = page_by_keys(
        db,
        query,
        &keys,
        args,
        &mut total,
        Some(json),
        |row: &JsonRow| {
            let values: Vec<serde_json::Value> = serde_json::from_str(&row.keys)
                .map_err(|e| AppError::internal(format!("planned page: cursor values: {e}")))?;
            if values.len() != order.len() {
                return Err(AppError::internal("planned page: cursor values"));
            }
            order
                .iter()
                .zip(&values)
                .map(|((col, _), v)| json_cursor_value(*col, v))
                .collect()
        },
    )
    .await?;
    Ok((
        Page {
            rows: page.rows.into_iter().map(|(c, r)| (c, r.json)).collect(),
            page_info: page.page_info,
        },
        total,
    ))
}

/// Whether a column holds UUIDs (the planner writes them as hex on SQLite).
fn is_uuid<C: ColumnTrait>(col: C) -> bool {
    matches!(
        col.def().get_column_type(),
        sea_orm::sea_query::ColumnType::Uuid
    )
}

/// Like [`paginate`], ordered first by a search `rank` (an integer expression, best first), then
/// by `order` (which must end with the primary key).
pub async fn paginate_ranked<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    rank: Expr,
    order: Vec<(E::Column, Order)>,
    args: &PageArgs,
) -> AppResult<(Page<Ranked<E::Model>>, TotalCount)>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E> + sea_orm::FromQueryResult + Sync,
{
    let mut total = TotalCount::new(db, select.clone().into_query());
    let mut keys = vec![Key {
        expr: rank.clone(),
        order: Order::Desc,
        accepts: |v| matches!(v, CursorValue::I(_)),
    }];
    keys.extend(order.iter().map(|(c, o)| column_key(*c, o.clone())));
    let select = select.expr_as(rank, RANK);
    let page = page_by_keys(
        db,
        select,
        &keys,
        args,
        &mut total,
        None,
        |row: &Ranked<E::Model>| {
            let mut values = vec![CursorValue::I(row.rank)];
            for (col, _) in &order {
                values.push(CursorValue::from_value(row.model.get(*col))?);
            }
            Ok(values)
        },
    )
    .await?;
    Ok((page, total))
}

/// Declares `XConnection` and `XEdge` for a node type, with `edges`, `nodes`, `pageInfo` and a
/// lazily counted `totalCount`.
#[macro_export]
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(async_graphql::SimpleObject)]
        #[graphql(complex)]
        pub struct $conn {
            /// The rows of this page with their cursors.
            pub edges: Vec<$edge>,
            /// Paging flags and the cursors of the first and last edge.
            pub page_info: $crate::graphql::connection::PageInfo,
            #[graphql(skip)]
            pub total: $crate::graphql::connection::TotalCount,
        }

        #[async_graphql::ComplexObject]
        impl $conn {
            /// Number of rows across all pages that the caller may see and the filter matches.
            async fn total_count(&self) -> async_graphql::Result<i64> {
                Ok(self.total.get().await?)
            }

            /// The rows of this page, without cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }
        }

        /// One row of a list with its cursor.
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque position of this row, for `after:` and `before:`.
            pub cursor: String,
            /// The row.
            pub node: $node,
        }

        impl $conn {
            /// Wraps a fetched page, converting each row into its GraphQL type.
            pub fn from_page<M>(
                page: $crate::graphql::connection::Page<M>,
                total: $crate::graphql::connection::TotalCount,
                convert: impl Fn(M) -> $node,
            ) -> Self {
                Self {
                    edges: page
                        .rows
                        .into_iter()
                        .map(|(cursor, m)| $edge {
                            cursor,
                            node: convert(m),
                        })
                        .collect(),
                    page_info: page.page_info,
                    total,
                }
            }
        }
    };
}
