//! Integer splits of people: the largest-remainder method on exact integer quotas.
//!
//! People are whole numbers, so every split in the projection works on integers: a quota is
//! the exact fraction `numᵢ / den`, its floor is handed out first and the units left over go
//! one each to the largest remainders `numᵢ mod den`, ties broken by position (the projection
//! keeps its units sorted by id in byte order, so ties go to the smaller id). The arithmetic is
//! exact (`u64`/`u128`), never floating point.

use rust_decimal::Decimal;
use std::cmp::Ordering;

/// A rate in `[0, 1]` held exactly as `num / den` with `den = 10^scale` (at most 18 decimal
/// places), together with its `f64` image for the random draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// The decimal as written.
    pub value: Decimal,
    /// Numerator.
    pub num: u128,
    /// Denominator, a power of ten.
    pub den: u128,
    /// `num / den` as a float (statistics only).
    pub f: f64,
}

/// Most decimal places accepted in a rate or threshold.
pub const MAX_RATE_PLACES: u32 = 18;

impl Rate {
    /// The exact rate of a decimal in `[0, 1]` with at most [`MAX_RATE_PLACES`] places;
    /// `None` otherwise.
    pub fn new(d: Decimal) -> Option<Rate> {
        if d < Decimal::ZERO || d > Decimal::ONE {
            return None;
        }
        let n = d.normalize();
        if n.scale() > MAX_RATE_PLACES {
            return None;
        }
        let num = u128::try_from(n.mantissa()).ok()?;
        let den = 10u128.checked_pow(n.scale())?;
        use rust_decimal::prelude::ToPrimitive;
        Some(Rate {
            value: n,
            num,
            den,
            f: n.to_f64()?,
        })
    }

    /// The rate 0.
    pub fn zero() -> Rate {
        Rate {
            value: Decimal::ZERO,
            num: 0,
            den: 1,
            f: 0.0,
        }
    }

    /// True for the rate 0.
    pub fn is_zero(&self) -> bool {
        self.num == 0
    }

    /// The smallest integer `L` with `x < rate × base ⇔ x < L` for every integer `x`:
    /// `L = ⌈rate × base⌉` (exact).
    pub fn ceil_times(&self, base: u64) -> Option<u64> {
        let p = self.num.checked_mul(u128::from(base))?;
        let q = p / self.den + u128::from(p % self.den != 0);
        u64::try_from(q).ok()
    }
}

/// Why a split could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A positive total was to be split over weights that sum to zero.
    #[error("cannot split {0} over units whose weights sum to zero")]
    NoWeight(u64),
    /// The numbers are out of the range of the integer arithmetic.
    #[error("headcounts too large for exact integer arithmetic")]
    Overflow,
}

/// Reusable buffers, so the Monte Carlo loop does not allocate per split.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    rems: Vec<u128>,
    idx: Vec<u32>,
    keys: Vec<u128>,
    keys64: Vec<u64>,
}

/// Hands `k` extra units to the `k` largest remainders (ties: smaller position first).
fn hand_out(out: &mut [u64], scratch: &mut Scratch, k: usize) -> Result<(), SplitError> {
    let n = out.len();
    if k == 0 {
        return Ok(());
    }
    if k > n || u32::try_from(n).is_err() {
        return Err(SplitError::Overflow);
    }
    if k == n {
        for o in out.iter_mut() {
            *o = o.checked_add(1).ok_or(SplitError::Overflow)?;
        }
        return Ok(());
    }
    let rems = &scratch.rems;
    let max_rem = rems.iter().copied().max().unwrap_or(0);
    if max_rem <= u128::from(u32::MAX) {
        // one 64-bit key per unit, smallest first = largest remainder, then smallest position
        let keys = &mut scratch.keys64;
        keys.clear();
        keys.extend(
            rems.iter()
                .enumerate()
                .map(|(i, &r)| ((u64::from(u32::MAX) - r as u64) << 32) | i as u64),
        );
        keys.select_nth_unstable(k - 1);
        for &key in keys.iter().take(k) {
            if let Some(o) = out.get_mut((key & 0xffff_ffff) as usize) {
                *o = o.checked_add(1).ok_or(SplitError::Overflow)?;
            }
        }
        return Ok(());
    }
    if max_rem <= u128::from(u64::MAX) {
        // the same with 128-bit keys
        let keys = &mut scratch.keys;
        keys.clear();
        keys.extend(
            rems.iter()
                .enumerate()
                .map(|(i, &r)| ((u128::from(u64::MAX) - r) << 32) | i as u128),
        );
        keys.select_nth_unstable(k - 1);
        for &key in keys.iter().take(k) {
            if let Some(o) = out.get_mut((key & 0xffff_ffff) as usize) {
                *o = o.checked_add(1).ok_or(SplitError::Overflow)?;
            }
        }
        return Ok(());
    }
    let idx = &mut scratch.idx;
    idx.clear();
    idx.extend(0..n as u32);
    idx.select_nth_unstable_by(k - 1, |a: &u32, b: &u32| -> Ordering {
        let ra = rems.get(*a as usize).copied().unwrap_or(0);
        let rb = rems.get(*b as usize).copied().unwrap_or(0);
        rb.cmp(&ra).then(a.cmp(b))
    });
    for &i in idx.iter().take(k) {
        if let Some(o) = out.get_mut(i as usize) {
            *o = o.checked_add(1).ok_or(SplitError::Overflow)?;
        }
    }
    Ok(())
}

/// Splits `total` people in proportion to `weights`, by largest remainder.
///
/// Quotas `qᵢ = total × wᵢ / Σw` (exact fractions); each unit gets `⌊qᵢ⌋`, and the
/// `total − Σ⌊qᵢ⌋` people left over go one each to the largest remainders
/// `total × wᵢ mod Σw`, ties to the earlier position. The results sum exactly to `total` and
/// each is `⌊qᵢ⌋` or `⌈qᵢ⌉`. With `Σw = 0` only `total = 0` can be split.
pub fn split_proportional(total: u64, weights: &[u64], out: &mut [u64], scratch: &mut Scratch) -> Result<(), SplitError> {
    if out.len() != weights.len() {
        return Err(SplitError::Overflow);
    }
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        out.iter_mut().for_each(|o| *o = 0);
        return if total == 0 { Ok(()) } else { Err(SplitError::NoWeight(total)) };
    }
    scratch.rems.clear();
    let mut handed: u128 = 0;
    let small = u64::try_from(sum).ok();
    for (o, &w) in out.iter_mut().zip(weights) {
        // fast path in u64 when the product fits (the usual case)
        let (q, r) = match (small, total.checked_mul(w)) {
            (Some(s), Some(p)) => (p / s, u128::from(p % s)),
            _ => {
                let p = u128::from(total) * u128::from(w);
                (u64::try_from(p / sum).map_err(|_| SplitError::Overflow)?, p % sum)
            }
        };
        *o = q;
        handed += u128::from(q);
        scratch.rems.push(r);
    }
    let k = u128::from(total).checked_sub(handed).ok_or(SplitError::Overflow)?;
    let k = usize::try_from(k).map_err(|_| SplitError::Overflow)?;
    hand_out(out, scratch, k)
}

/// Applies a rate to headcounts, in whole people, by largest remainder.
///
/// Quotas `qᵢ = rate × baseᵢ` (exact). The total handed out is `T = ⌊Σqᵢ + ½⌋` (the exact
/// total rounded half up); each unit gets `⌊qᵢ⌋` and the `T − Σ⌊qᵢ⌋` people left over go one
/// each to the largest fractional parts, ties to the earlier position. So `Σ outᵢ = T` and each
/// `outᵢ` is `⌊qᵢ⌋` or `⌈qᵢ⌉` (never more than `baseᵢ`, as `rate ≤ 1`).
pub fn apply_rate(rate: &Rate, base: &[u64], out: &mut [u64], scratch: &mut Scratch) -> Result<(), SplitError> {
    if out.len() != base.len() {
        return Err(SplitError::Overflow);
    }
    if rate.is_zero() {
        out.iter_mut().for_each(|o| *o = 0);
        return Ok(());
    }
    scratch.rems.clear();
    let mut handed: u128 = 0;
    let mut rem_sum: u128 = 0;
    let small = (u64::try_from(rate.num).ok(), u64::try_from(rate.den).ok());
    for (o, &b) in out.iter_mut().zip(base) {
        let (q, r) = match (small, small.0.and_then(|n| n.checked_mul(b))) {
            ((Some(_), Some(d)), Some(p)) => (p / d, u128::from(p % d)),
            _ => {
                let p = rate.num.checked_mul(u128::from(b)).ok_or(SplitError::Overflow)?;
                (u64::try_from(p / rate.den).map_err(|_| SplitError::Overflow)?, p % rate.den)
            }
        };
        *o = q;
        handed = handed.checked_add(u128::from(q)).ok_or(SplitError::Overflow)?;
        rem_sum = rem_sum.checked_add(r).ok_or(SplitError::Overflow)?;
        scratch.rems.push(r);
    }
    // Σqᵢ = handed + rem_sum/den; T − handed = ⌊rem_sum/den + ½⌋ = ⌊(2 rem_sum + den) / 2den⌋
    let twice = rem_sum
        .checked_mul(2)
        .and_then(|x| x.checked_add(rate.den))
        .ok_or(SplitError::Overflow)?;
    let k = twice / rate.den.checked_mul(2).ok_or(SplitError::Overflow)?;
    let k = usize::try_from(k).map_err(|_| SplitError::Overflow)?;
    hand_out(out, scratch, k)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn split(total: u64, w: &[u64]) -> Vec<u64> {
        let mut out = vec![0; w.len()];
        split_proportional(total, w, &mut out, &mut Scratch::default()).unwrap();
        out
    }

    fn rate(r: Decimal, b: &[u64]) -> Vec<u64> {
        let mut out = vec![0; b.len()];
        apply_rate(&Rate::new(r).unwrap(), b, &mut out, &mut Scratch::default()).unwrap();
        out
    }

    #[test]
    fn proportional_split_is_hamilton() {
        // quotas 10×(1,1,1)/3 = 3.33 each: floors 3,3,3, one left → first by position
        assert_eq!(split(10, &[1, 1, 1]), vec![4, 3, 3]);
        // quotas 7×(5,3,2)/10 = 3.5, 2.1, 1.4 → 3,2,1 and one left to the 0.5 remainder
        assert_eq!(split(7, &[5, 3, 2]), vec![4, 2, 1]);
        // ties in the remainder go to the earlier unit, even when it is smaller
        assert_eq!(split(1, &[1, 1]), vec![1, 0]);
        assert_eq!(split(3, &[2, 2, 1, 1]), vec![1, 1, 1, 0]);
        // exact quotas: no remainder
        assert_eq!(split(710_000, &[100, 300, 600]), vec![71_000, 213_000, 426_000]);
        // zero weights get nothing
        assert_eq!(split(5, &[0, 3, 0, 2]), vec![0, 3, 0, 2]);
        assert_eq!(split(0, &[0, 0]), vec![0, 0]);
        // remainders beyond 32 bits take the 128-bit path, beyond 64 bits the slow path
        assert_eq!(
            split(3, &[u32::MAX as u64 * 4, u32::MAX as u64 * 4, u32::MAX as u64 * 4, 1]),
            vec![1, 1, 1, 0]
        );
        assert_eq!(split(1, &[1 << 40, 1 << 40, 1 << 40]), vec![1, 0, 0]);
        assert_eq!(split(5, &[u64::MAX, u64::MAX, 1]), vec![3, 2, 0]);
        assert_eq!(split(5, &[1, u64::MAX, u64::MAX]), vec![0, 3, 2]);
        let mut out = vec![0; 2];
        assert_eq!(
            split_proportional(3, &[0, 0], &mut out, &mut Scratch::default()),
            Err(SplitError::NoWeight(3))
        );
    }

    #[test]
    fn proportional_split_of_gansu_sized_numbers_sums_exactly() {
        let w: Vec<u64> = (1..=86).map(|i| (i * 7919 % 61_000) as u64 + 100).collect();
        for total in [0u64, 1, 85, 86, 87, 470_000, 710_000, 1_890_000] {
            let out = split(total, &w);
            assert_eq!(out.iter().sum::<u64>(), total);
            let s: u128 = w.iter().map(|&x| x as u128).sum();
            for (o, &wi) in out.iter().zip(&w) {
                let p = total as u128 * wi as u128;
                let fl = (p / s) as u64;
                assert!(*o == fl || *o == fl + 1);
            }
        }
    }

    #[test]
    fn rate_rounds_the_total_half_up_and_splits_it() {
        // 0.05 × (10, 10, 10) = 0.5 each, total 1.5 → 2: the first two by position
        assert_eq!(rate(dec!(0.05), &[10, 10, 10]), vec![1, 1, 0]);
        // 0.1 × 25 = 2.5 → total rounds half up to 3
        assert_eq!(rate(dec!(0.1), &[25]), vec![3]);
        // 0.1 × 24 = 2.4 → 2
        assert_eq!(rate(dec!(0.1), &[24]), vec![2]);
        // the largest fraction wins: 0.3×(3, 1) = 0.9, 0.3 → total 1.2 → 1 → to the 0.9
        assert_eq!(rate(dec!(0.3), &[1, 3]), vec![0, 1]);
        assert_eq!(rate(dec!(0), &[100, 5]), vec![0, 0]);
        assert_eq!(rate(dec!(1), &[100, 5]), vec![100, 5]);
        assert_eq!(rate(dec!(0.02), &[1_890_000]), vec![37_800]);
    }

    #[test]
    fn rates_are_exact_or_rejected() {
        assert!(Rate::new(dec!(-0.1)).is_none());
        assert!(Rate::new(dec!(1.01)).is_none());
        assert!(Rate::new(dec!(0.0000000000000000001)).is_none());
        let r = Rate::new(dec!(0.030)).unwrap();
        assert_eq!((r.num, r.den), (3, 100));
        assert_eq!(r.ceil_times(1000), Some(30));
        assert_eq!(r.ceil_times(1001), Some(31)); // 30.03 → 31: 30 < 30.03 is eligible
    }
}
