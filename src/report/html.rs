//! A small builder for one self-contained HTML report page.
//!
//! The page has no network references: CSS is inline, charts are inline SVG or PNG `data:`
//! URIs, there is no script. All text given to the builder (titles, captions, table cells,
//! paragraphs) is HTML-escaped; only SVG produced by [`crate::report::charts`] is inlined raw,
//! and only after [`InlineSvg::new`] has checked it. The CSS reads on a projector (18 px base,
//! high contrast) and prints cleanly on A4 (no navigation, headers repeated, no link colours).

use std::fmt::Write as _;

use super::safety::html_escape;
use super::text::{Lang, Txt};
use super::ReportError;

/// SVG text checked to be safe to inline: one `<svg>` element with no script, foreign object,
/// frame, embedded object, image, link or style element. The XML prolog and the SVG
/// namespace attribute (an `http://` string, not needed inline in HTML5) are removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineSvg(String);

impl InlineSvg {
    /// Checks and normalises `svg` (e.g. from [`Chart::render_svg`](super::charts::Chart::render_svg)).
    pub fn new(svg: &str) -> Result<Self, ReportError> {
        let mut s = svg.trim();
        if s.starts_with("<?xml") {
            s = s.split_once("?>").map(|(_, rest)| rest.trim_start()).unwrap_or("");
        }
        if !s.starts_with("<svg") || !s.ends_with("</svg>") {
            return Err(ReportError::UnsafeSvg("not a single <svg> element".to_string()));
        }
        let lower = s.to_ascii_lowercase();
        for tag in [
            "<script",
            "<foreignobject",
            "<iframe",
            "<object",
            "<embed",
            "<image",
            "<a ",
            "<a>",
            "<use",
            "<style",
            "<!entity",
            "<!doctype",
        ] {
            if lower.contains(tag) {
                return Err(ReportError::UnsafeSvg(format!("contains {tag}")));
            }
        }
        let s = s.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
        Ok(InlineSvg(s))
    }

    /// The checked SVG text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A table of strings; cells that are plain numbers are right-aligned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Caption above the table.
    pub caption: Option<String>,
    /// Column headings.
    pub header: Vec<String>,
    /// Rows of cells (rows may be shorter or longer than the header).
    pub rows: Vec<Vec<String>>,
}

/// A chart image: inline SVG or PNG bytes (embedded as a base64 `data:` URI).
#[derive(Debug, Clone, PartialEq)]
pub enum FigureImage {
    /// Inline SVG (scales with the page, text selectable).
    Svg(InlineSvg),
    /// PNG bytes.
    Png(Vec<u8>),
}

/// One piece of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph of text.
    Paragraph(String),
    /// A highlighted note (e.g. a finding).
    Note(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table.
    Table(Table),
    /// A chart with its caption.
    Figure {
        /// Caption under the chart (also the image's alt text).
        caption: String,
        /// The chart.
        image: FigureImage,
    },
    /// Preformatted text (e.g. a findings file), wrapped.
    Preformatted(String),
    /// A line of links to files beside the page, e.g. the full CSV of a truncated table or a
    /// chart's SVG and PNG: `(text, relative path)`. A path that is not a plain relative path
    /// (see [`is_relative_href`]) is printed as text, not linked.
    Links(Vec<(String, String)>),
}

/// Whether `href` is a plain relative path to a file beside the page: ASCII letters, digits,
/// `-`, `_`, `.` and `/` only, no leading `/`, no `..` segment, no scheme (so no `javascript:`
/// and no network address).
pub fn is_relative_href(href: &str) -> bool {
    !href.is_empty()
        && !href.starts_with('/')
        && href
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        && !href.split('/').any(|seg| seg == ".." || seg.is_empty())
}

/// A titled section with an anchor.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    id: String,
    title: String,
    blocks: Vec<Block>,
}

impl Section {
    /// Appends a paragraph.
    pub fn paragraph(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }
    /// Appends a highlighted note.
    pub fn note(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Note(text.into()));
        self
    }
    /// Appends a bulleted list.
    pub fn list(&mut self, items: Vec<String>) -> &mut Self {
        self.blocks.push(Block::List(items));
        self
    }
    /// Appends a table.
    pub fn table(&mut self, table: Table) -> &mut Self {
        self.blocks.push(Block::Table(table));
        self
    }
    /// Appends an inline SVG chart; fails if the SVG does not pass [`InlineSvg::new`].
    pub fn svg(&mut self, caption: impl Into<String>, svg: &str) -> Result<&mut Self, ReportError> {
        let image = FigureImage::Svg(InlineSvg::new(svg)?);
        self.blocks.push(Block::Figure {
            caption: caption.into(),
            image,
        });
        Ok(self)
    }
    /// Appends a PNG chart (embedded as base64).
    pub fn png(&mut self, caption: impl Into<String>, png: Vec<u8>) -> &mut Self {
        self.blocks.push(Block::Figure {
            caption: caption.into(),
            image: FigureImage::Png(png),
        });
        self
    }
    /// Appends preformatted text.
    pub fn preformatted(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Preformatted(text.into()));
        self
    }
    /// Appends a line of links to files beside the page (see [`Block::Links`]).
    pub fn links(&mut self, links: Vec<(String, String)>) -> &mut Self {
        self.blocks.push(Block::Links(links));
        self
    }
    /// Appends any block.
    pub fn push(&mut self, block: Block) -> &mut Self {
        self.blocks.push(block);
        self
    }
}

/// One HTML page: title, optional subtitle, a contents list, sections, footer.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    lang: Lang,
    title: String,
    subtitle: Option<String>,
    sections: Vec<Section>,
    footer: Option<String>,
    embed_font: bool,
}

impl Page {
    /// An empty page in `lang` (`<html lang="zh-CN">` or `"en"`).
    pub fn new(lang: Lang, title: impl Into<String>) -> Self {
        Page {
            lang,
            title: title.into(),
            subtitle: None,
            sections: Vec::new(),
            footer: None,
            embed_font: true,
        }
    }

    /// Whether to embed the bundled CJK font as a `data:` `@font-face` (default on; adds
    /// about 1.7 MB). With it, Chinese in tables and inline SVG renders on a machine with no
    /// CJK font installed (e.g. a fresh headless Chromium): the face is named
    /// `WenQuanYi Micro Hei`, which is in both the page's and the charts' font lists, after the
    /// common system CJK fonts, so a local font is still preferred where there is one.
    pub fn embed_font(&mut self, on: bool) -> &mut Self {
        self.embed_font = on;
        self
    }

    /// Sets the line under the title.
    pub fn subtitle(&mut self, text: impl Into<String>) -> &mut Self {
        self.subtitle = Some(text.into());
        self
    }

    /// Sets extra footer text (after "Generated by fundsim").
    pub fn footer(&mut self, text: impl Into<String>) -> &mut Self {
        self.footer = Some(text.into());
        self
    }

    /// Adds a section and returns it for filling. `id` becomes the anchor after keeping only
    /// ASCII letters, digits, `-` and `_` (others become `-`), made unique with a suffix.
    pub fn section(&mut self, id: &str, title: impl Into<String>) -> &mut Section {
        let mut base: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        if base.is_empty() || !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
            base.insert_str(0, "s-");
        }
        let mut id = base.clone();
        let mut k = 2;
        while self.sections.iter().any(|s| s.id == id) {
            id = format!("{base}-{k}");
            k += 1;
        }
        self.sections.push(Section {
            id,
            title: title.into(),
            blocks: Vec::new(),
        });
        let last = self.sections.len() - 1;
        // the section was just pushed, so `last` is in range
        #[allow(clippy::indexing_slicing)]
        &mut self.sections[last]
    }

    /// The whole page as one UTF-8 HTML string.
    pub fn render(&self) -> String {
        let mut h = String::with_capacity(64 * 1024);
        let e = |s: &str| html_escape(s).into_owned();
        h.push_str("<!DOCTYPE html>\n");
        let _ = writeln!(h, "<html lang=\"{}\">", self.lang.html_tag());
        h.push_str("<head>\n<meta charset=\"utf-8\">\n");
        h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(h, "<title>{}</title>", e(&self.title));
        h.push_str("<style>\n");
        if self.embed_font {
            h.push_str("@font-face { font-family: \"WenQuanYi Micro Hei\"; font-display: block;\n  src: url(data:font/ttf;base64,");
            h.push_str(font_base64());
            h.push_str(") format(\"truetype\"); }\n");
        }
        h.push_str(CSS);
        h.push_str("</style>\n");
        h.push_str("</head>\n<body>\n<main>\n<header class=\"page\">\n");
        let _ = writeln!(h, "<h1>{}</h1>", e(&self.title));
        if let Some(s) = &self.subtitle {
            let _ = writeln!(h, "<p class=\"subtitle\">{}</p>", e(s));
        }
        h.push_str("</header>\n");
        if self.sections.len() > 1 {
            let _ = writeln!(h, "<nav class=\"toc\"><h2>{}</h2>\n<ol>", Txt::Contents.get(self.lang));
            for s in &self.sections {
                let _ = writeln!(h, "<li><a href=\"#{}\">{}</a></li>", s.id, e(&s.title));
            }
            h.push_str("</ol></nav>\n");
        }
        for s in &self.sections {
            let _ = writeln!(h, "<section id=\"{}\">\n<h2>{}</h2>", s.id, e(&s.title));
            for b in &s.blocks {
                render_block(&mut h, b);
            }
            h.push_str("</section>\n");
        }
        h.push_str("<footer>");
        h.push_str(Txt::GeneratedBy.get(self.lang));
        if let Some(f) = &self.footer {
            let _ = write!(h, " · {}", e(f));
        }
        h.push_str("</footer>\n</main>\n</body>\n</html>\n");
        h
    }
}

fn render_block(h: &mut String, b: &Block) {
    let e = |s: &str| html_escape(s).into_owned();
    match b {
        Block::Paragraph(t) => {
            let _ = writeln!(h, "<p>{}</p>", e(t));
        }
        Block::Note(t) => {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", e(t));
        }
        Block::List(items) => {
            h.push_str("<ul>\n");
            for i in items {
                let _ = writeln!(h, "<li>{}</li>", e(i));
            }
            h.push_str("</ul>\n");
        }
        Block::Preformatted(t) => {
            let _ = writeln!(h, "<pre>{}</pre>", e(t));
        }
        Block::Links(links) => {
            h.push_str("<p class=\"links\">");
            for (i, (text, href)) in links.iter().enumerate() {
                if i > 0 {
                    h.push_str(" · ");
                }
                if is_relative_href(href) {
                    let _ = write!(h, "<a href=\"{}\">{}</a>", e(href), e(text));
                } else {
                    h.push_str(&e(text));
                }
            }
            h.push_str("</p>\n");
        }
        Block::Table(t) => {
            h.push_str("<div class=\"table-wrap\"><table>\n");
            if let Some(c) = &t.caption {
                let _ = writeln!(h, "<caption>{}</caption>", e(c));
            }
            if !t.header.is_empty() {
                h.push_str("<thead><tr>");
                for c in &t.header {
                    let _ = write!(h, "<th scope=\"col\">{}</th>", e(c));
                }
                h.push_str("</tr></thead>\n");
            }
            h.push_str("<tbody>\n");
            for row in &t.rows {
                h.push_str("<tr>");
                for c in row {
                    if super::safety::is_plain_number(c.trim()) {
                        let _ = write!(h, "<td class=\"num\">{}</td>", e(c));
                    } else {
                        let _ = write!(h, "<td>{}</td>", e(c));
                    }
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</tbody></table></div>\n");
        }
        Block::Figure { caption, image } => {
            // a figure taller than about an A4 page is scaled to one page when printed
            let tall = image_size(image).is_some_and(|(w, ht)| u64::from(ht) * 4 > u64::from(w) * 5);
            h.push_str(if tall { "<figure class=\"tall\">\n" } else { "<figure>\n" });
            match image {
                FigureImage::Svg(svg) => {
                    let _ = writeln!(
                        h,
                        "<div class=\"chart\" role=\"img\" aria-label=\"{}\">{}</div>",
                        e(caption),
                        svg.as_str()
                    );
                }
                FigureImage::Png(bytes) => {
                    let _ = writeln!(
                        h,
                        "<img class=\"chart\" alt=\"{}\" src=\"data:image/png;base64,{}\">",
                        e(caption),
                        base64(bytes)
                    );
                }
            }
            let _ = writeln!(h, "<figcaption>{}</figcaption>\n</figure>", e(caption));
        }
    }
}

/// Pixel size of a figure: the root `width`/`height` attributes of an SVG, or a PNG's IHDR.
fn image_size(image: &FigureImage) -> Option<(u32, u32)> {
    match image {
        FigureImage::Png(b) => {
            let w = b.get(16..20)?;
            let h = b.get(20..24)?;
            let be = |s: &[u8]| s.try_into().ok().map(u32::from_be_bytes);
            Some((be(w)?, be(h)?))
        }
        FigureImage::Svg(svg) => {
            let head = svg.as_str().split('>').next()?;
            let attr = |name: &str| -> Option<u32> {
                let start = head.find(&format!(" {name}=\""))? + name.len() + 3;
                let rest = head.get(start..)?;
                rest.get(..rest.find('"')?)?.trim().parse::<f64>().ok().map(|v| v as u32)
            };
            Some((attr("width")?, attr("height")?))
        }
    }
}

/// The bundled font as base64, computed once.
fn font_base64() -> &'static str {
    static B64: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    B64.get_or_init(|| base64(super::font::FONT_BYTES))
}

/// Standard base64 (RFC 4648, with `=` padding) of `bytes`.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(A.get((i & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// The page's style sheet: projector-friendly on screen, clean on A4 paper.
pub const CSS: &str = r#"*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #fff; color: #1a1a1a; font-size: 18px; line-height: 1.6;
  font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC",
    "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 48px; }
header.page h1 { font-size: 2em; line-height: 1.25; margin: 0.3em 0 0.1em; }
.subtitle { color: #4a4a4a; font-size: 1.1em; margin: 0 0 1em; }
h2 { font-size: 1.5em; line-height: 1.3; margin: 1.8em 0 0.6em; padding-bottom: 0.2em;
  border-bottom: 3px solid #4e79a7; }
nav.toc h2 { font-size: 1.2em; border: none; margin: 1em 0 0.3em; }
nav.toc ol { margin: 0; padding-left: 1.6em; columns: 2; }
a { color: #1f4e8c; }
p.note { background: #fff6e5; border-left: 5px solid #f28e2b; padding: 0.6em 1em; }
pre { white-space: pre-wrap; word-break: break-word; background: #f5f5f5; padding: 1em;
  font-size: 0.9em; border-radius: 4px; }
.table-wrap { overflow-x: auto; margin: 1em 0; }
table { border-collapse: collapse; font-size: 0.95em; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
th, td { border: 1px solid #c8c8c8; padding: 0.35em 0.75em; text-align: left; vertical-align: top; }
th { background: #e8eef6; font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f6f6f6; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; }
.chart { display: block; max-width: 100%; height: auto; }
div.chart svg { display: block; max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.95em; margin-top: 0.4em; }
p.links { font-size: 0.9em; color: #444; margin: 0.3em 0 1em; }
footer { color: #666; font-size: 0.85em; margin-top: 3em; padding-top: 0.8em;
  border-top: 1px solid #ddd; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section + section { break-before: page; page-break-before: always; }
  figure, tr, p.note { break-inside: avoid; page-break-inside: avoid; }
  figure.tall img.chart, figure.tall div.chart svg { max-height: 215mm; width: auto; margin: 0 auto; }
  thead { display: table-header-group; }
  .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
  tbody tr:nth-child(even) { background: #f2f2f2; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn hostile_unit_names_are_inert() {
        let mut page = Page::new(Lang::Zh, "<script>alert(1)</script> 报告");
        page.subtitle("\"><img src=x onerror=alert(1)>");
        let s = page.section("alloc\"><x", "分配 <b>");
        s.paragraph("<script>alert(1)</script>");
        s.table(Table {
            caption: Some("<i>cap</i>".into()),
            header: vec!["单位".into(), "金额".into()],
            rows: vec![
                vec!["<script>alert(1)</script>".into(), "1,234.50".into()],
                vec!["=HYPERLINK(\"x\")".into(), "-12".into()],
            ],
        });
        s.list(vec!["<iframe>".into()]);
        page.section("other", "其他").note("a & b");
        let html = page.render();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("<iframe"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("<td class=\"num\">1,234.50</td>"));
        assert!(html.contains("<td class=\"num\">-12</td>"));
        assert!(html.contains("id=\"alloc---x\""));
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
    }

    #[test]
    fn page_has_no_network_references() {
        let mut page = Page::new(Lang::En, "t");
        page.section("a", "A").png("png", vec![1, 2, 3]);
        page.section("b", "B")
            .svg(
                "svg",
                "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\">\n<text>x</text>\n</svg>",
            )
            .unwrap();
        let html = page.render();
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(!html.contains("http:"), "{html}");
        assert!(!html.contains("https:"));
        assert!(!html.contains("<link"));
        assert!(!html.contains("@import"));
        // the only url() is the embedded font's data: URI
        assert_eq!(html.matches("url(").count(), 1);
        assert!(html.contains("url(data:font/ttf;base64,AAEAAA"));
        assert!(html.contains("src=\"data:image/png;base64,AQID\""));
        assert!(html.contains("<svg width=\"10\""));
    }

    #[test]
    fn tall_figures_are_marked_for_print_scaling() {
        let svg = |w: u32, h: u32| format!("<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"><text>x</text></svg>");
        let mut page = Page::new(Lang::Zh, "t");
        page.embed_font(false);
        let s = page.section("a", "A");
        s.svg("short", &svg(1200, 780)).unwrap();
        s.svg("tall", &svg(1200, 2576)).unwrap();
        let mut png = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13];
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&1200u32.to_be_bytes());
        png.extend_from_slice(&3000u32.to_be_bytes());
        s.png("tall png", png);
        let html = page.render();
        assert_eq!(html.matches("<figure class=\"tall\">").count(), 2);
        assert_eq!(html.matches("<figure>").count(), 1);
        assert!(!html.contains("@font-face"));
    }

    #[test]
    fn unsafe_svg_is_refused() {
        for bad in [
            "<svg><script>alert(1)</script></svg>",
            "<svg><foreignObject><div/></foreignObject></svg>",
            "<p>not svg</p>",
            "<svg><a href=\"javascript:x\">t</a></svg>",
        ] {
            assert!(InlineSvg::new(bad).is_err(), "{bad}");
        }
        let ok = InlineSvg::new("<?xml version=\"1.0\"?>\n<svg><text>&lt;script&gt;</text></svg>").unwrap();
        assert_eq!(ok.as_str(), "<svg><text>&lt;script&gt;</text></svg>");
    }

    #[test]
    fn links_are_relative_or_plain_text() {
        let mut page = Page::new(Lang::Zh, "t");
        page.embed_font(false);
        page.section("a", "A").links(vec![
            ("完整数据 allocation.csv".into(), "allocation.csv".into()),
            ("SVG".into(), "charts/contributions.svg".into()),
            ("bad".into(), "javascript:alert(1)".into()),
            ("up".into(), "../secret.csv".into()),
            ("abs".into(), "/etc/passwd".into()),
            ("<b>x</b>".into(), "https://example.com/x".into()),
        ]);
        let html = page.render();
        assert!(html.contains("<a href=\"allocation.csv\">完整数据 allocation.csv</a>"));
        assert!(html.contains("<a href=\"charts/contributions.svg\">SVG</a>"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("href=\"../"));
        assert!(!html.contains("href=\"/etc"));
        assert!(!html.contains("https:"));
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(!is_relative_href("a//b"));
        assert!(is_relative_href("a.b/c-d_e.png"));
    }

    #[test]
    fn section_ids_are_unique_and_safe() {
        let mut page = Page::new(Lang::Zh, "t");
        page.section("分配", "a");
        page.section("分配", "b");
        page.section("9x", "c");
        let html = page.render();
        assert!(html.contains("id=\"s---\""));
        assert!(html.contains("id=\"s----2\""));
        assert!(html.contains("id=\"s-9x\""));
    }
}
