//! Mentoring use cases: the coordinator assigns mentors; mentors log their sessions.

use chrono::{NaiveDate, Utc};
use entity::{MentorKind, SessionFormat, application, mentor_assignment, mentoring_session, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, rules, scope};

/// Assigns a mentor to an application (coordinators only).
pub async fn assign(
    db: &DatabaseConnection,
    actor: &Actor,
    application_id: Uuid,
    mentor_id: Uuid,
    kind: MentorKind,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
) -> AppResult<mentor_assignment::Model> {
    rules::manage_mentor_assignments(actor)?;
    if ends_on.is_some_and(|e| e < starts_on) {
        return Err(AppError::bad_input("endsOn", "must not be before startsOn"));
    }
    let txn = begin_write(db).await?;
    scope::applications(actor)
        .filter(application::Column::Id.eq(application_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("application"))?;
    let mentor = user::Entity::find_by_id(mentor_id)
        .one(&txn)
        .await?
        .filter(rules::may_mentor)
        .ok_or_else(|| AppError::bad_input("mentorId", "not an active mentor"))?;
    let exists = mentor_assignment::Entity::find()
        .filter(mentor_assignment::Column::ApplicationId.eq(application_id))
        .filter(mentor_assignment::Column::MentorId.eq(mentor_id))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(AppError::conflict(format!(
            "{} is already assigned to this application",
            mentor.name
        )));
    }
    let model = mentor_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        mentor_id: Set(mentor_id),
        kind: Set(kind),
        starts_on: Set(starts_on),
        ends_on: Set(ends_on),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "application.assignMentor",
        "Application",
        application_id,
        json!({ "mentorId": mentor_id, "kind": kind.as_str(), "startsOn": starts_on, "endsOn": ends_on }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Ends an assignment on a date (coordinators only); its sessions stay on record.
pub async fn end(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    ends_on: NaiveDate,
) -> AppResult<mentor_assignment::Model> {
    rules::manage_mentor_assignments(actor)?;
    let txn = begin_write(db).await?;
    let current = scope::mentor_assignments(actor)
        .filter(mentor_assignment::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("mentor assignment"))?;
    if ends_on < current.starts_on {
        return Err(AppError::bad_input(
            "endsOn",
            "must not be before the assignment starts",
        ));
    }
    let mut am: mentor_assignment::ActiveModel = current.clone().into();
    am.ends_on = Set(Some(ends_on));
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "application.endMentorAssignment",
        "Application",
        current.application_id,
        json!({ "assignmentId": id, "endsOn": ends_on }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// A session's content, checked.
pub struct SessionFields {
    pub held_on: NaiveDate,
    pub minutes: i32,
    pub format: SessionFormat,
    pub topics: String,
    pub notes: String,
}

impl SessionFields {
    pub fn parse(
        held_on: NaiveDate,
        minutes: i32,
        format: SessionFormat,
        topics: &str,
        notes: &str,
    ) -> AppResult<Self> {
        if !(1..=1440).contains(&minutes) {
            return Err(AppError::bad_input("minutes", "must be between 1 and 1440"));
        }
        if held_on > Utc::now().date_naive() {
            return Err(AppError::bad_input(
                "heldOn",
                "a session is logged after it took place",
            ));
        }
        let topics = topics.trim();
        if topics.is_empty() || topics.chars().count() > 2000 {
            return Err(AppError::bad_input("topics", "must be 1–2000 characters"));
        }
        if notes.chars().count() > 20_000 {
            return Err(AppError::bad_input(
                "notes",
                "must be at most 20000 characters",
            ));
        }
        Ok(Self {
            held_on,
            minutes,
            format,
            topics: topics.to_owned(),
            notes: notes.trim().to_owned(),
        })
    }
}

/// Logs a session under one of the caller's own assignments (mentors only).
pub async fn log_session(
    db: &DatabaseConnection,
    actor: &Actor,
    assignment_id: Uuid,
    f: SessionFields,
) -> AppResult<mentoring_session::Model> {
    let p = rules::log_mentoring_sessions(actor)?;
    let txn = begin_write(db).await?;
    let assignment = scope::mentor_assignments(actor)
        .filter(mentor_assignment::Column::Id.eq(assignment_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("mentor assignment"))?;
    let now = Utc::now();
    let model = mentoring_session::ActiveModel {
        id: Set(Uuid::now_v7()),
        assignment_id: Set(assignment.id),
        held_on: Set(f.held_on),
        minutes: Set(f.minutes),
        format: Set(f.format),
        topics: Set(f.topics),
        notes: Set(f.notes),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "mentoringSession.create",
        "MentoringSession",
        model.id,
        json!({ "assignmentId": assignment.id, "heldOn": f.held_on, "minutes": f.minutes }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Edits one of the caller's own sessions (mentors only); CONFLICT on a stale version.
pub async fn update_session(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    f: SessionFields,
) -> AppResult<mentoring_session::Model> {
    let p = rules::log_mentoring_sessions(actor)?;
    let txn = begin_write(db).await?;
    let current = scope::mentoring_sessions(actor)
        .filter(mentoring_session::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("mentoring session"))?;
    let mut am: mentoring_session::ActiveModel = current.clone().into();
    am.held_on = Set(f.held_on);
    am.minutes = Set(f.minutes);
    am.format = Set(f.format);
    am.topics = Set(f.topics);
    am.notes = Set(f.notes);
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let res = mentoring_session::Entity::update_many()
        .set(am.clone())
        .filter(mentoring_session::Column::Id.eq(id))
        .filter(mentoring_session::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("mentoring session"));
    }
    let updated = am.try_into_model()?;
    audit::record(
        &txn,
        Some(p.user_id),
        "mentoringSession.update",
        "MentoringSession",
        id,
        json!({ "version": updated.version }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}
