//! Typed errors of the statistics and scoring engine.
//!
//! Every error is a value naming what is wrong and where: survey rows by their 0-based index in
//! the slice handed in (the loader adds the file name and turns the index into a line number),
//! configuration entries by their TOML path (`scoring.item[2].rule.step`), scoring inputs by
//! unit and item. Validation functions collect every error they find, not just the first.

use rust_decimal::Decimal;

/// An error of the `score` module.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoreError {
    /// A survey row names an indicator that does not exist.
    #[error("row {row}: field `{field}`: unknown indicator `{value}` (expected one of: missed_assessment, wrong_exit, satisfaction)")]
    UnknownIndicator {
        /// 0-based index of the row in the input slice.
        row: usize,
        /// Field at fault (`indicator`).
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// A count is negative.
    #[error("row {row}: field `{field}`: count must be >= 0, got {value}")]
    NegativeCount {
        /// 0-based index of the row.
        row: usize,
        /// Field at fault (`sampled` or `flagged`).
        field: &'static str,
        /// The value found.
        value: i64,
    },
    /// `sampled` is zero: no rate can be computed.
    #[error("row {row}: field `{field}`: sampled must be >= 1, got 0")]
    ZeroSampled {
        /// 0-based index of the row.
        row: usize,
        /// Field at fault (`sampled`).
        field: &'static str,
    },
    /// More flagged than sampled.
    #[error("row {row}: field `{field}`: flagged ({flagged}) exceeds sampled ({sampled})")]
    FlaggedExceedsSampled {
        /// 0-based index of the row.
        row: usize,
        /// Field at fault (`flagged`).
        field: &'static str,
        /// Flagged count.
        flagged: u64,
        /// Sampled count.
        sampled: u64,
    },
    /// The same (unit, indicator) pair appears twice.
    #[error("row {row}: field `{field}`: unit `{unit_id}` already has a `{indicator}` row (row {first_row})")]
    DuplicateRow {
        /// 0-based index of the second row.
        row: usize,
        /// 0-based index of the first row.
        first_row: usize,
        /// Field at fault (`indicator`).
        field: &'static str,
        /// Unit id.
        unit_id: String,
        /// Indicator name.
        indicator: String,
    },
    /// A row's unit id is empty.
    #[error("row {row}: field `{field}`: unit id is empty")]
    EmptyUnitId {
        /// 0-based index of the row.
        row: usize,
        /// Field at fault (`unit_id`).
        field: &'static str,
    },
    /// A configuration entry is invalid.
    #[error("{path}: {message}")]
    Config {
        /// TOML path of the entry, e.g. `scoring.item[2].rule.step`.
        path: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A parameter passed to a function is outside its domain.
    #[error("parameter `{name}` = {value}: {expected}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The value passed, as text.
        value: String,
        /// The allowed range.
        expected: &'static str,
    },
    /// A scoring item references a value the unit does not have.
    #[error("unit `{unit_id}`: item `{item}` needs value `{key}`, which is missing")]
    MissingValue {
        /// Unit id.
        unit_id: String,
        /// Item id.
        item: String,
        /// The value key.
        key: String,
    },
    /// A deduction item got a negative value (a negative count or amount of problems).
    #[error("unit `{unit_id}`: item `{item}`: deduction value must be >= 0, got {value}")]
    NegativeDeductionValue {
        /// Unit id.
        unit_id: String,
        /// Item id.
        item: String,
        /// The value found.
        value: Decimal,
    },
    /// Inconsistent population figures for the comprehensive incidence.
    #[error("unit `{unit_id}`: field `{field}`: {message}")]
    Population {
        /// Unit id.
        unit_id: String,
        /// Field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Exact arithmetic overflowed (values far outside any realistic range).
    #[error("arithmetic overflow while computing {context}")]
    Overflow {
        /// What was being computed.
        context: String,
    },
    /// A statistical routine failed (reported by `statrs`).
    #[error("statistics: {0}")]
    Statistics(String),
}

impl ScoreError {
    /// Shorthand for a [`ScoreError::Config`] error.
    pub(crate) fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        ScoreError::Config {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for a [`ScoreError::Overflow`] error.
    pub(crate) fn overflow(context: impl Into<String>) -> Self {
        ScoreError::Overflow { context: context.into() }
    }
}
