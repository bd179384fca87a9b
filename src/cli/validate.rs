//! `fundsim validate S`: loads and checks everything, runs the allocation to find problems in
//! the data (zero-sum factors, infeasible floors), prints a summary. Writes nothing.

use super::common::{self, ScenarioArgs};
use super::CliError;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
}

/// Runs `validate`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load(&a.common)?;
    let alloc = fundsim::alloc::allocate(&s)?;
    let h = &s.hierarchy;
    let mut levels: Vec<(String, usize)> = Vec::new();
    for u in h.units() {
        match levels.iter_mut().find(|(l, _)| l == &u.level) {
            Some((_, n)) => *n += 1,
            None => levels.push((u.level.clone(), 1)),
        }
    }
    let optional: Vec<&str> = s.tables.keys().map(String::as_str).collect();
    if a.common.format == common::Format::Json {
        let v = serde_json::json!({
            "scenario": s.name, "title": s.title, "valid": true,
            "units": h.len(),
            "levels": levels.iter().map(|(l, n)| serde_json::json!({"level": l, "units": n})).collect::<Vec<_>>(),
            "stages": s.stages.len(), "optional_files": optional,
            "allocation_rows": alloc.rows.len(),
            "warnings": s.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        });
        outln!("{v:#}");
        return Ok(());
    }
    outln!("{} ({}): valid", s.title, s.name);
    outln!(
        "  units: {} ({})",
        h.len(),
        levels.iter().map(|(l, n)| format!("{n} {l}")).collect::<Vec<_>>().join(", ")
    );
    for (i, st) in s.stages.iter().enumerate() {
        let pools: Vec<String> = st
            .pools
            .iter()
            .map(|p| {
                format!(
                    "{} {}% ({} factors)",
                    p.id,
                    (p.share * rust_decimal::Decimal::ONE_HUNDRED).normalize(),
                    p.factors.len()
                )
            })
            .collect();
        outln!("  stage {}: to {}, pools {}", i + 1, st.level, pools.join(", "));
    }
    if !optional.is_empty() {
        outln!("  also: {}", optional.join(", "));
    }
    if !s.warnings.is_empty() {
        outln!("  {} warning(s) on stderr", s.warnings.len());
    }
    Ok(())
}
