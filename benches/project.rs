//! Benchmarks of the projection on the national-scale synthetic scenario (330 cities, 2,850
//! counties, 100 billion yuan — the order of the central special fund): the plan is each
//! county's `poor_pop` on file out of its `rural_pop`, with province targets of 30/30/20/12/8%
//! of the 2018 headcount over 2018–2022, new entries 1%, returns 5% of the previous year's
//! exits, a funding cap of 3,000 yuan per exit (binding in part of the counties) and, for the
//! Monte Carlo, an exit readiness of 0.95, so every kind of draw is exercised.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use fundsim::project::{monte_carlo, prepare, project, Projection};
use fundsim::scenario::from_sources;
use fundsim::synth::{files, SynthOptions};
use std::hint::black_box;
use std::path::PathBuf;

/// The synthetic scenario with a plan of every county.
pub fn national_plan() -> Projection {
    let f = files(&SynthOptions {
        cities: 330,
        counties: 2850,
        seed: 1,
        total: rust_decimal::Decimal::new(100_000_000_000, 0),
        ..Default::default()
    });
    let mut lines = f.factors_csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c_id, c_rural, c_poor) = (col("unit_id"), col("rural_pop"), col("poor_pop"));
    let counties: std::collections::HashSet<&str> = f
        .units_csv
        .lines()
        .filter(|l| l.ends_with(",county"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let mut plan = String::from("unit_id,filed_start,rural_pop\n");
    let mut total: u64 = 0;
    for l in lines {
        let c: Vec<&str> = l.split(',').collect();
        if counties.contains(c[c_id]) {
            let poor: u64 = c[c_poor].parse().unwrap();
            total += poor;
            plan.push_str(&format!("{},{poor},{}\n", c[c_id], c[c_rural]));
        }
    }
    let targets: Vec<String> = [30u64, 30, 20, 12, 8].iter().map(|p| (total * p / 100).to_string()).collect();
    let toml = f.scenario_toml.replace("[data]\n", "[data]\nplan = \"plan.csv\"\n")
        + &format!(
            "\n[projection]\nyears = [2018, 2019, 2020, 2021, 2022]\ntargets = [{}]\nnew_entry_rate = \"0.01\"\nreturn_rate = \"0.05\"\ncost_per_exit = \"3000\"\nexit_readiness = \"0.95\"\n",
            targets.join(", ")
        );
    let mut src = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), fundsim::error::InputErrors>> {
        let b = match rel {
            "units.csv" => f.units_csv.clone(),
            "factors.csv" => f.factors_csv.clone(),
            "plan.csv" => plan.clone(),
            _ => return None,
        };
        Some(Ok((b.into_bytes(), PathBuf::from(rel))))
    };
    let s = from_sources("scenario.toml", toml.as_bytes(), &mut src).unwrap();
    prepare(&s).unwrap()
}

fn benches(c: &mut Criterion) {
    let p = national_plan();
    assert_eq!(p.units.len(), 2850);
    c.bench_function("project: deterministic, 2,850 counties × 5 years", |b| {
        b.iter(|| project(black_box(&p)).unwrap())
    });
    let mut g = c.benchmark_group("project-mc");
    g.sample_size(10);
    g.bench_function("project: Monte Carlo, 2,850 counties × 5 years × 1,000 runs", |b| {
        b.iter(|| monte_carlo(black_box(&p), 1000, 2018).unwrap())
    });
    g.finish();
}

criterion_group!(project_benches, benches);
criterion_main!(project_benches);
