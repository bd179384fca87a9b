//! The certified `f64` path of a pool split (SPEC §3 steps 2–6).
//!
//! The `Decimal` path ([`super::split_pool`]) costs one 96-bit division or multiplication per
//! factor share, base share, adjusted share and amount — about 90 % of an allocation's time at
//! national scale. Yet the only decisions that reach the output are discrete: which units are
//! eligible, which are raised to their floor or cut to their cap, the whole number of rounding
//! units in each amount and the order of the remainders. This path computes the same
//! quantities in `f64` together with a rigorous bound on their error, and accepts its answer
//! only when every decision is at least that bound away from the boundary where it would
//! change. Then it is the decision of the exact rational arithmetic of SPEC §3 (and of the
//! `Decimal` path, whose error is 10¹² times smaller). Otherwise — a tie, a remainder too close
//! to a neighbour, a unit on the edge of its floor, anything unusual such as missing or
//! negative values, a rounding unit that is not a power of ten, amounts beyond 2⁵⁰ units — it
//! returns `None` and the caller uses the `Decimal` path, which also reports the errors.
//!
//! ## The error bound
//! With `u = 2⁻⁵³`, `n` recipients and `K` factors, each input decimal is converted within `3u`
//! ([`super::dec_f64`]), an `inverse` adds `u`, a `gap` is formed exactly in `Decimal` first.
//! Sums over recipients are compensated (Neumaier), so their relative error is at most
//! `2u + 2nu²` beyond that of their non-negative terms. Following the steps:
//! `s_ik = t_i / Σt` within `12u + 4nu²`; `w_k s_ik` within `16u + 4nu²`; `b_i` (K terms)
//! within `(K + 15)u + 4nu²`; `b_i c_i` within `(K + 19)u + 4nu²`; `a_i` within
//! `(2K + 41)u + 10nu²`; `y_i = a_i P` within `(2K + 42)u + 10nu²`. `γ` below is twice that, to
//! cover the second-order terms with a wide margin. With floors and caps, the free amounts are
//! `y_i = N a_i / D` with `N = P − Σ_F f − Σ_C c` and `D = Σ_free a`: their error is at most
//! `2γ y_i + δ_N` with `δ_N = 2(4u + 2nu²)(P + Σ_F f + Σ_C c)`, because `a_i ≤ D`.
//! A tie in exact arithmetic can never be certified (both values would have to be apart), so
//! ties always go to the `Decimal` path and its tie-break by unit id.

// `!(x >= 0.0)` and the like are deliberate: they are also true for NaN, which must fall back.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use super::dec_f64;
use crate::money::UnitPow10;
use crate::scenario::{Bound, Pool, Scenario, Transform};
use rust_decimal::Decimal;

/// `2⁻⁵³`, the unit roundoff of `f64`.
const U: f64 = f64::EPSILON / 2.0;

/// Values at or above this are left to the `Decimal` path (which may overflow on them and then
/// reports it): `Decimal` holds up to about `7.9 × 10²⁸`.
const DECIMAL_SAFE: f64 = 1e26;

/// What the certified path decided for one pool. The terms and base shares behind it stay in
/// the [`Scratch`] until the next split ([`Scratch::terms`], [`Scratch::base`]).
#[derive(Debug, Clone)]
pub(super) struct FastSplit {
    /// Recipients (unit indices, in the order of the candidates).
    pub recipients: Vec<usize>,
    /// Rounded amounts.
    pub amounts: Vec<Decimal>,
    /// Adjustment coefficients `c_i`.
    pub adjust: Vec<Decimal>,
    /// Raised to the floor.
    pub floored: Vec<bool>,
    /// Cut to the cap.
    pub capped: Vec<bool>,
    /// Bound on the relative error of every ratio `w_k s_ik / b_i` formed from the terms.
    pub ratio_err: f64,
}

/// A factor's column as `f64` and as decimals.
type FactorCols<'a> = (Option<&'a [f64]>, Option<&'a [Option<Decimal>]>);

/// A floor or cap as the fast path reads it.
#[derive(Clone, Copy)]
enum BoundCol<'a> {
    /// No bound (a floor of 0, no cap).
    None,
    /// The same amount for every recipient: the decimal and its image in rounding units.
    Amount(Decimal, f64),
    /// A column (its decimals and their `f64` images, NaN where empty).
    Column(&'a [Option<Decimal>], &'a [f64]),
    /// A column that does not exist: the `Decimal` path reports it.
    Missing,
}

impl BoundCol<'_> {
    /// The bound of unit `u` in rounding units: `Some(None)` when it has none (empty cell),
    /// `None` when it is negative (the `Decimal` path reports that).
    fn units(&self, u: usize, pdiv: f64, pmul: f64) -> Option<Option<f64>> {
        match self {
            BoundCol::None => Some(None),
            BoundCol::Amount(_, x) => Some(Some(*x)),
            BoundCol::Column(_, f) => {
                let x = *f.get(u)?;
                if x.is_nan() {
                    Some(None)
                } else if x < 0.0 {
                    None
                } else {
                    Some(Some(x / pdiv * pmul))
                }
            }
            BoundCol::Missing => None,
        }
    }

    /// The exact bound of unit `u` (`None` when it has none).
    fn decimal(&self, u: usize) -> Option<Decimal> {
        match self {
            BoundCol::None | BoundCol::Missing => None,
            BoundCol::Amount(d, _) => Some(*d),
            BoundCol::Column(c, _) => c.get(u).copied().flatten(),
        }
    }
}

/// The columns a pool reads, looked up once per stage rather than once per allocating unit.
pub(super) struct PoolCols<'a> {
    unit: Option<UnitPow10>,
    /// `(divide, multiply)` turning yuan into rounding units: `10^e` as one of the two.
    to_units: (f64, f64),
    eligible: Option<&'a [f64]>,
    /// Per factor: the `f64` column (share, inverse) or the decimal column (gap).
    factors: Vec<FactorCols<'a>>,
    adjust: (Option<&'a [Option<Decimal>]>, Option<&'a [f64]>),
    floor: BoundCol<'a>,
    cap: BoundCol<'a>,
}

impl<'a> PoolCols<'a> {
    /// Looks up the pool's columns in the scenario's factor table.
    pub(super) fn new(s: &'a Scenario, pool: &Pool) -> PoolCols<'a> {
        let ft = &s.factors;
        let unit = UnitPow10::of(s.rounding);
        let pow = |k: i32| -> f64 {
            usize::try_from(k)
                .ok()
                .and_then(|k| super::POW10_F64.get(k))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let to_units = match unit.map(UnitPow10::exponent) {
            Some(e) if e >= 0 => (pow(e), 1.0),
            Some(e) => (1.0, pow(-e)),
            None => (f64::NAN, f64::NAN),
        };
        let bound = |b: &Option<Bound>| match b {
            None => BoundCol::None,
            Some(Bound::Amount(d)) => BoundCol::Amount(*d, dec_f64(*d) / to_units.0 * to_units.1),
            Some(Bound::Column(c)) => match (ft.column(c), ft.column_f64(c)) {
                (Some(d), Some(f)) => BoundCol::Column(d, f),
                _ => BoundCol::Missing,
            },
        };
        PoolCols {
            unit,
            to_units,
            eligible: pool.eligible.as_deref().and_then(|c| ft.column_f64(c)),
            factors: pool
                .factors
                .iter()
                .map(|f| (ft.column_f64(&f.column), ft.column(&f.column)))
                .collect(),
            adjust: match pool.adjust.as_deref() {
                Some(c) => (ft.column(c), ft.column_f64(c)),
                None => (None, None),
            },
            floor: bound(&pool.floor),
            cap: bound(&pool.cap),
        }
    }

    /// Hundredths of a yuan (cents) in one rounding unit, when the unit is at least a cent.
    pub(super) fn cents_per_unit(&self) -> Option<i64> {
        let e = self.unit?.exponent();
        10i64.checked_pow(u32::try_from(e.checked_add(2)?).ok()?)
    }
}

/// Working vectors reused from one pool split to the next (allocating them per split cost as
/// much as the arithmetic at national scale).
#[derive(Default)]
pub(super) struct Scratch {
    t: Vec<f64>,
    a: Vec<f64>,
    terms: Vec<f64>,
    base: Vec<f64>,
    quotas: Vec<Quota>,
    fu: Vec<f64>,
    cu: Vec<f64>,
    events: Vec<(f64, usize, u8)>,
    fixed: Vec<u8>,
    order: Vec<(f64, i64, u32, usize)>,
    units: Vec<i64>,
}

impl Scratch {
    /// The last split's terms `w_k s_ik` (recipient-major, one per factor of the pool).
    pub(super) fn terms(&self) -> &[f64] {
        &self.terms
    }

    /// The last split's base shares `b_i`.
    pub(super) fn base(&self) -> &[f64] {
        &self.base
    }

    /// The last split's amounts in rounding units.
    pub(super) fn units(&self) -> &[i64] {
        &self.units
    }
}

/// Compensated (Neumaier) sum: error at most `2u|Σ| + 2nu² Σ|x|`.
///
/// Each addition's rounding error `(s + x) − fl(s + x)` is recovered exactly by Knuth's
/// TwoSum (six operations, no branch), the same error Neumaier's ordered FastTwoSum recovers
/// by branching on `|s| ≥ |x|`; so the sum is bit for bit Neumaier's, without a branch the
/// predictor misses on data of mixed sizes.
fn neumaier(xs: impl Iterator<Item = f64>) -> f64 {
    let mut sum = 0.0f64;
    let mut c = 0.0f64;
    for x in xs {
        let t = sum + x;
        let z = t - sum;
        c += (sum - (t - z)) + (x - z);
        sum = t;
    }
    sum + c
}

/// A quota in rounding units: whole units and remainder, with the remainder's error bound
/// (`0` when the quota is an exact decimal, whose remainder is then also known exactly at 18
/// places, as `rem18`).
#[derive(Clone, Copy)]
struct Quota {
    whole: i64,
    rem: f64,
    rem18: i64,
    err: f64,
}

/// Largest remainder on certified quotas: the units left after the floors go one each to the
/// largest remainders, ties by unit id (`rank(i)`, the recipient's position in id order). The
/// whole units are written to `out`; `None` when the choice is not certain.
///
/// Two quotas closer than their errors are still ordered with certainty when they are exact
/// (their remainders are known at 18 places) or when `same(i, j)` says the two units have
/// identical inputs: their exact quotas are then equal (every pool-wide sum is shared), a true
/// tie, which the id decides — recipients with the same factor values are common.
fn round_certified(
    total_units: i64,
    quotas: &[Quota],
    rank: impl Fn(usize) -> u32,
    same: impl Fn(usize, usize) -> bool,
    order: &mut Vec<(f64, i64, u32, usize)>,
    out: &mut Vec<i64>,
) -> Option<()> {
    let n = quotas.len();
    let floors: i64 = quotas.iter().try_fold(0i64, |acc, q| acc.checked_add(q.whole))?;
    let left = total_units.checked_sub(floors)?;
    if left < 0 || left > n as i64 {
        return None;
    }
    let left = left as usize;
    out.clear();
    out.extend(quotas.iter().map(|q| q.whole));
    if left == 0 {
        return Some(());
    }
    order.clear();
    order.extend(quotas.iter().enumerate().map(|(i, q)| (q.rem, q.rem18, rank(i), i)));
    // the `left` first in (remainder ↓, exact remainder ↓, id ↑) order: only the set matters
    if left < n {
        if !sort_small(order) {
            order.select_nth_unstable_by(left, |x, y| y.0.total_cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
        }
        // every pair (chosen, not chosen) with an inexact member must be apart by more than
        // both errors; exact pairs were ordered exactly (remainder at 18 places, then id)
        const EXACT_IMAGE: f64 = 1e-15; // error of an exact remainder's f64 image
        let (chosen, rest) = order.split_at(left);
        let mut lo_in_inexact = f64::INFINITY;
        let mut lo_in_all = f64::INFINITY;
        for q in chosen.iter().filter_map(|x| quotas.get(x.3)) {
            if q.err > 0.0 {
                lo_in_inexact = lo_in_inexact.min(q.rem - q.err);
            }
            lo_in_all = lo_in_all.min(q.rem - q.err.max(EXACT_IMAGE));
        }
        let mut hi_out_inexact = f64::NEG_INFINITY;
        let mut hi_out_all = f64::NEG_INFINITY;
        for q in rest.iter().filter_map(|x| quotas.get(x.3)) {
            if q.err > 0.0 {
                hi_out_inexact = hi_out_inexact.max(q.rem + q.err);
            }
            hi_out_all = hi_out_all.max(q.rem + q.err.max(EXACT_IMAGE));
        }
        if !(lo_in_inexact > hi_out_all && lo_in_all > hi_out_inexact) {
            // the quotas near the cut: every close (chosen, not chosen) pair must be exact on
            // both sides or a true tie of identical inputs
            let err = |q: &Quota| q.err.max(EXACT_IMAGE);
            let near_in: Vec<usize> = chosen
                .iter()
                .filter(|x| quotas.get(x.3).is_some_and(|q| q.rem - err(q) <= hi_out_all))
                .map(|x| x.3)
                .collect();
            let near_out: Vec<usize> = rest
                .iter()
                .filter(|x| quotas.get(x.3).is_some_and(|q| q.rem + err(q) >= lo_in_all))
                .map(|x| x.3)
                .collect();
            if near_in.len() * near_out.len() > 100_000 {
                return None;
            }
            for &i in &near_in {
                for &j in &near_out {
                    let (qi, qj) = (quotas.get(i)?, quotas.get(j)?);
                    let apart = qi.rem - err(qi) > qj.rem + err(qj);
                    let exact = qi.err == 0.0 && qj.err == 0.0;
                    let tie = qi.rem == qj.rem && qi.err == qj.err && same(i, j);
                    if !(apart || exact || tie) {
                        return None;
                    }
                }
            }
        }
    }
    for x in order.get(..left)? {
        *out.get_mut(x.3)? += 1;
    }
    Some(())
}

/// Sorts a small pool's `(remainder, exact remainder, id rank, position)` entries into
/// (remainder ↓, exact remainder ↓, id rank ↑) order, the order [`round_certified`] selects
/// in, by counting for each entry the entries before it — branch-free on one 128-bit key per
/// entry (the remainder's bits inverted, a remainder ≥ 0 ordering as its bits; the exact
/// remainder, below 2⁶⁰, inverted; the position), where a selection comparing random
/// remainders one by one mispredicts. The key orders by position for the id rank, so it
/// applies only when the ranks increase with the positions (recipients come in id order);
/// `false`, and nothing changed, when it does not apply: more than 16 entries, a negative
/// (also `-0.0`) or not-a-number remainder, an exact remainder out of range, ranks out of order.
fn sort_small(order: &mut [(f64, i64, u32, usize)]) -> bool {
    const N: usize = 16;
    if order.len() > N {
        return false;
    }
    let mut keys = [u128::MAX; N];
    let mut prev_rank: Option<u32> = None;
    for (pos, (&(rem, rem18, rank, _), key)) in order.iter().zip(keys.iter_mut()).enumerate() {
        if !(rem >= 0.0) || rem.is_sign_negative() || !(0..(1i64 << 60)).contains(&rem18) || prev_rank.is_some_and(|p| p >= rank) {
            return false;
        }
        prev_rank = Some(rank);
        let exact = !(rem18 as u64) & ((1u64 << 60) - 1);
        *key = (u128::from(!rem.to_bits()) << 64) | (u128::from(exact) << 4) | pos as u128;
    }
    let keys = keys.get(..order.len()).unwrap_or(&[]);
    let mut sorted = [(0f64, 0i64, 0u32, 0usize); N];
    for (&key, &entry) in keys.iter().zip(order.iter()) {
        // the keys differ (positions), so a key's place is the number of smaller ones
        let place: usize = keys.iter().map(|&other| usize::from(other < key)).sum();
        if let Some(slot) = sorted.get_mut(place) {
            *slot = entry;
        }
    }
    for (o, &x) in order.iter_mut().zip(sorted.iter()) {
        *o = x;
    }
    true
}

/// `2⁵⁰`: pool amounts and quotas in rounding units stay below this, so that they and their
/// remainders are exact in `f64` with room for the error bounds.
const MAX_UNITS: f64 = 1_125_899_906_842_624.0;

/// A free quota `y` (in rounding units, within `err`): whole units by truncation (`y ≥ 0`) and
/// the remainder, certified to lie farther than `err` from 0 and 1.
fn free_quota(y: f64, err: f64) -> Option<Quota> {
    if !(0.0..MAX_UNITS).contains(&y) {
        return None;
    }
    let whole = y as i64;
    let rem = y - whole as f64;
    if !(rem > err && rem < 1.0 - err) {
        return None;
    }
    Some(Quota {
        whole,
        rem,
        rem18: (rem * 1e18) as i64,
        err,
    })
}

/// The candidate clamp level `λ` of `y_i = min(c_i, max(f_i, λ a_i))`, `Σ y = P` (units):
/// fixed-point iteration on the sets of floored and capped units, which settles in two or
/// three rounds on real data; the breakpoint sweep of [`clamp::clamp_to_pool`] when it does
/// not settle. Either way the caller certifies the sets it implies.
///
/// [`clamp::clamp_to_pool`]: super::clamp::clamp_to_pool
fn clamp_level(pu: f64, a: &[f64], fu: &[f64], cu: &[f64], floor_sum: f64, events: &mut Vec<(f64, usize, u8)>) -> Option<f64> {
    clamp_iterate(pu, a, fu, cu).or_else(|| clamp_sweep(pu, a, fu, cu, floor_sum, events))
}

/// `λ` by fixed-point iteration: `λ = (P − Σ_F f − Σ_C c) / Σ_free a` on the current sets,
/// then the sets `λ` implies, until they repeat (`None` after 8 rounds).
fn clamp_iterate(pu: f64, a: &[f64], fu: &[f64], cu: &[f64]) -> Option<f64> {
    let (mut fixed_sum, mut free_sum) = (0.0f64, a.iter().sum::<f64>());
    for _ in 0..8 {
        if !(free_sum > 0.0) {
            break;
        }
        let lambda = (pu - fixed_sum) / free_sum;
        let (mut fs, mut ws) = (0.0f64, 0.0f64);
        for ((&ai, &f), &c) in a.iter().zip(fu).zip(cu) {
            let raw = lambda * ai;
            if raw > c {
                fs += c;
            } else if raw < f {
                fs += f;
            } else {
                ws += ai;
            }
        }
        if fs == fixed_sum && ws == free_sum {
            return Some(lambda);
        }
        (fixed_sum, free_sum) = (fs, ws);
    }
    None
}

/// `λ` by the sweep over the breakpoints `f_i / a_i` and `c_i / a_i` in increasing order,
/// on which `Σ y(λ)` is piecewise linear.
fn clamp_sweep(pu: f64, a: &[f64], fu: &[f64], cu: &[f64], floor_sum: f64, events: &mut Vec<(f64, usize, u8)>) -> Option<f64> {
    events.clear();
    for (i, &ai) in a.iter().enumerate() {
        if ai > 0.0 {
            let (f, c) = (*fu.get(i)?, *cu.get(i)?);
            events.push((f / ai, i, 0));
            if c.is_finite() {
                events.push((c / ai, i, 1));
            }
        }
    }
    if events.iter().any(|e| !(e.0 < DECIMAL_SAFE)) {
        return None;
    }
    events.sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.2.cmp(&y.2)).then(x.1.cmp(&y.1)));
    let (mut value, mut slope, mut lambda) = (floor_sum, 0.0f64, 0.0f64);
    let mut idx = 0;
    while let Some(&(next, _, _)) = events.get(idx) {
        let at_next = value + slope * (next - lambda);
        if slope > 0.0 && at_next >= pu {
            return Some(lambda + (pu - value) / slope);
        }
        value = at_next;
        lambda = next;
        while let Some(&(l, i, kind)) = events.get(idx) {
            if l != next {
                break;
            }
            let ai = *a.get(i)?;
            if kind == 0 {
                slope += ai;
            } else {
                slope -= ai;
            }
            idx += 1;
        }
    }
    (slope > 0.0).then(|| lambda + (pu - value) / slope)
}

/// The certified split of `amount` (a multiple of the scenario's rounding) among the eligible
/// `candidates` by the pool's formula; `None` when the `Decimal` path must decide.
pub(super) fn split(
    s: &Scenario,
    pool: &Pool,
    pc: &PoolCols<'_>,
    amount: Decimal,
    candidates: &[usize],
    scratch: &mut Scratch,
) -> Option<FastSplit> {
    let Scratch {
        t,
        a,
        terms,
        base,
        quotas,
        fu,
        cu,
        events,
        fixed,
        order,
        units,
    } = scratch;
    let unit = pc.unit?;
    let (p_units, p_rem) = unit.split(amount)?;
    if p_rem != 0 || !(0..(1i128 << 50)).contains(&p_units) {
        return None;
    }
    let p_units = i64::try_from(p_units).ok()?;
    let pu = p_units as f64;
    // decimal → f64 in rounding units, within 4u
    let (pdiv, pmul) = pc.to_units;
    let to_units = |d: Decimal| dec_f64(d) / pdiv * pmul;

    // 2. recipients
    let mut recipients = Vec::with_capacity(candidates.len());
    match &pool.eligible {
        None => recipients.extend_from_slice(candidates),
        Some(_) => {
            let c = pc.eligible?;
            for &u in candidates {
                let v = *c.get(u)?;
                if v.is_nan() {
                    return None;
                }
                if v != 0.0 {
                    recipients.push(u);
                }
            }
        }
    }
    let n = recipients.len();
    let nf = pool.factors.len();
    if n == 0 || nf == 0 || nf > 64 {
        return None;
    }
    let nu2 = n as f64 * U * U;

    // 3–4. factor shares and base shares
    terms.clear();
    terms.resize(n * nf, 0.0);
    base.clear();
    base.resize(n, 0.0);
    for (k, (f, (col_f64, col_dec))) in pool.factors.iter().zip(&pc.factors).enumerate() {
        t.clear();
        match f.transform {
            Transform::Share => {
                let c = (*col_f64)?;
                for &u in &recipients {
                    let x = *c.get(u)?;
                    if !(x >= 0.0) {
                        return None;
                    }
                    t.push(x);
                }
            }
            Transform::Inverse => {
                let c = (*col_f64)?;
                for &u in &recipients {
                    let x = *c.get(u)?;
                    if !(x > 0.0) {
                        return None;
                    }
                    t.push(1.0 / x);
                }
            }
            Transform::Gap { reference } => {
                let c = (*col_dec)?;
                for &u in &recipients {
                    let x = (*c.get(u)?)?;
                    let g = reference.checked_sub(x)?;
                    t.push(if g > Decimal::ZERO { dec_f64(g) } else { 0.0 });
                }
            }
        }
        let sum = neumaier(t.iter().copied());
        if !(sum > 0.0 && sum < DECIMAL_SAFE) {
            return None;
        }
        // w (x / Σ) and x (w / Σ) are both two roundings of the same product
        let ws = dec_f64(f.weight) / sum;
        for ((row, b), &x) in terms.chunks_exact_mut(nf).zip(base.iter_mut()).zip(t.iter()) {
            let term = x * ws;
            *row.get_mut(k)? = term;
            *b += term;
        }
    }

    // 5. adjusted shares
    let mut adjust = Vec::with_capacity(n);
    a.clear();
    match &pool.adjust {
        None => {
            adjust.resize(n, Decimal::ONE);
            a.extend_from_slice(base);
        }
        Some(_) => {
            let (cd, cf) = (pc.adjust.0?, pc.adjust.1?);
            for (&u, &b) in recipients.iter().zip(base.iter()) {
                let (d, x) = ((*cd.get(u)?)?, *cf.get(u)?);
                if !(x >= 0.0) || d.is_sign_negative() && !d.is_zero() {
                    return None;
                }
                adjust.push(d);
                a.push(b * x);
            }
        }
    }
    let bc_sum = neumaier(a.iter().copied());
    if !(bc_sum > 0.0 && bc_sum < DECIMAL_SAFE) {
        return None;
    }
    for x in a.iter_mut() {
        *x /= bc_sum;
    }
    let gamma = 2.0 * ((2.0 * nf as f64 + 42.0) * U + 10.0 * nu2);

    // floors and caps: their images in units, the exact decimals only where a bound binds
    let bounded = pool.floor.is_some() || pool.cap.is_some() || pool.cap_share.is_some();
    quotas.clear();
    let mut floored = vec![false; n];
    let mut capped = vec![false; n];
    let exact_quota = |d: Decimal| -> Option<Quota> {
        let (whole, rem18) = unit.split(d)?;
        Some(Quota {
            whole: i64::try_from(whole).ok()?,
            rem: rem18 as f64 * 1e-18,
            rem18: i64::try_from(rem18).ok()?,
            err: 0.0,
        })
    };
    let cap_share_amount = match pool.cap_share {
        Some(cs) => Some(cs.checked_mul(amount)?),
        None => None,
    };
    // the exact floor and cap of recipient i (cap: the smaller of the column's and the share's)
    let floor_dec = |i: usize| -> Option<Decimal> { recipients.get(i).and_then(|&u| pc.floor.decimal(u)) };
    let cap_dec = |i: usize| -> Option<Decimal> {
        let col = recipients.get(i).and_then(|&u| pc.cap.decimal(u));
        match (col, cap_share_amount) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        }
    };
    if !bounded {
        for &ai in a.iter() {
            let y = ai * pu;
            quotas.push(free_quota(y, gamma * y)?);
        }
    } else {
        let share_units = cap_share_amount.map(&to_units);
        fu.clear();
        cu.clear();
        for (i, &u) in recipients.iter().enumerate() {
            let f = pc.floor.units(u, pdiv, pmul)?.unwrap_or(0.0);
            let c = match (pc.cap.units(u, pdiv, pmul)?, share_units) {
                (Some(x), Some(y)) => x.min(y),
                (x, y) => x.or(y).unwrap_or(f64::INFINITY),
            };
            // a floor above the cap is the Decimal path's to report; images this close are
            // compared exactly
            if !(f <= c * (1.0 - 16.0 * U)) && c.is_finite() {
                let (Some(fd), Some(cd)) = (floor_dec(i).or(Some(Decimal::ZERO)), cap_dec(i)) else {
                    return None;
                };
                if fd > cd {
                    return None;
                }
            }
            fu.push(f);
            cu.push(c);
        }
        let floor_sum = neumaier(fu.iter().copied());
        if !(floor_sum < pu * (1.0 - 1e-9)) || floor_sum >= DECIMAL_SAFE {
            return None;
        }
        let lambda = clamp_level(pu, a, fu, cu, floor_sum, events)?;
        // the sets it implies, then λ from its formula on those sets, and their certification
        fixed.clear(); // 0 free, 1 floored, 2 capped
        for ((&ai, &f), &c) in a.iter().zip(fu.iter()).zip(cu.iter()) {
            let raw = lambda * ai;
            fixed.push(if raw > c {
                2u8
            } else if raw < f {
                1
            } else {
                0
            });
        }
        let bound_parts = fixed.iter().zip(fu.iter().zip(cu.iter())).filter_map(|(&k, (&f, &c))| match k {
            1 => Some(f),
            2 => Some(c),
            _ => None,
        });
        let bound_total = neumaier(bound_parts.clone());
        let numer = neumaier(std::iter::once(pu).chain(bound_parts.map(|x| -x)));
        let denom = neumaier(a.iter().zip(fixed.iter()).filter(|(_, &k)| k == 0).map(|(x, _)| *x));
        if !(denom > 0.0 && numer > 0.0) {
            return None;
        }
        let lam = numer / denom;
        let delta_n = 2.0 * (4.0 * U + 2.0 * nu2) * (pu + bound_total);
        for (i, ((&ai, &k), (&f, &c))) in a.iter().zip(fixed.iter()).zip(fu.iter().zip(cu.iter())).enumerate() {
            let y = lam * ai;
            let err = 2.0 * gamma * y + delta_n;
            let q = match k {
                0 => {
                    // free: strictly between floor and cap
                    if f != 0.0 && !(y - err > f * (1.0 + 5.0 * U)) {
                        return None;
                    }
                    if c.is_finite() && !(y + err < c * (1.0 - 5.0 * U)) {
                        return None;
                    }
                    if ai == 0.0 {
                        exact_quota(Decimal::ZERO)?
                    } else {
                        free_quota(y, err)?
                    }
                }
                1 => {
                    if ai > 0.0 && !(y + err < f * (1.0 - 5.0 * U)) {
                        return None;
                    }
                    *floored.get_mut(i)? = true;
                    exact_quota(floor_dec(i).unwrap_or_default())?
                }
                _ => {
                    if !(y - err > c * (1.0 + 5.0 * U)) {
                        return None;
                    }
                    *capped.get_mut(i)? = true;
                    exact_quota(cap_dec(i)?)?
                }
            };
            quotas.push(q);
        }
    }

    // 6. rounding
    let h = &s.hierarchy;
    let rank = |i: usize| recipients.get(i).map_or(u32::MAX, |&u| h.id_rank(u));
    // identical inputs (decimal factor values, adjustment, floor and cap) give identical
    // exact quotas
    let same = |i: usize, j: usize| -> bool {
        let (Some(&ui), Some(&uj)) = (recipients.get(i), recipients.get(j)) else {
            return false;
        };
        let col_eq = |c: Option<&[Option<Decimal>]>| c.is_some_and(|c| c.get(ui) == c.get(uj));
        pc.factors.iter().all(|(_, dec)| col_eq(*dec))
            && (pool.adjust.is_none() || col_eq(pc.adjust.0))
            && (!bounded || floor_dec(i) == floor_dec(j) && cap_dec(i) == cap_dec(j))
    };
    round_certified(p_units, quotas, rank, same, order, units)?;
    let mut amounts = Vec::with_capacity(n);
    for &k in units.iter() {
        amounts.push(unit.amount_i64(k)?);
    }
    let ratio_err = 2.0 * ((nf as f64 + 32.0) * U + 8.0 * nu2);
    Some(FastSplit {
        recipients,
        amounts,
        adjust,
        floored,
        capped,
        ratio_err,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The branch-free sum is bit for bit the branching Neumaier sum.
    #[test]
    fn two_sum_is_neumaier_bit_for_bit() {
        use rand::{RngExt, SeedableRng};
        fn branching(xs: &[f64]) -> f64 {
            let (mut sum, mut c) = (0.0f64, 0.0f64);
            for &x in xs {
                let t = sum + x;
                if sum.abs() >= x.abs() {
                    c += (sum - t) + x;
                } else {
                    c += (x - t) + sum;
                }
                sum = t;
            }
            sum + c
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(17);
        for _ in 0..20_000 {
            let n = rng.random_range(1..60usize);
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    let mag = 10f64.powi(rng.random_range(-12..20i32));
                    let x = rng.random_range(0.0..1.0f64) * mag;
                    if rng.random_range(0..4u8) == 0 {
                        -x
                    } else {
                        x
                    }
                })
                .collect();
            assert_eq!(neumaier(xs.iter().copied()).to_bits(), branching(&xs).to_bits(), "{xs:?}");
        }
    }

    #[test]
    fn neumaier_sums_what_naive_summation_loses() {
        let xs = [1e16, 1.0, -1e16, 1.0];
        assert_eq!(neumaier(xs.iter().copied()), 2.0);
    }

    /// `Σ min(c, max(f, λ a))`.
    fn clamped_sum(lambda: f64, a: &[f64], fu: &[f64], cu: &[f64]) -> f64 {
        a.iter().zip(fu).zip(cu).map(|((&a, &f), &c)| (lambda * a).max(f).min(c)).sum()
    }

    /// Both ways of finding the clamp level solve `Σ y = P` on random floors and caps, and the
    /// iteration settles on almost all of them (else the sweep does the work).
    #[test]
    fn clamp_level_by_iteration_and_by_sweep_solve_the_pool() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let (mut settled, mut cases) = (0, 0);
        let mut events = Vec::new();
        for _ in 0..2_000 {
            let n = rng.random_range(1..40usize);
            let mut a: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0f64)).collect();
            let sum: f64 = a.iter().sum();
            if sum <= 0.0 {
                continue;
            }
            a.iter_mut().for_each(|x| *x /= sum);
            let pu = 1_000_000.0;
            let fu: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.random_range(0..3u8) == 0 {
                        rng.random_range(0.0..2.0 * pu / n as f64)
                    } else {
                        0.0
                    }
                })
                .collect();
            let cu: Vec<f64> = fu
                .iter()
                .map(|&f| {
                    if rng.random_range(0..3u8) == 0 {
                        f + rng.random_range(0.0..pu / n as f64)
                    } else {
                        f64::INFINITY
                    }
                })
                .collect();
            let floor_sum: f64 = fu.iter().sum();
            let cap_sum: f64 = cu.iter().sum();
            if !(floor_sum < pu * 0.99 && cap_sum > pu * 1.01) {
                continue;
            }
            cases += 1;
            let swept = clamp_sweep(pu, &a, &fu, &cu, floor_sum, &mut events).unwrap();
            assert!((clamped_sum(swept, &a, &fu, &cu) - pu).abs() < 1e-6 * pu, "sweep");
            if let Some(l) = clamp_iterate(pu, &a, &fu, &cu) {
                settled += 1;
                assert!((clamped_sum(l, &a, &fu, &cu) - pu).abs() < 1e-6 * pu, "iteration");
            }
            let l = clamp_level(pu, &a, &fu, &cu, floor_sum, &mut events).unwrap();
            assert!((clamped_sum(l, &a, &fu, &cu) - pu).abs() < 1e-6 * pu);
        }
        assert!(cases > 500, "{cases} feasible cases");
        assert!(settled * 10 >= cases * 9, "the iteration settled on {settled} of {cases}");
    }

    /// The branch-free sort of a small pool gives the comparator's order, and declines what
    /// it cannot order.
    #[test]
    fn small_pools_sort_in_the_selection_order() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(9);
        let by = |x: &(f64, i64, u32, usize), y: &(f64, i64, u32, usize)| y.0.total_cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2));
        for _ in 0..5_000 {
            let n = rng.random_range(1..=16usize);
            let mut rank = 0u32;
            let mut order: Vec<(f64, i64, u32, usize)> = (0..n)
                .map(|i| {
                    rank += rng.random_range(1..4u32);
                    // few distinct remainders, so ties on the remainder and on both happen
                    let rem18 = [0i64, 250_000_000_000_000_000, 500_000_000_000_000_000, 999_999_999_999_999_999]
                        [rng.random_range(0..4usize)]
                        + rng.random_range(0..2i64);
                    let rem = if rng.random_range(0..3u8) == 0 {
                        rng.random_range(0.0..1.0f64)
                    } else {
                        rem18 as f64 * 1e-18
                    };
                    (rem, rem18, rank, i)
                })
                .collect();
            let mut want = order.clone();
            want.sort_by(by);
            assert!(sort_small(&mut order));
            assert_eq!(order, want);
        }
        // out of id order, too many, negative: declined and untouched
        let mut o = vec![(0.5, 5, 2u32, 0usize), (0.7, 7, 1, 1)];
        assert!(!sort_small(&mut o));
        assert_eq!(o, vec![(0.5, 5, 2u32, 0usize), (0.7, 7, 1, 1)]);
        assert!(!sort_small(&mut vec![(0.5, 5, 0u32, 0usize); 17]));
        assert!(!sort_small(&mut [(-0.5, 5, 0u32, 0usize)]));
        assert!(!sort_small(&mut [(0.5, 5, 0u32, 0usize), (-0.0, 5, 1, 1)]));
    }

    #[test]
    fn ties_are_never_certified() {
        let q = Quota {
            whole: 0,
            rem: 0.5,
            rem18: 500_000_000_000_000_000,
            err: 1e-12,
        };
        let (mut order, mut out) = (Vec::new(), Vec::new());
        let ranks = |i: usize| [0, 1][i];
        assert_eq!(round_certified(1, &[q, q], ranks, |_, _| false, &mut order, &mut out), None);
        // inexact but identical inputs: a true tie, ordered by id
        assert_eq!(
            round_certified(1, &[q, q], |i: usize| [1, 0][i], |_, _| true, &mut order, &mut out),
            Some(())
        );
        assert_eq!(out, vec![0, 1]);
        // exact ties are ordered by id
        let e = Quota { err: 0.0, ..q };
        let ranks = |i: usize| [1, 0][i];
        assert_eq!(round_certified(1, &[e, e], ranks, |_, _| false, &mut order, &mut out), Some(()));
        assert_eq!(out, vec![0, 1]);
    }
}
