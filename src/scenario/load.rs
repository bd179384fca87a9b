//! Reading a scenario folder from disk: the only file-system code of the scenario module.

use super::{line_at, num, parse_toml, validate_stages, Ctx, FactorTable, Lang, MoneyUnit, Scenario};
use crate::error::{InputErrors, Location};
use crate::model::Hierarchy;
use crate::table::{Table, TextEncoding};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest input file read (bytes); larger files are an input error, not an out-of-memory.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// At most this many normalised cells are named per optional file at loading (then a count).
pub const MAX_NOTED_CELLS: usize = 20;

/// The numeric columns of an optional table, by its role: their cells that read as numbers
/// only after normalising (full-width digits…) are named in warnings when the scenario is
/// loaded, whichever command reads them later. The payment ledger and the household register
/// are left to the payment checks, which name their own cells.
pub fn numeric_columns(role: &str, headers: &[String]) -> Vec<usize> {
    let named: &[&str] = match role {
        "plan" => &["filed_start", "rural_pop", "exited_pop", "prev_exits", "exit_threshold", "western"],
        "survey" => &["sampled", "flagged"],
        "actual" => &["amount"],
        "files" => &["year", "filed_start", "new", "exits", "removals", "filed_end"],
        "county_exits" => return (0..headers.len()).collect(),
        _ => &[],
    };
    headers
        .iter()
        .enumerate()
        .filter(|(_, h)| named.contains(&h.as_str()) || (role == "plan" && h.starts_with("target_")))
        .map(|(i, _)| i)
        .collect()
}

/// The files a scenario was read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioFiles {
    /// The scenario folder.
    pub dir: PathBuf,
    /// `(role, name relative to the folder, full path)` of every file read, `scenario.toml` first.
    pub inputs: Vec<(String, String, PathBuf)>,
}

/// Reads a file, with errors that name it.
pub fn read_file(path: &Path, shown: &str) -> Result<Vec<u8>, InputErrors> {
    let meta = std::fs::metadata(path).map_err(|e| InputErrors::one(Location::file(shown), format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(InputErrors::one(Location::file(shown), "is a folder, not a file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(InputErrors::one(
            Location::file(shown),
            format!("file is larger than {} MiB", MAX_FILE_BYTES / 1024 / 1024),
        ));
    }
    std::fs::read(path).map_err(|e| InputErrors::one(Location::file(shown), format!("cannot read: {e}")))
}

/// Loads a scenario from a folder or from its `scenario.toml`.
pub fn load(path: &Path) -> Result<Scenario, InputErrors> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| InputErrors::one(Location::file(&shown), format!("cannot open scenario: {e}")))?;
    let (dir, toml_path) = if meta.is_dir() {
        (path.to_path_buf(), path.join("scenario.toml"))
    } else {
        (
            path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
            path.to_path_buf(),
        )
    };
    load_dir(&dir, &toml_path)
}

/// Loads a scenario given its folder and the path of its TOML file.
pub fn load_dir(dir: &Path, toml_path: &Path) -> Result<Scenario, InputErrors> {
    let toml_name = toml_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario.toml".into());
    let bytes = read_file(toml_path, &toml_name)?;
    let mut reader = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
        let path = dir.join(rel);
        if std::fs::symlink_metadata(&path).is_err() {
            return None;
        }
        Some(read_file(&path, rel).map(|b| (b, path)))
    };
    let mut s = from_sources(&toml_name, &bytes, &mut reader)?;
    s.files.dir = dir.to_path_buf();
    if let Some(first) = s.files.inputs.first_mut() {
        first.2 = toml_path.to_path_buf();
    }
    Ok(s)
}

/// Loads a scenario like [`load`], except that a CSV payment ledger and household register
/// (roles `payments` and `households`) are not read cell by cell into tables — millions of
/// rows would cost gigabytes: the loader gets a header-only stand-in, and the caller reads
/// the bytes itself (from `files.inputs`) for [`crate::audit::payments::check_payments`],
/// which streams them. An `.xlsx` ledger is loaded as usual.
pub fn load_lean(path: &Path) -> Result<Scenario, InputErrors> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| InputErrors::one(Location::file(&shown), format!("cannot open scenario: {e}")))?;
    let (dir, toml_path) = if meta.is_dir() {
        (path.to_path_buf(), path.join("scenario.toml"))
    } else {
        (
            path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
            path.to_path_buf(),
        )
    };
    let toml_name = toml_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario.toml".into());
    let bytes = read_file(&toml_path, &toml_name)?;
    let text = String::from_utf8_lossy(bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(&bytes)).into_owned();
    let (ledger, register) = match parse_toml(&toml_name, &text) {
        Ok(raw) => (
            raw.data.payments.map(|x| x.into_inner()).unwrap_or_else(|| "payments.csv".into()),
            raw.data
                .households
                .map(|x| x.into_inner())
                .unwrap_or_else(|| "households.csv".into()),
        ),
        Err(_) => ("payments.csv".into(), "households.csv".into()),
    };
    let is_csv = |name: &str| !name.to_ascii_lowercase().ends_with(".xlsx");
    let mut reader = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
        let p = dir.join(rel);
        std::fs::symlink_metadata(&p).ok()?;
        if rel == ledger && is_csv(rel) {
            return Some(Ok((b"payment_id,household_id,unit_id,date,kind,amount\n".to_vec(), p)));
        }
        if rel == register && is_csv(rel) {
            return Some(Ok((
                b"household_id,unit_id,category,filed_on,closed_on,dibao_monthly\n".to_vec(),
                p,
            )));
        }
        Some(read_file(&p, rel).map(|b| (b, p)))
    };
    let mut s = from_sources(&toml_name, &bytes, &mut reader)?;
    s.files.dir = dir;
    if let Some(first) = s.files.inputs.first_mut() {
        first.2 = toml_path;
    }
    Ok(s)
}

/// A source of scenario files: given a name relative to the scenario folder, its bytes and
/// path, or `None` when there is no such file.
pub type FileSource<'a> = dyn FnMut(&str) -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> + 'a;

/// Builds a scenario from the TOML bytes and a source for the other files (no file system
/// access of its own: the synthetic generator and the fuzz targets use it on memory).
pub fn from_sources(toml_name: &str, bytes: &[u8], source: &mut FileSource<'_>) -> Result<Scenario, InputErrors> {
    let toml_name = toml_name.to_string();
    let text = String::from_utf8(bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes).to_vec()).map_err(|e| {
        InputErrors::one(
            Location {
                file: toml_name.clone(),
                line: Some(line_at(&String::from_utf8_lossy(bytes), e.utf8_error().valid_up_to())),
                field: None,
            },
            "scenario.toml must be UTF-8 text",
        )
    })?;
    let dir = PathBuf::new();
    let raw = parse_toml(&toml_name, &text)?;
    let ctx = Ctx {
        file: &toml_name,
        text: &text,
    };
    let mut errs = InputErrors::default();
    let mut warnings = Vec::new();
    let mut files = ScenarioFiles {
        dir: dir.clone(),
        inputs: vec![("scenario".into(), toml_name.clone(), PathBuf::from(&toml_name))],
    };

    let hdr = &raw.scenario;
    let lang = match hdr.lang.as_ref().map(|l| l.get_ref().as_str()) {
        None | Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        Some(other) => {
            errs.push(
                ctx.loc(hdr.lang.as_ref().map(|l| l.span().start).unwrap_or(0), "scenario.lang"),
                format!("unknown language `{other}` (zh, en)"),
            );
            Lang::Zh
        }
    };
    let money_unit = match hdr.money_unit.as_ref().map(|l| l.get_ref().as_str()) {
        None | Some("yuan") => MoneyUnit::Yuan,
        Some("wan_yuan") => MoneyUnit::WanYuan,
        Some(other) => {
            errs.push(
                ctx.loc(hdr.money_unit.as_ref().map(|l| l.span().start).unwrap_or(0), "scenario.money_unit"),
                format!("unknown money unit `{other}` (yuan, wan_yuan)"),
            );
            MoneyUnit::Yuan
        }
    };
    let rounding = match &hdr.rounding {
        None => Decimal::ONE,
        Some(r) => match num(r, &ctx, "scenario.rounding", &mut errs) {
            Some(d) if d > Decimal::ZERO => d,
            Some(d) => {
                errs.push(
                    ctx.loc(r.span().start, "scenario.rounding"),
                    format!("rounding must be positive, got {d}"),
                );
                Decimal::ONE
            }
            None => Decimal::ONE,
        },
    };
    let name = hdr.name.get_ref().trim().to_string();
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        errs.push(
            ctx.loc(hdr.name.span().start, "scenario.name"),
            "name must be non-empty and usable as a folder name (no slashes)",
        );
    }

    let encoding = match raw.data.encoding.as_ref() {
        None => TextEncoding::Auto,
        Some(e) => TextEncoding::parse(e.get_ref()).unwrap_or_else(|| {
            errs.push(
                ctx.loc(e.span().start, "data.encoding"),
                format!("unknown encoding `{}` (auto, utf-8, gb18030)", e.get_ref()),
            );
            TextEncoding::Auto
        }),
    };
    let mut read_table =
        |role: &str, given: Option<&toml::Spanned<String>>, default: &str, required: bool, errs: &mut InputErrors| -> Option<Table> {
            let rel = given.map(|g| g.get_ref().clone()).unwrap_or_else(|| default.to_string());
            let found = source(&rel);
            let Some(found) = found else {
                if required || given.is_some() {
                    let loc = match given {
                        Some(g) => ctx.loc(g.span().start, &format!("data.{role}")),
                        None => Location::file(&rel),
                    };
                    errs.push(loc, format!("{role} file `{rel}` not found in the scenario folder"));
                }
                return None;
            };
            let (bytes, path) = match found {
                Ok(b) => b,
                Err(e) => {
                    errs.extend(e);
                    return None;
                }
            };
            files.inputs.push((role.to_string(), rel.clone(), path));
            match Table::from_bytes_as(&rel, &bytes, encoding) {
                Ok(t) => Some(t),
                Err(e) => {
                    errs.extend(e);
                    None
                }
            }
        };
    let d = &raw.data;
    let units_t = read_table("units", d.units.as_ref(), "units.csv", true, &mut errs);
    let factors_t = read_table("factors", d.factors.as_ref(), "factors.csv", true, &mut errs);
    let mut tables = BTreeMap::new();
    for (role, given, default) in [
        ("actual", d.actual.as_ref(), "actual.csv"),
        ("plan", d.plan.as_ref(), "plan.csv"),
        ("survey", d.survey.as_ref(), "survey.csv"),
        ("files", d.files.as_ref(), "files.csv"),
        ("payments", d.payments.as_ref(), "payments.csv"),
        ("households", d.households.as_ref(), "households.csv"),
        ("county_exits", d.county_exits.as_ref(), "county_exits.csv"),
    ] {
        if let Some(t) = read_table(role, given, default, false, &mut errs) {
            tables.insert(role.to_string(), t);
        }
    }
    let hierarchy = match units_t.as_ref().map(Hierarchy::from_table) {
        Some(Ok(h)) => Some(h),
        Some(Err(e)) => {
            errs.extend(e);
            None
        }
        None => None,
    };
    let (Some(hierarchy), Some(factors_t)) = (hierarchy, factors_t) else {
        return Err(errs);
    };
    for t in units_t.iter().chain(std::iter::once(&factors_t)).chain(tables.values()) {
        warnings.extend(t.warnings.iter().cloned());
    }
    for (role, t) in &tables {
        warnings.extend(t.normalised_cells(&numeric_columns(role, &t.headers), MAX_NOTED_CELLS));
    }
    // county_exits.csv is read in year order: say so when its rows were not (its errors are
    // left to the commands that read it)
    if let Some(Ok((_, w))) = tables.get("county_exits").map(crate::project::read_county_exits) {
        warnings.extend(w);
    }
    let mut factors = match FactorTable::new(factors_t, &hierarchy) {
        Ok(f) => f,
        Err(e) => {
            errs.extend(e);
            return Err(errs);
        }
    };
    let stages = match validate_stages(&raw, &ctx, &hierarchy, &mut factors, &mut warnings) {
        Ok(s) => s,
        Err(e) => {
            errs.extend(e);
            Vec::new()
        }
    };
    let population = match &hdr.population {
        Some(p) => {
            let col = p.get_ref().trim().to_string();
            if !factors.has_column(&col) {
                errs.push(
                    ctx.loc(p.span().start, "scenario.population"),
                    format!("column `{col}` is not in {}", factors.table.file),
                );
                None
            } else if let Err(e) = factors.parse_column(&col, &mut warnings) {
                errs.extend(e);
                None
            } else {
                Some(col)
            }
        }
        None => stages
            .last()
            .and_then(|s| s.pools.first())
            .and_then(|p| p.factors.iter().find(|f| f.transform == super::Transform::Share))
            .map(|f| f.column.clone()),
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Scenario {
        name,
        title: hdr.title.clone().unwrap_or_else(|| hdr.name.get_ref().clone()),
        year: hdr.year.as_ref().map(|y| *y.get_ref()),
        lang,
        money_unit,
        rounding,
        population,
        hierarchy,
        factors,
        stages,
        tables,
        toml_text: text.clone(),
        toml_file: toml_name.clone(),
        raw,
        warnings,
        encoding,
        files,
    })
}
