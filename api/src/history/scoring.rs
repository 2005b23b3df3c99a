//! The scoring part of an edition's history: criteria and assessors of each stage, and each
//! application's assessments with their scores — written by the importer, read by the exporter.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    AssessmentStage, Role, assessment, assessment_score, assessor_assignment, criterion,
    jury_assignment, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::model::{
    ApplicationDoc, AssessmentDoc, AssessorDoc, CriterionDoc, EditionHistory, ScoreDoc, named,
};
use crate::domain::Measure;
use crate::error::{AppError, AppResult};

/// The users the document's assessors and jurors name, by e-mail: an assessor of the edition
/// must be a coordinator or partner user, a juror of an application a JUROR user (inactive ones
/// too: a juror of a past edition may have left since).
pub async fn assessor_users(
    txn: &impl ConnectionTrait,
    doc: &EditionHistory,
    reasons: &mut Vec<String>,
) -> AppResult<HashMap<String, Uuid>> {
    // (e-mail, where, whether a juror)
    let mut named: Vec<(String, String, bool)> = doc
        .edition
        .assessors
        .iter()
        .map(|x| (x.email.clone(), "edition.assessors".to_owned(), false))
        .collect();
    for a in &doc.applications {
        for x in &a.jurors {
            let at = format!(
                "applications.{} ({}).jurors",
                a.lead_municipality.name, a.lead_municipality.country_code
            );
            named.push((x.email.clone(), at, true));
        }
    }
    let mut out = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for (email, at, juror) in named {
        if !seen.insert((email.clone(), juror)) {
            continue;
        }
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(txn)
            .await?;
        match found {
            Some(u) if !juror && matches!(u.role, Role::Coordinator | Role::Partner) => {
                out.insert(email, u.id);
            }
            Some(u) if juror && u.role == Role::Juror => {
                out.insert(email, u.id);
            }
            _ => {
                let who = if juror {
                    "no user with the JUROR role"
                } else {
                    "no coordinator or partner user"
                };
                reasons.push(format!(
                    "{at}.{email}: {who} has this e-mail (create the user first)"
                ));
            }
        }
    }
    Ok(out)
}

/// The id of a user the document names, resolved before anything is written.
fn user_id(users: &HashMap<String, Uuid>, email: &str) -> AppResult<Uuid> {
    users
        .get(email)
        .copied()
        .ok_or_else(|| AppError::internal("a checked assessor or juror is missing"))
}

fn stage_of(name: &str) -> AppResult<AssessmentStage> {
    named(name, AssessmentStage::as_str).ok_or_else(|| AppError::internal("checked stage"))
}

/// Criteria ids by stage and name.
pub type CriteriaIds = HashMap<(AssessmentStage, String), Uuid>;

/// Writes the edition's criteria (positions in document order per stage) and assessors.
pub async fn write_setup(
    txn: &DatabaseTransaction,
    by: Uuid,
    edition_id: Uuid,
    doc: &EditionHistory,
    assessors: &HashMap<String, Uuid>,
    now: DateTime<Utc>,
) -> AppResult<CriteriaIds> {
    let mut ids = CriteriaIds::new();
    for c in &doc.edition.criteria {
        let stage = stage_of(&c.stage)?;
        let position = ids.keys().filter(|(s, _)| *s == stage).count() as i32 + 1;
        let weight = Measure::parse("weight", c.weight)?;
        let m = criterion::ActiveModel {
            id: Set(Uuid::now_v7()),
            edition_id: Set(edition_id),
            stage: Set(stage),
            position: Set(position),
            name: Set(c.name.clone()),
            description: Set(c.description.clone()),
            weight_milli: Set(weight.milli()),
            max_score: Set(c.max_score),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(txn)
        .await?;
        ids.insert((stage, c.name.clone()), m.id);
    }
    for x in &doc.edition.assessors {
        assessor_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            edition_id: Set(edition_id),
            stage: Set(stage_of(&x.stage)?),
            assessor_id: Set(user_id(assessors, &x.email)?),
            assigned_by: Set(Some(by)),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
    }
    Ok(ids)
}

/// Writes an application's jury assignments, its assessments and their scores; the rows
/// written.
pub async fn write_assessments(
    txn: &DatabaseTransaction,
    by: Uuid,
    application_id: Uuid,
    a: &ApplicationDoc,
    criteria: &CriteriaIds,
    assessors: &HashMap<String, Uuid>,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    for x in &a.jurors {
        jury_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(application_id),
            stage: Set(stage_of(&x.stage)?),
            juror_id: Set(user_id(assessors, &x.email)?),
            assigned_by: Set(Some(by)),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
    }
    let mut rows = a.jurors.len();
    for x in &a.assessments {
        let stage = stage_of(&x.stage)?;
        let m = assessment::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(application_id),
            assessor_id: Set(user_id(assessors, &x.assessor)?),
            stage: Set(stage),
            conflict_of_interest: Set(x.conflict_of_interest),
            comment: Set(x.comment.clone()),
            submitted_at: Set(x.submitted_at),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(txn)
        .await?;
        rows += 1 + x.scores.len();
        if x.scores.is_empty() {
            continue;
        }
        let mut scores = Vec::with_capacity(x.scores.len());
        for s in &x.scores {
            let criterion = criteria
                .get(&(stage, s.criterion.clone()))
                .ok_or_else(|| AppError::internal("checked criterion missing"))?;
            scores.push(assessment_score::ActiveModel {
                assessment_id: Set(m.id),
                criterion_id: Set(*criterion),
                score: Set(s.score),
            });
        }
        assessment_score::Entity::insert_many(scores)
            .exec(txn)
            .await?;
    }
    Ok(rows)
}

/// The edition's criteria (by stage and position) and assessors.
pub async fn export_setup(
    db: &impl ConnectionTrait,
    edition_id: Uuid,
) -> AppResult<(Vec<CriterionDoc>, Vec<AssessorDoc>)> {
    let criteria = criterion::Entity::find()
        .filter(criterion::Column::EditionId.eq(edition_id))
        .order_by_asc(criterion::Column::Position)
        .order_by_asc(criterion::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| CriterionDoc {
            stage: c.stage.as_str().to_owned(),
            name: c.name,
            description: c.description,
            weight: Measure::to_decimal(c.weight_milli),
            max_score: c.max_score,
        })
        .collect();
    let assignments = assessor_assignment::Entity::find()
        .filter(assessor_assignment::Column::EditionId.eq(edition_id))
        .all(db)
        .await?;
    let emails = emails(db, assignments.iter().map(|x| x.assessor_id)).await?;
    let assessors = assignments
        .into_iter()
        .map(|x| AssessorDoc {
            stage: x.stage.as_str().to_owned(),
            email: emails.get(&x.assessor_id).cloned().unwrap_or_default(),
        })
        .collect();
    Ok((criteria, assessors))
}

/// The e-mails of some users, by id.
pub(super) async fn emails(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}

/// Each application's assessments with their scores (by criterion name).
pub async fn export_assessments(
    db: &impl ConnectionTrait,
    app_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<AssessmentDoc>>> {
    let rows = assessment::Entity::find()
        .filter(assessment::Column::ApplicationId.is_in(app_ids.to_vec()))
        .all(db)
        .await?;
    let emails = emails(db, rows.iter().map(|x| x.assessor_id)).await?;
    let mut scores: HashMap<Uuid, Vec<ScoreDoc>> = HashMap::new();
    for (s, c) in assessment_score::Entity::find()
        .filter(assessment_score::Column::AssessmentId.is_in(rows.iter().map(|x| x.id)))
        .find_also_related(criterion::Entity)
        .all(db)
        .await?
    {
        let name = c.map(|c| c.name).unwrap_or_default();
        scores.entry(s.assessment_id).or_default().push(ScoreDoc {
            criterion: name,
            score: s.score,
        });
    }
    let mut out: HashMap<Uuid, Vec<AssessmentDoc>> = HashMap::new();
    for x in rows {
        out.entry(x.application_id)
            .or_default()
            .push(AssessmentDoc {
                stage: x.stage.as_str().to_owned(),
                assessor: emails.get(&x.assessor_id).cloned().unwrap_or_default(),
                conflict_of_interest: x.conflict_of_interest,
                comment: x.comment,
                submitted_at: x.submitted_at,
                scores: scores.remove(&x.id).unwrap_or_default(),
            });
    }
    Ok(out)
}

/// Each application's jurors, by stage.
pub async fn export_jurors(
    db: &impl ConnectionTrait,
    app_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<AssessorDoc>>> {
    let rows = jury_assignment::Entity::find()
        .filter(jury_assignment::Column::ApplicationId.is_in(app_ids.to_vec()))
        .all(db)
        .await?;
    let emails = emails(db, rows.iter().map(|x| x.juror_id)).await?;
    let mut out: HashMap<Uuid, Vec<AssessorDoc>> = HashMap::new();
    for x in rows {
        out.entry(x.application_id).or_default().push(AssessorDoc {
            stage: x.stage.as_str().to_owned(),
            email: emails.get(&x.juror_id).cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}
