//! (h) Uncertainty bands of the amounts per unit: the 5%–95% range of the Monte Carlo draws as a
//! bar, the median as a dot and the published amount as a tick (sensitivity analysis).

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, Rectangle};
use plotters::style::Color;

use super::common::{self, de, finite, LegendItem, Swatch, BLUE, DARK};
use super::paint::Painter;
use crate::report::format::scale_for;
use crate::report::text::{Lang, Quantity, Txt};
use crate::report::ReportError;

/// One unit's published amount and the quantiles of its amount over the draws (yuan).
#[derive(Debug, Clone, PartialEq)]
pub struct BandRow {
    /// Unit name.
    pub name: String,
    /// The published (exact) amount.
    pub amount: f64,
    /// 5% quantile over the draws.
    pub p05: f64,
    /// Median over the draws.
    pub p50: f64,
    /// 95% quantile over the draws.
    pub p95: f64,
}

/// Per unit, in the order given: a bar from the 5% to the 95% quantile, a dot at the median,
/// a tick at the published amount; the value axis is money (scaled to 万元/亿元 or
/// thousand/million yuan), from 0 when the values spread over more than half of it.
#[derive(Debug, Clone, PartialEq)]
pub struct BandChart {
    /// Units in drawing order (e.g. largest amount first).
    pub rows: Vec<BandRow>,
}

impl BandChart {
    pub(super) fn title(lang: Lang) -> String {
        Txt::BandsTitle.get(lang).to_string()
    }

    pub(super) fn legend(lang: Lang) -> Vec<LegendItem> {
        vec![
            LegendItem::new(Txt::Band5To95.get(lang), Swatch::Band(BLUE)),
            LegendItem::new(Txt::Median.get(lang), Swatch::Circle(BLUE)),
            LegendItem::new(Txt::PublishedAmount.get(lang), Swatch::Tick(DARK)),
        ]
    }

    pub(super) fn validate(&self) -> Result<(), ReportError> {
        for r in &self.rows {
            finite("bands", "amount", &r.name, r.amount)?;
            finite("bands", "p05", &r.name, r.p05)?;
            finite("bands", "p50", &r.name, r.p50)?;
            finite("bands", "p95", &r.name, r.p95)?;
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
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for r in &self.rows {
            for v in [r.amount, r.p05, r.p50, r.p95] {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        let scale = scale_for(lang, Quantity::Money, hi.abs().max(lo.abs()));
        // intervals and dots carry no length from zero: the axis starts at 0 only when the
        // values spread over more than half of it, else it zooms in so the bands read
        let keep_zero = lo <= 0.0 || lo < 0.5 * hi;
        let range = common::nice_range(common::padded(scale.apply(lo), scale.apply(hi), 0.04, keep_zero), 9);
        let desc = format!("{} ({})", Txt::AmountAxis.get(lang), scale.unit);
        let labels: Vec<&str> = self.rows.iter().map(|r| r.name.as_str()).collect();
        let n = self.rows.len();
        let chart = common::rows_chart(p, root, body, &labels, range, &desc)?;
        for (i, r) in self.rows.iter().enumerate() {
            let y = common::row_y(n, i);
            let at = |v: f64| chart.backend_coord(&(scale.apply(v), y));
            let (_, cy) = at(0.0);
            let (xa, _) = at(r.p05.min(r.p95));
            let (xb, _) = at(r.p05.max(r.p95));
            let (xa, xb) = if xb - xa < 3 { (xa - 1, xa + 2) } else { (xa, xb) };
            let rect = [(xa, cy - 7), (xb, cy + 7)];
            root.draw(&Rectangle::new(rect, BLUE.mix(0.3).filled())).map_err(de)?;
            root.draw(&Rectangle::new(rect, BLUE.stroke_width(1))).map_err(de)?;
            let (x, _) = at(r.amount);
            root.draw(&Rectangle::new([(x - 1, cy - 11), (x + 1, cy + 11)], DARK.filled()))
                .map_err(de)?;
            root.draw(&Circle::new(at(r.p50), 5, BLUE.filled())).map_err(de)?;
        }
        Ok(())
    }
}
