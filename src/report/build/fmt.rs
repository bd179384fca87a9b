//! Page text helpers: bilingual strings and number formats for tables.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::report::format::format_percent;
use crate::report::Lang;

/// `zh` or `en`, by `lang`.
pub fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Groups the integer digits of a plain decimal string by thousands (`-1234567.5` →
/// `-1,234,567.5`).
pub(crate) fn group_digits(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map(|r| ("-", r)).unwrap_or(("", s));
    let (int, frac) = rest.split_once('.').map(|(i, f)| (i, Some(f))).unwrap_or((rest, None));
    let n = int.chars().count();
    let mut out = String::with_capacity(s.len() + n / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// An exact amount with thousands separators and no trailing zeros (`13554625` →
/// `13,554,625`).
pub(crate) fn money(d: Decimal) -> String {
    group_digits(&d.normalize().to_string())
}

/// `d` rounded half away from zero to `dp` places, grouped (`2345.678, 2` → `2,345.68`).
pub(crate) fn round_grouped(d: Decimal, dp: u32) -> String {
    let r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    let s = format!("{r:.prec$}", prec = dp as usize);
    group_digits(&s)
}

/// An exact fraction as a percentage with `dp` decimals (`0.004610416667, 2` → `0.46%`).
pub(crate) fn pct_dec(d: Decimal, dp: u32) -> String {
    match d.checked_mul(Decimal::ONE_HUNDRED) {
        Some(p) => format!("{}%", round_grouped(p, dp)),
        None => "-".into(),
    }
}

/// A float fraction as a percentage with `dp` decimals (half away from zero).
pub(crate) fn pct(x: f64, dp: u32) -> String {
    format_percent(x, dp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn numbers_for_tables() {
        assert_eq!(money(dec!(13554625.00)), "13,554,625");
        assert_eq!(money(dec!(-1234567.5)), "-1,234,567.5");
        assert_eq!(money(dec!(999)), "999");
        assert_eq!(round_grouped(dec!(2345.675), 2), "2,345.68");
        assert_eq!(round_grouped(dec!(7), 2), "7.00");
        assert_eq!(pct_dec(dec!(0.004610416667), 2), "0.46%");
        assert_eq!(pct_dec(dec!(0.125), 1), "12.5%");
        assert_eq!(pct(0.3482, 1), "34.8%");
        assert_eq!(tr(Lang::En, "中", "en"), "en");
    }
}
