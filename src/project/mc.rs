//! Monte Carlo of the projection: the same yearly step as the deterministic run
//! ([`super::engine::State::step`]) with the flows drawn at random.
//!
//! Per run, year and unit (units in id order, one generator per run):
//! - entries ~ Poisson(`new_entry_rate × start`);
//! - returns ~ Binomial(previous year's exits in this run, `return_rate`);
//! - people ready to exit ~ Binomial(`start + entries + returns`, `exit_readiness`);
//! - exits = `min(target, ready, capacity)`, targets re-split on this run's headcounts by the
//!   deterministic rule; `end = start + entries + returns − exits`. The readiness draw is
//!   skipped when its outcome cannot matter: a target (or capacity) of 0, or
//!   `min(target, capacity)` so far below the mean that Hoeffding's bound puts the chance of
//!   fewer ready people under 7·10⁻¹³.
//!
//! Draws are exact (`rand_distr`'s Poisson and Binomial samplers) while the variance is below
//! [`NORMAL_ABOVE_VARIANCE`] (= 30, a standard deviation of 5.5 people); from there on they use
//! the normal approximation with continuity correction, `⌊μ + σZ + ½⌋` clamped to the support
//! (`μ = np, σ² = np(1−p)`, or `μ = σ² = λ`). By the Cornish–Fisher expansion the percentiles
//! of the approximation are off by about `(z² − 1)(1 − 2p)/6` people — under half a person at
//! the 5% and 95% points whatever the size — and probabilities by at most about 0.012; an exact
//! draw in that range costs ten times a normal one, and the approximation is what keeps 1,000
//! runs of 2,850 counties near a second on two cores.
//!
//! With all three rates at their defaults (0, 0, 1) every run equals the deterministic
//! projection.
//!
//! Reported per unit, per total and per year, over the runs:
//! - `end_p5`, `end_p50`, `end_p95`: nearest-rank percentiles of the remaining headcount (the
//!   value at rank `⌈q·N⌉` of the `N` sorted runs);
//! - `end_mean`;
//! - `p_target_met`: share of runs in which that year's exits reached that year's target
//!   (totals: the summed exits reached the summed targets) — in the final year, the probability
//!   that the final-year target is met;
//! - `p_eligible`: share of runs in which the unit passes the exit gate at the end of the year;
//! - `p_cleared`: share of runs with nobody left on file.
//!
//! Determinism: run `r` uses its own `Xoshiro256PlusPlus` stream — the generator seeded with
//! `seed` (`seed_from_u64`) advanced by `r` calls of `jump()` (2^128 steps each, so streams never
//! overlap). Runs are computed in parallel (rayon) but collected in run order and reduced with
//! order-independent integer sums and sorts, so the results are identical for any thread count.

use super::engine::{eligible, Flows, ProjectError, State};
use super::split::{Rate, Scratch};
use super::Projection;
use rand::SeedableRng;
use rand_distr::{Binomial, Distribution, Poisson, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

/// Variance from which a draw uses the normal approximation instead of the exact sampler.
pub const NORMAL_ABOVE_VARIANCE: f64 = 30.0;

/// Most values (runs × (units + totals) × years) held in memory for the percentiles.
pub const MAX_CELLS: u128 = 200_000_000;

const MET: u8 = 1;
const ELIGIBLE: u8 = 2;
const CLEARED: u8 = 4;

/// Random flows drawn from one generator.
struct Random<'a> {
    rng: &'a mut Xoshiro256PlusPlus,
}

fn draw_err(what: &'static str, e: impl std::fmt::Display) -> ProjectError {
    ProjectError::Distribution { what, why: e.to_string() }
}

/// `⌊μ + σZ + ½⌋` clamped to `[0, max]`: the normal approximation with continuity correction.
#[inline]
fn normal_count(rng: &mut Xoshiro256PlusPlus, mu: f64, var: f64, max: u64, max_f: f64) -> u64 {
    let z: f64 = StandardNormal.sample(rng);
    let x = mu + var.sqrt() * z + 0.5;
    // truncation is the floor for x > 0; through i64, a single instruction (and saturating)
    if x < 1.0 {
        0
    } else if x >= max_f {
        max
    } else {
        x as i64 as u64
    }
}

/// A Binomial(n, p) count: exact below [`NORMAL_ABOVE_VARIANCE`], normal approximation above.
#[inline]
fn binomial(rng: &mut Xoshiro256PlusPlus, n: u64, p: f64, what: &'static str) -> Result<u64, ProjectError> {
    if n == 0 || p <= 0.0 {
        return Ok(0);
    }
    if p >= 1.0 {
        return Ok(n);
    }
    let mu = n as f64 * p;
    let var = mu * (1.0 - p);
    if var >= NORMAL_ABOVE_VARIANCE {
        return Ok(normal_count(rng, mu, var, n, n as f64));
    }
    Ok(Binomial::new(n, p).map_err(|e| draw_err(what, e))?.sample(rng))
}

/// A Poisson(λ) count: exact below [`NORMAL_ABOVE_VARIANCE`], normal approximation above.
#[inline]
fn poisson(rng: &mut Xoshiro256PlusPlus, lambda: f64, what: &'static str) -> Result<u64, ProjectError> {
    if lambda <= 0.0 {
        return Ok(0);
    }
    if lambda >= NORMAL_ABOVE_VARIANCE {
        return Ok(normal_count(rng, lambda, lambda, i64::MAX as u64, i64::MAX as f64));
    }
    let x: f64 = Poisson::new(lambda).map_err(|e| draw_err(what, e))?.sample(rng);
    // a Poisson draw is a whole number, here below a few hundred
    Ok(x as u64)
}

impl Flows for Random<'_> {
    fn entries(&mut self, rate: &Rate, start: &[u64], out: &mut [u64], _s: &mut Scratch) -> Result<(), ProjectError> {
        if rate.is_zero() {
            out.iter_mut().for_each(|o| *o = 0);
            return Ok(());
        }
        for (o, &s) in out.iter_mut().zip(start) {
            *o = poisson(self.rng, rate.f * s as f64, "entries")?;
        }
        Ok(())
    }

    fn returns(&mut self, rate: &Rate, prev_exits: &[u64], out: &mut [u64], _s: &mut Scratch) -> Result<(), ProjectError> {
        for (o, &n) in out.iter_mut().zip(prev_exits) {
            *o = if rate.is_zero() {
                0
            } else {
                binomial(self.rng, n, rate.f, "returns")?
            };
        }
        Ok(())
    }

    fn ready_up_to(&mut self, readiness: &Rate, available: u64, want: u64) -> Result<u64, ProjectError> {
        if readiness.num == readiness.den || want == 0 {
            return Ok(available.min(want));
        }
        // Hoeffding: P(Binomial(n, p) ≤ np − t) ≤ exp(−2t²/n). When t = np − want gives a bound
        // below e⁻²⁸ ≈ 7·10⁻¹³, at least `want` people are ready and the draw is skipped.
        let n = available as f64;
        let t = n * readiness.f - want as f64;
        if t > 0.0 && 2.0 * t * t > 28.0 * n {
            return Ok(want);
        }
        binomial(self.rng, available, readiness.f, "people ready to exit")
    }
}

/// Summary of one unit (or total) in one year over the runs.
#[derive(Debug, Clone, PartialEq)]
pub struct McCell {
    /// 5th percentile of the remaining headcount.
    pub end_p5: u64,
    /// Median.
    pub end_p50: u64,
    /// 95th percentile.
    pub end_p95: u64,
    /// Mean.
    pub end_mean: f64,
    /// Share of runs in which the year's target was met.
    pub p_target_met: f64,
    /// Share of runs in which the unit is eligible to exit (`None` for totals).
    pub p_eligible: Option<f64>,
    /// Share of runs with nobody left on file.
    pub p_cleared: f64,
}

/// The Monte Carlo result.
#[derive(Debug, Clone, PartialEq)]
pub struct McResult {
    /// Runs.
    pub runs: u64,
    /// Seed.
    pub seed: u64,
    /// Cells, year-major: `cells[k × (units + totals) + i]`, units first, then totals.
    pub cells: Vec<McCell>,
    units: usize,
    totals: usize,
}

impl McResult {
    /// The summary of plan unit `i` in year index `k`.
    pub fn unit(&self, i: usize, k: usize) -> Option<&McCell> {
        if i >= self.units {
            return None;
        }
        self.cells.get(k * (self.units + self.totals) + i)
    }

    /// The summary of total `j` in year index `k`.
    pub fn total(&self, j: usize, k: usize) -> Option<&McCell> {
        if j >= self.totals {
            return None;
        }
        self.cells.get(k * (self.units + self.totals) + self.units + j)
    }
}

/// One run: per year, per unit then per total, the end headcount and the flags.
fn one_run(p: &Projection, rng: &mut Xoshiro256PlusPlus) -> Result<(Vec<u64>, Vec<u8>), ProjectError> {
    let n = p.units.len();
    let width = n + p.aggregates.len();
    let mut ends = vec![0u64; width * p.n_years()];
    let mut flags = vec![0u8; width * p.n_years()];
    let mut st = State::new(p);
    let mut flows = Random { rng };
    for (k, (e_row, f_row)) in ends.chunks_mut(width.max(1)).zip(flags.chunks_mut(width.max(1))).enumerate() {
        st.step(p, k, &mut flows)?;
        for (e, &end) in e_row.iter_mut().zip(&st.end) {
            *e = end;
        }
        for (i, u) in p.units.iter().enumerate() {
            let (Some(&end), Some(&exits), Some(&target), Some(&exited)) =
                (st.end.get(i), st.exits.get(i), st.target.get(i), st.exited.get(i))
            else {
                continue;
            };
            let mut fl = 0u8;
            if exits >= target {
                fl |= MET;
            }
            if eligible(u, end, exited) {
                fl |= ELIGIBLE;
            }
            if end == 0 {
                fl |= CLEARED;
            }
            if let Some(f) = f_row.get_mut(i) {
                *f = fl;
            }
        }
        for (j, ag) in p.aggregates.iter().enumerate() {
            let (mut end, mut exits, mut target) = (0u64, 0u64, 0u64);
            for &i in &ag.members {
                end = end.saturating_add(st.end.get(i).copied().unwrap_or(0));
                exits = exits.saturating_add(st.exits.get(i).copied().unwrap_or(0));
                target = target.saturating_add(st.target.get(i).copied().unwrap_or(0));
            }
            let mut fl = 0u8;
            if exits >= target {
                fl |= MET;
            }
            if end == 0 {
                fl |= CLEARED;
            }
            if let (Some(e), Some(f)) = (e_row.get_mut(n + j), f_row.get_mut(n + j)) {
                *e = end;
                *f = fl;
            }
        }
        st.advance();
    }
    Ok((ends, flags))
}

/// 0-based index of the nearest-rank percentile `pct` of `n` values: rank `⌈pct·n/100⌉`.
fn rank_index(pct: u64, n: usize) -> usize {
    let rank = (pct * n as u64).div_ceil(100).max(1);
    usize::try_from(rank - 1).unwrap_or(0).min(n.saturating_sub(1))
}

/// Nearest-rank 5th, 50th and 95th percentiles (values reordered in place): one selection
/// for the median, then one in each half.
fn bands(vals: &mut [u64]) -> (u64, u64, u64) {
    let n = vals.len();
    if n == 0 {
        return (0, 0, 0);
    }
    let (i5, i50, i95) = (rank_index(5, n), rank_index(50, n), rank_index(95, n));
    let (left, m, right) = vals.select_nth_unstable(i50);
    let m = *m;
    let p5 = if i5 < i50 { *left.select_nth_unstable(i5).1 } else { m };
    let p95 = if i95 > i50 {
        *right.select_nth_unstable(i95 - i50 - 1).1
    } else {
        m
    };
    (p5, m, p95)
}

/// Runs the Monte Carlo: `runs` runs from `seed` (see the module documentation).
pub fn monte_carlo(p: &Projection, runs: u64, seed: u64) -> Result<McResult, ProjectError> {
    let width = p.units.len() + p.aggregates.len();
    let cells = width * p.n_years();
    let need = u128::from(runs) * cells as u128;
    if need > MAX_CELLS {
        return Err(ProjectError::TooLarge(format!(
            "{runs} runs × {cells} unit-years = {need} values: at most {MAX_CELLS}; use fewer runs"
        )));
    }
    if runs == 0 || cells == 0 {
        return Ok(McResult {
            runs,
            seed,
            cells: Vec::new(),
            units: p.units.len(),
            totals: p.aggregates.len(),
        });
    }
    let mut base = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut rngs = Vec::with_capacity(usize::try_from(runs).unwrap_or(0));
    for _ in 0..runs {
        rngs.push(base.clone());
        base.jump();
    }
    let results: Vec<(Vec<u64>, Vec<u8>)> = rngs
        .into_par_iter()
        .map(|mut rng| one_run(p, &mut rng))
        .collect::<Result<Vec<_>, _>>()?;
    let nruns = results.len() as f64;
    let n_units = p.units.len();
    // cells in blocks, so the runs' rows of a block are read from memory once
    const BLOCK: usize = 64;
    let blocks: Vec<Vec<McCell>> = (0..cells.div_ceil(BLOCK))
        .into_par_iter()
        .map_init(Vec::new, |vals: &mut Vec<u64>, b| {
            let c0 = b * BLOCK;
            let c1 = (c0 + BLOCK).min(cells);
            (c0..c1)
                .map(|c| {
                    // this cell's value in every run (the runs' rows of a block stay in cache)
                    vals.clear();
                    let (mut met, mut elig, mut clear) = (0u64, 0u64, 0u64);
                    for (e, f) in &results {
                        vals.push(e.get(c).copied().unwrap_or(0));
                        let fl = f.get(c).copied().unwrap_or(0);
                        met += u64::from(fl & MET != 0);
                        elig += u64::from(fl & ELIGIBLE != 0);
                        clear += u64::from(fl & CLEARED != 0);
                    }
                    let sum: u128 = vals.iter().map(|&x| u128::from(x)).sum();
                    let (end_p5, end_p50, end_p95) = bands(vals);
                    McCell {
                        end_mean: sum as f64 / nruns,
                        end_p5,
                        end_p50,
                        end_p95,
                        p_target_met: met as f64 / nruns,
                        p_eligible: (c % width < n_units).then_some(elig as f64 / nruns),
                        p_cleared: clear as f64 / nruns,
                    }
                })
                .collect()
        })
        .collect();
    let out: Vec<McCell> = blocks.into_iter().flatten().collect();
    Ok(McResult {
        runs,
        seed,
        cells: out,
        units: n_units,
        totals: p.aggregates.len(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn moments(mut draw: impl FnMut(&mut Xoshiro256PlusPlus) -> u64) -> (f64, f64) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let n = 40_000;
        let xs: Vec<f64> = (0..n).map(|_| draw(&mut rng) as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        (mean, var)
    }

    #[test]
    fn draws_have_the_right_moments_on_both_sides_of_the_switch() {
        // exact sampler (variance 9) and normal approximation (variance 210)
        for (n, p) in [(100u64, 0.1), (1000, 0.3)] {
            let (m, v) = moments(|r| binomial(r, n, p, "t").unwrap());
            let (em, ev) = (n as f64 * p, n as f64 * p * (1.0 - p));
            assert!((m - em).abs() < 4.0 * (ev / 40_000.0).sqrt(), "binomial({n}, {p}) mean {m} vs {em}");
            assert!((v / ev - 1.0).abs() < 0.05, "binomial({n}, {p}) variance {v} vs {ev}");
        }
        for lambda in [5.0, 20.0, 400.0] {
            let (m, v) = moments(|r| poisson(r, lambda, "t").unwrap());
            assert!((m - lambda).abs() < 4.0 * (lambda / 40_000.0).sqrt(), "poisson({lambda}) mean {m}");
            assert!((v / lambda - 1.0).abs() < 0.05, "poisson({lambda}) variance {v}");
        }
        // edges: certain outcomes, and the approximation stays in the support
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(binomial(&mut rng, 0, 0.5, "t").unwrap(), 0);
        assert_eq!(binomial(&mut rng, 7, 1.0, "t").unwrap(), 7);
        assert_eq!(binomial(&mut rng, 7, 0.0, "t").unwrap(), 0);
        assert_eq!(poisson(&mut rng, 0.0, "t").unwrap(), 0);
        for _ in 0..1000 {
            assert!(binomial(&mut rng, 200, 0.5, "t").unwrap() <= 200);
        }
    }

    #[test]
    fn bands_are_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(bands(&mut v), (5, 50, 95));
        let mut v: Vec<u64> = (1..=20).collect();
        // ranks ⌈1⌉ = 1, ⌈10⌉ = 10, ⌈19⌉ = 19
        assert_eq!(bands(&mut v), (1, 10, 19));
        assert_eq!(bands(&mut [7]), (7, 7, 7));
        assert_eq!(bands(&mut []), (0, 0, 0));
    }
}
