//! allocate 2,850 counties × 8 factors, two stages, floors and caps.
//!
//! The national-scale synthetic scenario (330 cities, 2,850 counties, seed 1): stage 1 splits
//! the total among cities by 3 factors, stage 2 splits each city's amount among its counties by
//! 8 factors with an adjustment coefficient, a floor and a cap, plus a reward pool restricted
//! by an eligibility flag. Loading is excluded: the scenario is built once, outside the timing.
//! Target (issue 8): under 2 ms per allocation on one core, release build.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use fundsim::synth::{scenario, SynthOptions};
use std::hint::black_box;

fn national(c: &mut Criterion) {
    let s = scenario(&SynthOptions {
        cities: 330,
        counties: 2850,
        seed: 1,
        ..Default::default()
    })
    .expect("synthetic scenario loads");
    c.bench_function("allocate 2,850 counties × 8 factors, two stages, floors and caps", |b| {
        b.iter(|| fundsim::alloc::allocate(black_box(&s)).expect("allocation"))
    });
}

criterion_group!(benches, national);
criterion_main!(benches);
