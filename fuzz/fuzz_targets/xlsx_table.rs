//! `Table::from_xlsx_bytes` on arbitrary bytes. Must never panic.
#![no_main]
use fundsim::table::Table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Table::from_xlsx_bytes("f.xlsx", data) {
        let mut warnings = Vec::new();
        for row in &t.rows {
            assert_eq!(row.cells.len(), t.headers.len());
            for c in 0..t.headers.len() {
                let _ = t.number(row, c, &mut warnings);
            }
        }
    }
});
