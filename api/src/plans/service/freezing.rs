//! Submission: the complete check and the numbered, frozen version of the plan's content.

use super::*;

/// A plan's content as submitted; stored as the frozen version's snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
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
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
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
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorSnapshot {
    pub name: String,
    pub unit: String,
    pub baseline_milli: i64,
    pub target_milli: i64,
}

impl Snapshot {
    /// Why this content is not complete enough to hand in, if it is not: the field and what
    /// to do. The submission and the history importer both ask it.
    pub fn incompleteness(&self) -> Option<(&'static str, &'static str)> {
        let empty = |s: &str| s.trim().is_empty();
        if empty(&self.vision) {
            return Some(("vision", "write the vision"));
        }
        if empty(&self.context) {
            return Some(("context", "describe the context and challenges"));
        }
        if empty(&self.objectives) {
            return Some(("objectives", "state the objectives"));
        }
        if empty(&self.stakeholders) {
            return Some(("stakeholders", "name the stakeholders"));
        }
        if self.budget_cents.is_none() {
            return Some(("budget", "give the budget"));
        }
        if empty(&self.timeline) {
            return Some(("timeline", "give the timeline"));
        }
        if self.actions.is_empty() {
            return Some(("actions", "add at least one action"));
        }
        if self.indicators.is_empty() {
            return Some(("indicators", "add at least one indicator"));
        }
        None
    }
}

/// Freezes the plan of an application being submitted: checks it is complete, stores its content
/// as the next numbered version, and marks the plan submitted (part of the SubmitCureap
/// transition's transaction).
pub async fn freeze(
    txn: &DatabaseTransaction,
    application_id: Uuid,
    by: Option<Uuid>,
    at: chrono::DateTime<Utc>,
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
    if let Some((field, msg)) = snapshot.incompleteness() {
        return Err(AppError::bad_input(
            field,
            format!("the plan is not complete: {msg}"),
        ));
    }
    let number = plan.submitted_version + 1;
    let version = plan_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan.id),
        number: Set(number),
        snapshot: Set(
            serde_json::to_value(&snapshot).map_err(|e| AppError::internal(e.to_string()))?
        ),
        submitted_at: Set(at),
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
