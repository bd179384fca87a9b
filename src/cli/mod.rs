//! The command line: parse arguments, load, call the engine, write outputs, print a summary.
//! Exit codes: 0 success, 1 a check found problems the user asked to hear about, 2 bad input
//! or usage.
//!
//! Standard output closed early (`fundsim allocate --format json | head -1`) is not an error:
//! every print goes through [`out_fmt`], which stops printing quietly on a broken pipe
//! (EPIPE) while the command runs to its end, writes its output files and exits with its own
//! code (0 on success), with no message. Any other failure to write standard output (a full
//! disk behind a redirection) is reported once and turns a success into exit code 2.

/// `println!` that does not panic when standard output is closed (see [`out_fmt`]).
macro_rules! outln {
    () => {
        $crate::cli::out_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that does not panic when standard output is closed (see [`out_fmt`]).
#[allow(unused_macros)]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out_fmt(format_args!($($arg)*))
    };
}

/// `eprintln!` that does not panic when standard error is closed (see [`err_fmt`]).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::err_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

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
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Standard output was closed by its reader (broken pipe): nothing more is printed.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Writing standard output failed for another reason (reported once, exit code 2).
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output. A broken pipe (the reader went away, as with `| head -1`) stops
/// all further printing quietly; the command goes on and exits with its own code. Any other
/// write error is reported on standard error once and makes the exit code 2.
pub fn out_fmt(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if STDOUT_CLOSED.load(Ordering::Relaxed) || STDOUT_FAILED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        } else {
            STDOUT_FAILED.store(true, Ordering::Relaxed);
            err_fmt(format_args!("error: cannot write to standard output: {e}\n"));
        }
    }
}

/// Writes to standard error, ignoring failures (there is nowhere left to report them).
pub fn err_fmt(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Flushes standard output at the end of a run: a broken pipe is quiet, another error counts
/// as a failed write (see [`out_fmt`]).
fn flush_stdout() {
    use std::io::Write;
    if STDOUT_CLOSED.load(Ordering::Relaxed) || STDOUT_FAILED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = std::io::stdout().lock().flush() {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        } else {
            STDOUT_FAILED.store(true, Ordering::Relaxed);
            err_fmt(format_args!("error: cannot write to standard output: {e}\n"));
        }
    }
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
    flush_stdout();
    match result {
        Ok(()) if STDOUT_FAILED.load(Ordering::Relaxed) => ExitCode::from(2),
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Input(e)) => {
            errln!("{e}");
            ExitCode::from(2)
        }
        Err(CliError::Usage(m)) => {
            errln!("error: {m}");
            ExitCode::from(2)
        }
        Err(CliError::Found(m)) => {
            errln!("{m}");
            ExitCode::from(1)
        }
    }
}
