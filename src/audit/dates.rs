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
pub const ACCEPTED: &str = "YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD or YYYY年M月D日, optionally followed by a time";

/// How a date was written (month and day with one or two digits count as the same format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateFormat {
    /// `2019-03-05`
    Dash,
    /// `2019/03/05`
    Slash,
    /// `2019.03.05`
    Dot,
    /// `20190305`
    Compact,
    /// `2019年3月5日`
    Chinese,
    /// A date in one of the other forms followed by a time of day (`2019-03-05 14:30:00`),
    /// as database exports write them; the time is ignored.
    WithTime,
}

impl DateFormat {
    /// Every format, in the order of [`DateFormat::index`].
    pub const ALL: [DateFormat; 6] = [
        DateFormat::Dash,
        DateFormat::Slash,
        DateFormat::Dot,
        DateFormat::Compact,
        DateFormat::Chinese,
        DateFormat::WithTime,
    ];

    /// Position in [`DateFormat::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The format as a pattern, for messages.
    pub fn label(self) -> &'static str {
        match self {
            DateFormat::Dash => "YYYY-MM-DD",
            DateFormat::Slash => "YYYY/MM/DD",
            DateFormat::Dot => "YYYY.MM.DD",
            DateFormat::Compact => "YYYYMMDD",
            DateFormat::Chinese => "YYYY年M月D日",
            DateFormat::WithTime => "date and time (YYYY-MM-DD hh:mm:ss)",
        }
    }
}

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
    parse_date_format(raw).map(|(d, _)| d)
}

/// Parses a date and tells how it was written; `None` as for [`parse_date`].
pub fn parse_date_format(raw: &[u8]) -> Option<(Date, DateFormat)> {
    let b = trim(raw);
    if let Some(r) = date_only(b) {
        return Some(r);
    }
    // a time after the date: `2019-03-05 14:30[:00]` or `2019-03-05T14:30:00`
    let split = b.iter().position(|&c| c == b' ' || c == b'T')?;
    let (d, t) = (b.get(..split)?, b.get(split + 1..)?);
    if !is_time(trim(t)) {
        return None;
    }
    let (date, fmt) = date_only(d)?;
    (fmt != DateFormat::Chinese).then_some((date, DateFormat::WithTime))
}

/// `hh:mm` or `hh:mm:ss` (fractions of a second allowed), a real time of day.
fn is_time(t: &[u8]) -> bool {
    let mut parts = t.split(|&c| c == b':');
    let ok = |p: Option<&[u8]>, max: u32| {
        p.is_some_and(|p| (1..=2).contains(&p.len()) && p.iter().all(u8::is_ascii_digit) && digits(p, 2).is_some_and(|(v, _)| v <= max))
    };
    let (h, m) = (parts.next(), parts.next());
    if !ok(h, 23) || !ok(m, 59) {
        return false;
    }
    match parts.next() {
        None => true,
        Some(sec) => {
            let whole = sec.split(|&c| c == b'.').next();
            let frac_ok = sec
                .iter()
                .position(|&c| c == b'.')
                .is_none_or(|i| sec.get(i + 1..).is_some_and(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit)));
            ok(whole, 59) && frac_ok && parts.next().is_none()
        }
    }
}

fn date_only(b: &[u8]) -> Option<(Date, DateFormat)> {
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        let (y, _) = digits(b, 4)?;
        let (m, _) = digits(b.get(4..)?, 2)?;
        let (d, _) = digits(b.get(6..)?, 2)?;
        return Date::new(y, m, d).map(|x| (x, DateFormat::Compact));
    }
    let (y, ny) = digits(b, 4)?;
    if ny != 4 {
        return None;
    }
    let rest = b.get(4..)?;
    match rest.first()? {
        sep @ (b'-' | b'/' | b'.') => {
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
            let fmt = match sep {
                b'-' => DateFormat::Dash,
                b'/' => DateFormat::Slash,
                _ => DateFormat::Dot,
            };
            Date::new(y, m, d).map(|x| (x, fmt))
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
            Date::new(y, m, d).map(|x| (x, DateFormat::Chinese))
        }
    }
}

/// Why a cell is not a date, in words for the error message (the cell is one
/// [`parse_date_format`] rejected): an ambiguous day/month order, a year written last or with
/// two digits, an Excel serial number, a day that does not exist, or another text.
pub fn why_not_a_date(raw: &[u8]) -> String {
    let b = trim(raw);
    let text = String::from_utf8_lossy(b);
    let shown: String = text.chars().take(40).collect();
    let nums: Vec<&[u8]> = b.split(|&c| matches!(c, b'/' | b'-' | b'.')).collect();
    let all_digits = |p: &[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    if let [a, m, y] = nums.as_slice() {
        if all_digits(a) && all_digits(m) && all_digits(y) && a.len() <= 2 && m.len() <= 2 {
            let (x, z) = (digits(a, 2).map(|v| v.0).unwrap_or(0), digits(m, 2).map(|v| v.0).unwrap_or(0));
            if y.len() == 4 {
                if (1..=12).contains(&x) && (1..=12).contains(&z) && x != z {
                    return format!(
                        "`{shown}` is not a date: ambiguous, day {x} of month {z} or month {x} day {z}? Write dates year first (YYYY-MM-DD)"
                    );
                }
                return format!(
                    "`{shown}` is not a date: the year comes last; write dates year first (YYYY-MM-DD) so day and month cannot be confused"
                );
            }
            if y.len() == 2 {
                return format!("`{shown}` is not a date: two-digit year; write dates as YYYY-MM-DD");
            }
        }
        if all_digits(a) && a.len() == 2 && all_digits(m) && all_digits(y) && y.len() <= 2 {
            return format!("`{shown}` is not a date: two-digit year; write dates as YYYY-MM-DD");
        }
    }
    if b.len() == 5 && all_digits(b) {
        return format!(
            "`{shown}` is not a date: it looks like an Excel date serial number; format the column as dates (YYYY-MM-DD) before saving"
        );
    }
    let shape_ok = {
        // the text with every run of digits collapsed to one `9`
        let mut d: Vec<u8> = Vec::with_capacity(b.len());
        for &c in b {
            if c.is_ascii_digit() {
                if d.last() != Some(&b'9') {
                    d.push(b'9');
                }
            } else {
                d.push(c);
            }
        }
        let s = String::from_utf8_lossy(&d).into_owned();
        (matches!(s.as_str(), "9-9-9" | "9/9/9" | "9.9.9" | "9年9月9日") || (s == "9" && b.len() == 8))
            && b.first().is_some_and(u8::is_ascii_digit)
            && digits(b, 4).is_some_and(|(_, n)| n == 4)
    };
    if shape_ok {
        return format!("`{shown}` is not a date: there is no such day in the calendar");
    }
    format!("`{shown}` is not a date ({ACCEPTED})")
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
            "2019.3.5",
            "2019-03-05 00:00:00",
            "2019/3/5 14:30",
            "2019-03-05T08:15:30.250",
        ] {
            assert_eq!(p(s).as_deref(), Some("2019-03-05"), "{s}");
        }
        let f = |s: &str| parse_date_format(s.as_bytes()).unwrap().1;
        assert_eq!(
            (
                f("2019-3-5"),
                f("2019/03/05"),
                f("2019.3.5"),
                f("20190305"),
                f("2019年3月5日"),
                f("2019-03-05 00:00")
            ),
            (
                DateFormat::Dash,
                DateFormat::Slash,
                DateFormat::Dot,
                DateFormat::Compact,
                DateFormat::Chinese,
                DateFormat::WithTime
            )
        );
    }

    #[test]
    fn rejected_dates_say_why() {
        let w = |s: &str| why_not_a_date(s.as_bytes());
        assert!(w("05/03/2019").contains("ambiguous"), "{}", w("05/03/2019"));
        assert!(w("5-3-2019").contains("ambiguous"));
        assert!(w("25/03/2019").contains("year comes last"));
        assert!(w("03/03/2019").contains("year comes last"));
        assert!(w("19-03-05").contains("two-digit year"), "{}", w("19-03-05"));
        assert!(w("05/03/19").contains("two-digit year"));
        assert!(w("43529").contains("serial"));
        assert!(w("2019-02-30").contains("no such day"), "{}", w("2019-02-30"));
        assert!(w("2019年13月1日").contains("no such day"), "{}", w("2019年13月1日"));
        assert!(w("next week").contains("is not a date"));
        assert!(w("2019").contains("is not a date"));
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
            "03/05/2019",
            "2019-03-05 25:00",
            "2019年3月5日 10:00",
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
