//! Step `sensitivity` (when the scenario has `[sensitivity]`): the Monte Carlo of
//! [`crate::sensitivity`] over factor-data noise and weight uncertainty → `sensitivity.csv`
//! (bands per unit) and `sensitivity_indices.csv` (Sobol indices), the chart of the 5%, 50% and
//! 95% amounts of the largest recipients of the last stage, and tables of the overall indices
//! and the bands in the page.
//!
//! Draws: `[sensitivity] draws` (default 1000) cut to `[report] sensitivity_draws` (default
//! [`super::DEFAULT_SENSITIVITY_DRAWS`]) so the report stays fast; seed `[sensitivity] seed`
//! (default 1). The numbers are those of `fundsim sensitivity --draws N --seed S` with the same
//! N and S.

use std::cmp::Ordering;

use rust_decimal::prelude::ToPrimitive;

use super::alloc_step::{chart_labels, factor_label, level_label, unit_id, unit_name};
use super::fmt::{money, pct};
use super::{ChartSpec, Ctx, SectionOut, StepOutput};
use crate::error::InputErrors;
use crate::report::charts::{BandChart, BandRow, Chart};
use crate::report::Lang;
use crate::sensitivity::{self, Group, Options, UnitBand};

/// Runs when the scenario has `[sensitivity]`.
pub(super) fn applies(ctx: &Ctx<'_>) -> Result<(), String> {
    if ctx.scenario.raw.sensitivity.is_some() {
        Ok(())
    } else {
        Err(ctx
            .tr("scenario.toml 中没有 [sensitivity]", "scenario.toml has no [sensitivity]")
            .into())
    }
}

/// What a group varies, in words.
fn group_text(ctx: &Ctx<'_>, g: &Group) -> String {
    match (ctx.lang, g) {
        (Lang::Zh, Group::Noise(n)) => format!("{}数据误差 ±{}", factor_label(ctx.scenario, &n.column), pct(n.rel_error, 1)),
        (Lang::En, Group::Noise(n)) => format!(
            "±{} error in the {} data",
            pct(n.rel_error, 1),
            factor_label(ctx.scenario, &n.column)
        ),
        (Lang::Zh, Group::Weights { concentration }) => format!("因素权重不确定（Dirichlet 集中度 {concentration}）"),
        (Lang::En, Group::Weights { concentration }) => format!("uncertain weights (Dirichlet, concentration {concentration})"),
    }
}

/// Width of the 90% band relative to the published amount (`None` for a zero amount).
fn rel_width(u: &UnitBand) -> Option<f64> {
    let a = u.amount.to_f64()?;
    (a > 0.0).then(|| (u.p95 - u.p05) / a)
}

fn idx(x: f64) -> String {
    if x.is_finite() {
        pct(x, 1)
    } else {
        "-".into()
    }
}

/// Runs the Monte Carlo (draws capped) and lays out the bands.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let Some(spec) = sensitivity::spec(s)? else {
        return Ok(StepOutput::default());
    };
    let wanted = spec.draws.unwrap_or(1000);
    let draws = wanted.min(ctx.config.sensitivity_draws);
    let seed = spec.seed.unwrap_or(1);
    let alloc = ctx.allocation()?;
    let r = sensitivity::run(s, &spec, alloc, Options { draws, seed }, &|_| {})?;
    let tables = vec![sensitivity::bands_table(s, &r), sensitivity::indices_table(s, &r)];
    let last = s.stages.len();
    let level = s.stages.last().map(|st| level_label(lang, &st.level)).unwrap_or_default();
    let unit_word = s.money_unit.label(match lang {
        Lang::Zh => crate::scenario::Lang::Zh,
        Lang::En => crate::scenario::Lang::En,
    });
    let yuan = s.money_unit.yuan().to_f64().unwrap_or(1.0);
    // last-stage recipients that receive something in the formula or in a draw, largest
    // published amount first (units outside every pool stay in sensitivity.csv only)
    let mut units: Vec<&UnitBand> = r
        .units
        .iter()
        .filter(|u| u.stage == last && !(u.amount.is_zero() && u.p95 <= 0.0))
        .collect();
    units.sort_by(|a, b| b.amount.cmp(&a.amount).then_with(|| unit_id(s, a.unit).cmp(&unit_id(s, b.unit))));

    let mut sec = SectionOut::new("sensitivity", ctx.tr("敏感性分析", "Sensitivity analysis"));
    let groups: Vec<String> = r.groups.iter().map(|g| group_text(ctx, g)).collect();
    sec.para(match lang {
        Lang::Zh => format!(
            "分配额对输入不确定性的敏感程度（蒙特卡洛模拟）：{}。共 {} 次基础抽样、{} 次模型计算（种子 {seed}）。图表给出{level}分配额的 5%、50%、95% 分位数；Sobol 指数说明各输入组对分配额方差的贡献：一阶指数是固定该组后方差平均减少的比例，总效应指数还包括它与其他组的交互作用。",
            groups.join("；"),
            r.draws,
            r.evaluations
        ),
        Lang::En => format!(
            "How much the amounts depend on uncertain inputs (Monte Carlo): {}. {} base draws, {} model evaluations (seed {seed}). The chart gives the 5th, 50th and 95th percentiles of the {level} amounts; the Sobol indices give each input group's share of the variance of the amounts: first-order is what fixing the group would remove on average, total adds its interactions with the other groups.",
            groups.join("; "),
            r.draws,
            r.evaluations
        ),
    });
    if draws < wanted {
        sec.note(match lang {
            Lang::Zh => format!(
                "报告中抽样次数限制为 {draws} 次（[report] sensitivity_draws），[sensitivity] 设定为 {wanted} 次；完整分析请运行 fundsim sensitivity。"
            ),
            Lang::En => format!(
                "The report caps the draws at {draws} ([report] sensitivity_draws); [sensitivity] asks for {wanted}: run fundsim sensitivity for the full analysis."
            ),
        });
    }
    if r.degenerate > 0 {
        sec.note(match lang {
            Lang::Zh => format!("{} 次模型计算中保底或封顶无法满足，已按比例调整。", r.degenerate),
            Lang::En => format!("{} evaluation(s) had infeasible floors or caps, scaled to fit.", r.degenerate),
        });
    }
    // overall indices
    let header: Vec<String> = [
        ("输入组", "Input group"),
        ("说明", "What varies"),
        ("一阶指数", "First-order index"),
        ("总效应指数", "Total index"),
    ]
    .iter()
    .map(|(z, e)| ctx.tr(z, e).to_string())
    .collect();
    let rows = r
        .groups
        .iter()
        .zip(&r.overall)
        .zip(&groups)
        .map(|((g, i), text)| vec![g.name(), text.clone(), idx(i.first), idx(i.total)])
        .collect();
    sec.table(header, rows, None);
    // bands
    let header: Vec<String> = [
        ("单位代码", "Unit id"),
        ("单位", "Unit"),
        ("公布金额", "Published"),
        ("5% 分位数", "5th pct"),
        ("中位数", "Median"),
        ("95% 分位数", "95th pct"),
        ("90% 区间宽度占金额", "90% band / amount"),
        ("排名 (90% 区间)", "Rank (90% band)"),
        ("处于保底的概率", "Chance at a floor"),
        ("处于封顶的概率", "Chance at a cap"),
    ]
    .iter()
    .map(|(z, e)| ctx.tr(z, e).to_string())
    .collect();
    let round = |x: f64| money(rust_decimal::Decimal::from_f64_retain(x.round()).unwrap_or_default().normalize());
    let rows = units
        .iter()
        .map(|u| {
            vec![
                unit_id(s, u.unit),
                unit_name(s, u.unit),
                money(u.amount),
                round(u.p05),
                round(u.p50),
                round(u.p95),
                rel_width(u).map(|w| pct(w, 1)).unwrap_or_else(|| "-".into()),
                format!("{} ({}–{})", u.rank, u.rank_best, u.rank_worst),
                pct(u.p_floor, 1),
                pct(u.p_cap, 1),
            ]
        })
        .collect();
    sec.para(match lang {
        Lang::Zh => format!("{level}分配额的不确定性（金额单位：{unit_word}，按公布金额从大到小）："),
        Lang::En => format!("Uncertainty of the {level} amounts ({unit_word}, largest published amount first):"),
    });
    sec.table(header, rows, Some("sensitivity.csv"));
    // chart: the largest recipients
    let shown: Vec<&UnitBand> = units.iter().copied().take(ctx.config.max_bars).collect();
    let ids: Vec<usize> = shown.iter().map(|u| u.unit).collect();
    let rows = shown
        .iter()
        .zip(chart_labels(s, &ids))
        .map(|(u, name)| BandRow {
            name,
            amount: u.amount.to_f64().unwrap_or(f64::NAN) * yuan,
            p05: u.p05 * yuan,
            p50: u.p50 * yuan,
            p95: u.p95 * yuan,
        })
        .collect();
    let subtitle = match (lang, shown.len() < units.len()) {
        (Lang::Zh, true) => format!(
            "分配额最大的 {} 个单位 (共 {} 个, 其余见 sensitivity.csv) · {} 次抽样, 种子 {seed}",
            shown.len(),
            units.len(),
            r.draws
        ),
        (Lang::Zh, false) => format!("{} 个单位, 按分配额排序 · {} 次抽样, 种子 {seed}", units.len(), r.draws),
        (Lang::En, true) => format!(
            "the {} largest of {} units (all in sensitivity.csv) · {} draws, seed {seed}",
            shown.len(),
            units.len(),
            r.draws
        ),
        (Lang::En, false) => format!("{} units, largest first · {} draws, seed {seed}", units.len(), r.draws),
    };
    let chart = ChartSpec {
        stem: "sensitivity-bands".into(),
        chart: Chart::Bands(BandChart { rows }),
        frame: ctx.frame(Some(subtitle)),
        caption: ctx
            .tr(
                "各单位分配额的 5%–95% 区间、中位数与公布金额",
                "5%–95% band, median and published amount per unit",
            )
            .to_string(),
    };
    sec.chart(&chart.stem);
    sec.links(tables.iter().map(|t| (t.name.clone(), t.name.clone())).collect());
    // highlight: the most influential group and the widest band
    let top = r
        .groups
        .iter()
        .zip(&r.overall)
        .filter(|(_, i)| i.total.is_finite())
        .max_by(|a, b| a.1.total.partial_cmp(&b.1.total).unwrap_or(Ordering::Equal));
    let widest = units.iter().filter_map(|u| rel_width(u).map(|w| (w, *u))).max_by(|a, b| {
        a.0.partial_cmp(&b.0)
            .unwrap_or(Ordering::Equal)
            .then_with(|| b.1.unit.cmp(&a.1.unit))
    });
    let highlight = match (lang, top, widest) {
        (Lang::Zh, Some((g, i)), Some((w, u))) => format!(
            "敏感性分析：对{level}分配额影响最大的是{}（总效应指数 {}）；90% 区间相对最宽的是{}（区间宽度为公布金额的 {}）。",
            group_text(ctx, g),
            idx(i.total),
            unit_name(s, u.unit),
            pct(w, 1)
        ),
        (Lang::En, Some((g, i)), Some((w, u))) => format!(
            "Sensitivity: the {level} amounts depend most on {} (total index {}); the widest 90% band is {}'s ({} of its published amount).",
            group_text(ctx, g),
            idx(i.total),
            unit_name(s, u.unit),
            pct(w, 1)
        ),
        (Lang::Zh, _, _) => format!("敏感性分析：{} 次抽样，分配额不随所给输入变化。", r.draws),
        (Lang::En, _, _) => format!("Sensitivity: {} draws; the amounts do not vary with the inputs given.", r.draws),
    };
    ctx.results.sensitivity = Some(r);
    Ok(StepOutput {
        tables,
        charts: vec![chart],
        sections: vec![sec],
        highlights: vec![highlight],
    })
}
