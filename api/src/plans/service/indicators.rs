//! A plan's indicators (baseline, target; the actual value is progress): added, changed
//! and removed before submission.

use super::*;

/// The fields of an indicator, checked.
pub struct IndicatorFields {
    pub name: NonEmptyText,
    pub unit: NonEmptyText,
    pub baseline: Measure,
    pub target: Measure,
    pub actual: Option<Measure>,
}

/// Adds an indicator.
pub async fn add_indicator(
    db: &DatabaseConnection,
    actor: &Actor,
    plan_id: Uuid,
    expected_version: i32,
    f: IndicatorFields,
) -> AppResult<plan::Model> {
    let txn = begin_write(db).await?;
    editable(&txn, actor, plan_id, expected_version).await?;
    let now = Utc::now();
    let ind = plan_indicator::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan_id),
        name: Set(f.name.into_inner()),
        unit: Set(f.unit.into_inner()),
        baseline_milli: Set(f.baseline.milli()),
        target_milli: Set(f.target.milli()),
        actual_milli: Set(f.actual.map(Measure::milli)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    bump(&txn, plan_id, expected_version).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "plan.addIndicator",
        "Plan",
        plan_id,
        json!({ "indicatorId": ind.id, "name": ind.name }),
    )
    .await?;
    let plan = reload(&txn, plan_id).await?;
    crate::db::commit(txn).await?;
    Ok(plan)
}

/// Removes an indicator.
pub async fn remove_indicator(
    db: &DatabaseConnection,
    actor: &Actor,
    indicator_id: Uuid,
    expected_version: i32,
) -> AppResult<plan::Model> {
    let txn = begin_write(db).await?;
    let ind = scope::plan_indicators(actor)
        .filter(plan_indicator::Column::Id.eq(indicator_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("plan indicator"))?;
    editable(&txn, actor, ind.plan_id, expected_version).await?;
    plan_indicator::Entity::delete_by_id(indicator_id)
        .exec(&txn)
        .await?;
    bump(&txn, ind.plan_id, expected_version).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "plan.removeIndicator",
        "Plan",
        ind.plan_id,
        json!({ "indicatorId": indicator_id }),
    )
    .await?;
    let plan = reload(&txn, ind.plan_id).await?;
    crate::db::commit(txn).await?;
    Ok(plan)
}

pub(super) async fn indicator_of(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
) -> AppResult<plan_indicator::Model> {
    visible(
        txn,
        scope::plan_indicators(actor),
        plan_indicator::Column::Id,
        id,
        "plan indicator",
    )
    .await
}

/// Replaces an indicator's fields (before submission).
pub async fn update_indicator(
    db: &DatabaseConnection,
    actor: &Actor,
    indicator_id: Uuid,
    expected_version: i32,
    f: IndicatorFields,
) -> AppResult<plan::Model> {
    let txn = begin_write(db).await?;
    let ind = indicator_of(&txn, actor, indicator_id).await?;
    editable(&txn, actor, ind.plan_id, expected_version).await?;
    let plan_id = ind.plan_id;
    let mut am: plan_indicator::ActiveModel = ind.into();
    am.name = Set(f.name.into_inner());
    am.unit = Set(f.unit.into_inner());
    am.baseline_milli = Set(f.baseline.milli());
    am.target_milli = Set(f.target.milli());
    am.actual_milli = Set(f.actual.map(Measure::milli));
    am.updated_at = Set(Utc::now());
    am.update(&txn).await?;
    bump(&txn, plan_id, expected_version).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "plan.updateIndicator",
        "Plan",
        plan_id,
        json!({ "indicatorId": indicator_id }),
    )
    .await?;
    let plan = reload(&txn, plan_id).await?;
    crate::db::commit(txn).await?;
    Ok(plan)
}
