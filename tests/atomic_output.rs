//! Atomic output: `allocate` on the national synthetic scenario (2,850 counties) into a folder
//! that already holds a previous `allocation.csv`, killed at many points of the run (from a few
//! milliseconds in to past its end). After every kill the file is either the previous one,
//! byte for byte, or the complete new one — never partial — and nothing else is left inside
//! `--out` (no `.fundsim-tmp-*` staging folder: staging happens beside it). A later run cleans
//! the staging folders killed runs left beside `--out` (on Linux, where it can tell a dead
//! process from a running one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn fundsim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fundsim"));
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

fn synth(dir: &Path, counties: &str, cities: &str, seed: &str) {
    let ok = fundsim()
        .args(["synth", "--counties", counties, "--cities", cities, "--seed", seed, "--out"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(ok.success());
}

fn staging_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("fundsim-tmp"))
        .collect()
}

#[test]
fn a_killed_allocate_leaves_the_previous_output_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let national = work.join("national");
    synth(&national, "2850", "330", "1");
    let small = work.join("small");
    synth(&small, "40", "4", "5");

    // the previous output: an allocation of another scenario
    let previous_dir = work.join("previous");
    assert!(fundsim()
        .arg("allocate")
        .arg(&small)
        .arg("--out")
        .arg(&previous_dir)
        .status()
        .unwrap()
        .success());
    let old = std::fs::read(previous_dir.join("allocation.csv")).unwrap();
    // the complete new output, and how long a run takes
    let expected_dir = work.join("expected");
    let t0 = Instant::now();
    assert!(fundsim()
        .arg("allocate")
        .arg(&national)
        .arg("--out")
        .arg(&expected_dir)
        .status()
        .unwrap()
        .success());
    let full = t0.elapsed();
    let new = std::fs::read(expected_dir.join("allocation.csv")).unwrap();
    assert_ne!(old, new);

    let out = work.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut delays: Vec<Duration> = [1u64, 5, 20].iter().map(|&ms| Duration::from_millis(ms)).collect();
    // spread over the run, denser near its end where the file is written and moved
    for pct in [25u32, 50, 75, 90, 100, 110] {
        delays.push(full * pct / 100);
    }
    let (mut kept_old, mut got_new, mut killed, mut mid_write) = (0, 0, 0, 0);
    // None = a fixed delay from the start; Some(after) = kill `after` once the staging folder
    // appears beside --out, i.e. while the output is being written or moved
    let mut plan: Vec<(Duration, bool)> = delays.iter().map(|&d| (d, false)).collect();
    for us in [0u64, 200, 500, 1_000, 3_000] {
        plan.push((Duration::from_micros(us), true));
    }
    for (d, on_staging) in &plan {
        let d = *d;
        std::fs::write(out.join("allocation.csv"), &old).unwrap();
        let mut child = fundsim().arg("allocate").arg(&national).arg("--out").arg(&out).spawn().unwrap();
        if *on_staging {
            let name = format!(".out.fundsim-tmp-{}", child.id());
            let give_up = Instant::now() + full * 3;
            while !work.join(&name).exists() && Instant::now() < give_up && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        std::thread::sleep(d);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            killed += 1;
            if !staging_in(work).is_empty() {
                mid_write += 1;
            }
        }
        let now = std::fs::read(out.join("allocation.csv")).unwrap();
        if now == old {
            kept_old += 1;
        } else if now == new {
            got_new += 1;
        } else {
            panic!(
                "killed after {d:?}: allocation.csv is neither the previous file nor the complete new one ({} bytes)",
                now.len()
            );
        }
        let inside: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            inside,
            vec!["allocation.csv".to_string()],
            "killed after {d:?}: --out holds {inside:?}"
        );
    }
    eprintln!(
        "full run {full:?}: {killed} killed ({mid_write} while staging), {kept_old} kept the previous file, {got_new} got the new one"
    );
    assert!(
        killed > 0 && kept_old > 0,
        "no run was interrupted (killed {killed}, kept {kept_old}, new {got_new})"
    );

    // a complete run writes the new file and cleans the staging folders killed runs left beside --out
    assert!(fundsim()
        .arg("allocate")
        .arg(&national)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap()
        .success());
    assert_eq!(std::fs::read(out.join("allocation.csv")).unwrap(), new);
    assert!(staging_in(&out).is_empty());
    if cfg!(target_os = "linux") {
        assert_eq!(staging_in(work), Vec::<String>::new(), "stale staging folders beside --out");
    }
}

/// A staging folder left by a dead process is removed by the next run into the same folder;
/// one whose process is still running (this test's) is not.
#[cfg(target_os = "linux")]
#[test]
fn stale_staging_folders_are_cleaned_and_live_ones_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let scenario = work.join("s");
    synth(&scenario, "8", "2", "3");
    // a pid that is not running: the largest pid the kernel hands out, plus one
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .map(|s| s.trim().parse().unwrap())
        .unwrap_or(4_194_304);
    let dead = work.join(format!(".out.fundsim-tmp-{}", max + 1));
    let live = work.join(format!(".out.fundsim-tmp-{}", std::process::id()));
    let other = work.join(".other.fundsim-tmp-1");
    for d in [&dead, &live, &other] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("allocation.csv"), "partial").unwrap();
    }
    assert!(fundsim()
        .arg("allocate")
        .arg(&scenario)
        .arg("--out")
        .arg(work.join("out"))
        .status()
        .unwrap()
        .success());
    assert!(!dead.exists(), "the dead run's staging folder is removed");
    assert!(live.exists(), "a running process's staging folder is kept");
    assert!(other.exists(), "another output folder's staging is not touched");
}

/// Every file under `dir` (relative path → bytes).
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// `report` writes many files (CSVs, charts in a subfolder, index.html, workbook.xlsx). Killed
/// at points spread over a run into a folder holding the previous report (of the same scenario
/// with another total, so every file differs), each file in `--out` is afterwards either the
/// previous one or the complete new one, byte for byte: never partial, never missing, and no
/// staging folder inside `--out`. A kill before the outputs are moved leaves the whole previous
/// report.
#[test]
fn a_killed_report_leaves_the_previous_outputs_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/gansu-2018");
    // the previous outputs: the same scenario with another total
    let other = work.join("other");
    std::fs::create_dir_all(&other).unwrap();
    for f in std::fs::read_dir(&scenario).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, other.join(f.file_name().unwrap())).unwrap();
    }
    let toml = std::fs::read_to_string(other.join("scenario.toml")).unwrap();
    let total_line = toml.lines().find(|l| l.trim_start().starts_with("total")).unwrap().to_string();
    std::fs::write(other.join("scenario.toml"), toml.replacen(&total_line, "total = \"3300000000\"", 1)).unwrap();
    let previous_dir = work.join("previous");
    assert!(fundsim()
        .arg("report")
        .arg(&other)
        .arg("--out")
        .arg(&previous_dir)
        .status()
        .unwrap()
        .success());
    let old = tree(&previous_dir);
    let expected_dir = work.join("expected");
    let t0 = Instant::now();
    assert!(fundsim()
        .arg("report")
        .arg(&scenario)
        .arg("--out")
        .arg(&expected_dir)
        .status()
        .unwrap()
        .success());
    let full = t0.elapsed();
    let new = tree(&expected_dir);
    assert_eq!(old.keys().collect::<Vec<_>>(), new.keys().collect::<Vec<_>>());
    assert!(old.len() > 10, "{} files", old.len());
    let differing = old.iter().filter(|(k, v)| new.get(*k) != Some(*v)).count();
    assert!(differing >= old.len() / 2, "only {differing} files differ between the two reports");

    let out = work.join("out");
    let (mut all_old, mut all_new, mut mixed, mut killed) = (0, 0, 0, 0);
    let mut plan: Vec<(Duration, bool)> = [5u32, 30, 60, 85, 95].iter().map(|&p| (full * p / 100, false)).collect();
    plan.extend([(Duration::from_micros(0), true), (Duration::from_micros(300), true)]);
    for (d, on_staging) in plan {
        let _ = std::fs::remove_dir_all(&out);
        copy_tree(&previous_dir, &out);
        let mut child = fundsim().arg("report").arg(&scenario).arg("--out").arg(&out).spawn().unwrap();
        if on_staging {
            let name = format!(".out.fundsim-tmp-{}", child.id());
            let give_up = Instant::now() + full * 3;
            while !work.join(&name).exists() && Instant::now() < give_up && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        std::thread::sleep(d);
        let _ = child.kill();
        if !child.wait().unwrap().success() {
            killed += 1;
        }
        let now = tree(&out);
        assert_eq!(
            now.keys().collect::<Vec<_>>(),
            old.keys().collect::<Vec<_>>(),
            "killed after {d:?}: the files in --out changed"
        );
        let (mut o, mut n) = (0, 0);
        for (name, bytes) in &now {
            if old.get(name) == new.get(name) {
                assert_eq!(Some(bytes), old.get(name), "killed after {d:?}: {name} changed");
                continue;
            }
            if Some(bytes) == old.get(name) {
                o += 1;
            } else if Some(bytes) == new.get(name) {
                n += 1;
            } else {
                panic!("killed after {d:?}: {name} is neither the previous file nor the complete new one");
            }
        }
        match (o, n) {
            (_, 0) => all_old += 1,
            (0, _) => all_new += 1,
            _ => mixed += 1,
        }
    }
    eprintln!("report {full:?}: {killed} killed; {all_old} kept the previous report, {all_new} got the new one, {mixed} a mix (killed while moving files)");
    assert!(killed > 0 && all_old > 0, "no run was interrupted before its outputs were moved");
    assert_eq!(staging_in(&out), Vec::<String>::new());
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// An `--out` that is an existing file is a usage error for every command that writes, the
/// file is left as it was, and nothing is staged beside it.
#[test]
fn an_output_folder_that_is_a_file_is_refused_by_every_writing_command() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = tmp.path().join("out");
    for (cmd, scenario) in [
        ("allocate", "scenarios/gansu-2018"),
        ("report", "scenarios/gansu-2018"),
        ("project", "scenarios/gansu-2018"),
        ("score", "scenarios/gansu-2018"),
        ("audit", "scenarios/union-2019"),
        ("infer-weights", "scenarios/gansu-2018"),
    ] {
        std::fs::write(&file, "precious").unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_fundsim"))
            .arg(cmd)
            .arg(root.join(scenario))
            .arg("--out")
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains("exists and is not a folder"), "{cmd}: {err}");
        assert!(!err.contains("panicked"), "{cmd}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious", "{cmd}");
        assert_eq!(staging_in(tmp.path()), Vec::<String>::new(), "{cmd}");
    }
}
