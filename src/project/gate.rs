//! The exit gate (SPEC §5): a unit may exit when its poverty incidence is under its threshold
//! and, when survey samples exist for it, its comprehensive incidence is under the threshold
//! too and the three survey indicators pass.
//!
//! The indicator rules are the score module's ([`crate::score::indicator::IndicatorConfig`]:
//! the scenario's `[indicators]` thresholds, comparisons and per-unit overrides, national
//! strict rules by default), set on each unit's gate by the projection's `prepare`; a gate
//! built without them uses the national point rules. A missing indicator is a veto.

use super::split::Rate;
use crate::score::indicator::ThresholdRule;
use rust_decimal::Decimal;

/// National pass thresholds of the survey indicators (point rates, strict comparisons):
/// missed-assessment rate `< 0.02`, wrong-exit rate `< 0.02`, satisfaction `> 0.90`.
pub const MISSED_MAX: (u64, u64) = (2, 100);
/// Wrong-exit rate must be below 2/100.
pub const WRONG_EXIT_MAX: (u64, u64) = (2, 100);
/// Satisfaction must be above 90/100.
pub const SATISFACTION_MIN: (u64, u64) = (90, 100);

/// The survey samples of one unit: `(flagged, sampled)` per indicator, `None` when missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SurveyGate {
    /// 漏评: eligible-but-unfiled people found among the unfiled rural people sampled.
    pub missed: Option<(u64, u64)>,
    /// 错退: wrongly exited among the exited people sampled.
    pub wrong_exit: Option<(u64, u64)>,
    /// 群众认可度: approving households among those surveyed.
    pub satisfaction: Option<(u64, u64)>,
    /// The rules (missed assessment, wrong exit, satisfaction) from the scenario's
    /// `[indicators]`; `None`: the national strict point rules.
    pub rules: Option<[ThresholdRule; 3]>,
}

/// `k/n < a/b` exactly (`n, b > 0`).
fn below(k: u64, n: u64, (a, b): (u64, u64)) -> bool {
    u128::from(k) * u128::from(b) < u128::from(a) * u128::from(n)
}

impl SurveyGate {
    /// True when all three indicators are present and pass at their point rates: by the
    /// unit's `rules` when set, else `missed < 0.02`, `wrong_exit < 0.02`, `satisfaction > 0.90`.
    pub fn indicators_pass(&self) -> bool {
        if let Some([rm, rw, rs]) = &self.rules {
            let ok =
                |rule: &ThresholdRule, s: Option<(u64, u64)>| s.is_some_and(|(k, n)| n > 0 && rule.passes_counts(k, n).unwrap_or(false));
            return ok(rm, self.missed) && ok(rw, self.wrong_exit) && ok(rs, self.satisfaction);
        }
        match (self.missed, self.wrong_exit, self.satisfaction) {
            (Some((km, nm)), Some((kw, nw)), Some((ks, ns))) => {
                nm > 0
                    && nw > 0
                    && ns > 0
                    && below(km, nm, MISSED_MAX)
                    && below(kw, nw, WRONG_EXIT_MAX)
                    && u128::from(ks) * u128::from(SATISFACTION_MIN.1) > u128::from(SATISFACTION_MIN.0) * u128::from(ns)
            }
            _ => false,
        }
    }

    /// Comprehensive incidence (综合贫困发生率) `(R + m·U + w·E) / P`, where `R` is the
    /// remaining filed poor, `E` the exited filed people, `P` the rural population,
    /// `U = max(0, P − R − E)` the unfiled rural population, `m` and `w` the missed and
    /// wrong-exit point rates. `None` without both samples or with `P = 0`.
    pub fn comprehensive(&self, remaining: u64, exited: u64, rural_pop: u64) -> Option<Decimal> {
        let (km, nm) = self.missed?;
        let (kw, nw) = self.wrong_exit?;
        let (num, den) = comprehensive_fraction(remaining, exited, rural_pop, (km, nm), (kw, nw))?;
        let num = Decimal::from_i128_with_scale(i128::try_from(num).ok()?, 0);
        let den = Decimal::from_i128_with_scale(i128::try_from(den).ok()?, 0);
        num.checked_div(den)
    }

    /// Whether the comprehensive incidence is strictly below `threshold`, decided exactly in
    /// integers: `R·n_m·n_w + k_m·U·n_w + k_w·E·n_m < t·P·n_m·n_w`. `false` without both samples.
    pub fn comprehensive_below(&self, remaining: u64, exited: u64, rural_pop: u64, threshold: &Rate) -> bool {
        let (Some(m), Some(w)) = (self.missed, self.wrong_exit) else {
            return false;
        };
        let Some((num, den)) = comprehensive_fraction(remaining, exited, rural_pop, m, w) else {
            return false;
        };
        match (num.checked_mul(threshold.den), den.checked_mul(threshold.num)) {
            (Some(l), Some(r)) => l < r,
            // out of the exact range: compare the 28-digit decimal images
            _ => {
                let to_d = |x: u128| i128::try_from(x).ok().map(|v| Decimal::from_i128_with_scale(v, 0));
                match (to_d(num), to_d(den)) {
                    (Some(n), Some(d)) => n.checked_div(d).is_some_and(|v| v < threshold.value),
                    _ => false,
                }
            }
        }
    }
}

/// The comprehensive incidence as an exact fraction `(num, den)`.
fn comprehensive_fraction(remaining: u64, exited: u64, rural_pop: u64, (km, nm): (u64, u64), (kw, nw): (u64, u64)) -> Option<(u128, u128)> {
    if rural_pop == 0 || nm == 0 || nw == 0 {
        return None;
    }
    let unfiled = rural_pop.saturating_sub(remaining.saturating_add(exited));
    let (r, u, e) = (u128::from(remaining), u128::from(unfiled), u128::from(exited));
    let (km, nm, kw, nw) = (u128::from(km), u128::from(nm), u128::from(kw), u128::from(nw));
    let a = r.checked_mul(nm)?.checked_mul(nw)?;
    let b = km.checked_mul(u)?.checked_mul(nw)?;
    let c = kw.checked_mul(e)?.checked_mul(nm)?;
    let num = a.checked_add(b)?.checked_add(c)?;
    let den = u128::from(rural_pop).checked_mul(nm)?.checked_mul(nw)?;
    Some((num, den))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn gate(m: (u64, u64), w: (u64, u64), s: (u64, u64)) -> SurveyGate {
        SurveyGate {
            missed: Some(m),
            wrong_exit: Some(w),
            satisfaction: Some(s),
            rules: None,
        }
    }

    #[test]
    fn the_scenarios_indicator_rules_replace_the_national_ones() {
        use crate::score::indicator::{Comparison, Direction};
        let lower = |t, c| ThresholdRule {
            threshold: t,
            comparison: c,
            direction: Direction::LowerBetter,
        };
        let sat = ThresholdRule {
            threshold: dec!(0.85),
            comparison: Comparison::Strict,
            direction: Direction::HigherBetter,
        };
        let mut g = gate((3, 100), (1, 100), (88, 100));
        assert!(!g.indicators_pass(), "national: 3% missed and 88% satisfaction fail");
        g.rules = Some([lower(dec!(0.03), Comparison::Inclusive), lower(dec!(0.02), Comparison::Strict), sat]);
        assert!(g.indicators_pass(), "3% ≤ 3% inclusive and 88% > 85% pass");
        g.rules = Some([lower(dec!(0.03), Comparison::Strict), lower(dec!(0.02), Comparison::Strict), sat]);
        assert!(!g.indicators_pass(), "3% < 3% strict fails");
        g.satisfaction = None;
        g.rules = Some([lower(dec!(0.03), Comparison::Inclusive), lower(dec!(0.02), Comparison::Strict), sat]);
        assert!(!g.indicators_pass(), "a missing indicator is a veto");
    }

    #[test]
    fn indicators_pass_strictly() {
        assert!(gate((1, 100), (1, 100), (91, 100)).indicators_pass());
        // exactly at a threshold fails (strict)
        assert!(!gate((2, 100), (1, 100), (91, 100)).indicators_pass());
        assert!(!gate((1, 100), (2, 100), (91, 100)).indicators_pass());
        assert!(!gate((1, 100), (1, 100), (90, 100)).indicators_pass());
        assert!(gate((0, 50), (0, 50), (46, 50)).indicators_pass());
        // a missing indicator is a veto
        let mut g = gate((0, 50), (0, 50), (46, 50));
        g.satisfaction = None;
        assert!(!g.indicators_pass());
    }

    #[test]
    fn comprehensive_incidence_formula() {
        // P = 10,000, R = 100, E = 900, U = 9,000; m = 1/100, w = 2/100:
        // (100 + 90 + 18) / 10,000 = 0.0208
        let g = gate((1, 100), (2, 100), (95, 100));
        assert_eq!(g.comprehensive(100, 900, 10_000), Some(dec!(0.0208)));
        let t3 = Rate::new(dec!(0.03)).unwrap();
        let t2 = Rate::new(dec!(0.02)).unwrap();
        assert!(g.comprehensive_below(100, 900, 10_000, &t3));
        assert!(!g.comprehensive_below(100, 900, 10_000, &t2));
        // an exact tie is not below: m = 0, w = 0, R = 200, P = 10,000 → 0.02
        let z = gate((0, 10), (0, 10), (10, 10));
        assert!(!z.comprehensive_below(200, 0, 10_000, &t2));
        assert!(z.comprehensive_below(199, 0, 10_000, &t2));
        // without samples there is no comprehensive incidence
        assert_eq!(SurveyGate::default().comprehensive(1, 1, 10), None);
    }
}
