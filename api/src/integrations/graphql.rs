//! Integration-token administration (coordinators).

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use entity::integration_token;
use sea_orm::QueryOrder;

use crate::domain::NonEmptyText;
use crate::error::AppError;
use crate::graphql::context::req;
use crate::graphql::ids;
use crate::graphql::loaders::UserById;
use crate::graphql::scalars::Timestamp;
use crate::policy::{rules, scope};
use crate::users::types::User;

/// What a token may read.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TokenScope {
    /// `kpi:read`: the `kpis` query, as a partner sees it.
    KpiRead,
    /// `reporting:read`: the reporting queries and the period exports.
    ReportingRead,
}

impl TokenScope {
    fn name(self) -> &'static str {
        match self {
            TokenScope::KpiRead => super::KPI_READ,
            TokenScope::ReportingRead => super::REPORTING_READ,
        }
    }
}

/// A read-only token of an integration (its secret is shown only when it is created).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct IntegrationToken {
    /// Opaque global id.
    pub id: ID,
    /// What it is for, e.g. "Jems reporting sync".
    pub name: String,
    /// What it may read.
    pub scopes: Vec<TokenScope>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    #[graphql(skip)]
    pub created_by: Option<uuid::Uuid>,
}

impl From<integration_token::Model> for IntegrationToken {
    fn from(m: integration_token::Model) -> Self {
        Self {
            id: ids::encode("IntegrationToken", m.id),
            name: m.name,
            scopes: m
                .scopes
                .split_whitespace()
                .filter_map(|s| match s {
                    super::KPI_READ => Some(TokenScope::KpiRead),
                    super::REPORTING_READ => Some(TokenScope::ReportingRead),
                    _ => None,
                })
                .collect(),
            created_at: m.created_at.into(),
            expires_at: m.expires_at.map(Into::into),
            last_used_at: m.last_used_at.map(Into::into),
            revoked_at: m.revoked_at.map(Into::into),
            created_by: m.created_by,
        }
    }
}

#[ComplexObject]
impl IntegrationToken {
    /// The coordinator who created it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.created_by else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(UserById(id))
            .await?
            .map(User::from))
    }
}

/// Integration-token queries.
#[derive(Default)]
pub struct IntegrationQuery;

#[Object]
impl IntegrationQuery {
    /// Every integration token, newest first (coordinators only).
    async fn integration_tokens(&self, ctx: &Context<'_>) -> Result<Vec<IntegrationToken>> {
        let rc = req(ctx);
        rules::manage_integrations(&rc.actor)?;
        let rows = scope::integration_tokens(&rc.actor)
            .order_by_desc(integration_token::Column::CreatedAt)
            .all(rc.db())
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// Input of `createIntegrationToken`.
#[derive(InputObject)]
pub struct CreateIntegrationTokenInput {
    /// What it is for (1–200 characters).
    pub name: String,
    /// What it may read.
    pub scopes: Vec<TokenScope>,
    /// When it stops working (omit: until revoked).
    pub expires_at: Option<Timestamp>,
}

/// Result of `createIntegrationToken`.
#[derive(SimpleObject)]
pub struct CreateIntegrationTokenPayload {
    /// The token.
    pub token: IntegrationToken,
    /// The secret to send as `Authorization: Bearer <secret>`: shown this once, never again.
    pub secret: String,
}

/// Input of `revokeIntegrationToken`.
#[derive(InputObject)]
pub struct RevokeIntegrationTokenInput {
    /// The token.
    pub id: ID,
}

/// Result of `revokeIntegrationToken`.
#[derive(SimpleObject)]
pub struct IntegrationTokenPayload {
    /// The token as it is now.
    pub token: IntegrationToken,
}

/// Integration-token mutations (coordinators).
#[derive(Default)]
pub struct IntegrationMutation;

#[Object]
impl IntegrationMutation {
    /// Creates a scoped, read-only token for an integration; the secret is shown only now.
    async fn create_integration_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateIntegrationTokenInput,
    ) -> Result<Option<CreateIntegrationTokenPayload>> {
        let rc = req(ctx);
        rules::manage_integrations(&rc.actor)?;
        let name = NonEmptyText::parse("name", &input.name, 200)?;
        let scopes = input.scopes.iter().map(|s| s.name()).collect();
        let (token, secret) = super::create(
            rc.db(),
            &rc.actor,
            name,
            scopes,
            input.expires_at.map(|t| t.0),
        )
        .await?;
        Ok(Some(CreateIntegrationTokenPayload {
            token: token.into(),
            secret,
        }))
    }

    /// Revokes a token: it stops working at once.
    async fn revoke_integration_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: RevokeIntegrationTokenInput,
    ) -> Result<Option<IntegrationTokenPayload>> {
        let rc = req(ctx);
        rules::manage_integrations(&rc.actor)?;
        let id = ids::decode(&input.id, "IntegrationToken", "id")?;
        let token = super::revoke(rc.db(), &rc.actor, id).await?;
        Ok(Some(IntegrationTokenPayload {
            token: token.into(),
        }))
    }
}
