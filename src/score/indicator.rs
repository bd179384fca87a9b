//! Survey indicators: rates, intervals, thresholds and verdicts.
//!
//! # Indicators
//!
//! | name | meaning | `flagged` counts | better | national pass |
//! | --- | --- | --- | --- | --- |
//! | `missed_assessment` | 漏评率 | eligible-but-unfiled people among unfiled rural people sampled | lower | `< 0.02` |
//! | `wrong_exit` | 错退率 | wrongly exited among exited people sampled | lower | `< 0.02` |
//! | `satisfaction` | 群众认可度 | approving households among households surveyed | higher | `> 0.90` |
//!
//! `rate = flagged / sampled`.
//!
//! # Verdicts
//!
//! A [`ThresholdRule`] is a threshold `t`, the indicator's direction and a comparison:
//! `strict` (the default: lower-better passes when `rate < t`, higher-better when `rate > t`) or
//! `inclusive` (`rate ≤ t`, `rate ≥ t`).
//!
//! - `point_verdict` — the official reading: the rule applied to the observed rate. Computed
//!   exactly in integers and decimals (`k < t·n` etc.), so a rate exactly at the threshold is
//!   judged exactly (1 of 50 against 0.02 fails under strict, passes under inclusive).
//! - `verdict` — the statistical reading on the confidence interval `[low, high]`: `pass` when
//!   **every** rate in the closed interval would pass the point rule, `fail` when every rate in
//!   it would fail, `inconclusive` otherwise. The interval ends are therefore judged by the same
//!   strict/inclusive rule as the point:
//!
//!   | direction, comparison | pass when | fail when |
//!   | --- | --- | --- |
//!   | lower-better, strict (`rate < t`) | `high < t` | `low ≥ t` |
//!   | lower-better, inclusive (`rate ≤ t`) | `high ≤ t` | `low > t` |
//!   | higher-better, strict (`rate > t`) | `low > t` | `high ≤ t` |
//!   | higher-better, inclusive (`rate ≥ t`) | `low ≥ t` | `high < t` |
//!
//! - `p_value` — one-sided exact binomial test of H0 "the true rate is on the bad side of the
//!   threshold" against H1 "it is on the good side". For lower-better indicators the p-value is
//!   `P(X ≤ k | n, t)`, for higher-better ones `P(X ≥ k | n, t)`, `X ~ Binomial(n, t)`: the
//!   largest probability, over all true rates in H0, of a result at least as good as the one
//!   observed (the supremum is reached at the boundary `t`, for strict and inclusive rules
//!   alike). A small p-value is evidence that the unit really passes.
//!
//! # Thresholds configuration (`[indicators]` in the scenario)
//!
//! ```toml
//! [indicators]
//! ci = "wilson"              # wilson (default) | clopper-pearson
//! confidence = "0.95"        # default 0.95
//!
//! [indicators.missed_assessment]
//! threshold = "0.02"         # default 0.02
//! comparison = "strict"      # strict (default) | inclusive
//!
//! [indicators.wrong_exit]
//! threshold = "0.02"
//!
//! [indicators.satisfaction]
//! threshold = "0.90"         # default 0.90 (higher is better)
//!
//! [indicators.incidence]     # comprehensive incidence (综合贫困发生率)
//! threshold = "0.02"         # default 0.02; western provinces 0.03
//!
//! [[indicators.override]]    # per-unit thresholds, e.g. western counties
//! units = ["620102", "620103"]
//! indicator = "incidence"    # missed_assessment | wrong_exit | satisfaction | incidence
//! threshold = "0.03"
//! comparison = "strict"      # optional: defaults to the indicator's comparison
//! ```
//!
//! Every key is optional; the whole section may be absent.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::de::dec_opt;
use super::error::ScoreError;
use super::interval::{self, binomial_cdf, binomial_sf_inclusive, CiMethod, Interval};

/// A survey indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Indicator {
    /// 漏评率: eligible-but-unfiled among unfiled rural people sampled (lower is better).
    MissedAssessment,
    /// 错退率: wrongly exited among exited people sampled (lower is better).
    WrongExit,
    /// 群众认可度: approving among households surveyed (higher is better).
    Satisfaction,
}

impl Indicator {
    /// All indicators, in file order.
    pub const ALL: [Indicator; 3] = [Indicator::MissedAssessment, Indicator::WrongExit, Indicator::Satisfaction];

    /// The name used in files: `missed_assessment`, `wrong_exit`, `satisfaction`.
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::MissedAssessment => "missed_assessment",
            Indicator::WrongExit => "wrong_exit",
            Indicator::Satisfaction => "satisfaction",
        }
    }

    /// Whether a lower or a higher rate is better.
    pub fn direction(self) -> Direction {
        match self {
            Indicator::MissedAssessment | Indicator::WrongExit => Direction::LowerBetter,
            Indicator::Satisfaction => Direction::HigherBetter,
        }
    }

    /// The national threshold: 0.02, 0.02, 0.90.
    pub fn default_threshold(self) -> Decimal {
        match self {
            Indicator::MissedAssessment | Indicator::WrongExit => Decimal::new(2, 2),
            Indicator::Satisfaction => Decimal::new(90, 2),
        }
    }

    /// The national rule: default threshold, strict comparison.
    pub fn default_rule(self) -> ThresholdRule {
        ThresholdRule {
            threshold: self.default_threshold(),
            comparison: Comparison::Strict,
            direction: self.direction(),
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Indicator {
    type Err = String;

    /// Parses an indicator name (exact, lower case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Indicator::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| format!("unknown indicator `{s}`"))
    }
}

/// Which side of the threshold is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Lower rates are better (pass below the threshold).
    LowerBetter,
    /// Higher rates are better (pass above the threshold).
    HigherBetter,
}

/// Whether a rate exactly at the threshold passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// The threshold itself fails (`<` or `>`); the national rule.
    #[default]
    Strict,
    /// The threshold itself passes (`≤` or `≥`).
    Inclusive,
}

impl Comparison {
    /// `strict` or `inclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Strict => "strict",
            Comparison::Inclusive => "inclusive",
        }
    }
}

/// The official reading: the rule applied to the observed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointVerdict {
    /// The observed value passes.
    Pass,
    /// The observed value fails.
    Fail,
}

impl PointVerdict {
    /// `pass` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            PointVerdict::Pass => "pass",
            PointVerdict::Fail => "fail",
        }
    }

    /// `Pass` when `passed`.
    pub fn from_bool(passed: bool) -> Self {
        if passed {
            PointVerdict::Pass
        } else {
            PointVerdict::Fail
        }
    }
}

/// The statistical reading on a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The whole interval is on the good side.
    Pass,
    /// The whole interval is on the bad side.
    Fail,
    /// The interval straddles the threshold.
    Inconclusive,
}

impl Verdict {
    /// `pass`, `fail` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// A threshold with its direction and comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThresholdRule {
    /// The threshold `t`, a rate in `[0, 1]`.
    pub threshold: Decimal,
    /// Strict (`<`, `>`) or inclusive (`≤`, `≥`).
    pub comparison: Comparison,
    /// Which side is good.
    pub direction: Direction,
}

impl ThresholdRule {
    /// Whether the exact value `x` passes: lower-better strict `x < t`, inclusive `x ≤ t`;
    /// higher-better strict `x > t`, inclusive `x ≥ t`.
    pub fn passes(&self, x: Decimal) -> bool {
        let t = self.threshold;
        match (self.direction, self.comparison) {
            (Direction::LowerBetter, Comparison::Strict) => x < t,
            (Direction::LowerBetter, Comparison::Inclusive) => x <= t,
            (Direction::HigherBetter, Comparison::Strict) => x > t,
            (Direction::HigherBetter, Comparison::Inclusive) => x >= t,
        }
    }

    /// Whether the rate `flagged / sampled` passes, decided exactly: compares `flagged` with
    /// `t × sampled` (e.g. lower-better strict: `flagged < t·sampled`).
    pub fn passes_counts(&self, flagged: u64, sampled: u64) -> Result<bool, ScoreError> {
        self.passes_ratio(Decimal::from(flagged), Decimal::from(sampled))
    }

    /// Whether `numerator / denominator` (denominator > 0) passes, decided exactly by comparing
    /// `numerator` with `t × denominator`.
    pub(crate) fn passes_ratio(&self, numerator: Decimal, denominator: Decimal) -> Result<bool, ScoreError> {
        let scaled = self
            .threshold
            .checked_mul(denominator)
            .ok_or_else(|| ScoreError::overflow("threshold × sample size"))?;
        let rule = ThresholdRule {
            threshold: scaled,
            ..*self
        };
        Ok(rule.passes(numerator))
    }

    /// Whether the real number `x` passes (f64 comparison with the threshold as f64).
    fn passes_f64(&self, x: f64, t: f64) -> bool {
        match (self.direction, self.comparison) {
            (Direction::LowerBetter, Comparison::Strict) => x < t,
            (Direction::LowerBetter, Comparison::Inclusive) => x <= t,
            (Direction::HigherBetter, Comparison::Strict) => x > t,
            (Direction::HigherBetter, Comparison::Inclusive) => x >= t,
        }
    }

    /// The threshold as `f64`.
    pub fn threshold_f64(&self) -> f64 {
        self.threshold.to_f64().unwrap_or(f64::NAN)
    }

    /// Statistical verdict on a closed interval: `Pass` when both ends pass the point rule
    /// (then every rate between them does), `Fail` when both ends fail, else `Inconclusive`.
    pub fn interval_verdict(&self, ci: Interval) -> Verdict {
        let t = self.threshold_f64();
        let low = self.passes_f64(ci.low, t);
        let high = self.passes_f64(ci.high, t);
        match (low, high) {
            (true, true) => Verdict::Pass,
            (false, false) => Verdict::Fail,
            _ => Verdict::Inconclusive,
        }
    }

    /// One-sided exact p-value of H0 "the true rate is on the bad side of `t`":
    /// lower-better `P(X ≤ k | n, t)`, higher-better `P(X ≥ k | n, t)`, `X ~ Binomial(n, t)`.
    pub fn p_value(&self, flagged: u64, sampled: u64) -> Result<f64, ScoreError> {
        let t = self.threshold_f64();
        match self.direction {
            Direction::LowerBetter => binomial_cdf(flagged, sampled, t),
            Direction::HigherBetter => binomial_sf_inclusive(flagged, sampled, t),
        }
    }
}

/// One survey row as read from `survey.csv`, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RawSurveyRow {
    /// Unit id.
    pub unit_id: String,
    /// Indicator name.
    pub indicator: String,
    /// Number of people or households sampled.
    pub sampled: i64,
    /// Number flagged (for `satisfaction`: approving).
    pub flagged: i64,
}

/// A validated survey sample: `0 ≤ flagged ≤ sampled`, `sampled ≥ 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// 0-based index of the row it came from.
    pub row: usize,
    /// Unit id.
    pub unit_id: String,
    /// Indicator.
    pub indicator: Indicator,
    /// Sample size `n ≥ 1`.
    pub sampled: u64,
    /// Flagged count `0 ≤ k ≤ n`.
    pub flagged: u64,
}

/// Validates survey rows: known indicator names, non-negative counts, `sampled ≥ 1`,
/// `flagged ≤ sampled`, non-empty unit ids, one row per (unit, indicator). Returns every error
/// found, each naming the row index and field.
pub fn validate_survey(rows: &[RawSurveyRow]) -> Result<Vec<Sample>, Vec<ScoreError>> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut seen: BTreeMap<(String, Indicator), usize> = BTreeMap::new();
    for (row, raw) in rows.iter().enumerate() {
        let mut ok = true;
        let unit_id = raw.unit_id.trim();
        if unit_id.is_empty() {
            errors.push(ScoreError::EmptyUnitId { row, field: "unit_id" });
            ok = false;
        }
        let indicator = match raw.indicator.trim().parse::<Indicator>() {
            Ok(i) => Some(i),
            Err(_) => {
                errors.push(ScoreError::UnknownIndicator {
                    row,
                    field: "indicator",
                    value: raw.indicator.clone(),
                });
                None
            }
        };
        for (field, value) in [("sampled", raw.sampled), ("flagged", raw.flagged)] {
            if value < 0 {
                errors.push(ScoreError::NegativeCount { row, field, value });
                ok = false;
            }
        }
        if raw.sampled == 0 {
            errors.push(ScoreError::ZeroSampled { row, field: "sampled" });
            ok = false;
        }
        let sampled = u64::try_from(raw.sampled).unwrap_or(0);
        let flagged = u64::try_from(raw.flagged).unwrap_or(0);
        if ok && flagged > sampled {
            errors.push(ScoreError::FlaggedExceedsSampled {
                row,
                field: "flagged",
                flagged,
                sampled,
            });
            ok = false;
        }
        let Some(indicator) = indicator else { continue };
        if let Some(&first_row) = seen.get(&(unit_id.to_string(), indicator)) {
            errors.push(ScoreError::DuplicateRow {
                row,
                first_row,
                field: "indicator",
                unit_id: unit_id.to_string(),
                indicator: indicator.as_str().to_string(),
            });
            continue;
        }
        seen.insert((unit_id.to_string(), indicator), row);
        if ok {
            out.push(Sample {
                row,
                unit_id: unit_id.to_string(),
                indicator,
                sampled,
                flagged,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// What a threshold applies to: a survey indicator or the comprehensive incidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gate {
    /// A survey indicator.
    Indicator(Indicator),
    /// Comprehensive incidence (综合贫困发生率), lower is better.
    Incidence,
}

impl Gate {
    /// Name in configuration: an indicator name or `incidence`.
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Indicator(i) => i.as_str(),
            Gate::Incidence => "incidence",
        }
    }

    /// National rule: indicator defaults; incidence `< 0.02`.
    pub fn default_rule(self) -> ThresholdRule {
        match self {
            Gate::Indicator(i) => i.default_rule(),
            Gate::Incidence => ThresholdRule {
                threshold: Decimal::new(2, 2),
                comparison: Comparison::Strict,
                direction: Direction::LowerBetter,
            },
        }
    }

    fn parse(s: &str) -> Option<Gate> {
        if s == "incidence" {
            Some(Gate::Incidence)
        } else {
            s.parse::<Indicator>().ok().map(Gate::Indicator)
        }
    }
}

/// `[indicators]` as written in the scenario (see the module docs for the shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIndicatorConfig {
    /// `wilson` or `clopper-pearson`.
    #[serde(default)]
    pub ci: Option<String>,
    /// Confidence level, e.g. `"0.95"`.
    #[serde(default, with = "dec_opt")]
    pub confidence: Option<Decimal>,
    /// Missed-assessment threshold.
    #[serde(default)]
    pub missed_assessment: Option<RawThreshold>,
    /// Wrong-exit threshold.
    #[serde(default)]
    pub wrong_exit: Option<RawThreshold>,
    /// Satisfaction threshold.
    #[serde(default)]
    pub satisfaction: Option<RawThreshold>,
    /// Comprehensive-incidence threshold.
    #[serde(default)]
    pub incidence: Option<RawThreshold>,
    /// Per-unit overrides (`[[indicators.override]]`).
    #[serde(default, rename = "override")]
    pub overrides: Vec<RawOverride>,
}

/// `[indicators.<name>]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThreshold {
    /// Threshold rate, e.g. `"0.02"`.
    #[serde(default, with = "dec_opt")]
    pub threshold: Option<Decimal>,
    /// `strict` or `inclusive`.
    #[serde(default)]
    pub comparison: Option<Comparison>,
}

/// `[[indicators.override]]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOverride {
    /// Units the override applies to.
    pub units: Vec<String>,
    /// Indicator name or `incidence`.
    pub indicator: String,
    /// Threshold for these units (default: the indicator's).
    #[serde(default, with = "dec_opt")]
    pub threshold: Option<Decimal>,
    /// Comparison for these units (default: the indicator's).
    #[serde(default)]
    pub comparison: Option<Comparison>,
}

/// Validated thresholds and interval settings.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorConfig {
    /// Interval method.
    pub ci: CiMethod,
    /// Confidence level in `(0, 1)`.
    pub confidence: f64,
    rules: BTreeMap<Gate, ThresholdRule>,
    overrides: BTreeMap<(String, Gate), ThresholdRule>,
}

impl Default for IndicatorConfig {
    /// National rules, Wilson 95%.
    fn default() -> Self {
        let mut rules = BTreeMap::new();
        for gate in Self::gates() {
            rules.insert(gate, gate.default_rule());
        }
        IndicatorConfig {
            ci: CiMethod::Wilson,
            confidence: 0.95,
            rules,
            overrides: BTreeMap::new(),
        }
    }
}

impl IndicatorConfig {
    fn gates() -> [Gate; 4] {
        [
            Gate::Indicator(Indicator::MissedAssessment),
            Gate::Indicator(Indicator::WrongExit),
            Gate::Indicator(Indicator::Satisfaction),
            Gate::Incidence,
        ]
    }

    /// Validates `[indicators]`: method name, `0 < confidence < 1`, thresholds in `[0, 1]`,
    /// override indicators known, override units non-empty, no unit overridden twice for the
    /// same indicator. Errors carry the TOML path (`indicators.override[1].threshold`).
    pub fn from_raw(raw: &RawIndicatorConfig) -> Result<Self, Vec<ScoreError>> {
        let mut errors = Vec::new();
        let mut cfg = IndicatorConfig::default();
        if let Some(ci) = &raw.ci {
            match ci.parse::<CiMethod>() {
                Ok(m) => cfg.ci = m,
                Err(e) => errors.push(ScoreError::config("indicators.ci", e)),
            }
        }
        if let Some(c) = raw.confidence {
            match c.to_f64() {
                Some(f) if f > 0.0 && f < 1.0 => cfg.confidence = f,
                _ => errors.push(ScoreError::config(
                    "indicators.confidence",
                    format!("must be strictly between 0 and 1, got {c}"),
                )),
            }
        }
        let sections = [
            (Gate::Indicator(Indicator::MissedAssessment), &raw.missed_assessment),
            (Gate::Indicator(Indicator::WrongExit), &raw.wrong_exit),
            (Gate::Indicator(Indicator::Satisfaction), &raw.satisfaction),
            (Gate::Incidence, &raw.incidence),
        ];
        for (gate, section) in sections {
            let Some(section) = section else { continue };
            let path = format!("indicators.{}", gate.as_str());
            let base = gate.default_rule();
            if let Some(rule) = apply(&path, base, section.threshold, section.comparison, &mut errors) {
                cfg.rules.insert(gate, rule);
            }
        }
        for (i, o) in raw.overrides.iter().enumerate() {
            let path = format!("indicators.override[{i}]");
            let Some(gate) = Gate::parse(o.indicator.trim()) else {
                errors.push(ScoreError::config(
                    format!("{path}.indicator"),
                    format!(
                        "unknown indicator `{}` (expected missed_assessment, wrong_exit, satisfaction or incidence)",
                        o.indicator
                    ),
                ));
                continue;
            };
            if o.units.is_empty() {
                errors.push(ScoreError::config(format!("{path}.units"), "list at least one unit id"));
            }
            if o.threshold.is_none() && o.comparison.is_none() {
                errors.push(ScoreError::config(path.clone(), "give a threshold, a comparison or both"));
            }
            let base = cfg.rule(gate);
            let Some(rule) = apply(&path, base, o.threshold, o.comparison, &mut errors) else {
                continue;
            };
            for unit in &o.units {
                let unit = unit.trim().to_string();
                if unit.is_empty() {
                    errors.push(ScoreError::config(format!("{path}.units"), "unit ids must not be empty"));
                    continue;
                }
                if cfg.overrides.insert((unit.clone(), gate), rule).is_some() {
                    errors.push(ScoreError::config(
                        format!("{path}.units"),
                        format!("unit `{unit}` already has a `{}` override", gate.as_str()),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(errors)
        }
    }

    /// The rule that applies to all units without an override.
    pub fn rule(&self, gate: Gate) -> ThresholdRule {
        self.rules.get(&gate).copied().unwrap_or_else(|| gate.default_rule())
    }

    /// The rule for one unit: its override if any, else the general rule.
    pub fn rule_for(&self, unit_id: &str, gate: Gate) -> ThresholdRule {
        self.overrides
            .get(&(unit_id.to_string(), gate))
            .copied()
            .unwrap_or_else(|| self.rule(gate))
    }

    /// Unit ids named in overrides (for the loader to check that they exist).
    pub fn override_units(&self) -> impl Iterator<Item = &str> {
        self.overrides.keys().map(|(u, _)| u.as_str())
    }

    /// Sets the general rule of a gate (e.g. from a command-line option).
    pub fn set_rule(&mut self, gate: Gate, threshold: Decimal, comparison: Comparison) {
        self.rules.insert(
            gate,
            ThresholdRule {
                threshold,
                comparison,
                direction: gate.default_rule().direction,
            },
        );
    }
}

fn apply(
    path: &str,
    base: ThresholdRule,
    threshold: Option<Decimal>,
    comparison: Option<Comparison>,
    errors: &mut Vec<ScoreError>,
) -> Option<ThresholdRule> {
    let mut rule = base;
    if let Some(t) = threshold {
        if t < Decimal::ZERO || t > Decimal::ONE {
            errors.push(ScoreError::config(
                format!("{path}.threshold"),
                format!("must be a rate in [0, 1], got {t}"),
            ));
            return None;
        }
        rule.threshold = t;
    }
    if let Some(c) = comparison {
        rule.comparison = c;
    }
    Some(rule)
}

/// One row of `indicators.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorResult {
    /// Unit id.
    pub unit_id: String,
    /// Indicator.
    pub indicator: Indicator,
    /// Sample size.
    pub sampled: u64,
    /// Flagged count.
    pub flagged: u64,
    /// `flagged / sampled`.
    pub rate: f64,
    /// Confidence interval of the rate.
    pub ci: Interval,
    /// The rule applied (threshold, comparison, direction).
    pub rule: ThresholdRule,
    /// Official reading (rate vs threshold, exact).
    pub point_verdict: PointVerdict,
    /// Statistical reading (interval vs threshold).
    pub verdict: Verdict,
    /// One-sided exact p-value of "the true rate is on the bad side" (see module docs).
    pub p_value: f64,
}

impl IndicatorResult {
    /// The rate as a decimal, `flagged / sampled` (rust_decimal division: exact when the
    /// quotient terminates within 28 digits, else correctly rounded to 28 significant digits).
    pub fn rate_decimal(&self) -> Result<Decimal, ScoreError> {
        Decimal::from(self.flagged)
            .checked_div(Decimal::from(self.sampled))
            .ok_or_else(|| ScoreError::overflow("rate"))
    }
}

/// Evaluates one sample under a rule: rate, interval, point verdict, interval verdict, p-value.
pub fn evaluate(sample: &Sample, rule: ThresholdRule, method: CiMethod, confidence: f64) -> Result<IndicatorResult, ScoreError> {
    let ci = interval::interval(method, sample.flagged, sample.sampled, confidence)?;
    let passed = rule.passes_counts(sample.flagged, sample.sampled)?;
    Ok(IndicatorResult {
        unit_id: sample.unit_id.clone(),
        indicator: sample.indicator,
        sampled: sample.sampled,
        flagged: sample.flagged,
        rate: sample.flagged as f64 / sample.sampled as f64,
        ci,
        rule,
        point_verdict: PointVerdict::from_bool(passed),
        verdict: rule.interval_verdict(ci),
        p_value: rule.p_value(sample.flagged, sample.sampled)?,
    })
}

/// Evaluates every sample with the rule that applies to its unit, in input order.
pub fn evaluate_all(samples: &[Sample], config: &IndicatorConfig) -> Result<Vec<IndicatorResult>, ScoreError> {
    samples
        .iter()
        .map(|s| {
            let rule = config.rule_for(&s.unit_id, Gate::Indicator(s.indicator));
            evaluate(s, rule, config.ci, config.confidence)
        })
        .collect()
}

/// A value an indicator contributes to the scoring tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndicatorValue {
    /// `indicator.<name>.rate`: the rate `flagged / sampled`.
    Rate,
    /// `indicator.<name>.pass`: 1 when the point verdict passes, else 0.
    Pass,
}

/// The value key of an indicator value: `indicator.<name>.rate` or `indicator.<name>.pass`.
pub fn value_key(indicator: Indicator, value: IndicatorValue) -> String {
    let suffix = match value {
        IndicatorValue::Rate => "rate",
        IndicatorValue::Pass => "pass",
    };
    format!("indicator.{}.{suffix}", indicator.as_str())
}

/// Parses a value key of the form `indicator.<name>.rate|pass`.
pub fn parse_value_key(key: &str) -> Option<(Indicator, IndicatorValue)> {
    let rest = key.strip_prefix("indicator.")?;
    let (name, what) = rest.rsplit_once('.')?;
    let indicator = name.parse::<Indicator>().ok()?;
    let value = match what {
        "rate" => IndicatorValue::Rate,
        "pass" => IndicatorValue::Pass,
        _ => return None,
    };
    Some((indicator, value))
}

/// Scoring values from indicator results: per unit, `indicator.<name>.rate` (decimal rate) and
/// `indicator.<name>.pass` (1 or 0), to merge into the values handed to the scoring tables.
pub fn indicator_values(results: &[IndicatorResult]) -> Result<BTreeMap<String, BTreeMap<String, Decimal>>, ScoreError> {
    let mut out: BTreeMap<String, BTreeMap<String, Decimal>> = BTreeMap::new();
    for r in results {
        let entry = out.entry(r.unit_id.clone()).or_default();
        entry.insert(value_key(r.indicator, IndicatorValue::Rate), r.rate_decimal()?);
        let pass = if r.point_verdict == PointVerdict::Pass {
            Decimal::ONE
        } else {
            Decimal::ZERO
        };
        entry.insert(value_key(r.indicator, IndicatorValue::Pass), pass);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn sample(ind: Indicator, k: u64, n: u64) -> Sample {
        Sample {
            row: 0,
            unit_id: "u".into(),
            indicator: ind,
            sampled: n,
            flagged: k,
        }
    }

    fn eval(ind: Indicator, k: u64, n: u64, cmp: Comparison) -> IndicatorResult {
        let rule = ThresholdRule {
            comparison: cmp,
            ..ind.default_rule()
        };
        evaluate(&sample(ind, k, n), rule, CiMethod::Wilson, 0.95).unwrap()
    }

    #[test]
    fn rate_exactly_at_threshold() {
        // 1 of 50 = 0.02 exactly
        let strict = eval(Indicator::MissedAssessment, 1, 50, Comparison::Strict);
        assert_eq!(strict.point_verdict, PointVerdict::Fail);
        let incl = eval(Indicator::MissedAssessment, 1, 50, Comparison::Inclusive);
        assert_eq!(incl.point_verdict, PointVerdict::Pass);
        // 45 of 50 = 0.90 exactly
        let strict = eval(Indicator::Satisfaction, 45, 50, Comparison::Strict);
        assert_eq!(strict.point_verdict, PointVerdict::Fail);
        let incl = eval(Indicator::Satisfaction, 45, 50, Comparison::Inclusive);
        assert_eq!(incl.point_verdict, PointVerdict::Pass);
        // 9 of 10 = 0.9: f64 9/10 is not 0.9 decimal, but the verdict is exact
        let strict = eval(Indicator::Satisfaction, 9, 10, Comparison::Strict);
        assert_eq!(strict.point_verdict, PointVerdict::Fail);
        // 3 of 100 against 0.03 inclusive
        let rule = ThresholdRule {
            threshold: dec("0.03"),
            comparison: Comparison::Inclusive,
            direction: Direction::LowerBetter,
        };
        assert!(rule.passes_counts(3, 100).unwrap());
        assert!(!rule.passes_counts(31, 1000).unwrap());
    }

    #[test]
    fn zero_of_n_and_n_of_n_and_n_equals_one() {
        let r = eval(Indicator::WrongExit, 0, 10, Comparison::Strict);
        assert_eq!(r.rate, 0.0);
        assert_eq!(r.point_verdict, PointVerdict::Pass);
        assert_eq!(r.verdict, Verdict::Inconclusive); // [0, 0.2775] straddles 0.02
        assert!((r.p_value - 0.98_f64.powi(10)).abs() < 1e-14);

        let r = eval(Indicator::WrongExit, 10, 10, Comparison::Strict);
        assert_eq!(r.point_verdict, PointVerdict::Fail);
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.p_value, 1.0);

        let r = eval(Indicator::Satisfaction, 1, 1, Comparison::Strict);
        assert_eq!(r.point_verdict, PointVerdict::Pass);
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert!((r.p_value - 0.9).abs() < 1e-15);
        let r = eval(Indicator::Satisfaction, 0, 1, Comparison::Strict);
        assert_eq!(r.point_verdict, PointVerdict::Fail);
        assert_eq!(r.verdict, Verdict::Fail); // [0, 0.793] all below 0.9
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn interval_verdicts_with_large_samples() {
        let r = eval(Indicator::MissedAssessment, 0, 1000, Comparison::Strict);
        assert_eq!(r.verdict, Verdict::Pass); // high = 0.00383
        let r = eval(Indicator::MissedAssessment, 100, 1000, Comparison::Strict);
        assert_eq!(r.verdict, Verdict::Fail);
        let r = eval(Indicator::Satisfaction, 990, 1000, Comparison::Strict);
        assert_eq!(r.verdict, Verdict::Pass);
    }

    #[test]
    fn interval_ends_follow_the_comparison() {
        let lower = |c| ThresholdRule {
            threshold: dec("0.02"),
            comparison: c,
            direction: Direction::LowerBetter,
        };
        let at = Interval { low: 0.01, high: 0.02 };
        assert_eq!(lower(Comparison::Strict).interval_verdict(at), Verdict::Inconclusive);
        assert_eq!(lower(Comparison::Inclusive).interval_verdict(at), Verdict::Pass);
        let at = Interval { low: 0.02, high: 0.05 };
        assert_eq!(lower(Comparison::Strict).interval_verdict(at), Verdict::Fail);
        assert_eq!(lower(Comparison::Inclusive).interval_verdict(at), Verdict::Inconclusive);
        let higher = |c| ThresholdRule {
            threshold: dec("0.9"),
            comparison: c,
            direction: Direction::HigherBetter,
        };
        let at = Interval { low: 0.9, high: 0.95 };
        assert_eq!(higher(Comparison::Strict).interval_verdict(at), Verdict::Inconclusive);
        assert_eq!(higher(Comparison::Inclusive).interval_verdict(at), Verdict::Pass);
        let at = Interval { low: 0.8, high: 0.9 };
        assert_eq!(higher(Comparison::Strict).interval_verdict(at), Verdict::Fail);
        assert_eq!(higher(Comparison::Inclusive).interval_verdict(at), Verdict::Inconclusive);
    }

    #[test]
    fn p_values_match_scipy() {
        let r = eval(Indicator::MissedAssessment, 1, 50, Comparison::Strict);
        assert!((r.p_value - 0.735_771_394_461_726_2).abs() < 1e-13);
        let r = eval(Indicator::Satisfaction, 47, 50, Comparison::Strict);
        assert!((r.p_value - 0.250_293_905_953_307_8).abs() < 1e-13);
    }

    #[test]
    fn survey_validation_reports_every_error() {
        let row = |u: &str, i: &str, n: i64, k: i64| RawSurveyRow {
            unit_id: u.into(),
            indicator: i.into(),
            sampled: n,
            flagged: k,
        };
        let rows = vec![
            row("a", "missed_assessment", 10, 1),
            row("a", "wrong_exits", 10, 1),
            row("b", "wrong_exit", 10, 11),
            row("c", "satisfaction", 0, 0),
            row("d", "satisfaction", -1, -2),
            row("a", "missed_assessment", 20, 1),
            row("", "wrong_exit", 5, 1),
        ];
        let errs = validate_survey(&rows).unwrap_err();
        assert!(errs.contains(&ScoreError::UnknownIndicator {
            row: 1,
            field: "indicator",
            value: "wrong_exits".into()
        }));
        assert!(errs.contains(&ScoreError::FlaggedExceedsSampled {
            row: 2,
            field: "flagged",
            flagged: 11,
            sampled: 10
        }));
        assert!(errs.contains(&ScoreError::ZeroSampled { row: 3, field: "sampled" }));
        assert!(errs.contains(&ScoreError::NegativeCount {
            row: 4,
            field: "sampled",
            value: -1
        }));
        assert!(errs.contains(&ScoreError::NegativeCount {
            row: 4,
            field: "flagged",
            value: -2
        }));
        assert!(errs
            .iter()
            .any(|e| matches!(e, ScoreError::DuplicateRow { row: 5, first_row: 0, .. })));
        assert!(errs.contains(&ScoreError::EmptyUnitId { row: 6, field: "unit_id" }));
        let ok = validate_survey(&rows[..1]).unwrap();
        assert_eq!(ok[0].flagged, 1);
    }

    #[test]
    fn config_from_toml_with_overrides() {
        let text = r#"
            ci = "clopper-pearson"
            confidence = "0.9"
            [missed_assessment]
            threshold = "0.01"
            comparison = "inclusive"
            [incidence]
            threshold = "0.03"
            [[override]]
            units = ["620102"]
            indicator = "missed_assessment"
            threshold = "0.02"
            [[override]]
            units = ["620103"]
            indicator = "satisfaction"
            comparison = "inclusive"
        "#;
        let raw: RawIndicatorConfig = toml::from_str(text).unwrap();
        let cfg = IndicatorConfig::from_raw(&raw).unwrap();
        assert_eq!(cfg.ci, CiMethod::ClopperPearson);
        assert!((cfg.confidence - 0.9).abs() < 1e-15);
        let ma = Gate::Indicator(Indicator::MissedAssessment);
        assert_eq!(cfg.rule_for("x", ma).threshold, dec("0.01"));
        assert_eq!(cfg.rule_for("x", ma).comparison, Comparison::Inclusive);
        // override inherits the comparison of the general rule
        assert_eq!(cfg.rule_for("620102", ma).threshold, dec("0.02"));
        assert_eq!(cfg.rule_for("620102", ma).comparison, Comparison::Inclusive);
        let sat = Gate::Indicator(Indicator::Satisfaction);
        assert_eq!(cfg.rule_for("620103", sat).threshold, dec("0.90"));
        assert_eq!(cfg.rule_for("620103", sat).comparison, Comparison::Inclusive);
        assert_eq!(cfg.rule_for("620102", sat).comparison, Comparison::Strict);
        assert_eq!(cfg.rule(Gate::Incidence).threshold, dec("0.03"));
    }

    #[test]
    fn config_errors() {
        assert!(toml::from_str::<RawIndicatorConfig>("bogus = 1").is_err());
        assert!(toml::from_str::<RawIndicatorConfig>("[satisfaction]\nthreshold = 0.9").is_err());
        let text = r#"
            ci = "wald"
            confidence = "1"
            [wrong_exit]
            threshold = "2"
            [[override]]
            units = ["a"]
            indicator = "bogus"
            threshold = "0.1"
            [[override]]
            units = ["b", "b"]
            indicator = "wrong_exit"
            threshold = "0.1"
        "#;
        let raw: RawIndicatorConfig = toml::from_str(text).unwrap();
        let errs = IndicatorConfig::from_raw(&raw).unwrap_err();
        let paths: Vec<String> = errs
            .iter()
            .map(|e| match e {
                ScoreError::Config { path, .. } => path.clone(),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(
            paths,
            vec![
                "indicators.ci",
                "indicators.confidence",
                "indicators.wrong_exit.threshold",
                "indicators.override[0].indicator",
                "indicators.override[1].units",
            ]
        );
    }

    #[test]
    fn value_keys_round_trip() {
        for i in Indicator::ALL {
            for v in [IndicatorValue::Rate, IndicatorValue::Pass] {
                assert_eq!(parse_value_key(&value_key(i, v)), Some((i, v)));
            }
        }
        assert_eq!(parse_value_key("factor.schooling_rate"), None);
        assert_eq!(parse_value_key("indicator.bogus.rate"), None);
        let r = eval(Indicator::MissedAssessment, 1, 3, Comparison::Strict);
        let values = indicator_values(&[r]).unwrap();
        let u = &values["u"];
        assert_eq!(u["indicator.missed_assessment.pass"], Decimal::ZERO);
        assert_eq!(u["indicator.missed_assessment.rate"], dec("0.3333333333333333333333333333"));
    }
}
