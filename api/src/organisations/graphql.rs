//! Queries over organisations and countries.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use entity::{country, organisation};
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder};

use super::types::{Organisation, OrganisationConnection, OrganisationFilter, OrganisationOrder};
use crate::graphql::connection::{PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::graphql::filter::contains;
use crate::graphql::planner::{self, ORGANISATION, Planned};
use crate::graphql::scalars::CountryCode;
use crate::policy::scope;

/// The connection's type names, for a planned page.
const TYPES: planner::ConnectionTypes = planner::ConnectionTypes {
    connection: "OrganisationConnection",
    edge: "OrganisationEdge",
};

/// A country of the Baltic Sea Region programme area.
#[derive(SimpleObject, Clone)]
pub struct Country {
    /// Opaque global id.
    pub id: ID,
    /// ISO 3166-1 alpha-2 code.
    pub code: CountryCode,
    /// English name.
    pub name: String,
}

impl From<country::Model> for Country {
    fn from(c: country::Model) -> Self {
        Self {
            id: crate::graphql::ids::encode_key("Country", &c.code),
            code: CountryCode(c.code),
            name: c.name,
        }
    }
}

/// Organisation queries.
#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// Organisations the caller may see, filtered and ordered (default: by name).
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<OrganisationFilter>,
        #[graphql(desc = "Ordering criteria, applied in turn.")] order_by: Option<
            Vec<OrganisationOrder>,
        >,
    ) -> Result<Planned<OrganisationConnection>> {
        let rc = req(ctx);
        let mut select = scope::organisations(&rc.actor);
        if let Some(f) = filter {
            if let Some(kinds) = f.kind {
                select = select.filter(
                    organisation::Column::Kind
                        .is_in(kinds.into_iter().map(entity::OrganisationKind::from)),
                );
            }
            if let Some(codes) = f.country_code {
                select = select.filter(
                    organisation::Column::CountryCode.is_in(codes.into_iter().map(|c| c.0)),
                );
            }
            if let Some(text) = f.name_contains.filter(|t| !t.trim().is_empty()) {
                select = select.filter(contains(organisation::Column::Name, text.trim()));
            }
        }
        let order = order_with_tiebreak(
            order_by
                .unwrap_or_default()
                .iter()
                .map(OrganisationOrder::column)
                .collect(),
            (organisation::Column::Name, Order::Asc),
            organisation::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        if rc.state.config.planner
            && let Some(built) =
                planner::connection(ctx, &ORGANISATION, &TYPES, select.clone(), &order, &args)
                    .await?
        {
            return Ok(Planned::built(built));
        }
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Planned::Resolved(OrganisationConnection::from_page(
            page,
            total,
            Organisation::from,
        )))
    }

    /// One organisation by id.
    async fn organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation's global id.")] id: ID,
    ) -> Result<Option<Organisation>> {
        let uuid = crate::graphql::ids::decode(&id, "Organisation", "id")?;
        let found = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::OrganisationById(uuid))
            .await?
            .ok_or_else(|| crate::error::AppError::not_found("organisation"))?;
        Ok(Some(found.into()))
    }

    /// The countries of the programme area, by name.
    async fn countries(&self, ctx: &Context<'_>) -> Result<Vec<Country>> {
        let rows = country::Entity::find()
            .order_by_asc(country::Column::Name)
            .all(req(ctx).db())
            .await
            .map_err(crate::error::AppError::from)?;
        Ok(rows.into_iter().map(Country::from).collect())
    }
}

/// The fields of an organisation, as `createOrganisation` and `updateOrganisation` take them.
#[derive(async_graphql::InputObject)]
pub struct OrganisationInput {
    /// What kind of organisation this is.
    pub kind: crate::graphql::enums::OrganisationKind,
    /// Official name (unique within its country).
    pub name: String,
    /// Country (must be in the programme area).
    pub country_code: CountryCode,
    /// Region, if relevant.
    pub region: Option<String>,
    /// Population, for municipalities.
    pub population: Option<i64>,
    /// Whether this is a capital (capitals cannot apply).
    #[graphql(default)]
    pub is_capital: bool,
}

impl OrganisationInput {
    fn parse(self) -> Result<super::service::OrganisationFields, crate::error::AppError> {
        use crate::domain::NonEmptyText;
        Ok(super::service::OrganisationFields {
            kind: self.kind.into(),
            name: NonEmptyText::parse("organisation.name", &self.name, 300)?,
            country_code: self.country_code.0,
            region: self
                .region
                .filter(|r| !r.trim().is_empty())
                .map(|r| NonEmptyText::parse("organisation.region", &r, 200))
                .transpose()?,
            population: super::service::check_population(self.population)?,
            is_capital: self.is_capital,
        })
    }
}

/// Input of `createOrganisation`.
#[derive(async_graphql::InputObject)]
pub struct CreateOrganisationInput {
    /// The new organisation's fields.
    pub organisation: OrganisationInput,
}

/// Input of `updateOrganisation`.
#[derive(async_graphql::InputObject)]
pub struct UpdateOrganisationInput {
    /// The organisation to change.
    pub id: ID,
    /// The `version` the change is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// All of its fields, as they should be.
    pub organisation: OrganisationInput,
}

/// Result of an organisation mutation.
#[derive(SimpleObject)]
pub struct OrganisationPayload {
    /// The organisation as it is now.
    pub organisation: Organisation,
}

/// Organisation administration (coordinators).
#[derive(Default)]
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// Registers an organisation (coordinators only).
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateOrganisationInput,
    ) -> Result<Option<OrganisationPayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_organisations(&rc.actor)?;
        let fields = input.organisation.parse()?;
        let org = super::service::create(rc.db(), &rc.actor, fields).await?;
        Ok(Some(OrganisationPayload {
            organisation: org.into(),
        }))
    }

    /// Corrects an organisation's fields (coordinators only).
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateOrganisationInput,
    ) -> Result<Option<OrganisationPayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_organisations(&rc.actor)?;
        let id = crate::graphql::ids::decode(&input.id, "Organisation", "id")?;
        let fields = input.organisation.parse()?;
        let org =
            super::service::update(rc.db(), &rc.actor, id, input.expected_version, fields).await?;
        Ok(Some(OrganisationPayload {
            organisation: org.into(),
        }))
    }
}
