//! The `User` GraphQL type and its list inputs.

use crate::graphql::scalars::Timestamp;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use entity::user;
use sea_orm::{EntityTrait, Order};

use crate::error::AppError;

use crate::graphql::connection::OrderDirection;
use crate::graphql::context::req;
use crate::graphql::enums::Role;
use crate::graphql::ids;
use crate::graphql::loaders::OrganisationById;
use crate::graphql::scalars::CountryCode;
use crate::organisations::types::Organisation;

/// A person who signs in to the portal.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct User {
    /// Opaque global id.
    pub id: ID,
    /// Sign-in and contact e-mail address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// Country a mentor is responsible for.
    pub country_code: Option<CountryCode>,
    /// Deactivated users cannot sign in and their tokens stop working.
    pub active: bool,
    /// When the account was created.
    pub created_at: Timestamp,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
    #[graphql(skip)]
    pub organisation_id: Option<uuid::Uuid>,
    /// Set on the user of a new session (`login`, `refreshSession`): the request itself is still
    /// anonymous, but a user may always see their own organisation.
    #[graphql(skip)]
    pub session_owner: bool,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        Self {
            id: ids::encode("User", m.id),
            email: m.email,
            name: m.name,
            role: m.role.into(),
            country_code: m.country_code.map(CountryCode),
            active: m.active,
            created_at: m.created_at.into(),
            version: m.version,
            uuid: m.id,
            organisation_id: m.organisation_id,
            session_owner: false,
        }
    }
}

#[ComplexObject]
impl User {
    /// The organisation the user works for.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(org) = self.organisation_id else {
            return Ok(None);
        };
        let rc = req(ctx);
        // Filled only for a signed-in user, who may read every organisation.
        if let Some(own) = rc.organisation.as_ref().filter(|o| o.id == org) {
            return Ok(Some(own.clone().into()));
        }
        if self.session_owner {
            let own = entity::organisation::Entity::find_by_id(org)
                .one(rc.db())
                .await
                .map_err(AppError::from)?;
            return Ok(own.map(Organisation::from));
        }
        Ok(rc
            .loaders
            .load_one(OrganisationById(org))
            .await?
            .map(Organisation::from))
    }
}

crate::connection!(UserConnection, UserEdge, User, "A page of users.");

/// Which users to list; all conditions must hold.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Only these roles.
    pub role: Option<Vec<Role>>,
    /// Only members of this organisation.
    pub organisation_id: Option<ID>,
    /// Only active (true) or deactivated (false) users.
    pub active: Option<bool>,
    /// Name or e-mail contains this text (case-insensitive; at most 200 characters).
    pub search: Option<String>,
}

/// Fields users can be ordered by.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum UserOrderField {
    /// By name.
    Name,
    /// By e-mail address.
    Email,
    /// By creation time.
    CreatedAt,
}

/// One ordering criterion for users.
#[derive(InputObject)]
pub struct UserOrder {
    /// The field.
    pub field: UserOrderField,
    /// The direction (default ascending).
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl UserOrder {
    pub fn column(&self) -> (user::Column, Order) {
        let col = match self.field {
            UserOrderField::Name => user::Column::Name,
            UserOrderField::Email => user::Column::Email,
            UserOrderField::CreatedAt => user::Column::CreatedAt,
        };
        (col, self.direction.sql())
    }
}
