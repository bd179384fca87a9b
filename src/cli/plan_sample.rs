//! `fundsim plan-sample`: the sample size per unit for a margin of error (with a design
//! effect for cluster sampling by village), and the chance that a unit exactly at the
//! threshold, or at half of it, is failed with that sample (SPEC §5, issue 4).
//!
//! `n = ⌈deff · z² · p(1 − p) / e²⌉` (normal approximation) and the Wilson-based `n`; the
//! failing chances are exact binomial probabilities of a failing point verdict with `n`, and
//! the share of seeded simulated samples that fail (see `fundsim::score::plan`).

use super::common::Format;
use super::CliError;
use fundsim::score::{plan_sample, Comparison, Direction, SamplePlanInput, ThresholdRule};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

/// Which side of the threshold passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DirArg {
    /// Lower rates pass (missed assessment, wrong exit).
    Lower,
    /// Higher rates pass (satisfaction).
    Higher,
}

/// Whether a rate exactly at the threshold passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CmpArg {
    /// The threshold itself fails (the national rule).
    Strict,
    /// The threshold itself passes.
    Inclusive,
}

/// Arguments of `plan-sample`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Margin of error (half-width of the interval), e.g. 0.02.
    #[arg(long, default_value_t = 0.02)]
    margin: f64,
    /// Confidence level.
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
    /// Expected rate.
    #[arg(long, default_value_t = 0.02)]
    rate: f64,
    /// Design effect (1 = simple random sampling; cluster sampling by village: 1.5–2).
    #[arg(long, default_value_t = 1.0)]
    deff: f64,
    /// Threshold of the verdict rule (default: the expected rate).
    #[arg(long)]
    threshold: Option<String>,
    /// Which side passes.
    #[arg(long, value_enum, default_value_t = DirArg::Lower)]
    direction: DirArg,
    /// Strict (national) or inclusive comparison.
    #[arg(long, value_enum, default_value_t = CmpArg::Strict)]
    comparison: CmpArg,
    /// Simulation draws.
    #[arg(long, default_value_t = 100_000)]
    draws: u32,
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs `plan-sample`.
pub fn run(a: Args) -> Result<(), CliError> {
    let threshold = match &a.threshold {
        Some(t) => t
            .trim()
            .parse::<Decimal>()
            .map_err(|_| CliError::Usage(format!("--threshold: `{t}` is not a decimal number")))?,
        None => Decimal::from_f64(a.rate)
            .map(|d| d.normalize())
            .ok_or_else(|| CliError::Usage(format!("--rate: {} is not a usable number", a.rate)))?,
    };
    if threshold < Decimal::ZERO || threshold > Decimal::ONE {
        return Err(CliError::Usage(format!("--threshold {threshold} is outside [0, 1]")));
    }
    let rule = ThresholdRule {
        threshold,
        comparison: match a.comparison {
            CmpArg::Strict => Comparison::Strict,
            CmpArg::Inclusive => Comparison::Inclusive,
        },
        direction: match a.direction {
            DirArg::Lower => Direction::LowerBetter,
            DirArg::Higher => Direction::HigherBetter,
        },
    };
    let input = SamplePlanInput {
        margin: a.margin,
        confidence: a.confidence,
        expected_rate: a.rate,
        design_effect: a.deff,
        rule,
        draws: a.draws,
        seed: a.seed,
    };
    let p = plan_sample(&input).map_err(|e| CliError::Usage(e.to_string()))?;
    if a.format == Format::Json {
        let j = serde_json::json!({
            "margin": a.margin, "confidence": a.confidence, "rate": a.rate, "deff": a.deff,
            "threshold": threshold.to_string(), "comparison": rule.comparison.as_str(),
            "z": p.z, "n": p.n, "n_wilson": p.n_wilson, "draws": a.draws, "seed": a.seed,
            "at_threshold": {"true_rate": p.at_threshold.true_rate, "exact": p.at_threshold.exact, "simulated": p.at_threshold.simulated},
            "at_half": {"true_rate": p.at_half.true_rate, "exact": p.at_half.exact, "simulated": p.at_half.simulated},
        });
        outln!("{j:#}");
        return Ok(());
    }
    let op = match (rule.direction, rule.comparison) {
        (Direction::LowerBetter, Comparison::Strict) => "<",
        (Direction::LowerBetter, Comparison::Inclusive) => "<=",
        (Direction::HigherBetter, Comparison::Strict) => ">",
        (Direction::HigherBetter, Comparison::Inclusive) => ">=",
    };
    outln!(
        "sample size per unit: n = {} (normal approximation, z = {:.4}, margin {}, rate {}, design effect {}); Wilson-based n = {}",
        p.n,
        p.z,
        a.margin,
        a.rate,
        a.deff,
        p.n_wilson
    );
    outln!("pass rule: rate {op} {threshold}");
    outln!(
        "  a unit exactly at the threshold ({}) is failed with probability {:.4} (exact), {:.4} simulated ({} draws, seed {})",
        p.at_threshold.true_rate,
        p.at_threshold.exact,
        p.at_threshold.simulated,
        a.draws,
        a.seed
    );
    outln!(
        "  a unit at half the threshold ({}) is failed with probability {:.4} (exact), {:.4} simulated",
        p.at_half.true_rate,
        p.at_half.exact,
        p.at_half.simulated
    );
    Ok(())
}
