//! `GoodPractice` and the catalogue's list inputs.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use entity::{TermKind, good_practice};
use sea_orm::Order;

use crate::graphql::connection::OrderDirection;
use crate::graphql::context::req;
use crate::graphql::enums::PracticeStatus;
use crate::graphql::ids;
use crate::graphql::loaders::{OrganisationById, ReuseOfPractice, TermsOfPractice, UserById};
use crate::graphql::scalars::{CountryCode, Timestamp};
use crate::organisations::types::Organisation;
use crate::users::types::User;
use crate::vocabulary::types::VocabularyTerm;

/// A good practice of the catalogue: a case study, method or cultural tool that candidates and
/// Pearls can learn from. Published practices are public; drafts are their author's.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct GoodPractice {
    /// Opaque global id.
    pub id: ID,
    /// Title.
    pub title: String,
    /// A short summary (what, where, with whom).
    pub summary: String,
    /// The full description.
    pub body: String,
    /// The country it comes from.
    pub country_code: Option<CountryCode>,
    /// The source when it is not an organisation of the portal (free text).
    pub source_text: Option<String>,
    /// What it achieved.
    pub outcomes: String,
    /// A link to more material.
    pub link: Option<String>,
    /// Licence of the text, e.g. "CC BY 4.0".
    pub licence: String,
    /// Language of the text (ISO 639-1).
    pub language: String,
    /// Where it stands in the review.
    pub status: PracticeStatus,
    /// When it was (first) published.
    pub published_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub model: good_practice::Model,
}

impl From<good_practice::Model> for GoodPractice {
    fn from(m: good_practice::Model) -> Self {
        Self {
            id: ids::encode("GoodPractice", m.id),
            title: m.title.clone(),
            summary: m.summary.clone(),
            body: m.body.clone(),
            country_code: m.country_code.clone().map(CountryCode),
            source_text: m.source_text.clone(),
            outcomes: m.outcomes.clone(),
            link: m.link.clone(),
            licence: m.licence.clone(),
            language: m.language.clone(),
            status: m.status.into(),
            published_at: m.published_at.map(Into::into),
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
            version: m.version,
            model: m,
        }
    }
}

impl GoodPractice {
    async fn terms(&self, ctx: &Context<'_>, kind: TermKind) -> Result<Vec<VocabularyTerm>> {
        let rows = req(ctx)
            .loaders
            .load_one(TermsOfPractice(self.model.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|t| t.kind == kind)
            .map(Into::into)
            .collect())
    }
}

#[ComplexObject]
impl GoodPractice {
    /// Its themes.
    async fn themes(&self, ctx: &Context<'_>) -> Result<Vec<VocabularyTerm>> {
        self.terms(ctx, TermKind::Theme).await
    }

    /// Its methods.
    async fn methods(&self, ctx: &Context<'_>) -> Result<Vec<VocabularyTerm>> {
        self.terms(ctx, TermKind::Method).await
    }

    /// Its cultural tools.
    async fn cultural_tools(&self, ctx: &Context<'_>) -> Result<Vec<VocabularyTerm>> {
        self.terms(ctx, TermKind::CulturalTool).await
    }

    /// The organisation it comes from, if it is one of the portal's.
    async fn source_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(id) = self.model.source_organisation_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(id))
            .await?
            .map(Organisation::from))
    }

    /// Who wrote it (null if the reader may not see that user).
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.model.author_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(UserById(id))
            .await?
            .map(User::from))
    }

    /// The coordinator's comment when the practice was returned (its author and coordinators
    /// only; null for everyone else).
    async fn review_comment(&self, ctx: &Context<'_>) -> Option<String> {
        crate::policy::rules::read_review_comment(&req(ctx).actor, &self.model)
            .then(|| self.model.review_comment.clone())
            .flatten()
    }

    /// How many CuReAP plans cite this practice in at least one action.
    async fn reuse_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(req(ctx)
            .loaders
            .load_one(ReuseOfPractice(self.model.id))
            .await?
            .unwrap_or(0))
    }
}

crate::connection!(
    GoodPracticeConnection,
    GoodPracticeEdge,
    GoodPractice,
    "A page of good practices."
);

/// Which practices to list; all conditions must hold (within one list of terms, any term).
#[derive(InputObject, Default)]
pub struct PracticeFilter {
    /// Only these statuses (the caller sees drafts only of their own).
    pub status: Option<Vec<PracticeStatus>>,
    /// Tagged with any of these themes.
    pub theme_ids: Option<Vec<ID>>,
    /// Tagged with any of these methods.
    pub method_ids: Option<Vec<ID>>,
    /// Tagged with any of these cultural tools.
    pub cultural_tool_ids: Option<Vec<ID>>,
    /// From these countries.
    pub country_code: Option<Vec<CountryCode>>,
    /// In these languages (ISO 639-1 codes, at most 200 characters each).
    pub language: Option<Vec<String>>,
    /// Written by this user.
    pub author_id: Option<ID>,
    /// From this organisation.
    pub source_organisation_id: Option<ID>,
}

/// Fields practices can be ordered by.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum PracticeOrderField {
    /// By title.
    Title,
    /// By last change.
    UpdatedAt,
    /// By creation time.
    CreatedAt,
}

/// One ordering criterion for practices.
#[derive(InputObject)]
pub struct PracticeOrder {
    /// The field.
    pub field: PracticeOrderField,
    /// The direction (default ascending).
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl PracticeOrder {
    pub fn column(&self) -> (good_practice::Column, Order) {
        let col = match self.field {
            PracticeOrderField::Title => good_practice::Column::Title,
            PracticeOrderField::UpdatedAt => good_practice::Column::UpdatedAt,
            PracticeOrderField::CreatedAt => good_practice::Column::CreatedAt,
        };
        (col, self.direction.sql())
    }
}
