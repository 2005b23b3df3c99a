//! The award policy of an edition, enforced inside the awarding transaction.
//!
//! Concurrency: on PostgreSQL the edition row is locked (`SELECT … FOR UPDATE`) before the title
//! holders are counted, so two coordinators awarding at the same instant are serialised per
//! edition and the second sees the first's award. On SQLite every write transaction is
//! `BEGIN IMMEDIATE`, which serialises all writers.

use std::collections::HashMap;

use entity::{application, edition, organisation};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::policy::scope::PUBLIC_STATUSES;

/// Number of title holders of an edition.
pub async fn awarded_count(db: &impl ConnectionTrait, edition_id: Uuid) -> AppResult<u64> {
    Ok(application::Entity::find()
        .filter(application::Column::EditionId.eq(edition_id))
        .filter(application::Column::Status.is_in(PUBLIC_STATUSES))
        .count(db)
        .await?)
}

/// Locks the edition row for the rest of the transaction (PostgreSQL; SQLite is already
/// serialised by `BEGIN IMMEDIATE`) and returns it.
pub async fn lock_edition(
    db: &impl ConnectionTrait,
    edition_id: Uuid,
) -> AppResult<edition::Model> {
    crate::db::for_update(edition::Entity::find_by_id(edition_id), db)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("application without edition"))
}

/// Refuses the award of `app` if it would break the edition's policy: more titles than the cap,
/// or more titles sharing a country than the extras allow.
pub async fn check_policy(
    db: &impl ConnectionTrait,
    ed: &edition::Model,
    app: &application::Model,
) -> AppResult<()> {
    let holders = application::Entity::find()
        .filter(application::Column::EditionId.eq(ed.id))
        .filter(application::Column::Status.is_in(PUBLIC_STATUSES))
        .all(db)
        .await?;
    if holders.len() as i32 >= ed.award_cap {
        return Err(AppError::conflict(format!(
            "the {} edition's award cap of {} titles is reached",
            ed.title_year, ed.award_cap
        )));
    }
    if !ed.one_per_country {
        return Ok(());
    }
    let mut orgs: Vec<Uuid> = holders.iter().map(|h| h.lead_municipality_id).collect();
    orgs.push(app.lead_municipality_id);
    let countries: HashMap<Uuid, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(orgs))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.country_code))
        .collect();
    let mut per_country: HashMap<&str, i32> = HashMap::new();
    for h in &holders {
        if let Some(c) = countries.get(&h.lead_municipality_id) {
            *per_country.entry(c).or_default() += 1;
        }
    }
    let new_country = countries
        .get(&app.lead_municipality_id)
        .map(String::as_str)
        .unwrap_or_default();
    let shared_now: i32 = per_country.values().map(|n| n - 1).sum();
    if per_country.contains_key(new_country) && shared_now + 1 > ed.extra_awards {
        return Err(AppError::conflict(format!(
            "the {} edition awards at most one title per country ({new_country} has one) and its {} extra title(s) ignoring that rule are used",
            ed.title_year, ed.extra_awards
        )));
    }
    Ok(())
}
