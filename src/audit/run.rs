//! The scenario side of `fundsim audit`: recompute against `actual.csv`, the payment checks of
//! a ledger against the household register, the weights the actual distribution implies and
//! the file-count reconciliation of `files.csv`, from a loaded [`Scenario`] and the ledger's
//! bytes. No file is read or written here: `fundsim audit` and the report's audit step both
//! call [`run`], so they find the same things.
//!
//! A payment ledger can have millions of rows. It is checked from its CSV bytes in one pass
//! ([`payments::check_payments`]), never held as a table of cells: load the scenario with
//! [`crate::scenario::load::load_lean`] (which gives the ledger and register header-only
//! stand-ins) and pass their bytes in [`Sources`]. A scenario loaded in full works too
//! ([`Sources::from_tables`] writes its tables back to CSV), at the memory cost of the cells.

use super::findings::{FileReconHit, FileReconKind, FindingsInput, InferredWeight, InferredWeightsSummary};
use super::payments::{self, PaymentReport};
use super::recompute::{self, Recompute};
use super::AuditConfig;
use crate::alloc::Allocation;
use crate::error::{InputErrors, Location};
use crate::lpcheck::bind::InferReport;
use crate::output::OutTable;
use crate::scenario::Scenario;
use crate::table::Table;

/// The payment ledger and household register as CSV bytes, each with its file name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// `(file name, CSV bytes)` of the payment ledger (role `payments`).
    pub ledger: Option<(String, Vec<u8>)>,
    /// `(file name, CSV bytes)` of the household register (role `households`).
    pub register: Option<(String, Vec<u8>)>,
}

impl Sources {
    /// Keeps the bytes of an input file read for `role` (`payments` or `households`; other
    /// roles are ignored). An `.xlsx` file is replaced by its loaded table written as CSV
    /// ([`table_csv`]; line numbers are then data-row positions + 1).
    pub fn add(&mut self, s: &Scenario, role: &str, file: &str, bytes: Vec<u8>) {
        let xlsx = file.to_ascii_lowercase().ends_with(".xlsx");
        let data = match s.tables.get(role) {
            Some(t) if xlsx => table_csv(t),
            _ => bytes,
        };
        match role {
            "payments" => self.ledger = Some((file.to_string(), data)),
            "households" => self.register = Some((file.to_string(), data)),
            _ => {}
        }
    }

    /// The ledger and register from the scenario's loaded tables, written back as CSV (for a
    /// scenario loaded in full by [`crate::scenario::load::load`] or built in memory).
    pub fn from_tables(s: &Scenario) -> Sources {
        let get = |role: &str| s.tables.get(role).map(|t| (t.file.clone(), table_csv(t)));
        Sources {
            ledger: get("payments"),
            register: get("households"),
        }
    }
}

/// A table as CSV bytes: header, then every row, `\n`-terminated.
pub fn table_csv(t: &Table) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(&t.headers);
    for r in &t.rows {
        let _ = w.write_record(&r.cells);
    }
    w.into_inner().unwrap_or_default()
}

/// Where the implied weights come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Weights {
    /// Infer them here (`infer-weights`, L1, on the default pool) when there is an
    /// `actual.csv`; a failure is a warning, not an error.
    Infer,
    /// Already computed (e.g. by the report's infer-weights step), or `None` for none.
    Given(Option<InferredWeightsSummary>),
}

/// Everything an audit run finds.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRun {
    /// The resolved `[audit]` settings.
    pub config: AuditConfig,
    /// Recompute against `actual.csv`, when present.
    pub recompute: Option<Recompute>,
    /// Payment checks, when there is a ledger and a register.
    pub payments: Option<PaymentReport>,
    /// The weights the actual distribution implies, when inferred.
    pub weights: Option<InferredWeightsSummary>,
    /// `files.csv` reconciliation: the file name and the rows that break a rule.
    pub files: Option<(String, Vec<FileReconHit>)>,
    /// Non-fatal problems (e.g. `weights not inferred: …`), one line each.
    pub warnings: Vec<String>,
}

/// The summary of an `infer-weights` result for the findings: stated and L1-inferred weight
/// per factor, the formula share `Σv` and the units no admissible weights explain.
pub fn weights_summary(stage: usize, pool: &str, r: &InferReport) -> InferredWeightsSummary {
    InferredWeightsSummary {
        stage,
        pool: pool.to_string(),
        method: "L1".into(),
        weights: r
            .stated
            .iter()
            .zip(&r.inference.l1.weights)
            .map(|((factor, stated), inferred)| InferredWeight {
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
    }
}

/// Runs the audit: recompute (with `actual.csv`) and payment checks (with a ledger and a
/// register; one without the other is an error), then the implied weights and the file-count
/// reconciliation. Input problems of the recompute and the payment checks are reported
/// together.
pub fn run(s: &Scenario, alloc: &Allocation, config: AuditConfig, sources: &Sources, weights: Weights) -> Result<AuditRun, InputErrors> {
    let mut errs = InputErrors::default();
    let mut warnings: Vec<String> = Vec::new();
    let rec = match s.tables.get("actual") {
        None => None,
        Some(t) => {
            let file = t.file.clone();
            match recompute::read_actual(t, s).and_then(|rows| recompute::recompute(s, alloc, &rows, &file, &config)) {
                Ok(r) => Some(r),
                Err(e) => {
                    errs.extend(e);
                    None
                }
            }
        }
    };
    let pay = match (&sources.ledger, &sources.register) {
        (Some((lf, lb)), Some((hf, hb))) => {
            let input = payments::LedgerInput {
                payments_file: lf,
                payments: lb,
                households_file: hf,
                households: hb,
            };
            match payments::check_payments_as(&input, &config.payments, s.encoding) {
                Ok(r) => {
                    warnings.extend(r.warnings.iter().map(|w| w.to_string()));
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
        return Err(errs);
    }
    let weights = match weights {
        Weights::Given(w) => w,
        Weights::Infer if s.tables.contains_key("actual") => {
            let summary = crate::lpcheck::bind::select(s, alloc, None, None).and_then(|sel| {
                let r = crate::lpcheck::bind::run_infer(s, alloc, &sel, 0.01, None, false)?;
                Ok(weights_summary(sel.stage, &sel.pool.id, &r))
            });
            match summary {
                Ok(w) => Some(w),
                Err(e) => {
                    warnings.extend(e.0.iter().map(|d| format!("weights not inferred: {d}")));
                    None
                }
            }
        }
        Weights::Infer => None,
    };
    let files = match s.tables.get("files") {
        None => None,
        Some(t) => {
            let found = crate::project::reconcile_files(t, &s.hierarchy)?;
            let hits = found
                .into_iter()
                .map(|f| FileReconHit {
                    unit_id: f.unit_id,
                    year: f.year,
                    line: f.line,
                    kind: match f.kind {
                        crate::project::FindingKind::Identity => FileReconKind::Identity,
                        crate::project::FindingKind::Continuity => FileReconKind::Continuity,
                    },
                    expected: i64::try_from(f.expected).unwrap_or(i64::MAX),
                    found: i64::try_from(f.found).unwrap_or(i64::MAX),
                })
                .collect();
            Some((t.file.clone(), hits))
        }
    };
    Ok(AuditRun {
        config,
        recompute: rec,
        payments: pay,
        weights,
        files,
        warnings,
    })
}

impl AuditRun {
    /// What the findings are written from ([`super::findings::build`], [`super::findings::render`]).
    pub fn findings_input<'a>(&'a self, s: &'a Scenario) -> FindingsInput<'a> {
        FindingsInput {
            scenario: s,
            config: &self.config,
            recompute: self.recompute.as_ref(),
            payments: self.payments.as_ref(),
            weights: self.weights.as_ref(),
            files: self.files.as_ref().map(|(f, h)| (f.as_str(), h.as_slice())),
        }
    }

    /// Rows flagged: allocation rows and reconciliations beyond tolerance, plus payment hits.
    pub fn flagged(&self) -> usize {
        self.recompute.as_ref().map(|r| r.flagged()).unwrap_or(0) + self.payments.as_ref().map(|p| p.hits.len()).unwrap_or(0)
    }

    /// The result tables: `audit.csv` (always; empty without `actual.csv`), `reconcile.csv`
    /// (with `actual.csv`), `payments_check.csv` (with a ledger).
    pub fn tables(&self) -> Vec<OutTable> {
        let empty = Recompute {
            actual_file: String::new(),
            actual_rows: 0,
            comparisons: Vec::new(),
            reconciliations: Vec::new(),
        };
        let r = self.recompute.as_ref().unwrap_or(&empty);
        let mut out = vec![recompute::audit_table(r)];
        if self.recompute.is_some() {
            out.push(recompute::reconcile_table(r));
        }
        if let Some(p) = &self.payments {
            out.push(payments::payments_table(p));
        }
        out
    }
}
