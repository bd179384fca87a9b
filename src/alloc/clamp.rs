//! Floors and caps by the clamp rule (SPEC §3 step 5).

use crate::money::{add, div, mul, sub, ArithError};
use rust_decimal::Decimal;

/// Why floors and caps cannot be met.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClampError {
    /// `Σ floorᵢ > pool`.
    #[error("the floors sum to {floors}, more than the pool {pool}")]
    FloorsExceedPool {
        /// Sum of floors.
        floors: Decimal,
        /// The pool.
        pool: Decimal,
    },
    /// `Σ capᵢ < pool` with every recipient capped.
    #[error("the caps sum to {caps}, less than the pool {pool}")]
    CapsBelowPool {
        /// Sum of caps.
        caps: Decimal,
        /// The pool.
        pool: Decimal,
    },
    /// Arithmetic overflow.
    #[error(transparent)]
    Arith(#[from] ArithError),
}

/// Result of the clamp rule for one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clamped {
    /// Exact (unrounded) amounts `yᵢ`.
    pub amounts: Vec<Decimal>,
    /// Raised to the floor.
    pub floored: Vec<bool>,
    /// Cut to the cap.
    pub capped: Vec<bool>,
}

/// Solves `yᵢ = min(capᵢ, max(floorᵢ, λ aᵢ))` with `Σ yᵢ = pool` for `λ`.
///
/// `f(λ) = Σ clamp(λ aᵢ)` is non-decreasing and piecewise linear with breakpoints at
/// `floorᵢ / aᵢ` (the unit leaves its floor) and `capᵢ / aᵢ` (it reaches its cap). The sweep
/// walks the breakpoints in order, keeping the value `f` and the slope `Σ_{free} aᵢ`, until the
/// segment that contains `pool`, and solves that segment linearly: exact, `O(n log n)`.
/// Units with `aᵢ = 0` stay at their floor. `caps[i] = None` means no cap. Where `f` is flat at
/// `pool` over an interval, every `yᵢ` is constant there, so the amounts are unique.
pub fn clamp_to_pool(a: &[Decimal], floors: &[Decimal], caps: &[Option<Decimal>], pool: Decimal) -> Result<Clamped, ClampError> {
    let n = a.len();
    let no_bounds = floors.iter().all(|f| f.is_zero()) && caps.iter().all(Option::is_none);
    if no_bounds {
        let mut amounts = Vec::with_capacity(n);
        for &ai in a {
            amounts.push(mul(ai, pool)?);
        }
        return Ok(Clamped {
            amounts,
            floored: vec![false; n],
            capped: vec![false; n],
        });
    }
    let floor_sum = crate::money::sum(floors)?;
    if floor_sum > pool {
        return Err(ClampError::FloorsExceedPool { floors: floor_sum, pool });
    }
    // Events: (λ, unit, kind) kind 0 = leaves floor (slope += a), 1 = reaches cap (slope −= a).
    let mut events: Vec<(Decimal, usize, u8)> = Vec::with_capacity(2 * n);
    for (i, &ai) in a.iter().enumerate() {
        if ai <= Decimal::ZERO {
            continue;
        }
        let f = floors.get(i).copied().unwrap_or_default();
        events.push((div(f, ai)?, i, 0));
        if let Some(Some(c)) = caps.get(i) {
            events.push((div(*c, ai)?, i, 1));
        }
    }
    // Sort by the exact λ, then kind (stable). Comparing `Decimal`s is slow when their scales
    // differ, so an `f64` image of each λ decides when the two images are clearly apart (a
    // relative gap above 10⁻¹², far beyond the images' error); otherwise the exact comparison
    // decides. Same order as sorting by the `Decimal`s alone.
    let approx: Vec<f64> = events.iter().map(|e| super::dec_f64(e.0)).collect();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&i, &j| {
        let (fi, fj) = (approx.get(i).copied().unwrap_or(0.0), approx.get(j).copied().unwrap_or(0.0));
        let tol = 1e-12 * fi.abs().max(fj.abs());
        let by_lambda = if fi + tol < fj {
            std::cmp::Ordering::Less
        } else if fj + tol < fi {
            std::cmp::Ordering::Greater
        } else {
            events.get(i).map(|e| e.0).cmp(&events.get(j).map(|e| e.0))
        };
        by_lambda.then_with(|| events.get(i).map(|e| e.2).cmp(&events.get(j).map(|e| e.2)))
    });
    let events: Vec<(Decimal, usize, u8)> = order.iter().filter_map(|&i| events.get(i).copied()).collect();
    // Decimal's 28 digits make the running value drift by ~1e-27 relative: compare with the
    // pool within this tolerance so that caps summing exactly to the pool are not rejected.
    let eps = pool.abs() * Decimal::new(1, 20) + Decimal::new(1, 20);
    let mut value = floor_sum;
    let mut slope = Decimal::ZERO;
    let mut lambda = Decimal::ZERO;
    let mut solved: Option<Decimal> = None;
    let mut idx = 0;
    while idx < events.len() {
        let Some(&(next, _, _)) = events.get(idx) else { break };
        let at_next = add(value, mul(slope, sub(next, lambda)?)?)?;
        if slope > Decimal::ZERO && at_next >= pool {
            solved = Some(add(lambda, div(sub(pool, value)?, slope)?)?);
            break;
        }
        if (value - pool).abs() <= eps && slope.is_zero() {
            solved = Some(lambda);
            break;
        }
        value = at_next;
        lambda = next;
        while let Some(&(l, i, kind)) = events.get(idx) {
            if l != next {
                break;
            }
            let ai = a.get(i).copied().unwrap_or_default();
            if kind == 0 {
                slope = add(slope, ai)?;
            } else {
                slope = sub(slope, ai)?;
                // value is continuous at a cap breakpoint: nothing to add
            }
            idx += 1;
        }
    }
    let lambda = match solved {
        Some(l) => l,
        None if slope > Decimal::ZERO => add(lambda, div(sub(pool, value)?, slope)?)?,
        None if value >= pool - eps => lambda,
        None => return Err(ClampError::CapsBelowPool { caps: value, pool }),
    };
    let mut amounts = Vec::with_capacity(n);
    let mut floored = Vec::with_capacity(n);
    let mut capped = Vec::with_capacity(n);
    for (i, &ai) in a.iter().enumerate() {
        let raw = mul(lambda, ai)?;
        let f = floors.get(i).copied().unwrap_or_default();
        let c = caps.get(i).copied().flatten();
        let (y, fl, cp) = match c {
            Some(c) if raw > c => (c, false, true),
            _ if raw < f => (f, true, false),
            _ => (raw, false, false),
        };
        amounts.push(y);
        floored.push(fl);
        capped.push(cp);
    }
    Ok(Clamped { amounts, floored, capped })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn floors_raise_and_the_rest_share_in_proportion() {
        // a = 0.1, 0.3, 0.6 of 1000, floor 200 each: unit 0 raised to 200, others share 800 as 1:2
        let r = clamp_to_pool(&[dec!(0.1), dec!(0.3), dec!(0.6)], &[dec!(200); 3], &[None; 3], dec!(1000)).unwrap();
        assert_eq!(r.amounts[0], dec!(200));
        assert_eq!(r.amounts[1] + r.amounts[2], dec!(800));
        assert!((r.amounts[2] - dec!(2) * r.amounts[1]).abs() < dec!(1e-20));
        assert_eq!(r.floored, vec![true, false, false]);
    }

    #[test]
    fn caps_cut_and_the_excess_goes_to_the_others() {
        let r = clamp_to_pool(&[dec!(0.7), dec!(0.2), dec!(0.1)], &[dec!(0); 3], &[Some(dec!(500)); 3], dec!(1000)).unwrap();
        assert_eq!(r.amounts[0], dec!(500));
        assert!((r.amounts[1] - dec!(1000) / dec!(3)).abs() < dec!(1e-20));
        assert_eq!(r.capped, vec![true, false, false]);
    }

    #[test]
    fn floors_and_caps_together_sum_to_the_pool() {
        let a = [dec!(0.01), dec!(0.04), dec!(0.15), dec!(0.8)];
        let r = clamp_to_pool(&a, &[dec!(100); 4], &[Some(dec!(400)); 4], dec!(1000)).unwrap();
        let s: Decimal = r.amounts.iter().sum();
        assert!((s - dec!(1000)).abs() < dec!(1e-18), "{s}");
        assert_eq!(r.amounts[3], dec!(400));
        assert_eq!(r.amounts[0], dec!(100));
    }

    #[test]
    fn infeasible_bounds_are_errors() {
        assert!(matches!(
            clamp_to_pool(&[dec!(0.5), dec!(0.5)], &[dec!(600); 2], &[None; 2], dec!(1000)),
            Err(ClampError::FloorsExceedPool { .. })
        ));
        assert!(matches!(
            clamp_to_pool(&[dec!(0.5), dec!(0.5)], &[dec!(0); 2], &[Some(dec!(400)); 2], dec!(1000)),
            Err(ClampError::CapsBelowPool { .. })
        ));
    }

    #[test]
    fn all_at_caps_exactly() {
        let r = clamp_to_pool(&[dec!(0.5), dec!(0.5)], &[dec!(0); 2], &[Some(dec!(500)); 2], dec!(1000)).unwrap();
        assert_eq!(r.amounts, vec![dec!(500), dec!(500)]);
    }
}
