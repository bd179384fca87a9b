//! The embedded CJK font and its registration with plotters.
//!
//! plotters (feature `ab_glyph`, `ttf` off) looks fonts up by family name in a table filled by
//! `plotters::style::register_font`; an unregistered family is a `FontUnavailable` error. We
//! register the bundled WenQuanYi Micro Hei GB2312 subset under every family name the charts
//! use: [`FAMILY`] (which is also what SVG output names, so viewers pick a local CJK font) and
//! the generic names plotters defaults to. See `fonts/README.md` for how the subset was made.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use super::ReportError;

/// The bundled font: WenQuanYi Micro Hei, subset to ASCII, common punctuation and GB2312
/// (Apache-2.0, licence in `fonts/LICENSE-wqy-microhei.txt`).
pub static FONT_BYTES: &[u8] = include_bytes!("fonts/wqy-microhei-gb2312.ttf");

/// Family string every chart uses. SVG files carry it verbatim as `font-family`, so a viewer
/// falls back through common CJK fonts; for PNG it is registered to the bundled font.
pub const FAMILY: &str = "Microsoft YaHei, PingFang SC, Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif";

/// Every family name registered to the bundled font.
pub const REGISTERED_FAMILIES: [&str; 5] = [FAMILY, "sans-serif", "WenQuanYi Micro Hei", "serif", "monospace"];

static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the bundled font under each of [`REGISTERED_FAMILIES`] (normal style; plotters
/// falls back to normal for bold/italic). Runs once per process; later calls return the first
/// outcome. Chart rendering calls this itself.
pub fn ensure_fonts() -> Result<(), ReportError> {
    REGISTERED
        .get_or_init(|| {
            for name in REGISTERED_FAMILIES {
                register_font(name, FontStyle::Normal, FONT_BYTES)
                    .map_err(|_| format!("the bundled font could not be parsed (family {name:?})"))?;
            }
            Ok(())
        })
        .clone()
        .map_err(ReportError::Font)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use ab_glyph::{Font, FontRef};

    #[test]
    fn registration_succeeds_and_is_idempotent() {
        ensure_fonts().unwrap();
        ensure_fonts().unwrap();
    }

    #[test]
    fn font_is_small_and_covers_gb2312_and_punctuation() {
        assert!(FONT_BYTES.len() < 1_600_000, "font is {} bytes", FONT_BYTES.len());
        let font = FontRef::try_from_slice(FONT_BYTES).unwrap();
        let mut missing = Vec::new();
        let mut hanzi = 0;
        // GB2312 hanzi: rows 0xB0..=0xF7, cells 0xA1..=0xFE, except the five unassigned
        // cells 0xD7FA..=0xD7FE: 6,763 characters.
        for hi in 0xB0u8..=0xF7 {
            for lo in 0xA1u8..=0xFE {
                if hi == 0xD7 && lo > 0xF9 {
                    continue;
                }
                let bytes = [hi, lo];
                let (s, _, had_errors) = encoding_rs::GBK.decode(&bytes);
                assert!(!had_errors);
                for c in s.chars() {
                    hanzi += 1;
                    if font.glyph_id(c).0 == 0 {
                        missing.push(c);
                    }
                }
            }
        }
        assert_eq!(hanzi, 6763);
        for c in "，。：；（）、《》“”％！？·—…0123456789ABCxyz%()-+.,:;/".chars() {
            if font.glyph_id(c).0 == 0 {
                missing.push(c);
            }
        }
        assert!(missing.is_empty(), "missing glyphs: {missing:?}");
        for c in "东乡族自治县积石山保安族撒拉族临夏甘南藏族".chars() {
            assert_ne!(font.glyph_id(c).0, 0, "{c}");
        }
    }
}
