//! Step `audit` (when the scenario has `[audit]`): what `fundsim audit` finds
//! ([`crate::audit::run`], the same code) → `audit.csv`, `reconcile.csv` (with `actual.csv`),
//! `payments_check.csv` (with a payment ledger) and `audit_findings.csv`, the findings in the
//! working-paper form of the union audit guide: per finding the problem and amount (小标题),
//! the matter audited (审计事项), the facts found (审计查明的事实, without the evidence tables,
//! which are the rows of the other CSVs), the rule (审计依据) and the conclusion (审计结论).
//!
//! The ledger is checked from its bytes in one pass, as `fundsim audit` does: the CLI loads
//! the scenario with [`crate::scenario::load::load_lean`] and hands the bytes in
//! [`super::ReportInputs::audit`]. The implied weights are the infer-weights step's when it
//! ran (the same L1 fit `fundsim audit` makes).

use rust_decimal::Decimal;

use super::fmt::{money, pct_dec};
use super::{Ctx, SectionOut, StepOutput};
use crate::audit::findings::{self, check_name};
use crate::audit::recompute::Status;
use crate::audit::run::{self as audit_run, Sources, Weights};
use crate::error::InputErrors;
use crate::output::{dec, OutTable};
use crate::report::Lang;

/// Runs when the scenario has `[audit]`.
pub(super) fn applies(ctx: &Ctx<'_>) -> Result<(), String> {
    if ctx.scenario.raw.audit.is_some() {
        Ok(())
    } else {
        Err(ctx.tr("scenario.toml 中没有 [audit]", "scenario.toml has no [audit]").into())
    }
}

/// The prose of a finding's facts: its markdown evidence tables dropped, the colon that
/// introduced each one replaced by a pointer to the CSV files, paragraphs joined.
pub(crate) fn prose(lang: Lang, facts: &str) -> String {
    let pointer = match lang {
        Lang::Zh => "（明细见 CSV 文件）。",
        Lang::En => " (rows in the CSV files).",
    };
    let mut parts: Vec<String> = Vec::new();
    let mut in_table = false;
    for line in facts.lines() {
        let l = line.trim();
        if l.starts_with('|') {
            if !in_table {
                if let Some(last) = parts.last_mut() {
                    if let Some(cut) = last.strip_suffix(['：', ':']) {
                        *last = format!("{cut}{pointer}");
                    }
                }
            }
            in_table = true;
            continue;
        }
        in_table = false;
        if !l.is_empty() {
            parts.push(l.to_string());
        }
    }
    parts.join(" ")
}

/// Runs the audit and lays out its findings.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let cfg = crate::audit::config(s)?;
    let alloc = ctx.allocation()?;
    let owned;
    let sources = match &ctx.inputs.audit {
        Some(x) => x,
        None => {
            owned = Sources::from_tables(s);
            &owned
        }
    };
    let weights = match &ctx.results.inference {
        Some(i) => Weights::Given(Some(audit_run::weights_summary(i.stage, &i.pool, &i.report))),
        None => Weights::Infer,
    };
    let r = audit_run::run(s, alloc, cfg, sources, weights)?;
    let found = findings::build(&r.findings_input(s));
    let mut tables = r.tables();
    let mut ft = OutTable::new(
        "audit_findings.csv",
        &["no", "check", "title", "amount", "money", "matter", "facts", "basis", "conclusion"],
    );
    for (i, f) in found.iter().enumerate() {
        ft.rows.push(vec![
            (i + 1).to_string(),
            f.check.key().into(),
            f.title.clone(),
            dec(f.amount),
            f.money.to_string(),
            f.matter.clone(),
            prose(lang, &f.facts),
            f.basis.clone(),
            f.conclusion.clone(),
        ]);
    }
    let unit_word = s.money_unit.label(s.lang);
    let mut sec = SectionOut::new("audit", ctx.tr("审计发现", "Audit findings"));
    let at_stake = found
        .iter()
        .filter(|f| f.money)
        .fold(Decimal::ZERO, |a, f| a.saturating_add(f.amount));
    let auditee = r.config.auditee.clone().unwrap_or_else(|| s.title.clone());
    sec.para(match lang {
        Lang::Zh => format!(
            "被审计单位：{auditee}。按所述公式复算资金分配并与实际分配比对{}，共发现 {} 个问题，涉及金额合计 {} {unit_word}，{} 行数据被标记。下表为审计工作底稿格式的发现清单（证据明细见 audit.csv{}）。",
            if r.payments.is_some() { "、检查救助金发放台账" } else { "" },
            found.len(),
            money(at_stake),
            r.flagged(),
            if r.payments.is_some() { "、payments_check.csv" } else { "" },
        ),
        Lang::En => format!(
            "Audited: {auditee}. The allocation was recomputed from the stated formula and compared with the actual distribution{}: {} finding(s), {} {unit_word} at stake, {} row(s) flagged. The findings below are in working-paper form (evidence rows in audit.csv{}).",
            if r.payments.is_some() { ", and the payment ledger was checked" } else { "" },
            found.len(),
            money(at_stake),
            r.flagged(),
            if r.payments.is_some() { ", payments_check.csv" } else { "" },
        ),
    });
    for w in &r.warnings {
        sec.note(w.clone());
    }
    if found.is_empty() {
        sec.para(ctx.tr("未发现问题。", "No problems found."));
    } else {
        let header: Vec<String> = [
            ("序号", "No."),
            ("问题（定性与金额）", "Finding (problem and amount)"),
            ("审计事项", "Matter audited"),
            ("审计查明的事实", "Facts found"),
            ("审计依据", "Rule"),
            ("审计结论", "Conclusion"),
        ]
        .iter()
        .map(|(z, e)| ctx.tr(z, e).to_string())
        .collect();
        let rows = found
            .iter()
            .enumerate()
            .map(|(i, f)| {
                vec![
                    (i + 1).to_string(),
                    f.title.clone(),
                    f.matter.clone(),
                    prose(lang, &f.facts),
                    f.basis.clone(),
                    f.conclusion.clone(),
                ]
            })
            .collect();
        sec.table(header, rows, Some("audit_findings.csv"));
    }
    // allocation rows beyond tolerance
    if let Some(rec) = &r.recompute {
        let flagged: Vec<_> = rec.comparisons.iter().filter(|c| c.flagged).collect();
        sec.para(match lang {
            Lang::Zh => format!(
                "资金分配复算：与 {}（{} 行）比对 {} 项，{} 项超出容差（绝对 {} {unit_word} 与相对 {} 中的较大者）。",
                rec.actual_file,
                rec.actual_rows,
                rec.comparisons.len(),
                flagged.len(),
                money(r.config.abs_tol),
                pct_dec(r.config.rel_tol, 2)
            ),
            Lang::En => format!(
                "Recomputation: {} rows compared with {} ({} rows), {} beyond tolerance (the larger of {} {unit_word} and {}).",
                rec.comparisons.len(),
                rec.actual_file,
                rec.actual_rows,
                flagged.len(),
                money(r.config.abs_tol),
                pct_dec(r.config.rel_tol, 2)
            ),
        });
        if !flagged.is_empty() {
            let header: Vec<String> = [
                ("单位代码", "Unit id"),
                ("单位", "Unit"),
                ("级次", "Stage"),
                ("切块", "Pool"),
                ("公式测算额", "Formula"),
                ("实际分配额", "Actual"),
                ("差额", "Difference"),
                ("相对差额", "Relative"),
                ("情况", "Status"),
            ]
            .iter()
            .map(|(z, e)| ctx.tr(z, e).to_string())
            .collect();
            let rows = flagged
                .iter()
                .map(|c| {
                    vec![
                        c.unit_id.clone(),
                        c.name.clone(),
                        c.stage.map(|x| x.to_string()).unwrap_or_default(),
                        c.pool.clone(),
                        c.formula.map(money).unwrap_or_default(),
                        c.actual.map(money).unwrap_or_default(),
                        money(c.difference),
                        c.rel_difference.map(|x| pct_dec(x, 2)).unwrap_or_default(),
                        status_word(lang, c.status).into(),
                    ]
                })
                .collect();
            sec.table(header, rows, Some("audit.csv"));
        }
        let bad: Vec<_> = rec.reconciliations.iter().filter(|x| x.flagged).collect();
        if !rec.reconciliations.is_empty() {
            sec.para(match lang {
                Lang::Zh => format!(
                    "资金逐级衔接：核对 {} 个分配单位（收到 = 下拨 + 预留），{} 个不衔接。",
                    rec.reconciliations.len(),
                    bad.len()
                ),
                Lang::En => format!(
                    "Carry-through: {} allocating units checked (received = passed on + reserve), {} do not reconcile.",
                    rec.reconciliations.len(),
                    bad.len()
                ),
            });
        }
        if !bad.is_empty() {
            let header: Vec<String> = [
                ("分配单位", "Allocating unit"),
                ("级次", "Stage"),
                ("收到", "Received"),
                ("下拨合计", "Passed on"),
                ("预留", "Reserve"),
                ("差额（收到−下拨−预留）", "Difference (received − passed on − reserve)"),
            ]
            .iter()
            .map(|(z, e)| ctx.tr(z, e).to_string())
            .collect();
            let rows = bad
                .iter()
                .map(|x| {
                    vec![
                        format!("{} {}", x.unit_id, x.name),
                        x.stage.to_string(),
                        money(x.received),
                        money(x.passed_on),
                        money(x.reserve),
                        money(x.difference),
                    ]
                })
                .collect();
            sec.table(header, rows, Some("reconcile.csv"));
        }
    }
    // payment checks
    if let Some(p) = &r.payments {
        sec.para(match lang {
            Lang::Zh => format!(
                "救助金发放检查：{} 共 {} 笔、合计 {} {unit_word}，对照 {}（{} 户）逐笔检查，发现 {} 项。",
                p.payments_file,
                p.payments,
                money(p.total_amount),
                p.households_file,
                p.households,
                p.hits.len()
            ),
            Lang::En => format!(
                "Payment checks: {} ({} payments, {} {unit_word} in all) checked one by one against {} ({} households): {} hit(s).",
                p.payments_file,
                p.payments,
                money(p.total_amount),
                p.households_file,
                p.households,
                p.hits.len()
            ),
        });
        let header: Vec<String> = [
            ("检查事项", "Check"),
            ("检查笔数", "Payments examined"),
            ("发现（项）", "Hits"),
            ("涉及金额", "Amount at stake"),
        ]
        .iter()
        .map(|(z, e)| ctx.tr(z, e).to_string())
        .collect();
        let rows = p
            .summary
            .iter()
            .map(|x| {
                vec![
                    check_name(s.lang, x.check),
                    x.examined.to_string(),
                    x.hits.to_string(),
                    money(x.amount),
                ]
            })
            .collect();
        sec.table(header, rows, None);
    }
    let mut links: Vec<(String, String)> = tables.iter().map(|t| (t.name.clone(), t.name.clone())).collect();
    links.push(("audit_findings.csv".into(), "audit_findings.csv".into()));
    sec.links(links);
    tables.push(ft);
    let highlight = match (lang, found.first()) {
        (Lang::Zh, None) => "审计：未发现问题。".to_string(),
        (Lang::En, None) => "Audit: no problems found.".to_string(),
        (Lang::Zh, Some(f)) => format!(
            "审计：发现 {} 个问题，涉及金额合计 {} {unit_word}；首要问题：{}。",
            found.len(),
            money(at_stake),
            f.title
        ),
        (Lang::En, Some(f)) => format!(
            "Audit: {} finding(s), {} {unit_word} at stake; first: {}.",
            found.len(),
            money(at_stake),
            f.title
        ),
    };
    ctx.results.audit = Some(r);
    Ok(StepOutput {
        tables,
        charts: Vec::new(),
        sections: vec![sec],
        highlights: vec![highlight],
    })
}

fn status_word(lang: Lang, st: Status) -> &'static str {
    match st {
        Status::Ok => super::tr(lang, "在容差内", "within tolerance"),
        Status::Differs => super::tr(lang, "超出容差", "beyond tolerance"),
        Status::Missing => super::tr(lang, "应分未见", "recipient missing"),
        Status::NotRecipient => super::tr(lang, "非公式受益单位", "outside the formula"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::prose;
    use crate::report::Lang;

    #[test]
    fn prose_drops_the_evidence_tables() {
        let facts = "按公式复算，5个单位超出容差：\n\n| 单位 | 差额 |\n| --- | --- |\n| 甲 | 1 |\n\n（共64项。）\n";
        assert_eq!(
            prose(Lang::Zh, facts),
            "按公式复算，5个单位超出容差（明细见 CSV 文件）。 （共64项。）"
        );
        let facts = "Recomputed, 5 units differ:\n| unit | diff |\n| --- | --- |\nIn all 800,000.\n";
        assert_eq!(
            prose(Lang::En, facts),
            "Recomputed, 5 units differ (rows in the CSV files). In all 800,000."
        );
        assert_eq!(prose(Lang::Zh, "无表格。\n\n第二段。"), "无表格。 第二段。");
        assert_eq!(prose(Lang::Zh, ""), "");
    }
}
