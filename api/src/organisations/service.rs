//! Organisation administration (coordinators): register and correct organisations.

use chrono::Utc;
use entity::{OrganisationKind, country, organisation};
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
use crate::kpis::rollup::{ActionTotals, Plans};
use crate::policy::{Actor, rules};

/// The editable fields of an organisation, checked.
pub struct OrganisationFields {
    pub kind: OrganisationKind,
    pub name: NonEmptyText,
    pub country_code: String,
    pub region: Option<NonEmptyText>,
    pub population: Option<i64>,
    pub is_capital: bool,
}

/// Checks a population figure.
pub fn check_population(p: Option<i64>) -> AppResult<Option<i64>> {
    match p {
        Some(n) if n < 0 => Err(AppError::bad_input(
            "organisation.population",
            "must not be negative",
        )),
        other => Ok(other),
    }
}

async fn check_country(db: &impl ConnectionTrait, code: &str) -> AppResult<()> {
    country::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
        .map(|_| ())
        .ok_or_else(|| {
            AppError::bad_input(
                "organisation.countryCode",
                "not a country of the programme area",
            )
        })
}

async fn check_unique(
    db: &impl ConnectionTrait,
    name: &str,
    cc: &str,
    except: Option<Uuid>,
) -> AppResult<()> {
    let clash = organisation::Entity::find()
        .filter(organisation::Column::Name.eq(name))
        .filter(organisation::Column::CountryCode.eq(cc))
        .one(db)
        .await?;
    match clash {
        Some(o) if Some(o.id) != except => Err(AppError::conflict(format!(
            "an organisation named {name} already exists in {cc}"
        ))),
        _ => Ok(()),
    }
}

/// Registers an organisation (coordinators only).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    f: OrganisationFields,
) -> AppResult<organisation::Model> {
    rules::manage_organisations(actor)?;
    let txn = begin_write(db).await?;
    check_country(&txn, &f.country_code).await?;
    let name = f.name.into_inner();
    check_unique(&txn, &name, &f.country_code, None).await?;
    let now = Utc::now();
    let model = organisation::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(f.kind),
        name: Set(name),
        country_code: Set(f.country_code),
        region: Set(f.region.map(NonEmptyText::into_inner)),
        population: Set(f.population),
        is_capital: Set(f.is_capital),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "organisation.create",
        "Organisation",
        model.id,
        json!({ "name": model.name, "kind": model.kind.as_str(), "countryCode": model.country_code }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Replaces an organisation's fields (coordinators only); CONFLICT on a stale version.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    f: OrganisationFields,
) -> AppResult<organisation::Model> {
    rules::manage_organisations(actor)?;
    let txn = begin_write(db).await?;
    let current = organisation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("organisation"))?;
    if current.version != expected_version {
        return Err(AppError::stale_version("organisation"));
    }
    check_country(&txn, &f.country_code).await?;
    let name = f.name.into_inner();
    check_unique(&txn, &name, &f.country_code, Some(id)).await?;
    // A new country moves the organisation's plans in the KPI totals (kept per country).
    let totals = if current.country_code != f.country_code {
        Some(ActionTotals::read(&txn, Plans::LedBy(id)).await?)
    } else {
        None
    };
    let before = json!({ "name": current.name, "kind": current.kind.as_str(), "countryCode": current.country_code,
                         "region": current.region, "population": current.population, "isCapital": current.is_capital });
    let mut am: organisation::ActiveModel = current.clone().into();
    am.kind = Set(f.kind);
    am.name = Set(name);
    am.country_code = Set(f.country_code);
    am.region = Set(f.region.map(NonEmptyText::into_inner));
    am.population = Set(f.population);
    am.is_capital = Set(f.is_capital);
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let res = organisation::Entity::update_many()
        .set(am.clone())
        .filter(organisation::Column::Id.eq(id))
        .filter(organisation::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("organisation"));
    }
    if let Some(totals) = totals {
        totals.settle(&txn).await?;
    }
    let updated = am.try_into_model()?;
    let after = json!({ "name": updated.name, "kind": updated.kind.as_str(), "countryCode": updated.country_code,
                        "region": updated.region, "population": updated.population, "isCapital": updated.is_capital });
    audit::record(
        &txn,
        actor.user_id(),
        "organisation.update",
        "Organisation",
        id,
        json!({ "from": before, "to": after }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}
