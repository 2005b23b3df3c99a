//! The rules a history document must keep before anything is written, checked without the
//! database: every reason is collected, so a refused document is corrected in one round. The
//! rules are the portal's own — the lifecycle table, the award policy (replayed in the order
//! the titles were decided), the plan's completeness, one application per municipality and
//! edition, the input bounds — asked through the functions the live mutations use. What needs
//! the database (existing organisations and editions, countries) is checked by the importer.

use std::collections::HashSet;

use chrono::{DateTime, Timelike, Utc};
use entity::{
    ApplicationStatus, AssessmentStage, Implementation, MentorKind, PhaseKind, SessionFormat,
    criterion,
};
use sea_orm::Iterable;
use uuid::Uuid;

use super::model::{ApplicationDoc, AssessmentDoc, EditionHistory, OrganisationRef, named};
use crate::applications::awards;
use crate::applications::lifecycle::{Check, TRANSITIONS};
use crate::applications::service::check_motivation;
use crate::assessment::service::{CriterionFields, check_scores};
use crate::domain::{Email, Measure, NonEmptyText};
use crate::editions::service::AwardPolicy;
use crate::mentoring::service::SessionFields;
use crate::organisations::service::check_population;
use crate::plans::service::ProgressFields;

/// Longest edition name, application title, organisation name or region, in characters (the
/// bounds of the live mutations).
const MAX_LINE: usize = 200;
/// Longest note of a status change.
const MAX_NOTE: usize = 2_000;
/// Longest assessment comment (as `submitAssessment`).
const MAX_COMMENT: usize = 5_000;
/// Most co-applicants of one application (as `createApplication`).
const MAX_CO_APPLICANTS: usize = 20;

/// A document that keeps the rules, with its names resolved to the portal's types.
pub struct Checked {
    pub policy: AwardPolicy,
    pub phases: Vec<PhaseKind>,
    /// Per application (in document order), the statuses it went through.
    pub statuses: Vec<Vec<ApplicationStatus>>,
}

/// Checks `doc` (canonicalised) as history at `now`; `Err` holds every reason it breaks a
/// rule.
pub fn check(doc: &EditionHistory, now: DateTime<Utc>) -> Result<Checked, Vec<String>> {
    let mut reasons = Vec::new();
    not_in_the_future(doc, now, &mut reasons);
    let policy = edition(doc, &mut reasons);
    let phases = phases(doc, &mut reasons);
    organisations(doc, &mut reasons);
    let statuses: Vec<_> = doc
        .applications
        .iter()
        .map(|a| application(doc, a, &mut reasons))
        .collect();
    let mut leads = HashSet::new();
    for a in &doc.applications {
        if !leads.insert(&a.lead_municipality) {
            reasons.push(format!(
                "{}: a municipality has one application per edition; the document holds two",
                label(&a.lead_municipality)
            ));
        }
    }
    if let Some(policy) = &policy {
        award_policy(doc, policy, &statuses, &mut reasons);
    }
    scoring(doc, &statuses, &mut reasons);
    match (policy, reasons.is_empty()) {
        (Some(policy), true) => Ok(Checked {
            policy,
            phases,
            statuses,
        }),
        _ => Err(reasons),
    }
}

/// History has happened: no decision, hand-in, scoresheet, session or progress post dated
/// after `now` (as a live `effectiveAt` may not be in the future).
fn not_in_the_future(doc: &EditionHistory, now: DateTime<Utc>, reasons: &mut Vec<String>) {
    for a in &doc.applications {
        let at = format!("applications.{}", label(&a.lead_municipality));
        let mut dated: Vec<(String, DateTime<Utc>)> = Vec::new();
        dated.extend(
            a.history
                .iter()
                .enumerate()
                .map(|(i, h)| (format!("history.{i}"), h.effective_at)),
        );
        dated.extend(
            a.plan_versions
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("planVersions.{i}"), v.submitted_at)),
        );
        dated.extend(a.assessments.iter().map(|x| {
            (
                format!("assessments.{}.{}", x.stage, x.assessor),
                x.submitted_at,
            )
        }));
        dated.extend(
            a.progress
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("progress.{i}"), p.posted_at)),
        );
        for (what, t) in dated {
            if t > now {
                reasons.push(format!(
                    "{at}.{what}: dated {t}, in the future; history is what has happened"
                ));
            }
        }
        for m in &a.mentors {
            for x in m.sessions.iter().filter(|x| x.held_on > now.date_naive()) {
                reasons.push(format!(
                    "{at}.mentors.{}.sessions.{}: in the future; history is what has happened",
                    m.email, x.held_on
                ));
            }
        }
    }
}

fn label(o: &OrganisationRef) -> String {
    format!("{} ({})", o.name, o.country_code)
}

/// A text's refusal as a reason.
fn text(reasons: &mut Vec<String>, at: &str, raw: &str, max: usize) {
    if let Err(e) = NonEmptyText::parse(at, raw, max) {
        reasons.push(format!("{at}: {}", e.public_message()));
    }
}

/// Whether a time has no fraction of a second (the document's times are exact to the second,
/// so every database keeps them as written).
fn whole_second(reasons: &mut Vec<String>, at: &str, t: &DateTime<Utc>) {
    if t.nanosecond() != 0 {
        reasons.push(format!("{at}: times are given to the second"));
    }
}

fn edition(doc: &EditionHistory, reasons: &mut Vec<String>) -> Option<AwardPolicy> {
    let e = &doc.edition;
    if !(2000..=2100).contains(&e.title_year) {
        reasons.push("edition.titleYear: must be a year between 2000 and 2100".into());
    }
    text(reasons, "edition.name", &e.name, MAX_LINE);
    let p = e.award_policy;
    match AwardPolicy::parse(p.award_cap, p.one_per_country, p.extra_awards) {
        Ok(policy) => Some(policy),
        Err(err) => {
            reasons.push(format!("edition.awardPolicy: {}", err.public_message()));
            None
        }
    }
}

fn phases(doc: &EditionHistory, reasons: &mut Vec<String>) -> Vec<PhaseKind> {
    let mut kinds = Vec::new();
    for p in &doc.edition.phases {
        let at = format!("edition.phases.{}", p.kind);
        match PhaseKind::iter().find(|k| k.as_str() == p.kind) {
            Some(k) if kinds.contains(&k) => reasons.push(format!("{at}: given twice")),
            Some(k) => kinds.push(k),
            None => reasons.push(format!("{at}: not a phase kind")),
        }
        if p.ends_at <= p.starts_at {
            reasons.push(format!("{at}: endsAt must be after startsAt"));
        }
        whole_second(reasons, &at, &p.starts_at);
        whole_second(reasons, &at, &p.ends_at);
    }
    kinds
}

fn organisations(doc: &EditionHistory, reasons: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for o in &doc.organisations {
        let r = OrganisationRef {
            country_code: o.country_code.clone(),
            name: o.name.clone(),
        };
        let at = format!("organisations.{}", label(&r));
        text(reasons, &at, &o.name, MAX_LINE);
        if let Some(region) = &o.region {
            text(reasons, &format!("{at}.region"), region, MAX_LINE);
        }
        if let Err(e) = check_population(o.population) {
            reasons.push(format!("{at}.population: {}", e.public_message()));
        }
        if !seen.insert(r) {
            reasons.push(format!("{at}: listed twice"));
        }
    }
    let used: HashSet<&OrganisationRef> = doc
        .applications
        .iter()
        .flat_map(|a| std::iter::once(&a.lead_municipality).chain(&a.co_applicants))
        .collect();
    for o in &doc.organisations {
        let r = OrganisationRef {
            country_code: o.country_code.clone(),
            name: o.name.clone(),
        };
        if !used.contains(&r) {
            reasons.push(format!(
                "organisations.{}: no application names it",
                label(&r)
            ));
        }
    }
}

/// Checks one application; returns the statuses it went through (empty when unreadable).
fn application(
    doc: &EditionHistory,
    a: &ApplicationDoc,
    reasons: &mut Vec<String>,
) -> Vec<ApplicationStatus> {
    let at = format!("applications.{}", label(&a.lead_municipality));
    let known = |r: &OrganisationRef| {
        doc.organisations
            .iter()
            .any(|o| o.name == r.name && o.country_code == r.country_code)
    };
    if !known(&a.lead_municipality) {
        reasons.push(format!("{at}: the lead is not among the organisations"));
    }
    for c in &a.co_applicants {
        if !known(c) {
            reasons.push(format!(
                "{at}: co-applicant {} is not among the organisations",
                label(c)
            ));
        }
        if *c == a.lead_municipality {
            reasons.push(format!("{at}: the lead cannot be its own co-applicant"));
        }
    }
    if a.co_applicants.len() > MAX_CO_APPLICANTS {
        reasons.push(format!("{at}: at most {MAX_CO_APPLICANTS} co-applicants"));
    }
    text(reasons, &format!("{at}.title"), &a.title, MAX_LINE);
    if let Err(e) = check_motivation(&a.motivation) {
        reasons.push(format!("{at}.motivation: {}", e.public_message()));
    }
    let statuses = history(&at, a, reasons);
    plan_versions(&at, a, &statuses, reasons);
    mentors(&at, a, reasons);
    title_year(&at, a, &statuses, reasons);
    statuses
}

/// Title-year figures: only for a Pearl that began its title year, posted between the start
/// and the end of that year (as `postProgress` and `recordIndicatorValue` take them only while
/// the title year is active), on an action or indicator of its last frozen CuReAP, each within
/// the live mutations' bounds; one measured value per indicator.
fn title_year(
    at: &str,
    a: &ApplicationDoc,
    statuses: &[ApplicationStatus],
    reasons: &mut Vec<String>,
) {
    if a.progress.is_empty() && a.indicator_actuals.is_empty() {
        return;
    }
    let on = |s: ApplicationStatus| {
        statuses
            .iter()
            .position(|x| *x == s)
            .map(|i| a.history[i].effective_at)
    };
    let Some(began) = on(ApplicationStatus::TitleYearActive) else {
        reasons.push(format!(
            "{at}: progress and indicator values are recorded in the title year, which this application did not reach"
        ));
        return;
    };
    let ended = on(ApplicationStatus::TitleYearCompleted);
    let Some(plan) = a.plan_versions.last().map(|v| &v.content) else {
        // The plan versions' own check gives the reason.
        return;
    };
    for (i, p) in a.progress.iter().enumerate() {
        let pat = format!("{at}.progress.{i}");
        if p.action < 1 || p.action as usize > plan.actions.len() {
            reasons.push(format!(
                "{pat}.action: the last CuReAP version has actions 1 to {}",
                plan.actions.len()
            ));
        }
        whole_second(reasons, &pat, &p.posted_at);
        if p.posted_at < began || ended.is_some_and(|e| p.posted_at > e) {
            reasons.push(format!(
                "{pat}.postedAt: progress is posted during the title year (from its TITLE_YEAR_ACTIVE step{})",
                if ended.is_some() {
                    " to its TITLE_YEAR_COMPLETED step"
                } else {
                    ""
                }
            ));
        }
        let Some(implementation) = named(&p.implementation, Implementation::as_str) else {
            reasons.push(format!(
                "{pat}.implementation: {} is not an implementation level",
                p.implementation
            ));
            continue;
        };
        if let Err(e) = ProgressFields::parse(
            implementation,
            p.percentage,
            p.participants_reached,
            p.evidence_url.as_deref(),
            &p.note,
        ) {
            reasons.push(format!("{pat}: {}", e.public_message()));
        }
    }
    let mut seen = HashSet::new();
    for x in &a.indicator_actuals {
        let iat = format!("{at}.indicatorActuals.{}", x.indicator);
        if x.indicator < 1 || x.indicator as usize > plan.indicators.len() {
            reasons.push(format!(
                "{iat}: the last CuReAP version has indicators 1 to {}",
                plan.indicators.len()
            ));
        }
        if !seen.insert(x.indicator) {
            reasons.push(format!("{iat}: an indicator has one measured value"));
        }
        if let Err(e) = Measure::parse("actual", x.actual) {
            reasons.push(format!("{iat}: {}", e.public_message()));
        }
    }
}

/// Mentors: a kind of the portal's, a period that does not end before it starts, each mentor
/// once, and sessions as a mentor may log them.
fn mentors(at: &str, a: &ApplicationDoc, reasons: &mut Vec<String>) {
    for (i, m) in a.mentors.iter().enumerate() {
        let mat = format!("{at}.mentors.{}", m.email);
        if let Err(e) = Email::parse("email", &m.email) {
            reasons.push(format!("{mat}: {}", e.public_message()));
        }
        if named(&m.kind, MentorKind::as_str).is_none() {
            reasons.push(format!("{mat}: {} is not a mentor kind", m.kind));
        }
        if m.ends_on.is_some_and(|e| e < m.starts_on) {
            reasons.push(format!("{mat}: endsOn must not be before startsOn"));
        }
        if a.mentors[..i].iter().any(|o| o.email == m.email) {
            reasons.push(format!("{mat}: assigned twice"));
        }
        for s in &m.sessions {
            let sat = format!("{mat}.sessions.{}", s.held_on);
            let Some(format) = named(&s.format, SessionFormat::as_str) else {
                reasons.push(format!("{sat}: {} is not a session format", s.format));
                continue;
            };
            if let Err(e) = SessionFields::parse(s.held_on, s.minutes, format, &s.topics, &s.notes)
            {
                reasons.push(format!("{sat}: {}", e.public_message()));
            }
        }
    }
}

/// The statuses of an application's history: it starts as a draft, each step is a transition
/// of the lifecycle table, and the dates never go back.
fn history(at: &str, a: &ApplicationDoc, reasons: &mut Vec<String>) -> Vec<ApplicationStatus> {
    let mut statuses = Vec::new();
    for (i, h) in a.history.iter().enumerate() {
        let step = format!("{at}.history.{i}");
        let Some(to) = ApplicationStatus::iter().find(|s| s.as_str() == h.status) else {
            reasons.push(format!("{step}: {} is not an application status", h.status));
            return Vec::new();
        };
        whole_second(reasons, &step, &h.effective_at);
        if let Some(note) = &h.note {
            text(reasons, &format!("{step}.note"), note, MAX_NOTE);
        }
        match statuses.last() {
            None if to != ApplicationStatus::Draft => {
                reasons.push(format!("{step}: an application starts as a DRAFT"));
            }
            None => {}
            Some(&from) => {
                // The row of the lifecycle table this step takes, and those of its checks that
                // concern what the document holds (the award policy and the plan's completeness
                // are checked over the whole document; phases are not: history happened in them).
                match TRANSITIONS
                    .iter()
                    .find(|t| t.from.contains(&from) && t.to == to)
                {
                    None => reasons.push(format!(
                        "{step}: an application in status {} cannot be moved to {}",
                        from.as_str(),
                        to.as_str()
                    )),
                    Some(t) if t.checks.contains(&Check::Complete) => {
                        if a.motivation.trim().is_empty() {
                            reasons.push(format!("{step}: write the motivation before submitting"));
                        }
                    }
                    Some(_) => {}
                }
                if h.effective_at < a.history[i - 1].effective_at {
                    reasons.push(format!("{step}: takes effect before the step before it"));
                }
            }
        }
        statuses.push(to);
    }
    if statuses.is_empty() {
        reasons.push(format!(
            "{at}.history: an application has at least its DRAFT step"
        ));
    }
    statuses
}

/// The frozen versions: numbered from 1, the first handed in on the day of the
/// `CUREAP_SUBMITTED` step (and only with one), each complete as a submission requires.
fn plan_versions(
    at: &str,
    a: &ApplicationDoc,
    statuses: &[ApplicationStatus],
    reasons: &mut Vec<String>,
) {
    let submitted = statuses
        .iter()
        .position(|s| *s == ApplicationStatus::CureapSubmitted)
        .map(|i| a.history[i].effective_at);
    match (submitted, a.plan_versions.first()) {
        (Some(_), None) => reasons.push(format!(
            "{at}: its CuReAP was submitted, so the document holds its frozen version 1"
        )),
        (None, Some(_)) => reasons.push(format!(
            "{at}: plan versions without a CUREAP_SUBMITTED step (a plan is frozen when it is handed in)"
        )),
        (Some(on), Some(v1)) if v1.submitted_at != on => reasons.push(format!(
            "{at}: plan version 1 is handed in with the CUREAP_SUBMITTED step, on its effective date"
        )),
        _ => {}
    }
    for (i, v) in a.plan_versions.iter().enumerate() {
        let vat = format!("{at}.planVersions.{i}");
        if v.number != i as i32 + 1 {
            reasons.push(format!("{vat}: versions are numbered 1, 2, … in order"));
        }
        if i > 0 && v.submitted_at < a.plan_versions[i - 1].submitted_at {
            reasons.push(format!("{vat}: handed in before the version before it"));
        }
        whole_second(reasons, &vat, &v.submitted_at);
        if let Some((field, msg)) = v.content.incompleteness() {
            reasons.push(format!(
                "{vat}.content.{field}: the plan is not complete: {msg}"
            ));
        }
    }
}

/// A stage by name, or a reason.
fn stage(at: &str, name: &str, reasons: &mut Vec<String>) -> Option<AssessmentStage> {
    let found = named(name, AssessmentStage::as_str);
    if found.is_none() {
        reasons.push(format!("{at}: {name} is not an assessment stage"));
    }
    found
}

/// The criteria (as the coordinators' mutation checks them, one name once per stage), the
/// assessors and each application's jurors, and each assessment: by an assessor of its stage
/// or a juror assigned to the application in it, once per assessor and stage,
/// of an application that reached the status the stage scores, with every criterion scored
/// within its maximum (the assessors' own scoresheet check) or a conflict of interest declared
/// with a note and no scores.
fn scoring(doc: &EditionHistory, statuses: &[Vec<ApplicationStatus>], reasons: &mut Vec<String>) {
    let e = &doc.edition;
    let mut criteria: Vec<criterion::Model> = Vec::new();
    for (i, c) in e.criteria.iter().enumerate() {
        let at = format!("edition.criteria.{}", c.name);
        let Some(st) = stage(&at, &c.stage, reasons) else {
            continue;
        };
        if let Err(err) = CriterionFields::parse(&c.name, &c.description, c.weight, c.max_score) {
            reasons.push(format!("{at}: {}", err.public_message()));
        }
        if criteria.iter().any(|k| k.stage == st && k.name == c.name) {
            reasons.push(format!("{at}: named twice in the {} stage", c.stage));
        }
        criteria.push(criterion::Model {
            id: Uuid::from_u128(i as u128 + 1),
            edition_id: Uuid::nil(),
            stage: st,
            position: i as i32,
            name: c.name.clone(),
            description: String::new(),
            weight_milli: 0,
            max_score: c.max_score,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            version: 1,
        });
    }
    for (i, x) in e.assessors.iter().enumerate() {
        let at = format!("edition.assessors.{}", x.email);
        stage(&at, &x.stage, reasons);
        if let Err(err) = Email::parse("email", &x.email) {
            reasons.push(format!("{at}: {}", err.public_message()));
        }
        if e.assessors[..i]
            .iter()
            .any(|o| o.stage == x.stage && o.email == x.email)
        {
            reasons.push(format!("{at}: assigned twice to the {} stage", x.stage));
        }
    }
    for (a, statuses) in doc.applications.iter().zip(statuses) {
        for (i, x) in a.jurors.iter().enumerate() {
            let at = format!(
                "applications.{}.jurors.{}",
                label(&a.lead_municipality),
                x.email
            );
            stage(&at, &x.stage, reasons);
            if let Err(err) = Email::parse("email", &x.email) {
                reasons.push(format!("{at}: {}", err.public_message()));
            }
            if a.jurors[..i]
                .iter()
                .any(|o| o.stage == x.stage && o.email == x.email)
            {
                reasons.push(format!("{at}: assigned twice to the {} stage", x.stage));
            }
        }
        for (i, x) in a.assessments.iter().enumerate() {
            let at = format!(
                "applications.{}.assessments.{}.{}",
                label(&a.lead_municipality),
                x.stage,
                x.assessor
            );
            let Some(st) = stage(&at, &x.stage, reasons) else {
                continue;
            };
            assessment(&at, st, x, &criteria, statuses, reasons);
            // As submitAssessment: an assessor of the edition's stage, or a juror assigned to
            // this application in the stage.
            if !e
                .assessors
                .iter()
                .chain(&a.jurors)
                .any(|o| o.stage == x.stage && o.email == x.assessor)
            {
                reasons.push(format!(
                    "{at}: neither an assessor of the {} stage nor a juror assigned to this application in it",
                    x.stage
                ));
            }
            if a.assessments[..i]
                .iter()
                .any(|o| o.stage == x.stage && o.assessor == x.assessor)
            {
                reasons.push(format!("{at}: assessed twice"));
            }
        }
    }
}

fn assessment(
    at: &str,
    st: AssessmentStage,
    x: &AssessmentDoc,
    criteria: &[criterion::Model],
    statuses: &[ApplicationStatus],
    reasons: &mut Vec<String>,
) {
    if !statuses.contains(&st.scored_status()) {
        reasons.push(format!(
            "{at}: the {} stage scores applications in status {}; this one never was",
            x.stage,
            st.scored_status().as_str()
        ));
    }
    whole_second(reasons, at, &x.submitted_at);
    if x.comment.chars().count() > MAX_COMMENT {
        reasons.push(format!(
            "{at}: the comment is at most {MAX_COMMENT} characters"
        ));
    }
    if x.conflict_of_interest {
        if !x.scores.is_empty() {
            reasons.push(format!(
                "{at}: a declared conflict of interest has no scores"
            ));
        }
        if x.comment.trim().is_empty() {
            reasons.push(format!(
                "{at}: a declared conflict of interest has its note (comment)"
            ));
        }
        return;
    }
    let stage_criteria: Vec<criterion::Model> =
        criteria.iter().filter(|c| c.stage == st).cloned().collect();
    let scores: Vec<(Uuid, i32)> = x
        .scores
        .iter()
        .map(|s| {
            let id = stage_criteria
                .iter()
                .find(|c| c.name == s.criterion)
                .map(|c| c.id);
            (id.unwrap_or(Uuid::max()), s.score)
        })
        .collect();
    if let Err(err) = check_scores(&stage_criteria, &scores) {
        reasons.push(format!("{at}: {}", err.public_message()));
    }
}

/// Replays the titles in the order they were decided against the edition's award policy.
fn award_policy(
    doc: &EditionHistory,
    policy: &AwardPolicy,
    statuses: &[Vec<ApplicationStatus>],
    reasons: &mut Vec<String>,
) {
    let mut awards: Vec<(DateTime<Utc>, &ApplicationDoc)> = doc
        .applications
        .iter()
        .zip(statuses)
        .filter_map(|(a, s)| {
            let i = s.iter().position(|s| *s == ApplicationStatus::Awarded)?;
            Some((a.history[i].effective_at, a))
        })
        .collect();
    awards.sort_by_key(|(on, _)| *on);
    let mut held: Vec<&str> = Vec::new();
    for (_, a) in awards {
        let country = a.lead_municipality.country_code.as_str();
        if let Some(why) = awards::refusal(doc.edition.title_year, policy, &held, country) {
            reasons.push(format!(
                "applications.{}: cannot be AWARDED: {why}",
                label(&a.lead_municipality)
            ));
        }
        held.push(country);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::model::{FORMAT, FORMAT_VERSION};
    use serde_json::json;

    fn step(status: &str, on: &str) -> serde_json::Value {
        json!({ "status": status, "effectiveAt": format!("{on}T12:00:00Z") })
    }

    fn content() -> serde_json::Value {
        json!({ "vision": "v", "context": "c", "objectives": "o", "stakeholders": "s",
                "budgetCents": 100, "timeline": "t",
                "actions": [{ "title": "a", "description": "d", "themes": [], "targetGroups": "",
                              "culturalPartners": "", "startsOn": null, "endsOn": null, "budgetCents": 100 }],
                "indicators": [{ "name": "i", "unit": "u", "baselineMilli": 0, "targetMilli": 1000 }] })
    }

    /// A winner from `cc` named `name`, awarded on `on`.
    fn winner(name: &str, cc: &str, on: &str) -> serde_json::Value {
        json!({ "leadMunicipality": { "countryCode": cc, "name": name }, "title": name,
                "motivation": "m",
                "history": [step("DRAFT", "2029-01-02"), step("SUBMITTED", "2029-01-03"),
                  step("ELIGIBLE", "2029-02-01"), step("SHORTLISTED", "2029-02-02"),
                  step("CUREAP_IN_DEVELOPMENT", "2029-02-03"), step("CUREAP_SUBMITTED", "2029-03-01"),
                  step("AWARDED", on)],
                "planVersions": [{ "number": 1, "submittedAt": "2029-03-01T12:00:00Z", "content": content() }] })
    }

    /// A moment after every date of the tests' documents.
    fn later() -> DateTime<Utc> {
        "2031-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn history_is_not_in_the_future() {
        let a = winner("A", "SE", "2029-05-01");
        let before = "2029-04-01T00:00:00Z".parse().unwrap();
        let reasons = check(&doc(vec![a]), before).err().unwrap();
        assert!(
            reasons.iter().any(|r| r
                .starts_with("applications.A (SE).history.6: dated 2029-05-01")
                && r.contains("in the future")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().all(|r| r.contains("in the future")),
            "{reasons:?}"
        );
    }

    fn doc(apps: Vec<serde_json::Value>) -> EditionHistory {
        let orgs: Vec<_> = apps
            .iter()
            .map(|a| json!({ "name": a["leadMunicipality"]["name"], "countryCode": a["leadMunicipality"]["countryCode"] }))
            .collect();
        let mut d = EditionHistory::from_value(json!({
            "format": FORMAT, "formatVersion": FORMAT_VERSION,
            "edition": { "titleYear": 2030, "name": "E", "awardPolicy":
                { "awardCap": 2, "onePerCountry": true, "extraAwards": 0 }, "phases": [] },
            "organisations": orgs, "applications": apps }))
        .unwrap();
        d.canonicalise();
        d
    }

    #[test]
    fn a_history_within_the_rules_passes() {
        let checked = check(
            &doc(vec![
                winner("A", "SE", "2029-05-01"),
                winner("B", "DK", "2029-05-01"),
            ]),
            later(),
        )
        .unwrap_or_else(|r| panic!("{r:?}"));
        assert_eq!(
            checked.statuses[0].last(),
            Some(&ApplicationStatus::Awarded)
        );
    }

    #[test]
    fn awards_are_replayed_against_the_policy_in_date_order() {
        // Two Swedish titles with no extras: the later one breaks the country rule.
        let reasons = check(
            &doc(vec![
                winner("A", "SE", "2029-05-02"),
                winner("B", "SE", "2029-05-01"),
            ]),
            later(),
        )
        .err()
        .unwrap();
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(
            reasons[0].starts_with("applications.A (SE): cannot be AWARDED"),
            "{reasons:?}"
        );
        // A third title breaks the cap.
        let reasons = check(
            &doc(vec![
                winner("A", "SE", "2029-05-01"),
                winner("B", "DK", "2029-05-01"),
                winner("C", "FI", "2029-05-03"),
            ]),
            later(),
        )
        .err()
        .unwrap();
        assert!(reasons[0].contains("award cap of 2"), "{reasons:?}");
    }

    #[test]
    fn every_broken_rule_is_a_reason() {
        let mut skip = winner("A", "SE", "2029-05-01");
        // DRAFT straight to SHORTLISTED, and a frozen version without its submission.
        skip["history"] = json!([
            step("DRAFT", "2029-01-02"),
            step("SHORTLISTED", "2029-01-01")
        ]);
        let mut twice = winner("B", "DK", "2029-05-01");
        twice["planVersions"][0]["content"]["vision"] = " ".into();
        twice["motivation"] = "".into();
        let reasons = check(&doc(vec![skip, twice.clone(), twice]), later())
            .err()
            .unwrap();
        let all = reasons.join("\n");
        for expected in [
            "cannot be moved to SHORTLISTED",
            "takes effect before the step before it",
            "plan versions without a CUREAP_SUBMITTED step",
            "content.vision: the plan is not complete",
            "has one application per edition",
            "write the motivation before submitting",
            "listed twice",
        ] {
            assert!(all.contains(expected), "{expected} missing in {all}");
        }
    }

    #[test]
    fn a_submitted_plan_needs_its_frozen_version() {
        let mut a = winner("A", "SE", "2029-05-01");
        a["planVersions"] = json!([]);
        let reasons = check(&doc(vec![a]), later()).err().unwrap();
        assert!(reasons[0].contains("frozen version 1"), "{reasons:?}");
    }
}
