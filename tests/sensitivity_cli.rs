//! `fundsim sensitivity` end to end: the known answer, byte-identical results for any number of
//! threads, JSON, and the errors for a missing or broken `[sensitivity]` section.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn sensitivity(scenario: &Path, out: &Path, extra: &[&str], threads: &str) -> std::process::Output {
    let mut args = vec!["sensitivity", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    cargo_bin_cmd!("fundsim")
        .args(&args)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap()
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn known_answer_one_noisy_factor_carries_all_the_variance() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sensitivity(
        &fixture("sensitivity-analytic"),
        tmp.path(),
        &["--draws", "4000", "--seed", "3"],
        "2",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv_rows(&tmp.path().join("sensitivity_indices.csv"));
    // unit_id,stage,group,first_order,first_order_se,total,total_se
    let mut seen = 0;
    for r in &rows {
        let num = |i: usize| r[i].parse::<f64>().unwrap();
        match (r[0].as_str(), r[2].as_str()) {
            ("all", _) => {}
            (_, "noise:x") => {
                seen += 1;
                let (s1, se1, st, set) = (num(3), num(4), num(5), num(6));
                assert!((s1 - 1.0).abs() < 4.0 * se1 + 0.02, "{r:?}");
                assert!((st - 1.0).abs() < 4.0 * set + 0.02, "{r:?}");
            }
            (_, "noise:z") => {
                assert_eq!((num(3), num(5)), (0.0, 0.0), "{r:?}");
            }
            other => panic!("unexpected row {other:?}"),
        }
    }
    assert_eq!(seen, 6);
    let bands = csv_rows(&tmp.path().join("sensitivity.csv"));
    assert_eq!(bands.len(), 6);
    // the published amounts are the exact allocation's
    let alloc_out = tempfile::tempdir().unwrap();
    let o = cargo_bin_cmd!("fundsim")
        .args([
            "allocate",
            fixture("sensitivity-analytic").to_str().unwrap(),
            "--out",
            alloc_out.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let alloc = csv_rows(&alloc_out.path().join("allocation.csv"));
    for b in &bands {
        let total = alloc.iter().find(|a| a[0] == b[0] && a[5] == "total").unwrap();
        assert_eq!(b[5], total[6], "amount of {}", b[0]);
    }
}

#[test]
fn the_same_bytes_with_one_thread_or_two() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s = fixture("sensitivity");
    let o1 = sensitivity(&s, a.path(), &["--draws", "500", "--seed", "42"], "1");
    let o2 = sensitivity(&s, b.path(), &["--draws", "500", "--seed", "42"], "2");
    assert!(
        o1.status.success() && o2.status.success(),
        "{}",
        String::from_utf8_lossy(&o1.stderr)
    );
    for f in ["sensitivity.csv", "sensitivity_indices.csv"] {
        let (x, y) = (std::fs::read(a.path().join(f)).unwrap(), std::fs::read(b.path().join(f)).unwrap());
        assert!(x == y, "{f} differs between RAYON_NUM_THREADS=1 and 2");
    }
    // and another seed gives other draws
    let c = tempfile::tempdir().unwrap();
    assert!(sensitivity(&s, c.path(), &["--draws", "500", "--seed", "43"], "2").status.success());
    assert_ne!(
        std::fs::read(a.path().join("sensitivity.csv")).unwrap(),
        std::fs::read(c.path().join("sensitivity.csv")).unwrap()
    );
}

#[test]
fn json_summary_and_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sensitivity(&fixture("sensitivity"), tmp.path(), &["--draws", "50", "--format", "json"], "2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["draws"], 50);
    assert_eq!(v["evaluations"], 50 * 6);
    assert_eq!(v["groups"].as_array().unwrap().len(), 4);
    assert_eq!(v["units"].as_array().unwrap().len(), 4 + 24);
    assert!(v["indices"].as_array().unwrap().len() > 100);
    // no progress bar when stderr is not a terminal
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_scenario_without_the_section_is_told_what_to_add() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sensitivity(&root().join("scenarios/hubei-5311"), tmp.path(), &[], "1");
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("scenario.toml") && e.contains("[sensitivity]") && e.contains("noise"),
        "{e}"
    );
}

#[test]
fn a_broken_section_names_the_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    std::fs::create_dir(&dir).unwrap();
    for f in ["units.csv", "factors.csv"] {
        std::fs::copy(fixture("sensitivity-analytic").join(f), dir.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(fixture("sensitivity-analytic").join("scenario.toml"))
        .unwrap()
        .replace(
            "noise = { x = \"0.2\", z = \"0.3\" }",
            "noise = { x = \"0.2\", w = \"0.3\" }\ndistribution = \"uniform\"",
        );
    std::fs::write(dir.join("scenario.toml"), text).unwrap();
    let o = sensitivity(&dir, &tmp.path().join("out"), &[], "1");
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("sensitivity.noise.w") && e.contains("not a factor"), "{e}");
    assert!(e.contains("sensitivity.distribution") && e.contains("uniform"), "{e}");
    assert!(e.contains("scenario.toml:25: field `sensitivity.noise.w`"), "{e}");
    assert!(e.contains("scenario.toml:26: field `sensitivity.distribution`"), "{e}");
}
