//! The evidence manifest (`manifest.json`) of an audit output folder: the fundsim version, the
//! command and options, the SHA-256 of every input file and of every output file. `fundsim
//! verify DIR` re-runs the command and compares. Pure data and hashing: no I/O here.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Role of an input (`scenario`, `units`, `factors`, `actual`, `payments`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Name relative to the scenario folder (inputs) or the output folder (outputs).
    pub file: String,
    /// Full path when the pack was made (inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

impl FileEntry {
    /// An entry for bytes.
    pub fn new(role: Option<&str>, file: &str, path: Option<&str>, bytes: &[u8]) -> FileEntry {
        FileEntry {
            role: role.map(str::to_string),
            file: file.to_string(),
            path: path.map(str::to_string),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

/// The scenario of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestScenario {
    /// `[scenario] name`.
    pub name: String,
    /// The scenario path as given on the command line, made absolute.
    pub path: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of fundsim that wrote the pack.
    pub fundsim_version: String,
    /// The command, as it can be typed again (`fundsim audit PATH --out DIR …`).
    pub command: Vec<String>,
    /// The scenario.
    pub scenario: ManifestScenario,
    /// Options that shape the outputs (`excel_csv`, `fail_on_flag`, the resolved `[audit]`
    /// settings).
    pub options: BTreeMap<String, String>,
    /// Every input file read, `scenario.toml` first.
    pub inputs: Vec<FileEntry>,
    /// Every output file except the manifest itself.
    pub outputs: Vec<FileEntry>,
}

impl Manifest {
    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Reads a manifest; the error says what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_is_the_textbook_value() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn manifest_round_trips() {
        let m = Manifest {
            fundsim_version: "0.1.0".into(),
            command: vec!["fundsim".into(), "audit".into(), "/x".into()],
            scenario: ManifestScenario {
                name: "t".into(),
                path: "/x".into(),
            },
            options: [("excel_csv".to_string(), "false".to_string())].into_iter().collect(),
            inputs: vec![FileEntry::new(Some("scenario"), "scenario.toml", Some("/x/scenario.toml"), b"a")],
            outputs: vec![FileEntry::new(None, "audit.csv", None, b"b")],
        };
        let j = m.to_json();
        assert_eq!(Manifest::from_json(&j).unwrap(), m);
        assert!(Manifest::from_json(b"{").is_err());
    }
}
