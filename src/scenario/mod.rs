//! Scenarios: what to split and how (`scenario.toml`), the hierarchy (`units.csv`) and the
//! factor data (`factors.csv`), loaded in two stages — raw structs that mirror the files and
//! reject unknown keys ([`raw`]), then validated types checked across files ([`Scenario`]).
//!
//! Parsing works on text and bytes; [`load()`] is the only part that touches the file system.

pub mod load;
pub mod raw;

pub use load::{from_sources, load, load_dir, ScenarioFiles};

use crate::error::{Diagnostic, InputErrors, Location};
use crate::model::Hierarchy;
use crate::table::Table;
use raw::{NumText, RawScenarioFile};
use rust_decimal::prelude::*;
use std::collections::{BTreeMap, HashMap};
use toml::Spanned;

/// Report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Chinese (default).
    #[default]
    Zh,
    /// English.
    En,
}

/// The unit of every amount in the scenario's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MoneyUnit {
    /// 元
    #[default]
    Yuan,
    /// 万元 (10,000 yuan)
    WanYuan,
}

impl MoneyUnit {
    /// Yuan in one unit of money: 1 or 10,000.
    pub fn yuan(self) -> Decimal {
        match self {
            MoneyUnit::Yuan => Decimal::ONE,
            MoneyUnit::WanYuan => Decimal::new(10_000, 0),
        }
    }

    /// Label for reports.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (MoneyUnit::Yuan, Lang::Zh) => "元",
            (MoneyUnit::WanYuan, Lang::Zh) => "万元",
            (MoneyUnit::Yuan, Lang::En) => "yuan",
            (MoneyUnit::WanYuan, Lang::En) => "wan yuan",
        }
    }
}

/// How a factor column becomes shares of the recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// `s_i = x_i / Σ x_j` (all `x ≥ 0`, sum > 0): more is needier (headcount, incidence).
    Share,
    /// `s_i = (1/x_i) / Σ (1/x_j)` (all `x > 0`): less is needier (income, fiscal capacity).
    Inverse,
    /// `g_i = max(0, reference − x_i)`, `s_i = g_i / Σ g_j` (sum > 0): distance below a standard.
    Gap {
        /// The standard.
        reference: Decimal,
    },
}

/// A factor of a pool's formula.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorSpec {
    /// Column of the factors table.
    pub column: String,
    /// Display name (defaults to the column).
    pub name: String,
    /// Weight `w_k`.
    pub weight: Decimal,
    /// Transform.
    pub transform: Transform,
    /// TOML key path, for messages (e.g. `stage[1].pool[1].factor[2]`).
    pub key: String,
    /// Line in `scenario.toml`.
    pub line: Option<u64>,
}

/// A per-unit bound (floor or cap): a fixed amount or a column of the factors table.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    /// The same amount for every recipient.
    Amount(Decimal),
    /// Per-unit amounts from this column.
    Column(String),
}

/// A pool (切块) of a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    /// Id, unique within the stage.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Share `σ_q` of the distributable amount.
    pub share: Decimal,
    /// Eligibility flag column.
    pub eligible: Option<String>,
    /// Adjustment coefficient column.
    pub adjust: Option<String>,
    /// Floor per unit.
    pub floor: Option<Bound>,
    /// Cap per unit (amount or column).
    pub cap: Option<Bound>,
    /// Cap as a share of the pool.
    pub cap_share: Option<Decimal>,
    /// The formula.
    pub factors: Vec<FactorSpec>,
    /// TOML key path (`stage[1].pool[2]`).
    pub key: String,
    /// Line in `scenario.toml`.
    pub line: Option<u64>,
}

/// A stage: every allocating unit splits what it has among its descendants at `level`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Level of the recipients.
    pub level: String,
    /// Stage 1: the amount the root splits.
    pub total: Option<Decimal>,
    /// Share withheld by each allocating unit.
    pub reserve: Decimal,
    /// Pools, in file order.
    pub pools: Vec<Pool>,
    /// TOML key path (`stage[1]`).
    pub key: String,
    /// Line in `scenario.toml`.
    pub line: Option<u64>,
}

/// The factor table: for every unit of the hierarchy, its row of `factors.csv` (if any), with
/// numeric columns parsed on demand and every bad cell reported with its location.
#[derive(Debug, Clone)]
pub struct FactorTable {
    /// The raw table.
    pub table: Table,
    /// For each unit index of the hierarchy, the index of its row in `table.rows`.
    pub row_of_unit: Vec<Option<usize>>,
    numeric: HashMap<String, Vec<Option<Decimal>>>,
    /// The parsed columns as `f64` (NaN where empty), for the allocation's certified fast path.
    numeric_f64: HashMap<String, Vec<f64>>,
}

/// Equal when the table and the parsed columns are (the `f64` images follow from those).
impl PartialEq for FactorTable {
    fn eq(&self, other: &Self) -> bool {
        self.table == other.table && self.row_of_unit == other.row_of_unit && self.numeric == other.numeric
    }
}

impl FactorTable {
    /// Matches the rows of `factors.csv` (`unit_id`, then any columns) to the hierarchy.
    pub fn new(table: Table, h: &Hierarchy) -> Result<FactorTable, InputErrors> {
        let mut errs = InputErrors::default();
        let c_id = table.require("unit_id").map_err(InputErrors::from)?;
        let mut row_of_unit = vec![None; h.len()];
        for (r, row) in table.rows.iter().enumerate() {
            let id = table.cell(row, c_id);
            match h.find(id) {
                None if id.is_empty() => errs.push(table.loc(row, c_id), "unit_id is empty"),
                None => errs.push(table.loc(row, c_id), format!("unit `{id}` is not in the units file")),
                Some(u) => match row_of_unit.get_mut(u) {
                    Some(slot @ None) => *slot = Some(r),
                    Some(Some(prev)) => {
                        let prev_line = table.rows.get(*prev).map(|x| x.line).unwrap_or(0);
                        errs.push(
                            table.loc(row, c_id),
                            format!("unit `{id}` appears twice (first on line {prev_line})"),
                        )
                    }
                    None => {}
                },
            }
        }
        errs.into_result(FactorTable {
            table,
            row_of_unit,
            numeric: HashMap::new(),
            numeric_f64: HashMap::new(),
        })
    }

    /// Parses a column as numbers for every unit that has a row; `None` = empty cell or no row.
    /// Every bad cell is reported. The result is cached.
    pub fn parse_column(&mut self, name: &str, warnings: &mut Vec<Diagnostic>) -> Result<(), InputErrors> {
        if self.numeric.contains_key(name) {
            return Ok(());
        }
        let Some(c) = self.table.col(name) else {
            return Err(InputErrors::one(Location::at(&self.table.file, Some(1), name), "column not found"));
        };
        let mut errs = InputErrors::default();
        let mut vals = vec![None; self.row_of_unit.len()];
        for (u, r) in self.row_of_unit.iter().enumerate() {
            let Some(row) = r.and_then(|r| self.table.rows.get(r)) else {
                continue;
            };
            match self.table.number(row, c, warnings) {
                Ok(v) => {
                    if let Some(slot) = vals.get_mut(u) {
                        *slot = v;
                    }
                }
                Err(d) => errs.0.push(d),
            }
        }
        if errs.is_empty() {
            let approx = vals.iter().map(|v| v.map_or(f64::NAN, crate::alloc::dec_f64)).collect();
            self.numeric_f64.insert(name.to_string(), approx);
            self.numeric.insert(name.to_string(), vals);
        }
        errs.into_result(())
    }

    /// Parses a column (without caching) for every unit that has a row; every bad cell is
    /// reported. For capabilities that read columns the formula does not use.
    pub fn numeric_column(&self, name: &str, warnings: &mut Vec<Diagnostic>) -> Result<Vec<Option<Decimal>>, InputErrors> {
        if let Some(v) = self.numeric.get(name) {
            return Ok(v.clone());
        }
        let mut copy = FactorTable {
            table: self.table.clone(),
            row_of_unit: self.row_of_unit.clone(),
            numeric: HashMap::new(),
            numeric_f64: HashMap::new(),
        };
        copy.parse_column(name, warnings)?;
        Ok(copy.numeric.remove(name).unwrap_or_default())
    }

    /// Values of a parsed column by unit index (see [`FactorTable::parse_column`]).
    pub fn column(&self, name: &str) -> Option<&[Option<Decimal>]> {
        self.numeric.get(name).map(Vec::as_slice)
    }

    /// A parsed column as `f64` by unit index (NaN where empty), each value within 1.5 units
    /// in the last place of the exact decimal (the allocation engine's `dec_f64`: mantissa and
    /// power of ten each rounded once, then one division).
    pub fn column_f64(&self, name: &str) -> Option<&[f64]> {
        self.numeric_f64.get(name).map(Vec::as_slice)
    }

    /// The value of a parsed column for one unit.
    pub fn value(&self, name: &str, unit: usize) -> Option<Decimal> {
        self.numeric.get(name).and_then(|v| v.get(unit).copied().flatten())
    }

    /// Location of a unit's cell in a column, for messages.
    pub fn loc(&self, name: &str, unit: usize) -> Location {
        let line = self
            .row_of_unit
            .get(unit)
            .copied()
            .flatten()
            .and_then(|r| self.table.rows.get(r))
            .map(|r| r.line);
        Location::at(&self.table.file, line, name)
    }

    /// Whether a column exists.
    pub fn has_column(&self, name: &str) -> bool {
        self.table.col(name).is_some()
    }
}

/// A loaded and checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// Title for reports.
    pub title: String,
    /// Budget year.
    pub year: Option<i64>,
    /// Report language.
    pub lang: Lang,
    /// Unit of amounts.
    pub money_unit: MoneyUnit,
    /// Smallest amount handed out (> 0).
    pub rounding: Decimal,
    /// Column used for per-capita figures.
    pub population: Option<String>,
    /// The hierarchy.
    pub hierarchy: Hierarchy,
    /// The factor data.
    pub factors: FactorTable,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// Optional tables by role (`actual`, `plan`, `survey`, `files`, `payments`, `households`).
    pub tables: BTreeMap<String, Table>,
    /// The parsed TOML, for capabilities that read their own sections.
    pub raw: RawScenarioFile,
    /// The TOML text (for line numbers of later checks).
    pub toml_text: String,
    /// The scenario file name used in messages.
    pub toml_file: String,
    /// Notes from loading (encodings, normalised cells) to show the user.
    pub warnings: Vec<Diagnostic>,
    /// The encoding declared for the CSV files (`[data] encoding`, default detected).
    pub encoding: crate::table::TextEncoding,
    /// The files the scenario was read from (for the evidence manifest).
    pub files: ScenarioFiles,
}

/// 1-based line of a byte offset in `text`.
pub fn line_at(text: &str, offset: usize) -> u64 {
    1 + text.as_bytes().iter().take(offset).filter(|&&b| b == b'\n').count() as u64
}

/// Deepest bracket nesting accepted in `scenario.toml` (a guard against nesting bombs).
pub const MAX_TOML_NESTING: usize = 64;

/// Parses `scenario.toml` text into the raw structs; errors carry the line and key.
pub fn parse_toml(file: &str, text: &str) -> Result<RawScenarioFile, InputErrors> {
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    max_depth = depth;
                }
                if max_depth > MAX_TOML_NESTING {
                    return Err(InputErrors::one(
                        Location {
                            file: file.into(),
                            line: Some(line_at(text, i)),
                            field: None,
                        },
                        format!("brackets nested more than {MAX_TOML_NESTING} deep"),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => {}
            _ => {}
        }
    }
    toml::from_str::<RawScenarioFile>(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start));
        InputErrors::one(
            Location {
                file: file.into(),
                line,
                field: None,
            },
            e.message().trim().to_string(),
        )
    })
}

/// Reads a TOML number (string or number) as a decimal, or reports it.
pub fn num(v: &Spanned<NumText>, ctx: &Ctx<'_>, key: &str, errs: &mut InputErrors) -> Option<Decimal> {
    match num_or_text(v) {
        Ok(d) => Some(d),
        Err(t) => {
            errs.push(ctx.loc(v.span().start, key), format!("`{t}` is not a number"));
            None
        }
    }
}

/// A TOML number (or numeric string) as a decimal; `Err(text)` when it is not one.
pub fn num_or_text(v: &Spanned<NumText>) -> Result<Decimal, String> {
    match v.get_ref() {
        NumText::Text(s) => match crate::money::parse_number_cell(s) {
            Ok(c) => c.value.ok_or_else(|| s.clone()),
            Err(_) => Err(s.clone()),
        },
        NumText::Int(i) => Ok(Decimal::from(*i)),
        NumText::Float(f) => Decimal::from_f64(*f).map(|d| d.normalize()).ok_or_else(|| f.to_string()),
    }
}

/// Context for locating TOML values: file name and text.
pub struct Ctx<'a> {
    /// File name.
    pub file: &'a str,
    /// File text.
    pub text: &'a str,
}

impl Ctx<'_> {
    /// Location of a TOML value from its byte offset, with a key path.
    pub fn loc(&self, offset: usize, key: &str) -> Location {
        Location::at(self.file, Some(line_at(self.text, offset)), key)
    }
}

fn tol() -> Decimal {
    Decimal::new(1, 9)
}

/// Checks the formula part of the scenario against the hierarchy and the factors table and
/// builds the validated stages. Every problem is reported.
pub fn validate_stages(
    raw: &RawScenarioFile,
    ctx: &Ctx<'_>,
    h: &Hierarchy,
    ft: &mut FactorTable,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<Stage>, InputErrors> {
    let mut errs = InputErrors::default();
    let mut stages = Vec::new();
    if raw.stage.is_empty() {
        errs.push(Location::at(ctx.file, None, "stage"), "no [[stage]]: at least one stage is needed");
    }
    let levels: std::collections::HashSet<&str> = h.units().iter().map(|u| u.level.as_str()).collect();
    for (si, st) in raw.stage.iter().enumerate() {
        let skey = format!("stage[{}]", si + 1);
        let sline = Some(line_at(ctx.text, st.span().start));
        let st = st.get_ref();
        let level = st.level.get_ref().clone();
        if !levels.contains(level.as_str()) {
            let mut known: Vec<&str> = levels.iter().copied().collect();
            known.sort_unstable();
            errs.push(
                ctx.loc(st.level.span().start, &format!("{skey}.level")),
                format!("no unit has level `{level}` (levels in the units file: {})", known.join(", ")),
            );
        }
        let total = match (&st.total, si) {
            (Some(t), 0) => num(t, ctx, &format!("{skey}.total"), &mut errs).and_then(|d| {
                if d <= Decimal::ZERO {
                    errs.push(
                        ctx.loc(t.span().start, &format!("{skey}.total")),
                        format!("total must be positive, got {d}"),
                    );
                    None
                } else {
                    Some(d)
                }
            }),
            (None, 0) => {
                errs.push(
                    Location::at(ctx.file, sline, format!("{skey}.total")),
                    "the first stage needs `total`, the amount the root splits",
                );
                None
            }
            (Some(t), _) => {
                errs.push(
                    ctx.loc(t.span().start, &format!("{skey}.total")),
                    "only the first stage has a total: later stages split what the previous stage gave",
                );
                None
            }
            (None, _) => None,
        };
        let reserve = match &st.reserve {
            None => Decimal::ZERO,
            Some(r) => match num(r, ctx, &format!("{skey}.reserve"), &mut errs) {
                Some(d) if d >= Decimal::ZERO && d < Decimal::ONE => d,
                Some(d) => {
                    errs.push(
                        ctx.loc(r.span().start, &format!("{skey}.reserve")),
                        format!("reserve is a share in [0, 1), got {d}"),
                    );
                    Decimal::ZERO
                }
                None => Decimal::ZERO,
            },
        };
        if st.pool.is_empty() {
            errs.push(
                Location::at(ctx.file, sline, format!("{skey}.pool")),
                "a stage needs at least one [[stage.pool]]",
            );
        }
        let mut pools = Vec::new();
        let mut share_sum = Decimal::ZERO;
        let mut ids: HashMap<String, usize> = HashMap::new();
        for (pi, p) in st.pool.iter().enumerate() {
            let pkey = format!("{skey}.pool[{}]", pi + 1);
            let pline = Some(line_at(ctx.text, p.span().start));
            let p = p.get_ref();
            let id = p.id.get_ref().trim().to_string();
            if id.is_empty() || id == "total" || id == "reserve" || id == "retained" {
                errs.push(
                    ctx.loc(p.id.span().start, &format!("{pkey}.id")),
                    format!("pool id `{id}` is empty or reserved (total, reserve, retained)"),
                );
            }
            if let Some(prev) = ids.insert(id.clone(), pi) {
                errs.push(
                    ctx.loc(p.id.span().start, &format!("{pkey}.id")),
                    format!("pool id `{id}` is used twice in this stage (also pool[{}])", prev + 1),
                );
            }
            let share = num(&p.share, ctx, &format!("{pkey}.share"), &mut errs).unwrap_or_default();
            if share <= Decimal::ZERO || share > Decimal::ONE {
                errs.push(
                    ctx.loc(p.share.span().start, &format!("{pkey}.share")),
                    format!("pool share must be in (0, 1], got {share}"),
                );
            }
            share_sum = share_sum.checked_add(share).unwrap_or(share_sum);
            let mut column_ok = |col: &Spanned<String>, key: &str, errs: &mut InputErrors| -> Option<String> {
                let name = col.get_ref().trim().to_string();
                if !ft.has_column(&name) {
                    errs.push(
                        ctx.loc(col.span().start, key),
                        format!(
                            "column `{name}` is not in {} (columns: {})",
                            ft.table.file,
                            ft.table.headers.join(", ")
                        ),
                    );
                    return None;
                }
                if let Err(e) = ft.parse_column(&name, warnings) {
                    errs.extend(e);
                    return None;
                }
                Some(name)
            };
            let eligible = p
                .eligible
                .as_ref()
                .and_then(|c| column_ok(c, &format!("{pkey}.eligible"), &mut errs));
            let adjust = p.adjust.as_ref().and_then(|c| column_ok(c, &format!("{pkey}.adjust"), &mut errs));
            let mut bound = |b: &Option<Spanned<NumText>>, key: &str, errs: &mut InputErrors| -> Option<Bound> {
                let b = b.as_ref()?;
                match num_or_text(b) {
                    Ok(d) if d >= Decimal::ZERO => Some(Bound::Amount(d)),
                    Ok(d) => {
                        errs.push(ctx.loc(b.span().start, key), format!("must not be negative, got {d}"));
                        None
                    }
                    Err(name) => {
                        let s = Spanned::new(b.span(), name);
                        column_ok(&s, key, errs).map(Bound::Column)
                    }
                }
            };
            let floor = bound(&p.floor, &format!("{pkey}.floor"), &mut errs);
            let cap = bound(&p.cap, &format!("{pkey}.cap"), &mut errs);
            let cap_share = p.cap_share.as_ref().and_then(|c| {
                let d = num(c, ctx, &format!("{pkey}.cap_share"), &mut errs)?;
                if d <= Decimal::ZERO || d > Decimal::ONE {
                    errs.push(
                        ctx.loc(c.span().start, &format!("{pkey}.cap_share")),
                        format!("cap_share must be in (0, 1], got {d}"),
                    );
                    return None;
                }
                Some(d)
            });
            if let (Some(Bound::Amount(f)), Some(Bound::Amount(c))) = (&floor, &cap) {
                if f > c {
                    errs.push(
                        Location::at(ctx.file, pline, format!("{pkey}.floor")),
                        format!("floor {f} is above the cap {c}"),
                    );
                }
            }
            if p.factor.is_empty() {
                errs.push(
                    Location::at(ctx.file, pline, format!("{pkey}.factor")),
                    "a pool needs at least one [[stage.pool.factor]]",
                );
            }
            let mut factors = Vec::new();
            let mut wsum = Decimal::ZERO;
            let mut weights_read = true;
            let mut seen_cols: HashMap<String, usize> = HashMap::new();
            for (fi, f) in p.factor.iter().enumerate() {
                let fkey = format!("{pkey}.factor[{}]", fi + 1);
                let fline = Some(line_at(ctx.text, f.span().start));
                let f = f.get_ref();
                let column = column_ok(&f.column, &format!("{fkey}.column"), &mut errs);
                if let Some(c) = &column {
                    if let Some(prev) = seen_cols.insert(c.clone(), fi) {
                        errs.push(
                            ctx.loc(f.column.span().start, &format!("{fkey}.column")),
                            format!("column `{c}` is already factor[{}] of this pool", prev + 1),
                        );
                    }
                }
                let weight = num(&f.weight, ctx, &format!("{fkey}.weight"), &mut errs).unwrap_or_else(|| {
                    weights_read = false;
                    Decimal::ZERO
                });
                if weight < Decimal::ZERO || weight > Decimal::ONE {
                    errs.push(
                        ctx.loc(f.weight.span().start, &format!("{fkey}.weight")),
                        format!("weight must be in [0, 1], got {weight}"),
                    );
                }
                wsum = wsum.checked_add(weight).unwrap_or(wsum);
                let tname = f
                    .transform
                    .as_ref()
                    .map(|t| t.get_ref().trim().to_ascii_lowercase())
                    .unwrap_or_else(|| "share".into());
                let reference = f
                    .reference
                    .as_ref()
                    .and_then(|r| num(r, ctx, &format!("{fkey}.reference"), &mut errs));
                let transform = match tname.as_str() {
                    "share" => Some(Transform::Share),
                    "inverse" => Some(Transform::Inverse),
                    "gap" => match reference {
                        Some(r) => Some(Transform::Gap { reference: r }),
                        None => {
                            errs.push(
                                Location::at(ctx.file, fline, format!("{fkey}.reference")),
                                "transform `gap` needs `reference`, the standard to measure the gap from",
                            );
                            None
                        }
                    },
                    other => {
                        let off = f.transform.as_ref().map(|t| t.span().start).unwrap_or(0);
                        errs.push(
                            ctx.loc(off, &format!("{fkey}.transform")),
                            format!("unknown transform `{other}` (share, inverse, gap)"),
                        );
                        None
                    }
                };
                if reference.is_some() && tname != "gap" {
                    errs.push(
                        Location::at(ctx.file, fline, format!("{fkey}.reference")),
                        "`reference` only applies to transform = \"gap\"",
                    );
                }
                if let (Some(column), Some(transform)) = (column, transform) {
                    let name = f.name.clone().unwrap_or_else(|| column.clone());
                    factors.push(FactorSpec {
                        column,
                        name,
                        weight,
                        transform,
                        key: fkey,
                        line: fline,
                    });
                }
            }
            if weights_read && !p.factor.is_empty() && (wsum - Decimal::ONE).abs() > tol() {
                errs.push(
                    Location::at(ctx.file, pline, format!("{pkey}.factor.weight")),
                    format!("the weights of pool `{id}` sum to {wsum}, not 1"),
                );
            }
            pools.push(Pool {
                id: id.clone(),
                name: p.name.clone().unwrap_or(id),
                share,
                eligible,
                adjust,
                floor,
                cap,
                cap_share,
                factors,
                key: pkey,
                line: pline,
            });
        }
        if !st.pool.is_empty() && (share_sum - Decimal::ONE).abs() > tol() {
            errs.push(
                Location::at(ctx.file, sline, format!("{skey}.pool.share")),
                format!("the pool shares of stage {} sum to {share_sum}, not 1", si + 1),
            );
        }
        stages.push(Stage {
            level,
            total,
            reserve,
            pools,
            key: skey,
            line: sline,
        });
    }
    errs.into_result(stages)
}
