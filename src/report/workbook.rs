//! `workbook.xlsx`: every result table as one sheet, the format auditors hand on.
//!
//! Cells keep the meaning they have in the CSV files: a cell that is a plain decimal
//! (`-12.5`, `0.004610416667`, `13554625`) is written as a number, except in identifier columns
//! (`unit_id`, `parent_id`, `id`, `*_id`), where codes such as `620102` stay text; every other
//! cell is text, neutralised exactly as in the CSV ([`crate::output::neutralise`]) so that a
//! spreadsheet never evaluates a unit named `=HYPERLINK("x")`. Numbers are written from the
//! CSV text with Rust's correctly rounded `str::parse::<f64>`, and Excel stores doubles, so the
//! sheet and the CSV hold the same numbers to the last bit of an `f64`.
//!
//! The file is byte-for-byte deterministic: the document's creation date is fixed at
//! [`CREATION_DATE`] (rust_xlsxwriter would write the current time), and the zip entries carry
//! rust_xlsxwriter's fixed timestamp.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use super::ReportError;
use crate::output::{neutralise, OutTable};

/// Creation date written into `docProps/core.xml`: fixed, so two runs give identical bytes.
pub const CREATION_DATE: (u16, u8, u8) = (2000, 1, 1);

/// Longest sheet name Excel accepts, in characters.
pub const MAX_SHEET_NAME: usize = 31;

/// Widest column set, in Excel character units.
const MAX_WIDTH: f64 = 60.0;

fn xe(e: rust_xlsxwriter::XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

/// Whether a column holds identifiers (kept as text even when they look like numbers).
pub fn is_id_column(header: &str) -> bool {
    let h = header.trim();
    h == "id" || h == "unit_id" || h == "parent_id" || h.ends_with("_id")
}

/// A plain decimal as the CSV files write them: `-?digits[.digits]`, no leading zeros
/// (`0`, `0.5` and `-0.25` are numbers; `007`, `1e5`, `1,234` and `.5` are not).
pub fn is_decimal_cell(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int) && (int == "0" || !int.starts_with('0')) && frac.is_none_or(digits)
}

/// A sheet name from a table name: `.csv` dropped, `[]:*?/\` replaced by `_`, cut to
/// [`MAX_SHEET_NAME`] characters, made unique (case-insensitively, as Excel compares them)
/// among `taken` with a `~2`, `~3`… suffix. Chinese names are kept.
pub fn sheet_name(table_name: &str, taken: &[String]) -> String {
    let base = table_name.strip_suffix(".csv").unwrap_or(table_name);
    let clean: String = base
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim_matches('\'');
    let clean = if clean.is_empty() { "sheet" } else { clean };
    let cut = |s: &str, n: usize| -> String { s.chars().take(n).collect() };
    let is_taken = |name: &str| taken.iter().any(|t| t.to_lowercase() == name.to_lowercase());
    let mut name = cut(clean, MAX_SHEET_NAME);
    let mut k = 2;
    while is_taken(&name) {
        let suffix = format!("~{k}");
        name = format!("{}{suffix}", cut(clean, MAX_SHEET_NAME - suffix.chars().count()));
        k += 1;
    }
    name
}

/// Display width of a cell in Excel character units (CJK and other wide characters count 2).
fn width(s: &str) -> f64 {
    s.chars().map(|c| if (c as u32) >= 0x1100 { 2.0 } else { 1.0 }).sum()
}

/// Builds the workbook: one sheet per table, in order, header row bold and frozen.
///
/// `title` goes into the document properties (with author `fundsim` and the fixed
/// [`CREATION_DATE`]).
pub fn workbook(tables: &[OutTable], title: &str) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let (y, m, d) = CREATION_DATE;
    let date = ExcelDateTime::from_ymd(y, m, d).map_err(xe)?;
    let props = DocProperties::new()
        .set_title(title)
        .set_author("fundsim")
        .set_creation_datetime(&date);
    wb.set_properties(&props);
    let bold = Format::new().set_bold();
    let mut taken: Vec<String> = Vec::new();
    for t in tables {
        let name = sheet_name(&t.name, &taken);
        taken.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name).map_err(xe)?;
        let mut widths: Vec<f64> = t.headers.iter().map(|h| width(h)).collect();
        for (c, h) in t.headers.iter().enumerate() {
            let col = u16::try_from(c).map_err(|_| ReportError::Xlsx(format!("{}: too many columns", t.name)))?;
            ws.write_string_with_format(0, col, neutralise(h), &bold).map_err(xe)?;
        }
        let ids: Vec<bool> = t.headers.iter().map(|h| is_id_column(h)).collect();
        for (r, row) in t.rows.iter().enumerate() {
            let rr = u32::try_from(r + 1).map_err(|_| ReportError::Xlsx(format!("{}: too many rows", t.name)))?;
            for (c, cell) in row.iter().enumerate() {
                let col = u16::try_from(c).map_err(|_| ReportError::Xlsx(format!("{}: too many columns", t.name)))?;
                let id = ids.get(c).copied().unwrap_or(false);
                let number = if id || !is_decimal_cell(cell) {
                    None
                } else {
                    cell.parse::<f64>().ok().filter(|v| v.is_finite())
                };
                match number {
                    Some(v) => {
                        ws.write_number(rr, col, v).map_err(xe)?;
                    }
                    None if cell.is_empty() => {}
                    None => {
                        ws.write_string(rr, col, neutralise(cell)).map_err(xe)?;
                    }
                }
                if let Some(w) = widths.get_mut(c) {
                    *w = w.max(width(cell));
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            if let Ok(col) = u16::try_from(c) {
                ws.set_column_width(col, (w + 2.0).min(MAX_WIDTH)).map_err(xe)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xe)?;
    }
    if tables.is_empty() {
        wb.add_worksheet();
    }
    wb.save_to_buffer().map_err(xe)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    fn table() -> OutTable {
        OutTable {
            name: "allocation.csv".into(),
            headers: vec!["unit_id".into(), "name".into(), "amount".into(), "share".into()],
            rows: vec![
                vec!["620102".into(), "城关区".into(), "13554625".into(), "0.004610416667".into()],
                vec!["007".into(), "=HYPERLINK(\"x\")".into(), "-12.5".into(), "".into()],
                vec!["620103".into(), "<script>alert(1)</script>".into(), "007".into(), "1e5".into()],
            ],
        }
    }

    #[test]
    fn decimal_cells() {
        for s in ["0", "0.5", "-0.25", "13554625", "-12.5", "1.000"] {
            assert!(is_decimal_cell(s), "{s}");
        }
        for s in ["", "-", "007", "1e5", "1,234", ".5", "5.", "+3", "abc", "0x10", "--1"] {
            assert!(!is_decimal_cell(s), "{s}");
        }
    }

    #[test]
    fn sheet_names_are_short_unique_and_clean() {
        let taken = vec!["allocation".to_string()];
        assert_eq!(sheet_name("allocation.csv", &[]), "allocation");
        assert_eq!(sheet_name("Allocation.csv", &taken), "Allocation~2");
        assert_eq!(sheet_name("a[b]:c*d?e/f\\g.csv", &[]), "a_b__c_d_e_f_g");
        let long = "x".repeat(40);
        assert_eq!(sheet_name(&long, &[]).chars().count(), 31);
        let t = vec![sheet_name(&long, &[])];
        let second = sheet_name(&long, &t);
        assert_eq!(second.chars().count(), 31);
        assert!(second.ends_with("~2"));
        assert_eq!(sheet_name("分配结果.csv", &[]), "分配结果");
        assert_eq!(sheet_name(&"分".repeat(40), &[]).chars().count(), 31);
    }

    #[test]
    fn numbers_are_numbers_text_is_neutralised() {
        let bytes = workbook(&[table()], "测试").unwrap();
        let mut x: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        assert_eq!(x.sheet_names(), vec!["allocation".to_string()]);
        let r = x.worksheet_range("allocation").unwrap();
        assert_eq!(r.get_value((0, 0)), Some(&Data::String("unit_id".into())));
        assert_eq!(r.get_value((1, 0)), Some(&Data::String("620102".into())));
        assert_eq!(r.get_value((1, 2)), Some(&Data::Float(13554625.0)));
        assert_eq!(r.get_value((1, 3)), Some(&Data::Float(0.004610416667)));
        assert_eq!(r.get_value((2, 0)), Some(&Data::String("007".into())));
        assert_eq!(r.get_value((2, 1)), Some(&Data::String("'=HYPERLINK(\"x\")".into())));
        assert_eq!(r.get_value((2, 2)), Some(&Data::Float(-12.5)));
        assert!(matches!(r.get_value((2, 3)), None | Some(Data::Empty)));
        assert_eq!(r.get_value((3, 1)), Some(&Data::String("<script>alert(1)</script>".into())));
        assert_eq!(r.get_value((3, 2)), Some(&Data::String("007".into())));
        assert_eq!(r.get_value((3, 3)), Some(&Data::String("1e5".into())));
    }

    #[test]
    fn workbook_is_deterministic() {
        let a = workbook(&[table(), table()], "t").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = workbook(&[table(), table()], "t").unwrap();
        assert_eq!(a, b);
    }
}
