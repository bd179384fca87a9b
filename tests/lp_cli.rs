//! `check-weights` and `infer-weights` through the binary: the bundled Gansu distribution's
//! true weights recovered and its misallocated counties named; a conflicting rule set reduced
//! to its minimal core; noise-free recovery on synthetic distributions with adjustment
//! coefficients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> std::process::Output {
    cargo_bin_cmd!("fundsim").args(args).current_dir(root()).output().unwrap()
}

fn csv_map(path: &Path, key: &str) -> HashMap<String, HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            let m: HashMap<String, String> = h.iter().zip(x.iter()).map(|(a, b)| (a.to_string(), b.to_string())).collect();
            (m[key].clone(), m)
        })
        .collect()
}

#[test]
fn gansu_actual_distribution_gives_back_its_true_weights_and_names_the_misallocated_counties() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["infer-weights", "--out", tmp.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let w = csv_map(&tmp.path().join("inferred_weights.csv"), "factor");
    for (factor, truth) in [
        ("poor_pop", 0.5),
        ("incidence", 0.15),
        ("income", 0.1),
        ("fiscal_pc", 0.1),
        ("exit_task", 0.15),
    ] {
        let l1: f64 = w[factor]["l1"].parse().unwrap();
        assert!((l1 - truth).abs() < 1e-4, "{factor}: {l1} vs {truth}");
        let (lo, hi): (f64, f64) = (w[factor]["min"].parse().unwrap(), w[factor]["max"].parse().unwrap());
        assert!(lo <= l1 + 1e-9 && l1 <= hi + 1e-9);
    }
    let r = csv_map(&tmp.path().join("residuals.csv"), "unit_id");
    let mut flagged: Vec<&str> = r.iter().filter(|(_, m)| m["flagged"] == "true").map(|(k, _)| k.as_str()).collect();
    flagged.sort();
    assert_eq!(flagged, ["620821", "622923", "623021"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("泾川县") && out.contains("pinned down"), "{out}");
    // --fail-on-flag turns the finding into exit code 1
    let o = run(&["infer-weights", "--out", tmp.path().to_str().unwrap(), "--fail-on-flag"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn gansu_checks_report_the_broken_rule_and_the_admissible_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["check-weights", "--out", tmp.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c = csv_map(&tmp.path().join("weight_check.csv"), "check");
    assert_eq!(c["deep_poverty_parity"]["satisfied"], "false");
    assert!(c["deep_poverty_parity"]["slack"].parse::<f64>().unwrap() < 0.0);
    assert_eq!(c["deep_poverty_growth"]["satisfied"], "true");
    let r = csv_map(&tmp.path().join("weight_ranges.csv"), "factor");
    let nearest: f64 = r.values().map(|m| m["nearest"].parse::<f64>().unwrap()).sum();
    assert!((nearest - 1.0).abs() < 1e-6);
    for m in r.values() {
        let (lo, hi, n): (f64, f64, f64) = (m["min"].parse().unwrap(), m["max"].parse().unwrap(), m["nearest"].parse().unwrap());
        assert!(lo <= n + 1e-6 && n <= hi + 1e-6);
    }
    let o = run(&["check-weights", "--out", tmp.path().to_str().unwrap(), "--fail-on-violation"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn conflicting_rules_are_reduced_to_a_minimal_set_in_policy_terms() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&[
        "check-weights",
        "tests/fixtures/conflict",
        "--stage",
        "2",
        "--pool",
        "base",
        "--from",
        "C1",
        "--out",
        tmp.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let tail = out.split("cannot hold together").nth(1).unwrap();
    assert!(
        tail.contains("premium") && tail.contains("w_pop_high") && !tail.contains("w_income_cap"),
        "{out}"
    );
    assert!(tail.contains("1.05 times the average"), "the policy text is printed: {out}");
}

/// A synthetic province allocated with known weights (adjustment coefficients, no floors or
/// caps): inference from the rounded amounts gives the weights back to 1e-6.
#[test]
fn noise_free_distributions_give_back_their_weights() {
    use fundsim::synth::{files, SynthOptions};
    let tmp = tempfile::tempdir().unwrap();
    let f = files(&SynthOptions {
        cities: 20,
        counties: 300,
        seed: 9,
        bounds: false,
        ..Default::default()
    });
    let dir = tmp.path().join("s");
    std::fs::create_dir(&dir).unwrap();
    // the "true" formula of stage 2's base pool differs from the stated one
    let truth = f
        .scenario_toml
        .replacen(
            "column = \"poor_pop\"\n    weight = \"0.3\"",
            "column = \"poor_pop\"\n    weight = \"0.45\"",
            1,
        )
        .replacen(
            "column = \"incidence\"\n    weight = \"0.15\"",
            "column = \"incidence\"\n    weight = \"0\"",
            1,
        );
    assert_ne!(truth, f.scenario_toml);
    for (name, text) in [
        ("scenario.toml", truth.as_str()),
        ("units.csv", f.units_csv.as_str()),
        ("factors.csv", f.factors_csv.as_str()),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let o = run(&["allocate", dir.to_str().unwrap(), "--out", tmp.path().join("a").to_str().unwrap()]);
    assert!(o.status.success());
    let mut actual = String::from("unit_id,stage,pool,amount\n");
    let mut r = csv::Reader::from_path(tmp.path().join("a/allocation.csv")).unwrap();
    for x in r.records() {
        let x = x.unwrap();
        if &x[4] == "2" && (&x[5] == "base" || &x[5] == "reward") {
            actual.push_str(&format!("{},2,{},{}\n", &x[0], &x[5], &x[6]));
        }
    }
    std::fs::write(dir.join("scenario.toml"), &f.scenario_toml).unwrap();
    std::fs::write(dir.join("actual.csv"), actual).unwrap();
    let o = run(&[
        "infer-weights",
        dir.to_str().unwrap(),
        "--out",
        tmp.path().join("b").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let w = csv_map(&tmp.path().join("b/inferred_weights.csv"), "factor");
    for (factor, truth) in [
        ("poor_pop", 0.45),
        ("incidence", 0.0),
        ("income", 0.1),
        ("fiscal_pc", 0.1),
        ("gdp_pc", 0.05),
        ("exit_task", 0.15),
        ("relocation", 0.1),
        ("perf_score", 0.05),
    ] {
        let l1: f64 = w[factor]["l1"].parse().unwrap();
        assert!((l1 - truth).abs() < 1e-6, "{factor}: inferred {l1}, true {truth}");
    }
}
