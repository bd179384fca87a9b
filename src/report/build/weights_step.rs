//! Steps `check-weights` (when `scenario.toml` has `[[check]]` rules), `infer-weights` (when
//! there is an `actual.csv`) and `weight-ranges` (the chart combining both).

use super::alloc_step::{factor_label, unit_name};
use super::fmt::pct;
use super::{ChartSpec, CheckRun, Ctx, InferRun, SectionOut, StepOutput};
use crate::error::InputErrors;
use crate::lpcheck::bind::{self, check_tables, infer_tables, run_checks, select};
use crate::lpcheck::{CheckOptions, NamedCheck, Rule};
use crate::output::f;
use crate::report::charts::{Chart, WeightRangeChart, WeightRangeRow};
use crate::report::Lang;
use crate::scenario::Scenario;

/// Runs when `scenario.toml` has `[[check]]` rules.
pub(super) fn applies_check(ctx: &Ctx<'_>) -> Result<(), String> {
    if ctx.scenario.raw.check.is_empty() {
        Err(ctx
            .tr("scenario.toml 中没有 [[check]] 规则", "scenario.toml has no [[check]] rules")
            .into())
    } else {
        Ok(())
    }
}

/// Runs when the scenario has an actual distribution (`actual.csv`).
pub(super) fn applies_infer(ctx: &Ctx<'_>) -> Result<(), String> {
    if ctx.scenario.tables.contains_key("actual") {
        Ok(())
    } else {
        Err(ctx.tr("没有实际分配数据 actual.csv", "no actual distribution (actual.csv)").into())
    }
}

/// Runs when either LP step has run.
pub(super) fn applies_chart(ctx: &Ctx<'_>) -> Result<(), String> {
    if ctx.results.weight_check.is_some() || ctx.results.inference.is_some() {
        Ok(())
    } else {
        Err(ctx
            .tr("没有权重检验或权重反推结果", "neither a weight check nor a weight inference ran")
            .into())
    }
}

/// The pool the `[[check]]` rules are about: the default pool (first of the last stage) when
/// a rule applies to it, else the pool (and stage) the first rule names.
fn check_target(s: &Scenario) -> (usize, Option<String>) {
    let last = s.stages.len();
    let default_pool = s.stages.last().and_then(|st| st.pools.first()).map(|p| p.id.clone());
    let applies = |stage: usize, pool: &str| {
        s.raw.check.iter().any(|c| {
            let c = c.get_ref();
            c.stage.is_none_or(|x| x == stage) && c.pool.as_deref().is_none_or(|p| p == pool)
        })
    };
    if let Some(p) = &default_pool {
        if applies(last, p) {
            return (last, default_pool);
        }
    }
    for c in &s.raw.check {
        let c = c.get_ref();
        if let Some(pool) = &c.pool {
            let stage = c.stage.unwrap_or_else(|| {
                s.stages
                    .iter()
                    .rposition(|st| st.pools.iter().any(|p| &p.id == pool))
                    .map(|i| i + 1)
                    .unwrap_or(last)
            });
            return (stage, Some(pool.clone()));
        }
    }
    (last, default_pool)
}

fn pool_name(s: &Scenario, stage: usize, pool: &str) -> String {
    s.stages
        .get(stage.wrapping_sub(1))
        .and_then(|st| st.pools.iter().find(|p| p.id == pool))
        .map(|p| p.name.clone())
        .unwrap_or_else(|| pool.to_string())
}

fn kind_label(lang: Lang, kind: &str) -> String {
    let (zh, en) = match kind {
        "weight_bounds" => ("权重上下限", "weight bounds"),
        "group_per_capita" => ("组人均资金", "group per capita"),
        "group_growth" => ("组资金增幅", "group growth"),
        "group_min_share" => ("组最低份额", "group minimum share"),
        "need_monotone" => ("需要单调性", "need monotonicity"),
        other => return other.to_string(),
    };
    super::tr(lang, zh, en).to_string()
}

/// The rule in policy terms: the `rule` text from `scenario.toml` when given, else a sentence
/// generated from the rule's parameters.
fn describe(s: &Scenario, lang: Lang, check: &NamedCheck, text: Option<&str>) -> String {
    if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
        return t.to_string();
    }
    let r2 = |x: f64| f((x * 1e4).round() / 1e4);
    match (&check.rule, lang) {
        (Rule::WeightBounds { factor, lo, hi }, Lang::Zh) => {
            format!("因素“{}”的权重在 {} 至 {} 之间", factor_label(s, factor), pct(*lo, 1), pct(*hi, 1))
        }
        (Rule::WeightBounds { factor, lo, hi }, Lang::En) => {
            format!(
                "the weight of `{}` is between {} and {}",
                factor_label(s, factor),
                pct(*lo, 1),
                pct(*hi, 1)
            )
        }
        (Rule::GroupPerCapita { group, min_ratio }, Lang::Zh) => {
            format!("“{group}”组的人均资金不低于平均水平的 {} 倍", r2(*min_ratio))
        }
        (Rule::GroupPerCapita { group, min_ratio }, Lang::En) => {
            format!("group `{group}` gets at least {} times the average amount per head", r2(*min_ratio))
        }
        (Rule::GroupGrowth { group, ratio, margin }, Lang::Zh) => {
            format!("“{group}”组的资金增幅不低于平均增幅的 {} 倍再加 {}", r2(*ratio), pct(*margin, 1))
        }
        (Rule::GroupGrowth { group, ratio, margin }, Lang::En) => format!(
            "group `{group}` grows by at least {} times the average growth plus {}",
            r2(*ratio),
            pct(*margin, 1)
        ),
        (Rule::GroupMinShare { group, min_share }, Lang::Zh) => {
            format!("“{group}”组获得本切块资金的 {} 以上", pct(*min_share, 1))
        }
        (Rule::GroupMinShare { group, min_share }, Lang::En) => {
            format!("group `{group}` receives at least {} of the pool", pct(*min_share, 1))
        }
        (Rule::NeedMonotone { .. }, Lang::Zh) => "在每个因素上都更困难的单位，所得人均资金不少于另一单位".into(),
        (Rule::NeedMonotone { .. }, Lang::En) => "a unit that is needier on every factor gets no less per head than the other".into(),
    }
}

/// `"620103 >= 620111"` with unit names: `七里河区 (620103) ≥ 榆中县 (620111)`.
fn pair_label(s: &Scenario, pair: &str) -> String {
    match pair.split_once(">=") {
        Some((a, b)) => {
            let name = |id: &str| {
                let id = id.trim();
                match s.hierarchy.find(id) {
                    Some(u) => format!("{} ({id})", unit_name(s, u)),
                    None => id.to_string(),
                }
            };
            format!("{} ≥ {}", name(a), name(b))
        }
        None => pair.to_string(),
    }
}

/// Runs `check-weights` on the pool the rules name.
pub(super) fn run_check(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let alloc = ctx.allocation()?;
    let (stage, pool) = check_target(s);
    let sel = select(s, alloc, Some(stage), pool.as_deref())?;
    let pool_id = sel.pool.id.clone();
    let r = run_checks(s, &sel, None, &CheckOptions::default())?;
    let (wc, wr) = check_tables(&r);
    let mut sec = SectionOut::new("check-weights", ctx.tr("权重合理性检验", "Weight check"));
    let from = s.hierarchy.find(&r.from).map(|u| unit_name(s, u)).unwrap_or_else(|| r.from.clone());
    let recipients = sel
        .splits
        .iter()
        .find(|x| s.hierarchy.unit(x.from).is_some_and(|u| u.id == r.from))
        .map(|x| x.recipients.len())
        .unwrap_or(0);
    let pname = pool_name(s, stage, &pool_id);
    sec.para(match lang {
        Lang::Zh => format!(
            "用线性规划检验第{stage}阶段“{pname}”切块（{from}分配给 {recipients} 个单位）的设定权重是否符合 scenario.toml 中 [[check]] 所列的 {} 条政策规则，并求出所有符合规则的权重的范围。",
            r.checks.len()
        ),
        Lang::En => format!(
            "A linear programme checks the stated weights of pool `{pname}` in stage {stage} (split by {from} among {recipients} units) against the {} policy rules in scenario.toml's [[check]], and finds the range of every weight that satisfies them all.",
            r.checks.len()
        ),
    });
    let broken: Vec<String> = r
        .result
        .outcomes
        .iter()
        .zip(&r.checks)
        .filter(|(o, _)| !o.satisfied)
        .map(|(o, (c, text))| format!("{}: {}", o.name, describe(s, lang, c, text.as_deref())))
        .collect();
    if broken.is_empty() {
        sec.para(ctx.tr("设定权重满足全部规则。", "The stated weights satisfy every rule."));
    } else {
        sec.note(match lang {
            Lang::Zh => format!("设定权重违反 {} 条规则：", broken.len()),
            Lang::En => format!("The stated weights break {} rule(s):", broken.len()),
        });
        sec.list(broken);
    }
    let header = vec![
        ctx.tr("规则", "Rule").to_string(),
        ctx.tr("类型", "Kind").into(),
        ctx.tr("结论", "Verdict").into(),
        ctx.tr("松弛量", "Slack").into(),
        ctx.tr("政策表述", "In policy terms").into(),
        ctx.tr("最紧的单位对", "Tightest pair").into(),
    ];
    let rows = r
        .result
        .outcomes
        .iter()
        .zip(&r.checks)
        .map(|(o, (c, text))| {
            vec![
                o.name.clone(),
                kind_label(lang, o.kind),
                if o.satisfied {
                    ctx.tr("满足", "holds")
                } else {
                    ctx.tr("违反", "BROKEN")
                }
                .to_string(),
                o.slack.map(|x| f((x * 1e4).round() / 1e4)).unwrap_or_else(|| "-".into()),
                describe(s, lang, c, text.as_deref()),
                o.binding.as_deref().map(|b| pair_label(s, b)).unwrap_or_default(),
            ]
        })
        .collect();
    sec.table(header, rows, Some("weight_check.csv"));
    if r.result.admissible {
        let dist = r.result.nearest.as_ref().map(|n| n.distance).unwrap_or(0.0);
        sec.para(match lang {
            Lang::Zh => format!(
                "存在同时满足全部规则的权重。下表给出每个因素权重的可行范围，以及离设定权重最近（各权重调整量绝对值之和最小，为 {}）的可行权重。",
                pct(dist, 1)
            ),
            Lang::En => format!(
                "Weights satisfying every rule exist. The table gives each weight's admissible range and the admissible weights nearest the stated ones (total absolute change {}).",
                pct(dist, 1)
            ),
        });
        let header = vec![
            ctx.tr("因素", "Factor").to_string(),
            ctx.tr("设定权重", "Stated").into(),
            ctx.tr("可行最小", "Min").into(),
            ctx.tr("可行最大", "Max").into(),
            ctx.tr("最近可行权重", "Nearest admissible").into(),
        ];
        let rows = r
            .stated
            .iter()
            .enumerate()
            .map(|(k, (col, stated))| {
                let range = r.result.ranges.as_ref().and_then(|v| v.get(k));
                let near = r.result.nearest.as_ref().and_then(|n| n.weights.get(k)).copied();
                vec![
                    factor_label(s, col),
                    pct(*stated, 1),
                    range.map(|x| pct(x.min, 1)).unwrap_or_default(),
                    range.map(|x| pct(x.max, 1)).unwrap_or_default(),
                    near.map(|x| pct(x, 1)).unwrap_or_default(),
                ]
            })
            .collect();
        sec.table(header, rows, Some("weight_ranges.csv"));
    } else {
        sec.note(ctx.tr(
            "不存在同时满足全部规则的权重：无论怎样设定权重，下列规则都不能同时成立（最小冲突集：去掉其中任何一条，其余规则即可同时满足）。",
            "No weights satisfy every rule: whatever the weights, the rules below cannot all hold (a minimal conflicting set: drop any one of them and the rest can hold together).",
        ));
        let items: Vec<String> = r
            .result
            .conflict
            .iter()
            .flatten()
            .map(|name| {
                let (base, pair) = match name.split_once(": ") {
                    Some((b, p)) => (b, Some(p)),
                    None => (name.as_str(), None),
                };
                let found = r.checks.iter().find(|(c, _)| c.name == *name || c.name == base);
                let text = found.map(|(c, t)| describe(s, lang, c, t.as_deref())).unwrap_or_default();
                let pair = pair.map(|p| format!(" [{}]", pair_label(s, p))).unwrap_or_default();
                format!("{base}{pair}: {text}")
            })
            .collect();
        if items.is_empty() {
            sec.para(ctx.tr("（未求出冲突集）", "(no conflicting set was computed)"));
        } else {
            sec.list(items);
        }
    }
    sec.links(vec![
        ("weight_check.csv".into(), "weight_check.csv".into()),
        ("weight_ranges.csv".into(), "weight_ranges.csv".into()),
    ]);
    let broken_names: Vec<&str> = r.result.outcomes.iter().filter(|o| !o.satisfied).map(|o| o.name.as_str()).collect();
    let mut highlight = match (lang, broken_names.is_empty()) {
        (Lang::Zh, true) => format!("权重检验：设定权重满足全部 {} 条规则", r.checks.len()),
        (Lang::En, true) => format!("Weight check: the stated weights satisfy all {} rules", r.checks.len()),
        (Lang::Zh, false) => format!(
            "权重检验：设定权重违反 {} 条规则（{}）",
            broken_names.len(),
            broken_names.join("、")
        ),
        (Lang::En, false) => format!(
            "Weight check: the stated weights break {} rule(s) ({})",
            broken_names.len(),
            broken_names.join(", ")
        ),
    };
    highlight.push_str(&match (lang, r.result.admissible, &r.result.conflict) {
        (Lang::Zh, true, _) => "；存在符合全部规则的权重。".to_string(),
        (Lang::En, true, _) => "; weights satisfying every rule exist.".to_string(),
        (Lang::Zh, false, Some(c)) => format!("；没有权重能同时满足全部规则，冲突的规则：{}。", c.join("、")),
        (Lang::En, false, Some(c)) => format!("; no weights satisfy every rule, conflicting rules: {}.", c.join(", ")),
        (Lang::Zh, false, None) => "；没有权重能同时满足全部规则。".to_string(),
        (Lang::En, false, None) => "; no weights satisfy every rule.".to_string(),
    });
    let out = StepOutput {
        tables: vec![wc, wr],
        charts: Vec::new(),
        sections: vec![sec],
        highlights: vec![highlight],
    };
    ctx.results.weight_check = Some(CheckRun {
        stage,
        pool: pool_id,
        report: r,
    });
    Ok(out)
}

/// Runs `infer-weights` on the default pool from `actual.csv`.
pub(super) fn run_infer(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let alloc = ctx.allocation()?;
    let sel = select(s, alloc, None, None)?;
    let stage = sel.stage;
    let pool_id = sel.pool.id.clone();
    let r = bind::run_infer(s, alloc, &sel, 0.01, None, true)?;
    let (iw, rs) = infer_tables(&r);
    let inf = &r.inference;
    let pname = pool_name(s, stage, &pool_id);
    let mut sec = SectionOut::new("infer-weights", ctx.tr("权重反推", "Weight inference"));
    let names = |ids: &[String]| -> String {
        ids.iter()
            .map(|id| s.hierarchy.find(id).map(|u| unit_name(s, u)).unwrap_or_else(|| id.clone()))
            .collect::<Vec<_>>()
            .join(ctx.tr("、", ", "))
    };
    sec.para(match lang {
        Lang::Zh => format!(
            "依据 actual.csv 的实际分配额，反推第{stage}阶段“{pname}”切块实际隐含的因素权重：用 {} 个单位拟合（最小绝对偏差 L1 和最小最大偏差 L∞ 两种拟合）。",
            inf.residuals.len()
        ),
        Lang::En => format!(
            "From the actual amounts in actual.csv, the weights pool `{pname}` of stage {stage} really implies: {} units fitted (least absolute deviation L1 and least maximum deviation L∞).",
            inf.residuals.len()
        ),
    });
    if !r.excluded.is_empty() {
        sec.para(match lang {
            Lang::Zh => format!("处于保底或封顶的 {} 个单位不参与拟合：{}。", r.excluded.len(), names(&r.excluded)),
            Lang::En => format!(
                "{} units at a floor or cap are left out of the fit: {}.",
                r.excluded.len(),
                names(&r.excluded)
            ),
        });
    }
    if !r.missing.is_empty() {
        sec.note(match lang {
            Lang::Zh => format!("{} 个受益单位没有实际分配数据：{}。", r.missing.len(), names(&r.missing)),
            Lang::En => format!("{} recipients have no actual amount: {}.", r.missing.len(), names(&r.missing)),
        });
    }
    sec.para(match lang {
        Lang::Zh => format!(
            "按公式分配的资金占比（L1 拟合的 Σv）：{}。低于 100% 说明有部分资金没有按公式分配。",
            pct(inf.l1.formula_share, 1)
        ),
        Lang::En => format!(
            "Share of the pool that follows the formula (Σv of the L1 fit): {}. Below 100% means part of the pool was not split by the formula.",
            pct(inf.l1.formula_share, 1)
        ),
    });
    let header = vec![
        ctx.tr("因素", "Factor").to_string(),
        ctx.tr("设定权重", "Stated").into(),
        ctx.tr("反推权重 (L1)", "Inferred (L1)").into(),
        ctx.tr("反推权重 (L∞)", "Inferred (L∞)").into(),
        ctx.tr("容差内最小", "Min within tolerance").into(),
        ctx.tr("容差内最大", "Max within tolerance").into(),
    ];
    let rows = r
        .stated
        .iter()
        .enumerate()
        .map(|(k, (col, stated))| {
            let range = inf.ranges.as_ref().and_then(|v| v.get(k));
            vec![
                factor_label(s, col),
                pct(*stated, 1),
                inf.l1.weights.get(k).map(|x| pct(*x, 1)).unwrap_or_default(),
                inf.linf.weights.get(k).map(|x| pct(*x, 1)).unwrap_or_default(),
                range.map(|x| pct(x.min, 1)).unwrap_or_default(),
                range.map(|x| pct(x.max, 1)).unwrap_or_default(),
            ]
        })
        .collect();
    sec.table(header, rows, Some("inferred_weights.csv"));
    let flagged: Vec<&crate::lpcheck::Residual> = inf.residuals.iter().filter(|x| x.flagged).collect();
    if flagged.is_empty() {
        sec.para(match lang {
            Lang::Zh => format!(
                "全部单位的实际份额都在容差之内（相对 {}，绝对 {:.2e}）。",
                pct(r.tolerances.0, 1),
                r.tolerances.1
            ),
            Lang::En => format!(
                "Every unit's actual share is within tolerance (relative {}, absolute {:.2e}).",
                pct(r.tolerances.0, 1),
                r.tolerances.1
            ),
        });
    } else {
        sec.note(match lang {
            Lang::Zh => format!("{} 个单位的实际份额偏离拟合值超过容差，任何权重都无法解释：", flagged.len()),
            Lang::En => format!(
                "{} unit(s) deviate from the fit beyond tolerance; no weights explain them:",
                flagged.len()
            ),
        });
        let header = vec![
            ctx.tr("单位代码", "Unit id").to_string(),
            ctx.tr("单位", "Unit").into(),
            ctx.tr("实际份额", "Actual share").into(),
            ctx.tr("拟合份额", "Fitted share").into(),
            ctx.tr("偏差占拟合值", "Deviation / fitted").into(),
        ];
        let rows = flagged
            .iter()
            .map(|x| {
                let rel = if x.fitted != 0.0 { x.residual / x.fitted } else { 0.0 };
                vec![
                    x.unit_id.clone(),
                    s.hierarchy.find(&x.unit_id).map(|u| unit_name(s, u)).unwrap_or_default(),
                    pct(x.actual, 3),
                    pct(x.fitted, 3),
                    crate::report::format::format_signed(rel * 100.0, 1) + "%",
                ]
            })
            .collect();
        sec.table(header, rows, Some("residuals.csv"));
    }
    sec.links(vec![
        ("inferred_weights.csv".into(), "inferred_weights.csv".into()),
        ("residuals.csv".into(), "residuals.csv".into()),
    ]);
    let flagged_names: Vec<String> = flagged
        .iter()
        .map(|x| {
            s.hierarchy
                .find(&x.unit_id)
                .map(|u| unit_name(s, u))
                .unwrap_or_else(|| x.unit_id.clone())
        })
        .collect();
    let highlight = match (lang, flagged_names.is_empty()) {
        (Lang::Zh, true) => format!(
            "权重反推：按公式分配的资金占比 {}，全部单位都能由公式解释。",
            pct(inf.l1.formula_share, 1)
        ),
        (Lang::En, true) => format!(
            "Weight inference: {} of the pool follows the formula; every unit is explained.",
            pct(inf.l1.formula_share, 1)
        ),
        (Lang::Zh, false) => format!(
            "权重反推：按公式分配的资金占比 {}；{} 个单位的实际分配无法由任何权重解释（{}）。",
            pct(inf.l1.formula_share, 1),
            flagged_names.len(),
            flagged_names.join("、")
        ),
        (Lang::En, false) => format!(
            "Weight inference: {} of the pool follows the formula; {} unit(s) are not explained by any weights ({}).",
            pct(inf.l1.formula_share, 1),
            flagged_names.len(),
            flagged_names.join(", ")
        ),
    };
    let out = StepOutput {
        tables: vec![iw, rs],
        charts: Vec::new(),
        sections: vec![sec],
        highlights: vec![highlight],
    };
    ctx.results.inference = Some(InferRun {
        stage,
        pool: pool_id,
        report: r,
    });
    Ok(out)
}

/// Chart of stated weights, admissible ranges (check-weights) and inferred weights (L1).
pub(super) fn run_chart(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let check = ctx.results.weight_check.as_ref();
    // the inference joins the chart only when it is about the same pool
    let infer = ctx
        .results
        .inference
        .as_ref()
        .filter(|i| check.is_none_or(|c| c.stage == i.stage && c.pool == i.pool));
    let (stage, pool, stated) = match (check, infer) {
        (Some(c), _) => (c.stage, c.pool.clone(), c.report.stated.clone()),
        (None, Some(i)) => (i.stage, i.pool.clone(), i.report.stated.clone()),
        (None, None) => return Ok(StepOutput::default()),
    };
    let rows = stated
        .iter()
        .enumerate()
        .map(|(k, (col, w))| {
            let range = check.and_then(|c| c.report.result.ranges.as_ref()).and_then(|v| v.get(k));
            WeightRangeRow {
                factor: factor_label(s, col),
                min: range.map(|x| x.min).unwrap_or(1.0),
                max: range.map(|x| x.max).unwrap_or(0.0),
                stated: Some(*w),
                inferred: infer.and_then(|i| i.report.inference.l1.weights.get(k).copied()),
            }
        })
        .collect();
    let pname = pool_name(s, stage, &pool);
    let subtitle = match lang {
        Lang::Zh => format!("第{stage}阶段 · “{pname}”切块"),
        Lang::En => format!("Stage {stage} · pool `{pname}`"),
    };
    let mut caption = match lang {
        Lang::Zh => "各因素权重：设定值".to_string(),
        Lang::En => "Factor weights: stated".to_string(),
    };
    if check.is_some_and(|c| c.report.result.admissible) {
        caption.push_str(ctx.tr(
            "、符合全部 [[check]] 规则的可行范围",
            ", the range admissible under every [[check]] rule",
        ));
    } else if check.is_some() {
        caption.push_str(ctx.tr(
            "（没有符合全部规则的权重，故无可行范围）",
            " (no weights satisfy every rule, so no admissible range)",
        ));
    }
    if infer.is_some() {
        caption.push_str(ctx.tr(
            "、由实际分配反推的权重 (L1)",
            ", and the weights the actual distribution implies (L1)",
        ));
    }
    let chart = ChartSpec {
        stem: "weight-ranges".into(),
        chart: Chart::WeightRanges(WeightRangeChart { rows }),
        frame: ctx.frame(Some(subtitle)),
        caption,
    };
    let mut sec = SectionOut::new("weight-ranges", ctx.tr("因素权重对比", "Factor weights compared"));
    sec.chart(&chart.stem);
    Ok(StepOutput {
        tables: Vec::new(),
        charts: vec![chart],
        sections: vec![sec],
        highlights: Vec::new(),
    })
}
