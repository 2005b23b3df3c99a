//! Edition queries.

use async_graphql::{Context, Object, Result};
use entity::edition;
use sea_orm::{ColumnTrait, Order, QueryFilter};

use super::types::{Edition, EditionConnection, EditionFilter, EditionOrder};
use crate::error::AppError;
use crate::graphql::connection::{PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::graphql::planner::{self, EDITION, Planned};
use crate::policy::scope;

const TYPES: planner::ConnectionTypes = planner::ConnectionTypes {
    connection: "EditionConnection",
    edge: "EditionEdge",
};

/// Edition queries.
#[derive(Default)]
pub struct EditionQuery;

#[Object]
impl EditionQuery {
    /// Editions, newest title year first unless `orderBy` says otherwise. Public.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn editions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<EditionFilter>,
        #[graphql(desc = "Ordering criteria, applied in turn.")] order_by: Option<
            Vec<EditionOrder>,
        >,
    ) -> Result<Option<Planned<EditionConnection>>> {
        let rc = req(ctx);
        let mut select = scope::editions(&rc.actor);
        if let Some(f) = filter {
            if let Some(from) = f.title_year_from {
                select = select.filter(edition::Column::TitleYear.gte(from));
            }
            if let Some(to) = f.title_year_to {
                select = select.filter(edition::Column::TitleYear.lte(to));
            }
        }
        let order = order_with_tiebreak(
            order_by
                .unwrap_or_default()
                .iter()
                .map(EditionOrder::column)
                .collect(),
            (edition::Column::TitleYear, Order::Desc),
            edition::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        if rc.state.config.planner
            && let Some(built) =
                planner::connection(ctx, &EDITION, &TYPES, select.clone(), &order, &args).await?
        {
            return Ok(Some(Planned::built(built)));
        }
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Some(Planned::Resolved(EditionConnection::from_page(
            page,
            total,
            Edition::from,
        ))))
    }

    /// The edition of a title year (NOT_FOUND if there is none).
    async fn edition(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The title year, e.g. 2024.")] year: i32,
    ) -> Result<Option<Edition>> {
        let rc = req(ctx);
        let found = scope::editions(&rc.actor)
            .filter(edition::Column::TitleYear.eq(year))
            .one(rc.db())
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::NotFound(format!("there is no {year} edition")))?;
        Ok(Some(found.into()))
    }
}

/// An award policy as input.
#[derive(async_graphql::InputObject)]
pub struct AwardPolicyInput {
    /// Maximum number of titles, extras included (1–100).
    pub award_cap: i32,
    /// At most one title per country (except the extras).
    pub one_per_country: bool,
    /// Titles that may ignore the country rule (0 to the cap).
    pub extra_awards: i32,
}

impl AwardPolicyInput {
    fn parse(&self) -> Result<super::service::AwardPolicy, AppError> {
        super::service::AwardPolicy::parse(self.award_cap, self.one_per_country, self.extra_awards)
    }
}

/// Input of `createEdition`.
#[derive(async_graphql::InputObject)]
pub struct CreateEditionInput {
    /// The title year (unique).
    pub title_year: i32,
    /// Display name.
    pub name: String,
    /// The award rule.
    pub award_policy: AwardPolicyInput,
}

/// Input of `updateEdition`; omitted fields stay as they are.
#[derive(async_graphql::InputObject)]
pub struct UpdateEditionInput {
    /// The edition.
    pub id: async_graphql::ID,
    /// The `version` the change is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// New display name.
    pub name: Option<String>,
    /// New award rule (not below the titles already awarded).
    pub award_policy: Option<AwardPolicyInput>,
    /// Why (1–1000 characters): required when the award rule changes, and kept in the audit
    /// log with the rule before and after.
    pub reason: Option<String>,
}

/// Input of `setPhase`.
#[derive(async_graphql::InputObject)]
pub struct SetPhaseInput {
    /// The edition.
    pub edition_id: async_graphql::ID,
    /// Which phase.
    pub kind: crate::graphql::enums::PhaseKind,
    /// When it opens.
    pub starts_at: crate::graphql::scalars::Timestamp,
    /// When it closes (the deadline the server enforces).
    pub ends_at: crate::graphql::scalars::Timestamp,
    /// Why (1–1000 characters): required once the edition has started (any of its phases has
    /// opened), and kept in the audit log with the dates before and after.
    pub reason: Option<String>,
}

/// Input of `extendDeadline`.
#[derive(async_graphql::InputObject)]
pub struct ExtendDeadlineInput {
    /// The application that gets more time.
    pub application_id: async_graphql::ID,
    /// The phase whose deadline moves (e.g. CALL for the submission).
    pub phase: crate::graphql::enums::PhaseKind,
    /// The new deadline for this application (in the future: an extension cannot be granted
    /// after the fact).
    pub until: crate::graphql::scalars::Timestamp,
    /// Why (kept in the audit log).
    pub reason: String,
}

/// Result of an edition mutation.
#[derive(async_graphql::SimpleObject)]
pub struct EditionPayload {
    /// The edition as it is now.
    pub edition: Edition,
}

/// Result of `setPhase`.
#[derive(async_graphql::SimpleObject)]
pub struct PhasePayload {
    /// The phase as it is now.
    pub phase: super::types::Phase,
}

/// Result of `extendDeadline`.
#[derive(async_graphql::SimpleObject)]
pub struct ExtendDeadlinePayload {
    /// The application's deadline for the phase.
    pub extended_until: crate::graphql::scalars::Timestamp,
}

/// Edition administration (coordinators).
#[derive(Default)]
pub struct EditionMutation;

#[Object]
impl EditionMutation {
    /// Creates the edition of a title year with its award policy (coordinators only).
    async fn create_edition(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateEditionInput,
    ) -> Result<Option<EditionPayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_editions(&rc.actor)?;
        let name = crate::domain::NonEmptyText::parse("name", &input.name, 200)?;
        let policy = input.award_policy.parse()?;
        let ed = super::service::create(rc.db(), &rc.actor, input.title_year, name, policy).await?;
        Ok(Some(EditionPayload { edition: ed.into() }))
    }

    /// Renames an edition or changes its award policy (coordinators only).
    async fn update_edition(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateEditionInput,
    ) -> Result<Option<EditionPayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_editions(&rc.actor)?;
        let id = crate::graphql::ids::decode(&input.id, "Edition", "id")?;
        let name = input
            .name
            .map(|n| crate::domain::NonEmptyText::parse("name", &n, 200))
            .transpose()?;
        let policy = input
            .award_policy
            .as_ref()
            .map(AwardPolicyInput::parse)
            .transpose()?;
        let reason = input
            .reason
            .filter(|r| !r.trim().is_empty())
            .map(|r| crate::domain::NonEmptyText::parse("reason", &r, 1000))
            .transpose()?;
        let change = super::service::EditionChange {
            name,
            policy,
            reason,
        };
        let ed =
            super::service::update(rc.db(), &rc.actor, id, input.expected_version, change).await?;
        Ok(Some(EditionPayload { edition: ed.into() }))
    }

    /// Sets the dates of one phase of an edition (coordinators only).
    async fn set_phase(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SetPhaseInput,
    ) -> Result<Option<PhasePayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_editions(&rc.actor)?;
        let id = crate::graphql::ids::decode(&input.edition_id, "Edition", "editionId")?;
        let reason = input
            .reason
            .filter(|r| !r.trim().is_empty())
            .map(|r| crate::domain::NonEmptyText::parse("reason", &r, 1000))
            .transpose()?;
        let dates = super::service::PhaseDates {
            kind: input.kind.into(),
            starts_at: input.starts_at.0,
            ends_at: input.ends_at.0,
            reason,
        };
        let phase =
            super::service::set_phase(rc.db(), &rc.actor, id, dates, rc.state.clock.now()).await?;
        Ok(Some(PhasePayload {
            phase: phase.into(),
        }))
    }

    /// Gives one application more time in one phase (coordinators only; audited with the reason).
    async fn extend_deadline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ExtendDeadlineInput,
    ) -> Result<Option<ExtendDeadlinePayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_editions(&rc.actor)?;
        let app =
            crate::graphql::ids::decode(&input.application_id, "Application", "applicationId")?;
        let reason = crate::domain::NonEmptyText::parse("reason", &input.reason, 2000)?;
        let ext = super::service::extend_deadline(
            rc.db(),
            &rc.actor,
            app,
            input.phase.into(),
            input.until.0,
            reason,
            rc.state.clock.now(),
        )
        .await?;
        Ok(Some(ExtendDeadlinePayload {
            extended_until: ext.extended_until.into(),
        }))
    }
}
