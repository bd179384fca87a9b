//! Step `indicators` (when the scenario has `survey.csv` and `[indicators]` or `[scoring]`):
//! what `fundsim score` computes ([`crate::score::bind`], the same code and the same defaults:
//! Wilson or the `[indicators] ci` interval, 1000 bootstrap draws, seed 1) →
//! `indicators.csv`, `exit_check.csv` (with `plan.csv`), `scores.csv`, `sampling_error.csv`
//! and `dea.csv` (with `[scoring]`), one rates chart per indicator (rate and interval per
//! unit against the threshold line; the comprehensive incidence too when there is an exit
//! check), and tables of the verdicts and scores in the page.
//!
//! A chart shows at most `max_bars` units, the worst first (highest rate; lowest for
//! 群众认可度); all are in `indicators.csv`. Its dots are coloured by the interval reading
//! against the threshold drawn (SPEC §5): pass when the whole interval is on the good side,
//! fail when it is on the bad side, else inconclusive.

use std::collections::BTreeMap;

use rust_decimal::prelude::ToPrimitive;

use super::alloc_step::{chart_labels, unit_name};
use super::fmt::pct;
use super::{ChartSpec, Ctx, SectionOut, StepOutput};
use crate::error::{InputErrors, Location};
use crate::report::charts::{Chart, Indicator as ChartIndicator, RateChart, RateRow};
use crate::report::Lang;
use crate::scenario::Scenario;
use crate::score::bind::{self, RunError, ScoreOptions, ScoreRun};
use crate::score::{Gate, Indicator, PointVerdict, ThresholdRule, Verdict};

/// Runs when there is survey data and `[indicators]` or `[scoring]`.
pub(super) fn applies(ctx: &Ctx<'_>) -> Result<(), String> {
    let s = ctx.scenario;
    if s.raw.indicators.is_none() && s.raw.scoring.is_none() {
        return Err(ctx
            .tr(
                "scenario.toml 中没有 [indicators] 或 [scoring]",
                "scenario.toml has no [indicators] or [scoring]",
            )
            .into());
    }
    if !s.tables.contains_key("survey") {
        return Err(ctx.tr("没有抽样调查数据 survey.csv", "there is no survey.csv").into());
    }
    Ok(())
}

/// The chart's indicator for an engine indicator.
fn chart_indicator(i: Indicator) -> ChartIndicator {
    match i {
        Indicator::MissedAssessment => ChartIndicator::MissedIdentification,
        Indicator::WrongExit => ChartIndicator::WrongExit,
        Indicator::Satisfaction => ChartIndicator::Recognition,
    }
}

fn stem(i: Indicator) -> &'static str {
    match i {
        Indicator::MissedAssessment => "rates-missed-assessment",
        Indicator::WrongExit => "rates-wrong-exit",
        Indicator::Satisfaction => "rates-satisfaction",
    }
}

/// One unit's reading on one gate, for a chart.
struct Reading<'a> {
    unit_id: &'a str,
    rate: f64,
    low: f64,
    high: f64,
    rule: ThresholdRule,
}

/// The threshold drawn: the one every unit shares, else the general rule's (and `false`).
fn common_threshold(readings: &[Reading<'_>], general: ThresholdRule) -> (f64, bool) {
    let first = readings.first().map(|r| r.rule.threshold);
    let shared = first.filter(|t| readings.iter().all(|r| r.rule.threshold == *t));
    match shared {
        Some(t) => (t.to_f64().unwrap_or(f64::NAN), true),
        None => (general.threshold.to_f64().unwrap_or(f64::NAN), false),
    }
}

/// A rates chart of `readings`, worst first, cut to `max_bars`.
fn rates_chart(
    ctx: &Ctx<'_>,
    stem: &str,
    indicator: ChartIndicator,
    mut readings: Vec<Reading<'_>>,
    general: ThresholdRule,
    level: f64,
) -> ChartSpec {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let total = readings.len();
    let (threshold, shared) = common_threshold(&readings, general);
    if indicator.higher_is_better() {
        readings.sort_by(|a, b| a.rate.total_cmp(&b.rate).then_with(|| a.unit_id.cmp(b.unit_id)));
    } else {
        readings.sort_by(|a, b| b.rate.total_cmp(&a.rate).then_with(|| a.unit_id.cmp(b.unit_id)));
    }
    readings.truncate(ctx.config.max_bars);
    let units: Vec<usize> = readings.iter().filter_map(|r| s.hierarchy.find(r.unit_id)).collect();
    let labels = if units.len() == readings.len() {
        chart_labels(s, &units)
    } else {
        readings.iter().map(|r| r.unit_id.to_string()).collect()
    };
    let rows = readings
        .iter()
        .zip(labels)
        .map(|(r, name)| RateRow {
            name,
            rate: r.rate,
            low: r.low,
            high: r.high,
        })
        .collect();
    let mut subtitle = if readings.len() < total {
        match lang {
            Lang::Zh => format!(
                "最差的 {} 个单位 (共 {total} 个, 其余见 indicators.csv) · {}% 置信区间",
                readings.len(),
                pct_level(level)
            ),
            Lang::En => format!(
                "the {} worst units of {total} (all in indicators.csv) · {}% intervals",
                readings.len(),
                pct_level(level)
            ),
        }
    } else {
        match lang {
            Lang::Zh => format!("{total} 个单位, 最差的在上 · {}% 置信区间", pct_level(level)),
            Lang::En => format!("{total} units, worst first · {}% intervals", pct_level(level)),
        }
    };
    if !shared {
        subtitle.push_str(ctx.tr(
            " · 部分单位阈值不同, 颜色按图中阈值",
            " · some units have their own threshold; colours use the one drawn",
        ));
    }
    ChartSpec {
        stem: stem.into(),
        chart: Chart::Rates(RateChart {
            indicator,
            threshold,
            confidence: level,
            rows,
        }),
        frame: ctx.frame(Some(subtitle)),
        caption: match lang {
            Lang::Zh => format!("各单位{}及置信区间", indicator.name(lang)),
            Lang::En => format!("{} per unit with confidence intervals", indicator.name(lang)),
        },
    }
}

fn pct_level(level: f64) -> String {
    crate::report::format::format_number(level * 100.0, 1)
        .trim_end_matches(".0")
        .to_string()
}

fn engine_error(s: &Scenario, e: RunError) -> InputErrors {
    match e {
        RunError::Input(e) => e,
        RunError::Engine(m) => InputErrors::one(Location::at(&s.toml_file, None, "indicators"), m),
    }
}

/// Runs `fundsim score` on the scenario and lays out its results.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let r = bind::run(s, &ScoreOptions::default()).map_err(|e| engine_error(s, e))?;
    let mut out = StepOutput {
        tables: bind::tables(&r),
        ..StepOutput::default()
    };
    if let Some((_, scores)) = &r.scores {
        if let Some(t) = bind::dea_table(scores).map_err(|e| engine_error(s, e))? {
            out.tables.push(t);
        }
    }
    ctx.results.score = Some(r);
    let Some(r) = ctx.results.score.as_ref() else {
        return Ok(out);
    };
    let mut sec = SectionOut::new("indicators", ctx.tr("第三方评估指标与考核评分", "Survey indicators and scores"));
    sec.para(match lang {
        Lang::Zh => format!(
            "依据抽样调查数据（{} 行，单位 × 指标）计算漏评率、错退率和群众认可度，区间为 {} 法 {}% 置信区间。“点估计”按官方口径以观测比例与阈值比较；“区间”只有整个置信区间都在阈值一侧时才判定达标或未达标，否则为“不确定”。",
            r.results.len(),
            ci_name(lang, r),
            pct_level(r.config.confidence)
        ),
        Lang::En => format!(
            "Missed-identification rate, wrong-exit rate and public recognition from the survey ({} rows, unit × indicator), with {} {}% confidence intervals. The point reading compares the observed rate with the threshold, as the official rules do; the interval reading passes or fails a unit only when its whole interval is on one side of the threshold, else it is inconclusive.",
            r.results.len(),
            ci_name(lang, r),
            pct_level(r.config.confidence)
        ),
    });
    // verdicts per indicator
    let header: Vec<String> = [
        ("指标", "Indicator"),
        ("阈值", "Threshold"),
        ("单位数", "Units"),
        ("点估计达标", "Point: pass"),
        ("点估计未达标", "Point: fail"),
        ("区间达标", "Interval: pass"),
        ("区间未达标", "Interval: fail"),
        ("区间不确定", "Interval: inconclusive"),
        ("点估计未达标但统计上不确定", "Fail by point, inconclusive by interval"),
    ]
    .iter()
    .map(|(z, e)| ctx.tr(z, e).to_string())
    .collect();
    let mut rows = Vec::new();
    let mut charts = Vec::new();
    for ind in Indicator::ALL {
        let of: Vec<_> = r.results.iter().filter(|x| x.indicator == ind).collect();
        if of.is_empty() {
            continue;
        }
        let general = r.config.rule(Gate::Indicator(ind));
        let n = |f: &dyn Fn(&&crate::score::IndicatorResult) -> bool| of.iter().filter(|x| f(x)).count().to_string();
        rows.push(vec![
            chart_indicator(ind).name(lang).to_string(),
            format!(
                "{}{}",
                if ind == Indicator::Satisfaction { ">" } else { "<" },
                pct(general.threshold.to_f64().unwrap_or(f64::NAN), 1)
            ),
            of.len().to_string(),
            n(&|x| x.point_verdict == PointVerdict::Pass),
            n(&|x| x.point_verdict == PointVerdict::Fail),
            n(&|x| x.verdict == Verdict::Pass),
            n(&|x| x.verdict == Verdict::Fail),
            n(&|x| x.verdict == Verdict::Inconclusive),
            n(&|x| x.point_verdict == PointVerdict::Fail && x.verdict == Verdict::Inconclusive),
        ]);
        let readings = of
            .iter()
            .map(|x| Reading {
                unit_id: &x.unit_id,
                rate: x.rate,
                low: x.ci.low,
                high: x.ci.high,
                rule: x.rule,
            })
            .collect();
        charts.push(rates_chart(
            ctx,
            stem(ind),
            chart_indicator(ind),
            readings,
            general,
            r.config.confidence,
        ));
    }
    sec.table(header, rows, None);
    // officially failing, statistically inconclusive
    let mut doubtful: Vec<_> = r
        .results
        .iter()
        .filter(|x| x.point_verdict == PointVerdict::Fail && x.verdict == Verdict::Inconclusive)
        .collect();
    doubtful.sort_by(|a, b| a.unit_id.cmp(&b.unit_id).then(a.indicator.as_str().cmp(b.indicator.as_str())));
    let name_of = |id: &str| s.hierarchy.find(id).map(|u| unit_name(s, u)).unwrap_or_else(|| id.to_string());
    if !doubtful.is_empty() {
        sec.para(match lang {
            Lang::Zh => format!(
                "以下 {} 项按点估计未达标，但置信区间跨越阈值，样本不足以认定（前 10 项，全部见 indicators.csv）：",
                doubtful.len()
            ),
            Lang::En => format!(
                "{} readings fail by the point estimate but their interval crosses the threshold: the sample cannot settle them (first 10; all in indicators.csv):",
                doubtful.len()
            ),
        });
        sec.list(
            doubtful
                .iter()
                .take(10)
                .map(|x| {
                    format!(
                        "{} {} · {}: {}/{} = {} [{}, {}]",
                        x.unit_id,
                        name_of(&x.unit_id),
                        chart_indicator(x.indicator).name(lang),
                        x.flagged,
                        x.sampled,
                        pct(x.rate, 2),
                        pct(x.ci.low, 2),
                        pct(x.ci.high, 2)
                    )
                })
                .collect(),
        );
    }
    // comprehensive incidence of the exit check
    if !r.exits.is_empty() {
        let may = r.exits.iter().filter(|e| e.2.may_exit).count();
        let stat_fail = r.exits.iter().filter(|e| e.1.verdict != Verdict::Pass).count();
        sec.para(match lang {
            Lang::Zh => format!(
                "退出检查（综合贫困发生率与“四个不准”否决）：{} 个县中 {may} 个符合退出条件；按区间读数，{stat_fail} 个县的综合贫困发生率未能确认低于阈值（见 exit_check.csv）。",
                r.exits.len()
            ),
            Lang::En => format!(
                "Exit check (comprehensive incidence and the four vetoes): {may} of {} counties may exit; by the interval reading, {stat_fail} counties' comprehensive incidence is not confirmed below the threshold (see exit_check.csv).",
                r.exits.len()
            ),
        });
        let readings = r
            .exits
            .iter()
            .map(|(_, inc, _)| Reading {
                unit_id: &inc.unit_id,
                rate: inc.incidence,
                low: inc.ci.low,
                high: inc.ci.high,
                rule: inc.rule,
            })
            .collect();
        charts.push(rates_chart(
            ctx,
            "rates-incidence",
            ChartIndicator::ComprehensiveIncidence,
            readings,
            r.config.rule(Gate::Incidence),
            r.config.confidence,
        ));
    }
    for c in &charts {
        sec.chart(&c.stem);
    }
    // scores
    let mut highlights = Vec::new();
    let point_fail = r.results.iter().filter(|x| x.point_verdict == PointVerdict::Fail).count();
    highlights.push(match lang {
        Lang::Zh => format!(
            "第三方评估指标：{} 项读数中 {point_fail} 项按点估计未达标，其中 {} 项在统计上不确定（置信区间跨越阈值）。",
            r.results.len(),
            doubtful.len()
        ),
        Lang::En => format!(
            "Survey indicators: {point_fail} of {} readings fail by the point estimate, {} of them statistically inconclusive (the interval crosses the threshold).",
            r.results.len(),
            doubtful.len()
        ),
    });
    let links: Vec<(String, String)> = out.tables.iter().map(|t| (t.name.clone(), t.name.clone())).collect();
    if let Some((table, scores)) = &r.scores {
        let mut grades: BTreeMap<&str, usize> = BTreeMap::new();
        for u in scores {
            *grades.entry(u.grade.as_str()).or_default() += 1;
        }
        let boot: BTreeMap<&str, &crate::score::UnitSamplingError> = r
            .boot
            .as_ref()
            .map(|b| b.units.iter().map(|u| (u.unit_id.as_str(), u)).collect())
            .unwrap_or_default();
        let capped = scores.iter().filter(|u| !u.caps_applied.is_empty()).count();
        let grade_list = grades
            .iter()
            .map(|(g, n)| format!("{g} {n}"))
            .collect::<Vec<_>>()
            .join(ctx.tr("、", ", "));
        sec.para(match lang {
            Lang::Zh => format!(
                "考核评分：{} 个单位，满分 {}；等级分布 {grade_list}；{capped} 个单位因封顶规则降低等级。抽样误差来自 {} 次参数自助抽样（种子 {}）：“等级变化概率”是重新抽样后等级不同的概率，“排名区间”是 5%–95% 的排名。",
                scores.len(),
                super::fmt::money(table.max_total()),
                r.boot.as_ref().map(|b| b.draws).unwrap_or(0),
                r.boot.as_ref().map(|b| b.seed).unwrap_or(0),
            ),
            Lang::En => format!(
                "Scores: {} units, out of {}; grades {grade_list}; {capped} unit(s) lowered by a grade cap. Sampling error from {} parametric bootstrap draws (seed {}): the grade-change probability is the chance a fresh sample gives another grade, the rank range is the 5%–95% rank.",
                scores.len(),
                super::fmt::money(table.max_total()),
                r.boot.as_ref().map(|b| b.draws).unwrap_or(0),
                r.boot.as_ref().map(|b| b.seed).unwrap_or(0),
            ),
        });
        let header: Vec<String> = [
            ("单位代码", "Unit id"),
            ("单位", "Unit"),
            ("总分", "Total"),
            ("等级", "Grade"),
            ("封顶规则", "Caps applied"),
            ("等级变化概率", "Grade-change probability"),
            ("排名 (5%–95%)", "Rank (5%–95%)"),
        ]
        .iter()
        .map(|(z, e)| ctx.tr(z, e).to_string())
        .collect();
        let mut ranked: Vec<_> = scores.iter().collect();
        ranked.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.unit_id.cmp(&b.unit_id)));
        let rows = ranked
            .iter()
            .map(|u| {
                let b = boot.get(u.unit_id.as_str());
                vec![
                    u.unit_id.clone(),
                    name_of(&u.unit_id),
                    super::fmt::round_grouped(u.total, 2),
                    u.grade.clone(),
                    u.caps_applied.join(ctx.tr("、", ", ")),
                    b.map(|x| pct(x.grade_change_probability, 1)).unwrap_or_default(),
                    b.map(|x| format!("{} ({}–{})", x.rank, x.rank_low, x.rank_high))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        sec.table(header, rows, Some("scores.csv"));
        let unstable = r
            .boot
            .as_ref()
            .map(|b| b.units.iter().filter(|u| u.grade_change_probability > 0.1).count())
            .unwrap_or(0);
        highlights.push(match lang {
            Lang::Zh => format!(
                "考核评分：{} 个单位，等级分布 {grade_list}；{unstable} 个单位的等级在超过 10% 的重新抽样中会改变。",
                scores.len()
            ),
            Lang::En => format!(
                "Scores: {} units, grades {grade_list}; {unstable} unit(s) change grade in more than 10% of resamples.",
                scores.len()
            ),
        });
    }
    sec.links(links);
    out.charts = charts;
    out.sections.push(sec);
    out.highlights = highlights;
    Ok(out)
}

fn ci_name(lang: Lang, r: &ScoreRun) -> &'static str {
    match (r.config.ci.as_str(), lang) {
        ("wilson", Lang::Zh) => "Wilson",
        ("wilson", Lang::En) => "Wilson",
        (_, Lang::Zh) => "Clopper–Pearson 精确",
        (_, Lang::En) => "exact Clopper–Pearson",
    }
}
