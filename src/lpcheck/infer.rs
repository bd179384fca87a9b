//! `infer-weights`: the weights an actual distribution implies (SPEC §6).
//!
//! Given actual shares `a_i` (adjustment coefficients divided out — see
//! [`adjusted_actual_shares`] — and units at floors or caps left out by the caller) and factor
//! shares `s_ik`, fit
//!
//! ```text
//! a_i ≈ Σ_k v_k s_ik,   v ≥ 0,   Σ_k v_k free
//! ```
//!
//! and report `w = v / Σ v` and `Σ v`, the "share of the pool that follows the formula". The
//! free scale lets a few misallocated units (whose excess or shortfall renormalises every
//! other share) leave the weights of the rest untouched.
//!
//! * **L1** (least absolute deviation, robust): `min Σ_i e_i` s.t. `e_i ≥ ±(a_i − Σ_k v_k s_ik)`.
//!   With a minority of misallocated units the optimum fits every other unit exactly.
//! * **L∞** (least maximum deviation): `min t` s.t. `t ≥ ±(a_i − Σ_k v_k s_ik)`.
//! * **Residuals** of the L1 fit; unit `i` is flagged when
//!   `|a_i − fitted_i| > max(rel_tol · fitted_i, abs_tol)`.
//! * **Identifiability**: for each factor the min and max of `w_k = v_k / Σ v` over all
//!   `v ≥ 0` with L1 error `≤ L = best · (1 + rel) + abs`. This is a linear-fractional
//!   program; the Charnes–Cooper transform `t = 1 / Σ v`, `u = v t` turns it into the LP
//!
//!   ```text
//!   min / max u_k   s.t.  Σ_k u_k = 1,  u ≥ 0,  t ≥ 0,
//!                         e_i ≥ ±(a_i t − Σ_k u_k s_ik),  Σ_i e_i ≤ L t
//!   ```
//!
//!   (the L1 condition `Σ_i |a_i − Σ_k v_k s_ik| ≤ L` multiplied by `t > 0`). `t = 0` is
//!   impossible: it would need `Σ_k u_k s_ik = 0` for every `i`, but `Σ u = 1` and every
//!   factor column has a positive entry. A weight that the data pin down has `min ≈ max`;
//!   a wide range means the data cannot tell that weight apart from the others.
//!
//! Internally `a` and `s` are multiplied by `n / Σ a` so that the LP's numbers are of order
//! one; results are reported in the caller's units. Interior-point zeros (`v_k ≤ 1e-9 ·
//! max v`) are clamped to 0 before `w` is formed.

use rayon::prelude::*;

use super::lp::{self, Backend, Cmp, Lp, Sense};
use super::{check_matrix, check_unique, check_vector, LpError};

/// Actual shares with adjustment coefficients divided out:
/// `a_i = (amount_i / c_i) / Σ_j (amount_j / c_j)` (SPEC §6). `adjust = None` means all 1.
/// Amounts must be finite and `≥ 0` with a positive total; coefficients finite and `> 0`.
pub fn adjusted_actual_shares(amounts: &[f64], adjust: Option<&[f64]>) -> Result<Vec<f64>, LpError> {
    check_vector("amounts", amounts, amounts.len(), false)?;
    let raw: Vec<f64> = match adjust {
        Some(c) => {
            check_vector("adjust", c, amounts.len(), true)?;
            amounts.iter().zip(c).map(|(a, c)| a / c).collect()
        }
        None => amounts.to_vec(),
    };
    let total: f64 = raw.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(LpError::input("amounts", "total must be positive"));
    }
    Ok(raw.iter().map(|x| x / total).collect())
}

/// Validated inference input: `n ≥ 1` units with unique ids, `K ≥ 1` factors with unique
/// names, `shares[i][k] = s_ik` finite `≥ 0` with every column positive somewhere (columns
/// need not sum to 1: the caller may have dropped units at floors or caps), `actual[i] = a_i`
/// finite `≥ 0` with a positive total.
#[derive(Debug, Clone, PartialEq)]
pub struct InferInput {
    unit_ids: Vec<String>,
    factor_names: Vec<String>,
    shares: Vec<Vec<f64>>,
    actual: Vec<f64>,
}

impl InferInput {
    /// Validates and builds the input.
    pub fn new(unit_ids: Vec<String>, factor_names: Vec<String>, shares: Vec<Vec<f64>>, actual: Vec<f64>) -> Result<Self, LpError> {
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
            if !shares.iter().any(|r| r.get(kk).is_some_and(|&x| x > 0.0)) {
                return Err(LpError::input(
                    format!("shares[..][{kk}]"),
                    format!("factor `{name}` is zero for every unit in the fit"),
                ));
            }
        }
        check_vector("actual", &actual, n, false)?;
        if actual.iter().sum::<f64>() <= 0.0 {
            return Err(LpError::input("actual", "total must be positive"));
        }
        Ok(Self {
            unit_ids,
            factor_names,
            shares,
            actual,
        })
    }

    /// Unit ids.
    pub fn unit_ids(&self) -> &[String] {
        &self.unit_ids
    }
    /// Factor names.
    pub fn factor_names(&self) -> &[String] {
        &self.factor_names
    }
    /// Actual shares `a_i`.
    pub fn actual(&self) -> &[f64] {
        &self.actual
    }
    /// Factor shares `s_ik`.
    pub fn shares(&self) -> &[Vec<f64>] {
        &self.shares
    }

    fn scale(&self) -> f64 {
        self.actual.len() as f64 / self.actual.iter().sum::<f64>()
    }

    fn fitted(&self, v: &[f64]) -> Vec<f64> {
        self.shares.iter().map(|row| row.iter().zip(v).map(|(s, v)| s * v).sum()).collect()
    }
}

/// Options of `infer-weights`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferOptions {
    /// LP backend (default clarabel).
    pub backend: Backend,
    /// Flag when the residual exceeds this fraction of the fitted share (default 0.01).
    pub flag_rel_tol: f64,
    /// ... or this absolute share, whichever is larger (default 1e-9; SPEC default: one
    /// rounding unit as a share of the pool).
    pub flag_abs_tol: f64,
    /// Weight ranges keep the L1 error within `best · (1 + range_rel_tol) + range_abs_tol`
    /// (defaults 0.01 and 1e-9).
    pub range_rel_tol: f64,
    /// See `range_rel_tol`.
    pub range_abs_tol: f64,
    /// Whether to compute the identifiability ranges (2K further LPs; default true).
    pub ranges: bool,
}

impl Default for InferOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Clarabel,
            flag_rel_tol: 0.01,
            flag_abs_tol: 1e-9,
            range_rel_tol: 0.01,
            range_abs_tol: 1e-9,
            ranges: true,
        }
    }
}

/// One fit `a ≈ s v`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Weights `w = v / Σ v` (sum to 1).
    pub weights: Vec<f64>,
    /// The fitted coefficients `v` (after clamping).
    pub v: Vec<f64>,
    /// `Σ v`: the share of the pool that follows the formula.
    pub formula_share: f64,
    /// The fit's error at `v`: `Σ |a_i − fitted_i|` (L1) or `max |a_i − fitted_i|` (L∞).
    pub error: f64,
    /// Fitted shares `Σ_k v_k s_ik`.
    pub fitted: Vec<f64>,
}

/// Residual of one unit under the L1 fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Residual {
    /// Unit id.
    pub unit_id: String,
    /// Actual share `a_i`.
    pub actual: f64,
    /// Fitted share.
    pub fitted: f64,
    /// `actual − fitted`.
    pub residual: f64,
    /// `|residual| > max(rel_tol · fitted, abs_tol)`.
    pub flagged: bool,
}

/// Range of one weight over the fits within tolerance of the best L1 fit.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightRange {
    /// Factor name.
    pub factor: String,
    /// Smallest `w_k`.
    pub min: f64,
    /// Largest `w_k`.
    pub max: f64,
}

/// Everything `infer-weights` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    /// Least absolute deviation fit.
    pub l1: Fit,
    /// Least maximum deviation fit.
    pub linf: Fit,
    /// Identifiability ranges (when requested).
    pub ranges: Option<Vec<WeightRange>>,
    /// Residuals of the L1 fit, in unit order.
    pub residuals: Vec<Residual>,
}

#[derive(Clone, Copy, PartialEq)]
enum Norm {
    L1,
    LInf,
}

fn fit(input: &InferInput, norm: Norm, backend: Backend) -> Result<Fit, LpError> {
    let sigma = input.scale();
    let mut lp = Lp::new(Sense::Minimise);
    let v: Vec<usize> = (0..input.factor_names.len()).map(|_| lp.var(0.0, f64::INFINITY)).collect();
    let t = match norm {
        Norm::LInf => {
            let t = lp.var(0.0, f64::INFINITY);
            lp.objective(t, 1.0);
            Some(t)
        }
        Norm::L1 => None,
    };
    for (row, &a) in input.shares.iter().zip(&input.actual) {
        let e = match t {
            Some(t) => t,
            None => {
                // free: the two rows below make it ≥ |residual|
                let e = lp.var(f64::NEG_INFINITY, f64::INFINITY);
                lp.objective(e, 1.0);
                e
            }
        };
        let sv: Vec<(usize, f64)> = v.iter().zip(row).map(|(&j, &s)| (j, s * sigma)).collect();
        // e + s·v ≥ a   and   e − s·v ≥ −a
        let mut plus = sv.clone();
        plus.push((e, 1.0));
        lp.row(plus, Cmp::Ge, a * sigma);
        let mut minus: Vec<(usize, f64)> = sv.iter().map(|&(j, c)| (j, -c)).collect();
        minus.push((e, 1.0));
        lp.row(minus, Cmp::Ge, -a * sigma);
    }
    let task = match norm {
        Norm::L1 => "fitting L1 weights",
        Norm::LInf => "fitting L-infinity weights",
    };
    let sol = lp::solve(&lp, backend).map_err(|f| LpError::solver(task, f))?;
    let raw: Vec<f64> = v.iter().map(|&j| sol.value(j).max(0.0)).collect();
    let max = raw.iter().cloned().fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return Err(LpError::Degenerate(
            "the best fit gives every factor zero weight: nothing follows the formula".into(),
        ));
    }
    let v_clamped: Vec<f64> = raw.iter().map(|&x| if x <= 1e-9 * max { 0.0 } else { x }).collect();
    let total: f64 = v_clamped.iter().sum();
    let weights = v_clamped.iter().map(|x| x / total).collect();
    let fitted = input.fitted(&v_clamped);
    let abs_res = input.actual.iter().zip(&fitted).map(|(a, f)| (a - f).abs());
    let error = match norm {
        Norm::L1 => abs_res.sum(),
        Norm::LInf => abs_res.fold(0.0, f64::max),
    };
    Ok(Fit {
        weights,
        v: v_clamped,
        formula_share: total,
        error,
        fitted,
    })
}

/// Least-absolute-deviation fit `min_v Σ_i |a_i − Σ_k v_k s_ik|`, `v ≥ 0` (module doc).
pub fn fit_l1(input: &InferInput, backend: Backend) -> Result<Fit, LpError> {
    fit(input, Norm::L1, backend)
}

/// Least-maximum-deviation fit `min_v max_i |a_i − Σ_k v_k s_ik|`, `v ≥ 0` (module doc).
pub fn fit_linf(input: &InferInput, backend: Backend) -> Result<Fit, LpError> {
    fit(input, Norm::LInf, backend)
}

/// For each factor, `[min, max]` of `w_k = v_k / Σ v` over `{v ≥ 0 : Σ_i |a_i − Σ_k v_k s_ik|
/// ≤ best_l1 · (1 + rel_tol) + abs_tol}`, by the Charnes–Cooper LP of the module doc (2K LPs,
/// run in parallel). `best_l1` is the L1 error of [`fit_l1`].
pub fn weight_ranges(input: &InferInput, best_l1: f64, rel_tol: f64, abs_tol: f64, backend: Backend) -> Result<Vec<WeightRange>, LpError> {
    for (field, x) in [("best_l1", best_l1), ("rel_tol", rel_tol), ("abs_tol", abs_tol)] {
        if !(x.is_finite() && x >= 0.0) {
            return Err(LpError::input(field, format!("{x} must be finite and ≥ 0")));
        }
    }
    let k = input.factor_names.len();
    let sigma = input.scale();
    let bound = (best_l1 * (1.0 + rel_tol) + abs_tol) * sigma;
    let one = |j: usize, maximise: bool| -> Result<f64, LpError> {
        let mut lp = Lp::new(if maximise { Sense::Maximise } else { Sense::Minimise });
        // ranges are reported to ~1e-7; the looser tolerance saves a few iterations
        lp.set_tolerance(1e-9);
        let u: Vec<usize> = (0..k).map(|_| lp.var(0.0, 1.0)).collect();
        let t = lp.var(0.0, f64::INFINITY);
        lp.row(u.iter().map(|&x| (x, 1.0)).collect(), Cmp::Eq, 1.0);
        let mut budget: Vec<(usize, f64)> = vec![(t, bound)];
        for (row, &a) in input.shares.iter().zip(&input.actual) {
            let e = lp.var(f64::NEG_INFINITY, f64::INFINITY);
            budget.push((e, -1.0));
            let su: Vec<(usize, f64)> = u.iter().zip(row).map(|(&x, &s)| (x, s * sigma)).collect();
            // e − a t + s·u ≥ 0   and   e + a t − s·u ≥ 0
            let mut r1 = su.clone();
            r1.push((e, 1.0));
            r1.push((t, -a * sigma));
            lp.row(r1, Cmp::Ge, 0.0);
            let mut r2: Vec<(usize, f64)> = su.iter().map(|&(x, c)| (x, -c)).collect();
            r2.push((e, 1.0));
            r2.push((t, a * sigma));
            lp.row(r2, Cmp::Ge, 0.0);
        }
        // L t − Σ e ≥ 0
        lp.row(budget, Cmp::Ge, 0.0);
        if let Some(&uj) = u.get(j) {
            lp.objective(uj, 1.0);
        }
        let sol = lp::solve(&lp, backend).map_err(|f| LpError::solver(format!("finding the identifiability range of weight {j}"), f))?;
        Ok(lp::snap01(sol.objective, 1e-9))
    };
    let jobs: Vec<(usize, bool)> = (0..k).flat_map(|j| [(j, false), (j, true)]).collect();
    let values = jobs
        .par_iter()
        .map(|&(j, maximise)| one(j, maximise))
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<Vec<f64>, LpError>>()?;
    Ok(input
        .factor_names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let lo = values.get(2 * j).copied().unwrap_or(0.0);
            let hi = values.get(2 * j + 1).copied().unwrap_or(1.0);
            WeightRange {
                factor: name.clone(),
                min: lo.min(hi),
                max: hi.max(lo),
            }
        })
        .collect())
}

/// Runs `infer-weights` (SPEC §6): L1 and L∞ fits, L1 residuals with flags, and (optionally)
/// the identifiability ranges around the L1 fit.
pub fn infer_weights(input: &InferInput, opts: &InferOptions) -> Result<Inference, LpError> {
    for (field, x) in [("flag_rel_tol", opts.flag_rel_tol), ("flag_abs_tol", opts.flag_abs_tol)] {
        if !(x.is_finite() && x >= 0.0) {
            return Err(LpError::input(field, format!("{x} must be finite and ≥ 0")));
        }
    }
    let l1 = fit_l1(input, opts.backend)?;
    let linf = fit_linf(input, opts.backend)?;
    let residuals = input
        .unit_ids
        .iter()
        .zip(&input.actual)
        .zip(&l1.fitted)
        .map(|((id, &a), &f)| {
            let r = a - f;
            Residual {
                unit_id: id.clone(),
                actual: a,
                fitted: f,
                residual: r,
                flagged: r.abs() > (opts.flag_rel_tol * f).max(opts.flag_abs_tol),
            }
        })
        .collect();
    let ranges = if opts.ranges {
        Some(weight_ranges(
            input,
            l1.error,
            opts.range_rel_tol,
            opts.range_abs_tol,
            opts.backend,
        )?)
    } else {
        None
    };
    Ok(Inference {
        l1,
        linf,
        ranges,
        residuals,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::lpcheck::testutil::{random_shares, random_simplex, Rng};
    use crate::lpcheck::PoolShares;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("u{i}")).collect()
    }

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("f{i}")).collect()
    }

    fn max_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
    }

    #[test]
    fn adjusted_shares_divide_out_coefficients() {
        let a = adjusted_actual_shares(&[120.0, 100.0, 80.0], Some(&[1.2, 1.0, 0.8])).unwrap();
        assert!(max_diff(&a, &[1.0 / 3.0; 3]) < 1e-15);
        let a = adjusted_actual_shares(&[30.0, 10.0], None).unwrap();
        assert_eq!(a, vec![0.75, 0.25]);
        assert!(adjusted_actual_shares(&[0.0, 0.0], None).is_err());
        assert!(adjusted_actual_shares(&[1.0, 1.0], Some(&[1.0, 0.0])).is_err());
        assert!(adjusted_actual_shares(&[1.0, 1.0], Some(&[1.0])).is_err());
        assert!(adjusted_actual_shares(&[1.0, f64::NAN], None).is_err());
    }

    /// Two factors, three units: s_1 = (0.5, 0.3, 0.2), s_2 = (0.2, 0.3, 0.5),
    /// w = (0.3, 0.7) gives a = (0.29, 0.30, 0.41), recovered exactly.
    #[test]
    fn hand_case_recovers_weights() {
        let input = InferInput::new(
            ids(3),
            names(2),
            vec![vec![0.5, 0.2], vec![0.3, 0.3], vec![0.2, 0.5]],
            vec![0.29, 0.30, 0.41],
        )
        .unwrap();
        for backend in [Backend::Clarabel, Backend::Microlp] {
            let opts = InferOptions {
                backend,
                ..InferOptions::default()
            };
            let r = infer_weights(&input, &opts).unwrap();
            assert!(max_diff(&r.l1.weights, &[0.3, 0.7]) < 1e-9, "{:?}", r.l1);
            assert!((r.l1.formula_share - 1.0).abs() < 1e-9);
            assert!(r.l1.error < 1e-9);
            assert!(max_diff(&r.linf.weights, &[0.3, 0.7]) < 1e-9, "{:?}", r.linf);
            assert!(r.residuals.iter().all(|x| !x.flagged));
            let ranges = r.ranges.unwrap();
            assert!((ranges[0].min - 0.3).abs() < 1e-6 && (ranges[0].max - 0.3).abs() < 1e-6);
        }
    }

    /// One factor, s = (0.6, 0.4), a = (0.5, 0.5):
    /// L1: |0.5 − 0.6v| + |0.5 − 0.4v| is least at v = 5/6 (error 1/6);
    /// L∞: max(|0.5 − 0.6v|, |0.5 − 0.4v|) is least at v = 1 (error 0.1).
    #[test]
    fn hand_case_l1_and_linf_differ() {
        let input = InferInput::new(ids(2), names(1), vec![vec![0.6], vec![0.4]], vec![0.5, 0.5]).unwrap();
        for backend in [Backend::Clarabel, Backend::Microlp] {
            let l1 = fit_l1(&input, backend).unwrap();
            assert!((l1.formula_share - 5.0 / 6.0).abs() < 1e-7, "{l1:?}");
            assert!((l1.error - 1.0 / 6.0).abs() < 1e-7);
            assert_eq!(l1.weights, vec![1.0]);
            let linf = fit_linf(&input, backend).unwrap();
            assert!((linf.formula_share - 1.0).abs() < 1e-7, "{linf:?}");
            assert!((linf.error - 0.1).abs() < 1e-7);
        }
    }

    /// Actual shares generated by the allocation formula with known weights, optionally
    /// with adjustment coefficients, optionally with misallocated units.
    fn generate(rng: &mut Rng, n: usize, k: usize, with_adjust: bool, planted: &[(usize, f64)]) -> (InferInput, Vec<f64>) {
        let shares = random_shares(rng, n, k);
        let w = random_simplex(rng, k);
        let adjust: Option<Vec<f64>> = with_adjust.then(|| (0..n).map(|_| 0.7 + 0.6 * rng.unit()).collect());
        let pool = PoolShares::new(ids(n), names(k), shares.clone(), adjust.clone(), 3e9).unwrap();
        let mut y = pool.amounts(&w).unwrap();
        for &(i, f) in planted {
            y[i] *= 1.0 + f;
        }
        let a = adjusted_actual_shares(&y, adjust.as_deref()).unwrap();
        (InferInput::new(ids(n), names(k), shares, a).unwrap(), w)
    }

    #[test]
    fn recovers_known_weights_with_and_without_adjustment() {
        let mut rng = Rng::new(11);
        for with_adjust in [false, true] {
            for _ in 0..3 {
                let (input, w) = generate(&mut rng, 300, 6, with_adjust, &[]);
                let r = infer_weights(&input, &InferOptions::default()).unwrap();
                assert!(max_diff(&r.l1.weights, &w) < 1e-6, "{:?} vs {w:?}", r.l1.weights);
                assert!(max_diff(&r.linf.weights, &w) < 1e-6);
                assert!((r.l1.formula_share - 1.0).abs() < 1e-6);
                assert!(r.residuals.iter().all(|x| !x.flagged));
                for (range, wk) in r.ranges.unwrap().iter().zip(&w) {
                    assert!(range.min <= wk + 1e-6 && wk - 1e-6 <= range.max, "{range:?}");
                    assert!(range.max - range.min < 1e-4, "{range:?}");
                }
            }
        }
    }

    #[test]
    fn planted_misallocations_are_flagged_and_do_not_bias_l1() {
        let mut rng = Rng::new(5);
        for with_adjust in [false, true] {
            let planted = [(17, 0.2), (123, -0.2), (250, 0.2)];
            let (input, w) = generate(&mut rng, 300, 6, with_adjust, &planted);
            let r = infer_weights(&input, &InferOptions::default()).unwrap();
            assert!(max_diff(&r.l1.weights, &w) < 1e-6, "{:?} vs {w:?}", r.l1.weights);
            let flagged: Vec<usize> = r.residuals.iter().enumerate().filter(|(_, x)| x.flagged).map(|(i, _)| i).collect();
            assert_eq!(flagged, vec![17, 123, 250]);
            // the formula share is 1 / (1 + net excess of the planted units)
            assert!(r.l1.formula_share < 1.0 + 1e-3 && r.l1.formula_share > 0.99);
            for (range, wk) in r.ranges.unwrap().iter().zip(&w) {
                assert!(range.min <= wk + 1e-6 && wk - 1e-6 <= range.max, "{range:?}");
            }
        }
    }

    /// Two identical factor columns: only their sum is identified.
    #[test]
    fn collinear_factors_are_reported_as_free() {
        let mut rng = Rng::new(9);
        let n = 40;
        let base = random_shares(&mut rng, n, 2);
        let shares: Vec<Vec<f64>> = base.iter().map(|r| vec![r[0], r[0], r[1]]).collect();
        let w = [0.3, 0.2, 0.5];
        let a: Vec<f64> = shares.iter().map(|r| r.iter().zip(&w).map(|(s, w)| s * w).sum()).collect();
        let input = InferInput::new(ids(n), names(3), shares, a).unwrap();
        let r = infer_weights(&input, &InferOptions::default()).unwrap();
        let ranges = r.ranges.unwrap();
        assert!(ranges[0].min < 1e-6 && (ranges[0].max - 0.5).abs() < 1e-6, "{ranges:?}");
        assert!(ranges[1].min < 1e-6 && (ranges[1].max - 0.5).abs() < 1e-6, "{ranges:?}");
        assert!((ranges[2].min - 0.5).abs() < 1e-6 && (ranges[2].max - 0.5).abs() < 1e-6);
        assert!((r.l1.weights[0] + r.l1.weights[1] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn backends_agree_on_noisy_data() {
        let mut rng = Rng::new(21);
        let (input, _) = generate(&mut rng, 60, 3, true, &[(3, 0.15), (40, -0.1)]);
        let noisy: Vec<f64> = input.actual().iter().map(|a| a * (1.0 + 0.002 * (rng.unit() - 0.5))).collect();
        let input = InferInput::new(ids(60), names(3), input.shares().to_vec(), noisy).unwrap();
        let a = fit_l1(&input, Backend::Clarabel).unwrap();
        let b = fit_l1(&input, Backend::Microlp).unwrap();
        assert!((a.error - b.error).abs() < 1e-8 * (1.0 + b.error), "{} {}", a.error, b.error);
        let ra = weight_ranges(&input, b.error, 0.05, 0.0, Backend::Clarabel).unwrap();
        let rb = weight_ranges(&input, b.error, 0.05, 0.0, Backend::Microlp).unwrap();
        for (x, y) in ra.iter().zip(&rb) {
            assert!((x.min - y.min).abs() < 1e-6 && (x.max - y.max).abs() < 1e-6, "{x:?} {y:?}");
        }
        // a budget below the best L1 error admits no fit: an error value, not a panic
        let e = weight_ranges(&input, 0.5 * b.error, 0.0, 0.0, Backend::Clarabel);
        assert!(matches!(e, Err(LpError::Solver { .. })), "{e:?}");
        let a = fit_linf(&input, Backend::Clarabel).unwrap();
        let b = fit_linf(&input, Backend::Microlp).unwrap();
        assert!((a.error - b.error).abs() < 1e-8, "{} {}", a.error, b.error);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(InferInput::new(ids(2), names(1), vec![vec![0.0], vec![0.0]], vec![0.5, 0.5]).is_err());
        assert!(InferInput::new(ids(2), names(1), vec![vec![1.0], vec![0.0]], vec![0.0, 0.0]).is_err());
        assert!(InferInput::new(ids(2), names(1), vec![vec![1.0]], vec![0.5, 0.5]).is_err());
        assert!(InferInput::new(vec![], names(1), vec![], vec![]).is_err());
        let input = InferInput::new(ids(2), names(1), vec![vec![0.5], vec![0.5]], vec![0.5, 0.5]).unwrap();
        assert!(weight_ranges(&input, -1.0, 0.0, 0.0, Backend::Clarabel).is_err());
        // all actual on a unit no factor supports: best fit gives zero weight
        let input = InferInput::new(ids(2), names(1), vec![vec![1.0], vec![0.0]], vec![0.0, 1.0]).unwrap();
        assert!(matches!(fit_l1(&input, Backend::Microlp), Err(LpError::Degenerate(_))));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod fuzz {
    use super::*;
    use crate::lpcheck::{check_weights, CheckData, CheckOptions, NamedCheck, PoolShares, Rule};
    use proptest::prelude::*;

    fn any_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => 0.0..1.0f64,
            1 => Just(0.0),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => -1.0..0.0f64,
            1 => 1e-300..1e-250f64,
            1 => 1e250..1e300f64,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the numbers, inference and checks return a value (Ok or Err), never panic.
        #[test]
        fn never_panics(
            n in 1usize..5,
            k in 1usize..3,
            cells in proptest::collection::vec(any_f64(), 20),
            actual in proptest::collection::vec(any_f64(), 5),
            backend in prop_oneof![Just(Backend::Clarabel), Just(Backend::Microlp)],
        ) {
            let ids: Vec<String> = (0..n).map(|i| format!("u{i}")).collect();
            let names: Vec<String> = (0..k).map(|j| format!("f{j}")).collect();
            let shares: Vec<Vec<f64>> =
                (0..n).map(|i| (0..k).map(|j| cells[i * k + j]).collect()).collect();
            if let Ok(input) =
                InferInput::new(ids.clone(), names.clone(), shares.clone(), actual[..n].to_vec())
            {
                let opts = InferOptions { backend, ..InferOptions::default() };
                let _ = infer_weights(&input, &opts);
            }
            // normalise columns so that some cases pass validation
            let col_sums: Vec<f64> =
                (0..k).map(|j| shares.iter().map(|r| r[j]).sum::<f64>()).collect();
            let norm: Vec<Vec<f64>> = shares
                .iter()
                .map(|r| r.iter().zip(&col_sums).map(|(x, s)| x / s).collect())
                .collect();
            if let Ok(pool) = PoolShares::new(ids, names.clone(), norm, None, 100.0) {
                let data = CheckData::new(pool, Some(vec![1.0; n]), None, vec![]).unwrap();
                let checks = vec![
                    NamedCheck {
                        name: "b".into(),
                        rule: Rule::WeightBounds { factor: names[0].clone(), lo: 0.1, hi: 0.9 },
                    },
                    NamedCheck {
                        name: "need".into(),
                        rule: Rule::NeedMonotone {
                            dominance: crate::lpcheck::Dominance::Share,
                            max_pairs: 100,
                        },
                    },
                ];
                let w = vec![1.0 / k as f64; k];
                let opts = CheckOptions { backend, ..CheckOptions::default() };
                let _ = check_weights(&data, &checks, &w, &opts);
            }
        }
    }
}
