//! Practice use cases, without GraphQL types: write and edit drafts, and the review workflow
//! DRAFT → IN_REVIEW → PUBLISHED → ARCHIVED (with "return to the author" back to DRAFT).

use chrono::Utc;
use entity::{PracticeStatus, Role, TermKind, good_practice, organisation, practice_term};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::domain::{NonEmptyText, parse_url};
use crate::error::{AppError, AppResult};
use crate::policy::rules;
use crate::policy::{Actor, scope};
use crate::search::normalise;
use crate::vocabulary::service::check_terms;

/// Longest body of a practice, in characters.
pub const MAX_BODY: usize = 100_000;

/// A practice's content, checked (all of it: an edit replaces the whole form).
pub struct PracticeFields {
    pub title: NonEmptyText,
    pub summary: NonEmptyText,
    pub body: String,
    pub country_code: Option<String>,
    pub source_organisation_id: Option<Uuid>,
    pub source_text: Option<String>,
    pub outcomes: String,
    pub link: Option<String>,
    pub licence: NonEmptyText,
    pub language: String,
    pub themes: Vec<Uuid>,
    pub methods: Vec<Uuid>,
    pub cultural_tools: Vec<Uuid>,
}

fn bounded(field: &str, raw: &str, max: usize) -> AppResult<String> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

impl PracticeFields {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        title: &str,
        summary: &str,
        body: &str,
        country_code: Option<String>,
        source_organisation_id: Option<Uuid>,
        source_text: Option<&str>,
        outcomes: &str,
        link: Option<&str>,
        licence: &str,
        language: &str,
        terms: (Vec<Uuid>, Vec<Uuid>, Vec<Uuid>),
    ) -> AppResult<Self> {
        let language = crate::domain::LanguageCode::parse("language", language)?.into_inner();
        let source_text = source_text
            .filter(|t| !t.trim().is_empty())
            .map(|t| NonEmptyText::parse("sourceText", t, 300).map(NonEmptyText::into_inner))
            .transpose()?;
        Ok(Self {
            title: NonEmptyText::parse("title", title, 300)?,
            summary: NonEmptyText::parse("summary", summary, 2000)?,
            body: bounded("body", body, MAX_BODY)?,
            country_code,
            source_organisation_id,
            source_text,
            outcomes: bounded("outcomes", outcomes, 20_000)?,
            link: link
                .filter(|l| !l.trim().is_empty())
                .map(|l| parse_url("link", l))
                .transpose()?,
            licence: NonEmptyText::parse("licence", licence, 100)?,
            language,
            themes: terms.0,
            methods: terms.1,
            cultural_tools: terms.2,
        })
    }
}

/// Writes the fields onto a row (and the normalised search text) and replaces the row's terms.
async fn apply(
    db: &impl ConnectionTrait,
    actor: &Actor,
    am: &mut good_practice::ActiveModel,
    f: PracticeFields,
    keep: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    if let Some(org) = f.source_organisation_id {
        scope::organisations(actor)
            .filter(organisation::Column::Id.eq(org))
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("sourceOrganisationId", "no such organisation"))?;
    }
    if let Some(cc) = &f.country_code
        && entity::country::Entity::find_by_id(cc.clone())
            .one(db)
            .await?
            .is_none()
    {
        return Err(AppError::bad_input(
            "countryCode",
            "not a country of the programme area",
        ));
    }
    let mut terms = check_terms(db, "themeIds", TermKind::Theme, &f.themes, keep).await?;
    terms.extend(check_terms(db, "methodIds", TermKind::Method, &f.methods, keep).await?);
    terms.extend(
        check_terms(
            db,
            "culturalToolIds",
            TermKind::CulturalTool,
            &f.cultural_tools,
            keep,
        )
        .await?,
    );
    let title = f.title.into_inner();
    let summary = f.summary.into_inner();
    am.search_title = Set(normalise(&title));
    am.search_summary = Set(normalise(&summary));
    am.search_body = Set(normalise(&format!(
        "{}\n{}\n{}",
        f.body,
        f.outcomes,
        f.source_text.as_deref().unwrap_or_default()
    )));
    am.title = Set(title);
    am.summary = Set(summary);
    am.body = Set(f.body);
    am.country_code = Set(f.country_code);
    am.source_organisation_id = Set(f.source_organisation_id);
    am.source_text = Set(f.source_text);
    am.outcomes = Set(f.outcomes);
    am.link = Set(f.link);
    am.licence = Set(f.licence.into_inner());
    am.language = Set(f.language);
    am.updated_at = Set(Utc::now());
    Ok(terms)
}

async fn replace_terms(db: &impl ConnectionTrait, id: Uuid, terms: &[Uuid]) -> AppResult<()> {
    practice_term::Entity::delete_many()
        .filter(practice_term::Column::PracticeId.eq(id))
        .exec(db)
        .await?;
    if !terms.is_empty() {
        practice_term::Entity::insert_many(terms.iter().map(|t| practice_term::ActiveModel {
            practice_id: Set(id),
            term_id: Set(*t),
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Writes a new draft (partners, mentors, coordinators); the caller is its author.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    f: PracticeFields,
) -> AppResult<good_practice::Model> {
    let p = rules::write_practice(actor)?;
    let txn = begin_write(db).await?;
    let id = Uuid::now_v7();
    let now = Utc::now();
    let mut am = good_practice::ActiveModel {
        id: Set(id),
        status: Set(PracticeStatus::Draft),
        author_id: Set(Some(p.user_id)),
        review_comment: Set(None),
        published_at: Set(None),
        created_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    let terms = apply(&txn, actor, &mut am, f, &[]).await?;
    let model = am.insert(&txn).await?;
    replace_terms(&txn, id, &terms).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "practice.create",
        "GoodPractice",
        id,
        json!({ "title": model.title }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

async fn visible(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> AppResult<good_practice::Model> {
    scope::practices(actor)
        .filter(good_practice::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("practice"))
}

/// Replaces a practice's content: its author while it is a draft; a coordinator at any time
/// before it is archived. CONFLICT on a stale version.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    f: PracticeFields,
) -> AppResult<good_practice::Model> {
    actor.principal()?;
    let txn = begin_write(db).await?;
    let current = visible(&txn, actor, id).await?;
    let p = rules::edit_practice(actor, &current)?;
    match (p.role, current.status) {
        (_, PracticeStatus::Archived) => {
            return Err(AppError::conflict("an archived practice cannot be edited"));
        }
        (Role::Coordinator, _) | (_, PracticeStatus::Draft) => {}
        (_, status) => {
            return Err(AppError::conflict(format!(
                "only drafts can be edited by their author; this one is {}",
                status.as_str()
            )));
        }
    }
    if current.version != expected_version {
        return Err(AppError::stale_version("practice"));
    }
    let keep: Vec<Uuid> = practice_term::Entity::find()
        .filter(practice_term::Column::PracticeId.eq(id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| t.term_id)
        .collect();
    let mut am: good_practice::ActiveModel = current.clone().into();
    let terms = apply(&txn, actor, &mut am, f, &keep).await?;
    am.version = Set(current.version + 1);
    let res = good_practice::Entity::update_many()
        .set(am.clone())
        .filter(good_practice::Column::Id.eq(id))
        .filter(good_practice::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("practice"));
    }
    replace_terms(&txn, id, &terms).await?;
    let updated = am.try_into_model()?;
    audit::record(
        &txn,
        Some(p.user_id),
        "practice.update",
        "GoodPractice",
        id,
        json!({ "version": updated.version, "title": updated.title }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// A step of the review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    /// The author sends the draft to the coordinator.
    Submit,
    /// The coordinator publishes it (also reinstates an archived practice).
    Publish,
    /// The coordinator returns it to its author as a draft, with a comment.
    Return,
    /// The coordinator withdraws it from the catalogue.
    Archive,
}

impl Review {
    /// From-states, to-state and whether only coordinators take the step: the workflow in one
    /// table.
    fn rule(self) -> (&'static [PracticeStatus], PracticeStatus, bool) {
        use PracticeStatus as S;
        match self {
            Review::Submit => (&[S::Draft], S::InReview, false),
            Review::Publish => (&[S::InReview, S::Archived], S::Published, true),
            Review::Return => (&[S::InReview], S::Draft, true),
            Review::Archive => (&[S::Draft, S::InReview, S::Published], S::Archived, true),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Review::Submit => "submit",
            Review::Publish => "publish",
            Review::Return => "return",
            Review::Archive => "archive",
        }
    }
}

/// Takes one review step. A comment is required to return a practice; it is kept on the
/// practice for its author.
pub async fn review(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    step: Review,
    comment: Option<String>,
    expected_version: Option<i32>,
) -> AppResult<good_practice::Model> {
    actor.principal()?;
    let (from, to, coordinators_only) = step.rule();
    let txn = begin_write(db).await?;
    let current = visible(&txn, actor, id).await?;
    let p = rules::review_practice(actor, &current, coordinators_only)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(AppError::stale_version("practice"));
    }
    if !from.contains(&current.status) {
        return Err(AppError::conflict(format!(
            "a practice in status {} cannot be moved to {}",
            current.status.as_str(),
            to.as_str()
        )));
    }
    if step == Review::Return && comment.is_none() {
        return Err(AppError::bad_input(
            "comment",
            "say what the author should change",
        ));
    }
    let now = Utc::now();
    let mut am: good_practice::ActiveModel = current.clone().into();
    am.status = Set(to);
    if step == Review::Publish {
        am.published_at = Set(Some(current.published_at.unwrap_or(now)));
        am.review_comment = Set(None);
    }
    if step == Review::Return {
        am.review_comment = Set(comment.clone());
    }
    am.updated_at = Set(now);
    am.version = Set(current.version + 1);
    let res = good_practice::Entity::update_many()
        .set(am.clone())
        .filter(good_practice::Column::Id.eq(id))
        .filter(good_practice::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("practice"));
    }
    let updated = am.try_into_model()?;
    audit::record(
        &txn,
        Some(p.user_id),
        &format!("practice.{}", step.name()),
        "GoodPractice",
        id,
        json!({ "status": { "from": current.status.as_str(), "to": to.as_str() }, "comment": comment }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}
