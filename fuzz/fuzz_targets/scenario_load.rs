//! A whole scenario from memory, then the allocation engine.
//!
//! The input is `scenario.toml`, then the tables the loader asks for, in the order it asks
//! (units, factors, actual, plan, survey, files, payments, households), separated by lines
//! `%%%`; an empty part is a file that does not exist. Loading goes through `scenario::from_sources`; a scenario that loads is allocated
//! and written as `allocation.csv`. Must never panic, and every allocation must conserve money.
#![no_main]
use fundsim::error::InputErrors;
use fundsim::{alloc, scenario};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fuzz_target!(|data: &[u8]| {
    let parts = fundsim_fuzz::split(data);
    let toml = parts.first().copied().unwrap_or(&[]);
    let mut asked = 0usize;
    let mut source = |rel: &str| -> Option<Result<(Vec<u8>, PathBuf), InputErrors>> {
        asked += 1;
        parts
            .get(asked)
            .filter(|b| !b.is_empty())
            .map(|b| Ok((b.to_vec(), PathBuf::from(rel))))
    };
    let Ok(s) = scenario::from_sources("scenario.toml", toml, &mut source) else {
        return;
    };
    let Ok(a) = alloc::allocate(&s) else {
        return;
    };
    // stage 1 hands out exactly its total
    if let Some(total) = s.stages.first().and_then(|st| st.total) {
        let out: rust_decimal::Decimal = a
            .rows
            .iter()
            .filter(|r| r.stage == 1 && matches!(r.kind, alloc::RowKind::Total | alloc::RowKind::Reserve | alloc::RowKind::Retained))
            .map(|r| r.amount)
            .sum();
        assert_eq!(out, total, "stage 1 does not conserve money");
    }
    let t = fundsim::output::allocation_table(&s, &a);
    let _ = t.to_csv(false);
});
