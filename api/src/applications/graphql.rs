//! Application queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::{application, edition, organisation};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SubQueryStatement};
use sea_orm::{ColumnTrait, Order, QueryFilter};

use super::lifecycle::Action;
use super::service::{self, ApplicationChanges, NewApplication, check_motivation};
use super::types::{Application, ApplicationConnection, ApplicationFilter, ApplicationOrder};
use crate::domain::NonEmptyText;
use crate::error::AppError;
use crate::graphql::connection::{PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::graphql::filter::contains;
use crate::graphql::ids;
use crate::graphql::loaders::ApplicationById;
use crate::graphql::planner::{self, APPLICATION, Planned};
use crate::graphql::scalars::Timestamp;
use crate::policy::scope;

/// The connection's type names, for a planned page.
const TYPES: planner::ConnectionTypes = planner::ConnectionTypes {
    connection: "ApplicationConnection",
    edge: "ApplicationEdge",
};

/// Longest application title, in characters.
const MAX_TITLE: usize = 200;

/// Application queries.
#[derive(Default)]
pub struct ApplicationQuery;

#[Object]
impl ApplicationQuery {
    /// Applications the caller may see (DOMAIN.md), filtered and ordered (default: newest first).
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<ApplicationFilter>,
        #[graphql(desc = "Ordering criteria, applied in turn.")] order_by: Option<
            Vec<ApplicationOrder>,
        >,
    ) -> Result<Option<Planned<ApplicationConnection>>> {
        let rc = req(ctx);
        let mut select = scope::applications(&rc.actor);
        if let Some(f) = filter {
            if let Some(years) = f.edition_year {
                let editions = Query::select()
                    .column(edition::Column::Id)
                    .from(edition::Entity)
                    .and_where(edition::Column::TitleYear.is_in(years.clone()))
                    .to_owned();
                select = select.filter(if years.len() == 1 {
                    // One edition (the usual dashboard): `= (SELECT …)` is a single value to the
                    // planner, so the page is a range of the (edition, order) index.
                    Expr::col((application::Entity, application::Column::EditionId)).eq(
                        Expr::SubQuery(
                            None,
                            Box::new(SubQueryStatement::SelectStatement(editions)),
                        ),
                    )
                } else {
                    application::Column::EditionId.in_subquery(editions)
                });
            }
            if let Some(statuses) = f.status {
                select = select.filter(
                    application::Column::Status
                        .is_in(statuses.into_iter().map(entity::ApplicationStatus::from)),
                );
            }
            if let Some(lead) = f.lead_municipality_id {
                let lead = ids::decode(&lead, "Organisation", "filter.leadMunicipalityId")?;
                select = select.filter(application::Column::LeadMunicipalityId.eq(lead));
            }
            if let Some(codes) = f.country_code {
                select = select.filter(
                    application::Column::LeadMunicipalityId.in_subquery(
                        Query::select()
                            .column(organisation::Column::Id)
                            .from(organisation::Entity)
                            .and_where(
                                organisation::Column::CountryCode
                                    .is_in(codes.into_iter().map(|c| c.0)),
                            )
                            .to_owned(),
                    ),
                );
            }
            if let Some(text) = f.title_contains.filter(|t| !t.trim().is_empty()) {
                select = select.filter(contains(application::Column::Title, text.trim()));
            }
        }
        let order = order_with_tiebreak(
            order_by
                .unwrap_or_default()
                .iter()
                .map(ApplicationOrder::column)
                .collect(),
            (application::Column::CreatedAt, Order::Desc),
            application::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        if rc.state.config.planner
            && let Some(built) =
                planner::connection(ctx, &APPLICATION, &TYPES, select.clone(), &order, &args)
                    .await?
        {
            return Ok(Some(Planned::built(built)));
        }
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Some(Planned::Resolved(ApplicationConnection::from_page(
            page,
            total,
            Application::from,
        ))))
    }

    /// One application by id (NOT_FOUND when the caller may not see it).
    async fn application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The application's global id.")] id: ID,
    ) -> Result<Option<Application>> {
        let uuid = ids::decode(&id, "Application", "id")?;
        let found = req(ctx)
            .loaders
            .load_one(ApplicationById(uuid))
            .await?
            .ok_or_else(|| AppError::not_found("application"))?;
        Ok(Some(found.into()))
    }
}

/// Input of `createApplication`.
#[derive(InputObject)]
pub struct CreateApplicationInput {
    /// Title year of the edition applied to.
    pub edition_year: i32,
    /// The lead municipality; defaults to the caller's own (required for coordinators).
    pub lead_municipality_id: Option<ID>,
    /// Working title (1–200 characters).
    pub title: String,
    /// Motivation (may stay empty while drafting; required to submit).
    #[graphql(default)]
    pub motivation: String,
    /// Co-applicant municipalities of a joint application.
    #[graphql(default)]
    pub co_applicant_ids: Vec<ID>,
}

/// Input of `updateApplication`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateApplicationInput {
    /// The application.
    pub id: ID,
    /// The `version` the edit is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// New title.
    pub title: Option<String>,
    /// New motivation.
    pub motivation: Option<String>,
    /// New list of co-applicants (replaces the old one).
    pub co_applicant_ids: Option<Vec<ID>>,
}

/// Input of a lifecycle step (`submitApplication`, `withdrawApplication`).
#[derive(InputObject)]
pub struct ApplicationTransitionInput {
    /// The application.
    pub id: ID,
    /// If given, CONFLICT unless the application still has this `version`.
    pub expected_version: Option<i32>,
    /// A note for the status history.
    pub note: Option<String>,
    /// When the decision took effect, if earlier than now — the committee met on Friday, the
    /// result is entered on Monday (coordinators only; not in the future, not before the
    /// application's previous step, and the step's phase open at that time). The status change
    /// keeps it as `effectiveAt` beside `changedAt`, the audit entry both, and the KPIs count
    /// the decision on it.
    pub effective_at: Option<Timestamp>,
}

/// Result of an application mutation.
#[derive(SimpleObject)]
pub struct ApplicationPayload {
    /// The application as it is now.
    pub application: Application,
}

fn decode_orgs(ids_in: &[ID], field: &str) -> Result<Vec<uuid::Uuid>, AppError> {
    ids_in
        .iter()
        .map(|id| ids::decode(id, "Organisation", field))
        .collect()
}

fn note(raw: Option<String>) -> Result<Option<String>, AppError> {
    raw.filter(|n| !n.trim().is_empty())
        .map(|n| NonEmptyText::parse("note", &n, 2000).map(NonEmptyText::into_inner))
        .transpose()
}

/// A step of the application lifecycle (see `Application.allowedActions`).
#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq)]
#[graphql(remote = "super::lifecycle::Action")]
pub enum ApplicationAction {
    /// DRAFT → SUBMITTED, by the lead municipality (or a coordinator) while the call is open.
    Submit,
    /// Any state before the decision → WITHDRAWN, by the lead municipality or a coordinator.
    Withdraw,
    /// SUBMITTED → ELIGIBLE, by a coordinator during pre-selection.
    ConfirmEligibility,
    /// SUBMITTED → INELIGIBLE, by a coordinator during pre-selection.
    RejectEligibility,
    /// ELIGIBLE → SHORTLISTED, by a coordinator during pre-selection.
    Shortlist,
    /// ELIGIBLE → NOT_SHORTLISTED, by a coordinator during pre-selection.
    RejectShortlist,
    /// SHORTLISTED → CUREAP_IN_DEVELOPMENT, by a coordinator in the CuReAP phase; needs a mentor.
    /// Opens the application's (empty) plan.
    StartCureap,
    /// CUREAP_IN_DEVELOPMENT → CUREAP_SUBMITTED, by the lead municipality (or a coordinator)
    /// before the CuReAP deadline; needs a complete plan, which is frozen as a numbered version.
    SubmitCureap,
    /// CUREAP_SUBMITTED → AWARDED, by a coordinator in the award phase, within the award policy.
    Award,
    /// CUREAP_SUBMITTED → NOT_AWARDED, by a coordinator in the award phase.
    Decline,
    /// AWARDED → TITLE_YEAR_ACTIVE, by a coordinator once the title year has begun.
    StartTitleYear,
    /// TITLE_YEAR_ACTIVE → TITLE_YEAR_COMPLETED, by a coordinator.
    CompleteTitleYear,
}

/// Input of `advanceApplication`.
#[derive(InputObject)]
pub struct AdvanceApplicationInput {
    /// The application.
    pub id: ID,
    /// The lifecycle step to take.
    pub action: ApplicationAction,
    /// If given, CONFLICT unless the application still has this `version`.
    pub expected_version: Option<i32>,
    /// A note for the status history (e.g. the reason of a refusal).
    pub note: Option<String>,
    /// When the decision took effect, if earlier than now (coordinators only; see
    /// `ApplicationTransitionInput.effectiveAt`).
    pub effective_at: Option<Timestamp>,
}

/// Application mutations.
#[derive(Default)]
pub struct ApplicationMutation;

#[Object]
impl ApplicationMutation {
    /// Opens a draft application for an edition whose call is open. A municipality applies for
    /// itself; one application per municipality and edition (CONFLICT otherwise).
    async fn create_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateApplicationInput,
    ) -> Result<Option<ApplicationPayload>> {
        let rc = req(ctx);
        let new = NewApplication {
            edition_year: input.edition_year,
            lead_municipality_id: input
                .lead_municipality_id
                .as_ref()
                .map(|id| ids::decode(id, "Organisation", "leadMunicipalityId"))
                .transpose()?,
            title: NonEmptyText::parse("title", &input.title, MAX_TITLE)?,
            motivation: check_motivation(&input.motivation)?,
            co_applicant_ids: decode_orgs(&input.co_applicant_ids, "coApplicantIds")?,
        };
        let app = service::create(rc.db(), &rc.state.live, &rc.actor, new).await?;
        Ok(Some(ApplicationPayload {
            application: app.into(),
        }))
    }

    /// Edits a draft application (its lead municipality or a coordinator).
    async fn update_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateApplicationInput,
    ) -> Result<Option<ApplicationPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.id, "Application", "id")?;
        let changes = ApplicationChanges {
            title: input
                .title
                .map(|t| NonEmptyText::parse("title", &t, MAX_TITLE))
                .transpose()?,
            motivation: input.motivation.map(|m| check_motivation(&m)).transpose()?,
            co_applicant_ids: input
                .co_applicant_ids
                .map(|ids| decode_orgs(&ids, "coApplicantIds"))
                .transpose()?,
        };
        let app = service::update(rc.db(), &rc.actor, id, input.expected_version, changes).await?;
        Ok(Some(ApplicationPayload {
            application: app.into(),
        }))
    }

    /// Submits a draft while the edition's call is open (CONFLICT naming the deadline after it).
    async fn submit_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ApplicationTransitionInput,
    ) -> Result<Option<ApplicationPayload>> {
        transition(ctx, input, Action::Submit).await
    }

    /// Withdraws an application before the award decision.
    async fn withdraw_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ApplicationTransitionInput,
    ) -> Result<Option<ApplicationPayload>> {
        transition(ctx, input, Action::Withdraw).await
    }

    /// Takes any lifecycle step the caller's role may take (the table is in DOMAIN.md and
    /// `ApplicationAction`); refused outside its phase (CONFLICT naming the dates), from a wrong
    /// state (CONFLICT) or for a role not allowed (FORBIDDEN).
    async fn advance_application(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: AdvanceApplicationInput,
    ) -> Result<Option<ApplicationPayload>> {
        let action = input.action.into();
        let step = ApplicationTransitionInput {
            id: input.id,
            expected_version: input.expected_version,
            note: input.note,
            effective_at: input.effective_at,
        };
        transition(ctx, step, action).await
    }

    /// Awards the title "BSR Cultural Pearl" (coordinators, award phase). Refused with CONFLICT
    /// when the edition's cap is reached or its one-per-country rule (with its extras) would be
    /// broken — also when two coordinators award at the same moment.
    async fn award_title(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ApplicationTransitionInput,
    ) -> Result<Option<ApplicationPayload>> {
        transition(ctx, input, Action::Award).await
    }

    /// Records the jury's decision not to award the title (coordinators, award phase).
    async fn decline_title(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ApplicationTransitionInput,
    ) -> Result<Option<ApplicationPayload>> {
        transition(ctx, input, Action::Decline).await
    }
}

/// Every lifecycle mutation is this one step with its action: the transition table
/// (`lifecycle.rs`) and the service decide the rest.
async fn transition(
    ctx: &Context<'_>,
    input: ApplicationTransitionInput,
    action: Action,
) -> Result<Option<ApplicationPayload>> {
    let rc = req(ctx);
    let id = ids::decode(&input.id, "Application", "id")?;
    let step = service::Step {
        expected_version: input.expected_version,
        note: note(input.note)?,
        effective_at: input.effective_at.map(|t| t.0),
    };
    let app = service::transition(rc.db(), &rc.state.live, &rc.actor, id, action, step).await?;
    Ok(Some(ApplicationPayload {
        application: app.into(),
    }))
}
