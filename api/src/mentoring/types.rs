//! The `MentorAssignment` type.

use crate::graphql::scalars::Timestamp;
use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use entity::{mentor_assignment, user};

use crate::applications::types::Application;
use crate::graphql::context::req;
use crate::graphql::enums::MentorKind;
use crate::graphql::ids;
use crate::graphql::loaders::{ApplicationById, MentorAssignmentById, UserById};
use crate::graphql::scalars::Date;
use crate::users::types::User;

/// A mentor's assignment to support one application (while the CuReAP is written and during
/// the title year).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct MentorAssignment {
    /// Opaque global id.
    pub id: ID,
    /// National mentor or the twin of a pair.
    pub kind: MentorKind,
    /// First day of the assignment.
    pub starts_on: Date,
    /// Last day, if it has ended or an end is planned.
    pub ends_on: Option<Date>,
    /// When the coordinator made the assignment.
    pub created_at: Timestamp,
    #[graphql(skip)]
    pub mentor_id: uuid::Uuid,
    #[graphql(skip)]
    pub application_id: uuid::Uuid,
    /// The mentor, when loaded together with the assignment (already through the user scope).
    #[graphql(skip)]
    pub mentor: Option<Option<user::Model>>,
}

impl From<mentor_assignment::Model> for MentorAssignment {
    fn from(m: mentor_assignment::Model) -> Self {
        Self {
            id: ids::encode("MentorAssignment", m.id),
            kind: m.kind.into(),
            starts_on: Date(m.starts_on),
            ends_on: m.ends_on.map(Date),
            created_at: m.created_at.into(),
            mentor_id: m.mentor_id,
            application_id: m.application_id,
            mentor: None,
        }
    }
}

impl From<(mentor_assignment::Model, Option<user::Model>)> for MentorAssignment {
    fn from((m, mentor): (mentor_assignment::Model, Option<user::Model>)) -> Self {
        Self {
            mentor: Some(mentor),
            ..Self::from(m)
        }
    }
}

#[ComplexObject]
impl MentorAssignment {
    /// The mentor (null if the caller may not see them).
    async fn mentor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        if let Some(mentor) = &self.mentor {
            return Ok(mentor.clone().map(User::from));
        }
        Ok(req(ctx)
            .loaders
            .load_one(UserById(self.mentor_id))
            .await?
            .map(User::from))
    }

    /// The application supported (null if the caller may not see it).
    async fn application(&self, ctx: &Context<'_>) -> Result<Option<Application>> {
        Ok(req(ctx)
            .loaders
            .load_one(ApplicationById(self.application_id))
            .await?
            .map(Application::from))
    }
}

/// A mentoring session a mentor logged: when, how long, how, about what.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct MentoringSession {
    /// Opaque global id.
    pub id: ID,
    /// The day it took place.
    pub held_on: Date,
    /// Its length in minutes.
    pub minutes: i32,
    /// On site or online.
    pub format: crate::graphql::enums::SessionFormat,
    /// What was discussed.
    pub topics: String,
    /// The mentor's notes.
    pub notes: String,
    /// When it was logged.
    pub created_at: Timestamp,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub assignment_id: uuid::Uuid,
}

impl From<entity::mentoring_session::Model> for MentoringSession {
    fn from(m: entity::mentoring_session::Model) -> Self {
        Self {
            id: ids::encode("MentoringSession", m.id),
            held_on: Date(m.held_on),
            minutes: m.minutes,
            format: m.format.into(),
            topics: m.topics,
            notes: m.notes,
            created_at: m.created_at.into(),
            version: m.version,
            assignment_id: m.assignment_id,
        }
    }
}

#[ComplexObject]
impl MentoringSession {
    /// The assignment the session belongs to (with its mentor and application).
    async fn assignment(&self, ctx: &Context<'_>) -> Result<Option<MentorAssignment>> {
        Ok(req(ctx)
            .loaders
            .load_one(MentorAssignmentById(self.assignment_id))
            .await?
            .map(MentorAssignment::from))
    }
}

/// How much mentoring an application received: what partners see instead of the sessions.
#[derive(SimpleObject, Clone, Default)]
pub struct MentoringSummary {
    /// Number of sessions logged.
    pub sessions: i64,
    /// Their total length in minutes.
    pub minutes: i64,
}
