//! `fundsim allocate S`: the factor-method allocation, all stages → `allocation.csv`.

use super::common::{self, grouped, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::alloc::{Allocation, RowKind};
use fundsim::scenario::Scenario;
use rust_decimal::Decimal;

/// Arguments of `allocate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
}

/// Runs `allocate`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load(&a.common)?;
    let alloc = fundsim::alloc::allocate(&s)?;
    let table = fundsim::output::allocation_table(&s, &alloc);
    let mut out = Outputs::default();
    out.add(table.name.clone(), table.to_csv(a.common.excel_csv));
    let dir = common::out_dir(&a.common, &s);
    let inputs: Vec<_> = s.files.inputs.iter().map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    if a.common.format == common::Format::Json {
        outln!("{:#}", table.to_json());
        return Ok(());
    }
    print_summary(&s, &alloc);
    for w in written {
        outln!("wrote {}", w.display());
    }
    Ok(())
}

/// Prints total, recipients, largest and smallest amounts and the per-capita range per stage.
pub fn print_summary(s: &Scenario, alloc: &Allocation) {
    let unit = s.money_unit.label(fundsim::scenario::Lang::En);
    let total = s.stages.first().and_then(|st| st.total).unwrap_or_default();
    outln!(
        "{} ({}): {} {unit} split in {} stage(s)",
        s.title,
        s.name,
        grouped(total),
        s.stages.len()
    );
    let h = &s.hierarchy;
    let name = |u: usize| h.unit(u).map(|x| format!("{} {}", x.id, x.name)).unwrap_or_default();
    for (i, st) in s.stages.iter().enumerate() {
        let stage = i + 1;
        let totals: Vec<(usize, Decimal)> = alloc
            .rows
            .iter()
            .filter(|r| r.stage == stage && r.kind == RowKind::Total && !r.amount.is_zero())
            .map(|r| (r.unit, r.amount))
            .collect();
        let reserve: Decimal = alloc
            .rows
            .iter()
            .filter(|r| r.stage == stage && r.kind == RowKind::Reserve)
            .map(|r| r.amount)
            .sum();
        let retained: Decimal = alloc
            .rows
            .iter()
            .filter(|r| r.stage == stage && r.kind == RowKind::Retained)
            .map(|r| r.amount)
            .sum();
        let mut line = format!("  stage {stage} ({}): {} recipients", st.level, totals.len());
        if !reserve.is_zero() {
            line.push_str(&format!(", reserve {}", grouped(reserve)));
        }
        if !retained.is_zero() {
            line.push_str(&format!(", retained by units without {} {}", st.level, grouped(retained)));
        }
        outln!("{line}");
        if let (Some(max), Some(min)) = (
            totals.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))),
            totals.iter().min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0))),
        ) {
            outln!(
                "    largest {} {}, smallest {} {}",
                name(max.0),
                grouped(max.1),
                name(min.0),
                grouped(min.1)
            );
        }
        if let Some(col) = &s.population {
            let pcs: Vec<Decimal> = totals
                .iter()
                .filter_map(|&(u, amt)| {
                    s.factors
                        .value(col, u)
                        .filter(|p| *p > Decimal::ZERO)
                        .and_then(|p| amt.checked_div(p))
                })
                .collect();
            if let (Some(lo), Some(hi)) = (pcs.iter().min(), pcs.iter().max()) {
                outln!(
                    "    per capita ({col}): {} – {} {unit}",
                    grouped(lo.round_dp(2)),
                    grouped(hi.round_dp(2))
                );
            }
        }
    }
}
