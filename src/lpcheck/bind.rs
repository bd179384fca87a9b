//! Binding the LP engine to a loaded scenario: which pool to check, the `[[check]]` rules
//! written in `scenario.toml`, the actual distribution in `actual.csv`, and the result tables
//! of SPEC §6 (`weight_check.csv`, `weight_ranges.csv`, `inferred_weights.csv`,
//! `residuals.csv`).
//!
//! Shares are handed to the LP as `f64` (SPEC §6): the LP answers questions about weights, and
//! 15 significant digits are far finer than any tolerance it is asked to meet.

use super::{
    adjusted_actual_shares, check_weights, infer_weights, CheckData, CheckOptions, Dominance, Group, InferInput, InferOptions, Inference,
    LpError, NamedCheck, PoolShares, Rule, WeightCheck, DEFAULT_MAX_PAIRS,
};
use crate::alloc::{Allocation, PoolSplit};
use crate::error::{Diagnostic, InputErrors, Location};
use crate::output::{f, OutTable};

/// An LP weight for output: rounded to 7 decimals, so interior-point noise (0.29999998)
/// does not show; well inside the 1e-6 the inference promises.
fn w7(x: f64) -> String {
    f((x * 1e7).round() / 1e7)
}
use crate::scenario::{line_at, num_or_text, raw::NumText, Pool, Scenario};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;
use toml::Spanned;

/// A `[[check]]` entry of `scenario.toml`.
///
/// ```toml
/// [[check]]
/// name = "deep_poverty_premium"     # the name reports and conflict sets print
/// kind = "group_per_capita"         # weight_bounds | group_per_capita | group_growth | group_min_share | need_monotone
/// pool = "base"                     # optional: only when checking this pool (and `stage`)
/// group = "deep_poverty"            # flag column of factors.csv
/// population = "poor_pop"           # per-capita column (default: [scenario] population)
/// min_ratio = "1.03"
/// rule = "深度贫困县补助系数高于平均水平3个百分点"   # the policy text, for reports
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// Name.
    pub name: Spanned<String>,
    /// Rule kind.
    pub kind: Spanned<String>,
    /// Only for this stage (1-based).
    #[serde(default)]
    pub stage: Option<usize>,
    /// Only for this pool id.
    #[serde(default)]
    pub pool: Option<String>,
    /// The policy text the rule encodes.
    #[serde(default)]
    pub rule: Option<String>,
    /// weight_bounds: factor column.
    #[serde(default)]
    pub factor: Option<Spanned<String>>,
    /// weight_bounds: lower bound.
    #[serde(default)]
    pub min: Option<Spanned<NumText>>,
    /// weight_bounds: upper bound.
    #[serde(default)]
    pub max: Option<Spanned<NumText>>,
    /// Group flag column.
    #[serde(default)]
    pub group: Option<Spanned<String>>,
    /// Population column for per-capita rules.
    #[serde(default)]
    pub population: Option<Spanned<String>>,
    /// group_per_capita: minimum ratio to the average.
    #[serde(default)]
    pub min_ratio: Option<Spanned<NumText>>,
    /// group_growth: last year's amounts column.
    #[serde(default)]
    pub last_year: Option<Spanned<String>>,
    /// group_growth: multiple of the average growth (default 1).
    #[serde(default)]
    pub ratio: Option<Spanned<NumText>>,
    /// group_growth: additive margin (default 0).
    #[serde(default)]
    pub margin: Option<Spanned<NumText>>,
    /// group_min_share: minimum share of the pool.
    #[serde(default)]
    pub min_share: Option<Spanned<NumText>>,
    /// need_monotone: `share` (default) or `share_per_capita`.
    #[serde(default)]
    pub dominance: Option<Spanned<String>>,
    /// need_monotone: cap on pair constraints.
    #[serde(default)]
    pub max_pairs: Option<usize>,
}

/// The pool the LP commands look at.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// 1-based stage.
    pub stage: usize,
    /// The pool's configuration.
    pub pool: &'a Pool,
    /// Index of the pool in its stage.
    pub pool_index: usize,
    /// Every split of that pool (one per allocating unit), ascending by allocating unit id.
    pub splits: Vec<&'a PoolSplit>,
}

/// Chooses the pool: `--stage N --pool ID`, by default the first pool of the last stage.
pub fn select<'a>(s: &'a Scenario, a: &'a Allocation, stage: Option<usize>, pool: Option<&str>) -> Result<Selection<'a>, InputErrors> {
    let stage = stage.unwrap_or(s.stages.len());
    let st = s.stages.get(stage.wrapping_sub(1)).ok_or_else(|| {
        InputErrors::one(
            Location::at("command line", None, "--stage"),
            format!("stage {stage} does not exist (the scenario has {} stage(s))", s.stages.len()),
        )
    })?;
    let (qi, p) = match pool {
        None => st.pools.first().map(|p| (0, p)),
        Some(id) => st.pools.iter().enumerate().find(|(_, p)| p.id == id),
    }
    .ok_or_else(|| {
        let ids: Vec<&str> = st.pools.iter().map(|p| p.id.as_str()).collect();
        InputErrors::one(
            Location::at("command line", None, "--pool"),
            format!("stage {stage} has no pool `{}` (pools: {})", pool.unwrap_or(""), ids.join(", ")),
        )
    })?;
    let splits: Vec<&PoolSplit> = a.splits.iter().filter(|x| x.stage == stage && x.pool == qi).collect();
    Ok(Selection {
        stage,
        pool: p,
        pool_index: qi,
        splits,
    })
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

fn lp_err(s: &Scenario, what: &str, e: LpError) -> InputErrors {
    InputErrors::one(Location::file(&s.toml_file), format!("{what}: {e}"))
}

/// The LP view of one split: unit ids, factor names (columns), shares, adjustment, amount.
pub fn pool_shares(s: &Scenario, pool: &Pool, split: &PoolSplit) -> Result<PoolShares, InputErrors> {
    let ids = split
        .recipients
        .iter()
        .map(|&u| s.hierarchy.unit(u).map(|x| x.id.clone()).unwrap_or_default())
        .collect();
    let names = pool.factors.iter().map(|f| f.column.clone()).collect();
    let working = split.working(s)?;
    let shares = working.shares.iter().map(|row| row.iter().map(|x| to_f64(*x)).collect()).collect();
    let adjust = pool.adjust.as_ref().map(|_| split.adjust.iter().map(|x| to_f64(*x)).collect());
    PoolShares::new(ids, names, shares, adjust, to_f64(split.amount)).map_err(|e| lp_err(s, "pool shares", e))
}

/// Result of `check-weights`.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The checks as run, with their policy texts.
    pub checks: Vec<(NamedCheck, Option<String>)>,
    /// The LP outcome.
    pub result: WeightCheck,
    /// Stated weights, by factor column.
    pub stated: Vec<(String, f64)>,
    /// The allocating unit whose split was checked.
    pub from: String,
}

/// Builds the `[[check]]` rules that apply to the selected pool, and runs them on the split of
/// `from` (default: the allocating unit with the largest pool amount).
pub fn run_checks(s: &Scenario, sel: &Selection<'_>, from: Option<&str>, opts: &CheckOptions) -> Result<CheckReport, InputErrors> {
    let split = match from {
        Some(id) => sel.splits.iter().find(|x| s.hierarchy.unit(x.from).is_some_and(|u| u.id == id)),
        None => sel.splits.iter().max_by(|a, b| a.amount.cmp(&b.amount).then(b.from.cmp(&a.from))),
    }
    .copied()
    .ok_or_else(|| {
        InputErrors::one(
            Location::at("command line", None, "--from"),
            format!("no split of pool `{}` by `{}`", sel.pool.id, from.unwrap_or("?")),
        )
    })?;
    let ctx = crate::scenario::Ctx {
        file: &s.toml_file,
        text: &s.toml_text,
    };
    let mut errs = InputErrors::default();
    let mut warnings: Vec<Diagnostic> = Vec::new();
    let n = split.recipients.len();
    let column = |name: &str, errs: &mut InputErrors, key: &str, off: usize, warnings: &mut Vec<Diagnostic>| -> Option<Vec<f64>> {
        if !s.factors.has_column(name) {
            errs.push(ctx.loc(off, key), format!("column `{name}` is not in {}", s.factors.table.file));
            return None;
        }
        match s.factors.numeric_column(name, warnings) {
            Ok(v) => {
                let mut out = Vec::with_capacity(n);
                for &u in &split.recipients {
                    match v.get(u).copied().flatten() {
                        Some(x) => out.push(to_f64(x)),
                        None => {
                            errs.push(s.factors.loc(name, u), format!("value missing, needed by check {key}"));
                            out.push(f64::NAN);
                        }
                    }
                }
                Some(out)
            }
            Err(e) => {
                errs.extend(e);
                None
            }
        }
    };
    let mut population: Option<(String, Vec<f64>)> = None;
    let mut last_year: Option<(String, Vec<f64>)> = None;
    let mut groups: Vec<Group> = Vec::new();
    let mut checks = Vec::new();
    for (ci, rc) in s.raw.check.iter().enumerate() {
        let key = format!("check[{}]", ci + 1);
        let line_off = rc.span().start;
        let rc = rc.get_ref();
        if rc.stage.is_some_and(|st| st != sel.stage) || rc.pool.as_ref().is_some_and(|p| p != &sel.pool.id) {
            continue;
        }
        let need_num = |v: &Option<Spanned<NumText>>, field: &str, default: Option<f64>, errs: &mut InputErrors| -> f64 {
            match v {
                Some(x) => match num_or_text(x) {
                    Ok(d) => to_f64(d),
                    Err(t) => {
                        errs.push(ctx.loc(x.span().start, &format!("{key}.{field}")), format!("`{t}` is not a number"));
                        f64::NAN
                    }
                },
                None => default.unwrap_or_else(|| {
                    errs.push(
                        ctx.loc(line_off, &format!("{key}.{field}")),
                        format!("kind `{}` needs `{field}`", rc.kind.get_ref()),
                    );
                    f64::NAN
                }),
            }
        };
        let mut group_of = |errs: &mut InputErrors, warnings: &mut Vec<Diagnostic>| -> String {
            let Some(g) = &rc.group else {
                errs.push(
                    ctx.loc(line_off, &format!("{key}.group")),
                    format!("kind `{}` needs `group`, a flag column", rc.kind.get_ref()),
                );
                return String::new();
            };
            let name = g.get_ref().clone();
            if !groups.iter().any(|x| x.name == name) {
                if let Some(v) = column(&name, errs, &format!("{key}.group"), g.span().start, warnings) {
                    groups.push(Group {
                        name: name.clone(),
                        members: v.iter().map(|x| *x != 0.0).collect(),
                    });
                }
            }
            name
        };
        let mut per_capita = |errs: &mut InputErrors, warnings: &mut Vec<Diagnostic>| {
            let (name, off) = match (&rc.population, &s.population) {
                (Some(p), _) => (p.get_ref().clone(), p.span().start),
                (None, Some(p)) => (p.clone(), line_off),
                (None, None) => {
                    errs.push(
                        ctx.loc(line_off, &format!("{key}.population")),
                        "per-capita rules need `population` (or [scenario] population)",
                    );
                    return;
                }
            };
            match &population {
                Some((existing, _)) if existing != &name => errs.push(
                    ctx.loc(off, &format!("{key}.population")),
                    format!("all per-capita checks must use one population column (`{existing}` already)"),
                ),
                Some(_) => {}
                None => {
                    if let Some(v) = column(&name, errs, &format!("{key}.population"), off, warnings) {
                        population = Some((name, v));
                    }
                }
            }
        };
        let rule = match rc.kind.get_ref().as_str() {
            "weight_bounds" => {
                let factor = match &rc.factor {
                    Some(f) if sel.pool.factors.iter().any(|x| &x.column == f.get_ref()) => f.get_ref().clone(),
                    Some(f) => {
                        errs.push(
                            ctx.loc(f.span().start, &format!("{key}.factor")),
                            format!("`{}` is not a factor of pool `{}`", f.get_ref(), sel.pool.id),
                        );
                        String::new()
                    }
                    None => {
                        errs.push(ctx.loc(line_off, &format!("{key}.factor")), "kind `weight_bounds` needs `factor`");
                        String::new()
                    }
                };
                Rule::WeightBounds {
                    factor,
                    lo: need_num(&rc.min, "min", Some(0.0), &mut errs),
                    hi: need_num(&rc.max, "max", Some(1.0), &mut errs),
                }
            }
            "group_per_capita" => {
                per_capita(&mut errs, &mut warnings);
                Rule::GroupPerCapita {
                    group: group_of(&mut errs, &mut warnings),
                    min_ratio: need_num(&rc.min_ratio, "min_ratio", None, &mut errs),
                }
            }
            "group_growth" => {
                let name = rc.last_year.as_ref().map(|l| (l.get_ref().clone(), l.span().start));
                match (name, &last_year) {
                    (None, _) => errs.push(
                        ctx.loc(line_off, &format!("{key}.last_year")),
                        "kind `group_growth` needs `last_year`, a column of last year's amounts",
                    ),
                    (Some((n, off)), Some((existing, _))) if &n != existing => errs.push(
                        ctx.loc(off, &format!("{key}.last_year")),
                        format!("all growth checks must use one last-year column (`{existing}` already)"),
                    ),
                    (Some(_), Some(_)) => {}
                    (Some((n, off)), None) => {
                        if let Some(v) = column(&n, &mut errs, &format!("{key}.last_year"), off, &mut warnings) {
                            last_year = Some((n, v));
                        }
                    }
                }
                Rule::GroupGrowth {
                    group: group_of(&mut errs, &mut warnings),
                    ratio: need_num(&rc.ratio, "ratio", Some(1.0), &mut errs),
                    margin: need_num(&rc.margin, "margin", Some(0.0), &mut errs),
                }
            }
            "group_min_share" => Rule::GroupMinShare {
                group: group_of(&mut errs, &mut warnings),
                min_share: need_num(&rc.min_share, "min_share", None, &mut errs),
            },
            "need_monotone" => {
                let dominance = match rc.dominance.as_ref().map(|d| d.get_ref().as_str()) {
                    None | Some("share") => Dominance::Share,
                    Some("share_per_capita") => {
                        per_capita(&mut errs, &mut warnings);
                        Dominance::SharePerCapita
                    }
                    Some(other) => {
                        let off = rc.dominance.as_ref().map(|d| d.span().start).unwrap_or(line_off);
                        errs.push(
                            ctx.loc(off, &format!("{key}.dominance")),
                            format!("unknown dominance `{other}` (share, share_per_capita)"),
                        );
                        Dominance::Share
                    }
                };
                per_capita(&mut errs, &mut warnings);
                Rule::NeedMonotone {
                    dominance,
                    max_pairs: rc.max_pairs.unwrap_or(DEFAULT_MAX_PAIRS),
                }
            }
            other => {
                errs.push(
                    ctx.loc(rc.kind.span().start, &format!("{key}.kind")),
                    format!("unknown check kind `{other}` (weight_bounds, group_per_capita, group_growth, group_min_share, need_monotone)"),
                );
                continue;
            }
        };
        checks.push((
            NamedCheck {
                name: rc.name.get_ref().clone(),
                rule,
            },
            rc.rule.clone(),
        ));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let shares = pool_shares(s, sel.pool, split)?;
    let data = CheckData::new(shares, population.map(|p| p.1), last_year.map(|l| l.1), groups).map_err(|e| lp_err(s, "check data", e))?;
    let stated: Vec<f64> = sel.pool.factors.iter().map(|f| to_f64(f.weight)).collect();
    let named: Vec<NamedCheck> = checks.iter().map(|c| c.0.clone()).collect();
    let result = check_weights(&data, &named, &stated, opts).map_err(|e| {
        let line = Some(line_at(&s.toml_text, 0));
        InputErrors::one(
            Location {
                file: s.toml_file.clone(),
                line,
                field: Some("check".into()),
            },
            format!("the checks could not be solved: {e}"),
        )
    })?;
    Ok(CheckReport {
        checks,
        result,
        stated: sel.pool.factors.iter().map(|f| (f.column.clone(), to_f64(f.weight))).collect(),
        from: s.hierarchy.unit(split.from).map(|u| u.id.clone()).unwrap_or_default(),
    })
}

/// `weight_check.csv` (`check,kind,satisfied,slack`, then the policy text and the binding pair)
/// and `weight_ranges.csv` (`factor,stated,min,max,nearest`).
pub fn check_tables(r: &CheckReport) -> (OutTable, OutTable) {
    let mut wc = OutTable::new("weight_check.csv", &["check", "kind", "satisfied", "slack", "rule", "binding"]);
    for (o, (_, text)) in r.result.outcomes.iter().zip(&r.checks) {
        wc.rows.push(vec![
            o.name.clone(),
            o.kind.to_string(),
            if o.satisfied { "true" } else { "false" }.into(),
            o.slack.map(f).unwrap_or_default(),
            text.clone().unwrap_or_default(),
            o.binding.clone().unwrap_or_default(),
        ]);
    }
    let mut wr = OutTable::new("weight_ranges.csv", &["factor", "stated", "min", "max", "nearest"]);
    for (k, (name, stated)) in r.stated.iter().enumerate() {
        let range = r.result.ranges.as_ref().and_then(|v| v.get(k));
        let nearest = r.result.nearest.as_ref().and_then(|n| n.weights.get(k)).copied();
        wr.rows.push(vec![
            name.clone(),
            f(*stated),
            range.map(|x| w7(x.min)).unwrap_or_default(),
            range.map(|x| w7(x.max)).unwrap_or_default(),
            nearest.map(w7).unwrap_or_default(),
        ]);
    }
    (wc, wr)
}

/// Result of `infer-weights`.
#[derive(Debug, Clone)]
pub struct InferReport {
    /// The LP outcome.
    pub inference: Inference,
    /// Stated weights by factor column.
    pub stated: Vec<(String, f64)>,
    /// Units left out of the fit because the formula puts them at a floor or cap.
    pub excluded: Vec<String>,
    /// Recipients with no row in the actual distribution.
    pub missing: Vec<String>,
    /// Flag tolerances used (relative, absolute share).
    pub tolerances: (f64, f64),
}

/// Reads `actual.csv` (`unit_id,amount`, optional `stage` and `pool` columns): the actual
/// amount of each unit for the selected stage and pool. Without a `pool` column and with
/// several pools in the stage, the amounts are the units' totals for the stage and the other
/// pools' formula amounts are subtracted (the auditor cannot separate them).
pub fn actual_amounts(s: &Scenario, a: &Allocation, sel: &Selection<'_>) -> Result<HashMap<usize, Decimal>, InputErrors> {
    let t = s.tables.get("actual").ok_or_else(|| {
        InputErrors::one(
            Location::file("actual.csv"),
            "no actual distribution: add actual.csv (unit_id,amount) to the scenario",
        )
    })?;
    let mut errs = InputErrors::default();
    let (c_id, c_amt) = match (t.require("unit_id"), t.require("amount")) {
        (Ok(a), Ok(b)) => (a, b),
        (x, y) => {
            errs.0.extend(x.err());
            errs.0.extend(y.err());
            return Err(errs);
        }
    };
    let c_pool = t.col("pool");
    let c_stage = t.col("stage");
    let mut warnings = Vec::new();
    let mut out: HashMap<usize, Decimal> = HashMap::new();
    let mut seen: HashMap<(usize, String, String), u64> = HashMap::new();
    for row in &t.rows {
        let id = t.cell(row, c_id);
        let Some(u) = s.hierarchy.find(id) else {
            errs.push(t.loc(row, c_id), format!("unit `{id}` is not in the units file"));
            continue;
        };
        if let Some(c) = c_stage {
            if t.cell(row, c) != sel.stage.to_string() {
                continue;
            }
        }
        let pool_cell = c_pool.map(|c| t.cell(row, c).to_string()).unwrap_or_default();
        if c_pool.is_some() && pool_cell != sel.pool.id {
            continue;
        }
        let stage_cell = c_stage.map(|c| t.cell(row, c).to_string()).unwrap_or_default();
        if let Some(prev) = seen.insert((u, pool_cell, stage_cell), row.line) {
            errs.push(t.loc(row, c_id), format!("unit `{id}` appears twice (first on line {prev})"));
            continue;
        }
        match t.number(row, c_amt, &mut warnings) {
            Ok(Some(v)) if v >= Decimal::ZERO => {
                out.insert(u, v);
            }
            Ok(Some(v)) => errs.push(t.loc(row, c_amt), format!("amount {v} must not be negative")),
            Ok(None) => errs.push(t.loc(row, c_amt), "amount is missing"),
            Err(d) => errs.0.push(d),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let several_pools = s.stages.get(sel.stage.wrapping_sub(1)).is_some_and(|st| st.pools.len() > 1);
    if c_pool.is_none() && several_pools {
        for sp in a.splits.iter().filter(|x| x.stage == sel.stage && x.pool != sel.pool_index) {
            for (j, &u) in sp.recipients.iter().enumerate() {
                if let (Some(v), Some(y)) = (out.get_mut(&u), sp.amounts.get(j)) {
                    *v -= *y;
                }
            }
        }
    }
    Ok(out)
}

/// Runs `infer-weights` on the selected pool (all its splits stacked): actual shares per
/// allocating unit, adjustment coefficients divided out, units at a floor or cap left out.
pub fn run_infer(
    s: &Scenario,
    a: &Allocation,
    sel: &Selection<'_>,
    rel_tol: f64,
    abs_tol: Option<f64>,
    ranges: bool,
) -> Result<InferReport, InputErrors> {
    let actual = actual_amounts(s, a, sel)?;
    let mut ids = Vec::new();
    let mut shares = Vec::new();
    let mut a_shares = Vec::new();
    let mut excluded = Vec::new();
    let mut missing = Vec::new();
    let mut abs = f64::INFINITY;
    for sp in &sel.splits {
        let w = sp.working(s)?;
        let mut amounts = Vec::new();
        let mut adjust = Vec::new();
        let mut keep = Vec::new();
        for (j, &u) in sp.recipients.iter().enumerate() {
            let id = s.hierarchy.unit(u).map(|x| x.id.clone()).unwrap_or_default();
            match actual.get(&u) {
                Some(v) => {
                    amounts.push(to_f64(*v));
                    adjust.push(sp.adjust.get(j).map(|c| to_f64(*c)).unwrap_or(1.0));
                    // at a floor or cap in the recomputation, or paid exactly its floor or cap:
                    // the bound, not the formula, explains the amount
                    let near = |b: Option<Decimal>| b.is_some_and(|b| (b - *v).abs() <= s.rounding);
                    let pinned = sp.floored.get(j).copied().unwrap_or(false)
                        || sp.capped.get(j).copied().unwrap_or(false)
                        || near(w.floors.get(j).copied().filter(|f| !f.is_zero()))
                        || near(w.caps.get(j).copied().flatten());
                    if pinned {
                        excluded.push(id);
                    } else {
                        keep.push((j, id));
                    }
                }
                None => missing.push(id),
            }
        }
        if amounts.iter().sum::<f64>() <= 0.0 {
            continue;
        }
        let adj = adjusted_actual_shares(&amounts, Some(&adjust)).map_err(|e| lp_err(s, "actual shares", e))?;
        // adjusted_actual_shares follows the order of `amounts`: map back to recipients with data
        let with_data: Vec<usize> = sp
            .recipients
            .iter()
            .enumerate()
            .filter(|(_, u)| actual.contains_key(u))
            .map(|(j, _)| j)
            .collect();
        for (j, id) in keep {
            let pos = with_data.iter().position(|&x| x == j);
            if let (Some(p), Some(row)) = (pos, w.shares.get(j)) {
                ids.push(id);
                shares.push(row.iter().map(|x| to_f64(*x)).collect::<Vec<_>>());
                a_shares.push(adj.get(p).copied().unwrap_or(f64::NAN));
            }
        }
        if sp.amount > Decimal::ZERO {
            abs = abs.min(to_f64(s.rounding / sp.amount));
        }
    }
    if ids.is_empty() {
        return Err(InputErrors::one(
            Location::file("actual.csv"),
            format!("no unit of pool `{}` has an actual amount", sel.pool.id),
        ));
    }
    let names: Vec<String> = sel.pool.factors.iter().map(|f| f.column.clone()).collect();
    let input = InferInput::new(ids, names, shares, a_shares).map_err(|e| lp_err(s, "inference input", e))?;
    let abs_tol = abs_tol.unwrap_or(if abs.is_finite() { abs } else { 1e-9 });
    let opts = InferOptions {
        flag_rel_tol: rel_tol,
        flag_abs_tol: abs_tol,
        ranges,
        ..Default::default()
    };
    let inference = infer_weights(&input, &opts).map_err(|e| lp_err(s, "infer-weights", e))?;
    Ok(InferReport {
        inference,
        stated: sel.pool.factors.iter().map(|f| (f.column.clone(), to_f64(f.weight))).collect(),
        excluded,
        missing,
        tolerances: (rel_tol, abs_tol),
    })
}

/// `inferred_weights.csv` (`factor,stated,l1,linf,min,max`) and `residuals.csv`
/// (`unit_id,actual_share,fitted_share,residual,flagged`).
pub fn infer_tables(r: &InferReport) -> (OutTable, OutTable) {
    let mut iw = OutTable::new("inferred_weights.csv", &["factor", "stated", "l1", "linf", "min", "max"]);
    for (k, (name, stated)) in r.stated.iter().enumerate() {
        let range = r.inference.ranges.as_ref().and_then(|v| v.get(k));
        iw.rows.push(vec![
            name.clone(),
            f(*stated),
            r.inference.l1.weights.get(k).map(|x| w7(*x)).unwrap_or_default(),
            r.inference.linf.weights.get(k).map(|x| w7(*x)).unwrap_or_default(),
            range.map(|x| w7(x.min)).unwrap_or_default(),
            range.map(|x| w7(x.max)).unwrap_or_default(),
        ]);
    }
    let mut rs = OutTable::new("residuals.csv", &["unit_id", "actual_share", "fitted_share", "residual", "flagged"]);
    for x in &r.inference.residuals {
        rs.rows.push(vec![
            x.unit_id.clone(),
            f(x.actual),
            f(x.fitted),
            f(x.residual),
            if x.flagged { "true" } else { "false" }.into(),
        ]);
    }
    (iw, rs)
}
