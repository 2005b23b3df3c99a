//! Row scoping: for each entity, the rows an actor may see, as a `Select` to build on.
//!
//! Conditions are expressed as sub-queries (`id IN (SELECT …)`), which both databases plan well
//! and which compose with any filter, ordering, cursor or `COUNT(*)` put on top.

use entity::{
    ApplicationStatus, AssessmentStage, OrganisationKind, PracticeStatus, Role, activity,
    activity_progress, application, application_co_applicant, application_status_change,
    assessment, assessment_score, assessor_assignment, audit_entry, criterion, deliverable,
    deliverable_progress, edition, event, expenditure, good_practice, indicator,
    indicator_contribution, integration_token, jury_assignment, mentor_assignment,
    mentoring_session, organisation, output, participation, partner_report, peer_learning_group,
    peer_learning_member, phase, plan, plan_action, plan_comment, plan_indicator, plan_version,
    progress_update, reporting_period, user, vocabulary_term, work_package,
};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select};
use uuid::Uuid;

use super::Actor;

/// Statuses after the award decision that make an application public (the title holders).
pub const PUBLIC_STATUSES: [ApplicationStatus; 3] = [
    ApplicationStatus::Awarded,
    ApplicationStatus::TitleYearActive,
    ApplicationStatus::TitleYearCompleted,
];

/// Ids of the applications assigned to a mentor.
fn assigned_to(mentor: Uuid) -> SelectStatement {
    Query::select()
        .column(mentor_assignment::Column::ApplicationId)
        .from(mentor_assignment::Entity)
        .and_where(mentor_assignment::Column::MentorId.eq(mentor))
        .to_owned()
}

/// Ids of the applications a juror is assigned to score (in `stage`, or in any stage).
fn juried_by(juror: Uuid, stage: Option<AssessmentStage>) -> SelectStatement {
    let mut q = Query::select()
        .column(jury_assignment::Column::ApplicationId)
        .from(jury_assignment::Entity)
        .and_where(jury_assignment::Column::JurorId.eq(juror))
        .to_owned();
    if let Some(stage) = stage {
        q.and_where(jury_assignment::Column::Stage.eq(stage));
    }
    q
}

/// The applications an organisation leads or co-applies to, as `id IN (the ids it leads
/// UNION ALL the ids it co-applies to)`: each half is a range of its own index, so the page
/// and its count read a municipality's few applications. (Written as `lead = org OR id IN
/// (co-applied)`, no index serves the OR: every statement scanned all applications — 20.5 ms
/// against 0.06 ms at scale 1000, BENCHMARKS.md.)
fn applications_of(org: Uuid) -> Condition {
    let led = Query::select()
        .column(application::Column::Id)
        .from(application::Entity)
        .and_where(application::Column::LeadMunicipalityId.eq(org))
        .to_owned();
    let co_applied = Query::select()
        .column(application_co_applicant::Column::ApplicationId)
        .from(application_co_applicant::Entity)
        .and_where(application_co_applicant::Column::OrganisationId.eq(org))
        .to_owned();
    let mut ids = led;
    ids.union(sea_orm::sea_query::UnionType::All, co_applied);
    Condition::all().add(application::Column::Id.in_subquery(ids))
}

/// A sub-query of the ids in a scoped select.
pub fn ids<E: EntityTrait>(select: Select<E>, id: E::Column) -> SelectStatement {
    select.select_only().column(id).into_query()
}

/// `outer` (a foreign key of a child table) names a row of `scope`, as a correlated
/// `EXISTS (SELECT 1 FROM parent WHERE parent.id = outer AND <scope>)`. Same rows as
/// `outer IN (SELECT id FROM parent WHERE <scope>)`, which PostgreSQL plans alike, but SQLite
/// builds that list in full for every statement (47.7 ms against a probe of 0.06 ms for a
/// partner's applications at scale 1000, BENCHMARKS.md). Not for a scope over the outer
/// table itself (its unqualified columns would bind to the inner one).
fn exists_in<E: EntityTrait>(scope: Select<E>, id: E::Column, outer: impl IntoColumnRef) -> Expr {
    let mut q = scope.select_only().expr(Expr::val(1)).into_query();
    q.and_where(Expr::col((E::default(), id)).equals(outer));
    Expr::exists(q)
}

/// Organisations: every signed-in user reads them all; anonymous visitors see the consortium and
/// the municipalities holding a title (published facts).
pub fn organisations(actor: &Actor) -> Select<organisation::Entity> {
    let all = organisation::Entity::find();
    match actor {
        // A juror: what the public sees, their own organisation, and the municipalities of the
        // applications they score (lead and co-applicants).
        Actor::User(p) if p.role == Role::Juror => {
            let juried = juried_by(p.user_id, None);
            let leads = Query::select()
                .column(application::Column::LeadMunicipalityId)
                .from(application::Entity)
                .and_where(application::Column::Id.in_subquery(juried.clone()))
                .to_owned();
            let co = Query::select()
                .column(application_co_applicant::Column::OrganisationId)
                .from(application_co_applicant::Entity)
                .and_where(application_co_applicant::Column::ApplicationId.in_subquery(juried))
                .to_owned();
            let mut own = Condition::any()
                .add(organisation::Column::Id.in_subquery(leads))
                .add(organisation::Column::Id.in_subquery(co));
            if let Some(org) = p.organisation_id {
                own = own.add(organisation::Column::Id.eq(org));
            }
            all.filter(Condition::any().add(published_organisations()).add(own))
        }
        // Tokens name organisations in KPI groups and reports (partners' reporting data).
        Actor::User(_) | Actor::Integration(_) => all,
        Actor::Anonymous => all.filter(published_organisations()),
    }
}

/// The organisations the public sees: the consortium and the municipalities holding a title.
fn published_organisations() -> Condition {
    Condition::any()
        .add(organisation::Column::Kind.is_in([
            OrganisationKind::LeadPartner,
            OrganisationKind::Partner,
            OrganisationKind::Associated,
        ]))
        .add(
            organisation::Column::Id.in_subquery(
                Query::select()
                    .column(application::Column::LeadMunicipalityId)
                    .from(application::Entity)
                    .and_where(application::Column::Status.is_in(PUBLIC_STATUSES))
                    .to_owned(),
            ),
        )
}

/// Users: coordinators manage all; partners read the consortium (everyone but municipality
/// contacts); mentors their mentees' contacts; municipalities their own organisation's users and
/// their mentors; jurors only themselves. Everyone sees themselves; anonymous visitors see
/// nobody.
pub fn users(actor: &Actor) -> Select<user::Entity> {
    let all = user::Entity::find();
    let Actor::User(p) = actor else {
        return all.filter(user::Column::Id.is_null());
    };
    let me = user::Column::Id.eq(p.user_id);
    match p.role {
        Role::Coordinator => all,
        Role::Partner => all.filter(Condition::any().add(me).add(user::Column::Role.is_in([
            Role::Coordinator,
            Role::Partner,
            Role::Mentor,
        ]))),
        Role::Mentor => {
            let mentee_apps = application::Entity::find()
                .filter(application::Column::Id.in_subquery(assigned_to(p.user_id)));
            let leads = mentee_apps
                .clone()
                .select_only()
                .column(application::Column::LeadMunicipalityId)
                .into_query();
            let co = Query::select()
                .column(application_co_applicant::Column::OrganisationId)
                .from(application_co_applicant::Entity)
                .and_where(
                    application_co_applicant::Column::ApplicationId
                        .in_subquery(assigned_to(p.user_id)),
                )
                .to_owned();
            all.filter(
                Condition::any()
                    .add(me)
                    .add(user::Column::OrganisationId.in_subquery(leads))
                    .add(user::Column::OrganisationId.in_subquery(co)),
            )
        }
        Role::Municipality => {
            let Some(org) = p.organisation_id else {
                return all.filter(me);
            };
            let own_apps = ids(
                application::Entity::find().filter(applications_of(org)),
                application::Column::Id,
            );
            let mentors = Query::select()
                .column(mentor_assignment::Column::MentorId)
                .from(mentor_assignment::Entity)
                .and_where(mentor_assignment::Column::ApplicationId.in_subquery(own_apps))
                .to_owned();
            all.filter(
                Condition::any()
                    .add(me)
                    .add(user::Column::OrganisationId.eq(org))
                    .add(user::Column::Id.in_subquery(mentors)),
            )
        }
        // A juror works alone: no other user is theirs to see.
        Role::Juror => all.filter(me),
    }
}

/// [`users`] reached as the mentor of a mentor assignment the actor reads
/// ([`mentor_assignments`]). The same rows as [`users`], with a rule the database can skip where
/// the assignment already proves the mentor visible:
/// - a coordinator reads every user;
/// - a mentor reads only its own assignments, whose mentor is itself;
/// - a municipality reads the assignments of its applications (lead or co-applicant), and
///   [`users`] gives it exactly the mentors of those.
///
/// Partners (whose [`users`] are by role, and a mentor's role can change), jurors (who read no
/// assignment) and everyone else keep [`users`]. Without this, a municipality's dashboard
/// asked again, for each mentor of each row, which applications the municipality leads or
/// co-applies to. The page planner uses it for `MentorAssignment.mentor` only
/// (`graphql/planner/shape.rs`, test `mentors_take_the_assignment_rule`).
pub fn mentors_of_readable_assignment(actor: &Actor) -> Select<user::Entity> {
    match actor {
        Actor::User(p)
            if matches!(
                p.role,
                Role::Coordinator | Role::Mentor | Role::Municipality
            ) =>
        {
            user::Entity::find()
        }
        _ => users(actor),
    }
}

/// Editions are public facts: everyone reads them.
pub fn editions(_actor: &Actor) -> Select<edition::Entity> {
    edition::Entity::find()
}

/// Phases (the dates of each edition's call and stages) are public like their editions.
pub fn phases(_actor: &Actor) -> Select<phase::Entity> {
    phase::Entity::find()
}

/// Applications: coordinators all; partners all but drafts; mentors those assigned to them;
/// municipalities those they lead or co-apply to; jurors those they score; anonymous visitors
/// the title holders.
pub fn applications(actor: &Actor) -> Select<application::Entity> {
    let all = application::Entity::find();
    if reads_every_application(actor) {
        return all;
    }
    let Actor::User(p) = actor else {
        return all.filter(application::Column::Status.is_in(PUBLIC_STATUSES));
    };
    match p.role {
        // Answered above (`reads_every_application`).
        Role::Coordinator => all,
        // "No drafts": never submitted, including drafts withdrawn before submission.
        Role::Partner => all.filter(application::Column::SubmittedAt.is_not_null()),
        Role::Mentor => all.filter(application::Column::Id.in_subquery(assigned_to(p.user_id))),
        Role::Municipality => match p.organisation_id {
            Some(org) => all.filter(applications_of(org)),
            None => all.filter(application::Column::Id.is_null()),
        },
        // Only the applications they are assigned to score: not even the title holders'
        // files, whose motivation signed-in readers see (the public list of Pearls, read as
        // the public reads it, stays theirs like everyone's).
        Role::Juror => all.filter(application::Column::Id.in_subquery(juried_by(p.user_id, None))),
    }
}

/// Whether [`applications`] is every application for this actor (a coordinator's).
fn reads_every_application(actor: &Actor) -> bool {
    matches!(actor, Actor::User(p) if p.role == Role::Coordinator)
}

/// The rows of an application's file (its status history, mentor assignments and plan) are
/// read only where their application is ([`applications`]), and then by their own rule `own`
/// (the `…_of_readable_application` scopes). That is the whole scope, as every loader applies
/// it. The page planner reaches these rows only from an application row it read through
/// [`applications`] itself, so it applies `own` alone: the same rows, without asking again for
/// each row whether its application is readable (`graphql/planner/shape.rs`).
fn of_readable_application<E: EntityTrait>(
    actor: &Actor,
    own: Select<E>,
    application_id: E::Column,
) -> Select<E> {
    if reads_every_application(actor) {
        return own;
    }
    own.filter(exists_in(
        applications(actor),
        application::Column::Id,
        (E::default(), application_id),
    ))
}

/// Status history rows follow their application, but only for signed-in users: the history
/// names people and notes that are not published.
pub fn status_changes(actor: &Actor) -> Select<application_status_change::Entity> {
    of_readable_application(
        actor,
        status_changes_of_readable_application(actor),
        application_status_change::Column::ApplicationId,
    )
}

/// [`status_changes`] of an application the actor reads ([`of_readable_application`]).
pub fn status_changes_of_readable_application(
    actor: &Actor,
) -> Select<application_status_change::Entity> {
    let all = application_status_change::Entity::find();
    match actor {
        // Jurors score the application, not its file's history (who decided what, notes).
        Actor::User(p) if p.role == Role::Juror => {
            all.filter(application_status_change::Column::Id.is_null())
        }
        Actor::Anonymous | Actor::Integration(_) => {
            all.filter(application_status_change::Column::Id.is_null())
        }
        Actor::User(_) => all,
    }
}

/// The award records of the title holders: when each was awarded. A published fact, read by
/// the public list of Pearls (the rest of the status history is not public).
pub fn award_records() -> Select<application_status_change::Entity> {
    application_status_change::Entity::find()
        .filter(application_status_change::Column::ToStatus.eq(ApplicationStatus::Awarded))
        .filter(
            application_status_change::Column::ApplicationId.in_subquery(ids(
                applications(&Actor::Anonymous),
                application::Column::Id,
            )),
        )
}

/// Mentor assignments: coordinators read all; partners those of the applications they see; a
/// mentor their own; a municipality those of its applications. (Partners read assignments
/// only of applications they can see — no drafts — so an assignment never reveals an
/// application hidden from them.)
pub fn mentor_assignments(actor: &Actor) -> Select<mentor_assignment::Entity> {
    of_readable_application(
        actor,
        mentor_assignments_of_readable_application(actor),
        mentor_assignment::Column::ApplicationId,
    )
}

/// [`mentor_assignments`] of an application the actor reads ([`of_readable_application`]).
pub fn mentor_assignments_of_readable_application(
    actor: &Actor,
) -> Select<mentor_assignment::Entity> {
    let all = mentor_assignment::Entity::find();
    let Actor::User(p) = actor else {
        return all.filter(mentor_assignment::Column::Id.is_null());
    };
    match p.role {
        Role::Coordinator | Role::Partner | Role::Municipality => all,
        Role::Mentor => all.filter(mentor_assignment::Column::MentorId.eq(p.user_id)),
        Role::Juror => all.filter(mentor_assignment::Column::Id.is_null()),
    }
}

/// Mentoring sessions: coordinators read all; a mentor those of their own assignments; a
/// municipality those of its applications. Partners see aggregates only (no rows).
pub fn mentoring_sessions(actor: &Actor) -> Select<mentoring_session::Entity> {
    let all = mentoring_session::Entity::find();
    let Actor::User(p) = actor else {
        return all.filter(mentoring_session::Column::Id.is_null());
    };
    match p.role {
        Role::Coordinator => all,
        // The assignments a mentor holds, or those of the municipality's applications.
        Role::Mentor | Role::Municipality => all.filter(exists_in(
            mentor_assignments(actor),
            mentor_assignment::Column::Id,
            (
                mentoring_session::Entity,
                mentoring_session::Column::AssignmentId,
            ),
        )),
        Role::Partner | Role::Juror => all.filter(mentoring_session::Column::Id.is_null()),
    }
}

/// CuReAP plans: coordinators read all; partners the submitted ones; mentors those of their
/// applications; municipalities their own; jurors those of the applications they score in the
/// jury stage (the stage that scores plans). Not public.
pub fn plans(actor: &Actor) -> Select<plan::Entity> {
    of_readable_application(
        actor,
        plans_of_readable_application(actor),
        plan::Column::ApplicationId,
    )
}

/// [`plans`] of an application the actor reads ([`of_readable_application`]).
pub fn plans_of_readable_application(actor: &Actor) -> Select<plan::Entity> {
    let all = plan::Entity::find();
    let Actor::User(p) = actor else {
        return all.filter(plan::Column::Id.is_null());
    };
    match p.role {
        // The CuReAP only where the juror's stage scores plans (the jury stage).
        // As handed in: never a draft, like partners (the live row of a submitted plan is
        // frozen).
        Role::Juror => all
            .filter(
                plan::Column::ApplicationId
                    .in_subquery(juried_by(p.user_id, Some(AssessmentStage::Jury))),
            )
            .filter(plan::Column::SubmittedVersion.gt(0)),
        Role::Partner => all.filter(plan::Column::SubmittedVersion.gt(0)),
        _ => all,
    }
}

/// `outer` names a plan the actor may see.
fn visible_plan(actor: &Actor, outer: impl IntoColumnRef) -> Expr {
    exists_in(plans(actor), plan::Column::Id, outer)
}

/// `outer` (a practice id column of another table) names a practice the actor may read.
pub fn visible_practice(actor: &Actor, outer: impl IntoColumnRef) -> Expr {
    exists_in(practices(actor), good_practice::Column::Id, outer)
}

/// Plan actions follow their plan.
pub fn plan_actions(actor: &Actor) -> Select<plan_action::Entity> {
    plan_action::Entity::find().filter(visible_plan(
        actor,
        (plan_action::Entity, plan_action::Column::PlanId),
    ))
}

/// Plan indicators follow their plan.
pub fn plan_indicators(actor: &Actor) -> Select<plan_indicator::Entity> {
    plan_indicator::Entity::find().filter(visible_plan(
        actor,
        (plan_indicator::Entity, plan_indicator::Column::PlanId),
    ))
}

/// Plan comments follow their plan; jurors score the plan, not the conversation about it.
pub fn plan_comments(actor: &Actor) -> Select<plan_comment::Entity> {
    if actor.role() == Some(Role::Juror) {
        return plan_comment::Entity::find().filter(plan_comment::Column::Id.is_null());
    }
    plan_comment::Entity::find().filter(visible_plan(
        actor,
        (plan_comment::Entity, plan_comment::Column::PlanId),
    ))
}

/// Frozen plan versions follow their plan.
pub fn plan_versions(actor: &Actor) -> Select<plan_version::Entity> {
    plan_version::Entity::find().filter(visible_plan(
        actor,
        (plan_version::Entity, plan_version::Column::PlanId),
    ))
}

/// Title-year progress follows its action's plan (not a juror's: they score the plan).
pub fn progress_updates(actor: &Actor) -> Select<progress_update::Entity> {
    if actor.role() == Some(Role::Juror) {
        return progress_update::Entity::find().filter(progress_update::Column::Id.is_null());
    }
    progress_update::Entity::find().filter(exists_in(
        plan_actions(actor),
        plan_action::Column::Id,
        (progress_update::Entity, progress_update::Column::ActionId),
    ))
}

/// Co-applicant links follow their application.
pub fn co_applicants(actor: &Actor) -> Select<application_co_applicant::Entity> {
    application_co_applicant::Entity::find().filter(exists_in(
        applications(actor),
        application::Column::Id,
        (
            application_co_applicant::Entity,
            application_co_applicant::Column::ApplicationId,
        ),
    ))
}

/// The audit log is the coordinator's alone.
pub fn audit_entries(actor: &Actor) -> Select<audit_entry::Entity> {
    let all = audit_entry::Entity::find();
    match actor.role() {
        Some(Role::Coordinator) => all,
        _ => all.filter(audit_entry::Column::Id.is_null()),
    }
}

/// Scoring criteria are published with the call: everyone reads them, like editions.
pub fn criteria(_actor: &Actor) -> Select<criterion::Entity> {
    criterion::Entity::find()
}

/// Assessor assignments: coordinators read all; every other user only their own.
pub fn assessor_assignments(actor: &Actor) -> Select<assessor_assignment::Entity> {
    let all = assessor_assignment::Entity::find();
    match actor {
        Actor::User(p) if p.role == Role::Coordinator => all,
        Actor::User(p) => all.filter(assessor_assignment::Column::AssessorId.eq(p.user_id)),
        Actor::Anonymous | Actor::Integration(_) => {
            all.filter(assessor_assignment::Column::Id.is_null())
        }
    }
}

/// Jury assignments: coordinators read all; a juror their own; nobody else any.
pub fn jury_assignments(actor: &Actor) -> Select<jury_assignment::Entity> {
    let all = jury_assignment::Entity::find();
    match actor {
        Actor::User(p) if p.role == Role::Coordinator => all,
        Actor::User(p) if p.role == Role::Juror => {
            all.filter(jury_assignment::Column::JurorId.eq(p.user_id))
        }
        _ => all.filter(jury_assignment::Column::Id.is_null()),
    }
}

/// Assessments (individual scores): coordinators read all; an assessor (partner or juror) their
/// own. Mentors and
/// municipalities never see individual assessments — a municipality sees only its aggregated
/// result after the decision (see `rules::may_see_assessment_result`).
pub fn assessments(actor: &Actor) -> Select<assessment::Entity> {
    let all = assessment::Entity::find();
    match actor {
        Actor::User(p) if p.role == Role::Coordinator => all,
        Actor::User(p) if matches!(p.role, Role::Partner | Role::Juror) => {
            all.filter(assessment::Column::AssessorId.eq(p.user_id))
        }
        _ => all.filter(assessment::Column::Id.is_null()),
    }
}

/// Scores follow their assessment.
pub fn assessment_scores(actor: &Actor) -> Select<assessment_score::Entity> {
    assessment_score::Entity::find().filter(
        assessment_score::Column::AssessmentId
            .in_subquery(ids(assessments(actor), assessment::Column::Id)),
    )
}

/// The managed vocabularies are public reference data.
pub fn vocabulary_terms(_actor: &Actor) -> Select<vocabulary_term::Entity> {
    vocabulary_term::Entity::find()
}

/// Good practices: published ones for everyone (signed in or not); partners and mentors also
/// their own in any status; coordinators all. Drafts never reach anyone else — not by search,
/// count, filter or id.
pub fn practices(actor: &Actor) -> Select<good_practice::Entity> {
    let all = good_practice::Entity::find();
    let published = good_practice::Column::Status.eq(PracticeStatus::Published);
    match actor {
        Actor::User(p) if p.role == Role::Coordinator => all,
        Actor::User(p) if matches!(p.role, Role::Partner | Role::Mentor) => all.filter(
            Condition::any()
                .add(published)
                .add(good_practice::Column::AuthorId.eq(p.user_id)),
        ),
        _ => all.filter(published),
    }
}

/// Events: every signed-in user sees the programme's events; jurors and the public only public
/// ones.
pub fn events(actor: &Actor) -> Select<event::Entity> {
    let all = event::Entity::find();
    match actor {
        Actor::User(p) if p.role == Role::Juror => all.filter(event::Column::IsPublic.eq(true)),
        Actor::User(_) => all,
        Actor::Anonymous | Actor::Integration(_) => all.filter(event::Column::IsPublic.eq(true)),
    }
}

/// Registrations: coordinators all; a partner its own and those of its organisation's events;
/// everyone else only their own. The public none (no participant data is public).
pub fn participations(actor: &Actor) -> Select<participation::Entity> {
    let all = participation::Entity::find();
    let Actor::User(p) = actor else {
        return all.filter(participation::Column::Id.is_null());
    };
    let own = participation::Column::UserId.eq(p.user_id);
    match (p.role, p.organisation_id) {
        (Role::Coordinator, _) => all,
        (Role::Partner, Some(org)) => all.filter(
            Condition::any().add(own).add(
                participation::Column::EventId.in_subquery(
                    Query::select()
                        .column(event::Column::Id)
                        .from(event::Entity)
                        .and_where(event::Column::OrganiserId.eq(org))
                        .to_owned(),
                ),
            ),
        ),
        _ => all.filter(own),
    }
}

/// Peer-learning groups: coordinators and partners read all; a mentor those it facilitates or
/// created and those its mentees belong to; a municipality those it belongs to.
pub fn peer_learning_groups(actor: &Actor) -> Select<peer_learning_group::Entity> {
    let all = peer_learning_group::Entity::find();
    let Actor::User(p) = actor else {
        return all.filter(peer_learning_group::Column::Id.is_null());
    };
    let of_members = |orgs: SelectStatement| {
        peer_learning_group::Column::Id.in_subquery(
            Query::select()
                .column(peer_learning_member::Column::GroupId)
                .from(peer_learning_member::Entity)
                .and_where(peer_learning_member::Column::OrganisationId.in_subquery(orgs))
                .to_owned(),
        )
    };
    match p.role {
        Role::Coordinator | Role::Partner => all,
        Role::Mentor => {
            let mentees = application::Entity::find()
                .filter(application::Column::Id.in_subquery(assigned_to(p.user_id)))
                .select_only()
                .column(application::Column::LeadMunicipalityId)
                .into_query();
            all.filter(
                Condition::any()
                    .add(peer_learning_group::Column::FacilitatorId.eq(p.user_id))
                    .add(peer_learning_group::Column::CreatedBy.eq(p.user_id))
                    .add(of_members(mentees)),
            )
        }
        Role::Municipality => match p.organisation_id {
            Some(org) => all.filter(of_members(
                Query::select()
                    .expr(sea_orm::sea_query::Expr::val(org))
                    .to_owned(),
            )),
            None => all.filter(peer_learning_group::Column::Id.is_null()),
        },
        Role::Juror => all.filter(peer_learning_group::Column::Id.is_null()),
    }
}

/// Group members follow their group.
pub fn peer_learning_members(actor: &Actor) -> Select<peer_learning_member::Entity> {
    peer_learning_member::Entity::find().filter(peer_learning_member::Column::GroupId.in_subquery(
        ids(peer_learning_groups(actor), peer_learning_group::Column::Id),
    ))
}

/// Whether the actor reads project-level reporting (see `rules::read_reporting`).
fn reads_reporting(actor: &Actor) -> bool {
    super::rules::read_reporting(actor).is_ok()
}

macro_rules! project_level {
    ($(#[$doc:meta])* $name:ident, $module:ident) => {
        $(#[$doc])*
        pub fn $name(actor: &Actor) -> Select<$module::Entity> {
            let all = $module::Entity::find();
            if reads_reporting(actor) {
                all
            } else {
                all.filter($module::Column::Id.is_null())
            }
        }
    };
}

project_level!(
    /// Reporting periods: coordinators, partners and reporting integrations.
    reporting_periods,
    reporting_period
);
project_level!(
    /// Indicators: like the periods.
    indicators,
    indicator
);
project_level!(
    /// Work packages: like the periods.
    work_packages,
    work_package
);
project_level!(
    /// Activities: like the periods.
    activities,
    activity
);
project_level!(
    /// Deliverables: like the periods.
    deliverables,
    deliverable
);
project_level!(
    /// Outputs: like the periods.
    outputs,
    output
);

/// Integration tokens (their metadata; secrets are never stored): coordinators only.
pub fn integration_tokens(actor: &Actor) -> Select<integration_token::Entity> {
    let all = integration_token::Entity::find();
    match actor {
        Actor::User(p) if p.role == Role::Coordinator => all,
        _ => all.filter(integration_token::Column::Id.is_null()),
    }
}

/// Partner reports: coordinators and reporting integrations read all; a partner its own
/// organisation's; nobody else any.
pub fn partner_reports(actor: &Actor) -> Select<partner_report::Entity> {
    let all = partner_report::Entity::find();
    match actor {
        Actor::User(p) if p.role == Role::Coordinator => all,
        Actor::Integration(i) if i.reporting_read => all,
        Actor::User(p) if p.role == Role::Partner => match p.organisation_id {
            Some(org) => all.filter(partner_report::Column::OrganisationId.eq(org)),
            None => all.filter(partner_report::Column::Id.is_null()),
        },
        _ => all.filter(partner_report::Column::Id.is_null()),
    }
}

/// Indicator contributions: like partner reports.
pub fn contributions(actor: &Actor) -> Select<indicator_contribution::Entity> {
    let all = indicator_contribution::Entity::find();
    match actor {
        Actor::User(p) if p.role == Role::Coordinator => all,
        Actor::Integration(i) if i.reporting_read => all,
        Actor::User(p) if p.role == Role::Partner => match p.organisation_id {
            Some(org) => all.filter(indicator_contribution::Column::OrganisationId.eq(org)),
            None => all.filter(indicator_contribution::Column::Id.is_null()),
        },
        _ => all.filter(indicator_contribution::Column::Id.is_null()),
    }
}

fn report_ids(actor: &Actor) -> SelectStatement {
    ids(partner_reports(actor), partner_report::Column::Id)
}

/// A report's activity progress follows the report.
pub fn activity_progress(actor: &Actor) -> Select<activity_progress::Entity> {
    activity_progress::Entity::find()
        .filter(activity_progress::Column::ReportId.in_subquery(report_ids(actor)))
}

/// A report's deliverable progress follows the report.
pub fn deliverable_progress(actor: &Actor) -> Select<deliverable_progress::Entity> {
    deliverable_progress::Entity::find()
        .filter(deliverable_progress::Column::ReportId.in_subquery(report_ids(actor)))
}

/// A report's expenditure follows the report.
pub fn expenditure(actor: &Actor) -> Select<expenditure::Entity> {
    expenditure::Entity::find().filter(expenditure::Column::ReportId.in_subquery(report_ids(actor)))
}

/// The applications an actor's KPIs cover: a coordinator's all; a partner's (and a `kpi:read`
/// integration's) every submitted one; a mentor's the assigned ones; a municipality's its own —
/// as a condition on the `application` table (`None`: all of them).
/// KPIs are aggregates over these (and their plans, sessions, actions), so partners get the
/// programme's figures even where they see no rows (mentoring sessions); plan figures follow
/// [`kpi_submitted_plans_only`].
pub fn kpi_applications(actor: &Actor) -> Option<Condition> {
    let submitted = || Condition::all().add(application::Column::SubmittedAt.is_not_null());
    match actor {
        Actor::Integration(i) if i.kpi_read => Some(submitted()),
        Actor::User(p) if p.role == Role::Partner => Some(submitted()),
        Actor::User(p) if p.role == Role::Coordinator => None,
        Actor::User(_) => Some(Condition::all().add(
            application::Column::Id.in_subquery(ids(applications(actor), application::Column::Id)),
        )),
        _ => Some(Condition::all().add(application::Column::Id.is_null())),
    }
}

/// Whether an actor's KPIs cover the whole programme (coordinators; partners and `kpi:read`
/// integrations, every submitted application): the programme-wide rollups answer for them, as
/// [`kpi_applications`] and [`kpi_submitted_plans_only`] narrow them.
pub fn kpi_whole_programme(actor: &Actor) -> bool {
    match actor {
        Actor::Integration(i) => i.kpi_read,
        Actor::User(p) => matches!(p.role, Role::Coordinator | Role::Partner),
        _ => false,
    }
}

/// Whether an actor's plan KPIs cover submitted plans only: partners and `kpi:read`
/// integrations see no plan before its first submission, so no breakdown (by organisation,
/// say) reveals a draft's actions or budget. Coordinators, mentors and municipalities count
/// the drafts they may read anyway.
pub fn kpi_submitted_plans_only(actor: &Actor) -> bool {
    match actor {
        Actor::User(p) => p.role == Role::Partner,
        _ => true,
    }
}

/// The organisations whose participations an actor's event KPIs cover: `None` for all
/// (coordinators, partners, `kpi:read` integrations); a mentor's mentee municipalities; a
/// municipality itself.
pub fn kpi_organisations(actor: &Actor) -> Option<SelectStatement> {
    if kpi_whole_programme(actor) {
        return None;
    }
    match actor {
        Actor::User(p) if p.role == Role::Mentor => Some(
            application::Entity::find()
                .filter(application::Column::Id.in_subquery(assigned_to(p.user_id)))
                .select_only()
                .column(application::Column::LeadMunicipalityId)
                .into_query(),
        ),
        Actor::User(p) => Some(
            organisation::Entity::find()
                .filter(match p.organisation_id {
                    Some(org) => organisation::Column::Id.eq(org),
                    None => organisation::Column::Id.is_null(),
                })
                .select_only()
                .column(organisation::Column::Id)
                .into_query(),
        ),
        _ => Some(
            organisation::Entity::find()
                .filter(organisation::Column::Id.is_null())
                .select_only()
                .column(organisation::Column::Id)
                .into_query(),
        ),
    }
}
