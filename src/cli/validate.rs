//! `fundsim validate S`: loads and checks everything, runs the allocation to find problems in
//! the data (zero-sum factors, infeasible floors), checks every optional file the way the
//! command that reads it does (plan, survey, actual, files, county exits, the payment ledger
//! and household register), prints a summary. Writes nothing.

use super::common::{self, ScenarioArgs};
use super::CliError;
use fundsim::error::{Diagnostic, InputErrors, Location};
use fundsim::scenario::Scenario;

/// Checks the optional files the scenario has, each as the command that reads it does; every
/// problem goes to `errs`, and the notes (cells read with a normalisation, rows reordered…)
/// come back.
///
/// - `plan.csv`: the projection's checks (`project`); without `[projection]`, only the
///   problems in the plan file itself (it is then read by `score`'s exit check).
/// - `survey.csv`: `score`'s checks. `actual.csv`: `audit`'s. `files.csv`: the file-count
///   reconciliation's. `county_exits.csv`: the report's.
/// - `payments.csv` with `households.csv`: `audit`'s payment checks (reading only: findings are
///   the audit's business, not errors).
pub fn check_optional_files(s: &Scenario, errs: &mut InputErrors) -> Vec<Diagnostic> {
    let mut notes = Vec::new();
    let file_of = |role: &str| s.tables.get(role).map(|t| t.file.clone());
    let survey_file = file_of("survey");
    if let Some(t) = s.tables.get("actual") {
        if let Err(e) = fundsim::audit::recompute::read_actual(t, s) {
            errs.extend(e);
        }
    }
    if let Some(plan_file) = file_of("plan") {
        match fundsim::project::prepare(s) {
            Ok(p) => notes.extend(p.notes),
            Err(e) => {
                let with_projection = s.raw.projection.is_some();
                for d in e.0 {
                    // the survey is checked below, with score's words; without [projection],
                    // only the plan's own cells are the plan's problems
                    let in_survey = survey_file.as_deref() == Some(d.location.file.as_str());
                    if !in_survey && (with_projection || d.location.file == plan_file) {
                        errs.0.push(d);
                    }
                }
            }
        }
    }
    if survey_file.is_some() {
        let _ = fundsim::score::bind::read_survey(s, errs);
    }
    if let Some(t) = s.tables.get("files") {
        if let Err(e) = fundsim::project::reconcile_files(t, &s.hierarchy) {
            errs.extend(e);
        }
    }
    if let Some(t) = s.tables.get("county_exits") {
        if let Err(e) = fundsim::project::read_county_exits(t) {
            errs.extend(e);
        }
    }
    let bytes_of = |role: &str| -> Option<Result<(String, Vec<u8>), InputErrors>> {
        let (_, rel, path) = s.files.inputs.iter().find(|(r, _, _)| r == role)?;
        let t = s.tables.get(role)?;
        if rel.to_ascii_lowercase().ends_with(".xlsx") {
            return Some(Ok((rel.clone(), fundsim::audit::run::table_csv(t))));
        }
        Some(fundsim::scenario::load::read_file(path, rel).map(|b| (rel.clone(), b)))
    };
    match (bytes_of("payments"), bytes_of("households")) {
        (None, None) => {}
        (Some(_), None) => errs.push(
            Location::file(file_of("payments").unwrap_or_default()),
            "a payment ledger needs the household register (households.csv) to be checked against",
        ),
        (None, Some(_)) => errs.push(
            Location::file(file_of("households").unwrap_or_default()),
            "a household register needs a payment ledger (payments.csv) to check",
        ),
        (Some(l), Some(h)) => match (l, h, fundsim::audit::config(s)) {
            (Ok((lf, lb)), Ok((hf, hb)), Ok(cfg)) => {
                let input = fundsim::audit::payments::LedgerInput {
                    payments_file: &lf,
                    payments: &lb,
                    households_file: &hf,
                    households: &hb,
                };
                match fundsim::audit::payments::check_payments_as(&input, &cfg.payments, s.encoding) {
                    Ok(r) => notes.extend(r.warnings),
                    Err(e) => errs.extend(e),
                }
            }
            (l, h, c) => {
                for e in [l.err(), h.err(), c.err()].into_iter().flatten() {
                    errs.extend(e);
                }
            }
        },
    }
    notes
}

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
}

/// Runs `validate`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load_full(&a.common)?;
    let mut errs = InputErrors::default();
    let alloc = fundsim::alloc::allocate(&s).map_err(|e| errs.extend(e)).ok();
    let notes = check_optional_files(&s, &mut errs);
    let Some(alloc) = alloc.filter(|_| errs.is_empty()) else {
        return Err(errs.into());
    };
    for n in &notes {
        errln!("warning: {n}");
    }
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
            "warnings": s.warnings.iter().chain(&notes).map(|w| w.to_string()).collect::<Vec<_>>(),
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
    if !s.warnings.is_empty() || !notes.is_empty() {
        outln!("  {} warning(s) on stderr", s.warnings.len() + notes.len());
    }
    Ok(())
}
