//! A report's two files. Both hold the same table: one line per unit, one column per measure of
//! `Score`, with the glossary's identifiers as the CSV header (for machines) and Chinese headings
//! in the workbook (for people). Durations are whole seconds in both.

use chrono::NaiveDateTime;
use gridwork_mobile_core::wire::Score;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::Line;
use crate::error::{ApiError, ApiResult};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Count,
    Rate,
    Seconds,
}

type Read = fn(&Score) -> Option<f64>;

#[allow(clippy::cast_precision_loss)]
fn n(v: u64) -> Option<f64> {
    // Counts of events stay far below 2^53.
    Some(v as f64)
}

/// The measure columns after `level`, `unit` and `name`: (identifier, heading, what, value).
pub const COLUMNS: [(&str, &str, Measure, Read); 25] = [
    ("reported", "上报", Measure::Count, |s| n(s.reported)),
    ("accepted", "立案", Measure::Count, |s| n(s.accepted)),
    ("closed", "结案", Measure::Count, |s| n(s.closed)),
    ("closure_rate", "结案率", Measure::Rate, |s| s.closure_rate),
    ("closed_on_time", "按期结案", Measure::Count, |s| n(s.closed_on_time)),
    ("on_time_closure_rate", "按期结案率", Measure::Rate, |s| s.on_time_closure_rate),
    ("reworked", "返工", Measure::Count, |s| n(s.reworked)),
    ("rework_rate", "返工率", Measure::Rate, |s| s.rework_rate),
    ("extended", "延期", Measure::Count, |s| n(s.extended)),
    ("extension_rate", "延期率", Measure::Rate, |s| s.extension_rate),
    ("dispatched", "派遣", Measure::Count, |s| n(s.dispatched)),
    ("returned", "退回", Measure::Count, |s| n(s.returned)),
    ("return_rate", "退回率", Measure::Rate, |s| s.return_rate),
    ("excused", "容错免责", Measure::Count, |s| n(s.excused)),
    ("overdue_open", "当前超期", Measure::Count, |s| n(s.overdue_open)),
    ("supervision_orders", "督办", Measure::Count, |s| n(s.supervision_orders)),
    ("orders_closed", "督办办结", Measure::Count, |s| n(s.orders_closed)),
    ("orders_open", "督办在办", Measure::Count, |s| n(s.orders_open)),
    ("callbacks", "回访", Measure::Count, |s| n(s.callbacks)),
    ("satisfied", "满意", Measure::Count, |s| n(s.satisfied)),
    ("satisfaction_rate", "满意率", Measure::Rate, |s| s.satisfaction_rate),
    ("avg_accept_secs", "平均受理用时（秒）", Measure::Seconds, |s| s.avg_accept_secs),
    ("avg_dispatch_secs", "平均派遣用时（秒）", Measure::Seconds, |s| s.avg_dispatch_secs),
    ("avg_handle_secs", "平均处置用时（秒）", Measure::Seconds, |s| s.avg_handle_secs),
    ("avg_verify_secs", "平均核查用时（秒）", Measure::Seconds, |s| s.avg_verify_secs),
];

const LEVEL_NAMES: [(&str, &str); 6] = [
    ("city", "市"),
    ("district", "区"),
    ("street", "街道"),
    ("community", "社区"),
    ("grid", "网格"),
    ("handler", "处置人"),
];

/// UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese names.
pub fn csv(lines: &[Line]) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let head = ["level", "unit", "name"].into_iter().chain(COLUMNS.iter().map(|c| c.0));
    w.write_record(head).map_err(internal)?;
    for line in lines {
        let s = &line.score;
        let mut record = vec![line.level.to_owned(), s.unit.clone(), s.name.clone().unwrap_or_default()];
        record.extend(COLUMNS.iter().map(|(_, _, _, read)| read(s).map(|v| v.to_string()).unwrap_or_default()));
        w.write_record(&record).map_err(internal)?;
    }
    w.into_inner().map_err(|e| internal(e.into_error()))
}

/// A workbook: the table on the first sheet (headings frozen, rates as percentages), and what
/// the report covers on the second.
pub fn xlsx(lines: &[Line], title: &str, from_local: NaiveDateTime, to_local: NaiveDateTime) -> ApiResult<Vec<u8>> {
    build(lines, title, from_local, to_local).map_err(internal)
}

fn build(lines: &[Line], title: &str, from: NaiveDateTime, to: NaiveDateTime) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.00%");
    let sheet = book.add_worksheet();
    sheet.set_name("考核")?;
    for (c, heading) in ["层级", "单位编码", "单位"].into_iter().chain(COLUMNS.iter().map(|c| c.1)).enumerate()
    {
        sheet.write_string_with_format(0, col(c), heading, &bold)?;
    }
    for (r, line) in lines.iter().enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
        let s = &line.score;
        let level = LEVEL_NAMES.iter().find(|(k, _)| *k == line.level).map_or(line.level, |(_, zh)| zh);
        sheet.write_string(row, 0, level)?;
        sheet.write_string(row, 1, &s.unit)?;
        sheet.write_string(row, 2, s.name.as_deref().unwrap_or(""))?;
        for (c, (_, _, what, read)) in COLUMNS.iter().enumerate() {
            // An empty cell where a rate has no denominator, as in the API's null.
            let Some(v) = read(s) else { continue };
            if *what == Measure::Rate {
                sheet.write_number_with_format(row, col(c + 3), v, &percent)?;
            } else {
                sheet.write_number(row, col(c + 3), v)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 3)?;
    sheet.autofit();
    let about = book.add_worksheet();
    about.set_name("说明")?;
    let facts = [
        ("报表", title.to_owned()),
        ("起（含）", from.format("%Y-%m-%d %H:%M").to_string()),
        ("止（不含）", to.format("%Y-%m-%d %H:%M").to_string()),
        ("时区", "UTC+8".to_owned()),
        ("口径", "结案率=结案/上报；按期结案率、返工率、延期率以结案为分母；退回率=退回/派遣".to_owned()),
    ];
    for (r, (k, v)) in facts.iter().enumerate() {
        let row = u32::try_from(r).unwrap_or(u32::MAX);
        about.write_string_with_format(row, 0, *k, &bold)?;
        about.write_string(row, 1, v)?;
    }
    about.autofit();
    book.save_to_buffer()
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("writing a report: {e}"))
}
