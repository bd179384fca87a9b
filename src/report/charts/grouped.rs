//! (d) Two bars per category: planned vs actual exits per year, or formula vs actual per unit.

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::Rectangle;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::Color;

use super::common::{self, de, finite, LegendItem, Swatch, BLUE, ORANGE, TEXT, VALUE};
use super::paint::Painter;
use crate::report::format::{decimals_for_span, format_number, scale_for};
use crate::report::text::{Lang, Quantity, Txt};
use crate::report::ReportError;

/// What the two bars compare; decides titles, legend and units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Planned vs actual exits (persons) per year.
    PlannedVsActualExits,
    /// Planned vs actual county exits (摘帽, a count of counties) per year.
    PlannedVsActualCountyExits,
    /// Formula amount vs actual amount (yuan) per unit (audit).
    FormulaVsActual,
}

/// One category: its label and the two values (planned/formula first, actual second).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedRow {
    /// Category label (a year or a unit name).
    pub label: String,
    /// Planned exits, or formula amount.
    pub first: f64,
    /// Actual exits, or actual amount.
    pub second: f64,
}

/// Grouped bars. Up to [`GroupedBarChart::MAX_COLUMNS`] categories are drawn as vertical
/// columns with values printed on top; more become horizontal bars, one band per category.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedBarChart {
    /// What is compared.
    pub kind: Comparison,
    /// Categories in drawing order.
    pub rows: Vec<GroupedRow>,
}

impl GroupedBarChart {
    /// Most categories drawn as vertical columns.
    pub const MAX_COLUMNS: usize = 16;
    const ROW_H: u32 = 34;

    fn horizontal(&self) -> bool {
        self.rows.len() > Self::MAX_COLUMNS
    }

    pub(super) fn title(&self, lang: Lang) -> String {
        match self.kind {
            Comparison::PlannedVsActualExits => Txt::PlannedVsActualTitle,
            Comparison::PlannedVsActualCountyExits => Txt::PlannedVsActualCountiesTitle,
            Comparison::FormulaVsActual => Txt::FormulaVsActualTitle,
        }
        .get(lang)
        .to_string()
    }

    pub(super) fn legend(&self, lang: Lang) -> Vec<LegendItem> {
        let (a, b) = match self.kind {
            Comparison::PlannedVsActualExits | Comparison::PlannedVsActualCountyExits => (Txt::PlannedExits, Txt::ActualExits),
            Comparison::FormulaVsActual => (Txt::FormulaAmount, Txt::ActualAmount),
        };
        vec![
            LegendItem::new(a.get(lang), Swatch::Rect(BLUE)),
            LegendItem::new(b.get(lang), Swatch::Rect(ORANGE)),
        ]
    }

    pub(super) fn validate(&self) -> Result<(), ReportError> {
        for r in &self.rows {
            finite("grouped", "first", &r.label, r.first)?;
            finite("grouped", "second", &r.label, r.second)?;
        }
        Ok(())
    }

    pub(super) fn body_height(&self) -> u32 {
        if self.horizontal() {
            common::rows_body_height(self.rows.len(), Self::ROW_H)
        } else {
            common::FIXED_BODY
        }
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
        let (q, value_txt, cat_txt) = match self.kind {
            Comparison::PlannedVsActualExits => (Quantity::Persons, Txt::ExitsAxis, Txt::YearAxis),
            Comparison::PlannedVsActualCountyExits => (Quantity::Counties, Txt::CountyExitsAxis, Txt::YearAxis),
            Comparison::FormulaVsActual => (Quantity::Money, Txt::AmountAxis, Txt::AmountAxis),
        };
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for r in &self.rows {
            lo = lo.min(r.first).min(r.second);
            hi = hi.max(r.first).max(r.second);
        }
        let scale = scale_for(lang, q, hi.max(-lo));
        let desc = format!("{} ({})", value_txt.get(lang), scale.unit);
        let labels: Vec<&str> = self.rows.iter().map(|r| r.label.as_str()).collect();
        let n = self.rows.len();
        let range = common::nice_range(common::padded(scale.apply(lo), scale.apply(hi), 0.06, true), 9);
        let w = 0.38;
        if self.horizontal() {
            let mut chart = common::rows_chart(p, root, body, &labels, range, &desc)?;
            let mut bars = Vec::with_capacity(2 * n);
            for (i, r) in self.rows.iter().enumerate() {
                let y = common::row_y(n, i);
                let (a, b) = (scale.apply(r.first), scale.apply(r.second));
                bars.push(Rectangle::new([(0.0, y + 0.02), (a, y + w)], BLUE.filled()));
                bars.push(Rectangle::new([(0.0, y - w), (b, y - 0.02)], ORANGE.filled()));
            }
            chart.draw_series(bars).map_err(de)?;
        } else {
            let cat_desc = match self.kind {
                Comparison::PlannedVsActualExits | Comparison::PlannedVsActualCountyExits => cat_txt.get(lang),
                Comparison::FormulaVsActual => "",
            };
            let mut chart = common::columns_chart(p, root, body, &labels, range.clone(), cat_desc, &desc)?;
            let mut bars = Vec::with_capacity(2 * n);
            for (i, r) in self.rows.iter().enumerate() {
                let x = i as f64;
                let (a, b) = (scale.apply(r.first), scale.apply(r.second));
                bars.push(Rectangle::new([(x - w, 0.0), (x - 0.02, a)], BLUE.filled()));
                bars.push(Rectangle::new([(x + 0.02, 0.0), (x + w, b)], ORANGE.filled()));
            }
            chart.draw_series(bars).map_err(de)?;
            if n <= 10 {
                // counts of people or counties are whole numbers on an unscaled axis
                let whole = matches!(q, Quantity::Persons | Quantity::Counties) && scale.pow10 == 0;
                let dp = if whole { 0 } else { decimals_for_span(range.end - range.start) };
                for (i, r) in self.rows.iter().enumerate() {
                    for (dx, v) in [(-w / 2.0, r.first), (w / 2.0, r.second)] {
                        let v = scale.apply(v);
                        let (px, py) = chart.backend_coord(&(i as f64 + dx, v));
                        let (vp, dy) = if v >= 0.0 { (VPos::Bottom, -4) } else { (VPos::Top, 4) };
                        let t = format_number(v, dp);
                        p.text(root, &t, (px, py + dy), VALUE, TEXT, HPos::Center, vp)?;
                    }
                }
            }
        }
        Ok(())
    }
}
