//! The complete synthetic scenario folder: the core files of [`super::files`] plus everything
//! the other commands read — a projection plan, survey samples, a published ("actual")
//! distribution with planted misallocations, a household register and payment ledger with
//! planted irregularities ([`super::ledger`]), and the `scenario.toml` sections that drive
//! them. `planted.csv` lists every planted problem, so a test (or a trainer) can check that the
//! audit finds each one.
//!
//! Every file is drawn from its own seeded random stream (the seed mixed with a constant per
//! file), so the core files stay byte-identical to [`super::files`] and one file's draws never
//! shift another's.

use super::ledger::{self, LedgerOut};
use super::{generate, County, Generated, SynthFiles, SynthOptions};
use crate::alloc::{allocate, Allocation, RowKind};
use crate::error::InputErrors;
use crate::scenario::{from_sources, Scenario};
use rand::{RngExt, SeedableRng};
use rand_distr::{Binomial, Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rust_decimal::prelude::*;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Budget year of the synthetic scenario (`[scenario] year`): the ledger's payments are dated
/// in it and the projection starts with it.
pub const YEAR: i64 = 2018;

/// Households in the register per county when [`FolderOptions::ledger_households`] is `None`.
pub const DEFAULT_HOUSEHOLDS_PER_COUNTY: usize = 10;

/// Most households in the register per county (ids have five digits per county).
pub const MAX_HOUSEHOLDS_PER_COUNTY: usize = 99_998;

/// Options of the files beyond the core ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderOptions {
    /// Households in the register (`households.csv`), spread over the counties in proportion
    /// to their filed poor (largest remainder); the ledger has about 4.5 payments per household.
    /// `None`: [`DEFAULT_HOUSEHOLDS_PER_COUNTY`] per county. `Some(0)`: no register or ledger.
    pub ledger_households: Option<usize>,
}

/// Every file of a synthetic scenario folder, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFolder {
    /// `scenario.toml`: the formula plus `[projection]`, `[indicators]`, `[scoring]`,
    /// `[[check]]`, `[audit]`, `[sensitivity]` and `[report]`.
    pub scenario_toml: String,
    /// `units.csv` (as [`super::files`]).
    pub units_csv: String,
    /// `factors.csv`: the core columns, then `western`, `contiguous`, `exit_done`,
    /// `disburse_rate`, `misuse_found` (for the checks and the scoring table).
    pub factors_csv: String,
    /// `plan.csv`: `unit_id,filed_start,rural_pop,exited_pop,western,exit_threshold,target_<year>`.
    pub plan_csv: String,
    /// `survey.csv`: `unit_id,indicator,sampled,flagged`, three indicators per poverty county.
    pub survey_csv: String,
    /// `actual.csv`: `unit_id,name,amount`, the formula's totals of both stages with planted
    /// misallocations.
    pub actual_csv: String,
    /// `households.csv` (empty when no ledger was asked for).
    pub households_csv: String,
    /// `payments.csv` (empty when no ledger was asked for).
    pub payments_csv: String,
    /// `planted.csv`: `file,line,check,unit_id,record_id,amount,note`, one row per planted problem.
    pub planted_csv: String,
}

impl SynthFolder {
    /// The files to write, `(name, text)`, `scenario.toml` first; the register and ledger only
    /// when they were generated.
    pub fn files(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("scenario.toml", self.scenario_toml.as_str()),
            ("units.csv", self.units_csv.as_str()),
            ("factors.csv", self.factors_csv.as_str()),
            ("plan.csv", self.plan_csv.as_str()),
            ("survey.csv", self.survey_csv.as_str()),
            ("actual.csv", self.actual_csv.as_str()),
        ];
        if !self.payments_csv.is_empty() {
            v.push(("households.csv", self.households_csv.as_str()));
            v.push(("payments.csv", self.payments_csv.as_str()));
        }
        v.push(("planted.csv", self.planted_csv.as_str()));
        v
    }

    /// Loads the folder in memory, through the same checks as files on disk.
    pub fn scenario(&self) -> Result<Scenario, InputErrors> {
        let files = self.files();
        let mut src = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
            files
                .iter()
                .find(|(n, _)| *n == rel)
                .map(|(n, t)| Ok((t.as_bytes().to_vec(), PathBuf::from(n))))
        };
        from_sources("scenario.toml", self.scenario_toml.as_bytes(), &mut src)
    }
}

/// One planted problem, for `planted.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Planted {
    /// File the problem is in.
    pub file: &'static str,
    /// Line in that file (header = 1), when the problem is one row.
    pub line: Option<usize>,
    /// The audit check that should find it ([`crate::audit::Check::key`]).
    pub check: &'static str,
    /// Unit.
    pub unit_id: String,
    /// Payment or household id.
    pub record_id: String,
    /// Amount involved.
    pub amount: String,
    /// What was done.
    pub note: String,
}

/// A random stream for one file: the seed mixed with a per-file constant.
pub(super) fn stream(seed: u64, salt: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// A standard normal draw.
pub(super) fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    Distribution::<f64>::sample(&StandardNormal, rng)
}

/// `rural_pop` exactly as `factors.csv` prints it.
pub(super) fn rural(c: &County) -> u64 {
    format!("{:.0}", c.rural_pop).parse().unwrap_or(0)
}

/// Per-county extras drawn for the folder.
struct Extra {
    western: bool,
    contiguous: bool,
    exit_done: u64,
    disburse: f64,
    misuse: u64,
    exited_pop: u64,
}

/// Generates a complete scenario folder (see the module documentation). Deterministic: the
/// same options give the same files, byte for byte.
pub fn folder(o: &SynthOptions, fo: &FolderOptions) -> Result<SynthFolder, InputErrors> {
    let data_extra = "plan = \"plan.csv\"\nsurvey = \"survey.csv\"\nactual = \"actual.csv\"\n";
    let ledger_households = fo
        .ledger_households
        .unwrap_or(o.counties.max(o.cities.max(1)) * DEFAULT_HOUSEHOLDS_PER_COUNTY);
    let with_ledger = ledger_households > 0;
    let data_extra = if with_ledger {
        format!("{data_extra}households = \"households.csv\"\npayments = \"payments.csv\"\n")
    } else {
        data_extra.to_string()
    };
    let g = generate(o, &data_extra);
    let extra = extras(&g, o.seed);
    let factors_csv = extended_factors(&g, &extra);
    // the allocation the published distribution and the projection's funds start from
    let s = super::scenario_from_files(&SynthFiles {
        scenario_toml: super::files(o).scenario_toml,
        units_csv: g.files.units_csv.clone(),
        factors_csv: factors_csv.clone(),
    })?;
    let alloc = allocate(&s)?;
    let mut planted = Vec::new();
    let actual_csv = actual(&g, &s, &alloc, o, &mut planted);
    let (plan_csv, projection) = plan(&g, &extra, &s, &alloc, o.seed);
    let survey_csv = survey(&g, &extra, o.seed);
    let (households_csv, payments_csv) = if with_ledger {
        let LedgerOut {
            households,
            payments,
            planted: p,
        } = ledger::ledger(&g.counties, ledger_households, YEAR, o.seed);
        planted.extend(p);
        (households, payments)
    } else {
        (String::new(), String::new())
    };
    let mut scenario_toml = g.files.scenario_toml.clone();
    scenario_toml.push_str(&projection);
    scenario_toml.push_str(&sections(o));
    Ok(SynthFolder {
        scenario_toml,
        units_csv: g.files.units_csv,
        factors_csv,
        plan_csv,
        survey_csv,
        actual_csv,
        households_csv,
        payments_csv,
        planted_csv: planted_table(&planted),
    })
}

/// Per-county draws: the western flag (by city, more likely where the city is poorer), the
/// contiguous-poverty-area flag (片区县: the needy counties, at least one per city and, in a
/// city of two or more, never all — so the group checks compare two real groups), reported exits
/// (a few counties short of their task), disbursement rate, misused funds found (most 0), and
/// the people exited in earlier years.
fn extras(g: &Generated, seed: u64) -> Vec<Extra> {
    let mut rng = stream(seed, 1);
    let mut out = Vec::with_capacity(g.counties.len());
    for city in &g.cities {
        let cs = g.counties.get(city.counties.clone()).unwrap_or(&[]);
        let rp: f64 = cs.iter().map(|c| c.rural_pop).sum();
        let pp: f64 = cs.iter().map(|c| c.poor_pop as f64).sum();
        let city_z = if rp > 0.0 && pp > 0.0 { (pp / rp / 0.06).ln() / 0.9 } else { 0.0 };
        let western = city_z + 0.7 * normal(&mut rng) > 0.3;
        let by_need = |a: &(usize, &County), b: &(usize, &County)| a.1.z.total_cmp(&b.1.z).then(b.0.cmp(&a.0));
        let neediest = cs.iter().enumerate().max_by(by_need).map(|(j, _)| j);
        let least_needy = cs.iter().enumerate().min_by(by_need).map(|(j, _)| j).filter(|_| cs.len() > 1);
        for (j, c) in cs.iter().enumerate() {
            let short = rng.random_bool(0.06);
            let exit_done = if short {
                ((c.exit_task as f64) * rng.random_range(0.85..0.999)).floor() as u64
            } else {
                c.exit_task + ((c.exit_task as f64) * rng.random_range(0.0..0.08)).round() as u64
            };
            let disburse = (1.0 - 0.12 * (0.5 * normal(&mut rng)).exp()).clamp(0.45, 1.0);
            let misuse = if rng.random_bool(0.05) {
                ((100_000.0 * normal(&mut rng).exp() / 100.0).round() * 100.0).clamp(1_000.0, 5_000_000.0) as u64
            } else {
                0
            };
            let room = rural(c).saturating_sub(c.poor_pop);
            let exited_pop = ((c.poor_pop as f64 * rng.random_range(0.4..1.5)).round() as u64).min(room);
            out.push(Extra {
                western,
                contiguous: (c.z > 0.9 || Some(j) == neediest) && Some(j) != least_needy,
                exit_done,
                disburse,
                misuse,
                exited_pop,
            });
        }
    }
    out
}

/// `factors.csv` with the extra columns appended (empty on city rows, except `western`).
fn extended_factors(g: &Generated, extra: &[Extra]) -> String {
    let mut out = String::with_capacity(g.files.factors_csv.len() + 32 * (g.counties.len() + 1));
    let mut lines = g.files.factors_csv.lines();
    if let Some(h) = lines.next() {
        out.push_str(h);
        out.push_str(",western,contiguous,exit_done,disburse_rate,misuse_found\n");
    }
    for city in &g.cities {
        let western = city.counties.clone().next().and_then(|i| extra.get(i)).is_some_and(|e| e.western);
        if let Some(l) = lines.next() {
            let _ = writeln!(out, "{l},{},,,,", u8::from(western));
        }
        for i in city.counties.clone() {
            if let (Some(l), Some(e)) = (lines.next(), extra.get(i)) {
                let _ = writeln!(
                    out,
                    "{l},{},{},{},{:.4},{}",
                    u8::from(e.western),
                    u8::from(e.contiguous),
                    e.exit_done,
                    e.disburse,
                    e.misuse
                );
            }
        }
    }
    out
}

/// `plan.csv` and the `[projection]` section: every county with its filed poor, rural
/// population, people exited in earlier years, western flag and the exit threshold it implies
/// (0.03 western, 0.02 other); about one county in twenty has its own first-year target (its
/// exit task), the others share the province target. Province targets: 38%, 33% and 20% of the
/// filed poor over three years; `cost_per_exit` is set so that the funds cap the exits of the
/// counties that receive least per target exit.
fn plan(g: &Generated, extra: &[Extra], s: &Scenario, alloc: &Allocation, seed: u64) -> (String, String) {
    let mut rng = stream(seed, 2);
    let mut out = format!("unit_id,filed_start,rural_pop,exited_pop,western,exit_threshold,target_{YEAR}\n");
    let mut own = 0u64;
    let mut filed = 0u64;
    let n = g.counties.len();
    // about one in twenty counties has its own target: at least one, never all
    let mut own_target: Vec<bool> = (0..n).map(|_| rng.random_bool(0.05)).collect();
    if n > 1 {
        let forced = rng.random_range(0..n);
        if let Some(x) = own_target.get_mut(forced) {
            *x = true;
        }
        if own_target.iter().all(|x| *x) {
            if let Some(x) = own_target.get_mut(usize::from(forced == 0)) {
                *x = false;
            }
        }
    } else {
        own_target.iter_mut().for_each(|x| *x = false);
    }
    for ((c, e), own_t) in g.counties.iter().zip(extra).zip(&own_target) {
        filed += c.poor_pop;
        let target = if *own_t {
            own += c.exit_task;
            c.exit_task.to_string()
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{target}",
            c.id,
            c.poor_pop,
            rural(c),
            e.exited_pop,
            u8::from(e.western),
            if e.western { "0.03" } else { "0.02" }
        );
    }
    let pct = |p: u64| (filed * p + 50) / 100;
    let t1 = pct(38).max(own + 1);
    let (t2, t3) = (pct(33), pct(20));
    // funds: what the allocation gives the counties (the last stage)
    let funds: Decimal = g
        .counties
        .iter()
        .filter_map(|c| s.hierarchy.find(&c.id))
        .filter_map(|u| alloc.final_amounts().get(u).copied().flatten())
        .sum();
    let cost = if t1 > 0 {
        (funds * Decimal::new(8, 1) / Decimal::from(t1)).floor().max(Decimal::ONE)
    } else {
        Decimal::ONE
    };
    let section = format!(
        r#"
# ----------------------------------------------------------------------------- projection
# plan.csv: every county's filed poor at the start of {YEAR}, rural population, people exited in
# earlier years, western flag and its exit threshold (0.03 western, 0.02 other); a few counties
# have their own {YEAR} target (target_{YEAR}), the rest share the province targets in proportion
# to their remaining headcount. cost_per_exit: 80% of the funds per target exit, so the
# counties that get least per exit cannot meet their target.
[projection]
years = [{YEAR}, {y2}, {y3}]
targets = [{t1}, {t2}, {t3}]
new_entry_rate = "0.01"
return_rate = "0.03"
exit_threshold = "0.03"
western_exit_threshold = "0.03"
other_exit_threshold = "0.02"
cost_per_exit = "{cost}"
exit_readiness = "0.95"
runs = 100
seed = {seed}
"#,
        y2 = YEAR + 1,
        y3 = YEAR + 2,
        seed = seed % (i64::MAX as u64),
    );
    (out, section)
}

/// `survey.csv`: for every poverty county (the ones evaluated for exit), the three indicators
/// of SPEC §5 with realistic sample sizes and true rates — missed assessment around 0.8%
/// (higher where poverty is deeper), wrong exit around 0.6%, satisfaction around 95% — drawn
/// binomially, so some counties fail by chance and some truly.
fn survey(g: &Generated, extra: &[Extra], seed: u64) -> String {
    let mut rng = stream(seed, 3);
    let mut out = String::from("unit_id,indicator,sampled,flagged\n");
    let binom = |rng: &mut Xoshiro256PlusPlus, n: u64, p: f64| Binomial::new(n, p).map(|b| b.sample(rng)).unwrap_or(0);
    for (c, e) in g.counties.iter().zip(extra) {
        if !c.poverty {
            continue;
        }
        let n_m = rng.random_range(300..=600u64);
        let p_m = (0.008 * (0.35 * c.z + 0.5 * normal(&mut rng)).exp()).clamp(0.0005, 0.08);
        let k_m = binom(&mut rng, n_m, p_m);
        let n_w = rng.random_range(150..=400u64).min(e.exited_pop).max(1);
        let p_w = (0.006 * (0.6 * normal(&mut rng)).exp()).clamp(0.0005, 0.06);
        let k_w = binom(&mut rng, n_w, p_w);
        let n_s = rng.random_range(300..=500u64);
        let p_s = (1.0 - 0.045 * (0.5 * normal(&mut rng) + 0.2 * c.z).exp()).clamp(0.7, 0.995);
        let k_s = binom(&mut rng, n_s, p_s);
        let id = &c.id;
        let _ = writeln!(out, "{id},missed_assessment,{n_m},{k_m}");
        let _ = writeln!(out, "{id},wrong_exit,{n_w},{k_w}");
        let _ = writeln!(out, "{id},satisfaction,{n_s},{k_s}");
    }
    out
}

/// `amount × pct`, rounded to a multiple of `rounding`, at least one rounding unit.
fn part(amount: Decimal, pct: Decimal, rounding: Decimal) -> Decimal {
    let r = if rounding > Decimal::ZERO { rounding } else { Decimal::ONE };
    ((amount * pct / r).round() * r).max(r)
}

/// `actual.csv`: the formula's totals of both stages (`unit_id,name,amount`), as if published,
/// with three planted misallocations in three different cities:
/// - swap: 12% of the smaller of two counties' amounts moved from one to the other (the city
///   still reconciles);
/// - retained: a city pays one county 6% less and keeps the difference (neither passed on nor
///   reserved);
/// - over-distributed: the province pays a city more than the formula (8% of one of its
///   counties' amount, at least 2% of the city's), and the city passes it on to that county.
///
/// Only counties the formula does not put at a floor or cap are chosen, so the weight
/// inference sees them too.
fn actual(g: &Generated, s: &Scenario, alloc: &Allocation, o: &SynthOptions, planted: &mut Vec<Planted>) -> String {
    let mut rng = stream(o.seed, 4);
    let h = &s.hierarchy;
    // county → at a floor or cap in some pool of stage 2
    let mut pinned: HashMap<usize, bool> = HashMap::new();
    for sp in alloc.splits.iter().filter(|x| x.stage == 2) {
        for (j, &u) in sp.recipients.iter().enumerate() {
            let p = sp.floored.get(j).copied().unwrap_or(false) || sp.capped.get(j).copied().unwrap_or(false);
            *pinned.entry(u).or_insert(false) |= p;
        }
    }
    let total_of = |stage: usize, u: usize| {
        alloc
            .received
            .get(stage - 1)
            .and_then(|v| v.get(u).copied().flatten())
            .unwrap_or(Decimal::ZERO)
    };
    let candidates = |city: &super::City| -> Vec<(usize, Decimal)> {
        g.counties
            .get(city.counties.clone())
            .unwrap_or(&[])
            .iter()
            .filter_map(|c| h.find(&c.id))
            .filter(|u| !pinned.get(u).copied().unwrap_or(true))
            .map(|u| (u, total_of(2, u)))
            .filter(|(_, a)| *a > Decimal::ZERO)
            .collect()
    };
    let mut order: Vec<usize> = (0..g.cities.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let mut delta: HashMap<usize, Decimal> = HashMap::new();
    let mut notes: Vec<(usize, &'static str, Decimal, String)> = Vec::new();
    let mut used = Vec::new();
    let name = |u: usize| h.unit(u).map(|x| x.name.clone()).unwrap_or_default();
    let id_of = |u: usize| h.unit(u).map(|x| x.id.clone()).unwrap_or_default();
    // swap
    if let Some((ci, cs)) = order
        .iter()
        .filter_map(|&ci| g.cities.get(ci).map(|c| (ci, candidates(c))))
        .find(|(_, cs)| cs.len() >= 2)
    {
        let a = rng.random_range(0..cs.len());
        let mut b = rng.random_range(0..cs.len() - 1);
        if b >= a {
            b += 1;
        }
        if let (Some(&(ua, xa)), Some(&(ub, xb))) = (cs.get(a), cs.get(b)) {
            let x = part(xa.min(xb), Decimal::new(12, 2), o.rounding);
            *delta.entry(ua).or_default() += x;
            *delta.entry(ub).or_default() -= x;
            notes.push((ua, "allocation", x, format!("swap: +{x} taken from {} {}", id_of(ub), name(ub))));
            notes.push((ub, "allocation", -x, format!("swap: −{x} given to {} {}", id_of(ua), name(ua))));
            used.push(ci);
        }
    }
    // retained
    let next = |used: &[usize]| {
        order
            .iter()
            .filter(|ci| !used.contains(ci))
            .filter_map(|&ci| g.cities.get(ci).map(|c| (ci, candidates(c))))
            .find(|(_, cs)| !cs.is_empty())
    };
    if let Some((ci, cs)) = next(&used) {
        let k = rng.random_range(0..cs.len());
        if let (Some(&(u, x)), Some(city)) = (cs.get(k), g.cities.get(ci)) {
            let z = part(x, Decimal::new(6, 2), o.rounding);
            *delta.entry(u).or_default() -= z;
            notes.push((u, "allocation", -z, format!("retained: {} paid {z} less and kept it", city.id)));
            if let Some(cu) = h.find(&city.id) {
                notes.push((cu, "reconcile", z, format!("retained {z}: neither passed on nor reserved")));
            }
            used.push(ci);
        }
    }
    // over-distributed
    if let Some((ci, cs)) = next(&used) {
        let k = rng.random_range(0..cs.len());
        if let (Some(&(u, x)), Some(city)) = (cs.get(k), g.cities.get(ci)) {
            // at least 2% of the city's amount, so the city's own row is beyond tolerance too
            let city_amount = h.find(&city.id).map(|cu| total_of(1, cu)).unwrap_or_default();
            let y = part(x, Decimal::new(8, 2), o.rounding).max(part(city_amount, Decimal::new(2, 2), o.rounding));
            *delta.entry(u).or_default() += y;
            if let Some(cu) = h.find(&city.id) {
                *delta.entry(cu).or_default() += y;
                notes.push((
                    cu,
                    "allocation",
                    y,
                    format!("over-distributed: the province paid {y} more than the formula"),
                ));
            }
            notes.push((u, "allocation", y, format!("over-distributed: {} passed its extra {y} on", city.id)));
            notes.push((
                h.root(),
                "reconcile",
                -y,
                format!("over-distributed: {y} more passed on than received"),
            ));
        }
    }
    let mut out = String::from("unit_id,name,amount\n");
    let mut line_of: HashMap<usize, usize> = HashMap::new();
    let mut line = 1usize;
    for r in alloc.rows.iter().filter(|r| r.kind == RowKind::Total) {
        let amount = r.amount + delta.get(&r.unit).copied().unwrap_or_default();
        let Some(unit) = h.unit(r.unit) else { continue };
        line += 1;
        line_of.insert(r.unit, line);
        let _ = writeln!(out, "{},{},{}", unit.id, unit.name, amount.normalize());
    }
    for (u, check, amount, note) in notes {
        planted.push(Planted {
            file: "actual.csv",
            line: if check == "allocation" { line_of.get(&u).copied() } else { None },
            check,
            unit_id: id_of(u),
            record_id: String::new(),
            amount: amount.normalize().to_string(),
            note,
        });
    }
    out
}

/// `planted.csv`.
fn planted_table(p: &[Planted]) -> String {
    let mut out = String::from("file,line,check,unit_id,record_id,amount,note\n");
    for x in p {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            x.file,
            x.line.map(|l| l.to_string()).unwrap_or_default(),
            x.check,
            x.unit_id,
            x.record_id,
            x.amount,
            csv_text(&x.note)
        );
    }
    out
}

/// A CSV cell: quoted when it holds a comma or a quote.
fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The `scenario.toml` sections after `[projection]`: indicators, scoring, checks, audit,
/// report.
fn sections(o: &SynthOptions) -> String {
    format!(
        r#"
# ---------------------------------------------------------------------------- indicators
# The national pass conditions (SPEC §5), strict. The comprehensive-incidence threshold is the
# default for other units; plan.csv gives each county its own (0.03 western, 0.02 other).
[indicators]
ci = "wilson"
confidence = "0.95"

[indicators.missed_assessment]
threshold = "0.02"
comparison = "strict"

[indicators.wrong_exit]
threshold = "0.02"
comparison = "strict"

[indicators.satisfaction]
threshold = "0.90"
comparison = "strict"

[indicators.incidence]
threshold = "0.02"
comparison = "strict"

# ------------------------------------------------------------------------------- scoring
# A county performance table (DOMAIN §4 shape): every county with survey samples is scored.
[scoring]
decimals = 2

[[scoring.grade]]
name = "excellent"
min = "90"
[[scoring.grade]]
name = "good"
min = "80"
[[scoring.grade]]
name = "pass"
min = "60"
[[scoring.grade]]
name = "fail"

[[scoring.item]]
id = "reduction"
name = "减贫任务完成"
value = "factor.exit_done/exit_task"
max_points = "20"
rule = {{ kind = "all_or_nothing", pass_if = "at_least", target = "1" }}

[[scoring.item]]
id = "missed"
name = "漏评率"
value = "indicator.missed_assessment.rate"
max_points = "15"
rule = {{ kind = "all_or_nothing", pass_if = "below", target = "0.02" }}

[[scoring.item]]
id = "wrong_exit"
name = "错退率"
value = "indicator.wrong_exit.rate"
max_points = "15"
rule = {{ kind = "all_or_nothing", pass_if = "below", target = "0.02" }}

[[scoring.item]]
id = "satisfaction"
name = "群众认可度"
value = "indicator.satisfaction.rate"
max_points = "15"
rule = {{ kind = "linear", zero_at = "0.90", full_at = "0.98" }}

[[scoring.item]]
id = "disbursement"
name = "资金支出进度"
value = "factor.disburse_rate"
max_points = "15"
rule = {{ kind = "linear", zero_at = "0.60", full_at = "0.95" }}

[[scoring.item]]
id = "performance"
name = "绩效考评排名"
value = "factor.perf_score"
max_points = "20"
rule = {{ kind = "rank", better = "higher", per_place = "0.01" }}

[[scoring.item]]
id = "misuse"
name = "审计发现违规资金"
value = "factor.misuse_found"
max_points = "10"
rule = {{ kind = "deduction", per_unit = "0.00001" }}

[[scoring.cap]]
item = "wrong_exit"
max_grade = "good"
[[scoring.cap]]
item = "misuse"
max_grade = "pass"

# -------------------------------------------------------------------------------- checks
# LP checks of stage 2's base pool (check-weights runs them on the largest city's split).
[[check]]
name = "contiguous_parity"
kind = "group_per_capita"
stage = 2
pool = "base"
group = "contiguous"
population = "poor_pop"
min_ratio = "1.00"
rule = "片区县人均资金不低于平均水平（合成规则）"

[[check]]
name = "contiguous_growth"
kind = "group_growth"
stage = 2
pool = "base"
group = "contiguous"
last_year = "last_year"
ratio = "1"
margin = "0"
rule = "片区县资金增幅不低于平均增幅（合成规则）"

[[check]]
name = "w_poor_pop"
kind = "weight_bounds"
stage = 2
pool = "base"
factor = "poor_pop"
min = "0.2"
max = "0.5"
[[check]]
name = "w_incidence"
kind = "weight_bounds"
stage = 2
pool = "base"
factor = "incidence"
min = "0.1"
max = "0.3"
[[check]]
name = "w_exit_task"
kind = "weight_bounds"
stage = 2
pool = "base"
factor = "exit_task"
min = "0.1"
max = "0.3"

[[check]]
name = "need_monotone"
kind = "need_monotone"
stage = 2
pool = "base"
population = "poor_pop"
dominance = "share_per_capita"

# --------------------------------------------------------------------------------- audit
# actual.csv is the formula's distribution with planted misallocations; payments.csv and
# households.csv carry planted irregularities. planted.csv lists every one.
[audit]
abs_tol = "{rounding}"
rel_tol = "0.01"
published = false
formula_source = "合成情景分配公式（见 scenario.toml）"
auditee = "合成省财政厅、扶贫办（合成数据）"

[audit.payments]
living_kinds = ["living"]
living_months = "12"
tier_months = {{ deep = "10", relative = "8" }}
warmth_kinds = ["warmth"]
warmth_per_visit = "3000"
warmth_per_year = "6000"
allowed_kinds = ["living", "education", "medical", "warmth", "training", "legal"]
duplicate_period = "month"
flat_kinds = ["living"]
flat_share = "0.8"
flat_min_payments = 10
flat_min_categories = 2

# -------------------------------------------------------------------------------- report
[report]
poverty_flag = "poverty_county"
deep_poverty_flag = "deep_poverty"
incidence = "incidence"
max_bars = 50
max_table_rows = 30
"#,
        rounding = o.rounding.normalize(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn opts(counties: usize, cities: usize, seed: u64) -> SynthOptions {
        SynthOptions {
            counties,
            cities,
            seed,
            ..Default::default()
        }
    }

    #[test]
    fn the_folder_loads_and_keeps_the_core_files() {
        let o = opts(30, 4, 3);
        let f = folder(&o, &FolderOptions::default()).unwrap();
        let s = f.scenario().unwrap();
        for t in ["plan", "survey", "actual", "households", "payments"] {
            assert!(s.tables.contains_key(t), "{t}");
        }
        let core = super::super::files(&o);
        assert_eq!(f.units_csv, core.units_csv);
        // the core columns come first, unchanged
        for (a, b) in f.factors_csv.lines().zip(core.factors_csv.lines()) {
            assert!(a.starts_with(b) && a.len() > b.len(), "{a} / {b}");
        }
        assert!(f
            .scenario_toml
            .starts_with(&core.scenario_toml[..core.scenario_toml.find("[data]").unwrap()]));
        // the register has what was asked for, the ledger about 4.5 payments per household
        assert_eq!(f.households_csv.lines().count(), 1 + 300);
        let payments = f.payments_csv.lines().count() - 1;
        assert!((1000..1800).contains(&payments), "{payments}");
        // the same options, the same folder
        assert_eq!(f, folder(&o, &FolderOptions::default()).unwrap());
    }

    #[test]
    fn actual_is_the_formula_but_for_the_planted_units() {
        let o = opts(40, 6, 8);
        let f = folder(
            &o,
            &FolderOptions {
                ledger_households: Some(0),
            },
        )
        .unwrap();
        assert!(f.payments_csv.is_empty() && f.households_csv.is_empty());
        assert_eq!(f.files().len(), 7);
        let s = f.scenario().unwrap();
        let a = allocate(&s).unwrap();
        let planted: Vec<&str> = f
            .planted_csv
            .lines()
            .skip(1)
            .filter(|l| l.contains(",allocation,"))
            .map(|l| l.split(',').nth(3).unwrap())
            .collect();
        assert_eq!(planted.len(), 5, "{}", f.planted_csv);
        let mut differ = Vec::new();
        let mut sum = Decimal::ZERO;
        for line in f.actual_csv.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            let u = s.hierarchy.find(cells[0]).unwrap();
            let amount: Decimal = cells[2].parse().unwrap();
            let stage = if s.hierarchy.unit(u).unwrap().level == "city" { 0 } else { 1 };
            let formula = a.received[stage][u].unwrap();
            if amount != formula {
                differ.push(cells[0]);
                sum += amount - formula;
            }
        }
        differ.sort_unstable();
        let mut want = planted.clone();
        want.sort_unstable();
        assert_eq!(differ, want);
        // swap (0) + retained (−z) + over-distributed (+y twice: city and county)
        assert_ne!(sum, Decimal::ZERO);
    }

    #[test]
    fn the_survey_covers_every_poverty_county_and_the_plan_every_county() {
        let o = opts(60, 5, 4);
        let f = folder(
            &o,
            &FolderOptions {
                ledger_households: Some(0),
            },
        )
        .unwrap();
        let s = f.scenario().unwrap();
        let counties = s.hierarchy.units().iter().filter(|u| u.level == "county").count();
        assert_eq!(f.plan_csv.lines().count(), 1 + counties);
        let poverty = s.factors.numeric_column("poverty_county", &mut Vec::new()).unwrap();
        let n_poverty = s
            .hierarchy
            .units()
            .iter()
            .enumerate()
            .filter(|(i, u)| u.level == "county" && poverty[*i] == Some(Decimal::ONE))
            .count();
        assert_eq!(f.survey_csv.lines().count(), 1 + 3 * n_poverty);
        // rates are plausible: satisfaction mostly above 80%, missed assessment mostly below 5%
        let mut sat = Vec::new();
        let mut missed = Vec::new();
        for l in f.survey_csv.lines().skip(1) {
            let c: Vec<&str> = l.split(',').collect();
            let r = c[3].parse::<f64>().unwrap() / c[2].parse::<f64>().unwrap();
            match c[1] {
                "satisfaction" => sat.push(r),
                "missed_assessment" => missed.push(r),
                _ => {}
            }
        }
        assert!(sat.iter().filter(|r| **r > 0.8).count() * 10 >= sat.len() * 9, "{sat:?}");
        assert!(missed.iter().filter(|r| **r < 0.05).count() * 10 >= missed.len() * 9, "{missed:?}");
        // the projection's targets: one row per year, one own target at least
        assert!(f.scenario_toml.contains("years = [2018, 2019, 2020]"));
        assert!(f.plan_csv.lines().skip(1).any(|l| !l.ends_with(',')));
        crate::project::prepare(&s).unwrap();
    }
}
