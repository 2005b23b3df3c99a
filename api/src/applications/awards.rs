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

use crate::editions::service::AwardPolicy;
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
    let mut orgs: Vec<Uuid> = holders.iter().map(|h| h.lead_municipality_id).collect();
    orgs.push(app.lead_municipality_id);
    let countries: HashMap<Uuid, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(orgs))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.country_code))
        .collect();
    let country = |id: &Uuid| countries.get(id).map(String::as_str).unwrap_or_default();
    let held: Vec<&str> = holders
        .iter()
        .map(|h| country(&h.lead_municipality_id))
        .collect();
    let policy = AwardPolicy {
        award_cap: ed.award_cap,
        one_per_country: ed.one_per_country,
        extra_awards: ed.extra_awards,
    };
    match refusal(
        ed.title_year,
        &policy,
        &held,
        country(&app.lead_municipality_id),
    ) {
        Some(why) => Err(AppError::conflict(why)),
        None => Ok(()),
    }
}

/// Why one more title for a municipality of `new_country` would break the edition's policy,
/// given the countries of the titles it holds already (`None`: it would not). The awarding
/// transition and the history importer (which replays an edition's awards in date order) both
/// ask this one function.
pub fn refusal(
    title_year: i32,
    policy: &AwardPolicy,
    held: &[&str],
    new_country: &str,
) -> Option<String> {
    if held.len() as i32 >= policy.award_cap {
        return Some(format!(
            "the {title_year} edition's award cap of {} titles is reached",
            policy.award_cap
        ));
    }
    if !policy.one_per_country {
        return None;
    }
    let mut per_country: HashMap<&str, i32> = HashMap::new();
    for c in held {
        *per_country.entry(c).or_default() += 1;
    }
    let shared_now: i32 = per_country.values().map(|n| n - 1).sum();
    if per_country.contains_key(new_country) && shared_now + 1 > policy.extra_awards {
        return Some(format!(
            "the {title_year} edition awards at most one title per country ({new_country} has one) and its {} extra title(s) ignoring that rule are used",
            policy.extra_awards
        ));
    }
    None
}
