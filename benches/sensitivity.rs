//! sensitivity 10,000 draws × 2,850 counties: the national synthetic scenario (330 cities,
//! 2,850 counties, seed 1) with its `[sensitivity]` section (noise on incidence ±10%, income
//! ±5%, poor_pop ±5%; Dirichlet weights, concentration 200): four input groups, so 10,000 base
//! draws are 60,000 model evaluations. Loading and the exact allocation are excluded. Threads:
//! rayon's default (all cores; set `RAYON_NUM_THREADS` to change). Target (issue 8): ≤ 5 s on
//! two cores. `SENS_DRAWS=N` for another size.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use fundsim::sensitivity::{self, Options};
use fundsim::synth::{scenario, SynthOptions};
use std::hint::black_box;
use std::time::Duration;

fn national(c: &mut Criterion) {
    let s = scenario(&SynthOptions {
        cities: 330,
        counties: 2850,
        seed: 1,
        ..Default::default()
    })
    .expect("synthetic scenario loads");
    let spec = sensitivity::spec(&s)
        .expect("valid [sensitivity]")
        .expect("synth writes [sensitivity]");
    let alloc = fundsim::alloc::allocate(&s).expect("allocation");
    let draws: usize = std::env::var("SENS_DRAWS").ok().and_then(|x| x.parse().ok()).unwrap_or(10_000);
    let mut g = c.benchmark_group("sensitivity");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(60));
    g.bench_function(format!("{draws} draws × 2,850 counties, 4 groups"), |b| {
        b.iter(|| sensitivity::run(black_box(&s), &spec, &alloc, Options { draws, seed: 1 }, &|_| {}).expect("run"))
    });
    g.finish();
}

criterion_group!(benches, national);
criterion_main!(benches);
