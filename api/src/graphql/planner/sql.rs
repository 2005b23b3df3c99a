//! The SQL of a planned selection: each object is a JSON object built by the database
//! (`json_object` on SQLite, `json_build_object` on PostgreSQL) holding exactly the selected
//! fields under their response keys; each relation is a correlated sub-query over its scope.

use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, SelectStatement, SubQueryStatement};

use super::collect::Selected;
use super::shape::{Cardinality, Kind, Readers, Relation, ScalarField, Shape, Source};
use crate::policy::Actor;

/// The selection asks for something the planner does not read: the resolvers answer instead.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsupported;

/// A column of a table.
fn column(table: &str, column: &str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

/// A JSON object key, written into the SQL: response keys are GraphQL names
/// (`[_A-Za-z][_0-9A-Za-z]*`), so they need no quoting beyond the string literal.
fn key(name: &str) -> Result<Expr, Unsupported> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Unsupported);
    }
    Ok(Expr::cust(format!("'{name}'")))
}

/// A JSON value as its text, as the server reads a planned row: PostgreSQL's `json` is text
/// already (the cast copies it), and reading it as text spares the driver building a JSON tree
/// that the page writer would only take apart again. SQLite's JSON functions return text.
pub fn as_text(b: DbBackend, json: Expr) -> Expr {
    match b {
        DbBackend::Postgres => json.cast_as(Alias::new("text")),
        _ => json,
    }
}

pub fn json_object(b: DbBackend, pairs: Vec<Expr>) -> Expr {
    let f = match b {
        DbBackend::Postgres => "json_build_object",
        _ => "json_object",
    };
    Func::cust(Alias::new(f)).args(pairs).into()
}

/// A sub-query as an expression. On SQLite a JSON value loses its JSON type across a
/// sub-query, so it is read back with `json(…)` (which keeps NULL as NULL).
fn sub_json(b: DbBackend, stmt: SelectStatement) -> Expr {
    let sub = Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(stmt)));
    match b {
        DbBackend::Postgres => sub,
        _ => Func::cust(Alias::new("json")).arg(sub).into(),
    }
}

/// The SQL of a scalar, as the JSON value the builder reads.
fn scalar(b: DbBackend, table: &str, f: &ScalarField) -> Expr {
    match f.source {
        // SQLite keeps UUIDs as 16-byte blobs, which JSON cannot hold: as hex.
        Source::Column(c) if matches!(f.kind, Kind::GlobalId(_)) && b != DbBackend::Postgres => {
            Func::cust(Alias::new("lower"))
                .arg(Func::cust(Alias::new("hex")).arg(column(table, c)))
                .into()
        }
        Source::Column(c) => column(table, c),
        Source::Positive(c) => column(table, c).gt(0),
    }
}

/// The JSON object of one row of `shape` with the fields of `selection`.
pub fn object(
    b: DbBackend,
    actor: &Actor,
    shape: &Shape,
    selection: &[Selected],
) -> Result<Expr, Unsupported> {
    Ok(json_object(b, pairs(b, actor, shape, selection)?))
}

/// The key/value arguments of [`object`].
pub fn pairs(
    b: DbBackend,
    actor: &Actor,
    shape: &Shape,
    selection: &[Selected],
) -> Result<Vec<Expr>, Unsupported> {
    let mut out = Vec::with_capacity(selection.len() * 2);
    for s in selection {
        if s.name == "__typename" {
            continue;
        }
        if !s.args.is_empty() {
            return Err(Unsupported);
        }
        if let Some(f) = shape.scalar(&s.name) {
            if !s.children.is_empty()
                || (f.readers == Readers::SignedIn && !matches!(actor, Actor::User(_)))
            {
                return Err(Unsupported);
            }
            out.push(key(&s.key)?);
            out.push(scalar(b, shape.table, f));
        } else if let Some(r) = shape.relation(&s.name) {
            out.push(key(&s.key)?);
            out.push(relation(b, actor, shape, r, &s.children)?);
        } else {
            return Err(Unsupported);
        }
    }
    Ok(out)
}

/// `ORDER BY` terms of a relation's rows (ascending); names sort bytewise, as the resolvers
/// sort them.
fn order_terms(b: DbBackend, table: &str, order: &[&str]) -> Vec<String> {
    order
        .iter()
        .map(|c| {
            let collate = if *c == "name" && b == DbBackend::Postgres {
                " COLLATE \"C\""
            } else {
                ""
            };
            format!("\"{table}\".\"{c}\"{collate}")
        })
        .collect()
}

/// A JSON array of the rows of a relation, in order (`[]` when there are none).
fn aggregate(b: DbBackend, item: Expr, order: Vec<String>) -> Expr {
    let order = order.join(", ");
    match b {
        DbBackend::Postgres => Expr::cust_with_exprs(
            format!("COALESCE(json_agg($1 ORDER BY {order}), '[]'::json)"),
            [item],
        ),
        // sea-query's placeholder for a nested expression is the backend's own (`?` here).
        _ => Expr::cust_with_exprs(format!("json_group_array(? ORDER BY {order})"), [item]),
    }
}

/// The correlated sub-query of a relation: its rows within the relation's scope, tied to the
/// parent row.
fn relation(
    b: DbBackend,
    actor: &Actor,
    parent: &Shape,
    r: &Relation,
    selection: &[Selected],
) -> Result<Expr, Unsupported> {
    let child = r.shape.table;
    let item = object(b, actor, r.shape, selection)?;
    if r.cardinality == Cardinality::Embedded {
        // The parent row's own columns: no scope, no sub-query.
        return Ok(item);
    }
    let mut stmt = (r.scope)(actor);
    stmt.clear_selects();
    let tie = column(child, r.child_column)
        .equals((Alias::new(parent.table), Alias::new(r.parent_column)));
    match r.cardinality {
        Cardinality::One => {
            stmt.expr(item).and_where(tie);
        }
        Cardinality::Latest(order) => {
            stmt.expr(item).and_where(tie).limit(1);
            for term in order_terms(b, child, order) {
                stmt.order_by_expr(Expr::cust(term), sea_orm::Order::Desc);
            }
        }
        Cardinality::Many(order) => {
            stmt.expr(aggregate(b, item, order_terms(b, child, order)))
                .and_where(tie);
        }
        Cardinality::Embedded => unreachable!("answered above"),
        Cardinality::Linked {
            link,
            to_parent,
            to_child,
            order,
        } => {
            let links = sea_orm::sea_query::Query::select()
                .expr(column(link, to_child))
                .from(Alias::new(link))
                .and_where(
                    column(link, to_parent)
                        .equals((Alias::new(parent.table), Alias::new(r.parent_column))),
                )
                .to_owned();
            stmt.expr(aggregate(b, item, order_terms(b, child, order)))
                .and_where(column(child, r.child_column).in_subquery(links));
        }
    }
    Ok(sub_json(b, stmt))
}

/// The JSON array of a row's ordering columns (its cursor), as the builder reads them back.
pub fn cursor_keys(b: DbBackend, table: &str, columns: &[(&str, bool)]) -> Expr {
    let items: Vec<Expr> = columns
        .iter()
        .map(|(c, is_uuid)| {
            if *is_uuid && b != DbBackend::Postgres {
                Func::cust(Alias::new("lower"))
                    .arg(Func::cust(Alias::new("hex")).arg(column(table, c)))
                    .into()
            } else {
                column(table, c)
            }
        })
        .collect();
    let f = match b {
        DbBackend::Postgres => "json_build_array",
        _ => "json_array",
    };
    Func::cust(Alias::new(f)).args(items).into()
}
