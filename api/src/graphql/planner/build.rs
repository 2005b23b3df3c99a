//! The response of a planned selection, written as JSON text from the JSON the database
//! returned: each value exactly as the type's resolver and the response serialiser would write
//! it (the scalars' own `to_value` where the text needs converting), keys in the selection's
//! order — without resolving a field at a time or building a response value per field.

use async_graphql::{ScalarType, Value};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as Json;
use uuid::Uuid;

use super::collect::Selected;
use super::shape::{Cardinality, Kind, Shape};
use crate::error::{AppError, AppResult};
use crate::graphql::scalars::{Date, Decimal, Timestamp};

fn odd(what: &str, v: &Json) -> AppError {
    AppError::internal(format!("planned page: unexpected {what} {v}"))
}

/// An instant as either database writes it into JSON (PostgreSQL: RFC 3339; SQLite: the text
/// sqlx stored, `YYYY-MM-DD HH:MM:SS[.f]+00:00`).
pub fn instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A UUID as either database writes it (hyphenated, or SQLite's hex of the blob).
pub fn uuid(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s).ok()
}

fn integer(v: &Json) -> Option<i64> {
    v.as_i64()
}

/// A scalar whose text differs from the database's (an instant, a day, an amount), converted
/// by its type's own `to_value`.
fn converted(kind: Kind, v: &Json) -> AppResult<Value> {
    let text = || v.as_str().ok_or_else(|| odd("text", v));
    Ok(match kind {
        Kind::Instant => Timestamp(instant(text()?).ok_or_else(|| odd("instant", v))?).to_value(),
        Kind::Day => {
            Date(NaiveDate::parse_from_str(text()?, "%Y-%m-%d").map_err(|_| odd("day", v))?)
                .to_value()
        }
        Kind::Cents => Decimal(crate::domain::EurAmount::to_decimal(
            integer(v).ok_or_else(|| odd("amount", v))?,
        ))
        .to_value(),
        _ => return Err(odd("value", v)),
    })
}

/// Appends a JSON string, escaped as the response serialiser escapes it.
pub fn string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(out, s).expect("a string serialises into memory");
}

/// Appends a response value as the response serialiser writes it.
pub fn value(out: &mut Vec<u8>, v: &Value) {
    serde_json::to_writer(out, v).expect("a value serialises into memory");
}

/// Appends a JSON object with one entry per selected field, keyed by its response key (alias),
/// in the selection's order; `value` writes each field's value.
pub fn fields<F>(out: &mut Vec<u8>, selection: &[Selected], mut value: F) -> AppResult<()>
where
    F: FnMut(&mut Vec<u8>, &Selected) -> AppResult<()>,
{
    out.push(b'{');
    for (i, f) in selection.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, &f.key);
        out.push(b':');
        value(out, f)?;
    }
    out.push(b'}');
    Ok(())
}

/// Appends a JSON list of what each of `items` writes.
pub fn list<W>(out: &mut Vec<u8>, items: impl Iterator<Item = W>) -> AppResult<()>
where
    W: FnOnce(&mut Vec<u8>) -> AppResult<()>,
{
    out.push(b'[');
    for (i, write) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out)?;
    }
    out.push(b']');
    Ok(())
}

/// Appends one scalar, written as the type's resolver would write it.
fn scalar_text(out: &mut Vec<u8>, kind: Kind, v: &Json) -> AppResult<()> {
    use std::io::Write;
    match (kind, v) {
        (_, Json::Null) => out.extend_from_slice(b"null"),
        (Kind::Text | Kind::Enum, Json::String(t)) => string(out, t),
        (Kind::Int, _) => {
            let n = integer(v).ok_or_else(|| odd("integer", v))?;
            write!(out, "{n}").expect("writing into memory");
        }
        (Kind::Bool, _) => out.extend_from_slice(match v {
            Json::Bool(true) => b"true",
            Json::Bool(false) => b"false",
            Json::Number(n) if n.as_i64() != Some(0) => b"true",
            Json::Number(_) => b"false",
            _ => return Err(odd("boolean", v)),
        }),
        (Kind::GlobalId(ty), Json::String(t)) => {
            let id = uuid(t).ok_or_else(|| odd("id", v))?;
            string(out, &crate::graphql::ids::encode(ty, id).0);
        }
        (Kind::Instant | Kind::Day | Kind::Cents, _) => value(out, &converted(kind, v)?),
        // Text, an enum or an id that is not a string.
        _ => return Err(odd("value", v)),
    }
    Ok(())
}

/// Appends one object of `shape` with the fields of `selection`, from its JSON object, as the
/// response serialiser would write the resolvers' answer: keys (aliases) in the selection's
/// order, each value as its type writes it.
pub fn object(
    out: &mut Vec<u8>,
    shape: &Shape,
    selection: &[Selected],
    json: &Json,
) -> AppResult<()> {
    if json.is_null() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    // SQLite's aggregate sorter (`json_group_array(… ORDER BY …)`) drops the JSON type of its
    // items, which then arrive as JSON text.
    if let Json::String(text) = json {
        let parsed: Json = serde_json::from_str(text).map_err(|_| odd("object", json))?;
        return object(out, shape, selection, &parsed);
    }
    fields(out, selection, |out, s| {
        if s.name == "__typename" {
            string(out, shape.type_name);
            return Ok(());
        }
        let v = json.get(&s.key).unwrap_or(&Json::Null);
        if let Some(f) = shape.scalar(&s.name) {
            scalar_text(out, f.kind, v)
        } else if let Some(r) = shape.relation(&s.name) {
            match r.cardinality {
                Cardinality::One | Cardinality::Latest(_) | Cardinality::Embedded => {
                    object(out, r.shape, &s.children, v)
                }
                Cardinality::Many(_) | Cardinality::Linked { .. } => list(
                    out,
                    v.as_array()
                        .ok_or_else(|| odd("list", v))?
                        .iter()
                        .map(|item| {
                            move |out: &mut Vec<u8>| object(out, r.shape, &s.children, item)
                        }),
                ),
            }
        } else {
            Err(AppError::internal(format!(
                "planned page: {} has no field {}",
                shape.type_name, s.name
            )))
        }
    })
}
