//! The command line: parse arguments, load, call the engine, write outputs, print a summary.
//! Exit codes: 0 success, 1 a check found problems the user asked to hear about, 2 bad input
//! or usage.

pub mod allocate;
pub mod audit;
pub mod check_weights;
pub mod common;
pub mod compare;
pub mod infer_weights;
pub mod plan_sample;
pub mod project;
pub mod report;
pub mod score;
pub mod sensitivity;
pub mod synth;
pub mod validate;
pub mod verify;
pub mod write;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// fundsim — factor-method allocation of poverty-alleviation and hardship funds, projections,
/// indicators, LP weight checks, audits and reports.
#[derive(Debug, Parser)]
#[command(name = "fundsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load and check a scenario and everything it refers to; print a summary.
    Validate(validate::Args),
    /// Factor-method allocation, all stages: allocation.csv.
    Allocate(allocate::Args),
    /// LP check of the stated weights against the [[check]] policy rules.
    CheckWeights(check_weights::Args),
    /// LP inference of the weights an actual distribution (actual.csv) implies.
    InferWeights(infer_weights::Args),
    /// What-if between two scenarios: winners, losers and each unit's change decomposed.
    Compare(compare::Args),
    /// Yearly exit-target projection: projection.csv (+ projection_mc.csv, files_check.csv).
    Project(project::Args),
    /// Every step the scenario has data for: all CSVs, charts (SVG, PNG), index.html and
    /// workbook.xlsx. `run` is the same command.
    #[command(visible_alias = "run")]
    Report(report::Args),
    /// Write a seeded synthetic scenario folder at any scale.
    Synth(synth::Args),
    /// Recompute vs actual, payment checks, findings and an evidence manifest.
    Audit(audit::Args),
    /// Re-run the audit recorded in a folder's manifest.json and compare the outputs.
    Verify(verify::Args),
    /// Survey indicators with intervals, exit check, scoring table and sampling error.
    Score(score::Args),
    /// Sample size for a margin of error and the chance of failing a unit at the threshold.
    PlanSample(plan_sample::Args),
    /// Monte Carlo over factor-data noise and weight uncertainty: bands and Sobol indices.
    Sensitivity(sensitivity::Args),
}

/// What went wrong, and the exit code it maps to.
#[derive(Debug)]
pub enum CliError {
    /// Bad input files: exit 2, every problem listed.
    Input(fundsim::error::InputErrors),
    /// Bad usage or an output that cannot be written: exit 2.
    Usage(String),
    /// The run found problems the user asked to be told about (e.g. `audit --fail-on-flag`,
    /// `verify` with differing outputs): exit 1.
    Found(String),
}

impl From<fundsim::error::InputErrors> for CliError {
    fn from(e: fundsim::error::InputErrors) -> Self {
        CliError::Input(e)
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Allocate(a) => allocate::run(a),
        Command::CheckWeights(a) => check_weights::run(a),
        Command::InferWeights(a) => infer_weights::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Project(a) => project::run(a),
        Command::Report(a) => report::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Score(a) => score::run(a),
        Command::PlanSample(a) => plan_sample::run(a),
        Command::Sensitivity(a) => sensitivity::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Input(e)) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(CliError::Usage(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(CliError::Found(m)) => {
            eprintln!("{m}");
            ExitCode::from(1)
        }
    }
}
