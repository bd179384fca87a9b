//! Money and numbers: reading numeric cells as exact decimals, rounding to the smallest
//! amount handed out, and the largest-remainder method.
//!
//! Every amount is a [`Decimal`]; arithmetic on amounts is checked, and overflow is an error
//! value, never a panic.

use rust_decimal::prelude::*;
use std::cmp::Ordering;

/// Arithmetic that left the range of [`Decimal`] (about ±7.9 × 10²⁸) or divided by zero.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("arithmetic overflow or division by zero in {0}")]
pub struct ArithError(pub &'static str);

/// `a + b`, checked.
pub fn add(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    a.checked_add(b).ok_or(ArithError("addition"))
}
/// `a − b`, checked.
pub fn sub(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    a.checked_sub(b).ok_or(ArithError("subtraction"))
}
/// `a × b`, checked.
pub fn mul(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    a.checked_mul(b).ok_or(ArithError("multiplication"))
}
/// `a ÷ b`, checked (division by zero is an error).
pub fn div(a: Decimal, b: Decimal) -> Result<Decimal, ArithError> {
    a.checked_div(b).ok_or(ArithError("division"))
}
/// `Σ xs`, checked.
pub fn sum<'a>(xs: impl IntoIterator<Item = &'a Decimal>) -> Result<Decimal, ArithError> {
    xs.into_iter().try_fold(Decimal::ZERO, |acc, x| add(acc, *x))
}

/// The largest multiple of `unit` not above `x`: `⌊x / unit⌋ × unit` (`unit > 0`).
pub fn floor_to_multiple(x: Decimal, unit: Decimal) -> Result<Decimal, ArithError> {
    mul(div(x, unit)?.floor(), unit)
}

/// Splits `total` into multiples of `unit` close to the exact `quotas` by the
/// largest-remainder (Hamilton) method.
///
/// Every quota is rounded down to a multiple of `unit`; the `k = (total − Σ⌊qᵢ⌋) / unit`
/// units left over go one each to the quotas with the largest remainders `qᵢ − ⌊qᵢ⌋`, ties
/// broken by `keys` in ascending byte order. The results sum exactly to `total`.
///
/// `total` must be a multiple of `unit` and `Σ qᵢ` must equal `total` up to the precision of
/// [`Decimal`]. Remainders are compared after rounding them to 18 decimal places of `unit`, so
/// that two quotas whose exact remainders are equal but whose 28-digit decimal images differ in
/// the last digits count as a tie, as they would in exact rational arithmetic.
pub fn largest_remainder(total: Decimal, quotas: &[Decimal], keys: &[&str], unit: Decimal) -> Result<Vec<Decimal>, ArithError> {
    if quotas.len() != keys.len() || unit <= Decimal::ZERO {
        return Err(ArithError("largest remainder: bad arguments"));
    }
    if quotas.is_empty() {
        return if total.is_zero() {
            Ok(Vec::new())
        } else {
            Err(ArithError("largest remainder: nothing to split into"))
        };
    }
    let mut floors = Vec::with_capacity(quotas.len());
    let mut remainders = Vec::with_capacity(quotas.len());
    for q in quotas {
        let units = div(*q, unit)?;
        let whole = units.floor();
        floors.push(mul(whole, unit)?);
        let frac = sub(units, whole)?.round_dp_with_strategy(18, RoundingStrategy::MidpointNearestEven);
        remainders.push(frac);
    }
    let left = div(sub(total, sum(&floors)?)?, unit)?;
    let k = left.round();
    if (left - k).abs() > Decimal::new(1, 9) || k < Decimal::ZERO || k > Decimal::from(quotas.len()) {
        return Err(ArithError("largest remainder: quotas do not sum to the total"));
    }
    let k = k.to_usize().ok_or(ArithError("largest remainder: count"))?;
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (remainders.get(a), remainders.get(b));
        rb.cmp(&ra)
            .then_with(|| keys.get(a).map(|s| s.as_bytes()).cmp(&keys.get(b).map(|s| s.as_bytes())))
    });
    for &i in order.iter().take(k) {
        if let Some(f) = floors.get_mut(i) {
            *f = add(*f, unit)?;
        }
    }
    Ok(floors)
}

/// How a numeric cell was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellNumber {
    /// The value; `None` for an empty cell (or `#N/A`, `-` and the like).
    pub value: Option<Decimal>,
    /// A note when the cell needed normalising (full-width digits, percent sign, …), so the
    /// caller can warn and name the cell.
    pub note: Option<String>,
}

/// Reads a numeric cell the way planners' spreadsheets write them.
///
/// Accepted: plain decimals; thousands separators `,` or spaces in correct groups of three
/// (`1,234,567.89`); full-width digits, point, comma and minus (normalised, with a note);
/// a trailing `%` (divided by 100, with a note); scientific notation within range.
/// Empty, `#N/A`, `N/A`, `NA`, `-`, `—` and `--` read as empty.
/// Rejected with a reason: anything else, `NaN`, infinities, badly grouped separators and
/// values outside the range of [`Decimal`].
pub fn parse_number_cell(raw: &str) -> Result<CellNumber, String> {
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let mut notes: Vec<&str> = Vec::new();
    let upper = trimmed.to_ascii_uppercase();
    if trimmed.is_empty() || matches!(upper.as_str(), "#N/A" | "N/A" | "NA" | "-" | "—" | "--" | "#NULL!" | "NULL") {
        return Ok(CellNumber { value: None, note: None });
    }
    // Full-width forms (as typed with a Chinese input method).
    let mut s = String::with_capacity(trimmed.len());
    let mut full_width = false;
    for c in trimmed.chars() {
        let mapped = match c {
            '\u{ff10}'..='\u{ff19}' => char::from_u32(c as u32 - 0xff10 + '0' as u32),
            '\u{ff0e}' => Some('.'),
            '\u{ff0c}' => Some(','),
            '\u{ff0d}' | '\u{2212}' => Some('-'),
            '\u{ff0b}' => Some('+'),
            '\u{ff05}' => Some('%'),
            '\u{3000}' => Some(' '),
            _ => None,
        };
        match mapped {
            Some(m) => {
                full_width = true;
                s.push(m);
            }
            None => s.push(c),
        }
    }
    if full_width {
        notes.push("full-width characters normalised");
    }
    let mut s = s.trim().to_string();
    let mut percent = false;
    if let Some(stripped) = s.strip_suffix('%') {
        percent = true;
        notes.push("percent sign read as /100");
        s = stripped.trim_end().to_string();
    }
    let lower = s.to_ascii_lowercase();
    if matches!(lower.trim_start_matches(['+', '-']), "nan" | "inf" | "infinity") {
        return Err(format!("`{raw}` is not a finite number"));
    }
    let s = strip_group_separators(&s)
        .ok_or_else(|| format!("`{raw}` has misplaced thousands separators (expected groups of three digits, e.g. 1,234,567.89)"))?;
    if s.len() > 64 {
        return Err(format!("`{}…` is not a number (too long)", s.chars().take(20).collect::<String>()));
    }
    let value = if s.contains(['e', 'E']) {
        Decimal::from_scientific(&s).map_err(|_| format!("`{raw}` is not a number in range (|x| < 7.9e28, at most 28 decimal places)"))?
    } else {
        if !s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+')) || !s.chars().any(|c| c.is_ascii_digit()) {
            return Err(format!("`{raw}` is not a number"));
        }
        Decimal::from_str_exact(&s)
            .or_else(|_| Decimal::from_str(&s))
            .map_err(|_| format!("`{raw}` is not a number in range (|x| < 7.9e28)"))?
    };
    let value = if percent {
        value
            .checked_div(Decimal::ONE_HUNDRED)
            .ok_or_else(|| format!("`{raw}` out of range"))?
    } else {
        value
    };
    let note = if notes.is_empty() { None } else { Some(notes.join("; ")) };
    Ok(CellNumber {
        value: Some(value.normalize()),
        note,
    })
}

/// Removes thousands separators (`,`, `_`-free, or single spaces) when they sit in correct groups
/// of three digits in the integer part; returns `None` when they are misplaced.
fn strip_group_separators(s: &str) -> Option<String> {
    if !s.contains([',', ' ']) {
        return Some(s.to_string());
    }
    let (sign, rest) = match s.strip_prefix(['-', '+']) {
        Some(r) => (&s[..1], r),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    if frac.is_some_and(|f| f.contains([',', ' '])) {
        return None;
    }
    let sep = if int.contains(',') { ',' } else { ' ' };
    if int.contains(',') && int.contains(' ') {
        return None;
    }
    let groups: Vec<&str> = int.split(sep).collect();
    let first_ok = groups
        .first()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.chars().all(|c| c.is_ascii_digit()));
    let rest_ok = groups.iter().skip(1).all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()));
    if !first_ok || !rest_ok {
        return None;
    }
    let mut out = String::from(sign);
    out.push_str(&groups.concat());
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

/// Orders two decimals (total order), for sorting.
pub fn cmp_dec(a: &Decimal, b: &Decimal) -> Ordering {
    a.cmp(b)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn v(s: &str) -> Option<Decimal> {
        parse_number_cell(s).unwrap().value
    }

    #[test]
    fn cells_read_like_spreadsheets_write_them() {
        assert_eq!(v("1,234,567.89"), Some(dec!(1234567.89)));
        assert_eq!(v(" 42 "), Some(dec!(42)));
        assert_eq!(v("1 234 567"), Some(dec!(1234567)));
        assert_eq!(v("１２３"), Some(dec!(123)));
        assert_eq!(v("１，２３４"), Some(dec!(1234)));
        assert_eq!(v("3.5%"), Some(dec!(0.035)));
        assert_eq!(v("1.5e3"), Some(dec!(1500)));
        assert_eq!(v("-0.25"), Some(dec!(-0.25)));
        for empty in ["", "  ", "#N/A", "-", "N/A", "—"] {
            assert_eq!(v(empty), None, "{empty:?}");
        }
        assert!(parse_number_cell("１２３").unwrap().note.is_some());
    }

    #[test]
    fn bad_cells_are_rejected_with_a_reason() {
        for bad in [
            "abc",
            "1,23",
            "12,3456",
            "NaN",
            "inf",
            "-Infinity",
            "1e308",
            "1.2.3",
            "1,234.5,6",
            "12a",
            "--5",
            "1e",
        ] {
            assert!(parse_number_cell(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn largest_remainder_sums_exactly_and_breaks_ties_by_id() {
        let q = [dec!(33.3333333333), dec!(33.3333333333), dec!(33.3333333334)];
        let out = largest_remainder(dec!(100), &q, &["b", "a", "c"], dec!(1)).unwrap();
        assert_eq!(out.iter().sum::<Decimal>(), dec!(100));
        assert_eq!(out, vec![dec!(33), dec!(33), dec!(34)]);
        // exact tie: 1/3 each of 100 → the smallest id gets the extra unit
        let third = dec!(100) / dec!(3);
        let out = largest_remainder(dec!(100), &[third, third, third], &["b", "a", "c"], dec!(1)).unwrap();
        assert_eq!(out, vec![dec!(33), dec!(34), dec!(33)]);
        // rounding to 100
        let out = largest_remainder(dec!(1000), &[dec!(250), dec!(450), dec!(300)], &["x", "y", "z"], dec!(100)).unwrap();
        assert_eq!(out, vec![dec!(300), dec!(400), dec!(300)]);
    }

    #[test]
    fn floor_to_multiple_rounds_down() {
        assert_eq!(floor_to_multiple(dec!(2850), dec!(100)).unwrap(), dec!(2800));
        assert_eq!(floor_to_multiple(dec!(12.349), dec!(0.01)).unwrap(), dec!(12.34));
    }
}
