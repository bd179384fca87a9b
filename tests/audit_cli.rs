//! `fundsim audit` and `fundsim verify` end to end, on tests/fixtures/audit-small (every check
//! fires once; see its scenario.toml) and on the bundled scenarios/union-2019.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit-small")
}

/// A copy of the fixture in a temporary folder (to change inputs safely).
fn copy_fixture(tmp: &Path) -> PathBuf {
    let dst = tmp.join("audit-small");
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(fixture()).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    dst
}

fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", path.display()));
    if want != got {
        for (i, (a, b)) in want.lines().zip(got.lines()).enumerate() {
            if a != b {
                panic!("{name} differs at line {}:\n want: {a}\n  got: {b}", i + 1);
            }
        }
        panic!(
            "{name} differs in length: want {} lines, got {}",
            want.lines().count(),
            got.lines().count()
        );
    }
}

#[test]
fn audit_writes_every_output_and_the_golden_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    cargo_bin_cmd!("fundsim")
        .arg("audit")
        .arg(fixture())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    for f in ["audit.csv", "reconcile.csv", "payments_check.csv", "findings.md", "manifest.json"] {
        assert!(out.join(f).exists(), "{f}");
    }
    golden(
        "audit-small.findings.md",
        &std::fs::read_to_string(out.join("findings.md")).unwrap(),
    );
    let checks = std::fs::read_to_string(out.join("payments_check.csv")).unwrap();
    let want = [
        "unfiled,B,H99,",
        "before_filing,A,H03,",
        "after_closing,B,H04,",
        "living_cap,A,H01,",
        "warmth_visit,B,H05,",
        "warmth_year,B,H05,",
        "duplicate,A,H02,",
        "flat,C,,",
        "scope,B,H05,",
    ];
    for w in want {
        assert!(checks.lines().any(|l| l.starts_with(w)), "{w} missing in\n{checks}");
    }
    assert_eq!(checks.lines().count(), 1 + want.len(), "{checks}");
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let inputs: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        inputs,
        [
            "scenario.toml",
            "units.csv",
            "factors.csv",
            "actual.csv",
            "payments.csv",
            "households.csv"
        ]
    );
    assert_eq!(m["outputs"].as_array().unwrap().len(), 4);
    assert_eq!(m["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn fail_on_flag_exits_1_after_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    cargo_bin_cmd!("fundsim")
        .arg("audit")
        .arg(fixture())
        .arg("--out")
        .arg(&out)
        .arg("--fail-on-flag")
        .assert()
        .code(1);
    assert!(out.join("findings.md").exists());
}

fn bad_input(edit: impl Fn(&Path), expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture(tmp.path());
    edit(&dir);
    let out = tmp.path().join("out");
    let a = cargo_bin_cmd!("fundsim")
        .arg("audit")
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    for e in expect {
        assert!(err.contains(e), "`{e}` not in:\n{err}");
    }
    assert!(!out.exists(), "nothing may be written on bad input");
}

fn replace(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let s = std::fs::read_to_string(&p).unwrap();
    assert!(s.contains(from), "{from}");
    std::fs::write(&p, s.replace(from, to)).unwrap();
}

#[test]
fn amounts_with_letters_exit_2_naming_file_line_field() {
    bad_input(
        |d| {
            replace(
                d,
                "payments.csv",
                "P003,H01,A,20190915,living,1500",
                "P003,H01,A,20190915,living,15OO",
            )
        },
        &["payments.csv:4: field `amount`"],
    );
    bad_input(|d| replace(d, "actual.csv", "B,2600", "B,26x0"), &["actual.csv:3: field `amount`"]);
}

#[test]
fn bad_dates_and_duplicate_ids_exit_2() {
    bad_input(
        |d| replace(d, "payments.csv", "P006,H03,A,2019-02-01", "P006,H03,A,2019-02-31"),
        &["payments.csv:7: field `date`: `2019-02-31` is not a date"],
    );
    bad_input(
        |d| replace(d, "payments.csv", "P010,", "P002,"),
        &["payments.csv:11: field `payment_id`: payment id `P002` is used twice (first on line 3)"],
    );
    bad_input(
        |d| {
            replace(
                d,
                "households.csv",
                "H04,B,relative,2018-06-01,2019-06-30",
                "H04,B,relative,2018-06-01,30.6.2019",
            )
        },
        &["households.csv:5: field `closed_on`"],
    );
    bad_input(
        |d| replace(d, "scenario.toml", "duplicate_period = \"month\"", "duplicate_period = \"week\""),
        &["audit.payments.duplicate_period"],
    );
}

#[test]
fn verify_accepts_an_untouched_pack_and_rejects_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture(tmp.path());
    let out = tmp.path().join("pack");
    cargo_bin_cmd!("fundsim")
        .arg("audit")
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    cargo_bin_cmd!("fundsim").arg("verify").arg(&out).assert().success();
    // an output edited: exit 1 naming it
    let f = out.join("audit.csv");
    let keep = std::fs::read(&f).unwrap();
    let mut edited = keep.clone();
    edited.push(b'\n');
    std::fs::write(&f, &edited).unwrap();
    let a = cargo_bin_cmd!("fundsim").arg("verify").arg(&out).assert().code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("audit.csv"));
    std::fs::write(&f, &keep).unwrap();
    cargo_bin_cmd!("fundsim").arg("verify").arg(&out).assert().success();
    // one input byte changed: exit 2 naming the input
    let p = dir.join("payments.csv");
    let mut b = std::fs::read(&p).unwrap();
    let i = b.iter().rposition(|c| *c == b'0').unwrap();
    b[i] = b'1';
    std::fs::write(&p, &b).unwrap();
    let a = cargo_bin_cmd!("fundsim").arg("verify").arg(&out).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("payments.csv") && err.contains("changed since the pack was made"),
        "{err}"
    );
}

#[test]
fn bundled_union_scenario_finds_every_planted_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let scen = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/union-2019");
    cargo_bin_cmd!("fundsim")
        .arg("audit")
        .arg(&scen)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    golden("union-2019.findings.md", &std::fs::read_to_string(out.join("findings.md")).unwrap());
    let checks = std::fs::read_to_string(out.join("payments_check.csv")).unwrap();
    let planted = std::fs::read_to_string(scen.join("PLANTED.md")).unwrap();
    // every planted ledger line (PLANTED.md table) is cited by a hit of its check
    let mut n = 0;
    for row in planted
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| check") && !l.starts_with("| line") && !l.contains("---"))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        if cells.len() < 9 {
            continue;
        }
        let check = cells[1].split(' ').next().unwrap();
        let line = cells[2];
        let hit = checks.lines().any(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[0] == check && f[15].split(';').any(|x| x == line)
        });
        assert!(hit, "planted {check} at line {line} not found");
        n += 1;
    }
    assert!(n >= 20, "{n} planted rows read");
    // and nothing else: 19 payment hits, 5 allocation rows and 2 reconciliations
    assert_eq!(checks.lines().count() - 1, 19, "{checks}");
    let audit = std::fs::read_to_string(out.join("audit.csv")).unwrap();
    let flagged: Vec<&str> = audit.lines().filter(|l| l.contains(",differs,")).map(|l| &l[..6]).collect();
    assert_eq!(flagged, ["990800", "990302", "990303", "990702", "990801"]);
    let rec = std::fs::read_to_string(out.join("reconcile.csv")).unwrap();
    let bad: Vec<&str> = rec.lines().filter(|l| l.ends_with(",1")).map(|l| &l[..6]).collect();
    assert_eq!(bad, ["990000", "990700"]);
}

#[test]
fn english_findings_have_every_part_in_english() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture(tmp.path());
    replace(&dir, "scenario.toml", "lang = \"zh\"", "lang = \"en\"");
    let out = tmp.path().join("out");
    cargo_bin_cmd!("fundsim")
        .arg("audit")
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let md = std::fs::read_to_string(out.join("findings.md")).unwrap();
    golden("audit-small.en.findings.md", &md);
    for s in [
        "# Audit findings:",
        "**Matter audited**: ",
        "**Facts found**: ",
        "**Rule**: ",
        "**Conclusion**: ",
        "Aid paid to households not on file",
    ] {
        assert!(md.contains(s), "{s}");
    }
    for s in ["审计事项", "审计查明的事实", "审计结论", "涉及金额"] {
        assert!(!md.contains(s), "{s} in the English findings");
    }
}
