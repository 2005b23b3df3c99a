//! SeaORM entities of the portal: storage only, no API concerns. Names follow DOMAIN.md.

pub mod application;
pub mod application_co_applicant;
pub mod application_status_change;
pub mod assessment;
pub mod assessment_score;
pub mod assessor_assignment;
pub mod audit_entry;
pub mod calendar_feed;
pub mod country;
pub mod criterion;
pub mod deadline_extension;
pub mod edition;
pub mod enums;
pub mod event;
pub mod good_practice;
pub mod login_failure;
pub mod mentor_assignment;
pub mod mentoring_session;
pub mod organisation;
pub mod participation;
pub mod peer_learning_group;
pub mod peer_learning_member;
pub mod phase;
pub mod plan;
pub mod plan_action;
pub mod plan_action_practice;
pub mod plan_action_theme;
pub mod plan_comment;
pub mod plan_indicator;
pub mod plan_version;
pub mod practice_term;
pub mod progress_update;
pub mod refresh_token;
pub mod user;
pub mod vocabulary_term;

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
    pub use super::calendar_feed::Entity as CalendarFeed;
    pub use super::country::Entity as Country;
    pub use super::criterion::Entity as Criterion;
    pub use super::deadline_extension::Entity as DeadlineExtension;
    pub use super::edition::Entity as Edition;
    pub use super::event::Entity as Event;
    pub use super::good_practice::Entity as GoodPractice;
    pub use super::login_failure::Entity as LoginFailure;
    pub use super::mentor_assignment::Entity as MentorAssignment;
    pub use super::mentoring_session::Entity as MentoringSession;
    pub use super::organisation::Entity as Organisation;
    pub use super::participation::Entity as Participation;
    pub use super::peer_learning_group::Entity as PeerLearningGroup;
    pub use super::peer_learning_member::Entity as PeerLearningMember;
    pub use super::phase::Entity as Phase;
    pub use super::plan::Entity as Plan;
    pub use super::plan_action::Entity as PlanAction;
    pub use super::plan_action_practice::Entity as PlanActionPractice;
    pub use super::plan_action_theme::Entity as PlanActionTheme;
    pub use super::plan_comment::Entity as PlanComment;
    pub use super::plan_indicator::Entity as PlanIndicator;
    pub use super::plan_version::Entity as PlanVersion;
    pub use super::practice_term::Entity as PracticeTerm;
    pub use super::progress_update::Entity as ProgressUpdate;
    pub use super::refresh_token::Entity as RefreshToken;
    pub use super::user::Entity as User;
    pub use super::vocabulary_term::Entity as VocabularyTerm;
}
