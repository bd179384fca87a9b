//! `fundsim project S [--runs N --seed S]`: the yearly exit-target projection (SPEC §4) →
//! `projection.csv`; with runs, the Monte Carlo → `projection_mc.csv`; with a union file table
//! (`files.csv`), its reconciliation → `files_check.csv`.

use super::common::{self, grouped, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::error::{InputErrors, Location};
use fundsim::project::{self, table, McResult, Projection, ProjectionResult};
use fundsim::scenario::Scenario;
use rust_decimal::Decimal;

/// Arguments of `project`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
    /// Monte Carlo runs (default: `[projection].runs`, else none).
    #[arg(long)]
    runs: Option<u64>,
    /// Monte Carlo seed (default: `[projection].seed`, else 2018).
    #[arg(long)]
    seed: Option<u64>,
}

/// Runs `project`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load(&a.common)?;
    let has_plan = s.tables.contains_key("plan") || s.raw.projection.is_some();
    let files_t = s.tables.get("files");
    if !has_plan && files_t.is_none() {
        return Err(InputErrors::one(
            Location::file(&s.toml_file),
            "nothing to project: the scenario has no plan.csv / [projection] and no files.csv",
        )
        .into());
    }
    if !has_plan && a.runs.is_some_and(|r| r > 0) {
        return Err(CliError::Usage("--runs needs a plan (plan.csv)".into()));
    }
    if a.runs.is_some_and(|r| r > project::MAX_RUNS) {
        return Err(CliError::Usage(format!("--runs must be at most {}", project::MAX_RUNS)));
    }
    let mut out = Outputs::default();
    let mut json = serde_json::Map::new();
    let mut text: Vec<String> = Vec::new();
    if has_plan {
        let p = project::prepare(&s)?;
        for n in &p.notes {
            errln!("warning: {n}");
        }
        let r = project::project(&p).map_err(|e| CliError::Usage(e.to_string()))?;
        let t = table::projection_table(&p, &r, &s.hierarchy);
        out.add(t.name.clone(), t.to_csv(a.common.excel_csv));
        json.insert("projection".into(), t.to_json());
        json.insert("first_eligible".into(), first_eligible_json(&p, &r));
        summary(&s, &p, &r, &mut text);
        let runs = a.runs.unwrap_or(p.runs);
        let seed = a.seed.unwrap_or(p.seed);
        if runs > 0 {
            let m = project::monte_carlo(&p, runs, seed).map_err(|e| CliError::Usage(e.to_string()))?;
            let t = table::mc_table(&p, &m, &s.hierarchy);
            out.add(t.name.clone(), t.to_csv(a.common.excel_csv));
            json.insert("projection_mc".into(), t.to_json());
            mc_summary(&s, &p, &m, &mut text);
        }
    }
    if let Some(ft) = files_t {
        let findings = project::reconcile_files(ft, &s.hierarchy)?;
        let t = table::files_check_table(&findings);
        out.add(t.name.clone(), t.to_csv(a.common.excel_csv));
        json.insert("files_check".into(), t.to_json());
        let ident = findings.iter().filter(|f| f.kind == project::FindingKind::Identity).count();
        text.push(format!(
            "  {}: {} inconsistencies ({} identity, {} continuity)",
            ft.file,
            findings.len(),
            ident,
            findings.len() - ident
        ));
        for f in &findings {
            let what = match f.kind {
                project::FindingKind::Identity => "filed_start + new − exits − removals",
                project::FindingKind::Continuity => "previous year's filed_end",
            };
            text.push(format!(
                "    {} {} (line {}): {} {}: {} = {}, table says {} ({:+})",
                f.unit_id,
                f.year,
                f.line,
                f.kind.label(),
                if f.kind == project::FindingKind::Identity {
                    "filed_end"
                } else {
                    "filed_start"
                },
                what,
                f.expected,
                f.found,
                f.difference()
            ));
        }
    }
    let dir = common::out_dir(&a.common, &s);
    let inputs: Vec<_> = s.files.inputs.iter().map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    if a.common.format == common::Format::Json {
        outln!("{:#}", serde_json::Value::Object(json));
        return Ok(());
    }
    outln!("{} ({})", s.title, s.name);
    for l in text {
        outln!("{l}");
    }
    for w in written {
        outln!("wrote {}", w.display());
    }
    Ok(())
}

fn first_eligible_json(p: &Projection, r: &ProjectionResult) -> serde_json::Value {
    serde_json::Value::Array(
        p.units
            .iter()
            .zip(&r.first_eligible)
            .map(|(u, y)| serde_json::json!({"unit_id": u.id, "first_eligible_year": y.map(|y| y.to_string())}))
            .collect(),
    )
}

/// The headline rows: the root's total, or the single plan unit.
fn headline<'a>(s: &Scenario, p: &Projection, r: &'a ProjectionResult) -> Option<(String, &'a [project::YearRow])> {
    let h = &s.hierarchy;
    let name = |u: usize| h.unit(u).map(|x| format!("{} {}", x.id, x.name)).unwrap_or_default();
    if let Some(j) = p.aggregates.iter().position(|a| a.unit == h.root()) {
        return Some((name(h.root()), r.totals.get(j)?.as_slice()));
    }
    let u = p.units.first()?;
    Some((name(u.unit), r.units.first()?.as_slice()))
}

fn summary(s: &Scenario, p: &Projection, r: &ProjectionResult, text: &mut Vec<String>) {
    let (y0, y1) = (
        p.years.first().copied().unwrap_or_default(),
        p.years.last().copied().unwrap_or_default(),
    );
    text.push(format!(
        "  projection {y0}–{y1}: {} plan units, {} total rows",
        p.units.len(),
        p.aggregates.len()
    ));
    if let Some((name, rows)) = headline(s, p, r) {
        text.push(format!("  {name}:"));
        text.push(format!(
            "    {:>4} {:>12} {:>10} {:>10} {:>12} {:>12} {:>12} {:>10} {:>10}",
            "year", "start", "entries", "returns", "target", "exits", "end", "shortfall", "incidence"
        ));
        for (row, y) in rows.iter().zip(&p.years) {
            text.push(format!(
                "    {:>4} {:>12} {:>10} {:>10} {:>12} {:>12} {:>12} {:>10} {:>9}%",
                y,
                grouped(row.start.into()),
                grouped(row.entries.into()),
                grouped(row.returns.into()),
                grouped(row.target.into()),
                grouped(row.exits.into()),
                grouped(row.end.into()),
                grouped(row.shortfall.into()),
                (row.incidence * Decimal::ONE_HUNDRED).round_dp(2)
            ));
        }
    }
    let mut per_year: Vec<String> = p
        .years
        .iter()
        .map(|y| format!("{y}: {}", r.first_eligible.iter().filter(|f| **f == Some(*y)).count()))
        .collect();
    per_year.push(format!("not by {y1}: {}", r.first_eligible.iter().filter(|f| f.is_none()).count()));
    text.push(format!("  units first eligible to exit: {}", per_year.join(", ")));
    let mut short: Vec<(u64, &str, i64)> = Vec::new();
    for (u, rows) in p.units.iter().zip(&r.units) {
        for (row, y) in rows.iter().zip(&p.years) {
            if row.shortfall > 0 {
                short.push((row.shortfall, u.id.as_str(), *y));
            }
        }
    }
    if short.is_empty() {
        text.push("  every target is met".into());
    } else {
        short.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)).then(a.2.cmp(&b.2)));
        let top: Vec<String> = short
            .iter()
            .take(5)
            .map(|(v, id, y)| format!("{id} {y} ({})", grouped((*v).into())))
            .collect();
        text.push(format!("  {} unit-years short of target; largest: {}", short.len(), top.join(", ")));
    }
    for (k, u) in r.unassigned.iter().enumerate() {
        if *u > 0 {
            text.push(format!(
                "  note: {} of the {} province target fell on units with nobody left on file",
                grouped((*u).into()),
                p.years.get(k).copied().unwrap_or_default()
            ));
        }
    }
}

fn mc_summary(s: &Scenario, p: &Projection, m: &McResult, text: &mut Vec<String>) {
    let last = p.n_years().saturating_sub(1);
    let h = &s.hierarchy;
    let cell = match p.aggregates.iter().position(|a| a.unit == h.root()) {
        Some(j) => m.total(j, last),
        None => m.unit(0, last),
    };
    text.push(format!("  Monte Carlo: {} runs, seed {}", m.runs, m.seed));
    if let Some(c) = cell {
        text.push(format!(
            "    final-year target met in {:.1}% of runs; remaining at the end of {}: 5% {}, median {}, 95% {}",
            c.p_target_met * 100.0,
            p.years.get(last).copied().unwrap_or_default(),
            grouped(c.end_p5.into()),
            grouped(c.end_p50.into()),
            grouped(c.end_p95.into())
        ));
    }
    let sure = (0..p.units.len())
        .filter(|&i| m.unit(i, last).is_some_and(|c| c.p_target_met >= 0.95))
        .count();
    text.push(format!(
        "    units meeting the final-year target in at least 95% of runs: {sure} of {}",
        p.units.len()
    ));
}
