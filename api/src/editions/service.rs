//! Edition administration (coordinators): editions with their award policy, their phases, and
//! deadline extensions for single applications.

use chrono::{DateTime, Utc};
use entity::{PhaseKind, application, deadline_extension, edition, phase};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::domain::NonEmptyText;
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, rules, scope};

/// An award policy, checked: at least one title, extras within the cap.
#[derive(Clone, Copy, Debug)]
pub struct AwardPolicy {
    pub award_cap: i32,
    pub one_per_country: bool,
    pub extra_awards: i32,
}

impl AwardPolicy {
    pub fn parse(award_cap: i32, one_per_country: bool, extra_awards: i32) -> AppResult<Self> {
        if !(1..=100).contains(&award_cap) {
            return Err(AppError::bad_input(
                "awardPolicy.awardCap",
                "must be between 1 and 100",
            ));
        }
        if extra_awards < 0 || extra_awards > award_cap {
            return Err(AppError::bad_input(
                "awardPolicy.extraAwards",
                "must be between 0 and the award cap",
            ));
        }
        Ok(Self {
            award_cap,
            one_per_country,
            extra_awards,
        })
    }
}

/// Creates an edition (coordinators only); one per title year.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    title_year: i32,
    name: NonEmptyText,
    policy: AwardPolicy,
) -> AppResult<edition::Model> {
    rules::manage_editions(actor)?;
    if !(2000..=2100).contains(&title_year) {
        return Err(AppError::bad_input(
            "titleYear",
            "must be a year between 2000 and 2100",
        ));
    }
    let txn = begin_write(db).await?;
    if edition::Entity::find()
        .filter(edition::Column::TitleYear.eq(title_year))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!(
            "the {title_year} edition already exists"
        )));
    }
    let now = Utc::now();
    let model = edition::ActiveModel {
        id: Set(Uuid::now_v7()),
        title_year: Set(title_year),
        name: Set(name.into_inner()),
        award_cap: Set(policy.award_cap),
        one_per_country: Set(policy.one_per_country),
        extra_awards: Set(policy.extra_awards),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "edition.create",
        "Edition",
        model.id,
        json!({ "titleYear": title_year, "awardCap": policy.award_cap,
                "onePerCountry": policy.one_per_country, "extraAwards": policy.extra_awards }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// A change of an edition: its name, its award rule, and why.
pub struct EditionChange {
    pub name: Option<NonEmptyText>,
    pub policy: Option<AwardPolicy>,
    /// Required when the award rule changes.
    pub reason: Option<NonEmptyText>,
}

/// Renames an edition or changes its award policy (coordinators only); CONFLICT on a stale
/// version, and a cap below the titles already awarded is refused. A changed award rule needs
/// a reason; the audit entry keeps the name and rule before and after, and the reason.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    change: EditionChange,
) -> AppResult<edition::Model> {
    let EditionChange {
        name,
        policy,
        reason,
    } = change;
    rules::manage_editions(actor)?;
    let txn = begin_write(db).await?;
    let current = edition::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("edition"))?;
    if current.version != expected_version {
        return Err(AppError::stale_version("edition"));
    }
    let mut am: edition::ActiveModel = current.clone().into();
    if let Some(n) = name {
        am.name = Set(n.into_inner());
    }
    let rule = |cap: i32, one: bool, extra: i32| json!({ "awardCap": cap, "onePerCountry": one, "extraAwards": extra });
    let before = rule(
        current.award_cap,
        current.one_per_country,
        current.extra_awards,
    );
    if let Some(p) = &policy
        && rule(p.award_cap, p.one_per_country, p.extra_awards) != before
        && reason.is_none()
    {
        return Err(AppError::bad_input(
            "reason",
            "say why the award policy changes (it is kept in the audit log)",
        ));
    }
    if let Some(p) = policy {
        let awarded = crate::applications::awards::awarded_count(&txn, id).await?;
        if (p.award_cap as u64) < awarded {
            return Err(AppError::conflict(format!(
                "{awarded} titles are already awarded; the cap cannot be lower"
            )));
        }
        am.award_cap = Set(p.award_cap);
        am.one_per_country = Set(p.one_per_country);
        am.extra_awards = Set(p.extra_awards);
    }
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let res = edition::Entity::update_many()
        .set(am.clone())
        .filter(edition::Column::Id.eq(id))
        .filter(edition::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("edition"));
    }
    let updated = am.try_into_model()?;
    let after = rule(
        updated.award_cap,
        updated.one_per_country,
        updated.extra_awards,
    );
    audit::record(
        &txn,
        actor.user_id(),
        "edition.update",
        "Edition",
        id,
        json!({ "before": { "name": current.name, "awardPolicy": before },
                "after": { "name": updated.name, "awardPolicy": after },
                "reason": reason }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// New dates of one phase, and why they move.
pub struct PhaseDates {
    pub kind: PhaseKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Required once the edition has started.
    pub reason: Option<NonEmptyText>,
}

/// Sets (creates or moves) the dates of one phase of an edition (coordinators only). Once the
/// edition has started (one of its phases opened by `now`), a change needs a reason: dates that
/// applicants and jurors have acted on do not move silently. Audited with the dates before and
/// after and the reason.
pub async fn set_phase(
    db: &DatabaseConnection,
    actor: &Actor,
    edition_id: Uuid,
    dates: PhaseDates,
    now: DateTime<Utc>,
) -> AppResult<phase::Model> {
    let PhaseDates {
        kind,
        starts_at,
        ends_at,
        reason,
    } = dates;
    rules::manage_editions(actor)?;
    if ends_at <= starts_at {
        return Err(AppError::bad_input("endsAt", "must be after startsAt"));
    }
    let txn = begin_write(db).await?;
    edition::Entity::find_by_id(edition_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("edition"))?;
    let started = phase::Entity::find()
        .filter(phase::Column::EditionId.eq(edition_id))
        .filter(phase::Column::StartsAt.lte(now))
        .one(&txn)
        .await?
        .is_some();
    if started && reason.is_none() {
        return Err(AppError::bad_input(
            "reason",
            "the edition has started: say why its dates move (it is kept in the audit log)",
        ));
    }
    let existing = phase::Entity::find()
        .filter(phase::Column::EditionId.eq(edition_id))
        .filter(phase::Column::Kind.eq(kind))
        .one(&txn)
        .await?;
    let (model, before) = match existing {
        Some(p) => {
            let before = json!({ "startsAt": p.starts_at, "endsAt": p.ends_at });
            let mut am: phase::ActiveModel = p.into();
            am.starts_at = Set(starts_at);
            am.ends_at = Set(ends_at);
            (am.update(&txn).await?, before)
        }
        None => (
            phase::ActiveModel {
                id: Set(Uuid::now_v7()),
                edition_id: Set(edition_id),
                kind: Set(kind),
                starts_at: Set(starts_at),
                ends_at: Set(ends_at),
            }
            .insert(&txn)
            .await?,
            serde_json::Value::Null,
        ),
    };
    audit::record(
        &txn,
        actor.user_id(),
        "edition.setPhase",
        "Edition",
        edition_id,
        json!({ "phase": kind.as_str(), "from": before, "to": { "startsAt": starts_at, "endsAt": ends_at },
                "reason": reason }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Extends one phase's deadline for one application (coordinators only); recorded in the audit
/// log with its reason. A later extension replaces an earlier one.
pub async fn extend_deadline(
    db: &DatabaseConnection,
    actor: &Actor,
    application_id: Uuid,
    kind: PhaseKind,
    until: DateTime<Utc>,
    reason: NonEmptyText,
    now: DateTime<Utc>,
) -> AppResult<deadline_extension::Model> {
    rules::manage_editions(actor)?;
    if until <= now {
        return Err(AppError::bad_input(
            "until",
            "an extension must end in the future",
        ));
    }
    let txn = begin_write(db).await?;
    let app = scope::applications(actor)
        .filter(application::Column::Id.eq(application_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("application"))?;
    let phase = phase::Entity::find()
        .filter(phase::Column::EditionId.eq(app.edition_id))
        .filter(phase::Column::Kind.eq(kind))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::conflict("that phase has no dates in this edition"))?;
    if until <= phase.ends_at {
        return Err(AppError::bad_input(
            "until",
            "an extension must end after the phase's own deadline",
        ));
    }
    deadline_extension::Entity::delete_many()
        .filter(deadline_extension::Column::ApplicationId.eq(application_id))
        .filter(deadline_extension::Column::PhaseKind.eq(kind))
        .exec(&txn)
        .await?;
    let reason = reason.into_inner();
    let model = deadline_extension::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application_id),
        phase_kind: Set(kind),
        extended_until: Set(until),
        reason: Set(reason.clone()),
        granted_by: Set(actor.user_id()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "application.extendDeadline",
        "Application",
        application_id,
        json!({ "phase": kind.as_str(), "until": until, "reason": reason }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}
