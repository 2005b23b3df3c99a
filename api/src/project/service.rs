//! Reading and changing the project's facts. Changes are whole-field: a field the change leaves
//! out stays, a field set to nothing is cleared. Every change checks the caller's expected
//! version (CONFLICT when someone else changed the record first) and writes one audit entry
//! with each changed field's value before and after.

use chrono::{NaiveDate, Utc};
use entity::{OrganisationKind, organisation, partner_facts, project_settings};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, rules};

/// A field of a change: `None` leaves it, `Some(None)` clears it, `Some(Some(v))` sets it.
pub type Patch<T> = Option<Option<T>>;

/// A text in one language, as the settings' multilingual lists hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageText {
    pub text: String,
    pub language: String,
}

/// Reads a stored multilingual list (a list the database holds that is not one is empty: the
/// column is only ever written by this module).
pub fn texts(v: &Value) -> Vec<LanguageText> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// The settings before anything was recorded: every fact unknown, version 0.
pub fn blank() -> project_settings::Model {
    project_settings::Model {
        id: 1,
        programme_name: None,
        programme_period: None,
        call_serial_number: None,
        call_start_date: None,
        call_end_date: None,
        project_code: None,
        acronym: None,
        names: json!([]),
        descriptions: json!([]),
        expected_achievements: json!([]),
        actual_achievements: json!([]),
        start_date: None,
        end_date: None,
        total_budget_cents: None,
        contributing_eu_funds: None,
        eu_funding_cents: None,
        eu_cofinancing_rate_bp: None,
        programme_priority_code: None,
        priority_specific_objective: None,
        website: None,
        updated_at: chrono::DateTime::<Utc>::UNIX_EPOCH,
        version: 0,
    }
}

/// The project's settings as recorded (every fact unknown, version 0, before the first change).
pub async fn settings(db: &impl ConnectionTrait) -> AppResult<project_settings::Model> {
    Ok(project_settings::Entity::find_by_id(1)
        .one(db)
        .await?
        .unwrap_or_else(blank))
}

/// A change of the settings, parsed at the edge.
#[derive(Default)]
pub struct SettingsChange {
    pub programme_name: Patch<String>,
    pub programme_period: Patch<String>,
    pub call_serial_number: Patch<String>,
    pub call_start_date: Patch<NaiveDate>,
    pub call_end_date: Patch<NaiveDate>,
    pub project_code: Patch<String>,
    pub acronym: Patch<String>,
    pub names: Option<Vec<LanguageText>>,
    pub descriptions: Option<Vec<LanguageText>>,
    pub expected_achievements: Option<Vec<LanguageText>>,
    pub actual_achievements: Option<Vec<LanguageText>>,
    pub start_date: Patch<NaiveDate>,
    pub end_date: Patch<NaiveDate>,
    pub total_budget_cents: Patch<i64>,
    pub contributing_eu_funds: Patch<String>,
    pub eu_funding_cents: Patch<i64>,
    pub eu_cofinancing_rate_bp: Patch<i32>,
    pub programme_priority_code: Patch<String>,
    pub priority_specific_objective: Patch<String>,
    pub website: Patch<String>,
}

fn apply<T>(field: &mut T, patch: Option<T>) {
    if let Some(v) = patch {
        *field = v;
    }
}

fn list(v: Vec<LanguageText>) -> Value {
    serde_json::to_value(v).unwrap_or_else(|_| json!([]))
}

/// A start that comes after its end is refused, whichever of the two the change moves.
fn ordered(start: Option<NaiveDate>, end: Option<NaiveDate>, field: &str) -> AppResult<()> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(AppError::bad_input(
            field,
            format!("ends on {e}, before it starts on {s}"),
        )),
        _ => Ok(()),
    }
}

/// `{field: {before, after}}` for every stored field the change altered (the record's own
/// bookkeeping, version and time, left out).
fn changed_fields<T: Serialize>(before: &T, after: &T) -> AppResult<Value> {
    let as_map = |v: &T| match serde_json::to_value(v) {
        Ok(Value::Object(m)) => Ok(m),
        other => Err(AppError::internal(format!(
            "audit: a record did not serialise to an object: {other:?}"
        ))),
    };
    let (b, a) = (as_map(before)?, as_map(after)?);
    let mut out = Map::new();
    for (k, after) in a {
        if matches!(k.as_str(), "version" | "updated_at") {
            continue;
        }
        let before = b.get(&k).cloned().unwrap_or(Value::Null);
        if before != after {
            out.insert(k, json!({ "before": before, "after": after }));
        }
    }
    Ok(Value::Object(out))
}

/// A change of one record, written with its audit entry.
struct Change {
    user: Uuid,
    action: &'static str,
    entity_type: &'static str,
    entity_id: String,
    /// Whether the record is stored already (else this change inserts it).
    exists: bool,
}

impl Change {
    /// Stores `next` (inserted or updated, every column written) and the audit entry naming
    /// each field that differs from `before`.
    async fn save<M, A>(self, txn: &DatabaseTransaction, before: &M, next: M) -> AppResult<()>
    where
        M: Serialize + IntoActiveModel<A>,
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        let changes = changed_fields(before, &next)?;
        let am = next.into_active_model().reset_all();
        if self.exists {
            am.update(txn).await?;
        } else {
            am.insert(txn).await?;
        }
        audit::record(
            txn,
            Some(self.user),
            self.action,
            self.entity_type,
            self.entity_id,
            changes,
        )
        .await
    }
}

/// Changes the settings (coordinators).
pub async fn update_settings(
    db: &DatabaseConnection,
    actor: &Actor,
    expected_version: i32,
    change: SettingsChange,
) -> AppResult<project_settings::Model> {
    let p = rules::manage_project_facts(actor)?;
    let txn = begin_write(db).await?;
    crate::db::serialise_writes(&txn, "project_settings").await?;
    let current = settings(&txn).await?;
    if current.version != expected_version {
        return Err(AppError::stale_version("project settings"));
    }
    let mut next = current.clone();
    apply(&mut next.programme_name, change.programme_name);
    apply(&mut next.programme_period, change.programme_period);
    apply(&mut next.call_serial_number, change.call_serial_number);
    apply(&mut next.call_start_date, change.call_start_date);
    apply(&mut next.call_end_date, change.call_end_date);
    apply(&mut next.project_code, change.project_code);
    apply(&mut next.acronym, change.acronym);
    apply(&mut next.names, change.names.map(list));
    apply(&mut next.descriptions, change.descriptions.map(list));
    apply(
        &mut next.expected_achievements,
        change.expected_achievements.map(list),
    );
    apply(
        &mut next.actual_achievements,
        change.actual_achievements.map(list),
    );
    apply(&mut next.start_date, change.start_date);
    apply(&mut next.end_date, change.end_date);
    apply(&mut next.total_budget_cents, change.total_budget_cents);
    apply(
        &mut next.contributing_eu_funds,
        change.contributing_eu_funds,
    );
    apply(&mut next.eu_funding_cents, change.eu_funding_cents);
    apply(
        &mut next.eu_cofinancing_rate_bp,
        change.eu_cofinancing_rate_bp,
    );
    apply(
        &mut next.programme_priority_code,
        change.programme_priority_code,
    );
    apply(
        &mut next.priority_specific_objective,
        change.priority_specific_objective,
    );
    apply(&mut next.website, change.website);
    ordered(next.call_start_date, next.call_end_date, "callEndDate")?;
    ordered(next.start_date, next.end_date, "endDate")?;
    if let (Some(eu), Some(total)) = (next.eu_funding_cents, next.total_budget_cents)
        && eu > total
    {
        return Err(AppError::bad_input(
            "euFundingAmount",
            "must not exceed the total budget",
        ));
    }
    next.version = current.version + 1;
    next.updated_at = Utc::now();
    let change = Change {
        user: p.user_id,
        action: "project.updateSettings",
        entity_type: "ProjectSettings",
        entity_id: "1".into(),
        exists: current.version > 0,
    };
    change.save(&txn, &current, next.clone()).await?;
    crate::db::commit(txn).await?;
    Ok(next)
}

/// The consortium (lead partner first, then partners by name) with each partner's recorded
/// facts, if any.
pub async fn partners(
    db: &impl ConnectionTrait,
) -> AppResult<Vec<(organisation::Model, Option<partner_facts::Model>)>> {
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Kind.is_in(OrganisationKind::CONSORTIUM))
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .all(db)
        .await?;
    let mut facts: std::collections::HashMap<Uuid, partner_facts::Model> =
        partner_facts::Entity::find()
            .filter(partner_facts::Column::OrganisationId.is_in(orgs.iter().map(|o| o.id)))
            .all(db)
            .await?
            .into_iter()
            .map(|f| (f.organisation_id, f))
            .collect();
    let mut out: Vec<_> = orgs
        .into_iter()
        .map(|o| {
            let f = facts.remove(&o.id);
            (o, f)
        })
        .collect();
    // The lead partner first, as the programme's systems list a consortium.
    out.sort_by_key(|(o, _)| o.kind != OrganisationKind::LeadPartner);
    Ok(out)
}

/// A partner's record before anything was recorded: every fact unknown, version 0.
pub fn blank_partner(organisation_id: Uuid) -> partner_facts::Model {
    partner_facts::Model {
        organisation_id,
        organisation_type: None,
        legal_status: None,
        street: None,
        town: None,
        postal_code: None,
        website: None,
        total_eligible_budget_cents: None,
        cofinancing_cents: None,
        cofinancing_rate_bp: None,
        partner_contribution_cents: None,
        updated_at: chrono::DateTime::<Utc>::UNIX_EPOCH,
        version: 0,
    }
}

/// A change of one partner's facts, parsed at the edge.
#[derive(Default)]
pub struct PartnerChange {
    pub organisation_type: Patch<String>,
    pub legal_status: Patch<String>,
    pub street: Patch<String>,
    pub town: Patch<String>,
    pub postal_code: Patch<String>,
    pub website: Patch<String>,
    pub total_eligible_budget_cents: Patch<i64>,
    pub cofinancing_cents: Patch<i64>,
    pub cofinancing_rate_bp: Patch<i32>,
    pub partner_contribution_cents: Patch<i64>,
}

/// Records or changes a consortium partner's facts (coordinators). Only the lead partner and
/// partners have such a record: any other organisation is BAD_USER_INPUT.
pub async fn set_partner_facts(
    db: &DatabaseConnection,
    actor: &Actor,
    organisation_id: Uuid,
    expected_version: i32,
    change: PartnerChange,
) -> AppResult<(organisation::Model, partner_facts::Model)> {
    let p = rules::manage_project_facts(actor)?;
    let txn = begin_write(db).await?;
    crate::db::serialise_writes(&txn, "partner_facts").await?;
    let org = organisation::Entity::find_by_id(organisation_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("organisation"))?;
    if !org.kind.is_consortium() {
        return Err(AppError::bad_input(
            "organisationId",
            "only the consortium's lead partner and partners have partner facts",
        ));
    }
    let current = partner_facts::Entity::find_by_id(organisation_id)
        .one(&txn)
        .await?;
    let found = current.as_ref().map_or(0, |c| c.version);
    if found != expected_version {
        return Err(AppError::stale_version("partner's facts"));
    }
    let before = current
        .clone()
        .unwrap_or_else(|| blank_partner(organisation_id));
    let mut next = before.clone();
    apply(&mut next.organisation_type, change.organisation_type);
    apply(&mut next.legal_status, change.legal_status);
    apply(&mut next.street, change.street);
    apply(&mut next.town, change.town);
    apply(&mut next.postal_code, change.postal_code);
    apply(&mut next.website, change.website);
    apply(
        &mut next.total_eligible_budget_cents,
        change.total_eligible_budget_cents,
    );
    apply(&mut next.cofinancing_cents, change.cofinancing_cents);
    apply(&mut next.cofinancing_rate_bp, change.cofinancing_rate_bp);
    apply(
        &mut next.partner_contribution_cents,
        change.partner_contribution_cents,
    );
    if let (Some(co), Some(total)) = (next.cofinancing_cents, next.total_eligible_budget_cents)
        && co > total
    {
        return Err(AppError::bad_input(
            "cofinancingAmount",
            "must not exceed the total eligible budget",
        ));
    }
    next.version = before.version + 1;
    next.updated_at = Utc::now();
    let change = Change {
        user: p.user_id,
        action: "project.setPartnerFacts",
        entity_type: "Organisation",
        entity_id: organisation_id.to_string(),
        exists: current.is_some(),
    };
    change.save(&txn, &before, next.clone()).await?;
    crate::db::commit(txn).await?;
    Ok((org, next))
}

/// Sets the demo's public facts where nothing is recorded yet (`seed --demo`): the programme,
/// the project's identity, dates and funding as published; everything else stays unknown.
pub async fn seed_public_facts(db: &impl ConnectionTrait) -> AppResult<bool> {
    if project_settings::Entity::find_by_id(1)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let facts = project_settings::Model {
        programme_name: Some("Interreg Baltic Sea Region".into()),
        programme_period: Some("2021-2027".into()),
        project_code: Some("C004".into()),
        acronym: Some("BSR Cultural Pearls".into()),
        names: json!([{ "text": "BSR Cultural Pearls", "language": "en" }]),
        start_date: NaiveDate::from_ymd_opt(2023, 1, 1),
        end_date: NaiveDate::from_ymd_opt(2025, 12, 31),
        total_budget_cents: Some(350_000_000),
        eu_funding_cents: Some(280_000_000),
        eu_cofinancing_rate_bp: Some(8000),
        updated_at: Utc::now(),
        version: 1,
        ..blank()
    };
    let am: project_settings::ActiveModel = facts.into();
    project_settings::Entity::insert(am.reset_all())
        .exec(db)
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_names_each_changed_field_before_and_after() {
        let before = blank();
        let mut after = blank();
        after.acronym = Some("BSR Cultural Pearls".into());
        after.version = 3;
        after.names = json!([{ "text": "x", "language": "en" }]);
        let c = changed_fields(&before, &after).unwrap();
        assert_eq!(
            c,
            json!({
                "acronym": { "before": null, "after": "BSR Cultural Pearls" },
                "names": { "before": [], "after": [{ "text": "x", "language": "en" }] },
            })
        );
        assert_eq!(changed_fields(&before, &before).unwrap(), json!({}));
    }

    #[test]
    fn dates_must_run_forward() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert!(ordered(d("2023-01-01"), d("2025-12-31"), "endDate").is_ok());
        assert!(ordered(d("2023-01-01"), None, "endDate").is_ok());
        assert!(ordered(d("2025-12-31"), d("2023-01-01"), "endDate").is_err());
    }

    #[test]
    fn a_stored_list_reads_back() {
        let v = list(vec![LanguageText {
            text: "Pearls".into(),
            language: "en".into(),
        }]);
        assert_eq!(texts(&v)[0].text, "Pearls");
        assert!(texts(&json!("not a list")).is_empty());
    }
}
