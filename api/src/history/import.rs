//! `pearls import edition FILE` and `importEditionHistory`: an edition's history loaded in one
//! transaction with its audit entry, or not at all.
//!
//! The rows are those the live mutations would have written for the same decisions (the
//! application with its funnel milestones, every status change, the plan with its frozen
//! versions), except that each status change carries the date the decision took effect apart
//! from the time it was recorded (now), and no phase is checked against the clock: the
//! decisions were taken when their phases were open, years ago. Re-importing the document of
//! an edition that holds exactly that history writes nothing and says so; any other document
//! for an existing edition is refused with the differences.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use entity::{
    ActionStatus, ApplicationStatus, Implementation, MentorKind, OrganisationKind, PracticeStatus,
    Role, SessionFormat, TermKind, application, application_co_applicant,
    application_status_change, country, edition, good_practice, mentor_assignment,
    mentoring_session, organisation, phase, plan, plan_action, plan_action_practice,
    plan_action_theme, plan_indicator, plan_version, progress_update, user, vocabulary_term,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::check::{Checked, check};
use super::export::export_edition;
use super::model::{ApplicationDoc, EditionHistory, OrganisationRef, named};
use super::scoring;
use crate::audit;
use crate::db::begin_write;
use crate::domain::Measure;
use crate::error::{AppError, AppResult};
use crate::kpis::rollup::{ActionTotals, Plans};
use crate::plans::service::Snapshot;
use crate::policy::{Actor, Principal, rules};

/// What an import did.
#[derive(Debug)]
pub struct ImportReport {
    pub edition: edition::Model,
    /// False when the edition already held exactly this history (nothing was written).
    pub changed: bool,
    /// SHA-256 of the document's canonical text (the audit entry keeps it).
    pub sha256: String,
    pub applications: usize,
    pub organisations_created: usize,
    /// Rows written (0 when nothing changed).
    pub rows: usize,
}

/// Imports a document as `actor` (coordinators only), in a transaction of its own.
pub async fn import(
    db: &DatabaseConnection,
    actor: &Actor,
    doc: EditionHistory,
) -> AppResult<ImportReport> {
    let by = rules::import_edition_history(actor)?;
    let txn = begin_write(db).await?;
    let report = import_in(&txn, by, doc).await?;
    if report.changed {
        crate::db::commit(txn).await?;
    } else {
        txn.rollback().await?;
    }
    Ok(report)
}

fn refused(year: i32, reasons: Vec<String>) -> AppError {
    AppError::Refused {
        message: format!(
            "the history of the {year} edition was not imported: {} rule(s) broken (see extensions.reasons); nothing was written",
            reasons.len()
        ),
        reasons,
    }
}

/// Imports a document in the caller's transaction (the demo seed loads the real editions in
/// its own). `by` is the coordinator the rules let import.
pub async fn import_in(
    txn: &DatabaseTransaction,
    by: &Principal,
    mut doc: EditionHistory,
) -> AppResult<ImportReport> {
    // One import at a time (PostgreSQL; SQLite serialises every writer): two documents naming
    // the same new municipality would otherwise both try to register it, and the second fail
    // on the organisation's unique name and country.
    crate::db::serialise_writes(txn, "edition").await?;
    doc.canonicalise();
    let sha256 = doc.sha256();
    let year = doc.edition.title_year;
    // Every reason at once: the rules of the document, then what the database says of it.
    let now = Utc::now();
    let (checked, mut reasons) = match check(&doc, now) {
        Ok(c) => (Some(c), Vec::new()),
        Err(r) => (None, r),
    };
    if let Some(ed) = edition::Entity::find()
        .filter(edition::Column::TitleYear.eq(year))
        .one(txn)
        .await?
    {
        if !reasons.is_empty() {
            return Err(refused(year, reasons));
        }
        let stored = export_edition(txn, &ed).await?;
        if stored == doc {
            return Ok(ImportReport {
                edition: ed,
                changed: false,
                sha256,
                applications: doc.applications.len(),
                organisations_created: 0,
                rows: 0,
            });
        }
        return Err(refused(year, differences(&stored, &doc)));
    }
    let orgs = organisations(txn, &doc, &mut reasons).await?;
    let mentors = mentor_users(txn, &doc, &mut reasons).await?;
    let assessors = scoring::assessor_users(txn, &doc, &mut reasons).await?;
    let links = plan_links(txn, &doc, &mut reasons).await?;
    let checked = match checked {
        Some(c) if reasons.is_empty() => c,
        _ => return Err(refused(year, reasons)),
    };
    let ed = write_edition(txn, &doc, &checked, now).await?;
    let criteria = scoring::write_setup(txn, by.user_id, ed.id, &doc, &assessors, now).await?;
    let mut created = Vec::new();
    let mut ids = HashMap::new();
    for (r, existing) in orgs {
        let id = match existing {
            Some(id) => id,
            None => {
                let o = doc
                    .organisations
                    .iter()
                    .find(|o| o.name == r.name && o.country_code == r.country_code)
                    .ok_or_else(|| AppError::internal("checked organisation missing"))?;
                let m = organisation::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    kind: Set(OrganisationKind::Municipality),
                    name: Set(o.name.clone()),
                    country_code: Set(o.country_code.clone()),
                    region: Set(o.region.clone()),
                    population: Set(o.population),
                    is_capital: Set(false),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                }
                .insert(txn)
                .await?;
                created.push(format!("{} ({})", m.name, m.country_code));
                m.id
            }
        };
        ids.insert(r, id);
    }
    let mut changes = 0;
    let mut versions = 0;
    let mut progress = 0;
    let mut rows = 1 + doc.edition.phases.len() + created.len();
    rows += doc.edition.criteria.len() + doc.edition.assessors.len();
    for (a, statuses) in doc.applications.iter().zip(&checked.statuses) {
        let lead = ids[&a.lead_municipality];
        let co: Vec<Uuid> = a.co_applicants.iter().map(|c| ids[c]).collect();
        let refs = Ids {
            by: by.user_id,
            edition: ed.id,
            lead,
            co: &co,
            mentors: &mentors,
            criteria: &criteria,
            assessors: &assessors,
            links: &links,
        };
        let (plan_rows, scored) = write_application(txn, &refs, a, statuses, now).await?;
        rows += scored + plan_rows;
        changes += statuses.len();
        versions += a.plan_versions.len();
        progress += a.progress.len();
        rows += 1 + co.len() + statuses.len();
        rows += a
            .mentors
            .iter()
            .map(|m| 1 + m.sessions.len())
            .sum::<usize>();
    }
    audit::record(
        txn,
        Some(by.user_id),
        "edition.import",
        "Edition",
        ed.id,
        json!({ "documentSha256": sha256, "formatVersion": doc.format_version,
                "titleYear": year, "applications": doc.applications.len(),
                "statusChanges": changes, "planVersions": versions,
                "progressUpdates": progress,
                "organisationsCreated": created }),
    )
    .await?;
    Ok(ImportReport {
        edition: ed,
        changed: true,
        sha256,
        applications: doc.applications.len(),
        organisations_created: created.len(),
        rows: rows + 1,
    })
}

/// Why an existing edition's history is not the document's, part by part.
fn differences(stored: &EditionHistory, doc: &EditionHistory) -> Vec<String> {
    let year = doc.edition.title_year;
    let mut out = vec![format!(
        "the {year} edition already exists with another history; a document is imported into a new edition, or again as exported"
    )];
    if stored.edition != doc.edition {
        out.push(format!(
            "edition: its name, award policy or phases differ from the stored {year} edition"
        ));
    }
    for a in &doc.applications {
        let label = format!(
            "{} ({})",
            a.lead_municipality.name, a.lead_municipality.country_code
        );
        match stored
            .applications
            .iter()
            .find(|s| s.lead_municipality == a.lead_municipality)
        {
            None => out.push(format!("applications.{label}: not in the stored edition")),
            Some(s) if s != a => out.push(format!(
                "applications.{label}: differs from the stored application"
            )),
            Some(_) => {}
        }
    }
    for s in &stored.applications {
        if !doc
            .applications
            .iter()
            .any(|a| a.lead_municipality == s.lead_municipality)
        {
            out.push(format!(
                "applications.{} ({}): stored, but not in the document",
                s.lead_municipality.name, s.lead_municipality.country_code
            ));
        }
    }
    out
}

/// The users the document's mentors name, by e-mail: each must be a user with the MENTOR
/// role (an inactive one too: a mentor of a past edition may have left since).
async fn mentor_users(
    txn: &impl ConnectionTrait,
    doc: &EditionHistory,
    reasons: &mut Vec<String>,
) -> AppResult<HashMap<String, Uuid>> {
    let mut out = HashMap::new();
    for m in doc.applications.iter().flat_map(|a| &a.mentors) {
        if out.contains_key(&m.email) {
            continue;
        }
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(m.email.as_str()))
            .one(txn)
            .await?;
        match found {
            Some(u) if u.role == Role::Mentor => {
                out.insert(m.email.clone(), u.id);
            }
            _ => reasons.push(format!(
                "mentors.{}: no user with the MENTOR role has this e-mail (create the user first)",
                m.email
            )),
        }
    }
    Ok(out)
}

/// The document's organisations, each with the id of the stored municipality of the same name
/// and country (`None`: to be created). A stored organisation must be a municipality that may
/// apply (no capital) and hold the document's region and population.
async fn organisations(
    txn: &impl ConnectionTrait,
    doc: &EditionHistory,
    reasons: &mut Vec<String>,
) -> AppResult<Vec<(OrganisationRef, Option<Uuid>)>> {
    let mut out = Vec::new();
    for o in &doc.organisations {
        let at = format!("organisations.{} ({})", o.name, o.country_code);
        if country::Entity::find_by_id(o.country_code.clone())
            .one(txn)
            .await?
            .is_none()
        {
            reasons.push(format!(
                "{at}: {} is not a country of the programme area",
                o.country_code
            ));
        }
        let stored = organisation::Entity::find()
            .filter(organisation::Column::Name.eq(o.name.as_str()))
            .filter(organisation::Column::CountryCode.eq(o.country_code.as_str()))
            .one(txn)
            .await?;
        if let Some(s) = &stored {
            if s.kind != OrganisationKind::Municipality || s.is_capital {
                reasons.push(format!(
                    "{at}: stored as a {} {}; applicants are municipalities other than capitals",
                    s.kind.as_str(),
                    if s.is_capital { "(capital)" } else { "" }
                ));
            }
            if s.region != o.region || s.population != o.population {
                reasons.push(format!(
                    "{at}: stored with region {:?} and population {:?}; the document says {:?} and {:?}",
                    s.region, s.population, o.region, o.population
                ));
            }
        }
        out.push((
            OrganisationRef {
                country_code: o.country_code.clone(),
                name: o.name.clone(),
            },
            stored.map(|s| s.id),
        ));
    }
    Ok(out)
}

async fn write_edition(
    txn: &DatabaseTransaction,
    doc: &EditionHistory,
    checked: &Checked,
    now: DateTime<Utc>,
) -> AppResult<edition::Model> {
    let ed = edition::ActiveModel {
        id: Set(Uuid::now_v7()),
        title_year: Set(doc.edition.title_year),
        name: Set(doc.edition.name.clone()),
        award_cap: Set(checked.policy.award_cap),
        one_per_country: Set(checked.policy.one_per_country),
        extra_awards: Set(checked.policy.extra_awards),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(txn)
    .await?;
    for (p, kind) in doc.edition.phases.iter().zip(&checked.phases) {
        phase::ActiveModel {
            id: Set(Uuid::now_v7()),
            edition_id: Set(ed.id),
            kind: Set(*kind),
            starts_at: Set(p.starts_at),
            ends_at: Set(p.ends_at),
        }
        .insert(txn)
        .await?;
    }
    Ok(ed)
}

/// One application as its decisions would have left it: the status reached, the version
/// count of one per step, the submission date and the funnel's milestones from the history,
/// each step recorded now by the importer with its effective date, and the plan (from the
/// CuReAP development on) holding its last frozen version's content, its mentors and its
/// assessments. The plan rows written, and the assessment rows written.
async fn write_application(
    txn: &DatabaseTransaction,
    ids: &Ids<'_>,
    a: &ApplicationDoc,
    statuses: &[ApplicationStatus],
    now: DateTime<Utc>,
) -> AppResult<(usize, usize)> {
    let on = |s: ApplicationStatus| {
        statuses
            .iter()
            .position(|x| *x == s)
            .map(|i| a.history[i].effective_at)
    };
    let last = *statuses
        .last()
        .ok_or_else(|| AppError::internal("checked history is empty"))?;
    let withdrawn_from = (last == ApplicationStatus::Withdrawn)
        .then(|| statuses.len().checked_sub(2).map(|i| statuses[i]))
        .flatten();
    let Ids { by, co, .. } = *ids;
    let app = application::ActiveModel {
        id: Set(Uuid::now_v7()),
        edition_id: Set(ids.edition),
        lead_municipality_id: Set(ids.lead),
        title: Set(a.title.clone()),
        motivation: Set(a.motivation.clone()),
        status: Set(last),
        submitted_at: Set(on(ApplicationStatus::Submitted)),
        created_by: Set(Some(by)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(statuses.len() as i32),
        withdrawn_from: Set(withdrawn_from),
        cureap_submitted_at: Set(a.plan_versions.first().map(|v| v.submitted_at)),
    }
    .insert(txn)
    .await?;
    if !co.is_empty() {
        application_co_applicant::Entity::insert_many(co.iter().map(|org| {
            application_co_applicant::ActiveModel {
                application_id: Set(app.id),
                organisation_id: Set(*org),
            }
        }))
        .exec(txn)
        .await?;
    }
    let mut from = None;
    for (h, to) in a.history.iter().zip(statuses) {
        application_status_change::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(app.id),
            from_status: Set(from),
            to_status: Set(*to),
            actor_id: Set(Some(by)),
            note: Set(h.note.clone()),
            changed_at: Set(now),
            effective_at: Set(h.effective_at),
        }
        .insert(txn)
        .await?;
        from = Some(*to);
    }
    let plan = if on(ApplicationStatus::CureapInDevelopment).is_some() {
        write_plan(txn, app.id, a, ids.links, now).await?
    } else {
        0
    };
    write_mentors(txn, app.id, ids.mentors, a, now).await?;
    let scored =
        scoring::write_assessments(txn, by, app.id, a, ids.criteria, ids.assessors, now).await?;
    Ok((plan, scored))
}

/// The ids an application's rows refer to.
#[derive(Clone, Copy)]
struct Ids<'a> {
    /// The importing coordinator.
    by: Uuid,
    edition: Uuid,
    lead: Uuid,
    co: &'a [Uuid],
    mentors: &'a HashMap<String, Uuid>,
    criteria: &'a scoring::CriteriaIds,
    assessors: &'a HashMap<String, Uuid>,
    links: &'a PlanLinks,
}

async fn write_mentors(
    txn: &DatabaseTransaction,
    application_id: Uuid,
    mentors: &HashMap<String, Uuid>,
    a: &ApplicationDoc,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for m in &a.mentors {
        let mentor = *mentors
            .get(&m.email)
            .ok_or_else(|| AppError::internal("checked mentor missing"))?;
        let kind = named(&m.kind, MentorKind::as_str)
            .ok_or_else(|| AppError::internal("checked mentor kind"))?;
        let assignment = mentor_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(application_id),
            mentor_id: Set(mentor),
            kind: Set(kind),
            starts_on: Set(m.starts_on),
            ends_on: Set(m.ends_on),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
        for s in &m.sessions {
            let format = named(&s.format, SessionFormat::as_str)
                .ok_or_else(|| AppError::internal("checked session format"))?;
            mentoring_session::ActiveModel {
                id: Set(Uuid::now_v7()),
                assignment_id: Set(assignment.id),
                held_on: Set(s.held_on),
                minutes: Set(s.minutes),
                format: Set(format),
                topics: Set(s.topics.clone()),
                notes: Set(s.notes.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// The plan as its last frozen version left it: its text, its actions (with their themes and
/// the catalogue's practices they cite) and indicators as rows, as the live plan holds them
/// after a submission, each frozen version, and the title-year progress and indicator values.
/// The KPI totals move by its actions as a submission moves them. The rows written.
async fn write_plan(
    txn: &DatabaseTransaction,
    application_id: Uuid,
    a: &ApplicationDoc,
    links: &PlanLinks,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let content = a.plan_versions.last().map(|v| v.content.clone());
    let text = |f: fn(&crate::plans::service::Snapshot) -> &String| {
        content.as_ref().map(|c| f(c).clone()).unwrap_or_default()
    };
    let submitted = a.plan_versions.len() as i32;
    let p = plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        vision: Set(text(|c| &c.vision)),
        context: Set(text(|c| &c.context)),
        objectives: Set(text(|c| &c.objectives)),
        stakeholders: Set(text(|c| &c.stakeholders)),
        budget_cents: Set(content.as_ref().and_then(|c| c.budget_cents)),
        timeline: Set(text(|c| &c.timeline)),
        submitted_version: Set(submitted),
        created_at: Set(now),
        updated_at: Set(now),
        // Created at version 1, one more for each freeze (as the live path counts).
        version: Set(1 + submitted),
    }
    .insert(txn)
    .await?;
    let mut rows = 1 + a.plan_versions.len();
    for v in &a.plan_versions {
        plan_version::ActiveModel {
            id: Set(Uuid::now_v7()),
            plan_id: Set(p.id),
            number: Set(v.number),
            snapshot: Set(serde_json::to_value(&v.content)
                .map_err(|e| AppError::internal_from("a plan version", e))?),
            submitted_at: Set(v.submitted_at),
            // Who handed it in is not part of the history.
            submitted_by: Set(None),
        }
        .insert(txn)
        .await?;
    }
    if let Some(content) = &content {
        let totals = ActionTotals::read(txn, Plans::One(p.id)).await?;
        rows += write_actions(txn, p.id, content, a, links, now).await?;
        rows += write_indicators(txn, p.id, content, a, now).await?;
        totals.settle(txn).await?;
    }
    Ok(rows)
}

/// The frozen version's actions as rows (positions 1, 2, … in its order), their links, and the
/// progress posted on them, each action's latest post kept on it as `postProgress` keeps it.
async fn write_actions(
    txn: &DatabaseTransaction,
    plan_id: Uuid,
    content: &Snapshot,
    a: &ApplicationDoc,
    links: &PlanLinks,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut rows = 0;
    for (i, x) in content.actions.iter().enumerate() {
        let number = i as i32 + 1;
        let posts: Vec<_> = a.progress.iter().filter(|p| p.action == number).collect();
        // Canonical order puts an action's posts by date: the last is its latest.
        let latest = posts.last();
        let latest_implementation = latest
            .map(|p| {
                named(&p.implementation, Implementation::as_str)
                    .ok_or_else(|| AppError::internal("checked implementation"))
            })
            .transpose()?;
        let action = plan_action::ActiveModel {
            id: Set(Uuid::now_v7()),
            plan_id: Set(plan_id),
            position: Set(number),
            title: Set(x.title.clone()),
            description: Set(x.description.clone()),
            target_groups: Set(x.target_groups.clone()),
            cultural_partners: Set(x.cultural_partners.clone()),
            starts_on: Set(x.starts_on),
            ends_on: Set(x.ends_on),
            budget_cents: Set(x.budget_cents),
            status: Set(ActionStatus::Planned),
            latest_implementation: Set(latest_implementation),
            latest_participants_reached: Set(latest.map(|p| p.participants_reached)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(txn)
        .await?;
        rows += 1;
        let mut themes: Vec<Uuid> = Vec::new();
        for name in &x.themes {
            let id = *links
                .themes
                .get(name)
                .ok_or_else(|| AppError::internal("checked theme missing"))?;
            if !themes.contains(&id) {
                themes.push(id);
            }
        }
        let mut practices: Vec<Uuid> = Vec::new();
        for id in x.practices.iter().filter_map(|t| links.practices.get(t)) {
            if !practices.contains(id) {
                practices.push(*id);
            }
        }
        rows += themes.len() + practices.len();
        for term_id in themes {
            plan_action_theme::ActiveModel {
                action_id: Set(action.id),
                term_id: Set(term_id),
            }
            .insert(txn)
            .await?;
        }
        for practice_id in practices {
            plan_action_practice::ActiveModel {
                action_id: Set(action.id),
                practice_id: Set(practice_id),
            }
            .insert(txn)
            .await?;
        }
        for post in posts {
            let implementation = named(&post.implementation, Implementation::as_str)
                .ok_or_else(|| AppError::internal("checked implementation"))?;
            progress_update::ActiveModel {
                id: Set(Uuid::now_v7()),
                action_id: Set(action.id),
                implementation: Set(implementation),
                percentage: Set(post.percentage),
                participants_reached: Set(post.participants_reached),
                evidence_url: Set(post.evidence_url.clone()),
                note: Set(post.note.clone()),
                // Who posted it is not part of the history.
                posted_by: Set(None),
                posted_at: Set(post.posted_at),
            }
            .insert(txn)
            .await?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// The frozen version's indicators as rows, in its order (the order a freeze reads them in),
/// with the values measured in the title year.
async fn write_indicators(
    txn: &DatabaseTransaction,
    plan_id: Uuid,
    content: &Snapshot,
    a: &ApplicationDoc,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    for (i, x) in content.indicators.iter().enumerate() {
        let number = i as i32 + 1;
        let actual = a
            .indicator_actuals
            .iter()
            .find(|v| v.indicator == number)
            .map(|v| Measure::parse("actual", v.actual).map(Measure::milli))
            .transpose()?;
        // Created in order, a microsecond apart: the plan's indicators are read by creation.
        let created = now + chrono::Duration::microseconds(i as i64);
        plan_indicator::ActiveModel {
            id: Set(Uuid::now_v7()),
            plan_id: Set(plan_id),
            name: Set(x.name.clone()),
            unit: Set(x.unit.clone()),
            baseline_milli: Set(x.baseline_milli),
            target_milli: Set(x.target_milli),
            actual_milli: Set(actual),
            created_at: Set(created),
            updated_at: Set(created),
        }
        .insert(txn)
        .await?;
    }
    Ok(content.indicators.len())
}

/// What the frozen plans' actions name in the portal: the themes of the managed vocabulary (by
/// name; a retired theme too, as a past plan may cite one) and the catalogue's practices (by
/// title).
#[derive(Default)]
struct PlanLinks {
    themes: HashMap<String, Uuid>,
    /// Titles that name exactly one published practice. A practice the catalogue does not hold
    /// (or holds twice under one title) stays in the frozen text only, unlinked.
    practices: HashMap<String, Uuid>,
}

/// Resolves the themes and practices the document's last plan versions name; an unknown theme
/// is a reason (the actions' KPI figures by theme would otherwise lose it).
async fn plan_links(
    txn: &impl ConnectionTrait,
    doc: &EditionHistory,
    reasons: &mut Vec<String>,
) -> AppResult<PlanLinks> {
    let mut themes: Vec<&String> = Vec::new();
    let mut practices: Vec<&String> = Vec::new();
    for c in doc
        .applications
        .iter()
        .filter_map(|a| a.plan_versions.last())
        .map(|v| &v.content)
    {
        for x in &c.actions {
            themes.extend(&x.themes);
            practices.extend(&x.practices);
        }
    }
    themes.sort();
    themes.dedup();
    practices.sort();
    practices.dedup();
    let mut out = PlanLinks::default();
    if !themes.is_empty() {
        for t in vocabulary_term::Entity::find()
            .filter(vocabulary_term::Column::Kind.eq(TermKind::Theme))
            .filter(vocabulary_term::Column::Name.is_in(themes.iter().map(|t| t.as_str())))
            .all(txn)
            .await?
        {
            out.themes.insert(t.name, t.id);
        }
        for t in themes {
            if !out.themes.contains_key(t) {
                reasons.push(format!(
                    "planVersions: theme \"{t}\" is not a theme of the vocabulary (add it, retired if need be, first)"
                ));
            }
        }
    }
    if !practices.is_empty() {
        let mut found: HashMap<String, Vec<Uuid>> = HashMap::new();
        for p in good_practice::Entity::find()
            .filter(good_practice::Column::Status.eq(PracticeStatus::Published))
            .filter(good_practice::Column::Title.is_in(practices.iter().map(|t| t.as_str())))
            .all(txn)
            .await?
        {
            found.entry(p.title).or_default().push(p.id);
        }
        out.practices = found
            .into_iter()
            .filter_map(|(t, ids)| (ids.len() == 1).then(|| (t, ids[0])))
            .collect();
    }
    Ok(out)
}
