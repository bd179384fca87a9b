//! Result tables as bytes: CSV (optionally with a UTF-8 BOM for Excel on Chinese Windows) and
//! JSON. Cells that a spreadsheet would evaluate as a formula are neutralised.

use crate::alloc::{Allocation, RowKind};
use crate::scenario::Scenario;
use rust_decimal::Decimal;

/// A result table: a header and rows of cells as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutTable {
    /// File name, e.g. `allocation.csv`.
    pub name: String,
    /// Column names.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

/// Formats an amount or ratio as a plain decimal: no separators, no trailing zeros.
pub fn dec(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Formats a share: rounded to 12 decimal places, no trailing zeros.
pub fn share(d: Decimal) -> String {
    d.round_dp(12).normalize().to_string()
}

/// Formats a float statistic with up to 10 significant decimals (no `-0`, no exponent).
pub fn f(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{:.10}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// A text cell that a spreadsheet would take as a formula (`=`, `+`, `-`, `@`, tab, CR, or a
/// full-width `＝＋－＠` at the start) and that is not a number gets a leading apostrophe, so
/// it stays text. The same rule for CSV and XLSX: [`crate::report::neutralise_cell`].
pub fn neutralise(cell: &str) -> String {
    crate::report::neutralise_cell(cell).into_owned()
}

impl OutTable {
    /// A new empty table.
    pub fn new(name: &str, headers: &[&str]) -> Self {
        OutTable {
            name: name.into(),
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// CSV bytes; with `bom`, a UTF-8 byte-order mark first (Excel on Chinese Windows).
    pub fn to_csv(&self, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(&[0xef, 0xbb, 0xbf]);
        }
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(out);
        let _ = w.write_record(self.headers.iter().map(|h| neutralise(h)));
        for r in &self.rows {
            let _ = w.write_record(r.iter().map(|c| neutralise(c)));
        }
        w.into_inner().unwrap_or_default()
    }

    /// JSON: an array of objects keyed by column name (numbers stay strings, exact).
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let m: serde_json::Map<String, serde_json::Value> = self
                    .headers
                    .iter()
                    .cloned()
                    .zip(r.iter().map(|c| serde_json::Value::String(c.clone())))
                    .collect();
                serde_json::Value::Object(m)
            })
            .collect();
        serde_json::Value::Array(rows)
    }
}

/// `allocation.csv` (SPEC §3): `unit_id,name,parent_id,level,stage,pool,amount,share`, one
/// `contrib_<column>` per factor, then `adjust,floored,capped`.
pub fn allocation_table(s: &Scenario, a: &Allocation) -> OutTable {
    let mut headers: Vec<String> = ["unit_id", "name", "parent_id", "level", "stage", "pool", "amount", "share"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    headers.extend(a.factor_columns.iter().map(|c| format!("contrib_{c}")));
    headers.extend(["adjust", "floored", "capped"].iter().map(|x| x.to_string()));
    let h = &s.hierarchy;
    let rows = a
        .rows
        .iter()
        .map(|r| {
            let u = h.unit(r.unit);
            let parent = u
                .and_then(|u| u.parent)
                .and_then(|p| h.unit(p))
                .map(|p| p.id.clone())
                .unwrap_or_default();
            let mut row = vec![
                u.map(|u| u.id.clone()).unwrap_or_default(),
                u.map(|u| u.name.clone()).unwrap_or_default(),
                parent,
                u.map(|u| u.level.clone()).unwrap_or_default(),
                r.stage.to_string(),
                a.label(r).to_string(),
                dec(r.amount),
                share(r.share()),
            ];
            row.extend(a.contrib(r).into_iter().map(dec));
            row.push(r.adjust.map(dec).unwrap_or_default());
            let flag = |b: bool| if b { "1" } else { "0" }.to_string();
            let is_alloc = matches!(r.kind, RowKind::Pool(_) | RowKind::Total);
            row.push(if is_alloc { flag(r.floored) } else { String::new() });
            row.push(if is_alloc { flag(r.capped) } else { String::new() });
            row
        })
        .collect();
    OutTable {
        name: "allocation.csv".into(),
        headers,
        rows,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_numbers_are_not() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-12.5"), "-12.5");
        assert_eq!(neutralise("+3"), "+3");
        assert_eq!(neutralise("-cmd"), "'-cmd");
        assert_eq!(neutralise("城关区"), "城关区");
    }

    #[test]
    fn csv_has_optional_bom() {
        let t = OutTable {
            name: "x.csv".into(),
            headers: vec!["a".into()],
            rows: vec![vec!["1".into()]],
        };
        assert_eq!(t.to_csv(false), b"a\n1\n");
        assert!(t.to_csv(true).starts_with(&[0xef, 0xbb, 0xbf]));
    }

    #[test]
    fn floats_print_plainly() {
        assert_eq!(f(0.5), "0.5");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(1.0 / 3.0), "0.3333333333");
    }
}
