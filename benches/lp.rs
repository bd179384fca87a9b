//! LP checks at national scale: "infer-weights L1, 2,850 counties × 8 factors" (target
//! ≤ 100 ms with the pure-Rust clarabel backend), the L∞ fit, all 8 identifiability ranges,
//! and check-weights with policy rules — on the seeded synthetic national scenario, whose
//! actual distribution is its own allocation with three planted misallocations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use fundsim::alloc::allocate;
use fundsim::lpcheck::bind::{run_infer, select};
use fundsim::lpcheck::{fit_l1, fit_linf, weight_ranges, Backend, InferInput};
use fundsim::synth::{scenario, SynthOptions};
use fundsim::table::Table;
use rust_decimal::prelude::ToPrimitive;
use std::hint::black_box;

fn national_input() -> (fundsim::scenario::Scenario, InferInput) {
    let mut s = scenario(&SynthOptions {
        cities: 330,
        counties: 2850,
        seed: 1,
        bounds: false,
        ..Default::default()
    })
    .unwrap();
    let a = allocate(&s).unwrap();
    let mut csv = String::from("unit_id,stage,pool,amount\n");
    for sp in a.splits.iter().filter(|x| x.stage == 2) {
        let pool = &s.stages[1].pools[sp.pool].id;
        for (j, &u) in sp.recipients.iter().enumerate() {
            let mut y = sp.amounts[j];
            if u % 997 == 0 {
                y *= rust_decimal::Decimal::new(12, 1);
            }
            csv.push_str(&format!("{},2,{},{}\n", s.hierarchy.unit(u).unwrap().id, pool, y));
        }
    }
    s.tables
        .insert("actual".into(), Table::from_csv_bytes("actual.csv", csv.as_bytes()).unwrap());
    // the same LP input infer-weights builds, for timing the fits alone
    let sel = select(&s, &a, Some(2), Some("base")).unwrap();
    let mut ids = Vec::new();
    let mut shares = Vec::new();
    let mut actual = Vec::new();
    for sp in &sel.splits {
        let w = sp.working(&s).unwrap();
        let tot: f64 = sp
            .amounts
            .iter()
            .zip(&sp.adjust)
            .map(|(y, c)| y.to_f64().unwrap() / c.to_f64().unwrap())
            .sum();
        for (j, &u) in sp.recipients.iter().enumerate() {
            ids.push(s.hierarchy.unit(u).unwrap().id.clone());
            shares.push(w.shares[j].iter().map(|x| x.to_f64().unwrap()).collect::<Vec<_>>());
            actual.push(sp.amounts[j].to_f64().unwrap() / sp.adjust[j].to_f64().unwrap() / tot);
        }
    }
    let names = sel.pool.factors.iter().map(|f| f.column.clone()).collect();
    let input = InferInput::new(ids, names, shares, actual).unwrap();
    (s, input)
}

fn bench(c: &mut Criterion) {
    let (s, input) = national_input();
    let a = allocate(&s).unwrap();
    let mut g = c.benchmark_group("lp");
    g.sample_size(10);
    g.bench_function("infer-weights L1 fit, 2,850 counties × 8 factors (clarabel)", |b| {
        b.iter(|| black_box(fit_l1(&input, Backend::Clarabel).unwrap()))
    });
    g.bench_function("infer-weights L∞ fit, 2,850 × 8 (clarabel)", |b| {
        b.iter(|| black_box(fit_linf(&input, Backend::Clarabel).unwrap()))
    });
    let best = fit_l1(&input, Backend::Clarabel).unwrap();
    g.bench_function("all 8 identifiability ranges, 2,850 × 8 (16 LPs)", |b| {
        b.iter(|| black_box(weight_ranges(&input, best.error, 0.01, 1e-9, Backend::Clarabel).unwrap()))
    });
    g.bench_function("infer-weights end to end (shares, L1, L∞, ranges, residuals)", |b| {
        b.iter(|| {
            let sel = select(&s, &a, Some(2), Some("base")).unwrap();
            black_box(run_infer(&s, &a, &sel, 0.01, None, true).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
