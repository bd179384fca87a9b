//! `fundsim project` end to end on fixture scenarios: golden outputs, the stock-flow identity
//! on every row, the Gansu plan totals, the file reconciliation, bad input (exit 2 with file,
//! line and field) and Monte Carlo results independent of the thread count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    out: PathBuf,
    _tmp: tempfile::TempDir,
}

fn project(scenario: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut cmd = cargo_bin_cmd!("fundsim");
    cmd.arg("project").arg(scenario).arg("--out").arg(&out).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out,
        _tmp: tmp,
    }
}

/// A CSV as a list of maps by column name.
fn read_csv(p: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(p).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| h.iter().map(String::from).zip(rec.unwrap().iter().map(String::from)).collect())
        .collect()
}

fn n(row: &HashMap<String, String>, c: &str) -> u64 {
    row[c].parse().unwrap_or_else(|_| panic!("{c} = {:?}", row[c]))
}

/// Copies a fixture into a temporary folder and replaces some of its files.
fn variant(name: &str, replace: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
        }
    }
    for (file, text) in replace {
        std::fs::write(tmp.path().join(file), text).unwrap();
    }
    tmp
}

fn check_identity(rows: &[HashMap<String, String>]) {
    let mut prev_end: HashMap<String, u64> = HashMap::new();
    for r in rows {
        let (start, entries, returns, exits, end) = (n(r, "start"), n(r, "entries"), n(r, "returns"), n(r, "exits"), n(r, "end"));
        assert_eq!(start + entries + returns, exits + end, "identity fails on {r:?}");
        assert_eq!(n(r, "shortfall"), n(r, "target") - exits, "{r:?}");
        if let Some(pe) = prev_end.insert(r["unit_id"].clone(), end) {
            assert_eq!(pe, start, "start ≠ previous end on {r:?}");
        }
    }
}

#[test]
fn small_fixture_matches_the_golden_outputs() {
    let run = project(&fixture("project-small"), &[], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for f in ["projection.csv", "files_check.csv"] {
        let got = std::fs::read_to_string(run.out.join(f)).unwrap();
        let want = std::fs::read_to_string(fixture("project-small/expected").join(f)).unwrap();
        assert_eq!(got, want, "{f} differs from tests/fixtures/project-small/expected/{f}");
    }
    assert!(!run.out.join("projection_mc.csv").exists());
    let rows = read_csv(&run.out.join("projection.csv"));
    check_identity(&rows);
    // hand-computed 2018: 112 keeps its own 200; 500 split over 1000, 250, 250, 0 →
    // 333.3, 83.3, 83.3 → 334 (tie → smaller id), 83, 83; funds cap 111 at 333, 112 at 166
    let get = |id: &str, y: &str| rows.iter().find(|r| r["unit_id"] == id && r["year"] == y).unwrap();
    assert_eq!((n(get("111", "2018"), "target"), n(get("111", "2018"), "exits")), (334, 333));
    assert_eq!((n(get("112", "2018"), "target"), n(get("112", "2018"), "shortfall")), (200, 34));
    assert_eq!(n(get("1", "2018"), "target"), 700);
    assert_eq!(n(get("1", "2019"), "target"), 600);
    // first eligible: 113 in 2018 (2%), 111 and 112 in 2019 (western 3%), 121 never
    // (wrong-exit sample 1/40 fails), 122 with nobody on file in 2018
    assert_eq!(get("113", "2020")["first_eligible_year"], "2018");
    assert_eq!(get("111", "2020")["first_eligible_year"], "2019");
    assert_eq!(get("121", "2020")["first_eligible_year"], "");
    assert_eq!(get("122", "2018")["first_eligible_year"], "2018");
    assert!(run.stdout.contains("2 inconsistencies"), "{}", run.stdout);
}

#[test]
fn reconciliation_finds_every_planted_inconsistency_and_nothing_else() {
    let run = project(&fixture("project-small"), &[], &[]);
    let f = read_csv(&run.out.join("files_check.csv"));
    let got: Vec<(String, String, String, String)> = f
        .iter()
        .map(|r| (r["unit_id"].clone(), r["year"].clone(), r["line"].clone(), r["check"].clone()))
        .collect();
    let want = [("111", "2018", "3", "identity"), ("112", "2019", "5", "continuity")];
    assert_eq!(
        got,
        want.iter()
            .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
            .collect::<Vec<_>>()
    );
    // a files-only scenario (no plan) writes just files_check.csv; a clean table, no rows
    let clean = "unit_id,year,filed_start,new,exits,removals,filed_end\n111,2017,10,1,2,0,9\n111,2018,9,0,9,0,0\n";
    let v = variant("project-small", &[("files.csv", clean)]);
    let toml = std::fs::read_to_string(v.path().join("scenario.toml")).unwrap();
    let toml = toml
        .replace("plan = \"plan.csv\"\n", "")
        .split("[projection]")
        .next()
        .unwrap()
        .to_string();
    std::fs::write(v.path().join("scenario.toml"), toml).unwrap();
    std::fs::remove_file(v.path().join("plan.csv")).unwrap();
    let run = project(v.path(), &[], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.out.join("projection.csv").exists());
    assert_eq!(std::fs::read_to_string(run.out.join("files_check.csv")).unwrap().lines().count(), 1);
}

#[test]
fn gansu_plan_totals_come_out_exactly() {
    let run = project(&fixture("gansu-plan"), &["--format", "json"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = v["projection"].as_array().unwrap();
    let prov: Vec<&serde_json::Value> = rows.iter().filter(|r| r["unit_id"] == "620000").collect();
    let col = |c: &str| {
        prov.iter()
            .map(|r| r[c].as_str().unwrap().parse::<u64>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(col("start"), vec![1_890_000, 1_180_000, 470_000]);
    assert_eq!(col("target"), vec![710_000, 710_000, 470_000]);
    assert_eq!(col("exits"), vec![710_000, 710_000, 470_000]);
    assert_eq!(col("end"), vec![1_180_000, 470_000, 0]);
    let all = read_csv(&run.out.join("projection.csv"));
    check_identity(&all);
    // every county's exits sum to its filed headcount over the three years
    let counties: Vec<_> = all.iter().filter(|r| r["kind"] == "unit").collect();
    assert_eq!(counties.len(), 86 * 3);
    assert_eq!(v["first_eligible"].as_array().unwrap().len(), 86);
}

const BAD_PLAN: &str = "unit_id,filed_start,rural_pop,target_2019,target_2018,western\n\
111,-1000,20000,,,1\n\
112,500,10000,600,,1\n\
999,250,10000,,,0\n\
121,250,5000,,,0\n";

#[test]
fn bad_plan_exits_2_naming_file_line_field_for_every_problem() {
    let v = variant("project-small", &[("plan.csv", BAD_PLAN)]);
    let run = project(v.path(), &[], &[]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    for (loc, what) in [
        ("plan.csv:2: field `filed_start`", "negative headcount"),
        ("plan.csv:3: field `target_2019`", "larger than the headcount"),
        ("plan.csv:4: field `unit_id`", "`999` is not in the units file"),
        ("plan.csv:1: field `target_2018`", "out of order"),
    ] {
        assert!(
            run.stderr.lines().any(|l| l.contains(loc) && l.contains(what)),
            "missing `{loc}` … `{what}` in:\n{}",
            run.stderr
        );
    }
    assert!(!run.out.exists(), "nothing is written on bad input");
    // years out of order in scenario.toml
    let toml = std::fs::read_to_string(fixture("project-small/scenario.toml")).unwrap();
    let line = toml.lines().position(|l| l.starts_with("years")).unwrap() + 1;
    let v = variant(
        "project-small",
        &[(
            "scenario.toml",
            &toml.replace("years = [2018, 2019, 2020]", "years = [2018, 2020, 2019]"),
        )],
    );
    let run = project(v.path(), &[], &[]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(&format!("scenario.toml:{line}: field `projection.years`")) && run.stderr.contains("out of order"),
        "{}",
        run.stderr
    );
    // a bad file table
    let files = "unit_id,year,filed_start,new,exits,removals,filed_end\n111,2017,10,-1,2,0,9\n";
    let v = variant("project-small", &[("files.csv", files)]);
    let run = project(v.path(), &[], &[]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("files.csv:2: field `new`") && run.stderr.contains("negative"),
        "{}",
        run.stderr
    );
    // an unknown key in [projection]
    let v = variant("project-small", &[("scenario.toml", &toml.replace("return_rate", "retrun_rate"))]);
    let run = project(v.path(), &[], &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("retrun_rate"), "{}", run.stderr);
}

#[test]
fn monte_carlo_is_identical_across_thread_counts() {
    let toml = std::fs::read_to_string(fixture("project-small/scenario.toml")).unwrap();
    let toml = toml
        .replace("new_entry_rate = \"0\"", "new_entry_rate = \"0.03\"")
        .replace("return_rate = \"0\"", "return_rate = \"0.1\"\nexit_readiness = \"0.5\"");
    let v = variant("project-small", &[("scenario.toml", &toml)]);
    let one = project(v.path(), &["--runs", "400", "--seed", "11"], &[("RAYON_NUM_THREADS", "1")]);
    let two = project(v.path(), &["--runs", "400", "--seed", "11"], &[("RAYON_NUM_THREADS", "2")]);
    assert_eq!(one.code, Some(0), "{}", one.stderr);
    let a = std::fs::read(one.out.join("projection_mc.csv")).unwrap();
    let b = std::fs::read(two.out.join("projection_mc.csv")).unwrap();
    assert_eq!(a, b);
    let mc = read_csv(&one.out.join("projection_mc.csv"));
    // 8 rows (5 units + 3 totals) × 3 years; bands ordered; probabilities in [0, 1]
    assert_eq!(mc.len(), 24);
    for r in &mc {
        assert!(n(r, "end_p5") <= n(r, "end_p50") && n(r, "end_p50") <= n(r, "end_p95"), "{r:?}");
        let p: f64 = r["p_target_met"].parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
        assert_eq!(r["runs"], "400");
    }
    // readiness 0.5 against targets of about a third of the headcount: some runs fall short
    let prov_final = mc.iter().find(|r| r["unit_id"] == "1" && r["final_year"] == "1").unwrap();
    let p: f64 = prov_final["p_target_met"].parse().unwrap();
    assert!(p < 1.0, "{prov_final:?}");
    // the seed matters
    let other = project(v.path(), &["--runs", "400", "--seed", "12"], &[]);
    assert_ne!(a, std::fs::read(other.out.join("projection_mc.csv")).unwrap());
}
