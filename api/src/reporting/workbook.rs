//! A reporting period as an Excel workbook (`/export/periods/{n}.xlsx`, and inside the ZIP):
//! what partners know from Jems, opened by a double click in the region's spreadsheets
//! whatever their locale's list separator.
//!
//! One sheet per CSV table (`indicators`, `activities`, `deliverables`, `expenditure`, the same
//! columns in the same order) after a `period` sheet with the project and the period's dates.
//! Figures are numbers (values with three decimals as the API's `Decimal`, percentages with
//! one), dates are dates, EUR amounts carry a currency format, derivations are in words, and
//! the header row is frozen with a filter on it. Text is text: a cell never runs as a formula,
//! so partners' narratives need no escaping here (the CSV files quote them instead).
//!
//! The workbook is built in memory from the export's snapshot: its size follows the
//! consortium and its work plan (a few thousand rows), not the programme's applications.

use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};
use sea_orm::ConnectionTrait;

use super::export::{ActivityRows, DeliverableRows, ExpenditureRows};
use super::figures::{self, IndicatorFigure};
use crate::domain::{EurAmount, Measure};
use crate::error::{AppError, AppResult};
use entity::reporting_period;

/// The most characters an Excel cell holds.
const CELL_CHARS: usize = 32_767;
/// What ends a text cut to fit a cell.
const CUT: &str = " … [cut to fit an Excel cell; complete in the JSON and CSV exports]";

fn xlsx(e: XlsxError) -> AppError {
    AppError::internal(format!("export: workbook: {e}"))
}

/// The cell formats of the workbook.
struct Formats {
    header: Format,
    date: Format,
    datetime: Format,
    measure: Format,
    percent: Format,
    eur: Format,
    wrap: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            header: Format::new().set_bold(),
            date: Format::new()
                .set_num_format("yyyy-mm-dd")
                .set_align(FormatAlign::Left),
            datetime: Format::new()
                .set_num_format("yyyy-mm-dd hh:mm:ss")
                .set_align(FormatAlign::Left),
            measure: Format::new().set_num_format("#,##0.###"),
            percent: Format::new().set_num_format("0.0"),
            eur: Format::new().set_num_format("#,##0.00 [$EUR]"),
            wrap: Format::new().set_text_wrap(),
        }
    }
}

/// Text for a cell: whole, or cut to the cell's limit with a note saying where the rest is.
fn text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().count() <= CELL_CHARS {
        return s.into();
    }
    let keep = CELL_CHARS - CUT.chars().count();
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(CUT);
    out.into()
}

fn date(d: chrono::NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    use chrono::Datelike;
    // Years outside 1900-9999 have no Excel date; reporting periods are in the 2020s.
    let year = u16::try_from(d.year()).map_err(|_| XlsxError::DateTimeRangeError(d.to_string()))?;
    ExcelDateTime::from_ymd(year, d.month() as u8, d.day() as u8)
}

fn datetime(t: chrono::DateTime<chrono::Utc>) -> Result<ExcelDateTime, XlsxError> {
    use chrono::Timelike;
    date(t.date_naive())?.and_hms(t.hour() as u16, t.minute() as u8, t.second())
}

/// A sheet named `name` with a bold, frozen header row of `columns`.
fn sheet<'a>(
    book: &'a mut Workbook,
    name: &str,
    columns: &[(&str, f64)],
    f: &Formats,
) -> Result<&'a mut Worksheet, XlsxError> {
    let ws = book.add_worksheet();
    ws.set_name(name)?;
    for (col, (title, width)) in (0u16..).zip(columns) {
        ws.write_string_with_format(0, col, *title, &f.header)?;
        ws.set_column_width(col, *width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(ws)
}

/// A filter on the header row over the rows written (after them, when their number is known).
fn filter(ws: &mut Worksheet, rows: u32, columns: usize) -> Result<(), XlsxError> {
    ws.autofilter(0, 0, rows.max(1), (columns - 1) as u16)?;
    Ok(())
}

fn period_sheet(
    book: &mut Workbook,
    period: &reporting_period::Model,
    generated_at: chrono::DateTime<chrono::Utc>,
    f: &Formats,
) -> Result<(), XlsxError> {
    let ws = sheet(book, "period", &[("field", 22.0), ("value", 40.0)], f)?;
    let (project_id, acronym, programme) = super::export::PROJECT;
    for (row, (field, value)) in (1u32..).zip([
        ("project_id", project_id),
        ("acronym", acronym),
        ("programme", programme),
    ]) {
        ws.write_string(row, 0, field)?;
        ws.write_string(row, 1, value)?;
    }
    ws.write_string(4, 0, "reporting_period")?;
    ws.write_number(4, 1, period.number)?;
    for (row, field, day) in [
        (5, "start_date", period.starts_on),
        (6, "end_date", period.ends_on),
        (7, "report_deadline", period.report_deadline),
    ] {
        ws.write_string(row, 0, field)?;
        ws.write_datetime_with_format(row, 1, date(day)?, &f.date)?;
    }
    ws.write_string(8, 0, "generated_at (UTC)")?;
    ws.write_datetime_with_format(8, 1, datetime(generated_at)?, &f.datetime)?;
    Ok(())
}

fn indicators_sheet(
    book: &mut Workbook,
    figures: &[IndicatorFigure],
    f: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        ("code", 9.0),
        ("name", 48.0),
        ("unit", 14.0),
        ("kind", 9.0),
        ("target", 10.0),
        ("in_period", 10.0),
        ("cumulative", 11.0),
        ("progress_percent", 16.0),
        ("derived", 8.0),
        ("derivation", 60.0),
    ];
    let ws = sheet(book, "indicators", &columns, f)?;
    let measure = |milli: i64| Measure::to_decimal(milli).to_string().parse::<f64>();
    let mut row = 0;
    for fig in figures {
        row += 1;
        let i = &fig.indicator;
        ws.write_string(row, 0, i.code.as_str())?;
        ws.write_string(row, 1, text(&i.name))?;
        ws.write_string(row, 2, text(&i.unit))?;
        ws.write_string(row, 3, i.kind.as_str())?;
        if let Some(Ok(target)) = i.target_milli.map(measure) {
            ws.write_number_with_format(row, 4, target, &f.measure)?;
        }
        if let Ok(v) = measure(fig.in_period) {
            ws.write_number_with_format(row, 5, v, &f.measure)?;
        }
        if let Ok(v) = measure(fig.cumulative) {
            ws.write_number_with_format(row, 6, v, &f.measure)?;
        }
        if let Some(Ok(p)) = fig.progress_percent().map(|p| p.to_string().parse::<f64>()) {
            ws.write_number_with_format(row, 7, p, &f.percent)?;
        }
        ws.write_boolean(row, 8, i.derivation.is_some())?;
        if let Some(d) = i.derivation {
            ws.write_string_with_format(row, 9, figures::explain(d), &f.wrap)?;
        }
    }
    filter(ws, row, columns.len())
}

/// Writes text rows (the activity and deliverable lines) to a new sheet.
fn text_sheet(
    book: &mut Workbook,
    name: &str,
    columns: &[(&str, f64)],
    rows: &[Vec<String>],
    f: &Formats,
) -> Result<(), XlsxError> {
    let ws = sheet(book, name, columns, f)?;
    let mut row = 0;
    for cells in rows {
        row += 1;
        for (col, value) in (0u16..).zip(cells) {
            ws.write_string(row, col, text(value))?;
        }
    }
    filter(ws, row, columns.len())
}

/// The period's workbook, from the export's snapshot `db`.
pub(super) async fn workbook(
    db: &impl ConnectionTrait,
    period: &reporting_period::Model,
    figures: &[IndicatorFigure],
) -> AppResult<Vec<u8>> {
    let mut activities = Vec::new();
    let mut rows = ActivityRows::open(db).await?;
    while let Some(page) = rows.next_page(db, period).await? {
        activities.extend(page.into_iter().map(|r| vec![r.0, r.1, r.2, r.3, r.4, r.5]));
    }
    let mut deliverables = Vec::new();
    let mut rows = DeliverableRows::open(db).await?;
    while let Some(page) = rows.next_page(db, period).await? {
        deliverables.extend(
            page.into_iter()
                .map(|r| vec![r.0, r.1, r.2, r.3, r.4, r.5, r.6]),
        );
    }
    let mut expenditure = Vec::new();
    let mut rows = ExpenditureRows::open();
    while let Some(page) = rows.next_page(db, period).await? {
        expenditure.extend(page);
    }

    let f = Formats::new();
    let mut book = Workbook::new();
    period_sheet(&mut book, period, chrono::Utc::now(), &f).map_err(xlsx)?;
    indicators_sheet(&mut book, figures, &f).map_err(xlsx)?;
    let activity_columns = [
        ("work_package", 13.0),
        ("activity", 10.0),
        ("title", 40.0),
        ("partner", 30.0),
        ("status", 12.0),
        ("narrative", 60.0),
    ];
    text_sheet(&mut book, "activities", &activity_columns, &activities, &f).map_err(xlsx)?;
    let deliverable_columns = [
        ("activity", 10.0),
        ("deliverable", 12.0),
        ("title", 40.0),
        ("due_period", 11.0),
        ("partner", 30.0),
        ("status", 12.0),
        ("note", 60.0),
    ];
    text_sheet(
        &mut book,
        "deliverables",
        &deliverable_columns,
        &deliverables,
        &f,
    )
    .map_err(xlsx)?;
    expenditure_sheet(&mut book, &expenditure, &f).map_err(xlsx)?;
    book.save_to_buffer().map_err(xlsx)
}

fn expenditure_sheet(
    book: &mut Workbook,
    rows: &[super::export::ExpenditureRow],
    f: &Formats,
) -> Result<(), XlsxError> {
    let columns = [
        ("partner_id", 38.0),
        ("partner", 30.0),
        ("country", 8.0),
        ("report_status", 14.0),
        ("category", 26.0),
        ("amount_eur", 14.0),
    ];
    let ws = sheet(book, "expenditure", &columns, f)?;
    let mut row = 0;
    for r in rows {
        row += 1;
        ws.write_string(row, 0, r.partner_id.to_string())?;
        ws.write_string(row, 1, text(&r.partner))?;
        ws.write_string(row, 2, r.country.as_str())?;
        ws.write_string(row, 3, r.report_status.as_str())?;
        ws.write_string(row, 4, r.category.as_str())?;
        let amount = EurAmount::to_decimal(r.amount_cents)
            .to_string()
            .parse::<f64>()
            .unwrap_or_default();
        ws.write_number_with_format(row, 5, amount, &f.eur)?;
    }
    filter(ws, row, columns.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_longer_than_a_cell_is_cut_with_a_note() {
        assert_eq!(text("short"), "short");
        let long = "é".repeat(CELL_CHARS + 10);
        let cut = text(&long);
        assert_eq!(cut.chars().count(), CELL_CHARS);
        assert!(cut.ends_with(CUT));
        let exact = "a".repeat(CELL_CHARS);
        assert_eq!(text(&exact).len(), CELL_CHARS);
    }

    #[test]
    fn dates_become_excel_dates() {
        let d = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).expect("a date");
        assert!(date(d).is_ok());
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-04T13:05:09Z")
            .expect("a time")
            .to_utc();
        assert!(datetime(t).is_ok());
    }
}
