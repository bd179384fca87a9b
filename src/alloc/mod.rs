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

use crate::error::{Diagnostic, InputErrors, Location};
use crate::money::{self, add, div, mul, sub, ArithError};
use crate::scenario::{Bound, Pool, Scenario, Stage, Transform};
use rust_decimal::Decimal;

/// What a row of the allocation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    /// A recipient's amount from one pool (the pool id).
    Pool(String),
    /// A recipient's total for the stage.
    Total,
    /// What an allocating unit withheld.
    Reserve,
    /// What an allocating unit kept because it has no units at the stage's level.
    Retained,
}

impl RowKind {
    /// The `pool` column of `allocation.csv`.
    pub fn label(&self) -> &str {
        match self {
            RowKind::Pool(id) => id,
            RowKind::Total => "total",
            RowKind::Reserve => "reserve",
            RowKind::Retained => "retained",
        }
    }
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
    /// Share of the pool (pool rows), of the distributable amount (total rows) or of the amount
    /// received (reserve and retained rows).
    pub share: Decimal,
    /// Part of `amount` attributable to each factor column ([`Allocation::factor_columns`]):
    /// `amount × w_k s_ik / b_i`, the amount split in proportion to the factor terms before
    /// adjustment, floors and caps; rounded to 0.01 so that the parts sum exactly to `amount`.
    pub contrib: Vec<Decimal>,
    /// Adjustment coefficient `c_i` (pool rows).
    pub adjust: Option<Decimal>,
    /// Raised to the floor.
    pub floored: bool,
    /// Cut to the cap.
    pub capped: bool,
}

/// The exact working of one pool for one allocating unit: everything needed to explain it.
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
    /// Rows in output order: per stage, pool rows (pool order, then allocating unit and
    /// recipient by id), then total rows, then reserve and retained rows.
    pub rows: Vec<AllocationRow>,
    /// Every pool split, for explanation, charts and the LP checks.
    pub splits: Vec<PoolSplit>,
    /// Per stage, the amount each unit received (index by unit), `None` if it received nothing.
    pub received: Vec<Vec<Option<Decimal>>>,
}

impl Allocation {
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
    let mut rows = Vec::new();
    let mut splits = Vec::new();
    let mut received: Vec<Vec<Option<Decimal>>> = Vec::new();
    let mut errs = InputErrors::default();
    let mut holding: Vec<Option<Decimal>> = vec![None; n];
    if let Some(slot) = holding.get_mut(h.root()) {
        *slot = s.stages.first().and_then(|st| st.total);
    }
    for (si, st) in s.stages.iter().enumerate() {
        let stage_no = si + 1;
        let mut got: Vec<Option<Decimal>> = vec![None; n];
        // rows reserved up front (recipients are units at the stage's level): growing vectors of
        // large rows step by step was a visible share of the time at national scale
        let at_level = h.units().iter().filter(|u| u.level == st.level).count();
        let mut pool_rows: Vec<Vec<AllocationRow>> = (0..st.pools.len()).map(|_| Vec::with_capacity(at_level)).collect();
        let mut total_rows = Vec::with_capacity(at_level);
        rows.reserve(at_level * (st.pools.len() + 1));
        let mut reserve_rows = Vec::new();
        let mut allocators: Vec<usize> = (0..n).filter(|&i| holding.get(i).copied().flatten().is_some()).collect();
        allocators.sort_by(|&a, &b| h.unit(a).map(|u| u.id.as_bytes()).cmp(&h.unit(b).map(|u| u.id.as_bytes())));
        let mut stage_in = Decimal::ZERO;
        let mut stage_out = Decimal::ZERO;
        for &p in &allocators {
            let a_p = holding.get(p).copied().flatten().unwrap_or_default();
            stage_in = stage_in.checked_add(a_p).unwrap_or(stage_in);
            let recipients_all = h.descendants_at_level(p, &st.level);
            if recipients_all.is_empty() {
                if !a_p.is_zero() {
                    reserve_rows.push(AllocationRow {
                        unit: p,
                        from: p,
                        stage: stage_no,
                        kind: RowKind::Retained,
                        amount: a_p,
                        share: Decimal::ONE,
                        contrib: vec![Decimal::ZERO; factor_columns.len()],
                        adjust: None,
                        floored: false,
                        capped: false,
                    });
                    stage_out = stage_out.checked_add(a_p).unwrap_or(stage_out);
                }
                continue;
            }
            match split_unit(s, st, stage_no, p, a_p, &recipients_all, &factor_columns) {
                Ok(out) => {
                    for (q, r) in out.pool_rows.into_iter().enumerate() {
                        if let Some(v) = pool_rows.get_mut(q) {
                            v.extend(r);
                        }
                    }
                    for r in &out.total_rows {
                        if let Some(g) = got.get_mut(r.unit) {
                            *g = Some(r.amount);
                        }
                        stage_out = stage_out.checked_add(r.amount).unwrap_or(stage_out);
                    }
                    total_rows.extend(out.total_rows);
                    if let Some(r) = out.reserve_row {
                        stage_out = stage_out.checked_add(r.amount).unwrap_or(stage_out);
                        reserve_rows.push(r);
                    }
                    splits.extend(out.splits);
                }
                Err(e) => errs.extend(e),
            }
        }
        if !errs.is_empty() {
            break;
        }
        if stage_in != stage_out {
            errs.push(
                Location::at(&s.toml_file, st.line, st.key.clone()),
                format!("internal check failed: stage {stage_no} received {stage_in} but handed out {stage_out}"),
            );
            break;
        }
        for v in pool_rows {
            rows.extend(v);
        }
        rows.extend(total_rows);
        rows.extend(reserve_rows);
        received.push(got.clone());
        holding = got;
    }
    errs.0.sort();
    errs.0.dedup();
    errs.into_result(Allocation {
        factor_columns,
        rows,
        splits,
        received,
    })
}

struct UnitOut {
    pool_rows: Vec<Vec<AllocationRow>>,
    total_rows: Vec<AllocationRow>,
    reserve_row: Option<AllocationRow>,
    splits: Vec<PoolSplit>,
}

fn split_unit(
    s: &Scenario,
    st: &Stage,
    stage_no: usize,
    p: usize,
    a_p: Decimal,
    recipients_all: &[usize],
    cols: &[String],
) -> Result<UnitOut, InputErrors> {
    let mut errs = InputErrors::default();
    let stage_loc = || Location::at(&s.toml_file, st.line, st.key.clone());
    let distributable = money::mul(a_p, Decimal::ONE - st.reserve)
        .and_then(|x| money::floor_to_multiple(x, s.rounding))
        .map_err(|e| InputErrors::one(stage_loc(), e.to_string()))?;
    let reserve = a_p - distributable;
    // D_P σ_q, with σ normalised by Σσ (= 1 within 1e-9, checked on load) so the quotas sum to D_P.
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
    let pool_amounts =
        money::largest_remainder_indexed(distributable, &quotas, s.rounding).map_err(|e| InputErrors::one(stage_loc(), e.to_string()))?;
    let mut pool_rows = Vec::new();
    let mut splits = Vec::new();
    let mut totals: Vec<(Decimal, Vec<Decimal>, bool, bool)> =
        vec![(Decimal::ZERO, vec![Decimal::ZERO; cols.len()], false, false); recipients_all.len()];
    for (qi, (pool, &amount)) in st.pools.iter().zip(&pool_amounts).enumerate() {
        match split_pool_terms(s, pool, stage_no, qi, p, amount, recipients_all) {
            Ok((sp, terms)) => {
                let nf = pool.factors.len();
                // position of each factor in the allocation's factor columns
                let fcol: Vec<Option<usize>> = pool.factors.iter().map(|f| cols.iter().position(|c| c == &f.column)).collect();
                let mut rows = Vec::with_capacity(sp.recipients.len());
                // the pool's recipients are a subsequence of `recipients_all` (same order)
                let mut cursor = 0usize;
                for (j, &u) in sp.recipients.iter().enumerate() {
                    let amt = sp.amounts.get(j).copied().unwrap_or_default();
                    let b = sp.base.get(j).copied().unwrap_or_default();
                    let row_terms = terms.get(j * nf..(j + 1) * nf).unwrap_or(&[]);
                    let contrib = contributions(row_terms, b, amt, &fcol, cols.len()).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
                    let share = if amount.is_zero() {
                        Decimal::ZERO
                    } else {
                        div(amt, amount).map_err(|e| InputErrors::from(arith(s, pool, e)))?
                    };
                    let row = AllocationRow {
                        unit: u,
                        from: p,
                        stage: stage_no,
                        kind: RowKind::Pool(pool.id.clone()),
                        amount: amt,
                        share,
                        contrib,
                        adjust: sp.adjust.get(j).copied(),
                        floored: sp.floored.get(j).copied().unwrap_or(false),
                        capped: sp.capped.get(j).copied().unwrap_or(false),
                    };
                    while recipients_all.get(cursor).is_some_and(|&x| x != u) {
                        cursor += 1;
                    }
                    if let Some(t) = totals.get_mut(cursor) {
                        t.0 += row.amount;
                        for (a, b) in t.1.iter_mut().zip(&row.contrib) {
                            *a += *b;
                        }
                        t.2 |= row.floored;
                        t.3 |= row.capped;
                    }
                    rows.push(row);
                }
                pool_rows.push(rows);
                splits.push(sp);
            }
            Err(e) => {
                errs.extend(e);
                pool_rows.push(Vec::new());
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let total_rows = recipients_all
        .iter()
        .zip(totals)
        .map(|(&u, (amount, contrib, floored, capped))| AllocationRow {
            unit: u,
            from: p,
            stage: stage_no,
            kind: RowKind::Total,
            share: if distributable.is_zero() {
                Decimal::ZERO
            } else {
                div(amount, distributable).unwrap_or_default()
            },
            amount,
            contrib,
            adjust: None,
            floored,
            capped,
        })
        .collect();
    let reserve_row = (!reserve.is_zero()).then(|| AllocationRow {
        unit: p,
        from: p,
        stage: stage_no,
        kind: RowKind::Reserve,
        amount: reserve,
        share: div(reserve, a_p).unwrap_or_default(),
        contrib: vec![Decimal::ZERO; cols.len()],
        adjust: None,
        floored: false,
        capped: false,
    });
    Ok(UnitOut {
        pool_rows,
        total_rows,
        reserve_row,
        splits,
    })
}

/// Splits the amount among factor columns in proportion to the terms `w_k s_ik` of
/// `b_i = Σ_k w_k s_ik`: quotas `amount × (w_k s_ik / b_i)` rounded to 0.01 by largest
/// remainder (ties by factor order), so the parts sum exactly to `amount`.
///
/// `terms` are the pool's factors' `w_k s_ik` for this recipient, `fcol` the position of each
/// factor among the allocation's `ncols` factor columns.
fn contributions(terms: &[Decimal], b: Decimal, amount: Decimal, fcol: &[Option<usize>], ncols: usize) -> Result<Vec<Decimal>, ArithError> {
    let mut out = vec![Decimal::ZERO; ncols];
    let mut cents = [0i64; 64];
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
fn contributions_f64(terms: &[Decimal], b: Decimal, amount: Decimal, cents_out: &mut [i64; 64]) -> bool {
    contributions_f64_inner(terms, b, amount, cents_out).is_some()
}

fn contributions_f64_inner(terms: &[Decimal], b: Decimal, amount: Decimal, floors: &mut [i64; 64]) -> Option<()> {
    if b <= Decimal::ZERO || amount <= Decimal::ZERO || terms.len() > 64 {
        return None;
    }
    // amount in cents, an integer below 2^53 (so exact in f64)
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
    if !(1..(1i128 << 53)).contains(&cents) {
        return None;
    }
    let a = cents as f64;
    let margin = a * 1e-13;
    let bf = dec_f64(b);
    let n = terms.len();
    let mut rems = [0f64; 64];
    let mut margins = [0f64; 64];
    let mut floor_sum: i128 = 0;
    for (k, ws) in terms.iter().enumerate() {
        let (fl, rem, mk) = if ws.is_zero() {
            (0i64, 0.0, 0.0)
        } else if *ws == b {
            (cents as i64, 0.0, 0.0)
        } else {
            let q = a * (dec_f64(*ws) / bf);
            if !(q >= 0.0 && q <= a) {
                return None;
            }
            let fl = q.floor();
            let rem = q - fl;
            if rem <= margin || rem >= 1.0 - margin {
                return None;
            }
            (fl as i64, rem, margin)
        };
        *floors.get_mut(k)? = fl;
        *rems.get_mut(k)? = rem;
        *margins.get_mut(k)? = mk;
        floor_sum += i128::from(fl);
    }
    let left = cents - floor_sum;
    if left < 0 || left > n as i128 {
        return None;
    }
    let left = left as usize;
    let mut order_buf = [0usize; 64];
    for (i, o) in order_buf.iter_mut().enumerate() {
        *o = i;
    }
    let order = order_buf.get_mut(..n)?;
    order.sort_unstable_by(|&x, &y| {
        let (rx, ry) = (rems.get(x).copied().unwrap_or(0.0), rems.get(y).copied().unwrap_or(0.0));
        ry.total_cmp(&rx).then(x.cmp(&y))
    });
    if left > 0 && left < n {
        let lo_in = order
            .get(..left)?
            .iter()
            .map(|&i| rems.get(i).copied().unwrap_or(0.0) - margins.get(i).copied().unwrap_or(0.0))
            .fold(f64::INFINITY, f64::min);
        let hi_out = order
            .get(left..)?
            .iter()
            .map(|&i| rems.get(i).copied().unwrap_or(0.0) + margins.get(i).copied().unwrap_or(0.0))
            .fold(f64::NEG_INFINITY, f64::max);
        if lo_in <= hi_out {
            return None;
        }
    }
    for &i in order.get(..left)? {
        *floors.get_mut(i)? += 1;
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
) -> Result<PoolSplit, InputErrors> {
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
) -> Result<(PoolSplit, Vec<Decimal>), InputErrors> {
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
    let split = PoolSplit {
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
            let mut cents = [0i64; 64];
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

    #[test]
    fn contributions_of_a_single_factor_and_of_zero_terms_are_exact() {
        let mut cents = [0i64; 64];
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
