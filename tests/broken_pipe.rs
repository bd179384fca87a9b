//! Standard output closed early (`fundsim allocate --format json | head -1`): the command must
//! not panic (Rust's `println!` panics on EPIPE, exit code 101). The documented behaviour
//! (src/cli/mod.rs): printing stops quietly, the command finishes, writes its outputs and exits
//! with its own code — 0 here — with nothing on standard error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn scenario() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/gansu-2018")
        .display()
        .to_string()
}

/// Runs `args` with standard output a pipe whose reader reads `lines` lines and then closes it.
/// The JSON results used are well over a pipe buffer (64 KiB), so the writer meets the closed
/// pipe whatever the timing.
fn run_with_closed_stdout(args: &[&str], lines: usize) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fundsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    for _ in 0..lines {
        let mut l = String::new();
        reader.read_line(&mut l).unwrap();
    }
    drop(reader);
    let o = child.wait_with_output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_reader_that_stops_after_one_line_is_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let s = scenario();
    let (code, stderr) = run_with_closed_stdout(&["allocate", &s, "--format", "json", "--out", out.to_str().unwrap()], 1);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
    // the run went on to write its output
    let csv = std::fs::read_to_string(out.join("allocation.csv")).unwrap();
    assert!(csv.lines().count() > 100, "allocation.csv has {} lines", csv.lines().count());
}

#[test]
fn a_stdout_closed_before_anything_is_printed_is_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario();
    for args in [
        vec!["validate", s.as_str()],
        vec!["validate", s.as_str(), "--format", "json"],
        vec!["allocate", s.as_str(), "--format", "json"],
        vec!["project", s.as_str()],
        vec!["score", s.as_str(), "--format", "json"],
    ] {
        let out = tmp.path().join(args[0]);
        let mut full = args.clone();
        full.extend(["--out", out.to_str().unwrap()]);
        let (code, stderr) = run_with_closed_stdout(&full, 0);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn an_input_error_keeps_its_exit_code_with_stdout_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, stderr) = run_with_closed_stdout(&["validate", tmp.path().join("missing").to_str().unwrap()], 0);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot open scenario"), "{stderr}");
}
