//! A small, solver-neutral LP description and its translation to `good_lp`.
//!
//! Every LP of this module is written once as an [`Lp`] (variables with bounds, rows
//! `Σ a_j x_j {≥,≤,=} b`, a linear objective) and handed to [`solve`] with an explicit
//! [`Backend`]. `solve` is the only place that touches a solver, so that
//!
//! * the solver is always named (with both features on, `good_lp::default_solver` is microlp);
//! * every failure — infeasible, unbounded, numerical trouble, and even a panic inside a
//!   solver — comes back as a [`Failure`] value, never as a panic;
//! * clarabel's statuses that `good_lp` passes through as success (`DualInfeasible`, i.e. an
//!   unbounded objective) are caught.

use std::panic::{catch_unwind, AssertUnwindSafe};

use good_lp::{variable, Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus, SolverModel, Variable};

/// Which `good_lp` backend solves the LPs. Both are pure Rust.
///
/// * `Clarabel` — interior point; fast on large LPs (thousands of rows); solutions are
///   accurate to about 1e-9 and zeros come back as ~1e-10, which this module clamps.
/// * `Microlp` — simplex with branch and bound; exact vertices and integer variables, but
///   slow beyond a few hundred rows. Used for the rank MIPs and as an independent check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Interior-point solver `clarabel` (the default).
    #[default]
    Clarabel,
    /// Simplex / branch-and-bound solver `microlp`.
    Microlp,
}

/// Direction of the objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sense {
    Minimise,
    Maximise,
}

/// Comparison of a row with its right-hand side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Ge,
    Le,
    Eq,
}

/// One row `Σ coef·x[idx] cmp rhs`.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub terms: Vec<(usize, f64)>,
    pub cmp: Cmp,
    pub rhs: f64,
}

#[derive(Debug, Clone, Copy)]
struct Var {
    lo: f64,
    hi: f64,
    integer: bool,
}

/// A linear (or mixed-integer) program.
#[derive(Debug, Clone)]
pub(crate) struct Lp {
    vars: Vec<Var>,
    rows: Vec<Row>,
    objective: Vec<(usize, f64)>,
    sense: Sense,
    time_limit: Option<f64>,
    tol: f64,
}

impl Lp {
    /// An empty program with the given objective direction.
    pub fn new(sense: Sense) -> Self {
        Self {
            vars: Vec::new(),
            rows: Vec::new(),
            objective: Vec::new(),
            sense,
            time_limit: None,
            tol: 1e-10,
        }
    }

    /// Adds a continuous variable `lo ≤ x ≤ hi` (infinite bounds allowed) and returns its index.
    pub fn var(&mut self, lo: f64, hi: f64) -> usize {
        self.vars.push(Var { lo, hi, integer: false });
        self.vars.len() - 1
    }

    /// Adds a binary variable (microlp only) and returns its index.
    pub fn binary(&mut self) -> usize {
        self.vars.push(Var {
            lo: 0.0,
            hi: 1.0,
            integer: true,
        });
        self.vars.len() - 1
    }

    /// Adds a row.
    pub fn row(&mut self, terms: Vec<(usize, f64)>, cmp: Cmp, rhs: f64) {
        self.rows.push(Row { terms, cmp, rhs });
    }

    /// Adds `coef·x[idx]` to the objective.
    pub fn objective(&mut self, idx: usize, coef: f64) {
        self.objective.push((idx, coef));
    }

    /// Clarabel's gap and feasibility tolerances (default 1e-10).
    pub fn set_tolerance(&mut self, tol: f64) {
        self.tol = tol;
    }

    /// Wall-clock limit for microlp's branch and bound (seconds).
    pub fn set_time_limit(&mut self, seconds: Option<f64>) {
        self.time_limit = seconds;
    }
}

/// Why a solve produced no usable solution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    Infeasible,
    Unbounded,
    Other(String),
}

/// A solution: variable values, objective value, and whether optimality was proven
/// (false only when microlp stopped on its time limit with an incumbent).
#[derive(Debug, Clone)]
pub(crate) struct Solved {
    pub x: Vec<f64>,
    pub objective: f64,
    pub proven_optimal: bool,
}

impl Solved {
    /// Value of variable `idx` (0 for an out-of-range index, which `solve` never produces).
    pub fn value(&self, idx: usize) -> f64 {
        self.x.get(idx).copied().unwrap_or(0.0)
    }
}

fn map_resolution(e: ResolutionError) -> Failure {
    match e {
        ResolutionError::Infeasible => Failure::Infeasible,
        ResolutionError::Unbounded => Failure::Unbounded,
        ResolutionError::Other(s) => Failure::Other(s.to_string()),
        ResolutionError::Str(s) => Failure::Other(s),
    }
}

/// Solves `lp` with `backend`. Never panics: a panic inside the solver becomes
/// `Failure::Other`.
pub(crate) fn solve(lp: &Lp, backend: Backend) -> Result<Solved, Failure> {
    if backend == Backend::Clarabel && lp.vars.iter().any(|v| v.integer) {
        return Err(Failure::Other("clarabel cannot solve integer programs".to_string()));
    }
    let all_finite = lp.vars.iter().all(|v| !v.lo.is_nan() && !v.hi.is_nan())
        && lp.rows.iter().all(|r| r.rhs.is_finite() && r.terms.iter().all(|t| t.1.is_finite()))
        && lp.objective.iter().all(|t| t.1.is_finite());
    if !all_finite {
        return Err(Failure::Other("non-finite coefficient in LP".to_string()));
    }
    match catch_unwind(AssertUnwindSafe(|| solve_inner(lp, backend))) {
        Ok(r) => r,
        Err(_) => Err(Failure::Other("the LP solver panicked".to_string())),
    }
}

fn expression(terms: &[(usize, f64)], vars: &[Variable]) -> Result<Expression, Failure> {
    let mut e = Expression::with_capacity(terms.len());
    for &(j, c) in terms {
        let v = vars
            .get(j)
            .ok_or_else(|| Failure::Other(format!("variable index {j} out of range")))?;
        e.add_mul(c, *v);
    }
    Ok(e)
}

fn solve_inner(lp: &Lp, backend: Backend) -> Result<Solved, Failure> {
    let mut pv = ProblemVariables::new();
    let vars: Vec<Variable> = lp
        .vars
        .iter()
        .map(|v| {
            let mut d = variable();
            if v.lo.is_finite() {
                d = d.min(v.lo);
            }
            if v.hi.is_finite() {
                d = d.max(v.hi);
            }
            if v.integer {
                d = d.integer();
            }
            pv.add(d)
        })
        .collect();
    let objective = expression(&lp.objective, &vars)?;
    let unsolved = match lp.sense {
        Sense::Minimise => pv.minimise(objective),
        Sense::Maximise => pv.maximise(objective),
    };
    let mut constraints = Vec::with_capacity(lp.rows.len());
    for r in &lp.rows {
        let e = expression(&r.terms, &vars)?;
        constraints.push(match r.cmp {
            Cmp::Ge => e.geq(r.rhs),
            Cmp::Le => e.leq(r.rhs),
            Cmp::Eq => e.eq(r.rhs),
        });
    }
    let (x, proven_optimal) = match backend {
        Backend::Clarabel => {
            let mut model = unsolved.using(good_lp::clarabel);
            let tol = lp.tol;
            model.settings().tol_gap_abs(tol).tol_gap_rel(tol).tol_feas(tol).max_iter(400);
            for c in constraints {
                model.add_constraint(c);
            }
            let sol = model.solve().map_err(map_resolution)?;
            // good_lp reports clarabel's DualInfeasible (unbounded) and other
            // non-optimal statuses as success; accept only solved ones.
            let status = format!("{:?}", sol.inner().status);
            match status.as_str() {
                "Solved" | "AlmostSolved" => {}
                "DualInfeasible" | "AlmostDualInfeasible" => return Err(Failure::Unbounded),
                other => return Err(Failure::Other(format!("clarabel status {other}"))),
            }
            (vars.iter().map(|v| sol.value(*v)).collect::<Vec<_>>(), true)
        }
        Backend::Microlp => {
            let mut model = unsolved.using(good_lp::microlp);
            if let Some(t) = lp.time_limit {
                model = good_lp::WithTimeLimit::with_time_limit(model, t);
            }
            for c in constraints {
                model.add_constraint(c);
            }
            let sol = model.solve().map_err(map_resolution)?;
            let optimal = matches!(sol.status(), SolutionStatus::Optimal);
            (vars.iter().map(|v| sol.value(*v)).collect::<Vec<_>>(), optimal)
        }
    };
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Failure::Other("the solver returned a non-finite value".to_string()));
    }
    let objective = lp.objective.iter().map(|&(j, c)| c * x.get(j).copied().unwrap_or(0.0)).sum();
    Ok(Solved {
        x,
        objective,
        proven_optimal,
    })
}

/// Clamps interior-point noise: values below `eps` (relative to the largest) become 0, the
/// rest are divided by their sum so they sum to 1. Returns `None` when the sum is not positive.
pub(crate) fn clamp_normalise(v: &[f64], eps: f64) -> Option<Vec<f64>> {
    let max = v.iter().cloned().fold(0.0_f64, f64::max);
    if max.is_nan() || max <= 0.0 {
        return None;
    }
    let clamped: Vec<f64> = v.iter().map(|&x| if x <= eps * max { 0.0 } else { x }).collect();
    let sum: f64 = clamped.iter().sum();
    if sum <= 0.0 || !sum.is_finite() {
        return None;
    }
    Some(clamped.iter().map(|x| x / sum).collect())
}

/// Snaps a value in `[0, 1]` that is within `eps` of 0 or 1 to that end.
pub(crate) fn snap01(x: f64, eps: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    if x < eps {
        0.0
    } else if x > 1.0 - eps {
        1.0
    } else {
        x
    }
}
