//! Escaping for HTML and neutralising of spreadsheet formulas.
//!
//! Unit names and any other text from input files are untrusted: in HTML they are escaped,
//! and in CSV/XLSX cells they are kept from being evaluated as formulas ("CSV injection").

use std::borrow::Cow;

/// Escapes `&`, `<`, `>`, `"` and `'` as HTML entities, so the text is inert both in element
/// content and in quoted attribute values. Returns the input unchanged when nothing needs it.
pub fn html_escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters that make a spreadsheet treat a cell as a formula (or strip into one): `=`, `+`,
/// `-`, `@`, tab, carriage return, and their full-width forms `＝ ＋ － ＠`, which some
/// spreadsheet input methods convert.
const TRIGGERS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'];

/// Neutralises a CSV/XLSX cell so that a spreadsheet never evaluates it: a cell whose first
/// character is `=`, `+`, `-`, `@`, tab or carriage return (or a full-width `＝＋－＠`) and
/// that is **not a plain number** gets a leading apostrophe `'` (Excel and WPS show the rest as
/// text). Numbers such as `-12.5`, `+3`, `-1,234.56`, `-1e3` or `-2.5%` pass unchanged, as does
/// every cell not starting with a trigger (so `A=B` is kept).
///
/// Write every text cell through this; numeric cells written as numbers need nothing.
pub fn neutralise_cell(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some(c) if TRIGGERS.contains(&c) && !is_plain_number(s) => {
            let mut out = String::with_capacity(s.len() + 1);
            out.push('\'');
            out.push_str(s);
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(s),
    }
}

/// `[+-]digits[,ddd…][.digits][e[+-]digits][%]` — a number a spreadsheet reads as a value.
pub(crate) fn is_plain_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let mut int_digits = 0;
    let mut group_len: Option<usize> = None; // digits since the last ','
    while let Some(&c) = b.get(i) {
        if c.is_ascii_digit() {
            int_digits += 1;
            if let Some(g) = group_len.as_mut() {
                *g += 1;
                if *g > 3 {
                    return false;
                }
            }
        } else if c == b',' {
            if int_digits == 0 || group_len.is_some_and(|g| g != 3) {
                return false;
            }
            group_len = Some(0);
        } else {
            break;
        }
        i += 1;
    }
    if group_len.is_some_and(|g| g != 3) {
        return false;
    }
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            frac_digits += 1;
            i += 1;
        }
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if b.get(i) == Some(&b'%') {
        i += 1;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_comes_out_inert() {
        let s = html_escape("<script>alert(1)</script>");
        assert_eq!(s, "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(html_escape("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
        assert!(matches!(html_escape("东乡族自治县"), Cow::Borrowed(_)));
    }

    #[test]
    fn formulas_get_an_apostrophe() {
        assert_eq!(neutralise_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise_cell("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(neutralise_cell("-2+3"), "'-2+3");
        assert_eq!(neutralise_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise_cell("\t=1"), "'\t=1");
        assert_eq!(neutralise_cell("\r=1"), "'\r=1");
        assert_eq!(neutralise_cell("＝1+1"), "'＝1+1");
        assert_eq!(neutralise_cell("-"), "'-");
        assert_eq!(neutralise_cell("--1"), "'--1");
        assert_eq!(neutralise_cell("-inf"), "'-inf");
        assert_eq!(neutralise_cell("-1,23"), "'-1,23");
    }

    #[test]
    fn numbers_and_plain_text_pass() {
        for s in [
            "-12.5",
            "+3",
            "-1,234.56",
            "-1e3",
            "-2.5%",
            "-.5",
            "-0",
            "+1,000,000",
            "-3.",
            "东乡族自治县",
            "A=B",
            "",
            "12",
        ] {
            assert_eq!(neutralise_cell(s), s, "{s:?}");
            assert!(matches!(neutralise_cell(s), Cow::Borrowed(_)));
        }
    }
}
