//! `check-weights`: stated weights of one pool against named policy rules (SPEC §6).
//!
//! Each [`NamedCheck`] expands to one or more linear rows `Σ_k r_k w_k ≥ rhs` (see the
//! derivation in the [module doc](super)). On top of the rows the admissible set always has
//! the simplex `w ≥ 0, Σ w = 1`.
//!
//! * **At the stated weights** each check reports `satisfied` and a `slack` in the rule's
//!   natural units, computed from the amounts directly ([`PoolShares::amounts`]), not from the
//!   linear rows: weight bounds — `min(w − lo, hi − w)`; per capita — group ratio minus
//!   `min_ratio`; growth — group growth minus the required growth (fractions, 0.05 = 5 %);
//!   minimum share — group share minus `min_share`; need monotonicity — the smallest
//!   per-capita difference `y_i/p_i − y_j/p_j` over the pairs, in money per head.
//!   `satisfied` is decided on the rows, each scaled to unit ∞-norm, with tolerance
//!   [`CheckOptions::feas_tol`]; the two agree in sign because the row equals the slack times
//!   a positive factor.
//! * **Feasibility**: a phase-1 LP `min t` s.t. `r̂·w + t ≥ rhs^` for every scaled row, `t ≥ 0`,
//!   on the simplex; admissible weights exist iff `t* ≤ feas_tol`.
//! * **Ranges**: for each factor, `min w_k` and `max w_k` over the admissible set (2K LPs, run
//!   in parallel); **nearest**: `min Σ_k |w_k − w_k^stated|` (the distance is unique, the
//!   minimiser need not be). In these LPs each scaled row is relaxed by `2·feas_tol`.
//! * LPs with more than 300 rows (need monotonicity) are solved by row generation: a subset
//!   of the rows, then the rows its solution violates, until none is violated.
//! * **Infeasibility explained**: [`minimal_conflict`] runs a deletion filter over the named
//!   checks — drop a check for good if the others stay infeasible without it — so the result
//!   is a minimal set: removing any one member makes the rest feasible. When the set holds a
//!   need-monotonicity check, the filter is run again with that check split into its pair
//!   rows, so the answer names the pairs (`"need: 620102 >= 620103"`); this refinement is
//!   skipped (the check's name is kept) when more than 400 pair rows bind. The simplex is never
//!   dropped. Checks that are not binding at the phase-1 optimum are dropped first (a
//!   removal that cannot restore feasibility); the rest are tried in the order given, so
//!   later checks are the ones kept when several minimal sets exist.
//!
//! Need monotonicity (`i ⪰ j` when `v_ik ≥ v_jk` for every factor, with `v = s` or
//! `v = s/p`, see [`Dominance`]) is generated on the transitive reduction of the dominance
//! order: `y_i/p_i ≥ y_m/p_m ≥ y_j/p_j` implies the constraint for `(i, j)`, so only
//! covering pairs are needed; units with identical vectors are chained in a cycle (all equal
//! per capita). The count is capped ([`Rule::NeedMonotone::max_pairs`], default
//! [`DEFAULT_MAX_PAIRS`]); beyond it the check fails with [`LpError::TooManyPairs`].

use rayon::prelude::*;

use super::lp::{self, Backend, Cmp, Lp, Sense};
use super::{check_vector, check_weights_vector, LpError, PoolShares};

/// Default cap on need-monotonicity pair constraints.
pub const DEFAULT_MAX_PAIRS: usize = 200_000;

/// A named group of recipients (e.g. deep-poverty counties): `members[i]` is true when unit
/// `i` belongs to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Name used by the checks.
    pub name: String,
    /// Membership flag per unit, in the pool's unit order.
    pub members: Vec<bool>,
}

/// Everything the checks may need about one pool, validated by [`CheckData::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckData {
    pool: PoolShares,
    population: Option<Vec<f64>>,
    last_year: Option<Vec<f64>>,
    groups: Vec<Group>,
}

impl CheckData {
    /// Validates: `population` (for per-capita rules) finite and `> 0` per unit;
    /// `last_year` (for growth rules) finite and `≥ 0`; every group with one flag per unit,
    /// non-empty, names unique.
    pub fn new(pool: PoolShares, population: Option<Vec<f64>>, last_year: Option<Vec<f64>>, groups: Vec<Group>) -> Result<Self, LpError> {
        let n = pool.n_units();
        if let Some(p) = &population {
            check_vector("population", p, n, true)?;
        }
        if let Some(l) = &last_year {
            check_vector("last_year", l, n, false)?;
        }
        let mut names = std::collections::BTreeSet::new();
        for g in &groups {
            let field = format!("groups[{}]", g.name);
            if !names.insert(g.name.as_str()) {
                return Err(LpError::input(field, "duplicate group name"));
            }
            if g.members.len() != n {
                return Err(LpError::input(field, format!("{} flags, expected {n}", g.members.len())));
            }
            if !g.members.iter().any(|&m| m) {
                return Err(LpError::input(field, "the group has no member"));
            }
        }
        Ok(Self {
            pool,
            population,
            last_year,
            groups,
        })
    }

    /// The pool's shares.
    pub fn pool(&self) -> &PoolShares {
        &self.pool
    }
    /// Population (or headcount) per unit, if supplied.
    pub fn population(&self) -> Option<&[f64]> {
        self.population.as_deref()
    }
    /// Last year's amounts per unit, if supplied.
    pub fn last_year(&self) -> Option<&[f64]> {
        self.last_year.as_deref()
    }
    /// The groups.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    fn group(&self, check: &str, name: &str) -> Result<Vec<usize>, LpError> {
        self.groups
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.members.iter().enumerate().filter(|(_, &m)| m).map(|(i, _)| i).collect())
            .ok_or_else(|| LpError::UnknownGroup {
                check: check.to_string(),
                group: name.to_string(),
            })
    }
}

/// What makes unit `i` "at least as needy" as unit `j` for need monotonicity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dominance {
    /// `s_ik ≥ s_jk` for every factor (the shares already point "higher = needier").
    #[default]
    Share,
    /// `s_ik / p_i ≥ s_jk / p_j` for every factor: needier per head. Without adjustment
    /// coefficients this rule holds for every weight vector; it bites only through `c_i`.
    SharePerCapita,
}

/// A policy rule on the weights of one pool. Every rule is linear in `w` (module doc).
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `lo ≤ w_factor ≤ hi`, with `0 ≤ lo ≤ hi ≤ 1`.
    WeightBounds {
        /// Factor name.
        factor: String,
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// `(Σ_G y_i / Σ_G p_i) / (A / Σ_all p_i) ≥ min_ratio`: the group's amount per head is at
    /// least `min_ratio` times the pool's average amount per head (needs population).
    GroupPerCapita {
        /// Group name.
        group: String,
        /// Minimum ratio, e.g. 1.03.
        min_ratio: f64,
    },
    /// `Σ_G y_i / Σ_G L_i − 1 ≥ ratio · (A / Σ_all L_i − 1) + margin`: the group's growth over
    /// last year's amounts `L` is at least `ratio` times the average growth plus `margin`
    /// (needs last year's amounts, comparable to this pool; `L_G > 0`).
    GroupGrowth {
        /// Group name.
        group: String,
        /// Multiplier of the average growth (1 = "at least the average").
        ratio: f64,
        /// Additive margin, a fraction (0.01 = one percentage point).
        margin: f64,
    },
    /// `Σ_G y_i / A ≥ min_share` (earmarks).
    GroupMinShare {
        /// Group name.
        group: String,
        /// Minimum share of the pool, in `[0, 1]`.
        min_share: f64,
    },
    /// For every pair with `i ⪰ j` (see [`Dominance`]): `y_i/p_i ≥ y_j/p_j` (needs population).
    NeedMonotone {
        /// Which dominance defines "needier".
        dominance: Dominance,
        /// Cap on the number of pair constraints after the transitive reduction.
        max_pairs: usize,
    },
}

impl Rule {
    /// Short kind name, as in `weight_check.csv`'s `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::WeightBounds { .. } => "weight_bounds",
            Rule::GroupPerCapita { .. } => "group_per_capita",
            Rule::GroupGrowth { .. } => "group_growth",
            Rule::GroupMinShare { .. } => "group_min_share",
            Rule::NeedMonotone { .. } => "need_monotone",
        }
    }
}

/// A rule with the name users see (e.g. "deep-poverty premium ≥ 1.03").
#[derive(Debug, Clone, PartialEq)]
pub struct NamedCheck {
    /// Name printed in reports and conflict sets.
    pub name: String,
    /// The rule.
    pub rule: Rule,
}

/// One linear row of a check, `Σ_k coef_k w_k ≥ rhs`, before scaling.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearRow {
    /// Index of the check in the input slice.
    pub check: usize,
    /// Row label (the check name, plus `lo`/`hi` or the unit pair).
    pub label: String,
    /// Coefficients, one per factor.
    pub coef: Vec<f64>,
    /// Right-hand side.
    pub rhs: f64,
}

impl LinearRow {
    /// `coef·w − rhs` divided by `max(‖coef‖∞, |rhs|)`; `None` for an all-zero row.
    fn scaled_value(&self, w: &[f64]) -> Option<f64> {
        let norm = self.coef.iter().fold(self.rhs.abs(), |m, c| m.max(c.abs()));
        if norm > 0.0 {
            let v: f64 = self.coef.iter().zip(w).map(|(c, w)| c * w).sum();
            Some((v - self.rhs) / norm)
        } else {
            None
        }
    }

    fn scaled(&self) -> Option<(Vec<f64>, f64)> {
        let norm = self.coef.iter().fold(self.rhs.abs(), |m, c| m.max(c.abs()));
        if norm > 0.0 {
            Some((self.coef.iter().map(|c| c / norm).collect(), self.rhs / norm))
        } else {
            None
        }
    }
}

/// Solver and tolerances for `check-weights`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckOptions {
    /// LP backend (default clarabel).
    pub backend: Backend,
    /// Feasibility tolerance on rows scaled to unit ∞-norm (default 1e-8).
    pub feas_tol: f64,
    /// Whether to search for a minimal conflicting set when infeasible (default true).
    pub explain: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Clarabel,
            feas_tol: 1e-8,
            explain: true,
        }
    }
}

/// Result of one check at the stated weights.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// Check name.
    pub name: String,
    /// Rule kind ([`Rule::kind`]).
    pub kind: &'static str,
    /// Whether the stated weights satisfy it.
    pub satisfied: bool,
    /// Slack in the rule's natural units (negative = violated); `None` when the rule
    /// generates no constraint (need monotonicity with no dominated pair).
    pub slack: Option<f64>,
    /// Number of linear rows the check expands to.
    pub rows: usize,
    /// For need monotonicity: the pair with the smallest slack, `"i >= j"`.
    pub binding: Option<String>,
}

/// Range of one weight over the admissible set.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorRange {
    /// Factor name.
    pub factor: String,
    /// Stated weight.
    pub stated: f64,
    /// Minimum admissible weight.
    pub min: f64,
    /// Maximum admissible weight.
    pub max: f64,
    /// Weight in the nearest admissible vector.
    pub nearest: f64,
}

/// The admissible weights nearest the stated ones in total absolute change.
#[derive(Debug, Clone, PartialEq)]
pub struct NearestWeights {
    /// The weights (sum to 1).
    pub weights: Vec<f64>,
    /// `Σ_k |w_k − w_k^stated|` (0 when the stated weights are admissible).
    pub distance: f64,
}

/// Full result of `check-weights`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightCheck {
    /// One outcome per check, in input order.
    pub outcomes: Vec<CheckOutcome>,
    /// Whether the stated weights satisfy every check.
    pub stated_admissible: bool,
    /// Whether any weights satisfy every check.
    pub admissible: bool,
    /// Per-factor ranges (and nearest weights); `None` when no admissible weights exist.
    pub ranges: Option<Vec<FactorRange>>,
    /// Nearest admissible weights; `None` when none exist.
    pub nearest: Option<NearestWeights>,
    /// When infeasible and `explain` is on: the names of a minimal conflicting set of checks
    /// (need-monotonicity checks refined to their pair rows, `"name: i >= j"`).
    pub conflict: Option<Vec<String>>,
}

/// One check expanded: its rows and, for need monotonicity, the pairs behind them.
struct Expanded {
    rows: Vec<LinearRow>,
    pairs: Vec<(usize, usize)>,
    members: Vec<usize>,
}

fn need_vectors(data: &CheckData, dominance: Dominance) -> Option<Vec<Vec<f64>>> {
    match dominance {
        Dominance::Share => Some(data.pool.shares().to_vec()),
        Dominance::SharePerCapita => {
            let p = data.population()?;
            Some(
                data.pool
                    .shares()
                    .iter()
                    .zip(p)
                    .map(|(row, p)| row.iter().map(|s| s / p).collect())
                    .collect(),
            )
        }
    }
}

fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x >= y)
}

/// Need-monotonicity pairs `(i, j)` (unit indices, `i` at least as needy as `j`) on the
/// transitive reduction of the dominance order; identical units are chained in a cycle.
///
/// Dominance is exact comparison of `f64` values. Cost: `O(n² K)` comparisons to find the
/// dominated units plus `O(candidates × covers × K)` for the reduction. Fails with
/// [`LpError::TooManyPairs`] (check name left empty) as soon as more than `cap` pairs are
/// needed, and with [`LpError::MissingData`] for per-capita dominance without population.
pub fn need_pairs(data: &CheckData, dominance: Dominance, cap: usize) -> Result<Vec<(usize, usize)>, LpError> {
    let vecs = need_vectors(data, dominance).ok_or(LpError::MissingData {
        check: String::new(),
        data: "population",
    })?;
    let n = vecs.len();
    let empty: &[f64] = &[];
    let v = |i: usize| vecs.get(i).map_or(empty, |r| r.as_slice());
    let too_many = |pairs: usize| LpError::TooManyPairs {
        check: String::new(),
        pairs,
        cap,
    };

    // Classes of identical vectors.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        v(a).iter()
            .zip(v(b))
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut pairs = Vec::new();
    let mut reps = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let first = order.get(start).copied().unwrap_or(0);
        let mut end = start + 1;
        while end < order.len() && order.get(end).is_some_and(|&j| v(j) == v(first)) {
            end += 1;
        }
        let class = order.get(start..end).unwrap_or(&[]);
        if class.len() >= 2 {
            // a cycle c0 -> c1 -> ... -> c0 makes the whole class equal per head
            for (a, b) in class.iter().zip(class.iter().cycle().skip(1)) {
                pairs.push((*a, *b));
            }
        }
        reps.push(first);
        start = end;
    }
    if pairs.len() > cap {
        return Err(too_many(pairs.len()));
    }

    // Covering pairs between classes: candidates in decreasing order of their sum.
    let sum = |i: usize| v(i).iter().sum::<f64>();
    let mut by_sum: Vec<(f64, usize)> = reps.iter().map(|&i| (sum(i), i)).collect();
    by_sum.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(si, i) in &by_sum {
        let first = by_sum.partition_point(|&(s, _)| s > si);
        let mut covers: Vec<usize> = Vec::new();
        for &(_, j) in by_sum.get(first..).unwrap_or(&[]) {
            if j == i || !dominates(v(i), v(j)) {
                continue;
            }
            if covers.iter().any(|&m| dominates(v(m), v(j))) {
                continue;
            }
            covers.push(j);
            pairs.push((i, j));
            if pairs.len() > cap {
                return Err(too_many(pairs.len()));
            }
        }
    }
    Ok(pairs)
}

fn expand(data: &CheckData, checks: &[NamedCheck]) -> Result<Vec<Expanded>, LpError> {
    let pool = &data.pool;
    let kf = pool.n_factors();
    let a = pool.pool();
    let s = pool.shares();
    let c = pool.adjust();
    // T_k = Σ_j c_j s_jk
    let t: Vec<f64> = (0..kf)
        .map(|k| s.iter().zip(c).map(|(row, c)| c * row.get(k).copied().unwrap_or(0.0)).sum())
        .collect();
    // S_k(G) = Σ_{i∈G} c_i s_ik
    let s_group = |members: &[usize]| -> Vec<f64> {
        (0..kf)
            .map(|k| {
                members
                    .iter()
                    .map(|&i| c.get(i).copied().unwrap_or(0.0) * s.get(i).and_then(|r| r.get(k)).copied().unwrap_or(0.0))
                    .sum()
            })
            .collect()
    };
    let sum_over = |v: &[f64], members: &[usize]| -> f64 { members.iter().map(|&i| v.get(i).copied().unwrap_or(0.0)).sum() };

    let mut out = Vec::with_capacity(checks.len());
    for (ci, ch) in checks.iter().enumerate() {
        let name = &ch.name;
        let finite = |field: &str, x: f64| -> Result<(), LpError> {
            if x.is_finite() {
                Ok(())
            } else {
                Err(LpError::input(format!("check `{name}`.{field}"), format!("{x} is not finite")))
            }
        };
        let row = |label: String, coef: Vec<f64>, rhs: f64| LinearRow {
            check: ci,
            label,
            coef,
            rhs,
        };
        let e = match &ch.rule {
            Rule::WeightBounds { factor, lo, hi } => {
                let k = pool
                    .factor_names()
                    .iter()
                    .position(|f| f == factor)
                    .ok_or_else(|| LpError::UnknownFactor {
                        check: name.clone(),
                        factor: factor.clone(),
                    })?;
                if !(lo.is_finite() && hi.is_finite() && 0.0 <= *lo && lo <= hi && *hi <= 1.0) {
                    return Err(LpError::input(
                        format!("check `{name}`"),
                        format!("bounds [{lo}, {hi}] must satisfy 0 ≤ lo ≤ hi ≤ 1"),
                    ));
                }
                let unit = |sign: f64| -> Vec<f64> { (0..kf).map(|j| if j == k { sign } else { 0.0 }).collect() };
                Expanded {
                    rows: vec![
                        row(format!("{name} (lo)"), unit(1.0), *lo),
                        row(format!("{name} (hi)"), unit(-1.0), -hi),
                    ],
                    pairs: Vec::new(),
                    members: Vec::new(),
                }
            }
            Rule::GroupPerCapita { group, min_ratio } => {
                finite("min_ratio", *min_ratio)?;
                let members = data.group(name, group)?;
                let p = data.population().ok_or(LpError::MissingData {
                    check: name.clone(),
                    data: "population",
                })?;
                let p_all: f64 = p.iter().sum();
                let p_g = sum_over(p, &members);
                let sg = s_group(&members);
                let coef = sg.iter().zip(&t).map(|(sg, t)| sg - min_ratio * (p_g / p_all) * t).collect();
                Expanded {
                    rows: vec![row(name.clone(), coef, 0.0)],
                    pairs: Vec::new(),
                    members,
                }
            }
            Rule::GroupGrowth { group, ratio, margin } => {
                finite("ratio", *ratio)?;
                finite("margin", *margin)?;
                let members = data.group(name, group)?;
                let l = data.last_year().ok_or(LpError::MissingData {
                    check: name.clone(),
                    data: "last year's amounts",
                })?;
                let l_all: f64 = l.iter().sum();
                let l_g = sum_over(l, &members);
                if l_g <= 0.0 {
                    return Err(LpError::input(
                        format!("check `{name}`"),
                        format!("group `{group}` received nothing last year: growth undefined"),
                    ));
                }
                let target = l_g * (1.0 + ratio * (a / l_all - 1.0) + margin);
                let sg = s_group(&members);
                let coef = sg.iter().zip(&t).map(|(sg, t)| a * sg - target * t).collect();
                Expanded {
                    rows: vec![row(name.clone(), coef, 0.0)],
                    pairs: Vec::new(),
                    members,
                }
            }
            Rule::GroupMinShare { group, min_share } => {
                finite("min_share", *min_share)?;
                let members = data.group(name, group)?;
                let sg = s_group(&members);
                let coef = sg.iter().zip(&t).map(|(sg, t)| sg - min_share * t).collect();
                Expanded {
                    rows: vec![row(name.clone(), coef, 0.0)],
                    pairs: Vec::new(),
                    members,
                }
            }
            Rule::NeedMonotone { dominance, max_pairs } => {
                let p = data.population().ok_or(LpError::MissingData {
                    check: name.clone(),
                    data: "population",
                })?;
                let pairs = need_pairs(data, *dominance, *max_pairs).map_err(|e| match e {
                    LpError::TooManyPairs { pairs, cap, .. } => LpError::TooManyPairs {
                        check: name.clone(),
                        pairs,
                        cap,
                    },
                    LpError::MissingData { data, .. } => LpError::MissingData { check: name.clone(), data },
                    other => other,
                })?;
                let ids = pool.unit_ids();
                let rows = pairs
                    .iter()
                    .map(|&(i, j)| {
                        let f = |u: usize, k: usize| {
                            c.get(u).copied().unwrap_or(0.0) * s.get(u).and_then(|r| r.get(k)).copied().unwrap_or(0.0)
                                / p.get(u).copied().unwrap_or(1.0)
                        };
                        let coef = (0..kf).map(|k| f(i, k) - f(j, k)).collect();
                        let id = |u: usize| ids.get(u).map_or("?", |s| s.as_str());
                        row(format!("{name}: {} >= {}", id(i), id(j)), coef, 0.0)
                    })
                    .collect();
                Expanded {
                    rows,
                    pairs,
                    members: Vec::new(),
                }
            }
        };
        out.push(e);
    }
    Ok(out)
}

/// The linear rows `Σ_k coef_k w_k ≥ rhs` that the checks expand to (module doc derivation),
/// unscaled, in check order. Exposed so that callers can feed the same LP to another solver.
pub fn linear_rows(data: &CheckData, checks: &[NamedCheck]) -> Result<Vec<LinearRow>, LpError> {
    Ok(expand(data, checks)?.into_iter().flat_map(|e| e.rows).collect())
}

/// Natural slack at weights `w`, computed from the amounts directly, plus the binding pair.
fn natural_slack(data: &CheckData, ch: &NamedCheck, e: &Expanded, w: &[f64]) -> (Option<f64>, Option<String>) {
    let pool = &data.pool;
    let a = pool.pool();
    let Some(y) = pool.amounts(w) else {
        return (None, None);
    };
    let sum_over = |v: &[f64]| -> f64 { e.members.iter().map(|&i| v.get(i).copied().unwrap_or(0.0)).sum() };
    let y_g = sum_over(&y);
    match &ch.rule {
        Rule::WeightBounds { factor, lo, hi } => {
            let k = pool.factor_names().iter().position(|f| f == factor);
            let wk = k.and_then(|k| w.get(k)).copied().unwrap_or(0.0);
            (Some((wk - lo).min(hi - wk)), None)
        }
        Rule::GroupPerCapita { min_ratio, .. } => {
            let Some(p) = data.population() else {
                return (None, None);
            };
            let ratio = (y_g / sum_over(p)) / (a / p.iter().sum::<f64>());
            (Some(ratio - min_ratio), None)
        }
        Rule::GroupGrowth { ratio, margin, .. } => {
            let Some(l) = data.last_year() else {
                return (None, None);
            };
            let g_group = y_g / sum_over(l) - 1.0;
            let g_all = a / l.iter().sum::<f64>() - 1.0;
            (Some(g_group - (ratio * g_all + margin)), None)
        }
        Rule::GroupMinShare { min_share, .. } => (Some(y_g / a - min_share), None),
        Rule::NeedMonotone { .. } => {
            let Some(p) = data.population() else {
                return (None, None);
            };
            let pc = |i: usize| y.get(i).copied().unwrap_or(0.0) / p.get(i).copied().unwrap_or(1.0);
            let worst = e
                .pairs
                .iter()
                .zip(&e.rows)
                .map(|(&(i, j), r)| (pc(i) - pc(j), r))
                .min_by(|x, y| x.0.total_cmp(&y.0));
            match worst {
                Some((s, r)) => {
                    let label = r.label.split_once(": ").map_or(r.label.clone(), |(_, p)| p.to_string());
                    (Some(s), Some(label))
                }
                None => (None, None),
            }
        }
    }
}

/// A unit of the conflict search: a check, or one need-monotonicity pair row, with its rows
/// scaled to unit ∞-norm (all-zero rows dropped).
struct Atom {
    label: String,
    rows: Vec<(Vec<f64>, f64)>,
}

fn check_atoms(expanded: &[Expanded], checks: &[NamedCheck]) -> Vec<Atom> {
    expanded
        .iter()
        .zip(checks)
        .map(|(e, c)| Atom {
            label: c.name.clone(),
            rows: e.rows.iter().filter_map(|r| r.scaled()).collect(),
        })
        .collect()
}

/// Scaled rows of the atoms selected by `mask`.
fn scaled_rows(atoms: &[Atom], mask: &[bool]) -> Vec<(Vec<f64>, f64)> {
    atoms
        .iter()
        .zip(mask)
        .filter(|(_, &m)| m)
        .flat_map(|(a, _)| a.rows.iter().cloned())
        .collect()
}

/// Adds `w_0..w_{K-1}` in `[0, 1]` with `Σ w = 1` to `lp`; returns their indices.
fn simplex(lp: &mut Lp, k: usize) -> Vec<usize> {
    let w: Vec<usize> = (0..k).map(|_| lp.var(0.0, 1.0)).collect();
    lp.row(w.iter().map(|&j| (j, 1.0)).collect(), Cmp::Eq, 1.0);
    w
}

/// Phase 1: the smallest uniform relaxation `t ≥ 0` of the scaled rows that admits weights;
/// returns `t*` and the weights `w*` reaching it.
fn min_violation(rows: &[(Vec<f64>, f64)], k: usize, backend: Backend) -> Result<(f64, Vec<f64>), LpError> {
    let uniform = vec![1.0 / k as f64; k];
    lazily(rows, &uniform, |sub| min_violation_direct(sub, k, backend))
}

/// Rows up to which an LP is solved with all its rows at once.
const LAZY_ABOVE: usize = 300;
/// Rows added per round of row generation.
const LAZY_BATCH: usize = 100;

/// Row generation for the check LPs (few variables, possibly tens of thousands of
/// need-monotonicity rows, most of them redundant): solve with a subset of the rows — first
/// the [`LAZY_BATCH`] tightest at `w0` — add the rows the solution violates (most violated
/// first) and repeat. A solution of a relaxation that satisfies every row (within 1e-10) is
/// optimal for the full LP. `solve` returns `(t, w)`; a row `(r, b)` is satisfied when
/// `r·w + t ≥ b` (`t = 0` for LPs without the phase-1 variable).
fn lazily<F>(rows: &[(Vec<f64>, f64)], w0: &[f64], mut solve: F) -> Result<(f64, Vec<f64>), LpError>
where
    F: FnMut(&[(Vec<f64>, f64)]) -> Result<(f64, Vec<f64>), LpError>,
{
    if rows.len() <= LAZY_ABOVE {
        return solve(rows);
    }
    let value = |r: &(Vec<f64>, f64), w: &[f64], t: f64| -> f64 { r.0.iter().zip(w).map(|(c, w)| c * w).sum::<f64>() + t - r.1 };
    let mut active = vec![false; rows.len()];
    let add = |w: &[f64], t: f64, active: &mut Vec<bool>, seed: bool| -> usize {
        let mut cand: Vec<(f64, usize)> = rows
            .iter()
            .zip(active.iter())
            .enumerate()
            .filter(|(_, (_, &a))| !a)
            .map(|(i, (r, _))| (value(r, w, t), i))
            .filter(|&(v, _)| seed || v < -1e-10)
            .collect();
        cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let n = cand.len().min(LAZY_BATCH);
        for &(_, i) in cand.iter().take(n) {
            if let Some(a) = active.get_mut(i) {
                *a = true;
            }
        }
        n
    };
    add(w0, 0.0, &mut active, true);
    for _ in 0..rows.len().div_ceil(LAZY_BATCH) {
        let subset: Vec<(Vec<f64>, f64)> = rows.iter().zip(&active).filter(|(_, &a)| a).map(|(r, _)| r.clone()).collect();
        let (t, w) = solve(&subset)?;
        if add(&w, t, &mut active, false) == 0 {
            return Ok((t, w));
        }
    }
    solve(rows)
}

fn min_violation_direct(rows: &[(Vec<f64>, f64)], k: usize, backend: Backend) -> Result<(f64, Vec<f64>), LpError> {
    let mut lp = Lp::new(Sense::Minimise);
    let w = simplex(&mut lp, k);
    let t = lp.var(0.0, f64::INFINITY);
    for (coef, rhs) in rows {
        let mut terms: Vec<(usize, f64)> = w.iter().copied().zip(coef.iter().copied()).collect();
        terms.push((t, 1.0));
        lp.row(terms, Cmp::Ge, *rhs);
    }
    lp.objective(t, 1.0);
    let sol = lp::solve(&lp, backend).map_err(|f| LpError::solver("testing feasibility", f))?;
    Ok((sol.value(t).max(0.0), w.iter().map(|&j| sol.value(j)).collect()))
}

/// `None` when the atoms selected by `mask` admit weights, else the phase-1 `(t*, w*)`.
fn violation(atoms: &[Atom], mask: &[bool], k: usize, opts: &CheckOptions) -> Result<Option<(f64, Vec<f64>)>, LpError> {
    let rows = scaled_rows(atoms, mask);
    if rows.is_empty() {
        return Ok(None);
    }
    let (t, w) = min_violation(&rows, k, opts.backend)?;
    Ok((t > opts.feas_tol).then_some((t, w)))
}

fn is_feasible(atoms: &[Atom], mask: &[bool], k: usize, opts: &CheckOptions) -> Result<bool, LpError> {
    Ok(violation(atoms, mask, k, opts)?.is_none())
}

/// Most atoms the deletion loop will try one by one (after the binding pre-filter).
const MAX_DELETION_ATOMS: usize = 400;

/// Deletion filter over the atoms of an infeasible set; `None` when the set is feasible or
/// more than `max_atoms` atoms survive the pre-filter.
///
/// Before the filter, atoms none of whose rows is binding at the phase-1 optimum
/// `(t*, w*)` are dropped: removing constraints that are inactive at an optimum of a convex
/// program keeps that point optimal, so the rest is still infeasible with the same `t*`.
/// (The reduced set is verified; if numerical noise made it feasible, the full set is used.)
/// Then each remaining atom is dropped in turn and kept out if the rest stays infeasible.
fn deletion_filter(atoms: &[Atom], k: usize, opts: &CheckOptions, max_atoms: usize) -> Result<Option<Vec<usize>>, LpError> {
    let all = vec![true; atoms.len()];
    let Some((t, w)) = violation(atoms, &all, k, opts)? else {
        return Ok(None);
    };
    let mut mask = all;
    let tol = 1e-6 + 1e-3 * t;
    let binding: Vec<bool> = atoms
        .iter()
        .map(|a| {
            a.rows.iter().any(|(coef, rhs)| {
                let v: f64 = coef.iter().zip(&w).map(|(c, w)| c * w).sum();
                v - rhs + t <= tol
            })
        })
        .collect();
    if binding.iter().any(|&b| b) && !is_feasible(atoms, &binding, k, opts)? {
        mask = binding;
    }
    if mask.iter().filter(|&&m| m).count() > max_atoms {
        return Ok(None);
    }
    for i in 0..atoms.len() {
        if !mask.get(i).copied().unwrap_or(false) {
            continue;
        }
        if let Some(m) = mask.get_mut(i) {
            *m = false;
        }
        if is_feasible(atoms, &mask, k, opts)? {
            // needed for the conflict: put it back
            if let Some(m) = mask.get_mut(i) {
                *m = true;
            }
        }
    }
    Ok(Some(mask.iter().enumerate().filter(|(_, &m)| m).map(|(i, _)| i).collect()))
}

/// Names of a minimal conflicting set: first over whole checks, then — when the set holds
/// a need-monotonicity check — over its individual pair rows, so that the answer names the
/// pairs (`"need: 620102 >= 620103"`) rather than the whole check. The refinement is skipped
/// (the check name is kept) when too many pair rows are binding.
fn explain(expanded: &[Expanded], checks: &[NamedCheck], k: usize, opts: &CheckOptions) -> Result<Option<Vec<String>>, LpError> {
    let atoms = check_atoms(expanded, checks);
    let Some(idx) = deletion_filter(&atoms, k, opts, usize::MAX)? else {
        return Ok(None);
    };
    let names = || -> Vec<String> { idx.iter().filter_map(|&i| atoms.get(i).map(|a| a.label.clone())).collect() };
    let splittable = |i: usize| {
        checks.get(i).is_some_and(|c| matches!(c.rule, Rule::NeedMonotone { .. })) && expanded.get(i).is_some_and(|e| e.rows.len() > 1)
    };
    if !idx.iter().any(|&i| splittable(i)) {
        return Ok(Some(names()));
    }
    let mut fine = Vec::new();
    for &i in &idx {
        let (Some(e), Some(a)) = (expanded.get(i), atoms.get(i)) else {
            continue;
        };
        if splittable(i) {
            for r in &e.rows {
                if let Some(row) = r.scaled() {
                    fine.push(Atom {
                        label: r.label.clone(),
                        rows: vec![row],
                    });
                }
            }
        } else {
            fine.push(Atom {
                label: a.label.clone(),
                rows: a.rows.clone(),
            });
        }
    }
    Ok(Some(match deletion_filter(&fine, k, opts, MAX_DELETION_ATOMS)? {
        Some(fidx) => fidx.iter().filter_map(|&i| fine.get(i).map(|a| a.label.clone())).collect(),
        None => names(),
    }))
}

/// When the checks admit no weights: the names of a minimal conflicting subset (deletion
/// filter, module doc; need-monotonicity checks refined to pair rows); `None` when admissible
/// weights exist.
pub fn minimal_conflict(data: &CheckData, checks: &[NamedCheck], opts: &CheckOptions) -> Result<Option<Vec<String>>, LpError> {
    let expanded = expand(data, checks)?;
    explain(&expanded, checks, data.pool.n_factors(), opts)
}

/// Optimises `objective·w` (or the nearest-weights LP when `nearest` is given) over the
/// simplex and the scaled rows relaxed by `relax`.
fn admissible_lp(
    rows: &[(Vec<f64>, f64)],
    k: usize,
    relax: f64,
    goal: Goal<'_>,
    w0: &[f64],
    backend: Backend,
) -> Result<Vec<f64>, LpError> {
    let relaxed: Vec<(Vec<f64>, f64)> = rows.iter().map(|(c, b)| (c.clone(), b - relax)).collect();
    let (_, w) = lazily(&relaxed, w0, |sub| Ok((0.0, admissible_lp_direct(sub, k, goal, backend)?)))?;
    Ok(w)
}

fn admissible_lp_direct(rows: &[(Vec<f64>, f64)], k: usize, goal: Goal<'_>, backend: Backend) -> Result<Vec<f64>, LpError> {
    let sense = match goal {
        Goal::Max(_) => Sense::Maximise,
        _ => Sense::Minimise,
    };
    let mut lp = Lp::new(sense);
    let w = simplex(&mut lp, k);
    for (coef, rhs) in rows {
        let terms = w.iter().copied().zip(coef.iter().copied()).collect();
        lp.row(terms, Cmp::Ge, *rhs);
    }
    let task = match goal {
        Goal::Min(j) | Goal::Max(j) => {
            if let Some(&wj) = w.get(j) {
                lp.objective(wj, 1.0);
            }
            format!("finding the range of weight {j}")
        }
        Goal::Nearest(stated) => {
            for (&wj, &sj) in w.iter().zip(stated) {
                let d = lp.var(0.0, f64::INFINITY);
                lp.row(vec![(d, 1.0), (wj, -1.0)], Cmp::Ge, -sj);
                lp.row(vec![(d, 1.0), (wj, 1.0)], Cmp::Ge, sj);
                lp.objective(d, 1.0);
            }
            "finding the nearest admissible weights".to_string()
        }
    };
    let sol = lp::solve(&lp, backend).map_err(|f| LpError::solver(task, f))?;
    Ok(w.iter().map(|&j| sol.value(j)).collect())
}

#[derive(Clone, Copy)]
enum Goal<'a> {
    Min(usize),
    Max(usize),
    Nearest(&'a [f64]),
}

/// Runs `check-weights` (SPEC §6) for the stated weights `stated` (one per factor, on the
/// simplex within 1e-9): per-check outcome at the stated weights, admissibility, per-factor
/// ranges, nearest admissible weights, and — when infeasible — a minimal conflicting set.
///
/// Numbers from clarabel are clamped: weights within 1e-9 of 0 or 1 are snapped, the nearest
/// weights are renormalised to sum to 1.
pub fn check_weights(data: &CheckData, checks: &[NamedCheck], stated: &[f64], opts: &CheckOptions) -> Result<WeightCheck, LpError> {
    let k = data.pool.n_factors();
    check_weights_vector("stated", stated, k)?;
    if !(opts.feas_tol.is_finite() && opts.feas_tol > 0.0) {
        return Err(LpError::input("feas_tol", "must be positive"));
    }
    let expanded = expand(data, checks)?;

    let outcomes: Vec<CheckOutcome> = checks
        .iter()
        .zip(&expanded)
        .map(|(ch, e)| {
            let satisfied = e.rows.iter().filter_map(|r| r.scaled_value(stated)).all(|v| v >= -opts.feas_tol);
            let (slack, binding) = natural_slack(data, ch, e, stated);
            CheckOutcome {
                name: ch.name.clone(),
                kind: ch.rule.kind(),
                satisfied,
                slack,
                rows: e.rows.len(),
                binding,
            }
        })
        .collect();
    let stated_admissible = outcomes.iter().all(|o| o.satisfied);

    let atoms = check_atoms(&expanded, checks);
    let rows = scaled_rows(&atoms, &vec![true; atoms.len()]);
    let admissible = rows.is_empty() || min_violation(&rows, k, opts.backend)?.0 <= opts.feas_tol;
    if !admissible {
        let conflict = if opts.explain { explain(&expanded, checks, k, opts)? } else { None };
        return Ok(WeightCheck {
            outcomes,
            stated_admissible,
            admissible,
            ranges: None,
            nearest: None,
            conflict,
        });
    }

    let relax = 2.0 * opts.feas_tol;
    // Stated weights that satisfy every check are their own nearest admissible weights.
    let stated_goal = if stated_admissible { None } else { Some(Goal::Nearest(stated)) };
    let goals: Vec<Goal<'_>> = (0..k).flat_map(|j| [Goal::Min(j), Goal::Max(j)]).chain(stated_goal).collect();
    let results: Vec<Result<Vec<f64>, LpError>> = goals
        .par_iter()
        .map(|g| admissible_lp(&rows, k, relax, *g, stated, opts.backend))
        .collect();
    let mut results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let nearest_w = if stated_admissible {
        stated.to_vec()
    } else {
        let raw = results.pop().unwrap_or_default();
        lp::clamp_normalise(&raw, 1e-9).ok_or_else(|| LpError::Degenerate("nearest weights are all zero".to_string()))?
    };
    let distance = nearest_w.iter().zip(stated).map(|(a, b)| (a - b).abs()).sum::<f64>();
    let ranges = (0..k)
        .map(|j| {
            let get = |r: usize| results.get(r).and_then(|w| w.get(j)).map_or(0.0, |&x| lp::snap01(x, 1e-9));
            FactorRange {
                factor: data.pool.factor_names().get(j).cloned().unwrap_or_default(),
                stated: stated.get(j).copied().unwrap_or(0.0),
                min: get(2 * j),
                max: get(2 * j + 1),
                nearest: nearest_w.get(j).copied().unwrap_or(0.0),
            }
        })
        .collect();
    Ok(WeightCheck {
        outcomes,
        stated_admissible,
        admissible,
        ranges: Some(ranges),
        nearest: Some(NearestWeights {
            weights: nearest_w,
            distance,
        }),
        conflict: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::lpcheck::testutil::{random_shares, random_simplex, Rng};

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("u{i}")).collect()
    }

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("f{i}")).collect()
    }

    fn transpose(cols: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let n = cols[0].len();
        (0..n).map(|i| cols.iter().map(|c| c[i]).collect()).collect()
    }

    /// Two factors, three units (A, B, C):
    /// s_1 = (0.5, 0.3, 0.2), s_2 = (0.2, 0.3, 0.5), pool 1000, population (50, 30, 20),
    /// last year (300, 300, 200). With w = (w1, 1 − w1):
    /// b = (0.2 + 0.3 w1, 0.3, 0.5 − 0.3 w1).
    fn hand_data() -> CheckData {
        let pool = PoolShares::new(
            vec!["A".into(), "B".into(), "C".into()],
            vec!["poor".into(), "income".into()],
            transpose(&[vec![0.5, 0.3, 0.2], vec![0.2, 0.3, 0.5]]),
            None,
            1000.0,
        )
        .unwrap();
        CheckData::new(
            pool,
            Some(vec![50.0, 30.0, 20.0]),
            Some(vec![300.0, 300.0, 200.0]),
            vec![
                Group {
                    name: "deep".into(),
                    members: vec![false, false, true],
                },
                Group {
                    name: "a".into(),
                    members: vec![true, false, false],
                },
            ],
        )
        .unwrap()
    }

    /// C per capita / average = 50 b_C / 10 = 2.5 − 1.5 w1 ≥ 1.9  ⇔  w1 ≤ 0.4.
    fn per_capita() -> NamedCheck {
        NamedCheck {
            name: "deep-poverty premium >= 1.9".into(),
            rule: Rule::GroupPerCapita {
                group: "deep".into(),
                min_ratio: 1.9,
            },
        }
    }

    /// b_A ≥ 0.26  ⇔  w1 ≥ 0.2.
    fn min_share(mu: f64) -> NamedCheck {
        NamedCheck {
            name: format!("A share >= {mu}"),
            rule: Rule::GroupMinShare {
                group: "a".into(),
                min_share: mu,
            },
        }
    }

    fn bounds(name: &str, factor: &str, lo: f64, hi: f64) -> NamedCheck {
        NamedCheck {
            name: name.into(),
            rule: Rule::WeightBounds {
                factor: factor.into(),
                lo,
                hi,
            },
        }
    }

    /// C growth = 5 b_C − 1 = 1.5 − 1.5 w1 ≥ average 1000/800 − 1 = 0.25  ⇔  w1 ≤ 5/6.
    fn growth() -> NamedCheck {
        NamedCheck {
            name: "deep growth >= average".into(),
            rule: Rule::GroupGrowth {
                group: "deep".into(),
                ratio: 1.0,
                margin: 0.0,
            },
        }
    }

    #[test]
    fn hand_solvable_two_factors_three_units() {
        let data = hand_data();
        let checks = vec![
            bounds("poor in [0.1, 0.9]", "poor", 0.1, 0.9),
            per_capita(),
            min_share(0.26),
            growth(),
        ];
        for backend in [Backend::Clarabel, Backend::Microlp] {
            let opts = CheckOptions {
                backend,
                ..CheckOptions::default()
            };
            let r = check_weights(&data, &checks, &[0.5, 0.5], &opts).unwrap();
            let o = &r.outcomes;
            assert!(o[0].satisfied && (o[0].slack.unwrap() - 0.4).abs() < 1e-12);
            // ratio 2.5 − 0.75 = 1.75 → slack −0.15
            assert!(!o[1].satisfied);
            assert!((o[1].slack.unwrap() + 0.15).abs() < 1e-12, "{:?}", o[1]);
            // b_A = 0.35 → slack 0.09
            assert!(o[2].satisfied && (o[2].slack.unwrap() - 0.09).abs() < 1e-12);
            // growth 1.5 − 0.75 = 0.75 vs 0.25 → slack 0.5
            assert!(o[3].satisfied && (o[3].slack.unwrap() - 0.5).abs() < 1e-12);
            assert!(!r.stated_admissible);
            assert!(r.admissible);
            assert!(r.conflict.is_none());
            let ranges = r.ranges.unwrap();
            assert!((ranges[0].min - 0.2).abs() < 1e-7, "{ranges:?}");
            assert!((ranges[0].max - 0.4).abs() < 1e-7, "{ranges:?}");
            assert!((ranges[1].min - 0.6).abs() < 1e-7, "{ranges:?}");
            assert!((ranges[1].max - 0.8).abs() < 1e-7, "{ranges:?}");
            let nearest = r.nearest.unwrap();
            assert!((nearest.weights[0] - 0.4).abs() < 1e-7, "{nearest:?}");
            assert!((nearest.distance - 0.2).abs() < 1e-7, "{nearest:?}");
            assert!((ranges[0].nearest - 0.4).abs() < 1e-7);
        }
    }

    #[test]
    fn admissible_stated_weights_are_their_own_nearest() {
        let data = hand_data();
        let checks = vec![per_capita(), min_share(0.26)];
        let r = check_weights(&data, &checks, &[0.3, 0.7], &CheckOptions::default()).unwrap();
        assert!(r.stated_admissible && r.admissible);
        let n = r.nearest.unwrap();
        assert_eq!(n.weights, vec![0.3, 0.7]);
        assert_eq!(n.distance, 0.0);
    }

    #[test]
    fn infeasible_set_is_the_known_minimal_one() {
        let data = hand_data();
        // per capita: w1 ≤ 0.4; "poor ≥ 0.5": w1 ≥ 0.5 — the conflict.
        // min share 0.26 (w1 ≥ 0.2), growth (w1 ≤ 5/6) and w2 ≤ 0.9 are innocent.
        let checks = vec![
            min_share(0.26),
            per_capita(),
            growth(),
            bounds("poor >= 0.5", "poor", 0.5, 1.0),
            bounds("income <= 0.9", "income", 0.0, 0.9),
        ];
        for backend in [Backend::Clarabel, Backend::Microlp] {
            let opts = CheckOptions {
                backend,
                ..CheckOptions::default()
            };
            let r = check_weights(&data, &checks, &[0.5, 0.5], &opts).unwrap();
            assert!(!r.admissible);
            assert!(r.ranges.is_none() && r.nearest.is_none());
            let conflict = r.conflict.unwrap();
            assert_eq!(conflict, vec!["deep-poverty premium >= 1.9".to_string(), "poor >= 0.5".into()]);
            assert_minimal(&data, &checks, &conflict, &opts);
        }
    }

    fn assert_minimal(data: &CheckData, checks: &[NamedCheck], conflict: &[String], opts: &CheckOptions) {
        let subset: Vec<NamedCheck> = checks.iter().filter(|c| conflict.contains(&c.name)).cloned().collect();
        assert!(
            minimal_conflict(data, &subset, opts).unwrap().is_some(),
            "the set itself must be infeasible"
        );
        for drop in conflict {
            let rest: Vec<NamedCheck> = subset.iter().filter(|c| &c.name != drop).cloned().collect();
            assert!(
                minimal_conflict(data, &rest, opts).unwrap().is_none(),
                "dropping {drop} must make the rest feasible"
            );
        }
    }

    #[test]
    fn overlapping_conflicts_give_a_minimal_set() {
        let data = hand_data();
        // w1 ≤ 0.4 (per capita) against both w1 ≥ 0.5 and w1 ≥ 0.45 (b_A ≥ 0.335).
        let checks = vec![per_capita(), bounds("poor >= 0.5", "poor", 0.5, 1.0), min_share(0.335)];
        let opts = CheckOptions::default();
        let conflict = minimal_conflict(&data, &checks, &opts).unwrap().unwrap();
        assert_eq!(conflict.len(), 2);
        assert!(conflict.contains(&"deep-poverty premium >= 1.9".to_string()));
        assert_minimal(&data, &checks, &conflict, &opts);
    }

    #[test]
    fn a_lone_impossible_rule_is_its_own_conflict() {
        let data = hand_data();
        // A's share b_A = 0.2 + 0.3 w1 is at most 0.5
        let checks = vec![min_share(0.26), min_share(0.9)];
        let conflict = minimal_conflict(&data, &checks, &CheckOptions::default()).unwrap().unwrap();
        assert_eq!(conflict, vec!["A share >= 0.9".to_string()]);
    }

    /// Three units with U1 ⪰ U2 ⪰ U3 on both factors, population (10, 8, 5):
    /// b = (0.4 + 0.1 w1, 0.4 − 0.1 w1, 0.2);
    /// U1 ≥ U2 per head ⇔ w1 ≥ 4/9, U2 ≥ U3 ⇔ w1 ≤ 0.8.
    #[test]
    fn need_monotonicity_hand_case() {
        let pool = PoolShares::new(
            ids(3),
            names(2),
            transpose(&[vec![0.5, 0.3, 0.2], vec![0.4, 0.4, 0.2]]),
            None,
            100.0,
        )
        .unwrap();
        let data = CheckData::new(pool, Some(vec![10.0, 8.0, 5.0]), None, vec![]).unwrap();
        let pairs = need_pairs(&data, Dominance::Share, 100).unwrap();
        assert_eq!(pairs, vec![(0, 1), (1, 2)], "transitive reduction");
        let checks = vec![NamedCheck {
            name: "need".into(),
            rule: Rule::NeedMonotone {
                dominance: Dominance::Share,
                max_pairs: 100,
            },
        }];
        let r = check_weights(&data, &checks, &[0.2, 0.8], &CheckOptions::default()).unwrap();
        let o = &r.outcomes[0];
        assert!(!o.satisfied);
        assert_eq!(o.rows, 2);
        assert_eq!(o.binding.as_deref(), Some("u0 >= u1"));
        // y = 100 b: per head u0 = 42/10 = 4.2, u1 = 38/8 = 4.75 → slack −0.55
        assert!((o.slack.unwrap() + 0.55).abs() < 1e-12, "{o:?}");
        let ranges = r.ranges.unwrap();
        assert!((ranges[0].min - 4.0 / 9.0).abs() < 1e-7, "{ranges:?}");
        assert!((ranges[0].max - 0.8).abs() < 1e-7, "{ranges:?}");
        assert!((r.nearest.unwrap().weights[0] - 4.0 / 9.0).abs() < 1e-7);

        let err = need_pairs(&data, Dominance::Share, 1).unwrap_err();
        assert!(matches!(err, LpError::TooManyPairs { pairs: 2, cap: 1, .. }));
        let too_many = vec![NamedCheck {
            name: "need".into(),
            rule: Rule::NeedMonotone {
                dominance: Dominance::Share,
                max_pairs: 1,
            },
        }];
        let err = check_weights(&data, &too_many, &[0.5, 0.5], &CheckOptions::default());
        assert!(matches!(err, Err(LpError::TooManyPairs { ref check, .. }) if check == "need"));
    }

    /// U0 ⪰ U1 ⪰ U2 on both factors, but U0 has 100 times the population: U0 can never get
    /// as much per head as U1, whatever the weights. The conflict names that pair.
    #[test]
    fn an_impossible_pair_is_named() {
        let pool = PoolShares::new(
            ids(3),
            names(2),
            transpose(&[vec![0.5, 0.3, 0.2], vec![0.4, 0.35, 0.25]]),
            None,
            100.0,
        )
        .unwrap();
        let data = CheckData::new(pool, Some(vec![100.0, 1.0, 1.0]), None, vec![]).unwrap();
        let checks = vec![
            bounds("f0 <= 0.9", "f0", 0.0, 0.9),
            NamedCheck {
                name: "need".into(),
                rule: Rule::NeedMonotone {
                    dominance: Dominance::Share,
                    max_pairs: 100,
                },
            },
        ];
        for backend in [Backend::Clarabel, Backend::Microlp] {
            let opts = CheckOptions {
                backend,
                ..CheckOptions::default()
            };
            let r = check_weights(&data, &checks, &[0.5, 0.5], &opts).unwrap();
            assert!(!r.admissible);
            assert_eq!(r.conflict, Some(vec!["need: u0 >= u1".to_string()]));
        }
    }

    #[test]
    fn identical_units_are_chained() {
        let pool = PoolShares::new(ids(4), names(1), vec![vec![0.3], vec![0.3], vec![0.3], vec![0.1]], None, 1.0).unwrap();
        let data = CheckData::new(pool, Some(vec![1.0; 4]), None, vec![]).unwrap();
        let pairs = need_pairs(&data, Dominance::Share, 100).unwrap();
        // cycle 0→1→2→0 plus one covering edge from the class to unit 3
        assert_eq!(pairs.len(), 4, "{pairs:?}");
        assert!(pairs.contains(&(0, 1)) && pairs.contains(&(1, 2)) && pairs.contains(&(2, 0)));
        assert!(pairs.contains(&(0, 3)));
    }

    /// The reduced pairs generate exactly the dominance order (transitive closure equals the
    /// brute-force relation) on random data with ties and chains.
    #[test]
    fn reduction_preserves_the_dominance_order() {
        let mut rng = Rng::new(7);
        for trial in 0..20 {
            let n = 30;
            let k = 1 + trial % 3;
            // coarse integer values make dominance and ties frequent
            let cols: Vec<Vec<f64>> = (0..k)
                .map(|_| {
                    let raw: Vec<f64> = (0..n).map(|_| (1 + rng.below(4)) as f64).collect();
                    let s: f64 = raw.iter().sum();
                    raw.iter().map(|x| x / s).collect()
                })
                .collect();
            let pool = PoolShares::new(ids(n), names(k), transpose(&cols), None, 1.0).unwrap();
            let data = CheckData::new(pool, Some(vec![1.0; n]), None, vec![]).unwrap();
            let pairs = need_pairs(&data, Dominance::Share, 100_000).unwrap();
            let mut reach = vec![vec![false; n]; n];
            for &(i, j) in &pairs {
                reach[i][j] = true;
            }
            // Warshall's transitive closure
            for m in 0..n {
                let via = reach[m].clone();
                for row in reach.iter_mut() {
                    if row[m] {
                        for (r, &v) in row.iter_mut().zip(&via) {
                            *r |= v;
                        }
                    }
                }
            }
            let s = data.pool().shares();
            for i in 0..n {
                for j in 0..n {
                    if i != j {
                        let dom = dominates(&s[i], &s[j]);
                        assert_eq!(reach[i][j], dom, "trial {trial}: {i} vs {j}");
                    }
                }
            }
            // no pair is implied by two others (it is a reduction) except within tie cycles
            let full: usize = (0..n).map(|i| (0..n).filter(|&j| j != i && dominates(&s[i], &s[j])).count()).sum();
            assert!(pairs.len() <= full);
        }
    }

    /// Linearity: for random data and random weights every linear row equals the rule's
    /// natural slack (computed from the amounts directly) times the positive factor of the
    /// module doc: D·P_G/P (per capita), D·L_G (growth), D (share), D/A (need pair).
    #[test]
    fn linear_forms_match_direct_amounts() {
        let mut rng = Rng::new(42);
        for _ in 0..25 {
            let n = 12;
            let k = 3;
            let shares = random_shares(&mut rng, n, k);
            let adjust: Vec<f64> = (0..n).map(|_| 0.5 + rng.unit()).collect();
            let pool_amount = 1000.0 + 1e6 * rng.unit();
            let pool = PoolShares::new(ids(n), names(k), shares, Some(adjust.clone()), pool_amount).unwrap();
            let pop: Vec<f64> = (0..n).map(|_| 10.0 + 100.0 * rng.unit()).collect();
            let last: Vec<f64> = (0..n).map(|_| 1.0 + 1e5 * rng.unit()).collect();
            let members: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
            let data = CheckData::new(
                pool,
                Some(pop.clone()),
                Some(last.clone()),
                vec![Group {
                    name: "g".into(),
                    members: members.clone(),
                }],
            )
            .unwrap();
            let checks = vec![
                NamedCheck {
                    name: "pc".into(),
                    rule: Rule::GroupPerCapita {
                        group: "g".into(),
                        min_ratio: 0.5 + rng.unit(),
                    },
                },
                NamedCheck {
                    name: "growth".into(),
                    rule: Rule::GroupGrowth {
                        group: "g".into(),
                        ratio: 0.5 + rng.unit(),
                        margin: 0.02,
                    },
                },
                NamedCheck {
                    name: "share".into(),
                    rule: Rule::GroupMinShare {
                        group: "g".into(),
                        min_share: 0.3 * rng.unit(),
                    },
                },
                NamedCheck {
                    name: "need".into(),
                    rule: Rule::NeedMonotone {
                        dominance: Dominance::Share,
                        max_pairs: 1000,
                    },
                },
            ];
            let expanded = expand(&data, &checks).unwrap();
            for _ in 0..10 {
                let w = random_simplex(&mut rng, k);
                let y = data.pool().amounts(&w).unwrap();
                let d: f64 = data.pool().base_shares(&w).iter().zip(&adjust).map(|(b, c)| b * c).sum();
                let lin = |r: &LinearRow| -> f64 { r.coef.iter().zip(&w).map(|(c, w)| c * w).sum::<f64>() - r.rhs };
                let p_all: f64 = pop.iter().sum();
                let p_g: f64 = (0..n).filter(|&i| members[i]).map(|i| pop[i]).sum();
                let l_g: f64 = (0..n).filter(|&i| members[i]).map(|i| last[i]).sum();
                for (ch, e) in checks.iter().zip(&expanded) {
                    let factor = match ch.rule {
                        Rule::GroupPerCapita { .. } => d * p_g / p_all,
                        Rule::GroupGrowth { .. } => d * l_g,
                        Rule::GroupMinShare { .. } => d,
                        _ => continue,
                    };
                    let (slack, _) = natural_slack(&data, ch, e, &w);
                    let expect = slack.unwrap() * factor;
                    let got = lin(&e.rows[0]);
                    assert!(
                        (got - expect).abs() <= 1e-9 * (1.0 + expect.abs()),
                        "{}: linear {got} vs direct {expect}",
                        ch.name
                    );
                }
                // need pairs: row = (D/A)(y_i/p_i − y_j/p_j)
                let e = &expanded[3];
                for (&(i, j), r) in e.pairs.iter().zip(&e.rows) {
                    let direct = y[i] / pop[i] - y[j] / pop[j];
                    let expect = direct * d / pool_amount;
                    assert!((lin(r) - expect).abs() <= 1e-12 * (1.0 + expect.abs()));
                }
            }
        }
    }

    /// Clarabel and microlp agree on ranges and the nearest distance (the nearest point
    /// itself need not be unique).
    #[test]
    fn backends_agree_on_random_checks() {
        let mut rng = Rng::new(3);
        let mut compared = 0;
        for _ in 0..30 {
            let n = 15;
            let k = 4;
            let pool = PoolShares::new(
                ids(n),
                names(k),
                random_shares(&mut rng, n, k),
                Some((0..n).map(|_| 0.8 + 0.4 * rng.unit()).collect()),
                1e6,
            )
            .unwrap();
            let pop: Vec<f64> = (0..n).map(|_| 10.0 + 100.0 * rng.unit()).collect();
            let members: Vec<bool> = (0..n).map(|_| rng.unit() < 0.3).collect();
            if !members.iter().any(|&m| m) {
                continue;
            }
            let data = CheckData::new(pool, Some(pop), None, vec![Group { name: "g".into(), members }]).unwrap();
            let checks = vec![
                NamedCheck {
                    name: "pc".into(),
                    rule: Rule::GroupPerCapita {
                        group: "g".into(),
                        min_ratio: 0.8 + 0.6 * rng.unit(),
                    },
                },
                bounds("b0", "f0", 0.05, 0.6),
                bounds("b1", "f1", 0.1 * rng.unit(), 0.5),
            ];
            let stated = random_simplex(&mut rng, k);
            let a = check_weights(&data, &checks, &stated, &CheckOptions::default()).unwrap();
            let b = check_weights(
                &data,
                &checks,
                &stated,
                &CheckOptions {
                    backend: Backend::Microlp,
                    ..CheckOptions::default()
                },
            )
            .unwrap();
            assert_eq!(a.admissible, b.admissible);
            assert_eq!(a.outcomes, b.outcomes);
            if let (Some(ra), Some(rb)) = (&a.ranges, &b.ranges) {
                compared += 1;
                for (x, y) in ra.iter().zip(rb) {
                    assert!((x.min - y.min).abs() < 1e-6, "{x:?} {y:?}");
                    assert!((x.max - y.max).abs() < 1e-6, "{x:?} {y:?}");
                }
                let (na, nb) = (a.nearest.unwrap(), b.nearest.unwrap());
                assert!((na.distance - nb.distance).abs() < 1e-6, "{na:?} {nb:?}");
            } else {
                assert_eq!(a.conflict, b.conflict);
            }
        }
        assert!(compared > 5);
    }

    /// Random rule sets: whenever infeasible, the reported conflict is infeasible and every
    /// proper subset obtained by dropping one member is feasible.
    #[test]
    fn random_conflicts_are_minimal() {
        let mut rng = Rng::new(17);
        let mut infeasible = 0;
        for trial in 0..40 {
            let (n, k) = (10, 3);
            let pool = PoolShares::new(ids(n), names(k), random_shares(&mut rng, n, k), None, 1e6).unwrap();
            let pop: Vec<f64> = (0..n).map(|_| 10.0 + 100.0 * rng.unit()).collect();
            let groups: Vec<Group> = (0..3)
                .map(|g| Group {
                    name: format!("g{g}"),
                    members: (0..n).map(|i| (i + g) % 3 == 0).collect(),
                })
                .collect();
            let data = CheckData::new(pool, Some(pop), None, groups).unwrap();
            let mut checks = Vec::new();
            for g in 0..3 {
                checks.push(NamedCheck {
                    name: format!("pc{g}"),
                    rule: Rule::GroupPerCapita {
                        group: format!("g{g}"),
                        min_ratio: 0.9 + 0.25 * rng.unit(),
                    },
                });
            }
            for f in 0..k {
                let lo = 0.4 * rng.unit();
                checks.push(bounds(&format!("b{f}"), &format!("f{f}"), lo, lo + 0.3));
            }
            let backend = if trial % 2 == 0 { Backend::Clarabel } else { Backend::Microlp };
            let opts = CheckOptions {
                backend,
                ..CheckOptions::default()
            };
            if let Some(conflict) = minimal_conflict(&data, &checks, &opts).unwrap() {
                infeasible += 1;
                assert!(!conflict.is_empty());
                assert_minimal(&data, &checks, &conflict, &opts);
            }
        }
        assert!(infeasible >= 5, "only {infeasible} infeasible cases");
    }

    /// Row generation reaches the same optima as solving with every row at once.
    #[test]
    fn row_generation_matches_the_full_lp() {
        let mut rng = Rng::new(8);
        let k = 5;
        for trial in 0..4 {
            let wf = random_simplex(&mut rng, k);
            let rows: Vec<(Vec<f64>, f64)> = (0..2000)
                .map(|_| {
                    let r: Vec<f64> = (0..k).map(|_| rng.unit() - 0.5).collect();
                    let v: f64 = r.iter().zip(&wf).map(|(a, b)| a * b).sum();
                    // trials 0, 1 feasible around wf; 2, 3 with some impossible rows
                    let shift = if trial < 2 { -0.1 * rng.unit() } else { 0.05 * rng.unit() };
                    (r, v + shift)
                })
                .collect();
            let (t_lazy, _) = min_violation(&rows, k, Backend::Clarabel).unwrap();
            let (t_full, _) = min_violation_direct(&rows, k, Backend::Clarabel).unwrap();
            assert!((t_lazy - t_full).abs() < 1e-8, "{t_lazy} vs {t_full}");
            if trial < 2 {
                assert!(t_full < 1e-8);
                let w0 = vec![1.0 / k as f64; k];
                for goal in [Goal::Min(0), Goal::Max(1), Goal::Nearest(&w0)] {
                    let lazy = admissible_lp(&rows, k, 0.0, goal, &w0, Backend::Clarabel).unwrap();
                    let full = admissible_lp_direct(&rows, k, goal, Backend::Clarabel).unwrap();
                    let obj = |w: &[f64]| match goal {
                        Goal::Min(j) | Goal::Max(j) => w[j],
                        Goal::Nearest(s) => w.iter().zip(s).map(|(a, b)| (a - b).abs()).sum(),
                    };
                    assert!((obj(&lazy) - obj(&full)).abs() < 1e-7, "{lazy:?} {full:?}");
                }
            } else {
                assert!(t_full > 1e-6);
            }
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let data = hand_data();
        let opts = CheckOptions::default();
        let e = check_weights(&data, &[per_capita()], &[0.5, 0.6], &opts).unwrap_err();
        assert!(matches!(e, LpError::Input { .. }));
        let e = check_weights(&data, &[bounds("x", "nope", 0.0, 1.0)], &[0.5, 0.5], &opts);
        assert!(matches!(e, Err(LpError::UnknownFactor { .. })));
        let e = check_weights(&data, &[bounds("x", "poor", 0.6, 0.5)], &[0.5, 0.5], &opts);
        assert!(matches!(e, Err(LpError::Input { .. })));
        let mut c = per_capita();
        c.rule = Rule::GroupPerCapita {
            group: "nope".into(),
            min_ratio: 1.0,
        };
        let e = check_weights(&data, &[c], &[0.5, 0.5], &opts);
        assert!(matches!(e, Err(LpError::UnknownGroup { .. })));
        let no_pop = CheckData::new(data.pool().clone(), None, None, vec![]).unwrap();
        let mut c = per_capita();
        c.rule = Rule::NeedMonotone {
            dominance: Dominance::Share,
            max_pairs: 10,
        };
        let e = check_weights(&no_pop, &[c], &[0.5, 0.5], &opts);
        assert!(matches!(e, Err(LpError::MissingData { .. })));
        let nan = PoolShares::new(ids(1), names(1), vec![vec![f64::NAN]], None, 1.0);
        assert!(nan.is_err());
        let bad_sum = PoolShares::new(ids(2), names(1), vec![vec![0.5], vec![0.4]], None, 1.0);
        assert!(bad_sum.is_err());
    }
}
