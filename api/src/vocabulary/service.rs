//! Vocabulary use cases (coordinators write; everyone reads), and the check every reference to
//! terms goes through.

use std::collections::HashSet;

use chrono::Utc;
use entity::{TermKind, vocabulary_term};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::domain::NonEmptyText;
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, rules, scope};

/// Longest description of a term.
const MAX_DESCRIPTION: usize = 2000;

/// Checks a description (may be empty).
pub fn check_description(raw: &str) -> AppResult<String> {
    let t = raw.trim();
    if t.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::bad_input(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(t.to_owned())
}

async fn name_taken(
    db: &impl ConnectionTrait,
    kind: TermKind,
    name: &str,
    except: Option<Uuid>,
) -> AppResult<bool> {
    let mut q = vocabulary_term::Entity::find()
        .filter(vocabulary_term::Column::Kind.eq(kind))
        .filter(vocabulary_term::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(vocabulary_term::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

/// Adds a term (coordinators).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: TermKind,
    name: NonEmptyText,
    description: String,
) -> AppResult<vocabulary_term::Model> {
    rules::manage_vocabulary(actor)?;
    let name = name.into_inner();
    let txn = begin_write(db).await?;
    if name_taken(&txn, kind, &name, None).await? {
        return Err(AppError::conflict(format!(
            "\"{name}\" is already a term of this vocabulary"
        )));
    }
    let now = Utc::now();
    let model = vocabulary_term::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        name: Set(name),
        description: Set(description),
        retired: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "vocabularyTerm.create",
        "VocabularyTerm",
        model.id,
        json!({ "kind": kind.as_str(), "name": model.name }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Changes to a term; `None` leaves a value as it is.
pub struct TermChanges {
    pub name: Option<NonEmptyText>,
    pub description: Option<String>,
    pub retired: Option<bool>,
}

/// Renames, describes, retires or reinstates a term (coordinators).
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    c: TermChanges,
) -> AppResult<vocabulary_term::Model> {
    rules::manage_vocabulary(actor)?;
    let txn = begin_write(db).await?;
    let current = scope::vocabulary_terms(actor)
        .filter(vocabulary_term::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("vocabulary term"))?;
    let mut am: vocabulary_term::ActiveModel = current.clone().into();
    if let Some(name) = c.name.map(NonEmptyText::into_inner) {
        if name_taken(&txn, current.kind, &name, Some(id)).await? {
            return Err(AppError::conflict(format!(
                "\"{name}\" is already a term of this vocabulary"
            )));
        }
        am.name = Set(name);
    }
    if let Some(d) = c.description {
        am.description = Set(d);
    }
    if let Some(r) = c.retired {
        am.retired = Set(r);
    }
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let res = vocabulary_term::Entity::update_many()
        .set(am.clone())
        .filter(vocabulary_term::Column::Id.eq(id))
        .filter(vocabulary_term::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("vocabulary term"));
    }
    let updated = am.try_into_model()?;
    audit::record(
        &txn,
        actor.user_id(),
        "vocabularyTerm.update",
        "VocabularyTerm",
        id,
        json!({ "from": { "name": current.name, "retired": current.retired },
                "to": { "name": updated.name, "retired": updated.retired } }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// Checks references to terms of one vocabulary: each exists, is of `kind` and not retired
/// (unless it was already referenced: `keep`). Returns them without repeats, in the given order.
pub async fn check_terms(
    db: &impl ConnectionTrait,
    field: &str,
    kind: TermKind,
    ids: &[Uuid],
    keep: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    let mut unique: Vec<Uuid> = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.len() > 20 {
        return Err(AppError::bad_input(field, "at most 20 terms"));
    }
    if unique.is_empty() {
        return Ok(unique);
    }
    let found = vocabulary_term::Entity::find()
        .filter(vocabulary_term::Column::Id.is_in(unique.clone()))
        .all(db)
        .await?;
    let ok: HashSet<Uuid> = found
        .iter()
        .filter(|t| t.kind == kind && (!t.retired || keep.contains(&t.id)))
        .map(|t| t.id)
        .collect();
    if let Some(bad) = unique.iter().find(|id| !ok.contains(id)) {
        let why = match found.iter().find(|t| t.id == *bad) {
            Some(t) if t.kind != kind => format!(
                "\"{}\" is a {} term, not a {} term",
                t.name,
                t.kind.as_str().to_lowercase(),
                kind.as_str().to_lowercase()
            ),
            Some(t) => format!("\"{}\" is retired", t.name),
            None => "no such term".to_owned(),
        };
        return Err(AppError::bad_input(field, why));
    }
    Ok(unique)
}

#[cfg(test)]
mod tests {
    use entity::{Role, TermKind, audit_entry};
    use sea_orm::{EntityTrait, PaginatorTrait};

    use super::*;
    use crate::testing::{actor, database};

    fn text(s: &str) -> NonEmptyText {
        NonEmptyText::parse("name", s, 200).expect("text")
    }

    #[tokio::test]
    async fn terms_are_unique_per_vocabulary_versioned_and_audited() {
        let t = database().await;
        let coordinator = actor(Role::Coordinator);
        let choir = create(
            &t.db,
            &coordinator,
            TermKind::Theme,
            text("choirs"),
            String::new(),
        )
        .await
        .expect("created");
        assert_eq!((choir.version, choir.retired), (1, false));
        // The same name in the same vocabulary is a conflict; in another vocabulary it is not.
        let again = create(
            &t.db,
            &coordinator,
            TermKind::Theme,
            text("choirs"),
            String::new(),
        )
        .await
        .expect_err("duplicate");
        assert_eq!(again.code(), "CONFLICT");
        create(
            &t.db,
            &coordinator,
            TermKind::Method,
            text("choirs"),
            String::new(),
        )
        .await
        .expect("another vocabulary");
        // A change based on an old version is refused and changes nothing.
        let retire = || TermChanges {
            name: None,
            description: None,
            retired: Some(true),
        };
        let stale = update(&t.db, &coordinator, choir.id, 7, retire())
            .await
            .expect_err("stale");
        assert_eq!(stale.code(), "CONFLICT");
        let retired = update(&t.db, &coordinator, choir.id, 1, retire())
            .await
            .expect("retired");
        assert_eq!((retired.version, retired.retired), (2, true));
        // Only the coordinator keeps the vocabularies; every change left one audit entry.
        let partner = actor(Role::Partner);
        let refused = create(
            &t.db,
            &partner,
            TermKind::Theme,
            text("murals"),
            String::new(),
        )
        .await
        .expect_err("partner");
        assert_eq!(refused.code(), "FORBIDDEN");
        assert_eq!(audit_entry::Entity::find().count(&t.db).await.unwrap(), 3);
    }
}
