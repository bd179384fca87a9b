//! `scenario.toml` exactly as written: the first loading stage. Unknown keys are rejected so a
//! misspelt key (`weigth`) is an error, not a silently ignored setting. Numbers may be written
//! as TOML strings (`"0.85"`, exact) or TOML numbers (`0.85`).

use serde::Deserialize;
use toml::Spanned;

/// A number as written in TOML: a string (recommended, exact) or a TOML integer or float.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum NumText {
    /// `"0.85"`
    Text(String),
    /// `3000000000`
    Int(i64),
    /// `0.85`
    Float(f64),
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenarioFile {
    /// `[scenario]`
    pub scenario: RawHeader,
    /// `[data]`
    #[serde(default)]
    pub data: RawData,
    /// `[[stage]]`, in order.
    #[serde(default)]
    pub stage: Vec<Spanned<RawStage>>,
    /// `[[check]]`: policy rules for the LP checks of the weights.
    #[serde(default)]
    pub check: Vec<Spanned<crate::lpcheck::bind::RawCheck>>,
    /// `[audit]` (see [`crate::audit::RawAudit`]).
    #[serde(default)]
    pub audit: Option<Spanned<crate::audit::RawAudit>>,
    /// `[projection]` (SPEC §4), read by [`crate::project`].
    #[serde(default)]
    pub projection: Option<Spanned<crate::project::RawProjection>>,
    /// `[report]`: columns and limits for the report's charts and tables.
    #[serde(default)]
    pub report: Option<Spanned<crate::report::build::RawReport>>,
    /// `[indicators]`: survey thresholds (see [`crate::score::RawIndicatorConfig`]).
    #[serde(default)]
    pub indicators: Option<Spanned<crate::score::RawIndicatorConfig>>,
    /// `[scoring]`: the scoring table (see [`crate::score::RawScoring`]).
    #[serde(default)]
    pub scoring: Option<Spanned<crate::score::RawScoring>>,
    /// `[sensitivity]`: factor-data noise and weight uncertainty ([`crate::sensitivity`]).
    #[serde(default)]
    pub sensitivity: Option<Spanned<crate::sensitivity::RawSensitivity>>,
}

/// `[scenario]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    /// Short name, used for the default output folder.
    pub name: Spanned<String>,
    /// Title shown in reports.
    #[serde(default)]
    pub title: Option<String>,
    /// Budget year.
    #[serde(default)]
    pub year: Option<Spanned<i64>>,
    /// Report language, `zh` or `en`.
    #[serde(default)]
    pub lang: Option<Spanned<String>>,
    /// `yuan` or `wan_yuan`.
    #[serde(default)]
    pub money_unit: Option<Spanned<String>>,
    /// Smallest amount handed out, in `money_unit`.
    #[serde(default)]
    pub rounding: Option<Spanned<NumText>>,
    /// Column of `factors.csv` used for per-capita figures (default: the first `share` factor
    /// of the first pool of the last stage).
    #[serde(default)]
    pub population: Option<Spanned<String>>,
    /// Free text: where the scenario comes from.
    #[serde(default)]
    pub source: Option<String>,
}

/// `[data]`: file names relative to the scenario folder.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    /// Text encoding of the CSV files: `auto` (default: UTF-8 or GB18030, detected), `utf-8`
    /// or `gb18030`; a declared encoding the bytes contradict is an error.
    #[serde(default)]
    pub encoding: Option<Spanned<String>>,
    /// Units file (default `units.csv`).
    #[serde(default)]
    pub units: Option<Spanned<String>>,
    /// Factors file (default `factors.csv`).
    #[serde(default)]
    pub factors: Option<Spanned<String>>,
    /// Actual distribution (default `actual.csv` when present).
    #[serde(default)]
    pub actual: Option<Spanned<String>>,
    /// Projection inputs (default `plan.csv` when present).
    #[serde(default)]
    pub plan: Option<Spanned<String>>,
    /// Survey samples (default `survey.csv` when present).
    #[serde(default)]
    pub survey: Option<Spanned<String>>,
    /// Union hardship file table (default `files.csv` when present).
    #[serde(default)]
    pub files: Option<Spanned<String>>,
    /// Payment ledger (default `payments.csv` when present).
    #[serde(default)]
    pub payments: Option<Spanned<String>>,
    /// Household file register (default `households.csv` when present).
    #[serde(default)]
    pub households: Option<Spanned<String>>,
    /// Planned vs actual county exits per year, `year,planned,actual` (default
    /// `county_exits.csv` when present; read by the report).
    #[serde(default)]
    pub county_exits: Option<Spanned<String>>,
}

/// `[[stage]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// Level of the recipients.
    pub level: Spanned<String>,
    /// Stage 1 only: the amount the root splits.
    #[serde(default)]
    pub total: Option<Spanned<NumText>>,
    /// Share withheld by each allocating unit.
    #[serde(default)]
    pub reserve: Option<Spanned<NumText>>,
    /// `[[stage.pool]]`
    #[serde(default)]
    pub pool: Vec<Spanned<RawPool>>,
}

/// `[[stage.pool]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    /// Pool id (unique within the stage).
    pub id: Spanned<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Share of the distributable amount.
    pub share: Spanned<NumText>,
    /// Flag column: only units with a non-zero value receive.
    #[serde(default)]
    pub eligible: Option<Spanned<String>>,
    /// Multiplier column (调节系数).
    #[serde(default)]
    pub adjust: Option<Spanned<String>>,
    /// Minimum per unit: an amount or a column name.
    #[serde(default)]
    pub floor: Option<Spanned<NumText>>,
    /// Maximum per unit: an amount or a column name.
    #[serde(default)]
    pub cap: Option<Spanned<NumText>>,
    /// Maximum share of the pool per unit.
    #[serde(default)]
    pub cap_share: Option<Spanned<NumText>>,
    /// `[[stage.pool.factor]]`
    #[serde(default)]
    pub factor: Vec<Spanned<RawFactor>>,
}

/// `[[stage.pool.factor]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFactor {
    /// Column of `factors.csv`.
    pub column: Spanned<String>,
    /// Display name of the factor.
    #[serde(default)]
    pub name: Option<String>,
    /// Weight, ≥ 0; a pool's weights sum to 1.
    pub weight: Spanned<NumText>,
    /// `share` (default), `inverse` or `gap`.
    #[serde(default)]
    pub transform: Option<Spanned<String>>,
    /// Reference value for `gap`.
    #[serde(default)]
    pub reference: Option<Spanned<NumText>>,
}
