//! `gridwork areas …`: import with a progress bar and a summary, and point lookups.

use indicatif::{ProgressBar, ProgressStyle};

use crate::areas::import::{Mapping, Options, Report};
use crate::areas::store;
use crate::cli::{AreasCommand, api_err, open_db, out};
use crate::config::FileSettings;

pub fn run(cmd: AreasCommand, file: &FileSettings) -> anyhow::Result<()> {
    match cmd {
        AreasCommand::Import {
            file: path,
            code_prop,
            name_prop,
            level,
            level_prop,
            parent_prop,
            parent_code,
            crs,
            radius_prop,
            repair,
            dry_run,
            containment_tolerance,
            overlap_tolerance,
            json,
            storage,
        } => {
            anyhow::ensure!(
                (0.0..=1.0).contains(&containment_tolerance),
                "--containment-tolerance must be within 0..1"
            );
            anyhow::ensure!((0.0..=1.0).contains(&overlap_tolerance), "--overlap-tolerance must be within 0..1");
            let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let mapping =
                Mapping { code_prop, name_prop, level, level_prop, parent_prop, parent_code, crs, radius_prop };
            let options = Options { repair, containment_tolerance, overlap_tolerance, dry_run };
            let db = open_db(&storage, file)?;
            let mut conn = db.get().map_err(api_err)?;
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let mut on_progress = |stage: &str, done: usize, total: usize| {
                if bar.message() != stage {
                    bar.set_message(stage.to_owned());
                    bar.set_length(total as u64);
                }
                bar.set_position(done as u64);
            };
            let report = store::import(&mut conn, &bytes, &mapping, &options, &mut on_progress).map_err(api_err)?;
            bar.finish_and_clear();
            if json {
                out(&serde_json::to_string_pretty(&report)?);
            } else {
                print_summary(&report);
            }
            anyhow::ensure!(
                report.errors.is_empty(),
                "import refused: {} error(s); nothing was written",
                report.errors.len()
            );
            Ok(())
        }
        AreasCommand::Lookup { lat, lng, crs, storage } => {
            let db = open_db(&storage, file)?;
            let mut conn = db.get().map_err(api_err)?;
            let index = store::build_index(&mut conn)?;
            let (x, y) = crs.to_wgs84(lng, lat);
            let chain = index.lookup(x, y);
            if chain.is_empty() {
                out("outside every area");
            }
            for a in chain {
                out(&format!("{:<10} {:<20} {}", a.level.as_str(), a.code, a.name));
            }
            Ok(())
        }
    }
}

fn print_summary(r: &Report) {
    let fmt_loc = |l: &Option<[f64; 2]>| l.map(|[x, y]| format!(" at {x:.6},{y:.6}")).unwrap_or_default();
    for e in &r.errors {
        let at = e.index.map(|i| format!("feature {i}")).unwrap_or_else(|| "file".into());
        out(&format!(
            "ERROR   {at} {}: {} — {}{}",
            e.code.as_deref().unwrap_or("-"),
            e.problem,
            e.message,
            fmt_loc(&e.location)
        ));
    }
    for w in &r.warnings {
        out(&format!(
            "warning {}: {} — {}{}",
            w.code.as_deref().unwrap_or("-"),
            w.problem,
            w.message,
            fmt_loc(&w.location)
        ));
    }
    for rep in &r.repairs {
        out(&format!("repaired feature {} {}: {}", rep.index, rep.code, rep.message));
    }
    for c in &r.coverage {
        let gaps: Vec<String> = c
            .gaps
            .iter()
            .map(|g| format!("{:.0} m² at {:.6},{:.6}", g.area_m2, g.location[0], g.location[1]))
            .collect();
        out(&format!(
            "coverage {}: {} children cover {:.2}%{}",
            c.parent_code,
            c.children,
            c.covered * 100.0,
            if gaps.is_empty() { String::new() } else { format!("; gaps: {}", gaps.join(", ")) }
        ));
    }
    let verdict = if !r.errors.is_empty() {
        "refused, nothing written"
    } else if r.dry_run {
        "valid (dry run, nothing written)"
    } else {
        "imported"
    };
    out(&format!(
        "{} features → {} areas: {verdict}; created {}, updated {}, unchanged {}; {} error(s), {} warning(s), {} repair(s)",
        r.features,
        r.areas,
        r.created,
        r.updated,
        r.unchanged,
        r.errors.len(),
        r.warnings.len(),
        r.repairs.len()
    ));
}
