//! `scenario::parse_toml` on arbitrary text. Must never panic (nesting bombs included).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = fundsim::scenario::parse_toml("scenario.toml", &text);
});
