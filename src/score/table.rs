//! Scoring tables: items, rules, grade bands and grade caps (`[scoring]` in the scenario).
//!
//! A table turns per-unit values into points, a total and a grade. All arithmetic is exact
//! `Decimal` with checked operations.
//!
//! # Shape
//!
//! ```toml
//! [scoring]
//! units = "poverty_county" # optional flag column of factors.csv selecting the units scored
//! decimals = 2          # optional: round each item's points half away from zero (四舍五入)
//!                       # to this many places; absent = no rounding
//!
//! # Grade bands, best first, with inclusive lower bounds strictly decreasing; the last band
//! # has no `min` and takes every lower total. Optional: the default is shown.
//! [[scoring.grade]]
//! name = "excellent"
//! min = "90"
//! [[scoring.grade]]
//! name = "good"
//! min = "80"
//! [[scoring.grade]]
//! name = "pass"
//! min = "60"
//! [[scoring.grade]]
//! name = "fail"
//!
//! [[scoring.item]]
//! id = "reduction"                          # unique; used in scores.csv and in caps
//! name = "减贫任务完成"                      # optional label
//! value = "projection.target_met_share"     # key of the value in the per-unit value map
//! max_points = "15"
//! rule = { kind = "all_or_nothing", pass_if = "at_least", target = "1" }
//!
//! [[scoring.item]]
//! id = "schooling"
//! value = "factor.schooling_rate"
//! max_points = "10"
//! # −1 point per 0.1 percentage point short of 100%, down to 0
//! rule = { kind = "step", better = "higher", target = "1", step = "0.001", points_per_step = "1" }
//!
//! [[scoring.item]]
//! id = "missed"
//! value = "indicator.missed_assessment.rate"
//! max_points = "10"
//! rule = { kind = "linear", full_at = "0", zero_at = "0.02" }
//!
//! [[scoring.item]]
//! id = "misuse"
//! value = "audit.misuse_cases"
//! max_points = "10"                         # the largest deduction
//! rule = { kind = "deduction", per_unit = "2" }
//!
//! [[scoring.item]]
//! id = "disbursement"
//! value = "fund.disbursement_lag_months"
//! max_points = "5"
//! rule = { kind = "rank", better = "lower", per_place = "0.25" }
//!
//! [[scoring.cap]]
//! item = "reduction"      # when this item scores below `below` ...
//! below = "15"            # optional; default: the item's max_points (0 for deduction items)
//! max_grade = "good"      # ... the grade is at most this one
//! ```
//!
//! Decimal values are strings (`"0.02"`) or integers; TOML floats are rejected.
//!
//! # Rules (`v` the value, `M` the item's `max_points`)
//!
//! | kind | fields | points |
//! | --- | --- | --- |
//! | `linear` | `full_at`, `zero_at` (different) | `M·(v − zero_at)/(full_at − zero_at)` clamped to `[0, M]`; works in both directions |
//! | `step` | `target`, `step > 0`, `points_per_step > 0`, `better` (`higher`/`lower`), `partial` (`floor` default, `ceil`, `proportional`) | `short = max(0, target − v)` (higher better) or `max(0, v − target)`; `steps = short/step` rounded down (`floor`: only whole steps count), up (`ceil`: a started step counts) or kept (`proportional`); `max(0, M − steps·points_per_step)` |
//! | `all_or_nothing` | `target`, `pass_if` (`at_least` ≥, `above` >, `at_most` ≤, `below` <) | `M` when `v` meets the condition, else 0 |
//! | `deduction` | `per_unit > 0` | `−min(M, per_unit·v)`; `v ≥ 0` required; never adds |
//! | `rank` | `per_place > 0`, `better` (`higher`/`lower`) | place = 1 + number of units with a strictly better value (ties share the better place); `max(0, M − (place − 1)·per_place)` |
//!
//! Ranks are taken among all units scored together.
//!
//! # Totals and grades
//!
//! `total = Σ item points` (deductions included; not clamped). The band grade is the first band
//! whose `min ≤ total`. A cap fires when its item's points are `< below`; the final grade is the
//! worse of the band grade and every fired cap's `max_grade`.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use super::de::{dec, dec_opt};
use super::error::ScoreError;

/// `[scoring]` as written in the scenario.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoring {
    /// Decimal places of item points (rounded half away from zero); absent = exact.
    #[serde(default)]
    pub decimals: Option<u32>,
    /// Grade bands (`[[scoring.grade]]`), best first; default excellent/good/pass/fail.
    #[serde(default, rename = "grade")]
    pub grades: Option<Vec<RawGrade>>,
    /// Items (`[[scoring.item]]`).
    #[serde(default, rename = "item")]
    pub items: Vec<RawItem>,
    /// Grade caps (`[[scoring.cap]]`).
    #[serde(default, rename = "cap")]
    pub caps: Vec<RawCap>,
    /// Optional flag column of `factors.csv` selecting the units scored (a non-zero value
    /// selects the unit); absent = every unit with survey data. Read by the caller (the
    /// engine scores whatever units it is handed).
    #[serde(default)]
    pub units: Option<String>,
}

/// `[[scoring.grade]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrade {
    /// Grade name.
    pub name: String,
    /// Inclusive lower bound of the total; absent for the last (catch-all) band.
    #[serde(default, with = "dec_opt")]
    pub min: Option<Decimal>,
}

/// `[[scoring.item]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawItem {
    /// Unique id.
    pub id: String,
    /// Optional label.
    #[serde(default)]
    pub name: Option<String>,
    /// Key of the value in the per-unit value map.
    pub value: String,
    /// Maximum points (for deduction items: the largest deduction).
    #[serde(with = "dec")]
    pub max_points: Decimal,
    /// How the value maps to points.
    pub rule: RawRule,
}

/// `rule = { kind = ..., ... }`: every field but `kind` is optional here and checked per kind.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// `linear`, `step`, `all_or_nothing`, `deduction` or `rank`.
    pub kind: String,
    /// linear: value with full points.
    #[serde(default, with = "dec_opt")]
    pub full_at: Option<Decimal>,
    /// linear: value with zero points.
    #[serde(default, with = "dec_opt")]
    pub zero_at: Option<Decimal>,
    /// step, all_or_nothing: the target value.
    #[serde(default, with = "dec_opt")]
    pub target: Option<Decimal>,
    /// step: size of one step.
    #[serde(default, with = "dec_opt")]
    pub step: Option<Decimal>,
    /// step: points off per step short.
    #[serde(default, with = "dec_opt")]
    pub points_per_step: Option<Decimal>,
    /// step: `floor` (default), `ceil` or `proportional`.
    #[serde(default)]
    pub partial: Option<String>,
    /// step, rank: `higher` or `lower`.
    #[serde(default)]
    pub better: Option<String>,
    /// all_or_nothing: `at_least`, `above`, `at_most` or `below`.
    #[serde(default)]
    pub pass_if: Option<String>,
    /// deduction: points off per unit of the value.
    #[serde(default, with = "dec_opt")]
    pub per_unit: Option<Decimal>,
    /// rank: points off per place.
    #[serde(default, with = "dec_opt")]
    pub per_place: Option<Decimal>,
}

/// `[[scoring.cap]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCap {
    /// Item id.
    pub item: String,
    /// The cap fires when the item's points are below this (default: its max_points; 0 for a
    /// deduction item).
    #[serde(default, with = "dec_opt")]
    pub below: Option<Decimal>,
    /// Best grade allowed when the cap fires.
    pub max_grade: String,
}

/// Which values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Better {
    /// Higher values are better.
    Higher,
    /// Lower values are better.
    Lower,
}

/// How a partial step counts in a `step` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Partial {
    /// Only whole steps count (rounded down).
    Floor,
    /// A started step counts as a whole one (rounded up).
    Ceil,
    /// Fractions of a step count proportionally.
    Proportional,
}

/// The condition of an `all_or_nothing` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PassIf {
    /// `v ≥ target`.
    AtLeast,
    /// `v > target`.
    Above,
    /// `v ≤ target`.
    AtMost,
    /// `v < target`.
    Below,
}

/// A validated rule (see the module docs for the formulas).
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Full points at `full_at`, zero at `zero_at`, linear between, clamped.
    Linear {
        /// Value with full points.
        full_at: Decimal,
        /// Value with zero points.
        zero_at: Decimal,
    },
    /// Points off per step short of a target, down to 0.
    Step {
        /// Target.
        target: Decimal,
        /// Step size (> 0).
        step: Decimal,
        /// Points off per step (> 0).
        points_per_step: Decimal,
        /// Direction.
        better: Better,
        /// Partial steps.
        partial: Partial,
    },
    /// Full points when the condition holds, else 0.
    AllOrNothing {
        /// Target.
        target: Decimal,
        /// Condition.
        pass_if: PassIf,
    },
    /// Points off per unit of the value, at most `max_points` off; never adds.
    Deduction {
        /// Points off per unit (> 0).
        per_unit: Decimal,
    },
    /// Points fall by `per_place` per place among units.
    Rank {
        /// Points off per place (> 0).
        per_place: Decimal,
        /// Direction.
        better: Better,
    },
}

/// A validated scoring item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Unique id.
    pub id: String,
    /// Label (the id when none was given).
    pub name: String,
    /// Key of the value in the per-unit value map.
    pub value_key: String,
    /// Maximum points (> 0); for deductions the largest deduction.
    pub max_points: Decimal,
    /// Rule.
    pub rule: Rule,
}

/// A grade band: totals `≥ min` (inclusive) get this grade unless a better band applies.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeBand {
    /// Grade name.
    pub name: String,
    /// Inclusive lower bound; `None` for the last, catch-all band.
    pub min: Option<Decimal>,
}

/// A validated grade cap.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeCap {
    /// Item id.
    pub item: String,
    /// Index of the item in [`ScoringTable::items`].
    pub item_index: usize,
    /// Fires when the item's points are `< below`.
    pub below: Decimal,
    /// Best grade allowed when fired.
    pub max_grade: String,
    /// Index of `max_grade` in [`ScoringTable::bands`] (0 = best).
    pub grade_index: usize,
}

/// A validated scoring table.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringTable {
    items: Vec<Item>,
    bands: Vec<GradeBand>,
    caps: Vec<GradeCap>,
    decimals: Option<u32>,
}

/// One item's score for a unit (a row of `scores.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemScore {
    /// Item id.
    pub item: String,
    /// The unit's value.
    pub value: Decimal,
    /// Points (negative for deductions).
    pub points: Decimal,
    /// The item's max_points.
    pub max_points: Decimal,
}

/// A unit's scores, total and grade.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScore {
    /// Unit id.
    pub unit_id: String,
    /// One entry per item, in table order.
    pub items: Vec<ItemScore>,
    /// Sum of item points.
    pub total: Decimal,
    /// Grade from the bands alone.
    pub band_grade: String,
    /// Final grade after caps.
    pub grade: String,
    /// Index of `grade` in the bands (0 = best).
    pub grade_index: usize,
    /// Ids of the items whose caps fired.
    pub caps_applied: Vec<String>,
}

fn default_bands() -> Vec<GradeBand> {
    let band = |name: &str, min: Option<i64>| GradeBand {
        name: name.into(),
        min: min.map(Decimal::from),
    };
    vec![
        band("excellent", Some(90)),
        band("good", Some(80)),
        band("pass", Some(60)),
        band("fail", None),
    ]
}

fn parse_better(path: &str, s: Option<&str>, errors: &mut Vec<ScoreError>) -> Option<Better> {
    match s {
        Some("higher") => Some(Better::Higher),
        Some("lower") => Some(Better::Lower),
        Some(other) => {
            errors.push(ScoreError::config(
                format!("{path}.better"),
                format!("expected `higher` or `lower`, got `{other}`"),
            ));
            None
        }
        None => {
            errors.push(ScoreError::config(format!("{path}.better"), "required: `higher` or `lower`"));
            None
        }
    }
}

/// Validates one rule: required fields present and in range, no field of another kind.
fn validate_rule(path: &str, raw: &RawRule, errors: &mut Vec<ScoreError>) -> Option<Rule> {
    let start = errors.len();
    let present: Vec<(&str, bool)> = vec![
        ("full_at", raw.full_at.is_some()),
        ("zero_at", raw.zero_at.is_some()),
        ("target", raw.target.is_some()),
        ("step", raw.step.is_some()),
        ("points_per_step", raw.points_per_step.is_some()),
        ("partial", raw.partial.is_some()),
        ("better", raw.better.is_some()),
        ("pass_if", raw.pass_if.is_some()),
        ("per_unit", raw.per_unit.is_some()),
        ("per_place", raw.per_place.is_some()),
    ];
    let allowed: &[&str] = match raw.kind.as_str() {
        "linear" => &["full_at", "zero_at"],
        "step" => &["target", "step", "points_per_step", "partial", "better"],
        "all_or_nothing" => &["target", "pass_if"],
        "deduction" => &["per_unit"],
        "rank" => &["per_place", "better"],
        other => {
            errors.push(ScoreError::config(
                format!("{path}.kind"),
                format!("unknown rule kind `{other}` (expected linear, step, all_or_nothing, deduction or rank)"),
            ));
            return None;
        }
    };
    for (field, is_present) in &present {
        if *is_present && !allowed.contains(field) {
            errors.push(ScoreError::config(
                format!("{path}.{field}"),
                format!("not a field of a `{}` rule (its fields: {})", raw.kind, allowed.join(", ")),
            ));
        }
    }
    let need = |field: &str, v: Option<Decimal>, errors: &mut Vec<ScoreError>| {
        if v.is_none() {
            errors.push(ScoreError::config(format!("{path}.{field}"), "required"));
        }
        v
    };
    let positive = |field: &str, v: Option<Decimal>, errors: &mut Vec<ScoreError>| match v {
        Some(x) if x <= Decimal::ZERO => {
            errors.push(ScoreError::config(format!("{path}.{field}"), format!("must be > 0, got {x}")));
            None
        }
        Some(x) => Some(x),
        None => {
            errors.push(ScoreError::config(format!("{path}.{field}"), "required"));
            None
        }
    };
    let rule = match raw.kind.as_str() {
        "linear" => {
            let full_at = need("full_at", raw.full_at, errors);
            let zero_at = need("zero_at", raw.zero_at, errors);
            match (full_at, zero_at) {
                (Some(f), Some(z)) if f == z => {
                    errors.push(ScoreError::config(
                        format!("{path}.zero_at"),
                        format!("must differ from full_at ({f})"),
                    ));
                    None
                }
                (Some(full_at), Some(zero_at)) => Some(Rule::Linear { full_at, zero_at }),
                _ => None,
            }
        }
        "step" => {
            let target = need("target", raw.target, errors);
            let step = positive("step", raw.step, errors);
            let pps = positive("points_per_step", raw.points_per_step, errors);
            let better = parse_better(path, raw.better.as_deref(), errors);
            let partial = match raw.partial.as_deref() {
                None | Some("floor") => Some(Partial::Floor),
                Some("ceil") => Some(Partial::Ceil),
                Some("proportional") => Some(Partial::Proportional),
                Some(other) => {
                    errors.push(ScoreError::config(
                        format!("{path}.partial"),
                        format!("expected `floor`, `ceil` or `proportional`, got `{other}`"),
                    ));
                    None
                }
            };
            match (target, step, pps, better, partial) {
                (Some(target), Some(step), Some(points_per_step), Some(better), Some(partial)) => Some(Rule::Step {
                    target,
                    step,
                    points_per_step,
                    better,
                    partial,
                }),
                _ => None,
            }
        }
        "all_or_nothing" => {
            let target = need("target", raw.target, errors);
            let pass_if = match raw.pass_if.as_deref() {
                Some("at_least") => Some(PassIf::AtLeast),
                Some("above") => Some(PassIf::Above),
                Some("at_most") => Some(PassIf::AtMost),
                Some("below") => Some(PassIf::Below),
                other => {
                    errors.push(ScoreError::config(
                        format!("{path}.pass_if"),
                        format!(
                            "expected `at_least`, `above`, `at_most` or `below`, got {}",
                            other.map_or("nothing".to_string(), |s| format!("`{s}`"))
                        ),
                    ));
                    None
                }
            };
            match (target, pass_if) {
                (Some(target), Some(pass_if)) => Some(Rule::AllOrNothing { target, pass_if }),
                _ => None,
            }
        }
        "deduction" => positive("per_unit", raw.per_unit, errors).map(|per_unit| Rule::Deduction { per_unit }),
        "rank" => {
            let per_place = positive("per_place", raw.per_place, errors);
            let better = parse_better(path, raw.better.as_deref(), errors);
            match (per_place, better) {
                (Some(per_place), Some(better)) => Some(Rule::Rank { per_place, better }),
                _ => None,
            }
        }
        _ => None,
    };
    if errors.len() > start {
        None
    } else {
        rule
    }
}

fn validate_bands(raw: Option<&Vec<RawGrade>>, errors: &mut Vec<ScoreError>) -> Vec<GradeBand> {
    let Some(raw) = raw else {
        return default_bands();
    };
    if raw.is_empty() {
        errors.push(ScoreError::config("scoring.grade", "list at least one grade band"));
        return Vec::new();
    }
    let mut names = BTreeSet::new();
    let last = raw.len() - 1;
    let mut previous: Option<(usize, Decimal)> = None;
    for (i, g) in raw.iter().enumerate() {
        let path = format!("scoring.grade[{i}]");
        let name = g.name.trim();
        if name.is_empty() {
            errors.push(ScoreError::config(format!("{path}.name"), "must not be empty"));
        } else if !names.insert(name.to_string()) {
            errors.push(ScoreError::config(
                format!("{path}.name"),
                format!("grade `{name}` is listed twice"),
            ));
        }
        match (g.min, i == last) {
            (None, false) => errors.push(ScoreError::config(
                format!("{path}.min"),
                "required: only the last band (the catch-all) has no min",
            )),
            (Some(m), true) => errors.push(ScoreError::config(
                format!("{path}.min"),
                format!("the last band takes every total below the band above it and has no min (got {m}); add a catch-all band after it"),
            )),
            (Some(m), false) => {
                if let Some((j, prev)) = previous {
                    if m == prev {
                        errors.push(ScoreError::config(
                            format!("{path}.min"),
                            format!("overlaps scoring.grade[{j}]: both start at {m}"),
                        ));
                    } else if m > prev {
                        errors.push(ScoreError::config(
                            format!("{path}.min"),
                            format!("bands must be listed best first with decreasing min: {m} follows {prev} (scoring.grade[{j}])"),
                        ));
                    }
                }
                previous = Some((i, m));
            }
            (None, true) => {}
        }
    }
    raw.iter()
        .map(|g| GradeBand {
            name: g.name.trim().to_string(),
            min: g.min,
        })
        .collect()
}

impl ScoringTable {
    /// Validates `[scoring]`: at least one item; unique non-empty ids and value keys;
    /// `max_points > 0`; each rule's fields (see module docs); bands best first with strictly
    /// decreasing `min` and a final catch-all; caps naming existing items and grades;
    /// `decimals ≤ 28`. Returns every error found, each with its TOML path.
    pub fn from_raw(raw: &RawScoring) -> Result<Self, Vec<ScoreError>> {
        let mut errors = Vec::new();
        if let Some(d) = raw.decimals {
            if d > 28 {
                errors.push(ScoreError::config("scoring.decimals", format!("must be between 0 and 28, got {d}")));
            }
        }
        let bands = validate_bands(raw.grades.as_ref(), &mut errors);
        if raw.items.is_empty() {
            errors.push(ScoreError::config("scoring.item", "list at least one item"));
        }
        let mut items = Vec::new();
        let mut ids = BTreeSet::new();
        for (i, it) in raw.items.iter().enumerate() {
            let path = format!("scoring.item[{i}]");
            let id = it.id.trim().to_string();
            if id.is_empty() {
                errors.push(ScoreError::config(format!("{path}.id"), "must not be empty"));
            } else if !ids.insert(id.clone()) {
                errors.push(ScoreError::config(format!("{path}.id"), format!("item id `{id}` is used twice")));
            }
            let value_key = it.value.trim().to_string();
            if value_key.is_empty() {
                errors.push(ScoreError::config(
                    format!("{path}.value"),
                    "must name a value, e.g. \"indicator.missed_assessment.rate\"",
                ));
            }
            if it.max_points <= Decimal::ZERO {
                errors.push(ScoreError::config(
                    format!("{path}.max_points"),
                    format!("must be > 0, got {}", it.max_points),
                ));
            }
            if let Some(rule) = validate_rule(&format!("{path}.rule"), &it.rule, &mut errors) {
                items.push(Item {
                    name: it.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| id.clone()),
                    id,
                    value_key,
                    max_points: it.max_points,
                    rule,
                });
            }
        }
        let mut caps = Vec::new();
        for (i, c) in raw.caps.iter().enumerate() {
            let path = format!("scoring.cap[{i}]");
            let item_index = items.iter().position(|it| it.id == c.item.trim());
            let grade_index = bands.iter().position(|b| b.name == c.max_grade.trim());
            if item_index.is_none() && raw.items.iter().all(|it| it.id.trim() != c.item.trim()) {
                errors.push(ScoreError::config(format!("{path}.item"), format!("no item has id `{}`", c.item)));
            }
            if grade_index.is_none() {
                errors.push(ScoreError::config(
                    format!("{path}.max_grade"),
                    format!(
                        "unknown grade `{}` (grades: {})",
                        c.max_grade,
                        bands.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            if let (Some(item_index), Some(grade_index)) = (item_index, grade_index) {
                let item = items.get(item_index);
                let default_below = match item.map(|it| &it.rule) {
                    Some(Rule::Deduction { .. }) => Decimal::ZERO,
                    _ => item.map_or(Decimal::ZERO, |it| it.max_points),
                };
                caps.push(GradeCap {
                    item: c.item.trim().to_string(),
                    item_index,
                    below: c.below.unwrap_or(default_below),
                    max_grade: c.max_grade.trim().to_string(),
                    grade_index,
                });
            }
        }
        if errors.is_empty() {
            Ok(ScoringTable {
                items,
                bands,
                caps,
                decimals: raw.decimals,
            })
        } else {
            Err(errors)
        }
    }

    /// Items in table order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Grade bands, best first.
    pub fn bands(&self) -> &[GradeBand] {
        &self.bands
    }

    /// Grade caps.
    pub fn caps(&self) -> &[GradeCap] {
        &self.caps
    }

    /// Decimal places of item points, if rounded.
    pub fn decimals(&self) -> Option<u32> {
        self.decimals
    }

    /// The value keys the items read.
    pub fn value_keys(&self) -> BTreeSet<&str> {
        self.items.iter().map(|i| i.value_key.as_str()).collect()
    }

    /// Highest possible total: the sum of `max_points` of all items except deductions.
    pub fn max_total(&self) -> Decimal {
        self.items
            .iter()
            .filter(|i| !matches!(i.rule, Rule::Deduction { .. }))
            .fold(Decimal::ZERO, |acc, i| acc.saturating_add(i.max_points))
    }

    /// Index of the band a total falls in (0 = best): the first band with `min ≤ total`.
    pub fn band_index(&self, total: Decimal) -> usize {
        self.bands
            .iter()
            .position(|b| b.min.is_none_or(|m| total >= m))
            .unwrap_or(self.bands.len().saturating_sub(1))
    }

    /// Rounds points to the table's decimals (half away from zero), if set.
    pub(crate) fn round(&self, points: Decimal) -> Decimal {
        match self.decimals {
            Some(dp) => points.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero),
            None => points,
        }
    }

    /// Points of a non-rank item for value `v` (rounded, clamped); `None` for rank items.
    pub(crate) fn value_points(&self, item: &Item, v: Decimal, unit_id: &str) -> Result<Option<Decimal>, ScoreError> {
        let m = item.max_points;
        let ovf = || ScoreError::overflow(format!("item `{}` for unit `{unit_id}`", item.id));
        let raw = match &item.rule {
            Rule::Linear { full_at, zero_at } => {
                let (full, zero) = (*full_at, *zero_at);
                let past_full = if full > zero { v >= full } else { v <= full };
                let past_zero = if full > zero { v <= zero } else { v >= zero };
                if past_full {
                    m
                } else if past_zero {
                    Decimal::ZERO
                } else {
                    let num = m.checked_mul(v.checked_sub(zero).ok_or_else(ovf)?).ok_or_else(ovf)?;
                    num.checked_div(full.checked_sub(zero).ok_or_else(ovf)?).ok_or_else(ovf)?
                }
            }
            Rule::Step {
                target,
                step,
                points_per_step,
                better,
                partial,
            } => {
                let short = match better {
                    Better::Higher => target.checked_sub(v),
                    Better::Lower => v.checked_sub(*target),
                }
                .ok_or_else(ovf)?
                .max(Decimal::ZERO);
                let steps = short.checked_div(*step).ok_or_else(ovf)?;
                let steps = match partial {
                    Partial::Floor => steps.floor(),
                    Partial::Ceil => steps.ceil(),
                    Partial::Proportional => steps,
                };
                let off = steps.checked_mul(*points_per_step).ok_or_else(ovf)?;
                m.checked_sub(off).ok_or_else(ovf)?.max(Decimal::ZERO)
            }
            Rule::AllOrNothing { target, pass_if } => {
                let ok = match pass_if {
                    PassIf::AtLeast => v >= *target,
                    PassIf::Above => v > *target,
                    PassIf::AtMost => v <= *target,
                    PassIf::Below => v < *target,
                };
                if ok {
                    m
                } else {
                    Decimal::ZERO
                }
            }
            Rule::Deduction { per_unit } => {
                if v < Decimal::ZERO {
                    return Err(ScoreError::NegativeDeductionValue {
                        unit_id: unit_id.to_string(),
                        item: item.id.clone(),
                        value: v,
                    });
                }
                let off = per_unit.checked_mul(v).ok_or_else(ovf)?.min(m);
                -off
            }
            Rule::Rank { .. } => return Ok(None),
        };
        Ok(Some(self.clamp(item, self.round(raw))))
    }

    /// Points of a rank item at 1-based `place`: `max(0, M − (place − 1)·per_place)`.
    pub(crate) fn rank_points(&self, item: &Item, place: u64) -> Result<Decimal, ScoreError> {
        let Rule::Rank { per_place, .. } = &item.rule else {
            return Ok(Decimal::ZERO);
        };
        let off = per_place
            .checked_mul(Decimal::from(place.saturating_sub(1)))
            .ok_or_else(|| ScoreError::overflow(format!("rank points of item `{}`", item.id)))?;
        let raw = item.max_points.checked_sub(off).unwrap_or(Decimal::ZERO).max(Decimal::ZERO);
        Ok(self.clamp(item, self.round(raw)))
    }

    fn clamp(&self, item: &Item, p: Decimal) -> Decimal {
        if matches!(item.rule, Rule::Deduction { .. }) {
            p.clamp(-item.max_points, Decimal::ZERO)
        } else {
            p.clamp(Decimal::ZERO, item.max_points)
        }
    }

    /// Final grade index: the worse (higher index) of `band` and the `max_grade` of every cap
    /// whose item's points (`points[item_index]`) are below its `below`. Returns the index and
    /// the caps that fired.
    pub(crate) fn apply_caps(&self, band: usize, points: &[Decimal]) -> (usize, Vec<usize>) {
        let mut grade = band;
        let mut fired = Vec::new();
        for (ci, cap) in self.caps.iter().enumerate() {
            if let Some(p) = points.get(cap.item_index) {
                if *p < cap.below {
                    grade = grade.max(cap.grade_index);
                    fired.push(ci);
                }
            }
        }
        (grade, fired)
    }

    /// Scores every unit of `values` (unit id → value key → value), in unit id order.
    ///
    /// Each item reads its value key; a missing key is an error naming unit and item (all
    /// such errors are returned). Rank items rank all units in `values` (1 + the number of
    /// units with a strictly better value). Total = sum of points; grade = band of the total,
    /// lowered by any cap that fires.
    pub fn score(&self, values: &BTreeMap<String, BTreeMap<String, Decimal>>) -> Result<Vec<UnitScore>, Vec<ScoreError>> {
        let mut errors = Vec::new();
        // value matrix [unit][item]
        let mut matrix: Vec<Vec<Decimal>> = Vec::with_capacity(values.len());
        for (unit, map) in values {
            let mut row = Vec::with_capacity(self.items.len());
            for item in &self.items {
                match map.get(&item.value_key) {
                    Some(v) => row.push(*v),
                    None => {
                        errors.push(ScoreError::MissingValue {
                            unit_id: unit.clone(),
                            item: item.id.clone(),
                            key: item.value_key.clone(),
                        });
                        row.push(Decimal::ZERO);
                    }
                }
            }
            matrix.push(row);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // points matrix
        let mut points: Vec<Vec<Decimal>> = vec![Vec::with_capacity(self.items.len()); values.len()];
        for (j, item) in self.items.iter().enumerate() {
            let column: Vec<Decimal> = matrix.iter().map(|r| r.get(j).copied().unwrap_or_default()).collect();
            let places = match &item.rule {
                Rule::Rank { better, .. } => Some(places(&column, *better)),
                _ => None,
            };
            for (u, (unit, _)) in values.iter().enumerate() {
                let v = column.get(u).copied().unwrap_or_default();
                let p = match &places {
                    Some(pl) => self.rank_points(item, pl.get(u).copied().unwrap_or(1)),
                    None => self.value_points(item, v, unit).map(|p| p.unwrap_or_default()),
                };
                match p {
                    Ok(p) => {
                        if let Some(row) = points.get_mut(u) {
                            row.push(p);
                        }
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut out = Vec::with_capacity(values.len());
        for (u, unit) in values.keys().enumerate() {
            let (Some(vals), Some(pts)) = (matrix.get(u), points.get(u)) else {
                continue;
            };
            let mut total = Decimal::ZERO;
            for p in pts {
                match total.checked_add(*p) {
                    Some(t) => total = t,
                    None => {
                        errors.push(ScoreError::overflow(format!("total of unit `{unit}`")));
                    }
                }
            }
            let band = self.band_index(total);
            let (grade, fired) = self.apply_caps(band, pts);
            let name = |i: usize| self.bands.get(i).map(|b| b.name.clone()).unwrap_or_default();
            out.push(UnitScore {
                unit_id: unit.clone(),
                items: self
                    .items
                    .iter()
                    .zip(vals.iter().zip(pts))
                    .map(|(it, (v, p))| ItemScore {
                        item: it.id.clone(),
                        value: *v,
                        points: *p,
                        max_points: it.max_points,
                    })
                    .collect(),
                total,
                band_grade: name(band),
                grade: name(grade),
                grade_index: grade,
                caps_applied: fired.iter().filter_map(|&c| self.caps.get(c).map(|c| c.item.clone())).collect(),
            });
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// 1-based competition places (1 + number strictly better; ties share the better place).
pub(crate) fn places(values: &[Decimal], better: Better) -> Vec<u64> {
    let mut sorted: Vec<Decimal> = values.to_vec();
    sorted.sort_unstable();
    values
        .iter()
        .map(|v| {
            let strictly_better = match better {
                // number of values > v
                Better::Higher => sorted.len() - sorted.partition_point(|x| x <= v),
                // number of values < v
                Better::Lower => sorted.partition_point(|x| x < v),
            };
            strictly_better as u64 + 1
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn table(text: &str) -> ScoringTable {
        let raw: RawScoring = toml::from_str(text).unwrap();
        ScoringTable::from_raw(&raw).unwrap()
    }

    fn errors(text: &str) -> Vec<(String, String)> {
        let raw: RawScoring = toml::from_str(text).unwrap();
        ScoringTable::from_raw(&raw)
            .unwrap_err()
            .into_iter()
            .map(|e| match e {
                ScoreError::Config { path, message } => (path, message),
                other => (String::new(), other.to_string()),
            })
            .collect()
    }

    fn one_item(rule: &str, max: &str) -> ScoringTable {
        table(&format!(
            "[[item]]\nid = \"x\"\nvalue = \"v\"\nmax_points = \"{max}\"\nrule = {rule}\n"
        ))
    }

    fn pts(t: &ScoringTable, v: &str) -> Decimal {
        t.value_points(&t.items()[0], d(v), "u").unwrap().unwrap()
    }

    fn values(rows: &[(&str, &[(&str, &str)])]) -> BTreeMap<String, BTreeMap<String, Decimal>> {
        rows.iter()
            .map(|(u, kv)| (u.to_string(), kv.iter().map(|(k, v)| (k.to_string(), d(v))).collect()))
            .collect()
    }

    #[test]
    fn linear_both_directions() {
        let t = one_item(r#"{ kind = "linear", full_at = "0", zero_at = "0.02" }"#, "10");
        assert_eq!(pts(&t, "0"), d("10"));
        assert_eq!(pts(&t, "0.005"), d("7.5"));
        assert_eq!(pts(&t, "0.02"), d("0"));
        assert_eq!(pts(&t, "0.5"), d("0"));
        assert_eq!(pts(&t, "-1"), d("10"));
        let t = one_item(r#"{ kind = "linear", full_at = "0.95", zero_at = "0.85" }"#, "20");
        assert_eq!(pts(&t, "0.9"), d("10"));
        assert_eq!(pts(&t, "0.96"), d("20"));
        assert_eq!(pts(&t, "0.85"), d("0"));
        // non-terminating quotient, with and without rounding
        let t = one_item(r#"{ kind = "linear", full_at = "3", zero_at = "0" }"#, "10");
        assert_eq!(pts(&t, "1"), d("3.3333333333333333333333333333"));
        let t = table(
            "decimals = 2\n[[item]]\nid = \"x\"\nvalue = \"v\"\nmax_points = \"10\"\nrule = { kind = \"linear\", full_at = \"3\", zero_at = \"0\" }\n",
        );
        assert_eq!(pts(&t, "1"), d("3.33"));
        assert_eq!(pts(&t, "2"), d("6.67"));
    }

    #[test]
    fn step_minus_one_per_tenth_of_a_point() {
        let rule = r#"{ kind = "step", better = "higher", target = "0.95", step = "0.001", points_per_step = "1" }"#;
        let t = one_item(rule, "10");
        assert_eq!(pts(&t, "0.95"), d("10"));
        assert_eq!(pts(&t, "0.99"), d("10"));
        assert_eq!(pts(&t, "0.947"), d("7")); // exactly 3 steps: exact in Decimal
        assert_eq!(pts(&t, "0.9465"), d("7")); // 3.5 steps, floor
        assert_eq!(pts(&t, "0.9"), d("0")); // 50 steps, floored at 0
        let t = one_item(&rule.replace("}", ", partial = \"ceil\" }"), "10");
        assert_eq!(pts(&t, "0.9465"), d("6")); // 3.5 steps → 4
        assert_eq!(pts(&t, "0.9469"), d("6")); // 3.1 steps → 4
        assert_eq!(pts(&t, "0.947"), d("7"));
        let t = one_item(&rule.replace("}", ", partial = \"proportional\" }"), "10");
        assert_eq!(pts(&t, "0.9465"), d("6.5"));
        let t = one_item(
            r#"{ kind = "step", better = "lower", target = "3", step = "1", points_per_step = "2" }"#,
            "5",
        );
        assert_eq!(pts(&t, "2"), d("5"));
        assert_eq!(pts(&t, "4"), d("3"));
        assert_eq!(pts(&t, "9"), d("0"));
    }

    #[test]
    fn all_or_nothing_conditions() {
        for (pass_if, v, expect) in [
            ("at_least", "1", "15"),
            ("at_least", "0.9999", "0"),
            ("above", "1", "0"),
            ("above", "1.01", "15"),
            ("at_most", "1", "15"),
            ("at_most", "1.0001", "0"),
            ("below", "1", "0"),
            ("below", "0.5", "15"),
        ] {
            let t = one_item(
                &format!(r#"{{ kind = "all_or_nothing", pass_if = "{pass_if}", target = "1" }}"#),
                "15",
            );
            assert_eq!(pts(&t, v), d(expect), "{pass_if} {v}");
        }
    }

    #[test]
    fn deduction_only_subtracts_and_is_floored() {
        let t = one_item(r#"{ kind = "deduction", per_unit = "2" }"#, "10");
        assert_eq!(pts(&t, "0"), d("0"));
        assert_eq!(pts(&t, "1"), d("-2"));
        assert_eq!(pts(&t, "2.5"), d("-5"));
        assert_eq!(pts(&t, "100"), d("-10"));
        assert!(matches!(
            t.value_points(&t.items()[0], d("-1"), "u"),
            Err(ScoreError::NegativeDeductionValue { .. })
        ));
    }

    #[test]
    fn rank_with_ties() {
        let t = one_item(r#"{ kind = "rank", better = "lower", per_place = "0.25" }"#, "5");
        let v = values(&[
            ("a", &[("v", "3")]),
            ("b", &[("v", "1")]),
            ("c", &[("v", "1")]),
            ("d", &[("v", "2")]),
            ("e", &[("v", "9")]),
        ]);
        let s = t.score(&v).unwrap();
        let p: Vec<Decimal> = s.iter().map(|u| u.items[0].points).collect();
        // places: b=1, c=1, d=3, a=4, e=5
        assert_eq!(p, vec![d("4.25"), d("5"), d("5"), d("4.5"), d("4")]);
        assert_eq!(places(&[d("1"), d("3"), d("3"), d("2")], Better::Higher), vec![4, 1, 1, 3]);
        // floored at zero
        let t = one_item(r#"{ kind = "rank", better = "higher", per_place = "3" }"#, "5");
        let s = t.score(&v).unwrap();
        assert_eq!(s[4].items[0].points, d("5"));
        assert_eq!(s[1].items[0].points, d("0"));
    }

    const FULL: &str = r#"
        [[item]]
        id = "reduction"
        value = "projection.target_met_share"
        max_points = "15"
        rule = { kind = "all_or_nothing", pass_if = "at_least", target = "1" }
        [[item]]
        id = "schooling"
        value = "factor.schooling_rate"
        max_points = "75"
        rule = { kind = "step", better = "higher", target = "1", step = "0.001", points_per_step = "1" }
        [[item]]
        id = "satisfaction"
        value = "indicator.satisfaction.rate"
        max_points = "10"
        rule = { kind = "linear", full_at = "1", zero_at = "0.9" }
        [[item]]
        id = "misuse"
        value = "audit.misuse_cases"
        max_points = "10"
        rule = { kind = "deduction", per_unit = "2" }
        [[cap]]
        item = "reduction"
        max_grade = "good"
        [[cap]]
        item = "misuse"
        below = "-4"
        max_grade = "pass"
    "#;

    #[test]
    fn totals_bands_and_caps() {
        let t = table(FULL);
        assert_eq!(t.max_total(), d("100"));
        let v = values(&[
            // 15 + 75 + 10 + 0 = 100 → excellent
            (
                "a",
                &[
                    ("projection.target_met_share", "1"),
                    ("factor.schooling_rate", "1"),
                    ("indicator.satisfaction.rate", "1"),
                    ("audit.misuse_cases", "0"),
                ],
            ),
            // 0 + 75 + 10 = 85 → good band; reduction cap → good (no change)
            (
                "b",
                &[
                    ("projection.target_met_share", "0.99"),
                    ("factor.schooling_rate", "1"),
                    ("indicator.satisfaction.rate", "1"),
                    ("audit.misuse_cases", "0"),
                ],
            ),
            // 15 + 75 + 10 − 2 = 98 → excellent; misuse −2 not below −4 → no cap
            (
                "c",
                &[
                    ("projection.target_met_share", "1"),
                    ("factor.schooling_rate", "1"),
                    ("indicator.satisfaction.rate", "1"),
                    ("audit.misuse_cases", "1"),
                ],
            ),
            // 15 + 75 + 10 − 6 = 94 → excellent band, misuse cap → pass
            (
                "d",
                &[
                    ("projection.target_met_share", "1"),
                    ("factor.schooling_rate", "1"),
                    ("indicator.satisfaction.rate", "1"),
                    ("audit.misuse_cases", "3"),
                ],
            ),
            // exactly 90: 15 + 65 + 10 → excellent (inclusive lower bound)
            (
                "e",
                &[
                    ("projection.target_met_share", "1"),
                    ("factor.schooling_rate", "0.99"),
                    ("indicator.satisfaction.rate", "1"),
                    ("audit.misuse_cases", "0"),
                ],
            ),
            // 15 + 45 + 0 = 60 → pass; 59.5 → fail
            (
                "f",
                &[
                    ("projection.target_met_share", "1"),
                    ("factor.schooling_rate", "0.97"),
                    ("indicator.satisfaction.rate", "0.9"),
                    ("audit.misuse_cases", "0"),
                ],
            ),
            (
                "g",
                &[
                    ("projection.target_met_share", "1"),
                    ("factor.schooling_rate", "0.97"),
                    ("indicator.satisfaction.rate", "0.9"),
                    ("audit.misuse_cases", "0.25"),
                ],
            ),
            // reduction failed with an excellent-level total: 0 + 75 + 10 + 0 = 85; make it 95 by
            // a separate check below
        ]);
        let s = t.score(&v).unwrap();
        let summary: Vec<(String, Decimal, String, String)> = s
            .iter()
            .map(|u| (u.unit_id.clone(), u.total, u.band_grade.clone(), u.grade.clone()))
            .collect();
        let exp = |u: &str, t: &str, b: &str, g: &str| (u.to_string(), d(t), b.to_string(), g.to_string());
        assert_eq!(
            summary,
            vec![
                exp("a", "100", "excellent", "excellent"),
                exp("b", "85", "good", "good"),
                exp("c", "98", "excellent", "excellent"),
                exp("d", "94", "excellent", "pass"),
                exp("e", "90", "excellent", "excellent"),
                exp("f", "60", "pass", "pass"),
                exp("g", "59.5", "fail", "fail"),
            ]
        );
        assert_eq!(s[1].caps_applied, vec!["reduction".to_string()]);
        assert_eq!(s[3].caps_applied, vec!["misuse".to_string()]);
        assert!(s[0].caps_applied.is_empty());
    }

    #[test]
    fn cap_lowers_an_excellent_total() {
        let t = table(
            r#"
            [[item]]
            id = "reduction"
            value = "r"
            max_points = "5"
            rule = { kind = "all_or_nothing", pass_if = "at_least", target = "1" }
            [[item]]
            id = "rest"
            value = "x"
            max_points = "95"
            rule = { kind = "linear", full_at = "1", zero_at = "0" }
            [[cap]]
            item = "reduction"
            max_grade = "good"
        "#,
        );
        let v = values(&[("a", &[("r", "0"), ("x", "1")])]);
        let s = t.score(&v).unwrap();
        assert_eq!(s[0].total, d("95"));
        assert_eq!(s[0].band_grade, "excellent");
        assert_eq!(s[0].grade, "good");
        assert_eq!(s[0].grade_index, 1);
    }

    #[test]
    fn missing_values_name_unit_and_item() {
        let t = table(FULL);
        let v = values(&[("a", &[("projection.target_met_share", "1")])]);
        let errs = t.score(&v).unwrap_err();
        assert_eq!(errs.len(), 3);
        assert!(errs.contains(&ScoreError::MissingValue {
            unit_id: "a".into(),
            item: "schooling".into(),
            key: "factor.schooling_rate".into()
        }));
    }

    #[test]
    fn custom_bands() {
        let t = table(
            r#"
            [[grade]]
            name = "A"
            min = "85"
            [[grade]]
            name = "B"
            min = "70.5"
            [[grade]]
            name = "C"
            [[item]]
            id = "x"
            value = "v"
            max_points = "100"
            rule = { kind = "linear", full_at = "100", zero_at = "0" }
        "#,
        );
        let v = values(&[("a", &[("v", "85")]), ("b", &[("v", "70.5")]), ("c", &[("v", "70.49")])]);
        let g: Vec<String> = t.score(&v).unwrap().into_iter().map(|u| u.grade).collect();
        assert_eq!(g, vec!["A", "B", "C"]);
    }

    #[test]
    fn band_errors() {
        let item = "[[item]]\nid = \"x\"\nvalue = \"v\"\nmax_points = \"1\"\nrule = { kind = \"deduction\", per_unit = \"1\" }\n";
        let e = errors(&format!(
            "[[grade]]\nname = \"a\"\nmin = \"80\"\n[[grade]]\nname = \"b\"\nmin = \"90\"\n[[grade]]\nname = \"c\"\n{item}"
        ));
        assert_eq!(e[0].0, "scoring.grade[1].min");
        assert!(e[0].1.contains("decreasing"), "{e:?}");
        let e = errors(&format!(
            "[[grade]]\nname = \"a\"\nmin = \"80\"\n[[grade]]\nname = \"b\"\nmin = \"80\"\n[[grade]]\nname = \"c\"\n{item}"
        ));
        assert!(e[0].1.contains("overlaps"), "{e:?}");
        let e = errors(&format!(
            "[[grade]]\nname = \"a\"\nmin = \"80\"\n[[grade]]\nname = \"a\"\nmin = \"60\"\n{item}"
        ));
        assert_eq!(e[0].0, "scoring.grade[1].name");
        assert_eq!(e[1].0, "scoring.grade[1].min");
        let e = errors(&format!("[[grade]]\nname = \"a\"\n[[grade]]\nname = \"b\"\n{item}"));
        assert_eq!(e[0].0, "scoring.grade[0].min");
    }

    #[test]
    fn item_and_rule_errors() {
        let e = errors(
            r#"
            decimals = 30
            [[item]]
            id = "a"
            value = ""
            max_points = "0"
            rule = { kind = "linear", full_at = "1", zero_at = "1" }
            [[item]]
            id = "a"
            value = "v"
            max_points = "5"
            rule = { kind = "step", target = "1", step = "0", points_per_step = "1", per_unit = "3" }
            [[item]]
            id = "b"
            value = "v"
            max_points = "5"
            rule = { kind = "stairs" }
            [[item]]
            id = "c"
            value = "v"
            max_points = "5"
            rule = { kind = "all_or_nothing", target = "1", pass_if = "more" }
            [[cap]]
            item = "zzz"
            max_grade = "best"
        "#,
        );
        let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "scoring.decimals",
                "scoring.item[0].value",
                "scoring.item[0].max_points",
                "scoring.item[0].rule.zero_at",
                "scoring.item[1].id",
                "scoring.item[1].rule.per_unit",
                "scoring.item[1].rule.step",
                "scoring.item[1].rule.better",
                "scoring.item[2].rule.kind",
                "scoring.item[3].rule.pass_if",
                "scoring.cap[0].item",
                "scoring.cap[0].max_grade",
            ]
        );
        assert!(errors("").iter().any(|(p, _)| p == "scoring.item"));
    }

    #[test]
    fn toml_shape_rejects_unknown_fields_and_floats() {
        assert!(toml::from_str::<RawScoring>("bogus = 1").is_err());
        let float = "[[item]]\nid = \"x\"\nvalue = \"v\"\nmax_points = 1.5\nrule = { kind = \"deduction\", per_unit = \"1\" }\n";
        let err = toml::from_str::<RawScoring>(float).unwrap_err().to_string();
        assert!(err.contains("strings"), "{err}");
        let int = "[[item]]\nid = \"x\"\nvalue = \"v\"\nmax_points = 15\nrule = { kind = \"deduction\", per_unit = 1 }\n";
        let raw: RawScoring = toml::from_str(int).unwrap();
        assert_eq!(raw.items[0].max_points, d("15"));
        let unknown =
            "[[item]]\nid = \"x\"\nvalue = \"v\"\nmax_points = \"1\"\nrule = { kind = \"deduction\", per_unit = \"1\", bogus = \"2\" }\n";
        assert!(toml::from_str::<RawScoring>(unknown).is_err());
    }

    #[test]
    fn module_doc_example_is_valid() {
        let doc = include_str!("table.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").strip_prefix(' ').unwrap_or("").to_string() + "\n")
            .collect();
        #[derive(Deserialize)]
        struct Scenario {
            scoring: RawScoring,
        }
        let s: Scenario = toml::from_str(&example).unwrap();
        let t = ScoringTable::from_raw(&s.scoring).unwrap();
        assert_eq!(t.items().len(), 5);
        assert_eq!(t.bands().len(), 4);
        assert_eq!(t.caps()[0].below, d("15"));
    }
}
