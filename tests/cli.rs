//! The binary on the bundled scenarios and fixtures: golden outputs, JSON, the default
//! scenario, determinism, and the inputs that have a sensible reading (accepted with a warning).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], cwd: &Path) -> std::process::Output {
    cargo_bin_cmd!("fundsim").args(args).current_dir(cwd).output().unwrap()
}

fn allocate_to(scenario: &Path, out: &Path) -> Vec<u8> {
    let o = run(&["allocate", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()], &root());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(out.join("allocation.csv")).unwrap()
}

#[test]
fn bundled_scenarios_match_their_golden_allocation() {
    for name in ["gansu-2018", "hubei-5311", "union-2019"] {
        let tmp = tempfile::tempdir().unwrap();
        let got = allocate_to(&root().join("scenarios").join(name), tmp.path());
        let want = std::fs::read(root().join("tests/golden").join(name).join("allocation.csv")).unwrap();
        assert!(
            got == want,
            "{name}: allocation.csv differs from tests/golden/{name}/allocation.csv"
        );
    }
}

#[test]
fn the_default_scenario_is_gansu_and_the_summary_names_the_extremes() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["allocate", "--out", tmp.path().to_str().unwrap()], &root());
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("gansu-2018") && out.contains("75 recipients") && out.contains("largest") && out.contains("per capita"),
        "{out}"
    );
    assert!(tmp.path().join("allocation.csv").exists());
}

#[test]
fn json_output_is_the_allocation_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        &[
            "allocate",
            "scenarios/union-2019",
            "--out",
            tmp.path().to_str().unwrap(),
            "--format",
            "json",
        ],
        &root(),
    );
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v.as_array().unwrap();
    let csv = std::fs::read_to_string(tmp.path().join("allocation.csv")).unwrap();
    assert_eq!(rows.len(), csv.lines().count() - 1);
    assert!(rows.iter().any(|r| r["pool"] == "reserve"));
}

#[test]
fn runs_are_byte_identical() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let s = root().join("scenarios/union-2019");
    assert_eq!(allocate_to(&s, a.path()), allocate_to(&s, b.path()));
}

#[test]
fn validate_prints_a_summary_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("never");
    let o = run(&["validate", "scenarios/union-2019", "--out", out.to_str().unwrap()], &root());
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("valid"));
    assert!(!out.exists());
}

/// The fixture `tests/fixtures/spreadsheet` is the small scenario written the way spreadsheets
/// export it: GB18030 units, factors with thousands separators, full-width digits, `#N/A` in an
/// unused column and a percent sign. It must give the same amounts as the plain version.
#[test]
fn spreadsheet_style_inputs_read_the_same_with_warnings_naming_the_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = allocate_to(&root().join("tests/fixtures/plain"), &tmp.path().join("a"));
    let o = run(
        &[
            "allocate",
            "tests/fixtures/spreadsheet",
            "--out",
            tmp.path().join("b").to_str().unwrap(),
        ],
        &root(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("factors.csv:3: field `pop`") && err.contains("full-width"), "{err}");
    assert!(err.contains("GB18030"), "{err}");
    let got = std::fs::read(tmp.path().join("b/allocation.csv")).unwrap();
    assert_eq!(
        String::from_utf8(got).unwrap().replace("spreadsheet", "plain"),
        String::from_utf8(plain).unwrap()
    );
}

#[test]
fn xlsx_factors_read_the_same_as_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = allocate_to(&root().join("tests/fixtures/plain"), &tmp.path().join("a"));
    let dir = tmp.path().join("x");
    std::fs::create_dir(&dir).unwrap();
    for f in ["units.csv", "scenario.toml"] {
        std::fs::copy(root().join("tests/fixtures/plain").join(f), dir.join(f)).unwrap();
    }
    let toml = std::fs::read_to_string(dir.join("scenario.toml"))
        .unwrap()
        .replace("factors.csv", "factors.xlsx");
    std::fs::write(dir.join("scenario.toml"), toml).unwrap();
    let csv = std::fs::read_to_string(root().join("tests/fixtures/plain/factors.csv")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, line) in csv.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            match cell.parse::<f64>() {
                Ok(x) if r > 0 && c > 0 => ws.write_number(r as u32, c as u16, x).unwrap(),
                _ => ws.write_string(r as u32, c as u16, cell).unwrap(),
            };
        }
    }
    wb.save(dir.join("factors.xlsx")).unwrap();
    let got = allocate_to(&dir, &tmp.path().join("b"));
    assert_eq!(got, plain);
}
