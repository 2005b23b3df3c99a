//! `PeerLearningGroup` and its members.

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use entity::{peer_learning_group, peer_learning_member};

use crate::editions::types::Edition;
use crate::graphql::context::req;
use crate::graphql::enums::PeerRole;
use crate::graphql::ids;
use crate::graphql::loaders::{EditionById, MembersOfGroup, OrganisationById, UserById};
use crate::graphql::scalars::Timestamp;
use crate::organisations::types::Organisation;
use crate::users::types::User;

/// A peer-learning pair or group: who learns from whom, with the mentor who facilitates.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PeerLearningGroup {
    /// Opaque global id.
    pub id: ID,
    /// Name, e.g. "Harbour towns".
    pub name: String,
    /// What the group works on.
    pub description: String,
    /// When it was formed.
    pub created_at: Timestamp,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub model: peer_learning_group::Model,
}

impl From<peer_learning_group::Model> for PeerLearningGroup {
    fn from(m: peer_learning_group::Model) -> Self {
        Self {
            id: ids::encode("PeerLearningGroup", m.id),
            name: m.name.clone(),
            description: m.description.clone(),
            created_at: m.created_at.into(),
            version: m.version,
            model: m,
        }
    }
}

#[ComplexObject]
impl PeerLearningGroup {
    /// The facilitating mentor (null if the caller may not see that user).
    async fn facilitator(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.model.facilitator_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(UserById(id))
            .await?
            .map(User::from))
    }

    /// The edition it belongs to, if any.
    async fn edition(&self, ctx: &Context<'_>) -> Result<Option<Edition>> {
        let Some(id) = self.model.edition_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(EditionById(id))
            .await?
            .map(Edition::from))
    }

    /// The municipalities and their parts.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<PeerLearningMember>> {
        let rows = req(ctx)
            .loaders
            .load_one(MembersOfGroup(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(PeerLearningMember::from).collect())
    }
}

/// A municipality in a peer-learning group.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct PeerLearningMember {
    /// It shares its experience, or it learns.
    pub role: PeerRole,
    #[graphql(skip)]
    pub organisation_id: uuid::Uuid,
}

impl From<peer_learning_member::Model> for PeerLearningMember {
    fn from(m: peer_learning_member::Model) -> Self {
        Self {
            role: m.role.into(),
            organisation_id: m.organisation_id,
        }
    }
}

#[ComplexObject]
impl PeerLearningMember {
    /// The municipality.
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(self.organisation_id))
            .await?
            .map(Organisation::from))
    }
}

crate::connection!(
    PeerLearningGroupConnection,
    PeerLearningGroupEdge,
    PeerLearningGroup,
    "A page of peer-learning groups."
);
