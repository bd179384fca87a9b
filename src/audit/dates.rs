//! Calendar dates as ledgers and registers write them.
//!
//! Accepted (after trimming whitespace): `YYYY-MM-DD`, `YYYY/MM/DD` (month and day may have one
//! digit: `2019-3-5`, `2019/3/5`), `YYYYMMDD`, and `YYYY年M月D日` (`2019年3月5日`, month and day
//! with one or two digits). Anything else, and days that do not exist (`2019-02-29`), are
//! rejected. Parsing works on bytes and allocates nothing.

use std::fmt;

/// A calendar date, stored as the number `YYYYMMDD` so that the natural order of the numbers
/// is the order of the dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(u32);

impl Date {
    /// The date `y-m-d`, if it exists (years 1000–9999).
    pub fn new(y: u32, m: u32, d: u32) -> Option<Date> {
        if !(1000..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(y * 10_000 + m * 100 + d))
    }

    /// Year.
    pub fn year(self) -> u32 {
        self.0 / 10_000
    }

    /// Month, 1–12.
    pub fn month(self) -> u32 {
        self.0 / 100 % 100
    }

    /// Day of the month.
    pub fn day(self) -> u32 {
        self.0 % 100
    }

    /// Quarter, 1–4: `(month − 1) / 3 + 1`.
    pub fn quarter(self) -> u32 {
        (self.month() - 1) / 3 + 1
    }

    /// The number `YYYYMMDD`.
    pub fn packed(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year(), self.month(), self.day())
    }
}

/// Days in month `m` of year `y` (Gregorian: leap years divisible by 4, except centuries not
/// divisible by 400).
pub fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// The formats accepted, for error messages.
pub const ACCEPTED: &str = "YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY年M月D日";

const NIAN: &[u8] = "年".as_bytes();
const YUE: &[u8] = "月".as_bytes();
const RI: &[u8] = "日".as_bytes();

/// Reads 1–`max` ASCII digits at the start of `b`: the value and the number of digits.
fn digits(b: &[u8], max: usize) -> Option<(u32, usize)> {
    let mut v = 0u32;
    let mut n = 0;
    for &c in b.iter().take(max) {
        if !c.is_ascii_digit() {
            break;
        }
        v = v * 10 + u32::from(c - b'0');
        n += 1;
    }
    (n > 0).then_some((v, n))
}

/// Parses a date in one of the [`ACCEPTED`] formats; `None` if it is not one, or not a real day.
pub fn parse_date(raw: &[u8]) -> Option<Date> {
    let b = trim(raw);
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        let (y, _) = digits(b, 4)?;
        let (m, _) = digits(b.get(4..)?, 2)?;
        let (d, _) = digits(b.get(6..)?, 2)?;
        return Date::new(y, m, d);
    }
    let (y, ny) = digits(b, 4)?;
    if ny != 4 {
        return None;
    }
    let rest = b.get(4..)?;
    match rest.first()? {
        sep @ (b'-' | b'/') => {
            let rest = rest.get(1..)?;
            let (m, nm) = digits(rest, 2)?;
            let rest = rest.get(nm..)?;
            if rest.first() != Some(sep) {
                return None;
            }
            let rest = rest.get(1..)?;
            let (d, nd) = digits(rest, 2)?;
            if nd != rest.len() {
                return None;
            }
            Date::new(y, m, d)
        }
        _ => {
            let rest = rest.strip_prefix(NIAN)?;
            let (m, nm) = digits(rest, 2)?;
            let rest = rest.get(nm..)?.strip_prefix(YUE)?;
            let (d, nd) = digits(rest, 2)?;
            let rest = rest.get(nd..)?;
            if rest != RI {
                return None;
            }
            Date::new(y, m, d)
        }
    }
}

/// Trims ASCII whitespace from both ends.
pub fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map(|i| i + 1).unwrap_or(start);
    b.get(start..end).unwrap_or(&[])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse_date(s.as_bytes()).map(|d| d.to_string())
    }

    #[test]
    fn every_accepted_format_gives_the_same_day() {
        for s in [
            "2019-03-05",
            "2019/03/05",
            "20190305",
            "2019年3月5日",
            "2019年03月05日",
            "2019-3-5",
            "2019/3/5",
            " 2019-03-05 ",
        ] {
            assert_eq!(p(s).as_deref(), Some("2019-03-05"), "{s}");
        }
    }

    #[test]
    fn bad_dates_are_rejected() {
        for s in [
            "",
            "2019",
            "2019-13-01",
            "2019-02-29",
            "2019-04-31",
            "2019-03-05x",
            "2019-03/05",
            "19-03-05",
            "2019.03.05",
            "03/05/2019",
            "2019年3月5",
            "2019年3月5日x",
            "201903050",
            "2019-003-05",
            "2019年13月1日",
            "abc",
        ] {
            assert_eq!(p(s), None, "{s}");
        }
        assert_eq!(p("2020-02-29").as_deref(), Some("2020-02-29"));
        assert_eq!(p("2000-02-29").as_deref(), Some("2000-02-29"));
        assert_eq!(p("1900-02-29"), None);
    }

    #[test]
    fn order_and_parts() {
        let a = parse_date(b"2019-12-31").unwrap();
        let b = parse_date(b"20200101").unwrap();
        assert!(a < b);
        assert_eq!((a.year(), a.month(), a.day(), a.quarter()), (2019, 12, 31, 4));
        assert_eq!(b.quarter(), 1);
    }
}
