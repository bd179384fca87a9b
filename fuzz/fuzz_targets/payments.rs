//! The payment checks (`audit::payments::check_payments`) on an arbitrary ledger and
//! register: the input is `payments.csv`, a line `%%%`, then `households.csv`; an optional
//! third part's first bytes pick the duplicate period and small flat-check thresholds.
//! Every payment check is switched on. Must never panic.
#![no_main]
use fundsim::audit::payments::{check_payments, payments_table, LedgerInput};
use fundsim::audit::{Check, PaymentRules, Period};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = fundsim_fuzz::split(data);
    let ledger = parts.first().copied().unwrap_or(&[]);
    let register = parts.get(1).copied().unwrap_or(&[]);
    let mut rules = PaymentRules::default();
    rules.checks = Check::ALL.iter().copied().filter(|c| c.is_payment()).collect();
    if let Some(cfg) = parts.get(2) {
        let b = |i: usize| cfg.get(i).copied().unwrap_or(0);
        rules.duplicate_period = match b(0) % 3 {
            0 => Period::Month,
            1 => Period::Quarter,
            _ => Period::Year,
        };
        rules.flat_min_payments = usize::from(b(1) % 4);
        rules.flat_min_categories = usize::from(b(2) % 3);
        rules.flat_share = rust_decimal::Decimal::new(i64::from(b(3)), 2);
        if b(4) % 2 == 1 {
            rules.duplicate_kinds = Some(vec!["living".into()]);
        }
    }
    let input = LedgerInput {
        payments_file: "payments.csv",
        payments: ledger,
        households_file: "households.csv",
        households: register,
    };
    if let Ok(report) = check_payments(&input, &rules) {
        let _ = payments_table(&report).to_csv(false);
    }
});
