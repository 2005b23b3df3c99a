//! Who may change what, and which fields a caller may read: every such decision of the
//! server, one named function each, in the order of DOMAIN.md's access table. Services and
//! GraphQL types call these; nothing else decides on a role.
//!
//! Callers load the object through its [`super::scope`] first (so an invisible object is
//! NOT_FOUND before any rule runs); these functions then answer FORBIDDEN or allow. A rule
//! that needs the signed-in user returns it, so a service asks once. State checks (a frozen
//! plan, a closed phase, a stale version) are not access rules: they stay with the services
//! and answer CONFLICT.
//!
//! The table of every rule, role by role and relation by relation, is tested row by row in
//! `policy/write_table.rs`.

use entity::{
    AssessmentStage, OrganisationKind, ParticipationRole, Role, application, good_practice,
    organisation, peer_learning_group, user,
};
use uuid::Uuid;

use super::{Actor, Integration, Principal};
use crate::error::{AppError, AppResult};

// ---------------------------------------------------------------------------------------------
// Relations

/// Whether `p` belongs to the organisation: the one way "same organisation" is decided.
pub fn same_organisation(p: &Principal, organisation_id: Uuid) -> bool {
    p.organisation_id == Some(organisation_id)
}

/// A municipality user of the application's lead municipality.
fn leads(p: &Principal, app: &application::Model) -> bool {
    p.role == Role::Municipality && same_organisation(p, app.lead_municipality_id)
}

/// The coordinator, or FORBIDDEN naming what only the coordinator does.
fn coordinator<'a>(actor: &'a Actor, what: &str) -> AppResult<&'a Principal> {
    let p = actor.principal()?;
    if p.role == Role::Coordinator {
        Ok(p)
    } else {
        Err(AppError::forbidden(format!("only the coordinator {what}")))
    }
}

// ---------------------------------------------------------------------------------------------
// Organisations, users, editions, phases, criteria: the coordinator manages them

/// Organisations (the consortium, municipalities, associated and external organisations).
pub fn manage_organisations(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "manages organisations")
}

/// Users: create, deactivate, change roles.
pub fn manage_users(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "manages users")
}

/// Editions, their phases, deadlines and extensions, and their scoring criteria.
pub fn manage_editions(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "manages editions, phases and criteria")
}

/// Who loads an edition's history (its phases, applications, every decision with its real
/// date, plans and awards) from a document: it writes what a whole edition of coordinator
/// decisions would, so coordinators only.
pub fn import_edition_history(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "imports an edition's history")
}

/// Who scores which stage (assessor assignments), and the ranking of the scores.
pub fn manage_selection(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "assigns assessors and reads the ranking")
}

/// Which organisation a user of `role` may belong to — the organisation is what a role's
/// rights follow (a partner reads the programme because it works for the consortium): a
/// municipality user a municipality; a partner user a consortium or associated organisation;
/// coordinators and mentors any organisation but a municipality (or none); a juror an external
/// organisation (the jury is outside the consortium).
pub fn role_fits_organisation(
    role: Role,
    kind: Option<OrganisationKind>,
) -> Result<(), &'static str> {
    use OrganisationKind as K;
    match (role, kind) {
        (Role::Municipality, Some(K::Municipality)) => Ok(()),
        (Role::Municipality, _) => Err("a municipality user must belong to a municipality"),
        (Role::Partner, Some(K::LeadPartner | K::Partner | K::Associated)) => Ok(()),
        (Role::Partner, _) => Err("a partner user must belong to a consortium organisation"),
        (Role::Coordinator | Role::Mentor, Some(K::Municipality)) => {
            Err("coordinators and mentors cannot belong to a municipality")
        }
        (Role::Coordinator | Role::Mentor, _) => Ok(()),
        (Role::Juror, Some(K::External)) => Ok(()),
        (Role::Juror, _) => Err("a juror must belong to an external organisation"),
    }
}

/// Which users may be assigned to an application as its mentor, or facilitate a
/// peer-learning group: active mentors.
pub fn may_mentor(user: &user::Model) -> bool {
    user.active && user.role == Role::Mentor
}

/// Which users may be assigned to score: active coordinator and partner users.
pub fn may_assess_as(user: &user::Model) -> bool {
    user.active && matches!(user.role, Role::Coordinator | Role::Partner)
}

/// Which users may be assigned to score given applications as jurors: active jurors.
pub fn may_serve_on_jury(user: &user::Model) -> bool {
    user.active && user.role == Role::Juror
}

/// Scoring an application: coordinator and partner users (assigned to the edition's stage)
/// and jurors (assigned to the application's stage); the service checks the assignment.
pub fn assess(actor: &Actor) -> AppResult<&Principal> {
    actor.require_role(&[Role::Coordinator, Role::Partner, Role::Juror])
}

/// Mentor assignments: assign and end.
pub fn manage_mentor_assignments(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "assigns mentors")
}

/// The managed vocabularies (themes, methods, cultural tools …).
pub fn manage_vocabulary(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "keeps the vocabularies")
}

/// The audit log.
pub fn read_audit_log(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "reads the audit log")
}

/// Integration tokens: create, list, revoke.
pub fn manage_integrations(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "manages integration tokens")
}

// ---------------------------------------------------------------------------------------------
// Applications

/// Who may open an application with `lead` as lead municipality: the municipality itself or a
/// coordinator on its behalf. Only municipalities can lead, and capitals are excluded (public
/// rule).
pub fn create_application<'a>(
    actor: &'a Actor,
    lead: &organisation::Model,
) -> AppResult<&'a Principal> {
    let p = actor.require_role(&[Role::Coordinator, Role::Municipality])?;
    if p.role == Role::Municipality && !same_organisation(p, lead.id) {
        return Err(AppError::forbidden(
            "a municipality can only apply for itself",
        ));
    }
    if lead.kind != OrganisationKind::Municipality {
        return Err(AppError::bad_input(
            "leadMunicipalityId",
            "the lead applicant must be a municipality",
        ));
    }
    if lead.is_capital {
        return Err(AppError::bad_input(
            "leadMunicipalityId",
            "capitals cannot apply for the title",
        ));
    }
    Ok(p)
}

/// Who may edit an application's content: its lead municipality's users and coordinators.
/// Co-applicants, mentors and partners read it but do not edit it.
pub fn edit_application<'a>(
    actor: &'a Actor,
    app: &application::Model,
) -> AppResult<&'a Principal> {
    let p = actor.require_role(&[Role::Coordinator, Role::Municipality])?;
    if p.role == Role::Municipality && !leads(p, app) {
        return Err(AppError::forbidden(
            "only the lead municipality can change this application",
        ));
    }
    Ok(p)
}

/// Who may take a lifecycle step whose row of the transition table allows `roles`: those
/// roles, a municipality only for the application it leads.
pub fn take_lifecycle_step<'a>(
    actor: &'a Actor,
    roles: &[Role],
    app: &application::Model,
) -> AppResult<&'a Principal> {
    let p = actor.require_role(roles)?;
    if p.role == Role::Municipality && !leads(p, app) {
        return Err(AppError::forbidden(
            "only the lead municipality can do this",
        ));
    }
    Ok(p)
}

/// Who records that a decision took effect earlier than it is entered (a lifecycle step's
/// `effectiveAt`): coordinators, who enter the jury's and the committee's decisions.
pub fn record_earlier_decision(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "records when a decision took effect")
}

/// Whether the caller is offered an application's lifecycle steps (`allowedActions`): every
/// role but a juror and a municipality that does not lead it.
pub fn sees_lifecycle_steps(actor: &Actor, app: &application::Model) -> bool {
    match actor {
        Actor::User(p) if p.role == Role::Juror => false,
        Actor::User(p) => p.role != Role::Municipality || leads(p, app),
        _ => false,
    }
}

/// Who may see an application's aggregated assessment result of a stage: coordinators always;
/// the applicant municipality (lead or co-applicant) once the stage's decision is taken.
/// Partners see only the scores they gave themselves, mentors no scores at all (DOMAIN.md).
/// The caller must already see the application (it was loaded through its scope).
pub fn may_see_assessment_result(
    actor: &Actor,
    app: &application::Model,
    is_co_applicant: bool,
    stage: AssessmentStage,
) -> bool {
    match actor {
        Actor::User(p) => match p.role {
            Role::Coordinator => true,
            Role::Municipality => {
                (leads(p, app) || is_co_applicant) && stage.decided_statuses().contains(&app.status)
            }
            Role::Partner | Role::Mentor | Role::Juror => false,
        },
        Actor::Anonymous | Actor::Integration(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Mentoring

/// Who reads an application's mentoring sessions row by row: every signed-in role whose scope
/// holds them; partners see aggregates only.
pub fn read_mentoring_sessions(actor: &Actor) -> AppResult<&Principal> {
    let p = actor.principal()?;
    if p.role == Role::Partner {
        return Err(AppError::forbidden(
            "partners see mentoring aggregates only",
        ));
    }
    Ok(p)
}

/// Who logs and edits mentoring sessions: mentors, under their own assignments (the
/// assignment and the session are loaded through the mentor's scope).
pub fn log_mentoring_sessions(actor: &Actor) -> AppResult<&Principal> {
    actor.require_role(&[Role::Mentor])
}

// ---------------------------------------------------------------------------------------------
// CuReAP plans and title-year progress

/// Who writes a CuReAP (until it is frozen): its lead municipality.
pub fn write_plan<'a>(actor: &'a Actor, app: &application::Model) -> AppResult<&'a Principal> {
    let p = actor.principal()?;
    if !leads(p, app) {
        return Err(AppError::forbidden(
            "only the lead municipality writes its CuReAP",
        ));
    }
    Ok(p)
}

/// Who comments on a plan they can see: the coordinator, partners and mentors.
pub fn comment_on_plan(actor: &Actor) -> AppResult<&Principal> {
    actor.require_role(&[Role::Coordinator, Role::Partner, Role::Mentor])
}

/// Who records title-year progress and indicator values: the Pearl (its lead municipality)
/// and its mentors (a plan is in a mentor's scope only through an assignment).
pub fn record_progress<'a>(actor: &'a Actor, app: &application::Model) -> AppResult<&'a Principal> {
    let p = actor.principal()?;
    if leads(p, app) || p.role == Role::Mentor {
        Ok(p)
    } else {
        Err(AppError::forbidden(
            "title-year progress is recorded by the Pearl and its mentors",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Good practices

/// Who writes a new practice (its author): coordinators, partners and mentors.
pub fn write_practice(actor: &Actor) -> AppResult<&Principal> {
    actor.require_role(&[Role::Coordinator, Role::Partner, Role::Mentor])
}

/// Who edits a practice: the coordinator, or its author (whose edits the service limits to
/// drafts).
pub fn edit_practice<'a>(
    actor: &'a Actor,
    practice: &good_practice::Model,
) -> AppResult<&'a Principal> {
    let p = actor.principal()?;
    if p.role == Role::Coordinator || is_author(p, practice) {
        Ok(p)
    } else {
        Err(AppError::forbidden(
            "only its author or a coordinator edits a practice",
        ))
    }
}

/// Who takes a review step: the author sends it for review; the coordinator publishes,
/// returns and archives (`coordinators_only`).
pub fn review_practice<'a>(
    actor: &'a Actor,
    practice: &good_practice::Model,
    coordinators_only: bool,
) -> AppResult<&'a Principal> {
    let p = actor.principal()?;
    match (
        coordinators_only,
        p.role == Role::Coordinator,
        is_author(p, practice),
    ) {
        (true, true, _) | (false, _, true) => Ok(p),
        (true, false, _) => Err(AppError::forbidden("the coordinator reviews practices")),
        (false, _, false) => Err(AppError::forbidden(
            "only its author sends a practice for review",
        )),
    }
}

/// Who reads the coordinator's comment on a returned practice: its author and coordinators.
pub fn read_review_comment(actor: &Actor, practice: &good_practice::Model) -> bool {
    match actor {
        Actor::User(p) => p.role == Role::Coordinator || is_author(p, practice),
        _ => false,
    }
}

fn is_author(p: &Principal, practice: &good_practice::Model) -> bool {
    practice.author_id == Some(p.user_id)
}

// ---------------------------------------------------------------------------------------------
// Events and participation

/// Whether the actor manages an event of `organiser_id`: coordinators all, partners their own
/// organisation's.
pub fn manages_event(actor: &Actor, organiser_id: Uuid) -> bool {
    match actor {
        Actor::User(p) => match p.role {
            Role::Coordinator => true,
            Role::Partner => same_organisation(p, organiser_id),
            _ => false,
        },
        _ => false,
    }
}

/// Who organises events at all (before the event is known): coordinators and partners.
pub fn organise_events(actor: &Actor) -> AppResult<&Principal> {
    actor.require_role(&[Role::Coordinator, Role::Partner])
}

/// Who creates, edits, cancels an event and records attendance: its managers.
pub fn manage_event(actor: &Actor, organiser_id: Uuid) -> AppResult<&Principal> {
    let p = actor.require_role(&[Role::Coordinator, Role::Partner])?;
    if manages_event(actor, organiser_id) {
        Ok(p)
    } else {
        Err(AppError::forbidden(
            "partners manage their own organisation's events; coordinators any",
        ))
    }
}

/// Who reads an event's registration figures (registered, waiting, places left): signed-in
/// users but jurors, who see events as the public does.
pub fn read_registration_figures(actor: &Actor) -> bool {
    matches!(actor, Actor::User(p) if p.role != Role::Juror)
}

/// Who reads the title year's measured figures of a plan they see (an indicator's measured
/// value): everyone but jurors, who score the plan as handed in.
pub fn read_title_year_figures(actor: &Actor) -> bool {
    actor.role() != Some(Role::Juror)
}

/// Who registers `who` for an event in `role`: every signed-in user themselves as a
/// participant; the event's managers anyone, in any role.
pub fn register_for_event(
    actor: &Actor,
    organiser_id: Uuid,
    who: Uuid,
    role: ParticipationRole,
) -> AppResult<&Principal> {
    let p = actor.principal()?;
    if p.role == Role::Juror {
        return Err(AppError::forbidden(
            "jurors are registered for events by the events' organisers",
        ));
    }
    let manager = manages_event(actor, organiser_id);
    if who != p.user_id && !manager {
        return Err(AppError::forbidden(
            "only the event's organisers register other people",
        ));
    }
    if role != ParticipationRole::Participant && !manager {
        return Err(AppError::forbidden(
            "speakers and organisers are registered by the event's organisers",
        ));
    }
    Ok(p)
}

/// Who cancels a registration: the registered person, or the event's managers.
pub fn cancel_registration(
    actor: &Actor,
    organiser_id: Uuid,
    registered: Uuid,
) -> AppResult<&Principal> {
    let p = actor.principal()?;
    if registered == p.user_id || manages_event(actor, organiser_id) {
        Ok(p)
    } else {
        Err(AppError::forbidden(
            "only the registered person or the event's organisers cancel a registration",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Peer learning

/// Who forms a peer-learning group and who facilitates it: coordinators (naming any
/// facilitator, or none) and mentors (always facilitating it themselves).
pub fn form_peer_group(
    actor: &Actor,
    requested_facilitator: Option<Uuid>,
) -> AppResult<(&Principal, Option<Uuid>)> {
    let p = actor.require_role(&[Role::Coordinator, Role::Mentor])?;
    match (p.role, requested_facilitator) {
        (Role::Mentor, Some(id)) if id != p.user_id => Err(AppError::forbidden(
            "a mentor forms groups it facilitates itself",
        )),
        (Role::Mentor, _) => Ok((p, Some(p.user_id))),
        (_, id) => Ok((p, id)),
    }
}

/// Who changes a group: the coordinator, or the mentor facilitating it (who stays its
/// facilitator).
pub fn change_peer_group<'a>(
    actor: &'a Actor,
    group: &peer_learning_group::Model,
    requested_facilitator: Option<Uuid>,
) -> AppResult<(&'a Principal, Option<Uuid>)> {
    let p = actor.principal()?;
    let facilitates = p.role == Role::Mentor && group.facilitator_id == Some(p.user_id);
    if p.role != Role::Coordinator && !facilitates {
        return Err(AppError::forbidden(
            "a group is changed by the coordinator or its facilitating mentor",
        ));
    }
    form_peer_group(actor, requested_facilitator)
}

// ---------------------------------------------------------------------------------------------
// Reporting

/// Who reads the project-level reporting (periods, the work plan, indicators and their values):
/// coordinators, partners, and integrations with `reporting:read`. Mentors and municipalities
/// have no part in reporting.
pub fn read_reporting(actor: &Actor) -> AppResult<()> {
    match actor {
        Actor::Integration(i) if i.reporting_read => Ok(()),
        _ => actor
            .require_role(&[Role::Coordinator, Role::Partner])
            .map(|_| ()),
    }
}

/// Who sets reporting up: periods, the work plan, outputs, indicator targets.
pub fn manage_reporting(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "sets up the reporting")
}

/// Who keeps the project's own facts (the programme and call, the project's identity, budget
/// and funding, the consortium partners' records) that the keep.eu export carries.
pub fn manage_project_facts(actor: &Actor) -> AppResult<&Principal> {
    coordinator(actor, "keeps the project's facts")
}

/// Who downloads the reporting exports: coordinators and integrations with `reporting:read`
/// (partners read the figures in the API, not the programme's files).
pub fn export_reporting(actor: &Actor) -> AppResult<()> {
    match actor {
        Actor::Integration(i) if i.reporting_read => Ok(()),
        _ => coordinator(actor, "downloads the reporting exports").map(|_| ()),
    }
}

/// For which organisation a reporting write (a contribution, a partner report) is made: a
/// partner's own; a coordinator's named one, or its own (the lead partner). The service then
/// checks that the organisation is a consortium partner.
pub fn report_for(actor: &Actor, requested: Option<Uuid>) -> AppResult<(&Principal, Uuid)> {
    let p = actor.principal()?;
    match p.role {
        Role::Coordinator => {
            let org = requested
                .or(p.organisation_id)
                .ok_or_else(|| AppError::bad_input("organisationId", "name the organisation"))?;
            Ok((p, org))
        }
        Role::Partner => {
            let own = p
                .organisation_id
                .ok_or_else(|| AppError::forbidden("your account belongs to no organisation"))?;
            if requested.is_some_and(|r| r != own) {
                return Err(AppError::forbidden(
                    "partners report for their own organisation",
                ));
            }
            Ok((p, own))
        }
        _ => Err(AppError::forbidden(
            "reporting is written by partners and coordinators",
        )),
    }
}

/// Who moves a partner report they can see: its partner (or a coordinator) submits it; the
/// coordinator accepts or returns it (`review`).
pub fn move_partner_report(actor: &Actor, review: bool) -> AppResult<&Principal> {
    let p = actor.require_role(&[Role::Coordinator, Role::Partner])?;
    if review && p.role != Role::Coordinator {
        return Err(AppError::forbidden(
            "the coordinator reviews partner reports",
        ));
    }
    Ok(p)
}

// ---------------------------------------------------------------------------------------------
// KPIs and integration tokens

/// Who reads the KPIs: every signed-in user but a juror (each within their visibility) and
/// integrations with `kpi:read`.
pub fn read_kpis(actor: &Actor) -> AppResult<()> {
    match actor {
        Actor::Integration(i) if i.kpi_read => Ok(()),
        Actor::User(p) if p.role == Role::Juror => Err(AppError::forbidden(
            "jurors read the applications they score, not the programme's figures",
        )),
        _ => actor.principal().map(|_| ()),
    }
}

/// Root query fields an integration token may resolve, by scope. Everything else — every other
/// query, every mutation and subscription — is FORBIDDEN to tokens.
pub const KPI_FIELDS: &[&str] = &["kpis"];
/// See [`KPI_FIELDS`].
pub const REPORTING_FIELDS: &[&str] = &[
    "reportingPeriods",
    "reportingPeriod",
    "workPackages",
    "indicators",
    "partnerReports",
    "projectSettings",
];

/// Whether an integration may resolve the root field `field` of the operation type
/// `parent_type` ("Query", "Mutation", "Subscription").
pub fn integration_may_read(integration: &Integration, parent_type: &str, field: &str) -> bool {
    if field.starts_with("__") {
        return true;
    }
    parent_type == "Query"
        && ((integration.kpi_read && KPI_FIELDS.contains(&field))
            || (integration.reporting_read && REPORTING_FIELDS.contains(&field)))
}
