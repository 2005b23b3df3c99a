//! SeaORM entities of the portal: storage only, no API concerns. Names follow DOMAIN.md.

pub mod application;
pub mod application_co_applicant;
pub mod application_status_change;
pub mod assessment;
pub mod assessment_score;
pub mod assessor_assignment;
pub mod audit_entry;
pub mod country;
pub mod criterion;
pub mod deadline_extension;
pub mod edition;
pub mod enums;
pub mod login_failure;
pub mod mentor_assignment;
pub mod mentoring_session;
pub mod organisation;
pub mod phase;
pub mod plan;
pub mod plan_action;
pub mod plan_comment;
pub mod plan_indicator;
pub mod plan_version;
pub mod progress_update;
pub mod refresh_token;
pub mod user;

pub use enums::*;

/// The entity types under their programme names.
pub mod prelude {
    pub use super::application::Entity as Application;
    pub use super::application_co_applicant::Entity as ApplicationCoApplicant;
    pub use super::application_status_change::Entity as ApplicationStatusChange;
    pub use super::assessment::Entity as Assessment;
    pub use super::assessment_score::Entity as AssessmentScore;
    pub use super::assessor_assignment::Entity as AssessorAssignment;
    pub use super::audit_entry::Entity as AuditEntry;
    pub use super::country::Entity as Country;
    pub use super::criterion::Entity as Criterion;
    pub use super::deadline_extension::Entity as DeadlineExtension;
    pub use super::edition::Entity as Edition;
    pub use super::login_failure::Entity as LoginFailure;
    pub use super::mentor_assignment::Entity as MentorAssignment;
    pub use super::mentoring_session::Entity as MentoringSession;
    pub use super::organisation::Entity as Organisation;
    pub use super::phase::Entity as Phase;
    pub use super::plan::Entity as Plan;
    pub use super::plan_action::Entity as PlanAction;
    pub use super::plan_comment::Entity as PlanComment;
    pub use super::plan_indicator::Entity as PlanIndicator;
    pub use super::plan_version::Entity as PlanVersion;
    pub use super::progress_update::Entity as ProgressUpdate;
    pub use super::refresh_token::Entity as RefreshToken;
    pub use super::user::Entity as User;
}
