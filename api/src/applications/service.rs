//! Application use cases, without GraphQL types: create, edit a draft, run a lifecycle
//! transition. Each runs in one write transaction together with its status-history row and its
//! audit entry.

use chrono::Utc;
use entity::{
    ApplicationStatus, OrganisationKind, PhaseKind, Role, application, application_co_applicant,
    application_status_change, edition, mentor_assignment, organisation,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use super::awards;
use super::lifecycle::{self, Action, Check};
use crate::audit;
use crate::db::begin_write;
use crate::domain::NonEmptyText;
use crate::editions::require_open_phase;
use crate::error::{AppError, AppResult};
use crate::kpis::rollup;
use crate::live::{Event, EventBus};
use crate::policy::{Actor, rules, scope};

/// Longest motivation accepted, in characters.
pub const MAX_MOTIVATION: usize = 20_000;

/// A new application, with checked values.
pub struct NewApplication {
    pub edition_year: i32,
    /// `None`: the caller's own municipality.
    pub lead_municipality_id: Option<Uuid>,
    pub title: NonEmptyText,
    pub motivation: String,
    pub co_applicant_ids: Vec<Uuid>,
}

/// Changes to a draft; `None` leaves a value as it is.
pub struct ApplicationChanges {
    pub title: Option<NonEmptyText>,
    pub motivation: Option<String>,
    pub co_applicant_ids: Option<Vec<Uuid>>,
}

/// Checks a motivation text's length.
pub fn check_motivation(text: &str) -> AppResult<String> {
    let t = text.trim();
    if t.chars().count() > MAX_MOTIVATION {
        return Err(AppError::bad_input(
            "motivation",
            format!("must be at most {MAX_MOTIVATION} characters"),
        ));
    }
    Ok(t.to_owned())
}

async fn validate_co_applicants(
    db: &impl ConnectionTrait,
    lead: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    let mut unique: Vec<Uuid> = Vec::new();
    for id in ids {
        if *id == lead {
            return Err(AppError::bad_input(
                "coApplicantIds",
                "the lead cannot be its own co-applicant",
            ));
        }
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.len() > 20 {
        return Err(AppError::bad_input(
            "coApplicantIds",
            "at most 20 co-applicants",
        ));
    }
    if unique.is_empty() {
        return Ok(unique);
    }
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(unique.clone()))
        .all(db)
        .await?;
    if orgs.len() != unique.len() {
        return Err(AppError::bad_input(
            "coApplicantIds",
            "no such organisation",
        ));
    }
    if orgs
        .iter()
        .any(|o| o.kind != OrganisationKind::Municipality || o.is_capital)
    {
        return Err(AppError::bad_input(
            "coApplicantIds",
            "co-applicants must be municipalities other than capitals",
        ));
    }
    Ok(unique)
}

async fn replace_co_applicants(
    db: &impl ConnectionTrait,
    app: Uuid,
    ids: &[Uuid],
) -> AppResult<()> {
    application_co_applicant::Entity::delete_many()
        .filter(application_co_applicant::Column::ApplicationId.eq(app))
        .exec(db)
        .await?;
    if !ids.is_empty() {
        application_co_applicant::Entity::insert_many(ids.iter().map(|org| {
            application_co_applicant::ActiveModel {
                application_id: Set(app),
                organisation_id: Set(*org),
            }
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

/// A status change: `effective` is when the decision took effect, recorded now (the same
/// moment unless a coordinator records an earlier decision: [`Step::effective_at`]).
async fn record_status(
    db: &impl ConnectionTrait,
    app: Uuid,
    (from, to): (Option<ApplicationStatus>, ApplicationStatus),
    actor: Option<Uuid>,
    note: Option<String>,
    effective: Option<chrono::DateTime<Utc>>,
) -> AppResult<Event> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    application_status_change::ActiveModel {
        id: Set(id),
        application_id: Set(app),
        from_status: Set(from),
        to_status: Set(to),
        actor_id: Set(actor),
        note: Set(note),
        changed_at: Set(now),
        effective_at: Set(effective.unwrap_or(now)),
    }
    .insert(db)
    .await?;
    Ok(Event::ApplicationStatusChanged {
        application_id: app,
        status_change_id: id,
    })
}

/// Opens a draft application while the edition's call is open.
pub async fn create(
    db: &DatabaseConnection,
    live: &EventBus,
    actor: &Actor,
    new: NewApplication,
) -> AppResult<application::Model> {
    let p = actor.principal()?;
    let txn = begin_write(db).await?;
    let edition = edition::Entity::find()
        .filter(edition::Column::TitleYear.eq(new.edition_year))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            AppError::bad_input(
                "editionYear",
                format!("there is no {} edition", new.edition_year),
            )
        })?;
    let lead_id = match (new.lead_municipality_id, p.role) {
        (Some(id), _) => id,
        (None, Role::Municipality) => p
            .organisation_id
            .ok_or_else(|| AppError::forbidden("your account belongs to no municipality"))?,
        (None, _) => {
            return Err(AppError::bad_input(
                "leadMunicipalityId",
                "name the lead municipality",
            ));
        }
    };
    let lead = scope::organisations(actor)
        .filter(organisation::Column::Id.eq(lead_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("leadMunicipalityId", "no such organisation"))?;
    rules::create_application(actor, &lead)?;
    require_open_phase(
        &txn,
        edition.id,
        edition.title_year,
        PhaseKind::Call,
        Utc::now(),
        None,
    )
    .await?;
    let co = validate_co_applicants(&txn, lead.id, &new.co_applicant_ids).await?;
    let exists = application::Entity::find()
        .filter(application::Column::EditionId.eq(edition.id))
        .filter(application::Column::LeadMunicipalityId.eq(lead.id))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(AppError::conflict(format!(
            "{} already has an application for the {} edition",
            lead.name, edition.title_year
        )));
    }
    let now = Utc::now();
    let model = application::ActiveModel {
        id: Set(Uuid::now_v7()),
        edition_id: Set(edition.id),
        lead_municipality_id: Set(lead.id),
        title: Set(new.title.into_inner()),
        motivation: Set(new.motivation),
        status: Set(ApplicationStatus::Draft),
        submitted_at: Set(None),
        created_by: Set(Some(p.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        withdrawn_from: Set(None),
        cureap_submitted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    replace_co_applicants(&txn, model.id, &co).await?;
    let created = record_status(
        &txn,
        model.id,
        (None, ApplicationStatus::Draft),
        Some(p.user_id),
        None,
        None,
    )
    .await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "application.create",
        "Application",
        model.id,
        json!({ "edition": edition.title_year, "leadMunicipalityId": lead.id, "title": model.title,
                "coApplicantIds": co }),
    )
    .await?;
    live.commit(txn, vec![created]).await?;
    Ok(model)
}

/// Loads an application through the actor's scope, or NOT_FOUND.
async fn visible(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> AppResult<application::Model> {
    scope::applications(actor)
        .filter(application::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("application"))
}

/// Writes `am` only if the row still has `expected` as its version (one atomic step).
async fn save_versioned(
    db: &impl ConnectionTrait,
    id: Uuid,
    expected: i32,
    am: application::ActiveModel,
) -> AppResult<application::Model> {
    let res = application::Entity::update_many()
        .set(am.clone())
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Version.eq(expected))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("application"));
    }
    Ok(am.try_into_model()?)
}

/// Edits a draft. Only the lead municipality (or a coordinator) edits, only drafts are editable,
/// and a stale `expected_version` is CONFLICT with nothing written.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    changes: ApplicationChanges,
) -> AppResult<application::Model> {
    actor.principal()?;
    let txn = begin_write(db).await?;
    let current = visible(&txn, actor, id).await?;
    rules::edit_application(actor, &current)?;
    if current.version != expected_version {
        return Err(AppError::stale_version("application"));
    }
    if current.status != ApplicationStatus::Draft {
        return Err(AppError::conflict("only a draft application can be edited"));
    }
    let mut diff = serde_json::Map::new();
    let mut am: application::ActiveModel = current.clone().into();
    if let Some(title) = changes.title {
        let title = title.into_inner();
        if title != current.title {
            diff.insert(
                "title".into(),
                json!({ "from": current.title, "to": title }),
            );
            am.title = Set(title);
        }
    }
    if let Some(motivation) = changes.motivation.filter(|m| *m != current.motivation) {
        diff.insert("motivation".into(), json!({ "changed": true }));
        am.motivation = Set(motivation);
    }
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let updated = save_versioned(&txn, id, expected_version, am).await?;
    if let Some(ids) = changes.co_applicant_ids {
        let co = validate_co_applicants(&txn, current.lead_municipality_id, &ids).await?;
        replace_co_applicants(&txn, id, &co).await?;
        diff.insert("coApplicantIds".into(), json!(co));
    }
    audit::record(
        &txn,
        actor.user_id(),
        "application.update",
        "Application",
        id,
        diff.into(),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// What a lifecycle step carries besides its action.
#[derive(Debug, Default)]
pub struct Step {
    /// CONFLICT unless the application still has this version.
    pub expected_version: Option<i32>,
    /// A note for the status history.
    pub note: Option<String>,
    /// When the decision took effect, if earlier than now (coordinators only): the jury met on
    /// Friday, the result is entered on Monday. The status change keeps both dates, the audit
    /// entry too, and the dates the KPIs count by follow it.
    pub effective_at: Option<chrono::DateTime<Utc>>,
}

/// An earlier effective date is bounded: not in the future, and not before the application's
/// last step took effect (its history never runs backwards). The step's phase must have been
/// open at that date, which the caller checks with the phase rules.
async fn earlier_decision_fits(
    db: &impl ConnectionTrait,
    app: &application::Model,
    at: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    if at > now {
        return Err(AppError::bad_input(
            "effectiveAt",
            "a decision cannot take effect in the future",
        ));
    }
    let last = application_status_change::Entity::find()
        .filter(application_status_change::Column::ApplicationId.eq(app.id))
        .order_by_desc(application_status_change::Column::EffectiveAt)
        .one(db)
        .await?;
    if let Some(last) = last.filter(|l| l.effective_at > at) {
        return Err(AppError::bad_input(
            "effectiveAt",
            format!(
                "the application's previous step took effect on {}; a later one cannot precede it",
                last.effective_at.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    Ok(())
}

/// Runs one lifecycle transition, as the table in [`lifecycle`] defines it.
pub async fn transition(
    db: &DatabaseConnection,
    live: &EventBus,
    actor: &Actor,
    id: Uuid,
    action: Action,
    step: Step,
) -> AppResult<application::Model> {
    let Step {
        expected_version,
        note,
        effective_at,
    } = step;
    let rule = lifecycle::transition(action);
    actor.principal()?;
    if effective_at.is_some() {
        rules::record_earlier_decision(actor)?;
    }
    let txn = begin_write(db).await?;
    let current = visible(&txn, actor, id).await?;
    let p = rules::take_lifecycle_step(actor, rule.roles, &current)?;
    for check in rule.checks {
        match check {
            Check::Complete => {
                if current.motivation.trim().is_empty() {
                    return Err(AppError::bad_input(
                        "motivation",
                        "write the motivation before submitting",
                    ));
                }
            }
            // Checked below, once state and phase are known to fit.
            Check::MentorAssigned | Check::AwardPolicy | Check::PlanComplete => {}
        }
    }
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(AppError::stale_version("application"));
    }
    if !rule.from.contains(&current.status) {
        return Err(AppError::conflict(format!(
            "an application in status {} cannot be moved to {}",
            current.status.as_str(),
            rule.to.as_str()
        )));
    }
    let now = Utc::now();
    if let Some(at) = effective_at {
        earlier_decision_fits(&txn, &current, at, now).await?;
    }
    // The step's phase must be open when the decision takes effect.
    let decided = effective_at.unwrap_or(now);
    if let Some(kind) = rule.phase {
        let edition = edition::Entity::find_by_id(current.edition_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("application without edition"))?;
        require_open_phase(
            &txn,
            edition.id,
            edition.title_year,
            kind,
            decided,
            Some(current.id),
        )
        .await
        .map_err(|e| match (effective_at, e) {
            (Some(_), AppError::Conflict(why)) => AppError::bad_input(
                "effectiveAt",
                format!("the decision cannot take effect then: {why}"),
            ),
            (_, e) => e,
        })?;
    }
    if rule.checks.contains(&Check::MentorAssigned) {
        let mentors = mentor_assignment::Entity::find()
            .filter(mentor_assignment::Column::ApplicationId.eq(id))
            .count(&txn)
            .await?;
        if mentors == 0 {
            return Err(AppError::conflict(
                "assign a mentor before the CuReAP development starts",
            ));
        }
    }
    if rule.checks.contains(&Check::AwardPolicy) {
        let ed = awards::lock_edition(&txn, current.edition_id).await?;
        awards::check_policy(&txn, &ed, &current).await?;
    }
    let frozen = if rule.checks.contains(&Check::PlanComplete) {
        Some(crate::plans::service::freeze(&txn, id, Some(p.user_id), decided).await?)
    } else {
        None
    };
    if rule.to == ApplicationStatus::CureapInDevelopment {
        crate::plans::service::ensure_plan(&txn, id).await?;
    }
    let mut am: application::ActiveModel = current.clone().into();
    am.status = Set(rule.to);
    if rule.to == ApplicationStatus::Submitted {
        am.submitted_at = Set(Some(decided));
    }
    am.updated_at = Set(now);
    am.version = Set(current.version + 1);
    let updated = save_versioned(&txn, id, current.version, am).await?;
    // The funnel's milestones on the row (kpis::rollup): what it reads instead of the history.
    if rule.to == ApplicationStatus::Withdrawn {
        rollup::record_withdrawal(&txn, id, current.status).await?;
    }
    if let Some(version) = frozen {
        rollup::record_cureap_submission(&txn, id, version.submitted_at).await?;
    }
    let changed = record_status(
        &txn,
        id,
        (Some(current.status), rule.to),
        Some(p.user_id),
        note.clone(),
        effective_at,
    )
    .await?;
    let mut detail = json!({
        "status": { "from": current.status.as_str(), "to": rule.to.as_str() }, "note": note,
    });
    if let Some(at) = effective_at {
        // Both dates: when the decision took effect, and when it was entered.
        detail["effectiveAt"] = json!(at);
        detail["recordedAt"] = json!(now);
    }
    audit::record(
        &txn,
        Some(p.user_id),
        &format!("application.{}", action.name()),
        "Application",
        id,
        detail,
    )
    .await?;
    live.commit(txn, vec![changed]).await?;
    Ok(updated)
}
