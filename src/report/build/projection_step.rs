//! Step `projection` (when the scenario has `[projection]` and `plan.csv`): the yearly
//! exit-target projection of `fundsim project` (SPEC §4) → `projection.csv` (and
//! `projection_mc.csv` when `[projection] runs` > 0), the chart of the remaining headcount
//! against the target path (total row of the root, else the first total, else the first plan
//! unit), and, when `county_exits.csv` is present, planned vs actual county exits per year
//! (a count of counties) with its data as `county_exits.csv`.
//!
//! The target path of a year is what would remain if the year's target were met exactly:
//! `start + entries + returns − target` (floored at 0). The chart starts one year before the
//! first projected year at the filed headcount (`start` of the first year). The band is the
//! Monte Carlo 5th–95th percentile of the remaining headcount, only when `runs` > 0.

use super::fmt::{money, pct_dec};
use super::{ChartSpec, Ctx, SectionOut, StepOutput};
use crate::error::{InputErrors, Location};
use crate::output::OutTable;
use crate::project::{self, engine::ProjectError, table, YearRow};
use crate::report::charts::{Chart, Comparison, GroupedBarChart, GroupedRow, ProjectionChart, ProjectionPoint};
use crate::report::Lang;

/// Runs when the scenario has `[projection]` and a plan table.
pub(super) fn applies(ctx: &Ctx<'_>) -> Result<(), String> {
    let s = ctx.scenario;
    match (s.raw.projection.is_some(), s.tables.contains_key("plan")) {
        (true, true) => Ok(()),
        (false, _) => Err(ctx
            .tr("scenario.toml 中没有 [projection]", "scenario.toml has no [projection]")
            .into()),
        (true, false) => Err(ctx.tr("没有 plan.csv", "there is no plan.csv").into()),
    }
}

fn target_path(r: &YearRow) -> u64 {
    r.start.saturating_add(r.entries).saturating_add(r.returns).saturating_sub(r.target)
}

/// Projects, and draws the headline total against its target path.
pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<StepOutput, InputErrors> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let perr = |e: ProjectError| InputErrors::one(Location::file(&s.toml_file), e.to_string());
    let p = project::prepare(s)?;
    let r = project::project(&p).map_err(perr)?;
    let mut out = StepOutput::default();
    let t = table::projection_table(&p, &r, &s.hierarchy);
    // page table: total rows first, then the units
    let cols = [0usize, 13, 1, 2, 5, 6, 7, 8, 12];
    let pick = |row: &Vec<String>| -> Vec<String> {
        cols.iter()
            .map(|&c| row.get(c).cloned().unwrap_or_default())
            .enumerate()
            .map(|(k, v)| match k {
                3..=6 | 8 => v.parse::<rust_decimal::Decimal>().map(money).unwrap_or(v),
                7 => v.parse::<rust_decimal::Decimal>().map(|d| pct_dec(d, 2)).unwrap_or(v),
                _ => v,
            })
            .collect()
    };
    let is_total = |row: &Vec<String>| row.get(15).is_some_and(|k| k == "total");
    let mut rows: Vec<Vec<String>> = t.rows.iter().filter(|r| is_total(r)).map(pick).collect();
    rows.extend(t.rows.iter().filter(|r| !is_total(r)).map(pick));
    let header: Vec<String> = [
        ("单位代码", "Unit id"),
        ("单位", "Unit"),
        ("年份", "Year"),
        ("年初建档人数", "Start"),
        ("减贫目标", "Target"),
        ("脱贫人数", "Exits"),
        ("年末剩余", "End"),
        ("贫困发生率", "Incidence"),
        ("目标缺口", "Shortfall"),
    ]
    .iter()
    .map(|(z, e)| ctx.tr(z, e).to_string())
    .collect();

    // headline series
    let h = &s.hierarchy;
    let root_j = p.aggregates.iter().position(|a| a.unit == h.root());
    let (head_unit, head_rows, mc_total): (usize, &[YearRow], Option<usize>) =
        match root_j.or(if p.aggregates.is_empty() { None } else { Some(0) }) {
            Some(j) => (
                p.aggregates.get(j).map(|a| a.unit).unwrap_or_default(),
                r.totals.get(j).map(Vec::as_slice).unwrap_or_default(),
                Some(j),
            ),
            None => (
                p.units.first().map(|u| u.unit).unwrap_or_default(),
                r.units.first().map(Vec::as_slice).unwrap_or_default(),
                None,
            ),
        };
    let mc = if p.runs > 0 {
        let m = project::monte_carlo(&p, p.runs, p.seed).map_err(perr)?;
        out.tables.push(table::mc_table(&p, &m, &s.hierarchy));
        Some(m)
    } else {
        None
    };
    let mut points = Vec::new();
    if let (Some(first), Some(y0)) = (head_rows.first(), p.years.first()) {
        points.push(ProjectionPoint {
            year: i32::try_from(y0.saturating_sub(1)).unwrap_or_default(),
            remaining: Some(first.start as f64),
            target: Some(first.start as f64),
            band: None,
        });
    }
    for (k, (row, y)) in head_rows.iter().zip(&p.years).enumerate() {
        let cell = mc.as_ref().and_then(|m| match mc_total {
            Some(j) => m.total(j, k),
            None => m.unit(0, k),
        });
        points.push(ProjectionPoint {
            year: i32::try_from(*y).unwrap_or_default(),
            remaining: Some(row.end as f64),
            target: Some(target_path(row) as f64),
            band: cell.map(|c| (c.end_p5 as f64, c.end_p95 as f64)),
        });
    }
    let head_name = super::alloc_step::unit_name(s, head_unit);
    let (y0, y1) = (
        p.years.first().copied().unwrap_or_default(),
        p.years.last().copied().unwrap_or_default(),
    );
    let subtitle = match (lang, &mc) {
        (Lang::Zh, None) => format!("{head_name} · {y0}-{y1}年 · 确定性测算"),
        (Lang::En, None) => format!("{head_name} · {y0}-{y1} · deterministic projection"),
        (Lang::Zh, Some(m)) => format!(
            "{head_name} · {y0}-{y1}年 · 阴影为 {} 次模拟的 5%–95% 区间 (种子 {})",
            m.runs, m.seed
        ),
        (Lang::En, Some(m)) => format!("{head_name} · {y0}-{y1} · band: 5-95% of {} runs (seed {})", m.runs, m.seed),
    };
    let chart = ChartSpec {
        stem: "projection".into(),
        chart: Chart::Projection(ProjectionChart { points }),
        frame: ctx.frame(Some(subtitle)),
        caption: ctx
            .tr("剩余贫困人口与目标路径", "Remaining headcount against the target path")
            .to_string(),
    };

    let mut sec = SectionOut::new("projection", ctx.tr("减贫目标测算", "Exit-target projection"));
    let last = head_rows.last();
    let short_years: u64 = r.units.iter().flatten().filter(|x| x.shortfall > 0).count() as u64;
    sec.para(match lang {
        Lang::Zh => format!(
            "{y0}–{y1}年共 {} 个计划单位、{} 个合计行。{head_name}年末剩余 {} 人（{y1}年）；{} 个单位年度未完成目标。",
            p.units.len(),
            p.aggregates.len(),
            last.map(|x| money(x.end.into())).unwrap_or_default(),
            short_years
        ),
        Lang::En => format!(
            "{y0}–{y1}: {} plan units, {} total rows. {head_name}: {} remaining at the end of {y1}; {} unit-years short of target.",
            p.units.len(),
            p.aggregates.len(),
            last.map(|x| money(x.end.into())).unwrap_or_default(),
            short_years
        ),
    });
    sec.table(header, rows, Some("projection.csv"));
    sec.chart(&chart.stem);
    out.charts.push(chart);
    out.highlights.push(match (lang, short_years) {
        (Lang::Zh, 0) => format!(
            "减贫测算：各单位各年度均完成减贫目标，{y1}年末{head_name}剩余 {} 人。",
            last.map(|x| money(x.end.into())).unwrap_or_default()
        ),
        (Lang::En, 0) => format!(
            "Projection: every unit meets every yearly target; {head_name} has {} left at the end of {y1}.",
            last.map(|x| money(x.end.into())).unwrap_or_default()
        ),
        (Lang::Zh, n) => format!("减贫测算：{n} 个单位年度未完成减贫目标（见 projection.csv）。"),
        (Lang::En, n) => format!("Projection: {n} unit-years fall short of their exit target (see projection.csv)."),
    });
    let mut links = vec![("projection.csv".to_string(), "projection.csv".to_string())];
    if mc.is_some() {
        links.push(("projection_mc.csv".into(), "projection_mc.csv".into()));
    }
    out.tables.insert(0, t);

    if let Some(ct) = s.tables.get("county_exits") {
        // the warnings (rows out of year order) were shown by `validate`; the chart is drawn
        // in year order either way
        let (rows, _) = project::read_county_exits(ct)?;
        let grows: Vec<GroupedRow> = rows
            .iter()
            .map(|r| GroupedRow {
                label: r.year.to_string(),
                first: r.planned as f64,
                second: r.actual as f64,
            })
            .collect();
        let (planned, actual): (u64, u64) = rows
            .iter()
            .fold((0, 0), |a, r| (a.0.saturating_add(r.planned), a.1.saturating_add(r.actual)));
        let chart = ChartSpec {
            stem: "planned-vs-actual-exits".into(),
            chart: Chart::Grouped(GroupedBarChart {
                kind: Comparison::PlannedVsActualCountyExits,
                rows: grows,
            }),
            frame: {
                let mut f = ctx.frame(Some(ct.file.clone()));
                f.title = Some(ctx.tr("计划与实际摘帽县数", "Planned and actual county exits").to_string());
                f
            },
            caption: ctx
                .tr("各年计划与实际脱贫摘帽县数", "Planned and actual county exits per year")
                .to_string(),
        };
        sec.para(match lang {
            Lang::Zh => format!("{}：计划摘帽 {planned} 个县，实际摘帽 {actual} 个县。", ct.file),
            Lang::En => format!("{}: {planned} county exits planned, {actual} actual.", ct.file),
        });
        sec.chart(&chart.stem);
        out.charts.push(chart);
        // the chart's data as a table of the report (CSV and workbook sheet), as read
        let headers: Vec<&str> = ct.headers.iter().map(String::as_str).collect();
        let mut table = OutTable::new("county_exits.csv", &headers);
        table.rows = ct
            .rows
            .iter()
            .map(|r| r.cells.iter().map(|c| c.trim().to_string()).collect())
            .collect();
        out.tables.push(table);
        links.push(("county_exits.csv".into(), "county_exits.csv".into()));
    }
    sec.links(links);
    out.sections.push(sec);
    Ok(out)
}
