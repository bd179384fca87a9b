//! Determinism: every command of the binary, run on the bundled scenarios with
//! `RAYON_NUM_THREADS=1`, `=2` and unset, gives byte-identical output files, stdout, stderr and
//! exit code. The runs use the same scenario and output paths, so `manifest.json` (which records
//! the absolute scenario, output and input paths — and no times) must match byte for byte too.
//! No output file other than `manifest.json` may contain an absolute path of the run or
//! today's date, and no staging folder may be left beside the output folder.
//!
//! A command added to the CLI without a case here fails `every_command_has_a_case`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a bundled scenario into `dir`, editing `scenario.toml` with `edit`.
fn copy_scenario(name: &str, dir: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    let src = root().join("scenarios").join(name);
    let to = dir.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let p = f.unwrap().path();
        if p.is_file() {
            let file = p.file_name().unwrap();
            let bytes = std::fs::read(&p).unwrap();
            let bytes = if file == "scenario.toml" {
                edit(&String::from_utf8(bytes).unwrap()).into_bytes()
            } else {
                bytes
            };
            std::fs::write(to.join(file), bytes).unwrap();
        }
    }
    to
}

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[derive(Debug, PartialEq)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    files: BTreeMap<String, Vec<u8>>,
}

/// Runs the command (`{out}` in an argument is replaced by the output folder) into a fresh
/// output folder at the same path every time.
fn run(work: &Path, args: &[String], threads: Option<&str>) -> Run {
    let out = work.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let mut cmd = cargo_bin_cmd!("fundsim");
    cmd.current_dir(work);
    for a in args {
        cmd.arg(a.replace("{out}", &out.to_string_lossy()));
    }
    match threads {
        Some(n) => cmd.env("RAYON_NUM_THREADS", n),
        None => cmd.env_remove("RAYON_NUM_THREADS"),
    };
    let o = cmd.output().unwrap();
    let staging: Vec<_> = std::fs::read_dir(work)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("fundsim-tmp"))
        .collect();
    assert!(staging.is_empty(), "{args:?} left staging folders {staging:?}");
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        files: files(&out),
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, by the civil-from-days algorithm.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn contains(hay: &[u8], needle: &str) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

struct Case {
    /// The subcommand this case covers.
    command: &'static str,
    args: Vec<String>,
    /// The command must write at least one file into `{out}`.
    writes: bool,
}

fn case(command: &'static str, args: &[&str], writes: bool) -> Case {
    Case {
        command,
        args: args.iter().map(|s| s.to_string()).collect(),
        writes,
    }
}

/// The cases, with their scenario folders prepared under `work`.
fn cases(work: &Path) -> Vec<Case> {
    let gansu = copy_scenario("gansu-2018", work, str::to_string);
    let hubei = copy_scenario("hubei-5311", work, str::to_string);
    let union = copy_scenario("union-2019", work, str::to_string);
    let alt = work.join("alt");
    let union2 = copy_scenario("union-2019", &alt, |t| t.replace("total = \"80000000\"", "total = \"96000000\""));
    let gansu2 = copy_scenario("gansu-2018", &alt, |t| {
        t.replace("total = \"3000000000\"", "total = \"3300000000\"")
    });
    assert!(std::fs::read_to_string(union2.join("scenario.toml")).unwrap().contains("96000000"));
    assert!(std::fs::read_to_string(gansu2.join("scenario.toml"))
        .unwrap()
        .contains("3300000000"));
    let (g, h, u, u2, g2) = (
        gansu.to_string_lossy().into_owned(),
        hubei.to_string_lossy().into_owned(),
        union.to_string_lossy().into_owned(),
        union2.to_string_lossy().into_owned(),
        gansu2.to_string_lossy().into_owned(),
    );
    // an audit pack for `verify`, made once
    let pack = work.join("pack");
    let o = cargo_bin_cmd!("fundsim").args(["audit", &u, "--out"]).arg(&pack).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = pack.to_string_lossy().into_owned();
    let sens = root().join("tests/fixtures/sensitivity").to_string_lossy().into_owned();
    vec![
        case("validate", &["validate", &g], false),
        case("validate", &["validate", &u, "--format", "json"], false),
        case("validate", &["validate", &h], false),
        case("allocate", &["allocate", &g, "--out", "{out}"], true),
        case("allocate", &["allocate", &h, "--out", "{out}", "--excel-csv"], true),
        case("allocate", &["allocate", &u, "--out", "{out}", "--format", "json"], true),
        case("check-weights", &["check-weights", &g, "--out", "{out}"], true),
        case("infer-weights", &["infer-weights", &g, "--out", "{out}"], true),
        case("infer-weights", &["infer-weights", &u, "--out", "{out}"], true),
        case("compare", &["compare", &u, &u2, "--out", "{out}"], true),
        case("compare", &["compare", &g, &g2, "--out", "{out}", "--format", "json"], true),
        case("audit", &["audit", &u, "--out", "{out}"], true),
        case("audit", &["audit", &g, "--out", "{out}", "--excel-csv"], true),
        case(
            "synth",
            &["synth", "--counties", "40", "--cities", "4", "--seed", "9", "--out", "{out}"],
            true,
        ),
        case("verify", &["verify", &p], false),
        case("project", &["project", &g, "--out", "{out}", "--runs", "50", "--seed", "3"], true),
        case("project", &["project", &u, "--out", "{out}"], true),
        case("score", &["score", &g, "--out", "{out}", "--draws", "200", "--seed", "5"], true),
        case(
            "plan-sample",
            &[
                "plan-sample",
                "--margin",
                "0.02",
                "--confidence",
                "0.95",
                "--rate",
                "0.02",
                "--deff",
                "1.5",
                "--seed",
                "2",
            ],
            false,
        ),
        case(
            "sensitivity",
            &["sensitivity", &sens, "--draws", "200", "--seed", "4", "--out", "{out}"],
            true,
        ),
        case("report", &["report", &g, "--out", "{out}"], true),
        case("report", &["run", &u, "--out", "{out}", "--excel-csv"], true),
    ]
}

#[test]
fn every_command_runs_the_same_with_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().canonicalize().unwrap();
    let today = today();
    let abs = [work.to_string_lossy().into_owned(), root().to_string_lossy().into_owned()];
    for c in cases(&work) {
        let first = run(&work, &c.args, Some("1"));
        assert!(
            first.code == Some(0) || (c.command == "audit" && first.code == Some(1)),
            "{:?}: exit {:?}\n{}",
            c.args,
            first.code,
            first.stderr
        );
        assert_eq!(c.writes, !first.files.is_empty(), "{:?} wrote {:?}", c.args, first.files.keys());
        for threads in [Some("2"), None] {
            let again = run(&work, &c.args, threads);
            assert_eq!(first.code, again.code, "{:?} threads {threads:?}: exit code", c.args);
            assert_eq!(first.stdout, again.stdout, "{:?} threads {threads:?}: stdout", c.args);
            assert_eq!(first.stderr, again.stderr, "{:?} threads {threads:?}: stderr", c.args);
            assert_eq!(
                first.files.keys().collect::<Vec<_>>(),
                again.files.keys().collect::<Vec<_>>(),
                "{:?} threads {threads:?}: the files written",
                c.args
            );
            for (name, bytes) in &first.files {
                assert!(&again.files[name] == bytes, "{:?} threads {threads:?}: {name} differs", c.args);
            }
        }
        for (name, bytes) in &first.files {
            assert!(!contains(bytes, &today), "{:?}: {name} contains today's date {today}", c.args);
            if name == "manifest.json" {
                continue;
            }
            for a in &abs {
                assert!(!contains(bytes, a), "{:?}: {name} contains the absolute path {a}", c.args);
            }
        }
    }
}

/// The subcommands `fundsim --help` lists.
fn commands() -> Vec<String> {
    let o = cargo_bin_cmd!("fundsim").arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn every_command_has_a_case() {
    let tmp = tempfile::tempdir().unwrap();
    let covered: Vec<&str> = cases(tmp.path()).iter().map(|c| c.command).collect();
    let listed = commands();
    assert!(listed.len() >= 8, "could not read the command list: {listed:?}");
    let missing: Vec<&String> = listed.iter().filter(|c| !covered.contains(&c.as_str())).collect();
    assert!(
        missing.is_empty(),
        "commands without a determinism case in tests/determinism.rs: {missing:?}"
    );
}

/// `manifest.json` records paths (scenario, output folder, every input) but no times: two
/// runs into the same folder give the same manifest, and it parses back.
#[test]
fn the_manifest_records_paths_but_no_times() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().canonicalize().unwrap();
    let u = copy_scenario("union-2019", &work, str::to_string);
    let args: Vec<String> = ["audit", &u.to_string_lossy(), "--out", "{out}"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let a = run(&work, &args, None);
    let m: serde_json::Value = serde_json::from_slice(&a.files["manifest.json"]).unwrap();
    let text = m.to_string();
    assert!(text.contains(&*work.to_string_lossy()), "the manifest records the paths of the run");
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    for k in &keys {
        let k = k.to_ascii_lowercase();
        assert!(!k.contains("time") && !k.contains("date"), "manifest key {k}");
    }
    assert!(!text.contains(&today()));
}
