//! User queries (`me`, `users`, `user`) and the coordinator's user administration.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::user;
use sea_orm::{ColumnTrait, Condition, Order, QueryFilter};

use super::service::{self, NewUser};
use super::types::{User, UserConnection, UserFilter, UserOrder};
use crate::domain::{Email, NonEmptyText};
use crate::error::AppError;
use crate::graphql::connection::{PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::graphql::enums::Role;
use crate::graphql::filter::contains;
use crate::graphql::ids;
use crate::graphql::loaders::UserById;
use crate::graphql::planner::{self, Planned, USER};
use crate::graphql::scalars::CountryCode;
use crate::policy::scope;

/// The connection's type names, for a planned page.
const TYPES: planner::ConnectionTypes = planner::ConnectionTypes {
    connection: "UserConnection",
    edge: "UserEdge",
};

/// User queries.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user; UNAUTHENTICATED without a valid token.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let rc = req(ctx);
        let p = rc.actor.principal()?;
        if let Some(me) = rc.user.as_ref().filter(|u| u.id == p.user_id) {
            return Ok(Some(me.clone().into()));
        }
        let me = rc
            .loaders
            .load_one(UserById(p.user_id))
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        Ok(Some(me.into()))
    }

    /// Users the caller may see (DOMAIN.md), filtered and ordered (default: by name).
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<UserFilter>,
        #[graphql(desc = "Ordering criteria, applied in turn.")] order_by: Option<Vec<UserOrder>>,
    ) -> Result<Option<Planned<UserConnection>>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let mut select = scope::users(&rc.actor);
        if let Some(f) = filter {
            if let Some(roles) = f.role {
                select = select
                    .filter(user::Column::Role.is_in(roles.into_iter().map(entity::Role::from)));
            }
            if let Some(org) = f.organisation_id {
                let org = ids::decode(&org, "Organisation", "filter.organisationId")?;
                select = select.filter(user::Column::OrganisationId.eq(org));
            }
            if let Some(active) = f.active {
                select = select.filter(user::Column::Active.eq(active));
            }
            if let Some(text) = f.search.filter(|t| !t.trim().is_empty()) {
                select = select.filter(
                    Condition::any()
                        .add(contains(user::Column::Name, text.trim()))
                        .add(contains(user::Column::Email, text.trim())),
                );
            }
        }
        let order = order_with_tiebreak(
            order_by
                .unwrap_or_default()
                .iter()
                .map(UserOrder::column)
                .collect(),
            (user::Column::Name, Order::Asc),
            user::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        if rc.state.config.planner
            && let Some(built) =
                planner::connection(ctx, &USER, &TYPES, select.clone(), &order, &args).await?
        {
            return Ok(Some(Planned::built(built)));
        }
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Some(Planned::Resolved(UserConnection::from_page(
            page,
            total,
            User::from,
        ))))
    }

    /// One user by id (NOT_FOUND when the caller may not see them).
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's global id.")] id: ID,
    ) -> Result<Option<User>> {
        let uuid = ids::decode(&id, "User", "id")?;
        let found = req(ctx)
            .loaders
            .load_one(UserById(uuid))
            .await?
            .ok_or_else(|| AppError::not_found("user"))?;
        Ok(Some(found.into()))
    }
}

/// Input of `createUser`.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Sign-in e-mail address (unique, case-insensitive).
    pub email: String,
    /// Full name.
    pub name: String,
    /// Role of the new user.
    pub role: Role,
    /// Organisation the user works for (required for municipality and partner users).
    pub organisation_id: Option<ID>,
    /// Country a mentor is responsible for.
    pub country_code: Option<CountryCode>,
    /// Initial password (at least 10 characters); the user should change it.
    pub password: String,
}

/// Result of `createUser`.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// The new user.
    pub user: User,
}

/// Input of `deactivateUser`.
#[derive(InputObject)]
pub struct DeactivateUserInput {
    /// The user to deactivate.
    pub id: ID,
}

/// Result of `deactivateUser`.
#[derive(SimpleObject)]
pub struct DeactivateUserPayload {
    /// The deactivated user.
    pub user: User,
}

/// Input of `changeUserRole`.
#[derive(InputObject)]
pub struct ChangeUserRoleInput {
    /// The user to change.
    pub id: ID,
    /// The new role.
    pub role: Role,
    /// A new organisation, if the role needs a different one.
    pub organisation_id: Option<ID>,
    /// The `version` the change is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
}

/// Result of `changeUserRole`.
#[derive(SimpleObject)]
pub struct ChangeUserRolePayload {
    /// The changed user.
    pub user: User,
}

/// The coordinator's user administration.
#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Creates a user account (coordinators only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateUserInput,
    ) -> Result<Option<CreateUserPayload>> {
        let rc = req(ctx);
        crate::policy::rules::manage_users(&rc.actor)?;
        let organisation_id = input
            .organisation_id
            .as_ref()
            .map(|id| ids::decode(id, "Organisation", "organisationId"))
            .transpose()?;
        let new = NewUser {
            email: Email::parse("email", &input.email)?,
            name: NonEmptyText::parse("name", &input.name, 200)?,
            role: input.role.into(),
            organisation_id,
            country_code: input.country_code.map(|c| c.0),
            password: input.password,
        };
        let user = service::create_user(rc.db(), &rc.state.passwords, &rc.actor, new).await?;
        Ok(Some(CreateUserPayload { user: user.into() }))
    }

    /// Deactivates a user: sign-in and existing sessions stop working (coordinators only).
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: DeactivateUserInput,
    ) -> Result<Option<DeactivateUserPayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.id, "User", "id")?;
        let user = service::deactivate_user(rc.db(), &rc.actor, id).await?;
        Ok(Some(DeactivateUserPayload { user: user.into() }))
    }

    /// Changes a user's role and, if needed, organisation (coordinators only).
    async fn change_user_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: ChangeUserRoleInput,
    ) -> Result<Option<ChangeUserRolePayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.id, "User", "id")?;
        let org = input
            .organisation_id
            .as_ref()
            .map(|o| ids::decode(o, "Organisation", "organisationId"))
            .transpose()?;
        let user = service::change_role(
            rc.db(),
            &rc.actor,
            id,
            input.role.into(),
            org.map(Some),
            input.expected_version,
        )
        .await?;
        Ok(Some(ChangeUserRolePayload { user: user.into() }))
    }
}
