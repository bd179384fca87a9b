//! How sure are the amounts? Monte Carlo over factor-data noise and weight uncertainty, with
//! uncertainty bands per unit and Sobol sensitivity indices per input group.
//!
//! # What is uncertain (`[sensitivity]` in `scenario.toml`)
//!
//! ```toml
//! [sensitivity]
//! noise = { incidence = "0.10", income = "0.05" }  # relative error of each factor column
//! distribution = "lognormal"                       # lognormal (default) | normal
//! concentration = "200"                            # Dirichlet concentration of the weights
//! draws = 2000                                     # default for --draws
//! seed = 1                                         # default for --seed
//! ```
//!
//! - **Factor-data noise.** Every listed column is measured with a relative error `cv`: each
//!   unit's value is multiplied by an independent factor `ε` with `E[ε] = 1`, `sd(ε) = cv`.
//!   `lognormal`: `ε = exp(σ z − σ²/2)`, `σ² = ln(1 + cv²)`, `z ~ N(0, 1)` (always positive,
//!   skewed like survey and statistical estimates). `normal`: `ε = 1 + cv z` truncated at 0
//!   (`z` redrawn until `ε > 0`), so values stay positive and the `inverse` transform defined.
//!   A unit's noisy value is the same in every pool and stage that uses the column.
//! - **Weight uncertainty.** Each pool's weight vector is drawn from a Dirichlet distribution
//!   centred on the stated weights: `w ~ Dir(κ w⁰)` over the factors with `w⁰ > 0` (zero
//!   weights stay zero), so `E[w] = w⁰` and `Var(w_k) = w⁰_k (1 − w⁰_k) / (κ + 1)`: the larger
//!   the concentration `κ`, the surer the weights. Without `concentration` the weights are fixed.
//!
//! # Input groups and indices
//!
//! One group per noisy column (all its units' errors together) plus one group for the weight
//! vectors of all pools. For each unit's amount `Y` (its total in the stage where it receives)
//! and each group `g`, with `N` base draws of two independent input sets `A` and `B` and the
//! mixed sets `A_B^g` (`A` with group `g` taken from `B`):
//!
//! - first-order index `S_g = V_g / V`, `V_g = (1/N) Σ_j (f(B)_j − y⁰)(f(A_B^g)_j − f(A)_j)`
//!   (Saltelli et al. 2010, *Comput. Phys. Commun.* 181:259, Table 2 (b); centring `f(B)` on the
//!   baseline `y⁰` leaves the estimator unbiased, since `E[f(A_B^g) − f(A)] = 0`, and reduces
//!   its variance);
//! - total index `S_Tg = V_Tg / V`, `V_Tg = (1/2N) Σ_j (f(A)_j − f(A_B^g)_j)²` (Jansen 1999,
//!   Saltelli 2010 Table 2 (f));
//! - `V` the variance of `Y` over the `2N` outputs `f(A)`, `f(B)`.
//!
//! Standard errors are `sd(terms) / (√N V)` (the spread of the per-draw terms; the uncertainty
//! of `V` itself is ignored). `S_g` is what fixing group `g` would remove from the variance on
//! average; `S_Tg − S_g` is the part due to its interactions with other groups. A run costs
//! `N (G + 2)` model evaluations for `G` groups. Bands (5/50/95% amounts, rank band, chance of
//! ending at a floor or cap) come from the `N` draws of `A`.
//!
//! # Arithmetic: why `f64` here
//!
//! The draws run the factor method (SPEC §3 steps 1–5, floors and caps by the same clamp rule)
//! in `f64`, without the rounding of step 6. The relative error of an `f64` share is about
//! 10⁻¹⁵, that is 10⁻⁸ yuan on a 10-million-yuan amount, while the rounding the published
//! amounts get is one whole `rounding` unit and the spread the bands measure is a percent or
//! more of the amount: nine orders of magnitude below what is reported, so `f64` changes no
//! band and no index in any reported digit. Published amounts (the `amount` column) still come
//! from the exact `Decimal` engine ([`crate::alloc::allocate`]); the summary reports the largest
//! gap between that allocation and the `f64` model without noise, which is the rounding.
//!
//! # Determinism
//!
//! Draw `j` uses its own `Xoshiro256PlusPlus` streams, seeded from `(seed, j, set, group)`, and
//! draws are summed in fixed chunks whose size depends only on `N`, combined in chunk order:
//! the result is the same, bit for bit, whatever the number of threads.

use crate::alloc::{Allocation, RowKind};
use crate::error::{InputErrors, Location};
use crate::output::{self, OutTable};
use crate::scenario::raw::NumText;
use crate::scenario::{line_at, num_or_text, Bound, Scenario, Transform};
use rand::SeedableRng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// `[sensitivity]` as written in `scenario.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSensitivity {
    /// Relative error (coefficient of variation) per factor column, e.g. `{ incidence = "0.10" }`;
    /// `"10%"` is read as `0.10`.
    #[serde(default)]
    pub noise: BTreeMap<String, Spanned<NumText>>,
    /// `lognormal` (default) or `normal` (truncated at 0).
    #[serde(default)]
    pub distribution: Option<Spanned<String>>,
    /// Dirichlet concentration `κ > 0` of the weights around the stated ones.
    #[serde(default)]
    pub concentration: Option<Spanned<NumText>>,
    /// Default number of draws.
    #[serde(default)]
    pub draws: Option<Spanned<i64>>,
    /// Default seed.
    #[serde(default)]
    pub seed: Option<Spanned<i64>>,
}

/// Distribution of the multiplicative measurement error `ε` (mean 1, sd `cv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoiseDistribution {
    /// `ε = exp(σ z − σ²/2)`, `σ² = ln(1 + cv²)`.
    #[default]
    LogNormal,
    /// `ε = 1 + cv z`, `z ~ N(0, 1)` redrawn until `ε > 0`.
    Normal,
}

/// Noise on one factor column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnNoise {
    /// Column of the factors table.
    pub column: String,
    /// Relative error `cv` (sd of `ε`).
    pub rel_error: f64,
}

/// The validated `[sensitivity]` section.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SensitivitySpec {
    /// Noisy columns, in name order.
    pub noise: Vec<ColumnNoise>,
    /// Distribution of the errors.
    pub distribution: NoiseDistribution,
    /// Dirichlet concentration of the weights (`None`: weights fixed).
    pub concentration: Option<f64>,
    /// Default number of draws.
    pub draws: Option<usize>,
    /// Default seed.
    pub seed: Option<u64>,
}

/// Largest relative error accepted.
pub const MAX_REL_ERROR: f64 = 1.0;

/// Reads and checks `[sensitivity]`: noisy columns must be factor columns of some pool,
/// relative errors in `[0, 1]`, the concentration positive, draws at least 2. Every problem is
/// reported with its line. `Ok(None)` when the section is absent.
pub fn spec(s: &Scenario) -> Result<Option<SensitivitySpec>, InputErrors> {
    let Some(raw) = s.raw.sensitivity.as_ref() else {
        return Ok(None);
    };
    let file = s.toml_file.as_str();
    let loc = |offset: usize, key: &str| Location::at(file, Some(line_at(&s.toml_text, offset)), key);
    let r = raw.get_ref();
    let mut errs = InputErrors::default();
    let mut factor_cols: Vec<&str> = Vec::new();
    for st in &s.stages {
        for p in &st.pools {
            for f in &p.factors {
                if !factor_cols.contains(&f.column.as_str()) {
                    factor_cols.push(&f.column);
                }
            }
        }
    }
    let mut noise = Vec::new();
    for (col, v) in &r.noise {
        let key = format!("sensitivity.noise.{col}");
        if !factor_cols.contains(&col.as_str()) {
            errs.push(
                loc(v.span().start, &key),
                format!(
                    "column `{col}` is not a factor of any pool, so noise on it changes nothing (factor columns: {})",
                    factor_cols.join(", ")
                ),
            );
            continue;
        }
        match num_or_text(v).ok().and_then(|d| d.to_f64()) {
            Some(x) if (0.0..=MAX_REL_ERROR).contains(&x) => noise.push(ColumnNoise {
                column: col.clone(),
                rel_error: x,
            }),
            Some(x) => errs.push(
                loc(v.span().start, &key),
                format!("relative error must be in [0, {MAX_REL_ERROR}] (e.g. \"0.10\" for ±10%), got {x}"),
            ),
            None => errs.push(loc(v.span().start, &key), "relative error is not a number (e.g. \"0.10\" for ±10%)"),
        }
    }
    let distribution = match &r.distribution {
        None => NoiseDistribution::LogNormal,
        Some(d) => match d.get_ref().trim().to_ascii_lowercase().as_str() {
            "lognormal" => NoiseDistribution::LogNormal,
            "normal" => NoiseDistribution::Normal,
            other => {
                errs.push(
                    loc(d.span().start, "sensitivity.distribution"),
                    format!("unknown distribution `{other}` (lognormal, normal)"),
                );
                NoiseDistribution::LogNormal
            }
        },
    };
    let concentration = match &r.concentration {
        None => None,
        Some(c) => match num_or_text(c).ok().and_then(|d| d.to_f64()) {
            Some(x) if x > 0.0 && x.is_finite() => Some(x),
            _ => {
                errs.push(
                    loc(c.span().start, "sensitivity.concentration"),
                    "concentration must be a positive number (e.g. \"200\"; larger = surer weights)",
                );
                None
            }
        },
    };
    let draws = match &r.draws {
        None => None,
        Some(d) => match usize::try_from(*d.get_ref()) {
            Ok(n) if n >= 2 => Some(n),
            _ => {
                errs.push(loc(d.span().start, "sensitivity.draws"), "draws must be at least 2");
                None
            }
        },
    };
    let seed = match &r.seed {
        None => None,
        Some(d) => match u64::try_from(*d.get_ref()) {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push(loc(d.span().start, "sensitivity.seed"), "seed must not be negative");
                None
            }
        },
    };
    if errs.is_empty() && noise.is_empty() && concentration.is_none() {
        errs.push(
            Location::at(file, Some(line_at(&s.toml_text, raw.span().start)), "sensitivity"),
            "nothing is uncertain: give `noise = { column = \"0.10\" }` and/or `concentration`",
        );
    }
    errs.into_result(Some(SensitivitySpec {
        noise,
        distribution,
        concentration,
        draws,
        seed,
    }))
}

/// An input group of the sensitivity analysis.
#[derive(Debug, Clone, PartialEq)]
pub enum Group {
    /// Measurement error of one factor column.
    Noise(ColumnNoise),
    /// The weight vectors of every pool, drawn from Dirichlet distributions.
    Weights {
        /// Concentration `κ`.
        concentration: f64,
    },
}

impl Group {
    /// Name in the output: `noise:<column>` or `weights`.
    pub fn name(&self) -> String {
        match self {
            Group::Noise(n) => format!("noise:{}", n.column),
            Group::Weights { .. } => "weights".into(),
        }
    }
}

/// Run settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Base draws `N` (model evaluations: `N (G + 2)`).
    pub draws: usize,
    /// Seed.
    pub seed: u64,
}

/// Sobol indices of one unit's amount to one group (`NaN` when the amount does not vary).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Indices {
    /// First-order index `S_g`.
    pub first: f64,
    /// Its standard error.
    pub first_se: f64,
    /// Total index `S_Tg`.
    pub total: f64,
    /// Its standard error.
    pub total_se: f64,
}

/// Uncertainty of one recipient's amount in one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitBand {
    /// Unit index in the hierarchy.
    pub unit: usize,
    /// 1-based stage in which it receives.
    pub stage: usize,
    /// The published (exact, rounded) amount from the `Decimal` engine.
    pub amount: Decimal,
    /// The `f64` model's amount without noise, at the stated weights (unrounded).
    pub baseline: f64,
    /// Mean over the draws.
    pub mean: f64,
    /// Standard deviation over the draws.
    pub sd: f64,
    /// 5% quantile (linear interpolation between order statistics, type 7).
    pub p05: f64,
    /// Median.
    pub p50: f64,
    /// 95% quantile.
    pub p95: f64,
    /// Rank of the published amount among the stage's recipients (1 = largest; ties by id).
    pub rank: usize,
    /// Best rank reached in 95% of the draws (5% quantile of the rank, nearest rank).
    pub rank_best: u32,
    /// Worst rank in 95% of the draws (95% quantile of the rank).
    pub rank_worst: u32,
    /// Share of draws in which the unit ends at a floor (in any pool).
    pub p_floor: f64,
    /// Share of draws in which the unit is cut to a cap (in any pool).
    pub p_cap: f64,
    /// Variance `V` of the amount (over `A` and `B`).
    pub variance: f64,
}

/// The result of a sensitivity run.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    /// Input groups, in index order (noisy columns by name, then weights).
    pub groups: Vec<Group>,
    /// One band per recipient and stage, in allocation order (stage, allocating unit, id).
    pub units: Vec<UnitBand>,
    /// `indices[u][g]`: indices of unit `u` (as in `units`) to group `g`.
    pub indices: Vec<Vec<Indices>>,
    /// Variance-weighted indices over all last-stage recipients: `Σ_u V_gu / Σ_u V_u`.
    pub overall: Vec<Indices>,
    /// Base draws `N`.
    pub draws: usize,
    /// Model evaluations `N (G + 2)`.
    pub evaluations: usize,
    /// Seed.
    pub seed: u64,
    /// Evaluations in which floors exceeded a pool (all scaled to fit) or caps fell short of it
    /// (all raised in proportion), or a factor summed to zero.
    pub degenerate: u64,
    /// Largest `|baseline − amount|` over the units: the `f64` model against the exact engine.
    pub max_model_gap: f64,
}

// ---------------------------------------------------------------------------------------------
// The f64 model
//
// Evaluation is split in two: factor shares `s_ik` (they depend on the noisy values only) and
// the combination `b_i = Σ_k w_k s_ik`, adjustment, pool amounts and the clamp (they depend on
// the weights and, from stage 2 on, on what the previous stage gave). A mixed input set
// `A_B^g` then recomputes only the shares of the factors that read column `g` (or none, for
// the weights), reusing the rest from `A`. Recipients of a stage's pool are stored flat,
// allocating unit after allocating unit (segments), so every loop runs over whole arrays.

#[derive(Debug, Clone, Copy)]
enum Tf {
    Share,
    /// Values stored as `1/x`.
    Inverse,
    Gap(f64),
}

#[derive(Debug, Clone)]
struct FactorM {
    /// Values per recipient (`1/x` for the inverse transform).
    x: Vec<f64>,
    tf: Tf,
    /// Noise group and where each recipient's error is in that group's error vector.
    noise: Option<(usize, Slots)>,
    /// Offset of this factor's shares in a share buffer.
    off: usize,
}

/// Where a factor's recipients find their errors.
#[derive(Debug, Clone)]
enum Slots {
    /// At `start, start + 1, …` (the column's first use: no gather).
    Run(usize),
    /// At these positions (the units met the column before).
    Gather(Vec<u32>),
}

#[derive(Debug, Clone)]
struct PoolM {
    /// Global pool index (weights).
    global: usize,
    /// `σ_q / Σ σ`.
    frac: f64,
    /// Segment boundaries: recipients of allocating unit `p` are `seg[p]..seg[p + 1]`.
    seg: Vec<usize>,
    /// Output slot per recipient.
    out: Vec<u32>,
    /// `Some(first)` when the output slots are `first, first + 1, …` (no eligibility gaps).
    contiguous: Option<usize>,
    /// Offset of this pool's base shares in a base buffer.
    boff: usize,
    factors: Vec<FactorM>,
    adjust: Vec<f64>,
    floor: Vec<f64>,
    /// Cap from a column or an amount (`INFINITY` if none), before `cap_share`.
    cap: Vec<f64>,
    cap_share: Option<f64>,
    bounded: bool,
}

#[derive(Debug, Clone)]
struct StageM {
    keep: f64,
    /// Per allocating unit: its output slot in the previous stage (`None`: the stage-1 total).
    sources: Vec<Option<u32>>,
    pools: Vec<PoolM>,
}

#[derive(Debug, Clone)]
struct Model {
    total: f64,
    stages: Vec<StageM>,
    /// Hierarchy unit and 1-based stage of each output slot.
    out_unit: Vec<usize>,
    out_stage: Vec<usize>,
    /// Slot ranges of each stage.
    stage_ranges: Vec<(usize, usize)>,
    /// Number of error slots per noise group.
    noise_len: Vec<usize>,
    /// Stated weights per global pool.
    weights: Vec<Vec<f64>>,
    /// Length of a share buffer.
    shares_len: usize,
    /// Length of a base-share buffer.
    base_len: usize,
    /// Largest pool (recipients), for scratch sizes.
    max_pool: usize,
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn model_error(s: &Scenario, msg: String) -> InputErrors {
    InputErrors::one(Location::file(&s.toml_file), msg)
}

/// Builds the `f64` model of the allocation (recipients, values, bounds) from a scenario the
/// `Decimal` engine has allocated without error.
fn build_model(s: &Scenario, groups: &[Group]) -> Result<Model, InputErrors> {
    let h = &s.hierarchy;
    let ft = &s.factors;
    let noisy: Vec<&str> = groups
        .iter()
        .filter_map(|g| match g {
            Group::Noise(n) => Some(n.column.as_str()),
            Group::Weights { .. } => None,
        })
        .collect();
    let internal = |what: &str| model_error(s, format!("internal: {what}"));
    let mut noise_slots: Vec<BTreeMap<usize, u32>> = vec![BTreeMap::new(); noisy.len()];
    let mut stages = Vec::new();
    let mut out_unit = Vec::new();
    let mut out_stage = Vec::new();
    let mut stage_ranges = Vec::new();
    let mut weights = Vec::new();
    let mut shares_len = 0usize;
    let mut base_len = 0usize;
    let mut max_pool = 0usize;
    let mut holders: Vec<(usize, Option<u32>)> = vec![(h.root(), None)];
    for (si, st) in s.stages.iter().enumerate() {
        let start = out_unit.len();
        holders.sort_by(|a, b| h.unit(a.0).map(|u| u.id.as_bytes()).cmp(&h.unit(b.0).map(|u| u.id.as_bytes())));
        let sigma: f64 = st.pools.iter().map(|p| f(p.share)).sum();
        // recipients of every allocating unit, and their slots
        let mut sources = Vec::new();
        let mut rec: Vec<Vec<(usize, u32)>> = Vec::new();
        let mut next_holders = Vec::new();
        for &(p, source) in &holders {
            let recipients_all = h.descendants_at_level(p, &st.level);
            if recipients_all.is_empty() {
                continue;
            }
            let mut v = Vec::with_capacity(recipients_all.len());
            for u in recipients_all {
                let slot = u32::try_from(out_unit.len()).map_err(|_| internal("too many units"))?;
                out_unit.push(u);
                out_stage.push(si + 1);
                next_holders.push((u, Some(slot)));
                v.push((u, slot));
            }
            sources.push(source);
            rec.push(v);
        }
        let mut pools = Vec::new();
        for pool in &st.pools {
            let global = weights.len();
            weights.push(pool.factors.iter().map(|x| f(x.weight)).collect::<Vec<f64>>());
            let value = |col: &str, u: usize| ft.value(col, u);
            let mut seg = vec![0usize];
            let mut recipients: Vec<(usize, u32)> = Vec::new();
            for v in &rec {
                recipients.extend(v.iter().copied().filter(|&(u, _)| match &pool.eligible {
                    None => true,
                    Some(c) => value(c, u).is_some_and(|x| !x.is_zero()),
                }));
                seg.push(recipients.len());
            }
            let r = recipients.len();
            max_pool = max_pool.max(r);
            let mut factors = Vec::new();
            for fs in &pool.factors {
                let mut x = Vec::with_capacity(r);
                for &(u, _) in &recipients {
                    let v =
                        value(&fs.column, u).ok_or_else(|| model_error(s, format!("value of `{}` missing for a recipient", fs.column)))?;
                    x.push(f(v));
                }
                let tf = match fs.transform {
                    Transform::Share => Tf::Share,
                    Transform::Inverse => {
                        x.iter_mut().for_each(|v| *v = 1.0 / *v);
                        Tf::Inverse
                    }
                    Transform::Gap { reference } => Tf::Gap(f(reference)),
                };
                let noise = match noisy.iter().position(|c| *c == fs.column) {
                    None => None,
                    Some(g) => {
                        let map = noise_slots.get_mut(g).ok_or_else(|| internal("noise group"))?;
                        let mut slots = Vec::with_capacity(r);
                        for &(u, _) in &recipients {
                            let next = u32::try_from(map.len()).map_err(|_| internal("too many units"))?;
                            slots.push(*map.entry(u).or_insert(next));
                        }
                        let start = slots.first().map(|&x| x as usize).unwrap_or(0);
                        let run = slots.iter().enumerate().all(|(i, &x)| x as usize == start + i);
                        Some((g, if run { Slots::Run(start) } else { Slots::Gather(slots) }))
                    }
                };
                factors.push(FactorM {
                    x,
                    tf,
                    noise,
                    off: shares_len,
                });
                shares_len += r;
            }
            let adjust: Vec<f64> = recipients
                .iter()
                .map(|&(u, _)| pool.adjust.as_ref().and_then(|c| value(c, u)).map(f).unwrap_or(1.0))
                .collect();
            let bound = |b: &Option<Bound>, u: usize| -> Option<f64> {
                match b {
                    None => None,
                    Some(Bound::Amount(d)) => Some(f(*d)),
                    Some(Bound::Column(c)) => value(c, u).map(f),
                }
            };
            let first = recipients.first().map(|&(_, slot)| slot as usize).unwrap_or(0);
            let contiguous = recipients
                .iter()
                .enumerate()
                .all(|(i, &(_, slot))| slot as usize == first + i)
                .then_some(first);
            let boff = base_len;
            base_len += r;
            pools.push(PoolM {
                global,
                contiguous,
                boff,
                frac: if sigma > 0.0 { f(pool.share) / sigma } else { 0.0 },
                seg,
                out: recipients.iter().map(|&(_, slot)| slot).collect(),
                factors,
                adjust,
                floor: recipients.iter().map(|&(u, _)| bound(&pool.floor, u).unwrap_or(0.0)).collect(),
                cap: recipients
                    .iter()
                    .map(|&(u, _)| bound(&pool.cap, u).unwrap_or(f64::INFINITY))
                    .collect(),
                cap_share: pool.cap_share.map(f),
                bounded: pool.floor.is_some() || pool.cap.is_some() || pool.cap_share.is_some(),
            });
        }
        stage_ranges.push((start, out_unit.len()));
        stages.push(StageM {
            keep: 1.0 - f(st.reserve),
            sources,
            pools,
        });
        holders = next_holders;
    }
    Ok(Model {
        total: s.stages.first().and_then(|st| st.total).map(f).unwrap_or(0.0),
        stages,
        out_unit,
        out_stage,
        stage_ranges,
        noise_len: noise_slots.iter().map(BTreeMap::len).collect(),
        weights,
        shares_len,
        base_len,
        max_pool,
    })
}

/// Working buffers of one evaluation.
#[derive(Debug, Default)]
struct Scratch {
    b: Vec<f64>,
    y: Vec<f64>,
    caps: Vec<f64>,
    flags: Vec<u8>,
    events: Vec<(f64, u32, bool)>,
    order: Vec<(u32, u32)>,
    order_tmp: Vec<(u32, u32)>,
}

/// Factor shares `s_ik = t(x_i ε_i) / Σ_seg t(x_j ε_j)` of every factor into `buf`. Returns
/// the number of factors that summed to zero over an allocating unit's recipients (their
/// shares are set to 0).
fn shares(m: &Model, eps: &[&[f64]], buf: &mut [f64]) -> u64 {
    let mut degenerate = 0;
    for st in &m.stages {
        for pool in &st.pools {
            let r = pool.out.len();
            for fm in &pool.factors {
                let Some(t) = buf.get_mut(fm.off..fm.off + r) else { continue };
                match (&fm.noise, fm.tf) {
                    (None, Tf::Share | Tf::Inverse) => t.copy_from_slice(&fm.x),
                    (None, Tf::Gap(rf)) => t.iter_mut().zip(&fm.x).for_each(|(t, &x)| *t = (rf - x).max(0.0)),
                    (Some((g, Slots::Run(start))), tf) => {
                        let e = eps.get(*g).copied().unwrap_or(&[]).get(*start..*start + r).unwrap_or(&[]);
                        let it = t.iter_mut().zip(fm.x.iter().zip(e));
                        match tf {
                            Tf::Share => it.for_each(|(t, (&x, &e))| *t = x * e),
                            Tf::Inverse => it.for_each(|(t, (&x, &e))| *t = x / e),
                            Tf::Gap(rf) => it.for_each(|(t, (&x, &e))| *t = (rf - x * e).max(0.0)),
                        }
                    }
                    (Some((g, Slots::Gather(slots))), tf) => {
                        let e = eps.get(*g).copied().unwrap_or(&[]);
                        let it = t.iter_mut().zip(fm.x.iter().zip(slots));
                        let ep = |sl: u32| e.get(sl as usize).copied().unwrap_or(1.0);
                        match tf {
                            Tf::Share => it.for_each(|(t, (&x, &sl))| *t = x * ep(sl)),
                            Tf::Inverse => it.for_each(|(t, (&x, &sl))| *t = x / ep(sl)),
                            Tf::Gap(rf) => it.for_each(|(t, (&x, &sl))| *t = (rf - x * ep(sl)).max(0.0)),
                        }
                    }
                }
                for w in pool.seg.windows(2) {
                    let (a, b) = match w {
                        [a, b] => (*a, *b),
                        _ => continue,
                    };
                    let Some(part) = t.get_mut(a..b) else { continue };
                    if part.is_empty() {
                        continue;
                    }
                    let sum: f64 = part.iter().sum();
                    if sum > 0.0 && sum.is_finite() {
                        let inv = 1.0 / sum;
                        part.iter_mut().for_each(|x| *x *= inv);
                    } else {
                        degenerate += 1;
                        part.iter_mut().for_each(|x| *x = 0.0);
                    }
                }
            }
        }
    }
    degenerate
}

/// Base shares `b_i = Σ_k w_k s_ik` of every pool into `b` (flat, at each pool's offset).
fn base(m: &Model, shares: &[f64], weights: &[&[f64]], b: &mut [f64]) {
    for st in &m.stages {
        for pool in &st.pools {
            let r = pool.out.len();
            let Some(bp) = b.get_mut(pool.boff..pool.boff + r) else { continue };
            bp.iter_mut().for_each(|x| *x = 0.0);
            let w = weights.get(pool.global).copied().unwrap_or(&[]);
            for (fm, &wk) in pool.factors.iter().zip(w) {
                if wk == 0.0 {
                    continue;
                }
                if let Some(s) = shares.get(fm.off..fm.off + r) {
                    bp.iter_mut().zip(s).for_each(|(b, s)| *b += wk * s);
                }
            }
        }
    }
}

/// Base shares of `A_B^g` for a noise group `g` from those of `A`: the terms of the factors
/// reading column `g` swapped for `B`'s, `b_i + w_k (s^B_ik − s^A_ik)`.
fn base_swap(m: &Model, b_a: &[f64], sh_a: &[f64], sh_b: &[f64], weights: &[&[f64]], g: usize, b: &mut [f64]) {
    b.copy_from_slice(b_a);
    for st in &m.stages {
        for pool in &st.pools {
            let r = pool.out.len();
            let w = weights.get(pool.global).copied().unwrap_or(&[]);
            for (fm, &wk) in pool.factors.iter().zip(w) {
                if wk == 0.0 || fm.noise.as_ref().map(|n| n.0) != Some(g) {
                    continue;
                }
                if let (Some(bp), Some(sa), Some(sb)) = (
                    b.get_mut(pool.boff..pool.boff + r),
                    sh_a.get(fm.off..fm.off + r),
                    sh_b.get(fm.off..fm.off + r),
                ) {
                    bp.iter_mut().zip(sa.iter().zip(sb)).for_each(|(b, (sa, sb))| *b += wk * (sb - sa));
                }
            }
        }
    }
}

/// The rest of an evaluation from the base shares `b`: adjusted shares, pool amounts from what
/// each allocating unit holds, and the clamp; `out[slot]` = each recipient's total per stage,
/// `flags` (if given) [`FLOORED`] / [`CAPPED`]. Returns the number of degenerate splits
/// (nothing to split by, infeasible bounds).
fn finish(m: &Model, b_all: &[f64], sc: &mut Scratch, out: &mut [f64], mut flags: Option<&mut [u8]>) -> u64 {
    out.iter_mut().for_each(|x| *x = 0.0);
    if let Some(fl) = flags.as_deref_mut() {
        fl.iter_mut().for_each(|x| *x = 0);
    }
    let mut degenerate = 0;
    for st in &m.stages {
        for pool in &st.pools {
            let r = pool.out.len();
            sc.b.clear();
            if let Some(bp) = b_all.get(pool.boff..pool.boff + r) {
                sc.b.extend(bp.iter().zip(&pool.adjust).map(|(b, c)| b * c));
            }
            for (w, src) in pool.seg.windows(2).zip(&st.sources) {
                let (a, b) = match w {
                    [a, b] => (*a, *b),
                    _ => continue,
                };
                if a == b {
                    continue;
                }
                let held = match src {
                    None => m.total,
                    Some(slot) => out.get(*slot as usize).copied().unwrap_or(0.0),
                };
                let pool_amount = held * st.keep * pool.frac;
                let Some(part) = sc.b.get_mut(a..b) else { continue };
                let sum: f64 = part.iter().sum();
                // y_i = k b_i c_i when no bound binds
                let k = if sum > 0.0 && sum.is_finite() {
                    pool_amount / sum
                } else {
                    degenerate += 1;
                    part.iter_mut().for_each(|x| *x = 1.0);
                    pool_amount / (b - a) as f64
                };
                let fits = !pool.bounded || {
                    let cs = pool.cap_share.map(|cs| cs * pool_amount).unwrap_or(f64::INFINITY);
                    let floor = pool.floor.get(a..b).unwrap_or(&[]);
                    let cap = pool.cap.get(a..b).unwrap_or(&[]);
                    part.iter().zip(floor).zip(cap).all(|((&x, &fl), &c)| {
                        let y = x * k;
                        y >= fl && y <= c.min(cs)
                    })
                };
                if fits {
                    match pool.contiguous {
                        Some(first) => {
                            if let Some(o) = out.get_mut(first + a..first + b) {
                                o.iter_mut().zip(part.iter()).for_each(|(o, &x)| *o += x * k);
                            }
                        }
                        None => {
                            for (&slot, &x) in pool.out.get(a..b).unwrap_or(&[]).iter().zip(part.iter()) {
                                if let Some(o) = out.get_mut(slot as usize) {
                                    *o += x * k;
                                }
                            }
                        }
                    }
                    continue;
                }
                // a bound binds: the clamp on the normalised shares
                let inv = 1.0 / part.iter().sum::<f64>();
                part.iter_mut().for_each(|x| *x *= inv);
                let floor = pool.floor.get(a..b).unwrap_or(&[]);
                let cap0 = pool.cap.get(a..b).unwrap_or(&[]);
                sc.caps.clear();
                let cs = pool.cap_share.map(|cs| cs * pool_amount).unwrap_or(f64::INFINITY);
                sc.caps.extend(cap0.iter().map(|&c| c.min(cs)));
                if !clamp_f64(part, floor, &sc.caps, pool_amount, &mut sc.y, &mut sc.flags, &mut sc.events) {
                    degenerate += 1;
                }
                for ((&slot, &y), &flag) in pool.out.get(a..b).unwrap_or(&[]).iter().zip(&sc.y).zip(&sc.flags) {
                    if let Some(o) = out.get_mut(slot as usize) {
                        *o += y;
                    }
                    if let Some(x) = flags.as_deref_mut().and_then(|fl| fl.get_mut(slot as usize)) {
                        *x |= flag;
                    }
                }
            }
        }
    }
    degenerate
}

/// `y_i = min(cap_i, max(floor_i, λ a_i))` with `Σ y_i = pool` (SPEC §3 step 5), in `f64`:
/// first the common case where no bound binds (`λ = pool / Σ a`), else the breakpoint sweep of
/// [`crate::alloc::clamp::clamp_to_pool`]. Infeasible bounds (floors above the pool, caps below
/// it) are scaled in proportion to fit; returns `false` then. `flags` get [`FLOORED`] where
/// `λ a_i < floor_i` and [`CAPPED`] where `λ a_i > cap_i`, as in the exact engine.
fn clamp_f64(
    a: &[f64],
    floor: &[f64],
    cap: &[f64],
    pool: f64,
    y: &mut Vec<f64>,
    flags: &mut Vec<u8>,
    events: &mut Vec<(f64, u32, bool)>,
) -> bool {
    y.clear();
    flags.clear();
    let sa: f64 = a.iter().sum();
    if sa > 0.0 {
        let lam = pool / sa;
        let ok = a.iter().zip(floor).zip(cap).all(|((&ai, &fl), &c)| lam * ai >= fl && lam * ai <= c);
        if ok {
            y.extend(a.iter().map(|&ai| lam * ai));
            flags.resize(a.len(), 0);
            return true;
        }
    }
    let floor_sum: f64 = floor.iter().sum();
    if floor_sum >= pool {
        let k = if floor_sum > 0.0 { pool / floor_sum } else { 0.0 };
        y.extend(floor.iter().map(|&fl| fl * k));
        flags.extend(floor.iter().map(|&fl| if fl > 0.0 { FLOORED } else { 0 }));
        return floor_sum == pool;
    }
    events.clear();
    for (i, (&ai, (&fl, &c))) in a.iter().zip(floor.iter().zip(cap)).enumerate() {
        if ai > 0.0 {
            let i = i as u32;
            events.push((fl / ai, i, false));
            if c.is_finite() {
                events.push((c / ai, i, true));
            }
        }
    }
    events.sort_unstable_by(|x, z| x.0.total_cmp(&z.0).then(x.2.cmp(&z.2)).then(x.1.cmp(&z.1)));
    let (mut value, mut slope, mut lambda) = (floor_sum, 0.0f64, 0.0f64);
    let mut solved = None;
    let mut idx = 0;
    while let Some(&(next, _, _)) = events.get(idx) {
        let at_next = value + slope * (next - lambda);
        if slope > 0.0 && at_next >= pool {
            solved = Some(lambda + (pool - value) / slope);
            break;
        }
        value = at_next;
        lambda = next;
        while let Some(&(l, i, is_cap)) = events.get(idx) {
            if l != next {
                break;
            }
            let ai = a.get(i as usize).copied().unwrap_or(0.0);
            if is_cap {
                slope -= ai;
            } else {
                slope += ai;
            }
            idx += 1;
        }
    }
    let lam = match solved {
        Some(l) => l,
        None if slope > 1e-300 => lambda + (pool - value) / slope,
        None => {
            // caps below the pool: everyone at the cap, raised in proportion
            let cs: f64 = cap.iter().map(|c| if c.is_finite() { *c } else { 0.0 }).sum();
            let k = if cs > 0.0 { pool / cs } else { 0.0 };
            y.extend(cap.iter().map(|&c| if c.is_finite() { c * k } else { 0.0 }));
            flags.resize(a.len(), CAPPED);
            return false;
        }
    };
    for (&ai, (&fl, &c)) in a.iter().zip(floor.iter().zip(cap)) {
        let raw = lam * ai;
        let (v, flag) = if raw > c {
            (c, CAPPED)
        } else if raw < fl {
            (fl, FLOORED)
        } else {
            (raw, 0)
        };
        y.push(v);
        flags.push(flag);
    }
    true
}

const FLOORED: u8 = 1;
const CAPPED: u8 = 2;

// ---------------------------------------------------------------------------------------------
// Random inputs

/// `2^(j/32)`, `j = 0..32`, correctly rounded.
const EXP2_32: [f64; 32] = [
    1.0,
    1.0218971486541166,
    1.0442737824274138,
    1.0671404006768237,
    1.0905077326652577,
    1.1143867425958924,
    1.1387886347566916,
    1.1637248587775775,
    1.189207115002721,
    1.215247359980469,
    1.241857812073484,
    1.2690509571917332,
    1.2968395546510096,
    1.3252366431597413,
    1.3542555469368927,
    1.383909881963832,
    std::f64::consts::SQRT_2,
    1.4451808069770467,
    1.4768261459394993,
    1.5091644275934228,
    1.5422108254079407,
    1.5759808451078865,
    1.6104903319492543,
    1.645755478153965,
    1.681792830507429,
    1.718619298122478,
    1.7562521603732995,
    1.7947090750031072,
    1.8340080864093424,
    1.8741676341103,
    1.9152065613971474,
    1.9571441241754002,
];

/// `eˣ` within a few units in the last place for `|x| < 700`, with the same bits on every
/// platform (plain IEEE operations, no `libm`), and fast: `x = (32m + j) ln2/32 + r` with
/// `|r| ≤ ln2/64`, `eˣ = 2^m 2^(j/32) eʳ`, `eʳ` by its Taylor polynomial of degree 6 (remainder
/// below 2·10⁻¹⁸) evaluated in Estrin's scheme (short dependency chains).
fn exp(x: f64) -> f64 {
    if x.abs() > 700.0 || x.is_nan() {
        return x.exp();
    }
    const LN2_HI_32: f64 = 6.931_471_803_691_238e-1 / 32.0;
    const LN2_LO_32: f64 = 1.908_214_929_270_587_7e-10 / 32.0;
    const INV_LN2_32: f64 = 32.0 * std::f64::consts::LOG2_E;
    // round to nearest: adding 1.5 × 2⁵² leaves round(y) in the low bits of the mantissa
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    let kd = x * INV_LN2_32 + SHIFTER;
    let k = kd.to_bits() as i32;
    let kf = kd - SHIFTER;
    let r = (x - kf * LN2_HI_32) - kf * LN2_LO_32;
    let r2 = r * r;
    let p = (1.0 + r) + r2 * (0.5 + r * (1.0 / 6.0)) + (r2 * r2) * ((1.0 / 24.0 + r * (1.0 / 120.0)) + r2 * (1.0 / 720.0));
    // 2^(k/32) = 2^(k >> 5) 2^((k & 31)/32); the exponent field takes k >> 5 directly
    let t = EXP2_32.get((k & 31) as usize).copied().unwrap_or(1.0);
    let scale = f64::from_bits((((k >> 5) + 1023) as u64) << 52);
    t * p * scale
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator of one input stream: draw `j`, set `A` (0) or `B` (1), group `g`.
fn stream(seed: u64, draw: u64, set: u64, group: u64) -> Xoshiro256PlusPlus {
    let z = splitmix(splitmix(splitmix(seed) ^ draw) ^ ((set << 32) | group));
    Xoshiro256PlusPlus::seed_from_u64(z)
}

/// What a draw needs to sample: per noise group its relative error, per pool its Dirichlet.
struct Sampler {
    dist: NoiseDistribution,
    /// Per noise group: (cv, σ, −σ²/2).
    noise: Vec<(f64, f64, f64)>,
    /// Per global pool, per factor: the Gamma(κ w⁰) (None where w⁰ = 0), or None if fixed.
    dirichlet: Option<Vec<Vec<Option<Gamma<f64>>>>>,
    /// Index of the weights group.
    weights_group: Option<usize>,
}

/// One input set: errors per noise group, weights per pool.
#[derive(Debug, Clone)]
struct InputSet {
    eps: Vec<Vec<f64>>,
    weights: Vec<Vec<f64>>,
}

impl InputSet {
    fn baseline(m: &Model) -> InputSet {
        InputSet {
            eps: m.noise_len.iter().map(|&n| vec![1.0; n]).collect(),
            weights: m.weights.clone(),
        }
    }
}

impl Sampler {
    fn fill(&self, m: &Model, seed: u64, draw: u64, set: u64, inp: &mut InputSet) {
        for (g, (e, &(cv, sigma, mu))) in inp.eps.iter_mut().zip(&self.noise).enumerate() {
            let mut rng = stream(seed, draw, set, g as u64);
            match self.dist {
                NoiseDistribution::LogNormal => {
                    // two passes: the normal draws, then a tight loop of exponentials
                    for x in e.iter_mut() {
                        *x = StandardNormal.sample(&mut rng);
                    }
                    for x in e.iter_mut() {
                        *x = exp(mu + sigma * *x);
                    }
                }
                NoiseDistribution::Normal => {
                    for x in e.iter_mut() {
                        let mut v = 1.0;
                        for _ in 0..1000 {
                            let z: f64 = StandardNormal.sample(&mut rng);
                            v = 1.0 + cv * z;
                            if v > 0.0 {
                                break;
                            }
                        }
                        *x = if v > 0.0 { v } else { 1.0 };
                    }
                }
            }
        }
        if let (Some(dir), Some(g)) = (&self.dirichlet, self.weights_group) {
            let mut rng = stream(seed, draw, set, g as u64);
            for ((w, gammas), stated) in inp.weights.iter_mut().zip(dir).zip(&m.weights) {
                let mut sum = 0.0;
                for (x, gm) in w.iter_mut().zip(gammas) {
                    *x = match gm {
                        Some(gm) => gm.sample(&mut rng),
                        None => 0.0,
                    };
                    sum += *x;
                }
                if sum > 0.0 && sum.is_finite() {
                    w.iter_mut().for_each(|x| *x /= sum);
                } else {
                    w.clone_from(stated);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The run

/// Sums of one chunk of draws.
#[derive(Debug, Clone)]
struct Sums {
    /// Per slot: Σ d, Σ d² with d = f − y⁰ over A and B.
    d1: Vec<f64>,
    d2: Vec<f64>,
    /// Per group × slot (group-major): Σ t₁, Σ t₁², Σ t_T, Σ t_T².
    s1: Vec<f64>,
    s1q: Vec<f64>,
    st: Vec<f64>,
    stq: Vec<f64>,
    floored: Vec<u32>,
    capped: Vec<u32>,
    degenerate: u64,
}

impl Sums {
    fn new(n: usize, g: usize) -> Sums {
        Sums {
            d1: vec![0.0; n],
            d2: vec![0.0; n],
            s1: vec![0.0; n * g],
            s1q: vec![0.0; n * g],
            st: vec![0.0; n * g],
            stq: vec![0.0; n * g],
            floored: vec![0; n],
            capped: vec![0; n],
            degenerate: 0,
        }
    }

    fn add(&mut self, o: &Sums) {
        let add = |a: &mut Vec<f64>, b: &Vec<f64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.d1, &o.d1);
        add(&mut self.d2, &o.d2);
        add(&mut self.s1, &o.s1);
        add(&mut self.s1q, &o.s1q);
        add(&mut self.st, &o.st);
        add(&mut self.stq, &o.stq);
        self.floored.iter_mut().zip(&o.floored).for_each(|(x, y)| *x += y);
        self.capped.iter_mut().zip(&o.capped).for_each(|(x, y)| *x += y);
        self.degenerate += o.degenerate;
    }
}

/// Largest `N × units` accepted (the draws' amounts and ranks are kept for the quantiles: eight
/// bytes per unit and draw).
pub const MAX_CELLS: usize = 100_000_000;

/// Runs the Monte Carlo: `N` base draws, `N (G + 2)` model evaluations, in parallel (rayon).
/// `progress` is called with the number of base draws just finished (from worker threads).
/// The allocation `alloc` of the same scenario gives the published amounts and ranks.
pub fn run(
    s: &Scenario,
    spec: &SensitivitySpec,
    alloc: &Allocation,
    opts: Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sensitivity, InputErrors> {
    let mut groups: Vec<Group> = spec.noise.iter().cloned().map(Group::Noise).collect();
    if let Some(k) = spec.concentration {
        groups.push(Group::Weights { concentration: k });
    }
    let m = build_model(s, &groups)?;
    let n_out = m.out_unit.len();
    if n_out == 0 {
        return Err(model_error(s, "no recipients: nothing to analyse".into()));
    }
    let n = opts.draws.max(2);
    if n.saturating_mul(n_out) > MAX_CELLS {
        return Err(model_error(
            s,
            format!("{n} draws × {n_out} recipients is more than {MAX_CELLS} values to keep for the quantiles: use fewer draws"),
        ));
    }
    let g_count = groups.len();
    let weights_group = groups.iter().position(|g| matches!(g, Group::Weights { .. }));
    let sampler = Sampler {
        dist: spec.distribution,
        noise: spec
            .noise
            .iter()
            .map(|c| {
                let var = (1.0 + c.rel_error * c.rel_error).ln();
                (c.rel_error, var.sqrt(), -var / 2.0)
            })
            .collect(),
        dirichlet: spec.concentration.map(|k| {
            m.weights
                .iter()
                .map(|w| {
                    w.iter()
                        .map(|&x| if x > 0.0 { Gamma::new(k * x, 1.0).ok() } else { None })
                        .collect()
                })
                .collect()
        }),
        weights_group,
    };
    // baseline
    let base_in = InputSet::baseline(&m);
    let mut sc = Scratch::default();
    let mut y0 = vec![0.0; n_out];
    {
        let eps: Vec<&[f64]> = base_in.eps.iter().map(Vec::as_slice).collect();
        let w: Vec<&[f64]> = base_in.weights.iter().map(Vec::as_slice).collect();
        let mut sh = vec![0.0; m.shares_len];
        let mut b = vec![0.0; m.base_len];
        shares(&m, &eps, &mut sh);
        base(&m, &sh, &w, &mut b);
        finish(&m, &b, &mut sc, &mut y0, None);
    }
    // draws, in fixed chunks
    let chunk = (n / 64).clamp(16, 1024);
    let mut amounts = vec![0f32; n * n_out];
    let mut ranks = vec![0u32; n * n_out];
    let seed = opts.seed;
    let partial: Vec<Sums> = amounts
        .par_chunks_mut(chunk * n_out)
        .zip(ranks.par_chunks_mut(chunk * n_out))
        .enumerate()
        .map(|(ci, (am, rk))| {
            let mut sums = Sums::new(n_out, g_count);
            let mut sc = Scratch {
                b: Vec::with_capacity(m.max_pool),
                ..Scratch::default()
            };
            let (mut sh_a, mut sh_b) = (vec![0.0; m.shares_len], vec![0.0; m.shares_len]);
            let (mut b_a, mut b_b, mut b_ab) = (vec![0.0; m.base_len], vec![0.0; m.base_len], vec![0.0; m.base_len]);
            let mut a_in = InputSet::baseline(&m);
            let mut b_in = InputSet::baseline(&m);
            let (mut ya, mut yb, mut yab) = (vec![0.0; n_out], vec![0.0; n_out], vec![0.0; n_out]);
            let mut flags = vec![0u8; n_out];
            for (r, (am_row, rk_row)) in am.chunks_mut(n_out).zip(rk.chunks_mut(n_out)).enumerate() {
                let j = (ci * chunk + r) as u64;
                sampler.fill(&m, seed, j, 0, &mut a_in);
                sampler.fill(&m, seed, j, 1, &mut b_in);
                let a_eps: Vec<&[f64]> = a_in.eps.iter().map(Vec::as_slice).collect();
                let a_w: Vec<&[f64]> = a_in.weights.iter().map(Vec::as_slice).collect();
                let b_eps: Vec<&[f64]> = b_in.eps.iter().map(Vec::as_slice).collect();
                let b_w: Vec<&[f64]> = b_in.weights.iter().map(Vec::as_slice).collect();
                sums.degenerate += shares(&m, &a_eps, &mut sh_a);
                sums.degenerate += shares(&m, &b_eps, &mut sh_b);
                base(&m, &sh_a, &a_w, &mut b_a);
                base(&m, &sh_b, &b_w, &mut b_b);
                sums.degenerate += finish(&m, &b_a, &mut sc, &mut ya, Some(&mut flags));
                sums.degenerate += finish(&m, &b_b, &mut sc, &mut yb, None);
                for (((slot_a, slot_b), base), (d1, d2)) in ya.iter().zip(&yb).zip(&y0).zip(sums.d1.iter_mut().zip(sums.d2.iter_mut())) {
                    let (da, db) = (slot_a - base, slot_b - base);
                    *d1 += da + db;
                    *d2 += da * da + db * db;
                }
                for ((fl, c_f), c_c) in flags.iter().zip(sums.floored.iter_mut()).zip(sums.capped.iter_mut()) {
                    *c_f += u32::from(fl & FLOORED != 0);
                    *c_c += u32::from(fl & CAPPED != 0);
                }
                for (x, y) in am_row.iter_mut().zip(&ya) {
                    *x = *y as f32;
                }
                rank_into(&m, &ya, rk_row, &mut sc.order, &mut sc.order_tmp);
                for g in 0..g_count {
                    // A with group g from B: the factors reading column g take B's shares (a
                    // factor's shares depend on its own column's errors only), or the weights
                    // come from B
                    if Some(g) == weights_group {
                        base(&m, &sh_a, &b_w, &mut b_ab);
                    } else {
                        base_swap(&m, &b_a, &sh_a, &sh_b, &a_w, g, &mut b_ab);
                    }
                    sums.degenerate += finish(&m, &b_ab, &mut sc, &mut yab, None);
                    let range = g * n_out..(g + 1) * n_out;
                    if let (Some(s1), Some(s1q), Some(st), Some(stq)) = (
                        sums.s1.get_mut(range.clone()),
                        sums.s1q.get_mut(range.clone()),
                        sums.st.get_mut(range.clone()),
                        sums.stq.get_mut(range),
                    ) {
                        let terms = ya.iter().zip(&yb).zip(&yab).zip(&y0);
                        let acc = s1.iter_mut().zip(s1q.iter_mut()).zip(st.iter_mut().zip(stq.iter_mut()));
                        for ((((fa, fb), fab), y0u), ((s1, s1q), (st, stq))) in terms.zip(acc) {
                            let t1 = (fb - y0u) * (fab - fa);
                            let tt = 0.5 * (fa - fab) * (fa - fab);
                            *s1 += t1;
                            *s1q += t1 * t1;
                            *st += tt;
                            *stq += tt * tt;
                        }
                    }
                }
                progress(1);
            }
            sums
        })
        .collect();
    let mut total = Sums::new(n_out, g_count);
    for p in &partial {
        total.add(p);
    }
    drop(partial);
    // published amounts and ranks
    let mut published: Vec<Decimal> = vec![Decimal::ZERO; n_out];
    {
        // index the total rows once
        let mut by_key: BTreeMap<(usize, usize), Decimal> = BTreeMap::new();
        for r in alloc.rows.iter().filter(|r| r.kind == RowKind::Total) {
            by_key.insert((r.stage, r.unit), r.amount);
        }
        for (slot, p) in published.iter_mut().enumerate() {
            let (Some(&u), Some(&st)) = (m.out_unit.get(slot), m.out_stage.get(slot)) else {
                continue;
            };
            *p = by_key.get(&(st, u)).copied().unwrap_or_default();
        }
    }
    let mut pub_rank = vec![0usize; n_out];
    for &(a, b) in &m.stage_ranges {
        let mut idx: Vec<usize> = (a..b).collect();
        idx.sort_by(|&x, &y| {
            let (px, py) = (published.get(x), published.get(y));
            py.cmp(&px).then_with(|| {
                let ix = m.out_unit.get(x).and_then(|&u| s.hierarchy.unit(u)).map(|u| u.id.as_bytes());
                let iy = m.out_unit.get(y).and_then(|&u| s.hierarchy.unit(u)).map(|u| u.id.as_bytes());
                ix.cmp(&iy)
            })
        });
        for (r, i) in idx.into_iter().enumerate() {
            if let Some(x) = pub_rank.get_mut(i) {
                *x = r + 1;
            }
        }
    }
    // per unit statistics (independent per unit: parallel, deterministic)
    let nf = n as f64;
    const TILE: usize = 64;
    // The draws are stored draw-major: read them in tiles of 64 units (a cache-friendly
    // transpose, one tile per task, so at most one tile per thread is copied at a time).
    let unit_stats = |slot: usize, mut col: Vec<f32>, mut rk: Vec<u32>| -> (UnitBand, Vec<Indices>) {
        let mean = col.iter().map(|&x| f64::from(x)).sum::<f64>() / nf;
        let sd = (col.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
        let p05 = quantile(&mut col, 0.05);
        let p50 = quantile(&mut col, 0.50);
        let p95 = quantile(&mut col, 0.95);
        let rank_best = nearest_rank(&mut rk, 0.05);
        let rank_worst = nearest_rank(&mut rk, 0.95);
        let y0u = y0.get(slot).copied().unwrap_or(0.0);
        let d1 = total.d1.get(slot).copied().unwrap_or(0.0);
        let d2 = total.d2.get(slot).copied().unwrap_or(0.0);
        let two_n = 2.0 * nf;
        let variance = ((d2 - d1 * d1 / two_n) / (two_n - 1.0)).max(0.0);
        let idx: Vec<Indices> = (0..g_count)
            .map(|g| {
                let i = g * n_out + slot;
                let get = |v: &Vec<f64>| v.get(i).copied().unwrap_or(0.0);
                let (s1, s1q, st, stq) = (get(&total.s1), get(&total.s1q), get(&total.st), get(&total.stq));
                estimate(s1, s1q, st, stq, nf, variance, y0u)
            })
            .collect();
        let band = UnitBand {
            unit: m.out_unit.get(slot).copied().unwrap_or(0),
            stage: m.out_stage.get(slot).copied().unwrap_or(0),
            amount: published.get(slot).copied().unwrap_or_default(),
            baseline: y0u,
            mean,
            sd,
            p05,
            p50,
            p95,
            rank: pub_rank.get(slot).copied().unwrap_or(0),
            rank_best,
            rank_worst,
            p_floor: f64::from(total.floored.get(slot).copied().unwrap_or(0)) / nf,
            p_cap: f64::from(total.capped.get(slot).copied().unwrap_or(0)) / nf,
            variance,
        };
        (band, idx)
    };
    let bands: Vec<(UnitBand, Vec<Indices>)> = (0..n_out.div_ceil(TILE))
        .into_par_iter()
        .flat_map_iter(|ti| {
            let (a, b) = (ti * TILE, ((ti + 1) * TILE).min(n_out));
            let mut cols: Vec<(Vec<f32>, Vec<u32>)> = (a..b).map(|_| (Vec::with_capacity(n), Vec::with_capacity(n))).collect();
            for (row_am, row_rk) in amounts.chunks(n_out).zip(ranks.chunks(n_out)) {
                let (Some(xa), Some(xr)) = (row_am.get(a..b), row_rk.get(a..b)) else {
                    continue;
                };
                for ((c, &x), &r) in cols.iter_mut().zip(xa).zip(xr) {
                    c.0.push(x);
                    c.1.push(r);
                }
            }
            (a..b)
                .zip(cols)
                .map(|(slot, (col, rk))| unit_stats(slot, col, rk))
                .collect::<Vec<_>>()
        })
        .collect();
    drop(amounts);
    drop(ranks);
    let (units, indices): (Vec<UnitBand>, Vec<Vec<Indices>>) = bands.into_iter().unzip();
    // variance-weighted overall indices over the last stage
    let last = s.stages.len();
    let mut overall = Vec::with_capacity(g_count);
    for g in 0..g_count {
        let (mut v, mut v1, mut vt) = (0.0, 0.0, 0.0);
        for (u, ix) in units.iter().zip(&indices) {
            if u.stage != last || u.variance.is_nan() || u.variance <= 0.0 {
                continue;
            }
            if let Some(i) = ix.get(g) {
                v += u.variance;
                v1 += i.first * u.variance;
                vt += i.total * u.variance;
            }
        }
        let r = |x: f64| if v > 0.0 { x / v } else { f64::NAN };
        overall.push(Indices {
            first: r(v1),
            first_se: f64::NAN,
            total: r(vt),
            total_se: f64::NAN,
        });
    }
    let max_model_gap = units.iter().map(|u| (u.baseline - f(u.amount)).abs()).fold(0.0, f64::max);
    Ok(Sensitivity {
        groups,
        units,
        indices,
        overall,
        draws: n,
        evaluations: n * (g_count + 2),
        seed,
        degenerate: total.degenerate,
        max_model_gap,
    })
}

/// Indices from the sums of the per-draw terms (see the module docs).
fn estimate(s1: f64, s1q: f64, st: f64, stq: f64, n: f64, variance: f64, scale: f64) -> Indices {
    // a variance below 10⁻²⁴ of the squared amount is rounding noise, not variation
    if variance.is_nan() || variance <= 1e-24 * scale * scale || variance <= 0.0 {
        return Indices {
            first: f64::NAN,
            first_se: f64::NAN,
            total: f64::NAN,
            total_se: f64::NAN,
        };
    }
    let se = |sum: f64, sq: f64| ((sq / n - (sum / n).powi(2)).max(0.0) / (n - 1.0)).sqrt();
    Indices {
        first: s1 / n / variance,
        first_se: se(s1, s1q) / variance,
        total: st / n / variance,
        total_se: se(st, stq) / variance,
    }
}

/// Ranks (1 = largest, ties by slot) of each stage's recipients in `y`, by an LSD radix sort
/// on the amounts as `f32` (order-preserving bits of a non-negative float, inverted for a
/// descending order; amounts equal to 7 significant digits tie and keep slot order).
fn rank_into(m: &Model, y: &[f64], ranks: &mut [u32], buf: &mut Vec<(u32, u32)>, tmp: &mut Vec<(u32, u32)>) {
    for &(a, b) in &m.stage_ranges {
        buf.clear();
        for (i, v) in y.iter().enumerate().take(b).skip(a) {
            let x = *v as f32;
            let key = if x > 0.0 { !x.to_bits() } else { u32::MAX };
            buf.push((key, i as u32));
        }
        for shift in [0u32, 8, 16, 24] {
            let mut count = [0usize; 256];
            for &(k, _) in buf.iter() {
                if let Some(c) = count.get_mut(((k >> shift) & 0xff) as usize) {
                    *c += 1;
                }
            }
            if count.contains(&buf.len()) {
                continue;
            }
            let mut pos = [0usize; 256];
            let mut acc = 0;
            for (p, c) in pos.iter_mut().zip(count) {
                *p = acc;
                acc += c;
            }
            tmp.clear();
            tmp.resize(buf.len(), (0, 0));
            for &e in buf.iter() {
                if let Some(p) = pos.get_mut(((e.0 >> shift) & 0xff) as usize) {
                    if let Some(slot) = tmp.get_mut(*p) {
                        *slot = e;
                    }
                    *p += 1;
                }
            }
            std::mem::swap(buf, tmp);
        }
        for (r, &(_, i)) in buf.iter().enumerate() {
            if let Some(x) = ranks.get_mut(i as usize) {
                *x = r as u32 + 1;
            }
        }
    }
}

/// Quantile of type 7 (linear between order statistics `⌊h⌋` and `⌊h⌋ + 1`, `h = (n − 1) p`).
fn quantile(v: &mut [f32], p: f64) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as usize;
    let (_, x_lo, rest) = v.select_nth_unstable_by(lo.min(n - 1), |a, b| a.total_cmp(b));
    let x_lo = f64::from(*x_lo);
    let x_hi = rest.iter().copied().fold(f32::INFINITY, f32::min);
    if rest.is_empty() || h == lo as f64 {
        x_lo
    } else {
        x_lo + (h - lo as f64) * (f64::from(x_hi) - x_lo)
    }
}

/// Nearest-rank quantile: the `⌈p n⌉`-th smallest value.
fn nearest_rank(v: &mut [u32], p: f64) -> u32 {
    let n = v.len();
    if n == 0 {
        return 0;
    }
    let k = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
    let (_, x, _) = v.select_nth_unstable(k);
    *x
}

// ---------------------------------------------------------------------------------------------
// Tables

/// An `f64` amount to 0.01 (`{:.2}`, trailing zeros dropped).
fn money(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// `sensitivity.csv`: one row per recipient and stage — `unit_id,name,parent_id,level,stage,
/// amount` (published, exact), `baseline` (the `f64` model without noise), `mean,sd,p05,p50,
/// p95` over the draws, `cv` (`sd / mean`), `rank` (of the published amount, 1 = largest),
/// `rank_best,rank_worst` (5% and 95% quantiles of the rank), `p_floor,p_cap` (share of draws
/// at a floor or a cap).
pub fn bands_table(s: &Scenario, r: &Sensitivity) -> OutTable {
    let mut t = OutTable::new(
        "sensitivity.csv",
        &[
            "unit_id",
            "name",
            "parent_id",
            "level",
            "stage",
            "amount",
            "baseline",
            "mean",
            "sd",
            "p05",
            "p50",
            "p95",
            "cv",
            "rank",
            "rank_best",
            "rank_worst",
            "p_floor",
            "p_cap",
        ],
    );
    let h = &s.hierarchy;
    for u in &r.units {
        let unit = h.unit(u.unit);
        let parent = unit
            .and_then(|x| x.parent)
            .and_then(|p| h.unit(p))
            .map(|p| p.id.clone())
            .unwrap_or_default();
        t.rows.push(vec![
            unit.map(|x| x.id.clone()).unwrap_or_default(),
            unit.map(|x| x.name.clone()).unwrap_or_default(),
            parent,
            unit.map(|x| x.level.clone()).unwrap_or_default(),
            u.stage.to_string(),
            output::dec(u.amount),
            money(u.baseline),
            money(u.mean),
            money(u.sd),
            money(u.p05),
            money(u.p50),
            money(u.p95),
            if u.mean > 0.0 { output::f(u.sd / u.mean) } else { String::new() },
            u.rank.to_string(),
            u.rank_best.to_string(),
            u.rank_worst.to_string(),
            output::f(u.p_floor),
            output::f(u.p_cap),
        ]);
    }
    t
}

/// `sensitivity_indices.csv`: one row per recipient, stage and input group —
/// `unit_id,stage,group,first_order,first_order_se,total,total_se` (empty where the amount
/// does not vary), then rows with `unit_id` = `all` giving the variance-weighted indices over
/// the last stage's recipients.
pub fn indices_table(s: &Scenario, r: &Sensitivity) -> OutTable {
    let mut t = OutTable::new(
        "sensitivity_indices.csv",
        &["unit_id", "stage", "group", "first_order", "first_order_se", "total", "total_se"],
    );
    let names: Vec<String> = r.groups.iter().map(Group::name).collect();
    let h = &s.hierarchy;
    for (u, ix) in r.units.iter().zip(&r.indices) {
        let id = h.unit(u.unit).map(|x| x.id.clone()).unwrap_or_default();
        for (name, i) in names.iter().zip(ix) {
            t.rows.push(vec![
                id.clone(),
                u.stage.to_string(),
                name.clone(),
                output::f(i.first),
                output::f(i.first_se),
                output::f(i.total),
                output::f(i.total_se),
            ]);
        }
    }
    for (name, i) in names.iter().zip(&r.overall) {
        t.rows.push(vec![
            "all".into(),
            s.stages.len().to_string(),
            name.clone(),
            output::f(i.first),
            String::new(),
            output::f(i.total),
            String::new(),
        ]);
    }
    t
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::synth::{self, SynthFiles, SynthOptions};
    use rust_decimal_macros::dec;

    /// One stage, six counties, a pool with factors `x` (weight 0.6), `y` (0.4), `z` (0).
    fn analytic(sensitivity: &str) -> Scenario {
        let toml = format!(
            r#"[scenario]
name = "analytic"
rounding = "1"

[[stage]]
level = "county"
total = "1000000"

  [[stage.pool]]
  id = "base"
  share = "1"
    [[stage.pool.factor]]
    column = "x"
    weight = "0.6"
    [[stage.pool.factor]]
    column = "y"
    weight = "0.4"
    [[stage.pool.factor]]
    column = "z"
    weight = "0"

{sensitivity}
"#
        );
        let units =
            "id,name,parent_id,level\nP,省,,province\nA,a,P,county\nB,b,P,county\nC,c,P,county\nD,d,P,county\nE,e,P,county\nF,f,P,county\n";
        let factors = "unit_id,x,y,z\nA,10,5,1\nB,20,5,2\nC,30,5,3\nD,40,5,4\nE,50,5,5\nF,60,5,6\n";
        synth::scenario_from_files(&SynthFiles {
            scenario_toml: toml,
            units_csv: units.into(),
            factors_csv: factors.into(),
        })
        .unwrap()
    }

    fn run_on(s: &Scenario, draws: usize, seed: u64) -> Sensitivity {
        let spec = spec(s).unwrap().unwrap();
        let alloc = crate::alloc::allocate(s).unwrap();
        run(s, &spec, &alloc, Options { draws, seed }, &|_| {}).unwrap()
    }

    #[test]
    fn one_noisy_factor_carries_all_the_variance() {
        let s = analytic("[sensitivity]\nnoise = { x = \"0.2\", z = \"0.3\" }\n");
        let r = run_on(&s, 4000, 7);
        assert_eq!(r.groups.len(), 2);
        assert_eq!(r.evaluations, 4000 * 4);
        for (u, ix) in r.units.iter().zip(&r.indices) {
            let (x, z) = (ix[0], ix[1]);
            // S = 1 exactly in theory; allow four standard errors and a small bias
            assert!((x.first - 1.0).abs() < 4.0 * x.first_se + 0.02, "unit {} first {x:?}", u.unit);
            assert!((x.total - 1.0).abs() < 4.0 * x.total_se + 0.02, "unit {} total {x:?}", u.unit);
            // z has weight 0: swapping its errors changes nothing, the indices are exactly 0
            assert_eq!((z.first, z.total), (0.0, 0.0), "unit {}", u.unit);
            assert!(u.p05 < u.p50 && u.p50 < u.p95);
            assert!(u.sd > 0.0);
        }
        assert!((r.overall[0].first - 1.0).abs() < 0.02);
        assert_eq!(r.overall[1].total, 0.0);
    }

    #[test]
    fn weights_alone_carry_all_the_variance() {
        let s = analytic("[sensitivity]\nconcentration = \"50\"\n");
        let r = run_on(&s, 3000, 3);
        assert_eq!(r.groups, vec![Group::Weights { concentration: 50.0 }]);
        for ix in &r.indices {
            assert!((ix[0].first - 1.0).abs() < 4.0 * ix[0].first_se + 0.02, "{:?}", ix[0]);
            assert!((ix[0].total - 1.0).abs() < 4.0 * ix[0].total_se + 0.02, "{:?}", ix[0]);
        }
    }

    #[test]
    fn two_noisy_factors_share_the_variance() {
        // y varies too: the indices of x and y are between 0 and 1, first-order ≤ total
        // (within error), and the first-order indices add up to about 1 (nearly additive model)
        let s = analytic("[sensitivity]\nnoise = { x = \"0.1\", y = \"0.3\" }\n");
        let r = run_on(&s, 4000, 11);
        for ix in &r.indices {
            let (x, y) = (ix[0], ix[1]);
            for i in [x, y] {
                assert!(i.first > -0.05 && i.first < 1.05, "{i:?}");
                assert!(i.first <= i.total + 4.0 * (i.first_se + i.total_se), "{i:?}");
            }
            assert!((x.first + y.first - 1.0).abs() < 0.1, "{x:?} {y:?}");
        }
    }

    #[test]
    fn the_f64_model_reproduces_the_exact_allocation_up_to_rounding() {
        let s = synth::scenario(&SynthOptions {
            cities: 6,
            counties: 40,
            seed: 4,
            ..Default::default()
        })
        .unwrap();
        let spec = SensitivitySpec {
            noise: vec![ColumnNoise {
                column: "incidence".into(),
                rel_error: 0.1,
            }],
            ..Default::default()
        };
        let alloc = crate::alloc::allocate(&s).unwrap();
        let r = run(&s, &spec, &alloc, Options { draws: 20, seed: 1 }, &|_| {}).unwrap();
        // stage 1 rounds to 1 yuan, stage 2 splits the rounded amounts and rounds again
        assert!(r.max_model_gap <= 3.0, "{}", r.max_model_gap);
        assert_eq!(r.units.len(), 46);
    }

    #[test]
    fn same_seed_same_result_whatever_the_threads() {
        let s = synth::scenario(&SynthOptions {
            cities: 4,
            counties: 30,
            seed: 9,
            ..Default::default()
        })
        .unwrap();
        let spec = SensitivitySpec {
            noise: vec![
                ColumnNoise {
                    column: "income".into(),
                    rel_error: 0.05,
                },
                ColumnNoise {
                    column: "poor_pop".into(),
                    rel_error: 0.1,
                },
            ],
            concentration: Some(100.0),
            ..Default::default()
        };
        let alloc = crate::alloc::allocate(&s).unwrap();
        let once = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let r = pool.install(|| run(&s, &spec, &alloc, Options { draws: 300, seed: 5 }, &|_| {}).unwrap());
            (bands_table(&s, &r).to_csv(false), indices_table(&s, &r).to_csv(false))
        };
        assert_eq!(once(1), once(3));
        let other = {
            let r = run(&s, &spec, &alloc, Options { draws: 300, seed: 6 }, &|_| {}).unwrap();
            bands_table(&s, &r).to_csv(false)
        };
        assert_ne!(once(2).0, other);
    }

    #[test]
    fn the_portable_exp_is_accurate() {
        let mut worst: f64 = 0.0;
        for i in -200_000..=200_000 {
            let x = f64::from(i) * 3.3e-5;
            let (a, b) = (exp(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        for x in [-700.0, -20.5, 0.0, 1e-300, 3.0, 699.9] {
            assert!(((exp(x) - f64::exp(x)) / f64::exp(x)).abs() < 1e-15, "{x}");
        }
        assert!(worst < 5e-16, "{worst}");
    }

    #[test]
    fn lognormal_errors_have_mean_one_and_the_stated_spread() {
        let s = analytic("[sensitivity]\nnoise = { x = \"0.2\" }\n");
        let r = run_on(&s, 2000, 1);
        // amounts of the unit with the largest x move least (its share of x is large): all
        // bands contain the baseline, and the mean stays near it
        for u in &r.units {
            assert!(u.p05 < u.baseline && u.baseline < u.p95, "{u:?}");
            assert!((u.mean - u.baseline).abs() < 0.05 * u.baseline, "{u:?}");
        }
        let sampler_cv = {
            let var = (1.0f64 + 0.04).ln();
            let (mu, sigma) = (-var / 2.0, var.sqrt());
            let mut rng = stream(1, 0, 0, 0);
            let xs: Vec<f64> = (0..200_000)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    exp(mu + sigma * z)
                })
                .collect();
            let m = xs.iter().sum::<f64>() / xs.len() as f64;
            let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
            (m, sd)
        };
        assert!((sampler_cv.0 - 1.0).abs() < 0.002, "{sampler_cv:?}");
        assert!((sampler_cv.1 - 0.2).abs() < 0.002, "{sampler_cv:?}");
    }

    #[test]
    fn floors_and_caps_are_counted() {
        // a floor that binds for the smallest unit in most draws
        let toml_floor = "  floor = \"120000\"\n";
        let mut s = analytic("[sensitivity]\nnoise = { x = \"0.3\" }\n");
        let text = s.toml_text.replace("  share = \"1\"\n", &format!("  share = \"1\"\n{toml_floor}"));
        s = synth::scenario_from_files(&SynthFiles {
            scenario_toml: text,
            units_csv: "id,name,parent_id,level\nP,省,,province\nA,a,P,county\nB,b,P,county\nC,c,P,county\nD,d,P,county\nE,e,P,county\nF,f,P,county\n".into(),
            factors_csv: "unit_id,x,y,z\nA,10,5,1\nB,20,5,2\nC,30,5,3\nD,40,5,4\nE,50,5,5\nF,60,5,6\n".into(),
        })
        .unwrap();
        let r = run_on(&s, 500, 2);
        let a = &r.units[0];
        assert!(a.p_floor > 0.2, "{a:?}");
        assert!(a.p05 >= 119_999.0, "{a:?}");
        let f = &r.units[5];
        assert_eq!(f.p_floor, 0.0);
    }

    #[test]
    fn clamp_f64_agrees_with_the_exact_clamp() {
        use rand::RngExt;
        let mut rng = stream(3, 0, 0, 0);
        for _ in 0..500 {
            let n = rng.random_range(2..12usize);
            let a_raw: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
            let sum: f64 = a_raw.iter().sum();
            let a: Vec<f64> = a_raw.iter().map(|x| x / sum).collect();
            let pool = 1000.0;
            let floor: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.random_range(0..3) == 0 {
                        1000.0 / n as f64 * 0.8
                    } else {
                        0.0
                    }
                })
                .collect();
            let cap: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.random_range(0..3) == 0 {
                        1000.0 / n as f64 * 1.5
                    } else {
                        f64::INFINITY
                    }
                })
                .collect();
            let (mut y, mut fl, mut ev) = (Vec::new(), Vec::new(), Vec::new());
            let ok = clamp_f64(&a, &floor, &cap, pool, &mut y, &mut fl, &mut ev);
            let d = |x: f64| Decimal::from_f64_retain(x).unwrap();
            let exact = crate::alloc::clamp::clamp_to_pool(
                &a.iter().map(|&x| d(x)).collect::<Vec<_>>(),
                &floor.iter().map(|&x| d(x)).collect::<Vec<_>>(),
                &cap.iter().map(|&c| c.is_finite().then(|| d(c))).collect::<Vec<_>>(),
                dec!(1000),
            );
            match exact {
                Ok(e) => {
                    assert!(ok);
                    for i in 0..n {
                        assert!((y[i] - e.amounts[i].to_f64().unwrap()).abs() < 1e-9, "{a:?} {floor:?} {cap:?}");
                        assert_eq!(fl[i] == FLOORED, e.floored[i]);
                        assert_eq!(fl[i] == CAPPED, e.capped[i]);
                    }
                }
                Err(_) => assert!(!ok),
            }
        }
    }

    #[test]
    fn the_section_is_checked() {
        let s = analytic("[sensitivity]\nnoise = { nope = \"0.1\", x = \"2\" }\ndistribution = \"cauchy\"\nconcentration = \"-1\"\n");
        let e = spec(&s).unwrap_err().to_string();
        assert!(e.contains("sensitivity.noise.nope") && e.contains("not a factor"), "{e}");
        assert!(e.contains("sensitivity.noise.x") && e.contains("[0, 1]"), "{e}");
        assert!(e.contains("cauchy"), "{e}");
        assert!(e.contains("concentration"), "{e}");
        let s = analytic("[sensitivity]\n");
        assert!(spec(&s).unwrap_err().to_string().contains("nothing is uncertain"));
        let s = analytic("");
        assert_eq!(spec(&s).unwrap(), None);
        let s = analytic("[sensitivity]\nnoise = { x = \"10%\" }\ndistribution = \"normal\"\ndraws = 50\nseed = 3\n");
        let sp = spec(&s).unwrap().unwrap();
        assert_eq!(
            sp.noise,
            vec![ColumnNoise {
                column: "x".into(),
                rel_error: 0.1
            }]
        );
        assert_eq!((sp.distribution, sp.draws, sp.seed), (NoiseDistribution::Normal, Some(50), Some(3)));
    }
}
