//! Reconciliation of a reported file table (the audit guide's target-completion table,
//! 困难职工解困脱困政策目标完成情况审定表): per unit and year
//! `unit_id,year,filed_start,new,exits,removals,filed_end`.
//!
//! Two checks, and nothing else is reported:
//! - identity: `filed_start + new − exits − removals = filed_end` on every row;
//! - continuity: a unit's `filed_start` in year `y + 1` equals its `filed_end` in year `y`
//!   (only between consecutive years both present; rows are taken in year order whatever their
//!   order in the file).
//!
//! Bad cells (negative or fractional counts, unknown units, a unit listed twice for a year) are
//! input errors, all reported with file, line and field.

use crate::error::{Diagnostic, InputErrors};
use crate::model::Hierarchy;
use crate::table::Table;
use rust_decimal::prelude::*;
use std::collections::BTreeMap;

/// Which check a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// `filed_start + new − exits − removals ≠ filed_end` on one row.
    Identity,
    /// `filed_start` of a year ≠ `filed_end` of the year before.
    Continuity,
}

impl FindingKind {
    /// The `check` column of `files_check.csv`.
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Identity => "identity",
            FindingKind::Continuity => "continuity",
        }
    }
}

/// One inconsistency of the file table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFinding {
    /// Unit id.
    pub unit_id: String,
    /// Year of the row at fault (for continuity: the later year).
    pub year: i64,
    /// Line of that row.
    pub line: u64,
    /// Which check.
    pub kind: FindingKind,
    /// What the other figures imply: `filed_start + new − exits − removals` (identity) or the
    /// previous year's `filed_end` (continuity).
    pub expected: i128,
    /// What the table says: `filed_end` (identity) or `filed_start` (continuity).
    pub found: i128,
    /// Line of the previous year's row (continuity).
    pub previous_line: Option<u64>,
}

impl FileFinding {
    /// `found − expected`.
    pub fn difference(&self) -> i128 {
        self.found - self.expected
    }
}

/// One row of the file table, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// Unit id.
    pub unit_id: String,
    /// Year.
    pub year: i64,
    /// Line in the file.
    pub line: u64,
    /// Files at the start of the year.
    pub filed_start: u64,
    /// New files.
    pub new: u64,
    /// Exits (脱困).
    pub exits: u64,
    /// Removals (death, corrections, moved to the government safety net).
    pub removals: u64,
    /// Files at the end of the year.
    pub filed_end: u64,
}

const COLS: [&str; 7] = ["unit_id", "year", "filed_start", "new", "exits", "removals", "filed_end"];

/// Reads and checks the file table; every bad cell is reported.
pub fn read_files(t: &Table, h: &Hierarchy) -> Result<Vec<FileRow>, InputErrors> {
    let mut errs = InputErrors::default();
    let mut cols = Vec::new();
    for c in COLS {
        match t.require(c) {
            Ok(i) => cols.push(i),
            Err(d) => errs.0.push(d),
        }
    }
    let [c_id, c_year, c_start, c_new, c_exits, c_rem, c_end] = cols.as_slice() else {
        return Err(errs);
    };
    let mut warnings: Vec<Diagnostic> = Vec::new();
    let mut rows = Vec::new();
    let mut seen: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for row in &t.rows {
        let id = t.cell(row, *c_id).to_string();
        let known = h.find(&id).is_some();
        if !known {
            errs.push(
                t.loc(row, *c_id),
                if id.is_empty() {
                    "unit_id is empty".to_string()
                } else {
                    format!("unit `{id}` is not in the units file")
                },
            );
        }
        let mut whole = |c: usize, what: &str, errs: &mut InputErrors| -> Option<i128> {
            match t.number(row, c, &mut warnings) {
                Ok(Some(d)) if d.fract().is_zero() => d.to_i128().or_else(|| {
                    errs.push(t.loc(row, c), format!("{d} is too large"));
                    None
                }),
                Ok(Some(d)) => {
                    errs.push(t.loc(row, c), format!("{d} is not a whole number ({what})"));
                    None
                }
                Ok(None) => {
                    errs.push(t.loc(row, c), format!("empty: {what} is needed"));
                    None
                }
                Err(d) => {
                    errs.0.push(d);
                    None
                }
            }
        };
        let year = whole(*c_year, "a year", &mut errs);
        let mut counts = Vec::with_capacity(5);
        for c in [*c_start, *c_new, *c_exits, *c_rem, *c_end] {
            let v = whole(c, "a count", &mut errs).and_then(|v| {
                if v < 0 {
                    errs.push(t.loc(row, c), format!("negative headcount {v}: must be 0 or more"));
                    None
                } else {
                    u64::try_from(v).ok()
                }
            });
            counts.push(v);
        }
        let year = year.and_then(|y| {
            if (1..=9999).contains(&y) {
                i64::try_from(y).ok()
            } else {
                errs.push(t.loc(row, *c_year), format!("{y} is not a year"));
                None
            }
        });
        if let (Some(y), true) = (year, known) {
            if let Some(prev) = seen.insert((id.clone(), y), row.line) {
                errs.push(
                    t.loc(row, *c_year),
                    format!("unit `{id}` has year {y} twice (first on line {prev})"),
                );
                continue;
            }
        }
        if let (Some(year), true, [Some(filed_start), Some(new), Some(exits), Some(removals), Some(filed_end)]) =
            (year, known, counts.as_slice())
        {
            rows.push(FileRow {
                unit_id: id,
                year,
                line: row.line,
                filed_start: *filed_start,
                new: *new,
                exits: *exits,
                removals: *removals,
                filed_end: *filed_end,
            });
        }
    }
    errs.into_result(rows)
}

/// The reconciliation of checked rows: identity failures and continuity breaks, ordered by
/// unit id, year and check (identity first).
pub fn check_files(rows: &[FileRow]) -> Vec<FileFinding> {
    let mut by_unit: BTreeMap<&str, Vec<&FileRow>> = BTreeMap::new();
    for r in rows {
        by_unit.entry(r.unit_id.as_str()).or_default().push(r);
    }
    let mut out = Vec::new();
    for (id, mut rs) in by_unit {
        rs.sort_by_key(|r| r.year);
        let mut prev: Option<&FileRow> = None;
        for r in rs {
            if let Some(p) = prev.filter(|p| p.year + 1 == r.year) {
                if p.filed_end != r.filed_start {
                    out.push(FileFinding {
                        unit_id: id.to_string(),
                        year: r.year,
                        line: r.line,
                        kind: FindingKind::Continuity,
                        expected: i128::from(p.filed_end),
                        found: i128::from(r.filed_start),
                        previous_line: Some(p.line),
                    });
                }
            }
            let expected = i128::from(r.filed_start) + i128::from(r.new) - i128::from(r.exits) - i128::from(r.removals);
            if expected != i128::from(r.filed_end) {
                out.push(FileFinding {
                    unit_id: id.to_string(),
                    year: r.year,
                    line: r.line,
                    kind: FindingKind::Identity,
                    expected,
                    found: i128::from(r.filed_end),
                    previous_line: None,
                });
            }
            prev = Some(r);
        }
    }
    out.sort_by(|a, b| {
        a.unit_id
            .as_bytes()
            .cmp(b.unit_id.as_bytes())
            .then(a.year.cmp(&b.year))
            .then((a.kind == FindingKind::Continuity).cmp(&(b.kind == FindingKind::Continuity)))
    });
    out
}

/// Reads the file table and reconciles it: [`read_files`] then [`check_files`]. For the
/// projection (`files_check.csv`) and the audit.
pub fn reconcile_files(t: &Table, h: &Hierarchy) -> Result<Vec<FileFinding>, InputErrors> {
    Ok(check_files(&read_files(t, h)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn h() -> Hierarchy {
        let t = Table::from_csv_bytes(
            "units.csv",
            b"id,name,parent_id,level\n9,P,,province\n91,A,9,county\n92,B,9,county\n",
        )
        .unwrap();
        Hierarchy::from_table(&t).unwrap()
    }

    fn run(csv: &str) -> Result<Vec<FileFinding>, InputErrors> {
        let t = Table::from_csv_bytes("files.csv", csv.as_bytes()).unwrap();
        reconcile_files(&t, &h())
    }

    const HEAD: &str = "unit_id,year,filed_start,new,exits,removals,filed_end\n";

    #[test]
    fn consistent_table_has_no_findings() {
        let csv = format!("{HEAD}91,2017,100,10,30,5,75\n91,2018,75,5,20,0,60\n92,2017,50,0,0,0,50\n");
        assert!(run(&csv).unwrap().is_empty());
    }

    #[test]
    fn finds_identity_and_continuity_breaks_and_nothing_else() {
        // line 3: identity off by 10; line 5 (92 2018) starts at 45, 2017 ended at 50;
        // rows out of year order are read in year order; a gap year is not a break
        let csv =
            format!("{HEAD}91,2018,75,5,20,0,60\n91,2017,100,10,30,5,85\n92,2017,50,0,0,0,50\n92,2018,45,0,5,0,40\n92,2020,1,0,0,0,1\n");
        let f = run(&csv).unwrap();
        assert_eq!(f.len(), 3, "{f:?}");
        assert_eq!(
            (f[0].unit_id.as_str(), f[0].year, f[0].line, f[0].kind),
            ("91", 2017, 3, FindingKind::Identity)
        );
        assert_eq!((f[0].expected, f[0].found, f[0].difference()), (75, 85, 10));
        // 2018 starts at 75 but 2017 ended at 85 (as reported): a continuity break too
        assert_eq!(
            (f[1].year, f[1].kind, f[1].line, f[1].previous_line),
            (2018, FindingKind::Continuity, 2, Some(3))
        );
        assert_eq!(
            (f[2].unit_id.as_str(), f[2].year, f[2].kind, f[2].expected, f[2].found),
            ("92", 2018, FindingKind::Continuity, 50, 45)
        );
    }

    #[test]
    fn bad_cells_are_all_reported() {
        let csv = format!("{HEAD}91,2017,-5,0,0,0,0\n99,2017,1,0,0,0,1\n92,2017,1.5,0,0,0,1\n92,2017,1,0,0,0,1\n92,2017,1,0,0,0,1\n");
        let e = run(&csv).unwrap_err();
        let msgs: Vec<String> = e.0.iter().map(|d| d.to_string()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.contains("files.csv:2: field `filed_start`") && m.contains("negative")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("files.csv:3: field `unit_id`") && m.contains("99")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("files.csv:4: field `filed_start`") && m.contains("whole")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("files.csv:6: field `year`") && m.contains("twice")),
            "{msgs:?}"
        );
    }
}
