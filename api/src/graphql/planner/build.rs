//! The response of a planned selection, built from the JSON the database returned: each value
//! written exactly as the type's resolver would write it (the scalars' own `to_value`), keys
//! in the selection's order — without resolving a field at a time.

use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, ScalarType, Value};
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

/// One scalar.
fn scalar(kind: Kind, v: &Json) -> AppResult<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let text = || v.as_str().ok_or_else(|| odd("text", v));
    Ok(match kind {
        Kind::Text => Value::String(text()?.to_owned()),
        Kind::Int => Value::from(integer(v).ok_or_else(|| odd("integer", v))?),
        Kind::Bool => Value::Boolean(match v {
            Json::Bool(b) => *b,
            Json::Number(n) => n.as_i64() != Some(0),
            _ => return Err(odd("boolean", v)),
        }),
        Kind::Enum => Value::Enum(Name::new(text()?)),
        Kind::Instant => Timestamp(instant(text()?).ok_or_else(|| odd("instant", v))?).to_value(),
        Kind::Day => {
            Date(NaiveDate::parse_from_str(text()?, "%Y-%m-%d").map_err(|_| odd("day", v))?)
                .to_value()
        }
        Kind::Cents => Decimal(crate::domain::EurAmount::to_decimal(
            integer(v).ok_or_else(|| odd("amount", v))?,
        ))
        .to_value(),
        Kind::GlobalId(ty) => Value::String(
            crate::graphql::ids::encode(ty, uuid(text()?).ok_or_else(|| odd("id", v))?).0,
        ),
    })
}

/// One object of `shape` with the fields of `selection`, from its JSON object.
pub fn object(shape: &Shape, selection: &[Selected], json: &Json) -> AppResult<Value> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    // SQLite's aggregate sorter (`json_group_array(… ORDER BY …)`) drops the JSON type of its
    // items, which then arrive as JSON text.
    if let Json::String(text) = json {
        let parsed: Json = serde_json::from_str(text).map_err(|_| odd("object", json))?;
        return object(shape, selection, &parsed);
    }
    let mut out = IndexMap::with_capacity(selection.len());
    for s in selection {
        let value = if s.name == "__typename" {
            Value::String(shape.type_name.to_owned())
        } else {
            let v = json.get(&s.key).unwrap_or(&Json::Null);
            if let Some(f) = shape.scalar(&s.name) {
                scalar(f.kind, v)?
            } else if let Some(r) = shape.relation(&s.name) {
                match r.cardinality {
                    Cardinality::One | Cardinality::Latest(_) => object(r.shape, &s.children, v)?,
                    Cardinality::Many(_) | Cardinality::Linked { .. } => Value::List(
                        v.as_array()
                            .ok_or_else(|| odd("list", v))?
                            .iter()
                            .map(|item| object(r.shape, &s.children, item))
                            .collect::<AppResult<_>>()?,
                    ),
                }
            } else {
                return Err(AppError::internal(format!(
                    "planned page: {} has no field {}",
                    shape.type_name, s.name
                )));
            }
        };
        out.insert(Name::new(&s.key), value);
    }
    Ok(Value::Object(out))
}
