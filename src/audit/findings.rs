//! `findings.md`: the audit's findings in the shape of the union audit guide
//! (全总经审办《帮扶资金、送温暖资金专项审计实务指南》, 工审办发〔2020〕4号), in the scenario's
//! language (every fixed text exists in Chinese and English).
//!
//! Each finding has the guide's four parts: the matter audited (审计事项), the facts found with
//! amounts and the rows that prove them (审计查明的事实), the rule it breaks (审计依据, the text
//! named in `[audit.rules]` or a built-in citation) and a conclusion (审计结论). Its heading
//! states the problem and the amount, as the guide asks (小标题一般应包含对问题的定性和金额).
//! Findings about money are ordered by amount at stake (largest first); findings about counts
//! (file reconciliation, inferred weights) follow. A summary table mirrors the guide's
//! budget-management table (预算管理与绩效评价审定表) item 四: is the factor method used, are
//! formula and weights published, does the distribution follow them.
//!
//! Two inputs come from other modules and are accepted as plain data so they can be filled in
//! later: [`InferredWeightsSummary`] (the LP inference of the weights an actual distribution
//! implies) and [`FileReconHit`] (file-count reconciliation of `files.csv`).

use super::payments::{PaymentHit, PaymentReport};
use super::recompute::{Recompute, Status};
use super::{AuditConfig, Check};
use crate::scenario::{Lang, Scenario, Transform};
use rust_decimal::Decimal;
use std::fmt::Write as _;

/// One factor's stated and inferred weight.
#[derive(Debug, Clone, PartialEq)]
pub struct InferredWeight {
    /// Factor column (or display name).
    pub factor: String,
    /// Stated weight.
    pub stated: f64,
    /// Inferred weight (normalised to sum to 1).
    pub inferred: f64,
}

/// What the weight inference found for one pool (filled by the LP module's caller).
#[derive(Debug, Clone, PartialEq)]
pub struct InferredWeightsSummary {
    /// 1-based stage.
    pub stage: usize,
    /// Pool id.
    pub pool: String,
    /// Method, e.g. `L1`.
    pub method: String,
    /// One entry per factor.
    pub weights: Vec<InferredWeight>,
    /// Σv: the share of the pool that follows the formula, when known.
    pub formula_share: Option<f64>,
    /// Units whose actual share no admissible weights explain.
    pub flagged_units: Vec<String>,
}

/// Which file-count rule a row breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileReconKind {
    /// `filed_end ≠ filed_start + new − exits − removals` on the row.
    Identity,
    /// `filed_start` ≠ the previous year's `filed_end`.
    Continuity,
}

/// One file-count reconciliation problem (filled by the projection module's caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReconHit {
    /// Unit id.
    pub unit_id: String,
    /// Year.
    pub year: i64,
    /// Line in the file table.
    pub line: u64,
    /// The rule broken.
    pub kind: FileReconKind,
    /// What the rule gives.
    pub expected: i64,
    /// What the file says.
    pub found: i64,
}

/// Everything the findings are written from.
#[derive(Debug, Clone, Copy)]
pub struct FindingsInput<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// `[audit]` settings.
    pub config: &'a AuditConfig,
    /// Recompute vs actual, when `actual.csv` exists.
    pub recompute: Option<&'a Recompute>,
    /// Payment checks, when a ledger exists.
    pub payments: Option<&'a PaymentReport>,
    /// Inferred weights, when computed.
    pub weights: Option<&'a InferredWeightsSummary>,
    /// File-count reconciliation: `None` = not run; `Some((file, hits))`.
    pub files: Option<(&'a str, &'a [FileReconHit])>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check behind it.
    pub check: Check,
    /// Heading: the problem and the amount.
    pub title: String,
    /// 审计事项.
    pub matter: String,
    /// 审计查明的事实 (Markdown, with tables).
    pub facts: String,
    /// 审计依据.
    pub basis: String,
    /// 审计结论.
    pub conclusion: String,
    /// Amount at stake (money findings) or count (others).
    pub amount: Decimal,
    /// Whether `amount` is money.
    pub money: bool,
}

fn tr(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// Groups digits by thousands (`1234567.5` → `1,234,567.5`).
pub fn grouped(d: Decimal) -> String {
    let s = d.normalize().to_string();
    let (sign, rest) = s.strip_prefix('-').map(|r| ("-", r)).unwrap_or(("", &s));
    let (int, frac) = rest.split_once('.').map(|(i, f)| (i, Some(f))).unwrap_or((rest, None));
    let mut out = String::new();
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

struct W<'a> {
    s: &'a Scenario,
    c: &'a AuditConfig,
    lang: Lang,
}

impl W<'_> {
    fn t(&self, zh: &str, en: &str) -> String {
        tr(self.lang, zh, en)
    }
    fn money(&self, d: Decimal) -> String {
        match self.lang {
            Lang::Zh => format!("{}{}", grouped(d), self.s.money_unit.label(Lang::Zh)),
            Lang::En => format!("{} {}", grouped(d), self.s.money_unit.label(Lang::En)),
        }
    }
    fn guide(&self) -> String {
        self.t(
            "全总经审办《帮扶资金、送温暖资金专项审计实务指南》（工审办发〔2020〕4号）",
            "ACFTU Audit Office, Practical Guide to Special Audits of Assistance and Warmth-Delivery Funds (工审办发〔2020〕4号)",
        )
    }
    fn file_rule(&self) -> String {
        self.t(
            "中华全国总工会《中央财政专项帮扶资金使用管理办法》（总工发〔2015〕20号）第三条“帮扶资金发放和使用，应当坚持‘依档帮扶’，‘先建档、后帮扶、实名制’的原则”",
            "ACFTU Measures for the Use and Management of Central-Budget Special Assistance Funds (总工发〔2015〕20号), art. 3: assistance funds are paid and used “according to the file”, on the principle “file first, then help, real names” (先建档、后帮扶、实名制)",
        )
    }
    fn formula_source(&self) -> String {
        match &self.c.formula_source {
            Some(src) => src.clone(),
            None => self.t(
                &format!("情景文件 {} 所列公式", self.s.toml_file),
                &format!("the formula stated in {}", self.s.toml_file),
            ),
        }
    }
    fn pct(&self, d: Decimal) -> String {
        format!("{}%", (d * Decimal::from(100)).round_dp(4).normalize())
    }

    /// Built-in citation for a check (used unless `[audit.rules]` names one).
    fn default_rule(&self, check: Check) -> String {
        let g = self.guide();
        let p = &self.c.payments;
        match check {
            Check::Unfiled | Check::BeforeFiling => self.t(
                &format!("{}的规定，不得向未建档人员发放救助金。", self.file_rule()),
                &format!("{}; no aid may be paid to anyone not on file.", self.file_rule()),
            ),
            Check::AfterClosing => self.t(
                &format!("{}的规定；退档后即不再是在档困难职工，不得继续发放救助金。", self.file_rule()),
                &format!("{}; once a file is closed the household is no longer on file and may not be paid.", self.file_rule()),
            ),
            Check::UnitMismatch => self.t(
                &format!("{}的规定，救助金应由建档单位依档发放。", self.file_rule()),
                &format!("{}; aid is paid by the unit that holds the file.", self.file_rule()),
            ),
            Check::LivingCap => {
                let tiers: Vec<String> = p
                    .tier_months
                    .iter()
                    .map(|(k, v)| self.t(&format!("{k} {}个月", v.normalize()), &format!("{k} {} months", v.normalize())))
                    .collect();
                let tiers = if tiers.is_empty() {
                    String::new()
                } else {
                    self.t(&format!("；按困难类别：{}", tiers.join("、")), &format!("; by category: {}", tiers.join(", ")))
                };
                self.t(
                    &format!("{g}第二章审计重点四“是否超标准发放救助金”、生活救助审定表“是否超标准发放救助金”“当地同期低保标准”。审计标准：生活救助每户每年不超过当地同期低保月标准的{}个月{tiers}（[audit.payments] 配置）。", p.living_months.normalize()),
                    &format!("{g}, chapter 2, focus 4 “whether aid was paid above the standard”; living-aid table “above the standard”, “local 低保 standard of the period”. Standard applied: living aid per household per year at most {} months of the local monthly 低保{tiers} (set in [audit.payments]).", p.living_months.normalize()),
                )
            }
            Check::WarmthVisit | Check::WarmthYear => self.t(
                &format!(
                    "{g}第二章审计重点四“是否超标准发放救助金”。审计标准：送温暖慰问金每次不超过{}，每户每年不超过{}（[audit.payments] 配置）。",
                    self.money(p.warmth_per_visit),
                    self.money(p.warmth_per_year)
                ),
                &format!(
                    "{g}, chapter 2, focus 4 “whether aid was paid above the standard”. Standard applied: warmth-delivery payments at most {} per visit and {} per household per year (set in [audit.payments]).",
                    self.money(p.warmth_per_visit),
                    self.money(p.warmth_per_year)
                ),
            ),
            Check::Duplicate => {
                let per = match (self.lang, p.duplicate_period) {
                    (Lang::Zh, super::Period::Month) => "每月",
                    (Lang::Zh, super::Period::Quarter) => "每季度",
                    (Lang::Zh, super::Period::Year) => "每年",
                    (Lang::En, super::Period::Month) => "a month",
                    (Lang::En, super::Period::Quarter) => "a quarter",
                    (Lang::En, super::Period::Year) => "a year",
                };
                self.t(
                    &format!("{g}第二章审计重点四“是否存在滥发帮扶资金的行为”。审计标准：同一户同一救助项目{per}至多发放一次（[audit.payments] 配置）。"),
                    &format!("{g}, chapter 2, focus 4 “whether assistance funds were handed out indiscriminately”. Standard applied: one payment per household and kind {per} at most (set in [audit.payments])."),
                )
            }
            Check::Flat => self.t(
                &format!("{g}第二章审计重点四“是否根据困难程度分档或者差额发放救助金”；救助金精准发放情况审定表“是否按困难程度分档或者差额发放救助金”“是否按相同金额发放救助金及其金额”。"),
                &format!("{g}, chapter 2, focus 4 “whether aid was tiered by degree of hardship or paid as the difference to the standard”; disbursement table “tiered or differential?”, “same amount for all, and which amount?”."),
            ),
            Check::Scope => self.t(
                &format!(
                    "{g}第二章审计重点四“是否自行设立救助项目、是否超范围开支救助金”；救助项目审定表六“是否扩大救助范围将帮扶资金用于其他事项”。允许的救助项目：{}（[audit.payments] 配置）。",
                    p.allowed_kinds.join("、")
                ),
                &format!(
                    "{g}, chapter 2, focus 4 “whether units created their own aid items or spent aid outside its scope”; aid-items table, item 6. Kinds allowed: {} (set in [audit.payments]).",
                    p.allowed_kinds.join(", ")
                ),
            ),
            Check::Allocation | Check::Missing | Check::NotRecipient | Check::Weights => self.t(
                &format!("{g}第二章审计重点三“资金分配方法是否使用因素法”；预算管理与绩效评价审定表四“资金分配是否采用因素法，因素设置是否合理，是否公开资金分配的公式与因素所占权重，资金分配能否保证预算编制的科学合理”。所述分配公式：{}。", self.formula_source()),
                &format!("{g}, chapter 2, focus 3 “whether funds are split by the factor method”; budget-management table item 4 “is the factor method used, are the factors reasonable, are the formula and the factor weights published, does the split keep the budget sound”. Formula stated: {}.", self.formula_source()),
            ),
            Check::Reconcile => self.t(
                &format!("{g}预算管理与绩效评价审定表五、六（本级与下级责任划分；结余资金是否收回）；所述分配公式的预留比例：{}。", self.formula_source()),
                &format!("{g}, budget-management table items 5–6 (responsibilities of each level; is unspent money recovered); reserve shares of {}.", self.formula_source()),
            ),
            Check::Files => self.t(
                &format!("{g}解困脱困政策目标完成情况审定表：年末在档数 = 年初在档数 + 新建档 − 脱困 − 退档，上年年末数应等于本年年初数。"),
                &format!("{g}, target-completion table: files at the end of a year = files at the start + new files − exits − removals, and a year starts where the previous one ended."),
            ),
        }
    }

    fn rule(&self, check: Check) -> String {
        match self.c.rules.get(&check) {
            Some(r) if !r.is_empty() => r.clone(),
            _ => self.default_rule(check),
        }
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", headers.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(headers.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "));
    }
    out
}

fn lines_text(lines: &[u64], max: usize, lang: Lang) -> String {
    let shown: Vec<String> = lines.iter().take(max).map(|l| l.to_string()).collect();
    if lines.len() > max {
        format!(
            "{}{}",
            shown.join(", "),
            tr(lang, &format!(" 等{}行", lines.len()), &format!(" … ({} lines)", lines.len()))
        )
    } else {
        shown.join(", ")
    }
}

fn sum<I: IntoIterator<Item = Decimal>>(xs: I) -> Decimal {
    xs.into_iter().fold(Decimal::ZERO, |a, b| a.checked_add(b).unwrap_or(a))
}

fn stage_label(w: &W<'_>, k: Option<usize>) -> String {
    match k.and_then(|k| w.s.stages.get(k - 1).map(|st| (k, st))) {
        Some((k, st)) => w.t(&format!("第{k}级（{}）", st.level), &format!("stage {k} ({})", st.level)),
        None => String::new(),
    }
}

fn allocation_findings(w: &W<'_>, r: &Recompute, out: &mut Vec<Finding>) {
    let max = w.c.max_rows_listed;
    let tol = w.t(
        &format!("绝对{}与相对{}中的较大者", w.money(w.c.abs_tol), w.pct(w.c.rel_tol)),
        &format!(
            "the larger of {} absolute and {} relative",
            w.money(w.c.abs_tol),
            w.pct(w.c.rel_tol)
        ),
    );
    let unit_name = |c: &super::recompute::Comparison| {
        if c.name.is_empty() || c.name == c.unit_id {
            c.unit_id.clone()
        } else {
            format!("{} {}", c.unit_id, c.name)
        }
    };
    let line = |c: &super::recompute::Comparison| c.line.map(|l| l.to_string()).unwrap_or_else(|| "—".into());
    let more = |n: usize, file: &str| {
        if n > max {
            w.t(
                &format!("\n（共{n}项，此处列出前{max}项，全部见 {file}。）\n"),
                &format!("\n({n} in all; the first {max} are listed, all are in {file}.)\n"),
            )
        } else {
            String::new()
        }
    };
    // departures
    let mut diffs: Vec<&super::recompute::Comparison> = r.comparisons.iter().filter(|c| c.status == Status::Differs).collect();
    if !diffs.is_empty() {
        diffs.sort_by(|a, b| b.difference.abs().cmp(&a.difference.abs()).then(a.unit_id.cmp(&b.unit_id)));
        let amt = sum(diffs.iter().map(|c| c.difference.abs()));
        let n = diffs.len();
        let headers: Vec<String> = [
            ("单位", "Unit"),
            ("级次", "Stage"),
            ("切块", "Pool"),
            ("公式测算额", "Formula"),
            ("实际分配额", "Actual"),
            ("差额", "Difference"),
            ("相对差额", "Relative"),
            (&format!("{} 行", r.actual_file) as &str, &format!("{} line", r.actual_file) as &str),
        ]
        .iter()
        .map(|(z, e)| w.t(z, e))
        .collect();
        let rows: Vec<Vec<String>> = diffs
            .iter()
            .take(max)
            .map(|c| {
                vec![
                    unit_name(c),
                    stage_label(w, c.stage),
                    c.pool.clone(),
                    grouped(c.formula.unwrap_or_default()),
                    grouped(c.actual.unwrap_or_default()),
                    grouped(c.difference),
                    c.rel_difference.map(|x| w.pct(x.round_dp(6))).unwrap_or_default(),
                    line(c),
                ]
            })
            .collect();
        let facts = format!(
            "{}\n\n{}{}",
            w.t(
                &format!(
                    "按{}复算资金分配，与 {} 所列实际分配额逐一比对，{n}个单位的差异超出容差（{tol}），偏离合计{}：",
                    w.formula_source(),
                    r.actual_file,
                    w.money(amt)
                ),
                &format!(
                    "The allocation was recomputed from {} and compared with {}: {n} units differ beyond tolerance ({tol}), {} in all:",
                    w.formula_source(),
                    r.actual_file,
                    w.money(amt)
                ),
            ),
            table(&headers, &rows),
            more(n, "audit.csv")
        );
        out.push(Finding {
            check: Check::Allocation,
            title: w.t(
                &format!("资金分配未按所述因素法公式执行，{n}个单位实际分配额偏离公式测算额，涉及金额{}", w.money(amt)),
                &format!("Distribution departs from the stated factor formula: {n} units off, {} involved", w.money(amt)),
            ),
            matter: w.t(
                "资金分配是否采用因素法，实际分配能否由所述公式与因素权重复算（预算管理与绩效评价审定表 四）。",
                "Whether funds were split by the factor method and whether the actual distribution can be reproduced from the stated formula and weights (budget-management table, item 4).",
            ),
            facts,
            basis: w.rule(Check::Allocation),
            conclusion: w.t(
                &format!("{n}个单位的实际分配额与公式测算额不符，合计偏离{}，资金分配结果不能由所述公式和权重复现，应说明调整依据或予以纠正。", w.money(amt)),
                &format!("The actual amounts of {n} units do not match the formula, {} in all: the distribution cannot be reproduced from the stated formula and weights; the unit should document the basis of the changes or correct them.", w.money(amt)),
            ),
            amount: amt,
            money: true,
        });
    }
    // recipients missing
    let missing: Vec<&super::recompute::Comparison> = r.comparisons.iter().filter(|c| c.status == Status::Missing && c.flagged).collect();
    if !missing.is_empty() {
        let amt = sum(missing.iter().map(|c| c.formula.unwrap_or_default()));
        let n = missing.len();
        let headers: Vec<String> = [("单位", "Unit"), ("级次", "Stage"), ("切块", "Pool"), ("公式测算额", "Formula")]
            .iter()
            .map(|(z, e)| w.t(z, e))
            .collect();
        let rows: Vec<Vec<String>> = missing
            .iter()
            .take(max)
            .map(|c| {
                vec![
                    unit_name(c),
                    stage_label(w, c.stage),
                    c.pool.clone(),
                    grouped(c.formula.unwrap_or_default()),
                ]
            })
            .collect();
        out.push(Finding {
            check: Check::Missing,
            title: w.t(
                &format!("公式确定的{n}个受益单位未见实际分配记录，涉及公式测算额{}", w.money(amt)),
                &format!(
                    "{n} recipients of the formula have no actual amount: {} by the formula",
                    w.money(amt)
                ),
            ),
            matter: w.t(
                "按公式应当分配资金的单位是否都得到了分配。",
                "Whether every unit the formula gives money to received it.",
            ),
            facts: format!(
                "{}\n\n{}{}",
                w.t(
                    &format!("{} 未列出以下按公式应分配资金的单位：", r.actual_file),
                    &format!("{} has no row for these recipients of the formula:", r.actual_file)
                ),
                table(&headers, &rows),
                more(n, "audit.csv")
            ),
            basis: w.rule(Check::Missing),
            conclusion: w.t(
                &format!("{n}个单位应分未分（或分配记录缺失），涉及{}，应核实资金去向。", w.money(amt)),
                &format!(
                    "{n} units were due {} and have no record of receiving it; where the money went must be established.",
                    w.money(amt)
                ),
            ),
            amount: amt,
            money: true,
        });
    }
    // paid to units outside the formula
    let outside: Vec<&super::recompute::Comparison> = r
        .comparisons
        .iter()
        .filter(|c| c.status == Status::NotRecipient && c.flagged)
        .collect();
    if !outside.is_empty() {
        let amt = sum(outside.iter().map(|c| c.actual.unwrap_or_default()));
        let n = outside.len();
        let headers: Vec<String> = [
            ("单位", "Unit"),
            ("切块", "Pool"),
            ("实际分配额", "Actual"),
            (&format!("{} 行", r.actual_file) as &str, &format!("{} line", r.actual_file) as &str),
        ]
        .iter()
        .map(|(z, e)| w.t(z, e))
        .collect();
        let rows: Vec<Vec<String>> = outside
            .iter()
            .take(max)
            .map(|c| vec![unit_name(c), c.pool.clone(), grouped(c.actual.unwrap_or_default()), line(c)])
            .collect();
        out.push(Finding {
            check: Check::NotRecipient,
            title: w.t(
                &format!("向公式以外的{n}个单位分配资金，涉及金额{}", w.money(amt)),
                &format!("Money paid to {n} units outside the formula: {}", w.money(amt)),
            ),
            matter: w.t(
                "实际分配对象是否为公式确定的受益单位。",
                "Whether the actual recipients are the formula's recipients.",
            ),
            facts: format!(
                "{}\n\n{}{}",
                w.t(
                    &format!("{} 所列以下单位不是公式的受益单位（或不在单位表中）：", r.actual_file),
                    &format!(
                        "These units of {} are not recipients of the formula (or not in the units file):",
                        r.actual_file
                    )
                ),
                table(&headers, &rows),
                more(n, "audit.csv")
            ),
            basis: w.rule(Check::NotRecipient),
            conclusion: w.t(
                &format!("向公式以外单位分配资金{}，分配依据不足，应说明依据或纠正。", w.money(amt)),
                &format!(
                    "{} went to units outside the formula without a stated basis; the basis must be shown or the payment corrected.",
                    w.money(amt)
                ),
            ),
            amount: amt,
            money: true,
        });
    }
    // totals
    let bad: Vec<&super::recompute::Reconciliation> = r.reconciliations.iter().filter(|x| x.flagged).collect();
    if !bad.is_empty() {
        let amt = sum(bad.iter().map(|x| x.difference.abs()));
        let n = bad.len();
        let headers: Vec<String> = [
            ("分配单位", "Allocating unit"),
            ("级次", "Stage"),
            ("收到", "Received"),
            ("下拨合计", "Passed on"),
            ("预留", "Reserve"),
            ("差额（收到−下拨−预留）", "Gap (received − passed on − reserve)"),
        ]
        .iter()
        .map(|(z, e)| w.t(z, e))
        .collect();
        let rows: Vec<Vec<String>> = bad
            .iter()
            .take(max)
            .map(|x| {
                vec![
                    if x.name.is_empty() || x.name == x.unit_id {
                        x.unit_id.clone()
                    } else {
                        format!("{} {}", x.unit_id, x.name)
                    },
                    stage_label(w, Some(x.stage)),
                    grouped(x.received),
                    grouped(x.passed_on),
                    grouped(x.reserve),
                    grouped(x.difference),
                ]
            })
            .collect();
        out.push(Finding {
            check: Check::Reconcile,
            title: w.t(
                &format!("{n}个分配单位资金收支不衔接，差额合计{}", w.money(amt)),
                &format!("{n} allocating units do not reconcile: {} unaccounted for", w.money(amt)),
            ),
            matter: w.t(
                "各级收到的资金是否等于下拨下级的资金与按规定预留资金之和。",
                "Whether what each level received equals what it passed on plus its stated reserve.",
            ),
            facts: format!(
                "{}\n\n{}{}",
                w.t(
                    "以下分配单位收到的资金与下拨、预留之和不符（正数为既未下拨也未预留的滞留资金，负数为超额下拨）：",
                    "These units' receipts do not equal what they passed on plus their reserve (positive: money neither passed on nor reserved; negative: more passed on than received):"
                ),
                table(&headers, &rows),
                more(n, "reconcile.csv")
            ),
            basis: w.rule(Check::Reconcile),
            conclusion: w.t(
                &format!("资金逐级拨付不衔接，差额合计{}，应查明滞留或超拨资金的去向与来源。", w.money(amt)),
                &format!("Funds do not carry through the levels, {} in all; where the retained money went, or where the excess came from, must be established.", w.money(amt)),
            ),
            amount: amt,
            money: true,
        });
    }
}

fn payment_finding(w: &W<'_>, r: &PaymentReport, check: Check, hits: &[&PaymentHit]) -> Finding {
    let max = w.c.max_rows_listed;
    let lang = w.lang;
    let amt = sum(hits.iter().map(|h| h.at_stake()));
    let n = hits.len();
    let m: usize = hits.iter().map(|h| h.rows.len()).sum();
    let hh = |h: &PaymentHit| h.household_id.clone();
    let unit = |h: &PaymentHit| {
        let name =
            w.s.hierarchy
                .find(&h.unit_id)
                .and_then(|u| w.s.hierarchy.unit(u))
                .map(|u| u.name.as_str());
        match name {
            Some(nm) if nm != h.unit_id => format!("{} {nm}", h.unit_id),
            _ => h.unit_id.clone(),
        }
    };
    let lines = |h: &PaymentHit| lines_text(&h.rows.iter().map(|x| x.line).collect::<Vec<_>>(), 10, lang);
    let date = |h: &PaymentHit| h.rows.first().map(|x| x.date.to_string()).unwrap_or_default();
    let opt = |d: Option<Decimal>| d.map(grouped).unwrap_or_default();
    let hdr = |pairs: &[(&str, &str)]| -> Vec<String> { pairs.iter().map(|(z, e)| w.t(z, e)).collect() };
    let ledger_line = (format!("{} 行", r.payments_file), format!("{} lines", r.payments_file));
    let ll = (ledger_line.0.as_str(), ledger_line.1.as_str());
    let (headers, rows): (Vec<String>, Vec<Vec<String>>) = match check {
        Check::Unfiled => (
            hdr(&[
                ("户号", "Household"),
                ("单位", "Unit"),
                ("期间", "Period"),
                ("笔数", "Payments"),
                ("金额", "Amount"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| {
                    vec![
                        hh(h),
                        unit(h),
                        h.period.clone(),
                        h.rows.len().to_string(),
                        grouped(h.amount),
                        lines(h),
                    ]
                })
                .collect(),
        ),
        Check::BeforeFiling => (
            hdr(&[
                ("户号", "Household"),
                ("单位", "Unit"),
                ("建档日期", "Filed on"),
                ("发放日期", "Paid on"),
                ("类型", "Kind"),
                ("金额", "Amount"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| {
                    vec![
                        hh(h),
                        unit(h),
                        h.filed_on.map(|d| d.to_string()).unwrap_or_default(),
                        date(h),
                        h.kind.clone(),
                        grouped(h.amount),
                        lines(h),
                    ]
                })
                .collect(),
        ),
        Check::AfterClosing => (
            hdr(&[
                ("户号", "Household"),
                ("单位", "Unit"),
                ("退档日期", "Closed on"),
                ("发放日期", "Paid on"),
                ("类型", "Kind"),
                ("金额", "Amount"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| {
                    vec![
                        hh(h),
                        unit(h),
                        h.closed_on.map(|d| d.to_string()).unwrap_or_default(),
                        date(h),
                        h.kind.clone(),
                        grouped(h.amount),
                        lines(h),
                    ]
                })
                .collect(),
        ),
        Check::UnitMismatch => (
            hdr(&[
                ("户号", "Household"),
                ("发放单位", "Paying unit"),
                ("建档单位", "Filing unit"),
                ("发放日期", "Paid on"),
                ("金额", "Amount"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| vec![hh(h), unit(h), h.note.clone(), date(h), grouped(h.amount), lines(h)])
                .collect(),
        ),
        Check::LivingCap => (
            hdr(&[
                ("户号", "Household"),
                ("单位", "Unit"),
                ("类别", "Category"),
                ("年度", "Year"),
                ("年度标准", "Yearly cap"),
                ("实发", "Paid"),
                ("超标", "Above cap"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| {
                    vec![
                        hh(h),
                        unit(h),
                        h.category.clone(),
                        h.period.clone(),
                        opt(h.limit),
                        grouped(h.amount),
                        opt(h.excess),
                        lines(h),
                    ]
                })
                .collect(),
        ),
        Check::WarmthVisit => (
            hdr(&[
                ("户号", "Household"),
                ("单位", "Unit"),
                ("发放日期", "Paid on"),
                ("单次标准", "Cap per visit"),
                ("实发", "Paid"),
                ("超标", "Above cap"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| vec![hh(h), unit(h), date(h), opt(h.limit), grouped(h.amount), opt(h.excess), lines(h)])
                .collect(),
        ),
        Check::WarmthYear => (
            hdr(&[
                ("户号", "Household"),
                ("单位", "Unit"),
                ("年度", "Year"),
                ("年度标准", "Yearly cap"),
                ("实发", "Paid"),
                ("超标", "Above cap"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| {
                    vec![
                        hh(h),
                        unit(h),
                        h.period.clone(),
                        opt(h.limit),
                        grouped(h.amount),
                        opt(h.excess),
                        lines(h),
                    ]
                })
                .collect(),
        ),
        Check::Duplicate => (
            hdr(&[
                ("户号", "Household"),
                ("单位", "Unit"),
                ("类型", "Kind"),
                ("期间", "Period"),
                ("笔数", "Payments"),
                ("金额", "Amount"),
                ("重复发放", "Repeated"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| {
                    vec![
                        hh(h),
                        unit(h),
                        h.kind.clone(),
                        h.period.clone(),
                        h.rows.len().to_string(),
                        grouped(h.amount),
                        opt(h.excess),
                        lines(h),
                    ]
                })
                .collect(),
        ),
        Check::Flat => (
            hdr(&[
                ("单位", "Unit"),
                ("类型", "Kind"),
                ("期间", "Period"),
                ("相同金额", "Same amount"),
                ("笔数/该类总笔数", "Payments / all of the kind"),
                ("涉及困难类别", "Categories paid"),
                ("金额", "Amount"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| {
                    vec![
                        unit(h),
                        h.kind.clone(),
                        h.period.clone(),
                        opt(h.limit),
                        format!("{}/{}", h.rows.len(), h.of.unwrap_or(0)),
                        h.note.replace(';', if lang == Lang::Zh { "、" } else { ", " }),
                        grouped(h.amount),
                        lines(h),
                    ]
                })
                .collect(),
        ),
        _ => (
            hdr(&[
                ("户号", "Household"),
                ("单位", "Unit"),
                ("类型", "Kind"),
                ("发放日期", "Paid on"),
                ("金额", "Amount"),
                ll,
            ]),
            hits.iter()
                .take(max)
                .map(|h| vec![hh(h), unit(h), h.kind.clone(), date(h), grouped(h.amount), lines(h)])
                .collect(),
        ),
    };
    let more = if n > max {
        w.t(
            &format!("\n（共{n}项，此处列出前{max}项，全部见 payments_check.csv。）\n"),
            &format!("\n({n} in all; the first {max} are listed, all are in payments_check.csv.)\n"),
        )
    } else {
        String::new()
    };
    let a = w.money(amt);
    let (title, matter, intro, conclusion) = match check {
        Check::Unfiled => (
            w.t(&format!("向未建档人员发放救助金，涉及金额{a}（{n}户，{m}笔）"), &format!("Aid paid to households not on file: {a} ({n} households, {m} payments)")),
            w.t("救助金是否只发放给在档困难职工（建档程序审定表；救助金精准发放情况审定表）。", "Whether aid went only to households on file (filing-procedure and disbursement tables)."),
            w.t(
                &format!("{} 中以下户号不在困难职工档案 {} 中，仍发放救助金：", r.payments_file, r.households_file),
                &format!("These households of {} are not in the register {}, yet were paid:", r.payments_file, r.households_file),
            ),
            w.t(
                &format!("上述{m}笔支出违反“先建档、后帮扶、实名制”原则，属于向未建档人员发放救助金，涉及金额{a}，应追回资金或查明对象身份。"),
                &format!("These {m} payments break the “file first, then help, real names” rule: aid paid to people not on file, {a} in all; the money should be recovered or the recipients identified."),
            ),
        ),
        Check::BeforeFiling => (
            w.t(&format!("建档前发放救助金，涉及金额{a}（{m}笔）"), &format!("Aid paid before the household was filed: {a} ({m} payments)")),
            w.t("救助金是否在建档后发放（先建档、后帮扶）。", "Whether aid was paid only after the household was filed (file first, then help)."),
            w.t("以下救助金的发放日期早于该户建档日期：", "These payments are dated before the household's filing date:"),
            w.t(
                &format!("上述{m}笔救助金先发放、后建档，违反“先建档、后帮扶”原则，涉及金额{a}，应核实建档程序是否合规。"),
                &format!("These {m} payments came before the file: the “file first, then help” rule was broken, {a} in all; the filing procedure must be checked."),
            ),
        ),
        Check::AfterClosing => (
            w.t(&format!("退档后继续发放救助金，涉及金额{a}（{m}笔）"), &format!("Aid paid after the file was closed: {a} ({m} payments)")),
            w.t("退档（脱困）后是否停止发放救助金（退档程序审定表）。", "Whether aid stopped when the file was closed (exit-procedure table)."),
            w.t("以下救助金的发放日期晚于该户退档日期：", "These payments are dated after the household's file was closed:"),
            w.t(
                &format!("上述{m}笔救助金在退档后发放，发放对象已不属于在档困难职工，涉及金额{a}，应予追回。"),
                &format!("These {m} payments were made after the file was closed, to households no longer on file, {a} in all; they should be recovered."),
            ),
        ),
        Check::UnitMismatch => (
            w.t(&format!("发放单位与建档单位不一致，涉及金额{a}（{m}笔）"), &format!("Aid paid by a unit other than the filing unit: {a} ({m} payments)")),
            w.t("救助金是否由建档单位依档发放。", "Whether aid was paid by the unit holding the file."),
            w.t("以下救助金的发放单位不是该户的建档单位：", "These payments were booked under a unit other than the household's filing unit:"),
            w.t(&format!("上述{m}笔救助金跨单位发放，涉及金额{a}，应核实是否重复建档或虚列发放。"), &format!("These {m} payments cross units, {a} in all; duplicate files or false entries must be ruled out.")),
        ),
        Check::LivingCap => (
            w.t(&format!("超标准发放生活救助金，超标金额{a}（{n}户年）"), &format!("Living aid above the yearly standard: {a} above the cap ({n} household-years)")),
            w.t("生活救助是否超标准发放（生活救助审定表 五、六）。", "Whether living aid exceeded the standard (living-aid table, items 5–6)."),
            w.t(
                "以下户当年生活救助合计超过当地同期低保月标准乘以规定月数：",
                "These households' living aid in a year exceeds the local monthly 低保 times the months allowed:",
            ),
            w.t(&format!("上述生活救助超标准发放，超标金额合计{a}，应予纠正。"), &format!("Living aid was paid above the standard, {a} above the caps in all; this should be corrected.")),
        ),
        Check::WarmthVisit => (
            w.t(&format!("送温暖慰问金超过单次标准，超标金额{a}（{n}笔）"), &format!("Warmth-delivery payments above the per-visit standard: {a} above the cap ({n} payments)")),
            w.t("送温暖资金是否超标准发放。", "Whether warmth-delivery funds exceeded the standard."),
            w.t("以下送温暖慰问金单次金额超过标准：", "These warmth-delivery payments exceed the per-visit cap:"),
            w.t(&format!("上述送温暖慰问金超标准发放，超标金额合计{a}，应予纠正。"), &format!("Warmth payments exceeded the per-visit standard by {a} in all; this should be corrected.")),
        ),
        Check::WarmthYear => (
            w.t(&format!("送温暖慰问金超过年度标准，超标金额{a}（{n}户年）"), &format!("Warmth-delivery payments above the yearly standard: {a} above the cap ({n} household-years)")),
            w.t("送温暖资金是否超标准发放。", "Whether warmth-delivery funds exceeded the standard."),
            w.t("以下户当年送温暖慰问金合计超过年度标准：", "These households' warmth-delivery payments in a year exceed the yearly cap:"),
            w.t(&format!("上述送温暖慰问金年度合计超标准，超标金额合计{a}，应予纠正。"), &format!("Yearly warmth payments exceeded the standard by {a} in all; this should be corrected.")),
        ),
        Check::Duplicate => (
            w.t(&format!("同一期间重复发放同类救助金，重复金额{a}（{n}户次，{m}笔）"), &format!("Same household paid twice for the same purpose in a period: {a} repeated ({n} cases, {m} payments)")),
            w.t("是否存在重复发放、滥发帮扶资金的行为（审计重点四）。", "Whether aid was paid twice or handed out indiscriminately (audit focus 4)."),
            w.t("以下户在同一期间内多次领取同一类救助金（第一笔以外为重复发放）：", "These households were paid the same kind of aid more than once in a period (every payment after the first is a repeat):"),
            w.t(&format!("上述救助金重复发放，重复金额合计{a}，应予追回。"), &format!("Aid was paid twice, {a} repeated in all; the repeats should be recovered.")),
        ),
        Check::Flat => (
            w.t(&format!("未按困难程度分档或差额发放救助金，{n}个单位按相同金额发放，涉及金额{a}（{m}笔）"), &format!("Aid paid flat instead of tiered: {n} units paid one amount to all, {a} ({m} payments)")),
            w.t("是否按困难程度分档或者差额发放救助金（救助金精准发放情况审定表 一（二）（三））。", "Whether aid was tiered by hardship or paid as a difference (disbursement table, items 1(2)–(3))."),
            w.t(
                &format!(
                    "以下单位同类救助金的大多数（不少于{}）按同一金额发放，且发放对象分属不同困难类别：",
                    w.pct(r.rules.flat_share)
                ),
                &format!("In these units most payments of a kind (at least {}) have one amount, paid to households of different hardship categories:", w.pct(r.rules.flat_share)),
            ),
            w.t(&format!("上述单位未按困难程度分档或差额发放救助金，涉及金额{a}，应按困难类别分档发放。"), &format!("These units paid one amount regardless of hardship, {a} in all; aid should be tiered by category.")),
        ),
        _ => (
            w.t(&format!("超范围开支帮扶资金，涉及金额{a}（{m}笔）"), &format!("Assistance funds spent outside the allowed scope: {a} ({m} payments)")),
            w.t("是否超范围开支救助金、自行设立救助项目（开支范围情况审定表；救助项目审定表 六）。", "Whether aid was spent outside its scope or on items the unit created (spending-scope and aid-items tables)."),
            w.t("以下支出的类型不在允许的救助项目之内：", "These payments are of kinds outside the allowed aid items:"),
            w.t(&format!("上述{m}笔支出超出帮扶资金开支范围，涉及金额{a}，应予纠正并调整账务。"), &format!("These {m} payments fall outside the scope of the fund, {a} in all; they should be corrected and the accounts adjusted.")),
        ),
    };
    Finding {
        check,
        title,
        matter,
        facts: format!("{intro}\n\n{}{more}", table(&headers, &rows)),
        basis: w.rule(check),
        conclusion,
        amount: amt,
        money: true,
    }
}

fn weights_finding(w: &W<'_>, ws: &InferredWeightsSummary) -> Option<Finding> {
    let tol = w.c.weight_tol.to_string().parse::<f64>().unwrap_or(0.05);
    let off: Vec<&InferredWeight> = ws.weights.iter().filter(|x| (x.inferred - x.stated).abs() > tol).collect();
    if off.is_empty() {
        return None;
    }
    let headers: Vec<String> = [
        ("因素", "Factor"),
        ("公布权重", "Stated"),
        ("隐含权重", "Inferred"),
        ("差异", "Difference"),
    ]
    .iter()
    .map(|(z, e)| w.t(z, e))
    .collect();
    let f4 = |x: f64| format!("{x:.4}");
    let rows: Vec<Vec<String>> = ws
        .weights
        .iter()
        .map(|x| vec![x.factor.clone(), f4(x.stated), f4(x.inferred), f4(x.inferred - x.stated)])
        .collect();
    let n = off.len();
    Some(Finding {
        check: Check::Weights,
        title: w.t(
            &format!(
                "实际分配隐含的因素权重与所述权重不一致（{n}个因素差异超过{}）",
                w.c.weight_tol.normalize()
            ),
            &format!(
                "The weights the distribution implies differ from the stated ones ({n} factors off by more than {})",
                w.c.weight_tol.normalize()
            ),
        ),
        matter: w.t(
            "实际分配是否按所述因素权重执行（预算管理与绩效评价审定表 四）。",
            "Whether the distribution follows the stated factor weights (budget-management table, item 4).",
        ),
        facts: format!(
            "{}\n\n{}",
            w.t(
                &format!("以{}方法由实际分配反推第{}级切块 {} 的因素权重：", ws.method, ws.stage, ws.pool),
                &format!(
                    "Weights inferred ({}) from the actual distribution of stage {} pool {}:",
                    ws.method, ws.stage, ws.pool
                )
            ),
            table(&headers, &rows)
        ),
        basis: w.rule(Check::Weights),
        conclusion: w.t(
            "实际分配所体现的因素权重与公布（所述）权重不符，分配结果不能由所述公式解释。",
            "The weights the distribution implies are not the stated ones: the stated formula does not explain the distribution.",
        ),
        amount: Decimal::from(n),
        money: false,
    })
}

fn files_finding(w: &W<'_>, file: &str, hits: &[FileReconHit]) -> Option<Finding> {
    if hits.is_empty() {
        return None;
    }
    let n = hits.len();
    let headers: Vec<String> = [
        ("单位", "Unit"),
        ("年度", "Year"),
        (&format!("{file} 行") as &str, &format!("{file} line") as &str),
        ("不衔接类型", "Rule broken"),
        ("应为", "Expected"),
        ("实为", "Found"),
    ]
    .iter()
    .map(|(z, e)| w.t(z, e))
    .collect();
    let rows: Vec<Vec<String>> = hits
        .iter()
        .take(w.c.max_rows_listed)
        .map(|h| {
            vec![
                h.unit_id.clone(),
                h.year.to_string(),
                h.line.to_string(),
                match h.kind {
                    FileReconKind::Identity => w.t("年末数≠年初+新建−脱困−退档", "end ≠ start + new − exits − removals"),
                    FileReconKind::Continuity => w.t("年初数≠上年年末数", "start ≠ previous year's end"),
                },
                h.expected.to_string(),
                h.found.to_string(),
            ]
        })
        .collect();
    Some(Finding {
        check: Check::Files,
        title: w.t(
            &format!("困难职工档案数据不衔接{n}处"),
            &format!("Hardship-file counts do not reconcile in {n} places"),
        ),
        matter: w.t(
            "困难职工建档、脱困、退档数据是否真实、衔接（解困脱困政策目标完成情况审定表）。",
            "Whether the counts of files opened, exited and removed are consistent (target-completion table).",
        ),
        facts: format!(
            "{}\n\n{}",
            w.t(
                &format!("{file} 中以下数据不衔接："),
                &format!("These rows of {file} do not reconcile:")
            ),
            table(&headers, &rows)
        ),
        basis: w.rule(Check::Files),
        conclusion: w.t(
            "档案数据不衔接，解困脱困成效数据的真实性存疑，应核实原始档案。",
            "The file counts do not reconcile, so the reported results are in doubt; the original files must be checked.",
        ),
        amount: Decimal::from(n),
        money: false,
    })
}

/// Builds the findings, ordered: money findings by amount at stake (largest first, ties by
/// check order), then count findings by count.
pub fn build(input: &FindingsInput<'_>) -> Vec<Finding> {
    let w = W {
        s: input.scenario,
        c: input.config,
        lang: input.scenario.lang,
    };
    let mut out = Vec::new();
    if let Some(r) = input.recompute {
        allocation_findings(&w, r, &mut out);
    }
    if let Some(p) = input.payments {
        for s in &p.summary {
            let hits: Vec<&PaymentHit> = p.hits.iter().filter(|h| h.check == s.check).collect();
            if !hits.is_empty() {
                out.push(payment_finding(&w, p, s.check, &hits));
            }
        }
    }
    if let Some(ws) = input.weights {
        out.extend(weights_finding(&w, ws));
    }
    if let Some((file, hits)) = input.files {
        out.extend(files_finding(&w, file, hits));
    }
    let rank = |c: Check| Check::ALL.iter().position(|x| *x == c).unwrap_or(usize::MAX);
    out.sort_by(|a, b| {
        b.money
            .cmp(&a.money)
            .then(b.amount.cmp(&a.amount))
            .then(rank(a.check).cmp(&rank(b.check)))
    });
    out
}

fn formula_text(w: &W<'_>) -> String {
    let mut parts = Vec::new();
    for (i, st) in w.s.stages.iter().enumerate() {
        let pools: Vec<String> = st
            .pools
            .iter()
            .map(|p| {
                let fs: Vec<String> = p
                    .factors
                    .iter()
                    .map(|f| {
                        let t = match f.transform {
                            Transform::Share => String::new(),
                            Transform::Inverse => w.t("（取倒数）", " (inverse)"),
                            Transform::Gap { reference } => w.t(
                                &format!("（与{}的差距）", reference.normalize()),
                                &format!(" (gap to {})", reference.normalize()),
                            ),
                        };
                        format!("{} {}{t}", f.name, f.weight.normalize())
                    })
                    .collect();
                w.t(
                    &format!("切块 {}（{}）：{}", p.id, w.pct(p.share), fs.join("、")),
                    &format!("pool {} ({}): {}", p.id, w.pct(p.share), fs.join(", ")),
                )
            })
            .collect();
        let reserve = if st.reserve.is_zero() {
            String::new()
        } else {
            w.t(&format!("；预留{}", w.pct(st.reserve)), &format!("; reserve {}", w.pct(st.reserve)))
        };
        parts.push(w.t(
            &format!("第{}级（分配至 {}）：{}{reserve}", i + 1, st.level, pools.join("；")),
            &format!("stage {} (to {}): {}{reserve}", i + 1, st.level, pools.join("; ")),
        ));
    }
    parts.join(w.t("。", ". ").as_str())
}

/// Renders `findings.md` (see the module documentation). Deterministic: the same input gives
/// the same bytes.
pub fn render(input: &FindingsInput<'_>) -> String {
    let s = input.scenario;
    let w = W {
        s,
        c: input.config,
        lang: s.lang,
    };
    let findings = build(input);
    let mut md = String::new();
    let _ = writeln!(md, "# {}{}\n", w.t("审计发现：", "Audit findings: "), s.title);
    let auditee = input.config.auditee.clone().unwrap_or_else(|| s.title.clone());
    let _ = writeln!(md, "- {}{auditee}", w.t("被审计单位：", "Audited unit: "));
    if let Some(y) = s.year {
        let _ = writeln!(md, "- {}", w.t(&format!("审计期间：{y}年度"), &format!("Period: {y}")));
    }
    let _ = writeln!(md, "- {}{}", w.t("金额单位：", "Amounts in: "), s.money_unit.label(s.lang));
    let mut data = vec![s.toml_file.clone()];
    if let Some(r) = input.recompute {
        data.push(w.t(
            &format!("{}（{}行）", r.actual_file, r.actual_rows),
            &format!("{} ({} rows)", r.actual_file, r.actual_rows),
        ));
    }
    if let Some(p) = input.payments {
        data.push(w.t(
            &format!("{}（{}笔，合计{}）", p.payments_file, p.payments, w.money(p.total_amount)),
            &format!("{} ({} payments, {} in all)", p.payments_file, p.payments, w.money(p.total_amount)),
        ));
        data.push(w.t(
            &format!("{}（{}户）", p.households_file, p.households),
            &format!("{} ({} households)", p.households_file, p.households),
        ));
    }
    if let Some((f, _)) = input.files {
        data.push(f.to_string());
    }
    let _ = writeln!(md, "- {}{}", w.t("审计数据：", "Data: "), data.join(w.t("；", "; ").as_str()));
    let _ = writeln!(
        md,
        "- {}\n",
        w.t(
            &format!(
                "由 fundsim {} 生成；输入文件的 SHA-256 见 manifest.json，可用 `fundsim verify` 复核。",
                env!("CARGO_PKG_VERSION")
            ),
            &format!(
                "Written by fundsim {}; input SHA-256 hashes are in manifest.json, re-checked by `fundsim verify`.",
                env!("CARGO_PKG_VERSION")
            )
        )
    );

    // summary table: budget management, item 四
    let _ = writeln!(
        md,
        "## {}\n",
        w.t(
            "一、预算管理与绩效评价审定表（资金分配）",
            "1. Budget management and performance (allocation)"
        )
    );
    let h2 = vec![w.t("审计项目", "Question"), w.t("审计认定事实", "Facts found")];
    let mut rows: Vec<Vec<String>> = Vec::new();
    let uses_factors = s.stages.iter().any(|st| st.pools.iter().any(|p| !p.factors.is_empty()));
    rows.push(vec![
        w.t("资金分配是否采用因素法", "Is the factor method used?"),
        if uses_factors {
            w.t(
                &format!("是。{}：{}。", w.formula_source(), formula_text(&w)),
                &format!("Yes. {}: {}.", w.formula_source(), formula_text(&w)),
            )
        } else {
            w.t("否。", "No.")
        },
    ]);
    rows.push(vec![
        w.t("因素设置是否合理", "Are the factors reasonable?"),
        w.t(
            "本审计未作评价（政策约束检验见 `fundsim check-weights`）。",
            "Not assessed by the audit (policy checks: `fundsim check-weights`).",
        ),
    ]);
    rows.push(vec![
        w.t("是否公开资金分配的公式与因素所占权重", "Are the formula and the weights published?"),
        match input.config.published {
            Some(true) => w.t("是。", "Yes."),
            Some(false) => w.t("否，公式与权重未公开。", "No, neither formula nor weights are published."),
            None => w.t("未核实（[audit] published 未填写）。", "Not verified ([audit] published not set)."),
        },
    ]);
    let follows = match input.recompute {
        None => w.t(
            "未提供实际分配数据（actual.csv），无法判断。",
            "No actual distribution (actual.csv): cannot tell.",
        ),
        Some(r) => {
            let count = |st: Status| r.comparisons.iter().filter(|c| c.status == st).count();
            let flagged = r.comparisons.iter().filter(|c| c.flagged).count();
            let matched = count(Status::Ok) + count(Status::Differs);
            let verdict = if flagged == 0 {
                w.t(
                    "实际分配与公式一致（在容差内）。",
                    "The distribution follows the formula (within tolerance).",
                )
            } else {
                w.t(
                    "实际分配不能由公式复现。",
                    "The distribution cannot be reproduced from the formula.",
                )
            };
            w.t(
                &format!(
                    "按公式复算并与 {} 比对{matched}项：{}项在容差内，{}项超出容差，{}项应分未见，{}项非公式受益单位。{verdict}",
                    r.actual_file,
                    count(Status::Ok),
                    count(Status::Differs),
                    count(Status::Missing),
                    count(Status::NotRecipient)
                ),
                &format!(
                    "Recomputed and compared with {}, {matched} rows: {} within tolerance, {} beyond, {} recipients missing, {} units outside the formula. {verdict}",
                    r.actual_file,
                    count(Status::Ok),
                    count(Status::Differs),
                    count(Status::Missing),
                    count(Status::NotRecipient)
                ),
            )
        }
    };
    rows.push(vec![
        w.t("实际分配是否按公式与权重执行", "Does the distribution follow them?"),
        follows,
    ]);
    rows.push(vec![
        w.t("实际分配隐含的因素权重", "Weights the distribution implies"),
        match input.weights {
            None => w.t(
                "未计算（见 `fundsim infer-weights`）。",
                "Not computed (see `fundsim infer-weights`).",
            ),
            Some(ws) => {
                let list: Vec<String> = ws
                    .weights
                    .iter()
                    .map(|x| format!("{} {:.4}/{:.4}", x.factor, x.stated, x.inferred))
                    .collect();
                w.t(
                    &format!("第{}级切块 {}（{}，所述/隐含）：{}", ws.stage, ws.pool, ws.method, list.join("、")),
                    &format!(
                        "stage {} pool {} ({}, stated/inferred): {}",
                        ws.stage,
                        ws.pool,
                        ws.method,
                        list.join(", ")
                    ),
                )
            }
        },
    ]);
    if let Some(r) = input.recompute {
        let n = r.reconciliations.len();
        let f = r.reconciliations.iter().filter(|x| x.flagged).count();
        rows.push(vec![
            w.t("资金逐级拨付是否衔接", "Do the funds carry through the levels?"),
            w.t(
                &format!("核对{n}个分配单位，{f}个收支不衔接。"),
                &format!("{n} allocating units checked, {f} do not reconcile."),
            ),
        ]);
    }
    md.push_str(&table(&h2, &rows));
    md.push('\n');

    // payment summary
    if let Some(p) = input.payments {
        let _ = writeln!(md, "## {}\n", w.t("二、救助金发放检查汇总", "2. Disbursement checks"));
        let headers = vec![
            w.t("检查事项", "Check"),
            w.t("检查笔数", "Payments examined"),
            w.t("发现（项）", "Hits"),
            w.t("涉及金额", "Amount at stake"),
        ];
        let rows: Vec<Vec<String>> = p
            .summary
            .iter()
            .map(|x| {
                vec![
                    check_name(w.lang, x.check),
                    x.examined.to_string(),
                    x.hits.to_string(),
                    grouped(x.amount),
                ]
            })
            .collect();
        md.push_str(&table(&headers, &rows));
        md.push('\n');
    }

    let _ = writeln!(
        md,
        "## {}\n",
        w.t("三、审计发现的主要问题（按涉及金额排序）", "3. Findings (largest amount first)")
    );
    if findings.is_empty() {
        let _ = writeln!(md, "{}\n", w.t("未发现问题。", "No problems found."));
    }
    for (i, f) in findings.iter().enumerate() {
        let _ = writeln!(
            md,
            "### {} {}\n",
            w.t(&format!("（{}）", chinese_number(i + 1)), &format!("3.{}", i + 1)),
            f.title
        );
        let _ = writeln!(md, "**{}**{}{}\n", w.t("审计事项", "Matter audited"), w.t("：", ": "), f.matter);
        let _ = writeln!(
            md,
            "**{}**{}{}\n",
            w.t("审计查明的事实", "Facts found"),
            w.t("：", ": "),
            f.facts.trim_end()
        );
        let _ = writeln!(md, "**{}**{}{}\n", w.t("审计依据", "Rule"), w.t("：", ": "), f.basis);
        let _ = writeln!(md, "**{}**{}{}\n", w.t("审计结论", "Conclusion"), w.t("：", ": "), f.conclusion);
    }

    // checks that found nothing
    let mut clean: Vec<String> = Vec::new();
    if let Some(r) = input.recompute {
        let flagged_checks: Vec<Check> = findings.iter().map(|f| f.check).collect();
        if !flagged_checks.contains(&Check::Allocation)
            && !flagged_checks.contains(&Check::Missing)
            && !flagged_checks.contains(&Check::NotRecipient)
        {
            clean.push(w.t(
                &format!("资金分配：按公式复算{}项，均在容差内。", r.comparisons.len()),
                &format!("Allocation: {} rows recomputed, all within tolerance.", r.comparisons.len()),
            ));
        }
        if !r.reconciliations.is_empty() && !flagged_checks.contains(&Check::Reconcile) {
            clean.push(w.t(
                &format!("资金逐级衔接：核对{}个分配单位，均衔接。", r.reconciliations.len()),
                &format!(
                    "Carry-through: {} allocating units checked, all reconcile.",
                    r.reconciliations.len()
                ),
            ));
        }
    }
    if let Some(p) = input.payments {
        for x in p.summary.iter().filter(|x| x.hits == 0) {
            clean.push(w.t(
                &format!("{}：检查{}笔，未发现问题。", check_name(w.lang, x.check), x.examined),
                &format!("{}: {} payments examined, nothing found.", check_name(w.lang, x.check), x.examined),
            ));
        }
    }
    if let Some((file, hits)) = input.files {
        if hits.is_empty() {
            clean.push(w.t(
                &format!("档案数据（{file}）：均衔接。"),
                &format!("File counts ({file}): all reconcile."),
            ));
        }
    }
    if !clean.is_empty() {
        let _ = writeln!(md, "## {}\n", w.t("四、未发现问题的事项", "4. Checks that found nothing"));
        for c in clean {
            let _ = writeln!(md, "- {c}");
        }
        md.push('\n');
    }
    md
}

/// Name of a check for tables.
pub fn check_name(lang: Lang, c: Check) -> String {
    let (zh, en) = match c {
        Check::Allocation => ("实际分配偏离公式", "Distribution vs formula"),
        Check::Missing => ("受益单位未见分配", "Recipients missing"),
        Check::NotRecipient => ("向公式外单位分配", "Paid outside the formula"),
        Check::Reconcile => ("资金逐级衔接", "Carry-through of funds"),
        Check::Weights => ("隐含权重", "Implied weights"),
        Check::Files => ("档案数据衔接", "File counts"),
        Check::Unfiled => ("向未建档人员发放", "Paid to households not on file"),
        Check::BeforeFiling => ("建档前发放", "Paid before filing"),
        Check::AfterClosing => ("退档后发放", "Paid after closing"),
        Check::UnitMismatch => ("跨单位发放", "Paid by another unit"),
        Check::LivingCap => ("生活救助超标准", "Living aid over the yearly cap"),
        Check::WarmthVisit => ("送温暖超单次标准", "Warmth over the per-visit cap"),
        Check::WarmthYear => ("送温暖超年度标准", "Warmth over the yearly cap"),
        Check::Duplicate => ("同期重复发放", "Paid twice in a period"),
        Check::Flat => ("未分档发放", "Flat instead of tiered"),
        Check::Scope => ("超范围开支", "Outside the allowed scope"),
    };
    tr(lang, zh, en)
}

/// 1 → 一, 12 → 十二, 21 → 二十一 (up to 99; larger numbers as digits).
fn chinese_number(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let d = |i: usize| D.get(i).copied().unwrap_or("");
    match n {
        0..=9 => d(n).to_string(),
        10 => "十".into(),
        11..=19 => format!("十{}", d(n % 10)),
        20..=99 if n % 10 == 0 => format!("{}十", d(n / 10)),
        20..=99 => format!("{}十{}", d(n / 10), d(n % 10)),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_grouping() {
        assert_eq!(chinese_number(1), "一");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(12), "十二");
        assert_eq!(chinese_number(20), "二十");
        assert_eq!(chinese_number(23), "二十三");
        assert_eq!(grouped(Decimal::new(12345675, 1)), "1,234,567.5");
        assert_eq!(grouped(Decimal::new(-1000, 0)), "-1,000");
        assert_eq!(grouped(Decimal::new(999, 0)), "999");
    }

    #[test]
    fn tables_escape_pipes() {
        let t = table(&["a".into()], &[vec!["x|y".into()]]);
        assert_eq!(t, "| a |\n| --- |\n| x\\|y |\n");
    }
}
