//! The title year: progress posted on actions and the measured values of indicators.

use super::*;

/// A progress report on an action, checked.
pub struct ProgressFields {
    pub implementation: Implementation,
    pub percentage: i32,
    pub participants_reached: i32,
    pub evidence_url: Option<String>,
    pub note: String,
}

/// Longest progress note, in characters.
pub const MAX_PROGRESS_NOTE: usize = 5000;

impl ProgressFields {
    /// Checks a report as `postProgress` and the history importer take it: a completion of
    /// 0–100, no negative reach, an http(s) evidence link when one is given (blank: none), a
    /// note of at most [`MAX_PROGRESS_NOTE`] characters (trimmed).
    pub fn parse(
        implementation: Implementation,
        percentage: i32,
        participants_reached: i32,
        evidence_url: Option<&str>,
        note: &str,
    ) -> AppResult<Self> {
        if !(0..=100).contains(&percentage) {
            return Err(AppError::bad_input(
                "percentage",
                "must be between 0 and 100",
            ));
        }
        if participants_reached < 0 {
            return Err(AppError::bad_input(
                "participantsReached",
                "must not be negative",
            ));
        }
        if note.chars().count() > MAX_PROGRESS_NOTE {
            return Err(AppError::bad_input(
                "note",
                format!("must be at most {MAX_PROGRESS_NOTE} characters"),
            ));
        }
        Ok(Self {
            implementation,
            percentage,
            participants_reached,
            evidence_url: evidence_url
                .filter(|u| !u.trim().is_empty())
                .map(|u| crate::domain::parse_url("evidenceUrl", u))
                .transpose()?,
            note: note.trim().to_owned(),
        })
    }
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
    let (plan, _) = title_year(&txn, actor, action.plan_id, "progress is posted").await?;
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
    crate::db::commit(txn).await?;
    Ok(model)
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
    let ind = super::indicators::indicator_of(&txn, actor, indicator_id).await?;
    let (plan, _) = title_year(&txn, actor, ind.plan_id, "indicator values are recorded").await?;
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
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// The plan and its application, when `actor` may record title-year figures on it now (the
/// Pearl or its mentors, during the title year); `what` says what is recorded, for the refusal.
async fn title_year(
    txn: &DatabaseTransaction,
    actor: &Actor,
    plan_id: Uuid,
    what: &str,
) -> AppResult<(plan::Model, application::Model)> {
    let plan = reload(txn, plan_id).await?;
    let app = application_of(txn, &plan).await?;
    rules::record_progress(actor, &app)?;
    if app.status != ApplicationStatus::TitleYearActive {
        return Err(AppError::conflict(format!("{what} during the title year")));
    }
    Ok((plan, app))
}
