//! `Edition`, `AwardPolicy` and `Phase`.

use crate::graphql::scalars::Timestamp;
use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use entity::{edition, phase};

use crate::graphql::context::req;
use crate::graphql::enums::PhaseKind;
use crate::graphql::ids;
use crate::graphql::loaders::PhasesOfEdition;

/// One yearly edition of the title "BSR Cultural Pearl", from the call to the title year.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Edition {
    /// Opaque global id.
    pub id: ID,
    /// The year the title is held in (unique).
    pub title_year: i32,
    /// Display name, e.g. "BSR Cultural Pearls 2024".
    pub name: String,
    /// How many titles may be awarded and under which country rule.
    pub award_policy: AwardPolicy,
    /// When the edition was created.
    pub created_at: Timestamp,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
}

/// The award rule of an edition. Nominally: the top three with at most one per country, plus one
/// extra that ignores the country rule (cap 4, one per country, 1 extra); real years differ.
#[derive(SimpleObject, Clone)]
pub struct AwardPolicy {
    /// Maximum number of titles, extras included.
    pub award_cap: i32,
    /// Whether at most one title per country applies (to all but the extras).
    pub one_per_country: bool,
    /// How many of the titles may ignore the country rule.
    pub extra_awards: i32,
}

impl From<edition::Model> for Edition {
    fn from(m: edition::Model) -> Self {
        Self {
            id: ids::encode("Edition", m.id),
            title_year: m.title_year,
            name: m.name,
            award_policy: AwardPolicy {
                award_cap: m.award_cap,
                one_per_country: m.one_per_country,
                extra_awards: m.extra_awards,
            },
            created_at: m.created_at.into(),
            version: m.version,
            uuid: m.id,
        }
    }
}

#[ComplexObject]
impl Edition {
    /// The edition's phases in chronological order.
    async fn phases(&self, ctx: &Context<'_>) -> Result<Vec<Phase>> {
        let rows = req(ctx)
            .loaders
            .load_one(PhasesOfEdition(self.uuid))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Phase::from).collect())
    }

    /// The scoring criteria, in order; all stages unless `stage` is given.
    async fn criteria(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this stage's criteria.")] stage: Option<
            crate::graphql::enums::AssessmentStage,
        >,
    ) -> Result<Vec<crate::assessment::types::Criterion>> {
        let rows = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::CriteriaOfEdition(self.uuid))
            .await?
            .unwrap_or_default();
        let stage = stage.map(entity::AssessmentStage::from);
        Ok(rows
            .into_iter()
            .filter(|c| stage.is_none_or(|s| s == c.stage))
            .map(Into::into)
            .collect())
    }

    /// The assessors of this edition the caller may see: all for coordinators, otherwise only
    /// the caller's own assignments.
    async fn assessors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this stage's assessors.")] stage: Option<
            crate::graphql::enums::AssessmentStage,
        >,
    ) -> Result<Vec<crate::assessment::types::AssessorAssignment>> {
        let rows = req(ctx)
            .loaders
            .load_one(crate::graphql::loaders::AssessorsOfEdition(self.uuid))
            .await?
            .unwrap_or_default();
        let stage = stage.map(entity::AssessmentStage::from);
        Ok(rows
            .into_iter()
            .filter(|c| stage.is_none_or(|s| s == c.stage))
            .map(Into::into)
            .collect())
    }

    /// The phase open right now, if any.
    async fn current_phase(&self, ctx: &Context<'_>) -> Result<Option<Phase>> {
        let rc = req(ctx);
        let now = rc.state.clock.now();
        let rows = rc
            .loaders
            .load_one(PhasesOfEdition(self.uuid))
            .await?
            .unwrap_or_default();
        // The answer changes when any phase opens or closes.
        for p in &rows {
            rc.cache_hints.window(now, p.starts_at, p.ends_at);
        }
        Ok(rows
            .into_iter()
            .find(|p| p.starts_at <= now && now <= p.ends_at)
            .map(Phase::from))
    }
}

/// A dated stage of an edition; the server enforces its start and end.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Phase {
    /// Opaque global id.
    pub id: ID,
    /// Which stage.
    pub kind: PhaseKind,
    /// When it opens.
    pub starts_at: Timestamp,
    /// When it closes (the deadline).
    pub ends_at: Timestamp,
}

#[ComplexObject]
impl Phase {
    /// Whether it is open right now.
    async fn is_open(&self, ctx: &Context<'_>) -> bool {
        let rc = req(ctx);
        let now = rc.state.clock.now();
        rc.cache_hints.window(now, self.starts_at.0, self.ends_at.0);
        self.starts_at.0 <= now && now <= self.ends_at.0
    }
}

impl From<phase::Model> for Phase {
    fn from(m: phase::Model) -> Self {
        Self {
            id: ids::encode("Phase", m.id),
            kind: m.kind.into(),
            starts_at: m.starts_at.into(),
            ends_at: m.ends_at.into(),
        }
    }
}

crate::connection!(
    EditionConnection,
    EditionEdge,
    Edition,
    "A page of editions."
);

/// Which editions to list; all conditions must hold.
#[derive(async_graphql::InputObject, Default)]
pub struct EditionFilter {
    /// Only title years from this one on.
    pub title_year_from: Option<i32>,
    /// Only title years up to this one.
    pub title_year_to: Option<i32>,
}

/// Fields editions can be ordered by.
#[derive(async_graphql::Enum, Copy, Clone, PartialEq, Eq)]
pub enum EditionOrderField {
    /// By title year.
    TitleYear,
    /// By creation time.
    CreatedAt,
}

/// One ordering criterion for editions.
#[derive(async_graphql::InputObject)]
pub struct EditionOrder {
    /// The field.
    pub field: EditionOrderField,
    /// The direction (default ascending).
    #[graphql(default)]
    pub direction: crate::graphql::connection::OrderDirection,
}

impl EditionOrder {
    pub fn column(&self) -> (edition::Column, sea_orm::Order) {
        let col = match self.field {
            EditionOrderField::TitleYear => edition::Column::TitleYear,
            EditionOrderField::CreatedAt => edition::Column::CreatedAt,
        };
        (col, self.direction.sql())
    }
}
