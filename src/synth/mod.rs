//! Seeded synthetic scenarios at any scale: a province (or a country) of cities and counties
//! with realistic factor data — skewed headcounts, incidence correlated with income and fiscal
//! capacity, a deep-poverty tail — and a two-stage formula with floors, caps, an eligibility
//! flag, an adjustment coefficient and a reserve. Used by the property tests, the benchmarks and
//! `fundsim synth`. Same options, same files, byte for byte.
//!
//! [`files`] writes the core of a scenario (formula, hierarchy, factor data); [`folder`] a
//! complete folder on which every command runs: plan, survey samples, a published
//! distribution with planted misallocations, a household register and payment ledger with
//! planted irregularities, and `planted.csv` listing them.

mod folder;
mod ledger;

pub use folder::{folder, FolderOptions, SynthFolder, DEFAULT_HOUSEHOLDS_PER_COUNTY, MAX_HOUSEHOLDS_PER_COUNTY, YEAR};

use crate::error::InputErrors;
use crate::scenario::{from_sources, Scenario};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::path::PathBuf;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Number of cities (stage 1 recipients).
    pub cities: usize,
    /// Number of counties (stage 2 recipients), spread over the cities (at least one each).
    pub counties: usize,
    /// Seed.
    pub seed: u64,
    /// Amount the root splits, in yuan.
    pub total: Decimal,
    /// Smallest amount handed out.
    pub rounding: Decimal,
    /// Reserve share withheld at stage 1.
    pub reserve: Decimal,
    /// Floors and caps in stage 2.
    pub bounds: bool,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            cities: 14,
            counties: 86,
            seed: 2018,
            total: Decimal::new(3_000_000_000, 0),
            rounding: Decimal::ONE,
            reserve: Decimal::new(2, 2),
            bounds: true,
        }
    }
}

/// The generated files, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFiles {
    /// `scenario.toml`
    pub scenario_toml: String,
    /// `units.csv`
    pub units_csv: String,
    /// `factors.csv`
    pub factors_csv: String,
}

/// Factor columns of synthetic counties (and cities, as sums or headcount-weighted means).
pub const FACTOR_COLUMNS: [&str; 8] = [
    "poor_pop",
    "incidence",
    "income",
    "fiscal_pc",
    "gdp_pc",
    "exit_task",
    "relocation",
    "perf_score",
];

/// One generated county, kept for the folder's other files ([`folder`]).
#[derive(Debug, Clone)]
struct County {
    /// Unit id.
    id: String,
    /// Need index: the latent variable behind incidence, income and fiscal capacity.
    z: f64,
    rural_pop: f64,
    poor_pop: u64,
    income: f64,
    fiscal_pc: f64,
    gdp_pc: f64,
    exit_task: u64,
    relocation: u64,
    perf: f64,
    deep: bool,
    poverty: bool,
}

/// Generates the files of a synthetic scenario: `scenario.toml` (two stages: cities, then
/// counties), `units.csv` and `factors.csv`. [`folder`] adds the other files of a complete
/// scenario folder.
pub fn files(o: &SynthOptions) -> SynthFiles {
    generate(o, "").files
}

/// A city as generated.
#[derive(Debug, Clone)]
struct City {
    /// Unit id.
    id: String,
    /// Its counties: a range of [`Generated::counties`].
    counties: std::ops::Range<usize>,
}

/// The core files and the data behind them.
struct Generated {
    files: SynthFiles,
    cities: Vec<City>,
    counties: Vec<County>,
}

/// The core generator; `data_extra` is appended to the `[data]` section of `scenario.toml`.
fn generate(o: &SynthOptions, data_extra: &str) -> Generated {
    let cities = o.cities.max(1);
    let counties = o.counties.max(cities);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(o.seed);
    let std = StandardNormal;
    // counties per city: one each, the rest at random (skewed)
    let mut per_city = vec![1usize; cities];
    for _ in cities..counties {
        let c = rng.random_range(0..cities);
        if let Some(x) = per_city.get_mut(c) {
            *x += 1;
        }
    }
    let mut units = String::from("id,name,parent_id,level\n100000,合成省,,province\n");
    let mut factors = String::from("unit_id,rural_pop,poor_pop,incidence,income,fiscal_pc,gdp_pc,exit_task,relocation,perf_score,coef,poverty_county,deep_poverty,last_year\n");
    let mut all_cities: Vec<City> = Vec::with_capacity(cities);
    let mut all_counties: Vec<County> = Vec::with_capacity(counties);
    for (ci, &n) in per_city.iter().enumerate() {
        let city_id = format!("{:06}", 100000 + (ci + 1) * 100);
        let _ = writeln!(units, "{city_id},第{}市,100000,city", ci + 1);
        let city_z: f64 = Distribution::<f64>::sample(&std, &mut rng) * 0.6;
        let mut cs: Vec<County> = Vec::with_capacity(n);
        for j in 0..n {
            let z = city_z + Distribution::<f64>::sample(&std, &mut rng) * 0.8;
            let rural_pop = (300_000.0 * (0.7 * Distribution::<f64>::sample(&std, &mut rng)).exp()).clamp(20_000.0, 1_500_000.0);
            let incidence = (0.06 * (0.9 * z).exp()).clamp(0.002, 0.45);
            let poor_pop = (rural_pop * incidence).round().max(1.0) as u64;
            let noise = |rng: &mut Xoshiro256PlusPlus, s: f64| (s * Distribution::<f64>::sample(&std, rng)).exp();
            let income = (12_000.0 * (-0.3 * z).exp() * noise(&mut rng, 0.1)).clamp(3_000.0, 40_000.0);
            let fiscal_pc = (1_500.0 * (-0.5 * z).exp() * noise(&mut rng, 0.3)).clamp(100.0, 20_000.0);
            let gdp_pc = (40_000.0 * (-0.4 * z).exp() * noise(&mut rng, 0.2)).clamp(5_000.0, 200_000.0);
            let exit_task = (poor_pop as f64 * rng.random_range(0.2..0.4)).round() as u64;
            // at least one relocated person in the first county of each city, so that no
            // city's counties all have none (a factor summing to zero is an input error)
            let relocation = ((poor_pop as f64 * rng.random_range(0.0..0.1)).round() as u64).max(u64::from(j == 0));
            let perf = 60.0 + 40.0 * rng.random::<f64>();
            let deep = z > 1.3;
            // the first county of each city is a poverty county, so no eligible set is empty
            let poverty = j == 0 || incidence > 0.03;
            cs.push(County {
                id: format!("{:06}", 100000 + (ci + 1) * 100 + j + 1 + (j / 99) * 100_000),
                z,
                rural_pop,
                poor_pop,
                income,
                fiscal_pc,
                gdp_pc,
                exit_task,
                relocation,
                perf,
                deep,
                poverty,
            });
        }
        // city row: sums and headcount-weighted means
        let rp: f64 = cs.iter().map(|c| c.rural_pop).sum();
        let pp: u64 = cs.iter().map(|c| c.poor_pop).sum();
        let w = |g: &dyn Fn(&County) -> f64| cs.iter().map(|c| g(c) * c.rural_pop).sum::<f64>() / rp;
        let _ = writeln!(
            factors,
            "{city_id},{:.0},{pp},{:.4},{:.0},{:.0},{:.0},{},{},{:.1},1,1,0,",
            rp,
            pp as f64 / rp,
            w(&|c| c.income),
            w(&|c| c.fiscal_pc),
            w(&|c| c.gdp_pc),
            cs.iter().map(|c| c.exit_task).sum::<u64>(),
            cs.iter().map(|c| c.relocation).sum::<u64>(),
            w(&|c| c.perf),
        );
        for (j, c) in cs.iter().enumerate() {
            let id = &c.id;
            let _ = writeln!(units, "{id},第{}市第{}县,{city_id},county", ci + 1, j + 1);
            let last_year = (c.poor_pop as f64 * 900.0).round();
            let _ = writeln!(
                factors,
                "{id},{:.0},{},{:.4},{:.0},{:.0},{:.0},{},{},{:.1},{},{},{},{last_year:.0}",
                c.rural_pop,
                c.poor_pop,
                c.poor_pop as f64 / c.rural_pop,
                c.income,
                c.fiscal_pc,
                c.gdp_pc,
                c.exit_task,
                c.relocation,
                c.perf,
                if c.deep { "1.03" } else { "1" },
                u8::from(c.poverty),
                u8::from(c.deep),
            );
        }
        all_cities.push(City {
            id: city_id,
            counties: all_counties.len()..all_counties.len() + cs.len(),
        });
        all_counties.extend(cs);
    }
    let min_per_city = per_city.iter().copied().min().unwrap_or(1);
    let floor = (o.total * Decimal::new(2, 2) / Decimal::from(counties as u64)).floor();
    let bounds = if o.bounds {
        let cap = if min_per_city >= 2 { "cap_share = \"0.6\"\n" } else { "" };
        format!("floor = \"{floor}\"\n{cap}")
    } else {
        String::new()
    };
    let scenario_toml = format!(
        r#"[scenario]
name = "synth-{counties}-{cities}-{seed}"
title = "合成情景：{cities}个市、{counties}个县（种子{seed}）"
year = 2018
lang = "zh"
money_unit = "yuan"
rounding = "{rounding}"
population = "poor_pop"

[data]
units = "units.csv"
factors = "factors.csv"
{data_extra}
[[stage]]
level = "city"
total = "{total}"
reserve = "{reserve}"

  [[stage.pool]]
  id = "base"
  share = "1"
    [[stage.pool.factor]]
    column = "poor_pop"
    weight = "0.5"
    [[stage.pool.factor]]
    column = "income"
    weight = "0.3"
    transform = "inverse"
    [[stage.pool.factor]]
    column = "fiscal_pc"
    weight = "0.2"
    transform = "inverse"

[[stage]]
level = "county"

  [[stage.pool]]
  id = "base"
  share = "0.85"
  adjust = "coef"
{bounds}
    [[stage.pool.factor]]
    column = "poor_pop"
    weight = "0.3"
    [[stage.pool.factor]]
    column = "incidence"
    weight = "0.15"
    [[stage.pool.factor]]
    column = "income"
    weight = "0.1"
    transform = "inverse"
    [[stage.pool.factor]]
    column = "fiscal_pc"
    weight = "0.1"
    transform = "inverse"
    [[stage.pool.factor]]
    column = "gdp_pc"
    weight = "0.05"
    transform = "inverse"
    [[stage.pool.factor]]
    column = "exit_task"
    weight = "0.15"
    [[stage.pool.factor]]
    column = "relocation"
    weight = "0.1"
    [[stage.pool.factor]]
    column = "perf_score"
    weight = "0.05"

  [[stage.pool]]
  id = "reward"
  share = "0.15"
  eligible = "poverty_county"
    [[stage.pool.factor]]
    column = "perf_score"
    weight = "1"

[sensitivity]
noise = {{ incidence = "0.10", income = "0.05", poor_pop = "0.05" }}
concentration = "200"
"#,
        seed = o.seed,
        rounding = o.rounding.normalize(),
        total = o.total.normalize(),
        reserve = o.reserve.normalize(),
    );
    Generated {
        files: SynthFiles {
            scenario_toml,
            units_csv: units,
            factors_csv: factors,
        },
        cities: all_cities,
        counties: all_counties,
    }
}

/// Generates a synthetic scenario and loads it (in memory, through the same checks as files).
pub fn scenario(o: &SynthOptions) -> Result<Scenario, InputErrors> {
    let f = files(o);
    scenario_from_files(&f)
}

/// Loads generated files (in memory).
pub fn scenario_from_files(f: &SynthFiles) -> Result<Scenario, InputErrors> {
    let mut src = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
        match rel {
            "units.csv" => Some(Ok((f.units_csv.as_bytes().to_vec(), PathBuf::from(rel)))),
            "factors.csv" => Some(Ok((f.factors_csv.as_bytes().to_vec(), PathBuf::from(rel)))),
            _ => None,
        }
    };
    from_sources("scenario.toml", f.scenario_toml.as_bytes(), &mut src)
}
