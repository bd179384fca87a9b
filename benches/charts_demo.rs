//! Renders one sample of every chart kind for 86 made-up Gansu counties, as PNG and SVG, plus
//! an `index.html` showing them, and prints how long rendering took.
//!
//! `cargo bench --bench charts_demo [-- OUT_DIR [en]]` (default `/tmp/charts-demo`).

use std::time::Instant;

use fundsim::report::charts::{
    ChangeChart, ChangePart, ChangeRow, Chart, ChartFrame, Comparison, ContributionChart, GroupedBarChart, GroupedRow, Indicator,
    PovertyClass, ProjectionChart, ProjectionPoint, RateChart, RateRow, ScatterChart, ScatterPoint, UnitContribution, WaterfallChart,
    WeightRangeChart, WeightRangeRow,
};
use fundsim::report::html::{Page, Table};
use fundsim::report::Lang;

const COUNTIES: &str = "永登县 皋兰县 榆中县 会宁县 靖远县 景泰县 清水县 秦安县 甘谷县 武山县 \
张家川回族自治县 麦积区 秦州区 古浪县 天祝藏族自治县 民勤县 凉州区 庄浪县 静宁县 泾川县 灵台县 \
崇信县 华亭县 崆峒区 环县 华池县 合水县 正宁县 宁县 镇原县 庆城县 西峰区 安定区 通渭县 陇西县 \
渭源县 临洮县 漳县 岷县 武都区 文县 宕昌县 康县 西和县 礼县 两当县 徽县 成县 临夏市 临夏县 康乐县 \
永靖县 广河县 和政县 东乡族自治县 积石山保安族东乡族撒拉族自治县 合作市 临潭县 卓尼县 舟曲县 \
迭部县 玛曲县 碌曲县 夏河县 甘州区 肃南裕固族自治县 民乐县 临泽县 高台县 山丹县 肃州区 金塔县 \
瓜州县 肃北蒙古族自治县 阿克塞哈萨克族自治县 玉门市 敦煌市 永昌县 金川区 白银区 平川区 嘉峪关市 \
城关区 七里河区 西固区 安宁区";

const DEEP: &str = "东乡族自治县 积石山保安族东乡族撒拉族自治县 临夏县 康乐县 广河县 和政县 岷县 通渭县 \
渭源县 宕昌县 礼县 西和县 舟曲县 临潭县 卓尼县 夏河县 环县 镇原县 会宁县 古浪县 张家川回族自治县 \
秦安县 庄浪县";

const POOR: &str = "永登县 榆中县 靖远县 景泰县 清水县 甘谷县 武山县 麦积区 天祝藏族自治县 静宁县 泾川县 \
灵台县 华池县 合水县 正宁县 宁县 安定区 陇西县 临洮县 漳县 武都区 文县 康县 两当县 徽县 永靖县 \
迭部县 玛曲县 碌曲县 合作市 临夏市 秦州区 崆峒区 庆城县 民勤县";

/// Small deterministic generator (64-bit LCG) so the demo needs no RNG crate.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn charts() -> Vec<Chart> {
    let names: Vec<&str> = COUNTIES.split_whitespace().take(86).collect();
    let mut rng = Lcg(2018);
    let class = |n: &str| {
        if DEEP.split_whitespace().any(|d| d == n) {
            PovertyClass::DeepPoverty
        } else if POOR.split_whitespace().any(|d| d == n) {
            PovertyClass::Poverty
        } else {
            PovertyClass::Other
        }
    };
    let factors = ["贫困人口规模", "贫困发生率", "农民人均收入", "财力状况", "绩效考评"];
    let mut units = Vec::new();
    let mut scatter = Vec::new();
    let mut formula = Vec::new();
    let mut changes = Vec::new();
    let mut rates = Vec::new();
    for n in &names {
        let c = class(n);
        let boost = match c {
            PovertyClass::DeepPoverty => 3.0,
            PovertyClass::Poverty => 1.8,
            PovertyClass::Other => 0.6,
        };
        let poor = 8_000.0 + 60_000.0 * rng.next() * boost;
        let parts: Vec<f64> = [0.4, 0.2, 0.15, 0.15, 0.1]
            .iter()
            .map(|w| w * poor * (900.0 + 500.0 * rng.next()))
            .collect();
        let total: f64 = parts.iter().sum();
        units.push(UnitContribution {
            name: n.to_string(),
            parts,
        });
        let incidence = (0.01 + 0.08 * boost * rng.next()).min(0.45);
        scatter.push(ScatterPoint {
            name: n.to_string(),
            incidence,
            per_capita: total / (poor / incidence.max(0.01)) * (0.8 + 0.4 * rng.next()),
            class: c,
            label: false,
        });
        formula.push(GroupedRow {
            label: n.to_string(),
            first: total,
            second: total * (0.85 + 0.3 * rng.next()),
        });
        changes.push(ChangeRow {
            name: n.to_string(),
            change: total * (rng.next() - 0.5) * 0.2,
        });
        let r = 0.03 * rng.next() * rng.next();
        let half = 0.006 + 0.01 * rng.next();
        rates.push(RateRow {
            name: n.to_string(),
            rate: r,
            low: (r - half).max(0.0),
            high: r + half,
        });
    }
    // label the three highest-incidence points
    let mut idx: Vec<usize> = (0..scatter.len()).collect();
    idx.sort_by(|a, b| scatter[*b].incidence.total_cmp(&scatter[*a].incidence));
    for i in idx.into_iter().take(3) {
        scatter[i].label = true;
    }
    units.sort_by(|a, b| {
        let s = |u: &UnitContribution| u.parts.iter().sum::<f64>();
        s(b).total_cmp(&s(a))
    });
    let projection = (2015..=2020)
        .map(|y| {
            let k = f64::from(y - 2015);
            ProjectionPoint {
                year: y,
                remaining: Some(2_270_000.0 * (1.0 - k / 5.0).powf(0.8).max(0.0) + 20_000.0),
                target: Some(2_270_000.0 * (1.0 - k / 5.0)),
                band: (y >= 2018).then(|| {
                    let m = 2_270_000.0 * (1.0 - k / 5.0).powf(0.8).max(0.0) + 20_000.0;
                    (m * 0.85, m * 1.12 + 15_000.0)
                }),
            }
        })
        .collect();
    vec![
        Chart::Contributions(ContributionChart {
            factors: factors.iter().map(|s| s.to_string()).collect(),
            units,
        }),
        Chart::Scatter(ScatterChart { points: scatter }),
        Chart::Projection(ProjectionChart { points: projection }),
        Chart::Grouped(GroupedBarChart {
            kind: Comparison::PlannedVsActualExits,
            rows: [
                (2016, 672_000.0, 690_000.0),
                (2017, 670_000.0, 671_000.0),
                (2018, 775_000.0, 770_000.0),
                (2019, 650_000.0, 655_000.0),
                (2020, 175_000.0, 175_000.0),
            ]
            .iter()
            .map(|(y, a, b)| GroupedRow {
                label: y.to_string(),
                first: *a,
                second: *b,
            })
            .collect(),
        }),
        Chart::Grouped(GroupedBarChart {
            kind: Comparison::FormulaVsActual,
            rows: formula,
        }),
        Chart::Rates(RateChart {
            indicator: Indicator::MissedIdentification,
            threshold: 0.02,
            confidence: 0.95,
            rows: rates,
        }),
        Chart::WeightRanges(WeightRangeChart {
            rows: vec![
                WeightRangeRow {
                    factor: "贫困人口规模".into(),
                    min: 0.30,
                    max: 0.50,
                    stated: Some(0.40),
                    inferred: Some(0.452),
                },
                WeightRangeRow {
                    factor: "贫困发生率".into(),
                    min: 0.15,
                    max: 0.30,
                    stated: Some(0.20),
                    inferred: Some(0.171),
                },
                WeightRangeRow {
                    factor: "农民人均收入".into(),
                    min: 0.10,
                    max: 0.20,
                    stated: Some(0.15),
                    inferred: Some(0.12),
                },
                WeightRangeRow {
                    factor: "财力状况".into(),
                    min: 0.05,
                    max: 0.12,
                    stated: Some(0.15),
                    inferred: Some(0.137),
                },
                WeightRangeRow {
                    factor: "绩效考评".into(),
                    min: 0.10,
                    max: 0.10,
                    stated: Some(0.10),
                    inferred: None,
                },
            ],
        }),
        Chart::Changes(ChangeChart { rows: changes }),
        Chart::Waterfall(WaterfallChart {
            subject: "东乡族自治县".into(),
            baseline: Some(186_400_000.0),
            parts: vec![
                (ChangePart::Data, 7_350_000.0),
                (ChangePart::Weights, -4_120_000.0),
                (ChangePart::FloorsCaps, 1_500_000.0),
            ],
        }),
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "/tmp/charts-demo".to_string());
    let lang = match args.next().as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    };
    std::fs::create_dir_all(&out)?;
    let mut frame = ChartFrame::new(lang, "fundsim 演示数据 (虚构), gansu-demo 方案");
    frame.subtitle = Some(match lang {
        Lang::Zh => "甘肃省 86 个县 (市、区), 2018 年".to_string(),
        Lang::En => "Gansu, 86 counties, 2018".to_string(),
    });
    let charts = charts();
    fundsim::report::font::ensure_fonts()?;
    let t0 = Instant::now();
    let mut rendered = Vec::new();
    for c in &charts {
        let t = Instant::now();
        let png = c.render_png(&frame)?;
        let svg = c.render_svg(&frame)?;
        let size = c.size(&frame)?;
        eprintln!(
            "{:<18} {:>4}x{:<5} png {:>7} B  svg {:>7} B  {:>6.1} ms",
            c.kind(),
            size.0,
            size.1,
            png.len(),
            svg.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        rendered.push((c.kind(), c.title(lang), png, svg));
    }
    let elapsed = t0.elapsed();
    let mut page = Page::new(lang, "fundsim 图表演示");
    page.subtitle("虚构数据 — 仅用于检查图表排版");
    for (kind, title, png, svg) in &rendered {
        std::fs::write(format!("{out}/{kind}.png"), png)?;
        std::fs::write(format!("{out}/{kind}.svg"), svg)?;
        page.section(kind, title.clone()).svg(title.clone(), svg)?;
    }
    page.section("table", "表格示例").table(Table {
        caption: Some("示例表".into()),
        header: vec!["单位".into(), "分配额 (元)".into()],
        rows: vec![
            vec!["<script>alert(1)</script>".into(), "1,234,567.89".into()],
            vec!["=HYPERLINK(\"x\")".into(), "-12".into()],
        ],
    });
    std::fs::write(format!("{out}/index.html"), page.render())?;
    println!(
        "rendered {} charts (PNG + SVG) in {:.1} ms; wrote {out}",
        rendered.len(),
        elapsed.as_secs_f64() * 1e3
    );
    Ok(())
}
