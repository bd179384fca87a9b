//! Tests of the projection on small hand-computed plans.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use crate::scenario::{from_sources, Scenario};
use proptest::prelude::*;
use std::path::PathBuf;

const UNITS: &str =
    "id,name,parent_id,level\n1,P,,province\n11,C1,1,city\n12,C2,1,city\n111,A,11,county\n112,B,11,county\n121,C,12,county\n";
const FACTORS: &str = "unit_id,pop,flag\n111,100,1\n112,100,1\n121,200,0\n";
const BASE_TOML: &str = r#"[scenario]
name = "t"
rounding = "1"

[[stage]]
level = "county"
total = "4000"
  [[stage.pool]]
  id = "base"
  share = "1"
    [[stage.pool.factor]]
    column = "pop"
    weight = "1"
"#;
const PLAN: &str = "unit_id,filed_start,rural_pop,target_2018\n111,1000,10000,\n112,500,10000,100\n121,300,5000,\n";

fn scenario(projection: &str, plan: &str, survey: Option<&str>) -> Result<Scenario, InputErrors> {
    scenario_with(BASE_TOML, projection, plan, survey)
}

fn scenario_with(base: &str, projection: &str, plan: &str, survey: Option<&str>) -> Result<Scenario, InputErrors> {
    let toml = format!("{base}\n{projection}");
    let plan = plan.to_string();
    let survey = survey.map(str::to_string);
    let mut src = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
        let b = match rel {
            "units.csv" => UNITS.to_string(),
            "factors.csv" => FACTORS.to_string(),
            "plan.csv" => plan.clone(),
            "survey.csv" => survey.clone()?,
            _ => return None,
        };
        Some(Ok((b.into_bytes(), PathBuf::from(rel))))
    };
    from_sources("scenario.toml", toml.as_bytes(), &mut src)
}

fn run(projection: &str, plan: &str, survey: Option<&str>) -> (Projection, ProjectionResult) {
    let s = scenario(projection, plan, survey).unwrap();
    let p = prepare(&s).unwrap();
    let r = project(&p).unwrap();
    (p, r)
}

fn col(r: &ProjectionResult, f: impl Fn(&YearRow) -> u64) -> Vec<Vec<u64>> {
    r.units.iter().map(|rows| rows.iter().map(&f).collect()).collect()
}

fn assert_identity(p: &Projection, r: &ProjectionResult) {
    for rows in r.units.iter().chain(&r.totals) {
        for (k, row) in rows.iter().enumerate() {
            assert_eq!(row.end + row.exits, row.start + row.entries + row.returns, "{row:?}");
            assert!(row.exits <= row.target);
            assert_eq!(row.shortfall, row.target - row.exits);
            if k > 0 {
                assert_eq!(row.start, rows[k - 1].end);
            }
        }
    }
    // totals are sums of their members
    for (ag, rows) in p.aggregates.iter().zip(&r.totals) {
        for (k, row) in rows.iter().enumerate() {
            let s: u64 = ag.members.iter().map(|&i| r.units[i][k].end).sum();
            assert_eq!(row.end, s);
        }
    }
}

const TWO_YEARS: &str = "[projection]\nyears = [2018, 2019]\ntargets = [600, 500]\n";

#[test]
fn mixed_targets_split_by_remaining_headcount() {
    let (p, r) = run(TWO_YEARS, PLAN, None);
    assert_eq!(p.units.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["111", "112", "121"]);
    // 2018: 112 keeps its own 100; 500 left for 111 (1000) and 121 (300):
    // 384.6 → 385 (largest remainder), 115.4 → 115
    // 2019: 500 among 615, 400, 185 (sum 1200): 256.25, 166.67, 77.08 → 256, 167, 77
    assert_eq!(col(&r, |x| x.target), vec![vec![385, 256], vec![100, 167], vec![115, 77]]);
    assert_eq!(col(&r, |x| x.end), vec![vec![615, 359], vec![400, 233], vec![185, 108]]);
    assert_identity(&p, &r);
    // totals: province first in the output order, then city 11 with its units, then city 12
    assert_eq!(p.order.len(), 6);
    let prov = p.aggregates.iter().position(|a| a.unit == 0).unwrap();
    assert_eq!(r.totals[prov].iter().map(|x| x.target).collect::<Vec<_>>(), vec![600, 500]);
    assert_eq!(r.totals[prov].iter().map(|x| x.end).collect::<Vec<_>>(), vec![1200, 700]);
    assert_eq!(r.totals[prov][1].incidence, Decimal::from(700) / Decimal::from(25_000));
    // funds from the allocation: 4000 split 1:1:2
    assert_eq!(r.units[2][0].funds, Decimal::from(2000));
    assert_eq!(r.units[0][0].capacity, None);
}

#[test]
fn gate_is_strict_and_first_year_reported() {
    let (_, r) = run(TWO_YEARS, PLAN, None);
    // 2019 incidences: 359/10000, 233/10000, 108/5000 against 0.03
    assert_eq!(
        r.units
            .iter()
            .map(|rows| rows.iter().map(|x| x.eligible.unwrap()).collect())
            .collect::<Vec<Vec<bool>>>(),
        vec![vec![false, false], vec![false, true], vec![false, true]]
    );
    assert_eq!(r.first_eligible, vec![None, Some(2019), Some(2019)]);
    // exactly at the threshold is not under it: 300/10000 = 0.03
    let plan = "unit_id,filed_start,rural_pop,target_2018\n111,300,10000,0\n112,299,10000,0\n121,0,5000,0\n";
    let (_, r) = run("[projection]\nyears = [2018]\n", plan, None);
    assert_eq!(
        r.units.iter().map(|x| x[0].eligible.unwrap()).collect::<Vec<_>>(),
        vec![false, true, true]
    );
}

#[test]
fn thresholds_from_columns_and_western_flag() {
    let plan = "unit_id,filed_start,rural_pop,target_2018,western,exit_threshold\n111,250,10000,0,0,\n112,250,10000,0,1,\n121,250,10000,0,0,0.05\n";
    let (p, r) = run("[projection]\nyears = [2018]\n", plan, None);
    let thr: Vec<Decimal> = p.units.iter().map(|u| u.threshold.value).collect();
    assert_eq!(thr, vec![Decimal::new(2, 2), Decimal::new(3, 2), Decimal::new(5, 2)]);
    assert_eq!(
        r.units.iter().map(|x| x[0].eligible.unwrap()).collect::<Vec<_>>(),
        vec![false, true, true]
    );
}

#[test]
fn funds_cap_exits_and_shortfall_is_reported() {
    let (p, r) = run(&format!("{TWO_YEARS}cost_per_exit = \"10\"\n"), PLAN, None);
    // capacity = funds / 10 = 100, 100, 200
    assert_eq!(
        p.units.iter().map(|u| u.capacity[0]).collect::<Vec<_>>(),
        vec![Some(100), Some(100), Some(200)]
    );
    assert_eq!(col(&r, |x| x.exits)[0], vec![100, 100]);
    assert_eq!(r.units[0][0].shortfall, 285);
    assert_identity(&p, &r);
    // a cost mix: 60% at 20, 40% at 0 → 12 per exit → capacity ⌊1000/12⌋ = 83
    let mix = format!(
        "{TWO_YEARS}[projection.measures.industry]\nshare_of_exits = \"0.6\"\ncost_per_person = \"20\"\n[projection.measures.backstop]\nshare_of_exits = \"0.4\"\ncost_per_person = \"0\"\n"
    );
    let (p, _) = run(&mix, PLAN, None);
    assert_eq!(p.cost_per_exit, Some(Decimal::from(12)));
    assert_eq!(p.units[0].capacity[0], Some(83));
    // yearly growth of the funds
    let (p, _) = run(&format!("{TWO_YEARS}cost_per_exit = \"10\"\nfunds_growth = \"0.1\"\n"), PLAN, None);
    assert_eq!(p.units[0].funds, vec![Decimal::from(1000), Decimal::from(1100)]);
    assert_eq!(p.units[0].capacity, vec![Some(100), Some(110)]);
    // a year where the money runs short: the allocation re-run with each year's total
    let (p, r) = run(
        &format!("{TWO_YEARS}cost_per_exit = \"10\"\nfund_totals = [\"40000\", \"2000\"]\n"),
        PLAN,
        None,
    );
    assert_eq!(
        p.units.iter().map(|u| u.funds[1]).collect::<Vec<_>>(),
        vec![Decimal::from(500), Decimal::from(500), Decimal::from(1000)]
    );
    assert_eq!(col(&r, |x| x.exits), vec![vec![385, 50], vec![100, 50], vec![115, 77]]);
    assert_eq!(col(&r, |x| x.shortfall), vec![vec![0, 206], vec![0, 117], vec![0, 0]]);
    assert_identity(&p, &r);
    let s = scenario(&format!("{TWO_YEARS}fund_totals = [\"1\"]\nfunds_growth = \"0.1\"\n"), PLAN, None).unwrap();
    let e = prepare(&s).unwrap_err().to_string();
    assert!(e.contains("not both") && e.contains("1 fund totals for 2 years"), "{e}");
}

#[test]
fn unfunded_units_get_zero_or_no_cap() {
    // a city-level plan unit is funded with the sum over its counties; a unit outside the
    // allocation gets nothing
    let plan = "unit_id,filed_start,rural_pop\n11,100,10000\n12,100,10000\n";
    let (p, r) = run(
        "[projection]\nyears = [2018]\ntargets = [50]\ncost_per_exit = \"100\"\n",
        plan,
        None,
    );
    assert_eq!(p.units[0].funds[0], Decimal::from(2000));
    assert_eq!(r.units[0][0].capacity, Some(20));
    assert_eq!(r.units[0][0].exits, 20);
    // only flagged counties receive: 121 gets nothing, so capacity 0 …
    let base = BASE_TOML.replace("share = \"1\"", "share = \"1\"\n  eligible = \"flag\"");
    let proj = "[projection]\nyears = [2018]\ntargets = [600]\ncost_per_exit = \"10\"\n";
    let plan = "unit_id,filed_start,rural_pop\n111,1000,10000\n112,500,10000\n121,300,5000\n";
    let s = scenario_with(&base, proj, plan, None).unwrap();
    let p = prepare(&s).unwrap();
    assert_eq!(p.units[2].funds[0], Decimal::ZERO);
    assert!(!p.units[2].funded);
    assert_eq!(p.units[2].capacity[0], Some(0));
    let r = project(&p).unwrap();
    assert_eq!((r.units[2][0].target, r.units[2][0].exits, r.units[2][0].shortfall), (100, 0, 100));
    // … or, with unfunded = "uncapped", no cap
    let s = scenario_with(&base, &format!("{proj}unfunded = \"uncapped\"\n"), plan, None).unwrap();
    let p = prepare(&s).unwrap();
    assert_eq!(p.units[2].capacity[0], None);
    assert_eq!(p.units[0].capacity[0], Some(200));
    let r = project(&p).unwrap();
    assert_eq!(r.units[2][0].exits, 100);
}

#[test]
fn entries_and_returns_in_whole_people() {
    let proj = "[projection]\nyears = [2018, 2019]\ntargets = [0, 0]\nnew_entry_rate = \"0.015\"\nreturn_rate = \"0.5\"\n";
    let plan = "unit_id,filed_start,rural_pop,prev_exits,exited_pop\n111,1000,10000,3,10\n112,500,10000,1,10\n121,300,5000,0,0\n";
    let (p, r) = run(proj, plan, None);
    // 0.015 × (1000, 500, 300) = 15, 7.5, 4.5 → total 27 → 15, 8 (tie to the smaller id), 4
    assert_eq!(col(&r, |x| x.entries).iter().map(|v| v[0]).collect::<Vec<_>>(), vec![15, 8, 4]);
    // returns 0.5 × (3, 1, 0) = 1.5, 0.5 → total 2 → 2, 0 (larger remainder first... equal: by id)
    assert_eq!(col(&r, |x| x.returns).iter().map(|v| v[0]).collect::<Vec<_>>(), vec![2, 0, 0]);
    assert_identity(&p, &r);
}

#[test]
fn survey_gate_uses_comprehensive_incidence() {
    // 121 in 2019: end 108, exited 115 + 77 = 192, U = 5000 − 108 − 192 = 4700;
    // missed 1/100 → (108 + 47) / 5000 = 0.031 ≥ 0.03: not eligible
    let survey = "unit_id,indicator,sampled,flagged\n121,missed_assessment,100,1\n121,wrong_exit,100,0\n121,satisfaction,100,95\n112,missed_assessment,100,0\n112,wrong_exit,100,0\n";
    let (p, r) = run(TWO_YEARS, PLAN, Some(survey));
    assert!(p.survey_present);
    assert_eq!(r.units[2][1].comprehensive, Some(Decimal::new(31, 3)));
    assert_eq!(r.units[2][1].eligible, Some(false));
    // 112 lacks its satisfaction sample: a missing indicator is a veto
    assert_eq!(r.units[1][1].eligible, Some(false));
    // 111 has no survey rows: judged on incidence alone
    assert!(p.units[0].survey.is_none());
    // with a clean sample 121 passes
    let clean = "unit_id,indicator,sampled,flagged\n121,missed_assessment,100,0\n121,wrong_exit,100,0\n121,satisfaction,100,95\n";
    let (_, r) = run(TWO_YEARS, PLAN, Some(clean));
    assert_eq!(r.units[2][1].eligible, Some(true));
}

#[test]
fn bad_plans_report_every_problem_with_file_line_field() {
    let plan = "unit_id,filed_start,rural_pop,target_2019,target_2018\n111,-5,10000,,\n112,500,10000,600,\n999,1,10,,\n121,10.5,0,,\n";
    let s = scenario("[projection]\nyears = [2019, 2018]\ntargets = [1, 1]\n", plan, None).unwrap();
    let e = prepare(&s).unwrap_err();
    let msgs: Vec<String> = e.0.iter().map(|d| d.to_string()).collect();
    let has = |needle: &str, what: &str| {
        assert!(
            msgs.iter().any(|m| m.contains(needle) && m.contains(what)),
            "no `{needle}` … `{what}` in {msgs:#?}"
        )
    };
    has("plan.csv:2: field `filed_start`", "negative headcount");
    has("plan.csv:3: field `target_2019`", "larger than the headcount");
    has("plan.csv:4: field `unit_id`", "not in the units file");
    has("plan.csv:5: field `filed_start`", "whole number");
    has("plan.csv:5: field `rural_pop`", "positive");
    has("plan.csv:1: field `target_2018`", "out of order");
    has("scenario.toml:16: field `projection.years`", "out of order");
}

#[test]
fn province_target_inconsistencies_are_errors() {
    // own targets exceed the province target
    let plan = "unit_id,filed_start,rural_pop,target_2018\n111,1000,10000,700\n112,500,10000,\n121,300,5000,\n";
    let s = scenario("[projection]\nyears = [2018]\ntargets = [600]\n", plan, None).unwrap();
    let e = prepare(&s).unwrap_err().to_string();
    assert!(e.contains("projection.targets") && e.contains("smaller than the units' own"), "{e}");
    // a province target larger than the headcount
    let s = scenario(
        "[projection]\nyears = [2018]\ntargets = [5000]\n",
        PLAN.replace(",100\n", ",\n").as_str(),
        None,
    )
    .unwrap();
    let e = prepare(&s).unwrap_err().to_string();
    assert!(e.contains("larger than the headcount"), "{e}");
    // no target at all for a year
    let s = scenario("[projection]\nyears = [2018, 2019]\n", PLAN, None).unwrap();
    let e = prepare(&s).unwrap_err().to_string();
    assert!(e.contains("no target for 2018") && e.contains("no target for 2019"), "{e}");
    // a unit inside another plan unit
    let s = scenario(
        "[projection]\nyears = [2018]\ntargets = [0]\n",
        "unit_id,filed_start,rural_pop\n11,1,10\n111,1,10\n",
        None,
    )
    .unwrap();
    let e = prepare(&s).unwrap_err().to_string();
    assert!(e.contains("plan.csv:3") && e.contains("inside `11`"), "{e}");
}

#[test]
fn monte_carlo_without_randomness_equals_the_deterministic_run() {
    let (p, r) = run(TWO_YEARS, PLAN, None);
    let m = monte_carlo(&p, 20, 7).unwrap();
    for (i, rows) in r.units.iter().enumerate() {
        for (k, row) in rows.iter().enumerate() {
            let c = m.unit(i, k).unwrap();
            assert_eq!((c.end_p5, c.end_p50, c.end_p95), (row.end, row.end, row.end));
            assert_eq!(c.p_target_met, 1.0);
            assert_eq!(c.p_eligible, Some(if row.eligible.unwrap() { 1.0 } else { 0.0 }));
        }
    }
}

#[test]
fn monte_carlo_is_identical_for_any_thread_count() {
    let proj = "[projection]\nyears = [2018, 2019]\ntargets = [600, 500]\nnew_entry_rate = \"0.02\"\nreturn_rate = \"0.1\"\nexit_readiness = \"0.38\"\n";
    let (p, _) = run(proj, PLAN, None);
    let in_pool = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| monte_carlo(&p, 300, 42).unwrap())
    };
    let a = in_pool(1);
    let b = in_pool(2);
    let c = in_pool(3);
    assert_eq!(a, b);
    assert_eq!(a, c);
    // and randomness is there: the readiness draws make targets fail sometimes
    let cell = a.unit(0, 0).unwrap();
    assert!(cell.p_target_met > 0.0 && cell.p_target_met < 1.0, "{cell:?}");
    assert!(cell.end_p5 < cell.end_p95);
    // a different seed gives different draws
    assert_ne!(a, monte_carlo(&p, 300, 43).unwrap());
}

#[test]
fn mc_percentiles_are_nearest_rank() {
    // one unit, readiness 0.5 on 1 person: end is 0 or 1 with probability ½ each
    let plan = "unit_id,filed_start,rural_pop\n111,1,100\n";
    let (p, _) = run(
        "[projection]\nyears = [2018]\ntargets = [1]\nexit_readiness = \"0.5\"\n",
        plan,
        None,
    );
    let m = monte_carlo(&p, 2000, 1).unwrap();
    let c = m.unit(0, 0).unwrap();
    assert_eq!((c.end_p5, c.end_p95), (0, 1));
    assert!((c.p_target_met - 0.5).abs() < 0.05);
    assert!((c.p_cleared - c.p_target_met).abs() < 1e-12);
    assert!((c.end_mean - (1.0 - c.p_cleared)).abs() < 1e-12);
}

/// (per unit: filed_start, rural_pop − filed_start, own first-year target), province targets,
/// entry rate ‰, return rate ‰, cost per exit.
type ArbPlan = (Vec<(u64, u64, Option<u64>)>, Vec<u64>, u32, u32, u64);

fn arb_plan() -> impl Strategy<Value = ArbPlan> {
    (
        prop::collection::vec((0u64..5_000, 1u64..40_000, prop::option::of(0u64..2_000)), 3),
        prop::collection::vec(0u64..4_000, 1..5),
        0u32..200,
        0u32..1000,
        0u64..6_000,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    #[test]
    fn identity_holds_for_random_plans((rows, targets, entry, ret, cost) in arb_plan()) {
        let ids = ["111", "112", "121"];
        let years: Vec<String> = (0..targets.len()).map(|k| (2018 + k).to_string()).collect();
        let mut plan = String::from("unit_id,filed_start,rural_pop,target_2018\n");
        for (id, (start, rural, own)) in ids.iter().zip(&rows) {
            let own = own.map(|o| o.min(*start));
            plan.push_str(&format!("{id},{start},{},{}\n", rural + start, own.map(|o| o.to_string()).unwrap_or_default()));
        }
        let own0: u64 = rows.iter().filter_map(|r| r.2.map(|o| o.min(r.0))).sum();
        let sharing0: u64 = rows.iter().filter(|r| r.2.is_none()).map(|r| r.0).sum();
        let mut t: Vec<u64> = targets.clone();
        // first-year province target: own targets plus at most the sharing units' headcount
        t[0] = own0 + t[0].min(sharing0);
        let cost_line = if cost > 0 { format!("cost_per_exit = \"{cost}\"\n") } else { String::new() };
        let proj = format!(
            "[projection]\nyears = [{}]\ntargets = [{}]\nnew_entry_rate = \"{}\"\nreturn_rate = \"{}\"\n{cost_line}",
            years.join(", "),
            t.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", "),
            Decimal::new(i64::from(entry), 3),
            Decimal::new(i64::from(ret), 3),
        );
        let s = scenario(&proj, &plan, None).unwrap();
        let p = prepare(&s).unwrap();
        let r = project(&p).unwrap();
        assert_identity(&p, &r);
        // the split hands out the province target exactly whenever someone can take it
        let prov = p.aggregates.iter().position(|a| a.unit == 0).unwrap();
        for (k, row) in r.totals[prov].iter().enumerate() {
            prop_assert_eq!(row.target + r.unassigned[k], t[k]);
        }
    }
}
