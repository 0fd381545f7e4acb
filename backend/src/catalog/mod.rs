//! The category catalog: a shipped default, and CSV import/export so a city can keep its own.
//! One row per minor class; deadlines per stage as `general/significant/serious/critical` minutes.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use gridwork_mobile_core::domain::category::{self, Deadlines, Family, Grade, HandlerKind, Stage};
use serde::Serialize;

use crate::db::DbConn;
use crate::db::write_tx;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::models::category::CategoryRow;
use crate::models::now;
use crate::queries;

pub const DEFAULT_CSV: &str = include_str!("default_catalog.csv");

const HEADER: [&str; 15] = [
    "family",
    "major_code",
    "major_name",
    "minor_code",
    "minor_name",
    "default_grade",
    "handler_kind",
    "department_code",
    "after_photo_required",
    "duplicate_radius_m",
    "accept",
    "dispatch",
    "handle",
    "verify",
    "active",
];

pub use gridwork_mobile_core::wire::Category;

/// A problem with one CSV row (1 = the first data row).
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub code: String,
    pub message: String,
}

fn parse_minutes(stage: Stage, raw: &str) -> Result<BTreeMap<Grade, u32>, (String, String)> {
    let parts: Vec<&str> = raw.split('/').map(str::trim).collect();
    if parts.len() != Grade::ALL.len() {
        return Err((
            "invalid_deadline".into(),
            format!("{stage}: give 4 values general/significant/serious/critical, got {raw:?}"),
        ));
    }
    Grade::ALL
        .iter()
        .zip(parts)
        .map(|(g, p)| {
            p.parse::<u32>()
                .map(|m| (*g, m))
                .map_err(|_| ("invalid_deadline".into(), format!("{stage}/{g}: {p:?} is not a number of minutes")))
        })
        .collect()
}

pub(crate) fn parse_bool(field: &str, raw: &str) -> Result<bool, (String, String)> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" | "" => Ok(false),
        _ => Err(("invalid_bool".into(), format!("{field}: {raw:?} is not true or false"))),
    }
}

/// Characters that make a spreadsheet read a cell as a formula (CSV injection).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as exported: text a spreadsheet would run as a formula gets a leading `'`, which
/// spreadsheets show as "text" and [`unguard`] removes on import, so the round trip holds.
pub(crate) fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_START) { format!("'{cell}").into() } else { cell.into() }
}

pub(crate) fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

fn parse_row(rec: &csv::StringRecord) -> Result<Category, (String, String, String)> {
    let get =
        |name: &str| unguard(HEADER.iter().position(|h| *h == name).and_then(|i| rec.get(i)).unwrap_or("").trim());
    let dom = |e: gridwork_mobile_core::DomainError| (e.field.to_owned(), e.code.to_owned(), e.message);
    let family: Family = get("family").parse().map_err(dom)?;
    let (major_code, minor_code) = (get("major_code").to_owned(), get("minor_code").to_owned());
    let code = category::category_code(family, &major_code, &minor_code).map_err(dom)?;
    let text = |field: &str| -> Result<String, (String, String, String)> {
        let v = get(field);
        if v.is_empty() || v.chars().count() > 100 {
            Err((field.to_owned(), "invalid_length".into(), format!("{field} must be 1 to 100 characters")))
        } else {
            Ok(v.to_owned())
        }
    };
    let mut deadlines = Deadlines::new();
    for stage in Stage::ALL {
        let m = parse_minutes(stage, get(stage.as_str())).map_err(|(c, m)| (stage.as_str().to_owned(), c, m))?;
        deadlines.insert(stage, m);
    }
    category::check_deadlines(&deadlines).map_err(dom)?;
    let handler_kind: HandlerKind = get("handler_kind").parse().map_err(dom)?;
    let department_code = Some(get("department_code").to_owned()).filter(|d| !d.is_empty());
    if (handler_kind == HandlerKind::Department) != department_code.is_some() {
        return Err((
            "department_code".into(),
            "department_mismatch".into(),
            "department categories name their department; others name none".into(),
        ));
    }
    let radius: u32 = get("duplicate_radius_m").parse().map_err(|_| {
        (
            "duplicate_radius_m".to_owned(),
            "invalid_number".to_owned(),
            "duplicate_radius_m must be metres (0–5000)".to_owned(),
        )
    })?;
    if radius > 5000 {
        return Err(("duplicate_radius_m".into(), "out_of_range".into(), "duplicate_radius_m must be 0–5000".into()));
    }
    let flag = |f: &str| parse_bool(f, get(f)).map_err(|(c, m)| (f.to_owned(), c, m));
    Ok(Category {
        code,
        family,
        major_name: text("major_name")?,
        minor_name: text("minor_name")?,
        major_code,
        minor_code,
        default_grade: get("default_grade").parse().map_err(dom)?,
        deadlines,
        handler_kind,
        department_code,
        after_photo_required: flag("after_photo_required")?,
        duplicate_radius_m: radius,
        active: flag("active").map(|a| a || get("active").is_empty())?,
    })
}

/// Parses a whole CSV; every bad row is reported, not just the first.
pub fn parse_csv(data: &[u8]) -> Result<Vec<Category>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(data);
    let header_ok = reader.headers().map(|h| h.iter().collect::<Vec<_>>() == HEADER).unwrap_or(false);
    if !header_ok {
        return Err(vec![RowError {
            row: 0,
            field: "header".into(),
            code: "invalid_header".into(),
            message: format!("the first line must be: {}", HEADER.join(",")),
        }]);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen = BTreeMap::new();
    for (i, rec) in reader.records().enumerate() {
        let row = i + 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { row, field: "row".into(), code: "invalid_csv".into(), message: e.to_string() });
                continue;
            }
        };
        match parse_row(&rec) {
            Ok(c) => {
                if let Some(first) = seen.insert(c.code.clone(), row) {
                    errors.push(RowError {
                        row,
                        field: "minor_code".into(),
                        code: "duplicate".into(),
                        message: format!("{} already given on row {first}", c.code),
                    });
                }
                out.push(c);
            }
            Err((field, code, message)) => errors.push(RowError { row, field, code, message }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

pub fn to_csv(categories: &[Category]) -> ApiResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| ApiError::internal(e.to_string());
    w.write_record(HEADER).map_err(io)?;
    for c in categories {
        let minutes = |s: Stage| {
            c.deadlines
                .get(&s)
                .map(|m| m.values().map(u32::to_string).collect::<Vec<_>>().join("/"))
                .unwrap_or_default()
        };
        let cells = [
            c.family.as_str(),
            &c.major_code,
            &c.major_name,
            &c.minor_code,
            &c.minor_name,
            c.default_grade.as_str(),
            c.handler_kind.as_str(),
            c.department_code.as_deref().unwrap_or(""),
            if c.after_photo_required { "true" } else { "false" },
            &c.duplicate_radius_m.to_string(),
            &minutes(Stage::Accept),
            &minutes(Stage::Dispatch),
            &minutes(Stage::Handle),
            &minutes(Stage::Verify),
            if c.active { "true" } else { "false" },
        ];
        w.write_record(cells.iter().map(|cell| guard(cell).into_owned())).map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| ApiError::internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(e.to_string()))
}

fn to_row(c: &Category, at: NaiveDateTime) -> ApiResult<CategoryRow> {
    Ok(CategoryRow {
        code: c.code.clone(),
        family: c.family.as_str().to_owned(),
        major_code: c.major_code.clone(),
        major_name: c.major_name.clone(),
        minor_code: c.minor_code.clone(),
        minor_name: c.minor_name.clone(),
        default_grade: c.default_grade.as_str().to_owned(),
        deadlines: serde_json::to_string(&c.deadlines).map_err(|e| ApiError::internal(e.to_string()))?,
        handler_kind: c.handler_kind.as_str().to_owned(),
        department_code: c.department_code.clone(),
        after_photo_required: c.after_photo_required,
        duplicate_radius_m: i32::try_from(c.duplicate_radius_m).unwrap_or(i32::MAX),
        active: c.active,
        updated_at: at,
    })
}

pub fn from_row(r: &CategoryRow) -> ApiResult<Category> {
    let bad = |e: String| ApiError::internal(format!("stored category {} unreadable: {e}", r.code));
    Ok(Category {
        code: r.code.clone(),
        family: r.family.parse().map_err(|e: gridwork_mobile_core::DomainError| bad(e.message))?,
        major_code: r.major_code.clone(),
        major_name: r.major_name.clone(),
        minor_code: r.minor_code.clone(),
        minor_name: r.minor_name.clone(),
        default_grade: r.default_grade.parse().map_err(|e: gridwork_mobile_core::DomainError| bad(e.message))?,
        deadlines: serde_json::from_str(&r.deadlines).map_err(|e| bad(e.to_string()))?,
        handler_kind: r.handler_kind.parse().map_err(|e: gridwork_mobile_core::DomainError| bad(e.message))?,
        department_code: r.department_code.clone(),
        after_photo_required: r.after_photo_required,
        duplicate_radius_m: u32::try_from(r.duplicate_radius_m).unwrap_or(0),
        active: r.active,
    })
}

/// What a catalog import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// The refusal of an import with bad rows: each row's problem in `details`, nothing written.
pub(crate) fn invalid_rows(errors: &[RowError]) -> ApiError {
    let mut e =
        ApiError::new(ErrorCode::ValidationFailed, format!("{} row(s) are invalid; nothing was written", errors.len()));
    e.details = serde_json::to_value(errors).ok();
    e
}

/// Validates the whole file, then writes it in one transaction (create or update by code).
/// Categories missing from the file are left as they are: deactivate them with `active=false`,
/// since events refer to them.
pub fn import_csv(conn: &mut DbConn, data: &[u8], actor: Option<&str>) -> ApiResult<ImportSummary> {
    let categories = parse_csv(data).map_err(|e| invalid_rows(&e))?;
    write_tx(conn, |conn| {
        let at = now();
        let mut summary = ImportSummary::default();
        for c in &categories {
            match queries::categories::by_code(conn, &c.code)? {
                Some(existing) if from_row(&existing)? == *c => summary.unchanged += 1,
                Some(_) => {
                    queries::categories::update(conn, &to_row(c, at)?)?;
                    summary.updated += 1;
                }
                None => {
                    queries::categories::insert(conn, &to_row(c, at)?)?;
                    summary.created += 1;
                }
            }
        }
        if summary.created + summary.updated > 0 {
            let detail = format!("created {}, updated {}", summary.created, summary.updated);
            queries::audit::record(conn, actor, "categories.import", "categories", &detail)?;
        }
        Ok(summary)
    })
}

/// Ships the default catalog into an empty database.
pub fn seed_default(conn: &mut DbConn) -> ApiResult<usize> {
    if queries::categories::count(conn)? > 0 {
        return Ok(0);
    }
    Ok(import_csv(conn, DEFAULT_CSV.as_bytes(), None)?.created)
}

pub fn all(conn: &mut DbConn) -> ApiResult<Vec<Category>> {
    queries::categories::all(conn)?.iter().map(from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalog_parses_and_round_trips() {
        let cats = parse_csv(DEFAULT_CSV.as_bytes()).unwrap();
        assert!(cats.len() >= 20);
        assert!(cats.iter().any(|c| c.family == Family::Component) && cats.iter().any(|c| c.family == Family::Event));
        let again = parse_csv(to_csv(&cats).unwrap().as_bytes()).unwrap();
        assert_eq!(cats, again);
    }

    #[test]
    fn every_bad_row_is_reported() {
        let mut csv = HEADER.join(",");
        csv.push_str("\nevent,01,市容环境,01,暴露垃圾,general,volunteer,,true,30,120/60/30/15,120/60/30/15,720/360/120/60,1440/720/240/120,true");
        csv.push_str("\nevent,01,市容环境,01,重复,general,volunteer,,true,30,120/60/30/15,120/60/30/15,720/360/120/60,1440/720/240/120,true");
        csv.push_str("\nevent,1,市容环境,02,x,general,volunteer,,true,30,120/60/30/15,120/60/30/15,720/360/120/60,1440/720/240/120,true");
        csv.push_str("\nevent,01,市容环境,03,x,urgent,volunteer,,true,30,120/60/30/15,120/60/30/15,720/360/120/60,1440/720/240/120,true");
        csv.push_str("\nevent,01,市容环境,04,x,general,department,,true,30,120/60/30/15,120/60/30/15,720/360/120/60,1440/720/240/120,true");
        csv.push_str("\nevent,01,市容环境,05,x,general,volunteer,,true,30,10/60/30/15,120/60/30/15,720/360/120/60,1440/720/240/120,true");
        csv.push_str("\nevent,01,市容环境,06,x,general,volunteer,,maybe,30,120/60/30/15,120/60/30/15,720/360/120/60,1440/720/240/120,true");
        let errors = parse_csv(csv.as_bytes()).unwrap_err();
        let codes: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.code.as_str())).collect();
        assert_eq!(
            codes,
            [
                (2, "duplicate"),
                (3, "invalid_format"),
                (4, "invalid_grade"),
                (5, "department_mismatch"),
                (6, "deadline_order"),
                (7, "invalid_bool")
            ]
        );
        assert_eq!(parse_csv(b"a,b\n1,2").unwrap_err()[0].code, "invalid_header");
    }

    #[test]
    fn exported_cells_never_start_a_formula_and_still_round_trip() {
        let mut cats = parse_csv(DEFAULT_CSV.as_bytes()).unwrap();
        cats[0].minor_name = "=HYPERLINK(\"http://x\",\"点我\")".into();
        cats[1].major_name = "+1".into();
        cats[2].minor_name = "@SUM(A1)".into();
        cats[3].minor_name = "-2".into();
        let csv = to_csv(&cats).unwrap();
        for record in csv::Reader::from_reader(csv.as_bytes()).records() {
            for cell in record.unwrap().iter() {
                assert!(!cell.starts_with(FORMULA_START), "formula cell {cell:?}");
            }
        }
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        assert_eq!(parse_csv(csv.as_bytes()).unwrap(), cats);
    }
}
