//! Audit: recompute the allocation from the stated formula and compare it with what was
//! actually paid ([`recompute`]), check a household payment ledger against the file register
//! ([`payments`]), and write findings in the shape of the union audit guide ([`findings`]),
//! with an evidence manifest ([`manifest`]). [`run`] ties them to a loaded scenario for
//! `fundsim audit` and the report.
//!
//! The audit guide is 全总经审办《帮扶资金、送温暖资金专项审计实务指南》（工审办发〔2020〕4号）:
//! its budget-management table (预算管理与绩效评价审定表) item 四 asks whether funds are split by
//! the factor method, whether the formula and weights are published and whether the
//! distribution can be reproduced from them; its disbursement tables ask about payments to
//! unfiled people, over-standard, flat instead of tiered, after-closing and out-of-scope
//! payments.
//!
//! Settings come from `[audit]` and `[audit.payments]` in `scenario.toml` (see [`RawAudit`],
//! [`RawAuditPayments`]); every key is optional and [`config`] fills sensible defaults.

pub mod dates;
pub mod findings;
pub mod manifest;
pub mod payments;
pub mod recompute;
pub mod run;

use crate::error::{InputErrors, Location};
use crate::scenario::raw::NumText;
use crate::scenario::{num_or_text, Ctx, MoneyUnit, Scenario};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

/// `[audit]` as written in `scenario.toml`.
///
/// ```toml
/// [audit]
/// abs_tol = "100"          # flag |actual − formula| above max(abs_tol, rel_tol × formula)
/// rel_tol = "0.01"
/// weight_tol = "0.05"      # inferred vs stated weight difference worth a finding
/// published = false        # are the formula and weights published? (auditor's finding)
/// formula_source = "省总工会2019年帮扶资金分配方案"
/// auditee = "某省总工会"
/// max_rows_listed = 20     # evidence rows listed per finding in findings.md
/// [audit.rules]            # rule text cited per check (overrides the built-in citations)
/// unfiled = "《中央财政专项帮扶资金使用管理办法》第三条……“先建档、后帮扶、实名制”……"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    /// Absolute tolerance, in `money_unit` (default: one rounding unit).
    #[serde(default)]
    pub abs_tol: Option<Spanned<NumText>>,
    /// Relative tolerance (default 0.01).
    #[serde(default)]
    pub rel_tol: Option<Spanned<NumText>>,
    /// Weight difference (inferred − stated) that makes a finding (default 0.05).
    #[serde(default)]
    pub weight_tol: Option<Spanned<NumText>>,
    /// Whether the unit published its formula and weights (unknown when absent).
    #[serde(default)]
    pub published: Option<bool>,
    /// The document stating the formula.
    #[serde(default)]
    pub formula_source: Option<String>,
    /// The audited unit (被审计单位), for the findings' heading.
    #[serde(default)]
    pub auditee: Option<String>,
    /// Evidence rows listed per finding in `findings.md` (default 20; all rows are in the CSVs).
    #[serde(default)]
    pub max_rows_listed: Option<Spanned<i64>>,
    /// Rule text cited per check (keys: [`Check::key`]).
    #[serde(default)]
    pub rules: BTreeMap<String, Spanned<String>>,
    /// `[audit.payments]`
    #[serde(default)]
    pub payments: Option<RawAuditPayments>,
}

/// `[audit.payments]` as written in `scenario.toml`.
///
/// ```toml
/// [audit.payments]
/// checks = ["unfiled", "before_filing", "after_closing", "living_cap", "warmth_visit",
///           "warmth_year", "duplicate", "flat", "scope"]   # default: these nine
/// living_kinds = ["living"]          # kinds capped by the yearly living-aid standard
/// living_months = "12"               # months of 低保 per year for categories not in tier_months
/// tier_months = { deep = "10", relative = "8" }   # by households.csv `category`
/// warmth_kinds = ["warmth"]          # 送温暖
/// warmth_per_visit = "3000"          # yuan (converted when money_unit = wan_yuan)
/// warmth_per_year = "6000"
/// allowed_kinds = ["living", "education", "medical", "warmth", "training", "legal"]
/// duplicate_period = "month"         # month | quarter | year
/// duplicate_kinds = ["living", "education", "medical", "warmth"]   # default: every kind
/// flat_kinds = ["living"]            # kinds that must be tiered (分档/差额)
/// flat_share = "0.8"                 # share of a unit's payments of a kind with one amount
/// flat_min_payments = 10             # units with fewer payments of the kind are not judged
/// flat_min_categories = 2            # the one amount must span at least this many categories
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuditPayments {
    /// Checks to run (default: all but `unit_mismatch`).
    #[serde(default)]
    pub checks: Option<Vec<Spanned<String>>>,
    /// Kinds of living aid (default `["living"]`).
    #[serde(default)]
    pub living_kinds: Option<Vec<String>>,
    /// Months of 低保 per year for categories without a tier (default 12).
    #[serde(default)]
    pub living_months: Option<Spanned<NumText>>,
    /// Months of 低保 per year by category.
    #[serde(default)]
    pub tier_months: BTreeMap<String, Spanned<NumText>>,
    /// Kinds of warmth-delivery payments (default `["warmth"]`).
    #[serde(default)]
    pub warmth_kinds: Option<Vec<String>>,
    /// Cap per warmth payment (default 3,000 yuan).
    #[serde(default)]
    pub warmth_per_visit: Option<Spanned<NumText>>,
    /// Cap per household per calendar year of warmth payments (default 6,000 yuan).
    #[serde(default)]
    pub warmth_per_year: Option<Spanned<NumText>>,
    /// Kinds within the allowed scope.
    #[serde(default)]
    pub allowed_kinds: Option<Vec<String>>,
    /// Period of the duplicate check.
    #[serde(default)]
    pub duplicate_period: Option<Spanned<String>>,
    /// Kinds paid at most once per period (default: every kind).
    #[serde(default)]
    pub duplicate_kinds: Option<Vec<String>>,
    /// Kinds that must be tiered.
    #[serde(default)]
    pub flat_kinds: Option<Vec<String>>,
    /// Share of one amount that makes a unit's payments flat.
    #[serde(default)]
    pub flat_share: Option<Spanned<NumText>>,
    /// Fewest payments of a kind in a unit for the flat check.
    #[serde(default)]
    pub flat_min_payments: Option<Spanned<i64>>,
    /// Fewest categories the one amount must span.
    #[serde(default)]
    pub flat_min_categories: Option<Spanned<i64>>,
}

/// What an audit check looks at. The key is the name used in `scenario.toml`, CSV outputs and
/// `[audit.rules]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// A unit's actual amount differs from the formula beyond tolerance.
    Allocation,
    /// A recipient of the formula is missing from `actual.csv`.
    Missing,
    /// `actual.csv` pays a unit that is not a recipient of the formula.
    NotRecipient,
    /// What a unit received ≠ what it passed on + its reserve.
    Reconcile,
    /// Inferred weights differ from the stated ones.
    Weights,
    /// File counts do not reconcile (files.csv).
    Files,
    /// Payment to a household not on file.
    Unfiled,
    /// Payment dated before the household was filed.
    BeforeFiling,
    /// Payment dated after the household's file was closed.
    AfterClosing,
    /// Payment booked under another unit than the household's (off by default).
    UnitMismatch,
    /// Living aid over the yearly cap.
    LivingCap,
    /// Warmth payment over the per-visit cap.
    WarmthVisit,
    /// Warmth payments over the per-year cap.
    WarmthYear,
    /// Same household paid twice for the same kind in a period.
    Duplicate,
    /// Flat payments where tiering is required.
    Flat,
    /// Kind outside the allowed scope.
    Scope,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 16] = [
        Check::Allocation,
        Check::Missing,
        Check::NotRecipient,
        Check::Reconcile,
        Check::Weights,
        Check::Files,
        Check::Unfiled,
        Check::BeforeFiling,
        Check::AfterClosing,
        Check::UnitMismatch,
        Check::LivingCap,
        Check::WarmthVisit,
        Check::WarmthYear,
        Check::Duplicate,
        Check::Flat,
        Check::Scope,
    ];

    /// The payment checks run by default.
    pub const PAYMENT_DEFAULT: [Check; 9] = [
        Check::Unfiled,
        Check::BeforeFiling,
        Check::AfterClosing,
        Check::LivingCap,
        Check::WarmthVisit,
        Check::WarmthYear,
        Check::Duplicate,
        Check::Flat,
        Check::Scope,
    ];

    /// The name used in files.
    pub fn key(self) -> &'static str {
        match self {
            Check::Allocation => "allocation",
            Check::Missing => "missing",
            Check::NotRecipient => "not_recipient",
            Check::Reconcile => "reconcile",
            Check::Weights => "weights",
            Check::Files => "files",
            Check::Unfiled => "unfiled",
            Check::BeforeFiling => "before_filing",
            Check::AfterClosing => "after_closing",
            Check::UnitMismatch => "unit_mismatch",
            Check::LivingCap => "living_cap",
            Check::WarmthVisit => "warmth_visit",
            Check::WarmthYear => "warmth_year",
            Check::Duplicate => "duplicate",
            Check::Flat => "flat",
            Check::Scope => "scope",
        }
    }

    /// The check with this key.
    pub fn from_key(k: &str) -> Option<Check> {
        Check::ALL.iter().copied().find(|c| c.key() == k)
    }

    /// Whether the check reads the payment ledger.
    pub fn is_payment(self) -> bool {
        matches!(
            self,
            Check::Unfiled
                | Check::BeforeFiling
                | Check::AfterClosing
                | Check::UnitMismatch
                | Check::LivingCap
                | Check::WarmthVisit
                | Check::WarmthYear
                | Check::Duplicate
                | Check::Flat
                | Check::Scope
        )
    }
}

/// The period of the duplicate check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    /// Calendar month.
    #[default]
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl Period {
    /// A number identifying the period of a date: `YYYYMM`, `YYYYQ` or `YYYY`.
    pub fn key(self, d: dates::Date) -> u32 {
        match self {
            Period::Month => d.year() * 100 + d.month(),
            Period::Quarter => d.year() * 10 + d.quarter(),
            Period::Year => d.year(),
        }
    }

    /// The period of a date as text: `2019-03`, `2019-Q1` or `2019`.
    pub fn label(self, d: dates::Date) -> String {
        match self {
            Period::Month => format!("{:04}-{:02}", d.year(), d.month()),
            Period::Quarter => format!("{:04}-Q{}", d.year(), d.quarter()),
            Period::Year => format!("{:04}", d.year()),
        }
    }

    /// The name used in `scenario.toml`.
    pub fn key_name(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }
}

/// Validated `[audit.payments]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRules {
    /// Checks to run.
    pub checks: BTreeSet<Check>,
    /// Kinds of living aid.
    pub living_kinds: Vec<String>,
    /// Months of 低保 per year for categories not in `tier_months`.
    pub living_months: Decimal,
    /// Months of 低保 per year by category.
    pub tier_months: BTreeMap<String, Decimal>,
    /// Kinds of warmth-delivery payments.
    pub warmth_kinds: Vec<String>,
    /// Cap per warmth payment.
    pub warmth_per_visit: Decimal,
    /// Cap per household per calendar year of warmth payments.
    pub warmth_per_year: Decimal,
    /// Kinds within the allowed scope.
    pub allowed_kinds: Vec<String>,
    /// Period of the duplicate check.
    pub duplicate_period: Period,
    /// Kinds paid at most once per period (`None` = every kind).
    pub duplicate_kinds: Option<Vec<String>>,
    /// Kinds that must be tiered.
    pub flat_kinds: Vec<String>,
    /// Share of a unit's payments of a kind with one amount that makes them flat.
    pub flat_share: Decimal,
    /// Fewest payments of a kind in a unit for the flat check.
    pub flat_min_payments: usize,
    /// Fewest categories the one amount must span.
    pub flat_min_categories: usize,
}

impl Default for PaymentRules {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        PaymentRules {
            checks: Check::PAYMENT_DEFAULT.iter().copied().collect(),
            living_kinds: v(&["living"]),
            living_months: Decimal::from(12),
            tier_months: BTreeMap::new(),
            warmth_kinds: v(&["warmth"]),
            warmth_per_visit: Decimal::from(3000),
            warmth_per_year: Decimal::from(6000),
            allowed_kinds: v(&["living", "education", "medical", "warmth", "training", "legal"]),
            duplicate_period: Period::Month,
            duplicate_kinds: None,
            flat_kinds: v(&["living"]),
            flat_share: Decimal::new(8, 1),
            flat_min_payments: 10,
            flat_min_categories: 2,
        }
    }
}

impl PaymentRules {
    /// Months of 低保 in the yearly living-aid cap for a category.
    pub fn months_for(&self, category: &str) -> Decimal {
        self.tier_months.get(category).copied().unwrap_or(self.living_months)
    }
}

/// Validated `[audit]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    /// Absolute tolerance, in `money_unit`.
    pub abs_tol: Decimal,
    /// Relative tolerance.
    pub rel_tol: Decimal,
    /// Weight difference that makes a finding.
    pub weight_tol: Decimal,
    /// Whether the formula and weights are published.
    pub published: Option<bool>,
    /// The document stating the formula.
    pub formula_source: Option<String>,
    /// The audited unit.
    pub auditee: Option<String>,
    /// Evidence rows listed per finding.
    pub max_rows_listed: usize,
    /// Rule texts that override the built-in citations.
    pub rules: BTreeMap<Check, String>,
    /// Payment rules.
    pub payments: PaymentRules,
}

impl AuditConfig {
    /// Defaults for a scenario: `abs_tol` = one rounding unit, `rel_tol` = 0.01,
    /// `weight_tol` = 0.05, warmth caps 3,000 / 6,000 yuan in the scenario's money unit.
    pub fn defaults(s: &Scenario) -> AuditConfig {
        let mut payments = PaymentRules::default();
        if s.money_unit == MoneyUnit::WanYuan {
            payments.warmth_per_visit = Decimal::new(3, 1);
            payments.warmth_per_year = Decimal::new(6, 1);
        }
        AuditConfig {
            abs_tol: s.rounding,
            rel_tol: Decimal::new(1, 2),
            weight_tol: Decimal::new(5, 2),
            published: None,
            formula_source: None,
            auditee: None,
            max_rows_listed: 20,
            rules: BTreeMap::new(),
            payments,
        }
    }

    /// Whether `|diff| > max(abs_tol, rel_tol × |formula|)`.
    pub fn beyond(&self, diff: Decimal, formula: Decimal) -> bool {
        let rel = self.rel_tol.checked_mul(formula.abs()).unwrap_or(Decimal::MAX);
        diff.abs() > self.abs_tol.max(rel)
    }
}

/// Reads `[audit]` from the scenario, with defaults for every key left out. Every problem is
/// reported with its line in `scenario.toml`.
pub fn config(s: &Scenario) -> Result<AuditConfig, InputErrors> {
    let mut c = AuditConfig::defaults(s);
    let Some(raw) = s.raw.audit.as_ref() else {
        return Ok(c);
    };
    let ctx = Ctx {
        file: &s.toml_file,
        text: &s.toml_text,
    };
    let mut errs = InputErrors::default();
    let a = raw.get_ref();
    let dec = |v: &Option<Spanned<NumText>>, key: &str, min: Decimal, max: Option<Decimal>, errs: &mut InputErrors| -> Option<Decimal> {
        let v = v.as_ref()?;
        match num_or_text(v) {
            Ok(d) if d >= min && max.is_none_or(|m| d <= m) => Some(d),
            Ok(d) => {
                let range = match max {
                    Some(m) => format!("[{min}, {m}]"),
                    None => format!("≥ {min}"),
                };
                errs.push(ctx.loc(v.span().start, key), format!("must be in {range}, got {d}"));
                None
            }
            Err(t) => {
                errs.push(ctx.loc(v.span().start, key), format!("`{t}` is not a number"));
                None
            }
        }
    };
    let zero = Decimal::ZERO;
    let one = Some(Decimal::ONE);
    if let Some(d) = dec(&a.abs_tol, "audit.abs_tol", zero, None, &mut errs) {
        c.abs_tol = d;
    }
    if let Some(d) = dec(&a.rel_tol, "audit.rel_tol", zero, one, &mut errs) {
        c.rel_tol = d;
    }
    if let Some(d) = dec(&a.weight_tol, "audit.weight_tol", zero, one, &mut errs) {
        c.weight_tol = d;
    }
    c.published = a.published;
    c.formula_source = a.formula_source.clone();
    c.auditee = a.auditee.clone();
    if let Some(m) = &a.max_rows_listed {
        match usize::try_from(*m.get_ref()) {
            Ok(n) if n > 0 => c.max_rows_listed = n,
            _ => errs.push(
                ctx.loc(m.span().start, "audit.max_rows_listed"),
                format!("must be a positive whole number, got {}", m.get_ref()),
            ),
        }
    }
    for (k, v) in &a.rules {
        match Check::from_key(k) {
            Some(check) => {
                c.rules.insert(check, v.get_ref().trim().to_string());
            }
            None => errs.push(
                ctx.loc(v.span().start, &format!("audit.rules.{k}")),
                format!(
                    "unknown check `{k}` (checks: {})",
                    Check::ALL.iter().map(|c| c.key()).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
    }
    if let Some(p) = &a.payments {
        let r = &mut c.payments;
        if let Some(list) = &p.checks {
            r.checks.clear();
            for k in list {
                match Check::from_key(k.get_ref().trim()) {
                    Some(ch) if ch.is_payment() => {
                        r.checks.insert(ch);
                    }
                    _ => errs.push(
                        ctx.loc(k.span().start, "audit.payments.checks"),
                        format!(
                            "unknown payment check `{}` (checks: {})",
                            k.get_ref(),
                            Check::ALL
                                .iter()
                                .filter(|c| c.is_payment())
                                .map(|c| c.key())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                }
            }
        }
        let kinds = |v: &Option<Vec<String>>| v.as_ref().map(|xs| xs.iter().map(|x| x.trim().to_string()).collect::<Vec<_>>());
        if let Some(v) = kinds(&p.living_kinds) {
            r.living_kinds = v;
        }
        if let Some(v) = kinds(&p.warmth_kinds) {
            r.warmth_kinds = v;
        }
        if let Some(v) = kinds(&p.allowed_kinds) {
            r.allowed_kinds = v;
        }
        if let Some(v) = kinds(&p.flat_kinds) {
            r.flat_kinds = v;
        }
        if let Some(v) = kinds(&p.duplicate_kinds) {
            r.duplicate_kinds = Some(v);
        }
        if let Some(d) = dec(&p.living_months, "audit.payments.living_months", zero, None, &mut errs) {
            r.living_months = d;
        }
        for (cat, v) in &p.tier_months {
            if let Some(d) = dec(
                &Some(v.clone()),
                &format!("audit.payments.tier_months.{cat}"),
                zero,
                None,
                &mut errs,
            ) {
                r.tier_months.insert(cat.trim().to_string(), d);
            }
        }
        if let Some(d) = dec(&p.warmth_per_visit, "audit.payments.warmth_per_visit", zero, None, &mut errs) {
            r.warmth_per_visit = d;
        }
        if let Some(d) = dec(&p.warmth_per_year, "audit.payments.warmth_per_year", zero, None, &mut errs) {
            r.warmth_per_year = d;
        }
        if let Some(d) = dec(&p.flat_share, "audit.payments.flat_share", zero, one, &mut errs) {
            if d.is_zero() {
                errs.push(
                    Location::at(&s.toml_file, None, "audit.payments.flat_share"),
                    "flat_share must be above 0",
                );
            } else {
                r.flat_share = d;
            }
        }
        if let Some(pd) = &p.duplicate_period {
            match pd.get_ref().trim() {
                "month" => r.duplicate_period = Period::Month,
                "quarter" => r.duplicate_period = Period::Quarter,
                "year" => r.duplicate_period = Period::Year,
                other => errs.push(
                    ctx.loc(pd.span().start, "audit.payments.duplicate_period"),
                    format!("unknown period `{other}` (month, quarter, year)"),
                ),
            }
        }
        let count = |v: &Option<Spanned<i64>>, key: &str, errs: &mut InputErrors| -> Option<usize> {
            let v = v.as_ref()?;
            match usize::try_from(*v.get_ref()) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errs.push(
                        ctx.loc(v.span().start, key),
                        format!("must be a positive whole number, got {}", v.get_ref()),
                    );
                    None
                }
            }
        };
        if let Some(n) = count(&p.flat_min_payments, "audit.payments.flat_min_payments", &mut errs) {
            r.flat_min_payments = n;
        }
        if let Some(n) = count(&p.flat_min_categories, "audit.payments.flat_min_categories", &mut errs) {
            r.flat_min_categories = n;
        }
    }
    errs.into_result(c)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn scenario(extra: &str) -> Result<Scenario, InputErrors> {
        let toml = format!(
            "[scenario]\nname = \"t\"\n[[stage]]\nlevel = \"county\"\ntotal = \"1000\"\n[[stage.pool]]\nid = \"p\"\nshare = \"1\"\n[[stage.pool.factor]]\ncolumn = \"pop\"\nweight = \"1\"\n{extra}"
        );
        let units = b"id,name,parent_id,level\nP,P,,province\nA,A,P,county\nB,B,P,county\n".to_vec();
        let factors = b"unit_id,pop\nA,1\nB,3\n".to_vec();
        let mut src = |name: &str| -> Option<Result<(Vec<u8>, std::path::PathBuf), InputErrors>> {
            match name {
                "units.csv" => Some(Ok((units.clone(), name.into()))),
                "factors.csv" => Some(Ok((factors.clone(), name.into()))),
                _ => None,
            }
        };
        crate::scenario::from_sources("scenario.toml", toml.as_bytes(), &mut src)
    }

    #[test]
    fn defaults_without_a_section() {
        let s = scenario("").unwrap();
        let c = config(&s).unwrap();
        assert_eq!(c.abs_tol, Decimal::ONE);
        assert_eq!(c.rel_tol, Decimal::new(1, 2));
        assert_eq!(c.payments.checks.len(), 9);
        assert_eq!(c.payments.months_for("deep"), Decimal::from(12));
    }

    #[test]
    fn section_is_read_and_bad_values_are_located() {
        let s = scenario(
            "[audit]\nabs_tol = \"50\"\nrel_tol = 0.02\n[audit.rules]\nunfiled = \"先建档、后帮扶、实名制\"\n[audit.payments]\ntier_months = { deep = \"10\", relative = 8 }\nduplicate_period = \"quarter\"\nchecks = [\"unfiled\", \"flat\"]\n",
        )
        .unwrap();
        let c = config(&s).unwrap();
        assert_eq!(c.abs_tol, Decimal::from(50));
        assert_eq!(c.rel_tol, Decimal::new(2, 2));
        assert_eq!(c.payments.months_for("deep"), Decimal::from(10));
        assert_eq!(c.payments.months_for("relative"), Decimal::from(8));
        assert_eq!(c.payments.months_for("other"), Decimal::from(12));
        assert_eq!(c.payments.duplicate_period, Period::Quarter);
        assert_eq!(
            c.payments.checks.iter().copied().collect::<Vec<_>>(),
            vec![Check::Unfiled, Check::Flat]
        );
        assert_eq!(c.rules.get(&Check::Unfiled).map(String::as_str), Some("先建档、后帮扶、实名制"));

        let s = scenario("[audit]\nrel_tol = \"2\"\n[audit.payments]\nduplicate_period = \"week\"\nchecks = [\"nope\"]\n").unwrap();
        let e = config(&s).unwrap_err().to_string();
        assert!(e.contains("scenario.toml:13: field `audit.rel_tol`"), "{e}");
        assert!(e.contains("week"), "{e}");
        assert!(e.contains("nope"), "{e}");
        assert!(scenario("[audit]\nabs_tolerance = 1\n").is_err());
    }

    #[test]
    fn beyond_uses_the_larger_tolerance() {
        let s = scenario("").unwrap();
        let c = config(&s).unwrap();
        assert!(!c.beyond(Decimal::from(10), Decimal::from(1000)));
        assert!(c.beyond(Decimal::from(11), Decimal::from(1000)));
        assert!(c.beyond(Decimal::from(-2), Decimal::from(10)));
    }
}
