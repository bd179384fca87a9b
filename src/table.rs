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

/// The text encoding declared for a scenario's CSV files (`[data] encoding` in
/// `scenario.toml`): detected by default, or fixed, in which case bytes that contradict the
/// declaration are an error naming the file, line and field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// `auto` (default): a UTF-8 BOM or valid UTF-8 is UTF-8, anything else GB18030. Short
    /// GBK files can happen to be valid UTF-8 and are then misread: declare the encoding.
    #[default]
    Auto,
    /// `utf-8`: bytes that are not UTF-8 are an error.
    Utf8,
    /// `gb18030` (also `gbk`, `gb2312`): decoded as GB18030 even when the bytes also form
    /// valid UTF-8 (with a warning); a UTF-8 BOM or bytes that are not GB18030 are an error.
    Gb18030,
}

impl TextEncoding {
    /// Reads the declaration: `auto`, `utf-8` (`utf8`), `gb18030` (`gbk`, `gb2312`), any case.
    pub fn parse(s: &str) -> Option<TextEncoding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(TextEncoding::Auto),
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "gb18030" | "gbk" | "gb2312" => Some(TextEncoding::Gb18030),
            _ => None,
        }
    }
}

/// Decodes CSV bytes: strip a UTF-8 BOM; valid UTF-8 is taken as is, anything else is decoded
/// as GB18030 (which accepts every byte sequence GBK produces). A UTF-16 BOM is an error,
/// as are bytes that are neither, and a UTF-8 BOM followed by bytes that are not UTF-8.
pub fn decode_text(file: &str, bytes: &[u8]) -> Result<(String, Encoding), InputErrors> {
    decode_text_as(file, bytes, TextEncoding::Auto).map(|(t, e, _)| (t, e))
}

/// Decodes CSV bytes as declared (see [`TextEncoding`]); also returns warnings (a declared
/// GB18030 file whose bytes are valid UTF-8 too). Errors name the line and the column of the
/// first byte that does not fit.
pub fn decode_text_as(file: &str, bytes: &[u8], declared: TextEncoding) -> Result<(String, Encoding, Vec<Diagnostic>), InputErrors> {
    let line_one = Location {
        file: file.to_string(),
        line: Some(1),
        field: None,
    };
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        let msg = match declared {
            TextEncoding::Auto => "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8 or GB18030 (CSV)",
            TextEncoding::Utf8 => "the file is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8 as [data] encoding declares",
            TextEncoding::Gb18030 => {
                "the file is UTF-16 (it starts with a UTF-16 byte-order mark), not GB18030 as [data] encoding declares"
            }
        };
        return Err(InputErrors::one(line_one, msg));
    }
    let bom = bytes.starts_with(&[0xef, 0xbb, 0xbf]);
    let body = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    let at = |offset: usize, msg: String| InputErrors::from(Diagnostic::new(byte_location(file, body, offset), msg));
    match declared {
        TextEncoding::Auto | TextEncoding::Utf8 => {
            match std::str::from_utf8(body) {
                Ok(s) => return Ok((s.to_string(), Encoding::Utf8, Vec::new())),
                Err(e) if bom || declared == TextEncoding::Utf8 => {
                    let why = if declared == TextEncoding::Utf8 {
                        "as [data] encoding declares"
                    } else {
                        "although the file starts with a UTF-8 byte-order mark (GB18030/GBK bytes after a UTF-8 BOM?)"
                    };
                    return Err(at(
                        e.valid_up_to(),
                        format!("not UTF-8 {why}: save the whole file in one encoding, or declare [data] encoding = \"gb18030\""),
                    ));
                }
                Err(_) => {}
            }
            match decode_gb18030(body) {
                Ok(text) => Ok((text, Encoding::Gb18030, Vec::new())),
                Err(offset) => Err(at(offset, "the file is neither valid UTF-8 nor GB18030/GBK text".into())),
            }
        }
        TextEncoding::Gb18030 => {
            if bom {
                return Err(InputErrors::one(
                    line_one,
                    "the file starts with a UTF-8 byte-order mark, but [data] encoding declares GB18030",
                ));
            }
            let text = decode_gb18030(body).map_err(|offset| at(offset, "not GB18030/GBK text as [data] encoding declares".into()))?;
            let mut warnings = Vec::new();
            if std::str::from_utf8(body).is_ok() {
                if let Some(first) = body.iter().position(|b| !b.is_ascii()) {
                    warnings.push(Diagnostic::new(
                        byte_location(file, body, first),
                        "read as GB18030 as [data] encoding declares, though the bytes are also valid UTF-8: check that the text reads right",
                    ));
                }
            }
            Ok((text, Encoding::Gb18030, warnings))
        }
    }
}

/// GB18030 text, or the byte offset of the first sequence that is not GB18030.
fn decode_gb18030(body: &[u8]) -> Result<String, usize> {
    use encoding_rs::DecoderResult;
    let mut dec = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let cap = dec
        .max_utf8_buffer_length_without_replacement(body.len())
        .unwrap_or(body.len().saturating_mul(2));
    let mut out = String::with_capacity(cap);
    let (res, read) = dec.decode_to_string_without_replacement(body, &mut out, true);
    match res {
        DecoderResult::InputEmpty => Ok(out),
        DecoderResult::Malformed(bad, after) => Err(read.saturating_sub(usize::from(bad) + usize::from(after))),
        DecoderResult::OutputFull => Err(read),
    }
}

/// The line and column (header name, from the first line) of a byte offset in CSV bytes.
/// Columns are counted by the commas outside double quotes from the start of the line.
fn byte_location(file: &str, body: &[u8], offset: usize) -> Location {
    let offset = offset.min(body.len());
    let before = body.get(..offset).unwrap_or(&[]);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
    let line_start = before.iter().rposition(|&b| b == b'\n').map(|p| p + 1).unwrap_or(0);
    let mut col = 0usize;
    let mut quoted = false;
    for &b in body.get(line_start..offset).unwrap_or(&[]) {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => col += 1,
            _ => {}
        }
    }
    let first_line = body.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let header = String::from_utf8_lossy(first_line);
    let name = header
        .split(',')
        .nth(col)
        .map(|h| {
            h.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\u{feff}')
                .to_string()
        })
        .filter(|h| !h.is_empty() && !h.contains('\u{fffd}') && h.chars().count() <= 64)
        .unwrap_or_else(|| format!("column {}", col + 1));
    Location::at(file, Some(line), name)
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
        Table::from_csv_bytes_as(file, bytes, TextEncoding::Auto)
    }

    /// [`Table::from_csv_bytes`] with a declared encoding (see [`decode_text_as`]).
    pub fn from_csv_bytes_as(file: &str, bytes: &[u8], declared: TextEncoding) -> Result<Table, InputErrors> {
        let (text, enc, decode_notes) = decode_text_as(file, bytes, declared)?;
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
                t.warnings.extend(decode_notes);
                if enc == Encoding::Gb18030 && declared != TextEncoding::Gb18030 {
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
    /// column. Spreadsheet error cells read as their text (`#DIV/0!`; `#N/A` reads as empty
    /// wherever a number is expected).
    ///
    /// Merged cells: a title above the table — a row whose only cell is merged across columns
    /// — is skipped with a warning naming it; merged cells in the header row (one name over
    /// several columns, or a header two rows deep) and in the data (only the first cell of a
    /// merged range holds the value, the others read as empty) are errors naming the range.
    /// A data row equal to the header, and cells longer than [`MAX_CELL_CHARS`], are errors.
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
        let mut wb: Xlsx<_> = Xlsx::new(cursor).map_err(|e| {
            InputErrors::one(
                Location::file(file),
                format!("not a readable .xlsx workbook: {e}{}", zip_hint(bytes)),
            )
        })?;
        let sheet = wb
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| InputErrors::one(Location::file(file), "the workbook has no worksheet"))?;
        let unreadable = |e: calamine::XlsxError| InputErrors::one(Location::file(file), format!("cannot read the first worksheet: {e}"));
        // (first row, first column, last row, last column) of every merged range of more than one cell
        let merged: Vec<(u32, u32, u32, u32)> = wb
            .merge_cells_by_sheet_name(&sheet)
            .map_err(|e| {
                InputErrors::one(
                    Location::file(file),
                    format!("cannot read the merged cells of the first worksheet: {e}"),
                )
            })?
            .iter()
            .map(|d| (d.start.0, d.start.1, d.end.0, d.end.1))
            .filter(|&(r0, c0, r1, c1)| r1 > r0 || c1 > c0)
            .collect();
        let mut reader = wb.worksheet_cells_reader(&sheet).map_err(unreadable)?;
        // row → column → text, non-empty cells only
        let mut sheet_rows: BTreeMap<u32, BTreeMap<u32, String>> = BTreeMap::new();
        let mut long_cells: Vec<(u32, u32)> = Vec::new();
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
                DataRef::Error(e) => e.to_string(),
            };
            if text.is_empty() {
                continue;
            }
            cells_read += 1;
            if cells_read > MAX_TABLE_CELLS {
                return Err(too_many_cells(file));
            }
            if text.len() > MAX_CELL_CHARS && text.chars().count() > MAX_CELL_CHARS {
                long_cells.push((r, c));
                continue;
            }
            sheet_rows.entry(r).or_default().insert(c, text);
        }
        drop(reader);
        let first_col = sheet_rows
            .values()
            .filter_map(|row| row.keys().next().copied())
            .chain(long_cells.iter().map(|&(_, c)| c))
            .min()
            .unwrap_or(0);
        let mut header: Option<(Vec<String>, u64)> = None;
        let mut rows = Vec::new();
        let mut errs = InputErrors::default();
        let mut warnings = Vec::new();
        let field_of = |h: &[String], c: u32| -> String {
            h.get(c.saturating_sub(first_col) as usize)
                .filter(|n| !n.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("column {}", a1_column(c)))
        };
        for (r, cells) in sheet_rows {
            let line = u64::from(r) + 1;
            let width = cells
                .keys()
                .next_back()
                .map(|&c| c.saturating_sub(first_col) as usize + 1)
                .unwrap_or(0);
            match &header {
                None => {
                    // a title above the table: the row's only cell, merged across columns
                    if cells.len() == 1 {
                        if let Some(&(r0, c0, r1, c1)) = cells
                            .keys()
                            .next()
                            .and_then(|&c| merged.iter().find(|m| m.0 == r && m.1 == c && m.3 > m.1))
                        {
                            warnings.push(Diagnostic::new(
                                Location {
                                    file: file.into(),
                                    line: Some(line),
                                    field: None,
                                },
                                format!(
                                    "row {line} is a title row (one text merged over {}): skipped, the header is the next row",
                                    a1_range(r0, c0, r1, c1)
                                ),
                            ));
                            continue;
                        }
                    }
                    let mut h = vec![String::new(); width];
                    for (c, text) in cells {
                        if let Some(slot) = h.get_mut(c.saturating_sub(first_col) as usize) {
                            *slot = text;
                        }
                    }
                    for &(r0, c0, r1, c1) in &merged {
                        if r0 <= r && r <= r1 {
                            errs.push(
                                Location::at(file, Some(line), field_of(&h, c0)),
                                format!(
                                    "the header row has merged cells {}: every column needs its own name in a single header row (unmerge the cells and name each column)",
                                    a1_range(r0, c0, r1, c1)
                                ),
                            );
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
                    if &row == h {
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
        let header_row = u32::try_from(header_line.saturating_sub(1)).unwrap_or(u32::MAX);
        for &(r0, c0, r1, c1) in &merged {
            if r0 > header_row {
                errs.push(
                    Location::at(file, Some(u64::from(r0) + 1), field_of(&headers, c0)),
                    format!(
                        "cells {} are merged: only the first holds the value and the others read as empty (unmerge them and fill every cell)",
                        a1_range(r0, c0, r1, c1)
                    ),
                );
            }
        }
        for &(r, c) in &long_cells {
            errs.push(
                Location::at(file, Some(u64::from(r) + 1), field_of(&headers, c)),
                format!("cell longer than {MAX_CELL_CHARS} characters"),
            );
        }
        let t = Table::new(file, headers, rows, header_line);
        match t {
            Ok(mut t) if errs.is_empty() => {
                t.warnings = warnings;
                Ok(t)
            }
            Ok(_) => Err(errs),
            Err(e) => {
                errs.extend(e);
                Err(errs)
            }
        }
    }

    /// Parses CSV or XLSX by the file name's extension (`.xlsx` → workbook, else CSV).
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Table, InputErrors> {
        Table::from_bytes_as(file, bytes, TextEncoding::Auto)
    }

    /// [`Table::from_bytes`] with the encoding declared for CSV files (a workbook carries its
    /// own).
    pub fn from_bytes_as(file: &str, bytes: &[u8], declared: TextEncoding) -> Result<Table, InputErrors> {
        if file.to_ascii_lowercase().ends_with(".xlsx") {
            Table::from_xlsx_bytes(file, bytes)
        } else {
            Table::from_csv_bytes_as(file, bytes, declared)
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

    /// Warnings for the cells of `cols` that read as numbers only after normalising
    /// (full-width digits or commas, a percent sign: see [`parse_number_cell`]), each naming
    /// its line and column, as [`Table::number`] words them; at most `max` cells, then a count.
    pub fn normalised_cells(&self, cols: &[usize], max: usize) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut more = 0usize;
        for row in &self.rows {
            for &c in cols {
                let text = self.cell(row, c);
                if text.is_ascii() && !text.ends_with('%') {
                    continue;
                }
                if let Ok(CellNumber { value, note: Some(n) }) = parse_number_cell(text) {
                    if out.len() < max {
                        out.push(Diagnostic::new(
                            self.loc(row, c),
                            format!("`{text}` read as {}: {n}", value.unwrap_or_default()),
                        ));
                    } else {
                        more += 1;
                    }
                }
            }
        }
        if more > 0 {
            out.push(Diagnostic::new(
                Location::file(&self.file),
                format!("… and {more} more cells read as numbers after normalising"),
            ));
        }
        out
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

/// For a zip archive that is not a workbook, what it holds (` (a zip archive of …)`).
fn zip_hint(bytes: &[u8]) -> String {
    let Ok(zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return String::new();
    };
    let names: Vec<String> = zip.file_names().take(5).filter_map(|n| n.ok()).map(|n| n.into_owned()).collect();
    if names.iter().any(|n| n.eq_ignore_ascii_case("xl/workbook.xml")) {
        return String::new();
    }
    format!(
        " (a zip archive of {}{}, not an Excel workbook: no xl/workbook.xml)",
        names.join(", "),
        if zip.len() > names.len() { ", …" } else { "" }
    )
}

/// The letters of a 0-based column (`0` → `A`, `26` → `AA`).
fn a1_column(c: u32) -> String {
    let mut n = u64::from(c) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A 0-based cell range as `A1:B2`.
fn a1_range(r0: u32, c0: u32, r1: u32, c1: u32) -> String {
    format!("{}{}:{}{}", a1_column(c0), u64::from(r0) + 1, a1_column(c1), u64::from(r1) + 1)
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
    fn bad_bytes_are_located_by_line_and_column() {
        // GB18030 after a UTF-8 BOM: the first bad byte is on line 3, in `name`
        let mut b = b"\xef\xbb\xbfid,name\n1,ok\n2,".to_vec();
        b.extend_from_slice(&encoding_rs::GB18030.encode("城关区").0);
        b.push(b'\n');
        let e = Table::from_csv_bytes("u.csv", &b).unwrap_err().to_string();
        assert!(
            e.starts_with("error: u.csv:3: field `name`: not UTF-8 although the file starts with a UTF-8 byte-order mark"),
            "{e}"
        );
        // neither encoding: located at the byte GB18030 refuses (a quoted comma does not count)
        let b = b"id,name,level\n1,\"a,b\",\x81\x30\n".to_vec();
        let e = Table::from_csv_bytes("u.csv", &b).unwrap_err().to_string();
        assert!(
            e.contains("u.csv:2: field `level`: the file is neither valid UTF-8 nor GB18030/GBK"),
            "{e}"
        );
    }

    #[test]
    fn a_declared_encoding_decides_and_contradictions_are_errors() {
        let text = "id,name\n1,城关区\n";
        let gbk = encoding_rs::GB18030.encode(text).0.into_owned();
        let t = Table::from_csv_bytes_as("u.csv", &gbk, TextEncoding::Gb18030).unwrap();
        assert_eq!(t.rows[0].cells[1], "城关区");
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        let e = Table::from_csv_bytes_as("u.csv", &gbk, TextEncoding::Utf8).unwrap_err().to_string();
        assert!(e.contains("u.csv:2: field `name`: not UTF-8 as [data] encoding declares"), "{e}");
        let e = Table::from_csv_bytes_as("u.csv", text.as_bytes(), TextEncoding::Gb18030)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("u.csv:2: field `name`: not GB18030/GBK text as [data] encoding declares"),
            "{e}"
        );
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(&gbk);
        let e = Table::from_csv_bytes_as("u.csv", &bom, TextEncoding::Gb18030)
            .unwrap_err()
            .to_string();
        assert!(e.contains("u.csv:1: the file starts with a UTF-8 byte-order mark"), "{e}");
        // GBK bytes that are valid UTF-8 too: auto reads UTF-8 (mojibake), the declaration reads
        // the right text and says the bytes were ambiguous
        let look = encoding_rs::GB18030.encode("id,name\n1,专业\n").0.into_owned();
        let auto = Table::from_csv_bytes("u.csv", &look).unwrap();
        assert_ne!(auto.rows[0].cells[1], "专业");
        let t = Table::from_csv_bytes_as("u.csv", &look, TextEncoding::Gb18030).unwrap();
        assert_eq!(t.rows[0].cells[1], "专业");
        assert!(t.warnings[0]
            .to_string()
            .starts_with("u.csv:2: field `name`: read as GB18030 as [data] encoding declares"));
        assert_eq!(TextEncoding::parse(" GBK "), Some(TextEncoding::Gb18030));
        assert_eq!(TextEncoding::parse("UTF8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::parse("latin1"), None);
    }

    #[test]
    fn normalised_cells_are_named_and_capped() {
        let t = Table::from_csv_bytes("p.csv", "id,n,name\n1,１２,３\n2,5%,x\n3,7,y\n".as_bytes()).unwrap();
        let w: Vec<String> = t.normalised_cells(&[1], 10).iter().map(|d| d.to_string()).collect();
        assert_eq!(
            w,
            [
                "p.csv:2: field `n`: `１２` read as 12: full-width characters normalised",
                "p.csv:3: field `n`: `5%` read as 0.05: percent sign read as /100"
            ]
        );
        let capped: Vec<String> = t.normalised_cells(&[1], 1).iter().map(|d| d.to_string()).collect();
        assert_eq!(capped.len(), 2);
        assert_eq!(capped[1], "p.csv: … and 1 more cells read as numbers after normalising");
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
