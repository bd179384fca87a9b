//! `fundsim synth --counties N --cities M --seed S --out DIR`: a complete synthetic scenario.

use super::write::Outputs;
use super::CliError;
use fundsim::synth::{files, SynthOptions};
use std::path::PathBuf;

/// Arguments of `synth`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of counties.
    #[arg(long, default_value_t = 2850)]
    counties: usize,
    /// Number of cities.
    #[arg(long, default_value_t = 330)]
    cities: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder (the new scenario).
    #[arg(long)]
    out: PathBuf,
}

/// Runs `synth`.
pub fn run(a: Args) -> Result<(), CliError> {
    if a.cities == 0 || a.counties < a.cities {
        return Err(CliError::Usage(format!(
            "need at least one city and at least as many counties as cities (got {} cities, {} counties)",
            a.cities, a.counties
        )));
    }
    let o = SynthOptions {
        cities: a.cities,
        counties: a.counties,
        seed: a.seed,
        ..Default::default()
    };
    let f = files(&o);
    let mut out = Outputs::default();
    out.add("scenario.toml", f.scenario_toml.into_bytes());
    out.add("units.csv", f.units_csv.into_bytes());
    out.add("factors.csv", f.factors_csv.into_bytes());
    let written = out.commit(&a.out, &[])?;
    outln!(
        "synthetic scenario: {} cities, {} counties, seed {} → {}",
        a.cities,
        a.counties,
        a.seed,
        a.out.display()
    );
    for w in written {
        outln!("wrote {}", w.display());
    }
    Ok(())
}
