//! Sampling error carried into verdicts, grades and ranks: a seeded parametric bootstrap.
//!
//! # Method
//!
//! For each draw `d = 1..D` and each unit, every survey indicator of the unit gets a fresh
//! flagged count `k* ~ Binomial(n, k/n)` (same sample size `n`, the observed rate as the true
//! rate). From the `k*` the draw recomputes
//!
//! - the point verdict of each indicator (exact rule, as in [`super::indicator`]);
//! - every scoring item whose value key is `indicator.<name>.rate` or `indicator.<name>.pass`
//!   for an indicator the unit was sampled on (all other values are held at their observed
//!   values), rank items re-ranked among all units, the total, the band grade and the caps;
//! - the rank of each unit's total among all units (competition ranking: 1 + the number of
//!   units with a strictly higher total).
//!
//! Per unit it reports the share of draws in which each indicator's point verdict differs from
//! the observed one, the share in which the grade differs from the observed grade, and the
//! 5% and 95% quantiles of the rank (inverted-CDF quantile: the `⌈q·D⌉`-th smallest rank).
//!
//! # Determinism
//!
//! Draws are made in blocks of 128. Each (unit, block) pair gets its own
//! `Xoshiro256PlusPlus` generator, seeded from the SplitMix64 mix of
//! `(seed, unit index, block index)`, and draws the unit's indicators (in the order
//! missed_assessment, wrong_exit, satisfaction) for the block's draws in turn. Results depend
//! only on the seed and the order of the units passed in (pass them in a canonical order, e.g.
//! by id), never on the number of threads. Counts are integers, so their summation order does
//! not matter either.
//!
//! # Exactness and speed
//!
//! `k*` is drawn with Walker's alias method from a table per unit and indicator, built once:
//! the Binomial(n, p̂) probabilities on the mode ± the range where they stay above 1e-18 of
//! the mode's (the mass left out is below 1e-15), quantised to multiples of 2⁻³²/m for an
//! m-value table. A draw costs one 64-bit random number and one table lookup.
//!
//! Points are not recomputed in the inner loop: for every possible `k*` the item points are
//! computed once with the same exact `Decimal` code as [`ScoringTable::score`], then stored as
//! integers in units of `10^-S` (`S` the largest number of decimal places among all points
//! and band and cap bounds): `i64` when every possible total fits, else `i128`. Totals are sums
//! of these integers, so totals, grade boundaries (e.g. exactly 90), caps and ties in the
//! ranking are decided exactly: no `Decimal` in the inner loop (too slow) and no `f64` (a sum
//! such as 89.99999999999999 would move a unit across a band boundary or break a tie). `f64` is
//! used only for the sampling probabilities and to order the values of rank items on drawn
//! rates, once, when their levels are built (`k/n` in `f64` orders distinct rates correctly
//! while `n < 2^26`, and equal rates give equal `f64`).
//!
//! The loop is blocked for the cache: for each block of 128 draws, phase 1 runs unit by unit
//! (the unit's tables stay in L1) and writes each draw's partial total; phase 2 runs draw by
//! draw over all units (rank items, grades, and the ranks of the totals through a radix sort
//! of packed `(total, unit)` keys). Ranks are kept per unit as `u16` (up to 65,535 units) and
//! the quantiles found by counting. Measured: 2,850 units × 10,000 draws ≈ 1.9 s CPU (≈ 2.8 s
//! with a rank item on a drawn rate), parallel over both phases with rayon.

use std::collections::BTreeMap;

use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::error::ScoreError;
use super::indicator::{parse_value_key, value_key, Indicator, IndicatorResult, IndicatorValue, PointVerdict};
use super::table::{Better, Rule, ScoringTable};

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapConfig {
    /// Number of draws `D ≥ 1` (e.g. 10,000).
    pub draws: u32,
    /// Seed.
    pub seed: u64,
    /// Lower rank quantile (default 0.05).
    pub rank_low: f64,
    /// Upper rank quantile (default 0.95).
    pub rank_high: f64,
}

impl Default for BootstrapConfig {
    /// 10,000 draws, seed 2018, 5–95% rank interval.
    fn default() -> Self {
        BootstrapConfig {
            draws: 10_000,
            seed: 2018,
            rank_low: 0.05,
            rank_high: 0.95,
        }
    }
}

/// One unit handed to the bootstrap.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapUnit {
    /// Unit id.
    pub unit_id: String,
    /// Observed values by key (everything the scoring table reads). Indicator keys
    /// (`indicator.<name>.rate|pass`) of the indicators in `indicators` are recomputed from
    /// the samples and need not be given.
    pub values: BTreeMap<String, Decimal>,
    /// The unit's indicator results (sample size, flagged count and rule of each indicator).
    pub indicators: Vec<IndicatorResult>,
}

/// Flip probability of one indicator's point verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorFlip {
    /// Indicator.
    pub indicator: Indicator,
    /// Observed point verdict.
    pub observed: PointVerdict,
    /// Share of draws whose point verdict differs from `observed`.
    pub flip_probability: f64,
}

/// Sampling error of one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSamplingError {
    /// Unit id.
    pub unit_id: String,
    /// One entry per indicator the unit was sampled on.
    pub flips: Vec<IndicatorFlip>,
    /// Observed total (exact).
    pub total: Decimal,
    /// Observed grade.
    pub grade: String,
    /// Share of draws whose grade differs from `grade`.
    pub grade_change_probability: f64,
    /// Observed rank of the total (1 = highest; ties share the better rank).
    pub rank: u32,
    /// Lower rank quantile over the draws (better end).
    pub rank_low: u32,
    /// Upper rank quantile over the draws (worse end).
    pub rank_high: u32,
}

/// Bootstrap output, units in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapResult {
    /// Draws made.
    pub draws: u32,
    /// Seed used.
    pub seed: u64,
    /// Per-unit results.
    pub units: Vec<UnitSamplingError>,
}

// ---------------------------------------------------------------------------------------------
// random numbers

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 finaliser (a bijection on u64).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Key of a unit's stream: `mix(mix(seed + φ) ^ (unit + 1)·φ)`.
pub(crate) fn unit_key(seed: u64, unit: u64) -> u64 {
    mix(mix(seed.wrapping_add(GOLDEN)) ^ unit.wrapping_add(1).wrapping_mul(GOLDEN))
}

/// Generator of one (unit, block of draws): its 256-bit state is four SplitMix64 outputs from
/// `mix(unit_key ^ mix(block + φ))`.
pub(crate) fn rng_for(unit_key: u64, block: u64) -> Xoshiro256PlusPlus {
    let mut state = mix(unit_key ^ mix(block.wrapping_add(GOLDEN)));
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_exact_mut(8) {
        state = state.wrapping_add(GOLDEN);
        chunk.copy_from_slice(&mix(state).to_le_bytes());
    }
    Xoshiro256PlusPlus::from_seed(seed)
}

/// Alias sampler for Binomial(n, p) over the window `[lo, lo + len)`.
///
/// Walker's alias method with Vose's construction: one 64-bit random number picks a column
/// `j = ⌊(x >> 32)·m / 2³²⌋` and compares its low 32 bits with the column's threshold; the
/// draw is `j` or the column's alias. Probabilities are quantised to multiples of 2⁻³²/m.
#[derive(Debug, Clone)]
pub(crate) struct BinomialTable {
    /// Smallest value in the window.
    pub(crate) lo: u64,
    /// Normalised probabilities of `lo + i`.
    pmf: Vec<f64>,
    /// Per column: (threshold in `0..=2³²`, alias index).
    columns: Vec<(u64, u32)>,
}

impl BinomialTable {
    /// Builds the table: pmf by the recurrence `f(k+1) = f(k)·(n−k)/(k+1)·p/(1−p)` outward
    /// from the mode, stopping where it falls below 1e-18 of the mode's value; then the alias
    /// columns.
    pub(crate) fn new(n: u64, p: f64) -> Result<Self, ScoreError> {
        super::interval::check_probability("p", p)?;
        if p == 0.0 || p == 1.0 || n == 0 {
            let k = if p == 1.0 { n } else { 0 };
            return Ok(BinomialTable {
                lo: k,
                pmf: vec![1.0],
                columns: vec![(1 << 32, 0)],
            });
        }
        let mode = (((n as f64 + 1.0) * p).floor() as u64).min(n);
        let odds = p / (1.0 - p);
        const CUT: f64 = 1e-18;
        // about 19 standard deviations each side; allows n·p(1−p) up to ~2·10⁸
        const MAX_WINDOW: usize = 1 << 18;
        let too_large = || ScoreError::InvalidParameter {
            name: "sampled",
            value: n.to_string(),
            expected: "a sample small enough for a bootstrap table (n·p(1−p) up to ~10⁸)",
        };
        let mut up = Vec::new(); // f(mode+1), f(mode+2), ...
        let mut f = 1.0_f64;
        let mut k = mode;
        while k < n {
            f *= (n - k) as f64 / (k + 1) as f64 * odds;
            if f < CUT {
                break;
            }
            up.push(f);
            if up.len() > MAX_WINDOW {
                return Err(too_large());
            }
            k += 1;
        }
        let mut down = Vec::new(); // f(mode−1), f(mode−2), ...
        let mut f = 1.0_f64;
        let mut k = mode;
        while k > 0 {
            f *= k as f64 / (n - k + 1) as f64 / odds;
            if f < CUT {
                break;
            }
            down.push(f);
            if down.len() > MAX_WINDOW {
                return Err(too_large());
            }
            k -= 1;
        }
        let lo = mode - down.len() as u64;
        let mut pmf: Vec<f64> = down.into_iter().rev().collect();
        pmf.push(1.0);
        pmf.extend(up);
        if pmf.len() > u32::MAX as usize {
            return Err(ScoreError::overflow("binomial table"));
        }
        let total: f64 = pmf.iter().sum();
        for x in &mut pmf {
            *x /= total;
        }
        // Vose: pair each under-full column with an over-full one
        let m = pmf.len();
        let mut scaled: Vec<f64> = pmf.iter().map(|x| x * m as f64).collect();
        let mut columns = vec![(1u64 << 32, 0u32); m];
        let mut small: Vec<usize> = Vec::new();
        let mut large: Vec<usize> = Vec::new();
        for (i, &x) in scaled.iter().enumerate() {
            if x < 1.0 {
                small.push(i);
            } else {
                large.push(i);
            }
        }
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            let ps = scaled.get(s).copied().unwrap_or(1.0);
            let threshold = (ps * 4_294_967_296.0).round().clamp(0.0, 4_294_967_296.0) as u64;
            if let Some(c) = columns.get_mut(s) {
                *c = (threshold, l as u32);
            }
            if let Some(x) = scaled.get_mut(l) {
                *x = (*x + ps) - 1.0;
                if *x < 1.0 {
                    large.pop();
                    small.push(l);
                }
            }
        }
        // columns left in either list are full (up to rounding): threshold 2³²
        Ok(BinomialTable { lo, pmf, columns })
    }

    /// Number of values in the window.
    pub(crate) fn len(&self) -> usize {
        self.pmf.len()
    }

    /// Draws an index into the window (value = `lo + index`) from one `next_u64`.
    #[inline]
    pub(crate) fn sample_index(&self, rng: &mut Xoshiro256PlusPlus) -> usize {
        let x = rng.next_u64();
        let m = self.columns.len() as u64;
        let j = (((x >> 32) * m) >> 32) as usize;
        match self.columns.get(j) {
            Some(&(threshold, alias)) => {
                if (x & 0xFFFF_FFFF) < threshold {
                    j
                } else {
                    alias as usize
                }
            }
            None => 0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// compiled plan

/// Fixed-point totals: `i64` when every possible total fits, `i128` otherwise.
trait Fixed: Copy + Ord + Default + Send + Sync + std::ops::Add<Output = Self> + std::ops::AddAssign + TryFrom<i128> + Into<i128> {}
impl Fixed for i64 {}
impl Fixed for i128 {}

/// Caps on an item: (below, grade index).
type Caps<T> = Vec<(T, u32)>;

/// What a drawn count of one slot implies: the summed points of the items that read it, the
/// worst cap grade they trigger, and the point verdict.
#[derive(Debug, Clone, Copy, Default)]
struct Cell<T> {
    points: T,
    cap: u32,
    pass: bool,
}

/// One (unit, indicator) sample.
#[derive(Debug, Clone)]
struct Slot<T> {
    table: BinomialTable,
    /// Per window index.
    cells: Vec<Cell<T>>,
    observed_index: usize,
    observed_pass: bool,
}

/// Where a rank item's value comes from for one unit.
#[derive(Debug, Clone, Copy)]
enum RankSource {
    Fixed(f64),
    Drawn { slot: usize, pos: usize, what: IndicatorValue },
}

/// A unit's value of a re-ranked item as a level: 0 is the best value, equal values share a
/// level.
#[derive(Debug, Clone, Copy)]
enum Level {
    Fixed(u32),
    /// Levels per window index of the unit's slot at `pos`, from `offset` in the item's table.
    Drawn {
        pos: usize,
        offset: usize,
    },
}

/// A rank item whose ranking depends on drawn counts.
#[derive(Debug, Clone)]
struct RankDyn<T> {
    /// Points at place `i + 1`.
    place_points: Vec<T>,
    caps: Caps<T>,
    /// Per unit.
    levels: Vec<Level>,
    /// Levels of drawn values, all units in one table (see [`Level::Drawn`]).
    table: Vec<u32>,
    /// Bits of the largest level.
    level_bits: u32,
}

#[derive(Debug, Clone)]
struct UnitPlan<T> {
    key: u64,
    slots: std::ops::Range<usize>,
    fixed_total: T,
    fixed_cap_grade: u32,
}

#[derive(Debug)]
struct Plan<T> {
    units: Vec<UnitPlan<T>>,
    slots: Vec<Slot<T>>,
    rank_dyn: Vec<RankDyn<T>>,
    /// Band lower bounds (None = catch-all), best first.
    bands: Vec<Option<T>>,
    /// Packing of (total, unit) into one `u64` sort key, when the range of totals allows:
    /// (lowest possible total, bits of the unit index, bits of the whole key).
    pack: Option<(T, u32, u32)>,
}

/// Draws per block: a unit runs a block of draws with its tables hot in cache, from one
/// generator seeded from (seed, unit, block).
const BLOCK: usize = 128;
/// Draws per phase-2 task (consecutive draws of a unit share a cache line).
const GROUP: usize = 8;
/// Slots per unit at most (one per indicator).
const SLOTS: usize = Indicator::ALL.len();

impl<T: Fixed> Plan<T> {
    /// Total of a unit's fixed and drawn (non-rank) items and its cap grade, given the window
    /// index of each of its slots.
    #[inline]
    fn unit_partial(&self, unit: &UnitPlan<T>, window: &[usize; SLOTS]) -> (T, u32) {
        let mut total = unit.fixed_total;
        let mut cap = unit.fixed_cap_grade;
        for (pos, s) in unit.slots.clone().enumerate() {
            let (Some(slot), Some(&idx)) = (self.slots.get(s), window.get(pos)) else {
                continue;
            };
            if let Some(cell) = slot.cells.get(idx) {
                total += cell.points;
                cap = cap.max(cell.cap);
            }
        }
        (total, cap)
    }

    /// Grade index of a total under a cap grade.
    #[inline]
    fn grade(&self, total: T, cap: u32) -> u32 {
        let band = self
            .bands
            .iter()
            .position(|m| m.is_none_or(|m| total >= m))
            .unwrap_or(self.bands.len().saturating_sub(1));
        (band as u32).max(cap)
    }

    /// Adds the points of re-ranked items for one draw to `totals` / `caps`: sorts
    /// `(level, unit)` keys, places are 1 + the number of units on a strictly better level.
    fn add_rank_items(&self, totals: &mut [T], caps: &mut [u32], level: impl Fn(usize, usize) -> u32, sort: &mut SortBuf<T>) {
        let n = self.units.len();
        let bits = index_bits(n);
        for (r, rd) in self.rank_dyn.iter().enumerate() {
            sort.keys.clear();
            for u in 0..n {
                sort.keys.push((u64::from(level(r, u)) << bits) | u as u64);
            }
            radix_sort(&mut sort.keys, &mut sort.tmp, rd.level_bits + bits);
            let mask = (1u64 << bits) - 1;
            let mut place = 0usize;
            let mut prev: Option<u64> = None;
            for (pos, &k) in sort.keys.iter().enumerate() {
                let level = k >> bits;
                if prev != Some(level) {
                    place = pos;
                    prev = Some(level);
                }
                let p = rd.place_points.get(place).copied().unwrap_or_default();
                let u = (k & mask) as usize;
                if let Some(t) = totals.get_mut(u) {
                    *t += p;
                }
                if let Some(c) = caps.get_mut(u) {
                    for &(below, g) in &rd.caps {
                        if p < below {
                            *c = (*c).max(g);
                        }
                    }
                }
            }
        }
    }

    /// Level of unit `u` in re-ranked item `r`, its slots' window indices given by `window(pos)`.
    #[inline]
    fn level(&self, r: usize, u: usize, window: impl Fn(usize) -> usize) -> u32 {
        let Some(rd) = self.rank_dyn.get(r) else {
            return 0;
        };
        match rd.levels.get(u) {
            Some(Level::Fixed(l)) => *l,
            Some(Level::Drawn { pos, offset }) => rd.table.get(offset + window(*pos)).copied().unwrap_or(0),
            None => 0,
        }
    }

    /// Competition ranks of `totals` (highest first, ties share the better rank) into `ranks`.
    fn rank_totals(&self, totals: &[T], sort: &mut SortBuf<T>, ranks: &mut [u32]) {
        let mut rank = 1u32;
        let SortBuf { keys, tmp, pairs } = sort;
        if let Some((lo, bits, key_bits)) = self.pack {
            let lo: i128 = lo.into();
            keys.clear();
            keys.extend(totals.iter().enumerate().map(|(u, &t)| {
                let off = (t.into() - lo) as u64;
                (off << bits) | u as u64
            }));
            radix_sort(keys, tmp, key_bits);
            let mask = (1u64 << bits) - 1;
            let mut prev: Option<u64> = None;
            for (pos, &k) in keys.iter().rev().enumerate() {
                let value = k >> bits;
                if prev.is_some_and(|p| p != value) {
                    rank = pos as u32 + 1;
                }
                prev = Some(value);
                if let Some(r) = ranks.get_mut((k & mask) as usize) {
                    *r = rank;
                }
            }
        } else {
            pairs.clear();
            pairs.extend(totals.iter().enumerate().map(|(u, &t)| (t, u as u32)));
            pairs.sort_unstable_by_key(|b| std::cmp::Reverse(b.0));
            let mut prev: Option<T> = None;
            for (pos, &(t, u)) in pairs.iter().enumerate() {
                if prev.is_some_and(|p| p != t) {
                    rank = pos as u32 + 1;
                }
                prev = Some(t);
                if let Some(r) = ranks.get_mut(u as usize) {
                    *r = rank;
                }
            }
        }
    }
}

/// Bits needed for a unit index below `units` (at least 1).
fn index_bits(units: usize) -> u32 {
    let n = units.max(2) as u64;
    64 - (n - 1).leading_zeros()
}

/// Buffers for ranking totals.
struct SortBuf<T> {
    keys: Vec<u64>,
    tmp: Vec<u64>,
    pairs: Vec<(T, u32)>,
}

impl<T> SortBuf<T> {
    fn new(units: usize) -> Self {
        SortBuf {
            keys: Vec::with_capacity(units),
            tmp: Vec::with_capacity(units),
            pairs: Vec::new(),
        }
    }
}

/// Sorts keys whose values fit in `key_bits` bits: least-significant-digit radix sort with
/// 11-bit digits (two or three passes for typical keys).
fn radix_sort(keys: &mut Vec<u64>, tmp: &mut Vec<u64>, key_bits: u32) {
    const DIGIT: u32 = 11;
    const BUCKETS: usize = 1 << DIGIT;
    tmp.clear();
    tmp.resize(keys.len(), 0);
    let mut shift = 0u32;
    while shift < key_bits {
        let mut count = [0u32; BUCKETS];
        for &k in keys.iter() {
            if let Some(c) = count.get_mut(((k >> shift) as usize) & (BUCKETS - 1)) {
                *c += 1;
            }
        }
        let mut sum = 0u32;
        for c in count.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &k in keys.iter() {
            if let Some(c) = count.get_mut(((k >> shift) as usize) & (BUCKETS - 1)) {
                if let Some(slot) = tmp.get_mut(*c as usize) {
                    *slot = k;
                }
                *c += 1;
            }
        }
        std::mem::swap(keys, tmp);
        shift += DIGIT;
    }
}

/// Every unit's rank in every draw, unit-major (`u * draws + d`), in `u16` while the ranks
/// fit (up to 65,535 units) to halve the memory.
enum RankStore {
    Small(Vec<u16>),
    Large(Vec<u32>),
}

impl RankStore {
    fn new(units: usize, draws: usize) -> Self {
        if units <= usize::from(u16::MAX) {
            RankStore::Small(vec![0; units * draws])
        } else {
            RankStore::Large(vec![0; units * draws])
        }
    }

    /// Copies a block of draw-major ranks (`block[i * units + u]`, draws `start..start + b`)
    /// into the unit-major store.
    fn put_block(&mut self, block: &[u32], units: usize, draws: usize, start: usize, b: usize) {
        fn put<R: Copy + TryFrom<u32> + Send>(store: &mut [R], block: &[u32], units: usize, draws: usize, start: usize, b: usize) {
            store.par_chunks_mut(draws).enumerate().for_each(|(u, column)| {
                let dest = column.get_mut(start..start + b).unwrap_or_default();
                for (i, x) in dest.iter_mut().enumerate() {
                    let r = block.get(i * units + u).copied().unwrap_or(0);
                    if let Ok(r) = R::try_from(r) {
                        *x = r;
                    }
                }
            });
        }
        match self {
            RankStore::Small(v) => put(v, block, units, draws, start, b),
            RankStore::Large(v) => put(v, block, units, draws, start, b),
        }
    }

    /// Per unit, the `lo_k`-th and `hi_k`-th smallest rank (1-based `k`; ranks are in
    /// `1..=units`, so a counting pass finds them).
    fn quantiles(&self, units: usize, draws: usize, lo_k: usize, hi_k: usize) -> Vec<(u32, u32)> {
        fn q<R: Copy + Into<u32> + Sync>(store: &[R], units: usize, draws: usize, lo_k: usize, hi_k: usize) -> Vec<(u32, u32)> {
            store
                .par_chunks(draws)
                .map_init(
                    || vec![0u32; units + 1],
                    |hist, col| {
                        hist.fill(0);
                        for &r in col {
                            if let Some(h) = hist.get_mut(r.into() as usize) {
                                *h += 1;
                            }
                        }
                        let (mut lo, mut hi) = (0u32, 0u32);
                        let mut seen = 0usize;
                        for (rank, &c) in hist.iter().enumerate() {
                            let before = seen;
                            seen += c as usize;
                            if before < lo_k && seen >= lo_k {
                                lo = rank as u32;
                            }
                            if before < hi_k && seen >= hi_k {
                                hi = rank as u32;
                                break;
                            }
                        }
                        (lo, hi)
                    },
                )
                .collect()
        }
        match self {
            RankStore::Small(v) => q(v, units, draws, lo_k, hi_k),
            RankStore::Large(v) => q(v, units, draws, lo_k, hi_k),
        }
    }
}

/// Phase-1 output for a block, unit-major: entry `u * BLOCK + i` (window indices:
/// `(u * SLOTS + pos) * BLOCK + i`) belongs to draw `i` of the block.
struct BlockBuf<T> {
    partial: Vec<T>,
    cap: Vec<u32>,
    idx: Vec<u32>,
}

/// Phase-2 scratch of one task.
struct Worker<T> {
    totals: Vec<T>,
    caps: Vec<u32>,
    /// Levels of re-ranked items: `(r * GROUP + j) * units + u`.
    levels: Vec<u32>,
    sort: SortBuf<T>,
    grade_changes: Vec<u64>,
}

impl<T: Fixed> Worker<T> {
    fn new(units: usize, rank_items: usize) -> Self {
        Worker {
            totals: vec![T::default(); units * GROUP],
            caps: vec![0; units * GROUP],
            levels: vec![0; units * GROUP * rank_items],
            sort: SortBuf::new(units),
            grade_changes: vec![0; units],
        }
    }
}

fn add_counts(mut a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

/// One unit's chunks in phase 1: ((((partial totals, caps), window indices), verdict flips),
/// (plan, (observed grade, grade changes))).
type Phase1<'a, T> = (
    (((&'a mut [T], &'a mut [u32]), &'a mut [u32]), &'a mut [u64]),
    (&'a UnitPlan<T>, (&'a u32, &'a mut u64)),
);

/// Raw bootstrap output before assembly.
struct RunOut {
    observed_grades: Vec<u32>,
    observed_ranks: Vec<u32>,
    /// `[unit][slot position]` counts.
    flips: Vec<u64>,
    grade_changes: Vec<u64>,
    rank_q: Vec<(u32, u32)>,
}

/// Runs the draws on a compiled plan.
fn run<T: Fixed>(plan: &Plan<T>, cfg: &BootstrapConfig) -> RunOut {
    let n_units = plan.units.len();
    let draws = cfg.draws as usize;
    let has_rank_dyn = !plan.rank_dyn.is_empty();

    // observed baseline through the same integer path
    let observed_window = |u: usize, pos: usize| -> usize {
        plan.units
            .get(u)
            .and_then(|unit| plan.slots.get(unit.slots.start + pos))
            .map_or(0, |s| s.observed_index)
    };
    let mut totals = vec![T::default(); n_units];
    let mut caps = vec![0u32; n_units];
    for (u, unit) in plan.units.iter().enumerate() {
        let mut window = [0usize; SLOTS];
        for (pos, w) in window.iter_mut().enumerate() {
            *w = observed_window(u, pos);
        }
        let (t, c) = plan.unit_partial(unit, &window);
        if let (Some(x), Some(y)) = (totals.get_mut(u), caps.get_mut(u)) {
            *x = t;
            *y = c;
        }
    }
    let mut sort = SortBuf::new(n_units);
    let observed_level = |r: usize, u: usize| plan.level(r, u, |pos| observed_window(u, pos));
    plan.add_rank_items(&mut totals, &mut caps, observed_level, &mut sort);
    let observed_grades: Vec<u32> = totals.iter().zip(&caps).map(|(&t, &c)| plan.grade(t, c)).collect();
    let mut observed_ranks = vec![0u32; n_units];
    plan.rank_totals(&totals, &mut SortBuf::new(n_units), &mut observed_ranks);

    let mut store = RankStore::new(n_units, draws);
    let mut flips = vec![0u64; n_units * SLOTS];
    let mut grade_changes = vec![0u64; n_units];
    // without re-ranked items, caps and window indices are not kept: one dummy entry per unit
    // keeps the zipped chunks aligned
    let cap_chunk = if has_rank_dyn { BLOCK } else { 1 };
    let idx_chunk = if has_rank_dyn { SLOTS * BLOCK } else { 1 };
    let mut buf = BlockBuf {
        partial: vec![T::default(); n_units * BLOCK],
        cap: vec![0u32; n_units * cap_chunk],
        idx: vec![0u32; n_units * idx_chunk],
    };
    let mut block_ranks = vec![0u32; BLOCK * n_units];
    let mut start = 0usize;
    while start < draws {
        let b = BLOCK.min(draws - start);
        let block_index = (start / BLOCK) as u64;

        // phase 1: per unit, this block's draws (unit-major, parallel over units)
        let phase1 = |((((partial, cap), idx), flips), (unit, (observed, changes))): Phase1<'_, T>| {
            let mut rng = rng_for(unit.key, block_index);
            let my_slots = plan.slots.get(unit.slots.clone()).unwrap_or_default();
            let mut local_flips = [0u64; SLOTS];
            let mut local_changes = 0u64;
            for i in 0..b {
                let mut total = unit.fixed_total;
                let mut grade_cap = unit.fixed_cap_grade;
                for ((pos, slot), flip) in my_slots.iter().enumerate().zip(local_flips.iter_mut()) {
                    let k = slot.table.sample_index(&mut rng);
                    let cell = slot.cells.get(k).copied().unwrap_or_default();
                    total += cell.points;
                    grade_cap = grade_cap.max(cell.cap);
                    *flip += u64::from(cell.pass != slot.observed_pass);
                    if has_rank_dyn {
                        if let Some(x) = idx.get_mut(pos * BLOCK + i) {
                            *x = k as u32;
                        }
                    }
                }
                if let Some(x) = partial.get_mut(i) {
                    *x = total;
                }
                if has_rank_dyn {
                    if let Some(x) = cap.get_mut(i) {
                        *x = grade_cap;
                    }
                } else {
                    local_changes += u64::from(plan.grade(total, grade_cap) != *observed);
                }
            }
            for (f, l) in flips.iter_mut().zip(local_flips) {
                *f += l;
            }
            *changes += local_changes;
        };
        buf.partial
            .par_chunks_mut(BLOCK)
            .zip(buf.cap.par_chunks_mut(cap_chunk))
            .zip(buf.idx.par_chunks_mut(idx_chunk))
            .zip(flips.par_chunks_mut(SLOTS))
            .zip(
                plan.units
                    .par_iter()
                    .zip(observed_grades.par_iter().zip(grade_changes.par_iter_mut())),
            )
            .for_each(phase1);

        // phase 2: per group of draws, all units (rank items, grades, ranks of totals)
        let buf = &buf;
        let observed_grades = &observed_grades;
        let counts = block_ranks
            .par_chunks_mut(GROUP * n_units)
            .take(b.div_ceil(GROUP))
            .enumerate()
            .fold(
                || Worker::<T>::new(n_units, plan.rank_dyn.len()),
                |mut w, (g, rows)| {
                    let i0 = g * GROUP;
                    let gn = GROUP.min(b - i0);
                    // gather: the group's draws of a unit are adjacent in memory
                    for u in 0..n_units {
                        for j in 0..gn {
                            let at = u * BLOCK + i0 + j;
                            if let Some(x) = w.totals.get_mut(j * n_units + u) {
                                *x = buf.partial.get(at).copied().unwrap_or_default();
                            }
                            if has_rank_dyn {
                                if let Some(x) = w.caps.get_mut(j * n_units + u) {
                                    *x = buf.cap.get(at).copied().unwrap_or(0);
                                }
                                let window = |pos: usize| buf.idx.get((u * SLOTS + pos) * BLOCK + i0 + j).copied().unwrap_or(0) as usize;
                                for r in 0..plan.rank_dyn.len() {
                                    if let Some(x) = w.levels.get_mut((r * GROUP + j) * n_units + u) {
                                        *x = plan.level(r, u, window);
                                    }
                                }
                            }
                        }
                    }
                    for (j, row) in rows.chunks_mut(n_units).take(gn).enumerate() {
                        let range = j * n_units..(j + 1) * n_units;
                        let Worker {
                            totals,
                            caps,
                            levels,
                            sort,
                            grade_changes,
                        } = &mut w;
                        let (Some(tot), Some(cp)) = (totals.get_mut(range.clone()), caps.get_mut(range)) else {
                            continue;
                        };
                        if has_rank_dyn {
                            let levels = &*levels;
                            let level = |r: usize, u: usize| levels.get((r * GROUP + j) * n_units + u).copied().unwrap_or(0);
                            plan.add_rank_items(tot, cp, level, sort);
                            for (u, (&t, &c)) in tot.iter().zip(cp.iter()).enumerate() {
                                if observed_grades.get(u).is_some_and(|&o| o != plan.grade(t, c)) {
                                    if let Some(x) = grade_changes.get_mut(u) {
                                        *x += 1;
                                    }
                                }
                            }
                        }
                        plan.rank_totals(tot, sort, row);
                    }
                    w
                },
            )
            .map(|w| w.grade_changes)
            .reduce(|| vec![0; n_units], add_counts);
        if has_rank_dyn {
            grade_changes = add_counts(grade_changes, counts);
        }
        store.put_block(&block_ranks, n_units, draws, start, b);
        start += b;
    }

    // rank quantiles (inverted CDF: the ⌈q·D⌉-th smallest)
    let kth = |q: f64| -> usize { ((q * draws as f64).ceil() as usize).clamp(1, draws) };
    let rank_q = store.quantiles(n_units, draws, kth(cfg.rank_low), kth(cfg.rank_high));
    RunOut {
        observed_grades,
        observed_ranks,
        flips,
        grade_changes,
        rank_q,
    }
}

// ---------------------------------------------------------------------------------------------
// compilation: exact points per possible draw, then fixed point

/// A drawn item before conversion to fixed point: points per window index, caps.
type DecDep = (Vec<Decimal>, Vec<(Decimal, u32)>);

/// A slot before conversion to fixed point.
struct DecSlot {
    indicator: Indicator,
    table: BinomialTable,
    n: u64,
    pass: Vec<bool>,
    observed_index: usize,
    observed_pass: bool,
    deps: Vec<DecDep>,
}

/// A unit before conversion to fixed point.
struct DecUnit {
    key: u64,
    slots: std::ops::Range<usize>,
    fixed_points: Vec<Decimal>,
    fixed_caps: u32,
}

/// A re-ranked item before conversion to fixed point.
struct DecRank {
    better: Better,
    place_points: Vec<Decimal>,
    caps: Vec<(Decimal, u32)>,
    sources: Vec<RankSource>,
}

struct DecPlan {
    units: Vec<DecUnit>,
    slots: Vec<DecSlot>,
    rank: Vec<DecRank>,
    bands: Vec<Option<Decimal>>,
}

fn to_fixed(d: Decimal, scale: u32) -> Result<i128, ScoreError> {
    let factor = 10i128
        .checked_pow(scale.saturating_sub(d.scale()))
        .ok_or_else(|| ScoreError::overflow("bootstrap fixed-point points"))?;
    d.mantissa()
        .checked_mul(factor)
        .ok_or_else(|| ScoreError::overflow("bootstrap fixed-point points"))
}

impl DecPlan {
    /// Largest number of decimal places among all points and bounds.
    fn scale(&self) -> u32 {
        let mut scale = 0u32;
        let mut see = |d: &Decimal| scale = scale.max(d.scale());
        for s in &self.slots {
            for (pts, caps) in &s.deps {
                pts.iter().for_each(&mut see);
                caps.iter().for_each(|(b, _)| see(b));
            }
        }
        for u in &self.units {
            u.fixed_points.iter().for_each(&mut see);
        }
        for r in &self.rank {
            r.place_points.iter().for_each(&mut see);
            r.caps.iter().for_each(|(b, _)| see(b));
        }
        for m in self.bands.iter().flatten() {
            see(m);
        }
        scale
    }

    /// Converts to fixed point in `T`; `None` when some total could leave `T`'s range.
    fn lower<T: Fixed>(&self, scale: u32, limit: i128) -> Result<Option<Plan<T>>, ScoreError> {
        let fx = |d: Decimal| -> Result<Option<T>, ScoreError> {
            let v = to_fixed(d, scale)?;
            Ok(if v.abs() > limit { None } else { T::try_from(v).ok() })
        };
        macro_rules! fx {
            ($d:expr) => {
                match fx($d)? {
                    Some(v) => v,
                    None => return Ok(None),
                }
            };
        }
        let mut slots = Vec::with_capacity(self.slots.len());
        // bounds of drawn contributions per slot: (min, max) over its cells
        let mut slot_bounds = Vec::with_capacity(self.slots.len());
        for s in &self.slots {
            let len = s.table.len();
            let mut sums = vec![0i128; len];
            let mut caps = vec![0u32; len];
            for (pts, dcaps) in &s.deps {
                let mut fcaps = Vec::with_capacity(dcaps.len());
                for &(b, g) in dcaps {
                    fcaps.push((to_fixed(b, scale)?, g));
                }
                for ((sum, cap), p) in sums.iter_mut().zip(caps.iter_mut()).zip(pts) {
                    let v = to_fixed(*p, scale)?;
                    *sum = sum.checked_add(v).ok_or_else(|| ScoreError::overflow("bootstrap points"))?;
                    for &(b, g) in &fcaps {
                        if v < b {
                            *cap = (*cap).max(g);
                        }
                    }
                }
            }
            let lo = sums.iter().copied().min().unwrap_or(0);
            let hi = sums.iter().copied().max().unwrap_or(0);
            slot_bounds.push((lo, hi));
            let mut cells = Vec::with_capacity(len);
            for ((sum, cap), pass) in sums.into_iter().zip(caps).zip(&s.pass) {
                let points = match T::try_from(sum) {
                    Ok(v) if sum.abs() <= limit => v,
                    _ => return Ok(None),
                };
                cells.push(Cell { points, cap, pass: *pass });
            }
            slots.push(Slot {
                table: s.table.clone(),
                cells,
                observed_index: s.observed_index,
                observed_pass: s.observed_pass,
            });
        }
        let mut rank_dyn = Vec::with_capacity(self.rank.len());
        let (mut rank_lo, mut rank_hi) = (0i128, 0i128);
        for r in &self.rank {
            let mut place_points = Vec::with_capacity(r.place_points.len());
            let (mut dlo, mut dhi) = (0i128, 0i128);
            for p in &r.place_points {
                let v = fx!(*p);
                let w: i128 = v.into();
                dlo = dlo.min(w);
                dhi = dhi.max(w);
                place_points.push(v);
            }
            rank_lo = rank_lo.saturating_add(dlo);
            rank_hi = rank_hi.saturating_add(dhi);
            let mut caps = Vec::with_capacity(r.caps.len());
            for &(b, g) in &r.caps {
                caps.push((fx!(b), g));
            }
            // levels: every value the item can take, sorted, best first
            let value = |slot: &DecSlot, i: usize, what: IndicatorValue| match what {
                IndicatorValue::Rate => (slot.table.lo + i as u64) as f64 / slot.n as f64,
                IndicatorValue::Pass => {
                    if slot.pass.get(i).copied().unwrap_or(false) {
                        1.0
                    } else {
                        0.0
                    }
                }
            };
            let mut values: Vec<f64> = Vec::new();
            for src in &r.sources {
                match *src {
                    RankSource::Fixed(v) => values.push(v),
                    RankSource::Drawn { slot, what, .. } => {
                        if let Some(sl) = self.slots.get(slot) {
                            values.extend((0..sl.table.len()).map(|i| value(sl, i, what)));
                        }
                    }
                }
            }
            values.sort_by(f64::total_cmp);
            values.dedup();
            let top = values.len().saturating_sub(1);
            let level_of = |v: f64| -> u32 {
                let i = values.partition_point(|x| x.total_cmp(&v).is_lt());
                let l = match r.better {
                    Better::Lower => i,
                    Better::Higher => top.saturating_sub(i),
                };
                l as u32
            };
            let mut table = Vec::new();
            let levels = r
                .sources
                .iter()
                .map(|src| match *src {
                    RankSource::Fixed(v) => Level::Fixed(level_of(v)),
                    RankSource::Drawn { slot, pos, what } => {
                        let offset = table.len();
                        if let Some(sl) = self.slots.get(slot) {
                            table.extend((0..sl.table.len()).map(|i| level_of(value(sl, i, what))));
                        }
                        Level::Drawn { pos, offset }
                    }
                })
                .collect();
            rank_dyn.push(RankDyn {
                place_points,
                caps,
                levels,
                table,
                level_bits: (64 - (top as u64).leading_zeros()).max(1),
            });
        }
        let mut units = Vec::with_capacity(self.units.len());
        let (mut lo_all, mut hi_all) = (i128::MAX, i128::MIN);
        for u in &self.units {
            let mut fixed: i128 = 0;
            for p in &u.fixed_points {
                fixed = fixed
                    .checked_add(to_fixed(*p, scale)?)
                    .ok_or_else(|| ScoreError::overflow("bootstrap total"))?;
            }
            let (mut lo, mut hi) = (fixed.saturating_add(rank_lo), fixed.saturating_add(rank_hi));
            for s in u.slots.clone() {
                if let Some(&(a, b)) = slot_bounds.get(s) {
                    lo = lo.saturating_add(a);
                    hi = hi.saturating_add(b);
                }
            }
            if lo.abs() > limit || hi.abs() > limit {
                return Ok(None);
            }
            lo_all = lo_all.min(lo);
            hi_all = hi_all.max(hi);
            units.push(UnitPlan {
                key: u.key,
                slots: u.slots.clone(),
                fixed_total: match T::try_from(fixed) {
                    Ok(v) if fixed.abs() <= limit => v,
                    _ => return Ok(None),
                },
                fixed_cap_grade: u.fixed_caps,
            });
        }
        let mut bands = Vec::with_capacity(self.bands.len());
        for b in &self.bands {
            bands.push(match b {
                Some(m) => Some(fx!(*m)),
                None => None,
            });
        }
        let n = units.len().max(2) as u64;
        let bits = 64 - (n - 1).leading_zeros();
        let pack = if lo_all <= hi_all && hi_all - lo_all < (1i128 << (64 - bits)) {
            let range_bits = 128 - (hi_all - lo_all).leading_zeros();
            T::try_from(lo_all).ok().map(|lo| (lo, bits, (range_bits + bits).max(1)))
        } else {
            None
        };
        Ok(Some(Plan {
            units,
            slots,
            rank_dyn,
            bands,
            pack,
        }))
    }
}

/// Runs the parametric bootstrap (see module docs) for `units` scored by `table`.
///
/// Errors: invalid settings, duplicate unit ids, inconsistent samples, and any error of
/// [`ScoringTable::score`] on the observed values (e.g. a missing value).
pub fn bootstrap(table: &ScoringTable, units: &[BootstrapUnit], cfg: &BootstrapConfig) -> Result<BootstrapResult, ScoreError> {
    if cfg.draws == 0 {
        return Err(ScoreError::InvalidParameter {
            name: "draws",
            value: "0".into(),
            expected: ">= 1",
        });
    }
    for (name, q) in [("rank_low", cfg.rank_low), ("rank_high", cfg.rank_high)] {
        if !(0.0..=1.0).contains(&q) {
            return Err(ScoreError::InvalidParameter {
                name,
                value: q.to_string(),
                expected: "a quantile in [0, 1]",
            });
        }
    }
    if cfg.rank_low > cfg.rank_high {
        return Err(ScoreError::InvalidParameter {
            name: "rank_low",
            value: cfg.rank_low.to_string(),
            expected: "<= rank_high",
        });
    }
    let n_units = units.len();
    if n_units.checked_mul(cfg.draws as usize).is_none_or(|cells| cells > 1 << 32) {
        return Err(ScoreError::InvalidParameter {
            name: "draws",
            value: cfg.draws.to_string(),
            expected: "units × draws at most 2³² (the ranks of every draw are kept)",
        });
    }
    let items = table.items();

    // observed values: given values, indicator keys recomputed from the samples
    let mut observed: BTreeMap<String, BTreeMap<String, Decimal>> = BTreeMap::new();
    for u in units {
        let mut vals = u.values.clone();
        for r in &u.indicators {
            if r.unit_id != u.unit_id {
                return Err(ScoreError::InvalidParameter {
                    name: "indicators",
                    value: format!("{} in unit {}", r.unit_id, u.unit_id),
                    expected: "results of the unit itself",
                });
            }
            vals.insert(value_key(r.indicator, IndicatorValue::Rate), r.rate_decimal()?);
            let pass = if r.point_verdict == PointVerdict::Pass {
                Decimal::ONE
            } else {
                Decimal::ZERO
            };
            vals.insert(value_key(r.indicator, IndicatorValue::Pass), pass);
        }
        if observed.insert(u.unit_id.clone(), vals).is_some() {
            return Err(ScoreError::InvalidParameter {
                name: "units",
                value: u.unit_id.clone(),
                expected: "unique unit ids",
            });
        }
    }
    let scores = table.score(&observed).map_err(|mut e| e.swap_remove(0))?;
    let by_id: BTreeMap<&str, usize> = scores.iter().enumerate().map(|(i, s)| (s.unit_id.as_str(), i)).collect();
    if n_units == 0 {
        return Ok(BootstrapResult {
            draws: cfg.draws,
            seed: cfg.seed,
            units: Vec::new(),
        });
    }

    let caps_of = |j: usize| -> Vec<(Decimal, u32)> {
        table
            .caps()
            .iter()
            .filter(|c| c.item_index == j)
            .map(|c| (c.below, c.grade_index as u32))
            .collect()
    };
    // rank items with at least one drawn source are re-ranked per draw
    let rank_dyn_items: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, it)| matches!(it.rule, Rule::Rank { .. }))
        .filter(|(_, it)| {
            parse_value_key(&it.value_key).is_some_and(|(ind, _)| units.iter().any(|u| u.indicators.iter().any(|r| r.indicator == ind)))
        })
        .map(|(j, _)| j)
        .collect();

    let mut dec = DecPlan {
        units: Vec::with_capacity(n_units),
        slots: Vec::new(),
        rank: Vec::new(),
        bands: table.bands().iter().map(|b| b.min).collect(),
    };
    let mut slot_of: Vec<BTreeMap<Indicator, usize>> = Vec::with_capacity(n_units);
    for (ui, u) in units.iter().enumerate() {
        let score = by_id
            .get(u.unit_id.as_str())
            .and_then(|&i| scores.get(i))
            .ok_or_else(|| ScoreError::overflow("unit lookup"))?;
        let start = dec.slots.len();
        let mut dependent = vec![false; items.len()];
        let mut my_slots = BTreeMap::new();
        let mut sorted: Vec<&IndicatorResult> = u.indicators.iter().collect();
        sorted.sort_by_key(|r| r.indicator);
        for r in sorted {
            if my_slots.contains_key(&r.indicator) {
                return Err(ScoreError::InvalidParameter {
                    name: "indicators",
                    value: format!("{} twice for unit {}", r.indicator, u.unit_id),
                    expected: "one result per indicator",
                });
            }
            if r.sampled == 0 || r.flagged > r.sampled {
                return Err(ScoreError::InvalidParameter {
                    name: "indicators",
                    value: format!("{} of {}", r.flagged, r.sampled),
                    expected: "0 <= flagged <= sampled, sampled >= 1",
                });
            }
            let n = r.sampled;
            let bt = BinomialTable::new(n, r.flagged as f64 / n as f64)?;
            if bt.len() > u32::MAX as usize {
                return Err(ScoreError::overflow("binomial table"));
            }
            let mut pass = Vec::with_capacity(bt.len());
            let mut rates = Vec::with_capacity(bt.len());
            for i in 0..bt.len() {
                let k = bt.lo + i as u64;
                pass.push(r.rule.passes_counts(k, n)?);
                rates.push(
                    Decimal::from(k)
                        .checked_div(Decimal::from(n))
                        .ok_or_else(|| ScoreError::overflow("rate"))?,
                );
            }
            let mut deps = Vec::new();
            for (j, item) in items.iter().enumerate() {
                let Some((ind, what)) = parse_value_key(&item.value_key) else {
                    continue;
                };
                if ind != r.indicator {
                    continue;
                }
                if let Some(x) = dependent.get_mut(j) {
                    *x = true;
                }
                if matches!(item.rule, Rule::Rank { .. }) {
                    continue; // re-ranked per draw
                }
                let mut pts = Vec::with_capacity(bt.len());
                for (i, rate) in rates.iter().enumerate() {
                    let v = match what {
                        IndicatorValue::Rate => *rate,
                        IndicatorValue::Pass => {
                            if pass.get(i).copied().unwrap_or(false) {
                                Decimal::ONE
                            } else {
                                Decimal::ZERO
                            }
                        }
                    };
                    pts.push(table.value_points(item, v, &u.unit_id)?.unwrap_or_default());
                }
                deps.push((pts, caps_of(j)));
            }
            my_slots.insert(r.indicator, dec.slots.len());
            dec.slots.push(DecSlot {
                indicator: r.indicator,
                observed_index: r.flagged.saturating_sub(bt.lo) as usize,
                observed_pass: r.point_verdict == PointVerdict::Pass,
                table: bt,
                n,
                pass,
                deps,
            });
        }
        // fixed items: not dependent and not re-ranked
        let mut fixed_points = Vec::new();
        let mut fixed_caps = 0u32;
        for j in 0..items.len() {
            if dependent.get(j).copied().unwrap_or(false) || rank_dyn_items.contains(&j) {
                continue;
            }
            let p = score.items.get(j).map(|s| s.points).unwrap_or_default();
            fixed_points.push(p);
            for (below, g) in caps_of(j) {
                if p < below {
                    fixed_caps = fixed_caps.max(g);
                }
            }
        }
        dec.units.push(DecUnit {
            key: unit_key(cfg.seed, ui as u64),
            slots: start..dec.slots.len(),
            fixed_points,
            fixed_caps,
        });
        slot_of.push(my_slots);
    }
    for &j in &rank_dyn_items {
        let Some(item) = items.get(j) else { continue };
        let Rule::Rank { better, .. } = item.rule else {
            continue;
        };
        let mut place_points = Vec::with_capacity(n_units);
        for place in 1..=n_units as u64 {
            place_points.push(table.rank_points(item, place)?);
        }
        let parsed = parse_value_key(&item.value_key);
        let mut sources = Vec::with_capacity(n_units);
        for (ui, u) in units.iter().enumerate() {
            let start = dec.units.get(ui).map_or(0, |d| d.slots.start);
            let drawn = parsed.and_then(|(ind, what)| {
                slot_of.get(ui).and_then(|m| m.get(&ind)).map(|&slot| RankSource::Drawn {
                    slot,
                    pos: slot - start,
                    what,
                })
            });
            sources.push(match drawn {
                Some(s) => s,
                None => {
                    let v = observed
                        .get(&u.unit_id)
                        .and_then(|m| m.get(&item.value_key))
                        .copied()
                        .unwrap_or_default();
                    RankSource::Fixed(v.to_f64().unwrap_or(0.0))
                }
            });
        }
        dec.rank.push(DecRank {
            better,
            place_points,
            caps: caps_of(j),
            sources,
        });
    }

    let scale = dec.scale();
    let out = match dec.lower::<i64>(scale, 1i128 << 62)? {
        Some(plan) => run(&plan, cfg),
        None => match dec.lower::<i128>(scale, 1i128 << 120)? {
            Some(plan) => run(&plan, cfg),
            None => return Err(ScoreError::overflow("bootstrap totals")),
        },
    };

    let draws = f64::from(cfg.draws);
    let mut result = Vec::with_capacity(n_units);
    for (ui, u) in units.iter().enumerate() {
        let score = by_id
            .get(u.unit_id.as_str())
            .and_then(|&i| scores.get(i))
            .ok_or_else(|| ScoreError::overflow("unit lookup"))?;
        let Some(dunit) = dec.units.get(ui) else {
            continue;
        };
        let mut flips = Vec::new();
        for (pos, s) in dunit.slots.clone().enumerate() {
            let Some(slot) = dec.slots.get(s) else {
                continue;
            };
            flips.push(IndicatorFlip {
                indicator: slot.indicator,
                observed: PointVerdict::from_bool(slot.observed_pass),
                flip_probability: out.flips.get(ui * SLOTS + pos).copied().unwrap_or(0) as f64 / draws,
            });
        }
        let (rank_low, rank_high) = out.rank_q.get(ui).copied().unwrap_or((0, 0));
        result.push(UnitSamplingError {
            unit_id: u.unit_id.clone(),
            flips,
            total: score.total,
            grade: table
                .bands()
                .get(out.observed_grades.get(ui).copied().unwrap_or(0) as usize)
                .map(|b| b.name.clone())
                .unwrap_or_default(),
            grade_change_probability: out.grade_changes.get(ui).copied().unwrap_or(0) as f64 / draws,
            rank: out.observed_ranks.get(ui).copied().unwrap_or(0),
            rank_low,
            rank_high,
        });
    }
    Ok(BootstrapResult {
        draws: cfg.draws,
        seed: cfg.seed,
        units: result,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::score::indicator::{evaluate, Sample};
    use crate::score::interval::CiMethod;
    use crate::score::table::RawScoring;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn binomial_table_matches_pmf() {
        let t = BinomialTable::new(50, 0.04).unwrap();
        // P(X ≤ 2) for Bin(50, 0.04) = 0.6767... (scipy: 0.67666...)
        let k2 = (2 - t.lo) as usize;
        let exact = crate::score::interval::binomial_cdf(2, 50, 0.04).unwrap();
        let cdf: f64 = t.pmf[..=k2].iter().sum();
        assert!((cdf - exact).abs() < 1e-13, "{cdf} vs {exact}");
        assert!((t.pmf.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        // alias columns reproduce the pmf up to the 2^-32 quantisation
        let m = t.len() as f64;
        let mut implied = vec![0.0; t.len()];
        for (j, &(thr, alias)) in t.columns.iter().enumerate() {
            let keep = thr as f64 / 4_294_967_296.0;
            implied[j] += keep / m;
            implied[alias as usize] += (1.0 - keep) / m;
        }
        for (a, b) in implied.iter().zip(&t.pmf) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        let t = BinomialTable::new(10, 0.0).unwrap();
        assert_eq!((t.lo, t.len()), (0, 1));
        let t = BinomialTable::new(10, 1.0).unwrap();
        assert_eq!((t.lo, t.len()), (10, 1));
        let t = BinomialTable::new(1, 0.5).unwrap();
        assert_eq!((t.lo, t.len()), (0, 2));
        assert!(BinomialTable::new(1_000_000_000_000_000, 0.5).is_err());
        assert!(BinomialTable::new(10, 1.5).is_err());
    }

    #[test]
    fn sampler_frequencies() {
        let t = BinomialTable::new(20, 0.3).unwrap();
        let mut counts = [0u32; 21];
        let mut rng = rng_for(unit_key(1, 0), 0);
        let n = 200_000;
        for _ in 0..n {
            counts[t.lo as usize + t.sample_index(&mut rng)] += 1;
        }
        for (k, &c) in counts.iter().enumerate() {
            let p = crate::score::interval::binomial_cdf(k as u64, 20, 0.3).unwrap()
                - if k == 0 {
                    0.0
                } else {
                    crate::score::interval::binomial_cdf(k as u64 - 1, 20, 0.3).unwrap()
                };
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            assert!((c as f64 / n as f64 - p).abs() < 5.0 * sd + 1e-9, "k={k}");
        }
    }

    fn result(unit: &str, ind: Indicator, k: u64, n: u64) -> IndicatorResult {
        evaluate(
            &Sample {
                row: 0,
                unit_id: unit.into(),
                indicator: ind,
                sampled: n,
                flagged: k,
            },
            ind.default_rule(),
            CiMethod::Wilson,
            0.95,
        )
        .unwrap()
    }

    fn test_table() -> ScoringTable {
        let raw: RawScoring = toml::from_str(
            r#"
            [[item]]
            id = "base"
            value = "base"
            max_points = "60"
            rule = { kind = "linear", full_at = "1", zero_at = "0" }
            [[item]]
            id = "missed"
            value = "indicator.missed_assessment.rate"
            max_points = "20"
            rule = { kind = "step", better = "lower", target = "0", step = "0.01", points_per_step = "5" }
            [[item]]
            id = "satisfaction"
            value = "indicator.satisfaction.pass"
            max_points = "15"
            rule = { kind = "all_or_nothing", pass_if = "at_least", target = "1" }
            [[item]]
            id = "wrong_rank"
            value = "indicator.wrong_exit.rate"
            max_points = "5"
            rule = { kind = "rank", better = "lower", per_place = "0.25" }
            [[cap]]
            item = "satisfaction"
            max_grade = "good"
        "#,
        )
        .unwrap();
        ScoringTable::from_raw(&raw).unwrap()
    }

    fn test_units(n_units: usize) -> Vec<BootstrapUnit> {
        (0..n_units)
            .map(|i| {
                let id = format!("u{i:04}");
                BootstrapUnit {
                    values: [("base".to_string(), Decimal::new(70 + (i % 30) as i64, 2))].into_iter().collect(),
                    indicators: vec![
                        result(&id, Indicator::MissedAssessment, (i % 4) as u64, 60),
                        result(&id, Indicator::WrongExit, (i % 3) as u64, 50),
                        result(&id, Indicator::Satisfaction, 44 + (i % 7) as u64, 50),
                    ],
                    unit_id: id,
                }
            })
            .collect()
    }

    #[test]
    fn baseline_agrees_with_exact_scoring() {
        let table = test_table();
        let units = test_units(40);
        let cfg = BootstrapConfig {
            draws: 50,
            ..BootstrapConfig::default()
        };
        let res = bootstrap(&table, &units, &cfg).unwrap();
        let mut values = BTreeMap::new();
        for u in &units {
            let mut v = u.values.clone();
            v.extend(
                crate::score::indicator::indicator_values(&u.indicators)
                    .unwrap()
                    .remove(&u.unit_id)
                    .unwrap(),
            );
            values.insert(u.unit_id.clone(), v);
        }
        let scores = table.score(&values).unwrap();
        let totals: Vec<Decimal> = scores.iter().map(|s| s.total).collect();
        for (r, s) in res.units.iter().zip(&scores) {
            assert_eq!(r.unit_id, s.unit_id);
            assert_eq!(r.total, s.total);
            assert_eq!(r.grade, s.grade, "{}", r.unit_id);
            let expected_rank = 1 + totals.iter().filter(|t| **t > s.total).count() as u32;
            assert_eq!(r.rank, expected_rank, "{}", r.unit_id);
            assert!(r.rank_low <= r.rank_high);
            assert_eq!(r.flips.len(), 3);
        }
    }

    #[test]
    fn deterministic_for_a_seed_and_across_thread_counts() {
        let table = test_table();
        let units = test_units(60);
        let cfg = BootstrapConfig {
            draws: 700,
            seed: 42,
            ..BootstrapConfig::default()
        };
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| bootstrap(&table, &units, &cfg).unwrap())
        };
        let one = run(1);
        let two = run(2);
        let again = run(2);
        assert_eq!(one, two);
        assert_eq!(two, again);
        let other = bootstrap(&table, &units, &BootstrapConfig { seed: 43, ..cfg }).unwrap();
        assert_ne!(one, other);
        // something actually varies
        assert!(one.units.iter().any(|u| u.grade_change_probability > 0.0));
        assert!(one.units.iter().any(|u| u.rank_low < u.rank_high));
    }

    #[test]
    fn flip_probability_matches_binomial_tail() {
        // one unit, missed 1 of 60 observed (pass: 1 < 1.2); a draw fails when k* ≥ 2
        let raw: RawScoring = toml::from_str(
            "[[item]]\nid = \"x\"\nvalue = \"indicator.missed_assessment.rate\"\nmax_points = \"100\"\nrule = { kind = \"linear\", full_at = \"0\", zero_at = \"0.1\" }\n",
        )
        .unwrap();
        let table = ScoringTable::from_raw(&raw).unwrap();
        let units = vec![BootstrapUnit {
            unit_id: "a".into(),
            values: BTreeMap::new(),
            indicators: vec![result("a", Indicator::MissedAssessment, 1, 60)],
        }];
        let cfg = BootstrapConfig {
            draws: 40_000,
            seed: 7,
            ..BootstrapConfig::default()
        };
        let res = bootstrap(&table, &units, &cfg).unwrap();
        let f = &res.units[0].flips[0];
        assert_eq!(f.observed, PointVerdict::Pass);
        let p = 1.0 - crate::score::interval::binomial_cdf(1, 60, 1.0 / 60.0).unwrap();
        let sd = (p * (1.0 - p) / 40_000.0).sqrt();
        assert!((f.flip_probability - p).abs() < 5.0 * sd, "{} vs {p}", f.flip_probability);
        assert_eq!(res.units[0].rank, 1);
        assert_eq!((res.units[0].rank_low, res.units[0].rank_high), (1, 1));
    }

    #[test]
    fn degenerate_samples_never_flip() {
        let table = test_table();
        let units = vec![BootstrapUnit {
            unit_id: "a".into(),
            values: [("base".to_string(), d("0.9"))].into_iter().collect(),
            indicators: vec![
                result("a", Indicator::MissedAssessment, 0, 30),
                result("a", Indicator::WrongExit, 0, 1),
                result("a", Indicator::Satisfaction, 50, 50),
            ],
        }];
        let res = bootstrap(&table, &units, &BootstrapConfig::default()).unwrap();
        let u = &res.units[0];
        assert!(u.flips.iter().all(|f| f.flip_probability == 0.0));
        assert_eq!(u.grade_change_probability, 0.0);
        assert_eq!(u.total, d("94"));
        assert_eq!(u.grade, "excellent");
    }

    #[test]
    fn radix_sort_sorts() {
        let mut keys: Vec<u64> = (0..5000u64)
            .map(|i| (((i * 2_654_435_761) % 1_000_003) << 13) | (i % 8192))
            .collect();
        let mut expect = keys.clone();
        expect.sort_unstable();
        radix_sort(&mut keys, &mut Vec::new(), 33);
        assert_eq!(keys, expect);
        let mut one = vec![5u64];
        radix_sort(&mut one, &mut Vec::new(), 3);
        assert_eq!(one, vec![5]);
    }

    #[test]
    fn rank_quantiles_by_counting() {
        // 3 units, 10 draws; unit 0 ranks 1..=3 mixed
        let mut store = RankStore::new(3, 10);
        let block: Vec<u32> = (0..10u32).flat_map(|d| [1 + d % 3, 2, 3 - (d % 2)]).collect();
        store.put_block(&block, 3, 10, 0, 10);
        let q = store.quantiles(3, 10, 1, 10);
        assert_eq!(q, vec![(1, 3), (2, 2), (2, 3)]);
        let q = store.quantiles(3, 10, 5, 6);
        // unit 0 ranks sorted: 1 1 1 1 2 2 2 3 3 3
        assert_eq!(q[0], (2, 2));
    }

    #[test]
    fn exact_points_use_the_wide_integer_path() {
        // no rounding: linear points like 3.333… carry 28 decimals, so totals need i128 and
        // cannot be packed into u64 sort keys
        let raw: RawScoring = toml::from_str(
            r#"
            [[item]]
            id = "base"
            value = "base"
            max_points = "70"
            rule = { kind = "linear", full_at = "3", zero_at = "0" }
            [[item]]
            id = "missed"
            value = "indicator.missed_assessment.rate"
            max_points = "30"
            rule = { kind = "linear", full_at = "0", zero_at = "0.07" }
        "#,
        )
        .unwrap();
        let table = ScoringTable::from_raw(&raw).unwrap();
        let units: Vec<BootstrapUnit> = (0..30)
            .map(|i| {
                let id = format!("u{i:02}");
                BootstrapUnit {
                    values: [("base".to_string(), Decimal::from(1 + i % 3))].into_iter().collect(),
                    indicators: vec![result(&id, Indicator::MissedAssessment, (i % 5) as u64, 70)],
                    unit_id: id,
                }
            })
            .collect();
        let cfg = BootstrapConfig {
            draws: 300,
            seed: 5,
            ..BootstrapConfig::default()
        };
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| bootstrap(&table, &units, &cfg).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(2));
        let totals: Vec<Decimal> = one.units.iter().map(|u| u.total).collect();
        assert!(totals.iter().any(|t| t.scale() > 20), "{totals:?}");
        for u in &one.units {
            let expected_rank = 1 + totals.iter().filter(|t| **t > u.total).count() as u32;
            assert_eq!(u.rank, expected_rank, "{}", u.unit_id);
            assert!(u.rank_low <= u.rank_high);
        }
        assert!(one.units.iter().any(|u| u.grade_change_probability > 0.0));
    }

    #[test]
    fn bad_settings() {
        let table = test_table();
        let units = test_units(2);
        let cfg = BootstrapConfig {
            draws: 0,
            ..BootstrapConfig::default()
        };
        assert!(bootstrap(&table, &units, &cfg).is_err());
        let swapped = BootstrapConfig {
            rank_low: 0.9,
            rank_high: 0.1,
            ..BootstrapConfig::default()
        };
        assert!(bootstrap(&table, &units, &swapped).is_err());
        let mut dup = test_units(2);
        let id0 = dup[0].unit_id.clone();
        dup[1].unit_id = id0.clone();
        for r in &mut dup[1].indicators {
            r.unit_id = id0.clone();
        }
        assert!(bootstrap(&table, &dup, &BootstrapConfig::default()).is_err());
        let mut missing = test_units(2);
        missing[0].values.clear();
        assert!(matches!(
            bootstrap(&table, &missing, &BootstrapConfig::default()),
            Err(ScoreError::MissingValue { .. })
        ));
    }
}
