//! `county_exits.csv`: planned and actual county exits (摘帽县数) per year, `year,planned,actual`
//! (more columns are kept and ignored), drawn by the report beside the projection.
//!
//! Checks, every problem reported with file, line and field: `year` a whole number in
//! 1..=9999 and not listed twice; `planned` and `actual` whole numbers ≥ 0 (empty is an
//! error: a missing count is not zero). Rows out of year order are read in year order, with a
//! warning naming the first row out of place.

use crate::error::{Diagnostic, InputErrors, Location};
use crate::table::Table;
use rust_decimal::prelude::*;
use std::collections::BTreeMap;

/// One year of `county_exits.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyExitsRow {
    /// The year.
    pub year: i64,
    /// Line in the file.
    pub line: u64,
    /// Counties planned to exit that year.
    pub planned: u64,
    /// Counties that did exit.
    pub actual: u64,
}

/// Reads and checks `county_exits.csv`: the rows in year order, and warnings (rows that were
/// out of order).
pub fn read_county_exits(t: &Table) -> Result<(Vec<CountyExitsRow>, Vec<Diagnostic>), InputErrors> {
    let mut errs = InputErrors::default();
    let mut cols = Vec::new();
    for c in ["year", "planned", "actual"] {
        match t.require(c) {
            Ok(i) => cols.push(i),
            Err(d) => errs.0.push(d),
        }
    }
    let [c_year, c_planned, c_actual] = cols.as_slice() else {
        return Err(errs);
    };
    let mut ignored = Vec::new();
    let mut rows: Vec<CountyExitsRow> = Vec::new();
    let mut seen: BTreeMap<i64, u64> = BTreeMap::new();
    for row in &t.rows {
        let year = match t.number(row, *c_year, &mut ignored) {
            Ok(Some(y)) if y.fract().is_zero() && y >= Decimal::ONE && y <= Decimal::from(9999) => y.to_i64(),
            Ok(Some(y)) => {
                errs.push(t.loc(row, *c_year), format!("{y} is not a year (a whole number such as 2019)"));
                None
            }
            Ok(None) => {
                errs.push(t.loc(row, *c_year), "the year is empty");
                None
            }
            Err(_) => {
                errs.push(
                    t.loc(row, *c_year),
                    format!("`{}` is not a year (a whole number such as 2019)", t.cell(row, *c_year)),
                );
                None
            }
        };
        let mut count = |c: usize| -> Option<u64> {
            match t.number(row, c, &mut ignored) {
                Ok(Some(v)) if v.is_sign_negative() && !v.is_zero() => {
                    errs.push(t.loc(row, c), format!("negative count {v}: a number of counties is 0 or more"));
                    None
                }
                Ok(Some(v)) if !v.fract().is_zero() => {
                    errs.push(t.loc(row, c), format!("{v} is not a whole number of counties"));
                    None
                }
                Ok(Some(v)) => v.to_u64().or_else(|| {
                    errs.push(t.loc(row, c), format!("{v} is too large"));
                    None
                }),
                Ok(None) => {
                    errs.push(t.loc(row, c), "the count is empty (write 0 for none)");
                    None
                }
                Err(d) => {
                    errs.0.push(d);
                    None
                }
            }
        };
        let planned = count(*c_planned);
        let actual = count(*c_actual);
        if let Some(y) = year {
            if let Some(prev) = seen.insert(y, row.line) {
                errs.push(t.loc(row, *c_year), format!("year {y} is listed twice (first on line {prev})"));
                continue;
            }
        }
        if let (Some(year), Some(planned), Some(actual)) = (year, planned, actual) {
            rows.push(CountyExitsRow {
                year,
                line: row.line,
                planned,
                actual,
            });
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut warnings = Vec::new();
    if let Some(w) = rows.windows(2).find(|w| matches!(w, [a, b] if b.year < a.year)) {
        if let [a, b] = w {
            warnings.push(Diagnostic::new(
                Location::at(&t.file, Some(b.line), "year"),
                format!(
                    "rows are not in year order ({} comes after {} on line {}): read in year order",
                    b.year, a.year, a.line
                ),
            ));
        }
        rows.sort_by_key(|r| r.year);
    }
    Ok((rows, warnings))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(Vec<CountyExitsRow>, Vec<Diagnostic>), InputErrors> {
        read_county_exits(&Table::from_csv_bytes("county_exits.csv", text.as_bytes()).unwrap())
    }

    #[test]
    fn rows_come_back_in_year_order_with_a_warning_when_they_were_not() {
        let (rows, w) = read("year,planned,actual\n2019,2,1\n2020,3,3\n").unwrap();
        assert_eq!(
            rows.iter().map(|r| (r.year, r.planned, r.actual)).collect::<Vec<_>>(),
            [(2019, 2, 1), (2020, 3, 3)]
        );
        assert!(w.is_empty());
        let (rows, w) = read("year,planned,actual\n2020,3,3\n2019,2,1\n").unwrap();
        assert_eq!(rows.iter().map(|r| r.year).collect::<Vec<_>>(), [2019, 2020]);
        assert_eq!(
            w[0].to_string(),
            "county_exits.csv:3: field `year`: rows are not in year order (2019 comes after 2020 on line 2): read in year order"
        );
    }

    #[test]
    fn bad_cells_are_located() {
        let e = read("year,planned,actual\n二〇一九,2,1\n2020,-1,0.5\n2020,1,\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("county_exits.csv:2: field `year`: `二〇一九` is not a year"), "{e}");
        assert!(e.contains("county_exits.csv:3: field `planned`: negative count"), "{e}");
        assert!(e.contains("county_exits.csv:3: field `actual`: 0.5 is not a whole number"), "{e}");
        assert!(
            e.contains("county_exits.csv:4: field `year`: year 2020 is listed twice (first on line 3)"),
            "{e}"
        );
        assert!(e.contains("county_exits.csv:4: field `actual`: the count is empty"), "{e}");
        let e = read("year,plan,actual\n2019,1,1\n").unwrap_err().to_string();
        assert!(e.contains("county_exits.csv:1: field `planned`: required column"), "{e}");
    }
}
