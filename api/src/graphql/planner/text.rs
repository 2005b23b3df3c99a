//! The planned part of a page's SQL, written once per selection and caller and kept as text.
//!
//! The JSON object of a planned node (`sql::pairs`) is a function of four things only: the
//! database, the shape, the collected selection and the actor (its scopes' rules and the ids
//! they bind). Nothing in it comes from the clock, and nothing from a client's argument (a
//! selection with arguments is not planned; the key holds arguments anyway). Building it with
//! sea-query and writing it out was about a third of the server's instructions for a planned
//! page (BENCHMARKS.md, Stop 25), on every request of a dashboard that polls the same page.
//!
//! So [`planned`] writes it once per key — the whole key, printed: the backend, the shape, the
//! actor as `Debug` prints every field of it, and the selection length-prefixed — and keeps
//! the text and its bound values in a small per-process LRU ([`CAPACITY`] entries). A page
//! statement selects [`MARKER`] where the object goes; [`Fragment::splice`] puts the text there
//! and binds its values: after the statement's own on PostgreSQL (its `$n` renumbered), before
//! them on SQLite (whose `?` are positional; nothing before the marker binds a value). Every
//! planned page goes through the same splice, cached or not, so the tests that compare planned
//! and resolved answers (`tests/planner.rs`, both databases) test this path on every request.

use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex};

use lru::LruCache;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{DbBackend, Statement, Value, Values};

use super::collect::Selected;
use super::shape::Shape;
use super::sql::{self, Unsupported};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

/// What a page statement selects where the planned object goes. A comment: a statement that
/// kept it would be invalid SQL (`SELECT  AS "j"`), never a silently different answer.
pub const MARKER: &str = "/*pearls:planned*/";

/// Keys kept per process. An entry is one caller's one selection (a few KiB of SQL): a node
/// serving a thousand polling dashboards keeps them all; beyond that the least recently used
/// goes, and is written again when asked for.
const CAPACITY: usize = 1024;

static FRAGMENTS: LazyLock<Mutex<LruCache<String, Arc<Fragment>>>> = LazyLock::new(|| {
    Mutex::new(LruCache::new(
        NonZeroUsize::new(CAPACITY).expect("a positive capacity"),
    ))
});

/// A planned object's SQL: text between its placeholders, and the values they bind.
#[derive(Debug)]
pub struct Fragment {
    backend: DbBackend,
    pieces: Vec<Piece>,
    values: Vec<Value>,
    len: usize,
}

#[derive(Debug)]
enum Piece {
    Text(String),
    /// The n-th value of the fragment (0-based).
    Param(usize),
}

/// The JSON text of one row of `shape` with `selection`, as `actor` may read it: from the cache,
/// or written now and kept.
pub fn planned(
    b: DbBackend,
    actor: &Actor,
    shape: &'static Shape,
    selection: &[Selected],
) -> Result<Arc<Fragment>, Unsupported> {
    let key = key(b, actor, shape, selection);
    let cache = || FRAGMENTS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(hit) = cache().get(&key) {
        return Ok(hit.clone());
    }
    let pairs = sql::pairs(b, actor, shape, selection)?;
    let fragment = Arc::new(render(b, sql::as_text(b, sql::json_object(b, pairs)))?);
    cache().put(key, fragment.clone());
    Ok(fragment)
}

/// Everything the fragment is a function of, printed so that two different inputs never print
/// alike (strings are length-prefixed).
fn key(b: DbBackend, actor: &Actor, shape: &'static Shape, selection: &[Selected]) -> String {
    let mut k = String::with_capacity(256);
    let _ = write!(
        k,
        "{b:?}|{:p}|{}|{actor:?}|",
        shape as *const Shape, shape.table
    );
    selection_key(&mut k, selection);
    k
}

fn selection_key(k: &mut String, selection: &[Selected]) {
    let text = |k: &mut String, s: &str| {
        let _ = write!(k, "{}:{s}", s.len());
    };
    for s in selection {
        text(k, &s.key);
        text(k, &s.name);
        let _ = write!(k, "({}", s.args.len());
        for (name, value) in &s.args {
            text(k, &format!("{name}={value}"));
        }
        let _ = write!(k, "){}[", s.children.len());
        selection_key(k, &s.children);
        k.push(']');
    }
}

/// Writes `expr` as the backend writes it in a select list, and splits the text at its
/// placeholders.
fn render(b: DbBackend, expr: Expr) -> Result<Fragment, Unsupported> {
    let stmt = b.build(&Query::select().expr(expr).to_owned());
    let values = stmt.values.map(|v| v.0).unwrap_or_default();
    let text = stmt.sql.strip_prefix("SELECT ").ok_or(Unsupported)?;
    let pieces = split(b, text);
    let params = params(&pieces);
    // Each value bound once, where the backend wrote it (both number them in order of
    // appearance), and nothing else looked like a placeholder: otherwise the planner does not
    // answer (the resolvers do).
    if !params.iter().copied().eq(0..values.len()) {
        return Err(Unsupported);
    }
    Ok(Fragment {
        backend: b,
        len: text.len() + 4 * values.len(),
        pieces,
        values,
    })
}

/// The values the placeholders of `pieces` bind, in order of appearance.
fn params(pieces: &[Piece]) -> Vec<usize> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Param(i) => Some(*i),
            Piece::Text(_) => None,
        })
        .collect()
}

/// The text between placeholders: `$n` on PostgreSQL, `?` on SQLite, outside quoted strings
/// and identifiers (`'…'`, `"…"`, each doubling its quote to escape it).
fn split(b: DbBackend, text: &str) -> Vec<Piece> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut next_param = 0;
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q {
                if bytes.get(i + 1) == Some(&q) {
                    i += 1;
                } else {
                    quote = None;
                }
            }
            i += 1;
            continue;
        }
        let param = match (b, c) {
            (_, b'\'' | b'"') => {
                quote = Some(c);
                None
            }
            (DbBackend::Postgres, b'$') => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|d| d.is_ascii_digit())
                    .count();
                let n: usize = text[i + 1..i + 1 + digits].parse().unwrap_or(0);
                (n > 0).then(|| (n - 1, 1 + digits))
            }
            (DbBackend::Postgres, _) => None,
            (_, b'?') => {
                next_param += 1;
                Some((next_param - 1, 1))
            }
            _ => None,
        };
        match param {
            Some((index, width)) => {
                if start < i {
                    pieces.push(Piece::Text(text[start..i].to_owned()));
                }
                pieces.push(Piece::Param(index));
                i += width;
                start = i;
            }
            None => i += 1,
        }
    }
    if start < bytes.len() {
        pieces.push(Piece::Text(text[start..].to_owned()));
    }
    pieces
}

impl Fragment {
    /// Puts the fragment where `stmt` selects [`MARKER`] (exactly once), with its values.
    pub fn splice(&self, stmt: &mut Statement) -> AppResult<()> {
        let broken = || AppError::internal("planned page: the statement's planned object");
        if stmt.db_backend != self.backend {
            return Err(broken());
        }
        let at = stmt.sql.find(MARKER).ok_or_else(broken)?;
        if stmt.sql.rfind(MARKER) != Some(at) {
            return Err(broken());
        }
        let (before, after) = (&stmt.sql[..at], &stmt.sql[at + MARKER.len()..]);
        // PostgreSQL numbers its placeholders: the fragment's follow the statement's own. SQLite's
        // are positional: the fragment's values come first, which holds only if nothing before
        // the marker binds one.
        let numbered = self.backend == DbBackend::Postgres;
        if !numbered && !params(&split(self.backend, before)).is_empty() {
            return Err(broken());
        }
        let own = stmt.values.take().map(|v| v.0).unwrap_or_default();
        let mut sql = String::with_capacity(stmt.sql.len() + self.len);
        sql.push_str(before);
        for p in &self.pieces {
            match p {
                Piece::Text(t) => sql.push_str(t),
                Piece::Param(i) if numbered => {
                    let _ = write!(sql, "${}", own.len() + i + 1);
                }
                Piece::Param(_) => sql.push('?'),
            }
        }
        let values = if numbered {
            own.into_iter().chain(self.values.iter().cloned()).collect()
        } else {
            self.values.iter().cloned().chain(own).collect()
        };
        sql.push_str(after);
        stmt.sql = sql;
        stmt.values = Some(Values(values));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_outside_quotes_only() {
        let pg = split(
            DbBackend::Postgres,
            r#"f('a$1''b', "x$2""y", $1) > $12 AND '?' = $2"#,
        );
        assert_eq!(params(&pg), [0, 11, 1]);
        let lite = split(DbBackend::Sqlite, r#"f('?', "?", ?) > ? AND "a""?" = ?"#);
        assert_eq!(params(&lite), [0, 1, 2]);
    }

    fn fragment(b: DbBackend) -> Fragment {
        render(
            b,
            Expr::cust_with_values(
                match b {
                    DbBackend::Postgres => "json_build_object('a', $1, 'b?', $2)",
                    _ => "json_object('a', ?, 'b?', ?)",
                },
                [Value::from(7), Value::from("x")],
            ),
        )
        .expect("renders")
    }

    #[test]
    fn postgres_binds_the_fragment_after_the_statement() {
        let f = fragment(DbBackend::Postgres);
        let mut stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(r#"SELECT {MARKER} AS "j" FROM t WHERE a = $1 AND b = $2"#),
            [Value::from(1), Value::from(2)],
        );
        f.splice(&mut stmt).expect("splices");
        assert_eq!(
            stmt.sql,
            r#"SELECT json_build_object('a', $3, 'b?', $4) AS "j" FROM t WHERE a = $1 AND b = $2"#
        );
        assert_eq!(
            stmt.values.expect("values").0,
            [
                Value::from(1),
                Value::from(2),
                Value::from(7),
                Value::from("x")
            ]
        );
    }

    #[test]
    fn sqlite_binds_the_fragment_first_and_refuses_a_bound_value_before_it() {
        let f = fragment(DbBackend::Sqlite);
        let mut stmt = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!(r#"SELECT {MARKER} AS "j" FROM t WHERE a = ?"#),
            [Value::from(1)],
        );
        f.splice(&mut stmt).expect("splices");
        assert_eq!(
            stmt.sql,
            r#"SELECT json_object('a', ?, 'b?', ?) AS "j" FROM t WHERE a = ?"#
        );
        assert_eq!(
            stmt.values.expect("values").0,
            [Value::from(7), Value::from("x"), Value::from(1)]
        );
        let mut bound_before = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!(r#"SELECT ?, {MARKER} AS "j" FROM t"#),
            [Value::from(1)],
        );
        assert!(f.splice(&mut bound_before).is_err());
        let mut twice = Statement::from_string(
            DbBackend::Sqlite,
            format!("SELECT {MARKER}, {MARKER} FROM t"),
        );
        assert!(f.splice(&mut twice).is_err());
    }

    #[test]
    fn keys_tell_callers_and_selections_apart() {
        use crate::policy::{Actor, Principal};
        use entity::Role;
        let field = |key: &str, name: &str| Selected {
            key: key.into(),
            name: name.into(),
            args: vec![],
            children: vec![],
        };
        let user = |org: Option<uuid::Uuid>| {
            Actor::User(Principal {
                user_id: uuid::Uuid::nil(),
                role: Role::Municipality,
                organisation_id: org,
            })
        };
        let shape = &super::super::APPLICATION;
        let a = key(
            DbBackend::Postgres,
            &user(None),
            shape,
            &[field("title", "title")],
        );
        let org = key(
            DbBackend::Postgres,
            &user(Some(uuid::Uuid::max())),
            shape,
            &[field("title", "title")],
        );
        let alias = key(
            DbBackend::Postgres,
            &user(None),
            shape,
            &[field("t", "title")],
        );
        let lite = key(
            DbBackend::Sqlite,
            &user(None),
            shape,
            &[field("title", "title")],
        );
        // A key that a different split of the same characters would print alike.
        let joined = key(
            DbBackend::Postgres,
            &user(None),
            shape,
            &[field("titl", "etitle")],
        );
        let all = [&a, &org, &alias, &lite, &joined];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }
}
