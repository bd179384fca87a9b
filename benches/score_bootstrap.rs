//! "score + bootstrap: 2,850 counties × 3 survey indicators × 10 items, 10,000 draws".
//!
//! Synthetic counties (deterministic): missed-assessment samples of 60–119 people at rates
//! around 0–3%, wrong-exit samples of 50–99, satisfaction samples of 100 households at 85–99%;
//! a 100-point table with every rule kind (all-or-nothing, three step items, linear items on
//! two indicator rates, a pass/fail item, a deduction, a fixed rank and a rank on a drawn
//! rate) and two grade caps. Run with `cargo bench --bench score_bootstrap`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use fundsim::score::*;
use rust_decimal::Decimal;

const TABLE: &str = r#"
decimals = 2
[[item]]
id = "reduction"
value = "projection.target_met_share"
max_points = "15"
rule = { kind = "all_or_nothing", pass_if = "at_least", target = "1" }
[[item]]
id = "schooling"
value = "factor.schooling_rate"
max_points = "10"
rule = { kind = "step", better = "higher", target = "1", step = "0.001", points_per_step = "1" }
[[item]]
id = "medical"
value = "factor.medical_rate"
max_points = "10"
rule = { kind = "step", better = "higher", target = "1", step = "0.001", points_per_step = "1" }
[[item]]
id = "housing"
value = "factor.housing_rate"
max_points = "10"
rule = { kind = "step", better = "higher", target = "1", step = "0.001", points_per_step = "1" }
[[item]]
id = "missed"
value = "indicator.missed_assessment.rate"
max_points = "15"
rule = { kind = "linear", full_at = "0", zero_at = "0.04" }
[[item]]
id = "wrong_exit"
value = "indicator.wrong_exit.rate"
max_points = "15"
rule = { kind = "step", better = "lower", target = "0", step = "0.001", points_per_step = "0.5" }
[[item]]
id = "satisfaction"
value = "indicator.satisfaction.pass"
max_points = "15"
rule = { kind = "all_or_nothing", pass_if = "at_least", target = "1" }
[[item]]
id = "satisfaction_rank"
value = "indicator.satisfaction.rate"
max_points = "5"
rule = { kind = "rank", better = "higher", per_place = "0.01" }
[[item]]
id = "disbursement"
value = "fund.disbursement_lag_months"
max_points = "5"
rule = { kind = "rank", better = "lower", per_place = "0.005" }
[[item]]
id = "misuse"
value = "audit.misuse_cases"
max_points = "10"
rule = { kind = "deduction", per_unit = "2" }
[[cap]]
item = "reduction"
max_grade = "good"
[[cap]]
item = "satisfaction"
max_grade = "pass"
"#;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn counties(n: usize) -> Vec<BootstrapUnit> {
    let mut rng = Lcg(2018);
    let cfg = IndicatorConfig::default();
    (0..n)
        .map(|i| {
            let id = format!("{:06}", 620_000 + i);
            let missed_n = 60 + rng.below(60);
            let wrong_n = 50 + rng.below(50);
            let rows = vec![
                RawSurveyRow {
                    unit_id: id.clone(),
                    indicator: "missed_assessment".into(),
                    sampled: missed_n as i64,
                    flagged: (missed_n * rng.below(30) / 1000) as i64,
                },
                RawSurveyRow {
                    unit_id: id.clone(),
                    indicator: "wrong_exit".into(),
                    sampled: wrong_n as i64,
                    flagged: (wrong_n * rng.below(30) / 1000) as i64,
                },
                RawSurveyRow {
                    unit_id: id.clone(),
                    indicator: "satisfaction".into(),
                    sampled: 100,
                    flagged: 85 + rng.below(15) as i64,
                },
            ];
            let samples = validate_survey(&rows).unwrap_or_default();
            let indicators = evaluate_all(&samples, &cfg).unwrap_or_default();
            let mut values = BTreeMap::new();
            let dec = |m: u64, s: u32| Decimal::new(m as i64, s);
            values.insert("projection.target_met_share".into(), dec(980 + rng.below(40), 3));
            for f in ["factor.schooling_rate", "factor.medical_rate", "factor.housing_rate"] {
                values.insert(f.into(), dec(9900 + rng.below(101), 4));
            }
            values.insert("fund.disbursement_lag_months".into(), dec(rng.below(120), 1));
            values.insert("audit.misuse_cases".into(), dec(rng.below(10) / 7, 0));
            BootstrapUnit {
                unit_id: id,
                values,
                indicators,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let parse = |text: &str| {
        let raw: RawScoring = toml::from_str(text).unwrap_or_default();
        ScoringTable::from_raw(&raw).ok()
    };
    // the same table with the satisfaction rank on a fixed value instead of a drawn rate
    let fixed_ranks = TABLE.replace(
        "value = \"indicator.satisfaction.rate\"",
        "value = \"fund.disbursement_lag_months\"",
    );
    let (Some(table), Some(table_fixed_ranks)) = (parse(TABLE), parse(&fixed_ranks)) else {
        return;
    };
    let units = counties(2_850);
    let cfg = BootstrapConfig {
        draws: 10_000,
        seed: 1,
        ..BootstrapConfig::default()
    };
    let mut group = c.benchmark_group("score");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("bootstrap 2,850 counties x 10,000 draws", |b| {
        b.iter(|| black_box(bootstrap(&table, &units, &cfg).map(|r| r.units.len())))
    });
    group.bench_function("bootstrap 2,850 counties x 10,000 draws, no rank item on a drawn rate", |b| {
        b.iter(|| black_box(bootstrap(&table_fixed_ranks, &units, &cfg).map(|r| r.units.len())))
    });
    let one = BootstrapConfig { draws: 1, ..cfg };
    group.bench_function("bootstrap 2,850 counties x 1 draw (set-up cost)", |b| {
        b.iter(|| black_box(bootstrap(&table, &units, &one).map(|r| r.units.len())))
    });
    group.bench_function("score 2,850 counties (exact, no bootstrap)", |b| {
        let mut values = BTreeMap::new();
        for u in &units {
            let mut v = u.values.clone();
            if let Ok(mut iv) = indicator_values(&u.indicators) {
                v.extend(iv.remove(&u.unit_id).unwrap_or_default());
            }
            values.insert(u.unit_id.clone(), v);
        }
        b.iter(|| black_box(table.score(&values).map(|s| s.len())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
