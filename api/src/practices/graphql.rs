//! Catalogue queries (search) and mutations (writing and review).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::{good_practice, practice_term};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Order, QueryFilter};
use uuid::Uuid;

use super::service::{self, PracticeFields, Review};
use super::types::{GoodPractice, GoodPracticeConnection, PracticeFilter, PracticeOrder};
use crate::error::AppError;
use crate::graphql::connection::{
    Page, PageArgs, cost, order_with_tiebreak, paginate, paginate_ranked,
};
use crate::graphql::context::req;
use crate::graphql::ids;
use crate::graphql::planner::{self, PRACTICE, Planned};
use crate::graphql::scalars::CountryCode;
use crate::policy::scope;
use crate::search;

fn decode_all(list: &[ID], ty: &str, field: &str) -> Result<Vec<Uuid>, AppError> {
    list.iter()
        .enumerate()
        .map(|(i, id)| ids::decode(id, ty, &format!("{field}.{i}")))
        .collect()
}

/// Practices tagged with any of `terms`.
fn tagged(terms: Vec<Uuid>) -> sea_orm::sea_query::SimpleExpr {
    good_practice::Column::Id.in_subquery(
        Query::select()
            .column(practice_term::Column::PracticeId)
            .from(practice_term::Entity)
            .and_where(practice_term::Column::TermId.is_in(terms))
            .to_owned(),
    )
}

const TYPES: planner::ConnectionTypes = planner::ConnectionTypes {
    connection: "GoodPracticeConnection",
    edge: "GoodPracticeEdge",
};

/// Catalogue queries.
#[derive(Default)]
pub struct PracticeQuery;

#[Object]
impl PracticeQuery {
    /// The catalogue: practices the caller may see (published ones for everyone, signed in or
    /// not), optionally matching a full-text `search` over title, summary and body — then ranked
    /// best first (title matches count most) — and the typed filters. Any text is a valid query.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn practices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(
            desc = "Words to look for (all must occur; the last may be a prefix; at most 200 characters)."
        )]
        search: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<PracticeFilter>,
        #[graphql(desc = "Ordering criteria (after the search rank, when searching).")]
        order_by: Option<Vec<PracticeOrder>>,
    ) -> Result<Option<Planned<GoodPracticeConnection>>> {
        let rc = req(ctx);
        if search.as_ref().is_some_and(|s| s.chars().count() > 500) {
            return Err(AppError::bad_input("search", "at most 500 characters").into());
        }
        let mut select = scope::practices(&rc.actor);
        if let Some(f) = filter {
            if let Some(statuses) = f.status {
                select = select.filter(
                    good_practice::Column::Status
                        .is_in(statuses.into_iter().map(entity::PracticeStatus::from)),
                );
            }
            for (list, field) in [
                (f.theme_ids, "filter.themeIds"),
                (f.method_ids, "filter.methodIds"),
                (f.cultural_tool_ids, "filter.culturalToolIds"),
            ] {
                if let Some(list) = list {
                    select = select.filter(tagged(decode_all(&list, "VocabularyTerm", field)?));
                }
            }
            if let Some(codes) = f.country_code {
                select = select.filter(
                    good_practice::Column::CountryCode.is_in(codes.into_iter().map(|c| c.0)),
                );
            }
            if let Some(langs) = f.language {
                select = select.filter(
                    good_practice::Column::Language
                        .is_in(langs.into_iter().map(|l| l.trim().to_lowercase())),
                );
            }
            if let Some(author) = f.author_id {
                let author = ids::decode(&author, "User", "filter.authorId")?;
                select = select.filter(good_practice::Column::AuthorId.eq(author));
            }
            if let Some(org) = f.source_organisation_id {
                let org = ids::decode(&org, "Organisation", "filter.sourceOrganisationId")?;
                select = select.filter(good_practice::Column::SourceOrganisationId.eq(org));
            }
        }
        let requested: Vec<_> = order_by
            .unwrap_or_default()
            .iter()
            .map(PracticeOrder::column)
            .collect();
        let args = PageArgs::new(ctx, first, after, last, before);
        let query = search.as_deref().and_then(search::Query::parse);
        let Some(query) = query else {
            let order = order_with_tiebreak(
                requested,
                (good_practice::Column::CreatedAt, Order::Desc),
                good_practice::Column::Id,
            )?;
            if rc.state.config.planner
                && let Some(built) =
                    planner::connection(ctx, &PRACTICE, &TYPES, select.clone(), &order, &args)
                        .await?
            {
                return Ok(Some(Planned::built(built)));
            }
            let (page, total) = paginate(rc.db(), select, order, &args).await?;
            return Ok(Some(Planned::Resolved(GoodPracticeConnection::from_page(
                page,
                total,
                GoodPractice::from,
            ))));
        };
        let backend = rc.db().get_database_backend();
        let select = select.filter(query.matches(backend, "good_practice", "practice_fts"));
        let rank = query.rank(backend, "good_practice", "practice_fts");
        // Equal ranks: newest first by id (UUIDv7), which both databases order alike (text
        // collations do not).
        let order = order_with_tiebreak(
            requested,
            (good_practice::Column::Id, Order::Desc),
            good_practice::Column::Id,
        )?;
        let (page, total) = paginate_ranked(rc.db(), select, rank, order, &args).await?;
        let page = Page {
            rows: page.rows.into_iter().map(|(c, r)| (c, r.model)).collect(),
            page_info: page.page_info,
        };
        // Searching orders by rank, which the planner does not compute: resolved field by field.
        Ok(Some(Planned::Resolved(GoodPracticeConnection::from_page(
            page,
            total,
            GoodPractice::from,
        ))))
    }
}

/// The content of a practice (an edit replaces all of it).
#[derive(InputObject)]
pub struct PracticeInput {
    /// Title (1–300 characters).
    pub title: String,
    /// Summary (1–2000 characters).
    pub summary: String,
    /// The full description (up to 100000 characters).
    #[graphql(default)]
    pub body: String,
    /// The country it comes from.
    pub country_code: Option<CountryCode>,
    /// The organisation it comes from, if it is one of the portal's.
    pub source_organisation_id: Option<ID>,
    /// Otherwise the source as text (up to 300 characters).
    pub source_text: Option<String>,
    /// What it achieved (up to 20000 characters).
    #[graphql(default)]
    pub outcomes: String,
    /// A link to more material (http or https).
    pub link: Option<String>,
    /// Licence of the text.
    #[graphql(default_with = "String::from(\"CC BY 4.0\")")]
    pub licence: String,
    /// Language of the text (ISO 639-1).
    #[graphql(default_with = "String::from(\"en\")")]
    pub language: String,
    /// Themes (vocabulary terms of kind THEME).
    #[graphql(default)]
    pub theme_ids: Vec<ID>,
    /// Methods (terms of kind METHOD).
    #[graphql(default)]
    pub method_ids: Vec<ID>,
    /// Cultural tools (terms of kind CULTURAL_TOOL).
    #[graphql(default)]
    pub cultural_tool_ids: Vec<ID>,
}

impl PracticeInput {
    fn parse(self) -> Result<PracticeFields, AppError> {
        let source_org = self
            .source_organisation_id
            .map(|id| ids::decode(&id, "Organisation", "sourceOrganisationId"))
            .transpose()?;
        let terms = (
            decode_all(&self.theme_ids, "VocabularyTerm", "themeIds")?,
            decode_all(&self.method_ids, "VocabularyTerm", "methodIds")?,
            decode_all(&self.cultural_tool_ids, "VocabularyTerm", "culturalToolIds")?,
        );
        PracticeFields::parse(
            &self.title,
            &self.summary,
            &self.body,
            self.country_code.map(|c| c.0),
            source_org,
            self.source_text.as_deref(),
            &self.outcomes,
            self.link.as_deref(),
            &self.licence,
            &self.language,
            terms,
        )
    }
}

/// Input of `createPractice`.
#[derive(InputObject)]
pub struct CreatePracticeInput {
    /// The practice.
    pub practice: PracticeInput,
}

/// Input of `updatePractice`.
#[derive(InputObject)]
pub struct UpdatePracticeInput {
    /// The practice.
    pub id: ID,
    /// The `version` the edit is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// Its new content.
    pub practice: PracticeInput,
}

/// Input of a review step.
#[derive(InputObject)]
pub struct PracticeReviewInput {
    /// The practice.
    pub id: ID,
    /// If given, CONFLICT unless the practice still has this `version`.
    pub expected_version: Option<i32>,
    /// A comment for the author (required to return a practice).
    pub comment: Option<String>,
}

/// Result of a practice mutation.
#[derive(SimpleObject)]
pub struct PracticePayload {
    /// The practice as it is now.
    pub practice: GoodPractice,
}

/// Catalogue mutations.
#[derive(Default)]
pub struct PracticeMutation;

impl PracticeMutation {
    async fn step(
        ctx: &Context<'_>,
        input: PracticeReviewInput,
        step: Review,
    ) -> Result<Option<PracticePayload>> {
        let rc = req(ctx);
        let id = ids::decode(&input.id, "GoodPractice", "id")?;
        let comment = input
            .comment
            .filter(|c| !c.trim().is_empty())
            .map(|c| {
                crate::domain::NonEmptyText::parse("comment", &c, 5000)
                    .map(crate::domain::NonEmptyText::into_inner)
            })
            .transpose()?;
        let p = service::review(
            rc.db(),
            &rc.actor,
            id,
            step,
            comment,
            input.expected_version,
        )
        .await?;
        Ok(Some(PracticePayload { practice: p.into() }))
    }
}

#[Object]
impl PracticeMutation {
    /// Writes a new practice as a draft (partners, mentors, coordinators).
    async fn create_practice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreatePracticeInput,
    ) -> Result<Option<PracticePayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let f = input.practice.parse()?;
        let p = service::create(rc.db(), &rc.actor, f).await?;
        Ok(Some(PracticePayload { practice: p.into() }))
    }

    /// Replaces a practice's content: its author while it is a draft, a coordinator until it is
    /// archived.
    async fn update_practice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdatePracticeInput,
    ) -> Result<Option<PracticePayload>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let id = ids::decode(&input.id, "GoodPractice", "id")?;
        let f = input.practice.parse()?;
        let p = service::update(rc.db(), &rc.actor, id, input.expected_version, f).await?;
        Ok(Some(PracticePayload { practice: p.into() }))
    }

    /// DRAFT → IN_REVIEW, by its author.
    async fn submit_practice_for_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PracticeReviewInput,
    ) -> Result<Option<PracticePayload>> {
        Self::step(ctx, input, Review::Submit).await
    }

    /// IN_REVIEW (or ARCHIVED) → PUBLISHED, by the coordinator.
    async fn publish_practice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PracticeReviewInput,
    ) -> Result<Option<PracticePayload>> {
        Self::step(ctx, input, Review::Publish).await
    }

    /// IN_REVIEW → DRAFT with a comment for the author, by the coordinator.
    async fn return_practice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PracticeReviewInput,
    ) -> Result<Option<PracticePayload>> {
        Self::step(ctx, input, Review::Return).await
    }

    /// Withdraws a practice from the catalogue (→ ARCHIVED), by the coordinator.
    async fn archive_practice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: PracticeReviewInput,
    ) -> Result<Option<PracticePayload>> {
        Self::step(ctx, input, Review::Archive).await
    }
}
