//! `fundsim verify DIR`: re-run the audit recorded in `DIR/manifest.json` into a temporary
//! folder and confirm that every output is byte-identical. Exit 0 when it is; 1 naming the
//! outputs that differ; 2 when an input file changed since the pack was made (naming it), or
//! the manifest cannot be read.

use super::audit;
use super::write::Outputs;
use super::CliError;
use fundsim::audit::manifest::{sha256_hex, Manifest};
use fundsim::error::{InputErrors, Location};
use std::path::{Path, PathBuf};

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An audit output folder (with manifest.json).
    dir: PathBuf,
    /// The scenario folder, when it moved since the pack was made (default: the recorded path).
    #[arg(long)]
    scenario: Option<PathBuf>,
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

/// Runs `verify`.
pub fn run(a: Args) -> Result<(), CliError> {
    let mpath = a.dir.join("manifest.json");
    let bytes = std::fs::read(&mpath).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", mpath.display())))?;
    let m = Manifest::from_json(&bytes).map_err(|e| CliError::Usage(format!("{} is not a fundsim manifest: {e}", mpath.display())))?;
    let scenario_path = a.scenario.clone().unwrap_or_else(|| PathBuf::from(&m.scenario.path));
    let scen_dir = if scenario_path.is_dir() {
        scenario_path.clone()
    } else {
        scenario_path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    };
    // 1. inputs unchanged?
    let mut errs = InputErrors::default();
    for i in &m.inputs {
        let p = match (&a.scenario, &i.path) {
            (None, Some(p)) => PathBuf::from(p),
            _ => scen_dir.join(&i.file),
        };
        match std::fs::read(&p) {
            Ok(b) => {
                let h = sha256_hex(&b);
                if h != i.sha256 {
                    errs.push(
                        Location::file(&i.file),
                        format!(
                            "input changed since the pack was made: sha256 was {}…, now {}… ({})",
                            short(&i.sha256),
                            short(&h),
                            p.display()
                        ),
                    );
                }
            }
            Err(e) => errs.push(
                Location::file(&i.file),
                format!("input of the pack cannot be read at {}: {e}", p.display()),
            ),
        }
    }
    if !errs.is_empty() {
        return Err(errs.into());
    }
    let excel_csv = m.options.get("excel_csv").is_some_and(|v| v == "true");
    // 2. re-run into a temporary folder
    let prod = audit::produce(&scenario_path, excel_csv)?;
    let now: Vec<(String, String)> = prod.inputs.iter().map(|i| (i.file.clone(), i.sha256.clone())).collect();
    let then: Vec<(String, String)> = m.inputs.iter().map(|i| (i.file.clone(), i.sha256.clone())).collect();
    if now != then {
        let mut errs = InputErrors::default();
        for (f, _) in now.iter().filter(|x| !then.iter().any(|y| y.0 == x.0)) {
            errs.push(Location::file(f), "input file not in the pack (added since it was made)");
        }
        for (f, _) in then.iter().filter(|x| !now.iter().any(|y| y.0 == x.0)) {
            errs.push(Location::file(f), "input file of the pack is no longer read");
        }
        if errs.is_empty() {
            errs.push(Location::file(&m.scenario.path), "the inputs read differ from the pack's");
        }
        return Err(errs.into());
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = std::env::temp_dir().join(format!("fundsim-verify-{}-{nanos}", std::process::id()));
    let mut out = Outputs::default();
    for (n, b) in &prod.files {
        out.add(n.clone(), b.clone());
    }
    let result = out.commit(&tmp, &[]).and_then(|_| compare(&a.dir, &tmp, &m, &prod.files));
    let _ = std::fs::remove_dir_all(&tmp);
    let differ = result?;
    if !differ.is_empty() {
        return Err(CliError::Found(format!(
            "{} output(s) differ from a fresh run of the recorded command: {}",
            differ.len(),
            differ.join("; ")
        )));
    }
    outln!(
        "verified {}: {} input(s) unchanged, {} output(s) byte-identical to a fresh run",
        a.dir.display(),
        m.inputs.len(),
        m.outputs.len()
    );
    Ok(())
}

/// Names of outputs that differ: pack file vs fresh run, pack file vs manifest hash, outputs
/// missing on either side.
fn compare(dir: &Path, fresh: &Path, m: &Manifest, produced: &[(String, Vec<u8>)]) -> Result<Vec<String>, CliError> {
    let mut differ = Vec::new();
    for o in &m.outputs {
        let packed = std::fs::read(dir.join(&o.file));
        let rerun = std::fs::read(fresh.join(&o.file));
        match (packed, rerun) {
            (Err(_), _) => differ.push(format!("{} (missing from the pack)", o.file)),
            (_, Err(_)) => differ.push(format!("{} (not produced by the re-run)", o.file)),
            (Ok(p), Ok(r)) => {
                if sha256_hex(&p) != o.sha256 {
                    differ.push(format!("{} (changed since the manifest was written)", o.file));
                } else if p != r {
                    differ.push(format!("{} (differs from the re-run)", o.file));
                }
            }
        }
    }
    for (n, _) in produced {
        if !m.outputs.iter().any(|o| &o.file == n) {
            differ.push(format!("{n} (produced by the re-run, not in the manifest)"));
        }
    }
    Ok(differ)
}
