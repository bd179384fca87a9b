//! Sample-size planning (`fundsim plan-sample`).
//!
//! # Sample size
//!
//! For a margin of error `e` (half-width of the interval), confidence `c`
//! (`z = Φ⁻¹(1 − (1 − c)/2)`), expected rate `p` and design effect `deff` (variance inflation
//! of cluster sampling by village, `deff = 1 + (m − 1)·ICC` for clusters of `m`):
//!
//! - normal approximation: `n = ⌈deff · z² · p(1 − p) / e²⌉` (at least 1);
//! - Wilson variant: `n = ⌈deff · n₀⌉` where `n₀` is the smallest integer whose Wilson
//!   half-width at `p̂ = p`, `z/(n₀ + z²)·√(n₀·p(1 − p) + z²/4)`, is `≤ e`. Unlike the normal
//!   formula it stays sensible for `p` near 0 or 1 (where `p(1 − p)/e²` goes to 0).
//!
//! The ceiling forgives a relative excess of 1e-12 so that an exact integer computed with
//! rounding error (e.g. 384.00000000000006) is not rounded up.
//!
//! # Chance of failing
//!
//! With the planned `n`, the probability that a unit whose true rate is exactly at the
//! threshold `t` — or at half the threshold — gets a failing **point verdict**, both exactly
//! (binomial tail) and by seeded simulation (`k ~ Binomial(n, p_true)` drawn with the
//! bootstrap's alias sampler, one `Xoshiro256PlusPlus` stream from the seed). For lower-better indicators "half the
//! threshold" is `t/2`; for higher-better ones (satisfaction) it halves the bad share:
//! `1 − (1 − t)/2` (0.95 for `t = 0.90`). The simulation draws simple random samples of size
//! `n`: clustering is reflected in `n` through `deff`, not in the simulated draws.

use super::bootstrap::BinomialTable;
use super::error::ScoreError;
use super::indicator::{Direction, ThresholdRule};
use super::interval::{binomial_cdf, binomial_sf_inclusive, check_probability, z_two_sided};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Inputs of a sample plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplePlanInput {
    /// Margin of error `e` (interval half-width), `0 < e < 1`.
    pub margin: f64,
    /// Confidence level, `0 < c < 1`.
    pub confidence: f64,
    /// Expected rate `p` in `[0, 1]`.
    pub expected_rate: f64,
    /// Design effect `deff > 0` (1 for simple random sampling).
    pub design_effect: f64,
    /// The verdict rule whose failure chance is simulated.
    pub rule: ThresholdRule,
    /// Simulation draws (e.g. 100,000).
    pub draws: u32,
    /// Simulation seed.
    pub seed: u64,
}

/// Probability of a failing point verdict for one true rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailChance {
    /// The true rate assumed.
    pub true_rate: f64,
    /// Exact binomial probability.
    pub exact: f64,
    /// Share of simulated samples failed.
    pub simulated: f64,
}

/// A sample plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplePlan {
    /// The `z` used.
    pub z: f64,
    /// Normal-approximation sample size `⌈deff·z²p(1−p)/e²⌉` (the planned `n`).
    pub n: u64,
    /// Wilson-based sample size.
    pub n_wilson: u64,
    /// Failing chance of a unit exactly at the threshold, with `n`.
    pub at_threshold: FailChance,
    /// Failing chance of a unit at half the threshold (see module docs), with `n`.
    pub at_half: FailChance,
}

fn invalid(name: &'static str, value: f64, expected: &'static str) -> ScoreError {
    ScoreError::InvalidParameter {
        name,
        value: value.to_string(),
        expected,
    }
}

fn check_inputs(margin: f64, p: f64, deff: f64) -> Result<(), ScoreError> {
    if !(margin > 0.0 && margin < 1.0) {
        return Err(invalid("margin", margin, "strictly between 0 and 1, e.g. 0.03"));
    }
    check_probability("expected_rate", p)?;
    if !(deff.is_finite() && deff > 0.0) {
        return Err(invalid("design_effect", deff, "> 0 (1 = simple random sampling)"));
    }
    Ok(())
}

/// Ceiling that forgives a relative excess of 1e-12; at least 1.
fn ceil_count(x: f64) -> Result<u64, ScoreError> {
    if !x.is_finite() || x > 1e15 {
        return Err(ScoreError::overflow("sample size"));
    }
    let r = x.round();
    let c = if (x - r).abs() <= 1e-12 * r.max(1.0) { r } else { x.ceil() };
    Ok((c as u64).max(1))
}

/// Normal-approximation sample size `n = ⌈deff · z² · p(1 − p) / e²⌉`, at least 1.
pub fn sample_size(margin: f64, confidence: f64, expected_rate: f64, design_effect: f64) -> Result<u64, ScoreError> {
    check_inputs(margin, expected_rate, design_effect)?;
    let z = z_two_sided(confidence)?;
    let p = expected_rate;
    ceil_count(design_effect * z * z * p * (1.0 - p) / (margin * margin))
}

/// Wilson-based sample size `⌈deff · n₀⌉`, `n₀` the smallest integer with Wilson half-width
/// `z/(n₀ + z²)·√(n₀·p(1 − p) + z²/4) ≤ e` at `p̂ = p`.
pub fn sample_size_wilson(margin: f64, confidence: f64, expected_rate: f64, design_effect: f64) -> Result<u64, ScoreError> {
    check_inputs(margin, expected_rate, design_effect)?;
    let z = z_two_sided(confidence)?;
    let q = expected_rate * (1.0 - expected_rate);
    let half = |n: f64| z / (n + z * z) * (n * q + z * z / 4.0).sqrt();
    // the half-width decreases in n; bracket then bisect
    let (mut lo, mut hi) = (0u64, 1u64);
    while half(hi as f64) > margin {
        lo = hi;
        hi = hi.checked_mul(2).ok_or_else(|| ScoreError::overflow("sample size"))?;
        if hi > 1 << 50 {
            return Err(ScoreError::overflow("sample size"));
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if half(mid as f64) > margin {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    ceil_count(design_effect * hi as f64)
}

/// Exact probability that `k ~ Binomial(n, true_rate)` gives a failing point verdict under
/// `rule`. The failing counts form a tail (`k ≥ c` for lower-better, `k ≤ c` for
/// higher-better), found exactly with the rule's decimal comparison.
pub fn fail_probability_exact(n: u64, true_rate: f64, rule: &ThresholdRule) -> Result<f64, ScoreError> {
    check_probability("true_rate", true_rate)?;
    if n == 0 {
        return Err(invalid("n", 0.0, ">= 1"));
    }
    match rule.direction {
        Direction::LowerBetter => {
            // smallest failing k (n + 1 if none): passes are k < c
            let c = first_where(n, |k| Ok(!rule.passes_counts(k, n)?))?;
            if c > n {
                Ok(0.0)
            } else {
                binomial_sf_inclusive(c, n, true_rate)
            }
        }
        Direction::HigherBetter => {
            // smallest passing k; failing are k < c
            let c = first_where(n, |k| rule.passes_counts(k, n))?;
            if c == 0 {
                Ok(0.0)
            } else {
                binomial_cdf(c - 1, n, true_rate)
            }
        }
    }
}

/// Smallest `k` in `0..=n` with `pred(k)` for a monotone (false…true) predicate; `n + 1` if none.
fn first_where(n: u64, pred: impl Fn(u64) -> Result<bool, ScoreError>) -> Result<u64, ScoreError> {
    let (mut lo, mut hi) = (0u64, n.saturating_add(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

/// Simulated probability of a failing point verdict: share of `draws` samples
/// `k ~ Binomial(n, true_rate)` (alias sampler, one `Xoshiro256PlusPlus` stream seeded by
/// `seed_from_u64(seed)`) that fail `rule`.
pub fn fail_probability_simulated(n: u64, true_rate: f64, rule: &ThresholdRule, draws: u32, seed: u64) -> Result<f64, ScoreError> {
    if draws == 0 {
        return Err(invalid("draws", 0.0, ">= 1"));
    }
    if n == 0 {
        return Err(invalid("n", 0.0, ">= 1"));
    }
    let table = BinomialTable::new(n, true_rate)?;
    let mut fails = vec![false; table.len()];
    for (i, f) in fails.iter_mut().enumerate() {
        *f = !rule.passes_counts(table.lo + i as u64, n)?;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut failed = 0u64;
    for _ in 0..draws {
        if fails.get(table.sample_index(&mut rng)).copied().unwrap_or(false) {
            failed += 1;
        }
    }
    Ok(failed as f64 / f64::from(draws))
}

/// Plans a sample: normal-approximation and Wilson sample sizes, and the chance that a unit
/// at the threshold or at half of it is failed with the planned `n` (exact and simulated).
pub fn plan_sample(input: &SamplePlanInput) -> Result<SamplePlan, ScoreError> {
    let z = z_two_sided(input.confidence)?;
    let n = sample_size(input.margin, input.confidence, input.expected_rate, input.design_effect)?;
    let n_wilson = sample_size_wilson(input.margin, input.confidence, input.expected_rate, input.design_effect)?;
    let t = input.rule.threshold_f64();
    let half = match input.rule.direction {
        Direction::LowerBetter => t / 2.0,
        Direction::HigherBetter => 1.0 - (1.0 - t) / 2.0,
    };
    let chance = |rate: f64, seed: u64| -> Result<FailChance, ScoreError> {
        Ok(FailChance {
            true_rate: rate,
            exact: fail_probability_exact(n, rate, &input.rule)?,
            simulated: fail_probability_simulated(n, rate, &input.rule, input.draws, seed)?,
        })
    };
    Ok(SamplePlan {
        z,
        n,
        n_wilson,
        at_threshold: chance(t, input.seed)?,
        at_half: chance(half, input.seed.wrapping_add(1))?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::score::indicator::{Comparison, Indicator};
    use rust_decimal::Decimal;

    #[test]
    fn classic_sample_sizes() {
        // 1.96² · 0.25 / 0.05² = 384.15 → 385 (the textbook figure)
        assert_eq!(sample_size(0.05, 0.95, 0.5, 1.0).unwrap(), 385);
        // p = 0.02, e = 0.01: 1.959964² · 0.0196 / 0.0001 = 752.9 → 753; deff 2 → 1506
        assert_eq!(sample_size(0.01, 0.95, 0.02, 1.0).unwrap(), 753);
        assert_eq!(sample_size(0.01, 0.95, 0.02, 2.0).unwrap(), 1506);
        // p = 0: the normal formula degenerates to 1; Wilson does not
        assert_eq!(sample_size(0.01, 0.95, 0.0, 1.0).unwrap(), 1);
        // Wilson half-width at p = 0: z²/2 / (n + z²) ≤ 0.01 → n ≥ 188.2 → 189
        assert_eq!(sample_size_wilson(0.01, 0.95, 0.0, 1.0).unwrap(), 189);
        let w = sample_size_wilson(0.05, 0.95, 0.5, 1.0).unwrap();
        assert!((381..=385).contains(&w), "{w}");
        assert!(sample_size(0.0, 0.95, 0.5, 1.0).is_err());
        assert!(sample_size(0.05, 0.95, 1.5, 1.0).is_err());
        assert!(sample_size(0.05, 0.95, 0.5, 0.0).is_err());
    }

    #[test]
    fn ceil_forgives_rounding_noise() {
        assert_eq!(ceil_count(384.000_000_000_000_06).unwrap(), 384);
        assert_eq!(ceil_count(384.000_001).unwrap(), 385);
        assert_eq!(ceil_count(0.0).unwrap(), 1);
    }

    #[test]
    fn fail_chances() {
        let rule = Indicator::MissedAssessment.default_rule();
        // n = 100, strict 0.02: fail when k ≥ 2
        let exact = fail_probability_exact(100, 0.02, &rule).unwrap();
        let expect = binomial_sf_inclusive(2, 100, 0.02).unwrap();
        assert!((exact - expect).abs() < 1e-15);
        assert!((exact - 0.596_728_289_217_996_1).abs() < 1e-12, "{exact}"); // scipy binom.sf(1, 100, 0.02)
        let incl = ThresholdRule {
            comparison: Comparison::Inclusive,
            ..rule
        };
        // inclusive: fail when k ≥ 3
        let e2 = fail_probability_exact(100, 0.02, &incl).unwrap();
        assert!((e2 - binomial_sf_inclusive(3, 100, 0.02).unwrap()).abs() < 1e-15);
        let sim = fail_probability_simulated(100, 0.02, &rule, 100_000, 1).unwrap();
        let sd = (exact * (1.0 - exact) / 100_000.0).sqrt();
        assert!((sim - exact).abs() < 5.0 * sd, "{sim} vs {exact}");
        // higher-better: satisfaction 0.9 strict, n = 50: pass when k ≥ 46
        let sat = Indicator::Satisfaction.default_rule();
        let e = fail_probability_exact(50, 0.9, &sat).unwrap();
        assert!((e - binomial_cdf(45, 50, 0.9).unwrap()).abs() < 1e-15);
        // rule that can never fail or never pass
        let never = ThresholdRule {
            threshold: Decimal::ONE,
            comparison: Comparison::Inclusive,
            ..rule
        };
        assert_eq!(fail_probability_exact(10, 0.5, &never).unwrap(), 0.0);
    }

    #[test]
    fn plan_is_deterministic() {
        let input = SamplePlanInput {
            margin: 0.01,
            confidence: 0.95,
            expected_rate: 0.02,
            design_effect: 1.5,
            rule: Indicator::WrongExit.default_rule(),
            draws: 20_000,
            seed: 9,
        };
        let a = plan_sample(&input).unwrap();
        let b = plan_sample(&input).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.n, 1130); // ⌈1.5 · 752.87⌉
        assert!(a.at_threshold.exact > 0.4 && a.at_threshold.exact < 0.6);
        // scipy: binom.sf(22, 1130, 0.01) = 0.0013791050360261081
        assert!((a.at_half.exact - 0.001_379_105_036_026_108).abs() < 1e-12);
        assert!((a.at_threshold.exact - 0.494_837_440_386_575_2).abs() < 1e-12);
        assert!((a.at_half.true_rate - 0.01).abs() < 1e-15);
        let sat = plan_sample(&SamplePlanInput {
            rule: Indicator::Satisfaction.default_rule(),
            expected_rate: 0.9,
            margin: 0.03,
            ..input
        })
        .unwrap();
        assert!((sat.at_half.true_rate - 0.95).abs() < 1e-15);
        assert!(sat.at_half.exact < sat.at_threshold.exact);
    }
}
