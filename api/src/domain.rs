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
