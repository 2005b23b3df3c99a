//! Scalars of the contract that async-graphql does not name the way CONVENTIONS.md does.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date, `YYYY-MM-DD` (ISO 8601).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date in ISO 8601 form, `YYYY-MM-DD` (years 0001 to 9999, four digits).
#[Scalar(
    name = "Date",
    specified_by_url = "https://scalars.graphql.org/andimarek/local-date"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        // Four-digit years only (RFC 3339's `full-date`): chrono would also read `+262142-…`,
        // where a day's arithmetic overflows.
        match &value {
            Value::String(s) if s.len() == 10 => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date as YYYY-MM-DD")),
            Value::String(_) => Err(InputValueError::custom(
                "expected a date as YYYY-MM-DD (years 0001 to 9999)",
            )),
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

/// An ISO 3166-1 alpha-2 country code such as `SE` or `LV` (in a query also unquoted: `[EE, LV]`).
#[Scalar(
    name = "CountryCode",
    specified_by_url = "https://www.iso.org/iso-3166-country-codes.html"
)]
impl ScalarType for CountryCode {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => CountryCode::parse_str(s),
            Value::Enum(name) => CountryCode::parse_str(name.as_str()),
            _ => return Err(InputValueError::expected_type(value)),
        }
        .ok_or_else(|| InputValueError::custom("expected an ISO 3166-1 alpha-2 country code"))
    }

    fn is_valid(value: &Value) -> bool {
        match value {
            Value::String(s) => CountryCode::parse_str(s).is_some(),
            Value::Enum(name) => CountryCode::parse_str(name.as_str()).is_some(),
            _ => false,
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// An instant in UTC, RFC 3339 with a `Z` suffix (`2026-11-24T09:30:00Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub chrono::DateTime<chrono::Utc>);

impl From<chrono::DateTime<chrono::Utc>> for Timestamp {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Timestamp(t)
    }
}

/// An instant in time, RFC 3339 (ISO 8601). Output is always UTC with a `Z` suffix; input may
/// carry any offset and is converted to UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://scalars.graphql.org/andimarek/date-time"
)]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| Timestamp(t.with_timezone(&chrono::Utc)))
                .map_err(|_| InputValueError::custom("expected an RFC 3339 date-time")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

/// A decimal number, exact (money is EUR with at most two decimals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal(pub rust_decimal::Decimal);

impl From<rust_decimal::Decimal> for Decimal {
    fn from(d: rust_decimal::Decimal) -> Self {
        Decimal(d)
    }
}

/// An exact decimal number as a string, e.g. `"1234.50"` (money: EUR, at most two decimals).
/// Numbers are accepted on input too, but strings avoid floating-point rounding in clients.
#[Scalar(
    name = "Decimal",
    specified_by_url = "https://speleotrove.com/decimal/daconvs.html"
)]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        use std::str::FromStr;
        match &value {
            Value::String(s) => rust_decimal::Decimal::from_str(s.trim())
                .map(Decimal)
                .map_err(|_| {
                    InputValueError::custom("expected a decimal number such as \"1234.50\"")
                }),
            Value::Number(n) => rust_decimal::Decimal::from_str(&n.to_string())
                .map(Decimal)
                .map_err(|_| InputValueError::custom("expected a decimal number")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn dates_are_four_digit_calendar_days() {
        assert_eq!(
            Date::parse(s("2026-12-04")).map(|d| d.0).ok(),
            NaiveDate::from_ymd_opt(2026, 12, 4)
        );
        for bad in [
            "+262142-12-31",
            "2026-13-01",
            "2026-02-30",
            "04.12.2026",
            "",
            "2026-1-4",
        ] {
            assert!(Date::parse(s(bad)).is_err(), "{bad}");
        }
        assert!(Date::parse(Value::from(20261204)).is_err());
        assert_eq!(
            Date(NaiveDate::from_ymd_opt(1, 1, 1).unwrap()).to_value(),
            s("0001-01-01")
        );
    }

    #[test]
    fn instants_are_rfc_3339_and_come_back_in_utc() {
        let t = Timestamp::parse(s("2026-12-04T10:00:00+02:00")).expect("parses");
        assert_eq!(t.to_value(), s("2026-12-04T08:00:00Z"));
        for bad in ["2026-12-04", "2026-12-04 10:00:00", "yesterday"] {
            assert!(Timestamp::parse(s(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn country_codes_are_two_letters_in_upper_case() {
        assert_eq!(
            CountryCode::parse(s(" lv ")).ok(),
            Some(CountryCode("LV".into()))
        );
        assert_eq!(
            CountryCode::parse(Value::Enum(async_graphql::Name::new("EE"))).ok(),
            Some(CountryCode("EE".into()))
        );
        for bad in ["LVA", "L", "1V", ""] {
            assert!(CountryCode::parse(s(bad)).is_err(), "{bad}");
        }
    }
}

/// Any JSON value (RFC 8259), as stored: audit entries' changes.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonValue(pub serde_json::Value);

/// A JSON value (RFC 8259) of any shape.
#[Scalar(
    name = "JSON",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc8259"
)]
impl ScalarType for JsonValue {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(JsonValue)
            .map_err(|_| InputValueError::custom("expected a JSON value"))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}
