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
