//! The projection's result tables: `projection.csv`, `projection_mc.csv`, `files_check.csv`.

use super::engine::{ProjectionResult, YearRow};
use super::files::FileFinding;
use super::mc::{McCell, McResult};
use super::{Projection, RowRef};
use crate::model::Hierarchy;
use crate::output::{dec, f, share, OutTable};

/// Columns of `projection.csv`: the SPEC §4 columns, then `name,level,kind` (`unit` or
/// `total`), the unit's `threshold`, its `comprehensive_incidence` (with survey samples), the
/// `gate` applied (`incidence` or `incidence+survey`) and its `first_eligible_year`.
pub const PROJECTION_COLUMNS: [&str; 20] = [
    "unit_id",
    "year",
    "start",
    "entries",
    "returns",
    "target",
    "exits",
    "end",
    "incidence",
    "funds",
    "capacity",
    "eligible_to_exit",
    "shortfall",
    "name",
    "level",
    "kind",
    "threshold",
    "comprehensive_incidence",
    "gate",
    "first_eligible_year",
];

fn unit_cells(h: &Hierarchy, unit: usize) -> (String, String, String) {
    h.unit(unit)
        .map(|u| (u.id.clone(), u.name.clone(), u.level.clone()))
        .unwrap_or_default()
}

fn row_cells(id: &str, year: i64, r: &YearRow) -> Vec<String> {
    vec![
        id.to_string(),
        year.to_string(),
        r.start.to_string(),
        r.entries.to_string(),
        r.returns.to_string(),
        r.target.to_string(),
        r.exits.to_string(),
        r.end.to_string(),
        share(r.incidence),
        dec(r.funds),
        r.capacity.map(|c| c.to_string()).unwrap_or_default(),
        r.eligible.map(|e| if e { "1" } else { "0" }.to_string()).unwrap_or_default(),
        r.shortfall.to_string(),
    ]
}

/// `projection.csv`, rows in hierarchy pre-order (a total row before the units it sums), each
/// unit's years in order.
pub fn projection_table(p: &Projection, r: &ProjectionResult, h: &Hierarchy) -> OutTable {
    let mut t = OutTable::new("projection.csv", &PROJECTION_COLUMNS);
    for rr in &p.order {
        match *rr {
            RowRef::Unit(i) => {
                let (Some(u), Some(rows)) = (p.units.get(i), r.units.get(i)) else {
                    continue;
                };
                let (id, name, level) = unit_cells(h, u.unit);
                let first = r.first_eligible.get(i).copied().flatten();
                let gate = if u.survey.is_some() { "incidence+survey" } else { "incidence" };
                for (row, y) in rows.iter().zip(&p.years) {
                    let mut c = row_cells(&id, *y, row);
                    c.extend([
                        name.clone(),
                        level.clone(),
                        "unit".into(),
                        dec(u.threshold.value),
                        row.comprehensive.map(share).unwrap_or_default(),
                        gate.into(),
                        first.map(|y| y.to_string()).unwrap_or_default(),
                    ]);
                    t.rows.push(c);
                }
            }
            RowRef::Total(j) => {
                let (Some(ag), Some(rows)) = (p.aggregates.get(j), r.totals.get(j)) else {
                    continue;
                };
                let (id, name, level) = unit_cells(h, ag.unit);
                for (row, y) in rows.iter().zip(&p.years) {
                    let mut c = row_cells(&id, *y, row);
                    c.extend([
                        name.clone(),
                        level.clone(),
                        "total".into(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]);
                    t.rows.push(c);
                }
            }
        }
    }
    t
}

/// Columns of `projection_mc.csv` (see [`super::mc`] for their definitions).
pub const MC_COLUMNS: [&str; 13] = [
    "unit_id",
    "year",
    "runs",
    "seed",
    "end_p5",
    "end_p50",
    "end_p95",
    "end_mean",
    "p_target_met",
    "p_eligible",
    "p_cleared",
    "kind",
    "final_year",
];

/// `projection_mc.csv`, rows in the order of `projection.csv`.
pub fn mc_table(p: &Projection, m: &McResult, h: &Hierarchy) -> OutTable {
    let mut t = OutTable::new("projection_mc.csv", &MC_COLUMNS);
    let last = p.n_years().saturating_sub(1);
    let mut push = |id: &str, kind: &str, k: usize, c: &McCell| {
        let y = p.years.get(k).copied().unwrap_or_default();
        t.rows.push(vec![
            id.to_string(),
            y.to_string(),
            m.runs.to_string(),
            m.seed.to_string(),
            c.end_p5.to_string(),
            c.end_p50.to_string(),
            c.end_p95.to_string(),
            f(c.end_mean),
            f(c.p_target_met),
            c.p_eligible.map(f).unwrap_or_default(),
            f(c.p_cleared),
            kind.to_string(),
            if k == last { "1" } else { "0" }.to_string(),
        ]);
    };
    for rr in &p.order {
        match *rr {
            RowRef::Unit(i) => {
                let Some(u) = p.units.get(i) else { continue };
                let (id, _, _) = unit_cells(h, u.unit);
                for k in 0..p.n_years() {
                    if let Some(c) = m.unit(i, k) {
                        push(&id, "unit", k, c);
                    }
                }
            }
            RowRef::Total(j) => {
                let Some(ag) = p.aggregates.get(j) else { continue };
                let (id, _, _) = unit_cells(h, ag.unit);
                for k in 0..p.n_years() {
                    if let Some(c) = m.total(j, k) {
                        push(&id, "total", k, c);
                    }
                }
            }
        }
    }
    t
}

/// `files_check.csv`: `unit_id,year,line,check,expected,found,difference,previous_line`, one row
/// per inconsistency (none when the table reconciles).
pub fn files_check_table(findings: &[FileFinding]) -> OutTable {
    let mut t = OutTable::new(
        "files_check.csv",
        &[
            "unit_id",
            "year",
            "line",
            "check",
            "expected",
            "found",
            "difference",
            "previous_line",
        ],
    );
    for x in findings {
        t.rows.push(vec![
            x.unit_id.clone(),
            x.year.to_string(),
            x.line.to_string(),
            x.kind.label().to_string(),
            x.expected.to_string(),
            x.found.to_string(),
            x.difference().to_string(),
            x.previous_line.map(|l| l.to_string()).unwrap_or_default(),
        ]);
    }
    t
}
