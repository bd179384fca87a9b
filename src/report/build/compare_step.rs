//! Step `compare` (when `[report] baseline` names another scenario and the caller loaded it):
//! `fundsim compare baseline this` ([`crate::compare`]) → `compare.csv`, the winners-and-losers
//! chart and the waterfall of the change decomposition (all units, and the unit whose amount
//! changed most), drawn by [`compare_charts`], which `fundsim compare` uses too.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::fmt::money;
use super::{ChartSpec, Ctx, SectionOut, StepOutput};
use crate::compare::{compare, compare_table, Comparison, UnitChange};
use crate::error::InputErrors;
use crate::report::charts::{ChangeChart, ChangePart, ChangeRow, Chart, ChartFrame, WaterfallChart};
use crate::report::Lang;
use crate::scenario::Scenario;

/// Runs when `[report] baseline` is set and the baseline scenario was loaded.
pub(super) fn applies(ctx: &Ctx<'_>) -> Result<(), String> {
    match (&ctx.config.baseline, &ctx.inputs.baseline) {
        (None, _) => Err(ctx
            .tr("scenario.toml 中没有 [report] baseline", "scenario.toml has no [report] baseline")
            .into()),
        (Some(b), None) => Err(match ctx.lang {
            Lang::Zh => format!("基线方案 {b} 未加载（由 fundsim report 读取）"),
            Lang::En => format!("the baseline {b} was not loaded (fundsim report reads it)"),
        }),
        (Some(_), Some(_)) => Ok(()),
    }
}

/// The report language of a scenario.
fn lang_of(s: &Scenario) -> Lang {
    match s.lang {
        crate::scenario::Lang::Zh => Lang::Zh,
        crate::scenario::Lang::En => Lang::En,
    }
}

/// Units with a non-zero change `amount_2 − amount_1`, largest gain first (ties by id).
fn changes(c: &Comparison) -> Vec<(Decimal, &UnitChange)> {
    let mut rows: Vec<(Decimal, &UnitChange)> = c
        .units
        .iter()
        .map(|u| (u.amount_2.saturating_sub(u.amount_1), u))
        .filter(|x| !x.0.is_zero())
        .collect();
    rows.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.id.cmp(&y.1.id)));
    rows
}

/// The charts of a comparison of `s1` (baseline) with `s2`, in the language of `s1`, as
/// `(file stem, chart, frame)`: `compare_changes` — the 25 largest gains and the 25 largest
/// losses, in yuan; and, when the change is decomposed, `compare_waterfall_all` — the sum of
/// the parts (data, formula, total, floors/caps) over all units from the baseline total — and
/// `compare_waterfall_top` — the same for the unit whose amount changed most.
pub fn compare_charts(s1: &Scenario, s2: &Scenario, c: &Comparison) -> Vec<(String, Chart, ChartFrame)> {
    let lang = lang_of(s1);
    let yuan = |d: Decimal| d.saturating_mul(s1.money_unit.yuan()).to_f64().unwrap_or(0.0);
    let rows = changes(c);
    let mut pick: Vec<&(Decimal, &UnitChange)> = rows.iter().take(25).collect();
    pick.extend(
        rows.iter()
            .rev()
            .take(25)
            .filter(|x| !rows.iter().take(25).any(|y| y.1.id == x.1.id)),
    );
    let change = Chart::Changes(ChangeChart {
        rows: pick
            .iter()
            .map(|(d, u)| ChangeRow {
                name: u.name.clone(),
                change: yuan(*d),
            })
            .collect(),
    });
    let source = format!("{} → {} · fundsim", s1.title, s2.title);
    let frame = ChartFrame::new(lang, source);
    let mut out = vec![("compare_changes".to_string(), change, frame.clone())];
    let labels = [
        ChangePart::Data,
        ChangePart::Weights,
        ChangePart::Other(if lang == Lang::Zh { "总额变化".into() } else { "total".into() }),
        ChangePart::FloorsCaps,
    ];
    let mut waterfalls: Vec<(String, Option<f64>, [Decimal; 4])> = Vec::new();
    let mut sum = [Decimal::ZERO; 4];
    let mut base = Decimal::ZERO;
    for u in &c.units {
        if let Some(p) = u.parts {
            for (a, b) in sum.iter_mut().zip(p) {
                *a = a.saturating_add(b);
            }
            base = base.saturating_add(u.amount_1);
        }
    }
    if c.units.iter().any(|u| u.parts.is_some()) {
        waterfalls.push((
            if lang == Lang::Zh {
                "全部单位".into()
            } else {
                "all units".into()
            },
            Some(yuan(base)),
            sum,
        ));
        if let Some((_, u)) = rows.iter().max_by(|x, y| x.0.abs().cmp(&y.0.abs()).then(y.1.id.cmp(&x.1.id))) {
            if let Some(p) = u.parts {
                waterfalls.push((u.name.clone(), Some(yuan(u.amount_1)), p));
            }
        }
    }
    for (i, (subject, baseline, parts)) in waterfalls.into_iter().enumerate() {
        let chart = Chart::Waterfall(WaterfallChart {
            subject,
            baseline,
            parts: labels.iter().cloned().zip(parts.iter().map(|d| yuan(*d))).collect(),
        });
        let name = if i == 0 { "compare_waterfall_all" } else { "compare_waterfall_top" };
        out.push((name.to_string(), chart, frame.clone()));
    }
    out
}

/// Compares the baseline with this scenario and lays out the changes.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let Some(b) = ctx.inputs.baseline.as_ref() else {
        return Ok(StepOutput::default());
    };
    let c = compare(b, s)?;
    let table = compare_table(&c);
    let rows = changes(&c);
    let winners = rows.iter().filter(|x| x.0 > Decimal::ZERO).count();
    let losers = rows.iter().filter(|x| x.0 < Decimal::ZERO).count();
    let unchanged = c.units.len().saturating_sub(winners + losers);
    let unit_word = s.money_unit.label(s.lang);
    let mut sec = SectionOut::new("compare", ctx.tr("与基线方案比较", "Comparison with the baseline"));
    sec.para(match lang {
        Lang::Zh => format!(
            "基线方案：{}（{}）。与基线相比，{winners} 个单位分配额增加，{losers} 个减少，{unchanged} 个不变。每个单位的变化按固定顺序分解为数据变化、公式（权重）变化、总额变化和保底/封顶/取整四部分，各部分之和等于变化额。",
            b.title, b.name
        ),
        Lang::En => format!(
            "Baseline: {} ({}). Against it, {winners} units gain, {losers} lose, {unchanged} are unchanged. Each unit's change is split, in a fixed order, into the parts due to the data, the formula (weights), the total, and floors/caps/rounding; the parts sum to the change.",
            b.title, b.name
        ),
    });
    if let Some(n) = &c.decomposition_note {
        sec.note(match lang {
            Lang::Zh => format!("未分解变化：{n}"),
            Lang::En => format!("No decomposition: {n}"),
        });
    }
    let mut header: Vec<String> = vec![ctx.tr("单位代码", "Unit id").into(), ctx.tr("单位", "Unit").into()];
    header.extend(
        [
            ("基线金额", "Baseline"),
            ("本方案金额", "This scenario"),
            ("变化", "Change"),
            ("数据变化", "Data"),
            ("公式变化", "Formula"),
            ("总额变化", "Total"),
            ("保底/封顶", "Floors/caps"),
        ]
        .iter()
        .map(|(z, e)| format!("{} ({unit_word})", ctx.tr(z, e))),
    );
    // largest gains, then largest losses
    let mut shown: Vec<&(Decimal, &UnitChange)> = rows.iter().filter(|x| x.0 > Decimal::ZERO).take(10).collect();
    shown.extend(rows.iter().rev().filter(|x| x.0 < Decimal::ZERO).take(10));
    let trows = shown
        .iter()
        .map(|(d, u)| {
            let part = |k: usize| u.parts.and_then(|p| p.get(k).copied()).map(money).unwrap_or_default();
            vec![
                u.id.clone(),
                u.name.clone(),
                money(u.amount_1),
                money(u.amount_2),
                money(*d),
                part(0),
                part(1),
                part(2),
                part(3),
            ]
        })
        .collect();
    sec.para(match lang {
        Lang::Zh => "增加最多与减少最多的单位（各至多 10 个，全部见 compare.csv）：".to_string(),
        Lang::En => "The largest gains and losses (up to 10 each; all in compare.csv):".to_string(),
    });
    sec.table(header, trows, None);
    let mut charts = Vec::new();
    for (stem, chart, mut frame) in compare_charts(b, s, &c) {
        frame.subtitle = Some(match lang {
            Lang::Zh => format!("基线：{}", b.title),
            Lang::En => format!("Baseline: {}", b.title),
        });
        let caption = match (stem.as_str(), lang) {
            ("compare_changes", Lang::Zh) => "与基线相比分配额增加和减少最多的单位".to_string(),
            ("compare_changes", Lang::En) => "Units that gain and lose most against the baseline".to_string(),
            ("compare_waterfall_all", Lang::Zh) => "全部单位分配额变化的分解".to_string(),
            ("compare_waterfall_all", Lang::En) => "The change over all units, decomposed".to_string(),
            (_, Lang::Zh) => "变化最大的单位的分解".to_string(),
            (_, Lang::En) => "The unit that changed most, decomposed".to_string(),
        };
        sec.chart(&stem);
        charts.push(ChartSpec {
            stem,
            chart,
            frame,
            caption,
        });
    }
    sec.links(vec![("compare.csv".into(), "compare.csv".into())]);
    let highlight = match (lang, rows.first(), rows.last()) {
        (Lang::Zh, Some(w), Some(l)) if w.0 > Decimal::ZERO && l.0 < Decimal::ZERO => format!(
            "与基线方案比较：{winners} 个单位增加、{losers} 个减少；增加最多的是{}（{} {unit_word}），减少最多的是{}（{} {unit_word}）。",
            w.1.name,
            money(w.0),
            l.1.name,
            money(l.0)
        ),
        (Lang::En, Some(w), Some(l)) if w.0 > Decimal::ZERO && l.0 < Decimal::ZERO => format!(
            "Against the baseline: {winners} units gain, {losers} lose; most gained: {} ({} {unit_word}), most lost: {} ({} {unit_word}).",
            w.1.name,
            money(w.0),
            l.1.name,
            money(l.0)
        ),
        (Lang::Zh, _, _) => format!("与基线方案比较：{winners} 个单位增加、{losers} 个减少、{unchanged} 个不变。"),
        (Lang::En, _, _) => format!("Against the baseline: {winners} units gain, {losers} lose, {unchanged} unchanged."),
    };
    ctx.results.compare = Some(c);
    Ok(StepOutput {
        tables: vec![table],
        charts,
        sections: vec![sec],
        highlights: vec![highlight],
    })
}
