//! The `Node` interface and `node(id:)` / `nodes(ids:)`: any object by its global id, through the
//! same scopes and loaders as every other read.

use async_graphql::PathSegment;
use async_graphql::{Context, ID, Interface, Object, Result, ServerError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::applications::pearls::Pearl;
use crate::applications::types::{Application, StatusChange};
use crate::assessment::types::{Assessment, AssessorAssignment, Criterion, JuryAssignment};
use crate::audit::graphql::AuditEntry;
use crate::editions::types::{Edition, Phase};
use crate::error::{AppError, AppResult};
use crate::graphql::context::{RequestContext, req};
use crate::graphql::ids;
use crate::graphql::loaders::{
    ApplicationById, CriterionById, EditionById, OrganisationById, PlanById, UserById,
};
use crate::mentoring::types::{MentorAssignment, MentoringSession};
use crate::organisations::graphql::Country;
use crate::organisations::types::Organisation;
use crate::plans::types::{
    Plan, PlanAction, PlanComment, PlanIndicator, PlanVersion, ProgressUpdate,
};
use crate::policy::scope;
use crate::practices::types::GoodPractice;
use crate::users::types::User;
use crate::vocabulary::types::VocabularyTerm;

/// An object with a global id (Relay Global Object Identification).
// One value per lookup, never stored in bulk: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "&ID",
    desc = "Opaque global id, usable with `node(id:)`."
))]
pub enum Node {
    Organisation(Organisation),
    User(User),
    Edition(Edition),
    Phase(Phase),
    Application(Application),
    StatusChange(StatusChange),
    MentorAssignment(MentorAssignment),
    MentoringSession(MentoringSession),
    Plan(Plan),
    PlanAction(PlanAction),
    PlanIndicator(PlanIndicator),
    PlanComment(PlanComment),
    PlanVersion(PlanVersion),
    ProgressUpdate(ProgressUpdate),
    Criterion(Criterion),
    AssessorAssignment(AssessorAssignment),
    Assessment(Assessment),
    JuryAssignment(JuryAssignment),
    AuditEntry(AuditEntry),
    Country(Country),
    Pearl(Pearl),
    VocabularyTerm(VocabularyTerm),
    GoodPractice(GoodPractice),
    Event(crate::events::types::Event),
    Participation(crate::events::types::Participation),
    PeerLearningGroup(crate::peers::types::PeerLearningGroup),
    ReportingPeriod(crate::reporting::types::ReportingPeriod),
    WorkPackage(crate::reporting::types::WorkPackage),
    Activity(crate::reporting::types::Activity),
    Deliverable(crate::reporting::types::Deliverable),
    Output(crate::reporting::types::Output),
    Indicator(crate::reporting::types::Indicator),
    IndicatorContribution(crate::reporting::types::IndicatorContribution),
    PartnerReport(crate::reporting::types::PartnerReport),
    IntegrationToken(crate::integrations::graphql::IntegrationToken),
}

/// Resolves one global id for the caller; NOT_FOUND for unknown ids and for objects outside the
/// caller's scope alike, so the answer never tells which.
async fn resolve(rc: &RequestContext, id: &ID, field: &str) -> AppResult<Node> {
    let nf = || AppError::not_found("object");
    let db = rc.db();
    let (ty, key) = ids::split(id, field)?;
    if ty == "Country" {
        // Reference data, public; keyed by its ISO code.
        return entity::country::Entity::find_by_id(key)
            .one(db)
            .await?
            .map(|c| Node::Country(c.into()))
            .ok_or_else(nf);
    }
    let (ty, uuid) = ids::decode_any(id, field)?;
    let actor = &rc.actor;
    // One row by id through its scope.
    macro_rules! scoped {
        ($scope:ident, $module:ident) => {
            scope::$scope(actor)
                .filter(entity::$module::Column::Id.eq(uuid))
                .one(db)
                .await?
                .ok_or_else(nf)?
                .into()
        };
    }
    Ok(match ty.as_str() {
        "Organisation" => Node::Organisation(
            rc.loaders
                .load_one(OrganisationById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "User" => Node::User(
            rc.loaders
                .load_one(UserById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "Edition" => Node::Edition(
            rc.loaders
                .load_one(EditionById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "Application" => Node::Application(
            rc.loaders
                .load_one(ApplicationById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "Phase" => Node::Phase(
            scope::phases(actor)
                .filter(entity::phase::Column::Id.eq(uuid))
                .one(db)
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "StatusChange" => Node::StatusChange(
            scope::status_changes(actor)
                .filter(entity::application_status_change::Column::Id.eq(uuid))
                .one(db)
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "MentorAssignment" => Node::MentorAssignment(
            scope::mentor_assignments(actor)
                .filter(entity::mentor_assignment::Column::Id.eq(uuid))
                .one(db)
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "MentoringSession" => Node::MentoringSession(
            scope::mentoring_sessions(actor)
                .filter(entity::mentoring_session::Column::Id.eq(uuid))
                .one(db)
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "Plan" => Node::Plan(
            rc.loaders
                .load_one(PlanById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "PlanAction" => Node::PlanAction(scoped!(plan_actions, plan_action)),
        "PlanIndicator" => Node::PlanIndicator(scoped!(plan_indicators, plan_indicator)),
        "PlanComment" => Node::PlanComment(scoped!(plan_comments, plan_comment)),
        "PlanVersion" => Node::PlanVersion(scoped!(plan_versions, plan_version)),
        "ProgressUpdate" => Node::ProgressUpdate(scoped!(progress_updates, progress_update)),
        "Criterion" => Node::Criterion(
            rc.loaders
                .load_one(CriterionById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "AssessorAssignment" => {
            Node::AssessorAssignment(scoped!(assessor_assignments, assessor_assignment))
        }
        "Assessment" => Node::Assessment(scoped!(assessments, assessment)),
        "JuryAssignment" => Node::JuryAssignment(scoped!(jury_assignments, jury_assignment)),
        "VocabularyTerm" => Node::VocabularyTerm(
            rc.loaders
                .load_one(crate::graphql::loaders::TermById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "GoodPractice" => Node::GoodPractice(
            rc.loaders
                .load_one(crate::graphql::loaders::PracticeById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "Event" => Node::Event(
            rc.loaders
                .load_one(crate::graphql::loaders::EventById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "Participation" => Node::Participation(scoped!(participations, participation)),
        "PeerLearningGroup" => Node::PeerLearningGroup(
            rc.loaders
                .load_one(crate::graphql::loaders::GroupById(uuid))
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "Pearl" => Node::Pearl(
            crate::applications::pearls::pearls(db, |s| {
                s.filter(entity::application::Column::Id.eq(uuid))
            })
            .await?
            .into_iter()
            .next()
            .ok_or_else(nf)?,
        ),
        "AuditEntry" => Node::AuditEntry(
            scope::audit_entries(actor)
                .filter(entity::audit_entry::Column::Id.eq(uuid))
                .one(db)
                .await?
                .ok_or_else(nf)?
                .into(),
        ),
        "ReportingPeriod" => Node::ReportingPeriod(scoped!(reporting_periods, reporting_period)),
        "WorkPackage" => Node::WorkPackage(scoped!(work_packages, work_package)),
        "Activity" => Node::Activity(scoped!(activities, activity)),
        "Deliverable" => Node::Deliverable(scoped!(deliverables, deliverable)),
        "Output" => Node::Output(scoped!(outputs, output)),
        "Indicator" => Node::Indicator(scoped!(indicators, indicator)),
        "IndicatorContribution" => {
            Node::IndicatorContribution(scoped!(contributions, indicator_contribution))
        }
        "PartnerReport" => Node::PartnerReport(scoped!(partner_reports, partner_report)),
        "IntegrationToken" => {
            Node::IntegrationToken(scoped!(integration_tokens, integration_token))
        }
        _ => return Err(nf()),
    })
}

/// `node` and `nodes`.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; NOT_FOUND if it does not exist or the caller may not see it.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> Result<Option<Node>> {
        Ok(Some(resolve(req(ctx), &id, "id").await?))
    }

    /// Several objects by global id (at most 100), in the order asked; each one the caller may
    /// not see is `null` with a NOT_FOUND error at its index.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(AppError::bad_input("ids", "at most 100 ids").into());
        }
        let rc = req(ctx);
        let key = ctx.item.node.response_key().node.to_string();
        // Resolved concurrently so that the DataLoaders batch the lookups per type.
        let results =
            futures_util::future::join_all(ids.iter().map(|id| resolve(rc, id, "ids"))).await;
        let mut out = Vec::with_capacity(ids.len());
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(n) => out.push(Some(n)),
                Err(e) => {
                    let mut err: ServerError =
                        async_graphql::Error::from(e).into_server_error(ctx.item.pos);
                    err.path = vec![PathSegment::Field(key.clone()), PathSegment::Index(i)];
                    ctx.add_error(err);
                    out.push(None);
                }
            }
        }
        Ok(out)
    }
}
