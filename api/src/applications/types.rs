//! `Application`, `StatusChange` and the list inputs.

use crate::graphql::scalars::Timestamp;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use entity::{application, application_status_change};
use sea_orm::Order;

use crate::editions::types::Edition;
use crate::error::AppError;
use crate::graphql::connection::OrderDirection;
use crate::graphql::context::req;
use crate::graphql::enums::ApplicationStatus;
use crate::graphql::ids;
use crate::graphql::loaders::{
    CoApplicantsOf, EditionById, LatestStatusChangeOf, MentorAssignmentsOf, OrganisationById,
    StatusHistoryOf, UserById,
};
use crate::graphql::scalars::CountryCode;
use crate::mentoring::types::MentorAssignment;
use crate::organisations::types::Organisation;
use crate::policy::Actor;
use crate::users::types::User;

/// A municipality's (or group's) application for the title in one edition.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Application {
    /// Opaque global id.
    pub id: ID,
    /// Working title of the application.
    pub title: String,
    /// Where it stands in the lifecycle.
    pub status: ApplicationStatus,
    /// When it was submitted, if it was.
    pub submitted_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub model: application::Model,
}

impl From<application::Model> for Application {
    fn from(m: application::Model) -> Self {
        Self {
            id: ids::encode("Application", m.id),
            title: m.title.clone(),
            status: m.status.into(),
            submitted_at: m.submitted_at.map(Into::into),
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
            version: m.version,
            model: m,
        }
    }
}

fn signed_in(ctx: &Context<'_>) -> Result<(), AppError> {
    match req(ctx).actor {
        Actor::Anonymous => Err(AppError::unauthenticated()),
        Actor::Integration(_) => Err(AppError::forbidden(
            "integration tokens read only what their scopes name",
        )),
        Actor::User(_) => Ok(()),
    }
}

#[ComplexObject]
impl Application {
    /// The motivation text (signed-in readers only; the public sees the title holders' names).
    async fn motivation(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        signed_in(ctx)?;
        Ok(Some(self.model.motivation.clone()))
    }

    /// The edition applied to.
    async fn edition(&self, ctx: &Context<'_>) -> Result<Option<Edition>> {
        Ok(req(ctx)
            .loaders
            .load_one(EditionById(self.model.edition_id))
            .await?
            .map(Edition::from))
    }

    /// The lead municipality.
    async fn lead_municipality(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let org = req(ctx)
            .loaders
            .load_one(OrganisationById(self.model.lead_municipality_id))
            .await?;
        Ok(org.map(Organisation::from))
    }

    /// Co-applicant municipalities of a joint application.
    async fn co_applicants(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let rc = req(ctx);
        let ids = rc
            .loaders
            .load_one(CoApplicantsOf(self.model.id))
            .await?
            .unwrap_or_default();
        let orgs = rc
            .loaders
            .load_many(ids.iter().map(|id| OrganisationById(*id)))
            .await?;
        let mut out: Vec<Organisation> = orgs.into_values().map(Organisation::from).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Every status change, oldest first (signed-in readers only: empty for the public).
    async fn status_history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        let rows = req(ctx)
            .loaders
            .load_one(StatusHistoryOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(StatusChange::from).collect())
    }

    /// The most recent status change (signed-in readers only: null for the public).
    async fn latest_status_change(&self, ctx: &Context<'_>) -> Result<Option<StatusChange>> {
        Ok(req(ctx)
            .loaders
            .load_one(LatestStatusChangeOf(self.model.id))
            .await?
            .map(StatusChange::from))
    }

    /// The lifecycle steps the caller's role may take from the current status (the phase and the
    /// step's checks are verified when the step is taken).
    async fn allowed_actions(&self, ctx: &Context<'_>) -> Vec<super::graphql::ApplicationAction> {
        let rc = req(ctx);
        let Some(role) = rc.actor.role() else {
            return Vec::new();
        };
        if !crate::policy::rules::sees_lifecycle_steps(&rc.actor, &self.model) {
            return Vec::new();
        }
        super::lifecycle::allowed(role, self.model.status)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// The mentoring sessions of this application (coordinators, its mentors, its municipality;
    /// partners see `mentoringSummary` only and get FORBIDDEN here).
    async fn mentoring_sessions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<crate::mentoring::types::MentoringSession>>> {
        let rc = req(ctx);
        crate::policy::rules::read_mentoring_sessions(&rc.actor)?;
        let rows = rc
            .loaders
            .load_one(crate::graphql::loaders::MentoringSessionsOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(Some(rows.into_iter().map(Into::into).collect()))
    }

    /// How many mentoring sessions (and minutes) this application received.
    async fn mentoring_summary(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::mentoring::types::MentoringSummary>> {
        signed_in(ctx)?;
        let (sessions, minutes) = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::MentoringSummaryOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(Some(crate::mentoring::types::MentoringSummary {
            sessions,
            minutes,
        }))
    }

    /// The CuReAP plan (null before CuReAP development, or when the caller may not see it).
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<crate::plans::types::Plan>> {
        let plan = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::PlanOfApplication(self.model.id))
            .await?;
        Ok(plan.map(Into::into))
    }

    /// The assessments of this application the caller may see: all for coordinators, their own
    /// for assessors, none for mentors and municipalities.
    async fn assessments(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::assessment::types::Assessment>> {
        let rows = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::AssessmentsOfApplication(
                self.model.id,
            ))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The jurors assigned to score it, by stage (coordinators all; a juror their own).
    async fn jury_assignments(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::assessment::types::JuryAssignment>> {
        let rows = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::JuryOfApplication(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The application's aggregated result per scoring stage: coordinators always; its own
    /// municipality once the stage's decision is taken; empty for everyone else.
    async fn assessment_results(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::assessment::types::AssessmentResult>> {
        let rc = req(ctx);
        let co = match &rc.actor {
            Actor::User(p) if p.role == entity::Role::Municipality => {
                let co = rc
                    .loaders
                    .load_one(CoApplicantsOf(self.model.id))
                    .await?
                    .unwrap_or_default();
                p.organisation_id.is_some_and(|o| co.contains(&o))
            }
            _ => false,
        };
        let mut out = Vec::new();
        for stage in [
            entity::AssessmentStage::Preselection,
            entity::AssessmentStage::Jury,
        ] {
            if !crate::policy::rules::may_see_assessment_result(&rc.actor, &self.model, co, stage) {
                continue;
            }
            let ranking = rc
                .loaders
                .load_one(crate::graphql::loaders::RankingOf(
                    self.model.edition_id,
                    stage,
                ))
                .await?;
            if let Some(r) = ranking
                .and_then(|r| crate::assessment::types::AssessmentResult::of(&r, self.model.id))
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The mentors assigned, as far as the caller may see them (empty for the public).
    async fn mentor_assignments(&self, ctx: &Context<'_>) -> Result<Vec<MentorAssignment>> {
        let rows = req(ctx)
            .loaders
            .load_one(MentorAssignmentsOf(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(MentorAssignment::from).collect())
    }
}

/// One step of an application's lifecycle: who moved it, when, and why.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct StatusChange {
    /// Opaque global id.
    pub id: ID,
    /// Status before (null for the creation).
    pub from_status: Option<ApplicationStatus>,
    /// Status after.
    pub to_status: ApplicationStatus,
    /// The note given with the change.
    pub note: Option<String>,
    /// When it was recorded in the portal.
    pub changed_at: Timestamp,
    /// When the decision took effect: the real date of a past edition's decision loaded as
    /// history; for a change made in the portal, when it was recorded. KPIs by date count by it.
    pub effective_at: Timestamp,
    #[graphql(skip)]
    pub actor_id: Option<uuid::Uuid>,
}

impl From<application_status_change::Model> for StatusChange {
    fn from(m: application_status_change::Model) -> Self {
        Self {
            id: ids::encode("StatusChange", m.id),
            from_status: m.from_status.map(Into::into),
            to_status: m.to_status.into(),
            note: m.note,
            changed_at: m.changed_at.into(),
            effective_at: m.effective_at.into(),
            actor_id: m.actor_id,
        }
    }
}

#[ComplexObject]
impl StatusChange {
    /// Who made the change (null if the caller may not see that user).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.actor_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(UserById(id))
            .await?
            .map(User::from))
    }
}

crate::connection!(
    ApplicationConnection,
    ApplicationEdge,
    Application,
    "A page of applications."
);

/// Which applications to list; all conditions must hold.
#[derive(InputObject, Default)]
pub struct ApplicationFilter {
    /// Only these title years.
    pub edition_year: Option<Vec<i32>>,
    /// Only these statuses.
    pub status: Option<Vec<ApplicationStatus>>,
    /// Only applications led by this municipality.
    pub lead_municipality_id: Option<ID>,
    /// Only applications whose lead municipality is in one of these countries.
    pub country_code: Option<Vec<CountryCode>>,
    /// Title contains this text (case-insensitive; at most 200 characters).
    pub title_contains: Option<String>,
}

/// Fields applications can be ordered by.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ApplicationOrderField {
    /// By creation time.
    CreatedAt,
    /// By last change.
    UpdatedAt,
    /// By title.
    Title,
    /// By status name.
    Status,
}

/// One ordering criterion for applications.
#[derive(InputObject)]
pub struct ApplicationOrder {
    /// The field.
    pub field: ApplicationOrderField,
    /// The direction (default ascending).
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl ApplicationOrder {
    pub fn column(&self) -> (application::Column, Order) {
        let col = match self.field {
            ApplicationOrderField::CreatedAt => application::Column::CreatedAt,
            ApplicationOrderField::UpdatedAt => application::Column::UpdatedAt,
            ApplicationOrderField::Title => application::Column::Title,
            ApplicationOrderField::Status => application::Column::Status,
        };
        (col, self.direction.sql())
    }
}
