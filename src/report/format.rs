//! Number formatting for chart axes and labels.
//!
//! Chart values arrive as `f64` (the caller converts from `Decimal`); labels are rounded
//! through `Decimal` with 四舍五入 (`MidpointAwayFromZero`), so 960.25 prints as 960.3 rather
//! than the 960.2 that `format!("{:.1}")` gives. Large amounts are shown on a scaled axis:
//! 万元 / 亿元 in Chinese, thousand / million / billion yuan in English.

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::text::{quantity_unit, Lang, Quantity};

/// A power-of-ten scale for an axis: plotted value = raw value / 10^`pow10`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Exponent of the divisor (0, 3, 4, 6, 8 or 9).
    pub pow10: u32,
    /// Unit word for the scaled axis, e.g. `万元`.
    pub unit: &'static str,
}

impl Scale {
    /// The divisor `10^pow10`.
    pub fn divisor(&self) -> f64 {
        10f64.powi(i32::try_from(self.pow10).unwrap_or(0))
    }

    /// `v / 10^pow10`.
    pub fn apply(&self, v: f64) -> f64 {
        v / self.divisor()
    }
}

/// Chooses the axis scale for values whose largest magnitude is `max_abs`.
///
/// Chinese: money ≥ 1亿 (1e8) → 亿元, ≥ 10万 (1e5) → 万元, else 元; persons ≥ 1e5 → 万人;
/// money per person ≥ 1e5 → 万元/人. English: ≥ 1e9 → billion, ≥ 1e6 → million,
/// ≥ 1e5 → thousand (billion only for money; per person stops at thousand).
pub fn scale_for(lang: Lang, q: Quantity, max_abs: f64) -> Scale {
    let m = if max_abs.is_finite() { max_abs.abs() } else { 0.0 };
    let pow10 = match (lang, q) {
        (Lang::Zh, Quantity::Money) if m >= 1e8 => 8,
        (Lang::Zh, _) if m >= 1e5 => 4,
        (Lang::En, Quantity::Money) if m >= 1e9 => 9,
        (Lang::En, Quantity::Money | Quantity::Persons) if m >= 1e6 => 6,
        (Lang::En, _) if m >= 1e5 => 3,
        _ => 0,
    };
    Scale {
        pow10,
        unit: quantity_unit(lang, q, pow10),
    }
}

/// Decimal places that tell ticks apart on an axis spanning `span`: enough for a tenth of
/// the span, `ceil(-log10(span / 10))`, clamped to 0..=6.
pub fn decimals_for_span(span: f64) -> u32 {
    let step = span.abs() / 10.0;
    if !step.is_finite() || step <= 0.0 {
        return 0;
    }
    let d = (-step.log10()).ceil();
    if d <= 0.0 {
        0
    } else if d >= 6.0 {
        6
    } else {
        // d is an integer in 1..=5 here
        d as u32
    }
}

/// `v` rounded half away from zero to `dp` places, with `,` thousands separators
/// (`1234567.891, 2` → `1,234,567.89`); `-0` prints as `0`; non-finite values print as `-`.
pub fn format_number(v: f64, dp: u32) -> String {
    let Some(d) = Decimal::from_f64(v) else {
        return "-".to_string();
    };
    let r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    let r = if r.is_zero() { Decimal::ZERO } else { r };
    let s = format!("{:.*}", dp as usize, r);
    group_thousands(&s)
}

/// Like [`format_number`] with a leading `+` on positive values.
pub fn format_signed(v: f64, dp: u32) -> String {
    let s = format_number(v, dp);
    if v > 0.0 && s != "0" && !s.chars().all(|c| c == '0' || c == '.') {
        format!("+{s}")
    } else {
        s
    }
}

/// A fraction as a percentage: `0.0253, 1` → `2.5%`.
pub fn format_percent(fraction: f64, dp: u32) -> String {
    format!("{}%", format_number(fraction * 100.0, dp))
}

fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let n = int.chars().count();
    let mut out = String::with_capacity(s.len() + n / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero_with_separators() {
        assert_eq!(format_number(960.25, 1), "960.3");
        assert_eq!(format_number(-960.25, 1), "-960.3");
        assert_eq!(format_number(1234567.891, 2), "1,234,567.89");
        assert_eq!(format_number(999.0, 0), "999");
        assert_eq!(format_number(-1000.0, 0), "-1,000");
        assert_eq!(format_number(-0.04, 1), "0.0");
        assert_eq!(format_number(-0.4, 0), "0");
        assert_eq!(format_number(f64::NAN, 1), "-");
        assert_eq!(format_signed(12.0, 0), "+12");
        assert_eq!(format_signed(-12.0, 0), "-12");
        assert_eq!(format_signed(0.0, 0), "0");
        assert_eq!(format_percent(0.0253, 1), "2.5%");
    }

    #[test]
    fn chooses_wan_and_yi_in_chinese() {
        let s = scale_for(Lang::Zh, Quantity::Money, 35_000_000.0);
        assert_eq!((s.pow10, s.unit), (4, "万元"));
        assert!((s.apply(35_000_000.0) - 3500.0).abs() < 1e-9);
        assert_eq!(scale_for(Lang::Zh, Quantity::Money, 3.2e9).unit, "亿元");
        assert_eq!(scale_for(Lang::Zh, Quantity::Money, 8_000.0).unit, "元");
        assert_eq!(scale_for(Lang::Zh, Quantity::Persons, 250_000.0).unit, "万人");
        assert_eq!(scale_for(Lang::En, Quantity::Money, 35_000_000.0).unit, "million yuan");
        assert_eq!(scale_for(Lang::En, Quantity::Persons, 250_000.0).unit, "thousand persons");
        assert_eq!(scale_for(Lang::Zh, Quantity::Money, f64::NAN).unit, "元");
    }

    #[test]
    fn decimals_follow_the_span() {
        assert_eq!(decimals_for_span(3500.0), 0);
        assert_eq!(decimals_for_span(5.0), 1);
        assert_eq!(decimals_for_span(0.3), 2);
        assert_eq!(decimals_for_span(0.0), 0);
        assert_eq!(decimals_for_span(f64::INFINITY), 0);
    }
}
