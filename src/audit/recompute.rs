//! Recompute the allocation from the stated formula and compare it with what was actually
//! paid (`actual.csv`).
//!
//! `actual.csv`: `unit_id,amount`, optionally `stage` (1-based) and `pool`:
//! - without `stage`, a row is matched to the last stage in which the unit is a recipient
//!   (so one file can hold cities and counties);
//! - `pool` empty or `total` compares with the unit's total for the stage; a pool id compares
//!   with that pool's amount; `reserve` (with the allocating unit's id) compares with what the
//!   unit withheld.
//!
//! Per row: `difference = actual − formula`, `rel_difference = difference / formula`; a row is
//! flagged when `|difference| > max(abs_tol, rel_tol × |formula|)` ([`AuditConfig::beyond`]).
//! Units in `actual.csv` that are not recipients, and recipients of a stage and pool that
//! `actual.csv` covers but that have no row, are listed (and flagged when the amount is beyond
//! tolerance).
//!
//! Totals reconciled per allocating unit and covered stage: `received − passed_on − reserve`,
//! where `received` is what the unit actually received (its `actual.csv` row of the previous
//! stage; else the formula amount; the stated total for the root), `passed_on` is the sum of
//! its recipients' actual amounts (totals, else the sum of their pool rows) and `reserve` is
//! its actual reserve row, else the stated reserve on what it received,
//! `received − ⌊received × (1 − reserve)⌋`. Flagged when the gap is above `abs_tol`: money
//! neither passed on nor reserved (positive) or more passed on than received (negative).

use super::AuditConfig;
use crate::alloc::{Allocation, AllocationRow, RowKind};
use crate::error::{InputErrors, Location};
use crate::money;
use crate::scenario::Scenario;
use crate::table::Table;
use rust_decimal::Decimal;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A row of `actual.csv`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActualRow {
    /// Line in the file.
    pub line: u64,
    /// `unit_id` as written.
    pub unit_id: String,
    /// The unit in the hierarchy, when known.
    pub unit: Option<usize>,
    /// `stage`, when given.
    pub stage: Option<usize>,
    /// `pool`: `None` (or `total`) = the unit's total.
    pub pool: Option<String>,
    /// Amount, in `money_unit`.
    pub amount: Decimal,
}

/// What a comparison row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Within tolerance.
    Ok,
    /// Beyond tolerance.
    Differs,
    /// A recipient of the formula with no row in `actual.csv`.
    Missing,
    /// A row of `actual.csv` for a unit that receives nothing from the formula (or is unknown).
    NotRecipient,
}

impl Status {
    /// The `status` column.
    pub fn key(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Differs => "differs",
            Status::Missing => "missing",
            Status::NotRecipient => "not_recipient",
        }
    }
}

/// One unit: formula against actual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Unit id.
    pub unit_id: String,
    /// Unit name (empty when unknown).
    pub name: String,
    /// Parent id.
    pub parent_id: String,
    /// Level.
    pub level: String,
    /// Stage (1-based), when known.
    pub stage: Option<usize>,
    /// `total`, a pool id or `reserve`.
    pub pool: String,
    /// The formula's amount (`None` when not a recipient).
    pub formula: Option<Decimal>,
    /// The actual amount (`None` when missing).
    pub actual: Option<Decimal>,
    /// `actual − formula` (missing = 0, not a recipient: formula = 0).
    pub difference: Decimal,
    /// `difference / formula` (`None` when the formula amount is 0 or absent).
    pub rel_difference: Option<Decimal>,
    /// Status.
    pub status: Status,
    /// Beyond tolerance.
    pub flagged: bool,
    /// Line in `actual.csv`.
    pub line: Option<u64>,
}

/// One allocating unit's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// Allocating unit id.
    pub unit_id: String,
    /// Name.
    pub name: String,
    /// Stage in which it allocates.
    pub stage: usize,
    /// What it received.
    pub received: Decimal,
    /// `actual`, `formula` or `total` (the stated stage-1 total).
    pub received_source: &'static str,
    /// Σ of its recipients' actual amounts.
    pub passed_on: Decimal,
    /// Its recipients under the formula.
    pub recipients: usize,
    /// Of them, with a row in `actual.csv`.
    pub recipients_in_actual: usize,
    /// Reserve.
    pub reserve: Decimal,
    /// `actual` or `stated`.
    pub reserve_source: &'static str,
    /// `received − passed_on − reserve`.
    pub difference: Decimal,
    /// `|difference| > abs_tol`.
    pub flagged: bool,
}

/// Result of [`recompute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recompute {
    /// Name of the actual file.
    pub actual_file: String,
    /// Rows of `actual.csv` read.
    pub actual_rows: usize,
    /// One row per actual row and per missing recipient: stage, pool order, unit id.
    pub comparisons: Vec<Comparison>,
    /// One row per allocating unit of every stage `actual.csv` covers.
    pub reconciliations: Vec<Reconciliation>,
}

impl Recompute {
    /// Rows flagged (comparisons and reconciliations).
    pub fn flagged(&self) -> usize {
        self.comparisons.iter().filter(|c| c.flagged).count() + self.reconciliations.iter().filter(|r| r.flagged).count()
    }
}

/// Reads `actual.csv` (see the module documentation). Every bad cell is reported.
pub fn read_actual(t: &Table, s: &Scenario) -> Result<Vec<ActualRow>, InputErrors> {
    let mut errs = InputErrors::default();
    let c_unit = t.require("unit_id").map_err(|d| errs.0.push(d)).ok();
    let c_amount = t.require("amount").map_err(|d| errs.0.push(d)).ok();
    let (Some(c_unit), Some(c_amount)) = (c_unit, c_amount) else {
        return Err(errs);
    };
    let c_stage = t.col("stage");
    let c_pool = t.col("pool");
    let mut warnings = Vec::new();
    let mut out = Vec::new();
    for row in &t.rows {
        let unit_id = t.cell(row, c_unit).to_string();
        if unit_id.is_empty() {
            errs.push(t.loc(row, c_unit), "unit_id is empty");
            continue;
        }
        let amount = match t.number(row, c_amount, &mut warnings) {
            Ok(Some(a)) if a.is_sign_negative() && !a.is_zero() => {
                errs.push(t.loc(row, c_amount), format!("amount {a} is negative"));
                continue;
            }
            Ok(Some(a)) => a,
            Ok(None) => {
                errs.push(t.loc(row, c_amount), "amount is empty");
                continue;
            }
            Err(d) => {
                errs.0.push(d);
                continue;
            }
        };
        let stage = match c_stage.map(|c| t.cell(row, c)).filter(|x| !x.is_empty()) {
            None => None,
            Some(x) => match x.parse::<usize>() {
                Ok(n) if n >= 1 && n <= s.stages.len() => Some(n),
                _ => {
                    errs.push(
                        t.loc(row, c_stage.unwrap_or(0)),
                        format!("stage `{x}` is not a stage number (1 to {})", s.stages.len()),
                    );
                    continue;
                }
            },
        };
        let pool = c_pool
            .map(|c| t.cell(row, c))
            .filter(|x| !x.is_empty() && *x != "total")
            .map(str::to_string);
        if let Some(p) = &pool {
            let known = |st: &crate::scenario::Stage| p == "reserve" || st.pools.iter().any(|q| &q.id == p);
            let ok = match stage {
                Some(n) => s.stages.get(n - 1).is_some_and(known),
                None => s.stages.iter().any(known),
            };
            if !ok {
                errs.push(
                    t.loc(row, c_pool.unwrap_or(0)),
                    format!(
                        "pool `{p}` is not a pool of {} (nor total or reserve)",
                        stage.map(|n| format!("stage {n}")).unwrap_or("any stage".into())
                    ),
                );
                continue;
            }
        }
        out.push(ActualRow {
            line: row.line,
            unit: s.hierarchy.find(&unit_id),
            unit_id,
            stage,
            pool,
            amount,
        });
    }
    errs.into_result(out)
}

/// The `pool` label an actual row names for this formula row (retained rows have none).
fn label<'a>(alloc: &'a Allocation, r: &AllocationRow) -> Option<&'a str> {
    match r.kind {
        RowKind::Retained => None,
        _ => Some(alloc.label(r)),
    }
}

/// Compares the allocation with the actual rows and reconciles the totals (see the module
/// documentation). Duplicate rows (same unit, stage and pool) are an input error.
pub fn recompute(
    s: &Scenario,
    alloc: &Allocation,
    actual: &[ActualRow],
    actual_file: &str,
    cfg: &AuditConfig,
) -> Result<Recompute, InputErrors> {
    let h = &s.hierarchy;
    let mut formula: HashMap<(usize, usize, &str), Decimal> = HashMap::new();
    for r in &alloc.rows {
        if let Some(l) = label(alloc, r) {
            formula.insert((r.unit, r.stage, l), r.amount);
        }
    }
    let nstages = s.stages.len();
    let mut errs = InputErrors::default();
    let mut comps = Vec::new();
    // (unit, stage, pool) → actual amount, for coverage and reconciliation
    let mut seen: HashMap<(usize, usize, String), (Decimal, u64)> = HashMap::new();
    let mut unknown_seen: HashMap<(String, Option<usize>, String), u64> = HashMap::new();
    for a in actual {
        let pool = a.pool.clone().unwrap_or_else(|| "total".into());
        let stage = match (a.unit, a.stage) {
            (Some(_), Some(n)) => Some(n),
            (Some(u), None) => (1..=nstages).rev().find(|&k| formula.contains_key(&(u, k, pool.as_str()))),
            (None, st) => st,
        };
        let f = match (a.unit, stage) {
            (Some(u), Some(k)) => formula.get(&(u, k, pool.as_str())).copied(),
            _ => None,
        };
        match (a.unit, stage) {
            (Some(u), Some(k)) => {
                if let Some((_, prev)) = seen.insert((u, k, pool.clone()), (a.amount, a.line)) {
                    errs.push(
                        Location::at(actual_file, Some(a.line), "unit_id"),
                        format!("unit `{}` stage {k} pool `{pool}` appears twice (first on line {prev})", a.unit_id),
                    );
                    continue;
                }
            }
            _ => {
                if let Some(prev) = unknown_seen.insert((a.unit_id.clone(), stage, pool.clone()), a.line) {
                    errs.push(
                        Location::at(actual_file, Some(a.line), "unit_id"),
                        format!("unit `{}` pool `{pool}` appears twice (first on line {prev})", a.unit_id),
                    );
                    continue;
                }
            }
        }
        comps.push(compare(s, cfg, a.unit, &a.unit_id, stage, &pool, f, Some(a.amount), Some(a.line)));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    // coverage: (stage, pool) pairs with at least one matched row
    let covered: BTreeSet<(usize, String)> = comps
        .iter()
        .filter(|c| c.formula.is_some())
        .filter_map(|c| c.stage.map(|k| (k, c.pool.clone())))
        .collect();
    let mut missing: Vec<(usize, usize, String)> = Vec::new();
    for r in &alloc.rows {
        let Some(l) = label(alloc, r) else { continue };
        if covered.contains(&(r.stage, l.to_string())) && !seen.contains_key(&(r.unit, r.stage, l.to_string())) {
            missing.push((r.unit, r.stage, l.to_string()));
        }
    }
    for (u, k, l) in missing {
        let f = formula.get(&(u, k, l.as_str())).copied();
        let id = h.unit(u).map(|x| x.id.clone()).unwrap_or_default();
        comps.push(compare(s, cfg, Some(u), &id, Some(k), &l, f, None, None));
    }
    let pool_rank = |k: Option<usize>, p: &str| -> usize {
        let st = k.and_then(|k| s.stages.get(k - 1));
        match p {
            "total" => 1000,
            "reserve" => 1001,
            _ => st.and_then(|st| st.pools.iter().position(|q| q.id == p)).unwrap_or(999),
        }
    };
    comps.sort_by(|a, b| {
        (
            a.stage.is_none(),
            a.stage,
            pool_rank(a.stage, &a.pool),
            a.unit_id.as_bytes(),
            a.line,
        )
            .cmp(&(
                b.stage.is_none(),
                b.stage,
                pool_rank(b.stage, &b.pool),
                b.unit_id.as_bytes(),
                b.line,
            ))
    });

    // reconciliation
    let act = |u: usize, k: usize, p: &str| seen.get(&(u, k, p.to_string())).map(|x| x.0);
    let stages_covered: BTreeSet<usize> = covered.iter().filter(|(_, p)| p != "reserve").map(|(k, _)| *k).collect();
    let mut recs = Vec::new();
    for &k in &stages_covered {
        let mut allocators: Vec<usize> = alloc
            .rows
            .iter()
            .filter(|r| r.stage == k && r.kind == RowKind::Total)
            .map(|r| r.from)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        allocators.sort_by(|&a, &b| h.unit(a).map(|u| u.id.as_bytes()).cmp(&h.unit(b).map(|u| u.id.as_bytes())));
        let st = s.stages.get(k - 1);
        for p in allocators {
            let (received, source) = if k == 1 {
                (s.stages.first().and_then(|x| x.total).unwrap_or_default(), "total")
            } else {
                match act(p, k - 1, "total") {
                    Some(a) => (a, "actual"),
                    None => (
                        alloc
                            .received
                            .get(k - 2)
                            .and_then(|v| v.get(p))
                            .copied()
                            .flatten()
                            .unwrap_or_default(),
                        "formula",
                    ),
                }
            };
            let recipients: Vec<usize> = alloc
                .rows
                .iter()
                .filter(|r| r.stage == k && r.kind == RowKind::Total && r.from == p)
                .map(|r| r.unit)
                .collect();
            let mut passed = Decimal::ZERO;
            let mut present = 0;
            for &u in &recipients {
                let amt = act(u, k, "total").or_else(|| {
                    let parts: Vec<Decimal> = st
                        .map(|st| st.pools.iter().filter_map(|q| act(u, k, &q.id)).collect())
                        .unwrap_or_default();
                    (!parts.is_empty()).then(|| parts.iter().fold(Decimal::ZERO, |a, b| a.checked_add(*b).unwrap_or(a)))
                });
                if let Some(a) = amt {
                    present += 1;
                    passed = passed.checked_add(a).unwrap_or(passed);
                }
            }
            let (reserve, rsource) = match act(p, k, "reserve") {
                Some(r) => (r, "actual"),
                None => {
                    let r = st.map(|st| st.reserve).unwrap_or_default();
                    let distributable = money::mul(received, Decimal::ONE - r)
                        .and_then(|x| money::floor_to_multiple(x, s.rounding))
                        .unwrap_or(received);
                    (received - distributable, "stated")
                }
            };
            let difference = received
                .checked_sub(passed)
                .and_then(|x| x.checked_sub(reserve))
                .unwrap_or_default();
            let u = h.unit(p);
            recs.push(Reconciliation {
                unit_id: u.map(|u| u.id.clone()).unwrap_or_default(),
                name: u.map(|u| u.name.clone()).unwrap_or_default(),
                stage: k,
                received,
                received_source: source,
                passed_on: passed,
                recipients: recipients.len(),
                recipients_in_actual: present,
                reserve,
                reserve_source: rsource,
                difference,
                flagged: difference.abs() > cfg.abs_tol,
            });
        }
    }
    Ok(Recompute {
        actual_file: actual_file.to_string(),
        actual_rows: actual.len(),
        comparisons: comps,
        reconciliations: recs,
    })
}

#[allow(clippy::too_many_arguments)]
fn compare(
    s: &Scenario,
    cfg: &AuditConfig,
    unit: Option<usize>,
    unit_id: &str,
    stage: Option<usize>,
    pool: &str,
    formula: Option<Decimal>,
    actual: Option<Decimal>,
    line: Option<u64>,
) -> Comparison {
    let h = &s.hierarchy;
    let u = unit.and_then(|u| h.unit(u));
    let f = formula.unwrap_or_default();
    let a = actual.unwrap_or_default();
    let difference = a.checked_sub(f).unwrap_or_default();
    let rel_difference = (!f.is_zero()).then(|| difference.checked_div(f)).flatten();
    let beyond = cfg.beyond(difference, f);
    let status = match (formula, actual) {
        (None, _) => Status::NotRecipient,
        (Some(_), None) => Status::Missing,
        _ if beyond => Status::Differs,
        _ => Status::Ok,
    };
    let flagged = match status {
        Status::Ok => false,
        Status::Differs => true,
        Status::Missing | Status::NotRecipient => beyond,
    };
    Comparison {
        unit_id: unit_id.to_string(),
        name: u.map(|u| u.name.clone()).unwrap_or_default(),
        parent_id: u
            .and_then(|u| u.parent)
            .and_then(|p| h.unit(p))
            .map(|p| p.id.clone())
            .unwrap_or_default(),
        level: u.map(|u| u.level.clone()).unwrap_or_default(),
        stage,
        pool: pool.to_string(),
        formula,
        actual,
        difference,
        rel_difference,
        status,
        flagged,
        line,
    }
}

/// `audit.csv`: `unit_id,name,parent_id,level,stage,pool,formula,actual,difference,rel_difference,status,flagged,line`.
pub fn audit_table(r: &Recompute) -> crate::output::OutTable {
    use crate::output::{dec, share};
    let mut t = crate::output::OutTable::new(
        "audit.csv",
        &[
            "unit_id",
            "name",
            "parent_id",
            "level",
            "stage",
            "pool",
            "formula",
            "actual",
            "difference",
            "rel_difference",
            "status",
            "flagged",
            "line",
        ],
    );
    for c in &r.comparisons {
        t.rows.push(vec![
            c.unit_id.clone(),
            c.name.clone(),
            c.parent_id.clone(),
            c.level.clone(),
            c.stage.map(|k| k.to_string()).unwrap_or_default(),
            c.pool.clone(),
            c.formula.map(dec).unwrap_or_default(),
            c.actual.map(dec).unwrap_or_default(),
            dec(c.difference),
            c.rel_difference.map(share).unwrap_or_default(),
            c.status.key().to_string(),
            if c.flagged { "1" } else { "0" }.to_string(),
            c.line.map(|l| l.to_string()).unwrap_or_default(),
        ]);
    }
    t
}

/// `reconcile.csv`: `unit_id,name,stage,received,received_source,passed_on,recipients,recipients_in_actual,reserve,reserve_source,difference,flagged`.
pub fn reconcile_table(r: &Recompute) -> crate::output::OutTable {
    use crate::output::dec;
    let mut t = crate::output::OutTable::new(
        "reconcile.csv",
        &[
            "unit_id",
            "name",
            "stage",
            "received",
            "received_source",
            "passed_on",
            "recipients",
            "recipients_in_actual",
            "reserve",
            "reserve_source",
            "difference",
            "flagged",
        ],
    );
    for c in &r.reconciliations {
        t.rows.push(vec![
            c.unit_id.clone(),
            c.name.clone(),
            c.stage.to_string(),
            dec(c.received),
            c.received_source.to_string(),
            dec(c.passed_on),
            c.recipients.to_string(),
            c.recipients_in_actual.to_string(),
            dec(c.reserve),
            c.reserve_source.to_string(),
            dec(c.difference),
            if c.flagged { "1" } else { "0" }.to_string(),
        ]);
    }
    t
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Two stages: P → cities X, Y (reserve 10%) → counties. Formula: X gets 6,000 and Y 3,000
    /// of 10,000 (reserve 1,000); X's counties A 2,000, B 4,000; Y's county C 3,000.
    fn scenario(actual: &str) -> Scenario {
        let toml = "[scenario]\nname = \"t\"\n[[stage]]\nlevel = \"city\"\ntotal = \"10000\"\nreserve = \"0.1\"\n[[stage.pool]]\nid = \"p\"\nshare = \"1\"\n[[stage.pool.factor]]\ncolumn = \"pop\"\nweight = \"1\"\n[[stage]]\nlevel = \"county\"\n[[stage.pool]]\nid = \"p\"\nshare = \"1\"\n[[stage.pool.factor]]\ncolumn = \"pop\"\nweight = \"1\"\n";
        let units = "id,name,parent_id,level\nP,P,,province\nX,X,P,city\nY,Y,P,city\nA,A,X,county\nB,B,X,county\nC,C,Y,county\n";
        let factors = "unit_id,pop\nX,6\nY,3\nA,1\nB,2\nC,5\n";
        let files: Vec<(&str, String)> = vec![
            ("units.csv", units.into()),
            ("factors.csv", factors.into()),
            ("actual.csv", actual.into()),
        ];
        let mut src = |name: &str| -> Option<Result<(Vec<u8>, std::path::PathBuf), InputErrors>> {
            files
                .iter()
                .find(|f| f.0 == name)
                .map(|f| Ok((f.1.as_bytes().to_vec(), name.into())))
        };
        crate::scenario::from_sources("scenario.toml", toml.as_bytes(), &mut src).unwrap()
    }

    fn run(actual: &str) -> Result<Recompute, InputErrors> {
        let s = scenario(actual);
        let alloc = crate::alloc::allocate(&s).unwrap();
        let cfg = AuditConfig::defaults(&s);
        let rows = read_actual(s.tables.get("actual").unwrap(), &s)?;
        recompute(&s, &alloc, &rows, "actual.csv", &cfg)
    }

    #[test]
    fn a_faithful_distribution_has_no_flag() {
        let r = run("unit_id,amount\nX,6000\nY,3000\nA,2000\nB,4000\nC,3000\n").unwrap();
        assert_eq!(r.flagged(), 0, "{r:#?}");
        assert_eq!(r.comparisons.len(), 5);
        assert_eq!(r.reconciliations.len(), 3);
        assert!(r.reconciliations.iter().all(|x| x.difference.is_zero()));
    }

    #[test]
    fn departures_missing_outsiders_and_gaps_are_flagged() {
        // B gets 500 more (X passes on more than it received), C is missing, Z is no recipient
        let r = run("unit_id,amount\nX,6000\nY,3000\nA,2000\nB,4500\nZ,100\n").unwrap();
        let st = |id: &str| {
            r.comparisons
                .iter()
                .find(|c| c.unit_id == id)
                .map(|c| (c.status, c.flagged, c.difference))
                .unwrap()
        };
        assert_eq!(st("B"), (Status::Differs, true, Decimal::from(500)));
        assert_eq!(st("C"), (Status::Missing, true, Decimal::from(-3000)));
        assert_eq!(st("Z"), (Status::NotRecipient, true, Decimal::from(100)));
        assert_eq!(st("A"), (Status::Ok, false, Decimal::ZERO));
        let rec = |id: &str| {
            r.reconciliations
                .iter()
                .find(|x| x.unit_id == id)
                .map(|x| (x.difference, x.flagged))
                .unwrap()
        };
        assert_eq!(rec("P"), (Decimal::ZERO, false));
        assert_eq!(rec("X"), (Decimal::from(-500), true));
        assert_eq!(rec("Y"), (Decimal::from(3000), true));
    }

    #[test]
    fn tolerance_is_the_larger_of_absolute_and_relative() {
        // 1% of 4,000 = 40: a difference of 40 passes, 41 does not
        assert_eq!(
            run("unit_id,amount\nA,2000\nB,4040\nC,3000\n")
                .unwrap()
                .comparisons
                .iter()
                .filter(|c| c.flagged)
                .count(),
            0
        );
        let r = run("unit_id,amount\nA,2000\nB,4041\nC,3000\n").unwrap();
        assert_eq!(r.comparisons.iter().filter(|c| c.flagged).count(), 1);
    }

    #[test]
    fn stage_and_pool_columns_and_bad_rows() {
        let r = run("unit_id,stage,pool,amount\nX,1,p,6000\nX,1,reserve,0\nP,1,reserve,1000\n").unwrap();
        let p = r.comparisons.iter().find(|c| c.unit_id == "P" && c.pool == "reserve").unwrap();
        assert_eq!((p.status, p.formula), (Status::Ok, Some(Decimal::from(1000))));
        let e = run("unit_id,stage,pool,amount\nA,3,,1\nB,2,q,1\nC,,,x1\nA,,,2000\nA,2,,2000\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("actual.csv:2: field `stage`"), "{e}");
        assert!(e.contains("actual.csv:3: field `pool`"), "{e}");
        assert!(e.contains("actual.csv:4: field `amount`"), "{e}");
        let e = run("unit_id,amount\nA,2000\nA,2000\n").unwrap_err().to_string();
        assert!(
            e.contains("actual.csv:3: field `unit_id`: unit `A` stage 2 pool `total` appears twice (first on line 2)"),
            "{e}"
        );
    }
}
