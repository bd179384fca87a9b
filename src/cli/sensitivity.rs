//! `fundsim sensitivity S --draws N --seed S`: Monte Carlo over factor-data noise and weight
//! uncertainty → `sensitivity.csv` (bands per unit) and `sensitivity_indices.csv` (Sobol
//! indices per unit and input group).

use super::common::{self, grouped, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::error::{InputErrors, Location};
use fundsim::scenario::Scenario;
use fundsim::sensitivity::{self, Options, Sensitivity};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Arguments of `sensitivity`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
    /// Base draws N (the run evaluates the model N × (groups + 2) times); default from
    /// `[sensitivity] draws`, else 1000.
    #[arg(long)]
    draws: Option<usize>,
    /// Seed; default from `[sensitivity] seed`, else 1.
    #[arg(long)]
    seed: Option<u64>,
}

/// Runs `sensitivity`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load(&a.common)?;
    let Some(spec) = sensitivity::spec(&s)? else {
        return Err(CliError::Input(InputErrors::one(
            Location::at(&s.toml_file, None, "sensitivity"),
            "no [sensitivity] section: say what is uncertain, e.g.\n  [sensitivity]\n  noise = { incidence = \"0.10\", income = \"0.05\" }\n  concentration = \"200\"",
        )));
    };
    let draws = a.draws.or(spec.draws).unwrap_or(1000);
    if draws < 2 {
        return Err(CliError::Usage(format!("--draws must be at least 2, got {draws}")));
    }
    let seed = a.seed.or(spec.seed).unwrap_or(1);
    let alloc = fundsim::alloc::allocate(&s)?;
    let bar = ProgressBar::new(draws as u64);
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} draws ({eta} left)") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix("sensitivity");
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let started = std::time::Instant::now();
    let r = sensitivity::run(&s, &spec, &alloc, Options { draws, seed }, &|k| bar.inc(k))?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let bands = sensitivity::bands_table(&s, &r);
    let indices = sensitivity::indices_table(&s, &r);
    let mut out = Outputs::default();
    out.add(bands.name.clone(), bands.to_csv(a.common.excel_csv));
    out.add(indices.name.clone(), indices.to_csv(a.common.excel_csv));
    let dir = common::out_dir(&a.common, &s);
    let inputs: Vec<_> = s.files.inputs.iter().map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    if a.common.format == common::Format::Json {
        let summary = serde_json::json!({
            "scenario": s.name,
            "draws": r.draws,
            "evaluations": r.evaluations,
            "seed": r.seed,
            "groups": r.groups.iter().map(|g| g.name()).collect::<Vec<_>>(),
            "overall": r.groups.iter().zip(&r.overall).map(|(g, i)| serde_json::json!({
                "group": g.name(),
                "first_order": finite(i.first),
                "total": finite(i.total),
            })).collect::<Vec<_>>(),
            "degenerate_evaluations": r.degenerate,
            "max_model_gap": r.max_model_gap,
            "units": bands.to_json(),
            "indices": indices.to_json(),
        });
        outln!("{summary:#}");
        return Ok(());
    }
    print_summary(&s, &r, elapsed);
    for w in written {
        outln!("wrote {}", w.display());
    }
    Ok(())
}

fn finite(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else {
        serde_json::Value::Null
    }
}

/// Prints what was varied, the overall indices, the widest bands and the floor/cap crossings.
fn print_summary(s: &Scenario, r: &Sensitivity, elapsed: std::time::Duration) {
    outln!(
        "{} ({}): {} draws, {} model evaluations, seed {}",
        s.title,
        s.name,
        r.draws,
        r.evaluations,
        r.seed
    );
    // the elapsed time goes to stderr only when it is a terminal, so outputs stay reproducible
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        errln!("  ({:.1} s)", elapsed.as_secs_f64());
    }
    let last = s.stages.len();
    let level = s.stages.last().map(|st| st.level.as_str()).unwrap_or("");
    outln!("  share of the variance of {level} amounts (first-order / total):");
    for (g, i) in r.groups.iter().zip(&r.overall) {
        let what = match g {
            sensitivity::Group::Noise(n) => format!("±{:.0}% error in {}", n.rel_error * 100.0, n.column),
            sensitivity::Group::Weights { concentration } => format!("weights (Dirichlet, concentration {concentration})"),
        };
        outln!("    {:<28} {:>6} / {:>6}   {what}", g.name(), pct(i.first), pct(i.total));
    }
    let h = &s.hierarchy;
    let name = |u: usize| h.unit(u).map(|x| format!("{} {}", x.id, x.name)).unwrap_or_default();
    let mut wide: Vec<&sensitivity::UnitBand> = r.units.iter().filter(|u| u.stage == last && u.mean > 0.0).collect();
    wide.sort_by(|a, b| {
        let (ra, rb) = ((a.p95 - a.p05) / a.mean, (b.p95 - b.p05) / b.mean);
        rb.total_cmp(&ra).then(a.unit.cmp(&b.unit))
    });
    if !wide.is_empty() {
        outln!("  widest 90% bands ({level}):");
        for u in wide.iter().take(5) {
            outln!(
                "    {:<24} {} ({} – {}), rank {} ({}–{})",
                name(u.unit),
                grouped(u.amount),
                round(u.p05),
                round(u.p95),
                u.rank,
                u.rank_best,
                u.rank_worst
            );
        }
    }
    let at_floor = r
        .units
        .iter()
        .filter(|u| u.stage == last && u.p_floor > 0.0 && u.p_floor < 1.0)
        .count();
    let at_cap = r.units.iter().filter(|u| u.stage == last && u.p_cap > 0.0 && u.p_cap < 1.0).count();
    outln!("  {at_floor} {level} unit(s) sometimes at a floor, {at_cap} sometimes at a cap");
    if r.degenerate > 0 {
        outln!(
            "  {} evaluation(s) with infeasible floors or caps, scaled to fit (the exact engine would reject those data)",
            r.degenerate
        );
    }
    outln!(
        "  f64 model without noise vs the exact allocation: largest gap {:.2} (the rounding)",
        r.max_model_gap
    );
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "–".into()
    }
}

fn round(x: f64) -> String {
    grouped(rust_decimal::Decimal::from_f64_retain(x.round()).unwrap_or_default().normalize())
}
