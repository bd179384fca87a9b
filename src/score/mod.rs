//! Statistics and scoring engine: survey indicators with confidence intervals, comprehensive
//! incidence and the exit verdict, scoring tables, sampling error by parametric bootstrap, and
//! sample-size planning (SPEC §5).
//!
//! Pure functions on validated data: no file I/O here. The loader reads `survey.csv`,
//! `plan.csv` and `scenario.toml` and hands in the raw structs defined here
//! ([`RawSurveyRow`], [`RawIndicatorConfig`], [`RawScoring`]); validation returns errors as
//! values ([`ScoreError`]) carrying the row index and field, or the TOML path.
//!
//! # Pipeline
//!
//! 1. [`validate_survey`] → [`Sample`]s; [`IndicatorConfig::from_raw`] → thresholds.
//! 2. [`evaluate_all`] → [`IndicatorResult`] per row: rate, Wilson or Clopper–Pearson
//!    interval ([`interval`]), exact point verdict, interval verdict, one-sided p-value
//!    (formulas in [`indicator`]).
//! 3. [`comprehensive_incidence`] and [`exit_verdict`] per county ([`incidence`]).
//! 4. [`ScoringTable::from_raw`] and [`ScoringTable::score`] on per-unit values (the
//!    indicator values come from [`indicator_values`]) → totals and grades ([`table`], which
//!    documents the `[scoring]` TOML shape).
//! 5. [`bootstrap()`] → per unit, probability that a fresh sample flips a point verdict or the
//!    grade, and the rank interval of the total ([`mod@bootstrap`]).
//! 6. [`plan_sample`] → sample size for a margin of error and the chance a unit at (or at half)
//!    the threshold is failed with it ([`plan`]).
//!
//! [`bind`] runs steps 1–5 on a loaded scenario (`survey.csv`, `plan.csv`, `[indicators]`,
//! `[scoring]`) and returns the result tables; `fundsim score` and the report both use it.
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use fundsim::score::*;
//!
//! let rows = vec![RawSurveyRow {
//!     unit_id: "620102".into(),
//!     indicator: "missed_assessment".into(),
//!     sampled: 50,
//!     flagged: 1,
//! }];
//! let samples = validate_survey(&rows).map_err(|e| e[0].to_string())?;
//! let results = evaluate_all(&samples, &IndicatorConfig::default()).map_err(|e| e.to_string())?;
//! assert_eq!(results[0].point_verdict, PointVerdict::Fail); // 0.02 is not < 0.02
//! assert_eq!(results[0].verdict, Verdict::Inconclusive);
//!
//! let raw: RawScoring = toml::from_str(r#"
//!     [[item]]
//!     id = "missed"
//!     value = "indicator.missed_assessment.rate"
//!     max_points = "100"
//!     rule = { kind = "linear", full_at = "0", zero_at = "0.04" }
//! "#).map_err(|e| e.to_string())?;
//! let table = ScoringTable::from_raw(&raw).map_err(|e| e[0].to_string())?;
//! let values = indicator_values(&results).map_err(|e| e.to_string())?;
//! let scores = table.score(&values).map_err(|e| e[0].to_string())?;
//! assert_eq!(scores[0].total.to_string(), "50");
//! assert_eq!(scores[0].grade, "fail");
//! # Ok::<(), String>(())
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod bind;
pub mod bootstrap;
mod de;
pub mod error;
pub mod incidence;
pub mod indicator;
pub mod interval;
pub mod plan;
pub mod table;

pub use bootstrap::{bootstrap, BootstrapConfig, BootstrapResult, BootstrapUnit, IndicatorFlip, UnitSamplingError};
pub use error::ScoreError;
pub use incidence::{comprehensive_incidence, exit_verdict, ExitVerdict, IncidenceInput, IncidenceResult, Propagation, Veto};
pub use indicator::{
    evaluate, evaluate_all, indicator_values, parse_value_key, validate_survey, value_key, Comparison, Direction, Gate, Indicator,
    IndicatorConfig, IndicatorResult, IndicatorValue, PointVerdict, RawIndicatorConfig, RawOverride, RawSurveyRow, RawThreshold, Sample,
    ThresholdRule, Verdict,
};
pub use interval::{clopper_pearson, wilson, z_two_sided, CiMethod, Interval};
pub use plan::{
    fail_probability_exact, fail_probability_simulated, plan_sample, sample_size, sample_size_wilson, FailChance, SamplePlan,
    SamplePlanInput,
};
pub use table::{
    Better, GradeBand, GradeCap, Item, ItemScore, Partial, PassIf, RawCap, RawGrade, RawItem, RawRule, RawScoring, Rule, ScoringTable,
    UnitScore,
};
