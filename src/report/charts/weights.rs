//! (f) Weight ranges: per factor the admissible [min, max] with stated and inferred markers.

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, Rectangle};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{Color, RGBColor};

use super::common::{self, de, finite, LegendItem, Swatch, BLUE, DARK, MUTED, ORANGE, RED, VALUE};
use super::paint::Painter;
use crate::report::format::format_percent;
use crate::report::text::{Lang, Txt};
use crate::report::ReportError;

/// One factor's admissible weight range (fractions; 0.3 = 30%) and the weights to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightRangeRow {
    /// Factor name.
    pub factor: String,
    /// Smallest weight consistent with the rules (LP minimum).
    pub min: f64,
    /// Largest weight consistent with the rules (LP maximum).
    pub max: f64,
    /// The weight the scenario states.
    pub stated: Option<f64>,
    /// The weight inferred from the actual distribution.
    pub inferred: Option<f64>,
}

/// One band per factor: the admissible range as a bar, the stated weight as a dark tick (red
/// when outside the range) and the inferred weight as an orange dot, each labelled in percent.
/// A row with `min > max` (no admissible weight, or no rules to check against: pass e.g.
/// `min = 1.0, max = 0.0`) draws no bar, and its stated weight is not marked as outside.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightRangeChart {
    /// Factors in drawing order.
    pub rows: Vec<WeightRangeRow>,
}

pub(super) fn title(lang: Lang) -> String {
    Txt::WeightTitle.get(lang).to_string()
}

const ROW_H: u32 = 112;
const TOL: f64 = 1e-9;

impl WeightRangeChart {
    fn outside(r: &WeightRangeRow, v: f64) -> bool {
        Self::has_range(r) && (v < r.min - TOL || v > r.max + TOL)
    }

    fn has_range(r: &WeightRangeRow) -> bool {
        r.min <= r.max + TOL
    }

    pub(super) fn legend(&self, lang: Lang) -> Vec<LegendItem> {
        let mut v = Vec::new();
        if self.rows.iter().any(Self::has_range) {
            v.push(LegendItem::new(Txt::Admissible.get(lang), Swatch::Band(BLUE)));
        }
        v.push(LegendItem::new(Txt::Stated.get(lang), Swatch::Tick(DARK)));
        if self.rows.iter().any(|r| r.stated.is_some_and(|s| Self::outside(r, s))) {
            v.push(LegendItem::new(Txt::StatedOutside.get(lang), Swatch::Tick(RED)));
        }
        if self.rows.iter().any(|r| r.inferred.is_some()) {
            v.push(LegendItem::new(Txt::Inferred.get(lang), Swatch::Circle(ORANGE)));
        }
        v
    }

    pub(super) fn validate(&self) -> Result<(), ReportError> {
        for r in &self.rows {
            finite("weight-ranges", "min", &r.factor, r.min)?;
            finite("weight-ranges", "max", &r.factor, r.max)?;
            if let Some(v) = r.stated {
                finite("weight-ranges", "stated", &r.factor, v)?;
            }
            if let Some(v) = r.inferred {
                finite("weight-ranges", "inferred", &r.factor, v)?;
            }
        }
        Ok(())
    }

    pub(super) fn body_height(&self) -> u32 {
        common::rows_body_height(self.rows.len(), ROW_H)
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
        let mut hi = 0.0f64;
        let mut lo = 0.0f64;
        for r in &self.rows {
            let range = Self::has_range(r).then_some((r.min, r.max));
            for v in [range.map(|x| x.0), range.map(|x| x.1), r.stated, r.inferred].into_iter().flatten() {
                hi = hi.max(pct(v));
                lo = lo.min(pct(v));
            }
        }
        let mut range = common::nice_range(common::padded(lo, hi, 0.05, true), 9);
        if hi <= 100.0 && range.end > 100.0 {
            range.end = 100.0;
        }
        let labels: Vec<&str> = self.rows.iter().map(|r| r.factor.as_str()).collect();
        let n = self.rows.len();
        let chart = common::rows_chart(p, root, body, &labels, range, Txt::WeightAxis.get(lang))?;
        let lh = common::line_h(VALUE);
        // label lanes, as offsets of the label's near edge from the row centre
        let lanes: [(i32, VPos); 4] = [(-17, VPos::Bottom), (-19 - lh, VPos::Bottom), (17, VPos::Top), (19 + lh, VPos::Top)];
        for (i, r) in self.rows.iter().enumerate() {
            let y = common::row_y(n, i);
            let at = |v: f64| chart.backend_coord(&(pct(v), y));
            let (_, cy) = at(0.0);
            if r.min <= r.max + TOL {
                let (xa, _) = at(r.min);
                let (xb, _) = at(r.max);
                let (xa, xb) = if xb - xa < 4 { (xa - 2, xa + 2) } else { (xa, xb) };
                let rect = [(xa, cy - 11), (xb, cy + 11)];
                root.draw(&Rectangle::new(rect, BLUE.mix(0.3).filled())).map_err(de)?;
                root.draw(&Rectangle::new(rect, BLUE.stroke_width(1))).map_err(de)?;
            }
            if let Some(s) = r.stated {
                let c = if Self::outside(r, s) { RED } else { DARK };
                let (x, _) = at(s);
                root.draw(&Rectangle::new([(x - 2, cy - 15), (x + 2, cy + 15)], c.filled()))
                    .map_err(de)?;
            }
            if let Some(v) = r.inferred {
                root.draw(&Circle::new(at(v), 7, ORANGE.filled())).map_err(de)?;
            }
            // labels, each in the first lane of its preference list where it overlaps nothing
            let mut wanted: Vec<(String, i32, RGBColor, [usize; 4])> = Vec::new();
            if let Some(s) = r.stated {
                let c = if Self::outside(r, s) { RED } else { DARK };
                wanted.push((format_percent(s, 1), at(s).0, c, [0, 1, 2, 3]));
            }
            if r.min <= r.max + TOL {
                wanted.push((format_percent(r.min, 1), at(r.min).0, MUTED, [2, 3, 0, 1]));
                if (r.max - r.min).abs() > 0.004 {
                    wanted.push((format_percent(r.max, 1), at(r.max).0, MUTED, [2, 3, 0, 1]));
                }
            }
            if let Some(v) = r.inferred {
                wanted.push((format_percent(v, 1), at(v).0, ORANGE, [0, 2, 1, 3]));
            }
            let mut placed: Vec<(usize, i32, i32)> = Vec::new();
            for (text, x, color, prefs) in wanted {
                let half = i32::try_from(common::text_width(&text, VALUE) / 2).unwrap_or(0) + 4;
                let free = |lane: usize| !placed.iter().any(|(l, a, b)| *l == lane && x - half < *b && x + half > *a);
                let lane = prefs.iter().copied().find(|l| free(*l)).unwrap_or(prefs[3]);
                placed.push((lane, x - half, x + half));
                let (dy, vp) = lanes.get(lane).copied().unwrap_or((-17, VPos::Bottom));
                p.text(root, &text, (x, cy + dy), VALUE, color, HPos::Center, vp)?;
            }
        }
        Ok(())
    }
}
