#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use crate::report::font::FAMILY;
use crate::report::html::Page;
use plotters::style::{FontDesc, FontFamily, FontStyle, IntoFont, BLACK};

const NAMES: [&str; 8] = [
    "东乡族自治县",
    "积石山保安族东乡族撒拉族自治县",
    "临夏县",
    "岷县",
    "通渭县",
    "会宁县",
    "舟曲县",
    "宕昌县",
];

fn name(i: usize) -> String {
    format!(
        "{}{}",
        NAMES[i % NAMES.len()],
        if i >= NAMES.len() { i.to_string() } else { String::new() }
    )
}

fn frame() -> ChartFrame {
    let mut f = ChartFrame::new(Lang::Zh, "测试数据 (fundsim 单元测试)");
    f.subtitle = Some("甘肃省 2018".into());
    f
}

/// One chart of every kind with `n` units.
fn all_charts(n: usize) -> Vec<Chart> {
    let f = |i: usize| i as f64;
    vec![
        Chart::Contributions(ContributionChart {
            factors: vec!["贫困人口".into(), "贫困发生率".into(), "人均收入".into()],
            units: (0..n)
                .map(|i| UnitContribution {
                    name: name(i),
                    parts: vec![1e6 + 1e5 * f(i), 5e5, 2e5 + 3e4 * f(i % 7)],
                })
                .collect(),
        }),
        Chart::Scatter(ScatterChart {
            points: (0..n)
                .map(|i| ScatterPoint {
                    name: name(i),
                    incidence: 0.02 + 0.003 * f(i),
                    per_capita: 800.0 + 13.0 * f(i * 7 % n.max(1)),
                    class: match i % 3 {
                        0 => PovertyClass::Other,
                        1 => PovertyClass::Poverty,
                        _ => PovertyClass::DeepPoverty,
                    },
                    label: i == 0,
                })
                .collect(),
        }),
        Chart::Projection(ProjectionChart {
            points: (2016..=2020)
                .map(|y| {
                    let k = f64::from(y - 2016);
                    ProjectionPoint {
                        year: y,
                        remaining: Some(2.3e6 - 4.5e5 * k),
                        target: Some(2.3e6 - 5.75e5 * k),
                        band: (y > 2017).then_some((2.1e6 - 4.8e5 * k, 2.4e6 - 4.2e5 * k)),
                    }
                })
                .collect(),
        }),
        Chart::Grouped(GroupedBarChart {
            kind: Comparison::PlannedVsActualExits,
            rows: (2016..=2020)
                .map(|y| GroupedRow {
                    label: y.to_string(),
                    first: 5e5,
                    second: 4.6e5 + 1e4 * f64::from(y - 2016),
                })
                .collect(),
        }),
        Chart::Grouped(GroupedBarChart {
            kind: Comparison::FormulaVsActual,
            rows: (0..n)
                .map(|i| GroupedRow {
                    label: name(i),
                    first: 2e6 + 1e5 * f(i),
                    second: 2.1e6 + 9e4 * f(i),
                })
                .collect(),
        }),
        Chart::Rates(RateChart {
            indicator: Indicator::MissedIdentification,
            threshold: 0.02,
            confidence: 0.95,
            rows: (0..n)
                .map(|i| {
                    let r = 0.004 * f(i % 9);
                    RateRow {
                        name: name(i),
                        rate: r,
                        low: (r - 0.01).max(0.0),
                        high: r + 0.012,
                    }
                })
                .collect(),
        }),
        Chart::WeightRanges(WeightRangeChart {
            rows: vec![
                WeightRangeRow {
                    factor: "贫困人口".into(),
                    min: 0.3,
                    max: 0.5,
                    stated: Some(0.4),
                    inferred: Some(0.43),
                },
                WeightRangeRow {
                    factor: "贫困发生率".into(),
                    min: 0.1,
                    max: 0.3,
                    stated: Some(0.35),
                    inferred: None,
                },
            ],
        }),
        Chart::Changes(ChangeChart {
            rows: (0..n)
                .map(|i| ChangeRow {
                    name: name(i),
                    change: (f(i) - f(n) / 2.0) * 37_000.0,
                })
                .collect(),
        }),
        Chart::Waterfall(WaterfallChart {
            subject: "东乡族自治县".into(),
            baseline: Some(3.2e7),
            parts: vec![
                (ChangePart::Data, 1.2e6),
                (ChangePart::Weights, -4.5e5),
                (ChangePart::FloorsCaps, 2e5),
            ],
        }),
        Chart::Grouped(GroupedBarChart {
            kind: Comparison::PlannedVsActualCountyExits,
            rows: (2017..=2020)
                .map(|y| GroupedRow {
                    label: y.to_string(),
                    first: 18.0,
                    second: f64::from(y - 2010),
                })
                .collect(),
        }),
        Chart::Bands(BandChart {
            rows: (0..n)
                .map(|i| BandRow {
                    name: name(i),
                    amount: 9e7 - 1e6 * f(i),
                    p05: 8.5e7 - 1e6 * f(i),
                    p50: 9e7 - 1e6 * f(i),
                    p95: 9.4e7 - 1e6 * f(i),
                })
                .collect(),
        }),
    ]
}

fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Pixels in the central box (middle half in x, middle 60% in y) that are coloured
/// (channels differ by more than 40), i.e. data marks rather than text or grid.
fn coloured_pixels_in_centre(w: u32, h: u32, rgb: &[u8]) -> usize {
    let (w, h) = (w as usize, h as usize);
    let mut n = 0;
    for y in h * 2 / 10..h * 8 / 10 {
        for x in w / 4..w * 3 / 4 {
            let p = &rgb[(y * w + x) * 3..(y * w + x) * 3 + 3];
            let (mx, mn) = (p.iter().max().unwrap(), p.iter().min().unwrap());
            if mx - mn > 40 {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn every_chart_renders_a_decodable_non_blank_png() {
    for chart in all_charts(20) {
        let f = frame();
        let png = chart.render_png(&f).unwrap();
        let (w, h, rgb) = decode(&png);
        assert_eq!((w, h), chart.size(&f).unwrap(), "{}", chart.kind());
        let coloured = coloured_pixels_in_centre(w, h, &rgb);
        assert!(coloured > 500, "{}: only {coloured} coloured pixels", chart.kind());
    }
}

#[test]
fn every_chart_renders_svg_with_the_fallback_family_and_names() {
    for chart in all_charts(12) {
        let svg = chart.render_svg(&frame()).unwrap();
        assert!(svg.starts_with("<svg"), "{}", chart.kind());
        assert!(svg.contains(&format!("font-family=\"{FAMILY}\"")), "{}", chart.kind());
        assert!(!svg.contains("font-family=\"sans-serif\""), "{}", chart.kind());
        assert!(svg.contains("数据来源: 测试数据"), "{}", chart.kind());
    }
}

#[test]
fn english_frame_uses_english_fixed_text() {
    let charts = all_charts(5);
    let svg = charts[0].render_svg(&ChartFrame::new(Lang::En, "test")).unwrap();
    assert!(svg.contains("Allocation by unit"));
    assert!(svg.contains("Source: test"));
    assert!(svg.contains("Amount (million yuan)") || svg.contains("Amount (thousand yuan)"));
}

/// `text` drawn at size 40 into a white 64×64 image, by plotters' own text drawing
/// (`plotters_text`) or by the chart painter's rasteriser.
fn render_text(text: &str, plotters_text: bool) -> Vec<u8> {
    crate::report::font::ensure_fonts().unwrap();
    let (w, h) = (64u32, 64u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    let painter = paint::Painter::new(paint::Mode::Raster);
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        if plotters_text {
            let font: FontDesc = FontDesc::new(FontFamily::Name(FAMILY), 40.0, FontStyle::Normal);
            root.draw_text(text, &font.into_font().color(&BLACK), (8, 8)).unwrap();
        } else {
            use plotters::style::text_anchor::{HPos, VPos};
            let black = plotters::style::RGBColor(0, 0, 0);
            painter.text(&root, text, (8, 8), 40.0, black, HPos::Left, VPos::Top).unwrap();
        }
        root.present().unwrap();
    }
    painter.composite(&mut buf, w, h).unwrap();
    buf
}

#[test]
fn chinese_text_renders_as_glyphs_not_boxes() {
    for plotters_text in [false, true] {
        let dong = render_text("东", plotters_text);
        let xiang = render_text("乡", plotters_text);
        let missing = render_text("\u{E000}", plotters_text); // private use: draws .notdef
        let ink = |b: &[u8]| b.iter().filter(|v| **v < 128).count();
        assert!(ink(&dong) > 100, "东 drew {} dark samples", ink(&dong));
        assert!(ink(&xiang) > 100);
        assert_ne!(dong, xiang);
        assert_ne!(dong, missing);
        assert_ne!(xiang, missing);
    }
    // Every family name plotters may be asked for resolves to the bundled font.
    for fam in crate::report::font::REGISTERED_FAMILIES {
        let f = FontDesc::new(FontFamily::Name(fam), 20.0, FontStyle::Normal);
        assert!(f.box_size("东乡").unwrap().0 > 20, "{fam}");
    }
}

#[test]
fn measured_width_includes_advances() {
    let one = paint::text_width("县", 20.0);
    assert!(one > 10 && one < 20, "{one}");
    let three = paint::text_width("县县县", 20.0);
    assert!(three.abs_diff(one * 3) <= 2, "{three} vs 3 × {one}");
}

#[test]
fn empty_charts_say_no_data() {
    let empty = vec![
        Chart::Contributions(ContributionChart {
            factors: vec![],
            units: vec![],
        }),
        Chart::Scatter(ScatterChart { points: vec![] }),
        Chart::Projection(ProjectionChart { points: vec![] }),
        Chart::Grouped(GroupedBarChart {
            kind: Comparison::FormulaVsActual,
            rows: vec![],
        }),
        Chart::Rates(RateChart {
            indicator: Indicator::Recognition,
            threshold: 0.9,
            confidence: 0.95,
            rows: vec![],
        }),
        Chart::WeightRanges(WeightRangeChart { rows: vec![] }),
        Chart::Changes(ChangeChart { rows: vec![] }),
        Chart::Waterfall(WaterfallChart {
            subject: "x".into(),
            baseline: None,
            parts: vec![],
        }),
        Chart::Bands(BandChart { rows: vec![] }),
    ];
    for c in empty {
        let svg = c.render_svg(&frame()).unwrap();
        assert!(svg.contains("无数据"), "{}", c.kind());
        decode(&c.render_png(&frame()).unwrap());
    }
}

#[test]
fn bad_values_are_errors_not_panics() {
    let c = Chart::Changes(ChangeChart {
        rows: vec![ChangeRow {
            name: "a".into(),
            change: f64::NAN,
        }],
    });
    assert!(matches!(c.render_png(&frame()), Err(ReportError::NonFinite { .. })));
    let c = Chart::Contributions(ContributionChart {
        factors: vec!["x".into(), "y".into()],
        units: vec![UnitContribution {
            name: "a".into(),
            parts: vec![1.0],
        }],
    });
    assert!(matches!(c.render_svg(&frame()), Err(ReportError::Shape { .. })));
    let c = Chart::Changes(ChangeChart {
        rows: (0..1000)
            .map(|i| ChangeRow {
                name: name(i),
                change: 1.0,
            })
            .collect(),
    });
    assert!(matches!(c.render_png(&frame()), Err(ReportError::TooLarge { .. })));
    // degenerate but finite data still render
    let c = Chart::Scatter(ScatterChart {
        points: vec![ScatterPoint {
            name: "a".into(),
            incidence: 0.0,
            per_capita: 0.0,
            class: PovertyClass::Other,
            label: true,
        }],
    });
    decode(&c.render_png(&frame()).unwrap());
    let c = Chart::Rates(RateChart {
        indicator: Indicator::WrongExit,
        threshold: 0.02,
        confidence: 0.95,
        rows: vec![RateRow {
            name: "a".into(),
            rate: 0.5,
            low: 0.9,
            high: 0.1,
        }],
    });
    decode(&c.render_png(&frame()).unwrap());
}

#[test]
fn bands_and_county_exits_have_their_own_units_and_checks() {
    let c = Chart::Bands(BandChart {
        rows: vec![BandRow {
            name: "a".into(),
            amount: 1e6,
            p05: f64::INFINITY,
            p50: 1e6,
            p95: 1e6,
        }],
    });
    assert!(matches!(c.render_svg(&frame()), Err(ReportError::NonFinite { .. })));
    let charts = all_charts(5);
    let bands = charts.iter().find(|c| c.kind() == "bands").unwrap();
    let svg = bands.render_svg(&frame()).unwrap();
    assert!(
        svg.contains("分配额的不确定性") && svg.contains("分配额 (万元)") && svg.contains("公布金额"),
        "{svg}"
    );
    let en = bands.render_svg(&ChartFrame::new(Lang::En, "t")).unwrap();
    assert!(en.contains("Amount (million yuan)") && en.contains("Median") && en.contains("Published amount"));
    let exits = charts
        .iter()
        .find(|c| matches!(c, Chart::Grouped(g) if g.kind == Comparison::PlannedVsActualCountyExits))
        .unwrap();
    let svg = exits.render_svg(&frame()).unwrap();
    assert!(svg.contains("摘帽县数 (个)") && svg.contains("计划与实际摘帽县数"), "{svg}");
    assert!(!svg.contains("(人)"), "counties are not persons");
    let en = exits.render_svg(&ChartFrame::new(Lang::En, "t")).unwrap();
    assert!(en.contains("County exits (counties)"), "{en}");
}

#[test]
fn hostile_unit_name_is_inert_in_svg_and_page() {
    let chart = Chart::Changes(ChangeChart {
        rows: vec![
            ChangeRow {
                name: "<script>alert(1)</script>".into(),
                change: 5.0,
            },
            ChangeRow {
                name: "=HYPERLINK(\"x\")".into(),
                change: -5.0,
            },
        ],
    });
    let svg = chart.render_svg(&frame()).unwrap();
    assert!(!svg.contains("<script"));
    let mut page = Page::new(Lang::Zh, "报告");
    page.section("changes", "方案比较").svg("变化", &svg).unwrap();
    let html = page.render();
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn rate_verdicts_follow_spec() {
    let c = RateChart {
        indicator: Indicator::WrongExit,
        threshold: 0.02,
        confidence: 0.95,
        rows: vec![],
    };
    let row = |low, high| RateRow {
        name: String::new(),
        rate: low,
        low,
        high,
    };
    assert_eq!(c.verdict(&row(0.0, 0.019)), RateVerdict::Pass);
    assert_eq!(c.verdict(&row(0.0, 0.02)), RateVerdict::Inconclusive);
    assert_eq!(c.verdict(&row(0.02, 0.05)), RateVerdict::Fail);
    let c = RateChart {
        indicator: Indicator::Recognition,
        threshold: 0.9,
        ..c
    };
    assert_eq!(c.verdict(&row(0.91, 0.99)), RateVerdict::Pass);
    assert_eq!(c.verdict(&row(0.9, 0.99)), RateVerdict::Inconclusive);
    assert_eq!(c.verdict(&row(0.8, 0.9)), RateVerdict::Fail);
}
