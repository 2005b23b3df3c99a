//! Plan use cases, without GraphQL types. The plan is one aggregate: every edit of it or of its
//! actions and indicators takes the plan's `expected_version` and bumps it, so two people editing
//! the same plan cannot overwrite each other silently.

use chrono::{NaiveDate, Utc};
use entity::{
    ActionStatus, ApplicationStatus, Implementation, PlanSection, PracticeStatus, TermKind,
    application, good_practice, plan, plan_action, plan_action_practice, plan_action_theme,
    plan_comment, plan_indicator, plan_version, progress_update, vocabulary_term,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::domain::NonEmptyText;
use crate::domain::{EurAmount, Measure};
use crate::error::{AppError, AppResult};
use crate::kpis::rollup::{ActionTotals, Plans};
use crate::live::{Event, EventBus};
use crate::policy::{Actor, rules, scope};
use crate::vocabulary::service::check_terms;

/// Changes to a plan's sections; `None` leaves a section as it is.
#[derive(Default)]
pub struct PlanChanges {
    pub vision: Option<String>,
    pub context: Option<String>,
    pub objectives: Option<String>,
    pub stakeholders: Option<String>,
    pub budget: Option<EurAmount>,
    pub timeline: Option<String>,
}

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

/// The fields of an indicator, checked.
pub struct IndicatorFields {
    pub name: NonEmptyText,
    pub unit: NonEmptyText,
    pub baseline: Measure,
    pub target: Measure,
    pub actual: Option<Measure>,
}

/// A plan's content as submitted; stored as the frozen version's snapshot.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub vision: String,
    pub context: String,
    pub objectives: String,
    pub stakeholders: String,
    pub budget_cents: Option<i64>,
    pub timeline: String,
    pub actions: Vec<ActionSnapshot>,
    pub indicators: Vec<IndicatorSnapshot>,
}

/// An action as submitted.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ActionSnapshot {
    pub title: String,
    pub description: String,
    /// Theme names as they were at submission.
    pub themes: Vec<String>,
    /// Titles of the practices cited, as they were at submission.
    #[serde(default)]
    pub practices: Vec<String>,
    pub target_groups: String,
    pub cultural_partners: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub budget_cents: i64,
}

/// An indicator as submitted.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorSnapshot {
    pub name: String,
    pub unit: String,
    pub baseline_milli: i64,
    pub target_milli: i64,
}

/// Creates the (empty) plan of an application entering CuReAP development, if it has none.
pub async fn ensure_plan(db: &impl ConnectionTrait, application_id: Uuid) -> AppResult<()> {
    let exists = plan::Entity::find()
        .filter(plan::Column::ApplicationId.eq(application_id))
        .one(db)
        .await?;
    if exists.is_none() {
        let now = Utc::now();
        plan::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(application_id),
            vision: Set(String::new()),
            context: Set(String::new()),
            objectives: Set(String::new()),
            stakeholders: Set(String::new()),
            budget_cents: Set(None),
            timeline: Set(String::new()),
            submitted_version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Loads a plan for editing: visible to the actor (else NOT_FOUND), the actor is its lead
/// municipality (else FORBIDDEN), it is not frozen and its application is in CuReAP development
/// (else CONFLICT), and nobody saved since `expected_version` (else CONFLICT).
async fn editable(
    txn: &DatabaseTransaction,
    actor: &Actor,
    plan_id: Uuid,
    expected_version: i32,
) -> AppResult<(plan::Model, application::Model)> {
    actor.principal()?;
    let plan = scope::plans(actor)
        .filter(plan::Column::Id.eq(plan_id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("plan"))?;
    let app = application::Entity::find_by_id(plan.application_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("plan without application"))?;
    rules::write_plan(actor, &app)?;
    if plan.submitted_version > 0 || app.status != ApplicationStatus::CureapInDevelopment {
        return Err(AppError::conflict(format!(
            "the plan is frozen (submitted as version {}); it can no longer be edited",
            plan.submitted_version.max(1)
        )));
    }
    if plan.version != expected_version {
        return Err(AppError::stale_version("plan"));
    }
    Ok((plan, app))
}

/// Bumps the plan's version if it is still `expected` (the aggregate's concurrency token).
async fn bump(txn: &DatabaseTransaction, plan_id: Uuid, expected: i32) -> AppResult<()> {
    let res = plan::Entity::update_many()
        .col_expr(plan::Column::Version, Expr::value(expected + 1))
        .col_expr(plan::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(plan::Column::Id.eq(plan_id))
        .filter(plan::Column::Version.eq(expected))
        .exec(txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("plan"));
    }
    Ok(())
}

async fn reload(txn: &DatabaseTransaction, plan_id: Uuid) -> AppResult<plan::Model> {
    plan::Entity::find_by_id(plan_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("plan"))
}

/// Edits the plan's sections.
pub async fn update_plan(
    db: &DatabaseConnection,
    actor: &Actor,
    plan_id: Uuid,
    expected_version: i32,
    c: PlanChanges,
) -> AppResult<plan::Model> {
    let txn = begin_write(db).await?;
    let (current, _) = editable(&txn, actor, plan_id, expected_version).await?;
    let mut am: plan::ActiveModel = current.into();
    let mut changed = Vec::new();
    if let Some(v) = c.vision {
        am.vision = Set(v);
        changed.push("vision");
    }
    if let Some(v) = c.context {
        am.context = Set(v);
        changed.push("context");
    }
    if let Some(v) = c.objectives {
        am.objectives = Set(v);
        changed.push("objectives");
    }
    if let Some(v) = c.stakeholders {
        am.stakeholders = Set(v);
        changed.push("stakeholders");
    }
    if let Some(v) = c.budget {
        am.budget_cents = Set(Some(v.cents()));
        changed.push("budget");
    }
    if let Some(v) = c.timeline {
        am.timeline = Set(v);
        changed.push("timeline");
    }
    am.update(&txn).await?;
    bump(&txn, plan_id, expected_version).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "plan.update",
        "Plan",
        plan_id,
        json!({ "sections": changed }),
    )
    .await?;
    let plan = reload(&txn, plan_id).await?;
    txn.commit().await?;
    Ok(plan)
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
    txn.commit().await?;
    Ok(plan)
}

async fn action_of(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action_id: Uuid,
) -> AppResult<plan_action::Model> {
    scope::plan_actions(actor)
        .filter(plan_action::Column::Id.eq(action_id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("plan action"))
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
    txn.commit().await?;
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
    txn.commit().await?;
    Ok(plan)
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
    txn.commit().await?;
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
    txn.commit().await?;
    Ok(plan)
}

/// Comments on a plan or one of its sections: coordinators, the partners (submitted plans) and
/// the application's mentors. Municipalities read the comments on their plan.
pub async fn comment(
    db: &DatabaseConnection,
    live: &EventBus,
    actor: &Actor,
    plan_id: Uuid,
    section: Option<PlanSection>,
    body: NonEmptyText,
) -> AppResult<plan_comment::Model> {
    actor.principal()?;
    let txn = begin_write(db).await?;
    let plan = scope::plans(actor)
        .filter(plan::Column::Id.eq(plan_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("plan"))?;
    let p = rules::comment_on_plan(actor)?;
    let model = plan_comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan.id),
        section: Set(section),
        author_id: Set(Some(p.user_id)),
        body: Set(body.into_inner()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "plan.comment",
        "Plan",
        plan.id,
        json!({ "commentId": model.id, "section": section.map(|s| s.as_str()) }),
    )
    .await?;
    let added = Event::PlanCommentAdded {
        plan_id: plan.id,
        comment_id: model.id,
    };
    live.commit(txn, vec![added]).await?;
    Ok(model)
}

/// Why a plan is not complete enough to submit, if it is not.
fn incompleteness(
    plan: &plan::Model,
    actions: usize,
    indicators: usize,
) -> Option<(&'static str, &'static str)> {
    let empty = |s: &str| s.trim().is_empty();
    if empty(&plan.vision) {
        return Some(("vision", "write the vision"));
    }
    if empty(&plan.context) {
        return Some(("context", "describe the context and challenges"));
    }
    if empty(&plan.objectives) {
        return Some(("objectives", "state the objectives"));
    }
    if empty(&plan.stakeholders) {
        return Some(("stakeholders", "name the stakeholders"));
    }
    if plan.budget_cents.is_none() {
        return Some(("budget", "give the budget"));
    }
    if empty(&plan.timeline) {
        return Some(("timeline", "give the timeline"));
    }
    if actions == 0 {
        return Some(("actions", "add at least one action"));
    }
    if indicators == 0 {
        return Some(("indicators", "add at least one indicator"));
    }
    None
}

/// Freezes the plan of an application being submitted: checks it is complete, stores its content
/// as the next numbered version, and marks the plan submitted (part of the SubmitCureap
/// transition's transaction).
pub async fn freeze(
    txn: &DatabaseTransaction,
    application_id: Uuid,
    by: Option<Uuid>,
) -> AppResult<plan_version::Model> {
    let plan = plan::Entity::find()
        .filter(plan::Column::ApplicationId.eq(application_id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::conflict("this application has no CuReAP plan"))?;
    // Under the plan's lock: the frozen content is what the KPI totals move to "submitted".
    let totals = ActionTotals::read(txn, Plans::One(plan.id)).await?;
    let plan = reload(txn, plan.id).await?;
    let actions = plan_action::Entity::find()
        .filter(plan_action::Column::PlanId.eq(plan.id))
        .order_by_asc(plan_action::Column::Position)
        .all(txn)
        .await?;
    let indicators = plan_indicator::Entity::find()
        .filter(plan_indicator::Column::PlanId.eq(plan.id))
        .order_by_asc(plan_indicator::Column::CreatedAt)
        .order_by_asc(plan_indicator::Column::Id)
        .all(txn)
        .await?;
    if let Some((field, msg)) = incompleteness(&plan, actions.len(), indicators.len()) {
        return Err(AppError::bad_input(
            field,
            format!("the plan is not complete: {msg}"),
        ));
    }
    let action_ids: Vec<Uuid> = actions.iter().map(|a| a.id).collect();
    let mut theme_names: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
    for (link, term) in plan_action_theme::Entity::find()
        .filter(plan_action_theme::Column::ActionId.is_in(action_ids.clone()))
        .find_also_related(vocabulary_term::Entity)
        .order_by_asc(vocabulary_term::Column::Name)
        .all(txn)
        .await?
    {
        if let Some(t) = term {
            theme_names.entry(link.action_id).or_default().push(t.name);
        }
    }
    let mut practice_titles: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
    for (link, practice) in plan_action_practice::Entity::find()
        .filter(plan_action_practice::Column::ActionId.is_in(action_ids))
        .find_also_related(good_practice::Entity)
        .order_by_asc(good_practice::Column::Title)
        .all(txn)
        .await?
    {
        if let Some(p) = practice {
            practice_titles
                .entry(link.action_id)
                .or_default()
                .push(p.title);
        }
    }
    let snapshot = Snapshot {
        vision: plan.vision.clone(),
        context: plan.context.clone(),
        objectives: plan.objectives.clone(),
        stakeholders: plan.stakeholders.clone(),
        budget_cents: plan.budget_cents,
        timeline: plan.timeline.clone(),
        actions: actions
            .iter()
            .map(|a| ActionSnapshot {
                title: a.title.clone(),
                description: a.description.clone(),
                themes: theme_names.remove(&a.id).unwrap_or_default(),
                practices: practice_titles.remove(&a.id).unwrap_or_default(),
                target_groups: a.target_groups.clone(),
                cultural_partners: a.cultural_partners.clone(),
                starts_on: a.starts_on,
                ends_on: a.ends_on,
                budget_cents: a.budget_cents,
            })
            .collect(),
        indicators: indicators
            .iter()
            .map(|i| IndicatorSnapshot {
                name: i.name.clone(),
                unit: i.unit.clone(),
                baseline_milli: i.baseline_milli,
                target_milli: i.target_milli,
            })
            .collect(),
    };
    let number = plan.submitted_version + 1;
    let version = plan_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan.id),
        number: Set(number),
        snapshot: Set(
            serde_json::to_value(&snapshot).map_err(|e| AppError::internal(e.to_string()))?
        ),
        submitted_at: Set(Utc::now()),
        submitted_by: Set(by),
    }
    .insert(txn)
    .await?;
    plan::Entity::update_many()
        .col_expr(plan::Column::SubmittedVersion, Expr::value(number))
        .col_expr(plan::Column::Version, Expr::value(plan.version + 1))
        .filter(plan::Column::Id.eq(plan.id))
        .exec(txn)
        .await?;
    totals.settle(txn).await?;
    Ok(version)
}

/// A progress report on an action, checked.
pub struct ProgressFields {
    pub implementation: Implementation,
    pub percentage: i32,
    pub participants_reached: i32,
    pub evidence_url: Option<String>,
    pub note: String,
}

/// Posts title-year progress on an action: its lead municipality or one of its mentors, while
/// the Pearl's title year is active.
pub async fn post_progress(
    db: &DatabaseConnection,
    actor: &Actor,
    action_id: Uuid,
    f: ProgressFields,
) -> AppResult<progress_update::Model> {
    let p = actor.principal()?;
    let txn = begin_write(db).await?;
    let action = scope::plan_actions(actor)
        .filter(plan_action::Column::Id.eq(action_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("plan action"))?;
    // Locks the plan: posts on its actions follow each other, so an action's latest-progress
    // columns always describe its newest post and the KPI totals move by each post in turn.
    let totals = ActionTotals::read(&txn, Plans::One(action.plan_id)).await?;
    let plan = reload(&txn, action.plan_id).await?;
    let app = application::Entity::find_by_id(plan.application_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("plan without application"))?;
    rules::record_progress(actor, &app)?;
    if app.status != ApplicationStatus::TitleYearActive {
        return Err(AppError::conflict(
            "progress is posted during the title year",
        ));
    }
    let model = progress_update::ActiveModel {
        id: Set(Uuid::now_v7()),
        action_id: Set(action_id),
        implementation: Set(f.implementation),
        percentage: Set(f.percentage),
        participants_reached: Set(f.participants_reached),
        evidence_url: Set(f.evidence_url),
        note: Set(f.note),
        posted_by: Set(Some(p.user_id)),
        posted_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    plan_action::Entity::update_many()
        .col_expr(
            plan_action::Column::LatestImplementation,
            Expr::value(model.implementation.as_str()),
        )
        .col_expr(
            plan_action::Column::LatestParticipantsReached,
            Expr::value(model.participants_reached),
        )
        .filter(plan_action::Column::Id.eq(action_id))
        .exec(&txn)
        .await?;
    totals.settle(&txn).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "plan.postProgress",
        "Plan",
        plan.id,
        json!({ "actionId": action_id, "implementation": f.implementation.as_str(), "percentage": f.percentage,
                "participantsReached": f.participants_reached }),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

async fn indicator_of(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
) -> AppResult<plan_indicator::Model> {
    scope::plan_indicators(actor)
        .filter(plan_indicator::Column::Id.eq(id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("plan indicator"))
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
    txn.commit().await?;
    Ok(plan)
}

/// Records the measured value of an indicator during the title year (the Pearl or its mentors);
/// the frozen plan itself does not change.
pub async fn record_actual(
    db: &DatabaseConnection,
    actor: &Actor,
    indicator_id: Uuid,
    actual: Measure,
) -> AppResult<plan_indicator::Model> {
    let p = actor.principal()?;
    let txn = begin_write(db).await?;
    let ind = indicator_of(&txn, actor, indicator_id).await?;
    let plan = reload(&txn, ind.plan_id).await?;
    let app = application::Entity::find_by_id(plan.application_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("plan without application"))?;
    rules::record_progress(actor, &app)?;
    if app.status != ApplicationStatus::TitleYearActive {
        return Err(AppError::conflict(
            "indicator values are recorded during the title year",
        ));
    }
    let before = ind.actual_milli;
    let mut am: plan_indicator::ActiveModel = ind.into();
    am.actual_milli = Set(Some(actual.milli()));
    am.updated_at = Set(Utc::now());
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "plan.recordIndicator",
        "Plan",
        plan.id,
        json!({ "indicatorId": indicator_id, "from": before.map(Measure::to_decimal), "to": Measure::to_decimal(actual.milli()) }),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
