//! `fundsim audit S`: recompute the allocation and compare it with `actual.csv`, check the
//! payment ledger against the file register, and write the findings with an evidence
//! manifest → `audit.csv`, `reconcile.csv` (with actual.csv), `payments_check.csv` (with a
//! ledger), `findings.md`, `manifest.json`.

use super::common::{self, ScenarioArgs};
use super::write::Outputs;
use super::CliError;
use fundsim::audit::findings::{self, Finding, FindingsInput};
use fundsim::audit::manifest::{FileEntry, Manifest, ManifestScenario};
use fundsim::audit::{payments, recompute, AuditConfig};
use fundsim::error::{InputErrors, Location};
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
/// cell by cell into tables (millions of rows would cost gigabytes): the loader gets a
/// header-only stand-in and the real path, and [`produce`] reads the bytes itself.
pub fn load_for_audit(path: &Path) -> Result<Scenario, CliError> {
    use fundsim::scenario::load::read_file;
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| InputErrors::one(Location::file(&shown), format!("cannot open scenario: {e}")))?;
    let (dir, toml_path) = if meta.is_dir() {
        (path.to_path_buf(), path.join("scenario.toml"))
    } else {
        (
            path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
            path.to_path_buf(),
        )
    };
    let toml_name = toml_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario.toml".into());
    let bytes = read_file(&toml_path, &toml_name)?;
    let text = String::from_utf8_lossy(bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(&bytes)).into_owned();
    let (ledger, register) = match fundsim::scenario::parse_toml(&toml_name, &text) {
        Ok(raw) => (
            raw.data.payments.map(|x| x.into_inner()).unwrap_or_else(|| "payments.csv".into()),
            raw.data
                .households
                .map(|x| x.into_inner())
                .unwrap_or_else(|| "households.csv".into()),
        ),
        Err(_) => ("payments.csv".into(), "households.csv".into()),
    };
    let is_csv = |name: &str| !name.to_ascii_lowercase().ends_with(".xlsx");
    let mut reader = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
        let p = dir.join(rel);
        std::fs::symlink_metadata(&p).ok()?;
        if rel == ledger && is_csv(rel) {
            return Some(Ok((b"payment_id,household_id,unit_id,date,kind,amount\n".to_vec(), p)));
        }
        if rel == register && is_csv(rel) {
            return Some(Ok((
                b"household_id,unit_id,category,filed_on,closed_on,dibao_monthly\n".to_vec(),
                p,
            )));
        }
        Some(read_file(&p, rel).map(|b| (b, p)))
    };
    let mut s = fundsim::scenario::from_sources(&toml_name, &bytes, &mut reader)?;
    s.files.dir = dir;
    if let Some(first) = s.files.inputs.first_mut() {
        first.2 = toml_path;
    }
    for w in &s.warnings {
        errln!("warning: {w}");
    }
    Ok(s)
}

/// A table as CSV bytes (an `.xlsx` ledger or register, for the byte-level payment checks;
/// line numbers are then data-row positions + 1).
pub(crate) fn table_csv(t: &fundsim::table::Table) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(&t.headers);
    for r in &t.rows {
        let _ = w.write_record(&r.cells);
    }
    w.into_inner().unwrap_or_default()
}

/// Runs the audit on a scenario path without writing anything.
pub fn produce(path: &Path, excel_csv: bool) -> Result<Produced, CliError> {
    let mut s = load_for_audit(path)?;
    let cfg = fundsim::audit::config(&s)?;
    let alloc = fundsim::alloc::allocate(&s)?;
    // hash every input; keep the ledger and register bytes for the payment checks
    let mut inputs = Vec::new();
    let mut ledger: Option<(String, Vec<u8>)> = None;
    let mut register: Option<(String, Vec<u8>)> = None;
    let mut errs = InputErrors::default();
    for (role, rel, p) in &s.files.inputs {
        match fundsim::scenario::load::read_file(p, rel) {
            Ok(bytes) => {
                let abs = p.canonicalize().unwrap_or_else(|_| p.clone());
                inputs.push(FileEntry::new(Some(role), rel, Some(&abs.display().to_string()), &bytes));
                let xlsx = rel.to_ascii_lowercase().ends_with(".xlsx");
                let data = |b: Vec<u8>| match s.tables.get(role.as_str()) {
                    Some(t) if xlsx => table_csv(t),
                    _ => b,
                };
                match role.as_str() {
                    "payments" => ledger = Some((rel.clone(), data(bytes))),
                    "households" => register = Some((rel.clone(), data(bytes))),
                    _ => {}
                }
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
    let rec = match s.tables.get("actual") {
        None => None,
        Some(t) => {
            let file = t.file.clone();
            match recompute::read_actual(t, &s).and_then(|rows| recompute::recompute(&s, &alloc, &rows, &file, &cfg)) {
                Ok(r) => Some(r),
                Err(e) => {
                    errs.extend(e);
                    None
                }
            }
        }
    };
    let pay = match (&ledger, &register) {
        (Some((lf, lb)), Some((hf, hb))) => {
            let input = payments::LedgerInput {
                payments_file: lf,
                payments: lb,
                households_file: hf,
                households: hb,
            };
            match payments::check_payments_as(&input, &cfg.payments, s.encoding) {
                Ok(r) => {
                    for w in &r.warnings {
                        errln!("warning: {w}");
                    }
                    Some(r)
                }
                Err(e) => {
                    errs.extend(e);
                    None
                }
            }
        }
        (Some((lf, _)), None) => {
            errs.push(
                Location::file(lf),
                "a payment ledger needs the household register (households.csv) to be checked against",
            );
            None
        }
        (None, Some((hf, _))) => {
            errs.push(
                Location::file(hf),
                "a household register needs a payment ledger (payments.csv) to check",
            );
            None
        }
        (None, None) => None,
    };
    if !errs.is_empty() {
        return Err(errs.into());
    }
    drop(ledger);
    drop(register);
    // the weights the actual distribution implies (infer-weights on the default pool)
    let inferred = if s.tables.contains_key("actual") {
        let summary = fundsim::lpcheck::bind::select(&s, &alloc, None, None).and_then(|sel| {
            let r = fundsim::lpcheck::bind::run_infer(&s, &alloc, &sel, 0.01, None, false)?;
            Ok(fundsim::audit::findings::InferredWeightsSummary {
                stage: sel.stage,
                pool: sel.pool.id.clone(),
                method: "L1".into(),
                weights: r
                    .stated
                    .iter()
                    .zip(&r.inference.l1.weights)
                    .map(|((factor, stated), inferred)| fundsim::audit::findings::InferredWeight {
                        factor: factor.clone(),
                        stated: *stated,
                        inferred: *inferred,
                    })
                    .collect(),
                formula_share: Some(r.inference.l1.formula_share),
                flagged_units: r
                    .inference
                    .residuals
                    .iter()
                    .filter(|x| x.flagged)
                    .map(|x| x.unit_id.clone())
                    .collect(),
            })
        });
        match summary {
            Ok(w) => Some(w),
            Err(e) => {
                for d in e.0 {
                    errln!("warning: weights not inferred: {d}");
                }
                None
            }
        }
    } else {
        None
    };
    // the file-count reconciliation of the union hardship files (files.csv), when present
    let file_hits: Option<(String, Vec<fundsim::audit::findings::FileReconHit>)> = match s.tables.get("files") {
        None => None,
        Some(t) => {
            let found = fundsim::project::reconcile_files(t, &s.hierarchy)?;
            let hits = found
                .into_iter()
                .map(|f| fundsim::audit::findings::FileReconHit {
                    unit_id: f.unit_id,
                    year: f.year,
                    line: f.line,
                    kind: match f.kind {
                        fundsim::project::FindingKind::Identity => fundsim::audit::findings::FileReconKind::Identity,
                        fundsim::project::FindingKind::Continuity => fundsim::audit::findings::FileReconKind::Continuity,
                    },
                    expected: i64::try_from(f.expected).unwrap_or(i64::MAX),
                    found: i64::try_from(f.found).unwrap_or(i64::MAX),
                })
                .collect();
            Some((t.file.clone(), hits))
        }
    };
    let input = FindingsInput {
        scenario: &s,
        config: &cfg,
        recompute: rec.as_ref(),
        payments: pay.as_ref(),
        weights: inferred.as_ref(),
        files: file_hits.as_ref().map(|(f, h)| (f.as_str(), h.as_slice())),
    };
    let md = findings::render(&input);
    let found = findings::build(&input);
    let mut files = Vec::new();
    let empty = recompute::Recompute {
        actual_file: String::new(),
        actual_rows: 0,
        comparisons: Vec::new(),
        reconciliations: Vec::new(),
    };
    let r = rec.as_ref().unwrap_or(&empty);
    files.push(("audit.csv".to_string(), recompute::audit_table(r).to_csv(excel_csv)));
    if rec.is_some() {
        files.push(("reconcile.csv".to_string(), recompute::reconcile_table(r).to_csv(excel_csv)));
    }
    if let Some(p) = &pay {
        files.push(("payments_check.csv".to_string(), payments::payments_table(p).to_csv(excel_csv)));
    }
    files.push(("findings.md".to_string(), md.into_bytes()));
    let flagged = rec.as_ref().map(|r| r.flagged()).unwrap_or(0) + pay.as_ref().map(|p| p.hits.len()).unwrap_or(0);
    Ok(Produced {
        scenario: s,
        files,
        inputs,
        flagged,
        findings: found,
        config: cfg,
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
