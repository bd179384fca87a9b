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
    /// Extra arguments after the scenario.
    #[serde(default)]
    args: Vec<String>,
    /// Messages that must be printed as `error: …`.
    #[serde(default)]
    error: Vec<ExpectMessage>,
    /// Messages that must be printed as `warning: …` (inputs accepted with a sensible reading).
    #[serde(default)]
    warning: Vec<ExpectMessage>,
    /// A cell too big to commit: `@@BIG@@` in `file` is replaced by `bytes` bytes of `x`.
    inflate: Option<Inflate>,
}

#[derive(serde::Deserialize)]
struct ExpectMessage {
    file: String,
    line: Option<u64>,
    field: Option<String>,
    contains: Option<String>,
}

#[derive(serde::Deserialize)]
struct Inflate {
    file: String,
    bytes: usize,
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
    wrote: bool,
}

fn run(command: &str, scenario: &Path) -> Outcome {
    run_args(command, scenario, &[])
}

fn run_args(command: &str, scenario: &Path, args: &[String]) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = cargo_bin_cmd!("fundsim")
        .arg(command)
        .arg(scenario)
        .args(args)
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

fn short(s: &str) -> String {
    let s = s.trim();
    if s.len() > 3000 {
        let mut end = 3000;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &s[..end], s.len())
    } else {
        s.to_string()
    }
}

fn find_message(o: &Outcome, prefix: &str, x: &ExpectMessage) -> bool {
    o.stderr.lines().filter(|l| l.starts_with(prefix)).any(|l| {
        let mut want = x.file.clone();
        if let Some(line) = x.line {
            want.push_str(&format!(":{line}"));
        }
        let loc_ok = l.contains(&format!("{want}:")) || l.contains(&format!("{want} "));
        let field_ok = x.field.as_ref().is_none_or(|f| l.contains(&format!("field `{f}`")));
        let words_ok = x.contains.as_ref().is_none_or(|c| l.contains(c.as_str()));
        loc_ok && field_ok && words_ok
    })
}

fn check_case(name: &str, e: &Expect, o: &Outcome) -> Vec<String> {
    let mut fails = Vec::new();
    if o.code != Some(e.exit) {
        fails.push(format!(
            "{name}: exit code expected {} got {:?}\n  stderr: {}",
            e.exit,
            o.code,
            short(&o.stderr).replace('\n', "\n          ")
        ));
    }
    if o.stderr.contains("panicked") {
        fails.push(format!("{name}: panicked"));
    }
    if e.exit != 0 && o.wrote {
        fails.push(format!("{name}: the output folder was written"));
    }
    if e.inflate.is_some() && o.stderr.len() > 10_000 {
        fails.push(format!("{name}: the message echoes the big cell ({} bytes)", o.stderr.len()));
    }
    for (prefix, list) in [("error: ", &e.error), ("warning: ", &e.warning)] {
        for x in list {
            if !find_message(o, prefix, x) {
                fails.push(format!(
                    "{name}: expected a message `{prefix}{}{}{}{}`\n  got: {}",
                    x.file,
                    x.line.map(|l| format!(":{l}")).unwrap_or_default(),
                    x.field.as_ref().map(|f| format!(" field `{f}`")).unwrap_or_default(),
                    x.contains.as_ref().map(|c| format!(" containing {c:?}")).unwrap_or_default(),
                    short(&o.stderr).replace('\n', "\n       ")
                ));
            }
        }
    }
    fails
}

/// Runs one case: in place, or from a temporary copy with its big cell inflated.
fn run_case(dir: &Path, e: &Expect) -> Outcome {
    let Some(inf) = &e.inflate else {
        return run_args(&e.command, dir, &e.args);
    };
    let tmp = tempfile::tempdir().unwrap();
    copy_case_dir(dir, tmp.path());
    let p = tmp.path().join(&inf.file);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("@@BIG@@"), "{}: no @@BIG@@ in {}", dir.display(), inf.file);
    std::fs::write(&p, text.replace("@@BIG@@", &"x".repeat(inf.bytes))).unwrap();
    run_args(&e.command, tmp.path(), &e.args)
}

fn copy_case_dir(from: &Path, to: &Path) {
    for f in std::fs::read_dir(from).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
    }
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
        let o = run_case(dir, &e);
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
    copy_case_dir(&corpus().join(name), to);
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

/// The corpus covers every input file the project reads, each several times: cases are named
/// after the file they break (`plan-…`, `county-exits-…`; `toml-…` for scenario.toml,
/// `encoding-…` for declared and contradicted encodings), and workbook cases are counted by
/// the `.xlsx` file in their folder.
#[test]
fn every_input_file_has_several_cases() {
    let mut count: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(corpus()).unwrap() {
        let dir = e.unwrap().path();
        if !dir.join("expect.toml").is_file() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let group = if name.starts_with("county-exits") {
            "county-exits".to_string()
        } else {
            name.split('-').next().unwrap().to_string()
        };
        *count.entry(group).or_default() += 1;
        let has_xlsx = std::fs::read_dir(&dir)
            .unwrap()
            .any(|f| f.unwrap().path().extension().is_some_and(|x| x == "xlsx"));
        if has_xlsx {
            *count.entry("any .xlsx".into()).or_default() += 1;
        }
    }
    eprintln!("cases per input file: {count:?}");
    for file in [
        "toml",
        "units",
        "factors",
        "plan",
        "survey",
        "actual",
        "payments",
        "households",
        "files",
        "county-exits",
        "encoding",
        "xlsx",
        "any .xlsx",
    ] {
        let n = count.get(file).copied().unwrap_or(0);
        assert!(n >= 3, "only {n} cases for {file}: {count:?}");
    }
    let total: usize = count.iter().filter(|(k, _)| k.as_str() != "any .xlsx").map(|(_, n)| n).sum();
    assert!(total >= 88, "{total} cases");
}
