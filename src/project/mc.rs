//! Monte Carlo of the projection: the same yearly step as the deterministic run
//! ([`super::engine::State::step`]) with the flows drawn at random.
//!
//! Per run, year and unit (units in id order, one generator per run):
//! - entries ~ Poisson(`new_entry_rate × start`);
//! - returns ~ Binomial(previous year's exits in this run, `return_rate`);
//! - people ready to exit ~ Binomial(`start + entries + returns`, `exit_readiness`);
//! - exits = `min(target, ready, capacity)`, targets re-split on this run's headcounts by the
//!   deterministic rule; `end = start + entries + returns − exits`.
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
use rand_distr::{Binomial, Distribution, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

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

impl Flows for Random<'_> {
    fn entries(&mut self, rate: &Rate, start: &[u64], out: &mut [u64], _s: &mut Scratch) -> Result<(), ProjectError> {
        for (o, &s) in out.iter_mut().zip(start) {
            let lambda = rate.f * s as f64;
            *o = if lambda > 0.0 {
                let d = Poisson::new(lambda).map_err(|e| draw_err("entries", e))?;
                let x: f64 = d.sample(self.rng);
                // a Poisson draw is a whole number; saturate far beyond any headcount
                if x >= u64::MAX as f64 {
                    u64::MAX
                } else {
                    x as u64
                }
            } else {
                0
            };
        }
        Ok(())
    }

    fn returns(&mut self, rate: &Rate, prev_exits: &[u64], out: &mut [u64], _s: &mut Scratch) -> Result<(), ProjectError> {
        for (o, &n) in out.iter_mut().zip(prev_exits) {
            *o = if rate.is_zero() || n == 0 {
                0
            } else {
                Binomial::new(n, rate.f).map_err(|e| draw_err("returns", e))?.sample(self.rng)
            };
        }
        Ok(())
    }

    fn ready(&mut self, readiness: &Rate, available: u64) -> Result<u64, ProjectError> {
        if readiness.num == readiness.den || available == 0 {
            return Ok(available);
        }
        Ok(Binomial::new(available, readiness.f)
            .map_err(|e| draw_err("people ready to exit", e))?
            .sample(self.rng))
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

/// Nearest-rank percentile of sorted-or-not values: the value at rank `⌈pct·N/100⌉`.
fn percentile(vals: &mut [u64], pct: u64) -> u64 {
    let n = vals.len() as u64;
    if n == 0 {
        return 0;
    }
    let rank = (pct * n).div_ceil(100).max(1);
    let idx = usize::try_from(rank - 1).unwrap_or(0).min(vals.len() - 1);
    let (_, v, _) = vals.select_nth_unstable(idx);
    *v
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
    let out: Vec<McCell> = (0..cells)
        .into_par_iter()
        .map(|c| {
            let mut vals: Vec<u64> = results.iter().map(|(e, _)| e.get(c).copied().unwrap_or(0)).collect();
            let (mut met, mut elig, mut clear) = (0u64, 0u64, 0u64);
            for (_, f) in &results {
                let fl = f.get(c).copied().unwrap_or(0);
                met += u64::from(fl & MET != 0);
                elig += u64::from(fl & ELIGIBLE != 0);
                clear += u64::from(fl & CLEARED != 0);
            }
            let sum: u128 = vals.iter().map(|&v| u128::from(v)).sum();
            let is_unit = c % width < n_units;
            McCell {
                end_mean: sum as f64 / nruns,
                end_p5: percentile(&mut vals, 5),
                end_p50: percentile(&mut vals, 50),
                end_p95: percentile(&mut vals, 95),
                p_target_met: met as f64 / nruns,
                p_eligible: is_unit.then_some(elig as f64 / nruns),
                p_cleared: clear as f64 / nruns,
            }
        })
        .collect();
    Ok(McResult {
        runs,
        seed,
        cells: out,
        units: n_units,
        totals: p.aggregates.len(),
    })
}
