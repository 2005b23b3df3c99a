//! `pearls export edition YEAR`: an edition's history as the document the importer reads, in
//! canonical order, so an imported canonical document exports to the same bytes.

use std::collections::HashMap;

use entity::{
    application, application_co_applicant, application_status_change, edition, mentor_assignment,
    mentoring_session, organisation, phase, plan, plan_action, plan_indicator, plan_version,
    progress_update,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::model::{
    ApplicationDoc, AwardPolicyDoc, EditionDoc, EditionHistory, FORMAT, FORMAT_VERSION,
    IndicatorActualDoc, MentorDoc, OrganisationDoc, OrganisationRef, PhaseDoc, PlanVersionDoc,
    ProgressDoc, SessionDoc, StatusChangeDoc,
};
use super::scoring;
use crate::domain::Measure;
use crate::error::{AppError, AppResult};
use crate::plans::service::Snapshot;

/// The history of the edition of `title_year`, or NOT_FOUND. Read it in one snapshot (or the
/// import's transaction) so it is consistent.
pub async fn export(db: &impl ConnectionTrait, title_year: i32) -> AppResult<EditionHistory> {
    let ed = edition::Entity::find()
        .filter(edition::Column::TitleYear.eq(title_year))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(&format!("the {title_year} edition")))?;
    export_edition(db, &ed).await
}

/// The history of an edition already read.
pub async fn export_edition(
    db: &impl ConnectionTrait,
    ed: &edition::Model,
) -> AppResult<EditionHistory> {
    let phases = phase::Entity::find()
        .filter(phase::Column::EditionId.eq(ed.id))
        .all(db)
        .await?;
    let apps = application::Entity::find()
        .filter(application::Column::EditionId.eq(ed.id))
        .all(db)
        .await?;
    let app_ids: Vec<Uuid> = apps.iter().map(|a| a.id).collect();
    let co = application_co_applicant::Entity::find()
        .filter(application_co_applicant::Column::ApplicationId.is_in(app_ids.clone()))
        .all(db)
        .await?;
    let org_ids: Vec<Uuid> = apps
        .iter()
        .map(|a| a.lead_municipality_id)
        .chain(co.iter().map(|c| c.organisation_id))
        .collect();
    let orgs: HashMap<Uuid, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let reference = |id: &Uuid| -> AppResult<OrganisationRef> {
        let o = orgs
            .get(id)
            .ok_or_else(|| AppError::internal("application without its organisation"))?;
        Ok(OrganisationRef {
            country_code: o.country_code.clone(),
            name: o.name.clone(),
        })
    };
    let mut history = histories(db, &app_ids).await?;
    // Each plan's application, read once for the versions and the title year.
    let plans: HashMap<Uuid, Uuid> = plan::Entity::find()
        .filter(plan::Column::ApplicationId.is_in(app_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.application_id))
        .collect();
    let mut versions = plan_versions(db, &plans).await?;
    let mut title_year = title_year(db, &plans).await?;
    let mut mentors = mentors(db, &app_ids).await?;
    let mut assessments = scoring::export_assessments(db, &app_ids).await?;
    let mut jurors = scoring::export_jurors(db, &app_ids).await?;
    let (criteria, assessors) = scoring::export_setup(db, ed.id).await?;
    let mut co_by_app: HashMap<Uuid, Vec<OrganisationRef>> = HashMap::new();
    for c in &co {
        co_by_app
            .entry(c.application_id)
            .or_default()
            .push(reference(&c.organisation_id)?);
    }
    let mut applications = Vec::with_capacity(apps.len());
    for a in &apps {
        applications.push(ApplicationDoc {
            lead_municipality: reference(&a.lead_municipality_id)?,
            co_applicants: co_by_app.remove(&a.id).unwrap_or_default(),
            title: a.title.clone(),
            motivation: a.motivation.clone(),
            history: history.remove(&a.id).unwrap_or_default(),
            plan_versions: versions.remove(&a.id).unwrap_or_default(),
            mentors: mentors.remove(&a.id).unwrap_or_default(),
            jurors: jurors.remove(&a.id).unwrap_or_default(),
            assessments: assessments.remove(&a.id).unwrap_or_default(),
            progress: title_year.progress.remove(&a.id).unwrap_or_default(),
            indicator_actuals: title_year.actuals.remove(&a.id).unwrap_or_default(),
        });
    }
    let mut doc = EditionHistory {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        edition: EditionDoc {
            title_year: ed.title_year,
            name: ed.name.clone(),
            award_policy: AwardPolicyDoc {
                award_cap: ed.award_cap,
                one_per_country: ed.one_per_country,
                extra_awards: ed.extra_awards,
            },
            phases: phases
                .into_iter()
                .map(|p| PhaseDoc {
                    kind: p.kind.as_str().to_owned(),
                    starts_at: p.starts_at,
                    ends_at: p.ends_at,
                })
                .collect(),
            criteria,
            assessors,
        },
        organisations: orgs
            .into_values()
            .map(|o| OrganisationDoc {
                name: o.name,
                country_code: o.country_code,
                region: o.region,
                population: o.population,
            })
            .collect(),
        applications,
    };
    doc.canonicalise();
    Ok(doc)
}

/// Each application's status changes in the order they were recorded (an import records a
/// history in its order; ids are time-ordered within a timestamp).
async fn histories(
    db: &impl ConnectionTrait,
    app_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<StatusChangeDoc>>> {
    let mut out: HashMap<Uuid, Vec<StatusChangeDoc>> = HashMap::new();
    for c in application_status_change::Entity::find()
        .filter(application_status_change::Column::ApplicationId.is_in(app_ids.to_vec()))
        .order_by_asc(application_status_change::Column::ChangedAt)
        .order_by_asc(application_status_change::Column::Id)
        .all(db)
        .await?
    {
        out.entry(c.application_id)
            .or_default()
            .push(StatusChangeDoc {
                status: c.to_status.as_str().to_owned(),
                effective_at: c.effective_at,
                note: c.note,
            });
    }
    Ok(out)
}

/// Each application's mentors with their sessions.
async fn mentors(
    db: &impl ConnectionTrait,
    app_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<MentorDoc>>> {
    let assignments = mentor_assignment::Entity::find()
        .filter(mentor_assignment::Column::ApplicationId.is_in(app_ids.to_vec()))
        .all(db)
        .await?;
    let emails = scoring::emails(db, assignments.iter().map(|m| m.mentor_id)).await?;
    let mut sessions: HashMap<Uuid, Vec<SessionDoc>> = HashMap::new();
    for s in mentoring_session::Entity::find()
        .filter(mentoring_session::Column::AssignmentId.is_in(assignments.iter().map(|m| m.id)))
        .all(db)
        .await?
    {
        sessions
            .entry(s.assignment_id)
            .or_default()
            .push(SessionDoc {
                held_on: s.held_on,
                minutes: s.minutes,
                format: s.format.as_str().to_owned(),
                topics: s.topics,
                notes: s.notes,
            });
    }
    let mut out: HashMap<Uuid, Vec<MentorDoc>> = HashMap::new();
    for m in assignments {
        out.entry(m.application_id).or_default().push(MentorDoc {
            email: emails.get(&m.mentor_id).cloned().unwrap_or_default(),
            kind: m.kind.as_str().to_owned(),
            starts_on: m.starts_on,
            ends_on: m.ends_on,
            sessions: sessions.remove(&m.id).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Each application's frozen plan versions, by number.
/// `plans`: each plan's application.
async fn plan_versions(
    db: &impl ConnectionTrait,
    plans: &HashMap<Uuid, Uuid>,
) -> AppResult<HashMap<Uuid, Vec<PlanVersionDoc>>> {
    let mut out: HashMap<Uuid, Vec<PlanVersionDoc>> = HashMap::new();
    for v in plan_version::Entity::find()
        .filter(plan_version::Column::PlanId.is_in(plans.keys().copied().collect::<Vec<_>>()))
        .order_by_asc(plan_version::Column::Number)
        .all(db)
        .await?
    {
        let content: Snapshot = serde_json::from_value(v.snapshot)
            .map_err(|e| AppError::internal_from("a stored plan version", e))?;
        let Some(app) = plans.get(&v.plan_id) else {
            continue;
        };
        out.entry(*app).or_default().push(PlanVersionDoc {
            number: v.number,
            submitted_at: v.submitted_at,
            content,
        });
    }
    Ok(out)
}

/// The title-year figures of some applications' plans.
#[derive(Default)]
struct TitleYear {
    progress: HashMap<Uuid, Vec<ProgressDoc>>,
    actuals: HashMap<Uuid, Vec<IndicatorActualDoc>>,
}

/// Each application's progress posts and measured indicator values, the actions and
/// indicators numbered as a freeze orders them (actions by position, indicators by creation),
/// which is their order in the last frozen version.
async fn title_year(
    db: &impl ConnectionTrait,
    plans: &HashMap<Uuid, Uuid>,
) -> AppResult<TitleYear> {
    let plan_ids: Vec<Uuid> = plans.keys().copied().collect();
    let mut out = TitleYear::default();
    // (application, number) of each action.
    let mut actions: HashMap<Uuid, (Uuid, i32)> = HashMap::new();
    let mut next: HashMap<Uuid, i32> = HashMap::new();
    for x in plan_action::Entity::find()
        .filter(plan_action::Column::PlanId.is_in(plan_ids.clone()))
        .order_by_asc(plan_action::Column::Position)
        .order_by_asc(plan_action::Column::Id)
        .all(db)
        .await?
    {
        let n = next.entry(x.plan_id).or_insert(0);
        *n += 1;
        if let Some(app) = plans.get(&x.plan_id) {
            actions.insert(x.id, (*app, *n));
        }
    }
    for p in progress_update::Entity::find()
        .filter(
            progress_update::Column::ActionId.is_in(actions.keys().copied().collect::<Vec<_>>()),
        )
        .order_by_asc(progress_update::Column::PostedAt)
        .order_by_asc(progress_update::Column::Id)
        .all(db)
        .await?
    {
        let Some((app, number)) = actions.get(&p.action_id) else {
            continue;
        };
        out.progress.entry(*app).or_default().push(ProgressDoc {
            action: *number,
            posted_at: p.posted_at,
            implementation: p.implementation.as_str().to_owned(),
            percentage: p.percentage,
            participants_reached: p.participants_reached,
            evidence_url: p.evidence_url,
            note: p.note,
        });
    }
    let mut next: HashMap<Uuid, i32> = HashMap::new();
    for x in plan_indicator::Entity::find()
        .filter(plan_indicator::Column::PlanId.is_in(plan_ids))
        .order_by_asc(plan_indicator::Column::CreatedAt)
        .order_by_asc(plan_indicator::Column::Id)
        .all(db)
        .await?
    {
        let n = next.entry(x.plan_id).or_insert(0);
        *n += 1;
        if let (Some(app), Some(actual)) = (plans.get(&x.plan_id), x.actual_milli) {
            out.actuals
                .entry(*app)
                .or_default()
                .push(IndicatorActualDoc {
                    indicator: *n,
                    actual: Measure::to_decimal(actual),
                });
        }
    }
    Ok(out)
}
