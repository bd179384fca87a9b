//! The household register (`households.csv`) and payment ledger (`payments.csv`) of a
//! synthetic scenario, in the format the audit's payment checks read
//! ([`crate::audit::payments`]), with one planted irregularity of every kind they look for.
//!
//! Register: households spread over the counties in proportion to their filed poor (largest
//! remainder); categories `deep` (40%), `relative` (50%) and `accident` (10%); filed between
//! 2014 and the year before the ledger's (3% during it), 5% closed during it; the county's
//! monthly 低保 standard from its income (30% of income per head / 12, 260–900 yuan).
//!
//! Ledger, one year: a Spring Festival warmth payment (送温暖, 80% of households, 500–2,000
//! yuan); quarterly living aid to `deep` and `relative` households, tiered — 2 and 1.5 months
//! of 低保 per quarter, scaled 80–100% (差额); education aid in September (30%); medical aid
//! (every `accident` household, 20% of the others). A household is paid only while on file.
//! Clean rows never break a rule: at most 8 of the 10 months a `deep` household may receive in
//! a year, 6 of the 8 of a `relative` one, one payment of a kind per month.
//!
//! Planted (each listed in `planted.csv` with its line in `payments.csv`): payments to a
//! household not on file (`unfiled`), before filing, after closing, living aid over the yearly
//! cap, a warmth payment over the per-visit cap, warmth payments over the yearly cap, the same
//! living aid paid twice in a month (`duplicate`), a county paying every living-aid payment at
//! one amount (`flat`), and a payment of a kind outside the fund's scope.

use super::folder::{stream, Planted};
use super::County;
use rand::RngExt;
use std::fmt::Write as _;

/// What [`ledger`] writes.
pub(super) struct LedgerOut {
    /// `households.csv`.
    pub households: String,
    /// `payments.csv`.
    pub payments: String,
    /// The planted problems.
    pub planted: Vec<Planted>,
}

const DEEP: u8 = 0;
const RELATIVE: u8 = 1;
const ACCIDENT: u8 = 2;

fn category(c: u8) -> &'static str {
    match c {
        DEEP => "deep",
        RELATIVE => "relative",
        _ => "accident",
    }
}

/// A date as `yyyymmdd`.
type Date = u32;

fn date(y: i64, m: u32, d: u32) -> Date {
    u32::try_from(y).unwrap_or(0) * 10_000 + m * 100 + d
}

fn fmt_date(out: &mut String, d: Date) {
    let _ = write!(out, "{:04}-{:02}-{:02}", d / 10_000, d / 100 % 100, d % 100);
}

struct Household {
    county: usize,
    /// Number within its county (1-based): the id is the county id and this, five digits.
    k: usize,
    category: u8,
    filed: Date,
    closed: Option<Date>,
    dibao: u32,
}

impl Household {
    fn open_on(&self, d: Date) -> bool {
        self.filed <= d && self.closed.is_none_or(|c| d <= c)
    }
}

struct Payment {
    date: Date,
    /// Index into the register, or `None` for the unfiled household.
    household: Option<usize>,
    county: usize,
    kind: &'static str,
    amount: u32,
    planted: Option<&'static str>,
}

/// Living aid for one quarter: 2 (deep) or 1.5 (relative) months of 低保 times `pct`%, down to
/// 10 yuan.
fn living(dibao: u32, category: u8, pct: u32) -> u32 {
    match category {
        DEEP => dibao * 2 * pct / 1000 * 10,
        _ => dibao * 3 * pct / 2000 * 10,
    }
}

/// Households per county: `n` in proportion to the filed poor, largest remainder (ties to the
/// earlier county), at most [`super::folder::MAX_HOUSEHOLDS_PER_COUNTY`] each.
fn spread(counties: &[County], n: usize) -> Vec<usize> {
    let w: Vec<u128> = counties.iter().map(|c| u128::from(c.poor_pop.max(1))).collect();
    let total: u128 = w.iter().sum();
    let n = n.min(counties.len() * super::folder::MAX_HOUSEHOLDS_PER_COUNTY) as u128;
    if total == 0 {
        return vec![0; counties.len()];
    }
    let mut q: Vec<usize> = w.iter().map(|x| (n * x / total) as usize).collect();
    let mut rem: Vec<(u128, usize)> = w.iter().enumerate().map(|(i, x)| (n * x % total, i)).collect();
    let given: usize = q.iter().sum();
    rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rem.iter().take((n as usize).saturating_sub(given)) {
        if let Some(x) = q.get_mut(*i) {
            *x += 1;
        }
    }
    for x in &mut q {
        *x = (*x).min(super::folder::MAX_HOUSEHOLDS_PER_COUNTY);
    }
    q
}

/// Generates the register and the ledger for `year` (see the module documentation).
pub(super) fn ledger(counties: &[County], n: usize, year: i64, seed: u64) -> LedgerOut {
    let mut rng = stream(seed, 5);
    let per = spread(counties, n);
    // --- the register
    let mut hh: Vec<Household> = Vec::with_capacity(per.iter().sum());
    for (ci, (c, &m)) in counties.iter().zip(&per).enumerate() {
        let dibao = ((c.income * 0.3 / 12.0 / 10.0).round() * 10.0).clamp(260.0, 900.0) as u32;
        for k in 1..=m {
            let r = rng.random_range(0..100u32);
            let category = if r < 40 {
                DEEP
            } else if r < 90 {
                RELATIVE
            } else {
                ACCIDENT
            };
            let filed = if rng.random_bool(0.03) {
                date(year, rng.random_range(2..=10), rng.random_range(1..=28))
            } else {
                date(rng.random_range(2014..year), rng.random_range(1..=12), rng.random_range(1..=28))
            };
            let closed = if rng.random_bool(0.05) {
                let d = date(year, rng.random_range(3..=11), 28);
                (d > filed).then_some(d)
            } else {
                None
            };
            hh.push(Household {
                county: ci,
                k,
                category,
                filed,
                closed,
                dibao,
            });
        }
    }
    let first_day = date(year, 1, 1);
    let full_year = |h: &Household| h.filed < first_day && h.closed.is_none();
    // --- choose the planted households before paying, as some plants edit the register
    // flat: a county with at least four households, all open the whole year, the first three
    // deep, relative, deep (so its living aid spans two categories and reaches 10 payments)
    let mut starts = Vec::with_capacity(per.len());
    let mut at = 0usize;
    for &m in &per {
        starts.push(at);
        at += m;
    }
    let flat_options: Vec<usize> = (0..counties.len()).filter(|&ci| per.get(ci).is_some_and(|&m| m >= 4)).collect();
    let flat_county = (!flat_options.is_empty())
        .then(|| flat_options.get(rng.random_range(0..flat_options.len())).copied())
        .flatten();
    if let Some(ci) = flat_county {
        let s0 = starts.get(ci).copied().unwrap_or(0);
        for (j, cat) in [DEEP, RELATIVE, DEEP].into_iter().enumerate() {
            if let Some(h) = hh.get_mut(s0 + j) {
                h.category = cat;
                h.filed = h.filed.min(date(year - 1, 12, 28));
                h.closed = None;
            }
        }
    }
    // the others: distinct households outside the flat county, in a random order
    let mut pool: Vec<usize> = (0..hh.len())
        .filter(|&i| hh.get(i).is_some_and(|h| Some(h.county) != flat_county && full_year(h)))
        .collect();
    for i in (1..pool.len()).rev() {
        pool.swap(i, rng.random_range(0..=i));
    }
    let mut take = |want: &dyn Fn(&Household) -> bool, hh: &[Household]| -> Option<usize> {
        let pos = pool.iter().position(|&i| hh.get(i).is_some_and(want))?;
        Some(pool.remove(pos))
    };
    let aided = |h: &Household| h.category != ACCIDENT;
    let before_filing = take(&aided, &hh);
    let after_closing = take(&aided, &hh);
    let living_cap = take(&|h: &Household| h.category == DEEP, &hh);
    let duplicate = take(&|h: &Household| h.category == RELATIVE, &hh);
    let warmth_visit = take(&|_: &Household| true, &hh);
    let warmth_year = take(&|_: &Household| true, &hh);
    let scope = take(&|_: &Household| true, &hh);
    let unfiled_county = take(&|_: &Household| true, &hh).and_then(|i| hh.get(i)).map(|h| h.county);
    if let Some(h) = before_filing.and_then(|i| hh.get_mut(i)) {
        h.filed = date(year, 5, 15);
    }
    if let Some(h) = after_closing.and_then(|i| hh.get_mut(i)) {
        h.closed = Some(date(year, 6, 30));
    }
    // --- clean payments
    let quarters = [date(year, 3, 15), date(year, 6, 15), date(year, 9, 15), date(year, 12, 15)];
    let festival = date(year, 2, 10);
    let mut pay: Vec<Payment> = Vec::with_capacity(hh.len() * 5 + 16);
    for (i, h) in hh.iter().enumerate() {
        let p = |d: Date, kind: &'static str, amount: u32| Payment {
            date: d,
            household: Some(i),
            county: h.county,
            kind,
            amount,
            planted: None,
        };
        if rng.random_bool(0.8) && h.open_on(festival) {
            pay.push(p(festival, "warmth", rng.random_range(5..=20u32) * 100));
        }
        if h.category != ACCIDENT {
            for &d in &quarters {
                let pct = rng.random_range(80..=100u32);
                if h.open_on(d) {
                    pay.push(p(d, "living", living(h.dibao, h.category, pct)));
                }
            }
        }
        let sept = date(year, 9, 5);
        if rng.random_bool(0.3) && h.open_on(sept) {
            pay.push(p(sept, "education", rng.random_range(10..=30u32) * 100));
        }
        if h.category == ACCIDENT || rng.random_bool(0.2) {
            let d = date(year, rng.random_range(2..=11), rng.random_range(1..=28));
            let amount = rng.random_range(5..=50u32) * 100;
            if h.open_on(d) {
                pay.push(p(d, "medical", amount));
            }
        }
    }
    // --- planted payments
    let plant = |pay: &mut Vec<Payment>, i: usize, d: Date, kind: &'static str, amount: u32, check: &'static str| {
        if let Some(h) = hh.get(i) {
            pay.push(Payment {
                date: d,
                household: Some(i),
                county: h.county,
                kind,
                amount,
                planted: Some(check),
            });
        }
    };
    let dibao_of = |i: usize| hh.get(i).map(|h| h.dibao).unwrap_or(300);
    let cat_of = |i: usize| hh.get(i).map(|h| h.category).unwrap_or(RELATIVE);
    if let Some(i) = before_filing {
        plant(
            &mut pay,
            i,
            date(year, 3, 15),
            "living",
            living(dibao_of(i), cat_of(i), 90),
            "before_filing",
        );
    }
    if let Some(i) = after_closing {
        plant(
            &mut pay,
            i,
            date(year, 9, 15),
            "living",
            living(dibao_of(i), cat_of(i), 90),
            "after_closing",
        );
    }
    if let Some(i) = living_cap {
        // four quarters of at least 1.6 months less rounding, plus 5 months: over 10 months
        plant(&mut pay, i, date(year, 11, 20), "living", dibao_of(i) * 5, "living_cap");
    }
    if let Some(i) = duplicate {
        let first = pay
            .iter()
            .find(|p| p.household == Some(i) && p.kind == "living" && p.date == date(year, 6, 15))
            .map(|p| p.amount);
        if let Some(amount) = first {
            plant(&mut pay, i, date(year, 6, 28), "living", amount, "duplicate");
        }
    }
    if let Some(i) = warmth_visit {
        plant(&mut pay, i, date(year, 7, 1), "warmth", 3500, "warmth_visit");
    }
    if let Some(i) = warmth_year {
        // 3,000 + 3,000 + 2,000 in three months: no visit over 3,000, the year over 6,000
        match pay.iter_mut().find(|p| p.household == Some(i) && p.kind == "warmth") {
            Some(p) => {
                p.amount = 3000;
                p.planted = Some("warmth_year");
            }
            None => plant(&mut pay, i, festival, "warmth", 3000, "warmth_year"),
        }
        plant(&mut pay, i, date(year, 9, 28), "warmth", 3000, "warmth_year");
        plant(&mut pay, i, date(year, 12, 20), "warmth", 2000, "warmth_year");
    }
    if let Some(i) = scope {
        plant(&mut pay, i, date(year, 5, 20), "bonus", 2000, "scope");
    }
    if let Some(ci) = unfiled_county {
        for d in [date(year, 3, 15), date(year, 6, 15)] {
            pay.push(Payment {
                date: d,
                household: None,
                county: ci,
                kind: "living",
                amount: 900,
                planted: Some("unfiled"),
            });
        }
    }
    let mut flat_rows = 0usize;
    if let Some(ci) = flat_county {
        for p in pay.iter_mut().filter(|p| p.county == ci && p.kind == "living") {
            p.amount = 400;
            flat_rows += 1;
        }
    }
    // --- write, in date order (stable: generation order within a day)
    pay.sort_by_key(|p| p.date);
    let cid = |ci: usize| counties.get(ci).map(|c| c.id.as_str()).unwrap_or("");
    let hid = |out: &mut String, p: &Payment| match p.household.and_then(|i| hh.get(i)) {
        Some(h) => {
            let _ = write!(out, "{}{:05}", cid(h.county), h.k);
        }
        None => {
            let next = per.get(p.county).copied().unwrap_or(0) + 1;
            let _ = write!(out, "{}{:05}", cid(p.county), next);
        }
    };
    let mut households = String::with_capacity(hh.len() * 56 + 64);
    households.push_str("household_id,unit_id,category,filed_on,closed_on,dibao_monthly\n");
    for h in &hh {
        let _ = write!(
            households,
            "{}{:05},{},{},",
            cid(h.county),
            h.k,
            cid(h.county),
            category(h.category)
        );
        fmt_date(&mut households, h.filed);
        households.push(',');
        if let Some(c) = h.closed {
            fmt_date(&mut households, c);
        }
        let _ = writeln!(households, ",{}", h.dibao);
    }
    let mut payments = String::with_capacity(pay.len() * 56 + 64);
    payments.push_str("payment_id,household_id,unit_id,date,kind,amount\n");
    let mut planted = Vec::new();
    let yy = year.rem_euclid(100);
    for (n, p) in pay.iter().enumerate() {
        let id = format!("P{yy:02}{:07}", n + 1);
        payments.push_str(&id);
        payments.push(',');
        let start = payments.len();
        hid(&mut payments, p);
        let household_id = payments.get(start..).unwrap_or("").to_string();
        let _ = write!(payments, ",{},", cid(p.county));
        fmt_date(&mut payments, p.date);
        let _ = writeln!(payments, ",{},{}", p.kind, p.amount);
        if let Some(check) = p.planted {
            let mut when = String::new();
            fmt_date(&mut when, p.date);
            planted.push(Planted {
                file: "payments.csv",
                line: Some(n + 2),
                check,
                unit_id: cid(p.county).to_string(),
                record_id: id,
                amount: p.amount.to_string(),
                note: format!("{household_id} {when} {}", p.kind),
            });
        }
    }
    if let Some(ci) = flat_county {
        planted.push(Planted {
            file: "payments.csv",
            line: None,
            check: "flat",
            unit_id: cid(ci).to_string(),
            record_id: String::new(),
            amount: "400".into(),
            note: format!("every living-aid payment of the county is 400 yuan ({flat_rows} payments, deep and relative households)"),
        });
    }
    LedgerOut {
        households,
        payments,
        planted,
    }
}
