//! The scenario side of `fundsim score` (SPEC §5): reads `survey.csv`, `plan.csv`,
//! `[indicators]` and `[scoring]` of a loaded [`Scenario`], runs the engine of this module and
//! returns the result tables. No file is read or written here; `fundsim score` and the report's
//! indicators step both call [`run`] and [`tables`], so they give the same numbers.
//!
//! Every bad row or key is reported with file, line and field (as [`RunError::Input`]).
//!
//! Scoring values available to `[[scoring.item]] value = ...`:
//! - `indicator.<name>.rate`, `indicator.<name>.pass` (from the survey);
//! - `factor.<column>`: a numeric column of `factors.csv`;
//! - `factor.<a>/<b>`: the exact decimal quotient of two columns (e.g.
//!   `factor.exit_done/exit_task`, the share of the exit task met); missing when `b` is 0.
//!
//! Units scored: those whose `[scoring] units` flag column is non-zero, else every unit with
//! survey data.

use super::{
    bootstrap, comprehensive_incidence, evaluate_all, exit_verdict, indicator_values, validate_survey, BootstrapConfig, BootstrapResult,
    BootstrapUnit, CiMethod, Direction, ExitVerdict, Gate, IncidenceInput, IncidenceResult, Indicator, IndicatorConfig, IndicatorResult,
    Propagation, RawSurveyRow, ScoreError, ScoringTable, ThresholdRule, UnitScore,
};
use crate::error::{InputErrors, Location};
use crate::output::OutTable;
use crate::scenario::{line_at, Scenario};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// Settings of a run (the `fundsim score` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreOptions {
    /// Interval method; `None`: `[indicators] ci`, else Wilson.
    pub ci: Option<CiMethod>,
    /// Bootstrap draws for the sampling error (0: no `sampling_error.csv`).
    pub draws: u32,
    /// Bootstrap seed.
    pub seed: u64,
}

impl Default for ScoreOptions {
    /// The `fundsim score` defaults: interval from the scenario, 1000 draws, seed 1.
    fn default() -> Self {
        ScoreOptions {
            ci: None,
            draws: 1000,
            seed: 1,
        }
    }
}

/// Everything a score run computes.
#[derive(Debug, Clone)]
pub struct ScoreRun {
    /// One result per survey row (unit × indicator).
    pub results: Vec<IndicatorResult>,
    /// Per plan county with survey data: the incidence inputs, comprehensive incidence and the
    /// four-veto exit verdict.
    pub exits: Vec<(IncidenceInput, IncidenceResult, ExitVerdict)>,
    /// The scoring table and each scored unit's scores, when `[scoring]` is present.
    pub scores: Option<(ScoringTable, Vec<UnitScore>)>,
    /// The sampling error of verdicts, grades and ranks, when draws > 0 and there is a table.
    pub boot: Option<BootstrapResult>,
    /// The thresholds and interval settings used.
    pub config: IndicatorConfig,
}

/// Why a score run failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Bad input: every problem with file, line and field.
    #[error("{0}")]
    Input(#[from] InputErrors),
    /// The engine refused validated data (e.g. an LP of the DEA view failed).
    #[error("{0}")]
    Engine(String),
}

/// Runs the indicators, the exit check, the scoring table and (with `draws` > 0) the
/// bootstrap on a loaded scenario. Needs `survey.csv`; `plan.csv` and `[scoring]` are optional.
pub fn run(s: &Scenario, o: &ScoreOptions) -> Result<ScoreRun, RunError> {
    let mut errs = InputErrors::default();
    let mut config = indicator_config(s, &mut errs);
    if let Some(ci) = o.ci {
        config.ci = ci;
    }
    let samples = read_survey(s, &mut errs);
    let table = scoring_table(s, &mut errs);
    if !errs.is_empty() {
        return Err(errs.into());
    }
    let results = evaluate_all(&samples, &config).map_err(|e| RunError::Engine(e.to_string()))?;
    let exits = exit_checks(s, &config, &results)?;
    let (scores, boot) = match table {
        Some(table) => {
            let values = scoring_values(s, &table, &results)?;
            let scores = table.score(&values).map_err(|e| score_errors(s, &e))?;
            let boot = if o.draws > 0 {
                let units: Vec<BootstrapUnit> = values
                    .iter()
                    .map(|(u, v)| BootstrapUnit {
                        unit_id: u.clone(),
                        values: v.clone(),
                        indicators: results.iter().filter(|r| &r.unit_id == u).cloned().collect(),
                    })
                    .collect();
                let cfg = BootstrapConfig {
                    draws: o.draws,
                    seed: o.seed,
                    ..BootstrapConfig::default()
                };
                Some(bootstrap(&table, &units, &cfg).map_err(|e| score_errors(s, &[e]))?)
            } else {
                None
            };
            (Some((table, scores)), boot)
        }
        None => (None, None),
    };
    Ok(ScoreRun {
        results,
        exits,
        scores,
        boot,
        config,
    })
}

// ------------------------------------------------------------------------------ TOML

/// Best-effort line of a TOML key path (`scoring.item[2].rule.step`) from a section's start:
/// indexed segments jump to the matching `[[...name]]` header, the last segment to its
/// `name =`; falls back to the section's first line.
fn key_line(text: &str, span: Range<usize>, path: &str) -> u64 {
    // from the section's start to the end of the file: the span of a table defined only
    // through its sub-tables (`[indicators.wrong_exit]`) covers just a header
    let section = text.get(span.start..).unwrap_or("");
    let mut cursor = 0usize;
    let segs: Vec<&str> = path.split('.').skip(1).collect();
    for (i, seg) in segs.iter().enumerate() {
        let (name, index) = match seg.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (*seg, None),
        };
        if let Some(idx) = index {
            let pat = format!(".{name}]]");
            let mut pos = cursor;
            let mut found = None;
            for _ in 0..=idx {
                match section.get(pos..).and_then(|r| r.find(&pat)) {
                    Some(p) => {
                        found = Some(pos + p);
                        pos += p + pat.len();
                    }
                    None => {
                        found = None;
                        break;
                    }
                }
            }
            match found {
                Some(p) => cursor = p,
                None => break,
            }
        } else if let Some(p) = find_key(section, cursor, name) {
            cursor = p;
            if i + 1 == segs.len() {
                return line_at(text, span.start + p);
            }
        }
    }
    line_at(text, span.start + cursor)
}

/// Position of `name` followed by optional spaces and `=` (or `.`/`]` for tables) at or after
/// `from`, not preceded by a word character.
fn find_key(section: &str, from: usize, name: &str) -> Option<usize> {
    let bytes = section.as_bytes();
    let mut pos = from;
    while let Some(p) = section.get(pos..).and_then(|r| r.find(name)) {
        let at = pos + p;
        let before_ok = at == 0 || bytes.get(at - 1).is_some_and(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
        let after = section.get(at + name.len()..).unwrap_or("").trim_start_matches([' ', '\t']);
        if before_ok && (after.starts_with('=') || after.starts_with(']') || after.starts_with('.')) {
            return Some(at);
        }
        pos = at + name.len();
    }
    None
}

fn toml_loc(s: &Scenario, span: Range<usize>, path: &str) -> Location {
    Location::at(&s.toml_file, Some(key_line(&s.toml_text, span, path)), path)
}

/// The scenario's `[indicators]` rules (national defaults without the section); problems are
/// added to `errs` with their TOML location.
pub(crate) fn indicator_config(s: &Scenario, errs: &mut InputErrors) -> IndicatorConfig {
    let Some(raw) = s.raw.indicators.as_ref() else {
        return IndicatorConfig::default();
    };
    let span = raw.span();
    let raw = raw.get_ref();
    for (i, o) in raw.overrides.iter().enumerate() {
        for u in &o.units {
            if s.hierarchy.find(u).is_none() {
                let path = format!("indicators.override[{i}].units");
                errs.push(
                    toml_loc(s, span.clone(), &path),
                    format!("unknown unit id `{u}` (not in the units file)"),
                );
            }
        }
    }
    match IndicatorConfig::from_raw(raw) {
        Ok(c) => c,
        Err(list) => {
            for e in list {
                push_config_error(s, span.clone(), "indicators", &e, errs);
            }
            IndicatorConfig::default()
        }
    }
}

fn push_config_error(s: &Scenario, span: Range<usize>, section: &str, e: &ScoreError, errs: &mut InputErrors) {
    match e {
        ScoreError::Config { path, message } => errs.push(toml_loc(s, span, path), message.clone()),
        other => errs.push(toml_loc(s, span, section), other.to_string()),
    }
}

fn scoring_table(s: &Scenario, errs: &mut InputErrors) -> Option<ScoringTable> {
    let raw = s.raw.scoring.as_ref()?;
    let span = raw.span();
    let raw = raw.get_ref();
    let before = errs.0.len();
    if let Some(col) = &raw.units {
        if s.factors.table.col(col).is_none() {
            errs.push(
                toml_loc(s, span.clone(), "scoring.units"),
                format!("no column `{col}` in {}", s.factors.table.file),
            );
        }
    }
    for (i, item) in raw.items.iter().enumerate() {
        if let Some(expr) = item.value.strip_prefix("factor.") {
            for col in expr.split('/') {
                if s.factors.table.col(col).is_none() {
                    let path = format!("scoring.item[{i}].value");
                    errs.push(
                        toml_loc(s, span.clone(), &path),
                        format!("no column `{col}` in {}", s.factors.table.file),
                    );
                }
            }
        } else if !item.value.starts_with("indicator.") || crate::score::parse_value_key(&item.value).is_none() {
            let path = format!("scoring.item[{i}].value");
            errs.push(
                toml_loc(s, span.clone(), &path),
                format!(
                    "unknown value `{}` (expected factor.<column>, factor.<column>/<column>, indicator.<name>.rate or indicator.<name>.pass)",
                    item.value
                ),
            );
        }
    }
    match ScoringTable::from_raw(raw) {
        Ok(t) if errs.0.len() == before => Some(t),
        Ok(_) => None,
        Err(list) => {
            for e in list {
                push_config_error(s, span.clone(), "scoring", &e, errs);
            }
            None
        }
    }
}

// ------------------------------------------------------------------------------ survey

/// Reads `survey.csv`: integers, known units, then the engine's checks, each mapped back to
/// its line and field.
pub fn read_survey(s: &Scenario, errs: &mut InputErrors) -> Vec<crate::score::Sample> {
    let Some(t) = s.tables.get("survey") else {
        errs.push(
            Location::file("survey.csv"),
            "no survey table: add survey.csv (unit_id,indicator,sampled,flagged) or [data] survey",
        );
        return Vec::new();
    };
    let cols: Vec<Option<usize>> = ["unit_id", "indicator", "sampled", "flagged"]
        .iter()
        .map(|c| match t.require(c) {
            Ok(i) => Some(i),
            Err(d) => {
                errs.0.push(d);
                None
            }
        })
        .collect();
    let (Some(Some(cu)), Some(Some(ci)), Some(Some(cs)), Some(Some(cf))) = (cols.first(), cols.get(1), cols.get(2), cols.get(3)) else {
        return Vec::new();
    };
    let (cu, ci, cs, cf) = (*cu, *ci, *cs, *cf);
    let mut raws = Vec::new();
    let mut lines = Vec::new();
    for row in &t.rows {
        let mut ok = true;
        let unit = t.cell(row, cu).to_string();
        if !unit.is_empty() && s.hierarchy.find(&unit).is_none() {
            errs.push(t.loc(row, cu), format!("unknown unit id `{unit}` (not in the units file)"));
            ok = false;
        }
        // counts are read like every numeric cell (full-width digits, thousands separators,
        // named in the loading warnings); negative counts are left to the engine's check
        let mut int = |c: usize| -> Option<i64> {
            let text = t.cell(row, c);
            match t.number(row, c, &mut Vec::new()) {
                Ok(Some(v)) if v.fract().is_zero() => match i64::try_from(v) {
                    Ok(n) => Some(n),
                    Err(_) => {
                        errs.push(t.loc(row, c), format!("`{text}` is too large for a count"));
                        None
                    }
                },
                Ok(Some(_)) => {
                    errs.push(
                        t.loc(row, c),
                        format!("`{text}` is not a whole number (a count of people or households)"),
                    );
                    None
                }
                Ok(None) => {
                    errs.push(t.loc(row, c), "empty: a count of people or households is needed");
                    None
                }
                Err(d) => {
                    errs.0.push(d);
                    None
                }
            }
        };
        let sampled = int(cs);
        let flagged = int(cf);
        let (Some(sampled), Some(flagged)) = (sampled, flagged) else {
            continue;
        };
        if !ok {
            continue;
        }
        raws.push(RawSurveyRow {
            unit_id: unit,
            indicator: t.cell(row, ci).to_string(),
            sampled,
            flagged,
        });
        lines.push(row.line);
    }
    match validate_survey(&raws) {
        Ok(v) => v,
        Err(list) => {
            for e in list {
                let (row, field) = survey_row_field(&e);
                let line = row.and_then(|r| lines.get(r).copied());
                let msg = match &e {
                    // the engine counts data rows from 0; the user reads file lines
                    ScoreError::DuplicateRow {
                        first_row,
                        unit_id,
                        indicator,
                        ..
                    } => format!(
                        "unit `{unit_id}` already has a `{indicator}` row (line {})",
                        lines.get(*first_row).copied().unwrap_or(0)
                    ),
                    _ => strip_row_prefix(&e.to_string()),
                };
                errs.push(Location::at(&t.file, line, field), msg);
            }
            Vec::new()
        }
    }
}

fn survey_row_field(e: &ScoreError) -> (Option<usize>, &'static str) {
    match e {
        ScoreError::UnknownIndicator { row, field, .. }
        | ScoreError::NegativeCount { row, field, .. }
        | ScoreError::ZeroSampled { row, field }
        | ScoreError::FlaggedExceedsSampled { row, field, .. }
        | ScoreError::DuplicateRow { row, field, .. }
        | ScoreError::EmptyUnitId { row, field } => (Some(*row), field),
        _ => (None, "unit_id"),
    }
}

/// `row 3: field `x`: message` → `message`.
fn strip_row_prefix(m: &str) -> String {
    match m.strip_prefix("row ").and_then(|r| r.split_once("`: ")) {
        Some((_, rest)) => rest.to_string(),
        None => m.to_string(),
    }
}

// ------------------------------------------------------------------------------ incidence

fn exit_checks(
    s: &Scenario,
    config: &IndicatorConfig,
    results: &[IndicatorResult],
) -> Result<Vec<(IncidenceInput, IncidenceResult, ExitVerdict)>, RunError> {
    let Some(t) = s.tables.get("plan") else {
        return Ok(Vec::new());
    };
    let mut errs = InputErrors::default();
    let (cu, cf, cr) = match (t.require("unit_id"), t.require("filed_start"), t.require("rural_pop")) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (a, b, c) => {
            for d in [a.err(), b.err(), c.err()].into_iter().flatten() {
                errs.0.push(d);
            }
            return Err(errs.into());
        }
    };
    let ce = t.col("exited_pop");
    let ct = t.col("exit_threshold");
    let sample = |unit: &str, ind: Indicator| {
        results
            .iter()
            .find(|r| r.unit_id == unit && r.indicator == ind)
            .map(|r| (r.flagged, r.sampled))
    };
    let toml_override = |unit: &str| {
        s.raw.indicators.as_ref().is_some_and(|r| {
            r.get_ref()
                .overrides
                .iter()
                .any(|o| o.indicator == "incidence" && o.units.iter().any(|u| u == unit))
        })
    };
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for row in &t.rows {
        let unit = t.cell(row, cu).to_string();
        let (Some(m), Some(w)) = (sample(&unit, Indicator::MissedAssessment), sample(&unit, Indicator::WrongExit)) else {
            continue;
        };
        let mut count = |c: usize| -> Option<u64> {
            match t.number(row, c, &mut warnings) {
                Ok(Some(d)) if d >= Decimal::ZERO && d.fract().is_zero() => u64::try_from(d).ok(),
                Ok(None) if Some(c) == ce => Some(0),
                Ok(_) => {
                    errs.push(t.loc(row, c), format!("`{}` is not a whole number >= 0", t.cell(row, c)));
                    None
                }
                Err(d) => {
                    errs.0.push(d);
                    None
                }
            }
        };
        let remaining = count(cf);
        let rural = count(cr);
        let exited = match ce {
            Some(c) => count(c),
            None => Some(0),
        };
        let mut rule = config.rule_for(&unit, Gate::Incidence);
        if let Some(c) = ct {
            match t.number(row, c, &mut warnings) {
                Ok(Some(d)) if (Decimal::ZERO..=Decimal::ONE).contains(&d) => {
                    if !toml_override(&unit) {
                        rule = ThresholdRule {
                            threshold: d,
                            comparison: rule.comparison,
                            direction: Direction::LowerBetter,
                        };
                    }
                }
                Ok(None) => {}
                Ok(Some(d)) => errs.push(t.loc(row, c), format!("exit threshold {d} is outside [0, 1]")),
                Err(d) => errs.0.push(d),
            }
        }
        let (Some(remaining), Some(rural_pop), Some(exited)) = (remaining, rural, exited) else {
            continue;
        };
        let input = IncidenceInput {
            unit_id: unit.clone(),
            rural_pop,
            remaining,
            exited,
            missed: m,
            wrong_exit: w,
        };
        match comprehensive_incidence(&input, rule, config.ci, config.confidence, Propagation::default()) {
            Ok(inc) => {
                let ev = exit_verdict(&inc, results);
                out.push((input, inc, ev));
            }
            Err(ScoreError::Population { field, message, .. }) => {
                let col = match field {
                    "rural_pop" => Some(cr),
                    "remaining" => Some(cf),
                    "exited" => ce,
                    _ => None,
                };
                match col {
                    Some(c) => errs.push(t.loc(row, c), message),
                    None => errs.push(Location::at(&t.file, Some(row.line), field), message),
                }
            }
            Err(e) => errs.push(Location::at(&t.file, Some(row.line), "unit_id"), e.to_string()),
        }
    }
    errs.into_result(out).map_err(RunError::from)
}

// ------------------------------------------------------------------------------ scoring

type Values = BTreeMap<String, BTreeMap<String, Decimal>>;

fn scoring_values(s: &Scenario, table: &ScoringTable, results: &[IndicatorResult]) -> Result<Values, RunError> {
    let mut warnings = Vec::new();
    let raw_units = s.raw.scoring.as_ref().and_then(|r| r.get_ref().units.clone());
    let units: BTreeSet<String> = match &raw_units {
        Some(col) => {
            let v = s.factors.numeric_column(col, &mut warnings)?;
            v.iter()
                .enumerate()
                .filter(|(_, x)| x.is_some_and(|d| !d.is_zero()))
                .filter_map(|(i, _)| s.hierarchy.unit(i).map(|u| u.id.clone()))
                .collect()
        }
        None => results.iter().map(|r| r.unit_id.clone()).collect(),
    };
    let ind = indicator_values(results).map_err(|e| RunError::Engine(e.to_string()))?;
    let mut columns: BTreeMap<String, Vec<Option<Decimal>>> = BTreeMap::new();
    for key in table.value_keys() {
        if let Some(expr) = key.strip_prefix("factor.") {
            for col in expr.split('/') {
                if !columns.contains_key(col) {
                    let v = s.factors.numeric_column(col, &mut warnings)?;
                    columns.insert(col.to_string(), v);
                }
            }
        }
    }
    let mut values = Values::new();
    for u in units {
        let Some(idx) = s.hierarchy.find(&u) else {
            continue;
        };
        let mut map = ind.get(&u).cloned().unwrap_or_default();
        for key in table.value_keys() {
            let Some(expr) = key.strip_prefix("factor.") else {
                continue;
            };
            let get = |c: &str| columns.get(c).and_then(|v| v.get(idx).copied().flatten());
            let value = match expr.split_once('/') {
                Some((a, b)) => match (get(a), get(b)) {
                    (Some(x), Some(y)) if !y.is_zero() => x.checked_div(y),
                    _ => None,
                },
                None => get(expr),
            };
            if let Some(v) = value {
                map.insert(key.to_string(), v);
            }
        }
        values.insert(u, map);
    }
    Ok(values)
}

/// Maps scoring errors to locations: a missing factor value to its cell, a missing indicator
/// to survey.csv, anything else to `[scoring]`.
fn score_errors(s: &Scenario, list: &[ScoreError]) -> RunError {
    let mut errs = InputErrors::default();
    let span = s.raw.scoring.as_ref().map(|r| r.span()).unwrap_or(0..0);
    for e in list {
        match e {
            ScoreError::MissingValue { unit_id, item, key } => {
                if let Some(expr) = key.strip_prefix("factor.") {
                    let col = expr.split('/').next().unwrap_or(expr);
                    let loc = match s.hierarchy.find(unit_id) {
                        Some(i) => s.factors.loc(col, i),
                        None => Location::at(&s.factors.table.file, None, col),
                    };
                    errs.push(
                        loc,
                        format!("unit `{unit_id}`: item `{item}` needs `{expr}`, which is empty or not computable (select the scored units with [scoring] units = \"<flag column>\")"),
                    );
                } else {
                    let file = s
                        .tables
                        .get("survey")
                        .map(|t| t.file.clone())
                        .unwrap_or_else(|| "survey.csv".into());
                    errs.push(
                        Location::at(file, None, "indicator"),
                        format!("unit `{unit_id}`: item `{item}` needs `{key}`: the unit has no such survey row"),
                    );
                }
            }
            other => errs.push(toml_loc(s, span.clone(), "scoring"), other.to_string()),
        }
    }
    RunError::Input(errs)
}

// ------------------------------------------------------------------------------ outputs

/// A float with up to 15 decimals, no trailing zeros, no `-0`.
pub fn fx(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{x:.15}");
    let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn dec(d: Decimal) -> String {
    crate::output::dec(d)
}

/// Benefit-of-the-doubt (DEA) view of the scoring table: each unit's item scores as a share of
/// the item's maximum (deduction items left out), published weights `max_k / Σ max`, admissible
/// weights within ±50% of the published ones (and summing to 1). Per unit: the composite score
/// under the published weights and its rank, the best composite any admissible weights give
/// it, and the best and worst rank it can reach (exact where the rank MIP is small enough,
/// otherwise bounds, marked `rank_exact = false`). See `crate::lpcheck::dea`.
pub fn dea_table(scores: &[UnitScore]) -> Result<Option<OutTable>, RunError> {
    use crate::lpcheck::{benefit_of_doubt, DeaInput, DeaOptions};
    use rust_decimal::prelude::ToPrimitive;
    let Some(first) = scores.first() else { return Ok(None) };
    let items: Vec<usize> = first
        .items
        .iter()
        .enumerate()
        .filter(|(_, x)| x.max_points > rust_decimal::Decimal::ZERO)
        .map(|(k, _)| k)
        .collect();
    if items.len() < 2 || scores.len() < 2 {
        return Ok(None);
    }
    let max: Vec<f64> = items
        .iter()
        .map(|&k| first.items.get(k).and_then(|x| x.max_points.to_f64()).unwrap_or(0.0))
        .collect();
    let total: f64 = max.iter().sum();
    let published: Vec<f64> = max.iter().map(|m| m / total).collect();
    let lo: Vec<f64> = published.iter().map(|p| p * 0.5).collect();
    let hi: Vec<f64> = published.iter().map(|p| (p * 1.5).min(1.0)).collect();
    let values: Vec<Vec<f64>> = scores
        .iter()
        .map(|u| {
            items
                .iter()
                .zip(&max)
                .map(|(&k, m)| {
                    u.items
                        .get(k)
                        .and_then(|x| x.points.to_f64())
                        .map(|p| (p / m).clamp(0.0, 1.0))
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .collect();
    let names = items
        .iter()
        .map(|&k| first.items.get(k).map(|x| x.item.clone()).unwrap_or_default())
        .collect();
    let ids = scores.iter().map(|u| u.unit_id.clone()).collect();
    let input = DeaInput::new(ids, names, values, lo, hi, published).map_err(|e| RunError::Engine(format!("DEA: {e}")))?;
    let res = benefit_of_doubt(&input, &DeaOptions::default()).map_err(|e| RunError::Engine(format!("DEA: {e}")))?;
    let mut t = OutTable::new(
        "dea.csv",
        &[
            "unit_id",
            "published_score",
            "published_rank",
            "best_score",
            "best_rank",
            "worst_rank",
            "rank_exact",
        ],
    );
    let fmt = |x: f64| crate::output::f((x * 1e6).round() / 1e6);
    for u in res {
        let exact = u.rank.best.lo == u.rank.best.hi && u.rank.worst.lo == u.rank.worst.hi;
        let show = |b: &crate::lpcheck::RankBounds| {
            if b.lo == b.hi {
                b.lo.to_string()
            } else {
                format!("{}-{}", b.lo, b.hi)
            }
        };
        t.rows.push(vec![
            u.unit_id,
            fmt(u.published_score),
            u.published_rank.to_string(),
            fmt(u.best_score),
            show(&u.rank.best),
            show(&u.rank.worst),
            exact.to_string(),
        ]);
    }
    Ok(Some(t))
}

/// The result tables of a run, in this order: `indicators.csv` (every survey row, by unit then
/// indicator), `exit_check.csv` (with a plan), `scores.csv` (with `[scoring]`),
/// `sampling_error.csv` (with a bootstrap).
pub fn tables(r: &ScoreRun) -> Vec<OutTable> {
    let mut tables = Vec::new();
    let mut ind = OutTable::new(
        "indicators.csv",
        &[
            "unit_id",
            "indicator",
            "sampled",
            "flagged",
            "rate",
            "ci_low",
            "ci_high",
            "threshold",
            "point_verdict",
            "verdict",
            "comparison",
            "p_value",
            "ci_method",
            "confidence",
        ],
    );
    let mut sorted: Vec<&IndicatorResult> = r.results.iter().collect();
    sorted.sort_by(|a, b| a.unit_id.cmp(&b.unit_id).then(ind_order(a.indicator).cmp(&ind_order(b.indicator))));
    for x in sorted {
        ind.rows.push(vec![
            x.unit_id.clone(),
            x.indicator.as_str().into(),
            x.sampled.to_string(),
            x.flagged.to_string(),
            x.rate_decimal().map(|d| dec(d.round_dp(15))).unwrap_or_else(|_| fx(x.rate)),
            fx(x.ci.low),
            fx(x.ci.high),
            dec(x.rule.threshold),
            x.point_verdict.as_str().into(),
            x.verdict.as_str().into(),
            x.rule.comparison.as_str().into(),
            fx(x.p_value),
            r.config.ci.as_str().into(),
            fx(r.config.confidence),
        ]);
    }
    tables.push(ind);
    if !r.exits.is_empty() {
        let mut ex = OutTable::new(
            "exit_check.csv",
            &[
                "unit_id",
                "rural_pop",
                "remaining",
                "exited",
                "unfiled",
                "missed_people",
                "wrongly_exited_people",
                "incidence",
                "ci_low",
                "ci_high",
                "threshold",
                "point_verdict",
                "verdict",
                "may_exit",
                "vetoes",
                "statistical_verdict",
            ],
        );
        for (inp, inc, ev) in &r.exits {
            ex.rows.push(vec![
                inp.unit_id.clone(),
                inp.rural_pop.to_string(),
                inp.remaining.to_string(),
                inp.exited.to_string(),
                inc.unfiled.to_string(),
                fx(inc.missed_people),
                fx(inc.wrongly_exited_people),
                fx(inc.incidence),
                fx(inc.ci.low),
                fx(inc.ci.high),
                dec(inc.rule.threshold),
                inc.point_verdict.as_str().into(),
                inc.verdict.as_str().into(),
                ev.may_exit.to_string(),
                ev.vetoes.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(";"),
                ev.statistical.as_str().into(),
            ]);
        }
        tables.push(ex);
    }
    if let Some((table, scores)) = &r.scores {
        let mut sc = OutTable::new(
            "scores.csv",
            &["unit_id", "item", "value", "points", "max_points", "grade", "caps_applied"],
        );
        for u in scores {
            for it in &u.items {
                sc.rows.push(vec![
                    u.unit_id.clone(),
                    it.item.clone(),
                    dec(it.value),
                    dec(it.points),
                    dec(it.max_points),
                    String::new(),
                    String::new(),
                ]);
            }
            sc.rows.push(vec![
                u.unit_id.clone(),
                "total".into(),
                String::new(),
                dec(u.total),
                dec(table.max_total()),
                u.grade.clone(),
                u.caps_applied.join(";"),
            ]);
        }
        tables.push(sc);
    }
    if let Some(b) = &r.boot {
        let mut se = OutTable::new(
            "sampling_error.csv",
            &[
                "unit_id",
                "flip_missed_assessment",
                "flip_wrong_exit",
                "flip_satisfaction",
                "total",
                "grade",
                "grade_change_probability",
                "rank",
                "rank_low",
                "rank_high",
                "draws",
                "seed",
            ],
        );
        for u in &b.units {
            let flip = |i: Indicator| {
                u.flips
                    .iter()
                    .find(|f| f.indicator == i)
                    .map(|f| fx(f.flip_probability))
                    .unwrap_or_default()
            };
            se.rows.push(vec![
                u.unit_id.clone(),
                flip(Indicator::MissedAssessment),
                flip(Indicator::WrongExit),
                flip(Indicator::Satisfaction),
                dec(u.total),
                u.grade.clone(),
                fx(u.grade_change_probability),
                u.rank.to_string(),
                u.rank_low.to_string(),
                u.rank_high.to_string(),
                b.draws.to_string(),
                b.seed.to_string(),
            ]);
        }
        tables.push(se);
    }
    tables
}

fn ind_order(i: Indicator) -> usize {
    Indicator::ALL.iter().position(|x| *x == i).unwrap_or(usize::MAX)
}
