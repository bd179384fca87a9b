//! Payment checks: a household payment ledger against the register of filed households.
//!
//! Ledger `payments.csv`: `payment_id,household_id,unit_id,date,kind,amount` (more columns are
//! ignored). Register `households.csv`: `household_id,unit_id,category,filed_on,closed_on,
//! dibao_monthly` (`closed_on` empty while the file is open; `dibao_monthly` = the local
//! minimum-living-allowance standard, 低保, per month, in the scenario's money unit).
//!
//! Checks (each switched on or off in `[audit.payments] checks`, see [`PaymentRules`]):
//! - `unfiled`: payments to a household not in the register (先建档、后帮扶、实名制); one hit per
//!   household with all its payments.
//! - `before_filing` / `after_closing`: payment date `< filed_on`, or `> closed_on`; one hit per
//!   payment.
//! - `unit_mismatch` (off by default): payment booked under another unit than the household's.
//! - `living_cap`: per filed household and calendar year, `Σ living payments > months(category)
//!   × dibao_monthly` (months from `tier_months`, else `living_months`, default 12).
//! - `warmth_visit`: a warmth payment `> warmth_per_visit`; `warmth_year`: per household and
//!   calendar year `Σ warmth payments > warmth_per_year`.
//! - `duplicate`: two or more payments of the same kind to the same household in the same
//!   period (month, quarter or year); the excess is everything after the first payment.
//! - `flat`: in a unit, of its `n ≥ flat_min_payments` payments of a kind that must be tiered,
//!   `c` share one amount with `c ≥ flat_share × n`, and those `c` payments go to households
//!   of at least `flat_min_categories` categories (the same amount regardless of category).
//! - `scope`: the kind is not in `allowed_kinds`.
//!
//! Bad input — an unparsable date or amount, a negative amount, an empty id, a duplicate
//! payment or household id — is an [`InputErrors`] naming file, line and field. Dates are read
//! by [`super::dates::parse_date`]; amounts are exact decimals.
//!
//! Built for millions of rows: records are read as `csv::ByteRecord`s without per-row
//! allocation, ids are interned (`HashMap<Box<str>, u32>`), payment ids are checked for
//! duplicates by sorting 64-bit hashes, and the per-household checks run in parallel.

use super::dates::{parse_date_format, trim, why_not_a_date, Date, DateFormat};
use super::{Check, PaymentRules};
use crate::error::{Diagnostic, InputErrors, Location};
use crate::table::{TextEncoding, MAX_CELL_CHARS};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::hash::Hasher;

/// At most this many problems are listed; the rest are counted.
pub const MAX_PROBLEMS: usize = 200;

/// The two files, as bytes, with the names used in messages.
#[derive(Debug, Clone, Copy)]
pub struct LedgerInput<'a> {
    /// Name of the ledger file (e.g. `payments.csv`).
    pub payments_file: &'a str,
    /// Its bytes (UTF-8 with or without BOM, or GB18030).
    pub payments: &'a [u8],
    /// Name of the register file (e.g. `households.csv`).
    pub households_file: &'a str,
    /// Its bytes.
    pub households: &'a [u8],
}

/// One ledger row cited as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitRow {
    /// Line in the ledger (header = line 1).
    pub line: u64,
    /// `payment_id`.
    pub payment_id: String,
    /// Payment date.
    pub date: Date,
    /// `kind`.
    pub kind: String,
    /// Amount.
    pub amount: Decimal,
}

/// One problem found in the ledger, with the rows that prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentHit {
    /// Which check.
    pub check: Check,
    /// `unit_id` of the payments (of the first payment when they differ).
    pub unit_id: String,
    /// `household_id` (empty for `flat`, which is about a unit).
    pub household_id: String,
    /// The household's category (empty when not on file, or for `flat`).
    pub category: String,
    /// Kind of the payments.
    pub kind: String,
    /// The period: a date (`2019-03-05`), month (`2019-03`), quarter (`2019-Q1`) or year.
    pub period: String,
    /// Amount involved: the sum of the rows.
    pub amount: Decimal,
    /// The standard broken, when there is one (cap, or the flat amount).
    pub limit: Option<Decimal>,
    /// Amount above the standard (caps), or paid after the first payment (duplicates).
    pub excess: Option<Decimal>,
    /// The household's filing date, when on file.
    pub filed_on: Option<Date>,
    /// The household's closing date, when closed.
    pub closed_on: Option<Date>,
    /// For `unit_mismatch`, the household's unit in the register; for `flat`, the categories
    /// the flat amount was paid to (`;`-separated).
    pub note: String,
    /// Number of ledger rows involved (for `flat`: the flat-amount payments), and `of` the
    /// unit's payments of the kind for `flat`.
    pub of: Option<usize>,
    /// The ledger rows.
    pub rows: Vec<HitRow>,
}

impl PaymentHit {
    /// The amount at stake: the excess when there is one, else the amount.
    pub fn at_stake(&self) -> Decimal {
        self.excess.unwrap_or(self.amount)
    }
}

/// What one check examined and found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSummary {
    /// The check.
    pub check: Check,
    /// Ledger rows the check looked at.
    pub examined: usize,
    /// Hits.
    pub hits: usize,
    /// Σ amount at stake over the hits.
    pub amount: Decimal,
}

/// Result of [`check_payments`].
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentReport {
    /// Ledger file name.
    pub payments_file: String,
    /// Register file name.
    pub households_file: String,
    /// Ledger rows.
    pub payments: usize,
    /// Σ of all ledger amounts.
    pub total_amount: Decimal,
    /// Register rows.
    pub households: usize,
    /// Hits, ordered by check ([`Check::ALL`] order) then first ledger line.
    pub hits: Vec<PaymentHit>,
    /// One entry per check run, in [`Check::ALL`] order.
    pub summary: Vec<CheckSummary>,
    /// The rules used.
    pub rules: PaymentRules,
    /// Cells accepted with a reading the user should know about, each naming file, line and
    /// field: amounts written with full-width digits or commas, dates in another format than
    /// the rest of the column, the encoding detected (at most [`MAX_NOTES`] cells listed per
    /// column, then a count).
    pub warnings: Vec<Diagnostic>,
}

/// At most this many normalised cells are listed per column (the rest are counted).
pub const MAX_NOTES: usize = 20;

/// Notes about the cells of one column that were read with a normalisation.
#[derive(Debug, Default)]
struct CellNotes {
    list: Vec<Diagnostic>,
    more: usize,
}

impl CellNotes {
    fn push(&mut self, file: &str, line: u64, field: &str, msg: String) {
        if self.list.len() < MAX_NOTES {
            self.list.push(Diagnostic::new(Location::at(file, Some(line), field), msg));
        } else {
            self.more += 1;
        }
    }

    fn finish(self, file: &str, field: &str, out: &mut Vec<Diagnostic>) {
        out.extend(self.list);
        if self.more > 0 {
            out.push(Diagnostic::new(
                Location::at(file, None, field),
                format!("… and {} more cells read the same way", self.more),
            ));
        }
    }
}

/// The formats a date column is written in: a column that mixes them is read cell by cell,
/// each as the calendar day it names, with a warning naming the cells in the less common
/// formats (at most [`MAX_NOTES`]).
#[derive(Debug, Default)]
struct DateMix {
    counts: [usize; DateFormat::ALL.len()],
    first: [u64; DateFormat::ALL.len()],
    samples: [Vec<(u64, String, Date)>; DateFormat::ALL.len()],
}

impl DateMix {
    fn add(&mut self, line: u64, raw: &[u8], date: Date, fmt: DateFormat) {
        let i = fmt.index();
        let (Some(n), Some(first), Some(samples)) = (self.counts.get_mut(i), self.first.get_mut(i), self.samples.get_mut(i)) else {
            return;
        };
        if *n == 0 {
            *first = line;
        }
        *n += 1;
        if samples.len() < MAX_NOTES {
            samples.push((line, String::from_utf8_lossy(trim(raw)).into_owned(), date));
        }
    }

    fn finish(self, file: &str, field: &str, out: &mut Vec<Diagnostic>) {
        let used: Vec<usize> = (0..DateFormat::ALL.len())
            .filter(|&i| self.counts.get(i).is_some_and(|&n| n > 0))
            .collect();
        if used.len() < 2 {
            return;
        }
        let key = |i: usize| {
            (
                self.counts.get(i).copied().unwrap_or(0),
                std::cmp::Reverse(self.first.get(i).copied().unwrap_or(0)),
            )
        };
        let Some(&main) = used.iter().max_by_key(|&&i| key(i)) else {
            return;
        };
        let label = |i: usize| DateFormat::ALL.get(i).map(|f| f.label()).unwrap_or("");
        let mut listed = 0usize;
        let mut others = 0usize;
        let mut cells: Vec<&(u64, String, Date)> = used
            .iter()
            .filter(|&&i| i != main)
            .filter_map(|&i| self.samples.get(i))
            .flatten()
            .collect();
        cells.sort_by_key(|c| c.0);
        for &i in used.iter().filter(|&&i| i != main) {
            others += self.counts.get(i).copied().unwrap_or(0);
        }
        for (line, raw, date) in cells.into_iter().take(MAX_NOTES) {
            listed += 1;
            out.push(Diagnostic::new(
                Location::at(file, Some(*line), field),
                format!("`{raw}` read as {date} (the column mostly writes dates as {})", label(main)),
            ));
        }
        let summary: Vec<String> = used
            .iter()
            .map(|&i| format!("{} ×{}", label(i), self.counts.get(i).copied().unwrap_or(0)))
            .collect();
        let more = if others > listed {
            format!("; {} more cells not listed", others - listed)
        } else {
            String::new()
        };
        out.push(Diagnostic::new(
            Location::at(file, None, field),
            format!(
                "dates in {} formats ({}): each read as the calendar day it names{more}",
                used.len(),
                summary.join(", ")
            ),
        ));
    }
}

/// A fast non-cryptographic hasher (the multiply-rotate scheme of rustc's FxHasher, 8 bytes at
/// a time, with a final avalanche) for ids read from files: short keys, millions of lookups.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            if let Some(dst) = b.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 56));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    /// The state with a final avalanche (splitmix64), so that the low bits hash tables use
    /// depend on every input byte.
    #[inline]
    fn finish(&self) -> u64 {
        let mut z = self.hash;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// Interns ids: each distinct text gets a dense `u32`.
#[derive(Debug, Default)]
struct Interner {
    map: HashMap<Box<str>, u32, FxBuild>,
}

impl Interner {
    fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(i) = self.map.get(s) {
            return *i;
        }
        let i = u32::try_from(self.map.len()).unwrap_or(u32::MAX);
        self.map.insert(s.into(), i);
        i
    }
    /// Texts by id.
    fn names(&self) -> Vec<&str> {
        let mut v = vec![""; self.map.len()];
        for (k, &i) in &self.map {
            if let Some(slot) = v.get_mut(i as usize) {
                *slot = k;
            }
        }
        v
    }
}

/// A household of the register.
#[derive(Debug, Clone)]
struct Household {
    unit: u32,
    category: u32,
    filed_on: Date,
    closed_on: Option<Date>,
    dibao: Option<Decimal>,
}

/// A ledger row, compact (36 bytes).
#[derive(Debug, Clone, Copy)]
struct Payment {
    line: u32,
    hh: u32,
    unit: u32,
    date: Date,
    kind: u32,
    amount: Decimal,
}

/// Problems collected while reading, capped at [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
struct Problems {
    list: Vec<Diagnostic>,
    more: usize,
}

impl Problems {
    fn push(&mut self, file: &str, line: u64, field: &str, msg: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Diagnostic::new(Location::at(file, Some(line), field), msg));
        } else {
            self.more += 1;
        }
    }
    fn push_diag(&mut self, d: Diagnostic) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(d);
        } else {
            self.more += 1;
        }
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty() && self.more == 0
    }
    fn into_errors(mut self, file: &str) -> InputErrors {
        self.list.sort();
        if self.more > 0 {
            self.list.push(Diagnostic::new(
                Location::file(file),
                format!("… and {} more problems not listed", self.more),
            ));
        }
        InputErrors(self.list)
    }
}

/// Decodes as declared (see [`crate::table::decode_text_as`]): UTF-8 is borrowed without its
/// BOM, anything else decoded; notes (GB18030 detected) go to `warnings`.
fn decode<'a>(file: &str, bytes: &'a [u8], enc: TextEncoding, warnings: &mut Vec<Diagnostic>) -> Result<Cow<'a, [u8]>, InputErrors> {
    let utf16 = bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]);
    if enc != TextEncoding::Gb18030 && !utf16 {
        let body = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
        if std::str::from_utf8(body).is_ok() {
            return Ok(Cow::Borrowed(body));
        }
    }
    let (text, found, notes) = crate::table::decode_text_as(file, bytes, enc)?;
    warnings.extend(notes);
    if found == crate::table::Encoding::Gb18030 && enc == TextEncoding::Auto {
        warnings.push(Diagnostic::new(Location::file(file), "read as GB18030/GBK (not UTF-8)"));
    }
    Ok(Cow::Owned(text.into_bytes()))
}

/// Turns csv byte offsets into 1-based file lines, for records read in order.
struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut b = usize::try_from(byte).unwrap_or(usize::MAX).min(self.bytes.len());
        // a record's position may point at blank lines skipped before it
        while self.bytes.get(b).is_some_and(|c| *c == b'\n' || *c == b'\r') {
            b += 1;
        }
        if b >= self.pos {
            let n = self
                .bytes
                .get(self.pos..b)
                .map(|s| s.iter().filter(|&&c| c == b'\n').count())
                .unwrap_or(0);
            self.line += n as u64;
            self.pos = b;
        }
        self.line
    }
}

/// A CSV file being read record by record.
struct Reader<'a> {
    file: &'a str,
    rdr: csv::Reader<&'a [u8]>,
    lines: LineCounter<'a>,
    headers: Vec<String>,
    header_line: u64,
}

impl<'a> Reader<'a> {
    fn open(file: &'a str, text: &'a [u8]) -> Result<Reader<'a>, InputErrors> {
        let rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
        let mut r = Reader {
            file,
            rdr,
            lines: LineCounter {
                bytes: text,
                pos: 0,
                line: 1,
            },
            headers: Vec::new(),
            header_line: 1,
        };
        let mut rec = csv::ByteRecord::new();
        match r.next(&mut rec) {
            Ok(Some(line)) => {
                r.headers = rec
                    .iter()
                    .map(|f| {
                        String::from_utf8_lossy(f)
                            .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                            .to_string()
                    })
                    .collect();
                r.header_line = line;
                let mut errs = InputErrors::default();
                for (i, h) in r.headers.iter().enumerate() {
                    if h.chars().count() > MAX_CELL_CHARS {
                        errs.push(
                            Location::at(file, Some(line), format!("column {}", i + 1)),
                            format!("cell longer than {MAX_CELL_CHARS} characters"),
                        );
                    } else if !h.is_empty() && r.headers.iter().take(i).any(|x| x == h) {
                        errs.push(Location::at(file, Some(line), h.clone()), "duplicate column name in the header");
                    }
                }
                errs.into_result(r)
            }
            Ok(None) => Err(InputErrors::one(
                Location::file(file),
                "the file is empty: a header row is required",
            )),
            Err(d) => Err(d.into()),
        }
    }

    /// Reads the next non-blank record; its line.
    fn next(&mut self, rec: &mut csv::ByteRecord) -> Result<Option<u64>, Diagnostic> {
        loop {
            match self.rdr.read_byte_record(rec) {
                Ok(false) => return Ok(None),
                Ok(true) => {
                    let line = self.lines.line_at(rec.position().map(|p| p.byte()).unwrap_or(0));
                    if rec.iter().all(|f| trim(f).is_empty()) {
                        continue;
                    }
                    return Ok(Some(line));
                }
                Err(e) => {
                    let line = e.position().map(|p| self.lines.line_at(p.byte()));
                    return Err(Diagnostic::new(
                        Location {
                            file: self.file.into(),
                            line,
                            field: None,
                        },
                        format!("not valid CSV: {e}"),
                    ));
                }
            }
        }
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// A problem with a whole record that makes it unreadable: more cells than the header, a
    /// cell longer than [`MAX_CELL_CHARS`], a byte-order mark inside the file (two files
    /// pasted together), or the header row repeated.
    fn row_problem(&self, rec: &csv::ByteRecord, line: u64) -> Option<Diagnostic> {
        let ncols = self.headers.len();
        let whole = |msg: String| {
            Some(Diagnostic::new(
                Location {
                    file: self.file.into(),
                    line: Some(line),
                    field: None,
                },
                msg,
            ))
        };
        if rec.len() > ncols && rec.iter().skip(ncols).any(|f| !trim(f).is_empty()) {
            return whole(format!("row has {} cells but the header has {ncols}", rec.len()));
        }
        for (i, f) in rec.iter().enumerate() {
            if f.len() > MAX_CELL_CHARS && String::from_utf8_lossy(f).chars().count() > MAX_CELL_CHARS {
                let field = self.headers.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
                return Some(Diagnostic::new(
                    Location::at(self.file, Some(line), field),
                    format!("cell longer than {MAX_CELL_CHARS} characters"),
                ));
            }
        }
        if rec.iter().any(|f| f.windows(3).any(|w| w == [0xef, 0xbb, 0xbf])) {
            return whole("byte-order mark (U+FEFF) in the middle of the file: two files pasted together?".into());
        }
        let same = rec.len() >= ncols
            && rec
                .iter()
                .enumerate()
                .all(|(i, f)| self.headers.get(i).map(String::as_bytes).unwrap_or(b"") == trim(f));
        if same {
            return whole("the header row is repeated here".into());
        }
        None
    }

    fn require(&self, names: &[&str], errs: &mut InputErrors) -> Vec<usize> {
        let mut out = Vec::new();
        for n in names {
            match self.col(n) {
                Some(c) => out.push(c),
                None => errs.push(
                    Location::at(self.file, Some(self.header_line), *n),
                    format!("required column `{n}` is missing (columns present: {})", self.headers.join(", ")),
                ),
            }
        }
        out
    }
}

/// A trimmed UTF-8 field.
fn field(rec: &csv::ByteRecord, c: usize) -> Result<&str, ()> {
    std::str::from_utf8(trim(rec.get(c).unwrap_or(b""))).map_err(|_| ())
}

/// Reads an amount: a plain decimal fast, anything else through
/// [`crate::money::parse_number_cell`] (thousands separators, full-width digits).
/// `Err(message)` for text that is not a number, an empty cell or a negative amount.
pub fn parse_amount(b: &[u8]) -> Result<Decimal, String> {
    parse_amount_noted(b).map(|(d, _)| d)
}

/// [`parse_amount`], with the note of a normalised reading (full-width digits, a percent
/// sign) for the caller to show.
pub fn parse_amount_noted(b: &[u8]) -> Result<(Decimal, Option<String>), String> {
    let b = trim(b);
    if !b.is_empty() && b.len() <= 26 {
        let mut m: i128 = 0;
        let mut scale = 0u32;
        let mut dot = false;
        let mut ok = true;
        let mut digits = 0;
        for &c in b {
            match c {
                b'0'..=b'9' => {
                    m = m * 10 + i128::from(c - b'0');
                    digits += 1;
                    if dot {
                        scale += 1;
                    }
                }
                b'.' if !dot => dot = true,
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && digits > 0 {
            if let Ok(d) = Decimal::try_from_i128_with_scale(m, scale) {
                return Ok((d, None));
            }
        }
    }
    let s = String::from_utf8_lossy(b);
    match crate::money::parse_number_cell(&s) {
        Ok(c) => match c.value {
            Some(v) if v.is_sign_negative() && !v.is_zero() => Err(format!("amount `{s}` is negative")),
            Some(v) => Ok((v, c.note)),
            None => Err("amount is empty".into()),
        },
        Err(e) => Err(e),
    }
}

fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(b);
    h.finish()
}

/// The register, parsed.
struct Register {
    ids: Interner,
    households: Vec<Household>,
    units: Interner,
    categories: Interner,
}

fn read_register(file: &str, bytes: &[u8], enc: TextEncoding, warnings: &mut Vec<Diagnostic>) -> Result<Register, InputErrors> {
    let text = decode(file, bytes, enc, warnings)?;
    let mut r = Reader::open(file, &text)?;
    let mut errs = InputErrors::default();
    let cols = r.require(&["household_id", "unit_id", "category", "filed_on"], &mut errs);
    let (Some(&c_id), Some(&c_unit), Some(&c_cat), Some(&c_filed)) = (cols.first(), cols.get(1), cols.get(2), cols.get(3)) else {
        return Err(errs);
    };
    let c_closed = r.col("closed_on");
    let c_dibao = r.col("dibao_monthly");
    let mut p = Problems::default();
    let (mut filed_mix, mut closed_mix, mut dibao_notes) = (DateMix::default(), DateMix::default(), CellNotes::default());
    let mut reg = Register {
        ids: Interner::default(),
        households: Vec::new(),
        units: Interner::default(),
        categories: Interner::default(),
    };
    let mut first_line: Vec<u64> = Vec::new();
    let mut rec = csv::ByteRecord::new();
    loop {
        let line = match r.next(&mut rec) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(d) => {
                p.push_diag(d);
                break;
            }
        };
        if let Some(d) = r.row_problem(&rec, line) {
            p.push_diag(d);
            continue;
        }
        let name = |c: usize| r.headers.get(c).map(String::as_str).unwrap_or("");
        let mut ok = true;
        let mut text = |c: usize, p: &mut Problems| -> &str {
            match field(&rec, c) {
                Ok(s) => s,
                Err(()) => {
                    p.push(file, line, name(c), "not valid text");
                    ok = false;
                    ""
                }
            }
        };
        let id = text(c_id, &mut p);
        let unit = text(c_unit, &mut p);
        let cat = text(c_cat, &mut p);
        let filed_raw = text(c_filed, &mut p);
        let closed_raw = c_closed.map(|c| text(c, &mut p)).unwrap_or("");
        let dibao_raw = c_dibao.map(|c| text(c, &mut p)).unwrap_or("");
        if id.is_empty() {
            p.push(file, line, "household_id", "household_id is empty");
            ok = false;
        }
        if unit.is_empty() {
            p.push(file, line, "unit_id", "unit_id is empty");
            ok = false;
        }
        let filed_on = match parse_date_format(filed_raw.as_bytes()) {
            Some((d, f)) => {
                filed_mix.add(line, filed_raw.as_bytes(), d, f);
                Some(d)
            }
            None => {
                p.push(file, line, "filed_on", why_not_a_date(filed_raw.as_bytes()));
                ok = false;
                None
            }
        };
        let closed_on = if closed_raw.is_empty() {
            None
        } else {
            match parse_date_format(closed_raw.as_bytes()) {
                Some((d, f)) => {
                    closed_mix.add(line, closed_raw.as_bytes(), d, f);
                    Some(d)
                }
                None => {
                    p.push(
                        file,
                        line,
                        "closed_on",
                        format!("{}; leave it empty while the file is open", why_not_a_date(closed_raw.as_bytes())),
                    );
                    ok = false;
                    None
                }
            }
        };
        if let (Some(f), Some(c)) = (filed_on, closed_on) {
            if c < f {
                p.push(file, line, "closed_on", format!("closed on {c}, before it was filed on {f}"));
                ok = false;
            }
        }
        let dibao = if dibao_raw.is_empty() {
            None
        } else {
            match parse_amount_noted(dibao_raw.as_bytes()) {
                Ok((d, note)) => {
                    if let Some(n) = note {
                        dibao_notes.push(file, line, "dibao_monthly", format!("`{dibao_raw}` read as {d}: {n}"));
                    }
                    Some(d)
                }
                Err(e) => {
                    p.push(file, line, "dibao_monthly", e);
                    ok = false;
                    None
                }
            }
        };
        if !id.is_empty() {
            if let Some(prev) = reg.ids.get(id) {
                let pl = first_line.get(prev as usize).copied().unwrap_or(0);
                p.push(
                    file,
                    line,
                    "household_id",
                    format!("household `{id}` appears twice (first on line {pl})"),
                );
                continue;
            }
        }
        if !ok {
            continue;
        }
        let (Some(filed_on), uid, cid) = (filed_on, reg.units.intern(unit), reg.categories.intern(cat)) else {
            continue;
        };
        reg.ids.intern(id);
        first_line.push(line);
        reg.households.push(Household {
            unit: uid,
            category: cid,
            filed_on,
            closed_on,
            dibao,
        });
    }
    if !p.is_empty() {
        return Err(p.into_errors(file));
    }
    filed_mix.finish(file, "filed_on", warnings);
    closed_mix.finish(file, "closed_on", warnings);
    dibao_notes.finish(file, "dibao_monthly", warnings);
    Ok(reg)
}

/// The ledger, parsed.
struct Ledger {
    payments: Vec<Payment>,
    /// Payment ids, concatenated; `id_end[i]` is the end of payment `i`'s id.
    id_arena: Vec<u8>,
    id_end: Vec<u32>,
    kinds: Interner,
}

impl Ledger {
    fn id(&self, i: usize) -> &[u8] {
        let end = self.id_end.get(i).copied().unwrap_or(0) as usize;
        let start = if i == 0 {
            0
        } else {
            self.id_end.get(i - 1).copied().unwrap_or(0) as usize
        };
        self.id_arena.get(start..end).unwrap_or(&[])
    }
}

fn read_ledger(
    file: &str,
    bytes: &[u8],
    reg: &mut Register,
    enc: TextEncoding,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Ledger, InputErrors> {
    let text = decode(file, bytes, enc, warnings)?;
    let mut r = Reader::open(file, &text)?;
    let mut errs = InputErrors::default();
    let names = ["payment_id", "household_id", "unit_id", "date", "kind", "amount"];
    let cols = r.require(&names, &mut errs);
    let [c_pid, c_hh, c_unit, c_date, c_kind, c_amount] = cols.as_slice() else {
        return Err(errs);
    };
    let (c_pid, c_hh, c_unit, c_date, c_kind, c_amount) = (*c_pid, *c_hh, *c_unit, *c_date, *c_kind, *c_amount);
    let (mut date_mix, mut amount_notes) = (DateMix::default(), CellNotes::default());
    let estimate = text.len() / 48;
    let mut led = Ledger {
        payments: Vec::with_capacity(estimate),
        id_arena: Vec::with_capacity(estimate * 10),
        id_end: Vec::with_capacity(estimate),
        kinds: Interner::default(),
    };
    let mut hashes: Vec<(u64, u32)> = Vec::with_capacity(estimate);
    let mut p = Problems::default();
    let mut rec = csv::ByteRecord::new();
    // a ledger is usually grouped by unit: remember the last unit seen
    let mut last_unit: (Vec<u8>, u32) = (Vec::new(), 0);
    loop {
        let line = match r.next(&mut rec) {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(d) => {
                p.push_diag(d);
                break;
            }
        };
        if let Some(d) = r.row_problem(&rec, line) {
            p.push_diag(d);
            continue;
        }
        let mut ok = true;
        let pid = trim(rec.get(c_pid).unwrap_or(b""));
        if pid.is_empty() {
            p.push(file, line, "payment_id", "payment_id is empty");
            ok = false;
        }
        let hh = match field(&rec, c_hh) {
            Ok("") => {
                p.push(file, line, "household_id", "household_id is empty");
                ok = false;
                None
            }
            Ok(s) => Some(s),
            Err(()) => {
                p.push(file, line, "household_id", "not valid text");
                ok = false;
                None
            }
        };
        let unit_b = trim(rec.get(c_unit).unwrap_or(b""));
        if unit_b.is_empty() {
            p.push(file, line, "unit_id", "unit_id is empty");
            ok = false;
        }
        let date_raw = rec.get(c_date).unwrap_or(b"");
        let date = match parse_date_format(date_raw) {
            Some((d, f)) => {
                date_mix.add(line, date_raw, d, f);
                Some(d)
            }
            None => {
                p.push(file, line, "date", why_not_a_date(date_raw));
                ok = false;
                None
            }
        };
        let kind = match field(&rec, c_kind) {
            Ok("") => {
                p.push(file, line, "kind", "kind is empty");
                ok = false;
                None
            }
            Ok(s) => Some(s),
            Err(()) => {
                p.push(file, line, "kind", "not valid text");
                ok = false;
                None
            }
        };
        let amount = match parse_amount_noted(rec.get(c_amount).unwrap_or(b"")) {
            Ok((a, note)) => {
                if let Some(n) = note {
                    let raw = String::from_utf8_lossy(trim(rec.get(c_amount).unwrap_or(b""))).into_owned();
                    amount_notes.push(file, line, "amount", format!("`{raw}` read as {a}: {n}"));
                }
                Some(a)
            }
            Err(e) => {
                p.push(file, line, "amount", e);
                ok = false;
                None
            }
        };
        let (true, Some(hh), Some(date), Some(kind), Some(amount)) = (ok, hh, date, kind, amount) else {
            continue;
        };
        let unit = if unit_b == last_unit.0.as_slice() {
            last_unit.1
        } else {
            let Ok(u) = std::str::from_utf8(unit_b) else {
                p.push(file, line, "unit_id", "not valid text");
                continue;
            };
            let id = reg.units.intern(u);
            last_unit = (unit_b.to_vec(), id);
            id
        };
        let hh = reg.ids.intern(hh);
        let kind = led.kinds.intern(kind);
        let Ok(line32) = u32::try_from(line) else {
            p.push(file, line, "", "too many lines");
            break;
        };
        let idx = u32::try_from(led.payments.len()).unwrap_or(u32::MAX);
        hashes.push((hash_bytes(pid), idx));
        led.id_arena.extend_from_slice(pid);
        led.id_end.push(u32::try_from(led.id_arena.len()).unwrap_or(u32::MAX));
        led.payments.push(Payment {
            line: line32,
            hh,
            unit,
            date,
            kind,
            amount,
        });
    }
    // duplicate payment ids: sort the hashes, compare the ids of equal hashes
    hashes.par_sort_unstable();
    let mut i = 0;
    while i < hashes.len() {
        let mut j = i + 1;
        while hashes.get(j).map(|x| x.0) == hashes.get(i).map(|x| x.0) {
            j += 1;
        }
        if j - i > 1 {
            let mut run: Vec<u32> = hashes.get(i..j).map(|s| s.iter().map(|x| x.1).collect()).unwrap_or_default();
            run.sort_by(|&a, &b| led.id(a as usize).cmp(led.id(b as usize)).then(a.cmp(&b)));
            for w in run.windows(2) {
                if let [a, b] = *w {
                    if led.id(a as usize) == led.id(b as usize) {
                        let first = run
                            .iter()
                            .find(|&&x| led.id(x as usize) == led.id(b as usize))
                            .copied()
                            .unwrap_or(a);
                        let l1 = led.payments.get(first as usize).map(|x| x.line).unwrap_or(0);
                        let l2 = led.payments.get(b as usize).map(|x| x.line).unwrap_or(0);
                        p.push(
                            file,
                            u64::from(l2),
                            "payment_id",
                            format!(
                                "payment id `{}` is used twice (first on line {l1})",
                                String::from_utf8_lossy(led.id(b as usize))
                            ),
                        );
                    }
                }
            }
        }
        i = j;
    }
    if !p.is_empty() {
        return Err(p.into_errors(file));
    }
    date_mix.finish(file, "date", warnings);
    amount_notes.finish(file, "amount", warnings);
    Ok(led)
}

/// A hit before ids are turned back into text.
struct RawHit {
    check: Check,
    hh: Option<u32>,
    unit: u32,
    kind: u32,
    period: String,
    amount: Decimal,
    limit: Option<Decimal>,
    excess: Option<Decimal>,
    note: String,
    of: Option<usize>,
    rows: Vec<u32>,
}

/// Makes a hit: check, rows, period, limit, excess, note.
type HitFn<'a> = dyn Fn(Check, Vec<u32>, String, Option<Decimal>, Option<Decimal>, String) -> RawHit + 'a;

/// Per-kind flags, indexed by kind id.
struct KindInfo {
    living: Vec<bool>,
    warmth: Vec<bool>,
    allowed: Vec<bool>,
    dup: Vec<bool>,
    flat: Vec<bool>,
}

fn flag(v: &[bool], k: u32) -> bool {
    v.get(k as usize).copied().unwrap_or(false)
}

fn sum_of(led: &Ledger, rows: &[u32]) -> Decimal {
    rows.iter()
        .filter_map(|&i| led.payments.get(i as usize))
        .fold(Decimal::ZERO, |a, p| a.checked_add(p.amount).unwrap_or(Decimal::MAX))
}

/// Checks one household's payments (`idx` sorted by date, then ledger order).
fn household_hits(hh: u32, idx: &[u32], led: &Ledger, reg: &Register, rules: &PaymentRules, ki: &KindInfo, cats: &[&str]) -> Vec<RawHit> {
    let on = |c: Check| rules.checks.contains(&c);
    let pay = |i: u32| led.payments.get(i as usize);
    let Some(first) = idx.first().and_then(|&i| pay(i)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let hit = |check: Check, rows: Vec<u32>, period: String, limit: Option<Decimal>, excess: Option<Decimal>, note: String| {
        let p0 = rows.first().and_then(|&i| pay(i));
        RawHit {
            check,
            hh: Some(hh),
            unit: p0.map(|p| p.unit).unwrap_or(first.unit),
            kind: p0.map(|p| p.kind).unwrap_or(first.kind),
            period,
            amount: sum_of(led, &rows),
            limit,
            excess,
            note,
            of: None,
            rows,
        }
    };
    let household = reg.households.get(hh as usize);
    let Some(h) = household else {
        if on(Check::Unfiled) {
            let p_last = idx.last().and_then(|&i| pay(i)).map(|p| p.date).unwrap_or(first.date);
            let period = if first.date == p_last {
                first.date.to_string()
            } else {
                format!("{}..{}", first.date, p_last)
            };
            out.push(hit(Check::Unfiled, idx.to_vec(), period, None, None, String::new()));
        }
        // the remaining checks need no register entry
        per_payment_and_groups(idx, led, None, rules, ki, cats, &mut out, &hit);
        return out;
    };
    for &i in idx {
        let Some(p) = pay(i) else { continue };
        if on(Check::BeforeFiling) && p.date < h.filed_on {
            out.push(hit(Check::BeforeFiling, vec![i], p.date.to_string(), None, None, String::new()));
        }
        if on(Check::AfterClosing) && h.closed_on.is_some_and(|c| p.date > c) {
            out.push(hit(Check::AfterClosing, vec![i], p.date.to_string(), None, None, String::new()));
        }
        if on(Check::UnitMismatch) && p.unit != h.unit {
            out.push(hit(Check::UnitMismatch, vec![i], p.date.to_string(), None, None, String::new()));
        }
    }
    per_payment_and_groups(idx, led, Some(h), rules, ki, cats, &mut out, &hit);
    out
}

#[allow(clippy::too_many_arguments)]
fn per_payment_and_groups(
    idx: &[u32],
    led: &Ledger,
    h: Option<&Household>,
    rules: &PaymentRules,
    ki: &KindInfo,
    cats: &[&str],
    out: &mut Vec<RawHit>,
    hit: &HitFn<'_>,
) {
    let on = |c: Check| rules.checks.contains(&c);
    let pay = |i: u32| led.payments.get(i as usize);
    for &i in idx {
        let Some(p) = pay(i) else { continue };
        if on(Check::WarmthVisit) && flag(&ki.warmth, p.kind) && p.amount > rules.warmth_per_visit {
            let excess = p.amount.checked_sub(rules.warmth_per_visit);
            out.push(hit(
                Check::WarmthVisit,
                vec![i],
                p.date.to_string(),
                Some(rules.warmth_per_visit),
                excess,
                String::new(),
            ));
        }
        if on(Check::Scope) && !flag(&ki.allowed, p.kind) {
            out.push(hit(Check::Scope, vec![i], p.date.to_string(), None, None, String::new()));
        }
    }
    // yearly caps: idx is sorted by date, so a year's payments are contiguous
    let living_cap = h.and_then(|h| {
        let months = rules.months_for(cats.get(h.category as usize).copied().unwrap_or(""));
        h.dibao.and_then(|d| d.checked_mul(months))
    });
    let mut start = 0;
    while start < idx.len() {
        let year = idx.get(start).and_then(|&i| pay(i)).map(|p| p.date.year()).unwrap_or(0);
        let mut end = start;
        while idx.get(end).and_then(|&i| pay(i)).is_some_and(|p| p.date.year() == year) {
            end += 1;
        }
        let slice = idx.get(start..end).unwrap_or(&[]);
        if on(Check::LivingCap) {
            if let Some(cap) = living_cap {
                let rows: Vec<u32> = slice
                    .iter()
                    .copied()
                    .filter(|&i| pay(i).is_some_and(|p| flag(&ki.living, p.kind)))
                    .collect();
                let total = sum_of(led, &rows);
                if !rows.is_empty() && total > cap {
                    out.push(hit(
                        Check::LivingCap,
                        rows,
                        year.to_string(),
                        Some(cap),
                        total.checked_sub(cap),
                        String::new(),
                    ));
                }
            }
        }
        if on(Check::WarmthYear) {
            let rows: Vec<u32> = slice
                .iter()
                .copied()
                .filter(|&i| pay(i).is_some_and(|p| flag(&ki.warmth, p.kind)))
                .collect();
            let total = sum_of(led, &rows);
            if !rows.is_empty() && total > rules.warmth_per_year {
                let cap = rules.warmth_per_year;
                out.push(hit(
                    Check::WarmthYear,
                    rows,
                    year.to_string(),
                    Some(cap),
                    total.checked_sub(cap),
                    String::new(),
                ));
            }
        }
        start = end.max(start + 1);
    }
    if on(Check::Duplicate) {
        let per = rules.duplicate_period;
        let mut keyed: Vec<(u32, u32, u32)> = idx
            .iter()
            .filter_map(|&i| pay(i).filter(|p| flag(&ki.dup, p.kind)).map(|p| (p.kind, per.key(p.date), i)))
            .collect();
        if keyed.len() > 1 {
            keyed.sort_unstable();
            let mut s = 0;
            while s < keyed.len() {
                let k = keyed.get(s).map(|x| (x.0, x.1));
                let mut e = s;
                while keyed.get(e).map(|x| (x.0, x.1)) == k {
                    e += 1;
                }
                if e - s > 1 {
                    let mut rows: Vec<u32> = keyed.get(s..e).map(|r| r.iter().map(|x| x.2).collect()).unwrap_or_default();
                    rows.sort_by_key(|&i| pay(i).map(|p| (p.date, p.line)));
                    let first_amt = rows.first().and_then(|&i| pay(i)).map(|p| p.amount).unwrap_or_default();
                    let total = sum_of(led, &rows);
                    let label = rows.first().and_then(|&i| pay(i)).map(|p| per.label(p.date)).unwrap_or_default();
                    out.push(hit(
                        Check::Duplicate,
                        rows,
                        label,
                        None,
                        total.checked_sub(first_amt),
                        String::new(),
                    ));
                }
                s = e.max(s + 1);
            }
        }
    }
}

/// Runs the payment checks of `rules` on the ledger and register.
///
/// Returns every hit with its ledger rows, or every input problem found (capped at
/// [`MAX_PROBLEMS`]) naming file, line and field.
pub fn check_payments(input: &LedgerInput<'_>, rules: &PaymentRules) -> Result<PaymentReport, InputErrors> {
    check_payments_as(input, rules, TextEncoding::Auto)
}

/// [`check_payments`] with the encoding declared for the scenario's CSV files
/// (`[data] encoding`).
pub fn check_payments_as(input: &LedgerInput<'_>, rules: &PaymentRules, enc: TextEncoding) -> Result<PaymentReport, InputErrors> {
    let mut warnings = Vec::new();
    let reg = read_register(input.households_file, input.households, enc, &mut warnings);
    // both files are read before giving up, so every problem is reported in one pass
    let mut reg = match reg {
        Ok(r) => r,
        Err(mut e) => {
            let mut scratch = Register {
                ids: Interner::default(),
                households: Vec::new(),
                units: Interner::default(),
                categories: Interner::default(),
            };
            if let Err(e2) = read_ledger(input.payments_file, input.payments, &mut scratch, enc, &mut Vec::new()) {
                e.extend(e2);
            }
            return Err(e);
        }
    };
    let n_reg = reg.households.len();
    let led = read_ledger(input.payments_file, input.payments, &mut reg, enc, &mut warnings)?;
    let kind_names = led.kinds.names();
    let has = |list: &[String], k: &str| list.iter().any(|x| x == k);
    let ki = KindInfo {
        living: kind_names.iter().map(|k| has(&rules.living_kinds, k)).collect(),
        warmth: kind_names.iter().map(|k| has(&rules.warmth_kinds, k)).collect(),
        allowed: kind_names.iter().map(|k| has(&rules.allowed_kinds, k)).collect(),
        dup: kind_names
            .iter()
            .map(|k| rules.duplicate_kinds.as_ref().is_none_or(|l| has(l, k)))
            .collect(),
        flat: kind_names.iter().map(|k| has(&rules.flat_kinds, k)).collect(),
    };
    let cat_names = reg.categories.names();

    // group by household, each group by date then ledger order
    let mut order: Vec<(u32, Date, u32)> = led.payments.iter().enumerate().map(|(i, p)| (p.hh, p.date, i as u32)).collect();
    order.par_sort_unstable();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut s = 0;
    while s < order.len() {
        let hh = order.get(s).map(|x| x.0);
        let mut e = s + 1;
        while order.get(e).map(|x| x.0) == hh {
            e += 1;
        }
        groups.push((s, e));
        s = e;
    }
    let idx_sorted: Vec<u32> = order.iter().map(|x| x.2).collect();
    let hh_of: Vec<u32> = order.iter().map(|x| x.0).collect();
    drop(order);
    let mut raw: Vec<RawHit> = groups
        .par_iter()
        .flat_map_iter(|&(s, e)| {
            let hh = hh_of.get(s).copied().unwrap_or(0);
            let idx = idx_sorted.get(s..e).unwrap_or(&[]);
            household_hits(hh, idx, &led, &reg, rules, &ki, &cat_names)
        })
        .collect();
    drop(idx_sorted);
    drop(hh_of);

    if rules.checks.contains(&Check::Flat) {
        raw.extend(flat_hits(&led, &reg, rules, &ki, &cat_names));
    }

    // examined counts
    let mut examined = [0usize; Check::ALL.len()];
    let slot = |c: Check| Check::ALL.iter().position(|x| *x == c).unwrap_or(0);
    let (s_unf, s_scope, s_before, s_after, s_unit, s_living, s_wv, s_wy, s_dup, s_flat) = (
        slot(Check::Unfiled),
        slot(Check::Scope),
        slot(Check::BeforeFiling),
        slot(Check::AfterClosing),
        slot(Check::UnitMismatch),
        slot(Check::LivingCap),
        slot(Check::WarmthVisit),
        slot(Check::WarmthYear),
        slot(Check::Duplicate),
        slot(Check::Flat),
    );
    let mut total_amount = Decimal::ZERO;
    for p in &led.payments {
        total_amount = total_amount.checked_add(p.amount).unwrap_or(Decimal::MAX);
        let filed = usize::from((p.hh as usize) < n_reg);
        let warmth = usize::from(flag(&ki.warmth, p.kind));
        let mut add = |s: usize, n: usize| {
            if let Some(x) = examined.get_mut(s) {
                *x += n;
            }
        };
        add(s_unf, 1);
        add(s_scope, 1);
        add(s_before, filed);
        add(s_after, filed);
        add(s_unit, filed);
        add(s_living, filed * usize::from(flag(&ki.living, p.kind)));
        add(s_wv, warmth);
        add(s_wy, warmth);
        add(s_dup, usize::from(flag(&ki.dup, p.kind)));
        add(s_flat, usize::from(flag(&ki.flat, p.kind)));
    }

    // back to text
    let hh_names = reg.ids.names();
    let unit_names = reg.units.names();
    let name = |v: &[&str], i: u32| v.get(i as usize).copied().unwrap_or("").to_string();
    let mut hits: Vec<PaymentHit> = raw
        .into_iter()
        .map(|r| {
            let h = r.hh.and_then(|i| reg.households.get(i as usize));
            let note = if r.check == Check::UnitMismatch {
                h.map(|h| name(&unit_names, h.unit)).unwrap_or_default()
            } else {
                r.note
            };
            PaymentHit {
                check: r.check,
                unit_id: name(&unit_names, r.unit),
                household_id: r.hh.map(|i| name(&hh_names, i)).unwrap_or_default(),
                category: h.map(|h| name(&cat_names, h.category)).unwrap_or_default(),
                kind: name(&kind_names, r.kind),
                period: r.period,
                amount: r.amount,
                limit: r.limit,
                excess: r.excess,
                filed_on: h.map(|h| h.filed_on),
                closed_on: h.and_then(|h| h.closed_on),
                note,
                of: r.of,
                rows: r
                    .rows
                    .iter()
                    .filter_map(|&i| {
                        led.payments.get(i as usize).map(|p| HitRow {
                            line: u64::from(p.line),
                            payment_id: String::from_utf8_lossy(led.id(i as usize)).into_owned(),
                            date: p.date,
                            kind: name(&kind_names, p.kind),
                            amount: p.amount,
                        })
                    })
                    .collect(),
            }
        })
        .collect();
    let rank = |c: Check| Check::ALL.iter().position(|x| *x == c).unwrap_or(usize::MAX);
    hits.sort_by(|a, b| {
        rank(a.check)
            .cmp(&rank(b.check))
            .then(a.rows.first().map(|r| r.line).cmp(&b.rows.first().map(|r| r.line)))
            .then(a.household_id.cmp(&b.household_id))
    });
    let summary = Check::ALL
        .iter()
        .filter(|c| rules.checks.contains(c))
        .map(|&c| {
            let mine: Vec<&PaymentHit> = hits.iter().filter(|h| h.check == c).collect();
            CheckSummary {
                check: c,
                examined: examined.get(slot(c)).copied().unwrap_or(0),
                hits: mine.len(),
                amount: mine
                    .iter()
                    .fold(Decimal::ZERO, |a, h| a.checked_add(h.at_stake()).unwrap_or(Decimal::MAX)),
            }
        })
        .collect();
    Ok(PaymentReport {
        payments_file: input.payments_file.to_string(),
        households_file: input.households_file.to_string(),
        payments: led.payments.len(),
        total_amount,
        households: n_reg,
        hits,
        summary,
        rules: rules.clone(),
        warnings,
    })
}

/// The flat-payment check (see the module documentation).
fn flat_hits(led: &Ledger, reg: &Register, rules: &PaymentRules, ki: &KindInfo, cats: &[&str]) -> Vec<RawHit> {
    #[derive(Default)]
    struct Acc {
        n: usize,
        counts: HashMap<Decimal, usize, FxBuild>,
    }
    let mut groups: HashMap<(u32, u32), Acc, FxBuild> = HashMap::default();
    for p in &led.payments {
        if !flag(&ki.flat, p.kind) {
            continue;
        }
        let acc = groups.entry((p.unit, p.kind)).or_default();
        acc.n += 1;
        *acc.counts.entry(p.amount.normalize()).or_insert(0) += 1;
    }
    // candidate groups: (unit, kind) → (modal amount, count, n)
    let mut cand: HashMap<(u32, u32), (Decimal, usize), FxBuild> = HashMap::default();
    for (key, acc) in &groups {
        if acc.n < rules.flat_min_payments {
            continue;
        }
        let Some((amount, count)) = acc
            .counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(a, c)| (*a, *c))
        else {
            continue;
        };
        let need = rules.flat_share.checked_mul(Decimal::from(acc.n)).unwrap_or(Decimal::MAX);
        if Decimal::from(count) >= need {
            cand.insert(*key, (amount, acc.n));
        }
    }
    if cand.is_empty() {
        return Vec::new();
    }
    type FlatRows = HashMap<(u32, u32), (Vec<u32>, BTreeSet<u32>), FxBuild>;
    let mut rows: FlatRows = HashMap::default();
    for (i, p) in led.payments.iter().enumerate() {
        if let Some((amount, _)) = cand.get(&(p.unit, p.kind)) {
            if p.amount == *amount {
                let e = rows.entry((p.unit, p.kind)).or_default();
                e.0.push(i as u32);
                if let Some(h) = reg.households.get(p.hh as usize) {
                    e.1.insert(h.category);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (key, (amount, n)) in cand {
        let Some((idx, cset)) = rows.remove(&key) else { continue };
        if cset.len() < rules.flat_min_categories {
            continue;
        }
        let mut names: Vec<&str> = cset.iter().map(|&c| cats.get(c as usize).copied().unwrap_or("")).collect();
        names.sort_unstable();
        let (first, last) = (
            idx.iter().filter_map(|&i| led.payments.get(i as usize)).map(|p| p.date).min(),
            idx.iter().filter_map(|&i| led.payments.get(i as usize)).map(|p| p.date).max(),
        );
        let period = match (first, last) {
            (Some(a), Some(b)) if a.year() == b.year() => a.year().to_string(),
            (Some(a), Some(b)) => format!("{}..{}", a.year(), b.year()),
            _ => String::new(),
        };
        out.push(RawHit {
            check: Check::Flat,
            hh: None,
            unit: key.0,
            kind: key.1,
            period,
            amount: sum_of(led, &idx),
            limit: Some(amount),
            excess: None,
            note: names.join(";"),
            of: Some(n),
            rows: idx,
        });
    }
    out
}

/// `payments_check.csv`: one row per hit —
/// `check,unit_id,household_id,category,kind,period,rows,of,amount,limit,excess,at_stake,filed_on,closed_on,note,lines,payment_ids`
/// (`lines` and `payment_ids` are `;`-separated, in the same order).
pub fn payments_table(r: &PaymentReport) -> crate::output::OutTable {
    use crate::output::dec;
    let mut t = crate::output::OutTable::new(
        "payments_check.csv",
        &[
            "check",
            "unit_id",
            "household_id",
            "category",
            "kind",
            "period",
            "rows",
            "of",
            "amount",
            "limit",
            "excess",
            "at_stake",
            "filed_on",
            "closed_on",
            "note",
            "lines",
            "payment_ids",
        ],
    );
    for h in &r.hits {
        t.rows.push(vec![
            h.check.key().to_string(),
            h.unit_id.clone(),
            h.household_id.clone(),
            h.category.clone(),
            h.kind.clone(),
            h.period.clone(),
            h.rows.len().to_string(),
            h.of.map(|n| n.to_string()).unwrap_or_default(),
            dec(h.amount),
            h.limit.map(dec).unwrap_or_default(),
            h.excess.map(dec).unwrap_or_default(),
            dec(h.at_stake()),
            h.filed_on.map(|d| d.to_string()).unwrap_or_default(),
            h.closed_on.map(|d| d.to_string()).unwrap_or_default(),
            h.note.clone(),
            h.rows.iter().map(|x| x.line.to_string()).collect::<Vec<_>>().join(";"),
            h.rows.iter().map(|x| x.payment_id.as_str()).collect::<Vec<_>>().join(";"),
        ]);
    }
    t
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const REG: &str = "household_id,unit_id,category,filed_on,closed_on,dibao_monthly
H01,A,deep,2019-01-01,,500
H02,A,relative,2019-01-01,,500
H03,A,deep,2019-03-01,,500
H04,B,relative,2018-06-01,2019-06-30,600
H05,B,deep,2018-06-01,,600
H06,C,deep,2019-01-01,,450
H07,C,relative,2019-01-01,,450
H08,C,deep,2019-01-01,,450
H09,C,relative,2019-01-01,,450
";

    /// Line 2.. of the ledger; the comment says which check each row plants (none = clean).
    const LED: &str = "payment_id,household_id,unit_id,date,kind,amount
P001,H01,A,2019-01-15,living,2000
P002,H01,A,2019/05/15,living,2000
P003,H01,A,20190915,living,1500
P004,H02,A,2019年2月10日,living,1200
P005,H02,A,2019-02-20,living,800
P006,H03,A,2019-02-01,living,1000
P007,H03,A,2019-04-01,living,1000
P008,H04,B,2019-05-01,living,1500
P009,H04,B,2019-08-01,living,1500
P010,H05,B,2019-01-20,warmth,3500
P011,H05,B,2019-06-20,warmth,3000
P012,H99,B,2019-03-03,living,900
P013,H05,B,2019-04-04,banquet,2000
P014,H06,C,2019-03-10,living,300
P015,H07,C,2019-03-10,living,300
P016,H08,C,2019-03-10,living,300
P017,H09,C,2019-03-10,living,300
P018,H06,C,2019-06-10,living,300
P019,H02,A,2019-07-01,education,1000
";

    fn rules() -> PaymentRules {
        let mut r = PaymentRules::default();
        r.tier_months.insert("deep".into(), Decimal::from(10));
        r.tier_months.insert("relative".into(), Decimal::from(8));
        r.flat_min_payments = 5;
        r
    }

    fn run(reg: &str, led: &str, rules: &PaymentRules) -> Result<PaymentReport, InputErrors> {
        check_payments(
            &LedgerInput {
                payments_file: "payments.csv",
                payments: led.as_bytes(),
                households_file: "households.csv",
                households: reg.as_bytes(),
            },
            rules,
        )
    }

    fn hits(r: &PaymentReport, c: Check) -> Vec<(Vec<u64>, Decimal)> {
        r.hits
            .iter()
            .filter(|h| h.check == c)
            .map(|h| (h.rows.iter().map(|x| x.line).collect(), h.at_stake()))
            .collect()
    }

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    #[test]
    fn every_check_hits_exactly_the_planted_rows() {
        let r = run(REG, LED, &rules()).unwrap();
        assert_eq!(r.payments, 19);
        assert_eq!(r.households, 9);
        assert_eq!(hits(&r, Check::Unfiled), vec![(vec![13], d(900))]);
        assert_eq!(hits(&r, Check::BeforeFiling), vec![(vec![7], d(1000))]);
        assert_eq!(hits(&r, Check::AfterClosing), vec![(vec![10], d(1500))]);
        assert_eq!(hits(&r, Check::LivingCap), vec![(vec![2, 3, 4], d(500))]);
        assert_eq!(hits(&r, Check::WarmthVisit), vec![(vec![11], d(500))]);
        assert_eq!(hits(&r, Check::WarmthYear), vec![(vec![11, 12], d(500))]);
        assert_eq!(hits(&r, Check::Duplicate), vec![(vec![5, 6], d(800))]);
        assert_eq!(hits(&r, Check::Flat), vec![(vec![15, 16, 17, 18, 19], d(1500))]);
        assert_eq!(hits(&r, Check::Scope), vec![(vec![14], d(2000))]);
        assert!(hits(&r, Check::UnitMismatch).is_empty(), "off by default");
        assert_eq!(r.hits.len(), 9);
        let cap = r.hits.iter().find(|h| h.check == Check::LivingCap).unwrap();
        assert_eq!(
            (cap.limit, cap.amount, cap.category.as_str(), cap.period.as_str()),
            (Some(d(5000)), d(5500), "deep", "2019")
        );
        let flat = r.hits.iter().find(|h| h.check == Check::Flat).unwrap();
        assert_eq!(
            (flat.unit_id.as_str(), flat.limit, flat.of, flat.note.as_str()),
            ("C", Some(d(300)), Some(5), "deep;relative")
        );
    }

    #[test]
    fn a_clean_ledger_has_no_hits() {
        let clean: String = LED
            .lines()
            .enumerate()
            .filter(|(i, _)| ![4, 6, 7, 10, 11, 13, 14, 18, 19].contains(&(i + 1)))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let r = run(REG, &clean, &rules()).unwrap();
        assert!(r.hits.is_empty(), "{:#?}", r.hits);
        assert!(r.summary.iter().all(|s| s.hits == 0));
    }

    #[test]
    fn checks_follow_the_configuration() {
        // without tiers the deep household's 5,500 is under 12 × 500
        let mut r0 = rules();
        r0.tier_months.clear();
        assert!(hits(&run(REG, LED, &r0).unwrap(), Check::LivingCap).is_empty());
        // a yearly duplicate period catches the March and June payments of H06 too
        let mut r1 = rules();
        r1.duplicate_period = super::super::Period::Year;
        let dup = hits(&run(REG, LED, &r1).unwrap(), Check::Duplicate);
        assert!(dup.contains(&(vec![15, 19], d(300))), "{dup:?}");
        // a quarter: H02's two February payments only
        r1.duplicate_period = super::super::Period::Quarter;
        assert_eq!(hits(&run(REG, LED, &r1).unwrap(), Check::Duplicate), vec![(vec![5, 6], d(800))]);
        // switched off
        let mut r2 = rules();
        r2.checks.remove(&Check::Flat);
        r2.checks.insert(Check::UnitMismatch);
        let r = run(REG, LED, &r2).unwrap();
        assert!(hits(&r, Check::Flat).is_empty());
        assert!(r.summary.iter().all(|s| s.check != Check::Flat));
        assert!(hits(&r, Check::UnitMismatch).is_empty());
        let moved = LED.replace("P019,H02,A", "P019,H02,B");
        assert_eq!(
            hits(&run(REG, &moved, &r2).unwrap(), Check::UnitMismatch),
            vec![(vec![20], d(1000))]
        );
        // flat needs several categories: one category only is not a finding
        let one_cat = REG.replace("H07,C,relative", "H07,C,deep").replace("H09,C,relative", "H09,C,deep");
        assert!(hits(&run(&one_cat, LED, &rules()).unwrap(), Check::Flat).is_empty());
        // and most payments: below the share it is not flat
        let mut r3 = rules();
        r3.flat_share = Decimal::ONE;
        let varied = LED.replace("P018,H06,C,2019-06-10,living,300", "P018,H06,C,2019-06-10,living,350");
        assert!(hits(&run(REG, &varied, &r3).unwrap(), Check::Flat).is_empty());
    }

    #[test]
    fn dates_in_every_accepted_format_and_bad_ones_with_location() {
        let led = "payment_id,household_id,unit_id,date,kind,amount\nA,H01,A,2019-03-05,living,1\nB,H01,A,2019/03/06,living,1\nC,H01,A,20190307,living,1\nD,H01,A,2019年3月8日,living,1\n";
        let mut r = rules();
        r.checks.clear();
        let rep = run(REG, led, &r).unwrap();
        assert_eq!(rep.payments, 4);
        // four formats, one cell each: the first is taken as the column's own, the others named
        let w: Vec<String> = rep.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            w,
            [
                "payments.csv:3: field `date`: `2019/03/06` read as 2019-03-06 (the column mostly writes dates as YYYY-MM-DD)",
                "payments.csv:4: field `date`: `20190307` read as 2019-03-07 (the column mostly writes dates as YYYY-MM-DD)",
                "payments.csv:5: field `date`: `2019年3月8日` read as 2019-03-08 (the column mostly writes dates as YYYY-MM-DD)",
                "payments.csv: field `date`: dates in 4 formats (YYYY-MM-DD ×1, YYYY/MM/DD ×1, YYYYMMDD ×1, YYYY年M月D日 ×1): each read as the calendar day it names",
            ]
        );
        // one format throughout (whatever it is) is no news
        let slashes = led
            .replace("2019-03-05", "2019/3/5")
            .replace("20190307", "2019/3/7")
            .replace("2019年3月8日", "2019/03/08");
        assert!(run(REG, &slashes, &r).unwrap().warnings.is_empty());
        let bad = "payment_id,household_id,unit_id,date,kind,amount\nA,H01,A,2019-03-05,living,1\nB,H01,A,05/03/2019,living,1\nC,H01,A,2019-02-30,living,1\n";
        let e = run(REG, bad, &r).unwrap_err().to_string();
        assert!(
            e.contains("payments.csv:3: field `date`: `05/03/2019` is not a date: ambiguous"),
            "{e}"
        );
        assert!(e.contains("payments.csv:4: field `date`"), "{e}");
        let bad_reg = REG.replace("H03,A,deep,2019-03-01", "H03,A,deep,March 2019");
        let e = run(&bad_reg, LED, &r).unwrap_err().to_string();
        assert!(e.contains("households.csv:4: field `filed_on`"), "{e}");
    }

    #[test]
    fn bad_amounts_and_duplicate_ids_are_located() {
        let mut r = rules();
        r.checks.clear();
        let led = LED.replace("P003,H01,A,20190915,living,1500", "P003,H01,A,20190915,living,15O0");
        let e = run(REG, &led, &r).unwrap_err().to_string();
        assert!(e.contains("payments.csv:4: field `amount`"), "{e}");
        let led = LED.replace("P005,", "P001,").replace("P009,", "P001,");
        let e = run(REG, &led, &r).unwrap_err().to_string();
        assert!(
            e.contains("payments.csv:6: field `payment_id`: payment id `P001` is used twice (first on line 2)"),
            "{e}"
        );
        assert!(e.contains("payments.csv:10: field `payment_id`"), "{e}");
        let led = LED.replace("P004,H02,A,2019年2月10日,living,1200", "P004,H02,A,2019年2月10日,living,-1200");
        assert!(run(REG, &led, &r).unwrap_err().to_string().contains("negative"));
        let e = run(&format!("{REG}H01,A,deep,2019-01-01,,500\n"), LED, &r).unwrap_err().to_string();
        assert!(
            e.contains("households.csv:11: field `household_id`: household `H01` appears twice (first on line 2)"),
            "{e}"
        );
        let e = run(REG, "payment_id,household_id,date,kind,amount\n", &r).unwrap_err().to_string();
        assert!(e.contains("payments.csv:1: field `unit_id`: required column"), "{e}");
    }

    #[test]
    fn unreadable_rows_and_headers_are_located_and_normalised_cells_named() {
        let mut r = rules();
        r.checks.clear();
        let e = run(REG, "payment_id,household_id,unit_id,date,kind,amount,date\n", &r)
            .unwrap_err()
            .to_string();
        assert!(e.contains("payments.csv:1: field `date`: duplicate column name"), "{e}");
        let pasted = format!("{LED}payment_id,household_id,unit_id,date,kind,amount\n\u{feff}P100,H01,A,2019-01-15,living,1\n");
        let e = run(REG, &pasted, &r).unwrap_err().to_string();
        assert!(e.contains("payments.csv:21: the header row is repeated here"), "{e}");
        assert!(e.contains("payments.csv:22: byte-order mark"), "{e}");
        let long = LED.replace("P005,", &format!("{},", "x".repeat(MAX_CELL_CHARS + 1)));
        let e = run(REG, &long, &r).unwrap_err().to_string();
        assert!(e.contains("payments.csv:6: field `payment_id`: cell longer than"), "{e}");
        assert!(e.len() < 2_000);
        let fw = LED.replace("P005,H02,A,2019-02-20,living,800", "P005,H02,A,2019-02-20,living,\"８００\"");
        let rep = run(REG, &fw, &r).unwrap();
        // (the fixture's dates come in four formats: those warnings are tested above)
        assert_eq!(
            rep.warnings
                .iter()
                .filter(|w| w.location.field.as_deref() != Some("date"))
                .map(|w| w.to_string())
                .collect::<Vec<_>>(),
            ["payments.csv:6: field `amount`: `８００` read as 800: full-width characters normalised"]
        );
        // a register that fails does not hide the ledger's problems
        let e = run(
            &REG.replace("H01,A,deep,2019-01-01", "H01,A,deep,2019-13-01"),
            &LED.replace("P001,H01,A,2019-01-15", "P001,H01,A,15/01/2019"),
            &r,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("households.csv:2: field `filed_on`") && e.contains("payments.csv:2: field `date`"),
            "{e}"
        );
    }

    #[test]
    fn a_declared_encoding_is_held_to() {
        let mut r = rules();
        r.checks.clear();
        let text = LED.replace("P001,H01", "P001,甲01");
        let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
        let input = LedgerInput {
            payments_file: "payments.csv",
            payments: &gbk,
            households_file: "households.csv",
            households: REG.as_bytes(),
        };
        let not_dates = |w: &Vec<Diagnostic>| {
            w.iter()
                .filter(|w| w.location.field.as_deref() != Some("date"))
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
        };
        let rep = check_payments_as(&input, &r, TextEncoding::Gb18030).unwrap();
        assert!(not_dates(&rep.warnings).is_empty(), "{:?}", rep.warnings);
        let auto = check_payments_as(&input, &r, TextEncoding::Auto).unwrap();
        assert_eq!(not_dates(&auto.warnings), ["payments.csv: read as GB18030/GBK (not UTF-8)"]);
        let e = check_payments_as(&input, &r, TextEncoding::Utf8).unwrap_err().to_string();
        assert!(
            e.contains("payments.csv:2: field `household_id`: not UTF-8 as [data] encoding declares"),
            "{e}"
        );
    }

    #[test]
    fn amounts_read_exactly_including_separators() {
        assert_eq!(parse_amount(b"1234.50").unwrap(), Decimal::new(123450, 2));
        assert_eq!(parse_amount(b" 7 ").unwrap(), d(7));
        assert_eq!(parse_amount("1,234.5".as_bytes()).unwrap(), Decimal::new(12345, 1));
        assert_eq!(parse_amount("１２３".as_bytes()).unwrap(), d(123));
        assert!(parse_amount(b"12a").is_err());
        assert!(parse_amount(b"").is_err());
        assert!(parse_amount(b"1.2.3").is_err());
        assert_eq!(parse_amount(b"0.1").unwrap() + parse_amount(b"0.2").unwrap(), Decimal::new(3, 1));
    }

    #[test]
    fn gb18030_bom_quotes_and_blank_lines() {
        let mut r = rules();
        r.checks = [Check::Unfiled].into_iter().collect();
        let text =
            "payment_id,household_id,unit_id,date,kind,amount\n\nP1,甲99,A,2019-01-01,living,\"1,000\"\n\r\nP2,H01,A,2019-01-02,living,5\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(text);
        let rep = run(REG, std::str::from_utf8(&[]).unwrap_or(""), &r).err();
        assert!(rep.is_some(), "an empty ledger is an error");
        let rep = check_payments(
            &LedgerInput {
                payments_file: "payments.csv",
                payments: &gbk,
                households_file: "households.csv",
                households: format!("\u{feff}{REG}").as_bytes(),
            },
            &r,
        )
        .unwrap();
        assert_eq!(rep.payments, 2);
        let h = &rep.hits[0];
        assert_eq!((h.household_id.as_str(), h.rows[0].line, h.amount), ("甲99", 3, d(1000)));
    }
}
