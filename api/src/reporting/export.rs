//! Period exports for the programme, streamed:
//! - `GET /export/periods/{n}.json` — keep.eu-style JSON (`project_id`, `acronym`,
//!   `project_indicators` with code, name and delivered value, `partners` with expenditure,
//!   activities, deliverables);
//! - `GET /export/periods/{n}/{table}.csv` — `indicators`, `activities`, `deliverables`,
//!   `expenditure`;
//! - `GET /export/periods/{n}.xlsx` — the four tables as sheets of an Excel workbook
//!   ([`super::workbook`]);
//! - `GET /export/periods/{n}.zip` — the JSON, the four CSV files and the workbook;
//! - `GET /export/keep.json`, `GET /export/keep.xml` (`?period=N`, default the latest period
//!   that has begun) — the keep.eu exchange document ([`super::keep`]).
//!
//! Readers: coordinators and integration tokens with `reporting:read`. The figures come from
//! [`super::figures`], as in the GraphQL API, so both say the same. Rows are read from the
//! database a page at a time and sent through a small bounded channel, so a large export never
//! sits in memory whole, and a slow client slows the reading down instead of filling memory.

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::{
    OrganisationKind, ReportStatus, activity, activity_progress, deliverable, deliverable_progress,
    expenditure, organisation, partner_report, reporting_period, work_package,
};
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::figures;
use super::keep::{self, KeepFormat};
use crate::auth::request::authenticate;
use crate::domain::{EurAmount, Measure, natural_key};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Rows read from the database per page.
const PAGE: u64 = 200;
/// Chunks buffered between the reader and the client.
const CHANNEL: usize = 8;

/// The project's identity in the programme's monitoring system (public facts).
const PROJECT_ID: &str = "C004";
const ACRONYM: &str = "BSR Cultural Pearls";
const PROGRAMME: &str = "Interreg Baltic Sea Region 2021-2027";
/// The three, for the workbook's `period` sheet.
pub(super) const PROJECT: (&str, &str, &str) = (PROJECT_ID, ACRONYM, PROGRAMME);

/// The CSV tables of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Indicators,
    Activities,
    Deliverables,
    Expenditure,
}

impl Table {
    pub const ALL: [Table; 4] = [
        Table::Indicators,
        Table::Activities,
        Table::Deliverables,
        Table::Expenditure,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Indicators => "indicators",
            Table::Activities => "activities",
            Table::Deliverables => "deliverables",
            Table::Expenditure => "expenditure",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// A ZIP entry's bytes land here, to be sent on by the async side.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where export bytes go: straight to the client, or through a ZIP writer first.
enum Out {
    Plain(Vec<u8>),
    Zip {
        /// `None` once the archive is finished.
        zip: Option<Box<zip::ZipWriter<zip::write::StreamWriter<Shared>>>>,
        shared: Shared,
    },
}

struct Sink {
    out: Out,
    /// Chunks to the client, or the error that ended the export.
    tx: mpsc::Sender<Result<Bytes, AppError>>,
}

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("export: {e}"))
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> AppResult<()> {
        match &mut self.out {
            Out::Plain(buf) => buf.extend_from_slice(bytes),
            Out::Zip { zip, .. } => zip
                .as_mut()
                .ok_or_else(|| io("the archive is finished"))?
                .write_all(bytes)
                .map_err(io)?,
        }
        Ok(())
    }

    /// Starts a ZIP entry: deflated, or stored when its bytes are compressed already (a
    /// workbook is a ZIP of its own).
    fn start_file(&mut self, name: &str, compressed: bool) -> AppResult<()> {
        if let Out::Zip { zip, .. } = &mut self.out {
            let options =
                zip::write::SimpleFileOptions::default().compression_method(if compressed {
                    zip::CompressionMethod::Stored
                } else {
                    zip::CompressionMethod::Deflated
                });
            zip.as_mut()
                .ok_or_else(|| io("the archive is finished"))?
                .start_file(name, options)
                .map_err(io)?;
        }
        Ok(())
    }

    /// Sends what has been written so far; waits when the client is slower than the database.
    async fn flush(&mut self) -> AppResult<()> {
        let chunk = match &mut self.out {
            Out::Plain(buf) => std::mem::take(buf),
            Out::Zip { shared, .. } => {
                std::mem::take(&mut *shared.0.lock().unwrap_or_else(|p| p.into_inner()))
            }
        };
        if !chunk.is_empty() && self.tx.send(Ok(Bytes::from(chunk))).await.is_err() {
            return Err(AppError::internal("export: the client went away"));
        }
        Ok(())
    }

    async fn finish(mut self) -> AppResult<()> {
        if let Out::Zip { zip, .. } = &mut self.out
            && let Some(z) = zip.take()
        {
            z.finish().map_err(io)?;
        }
        self.flush().await
    }
}

/// A cell a spreadsheet would not run: text starting like a formula (`=`, `+`, `-`, `@`, tab,
/// carriage return — OWASP's list) gets a leading apostrophe, so partners' narratives stay text.
fn cell(field: &str) -> std::borrow::Cow<'_, str> {
    match field.trim_start_matches(' ').chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{field}").into(),
        _ => field.into(),
    }
}

/// The byte-order mark a CSV file starts with: without it, Excel on Windows reads UTF-8 as the
/// local code page ("Rūjiena" as "RÅ«jiena").
const BOM: &[u8] = "\u{feff}".as_bytes();

/// One CSV record, RFC 4180: CRLF line ends, quoting where needed.
fn csv_row(fields: &[String]) -> AppResult<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(fields.iter().map(|f| cell(f).into_owned()))
        .map_err(io)?;
    w.into_inner().map_err(io)
}

fn milli(v: i64) -> String {
    Measure::to_decimal(v).to_string()
}

fn eur(cents: i64) -> String {
    EurAmount::to_decimal(cents).to_string()
}

/// The consortium in pages: lead partner and partners, by name then id.
async fn partners_page(
    db: &impl ConnectionTrait,
    after: Option<(String, Uuid)>,
) -> AppResult<Vec<organisation::Model>> {
    let mut q = organisation::Entity::find()
        .filter(organisation::Column::Kind.is_in(OrganisationKind::CONSORTIUM))
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .limit(PAGE);
    if let Some((name, id)) = after {
        q = q.filter(
            sea_orm::Condition::any()
                .add(organisation::Column::Name.gt(name.clone()))
                .add(
                    sea_orm::Condition::all()
                        .add(organisation::Column::Name.eq(name))
                        .add(organisation::Column::Id.gt(id)),
                ),
        );
    }
    Ok(q.all(db).await?)
}

/// The reports of a page of organisations for the period, with their expenditure.
async fn reports_of(
    db: &impl ConnectionTrait,
    period: Uuid,
    orgs: &[Uuid],
) -> AppResult<(Vec<partner_report::Model>, Vec<expenditure::Model>)> {
    let reports = partner_report::Entity::find()
        .filter(partner_report::Column::PeriodId.eq(period))
        .filter(partner_report::Column::OrganisationId.is_in(orgs.iter().copied()))
        .all(db)
        .await?;
    // Only accepted reports' expenditure goes to the programme (as in the GraphQL totals).
    let lines = expenditure::Entity::find()
        .filter(
            expenditure::Column::ReportId.is_in(
                reports
                    .iter()
                    .filter(|r| r.status == ReportStatus::Accepted)
                    .map(|r| r.id),
            ),
        )
        .all(db)
        .await?;
    Ok((reports, lines))
}

async fn write_json(
    db: &impl ConnectionTrait,
    period: &reporting_period::Model,
    figures: &[figures::IndicatorFigure],
    s: &mut Sink,
) -> AppResult<()> {
    let head = json!({
        "project_id": PROJECT_ID,
        "acronym": ACRONYM,
        "programme": PROGRAMME,
        "reporting_period": {
            "number": period.number,
            "start_date": period.starts_on,
            "end_date": period.ends_on,
            "report_deadline": period.report_deadline,
        },
        "generated_at": chrono::Utc::now(),
    });
    let head = serde_json::to_string(&head).map_err(io)?;
    s.write(&head.as_bytes()[..head.len() - 1])?;
    s.write(b",\"project_indicators\":[")?;
    for (i, f) in figures.iter().enumerate() {
        if i > 0 {
            s.write(b",")?;
        }
        let v = json!({
            "code": f.indicator.code,
            "name": f.indicator.name,
            "unit": f.indicator.unit,
            "type": f.indicator.kind.as_str(),
            "target": f.indicator.target_milli.map(milli),
            "delivered_in_period": milli(f.in_period),
            "delivered_cumulative": milli(f.cumulative),
            "progress_percent": f.progress_percent().map(|p| p.to_string()),
            "derived": f.indicator.derivation.is_some(),
            "derivation": f.indicator.derivation.map(figures::explain),
        });
        s.write(serde_json::to_string(&v).map_err(io)?.as_bytes())?;
    }
    s.write(b"],\"partners\":[")?;
    s.flush().await?;
    let mut after = None;
    let mut first = true;
    loop {
        let page = partners_page(db, after.clone()).await?;
        if page.is_empty() {
            break;
        }
        let ids: Vec<Uuid> = page.iter().map(|o| o.id).collect();
        let (reports, lines) = reports_of(db, period.id, &ids).await?;
        for org in &page {
            let report = reports.iter().find(|r| r.organisation_id == org.id);
            let mine: Vec<&expenditure::Model> = report
                .map(|r| lines.iter().filter(|l| l.report_id == r.id).collect())
                .unwrap_or_default();
            let v = json!({
                "partner_id": org.id,
                "name": org.name,
                "country": org.country_code,
                "role": if org.kind == OrganisationKind::LeadPartner { "LP" } else { "PP" },
                "report_status": report.map(|r| r.status.as_str()),
                "expenditure": super::types::COST_CATEGORIES.iter().map(|c| json!({
                    "category": c.as_str(),
                    "amount": eur(mine.iter().find(|l| l.category == *c).map_or(0, |l| l.amount_cents)),
                })).collect::<Vec<_>>(),
                "expenditure_total": eur(mine.iter().map(|l| l.amount_cents).sum()),
            });
            if !first {
                s.write(b",")?;
            }
            first = false;
            s.write(serde_json::to_string(&v).map_err(io)?.as_bytes())?;
        }
        s.flush().await?;
        let last = page.last().expect("non-empty page");
        after = Some((last.name.clone(), last.id));
    }
    s.write(b"],\"activities\":[")?;
    let mut first = true;
    let mut rows = ActivityRows::open(db).await?;
    while let Some(page) = rows.next_page(db, period).await? {
        for row in page {
            let v = json!({
                "work_package": row.0, "code": row.1, "title": row.2,
                "partner": row.3, "status": row.4, "narrative": row.5,
            });
            if !first {
                s.write(b",")?;
            }
            first = false;
            s.write(&serde_json::to_vec(&v).map_err(io)?)?;
        }
        s.flush().await?;
    }
    s.write(b"],\"deliverables\":[")?;
    let mut first = true;
    let mut rows = DeliverableRows::open(db).await?;
    while let Some(page) = rows.next_page(db, period).await? {
        for row in page {
            let v = json!({
                "activity": row.0, "code": row.1, "title": row.2, "due_period": row.3,
                "partner": row.4, "status": row.5, "note": row.6,
            });
            if !first {
                s.write(b",")?;
            }
            first = false;
            s.write(&serde_json::to_vec(&v).map_err(io)?)?;
        }
        s.flush().await?;
    }
    s.write(b"]}")?;
    s.flush().await
}

/// Accepted partner reports of the period in pages (by id), with the organisations' names.
async fn reports_page(
    db: &impl ConnectionTrait,
    period: Uuid,
    after: Option<Uuid>,
) -> AppResult<Vec<(partner_report::Model, String)>> {
    let mut q = partner_report::Entity::find()
        .filter(partner_report::Column::PeriodId.eq(period))
        .filter(partner_report::Column::Status.eq(ReportStatus::Accepted))
        .order_by_asc(partner_report::Column::Id)
        .limit(PAGE);
    if let Some(a) = after {
        q = q.filter(partner_report::Column::Id.gt(a));
    }
    let reports = q.all(db).await?;
    let names: std::collections::HashMap<Uuid, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(reports.iter().map(|r| r.organisation_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(reports
        .into_iter()
        .map(|r| {
            let n = names.get(&r.organisation_id).cloned().unwrap_or_default();
            (r, n)
        })
        .collect())
}

type ActivityRow = (String, String, String, String, String, String);
type DeliverableRow = (String, String, String, String, String, String, String);

/// The (activity, partner) progress lines of a period's accepted reports, a page of reports
/// at a time: work package, activity, title, partner, status, narrative.
pub(super) struct ActivityRows {
    wps: std::collections::HashMap<Uuid, String>,
    acts: std::collections::HashMap<Uuid, activity::Model>,
    after: Option<Uuid>,
}

impl ActivityRows {
    pub(super) async fn open(db: &impl ConnectionTrait) -> AppResult<Self> {
        let wps = work_package::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|w| (w.id, w.code))
            .collect();
        let acts = activity::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        Ok(Self {
            wps,
            acts,
            after: None,
        })
    }

    /// The next page's rows; `None` when every report has been read.
    pub(super) async fn next_page(
        &mut self,
        db: &impl ConnectionTrait,
        period: &reporting_period::Model,
    ) -> AppResult<Option<Vec<ActivityRow>>> {
        let page = reports_page(db, period.id, self.after).await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = Some(last.0.id);
        let rows = activity_progress::Entity::find()
            .filter(activity_progress::Column::ReportId.is_in(page.iter().map(|(r, _)| r.id)))
            .all(db)
            .await?;
        let mut out = Vec::new();
        for (report, partner) in &page {
            let mut mine: Vec<&activity_progress::Model> =
                rows.iter().filter(|r| r.report_id == report.id).collect();
            mine.sort_by_cached_key(|r| {
                self.acts.get(&r.activity_id).map(|a| natural_key(&a.code))
            });
            for r in mine {
                let Some(a) = self.acts.get(&r.activity_id) else {
                    continue;
                };
                out.push((
                    self.wps
                        .get(&a.work_package_id)
                        .cloned()
                        .unwrap_or_default(),
                    a.code.clone(),
                    a.title.clone(),
                    partner.clone(),
                    r.status.as_str().to_owned(),
                    r.narrative.clone(),
                ));
            }
        }
        Ok(Some(out))
    }
}

/// The (deliverable, partner) status lines of a period's accepted reports, a page of reports
/// at a time: activity, deliverable, title, due period, partner, status, note.
pub(super) struct DeliverableRows {
    acts: std::collections::HashMap<Uuid, String>,
    periods: std::collections::HashMap<Uuid, i32>,
    dels: std::collections::HashMap<Uuid, deliverable::Model>,
    after: Option<Uuid>,
}

impl DeliverableRows {
    pub(super) async fn open(db: &impl ConnectionTrait) -> AppResult<Self> {
        let acts = activity::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.code))
            .collect();
        let periods = reporting_period::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.number))
            .collect();
        let dels = deliverable::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        Ok(Self {
            acts,
            periods,
            dels,
            after: None,
        })
    }

    /// The next page's rows; `None` when every report has been read.
    pub(super) async fn next_page(
        &mut self,
        db: &impl ConnectionTrait,
        period: &reporting_period::Model,
    ) -> AppResult<Option<Vec<DeliverableRow>>> {
        let page = reports_page(db, period.id, self.after).await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = Some(last.0.id);
        let rows = deliverable_progress::Entity::find()
            .filter(deliverable_progress::Column::ReportId.is_in(page.iter().map(|(r, _)| r.id)))
            .all(db)
            .await?;
        let mut out = Vec::new();
        for (report, partner) in &page {
            let mut mine: Vec<&deliverable_progress::Model> =
                rows.iter().filter(|r| r.report_id == report.id).collect();
            mine.sort_by_cached_key(|r| {
                self.dels
                    .get(&r.deliverable_id)
                    .map(|d| natural_key(&d.code))
            });
            for r in mine {
                let Some(d) = self.dels.get(&r.deliverable_id) else {
                    continue;
                };
                out.push((
                    self.acts.get(&d.activity_id).cloned().unwrap_or_default(),
                    d.code.clone(),
                    d.title.clone(),
                    d.due_period_id
                        .and_then(|p| self.periods.get(&p))
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    partner.clone(),
                    r.status.as_str().to_owned(),
                    r.note.clone(),
                ));
            }
        }
        Ok(Some(out))
    }
}

/// One expenditure line of an accepted report: the partner and one cost category.
pub(super) struct ExpenditureRow {
    pub partner_id: Uuid,
    pub partner: String,
    pub country: String,
    pub report_status: ReportStatus,
    pub category: entity::CostCategory,
    pub amount_cents: i64,
}

/// The consortium's accepted expenditure for a period, every category of each partner with an
/// accepted report (zero where nothing was claimed), a page of partners at a time.
pub(super) struct ExpenditureRows {
    after: Option<(String, Uuid)>,
}

impl ExpenditureRows {
    pub(super) fn open() -> Self {
        Self { after: None }
    }

    /// The next page's rows; `None` when every partner has been read.
    pub(super) async fn next_page(
        &mut self,
        db: &impl ConnectionTrait,
        period: &reporting_period::Model,
    ) -> AppResult<Option<Vec<ExpenditureRow>>> {
        let page = partners_page(db, self.after.clone()).await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = Some((last.name.clone(), last.id));
        let ids: Vec<Uuid> = page.iter().map(|o| o.id).collect();
        let (reports, lines) = reports_of(db, period.id, &ids).await?;
        let mut out = Vec::new();
        for org in &page {
            let Some(report) = reports
                .iter()
                .find(|r| r.organisation_id == org.id && r.status == ReportStatus::Accepted)
            else {
                continue;
            };
            for c in super::types::COST_CATEGORIES {
                out.push(ExpenditureRow {
                    partner_id: org.id,
                    partner: org.name.clone(),
                    country: org.country_code.clone(),
                    report_status: report.status,
                    category: c,
                    amount_cents: lines
                        .iter()
                        .find(|l| l.report_id == report.id && l.category == c)
                        .map_or(0, |l| l.amount_cents),
                });
            }
        }
        Ok(Some(out))
    }
}

async fn write_csv(
    db: &impl ConnectionTrait,
    period: &reporting_period::Model,
    figures: &[figures::IndicatorFigure],
    table: Table,
    s: &mut Sink,
) -> AppResult<()> {
    let header = |cols: &[&str]| csv_row(&cols.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    s.write(BOM)?;
    match table {
        Table::Indicators => {
            s.write(&header(&[
                "code",
                "name",
                "unit",
                "kind",
                "target",
                "in_period",
                "cumulative",
                "progress_percent",
                "derived",
                "derivation",
            ])?)?;
            for f in figures {
                s.write(&csv_row(&[
                    f.indicator.code.clone(),
                    f.indicator.name.clone(),
                    f.indicator.unit.clone(),
                    f.indicator.kind.as_str().to_owned(),
                    f.indicator.target_milli.map(milli).unwrap_or_default(),
                    milli(f.in_period),
                    milli(f.cumulative),
                    f.progress_percent()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    f.indicator.derivation.is_some().to_string(),
                    f.indicator
                        .derivation
                        .map(|d| figures::explain(d).to_owned())
                        .unwrap_or_default(),
                ])?)?;
            }
            s.flush().await
        }
        Table::Activities => {
            s.write(&header(&[
                "work_package",
                "activity",
                "title",
                "partner",
                "status",
                "narrative",
            ])?)?;
            let mut rows = ActivityRows::open(db).await?;
            while let Some(page) = rows.next_page(db, period).await? {
                for r in page {
                    s.write(&csv_row(&[r.0, r.1, r.2, r.3, r.4, r.5])?)?;
                }
                s.flush().await?;
            }
            Ok(())
        }
        Table::Deliverables => {
            s.write(&header(&[
                "activity",
                "deliverable",
                "title",
                "due_period",
                "partner",
                "status",
                "note",
            ])?)?;
            let mut rows = DeliverableRows::open(db).await?;
            while let Some(page) = rows.next_page(db, period).await? {
                for r in page {
                    s.write(&csv_row(&[r.0, r.1, r.2, r.3, r.4, r.5, r.6])?)?;
                }
                s.flush().await?;
            }
            Ok(())
        }
        Table::Expenditure => {
            s.write(&header(&[
                "partner_id",
                "partner",
                "country",
                "report_status",
                "category",
                "amount_eur",
            ])?)?;
            let mut rows = ExpenditureRows::open();
            while let Some(page) = rows.next_page(db, period).await? {
                for r in page {
                    s.write(&csv_row(&[
                        r.partner_id.to_string(),
                        r.partner,
                        r.country,
                        r.report_status.as_str().to_owned(),
                        r.category.as_str().to_owned(),
                        eur(r.amount_cents),
                    ])?)?;
                }
                s.flush().await?;
            }
            Ok(())
        }
    }
}

/// What one request asks for.
#[derive(Clone, Copy)]
enum Format {
    Json,
    Csv(Table),
    Xlsx,
    Zip,
    Keep(KeepFormat),
}

/// Which period a request names: by number (the period exports), or the one a keep.eu
/// document reports up to (`?period=N`, or the latest that has begun).
enum Period<'a> {
    Number(&'a str),
    UpTo(Option<i32>),
}

/// The keep.eu document on `s`: the settings and the work plan first, then the consortium.
async fn write_keep(
    db: &impl ConnectionTrait,
    period: Option<&reporting_period::Model>,
    format: KeepFormat,
    s: &mut Sink,
) -> AppResult<()> {
    let settings = crate::project::service::settings(db).await?;
    let programme = keep::programme_members(&settings)?;
    let figures = match period {
        Some(p) => figures::indicators(db, p).await?,
        None => Vec::new(),
    };
    let project = keep::project_members(
        &settings,
        keep::deliverables(db).await?,
        keep::indicators(db, &figures).await?,
    );
    let mut w = keep::Writer::new(format);
    s.write(w.head(&programme, &project).as_bytes())?;
    s.flush().await?;
    for (o, f) in crate::project::service::partners(db).await? {
        let f = f.unwrap_or_else(|| crate::project::service::blank_partner(o.id));
        s.write(w.partner(&keep::partner(&o, &f)).as_bytes())?;
    }
    s.write(w.tail().as_bytes())?;
    s.flush().await
}

/// The period a keep.eu document reports up to: the one asked for, or the latest that has
/// begun by `today` (none before the first period: the document then has no indicators).
async fn keep_period(
    db: &impl ConnectionTrait,
    actor: &crate::policy::Actor,
    asked: Option<i32>,
    today: chrono::NaiveDate,
) -> AppResult<Option<reporting_period::Model>> {
    if let Some(n) = asked {
        return super::service::period(db, actor, n).await.map(Some);
    }
    Ok(crate::policy::scope::reporting_periods(actor)
        .filter(reporting_period::Column::StartsOn.lte(today))
        .order_by_desc(reporting_period::Column::StartsOn)
        .order_by_desc(reporting_period::Column::Number)
        .one(db)
        .await?)
}

fn refuse(err: AppError) -> HttpResponse {
    err.http_response()
}

/// Writes one export to `sink` from one snapshot, so its files agree with each other.
async fn write_export(
    db: &sea_orm::DatabaseConnection,
    period: Option<&reporting_period::Model>,
    format: Format,
    mut sink: Sink,
) -> AppResult<()> {
    let txn = crate::db::begin_snapshot(db).await?;
    let s = &mut sink;
    match (format, period) {
        (Format::Keep(k), p) => write_keep(&txn, p, k, s).await?,
        (_, None) => return Err(AppError::not_found("reporting period")),
        (Format::Json, Some(period)) => {
            let figures = figures::indicators(&txn, period).await?;
            write_json(&txn, period, &figures, s).await?
        }
        (Format::Csv(t), Some(period)) => {
            let figures = figures::indicators(&txn, period).await?;
            write_csv(&txn, period, &figures, t, s).await?
        }
        (Format::Xlsx, Some(period)) => {
            let figures = figures::indicators(&txn, period).await?;
            s.write(&super::workbook::workbook(&txn, period, &figures).await?)?;
        }
        (Format::Zip, Some(period)) => {
            let figures = figures::indicators(&txn, period).await?;
            s.start_file(&format!("period-{}.json", period.number), false)?;
            write_json(&txn, period, &figures, s).await?;
            for t in Table::ALL {
                s.start_file(&format!("period-{}-{}.csv", period.number, t.name()), false)?;
                write_csv(&txn, period, &figures, t, s).await?;
            }
            s.start_file(&format!("period-{}.xlsx", period.number), true)?;
            s.write(&super::workbook::workbook(&txn, period, &figures).await?)?;
        }
    }
    // A read-only snapshot: it wrote nothing, so the data version stays.
    txn.commit().await?;
    sink.finish().await
}

async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    asked: Period<'_>,
    format: Format,
) -> HttpResponse {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let actor = match authenticate(&state, authorization).await {
        Ok(a) => a.actor,
        Err(e) => return refuse(e),
    };
    if let Err(e) = crate::policy::rules::export_reporting(&actor) {
        return refuse(e);
    }
    let cost = crate::ratelimit::Budgets::EXPORT;
    if let Err(e) = crate::ratelimit::Budgets::charge(state.budgets.as_deref(), &actor, cost) {
        return refuse(e);
    }
    let period = match asked {
        Period::Number(n) => {
            let Ok(number) = n.parse::<i32>() else {
                return refuse(AppError::not_found("reporting period"));
            };
            super::service::period(&state.db, &actor, number)
                .await
                .map(Some)
        }
        Period::UpTo(asked) => {
            let today = state.clock.now().date_naive();
            keep_period(&state.db, &actor, asked, today).await
        }
    };
    let period = match period {
        Ok(p) => p,
        Err(e) => return refuse(e),
    };
    let number = period.as_ref().map_or(0, |p| p.number);
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, AppError>>(CHANNEL);
    let db = state.db.clone();
    let out = match format {
        Format::Zip => {
            let shared = Shared::default();
            Out::Zip {
                zip: Some(Box::new(zip::ZipWriter::new_stream(shared.clone()))),
                shared,
            }
        }
        _ => Out::Plain(Vec::new()),
    };
    tokio::spawn(async move {
        let failed = tx.clone();
        let sink = Sink { out, tx };
        if let Err(e) = write_export(&db, period.as_ref(), format, sink).await {
            let _ = failed.send(Err(e)).await;
        }
    });
    // Nothing is sent before the figures are computed and the first bytes written: a failure
    // up to there is answered with its own code and status (a CONFLICT for the keep.eu
    // document's missing facts, a 500 for a fault), not a 200 with a broken body.
    let first = match rx.recv().await {
        Some(Ok(bytes)) => Some(bytes),
        Some(Err(e)) => return refuse(e),
        None => None,
    };
    let rest = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).map(|item| {
        item.map_err(|e| {
            e.log();
            tracing::error!(error = ?e, "export failed after its first bytes");
            // An error item makes the server cut the connection instead of ending the body
            // properly, so a client never takes a truncated file for a complete one.
            std::io::Error::other("export failed")
        })
    });
    let body = futures_util::stream::iter(first.map(Ok::<_, std::io::Error>)).chain(rest);
    let (content_type, filename) = match format {
        Format::Json => ("application/json", format!("period-{number}.json")),
        Format::Csv(t) => (
            "text/csv; charset=utf-8",
            format!("period-{number}-{}.csv", t.name()),
        ),
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            format!("period-{number}.xlsx"),
        ),
        Format::Zip => ("application/zip", format!("period-{number}.zip")),
        Format::Keep(KeepFormat::Json) => ("application/json", "keep.json".to_owned()),
        Format::Keep(KeepFormat::Xml) => ("application/xml", "keep.xml".to_owned()),
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

/// `GET /export/periods/{number}.json`
pub async fn json(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    serve(req, state, Period::Number(&path.into_inner()), Format::Json).await
}

/// `GET /export/periods/{number}.xlsx`
pub async fn xlsx(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    serve(req, state, Period::Number(&path.into_inner()), Format::Xlsx).await
}

/// `GET /export/periods/{number}.zip`
pub async fn zip(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    serve(req, state, Period::Number(&path.into_inner()), Format::Zip).await
}

/// `GET /export/periods/{number}/{table}.csv`
pub async fn csv(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (number, table) = path.into_inner();
    match Table::parse(&table) {
        Some(t) => serve(req, state, Period::Number(&number), Format::Csv(t)).await,
        None => refuse(AppError::not_found("export table")),
    }
}

/// `?period=N` of the keep.eu document.
#[derive(serde::Deserialize)]
pub struct KeepParams {
    period: Option<i32>,
}

/// `GET /export/keep.json`
pub async fn keep_json(
    req: HttpRequest,
    params: web::Query<KeepParams>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let asked = Period::UpTo(params.period);
    serve(req, state, asked, Format::Keep(KeepFormat::Json)).await
}

/// `GET /export/keep.xml`
pub async fn keep_xml(
    req: HttpRequest,
    params: web::Query<KeepParams>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let asked = Period::UpTo(params.period);
    serve(req, state, asked, Format::Keep(KeepFormat::Xml)).await
}

/// `pearls export keep`: the keep.eu document as the HTTP export writes it, to `out`, read
/// with the access of a `reporting:read` integration (whoever runs the command holds the
/// database already).
pub async fn keep_to(
    db: &sea_orm::DatabaseConnection,
    format: KeepFormat,
    asked: Option<i32>,
    today: chrono::NaiveDate,
    out: &mut impl Write,
) -> AppResult<()> {
    let actor = crate::policy::Actor::Integration(crate::policy::Integration {
        token_id: Uuid::nil(),
        kpi_read: false,
        reporting_read: true,
    });
    crate::policy::rules::export_reporting(&actor)?;
    let period = keep_period(db, &actor, asked, today).await?;
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, AppError>>(CHANNEL);
    let sink = Sink {
        out: Out::Plain(Vec::new()),
        tx,
    };
    let writing = write_export(db, period.as_ref(), Format::Keep(format), sink);
    let reading = async {
        while let Some(chunk) = rx.recv().await {
            out.write_all(&chunk?).map_err(io)?;
        }
        out.flush().map_err(io)
    };
    let (written, read) = tokio::join!(writing, reading);
    written.and(read)
}
