//! (e) Indicator rates per unit with interval bars against the threshold line.

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, PathElement};
use plotters::series::DashedLineSeries;
use plotters::style::{Color, RGBColor};

use super::common::{self, de, finite, LegendItem, Swatch, BLUE, ORANGE, RED};
use super::paint::Painter;
use crate::report::format::{format_number, format_percent};
use crate::report::text::{Lang, Txt};
use crate::report::ReportError;

/// Which indicator the rates are; decides its name and which side of the threshold passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indicator {
    /// 漏评率: passes below the threshold.
    MissedIdentification,
    /// 错退率: passes below the threshold.
    WrongExit,
    /// 群众认可度: passes above the threshold.
    Recognition,
    /// 综合贫困发生率: passes below the threshold.
    ComprehensiveIncidence,
}

impl Indicator {
    /// True when higher values are better (only public recognition).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Indicator::Recognition)
    }

    /// The indicator's name in `lang`.
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Indicator::MissedIdentification => Txt::MissedIdentification,
            Indicator::WrongExit => Txt::WrongExit,
            Indicator::Recognition => Txt::Recognition,
            Indicator::ComprehensiveIncidence => Txt::ComprehensiveIncidence,
        }
        .get(lang)
    }
}

/// One unit's rate and interval, all fractions (0.02 = 2%).
#[derive(Debug, Clone, PartialEq)]
pub struct RateRow {
    /// Unit name.
    pub name: String,
    /// Point estimate `flagged / sampled`.
    pub rate: f64,
    /// Lower interval bound.
    pub low: f64,
    /// Upper interval bound.
    pub high: f64,
}

/// Verdict colouring of a row (SPEC §5): pass when the whole interval is on the good side
/// (strictly: `high < t` for lower-is-better, `low > t` for higher-is-better), fail when the
/// whole interval is on the bad side (`low >= t`, resp. `high <= t`), else inconclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    /// Whole interval on the good side.
    Pass,
    /// Whole interval on the bad side.
    Fail,
    /// The interval contains the threshold.
    Inconclusive,
}

/// Rates with interval bars, one row per unit in the order given, and a dashed threshold line.
#[derive(Debug, Clone, PartialEq)]
pub struct RateChart {
    /// The indicator.
    pub indicator: Indicator,
    /// Pass threshold as a fraction (0.02, or 0.90 for recognition).
    pub threshold: f64,
    /// Confidence level of the intervals (0.95), shown in the legend.
    pub confidence: f64,
    /// Units in drawing order.
    pub rows: Vec<RateRow>,
}

impl RateChart {
    /// The verdict for `row` under this chart's indicator and threshold.
    pub fn verdict(&self, row: &RateRow) -> RateVerdict {
        let t = self.threshold;
        let (lo, hi) = (row.low.min(row.high), row.low.max(row.high));
        if self.indicator.higher_is_better() {
            if lo > t {
                RateVerdict::Pass
            } else if hi <= t {
                RateVerdict::Fail
            } else {
                RateVerdict::Inconclusive
            }
        } else if hi < t {
            RateVerdict::Pass
        } else if lo >= t {
            RateVerdict::Fail
        } else {
            RateVerdict::Inconclusive
        }
    }

    fn color(v: RateVerdict) -> RGBColor {
        match v {
            RateVerdict::Pass => BLUE,
            RateVerdict::Fail => RED,
            RateVerdict::Inconclusive => ORANGE,
        }
    }

    pub(super) fn title(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!("{}{}", self.indicator.name(lang), Txt::RatesTitleSuffix.get(lang)),
            Lang::En => format!("{} {}", self.indicator.name(lang), Txt::RatesTitleSuffix.get(lang)),
        }
    }

    pub(super) fn legend(&self, lang: Lang) -> Vec<LegendItem> {
        let level = format_number(self.confidence * 100.0, 0);
        vec![
            LegendItem::new(Txt::Pass.get(lang), Swatch::Circle(BLUE)),
            LegendItem::new(Txt::Fail.get(lang), Swatch::Circle(RED)),
            LegendItem::new(Txt::Uncertain.get(lang), Swatch::Circle(ORANGE)),
            LegendItem::new(
                format!("{level}% {}", Txt::ConfidenceInterval.get(lang)),
                Swatch::ErrorBar(common::DARK),
            ),
            LegendItem::new(
                format!(
                    "{} {}{}",
                    Txt::Threshold.get(lang),
                    if self.indicator.higher_is_better() { ">" } else { "<" },
                    format_percent(self.threshold, 1)
                ),
                Swatch::Dashed(RED),
            ),
        ]
    }

    pub(super) fn validate(&self) -> Result<(), ReportError> {
        finite("rates", "threshold", "", self.threshold)?;
        finite("rates", "confidence", "", self.confidence)?;
        for r in &self.rows {
            finite("rates", "rate", &r.name, r.rate)?;
            finite("rates", "low", &r.name, r.low)?;
            finite("rates", "high", &r.name, r.high)?;
        }
        Ok(())
    }

    pub(super) fn body_height(&self) -> u32 {
        common::rows_body_height(self.rows.len(), common::ROW_H)
    }

    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        p: &Painter,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        lang: Lang,
    ) -> Result<(), ReportError> {
        if self.rows.is_empty() {
            return common::no_data(p, root, body, lang);
        }
        let pct = |v: f64| v * 100.0;
        let mut lo = pct(self.threshold);
        let mut hi = lo;
        for r in &self.rows {
            for v in [r.rate, r.low, r.high] {
                lo = lo.min(pct(v));
                hi = hi.max(pct(v));
            }
        }
        let keep_zero = !self.indicator.higher_is_better();
        let mut range = common::nice_range(common::padded(lo, hi, 0.03, keep_zero), 9);
        if hi <= 100.0 && range.end > 100.0 {
            range.end = 100.0 + (range.end - range.start) * 0.01;
        }
        if lo >= 0.0 && range.start < 0.0 {
            range.start = 0.0;
        }
        let desc = format!("{}{}", self.indicator.name(lang), Txt::RateAxisSuffix.get(lang));
        let labels: Vec<&str> = self.rows.iter().map(|r| r.name.as_str()).collect();
        let n = self.rows.len();
        let mut chart = common::rows_chart(p, root, body, &labels, range, &desc)?;
        let t = pct(self.threshold);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(t, -0.5), (t, n as f64 - 0.5)],
                10,
                6,
                RED.stroke_width(2),
            ))
            .map_err(de)?;
        let mut lines = Vec::with_capacity(3 * n);
        let mut dots = Vec::with_capacity(n);
        for (i, r) in self.rows.iter().enumerate() {
            let y = common::row_y(n, i);
            let c = Self::color(self.verdict(r));
            let s = c.stroke_width(2);
            let (a, b) = (pct(r.low), pct(r.high));
            lines.push(PathElement::new(vec![(a, y), (b, y)], s));
            lines.push(PathElement::new(vec![(a, y - 0.25), (a, y + 0.25)], s));
            lines.push(PathElement::new(vec![(b, y - 0.25), (b, y + 0.25)], s));
            dots.push(Circle::new((pct(r.rate), y), 6, c.filled()));
        }
        chart.draw_series(lines).map_err(de)?;
        chart.draw_series(dots).map_err(de)?;
        Ok(())
    }
}
