//! One harness for the bad-input corpus in `tests/bad_inputs/`: every case is a scenario
//! folder with one defect and an `expect.toml` (command, exit code, and the file, line, field
//! and words the message must name). Every case must fail cleanly: the expected exit code,
//! a message naming the location, no panic, and nothing written to the output folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize)]
struct Expect {
    command: String,
    exit: i32,
    #[serde(default)]
    error: Vec<ExpectError>,
}

#[derive(serde::Deserialize)]
struct ExpectError {
    file: String,
    line: Option<u64>,
    field: Option<String>,
    contains: Option<String>,
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
    wrote: bool,
}

fn run(command: &str, scenario: &Path) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = cargo_bin_cmd!("fundsim")
        .arg(command)
        .arg(scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    Outcome {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        wrote: out.exists(),
    }
}

fn check_case(name: &str, e: &Expect, o: &Outcome) -> Vec<String> {
    let mut fails = Vec::new();
    if o.code != Some(e.exit) {
        fails.push(format!("{name}: exit code expected {} got {:?}", e.exit, o.code));
    }
    if o.stderr.contains("panicked") {
        fails.push(format!("{name}: panicked"));
    }
    if o.wrote {
        fails.push(format!("{name}: the output folder was written"));
    }
    for x in &e.error {
        let found = o.stderr.lines().any(|l| {
            let mut want = x.file.clone();
            if let Some(line) = x.line {
                want.push_str(&format!(":{line}"));
            }
            let loc_ok = l.contains(&format!("{want}:")) || l.contains(&format!("{want} "));
            let field_ok = x.field.as_ref().is_none_or(|f| l.contains(&format!("field `{f}`")));
            let words_ok = x.contains.as_ref().is_none_or(|c| l.contains(c.as_str()));
            loc_ok && field_ok && words_ok
        });
        if !found {
            fails.push(format!(
                "{name}: expected a message naming {}{}{}{}\n  got: {}",
                x.file,
                x.line.map(|l| format!(":{l}")).unwrap_or_default(),
                x.field.as_ref().map(|f| format!(" field `{f}`")).unwrap_or_default(),
                x.contains.as_ref().map(|c| format!(" containing {c:?}")).unwrap_or_default(),
                o.stderr.trim().replace('\n', "\n       ")
            ));
        }
    }
    fails
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs")
}

#[test]
fn every_bad_input_fails_cleanly_naming_its_location() {
    let mut names: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expect.toml").is_file())
        .collect();
    names.sort();
    assert!(names.len() >= 40, "the corpus has {} cases", names.len());
    let mut fails = Vec::new();
    for dir in &names {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let e: Expect = toml::from_str(&std::fs::read_to_string(dir.join("expect.toml")).unwrap()).unwrap();
        let o = run(&e.command, dir);
        fails.extend(check_case(&name, &e, &o));
    }
    assert!(
        fails.is_empty(),
        "{} of {} cases failed:\n{}",
        fails.len(),
        names.len(),
        fails.join("\n")
    );
}

#[test]
fn a_symlink_loop_as_scenario_folder_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("loop");
    std::os::unix::fs::symlink(&link, &link).unwrap();
    let o = run("allocate", &link);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("loop") && o.stderr.contains("symbolic links"), "{}", o.stderr);
    assert!(!o.wrote);
}

fn copy_case(name: &str, to: &Path) {
    for f in std::fs::read_dir(corpus().join(name)).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
    }
}

#[test]
fn a_ten_megabyte_field_is_rejected_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    copy_case("units-empty-id", dir.path());
    let big = "x".repeat(10 * 1024 * 1024);
    let units = format!("id,name,parent_id,level\nP,省,,province\nC1,{big},P,city\n");
    std::fs::write(dir.path().join("units.csv"), units).unwrap();
    let o = run("validate", dir.path());
    assert_eq!(o.code, Some(2), "{}", &o.stderr[..o.stderr.len().min(500)]);
    assert!(
        o.stderr.contains("units.csv:3: field `name`"),
        "{}",
        &o.stderr[..o.stderr.len().min(500)]
    );
    assert!(o.stderr.len() < 10_000, "the message must not echo the field");
}

#[test]
fn an_output_folder_that_is_a_file_is_a_usage_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("s");
    std::fs::create_dir(&scen).unwrap();
    copy_case("units-empty-id", &scen);
    std::fs::write(scen.join("units.csv"), "id,name,parent_id,level\nP,省,,province\nC1,甲市,P,city\nC2,乙市,P,city\nK11,甲一县,C1,county\nK12,甲二县,C1,county\nK21,乙一县,C2,county\nK22,乙二县,C2,county\n").unwrap();
    let file = dir.path().join("out");
    std::fs::write(&file, "precious").unwrap();
    let o = cargo_bin_cmd!("fundsim")
        .arg("allocate")
        .arg(&scen)
        .arg("--out")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a folder"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
}
