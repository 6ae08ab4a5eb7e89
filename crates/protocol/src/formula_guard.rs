//! The guard against spreadsheet formula injection, shared by every CSV zcrm writes (exports,
//! reject files, success files): a cell that a spreadsheet would evaluate is written with a
//! leading `'`, which spreadsheets take as "this is text" and do not show.

use std::borrow::Cow;

/// The characters that make a spreadsheet evaluate a cell when they start it (OWASP's list).
pub const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `s` is a plain decimal number: an optional sign, digits with at most one point (at
/// least one digit in all), and an optional exponent (`-12.50`, `+7`, `.5`, `-1e5`). A
/// spreadsheet reads such a cell as that number, so it cannot call anything.
pub fn is_plain_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut n = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        n += digits(&mut i);
    }
    if n == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Whether a spreadsheet would evaluate the cell: it starts with one of [`TRIGGERS`] and is
/// not a plain number (`-2+3`, `-(1)`, `+1 415 555 0100` and `-` are evaluated; `-12.50` is not).
pub fn looks_like_formula(s: &str) -> bool {
    s.starts_with(TRIGGERS) && !is_plain_number(s)
}

/// The cell as it is written: `'` and the text when it looks like a formula, else unchanged.
pub fn guard(s: &str) -> Cow<'_, str> {
    if looks_like_formula(s) { Cow::Owned(format!("'{s}")) } else { Cow::Borrowed(s) }
}

/// The cell as it was before [`guard`]: a leading `'` is dropped when the rest looks like a
/// formula (what zcrm's own CSVs hold: an export read back by an import, as in an org-to-org
/// copy, gets `+1 415 555 0100`, not `'+1 415 555 0100`). Any other text is unchanged.
pub fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unguard_undoes_guard_and_nothing_else() {
        for s in ["+1 415 555 0100", "=SUM(A1)", "-(1)", "@x", "plain", "'quoted", "-12.5", ""] {
            assert_eq!(unguard(&guard(s)), s, "{s:?}");
        }
        assert_eq!(unguard("'plain"), "'plain");
        assert_eq!(unguard("'-12.5"), "'-12.5");
    }

    #[test]
    fn cells_a_spreadsheet_evaluates_are_guarded_and_numbers_are_not() {
        for f in [
            "=HYPERLINK(\"x\")",
            "=1+1",
            "+1+1",
            "-2+3",
            "-1/0",
            "-(1)",
            "@SUM(A1)",
            "\t=1",
            "\rx",
            "+cmd|' /C calc'!A0",
            "+1 (415) 555-0100",
            "-",
            "+",
            "-.",
            "-1e",
            "-1e+",
            "-1.2.3",
            "-1,5",
            "- 1",
            "-1 ",
        ] {
            assert!(looks_like_formula(f), "{f:?}");
            assert_eq!(guard(f), format!("'{f}"), "{f:?}");
        }
        for ok in ["-12.50", "+7", "-.5", "-5.", "-1e5", "+1.5E-3", "Acme", "", "a=b", "1+1", "'=1"]
        {
            assert!(!looks_like_formula(ok), "{ok:?}");
            assert!(matches!(guard(ok), Cow::Borrowed(s) if s == ok), "{ok:?}");
        }
        assert!(is_plain_number("42") && !is_plain_number("") && !is_plain_number("."));
    }
}
