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
    if quotas.len() != keys.len() {
        return Err(ArithError("largest remainder: bad arguments"));
    }
    largest_remainder_by(total, quotas, unit, |a, b| {
        keys.get(a).map(|s| s.as_bytes()).cmp(&keys.get(b).map(|s| s.as_bytes()))
    })
}

/// [`largest_remainder`] with ties broken by position (the first quota wins a tie), for
/// splits whose parties are ordered already (pools in file order, factors in formula order).
pub fn largest_remainder_indexed(total: Decimal, quotas: &[Decimal], unit: Decimal) -> Result<Vec<Decimal>, ArithError> {
    largest_remainder_by(total, quotas, unit, |a, b| a.cmp(&b))
}

/// Largest remainder with a tie-break on positions.
fn largest_remainder_by(
    total: Decimal,
    quotas: &[Decimal],
    unit: Decimal,
    tie: impl Fn(usize, usize) -> Ordering,
) -> Result<Vec<Decimal>, ArithError> {
    if unit <= Decimal::ZERO {
        return Err(ArithError("largest remainder: bad arguments"));
    }
    if quotas.is_empty() {
        return if total.is_zero() {
            Ok(Vec::new())
        } else {
            Err(ArithError("largest remainder: nothing to split into"))
        };
    }
    let pow = Pow10Unit::of(unit);
    let mut floors = Vec::with_capacity(quotas.len());
    // remainders as integers at scale 18 (the remainder rounded to 18 decimal places of `unit`)
    let mut remainders: Vec<i128> = Vec::with_capacity(quotas.len());
    for q in quotas {
        let (floor, rem) = match pow.and_then(|p| p.split(*q)) {
            Some(x) => x?,
            None => split_general(*q, unit)?,
        };
        floors.push(floor);
        remainders.push(rem);
    }
    let left = div(sub(total, sum(&floors)?)?, unit)?;
    let k = left.round();
    if (left - k).abs() > Decimal::new(1, 9) || k < Decimal::ZERO || k > Decimal::from(quotas.len()) {
        return Err(ArithError("largest remainder: quotas do not sum to the total"));
    }
    let k = k.to_usize().ok_or(ArithError("largest remainder: count"))?;
    if k == 0 {
        return Ok(floors);
    }
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (ra, rb) = (remainders.get(a), remainders.get(b));
        rb.cmp(&ra).then_with(|| tie(a, b)).then(a.cmp(&b))
    });
    for &i in order.iter().take(k) {
        if let Some(f) = floors.get_mut(i) {
            *f = add(*f, unit)?;
        }
    }
    Ok(floors)
}

/// [`largest_remainder_weights_into`] into new vectors (for the tests).
#[cfg(test)]
pub(crate) fn largest_remainder_weights(total: i64, weights: &[i128]) -> Option<Vec<i64>> {
    let (mut parts, mut rems) = (Vec::with_capacity(weights.len()), Vec::with_capacity(weights.len()));
    largest_remainder_weights_into(total, weights, &mut parts, &mut rems)?;
    Some(parts)
}

/// Largest remainder on exact rational quotas: `total` whole units split in proportion to the
/// non-negative integer `weights` `m_q`, quota `total × m_q / M` with `M = Σ m_q`. Every quota
/// is rounded down; the units left go one each to the largest remainders
/// `(total × m_q) mod M` (all over the same `M`, so compared exactly), ties by position. The
/// parts sum to `total`. `None` when `M = 0`, a weight is negative or a product overflows.
///
/// The parts go to `parts` (cleared first); `rems` is working space, so that a caller
/// splitting many amounts reuses both.
pub(crate) fn largest_remainder_weights_into(total: i64, weights: &[i128], parts: &mut Vec<i64>, rems: &mut Vec<i128>) -> Option<()> {
    let m: i128 = weights
        .iter()
        .try_fold(0i128, |acc, &w| if w < 0 { None } else { acc.checked_add(w) })?;
    if m == 0 || total < 0 {
        return None;
    }
    parts.clear();
    rems.clear();
    let mut floors = 0i64;
    for &w in weights {
        let num = i128::from(total).checked_mul(w)?;
        let part = i64::try_from(num / m).ok()?;
        floors = floors.checked_add(part)?;
        parts.push(part);
        rems.push(num % m);
    }
    let left = usize::try_from(total.checked_sub(floors)?).ok().filter(|&k| k <= weights.len())?;
    if weights.len() <= 32 {
        // a few pools: take the largest remainder not yet taken, `left` times (the first of
        // equal ones, so ties go by position); a taken remainder is marked −1
        for _ in 0..left {
            let mut best: Option<usize> = None;
            let mut best_rem = -1i128;
            for (i, &r) in rems.iter().enumerate() {
                if r > best_rem {
                    (best, best_rem) = (Some(i), r);
                }
            }
            let i = best?;
            *parts.get_mut(i)? += 1;
            *rems.get_mut(i)? = -1;
        }
    } else {
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by(|&a, &b| rems.get(b).cmp(&rems.get(a)).then(a.cmp(&b)));
        for &i in order.get(..left)? {
            *parts.get_mut(i)? += 1;
        }
    }
    Some(())
}

/// `10¹⁸`, the scale of remainders.
const REM_SCALE: i128 = 1_000_000_000_000_000_000;

/// `⌊q / unit⌋ × unit` and the remainder `q / unit − ⌊q / unit⌋` rounded half-to-even to 18
/// decimal places (as an integer count of `10⁻¹⁸`), with `Decimal` operations: the general case.
fn split_general(q: Decimal, unit: Decimal) -> Result<(Decimal, i128), ArithError> {
    let units = div(q, unit)?;
    let whole = units.floor();
    let floor = mul(whole, unit)?;
    let frac = sub(units, whole)?.round_dp_with_strategy(18, RoundingStrategy::MidpointNearestEven);
    let scale = frac.scale().min(18);
    let rem = frac
        .mantissa()
        .checked_mul(10i128.pow(18 - scale))
        .ok_or(ArithError("largest remainder: remainder"))?;
    Ok((floor, rem))
}

/// A rounding unit that is a power of ten, `10^e` (`1`, `100`, `0.01`, …): quotas split into
/// whole units and remainder with integer arithmetic on the decimal's mantissa, exactly as the
/// general path would (`q / 10^e` is exact when its scale fits, so no rounding happens before
/// the remainder is rounded to 18 places).
#[derive(Clone, Copy, Debug)]
struct Pow10Unit {
    e: i32,
    /// `10^|e|`.
    mult: i128,
}

/// Largest mantissa of a [`Decimal`] (`2⁹⁶ − 1`).
pub(crate) const MAX_MANTISSA: i128 = 79_228_162_514_264_337_593_543_950_335;

impl Pow10Unit {
    fn of(unit: Decimal) -> Option<Pow10Unit> {
        let n = unit.normalize();
        let mut m = n.mantissa();
        let mut j = 0i32;
        while m > 1 && m % 10 == 0 {
            m /= 10;
            j += 1;
        }
        let e = j - n.scale() as i32;
        // a decimal unit has |e| ≤ 28, so 10^|e| fits
        let mult = 10i128.checked_pow(e.unsigned_abs())?;
        (m == 1 && e.abs() <= 28).then_some(Pow10Unit { e, mult })
    }

    /// `None` when the fast path does not apply (the general path then decides).
    fn split(self, q: Decimal) -> Option<Result<(Decimal, i128), ArithError>> {
        let (whole, rem) = self.split_whole(q)?;
        // ⌊q / unit⌋ × unit = whole × 10^e
        self.amount(whole).map(|f| Ok((f, rem)))
    }

    /// `k × 10^e` as a decimal; `None` when out of range.
    fn amount(self, k: i128) -> Option<Decimal> {
        if self.e >= 0 {
            k.checked_mul(self.mult)
                .filter(|x| x.abs() <= MAX_MANTISSA)
                .map(|x| Decimal::from_i128_with_scale(x, 0))
        } else {
            (k.abs() <= MAX_MANTISSA).then(|| Decimal::from_i128_with_scale(k, self.e.unsigned_abs()))
        }
    }

    /// `(⌊q / unit⌋, remainder)`: the whole number of units and the remainder rounded
    /// half-to-even to 18 places as a count of `10⁻¹⁸`; `None` when out of range.
    fn split_whole(self, q: Decimal) -> Option<(i128, i128)> {
        let m = q.mantissa();
        // q / unit = m / 10^p
        let p = q.scale() as i32 + self.e;
        if p < 0 {
            // q / unit = m × 10^|p|, a whole number of units
            return Some((m.checked_mul(10i128.checked_pow(p.unsigned_abs())?)?, 0));
        }
        if p > 28 {
            return None;
        }
        let d = 10i128.checked_pow(p as u32)?;
        let whole = m.div_euclid(d);
        let frac = m.rem_euclid(d);
        let rem = if p <= 18 {
            frac.checked_mul(10i128.checked_pow((18 - p) as u32)?)?
        } else {
            let g = 10i128.checked_pow((p - 18) as u32)?;
            let (qq, rr) = (frac / g, frac % g);
            match (2 * rr).cmp(&g) {
                Ordering::Less => qq,
                Ordering::Greater => qq + 1,
                Ordering::Equal => qq + (qq & 1),
            }
        };
        if rem > REM_SCALE {
            return None;
        }
        Some((whole, rem))
    }
}

/// A rounding unit that is a power of ten (`1`, `100`, `0.01`, …), for splitting amounts
/// into whole units with integer arithmetic.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UnitPow10(Pow10Unit);

impl UnitPow10 {
    /// `Some` when `unit = 10^e` for an integer `e` (with `|e| ≤ 28`).
    pub(crate) fn of(unit: Decimal) -> Option<UnitPow10> {
        Pow10Unit::of(unit).map(UnitPow10)
    }

    /// The exponent `e` of `unit = 10^e`.
    pub(crate) fn exponent(self) -> i32 {
        self.0.e
    }

    /// `(⌊q / unit⌋, r)` with `r` the remainder `q / unit − ⌊q / unit⌋` rounded half-to-even to
    /// 18 decimal places, as a count of `10⁻¹⁸` — the same remainder [`largest_remainder`]
    /// compares. `None` when out of range.
    pub(crate) fn split(self, q: Decimal) -> Option<(i128, i128)> {
        self.0.split_whole(q)
    }

    /// `k × unit` as a decimal (64-bit count, no 128-bit arithmetic); `None` when out of range.
    pub(crate) fn amount_i64(self, k: i64) -> Option<Decimal> {
        if self.0.e >= 0 {
            let m = i64::try_from(self.0.mult).ok()?;
            Decimal::try_new(k.checked_mul(m)?, 0).ok()
        } else {
            Decimal::try_new(k, self.0.e.unsigned_abs()).ok()
        }
    }
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
    // A spreadsheet's error value (#DIV/0!, #REF!, #VALUE!, #NAME?, #NUM!): a formula failed.
    if trimmed.starts_with('#') && (trimmed.ends_with('!') || trimmed.ends_with('?')) && trimmed.len() <= 16 {
        return Err(format!("`{trimmed}` is a spreadsheet error (a formula that failed), not a number"));
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
            "#DIV/0!",
            "#REF!",
        ] {
            assert!(parse_number_cell(bad).is_err(), "{bad} should be rejected");
        }
        assert!(parse_number_cell("#VALUE!").unwrap_err().contains("spreadsheet error"));
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
    fn power_of_ten_units_split_like_the_general_path() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        for unit in [dec!(1), dec!(100), dec!(0.01), dec!(1000), dec!(0.001), dec!(10)] {
            let p = Pow10Unit::of(unit).unwrap();
            for i in 0..20_000u32 {
                // quotas like the engine's: amount × a 28-digit share, integers, small values
                let q = match i % 4 {
                    0 => {
                        Decimal::from(rng.random_range(0..10_000_000_000u64))
                            * (Decimal::ONE / Decimal::from(rng.random_range(1..100_000u64)))
                    }
                    1 => Decimal::from(rng.random_range(0..10_000_000u64)),
                    2 => Decimal::new(rng.random_range(0..i64::MAX), rng.random_range(0..28)),
                    _ => Decimal::from(rng.random_range(0..1_000u64)) / Decimal::from(rng.random_range(1..1_000_000u64)),
                };
                let general = split_general(q, unit).unwrap();
                if let Some(fast) = p.split(q) {
                    assert_eq!(fast.unwrap(), general, "q = {q}, unit = {unit}");
                }
            }
        }
        assert!(Pow10Unit::of(dec!(50)).is_none());
        assert!(Pow10Unit::of(dec!(0.05)).is_none());
    }

    #[test]
    fn ties_by_position_in_the_indexed_variant() {
        let third = dec!(100) / dec!(3);
        let out = largest_remainder_indexed(dec!(100), &[third, third, third], dec!(1)).unwrap();
        assert_eq!(out, vec![dec!(34), dec!(33), dec!(33)]);
        // a unit that is not a power of ten goes the general way
        let out = largest_remainder_indexed(dec!(100), &[dec!(30), dec!(30), dec!(40)], dec!(50)).unwrap();
        assert_eq!(out, vec![dec!(50), dec!(0), dec!(50)]);
    }

    #[test]
    fn largest_remainder_on_integer_weights_is_exact() {
        // 100 units by 1:1:1 — remainders tie at 1/3, the first two positions win
        assert_eq!(largest_remainder_weights(100, &[1, 1, 1]), Some(vec![34, 33, 33]));
        // 0.7 / 0.3 of 7 units: 4.9 and 2.1
        assert_eq!(largest_remainder_weights(7, &[7, 3]), Some(vec![5, 2]));
        // weights that do not sum to a power of ten: 10 × 2/7 = 2.857…, 10 × 5/7 = 7.142…
        assert_eq!(largest_remainder_weights(10, &[2, 5]), Some(vec![3, 7]));
        assert_eq!(largest_remainder_weights(10, &[0, 0]), None);
        assert_eq!(largest_remainder_weights(10, &[-1, 2]), None);
        // the same as the Decimal method wherever the Decimal quotas are exact
        for (total, w) in [(12_345i64, vec![5i128, 3, 2]), (999, vec![25, 25, 50]), (1, vec![1, 1])] {
            let m: i128 = w.iter().sum();
            let quotas: Vec<Decimal> = w
                .iter()
                .map(|&x| Decimal::from(total) * Decimal::from(x) / Decimal::from(m))
                .collect();
            let dec = largest_remainder_indexed(Decimal::from(total), &quotas, Decimal::ONE).unwrap();
            let int: Vec<Decimal> = largest_remainder_weights(total, &w)
                .unwrap()
                .into_iter()
                .map(Decimal::from)
                .collect();
            assert_eq!(dec, int, "{total} by {w:?}");
        }
    }

    /// An amount of scale 0 split in units of 0.01 or 0.001 is a whole number of units (it
    /// used to be left to the `Decimal` path).
    #[test]
    fn whole_amounts_split_into_units_smaller_than_one() {
        let cent = UnitPow10::of(dec!(0.01)).unwrap();
        assert_eq!(cent.split(dec!(3000000000)), Some((300_000_000_000, 0)));
        assert_eq!(cent.split(dec!(12.5)), Some((1250, 0)));
        assert_eq!(cent.split(dec!(12.345)), Some((1234, 500_000_000_000_000_000)));
        let mill = UnitPow10::of(dec!(0.001)).unwrap();
        assert_eq!(mill.split(dec!(7)), Some((7000, 0)));
        // beyond 128 bits: not split
        assert_eq!(UnitPow10::of(Decimal::new(1, 28)).unwrap().split(Decimal::MAX), None);
    }

    /// Many weights take the sorting branch; both branches agree with a plain reference.
    #[test]
    fn largest_remainder_on_many_weights() {
        let w: Vec<i128> = (1..=50).map(|k| (k * 37 % 11 + 1) as i128).collect();
        let parts = largest_remainder_weights(1001, &w).unwrap();
        assert_eq!(parts.iter().sum::<i64>(), 1001);
        let m: i128 = w.iter().sum();
        for (k, &p) in parts.iter().enumerate() {
            let exact = 1001 * w[k];
            assert!(i128::from(p) * m <= exact + m && i128::from(p) * m >= exact - m);
        }
        // equal weights: the first positions take the units left
        assert_eq!(largest_remainder_weights(52, &[1; 50]).unwrap()[..3], [2, 2, 1]);
        assert_eq!(largest_remainder_weights(5, &[1; 4]).unwrap(), vec![2, 1, 1, 1]);
    }

    #[test]
    fn floor_to_multiple_rounds_down() {
        assert_eq!(floor_to_multiple(dec!(2850), dec!(100)).unwrap(), dec!(2800));
        assert_eq!(floor_to_multiple(dec!(12.349), dec!(0.01)).unwrap(), dec!(12.34));
    }
}
