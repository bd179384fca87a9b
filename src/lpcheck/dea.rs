//! Benefit-of-the-doubt (DEA) composite scores for performance tables.
//!
//! A table of `n` units × `K` items, every value `x_ik` normalised to `[0, 1]` with higher
//! better. Admissible item weights: `lo_k ≤ w_k ≤ hi_k`, `Σ_k w_k = 1` (the policy bounds).
//! The composite score of unit `i` under `w` is `Σ_k w_k x_ik`.
//!
//! * **Best score** of unit `i`: `max_w Σ_k w_k x_ik` over the admissible weights — one LP per
//!   unit — beside its score under the published weights. A unit whose best score is still
//!   low cannot blame the weights.
//! * **Rank** under `w`: `1 + #{j : score_j > score_i}` (ties share the better rank), the
//!   published rank uses a tie tolerance of 1e-12.
//! * **Best rank**: `1 + min_w #{j : score_j(w) > score_i(w)}` (ties in the unit's favour);
//!   **worst rank**: `1 + max_w #{j ≠ i : score_j(w) ≥ score_i(w)}` (ties against it).
//!
//! For each unit and each rival `j`, `d = x_j − x_i` is bounded over the admissible set in
//! closed form (greedy: start at `lo`, hand the remaining `1 − Σ lo` to the items in order of
//! `d_k` up to `hi_k` — exact for a box intersected with the simplex). Rivals that are always
//! above (or never above) are counted (or dropped) directly; the others are *undecided*.
//!
//! * When a unit has at most [`DeaOptions::max_binaries`] undecided rivals (default
//!   [`DEFAULT_MAX_BINARIES`]) the rank is **exact**: a MIP solved by microlp with one binary
//!   per undecided rival — best rank: `min Σ z_j` s.t. `d_j·w ≤ max(d_j·w)·z_j`; worst rank:
//!   `max Σ z_j` s.t. `d_j·w ≥ min(d_j·w)·(1 − z_j)`.
//! * Otherwise it is a **bound** `[lo, hi]` that contains the true rank: for the best rank,
//!   `lo = 1 + #always above`, `hi` = the rank under the unit's own best weights or the
//!   published ones, whichever is better; for the worst rank, `hi = 1 + #always ≥ +
//!   #undecided`, `lo` = the rank (ties against) under the weights that minimise the unit's
//!   score or the published ones, whichever is worse.
//!
//! The MIPs have no time limit by default, so results do not depend on the machine; with a
//! limit ([`DeaOptions::mip_time_limit`]) a MIP that stops early falls back to the bound.

use super::lp::{self, Backend, Cmp, Lp, Sense};
use super::{check_matrix, check_unique, check_weights_vector, LpError};

/// Default size limit of the exact rank MIPs (undecided rivals per unit).
pub const DEFAULT_MAX_BINARIES: usize = 30;

/// Validated performance table and weight bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct DeaInput {
    unit_ids: Vec<String>,
    item_names: Vec<String>,
    values: Vec<Vec<f64>>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    published: Vec<f64>,
}

impl DeaInput {
    /// Validates: values finite in `[0, 1]`; `0 ≤ lo_k ≤ hi_k ≤ 1` with `Σ lo ≤ 1 ≤ Σ hi`
    /// (so admissible weights exist); published weights `≥ 0` summing to 1 (they may lie
    /// outside the bounds).
    pub fn new(
        unit_ids: Vec<String>,
        item_names: Vec<String>,
        values: Vec<Vec<f64>>,
        lo: Vec<f64>,
        hi: Vec<f64>,
        published: Vec<f64>,
    ) -> Result<Self, LpError> {
        let n = unit_ids.len();
        let k = item_names.len();
        if n == 0 {
            return Err(LpError::input("unit_ids", "no units"));
        }
        if k == 0 {
            return Err(LpError::input("item_names", "no items"));
        }
        check_unique("unit_ids", &unit_ids)?;
        check_unique("item_names", &item_names)?;
        check_matrix("values", &values, n, k, true)?;
        for (i, row) in values.iter().enumerate() {
            for (kk, &x) in row.iter().enumerate() {
                if x > 1.0 {
                    return Err(LpError::input(format!("values[{i}][{kk}]"), format!("{x} is outside [0, 1]")));
                }
            }
        }
        if lo.len() != k || hi.len() != k {
            return Err(LpError::input("lo/hi", format!("expected {k} bounds each")));
        }
        for (kk, (&l, &h)) in lo.iter().zip(&hi).enumerate() {
            if !(l.is_finite() && h.is_finite() && 0.0 <= l && l <= h && h <= 1.0) {
                return Err(LpError::input(
                    format!("bounds[{kk}]"),
                    format!("[{l}, {h}] must satisfy 0 ≤ lo ≤ hi ≤ 1"),
                ));
            }
        }
        let (sl, sh) = (lo.iter().sum::<f64>(), hi.iter().sum::<f64>());
        if sl > 1.0 + 1e-12 || sh < 1.0 - 1e-12 {
            return Err(LpError::input(
                "lo/hi",
                format!("no weights summing to 1 fit the bounds (Σ lo = {sl}, Σ hi = {sh})"),
            ));
        }
        check_weights_vector("published", &published, k)?;
        Ok(Self {
            unit_ids,
            item_names,
            values,
            lo,
            hi,
            published,
        })
    }

    fn score(&self, i: usize, w: &[f64]) -> f64 {
        self.values.get(i).map_or(0.0, |r| r.iter().zip(w).map(|(x, w)| x * w).sum())
    }

    /// Greedy extreme of `d·w` over the admissible weights: the maximising (`max = true`) or
    /// minimising weights.
    fn extreme_weights(&self, d: &[f64], max: bool) -> Vec<f64> {
        let mut w = self.lo.clone();
        let mut rem = 1.0 - self.lo.iter().sum::<f64>();
        let mut order: Vec<usize> = (0..d.len()).collect();
        order.sort_by(|&a, &b| {
            let (da, db) = (d.get(a).copied().unwrap_or(0.0), d.get(b).copied().unwrap_or(0.0));
            let o = if max { db.total_cmp(&da) } else { da.total_cmp(&db) };
            o.then(a.cmp(&b))
        });
        for k in order {
            if rem <= 0.0 {
                break;
            }
            let room = self.hi.get(k).copied().unwrap_or(0.0) - self.lo.get(k).copied().unwrap_or(0.0);
            let add = room.min(rem).max(0.0);
            if let Some(x) = w.get_mut(k) {
                *x += add;
            }
            rem -= add;
        }
        w
    }

    fn extreme(&self, d: &[f64], max: bool) -> f64 {
        let w = self.extreme_weights(d, max);
        d.iter().zip(&w).map(|(d, w)| d * w).sum()
    }

    fn diff(&self, j: usize, i: usize) -> Vec<f64> {
        match (self.values.get(j), self.values.get(i)) {
            (Some(a), Some(b)) => a.iter().zip(b).map(|(a, b)| a - b).collect(),
            _ => Vec::new(),
        }
    }

    /// `1 + #{j : score_j(w) > score_i(w) + tol}`, or with `≥ score_i − tol` and `j ≠ i`
    /// when `against`.
    fn rank_under(&self, i: usize, w: &[f64], against: bool, tol: f64) -> usize {
        let si = self.score(i, w);
        1 + (0..self.values.len())
            .filter(|&j| j != i)
            .filter(|&j| {
                let sj = self.score(j, w);
                if against {
                    sj >= si - tol
                } else {
                    sj > si + tol
                }
            })
            .count()
    }
}

/// Options of the benefit-of-the-doubt analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeaOptions {
    /// Backend for the per-unit best-score LPs (default microlp: `K` variables, exact
    /// vertices). The rank MIPs always use microlp.
    pub backend: Backend,
    /// Largest number of undecided rivals for which the rank MIP is solved (default
    /// [`DEFAULT_MAX_BINARIES`]); above it the rank is reported as a bound.
    pub max_binaries: usize,
    /// Optional time limit per MIP in seconds; a MIP stopped early falls back to the bound.
    pub mip_time_limit: Option<f64>,
}

impl Default for DeaOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Microlp,
            max_binaries: DEFAULT_MAX_BINARIES,
            mip_time_limit: None,
        }
    }
}

/// An interval `[lo, hi]` known to contain a rank; exact when `lo == hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankBounds {
    /// Lower end.
    pub lo: usize,
    /// Upper end.
    pub hi: usize,
}

impl RankBounds {
    /// Whether the rank is known exactly.
    pub fn is_exact(&self) -> bool {
        self.lo == self.hi
    }
}

/// Best and worst rank a unit can reach under admissible weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankRange {
    /// Best (smallest) rank, ties in the unit's favour.
    pub best: RankBounds,
    /// Worst (largest) rank, ties against the unit.
    pub worst: RankBounds,
}

/// Result for one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct DeaUnit {
    /// Unit id.
    pub unit_id: String,
    /// Score under the published weights.
    pub published_score: f64,
    /// Rank under the published weights (ties share the better rank).
    pub published_rank: usize,
    /// Best score under admissible weights.
    pub best_score: f64,
    /// Weights achieving the best score.
    pub best_weights: Vec<f64>,
    /// Rank range under admissible weights.
    pub rank: RankRange,
}

fn admissible_vars(lp: &mut Lp, input: &DeaInput) -> Vec<usize> {
    let w: Vec<usize> = input.lo.iter().zip(&input.hi).map(|(&l, &h)| lp.var(l, h)).collect();
    lp.row(w.iter().map(|&j| (j, 1.0)).collect(), Cmp::Eq, 1.0);
    w
}

fn best_score(input: &DeaInput, i: usize, backend: Backend) -> Result<(f64, Vec<f64>), LpError> {
    let mut lp = Lp::new(Sense::Maximise);
    let w = admissible_vars(&mut lp, input);
    if let Some(row) = input.values.get(i) {
        for (&j, &x) in w.iter().zip(row) {
            lp.objective(j, x);
        }
    }
    let sol = lp::solve(&lp, backend).map_err(|f| LpError::solver(format!("finding the best score of unit {i}"), f))?;
    let raw: Vec<f64> = w.iter().map(|&j| sol.value(j)).collect();
    let weights = lp::clamp_normalise(&raw, 1e-9).unwrap_or(raw);
    Ok((input.score(i, &weights), weights))
}

/// Exact rank MIP over the undecided rivals `(d_j, big_m_j)`; `None` when microlp stopped
/// without proving optimality.
fn rank_mip(input: &DeaInput, rivals: &[(Vec<f64>, f64)], worst: bool, time_limit: Option<f64>) -> Result<Option<usize>, LpError> {
    let mut lp = Lp::new(if worst { Sense::Maximise } else { Sense::Minimise });
    lp.set_time_limit(time_limit);
    let w = admissible_vars(&mut lp, input);
    for (d, m) in rivals {
        let z = lp.binary();
        lp.objective(z, 1.0);
        let mut terms: Vec<(usize, f64)> = w.iter().copied().zip(d.iter().copied()).collect();
        if worst {
            // z = 1 ⇒ d·w ≥ 0:   d·w + m z ≥ m   (m = min d·w < 0)
            terms.push((z, *m));
            lp.row(terms, Cmp::Ge, *m);
        } else {
            // z = 0 ⇒ d·w ≤ 0:   d·w − M z ≤ 0   (M = max d·w > 0)
            terms.push((z, -*m));
            lp.row(terms, Cmp::Le, 0.0);
        }
    }
    let sol = lp::solve(&lp, Backend::Microlp).map_err(|f| LpError::solver("solving a rank MIP", f))?;
    if !sol.proven_optimal {
        return Ok(None);
    }
    Ok(Some(sol.objective.round().max(0.0) as usize))
}

/// Benefit-of-the-doubt analysis (module doc): for every unit its published score and rank,
/// its best score under admissible weights (with the weights), and its best and worst rank.
pub fn benefit_of_doubt(input: &DeaInput, opts: &DeaOptions) -> Result<Vec<DeaUnit>, LpError> {
    const TOL: f64 = 1e-12;
    let n = input.values.len();
    // Ranks under the published weights bound the rank range only if they are admissible.
    let published_admissible = input
        .published
        .iter()
        .zip(input.lo.iter().zip(&input.hi))
        .all(|(&w, (&l, &h))| l - 1e-12 <= w && w <= h + 1e-12);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (best, best_w) = best_score(input, i, opts.backend)?;
        let published_score = input.score(i, &input.published);
        let published_rank = input.rank_under(i, &input.published, false, TOL);

        // Classify rivals.
        let mut above_always = 0usize; // min d·w > 0
        let mut geq_always = 0usize; // min d·w ≥ 0
        let mut undecided_best = Vec::new(); // (d, max d·w) with min ≤ 0 < max
        let mut undecided_worst = Vec::new(); // (d, min d·w) with min < 0 ≤ max
        for j in (0..n).filter(|&j| j != i) {
            let d = input.diff(j, i);
            let (lo, hi) = (input.extreme(&d, false), input.extreme(&d, true));
            if lo > TOL {
                above_always += 1;
            } else if hi > TOL {
                undecided_best.push((d.clone(), hi));
            }
            if lo >= -TOL {
                geq_always += 1;
            } else if hi >= -TOL {
                undecided_worst.push((d, lo));
            }
        }

        // Best rank.
        let mut best_hi = input.rank_under(i, &best_w, false, TOL);
        if published_admissible {
            best_hi = best_hi.min(published_rank);
        }
        let best_hi = best_hi.max(1 + above_always);
        let best_rank = if undecided_best.is_empty() {
            RankBounds {
                lo: 1 + above_always,
                hi: 1 + above_always,
            }
        } else if undecided_best.len() <= opts.max_binaries {
            match rank_mip(input, &undecided_best, false, opts.mip_time_limit)? {
                Some(z) => RankBounds {
                    lo: 1 + above_always + z,
                    hi: 1 + above_always + z,
                },
                None => RankBounds {
                    lo: 1 + above_always,
                    hi: best_hi,
                },
            }
        } else {
            RankBounds {
                lo: 1 + above_always,
                hi: best_hi,
            }
        };

        // Worst rank.
        let own = input.values.get(i).cloned().unwrap_or_default();
        let w_min = input.extreme_weights(&own, false);
        let worst_cap = 1 + geq_always + undecided_worst.len();
        let mut worst_lo = input.rank_under(i, &w_min, true, TOL);
        if published_admissible {
            worst_lo = worst_lo.max(input.rank_under(i, &input.published, true, TOL));
        }
        let worst_lo = worst_lo.min(worst_cap);
        let worst_rank = if undecided_worst.is_empty() {
            RankBounds {
                lo: 1 + geq_always,
                hi: 1 + geq_always,
            }
        } else if undecided_worst.len() <= opts.max_binaries {
            match rank_mip(input, &undecided_worst, true, opts.mip_time_limit)? {
                Some(z) => RankBounds {
                    lo: 1 + geq_always + z,
                    hi: 1 + geq_always + z,
                },
                None => RankBounds {
                    lo: worst_lo,
                    hi: worst_cap,
                },
            }
        } else {
            RankBounds {
                lo: worst_lo,
                hi: worst_cap,
            }
        };

        out.push(DeaUnit {
            unit_id: input.unit_ids.get(i).cloned().unwrap_or_default(),
            published_score,
            published_rank,
            best_score: best,
            best_weights: best_w,
            rank: RankRange {
                best: best_rank,
                worst: worst_rank,
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::lpcheck::testutil::Rng;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("u{i}")).collect()
    }

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("item{i}")).collect()
    }

    /// A = (1, 0), B = (0, 1), C = (0.6, 0.6); 0.2 ≤ w1 ≤ 0.8, published (0.5, 0.5).
    /// Published scores 0.5, 0.5, 0.6 → ranks 2, 2, 1. Best scores 0.8, 0.8, 0.6.
    /// Best ranks: A at w1 = 0.8, B at w1 = 0.2, C for w1 in [0.4, 0.6] → all 1.
    /// Worst ranks: A at w1 = 0.2 (0.2 < 0.6 < 0.8) → 3, B → 3; C is beaten by at most one
    /// of A, B (w1 ≥ 0.6 and w1 ≤ 0.4 cannot both hold) → 2.
    #[test]
    fn hand_case_three_units_two_items() {
        let input = DeaInput::new(
            vec!["A".into(), "B".into(), "C".into()],
            names(2),
            vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.6, 0.6]],
            vec![0.2, 0.2],
            vec![0.8, 0.8],
            vec![0.5, 0.5],
        )
        .unwrap();
        for backend in [Backend::Clarabel, Backend::Microlp] {
            let opts = DeaOptions {
                backend,
                ..DeaOptions::default()
            };
            let r = benefit_of_doubt(&input, &opts).unwrap();
            let published: Vec<usize> = r.iter().map(|u| u.published_rank).collect();
            assert_eq!(published, vec![2, 2, 1]);
            let best: Vec<f64> = r.iter().map(|u| u.best_score).collect();
            for (b, e) in best.iter().zip([0.8, 0.8, 0.6]) {
                assert!((b - e).abs() < 1e-8, "{best:?}");
            }
            let exact = |b: RankBounds| {
                assert!(b.is_exact(), "{b:?}");
                b.lo
            };
            let best_rank: Vec<usize> = r.iter().map(|u| exact(u.rank.best)).collect();
            let worst_rank: Vec<usize> = r.iter().map(|u| exact(u.rank.worst)).collect();
            assert_eq!(best_rank, vec![1, 1, 1]);
            assert_eq!(worst_rank, vec![3, 3, 2]);
        }
    }

    fn random_input(rng: &mut Rng, n: usize, k: usize) -> DeaInput {
        let values: Vec<Vec<f64>> = (0..n).map(|_| (0..k).map(|_| rng.unit()).collect()).collect();
        let lo: Vec<f64> = (0..k).map(|_| 0.3 * rng.unit() / k as f64).collect();
        let hi: Vec<f64> = (0..k).map(|_| 0.5 + 0.5 * rng.unit()).collect();
        let published = vec![1.0 / k as f64; k];
        DeaInput::new(ids(n), names(k), values, lo, hi, published).unwrap()
    }

    #[test]
    fn best_scores_match_the_greedy_solution() {
        let mut rng = Rng::new(1);
        for _ in 0..5 {
            let input = random_input(&mut rng, 10, 4);
            for backend in [Backend::Clarabel, Backend::Microlp] {
                let opts = DeaOptions {
                    backend,
                    max_binaries: 0,
                    mip_time_limit: None,
                };
                let r = benefit_of_doubt(&input, &opts).unwrap();
                for (i, u) in r.iter().enumerate() {
                    let greedy = input.extreme(&input.values[i], true);
                    assert!((u.best_score - greedy).abs() < 1e-7, "{} vs {greedy}", u.best_score);
                    assert!(u.best_score >= u.published_score - 1e-12);
                    assert!((u.best_weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
                }
            }
        }
    }

    /// Exact best and worst ranks for two items by enumerating every breakpoint of the
    /// weight line (where two scores cross) and the midpoints between them.
    fn brute_force_ranks(input: &DeaInput, i: usize) -> (usize, usize) {
        let (lo, hi) = (input.lo[0].max(1.0 - input.hi[1]), input.hi[0].min(1.0 - input.lo[1]));
        let mut pts = vec![lo, hi];
        let x = &input.values;
        for j in 0..x.len() {
            let (a, b) = (x[j][0] - x[i][0], x[j][1] - x[i][1]);
            if (a - b).abs() > 1e-15 {
                let t = -b / (a - b);
                if t > lo && t < hi {
                    pts.push(t);
                }
            }
        }
        pts.sort_by(f64::total_cmp);
        let mids: Vec<f64> = pts.windows(2).map(|p| 0.5 * (p[0] + p[1])).collect();
        pts.extend(mids);
        let mut best = usize::MAX;
        let mut worst = 0;
        for t in pts {
            let w = [t, 1.0 - t];
            best = best.min(input.rank_under(i, &w, false, 1e-9));
            worst = worst.max(input.rank_under(i, &w, true, 1e-9));
        }
        (best, worst)
    }

    #[test]
    fn rank_mips_match_brute_force_for_two_items() {
        let mut rng = Rng::new(2);
        for _ in 0..6 {
            let input = random_input(&mut rng, 12, 2);
            let r = benefit_of_doubt(&input, &DeaOptions::default()).unwrap();
            for (i, u) in r.iter().enumerate() {
                let (best, worst) = brute_force_ranks(&input, i);
                assert!(u.rank.best.is_exact() && u.rank.worst.is_exact());
                assert_eq!(u.rank.best.lo, best, "unit {i}");
                assert_eq!(u.rank.worst.lo, worst, "unit {i}");
            }
        }
    }

    #[test]
    fn bounds_contain_the_exact_ranks() {
        let mut rng = Rng::new(4);
        for _ in 0..4 {
            let input = random_input(&mut rng, 15, 3);
            let exact = benefit_of_doubt(&input, &DeaOptions::default()).unwrap();
            let bound = benefit_of_doubt(
                &input,
                &DeaOptions {
                    max_binaries: 0,
                    ..DeaOptions::default()
                },
            )
            .unwrap();
            for (e, b) in exact.iter().zip(&bound) {
                assert!(e.rank.best.is_exact() && e.rank.worst.is_exact());
                let (best, worst) = (e.rank.best.lo, e.rank.worst.lo);
                assert!(b.rank.best.lo <= best && best <= b.rank.best.hi, "{e:?} {b:?}");
                assert!(b.rank.worst.lo <= worst && worst <= b.rank.worst.hi, "{e:?} {b:?}");
                assert!(best <= e.published_rank && best <= worst);
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let ok_values = vec![vec![0.5, 0.5]];
        let mk =
            |values: Vec<Vec<f64>>, lo: Vec<f64>, hi: Vec<f64>, p: Vec<f64>| DeaInput::new(ids(values.len()), names(2), values, lo, hi, p);
        assert!(mk(vec![vec![1.5, 0.0]], vec![0.0; 2], vec![1.0; 2], vec![0.5; 2]).is_err());
        assert!(mk(ok_values.clone(), vec![0.6; 2], vec![1.0; 2], vec![0.5; 2]).is_err());
        assert!(mk(ok_values.clone(), vec![0.0; 2], vec![0.4; 2], vec![0.5; 2]).is_err());
        assert!(mk(ok_values.clone(), vec![0.0; 2], vec![1.0; 2], vec![0.5, 0.6]).is_err());
        assert!(mk(ok_values, vec![0.0; 2], vec![1.0; 2], vec![0.5; 2]).is_ok());
    }
}
