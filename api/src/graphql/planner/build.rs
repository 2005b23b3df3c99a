//! The response of a planned selection, written as JSON text from the JSON the database
//! returned: each value exactly as the type's resolver and the response serialiser would write
//! it (the scalars' own `to_value` where the text needs converting), keys in the selection's
//! order — without resolving a field at a time or building a response value per field.

use async_graphql::{ScalarType, Value};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value as Json;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::collect::Selected;
use super::shape::{Cardinality, Kind, Shape};
use crate::error::{AppError, AppResult};
use crate::graphql::scalars::{Date, Decimal, Timestamp};

fn odd(what: &str, v: impl std::fmt::Display) -> AppError {
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

/// A scalar whose text differs from the database's (an instant, a day, an amount), converted
/// by its type's own `to_value`.
fn converted(kind: Kind, v: &Json) -> AppResult<Value> {
    let text = || v.as_str().ok_or_else(|| odd("text", v.to_string()));
    Ok(match kind {
        Kind::Instant => {
            Timestamp(instant(text()?).ok_or_else(|| odd("instant", v.to_string()))?).to_value()
        }
        Kind::Day => Date(
            NaiveDate::parse_from_str(text()?, "%Y-%m-%d")
                .map_err(|_| odd("day", v.to_string()))?,
        )
        .to_value(),
        Kind::Cents => Decimal(crate::domain::EurAmount::to_decimal(
            v.as_i64().ok_or_else(|| odd("amount", v.to_string()))?,
        ))
        .to_value(),
        _ => return Err(odd("value", v.to_string())),
    })
}

/// A JSON text as the database wrote it, borrowed: the planned page is written from the
/// database's text without building a JSON tree of it.
pub fn raw(text: &str) -> AppResult<&RawValue> {
    serde_json::from_str(text).map_err(|_| odd("JSON", text))
}

/// The entries of a JSON object, borrowed from its text, in the text's order. Keys are response
/// keys (GraphQL names), which JSON writes without escapes.
struct Entries<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(Visit)
    }
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

/// Appends one scalar, written as the type's resolver would write it, from the database's
/// JSON text of it.
fn scalar_text(out: &mut Vec<u8>, kind: Kind, v: &RawValue) -> AppResult<()> {
    use std::io::Write;
    let t = v.get();
    if t == "null" {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    let parsed = || serde_json::from_str::<Json>(t).map_err(|_| odd("value", t));
    match kind {
        // A JSON string without a backslash has no escapes: its text is exactly what the
        // response serialiser writes for it (both escape only quotes, backslashes and control
        // characters, each with a backslash).
        Kind::Text | Kind::Enum if t.starts_with('"') && !t.contains('\\') => {
            out.extend_from_slice(t.as_bytes());
        }
        Kind::Text | Kind::Enum => match parsed()? {
            Json::String(s) => string(out, &s),
            _ => return Err(odd("text", t)),
        },
        Kind::Int => {
            let n: i64 = t.parse().map_err(|_| odd("integer", t))?;
            write!(out, "{n}").expect("writing into memory");
        }
        Kind::Bool => out.extend_from_slice(match t {
            "true" => b"true",
            "false" => b"false",
            _ => match t.parse::<i64>() {
                Ok(0) => b"false",
                Ok(_) => b"true",
                Err(_) => return Err(odd("boolean", t)),
            },
        }),
        Kind::GlobalId(ty) => {
            let hex: &str = serde_json::from_str(t).map_err(|_| odd("id", t))?;
            let id = uuid(hex).ok_or_else(|| odd("id", t))?;
            string(out, &crate::graphql::ids::encode(ty, id).0);
        }
        Kind::Instant | Kind::Day | Kind::Cents => value(out, &converted(kind, &parsed()?)?),
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
    json: &RawValue,
) -> AppResult<()> {
    let t = json.get();
    if t == "null" {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    // SQLite's aggregate sorter (`json_group_array(… ORDER BY …)`) drops the JSON type of its
    // items, which then arrive as JSON text.
    if t.starts_with('"') {
        let text: String = serde_json::from_str(t).map_err(|_| odd("object", t))?;
        return object(out, shape, selection, raw(&text)?);
    }
    let Entries(entries) = serde_json::from_str(t).map_err(|_| odd("object", t))?;
    let null = RawValue::NULL;
    fields(out, selection, |out, s| {
        if s.name == "__typename" {
            string(out, shape.type_name);
            return Ok(());
        }
        let v = entries
            .iter()
            .find(|(k, _)| *k == s.key)
            .map_or(null, |(_, v)| *v);
        if let Some(f) = shape.scalar(&s.name) {
            scalar_text(out, f.kind, v)
        } else if let Some(r) = shape.relation(&s.name) {
            match r.cardinality {
                Cardinality::One | Cardinality::Latest(_) | Cardinality::Embedded => {
                    object(out, r.shape, &s.children, v)
                }
                Cardinality::Many(_) | Cardinality::Linked { .. } => {
                    let items: Vec<&RawValue> =
                        serde_json::from_str(v.get()).map_err(|_| odd("list", v.get()))?;
                    list(
                        out,
                        items.into_iter().map(|item| {
                            move |out: &mut Vec<u8>| object(out, r.shape, &s.children, item)
                        }),
                    )
                }
            }
        } else {
            Err(AppError::internal(format!(
                "planned page: {} has no field {}",
                shape.type_name, s.name
            )))
        }
    })
}
