//! The programme's enumerations, stored as short upper-case strings so that both databases (and
//! anyone reading the tables) see the names DOMAIN.md uses.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $value)] $variant,)*
        }

        impl $name {
            /// The stored (and GraphQL) name.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)*
                }
            }
        }
    };
}

string_enum!(
    /// What a user may do in the portal.
    Role {
        /// Lead partner's coordination staff.
        Coordinator = "COORDINATOR",
        /// Staff of a consortium partner.
        Partner = "PARTNER",
        /// National mentor.
        Mentor = "MENTOR",
        /// Contact person of a municipality.
        Municipality = "MUNICIPALITY",
        /// A jury member outside the consortium (an EXTERNAL organisation's user): reads and
        /// scores exactly the applications assigned to them.
        Juror = "JUROR",
    }
);

string_enum!(
    /// The kind of an organisation.
    OrganisationKind {
        /// The lead partner.
        LeadPartner = "LEAD_PARTNER",
        /// A consortium partner.
        Partner = "PARTNER",
        /// An associated organisation.
        Associated = "ASSOCIATED",
        /// A municipality (candidate or Pearl).
        Municipality = "MUNICIPALITY",
        /// An outside organisation (e.g. of an external mentor).
        External = "EXTERNAL",
    }
);

impl OrganisationKind {
    /// The project's consortium: the lead partner and the partners.
    pub const CONSORTIUM: [OrganisationKind; 2] =
        [OrganisationKind::LeadPartner, OrganisationKind::Partner];

    /// Whether an organisation of this kind belongs to the consortium.
    pub fn is_consortium(self) -> bool {
        Self::CONSORTIUM.contains(&self)
    }
}

string_enum!(
    /// A dated stage of an edition.
    PhaseKind {
        /// Municipalities apply.
        Call = "CALL",
        /// Stage 1 scoring by partners.
        Preselection = "PRESELECTION",
        /// Shortlisted candidates write their CuReAP.
        CureapDevelopment = "CUREAP_DEVELOPMENT",
        /// Stage 2 scoring by the jury.
        Jury = "JURY",
        /// Titles are awarded.
        Award = "AWARD",
        /// The Pearls carry out their plans.
        TitleYear = "TITLE_YEAR",
    }
);

string_enum!(
    /// Where an application stands.
    ApplicationStatus {
        /// Being written.
        Draft = "DRAFT",
        /// Handed in.
        Submitted = "SUBMITTED",
        /// Passed the eligibility check.
        Eligible = "ELIGIBLE",
        /// Failed the eligibility check.
        Ineligible = "INELIGIBLE",
        /// Selected to write a CuReAP.
        Shortlisted = "SHORTLISTED",
        /// Not selected.
        NotShortlisted = "NOT_SHORTLISTED",
        /// Writing the CuReAP.
        CureapInDevelopment = "CUREAP_IN_DEVELOPMENT",
        /// CuReAP handed in (frozen).
        CureapSubmitted = "CUREAP_SUBMITTED",
        /// Holds the title.
        Awarded = "AWARDED",
        /// Not awarded.
        NotAwarded = "NOT_AWARDED",
        /// In its title year.
        TitleYearActive = "TITLE_YEAR_ACTIVE",
        /// Title year over.
        TitleYearCompleted = "TITLE_YEAR_COMPLETED",
        /// Withdrawn before the decision.
        Withdrawn = "WITHDRAWN",
    }
);

string_enum!(
    /// How a mentor is assigned.
    MentorKind {
        /// The national mentor.
        National = "NATIONAL",
        /// The second of a twin pair.
        Twin = "TWIN",
    }
);

string_enum!(
    /// How a mentoring session took place.
    SessionFormat {
        /// In person.
        Onsite = "ONSITE",
        /// Online.
        Online = "ONLINE",
    }
);

string_enum!(
    /// Where a plan action stands.
    ActionStatus {
        /// Not started.
        Planned = "PLANNED",
        /// Under way.
        InProgress = "IN_PROGRESS",
        /// Done.
        Completed = "COMPLETED",
        /// Dropped.
        Cancelled = "CANCELLED",
    }
);

string_enum!(
    /// How far a plan action was implemented (Interreg reporting terms).
    Implementation {
        /// Fully implemented.
        Fully = "FULLY",
        /// Partly implemented.
        Partly = "PARTLY",
        /// Not implemented.
        Not = "NOT",
    }
);

string_enum!(
    /// A section of a CuReAP, for comments.
    PlanSection {
        /// The vision.
        Vision = "VISION",
        /// Context and challenges.
        Context = "CONTEXT",
        /// Objectives.
        Objectives = "OBJECTIVES",
        /// Stakeholders.
        Stakeholders = "STAKEHOLDERS",
        /// Budget.
        Budget = "BUDGET",
        /// Timeline.
        Timeline = "TIMELINE",
        /// The actions.
        Actions = "ACTIONS",
        /// The indicators.
        Indicators = "INDICATORS",
    }
);

string_enum!(
    /// One of the two scoring stages of an edition.
    AssessmentStage {
        /// Stage 1: partner representatives score the eligible applications.
        Preselection = "PRESELECTION",
        /// Stage 2: the international jury scores the submitted CuReAPs.
        Jury = "JURY",
    }
);

impl AssessmentStage {
    /// The phase in which this stage is scored.
    pub fn phase(self) -> PhaseKind {
        match self {
            Self::Preselection => PhaseKind::Preselection,
            Self::Jury => PhaseKind::Jury,
        }
    }

    /// The status an application has while this stage scores it.
    pub fn scored_status(self) -> ApplicationStatus {
        match self {
            Self::Preselection => ApplicationStatus::Eligible,
            Self::Jury => ApplicationStatus::CureapSubmitted,
        }
    }

    /// Statuses of applications this stage has ranked (or is ranking): every application that
    /// reached the stage and was not withdrawn.
    pub fn ranked_statuses(self) -> &'static [ApplicationStatus] {
        use ApplicationStatus as S;
        match self {
            Self::Preselection => &[
                S::Eligible,
                S::Shortlisted,
                S::NotShortlisted,
                S::CureapInDevelopment,
                S::CureapSubmitted,
                S::Awarded,
                S::NotAwarded,
                S::TitleYearActive,
                S::TitleYearCompleted,
            ],
            Self::Jury => &[
                S::CureapSubmitted,
                S::Awarded,
                S::NotAwarded,
                S::TitleYearActive,
                S::TitleYearCompleted,
            ],
        }
    }

    /// Statuses in which this stage's decision has been taken (the applicant may then see its
    /// own result).
    pub fn decided_statuses(self) -> &'static [ApplicationStatus] {
        let ranked = self.ranked_statuses();
        // Everything ranked except the status still being scored.
        &ranked[1..]
    }
}

string_enum!(
    /// Which managed vocabulary a term belongs to.
    TermKind {
        /// A theme (e.g. social cohesion, heritage, youth).
        Theme = "THEME",
        /// A method (e.g. co-creation, participatory budgeting).
        Method = "METHOD",
        /// A cultural tool (e.g. community theatre, oral history).
        CulturalTool = "CULTURAL_TOOL",
    }
);

string_enum!(
    /// Where a good practice stands in its review.
    PracticeStatus {
        /// Being written by its author.
        Draft = "DRAFT",
        /// Sent to the coordinator for review.
        InReview = "IN_REVIEW",
        /// In the public catalogue.
        Published = "PUBLISHED",
        /// Withdrawn from the catalogue.
        Archived = "ARCHIVED",
    }
);

string_enum!(
    /// The kind of a programme event.
    EventKind {
        /// The project's kick-off.
        KickOff = "KICK_OFF",
        /// Training of the mentors.
        MentorTraining = "MENTOR_TRAINING",
        /// An online webinar.
        Webinar = "WEBINAR",
        /// A forum.
        Forum = "FORUM",
        /// A network conference.
        Conference = "CONFERENCE",
        /// A meeting of the partners.
        PartnerMeeting = "PARTNER_MEETING",
        /// A study visit.
        StudyVisit = "STUDY_VISIT",
        /// An award ceremony.
        Ceremony = "CEREMONY",
        /// A peer-learning meeting.
        PeerLearning = "PEER_LEARNING",
    }
);

string_enum!(
    /// Where a registration stands.
    ParticipationStatus {
        /// Has a place.
        Registered = "REGISTERED",
        /// On the waiting list (the event was full).
        Waitlisted = "WAITLISTED",
        /// Cancelled.
        Cancelled = "CANCELLED",
    }
);

string_enum!(
    /// The part someone plays at an event.
    ParticipationRole {
        /// Takes part.
        Participant = "PARTICIPANT",
        /// Speaks or presents.
        Speaker = "SPEAKER",
        /// Organises or facilitates.
        Organiser = "ORGANISER",
    }
);

string_enum!(
    /// The part a municipality plays in a peer-learning group.
    PeerRole {
        /// Shares its experience (typically a Pearl).
        Shares = "SHARES",
        /// Learns from the others (typically a candidate).
        Learns = "LEARNS",
    }
);

string_enum!(
    /// The kind of an indicator.
    IndicatorKind {
        /// An output indicator (what the project produced).
        Output = "OUTPUT",
        /// A result indicator (what others took up).
        Result = "RESULT",
        /// A portal indicator (the programme's own figure).
        Portal = "PORTAL",
    }
);

string_enum!(
    /// How the portal derives an indicator's value from its own data.
    Derivation {
        /// Participations in programme events whose attendance was recorded.
        AttendedParticipations = "ATTENDED_PARTICIPATIONS",
        /// Distinct organisations of the people who attended programme events.
        CooperatingOrganisations = "COOPERATING_ORGANISATIONS",
        /// Public, not cancelled programme events held.
        PublicEvents = "PUBLIC_EVENTS",
        /// CuReAP action plans submitted (first version).
        PlansSubmitted = "PLANS_SUBMITTED",
    }
);

string_enum!(
    /// Where a partner report stands.
    ReportStatus {
        /// Being written by the partner.
        Draft = "DRAFT",
        /// Handed in to the coordinator.
        Submitted = "SUBMITTED",
        /// Accepted by the coordinator: frozen.
        Accepted = "ACCEPTED",
        /// Returned to the partner for changes.
        Returned = "RETURNED",
    }
);

string_enum!(
    /// Where a deliverable stands.
    DeliverableStatus {
        /// Not started.
        NotStarted = "NOT_STARTED",
        /// Under way.
        InProgress = "IN_PROGRESS",
        /// Delivered.
        Delivered = "DELIVERED",
        /// Late.
        Delayed = "DELAYED",
    }
);

string_enum!(
    /// The Interreg cost categories of partner expenditure.
    CostCategory {
        /// Staff costs.
        Staff = "STAFF",
        /// Office and administration.
        OfficeAdministration = "OFFICE_ADMINISTRATION",
        /// Travel and accommodation.
        TravelAccommodation = "TRAVEL_ACCOMMODATION",
        /// External expertise and services.
        ExternalExpertise = "EXTERNAL_EXPERTISE",
        /// Equipment.
        Equipment = "EQUIPMENT",
    }
);
