//! The `Organisation` GraphQL type.

use crate::graphql::scalars::Timestamp;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use entity::organisation;
use sea_orm::Order;

use crate::graphql::connection::OrderDirection;
use crate::graphql::context::req;
use crate::graphql::enums::OrganisationKind;
use crate::graphql::ids;
use crate::graphql::loaders::MembersOf;
use crate::graphql::scalars::CountryCode;
use crate::users::types::User;

/// An organisation taking part in the programme: the lead partner, a partner, an associated
/// organisation, a municipality or an external organisation.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Organisation {
    /// Opaque global id.
    pub id: ID,
    /// What kind of organisation this is.
    pub kind: OrganisationKind,
    /// Official name.
    pub name: String,
    /// Country.
    pub country_code: CountryCode,
    /// Region (e.g. the county or planning region), if known.
    pub region: Option<String>,
    /// Population, for municipalities.
    pub population: Option<i64>,
    /// Capitals cannot apply for the title.
    pub is_capital: bool,
    /// When the organisation was registered in the portal.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
}

impl From<organisation::Model> for Organisation {
    fn from(m: organisation::Model) -> Self {
        Self {
            id: ids::encode("Organisation", m.id),
            kind: m.kind.into(),
            name: m.name,
            country_code: CountryCode(m.country_code),
            region: m.region,
            population: m.population,
            is_capital: m.is_capital,
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
            version: m.version,
            uuid: m.id,
        }
    }
}

#[ComplexObject]
impl Organisation {
    /// The organisation's users that the caller may see.
    #[graphql(complexity = "10 * child_complexity")]
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        let rows = req(ctx)
            .loaders
            .load_one(MembersOf(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(User::from).collect())
    }
}

crate::connection!(
    OrganisationConnection,
    OrganisationEdge,
    Organisation,
    "A page of organisations."
);

/// Which organisations to list; all conditions must hold.
#[derive(InputObject, Default)]
pub struct OrganisationFilter {
    /// Only these kinds.
    pub kind: Option<Vec<OrganisationKind>>,
    /// Only these countries.
    pub country_code: Option<Vec<CountryCode>>,
    /// Name contains this text (case-insensitive; at most 200 characters).
    pub name_contains: Option<String>,
}

/// Fields organisations can be ordered by.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum OrganisationOrderField {
    /// By name.
    Name,
    /// By country code.
    CountryCode,
    /// By registration time.
    CreatedAt,
}

/// One ordering criterion for organisations.
#[derive(InputObject)]
pub struct OrganisationOrder {
    /// The field.
    pub field: OrganisationOrderField,
    /// The direction (default ascending).
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl OrganisationOrder {
    pub fn column(&self) -> (organisation::Column, Order) {
        let col = match self.field {
            OrganisationOrderField::Name => organisation::Column::Name,
            OrganisationOrderField::CountryCode => organisation::Column::CountryCode,
            OrganisationOrderField::CreatedAt => organisation::Column::CreatedAt,
        };
        (col, self.direction.sql())
    }
}
