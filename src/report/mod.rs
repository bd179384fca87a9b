//! Report building blocks: charts (SVG text and PNG bytes, Chinese rendered with an embedded
//! font), number formatting for axes, HTML/CSV/XLSX safety helpers and a self-contained HTML
//! page builder.
//!
//! Nothing here reads or writes files: charts return `String`/`Vec<u8>`, pages return
//! `String`; the CLI writes them. Chart inputs are plain structs of `f64` (the caller converts
//! from `Decimal` for display only) and `String` names.
//!
//! ```
//! use fundsim::report::{charts::{Chart, ChartFrame, ChangeChart, ChangeRow}, Lang};
//! let chart = Chart::Changes(ChangeChart {
//!     rows: vec![
//!         ChangeRow { name: "东乡族自治县".into(), change: 1_250_000.0 },
//!         ChangeRow { name: "临夏县".into(), change: -830_000.0 },
//!     ],
//! });
//! let frame = ChartFrame::new(Lang::Zh, "gansu-2018 方案比较");
//! let svg: String = chart.render_svg(&frame)?;
//! let png: Vec<u8> = chart.render_png(&frame)?;
//! assert!(svg.contains("东乡族自治县"));
//! assert!(png.starts_with(b"\x89PNG"));
//! # Ok::<(), fundsim::report::ReportError>(())
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod build;
pub mod charts;
pub mod font;
pub mod format;
pub mod html;
pub mod safety;
pub mod text;
pub mod workbook;

pub use safety::{html_escape, neutralise_cell};
pub use text::{Lang, Quantity, Txt};

/// Errors from chart rendering and page building.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// The embedded font could not be registered with plotters.
    #[error("font registration failed: {0}")]
    Font(String),
    /// plotters reported a drawing error.
    #[error("chart drawing failed: {0}")]
    Draw(String),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Png(String),
    /// A chart input value is NaN or infinite.
    #[error("{chart}: {field} of {row:?} is not a finite number ({value})")]
    NonFinite {
        /// Chart kind, e.g. `contributions`.
        chart: &'static str,
        /// Field name, e.g. `parts[2]`.
        field: String,
        /// Row label (unit, factor or year).
        row: String,
        /// The offending value.
        value: f64,
    },
    /// A row's data does not match the chart's shape (e.g. fewer parts than factors).
    #[error("{chart}: {row:?} has {got} values, expected {expected}")]
    Shape {
        /// Chart kind.
        chart: &'static str,
        /// Row label.
        row: String,
        /// Values found.
        got: usize,
        /// Values expected.
        expected: usize,
    },
    /// The chart would be taller than the limit; pass fewer rows (e.g. the top and bottom 50).
    #[error("{chart}: {rows} rows make a {height} px tall image (limit {limit} px); pass fewer rows")]
    TooLarge {
        /// Chart kind.
        chart: &'static str,
        /// Rows passed.
        rows: usize,
        /// Height the chart would need.
        height: u64,
        /// The limit.
        limit: u64,
    },
    /// The XLSX workbook could not be built.
    #[error("workbook: {0}")]
    Xlsx(String),
    /// An SVG given to the page builder is not one this module can inline safely.
    #[error("refusing to inline SVG: {0}")]
    UnsafeSvg(String),
}
