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
    ApplicationStatus, MentorKind, OrganisationKind, Role, SessionFormat, application,
    application_co_applicant, application_status_change, country, edition, mentor_assignment,
    mentoring_session, organisation, phase, plan, plan_version, user,
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
use crate::error::{AppError, AppResult};
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
    let checked = check(&doc).map_err(|r| refused(year, r))?;
    if let Some(ed) = edition::Entity::find()
        .filter(edition::Column::TitleYear.eq(year))
        .one(txn)
        .await?
    {
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
    let mut reasons = Vec::new();
    let orgs = organisations(txn, &doc, &mut reasons).await?;
    let mentors = mentor_users(txn, &doc, &mut reasons).await?;
    let assessors = scoring::assessor_users(txn, &doc, &mut reasons).await?;
    if !reasons.is_empty() {
        return Err(refused(year, reasons));
    }
    let now = Utc::now();
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
        };
        let (plan, scored) = write_application(txn, &refs, a, statuses, now).await?;
        rows += scored;
        changes += statuses.len();
        versions += a.plan_versions.len();
        rows += 1 + co.len() + statuses.len() + usize::from(plan) + a.plan_versions.len();
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
/// assessments. Whether it has a plan, and the assessment rows written.
async fn write_application(
    txn: &DatabaseTransaction,
    ids: &Ids<'_>,
    a: &ApplicationDoc,
    statuses: &[ApplicationStatus],
    now: DateTime<Utc>,
) -> AppResult<(bool, usize)> {
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
    let plan = on(ApplicationStatus::CureapInDevelopment).is_some();
    if plan {
        write_plan(txn, app.id, a, now).await?;
    }
    write_mentors(txn, app.id, ids.mentors, a, now).await?;
    let scored =
        scoring::write_assessments(txn, app.id, a, ids.criteria, ids.assessors, now).await?;
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

async fn write_plan(
    txn: &DatabaseTransaction,
    application_id: Uuid,
    a: &ApplicationDoc,
    now: DateTime<Utc>,
) -> AppResult<()> {
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
    Ok(())
}
