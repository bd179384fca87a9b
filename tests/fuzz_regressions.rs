//! One test per crash the fuzz targets (`fuzz/`) found, named after it; the inputs are in
//! `tests/fuzz_regressions/` (see `fuzz/README.md` for how each was found and fixed). Each must
//! now be an input error that names the file — no panic, no out-of-memory abort.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use fundsim::table::Table;

fn input(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Reads `name` as `factors.xlsx` and returns the error message.
fn xlsx_error(name: &str) -> String {
    let e = Table::from_bytes("factors.xlsx", &input(name)).expect_err("a crafted workbook must be rejected");
    let msg = e.to_string();
    assert!(msg.contains("factors.xlsx"), "{msg}");
    msg
}

/// The fuzzer's own input (xlsx_table, first minutes): a mangled cell reference with a long run
/// of letters made calamine 0.38 overflow `u32` (`attempt to multiply with overflow`).
#[test]
fn xlsx_table_cell_reference_overflow() {
    let msg = xlsx_error("xlsx_table-cell-reference-overflow.xlsx");
    assert!(msg.contains("outside Excel's grid"), "{msg}");
}

/// The same defect from a clean workbook: a cell `ZZZZZZZZZZ2` (panic in debug builds; in
/// release builds the wrapped column made calamine allocate a 205 GB range).
#[test]
fn xlsx_table_column_letters_overflow() {
    let msg = xlsx_error("xlsx_table-column-letters-overflow.xlsx");
    assert!(msg.contains("ZZZZZZZZZZ2"), "{msg}");
}

/// A row number past `u32` (`B99999999999`): panic in debug, a 78 GB allocation in release.
#[test]
fn xlsx_table_row_digits_overflow() {
    let msg = xlsx_error("xlsx_table-row-digits-overflow.xlsx");
    assert!(msg.contains("B99999999999"), "{msg}");
}

/// An inverted `<dimension ref="B2:A1"/>`: calamine subtracts the ends unchecked
/// (`attempt to subtract with overflow`).
#[test]
fn xlsx_table_inverted_dimension() {
    let msg = xlsx_error("xlsx_table-inverted-dimension.xlsx");
    assert!(msg.contains("B2:A1"), "{msg}");
}

/// A valid but far cell (`XFD1048576`): reading the sheet as one dense range from A1 asked for
/// 550 GB. Cells are now read sparsely; the far cell is reported as lying beyond the header.
#[test]
fn xlsx_table_far_cell_dense_range() {
    let msg = xlsx_error("xlsx_table-far-cell-dense-range.xlsx");
    assert!(msg.contains("factors.xlsx:1048576"), "{msg}");
}
