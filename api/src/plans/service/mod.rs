//! Plan use cases, without GraphQL types. The plan is one aggregate: every edit of it or of its
//! actions and indicators takes the plan's `expected_version` and bumps it, so two people editing
//! the same plan cannot overwrite each other silently.
//!
//! By concern: the plan's sections and the shared loading here; [`actions`] and
//! [`indicators`] (edited before submission); [`freezing`] (the complete check and the numbered
//! version a submission freezes); [`progress`] (title-year progress and measured values);
//! [`comments`].

mod actions;
mod comments;
mod freezing;
mod indicators;
mod progress;

pub use actions::{ActionFields, add_action, remove_action, update_action};
pub use comments::comment;
pub use freezing::{ActionSnapshot, IndicatorSnapshot, Snapshot, freeze};
pub use indicators::{IndicatorFields, add_indicator, remove_indicator, update_indicator};
pub use progress::{ProgressFields, post_progress, record_actual};

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
    let app = application_of(txn, &plan).await?;
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

/// The application a plan belongs to.
async fn application_of(
    txn: &DatabaseTransaction,
    plan: &plan::Model,
) -> AppResult<application::Model> {
    application::Entity::find_by_id(plan.application_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("plan without application"))
}

/// The row `id` of a scoped select of the plan's children, or NOT_FOUND naming `what`.
async fn visible<E>(
    txn: &DatabaseTransaction,
    scoped: sea_orm::Select<E>,
    id_column: E::Column,
    id: Uuid,
    what: &str,
) -> AppResult<E::Model>
where
    E: EntityTrait,
{
    scoped
        .filter(id_column.eq(id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found(what))
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
    crate::db::commit(txn).await?;
    Ok(plan)
}
