//! Peer-learning queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::{edition, peer_learning_group, peer_learning_member};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Order, QueryFilter};

use super::service::{self, GroupFields};
use super::types::{PeerLearningGroup, PeerLearningGroupConnection};
use crate::error::AppError;
use crate::graphql::connection::{PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::graphql::enums::PeerRole;
use crate::graphql::ids;
use crate::policy::scope;

/// Which groups to list; all conditions must hold.
#[derive(InputObject, Default)]
pub struct PeerLearningGroupFilter {
    /// Only groups of these title years' editions.
    pub edition_year: Option<Vec<i32>>,
    /// Only groups this municipality belongs to.
    pub organisation_id: Option<ID>,
    /// Only groups this mentor facilitates.
    pub facilitator_id: Option<ID>,
}

/// Peer-learning queries.
#[derive(Default)]
pub struct PeerQuery;

#[Object]
impl PeerQuery {
    /// Peer-learning groups the caller may see (coordinators and partners all; mentors those
    /// they facilitate or their mentees belong to; municipalities their own), newest first.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn peer_learning_groups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<PeerLearningGroupFilter>,
    ) -> Result<Option<PeerLearningGroupConnection>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let mut select = scope::peer_learning_groups(&rc.actor);
        if let Some(f) = filter {
            if let Some(years) = f.edition_year {
                select = select.filter(
                    peer_learning_group::Column::EditionId.in_subquery(
                        Query::select()
                            .column(edition::Column::Id)
                            .from(edition::Entity)
                            .and_where(edition::Column::TitleYear.is_in(years))
                            .to_owned(),
                    ),
                );
            }
            if let Some(org) = f.organisation_id {
                let org = ids::decode(&org, "Organisation", "filter.organisationId")?;
                select = select.filter(
                    peer_learning_group::Column::Id.in_subquery(
                        Query::select()
                            .column(peer_learning_member::Column::GroupId)
                            .from(peer_learning_member::Entity)
                            .and_where(peer_learning_member::Column::OrganisationId.eq(org))
                            .to_owned(),
                    ),
                );
            }
            if let Some(m) = f.facilitator_id {
                let m = ids::decode(&m, "User", "filter.facilitatorId")?;
                select = select.filter(peer_learning_group::Column::FacilitatorId.eq(m));
            }
        }
        let order = order_with_tiebreak(
            vec![],
            (peer_learning_group::Column::CreatedAt, Order::Desc),
            peer_learning_group::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Some(PeerLearningGroupConnection::from_page(
            page,
            total,
            PeerLearningGroup::from,
        )))
    }
}

/// A member of a group, as input.
#[derive(InputObject)]
pub struct PeerLearningMemberInput {
    /// The municipality.
    pub organisation_id: ID,
    /// Shares, or learns.
    pub role: PeerRole,
}

/// A group's content (an edit replaces all of it).
#[derive(InputObject)]
pub struct PeerLearningGroupInput {
    /// Name (1–200 characters).
    pub name: String,
    /// What the group works on (up to 5000 characters).
    #[graphql(default)]
    pub description: String,
    /// The edition, if any.
    pub edition_id: Option<ID>,
    /// The facilitating mentor (a mentor forming a group facilitates it: leave it out).
    pub facilitator_id: Option<ID>,
    /// At least one municipality that shares and one that learns.
    pub members: Vec<PeerLearningMemberInput>,
}

impl PeerLearningGroupInput {
    fn parse(self) -> Result<GroupFields, AppError> {
        let members = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                ids::decode(
                    &m.organisation_id,
                    "Organisation",
                    &format!("members.{i}.organisationId"),
                )
                .map(|o| (o, m.role.into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        GroupFields::parse(
            &self.name,
            &self.description,
            self.edition_id
                .map(|e| ids::decode(&e, "Edition", "editionId"))
                .transpose()?,
            self.facilitator_id
                .map(|f| ids::decode(&f, "User", "facilitatorId"))
                .transpose()?,
            members,
        )
    }
}

/// Input of `createPeerLearningGroup`.
#[derive(InputObject)]
pub struct CreatePeerLearningGroupInput {
    /// The group.
    pub group: PeerLearningGroupInput,
}

/// Input of `updatePeerLearningGroup`.
#[derive(InputObject)]
pub struct UpdatePeerLearningGroupInput {
    /// The group.
    pub id: ID,
    /// The `version` the edit is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// Its new content.
    pub group: PeerLearningGroupInput,
}

/// Result of a peer-learning mutation.
#[derive(SimpleObject)]
pub struct PeerLearningGroupPayload {
    /// The group as it is now.
    pub group: PeerLearningGroup,
}

/// Peer-learning mutations.
#[derive(Default)]
pub struct PeerMutation;

#[Object]
impl PeerMutation {
    /// Forms a peer-learning group (coordinators; mentors, who then facilitate it).
    async fn create_peer_learning_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreatePeerLearningGroupInput,
    ) -> Result<Option<PeerLearningGroupPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let f = input.group.parse()?;
        let g = service::create(rc.db(), &rc.actor, f).await?;
        Ok(Some(PeerLearningGroupPayload { group: g.into() }))
    }

    /// Changes a group (coordinators; its facilitating mentor).
    async fn update_peer_learning_group(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdatePeerLearningGroupInput,
    ) -> Result<Option<PeerLearningGroupPayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let id = ids::decode(&input.id, "PeerLearningGroup", "id")?;
        let f = input.group.parse()?;
        let g = service::update(rc.db(), &rc.actor, id, input.expected_version, f).await?;
        Ok(Some(PeerLearningGroupPayload { group: g.into() }))
    }
}
