//! The factor method (因素法), exactly as SPEC §3 states it.
//!
//! For an allocating unit `P` with amount `A_P`:
//! 1. `D_P = ⌊A_P (1 − reserve)⌋` to a multiple of `rounding`; the reserve is `A_P − D_P`.
//!    Pool amounts `D_P σ_q` are rounded together by largest remainder (ties by pool order).
//! 2. Recipients `R`: the descendants of `P` at the stage's level with a non-zero eligibility flag.
//! 3. Factor shares `s_ik` by transform (`share`, `inverse`, `gap`, see [`Transform`]).
//! 4. Base share `b_i = Σ_k w_k s_ik`.
//! 5. Adjusted share `a_i = b_i c_i / Σ_R b_j c_j`; amounts `y_i = min(cap_i, max(floor_i, λ a_i))`
//!    with `Σ y_i` = the pool ([`clamp::clamp_to_pool`]).
//! 6. Amounts rounded to multiples of `rounding` by largest remainder, ties by unit id
//!    ([`crate::money::largest_remainder`]); each pool sums exactly to its amount.
//!
//! Every stage conserves money: what the allocating units received equals what their
//! recipients got plus the reserves plus what units with no recipients retained.

pub mod clamp;
mod fast;

use crate::error::{Diagnostic, InputErrors, Location};
use crate::money::{self, add, div, mul, sub, ArithError};
use crate::scenario::{Bound, Pool, Scenario, Stage, Transform};
use rust_decimal::Decimal;

/// What a row of the allocation is.
///
/// Plain data (no reference-counted id), so that building and dropping the ~10,000 rows of a
/// national allocation touches no counters; the pool's id is [`Allocation::pool_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A recipient's amount from one pool: the pool's index in its stage (its id is
    /// [`Allocation::pool_id`], the row's `pool` column [`Allocation::label`]).
    Pool(usize),
    /// A recipient's total for the stage.
    Total,
    /// What an allocating unit withheld.
    Reserve,
    /// What an allocating unit kept because it has no units at the stage's level.
    Retained,
}

/// One row of `allocation.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRow {
    /// Unit index in the hierarchy (the recipient, or the allocating unit for reserve rows).
    pub unit: usize,
    /// Index of the allocating unit.
    pub from: usize,
    /// 1-based stage number.
    pub stage: usize,
    /// Pool, total, reserve or retained.
    pub kind: RowKind,
    /// Amount, a multiple of `rounding` (reserves: whatever is left).
    pub amount: Decimal,
    /// What `amount` is a share of: the pool amount (pool rows), the distributable amount
    /// (total rows) or the amount received (reserve and retained rows). See
    /// [`AllocationRow::share`].
    pub of: Decimal,
    /// Where this row's contributions start in [`Allocation::contrib_cents`] (one per factor
    /// column); read them with [`Allocation::contrib`].
    pub contrib_at: usize,
    /// Adjustment coefficient `c_i` (pool rows).
    pub adjust: Option<Decimal>,
    /// Raised to the floor.
    pub floored: bool,
    /// Cut to the cap.
    pub capped: bool,
}

/// One pool split for one allocating unit: who received what, and which bounds bound.
/// [`PoolSplit::working`] recomputes the exact working behind it (factor shares, base and
/// adjusted shares, exact amounts before rounding, floors and caps) for explanation, charts and
/// the LP checks.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSplit {
    /// 1-based stage.
    pub stage: usize,
    /// Pool index within the stage.
    pub pool: usize,
    /// The allocating unit.
    pub from: usize,
    /// The pool amount.
    pub amount: Decimal,
    /// Recipients (unit indices, ascending id).
    pub recipients: Vec<usize>,
    /// Adjustment coefficients `c_i`.
    pub adjust: Vec<Decimal>,
    /// Rounded amounts.
    pub amounts: Vec<Decimal>,
    /// Raised to the floor.
    pub floored: Vec<bool>,
    /// Cut to the cap.
    pub capped: Vec<bool>,
}

impl PoolSplit {
    /// The exact working of this split, recomputed with `Decimal` arithmetic (SPEC §3 steps
    /// 2–6 for this allocating unit and pool); its amounts are this split's amounts.
    pub fn working(&self, s: &Scenario) -> Result<PoolWorking, InputErrors> {
        let st = s.stages.get(self.stage.wrapping_sub(1)).ok_or_else(|| bad_split(s))?;
        let pool = st.pools.get(self.pool).ok_or_else(|| bad_split(s))?;
        let candidates = s.hierarchy.descendants_at_level(self.from, &st.level);
        split_pool(s, pool, self.stage, self.pool, self.from, self.amount, &candidates)
    }

    fn from_working(w: PoolWorking) -> PoolSplit {
        PoolSplit {
            stage: w.stage,
            pool: w.pool,
            from: w.from,
            amount: w.amount,
            recipients: w.recipients,
            adjust: w.adjust,
            amounts: w.amounts,
            floored: w.floored,
            capped: w.capped,
        }
    }
}

fn bad_split(s: &Scenario) -> InputErrors {
    InputErrors::one(
        Location::at(&s.toml_file, None, "stage"),
        "internal error: a pool split that is not in this scenario",
    )
}

impl AllocationRow {
    /// The `share` column: `amount / of` (0 when `of` is 0).
    pub fn share(&self) -> Decimal {
        if self.of.is_zero() {
            Decimal::ZERO
        } else {
            self.amount.checked_div(self.of).unwrap_or_default()
        }
    }
}

/// The exact working of one pool for one allocating unit: everything needed to explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolWorking {
    /// 1-based stage.
    pub stage: usize,
    /// Pool index within the stage.
    pub pool: usize,
    /// The allocating unit.
    pub from: usize,
    /// The pool amount.
    pub amount: Decimal,
    /// Recipients (unit indices, ascending id).
    pub recipients: Vec<usize>,
    /// Factor shares `s_ik` (recipient-major, one per factor of the pool).
    pub shares: Vec<Vec<Decimal>>,
    /// Base shares `b_i`.
    pub base: Vec<Decimal>,
    /// Adjustment coefficients `c_i`.
    pub adjust: Vec<Decimal>,
    /// Adjusted shares `a_i`.
    pub adjusted: Vec<Decimal>,
    /// Exact amounts before rounding.
    pub exact: Vec<Decimal>,
    /// Rounded amounts.
    pub amounts: Vec<Decimal>,
    /// Floors applied.
    pub floors: Vec<Decimal>,
    /// Caps applied.
    pub caps: Vec<Option<Decimal>>,
    /// Raised to the floor.
    pub floored: Vec<bool>,
    /// Cut to the cap.
    pub capped: Vec<bool>,
}

/// The whole allocation of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Factor columns in order of first appearance across stages and pools.
    pub factor_columns: Vec<String>,
    /// Per stage, its pools' ids in the scenario's order ([`RowKind::Pool`] indexes them).
    pub pool_ids: Vec<Vec<String>>,
    /// Rows in output order: per stage, pool rows (pool order, then allocating unit and
    /// recipient by id), then total rows, then reserve and retained rows.
    pub rows: Vec<AllocationRow>,
    /// Every pool split, for explanation, charts and the LP checks: per stage, per pool, per
    /// allocating unit in id order (the order of the pool rows).
    pub splits: Vec<PoolSplit>,
    /// The rows' contributions in cents, `factor_columns.len()` per row from its `contrib_at`
    /// (one flat vector: a vector per row cost as much as the arithmetic; 64-bit, so a row's
    /// amount is at most 92,233,720,368,547,758.07 — beyond that the allocation is refused).
    pub contrib_cents: Vec<i64>,
    /// Per stage, the amount each unit received (index by unit), `None` if it received nothing.
    pub received: Vec<Vec<Option<Decimal>>>,
}

impl Allocation {
    /// The part of a row's `amount` attributable to each factor column ([`Allocation::factor_columns`]):
    /// `amount × w_k s_ik / b_i`, the amount split in proportion to the factor terms before
    /// adjustment, floors and caps, rounded to 0.01 so that the parts sum exactly to `amount`
    /// (total rows: the sums over the unit's pool rows; reserve and retained rows: zeros).
    pub fn contrib(&self, r: &AllocationRow) -> Vec<Decimal> {
        let n = self.factor_columns.len();
        let cents = self.contrib_cents.get(r.contrib_at..r.contrib_at + n).unwrap_or(&[]);
        cents.iter().map(|&c| from_cents(c)).collect()
    }

    /// The id of pool `pool` (index in its stage) of 1-based stage `stage` (`""` if there is
    /// no such pool).
    pub fn pool_id(&self, stage: usize, pool: usize) -> &str {
        self.pool_ids
            .get(stage.wrapping_sub(1))
            .and_then(|ids| ids.get(pool))
            .map_or("", String::as_str)
    }

    /// The `pool` column of `allocation.csv` for a row: its pool's id, `total`, `reserve` or
    /// `retained`.
    pub fn label(&self, r: &AllocationRow) -> &str {
        match r.kind {
            RowKind::Pool(q) => self.pool_id(r.stage, q),
            RowKind::Total => "total",
            RowKind::Reserve => "reserve",
            RowKind::Retained => "retained",
        }
    }

    /// What each unit received in the last stage (`None` if not a recipient).
    pub fn final_amounts(&self) -> &[Option<Decimal>] {
        self.received.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

fn loc_pool(s: &Scenario, pool: &Pool, field: &str) -> Location {
    Location {
        file: s.toml_file.clone(),
        line: pool.line,
        field: Some(format!("{}{}", pool.key, field)),
    }
}

fn arith(s: &Scenario, pool: &Pool, e: ArithError) -> Diagnostic {
    Diagnostic::new(
        loc_pool(s, pool, ""),
        format!("{e}: amounts too large for exact decimal arithmetic"),
    )
}

/// Runs every stage of the scenario. All problems found in the data (missing or negative
/// values, zero-sum factors, infeasible floors and caps, empty eligible sets) are reported
/// together.
pub fn allocate(s: &Scenario) -> Result<Allocation, InputErrors> {
    let h = &s.hierarchy;
    let n = h.len();
    let mut factor_columns: Vec<String> = Vec::new();
    for st in &s.stages {
        for p in &st.pools {
            for f in &p.factors {
                if !factor_columns.contains(&f.column) {
                    factor_columns.push(f.column.clone());
                }
            }
        }
    }
    // every stage's rows reserved up front: per stage, a pool row and a total row per unit at
    // the stage's level, and a reserve row per allocating unit (units at the level before);
    // growing the vectors step by step copied them again at national scale
    let count_at = |level: &str| h.units().iter().filter(|u| u.level == level).count();
    let mut row_estimate = 0usize;
    let mut allocating = 1usize;
    for st in &s.stages {
        let at_level = count_at(&st.level);
        row_estimate += at_level * (st.pools.len() + 1) + allocating;
        allocating = at_level;
    }
    let mut out = Out {
        rows: Vec::with_capacity(row_estimate),
        contrib: Vec::with_capacity(row_estimate * factor_columns.len()),
        splits: Vec::new(),
    };
    let mut work = StageWork::default();
    let mut received: Vec<Vec<Option<Decimal>>> = Vec::with_capacity(s.stages.len());
    let mut errs = InputErrors::default();
    // what each unit holds before the first stage: the root holds the total
    let mut start: Vec<Option<Decimal>> = vec![None; n];
    if let Some(slot) = start.get_mut(h.root()) {
        *slot = s.stages.first().and_then(|st| st.total);
    }
    for (si, st) in s.stages.iter().enumerate() {
        let ctx = StageCtx {
            s,
            st,
            stage_no: si + 1,
            cols: &factor_columns,
        };
        // a stage splits what the units received in the stage before
        let holding = received.last().unwrap_or(&start);
        match run_stage(&ctx, holding, &mut out, &mut work) {
            Ok(got) => received.push(got),
            Err(e) => {
                errs.extend(e);
                break;
            }
        }
    }
    errs.0.sort();
    errs.0.dedup();
    errs.into_result(Allocation {
        factor_columns,
        pool_ids: s.stages.iter().map(|st| st.pools.iter().map(|p| p.id.clone()).collect()).collect(),
        rows: out.rows,
        contrib_cents: out.contrib,
        splits: out.splits,
        received,
    })
}

/// What every allocating unit of a stage shares.
struct StageCtx<'a> {
    s: &'a Scenario,
    st: &'a Stage,
    stage_no: usize,
    /// The allocation's factor columns.
    cols: &'a [String],
}

/// Where the allocation's results go, in output order.
struct Out {
    rows: Vec<AllocationRow>,
    contrib: Vec<i64>,
    splits: Vec<PoolSplit>,
}

/// Working vectors of a stage, reused from stage to stage.
#[derive(Default)]
struct StageWork {
    /// The units holding an amount, in id order.
    allocators: Vec<usize>,
    /// Every allocating unit's recipients (units at the stage's level), one after another.
    rec: Vec<usize>,
    /// Where each allocating unit's recipients start in `rec` (one more entry at the end).
    rec_start: Vec<usize>,
    /// Per allocating unit: what it does with its amount.
    plans: Vec<Plan>,
    /// Per allocating unit, its pool amounts (`pools` each).
    pool_amounts: Vec<Decimal>,
    /// Per recipient in `rec`: its stage total so far, floored, capped.
    totals: Vec<Total>,
    stack: Vec<usize>,
    desc: Vec<usize>,
    scratch: fast::Scratch,
}

/// A recipient's stage total as its pool rows come: whole rounding units from the certified
/// splits, and a decimal for the amounts the `Decimal` path decided.
#[derive(Clone, Copy, Default)]
struct Total {
    units: i64,
    rest: Decimal,
    floored: bool,
    capped: bool,
}

impl Total {
    /// `units × rounding + rest` (`None` when out of range).
    fn amount(&self, unit: Option<money::UnitPow10>) -> Option<Decimal> {
        let whole = match unit {
            Some(u) => u.amount_i64(self.units)?,
            None if self.units == 0 => Decimal::ZERO,
            None => return None,
        };
        if self.rest.is_zero() {
            Some(whole)
        } else {
            whole.checked_add(self.rest)
        }
    }
}

/// What an allocating unit does with the amount `A_P` it holds.
#[derive(Clone, Copy)]
enum Plan {
    /// It has no units at the stage's level and keeps `A_P`.
    Retain(Decimal),
    /// It splits `D_P` among its recipients and withholds the reserve `A_P − D_P`.
    Split { distributable: Decimal, reserve: Decimal },
    /// Its amount could not be split (the error is reported).
    Failed,
}

/// One stage (SPEC §3): every allocating unit, in id order, splits what it holds among its
/// recipients pool by pool. The rows go to `out` in output order — pool rows (pool, then
/// allocating unit, then recipient), total rows, reserve and retained rows — each written
/// once where it belongs. Returns what each unit received.
fn run_stage(
    ctx: &StageCtx<'_>,
    holding: &[Option<Decimal>],
    out: &mut Out,
    work: &mut StageWork,
) -> Result<Vec<Option<Decimal>>, InputErrors> {
    let StageCtx { s, st, stage_no, cols } = *ctx;
    let h = &s.hierarchy;
    let n = h.len();
    let ncols = cols.len();
    let nq = st.pools.len();
    let mut errs = InputErrors::default();
    let stage_loc = || Location::at(&s.toml_file, st.line, st.key.clone());
    let level = h.level_index(&st.level);
    let StageWork {
        allocators,
        rec,
        rec_start,
        plans,
        pool_amounts,
        totals,
        stack,
        desc,
        scratch,
    } = work;
    allocators.clear();
    allocators.extend((0..n).filter(|&i| holding.get(i).copied().flatten().is_some()));
    allocators.sort_unstable_by_key(|&p| h.id_rank(p));
    rec.clear();
    rec_start.clear();
    plans.clear();
    pool_amounts.clear();
    out.splits.reserve(allocators.len() * nq);
    let mut pool_shares = PoolShares::new(s, st);
    let mut stage_in = Decimal::ZERO;
    for &p in allocators.iter() {
        let a_p = holding.get(p).copied().flatten().unwrap_or_default();
        stage_in = stage_in.checked_add(a_p).unwrap_or(stage_in);
        rec_start.push(rec.len());
        if let Some(l) = level {
            h.descendants_at_level_into(p, l, stack, desc);
            rec.extend_from_slice(desc);
        }
        let plan = if rec.len() == rec_start.last().copied().unwrap_or(0) {
            Plan::Retain(a_p)
        } else {
            match pool_shares.split(s, st, a_p, pool_amounts) {
                Ok(distributable) => Plan::Split {
                    distributable,
                    reserve: a_p - distributable,
                },
                Err(e) => {
                    errs.push(stage_loc(), e.to_string());
                    Plan::Failed
                }
            }
        };
        if !matches!(plan, Plan::Split { .. }) {
            pool_amounts.extend(std::iter::repeat_n(Decimal::ZERO, nq));
        }
        plans.push(plan);
    }
    rec_start.push(rec.len());
    // the total rows' contributions (cents), summed in place as the pool rows come
    let tot_at = out.contrib.len();
    out.contrib.resize(tot_at + rec.len() * ncols, 0);
    totals.clear();
    totals.resize(rec.len(), Total::default());
    for (qi, pool) in st.pools.iter().enumerate() {
        let pool_ctx = PoolCtx {
            stage: ctx,
            qi,
            pool,
            cols: fast::PoolCols::new(s, pool),
            fcol: pool.factors.iter().map(|f| cols.iter().position(|c| c == &f.column)).collect(),
            tot_at,
        };
        for (ai, (&p, plan)) in allocators.iter().zip(plans.iter()).enumerate() {
            if !matches!(plan, Plan::Split { .. }) {
                continue;
            }
            let amount = pool_amounts.get(ai * nq + qi).copied().unwrap_or_default();
            let (lo, hi) = (rec_start.get(ai).copied().unwrap_or(0), rec_start.get(ai + 1).copied().unwrap_or(0));
            let candidates = rec.get(lo..hi).unwrap_or(&[]);
            let tot = totals.get_mut(lo..hi).unwrap_or(&mut []);
            if let Err(e) = split_pool_rows(&pool_ctx, p, amount, candidates, lo, tot, out, scratch) {
                errs.extend(e);
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut got: Vec<Option<Decimal>> = vec![None; n];
    let mut stage_out = Decimal::ZERO;
    // the unit the certified splits counted the totals in
    let unit = pool_shares.unit;
    for (ai, (&p, plan)) in allocators.iter().zip(plans.iter()).enumerate() {
        let Plan::Split { distributable, .. } = *plan else { continue };
        let (lo, hi) = (rec_start.get(ai).copied().unwrap_or(0), rec_start.get(ai + 1).copied().unwrap_or(0));
        for pos in lo..hi {
            let (Some(&u), Some(t)) = (rec.get(pos), totals.get(pos)) else {
                continue;
            };
            let (floored, capped) = (t.floored, t.capped);
            let amount = t
                .amount(unit)
                .ok_or_else(|| InputErrors::one(stage_loc(), "a recipient's stage total is too large for exact decimal arithmetic"))?;
            if let Some(g) = got.get_mut(u) {
                *g = Some(amount);
            }
            stage_out = stage_out.checked_add(amount).unwrap_or(stage_out);
            out.rows.push(AllocationRow {
                unit: u,
                from: p,
                stage: stage_no,
                kind: RowKind::Total,
                amount,
                of: distributable,
                contrib_at: tot_at + pos * ncols,
                adjust: None,
                floored,
                capped,
            });
        }
    }
    for (&p, plan) in allocators.iter().zip(plans.iter()) {
        let (kind, amount, of) = match *plan {
            Plan::Retain(a_p) if !a_p.is_zero() => (RowKind::Retained, a_p, a_p),
            Plan::Split { distributable, reserve } if !reserve.is_zero() => (RowKind::Reserve, reserve, reserve + distributable),
            _ => continue,
        };
        stage_out = stage_out.checked_add(amount).unwrap_or(stage_out);
        let at = out.contrib.len();
        out.contrib.resize(at + ncols, 0);
        out.rows.push(AllocationRow {
            unit: p,
            from: p,
            stage: stage_no,
            kind,
            amount,
            of,
            contrib_at: at,
            adjust: None,
            floored: false,
            capped: false,
        });
    }
    if stage_in != stage_out {
        return Err(InputErrors::one(
            stage_loc(),
            format!("internal check failed: stage {stage_no} received {stage_in} but handed out {stage_out}"),
        ));
    }
    Ok(got)
}

/// How a stage turns an allocating unit's amount `A_P` into its distributable amount and pool
/// amounts (SPEC §3 step 1), prepared once per stage: the rounding unit as a power of ten and
/// the pool shares `σ_q` as integers `m_q` over a common scale.
struct PoolShares {
    unit: Option<money::UnitPow10>,
    /// `1 − reserve`.
    keep: Decimal,
    /// `m_q = σ_q × 10^scale` (`None` when they do not fit 128 bits).
    weights: Option<Vec<i128>>,
    parts: Vec<i64>,
    rems: Vec<i128>,
}

impl PoolShares {
    fn new(s: &Scenario, st: &Stage) -> PoolShares {
        let scale = st.pools.iter().map(|q| q.share.scale()).max().unwrap_or(0);
        let weights = st
            .pools
            .iter()
            .map(|q| q.share.mantissa().checked_mul(10i128.checked_pow(scale - q.share.scale())?))
            .collect::<Option<Vec<i128>>>();
        PoolShares {
            unit: money::UnitPow10::of(s.rounding),
            keep: Decimal::ONE - st.reserve,
            weights,
            parts: Vec::with_capacity(st.pools.len()),
            rems: Vec::with_capacity(st.pools.len()),
        }
    }

    /// `D_P = ⌊A_P (1 − reserve)⌋` to a multiple of `rounding`, returned, and the pool amounts
    /// `D_P σ_q / Σσ` rounded together by largest remainder (ties by pool order) so that they
    /// sum to `D_P`, appended to `out`.
    ///
    /// With a power-of-ten rounding unit this is integer work, the exact rational method: `D_P`
    /// as `d` whole units, quotas `d m_q / Σ m` with remainders compared exactly
    /// ([`money::largest_remainder_weights_into`]). Otherwise, or when the numbers do not fit
    /// 64 and 128 bits, `Decimal` arithmetic decides.
    fn split(&mut self, s: &Scenario, st: &Stage, a_p: Decimal, out: &mut Vec<Decimal>) -> Result<Decimal, ArithError> {
        let kept = if st.reserve.is_zero() { a_p } else { money::mul(a_p, self.keep)? };
        if let (Some(unit), Some(weights)) = (self.unit, self.weights.as_deref()) {
            let d = unit.split(kept).and_then(|(d, _)| i64::try_from(d).ok());
            if let Some(d) = d.filter(|&d| d >= 0) {
                if let Some(distributable) = unit.amount_i64(d) {
                    let at = out.len();
                    let whole = money::largest_remainder_weights_into(d, weights, &mut self.parts, &mut self.rems)
                        .and_then(|()| self.parts.iter().try_for_each(|&k| unit.amount_i64(k).map(|x| out.push(x))));
                    if whole.is_some() {
                        return Ok(distributable);
                    }
                    out.truncate(at);
                }
            }
        }
        let distributable = money::floor_to_multiple(kept, s.rounding)?;
        // σ normalised by Σσ (= 1 within 1e-9, checked on load) so the quotas sum to D_P
        let sigma: Decimal = st.pools.iter().map(|q| q.share).sum();
        let quotas: Vec<Decimal> = st
            .pools
            .iter()
            .map(|q| {
                distributable
                    .checked_mul(q.share)
                    .and_then(|x| x.checked_div(sigma))
                    .unwrap_or_default()
            })
            .collect();
        out.extend(money::largest_remainder_indexed(distributable, &quotas, s.rounding)?);
        Ok(distributable)
    }
}

/// What every allocating unit's split of one pool shares.
struct PoolCtx<'a> {
    stage: &'a StageCtx<'a>,
    qi: usize,
    pool: &'a Pool,
    cols: fast::PoolCols<'a>,
    /// Position of each of the pool's factors among the allocation's factor columns.
    fcol: Vec<Option<usize>>,
    /// Where the stage's total rows' contributions start.
    tot_at: usize,
}

/// Splits one pool amount of allocating unit `p` among its `candidates` (which start at `lo`
/// among the stage's recipients): the certified `f64` path decides when it can, the `Decimal`
/// path otherwise (and reports the errors). Writes the pool rows and their contributions, adds
/// them to the recipients' stage `totals`, and records the split.
#[allow(clippy::too_many_arguments)]
fn split_pool_rows(
    pc: &PoolCtx<'_>,
    p: usize,
    amount: Decimal,
    candidates: &[usize],
    lo: usize,
    totals: &mut [Total],
    out: &mut Out,
    scratch: &mut fast::Scratch,
) -> Result<(), InputErrors> {
    let StageCtx { s, stage_no, cols, .. } = *pc.stage;
    let (pool, qi) = (pc.pool, pc.qi);
    let ncols = cols.len();
    let nf = pool.factors.len();
    let too_large = || {
        InputErrors::one(
            loc_pool(s, pool, ""),
            "amounts too large: per-factor contributions are kept in cents as 64-bit integers, up to 92,233,720,368,547,758.07 per row",
        )
    };
    let mut exact: Option<(PoolWorking, Vec<Decimal>)> = None;
    let sp = match fast::split(s, pool, &pc.cols, amount, candidates, scratch) {
        Some(f) => Decided::Fast(f),
        None => {
            let (w, terms) = split_pool_terms(s, pool, stage_no, qi, p, amount, candidates)?;
            let d = Decided::Exact(PoolSplit::from_working(w.clone()));
            exact = Some((w, terms));
            d
        }
    };
    let (recipients, amounts, adjust, floored, capped) = sp.parts();
    let cents_per_unit = pc.cols.cents_per_unit();
    // the pool's recipients are a subsequence of the candidates (same order)
    let mut cursor = 0usize;
    for (j, &u) in recipients.iter().enumerate() {
        let amt = amounts.get(j).copied().unwrap_or_default();
        let at = out.contrib.len();
        out.contrib.resize(at + ncols, 0);
        let mut cents = [0i64; MAX_TERMS];
        let certified = match &sp {
            Decided::Fast(f) => {
                let k = scratch.units().get(j).copied().unwrap_or(0);
                let t = scratch.terms().get(j * nf..(j + 1) * nf).unwrap_or(&[]);
                let b = scratch.base().get(j).copied().unwrap_or(0.0);
                k == 0
                    || cents_per_unit
                        .and_then(|c| k.checked_mul(c))
                        .and_then(|c| contributions_from_f64(t, b, f.ratio_err, c, &mut cents))
                        .is_some()
            }
            Decided::Exact(_) => false,
        };
        let row_contrib = out.contrib.get_mut(at..at + ncols).unwrap_or(&mut []);
        if certified {
            for (pos, &c) in pc.fcol.iter().zip(cents.iter()) {
                if let Some(o) = pos.and_then(|p| row_contrib.get_mut(p)) {
                    *o = c;
                }
            }
        } else {
            if exact.is_none() {
                exact = Some(split_pool_terms(s, pool, stage_no, qi, p, amount, candidates)?);
            }
            let (w, terms) = exact.as_ref().ok_or_else(|| bad_split(s))?;
            let b = w.base.get(j).copied().unwrap_or_default();
            let row_terms = terms.get(j * nf..(j + 1) * nf).unwrap_or(&[]);
            let parts = contributions(row_terms, b, amt, &pc.fcol, ncols).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
            for (o, part) in row_contrib.iter_mut().zip(parts) {
                *o = to_cents(part).ok_or_else(too_large)?;
            }
        }
        let fl = floored.get(j).copied().unwrap_or(false);
        let cp = capped.get(j).copied().unwrap_or(false);
        while candidates.get(cursor).is_some_and(|&x| x != u) {
            cursor += 1;
        }
        if let Some(t) = totals.get_mut(cursor) {
            match &sp {
                Decided::Fast(_) => t.units += scratch.units().get(j).copied().unwrap_or(0),
                Decided::Exact(_) => t.rest += amt,
            }
            t.floored |= fl;
            t.capped |= cp;
            let dst = pc.tot_at + (lo + cursor) * ncols;
            let (head, tail) = out.contrib.split_at_mut(at);
            let (Some(total), Some(row)) = (head.get_mut(dst..dst + ncols), tail.get(..ncols)) else {
                return Err(bad_split(s));
            };
            for (o, &c) in total.iter_mut().zip(row) {
                *o = o.checked_add(c).ok_or_else(too_large)?;
            }
        }
        out.rows.push(AllocationRow {
            unit: u,
            from: p,
            stage: stage_no,
            kind: RowKind::Pool(qi),
            amount: amt,
            of: amount,
            contrib_at: at,
            adjust: adjust.get(j).copied(),
            floored: fl,
            capped: cp,
        });
    }
    out.splits.push(sp.into_split(stage_no, qi, p, amount));
    Ok(())
}

/// Recipients, amounts, adjustment coefficients, floored and capped flags of a split.
type Parts<'a> = (&'a [usize], &'a [Decimal], &'a [Decimal], &'a [bool], &'a [bool]);

/// A pool split as decided by the certified `f64` path or by the `Decimal` path.
enum Decided {
    Fast(fast::FastSplit),
    Exact(PoolSplit),
}

impl Decided {
    /// Recipients, amounts, adjustment coefficients, floored and capped flags.
    fn parts(&self) -> Parts<'_> {
        match self {
            Decided::Fast(f) => (&f.recipients, &f.amounts, &f.adjust, &f.floored, &f.capped),
            Decided::Exact(x) => (&x.recipients, &x.amounts, &x.adjust, &x.floored, &x.capped),
        }
    }

    fn into_split(self, stage: usize, pool: usize, from: usize, amount: Decimal) -> PoolSplit {
        match self {
            Decided::Fast(f) => PoolSplit {
                stage,
                pool,
                from,
                amount,
                recipients: f.recipients,
                adjust: f.adjust,
                amounts: f.amounts,
                floored: f.floored,
                capped: f.capped,
            },
            Decided::Exact(x) => x,
        }
    }
}

/// A multiple of 0.01 as a whole number of cents (`None` if it is not one, or beyond the
/// ±9.2 × 10¹⁸ cents a 64-bit integer holds — 92 quadrillion yuan).
fn to_cents(d: Decimal) -> Option<i64> {
    let d = if d.scale() > 2 { d.normalize() } else { d };
    let scale = d.scale();
    if scale > 2 {
        return None;
    }
    i64::try_from(d.mantissa().checked_mul(10i128.pow(2 - scale))?).ok()
}

/// `c` cents as a decimal (saturating at `Decimal`'s range, which sums of amounts that fit
/// cannot reach).
fn from_cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

/// Splits the amount among factor columns in proportion to the terms `w_k s_ik` of
/// `b_i = Σ_k w_k s_ik`: quotas `amount × (w_k s_ik / b_i)` rounded to 0.01 by largest
/// remainder (ties by factor order), so the parts sum exactly to `amount`.
///
/// `terms` are the pool's factors' `w_k s_ik` for this recipient, `fcol` the position of each
/// factor among the allocation's `ncols` factor columns.
fn contributions(terms: &[Decimal], b: Decimal, amount: Decimal, fcol: &[Option<usize>], ncols: usize) -> Result<Vec<Decimal>, ArithError> {
    let mut out = vec![Decimal::ZERO; ncols];
    let mut cents = [0i64; MAX_TERMS];
    if contributions_f64(terms, b, amount, &mut cents) {
        for (pos, &c) in fcol.iter().zip(cents.iter()) {
            if let Some(o) = pos.and_then(|p| out.get_mut(p)) {
                *o = Decimal::new(c, 2);
            }
        }
    } else {
        for (pos, part) in fcol.iter().zip(contributions_exact(terms, b, amount)?) {
            if let Some(o) = pos.and_then(|p| out.get_mut(p)) {
                *o = part;
            }
        }
    }
    Ok(out)
}

/// The contribution parts with `Decimal` arithmetic throughout.
fn contributions_exact(terms: &[Decimal], b: Decimal, amount: Decimal) -> Result<Vec<Decimal>, ArithError> {
    let mut quotas = Vec::with_capacity(terms.len());
    for (k, ws) in terms.iter().enumerate() {
        let q = if b.is_zero() {
            if k == 0 {
                amount
            } else {
                Decimal::ZERO
            }
        } else {
            mul(amount, div(*ws, b)?)?
        };
        quotas.push(q);
    }
    let cent = Decimal::new(1, 2);
    Ok(if amount.is_zero() {
        vec![Decimal::ZERO; quotas.len()]
    } else if money::floor_to_multiple(amount, cent)? == amount {
        money::largest_remainder_indexed(amount, &quotas, cent)?
    } else {
        quotas.iter().map(|q| q.round_dp(2)).collect()
    })
}

/// `10^k` as `f64` for `k ≤ 28` (exact up to `10^22`, correctly rounded above).
const POW10_F64: [f64; 29] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23,
    1e24, 1e25, 1e26, 1e27, 1e28,
];

/// A decimal as `f64` within 1.5 units in the last place (mantissa and power of ten each
/// rounded once, then one division).
pub(crate) fn dec_f64(d: Decimal) -> f64 {
    let p = POW10_F64.get(d.scale() as usize).copied().unwrap_or(1e28);
    d.mantissa() as f64 / p
}

/// The same parts as [`contributions_exact`], decided in `f64` when that decision is certain.
///
/// The quotas in cents `Q_k = A w_k s_ik / b_i` (`A` = amount in cents) are computed in `f64`
/// from the same `Decimal` terms the exact path uses, with a relative error below 10⁻¹⁵; the
/// exact path's error is below `A × 10⁻²⁶`. With a margin `m = A × 10⁻¹³`, both agree with the
/// exact rational quotas to within `m`. So when every fractional part lies in `(m, 1 − m)`, both
/// paths take the same floors, and when the `k` remainders handed a cent exceed every other
/// remainder by more than `2m`, both give the cents to the same factors (the exact path's
/// rounding of remainders to 18 places cannot reorder values that far apart). Otherwise, and in
/// every unusual case, the answer is `false` and the caller uses the exact path. Terms that are
/// exactly `0` or exactly `b_i` have exact quotas `0` and `A`. The parts are written to `cents`
/// (in cents, one per term).
fn contributions_f64(terms: &[Decimal], b: Decimal, amount: Decimal, cents_out: &mut [i64; MAX_TERMS]) -> bool {
    contributions_f64_inner(terms, b, amount, cents_out).is_some()
}

fn contributions_f64_inner(terms: &[Decimal], b: Decimal, amount: Decimal, floors: &mut [i64; MAX_TERMS]) -> Option<()> {
    if b <= Decimal::ZERO || terms.len() > MAX_TERMS {
        return None;
    }
    let bf = dec_f64(b);
    let mut ratios = [(0f64, RatioKind::Approx); MAX_TERMS];
    for (r, ws) in ratios.iter_mut().zip(terms) {
        *r = if ws.is_zero() {
            (0.0, RatioKind::Zero)
        } else if *ws == b {
            (1.0, RatioKind::Whole)
        } else {
            (dec_f64(*ws) / bf, RatioKind::Approx)
        };
    }
    cents_certified(amount_cents(amount)?, ratios.get(..terms.len())?, 1e-13, floors)
}

/// A positive amount that is a whole number of cents, in cents (`None` otherwise).
fn amount_cents(amount: Decimal) -> Option<i64> {
    if amount <= Decimal::ZERO {
        return None;
    }
    let scale = amount.scale();
    let m = amount.mantissa();
    let cents: i128 = if scale <= 2 {
        m.checked_mul(10i128.pow(2 - scale))?
    } else {
        let d = 10i128.checked_pow(scale - 2)?;
        if m % d != 0 {
            return None;
        }
        m / d
    };
    i64::try_from(cents).ok()
}

/// The contribution parts in cents of an amount of `cents` cents from `f64` terms `w_k s_ik`
/// and base share `b_i` whose ratios are known within the relative error `ratio_err` (see
/// [`fast`]): the same parts as [`contributions_exact`] on the exact terms when the decision
/// is certain, else `None`.
///
/// It does [`cents_certified`]'s work on the terms directly (the floors by
/// [`certified_floor`], the cents left by [`give_left_cents`]) instead of building its ratio
/// array: delegating measured 0.57 M more instructions per national allocation (+5 %).
fn contributions_from_f64(terms: &[f64], b: f64, ratio_err: f64, cents: i64, floors: &mut [i64; MAX_TERMS]) -> Option<()> {
    let n = terms.len();
    if b.is_nan() || b <= 0.0 || n > MAX_TERMS || !(1..(1i64 << 53)).contains(&cents) {
        return None;
    }
    // the terms are non-negative and exactly zero only when the exact term is; a single
    // non-zero term is exactly the whole of `b_i`
    let mut nonzero = terms.iter().enumerate().filter(|(_, &t)| t != 0.0);
    if let (Some((only, _)), None) = (nonzero.next(), nonzero.next()) {
        for (k, f) in floors.iter_mut().enumerate().take(n) {
            *f = if k == only { cents } else { 0 };
        }
        return Some(());
    }
    let a = cents as f64;
    let margin = a * (ratio_err + 4.0 * f64::EPSILON);
    // remainder and margin of each term (exact zeros: remainder 0, margin 0)
    let mut rm = [(0f64, 0f64); MAX_TERMS];
    let mut floor_sum = 0i64;
    for ((&t, f), x) in terms.iter().zip(floors.iter_mut()).zip(rm.iter_mut()) {
        if t == 0.0 {
            (*f, *x) = (0, (0.0, 0.0));
            continue;
        }
        let (fl, rem) = certified_floor(a * (t / b), a, margin)?;
        (*f, *x) = (fl, (rem, margin));
        floor_sum += fl;
    }
    give_left_cents(cents - floor_sum, rm.get(..n)?, floors)
}

/// The whole cents `⌊q⌋` and the remainder `q − ⌊q⌋` of a quota `q` of an amount of `a`
/// cents (`a < 2⁵³`) known within `margin`; `None` when `q` is outside `[0, a]` or its
/// remainder lies within the margin of 0 or 1 (the floor is then not certain).
fn certified_floor(q: f64, a: f64, margin: f64) -> Option<(i64, f64)> {
    if !(q >= 0.0 && q <= a) {
        return None;
    }
    // q ≥ 0 and below 2^53: truncation is the floor
    let fl = q as i64;
    let rem = q - fl as f64;
    if rem <= margin || rem >= 1.0 - margin {
        return None;
    }
    Some((fl, rem))
}

/// Most factors in a pool whose contributions the `f64` path decides (more go to the
/// `Decimal` path).
const MAX_TERMS: usize = 16;

/// How a contribution ratio `w_k s_ik / b_i` is known.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RatioKind {
    /// Within the stated relative error.
    Approx,
    /// Exactly `0`.
    Zero,
    /// Exactly `1` (the only non-zero term).
    Whole,
}

/// Splits `cents` (the amount `A` in cents) by the ratios (largest remainder, ties by position)
/// when every floor and the choice of the remainders that get a cent are certain given that
/// each quota `A r_k` is within `A × rel` of the exact one; else `None`.
fn cents_certified(cents: i64, ratios: &[(f64, RatioKind)], rel: f64, floors: &mut [i64; MAX_TERMS]) -> Option<()> {
    // an amount in cents below 2^53 is exact in f64
    if !(1..(1i64 << 53)).contains(&cents) || ratios.len() > MAX_TERMS {
        return None;
    }
    let a = cents as f64;
    let margin = a * rel;
    let mut rm = [(0f64, 0f64); MAX_TERMS];
    let mut floor_sum: i64 = 0;
    for ((&(r, kind), f), x) in ratios.iter().zip(floors.iter_mut()).zip(rm.iter_mut()) {
        let (fl, rem, mk) = match kind {
            RatioKind::Zero => (0i64, 0.0, 0.0),
            RatioKind::Whole => (cents, 0.0, 0.0),
            RatioKind::Approx => {
                let (fl, rem) = certified_floor(a * r, a, margin)?;
                (fl, rem, margin)
            }
        };
        (*f, *x) = (fl, (rem, mk));
        floor_sum += fl;
    }
    give_left_cents(cents - floor_sum, rm.get(..ratios.len())?, floors)
}

/// Hands the `left` cents over the floors one each to the largest remainders (ties by
/// position), given each term's remainder and its margin of error `(r_k, m_k)`; `None` when
/// the choice is not certain: a chosen remainder less than its margin above an unchosen one.
fn give_left_cents(left: i64, rm: &[(f64, f64)], floors: &mut [i64; MAX_TERMS]) -> Option<()> {
    let n = rm.len();
    if left < 0 || left > n as i64 {
        return None;
    }
    let left = left as usize;
    if left == 0 {
        return Some(());
    }
    // which `left` remainders get a cent is proposed by ranking one integer key per term —
    // the remainder's bits inverted (a remainder ≥ 0 orders as its bits), so the largest come
    // first, with the position in the lowest 4 bits, so ties go by position — counted
    // branch-free, where sorting random remainders mispredicts. The proposal is then
    // certified below: every chosen remainder must exceed every unchosen one by more than
    // both margins. Had the 4 borrowed bits put a term i before a term j with r_j > r_i (they
    // can only within 16 units in the last place), i would be chosen and j not, and
    // r_i − m_i > r_j + m_j would fail; so a certified set is the exact one. With the callers'
    // margins (≥ 8 × 10⁻¹⁵, over 4 times 16 ulps) the exact order could not have certified
    // such a pair either, so the answers are those of a true sort.
    let mut keys = [u64::MAX; MAX_TERMS];
    for ((k, &(r, _)), key) in rm.iter().enumerate().zip(keys.iter_mut()) {
        *key = (!r.to_bits() & !0xF) | k as u64;
    }
    let keys = keys.get(..n)?;
    let mut lo_in = f64::INFINITY;
    let mut hi_out = f64::NEG_INFINITY;
    for ((k, &key), &(r, m)) in keys.iter().enumerate().zip(rm) {
        // the keys differ (positions), so a key's rank is the number of smaller ones
        let rank: usize = keys.iter().map(|&other| usize::from(other < key)).sum();
        if rank < left {
            *floors.get_mut(k)? += 1;
            lo_in = lo_in.min(r - m);
        } else {
            hi_out = hi_out.max(r + m);
        }
    }
    if left < n && lo_in <= hi_out {
        return None;
    }
    Some(())
}

/// Factor shares of one column over the recipients (SPEC §3 step 3).
///
/// - `share`: `s_i = x_i / Σ x_j`, needs `x ≥ 0` and `Σ x > 0`;
/// - `inverse`: `s_i = (1/x_i) / Σ (1/x_j)`, needs `x > 0`;
/// - `gap`: `g_i = max(0, ref − x_i)`, `s_i = g_i / Σ g_j`, needs `Σ g > 0`.
///
/// Returns the shares, or the message describing what is wrong (with the offending positions).
pub fn factor_shares(values: &[Decimal], transform: Transform) -> Result<Vec<Decimal>, ShareError> {
    // transformed values (vectors built with their final capacity: collecting a `Result`
    // iterator would grow them step by step)
    let mut t: Vec<Decimal> = Vec::with_capacity(values.len());
    match transform {
        Transform::Share => {
            if let Some(i) = values.iter().position(|x| x.is_sign_negative() && !x.is_zero()) {
                return Err(ShareError::Negative(i));
            }
        }
        Transform::Inverse => {
            if let Some(i) = values.iter().position(|x| *x <= Decimal::ZERO) {
                return Err(ShareError::NotPositive(i));
            }
            for x in values {
                t.push(div(Decimal::ONE, *x)?);
            }
        }
        Transform::Gap { reference } => {
            for x in values {
                t.push(sub(reference, *x)?.max(Decimal::ZERO));
            }
        }
    }
    let t: &[Decimal] = if matches!(transform, Transform::Share) { values } else { &t };
    let total = money::sum(t)?;
    if total <= Decimal::ZERO {
        return Err(ShareError::ZeroSum);
    }
    let mut out = Vec::with_capacity(t.len());
    for x in t {
        out.push(div(*x, total)?);
    }
    Ok(out)
}

/// Why factor shares cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// A negative value at this position (share transform).
    #[error("negative value")]
    Negative(usize),
    /// A zero or negative value at this position (inverse transform).
    #[error("value must be positive for transform `inverse`")]
    NotPositive(usize),
    /// The transformed values sum to zero.
    #[error("the factor sums to zero over the recipients")]
    ZeroSum,
    /// Arithmetic overflow.
    #[error(transparent)]
    Arith(#[from] ArithError),
}

/// Splits one pool amount among the recipients of an allocating unit (SPEC §3 steps 2–6).
pub fn split_pool(
    s: &Scenario,
    pool: &Pool,
    stage: usize,
    pool_index: usize,
    from: usize,
    amount: Decimal,
    candidates: &[usize],
) -> Result<PoolWorking, InputErrors> {
    split_pool_terms(s, pool, stage, pool_index, from, amount, candidates).map(|(sp, _)| sp)
}

/// [`split_pool`], also returning the terms `w_k s_ik` (recipient-major, one per factor) whose
/// sums are the base shares.
fn split_pool_terms(
    s: &Scenario,
    pool: &Pool,
    stage: usize,
    pool_index: usize,
    from: usize,
    amount: Decimal,
    candidates: &[usize],
) -> Result<(PoolWorking, Vec<Decimal>), InputErrors> {
    let h = &s.hierarchy;
    let ft = &s.factors;
    let mut errs = InputErrors::default();
    let from_id = h.unit(from).map(|u| u.id.clone()).unwrap_or_default();
    let ctx = format!("stage {stage}, pool `{}`, recipients of `{from_id}`", pool.id);
    // 2. recipients
    let mut recipients = Vec::with_capacity(candidates.len());
    let column = |name: &str| ft.column(name);
    let value = |c: Option<&[Option<Decimal>]>, u: usize| c.and_then(|v| v.get(u)).copied().flatten();
    let eligible_col = pool.eligible.as_deref().map(column);
    for &u in candidates {
        match (&pool.eligible, eligible_col) {
            (None, _) => recipients.push(u),
            (Some(col), c) => match value(c.flatten(), u) {
                Some(v) if !v.is_zero() => recipients.push(u),
                Some(_) => {}
                None => errs.push(
                    ft.loc(col, u),
                    format!(
                        "eligibility flag missing for unit `{}` ({ctx})",
                        h.unit(u).map(|x| x.id.as_str()).unwrap_or("")
                    ),
                ),
            },
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    if recipients.is_empty() {
        return Err(InputErrors::one(
            loc_pool(s, pool, ".eligible"),
            format!("no eligible recipients ({ctx}): the eligible set is empty"),
        ));
    }
    // 3. factor shares
    let mut shares_by_factor: Vec<Vec<Decimal>> = Vec::with_capacity(pool.factors.len());
    for f in &pool.factors {
        let mut vals = Vec::with_capacity(recipients.len());
        let mut missing = false;
        let fc = column(&f.column);
        for &u in &recipients {
            match value(fc, u) {
                Some(v) => vals.push(v),
                None => {
                    missing = true;
                    errs.push(
                        ft.loc(&f.column, u),
                        format!(
                            "value missing for unit `{}`, used by {} ({ctx})",
                            h.unit(u).map(|x| x.id.as_str()).unwrap_or(""),
                            f.key
                        ),
                    );
                }
            }
        }
        if missing {
            continue;
        }
        match factor_shares(&vals, f.transform) {
            Ok(sh) => shares_by_factor.push(sh),
            Err(ShareError::Negative(i)) | Err(ShareError::NotPositive(i)) => {
                let u = recipients.get(i).copied().unwrap_or(0);
                let v = vals.get(i).copied().unwrap_or_default();
                let what = if matches!(f.transform, Transform::Inverse) {
                    "must be positive for transform `inverse`"
                } else {
                    "must not be negative"
                };
                errs.push(
                    ft.loc(&f.column, u),
                    format!(
                        "value {v} of unit `{}` {what} ({}, {ctx})",
                        h.unit(u).map(|x| x.id.as_str()).unwrap_or(""),
                        f.key
                    ),
                );
            }
            Err(ShareError::ZeroSum) => errs.push(
                Location {
                    file: s.toml_file.clone(),
                    line: f.line,
                    field: Some(format!("{}.column", f.key)),
                },
                format!(
                    "factor `{}` sums to zero over the recipients ({ctx}): its shares are undefined",
                    f.column
                ),
            ),
            Err(ShareError::Arith(e)) => errs.0.push(arith(s, pool, e)),
        }
    }
    // adjustment coefficients
    let mut adjust = Vec::with_capacity(recipients.len());
    let adjust_col = pool.adjust.as_deref().and_then(column);
    for &u in &recipients {
        let c = match &pool.adjust {
            None => Decimal::ONE,
            Some(col) => match value(adjust_col, u) {
                Some(v) if v >= Decimal::ZERO => v,
                Some(v) => {
                    errs.push(ft.loc(col, u), format!("adjustment coefficient {v} must not be negative ({ctx})"));
                    Decimal::ONE
                }
                None => {
                    errs.push(
                        ft.loc(col, u),
                        format!(
                            "adjustment coefficient missing for unit `{}` ({ctx})",
                            h.unit(u).map(|x| x.id.as_str()).unwrap_or("")
                        ),
                    );
                    Decimal::ONE
                }
            },
        };
        adjust.push(c);
    }
    // bounds
    let cap_share_amount = match pool.cap_share {
        Some(cs) => Some(mul(cs, amount).map_err(|e| InputErrors::from(arith(s, pool, e)))?),
        None => None,
    };
    let bound_value = |b: &Option<Bound>, u: usize, errs: &mut InputErrors| -> Option<Decimal> {
        match b {
            None => None,
            Some(Bound::Amount(d)) => Some(*d),
            Some(Bound::Column(c)) => match ft.value(c, u) {
                Some(v) if v >= Decimal::ZERO => Some(v),
                Some(v) => {
                    errs.push(ft.loc(c, u), format!("bound {v} must not be negative ({ctx})"));
                    None
                }
                None => None,
            },
        }
    };
    let mut floors = Vec::with_capacity(recipients.len());
    let mut caps = Vec::with_capacity(recipients.len());
    for &u in &recipients {
        let f = bound_value(&pool.floor, u, &mut errs).unwrap_or_default();
        let c = match (bound_value(&pool.cap, u, &mut errs), cap_share_amount) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(c) = c {
            if f > c {
                let loc = match (&pool.floor, &pool.cap) {
                    (Some(Bound::Column(col)), _) | (_, Some(Bound::Column(col))) => ft.loc(col, u),
                    _ => loc_pool(s, pool, ".floor"),
                };
                errs.push(
                    loc,
                    format!(
                        "floor {f} is above the cap {c} for unit `{}` ({ctx})",
                        h.unit(u).map(|x| x.id.as_str()).unwrap_or("")
                    ),
                );
            }
        }
        floors.push(f);
        caps.push(c);
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    // 4–5. base and adjusted shares
    let r = recipients.len();
    let nf = shares_by_factor.len();
    let mut base = vec![Decimal::ZERO; r];
    let mut terms = vec![Decimal::ZERO; r * nf];
    for (k, (f, sh)) in pool.factors.iter().zip(&shares_by_factor).enumerate() {
        for (j, (b, s_ik)) in base.iter_mut().zip(sh).enumerate() {
            let t = mul(f.weight, *s_ik).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
            if let Some(slot) = terms.get_mut(j * nf + k) {
                *slot = t;
            }
            *b = add(*b, t).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
        }
    }
    let mut bc: Vec<Decimal> = Vec::with_capacity(r);
    for (b, c) in base.iter().zip(&adjust) {
        bc.push(mul(*b, *c).map_err(|e| InputErrors::from(arith(s, pool, e)))?);
    }
    let bc_sum = money::sum(&bc).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
    if bc_sum <= Decimal::ZERO {
        return Err(InputErrors::one(
            loc_pool(s, pool, ".adjust"),
            format!("every recipient has a zero adjusted share ({ctx}): nothing to split by"),
        ));
    }
    let mut adjusted: Vec<Decimal> = Vec::with_capacity(r);
    for x in &bc {
        adjusted.push(div(*x, bc_sum).map_err(|e| InputErrors::from(arith(s, pool, e)))?);
    }
    let clamped = clamp::clamp_to_pool(&adjusted, &floors, &caps, amount).map_err(|e| {
        InputErrors::one(
            loc_pool(
                s,
                pool,
                if matches!(e, clamp::ClampError::CapsBelowPool { .. }) {
                    ".cap"
                } else {
                    ".floor"
                },
            ),
            format!("{e} ({ctx})"),
        )
    })?;
    // 6. rounding
    let ids: Vec<&str> = recipients.iter().map(|&u| h.unit(u).map(|x| x.id.as_str()).unwrap_or("")).collect();
    let amounts = money::largest_remainder(amount, &clamped.amounts, &ids, s.rounding).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
    let shares: Vec<Vec<Decimal>> = (0..r)
        .map(|j| shares_by_factor.iter().map(|sh| sh.get(j).copied().unwrap_or_default()).collect())
        .collect();
    let split = PoolWorking {
        stage,
        pool: pool_index,
        from,
        amount,
        recipients,
        shares,
        base,
        adjust,
        adjusted,
        exact: clamped.amounts,
        amounts,
        floors,
        caps,
        floored: clamped.floored,
        capped: clamped.capped,
    };
    Ok((split, terms))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rust_decimal_macros::dec;

    /// Random terms like a pool's `w_k s_ik`, amounts like rounded pool amounts.
    fn case(rng: &mut rand_xoshiro::Xoshiro256PlusPlus) -> (Vec<Decimal>, Decimal, Decimal) {
        let nf = rng.random_range(1..10usize);
        let mut terms = Vec::new();
        for _ in 0..nf {
            let t = match rng.random_range(0..6u8) {
                0 => Decimal::ZERO,
                1 => dec!(0.25),
                _ => Decimal::from(rng.random_range(1..1_000_000u64)) / Decimal::from(rng.random_range(1..100_000_000u64)),
            };
            terms.push(t);
        }
        let b = money::sum(&terms).unwrap();
        let amount = match rng.random_range(0..4u8) {
            0 => Decimal::from(rng.random_range(0..100u64)),
            1 => Decimal::new(rng.random_range(0..1_000_000_000i64), 2),
            2 => Decimal::new(rng.random_range(0..1_000_000_000i64), 3),
            _ => Decimal::from(rng.random_range(0..10_000_000_000u64)),
        };
        (terms, b, amount)
    }

    #[test]
    fn contributions_decided_in_f64_equal_the_exact_ones() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let mut fast = 0;
        for _ in 0..20_000 {
            let (terms, b, amount) = case(&mut rng);
            let exact = contributions_exact(&terms, b, amount).unwrap();
            let mut cents = [0i64; MAX_TERMS];
            if contributions_f64(&terms, b, amount, &mut cents) {
                fast += 1;
                let f: Vec<Decimal> = cents[..terms.len()].iter().map(|&c| Decimal::new(c, 2)).collect();
                assert_eq!(f, exact, "terms {terms:?} amount {amount}");
            }
            if amount.round_dp(2) == amount {
                assert_eq!(exact.iter().sum::<Decimal>(), amount);
            }
        }
        assert!(fast > 10_000, "the f64 path should decide most cases, decided {fast}");
    }

    /// The stage's pool amounts in integers equal the `Decimal` method's (floor of the kept
    /// amount, quotas `D σ_q`, largest remainder by pool order) for every rounding unit, with
    /// and without a reserve, for a few pools and for many (the sorting branch).
    #[test]
    fn pool_amounts_in_integers_equal_the_decimal_method() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut s = crate::synth::scenario(&crate::synth::SynthOptions {
            cities: 2,
            counties: 4,
            seed: 1,
            ..Default::default()
        })
        .unwrap();
        let mut integer = 0;
        for case in 0..3_000 {
            s.rounding = [dec!(0.01), dec!(1), dec!(100), dec!(1000), dec!(0.001), dec!(50)][case % 6];
            let st = &mut s.stages[0];
            st.reserve = [dec!(0), dec!(0.02), dec!(0.035)][case % 3];
            let nq = if case % 10 == 0 { 40 } else { rng.random_range(1..5usize) };
            // shares summing exactly to 1, in hundredths or thousandths
            let denom: u32 = if case % 2 == 0 { 100 } else { 1000 };
            let mut left = denom;
            let template = st.pools[0].clone();
            st.pools = (0..nq)
                .map(|q| {
                    let k = if q + 1 == nq { left } else { rng.random_range(0..=left / 2) };
                    left -= k;
                    let mut p = template.clone();
                    p.share = Decimal::from(k) / Decimal::from(denom);
                    p
                })
                .collect();
            let a_p = match rng.random_range(0..3u8) {
                0 => Decimal::from(rng.random_range(0..100_000u64)),
                1 => Decimal::new(rng.random_range(0..10_000_000_000i64), 2),
                _ => Decimal::from(rng.random_range(0..10_000_000_000_000u64)),
            };
            let st = &s.stages[0];
            let mut shares = PoolShares::new(&s, st);
            let mut got = Vec::new();
            let d = shares.split(&s, st, a_p, &mut got).unwrap();
            let want_d = money::floor_to_multiple(a_p * (Decimal::ONE - st.reserve), s.rounding).unwrap();
            let quotas: Vec<Decimal> = st.pools.iter().map(|q| want_d * q.share).collect();
            let want = money::largest_remainder_indexed(want_d, &quotas, s.rounding).unwrap();
            assert_eq!((d, &got), (want_d, &want), "case {case}: {a_p} by {:?}", s.rounding);
            assert_eq!(got.iter().sum::<Decimal>(), d);
            integer += usize::from(shares.unit.is_some());
        }
        assert!(integer >= 2_000, "the integer method ran {integer} times");
    }

    #[test]
    fn contributions_of_a_single_factor_and_of_zero_terms_are_exact() {
        let mut cents = [0i64; MAX_TERMS];
        assert!(contributions_f64(&[dec!(0.3), dec!(0)], dec!(0.3), dec!(1234.56), &mut cents));
        assert_eq!(cents[..2], [123_456, 0]);
    }

    #[test]
    fn factor_shares_by_transform() {
        assert_eq!(
            factor_shares(&[dec!(1), dec!(3)], Transform::Share).unwrap(),
            vec![dec!(0.25), dec!(0.75)]
        );
        assert_eq!(
            factor_shares(&[dec!(1), dec!(3)], Transform::Inverse).unwrap(),
            vec![dec!(0.75), dec!(0.25)]
        );
        assert_eq!(
            factor_shares(&[dec!(1), dec!(3), dec!(5)], Transform::Gap { reference: dec!(4) }).unwrap(),
            vec![dec!(0.75), dec!(0.25), dec!(0)]
        );
        assert_eq!(factor_shares(&[dec!(0), dec!(0)], Transform::Share), Err(ShareError::ZeroSum));
        assert_eq!(
            factor_shares(&[dec!(1), dec!(0)], Transform::Inverse),
            Err(ShareError::NotPositive(1))
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod fast_path_tests {
    use super::*;
    use crate::synth::{scenario, SynthOptions};
    use rust_decimal_macros::dec;

    /// Every pool split the certified f64 path decided is the Decimal path's split (amounts,
    /// flags, adjustment) and every row's contributions are the Decimal path's; and the f64
    /// path decides almost every pool of realistic scenarios (else it would be dead weight).
    #[test]
    fn certified_splits_equal_the_decimal_splits() {
        let mut decided = 0usize;
        let mut pools = 0usize;
        for (seed, rounding, bounds, reserve, total) in [
            (1u64, dec!(1), true, dec!(0.02), dec!(3000000000)),
            (2, dec!(100), true, dec!(0), dec!(3000000000)),
            (3, dec!(0.01), false, dec!(0.05), dec!(123456789.12)),
            (4, dec!(1000), true, dec!(0.01), dec!(100000000000)),
            (5, dec!(10), true, dec!(0), dec!(987654321)),
        ] {
            let s = scenario(&SynthOptions {
                cities: 12,
                counties: 140,
                seed,
                rounding,
                bounds,
                reserve,
                total,
            })
            .unwrap();
            let a = allocate(&s).unwrap();
            let mut scratch = fast::Scratch::default();
            for sp in &a.splits {
                let st = &s.stages[sp.stage - 1];
                let pool = &st.pools[sp.pool];
                let pc = fast::PoolCols::new(&s, pool);
                let candidates = s.hierarchy.descendants_at_level(sp.from, &st.level);
                pools += 1;
                let w = sp.working(&s).unwrap();
                if let Some(f) = fast::split(&s, pool, &pc, sp.amount, &candidates, &mut scratch) {
                    decided += 1;
                    assert_eq!(f.recipients, w.recipients);
                    assert_eq!(f.amounts, w.amounts, "seed {seed}");
                    assert_eq!(f.floored, w.floored);
                    assert_eq!(f.capped, w.capped);
                    assert_eq!(f.adjust, w.adjust);
                }
                assert_eq!(sp.amounts, w.amounts);
            }
            // contributions of pool rows: recompute with the Decimal terms
            for sp in &a.splits {
                let st = &s.stages[sp.stage - 1];
                let pool = &st.pools[sp.pool];
                let candidates = s.hierarchy.descendants_at_level(sp.from, &st.level);
                let (w, terms) = split_pool_terms(&s, pool, sp.stage, sp.pool, sp.from, sp.amount, &candidates).unwrap();
                let nf = pool.factors.len();
                let fcol: Vec<Option<usize>> = pool
                    .factors
                    .iter()
                    .map(|f| a.factor_columns.iter().position(|c| c == &f.column))
                    .collect();
                for (j, &u) in w.recipients.iter().enumerate() {
                    let row = a
                        .rows
                        .iter()
                        .find(|r| r.unit == u && r.stage == sp.stage && a.label(r) == pool.id)
                        .unwrap();
                    let want = contributions_exact(&terms[j * nf..(j + 1) * nf], w.base[j], w.amounts[j]).unwrap();
                    let got = a.contrib(row);
                    for (k, c) in fcol.iter().enumerate() {
                        assert_eq!(got[c.unwrap()], want[k], "seed {seed} unit {u} factor {k}");
                    }
                }
            }
        }
        eprintln!("the f64 path decided {decided} of {pools} pools");
        assert!(decided * 10 >= pools * 9, "the f64 path decided {decided} of {pools} pools");
    }

    /// One city holding every county: pools of 1,500 recipients, where a bound growing with
    /// the number of recipients would rarely certify the cut-off between remainders.
    #[test]
    fn large_pools_are_decided_and_equal_the_decimal_split() {
        let s = scenario(&SynthOptions {
            cities: 1,
            counties: 1500,
            seed: 7,
            ..Default::default()
        })
        .unwrap();
        let a = allocate(&s).unwrap();
        let mut scratch = fast::Scratch::default();
        let mut decided = 0;
        for sp in a.splits.iter().filter(|x| x.stage == 2) {
            let st = &s.stages[1];
            let pool = &st.pools[sp.pool];
            let pc = fast::PoolCols::new(&s, pool);
            let candidates = s.hierarchy.descendants_at_level(sp.from, &st.level);
            let w = sp.working(&s).unwrap();
            if let Some(f) = fast::split(&s, pool, &pc, sp.amount, &candidates, &mut scratch) {
                decided += 1;
                assert_eq!(f.amounts, w.amounts);
                assert_eq!((f.floored, f.capped), (w.floored, w.capped));
            }
        }
        assert_eq!(decided, 2, "both stage-2 pools of 1,500 recipients are decided in f64");
    }
}
