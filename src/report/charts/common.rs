//! Layout pieces shared by all charts: fonts and colours, the header (title, subtitle,
//! legend), the source line, and builders for row charts (one horizontal band per unit) and
//! column charts (a few categories along x).

use std::ops::Range;

use plotters::backend::DrawingBackend;
use plotters::chart::{ChartBuilder, ChartContext};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, PathElement, Rectangle, TriangleMarker};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{Color, RGBColor, ShapeStyle, WHITE};

pub(super) use super::paint::text_width;
use super::paint::Painter;
use super::{ChartFrame, WIDTH};
use crate::report::format::format_number;
use crate::report::text::{Lang, Txt};
use crate::report::ReportError;

/// Title font size (px in PNG).
pub(super) const TITLE: f64 = 32.0;
pub(super) const SUBTITLE: f64 = 22.0;
pub(super) const AXIS_DESC: f64 = 22.0;
pub(super) const TICK: f64 = 20.0;
pub(super) const ROW_LABEL: f64 = 20.0;
pub(super) const LEGEND: f64 = 20.0;
pub(super) const SOURCE: f64 = 18.0;
pub(super) const VALUE: f64 = 18.0;

/// Plot body height of the fixed-size charts.
pub(super) const FIXED_BODY: u32 = 600;
/// Height reserved for the source line.
pub(super) const FOOTER: u32 = 44;
/// Height of one unit's band in row charts.
pub(super) const ROW_H: u32 = 26;
/// Row charts with more rows than this repeat the value axis at the top.
const TOP_AXIS_FROM: usize = 25;
const BOTTOM_AXIS: u32 = 88;
const TOP_AXIS: u32 = 72;
/// Longest unit label (px) before it is cut with "…".
const MAX_ROW_LABEL: u32 = 330;

pub(super) const TEXT: RGBColor = RGBColor(33, 33, 33);
pub(super) const MUTED: RGBColor = RGBColor(100, 100, 100);
pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(super) const ZEBRA: RGBColor = RGBColor(246, 246, 246);
pub(super) const BLUE: RGBColor = RGBColor(0x4E, 0x79, 0xA7);
pub(super) const ORANGE: RGBColor = RGBColor(0xF2, 0x8E, 0x2B);
pub(super) const RED: RGBColor = RGBColor(0xD6, 0x27, 0x28);
pub(super) const GREY: RGBColor = RGBColor(0x8C, 0x8C, 0x8C);
pub(super) const DARK: RGBColor = RGBColor(0x3B, 0x3B, 0x3B);

/// Ten colours for factors (Tableau 10), cycled when there are more.
pub(super) const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// Colour `i` of [`PALETTE`], cycling.
pub(super) fn palette(i: usize) -> RGBColor {
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or(BLUE)
}

/// Maps a plotters error to [`ReportError::Draw`].
pub(super) fn de<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Draw(e.to_string())
}

/// `text` cut with "…" to fit `max_w` px at `size`.
pub(super) fn fit_text(text: &str, size: f64, max_w: u32) -> String {
    if text_width(text, size) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 0 {
        n -= 1;
        let s: String = chars.iter().take(n).chain(std::iter::once(&'…')).collect();
        if text_width(&s, size) <= max_w {
            return s;
        }
    }
    "…".to_string()
}

/// The largest size in `min..=start` (steps of 1) at which `text` fits `max_w`.
pub(super) fn fit_size(text: &str, start: f64, min: f64, max_w: u32) -> f64 {
    let mut s = start;
    while s > min && text_width(text, s) > max_w {
        s -= 1.0;
    }
    s
}

/// Line height in px of text at plotters size `size` (1.2 em).
pub(super) fn line_h(size: f64) -> i32 {
    (size / 1.24 * 1.2).ceil() as i32
}

/// Checks that `v` is finite.
pub(super) fn finite(chart: &'static str, field: &str, row: &str, v: f64) -> Result<(), ReportError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ReportError::NonFinite {
            chart,
            field: field.to_string(),
            row: row.to_string(),
            value: v,
        })
    }
}

/// `[lo, hi]` widened by `pad` of its span on each side (0 kept as the edge when the data do
/// not cross it and `keep_zero`); a degenerate span becomes `[lo - 1, hi + 1]`.
pub(super) fn padded(lo: f64, hi: f64, pad: f64, keep_zero: bool) -> Range<f64> {
    let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if keep_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let span = hi - lo;
    if !span.is_finite() || span <= f64::EPSILON * hi.abs().max(1.0) {
        return (lo - 1.0)..(hi + 1.0);
    }
    let p = span * pad;
    let new_lo = if keep_zero && lo == 0.0 { 0.0 } else { lo - p };
    let new_hi = if keep_zero && hi == 0.0 { 0.0 } else { hi + p };
    new_lo..new_hi
}

/// A legend entry: a swatch and its label.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LegendItem {
    pub label: String,
    pub swatch: Swatch,
}

impl LegendItem {
    pub(super) fn new(label: impl Into<String>, swatch: Swatch) -> Self {
        LegendItem {
            label: label.into(),
            swatch,
        }
    }
}

/// How a legend entry's series looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Swatch {
    Rect(RGBColor),
    Band(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
    Circle(RGBColor),
    Triangle(RGBColor),
    Square(RGBColor),
    ErrorBar(RGBColor),
    Tick(RGBColor),
}

const SWATCH_W: i32 = 28;
const LEGEND_ROW_H: u32 = 32;
const LEGEND_GAP: i32 = 34;

/// Title, subtitle and legend laid out for the chart width.
pub(super) struct Header {
    title: String,
    title_size: f64,
    subtitle: Option<String>,
    /// Legend rows: items with their x offset (row-relative) and the row width.
    legend_rows: Vec<(Vec<(LegendItem, i32)>, i32)>,
    /// Total header height in px.
    pub height: u32,
}

impl Header {
    /// Lays out the header; `title` is used unless the frame has its own.
    pub(super) fn layout(frame: &ChartFrame, title: &str, legend: &[LegendItem]) -> Result<Header, ReportError> {
        let title = frame.title.clone().unwrap_or_else(|| title.to_string());
        let max_w = WIDTH.saturating_sub(60);
        let title_size = fit_size(&title, TITLE, 18.0, max_w);
        let mut height = 18 + title_size.ceil() as u32 + 10;
        if frame.subtitle.is_some() {
            height += SUBTITLE as u32 + 10;
        }
        let mut legend_rows: Vec<(Vec<(LegendItem, i32)>, i32)> = Vec::new();
        let mut row: Vec<(LegendItem, i32)> = Vec::new();
        let mut x = 0i32;
        let max_row = i32::try_from(max_w).unwrap_or(1000);
        for item in legend {
            let w = SWATCH_W + 8 + i32::try_from(text_width(&item.label, LEGEND)).unwrap_or(0);
            if !row.is_empty() && x + w > max_row {
                legend_rows.push((std::mem::take(&mut row), x - LEGEND_GAP));
                x = 0;
            }
            row.push((item.clone(), x));
            x += w + LEGEND_GAP;
        }
        if !row.is_empty() {
            legend_rows.push((row, x - LEGEND_GAP));
        }
        if !legend_rows.is_empty() {
            height += 4 + LEGEND_ROW_H * u32::try_from(legend_rows.len()).unwrap_or(1);
        }
        height += 8;
        Ok(Header {
            title,
            title_size,
            subtitle: frame.subtitle.clone(),
            legend_rows,
            height,
        })
    }

    /// Fills the canvas white, draws header and source line, returns the body area.
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        p: &Painter,
        root: &DrawingArea<DB, Shift>,
        frame: &ChartFrame,
    ) -> Result<DrawingArea<DB, Shift>, ReportError> {
        root.fill(&WHITE).map_err(de)?;
        let (w, h) = root.dim_in_pixel();
        let cx = i32::try_from(w / 2).unwrap_or(0);
        let mut y = 18i32;
        p.text(root, &self.title, (cx, y), self.title_size, TEXT, HPos::Center, VPos::Top)?;
        y += self.title_size.ceil() as i32 + 10;
        if let Some(sub) = &self.subtitle {
            let sub = fit_text(sub, SUBTITLE, w.saturating_sub(60));
            p.text(root, &sub, (cx, y), SUBTITLE, MUTED, HPos::Center, VPos::Top)?;
            y += SUBTITLE as i32 + 10;
        }
        y += 4;
        for (items, row_w) in &self.legend_rows {
            let x0 = cx - row_w / 2;
            let yc = y + (LEGEND_ROW_H as i32) / 2;
            for (item, dx) in items {
                let x = x0 + dx;
                draw_swatch(root, item.swatch, x, yc)?;
                p.text(root, &item.label, (x + SWATCH_W + 8, yc), LEGEND, TEXT, HPos::Left, VPos::Center)?;
            }
            y += LEGEND_ROW_H as i32;
        }
        // source line
        let source = format!("{}{}", Txt::SourcePrefix.get(frame.lang), frame.source);
        let max_w = w.saturating_sub(40);
        let size = fit_size(&source, SOURCE, 12.0, max_w);
        let source = fit_text(&source, size, max_w);
        let bottom = i32::try_from(h).unwrap_or(0) - 14;
        p.text(root, &source, (20, bottom), size, MUTED, HPos::Left, VPos::Bottom)?;
        Ok(root.margin(self.height, FOOTER, 12, 40))
    }
}

fn draw_swatch<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, swatch: Swatch, x: i32, y: i32) -> Result<(), ReportError> {
    let mid = x + SWATCH_W / 2;
    match swatch {
        Swatch::Rect(c) => root
            .draw(&Rectangle::new([(x, y - 9), (x + SWATCH_W, y + 9)], c.filled()))
            .map_err(de),
        Swatch::Band(c) => {
            root.draw(&Rectangle::new([(x, y - 9), (x + SWATCH_W, y + 9)], c.mix(0.25).filled()))
                .map_err(de)?;
            root.draw(&Rectangle::new([(x, y - 9), (x + SWATCH_W, y + 9)], c.stroke_width(1)))
                .map_err(de)
        }
        Swatch::Line(c) => root
            .draw(&PathElement::new(vec![(x, y), (x + SWATCH_W, y)], c.stroke_width(3)))
            .map_err(de),
        Swatch::Dashed(c) => {
            for k in 0..3 {
                let a = x + k * 11;
                root.draw(&PathElement::new(vec![(a, y), (a + 7, y)], c.stroke_width(3)))
                    .map_err(de)?;
            }
            Ok(())
        }
        Swatch::Circle(c) => root.draw(&Circle::new((mid, y), 7, c.filled())).map_err(de),
        Swatch::Triangle(c) => root.draw(&TriangleMarker::new((mid, y), 9, c.filled())).map_err(de),
        Swatch::Square(c) => root
            .draw(&Rectangle::new([(mid - 7, y - 7), (mid + 7, y + 7)], c.filled()))
            .map_err(de),
        Swatch::ErrorBar(c) => {
            let s = c.stroke_width(2);
            root.draw(&PathElement::new(vec![(x, y), (x + SWATCH_W, y)], s)).map_err(de)?;
            root.draw(&PathElement::new(vec![(x, y - 6), (x, y + 6)], s)).map_err(de)?;
            root.draw(&PathElement::new(vec![(x + SWATCH_W, y - 6), (x + SWATCH_W, y + 6)], s))
                .map_err(de)?;
            root.draw(&Circle::new((mid, y), 5, c.filled())).map_err(de)
        }
        Swatch::Tick(c) => root
            .draw(&Rectangle::new([(mid - 2, y - 11), (mid + 2, y + 11)], c.filled()))
            .map_err(de),
    }
}

/// Draws "无数据" / "No data" in the middle of `body`.
pub(super) fn no_data<DB: DrawingBackend>(
    p: &Painter,
    root: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    lang: Lang,
) -> Result<(), ReportError> {
    let (xr, yr) = body.get_pixel_range();
    let c = ((xr.start + xr.end) / 2, (yr.start + yr.end) / 2);
    p.text(root, Txt::NoData.get(lang), c, TITLE, MUTED, HPos::Center, VPos::Center)
}

/// Body height of a row chart with `n` rows of `row_h` px.
pub(super) fn rows_body_height(n: usize, row_h: u32) -> u32 {
    let n32 = u32::try_from(n).unwrap_or(u32::MAX / 2);
    let top = if n > TOP_AXIS_FROM { TOP_AXIS } else { 8 };
    top.saturating_add(n32.saturating_mul(row_h)).saturating_add(BOTTOM_AXIS).max(220)
}

/// y coordinate of row `i` of `n` (row 0 at the top).
pub(super) fn row_y(n: usize, i: usize) -> f64 {
    n.saturating_sub(1).saturating_sub(i) as f64
}

/// The coordinate system of all charts.
pub(super) type Coords = Cartesian2d<RangedCoordf64, RangedCoordf64>;

/// Round tick values covering `range`: steps of 1, 2 or 5 × 10^k, at most `max_n` ticks,
/// with the decimal places the step needs.
pub(super) fn nice_ticks(range: &Range<f64>, max_n: usize) -> (Vec<f64>, u32) {
    let (lo, hi) = (range.start.min(range.end), range.start.max(range.end));
    let span = hi - lo;
    if !span.is_finite() || span <= 0.0 || max_n == 0 {
        return (Vec::new(), 0);
    }
    let raw = span / max_n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let dp = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()).clamp(0.0, 6.0) as u32
    };
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let ticks = (first..=last).take(max_n.saturating_mul(2) + 2).map(|k| k as f64 * step).collect();
    (ticks, dp)
}

/// `range` widened outwards to whole multiples of its tick step (at most `max_n` ticks), so
/// the axis ends on a labelled tick.
pub(super) fn nice_range(range: Range<f64>, max_n: usize) -> Range<f64> {
    let (ticks, _) = nice_ticks(&range, max_n);
    let step = match (ticks.first(), ticks.get(1)) {
        (Some(a), Some(b)) => b - a,
        _ => return range,
    };
    // tolerances keep an end already on a multiple (e.g. 0) where it is
    let lo = (range.start / step + 1e-9).floor() * step;
    let hi = (range.end / step - 1e-9).ceil() * step;
    if hi > lo {
        lo..hi
    } else {
        range
    }
}

/// A numeric axis to draw: tick values, their label formatter and the axis title.
pub(super) struct Axis<'a> {
    pub ticks: Vec<f64>,
    pub fmt: Box<dyn Fn(f64) -> String + 'a>,
    pub desc: &'a str,
}

impl<'a> Axis<'a> {
    /// Round ticks over `range` (at most `max_n`), labelled with [`format_number`] at the
    /// precision the step needs.
    pub(super) fn numeric(range: &Range<f64>, max_n: usize, desc: &'a str) -> Self {
        let (ticks, dp) = nice_ticks(range, max_n);
        Axis {
            ticks,
            fmt: Box::new(move |v| format_number(v, dp)),
            desc,
        }
    }

    /// Width in px of the widest tick label.
    fn label_width(&self) -> u32 {
        self.ticks.iter().map(|t| text_width(&(self.fmt)(*t), TICK)).max().unwrap_or(0)
    }
}

/// Pixel rectangle `(left, top, right, bottom)` of the chart's plotting area.
pub(super) fn plot_rect<DB: DrawingBackend>(chart: &ChartContext<'_, DB, Coords>) -> (i32, i32, i32, i32) {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    (xr.start, yr.start, xr.end - 1, yr.end - 1)
}

/// Draws grid lines, axis lines, tick marks, tick labels and axis titles. `x_top` repeats
/// the x tick labels above the plot (for tall charts).
pub(super) fn draw_axes<DB: DrawingBackend>(
    p: &Painter,
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Coords>,
    x: Option<&Axis<'_>>,
    x_top: bool,
    y: Option<&Axis<'_>>,
) -> Result<(), ReportError> {
    let (l, t, r, b) = plot_rect(chart);
    let grid = GRID.stroke_width(1);
    let axis = GREY.stroke_width(1);
    let line = |a: (i32, i32), z: (i32, i32), s: ShapeStyle| root.draw(&PathElement::new(vec![a, z], s)).map_err(de);
    let x_range = chart.x_range();
    let y_range = chart.y_range();
    let (y0, x0) = (y_range.start, x_range.start);
    if let Some(ax) = x {
        let tick_h = line_h(TICK);
        for v in ax.ticks.iter().filter(|v| x_range.contains(v) || **v == x_range.end) {
            let (px, _) = chart.backend_coord(&(*v, y0));
            line((px, t), (px, b), grid)?;
            line((px, b), (px, b + 5), axis)?;
            let label = (ax.fmt)(*v);
            p.text(root, &label, (px, b + 8), TICK, TEXT, HPos::Center, VPos::Top)?;
            if x_top {
                line((px, t - 5), (px, t), axis)?;
                p.text(root, &label, (px, t - 8), TICK, TEXT, HPos::Center, VPos::Bottom)?;
            }
        }
        let cx = (l + r) / 2;
        p.text(root, ax.desc, (cx, b + 8 + tick_h + 10), AXIS_DESC, TEXT, HPos::Center, VPos::Top)?;
        if x_top {
            line((l, t), (r, t), axis)?;
            let y_desc = t - 8 - tick_h - 6;
            p.text(root, ax.desc, (cx, y_desc), AXIS_DESC, TEXT, HPos::Center, VPos::Bottom)?;
        }
    }
    if let Some(ax) = y {
        for v in ax.ticks.iter().filter(|v| y_range.contains(v) || **v == y_range.end) {
            let (_, py) = chart.backend_coord(&(x0, *v));
            line((l, py), (r, py), grid)?;
            line((l - 5, py), (l, py), axis)?;
            p.text(root, &(ax.fmt)(*v), (l - 8, py), TICK, TEXT, HPos::Right, VPos::Center)?;
        }
        let lw = i32::try_from(ax.label_width()).unwrap_or(0);
        let cy = (t + b) / 2;
        let x_desc = l - 8 - lw - 14 - line_h(AXIS_DESC);
        p.text_up(root, ax.desc, (x_desc, cy), AXIS_DESC, TEXT, HPos::Center, VPos::Top)?;
    }
    line((l, t), (l, b), axis)?;
    line((l, b), (r, b), axis)?;
    Ok(())
}

/// Width of the y label area for `axis`: tick labels, gaps and the rotated title.
pub(super) fn y_area(axis: &Axis<'_>) -> u32 {
    axis.label_width() + 8 + 14 + u32::try_from(line_h(AXIS_DESC)).unwrap_or(24) + 10
}

/// Height of the x label area: tick mark, labels, gap, title.
pub(super) fn x_area() -> u32 {
    u32::try_from(8 + line_h(TICK) + 10 + line_h(AXIS_DESC) + 8).unwrap_or(80)
}

/// Builds a chart with numeric x and y axes over `x` and `y`, grid and labels drawn.
pub(super) fn xy_chart<'a, DB: DrawingBackend>(
    p: &Painter,
    root: &DrawingArea<DB, Shift>,
    body: &'a DrawingArea<DB, Shift>,
    x: Range<f64>,
    x_axis: &Axis<'_>,
    y: Range<f64>,
    y_axis: &Axis<'_>,
) -> Result<ChartContext<'a, DB, Coords>, ReportError> {
    let chart = ChartBuilder::on(body)
        .margin_top(12)
        .margin_right(24)
        .x_label_area_size(x_area())
        .y_label_area_size(y_area(y_axis))
        .build_cartesian_2d(x, y)
        .map_err(de)?;
    draw_axes(p, root, &chart, Some(x_axis), false, Some(y_axis))?;
    Ok(chart)
}

/// Builds a row chart on `body`: one band per label (first at the top, alternate bands
/// shaded), value axis `x` along the bottom (and the top when there are many rows), labels
/// to the left of the plot.
pub(super) fn rows_chart<'a, DB: DrawingBackend>(
    p: &Painter,
    root: &DrawingArea<DB, Shift>,
    body: &'a DrawingArea<DB, Shift>,
    labels: &[&str],
    x: Range<f64>,
    x_desc: &str,
) -> Result<ChartContext<'a, DB, Coords>, ReportError> {
    let n = labels.len();
    let widest = labels
        .iter()
        .map(|l| text_width(l, ROW_LABEL))
        .max()
        .unwrap_or(0)
        .min(MAX_ROW_LABEL);
    let top = n > TOP_AXIS_FROM;
    let axis = Axis::numeric(&x, 9, x_desc);
    let (x0, x1) = (x.start, x.end);
    let chart = ChartBuilder::on(body)
        .margin_top(8)
        .margin_right(8)
        .x_label_area_size(x_area())
        .top_x_label_area_size(if top { TOP_AXIS } else { 0 })
        .y_label_area_size(widest + 18)
        .build_cartesian_2d(x, -0.5..(n as f64 - 0.5))
        .map_err(de)?;
    let (l, _, r, _) = plot_rect(&chart);
    for i in (0..n).step_by(2) {
        let (_, ya) = chart.backend_coord(&(x0, row_y(n, i) + 0.5));
        let (_, yb) = chart.backend_coord(&(x1, row_y(n, i) - 0.5));
        root.draw(&Rectangle::new([(l, ya), (r, yb)], ZEBRA.filled())).map_err(de)?;
    }
    draw_axes(p, root, &chart, Some(&axis), top, None)?;
    for (i, label) in labels.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(x0, row_y(n, i)));
        let text = fit_text(label, ROW_LABEL, MAX_ROW_LABEL);
        p.text(root, &text, (px - 8, py), ROW_LABEL, TEXT, HPos::Right, VPos::Center)?;
    }
    Ok(chart)
}

/// Builds a column chart on `body`: categories `labels` along x (at 0, 1, …), value axis `y`.
pub(super) fn columns_chart<'a, DB: DrawingBackend>(
    p: &Painter,
    root: &DrawingArea<DB, Shift>,
    body: &'a DrawingArea<DB, Shift>,
    labels: &[&str],
    y: Range<f64>,
    x_desc: &str,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, Coords>, ReportError> {
    let n = labels.len();
    let axis = Axis::numeric(&y, 8, y_desc);
    let chart = ChartBuilder::on(body)
        .margin_top(12)
        .margin_right(16)
        .x_label_area_size(x_area())
        .y_label_area_size(y_area(&axis))
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), y)
        .map_err(de)?;
    draw_axes(p, root, &chart, None, false, Some(&axis))?;
    let (l, _, r, b) = plot_rect(&chart);
    let slot = u32::try_from(((r - l) / i32::try_from(n.max(1)).unwrap_or(1)).max(20) - 8).unwrap_or(20);
    for (i, label) in labels.iter().enumerate() {
        let (px, _) = chart.backend_coord(&(i as f64, 0.0));
        let size = fit_size(label, TICK, 12.0, slot);
        let text = fit_text(label, size, slot);
        p.text(root, &text, (px, b + 8), size, TEXT, HPos::Center, VPos::Top)?;
    }
    if !x_desc.is_empty() {
        p.text(
            root,
            x_desc,
            ((l + r) / 2, b + 8 + line_h(TICK) + 10),
            AXIS_DESC,
            TEXT,
            HPos::Center,
            VPos::Top,
        )?;
    }
    Ok(chart)
}
