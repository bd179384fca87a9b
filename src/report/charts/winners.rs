//! (g) What-if comparison: winners and losers (signed change per unit, sorted), and a
//! waterfall decomposing one unit's change into parts.

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{PathElement, Rectangle};
use plotters::series::DashedLineSeries;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::Color;

use super::common::{self, de, finite, LegendItem, Swatch, BLUE, DARK, GREY, ORANGE, TEXT, VALUE};
use super::paint::Painter;
use crate::report::format::{decimals_for_span, format_number, format_signed, scale_for};
use crate::report::text::{Lang, Quantity, Txt};
use crate::report::ReportError;

/// One unit's change in amount between two formulas (new − baseline, yuan).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    /// Unit name.
    pub name: String,
    /// Signed change in yuan.
    pub change: f64,
}

/// Winners and losers: one bar per unit from zero to its change, sorted from the largest gain
/// (top) to the largest loss (bottom), each labelled with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeChart {
    /// Units in any order (the chart sorts by change, descending; ties keep input order).
    pub rows: Vec<ChangeRow>,
}

pub(super) fn change_title(lang: Lang) -> String {
    Txt::ChangeTitle.get(lang).to_string()
}

pub(super) fn change_legend(lang: Lang) -> Vec<LegendItem> {
    vec![
        LegendItem::new(Txt::Gain.get(lang), Swatch::Rect(BLUE)),
        LegendItem::new(Txt::Loss.get(lang), Swatch::Rect(ORANGE)),
    ]
}

impl ChangeChart {
    pub(super) fn validate(&self) -> Result<(), ReportError> {
        for r in &self.rows {
            finite("changes", "change", &r.name, r.change)?;
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
        let mut rows: Vec<&ChangeRow> = self.rows.iter().collect();
        rows.sort_by(|a, b| b.change.total_cmp(&a.change));
        let lo = rows.iter().fold(0.0f64, |m, r| m.min(r.change));
        let hi = rows.iter().fold(0.0f64, |m, r| m.max(r.change));
        let scale = scale_for(lang, Quantity::Money, hi.max(-lo));
        let (lo, hi) = (scale.apply(lo), scale.apply(hi));
        let range = common::nice_range(common::padded(lo, hi, 0.14, true), 9);
        let dp = decimals_for_span(hi - lo);
        let desc = format!("{} ({})", Txt::ChangeAxis.get(lang), scale.unit);
        let labels: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let n = rows.len();
        let mut chart = common::rows_chart(p, root, body, &labels, range, &desc)?;
        let mut bars = Vec::with_capacity(n);
        for (i, r) in rows.iter().enumerate() {
            let y = common::row_y(n, i);
            let v = scale.apply(r.change);
            let c = if v >= 0.0 { BLUE } else { ORANGE };
            bars.push(Rectangle::new([(0.0, y - 0.36), (v, y + 0.36)], c.filled()));
        }
        chart.draw_series(bars).map_err(de)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                DARK.stroke_width(1),
            )))
            .map_err(de)?;
        for (i, r) in rows.iter().enumerate() {
            let v = scale.apply(r.change);
            let (px, py) = chart.backend_coord(&(v, common::row_y(n, i)));
            let (h, dx) = if v >= 0.0 { (HPos::Left, 6) } else { (HPos::Right, -6) };
            let t = format_signed(v, dp);
            p.text(root, &t, (px + dx, py), VALUE, TEXT, h, VPos::Center)?;
        }
        Ok(())
    }
}

/// A named part of a change in amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangePart {
    /// Change due to new factor data (数据变化).
    Data,
    /// Change due to new weights (权重变化).
    Weights,
    /// Change due to floors and caps (保底/封顶).
    FloorsCaps,
    /// Any other part, labelled as given.
    Other(String),
}

impl ChangePart {
    /// The part's label in `lang`.
    pub fn label(&self, lang: Lang) -> String {
        match self {
            ChangePart::Data => Txt::PartData.get(lang).to_string(),
            ChangePart::Weights => Txt::PartWeights.get(lang).to_string(),
            ChangePart::FloorsCaps => Txt::PartFloorsCaps.get(lang).to_string(),
            ChangePart::Other(s) => s.clone(),
        }
    }
}

/// Waterfall of one unit's (or a group's) change: optional baseline bar, one floating bar per
/// part (from the running total before it to the running total after it), and a final bar —
/// the new amount `baseline + Σ parts` when a baseline is given, else the total change `Σ parts`.
/// With a baseline whose parts are small beside it, the value axis does not start at zero.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallChart {
    /// What is decomposed (a unit name, or e.g. `全省`); goes into the title.
    pub subject: String,
    /// Amount under the baseline formula (yuan), if shown.
    pub baseline: Option<f64>,
    /// Parts of the change, in order (yuan, signed).
    pub parts: Vec<(ChangePart, f64)>,
}

pub(super) fn waterfall_legend(lang: Lang) -> Vec<LegendItem> {
    vec![
        LegendItem::new(Txt::Gain.get(lang), Swatch::Rect(BLUE)),
        LegendItem::new(Txt::Loss.get(lang), Swatch::Rect(ORANGE)),
    ]
}

impl WaterfallChart {
    pub(super) fn title(&self, lang: Lang) -> String {
        format!("{}: {}", self.subject, Txt::WaterfallTitleSuffix.get(lang))
    }

    pub(super) fn validate(&self) -> Result<(), ReportError> {
        if let Some(b) = self.baseline {
            finite("waterfall", "baseline", &self.subject, b)?;
        }
        for (p, v) in &self.parts {
            finite("waterfall", &p.label(Lang::En), &self.subject, *v)?;
        }
        Ok(())
    }

    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        p: &Painter,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        lang: Lang,
    ) -> Result<(), ReportError> {
        if self.parts.is_empty() && self.baseline.is_none() {
            return common::no_data(p, root, body, lang);
        }
        // (label, from, to, is_part): total bars run from 0, parts float at the running total
        let start = self.baseline.unwrap_or(0.0);
        let mut steps: Vec<(String, f64, f64, bool)> = Vec::new();
        if let Some(b) = self.baseline {
            steps.push((Txt::Baseline.get(lang).to_string(), 0.0, b, false));
        }
        let mut cum = start;
        for (part, v) in &self.parts {
            steps.push((part.label(lang), cum, cum + v, true));
            cum += v;
        }
        let end_label = if self.baseline.is_some() {
            Txt::NewAmount
        } else {
            Txt::TotalChange
        };
        steps.push((end_label.get(lang).to_string(), 0.0, cum, false));

        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for (_, a, b, part) in &steps {
            // total bars contribute only their top unless the axis keeps zero
            if *part || self.baseline.is_none() {
                lo = lo.min(a.min(*b));
                hi = hi.max(a.max(*b));
            } else {
                lo = lo.min(*b);
                hi = hi.max(*b);
            }
        }
        let max_abs = hi.abs().max(lo.abs());
        let keep_zero = self.baseline.is_none() || (hi - lo) >= 0.25 * max_abs;
        // scale by the parts (the story of the chart), so 7,350,000 reads as 735 万元
        let max_part = self.parts.iter().fold(0.0f64, |m, (_, v)| m.max(v.abs()));
        let scale = scale_for(lang, Quantity::Money, if max_part > 0.0 { max_part } else { max_abs });
        let (slo, shi) = (scale.apply(lo), scale.apply(hi));
        let range = common::nice_range(common::padded(slo, shi, 0.1, keep_zero), 8);
        let floor = range.start;
        let dp = decimals_for_span(shi - slo);
        let desc = format!("{} ({})", Txt::AmountAxis.get(lang), scale.unit);
        let labels: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
        let mut chart = common::columns_chart(p, root, body, &labels, range, "", &desc)?;
        let w = 0.32;
        let mut bars = Vec::new();
        let mut texts = Vec::new();
        for (i, (_, a, b, part)) in steps.iter().enumerate() {
            let x = i as f64;
            // the part's own value (b - a would carry the running total's rounding error)
            let delta = if *part {
                i.checked_sub(usize::from(self.baseline.is_some()))
                    .and_then(|k| self.parts.get(k))
                    .map_or(b - a, |(_, v)| *v)
            } else {
                0.0
            };
            let (a, b) = (scale.apply(*a), scale.apply(*b));
            let (from, color, text) = if *part {
                let c = if b >= a { BLUE } else { ORANGE };
                (a, c, format_signed(scale.apply(delta), dp))
            } else {
                let c = if i == 0 && self.baseline.is_some() { GREY } else { DARK };
                (a.max(floor), c, format_number(b, dp))
            };
            bars.push(Rectangle::new([(x - w, from), (x + w, b)], color.filled()));
            texts.push((x, b, b >= from, text));
        }
        chart.draw_series(bars).map_err(de)?;
        // connectors between consecutive bars at the running total
        for (i, pair) in steps.windows(2).enumerate() {
            if let [(_, _, b, _), _] = pair {
                let y = scale.apply(*b);
                let x = i as f64;
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(x + w, y), (x + 1.0 - w, y)],
                        5,
                        4,
                        GREY.stroke_width(1),
                    ))
                    .map_err(de)?;
            }
        }
        if !keep_zero {
            let (l, t, _, _) = common::plot_rect(&chart);
            let note = Txt::AxisNotFromZero.get(lang);
            p.text(root, note, (l + 10, t + 8), VALUE, common::MUTED, HPos::Left, VPos::Top)?;
        }
        for (x, y, up, text) in texts {
            let (px, py) = chart.backend_coord(&(x, y));
            let (v, dy) = if up { (VPos::Bottom, -4) } else { (VPos::Top, 4) };
            p.text(root, &text, (px, py + dy), VALUE + 2.0, TEXT, HPos::Center, v)?;
        }
        Ok(())
    }
}
