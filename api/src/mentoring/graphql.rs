//! Mentoring mutations: assignments (coordinators) and sessions (mentors).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::service::{self, SessionFields};
use super::types::{MentorAssignment, MentoringSession};
use crate::graphql::context::req;
use crate::graphql::enums::{MentorKind, SessionFormat};
use crate::graphql::ids;
use crate::graphql::scalars::Date;

/// Input of `assignMentor`.
#[derive(InputObject)]
pub struct AssignMentorInput {
    /// The application to support.
    pub application_id: ID,
    /// The mentor (a user with the MENTOR role).
    pub mentor_id: ID,
    /// National mentor or twin.
    pub kind: MentorKind,
    /// First day of the assignment.
    pub starts_on: Date,
    /// Last day, if known.
    pub ends_on: Option<Date>,
}

/// Input of `endMentorAssignment`.
#[derive(InputObject)]
pub struct EndMentorAssignmentInput {
    /// The assignment.
    pub id: ID,
    /// Its last day.
    pub ends_on: Date,
}

/// Result of an assignment mutation.
#[derive(SimpleObject)]
pub struct MentorAssignmentPayload {
    /// The assignment as it is now.
    pub assignment: MentorAssignment,
}

/// The content of a mentoring session.
#[derive(InputObject)]
pub struct MentoringSessionInput {
    /// The day it took place (not in the future).
    pub held_on: Date,
    /// Its length in minutes (1–1440).
    pub minutes: i32,
    /// On site or online.
    pub format: SessionFormat,
    /// What was discussed (1–2000 characters).
    pub topics: String,
    /// Notes (up to 20000 characters).
    #[graphql(default)]
    pub notes: String,
}

impl MentoringSessionInput {
    fn parse(&self) -> Result<SessionFields, crate::error::AppError> {
        SessionFields::parse(
            self.held_on.0,
            self.minutes,
            self.format.into(),
            &self.topics,
            &self.notes,
        )
    }
}

/// Input of `logMentoringSession`.
#[derive(InputObject)]
pub struct LogMentoringSessionInput {
    /// One of the caller's own assignments.
    pub assignment_id: ID,
    /// The session.
    pub session: MentoringSessionInput,
}

/// Input of `updateMentoringSession`.
#[derive(InputObject)]
pub struct UpdateMentoringSessionInput {
    /// The session.
    pub id: ID,
    /// The `version` the edit is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// Its new content.
    pub session: MentoringSessionInput,
}

/// Result of a session mutation.
#[derive(SimpleObject)]
pub struct MentoringSessionPayload {
    /// The session as it is now.
    pub session: MentoringSession,
}

/// Mentoring mutations.
#[derive(Default)]
pub struct MentoringMutation;

#[Object]
impl MentoringMutation {
    /// Assigns a mentor to an application (coordinators only).
    async fn assign_mentor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: AssignMentorInput,
    ) -> Result<Option<MentorAssignmentPayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_mentor_assignments(&rc.actor)?;
        let app = ids::decode(&input.application_id, "Application", "applicationId")?;
        let mentor = ids::decode(&input.mentor_id, "User", "mentorId")?;
        let a = service::assign(
            rc.db(),
            &rc.actor,
            app,
            mentor,
            input.kind.into(),
            input.starts_on.0,
            input.ends_on.map(|d| d.0),
        )
        .await?;
        Ok(Some(MentorAssignmentPayload {
            assignment: a.into(),
        }))
    }

    /// Ends a mentor assignment on a day (coordinators only); its sessions stay on record.
    async fn end_mentor_assignment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: EndMentorAssignmentInput,
    ) -> Result<Option<MentorAssignmentPayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_mentor_assignments(&rc.actor)?;
        let id = ids::decode(&input.id, "MentorAssignment", "id")?;
        let a = service::end(rc.db(), &rc.actor, id, input.ends_on.0).await?;
        Ok(Some(MentorAssignmentPayload {
            assignment: a.into(),
        }))
    }

    /// Logs a mentoring session under one of the caller's own assignments (mentors only).
    async fn log_mentoring_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: LogMentoringSessionInput,
    ) -> Result<Option<MentoringSessionPayload>> {
        let rc = req(ctx);
        crate::policy::rules::log_mentoring_sessions(&rc.actor)?;
        let assignment = ids::decode(&input.assignment_id, "MentorAssignment", "assignmentId")?;
        let fields = input.session.parse()?;
        let s = service::log_session(rc.db(), &rc.actor, assignment, fields).await?;
        Ok(Some(MentoringSessionPayload { session: s.into() }))
    }

    /// Edits one of the caller's own mentoring sessions (mentors only).
    async fn update_mentoring_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateMentoringSessionInput,
    ) -> Result<Option<MentoringSessionPayload>> {
        let rc = req(ctx);
        crate::policy::rules::log_mentoring_sessions(&rc.actor)?;
        let id = ids::decode(&input.id, "MentoringSession", "id")?;
        let fields = input.session.parse()?;
        let s =
            service::update_session(rc.db(), &rc.actor, id, input.expected_version, fields).await?;
        Ok(Some(MentoringSessionPayload { session: s.into() }))
    }
}
