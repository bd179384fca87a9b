//! `Table::from_csv_bytes` on arbitrary bytes; every cell of a table that loads is then read
//! as a number. Must never panic; a loaded table has one cell per header column in every row.
#![no_main]
use fundsim::table::Table;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Table::from_csv_bytes("f.csv", data) {
        let mut warnings = Vec::new();
        for row in &t.rows {
            assert_eq!(row.cells.len(), t.headers.len());
            for c in 0..t.headers.len() {
                let _ = t.number(row, c, &mut warnings);
            }
        }
        for h in t.headers.iter().filter(|h| !h.is_empty()) {
            assert!(t.col(h).is_some());
        }
    }
});
