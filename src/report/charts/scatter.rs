//! (b) Amount per capita against poverty incidence, poverty and deep-poverty units marked.

use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, EmptyElement, Rectangle, TriangleMarker};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{Color, WHITE};

use super::common::{self, de, finite, LegendItem, Swatch, GREY, ORANGE, RED, TEXT, VALUE};
use super::paint::Painter;
use crate::report::format::scale_for;
use crate::report::text::{Lang, Quantity, Txt};
use crate::report::ReportError;

/// Poverty status of a unit, which decides its marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PovertyClass {
    /// Neither (grey circle).
    #[default]
    Other,
    /// 贫困县 (orange triangle).
    Poverty,
    /// 深度贫困县 (red square).
    DeepPoverty,
}

/// One unit in the scatter.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPoint {
    /// Unit name (drawn beside the point when `label` is set).
    pub name: String,
    /// Poverty incidence as a fraction (0.12 = 12%); plotted in percent.
    pub incidence: f64,
    /// Amount per capita in yuan per person.
    pub per_capita: f64,
    /// Marker class.
    pub class: PovertyClass,
    /// Draw the name beside the point (use for a handful of outliers).
    pub label: bool,
}

/// Scatter of amount per capita (y) against poverty incidence (x, percent).
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterChart {
    /// Points, any order (drawn Other, then Poverty, then DeepPoverty on top).
    pub points: Vec<ScatterPoint>,
}

pub(super) fn title(lang: Lang) -> String {
    Txt::ScatterTitle.get(lang).to_string()
}

pub(super) fn legend(lang: Lang) -> Vec<LegendItem> {
    vec![
        LegendItem::new(Txt::OtherUnits.get(lang), Swatch::Circle(GREY)),
        LegendItem::new(Txt::PovertyUnits.get(lang), Swatch::Triangle(ORANGE)),
        LegendItem::new(Txt::DeepPovertyUnits.get(lang), Swatch::Square(RED)),
    ]
}

impl ScatterChart {
    pub(super) fn validate(&self) -> Result<(), ReportError> {
        for p in &self.points {
            finite("scatter", "incidence", &p.name, p.incidence)?;
            finite("scatter", "per_capita", &p.name, p.per_capita)?;
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
        if self.points.is_empty() {
            return common::no_data(p, root, body, lang);
        }
        let fold = |f: fn(&ScatterPoint) -> f64| {
            self.points
                .iter()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
        };
        let (xlo, xhi) = fold(|p| p.incidence * 100.0);
        let (ylo, yhi) = fold(|p| p.per_capita);
        let scale = scale_for(lang, Quantity::MoneyPerPerson, ylo.abs().max(yhi.abs()));
        let x = common::nice_range(common::padded(xlo, xhi, 0.03, xlo >= 0.0 && xlo < 0.3 * xhi), 10);
        let (sylo, syhi) = (scale.apply(ylo), scale.apply(yhi));
        let y = common::nice_range(common::padded(sylo, syhi, 0.04, sylo >= 0.0 && sylo < 0.3 * syhi), 8);
        let y_desc = format!("{} ({})", Txt::PerCapitaAxis.get(lang), scale.unit);
        let x_axis = common::Axis::numeric(&x, 10, Txt::IncidenceAxis.get(lang));
        let y_axis = common::Axis::numeric(&y, 8, &y_desc);
        let mut chart = common::xy_chart(p, root, body, x, &x_axis, y, &y_axis)?;
        let pt = |q: &ScatterPoint| (q.incidence * 100.0, scale.apply(q.per_capita));
        let of = |c: PovertyClass| self.points.iter().filter(move |q| q.class == c);
        chart
            .draw_series(of(PovertyClass::Other).map(|q| {
                EmptyElement::at(pt(q)) + Circle::new((0, 0), 6, GREY.mix(0.8).filled()) + Circle::new((0, 0), 6, WHITE.stroke_width(1))
            }))
            .map_err(de)?;
        chart
            .draw_series(of(PovertyClass::Poverty).map(|q| EmptyElement::at(pt(q)) + TriangleMarker::new((0, 0), 9, ORANGE.filled())))
            .map_err(de)?;
        chart
            .draw_series(of(PovertyClass::DeepPoverty).map(|q| {
                EmptyElement::at(pt(q))
                    + Rectangle::new([(-7, -7), (7, 7)], RED.filled())
                    + Rectangle::new([(-7, -7), (7, 7)], WHITE.stroke_width(1))
            }))
            .map_err(de)?;
        let (_, _, right, _) = common::plot_rect(&chart);
        for q in self.points.iter().filter(|q| q.label) {
            let (px, py) = chart.backend_coord(&pt(q));
            let w = i32::try_from(common::text_width(&q.name, VALUE)).unwrap_or(0);
            // put the name on the left when it would run past the plot
            let (x, h) = if px + 11 + w > right {
                (px - 11, HPos::Right)
            } else {
                (px + 11, HPos::Left)
            };
            p.text(root, &q.name, (x, py), VALUE, TEXT, h, VPos::Center)?;
        }
        Ok(())
    }
}
