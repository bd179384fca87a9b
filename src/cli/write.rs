//! Atomic outputs: every file of a run is written into a staging folder beside `--out` and
//! moved into place only when the whole run succeeded, so an interrupted or failed run leaves
//! the previous outputs intact. An output never replaces an input file.

use super::CliError;
use std::path::{Path, PathBuf};

/// Files produced by a run, written together at the end.
#[derive(Debug, Default)]
pub struct Outputs {
    files: Vec<(String, Vec<u8>)>,
}

impl Outputs {
    /// Adds a file (name relative to the output folder; may contain one subfolder).
    pub fn add(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.files.push((name.into(), bytes));
    }

    /// Writes every file into a staging folder beside `out`, then renames each into `out`.
    /// Returns the paths written. `inputs` are files that must never be overwritten.
    pub fn commit(self, out: &Path, inputs: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
        if let Ok(meta) = std::fs::metadata(out) {
            if !meta.is_dir() {
                return Err(CliError::Usage(format!(
                    "output folder {} exists and is not a folder",
                    out.display()
                )));
            }
        }
        std::fs::create_dir_all(out).map_err(|e| CliError::Usage(format!("cannot create output folder {}: {e}", out.display())))?;
        let canon_out = out
            .canonicalize()
            .map_err(|e| CliError::Usage(format!("cannot resolve {}: {e}", out.display())))?;
        let canon_inputs: Vec<PathBuf> = inputs.iter().filter_map(|p| p.canonicalize().ok()).collect();
        for (name, _) in &self.files {
            let target = canon_out.join(name);
            if canon_inputs.iter().any(|i| i == &target) {
                return Err(CliError::Usage(format!(
                    "refusing to overwrite the input file {}: choose another --out",
                    target.display()
                )));
            }
        }
        let parent = canon_out.parent().map(Path::to_path_buf).unwrap_or_else(|| canon_out.clone());
        let base = canon_out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let staging = parent.join(format!(".{base}.fundsim-tmp-{}", std::process::id()));
        remove_stale_staging(&parent, &base);
        let _ = std::fs::remove_dir_all(&staging);
        let result = (|| -> Result<Vec<PathBuf>, CliError> {
            std::fs::create_dir_all(&staging)
                .map_err(|e| CliError::Usage(format!("cannot create staging folder {}: {e}", staging.display())))?;
            for (name, bytes) in &self.files {
                let p = staging.join(name);
                if let Some(d) = p.parent() {
                    std::fs::create_dir_all(d).map_err(|e| CliError::Usage(format!("cannot write {}: {e}", d.display())))?;
                }
                std::fs::write(&p, bytes).map_err(|e| CliError::Usage(format!("cannot write {}: {e}", p.display())))?;
            }
            let mut written = Vec::new();
            for (name, _) in &self.files {
                let from = staging.join(name);
                let to = out.join(name);
                if let Some(d) = to.parent() {
                    std::fs::create_dir_all(d).map_err(|e| CliError::Usage(format!("cannot write {}: {e}", d.display())))?;
                }
                std::fs::rename(&from, &to).map_err(|e| CliError::Usage(format!("cannot move {} into place: {e}", to.display())))?;
                written.push(to);
            }
            Ok(written)
        })();
        let _ = std::fs::remove_dir_all(&staging);
        result
    }
}

/// Removes the staging folders of the same output folder that killed runs left beside it: those
/// named `.{base}.fundsim-tmp-{pid}` whose process is no longer running (checked on Linux
/// through `/proc`; elsewhere they are left alone).
fn remove_stale_staging(parent: &Path, base: &str) {
    let prefix = format!(".{base}.fundsim-tmp-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let running = !cfg!(target_os = "linux") || Path::new("/proc").join(pid.to_string()).exists();
        if pid != std::process::id() && !running {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
