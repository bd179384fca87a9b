//! `fundsim report` / `fundsim run` end to end: on the three bundled scenarios and on a fixture
//! with hostile unit names (`tests/fixtures/report-hostile`). Checks that the page references
//! every chart, every PNG decodes and is not blank, the workbook holds the same cells as the
//! CSVs, two runs are byte-identical, hostile names are inert, and — when Chromium is installed
//! — that each page renders in a real headless browser without console errors or broken images.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;
use calamine::{Data, DataType, Reader, Xlsx};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const BUNDLED: [&str; 3] = ["gansu-2018", "hubei-5311", "union-2019"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scenario(name: &str) -> PathBuf {
    if name.starts_with("report-") {
        root().join("tests/fixtures").join(name)
    } else {
        root().join("scenarios").join(name)
    }
}

/// Runs `fundsim <cmd> <scenario> --out <out> [extra]` and returns stdout.
fn report(cmd: &str, scenario: &Path, out: &Path, extra: &[&str]) -> String {
    let o = cargo_bin_cmd!("fundsim")
        .arg(cmd)
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(extra)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "fundsim {cmd} {}: {}",
        scenario.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "stderr not empty (progress must be hidden off a terminal): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Every file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes);
    r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect()
}

/// Decodes a PNG; returns (width, height, share of non-white pixels, distinct colours seen).
fn png_stats(bytes: &[u8]) -> (u32, u32, f64, usize) {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let mut ink = 0usize;
    let mut colours = std::collections::HashSet::new();
    for p in px.chunks(ch) {
        if p.iter().take(3).any(|&c| c < 245) {
            ink += 1;
        }
        if colours.len() < 10_000 {
            colours.insert(p.to_vec());
        }
    }
    (info.width, info.height, ink as f64 / (px.len() / ch) as f64, colours.len())
}

/// The checks every report must pass.
fn check_report(name: &str, dir: &Path) {
    let all = files(dir);
    let html = String::from_utf8(all["index.html"].clone()).unwrap();
    assert!(all.contains_key("allocation.csv"), "{name}: no allocation.csv");
    assert!(all.contains_key("workbook.xlsx"), "{name}: no workbook.xlsx");
    // the page: self-contained, every chart inline and linked
    assert!(html.starts_with("<!DOCTYPE html>"));
    for bad in ["http://", "https://", "<link", "@import", "<script", "<iframe", "<object"] {
        assert!(!html.contains(bad), "{name}: index.html contains {bad}");
    }
    let charts: Vec<&String> = all.keys().filter(|k| k.starts_with("charts/")).collect();
    assert!(!charts.is_empty(), "{name}: no charts");
    let svgs = charts.iter().filter(|c| c.ends_with(".svg")).count();
    assert_eq!(svgs * 2, charts.len(), "{name}: every chart as SVG and PNG: {charts:?}");
    for c in &charts {
        assert!(html.contains(&format!("href=\"{c}\"")), "{name}: index.html does not link {c}");
    }
    assert_eq!(html.matches("<div class=\"chart\"").count(), svgs, "{name}: inline figures");
    for csv in all.keys().filter(|k| k.ends_with(".csv")) {
        assert!(html.contains(&format!("href=\"{csv}\"")), "{name}: index.html does not link {csv}");
    }
    // PNGs decode and have ink
    for c in charts.iter().filter(|c| c.ends_with(".png")) {
        let (w, h, ink, colours) = png_stats(&all[*c]);
        assert!(w >= 800 && h >= 400, "{name}: {c} is {w}x{h}");
        assert!(ink > 0.01, "{name}: {c} is nearly blank ({:.1}% ink)", ink * 100.0);
        assert!(colours > 20, "{name}: {c} has only {colours} colours");
    }
    // SVGs are text with the chart's title
    for c in charts.iter().filter(|c| c.ends_with(".svg")) {
        let svg = String::from_utf8(all[*c].clone()).unwrap();
        assert!(svg.contains("<svg") && svg.contains("<text"), "{name}: {c}");
        assert!(!svg.contains("<script"), "{name}: {c}");
    }
    // the workbook holds exactly the CSVs: one sheet per CSV, same cells, numbers as numbers
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(all["workbook.xlsx"].clone())).unwrap();
    let csvs: Vec<&String> = all.keys().filter(|k| k.ends_with(".csv") && !k.contains('/')).collect();
    assert_eq!(
        wb.sheet_names().len(),
        csvs.len(),
        "{name}: sheets {:?} vs {csvs:?}",
        wb.sheet_names()
    );
    let mut numbers = 0usize;
    for csv in csvs {
        let sheet = csv.trim_end_matches(".csv");
        let range = wb
            .worksheet_range(sheet)
            .unwrap_or_else(|e| panic!("{name}: no sheet {sheet}: {e}"));
        let rows = csv_rows(&all[csv]);
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let got = range.get_value((r as u32, c as u32));
                let ok = match got {
                    None | Some(Data::Empty) => cell.is_empty(),
                    Some(Data::String(s)) => s == cell,
                    Some(Data::Float(v)) => {
                        numbers += 1;
                        cell.parse::<f64>().ok() == Some(*v)
                    }
                    Some(Data::Int(v)) => {
                        numbers += 1;
                        cell.parse::<i64>().ok() == Some(*v)
                    }
                    Some(other) => {
                        panic!("{name}: {sheet}!{r},{c}: unexpected {other:?}")
                    }
                };
                assert!(ok, "{name}: {sheet} row {r} col {c}: CSV {cell:?}, sheet {got:?}");
            }
        }
    }
    assert!(numbers > 0, "{name}: the workbook has no numbers");
}

#[test]
fn bundled_scenarios_make_complete_reports() {
    for name in BUNDLED {
        let tmp = tempfile::tempdir().unwrap();
        let stdout = report("report", &scenario(name), tmp.path(), &[]);
        assert!(stdout.contains("steps run: allocation"), "{stdout}");
        check_report(name, tmp.path());
    }
}

#[test]
fn gansu_report_runs_every_step_with_data() {
    let tmp = tempfile::tempdir().unwrap();
    report("run", &scenario("gansu-2018"), tmp.path(), &[]);
    let all = files(tmp.path());
    for f in [
        "allocation.csv",
        "weight_check.csv",
        "weight_ranges.csv",
        "inferred_weights.csv",
        "residuals.csv",
        "formula_vs_actual.csv",
        "charts/contributions.svg",
        "charts/contributions.png",
        "charts/scatter.svg",
        "charts/weight-ranges.png",
        "charts/formula-vs-actual.png",
        "projection.csv",
        "county_exits.csv",
        "charts/planned-vs-actual-exits.png",
        "indicators.csv",
        "exit_check.csv",
        "scores.csv",
        "sampling_error.csv",
        "dea.csv",
        "charts/rates-missed-assessment.png",
        "charts/rates-wrong-exit.png",
        "charts/rates-satisfaction.png",
        "charts/rates-incidence.png",
        "audit.csv",
        "reconcile.csv",
        "audit_findings.csv",
        "sensitivity.csv",
        "sensitivity_indices.csv",
        "charts/sensitivity-bands.png",
        "index.html",
        "workbook.xlsx",
    ] {
        assert!(all.contains_key(f), "missing {f}: {:?}", all.keys());
    }
    let html = String::from_utf8(all["index.html"].clone()).unwrap();
    // Chinese page: summary, rule verdicts, truncated tables with the full CSV linked
    assert!(html.contains("<html lang=\"zh-CN\">"));
    for s in [
        "概要",
        "资金总额 3,000,000,000 元",
        "受益单位数",
        "最多",
        "人均分配额范围",
        "权重合理性检验",
        "违反",
        "deep_poverty_parity",
        "权重反推",
        "泾川县",
        "第三方评估指标与考核评分",
        "漏评率",
        "群众认可度",
        "审计发现",
        "审计查明的事实",
        "敏感性分析",
        "报告中抽样次数限制为 200 次",
        "摘帽县数",
    ] {
        assert!(html.contains(s), "index.html lacks {s:?}");
    }
    // the county-exit chart counts counties, not people
    let exits = String::from_utf8(all["charts/planned-vs-actual-exits.svg"].clone()).unwrap();
    assert!(exits.contains("摘帽县数 (个)") && !exits.contains("(人)"), "{exits}");
    // county_exits.csv is the chart's data, as read
    let ce = csv_rows(&all["county_exits.csv"]);
    assert_eq!(ce[0][..3], ["year", "planned", "actual"]);
    assert_eq!(ce[3][..3], ["2019", "24", "31"]);
    assert!(html.contains("表中只列出前 30 行（共 75 行）"));
    assert!(html.contains("<a href=\"allocation.csv\">完整数据：allocation.csv</a>"));
    // the allocation and the golden agree: report writes the same allocation.csv as allocate
    let golden = std::fs::read(root().join("tests/golden/gansu-2018/allocation.csv")).unwrap();
    assert!(all["allocation.csv"] == golden, "allocation.csv differs from the golden file");
    // the sum of the formula column is what the stage distributed
    let rows = csv_rows(&all["formula_vs_actual.csv"]);
    let total: rust_decimal::Decimal = rows[1..].iter().map(|r| r[2].parse::<rust_decimal::Decimal>().unwrap()).sum();
    assert_eq!(total, rust_decimal::Decimal::from(2_940_000_000u64));
}

/// Runs a command of the binary with `--out out` and returns the files it wrote.
fn command_files(args: &[&str], out: &Path) -> BTreeMap<String, Vec<u8>> {
    let o = cargo_bin_cmd!("fundsim")
        .args(args)
        .arg("--out")
        .arg(out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "fundsim {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    files(out)
}

#[test]
fn report_tables_are_those_of_score_audit_and_sensitivity() {
    let rep = tempfile::tempdir().unwrap();
    report("run", &scenario("gansu-2018"), rep.path(), &[]);
    let all = files(rep.path());
    let g = scenario("gansu-2018");
    let g = g.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let score = command_files(&["score", g], &tmp.path().join("score"));
    for f in ["indicators.csv", "exit_check.csv", "scores.csv", "sampling_error.csv", "dea.csv"] {
        assert!(all[f] == score[f], "{f}: the report and fundsim score differ");
    }
    // the draws are capped at [report] sensitivity_draws = 200 (default), seed from [sensitivity]
    let sens = command_files(&["sensitivity", g, "--draws", "200"], &tmp.path().join("sens"));
    for f in ["sensitivity.csv", "sensitivity_indices.csv"] {
        assert!(all[f] == sens[f], "{f}: the report and fundsim sensitivity --draws 200 differ");
    }
    for name in ["gansu-2018", "union-2019"] {
        let rep = tempfile::tempdir().unwrap();
        report("run", &scenario(name), rep.path(), &[]);
        let all = files(rep.path());
        let p = scenario(name);
        let audit = command_files(&["audit", p.to_str().unwrap()], &tmp.path().join(name));
        for f in ["audit.csv", "reconcile.csv", "payments_check.csv"] {
            assert_eq!(all.get(f), audit.get(f), "{name}: {f}: the report and fundsim audit differ");
        }
        // the same findings, in the same order, as findings.md
        let md = String::from_utf8(audit["findings.md"].clone()).unwrap();
        let titles: Vec<String> = md
            .lines()
            .filter_map(|l| l.strip_prefix("### "))
            .map(|l| l.split_once(' ').map(|x| x.1).unwrap_or(l).to_string())
            .collect();
        let rows = csv_rows(&all["audit_findings.csv"]);
        let got: Vec<String> = rows[1..].iter().map(|r| r[2].clone()).collect();
        assert!(!got.is_empty(), "{name}: no findings");
        assert_eq!(got, titles, "{name}: audit_findings.csv vs findings.md");
    }
}

#[test]
fn a_baseline_adds_the_comparison_and_a_bad_one_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let copy = |to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(scenario("gansu-2018")).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    };
    let (base, alt) = (dir.path().join("base"), dir.path().join("alt"));
    copy(&base);
    copy(&alt);
    // the alternative moves weight from poor_pop to incidence
    let toml = std::fs::read_to_string(alt.join("scenario.toml")).unwrap();
    let toml = toml
        .replacen("weight = \"0.4\"", "weight = \"0.3\"", 1)
        .replacen("weight = \"0.2\"", "weight = \"0.3\"", 1);
    std::fs::write(alt.join("scenario.toml"), format!("{toml}\n[report]\nbaseline = \"../base\"\n")).unwrap();
    let out = dir.path().join("out");
    let stdout = report("run", &alt, &out, &[]);
    assert!(stdout.contains(", compare"), "{stdout}");
    check_report("gansu-2018 with a baseline", &out);
    let all = files(&out);
    for f in [
        "compare.csv",
        "charts/compare_changes.svg",
        "charts/compare_changes.png",
        "charts/compare_waterfall_all.png",
        "charts/compare_waterfall_top.png",
    ] {
        assert!(all.contains_key(f), "missing {f}");
    }
    let cmp = command_files(&["compare", base.to_str().unwrap(), alt.to_str().unwrap()], &dir.path().join("cmp"));
    assert!(all["compare.csv"] == cmp["compare.csv"], "compare.csv differs from fundsim compare");
    let html = String::from_utf8(all["index.html"].clone()).unwrap();
    assert!(html.contains("与基线方案比较") && html.contains("基线方案："), "no compare section");
    if let Some(chrome) = chromium() {
        browser_check(&chrome, "gansu-2018 with a baseline", &out);
    }
    // a baseline that does not exist: exit 2, the key and its line named, nothing written
    std::fs::write(alt.join("scenario.toml"), format!("{toml}\n[report]\nbaseline = \"../nowhere\"\n")).unwrap();
    let bad = dir.path().join("bad");
    let o = cargo_bin_cmd!("fundsim")
        .args(["run", alt.to_str().unwrap(), "--out", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("report.baseline") && err.contains("nowhere"), "{err}");
    assert!(err.contains("scenario.toml:"), "{err}");
    assert!(!bad.exists());
}

#[test]
fn two_runs_are_byte_identical() {
    for name in ["gansu-2018", "report-hostile"] {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        report("run", &scenario(name), a.path(), &[]);
        // a second later: a run date anywhere (e.g. the workbook's creation date) would show
        std::thread::sleep(std::time::Duration::from_millis(1100));
        report("run", &scenario(name), b.path(), &[]);
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        for (k, v) in &fa {
            assert!(v == &fb[k], "{name}: {k} differs between two runs");
        }
    }
}

#[test]
fn hostile_names_are_inert_in_html_csv_and_xlsx() {
    for lang in ["zh", "en"] {
        let src = scenario("report-hostile");
        let dir = tempfile::tempdir().unwrap();
        for f in ["units.csv", "factors.csv", "actual.csv"] {
            std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
        }
        let toml = std::fs::read_to_string(src.join("scenario.toml")).unwrap();
        std::fs::write(
            dir.path().join("scenario.toml"),
            toml.replace("lang = \"zh\"", &format!("lang = \"{lang}\"")),
        )
        .unwrap();
        let out = dir.path().join("out");
        report("run", dir.path(), &out, &[]);
        check_report("report-hostile", &out);
        let all = files(&out);
        let html = String::from_utf8(all["index.html"].clone()).unwrap();
        for raw in ["<script", "<img", "onerror=alert(2)>", "<u>", "<b>", "<i>"] {
            assert!(!html.contains(raw), "{lang}: index.html contains raw {raw:?}");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("=HYPERLINK(&quot;x&quot;)"));
        // the minimal conflicting set, in policy terms
        assert!(html.contains("income_floor"));
        assert!(html.contains("&lt;img src=x onerror=alert(3)&gt; 贫困人口权重不低于70%"));
        // max_table_rows = 3, max_bars = 4
        assert!(html.contains(if lang == "zh" {
            "表中只列出前 3 行（共 6 行）"
        } else {
            "Only the first 3 of 6 rows are shown"
        }));
        // the summary table (no CSV behind it) is never cut: all its rows, per-capita range last
        assert!(
            !html.contains(if lang == "zh" { "共 5 行" } else { "of 5 rows" }),
            "the summary table was cut"
        );
        assert!(html.contains(if lang == "zh" {
            "人均分配额范围"
        } else {
            "Amount per head of"
        }));
        let svg = String::from_utf8(all["charts/contributions.svg"].clone()).unwrap();
        assert!(!svg.contains("<script") && svg.contains("&lt;script&gt;"), "{svg}");
        // CSV: formulas neutralised, everything else as written
        let alloc = String::from_utf8(all["allocation.csv"].clone()).unwrap();
        assert!(alloc.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{alloc}");
        assert!(alloc.contains(",'@SUM(A1),"));
        assert!(alloc.contains(",'+cmd|' /C calc'!A0,"));
        assert!(alloc.contains(",<script>alert(1)</script>,"));
        let wc = String::from_utf8(all["weight_check.csv"].clone()).unwrap();
        assert!(wc.contains("\"'=HYPERLINK(\"\"y\"\")\""), "{wc}");
        // XLSX: the same neutralised text, never a formula
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(all["workbook.xlsx"].clone())).unwrap();
        let names: Vec<String> = wb
            .worksheet_range("allocation")
            .unwrap()
            .rows()
            .filter_map(|r| r.get(1).and_then(|c| c.get_string()).map(str::to_string))
            .collect();
        assert!(names.contains(&"'=HYPERLINK(\"x\")".to_string()), "{names:?}");
        assert!(names.contains(&"'@SUM(A1)".to_string()));
        let formulas = wb.worksheet_formula("allocation").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "a cell is a formula");
    }
}

#[test]
fn excel_csv_puts_a_bom_on_every_csv_and_json_lists_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let stdout = report("run", &scenario("report-hostile"), tmp.path(), &["--excel-csv", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["scenario"], "report-hostile");
    assert!(v["files"].as_array().unwrap().iter().any(|f| f == "index.html"));
    assert!(v["tables"]["allocation"].is_array());
    let all = files(tmp.path());
    let mut n = 0;
    for (k, bytes) in &all {
        if k.ends_with(".csv") {
            assert!(bytes.starts_with(b"\xef\xbb\xbf"), "{k} has no BOM");
            n += 1;
        }
    }
    assert_eq!(n, 6);
    check_report("report-hostile (excel-csv)", tmp.path());
}

#[test]
fn scenarios_without_lp_data_skip_those_steps_and_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let stdout = report("run", &scenario("hubei-5311"), tmp.path(), &[]);
    assert!(stdout.contains("skipped check-weights"), "{stdout}");
    assert!(stdout.contains("skipped infer-weights"), "{stdout}");
    let html = std::fs::read_to_string(tmp.path().join("index.html")).unwrap();
    assert!(html.contains("未包含权重合理性检验"), "skipped steps are listed");
    assert!(
        html.contains("未绘制人均分配额与贫困发生率散点图"),
        "the missing scatter is explained"
    );
    assert!(!tmp.path().join("weight_check.csv").exists());
}

#[test]
fn a_bad_report_section_is_an_input_error_naming_the_line() {
    let src = scenario("report-hostile");
    let dir = tempfile::tempdir().unwrap();
    for f in ["units.csv", "factors.csv", "actual.csv"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let toml = std::fs::read_to_string(src.join("scenario.toml")).unwrap();
    let toml = toml
        .replace("incidence = \"inc_rate\"", "incidence = \"no_such_column\"")
        .replace("max_bars = 4", "max_bars = 0");
    std::fs::write(dir.path().join("scenario.toml"), toml).unwrap();
    let o = cargo_bin_cmd!("fundsim")
        .args([
            "run",
            dir.path().to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("report.incidence") && err.contains("no_such_column"), "{err}");
    assert!(err.contains("report.max_bars"), "{err}");
    assert!(!dir.path().join("out").exists(), "nothing is written on error");
}

// ------------------------------------------------------------------ browser

/// Chromium to use: `$CHROMIUM`, else `/usr/bin/chromium`.
fn chromium() -> Option<PathBuf> {
    let p = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    p.exists().then_some(p)
}

/// Appended to a copy of the page: after load and fonts, writes what it sees into
/// `<body data-check="…">` (the page itself has no script).
const CHECKER: &str = r#"<script>
window.addEventListener("load", () => {
  document.fonts.ready.then(() => {
    const svgs = [...document.querySelectorAll("div.chart svg")];
    const small = svgs.filter(s => { const r = s.getBoundingClientRect(); return !(r.width > 300 && r.height > 150); }).length;
    const imgs = [...document.images];
    const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
    const font = document.fonts.check('20px "WenQuanYi Micro Hei"', "甘肃省");
    document.body.setAttribute("data-check", `svgs=${svgs.length} small=${small} imgs=${imgs.length} broken=${broken} font=${font}`);
  });
});
</script></body>"#;

/// Renders `dir/index.html` in headless Chromium: no console message (errors are logged as
/// `CONSOLE` lines), every chart laid out at a visible size, no broken image, the embedded CJK
/// font loaded; and a screenshot is produced.
fn browser_check(chrome: &Path, name: &str, dir: &Path) {
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let charts = html.matches("<div class=\"chart\"").count();
    let probe = dir.join("browser-check.html");
    std::fs::write(&probe, html.replacen("</body>", CHECKER, 1)).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=10000",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let url = format!("file://{}", probe.display());
    let o = std::process::Command::new(chrome)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    let log = String::from_utf8_lossy(&o.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "{name}: console messages:\n{}", console.join("\n"));
    let check = dom
        .split("data-check=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("{name}: the page did not finish loading:\n{log}"));
    assert_eq!(check, format!("svgs={charts} small=0 imgs=0 broken=0 font=true"), "{name}");
    // and a screenshot renders
    let shot = dir.join("browser-check.png");
    let o = std::process::Command::new(chrome)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--window-size=1400,3000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(shot.exists(), "{name}: no screenshot: {}", String::from_utf8_lossy(&o.stderr));
    let (_, _, ink, _) = png_stats(&std::fs::read(&shot).unwrap());
    assert!(ink > 0.05, "{name}: the screenshot is nearly blank");
}

#[test]
fn reports_render_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        if std::env::var_os("FUNDSIM_REQUIRE_BROWSER").is_some() {
            panic!("FUNDSIM_REQUIRE_BROWSER is set but /usr/bin/chromium (or $CHROMIUM) is absent");
        }
        eprintln!("NOTICE: browser test skipped: /usr/bin/chromium not found (apt-get install chromium, or set CHROMIUM)");
        return;
    };
    for name in BUNDLED.iter().copied().chain(["report-hostile"]) {
        let tmp = tempfile::tempdir().unwrap();
        report("run", &scenario(name), tmp.path(), &[]);
        browser_check(&chrome, name, tmp.path());
    }
}

#[test]
fn the_browser_check_catches_script_errors_and_broken_images() {
    let Some(chrome) = chromium() else {
        eprintln!("NOTICE: browser test skipped: /usr/bin/chromium not found");
        return;
    };
    for bad in ["<script>notDefined();</script>", "<img src=\"missing.png\" alt=\"x\">"] {
        let tmp = tempfile::tempdir().unwrap();
        let page = format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><p>x</p>{bad}</body></html>");
        std::fs::write(tmp.path().join("index.html"), page).unwrap();
        let caught = std::panic::catch_unwind(|| browser_check(&chrome, "doctored", tmp.path()));
        assert!(caught.is_err(), "the browser check passed a page with {bad}");
    }
}
