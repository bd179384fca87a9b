//! `fundsim compare S1 S2`: what-if between two formulas or two years' data → `compare.csv`,
//! with winners and losers and each unit's change decomposed (data, formula, total,
//! floors/caps) — see `fundsim::compare`.

use super::common::{self, grouped, Format};
use super::write::Outputs;
use super::CliError;
use fundsim::compare::{compare, compare_table};
use std::path::PathBuf;

/// Arguments of `compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The baseline scenario.
    s1: PathBuf,
    /// The alternative scenario.
    s2: PathBuf,
    /// Output folder (default: reports/<s1-name>-vs-<s2-name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write CSV files with a UTF-8 byte-order mark.
    #[arg(long)]
    excel_csv: bool,
    /// How many winners and losers to list.
    #[arg(long, default_value_t = 5)]
    top: usize,
}

/// Runs `compare`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s1 = common::load_path(&a.s1)?;
    let s2 = common::load_path(&a.s2)?;
    let c = compare(&s1, &s2)?;
    let t = compare_table(&c);
    let mut out = Outputs::default();
    out.add(t.name.clone(), t.to_csv(a.excel_csv));
    for (name, bytes) in charts(&s1, &s2, &c)? {
        out.add(name, bytes);
    }
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-vs-{}", s1.name, s2.name)));
    let inputs: Vec<_> = s1.files.inputs.iter().chain(&s2.files.inputs).map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    if a.format == Format::Json {
        outln!(
            "{:#}",
            serde_json::json!({"compare": t.to_json(), "decomposition_note": c.decomposition_note})
        );
        return Ok(());
    }
    outln!("compare: {} ({}) → {} ({})", s1.title, s1.name, s2.title, s2.name);
    let mut by_change: Vec<_> = c.units.iter().map(|u| (u.amount_2 - u.amount_1, u)).collect();
    by_change.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.id.cmp(&y.1.id)));
    let winners = by_change.iter().filter(|x| x.0 > rust_decimal::Decimal::ZERO).count();
    let losers = by_change.iter().filter(|x| x.0 < rust_decimal::Decimal::ZERO).count();
    outln!(
        "  {winners} units gain, {losers} lose, {} unchanged",
        by_change.len() - winners - losers
    );
    let line = |(d, u): &(rust_decimal::Decimal, &fundsim::compare::UnitChange)| {
        let parts = u
            .parts
            .map(|p| {
                format!(
                    "  [data {}, formula {}, total {}, floors/caps {}]",
                    grouped(p[0]),
                    grouped(p[1]),
                    grouped(p[2]),
                    grouped(p[3])
                )
            })
            .unwrap_or_default();
        outln!("    {} {:<10} {:>16}{parts}", u.id, u.name, grouped(*d));
    };
    outln!("  largest gains:");
    by_change
        .iter()
        .take(a.top)
        .filter(|x| x.0 > rust_decimal::Decimal::ZERO)
        .for_each(line);
    outln!("  largest losses:");
    by_change
        .iter()
        .rev()
        .take(a.top)
        .filter(|x| x.0 < rust_decimal::Decimal::ZERO)
        .for_each(line);
    if let Some(n) = &c.decomposition_note {
        outln!("  note: {n}");
    }
    for w in written {
        outln!("wrote {}", w.display());
    }
    Ok(())
}

/// The winners-and-losers chart and the waterfalls of the change decomposition
/// (`fundsim::report::build::compare_charts`), rendered as SVG and PNG.
fn charts(
    s1: &fundsim::scenario::Scenario,
    s2: &fundsim::scenario::Scenario,
    c: &fundsim::compare::Comparison,
) -> Result<Vec<(String, Vec<u8>)>, CliError> {
    let err = |e: fundsim::report::ReportError| CliError::Usage(format!("chart: {e}"));
    let mut out = Vec::new();
    for (stem, chart, frame) in fundsim::report::build::compare_charts(s1, s2, c) {
        out.push((format!("charts/{stem}.svg"), chart.render_svg(&frame).map_err(err)?.into_bytes()));
        out.push((format!("charts/{stem}.png"), chart.render_png(&frame).map_err(err)?));
    }
    Ok(out)
}
