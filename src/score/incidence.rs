//! Comprehensive poverty incidence (综合贫困发生率) and the four-veto county exit verdict.
//!
//! # Inputs (per county)
//!
//! - `rural_pop` `P`: rural population (乡村人口), `> 0`;
//! - `remaining` `R`: filed poor not yet exited (建档立卡未脱贫人口) at evaluation time;
//! - `exited` `E`: filed people already exited (已脱贫人口), still on the register;
//! - the missed-assessment sample (`k_m` of `n_m`) and the wrong-exit sample (`k_w` of `n_w`).
//!
//! The filed population is `F = R + E` and the **unfiled** rural population is
//! `U = P − F = P − R − E` (must be `≥ 0`): the population the missed-assessment sample is
//! drawn from.
//!
//! # Formula
//!
//! With `m = k_m / n_m` and `w = k_w / n_w`:
//!
//! `incidence = (R + m·U + w·E) / P`
//!
//! The point verdict is exact: with threshold `t`, strict `incidence < t` is decided as
//! `R·n_m·n_w + k_m·U·n_w + k_w·E·n_m < t·P·n_m·n_w` in decimal integers.
//!
//! # Interval
//!
//! `incidence` is non-decreasing in `m` and in `w` (`U, E ≥ 0`), so over the box
//! `[m_low, m_high] × [w_low, w_high]` it ranges from `f(m_low, w_low)` to `f(m_high, w_high)`.
//! [`Propagation::Bonferroni`] (the default) takes each rate's interval at confidence
//! `1 − (1 − c)/2`: the box then holds both true rates with probability at least `c`, and so
//! the incidence interval covers the true incidence with probability at least `c`.
//! [`Propagation::Endpoints`] uses each rate's interval at `c` itself (narrower, joint coverage
//! only guaranteed to be at least `1 − 2(1 − c)`).
//!
//! # Exit verdict
//!
//! A county may exit when none of the four vetoes fires: incidence passes its rule (`< 0.02`,
//! `< 0.03` for western units, per-unit overrides), and the point verdicts of
//! `missed_assessment`, `wrong_exit` and `satisfaction` pass. A missing indicator is a veto of
//! its own. The statistical exit verdict is `pass` when the four interval verdicts pass, `fail`
//! when any of them fails, `inconclusive` otherwise (a missing indicator counts as
//! inconclusive: its interval is `[0, 1]`).

use rust_decimal::Decimal;

use super::error::ScoreError;
use super::indicator::{Indicator, IndicatorResult, PointVerdict, ThresholdRule, Verdict};
use super::interval::{self, CiMethod, Interval};

/// How the two rates' intervals are carried into the incidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Each rate interval at `1 − (1 − c)/2`; joint coverage ≥ `c` (default).
    #[default]
    Bonferroni,
    /// Each rate interval at `c`.
    Endpoints,
}

/// Population figures and samples of one county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidenceInput {
    /// Unit id.
    pub unit_id: String,
    /// Rural population `P > 0`.
    pub rural_pop: u64,
    /// Filed poor not yet exited `R`.
    pub remaining: u64,
    /// Exited filed people `E`.
    pub exited: u64,
    /// Missed-assessment sample: `(flagged, sampled)`.
    pub missed: (u64, u64),
    /// Wrong-exit sample: `(flagged, sampled)`.
    pub wrong_exit: (u64, u64),
}

/// Comprehensive incidence of one county.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidenceResult {
    /// Unit id.
    pub unit_id: String,
    /// Unfiled rural population `U = P − R − E`.
    pub unfiled: u64,
    /// Estimated missed people `m·U`.
    pub missed_people: f64,
    /// Estimated wrongly exited people `w·E`.
    pub wrongly_exited_people: f64,
    /// `(R + m·U + w·E) / P`.
    pub incidence: f64,
    /// Interval of the incidence (see module docs).
    pub ci: Interval,
    /// The rule applied.
    pub rule: ThresholdRule,
    /// Exact point verdict.
    pub point_verdict: PointVerdict,
    /// Interval verdict.
    pub verdict: Verdict,
}

/// Computes the comprehensive incidence, its interval and verdicts.
pub fn comprehensive_incidence(
    input: &IncidenceInput,
    rule: ThresholdRule,
    method: CiMethod,
    confidence: f64,
    propagation: Propagation,
) -> Result<IncidenceResult, ScoreError> {
    let unit = || input.unit_id.clone();
    if input.rural_pop == 0 {
        return Err(ScoreError::Population {
            unit_id: unit(),
            field: "rural_pop",
            message: "rural population must be > 0".into(),
        });
    }
    let filed = input
        .remaining
        .checked_add(input.exited)
        .ok_or_else(|| ScoreError::overflow("filed population"))?;
    let unfiled = input.rural_pop.checked_sub(filed).ok_or_else(|| ScoreError::Population {
        unit_id: unit(),
        field: "rural_pop",
        message: format!(
            "rural population {} is smaller than the filed population {} (remaining {} + exited {})",
            input.rural_pop, filed, input.remaining, input.exited
        ),
    })?;
    let (km, nm) = input.missed;
    let (kw, nw) = input.wrong_exit;
    for (field, (k, n)) in [("missed", (km, nm)), ("wrong_exit", (kw, nw))] {
        if n == 0 || k > n {
            return Err(ScoreError::Population {
                unit_id: unit(),
                field,
                message: format!("sample must have 0 <= flagged <= sampled and sampled >= 1, got {k} of {n}"),
            });
        }
    }
    let conf = match propagation {
        Propagation::Bonferroni => 1.0 - (1.0 - confidence) / 2.0,
        Propagation::Endpoints => confidence,
    };
    interval::check_confidence(confidence)?;
    let mi = interval::interval(method, km, nm, conf)?;
    let wi = interval::interval(method, kw, nw, conf)?;
    let p = input.rural_pop as f64;
    let r = input.remaining as f64;
    let u = unfiled as f64;
    let e = input.exited as f64;
    let f = |m: f64, w: f64| (r + m * u + w * e) / p;
    let m = km as f64 / nm as f64;
    let w = kw as f64 / nw as f64;
    let ci = Interval {
        low: f(mi.low, wi.low),
        high: f(mi.high, wi.high),
    };

    // exact: numerator R·nm·nw + km·U·nw + kw·E·nm over denominator P·nm·nw
    let d = |x: u64| Decimal::from(x);
    let ovf = || ScoreError::overflow("comprehensive incidence");
    let nmw = d(nm).checked_mul(d(nw)).ok_or_else(ovf)?;
    let a = d(input.remaining).checked_mul(nmw).ok_or_else(ovf)?;
    let b = d(km).checked_mul(d(unfiled)).and_then(|x| x.checked_mul(d(nw))).ok_or_else(ovf)?;
    let c = d(kw)
        .checked_mul(d(input.exited))
        .and_then(|x| x.checked_mul(d(nm)))
        .ok_or_else(ovf)?;
    let numerator = a.checked_add(b).and_then(|x| x.checked_add(c)).ok_or_else(ovf)?;
    let denominator = d(input.rural_pop).checked_mul(nmw).ok_or_else(ovf)?;
    let passed = rule.passes_ratio(numerator, denominator)?;

    Ok(IncidenceResult {
        unit_id: unit(),
        unfiled,
        missed_people: m * u,
        wrongly_exited_people: w * e,
        incidence: f(m, w),
        ci,
        rule,
        point_verdict: PointVerdict::from_bool(passed),
        verdict: rule.interval_verdict(ci),
    })
}

/// One of the four exit vetoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Veto {
    /// Comprehensive incidence not under its threshold.
    Incidence,
    /// An indicator's point verdict fails.
    Indicator(Indicator),
    /// An indicator has no survey data for the unit.
    MissingIndicator(Indicator),
}

impl Veto {
    /// `incidence`, `<indicator>` or `<indicator>_missing`.
    pub fn as_str(self) -> String {
        match self {
            Veto::Incidence => "incidence".into(),
            Veto::Indicator(i) => i.as_str().into(),
            Veto::MissingIndicator(i) => format!("{}_missing", i.as_str()),
        }
    }
}

/// The four-veto exit verdict of a county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitVerdict {
    /// Unit id.
    pub unit_id: String,
    /// True when no veto fired.
    pub may_exit: bool,
    /// The vetoes that fired, in the order incidence, missed, wrong exit, satisfaction.
    pub vetoes: Vec<Veto>,
    /// Statistical reading over the four interval verdicts.
    pub statistical: Verdict,
}

/// Four-veto exit verdict from the county's incidence and its indicator results (results of
/// other units in `indicators` are ignored).
pub fn exit_verdict(incidence: &IncidenceResult, indicators: &[IndicatorResult]) -> ExitVerdict {
    let mut vetoes = Vec::new();
    let mut verdicts = vec![incidence.verdict];
    if incidence.point_verdict == PointVerdict::Fail {
        vetoes.push(Veto::Incidence);
    }
    for ind in Indicator::ALL {
        match indicators.iter().find(|r| r.unit_id == incidence.unit_id && r.indicator == ind) {
            Some(r) => {
                if r.point_verdict == PointVerdict::Fail {
                    vetoes.push(Veto::Indicator(ind));
                }
                verdicts.push(r.verdict);
            }
            None => {
                vetoes.push(Veto::MissingIndicator(ind));
                verdicts.push(Verdict::Inconclusive);
            }
        }
    }
    let statistical = if verdicts.contains(&Verdict::Fail) {
        Verdict::Fail
    } else if verdicts.iter().all(|v| *v == Verdict::Pass) {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    };
    ExitVerdict {
        unit_id: incidence.unit_id.clone(),
        may_exit: vetoes.is_empty(),
        vetoes,
        statistical,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::score::indicator::{evaluate, Comparison, Direction, Gate, Sample};

    fn rule(t: &str, c: Comparison) -> ThresholdRule {
        ThresholdRule {
            threshold: t.parse().unwrap(),
            comparison: c,
            direction: Direction::LowerBetter,
        }
    }

    fn input(remaining: u64, missed: (u64, u64), wrong: (u64, u64)) -> IncidenceInput {
        IncidenceInput {
            unit_id: "c1".into(),
            rural_pop: 100_000,
            remaining,
            exited: 20_000,
            missed,
            wrong_exit: wrong,
        }
    }

    #[test]
    fn formula_and_exact_boundary() {
        // U = 100000 − 1000 − 20000 = 79000; m = 1/100, w = 2/200
        // incidence = (1000 + 790 + 200) / 100000 = 0.0199
        let inp = input(1000, (1, 100), (2, 200));
        let r = comprehensive_incidence(
            &inp,
            rule("0.02", Comparison::Strict),
            CiMethod::Wilson,
            0.95,
            Propagation::Bonferroni,
        )
        .unwrap();
        assert_eq!(r.unfiled, 79_000);
        assert!((r.incidence - 0.0199).abs() < 1e-15);
        assert!((r.missed_people - 790.0).abs() < 1e-9);
        assert!((r.wrongly_exited_people - 200.0).abs() < 1e-9);
        assert_eq!(r.point_verdict, PointVerdict::Pass);
        assert!(r.ci.low <= r.incidence && r.incidence <= r.ci.high);

        // exactly 0.02: remaining 1010
        let inp = input(1010, (1, 100), (2, 200));
        // U = 78990 → m·U = 789.9; (1010 + 789.9 + 200)/100000 = 0.019999 → still pass
        let r = comprehensive_incidence(
            &inp,
            rule("0.02", Comparison::Strict),
            CiMethod::Wilson,
            0.95,
            Propagation::Bonferroni,
        )
        .unwrap();
        assert_eq!(r.point_verdict, PointVerdict::Pass);
        // a case landing exactly on 0.02: R = 1000, E = 20000, U = 79000, m = 0, w = 1/20
        // → (1000 + 0 + 1000) / 100000 = 0.02
        let inp = input(1000, (0, 100), (1, 20));
        for (c, expect) in [
            (Comparison::Strict, PointVerdict::Fail),
            (Comparison::Inclusive, PointVerdict::Pass),
        ] {
            let r = comprehensive_incidence(&inp, rule("0.02", c), CiMethod::Wilson, 0.95, Propagation::Bonferroni).unwrap();
            assert_eq!(r.point_verdict, expect);
            assert!((r.incidence - 0.02).abs() < 1e-16);
        }
    }

    #[test]
    fn interval_uses_rate_interval_endpoints() {
        let inp = input(1000, (1, 100), (2, 200));
        let r = comprehensive_incidence(
            &inp,
            rule("0.03", Comparison::Strict),
            CiMethod::ClopperPearson,
            0.95,
            Propagation::Endpoints,
        )
        .unwrap();
        let mi = interval::clopper_pearson(1, 100, 0.95).unwrap();
        let wi = interval::clopper_pearson(2, 200, 0.95).unwrap();
        let low = (1000.0 + mi.low * 79_000.0 + wi.low * 20_000.0) / 100_000.0;
        let high = (1000.0 + mi.high * 79_000.0 + wi.high * 20_000.0) / 100_000.0;
        assert!((r.ci.low - low).abs() < 1e-15);
        assert!((r.ci.high - high).abs() < 1e-15);
        let b = comprehensive_incidence(
            &inp,
            rule("0.03", Comparison::Strict),
            CiMethod::ClopperPearson,
            0.95,
            Propagation::Bonferroni,
        )
        .unwrap();
        assert!(b.ci.low < r.ci.low && b.ci.high > r.ci.high);
    }

    #[test]
    fn bad_populations() {
        let mut inp = input(1000, (1, 100), (2, 200));
        inp.rural_pop = 0;
        let r = || rule("0.02", Comparison::Strict);
        assert!(matches!(
            comprehensive_incidence(&inp, r(), CiMethod::Wilson, 0.95, Propagation::Bonferroni),
            Err(ScoreError::Population { field: "rural_pop", .. })
        ));
        inp.rural_pop = 20_000;
        assert!(comprehensive_incidence(&inp, r(), CiMethod::Wilson, 0.95, Propagation::Bonferroni).is_err());
        let mut inp = input(1000, (1, 0), (2, 200));
        assert!(comprehensive_incidence(&inp, r(), CiMethod::Wilson, 0.95, Propagation::Bonferroni).is_err());
        inp.missed = (3, 2);
        assert!(comprehensive_incidence(&inp, r(), CiMethod::Wilson, 0.95, Propagation::Bonferroni).is_err());
    }

    #[test]
    fn four_vetoes() {
        let inp = input(1000, (1, 100), (2, 200));
        let inc = comprehensive_incidence(
            &inp,
            Gate::Incidence.default_rule(),
            CiMethod::Wilson,
            0.95,
            Propagation::Bonferroni,
        )
        .unwrap();
        let ev = |ind: Indicator, k, n| {
            evaluate(
                &Sample {
                    row: 0,
                    unit_id: "c1".into(),
                    indicator: ind,
                    sampled: n,
                    flagged: k,
                },
                ind.default_rule(),
                CiMethod::Wilson,
                0.95,
            )
            .unwrap()
        };
        let good = vec![
            ev(Indicator::MissedAssessment, 1, 100),
            ev(Indicator::WrongExit, 2, 200),
            ev(Indicator::Satisfaction, 95, 100),
        ];
        let v = exit_verdict(&inc, &good);
        assert!(v.may_exit, "{v:?}");
        assert!(v.vetoes.is_empty());
        assert_eq!(v.statistical, Verdict::Inconclusive);

        let bad = vec![ev(Indicator::MissedAssessment, 1, 100), ev(Indicator::WrongExit, 5, 200)];
        let v = exit_verdict(&inc, &bad);
        assert!(!v.may_exit);
        assert_eq!(
            v.vetoes,
            vec![
                Veto::Indicator(Indicator::WrongExit),
                Veto::MissingIndicator(Indicator::Satisfaction)
            ]
        );

        let inp = input(3000, (1, 100), (2, 200));
        let inc = comprehensive_incidence(
            &inp,
            Gate::Incidence.default_rule(),
            CiMethod::Wilson,
            0.95,
            Propagation::Bonferroni,
        )
        .unwrap();
        let mut all_bad = good.clone();
        all_bad[2] = ev(Indicator::Satisfaction, 10, 100);
        let v = exit_verdict(&inc, &all_bad);
        assert_eq!(v.vetoes, vec![Veto::Incidence, Veto::Indicator(Indicator::Satisfaction)]);
        assert_eq!(v.statistical, Verdict::Fail);
        assert_eq!(Veto::MissingIndicator(Indicator::WrongExit).as_str(), "wrong_exit_missing");
    }
}
