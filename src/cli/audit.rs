//! `fundsim audit S`: recompute the allocation and compare it with `actual.csv`, check the
//! payment ledger against the file register, and write the findings with an evidence
//! manifest → `audit.csv`, `reconcile.csv` (with actual.csv), `payments_check.csv` (with a
//! ledger), `findings.md`, `manifest.json`.

use super::common::{self, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::audit::findings::{self, Finding};
use fundsim::audit::manifest::{FileEntry, Manifest, ManifestScenario};
use fundsim::audit::run::{self, Sources, Weights};
use fundsim::audit::AuditConfig;
use fundsim::error::InputErrors;
use fundsim::scenario::Scenario;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: ScenarioArgs,
    /// Exit with code 1 when anything is flagged (outputs are written first).
    #[arg(long)]
    fail_on_flag: bool,
}

/// Everything an audit run produces, before it is written.
pub struct Produced {
    /// The scenario.
    pub scenario: Scenario,
    /// Output files (name, bytes), manifest excluded.
    pub files: Vec<(String, Vec<u8>)>,
    /// Input files with their hashes, `scenario.toml` first.
    pub inputs: Vec<FileEntry>,
    /// Rows flagged (allocation rows, reconciliations, payment hits).
    pub flagged: usize,
    /// The findings.
    pub findings: Vec<Finding>,
    /// The resolved settings.
    pub config: AuditConfig,
}

/// Loads a scenario like `scenario::load`, except that a CSV ledger and register are not read
/// cell by cell into tables (see `fundsim::scenario::load::load_lean`); warnings go to stderr.
pub fn load_for_audit(path: &Path) -> Result<Scenario, CliError> {
    let s = fundsim::scenario::load::load_lean(path)?;
    for w in &s.warnings {
        errln!("warning: {w}");
    }
    Ok(s)
}

/// Runs the audit on a scenario path without writing anything.
pub fn produce(path: &Path, excel_csv: bool) -> Result<Produced, CliError> {
    let mut s = load_for_audit(path)?;
    let cfg = fundsim::audit::config(&s)?;
    let alloc = fundsim::alloc::allocate(&s)?;
    // hash every input; keep the ledger and register bytes for the payment checks
    let mut inputs = Vec::new();
    let mut sources = Sources::default();
    let mut errs = InputErrors::default();
    for (role, rel, p) in &s.files.inputs {
        match fundsim::scenario::load::read_file(p, rel) {
            Ok(bytes) => {
                let abs = p.canonicalize().unwrap_or_else(|_| p.clone());
                inputs.push(FileEntry::new(Some(role), rel, Some(&abs.display().to_string()), &bytes));
                sources.add(&s, role, rel, bytes);
            }
            Err(e) => errs.extend(e),
        }
    }
    // the loader's cell-by-cell copy of a big ledger is not needed any more
    s.tables.remove("payments");
    s.tables.remove("households");
    if !errs.is_empty() {
        return Err(errs.into());
    }
    let r = run::run(&s, &alloc, cfg, &sources, Weights::Infer)?;
    drop(sources);
    for w in &r.warnings {
        errln!("warning: {w}");
    }
    let input = r.findings_input(&s);
    let md = findings::render(&input);
    let found = findings::build(&input);
    let mut files: Vec<(String, Vec<u8>)> = r.tables().iter().map(|t| (t.name.clone(), t.to_csv(excel_csv))).collect();
    files.push(("findings.md".to_string(), md.into_bytes()));
    let flagged = r.flagged();
    Ok(Produced {
        scenario: s,
        files,
        inputs,
        flagged,
        findings: found,
        config: r.config,
    })
}

/// The options recorded in the manifest.
pub fn options(excel_csv: bool, fail_on_flag: bool, cfg: &AuditConfig) -> BTreeMap<String, String> {
    let mut o = BTreeMap::new();
    o.insert("excel_csv".into(), excel_csv.to_string());
    o.insert("fail_on_flag".into(), fail_on_flag.to_string());
    o.insert("audit.abs_tol".into(), cfg.abs_tol.normalize().to_string());
    o.insert("audit.rel_tol".into(), cfg.rel_tol.normalize().to_string());
    o.insert("audit.weight_tol".into(), cfg.weight_tol.normalize().to_string());
    let p = &cfg.payments;
    o.insert(
        "audit.payments.checks".into(),
        p.checks.iter().map(|c| c.key()).collect::<Vec<_>>().join(","),
    );
    o.insert("audit.payments.duplicate_period".into(), p.duplicate_period.key_name().into());
    o.insert("audit.payments.living_months".into(), p.living_months.normalize().to_string());
    o.insert(
        "audit.payments.tier_months".into(),
        p.tier_months
            .iter()
            .map(|(k, v)| format!("{k}={}", v.normalize()))
            .collect::<Vec<_>>()
            .join(","),
    );
    o.insert("audit.payments.warmth_per_visit".into(), p.warmth_per_visit.normalize().to_string());
    o.insert("audit.payments.warmth_per_year".into(), p.warmth_per_year.normalize().to_string());
    o.insert("audit.payments.flat_share".into(), p.flat_share.normalize().to_string());
    o
}

/// Absolute form of a path (canonical when it exists).
pub fn absolute(p: &Path) -> PathBuf {
    p.canonicalize()
        .unwrap_or_else(|_| std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf()))
}

/// Builds the manifest of a run.
pub fn manifest(prod: &Produced, scenario_path: &Path, out: &Path, excel_csv: bool, fail_on_flag: bool) -> Manifest {
    let scen = absolute(scenario_path).display().to_string();
    let mut command = vec![
        "fundsim".to_string(),
        "audit".to_string(),
        scen.clone(),
        "--out".to_string(),
        absolute(out).display().to_string(),
    ];
    if excel_csv {
        command.push("--excel-csv".into());
    }
    if fail_on_flag {
        command.push("--fail-on-flag".into());
    }
    Manifest {
        fundsim_version: env!("CARGO_PKG_VERSION").to_string(),
        command,
        scenario: ManifestScenario {
            name: prod.scenario.name.clone(),
            path: scen,
        },
        options: options(excel_csv, fail_on_flag, &prod.config),
        inputs: prod.inputs.clone(),
        outputs: prod.files.iter().map(|(n, b)| FileEntry::new(None, n, None, b)).collect(),
    }
}

/// Runs `audit`.
pub fn run(a: Args) -> Result<(), CliError> {
    let path = a.common.scenario.clone().unwrap_or_else(common::default_scenario);
    let prod = produce(&path, a.common.excel_csv)?;
    let dir = common::out_dir(&a.common, &prod.scenario);
    let m = manifest(&prod, &path, &dir, a.common.excel_csv, a.fail_on_flag);
    let mut out = Outputs::default();
    for (n, b) in &prod.files {
        out.add(n.clone(), b.clone());
    }
    out.add("manifest.json", m.to_json());
    let inputs: Vec<_> = prod.scenario.files.inputs.iter().map(|(_, _, p)| p.clone()).collect();
    let written = out.commit(&dir, &inputs)?;
    if a.common.format == common::Format::Json {
        let v = serde_json::json!({
            "scenario": prod.scenario.name,
            "flagged": prod.flagged,
            "findings": prod.findings.iter().map(|f| serde_json::json!({
                "check": f.check.key(),
                "title": f.title,
                "amount": f.amount.normalize().to_string(),
                "money": f.money,
            })).collect::<Vec<_>>(),
            "outputs": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        outln!("{v:#}");
    } else {
        outln!(
            "{} ({}): {} finding(s), {} row(s) flagged",
            prod.scenario.title,
            prod.scenario.name,
            prod.findings.len(),
            prod.flagged
        );
        for f in &prod.findings {
            outln!("  - [{}] {}", f.check.key(), f.title);
        }
        for w in &written {
            outln!("wrote {}", w.display());
        }
    }
    if a.fail_on_flag && prod.flagged > 0 {
        return Err(CliError::Found(format!("{} row(s) flagged (--fail-on-flag)", prod.flagged)));
    }
    Ok(())
}
