//! Write rules: who may change what, for objects the caller can already see.
//!
//! Callers load the object through its [`super::scope`] first (so an invisible object is
//! NOT_FOUND before any rule runs); these functions then answer FORBIDDEN or allow.

use entity::{AssessmentStage, OrganisationKind, Role, application, organisation};

use super::{Actor, scope};
use crate::error::{AppError, AppResult};

/// Coordinators manage users, organisations and editions.
pub fn manage_programme(actor: &Actor) -> AppResult<()> {
    actor.require_role(&[Role::Coordinator]).map(|_| ())
}

/// Who may open an application with `lead` as lead municipality: the municipality itself or a
/// coordinator on its behalf. Only municipalities can lead, and capitals are excluded (public rule).
pub fn create_application(actor: &Actor, lead: &organisation::Model) -> AppResult<()> {
    let p = actor.require_role(&[Role::Coordinator, Role::Municipality])?;
    if p.role == Role::Municipality && !scope::belongs_to(p, lead.id) {
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
    Ok(())
}

/// Who may edit an application's content: its lead municipality's users and coordinators.
/// Co-applicants, mentors and partners read it but do not edit it.
pub fn edit_application(actor: &Actor, app: &application::Model) -> AppResult<()> {
    let p = actor.require_role(&[Role::Coordinator, Role::Municipality])?;
    if p.role == Role::Municipality && !scope::belongs_to(p, app.lead_municipality_id) {
        return Err(AppError::forbidden(
            "only the lead municipality can change this application",
        ));
    }
    Ok(())
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
                (scope::belongs_to(p, app.lead_municipality_id) || is_co_applicant)
                    && stage.decided_statuses().contains(&app.status)
            }
            Role::Partner | Role::Mentor => false,
        },
        Actor::Anonymous | Actor::Integration(_) => false,
    }
}

/// Who may score: a coordinator or partner user (the assignment itself is checked by the
/// assessment service against the edition and stage).
pub fn assess(actor: &Actor) -> AppResult<()> {
    actor
        .require_role(&[Role::Coordinator, Role::Partner])
        .map(|_| ())
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
];

/// Whether an integration may resolve the root field `field` of the operation type
/// `parent_type` ("Query", "Mutation", "Subscription").
pub fn integration_may_read(
    integration: &super::Integration,
    parent_type: &str,
    field: &str,
) -> bool {
    if field.starts_with("__") {
        return true;
    }
    parent_type == "Query"
        && ((integration.kpi_read && KPI_FIELDS.contains(&field))
            || (integration.reporting_read && REPORTING_FIELDS.contains(&field)))
}

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

/// Who reads the KPIs: every signed-in user (each within their visibility) and integrations
/// with `kpi:read`.
pub fn read_kpis(actor: &Actor) -> AppResult<()> {
    match actor {
        Actor::Integration(i) if i.kpi_read => Ok(()),
        _ => actor.principal().map(|_| ()),
    }
}
