//! Arguments shared by the commands, and printing helpers.

use super::CliError;
use fundsim::scenario::Scenario;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

/// Output format of the main result on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// A short human summary.
    #[default]
    Text,
    /// The main result as JSON.
    Json,
}

/// Scenario and output options common to every command.
#[derive(Debug, Clone, clap::Args)]
pub struct ScenarioArgs {
    /// Scenario folder or its scenario.toml (default: the bundled scenarios/gansu-2018).
    pub scenario: Option<PathBuf>,
    /// Output folder (default: reports/<scenario-name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write CSV files with a UTF-8 byte-order mark, so Excel on Chinese Windows opens them right.
    #[arg(long)]
    pub excel_csv: bool,
}

/// The bundled default scenario: `scenarios/gansu-2018` under the current folder, else beside
/// the crate the binary was built from.
pub fn default_scenario() -> PathBuf {
    let local = PathBuf::from("scenarios/gansu-2018");
    if local.exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/gansu-2018")
}

/// Loads the scenario named by the arguments for a command that does not read the payment
/// ledger or the household register (see [`load_path`]); warnings go to stderr.
pub fn load(args: &ScenarioArgs) -> Result<Scenario, CliError> {
    let path = args.scenario.clone().unwrap_or_else(default_scenario);
    load_path(&path)
}

/// Loads the scenario named by the arguments with every file read into tables, the ledger and
/// register included (`validate`); warnings go to stderr.
pub fn load_full(args: &ScenarioArgs) -> Result<Scenario, CliError> {
    let path = args.scenario.clone().unwrap_or_else(default_scenario);
    let s = fundsim::scenario::load(&path)?;
    for w in &s.warnings {
        errln!("warning: {w}");
    }
    Ok(s)
}

/// Loads a scenario from a path; warnings go to stderr. A CSV payment ledger and household
/// register are listed as inputs but not read cell by cell: only `audit` uses them, and reads
/// their bytes itself ([`super::audit::load_for_audit`]). At national scale the synthetic ledger
/// (`fundsim synth`, about 140,000 payments) would otherwise triple the time and memory of
/// every other command.
pub fn load_path(path: &Path) -> Result<Scenario, CliError> {
    super::audit::load_for_audit(path)
}

/// The output folder: `--out`, or `reports/<scenario-name>/`.
pub fn out_dir(args: &ScenarioArgs, s: &Scenario) -> PathBuf {
    args.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&s.name))
}

/// Groups digits by thousands for the human summary (`1234567.5` → `1,234,567.5`).
pub fn grouped(d: Decimal) -> String {
    let s = d.normalize().to_string();
    let (sign, rest) = s.strip_prefix('-').map(|r| ("-", r)).unwrap_or(("", &s));
    let (int, frac) = rest.split_once('.').map(|(i, f)| (i, Some(f))).unwrap_or((rest, None));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}
