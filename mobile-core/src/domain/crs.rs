//! Chinese map coordinate systems. Phones report WGS-84 (raw GPS), GCJ-02 (AMap, Tencent) or
//! BD-09 (Baidu); Gridwork stores WGS-84. GCJ-02 has no closed-form inverse, so WGS-84 is found
//! by fixed-point iteration until the forward transform reproduces the input to ~1e-9 degrees
//! (well under a millimetre), which keeps every round trip far inside 0.1 m.

use std::f64::consts::PI;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::DomainError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    #[default]
    Wgs84,
    Gcj02,
    Bd09,
}

impl FromStr for Crs {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" | "wgs-84" | "epsg:4326" => Ok(Crs::Wgs84),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            "bd09" | "bd-09" => Ok(Crs::Bd09),
            _ => Err(DomainError::new("crs", "invalid_crs", format!("unknown crs {s:?}; use wgs84, gcj02 or bd09"))),
        }
    }
}

impl Crs {
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }

    /// Converts `(lng, lat)` in this system to WGS-84.
    pub fn to_wgs84(self, lng: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lng, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lng, lat),
            Crs::Bd09 => {
                let (g_lng, g_lat) = bd09_to_gcj02(lng, lat);
                gcj02_to_wgs84(g_lng, g_lat)
            }
        }
    }

    /// Converts WGS-84 `(lng, lat)` into this system.
    pub fn from_wgs84(self, lng: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lng, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lng, lat),
            Crs::Bd09 => {
                let (g_lng, g_lat) = wgs84_to_gcj02(lng, lat);
                gcj02_to_bd09(g_lng, g_lat)
            }
        }
    }
}

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

/// GCJ-02 only shifts points inside mainland China; elsewhere it equals WGS-84.
pub fn in_china(lng: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lng) && (0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lng(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

pub fn wgs84_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    let d_lat = transform_lat(lng - 105.0, lat - 35.0);
    let d_lng = transform_lng(lng - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lng = (d_lng * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (lng + d_lng, lat + d_lat)
}

pub fn gcj02_to_wgs84(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    // The shift varies slowly, so each step subtracts the residual; a few steps reach 1e-12°.
    let (mut w_lng, mut w_lat) = (lng, lat);
    for _ in 0..30 {
        let (g_lng, g_lat) = wgs84_to_gcj02(w_lng, w_lat);
        let (e_lng, e_lat) = (g_lng - lng, g_lat - lat);
        w_lng -= e_lng;
        w_lat -= e_lat;
        if e_lng.abs() < 1e-12 && e_lat.abs() < 1e-12 {
            break;
        }
    }
    (w_lng, w_lat)
}

/// BD-09 is Baidu's offset of GCJ-02 inside China; outside it Baidu uses plain coordinates, and
/// the formula would push points near the poles past ±90°.
pub fn gcj02_to_bd09(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    let z = (lng * lng + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lng) + 0.000003 * (lng * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

pub fn bd09_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    if !in_china(lng, lat) {
        return (lng, lat);
    }
    // The closed form is approximate to ~1e-6°; refine against the forward transform.
    let (mut g_lng, mut g_lat) = {
        let x = lng - 0.0065;
        let y = lat - 0.006;
        let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
        let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
        (z * theta.cos(), z * theta.sin())
    };
    for _ in 0..10 {
        let (b_lng, b_lat) = gcj02_to_bd09(g_lng, g_lat);
        let (e_lng, e_lat) = (b_lng - lng, b_lat - lat);
        g_lng -= e_lng;
        g_lat -= e_lat;
        if e_lng.abs() < 1e-12 && e_lat.abs() < 1e-12 {
            break;
        }
    }
    (g_lng, g_lat)
}

/// Great-circle distance in metres (haversine), for tolerances and tests.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lng1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lng2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lng2 - lng1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_offset_in_wuhan() {
        // GCJ-02 sits 550–600 m from WGS-84 in Wuhan.
        let wgs = (114.3055, 30.5928);
        let gcj = wgs84_to_gcj02(wgs.0, wgs.1);
        let d = distance_m(wgs, gcj);
        assert!((450.0..700.0).contains(&d), "offset {d} m");
    }

    #[test]
    fn round_trips_stay_within_a_tenth_of_a_metre() {
        let mut worst: f64 = 0.0;
        for i in 0..60 {
            for j in 0..60 {
                let p = (73.0 + f64::from(i) * 1.07, 18.0 + f64::from(j) * 0.6);
                for crs in [Crs::Gcj02, Crs::Bd09] {
                    let (x, y) = crs.from_wgs84(p.0, p.1);
                    let back = crs.to_wgs84(x, y);
                    worst = worst.max(distance_m(p, back));
                    let there = crs.to_wgs84(x, y);
                    let again = crs.from_wgs84(there.0, there.1);
                    worst = worst.max(distance_m((x, y), again));
                }
            }
        }
        assert!(worst < 0.1, "worst round trip {worst} m");
        assert!(worst < 0.001, "expected sub-millimetre, got {worst} m");
    }

    #[test]
    fn outside_china_nothing_moves_and_names_parse() {
        assert_eq!(Crs::Gcj02.to_wgs84(2.35, 48.85), (2.35, 48.85));
        assert_eq!("GCJ02".parse::<Crs>(), Ok(Crs::Gcj02));
        assert_eq!("bd-09".parse::<Crs>(), Ok(Crs::Bd09));
        assert!("utm".parse::<Crs>().is_err());
    }

    #[test]
    fn conversions_stay_in_range_everywhere() {
        for lat in [-90.0, -89.9999, -45.0, 0.0, 0.83, 30.5, 55.82, 89.9999, 90.0] {
            for lng in [-180.0, -179.9999, 0.0, 72.01, 114.3, 137.8, 179.9999, 180.0] {
                for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
                    for (x, y) in [crs.to_wgs84(lng, lat), crs.from_wgs84(lng, lat)] {
                        assert!(x.abs() <= 180.0 && y.abs() <= 90.0, "{crs:?} ({lng}, {lat}) -> ({x}, {y})");
                    }
                }
            }
        }
    }
}
