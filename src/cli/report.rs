//! `fundsim report S` (also `fundsim run S`): every step the scenario has data for, then all
//! tables as CSV, every chart as SVG and PNG under `charts/`, a self-contained `index.html` and
//! `workbook.xlsx`, written together (atomically) under `--out`. A CSV payment ledger is read
//! as bytes and checked in one pass (as `fundsim audit` does); `[report] baseline` names a
//! second scenario, loaded here, for the compare step.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::common::{self, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::audit::run::Sources;
use fundsim::error::InputErrors;
use fundsim::report::build::{baseline_path, build_with, phases, BuildError, BuildOptions, ReportInputs};
use fundsim::scenario::load::{load_lean, read_file};
use fundsim::scenario::Scenario;

/// Arguments of `report` / `run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
}

/// A progress bar on stderr, hidden when stderr is not a terminal (pipes, CI, tests).
fn progress_bar(len: usize) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(Some(u64::try_from(len).unwrap_or(0)), target);
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{bar:24}] {pos}/{len} {msg}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Loads the scenario (a CSV payment ledger and register as bytes, not tables: they are
/// checked in one pass by the audit step) and the `[report] baseline` scenario, if named.
fn load_inputs(a: &Args) -> Result<(Scenario, ReportInputs), CliError> {
    let path = a.common.scenario.clone().unwrap_or_else(common::default_scenario);
    let mut s = super::audit::load_for_audit(&path)?;
    let mut sources = Sources::default();
    let mut errs = InputErrors::default();
    if s.raw.audit.is_some() {
        for (role, rel, p) in &s.files.inputs {
            if role == "payments" || role == "households" {
                match read_file(p, rel) {
                    Ok(bytes) => sources.add(&s, role, rel, bytes),
                    Err(e) => errs.extend(e),
                }
            }
        }
    }
    s.tables.remove("payments");
    s.tables.remove("households");
    if !errs.is_empty() {
        return Err(errs.into());
    }
    let baseline = match baseline_path(&s) {
        None => None,
        Some((p, loc)) => match load_lean(&p) {
            Ok(b) => {
                for w in &b.warnings {
                    errln!("warning: baseline: {w}");
                }
                Some(b)
            }
            Err(e) => {
                let mut errs = InputErrors::one(loc, format!("the baseline scenario {} could not be loaded:", p.display()));
                errs.extend(e);
                return Err(errs.into());
            }
        },
    };
    Ok((
        s,
        ReportInputs {
            audit: Some(sources),
            baseline,
        },
    ))
}

/// Runs `report`.
pub fn run(a: Args) -> Result<(), CliError> {
    let (s, inputs) = load_inputs(&a)?;
    let pb = progress_bar(phases());
    let mut first = true;
    let result = build_with(
        &s,
        &inputs,
        &BuildOptions {
            excel_csv: a.common.excel_csv,
        },
        &mut |label| {
            if !first {
                pb.inc(1);
            }
            first = false;
            pb.set_message(label.to_string());
        },
    );
    pb.finish_and_clear();
    let report = result.map_err(|e| match e {
        BuildError::Input(e) => CliError::Input(e),
        BuildError::Report(e) => CliError::Usage(format!("the report could not be built: {e}")),
    })?;
    let mut out = Outputs::default();
    for (name, bytes) in &report.files {
        out.add(name.clone(), bytes.clone());
    }
    let dir = common::out_dir(&a.common, &s);
    let inputs: Vec<_> = s.files.inputs.iter().map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    if a.common.format == common::Format::Json {
        let tables: serde_json::Map<String, serde_json::Value> = report
            .tables
            .iter()
            .map(|t| (t.name.trim_end_matches(".csv").to_string(), t.to_json()))
            .collect();
        let skipped: serde_json::Map<String, serde_json::Value> = report
            .skipped
            .iter()
            .map(|(id, why)| (id.to_string(), serde_json::Value::String(why.clone())))
            .collect();
        outln!(
            "{:#}",
            serde_json::json!({
                "scenario": s.name,
                "out": dir.display().to_string(),
                "steps": report.ran,
                "skipped": skipped,
                "files": report.files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
                "tables": tables,
            })
        );
        return Ok(());
    }
    outln!("{} ({})", s.title, s.name);
    outln!("  steps run: {}", report.ran.join(", "));
    for (id, why) in &report.skipped {
        outln!("  skipped {id}: {why}");
    }
    outln!(
        "  wrote {} files under {} (open {})",
        written.len(),
        dir.display(),
        dir.join("index.html").display()
    );
    Ok(())
}
