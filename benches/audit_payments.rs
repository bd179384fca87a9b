//! Timed benchmark: payment checks on a 5,000,000-row ledger generated in memory
//! (500,000 filed households in 500 units, ten payments each over 2019, a few planted
//! problems). Run with `cargo bench --bench audit_payments`; set `AUDIT_ROWS` for another
//! size. Prints the time of `fundsim::audit::payments::check_payments` (parse + all checks).
//! Figures are recorded in `benches/README.md`.

use fundsim::audit::payments::{check_payments, LedgerInput};
use fundsim::audit::PaymentRules;
use std::fmt::Write as _;
use std::time::Instant;

/// Generates the register and the ledger (date order: month by month, households within).
fn generate(rows: usize) -> (Vec<u8>, Vec<u8>) {
    let households = (rows / 10).max(1);
    let mut reg = String::with_capacity(households * 48);
    reg.push_str("household_id,unit_id,category,filed_on,closed_on,dibao_monthly\n");
    for h in 0..households {
        let cat = if h % 3 == 0 { "deep" } else { "relative" };
        let _ = writeln!(
            reg,
            "H{h:07},U{:03},{cat},2018-{:02}-01,,{}",
            h % 500,
            h % 12 + 1,
            500 + (h % 5) * 50
        );
    }
    let mut led = String::with_capacity(rows * 48);
    led.push_str("payment_id,household_id,unit_id,date,kind,amount\n");
    let mut i = 0usize;
    'outer: for j in 0..10 {
        for h in 0..households {
            if i >= rows {
                break 'outer;
            }
            let (kind, amount) = match j {
                0..=6 => ("living", 200 + (h % 7) * 50),
                7 => ("warmth", 1000 + (h % 4) * 250),
                8 => ("education", 1500),
                _ => ("medical", 800 + (h % 9) * 100),
            };
            // planted: one in 10,000 rows pays ten times the amount; one in 50,000 goes to an
            // unfiled household
            let amount = if i % 10_000 == 9_999 { amount * 10 } else { amount };
            let hh = if i % 50_000 == 49_999 {
                format!("X{h:07}")
            } else {
                format!("H{h:07}")
            };
            let _ = writeln!(
                led,
                "P{i:09},{hh},U{:03},2019-{:02}-{:02},{kind},{amount}.00",
                h % 500,
                j + 1,
                h % 28 + 1
            );
            i += 1;
        }
    }
    (reg.into_bytes(), led.into_bytes())
}

/// CPU time (user + system) of this process so far, in seconds, from /proc/self/stat (Linux;
/// 0 elsewhere). Clock ticks are taken as 100 per second.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn main() {
    let rows: usize = std::env::var("AUDIT_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000_000);
    let t0 = Instant::now();
    let (reg, led) = generate(rows);
    let gen = t0.elapsed();
    let rules = PaymentRules::default();
    let input = LedgerInput {
        payments_file: "payments.csv",
        payments: &led,
        households_file: "households.csv",
        households: &reg,
    };
    let c1 = cpu_seconds();
    let t1 = Instant::now();
    let report = match check_payments(&input, &rules) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let took = t1.elapsed();
    let cpu = cpu_seconds() - c1;
    println!(
        "audit payments: {} rows ({:.0} MB ledger, {} households) generated in {:.2} s; checked in {:.2} s wall, {:.2} s CPU on {} threads; {} hits",
        report.payments,
        led.len() as f64 / 1e6,
        report.households,
        gen.as_secs_f64(),
        took.as_secs_f64(),
        cpu,
        rayon::current_num_threads(),
        report.hits.len()
    );
    for s in &report.summary {
        println!(
            "  {:<14} examined {:>9}  hits {:>6}  at stake {}",
            s.check.key(),
            s.examined,
            s.hits,
            s.amount
        );
    }
}
