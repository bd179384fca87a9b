//! Tables as planners keep them: CSV (UTF-8 with or without BOM, or GB18030/GBK as Excel and
//! WPS write them on Chinese Windows) or the first sheet of an `.xlsx` workbook.
//!
//! A [`Table`] keeps every cell as text together with its line (CSV) or row (XLSX) number, so
//! every later check can name the file, line and field at fault. Parsing works on bytes and
//! does no I/O; the loader reads the files.

use crate::error::{Diagnostic, InputErrors, Location};
use crate::money::{parse_number_cell, CellNumber};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Largest single cell accepted (characters); longer cells are an input error.
pub const MAX_CELL_CHARS: usize = 100_000;

/// One data row of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the file (CSV) or row in the sheet (XLSX).
    pub line: u64,
    /// The cells, one per header column (missing trailing cells are empty).
    pub cells: Vec<String>,
}

/// A table read from a CSV or XLSX file: a header and data rows, all cells as trimmed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The file name used in messages (relative to the scenario folder).
    pub file: String,
    /// Column names, trimmed, in file order.
    pub headers: Vec<String>,
    /// Data rows in file order (blank lines skipped).
    pub rows: Vec<Row>,
    /// Notes about how the file was read (encoding detected, cells normalised).
    pub warnings: Vec<Diagnostic>,
    index: HashMap<String, usize>,
}

/// Which text encoding a CSV file was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a leading BOM is removed).
    Utf8,
    /// GB18030 (a superset of GBK and GB2312).
    Gb18030,
}

/// Decodes CSV bytes: strip a UTF-8 BOM; valid UTF-8 is taken as is, anything else is decoded
/// as GB18030 (which accepts every byte sequence GBK produces). A UTF-16 BOM is an error,
/// as are bytes that are neither.
pub fn decode_text(file: &str, bytes: &[u8]) -> Result<(String, Encoding), InputErrors> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(InputErrors::one(
            Location::file(file),
            "the file is UTF-16; save it as UTF-8 or GB18030 (CSV)",
        ));
    }
    let body = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok((s.to_string(), Encoding::Utf8));
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(body);
    if had_errors {
        let line = first_bad_line(body);
        return Err(InputErrors::one(
            Location {
                file: file.to_string(),
                line: Some(line),
                field: None,
            },
            "the file is neither valid UTF-8 nor GB18030/GBK text",
        ));
    }
    Ok((text.into_owned(), Encoding::Gb18030))
}

fn first_bad_line(body: &[u8]) -> u64 {
    let valid_up_to = std::str::from_utf8(body).err().map(|e| e.valid_up_to()).unwrap_or(0);
    let prefix = body.get(..valid_up_to).unwrap_or(&[]);
    1 + prefix.iter().filter(|&&b| b == b'\n').count() as u64
}

impl Table {
    /// Builds a table from a header and rows, checking the header (no empty or duplicate names).
    pub fn new(file: &str, headers: Vec<String>, rows: Vec<Row>, header_line: u64) -> Result<Table, InputErrors> {
        let mut errs = InputErrors::default();
        let mut index = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            if h.is_empty() && rows.iter().any(|r| r.cells.get(i).is_some_and(|c| !c.is_empty())) {
                errs.push(
                    Location::at(file, Some(header_line), format!("column {}", i + 1)),
                    "column has data but no header name",
                );
            }
            if h.is_empty() {
                continue;
            }
            if index.insert(h.clone(), i).is_some() {
                errs.push(
                    Location::at(file, Some(header_line), h.clone()),
                    "duplicate column name in the header",
                );
            }
        }
        errs.into_result(Table {
            file: file.to_string(),
            headers,
            rows,
            warnings: Vec::new(),
            index,
        })
    }

    /// Parses CSV bytes (encoding detected, see [`decode_text`]).
    ///
    /// Blank lines are skipped; a row with more cells than the header is an error; a row that
    /// repeats the header (as when two exports are pasted together) is an error naming the line.
    pub fn from_csv_bytes(file: &str, bytes: &[u8]) -> Result<Table, InputErrors> {
        let (text, enc) = decode_text(file, bytes)?;
        let mut errs = InputErrors::default();
        if text.contains('\u{feff}') {
            let line = text
                .split('\u{feff}')
                .next()
                .map(|p| 1 + p.matches('\n').count() as u64)
                .unwrap_or(1);
            errs.push(
                Location {
                    file: file.into(),
                    line: Some(line),
                    field: None,
                },
                "byte-order mark (U+FEFF) in the middle of the file: two files pasted together?",
            );
        }
        // csv's own line counter skips blank lines; count from byte offsets instead
        let newlines: Vec<usize> = text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect();
        let raw = text.as_bytes();
        let line_of = |byte: u64| -> u64 {
            // a record's position may point at the blank lines skipped before it
            let mut b = byte as usize;
            while raw.get(b).is_some_and(|c| *c == b'\n' || *c == b'\r') {
                b += 1;
            }
            1 + newlines.partition_point(|&nl| nl < b) as u64
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut header: Option<(Vec<String>, u64)> = None;
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| line_of(p.byte()));
                    errs.push(
                        Location {
                            file: file.into(),
                            line,
                            field: None,
                        },
                        format!("not valid CSV: {e}"),
                    );
                    break;
                }
            };
            let line = rec.position().map(|p| line_of(p.byte())).unwrap_or(0);
            let cells: Vec<String> = rec
                .iter()
                .map(|c| c.trim_matches(|ch: char| ch.is_whitespace() || ch == '\u{feff}').to_string())
                .collect();
            if cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            if let Some((i, _)) = cells.iter().enumerate().find(|(_, c)| c.chars().count() > MAX_CELL_CHARS) {
                let field = header
                    .as_ref()
                    .and_then(|(h, _)| h.get(i).cloned())
                    .unwrap_or_else(|| format!("column {}", i + 1));
                errs.push(
                    Location::at(file, Some(line), field),
                    format!("cell longer than {MAX_CELL_CHARS} characters"),
                );
                continue;
            }
            match &header {
                None => header = Some((cells, line)),
                Some((h, _)) => {
                    if cells.len() > h.len() && cells.iter().skip(h.len()).any(|c| !c.is_empty()) {
                        errs.push(
                            Location {
                                file: file.into(),
                                line: Some(line),
                                field: None,
                            },
                            format!("row has {} cells but the header has {}", cells.len(), h.len()),
                        );
                        continue;
                    }
                    if &cells == h {
                        errs.push(
                            Location {
                                file: file.into(),
                                line: Some(line),
                                field: None,
                            },
                            "the header row is repeated here",
                        );
                        continue;
                    }
                    if rows.len().saturating_add(1).saturating_mul(h.len()) > MAX_TABLE_CELLS {
                        errs.push(
                            Location::file(file),
                            format!("the table has more than {MAX_TABLE_CELLS} cells (rows × header columns)"),
                        );
                        break;
                    }
                    let mut cells = cells;
                    cells.resize(h.len(), String::new());
                    rows.push(Row { line, cells });
                }
            }
        }
        let Some((headers, header_line)) = header else {
            errs.push(Location::file(file), "the file is empty: a header row is required");
            return Err(errs);
        };
        let table = Table::new(file, headers, rows, header_line);
        match table {
            Ok(mut t) if errs.is_empty() => {
                if enc == Encoding::Gb18030 {
                    t.warnings
                        .push(Diagnostic::new(Location::file(file), "read as GB18030/GBK (not UTF-8)"));
                }
                Ok(t)
            }
            Ok(_) => Err(errs),
            Err(e) => {
                errs.extend(e);
                Err(errs)
            }
        }
    }

    /// Parses the first worksheet of an `.xlsx` workbook. Numbers become their shortest decimal
    /// text; the first non-empty row is the header and the first non-empty column the first
    /// column.
    ///
    /// Every cell reference in the workbook is checked against Excel's grid first
    /// ([`check_xlsx_references`]), and cells are read one by one into sparse rows (never as a
    /// dense range from `A1` to the farthest cell), so a crafted workbook is an input error,
    /// not a crash or an out-of-memory.
    pub fn from_xlsx_bytes(file: &str, bytes: &[u8]) -> Result<Table, InputErrors> {
        use calamine::{DataRef, Reader, Xlsx};
        use std::collections::BTreeMap;
        check_xlsx_references(file, bytes)?;
        let cursor = std::io::Cursor::new(bytes);
        let mut wb: Xlsx<_> =
            Xlsx::new(cursor).map_err(|e| InputErrors::one(Location::file(file), format!("not a readable .xlsx workbook: {e}")))?;
        let sheet = wb
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| InputErrors::one(Location::file(file), "the workbook has no worksheet"))?;
        let unreadable = |e: calamine::XlsxError| InputErrors::one(Location::file(file), format!("cannot read the first worksheet: {e}"));
        let mut reader = wb.worksheet_cells_reader(&sheet).map_err(unreadable)?;
        // row → column → text, non-empty cells only
        let mut sheet_rows: BTreeMap<u32, BTreeMap<u32, String>> = BTreeMap::new();
        let mut cells_read = 0usize;
        while let Some(cell) = reader.next_cell().map_err(unreadable)? {
            let (r, c) = cell.get_position();
            if u64::from(r) >= XLSX_MAX_ROWS || u64::from(c) >= XLSX_MAX_COLS {
                return Err(InputErrors::one(
                    Location::file(file),
                    format!(
                        "a cell at row {}, column {} is outside Excel's grid A1:XFD1048576",
                        u64::from(r) + 1,
                        u64::from(c) + 1
                    ),
                ));
            }
            let text = match cell.get_value() {
                DataRef::Empty => String::new(),
                DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.trim().to_string(),
                DataRef::SharedString(s) => s.trim().to_string(),
                DataRef::Float(f) => float_text(*f),
                DataRef::Int(i) => i.to_string(),
                DataRef::Bool(b) => {
                    if *b {
                        "1".into()
                    } else {
                        "0".into()
                    }
                }
                DataRef::DateTime(d) => excel_date(d.as_f64()),
                DataRef::Error(e) => format!("#{e:?}"),
            };
            if text.is_empty() {
                continue;
            }
            cells_read += 1;
            if cells_read > MAX_TABLE_CELLS {
                return Err(too_many_cells(file));
            }
            sheet_rows.entry(r).or_default().insert(c, text);
        }
        let first_col = sheet_rows.values().filter_map(|row| row.keys().next().copied()).min().unwrap_or(0);
        let mut header: Option<(Vec<String>, u64)> = None;
        let mut rows = Vec::new();
        let mut errs = InputErrors::default();
        for (r, cells) in sheet_rows {
            let line = u64::from(r) + 1;
            let width = cells
                .keys()
                .next_back()
                .map(|&c| c.saturating_sub(first_col) as usize + 1)
                .unwrap_or(0);
            match &header {
                None => {
                    let mut h = vec![String::new(); width];
                    for (c, text) in cells {
                        if let Some(slot) = h.get_mut(c.saturating_sub(first_col) as usize) {
                            *slot = text;
                        }
                    }
                    header = Some((h, line));
                }
                Some((h, _)) => {
                    if width > h.len() {
                        errs.push(
                            Location {
                                file: file.into(),
                                line: Some(line),
                                field: None,
                            },
                            "row has cells beyond the last header column",
                        );
                        continue;
                    }
                    if rows.len().saturating_add(1).saturating_mul(h.len()) > MAX_TABLE_CELLS {
                        return Err(too_many_cells(file));
                    }
                    let mut row = vec![String::new(); h.len()];
                    for (c, text) in cells {
                        if let Some(slot) = row.get_mut(c.saturating_sub(first_col) as usize) {
                            *slot = text;
                        }
                    }
                    rows.push(Row { line, cells: row });
                }
            }
        }
        let Some((headers, header_line)) = header else {
            return Err(InputErrors::one(
                Location::file(file),
                "the worksheet is empty: a header row is required",
            ));
        };
        let t = Table::new(file, headers, rows, header_line);
        match t {
            Ok(t) if errs.is_empty() => Ok(t),
            Ok(_) => Err(errs),
            Err(e) => {
                errs.extend(e);
                Err(errs)
            }
        }
    }

    /// Parses CSV or XLSX by the file name's extension (`.xlsx` → workbook, else CSV).
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Table, InputErrors> {
        if file.to_ascii_lowercase().ends_with(".xlsx") {
            Table::from_xlsx_bytes(file, bytes)
        } else {
            Table::from_csv_bytes(file, bytes)
        }
    }

    /// Index of a column, if present.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Index of a required column; the error names the file and the header line.
    pub fn require(&self, name: &str) -> Result<usize, Diagnostic> {
        self.col(name).ok_or_else(|| {
            Diagnostic::new(
                Location::at(&self.file, Some(1), name),
                format!("required column `{name}` is missing (columns present: {})", self.headers.join(", ")),
            )
        })
    }

    /// The text of a cell (empty when the column is absent).
    pub fn cell<'a>(&self, row: &'a Row, col: usize) -> &'a str {
        row.cells.get(col).map(String::as_str).unwrap_or("")
    }

    /// Location of a cell, for messages.
    pub fn loc(&self, row: &Row, col: usize) -> Location {
        Location::at(&self.file, Some(row.line), self.headers.get(col).cloned().unwrap_or_default())
    }

    /// Reads a cell as a number (see [`parse_number_cell`]); a normalised reading adds a warning.
    pub fn number(&self, row: &Row, col: usize, warnings: &mut Vec<Diagnostic>) -> Result<Option<Decimal>, Diagnostic> {
        match parse_number_cell(self.cell(row, col)) {
            Ok(CellNumber { value, note }) => {
                if let Some(n) = note {
                    warnings.push(Diagnostic::new(
                        self.loc(row, col),
                        format!("`{}` read as {}: {n}", self.cell(row, col), value.unwrap_or_default()),
                    ));
                }
                Ok(value)
            }
            Err(msg) => Err(Diagnostic::new(self.loc(row, col), msg)),
        }
    }
}

/// Rows of Excel's grid (`1048576`).
pub const XLSX_MAX_ROWS: u64 = 1_048_576;
/// Columns of Excel's grid (`XFD` = 16,384).
pub const XLSX_MAX_COLS: u64 = 16_384;
/// Largest part of an `.xlsx` workbook read, once decompressed (a guard against zip bombs).
pub const MAX_XLSX_PART_BYTES: u64 = 512 * 1024 * 1024;
/// Largest table read, in cells (rows × header columns): every row is stored as wide as the
/// header, so a wide header over many short rows would otherwise take unbounded memory.
pub const MAX_TABLE_CELLS: usize = 50_000_000;

fn too_many_cells(file: &str) -> InputErrors {
    InputErrors::one(
        Location::file(file),
        format!("the table has more than {MAX_TABLE_CELLS} cells (rows × header columns)"),
    )
}

/// Checks every `r` and `ref` attribute in every part of a workbook before calamine reads it:
/// each A1 reference must lie within Excel's grid (`A1:XFD1048576`, at most 3 letters and 7
/// digits) and a range `A1:B2` must not be inverted.
///
/// calamine 0.38 adds up reference letters and digits in unchecked `u32` arithmetic
/// (`ZZZZZZZ1` overflows: a panic in debug builds, a wrong position in release builds) and
/// subtracts range ends without checking their order. The scan is over-approximate on
/// purpose: it looks at anything shaped like ` r="…"` or ` ref="…"` anywhere in a part (not
/// only in tags it understands), so no reference calamine would parse can slip past it.
/// A part that cannot be read or decompressed is left for calamine to report.
pub fn check_xlsx_references(file: &str, bytes: &[u8]) -> Result<(), InputErrors> {
    use std::io::Read;
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Ok(());
    };
    for i in 0..zip.len() {
        let Ok(part) = zip.by_index(i) else {
            continue;
        };
        let name = part.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("part {}", i + 1));
        let mut xml = Vec::new();
        // a read error (bad CRC, truncated stream) still leaves the bytes read so far, which
        // calamine would parse before it sees the error: check them too
        let _ = part.take(MAX_XLSX_PART_BYTES + 1).read_to_end(&mut xml);
        if xml.len() as u64 > MAX_XLSX_PART_BYTES {
            return Err(InputErrors::one(
                Location::file(file),
                format!(
                    "part `{name}` of the workbook expands to more than {} MiB",
                    MAX_XLSX_PART_BYTES / 1024 / 1024
                ),
            ));
        }
        if let Some(bad) = bad_reference(&xml) {
            return Err(InputErrors::one(
                Location::file(file),
                format!("cell reference `{bad}` in `{name}` is outside Excel's grid A1:XFD1048576 (or an inverted range)"),
            ));
        }
    }
    Ok(())
}

/// The first value of an attribute named exactly `r` or `ref` (preceded by a byte that cannot
/// be part of an XML name, e.g. a space or a quote) that [`bad_cell_range`] rejects.
fn bad_reference(xml: &[u8]) -> Option<String> {
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || b >= 0x80;
    let mut i = 0usize;
    while let Some(off) = xml.get(i..).and_then(|rest| rest.iter().position(|&b| b == b'r')) {
        let at = i + off;
        i = at + 1;
        if at > 0 && xml.get(at - 1).is_some_and(|&b| is_name(b)) {
            continue;
        }
        let mut j = at + 1;
        if xml.get(j..).is_some_and(|r| r.starts_with(b"ef")) {
            j += 2;
        }
        while xml.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if xml.get(j) != Some(&b'=') {
            continue;
        }
        j += 1;
        while xml.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        let Some(&quote) = xml.get(j).filter(|&&q| q == b'"' || q == b'\'') else {
            continue;
        };
        let value = xml.get(j + 1..).unwrap_or(&[]);
        let value = value
            .get(..value.iter().position(|&b| b == quote).unwrap_or(value.len()))
            .unwrap_or(&[]);
        if bad_cell_range(value) {
            return Some(String::from_utf8_lossy(value.get(..40).unwrap_or(value)).into_owned());
        }
    }
    None
}

/// Whether an A1 reference or range (`B2`, `5`, `A1:C9`) would overflow or leave Excel's grid,
/// or is a range whose end comes before its start.
fn bad_cell_range(v: &[u8]) -> bool {
    let mut ends: Vec<(Option<u64>, Option<u64>)> = Vec::new();
    for part in v.split(|&b| b == b':') {
        let letters = part.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let digits = part.iter().skip(letters).take_while(|b| b.is_ascii_digit()).count();
        if letters > 3 || digits > 7 {
            return true;
        }
        let col = part
            .iter()
            .take(letters)
            .fold(0u64, |acc, b| acc * 26 + u64::from(b.to_ascii_uppercase() - b'A') + 1);
        let row = part
            .iter()
            .skip(letters)
            .take(digits)
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
        if col > XLSX_MAX_COLS || row > XLSX_MAX_ROWS {
            return true;
        }
        ends.push(((letters > 0).then_some(col), (digits > 0).then_some(row)));
    }
    if let [(c1, r1), (c2, r2)] = ends.as_slice() {
        let before = |a: &Option<u64>, b: &Option<u64>| matches!((a, b), (Some(a), Some(b)) if b < a);
        if before(c1, c2) || before(r1, r2) {
            return true;
        }
    }
    false
}

/// An Excel date serial (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    if !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return float_text(serial);
    }
    // days since 1970-01-01, then the civil-from-days algorithm (H. Hinnant)
    let z = serial.floor() as i64 - 25_569 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Shortest decimal text of a spreadsheet float (integers without `.0`).
fn float_text(f: f64) -> String {
    if !f.is_finite() {
        return format!("{f}");
    }
    match Decimal::from_f64(f) {
        Some(d) => d.normalize().to_string(),
        None => format!("{f}"),
    }
}

use rust_decimal::prelude::FromPrimitive;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_bom_and_gb18030_read_the_same() {
        let text = "id,name\n620102,城关区\n";
        let mut with_bom = vec![0xef, 0xbb, 0xbf];
        with_bom.extend_from_slice(text.as_bytes());
        let (gbk, _, _) = encoding_rs::GB18030.encode(text);
        let a = Table::from_csv_bytes("u.csv", &with_bom).unwrap();
        let b = Table::from_csv_bytes("u.csv", &gbk).unwrap();
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.rows[0].cells[1], "城关区");
        assert!(!b.warnings.is_empty());
    }

    #[test]
    fn lines_are_counted_from_the_file_and_blank_lines_skipped() {
        let t = Table::from_csv_bytes("f.csv", b"a,b\n\n1,2\n\n3,4\n").unwrap();
        assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 5]);
    }

    #[test]
    fn duplicate_headers_and_repeated_header_rows_are_errors() {
        let e = Table::from_csv_bytes("f.csv", b"a,a\n1,2\n").unwrap_err();
        assert!(e.to_string().contains("duplicate column"), "{e}");
        let e = Table::from_csv_bytes("f.csv", b"a,b\n1,2\na,b\n3,4\n").unwrap_err();
        assert!(e.to_string().contains("f.csv:3"), "{e}");
    }

    #[test]
    fn empty_file_and_utf16_are_errors() {
        assert!(Table::from_csv_bytes("f.csv", b"").is_err());
        assert!(Table::from_csv_bytes("f.csv", &[0xff, 0xfe, b'a', 0]).is_err());
    }

    #[test]
    fn excel_serials_become_iso_dates() {
        assert_eq!(excel_date(43466.0), "2019-01-01");
        assert_eq!(excel_date(44196.0), "2020-12-31");
    }

    #[test]
    fn xlsx_that_is_not_a_workbook_is_an_error() {
        let e = Table::from_xlsx_bytes("f.xlsx", b"PK\x03\x04not really").unwrap_err();
        assert!(e.to_string().contains("f.xlsx"));
    }
}
