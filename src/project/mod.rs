//! Exit-target projection (SPEC §4): yearly targets against filed headcounts, funded by the
//! scenario's own allocation, with the exit gate of SPEC §5, a Monte Carlo of the flows, and
//! the reconciliation of union hardship file tables.
//!
//! # The deterministic projection
//! Units are the rows of `plan.csv`, kept sorted by id (byte order; ties in every split go to
//! the smaller id). For each unit `i` and year `t` (the years of `[projection].years`, in order):
//!
//! - `start` = `filed_start` in the first year, else the previous year's `end`;
//! - `entries` = `new_entry_rate × start`, in whole people: the exact province total
//!   `Σ rate × startᵢ` rounded half up, split by largest remainder of the exact quotas
//!   ([`split::apply_rate`]);
//! - `returns` = `return_rate × (previous year's exits)` (the `prev_exits` column in the first
//!   year, default 0), in whole people by the same rule;
//! - `target` = the unit's `target_<year>` cell when present; otherwise its part of the
//!   province target `[projection].targets` left after the units with their own targets, split
//!   in proportion to `start` (the remaining headcount at the start of the year) by largest
//!   remainder ([`split::split_proportional`]);
//! - `funds` = what the allocation ([`crate::alloc::allocate`]) gives the unit in the last
//!   stage (for a unit above that level, the sum over its descendants), times
//!   `(1 + funds_growth)^(year index)`, rounded down to the scenario's rounding; or, with
//!   `fund_totals`, what the allocation gives it when re-run with that year's total;
//! - `capacity = ⌊funds / cost⌋` where `cost` is `cost_per_exit` or the mix
//!   `Σ share_m × cost_per_person_m` of `[projection.measures]`; no cap without a cost (and for
//!   units the allocation gives nothing when `unfunded = "uncapped"`);
//! - `exits = min(target, start + entries + returns, capacity)`;
//! - `end = start + entries + returns − exits` (never negative);
//! - `incidence = end / rural_pop`;
//! - `eligible_to_exit`: `incidence < threshold` (strict; per-unit `exit_threshold` column, or
//!   the `western` flag, or `[projection].exit_threshold`, default 0.03) and, when the unit has
//!   survey samples, comprehensive incidence `< threshold` and the three indicators pass
//!   ([`gate`]);
//! - `shortfall = target − exits`.
//!
//! Total rows (every unit above the plan's units: cities, the province) are sums of their
//! units' rows, so the identity `end = start + entries + returns − exits` holds on them too;
//! their incidence is `Σ end / Σ rural_pop`.
//!
//! # Monte Carlo ([`mc`])
//! Entries ~ Poisson(`new_entry_rate × start`), returns ~ Binomial(previous exits,
//! `return_rate`), people ready to exit ~ Binomial(`start + entries + returns`,
//! `exit_readiness`), exits = `min(target, ready, capacity)`; targets are re-split each year on
//! the run's own headcounts by the deterministic rule.

pub mod county_exits;
pub mod engine;
pub mod files;
pub mod gate;
pub mod mc;
pub mod split;
pub mod table;
#[cfg(test)]
mod tests;

pub use county_exits::{read_county_exits, CountyExitsRow};
pub use engine::{project, ProjectionResult, YearRow};
pub use files::{reconcile_files, FileFinding, FindingKind};
pub use mc::{monte_carlo, McResult};

use crate::error::{Diagnostic, InputErrors, Location};
use crate::scenario::raw::NumText;
use crate::scenario::{num, Ctx, Scenario};
use crate::table::{Row, Table};
use gate::SurveyGate;
use rust_decimal::prelude::*;
use serde::Deserialize;
use split::Rate;
use std::collections::{BTreeMap, HashMap};
use toml::Spanned;

/// Default exit threshold (poverty incidence) when neither the plan nor `[projection]` gives one.
pub const DEFAULT_EXIT_THRESHOLD: Decimal = Decimal::from_parts(3, 0, 0, false, 2);
/// Default threshold of western units when `plan.csv` has a `western` column.
pub const DEFAULT_WESTERN_THRESHOLD: Decimal = Decimal::from_parts(3, 0, 0, false, 2);
/// Default threshold of other units when `plan.csv` has a `western` column.
pub const DEFAULT_OTHER_THRESHOLD: Decimal = Decimal::from_parts(2, 0, 0, false, 2);
/// Default Monte Carlo seed.
pub const DEFAULT_SEED: u64 = 2018;
/// Most Monte Carlo runs accepted.
pub const MAX_RUNS: u64 = 1_000_000;

/// `[projection]` exactly as written in `scenario.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProjection {
    /// Projection years, strictly increasing (default: the years of the `target_<year>` columns).
    #[serde(default)]
    pub years: Option<Vec<Spanned<i64>>>,
    /// Province-wide exit targets, one per year.
    #[serde(default)]
    pub targets: Option<Spanned<Vec<Spanned<NumText>>>>,
    /// Newly identified people per year as a share of the start headcount (default 0).
    #[serde(default)]
    pub new_entry_rate: Option<Spanned<NumText>>,
    /// Share of the previous year's exits that fall back onto the file (default 0).
    #[serde(default)]
    pub return_rate: Option<Spanned<NumText>>,
    /// Poverty incidence under which a unit may exit (default 0.03).
    #[serde(default)]
    pub exit_threshold: Option<Spanned<NumText>>,
    /// Threshold of units flagged `western = 1` in `plan.csv` (default 0.03).
    #[serde(default)]
    pub western_exit_threshold: Option<Spanned<NumText>>,
    /// Threshold of units flagged `western = 0` in `plan.csv` (default 0.02).
    #[serde(default)]
    pub other_exit_threshold: Option<Spanned<NumText>>,
    /// Money per exit, in the scenario's money unit: caps exits at `⌊funds / cost_per_exit⌋`.
    #[serde(default)]
    pub cost_per_exit: Option<Spanned<NumText>>,
    /// Per-measure cost mix (instead of `cost_per_exit`).
    #[serde(default)]
    pub measures: BTreeMap<String, Spanned<RawMeasure>>,
    /// Yearly growth of each unit's funds (default 0: the same amount every year).
    #[serde(default)]
    pub funds_growth: Option<Spanned<NumText>>,
    /// The amount the root splits in each year (one per year): the allocation is re-run with
    /// each in place of the first stage's `total` (instead of `funds_growth`).
    #[serde(default)]
    pub fund_totals: Option<Spanned<Vec<Spanned<NumText>>>>,
    /// Capacity of units the allocation gives nothing: `zero` (default) or `uncapped`.
    #[serde(default)]
    pub unfunded: Option<Spanned<String>>,
    /// Monte Carlo: probability that a person on file reaches the exit standard within a year
    /// (default 1).
    #[serde(default)]
    pub exit_readiness: Option<Spanned<NumText>>,
    /// Monte Carlo runs when the command line does not say (default 0: none).
    #[serde(default)]
    pub runs: Option<Spanned<i64>>,
    /// Monte Carlo seed when the command line does not say (default 2018).
    #[serde(default)]
    pub seed: Option<Spanned<i64>>,
    /// Free text: where the plan comes from.
    #[serde(default)]
    pub source: Option<String>,
}

/// `[projection.measures.<id>]`: one exit measure (industry, employment, relocation, …).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeasure {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Share of exits through this measure (all measures give shares summing to 1, or all give
    /// `people`).
    #[serde(default)]
    pub share_of_exits: Option<Spanned<NumText>>,
    /// People lifted by this measure in the plan; shares are `people / Σ people`.
    #[serde(default)]
    pub people: Option<Spanned<NumText>>,
    /// Cost per person paid from this fund (missing: 0, not paid from this fund).
    #[serde(default)]
    pub cost_per_person: Option<Spanned<NumText>>,
    /// Households (recorded for reports; not used in the arithmetic).
    #[serde(default)]
    pub households: Option<Spanned<NumText>>,
    /// Maximum per household (recorded for reports; not used in the arithmetic).
    #[serde(default)]
    pub max_per_household: Option<Spanned<NumText>>,
    /// Free text: where the figures come from.
    #[serde(default)]
    pub source: Option<String>,
}

/// What capacity a unit gets when the allocation gives it nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unfunded {
    /// Capacity 0: no money, no exits (default).
    #[default]
    Zero,
    /// Not capped: the unit's exits are paid from elsewhere.
    Uncapped,
}

/// One measure of the cost mix.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// Id (the TOML key).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Share of exits (the shares sum to 1).
    pub share: Decimal,
    /// Cost per person.
    pub cost_per_person: Decimal,
}

/// One row of `plan.csv`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanUnit {
    /// Index in the hierarchy.
    pub unit: usize,
    /// Unit id.
    pub id: String,
    /// Line in `plan.csv`.
    pub line: u64,
    /// Filed poor at the start of the first year.
    pub filed_start: u64,
    /// Rural population (> 0).
    pub rural_pop: u64,
    /// Filed people already exited at the start (`exited_pop`, default 0).
    pub exited_pop: u64,
    /// Exits of the year before the first (`prev_exits`, default 0): the base of the first
    /// year's returns.
    pub prev_exits: u64,
    /// Own target per year (`target_<year>`), `None` where the province target applies.
    pub targets: Vec<Option<u64>>,
    /// Exit threshold.
    pub threshold: Rate,
    /// `⌈threshold × rural_pop⌉`: the unit is under its threshold when `end` is below this.
    pub incidence_limit: u64,
    /// Funds per year from the allocation (after `funds_growth`, or re-run with `fund_totals`).
    pub funds: Vec<Decimal>,
    /// Whether the allocation gives the unit anything.
    pub funded: bool,
    /// Exit capacity per year (`None` = not capped).
    pub capacity: Vec<Option<u64>>,
    /// Survey samples, when `survey.csv` has rows for the unit.
    pub survey: Option<SurveyGate>,
}

/// A total row: a unit above the plan's units, with the plan units it sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// Index in the hierarchy.
    pub unit: usize,
    /// Positions (in [`Projection::units`]) of the plan units below it.
    pub members: Vec<usize>,
}

/// Which rows come out in which order: hierarchy pre-order, children by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowRef {
    /// A plan unit (position in [`Projection::units`]).
    Unit(usize),
    /// A total (position in [`Projection::aggregates`]).
    Total(usize),
}

/// A checked projection: everything the engine needs, no I/O.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Years, strictly increasing.
    pub years: Vec<i64>,
    /// Plan units sorted by id (byte order).
    pub units: Vec<PlanUnit>,
    /// Total rows.
    pub aggregates: Vec<Aggregate>,
    /// Output order.
    pub order: Vec<RowRef>,
    /// Province-wide target per year (`None`: units give their own).
    pub province_targets: Vec<Option<u64>>,
    /// Per year: what the province target leaves for the units without their own target.
    pub residual_targets: Vec<Option<u64>>,
    /// Per year: positions of the units that share the residual target.
    pub sharing: Vec<Vec<usize>>,
    /// New entries per start headcount.
    pub new_entry_rate: Rate,
    /// Returns per previous exit.
    pub return_rate: Rate,
    /// Monte Carlo: probability of reaching the exit standard within a year.
    pub exit_readiness: Rate,
    /// Money per exit (`cost_per_exit` or the measure mix), `None` = exits not capped by funds.
    pub cost_per_exit: Option<Decimal>,
    /// The measure mix, if given.
    pub measures: Vec<Measure>,
    /// What happens to units without funds.
    pub unfunded: Unfunded,
    /// Monte Carlo runs from the scenario (0 = none).
    pub runs: u64,
    /// Monte Carlo seed from the scenario.
    pub seed: u64,
    /// Whether `survey.csv` was present.
    pub survey_present: bool,
    /// Notes for the user (warnings that are not errors).
    pub notes: Vec<Diagnostic>,
}

impl Projection {
    /// Number of years.
    pub fn n_years(&self) -> usize {
        self.years.len()
    }
}

/// Reads a whole non-negative number of people from a cell; `Ok(None)` for an empty cell.
fn count_cell(t: &Table, row: &Row, c: usize, warnings: &mut Vec<Diagnostic>) -> Result<Option<u64>, Diagnostic> {
    let v = t.number(row, c, warnings)?;
    let Some(d) = v else { return Ok(None) };
    if d < Decimal::ZERO {
        return Err(Diagnostic::new(t.loc(row, c), format!("negative headcount {d}: must be 0 or more")));
    }
    if !d.fract().is_zero() {
        return Err(Diagnostic::new(t.loc(row, c), format!("{d} is not a whole number of people")));
    }
    d.to_u64()
        .map(Some)
        .ok_or_else(|| Diagnostic::new(t.loc(row, c), format!("{d} is too large")))
}

/// A rate from TOML in `[0, 1]` (or `(0, 1]` when `positive`), reported when out of range.
fn rate_key(v: &Option<Spanned<NumText>>, default: Decimal, positive: bool, ctx: &Ctx<'_>, key: &str, errs: &mut InputErrors) -> Rate {
    let Some(v) = v else {
        return Rate::new(default).unwrap_or_else(Rate::zero);
    };
    let Some(d) = num(v, ctx, key, errs) else {
        return Rate::new(default).unwrap_or_else(Rate::zero);
    };
    match Rate::new(d) {
        Some(r) if !(positive && r.is_zero()) => r,
        _ => {
            let range = if positive { "(0, 1]" } else { "[0, 1]" };
            errs.push(
                ctx.loc(v.span().start, key),
                format!("must be in {range} with at most {} decimal places, got {d}", split::MAX_RATE_PLACES),
            );
            Rate::new(default).unwrap_or_else(Rate::zero)
        }
    }
}

/// A whole non-negative number from TOML.
fn count_key(v: &Spanned<NumText>, ctx: &Ctx<'_>, key: &str, errs: &mut InputErrors) -> Option<u64> {
    let d = num(v, ctx, key, errs)?;
    if d < Decimal::ZERO || !d.fract().is_zero() {
        errs.push(
            ctx.loc(v.span().start, key),
            format!("must be a whole number of people ≥ 0, got {d}"),
        );
        return None;
    }
    let r = d.to_u64();
    if r.is_none() {
        errs.push(ctx.loc(v.span().start, key), format!("{d} is too large"));
    }
    r
}

/// Targets as read: per element the value and its TOML offset; then the array's offset.
type RawTargets = (Vec<Option<(u64, usize)>>, usize);

struct Settings {
    years: Option<Vec<(i64, usize)>>,
    targets: Option<RawTargets>,
    new_entry_rate: Rate,
    return_rate: Rate,
    exit_threshold: Rate,
    western: Rate,
    other: Rate,
    cost_per_exit: Option<Decimal>,
    measures: Vec<Measure>,
    funds_growth: Decimal,
    fund_totals: Option<(Vec<Decimal>, usize)>,
    unfunded: Unfunded,
    exit_readiness: Rate,
    runs: u64,
    seed: u64,
    span: usize,
}

fn settings(raw: Option<&Spanned<RawProjection>>, ctx: &Ctx<'_>, errs: &mut InputErrors, notes: &mut Vec<Diagnostic>) -> Settings {
    let default_raw;
    let (p, span) = match raw {
        Some(r) => (r.get_ref(), r.span().start),
        None => {
            default_raw = RawProjection {
                years: None,
                targets: None,
                new_entry_rate: None,
                return_rate: None,
                exit_threshold: None,
                western_exit_threshold: None,
                other_exit_threshold: None,
                cost_per_exit: None,
                measures: BTreeMap::new(),
                funds_growth: None,
                fund_totals: None,
                unfunded: None,
                exit_readiness: None,
                runs: None,
                seed: None,
                source: None,
            };
            (&default_raw, 0)
        }
    };
    let years = p.years.as_ref().map(|ys| {
        let mut out: Vec<(i64, usize)> = Vec::new();
        for y in ys {
            let v = *y.get_ref();
            if let Some((prev, _)) = out.last() {
                if v <= *prev {
                    errs.push(
                        ctx.loc(y.span().start, "projection.years"),
                        format!("years out of order: {v} comes after {prev} (years must increase)"),
                    );
                    continue;
                }
            }
            if !(1..=9999).contains(&v) {
                errs.push(ctx.loc(y.span().start, "projection.years"), format!("{v} is not a year"));
                continue;
            }
            out.push((v, y.span().start));
        }
        if ys.is_empty() {
            errs.push(ctx.loc(span, "projection.years"), "years is empty: list at least one year");
        }
        out
    });
    let targets = p.targets.as_ref().map(|ts| {
        let v: Vec<Option<(u64, usize)>> = ts
            .get_ref()
            .iter()
            .map(|t| count_key(t, ctx, "projection.targets", errs).map(|n| (n, t.span().start)))
            .collect();
        (v, ts.span().start)
    });
    let new_entry_rate = rate_key(&p.new_entry_rate, Decimal::ZERO, false, ctx, "projection.new_entry_rate", errs);
    let return_rate = rate_key(&p.return_rate, Decimal::ZERO, false, ctx, "projection.return_rate", errs);
    let exit_threshold = rate_key(
        &p.exit_threshold,
        DEFAULT_EXIT_THRESHOLD,
        true,
        ctx,
        "projection.exit_threshold",
        errs,
    );
    let western = rate_key(
        &p.western_exit_threshold,
        DEFAULT_WESTERN_THRESHOLD,
        true,
        ctx,
        "projection.western_exit_threshold",
        errs,
    );
    let other = rate_key(
        &p.other_exit_threshold,
        DEFAULT_OTHER_THRESHOLD,
        true,
        ctx,
        "projection.other_exit_threshold",
        errs,
    );
    let exit_readiness = rate_key(&p.exit_readiness, Decimal::ONE, true, ctx, "projection.exit_readiness", errs);
    let money = |v: &Spanned<NumText>, key: &str, errs: &mut InputErrors| -> Option<Decimal> {
        let d = num(v, ctx, key, errs)?;
        if d < Decimal::ZERO {
            errs.push(ctx.loc(v.span().start, key), format!("must not be negative, got {d}"));
            return None;
        }
        Some(d)
    };
    let mut cost_per_exit = p.cost_per_exit.as_ref().and_then(|c| {
        let d = money(c, "projection.cost_per_exit", errs)?;
        if d.is_zero() {
            errs.push(
                ctx.loc(c.span().start, "projection.cost_per_exit"),
                "cost_per_exit must be positive (leave it out for no funding cap)",
            );
            return None;
        }
        Some(d)
    });
    let mut measures = Vec::new();
    if !p.measures.is_empty() {
        if let Some(c) = &p.cost_per_exit {
            errs.push(
                ctx.loc(c.span().start, "projection.cost_per_exit"),
                "give either cost_per_exit or [projection.measures], not both",
            );
        }
        let with_share = p.measures.values().filter(|m| m.get_ref().share_of_exits.is_some()).count();
        let with_people = p.measures.values().filter(|m| m.get_ref().people.is_some()).count();
        let n = p.measures.len();
        let by_people = with_people == n && with_share == 0;
        if !(by_people || (with_share == n && with_people == 0)) {
            errs.push(
                ctx.loc(span, "projection.measures"),
                "every measure needs `share_of_exits`, or every measure needs `people` (not a mix)",
            );
        }
        let mut weights = Vec::new();
        for (id, m) in &p.measures {
            let key = format!("projection.measures.{id}");
            let mr = m.get_ref();
            let w = if by_people {
                mr.people
                    .as_ref()
                    .and_then(|v| count_key(v, ctx, &format!("{key}.people"), errs))
                    .map(Decimal::from)
            } else {
                mr.share_of_exits
                    .as_ref()
                    .and_then(|v| money(v, &format!("{key}.share_of_exits"), errs))
            };
            let cost = match &mr.cost_per_person {
                Some(c) => money(c, &format!("{key}.cost_per_person"), errs).unwrap_or_default(),
                None => {
                    notes.push(Diagnostic::new(
                        ctx.loc(m.span().start, &format!("{key}.cost_per_person")),
                        format!("measure `{id}` has no cost_per_person: counted as 0 (not paid from this fund)"),
                    ));
                    Decimal::ZERO
                }
            };
            for (v, f) in [(&mr.households, "households"), (&mr.max_per_household, "max_per_household")] {
                if let Some(v) = v {
                    let _ = money(v, &format!("{key}.{f}"), errs);
                }
            }
            weights.push(w.unwrap_or_default());
            measures.push(Measure {
                id: id.clone(),
                name: mr.name.clone().unwrap_or_else(|| id.clone()),
                share: Decimal::ZERO,
                cost_per_person: cost,
            });
        }
        let total: Decimal = weights.iter().fold(Decimal::ZERO, |a, w| a.checked_add(*w).unwrap_or(a));
        if total <= Decimal::ZERO {
            errs.push(ctx.loc(span, "projection.measures"), "the measures' shares (or people) sum to 0");
        } else if !by_people && (total - Decimal::ONE).abs() > Decimal::new(1, 9) {
            errs.push(
                ctx.loc(span, "projection.measures"),
                format!("the measures' share_of_exits sum to {total}, not 1"),
            );
        } else {
            let mut cost = Decimal::ZERO;
            for (m, w) in measures.iter_mut().zip(&weights) {
                m.share = w.checked_div(total).unwrap_or_default();
                cost = m
                    .share
                    .checked_mul(m.cost_per_person)
                    .and_then(|x| cost.checked_add(x))
                    .unwrap_or(cost);
            }
            // a mix that costs nothing caps nothing
            cost_per_exit = (cost > Decimal::ZERO).then_some(cost);
        }
    }
    let funds_growth = p
        .funds_growth
        .as_ref()
        .and_then(|g| {
            let d = num(g, ctx, "projection.funds_growth", errs)?;
            if d <= -Decimal::ONE || d > Decimal::TEN {
                errs.push(
                    ctx.loc(g.span().start, "projection.funds_growth"),
                    format!("funds_growth must be in (-1, 10], got {d}"),
                );
                return None;
            }
            Some(d)
        })
        .unwrap_or_default();
    let fund_totals = p.fund_totals.as_ref().map(|ts| {
        if let Some(g) = &p.funds_growth {
            errs.push(
                ctx.loc(g.span().start, "projection.funds_growth"),
                "give either funds_growth or fund_totals, not both",
            );
        }
        let v: Vec<Decimal> = ts
            .get_ref()
            .iter()
            .map(|t| match num(t, ctx, "projection.fund_totals", errs) {
                Some(d) if d > Decimal::ZERO => d,
                Some(d) => {
                    errs.push(
                        ctx.loc(t.span().start, "projection.fund_totals"),
                        format!("a yearly total must be positive, got {d}"),
                    );
                    Decimal::ONE
                }
                None => Decimal::ONE,
            })
            .collect();
        (v, ts.span().start)
    });
    let unfunded = match p.unfunded.as_ref().map(|u| (u.get_ref().trim(), u.span().start)) {
        None | Some(("zero", _)) => Unfunded::Zero,
        Some(("uncapped", _)) => Unfunded::Uncapped,
        Some((other, at)) => {
            errs.push(
                ctx.loc(at, "projection.unfunded"),
                format!("unknown value `{other}` (zero, uncapped)"),
            );
            Unfunded::Zero
        }
    };
    let runs = match &p.runs {
        None => 0,
        Some(r) => match u64::try_from(*r.get_ref()) {
            Ok(n) if n <= MAX_RUNS => n,
            _ => {
                errs.push(
                    ctx.loc(r.span().start, "projection.runs"),
                    format!("runs must be in 0..={MAX_RUNS}, got {}", r.get_ref()),
                );
                0
            }
        },
    };
    let seed = match &p.seed {
        None => DEFAULT_SEED,
        Some(s) => u64::try_from(*s.get_ref()).unwrap_or_else(|_| {
            errs.push(ctx.loc(s.span().start, "projection.seed"), "seed must be 0 or more");
            DEFAULT_SEED
        }),
    };
    Settings {
        years,
        targets,
        new_entry_rate,
        return_rate,
        exit_threshold,
        western,
        other,
        cost_per_exit,
        measures,
        funds_growth,
        fund_totals,
        unfunded,
        exit_readiness,
        runs,
        seed,
        span,
    }
}

/// Parses `survey.csv` (`unit_id,indicator,sampled,flagged`) into the samples per unit.
/// Every bad cell is reported; unknown indicators are left to the score module.
pub fn survey_samples(
    t: &Table,
    h: &crate::model::Hierarchy,
    warnings: &mut Vec<Diagnostic>,
) -> Result<HashMap<usize, SurveyGate>, InputErrors> {
    let mut errs = InputErrors::default();
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
    let (Some(Some(c_id)), Some(Some(c_ind)), Some(Some(c_n)), Some(Some(c_k))) = (cols.first(), cols.get(1), cols.get(2), cols.get(3))
    else {
        return Err(errs);
    };
    let mut out: HashMap<usize, SurveyGate> = HashMap::new();
    let mut seen: HashMap<(usize, String), u64> = HashMap::new();
    for row in &t.rows {
        let id = t.cell(row, *c_id);
        let Some(u) = h.find(id) else {
            errs.push(t.loc(row, *c_id), format!("unit `{id}` is not in the units file"));
            continue;
        };
        let ind = t.cell(row, *c_ind).to_string();
        let mut cell = |c: usize, errs: &mut InputErrors| match count_cell(t, row, c, warnings) {
            Ok(Some(v)) => Some(v),
            Ok(None) => {
                errs.push(t.loc(row, c), "empty: a count is needed");
                None
            }
            Err(d) => {
                errs.0.push(d);
                None
            }
        };
        let n = cell(*c_n, &mut errs);
        let k = cell(*c_k, &mut errs);
        let (Some(n), Some(k)) = (n, k) else { continue };
        if n == 0 {
            errs.push(t.loc(row, *c_n), "sampled must be at least 1");
            continue;
        }
        if k > n {
            errs.push(t.loc(row, *c_k), format!("flagged {k} is more than sampled {n}"));
            continue;
        }
        if let Some(prev) = seen.insert((u, ind.clone()), row.line) {
            errs.push(
                t.loc(row, *c_ind),
                format!("unit `{id}` has indicator `{ind}` twice (first on line {prev})"),
            );
            continue;
        }
        let g = out.entry(u).or_default();
        match ind.as_str() {
            "missed_assessment" => g.missed = Some((k, n)),
            "wrong_exit" => g.wrong_exit = Some((k, n)),
            "satisfaction" => g.satisfaction = Some((k, n)),
            _ => {}
        }
    }
    errs.into_result(out)
}

/// Target column: `target_<year>`.
fn target_year(header: &str) -> Option<Result<i64, ()>> {
    let rest = header.strip_prefix("target_")?;
    Some(
        rest.parse::<i64>()
            .map_err(|_| ())
            .and_then(|y| if (1..=9999).contains(&y) { Ok(y) } else { Err(()) }),
    )
}

/// Funds of each hierarchy unit from the last stage of the allocation: what it received, or
/// for a unit above the last stage's level the sum over its descendants. `(amount, funded)`,
/// where `funded` means a positive amount.
fn funds_by_unit(s: &Scenario, alloc: &crate::alloc::Allocation) -> Vec<(Decimal, bool)> {
    let h = &s.hierarchy;
    let last = alloc.final_amounts();
    let mut out = vec![(Decimal::ZERO, false); h.len()];
    for (u, amt) in last.iter().enumerate() {
        let Some(a) = amt.filter(|a| *a > Decimal::ZERO) else { continue };
        // add to the unit and every ancestor
        let mut cur = Some(u);
        let mut steps = 0;
        while let Some(c) = cur {
            if let Some(slot) = out.get_mut(c) {
                slot.0 = slot.0.checked_add(a).unwrap_or(slot.0);
                slot.1 = true;
            }
            steps += 1;
            if steps > h.len() {
                break;
            }
            cur = h.unit(c).and_then(|x| x.parent);
        }
    }
    out
}

/// Checks `plan.csv`, `[projection]`, `survey.csv` and the allocation and builds the
/// [`Projection`]. Every problem is reported with its file, line and field.
pub fn prepare(s: &Scenario) -> Result<Projection, InputErrors> {
    let ctx = Ctx {
        file: &s.toml_file,
        text: &s.toml_text,
    };
    let h = &s.hierarchy;
    let mut errs = InputErrors::default();
    let mut notes = Vec::new();
    let raw = s.raw.projection.as_ref();
    let st = settings(raw, &ctx, &mut errs, &mut notes);
    let Some(t) = s.tables.get("plan") else {
        errs.push(
            Location::at(
                &s.toml_file,
                raw.map(|r| crate::scenario::line_at(&s.toml_text, r.span().start)),
                "data.plan",
            ),
            "the projection needs a plan file (plan.csv: unit_id,filed_start,rural_pop[,target_<year>…])",
        );
        return Err(errs);
    };
    let mut warnings = Vec::new();
    let mut req = |name: &str| match t.require(name) {
        Ok(c) => Some(c),
        Err(d) => {
            errs.0.push(d);
            None
        }
    };
    let c_id = req("unit_id");
    let c_start = req("filed_start");
    let c_rural = req("rural_pop");
    let (Some(c_id), Some(c_start), Some(c_rural)) = (c_id, c_start, c_rural) else {
        return Err(errs);
    };
    let c_thr = t.col("exit_threshold");
    let c_west = t.col("western");
    let c_exited = t.col("exited_pop");
    let c_prev = t.col("prev_exits");
    // target_<year> columns, in header order
    let mut tcols: Vec<(i64, usize)> = Vec::new();
    for (c, name) in t.headers.iter().enumerate() {
        match target_year(name) {
            None => {}
            Some(Err(())) => notes.push(Diagnostic::new(
                Location::at(&t.file, Some(1), name.clone()),
                "column starts with `target_` but is not target_<year>: ignored",
            )),
            Some(Ok(y)) => {
                if let Some((prev, _)) = tcols.last() {
                    if y <= *prev {
                        errs.push(
                            Location::at(&t.file, Some(1), name.clone()),
                            format!("years out of order: target_{y} comes after target_{prev} (columns must increase by year)"),
                        );
                        continue;
                    }
                }
                tcols.push((y, c));
            }
        }
    }
    let years: Vec<i64> = match &st.years {
        Some(ys) => ys.iter().map(|(y, _)| *y).collect(),
        None => tcols.iter().map(|(y, _)| *y).collect(),
    };
    if years.is_empty() && st.years.is_none() {
        errs.push(
            Location::at(
                &s.toml_file,
                Some(crate::scenario::line_at(&s.toml_text, st.span)),
                "projection.years",
            ),
            "no projection years: give [projection].years or target_<year> columns in the plan",
        );
    }
    for (y, c) in &tcols {
        if !years.contains(y) {
            errs.push(
                Location::at(&t.file, Some(1), t.headers.get(*c).cloned().unwrap_or_default()),
                format!(
                    "{y} is not a projection year ([projection].years = {})",
                    years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    let year_pos = |y: i64| years.iter().position(|x| *x == y);
    // province targets
    let mut province_targets: Vec<Option<u64>> = vec![None; years.len()];
    let mut target_spans: Vec<usize> = vec![st.span; years.len()];
    if let Some((ts, span)) = &st.targets {
        if ts.len() != years.len() {
            errs.push(
                ctx.loc(*span, "projection.targets"),
                format!("{} targets for {} years: give one target per year", ts.len(), years.len()),
            );
        }
        for (k, tv) in ts.iter().enumerate().take(years.len()) {
            if let (Some(slot), Some((v, at))) = (province_targets.get_mut(k), tv) {
                *slot = Some(*v);
                if let Some(sp) = target_spans.get_mut(k) {
                    *sp = *at;
                }
            }
        }
    }
    if let Some((ts, span)) = &st.fund_totals {
        if ts.len() != years.len() {
            errs.push(
                ctx.loc(*span, "projection.fund_totals"),
                format!("{} fund totals for {} years: give one per year", ts.len(), years.len()),
            );
        }
    }
    // rows
    let mut units: Vec<PlanUnit> = Vec::new();
    let mut seen: HashMap<usize, u64> = HashMap::new();
    let thr_default = st.exit_threshold;
    for row in &t.rows {
        let id = t.cell(row, c_id).to_string();
        let unit = match h.find(&id) {
            Some(u) => Some(u),
            None if id.is_empty() => {
                errs.push(t.loc(row, c_id), "unit_id is empty");
                None
            }
            None => {
                errs.push(t.loc(row, c_id), format!("unit `{id}` is not in the units file"));
                None
            }
        };
        if let Some(u) = unit {
            if let Some(prev) = seen.insert(u, row.line) {
                errs.push(t.loc(row, c_id), format!("unit `{id}` appears twice (first on line {prev})"));
            }
        }
        let mut get = |c: usize, required: bool, errs: &mut InputErrors| -> Option<u64> {
            match count_cell(t, row, c, &mut warnings) {
                Ok(Some(v)) => Some(v),
                Ok(None) if required => {
                    errs.push(t.loc(row, c), "empty: a headcount is needed");
                    None
                }
                Ok(None) => Some(0),
                Err(d) => {
                    errs.0.push(d);
                    None
                }
            }
        };
        let filed_start = get(c_start, true, &mut errs);
        let rural_pop = get(c_rural, true, &mut errs);
        let exited_pop = c_exited.map(|c| get(c, false, &mut errs)).unwrap_or(Some(0));
        let prev_exits = c_prev.map(|c| get(c, false, &mut errs)).unwrap_or(Some(0));
        if rural_pop == Some(0) {
            errs.push(
                t.loc(row, c_rural),
                "rural population must be positive (incidence = filed / rural_pop)",
            );
        }
        if let (Some(f), Some(e), Some(r)) = (filed_start, exited_pop, rural_pop) {
            if r > 0 && f.saturating_add(e) > r {
                errs.push(
                    t.loc(row, c_rural),
                    format!("rural population {r} is smaller than the filed population (filed_start {f} + exited_pop {e})"),
                );
            }
        }
        let mut targets = vec![None; years.len()];
        for (y, c) in &tcols {
            let Some(k) = year_pos(*y) else { continue };
            match count_cell(t, row, *c, &mut warnings) {
                Ok(Some(v)) => {
                    if let Some(f) = filed_start {
                        if v > f {
                            errs.push(
                                t.loc(row, *c),
                                format!("target {v} is larger than the headcount on file (filed_start = {f})"),
                            );
                        }
                    }
                    if let Some(slot) = targets.get_mut(k) {
                        *slot = Some(v);
                    }
                }
                Ok(None) => {}
                Err(d) => errs.0.push(d),
            }
        }
        let mut threshold = thr_default;
        let mut own_thr = false;
        if let Some(c) = c_thr {
            match t.number(row, c, &mut warnings) {
                Ok(Some(d)) => match Rate::new(d) {
                    Some(r) if !r.is_zero() => {
                        threshold = r;
                        own_thr = true;
                    }
                    _ => errs.push(t.loc(row, c), format!("exit threshold must be in (0, 1], got {d}")),
                },
                Ok(None) => {}
                Err(d) => errs.0.push(d),
            }
        }
        if let (Some(c), false) = (c_west, own_thr) {
            match t.number(row, c, &mut warnings) {
                Ok(Some(d)) if d == Decimal::ONE => threshold = st.western,
                Ok(Some(d)) if d.is_zero() => threshold = st.other,
                Ok(Some(d)) => errs.push(t.loc(row, c), format!("western is a flag: 0 or 1, got {d}")),
                Ok(None) => {}
                Err(d) => errs.0.push(d),
            }
        }
        if let (Some(unit), Some(filed_start), Some(rural_pop), Some(exited_pop), Some(prev_exits)) =
            (unit, filed_start, rural_pop, exited_pop, prev_exits)
        {
            units.push(PlanUnit {
                unit,
                id,
                line: row.line,
                filed_start,
                rural_pop,
                exited_pop,
                prev_exits,
                targets,
                threshold,
                incidence_limit: threshold.ceil_times(rural_pop).unwrap_or(0),
                funds: Vec::new(),
                funded: false,
                capacity: Vec::new(),
                survey: None,
            });
        }
    }
    // cells read with a normalisation (full-width digits…) were named when the scenario was
    // loaded (`Scenario::warnings`); naming them again here would print them twice
    drop(warnings);
    if t.rows.is_empty() {
        errs.push(Location::file(&t.file), "the plan has no rows");
    }
    units.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    // no plan unit inside another
    let pos_of: HashMap<usize, usize> = units.iter().enumerate().map(|(i, u)| (u.unit, i)).collect();
    let mut aggregates: Vec<Aggregate> = Vec::new();
    let mut agg_of: HashMap<usize, usize> = HashMap::new();
    for (i, pu) in units.iter().enumerate() {
        let mut cur = h.unit(pu.unit).and_then(|u| u.parent);
        let mut steps = 0;
        while let Some(a) = cur {
            if let Some(&j) = pos_of.get(&a) {
                let other = units.get(j);
                errs.push(
                    Location::at(&t.file, Some(pu.line), "unit_id"),
                    format!(
                        "unit `{}` is inside `{}`, which is also in the plan (line {}): list the units or their parent, not both",
                        pu.id,
                        other.map(|o| o.id.as_str()).unwrap_or(""),
                        other.map(|o| o.line).unwrap_or(0)
                    ),
                );
            } else {
                let k = *agg_of.entry(a).or_insert_with(|| {
                    aggregates.push(Aggregate {
                        unit: a,
                        members: Vec::new(),
                    });
                    aggregates.len() - 1
                });
                if let Some(ag) = aggregates.get_mut(k) {
                    ag.members.push(i);
                }
            }
            steps += 1;
            if steps > h.len() {
                break;
            }
            cur = h.unit(a).and_then(|u| u.parent);
        }
    }
    // targets: residual of the province target for the units without their own
    let mut residual_targets = vec![None; years.len()];
    let mut sharing: Vec<Vec<usize>> = vec![Vec::new(); years.len()];
    for (k, y) in years.iter().enumerate() {
        let share_list: Vec<usize> = units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.targets.get(k).copied().flatten().is_none())
            .map(|(i, _)| i)
            .collect();
        let own: u64 = units.iter().filter_map(|u| u.targets.get(k).copied().flatten()).sum();
        let tloc = ctx.loc(target_spans.get(k).copied().unwrap_or(st.span), "projection.targets");
        match province_targets.get(k).copied().flatten() {
            None => {
                if let Some(first) = share_list.first().and_then(|&i| units.get(i)) {
                    let cols = tcols.iter().find(|(ty, _)| ty == y).map(|(_, c)| *c);
                    errs.push(
                        Location::at(
                            &t.file,
                            Some(first.line),
                            cols.and_then(|c| t.headers.get(c).cloned()).unwrap_or_else(|| format!("target_{y}")),
                        ),
                        format!(
                            "no target for {y}: {} unit(s) have no target_{y} (first: `{}`) and [projection].targets gives no province target",
                            share_list.len(),
                            first.id
                        ),
                    );
                }
            }
            Some(total) => match total.checked_sub(own) {
                None => errs.push(
                    tloc,
                    format!("the province target for {y} ({total}) is smaller than the units' own target_{y} ({own})"),
                ),
                Some(r) if r > 0 && share_list.is_empty() => errs.push(
                    tloc,
                    format!("the province target for {y} ({total}) leaves {r} for no one: every unit has its own target_{y} (sum {own})"),
                ),
                Some(r) => {
                    if k == 0 {
                        let heads: u64 = share_list.iter().filter_map(|&i| units.get(i)).map(|u| u.filed_start).sum();
                        if r > heads {
                            errs.push(
                                tloc,
                                format!(
                                    "target larger than the headcount: the province target for {y} leaves {r} to split among units with {heads} on file"
                                ),
                            );
                        }
                    }
                    if let Some(slot) = residual_targets.get_mut(k) {
                        *slot = Some(r);
                    }
                    if let Some(slot) = sharing.get_mut(k) {
                        *slot = share_list;
                    }
                }
            },
        }
    }
    // survey
    let survey_present = s.tables.contains_key("survey");
    if let Some(sv) = s.tables.get("survey") {
        let mut w = Vec::new();
        let cfg = crate::score::bind::indicator_config(s, &mut errs);
        match survey_samples(sv, h, &mut w) {
            Ok(map) => {
                use crate::score::indicator::{Gate, Indicator};
                for u in units.iter_mut() {
                    u.survey = map.get(&u.unit).copied().map(|mut g| {
                        let rule = |i: Indicator| cfg.rule_for(&u.id, Gate::Indicator(i));
                        g.rules = Some([
                            rule(Indicator::MissedAssessment),
                            rule(Indicator::WrongExit),
                            rule(Indicator::Satisfaction),
                        ]);
                        g
                    });
                }
            }
            Err(e) => errs.extend(e),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    // funds from the allocation: the scenario's own, grown by funds_growth, or re-run with
    // each year's total
    let overflow = |what: &str| {
        InputErrors::one(
            Location::at(&s.toml_file, None, "projection"),
            format!("arithmetic overflow computing {what}"),
        )
    };
    let base = funds_by_unit(s, &crate::alloc::allocate(s)?);
    let mut yearly: Vec<Vec<(Decimal, bool)>> = Vec::with_capacity(years.len());
    match &st.fund_totals {
        Some((totals, _)) => {
            let mut s2 = s.clone();
            let mut last: Option<(Decimal, usize)> = None;
            for &t in totals {
                match last {
                    Some((lt, k)) if lt == t => {
                        let copy = yearly.get(k).cloned().unwrap_or_default();
                        yearly.push(copy);
                    }
                    _ => {
                        if let Some(st1) = s2.stages.get_mut(0) {
                            st1.total = Some(t);
                        }
                        yearly.push(funds_by_unit(&s2, &crate::alloc::allocate(&s2)?));
                        last = Some((t, yearly.len() - 1));
                    }
                }
            }
        }
        None => {
            let growth = Decimal::ONE.checked_add(st.funds_growth).unwrap_or(Decimal::ONE);
            let mut factor = Decimal::ONE;
            for k in 0..years.len() {
                if k > 0 {
                    factor = factor.checked_mul(growth).ok_or_else(|| overflow("funds_growth"))?;
                }
                let mut v = Vec::with_capacity(base.len());
                for &(f, funded) in &base {
                    let f = f.checked_mul(factor).ok_or_else(|| overflow("funds"))?;
                    let f = crate::money::floor_to_multiple(f, s.rounding).map_err(|_| overflow("funds"))?;
                    v.push((f, funded));
                }
                yearly.push(v);
            }
        }
    }
    for funds in &yearly {
        for u in units.iter_mut() {
            let (f, funded) = funds.get(u.unit).copied().unwrap_or((Decimal::ZERO, false));
            u.funded |= funded;
            let cap = match st.cost_per_exit {
                None => None,
                Some(_) if !funded && st.unfunded == Unfunded::Uncapped => None,
                Some(c) => {
                    let q = f.checked_div(c).ok_or_else(|| overflow("capacity"))?.floor();
                    Some(q.to_u64().unwrap_or(u64::MAX))
                }
            };
            u.funds.push(f);
            u.capacity.push(cap);
        }
    }
    // output order: hierarchy pre-order, children by id
    let mut order = Vec::new();
    let mut stack = vec![h.root()];
    let mut steps = 0;
    while let Some(x) = stack.pop() {
        steps += 1;
        if steps > h.len() + 1 {
            break;
        }
        if let Some(&i) = pos_of.get(&x) {
            order.push(RowRef::Unit(i));
            continue;
        }
        if let Some(&j) = agg_of.get(&x) {
            order.push(RowRef::Total(j));
            stack.extend(h.children(x).iter().rev().copied());
        }
    }
    Ok(Projection {
        years,
        units,
        aggregates,
        order,
        province_targets,
        residual_targets,
        sharing,
        new_entry_rate: st.new_entry_rate,
        return_rate: st.return_rate,
        exit_readiness: st.exit_readiness,
        cost_per_exit: st.cost_per_exit,
        measures: st.measures,
        unfunded: st.unfunded,
        runs: st.runs,
        seed: st.seed,
        survey_present,
        notes,
    })
}
