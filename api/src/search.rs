//! Full-text search that behaves the same on PostgreSQL and SQLite.
//!
//! Text is normalised here, in Rust, before either database sees it: Unicode-decomposed with
//! diacritics removed (so "Rūjiena" finds "Rujiena" and back), lower-cased, split into words and
//! reduced to English stems ("festivals" and "festival" meet). Both databases then index these
//! ready-made tokens with a tokenizer that only splits on spaces (`simple` / `unicode61`), so a
//! query matches the same rows on both.
//!
//! A user's query is text, never syntax: it is cut into the same words, so quotes, operators or
//! SQL in it are just characters that separate words. Every word must match (AND); the last one
//! also matches as a prefix, for search-as-you-type. The rank is computed the same way on both
//! databases: for each word, 4 if it is in the title, 2 in the summary, 1 in the body.

use rust_stemmers::{Algorithm, Stemmer};
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, SimpleExpr};
use unicode_normalization::UnicodeNormalization;

/// Most words of a query that are used.
pub const MAX_TERMS: usize = 10;
/// Longest word kept.
const MAX_WORD: usize = 50;

/// Letters that Unicode decomposition leaves whole but readers treat as plain letters.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' | 'Ł' => "l",
        'ø' | 'Ø' => "o",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ß' => "ss",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        _ => return None,
    })
}

/// The words of a text: diacritics removed, lower case, split on anything not a letter or digit.
pub fn words(text: &str) -> Vec<String> {
    let mut plain = String::with_capacity(text.len());
    for c in text.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        match fold(c) {
            Some(s) => plain.push_str(s),
            None => plain.extend(c.to_lowercase()),
        }
    }
    plain
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD).collect())
        .collect()
}

fn stemmer() -> Stemmer {
    Stemmer::create(Algorithm::English)
}

/// The indexed form of a text: its stemmed words separated by spaces.
pub fn normalise(text: &str) -> String {
    let s = stemmer();
    words(text)
        .iter()
        .map(|w| s.stem(w).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A parsed query: stemmed terms; the last one also matches as a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<String>,
}

impl Query {
    /// Parses user input; `None` when it holds no word at all.
    pub fn parse(input: &str) -> Option<Self> {
        let s = stemmer();
        let mut terms: Vec<String> = Vec::new();
        for w in words(input) {
            let t = s.stem(&w).into_owned();
            if !terms.contains(&t) {
                terms.push(t);
            }
            if terms.len() == MAX_TERMS {
                break;
            }
        }
        (!terms.is_empty()).then_some(Self { terms })
    }

    fn is_prefix(&self, i: usize) -> bool {
        // A one-letter prefix would match half the catalogue.
        i + 1 == self.terms.len() && self.terms[i].chars().count() >= 2
    }

    /// PostgreSQL tsquery text for term `i`; terms are letters and digits only, quoted anyway.
    fn pg_term(&self, i: usize) -> String {
        self.pg_weighted(i, "")
    }

    /// Term `i` restricted to a weight (`A` title, `B` summary, `C` body; "" for any).
    fn pg_weighted(&self, i: usize, weight: &str) -> String {
        let star = if self.is_prefix(i) { "*" } else { "" };
        if star.is_empty() && weight.is_empty() {
            format!("'{}'", self.terms[i])
        } else {
            format!("'{}':{star}{weight}", self.terms[i])
        }
    }

    /// SQLite FTS5 string for term `i` (a quoted string, so it is never an operator).
    fn fts_term(&self, i: usize) -> String {
        let suffix = if self.is_prefix(i) { "*" } else { "" };
        format!("\"{}\"{suffix}", self.terms[i])
    }

    /// A condition true for the rows of `table` (with `search_title`, `search_summary`,
    /// `search_body` columns and, on SQLite, an FTS5 table `fts` whose `practice_id` holds the
    /// row's id) that contain every term.
    pub fn matches(&self, backend: DbBackend, table: &str, fts: &str) -> SimpleExpr {
        match backend {
            DbBackend::Postgres => {
                let q = (0..self.terms.len())
                    .map(|i| self.pg_term(i))
                    .collect::<Vec<_>>()
                    .join(" & ");
                // `search_tsv`: the stored, GIN-indexed vector of title (A), summary (B) and
                // body (C) — see migration 8.
                Expr::cust_with_values(
                    format!("{table}.search_tsv @@ to_tsquery('simple', $1)"),
                    [q],
                )
            }
            _ => {
                let q = (0..self.terms.len())
                    .map(|i| self.fts_term(i))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                Expr::cust_with_values(
                    format!("{table}.id IN (SELECT practice_id FROM {fts} WHERE {fts} MATCH ?)"),
                    [q],
                )
            }
        }
    }

    /// The rank of a matching row: per term, 4 for the title, 2 for the summary, 1 for the body.
    pub fn rank(&self, backend: DbBackend, table: &str, fts: &str) -> SimpleExpr {
        let mut parts: Vec<String> = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for i in 0..self.terms.len() {
            for (column, letter, weight) in
                [("title", "A", 4), ("summary", "B", 2), ("body", "C", 1)]
            {
                match backend {
                    DbBackend::Postgres => {
                        values.push(self.pg_weighted(i, letter));
                        parts.push(format!(
                            "(CASE WHEN {table}.search_tsv @@ to_tsquery('simple', ${}) \
                             THEN {weight} ELSE 0 END)",
                            values.len()
                        ));
                    }
                    _ => {
                        values.push(format!("{column} : {}", self.fts_term(i)));
                        parts.push(format!(
                            "(CASE WHEN {table}.id IN (SELECT practice_id FROM {fts} WHERE {fts} \
                             MATCH ?) THEN {weight} ELSE 0 END)"
                        ));
                    }
                }
            }
        }
        // BIGINT on both databases (PostgreSQL would otherwise say INTEGER).
        Expr::cust_with_values(format!("CAST(({}) AS BIGINT)", parts.join(" + ")), values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_folded_lowered_split_and_stemmed() {
        assert_eq!(
            normalise("Rūjiena's Festivals, Gdańsk & Łódź!"),
            "rujiena s festiv gdansk lodz"
        );
        assert_eq!(
            normalise("community-based CULTURE"),
            "communiti base cultur"
        );
        assert_eq!(normalise(""), "");
    }

    #[test]
    fn queries_are_words_never_syntax() {
        for hostile in [
            "\"unterminated",
            "a & | ! ( ) : * ' \" --",
            "'); DROP TABLE good_practice; --",
            "title : x NEAR(y z) AND OR NOT",
        ] {
            let q = Query::parse(hostile);
            if let Some(q) = q {
                for t in &q.terms {
                    assert!(
                        t.chars().all(char::is_alphanumeric),
                        "{t:?} from {hostile:?}"
                    );
                }
            }
        }
        assert_eq!(Query::parse("  ***  "), None);
        let q = Query::parse("Festivals in the harbour").expect("query");
        assert_eq!(q.terms, vec!["festiv", "in", "the", "harbour"]);
        assert_eq!(q.pg_term(3), "'harbour':*");
        assert_eq!(q.fts_term(0), "\"festiv\"");
        let many = Query::parse(
            &"word "
                .repeat(3)
                .to_string()
                .replace("word", "a b c d e f g h i j k l"),
        )
        .expect("query");
        assert_eq!(many.terms.len(), MAX_TERMS);
    }
}
