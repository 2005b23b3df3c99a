//! The keep.eu exchange document: what the Jems keep.eu export plugin writes for a programme
//! (InterregCE/plugin_V8, `programme_data_export/model/json_and_xml_export/Model.kt`), for this
//! one project, as JSON (`GET /export/keep.json`) and XML (`GET /export/keep.xml`, the same
//! element names, lists as repeated elements without a wrapper, as Jackson's XmlMapper writes
//! them with `useWrapping = false`). `pearls export keep` writes the same bytes.
//!
//! - `programme`: name and period from the project settings; `call` when the project's call is
//!   known; one `project`.
//! - `project`: the settings (identity, multilingual texts, dates, budget, funding, priority,
//!   website); `deliverables` from the work plan; `project_indicators` with the cumulative
//!   values of the chosen reporting period — the same figures as the period export and the
//!   `reportingPeriod` API (derived from portal data, or contributed in accepted reports);
//!   `partner` from the consortium and each partner's recorded facts.
//!
//! Optional members the portal does not know are left out (the model's fields are nullable),
//! never filled with a guess. The JSON Schema of the JSON form is
//! `api/schemas/keep.schema.json`.

use entity::{
    IndicatorKind, OrganisationKind, activity, deliverable, output, partner_facts, project_settings,
};
use sea_orm::{ConnectionTrait, EntityTrait};

use super::figures::IndicatorFigure;
use crate::domain::{EurAmount, Measure, Percent, natural_key};
use crate::error::{AppError, AppResult};
use crate::project::service::{self as project, LanguageText};

/// The two forms of the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepFormat {
    Json,
    Xml,
}

/// A piece of the document, members in the model's order (JSON and XML are both written from
/// it, so the two forms cannot drift apart).
#[derive(Clone, Debug, PartialEq)]
pub enum K {
    /// A string.
    S(String),
    /// A number, written as the decimal text it holds.
    N(String),
    /// A list: a JSON array; in XML, one element per item under the member's name.
    L(Vec<K>),
    /// An object with its members; members whose value is unknown are left out.
    O(Vec<(&'static str, K)>),
}

/// An object from members that may be unknown (`None`): those are left out.
fn obj(members: Vec<(&'static str, Option<K>)>) -> K {
    K::O(
        members
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect(),
    )
}

fn s(v: Option<&str>) -> Option<K> {
    v.map(|v| K::S(v.to_owned()))
}

fn eur(cents: Option<i64>) -> Option<K> {
    cents.map(|c| K::N(EurAmount::to_decimal(c).to_string()))
}

fn rate(bp: Option<i32>) -> Option<K> {
    bp.map(|b| K::N(Percent::to_decimal(b).to_string()))
}

fn date(d: Option<chrono::NaiveDate>) -> Option<K> {
    d.map(|d| K::S(d.format("%Y-%m-%d").to_string()))
}

/// A non-empty list, or unknown.
fn list(items: Vec<K>) -> Option<K> {
    (!items.is_empty()).then_some(K::L(items))
}

/// `[{<text_key>, language}]` from a multilingual list.
fn languages(texts: &[LanguageText], text_key: &'static str) -> Option<K> {
    list(
        texts
            .iter()
            .map(|t| {
                K::O(vec![
                    (text_key, K::S(t.text.clone())),
                    ("language", K::S(t.language.clone())),
                ])
            })
            .collect(),
    )
}

/// `{name}` or `{name, language}` (keep.eu's GenericMultiLanguage: the language is optional,
/// and left out where the portal does not record it).
fn name(text: &str, language: Option<&str>) -> K {
    obj(vec![("name", s(Some(text))), ("language", s(language))])
}

/// The facts the document needs at least: the model's programme has a name and a period, and a
/// project without its id and acronym cannot be matched by keep.eu.
fn required(settings: &project_settings::Model) -> AppResult<()> {
    let missing: Vec<&str> = [
        ("programmeName", &settings.programme_name),
        ("programmePeriod", &settings.programme_period),
        ("projectCode", &settings.project_code),
        ("acronym", &settings.acronym),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_none())
    .map(|(k, _)| k)
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::conflict(format!(
            "the project's facts lack {}: set them with updateProjectSettings first",
            missing.join(", ")
        )))
    }
}

/// `programme_name`, `period` and `call`: the programme's members before its project.
pub fn programme_members(settings: &project_settings::Model) -> AppResult<K> {
    required(settings)?;
    let call = settings.call_serial_number.as_deref().map(|serial| {
        K::L(vec![obj(vec![
            ("serial_number", s(Some(serial))),
            ("call_start_date", date(settings.call_start_date)),
            ("call_end_date", date(settings.call_end_date)),
        ])])
    });
    Ok(obj(vec![
        ("programme_name", s(settings.programme_name.as_deref())),
        ("period", s(settings.programme_period.as_deref())),
        ("call", call),
    ]))
}

/// The project's own members, up to and including its indicators (the partners follow).
pub fn project_members(
    settings: &project_settings::Model,
    deliverables: Vec<K>,
    indicators: Vec<K>,
) -> K {
    let texts = |v: &serde_json::Value| project::texts(v);
    // keep.eu holds achievements as a list of achievements, each in its languages: the portal
    // keeps one text per language, so one achievement in every language it has.
    let achievements =
        |v: &serde_json::Value, key: &'static str| languages(&texts(v), key).map(|l| K::L(vec![l]));
    obj(vec![
        ("project_id", s(settings.project_code.as_deref())),
        ("acronym", s(settings.acronym.as_deref())),
        (
            "call_serial_number",
            s(settings.call_serial_number.as_deref()),
        ),
        (
            "multi_languages_name",
            languages(&texts(&settings.names), "name"),
        ),
        (
            "multi_languages_description",
            languages(&texts(&settings.descriptions), "description"),
        ),
        (
            "multi_languages_expected_achievements",
            achievements(&settings.expected_achievements, "expected_achievements"),
        ),
        (
            "multi_languages_actual_achievements",
            achievements(&settings.actual_achievements, "actual_achievements"),
        ),
        ("project_start_date", date(settings.start_date)),
        ("project_end_date", date(settings.end_date)),
        ("total_budget", eur(settings.total_budget_cents)),
        (
            "contributing_eu_funds",
            s(settings.contributing_eu_funds.as_deref()),
        ),
        (
            "programme_priority_code",
            s(settings.programme_priority_code.as_deref()),
        ),
        (
            "priority_specific_objective",
            s(settings.priority_specific_objective.as_deref()),
        ),
        ("eu_funding_amount", eur(settings.eu_funding_cents)),
        (
            "eu_funding_cofinancing_rate",
            rate(settings.eu_cofinancing_rate_bp),
        ),
        ("website", s(settings.website.as_deref())),
        ("deliverables", list(deliverables)),
        ("project_indicators", list(indicators)),
    ])
}

/// The work plan's deliverables, by activity then deliverable code: `{description, language}`
/// (the work plan is kept in English, the programme's working language).
pub async fn deliverables(db: &impl ConnectionTrait) -> AppResult<Vec<K>> {
    let activities: std::collections::HashMap<uuid::Uuid, String> = activity::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    let mut rows = deliverable::Entity::find().all(db).await?;
    rows.sort_by_cached_key(|d| {
        (
            activities.get(&d.activity_id).map(|c| natural_key(c)),
            natural_key(&d.code),
        )
    });
    Ok(rows
        .into_iter()
        .map(|d| {
            K::O(vec![
                ("description", K::S(format!("{} {}", d.code, d.title))),
                ("language", K::S("en".into())),
            ])
        })
        .collect())
}

/// One entry per programme indicator (outputs, then results; the portal's own figures are
/// not programme indicators and stay out): its code, name, the titles of the work plan's
/// outputs it measures, and the value delivered up to the end of the chosen period.
pub async fn indicators(
    db: &impl ConnectionTrait,
    figures: &[IndicatorFigure],
) -> AppResult<Vec<K>> {
    let outputs = output::Entity::find().all(db).await?;
    let mut out = Vec::new();
    for f in figures {
        let i = &f.indicator;
        let delivered = K::N(Measure::to_decimal(f.cumulative).to_string());
        let names = K::L(vec![name(&i.name, Some("en"))]);
        match i.kind {
            IndicatorKind::Output => {
                let mut titles: Vec<&output::Model> =
                    outputs.iter().filter(|o| o.indicator_id == i.id).collect();
                titles.sort_by_cached_key(|o| natural_key(&o.code));
                out.push(obj(vec![
                    ("output_indicator_code", Some(K::S(i.code.clone()))),
                    ("output_indicator_name", Some(names)),
                    (
                        "output_indicator_title",
                        list(titles.iter().map(|o| name(&o.title, None)).collect()),
                    ),
                    ("output_indicator_delivered", Some(delivered)),
                ]));
            }
            IndicatorKind::Result => out.push(obj(vec![
                ("result_indicator_code", Some(K::S(i.code.clone()))),
                ("result_indicator_name", Some(names)),
                ("result_indicator_delivered", Some(delivered)),
            ])),
            IndicatorKind::Portal => {}
        }
    }
    Ok(out)
}

/// A consortium partner: its role, name, main address, and the facts recorded for it.
pub fn partner(o: &entity::organisation::Model, f: &partner_facts::Model) -> K {
    let address = obj(vec![
        ("main_or_department", Some(K::S("Main".into()))),
        ("country", Some(K::S(o.country_code.clone()))),
        ("town", s(f.town.as_deref())),
        ("street", s(f.street.as_deref())),
        ("postal_code", s(f.postal_code.as_deref())),
    ]);
    let partner_type = if o.kind == OrganisationKind::LeadPartner {
        "LEAD_PARTNER"
    } else {
        "PARTNER"
    };
    obj(vec![
        ("partner_type", Some(K::S(partner_type.into()))),
        (
            "multi_languages_organisation_name",
            Some(K::L(vec![name(&o.name, None)])),
        ),
        ("address", Some(K::L(vec![address]))),
        ("organisation_type", s(f.organisation_type.as_deref())),
        ("website", s(f.website.as_deref())),
        ("legal_status", s(f.legal_status.as_deref())),
        ("total_eligible_budget", eur(f.total_eligible_budget_cents)),
        ("cofinancing_amount", eur(f.cofinancing_cents)),
        ("cofinancing_rate", rate(f.cofinancing_rate_bp)),
        ("partner_contribution", eur(f.partner_contribution_cents)),
    ])
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Text as XML 1.0 character data: markup escaped, and the characters XML 1.0 cannot hold
/// (control characters other than tab, newline and carriage return) replaced by U+FFFD.
fn xml_text(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A parser turns a raw CR into LF (XML 1.0 §2.11): keep it as a reference.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

fn json_value(v: &K, out: &mut String) {
    match v {
        K::S(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        K::N(n) => out.push_str(n),
        K::L(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(item, out);
            }
            out.push(']');
        }
        K::O(members) => {
            out.push('{');
            json_members(members, out);
            out.push('}');
        }
    }
}

fn json_members(members: &[(&'static str, K)], out: &mut String) {
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(k);
        out.push_str("\":");
        json_value(v, out);
    }
}

fn xml_member(key: &str, v: &K, out: &mut String) {
    match v {
        K::L(items) => items.iter().for_each(|item| xml_member(key, item, out)),
        K::S(t) | K::N(t) => {
            out.push('<');
            out.push_str(key);
            out.push('>');
            xml_text(t, out);
            out.push_str("</");
            out.push_str(key);
            out.push('>');
        }
        K::O(members) => {
            out.push('<');
            out.push_str(key);
            out.push('>');
            for (k, v) in members {
                xml_member(k, v, out);
            }
            out.push_str("</");
            out.push_str(key);
            out.push('>');
        }
    }
}

/// Writes the document piece by piece, so the partners can follow as they are read.
pub struct Writer {
    format: KeepFormat,
    partners: usize,
}

fn members_of(k: &K) -> &[(&'static str, K)] {
    match k {
        K::O(m) => m,
        _ => &[],
    }
}

impl Writer {
    pub fn new(format: KeepFormat) -> Self {
        Self {
            format,
            partners: 0,
        }
    }

    /// The document up to the first partner: the programme's members, then the project's.
    pub fn head(&self, programme: &K, project: &K) -> String {
        let mut out = String::new();
        match self.format {
            KeepFormat::Json => {
                out.push_str("{\"programme\":{");
                json_members(members_of(programme), &mut out);
                out.push_str(",\"project\":[{");
                json_members(members_of(project), &mut out);
                out.push_str(",\"partner\":[");
            }
            KeepFormat::Xml => {
                out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<programme>");
                for (k, v) in members_of(programme) {
                    xml_member(k, v, &mut out);
                }
                out.push_str("<project>");
                for (k, v) in members_of(project) {
                    xml_member(k, v, &mut out);
                }
            }
        }
        out
    }

    /// One partner.
    pub fn partner(&mut self, p: &K) -> String {
        let mut out = String::new();
        match self.format {
            KeepFormat::Json => {
                if self.partners > 0 {
                    out.push(',');
                }
                json_value(p, &mut out);
            }
            KeepFormat::Xml => xml_member("partner", p, &mut out),
        }
        self.partners += 1;
        out
    }

    /// The end of the document.
    pub fn tail(&self) -> &'static str {
        match self.format {
            KeepFormat::Json => "]}]}}",
            KeepFormat::Xml => "</project></programme>\n",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(format: KeepFormat) -> String {
        let programme = obj(vec![
            ("programme_name", Some(K::S("Interreg <BSR> & co".into()))),
            ("period", Some(K::S("2021-2027".into()))),
            ("call", None),
        ]);
        let project = obj(vec![
            ("project_id", Some(K::S("C004".into()))),
            ("total_budget", Some(K::N("3500000.00".into()))),
            (
                "deliverables",
                Some(K::L(vec![
                    K::O(vec![("description", K::S("D1".into()))]),
                    K::O(vec![("description", K::S("D2\u{1}".into()))]),
                ])),
            ),
        ]);
        let mut w = Writer::new(format);
        let mut out = w.head(&programme, &project);
        out.push_str(&w.partner(&K::O(vec![("partner_type", K::S("PARTNER".into()))])));
        out.push_str(&w.partner(&K::O(vec![("partner_type", K::S("LEAD".into()))])));
        out.push_str(w.tail());
        out
    }

    #[test]
    fn json_keeps_the_model_order_and_leaves_unknown_members_out() {
        let v: serde_json::Value = serde_json::from_str(&doc(KeepFormat::Json)).unwrap();
        let p = &v["programme"];
        assert_eq!(p["programme_name"], "Interreg <BSR> & co");
        assert!(p.get("call").is_none());
        assert_eq!(
            p["project"][0]["total_budget"],
            serde_json::json!(3500000.00)
        );
        assert_eq!(p["project"][0]["deliverables"][1]["description"], "D2\u{1}");
        assert_eq!(p["project"][0]["partner"][1]["partner_type"], "LEAD");
        let text = doc(KeepFormat::Json);
        assert!(text.find("project_id").unwrap() < text.find("total_budget").unwrap());
    }

    #[test]
    fn xml_repeats_list_elements_without_a_wrapper_and_escapes_text() {
        let x = doc(KeepFormat::Xml);
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<programme>"));
        assert!(x.contains("<programme_name>Interreg &lt;BSR&gt; &amp; co</programme_name>"));
        assert!(x.contains(
            "<deliverables><description>D1</description></deliverables>\
             <deliverables><description>D2\u{FFFD}</description></deliverables>"
        ));
        assert!(x.contains("<partner><partner_type>PARTNER</partner_type></partner><partner>"));
        assert!(x.ends_with("</project></programme>\n"));
    }

    #[test]
    fn the_document_needs_the_programme_and_the_project_s_identity() {
        let mut s = crate::project::service::blank();
        s.programme_name = Some("Interreg Baltic Sea Region".into());
        s.programme_period = Some("2021-2027".into());
        s.acronym = Some("BSR Cultural Pearls".into());
        let e = programme_members(&s).unwrap_err();
        assert!(e.public_message().contains("projectCode"), "{e:?}");
        s.project_code = Some("C004".into());
        assert!(programme_members(&s).is_ok());
    }
}
