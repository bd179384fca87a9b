//! What-if between two scenarios (two formulas, two years' data): per unit amounts, changes,
//! ranks, winners and losers, and each unit's change decomposed into the parts due to the
//! factor data, the formula (weights, transforms, pools, eligibility, adjustment), the total
//! (amount split and reserves), and the floors, caps and rounding.
//!
//! The decomposition changes one thing at a time, in this fixed order, recomputing the whole
//! allocation at each step:
//!
//! ```text
//! A0 = S1                                   (baseline)
//! A1 = S1 with S2's factor data             part_data        = A1 − A0
//! A2 = … and S2's formula                   part_formula     = A2 − A1
//! A3 = … and S2's total and reserves        part_total       = A3 − A2
//! A4 = … and S2's floors, caps, rounding    part_bounds      = A4 − A3   (A4 = S2)
//! ```
//!
//! The parts sum exactly to the change. The order matters (the parts of an interaction depend
//! on it); it is documented here and in the output header. A step whose hybrid scenario
//! cannot be allocated (say, S2's floors under S1's total) leaves the decomposition empty with
//! the reason.

use crate::alloc::allocate;
use crate::error::{InputErrors, Location};
use crate::output::{dec, OutTable};
use crate::scenario::{FactorTable, Scenario, Stage};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One unit's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitChange {
    /// Unit id.
    pub id: String,
    /// Unit name.
    pub name: String,
    /// Amount under S1 (final stage total; 0 if not a recipient).
    pub amount_1: Decimal,
    /// Amount under S2.
    pub amount_2: Decimal,
    /// Population (S1's per-capita column), if any.
    pub population: Option<Decimal>,
    /// Rank under S1 (1 = largest amount), among units receiving under S1.
    pub rank_1: Option<usize>,
    /// Rank under S2.
    pub rank_2: Option<usize>,
    /// Parts of the change: data, formula, total, floors/caps/rounding (sum = change).
    pub parts: Option<[Decimal; 4]>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Per unit, ordered by id.
    pub units: Vec<UnitChange>,
    /// Why there is no decomposition, when there is none.
    pub decomposition_note: Option<String>,
}

/// Names of the decomposition parts, in order.
pub const PARTS: [&str; 4] = ["data", "formula", "total", "floors_caps"];

fn final_by_id(s: &Scenario) -> Result<BTreeMap<String, Decimal>, InputErrors> {
    let a = allocate(s)?;
    Ok(a.final_amounts()
        .iter()
        .enumerate()
        .filter_map(|(u, v)| v.map(|v| (s.hierarchy.unit(u).map(|x| x.id.clone()).unwrap_or_default(), v)))
        .collect())
}

fn ranks(m: &BTreeMap<String, Decimal>) -> BTreeMap<String, usize> {
    let mut v: Vec<(&String, &Decimal)> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.as_bytes().cmp(b.0.as_bytes())));
    v.into_iter().enumerate().map(|(i, (id, _))| (id.clone(), i + 1)).collect()
}

/// Builds S1 with some parts taken from S2. `level`: 1 = data, 2 = + formula, 3 = + total,
/// 4 = + floors, caps and rounding.
fn hybrid(s1: &Scenario, s2: &Scenario, level: u8) -> Result<Scenario, InputErrors> {
    let mut h = s1.clone();
    if level >= 1 {
        h.factors = FactorTable::new(s2.factors.table.clone(), &s1.hierarchy)?;
    }
    if level >= 2 {
        let mut stages: Vec<Stage> = s2.stages.clone();
        for (i, st) in stages.iter_mut().enumerate() {
            let own = s1.stages.get(i);
            if level < 3 {
                st.total = own.and_then(|o| o.total).or(st.total);
                st.reserve = own.map(|o| o.reserve).unwrap_or(st.reserve);
            }
            if level < 4 {
                for p in &mut st.pools {
                    let mine = own.and_then(|o| o.pools.iter().find(|q| q.id == p.id));
                    p.floor = mine.and_then(|q| q.floor.clone());
                    p.cap = mine.and_then(|q| q.cap.clone());
                    p.cap_share = mine.and_then(|q| q.cap_share);
                }
            }
        }
        h.stages = stages;
    }
    if level >= 4 {
        h.rounding = s2.rounding;
    }
    // parse every column the hybrid's formula refers to
    let mut warnings = Vec::new();
    let mut cols: Vec<String> = Vec::new();
    for st in &h.stages {
        for p in &st.pools {
            cols.extend(p.factors.iter().map(|f| f.column.clone()));
            cols.extend(p.eligible.iter().cloned());
            cols.extend(p.adjust.iter().cloned());
            for b in [&p.floor, &p.cap].into_iter().flatten() {
                if let crate::scenario::Bound::Column(c) = b {
                    cols.push(c.clone());
                }
            }
        }
    }
    if let Some(p) = &h.population {
        cols.push(p.clone());
    }
    let mut errs = InputErrors::default();
    for c in cols {
        if let Err(e) = h.factors.parse_column(&c, &mut warnings) {
            errs.extend(e);
        }
    }
    errs.into_result(h)
}

/// Compares two scenarios over the same units.
pub fn compare(s1: &Scenario, s2: &Scenario) -> Result<Comparison, InputErrors> {
    let a1 = final_by_id(s1)?;
    let a2 = final_by_id(s2)?;
    let r1 = ranks(&a1);
    let r2 = ranks(&a2);
    let mut ids: Vec<String> = a1.keys().chain(a2.keys()).cloned().collect();
    ids.sort();
    ids.dedup();
    let same_units = s1.hierarchy.units().iter().map(|u| (&u.id, &u.level)).collect::<Vec<_>>()
        == s2.hierarchy.units().iter().map(|u| (&u.id, &u.level)).collect::<Vec<_>>()
        || {
            let mut x: Vec<_> = s1.hierarchy.units().iter().map(|u| (u.id.clone(), u.level.clone())).collect();
            let mut y: Vec<_> = s2.hierarchy.units().iter().map(|u| (u.id.clone(), u.level.clone())).collect();
            x.sort();
            y.sort();
            x == y
        };
    let mut note = None;
    let mut steps: Vec<BTreeMap<String, Decimal>> = Vec::new();
    if !same_units {
        note = Some("the two scenarios have different units: no decomposition".to_string());
    } else {
        steps.push(a1.clone());
        for level in 1..=3u8 {
            match hybrid(s1, s2, level).and_then(|h| final_by_id(&h)) {
                Ok(m) => steps.push(m),
                Err(e) => {
                    note = Some(format!(
                        "step {} ({}) cannot be allocated: {}",
                        level,
                        PARTS.get(usize::from(level) - 1).unwrap_or(&""),
                        e.0.first().map(|d| d.to_string()).unwrap_or_default()
                    ));
                    steps.clear();
                    break;
                }
            }
        }
        if !steps.is_empty() {
            steps.push(a2.clone());
        }
    }
    let zero = Decimal::ZERO;
    let units = ids
        .into_iter()
        .map(|id| {
            let u = s1
                .hierarchy
                .find(&id)
                .and_then(|i| s1.hierarchy.unit(i))
                .or_else(|| s2.hierarchy.find(&id).and_then(|i| s2.hierarchy.unit(i)));
            let population = s1
                .population
                .as_ref()
                .and_then(|c| s1.hierarchy.find(&id).and_then(|i| s1.factors.value(c, i)));
            let parts = (steps.len() == 5).then(|| {
                let at = |k: usize| steps.get(k).and_then(|m| m.get(&id)).copied().unwrap_or(zero);
                [at(1) - at(0), at(2) - at(1), at(3) - at(2), at(4) - at(3)]
            });
            UnitChange {
                name: u.map(|u| u.name.clone()).unwrap_or_default(),
                amount_1: a1.get(&id).copied().unwrap_or(zero),
                amount_2: a2.get(&id).copied().unwrap_or(zero),
                population,
                rank_1: r1.get(&id).copied(),
                rank_2: r2.get(&id).copied(),
                parts,
                id,
            }
        })
        .collect();
    if s1.money_unit != s2.money_unit {
        return Err(InputErrors::one(
            Location::at(&s2.toml_file, None, "scenario.money_unit"),
            "the two scenarios use different money units",
        ));
    }
    Ok(Comparison {
        units,
        decomposition_note: note,
    })
}

/// `compare.csv`: `unit_id,name,amount_1,amount_2,change,change_pct,per_capita_1,per_capita_2,
/// change_per_capita,rank_1,rank_2,rank_change,part_data,part_formula,part_total,part_floors_caps`.
/// `rank_change` is positive when the unit moves up (towards rank 1).
pub fn compare_table(c: &Comparison) -> OutTable {
    let mut t = OutTable::new(
        "compare.csv",
        &[
            "unit_id",
            "name",
            "amount_1",
            "amount_2",
            "change",
            "change_pct",
            "per_capita_1",
            "per_capita_2",
            "change_per_capita",
            "rank_1",
            "rank_2",
            "rank_change",
            "part_data",
            "part_formula",
            "part_total",
            "part_floors_caps",
        ],
    );
    for u in &c.units {
        let change = u.amount_2 - u.amount_1;
        let pct = if u.amount_1.is_zero() {
            String::new()
        } else {
            dec((change * Decimal::ONE_HUNDRED / u.amount_1).round_dp(4))
        };
        let pc = |a: Decimal| {
            u.population
                .filter(|p| *p > Decimal::ZERO)
                .and_then(|p| a.checked_div(p))
                .map(|x| x.round_dp(4))
        };
        let (p1, p2) = (pc(u.amount_1), pc(u.amount_2));
        let mut row = vec![
            u.id.clone(),
            u.name.clone(),
            dec(u.amount_1),
            dec(u.amount_2),
            dec(change),
            pct,
            p1.map(dec).unwrap_or_default(),
            p2.map(dec).unwrap_or_default(),
            match (p1, p2) {
                (Some(a), Some(b)) => dec(b - a),
                _ => String::new(),
            },
            u.rank_1.map(|r| r.to_string()).unwrap_or_default(),
            u.rank_2.map(|r| r.to_string()).unwrap_or_default(),
            match (u.rank_1, u.rank_2) {
                (Some(a), Some(b)) => (a as i64 - b as i64).to_string(),
                _ => String::new(),
            },
        ];
        match &u.parts {
            Some(p) => row.extend(p.iter().map(|x| dec(*x))),
            None => row.extend(std::iter::repeat_n(String::new(), 4)),
        }
        t.rows.push(row);
    }
    t
}
