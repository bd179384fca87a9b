//! LP checks of factor-method weights (SPEC §6): are stated weights consistent with policy
//! rules, which weights does an actual distribution imply, and benefit-of-the-doubt scores.
//!
//! Pure functions on validated `f64` data; no I/O, no dependency on the scenario loader. All
//! LPs go through `good_lp` with an explicitly named pure-Rust backend ([`Backend`]): clarabel
//! (interior point) by default, microlp for integer programs and exact vertices. Solver
//! failures are [`LpError`] values, never panics.
//!
//! # Notation
//!
//! One pool of one allocating unit: recipients `i = 1..n`, factors `k = 1..K`, factor shares
//! `s_ik ≥ 0` with `Σ_i s_ik = 1` for every `k` (SPEC §3 step 3: the transform — share,
//! inverse, gap — already makes "higher share = needier"), weights `w_k ≥ 0`, `Σ_k w_k = 1`,
//! adjustment coefficients `c_i > 0` (1 when the pool has none), pool amount `A`.
//!
//! ```text
//! b_i = Σ_k w_k s_ik                    base share
//! D   = Σ_j c_j b_j                     normaliser of the adjusted shares
//! y_i = A · c_i b_i / D                 amount (SPEC §3 step 5, no floors or caps)
//! ```
//!
//! # Why every check is linear in the weights
//!
//! `y_i` is *not* linear in `w` (the normaliser `D` depends on `w`), but each rule compares
//! sums of amounts with each other or with a multiple of the pool, and every such comparison
//! becomes linear after multiplying through by `D / A`:
//!
//! * `D = Σ_k w_k T_k` with `T_k = Σ_j c_j s_jk ≥ min_j c_j > 0` (each column of `s` sums to
//!   1), so on the simplex `D ≥ min_j c_j > 0`: multiplying an inequality by `D` (or by any
//!   positive constant) never flips it.
//! * For a group `G` write `S_k(G) = Σ_{i∈G} c_i s_ik`; then `Σ_{i∈G} y_i = A · Σ_k w_k S_k(G) / D`.
//!
//! | rule | as stated | linear form `Σ_k w_k r_k ≥ 0` with `r_k =` |
//! | --- | --- | --- |
//! | group per capita ≥ `ρ` × average | `(Σ_G y / P_G) / (A / P) ≥ ρ` | `S_k(G) − ρ (P_G/P) T_k` |
//! | group growth ≥ `γ` × average growth `+ m` | `Σ_G y / L_G − 1 ≥ γ (A/L − 1) + m` | `A·S_k(G) − L_G (1 + γ(A/L − 1) + m) T_k` |
//! | group share of the pool ≥ `μ` | `Σ_G y / A ≥ μ` | `S_k(G) − μ T_k` |
//! | need monotonicity for a pair `i ⪰ j` | `y_i/p_i ≥ y_j/p_j` | `c_i s_ik / p_i − c_j s_jk / p_j` |
//! | weight bounds | `lo ≤ w_k ≤ hi` | (already linear) |
//!
//! (`P`, `P_G`: population of all recipients / of the group; `L`, `L_G`: last year's
//! amounts.) In each case the linear form equals the rule's natural slack times a positive
//! factor — `D·P_G/P`, `D·L_G`, `D`, `D/A` respectively — so the renormalisation cancels and
//! the sign (satisfied or not) is the same. The tests check this identity numerically at
//! random weights against the direct amount computation [`PoolShares::amounts`].
//!
//! Floors and caps (SPEC §3 step 5) make `y` piecewise and are **ignored** by these checks:
//! the rules are checked on the formula part of the allocation. Units pinned at a floor or cap
//! should be left out of weight inference by the caller.
//!
//! # Sub-modules
//! * [`check`] — `check-weights`: named rules, slack at the stated weights, feasibility,
//!   weight ranges, nearest admissible weights, minimal conflicting rule sets.
//! * [`infer`] — `infer-weights`: L1 / L∞ fits with a free scale, residual flags, and
//!   identifiability ranges through the Charnes–Cooper transform.
//! * [`dea`] — benefit-of-the-doubt composite scores and rank ranges for performance tables.

pub mod bind;
pub mod check;
pub mod dea;
pub mod infer;
mod lp;

pub use check::{
    check_weights, linear_rows, minimal_conflict, need_pairs, CheckData, CheckOptions, CheckOutcome, Dominance, FactorRange, Group,
    LinearRow, NamedCheck, NearestWeights, Rule, WeightCheck, DEFAULT_MAX_PAIRS,
};
pub use dea::{benefit_of_doubt, DeaInput, DeaOptions, DeaUnit, RankBounds, RankRange, DEFAULT_MAX_BINARIES};
pub use infer::{
    adjusted_actual_shares, fit_l1, fit_linf, infer_weights, weight_ranges, Fit, InferInput, InferOptions, Inference, Residual, WeightRange,
};
pub use lp::Backend;

/// Errors of the LP checks. Bad input is reported with the field at fault; solver trouble is
/// a value, never a panic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LpError {
    /// Input data of the wrong shape or out of range.
    #[error("invalid input `{field}`: {message}")]
    Input {
        /// The field at fault (e.g. `shares[3][1]`).
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A check names a group that is not in the data.
    #[error("check `{check}`: unknown group `{group}`")]
    UnknownGroup {
        /// The check's name.
        check: String,
        /// The group it names.
        group: String,
    },
    /// A check names a factor that is not in the data.
    #[error("check `{check}`: unknown factor `{factor}`")]
    UnknownFactor {
        /// The check's name.
        check: String,
        /// The factor it names.
        factor: String,
    },
    /// A check needs data (population, last year's amounts) that was not supplied.
    #[error("check `{check}` needs {data}, which was not supplied")]
    MissingData {
        /// The check's name.
        check: String,
        /// What is missing.
        data: &'static str,
    },
    /// Need monotonicity would need more pair constraints than the cap allows.
    #[error("check `{check}`: {pairs} need-monotonicity pairs exceed the cap of {cap}")]
    TooManyPairs {
        /// The check's name.
        check: String,
        /// Pairs needed after the transitive reduction.
        pairs: usize,
        /// The cap.
        cap: usize,
    },
    /// The solver failed (numerical trouble, iteration limit, unexpected infeasibility).
    #[error("LP solver failed while {task}: {message}")]
    Solver {
        /// What was being solved.
        task: String,
        /// The solver's message.
        message: String,
    },
    /// The data cannot support the computation (e.g. the best fit gives no weight at all).
    #[error("degenerate problem: {0}")]
    Degenerate(String),
}

impl LpError {
    fn input(field: impl Into<String>, message: impl Into<String>) -> Self {
        LpError::Input {
            field: field.into(),
            message: message.into(),
        }
    }

    fn solver(task: impl Into<String>, f: lp::Failure) -> Self {
        let message = match f {
            lp::Failure::Infeasible => "infeasible".to_string(),
            lp::Failure::Unbounded => "unbounded".to_string(),
            lp::Failure::Other(s) => s,
        };
        LpError::Solver {
            task: task.into(),
            message,
        }
    }
}

/// Tolerance on `Σ_i s_ik = 1` when validating factor shares.
pub const SHARE_SUM_TOL: f64 = 1e-6;

/// The factor shares of one pool, validated: `n ≥ 1` units, `K ≥ 1` factors, every `s_ik`
/// finite and `≥ 0`, every column summing to 1 (within [`SHARE_SUM_TOL`]), every `c_i`
/// finite and `> 0`, unit ids unique, pool amount finite and `> 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolShares {
    unit_ids: Vec<String>,
    factor_names: Vec<String>,
    shares: Vec<Vec<f64>>,
    adjust: Vec<f64>,
    pool: f64,
}

fn check_matrix(field: &str, m: &[Vec<f64>], rows: usize, cols: usize, nonneg: bool) -> Result<(), LpError> {
    if m.len() != rows {
        return Err(LpError::input(field, format!("{} rows, expected {rows}", m.len())));
    }
    for (i, row) in m.iter().enumerate() {
        if row.len() != cols {
            return Err(LpError::input(
                format!("{field}[{i}]"),
                format!("{} columns, expected {cols}", row.len()),
            ));
        }
        for (k, &x) in row.iter().enumerate() {
            if !x.is_finite() || (nonneg && x < 0.0) {
                return Err(LpError::input(
                    format!("{field}[{i}][{k}]"),
                    format!("{x} is not a finite non-negative number"),
                ));
            }
        }
    }
    Ok(())
}

fn check_vector(field: &str, v: &[f64], len: usize, positive: bool) -> Result<(), LpError> {
    if v.len() != len {
        return Err(LpError::input(field, format!("{} values, expected {len}", v.len())));
    }
    for (i, &x) in v.iter().enumerate() {
        let ok = x.is_finite() && if positive { x > 0.0 } else { x >= 0.0 };
        if !ok {
            let what = if positive { "positive" } else { "non-negative" };
            return Err(LpError::input(
                format!("{field}[{i}]"),
                format!("{x} is not a finite {what} number"),
            ));
        }
    }
    Ok(())
}

fn check_unique(field: &str, ids: &[String]) -> Result<(), LpError> {
    let mut seen = std::collections::BTreeSet::new();
    for id in ids {
        if !seen.insert(id.as_str()) {
            return Err(LpError::input(field, format!("duplicate `{id}`")));
        }
    }
    Ok(())
}

/// Validates weights: `K` finite values `≥ 0` summing to 1 within 1e-9 (SPEC §3 step 4).
fn check_weights_vector(field: &str, w: &[f64], k: usize) -> Result<(), LpError> {
    check_vector(field, w, k, false)?;
    let sum: f64 = w.iter().sum();
    if (sum - 1.0).abs() > 1e-9 {
        return Err(LpError::input(field, format!("weights sum to {sum}, expected 1 (within 1e-9)")));
    }
    Ok(())
}

impl PoolShares {
    /// Validates and builds the shares of one pool.
    ///
    /// `shares[i][k]` is `s_ik` (units × factors); `adjust` is `c_i` (`None` = all 1);
    /// `pool` is the pool amount `A` (only scales amounts; any positive number works for
    /// share-based rules).
    pub fn new(
        unit_ids: Vec<String>,
        factor_names: Vec<String>,
        shares: Vec<Vec<f64>>,
        adjust: Option<Vec<f64>>,
        pool: f64,
    ) -> Result<Self, LpError> {
        let n = unit_ids.len();
        let k = factor_names.len();
        if n == 0 {
            return Err(LpError::input("unit_ids", "no units"));
        }
        if k == 0 {
            return Err(LpError::input("factor_names", "no factors"));
        }
        check_unique("unit_ids", &unit_ids)?;
        check_unique("factor_names", &factor_names)?;
        check_matrix("shares", &shares, n, k, true)?;
        for (kk, name) in factor_names.iter().enumerate() {
            let sum: f64 = shares.iter().map(|r| r.get(kk).copied().unwrap_or(0.0)).sum();
            if (sum - 1.0).abs() > SHARE_SUM_TOL {
                return Err(LpError::input(
                    format!("shares[..][{kk}]"),
                    format!("factor `{name}` shares sum to {sum}, expected 1"),
                ));
            }
        }
        let adjust = adjust.unwrap_or_else(|| vec![1.0; n]);
        check_vector("adjust", &adjust, n, true)?;
        if !(pool.is_finite() && pool > 0.0) {
            return Err(LpError::input("pool", format!("{pool} is not positive")));
        }
        Ok(Self {
            unit_ids,
            factor_names,
            shares,
            adjust,
            pool,
        })
    }

    /// Unit ids, in row order.
    pub fn unit_ids(&self) -> &[String] {
        &self.unit_ids
    }
    /// Factor names, in column order.
    pub fn factor_names(&self) -> &[String] {
        &self.factor_names
    }
    /// The share matrix `s_ik` (units × factors).
    pub fn shares(&self) -> &[Vec<f64>] {
        &self.shares
    }
    /// Adjustment coefficients `c_i`.
    pub fn adjust(&self) -> &[f64] {
        &self.adjust
    }
    /// Pool amount `A`.
    pub fn pool(&self) -> f64 {
        self.pool
    }
    /// Number of units `n`.
    pub fn n_units(&self) -> usize {
        self.unit_ids.len()
    }
    /// Number of factors `K`.
    pub fn n_factors(&self) -> usize {
        self.factor_names.len()
    }

    /// Base shares `b_i = Σ_k w_k s_ik`.
    pub fn base_shares(&self, w: &[f64]) -> Vec<f64> {
        self.shares.iter().map(|row| row.iter().zip(w).map(|(s, w)| s * w).sum()).collect()
    }

    /// Amounts without floors or caps, computed directly: `y_i = A · c_i b_i / Σ_j c_j b_j`
    /// (SPEC §3 step 5, in `f64`). `None` when `Σ_j c_j b_j ≤ 0` (weights not on the simplex).
    pub fn amounts(&self, w: &[f64]) -> Option<Vec<f64>> {
        let cb: Vec<f64> = self.base_shares(w).iter().zip(&self.adjust).map(|(b, c)| b * c).collect();
        let d: f64 = cb.iter().sum();
        if d > 0.0 && d.is_finite() {
            Some(cb.iter().map(|x| self.pool * x / d).collect())
        } else {
            None
        }
    }
}

/// Deterministic helpers shared by the tests of the sub-modules.
#[cfg(test)]
#[allow(clippy::indexing_slicing)]
pub(crate) mod testutil {
    /// SplitMix64: tiny, deterministic, good enough for test data.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Self {
            Rng(seed)
        }
        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        /// Uniform in [0, 1).
        pub fn unit(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Uniform in 0..n.
        pub fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n
        }
    }

    /// Random factor shares (units × factors), each column a share vector from raw values in
    /// [0.1, 1.1) — the `share` transform of SPEC §3.
    pub fn random_shares(rng: &mut Rng, n: usize, k: usize) -> Vec<Vec<f64>> {
        let cols: Vec<Vec<f64>> = (0..k)
            .map(|_| {
                let raw: Vec<f64> = (0..n).map(|_| 0.1 + rng.unit()).collect();
                let s: f64 = raw.iter().sum();
                raw.iter().map(|x| x / s).collect()
            })
            .collect();
        (0..n).map(|i| cols.iter().map(|c| c[i]).collect()).collect()
    }

    /// Random weights on the simplex.
    pub fn random_simplex(rng: &mut Rng, k: usize) -> Vec<f64> {
        let raw: Vec<f64> = (0..k).map(|_| 0.05 + rng.unit()).collect();
        let s: f64 = raw.iter().sum();
        raw.iter().map(|x| x / s).collect()
    }
}
