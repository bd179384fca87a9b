//! (c) Remaining headcount per year against the target path, with an optional 5–95% band.

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, Polygon};
use plotters::series::{DashedLineSeries, LineSeries};
use plotters::style::Color;

use super::common::{self, de, finite, LegendItem, Swatch, BLUE, RED};
use super::paint::Painter;
use crate::report::format::scale_for;
use crate::report::text::{Lang, Quantity, Txt};
use crate::report::ReportError;

/// One year of the projection; any field may be missing for a year.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionPoint {
    /// Calendar year.
    pub year: i32,
    /// Remaining poor headcount (filed or projected mean/median) at the end of the year.
    pub remaining: Option<f64>,
    /// Target remaining headcount from the exit plan.
    pub target: Option<f64>,
    /// Monte Carlo 5th and 95th percentiles of the remaining headcount.
    pub band: Option<(f64, f64)>,
}

/// Line chart of remaining headcount (solid, with markers) and target path (dashed) by year,
/// with the 5–95% band shaded where given.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionChart {
    /// Years, any order (sorted before drawing).
    pub points: Vec<ProjectionPoint>,
}

pub(super) fn title(lang: Lang) -> String {
    Txt::ProjectionTitle.get(lang).to_string()
}

impl ProjectionChart {
    pub(super) fn validate(&self) -> Result<(), ReportError> {
        for p in &self.points {
            let row = p.year.to_string();
            if let Some(v) = p.remaining {
                finite("projection", "remaining", &row, v)?;
            }
            if let Some(v) = p.target {
                finite("projection", "target", &row, v)?;
            }
            if let Some((a, b)) = p.band {
                finite("projection", "band.0", &row, a)?;
                finite("projection", "band.1", &row, b)?;
            }
        }
        Ok(())
    }

    pub(super) fn legend(&self, lang: Lang) -> Vec<LegendItem> {
        let mut v = vec![
            LegendItem::new(Txt::Remaining.get(lang), Swatch::Line(BLUE)),
            LegendItem::new(Txt::TargetPath.get(lang), Swatch::Dashed(RED)),
        ];
        if self.points.iter().any(|p| p.band.is_some()) {
            v.push(LegendItem::new(Txt::Band5To95.get(lang), Swatch::Band(BLUE)));
        }
        v
    }

    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        p: &Painter,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        lang: Lang,
    ) -> Result<(), ReportError> {
        let mut pts = self.points.clone();
        pts.sort_by_key(|q| q.year);
        let values: Vec<f64> = pts
            .iter()
            .flat_map(|q| {
                let (a, b) = q.band.unzip();
                [q.remaining, q.target, a, b]
            })
            .flatten()
            .collect();
        let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
            return common::no_data(p, root, body, lang);
        };
        if values.is_empty() {
            return common::no_data(p, root, body, lang);
        }
        let vmax = values.iter().fold(0.0f64, |m, v| m.max(*v));
        let vmin = values.iter().fold(0.0f64, |m, v| m.min(*v));
        let scale = scale_for(lang, Quantity::Persons, vmax.max(-vmin));
        let y = common::nice_range(common::padded(scale.apply(vmin), scale.apply(vmax), 0.03, true), 8);
        let x = (f64::from(first.year) - 0.4)..(f64::from(last.year) + 0.4);
        let years = usize::try_from(last.year - first.year).unwrap_or(0) + 1;
        let step = years.div_ceil(12).max(1);
        let x_axis = common::Axis {
            ticks: (first.year..=last.year).step_by(step).map(f64::from).collect(),
            fmt: Box::new(|v| format!("{}", v.round())),
            desc: Txt::YearAxis.get(lang),
        };
        let y_desc = format!("{} ({})", Txt::RemainingAxis.get(lang), scale.unit);
        let y_axis = common::Axis::numeric(&y, 8, &y_desc);
        let mut chart = common::xy_chart(p, root, body, x, &x_axis, y, &y_axis)?;
        // band: consecutive years with a band form one polygon each
        let mut run: Vec<(f64, f64, f64)> = Vec::new();
        let mut runs = Vec::new();
        for q in &pts {
            match q.band {
                Some((a, b)) => run.push((f64::from(q.year), scale.apply(a), scale.apply(b))),
                None => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        for r in runs.into_iter().filter(|r| r.len() >= 2) {
            let mut poly: Vec<(f64, f64)> = r.iter().map(|(x, _, hi)| (*x, *hi)).collect();
            poly.extend(r.iter().rev().map(|(x, lo, _)| (*x, *lo)));
            chart
                .draw_series(std::iter::once(Polygon::new(poly, BLUE.mix(0.22).filled())))
                .map_err(de)?;
        }
        let target: Vec<(f64, f64)> = pts
            .iter()
            .filter_map(|q| q.target.map(|v| (f64::from(q.year), scale.apply(v))))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(target, 12, 8, RED.stroke_width(3)))
            .map_err(de)?;
        let remaining: Vec<(f64, f64)> = pts
            .iter()
            .filter_map(|q| q.remaining.map(|v| (f64::from(q.year), scale.apply(v))))
            .collect();
        chart
            .draw_series(LineSeries::new(remaining.clone(), BLUE.stroke_width(3)))
            .map_err(de)?;
        chart
            .draw_series(remaining.into_iter().map(|c| Circle::new(c, 6, BLUE.filled())))
            .map_err(de)?;
        Ok(())
    }
}
