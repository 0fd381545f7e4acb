//! Reading and writing the area map, and building the lookup index from what is stored.

use geo::MultiPolygon;
use gridwork_mobile_core::AreaLevel;
use h3o::CellIndex;
use h3o::geom::{ContainmentMode, TilerBuilder};
use sha2::{Digest, Sha256};

use super::import::{self, Candidate, Existing, Mapping, Options, Progress, Report};
use super::index::{AreaIndex, AreaInput};
use super::{geometry, levels};
use crate::db::DbConn;
use crate::db::write_tx;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::models::area::AreaRow;
use crate::models::{new_id, now};
use crate::queries;

pub fn geometry_json(g: &MultiPolygon<f64>) -> String {
    let geom = if g.0.len() == 1 { geojson::Geometry::from(&g.0[0]) } else { geojson::Geometry::from(g) };
    geom.to_string()
}

/// A point inside a stored area's outline (lat, lng) and the area's name; `None` when the area
/// is not stored or has no interior.
pub fn interior_point(conn: &mut DbConn, code: &str) -> ApiResult<Option<(f64, f64, String)>> {
    let Some(row) = queries::areas::current_by_code(conn, code)? else { return Ok(None) };
    let shape = parse_geometry(&row.geometry).map_err(ApiError::internal)?;
    Ok(geo::InteriorPoint::interior_point(&shape).map(|p| (p.y(), p.x(), row.name)))
}

pub fn parse_geometry(text: &str) -> Result<MultiPolygon<f64>, String> {
    let g: geojson::Geometry = text.parse().map_err(|e| format!("stored geometry unreadable: {e}"))?;
    match geo::Geometry::<f64>::try_from(g).map_err(|e| e.to_string())? {
        geo::Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(m) => Ok(m),
        _ => Err("stored geometry is not a polygon".into()),
    }
}

fn content_hash(c: &Candidate, geometry: &str) -> String {
    let mut h = Sha256::new();
    for part in [c.name.as_str(), c.level.as_str(), c.parent_code.as_deref().unwrap_or(""), geometry] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(c.radius_m.map(f64::to_bits).unwrap_or(0).to_le_bytes());
    gridwork_mobile_core::hash::hex(&h.finalize())
}

/// The compacted H3 cover (cells touching the area) at `res`.
pub fn cover(g: &MultiPolygon<f64>, res: h3o::Resolution) -> Result<Vec<CellIndex>, String> {
    let mut tiler = TilerBuilder::new(res).containment_mode(ContainmentMode::Covers).build();
    tiler.add_batch(g.0.iter().cloned()).map_err(|e| e.to_string())?;
    Ok(tiler.into_coverage().collect())
}

fn compacted(g: &MultiPolygon<f64>, level: AreaLevel) -> Result<Vec<i64>, String> {
    let mut cells = cover(g, levels::resolution(level))?;
    cells.sort_unstable();
    cells.dedup();
    CellIndex::compact(&mut cells).map_err(|e| e.to_string())?;
    Ok(cells.into_iter().map(|c| i64::try_from(u64::from(c)).unwrap_or(i64::MAX)).collect())
}

fn parse_row(row: &AreaRow) -> Result<(AreaLevel, MultiPolygon<f64>), String> {
    let level = row.level.parse::<AreaLevel>().map_err(|e| e.message)?;
    Ok((level, parse_geometry(&row.geometry)?))
}

pub fn load_existing(conn: &mut DbConn) -> ApiResult<Vec<Existing>> {
    queries::areas::current_all(conn)?
        .into_iter()
        .map(|row| {
            let (level, geometry) = parse_row(&row).map_err(ApiError::internal)?;
            Ok(Existing { code: row.code, name: row.name, level, parent_code: row.parent_code, geometry })
        })
        .collect()
}

/// The stored map's generation and the index built from it. The generation is read first: an
/// import landing in between makes the index newer than its generation says, which costs one
/// needless reload later, never a missed one.
pub fn load_index(conn: &mut DbConn) -> anyhow::Result<(i64, AreaIndex)> {
    let generation = queries::cluster::generations(conn)?.areas;
    Ok((generation, build_index(conn)?))
}

pub fn build_index(conn: &mut DbConn) -> anyhow::Result<AreaIndex> {
    let inputs: Vec<AreaInput> = load_existing(conn)
        .map_err(|e| anyhow::anyhow!(e.message))?
        .into_iter()
        .map(|e| AreaInput {
            code: e.code,
            name: e.name,
            level: e.level,
            parent_code: e.parent_code,
            geometry: e.geometry,
        })
        .collect();
    Ok(AreaIndex::build(&inputs)?)
}

/// Validates the file against what is stored and, if nothing is wrong and this is no dry run,
/// writes it in one transaction: all of it or nothing. Unchanged areas are left alone.
pub fn import(
    conn: &mut DbConn,
    json: &[u8],
    mapping: &Mapping,
    options: &Options,
    progress: Progress<'_>,
) -> ApiResult<Report> {
    let existing = load_existing(conn)?;
    let (candidates, mut report) = import::prepare(json, mapping, options, &existing, progress)
        .map_err(|m| ApiError::field("file", "invalid_geojson", m))?;
    if !report.errors.is_empty() || options.dry_run {
        return Ok(report);
    }
    let prepared: Vec<(Candidate, String, String, Vec<i64>)> = candidates
        .into_iter()
        .map(|c| {
            let json = geometry_json(&c.geometry);
            let hash = content_hash(&c, &json);
            let cells = compacted(&c.geometry, c.level)
                .map_err(|e| ApiError::field("file", "invalid_geometry", format!("{}: {e}", c.code)))?;
            Ok((c, json, hash, cells))
        })
        .collect::<ApiResult<_>>()?;
    let (created, updated, unchanged) = write_tx(conn, |conn| {
        let at = now();
        let (mut created, mut updated, mut unchanged) = (0, 0, 0);
        for (c, json, hash, cells) in &prepared {
            let current = queries::areas::current_by_code(conn, &c.code)?;
            match &current {
                Some(row) if &row.content_hash == hash => {
                    unchanged += 1;
                    continue;
                }
                Some(row) => {
                    queries::areas::close(conn, &row.id, at)?;
                    updated += 1;
                }
                None => created += 1,
            }
            let row = AreaRow {
                id: new_id(),
                code: c.code.clone(),
                name: c.name.clone(),
                level: c.level.as_str().to_owned(),
                parent_code: c.parent_code.clone(),
                geometry: json.clone(),
                radius_m: c.radius_m,
                area_m2: geometry::area_m2(&c.geometry),
                content_hash: hash.clone(),
                valid_from: at,
                valid_to: None,
            };
            queries::areas::insert(conn, &row)?;
            queries::areas::insert_cells(conn, &row.id, cells)?;
        }
        if created + updated > 0 {
            queries::cluster::areas_changed(conn)?;
        }
        Ok::<_, ApiError>((created, updated, unchanged))
    })?;
    report.created = created;
    report.updated = updated;
    report.unchanged = unchanged;
    report.applied = true;
    Ok(report)
}

/// Import refused: the report goes back with the error so every defect can be fixed at once.
pub fn rejected(report: &Report) -> ApiError {
    let mut e = ApiError::new(
        ErrorCode::ValidationFailed,
        format!("the import has {} error(s); nothing was written", report.errors.len()),
    );
    e.details = serde_json::to_value(report).ok();
    e
}
