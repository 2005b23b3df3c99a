//! A plan's actions: added, changed and removed before submission, with their themes and the
//! practices they cite; the KPI totals move with each change.

use super::*;

/// The fields of an action, checked.
pub struct ActionFields {
    pub title: NonEmptyText,
    pub description: String,
    /// Vocabulary terms of kind THEME.
    pub themes: Vec<Uuid>,
    /// Published good practices the action builds on.
    pub practices: Vec<Uuid>,
    pub target_groups: String,
    pub cultural_partners: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub budget: EurAmount,
    pub status: ActionStatus,
}

/// Checks what an action refers to: its themes are current THEME terms (or ones it already
/// had), its practices published ones of the catalogue. Returns both without repeats.
async fn check_links(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action_id: Option<Uuid>,
    f: &ActionFields,
) -> AppResult<(Vec<Uuid>, Vec<Uuid>)> {
    let had: Vec<Uuid> = match action_id {
        Some(id) => plan_action_theme::Entity::find()
            .filter(plan_action_theme::Column::ActionId.eq(id))
            .all(txn)
            .await?
            .into_iter()
            .map(|t| t.term_id)
            .collect(),
        None => Vec::new(),
    };
    let themes = check_terms(txn, "action.themeIds", TermKind::Theme, &f.themes, &had).await?;
    let mut practices: Vec<Uuid> = Vec::new();
    for p in &f.practices {
        if !practices.contains(p) {
            practices.push(*p);
        }
    }
    if practices.len() > 20 {
        return Err(AppError::bad_input(
            "action.practiceIds",
            "at most 20 practices",
        ));
    }
    if !practices.is_empty() {
        let published = scope::practices(actor)
            .filter(good_practice::Column::Id.is_in(practices.clone()))
            .filter(good_practice::Column::Status.eq(PracticeStatus::Published))
            .count(txn)
            .await?;
        if published as usize != practices.len() {
            return Err(AppError::bad_input(
                "action.practiceIds",
                "cite published practices of the catalogue",
            ));
        }
    }
    Ok((themes, practices))
}

fn set_fields(am: &mut plan_action::ActiveModel, f: ActionFields) {
    am.title = Set(f.title.into_inner());
    am.description = Set(f.description);
    am.target_groups = Set(f.target_groups);
    am.cultural_partners = Set(f.cultural_partners);
    am.starts_on = Set(f.starts_on);
    am.ends_on = Set(f.ends_on);
    am.budget_cents = Set(f.budget.cents());
    am.status = Set(f.status);
    am.updated_at = Set(Utc::now());
}

async fn replace_links(
    txn: &DatabaseTransaction,
    action_id: Uuid,
    (themes, practices): (Vec<Uuid>, Vec<Uuid>),
) -> AppResult<()> {
    plan_action_theme::Entity::delete_many()
        .filter(plan_action_theme::Column::ActionId.eq(action_id))
        .exec(txn)
        .await?;
    plan_action_practice::Entity::delete_many()
        .filter(plan_action_practice::Column::ActionId.eq(action_id))
        .exec(txn)
        .await?;
    if !themes.is_empty() {
        plan_action_theme::Entity::insert_many(themes.iter().map(|t| {
            plan_action_theme::ActiveModel {
                action_id: Set(action_id),
                term_id: Set(*t),
            }
        }))
        .exec(txn)
        .await?;
    }
    if !practices.is_empty() {
        plan_action_practice::Entity::insert_many(practices.iter().map(|p| {
            plan_action_practice::ActiveModel {
                action_id: Set(action_id),
                practice_id: Set(*p),
            }
        }))
        .exec(txn)
        .await?;
    }
    Ok(())
}

/// Adds an action at the end of the plan.
pub async fn add_action(
    db: &DatabaseConnection,
    actor: &Actor,
    plan_id: Uuid,
    expected_version: i32,
    f: ActionFields,
) -> AppResult<plan::Model> {
    let txn = begin_write(db).await?;
    editable(&txn, actor, plan_id, expected_version).await?;
    let totals = ActionTotals::read(&txn, Plans::One(plan_id)).await?;
    let last = plan_action::Entity::find()
        .filter(plan_action::Column::PlanId.eq(plan_id))
        .order_by_desc(plan_action::Column::Position)
        .one(&txn)
        .await?;
    let title = f.title.clone();
    let id = Uuid::now_v7();
    let mut am = plan_action::ActiveModel {
        id: Set(id),
        plan_id: Set(plan_id),
        position: Set(last.map(|a| a.position + 1).unwrap_or(1)),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let links = check_links(&txn, actor, None, &f).await?;
    set_fields(&mut am, f);
    let action = am.insert(&txn).await?;
    replace_links(&txn, id, links).await?;
    bump(&txn, plan_id, expected_version).await?;
    totals.settle(&txn).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "plan.addAction",
        "Plan",
        plan_id,
        json!({ "actionId": action.id, "title": title }),
    )
    .await?;
    let plan = reload(&txn, plan_id).await?;
    crate::db::commit(txn).await?;
    Ok(plan)
}

async fn action_of(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action_id: Uuid,
) -> AppResult<plan_action::Model> {
    visible(
        txn,
        scope::plan_actions(actor),
        plan_action::Column::Id,
        action_id,
        "plan action",
    )
    .await
}

/// Replaces an action's fields.
pub async fn update_action(
    db: &DatabaseConnection,
    actor: &Actor,
    action_id: Uuid,
    expected_version: i32,
    f: ActionFields,
) -> AppResult<plan::Model> {
    let txn = begin_write(db).await?;
    let action = action_of(&txn, actor, action_id).await?;
    editable(&txn, actor, action.plan_id, expected_version).await?;
    let plan_id = action.plan_id;
    let totals = ActionTotals::read(&txn, Plans::One(plan_id)).await?;
    let links = check_links(&txn, actor, Some(action_id), &f).await?;
    let mut am: plan_action::ActiveModel = action.into();
    set_fields(&mut am, f);
    am.update(&txn).await?;
    replace_links(&txn, action_id, links).await?;
    bump(&txn, plan_id, expected_version).await?;
    totals.settle(&txn).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "plan.updateAction",
        "Plan",
        plan_id,
        json!({ "actionId": action_id }),
    )
    .await?;
    let plan = reload(&txn, plan_id).await?;
    crate::db::commit(txn).await?;
    Ok(plan)
}

/// Removes an action.
pub async fn remove_action(
    db: &DatabaseConnection,
    actor: &Actor,
    action_id: Uuid,
    expected_version: i32,
) -> AppResult<plan::Model> {
    let txn = begin_write(db).await?;
    let action = action_of(&txn, actor, action_id).await?;
    editable(&txn, actor, action.plan_id, expected_version).await?;
    let totals = ActionTotals::read(&txn, Plans::One(action.plan_id)).await?;
    plan_action::Entity::delete_by_id(action_id)
        .exec(&txn)
        .await?;
    bump(&txn, action.plan_id, expected_version).await?;
    totals.settle(&txn).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "plan.removeAction",
        "Plan",
        action.plan_id,
        json!({ "actionId": action_id, "title": action.title }),
    )
    .await?;
    let plan = reload(&txn, action.plan_id).await?;
    crate::db::commit(txn).await?;
    Ok(plan)
}
