//! Text for charts: measured and, for PNG, rasterised with ab_glyph at correct glyph positions.
//!
//! plotters' own ab_glyph text drawing places each glyph's ink box at the pen position,
//! dropping the glyph's side bearing, so Chinese labels come out unevenly spaced ("自 治县").
//! Charts therefore send every string through a [`Painter`]: for SVG it emits a plotters
//! `<text>` element (the viewer lays it out with a local font); for PNG it records the text and,
//! after plotters has drawn the shapes, composites it into the RGB buffer from the embedded
//! font with proper advances, bearings and kerning.
//!
//! Sizes follow plotters' convention: size `S` is an em of `S / 1.24` px (what SVG output
//! writes as `font-size`), so PNG and SVG text have the same size.

use std::cell::RefCell;
use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform, IntoFont, RGBColor};

use crate::report::font::{FAMILY, FONT_BYTES};
use crate::report::ReportError;

static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();

fn font() -> Result<&'static FontRef<'static>, ReportError> {
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
        .ok_or_else(|| ReportError::Font("the bundled font could not be parsed".to_string()))
}

/// ab_glyph scale for plotters size `size`: em = size / 1.24 px, and a `PxScale` is the
/// ascent-to-descent height, so scale = em × height / units_per_em.
fn px_scale(f: &FontRef<'static>, size: f64) -> PxScale {
    let upem = f.units_per_em().unwrap_or(1000.0);
    let height = f.height_unscaled();
    PxScale::from((size / 1.24) as f32 * height / upem)
}

/// Width in px of `text` at plotters size `size` (advances plus kerning), 0 without a font.
pub(super) fn text_width(text: &str, size: f64) -> u32 {
    let Ok(f) = font() else { return 0 };
    let sf = f.as_scaled(px_scale(f, size));
    let mut w = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            w += sf.kern(p, id);
        }
        w += sf.h_advance(id);
        prev = Some(id);
    }
    w.ceil().max(0.0) as u32
}

/// How text is produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// As plotters `<text>` elements.
    Svg,
    /// Recorded, then composited into the RGB buffer by [`Painter::composite`].
    Raster,
}

#[derive(Clone)]
struct TextOp {
    text: String,
    x: i32,
    y: i32,
    size: f64,
    color: RGBColor,
    h: HPos,
    v: VPos,
    rotate: bool,
}

/// Draws (SVG) or records (PNG) every string of a chart.
pub(super) struct Painter {
    mode: Mode,
    ops: RefCell<Vec<TextOp>>,
}

impl Painter {
    pub(super) fn new(mode: Mode) -> Self {
        Painter {
            mode,
            ops: RefCell::new(Vec::new()),
        }
    }

    /// Draws `text` at absolute pixel `(x, y)` on `root`, anchored by `h`/`v`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn text<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &str,
        (x, y): (i32, i32),
        size: f64,
        color: RGBColor,
        h: HPos,
        v: VPos,
    ) -> Result<(), ReportError> {
        self.emit(root, text, x, y, size, color, h, v, false)
    }

    /// Draws `text` rotated to read bottom-to-top (for y-axis titles); `h` anchors along the
    /// text, `v` across it (`VPos::Top`: the glyphs lie to the right of `x`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn text_up<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &str,
        (x, y): (i32, i32),
        size: f64,
        color: RGBColor,
        h: HPos,
        v: VPos,
    ) -> Result<(), ReportError> {
        self.emit(root, text, x, y, size, color, h, v, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn emit<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &str,
        x: i32,
        y: i32,
        size: f64,
        color: RGBColor,
        h: HPos,
        v: VPos,
        rotate: bool,
    ) -> Result<(), ReportError> {
        if text.is_empty() {
            return Ok(());
        }
        match self.mode {
            Mode::Svg => {
                let mut style = FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
                    .into_font()
                    .color(&color)
                    .pos(Pos::new(h, v));
                if rotate {
                    style = style.transform(FontTransform::Rotate270);
                }
                root.draw_text(text, &style, (x, y)).map_err(|e| ReportError::Draw(e.to_string()))
            }
            Mode::Raster => {
                self.ops.borrow_mut().push(TextOp {
                    text: text.to_string(),
                    x,
                    y,
                    size,
                    color,
                    h,
                    v,
                    rotate,
                });
                Ok(())
            }
        }
    }

    /// Composites the recorded text into `rgb` (`w * h * 3` bytes, row-major); pixels
    /// outside the buffer are skipped.
    pub(super) fn composite(&self, rgb: &mut [u8], w: u32, h: u32) -> Result<(), ReportError> {
        let f = font()?;
        for op in self.ops.borrow().iter() {
            draw_op(f, op, rgb, w, h);
        }
        Ok(())
    }
}

fn draw_op(f: &FontRef<'static>, op: &TextOp, rgb: &mut [u8], w: u32, h: u32) {
    let scale = px_scale(f, op.size);
    let sf = f.as_scaled(scale);
    let em = (op.size / 1.24) as f32;
    // Lay out along a local baseline at y = 0.
    let mut pen = 0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(op.text.chars().count());
    for c in op.text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            pen += sf.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(scale, point(pen, 0.0)));
        pen += sf.h_advance(id);
        prev = Some(id);
    }
    let dx = match op.h {
        HPos::Left => 0.0,
        HPos::Center => -pen / 2.0,
        HPos::Right => -pen,
    };
    // Ideographs span about -0.12 em .. 0.88 em around the baseline.
    let baseline = match op.v {
        VPos::Top => 0.88 * em,
        VPos::Center => 0.38 * em,
        VPos::Bottom => -0.12 * em,
    };
    let (wi, hi) = (i64::from(w), i64::from(h));
    let [r, g, b] = [op.color.0, op.color.1, op.color.2].map(f32::from);
    for glyph in glyphs {
        let Some(outlined) = f.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, cov| {
            if cov <= 0.0 {
                return;
            }
            // local coordinates: u along the text, v down across it
            let u = bounds.min.x + gx as f32 + dx;
            let v = bounds.min.y + gy as f32 + baseline;
            let (px, py) = if op.rotate {
                (op.x as f32 + v, op.y as f32 - u)
            } else {
                (op.x as f32 + u, op.y as f32 + v)
            };
            let (px, py) = (px.floor() as i64, py.floor() as i64);
            if px < 0 || py < 0 || px >= wi || py >= hi {
                return;
            }
            let idx = usize::try_from((py * wi + px) * 3).unwrap_or(usize::MAX);
            if let Some(p) = rgb.get_mut(idx..idx.saturating_add(3)) {
                let a = cov.min(1.0);
                for (dst, src) in p.iter_mut().zip([r, g, b]) {
                    *dst = (f32::from(*dst) * (1.0 - a) + src * a).round() as u8;
                }
            }
        });
    }
}
