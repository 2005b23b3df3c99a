//! The edition-history document (format version 1): serde types, canonical order and the
//! canonical text. `api/schemas/edition-history.schema.json` is its JSON Schema; README,
//! "Importing an edition's history", describes it.
//!
//! Canonical: organisations by country then name, applications by their lead's country then
//! name, co-applicants likewise, mentors by e-mail, sessions by date, phases in the lifecycle's
//! order, progress by action then date, indicator values by indicator, each application's
//! history in the order it happened; the text is pretty-printed JSON (two spaces) with a final newline.
//! An export is always canonical, and a canonical document imports and exports to the same bytes.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{AssessmentStage, PhaseKind};
use rust_decimal::Decimal;
use sea_orm::Iterable;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::plans::service::Snapshot;

/// The `format` every document names.
pub const FORMAT: &str = "bsr-cultural-pearls/edition-history";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// One edition's history.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditionHistory {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`FORMAT_VERSION`].
    pub format_version: u32,
    pub edition: EditionDoc,
    /// Every municipality the applications name (as leads or co-applicants).
    pub organisations: Vec<OrganisationDoc>,
    pub applications: Vec<ApplicationDoc>,
}

/// The edition, its award policy and its phases.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditionDoc {
    pub title_year: i32,
    pub name: String,
    pub award_policy: AwardPolicyDoc,
    pub phases: Vec<PhaseDoc>,
    /// The scoring criteria of each stage, in their order.
    #[serde(default)]
    pub criteria: Vec<CriterionDoc>,
    /// Who scored each stage (users with the COORDINATOR or PARTNER role, by e-mail).
    #[serde(default)]
    pub assessors: Vec<AssessorDoc>,
}

/// A scoring criterion.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CriterionDoc {
    /// An `AssessmentStage` name (`PRESELECTION`, `JURY`).
    pub stage: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Its weight, a decimal written as a string (`"1.5"`).
    pub weight: Decimal,
    pub max_score: i32,
}

/// An assessor of a stage (of the edition's stage, or a juror of one application's).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssessorDoc {
    pub stage: String,
    pub email: String,
}

/// One assessor's assessment of the application in a stage.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssessmentDoc {
    pub stage: String,
    /// The assessor's e-mail (one of the edition's assessors of the stage).
    pub assessor: String,
    /// A declared conflict of interest: no scores, the comment is the note.
    #[serde(default)]
    pub conflict_of_interest: bool,
    #[serde(default)]
    pub comment: String,
    pub submitted_at: DateTime<Utc>,
    /// A score for every criterion of the stage (none with a conflict of interest).
    #[serde(default)]
    pub scores: Vec<ScoreDoc>,
}

/// A score for one criterion, named as in the edition's criteria.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScoreDoc {
    pub criterion: String,
    pub score: i32,
}

/// The per-edition award rule.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwardPolicyDoc {
    pub award_cap: i32,
    pub one_per_country: bool,
    pub extra_awards: i32,
}

/// One dated phase.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhaseDoc {
    /// A `PhaseKind` name (`CALL`, `PRESELECTION`, …).
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A municipality, identified by name and country (the portal's natural key).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganisationDoc {
    pub name: String,
    pub country_code: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub population: Option<i64>,
}

/// A municipality named in an application: name and country of one of the document's
/// organisations.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganisationRef {
    pub country_code: String,
    pub name: String,
}

/// An application, its lifecycle and its CuReAP.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationDoc {
    pub lead_municipality: OrganisationRef,
    #[serde(default)]
    pub co_applicants: Vec<OrganisationRef>,
    pub title: String,
    #[serde(default)]
    pub motivation: String,
    /// Every status it went through, the first being `DRAFT`, each step one of the lifecycle's
    /// transitions.
    pub history: Vec<StatusChangeDoc>,
    /// The CuReAP's frozen versions, numbered from 1 (the first handed in with the
    /// `CUREAP_SUBMITTED` step, on its effective date).
    #[serde(default)]
    pub plan_versions: Vec<PlanVersionDoc>,
    /// Its mentors (portal users with the MENTOR role, by e-mail) and their sessions.
    #[serde(default)]
    pub mentors: Vec<MentorDoc>,
    /// The external jurors assigned to score it (users with the JUROR role, by e-mail), stage
    /// by stage: a juror scores only the applications assigned to them.
    #[serde(default)]
    pub jurors: Vec<AssessorDoc>,
    /// Its assessments, stage by stage.
    #[serde(default)]
    pub assessments: Vec<AssessmentDoc>,
    /// Title-year progress posted on the actions of its CuReAP (a Pearl's, during its title
    /// year).
    #[serde(default)]
    pub progress: Vec<ProgressDoc>,
    /// The values measured for the indicators of its CuReAP in the title year.
    #[serde(default)]
    pub indicator_actuals: Vec<IndicatorActualDoc>,
}

/// A progress report on one of the CuReAP's actions, as `postProgress` records it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgressDoc {
    /// The action's number in the CuReAP's last frozen version (1 = its first action).
    pub action: i32,
    pub posted_at: DateTime<Utc>,
    /// An `Implementation` name (`FULLY`, `PARTLY`, `NOT`).
    pub implementation: String,
    /// Estimated completion, 0–100.
    pub percentage: i32,
    pub participants_reached: i32,
    #[serde(default)]
    pub evidence_url: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// The value measured for one of the CuReAP's indicators, as `recordIndicatorValue` records
/// it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndicatorActualDoc {
    /// The indicator's number in the CuReAP's last frozen version (1 = its first indicator).
    pub indicator: i32,
    /// The value in the indicator's unit, a decimal with at most three decimals written as a
    /// string (`"412.5"`).
    pub actual: Decimal,
}

/// A mentor's assignment to the application, with the sessions held under it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MentorDoc {
    /// The e-mail of a user with the MENTOR role (the importer creates no users).
    pub email: String,
    /// A `MentorKind` name (`NATIONAL`, `TWIN`).
    pub kind: String,
    pub starts_on: NaiveDate,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub sessions: Vec<SessionDoc>,
}

/// A mentoring session.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionDoc {
    pub held_on: NaiveDate,
    pub minutes: i32,
    /// A `SessionFormat` name (`ONSITE`, `ONLINE`).
    pub format: String,
    pub topics: String,
    #[serde(default)]
    pub notes: String,
}

/// One decision: the status reached and when it took effect.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusChangeDoc {
    /// An `ApplicationStatus` name.
    pub status: String,
    pub effective_at: DateTime<Utc>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A frozen plan version.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanVersionDoc {
    pub number: i32,
    pub submitted_at: DateTime<Utc>,
    /// The plan's content as handed in (the portal's frozen snapshot).
    pub content: Snapshot,
}

impl EditionHistory {
    /// Parses a document's text: BAD_USER_INPUT on field `document` with serde's line and
    /// column when it is not JSON of this shape, or names another format or version.
    pub fn parse(text: &str) -> AppResult<Self> {
        let doc: Self = serde_json::from_str(text)
            .map_err(|e| AppError::bad_input("document", format!("not an edition history: {e}")))?;
        doc.check_format()?;
        Ok(doc)
    }

    /// Reads a document given as a JSON value (the GraphQL mutation's argument).
    pub fn from_value(value: serde_json::Value) -> AppResult<Self> {
        let doc: Self = serde_json::from_value(value)
            .map_err(|e| AppError::bad_input("document", format!("not an edition history: {e}")))?;
        doc.check_format()?;
        Ok(doc)
    }

    fn check_format(&self) -> AppResult<()> {
        if self.format != FORMAT {
            return Err(AppError::bad_input(
                "document.format",
                format!("must be \"{FORMAT}\""),
            ));
        }
        if self.format_version != FORMAT_VERSION {
            return Err(AppError::bad_input(
                "document.formatVersion",
                format!("this server reads format version {FORMAT_VERSION}"),
            ));
        }
        Ok(())
    }

    /// Puts the document's lists in canonical order and trims its texts as the importer stores
    /// them, so two documents meaning the same history compare equal.
    pub fn canonicalise(&mut self) {
        let e = &mut self.edition;
        e.name = e.name.trim().to_owned();
        e.phases.sort_by_key(|p| phase_rank(&p.kind));
        // Criteria keep their order within a stage (it is their position).
        e.criteria.sort_by_key(|c| stage_rank(&c.stage));
        for c in &mut e.criteria {
            c.name = c.name.trim().to_owned();
            c.description = c.description.trim().to_owned();
            c.weight = c.weight.normalize();
        }
        for x in &mut e.assessors {
            x.email = x.email.trim().to_lowercase();
        }
        e.assessors.sort_by(|x, y| {
            (stage_rank(&x.stage), &x.email).cmp(&(stage_rank(&y.stage), &y.email))
        });
        for o in &mut self.organisations {
            o.name = o.name.trim().to_owned();
            o.region = o
                .region
                .take()
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty());
        }
        self.organisations
            .sort_by(|a, b| (&a.country_code, &a.name).cmp(&(&b.country_code, &b.name)));
        for a in &mut self.applications {
            a.title = a.title.trim().to_owned();
            a.motivation = a.motivation.trim().to_owned();
            a.co_applicants.sort();
            a.co_applicants.dedup();
            for m in &mut a.mentors {
                m.email = m.email.trim().to_lowercase();
                for x in &mut m.sessions {
                    x.topics = x.topics.trim().to_owned();
                    x.notes = x.notes.trim().to_owned();
                }
                m.sessions.sort_by(|x, y| {
                    (x.held_on, x.minutes, &x.topics).cmp(&(y.held_on, y.minutes, &y.topics))
                });
            }
            a.mentors
                .sort_by(|x, y| (&x.email, x.starts_on).cmp(&(&y.email, y.starts_on)));
            for x in &mut a.jurors {
                x.email = x.email.trim().to_lowercase();
            }
            a.jurors.sort_by(|x, y| {
                (stage_rank(&x.stage), &x.email).cmp(&(stage_rank(&y.stage), &y.email))
            });
            for x in &mut a.assessments {
                x.assessor = x.assessor.trim().to_lowercase();
                x.comment = x.comment.trim().to_owned();
                for sc in &mut x.scores {
                    sc.criterion = sc.criterion.trim().to_owned();
                }
                x.scores.sort_by(|p, q| p.criterion.cmp(&q.criterion));
            }
            a.assessments.sort_by(|x, y| {
                (stage_rank(&x.stage), &x.assessor).cmp(&(stage_rank(&y.stage), &y.assessor))
            });
            for p in &mut a.progress {
                p.note = p.note.trim().to_owned();
                p.evidence_url = p
                    .evidence_url
                    .take()
                    .map(|u| u.trim().to_owned())
                    .filter(|u| !u.is_empty());
            }
            // Every field in the key: two posts at the same moment keep one order.
            a.progress.sort_by(|x, y| {
                let key = |p: &ProgressDoc| {
                    (
                        p.action,
                        p.posted_at,
                        p.percentage,
                        p.participants_reached,
                        p.implementation.clone(),
                        p.evidence_url.clone(),
                        p.note.clone(),
                    )
                };
                key(x).cmp(&key(y))
            });
            for x in &mut a.indicator_actuals {
                x.actual = x.actual.normalize();
            }
            a.indicator_actuals.sort_by_key(|x| x.indicator);
            for h in &mut a.history {
                h.note = h
                    .note
                    .take()
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty());
            }
        }
        self.applications
            .sort_by(|a, b| a.lead_municipality.cmp(&b.lead_municipality));
    }

    /// The canonical text (call [`Self::canonicalise`] first).
    pub fn to_canonical_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a document serialises");
        text.push('\n');
        text
    }

    /// The SHA-256 of the canonical text, in hex: the same for every text of the same history.
    pub fn sha256(&self) -> String {
        Sha256::digest(self.to_canonical_text().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The value of an enumeration stored by `name` (`None`: no such name).
pub fn named<E: Iterable>(name: &str, as_str: fn(&E) -> &'static str) -> Option<E> {
    E::iter().find(|e| as_str(e) == name)
}

/// An assessment stage's place (unknown names last; the checks refuse them).
fn stage_rank(stage: &str) -> usize {
    AssessmentStage::iter()
        .position(|k| k.as_str() == stage)
        .unwrap_or(usize::MAX)
}

/// A phase kind's place in the lifecycle (unknown names last; the checks refuse them).
fn phase_rank(kind: &str) -> usize {
    PhaseKind::iter()
        .position(|k| k.as_str() == kind)
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> String {
        serde_json::json!({
            "format": FORMAT, "formatVersion": 1,
            "edition": { "titleYear": 2030, "name": " E ", "awardPolicy":
                { "awardCap": 4, "onePerCountry": true, "extraAwards": 1 },
                "phases": [
                  { "kind": "AWARD", "startsAt": "2029-05-01T00:00:00Z", "endsAt": "2029-05-02T00:00:00Z" },
                  { "kind": "CALL", "startsAt": "2029-01-01T00:00:00Z", "endsAt": "2029-02-01T00:00:00Z" } ] },
            "organisations": [ { "name": "B", "countryCode": "SE" }, { "name": "A", "countryCode": "SE" },
                               { "name": "Z", "countryCode": "DK" } ],
            "applications": []
        })
        .to_string()
    }

    #[test]
    fn canonical_order_and_hash_ignore_how_the_text_was_written() {
        let mut doc = EditionHistory::parse(&minimal()).unwrap();
        doc.canonicalise();
        let kinds: Vec<_> = doc.edition.phases.iter().map(|p| p.kind.as_str()).collect();
        assert_eq!(kinds, ["CALL", "AWARD"]);
        let names: Vec<_> = doc.organisations.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["Z", "A", "B"]);
        assert_eq!(doc.edition.name, "E");
        let text = doc.to_canonical_text();
        let mut again = EditionHistory::parse(&text).unwrap();
        again.canonicalise();
        assert_eq!(again.to_canonical_text(), text);
        assert_eq!(again.sha256(), doc.sha256());
        assert_eq!(doc.sha256().len(), 64);
    }

    #[test]
    fn other_formats_versions_and_fields_are_refused_as_input_errors() {
        let v: serde_json::Value = serde_json::from_str(&minimal()).unwrap();
        let mut other = v.clone();
        other["formatVersion"] = 2.into();
        let e = EditionHistory::from_value(other).unwrap_err();
        assert_eq!(e.code(), "BAD_USER_INPUT");
        let mut unknown = v.clone();
        unknown["edition"]["colour"] = "blue".into();
        assert_eq!(
            EditionHistory::from_value(unknown).unwrap_err().code(),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            EditionHistory::parse("{ not json").unwrap_err().code(),
            "BAD_USER_INPUT"
        );
    }
}
