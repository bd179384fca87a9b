//! The allocation engine against an independent exact-arithmetic implementation of SPEC §3.
//!
//! The oracle reads the scenario text itself (TOML via `toml::Value`, CSV by splitting lines),
//! computes in exact rationals (`BigRational`), solves the clamp rule by evaluating
//! `f(λ) = Σ clamp(λ aᵢ)` at every breakpoint (no incremental sweep), and rounds by largest
//! remainder with exact remainders. Random scenarios: one or two stages, several pools,
//! every transform, eligibility flags, adjustment coefficients, floors (amount or column),
//! caps (share or column), reserves, rounding to 0.01, 1, 10, 100 and 50 (not a power of ten).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use fundsim::alloc::{allocate, RowKind};
use fundsim::synth::{scenario_from_files, SynthFiles};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

type Q = BigRational;

fn q(s: &str) -> Q {
    let s = s.trim();
    let neg = s.starts_with('-');
    let s = s.trim_start_matches('-');
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    let digits: BigInt = format!("{i}{f}").parse().unwrap();
    let den = BigInt::from(10).pow(f.len() as u32);
    let r = Q::new(digits, den);
    if neg {
        -r
    } else {
        r
    }
}

fn floor_mult(x: &Q, unit: &Q) -> Q {
    (x / unit).floor() * unit
}

/// Largest remainder in exact arithmetic, ties by key.
fn lr(total: &Q, quotas: &[Q], keys: &[String], unit: &Q) -> Vec<Q> {
    let mut floors: Vec<Q> = quotas.iter().map(|x| floor_mult(x, unit)).collect();
    let rem: Vec<Q> = quotas.iter().zip(&floors).map(|(x, f)| x - f).collect();
    let left = (total - floors.iter().fold(Q::zero(), |a, b| a + b)) / unit;
    assert!(left.is_integer(), "leftover not integral");
    let k = left.to_integer().to_usize().unwrap();
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    order.sort_by(|&a, &b| rem[b].cmp(&rem[a]).then(keys[a].as_bytes().cmp(keys[b].as_bytes())));
    for &i in order.iter().take(k) {
        floors[i] += unit;
    }
    floors
}

fn clamp(x: &Q, lo: &Q, hi: &Option<Q>) -> Q {
    let y = if x < lo { lo.clone() } else { x.clone() };
    match hi {
        Some(h) if &y > h => h.clone(),
        _ => y,
    }
}

/// Solves Σ clamp(λ aᵢ) = pool by evaluating f at every breakpoint.
fn solve_clamp(a: &[Q], floors: &[Q], caps: &[Option<Q>], pool: &Q) -> Option<Vec<Q>> {
    let f = |l: &Q| -> Q {
        a.iter()
            .zip(floors)
            .zip(caps)
            .map(|((ai, fl), c)| clamp(&(l * ai), fl, c))
            .fold(Q::zero(), |s, x| s + x)
    };
    let mut cands: Vec<Q> = vec![Q::zero()];
    for ((ai, fl), c) in a.iter().zip(floors).zip(caps) {
        if ai.is_positive() {
            cands.push(fl / ai);
            if let Some(c) = c {
                cands.push(c / ai);
            }
        }
    }
    cands.sort();
    cands.dedup();
    if &f(&Q::zero()) > pool {
        return None;
    }
    let mut prev: Option<(Q, Q)> = None;
    for l in &cands {
        let v = f(l);
        if &v >= pool {
            let lambda = match prev {
                _ if &v == pool => l.clone(),
                Some((pl, pv)) => &pl + (pool - &pv) * (l - &pl) / (&v - &pv),
                None => l.clone(),
            };
            return Some(
                a.iter()
                    .zip(floors)
                    .zip(caps)
                    .map(|((ai, fl), c)| clamp(&(&lambda * ai), fl, c))
                    .collect(),
            );
        }
        prev = Some((l.clone(), v));
    }
    // beyond the last breakpoint: slope = Σ a of uncapped units
    let (pl, pv) = prev?;
    let slope: Q = a
        .iter()
        .zip(caps)
        .filter(|(ai, c)| ai.is_positive() && c.is_none())
        .map(|(ai, _)| ai.clone())
        .fold(Q::zero(), |s, x| s + x);
    if slope.is_zero() {
        return None;
    }
    let lambda = &pl + (pool - &pv) / slope;
    Some(
        a.iter()
            .zip(floors)
            .zip(caps)
            .map(|((ai, fl), c)| clamp(&(&lambda * ai), fl, c))
            .collect(),
    )
}

struct Units {
    id: Vec<String>,
    parent: Vec<Option<usize>>,
    level: Vec<String>,
}

fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let h: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    (h, lines.map(|l| l.split(',').map(String::from).collect()).collect())
}

type Key = (usize, String, String); // stage, pool label, unit id

fn oracle(files: &SynthFiles) -> Option<BTreeMap<Key, Q>> {
    let cfg: toml::Value = toml::from_str(&files.scenario_toml).unwrap();
    let (uh, urows) = parse_csv(&files.units_csv);
    let col = |h: &[String], n: &str| h.iter().position(|x| x == n).unwrap();
    let (ci, cp, cl) = (col(&uh, "id"), col(&uh, "parent_id"), col(&uh, "level"));
    let ids: Vec<String> = urows.iter().map(|r| r[ci].clone()).collect();
    let idx: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let units = Units {
        parent: urows
            .iter()
            .map(|r| if r[cp].is_empty() { None } else { Some(idx[r[cp].as_str()]) })
            .collect(),
        level: urows.iter().map(|r| r[cl].clone()).collect(),
        id: ids.clone(),
    };
    let (fh, frows) = parse_csv(&files.factors_csv);
    let mut fac: HashMap<String, HashMap<String, Q>> = HashMap::new();
    for r in &frows {
        let m = fh
            .iter()
            .zip(r)
            .skip(1)
            .filter(|(_, v)| !v.is_empty())
            .map(|(h, v)| (h.clone(), q(v)))
            .collect();
        fac.insert(r[0].clone(), m);
    }
    let val = |u: usize, c: &str| fac[&units.id[u]][c].clone();
    let rounding = q(cfg["scenario"]["rounding"].as_str().unwrap());
    let root = units.parent.iter().position(Option::is_none).unwrap();
    let stages = cfg["stage"].as_array().unwrap();
    let mut holding: BTreeMap<String, (usize, Q)> = BTreeMap::new();
    holding.insert(units.id[root].clone(), (root, q(stages[0]["total"].as_str().unwrap())));
    let mut out = BTreeMap::new();
    for (si, st) in stages.iter().enumerate() {
        let stage = si + 1;
        let level = st["level"].as_str().unwrap();
        let reserve = st.get("reserve").map(|r| q(r.as_str().unwrap())).unwrap_or_else(Q::zero);
        let pools = st["pool"].as_array().unwrap();
        let mut next = BTreeMap::new();
        for (pid, (p, amount)) in &holding {
            // descendants at level
            let mut recips: Vec<usize> = (0..units.id.len())
                .filter(|&u| {
                    units.level[u] == level && {
                        let mut c = units.parent[u];
                        let mut found = false;
                        while let Some(x) = c {
                            if x == *p {
                                found = true;
                                break;
                            }
                            if units.level[x] == level {
                                break;
                            }
                            c = units.parent[x];
                        }
                        found
                    }
                })
                .collect();
            recips.sort_by(|a, b| units.id[*a].as_bytes().cmp(units.id[*b].as_bytes()));
            if recips.is_empty() {
                out.insert((stage, "retained".into(), pid.clone()), amount.clone());
                continue;
            }
            let d = floor_mult(&(amount * (Q::one() - &reserve)), &rounding);
            if amount != &d {
                out.insert((stage, "reserve".into(), pid.clone()), amount - &d);
            }
            let shares: Vec<Q> = pools.iter().map(|pl| q(pl["share"].as_str().unwrap())).collect();
            let pool_amts = lr(
                &d,
                &shares.iter().map(|s| &d * s).collect::<Vec<_>>(),
                &(0..pools.len()).map(|i| format!("{i:08}")).collect::<Vec<_>>(),
                &rounding,
            );
            let mut totals: BTreeMap<usize, Q> = recips.iter().map(|&u| (u, Q::zero())).collect();
            for (pl, pamt) in pools.iter().zip(&pool_amts) {
                let r: Vec<usize> = match pl.get("eligible") {
                    Some(e) => recips.iter().copied().filter(|&u| !val(u, e.as_str().unwrap()).is_zero()).collect(),
                    None => recips.clone(),
                };
                if r.is_empty() {
                    return None;
                }
                let mut b = vec![Q::zero(); r.len()];
                for f in pl["factor"].as_array().unwrap() {
                    let c = f["column"].as_str().unwrap();
                    let w = q(f["weight"].as_str().unwrap());
                    let x: Vec<Q> = r.iter().map(|&u| val(u, c)).collect();
                    let t: Vec<Q> = match f.get("transform").map(|t| t.as_str().unwrap()).unwrap_or("share") {
                        "share" => x,
                        "inverse" => x.iter().map(|v| Q::one() / v).collect(),
                        "gap" => {
                            let refv = q(f["reference"].as_str().unwrap());
                            x.iter().map(|v| if &refv > v { &refv - v } else { Q::zero() }).collect()
                        }
                        other => panic!("{other}"),
                    };
                    let s: Q = t.iter().fold(Q::zero(), |a, b| a + b);
                    if s.is_zero() {
                        return None;
                    }
                    for (bi, ti) in b.iter_mut().zip(&t) {
                        *bi += &w * ti / &s;
                    }
                }
                let c: Vec<Q> = match pl.get("adjust") {
                    Some(a) => r.iter().map(|&u| val(u, a.as_str().unwrap())).collect(),
                    None => vec![Q::one(); r.len()],
                };
                let bc: Vec<Q> = b.iter().zip(&c).map(|(x, y)| x * y).collect();
                let sbc: Q = bc.iter().fold(Q::zero(), |a, b| a + b);
                let a: Vec<Q> = bc.iter().map(|x| x / &sbc).collect();
                let floors: Vec<Q> = match pl.get("floor").and_then(|f| f.as_str()) {
                    None => vec![Q::zero(); r.len()],
                    Some(f) if f.chars().next().unwrap().is_ascii_digit() => vec![q(f); r.len()],
                    Some(colname) => r
                        .iter()
                        .map(|&u| fac[&units.id[u]].get(colname).cloned().unwrap_or_else(Q::zero))
                        .collect(),
                };
                let caps: Vec<Option<Q>> = r
                    .iter()
                    .map(|&u| {
                        let a = pl
                            .get("cap")
                            .and_then(|c| c.as_str())
                            .and_then(|c| fac[&units.id[u]].get(c).cloned());
                        let b = pl.get("cap_share").map(|c| q(c.as_str().unwrap()) * pamt);
                        match (a, b) {
                            (Some(x), Some(y)) => Some(if x < y { x } else { y }),
                            (x, y) => x.or(y),
                        }
                    })
                    .collect();
                for (f, c) in floors.iter().zip(&caps) {
                    if let Some(c) = c {
                        if f > c {
                            return None;
                        }
                    }
                }
                let y = solve_clamp(&a, &floors, &caps, pamt)?;
                let keys: Vec<String> = r.iter().map(|&u| units.id[u].clone()).collect();
                let amts = lr(pamt, &y, &keys, &rounding);
                let label = pl["id"].as_str().unwrap().to_string();
                for (&u, v) in r.iter().zip(amts) {
                    *totals.get_mut(&u).unwrap() += &v;
                    out.insert((stage, label.clone(), units.id[u].clone()), v);
                }
            }
            for (u, t) in totals {
                out.insert((stage, "total".into(), units.id[u].clone()), t.clone());
                next.insert(units.id[u].clone(), (u, t));
            }
        }
        holding = next;
    }
    Some(out)
}

/// A random scenario in the SPEC format.
fn random_files(seed: u64) -> SynthFiles {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let two_stage = rng.random_bool(0.6);
    let cities = if two_stage { rng.random_range(1..5usize) } else { 1 };
    let mut units = String::from("id,name,parent_id,level\nP0,省,,province\n");
    let mut factors = String::from("unit_id,pop,rate,income,score,flag,coef,fl,cp\n");
    let mut row = |id: &str, rng: &mut Xoshiro256PlusPlus, flag: u8| {
        let pop = rng.random_range(0..50_000u32);
        let rate = rng.random_range(1..400u32); // /1000
        let income = rng.random_range(3_000..20_000u32);
        let score = rng.random_range(50..100u32);
        let coef = ["1", "1.03", "0.9", "1.1"][rng.random_range(0..4usize)];
        let fl = rng.random_range(0..100u32) * 100;
        let cp = rng.random_range(1..2000u32) * 1000;
        let _ = writeln!(factors, "{id},{pop},0.{rate:03},{income},{score},{flag},{coef},{fl},{cp}");
    };
    let mut county_counter = 0;
    for c in 0..cities {
        let parent = if two_stage {
            let cid = format!("C{c:02}");
            let _ = writeln!(units, "{cid},市{c},P0,city");
            row(&cid, &mut rng, 1);
            cid
        } else {
            "P0".to_string()
        };
        let n = rng.random_range(1..9usize);
        for j in 0..n {
            county_counter += 1;
            // ids deliberately not in insertion order
            let kid = format!("K{:03}", (county_counter * 37) % 1000);
            let _ = writeln!(units, "{kid},县{j},{parent},county");
            let flag = u8::from(j == 0 || rng.random_bool(0.6));
            row(&kid, &mut rng, flag);
        }
    }
    // 50 is not a power of ten: the engine's certified path stands aside and the Decimal path
    // decides every pool and every stage total
    let rounding = ["1", "100", "0.01", "10", "50"][rng.random_range(0..5usize)];
    let total = rng.random_range(1_000_000..900_000_000u64);
    let mut toml = format!("[scenario]\nname = \"oracle-{seed}\"\nrounding = \"{rounding}\"\n\n");
    let pool_text = |rng: &mut Xoshiro256PlusPlus, bounded: bool| -> String {
        let npools = rng.random_range(1..4usize);
        let mut shares: Vec<u32> = (0..npools).map(|_| rng.random_range(1..10u32)).collect();
        let s: u32 = shares.iter().sum();
        // shares as multiples of 1/s with exact decimal: use percentages summing to 100
        let mut pct: Vec<u32> = shares.iter().map(|x| x * 100 / s).collect();
        let fix = 100 - pct.iter().sum::<u32>();
        pct[0] += fix;
        shares.clear();
        let mut t = String::new();
        for (pi, p) in pct.iter().enumerate() {
            let _ = write!(t, "  [[stage.pool]]\n  id = \"p{pi}\"\n  share = \"{}\"\n", *p as f64 / 100.0);
            if pi > 0 && rng.random_bool(0.5) {
                t.push_str("  eligible = \"flag\"\n");
            }
            if rng.random_bool(0.5) {
                t.push_str("  adjust = \"coef\"\n");
            }
            if bounded {
                match rng.random_range(0..4u8) {
                    0 => t.push_str("  floor = \"fl\"\n"),
                    1 => {
                        let _ = writeln!(t, "  floor = \"{}\"", rng.random_range(0..50u32) * 1000);
                    }
                    _ => {}
                }
                match rng.random_range(0..4u8) {
                    0 => t.push_str("  cap_share = \"0.5\"\n"),
                    1 => t.push_str("  cap = \"cp\"\n"),
                    _ => {}
                }
            }
            let cols = ["pop", "rate", "income", "score"];
            let nf = rng.random_range(1..5usize);
            let mut w: Vec<u32> = (0..nf).map(|_| rng.random_range(0..10u32)).collect();
            if w.iter().all(|x| *x == 0) {
                w[0] = 1;
            }
            let s: u32 = w.iter().sum();
            let mut wp: Vec<u32> = w.iter().map(|x| x * 1000 / s).collect();
            let fix = 1000 - wp.iter().sum::<u32>();
            wp[0] += fix;
            for (k, wk) in wp.iter().enumerate() {
                let c = cols[(k + pi) % 4];
                let _ = write!(
                    t,
                    "    [[stage.pool.factor]]\n    column = \"{c}\"\n    weight = \"{}\"\n",
                    *wk as f64 / 1000.0
                );
                if c == "income" {
                    if rng.random_bool(0.5) {
                        t.push_str("    transform = \"inverse\"\n");
                    } else {
                        t.push_str("    transform = \"gap\"\n    reference = \"15000\"\n");
                    }
                }
            }
        }
        t
    };
    let reserve = ["0", "0.02", "0.05", "0.1"][rng.random_range(0..4usize)];
    if two_stage {
        let _ = write!(toml, "[[stage]]\nlevel = \"city\"\ntotal = \"{total}\"\nreserve = \"{reserve}\"\n");
        toml.push_str(&pool_text(&mut rng, false));
        toml.push_str("\n[[stage]]\nlevel = \"county\"\n");
        toml.push_str(&pool_text(&mut rng, true));
    } else {
        let _ = write!(
            toml,
            "[[stage]]\nlevel = \"county\"\ntotal = \"{total}\"\nreserve = \"{reserve}\"\n"
        );
        toml.push_str(&pool_text(&mut rng, true));
    }
    SynthFiles {
        scenario_toml: toml,
        units_csv: units,
        factors_csv: factors,
    }
}

fn engine(files: &SynthFiles) -> Option<BTreeMap<Key, Q>> {
    let s = scenario_from_files(files).unwrap_or_else(|e| panic!("scenario did not load: {e}\n{}", files.scenario_toml));
    let a = allocate(&s).ok()?;
    let mut out = BTreeMap::new();
    for r in &a.rows {
        let id = s.hierarchy.unit(r.unit).unwrap().id.clone();
        let label = a.label(r).to_string();
        if r.kind == RowKind::Total
            && r.amount.is_zero()
            && !a
                .rows
                .iter()
                .any(|x| x.unit == r.unit && x.stage == r.stage && matches!(x.kind, RowKind::Pool(_)))
        {
            // a unit at the level that no pool made eligible: the oracle has it too
        }
        out.insert((r.stage, label, id), q(&r.amount.to_string()));
    }
    Some(out)
}

fn check(seed: u64) {
    let files = random_files(seed);
    let e = engine(&files);
    let o = oracle(&files);
    match (e, o) {
        (Some(e), Some(o)) => {
            if e != o {
                let diff: Vec<String> = o
                    .iter()
                    .filter(|(k, v)| e.get(*k) != Some(*v))
                    .take(5)
                    .map(|(k, v)| format!("{k:?}: oracle {v}, engine {:?}", e.get(k).map(|x| x.to_string())))
                    .collect();
                let extra: Vec<String> = e.keys().filter(|k| !o.contains_key(*k)).take(5).map(|k| format!("{k:?}")).collect();
                panic!(
                    "seed {seed}: engine and oracle differ\n{}\nextra in engine: {}\n{}",
                    diff.join("\n"),
                    extra.join(", "),
                    files.scenario_toml
                );
            }
        }
        (None, None) => {}
        (e, o) => panic!(
            "seed {seed}: engine ok = {}, oracle ok = {}\n{}\n{}\n{}",
            e.is_some(),
            o.is_some(),
            files.scenario_toml,
            files.units_csv,
            files.factors_csv
        ),
    }
}

#[test]
fn engine_matches_exact_oracle_on_many_seeds() {
    let n: u64 = std::env::var("ORACLE_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    for seed in 0..n {
        check(seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn engine_matches_exact_oracle(seed in any::<u64>()) {
        check(seed);
    }
}

#[test]
#[ignore]
fn debug_seed() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let files = random_files(seed);
    let s = scenario_from_files(&files).unwrap();
    match allocate(&s) {
        Ok(_) => println!("ok"),
        Err(e) => println!("{e}"),
    }
}
