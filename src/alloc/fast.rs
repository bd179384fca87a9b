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

/// What the certified path decided for one pool.
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
    /// The terms `w_k s_ik` (recipient-major, one per factor of the pool).
    pub terms: Vec<f64>,
    /// Base shares `b_i`.
    pub base: Vec<f64>,
    /// Bound on the relative error of every ratio `w_k s_ik / b_i` formed from these.
    pub ratio_err: f64,
}

/// A factor's column as `f64` and as decimals.
type FactorCols<'a> = (Option<&'a [f64]>, Option<&'a [Option<Decimal>]>);

/// The columns a pool reads, looked up once per stage rather than once per allocating unit.
pub(super) struct PoolCols<'a> {
    unit: Option<UnitPow10>,
    eligible: Option<&'a [f64]>,
    /// Per factor: the `f64` column (share, inverse) or the decimal column (gap).
    factors: Vec<FactorCols<'a>>,
    adjust: (Option<&'a [Option<Decimal>]>, Option<&'a [f64]>),
    floor: Option<&'a [Option<Decimal>]>,
    cap: Option<&'a [Option<Decimal>]>,
}

impl<'a> PoolCols<'a> {
    /// Looks up the pool's columns in the scenario's factor table.
    pub(super) fn new(s: &'a Scenario, pool: &Pool) -> PoolCols<'a> {
        let ft = &s.factors;
        let bound = |b: &Option<Bound>| match b {
            Some(Bound::Column(c)) => ft.column(c),
            _ => None,
        };
        PoolCols {
            unit: UnitPow10::of(s.rounding),
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
}

/// Working vectors reused from one pool split to the next (allocating them per split cost as
/// much as the arithmetic at national scale).
#[derive(Default)]
pub(super) struct Scratch {
    t: Vec<f64>,
    a: Vec<f64>,
    quotas: Vec<Quota>,
    floors: Vec<Decimal>,
    caps: Vec<Option<Decimal>>,
    fu: Vec<f64>,
    cu: Vec<f64>,
    events: Vec<(f64, usize, u8)>,
    fixed: Vec<u8>,
    order: Vec<(f64, i128, usize)>,
    units: Vec<i128>,
}

/// Compensated (Neumaier) sum: error at most `2u|Σ| + 2nu² Σ|x|`.
fn neumaier(xs: impl Iterator<Item = f64>) -> f64 {
    let mut sum = 0.0f64;
    let mut c = 0.0f64;
    for x in xs {
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

/// A quota in rounding units: whole units and remainder, with the remainder's error bound
/// (`0` when the quota is an exact decimal, whose remainder is then also known exactly at 18
/// places, as `rem18`).
#[derive(Clone, Copy)]
struct Quota {
    whole: i128,
    rem: f64,
    rem18: i128,
    err: f64,
}

/// Largest remainder on certified quotas: the units left after the floors go one each to the
/// largest remainders, ties by unit id (`id(i)`). The whole units are written to `out`; `None`
/// when the choice is not certain.
///
/// Two quotas closer than their errors are still ordered with certainty when they are exact
/// (their remainders are known at 18 places) or when `same(i, j)` says the two units have
/// identical inputs: their exact quotas are then equal (every pool-wide sum is shared), a true
/// tie, which the id decides — recipients with the same factor values are common.
fn round_certified<'i>(
    total_units: i128,
    quotas: &[Quota],
    id: impl Fn(usize) -> &'i str,
    same: impl Fn(usize, usize) -> bool,
    order: &mut Vec<(f64, i128, usize)>,
    out: &mut Vec<i128>,
) -> Option<()> {
    let n = quotas.len();
    let floors: i128 = quotas.iter().map(|q| q.whole).sum();
    let left = total_units.checked_sub(floors)?;
    if left < 0 || left > n as i128 {
        return None;
    }
    let left = left as usize;
    out.clear();
    out.extend(quotas.iter().map(|q| q.whole));
    if left == 0 {
        return Some(());
    }
    order.clear();
    order.extend(quotas.iter().enumerate().map(|(i, q)| (q.rem, q.rem18, i)));
    order.sort_unstable_by(|x, y| {
        y.0.total_cmp(&x.0)
            .then(y.1.cmp(&x.1))
            .then_with(|| id(x.2).as_bytes().cmp(id(y.2).as_bytes()))
    });
    if left < n {
        // every pair (chosen, not chosen) with an inexact member must be apart by more than
        // both errors; exact pairs were ordered exactly (remainder at 18 places, then id)
        const EXACT_IMAGE: f64 = 1e-15; // error of an exact remainder's f64 image
        let (chosen, rest) = order.split_at(left);
        let mut lo_in_inexact = f64::INFINITY;
        let mut lo_in_all = f64::INFINITY;
        for q in chosen.iter().filter_map(|x| quotas.get(x.2)) {
            if q.err > 0.0 {
                lo_in_inexact = lo_in_inexact.min(q.rem - q.err);
            }
            lo_in_all = lo_in_all.min(q.rem - q.err.max(EXACT_IMAGE));
        }
        let mut hi_out_inexact = f64::NEG_INFINITY;
        let mut hi_out_all = f64::NEG_INFINITY;
        for q in rest.iter().filter_map(|x| quotas.get(x.2)) {
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
                .filter(|x| quotas.get(x.2).is_some_and(|q| q.rem - err(q) <= hi_out_all))
                .map(|x| x.2)
                .collect();
            let near_out: Vec<usize> = rest
                .iter()
                .filter(|x| quotas.get(x.2).is_some_and(|q| q.rem + err(q) >= lo_in_all))
                .map(|x| x.2)
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
        *out.get_mut(x.2)? += 1;
    }
    Some(())
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
        quotas,
        floors,
        caps,
        fu,
        cu,
        events,
        fixed,
        order,
        units,
    } = scratch;
    floors.clear();
    caps.clear();
    let unit = pc.unit?;
    let (p_units, p_rem) = unit.split(amount)?;
    if p_rem != 0 || !(0..(1i128 << 50)).contains(&p_units) {
        return None;
    }
    let pu = p_units as f64;
    // decimal → f64 in rounding units, within 4u
    let e = unit.exponent();
    let pow = |k: i32| -> Option<f64> { super::POW10_F64.get(usize::try_from(k).ok()?).copied() };
    let (pdiv, pmul) = if e >= 0 { (pow(e)?, 1.0) } else { (1.0, pow(-e)?) };
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
    let mut terms = vec![0f64; n * nf];
    let mut base = vec![0f64; n];
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
        let w = dec_f64(f.weight);
        for (j, &x) in t.iter().enumerate() {
            let term = w * (x / sum);
            *terms.get_mut(j * nf + k)? = term;
            *base.get_mut(j)? += term;
        }
    }

    // 5. adjusted shares
    let mut adjust = Vec::with_capacity(n);
    a.clear();
    match &pool.adjust {
        None => {
            adjust.resize(n, Decimal::ONE);
            a.extend_from_slice(&base);
        }
        Some(_) => {
            let (cd, cf) = (pc.adjust.0?, pc.adjust.1?);
            for (&u, &b) in recipients.iter().zip(&base) {
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

    // floors and caps (exact decimals, and their images in units)
    let bounded = pool.floor.is_some() || pool.cap.is_some() || pool.cap_share.is_some();
    quotas.clear();
    let mut floored = vec![false; n];
    let mut capped = vec![false; n];
    let free_quota = |y: f64, err: f64| -> Option<Quota> {
        let whole = y.floor();
        let rem = y - whole;
        if !(rem > err && rem < 1.0 - err) {
            return None;
        }
        Some(Quota {
            whole: whole as i128,
            rem,
            rem18: (rem * 1e18) as i128,
            err,
        })
    };
    let exact_quota = |d: Decimal| -> Option<Quota> {
        let (whole, rem18) = unit.split(d)?;
        Some(Quota {
            whole,
            rem: rem18 as f64 * 1e-18,
            rem18,
            err: 0.0,
        })
    };
    if !bounded {
        for &ai in a.iter() {
            let y = ai * pu;
            quotas.push(free_quota(y, gamma * y)?);
        }
    } else {
        let cap_share_amount = match pool.cap_share {
            Some(cs) => Some(cs.checked_mul(amount)?),
            None => None,
        };
        // a bound column that does not exist is left to the Decimal path to report
        let floor_col = match (&pool.floor, pc.floor) {
            (Some(Bound::Column(_)), None) => return None,
            (_, c) => c,
        };
        let cap_col = match (&pool.cap, pc.cap) {
            (Some(Bound::Column(_)), None) => return None,
            (_, c) => c,
        };
        let bound_value = |b: &Option<Bound>, col: Option<&[Option<Decimal>]>, u: usize| -> Option<Option<Decimal>> {
            match b {
                None => Some(None),
                Some(Bound::Amount(d)) => Some(Some(*d)),
                Some(Bound::Column(_)) => match col.and_then(|c| c.get(u)).copied().flatten() {
                    Some(v) if v.is_sign_negative() && !v.is_zero() => None,
                    v => Some(v),
                },
            }
        };
        floors.clear();
        caps.clear();
        fu.clear();
        cu.clear();
        for &u in &recipients {
            let f = bound_value(&pool.floor, floor_col, u)?.unwrap_or_default();
            let c = match (bound_value(&pool.cap, cap_col, u)?, cap_share_amount) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            if c.is_some_and(|c| f > c) {
                return None;
            }
            fu.push(to_units(f));
            cu.push(c.map_or(f64::INFINITY, &to_units));
            floors.push(f);
            caps.push(c);
        }
        let floor_sum = neumaier(fu.iter().copied());
        if !(floor_sum < pu * (1.0 - 1e-9)) || floor_sum >= DECIMAL_SAFE {
            return None;
        }
        // the sweep (as in `clamp::clamp_to_pool`) finds the candidate λ
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
        let mut solved = None;
        let mut idx = 0;
        while let Some(&(next, _, _)) = events.get(idx) {
            let at_next = value + slope * (next - lambda);
            if slope > 0.0 && at_next >= pu {
                solved = Some(lambda + (pu - value) / slope);
                break;
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
        let lambda = match solved {
            Some(l) => l,
            None if slope > 0.0 => lambda + (pu - value) / slope,
            None => return None,
        };
        // the sets it implies, then λ from its formula on those sets, and their certification
        fixed.clear(); // 0 free, 1 floored, 2 capped
        for (i, &ai) in a.iter().enumerate() {
            let raw = lambda * ai;
            let (f, c) = (*fu.get(i)?, *cu.get(i)?);
            fixed.push(if raw > c {
                2u8
            } else if raw < f {
                1
            } else {
                0
            });
        }
        let bound_parts = fixed.iter().enumerate().filter_map(|(i, &k)| match k {
            1 => fu.get(i).copied(),
            2 => cu.get(i).copied(),
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
        for (i, &ai) in a.iter().enumerate() {
            let y = lam * ai;
            let err = 2.0 * gamma * y + delta_n;
            let (f, c) = (*fu.get(i)?, *cu.get(i)?);
            let (fd, cd) = (*floors.get(i)?, *caps.get(i)?);
            let q = match *fixed.get(i)? {
                0 => {
                    // free: strictly between floor and cap
                    if !fd.is_zero() && !(y - err > f * (1.0 + 5.0 * U)) {
                        return None;
                    }
                    if cd.is_some() && !(y + err < c * (1.0 - 5.0 * U)) {
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
                    exact_quota(fd)?
                }
                _ => {
                    if !(y - err > c * (1.0 + 5.0 * U)) {
                        return None;
                    }
                    *capped.get_mut(i)? = true;
                    exact_quota(cd?)?
                }
            };
            quotas.push(q);
        }
    }

    // 6. rounding
    let id = |i: usize| {
        recipients
            .get(i)
            .and_then(|&u| s.hierarchy.unit(u))
            .map(|x| x.id.as_str())
            .unwrap_or("")
    };
    // identical inputs (decimal factor values, adjustment, floor and cap) give identical
    // exact quotas
    let same = |i: usize, j: usize| -> bool {
        let (Some(&ui), Some(&uj)) = (recipients.get(i), recipients.get(j)) else {
            return false;
        };
        let col_eq = |c: Option<&[Option<Decimal>]>| c.is_some_and(|c| c.get(ui) == c.get(uj));
        pc.factors.iter().all(|(_, dec)| col_eq(*dec))
            && (pool.adjust.is_none() || col_eq(pc.adjust.0))
            && floors.get(i) == floors.get(j)
            && caps.get(i) == caps.get(j)
    };
    round_certified(p_units, quotas, id, same, order, units)?;
    let mut amounts = Vec::with_capacity(n);
    for &k in units.iter() {
        amounts.push(unit.amount(k)?);
    }
    let ratio_err = 2.0 * ((nf as f64 + 32.0) * U + 8.0 * nu2);
    Some(FastSplit {
        recipients,
        amounts,
        adjust,
        floored,
        capped,
        terms,
        base,
        ratio_err,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn neumaier_sums_what_naive_summation_loses() {
        let xs = [1e16, 1.0, -1e16, 1.0];
        assert_eq!(neumaier(xs.iter().copied()), 2.0);
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
        let ids = |i: usize| ["a", "b"][i];
        assert_eq!(round_certified(1, &[q, q], ids, |_, _| false, &mut order, &mut out), None);
        // inexact but identical inputs: a true tie, ordered by id
        assert_eq!(
            round_certified(1, &[q, q], |i: usize| ["b", "a"][i], |_, _| true, &mut order, &mut out),
            Some(())
        );
        assert_eq!(out, vec![0, 1]);
        // exact ties are ordered by id
        let e = Quota { err: 0.0, ..q };
        let ids = |i: usize| ["b", "a"][i];
        assert_eq!(round_certified(1, &[e, e], ids, |_, _| false, &mut order, &mut out), Some(()));
        assert_eq!(out, vec![0, 1]);
    }
}
