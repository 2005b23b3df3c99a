//! The write and field rules of [`super::rules`] as a table: one test per row — a rule, a
//! caller (role and relation to the object), the verdict. A new rule gets its rows here; a
//! changed verdict shows as exactly the rows that changed.
//!
//! The cast: a coordinator (lead partner), partners of two organisations, a mentor, the users
//! of two municipalities (Kiel leads the application; Svendborg does not), a juror of an
//! external organisation, an anonymous caller and an integration token with both scopes. The objects: Kiel's application, a draft
//! practice written by partner A, a peer-learning group the mentor facilitates, an event
//! organised by partner A's organisation.

use chrono::Utc;
use entity::{
    ApplicationStatus, AssessmentStage, OrganisationKind, ParticipationRole, PracticeStatus, Role,
    application, good_practice, organisation, peer_learning_group, user,
};
use uuid::Uuid;

use super::{Actor, Integration, Principal, rules};
use crate::error::AppResult;

const LEAD: Uuid = Uuid::from_u128(1);
const ORG_A: Uuid = Uuid::from_u128(2);
const ORG_B: Uuid = Uuid::from_u128(3);
const KIEL: Uuid = Uuid::from_u128(4);
const SVENDBORG: Uuid = Uuid::from_u128(5);
const COORDINATOR_ID: Uuid = Uuid::from_u128(11);
const PARTNER_A_ID: Uuid = Uuid::from_u128(12);
const PARTNER_B_ID: Uuid = Uuid::from_u128(13);
const MENTOR_ID: Uuid = Uuid::from_u128(14);
const KIEL_USER_ID: Uuid = Uuid::from_u128(15);
const SVENDBORG_USER_ID: Uuid = Uuid::from_u128(16);
const JURY_ORG: Uuid = Uuid::from_u128(6);
const JUROR_ID: Uuid = Uuid::from_u128(17);

fn user_actor(user_id: Uuid, role: Role, org: Uuid) -> Actor {
    Actor::User(Principal {
        user_id,
        role,
        organisation_id: Some(org),
    })
}

fn coordinator() -> Actor {
    user_actor(COORDINATOR_ID, Role::Coordinator, LEAD)
}
fn partner() -> Actor {
    user_actor(PARTNER_A_ID, Role::Partner, ORG_A)
}
fn other_partner() -> Actor {
    user_actor(PARTNER_B_ID, Role::Partner, ORG_B)
}
fn mentor() -> Actor {
    user_actor(MENTOR_ID, Role::Mentor, ORG_A)
}
fn lead_municipality() -> Actor {
    user_actor(KIEL_USER_ID, Role::Municipality, KIEL)
}
fn other_municipality() -> Actor {
    user_actor(SVENDBORG_USER_ID, Role::Municipality, SVENDBORG)
}
fn juror() -> Actor {
    user_actor(JUROR_ID, Role::Juror, JURY_ORG)
}
fn anonymous() -> Actor {
    Actor::Anonymous
}
fn integration() -> Actor {
    Actor::Integration(Integration {
        token_id: Uuid::from_u128(99),
        kpi_read: true,
        reporting_read: true,
    })
}

fn kiel_app(status: ApplicationStatus) -> application::Model {
    let now = Utc::now();
    application::Model {
        id: Uuid::from_u128(21),
        edition_id: Uuid::from_u128(22),
        lead_municipality_id: KIEL,
        title: "Kiel culture harbour".into(),
        motivation: "Because".into(),
        status,
        submitted_at: Some(now),
        created_by: None,
        created_at: now,
        updated_at: now,
        version: 1,
        withdrawn_from: None,
        cureap_submitted_at: None,
    }
}

fn draft_by_partner() -> good_practice::Model {
    let now = Utc::now();
    good_practice::Model {
        id: Uuid::from_u128(31),
        title: "Singing harbours".into(),
        summary: "Choirs on the quays".into(),
        body: "…".into(),
        country_code: Some("DK".into()),
        language: "en".into(),
        source_organisation_id: Some(ORG_A),
        source_text: None,
        outcomes: String::new(),
        author_id: Some(PARTNER_A_ID),
        link: None,
        licence: String::new(),
        status: PracticeStatus::Draft,
        review_comment: None,
        published_at: None,
        search_title: String::new(),
        search_summary: String::new(),
        search_body: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

fn mentors_group() -> peer_learning_group::Model {
    let now = Utc::now();
    peer_learning_group::Model {
        id: Uuid::from_u128(41),
        name: "Harbour towns".into(),
        description: String::new(),
        edition_id: None,
        facilitator_id: Some(MENTOR_ID),
        created_by: Some(MENTOR_ID),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

fn municipality_org(id: Uuid, is_capital: bool) -> organisation::Model {
    let now = Utc::now();
    organisation::Model {
        id,
        kind: OrganisationKind::Municipality,
        name: "Kiel".into(),
        country_code: "DE".into(),
        region: None,
        population: Some(250_000),
        is_capital,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

fn a_user(role: Role, active: bool) -> user::Model {
    let now = Utc::now();
    user::Model {
        id: Uuid::from_u128(51),
        email: "someone@example.org".into(),
        name: "Someone".into(),
        role,
        organisation_id: Some(ORG_A),
        country_code: None,
        active,
        password_hash: String::new(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// What a row expects.
#[derive(Debug, PartialEq, Eq)]
enum V {
    Allow,
    Unauthenticated,
    Forbidden,
    BadUserInput,
    /// A field rule answered false (the field reads as null or empty).
    Hidden,
}

/// A rule's answer as a verdict.
trait Verdict {
    fn verdict(self) -> V;
}

impl<T> Verdict for AppResult<T> {
    fn verdict(self) -> V {
        match self {
            Ok(_) => V::Allow,
            Err(e) => match e.code() {
                "UNAUTHENTICATED" => V::Unauthenticated,
                "FORBIDDEN" => V::Forbidden,
                "BAD_USER_INPUT" => V::BadUserInput,
                other => panic!("a rule answered {other}"),
            },
        }
    }
}

impl Verdict for bool {
    fn verdict(self) -> V {
        if self { V::Allow } else { V::Hidden }
    }
}

impl<T> Verdict for Result<T, &'static str> {
    fn verdict(self) -> V {
        match self {
            Ok(_) => V::Allow,
            Err(_) => V::BadUserInput,
        }
    }
}

/// `rule(args) { caller => verdict, … }`: one `#[test]` per caller, in a module named after the
/// row. `$actor` in the arguments is the caller.
macro_rules! table {
    ($( $row:ident : |$actor:ident| $call:expr => { $($who:ident => $v:ident),* $(,)? } )*) => {
        $(
            mod $row {
                use super::*;
                $(
                    #[test]
                    fn $who() {
                        let $actor = super::$who();
                        assert_eq!(Verdict::verdict($call), V::$v);
                    }
                )*
            }
        )*
    };
}

table! {
    // Organisations, users, editions, phases, criteria, selection: the coordinator's.
    manage_organisations: |a| rules::manage_organisations(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, integration => Forbidden,
    }
    manage_users: |a| rules::manage_users(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, integration => Forbidden,
    }
    manage_editions: |a| rules::manage_editions(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, integration => Forbidden,
    }
    import_edition_history: |a| rules::import_edition_history(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, integration => Forbidden, anonymous => Unauthenticated,
    }
    manage_selection: |a| rules::manage_selection(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, integration => Forbidden,
        juror => Forbidden,
    }
    assess: |a| rules::assess(&a) => {
        coordinator => Allow, partner => Allow, juror => Allow, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, integration => Forbidden,
    }
    manage_mentor_assignments: |a| rules::manage_mentor_assignments(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated,
    }
    manage_vocabulary: |a| rules::manage_vocabulary(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated,
    }
    read_audit_log: |a| rules::read_audit_log(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, integration => Forbidden,
    }
    manage_integrations: |a| rules::manage_integrations(&a) => {
        coordinator => Allow, partner => Forbidden, anonymous => Unauthenticated,
        integration => Forbidden,
    }

    // Applications.
    create_application_for_kiel: |a| rules::create_application(&a, &municipality_org(KIEL, false)) => {
        coordinator => Allow, lead_municipality => Allow, other_municipality => Forbidden,
        partner => Forbidden, mentor => Forbidden, anonymous => Unauthenticated,
    }
    create_application_for_a_capital: |a| rules::create_application(&a, &municipality_org(KIEL, true)) => {
        coordinator => BadUserInput, lead_municipality => BadUserInput,
    }
    edit_kiels_application: |a| rules::edit_application(&a, &kiel_app(ApplicationStatus::Draft)) => {
        coordinator => Allow, lead_municipality => Allow, other_municipality => Forbidden,
        partner => Forbidden, mentor => Forbidden, anonymous => Unauthenticated,
    }
    submit_kiels_application: |a| rules::take_lifecycle_step(
        &a, &[Role::Municipality, Role::Coordinator], &kiel_app(ApplicationStatus::Draft)) => {
        coordinator => Allow, lead_municipality => Allow, other_municipality => Forbidden,
        partner => Forbidden, mentor => Forbidden, anonymous => Unauthenticated,
    }
    award_kiels_application: |a| rules::take_lifecycle_step(
        &a, &[Role::Coordinator], &kiel_app(ApplicationStatus::CureapSubmitted)) => {
        coordinator => Allow, lead_municipality => Forbidden, partner => Forbidden,
        mentor => Forbidden,
    }
    record_an_earlier_decision: |a| rules::record_earlier_decision(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, juror => Forbidden, anonymous => Unauthenticated,
        integration => Forbidden,
    }
    sees_kiels_lifecycle_steps: |a| rules::sees_lifecycle_steps(&a, &kiel_app(ApplicationStatus::Draft)) => {
        coordinator => Allow, partner => Allow, mentor => Allow, lead_municipality => Allow,
        other_municipality => Hidden, anonymous => Hidden, integration => Hidden, juror => Hidden,
    }
    sees_kiels_result_after_the_jury: |a| rules::may_see_assessment_result(
        &a, &kiel_app(ApplicationStatus::Awarded), false, AssessmentStage::Jury) => {
        coordinator => Allow, lead_municipality => Allow, other_municipality => Hidden,
        partner => Hidden, mentor => Hidden, anonymous => Hidden, integration => Hidden,
        juror => Hidden,
    }
    sees_kiels_result_before_the_jury: |a| rules::may_see_assessment_result(
        &a, &kiel_app(ApplicationStatus::CureapSubmitted), false, AssessmentStage::Jury) => {
        coordinator => Allow, lead_municipality => Hidden,
    }
    co_applicant_sees_the_result_after_the_jury: |a| rules::may_see_assessment_result(
        &a, &kiel_app(ApplicationStatus::Awarded), true, AssessmentStage::Jury) => {
        other_municipality => Allow,
    }

    // Mentoring.
    read_mentoring_sessions: |a| rules::read_mentoring_sessions(&a) => {
        coordinator => Allow, mentor => Allow, lead_municipality => Allow, partner => Forbidden,
        anonymous => Unauthenticated, integration => Forbidden,
    }
    log_mentoring_sessions: |a| rules::log_mentoring_sessions(&a) => {
        mentor => Allow, coordinator => Forbidden, partner => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated,
    }

    // CuReAP plans and title-year progress.
    write_kiels_plan: |a| rules::write_plan(&a, &kiel_app(ApplicationStatus::CureapInDevelopment)) => {
        lead_municipality => Allow, other_municipality => Forbidden, coordinator => Forbidden,
        partner => Forbidden, mentor => Forbidden, anonymous => Unauthenticated,
    }
    comment_on_plans: |a| rules::comment_on_plan(&a) => {
        coordinator => Allow, partner => Allow, mentor => Allow, lead_municipality => Forbidden,
        anonymous => Unauthenticated, integration => Forbidden,
    }
    record_kiels_progress: |a| rules::record_progress(&a, &kiel_app(ApplicationStatus::TitleYearActive)) => {
        lead_municipality => Allow, mentor => Allow, other_municipality => Forbidden,
        coordinator => Forbidden, partner => Forbidden, anonymous => Unauthenticated,
    }

    // Good practices.
    write_practices: |a| rules::write_practice(&a) => {
        coordinator => Allow, partner => Allow, mentor => Allow, lead_municipality => Forbidden,
        anonymous => Unauthenticated,
    }
    edit_partner_as_draft: |a| rules::edit_practice(&a, &draft_by_partner()) => {
        coordinator => Allow, partner => Allow, other_partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated,
    }
    send_partner_as_draft_for_review: |a| rules::review_practice(&a, &draft_by_partner(), false) => {
        partner => Allow, coordinator => Forbidden, other_partner => Forbidden,
    }
    publish_partner_as_draft: |a| rules::review_practice(&a, &draft_by_partner(), true) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        anonymous => Unauthenticated,
    }
    read_the_review_comment: |a| rules::read_review_comment(&a, &draft_by_partner()) => {
        coordinator => Allow, partner => Allow, other_partner => Hidden, mentor => Hidden,
        anonymous => Hidden,
    }

    // Events and participation.
    organise_events: |a| rules::organise_events(&a) => {
        coordinator => Allow, partner => Allow, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated,
    }
    manages_org_as_events: |a| rules::manages_event(&a, ORG_A) => {
        coordinator => Allow, partner => Allow, other_partner => Hidden, mentor => Hidden,
        lead_municipality => Hidden, anonymous => Hidden, integration => Hidden,
    }
    manage_org_as_event: |a| rules::manage_event(&a, ORG_A) => {
        coordinator => Allow, partner => Allow, other_partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, integration => Forbidden,
    }
    read_registration_figures: |a| rules::read_registration_figures(&a) => {
        coordinator => Allow, partner => Allow, mentor => Allow, lead_municipality => Allow,
        juror => Hidden, anonymous => Hidden, integration => Hidden,
    }
    read_title_year_figures: |a| rules::read_title_year_figures(&a) => {
        coordinator => Allow, partner => Allow, mentor => Allow, lead_municipality => Allow,
        integration => Allow, juror => Hidden,
    }
    register_oneself: |a| rules::register_for_event(
        &a, ORG_A, a.user_id().unwrap_or_default(), ParticipationRole::Participant) => {
        coordinator => Allow, partner => Allow, other_partner => Allow, mentor => Allow,
        lead_municipality => Allow, anonymous => Unauthenticated, juror => Forbidden,
    }
    register_someone_else: |a| rules::register_for_event(
        &a, ORG_A, KIEL_USER_ID, ParticipationRole::Participant) => {
        coordinator => Allow, partner => Allow, other_partner => Forbidden, mentor => Forbidden,
        other_municipality => Forbidden,
    }
    register_oneself_as_speaker: |a| rules::register_for_event(
        &a, ORG_A, a.user_id().unwrap_or_default(), ParticipationRole::Speaker) => {
        partner => Allow, other_partner => Forbidden, lead_municipality => Forbidden,
    }
    cancel_kiels_registration: |a| rules::cancel_registration(&a, ORG_A, KIEL_USER_ID) => {
        lead_municipality => Allow, coordinator => Allow, partner => Allow,
        other_partner => Forbidden, other_municipality => Forbidden, anonymous => Unauthenticated,
    }

    // Peer learning.
    form_a_group: |a| rules::form_peer_group(&a, None) => {
        coordinator => Allow, mentor => Allow, partner => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated,
    }
    form_a_group_for_another_facilitator: |a| rules::form_peer_group(&a, Some(PARTNER_A_ID)) => {
        coordinator => Allow, mentor => Forbidden,
    }
    change_the_mentors_group: |a| rules::change_peer_group(&a, &mentors_group(), Some(MENTOR_ID)) => {
        coordinator => Allow, mentor => Allow, partner => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated,
    }

    // Reporting.
    read_reporting: |a| rules::read_reporting(&a) => {
        coordinator => Allow, partner => Allow, integration => Allow, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, juror => Forbidden,
    }
    manage_reporting: |a| rules::manage_reporting(&a) => {
        coordinator => Allow, partner => Forbidden, integration => Forbidden,
        anonymous => Unauthenticated,
    }
    manage_project_facts: |a| rules::manage_project_facts(&a) => {
        coordinator => Allow, partner => Forbidden, mentor => Forbidden,
        lead_municipality => Forbidden, integration => Forbidden, anonymous => Unauthenticated,
    }
    export_reporting: |a| rules::export_reporting(&a) => {
        coordinator => Allow, integration => Allow, partner => Forbidden, mentor => Forbidden,
        anonymous => Unauthenticated,
    }
    report_for_one_s_own_organisation: |a| rules::report_for(&a, None) => {
        coordinator => Allow, partner => Allow, mentor => Forbidden,
        lead_municipality => Forbidden, anonymous => Unauthenticated, integration => Forbidden,
    }
    report_for_organisation_a: |a| rules::report_for(&a, Some(ORG_A)) => {
        coordinator => Allow, partner => Allow, other_partner => Forbidden,
    }
    submit_a_partner_report: |a| rules::move_partner_report(&a, false) => {
        coordinator => Allow, partner => Allow, mentor => Forbidden,
        anonymous => Unauthenticated,
    }
    accept_or_return_a_partner_report: |a| rules::move_partner_report(&a, true) => {
        coordinator => Allow, partner => Forbidden,
    }

    // KPIs.
    read_kpis: |a| rules::read_kpis(&a) => {
        coordinator => Allow, partner => Allow, mentor => Allow, lead_municipality => Allow,
        integration => Allow, anonymous => Unauthenticated, juror => Forbidden,
    }
}

// Who may be what: users' roles and organisations, mentors, assessors.
table! {
    municipality_user_in_a_municipality: |_a| rules::role_fits_organisation(
        Role::Municipality, Some(OrganisationKind::Municipality)) => { coordinator => Allow }
    municipality_user_in_a_partner: |_a| rules::role_fits_organisation(
        Role::Municipality, Some(OrganisationKind::Partner)) => { coordinator => BadUserInput }
    partner_user_in_an_associated_organisation: |_a| rules::role_fits_organisation(
        Role::Partner, Some(OrganisationKind::Associated)) => { coordinator => Allow }
    partner_user_in_an_external_organisation: |_a| rules::role_fits_organisation(
        Role::Partner, Some(OrganisationKind::External)) => { coordinator => BadUserInput }
    mentor_in_a_municipality: |_a| rules::role_fits_organisation(
        Role::Mentor, Some(OrganisationKind::Municipality)) => { coordinator => BadUserInput }
    an_active_mentor_mentors: |_a| rules::may_mentor(&a_user(Role::Mentor, true)) => { coordinator => Allow }
    a_deactivated_mentor_does_not: |_a| rules::may_mentor(&a_user(Role::Mentor, false)) => { coordinator => Hidden }
    a_partner_assesses: |_a| rules::may_assess_as(&a_user(Role::Partner, true)) => { coordinator => Allow }
    a_mentor_does_not_assess: |_a| rules::may_assess_as(&a_user(Role::Mentor, true)) => { coordinator => Hidden }
    a_juror_is_not_an_edition_assessor: |_a| rules::may_assess_as(&a_user(Role::Juror, true)) => { coordinator => Hidden }
    an_active_juror_serves_on_the_jury: |_a| rules::may_serve_on_jury(&a_user(Role::Juror, true)) => { coordinator => Allow }
    a_deactivated_juror_does_not: |_a| rules::may_serve_on_jury(&a_user(Role::Juror, false)) => { coordinator => Hidden }
    a_partner_is_not_a_juror: |_a| rules::may_serve_on_jury(&a_user(Role::Partner, true)) => { coordinator => Hidden }
    juror_in_an_external_organisation: |_a| rules::role_fits_organisation(
        Role::Juror, Some(OrganisationKind::External)) => { coordinator => Allow }
    juror_in_a_partner_organisation: |_a| rules::role_fits_organisation(
        Role::Juror, Some(OrganisationKind::Partner)) => { coordinator => BadUserInput }
    juror_without_an_organisation: |_a| rules::role_fits_organisation(Role::Juror, None) => { coordinator => BadUserInput }
}

/// Every rule function of `rules.rs` has rows here: a rule without a row fails this test.
#[test]
fn every_rule_has_rows() {
    let rules = include_str!("rules.rs");
    let table = include_str!("write_table.rs");
    let missing: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("pub fn "))
        .filter_map(|rest| rest.split(['(', '<']).next())
        .filter(|name| *name != "integration_may_read" && *name != "same_organisation")
        .filter(|name| !table.contains(&format!("rules::{name}(")))
        .collect();
    assert!(missing.is_empty(), "rules without rows: {missing:?}");
}
