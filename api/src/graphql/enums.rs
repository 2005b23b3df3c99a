//! The programme's enumerations as GraphQL enums, mirrored from the entity crate so that the
//! storage layer does not depend on the API layer.

use async_graphql::Enum;

/// What a user may do in the portal (DOMAIN.md, "The four roles").
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::Role")]
pub enum Role {
    /// Lead partner's coordination staff: runs editions, selection, awards, users, reporting.
    Coordinator,
    /// Staff of a consortium partner: reads the programme, scores where assigned, runs events.
    Partner,
    /// National mentor: supports the municipalities assigned to them.
    Mentor,
    /// Contact person of a candidate or Pearl municipality.
    Municipality,
    /// A jury member outside the consortium (a user of an EXTERNAL organisation): reads and
    /// scores exactly the applications assigned to them, nothing else.
    Juror,
}

/// The kind of an organisation taking part in the programme.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::OrganisationKind")]
pub enum OrganisationKind {
    /// The lead partner (the CBSS Secretariat).
    LeadPartner,
    /// A consortium partner.
    Partner,
    /// An associated organisation.
    Associated,
    /// A municipality: candidate, applicant or Pearl.
    Municipality,
    /// An outside organisation, e.g. of an external mentor.
    External,
}

/// A stage of an edition's calendar.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::PhaseKind")]
pub enum PhaseKind {
    /// Municipalities apply.
    Call,
    /// Stage 1: a committee of partners scores the applications.
    Preselection,
    /// Shortlisted candidates write their CuReAP with a mentor.
    CureapDevelopment,
    /// Stage 2: the international jury scores the CuReAPs.
    Jury,
    /// Titles are awarded.
    Award,
    /// The Pearls carry out their plans.
    TitleYear,
}

/// Where an application stands in its lifecycle (DOMAIN.md, "Application lifecycle").
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ApplicationStatus")]
pub enum ApplicationStatus {
    /// Being written; only its municipality and coordinators see it.
    Draft,
    /// Submitted within the call.
    Submitted,
    /// Passed the eligibility check.
    Eligible,
    /// Failed the eligibility check.
    Ineligible,
    /// Selected in stage 1 to write a CuReAP.
    Shortlisted,
    /// Not selected in stage 1.
    NotShortlisted,
    /// Writing its CuReAP with a mentor.
    CureapInDevelopment,
    /// CuReAP submitted; the submitted version is frozen.
    CureapSubmitted,
    /// Holds the title "BSR Cultural Pearl".
    Awarded,
    /// Not awarded by the jury.
    NotAwarded,
    /// A Pearl in its title year.
    TitleYearActive,
    /// A Pearl whose title year is over.
    TitleYearCompleted,
    /// Withdrawn by the municipality before the decision.
    Withdrawn,
}

/// How a mentor is assigned to an application.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::MentorKind")]
pub enum MentorKind {
    /// The national mentor of the candidate's country.
    National,
    /// The second mentor of a "twin" pair (experienced + new).
    Twin,
}

/// How a mentoring session took place.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::SessionFormat")]
pub enum SessionFormat {
    /// In person.
    Onsite,
    /// Online.
    Online,
}

/// Where a plan action stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ActionStatus")]
pub enum ActionStatus {
    /// Not started.
    Planned,
    /// Under way.
    InProgress,
    /// Done.
    Completed,
    /// Dropped.
    Cancelled,
}

/// How far a plan action was implemented.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::Implementation")]
pub enum Implementation {
    /// Fully implemented.
    Fully,
    /// Partly implemented.
    Partly,
    /// Not implemented.
    Not,
}

/// A section of a CuReAP.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::PlanSection")]
pub enum PlanSection {
    /// The vision.
    Vision,
    /// Context and challenges.
    Context,
    /// Objectives.
    Objectives,
    /// Stakeholders.
    Stakeholders,
    /// Budget.
    Budget,
    /// Timeline.
    Timeline,
    /// The actions.
    Actions,
    /// The indicators.
    Indicators,
}

/// One of the two scoring stages of an edition.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::AssessmentStage")]
pub enum AssessmentStage {
    /// Stage 1: partner representatives score the eligible applications (motivation, approach,
    /// impact potential, stakeholder engagement) during the pre-selection phase.
    Preselection,
    /// Stage 2: the international jury scores the submitted CuReAPs during the jury phase.
    Jury,
}

/// Which managed vocabulary a term belongs to.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::TermKind")]
pub enum TermKind {
    /// Themes, e.g. social cohesion, heritage, youth.
    Theme,
    /// Methods, e.g. co-creation, participatory budgeting.
    Method,
    /// Cultural tools, e.g. community theatre, oral history.
    CulturalTool,
}

/// Where a good practice stands in its review.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::PracticeStatus")]
pub enum PracticeStatus {
    /// Being written by its author (also after the coordinator returned it).
    Draft,
    /// Sent to the coordinator for review.
    InReview,
    /// In the catalogue, readable by everyone.
    Published,
    /// Withdrawn from the catalogue.
    Archived,
}

/// The kind of a programme event.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::EventKind")]
pub enum EventKind {
    /// The project's kick-off.
    KickOff,
    /// Training of the mentors.
    MentorTraining,
    /// An online webinar.
    Webinar,
    /// A forum.
    Forum,
    /// A network conference.
    Conference,
    /// A meeting of the partners.
    PartnerMeeting,
    /// A study visit.
    StudyVisit,
    /// An award ceremony.
    Ceremony,
    /// A peer-learning meeting.
    PeerLearning,
}

/// Where a registration stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ParticipationStatus")]
pub enum ParticipationStatus {
    /// Has a place.
    Registered,
    /// On the waiting list; promoted in order when a place frees up.
    Waitlisted,
    /// Cancelled.
    Cancelled,
}

/// The part someone plays at an event.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ParticipationRole")]
pub enum ParticipationRole {
    /// Takes part.
    Participant,
    /// Speaks or presents.
    Speaker,
    /// Organises or facilitates.
    Organiser,
}

/// The part a municipality plays in a peer-learning group.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::PeerRole")]
pub enum PeerRole {
    /// Shares its experience (typically a Pearl).
    Shares,
    /// Learns from the others (typically a candidate).
    Learns,
}

/// The kind of an indicator.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::IndicatorKind")]
pub enum IndicatorKind {
    /// An output indicator (what the project produced).
    Output,
    /// A result indicator (what others took up).
    Result,
    /// A portal indicator (the programme's own figure).
    Portal,
}

/// How the portal derives an indicator from its own data.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::Derivation")]
pub enum Derivation {
    /// Registrations with recorded attendance at programme events (RCO81).
    AttendedParticipations,
    /// Distinct organisations of those who attended programme events (RCO87).
    CooperatingOrganisations,
    /// Public programme events held (RCO115).
    PublicEvents,
    /// CuReAP action plans submitted (RCO83).
    PlansSubmitted,
}

/// Where a partner report stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ReportStatus")]
pub enum ReportStatus {
    /// Being written by the partner.
    Draft,
    /// Handed in to the coordinator.
    Submitted,
    /// Accepted by the coordinator: frozen.
    Accepted,
    /// Returned to the partner for changes.
    Returned,
}

/// Where a deliverable stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::DeliverableStatus")]
pub enum DeliverableStatus {
    /// Not started.
    NotStarted,
    /// Under way.
    InProgress,
    /// Delivered.
    Delivered,
    /// Late.
    Delayed,
}

/// The Interreg cost categories.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::CostCategory")]
pub enum CostCategory {
    /// Staff costs.
    Staff,
    /// Office and administration.
    OfficeAdministration,
    /// Travel and accommodation.
    TravelAccommodation,
    /// External expertise and services.
    ExternalExpertise,
    /// Equipment.
    Equipment,
}
