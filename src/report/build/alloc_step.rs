//! Step `allocation`: the factor-method allocation (always runs). Writes `allocation.csv`;
//! page sections: the summary (total, recipients, largest and smallest, per-capita range per
//! stage) and the allocation tables; charts: the final stage's amounts stacked by factor
//! contribution, and amount per capita against poverty incidence.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::fmt::{money, pct_dec, round_grouped};
use super::{Ctx, SectionOut, StepOutput};
use crate::alloc::{Allocation, RowKind};
use crate::error::InputErrors;
use crate::report::charts::{Chart, ContributionChart, PovertyClass, ScatterChart, ScatterPoint, UnitContribution};
use crate::report::Lang;
use crate::scenario::Scenario;

/// The allocation always runs.
pub(super) fn applies(_ctx: &Ctx<'_>) -> Result<(), String> {
    Ok(())
}

/// One recipient's total for a stage.
#[derive(Debug, Clone)]
pub(super) struct Recipient {
    pub unit: usize,
    pub amount: Decimal,
    pub share: Decimal,
    pub contrib: Vec<Decimal>,
    pub floored: bool,
    pub capped: bool,
    /// Amount from each pool of the stage, in pool order.
    pub pools: Vec<Decimal>,
}

/// One stage's totals.
#[derive(Debug, Clone)]
pub(super) struct StageView {
    pub stage: usize,
    pub level: String,
    /// Recipients with a non-zero total, largest first (ties by unit id).
    pub recipients: Vec<Recipient>,
    pub distributed: Decimal,
    pub reserve: Decimal,
    pub retained: Decimal,
    pub pool_names: Vec<String>,
}

/// The stages' totals from the allocation rows.
pub(super) fn stage_views(s: &Scenario, a: &Allocation) -> Vec<StageView> {
    let mut views = Vec::new();
    for (i, st) in s.stages.iter().enumerate() {
        let stage = i + 1;
        let mut by_pool: HashMap<(usize, &str), Decimal> = HashMap::new();
        let mut v = StageView {
            stage,
            level: st.level.clone(),
            recipients: Vec::new(),
            distributed: Decimal::ZERO,
            reserve: Decimal::ZERO,
            retained: Decimal::ZERO,
            pool_names: st.pools.iter().map(|p| p.name.clone()).collect(),
        };
        for r in a.rows.iter().filter(|r| r.stage == stage) {
            match &r.kind {
                RowKind::Pool(q) => {
                    let e = by_pool.entry((r.unit, a.pool_id(r.stage, *q))).or_default();
                    *e = e.saturating_add(r.amount);
                }
                RowKind::Total => {
                    v.distributed = v.distributed.saturating_add(r.amount);
                    if !r.amount.is_zero() {
                        v.recipients.push(Recipient {
                            unit: r.unit,
                            amount: r.amount,
                            share: r.share(),
                            contrib: a.contrib(r),
                            floored: r.floored,
                            capped: r.capped,
                            pools: Vec::new(),
                        });
                    }
                }
                RowKind::Reserve => v.reserve = v.reserve.saturating_add(r.amount),
                RowKind::Retained => v.retained = v.retained.saturating_add(r.amount),
            }
        }
        for rec in &mut v.recipients {
            rec.pools = st
                .pools
                .iter()
                .map(|p| by_pool.get(&(rec.unit, p.id.as_str())).copied().unwrap_or_default())
                .collect();
        }
        let id = |u: usize| s.hierarchy.unit(u).map(|x| x.id.clone()).unwrap_or_default();
        v.recipients
            .sort_by(|x, y| y.amount.cmp(&x.amount).then_with(|| id(x.unit).cmp(&id(y.unit))));
        views.push(v);
    }
    views
}

/// A unit's name (empty when the index is unknown).
pub(super) fn unit_name(s: &Scenario, u: usize) -> String {
    s.hierarchy.unit(u).map(|x| x.name.clone()).unwrap_or_default()
}

/// A unit's id.
pub(super) fn unit_id(s: &Scenario, u: usize) -> String {
    s.hierarchy.unit(u).map(|x| x.id.clone()).unwrap_or_default()
}

/// Names for a chart's rows: the unit name, with the id added where two shown units share a
/// name.
pub(super) fn chart_labels(s: &Scenario, units: &[usize]) -> Vec<String> {
    let mut count: HashMap<String, usize> = HashMap::new();
    for &u in units {
        *count.entry(unit_name(s, u)).or_default() += 1;
    }
    units
        .iter()
        .map(|&u| {
            let n = unit_name(s, u);
            if count.get(&n).copied().unwrap_or(0) > 1 || n.is_empty() {
                format!("{n} ({})", unit_id(s, u))
            } else {
                n
            }
        })
        .collect()
}

/// A level name in the report language (`county` → `县级`); other names as written.
pub(super) fn level_label(lang: Lang, level: &str) -> String {
    let zh = match level.to_ascii_lowercase().as_str() {
        "province" => "省级",
        "city" | "prefecture" => "市级",
        "county" => "县级",
        "township" | "town" => "乡镇",
        "village" => "村级",
        _ => return level.to_string(),
    };
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => level.to_string(),
    }
}

/// Display name of a factor column: the `name` given in the scenario, else the column.
pub(super) fn factor_label(s: &Scenario, column: &str) -> String {
    s.stages
        .iter()
        .flat_map(|st| st.pools.iter())
        .flat_map(|p| p.factors.iter())
        .find(|f| f.column == column)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| column.to_string())
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// Runs the allocation and builds its outputs.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let alloc = crate::alloc::allocate(s)?;
    let mut warnings = Vec::new();
    let pop: Option<(String, Vec<Option<Decimal>>)> = match &ctx.config.population {
        Some(c) => Some((c.clone(), s.factors.numeric_column(c, &mut warnings)?)),
        None => None,
    };
    let per_capita = |u: usize, amount: Decimal| -> Option<Decimal> {
        let (_, v) = pop.as_ref()?;
        let p = v.get(u).copied().flatten().filter(|p| *p > Decimal::ZERO)?;
        amount.checked_mul(s.money_unit.yuan())?.checked_div(p)
    };
    let views = stage_views(s, &alloc);
    let unit_word = s.money_unit.label(match lang {
        Lang::Zh => crate::scenario::Lang::Zh,
        Lang::En => crate::scenario::Lang::En,
    });
    let mut out = StepOutput::default();

    // ---- summary
    let mut sum = SectionOut::new("summary", ctx.tr("概要", "Summary"));
    let total = s.stages.first().and_then(|st| st.total).unwrap_or_default();
    sum.para(match lang {
        Lang::Zh => format!(
            "资金总额 {} {unit_word}，分 {} 个阶段按因素法分配。金额单位：{unit_word}。",
            money(total),
            s.stages.len()
        ),
        Lang::En => format!(
            "Total {} {unit_word}, split by the factor method in {} stage(s). Amounts in {unit_word}.",
            money(total),
            s.stages.len()
        ),
    });
    let mut header = vec![ctx.tr("指标", "Figure").to_string()];
    for v in &views {
        header.push(match lang {
            Lang::Zh => format!("第{}阶段：{}", v.stage, level_label(lang, &v.level)),
            Lang::En => format!("Stage {}: {}", v.stage, v.level),
        });
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |label: &str, f: &dyn Fn(&StageView) -> String| {
        let mut r = vec![label.to_string()];
        r.extend(views.iter().map(f));
        rows.push(r);
    };
    row(ctx.tr("分配额合计", "Distributed"), &|v| money(v.distributed));
    if views.iter().any(|v| !v.reserve.is_zero()) {
        row(ctx.tr("预留", "Reserve withheld"), &|v| money(v.reserve));
    }
    if views.iter().any(|v| !v.retained.is_zero()) {
        row(ctx.tr("无下级单位而留存", "Kept by units without recipients"), &|v| {
            money(v.retained)
        });
    }
    row(ctx.tr("受益单位数", "Recipients"), &|v| v.recipients.len().to_string());
    let named = |r: Option<&Recipient>| {
        r.map(|r| format!("{} {}", unit_name(s, r.unit), money(r.amount)))
            .unwrap_or_else(|| "-".into())
    };
    row(ctx.tr("最多", "Largest"), &|v| named(v.recipients.first()));
    row(ctx.tr("最少", "Smallest"), &|v| named(v.recipients.last()));
    if let Some((col, _)) = &pop {
        let col = factor_label(s, col);
        let label = match lang {
            Lang::Zh => format!("人均分配额范围（元，按{col}）"),
            Lang::En => format!("Amount per head of {col} (yuan)"),
        };
        row(&label, &|v| {
            let pcs: Vec<Decimal> = v.recipients.iter().filter_map(|r| per_capita(r.unit, r.amount)).collect();
            match (pcs.iter().min(), pcs.iter().max()) {
                (Some(lo), Some(hi)) => format!("{} – {}", round_grouped(*lo, 2), round_grouped(*hi, 2)),
                _ => "-".into(),
            }
        });
    }
    sum.table(header, rows, None);
    out.sections.push(sum);

    // ---- allocation tables
    let mut sec = SectionOut::new("allocation", ctx.tr("分配结果", "Allocation"));
    for v in &views {
        sec.para(match lang {
            Lang::Zh => format!(
                "第{}阶段：{} 个{}单位获得资金，合计 {} {unit_word}（按分配额从高到低排列）。",
                v.stage,
                v.recipients.len(),
                level_label(lang, &v.level),
                money(v.distributed)
            ),
            Lang::En => format!(
                "Stage {}: {} {} units receive {} {unit_word} in all (largest first).",
                v.stage,
                v.recipients.len(),
                v.level,
                money(v.distributed)
            ),
        });
        let mut header: Vec<String> = vec![
            ctx.tr("排名", "Rank").into(),
            ctx.tr("单位代码", "Unit id").into(),
            ctx.tr("单位", "Unit").into(),
            ctx.tr("上级单位", "Parent").into(),
        ];
        let several = v.pool_names.len() > 1;
        if several {
            header.extend(v.pool_names.iter().cloned());
        }
        header.push(format!("{} ({unit_word})", ctx.tr("分配额", "Amount")));
        header.push(ctx.tr("占比", "Share").into());
        if let Some((col, _)) = &pop {
            let col = factor_label(s, col);
            header.push(match lang {
                Lang::Zh => format!("人均 (元, 按{col})"),
                Lang::En => format!("Per head of {col} (yuan)"),
            });
        }
        header.push(ctx.tr("备注", "Note").into());
        let rows = v
            .recipients
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let parent = s
                    .hierarchy
                    .unit(r.unit)
                    .and_then(|u| u.parent)
                    .map(|p| unit_name(s, p))
                    .unwrap_or_default();
                let mut row = vec![(i + 1).to_string(), unit_id(s, r.unit), unit_name(s, r.unit), parent];
                if several {
                    row.extend(r.pools.iter().map(|x| money(*x)));
                }
                row.push(money(r.amount));
                row.push(pct_dec(r.share, 2));
                if pop.is_some() {
                    row.push(
                        per_capita(r.unit, r.amount)
                            .map(|x| round_grouped(x, 2))
                            .unwrap_or_else(|| "-".into()),
                    );
                }
                let mut note = Vec::new();
                if r.floored {
                    note.push(ctx.tr("保底", "floor"));
                }
                if r.capped {
                    note.push(ctx.tr("封顶", "cap"));
                }
                row.push(note.join(", "));
                row
            })
            .collect();
        sec.table(header, rows, Some("allocation.csv"));
    }
    if let Some(last) = views.last() {
        if let Some(chart) = contributions(ctx, &alloc, last) {
            sec.para(ctx.tr(
                "下图把每个单位的分配额按因素拆分：各因素的贡献按加权份额 w_k·s_ik 分摊（调节系数、保底和封顶之前的口径），各段之和等于分配额。",
                "The chart splits each unit's amount by factor: each factor's part is proportional to its weighted share w_k·s_ik (before adjustment, floors and caps); the parts sum to the amount.",
            ));
            sec.chart(&chart.stem);
            out.charts.push(chart);
        }
        match scatter(ctx, last, pop.as_ref()) {
            Ok(chart) => {
                sec.chart(&chart.stem);
                out.charts.push(chart);
            }
            Err(reason) => sec.note(reason),
        }
    }
    sec.links(vec![(
        ctx.tr("完整分配表 allocation.csv", "Full allocation table: allocation.csv").into(),
        "allocation.csv".into(),
    )]);
    out.sections.push(sec);
    out.tables.push(crate::output::allocation_table(s, &alloc));
    ctx.results.allocation = Some(alloc);
    Ok(out)
}

/// Stacked bars of the final stage's totals by factor contribution (top `max_bars` units).
fn contributions(ctx: &Ctx<'_>, a: &Allocation, v: &StageView) -> Option<super::ChartSpec> {
    let s = ctx.scenario;
    let n = v.recipients.len();
    if n == 0 {
        return None;
    }
    let shown: Vec<&Recipient> = v.recipients.iter().take(ctx.config.max_bars).collect();
    // factor columns that contribute anything in this stage
    let cols: Vec<usize> = (0..a.factor_columns.len())
        .filter(|&k| shown.iter().any(|r| r.contrib.get(k).is_some_and(|c| !c.is_zero())))
        .collect();
    let yuan = s.money_unit.yuan();
    let units: Vec<usize> = shown.iter().map(|r| r.unit).collect();
    let labels = chart_labels(s, &units);
    let rows = shown
        .iter()
        .zip(labels)
        .map(|(r, name)| UnitContribution {
            name,
            parts: cols
                .iter()
                .map(|&k| to_f64(r.contrib.get(k).copied().unwrap_or_default().saturating_mul(yuan)))
                .collect(),
        })
        .collect();
    let factors = cols
        .iter()
        .map(|&k| factor_label(s, a.factor_columns.get(k).map(String::as_str).unwrap_or("")))
        .collect();
    let lang = ctx.lang;
    let level = level_label(lang, &v.level);
    let subtitle = if shown.len() < n {
        match lang {
            Lang::Zh => format!(
                "第{}阶段 · 分配额最多的 {} 个{}单位 (共 {} 个, 其余见 allocation.csv)",
                v.stage,
                shown.len(),
                level,
                n
            ),
            Lang::En => format!(
                "Stage {} · the {} largest of {} {} units (all in allocation.csv)",
                v.stage,
                shown.len(),
                n,
                v.level
            ),
        }
    } else {
        match lang {
            Lang::Zh => format!("第{}阶段 · {} 个{}单位, 按分配额排序", v.stage, n, level),
            Lang::En => format!("Stage {} · {} {} units, largest first", v.stage, n, v.level),
        }
    };
    let caption = match lang {
        Lang::Zh => "各单位分配额（按因素贡献分解）".to_string(),
        Lang::En => "Allocation by unit, split by factor contribution".to_string(),
    };
    Some(super::ChartSpec {
        stem: "contributions".into(),
        chart: Chart::Contributions(ContributionChart { factors, units: rows }),
        frame: ctx.frame(Some(subtitle)),
        caption,
    })
}

/// Amount per capita against poverty incidence for the final stage's recipients, or the reason
/// it cannot be drawn.
fn scatter(ctx: &Ctx<'_>, v: &StageView, pop: Option<&(String, Vec<Option<Decimal>>)>) -> Result<super::ChartSpec, String> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let (Some(inc_col), Some((pop_col, pop))) = (&ctx.config.incidence, pop) else {
        return Err(match lang {
            Lang::Zh => "未绘制人均分配额与贫困发生率散点图：factors.csv 中没有贫困发生率列（默认 incidence，可在 [report] incidence 指定）或人口列（[report] population）。".into(),
            Lang::En => "No per-capita vs incidence scatter: factors.csv has no incidence column (default `incidence`, set [report] incidence) or no population column ([report] population).".into(),
        });
    };
    let mut warnings = Vec::new();
    let col = |name: &Option<String>| -> Vec<Option<Decimal>> {
        name.as_ref()
            .and_then(|c| s.factors.numeric_column(c, &mut Vec::new()).ok())
            .unwrap_or_default()
    };
    let incidence = s.factors.numeric_column(inc_col, &mut warnings).map_err(|e| e.to_string())?;
    let poor = col(&ctx.config.poverty_flag);
    let deep = col(&ctx.config.deep_poverty_flag);
    let flag = |c: &[Option<Decimal>], u: usize| c.get(u).copied().flatten().is_some_and(|x| !x.is_zero());
    // incidence given in percent when any value exceeds 1
    let percent = incidence.iter().flatten().any(|x| *x > Decimal::ONE);
    let yuan = s.money_unit.yuan();
    let mut pts: Vec<(usize, f64, f64, PovertyClass)> = Vec::new();
    for r in &v.recipients {
        let (Some(inc), Some(p)) = (
            incidence.get(r.unit).copied().flatten(),
            pop.get(r.unit).copied().flatten().filter(|p| *p > Decimal::ZERO),
        ) else {
            continue;
        };
        let Some(pc) = r.amount.checked_mul(yuan).and_then(|x| x.checked_div(p)) else {
            continue;
        };
        let inc = if percent { to_f64(inc) / 100.0 } else { to_f64(inc) };
        let class = if flag(&deep, r.unit) {
            PovertyClass::DeepPoverty
        } else if flag(&poor, r.unit) {
            PovertyClass::Poverty
        } else {
            PovertyClass::Other
        };
        pts.push((r.unit, inc, to_f64(pc), class));
    }
    if pts.len() < 2 {
        return Err(match lang {
            Lang::Zh => "未绘制散点图：有贫困发生率和人口数据的受益单位少于 2 个。".into(),
            Lang::En => "No scatter: fewer than 2 recipients have incidence and population data.".into(),
        });
    }
    // label the three highest amounts per capita (the outliers; the low end is crowded)
    let mut order: Vec<usize> = (0..pts.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (pts.get(i).map(|p| p.2), pts.get(j).map(|p| p.2));
        b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal).then(i.cmp(&j))
    });
    let labelled: Vec<usize> = order.iter().take(3.min(pts.len() / 2)).copied().collect();
    let units: Vec<usize> = pts.iter().map(|p| p.0).collect();
    let labels = chart_labels(s, &units);
    let points = pts
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (p, name))| ScatterPoint {
            name,
            incidence: p.1,
            per_capita: p.2,
            class: p.3,
            label: labelled.contains(&i),
        })
        .collect::<Vec<_>>();
    let counts: BTreeMap<u8, usize> = points.iter().fold(BTreeMap::new(), |mut m, p| {
        *m.entry(match p.class {
            PovertyClass::Other => 0,
            PovertyClass::Poverty => 1,
            PovertyClass::DeepPoverty => 2,
        })
        .or_default() += 1;
        m
    });
    let n = points.len();
    let pop_label = factor_label(s, pop_col);
    let subtitle = match lang {
        Lang::Zh => format!("第{}阶段 · {} 个受益单位 · 人均按{pop_label}计算", v.stage, n),
        Lang::En => format!("Stage {} · {} recipients · per head of {pop_label}", v.stage, n),
    };
    let caption = match lang {
        Lang::Zh => format!(
            "人均分配额与贫困发生率（深度贫困县 {} 个，其他贫困县 {} 个，其他单位 {} 个；标注人均最高的 3 个单位）",
            counts.get(&2).copied().unwrap_or(0),
            counts.get(&1).copied().unwrap_or(0),
            counts.get(&0).copied().unwrap_or(0)
        ),
        Lang::En => format!(
            "Amount per capita against poverty incidence ({} deep-poverty, {} other poverty, {} other units; the 3 highest per capita labelled)",
            counts.get(&2).copied().unwrap_or(0),
            counts.get(&1).copied().unwrap_or(0),
            counts.get(&0).copied().unwrap_or(0)
        ),
    };
    Ok(super::ChartSpec {
        stem: "scatter".into(),
        chart: Chart::Scatter(ScatterChart { points }),
        frame: ctx.frame(Some(subtitle)),
        caption,
    })
}
