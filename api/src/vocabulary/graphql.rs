//! Vocabulary queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::vocabulary_term;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

use super::service::{self, TermChanges, check_description};
use super::types::VocabularyTerm;
use crate::domain::NonEmptyText;
use crate::error::AppError;
use crate::graphql::context::req;
use crate::graphql::enums::TermKind;
use crate::graphql::ids;
use crate::policy::{rules, scope};

/// Vocabulary queries.
#[derive(Default)]
pub struct VocabularyQuery;

#[Object]
impl VocabularyQuery {
    /// The terms of a vocabulary, by name. Public.
    async fn vocabulary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which vocabulary.")] kind: TermKind,
        #[graphql(desc = "Include retired terms.", default)] include_retired: bool,
    ) -> Result<Vec<VocabularyTerm>> {
        let rc = req(ctx);
        let mut q = scope::vocabulary_terms(&rc.actor)
            .filter(vocabulary_term::Column::Kind.eq(entity::TermKind::from(kind)));
        if !include_retired {
            q = q.filter(vocabulary_term::Column::Retired.eq(false));
        }
        let rows = q
            .order_by_asc(vocabulary_term::Column::Name)
            .order_by_asc(vocabulary_term::Column::Id)
            .all(rc.db())
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// Input of `createVocabularyTerm`.
#[derive(InputObject)]
pub struct CreateVocabularyTermInput {
    /// The vocabulary.
    pub kind: TermKind,
    /// The term (1–100 characters, unique in its vocabulary).
    pub name: String,
    /// What it covers (up to 2000 characters).
    #[graphql(default)]
    pub description: String,
}

/// Input of `updateVocabularyTerm`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateVocabularyTermInput {
    /// The term.
    pub id: ID,
    /// The `version` the change is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// New name (everything tagged with the term follows).
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Retire (true) or reinstate (false).
    pub retired: Option<bool>,
}

/// Result of a vocabulary mutation.
#[derive(SimpleObject)]
pub struct VocabularyTermPayload {
    /// The term as it is now.
    pub term: VocabularyTerm,
}

/// Vocabulary mutations (coordinators).
#[derive(Default)]
pub struct VocabularyMutation;

#[Object]
impl VocabularyMutation {
    /// Adds a term to a vocabulary.
    async fn create_vocabulary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateVocabularyTermInput,
    ) -> Result<Option<VocabularyTermPayload>> {
        let rc = req(ctx);
        rules::manage_vocabulary(&rc.actor)?;
        let name = NonEmptyText::parse("name", &input.name, 100)?;
        let description = check_description(&input.description)?;
        let t = service::create(rc.db(), &rc.actor, input.kind.into(), name, description).await?;
        Ok(Some(VocabularyTermPayload { term: t.into() }))
    }

    /// Renames, describes, retires or reinstates a term.
    async fn update_vocabulary_term(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateVocabularyTermInput,
    ) -> Result<Option<VocabularyTermPayload>> {
        let rc = req(ctx);
        rules::manage_vocabulary(&rc.actor)?;
        let id = ids::decode(&input.id, "VocabularyTerm", "id")?;
        let changes = TermChanges {
            name: input
                .name
                .map(|n| NonEmptyText::parse("name", &n, 100))
                .transpose()?,
            description: input
                .description
                .map(|d| check_description(&d))
                .transpose()?,
            retired: input.retired,
        };
        let t = service::update(rc.db(), &rc.actor, id, input.expected_version, changes).await?;
        Ok(Some(VocabularyTermPayload { term: t.into() }))
    }
}
