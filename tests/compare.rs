//! `fundsim compare`: parts of the decomposition sum to the change, and each kind of change
//! lands in its own part.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn variant(dir: &Path, edit: impl Fn(&str, &str) -> String) -> PathBuf {
    let src = root().join("scenarios/union-2019");
    let to = dir.join("variant");
    std::fs::create_dir_all(&to).unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_file() {
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(to.join(&name), edit(&name, &text)).unwrap();
        }
    }
    to
}

fn compare(dir: &Path, s2: &Path) -> Vec<Vec<String>> {
    let out = dir.join("out");
    let o = cargo_bin_cmd!("fundsim")
        .args(["compare", "scenarios/union-2019"])
        .arg(s2)
        .arg("--out")
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for chart in ["compare_changes", "compare_waterfall_all", "compare_waterfall_top"] {
        let png = std::fs::read(out.join("charts").join(format!("{chart}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{chart}.png");
        let svg = std::fs::read_to_string(out.join("charts").join(format!("{chart}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{chart}.svg");
    }
    let mut r = csv::Reader::from_path(out.join("compare.csv")).unwrap();
    r.records().map(|x| x.unwrap().iter().map(String::from).collect()).collect()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn a_larger_total_shows_up_in_the_total_part_only() {
    let tmp = tempfile::tempdir().unwrap();
    let s2 = variant(tmp.path(), |name, t| {
        if name == "scenario.toml" {
            t.replace("total = \"80000000\"", "total = \"96000000\"")
        } else {
            t.to_string()
        }
    });
    let rows = compare(tmp.path(), &s2);
    assert!(!rows.is_empty());
    for r in &rows {
        let (change, data, formula, total, bounds) = (d(&r[4]), d(&r[12]), d(&r[13]), d(&r[14]), d(&r[15]));
        assert_eq!(data + formula + total + bounds, change, "{r:?}");
        assert_eq!(data, Decimal::ZERO);
        assert_eq!(formula, Decimal::ZERO);
    }
    assert!(rows.iter().any(|r| d(&r[14]) > Decimal::ZERO));
}

#[test]
fn new_factor_data_shows_up_in_the_data_part() {
    let tmp = tempfile::tempdir().unwrap();
    // one county files many more hardship households
    let s2 = variant(tmp.path(), |name, t| {
        if name == "factors.csv" {
            let mut lines: Vec<String> = t.lines().map(String::from).collect();
            let h: Vec<&str> = lines[0].split(',').collect();
            let c = h.iter().position(|x| *x == "households").unwrap();
            let i = lines.iter().position(|l| l.starts_with("990101,")).unwrap();
            let mut cells: Vec<String> = lines[i].split(',').map(String::from).collect();
            cells[c] = (cells[c].parse::<u64>().unwrap() * 2).to_string();
            lines[i] = cells.join(",");
            lines.join("\n") + "\n"
        } else {
            t.to_string()
        }
    });
    let rows = compare(tmp.path(), &s2);
    let r = rows.iter().find(|r| r[0] == "990101").unwrap();
    assert!(d(&r[12]) > Decimal::ZERO, "{r:?}");
    for r in &rows {
        assert_eq!(d(&r[12]) + d(&r[13]) + d(&r[14]) + d(&r[15]), d(&r[4]));
        assert_eq!(d(&r[13]), Decimal::ZERO);
        assert_eq!(d(&r[14]), Decimal::ZERO);
    }
}
