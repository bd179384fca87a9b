//! `money::parse_number_cell` on arbitrary text. Must never panic, and a number it reads
//! must read back to itself from its own decimal text.
#![no_main]
use fundsim::money::parse_number_cell;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = parse_number_cell(text) {
        if let Some(v) = c.value {
            let again = parse_number_cell(&v.to_string());
            assert_eq!(again.map(|c| c.value), Ok(Some(v)), "{text:?} read as {v} does not read back");
        }
    }
});
