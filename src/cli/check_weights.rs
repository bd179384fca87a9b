//! `fundsim check-weights S`: the stated weights of a pool against the `[[check]]` policy
//! rules (SPEC §6) → `weight_check.csv`, `weight_ranges.csv`.

use super::common::{self, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::lpcheck::bind::{check_tables, run_checks, select, CheckReport};
use fundsim::lpcheck::CheckOptions;

/// Arguments of `check-weights`.
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
    /// Allocating unit whose split is checked (default: the one with the largest pool amount).
    #[arg(long)]
    from: Option<String>,
    /// Exit with code 1 when the stated weights break a rule.
    #[arg(long)]
    fail_on_violation: bool,
}

/// Runs `check-weights`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load(&a.common)?;
    let alloc = fundsim::alloc::allocate(&s)?;
    let sel = select(&s, &alloc, a.stage, a.pool.as_deref())?;
    if !s
        .raw
        .check
        .iter()
        .any(|c| c.get_ref().pool.as_ref().is_none_or(|p| p == &sel.pool.id))
    {
        return Err(CliError::Usage(format!(
            "the scenario has no [[check]] rules for pool `{}` (see README: LP checks)",
            sel.pool.id
        )));
    }
    let r = run_checks(&s, &sel, a.from.as_deref(), &CheckOptions::default())?;
    let (wc, wr) = check_tables(&r);
    let mut out = Outputs::default();
    out.add(wc.name.clone(), wc.to_csv(a.common.excel_csv));
    out.add(wr.name.clone(), wr.to_csv(a.common.excel_csv));
    let dir = common::out_dir(&a.common, &s);
    let inputs: Vec<_> = s.files.inputs.iter().map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    if a.common.format == common::Format::Json {
        outln!(
            "{:#}",
            serde_json::json!({"weight_check": wc.to_json(), "weight_ranges": wr.to_json(), "admissible": r.result.admissible, "conflict": r.result.conflict})
        );
    } else {
        print_summary(&r, &sel.pool.id, sel.stage);
        for w in written {
            outln!("wrote {}", w.display());
        }
    }
    if a.fail_on_violation && !r.result.stated_admissible {
        return Err(CliError::Found("the stated weights break at least one rule".into()));
    }
    Ok(())
}

/// Prints each rule's verdict, the admissible ranges and, when none exist, the rules that
/// cannot hold together.
pub fn print_summary(r: &CheckReport, pool: &str, stage: usize) {
    outln!("check-weights: stage {stage}, pool `{pool}` (split by {})", r.from);
    for (o, (_, text)) in r.result.outcomes.iter().zip(&r.checks) {
        let verdict = if o.satisfied { "holds " } else { "BROKEN" };
        let slack = o.slack.map(|x| format!("slack {x:+.4}")).unwrap_or_else(|| "no constraint".into());
        let text = text.as_ref().map(|t| format!(" — {t}")).unwrap_or_default();
        outln!("  {verdict} {} ({}, {slack}){text}", o.name, o.kind);
    }
    if r.result.admissible {
        outln!("  admissible weights exist; each weight's range, and the nearest admissible weights:");
        if let (Some(ranges), Some(nearest)) = (&r.result.ranges, &r.result.nearest) {
            for (k, x) in ranges.iter().enumerate() {
                outln!(
                    "    {:<14} stated {:.4}  range [{:.4}, {:.4}]  nearest {:.4}",
                    x.factor,
                    x.stated,
                    x.min,
                    x.max,
                    nearest.weights.get(k).copied().unwrap_or(f64::NAN)
                );
            }
            outln!(
                "    total absolute change to the nearest admissible weights: {:.4}",
                nearest.distance
            );
        }
    } else {
        outln!("  NO weights satisfy every rule.");
        if let Some(c) = &r.result.conflict {
            outln!("  These rules cannot hold together (a minimal conflicting set):");
            for name in c {
                let text = r
                    .checks
                    .iter()
                    .find(|(n, _)| name.starts_with(n.name.as_str()))
                    .and_then(|(_, t)| t.clone())
                    .map(|t| format!(" — {t}"))
                    .unwrap_or_default();
                outln!("    • {name}{text}");
            }
        }
    }
}
