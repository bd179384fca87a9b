//! The factor method (因素法), exactly as SPEC §3 states it.
//!
//! For an allocating unit `P` with amount `A_P`:
//! 1. `D_P = ⌊A_P (1 − reserve)⌋` to a multiple of `rounding`; the reserve is `A_P − D_P`.
//!    Pool amounts `D_P σ_q` are rounded together by largest remainder (ties by pool order).
//! 2. Recipients `R`: the descendants of `P` at the stage's level with a non-zero eligibility flag.
//! 3. Factor shares `s_ik` by transform (`share`, `inverse`, `gap`, see [`Transform`]).
//! 4. Base share `b_i = Σ_k w_k s_ik`.
//! 5. Adjusted share `a_i = b_i c_i / Σ_R b_j c_j`; amounts `y_i = min(cap_i, max(floor_i, λ a_i))`
//!    with `Σ y_i` = the pool ([`clamp::clamp_to_pool`]).
//! 6. Amounts rounded to multiples of `rounding` by largest remainder, ties by unit id
//!    ([`crate::money::largest_remainder`]); each pool sums exactly to its amount.
//!
//! Every stage conserves money: what the allocating units received equals what their
//! recipients got plus the reserves plus what units with no recipients retained.

pub mod clamp;

use crate::error::{Diagnostic, InputErrors, Location};
use crate::money::{self, add, div, mul, sub, ArithError};
use crate::scenario::{Bound, Pool, Scenario, Stage, Transform};
use rust_decimal::Decimal;

/// What a row of the allocation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    /// A recipient's amount from one pool (the pool id).
    Pool(String),
    /// A recipient's total for the stage.
    Total,
    /// What an allocating unit withheld.
    Reserve,
    /// What an allocating unit kept because it has no units at the stage's level.
    Retained,
}

impl RowKind {
    /// The `pool` column of `allocation.csv`.
    pub fn label(&self) -> &str {
        match self {
            RowKind::Pool(id) => id,
            RowKind::Total => "total",
            RowKind::Reserve => "reserve",
            RowKind::Retained => "retained",
        }
    }
}

/// One row of `allocation.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRow {
    /// Unit index in the hierarchy (the recipient, or the allocating unit for reserve rows).
    pub unit: usize,
    /// Index of the allocating unit.
    pub from: usize,
    /// 1-based stage number.
    pub stage: usize,
    /// Pool, total, reserve or retained.
    pub kind: RowKind,
    /// Amount, a multiple of `rounding` (reserves: whatever is left).
    pub amount: Decimal,
    /// Share of the pool (pool rows), of the distributable amount (total rows) or of the amount
    /// received (reserve and retained rows).
    pub share: Decimal,
    /// Part of `amount` attributable to each factor column ([`Allocation::factor_columns`]):
    /// `amount × w_k s_ik / b_i`, the amount split in proportion to the factor terms before
    /// adjustment, floors and caps; rounded to 0.01 so that the parts sum exactly to `amount`.
    pub contrib: Vec<Decimal>,
    /// Adjustment coefficient `c_i` (pool rows).
    pub adjust: Option<Decimal>,
    /// Raised to the floor.
    pub floored: bool,
    /// Cut to the cap.
    pub capped: bool,
}

/// The exact working of one pool for one allocating unit: everything needed to explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSplit {
    /// 1-based stage.
    pub stage: usize,
    /// Pool index within the stage.
    pub pool: usize,
    /// The allocating unit.
    pub from: usize,
    /// The pool amount.
    pub amount: Decimal,
    /// Recipients (unit indices, ascending id).
    pub recipients: Vec<usize>,
    /// Factor shares `s_ik` (recipient-major, one per factor of the pool).
    pub shares: Vec<Vec<Decimal>>,
    /// Base shares `b_i`.
    pub base: Vec<Decimal>,
    /// Adjustment coefficients `c_i`.
    pub adjust: Vec<Decimal>,
    /// Adjusted shares `a_i`.
    pub adjusted: Vec<Decimal>,
    /// Exact amounts before rounding.
    pub exact: Vec<Decimal>,
    /// Rounded amounts.
    pub amounts: Vec<Decimal>,
    /// Floors applied.
    pub floors: Vec<Decimal>,
    /// Caps applied.
    pub caps: Vec<Option<Decimal>>,
    /// Raised to the floor.
    pub floored: Vec<bool>,
    /// Cut to the cap.
    pub capped: Vec<bool>,
}

/// The whole allocation of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Factor columns in order of first appearance across stages and pools.
    pub factor_columns: Vec<String>,
    /// Rows in output order: per stage, pool rows (pool order, then allocating unit and
    /// recipient by id), then total rows, then reserve and retained rows.
    pub rows: Vec<AllocationRow>,
    /// Every pool split, for explanation, charts and the LP checks.
    pub splits: Vec<PoolSplit>,
    /// Per stage, the amount each unit received (index by unit), `None` if it received nothing.
    pub received: Vec<Vec<Option<Decimal>>>,
}

impl Allocation {
    /// What each unit received in the last stage (`None` if not a recipient).
    pub fn final_amounts(&self) -> &[Option<Decimal>] {
        self.received.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

fn loc_pool(s: &Scenario, pool: &Pool, field: &str) -> Location {
    Location {
        file: s.toml_file.clone(),
        line: pool.line,
        field: Some(format!("{}{}", pool.key, field)),
    }
}

fn arith(s: &Scenario, pool: &Pool, e: ArithError) -> Diagnostic {
    Diagnostic::new(
        loc_pool(s, pool, ""),
        format!("{e}: amounts too large for exact decimal arithmetic"),
    )
}

/// Runs every stage of the scenario. All problems found in the data (missing or negative
/// values, zero-sum factors, infeasible floors and caps, empty eligible sets) are reported
/// together.
pub fn allocate(s: &Scenario) -> Result<Allocation, InputErrors> {
    let h = &s.hierarchy;
    let n = h.len();
    let mut factor_columns: Vec<String> = Vec::new();
    for st in &s.stages {
        for p in &st.pools {
            for f in &p.factors {
                if !factor_columns.contains(&f.column) {
                    factor_columns.push(f.column.clone());
                }
            }
        }
    }
    let mut rows = Vec::new();
    let mut splits = Vec::new();
    let mut received: Vec<Vec<Option<Decimal>>> = Vec::new();
    let mut errs = InputErrors::default();
    let mut holding: Vec<Option<Decimal>> = vec![None; n];
    if let Some(slot) = holding.get_mut(h.root()) {
        *slot = s.stages.first().and_then(|st| st.total);
    }
    for (si, st) in s.stages.iter().enumerate() {
        let stage_no = si + 1;
        let mut got: Vec<Option<Decimal>> = vec![None; n];
        let mut pool_rows: Vec<Vec<AllocationRow>> = vec![Vec::new(); st.pools.len()];
        let mut total_rows = Vec::new();
        let mut reserve_rows = Vec::new();
        let mut allocators: Vec<usize> = (0..n).filter(|&i| holding.get(i).copied().flatten().is_some()).collect();
        allocators.sort_by(|&a, &b| h.unit(a).map(|u| u.id.as_bytes()).cmp(&h.unit(b).map(|u| u.id.as_bytes())));
        let mut stage_in = Decimal::ZERO;
        let mut stage_out = Decimal::ZERO;
        for &p in &allocators {
            let a_p = holding.get(p).copied().flatten().unwrap_or_default();
            stage_in = stage_in.checked_add(a_p).unwrap_or(stage_in);
            let recipients_all = h.descendants_at_level(p, &st.level);
            if recipients_all.is_empty() {
                if !a_p.is_zero() {
                    reserve_rows.push(AllocationRow {
                        unit: p,
                        from: p,
                        stage: stage_no,
                        kind: RowKind::Retained,
                        amount: a_p,
                        share: Decimal::ONE,
                        contrib: vec![Decimal::ZERO; factor_columns.len()],
                        adjust: None,
                        floored: false,
                        capped: false,
                    });
                    stage_out = stage_out.checked_add(a_p).unwrap_or(stage_out);
                }
                continue;
            }
            match split_unit(s, st, stage_no, p, a_p, &recipients_all, &factor_columns) {
                Ok(out) => {
                    for (q, r) in out.pool_rows.into_iter().enumerate() {
                        if let Some(v) = pool_rows.get_mut(q) {
                            v.extend(r);
                        }
                    }
                    for r in &out.total_rows {
                        if let Some(g) = got.get_mut(r.unit) {
                            *g = Some(r.amount);
                        }
                        stage_out = stage_out.checked_add(r.amount).unwrap_or(stage_out);
                    }
                    total_rows.extend(out.total_rows);
                    if let Some(r) = out.reserve_row {
                        stage_out = stage_out.checked_add(r.amount).unwrap_or(stage_out);
                        reserve_rows.push(r);
                    }
                    splits.extend(out.splits);
                }
                Err(e) => errs.extend(e),
            }
        }
        if !errs.is_empty() {
            break;
        }
        if stage_in != stage_out {
            errs.push(
                Location::at(&s.toml_file, st.line, st.key.clone()),
                format!("internal check failed: stage {stage_no} received {stage_in} but handed out {stage_out}"),
            );
            break;
        }
        for v in pool_rows {
            rows.extend(v);
        }
        rows.extend(total_rows);
        rows.extend(reserve_rows);
        received.push(got.clone());
        holding = got;
    }
    errs.0.sort();
    errs.0.dedup();
    errs.into_result(Allocation {
        factor_columns,
        rows,
        splits,
        received,
    })
}

struct UnitOut {
    pool_rows: Vec<Vec<AllocationRow>>,
    total_rows: Vec<AllocationRow>,
    reserve_row: Option<AllocationRow>,
    splits: Vec<PoolSplit>,
}

fn split_unit(
    s: &Scenario,
    st: &Stage,
    stage_no: usize,
    p: usize,
    a_p: Decimal,
    recipients_all: &[usize],
    cols: &[String],
) -> Result<UnitOut, InputErrors> {
    let mut errs = InputErrors::default();
    let stage_loc = || Location::at(&s.toml_file, st.line, st.key.clone());
    let distributable = money::mul(a_p, Decimal::ONE - st.reserve)
        .and_then(|x| money::floor_to_multiple(x, s.rounding))
        .map_err(|e| InputErrors::one(stage_loc(), e.to_string()))?;
    let reserve = a_p - distributable;
    // D_P σ_q, with σ normalised by Σσ (= 1 within 1e-9, checked on load) so the quotas sum to D_P.
    let sigma: Decimal = st.pools.iter().map(|q| q.share).sum();
    let quotas: Vec<Decimal> = st
        .pools
        .iter()
        .map(|q| {
            distributable
                .checked_mul(q.share)
                .and_then(|x| x.checked_div(sigma))
                .unwrap_or_default()
        })
        .collect();
    let keys: Vec<String> = (0..st.pools.len()).map(|i| format!("{i:08}")).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let pool_amounts = money::largest_remainder(distributable, &quotas, &key_refs, s.rounding)
        .map_err(|e| InputErrors::one(stage_loc(), e.to_string()))?;
    let mut pool_rows = Vec::new();
    let mut splits = Vec::new();
    let mut totals: Vec<(Decimal, Vec<Decimal>, bool, bool)> =
        vec![(Decimal::ZERO, vec![Decimal::ZERO; cols.len()], false, false); recipients_all.len()];
    for (qi, (pool, &amount)) in st.pools.iter().zip(&pool_amounts).enumerate() {
        match split_pool(s, pool, stage_no, qi, p, amount, recipients_all) {
            Ok(sp) => {
                let mut rows = Vec::with_capacity(sp.recipients.len());
                for (j, &u) in sp.recipients.iter().enumerate() {
                    let amt = sp.amounts.get(j).copied().unwrap_or_default();
                    let contrib = contributions(pool, &sp, j, amt, cols).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
                    let share = if amount.is_zero() {
                        Decimal::ZERO
                    } else {
                        div(amt, amount).map_err(|e| InputErrors::from(arith(s, pool, e)))?
                    };
                    let row = AllocationRow {
                        unit: u,
                        from: p,
                        stage: stage_no,
                        kind: RowKind::Pool(pool.id.clone()),
                        amount: amt,
                        share,
                        contrib,
                        adjust: sp.adjust.get(j).copied(),
                        floored: sp.floored.get(j).copied().unwrap_or(false),
                        capped: sp.capped.get(j).copied().unwrap_or(false),
                    };
                    if let Some(pos) = recipients_all.iter().position(|&x| x == u) {
                        if let Some(t) = totals.get_mut(pos) {
                            t.0 += row.amount;
                            for (a, b) in t.1.iter_mut().zip(&row.contrib) {
                                *a += *b;
                            }
                            t.2 |= row.floored;
                            t.3 |= row.capped;
                        }
                    }
                    rows.push(row);
                }
                pool_rows.push(rows);
                splits.push(sp);
            }
            Err(e) => {
                errs.extend(e);
                pool_rows.push(Vec::new());
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let total_rows = recipients_all
        .iter()
        .zip(totals)
        .map(|(&u, (amount, contrib, floored, capped))| AllocationRow {
            unit: u,
            from: p,
            stage: stage_no,
            kind: RowKind::Total,
            share: if distributable.is_zero() {
                Decimal::ZERO
            } else {
                div(amount, distributable).unwrap_or_default()
            },
            amount,
            contrib,
            adjust: None,
            floored,
            capped,
        })
        .collect();
    let reserve_row = (!reserve.is_zero()).then(|| AllocationRow {
        unit: p,
        from: p,
        stage: stage_no,
        kind: RowKind::Reserve,
        amount: reserve,
        share: div(reserve, a_p).unwrap_or_default(),
        contrib: vec![Decimal::ZERO; cols.len()],
        adjust: None,
        floored: false,
        capped: false,
    });
    Ok(UnitOut {
        pool_rows,
        total_rows,
        reserve_row,
        splits,
    })
}

/// Splits the amount among factor columns in proportion to `w_k s_ik` (sum exact, 0.01 steps).
fn contributions(pool: &Pool, sp: &PoolSplit, j: usize, amount: Decimal, cols: &[String]) -> Result<Vec<Decimal>, ArithError> {
    let mut out = vec![Decimal::ZERO; cols.len()];
    let b = sp.base.get(j).copied().unwrap_or_default();
    let shares = sp.shares.get(j);
    let mut quotas = Vec::with_capacity(pool.factors.len());
    for (k, f) in pool.factors.iter().enumerate() {
        let s_ik = shares.and_then(|v| v.get(k)).copied().unwrap_or_default();
        let q = if b.is_zero() {
            if k == 0 {
                amount
            } else {
                Decimal::ZERO
            }
        } else {
            mul(amount, div(mul(f.weight, s_ik)?, b)?)?
        };
        quotas.push(q);
    }
    let keys: Vec<String> = (0..quotas.len()).map(|i| format!("{i:08}")).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let cent = Decimal::new(1, 2);
    let parts = if amount.is_zero() {
        vec![Decimal::ZERO; quotas.len()]
    } else if money::floor_to_multiple(amount, cent)? == amount {
        money::largest_remainder(amount, &quotas, &key_refs, cent)?
    } else {
        quotas.iter().map(|q| q.round_dp(2)).collect()
    };
    for (f, part) in pool.factors.iter().zip(parts) {
        if let Some(pos) = cols.iter().position(|c| c == &f.column) {
            if let Some(o) = out.get_mut(pos) {
                *o = part;
            }
        }
    }
    Ok(out)
}

/// Factor shares of one column over the recipients (SPEC §3 step 3).
///
/// - `share`: `s_i = x_i / Σ x_j`, needs `x ≥ 0` and `Σ x > 0`;
/// - `inverse`: `s_i = (1/x_i) / Σ (1/x_j)`, needs `x > 0`;
/// - `gap`: `g_i = max(0, ref − x_i)`, `s_i = g_i / Σ g_j`, needs `Σ g > 0`.
///
/// Returns the shares, or the message describing what is wrong (with the offending positions).
pub fn factor_shares(values: &[Decimal], transform: Transform) -> Result<Vec<Decimal>, ShareError> {
    let t: Vec<Decimal> = match transform {
        Transform::Share => {
            if let Some(i) = values.iter().position(|x| x.is_sign_negative() && !x.is_zero()) {
                return Err(ShareError::Negative(i));
            }
            values.to_vec()
        }
        Transform::Inverse => {
            if let Some(i) = values.iter().position(|x| *x <= Decimal::ZERO) {
                return Err(ShareError::NotPositive(i));
            }
            values.iter().map(|x| div(Decimal::ONE, *x)).collect::<Result<_, _>>()?
        }
        Transform::Gap { reference } => values
            .iter()
            .map(|x| sub(reference, *x).map(|g| g.max(Decimal::ZERO)))
            .collect::<Result<_, _>>()?,
    };
    let total = money::sum(&t)?;
    if total <= Decimal::ZERO {
        return Err(ShareError::ZeroSum);
    }
    t.iter().map(|x| div(*x, total).map_err(ShareError::from)).collect()
}

/// Why factor shares cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// A negative value at this position (share transform).
    #[error("negative value")]
    Negative(usize),
    /// A zero or negative value at this position (inverse transform).
    #[error("value must be positive for transform `inverse`")]
    NotPositive(usize),
    /// The transformed values sum to zero.
    #[error("the factor sums to zero over the recipients")]
    ZeroSum,
    /// Arithmetic overflow.
    #[error(transparent)]
    Arith(#[from] ArithError),
}

/// Splits one pool amount among the recipients of an allocating unit (SPEC §3 steps 2–6).
pub fn split_pool(
    s: &Scenario,
    pool: &Pool,
    stage: usize,
    pool_index: usize,
    from: usize,
    amount: Decimal,
    candidates: &[usize],
) -> Result<PoolSplit, InputErrors> {
    let h = &s.hierarchy;
    let ft = &s.factors;
    let mut errs = InputErrors::default();
    let from_id = h.unit(from).map(|u| u.id.clone()).unwrap_or_default();
    let ctx = format!("stage {stage}, pool `{}`, recipients of `{from_id}`", pool.id);
    // 2. recipients
    let mut recipients = Vec::with_capacity(candidates.len());
    for &u in candidates {
        match &pool.eligible {
            None => recipients.push(u),
            Some(col) => match ft.value(col, u) {
                Some(v) if !v.is_zero() => recipients.push(u),
                Some(_) => {}
                None => errs.push(
                    ft.loc(col, u),
                    format!(
                        "eligibility flag missing for unit `{}` ({ctx})",
                        h.unit(u).map(|x| x.id.as_str()).unwrap_or("")
                    ),
                ),
            },
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    if recipients.is_empty() {
        return Err(InputErrors::one(
            loc_pool(s, pool, ".eligible"),
            format!("no eligible recipients ({ctx}): the eligible set is empty"),
        ));
    }
    // 3. factor shares
    let mut shares_by_factor: Vec<Vec<Decimal>> = Vec::with_capacity(pool.factors.len());
    for f in &pool.factors {
        let mut vals = Vec::with_capacity(recipients.len());
        let mut missing = false;
        for &u in &recipients {
            match ft.value(&f.column, u) {
                Some(v) => vals.push(v),
                None => {
                    missing = true;
                    errs.push(
                        ft.loc(&f.column, u),
                        format!(
                            "value missing for unit `{}`, used by {} ({ctx})",
                            h.unit(u).map(|x| x.id.as_str()).unwrap_or(""),
                            f.key
                        ),
                    );
                }
            }
        }
        if missing {
            continue;
        }
        match factor_shares(&vals, f.transform) {
            Ok(sh) => shares_by_factor.push(sh),
            Err(ShareError::Negative(i)) | Err(ShareError::NotPositive(i)) => {
                let u = recipients.get(i).copied().unwrap_or(0);
                let v = vals.get(i).copied().unwrap_or_default();
                let what = if matches!(f.transform, Transform::Inverse) {
                    "must be positive for transform `inverse`"
                } else {
                    "must not be negative"
                };
                errs.push(
                    ft.loc(&f.column, u),
                    format!(
                        "value {v} of unit `{}` {what} ({}, {ctx})",
                        h.unit(u).map(|x| x.id.as_str()).unwrap_or(""),
                        f.key
                    ),
                );
            }
            Err(ShareError::ZeroSum) => errs.push(
                Location {
                    file: s.toml_file.clone(),
                    line: f.line,
                    field: Some(format!("{}.column", f.key)),
                },
                format!(
                    "factor `{}` sums to zero over the recipients ({ctx}): its shares are undefined",
                    f.column
                ),
            ),
            Err(ShareError::Arith(e)) => errs.0.push(arith(s, pool, e)),
        }
    }
    // adjustment coefficients
    let mut adjust = Vec::with_capacity(recipients.len());
    for &u in &recipients {
        let c = match &pool.adjust {
            None => Decimal::ONE,
            Some(col) => match ft.value(col, u) {
                Some(v) if v >= Decimal::ZERO => v,
                Some(v) => {
                    errs.push(ft.loc(col, u), format!("adjustment coefficient {v} must not be negative ({ctx})"));
                    Decimal::ONE
                }
                None => {
                    errs.push(
                        ft.loc(col, u),
                        format!(
                            "adjustment coefficient missing for unit `{}` ({ctx})",
                            h.unit(u).map(|x| x.id.as_str()).unwrap_or("")
                        ),
                    );
                    Decimal::ONE
                }
            },
        };
        adjust.push(c);
    }
    // bounds
    let cap_share_amount = match pool.cap_share {
        Some(cs) => Some(mul(cs, amount).map_err(|e| InputErrors::from(arith(s, pool, e)))?),
        None => None,
    };
    let bound_value = |b: &Option<Bound>, u: usize, errs: &mut InputErrors| -> Option<Decimal> {
        match b {
            None => None,
            Some(Bound::Amount(d)) => Some(*d),
            Some(Bound::Column(c)) => match ft.value(c, u) {
                Some(v) if v >= Decimal::ZERO => Some(v),
                Some(v) => {
                    errs.push(ft.loc(c, u), format!("bound {v} must not be negative ({ctx})"));
                    None
                }
                None => None,
            },
        }
    };
    let mut floors = Vec::with_capacity(recipients.len());
    let mut caps = Vec::with_capacity(recipients.len());
    for &u in &recipients {
        let f = bound_value(&pool.floor, u, &mut errs).unwrap_or_default();
        let c = match (bound_value(&pool.cap, u, &mut errs), cap_share_amount) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(c) = c {
            if f > c {
                let loc = match (&pool.floor, &pool.cap) {
                    (Some(Bound::Column(col)), _) | (_, Some(Bound::Column(col))) => ft.loc(col, u),
                    _ => loc_pool(s, pool, ".floor"),
                };
                errs.push(
                    loc,
                    format!(
                        "floor {f} is above the cap {c} for unit `{}` ({ctx})",
                        h.unit(u).map(|x| x.id.as_str()).unwrap_or("")
                    ),
                );
            }
        }
        floors.push(f);
        caps.push(c);
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    // 4–5. base and adjusted shares
    let r = recipients.len();
    let mut base = vec![Decimal::ZERO; r];
    for (f, sh) in pool.factors.iter().zip(&shares_by_factor) {
        for (b, s_ik) in base.iter_mut().zip(sh) {
            *b = add(*b, mul(f.weight, *s_ik).map_err(|e| InputErrors::from(arith(s, pool, e)))?)
                .map_err(|e| InputErrors::from(arith(s, pool, e)))?;
        }
    }
    let bc: Vec<Decimal> = base
        .iter()
        .zip(&adjust)
        .map(|(b, c)| mul(*b, *c))
        .collect::<Result<_, _>>()
        .map_err(|e| InputErrors::from(arith(s, pool, e)))?;
    let bc_sum = money::sum(&bc).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
    if bc_sum <= Decimal::ZERO {
        return Err(InputErrors::one(
            loc_pool(s, pool, ".adjust"),
            format!("every recipient has a zero adjusted share ({ctx}): nothing to split by"),
        ));
    }
    let adjusted: Vec<Decimal> = bc
        .iter()
        .map(|x| div(*x, bc_sum))
        .collect::<Result<_, _>>()
        .map_err(|e| InputErrors::from(arith(s, pool, e)))?;
    let clamped = clamp::clamp_to_pool(&adjusted, &floors, &caps, amount).map_err(|e| {
        InputErrors::one(
            loc_pool(
                s,
                pool,
                if matches!(e, clamp::ClampError::CapsBelowPool { .. }) {
                    ".cap"
                } else {
                    ".floor"
                },
            ),
            format!("{e} ({ctx})"),
        )
    })?;
    // 6. rounding
    let ids: Vec<&str> = recipients.iter().map(|&u| h.unit(u).map(|x| x.id.as_str()).unwrap_or("")).collect();
    let amounts = money::largest_remainder(amount, &clamped.amounts, &ids, s.rounding).map_err(|e| InputErrors::from(arith(s, pool, e)))?;
    let mut shares = vec![Vec::with_capacity(pool.factors.len()); r];
    for sh in &shares_by_factor {
        for (row, v) in shares.iter_mut().zip(sh) {
            row.push(*v);
        }
    }
    Ok(PoolSplit {
        stage,
        pool: pool_index,
        from,
        amount,
        recipients,
        shares,
        base,
        adjust,
        adjusted,
        exact: clamped.amounts,
        amounts,
        floors,
        caps,
        floored: clamped.floored,
        capped: clamped.capped,
    })
}
