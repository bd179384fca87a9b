//! `fundsim report S` (also `fundsim run S`): every step the scenario has data for, then all
//! tables as CSV, every chart as SVG and PNG under `charts/`, a self-contained `index.html` and
//! `workbook.xlsx`, written together (atomically) under `--out`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::common::{self, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::report::build::{build, phases, BuildError, BuildOptions};

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

/// Runs `report`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load(&a.common)?;
    let pb = progress_bar(phases());
    let mut first = true;
    let result = build(
        &s,
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
