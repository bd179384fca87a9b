//! `fundsim score S`: survey indicators with intervals (`indicators.csv`), comprehensive
//! incidence and the four-veto exit verdict (`exit_check.csv`), the scoring table
//! (`scores.csv`) and the sampling error of verdicts, grades and ranks (`sampling_error.csv`)
//! (SPEC §5).
//!
//! Inputs: `survey.csv` (`unit_id,indicator,sampled,flagged`), `plan.csv`
//! (`unit_id,filed_start,rural_pop` + optional `exited_pop`, `exit_threshold`), `[indicators]`
//! and `[scoring]` in `scenario.toml`. Every bad row or key is reported with file, line and
//! field; nothing is written unless the whole run succeeds. The computation is
//! `fundsim::score::bind` (shared with the report); this file prints and writes.

use super::common::{self, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::scenario::Scenario;
use fundsim::score::bind::{self, fx, RunError, ScoreOptions, ScoreRun};
use fundsim::score::{CiMethod, IndicatorResult, PointVerdict, Verdict};
use std::collections::BTreeMap;

/// Interval method on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CiArg {
    /// Wilson score interval.
    Wilson,
    /// Exact Clopper–Pearson interval.
    ClopperPearson,
}

/// Arguments of `score`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
    /// Interval method (default: `[indicators] ci`, else wilson).
    #[arg(long, value_enum)]
    ci: Option<CiArg>,
    /// Bootstrap draws for the sampling error (0 = skip sampling_error.csv).
    #[arg(long, default_value_t = 1000)]
    draws: u32,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Runs `score`.
pub fn run(a: Args) -> Result<(), CliError> {
    let s = common::load(&a.common)?;
    let opts = ScoreOptions {
        ci: a.ci.map(|c| match c {
            CiArg::Wilson => CiMethod::Wilson,
            CiArg::ClopperPearson => CiMethod::ClopperPearson,
        }),
        draws: a.draws,
        seed: a.seed,
    };
    let r = bind::run(&s, &opts).map_err(cli_error)?;
    let mut tables = bind::tables(&r);
    if let Some((_, scores)) = &r.scores {
        if let Some(t) = bind::dea_table(scores).map_err(cli_error)? {
            tables.push(t);
        }
    }
    let mut out = Outputs::default();
    for t in &tables {
        out.add(t.name.clone(), t.to_csv(a.common.excel_csv));
    }
    let dir = common::out_dir(&a.common, &s);
    let inputs: Vec<_> = s.files.inputs.iter().map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    let summary = summary(&r);
    if a.common.format == common::Format::Json {
        let mut obj = serde_json::Map::new();
        for t in &tables {
            obj.insert(t.name.trim_end_matches(".csv").to_string(), t.to_json());
        }
        obj.insert("summary".into(), summary);
        outln!("{:#}", serde_json::Value::Object(obj));
        return Ok(());
    }
    print_summary(&s, &r, &summary);
    for w in written {
        outln!("wrote {}", w.display());
    }
    Ok(())
}

fn cli_error(e: RunError) -> CliError {
    match e {
        RunError::Input(e) => CliError::Input(e),
        RunError::Engine(m) => CliError::Usage(m),
    }
}

fn summary(r: &ScoreRun) -> serde_json::Value {
    let count = |f: &dyn Fn(&IndicatorResult) -> bool| r.results.iter().filter(|x| f(x)).count();
    let official_fail_inconclusive: Vec<serde_json::Value> = r
        .results
        .iter()
        .filter(|x| x.point_verdict == PointVerdict::Fail && x.verdict == Verdict::Inconclusive)
        .map(|x| serde_json::json!({"unit_id": x.unit_id, "indicator": x.indicator.as_str(), "rate": x.rate, "ci_low": x.ci.low, "ci_high": x.ci.high}))
        .collect();
    let mut grades: BTreeMap<String, usize> = BTreeMap::new();
    if let Some((_, scores)) = &r.scores {
        for u in scores {
            *grades.entry(u.grade.clone()).or_default() += 1;
        }
    }
    serde_json::json!({
        "rows": r.results.len(),
        "point": {"pass": count(&|x| x.point_verdict == PointVerdict::Pass), "fail": count(&|x| x.point_verdict == PointVerdict::Fail)},
        "interval": {
            "pass": count(&|x| x.verdict == Verdict::Pass),
            "fail": count(&|x| x.verdict == Verdict::Fail),
            "inconclusive": count(&|x| x.verdict == Verdict::Inconclusive),
        },
        "official_fail_statistically_inconclusive": official_fail_inconclusive,
        "exit_checked": r.exits.len(),
        "may_exit": r.exits.iter().filter(|e| e.2.may_exit).count(),
        "grades": grades,
        "draws": r.boot.as_ref().map(|b| b.draws),
        "seed": r.boot.as_ref().map(|b| b.seed),
    })
}

fn print_summary(s: &Scenario, r: &ScoreRun, j: &serde_json::Value) {
    outln!(
        "{} ({}): {} survey rows, {} interval at {}",
        s.title,
        s.name,
        r.results.len(),
        r.config.ci.as_str(),
        r.config.confidence
    );
    outln!(
        "  official (point) reading: {} pass, {} fail",
        count(j, "point", "pass"),
        count(j, "point", "fail")
    );
    outln!(
        "  statistical reading: {} pass, {} fail, {} inconclusive",
        count(j, "interval", "pass"),
        count(j, "interval", "fail"),
        count(j, "interval", "inconclusive")
    );
    let incon: Vec<&IndicatorResult> = r
        .results
        .iter()
        .filter(|x| x.point_verdict == PointVerdict::Fail && x.verdict == Verdict::Inconclusive)
        .collect();
    if !incon.is_empty() {
        outln!("  failing officially but statistically inconclusive: {}", incon.len());
        for x in incon.iter().take(10) {
            outln!(
                "    {} {}: {}/{} = {} [{}, {}] vs {} {}",
                x.unit_id,
                x.indicator,
                x.flagged,
                x.sampled,
                fx((x.rate * 1e4).round() / 1e4),
                fx((x.ci.low * 1e4).round() / 1e4),
                fx((x.ci.high * 1e4).round() / 1e4),
                x.rule.comparison.as_str(),
                fundsim::output::dec(x.rule.threshold)
            );
        }
    }
    if !r.exits.is_empty() {
        outln!(
            "  exit check: {} of {} counties may exit (four vetoes)",
            j["may_exit"],
            j["exit_checked"]
        );
    }
    if let Some((_, scores)) = &r.scores {
        let grades: Vec<String> = j["grades"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| format!("{k} {v}")).collect())
            .unwrap_or_default();
        outln!("  scores: {} units; grades: {}", scores.len(), grades.join(", "));
    }
    if let Some(b) = &r.boot {
        let unstable = b.units.iter().filter(|u| u.grade_change_probability > 0.1).count();
        outln!(
            "  sampling error ({} draws, seed {}): {} unit(s) change grade in more than 10% of draws",
            b.draws,
            b.seed,
            unstable
        );
    }
}

/// A count from the JSON summary (`summary[reading][verdict]`), 0 when absent.
fn count(j: &serde_json::Value, reading: &str, verdict: &str) -> u64 {
    j.get(reading)
        .and_then(|r| r.get(verdict))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}
