//! Reporting use cases, without GraphQL types. The coordinator keeps the periods, the work plan
//! and the indicators' targets and reviews partner reports; partners write their own
//! organisation's reports and indicator contributions. An accepted report freezes the
//! partner's report and contributions for that period.

use chrono::{NaiveDate, Utc};
use entity::{
    CostCategory, DeliverableStatus, Implementation, ReportStatus, activity, activity_progress,
    deliverable, deliverable_progress, expenditure, indicator, indicator_contribution,
    organisation, output, partner_report, reporting_period, work_package,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::{begin_write, for_update};
use crate::domain::{EurAmount, Measure, NonEmptyText};
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, Principal, rules, scope};

/// A period by number, for those who read reporting.
pub async fn period(
    db: &impl ConnectionTrait,
    actor: &Actor,
    number: i32,
) -> AppResult<reporting_period::Model> {
    scope::reporting_periods(actor)
        .filter(reporting_period::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no reporting period {number}")))
}

/// Creates a reporting period (coordinators).
pub async fn create_period(
    db: &DatabaseConnection,
    actor: &Actor,
    number: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    report_deadline: NaiveDate,
) -> AppResult<reporting_period::Model> {
    rules::manage_reporting(actor)?;
    if !(1..=100).contains(&number) {
        return Err(AppError::bad_input("number", "between 1 and 100"));
    }
    if ends_on < starts_on {
        return Err(AppError::bad_input("endsOn", "must not be before startsOn"));
    }
    if report_deadline < ends_on {
        return Err(AppError::bad_input(
            "reportDeadline",
            "reports are due after the period ends",
        ));
    }
    let txn = begin_write(db).await?;
    crate::db::serialise_writes(&txn, "reporting_period").await?;
    if reporting_period::Entity::find()
        .filter(reporting_period::Column::Number.eq(number))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!(
            "reporting period {number} already exists"
        )));
    }
    // Figures are counted per period: a day may belong to one period only.
    if let Some(other) = reporting_period::Entity::find()
        .filter(reporting_period::Column::StartsOn.lte(ends_on))
        .filter(reporting_period::Column::EndsOn.gte(starts_on))
        .one(&txn)
        .await?
    {
        return Err(AppError::bad_input(
            "startsOn",
            format!(
                "overlaps period {} ({} – {})",
                other.number, other.starts_on, other.ends_on
            ),
        ));
    }
    let now = Utc::now();
    let model = reporting_period::ActiveModel {
        id: Set(Uuid::now_v7()),
        number: Set(number),
        starts_on: Set(starts_on),
        ends_on: Set(ends_on),
        report_deadline: Set(report_deadline),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "reporting.createPeriod",
        "ReportingPeriod",
        model.id,
        json!({ "number": number, "startsOn": starts_on, "endsOn": ends_on }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// One item of the work plan, checked.
pub struct PlanItem {
    pub code: NonEmptyText,
    pub title: NonEmptyText,
    pub description: String,
    pub lead_organisation_id: Option<Uuid>,
}

async fn unique_code<E>(db: &impl ConnectionTrait, code: &str, col: E::Column) -> AppResult<()>
where
    E: EntityTrait,
{
    if E::find().filter(col.eq(code)).one(db).await?.is_some() {
        return Err(AppError::conflict(format!(
            "the code {code} is already used"
        )));
    }
    Ok(())
}

async fn check_org(db: &impl ConnectionTrait, id: Option<Uuid>) -> AppResult<()> {
    if let Some(id) = id {
        organisation::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("leadOrganisationId", "no such organisation"))?;
    }
    Ok(())
}

/// Adds a work package (coordinators).
pub async fn create_work_package(
    db: &DatabaseConnection,
    actor: &Actor,
    item: PlanItem,
) -> AppResult<work_package::Model> {
    rules::manage_reporting(actor)?;
    let txn = begin_write(db).await?;
    let code = item.code.into_inner();
    unique_code::<work_package::Entity>(&txn, &code, work_package::Column::Code).await?;
    check_org(&txn, item.lead_organisation_id).await?;
    let now = Utc::now();
    let model = work_package::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        title: Set(item.title.into_inner()),
        description: Set(item.description),
        lead_organisation_id: Set(item.lead_organisation_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "reporting.createWorkPackage",
        "WorkPackage",
        model.id,
        json!({ "code": model.code }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Adds an activity to a work package (coordinators).
pub async fn create_activity(
    db: &DatabaseConnection,
    actor: &Actor,
    work_package_id: Uuid,
    item: PlanItem,
) -> AppResult<activity::Model> {
    rules::manage_reporting(actor)?;
    let txn = begin_write(db).await?;
    work_package::Entity::find_by_id(work_package_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("workPackageId", "no such work package"))?;
    let code = item.code.into_inner();
    unique_code::<activity::Entity>(&txn, &code, activity::Column::Code).await?;
    check_org(&txn, item.lead_organisation_id).await?;
    let now = Utc::now();
    let model = activity::ActiveModel {
        id: Set(Uuid::now_v7()),
        work_package_id: Set(work_package_id),
        code: Set(code),
        title: Set(item.title.into_inner()),
        description: Set(item.description),
        lead_organisation_id: Set(item.lead_organisation_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "reporting.createActivity",
        "Activity",
        model.id,
        json!({ "code": model.code }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Adds a deliverable to an activity (coordinators).
pub async fn create_deliverable(
    db: &DatabaseConnection,
    actor: &Actor,
    activity_id: Uuid,
    code: NonEmptyText,
    title: NonEmptyText,
    due_period: Option<i32>,
) -> AppResult<deliverable::Model> {
    rules::manage_reporting(actor)?;
    let txn = begin_write(db).await?;
    activity::Entity::find_by_id(activity_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("activityId", "no such activity"))?;
    let code = code.into_inner();
    unique_code::<deliverable::Entity>(&txn, &code, deliverable::Column::Code).await?;
    let due = match due_period {
        Some(n) => Some(period(&txn, actor, n).await?.id),
        None => None,
    };
    let now = Utc::now();
    let model = deliverable::ActiveModel {
        id: Set(Uuid::now_v7()),
        activity_id: Set(activity_id),
        code: Set(code),
        title: Set(title.into_inner()),
        due_period_id: Set(due),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "reporting.createDeliverable",
        "Deliverable",
        model.id,
        json!({ "code": model.code }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Adds an output measured by an indicator (coordinators).
pub async fn create_output(
    db: &DatabaseConnection,
    actor: &Actor,
    work_package_id: Uuid,
    code: NonEmptyText,
    title: NonEmptyText,
    indicator_id: Uuid,
    target: Option<Measure>,
) -> AppResult<output::Model> {
    rules::manage_reporting(actor)?;
    let txn = begin_write(db).await?;
    work_package::Entity::find_by_id(work_package_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("workPackageId", "no such work package"))?;
    indicator::Entity::find_by_id(indicator_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("indicatorId", "no such indicator"))?;
    let code = code.into_inner();
    unique_code::<output::Entity>(&txn, &code, output::Column::Code).await?;
    let now = Utc::now();
    let model = output::ActiveModel {
        id: Set(Uuid::now_v7()),
        work_package_id: Set(work_package_id),
        code: Set(code),
        title: Set(title.into_inner()),
        indicator_id: Set(indicator_id),
        target_milli: Set(target.map(Measure::milli)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "reporting.createOutput",
        "Output",
        model.id,
        json!({ "code": model.code }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Sets an indicator's target and milestone (coordinators).
pub async fn set_targets(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    target: Option<Measure>,
    milestone: Option<Measure>,
) -> AppResult<indicator::Model> {
    rules::manage_reporting(actor)?;
    let txn = begin_write(db).await?;
    let current = indicator::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("indicator"))?;
    if current.version != expected_version {
        return Err(AppError::stale_version("indicator"));
    }
    let mut am: indicator::ActiveModel = current.clone().into();
    am.target_milli = Set(target.map(Measure::milli));
    am.milestone_milli = Set(milestone.map(Measure::milli));
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        actor.user_id(),
        "reporting.setTargets",
        "Indicator",
        id,
        json!({ "code": updated.code, "target": updated.target_milli.map(Measure::to_decimal),
                "milestone": updated.milestone_milli.map(Measure::to_decimal) }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// The organisation a reporting write is for ([`rules::report_for`]), which must be a
/// consortium partner.
async fn reporting_org<'a>(
    txn: &DatabaseTransaction,
    actor: &'a Actor,
    requested: Option<Uuid>,
) -> AppResult<(&'a Principal, Uuid)> {
    let (p, org) = rules::report_for(actor, requested)?;
    let partner = organisation::Entity::find_by_id(org)
        .one(txn)
        .await?
        .is_some_and(|o| o.kind.is_consortium());
    if !partner {
        return Err(AppError::bad_input(
            "organisationId",
            "reports come from the consortium's partners",
        ));
    }
    Ok((p, org))
}

/// The organisation's report for the period, if any, locked for the transaction's writes (so
/// its status cannot change between the check and the write).
async fn report_of(
    txn: &DatabaseTransaction,
    period: Uuid,
    org: Uuid,
) -> AppResult<Option<partner_report::Model>> {
    let q = partner_report::Entity::find()
        .filter(partner_report::Column::PeriodId.eq(period))
        .filter(partner_report::Column::OrganisationId.eq(org));
    Ok(for_update(q, txn).one(txn).await?)
}

/// Records (or replaces) an organisation's contribution to a contributed indicator in a period.
/// Derived indicators take no contributions; an accepted report freezes them.
#[allow(clippy::too_many_arguments)]
pub async fn contribute(
    db: &DatabaseConnection,
    actor: &Actor,
    indicator_id: Uuid,
    period_number: i32,
    organisation_id: Option<Uuid>,
    expected_version: Option<i32>,
    value: Measure,
    evidence: NonEmptyText,
    evidence_url: Option<String>,
) -> AppResult<indicator_contribution::Model> {
    rules::report_for(actor, organisation_id)?;
    if value.milli() < 0 {
        return Err(AppError::bad_input("value", "must not be negative"));
    }
    let txn = begin_write(db).await?;
    let (p, org) = reporting_org(&txn, actor, organisation_id).await?;
    let period = period(&txn, actor, period_number).await?;
    let ind = indicator::Entity::find_by_id(indicator_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::bad_input("indicatorId", "no such indicator"))?;
    if ind.derivation.is_some() {
        return Err(AppError::bad_input(
            "indicatorId",
            format!(
                "{} is derived from the portal's data and never typed in",
                ind.code
            ),
        ));
    }
    if report_of(&txn, period.id, org)
        .await?
        .is_some_and(|r| r.status == ReportStatus::Accepted)
    {
        return Err(AppError::conflict(
            "the organisation's report for this period is accepted: its figures are frozen",
        ));
    }
    let now = Utc::now();
    let existing = for_update(
        indicator_contribution::Entity::find()
            .filter(indicator_contribution::Column::IndicatorId.eq(ind.id))
            .filter(indicator_contribution::Column::PeriodId.eq(period.id))
            .filter(indicator_contribution::Column::OrganisationId.eq(org)),
        &txn,
    )
    .one(&txn)
    .await?;
    let model = match existing {
        Some(c) => {
            if expected_version != Some(c.version) {
                return Err(AppError::stale_version("contribution"));
            }
            let version = c.version;
            let mut am: indicator_contribution::ActiveModel = c.into();
            am.value_milli = Set(value.milli());
            am.evidence = Set(evidence.into_inner());
            am.evidence_url = Set(evidence_url);
            am.contributed_by = Set(Some(p.user_id));
            am.updated_at = Set(now);
            am.version = Set(version + 1);
            am.update(&txn).await?
        }
        None => {
            indicator_contribution::ActiveModel {
                id: Set(Uuid::now_v7()),
                indicator_id: Set(ind.id),
                period_id: Set(period.id),
                organisation_id: Set(org),
                value_milli: Set(value.milli()),
                evidence: Set(evidence.into_inner()),
                evidence_url: Set(evidence_url),
                contributed_by: Set(Some(p.user_id)),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
            }
            .insert(&txn)
            .await?
        }
    };
    audit::record(
        &txn,
        Some(p.user_id),
        "reporting.contribute",
        "IndicatorContribution",
        model.id,
        json!({ "indicator": ind.code, "period": period_number, "organisationId": org,
                "value": Measure::to_decimal(value.milli()) }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// A partner report's content, checked.
pub struct ReportContent {
    pub narrative: String,
    pub activities: Vec<(Uuid, Implementation, String)>,
    pub deliverables: Vec<(Uuid, DeliverableStatus, String)>,
    pub expenditure: Vec<(CostCategory, EurAmount)>,
}

/// Writes (or rewrites) an organisation's report for a period while it is a draft or returned.
pub async fn save_report(
    db: &DatabaseConnection,
    actor: &Actor,
    period_number: i32,
    organisation_id: Option<Uuid>,
    expected_version: Option<i32>,
    c: ReportContent,
) -> AppResult<partner_report::Model> {
    rules::report_for(actor, organisation_id)?;
    let txn = begin_write(db).await?;
    let (p, org) = reporting_org(&txn, actor, organisation_id).await?;
    let period = period(&txn, actor, period_number).await?;
    let known_activities: Vec<Uuid> = activity::Entity::find()
        .filter(activity::Column::Id.is_in(c.activities.iter().map(|a| a.0)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    if let Some(i) = c
        .activities
        .iter()
        .position(|a| !known_activities.contains(&a.0))
    {
        return Err(AppError::bad_input(
            format!("activities.{i}.activityId"),
            "no such activity",
        ));
    }
    let known_deliverables: Vec<Uuid> = deliverable::Entity::find()
        .filter(deliverable::Column::Id.is_in(c.deliverables.iter().map(|d| d.0)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    if let Some(i) = c
        .deliverables
        .iter()
        .position(|d| !known_deliverables.contains(&d.0))
    {
        return Err(AppError::bad_input(
            format!("deliverables.{i}.deliverableId"),
            "no such deliverable",
        ));
    }
    let now = Utc::now();
    let report = match report_of(&txn, period.id, org).await? {
        Some(r) => {
            if !matches!(r.status, ReportStatus::Draft | ReportStatus::Returned) {
                return Err(AppError::conflict(format!(
                    "a {} report can no longer be edited",
                    r.status.as_str().to_lowercase()
                )));
            }
            if expected_version != Some(r.version) {
                return Err(AppError::stale_version("partner report"));
            }
            let version = r.version;
            let mut am: partner_report::ActiveModel = r.into();
            am.narrative = Set(c.narrative);
            am.updated_at = Set(now);
            am.version = Set(version + 1);
            am.update(&txn).await?
        }
        None => {
            partner_report::ActiveModel {
                id: Set(Uuid::now_v7()),
                period_id: Set(period.id),
                organisation_id: Set(org),
                status: Set(ReportStatus::Draft),
                narrative: Set(c.narrative),
                submitted_at: Set(None),
                reviewed_by: Set(None),
                review_comment: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
            }
            .insert(&txn)
            .await?
        }
    };
    activity_progress::Entity::delete_many()
        .filter(activity_progress::Column::ReportId.eq(report.id))
        .exec(&txn)
        .await?;
    deliverable_progress::Entity::delete_many()
        .filter(deliverable_progress::Column::ReportId.eq(report.id))
        .exec(&txn)
        .await?;
    expenditure::Entity::delete_many()
        .filter(expenditure::Column::ReportId.eq(report.id))
        .exec(&txn)
        .await?;
    if !c.activities.is_empty() {
        activity_progress::Entity::insert_many(c.activities.iter().map(|(a, s, n)| {
            activity_progress::ActiveModel {
                report_id: Set(report.id),
                activity_id: Set(*a),
                status: Set(*s),
                narrative: Set(n.clone()),
            }
        }))
        .exec(&txn)
        .await?;
    }
    if !c.deliverables.is_empty() {
        deliverable_progress::Entity::insert_many(c.deliverables.iter().map(|(d, s, n)| {
            deliverable_progress::ActiveModel {
                report_id: Set(report.id),
                deliverable_id: Set(*d),
                status: Set(*s),
                note: Set(n.clone()),
            }
        }))
        .exec(&txn)
        .await?;
    }
    if !c.expenditure.is_empty() {
        expenditure::Entity::insert_many(c.expenditure.iter().map(|(cat, amount)| {
            expenditure::ActiveModel {
                report_id: Set(report.id),
                category: Set(*cat),
                amount_cents: Set(amount.cents()),
            }
        }))
        .exec(&txn)
        .await?;
    }
    audit::record(
        &txn,
        Some(p.user_id),
        "reporting.saveReport",
        "PartnerReport",
        report.id,
        json!({ "period": period_number, "organisationId": org, "version": report.version,
                "expenditure": c.expenditure.iter()
                    .map(|(cat, a)| json!({ "category": cat.as_str(), "amount": EurAmount::to_decimal(a.cents()) }))
                    .collect::<Vec<_>>() }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(report)
}

/// A step of a report's review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportStep {
    /// The partner hands it in.
    Submit,
    /// The coordinator accepts it (it freezes).
    Accept,
    /// The coordinator returns it with a comment.
    Return,
}

/// Moves a report: DRAFT/RETURNED → SUBMITTED (its partner or a coordinator), SUBMITTED →
/// ACCEPTED/RETURNED (coordinators).
pub async fn review_report(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    step: ReportStep,
    expected_version: Option<i32>,
    comment: Option<String>,
) -> AppResult<partner_report::Model> {
    // Partners and coordinators move reports; which step, the rule says once it is loaded.
    rules::move_partner_report(actor, false)?;
    let txn = begin_write(db).await?;
    let current = for_update(
        scope::partner_reports(actor).filter(partner_report::Column::Id.eq(id)),
        &txn,
    )
    .one(&txn)
    .await?
    .ok_or_else(|| AppError::not_found("partner report"))?;
    let (from, to): (&[ReportStatus], ReportStatus) = match step {
        ReportStep::Submit => (
            &[ReportStatus::Draft, ReportStatus::Returned],
            ReportStatus::Submitted,
        ),
        ReportStep::Accept => (&[ReportStatus::Submitted], ReportStatus::Accepted),
        ReportStep::Return => (&[ReportStatus::Submitted], ReportStatus::Returned),
    };
    let p = rules::move_partner_report(actor, step != ReportStep::Submit)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(AppError::stale_version("partner report"));
    }
    if !from.contains(&current.status) {
        return Err(AppError::conflict(format!(
            "a {} report cannot become {}",
            current.status.as_str().to_lowercase(),
            to.as_str().to_lowercase()
        )));
    }
    if step == ReportStep::Return && comment.is_none() {
        return Err(AppError::bad_input(
            "comment",
            "say what the partner should change",
        ));
    }
    let now = Utc::now();
    let version = current.version;
    let mut am: partner_report::ActiveModel = current.clone().into();
    am.status = Set(to);
    match step {
        ReportStep::Submit => am.submitted_at = Set(Some(now)),
        ReportStep::Accept | ReportStep::Return => {
            am.reviewed_by = Set(Some(p.user_id));
            am.review_comment = Set(comment.clone());
        }
    }
    am.updated_at = Set(now);
    am.version = Set(version + 1);
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        &format!(
            "reporting.{}Report",
            match step {
                ReportStep::Submit => "submit",
                ReportStep::Accept => "accept",
                ReportStep::Return => "return",
            }
        ),
        "PartnerReport",
        id,
        json!({ "status": { "from": current.status.as_str(), "to": to.as_str() }, "comment": comment }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use entity::Role;

    use super::*;
    use crate::testing::{actor, database};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[tokio::test]
    async fn reporting_periods_are_numbered_ordered_and_never_overlap() {
        let t = database().await;
        let c = actor(Role::Coordinator);
        let first = create_period(
            &t.db,
            &c,
            1,
            day(2023, 1, 1),
            day(2023, 6, 30),
            day(2023, 9, 30),
        )
        .await
        .expect("period 1");
        assert_eq!(first.number, 1);
        for (number, starts, ends, due, code, field) in [
            // The same number again.
            (
                1,
                day(2024, 1, 1),
                day(2024, 6, 30),
                day(2024, 9, 30),
                "CONFLICT",
                None,
            ),
            // Overlapping period 1 by a day.
            (
                2,
                day(2023, 6, 30),
                day(2023, 12, 31),
                day(2024, 3, 31),
                "BAD_USER_INPUT",
                Some("startsOn"),
            ),
            // Ends before it starts; due before it ends; number out of range.
            (
                3,
                day(2024, 6, 30),
                day(2024, 1, 1),
                day(2024, 9, 30),
                "BAD_USER_INPUT",
                Some("endsOn"),
            ),
            (
                4,
                day(2025, 1, 1),
                day(2025, 6, 30),
                day(2025, 6, 1),
                "BAD_USER_INPUT",
                Some("reportDeadline"),
            ),
            (
                0,
                day(2026, 1, 1),
                day(2026, 6, 30),
                day(2026, 9, 30),
                "BAD_USER_INPUT",
                Some("number"),
            ),
        ] {
            let e = create_period(&t.db, &c, number, starts, ends, due)
                .await
                .expect_err("refused");
            assert_eq!(e.code(), code, "{number}");
            if let (Some(field), AppError::BadUserInput { field: got, .. }) = (field, &e) {
                assert_eq!(got, field);
            }
        }
        create_period(
            &t.db,
            &c,
            2,
            day(2023, 7, 1),
            day(2023, 12, 31),
            day(2024, 3, 31),
        )
        .await
        .expect("the next period, the day after");
        let partner = actor(Role::Partner);
        let refused = create_period(
            &t.db,
            &partner,
            3,
            day(2024, 1, 1),
            day(2024, 6, 30),
            day(2024, 9, 30),
        )
        .await
        .expect_err("partner");
        assert_eq!(refused.code(), "FORBIDDEN");
    }
}
