//! `fundsim score` and `fundsim plan-sample` through the binary: the bundled Gansu survey,
//! textbook interval values, thresholds under strict and inclusive rules, bad survey and TOML
//! inputs, and the determinism of the bootstrap.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::excessive_precision
)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = cargo_bin_cmd!("fundsim");
    cmd.args(args).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn run(args: &[&str]) -> std::process::Output {
    run_env(args, &[])
}

/// Rows of a CSV as maps from header to cell.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let headers: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines
        .map(|l| headers.iter().cloned().zip(l.split(',').map(str::to_string)).collect())
        .collect()
}

fn find<'a>(rows: &'a [HashMap<String, String>], unit: &str, key: &str, val: &str) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["unit_id"] == unit && r[key] == val)
        .unwrap_or_else(|| panic!("no row {unit} {key}={val}"))
}

/// Copies the small fixture into a temp folder, optionally replacing survey.csv and appending
/// TOML.
fn fixture(survey: Option<&str>, extra_toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("tests/fixtures/score-small");
    for f in ["units.csv", "factors.csv", "survey.csv", "scenario.toml"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    if let Some(s) = survey {
        std::fs::write(dir.path().join("survey.csv"), s).unwrap();
    }
    if !extra_toml.is_empty() {
        let mut t = std::fs::read_to_string(dir.path().join("scenario.toml")).unwrap();
        t.push_str(extra_toml);
        std::fs::write(dir.path().join("scenario.toml"), t).unwrap();
    }
    dir
}

fn score_to(scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["score", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn gansu_planted_counties() {
    let out = tempfile::tempdir().unwrap();
    let o = score_to(&root().join("scenarios/gansu-2018"), out.path(), &["--draws", "200"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ind = read_csv(&out.path().join("indicators.csv"));
    assert_eq!(ind.len(), 225);
    // near the threshold: fail on the official reading, inconclusive on the interval
    for (unit, indicator) in [
        ("620421", "wrong_exit"),
        ("621124", "missed_assessment"),
        ("620825", "satisfaction"),
        ("623021", "satisfaction"),
        ("620523", "missed_assessment"),
    ] {
        let r = find(&ind, unit, "indicator", indicator);
        assert_eq!(r["point_verdict"], "fail", "{unit} {indicator}");
        assert_eq!(r["verdict"], "inconclusive", "{unit} {indicator}");
    }
    // passes on the point reading, inconclusive on the interval
    for (unit, indicator) in [
        ("621022", "wrong_exit"),
        ("622922", "missed_assessment"),
        ("621202", "satisfaction"),
    ] {
        let r = find(&ind, unit, "indicator", indicator);
        assert_eq!(r["point_verdict"], "pass", "{unit} {indicator}");
        assert_eq!(r["verdict"], "inconclusive", "{unit} {indicator}");
    }
    // the clearly failing county
    for indicator in ["wrong_exit", "satisfaction"] {
        let r = find(&ind, "620523", "indicator", indicator);
        assert_eq!(r["point_verdict"], "fail");
        assert_eq!(r["verdict"], "fail", "620523 {indicator}");
    }
    // exactly at the threshold: 8 of 400 = 0.02
    assert_eq!(find(&ind, "621124", "indicator", "missed_assessment")["rate"], "0.02");

    let exits = read_csv(&out.path().join("exit_check.csv"));
    assert_eq!(exits.len(), 75);
    let e = exits.iter().find(|r| r["unit_id"] == "620523").unwrap();
    assert_eq!(e["may_exit"], "false");
    assert!(
        e["vetoes"].contains("wrong_exit") && e["vetoes"].contains("satisfaction"),
        "{}",
        e["vetoes"]
    );
    assert_eq!(e["threshold"], "0.03");

    let sc = read_csv(&out.path().join("scores.csv"));
    assert_eq!(
        sc.iter().filter(|r| r["item"] == "total").count(),
        75,
        "only the poverty counties are scored"
    );
    assert_eq!(find(&sc, "620524", "item", "reduction")["points"], "0", "one person short");
    assert_eq!(find(&sc, "621225", "item", "reduction")["points"], "0");
    assert_eq!(
        find(&sc, "621027", "item", "schooling")["points"],
        "4",
        "0.65 pp short, whole steps"
    );
    assert_eq!(find(&sc, "623023", "item", "housing")["points"], "0");
    assert_eq!(find(&sc, "622924", "item", "misuse")["points"], "-10");
    assert_eq!(find(&sc, "621123", "item", "misuse")["points"], "-3.85");
    let capped = find(&sc, "622924", "item", "total");
    assert_eq!(capped["caps_applied"], "misuse");
    assert!(["pass", "fail"].contains(&capped["grade"].as_str()));
    assert_eq!(find(&sc, "620523", "item", "wrong_exit")["points"], "0");
    assert_ne!(find(&sc, "620523", "item", "total")["grade"], "excellent");
    assert_eq!(find(&sc, "620523", "item", "total")["grade"], "pass");
    for r in sc.iter().filter(|r| r["item"] == "total") {
        assert_eq!(r["max_points"], "100");
    }

    let se = read_csv(&out.path().join("sampling_error.csv"));
    assert_eq!(se.len(), 75);
    for r in &se {
        let p: f64 = r["grade_change_probability"].parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
        let (lo, rk, hi): (u32, u32, u32) = (
            r["rank_low"].parse().unwrap(),
            r["rank"].parse().unwrap(),
            r["rank_high"].parse().unwrap(),
        );
        assert!(lo <= hi && (1..=75).contains(&rk), "{r:?}");
    }
    // a rate exactly at the threshold flips often under resampling
    let f: f64 = se.iter().find(|r| r["unit_id"] == "621124").unwrap()["flip_missed_assessment"]
        .parse()
        .unwrap();
    assert!(f > 0.3, "{f}");

    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("failing officially but statistically inconclusive"), "{stdout}");

    // the other commands still accept the scenario
    assert!(run(&["validate", "scenarios/gansu-2018"]).status.success());
    let al = tempfile::tempdir().unwrap();
    assert!(run(&["allocate", "scenarios/gansu-2018", "--out", al.path().to_str().unwrap()])
        .status
        .success());
}

/// `(k, n, wilson_low, wilson_high, cp_low, cp_high)` at 95%, computed with mpmath at 40 digits
/// (they agree with the published tables, e.g. Clopper–Pearson 0/10 → [0, 0.3085]).
const REF: [(&str, f64, f64, f64, f64); 6] = [
    ("K1", 0.0, 0.27753279986288925, 0.0, 0.30849710781876082),
    (
        "K2",
        0.017876213095072904,
        0.4041500267952385,
        0.0025285785444617845,
        0.44501611702819542,
    ),
    (
        "K3",
        0.23659309051256398,
        0.76340690948743602,
        0.18708602844739853,
        0.81291397155260147,
    ),
    ("K4", 0.72246720013711075, 1.0, 0.69150289218123918, 1.0),
    (
        "K5",
        0.0055019675501623481,
        0.070011790728543909,
        0.0024313368239425423,
        0.07038393247107013,
    ),
    (
        "K6",
        0.0035392592716462323,
        0.10495443589637815,
        0.00050622798304082906,
        0.10646954571149992,
    ),
];

#[test]
fn textbook_intervals_wilson_and_clopper_pearson() {
    let fx = root().join("tests/fixtures/score-small");
    for (ci, wilson) in [("wilson", true), ("clopper-pearson", false)] {
        let out = tempfile::tempdir().unwrap();
        let o = score_to(&fx, out.path(), &["--ci", ci, "--draws", "0"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let ind = read_csv(&out.path().join("indicators.csv"));
        for (unit, wl, wh, cl, ch) in REF {
            let r = find(&ind, unit, "indicator", "missed_assessment");
            let (lo, hi) = if wilson { (wl, wh) } else { (cl, ch) };
            let got_lo: f64 = r["ci_low"].parse().unwrap();
            let got_hi: f64 = r["ci_high"].parse().unwrap();
            assert!((got_lo - lo).abs() < 1e-9, "{ci} {unit} low {got_lo} vs {lo}");
            assert!((got_hi - hi).abs() < 1e-9, "{ci} {unit} high {got_hi} vs {hi}");
            assert_eq!(r["ci_method"], ci);
        }
        assert!(!out.path().join("sampling_error.csv").exists(), "--draws 0 skips the bootstrap");
    }
}

#[test]
fn rate_at_threshold_strict_and_inclusive() {
    let out = tempfile::tempdir().unwrap();
    let o = score_to(&root().join("tests/fixtures/score-small"), out.path(), &["--draws", "0"]);
    assert!(o.status.success());
    let ind = read_csv(&out.path().join("indicators.csv"));
    for unit in ["K5", "K6"] {
        let r = find(&ind, unit, "indicator", "missed_assessment");
        assert_eq!(r["rate"], "0.02");
        assert_eq!(r["point_verdict"], "fail", "0.02 is not < 0.02");
        assert_eq!(r["comparison"], "strict");
    }
    assert_eq!(find(&ind, "K1", "indicator", "missed_assessment")["point_verdict"], "pass");

    // inclusive for everyone: the threshold itself passes
    let dir = fixture(None, "");
    let t = std::fs::read_to_string(dir.path().join("scenario.toml"))
        .unwrap()
        .replace("comparison = \"strict\"", "comparison = \"inclusive\"");
    std::fs::write(dir.path().join("scenario.toml"), t).unwrap();
    let out2 = tempfile::tempdir().unwrap();
    let o = score_to(dir.path(), out2.path(), &["--draws", "0"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ind = read_csv(&out2.path().join("indicators.csv"));
    for unit in ["K5", "K6"] {
        let r = find(&ind, unit, "indicator", "missed_assessment");
        assert_eq!(r["point_verdict"], "pass", "0.02 <= 0.02");
        assert_eq!(r["comparison"], "inclusive");
    }

    // a per-unit override: only K6 inclusive
    let dir = fixture(
        None,
        "\n[[indicators.override]]\nunits = [\"K6\"]\nindicator = \"missed_assessment\"\ncomparison = \"inclusive\"\n",
    );
    let out3 = tempfile::tempdir().unwrap();
    let o = score_to(dir.path(), out3.path(), &["--draws", "0"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ind = read_csv(&out3.path().join("indicators.csv"));
    assert_eq!(find(&ind, "K5", "indicator", "missed_assessment")["point_verdict"], "fail");
    assert_eq!(find(&ind, "K6", "indicator", "missed_assessment")["point_verdict"], "pass");
}

#[test]
fn bad_survey_rows_exit_2_with_file_line_field_and_nothing_written() {
    let survey = "unit_id,indicator,sampled,flagged\n\
                  K1,missed_assessment,10,11\n\
                  K2,missed_assessment,-3,0\n\
                  K3,missed_assessment,0,0\n\
                  K4,missed_assesment,10,1\n\
                  K9,missed_assessment,10,1\n\
                  K5,missed_assessment,10.5,1\n\
                  K6,missed_assessment,50,x\n";
    let dir = fixture(Some(survey), "");
    let out = dir.path().join("out");
    let o = score_to(dir.path(), &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        "survey.csv:2: field `flagged`",
        "survey.csv:3: field `sampled`",
        "survey.csv:4: field `sampled`",
        "survey.csv:5: field `indicator`",
        "survey.csv:6: field `unit_id`",
        "survey.csv:7: field `sampled`",
        "survey.csv:8: field `flagged`",
    ] {
        assert!(err.contains(want), "missing `{want}` in:\n{err}");
    }
    assert!(!out.exists(), "nothing may be written on bad input");
}

#[test]
fn bad_toml_sections_name_key_and_line() {
    let dir = fixture(None, "");
    let t = std::fs::read_to_string(dir.path().join("scenario.toml"))
        .unwrap()
        .replace("threshold = \"0.02\"", "threshold = \"1.5\"");
    std::fs::write(dir.path().join("scenario.toml"), t.clone()).unwrap();
    let out = dir.path().join("out");
    let o = score_to(dir.path(), &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = t.lines().position(|l| l.contains("threshold = \"1.5\"")).unwrap() + 1;
    assert!(
        err.contains(&format!("scenario.toml:{line}: field `indicators.missed_assessment.threshold`")),
        "{err}"
    );

    // a scoring item on a column that does not exist
    let dir = fixture(None, "");
    let t = std::fs::read_to_string(dir.path().join("scenario.toml"))
        .unwrap()
        .replace("factor.exit_done/exit_task", "factor.exit_done/no_such");
    std::fs::write(dir.path().join("scenario.toml"), t.clone()).unwrap();
    let o = score_to(dir.path(), &dir.path().join("out"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = t.lines().position(|l| l.contains("no_such")).unwrap() + 1;
    assert!(
        err.contains(&format!("scenario.toml:{line}: field `scoring.item[0].value`")),
        "{err}"
    );
    assert!(err.contains("no_such"), "{err}");

    // without the unit filter K6 is scored, and its exit_done cell is empty
    let dir = fixture(None, "");
    let t = std::fs::read_to_string(dir.path().join("scenario.toml"))
        .unwrap()
        .replace("units = \"flag\"", "");
    std::fs::write(dir.path().join("scenario.toml"), t).unwrap();
    let o = score_to(dir.path(), &dir.path().join("out"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("factors.csv:7: field `exit_done`") && err.contains("K6"), "{err}");
    assert!(!dir.path().join("out").exists());

    // overlapping grade bands
    let dir = fixture(None, "\n[[scoring.grade]]\nname = \"good\"\nmin = \"50\"\n[[scoring.grade]]\nname = \"ok\"\nmin = \"60\"\n[[scoring.grade]]\nname = \"bad\"\n");
    let o = score_to(dir.path(), &dir.path().join("out"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("scoring.grade"), "{err}");
}

#[test]
fn bootstrap_is_deterministic_for_a_seed_and_thread_count() {
    let g = root().join("scenarios/gansu-2018");
    let mut outs = Vec::new();
    for threads in ["1", "2", "2"] {
        let out = tempfile::tempdir().unwrap();
        let o = run_env(
            &[
                "score",
                g.to_str().unwrap(),
                "--out",
                out.path().to_str().unwrap(),
                "--draws",
                "500",
                "--seed",
                "7",
            ],
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outs.push(std::fs::read(out.path().join("sampling_error.csv")).unwrap());
    }
    assert_eq!(outs[0], outs[1], "1 vs 2 threads");
    assert_eq!(outs[1], outs[2], "same seed twice");
    let out = tempfile::tempdir().unwrap();
    let o = score_to(&g, out.path(), &["--draws", "500", "--seed", "8"]);
    assert!(o.status.success());
    assert_ne!(
        std::fs::read(out.path().join("sampling_error.csv")).unwrap(),
        outs[0],
        "another seed, other draws"
    );
}

#[test]
fn score_json_summary() {
    let out = tempfile::tempdir().unwrap();
    let o = score_to(
        &root().join("tests/fixtures/score-small"),
        out.path(),
        &["--format", "json", "--draws", "100"],
    );
    assert!(o.status.success());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["summary"]["rows"], 6);
    assert_eq!(j["summary"]["point"]["pass"], 1);
    assert_eq!(j["summary"]["interval"]["fail"], 2);
    assert_eq!(j["summary"]["grades"]["excellent"], 1);
    assert!(j["indicators"].is_array() || j["indicators"].is_object());
}

#[test]
fn plan_sample_sizes_and_fail_chances() {
    let o = run(&[
        "plan-sample",
        "--margin",
        "0.02",
        "--confidence",
        "0.95",
        "--rate",
        "0.02",
        "--deff",
        "1.5",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // 1.5 · 1.959964² · 0.02 · 0.98 / 0.02² = 282.4 → 283
    assert_eq!(j["n"], 283);
    let at: f64 = j["at_threshold"]["exact"].as_f64().unwrap();
    let half: f64 = j["at_half"]["exact"].as_f64().unwrap();
    let sim: f64 = j["at_threshold"]["simulated"].as_f64().unwrap();
    assert!(at > 0.4 && at < 0.6, "{at}");
    assert!(half < at, "{half}");
    assert!((sim - at).abs() < 0.01, "{sim} vs {at}");
    assert_eq!(j["at_half"]["true_rate"].as_f64().unwrap(), 0.01);

    let o2 = run(&[
        "plan-sample",
        "--margin",
        "0.02",
        "--confidence",
        "0.95",
        "--rate",
        "0.02",
        "--deff",
        "1.5",
        "--format",
        "json",
    ]);
    assert_eq!(o.stdout, o2.stdout, "seeded");

    let t = run(&[
        "plan-sample",
        "--margin",
        "0.02",
        "--rate",
        "0.02",
        "--deff",
        "1.5",
        "--threshold",
        "0.02",
    ]);
    let text = String::from_utf8_lossy(&t.stdout);
    assert!(text.contains("n = 283"), "{text}");

    let bad = run(&["plan-sample", "--margin", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}
