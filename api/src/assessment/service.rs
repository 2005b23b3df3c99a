//! Assessment use cases, without GraphQL types: criteria and assessor assignments (coordinators),
//! scoring and conflict-of-interest declarations (assigned assessors). Each write runs in one
//! transaction with its audit entry.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::{
    AssessmentStage, application, assessment, assessment_score, assessor_assignment, criterion,
    edition, jury_assignment, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::domain::{Measure, NonEmptyText};
use crate::editions::require_open_phase;
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, rules, scope};

/// Highest score a criterion may be marked out of.
pub const MAX_SCORE_LIMIT: i32 = 100;
/// Largest weight of one criterion.
const MAX_WEIGHT_MILLI: i64 = 1_000_000;

/// A criterion's fields, checked.
pub struct CriterionFields {
    pub name: NonEmptyText,
    pub description: String,
    pub weight: Measure,
    pub max_score: i32,
}

impl CriterionFields {
    pub fn parse(
        name: &str,
        description: &str,
        weight: rust_decimal::Decimal,
        max_score: i32,
    ) -> AppResult<Self> {
        let weight = check_weight(weight)?;
        check_max_score(max_score)?;
        Ok(Self {
            name: NonEmptyText::parse("name", name, 200)?,
            description: check_description(description)?,
            weight,
            max_score,
        })
    }
}

/// Checks a criterion's description (may be empty).
pub fn check_description(raw: &str) -> AppResult<String> {
    let t = raw.trim();
    if t.chars().count() > 5000 {
        return Err(AppError::bad_input(
            "description",
            "must be at most 5000 characters",
        ));
    }
    Ok(t.to_owned())
}

/// Checks a weight: positive, at most 1000, at most three decimals.
pub fn check_weight(weight: rust_decimal::Decimal) -> AppResult<Measure> {
    let w = Measure::parse("weight", weight)?;
    if w.milli() <= 0 || w.milli() > MAX_WEIGHT_MILLI {
        return Err(AppError::bad_input(
            "weight",
            "must be greater than 0 and at most 1000",
        ));
    }
    Ok(w)
}

/// Checks a maximum score: 1 to 100.
pub fn check_max_score(max_score: i32) -> AppResult<()> {
    if !(1..=MAX_SCORE_LIMIT).contains(&max_score) {
        return Err(AppError::bad_input(
            "maxScore",
            format!("must be between 1 and {MAX_SCORE_LIMIT}"),
        ));
    }
    Ok(())
}

/// Changes to a criterion; `None` leaves a value as it is.
pub struct CriterionChanges {
    pub name: Option<NonEmptyText>,
    pub description: Option<String>,
    pub weight: Option<Measure>,
    pub max_score: Option<i32>,
}

async fn edition_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<edition::Model> {
    edition::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("edition"))
}

/// Criteria are fixed once scoring of their stage has begun: a changed weight or maximum would
/// silently change what the assessors already scored.
async fn require_scoring_not_started(
    db: &impl ConnectionTrait,
    edition_id: Uuid,
    stage: AssessmentStage,
) -> AppResult<()> {
    let started = assessment::Entity::find()
        .filter(assessment::Column::Stage.eq(stage))
        .filter(
            assessment::Column::ApplicationId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(application::Column::Id)
                    .from(application::Entity)
                    .and_where(application::Column::EditionId.eq(edition_id))
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    if started > 0 {
        return Err(AppError::conflict(
            "scoring of this stage has begun; its criteria can no longer change",
        ));
    }
    Ok(())
}

/// Adds a criterion at the end of a stage's list (coordinators).
pub async fn create_criterion(
    db: &DatabaseConnection,
    actor: &Actor,
    edition_id: Uuid,
    stage: AssessmentStage,
    f: CriterionFields,
) -> AppResult<criterion::Model> {
    rules::manage_editions(actor)?;
    let txn = begin_write(db).await?;
    edition_of(&txn, edition_id).await?;
    require_scoring_not_started(&txn, edition_id, stage).await?;
    let last = criterion::Entity::find()
        .filter(criterion::Column::EditionId.eq(edition_id))
        .filter(criterion::Column::Stage.eq(stage))
        .order_by_desc(criterion::Column::Position)
        .one(&txn)
        .await?;
    let now = Utc::now();
    let model = criterion::ActiveModel {
        id: Set(Uuid::now_v7()),
        edition_id: Set(edition_id),
        stage: Set(stage),
        position: Set(last.map(|c| c.position + 1).unwrap_or(1)),
        name: Set(f.name.into_inner()),
        description: Set(f.description),
        weight_milli: Set(f.weight.milli()),
        max_score: Set(f.max_score),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "criterion.create",
        "Criterion",
        model.id,
        json!({ "editionId": edition_id, "stage": stage.as_str(), "name": model.name,
                "weight": Measure::to_decimal(model.weight_milli), "maxScore": model.max_score }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Edits a criterion before scoring of its stage begins (coordinators).
pub async fn update_criterion(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    c: CriterionChanges,
) -> AppResult<criterion::Model> {
    rules::manage_editions(actor)?;
    let txn = begin_write(db).await?;
    let current = scope::criteria(actor)
        .filter(criterion::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("criterion"))?;
    if current.version != expected_version {
        return Err(AppError::stale_version("criterion"));
    }
    require_scoring_not_started(&txn, current.edition_id, current.stage).await?;
    let mut am: criterion::ActiveModel = current.clone().into();
    if let Some(n) = c.name {
        am.name = Set(n.into_inner());
    }
    if let Some(d) = c.description {
        am.description = Set(d);
    }
    if let Some(w) = c.weight {
        am.weight_milli = Set(w.milli());
    }
    if let Some(m) = c.max_score {
        am.max_score = Set(m);
    }
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let res = criterion::Entity::update_many()
        .set(am.clone())
        .filter(criterion::Column::Id.eq(id))
        .filter(criterion::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("criterion"));
    }
    let updated = am.try_into_model()?;
    audit::record(
        &txn,
        actor.user_id(),
        "criterion.update",
        "Criterion",
        id,
        json!({ "name": updated.name, "weight": Measure::to_decimal(updated.weight_milli),
                "maxScore": updated.max_score }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// Removes a criterion before scoring of its stage begins (coordinators).
pub async fn delete_criterion(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<criterion::Model> {
    rules::manage_editions(actor)?;
    let txn = begin_write(db).await?;
    let current = scope::criteria(actor)
        .filter(criterion::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("criterion"))?;
    require_scoring_not_started(&txn, current.edition_id, current.stage).await?;
    criterion::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "criterion.delete",
        "Criterion",
        id,
        json!({ "name": current.name, "stage": current.stage.as_str() }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(current)
}

/// Assigns a coordinator or partner user as assessor of an edition's stage (coordinators).
pub async fn assign_assessor(
    db: &DatabaseConnection,
    actor: &Actor,
    edition_id: Uuid,
    stage: AssessmentStage,
    assessor_id: Uuid,
) -> AppResult<assessor_assignment::Model> {
    rules::manage_selection(actor)?;
    let txn = begin_write(db).await?;
    let ed = edition_of(&txn, edition_id).await?;
    let assessor = scope::users(actor)
        .filter(user::Column::Id.eq(assessor_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("assessorId", "no such user"))?;
    if !rules::may_assess_as(&assessor) {
        return Err(AppError::bad_input(
            "assessorId",
            "assessors are active coordinator or partner users",
        ));
    }
    let exists = assessor_assignment::Entity::find()
        .filter(assessor_assignment::Column::EditionId.eq(edition_id))
        .filter(assessor_assignment::Column::Stage.eq(stage))
        .filter(assessor_assignment::Column::AssessorId.eq(assessor_id))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(AppError::conflict(format!(
            "{} already assesses the {} stage of the {} edition",
            assessor.name,
            stage.as_str().to_lowercase(),
            ed.title_year
        )));
    }
    let model = assessor_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        edition_id: Set(edition_id),
        stage: Set(stage),
        assessor_id: Set(assessor_id),
        assigned_by: Set(actor.user_id()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "assessor.assign",
        "AssessorAssignment",
        model.id,
        json!({ "editionId": edition_id, "stage": stage.as_str(), "assessorId": assessor_id }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Ends an assessor assignment (coordinators). Scores already given stay.
pub async fn unassign_assessor(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<assessor_assignment::Model> {
    rules::manage_selection(actor)?;
    let txn = begin_write(db).await?;
    let current = scope::assessor_assignments(actor)
        .filter(assessor_assignment::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("assessor assignment"))?;
    assessor_assignment::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "assessor.unassign",
        "AssessorAssignment",
        id,
        json!({ "editionId": current.edition_id, "stage": current.stage.as_str(),
                "assessorId": current.assessor_id }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(current)
}

/// Assigns a juror (an active JUROR user) to score an application in a stage (coordinators).
pub async fn assign_juror(
    db: &DatabaseConnection,
    actor: &Actor,
    application_id: Uuid,
    stage: AssessmentStage,
    juror_id: Uuid,
) -> AppResult<jury_assignment::Model> {
    rules::manage_selection(actor)?;
    let txn = begin_write(db).await?;
    let app = scope::applications(actor)
        .filter(application::Column::Id.eq(application_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("applicationId", "no such application"))?;
    let juror = scope::users(actor)
        .filter(user::Column::Id.eq(juror_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("jurorId", "no such user"))?;
    if !rules::may_serve_on_jury(&juror) {
        return Err(AppError::bad_input(
            "jurorId",
            "jurors are active users with the JUROR role",
        ));
    }
    let exists = jury_assignment::Entity::find()
        .filter(jury_assignment::Column::ApplicationId.eq(app.id))
        .filter(jury_assignment::Column::Stage.eq(stage))
        .filter(jury_assignment::Column::JurorId.eq(juror_id))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(AppError::conflict(format!(
            "{} already scores this application in the {} stage",
            juror.name,
            stage.as_str().to_lowercase()
        )));
    }
    let model = jury_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(app.id),
        stage: Set(stage),
        juror_id: Set(juror_id),
        assigned_by: Set(actor.user_id()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "juror.assign",
        "JuryAssignment",
        model.id,
        json!({ "applicationId": app.id, "stage": stage.as_str(), "jurorId": juror_id }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Ends a jury assignment (coordinators): the juror no longer reads or scores the application.
/// An assessment already handed in stays (it is the record of what was scored).
pub async fn unassign_juror(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<jury_assignment::Model> {
    rules::manage_selection(actor)?;
    let txn = begin_write(db).await?;
    let current = scope::jury_assignments(actor)
        .filter(jury_assignment::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("jury assignment"))?;
    jury_assignment::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "juror.unassign",
        "JuryAssignment",
        id,
        json!({ "applicationId": current.application_id, "stage": current.stage.as_str(),
                "jurorId": current.juror_id }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(current)
}

/// Whether the assessor is assigned to score `app` in `stage`: a juror by a jury assignment
/// of the application, everyone else by an assessor assignment of the edition's stage.
async fn assigned(
    db: &impl ConnectionTrait,
    p: &crate::policy::Principal,
    app: &application::Model,
    ed: &edition::Model,
    stage: AssessmentStage,
) -> AppResult<bool> {
    if p.role == entity::Role::Juror {
        return Ok(jury_assignment::Entity::find()
            .filter(jury_assignment::Column::ApplicationId.eq(app.id))
            .filter(jury_assignment::Column::Stage.eq(stage))
            .filter(jury_assignment::Column::JurorId.eq(p.user_id))
            .one(db)
            .await?
            .is_some());
    }
    Ok(assessor_assignment::Entity::find()
        .filter(assessor_assignment::Column::EditionId.eq(ed.id))
        .filter(assessor_assignment::Column::Stage.eq(stage))
        .filter(assessor_assignment::Column::AssessorId.eq(p.user_id))
        .one(db)
        .await?
        .is_some())
}

/// What an assessor hands in for one application.
pub enum Verdict {
    /// A score for every criterion of the stage, and a comment.
    Scores {
        scores: Vec<(Uuid, i32)>,
        comment: String,
    },
    /// The assessor has a conflict of interest: no scores, excluded from the ranking.
    ConflictOfInterest { note: NonEmptyText },
}

/// Loads the application and checks that the caller may assess it in this stage now: an
/// assessor assigned to the edition's stage, the stage's phase open, the application in the
/// status the stage scores.
async fn assessable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    application_id: Uuid,
    stage: AssessmentStage,
) -> AppResult<(application::Model, edition::Model)> {
    rules::assess(actor)?;
    let p = actor.principal()?;
    let app = scope::applications(actor)
        .filter(application::Column::Id.eq(application_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("application"))?;
    let ed = edition_of(db, app.edition_id).await?;
    if !assigned(db, p, &app, &ed, stage).await? {
        return Err(AppError::forbidden(format!(
            "you are not an assessor of this application in the {} stage of the {} edition",
            stage.as_str().to_lowercase(),
            ed.title_year
        )));
    }
    require_open_phase(db, ed.id, ed.title_year, stage.phase(), Utc::now(), None).await?;
    if app.status != stage.scored_status() {
        return Err(AppError::conflict(format!(
            "the {} stage scores applications in status {}; this one is {}",
            stage.as_str().to_lowercase(),
            stage.scored_status().as_str(),
            app.status.as_str()
        )));
    }
    Ok((app, ed))
}

/// Checks a scoresheet against the stage's criteria: every criterion exactly once, each score
/// between 0 and its maximum. (The history importer checks imported assessments with it.)
pub fn check_scores(
    criteria: &[criterion::Model],
    scores: &[(Uuid, i32)],
) -> AppResult<HashMap<Uuid, i32>> {
    if criteria.is_empty() {
        return Err(AppError::conflict(
            "this stage has no criteria yet; the coordinator sets them first",
        ));
    }
    let known: HashMap<Uuid, &criterion::Model> = criteria.iter().map(|c| (c.id, c)).collect();
    let mut out = HashMap::new();
    for (i, (id, score)) in scores.iter().enumerate() {
        let field = format!("scores.{i}");
        let c = known.get(id).ok_or_else(|| {
            AppError::bad_input(
                format!("{field}.criterionId"),
                "not a criterion of this stage",
            )
        })?;
        if !(0..=c.max_score).contains(score) {
            return Err(AppError::bad_input(
                format!("{field}.score"),
                format!("{} is scored from 0 to {}", c.name, c.max_score),
            ));
        }
        if out.insert(*id, *score).is_some() {
            return Err(AppError::bad_input(
                format!("{field}.criterionId"),
                "each criterion is scored once",
            ));
        }
    }
    let missing: HashSet<Uuid> = known
        .keys()
        .copied()
        .filter(|k| !out.contains_key(k))
        .collect();
    if let Some(c) = criteria.iter().find(|c| missing.contains(&c.id)) {
        return Err(AppError::bad_input(
            "scores",
            format!("score every criterion; \"{}\" is missing", c.name),
        ));
    }
    Ok(out)
}

/// Hands in (or replaces) the caller's assessment of an application in a stage. Replacing needs
/// the current `version` (CONFLICT otherwise), so two browser tabs cannot overwrite each other.
pub async fn assess(
    db: &DatabaseConnection,
    actor: &Actor,
    application_id: Uuid,
    stage: AssessmentStage,
    verdict: Verdict,
    expected_version: Option<i32>,
) -> AppResult<assessment::Model> {
    let txn = begin_write(db).await?;
    let (app, ed) = assessable(&txn, actor, application_id, stage).await?;
    let p = actor.principal()?;
    let criteria = criterion::Entity::find()
        .filter(criterion::Column::EditionId.eq(ed.id))
        .filter(criterion::Column::Stage.eq(stage))
        .all(&txn)
        .await?;
    let (coi, comment, scores) = match verdict {
        Verdict::Scores { scores, comment } => (false, comment, check_scores(&criteria, &scores)?),
        Verdict::ConflictOfInterest { note } => (true, note.into_inner(), HashMap::new()),
    };
    let existing = assessment::Entity::find()
        .filter(assessment::Column::ApplicationId.eq(app.id))
        .filter(assessment::Column::Stage.eq(stage))
        .filter(assessment::Column::AssessorId.eq(p.user_id))
        .one(&txn)
        .await?;
    let now = Utc::now();
    let model = match existing {
        None => {
            if expected_version.is_some_and(|v| v != 0) {
                return Err(AppError::stale_version("assessment"));
            }
            assessment::ActiveModel {
                id: Set(Uuid::now_v7()),
                application_id: Set(app.id),
                assessor_id: Set(p.user_id),
                stage: Set(stage),
                conflict_of_interest: Set(coi),
                comment: Set(comment),
                submitted_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
            }
            .insert(&txn)
            .await?
        }
        Some(current) => {
            if expected_version != Some(current.version) {
                return Err(AppError::conflict(
                    "you already assessed this application; send its current version to replace it",
                ));
            }
            let mut am: assessment::ActiveModel = current.clone().into();
            am.conflict_of_interest = Set(coi);
            am.comment = Set(comment);
            am.updated_at = Set(now);
            am.version = Set(current.version + 1);
            let res = assessment::Entity::update_many()
                .set(am.clone())
                .filter(assessment::Column::Id.eq(current.id))
                .filter(assessment::Column::Version.eq(current.version))
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                return Err(AppError::stale_version("assessment"));
            }
            assessment_score::Entity::delete_many()
                .filter(assessment_score::Column::AssessmentId.eq(current.id))
                .exec(&txn)
                .await?;
            am.try_into_model()?
        }
    };
    if !scores.is_empty() {
        assessment_score::Entity::insert_many(scores.iter().map(|(c, s)| {
            assessment_score::ActiveModel {
                assessment_id: Set(model.id),
                criterion_id: Set(*c),
                score: Set(*s),
            }
        }))
        .exec(&txn)
        .await?;
    }
    let by_name: serde_json::Map<String, serde_json::Value> = criteria
        .iter()
        .filter_map(|c| scores.get(&c.id).map(|s| (c.name.clone(), json!(s))))
        .collect();
    audit::record(
        &txn,
        Some(p.user_id),
        if coi {
            "assessment.declareConflict"
        } else {
            "assessment.submit"
        },
        "Assessment",
        model.id,
        json!({ "applicationId": app.id, "stage": stage.as_str(), "version": model.version,
                "conflictOfInterest": coi, "scores": by_name }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}
