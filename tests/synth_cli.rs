//! `fundsim synth` writes a complete scenario folder: every command runs on it, the audit
//! finds every problem `planted.csv` lists (and nothing else), infer-weights flags the
//! misallocated counties, and the same seed gives the same folder byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn fundsim(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_fundsim")).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = fundsim(args);
    assert_eq!(code, 0, "{args:?}\nstdout:\n{out}\nstderr:\n{err}");
    out
}

fn synth(dir: &Path, counties: &str, cities: &str, seed: &str, extra: &[&str]) {
    let d = dir.to_str().unwrap();
    let mut args = vec!["synth", "--counties", counties, "--cities", cities, "--seed", seed, "--out", d];
    args.extend_from_slice(extra);
    ok(&args);
}

/// Rows of a CSV file as maps from header to cell.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect()
}

const FOLDER: [&str; 9] = [
    "scenario.toml",
    "units.csv",
    "factors.csv",
    "plan.csv",
    "survey.csv",
    "actual.csv",
    "households.csv",
    "payments.csv",
    "planted.csv",
];

#[test]
fn every_command_runs_on_a_synthetic_folder_and_the_audit_finds_what_was_planted() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("scen");
    synth(&scen, "40", "6", "5", &[]);
    let got: BTreeSet<String> = files_of(&scen).into_keys().collect();
    let want: BTreeSet<String> = FOLDER.iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want);
    let s = scen.to_str().unwrap();
    let out = |name: &str| tmp.path().join("out").join(name);
    let o = |name: &str| out(name).to_string_lossy().into_owned();

    let v = ok(&["validate", s]);
    assert!(
        v.contains("valid") && v.contains("actual, households, payments, plan, survey"),
        "{v}"
    );
    ok(&["allocate", s, "--out", &o("allocate")]);
    assert!(out("allocate").join("allocation.csv").exists());
    ok(&["project", s, "--out", &o("project")]);
    for f in ["projection.csv", "projection_mc.csv"] {
        assert!(out("project").join(f).exists(), "{f}");
    }
    ok(&["score", s, "--out", &o("score"), "--draws", "200"]);
    for f in ["indicators.csv", "exit_check.csv", "scores.csv", "sampling_error.csv"] {
        assert!(out("score").join(f).exists(), "{f}");
    }
    // survey: three indicators for every poverty county, each scored
    let indicators = rows(&out("score").join("indicators.csv"));
    let surveyed: BTreeSet<&str> = indicators.iter().map(|r| r["unit_id"].as_str()).collect();
    assert!(surveyed.len() >= 6, "{surveyed:?}");
    assert_eq!(indicators.len(), 3 * surveyed.len());
    let scores = rows(&out("score").join("scores.csv"));
    assert!(scores.iter().any(|r| r.get("grade").is_some_and(|g| !g.is_empty())));
    let cw = ok(&["check-weights", s, "--out", &o("check")]);
    assert!(cw.contains("contiguous_parity") && cw.contains("need_monotone"), "{cw}");
    for f in ["weight_check.csv", "weight_ranges.csv"] {
        assert!(out("check").join(f).exists(), "{f}");
    }
    ok(&["infer-weights", s, "--out", &o("infer")]);
    ok(&["sensitivity", s, "--draws", "100", "--out", &o("sens")]);
    for f in ["sensitivity.csv", "sensitivity_indices.csv"] {
        assert!(out("sens").join(f).exists(), "{f}");
    }
    let a = ok(&["audit", s, "--out", &o("audit")]);
    for f in ["audit.csv", "reconcile.csv", "payments_check.csv", "findings.md", "manifest.json"] {
        assert!(out("audit").join(f).exists(), "{f}");
    }
    let ver = ok(&["verify", &o("audit")]);
    assert!(ver.contains("byte-identical"), "{ver}");
    for cmd in ["report", "run"] {
        let r = ok(&[cmd, s, "--out", &o(cmd)]);
        assert!(
            r.contains("projection") && r.contains("formula-vs-actual") && r.contains("check-weights"),
            "{r}"
        );
        for f in [
            "index.html",
            "workbook.xlsx",
            "allocation.csv",
            "projection.csv",
            "residuals.csv",
            "weight_check.csv",
        ] {
            assert!(out(cmd).join(f).exists(), "{cmd}: {f}");
        }
    }

    // --- the audit finds every planted problem, and nothing else
    let planted = rows(&scen.join("planted.csv"));
    let checks: BTreeSet<&str> = planted.iter().map(|p| p["check"].as_str()).collect();
    for c in [
        "allocation",
        "reconcile",
        "unfiled",
        "before_filing",
        "after_closing",
        "living_cap",
        "warmth_visit",
        "warmth_year",
        "duplicate",
        "flat",
        "scope",
    ] {
        assert!(checks.contains(c), "nothing planted for {c}: {checks:?}");
        assert!(a.contains(&format!("[{c}]")), "no {c} finding in:\n{a}");
    }
    // allocation: the flagged rows of audit.csv are exactly the planted units
    let audit = rows(&out("audit").join("audit.csv"));
    let flagged: BTreeSet<String> = audit.iter().filter(|r| r["flagged"] == "1").map(|r| r["unit_id"].clone()).collect();
    let want: BTreeSet<String> = planted
        .iter()
        .filter(|p| p["check"] == "allocation")
        .map(|p| p["unit_id"].clone())
        .collect();
    assert_eq!(flagged, want);
    for p in planted.iter().filter(|p| p["check"] == "allocation") {
        let r = audit.iter().find(|r| r["unit_id"] == p["unit_id"]).unwrap();
        assert_eq!(r["difference"], p["amount"], "{p:?}");
        assert_eq!(r.get("line").map(String::as_str), Some(p["line"].as_str()), "{p:?}");
    }
    let reconcile = rows(&out("audit").join("reconcile.csv"));
    let flagged: BTreeSet<String> = reconcile
        .iter()
        .filter(|r| r["flagged"] == "1")
        .map(|r| r["unit_id"].clone())
        .collect();
    let want: BTreeSet<String> = planted
        .iter()
        .filter(|p| p["check"] == "reconcile")
        .map(|p| p["unit_id"].clone())
        .collect();
    assert_eq!(flagged, want);
    // payments: every planted row is cited by a hit of its check, and every hit is planted
    let hits = rows(&out("audit").join("payments_check.csv"));
    for p in planted.iter().filter(|p| p["file"] == "payments.csv") {
        let found = hits.iter().any(|h| {
            h["check"] == p["check"]
                && h["unit_id"] == p["unit_id"]
                && (p["record_id"].is_empty() || h["payment_ids"].split(';').any(|id| id == p["record_id"]))
        });
        assert!(found, "planted {p:?} not found in {hits:#?}");
    }
    for h in &hits {
        let planted_here = planted
            .iter()
            .any(|p| p["check"] == h["check"] && (p["record_id"].is_empty() || h["payment_ids"].split(';').any(|id| id == p["record_id"])));
        assert!(planted_here, "hit on clean rows: {h:?}");
    }
    // infer-weights: the stated weights come back and every misallocated county is flagged
    let residuals = rows(&out("infer").join("residuals.csv"));
    let flagged: BTreeSet<&str> = residuals
        .iter()
        .filter(|r| r["flagged"] == "true")
        .map(|r| r["unit_id"].as_str())
        .collect();
    let counties: BTreeSet<&str> = residuals.iter().map(|r| r["unit_id"].as_str()).collect();
    for p in planted
        .iter()
        .filter(|p| p["check"] == "allocation" && counties.contains(p["unit_id"].as_str()))
    {
        assert!(flagged.contains(p["unit_id"].as_str()), "{} not flagged: {flagged:?}", p["unit_id"]);
    }
    assert!(flagged.len() <= 8, "{flagged:?}");
    for r in rows(&out("infer").join("inferred_weights.csv")) {
        let (stated, l1): (f64, f64) = (r["stated"].parse().unwrap(), r["l1"].parse().unwrap());
        assert!((stated - l1).abs() < 0.01, "{r:?}");
    }
}

#[test]
fn the_same_seed_gives_the_same_folder_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("c"));
    synth(&a, "40", "6", "11", &[]);
    synth(&b, "40", "6", "11", &[]);
    synth(&c, "40", "6", "12", &[]);
    let (fa, fb, fc) = (files_of(&a), files_of(&b), files_of(&c));
    assert_eq!(fa.len(), FOLDER.len());
    assert!(fa == fb, "two runs with seed 11 differ");
    for name in FOLDER {
        if name != "scenario.toml" {
            assert_ne!(fa[name], fc[name], "{name} does not depend on the seed");
        }
    }
}

#[test]
fn no_ledger_when_asked_for_none_and_the_audit_still_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("s");
    synth(&scen, "12", "3", "2", &["--ledger-households", "0"]);
    let names: BTreeSet<String> = files_of(&scen).into_keys().collect();
    assert!(!names.contains("payments.csv") && !names.contains("households.csv"), "{names:?}");
    let s = scen.to_str().unwrap();
    let out = tmp.path().join("audit");
    let a = ok(&["audit", s, "--out", out.to_str().unwrap()]);
    assert!(a.contains("[allocation]"), "{a}");
    assert!(!out.join("payments_check.csv").exists());
    // a bigger register: about 4.5 payments per household
    let big = tmp.path().join("big");
    synth(&big, "12", "3", "2", &["--ledger-households", "600"]);
    assert_eq!(rows(&big.join("households.csv")).len(), 600);
    let n = rows(&big.join("payments.csv")).len();
    assert!((2000..3500).contains(&n), "{n} payments");
}
