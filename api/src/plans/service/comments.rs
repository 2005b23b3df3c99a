//! Comments on a plan or one of its sections.

use super::*;

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
