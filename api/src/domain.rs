//! Checked domain values. GraphQL inputs are parsed into these at the edge, so services never see
//! an unchecked string ("parse, don't validate").

use crate::error::{AppError, AppResult};

/// Trimmed text that is not empty and not longer than a limit (in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NonEmptyText(String);

impl NonEmptyText {
    pub fn parse(field: &str, raw: &str, max_chars: usize) -> AppResult<Self> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(AppError::bad_input(field, "must not be empty"));
        }
        if t.chars().count() > max_chars {
            return Err(AppError::bad_input(
                field,
                format!("must be at most {max_chars} characters"),
            ));
        }
        if t.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(AppError::bad_input(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Written as the text it holds (audit entries record parsed values).
impl serde::Serialize for NonEmptyText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An e-mail address, normalised to lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let e = raw.trim().to_lowercase();
        let valid = e.len() <= 254
            && e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !e.chars().any(|c| c.is_whitespace() || c.is_control())
                    && e.matches('@').count() == 1
            });
        if valid {
            Ok(Self(e))
        } else {
            Err(AppError::bad_input(field, "not a valid e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            NonEmptyText::parse("t", "  Kiel ", 10)
                .unwrap()
                .into_inner(),
            "Kiel"
        );
        assert!(NonEmptyText::parse("t", "   ", 10).is_err());
        assert!(NonEmptyText::parse("t", "abcdefghijk", 10).is_err());
        assert!(NonEmptyText::parse("t", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("e", " Mentor@Pearls.Example ")
                .unwrap()
                .as_str(),
            "mentor@pearls.example"
        );
        for bad in [
            "",
            "no-at",
            "a@b",
            "@x.org",
            "a@@x.org",
            "a b@x.org",
            "a@.x",
        ] {
            assert!(Email::parse("e", bad).is_err(), "{bad}");
        }
    }
}

/// An amount of euros with at most two decimals, stored as integer cents (exact on both
/// databases and summable in SQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EurAmount(i64);

impl EurAmount {
    /// Largest amount accepted: one billion euros.
    const MAX_CENTS: i64 = 100_000_000_000;

    pub fn parse(field: &str, value: rust_decimal::Decimal) -> AppResult<Self> {
        if value.is_sign_negative() {
            return Err(AppError::bad_input(field, "must not be negative"));
        }
        if value.normalize().scale() > 2 {
            return Err(AppError::bad_input(
                field,
                "at most two decimals (euro cents)",
            ));
        }
        // Checked: a value near Decimal's maximum would overflow (a panic) before "too large".
        let cents = value
            .checked_mul(rust_decimal::Decimal::ONE_HUNDRED)
            .ok_or_else(|| AppError::bad_input(field, "too large"))?
            .trunc();
        let cents: i64 = cents
            .try_into()
            .map_err(|_| AppError::bad_input(field, "too large"))?;
        if cents > Self::MAX_CENTS {
            return Err(AppError::bad_input(field, "too large"));
        }
        Ok(Self(cents))
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Cents back to a decimal with two places.
    pub fn to_decimal(cents: i64) -> rust_decimal::Decimal {
        rust_decimal::Decimal::new(cents, 2)
    }
}

/// A rate in percent with at most two decimals, 0 to 100, stored as hundredths of a percent
/// (basis points: 80 % = 8000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percent(i32);

impl Percent {
    pub fn parse(field: &str, value: rust_decimal::Decimal) -> AppResult<Self> {
        if value.is_sign_negative() || value > rust_decimal::Decimal::ONE_HUNDRED {
            return Err(AppError::bad_input(field, "a percentage from 0 to 100"));
        }
        if value.normalize().scale() > 2 {
            return Err(AppError::bad_input(field, "at most two decimals"));
        }
        let bp = (value * rust_decimal::Decimal::ONE_HUNDRED).trunc();
        let bp: i32 = bp
            .try_into()
            .map_err(|_| AppError::bad_input(field, "a percentage from 0 to 100"))?;
        Ok(Self(bp))
    }

    pub fn basis_points(self) -> i32 {
        self.0
    }

    /// Basis points back to a percentage with two places.
    pub fn to_decimal(bp: i32) -> rust_decimal::Decimal {
        rust_decimal::Decimal::new(bp.into(), 2)
    }
}

/// An ISO 639-1 language code (`en`, `de`, `lv`), normalised to lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let code = raw.trim().to_lowercase();
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(AppError::bad_input(
                field,
                "an ISO 639-1 code such as \"en\"",
            ));
        }
        Ok(Self(code))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An indicator value with at most three decimals, stored as integer thousandths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure(i64);

impl Measure {
    pub fn parse(field: &str, value: rust_decimal::Decimal) -> AppResult<Self> {
        if value.normalize().scale() > 3 {
            return Err(AppError::bad_input(field, "at most three decimals"));
        }
        let milli = value
            .checked_mul(rust_decimal::Decimal::ONE_THOUSAND)
            .ok_or_else(|| AppError::bad_input(field, "too large"))?
            .trunc();
        let milli: i64 = milli
            .try_into()
            .map_err(|_| AppError::bad_input(field, "too large"))?;
        if milli.abs() > 1_000_000_000_000_000 {
            return Err(AppError::bad_input(field, "too large"));
        }
        Ok(Self(milli))
    }

    pub fn milli(self) -> i64 {
        self.0
    }

    /// Thousandths back to a decimal, without trailing zeros.
    pub fn to_decimal(milli: i64) -> rust_decimal::Decimal {
        rust_decimal::Decimal::new(milli, 3).normalize()
    }
}

/// An http(s) link.
pub fn parse_url(field: &str, raw: &str) -> AppResult<String> {
    let t = raw.trim();
    let ok = (t.starts_with("https://") || t.starts_with("http://"))
        && t.len() <= 2000
        && t.len() > "https://".len()
        && !t.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(t.to_owned())
    } else {
        Err(AppError::bad_input(field, "must be an http(s) link"))
    }
}

/// The order people expect of codes such as `RCO81`, `RCO115`, `WP2`, `A1.10`: runs of digits
/// compare as numbers, the rest as text (so `RCO81` < `RCO115` and `A1.2` < `A1.10`).
pub fn natural_key(code: &str) -> Vec<CodePart> {
    let mut parts = Vec::new();
    let mut rest = code;
    while let Some(c) = rest.chars().next() {
        let digits = c.is_ascii_digit();
        let end = rest
            .find(|ch: char| ch.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        parts.push(if digits {
            let n = run.trim_start_matches('0');
            CodePart::Number(n.len(), n.to_owned())
        } else {
            CodePart::Text(run.to_owned())
        });
        rest = tail;
    }
    parts
}

/// One run of a code in [`natural_key`]: a number (compared by its length without leading
/// zeros, then its digits, so any length works) or text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CodePart {
    Number(usize, String),
    Text(String),
}

#[cfg(test)]
mod money_tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    #[test]
    fn euro_amounts_are_exact_cents() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(
            EurAmount::parse("b", d("1234.50")).unwrap().cents(),
            123_450
        );
        assert_eq!(EurAmount::parse("b", d("0.1")).unwrap().cents(), 10);
        assert_eq!(EurAmount::to_decimal(123_450).to_string(), "1234.50");
        assert!(EurAmount::parse("b", d("0.001")).is_err());
        assert!(EurAmount::parse("b", d("-1")).is_err());
        assert!(EurAmount::parse("b", d("1000000000.01")).is_err());
        let huge = d("1000000000000000000000000000");
        assert!(EurAmount::parse("b", huge).is_err(), "no overflow panic");
        assert!(Measure::parse("m", huge).is_err(), "no overflow panic");
        assert!(Percent::parse("r", huge).is_err());
        assert_eq!(Percent::parse("r", d("80")).unwrap().basis_points(), 8000);
        assert_eq!(Percent::parse("r", d("12.5")).unwrap().basis_points(), 1250);
        assert_eq!(Percent::to_decimal(8000).to_string(), "80.00");
        for bad in ["-1", "100.01", "1.001"] {
            assert!(Percent::parse("r", d(bad)).is_err(), "{bad}");
        }
        assert_eq!(LanguageCode::parse("l", " DE ").unwrap().into_inner(), "de");
        for bad in ["", "eng", "e1", "ä"] {
            assert!(LanguageCode::parse("l", bad).is_err(), "{bad}");
        }
        assert_eq!(Measure::parse("m", d("12.345")).unwrap().milli(), 12_345);
        assert_eq!(Measure::to_decimal(12_000).to_string(), "12");
        assert!(Measure::parse("m", d("0.0001")).is_err());
    }

    #[test]
    fn codes_sort_naturally() {
        let mut codes = vec![
            "RCR104", "RCO115", "RCO81", "A1.10", "A1.2", "RCR79", "A01.3",
        ];
        codes.sort_by_cached_key(|c| natural_key(c));
        assert_eq!(
            codes,
            [
                "A1.2", "A01.3", "A1.10", "RCO81", "RCO115", "RCR79", "RCR104"
            ]
        );
    }

    #[test]
    fn links_are_http() {
        assert!(parse_url("e", "https://example.org/x").is_ok());
        assert!(parse_url("e", "javascript:alert(1)").is_err());
        assert!(parse_url("e", "https://").is_err());
    }
}
