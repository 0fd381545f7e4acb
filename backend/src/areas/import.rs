//! GeoJSON import: map the file's properties onto Gridwork's, validate everything before anything
//! is written, and report per feature what is wrong and where. Writing is `store::apply`.

use std::collections::BTreeMap;

use geo::{BoundingRect, Centroid, Intersects, MultiPolygon, Polygon};
use gridwork_mobile_core::domain::crs::Crs;
use gridwork_mobile_core::{AreaCode, AreaLevel};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::geometry::{self, Defect};

/// How a file's properties map onto an area. Real files name things their own way.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mapping {
    pub code_prop: String,
    pub name_prop: String,
    /// A fixed level for every feature; otherwise read from `level_prop`.
    pub level: Option<AreaLevel>,
    pub level_prop: String,
    /// Dotted paths reach nested properties (`parent.adcode`).
    pub parent_prop: String,
    /// A fixed parent for files whose features name none (or name it differently).
    pub parent_code: Option<String>,
    pub crs: Crs,
    /// For buildings given as points: the radius property (metres), default 10 m.
    pub radius_prop: String,
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            code_prop: "code".into(),
            name_prop: "name".into(),
            level: None,
            level_prop: "level".into(),
            parent_prop: "parent_code".into(),
            parent_code: None,
            crs: Crs::Wgs84,
            radius_prop: "radius_m".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    pub repair: bool,
    /// A child may stick out of its parent by at most this share of its own area.
    pub containment_tolerance: f64,
    /// Siblings may overlap by at most this share of the smaller one's area.
    pub overlap_tolerance: f64,
    pub dry_run: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { repair: false, containment_tolerance: 0.01, overlap_tolerance: 0.01, dry_run: false }
    }
}

/// An area ready to be written: merged, converted to WGS-84, valid.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_code: Option<String>,
    pub geometry: MultiPolygon<f64>,
    pub radius_m: Option<f64>,
    /// Indexes of the features this area was built from.
    pub features: Vec<usize>,
}

/// An area already stored, as validation needs it.
#[derive(Debug, Clone)]
pub struct Existing {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_code: Option<String>,
    pub geometry: MultiPolygon<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Issue {
    /// The feature's index in the file (the first one, for areas merged from several).
    pub index: Option<usize>,
    pub code: Option<String>,
    pub problem: &'static str,
    pub message: String,
    /// `[lng, lat]` in the file's own CRS, where the problem is.
    pub location: Option<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RepairNote {
    pub index: usize,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Gap {
    pub area_m2: f64,
    pub location: [f64; 2],
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub parent_code: String,
    pub children: usize,
    /// Share of the parent's area covered by its children (0–1).
    pub covered: f64,
    /// The largest uncovered pieces, biggest first.
    pub gaps: Vec<Gap>,
}

/// What an area import found and did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub features: usize,
    pub areas: usize,
    pub applied: bool,
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    pub repairs: Vec<RepairNote>,
    pub coverage: Vec<Coverage>,
}

/// Stages reported to a progress display: (stage, done, total).
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

fn prop<'a>(props: &'a serde_json::Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = props.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn prop_string(props: &serde_json::Map<String, Value>, path: &str) -> Option<String> {
    match prop(props, path)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn to_file_crs(crs: Crs, p: (f64, f64)) -> [f64; 2] {
    let (x, y) = crs.from_wgs84(p.0, p.1);
    [x, y]
}

struct Part {
    index: usize,
    code: String,
    name: String,
    level: AreaLevel,
    parent_code: Option<String>,
    polygons: Vec<Polygon<f64>>,
    radius_m: Option<f64>,
}

/// Parses and validates a FeatureCollection. Returns the candidates and a report; the report's
/// `errors` being empty is what allows writing.
pub fn prepare(
    json: &[u8],
    mapping: &Mapping,
    options: &Options,
    existing: &[Existing],
    progress: Progress<'_>,
) -> Result<(Vec<Candidate>, Report), String> {
    let collection: geojson::FeatureCollection =
        serde_json::from_slice::<geojson::GeoJson>(json).map_err(|e| format!("not GeoJSON: {e}")).and_then(|g| {
            geojson::FeatureCollection::try_from(g).map_err(|_| "expected a GeoJSON FeatureCollection".to_owned())
        })?;
    let mut report = Report { features: collection.features.len(), dry_run: options.dry_run, ..Report::default() };
    let crs = mapping.crs;
    let issue =
        |index: Option<usize>, code: Option<&str>, problem: &'static str, message: String, loc: Option<(f64, f64)>| {
            Issue { index, code: code.map(str::to_owned), problem, message, location: loc.map(|p| to_file_crs(crs, p)) }
        };

    // 1. Read each feature.
    let total = collection.features.len();
    let mut parts: Vec<Part> = Vec::new();
    for (index, feature) in collection.features.iter().enumerate() {
        progress("reading", index + 1, total);
        let empty = serde_json::Map::new();
        let props = feature.properties.as_ref().unwrap_or(&empty);
        let Some(raw_code) = prop_string(props, &mapping.code_prop) else {
            report.errors.push(issue(
                Some(index),
                None,
                "missing_code",
                format!("no property {:?}", mapping.code_prop),
                None,
            ));
            continue;
        };
        let code = match AreaCode::parse(&raw_code) {
            Ok(c) => c.to_string(),
            Err(e) => {
                report.errors.push(issue(Some(index), Some(&raw_code), "invalid_code", e.message, None));
                continue;
            }
        };
        let level = match mapping.level {
            Some(l) => l,
            None => match prop_string(props, &mapping.level_prop).map(|s| s.parse::<AreaLevel>()) {
                Some(Ok(l)) => l,
                Some(Err(e)) => {
                    report.errors.push(issue(Some(index), Some(&code), "invalid_level", e.message, None));
                    continue;
                }
                None => {
                    let msg = format!("no level: give --level or a {:?} property", mapping.level_prop);
                    report.errors.push(issue(Some(index), Some(&code), "missing_level", msg, None));
                    continue;
                }
            },
        };
        let name = prop_string(props, &mapping.name_prop).unwrap_or_else(|| code.clone());
        let parent_code = mapping.parent_code.clone().or_else(|| prop_string(props, &mapping.parent_prop));
        let mut radius_m = None;
        let polygons: Vec<Polygon<f64>> = match feature
            .geometry
            .as_ref()
            .map(|g| geo::Geometry::<f64>::try_from(g.clone()).map_err(|e| e.to_string()))
        {
            Some(Ok(geo::Geometry::Polygon(p))) => vec![p],
            Some(Ok(geo::Geometry::MultiPolygon(m))) => m.0,
            Some(Ok(geo::Geometry::Point(p))) if level == AreaLevel::Building => {
                let r = prop(props, &mapping.radius_prop).and_then(Value::as_f64).unwrap_or(10.0);
                if !(0.5..=500.0).contains(&r) {
                    report.errors.push(issue(
                        Some(index),
                        Some(&code),
                        "invalid_radius",
                        format!("radius {r} m is not within 0.5–500 m"),
                        None,
                    ));
                    continue;
                }
                radius_m = Some(r);
                let (x, y) = crs.to_wgs84(p.x(), p.y());
                vec![geometry::circle(x, y, r)]
            }
            Some(Ok(other)) => {
                let kind = match other {
                    geo::Geometry::Point(_) => "Point (allowed for buildings only)",
                    geo::Geometry::LineString(_) | geo::Geometry::MultiLineString(_) => "a line",
                    _ => "an unsupported geometry",
                };
                report.errors.push(issue(
                    Some(index),
                    Some(&code),
                    "unsupported_geometry",
                    format!("geometry is {kind}; areas need a Polygon or MultiPolygon"),
                    None,
                ));
                continue;
            }
            Some(Err(e)) => {
                report.errors.push(issue(Some(index), Some(&code), "invalid_geometry", e.to_string(), None));
                continue;
            }
            None => {
                report.errors.push(issue(
                    Some(index),
                    Some(&code),
                    "missing_geometry",
                    "feature has no geometry".into(),
                    None,
                ));
                continue;
            }
        };
        let mut g = MultiPolygon(polygons);
        let coord_defects = geometry::coordinate_defects(&g);
        if let Some(d) = coord_defects.into_iter().next() {
            report.errors.push(issue(Some(index), Some(&code), d.kind, d.message, None));
            continue;
        }
        if radius_m.is_none() {
            g = geometry::to_wgs84(&g, crs);
        }
        parts.push(Part { index, code, name, level, parent_code, polygons: g.0, radius_m });
    }

    // 2. Check each part's validity (repairing if asked), then merge parts that share a code.
    let mut by_code: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (i, part) in parts.iter_mut().enumerate() {
        progress("validating", i + 1, total);
        let g = MultiPolygon(std::mem::take(&mut part.polygons));
        let defects: Vec<Defect> = geometry::validity_defects(&g);
        if defects.is_empty() {
            part.polygons = g.0;
        } else {
            let fixed = options
                .repair
                .then(|| geometry::repair(&g))
                .filter(|f| !f.0.is_empty() && geometry::validity_defects(f).is_empty());
            let Some(fixed) = fixed else {
                let hint = if options.repair { " (repair failed)" } else { "; --repair can fix this" };
                let errors = defects.into_iter().map(|d| {
                    issue(Some(part.index), Some(&part.code), d.kind, format!("{}{hint}", d.message), d.location)
                });
                report.errors.extend(errors);
                continue;
            };
            let what: Vec<String> = defects.iter().map(|d| d.message.clone()).collect();
            report.repairs.push(RepairNote {
                index: part.index,
                code: part.code.clone(),
                message: format!(
                    "{}; rebuilt as {} polygon(s), area {:.0} m² → {:.0} m²",
                    what.join("; "),
                    fixed.0.len(),
                    geometry::area_m2(&g),
                    geometry::area_m2(&fixed)
                ),
            });
            part.polygons = fixed.0;
        }
        if !by_code.contains_key(&part.code) {
            order.push(part.code.clone());
        }
        by_code.entry(part.code.clone()).or_default().push(i);
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    for code in &order {
        let idxs = &by_code[code];
        let first = &parts[idxs[0]];
        if let Some(other) =
            idxs.iter().map(|&i| &parts[i]).find(|p| p.level != first.level || p.parent_code != first.parent_code)
        {
            report.errors.push(issue(
                Some(other.index),
                Some(code),
                "conflicting_parts",
                format!("features {} and {} share code {code} but differ in level or parent", first.index, other.index),
                None,
            ));
            continue;
        }
        let polys: Vec<Polygon<f64>> = idxs.iter().flat_map(|&i| parts[i].polygons.iter().cloned()).collect();
        let geometry = geometry::merge(&polys);
        if idxs.len() > 1 && !geometry::validity_defects(&geometry).is_empty() {
            report.errors.push(issue(
                Some(first.index),
                Some(code),
                "invalid_merge",
                format!("the {} parts of {code} do not merge into a valid shape", idxs.len()),
                None,
            ));
            continue;
        }
        candidates.push(Candidate {
            code: code.clone(),
            name: first.name.clone(),
            level: first.level,
            parent_code: first.parent_code.clone(),
            geometry,
            radius_m: first.radius_m,
            features: idxs.iter().map(|&i| parts[i].index).collect(),
        });
    }
    report.areas = candidates.len();

    check_hierarchy(&candidates, existing, options, &mut report, crs, progress);
    Ok((candidates, report))
}

/// Parent rules, containment in the parent, sibling overlaps and the coverage report.
fn check_hierarchy(
    candidates: &[Candidate],
    existing: &[Existing],
    options: &Options,
    report: &mut Report,
    crs: Crs,
    progress: Progress<'_>,
) {
    // The world after this import: stored areas, replaced by the file's where codes match.
    let mut world: BTreeMap<&str, (AreaLevel, Option<&str>, &MultiPolygon<f64>)> = BTreeMap::new();
    for e in existing {
        world.insert(&e.code, (e.level, e.parent_code.as_deref(), &e.geometry));
    }
    for c in candidates {
        world.insert(&c.code, (c.level, c.parent_code.as_deref(), &c.geometry));
    }
    let issue = |c: &Candidate, problem: &'static str, message: String, loc: Option<(f64, f64)>| Issue {
        index: c.features.first().copied(),
        code: Some(c.code.clone()),
        problem,
        message,
        location: loc.map(|p| to_file_crs(crs, p)),
    };
    let centroid = |g: &MultiPolygon<f64>| g.centroid().map(|p| (p.x(), p.y()));

    let total = candidates.len();
    let mut roots: BTreeMap<AreaLevel, usize> = BTreeMap::new();
    for (i, c) in candidates.iter().enumerate() {
        progress("checking parents", i + 1, total);
        let Some(parent_code) = &c.parent_code else {
            if c.level != AreaLevel::City {
                *roots.entry(c.level).or_default() += 1;
            }
            continue;
        };
        let Some((plevel, _, pgeom)) = world.get(parent_code.as_str()) else {
            report.errors.push(issue(
                c,
                "unknown_parent",
                format!("parent {parent_code} is neither in this file nor stored"),
                None,
            ));
            continue;
        };
        if Some(*plevel) != c.level.parent() {
            report.errors.push(issue(
                c,
                "wrong_parent_level",
                format!(
                    "parent {parent_code} is a {plevel}, but a {}'s parent must be a {}",
                    c.level,
                    c.level.parent().map_or("nothing", AreaLevel::as_str)
                ),
                None,
            ));
            continue;
        }
        let own = geometry::area_m2(&c.geometry);
        let outside = geometry::outside_m2(&c.geometry, pgeom);
        let share = if own > 0.0 { outside / own } else { 0.0 };
        if share > options.containment_tolerance {
            let piece = geo::BooleanOps::difference(&c.geometry, *pgeom);
            report.errors.push(issue(
                c,
                "outside_parent",
                format!(
                    "{:.2}% of {} lies outside its parent {parent_code} (tolerance {:.2}%)",
                    share * 100.0,
                    c.code,
                    options.containment_tolerance * 100.0
                ),
                centroid(&piece),
            ));
        } else if share > 1e-4 {
            report.warnings.push(issue(
                c,
                "outside_parent",
                format!("{:.3}% of {} lies outside its parent {parent_code} (within tolerance)", share * 100.0, c.code),
                None,
            ));
        }
    }

    for (level, n) in roots {
        report.warnings.push(Issue {
            index: None,
            code: None,
            problem: "no_parent",
            message: format!("{n} {level} area(s) name no parent: they become top-level areas"),
            location: None,
        });
    }

    // Siblings: same parent, same level.
    type Siblings<'a> = Vec<(&'a str, &'a MultiPolygon<f64>)>;
    let mut groups: BTreeMap<(Option<&str>, AreaLevel), Siblings> = BTreeMap::new();
    for (code, (level, parent, g)) in &world {
        groups.entry((*parent, *level)).or_default().push((code, g));
    }
    let in_file: BTreeMap<&str, &Candidate> = candidates.iter().map(|c| (c.code.as_str(), c)).collect();
    let group_count = groups.len();
    for (gi, members) in groups.values().enumerate() {
        progress("checking overlaps", gi + 1, group_count);
        let boxes: Vec<_> = members.iter().map(|(_, g)| g.bounding_rect()).collect();
        for i in 0..members.len() {
            for j in (i + 1)..members.len() {
                let (a, b) = (members[i], members[j]);
                let (Some(ba), Some(bb)) = (boxes[i], boxes[j]) else { continue };
                if !ba.intersects(&bb) || !(in_file.contains_key(a.0) || in_file.contains_key(b.0)) {
                    continue;
                }
                let overlap = geometry::overlap_m2(a.1, b.1);
                let smaller = geometry::area_m2(a.1).min(geometry::area_m2(b.1));
                if smaller <= 0.0 || overlap / smaller <= 1e-6 {
                    continue;
                }
                let share = (overlap / smaller).min(1.0);
                let Some(c) = in_file.get(a.0).or_else(|| in_file.get(b.0)) else { continue };
                let other = if c.code == a.0 { b.0 } else { a.0 };
                let loc = centroid(&geo::BooleanOps::intersection(a.1, b.1));
                let message = format!("{} and {other} overlap by {:.2}% of the smaller one", c.code, share * 100.0);
                if share > options.overlap_tolerance {
                    report.errors.push(issue(
                        c,
                        "sibling_overlap",
                        format!("{message} (tolerance {:.2}%)", options.overlap_tolerance * 100.0),
                        loc,
                    ));
                } else {
                    report.warnings.push(issue(c, "sibling_overlap", format!("{message} (within tolerance)"), loc));
                }
            }
        }
    }

    // Coverage of each parent that this file gives children to.
    let mut parents: Vec<&str> = candidates.iter().filter_map(|c| c.parent_code.as_deref()).collect();
    parents.sort_unstable();
    parents.dedup();
    for (pi, parent) in parents.iter().enumerate() {
        progress("coverage", pi + 1, parents.len());
        let Some((_, _, pgeom)) = world.get(parent) else { continue };
        let children: Vec<Polygon<f64>> =
            world.values().filter(|(_, p, _)| *p == Some(*parent)).flat_map(|(_, _, g)| g.0.iter().cloned()).collect();
        let count = world.values().filter(|(_, p, _)| *p == Some(*parent)).count();
        let union = geometry::merge(&children);
        let parent_area = geometry::area_m2(pgeom);
        let gaps_geom = geo::BooleanOps::difference(*pgeom, &union);
        let mut gaps: Vec<Gap> = gaps_geom
            .0
            .iter()
            .filter_map(|p| {
                let a = geometry::area_m2(&MultiPolygon(vec![p.clone()]));
                let c = p.centroid()?;
                (a >= parent_area * 1e-4).then(|| Gap { area_m2: a, location: to_file_crs(crs, (c.x(), c.y())) })
            })
            .collect();
        gaps.sort_by(|a, b| b.area_m2.total_cmp(&a.area_m2));
        gaps.truncate(5);
        let covered =
            if parent_area > 0.0 { (1.0 - geometry::area_m2(&gaps_geom) / parent_area).clamp(0.0, 1.0) } else { 0.0 };
        report.coverage.push(Coverage { parent_code: (*parent).to_owned(), children: count, covered, gaps });
    }
}
