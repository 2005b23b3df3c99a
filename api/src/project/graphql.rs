//! The project's facts in the API: `projectSettings` (read like the reporting), and
//! `updateProjectSettings` and `setPartnerFacts` (coordinators).

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use entity::{OrganisationKind, organisation, partner_facts, project_settings};

use super::service::{self, PartnerChange, Patch, SettingsChange};
use crate::domain::{EurAmount, LanguageCode, NonEmptyText, Percent, parse_url};
use crate::error::AppError;
use crate::graphql::context::req;
use crate::graphql::ids;
use crate::graphql::scalars::{Date, Decimal, Timestamp};
use crate::organisations::types::Organisation;
use crate::policy::rules;

/// Longest single-line fact (a name, a code, a status), in characters.
const LINE: usize = 300;
/// Longest text in a multilingual list (a description, achievements), in characters.
const TEXT: usize = 10_000;

/// A text in one language.
#[derive(SimpleObject, Clone)]
pub struct LanguageText {
    /// The text.
    pub text: String,
    /// Its language, an ISO 639-1 code (`en`, `de`, …).
    pub language: String,
}

/// A text in one language, as input.
#[derive(InputObject)]
pub struct LanguageTextInput {
    /// The text (1–10,000 characters).
    pub text: String,
    /// Its language, an ISO 639-1 code (`en`, `de`, …).
    pub language: String,
}

fn texts(v: &serde_json::Value) -> Vec<LanguageText> {
    service::texts(v)
        .into_iter()
        .map(|t| LanguageText {
            text: t.text,
            language: t.language,
        })
        .collect()
}

fn eur(cents: Option<i64>) -> Option<Decimal> {
    cents.map(|c| Decimal(EurAmount::to_decimal(c)))
}

fn percent(bp: Option<i32>) -> Option<Decimal> {
    bp.map(|b| Decimal(Percent::to_decimal(b)))
}

/// The project's own facts as the Interreg monitoring systems (keep.eu, Jems) record a
/// project; the keep.eu export carries them. Every fact is optional: what is not known is
/// null (or an empty list) and left out of the export, never invented.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ProjectSettings {
    /// The programme, e.g. "Interreg Baltic Sea Region" (keep.eu `programme_name`).
    pub programme_name: Option<String>,
    /// The programming period, e.g. "2021-2027" (keep.eu `period`).
    pub programme_period: Option<String>,
    /// The call the project was selected in (keep.eu `call.serial_number`).
    pub call_serial_number: Option<String>,
    /// When that call opened.
    pub call_start_date: Option<Date>,
    /// When that call closed.
    pub call_end_date: Option<Date>,
    /// The project's id in the programme, e.g. "C004" (keep.eu `project_id`).
    pub project_code: Option<String>,
    /// The project's acronym.
    pub acronym: Option<String>,
    /// The project's name, per language.
    pub names: Vec<LanguageText>,
    /// The project's summary, per language.
    pub descriptions: Vec<LanguageText>,
    /// What the project expects to achieve, per language.
    pub expected_achievements: Vec<LanguageText>,
    /// What it has achieved, per language.
    pub actual_achievements: Vec<LanguageText>,
    /// The project's first day.
    pub start_date: Option<Date>,
    /// The project's last day.
    pub end_date: Option<Date>,
    /// The total budget, EUR.
    pub total_budget: Option<Decimal>,
    /// The EU funds contributing, as the programme names them.
    pub contributing_eu_funds: Option<String>,
    /// The EU funding, EUR.
    pub eu_funding_amount: Option<Decimal>,
    /// The EU co-financing rate, percent.
    pub eu_cofinancing_rate: Option<Decimal>,
    /// The programme priority's code.
    pub programme_priority_code: Option<String>,
    /// The priority's specific objective.
    pub priority_specific_objective: Option<String>,
    /// The project's website.
    pub website: Option<String>,
    /// When the facts were last changed (null before the first change).
    pub updated_at: Option<Timestamp>,
    /// Optimistic-concurrency version (0 before the first change); pass it as
    /// `expectedVersion`.
    pub version: i32,
}

impl From<project_settings::Model> for ProjectSettings {
    fn from(m: project_settings::Model) -> Self {
        Self {
            programme_name: m.programme_name,
            programme_period: m.programme_period,
            call_serial_number: m.call_serial_number,
            call_start_date: m.call_start_date.map(Date),
            call_end_date: m.call_end_date.map(Date),
            project_code: m.project_code,
            acronym: m.acronym,
            names: texts(&m.names),
            descriptions: texts(&m.descriptions),
            expected_achievements: texts(&m.expected_achievements),
            actual_achievements: texts(&m.actual_achievements),
            start_date: m.start_date.map(Date),
            end_date: m.end_date.map(Date),
            total_budget: eur(m.total_budget_cents),
            contributing_eu_funds: m.contributing_eu_funds,
            eu_funding_amount: eur(m.eu_funding_cents),
            eu_cofinancing_rate: percent(m.eu_cofinancing_rate_bp),
            programme_priority_code: m.programme_priority_code,
            priority_specific_objective: m.priority_specific_objective,
            website: m.website,
            updated_at: (m.version > 0).then(|| m.updated_at.into()),
            version: m.version,
        }
    }
}

#[ComplexObject]
impl ProjectSettings {
    /// The consortium, lead partner first, with each partner's recorded facts.
    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<PartnerFacts>> {
        let rc = req(ctx);
        Ok(service::partners(rc.db())
            .await?
            .into_iter()
            .map(|(o, f)| PartnerFacts::new(o, f))
            .collect())
    }
}

/// A partner's role in the consortium, as the programme's systems name it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PartnerType {
    /// The lead partner.
    LeadPartner,
    /// A project partner.
    Partner,
}

/// What the programme's monitoring systems record of a consortium partner (keep.eu
/// `partner`), beside the organisation itself.
#[derive(SimpleObject)]
pub struct PartnerFacts {
    /// The partner organisation.
    pub organisation: Organisation,
    /// Lead partner or partner.
    pub partner_type: PartnerType,
    /// Its type of organisation, as the programme classifies it.
    pub organisation_type: Option<String>,
    /// Its legal status (e.g. public or private body).
    pub legal_status: Option<String>,
    /// Street and number of its main address.
    pub street: Option<String>,
    /// Town of its main address.
    pub town: Option<String>,
    /// Postal code of its main address.
    pub postal_code: Option<String>,
    /// Its website.
    pub website: Option<String>,
    /// Its total eligible budget, EUR.
    pub total_eligible_budget: Option<Decimal>,
    /// The programme's co-financing of it, EUR.
    pub cofinancing_amount: Option<Decimal>,
    /// The co-financing rate, percent.
    pub cofinancing_rate: Option<Decimal>,
    /// Its own contribution, EUR.
    pub partner_contribution: Option<Decimal>,
    /// Optimistic-concurrency version (0 before anything was recorded); pass it as
    /// `expectedVersion`.
    pub version: i32,
}

impl PartnerFacts {
    fn new(o: organisation::Model, f: Option<partner_facts::Model>) -> Self {
        let f = f.unwrap_or_else(|| service::blank_partner(o.id));
        let partner_type = if o.kind == OrganisationKind::LeadPartner {
            PartnerType::LeadPartner
        } else {
            PartnerType::Partner
        };
        Self {
            partner_type,
            organisation_type: f.organisation_type,
            legal_status: f.legal_status,
            street: f.street,
            town: f.town,
            postal_code: f.postal_code,
            website: f.website,
            total_eligible_budget: eur(f.total_eligible_budget_cents),
            cofinancing_amount: eur(f.cofinancing_cents),
            cofinancing_rate: percent(f.cofinancing_rate_bp),
            partner_contribution: eur(f.partner_contribution_cents),
            version: f.version,
            organisation: o.into(),
        }
    }
}

/// The project's facts (coordinators, partners, integrations with `reporting:read`).
#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// The project's own facts, as the keep.eu export carries them (coordinators, partners,
    /// integrations with `reporting:read`).
    async fn project_settings(&self, ctx: &Context<'_>) -> Result<ProjectSettings> {
        let rc = req(ctx);
        rules::read_reporting(&rc.actor)?;
        Ok(service::settings(rc.db()).await?.into())
    }
}

/// Input of `updateProjectSettings`. A field left out stays as it is; a field given as null
/// (or an empty text) is cleared; a list given replaces the list (at most one text per
/// language).
#[derive(InputObject)]
pub struct UpdateProjectSettingsInput {
    /// The version read (0 before the first change): CONFLICT if someone changed the facts
    /// since.
    pub expected_version: i32,
    /// The programme (up to 300 characters).
    pub programme_name: MaybeUndefined<String>,
    /// The programming period, e.g. "2021-2027".
    pub programme_period: MaybeUndefined<String>,
    /// The call's serial number.
    pub call_serial_number: MaybeUndefined<String>,
    /// When the call opened.
    pub call_start_date: MaybeUndefined<Date>,
    /// When the call closed (not before it opened).
    pub call_end_date: MaybeUndefined<Date>,
    /// The project's id in the programme, e.g. "C004".
    pub project_code: MaybeUndefined<String>,
    /// The acronym.
    pub acronym: MaybeUndefined<String>,
    /// The name, per language.
    pub names: Option<Vec<LanguageTextInput>>,
    /// The summary, per language.
    pub descriptions: Option<Vec<LanguageTextInput>>,
    /// Expected achievements, per language.
    pub expected_achievements: Option<Vec<LanguageTextInput>>,
    /// Actual achievements, per language.
    pub actual_achievements: Option<Vec<LanguageTextInput>>,
    /// The project's first day.
    pub start_date: MaybeUndefined<Date>,
    /// The project's last day (not before the first).
    pub end_date: MaybeUndefined<Date>,
    /// The total budget, EUR (at most two decimals).
    pub total_budget: MaybeUndefined<Decimal>,
    /// The contributing EU funds.
    pub contributing_eu_funds: MaybeUndefined<String>,
    /// The EU funding, EUR (not above the total budget).
    pub eu_funding_amount: MaybeUndefined<Decimal>,
    /// The EU co-financing rate, percent (0–100, two decimals).
    pub eu_cofinancing_rate: MaybeUndefined<Decimal>,
    /// The programme priority's code.
    pub programme_priority_code: MaybeUndefined<String>,
    /// The priority's specific objective.
    pub priority_specific_objective: MaybeUndefined<String>,
    /// The website (http or https).
    pub website: MaybeUndefined<String>,
}

/// Input of `setPartnerFacts`: as for `updateProjectSettings`, a field left out stays and a
/// null clears it.
#[derive(InputObject)]
pub struct SetPartnerFactsInput {
    /// The partner organisation (the lead partner or a partner).
    pub organisation_id: ID,
    /// The version read (0 before anything was recorded).
    pub expected_version: i32,
    /// Its type of organisation.
    pub organisation_type: MaybeUndefined<String>,
    /// Its legal status.
    pub legal_status: MaybeUndefined<String>,
    /// Street and number.
    pub street: MaybeUndefined<String>,
    /// Town.
    pub town: MaybeUndefined<String>,
    /// Postal code.
    pub postal_code: MaybeUndefined<String>,
    /// Website (http or https).
    pub website: MaybeUndefined<String>,
    /// Total eligible budget, EUR.
    pub total_eligible_budget: MaybeUndefined<Decimal>,
    /// The programme's co-financing, EUR (not above the eligible budget).
    pub cofinancing_amount: MaybeUndefined<Decimal>,
    /// The co-financing rate, percent.
    pub cofinancing_rate: MaybeUndefined<Decimal>,
    /// Its own contribution, EUR.
    pub partner_contribution: MaybeUndefined<Decimal>,
}

/// Result of `updateProjectSettings`.
#[derive(SimpleObject)]
pub struct ProjectSettingsPayload {
    /// The facts as they are now.
    pub settings: ProjectSettings,
}

/// Result of `setPartnerFacts`.
#[derive(SimpleObject)]
pub struct PartnerFactsPayload {
    /// The partner's facts as they are now.
    pub partner: PartnerFacts,
}

/// A field of a change: absent stays, null clears, a value is parsed.
fn patch<T, U>(
    v: MaybeUndefined<T>,
    parse: impl FnOnce(T) -> Result<Option<U>, AppError>,
) -> Result<Patch<U>, AppError> {
    match v {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => parse(v).map(Some),
    }
}

/// A one-line fact; an empty text clears it.
fn line(field: &str, v: MaybeUndefined<String>) -> Result<Patch<String>, AppError> {
    patch(v, |s| {
        if s.trim().is_empty() {
            return Ok(None);
        }
        let t = NonEmptyText::parse(field, &s, LINE)?.into_inner();
        if t.contains(['\n', '\r']) {
            return Err(AppError::bad_input(field, "one line"));
        }
        Ok(Some(t))
    })
}

fn date(v: MaybeUndefined<Date>) -> Result<Patch<chrono::NaiveDate>, AppError> {
    patch(v, |d| Ok(Some(d.0)))
}

fn money(field: &str, v: MaybeUndefined<Decimal>) -> Result<Patch<i64>, AppError> {
    patch(v, |d| EurAmount::parse(field, d.0).map(|e| Some(e.cents())))
}

fn rate(field: &str, v: MaybeUndefined<Decimal>) -> Result<Patch<i32>, AppError> {
    patch(v, |d| {
        Percent::parse(field, d.0).map(|p| Some(p.basis_points()))
    })
}

fn link(field: &str, v: MaybeUndefined<String>) -> Result<Patch<String>, AppError> {
    patch(v, |s| {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            parse_url(field, &s).map(Some)
        }
    })
}

/// A multilingual list: each text checked, at most one per language.
fn list(
    field: &str,
    v: Option<Vec<LanguageTextInput>>,
) -> Result<Option<Vec<service::LanguageText>>, AppError> {
    let Some(items) = v else { return Ok(None) };
    if items.len() > 30 {
        return Err(AppError::bad_input(field, "at most 30 languages"));
    }
    let mut out: Vec<service::LanguageText> = Vec::with_capacity(items.len());
    for i in items {
        let language = LanguageCode::parse(field, &i.language)?.into_inner();
        if out.iter().any(|t| t.language == language) {
            return Err(AppError::bad_input(
                field,
                format!("one text per language; \"{language}\" is given twice"),
            ));
        }
        out.push(service::LanguageText {
            text: NonEmptyText::parse(field, &i.text, TEXT)?.into_inner(),
            language,
        });
    }
    Ok(Some(out))
}

impl UpdateProjectSettingsInput {
    fn parse(self) -> Result<SettingsChange, AppError> {
        Ok(SettingsChange {
            programme_name: line("programmeName", self.programme_name)?,
            programme_period: line("programmePeriod", self.programme_period)?,
            call_serial_number: line("callSerialNumber", self.call_serial_number)?,
            call_start_date: date(self.call_start_date)?,
            call_end_date: date(self.call_end_date)?,
            project_code: line("projectCode", self.project_code)?,
            acronym: line("acronym", self.acronym)?,
            names: list("names", self.names)?,
            descriptions: list("descriptions", self.descriptions)?,
            expected_achievements: list("expectedAchievements", self.expected_achievements)?,
            actual_achievements: list("actualAchievements", self.actual_achievements)?,
            start_date: date(self.start_date)?,
            end_date: date(self.end_date)?,
            total_budget_cents: money("totalBudget", self.total_budget)?,
            contributing_eu_funds: line("contributingEuFunds", self.contributing_eu_funds)?,
            eu_funding_cents: money("euFundingAmount", self.eu_funding_amount)?,
            eu_cofinancing_rate_bp: rate("euCofinancingRate", self.eu_cofinancing_rate)?,
            programme_priority_code: line("programmePriorityCode", self.programme_priority_code)?,
            priority_specific_objective: line(
                "prioritySpecificObjective",
                self.priority_specific_objective,
            )?,
            website: link("website", self.website)?,
        })
    }
}

impl SetPartnerFactsInput {
    fn parse(self) -> Result<PartnerChange, AppError> {
        Ok(PartnerChange {
            organisation_type: line("organisationType", self.organisation_type)?,
            legal_status: line("legalStatus", self.legal_status)?,
            street: line("street", self.street)?,
            town: line("town", self.town)?,
            postal_code: line("postalCode", self.postal_code)?,
            website: link("website", self.website)?,
            total_eligible_budget_cents: money("totalEligibleBudget", self.total_eligible_budget)?,
            cofinancing_cents: money("cofinancingAmount", self.cofinancing_amount)?,
            cofinancing_rate_bp: rate("cofinancingRate", self.cofinancing_rate)?,
            partner_contribution_cents: money("partnerContribution", self.partner_contribution)?,
        })
    }
}

/// Changing the project's facts (coordinators).
#[derive(Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// Changes the project's facts (coordinators); audited with each field before and after.
    async fn update_project_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateProjectSettingsInput,
    ) -> Result<Option<ProjectSettingsPayload>> {
        let rc = req(ctx);
        rules::manage_project_facts(&rc.actor)?;
        let expected = input.expected_version;
        let s = service::update_settings(rc.db(), &rc.actor, expected, input.parse()?).await?;
        Ok(Some(ProjectSettingsPayload { settings: s.into() }))
    }

    /// Records or changes a consortium partner's facts (coordinators); audited with each
    /// field before and after.
    async fn set_partner_facts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SetPartnerFactsInput,
    ) -> Result<Option<PartnerFactsPayload>> {
        let rc = req(ctx);
        rules::manage_project_facts(&rc.actor)?;
        let id = ids::decode(&input.organisation_id, "Organisation", "organisationId")?;
        let expected = input.expected_version;
        let (o, f) =
            service::set_partner_facts(rc.db(), &rc.actor, id, expected, input.parse()?).await?;
        Ok(Some(PartnerFactsPayload {
            partner: PartnerFacts::new(o, Some(f)),
        }))
    }
}
