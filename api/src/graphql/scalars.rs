//! Scalars of the contract that async-graphql does not name the way CONVENTIONS.md does.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date, `YYYY-MM-DD` (ISO 8601).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date in ISO 8601 form, `YYYY-MM-DD`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date as YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case (`SE`, `LV`, …).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CountryCode(pub String);

impl CountryCode {
    /// Parses two ASCII letters, accepting lower case.
    pub fn parse_str(s: &str) -> Option<Self> {
        let s = s.trim();
        (s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()))
            .then(|| CountryCode(s.to_ascii_uppercase()))
    }
}

/// An ISO 3166-1 alpha-2 country code such as `SE` or `LV`.
#[Scalar(name = "CountryCode")]
impl ScalarType for CountryCode {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => CountryCode::parse_str(s)
                .ok_or_else(|| InputValueError::custom("expected an ISO 3166-1 alpha-2 country code")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}
