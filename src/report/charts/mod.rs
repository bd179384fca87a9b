//! Charts for review meetings, rendered with plotters to SVG text or PNG bytes.
//!
//! Every chart has a title (a bilingual default, or the caller's), axis labels with units, a
//! legend where there is more than one series, and a source line at the bottom. Charts with
//! one row per unit (contributions, rates, changes, formula vs actual) are horizontal bars so
//! that Chinese unit names read without rotation; their height grows with the row count.
//!
//! Fixed text comes from [`Txt`](super::text::Txt) in the frame's [`Lang`]; data text (names,
//! source) is drawn as given — SVG output escapes it.

mod bands;
mod common;
mod contrib;
mod grouped;
mod paint;
mod projection;
mod rates;
mod scatter;
mod weights;
mod winners;

use plotters::backend::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};

use super::font::ensure_fonts;
use super::{Lang, ReportError};
use paint::{Mode, Painter};

pub use bands::{BandChart, BandRow};
pub use contrib::{ContributionChart, UnitContribution};
pub use grouped::{Comparison, GroupedBarChart, GroupedRow};
pub use projection::{ProjectionChart, ProjectionPoint};
pub use rates::{Indicator, RateChart, RateRow, RateVerdict};
pub use scatter::{PovertyClass, ScatterChart, ScatterPoint};
pub use weights::{WeightRangeChart, WeightRangeRow};
pub use winners::{ChangeChart, ChangePart, ChangeRow, WaterfallChart};

/// Width of every chart in pixels (SVG user units).
pub const WIDTH: u32 = 1200;

/// Height limit: a chart that would be taller fails with [`ReportError::TooLarge`].
pub const MAX_HEIGHT: u32 = 16_000;

/// The text around a chart that is not data: language, title, subtitle and source line.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFrame {
    /// Language of every fixed string.
    pub lang: Lang,
    /// Replaces the chart kind's default title when set.
    pub title: Option<String>,
    /// A second line under the title (e.g. scenario name and year).
    pub subtitle: Option<String>,
    /// Printed after "数据来源: " / "Source: " at the bottom left.
    pub source: String,
}

impl ChartFrame {
    /// A frame with the default title, no subtitle, and `source` as the source line.
    pub fn new(lang: Lang, source: impl Into<String>) -> Self {
        ChartFrame {
            lang,
            title: None,
            subtitle: None,
            source: source.into(),
        }
    }
}

/// One chart of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// (a) Allocation per unit, stacked by factor contribution.
    Contributions(ContributionChart),
    /// (b) Amount per capita against poverty incidence.
    Scatter(ScatterChart),
    /// (c) Remaining headcount against the target path, with an optional 5–95% band.
    Projection(ProjectionChart),
    /// (d) Two bars per category: planned vs actual exits per year, or formula vs actual per unit.
    Grouped(GroupedBarChart),
    /// (e) Indicator rates with interval bars against a threshold.
    Rates(RateChart),
    /// (f) Admissible weight range per factor, with stated and inferred weights.
    WeightRanges(WeightRangeChart),
    /// (g) Signed change per unit, sorted (winners and losers).
    Changes(ChangeChart),
    /// (g) One unit's change decomposed into parts (data, weights, floors/caps).
    Waterfall(WaterfallChart),
    /// (h) Uncertainty bands of the amounts per unit (5%/50%/95% over Monte Carlo draws).
    Bands(BandChart),
}

impl Chart {
    /// Short ASCII name of the chart kind, usable in file names (`contributions`, `scatter`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Chart::Contributions(_) => "contributions",
            Chart::Scatter(_) => "scatter",
            Chart::Projection(_) => "projection",
            Chart::Grouped(g) => match g.kind {
                Comparison::PlannedVsActualExits | Comparison::PlannedVsActualCountyExits => "planned-vs-actual",
                Comparison::FormulaVsActual => "formula-vs-actual",
            },
            Chart::Rates(_) => "rates",
            Chart::WeightRanges(_) => "weight-ranges",
            Chart::Changes(_) => "changes",
            Chart::Waterfall(_) => "waterfall",
            Chart::Bands(_) => "bands",
        }
    }

    /// Checks the data (finite values, matching shapes) without drawing.
    pub fn validate(&self) -> Result<(), ReportError> {
        match self {
            Chart::Contributions(c) => c.validate(),
            Chart::Scatter(c) => c.validate(),
            Chart::Projection(c) => c.validate(),
            Chart::Grouped(c) => c.validate(),
            Chart::Rates(c) => c.validate(),
            Chart::WeightRanges(c) => c.validate(),
            Chart::Changes(c) => c.validate(),
            Chart::Waterfall(c) => c.validate(),
            Chart::Bands(c) => c.validate(),
        }
    }

    /// Pixel size `(width, height)` the chart renders at; the height grows with row count.
    pub fn size(&self, frame: &ChartFrame) -> Result<(u32, u32), ReportError> {
        ensure_fonts()?;
        let header = common::Header::layout(frame, &self.title(frame.lang), &self.legend(frame))?;
        let body = match self {
            Chart::Contributions(c) => c.body_height(),
            Chart::Scatter(_) | Chart::Projection(_) => common::FIXED_BODY,
            Chart::Grouped(c) => c.body_height(),
            Chart::Rates(c) => c.body_height(),
            Chart::WeightRanges(c) => c.body_height(),
            Chart::Changes(c) => c.body_height(),
            Chart::Waterfall(_) => common::FIXED_BODY,
            Chart::Bands(c) => c.body_height(),
        };
        let h = u64::from(header.height) + u64::from(body) + u64::from(common::FOOTER);
        if h > u64::from(MAX_HEIGHT) {
            return Err(ReportError::TooLarge {
                chart: self.kind(),
                rows: self.rows(),
                height: h,
                limit: u64::from(MAX_HEIGHT),
            });
        }
        Ok((WIDTH, u32::try_from(h).unwrap_or(MAX_HEIGHT)))
    }

    /// Renders as SVG text (UTF-8, `font-family` = [`FAMILY`](super::font::FAMILY)).
    pub fn render_svg(&self, frame: &ChartFrame) -> Result<String, ReportError> {
        self.validate()?;
        let size = self.size(frame)?;
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            self.draw(&Painter::new(Mode::Svg), &root, frame)?;
            root.present().map_err(common::de)?;
        }
        Ok(out)
    }

    /// Renders as PNG bytes (8-bit RGB), drawn in memory and encoded with the `png` crate.
    pub fn render_png(&self, frame: &ChartFrame) -> Result<Vec<u8>, ReportError> {
        self.validate()?;
        let (w, h) = self.size(frame)?;
        let len = usize::try_from(u64::from(w) * u64::from(h) * 3).map_err(|e| ReportError::Draw(e.to_string()))?;
        let mut buf = vec![255u8; len];
        let painter = Painter::new(Mode::Raster);
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            self.draw(&painter, &root, frame)?;
            root.present().map_err(common::de)?;
        }
        painter.composite(&mut buf, w, h)?;
        encode_png(&buf, w, h)
    }

    fn rows(&self) -> usize {
        match self {
            Chart::Contributions(c) => c.units.len(),
            Chart::Scatter(c) => c.points.len(),
            Chart::Projection(c) => c.points.len(),
            Chart::Grouped(c) => c.rows.len(),
            Chart::Rates(c) => c.rows.len(),
            Chart::WeightRanges(c) => c.rows.len(),
            Chart::Changes(c) => c.rows.len(),
            Chart::Waterfall(c) => c.parts.len(),
            Chart::Bands(c) => c.rows.len(),
        }
    }

    /// The default title in `lang` (the frame's title overrides it).
    pub fn title(&self, lang: Lang) -> String {
        match self {
            Chart::Contributions(_) => contrib::title(lang),
            Chart::Scatter(_) => scatter::title(lang),
            Chart::Projection(_) => projection::title(lang),
            Chart::Grouped(c) => c.title(lang),
            Chart::Rates(c) => c.title(lang),
            Chart::WeightRanges(_) => weights::title(lang),
            Chart::Changes(_) => winners::change_title(lang),
            Chart::Waterfall(c) => c.title(lang),
            Chart::Bands(_) => BandChart::title(lang),
        }
    }

    fn legend(&self, frame: &ChartFrame) -> Vec<common::LegendItem> {
        let lang = frame.lang;
        match self {
            Chart::Contributions(c) => c.legend(),
            Chart::Scatter(_) => scatter::legend(lang),
            Chart::Projection(c) => c.legend(lang),
            Chart::Grouped(c) => c.legend(lang),
            Chart::Rates(c) => c.legend(lang),
            Chart::WeightRanges(c) => c.legend(lang),
            Chart::Changes(_) => winners::change_legend(lang),
            Chart::Waterfall(_) => winners::waterfall_legend(lang),
            Chart::Bands(_) => BandChart::legend(lang),
        }
    }

    fn draw<DB: DrawingBackend>(&self, p: &Painter, root: &DrawingArea<DB, Shift>, frame: &ChartFrame) -> Result<(), ReportError> {
        let header = common::Header::layout(frame, &self.title(frame.lang), &self.legend(frame))?;
        let body = header.draw(p, root, frame)?;
        let lang = frame.lang;
        match self {
            Chart::Contributions(c) => c.draw(p, root, &body, lang),
            Chart::Scatter(c) => c.draw(p, root, &body, lang),
            Chart::Projection(c) => c.draw(p, root, &body, lang),
            Chart::Grouped(c) => c.draw(p, root, &body, lang),
            Chart::Rates(c) => c.draw(p, root, &body, lang),
            Chart::WeightRanges(c) => c.draw(p, root, &body, lang),
            Chart::Changes(c) => c.draw(p, root, &body, lang),
            Chart::Waterfall(c) => c.draw(p, root, &body, lang),
            Chart::Bands(c) => c.draw(p, root, &body, lang),
        }
    }
}

/// Encodes an 8-bit RGB buffer (`w * h * 3` bytes, row-major) as PNG bytes.
pub fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ReportError> {
    let png_err = |e: png::EncodingError| ReportError::Png(e.to_string());
    let mut out = Vec::with_capacity(rgb.len() / 8);
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().map_err(png_err)?;
        writer.write_image_data(rgb).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
