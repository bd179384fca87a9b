//! `fundsim infer-weights S`: the weights an actual distribution (`actual.csv`) implies
//! (SPEC §6) → `inferred_weights.csv`, `residuals.csv`.

use super::common::{self, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::lpcheck::bind::{infer_tables, run_infer, select, InferReport};

/// Arguments of `infer-weights`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
    /// Stage of the pool (default: the last).
    #[arg(long)]
    stage: Option<usize>,
    /// Pool id (default: the first pool of the stage).
    #[arg(long)]
    pool: Option<String>,
    /// Flag a unit when |actual − fitted| exceeds this fraction of the fitted share …
    #[arg(long, default_value_t = 0.01)]
    rel_tol: f64,
    /// … or this absolute share, whichever is larger (default: one rounding unit as a share of the pool).
    #[arg(long)]
    abs_tol: Option<f64>,
    /// Exit with code 1 when any unit is flagged.
    #[arg(long)]
    fail_on_flag: bool,
}

/// Runs `infer-weights`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load(&a.common)?;
    let alloc = fundsim::alloc::allocate(&s)?;
    let sel = select(&s, &alloc, a.stage, a.pool.as_deref())?;
    let r = run_infer(&s, &alloc, &sel, a.rel_tol, a.abs_tol, true)?;
    let (iw, rs) = infer_tables(&r);
    let mut out = Outputs::default();
    out.add(iw.name.clone(), iw.to_csv(a.common.excel_csv));
    out.add(rs.name.clone(), rs.to_csv(a.common.excel_csv));
    let dir = common::out_dir(&a.common, &s);
    let inputs: Vec<_> = s.files.inputs.iter().map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    let flagged = r.inference.residuals.iter().filter(|x| x.flagged).count();
    if a.common.format == common::Format::Json {
        outln!(
            "{:#}",
            serde_json::json!({"inferred_weights": iw.to_json(), "residuals": rs.to_json(), "formula_share": r.inference.l1.formula_share, "flagged": flagged})
        );
    } else {
        print_summary(&s, &r, &sel.pool.id, sel.stage);
        for w in written {
            outln!("wrote {}", w.display());
        }
    }
    if a.fail_on_flag && flagged > 0 {
        return Err(CliError::Found(format!("{flagged} unit(s) are not explained by any weights")));
    }
    Ok(())
}

/// Prints stated vs inferred weights, which weights the data pin down, and the flagged units.
pub fn print_summary(s: &fundsim::scenario::Scenario, r: &InferReport, pool: &str, stage: usize) {
    let inf = &r.inference;
    outln!("infer-weights: stage {stage}, pool `{pool}`, {} units fitted", inf.residuals.len());
    outln!("  share of the pool that follows the formula (L1): {:.4}", inf.l1.formula_share);
    outln!(
        "  {:<14} {:>8} {:>8} {:>8}   range within tolerance",
        "factor",
        "stated",
        "L1",
        "L∞"
    );
    for (k, (name, stated)) in r.stated.iter().enumerate() {
        let range = inf.ranges.as_ref().and_then(|v| v.get(k));
        let pinned = range
            .map(|x| if x.max - x.min < 0.01 { "pinned down" } else { "free" })
            .unwrap_or("");
        outln!(
            "  {:<14} {:>8.4} {:>8.4} {:>8.4}   {}",
            name,
            stated,
            inf.l1.weights.get(k).copied().unwrap_or(f64::NAN),
            inf.linf.weights.get(k).copied().unwrap_or(f64::NAN),
            range.map(|x| format!("[{:.4}, {:.4}] {pinned}", x.min, x.max)).unwrap_or_default()
        );
    }
    if !r.excluded.is_empty() {
        outln!("  left out (at a floor or cap): {}", r.excluded.join(", "));
    }
    if !r.missing.is_empty() {
        outln!("  no actual amount: {}", r.missing.join(", "));
    }
    let flagged: Vec<String> = inf
        .residuals
        .iter()
        .filter(|x| x.flagged)
        .map(|x| {
            let name = s
                .hierarchy
                .find(&x.unit_id)
                .and_then(|u| s.hierarchy.unit(u))
                .map(|u| u.name.clone())
                .unwrap_or_default();
            format!(
                "{} {} ({:+.2}% of fitted)",
                x.unit_id,
                name,
                if x.fitted != 0.0 { 100.0 * x.residual / x.fitted } else { 0.0 }
            )
        })
        .collect();
    if flagged.is_empty() {
        outln!(
            "  every unit is within tolerance (rel {}, abs {:.3e})",
            r.tolerances.0,
            r.tolerances.1
        );
    } else {
        outln!(
            "  {} unit(s) outside tolerance — no admissible weights explain them:",
            flagged.len()
        );
        for x in flagged {
            outln!("    • {x}");
        }
    }
}
