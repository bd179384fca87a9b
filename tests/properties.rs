//! Invariants of the allocation on random synthetic scenarios: totals exact, floors and caps
//! hold, amounts independent of the row order of the CSV files, and scaling every value of a
//! `share` factor leaves the amounts unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use fundsim::alloc::{allocate, RowKind};
use fundsim::output::allocation_table;
use fundsim::scenario::Bound;
use fundsim::synth::{files, scenario_from_files, SynthFiles, SynthOptions};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn options() -> impl Strategy<Value = SynthOptions> {
    (
        1usize..6,
        0usize..30,
        any::<u64>(),
        prop::sample::select(vec!["1", "100", "0.01"]),
        prop::sample::select(vec!["0", "0.02", "0.05"]),
        any::<bool>(),
    )
        .prop_map(|(cities, extra, seed, rounding, reserve, bounds)| SynthOptions {
            cities,
            counties: cities * 2 + extra,
            seed,
            total: Decimal::new(987_654_321, 0),
            rounding: rounding.parse().unwrap(),
            reserve: reserve.parse().unwrap(),
            bounds,
        })
}

fn csv_of(f: &SynthFiles) -> Vec<u8> {
    let s = scenario_from_files(f).unwrap();
    let a = allocate(&s).unwrap();
    allocation_table(&s, &a).to_csv(false)
}

/// Reverses the data rows of a CSV text (header kept first).
fn reversed(csv: &str) -> String {
    let mut lines: Vec<&str> = csv.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    format!("{header}\n{}\n", lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn totals_are_exact_and_bounds_hold(o in options()) {
        let s = scenario_from_files(&files(&o)).unwrap();
        let a = allocate(&s).unwrap();
        // each pool split sums exactly to the pool, amounts are multiples of rounding
        for sp in &a.splits {
            let w = sp.working(&s).unwrap();
            prop_assert_eq!(&w.amounts, &sp.amounts, "the Decimal working gives the same amounts");
            prop_assert_eq!(&w.floored, &sp.floored);
            prop_assert_eq!(&w.capped, &sp.capped);
            let sum: Decimal = sp.amounts.iter().sum();
            prop_assert_eq!(sum, sp.amount);
            for (i, y) in sp.amounts.iter().enumerate() {
                prop_assert_eq!((*y / s.rounding).fract(), Decimal::ZERO);
                prop_assert!(*y >= w.floors[i] - s.rounding, "floor");
                if let Some(c) = w.caps[i] { prop_assert!(*y <= c + s.rounding, "cap"); }
            }
        }
        // each stage hands out exactly what it received
        let mut received = s.stages[0].total.unwrap();
        for (si, _) in s.stages.iter().enumerate() {
            let out: Decimal = a.rows.iter().filter(|r| r.stage == si + 1 && matches!(r.kind, RowKind::Total | RowKind::Reserve | RowKind::Retained)).map(|r| r.amount).sum();
            prop_assert_eq!(out, received);
            received = a.rows.iter().filter(|r| r.stage == si + 1 && r.kind == RowKind::Total).map(|r| r.amount).sum();
        }
        // per-factor contributions add up to the amount
        for r in a.rows.iter().filter(|r| matches!(r.kind, RowKind::Pool(_))) {
            prop_assert_eq!(a.contrib(r).iter().sum::<Decimal>(), r.amount);
        }
        // the floors of the bounded pools exist as configured
        if o.bounds { prop_assert!(matches!(s.stages[1].pools[0].floor, Some(Bound::Amount(_)))); }
    }

    #[test]
    fn row_order_of_the_csv_files_does_not_matter(o in options()) {
        let f = files(&o);
        let shuffled = SynthFiles { units_csv: reversed(&f.units_csv), factors_csv: reversed(&f.factors_csv), ..f.clone() };
        let a = csv_of(&f);
        let b = csv_of(&shuffled);
        prop_assert!(a == b, "allocation.csv differs after reordering rows");
    }

    #[test]
    fn scaling_a_share_factor_leaves_amounts_unchanged(o in options(), k in prop::sample::select(vec![2u32, 10, 1000, 7])) {
        let f = files(&o);
        // poor_pop is the second column of factors.csv and a `share` factor in both stages
        let scaled: String = f.factors_csv.lines().enumerate().map(|(i, l)| {
            if i == 0 { return format!("{l}\n"); }
            let mut cells: Vec<String> = l.split(',').map(String::from).collect();
            let v: u64 = cells[2].parse().unwrap();
            cells[2] = (v * u64::from(k)).to_string();
            format!("{}\n", cells.join(","))
        }).collect();
        let g = SynthFiles { factors_csv: scaled, ..f.clone() };
        let amounts = |f: &SynthFiles| {
            let s = scenario_from_files(f).unwrap();
            allocate(&s).unwrap().rows.iter().map(|r| (r.unit, r.stage, r.kind, r.amount)).collect::<Vec<_>>()
        };
        prop_assert_eq!(amounts(&f), amounts(&g));
    }
}
