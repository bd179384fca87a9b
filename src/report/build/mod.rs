//! The whole report of a scenario (`fundsim report S` / `fundsim run S`): run every step the
//! scenario has data for, then return every output file as bytes — the tables as CSV, each
//! chart as SVG and PNG under `charts/`, a self-contained `index.html` and `workbook.xlsx`.
//!
//! Nothing here reads or writes files; the CLI writes what [`build`] returns, all at once.
//!
//! # Steps
//!
//! A report is a list of [`Step`]s ([`STEPS`]), run in order on one [`Ctx`]. Each step says
//! whether the scenario has the data it needs ([`Step::applies`], with the reason when not) and
//! returns a [`StepOutput`]: tables (each becomes a CSV file and a workbook sheet), charts (each
//! becomes `charts/<stem>.svg` and `.png` and a figure in the page) and page sections. A step
//! leaves its typed result in [`Results`] for later steps (the LP checks read the allocation;
//! the weight chart reads both LP results).
//!
//! Adding a step (projection, indicators, audit, compare) takes three edits:
//! 1. a field for its result in [`Results`] (e.g. `pub projection: Option<Projection>`);
//! 2. a module beside `alloc_step.rs` with `applies(&Ctx) -> Result<(), String>` and
//!    `run(&mut Ctx) -> Result<StepOutput, InputErrors>`;
//! 3. one entry in [`STEPS`] (id, bilingual title, the two functions).
//!
//! ```no_run
//! let s = fundsim::scenario::load(std::path::Path::new("scenarios/gansu-2018"))?;
//! let report = fundsim::report::build::build(&s, &Default::default(), &mut |_label| {})?;
//! for (name, bytes) in &report.files {
//!     println!("{name}: {} bytes", bytes.len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod actual_step;
mod alloc_step;
mod audit_step;
mod compare_step;
mod fmt;
mod page;
mod projection_step;
mod score_step;
mod sensitivity_step;
mod weights_step;

use rayon::prelude::*;
use serde::Deserialize;
use toml::Spanned;

use super::charts::{Chart, ChartFrame};
use super::html::{Block, Table as HtmlTable};
use super::{Lang, ReportError};
use crate::alloc::Allocation;
use crate::error::{InputErrors, Location};
use crate::lpcheck::bind::{CheckReport, InferReport};
use crate::output::OutTable;
use crate::scenario::{line_at, Scenario};

pub use compare_step::compare_charts;
pub use fmt::tr;

/// The `[report]` section of `scenario.toml` (all keys optional).
///
/// ```toml
/// [report]
/// poverty_flag = "poverty_county"     # flag column marking poverty counties (scatter markers)
/// deep_poverty_flag = "deep_poverty"  # flag column marking deep-poverty counties
/// incidence = "incidence"             # poverty incidence column (fraction; > 1 read as percent)
/// population = "poor_pop"             # per-capita column (default: [scenario] population)
/// max_bars = 50                       # per-unit bar charts show at most this many units
/// max_table_rows = 30                 # page tables show at most this many rows (CSV has all)
/// sensitivity_draws = 200             # most Monte Carlo draws of the sensitivity step
/// baseline = "../gansu-2018-old"      # compare with this scenario (folder or its .toml),
///                                     # relative to this scenario.toml
/// ```
///
/// A column named here must exist in `factors.csv`; the defaults are used only when present.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// Flag column of poverty counties.
    #[serde(default)]
    pub poverty_flag: Option<Spanned<String>>,
    /// Flag column of deep-poverty counties.
    #[serde(default)]
    pub deep_poverty_flag: Option<Spanned<String>>,
    /// Poverty incidence column.
    #[serde(default)]
    pub incidence: Option<Spanned<String>>,
    /// Population column for per-capita amounts.
    #[serde(default)]
    pub population: Option<Spanned<String>>,
    /// Most units in a per-unit bar chart.
    #[serde(default)]
    pub max_bars: Option<Spanned<i64>>,
    /// Most rows of a table in the page.
    #[serde(default)]
    pub max_table_rows: Option<Spanned<i64>>,
    /// Most base draws of the sensitivity step (`[sensitivity] draws` is cut to this).
    #[serde(default)]
    pub sensitivity_draws: Option<Spanned<i64>>,
    /// The scenario to compare with (a folder or its `scenario.toml`), relative to this
    /// scenario's folder.
    #[serde(default)]
    pub baseline: Option<Spanned<String>>,
}

/// Report settings after checking `[report]` against the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportConfig {
    /// Poverty-county flag column, if `factors.csv` has it.
    pub poverty_flag: Option<String>,
    /// Deep-poverty flag column, if present.
    pub deep_poverty_flag: Option<String>,
    /// Incidence column, if present.
    pub incidence: Option<String>,
    /// Population column for per-capita amounts, if any.
    pub population: Option<String>,
    /// Most units in a per-unit bar chart (default 50).
    pub max_bars: usize,
    /// Most rows of a table in the page (default 30).
    pub max_table_rows: usize,
    /// Most base draws of the sensitivity step (default 200).
    pub sensitivity_draws: usize,
    /// `[report] baseline` as written, if any.
    pub baseline: Option<String>,
}

/// Default of [`ReportConfig::max_bars`].
pub const DEFAULT_MAX_BARS: usize = 50;
/// Default of [`ReportConfig::max_table_rows`].
pub const DEFAULT_MAX_TABLE_ROWS: usize = 30;
/// Default of [`ReportConfig::sensitivity_draws`]: on the bundled Gansu scenario (3 input
/// groups, 86 counties) 200 base draws are 1,000 model evaluations, a few milliseconds.
pub const DEFAULT_SENSITIVITY_DRAWS: usize = 200;
/// Largest `sensitivity_draws` accepted.
pub const LIMIT_SENSITIVITY_DRAWS: usize = 100_000;
/// Largest `max_bars` accepted (a taller chart exceeds [`super::charts::MAX_HEIGHT`]).
pub const LIMIT_MAX_BARS: usize = 300;

impl ReportConfig {
    /// Reads `[report]`: an explicitly named column must exist in `factors.csv` (error with
    /// the TOML line); a default column is used only when present. Limits must be ≥ 1.
    pub fn from_scenario(s: &Scenario) -> Result<ReportConfig, InputErrors> {
        let raw = s.raw.report.as_ref().map(|r| r.get_ref().clone()).unwrap_or_default();
        let mut errs = InputErrors::default();
        let loc = |off: usize, key: &str| Location::at(&s.toml_file, Some(line_at(&s.toml_text, off)), format!("report.{key}"));
        let mut column = |v: &Option<Spanned<String>>, key: &str, default: Option<&str>| -> Option<String> {
            match v {
                Some(c) if s.factors.has_column(c.get_ref()) => Some(c.get_ref().clone()),
                Some(c) => {
                    errs.push(
                        loc(c.span().start, key),
                        format!("column `{}` is not in {}", c.get_ref(), s.factors.table.file),
                    );
                    None
                }
                None => default.filter(|d| s.factors.has_column(d)).map(str::to_string),
            }
        };
        let poverty_flag = column(&raw.poverty_flag, "poverty_flag", Some("poverty_county"));
        let deep_poverty_flag = column(&raw.deep_poverty_flag, "deep_poverty_flag", Some("deep_poverty"));
        let incidence = column(&raw.incidence, "incidence", Some("incidence"));
        let population = column(&raw.population, "population", s.population.as_deref());
        let mut limit = |v: &Option<Spanned<i64>>, key: &str, default: usize, max: usize| -> usize {
            match v {
                None => default,
                Some(n) => match usize::try_from(*n.get_ref()) {
                    Ok(x) if (1..=max).contains(&x) => x,
                    _ => {
                        errs.push(
                            loc(n.span().start, key),
                            format!("must be between 1 and {max}, got {}", n.get_ref()),
                        );
                        default
                    }
                },
            }
        };
        let max_bars = limit(&raw.max_bars, "max_bars", DEFAULT_MAX_BARS, LIMIT_MAX_BARS);
        let max_table_rows = limit(&raw.max_table_rows, "max_table_rows", DEFAULT_MAX_TABLE_ROWS, 1_000_000);
        let sensitivity_draws = limit(
            &raw.sensitivity_draws,
            "sensitivity_draws",
            DEFAULT_SENSITIVITY_DRAWS,
            LIMIT_SENSITIVITY_DRAWS,
        );
        // a Monte Carlo quantile needs two draws at least
        let sensitivity_draws = match &raw.sensitivity_draws {
            Some(n) if sensitivity_draws < 2 => {
                errs.push(loc(n.span().start, "sensitivity_draws"), "must be at least 2, got 1");
                DEFAULT_SENSITIVITY_DRAWS
            }
            _ => sensitivity_draws,
        };
        let baseline = match &raw.baseline {
            Some(b) if b.get_ref().trim().is_empty() => {
                errs.push(loc(b.span().start, "baseline"), "is empty: name a scenario folder");
                None
            }
            Some(b) => Some(b.get_ref().clone()),
            None => None,
        };
        errs.into_result(ReportConfig {
            poverty_flag,
            deep_poverty_flag,
            incidence,
            population,
            max_bars,
            max_table_rows,
            sensitivity_draws,
            baseline,
        })
    }
}

/// Where `[report] baseline` points: the path joined to the scenario's folder (no file is
/// touched), and the TOML location of the key for errors about it.
pub fn baseline_path(s: &Scenario) -> Option<(std::path::PathBuf, Location)> {
    let b = s.raw.report.as_ref()?.get_ref().baseline.as_ref()?;
    let loc = Location::at(&s.toml_file, Some(line_at(&s.toml_text, b.span().start)), "report.baseline");
    Some((s.files.dir.join(b.get_ref().trim()), loc))
}

/// What the caller read for the report besides the scenario (the library reads no files).
#[derive(Debug, Default)]
pub struct ReportInputs {
    /// The payment ledger and household register as CSV bytes, for the audit step. `None`:
    /// from the scenario's loaded tables ([`crate::audit::run::Sources::from_tables`]).
    pub audit: Option<crate::audit::run::Sources>,
    /// The scenario named by `[report] baseline`, loaded by the caller ([`baseline_path`]).
    /// Without it the compare step is skipped.
    pub baseline: Option<Scenario>,
}

static NO_INPUTS: ReportInputs = ReportInputs {
    audit: None,
    baseline: None,
};

/// Where a check-weights run looked: the pool and its result.
#[derive(Debug, Clone)]
pub struct CheckRun {
    /// 1-based stage of the pool.
    pub stage: usize,
    /// Pool id.
    pub pool: String,
    /// The LP result.
    pub report: CheckReport,
}

/// Where an infer-weights run looked: the pool and its result.
#[derive(Debug, Clone)]
pub struct InferRun {
    /// 1-based stage of the pool.
    pub stage: usize,
    /// Pool id.
    pub pool: String,
    /// The LP result.
    pub report: InferReport,
}

/// Typed results of the steps that have run, for the steps after them.
///
/// Extension point: a new step adds its result here (e.g. `pub projection: Option<…>`).
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// The allocation (always computed, by the first step).
    pub allocation: Option<Allocation>,
    /// `check-weights` on the pool the `[[check]]` rules name.
    pub weight_check: Option<CheckRun>,
    /// `infer-weights` on the default pool, from `actual.csv`.
    pub inference: Option<InferRun>,
    /// Survey indicators, exit check and scores (`fundsim score`).
    pub score: Option<crate::score::bind::ScoreRun>,
    /// The audit (`fundsim audit`).
    pub audit: Option<crate::audit::run::AuditRun>,
    /// The sensitivity analysis (`fundsim sensitivity`, draws capped).
    pub sensitivity: Option<crate::sensitivity::Sensitivity>,
    /// The comparison with `[report] baseline` (`fundsim compare baseline this`).
    pub compare: Option<crate::compare::Comparison>,
}

/// Everything a step can read, and the results of the steps before it.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The loaded scenario.
    pub scenario: &'a Scenario,
    /// The `[report]` settings.
    pub config: ReportConfig,
    /// Language of every fixed text.
    pub lang: Lang,
    /// Results of earlier steps.
    pub results: Results,
    /// Files the caller read for the steps (ledger bytes, baseline scenario).
    pub inputs: &'a ReportInputs,
}

impl<'a> Ctx<'a> {
    /// A context for `s`, with `[report]` checked.
    pub fn new(s: &'a Scenario) -> Result<Self, InputErrors> {
        Self::with_inputs(s, &NO_INPUTS)
    }

    /// A context for `s` with what the caller read besides it.
    pub fn with_inputs(s: &'a Scenario, inputs: &'a ReportInputs) -> Result<Self, InputErrors> {
        Ok(Ctx {
            scenario: s,
            config: ReportConfig::from_scenario(s)?,
            lang: match s.lang {
                crate::scenario::Lang::Zh => Lang::Zh,
                crate::scenario::Lang::En => Lang::En,
            },
            results: Results::default(),
            inputs,
        })
    }

    /// `zh` or `en`, by the report language.
    pub fn tr(&self, zh: &'static str, en: &'static str) -> &'static str {
        tr(self.lang, zh, en)
    }

    /// The allocation, which the first step always computes.
    pub fn allocation(&self) -> Result<&Allocation, InputErrors> {
        self.results
            .allocation
            .as_ref()
            .ok_or_else(|| InputErrors::one(Location::file(&self.scenario.toml_file), "the allocation step has not run"))
    }

    /// The source line of every chart: the scenario's title and `fundsim`.
    pub fn source(&self) -> String {
        format!("{} · fundsim", self.scenario.title)
    }

    /// A chart frame with the default title, the given subtitle and the source line.
    pub fn frame(&self, subtitle: Option<String>) -> ChartFrame {
        let mut f = ChartFrame::new(self.lang, self.source());
        f.subtitle = subtitle;
        f
    }
}

/// A chart to render: file stem under `charts/`, the chart, its frame and the page caption.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// File stem: `charts/<stem>.svg`, `charts/<stem>.png` (ASCII, unique in the report).
    pub stem: String,
    /// The chart.
    pub chart: Chart,
    /// Title, subtitle and source line.
    pub frame: ChartFrame,
    /// Caption under the figure in the page.
    pub caption: String,
}

/// One piece of a page section.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Any block of the page builder (paragraph, note, list, table, …).
    Block(Block),
    /// A table. With a `csv` file holding its full data, the page shows at most
    /// `max_table_rows` rows and, when cut, says so and links the CSV; without, all rows.
    Table {
        /// The table (all rows; cut when the page is built).
        table: HtmlTable,
        /// The CSV file that holds the full data, if any.
        csv: Option<String>,
    },
    /// The figure of the chart with this stem, with links to its SVG and PNG files.
    Chart(String),
}

/// A section of the page produced by a step.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionOut {
    /// Anchor id (ASCII).
    pub id: String,
    /// Heading.
    pub title: String,
    /// Content in order.
    pub items: Vec<Item>,
}

impl SectionOut {
    /// An empty section.
    pub fn new(id: &str, title: impl Into<String>) -> Self {
        SectionOut {
            id: id.to_string(),
            title: title.into(),
            items: Vec::new(),
        }
    }

    /// Appends a paragraph.
    pub fn para(&mut self, text: impl Into<String>) {
        self.items.push(Item::Block(Block::Paragraph(text.into())));
    }

    /// Appends a highlighted note.
    pub fn note(&mut self, text: impl Into<String>) {
        self.items.push(Item::Block(Block::Note(text.into())));
    }

    /// Appends a bulleted list.
    pub fn list(&mut self, items: Vec<String>) {
        self.items.push(Item::Block(Block::List(items)));
    }

    /// Appends a table (with `csv`: cut to `max_table_rows` in the page, the CSV linked when
    /// cut; without: shown whole).
    pub fn table(&mut self, header: Vec<String>, rows: Vec<Vec<String>>, csv: Option<&str>) {
        self.items.push(Item::Table {
            table: HtmlTable {
                caption: None,
                header,
                rows,
            },
            csv: csv.map(str::to_string),
        });
    }

    /// Appends the figure of chart `stem`.
    pub fn chart(&mut self, stem: &str) {
        self.items.push(Item::Chart(stem.to_string()));
    }

    /// Appends links to files beside the page.
    pub fn links(&mut self, links: Vec<(String, String)>) {
        self.items.push(Item::Block(Block::Links(links)));
    }
}

/// What a step produces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepOutput {
    /// Result tables: each is written as CSV (`table.name`) and as a workbook sheet.
    pub tables: Vec<OutTable>,
    /// Charts: each is written as `charts/<stem>.svg` and `.png`.
    pub charts: Vec<ChartSpec>,
    /// Page sections, in order.
    pub sections: Vec<SectionOut>,
    /// Key findings, one sentence each, listed in the summary at the top of the page.
    pub highlights: Vec<String>,
}

/// One step of the report.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Short ASCII id (`allocation`, `check-weights`, …).
    pub id: &'static str,
    /// Title in Chinese and English (progress display, list of steps).
    pub title: (&'static str, &'static str),
    /// `Ok` when the scenario has the data the step needs, else the reason (in the report's
    /// language) it is skipped.
    pub applies: fn(&Ctx<'_>) -> Result<(), String>,
    /// Runs the step, leaving its typed result in [`Ctx::results`].
    pub run: fn(&mut Ctx<'_>) -> Result<StepOutput, InputErrors>,
}

impl Step {
    /// The title in `lang`.
    pub fn title(&self, lang: Lang) -> &'static str {
        tr(lang, self.title.0, self.title.1)
    }
}

/// Every step, in the order they run. Extension point: projection, indicators and scores,
/// audit and compare each add one entry here.
pub const STEPS: &[Step] = &[
    Step {
        id: "allocation",
        title: ("因素法分配", "Factor-method allocation"),
        applies: alloc_step::applies,
        run: alloc_step::run,
    },
    Step {
        id: "check-weights",
        title: ("权重合理性检验", "Weight check"),
        applies: weights_step::applies_check,
        run: weights_step::run_check,
    },
    Step {
        id: "infer-weights",
        title: ("权重反推", "Weight inference"),
        applies: weights_step::applies_infer,
        run: weights_step::run_infer,
    },
    Step {
        id: "weight-ranges",
        title: ("权重对比图", "Weight chart"),
        applies: weights_step::applies_chart,
        run: weights_step::run_chart,
    },
    Step {
        id: "formula-vs-actual",
        title: ("公式测算与实际分配", "Formula vs actual"),
        applies: actual_step::applies,
        run: actual_step::run,
    },
    Step {
        id: "projection",
        title: ("减贫目标测算", "Exit-target projection"),
        applies: projection_step::applies,
        run: projection_step::run,
    },
    Step {
        id: "indicators",
        title: ("第三方评估指标与考核评分", "Survey indicators and scores"),
        applies: score_step::applies,
        run: score_step::run,
    },
    Step {
        id: "audit",
        title: ("审计发现", "Audit findings"),
        applies: audit_step::applies,
        run: audit_step::run,
    },
    Step {
        id: "sensitivity",
        title: ("敏感性分析", "Sensitivity analysis"),
        applies: sensitivity_step::applies,
        run: sensitivity_step::run,
    },
    Step {
        id: "compare",
        title: ("与基线方案比较", "Comparison with the baseline"),
        applies: compare_step::applies,
        run: compare_step::run,
    },
];

/// Options of [`build`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// CSV files start with a UTF-8 byte-order mark (Excel on Chinese Windows).
    pub excel_csv: bool,
}

/// A built report: every output file, and which steps ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `(name relative to the output folder, bytes)`, in a fixed order: CSV files, charts,
    /// `index.html`, `workbook.xlsx`.
    pub files: Vec<(String, Vec<u8>)>,
    /// Ids of the steps that ran.
    pub ran: Vec<&'static str>,
    /// Ids of the steps skipped, with the reason.
    pub skipped: Vec<(&'static str, String)>,
    /// The result tables (also in `files` as CSV).
    pub tables: Vec<OutTable>,
}

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Bad input (scenario, `[report]`, `[[check]]`, `actual.csv`, …): every problem found.
    #[error("{0}")]
    Input(#[from] InputErrors),
    /// A chart, the page or the workbook could not be produced.
    #[error("{0}")]
    Report(#[from] ReportError),
}

/// Number of progress ticks [`build`] reports: one per step, one for the charts, one for the
/// page and workbook.
pub fn phases() -> usize {
    STEPS.len() + 2
}

/// Rendered chart files.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// SVG text.
    pub svg: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

/// Renders every chart as SVG and PNG, in parallel (rayon); the output order is the input
/// order, so the result does not depend on the thread count.
pub fn render_charts(charts: &[ChartSpec]) -> Result<Vec<Rendered>, ReportError> {
    charts
        .par_iter()
        .map(|c| {
            let (svg, png) = rayon::join(|| c.chart.render_svg(&c.frame), || c.chart.render_png(&c.frame));
            Ok(Rendered { svg: svg?, png: png? })
        })
        .collect()
}

/// Builds the whole report of `s`. `progress` is called with a label before each of the
/// [`phases`] (each step's title, then the charts, then the page and workbook). The audit
/// step reads the ledger from the loaded tables and the compare step is skipped; use
/// [`build_with`] to pass the ledger bytes and the baseline scenario.
pub fn build(s: &Scenario, opts: &BuildOptions, progress: &mut dyn FnMut(&str)) -> Result<Report, BuildError> {
    build_with(s, &NO_INPUTS, opts, progress)
}

/// [`build`] with what the caller read besides the scenario: the payment ledger's bytes for
/// the audit step and the `[report] baseline` scenario for the compare step.
pub fn build_with(s: &Scenario, inputs: &ReportInputs, opts: &BuildOptions, progress: &mut dyn FnMut(&str)) -> Result<Report, BuildError> {
    let mut ctx = Ctx::with_inputs(s, inputs)?;
    let mut outputs: Vec<(&'static Step, StepOutput)> = Vec::new();
    let mut skipped = Vec::new();
    for step in STEPS {
        progress(step.title(ctx.lang));
        match (step.applies)(&ctx) {
            Ok(()) => {
                let out = (step.run)(&mut ctx)?;
                outputs.push((step, out));
            }
            Err(reason) => skipped.push((step.id, reason)),
        }
    }
    progress(ctx.tr("绘制图表", "Rendering charts"));
    let charts: Vec<ChartSpec> = outputs.iter().flat_map(|(_, o)| o.charts.iter().cloned()).collect();
    let rendered = render_charts(&charts)?;
    progress(ctx.tr("生成网页和工作簿", "Writing page and workbook"));
    let tables: Vec<OutTable> = outputs.iter().flat_map(|(_, o)| o.tables.iter().cloned()).collect();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for t in &tables {
        files.push((t.name.clone(), t.to_csv(opts.excel_csv)));
    }
    for (c, r) in charts.iter().zip(&rendered) {
        files.push((format!("charts/{}.svg", c.stem), r.svg.clone().into_bytes()));
        files.push((format!("charts/{}.png", c.stem), r.png.clone()));
    }
    let ran: Vec<&'static str> = outputs.iter().map(|(st, _)| st.id).collect();
    let html = page::render(&ctx, &outputs, &skipped, &charts, &rendered)?;
    files.push(("index.html".into(), html.into_bytes()));
    files.push(("workbook.xlsx".into(), super::workbook::workbook(&tables, &s.title)?));
    Ok(Report {
        files,
        ran,
        skipped,
        tables,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;

    const UNITS: &str = "id,name,parent_id,level\nP,省,,province\nA,甲县,P,county\nB,乙县,P,county\nC,丙县,P,county\n";
    const FACTORS: &str = "unit_id,pop,incidence,poverty_county,deep_poverty\nA,100,0.2,1,1\nB,300,0.1,1,0\nC,600,0.01,0,0\n";

    fn scenario(extra_toml: &str, extra_files: &[(&str, &str)]) -> Scenario {
        let toml = format!(
            "[scenario]\nname = \"t\"\ntitle = \"测试\"\nlang = \"zh\"\n\n[[stage]]\nlevel = \"county\"\ntotal = \"1000\"\n\n  [[stage.pool]]\n  id = \"base\"\n  share = \"1\"\n\n    [[stage.pool.factor]]\n    column = \"pop\"\n    name = \"人口\"\n    weight = \"1\"\n{extra_toml}"
        );
        let mut files: HashMap<String, String> = HashMap::new();
        files.insert("units.csv".into(), UNITS.into());
        files.insert("factors.csv".into(), FACTORS.into());
        for (n, c) in extra_files {
            files.insert(n.to_string(), c.to_string());
        }
        crate::scenario::from_sources("scenario.toml", toml.as_bytes(), &mut |name: &str| {
            files.get(name).map(|c| Ok((c.clone().into_bytes(), PathBuf::from(name))))
        })
        .unwrap()
    }

    fn build_quiet(s: &Scenario) -> Report {
        let mut labels = Vec::new();
        let r = build(s, &BuildOptions::default(), &mut |l| labels.push(l.to_string())).unwrap();
        assert_eq!(labels.len(), phases(), "{labels:?}");
        r
    }

    #[test]
    fn config_defaults_use_columns_that_exist() {
        let s = scenario("", &[]);
        let c = ReportConfig::from_scenario(&s).unwrap();
        assert_eq!(c.poverty_flag.as_deref(), Some("poverty_county"));
        assert_eq!(c.deep_poverty_flag.as_deref(), Some("deep_poverty"));
        assert_eq!(c.incidence.as_deref(), Some("incidence"));
        assert_eq!(c.population.as_deref(), Some("pop"));
        assert_eq!((c.max_bars, c.max_table_rows), (DEFAULT_MAX_BARS, DEFAULT_MAX_TABLE_ROWS));
    }

    #[test]
    fn config_errors_name_the_toml_line() {
        let s = scenario("\n[report]\nincidence = \"nope\"\nmax_table_rows = -1\n", &[]);
        let e = ReportConfig::from_scenario(&s).unwrap_err().to_string();
        assert!(e.contains("report.incidence") && e.contains("nope"), "{e}");
        assert!(e.contains("report.max_table_rows"), "{e}");
        assert!(e.contains("scenario.toml:"), "{e}");
    }

    #[test]
    fn allocation_only_scenario_skips_the_lp_steps() {
        let s = scenario("", &[]);
        let r = build_quiet(&s);
        assert_eq!(r.ran, vec!["allocation"]);
        let skipped: Vec<&str> = r.skipped.iter().map(|x| x.0).collect();
        assert_eq!(
            skipped,
            vec![
                "check-weights",
                "infer-weights",
                "weight-ranges",
                "formula-vs-actual",
                "projection",
                "indicators",
                "audit",
                "sensitivity",
                "compare"
            ]
        );
        let names: Vec<&str> = r.files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "allocation.csv",
                "charts/contributions.svg",
                "charts/contributions.png",
                "charts/scatter.svg",
                "charts/scatter.png",
                "index.html",
                "workbook.xlsx"
            ]
        );
        let html = String::from_utf8(r.files[5].1.clone()).unwrap();
        assert!(html.contains("资金总额 1,000 元"), "{html}");
        assert!(html.contains("未包含权重合理性检验：scenario.toml 中没有 [[check]] 规则"));
    }

    #[test]
    fn actual_distribution_adds_inference_and_comparison() {
        let s = scenario("", &[("actual.csv", "unit_id,amount\nA,120\nB,280\nC,600\n")]);
        let r = build_quiet(&s);
        assert_eq!(r.ran, vec!["allocation", "infer-weights", "weight-ranges", "formula-vs-actual"]);
        let fva = r.tables.iter().find(|t| t.name == "formula_vs_actual.csv").unwrap();
        // formula: 100, 300, 600; sorted by |difference|, then id
        assert_eq!(fva.rows[0], vec!["A", "甲县", "100", "120", "20", "0.2"]);
        assert_eq!(fva.rows[1], vec!["B", "乙县", "300", "280", "-20", "-0.066666666667"]);
        assert_eq!(fva.rows[2], vec!["C", "丙县", "600", "600", "0", "0"]);
    }

    #[test]
    fn projection_step_writes_tables_and_charts() {
        let s = scenario(
            "\n[projection]\nyears = [2018, 2019]\ntargets = [100, 50]\nnew_entry_rate = \"0\"\nreturn_rate = \"0\"\nexit_threshold = \"0.03\"\nruns = 20\nseed = 1\n",
            &[
                ("plan.csv", "unit_id,filed_start,rural_pop\nA,100,1000\nB,60,2000\nC,10,3000\n"),
                ("county_exits.csv", "year,planned,actual\n2018,1,1\n2019,2,1\n"),
            ],
        );
        let r = build_quiet(&s);
        assert!(r.ran.contains(&"projection"), "{:?}", r.skipped);
        let names: Vec<&str> = r.files.iter().map(|f| f.0.as_str()).collect();
        for n in [
            "projection.csv",
            "projection_mc.csv",
            "charts/projection.svg",
            "charts/projection.png",
            "charts/planned-vs-actual-exits.svg",
        ] {
            assert!(names.contains(&n), "{n} missing: {names:?}");
        }
        let html = String::from_utf8(r.files.iter().find(|f| f.0 == "index.html").unwrap().1.clone()).unwrap();
        assert!(html.contains("减贫目标测算"));
        assert_eq!(r, build_quiet(&s));
    }

    const SURVEY: &str = "unit_id,indicator,sampled,flagged\nA,missed_assessment,100,1\nA,wrong_exit,100,5\nA,satisfaction,200,190\nB,missed_assessment,100,3\nB,wrong_exit,100,0\nB,satisfaction,200,170\nC,missed_assessment,100,0\nC,wrong_exit,100,1\nC,satisfaction,200,199\n";

    fn file<'r>(r: &'r Report, name: &str) -> &'r [u8] {
        &r.files.iter().find(|f| f.0 == name).unwrap_or_else(|| panic!("{name} missing")).1
    }

    #[test]
    fn indicators_step_writes_score_tables_and_one_rates_chart_per_indicator() {
        let s = scenario("\n[indicators]\nci = \"wilson\"\n", &[("survey.csv", SURVEY)]);
        let r = build_quiet(&s);
        assert!(r.ran.contains(&"indicators"), "{:?}", r.skipped);
        for n in [
            "indicators.csv",
            "charts/rates-missed-assessment.png",
            "charts/rates-wrong-exit.svg",
            "charts/rates-satisfaction.png",
        ] {
            assert!(r.files.iter().any(|f| f.0 == n), "{n} missing");
        }
        // the same table fundsim score writes
        let run = crate::score::bind::run(&s, &Default::default()).unwrap();
        let t = crate::score::bind::tables(&run);
        assert_eq!(file(&r, "indicators.csv"), t[0].to_csv(false).as_slice());
        let ind = r.tables.iter().find(|t| t.name == "indicators.csv").unwrap();
        assert_eq!(ind.rows.len(), 9);
        // A: wrong exit 5/100 fails the 2% threshold by the point estimate
        let a = ind.rows.iter().find(|x| x[0] == "A" && x[1] == "wrong_exit").unwrap();
        assert_eq!((a[4].as_str(), a[8].as_str()), ("0.05", "fail"));
        let html = String::from_utf8(file(&r, "index.html").to_vec()).unwrap();
        assert!(html.contains("第三方评估指标与考核评分") && html.contains("漏评率"), "{html}");
        // no [scoring]: no scores table
        assert!(!r.files.iter().any(|f| f.0 == "scores.csv"));
        // no survey: skipped with the reason
        let s = scenario("\n[indicators]\nci = \"wilson\"\n", &[]);
        let r = build_quiet(&s);
        let why = &r.skipped.iter().find(|x| x.0 == "indicators").unwrap().1;
        assert!(why.contains("survey.csv"), "{why}");
    }

    #[test]
    fn audit_step_lists_findings_in_working_paper_form() {
        let s = scenario(
            "\n[audit]\nabs_tol = \"1\"\nrel_tol = \"0\"\n",
            &[("actual.csv", "unit_id,amount\nA,150\nB,250\nC,600\n")],
        );
        let r = build_quiet(&s);
        assert!(r.ran.contains(&"audit"), "{:?}", r.skipped);
        let audit = r.tables.iter().find(|t| t.name == "audit.csv").unwrap();
        assert!(audit.rows.len() >= 3);
        let f = r.tables.iter().find(|t| t.name == "audit_findings.csv").unwrap();
        assert_eq!(f.headers[..4], ["no", "check", "title", "amount"]);
        // A +50, B −50: one allocation finding with 100 at stake
        let alloc = f.rows.iter().find(|x| x[1] == "allocation").unwrap();
        assert_eq!(alloc[3], "100");
        assert!(!alloc[6].contains('|'), "evidence tables are dropped: {}", alloc[6]);
        let html = String::from_utf8(file(&r, "index.html").to_vec()).unwrap();
        assert!(html.contains("审计发现") && html.contains("审计依据"), "{html}");
        assert!(r.files.iter().any(|x| x.0 == "audit_findings.csv"));
    }

    #[test]
    fn sensitivity_step_caps_the_draws_and_draws_the_bands() {
        let s = scenario(
            "\n[sensitivity]\nnoise = { pop = \"0.1\" }\ndraws = 5000\nseed = 3\n\n[report]\nsensitivity_draws = 40\n",
            &[],
        );
        let r = build_quiet(&s);
        assert!(r.ran.contains(&"sensitivity"), "{:?}", r.skipped);
        let bands = r.tables.iter().find(|t| t.name == "sensitivity.csv").unwrap();
        assert_eq!(bands.rows.len(), 3);
        assert!(r.files.iter().any(|x| x.0 == "charts/sensitivity-bands.png"));
        // 40 draws, seed 3: the numbers of `fundsim sensitivity --draws 40 --seed 3`
        let spec = crate::sensitivity::spec(&s).unwrap().unwrap();
        let alloc = crate::alloc::allocate(&s).unwrap();
        let direct = crate::sensitivity::run(&s, &spec, &alloc, crate::sensitivity::Options { draws: 40, seed: 3 }, &|_| {}).unwrap();
        assert_eq!(
            file(&r, "sensitivity.csv"),
            crate::sensitivity::bands_table(&s, &direct).to_csv(false).as_slice()
        );
        let html = String::from_utf8(file(&r, "index.html").to_vec()).unwrap();
        assert!(html.contains("报告中抽样次数限制为 40 次"), "{html}");
        // a cap of 1 is an error naming the key
        let s = scenario("\n[report]\nsensitivity_draws = 1\nbaseline = \" \"\n", &[]);
        let e = ReportConfig::from_scenario(&s).unwrap_err().to_string();
        assert!(e.contains("report.sensitivity_draws") && e.contains("report.baseline"), "{e}");
    }

    #[test]
    fn compare_step_needs_the_baseline_loaded_by_the_caller() {
        let s = scenario("\n[report]\nbaseline = \"../old\"\n", &[]);
        let r = build_quiet(&s);
        let why = &r.skipped.iter().find(|x| x.0 == "compare").unwrap().1;
        assert!(why.contains("../old"), "{why}");
        let (path, loc) = baseline_path(&s).unwrap();
        assert!(path.ends_with("../old"));
        assert_eq!(loc.field.as_deref(), Some("report.baseline"));
        // the baseline weighs population differently: pop 1 vs (pop 0.5, incidence 0.5)
        let mut old = scenario("", &[]);
        old.stages[0].pools[0].factors[0].weight = rust_decimal::Decimal::new(5, 1);
        let mut f2 = old.stages[0].pools[0].factors[0].clone();
        f2.column = "incidence".into();
        old.stages[0].pools[0].factors.push(f2);
        old.factors.parse_column("incidence", &mut Vec::new()).unwrap();
        let inputs = ReportInputs {
            audit: None,
            baseline: Some(old),
        };
        let r = build_with(&s, &inputs, &BuildOptions::default(), &mut |_| {}).unwrap();
        assert!(r.ran.contains(&"compare"), "{:?}", r.skipped);
        for n in ["compare.csv", "charts/compare_changes.png", "charts/compare_waterfall_all.svg"] {
            assert!(r.files.iter().any(|f| f.0 == n), "{n} missing");
        }
        let t = r.tables.iter().find(|t| t.name == "compare.csv").unwrap();
        assert_eq!(t.rows.len(), 3);
    }

    #[test]
    fn charts_render_identically_in_parallel_and_in_order() {
        let s = scenario("", &[]);
        let a = build_quiet(&s);
        let b = build_quiet(&s);
        assert_eq!(a, b);
    }
}
