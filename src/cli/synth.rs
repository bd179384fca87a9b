//! `fundsim synth --counties N --cities M --seed S --out DIR`: a complete synthetic scenario
//! folder (see [`fundsim::synth::folder`]): `scenario.toml`, `units.csv`, `factors.csv`,
//! `plan.csv`, `survey.csv`, `actual.csv`, `households.csv`, `payments.csv` and `planted.csv`.

use super::write::Outputs;
use super::CliError;
use fundsim::synth::{folder, FolderOptions, SynthOptions, DEFAULT_HOUSEHOLDS_PER_COUNTY, MAX_HOUSEHOLDS_PER_COUNTY};
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
    /// Households in the register (households.csv); the ledger (payments.csv) has about 4.5
    /// payments per household. Default: 10 per county. 0: no register or ledger.
    #[arg(long)]
    ledger_households: Option<usize>,
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
    let max = a.counties.saturating_mul(MAX_HOUSEHOLDS_PER_COUNTY);
    if a.ledger_households.is_some_and(|n| n > max) {
        return Err(CliError::Usage(format!(
            "--ledger-households: at most {MAX_HOUSEHOLDS_PER_COUNTY} per county ({max} for {} counties)",
            a.counties
        )));
    }
    let o = SynthOptions {
        cities: a.cities,
        counties: a.counties,
        seed: a.seed,
        ..Default::default()
    };
    let f = folder(
        &o,
        &FolderOptions {
            ledger_households: a.ledger_households,
        },
    )?;
    let mut out = Outputs::default();
    for (name, text) in f.files() {
        out.add(name, text.as_bytes().to_vec());
    }
    let written = out.commit(&a.out, &[])?;
    outln!(
        "synthetic scenario: {} cities, {} counties, seed {}, {} households in the register → {}",
        a.cities,
        a.counties,
        a.seed,
        a.ledger_households.unwrap_or(a.counties * DEFAULT_HOUSEHOLDS_PER_COUNTY),
        a.out.display()
    );
    for w in written {
        outln!("wrote {}", w.display());
    }
    Ok(())
}
