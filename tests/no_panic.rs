//! The library never panics, whatever it is fed: garbage bytes and strings into every loader
//! (`Table::from_bytes` as CSV and as XLSX, `scenario::parse_toml`, `money::parse_number_cell`,
//! the payment checks) and whole scenarios built from mutated files through
//! `scenario::from_sources` and then `alloc::allocate`. Each call runs under
//! `std::panic::catch_unwind`; a panic fails the property. The fuzz targets in `fuzz/` do the
//! same at a far larger scale; this test keeps the guarantee in every `cargo test`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use fundsim::audit::payments::{check_payments, LedgerInput};
use fundsim::audit::{Check, PaymentRules};
use fundsim::error::InputErrors;
use fundsim::table::Table;
use fundsim::{alloc, money, scenario};
use proptest::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

const TOML: &str = include_str!("fixtures/plain/scenario.toml");
const UNITS: &str = include_str!("fixtures/plain/units.csv");
const FACTORS: &str = include_str!("fixtures/plain/factors.csv");
const LEDGER: &str = include_str!("fixtures/audit-small/payments.csv");
const REGISTER: &str = include_str!("fixtures/audit-small/households.csv");

/// Runs `f`, failing the property if it panics.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        TestCaseError::fail(format!("{what} panicked: {msg}"))
    })
}

/// Loads a scenario from memory (the files in `from_sources`' order: units, factors, then the
/// optional tables; `None` = no such file) and allocates it.
fn load_and_allocate(toml: &[u8], files: &[Option<Vec<u8>>]) {
    let mut asked = 0usize;
    let mut source = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
        let f = files.get(asked).cloned().flatten();
        asked += 1;
        f.map(|b| Ok((b, PathBuf::from(rel))))
    };
    if let Ok(s) = scenario::from_sources("scenario.toml", toml, &mut source) {
        if let Ok(a) = alloc::allocate(&s) {
            let _ = fundsim::output::allocation_table(&s, &a).to_csv(false);
        }
    }
}

/// Text that looks like what planners type into number cells.
fn numberish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+−＋－]?[0-9０-９,，. 　]{0,40}([eE][-+]?[0-9]{1,5})?[%％]?",
        "[-+]?[0-9]{1,3}(,[0-9]{3}){0,12}(\\.[0-9]{0,30})?",
        any::<String>(),
        prop::sample::select(vec![
            "NaN",
            "-inf",
            "Infinity",
            "#N/A",
            "—",
            "1e308",
            "-1e-400",
            "7.9e28",
            "79228162514264337593543950336"
        ])
        .prop_map(str::to_string),
    ]
}

/// A file with a few random edits: each edit replaces a byte range with a token or noise.
fn mutated(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "",
            "\n",
            ",",
            "\"",
            "[[stage]]\n",
            "[[stage.pool]]\n",
            "[[stage.pool.factor]]\n",
            "= \"",
            "0",
            "-1",
            "1e28",
            "0.0000000001",
            "79228162514264337593543950335",
            "NaN",
            "#N/A",
            "gap",
            "inverse",
            "reference = \"5\"\n",
            "floor = \"",
            "cap = \"",
            "cap_share = \"",
            "adjust = \"",
            "eligible = \"",
            "level = \"",
            "total = \"",
            "reserve = \"",
            "rounding = \"",
            "share = \"",
            "weight = \"",
            "column = \"",
            "\u{feff}",
            "１２",
            "P",
            "K11",
            "C1",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec((any::<prop::sample::Index>(), 0usize..6, token), 0..6).prop_map(move |edits| {
        let mut b = base.as_bytes().to_vec();
        for (at, len, with) in edits {
            let start = at.index(b.len() + 1);
            let end = (start + len).min(b.len());
            b.splice(start..end, with);
        }
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tables_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), csv_text in mutated(UNITS)) {
        for name in ["f.csv", "f.xlsx"] {
            let _ = no_panic(name, || Table::from_bytes(name, &bytes))?;
        }
        let t = no_panic("csv", || Table::from_bytes("units.csv", &csv_text))?;
        if let Ok(t) = t {
            let mut w = Vec::new();
            for row in &t.rows {
                for c in 0..t.headers.len() + 1 {
                    let _ = no_panic("number", || t.number(row, c, &mut w))?;
                }
            }
        }
    }

    #[test]
    fn xlsx_like_zips_never_panic(prefix in prop::collection::vec(any::<u8>(), 0..64), tail in prop::collection::vec(any::<u8>(), 0..256)) {
        // a local-file-header signature followed by garbage, as a broken workbook would start
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend(prefix);
        bytes.extend(b"PK\x05\x06");
        bytes.extend(tail);
        let _ = no_panic("xlsx", || Table::from_bytes("f.xlsx", &bytes))?;
    }

    #[test]
    fn toml_never_panics(text in any::<String>(), edited in mutated(TOML)) {
        let _ = no_panic("parse_toml", || scenario::parse_toml("scenario.toml", &text))?;
        let edited = String::from_utf8_lossy(&edited).into_owned();
        let _ = no_panic("parse_toml", || scenario::parse_toml("scenario.toml", &edited))?;
    }

    #[test]
    fn number_cells_never_panic(s in numberish()) {
        let r = no_panic("parse_number_cell", || money::parse_number_cell(&s))?;
        if let Ok(c) = r {
            if let Some(v) = c.value {
                // a number read back from its own text is the same number
                let again = no_panic("parse_number_cell", || money::parse_number_cell(&v.to_string()))?;
                prop_assert_eq!(again.map(|c| c.value), Ok(Some(v)));
            }
        }
    }

    #[test]
    fn scenarios_from_garbage_never_panic(
        toml in prop::collection::vec(any::<u8>(), 0..256),
        units in prop::collection::vec(any::<u8>(), 0..256),
        factors in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        no_panic("from_sources + allocate", || load_and_allocate(&toml, &[Some(units), Some(factors)]))?;
    }

    #[test]
    fn mutated_scenarios_never_panic(toml in mutated(TOML), units in mutated(UNITS), factors in mutated(FACTORS)) {
        no_panic("from_sources + allocate", || load_and_allocate(&toml, &[Some(units.clone()), Some(factors.clone())]))?;
        // the same files read as the optional tables too
        no_panic("from_sources + allocate", || {
            load_and_allocate(&toml, &[Some(units.clone()), Some(factors.clone()), Some(factors.clone()), Some(units.clone()), None, Some(units)])
        })?;
    }

    #[test]
    fn payment_checks_never_panic(ledger in mutated(LEDGER), register in mutated(REGISTER), garbage in prop::collection::vec(any::<u8>(), 0..256)) {
        let rules = PaymentRules {
            checks: Check::ALL.iter().copied().filter(|c| c.is_payment()).collect(),
            flat_min_payments: 2,
            ..PaymentRules::default()
        };
        for (l, r) in [(&ledger, &register), (&garbage, &register), (&ledger, &garbage)] {
            let input = LedgerInput { payments_file: "payments.csv", payments: l, households_file: "households.csv", households: r };
            let _ = no_panic("check_payments", || check_payments(&input, &rules))?;
        }
    }
}

/// The fixtures the mutations start from load and allocate (so the mutations explore near a
/// valid scenario, not only the parse errors).
#[test]
fn the_unmutated_fixture_allocates() {
    let files = [Some(UNITS.as_bytes().to_vec()), Some(FACTORS.as_bytes().to_vec())];
    let mut asked = 0usize;
    let mut source = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
        let f = files.get(asked).cloned().flatten();
        asked += 1;
        f.map(|b| Ok((b, PathBuf::from(rel))))
    };
    let s = scenario::from_sources("scenario.toml", TOML.as_bytes(), &mut source).unwrap();
    assert!(alloc::allocate(&s).is_ok());
}
