//! Step `formula-vs-actual` (when the scenario has `actual.csv`): the formula's total per unit
//! in the final stage against the actual total per unit → `formula_vs_actual.csv` and a chart.
//!
//! `actual.csv` has `unit_id,amount` and optionally `stage` (rows of other stages are ignored)
//! and `pool`. A unit's actual total is the sum of its rows; its formula total is the sum of
//! the formula amounts of the pools its rows name (every pool of the stage when there is no
//! `pool` column).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::alloc_step::{chart_labels, unit_id, unit_name};
use super::fmt::{money, pct_dec};
use super::{ChartSpec, Ctx, SectionOut, StepOutput};
use crate::alloc::RowKind;
use crate::error::InputErrors;
use crate::output::{dec, OutTable};
use crate::report::charts::{Chart, Comparison, GroupedBarChart, GroupedRow};
use crate::report::Lang;

/// Runs when the scenario has `actual.csv`.
pub(super) fn applies(ctx: &Ctx<'_>) -> Result<(), String> {
    super::weights_step::applies_infer(ctx)
}

/// One unit's formula and actual totals.
struct Pair {
    unit: usize,
    formula: Decimal,
    actual: Decimal,
}

impl Pair {
    fn diff(&self) -> Decimal {
        self.actual.saturating_sub(self.formula)
    }
}

/// Compares the formula with `actual.csv` per unit.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let alloc = ctx.allocation()?;
    let Some(t) = s.tables.get("actual") else {
        return Ok(StepOutput::default());
    };
    let stage = s.stages.len();
    let mut errs = InputErrors::default();
    let (c_id, c_amt) = match (t.require("unit_id"), t.require("amount")) {
        (Ok(a), Ok(b)) => (a, b),
        (x, y) => {
            errs.0.extend(x.err());
            errs.0.extend(y.err());
            return Err(errs);
        }
    };
    let c_stage = t.col("stage");
    let c_pool = t.col("pool");
    let mut warnings = Vec::new();
    let mut actual: BTreeMap<usize, (Decimal, BTreeSet<String>)> = BTreeMap::new();
    for row in &t.rows {
        if let Some(c) = c_stage {
            if t.cell(row, c).trim() != stage.to_string() {
                continue;
            }
        }
        let id = t.cell(row, c_id).trim();
        let Some(u) = s.hierarchy.find(id) else {
            errs.push(t.loc(row, c_id), format!("unit `{id}` is not in the units file"));
            continue;
        };
        match t.number(row, c_amt, &mut warnings) {
            Ok(Some(v)) if v.is_sign_negative() && !v.is_zero() => errs.push(t.loc(row, c_amt), format!("amount {v} is negative")),
            Ok(Some(v)) => {
                let e = actual.entry(u).or_default();
                e.0 = e.0.saturating_add(v);
                if let Some(c) = c_pool {
                    e.1.insert(t.cell(row, c).trim().to_string());
                }
            }
            Ok(None) => errs.push(t.loc(row, c_amt), "amount is missing"),
            Err(d) => errs.0.push(d),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    // formula amounts of the final stage, per unit: by pool and total
    let mut by_pool: BTreeMap<(usize, String), Decimal> = BTreeMap::new();
    let mut totals: BTreeMap<usize, Decimal> = BTreeMap::new();
    for r in alloc.rows.iter().filter(|r| r.stage == stage) {
        match &r.kind {
            RowKind::Pool(q) => {
                let e = by_pool.entry((r.unit, alloc.pool_id(r.stage, *q).to_string())).or_default();
                *e = e.saturating_add(r.amount);
            }
            RowKind::Total if !r.amount.is_zero() => {
                totals.insert(r.unit, r.amount);
            }
            _ => {}
        }
    }
    let mut units: BTreeSet<usize> = totals.keys().copied().collect();
    units.extend(actual.keys().copied());
    let mut pairs: Vec<Pair> = units
        .into_iter()
        .map(|u| {
            let (act, pools) = actual.get(&u).cloned().unwrap_or_default();
            let formula = if c_pool.is_some() && actual.contains_key(&u) {
                pools
                    .iter()
                    .map(|p| by_pool.get(&(u, p.clone())).copied().unwrap_or_default())
                    .fold(Decimal::ZERO, |a, b| a.saturating_add(b))
            } else {
                totals.get(&u).copied().unwrap_or_default()
            };
            Pair {
                unit: u,
                formula,
                actual: act,
            }
        })
        .collect();
    // largest deviation first, then by unit id
    pairs.sort_by(|a, b| {
        b.diff()
            .abs()
            .cmp(&a.diff().abs())
            .then_with(|| unit_id(s, a.unit).cmp(&unit_id(s, b.unit)))
    });
    let mut table = OutTable::new(
        "formula_vs_actual.csv",
        &["unit_id", "name", "formula", "actual", "difference", "relative_difference"],
    );
    for p in &pairs {
        let rel = if p.formula.is_zero() {
            String::new()
        } else {
            p.diff().checked_div(p.formula).map(crate::output::share).unwrap_or_default()
        };
        table.rows.push(vec![
            unit_id(s, p.unit),
            unit_name(s, p.unit),
            dec(p.formula),
            dec(p.actual),
            dec(p.diff()),
            rel,
        ]);
    }
    let unit_word = s.money_unit.label(match lang {
        Lang::Zh => crate::scenario::Lang::Zh,
        Lang::En => crate::scenario::Lang::En,
    });
    let formula_sum = pairs.iter().fold(Decimal::ZERO, |a, p| a.saturating_add(p.formula));
    let actual_sum = pairs.iter().fold(Decimal::ZERO, |a, p| a.saturating_add(p.actual));
    let differing = pairs.iter().filter(|p| !p.diff().is_zero()).count();
    let mut sec = SectionOut::new("formula-vs-actual", ctx.tr("公式测算额与实际分配额", "Formula and actual amounts"));
    sec.para(match lang {
        Lang::Zh => format!(
            "第{stage}阶段共 {} 个单位：公式测算合计 {} {unit_word}，实际分配合计 {} {unit_word}；{differing} 个单位的实际分配额与公式测算额不同（按差额绝对值从大到小排列）。",
            pairs.len(),
            money(formula_sum),
            money(actual_sum)
        ),
        Lang::En => format!(
            "Stage {stage}, {} units: formula total {} {unit_word}, actual total {} {unit_word}; {differing} unit(s) received an amount different from the formula's (largest difference first).",
            pairs.len(),
            money(formula_sum),
            money(actual_sum)
        ),
    });
    let header = vec![
        ctx.tr("单位代码", "Unit id").to_string(),
        ctx.tr("单位", "Unit").into(),
        format!("{} ({unit_word})", ctx.tr("公式测算", "Formula")),
        format!("{} ({unit_word})", ctx.tr("实际分配", "Actual")),
        format!("{} ({unit_word})", ctx.tr("差额", "Difference")),
        ctx.tr("差额占公式测算", "Difference / formula").into(),
    ];
    let rows = pairs
        .iter()
        .map(|p| {
            vec![
                unit_id(s, p.unit),
                unit_name(s, p.unit),
                money(p.formula),
                money(p.actual),
                money(p.diff()),
                if p.formula.is_zero() {
                    "-".into()
                } else {
                    p.diff().checked_div(p.formula).map(|x| pct_dec(x, 2)).unwrap_or_default()
                },
            ]
        })
        .collect();
    sec.table(header, rows, Some("formula_vs_actual.csv"));
    let yuan = s.money_unit.yuan();
    let f = |d: Decimal| d.saturating_mul(yuan).to_f64().unwrap_or(f64::NAN);
    let shown: Vec<&Pair> = pairs.iter().take(ctx.config.max_bars).collect();
    let units: Vec<usize> = shown.iter().map(|p| p.unit).collect();
    let rows = shown
        .iter()
        .zip(chart_labels(s, &units))
        .map(|(p, label)| GroupedRow {
            label,
            first: f(p.formula),
            second: f(p.actual),
        })
        .collect();
    let subtitle = if shown.len() < pairs.len() {
        match lang {
            Lang::Zh => format!(
                "第{stage}阶段 · 差额最大的 {} 个单位 (共 {} 个, 其余见 formula_vs_actual.csv)",
                shown.len(),
                pairs.len()
            ),
            Lang::En => format!(
                "Stage {stage} · the {} units with the largest difference, of {} (all in formula_vs_actual.csv)",
                shown.len(),
                pairs.len()
            ),
        }
    } else {
        match lang {
            Lang::Zh => format!("第{stage}阶段 · {} 个单位, 按差额绝对值排序", pairs.len()),
            Lang::En => format!("Stage {stage} · {} units, largest difference first", pairs.len()),
        }
    };
    let chart = ChartSpec {
        stem: "formula-vs-actual".into(),
        chart: Chart::Grouped(GroupedBarChart {
            kind: Comparison::FormulaVsActual,
            rows,
        }),
        frame: ctx.frame(Some(subtitle)),
        caption: ctx
            .tr("各单位公式测算额与实际分配额", "Formula amount and actual amount per unit")
            .to_string(),
    };
    sec.chart(&chart.stem);
    sec.links(vec![("formula_vs_actual.csv".into(), "formula_vs_actual.csv".into())]);
    let highlight = match (lang, pairs.first().filter(|p| !p.diff().is_zero())) {
        (Lang::Zh, None) => "实际分配：全部单位的实际分配额与公式测算额一致。".to_string(),
        (Lang::En, None) => "Actual distribution: every unit received exactly the formula's amount.".to_string(),
        (Lang::Zh, Some(p)) => format!(
            "实际分配：{differing} 个单位的实际分配额与公式测算额不同，差额最大的是{}（{} {unit_word}）。",
            unit_name(s, p.unit),
            money(p.diff())
        ),
        (Lang::En, Some(p)) => format!(
            "Actual distribution: {differing} unit(s) received an amount different from the formula's; the largest difference is {} ({} {unit_word}).",
            unit_name(s, p.unit),
            money(p.diff())
        ),
    };
    Ok(StepOutput {
        tables: vec![table],
        charts: vec![chart],
        sections: vec![sec],
        highlights: vec![highlight],
    })
}
