//! (a) Allocation per unit as horizontal bars stacked by factor contribution.

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::Rectangle;
use plotters::style::Color;

use super::common::{self, de, finite, palette, LegendItem, Swatch};
use super::paint::Painter;
use crate::report::format::scale_for;
use crate::report::text::{Lang, Quantity, Txt};
use crate::report::ReportError;

/// One unit's amount split into factor contributions (yuan), aligned with
/// [`ContributionChart::factors`]; a negative part is drawn to the left of zero.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitContribution {
    /// Unit name as shown (e.g. `东乡族自治县`).
    pub name: String,
    /// Contribution of each factor, in yuan; `parts.len() == factors.len()`.
    pub parts: Vec<f64>,
}

/// Stacked bars, one per unit in the order given, one segment per factor. Contribution of
/// factor k to unit i is `amount_i × w_k × s_ik / Σ_k w_k s_ik` or any split the caller
/// computes; the chart only draws `parts`, positive segments stacked right from 0,
/// negative ones left.
#[derive(Debug, Clone, PartialEq)]
pub struct ContributionChart {
    /// Factor names (legend), in stacking order.
    pub factors: Vec<String>,
    /// Units, drawn top to bottom in this order.
    pub units: Vec<UnitContribution>,
}

pub(super) fn title(lang: Lang) -> String {
    Txt::ContribTitle.get(lang).to_string()
}

impl ContributionChart {
    pub(super) fn validate(&self) -> Result<(), ReportError> {
        for u in &self.units {
            if u.parts.len() != self.factors.len() {
                return Err(ReportError::Shape {
                    chart: "contributions",
                    row: u.name.clone(),
                    got: u.parts.len(),
                    expected: self.factors.len(),
                });
            }
            for (k, v) in u.parts.iter().enumerate() {
                finite("contributions", &format!("parts[{k}]"), &u.name, *v)?;
            }
        }
        Ok(())
    }

    pub(super) fn body_height(&self) -> u32 {
        common::rows_body_height(self.units.len(), common::ROW_H)
    }

    pub(super) fn legend(&self) -> Vec<LegendItem> {
        self.factors
            .iter()
            .enumerate()
            .map(|(k, f)| LegendItem::new(f.clone(), Swatch::Rect(palette(k))))
            .collect()
    }

    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        p: &Painter,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        lang: Lang,
    ) -> Result<(), ReportError> {
        if self.units.is_empty() {
            return common::no_data(p, root, body, lang);
        }
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for u in &self.units {
            let pos: f64 = u.parts.iter().filter(|v| **v > 0.0).sum();
            let neg: f64 = u.parts.iter().filter(|v| **v < 0.0).sum();
            hi = hi.max(pos);
            lo = lo.min(neg);
        }
        let scale = scale_for(lang, Quantity::Money, hi.max(-lo));
        let (lo, hi) = (scale.apply(lo), scale.apply(hi));
        let desc = format!("{} ({})", Txt::AmountAxis.get(lang), scale.unit);
        let labels: Vec<&str> = self.units.iter().map(|u| u.name.as_str()).collect();
        let mut chart = common::rows_chart(
            p,
            root,
            body,
            &labels,
            common::nice_range(common::padded(lo, hi, 0.02, true), 9),
            &desc,
        )?;
        let n = self.units.len();
        let half = 0.36;
        let mut bars = Vec::with_capacity(n * self.factors.len());
        for (i, u) in self.units.iter().enumerate() {
            let y = common::row_y(n, i);
            let (mut right, mut left) = (0.0f64, 0.0f64);
            for (k, v) in u.parts.iter().enumerate() {
                let v = scale.apply(*v);
                let (a, b) = if v >= 0.0 {
                    right += v;
                    (right - v, right)
                } else {
                    left += v;
                    (left, left - v)
                };
                if b > a {
                    bars.push(Rectangle::new([(a, y - half), (b, y + half)], palette(k).filled()));
                }
            }
        }
        chart.draw_series(bars).map_err(de)?;
        Ok(())
    }
}
