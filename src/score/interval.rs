//! Binomial proportions: confidence intervals and tail probabilities.
//!
//! For `k` flagged out of `n` sampled, the observed rate is `p̂ = k / n`.
//!
//! - **Wilson score interval** at confidence `c`, with `z = Φ⁻¹(1 − (1 − c)/2)`:
//!   `(k + z²/2 ± z·√(k(n − k)/n + z²/4)) / (n + z²)`. The lower end is exactly 0 when
//!   `k = 0` and the upper end exactly 1 when `k = n` (the formula gives these up to rounding).
//! - **Clopper–Pearson exact interval** at confidence `c`, `α = 1 − c`:
//!   low `= B⁻¹(α/2; k, n − k + 1)` (0 when `k = 0`), high `= B⁻¹(1 − α/2; k + 1, n − k)`
//!   (1 when `k = n`), where `B⁻¹(q; a, b)` is the quantile of the Beta(a, b) distribution.
//!   The quantile from `statrs` is polished with safeguarded Newton steps on the regularised
//!   incomplete beta function so that it is accurate to about 1e-14.
//! - **Binomial tails** `P(X ≤ k)` and `P(X ≥ k)` for `X ~ Binomial(n, p)` through the
//!   regularised incomplete beta function: `P(X ≤ k) = I_{1−p}(n − k, k + 1)` for `k < n`.

use std::fmt;
use std::str::FromStr;

use statrs::distribution::{Beta, ContinuousCDF, Normal};
use statrs::function::beta::{checked_beta_reg, ln_beta};

use super::error::ScoreError;

/// Which confidence interval to compute for a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CiMethod {
    /// Wilson score interval (the default).
    #[default]
    Wilson,
    /// Clopper–Pearson exact interval.
    ClopperPearson,
}

impl CiMethod {
    /// The name used in configuration and on the command line: `wilson`, `clopper-pearson`.
    pub fn as_str(self) -> &'static str {
        match self {
            CiMethod::Wilson => "wilson",
            CiMethod::ClopperPearson => "clopper-pearson",
        }
    }
}

impl fmt::Display for CiMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CiMethod {
    type Err = String;

    /// Parses `wilson` or `clopper-pearson` (also `clopper_pearson`, `exact`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "wilson" => Ok(CiMethod::Wilson),
            "clopper-pearson" | "clopper_pearson" | "exact" => Ok(CiMethod::ClopperPearson),
            other => Err(format!("unknown interval method `{other}` (expected wilson or clopper-pearson)")),
        }
    }
}

/// A closed interval `[low, high]` within `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// Checks that a confidence level lies strictly between 0 and 1.
pub fn check_confidence(confidence: f64) -> Result<(), ScoreError> {
    if confidence.is_finite() && confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(ScoreError::InvalidParameter {
            name: "confidence",
            value: confidence.to_string(),
            expected: "strictly between 0 and 1, e.g. 0.95",
        })
    }
}

fn check_counts(flagged: u64, sampled: u64) -> Result<(), ScoreError> {
    if sampled == 0 {
        return Err(ScoreError::InvalidParameter {
            name: "sampled",
            value: "0".into(),
            expected: ">= 1",
        });
    }
    if flagged > sampled {
        return Err(ScoreError::InvalidParameter {
            name: "flagged",
            value: flagged.to_string(),
            expected: "<= sampled",
        });
    }
    Ok(())
}

/// Two-sided standard normal quantile `z = Φ⁻¹(1 − (1 − c)/2)` for confidence `c`
/// (1.959963984540054 for 0.95).
pub fn z_two_sided(confidence: f64) -> Result<f64, ScoreError> {
    check_confidence(confidence)?;
    let normal = Normal::new(0.0, 1.0).map_err(|e| ScoreError::Statistics(e.to_string()))?;
    normal
        .try_inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
        .map_err(|e| ScoreError::Statistics(e.to_string()))
}

/// Wilson score interval for `flagged` out of `sampled` at the given confidence:
/// `(k + z²/2 ± z·√(k(n − k)/n + z²/4)) / (n + z²)`, clamped to `[0, 1]`, with the lower end
/// exactly 0 for `k = 0` and the upper end exactly 1 for `k = n`.
pub fn wilson(flagged: u64, sampled: u64, confidence: f64) -> Result<Interval, ScoreError> {
    check_counts(flagged, sampled)?;
    let z = z_two_sided(confidence)?;
    Ok(wilson_with_z(flagged, sampled, z))
}

/// Wilson interval for a known `z` (counts already checked).
pub(crate) fn wilson_with_z(flagged: u64, sampled: u64, z: f64) -> Interval {
    let k = flagged as f64;
    let n = sampled as f64;
    let z2 = z * z;
    let centre = (k + z2 / 2.0) / (n + z2);
    let half = z / (n + z2) * (k * (n - k) / n + z2 / 4.0).sqrt();
    let low = if flagged == 0 { 0.0 } else { (centre - half).clamp(0.0, 1.0) };
    let high = if flagged == sampled { 1.0 } else { (centre + half).clamp(0.0, 1.0) };
    Interval { low, high }
}

/// Clopper–Pearson exact interval for `flagged` out of `sampled` at the given confidence:
/// low `= B⁻¹(α/2; k, n − k + 1)` (0 for `k = 0`), high `= B⁻¹(1 − α/2; k + 1, n − k)`
/// (1 for `k = n`), `α = 1 − confidence`.
pub fn clopper_pearson(flagged: u64, sampled: u64, confidence: f64) -> Result<Interval, ScoreError> {
    check_counts(flagged, sampled)?;
    check_confidence(confidence)?;
    let alpha = 1.0 - confidence;
    let k = flagged as f64;
    let n = sampled as f64;
    let low = if flagged == 0 {
        0.0
    } else {
        beta_quantile(alpha / 2.0, k, n - k + 1.0)?
    };
    let high = if flagged == sampled {
        1.0
    } else {
        beta_quantile(1.0 - alpha / 2.0, k + 1.0, n - k)?
    };
    Ok(Interval { low, high })
}

/// The interval of the chosen method.
pub fn interval(method: CiMethod, flagged: u64, sampled: u64, confidence: f64) -> Result<Interval, ScoreError> {
    match method {
        CiMethod::Wilson => wilson(flagged, sampled, confidence),
        CiMethod::ClopperPearson => clopper_pearson(flagged, sampled, confidence),
    }
}

/// Regularised incomplete beta `I_x(a, b)` with statrs errors mapped.
fn beta_reg(a: f64, b: f64, x: f64) -> Result<f64, ScoreError> {
    checked_beta_reg(a, b, x).map_err(|e| ScoreError::Statistics(e.to_string()))
}

/// Quantile `q` of Beta(a, b): the `x` with `I_x(a, b) = q`.
///
/// Starts from statrs' AS 109 inverse and polishes it with Newton steps on `I_x(a, b) − q`,
/// kept inside a bracket that shrinks with every step (so a bad step falls back to bisection).
pub(crate) fn beta_quantile(q: f64, a: f64, b: f64) -> Result<f64, ScoreError> {
    if !(0.0..=1.0).contains(&q) {
        return Err(ScoreError::InvalidParameter {
            name: "quantile",
            value: q.to_string(),
            expected: "in [0, 1]",
        });
    }
    if q == 0.0 {
        return Ok(0.0);
    }
    if q == 1.0 {
        return Ok(1.0);
    }
    let dist = Beta::new(a, b).map_err(|e| ScoreError::Statistics(e.to_string()))?;
    let mut x = dist.try_inverse_cdf(q).map_err(|e| ScoreError::Statistics(e.to_string()))?;
    if !x.is_finite() {
        x = 0.5;
    }
    let ln_b = ln_beta(a, b);
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    for _ in 0..60 {
        let f = beta_reg(a, b, x)? - q;
        if f == 0.0 {
            break;
        }
        if f > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        // density of Beta(a, b) at x
        let ln_pdf = (a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_b;
        let pdf = ln_pdf.exp();
        let mut next = if pdf.is_finite() && pdf > 0.0 { x - f / pdf } else { f64::NAN };
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - x).abs() <= 1e-16 * x.max(1e-300) || hi - lo <= f64::EPSILON * hi {
            x = next;
            break;
        }
        x = next;
    }
    Ok(x.clamp(0.0, 1.0))
}

/// Lower binomial tail `P(X ≤ k)` for `X ~ Binomial(n, p)`: `I_{1−p}(n − k, k + 1)`, 1 when
/// `k ≥ n`; exact at `p = 0` (1) and `p = 1` (1 only when `k ≥ n`).
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> Result<f64, ScoreError> {
    check_probability("p", p)?;
    if k >= n {
        return Ok(1.0);
    }
    if p == 0.0 {
        return Ok(1.0);
    }
    if p == 1.0 {
        return Ok(0.0);
    }
    beta_reg((n - k) as f64, k as f64 + 1.0, 1.0 - p)
}

/// Upper binomial tail `P(X ≥ k)` for `X ~ Binomial(n, p)`: `I_p(k, n − k + 1)`, 1 when
/// `k = 0`, 0 when `k > n`; exact at `p = 0` and `p = 1`.
pub fn binomial_sf_inclusive(k: u64, n: u64, p: f64) -> Result<f64, ScoreError> {
    check_probability("p", p)?;
    if k == 0 {
        return Ok(1.0);
    }
    if k > n {
        return Ok(0.0);
    }
    if p == 0.0 {
        return Ok(0.0);
    }
    if p == 1.0 {
        return Ok(1.0);
    }
    beta_reg(k as f64, (n - k) as f64 + 1.0, p)
}

/// Checks `0 ≤ p ≤ 1`.
pub(crate) fn check_probability(name: &'static str, p: f64) -> Result<(), ScoreError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ScoreError::InvalidParameter {
            name,
            value: p.to_string(),
            expected: "a probability in [0, 1]",
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Reference values: scipy 1.17 (`scipy.stats.beta.ppf`, `norm.ppf`, Wilson formula in
    /// double precision); the 1/10 rows agree with the published tables (Newcombe 1998;
    /// Brown, Cai & DasGupta 2001): CP [0.00253, 0.44502], Wilson [0.01787, 0.40415].
    const CASES: &[(u64, u64, [f64; 2], [f64; 2])] = &[
        (0, 10, [0.0, 0.277_532_799_862_889_26], [0.0, 0.308_497_107_818_760_7]),
        (
            1,
            10,
            [0.017_876_213_095_072_896, 0.404_150_026_795_238_5],
            [0.002_528_578_544_461_784_8, 0.445_016_117_028_195_4],
        ),
        (
            5,
            10,
            [0.236_593_090_512_564, 0.763_406_909_487_436_1],
            [0.187_086_028_447_398_55, 0.812_913_971_552_601_5],
        ),
        (10, 10, [0.722_467_200_137_110_9, 1.0], [0.691_502_892_181_239_2, 1.0]),
        (
            2,
            100,
            [0.005_501_967_550_162_35, 0.070_011_790_728_543_91],
            [0.002_431_336_823_942_542_3, 0.070_383_932_471_070_11],
        ),
        (0, 1, [0.0, 0.793_450_685_622_762_6], [0.0, 0.975]),
        (1, 1, [0.206_549_314_377_237_45, 1.0], [0.025, 1.0]),
        (
            1,
            50,
            [0.003_539_259_271_646_222_3, 0.104_954_435_896_378_14],
            [0.000_506_227_983_040_829, 0.106_469_545_711_499_9],
        ),
        (0, 50, [0.0, 0.071_347_599_133_358_72], [0.0, 0.071_121_736_464_197_64]),
        (
            95,
            100,
            [0.888_249_530_768_080_9, 0.978_456_320_845_632],
            [0.887_165_088_894_537_3, 0.983_568_120_817_947_9],
        ),
    ];

    #[test]
    fn z_for_95_90_99() {
        assert!((z_two_sided(0.95).unwrap() - 1.959_963_984_540_054).abs() < 1e-14);
        assert!((z_two_sided(0.90).unwrap() - 1.644_853_626_951_472_2).abs() < 1e-14);
        assert!((z_two_sided(0.99).unwrap() - 2.575_829_303_548_900_4).abs() < 1e-13);
    }

    #[test]
    fn wilson_matches_reference() {
        for &(k, n, w, _) in CASES {
            let i = wilson(k, n, 0.95).unwrap();
            assert!((i.low - w[0]).abs() < 1e-12, "{k}/{n} low {} vs {}", i.low, w[0]);
            assert!((i.high - w[1]).abs() < 1e-12, "{k}/{n} high {} vs {}", i.high, w[1]);
        }
    }

    #[test]
    fn clopper_pearson_matches_reference() {
        for &(k, n, _, cp) in CASES {
            let i = clopper_pearson(k, n, 0.95).unwrap();
            assert!((i.low - cp[0]).abs() < 1e-12, "{k}/{n} low {} vs {}", i.low, cp[0]);
            assert!((i.high - cp[1]).abs() < 1e-12, "{k}/{n} high {} vs {}", i.high, cp[1]);
        }
    }

    #[test]
    fn published_values_to_five_places() {
        let cp = clopper_pearson(1, 10, 0.95).unwrap();
        assert_eq!(format!("{:.5} {:.5}", cp.low, cp.high), "0.00253 0.44502");
        let w = wilson(1, 10, 0.95).unwrap();
        assert_eq!(format!("{:.5} {:.5}", w.low, w.high), "0.01788 0.40415");
    }

    #[test]
    fn other_confidence_levels() {
        let cp = clopper_pearson(1, 10, 0.90).unwrap();
        assert!((cp.low - 0.005_116_196_891_823_701).abs() < 1e-12);
        assert!((cp.high - 0.394_163_302_436_504_66).abs() < 1e-12);
        let w = wilson(1, 10, 0.90).unwrap();
        assert!((w.low - 0.022_634_908_730_867_18).abs() < 1e-12);
        assert!((w.high - 0.347_718_667_335_858_43).abs() < 1e-12);
    }

    #[test]
    fn edges_are_exact() {
        for n in [1, 2, 10, 1000] {
            for m in [CiMethod::Wilson, CiMethod::ClopperPearson] {
                let zero = interval(m, 0, n, 0.95).unwrap();
                assert_eq!(zero.low, 0.0);
                let all = interval(m, n, n, 0.95).unwrap();
                assert_eq!(all.high, 1.0);
                assert!(zero.high < 1.0 && all.low > 0.0);
            }
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(wilson(1, 0, 0.95).is_err());
        assert!(wilson(3, 2, 0.95).is_err());
        assert!(clopper_pearson(1, 10, 1.0).is_err());
        assert!(clopper_pearson(1, 10, 0.0).is_err());
        assert!(clopper_pearson(1, 10, f64::NAN).is_err());
        assert!(binomial_cdf(1, 10, 1.5).is_err());
    }

    #[test]
    fn binomial_tails_match_reference() {
        // scipy.stats.binom.cdf / sf
        assert!((binomial_cdf(0, 50, 0.02).unwrap() - 0.364_169_680_087_117_1).abs() < 1e-13);
        assert!((binomial_cdf(1, 50, 0.02).unwrap() - 0.735_771_394_461_726_2).abs() < 1e-13);
        assert!((binomial_cdf(3, 100, 0.02).unwrap() - 0.858_961_563_398_295_2).abs() < 1e-13);
        let sf = |k, n, p| binomial_sf_inclusive(k, n, p).unwrap();
        assert!((sf(47, 50, 0.9) - 0.250_293_905_953_307_8).abs() < 1e-13);
        assert!((sf(50, 50, 0.9) - 0.005_153_775_207_320_118).abs() < 1e-13);
        assert!((sf(45, 50, 0.9) - 0.616_123_007_724_277_3).abs() < 1e-13);
        assert_eq!(binomial_cdf(10, 10, 0.3).unwrap(), 1.0);
        assert_eq!(binomial_cdf(3, 10, 0.0).unwrap(), 1.0);
        assert_eq!(binomial_cdf(3, 10, 1.0).unwrap(), 0.0);
        assert_eq!(sf(0, 10, 0.3), 1.0);
        assert_eq!(sf(1, 10, 0.0), 0.0);
    }

    #[test]
    fn method_names_round_trip() {
        for m in [CiMethod::Wilson, CiMethod::ClopperPearson] {
            assert_eq!(m.as_str().parse::<CiMethod>().unwrap(), m);
        }
        assert!("wald".parse::<CiMethod>().is_err());
    }
}
