//! What an Excel number format shows of a date-time serial: the date, the time of day, or
//! both. The format decides, not the value: `yyyy-mm-dd hh:mm:ss` shows a time even at
//! midnight, `yyyy-mm-dd` shows no time even when the serial has a fraction.

/// The parts of a date-time a number format shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shows {
    /// Year, month, day (or era) tokens.
    pub(crate) date: bool,
    /// Hour, minute, second or AM/PM tokens.
    pub(crate) time: bool,
}

/// The date and time tokens of a format code's first section (`m` is minutes after an hour
/// or before a second, months otherwise). Quoted text, escaped characters and `[...]`
/// (colours, conditions, locales) are not tokens; `[h]`, `[mm]`, `[ss]` are.
pub(crate) fn shows(code: &str) -> Shows {
    let mut tokens: Vec<u8> = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => break,
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                chars.next();
            }
            '[' => {
                let mut inner = String::new();
                for b in chars.by_ref() {
                    if b == ']' {
                        break;
                    }
                    inner.push(b);
                }
                let lower = inner.to_ascii_lowercase();
                if let Some(first) = lower.bytes().next()
                    && matches!(first, b'h' | b'm' | b's')
                    && lower.bytes().all(|b| b == first)
                {
                    tokens.push(first);
                }
            }
            'G' | 'g' if is_general(&mut chars) => {}
            _ => {
                let lower = c.to_ascii_lowercase();
                if lower == 'a' && am_pm(&mut chars) {
                    tokens.push(b'a');
                } else if matches!(lower, 'y' | 'd' | 'e' | 'g' | 'b' | 'h' | 's' | 'm') {
                    // A run of one letter is one token (`yyyy`, `mm`).
                    while chars.peek().is_some_and(|n| n.eq_ignore_ascii_case(&lower)) {
                        chars.next();
                    }
                    tokens.push(lower as u8);
                }
            }
        }
    }
    let mut s = Shows::default();
    for (i, &t) in tokens.iter().enumerate() {
        match t {
            b'y' | b'd' | b'e' | b'g' | b'b' => s.date = true,
            b'h' | b's' | b'a' => s.time = true,
            _ => {
                let after_hour = i.checked_sub(1).and_then(|p| tokens.get(p)) == Some(&b'h');
                let before_second = tokens.get(i + 1) == Some(&b's');
                if after_hour || before_second {
                    s.time = true;
                } else {
                    s.date = true;
                }
            }
        }
    }
    s
}

/// After a `G`: whether the rest of the word `General` follows (consumed if so).
fn is_general(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    let rest: String = chars.clone().take(6).collect();
    if rest.eq_ignore_ascii_case("eneral") {
        for _ in 0..6 {
            chars.next();
        }
        true
    } else {
        false
    }
}

/// After an `A`: whether `M/PM` or `/P` follows (consumed if so).
fn am_pm(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    for tail in ["M/PM", "/P"] {
        let next: String = chars.clone().take(tail.len()).collect();
        if next.eq_ignore_ascii_case(tail) {
            for _ in 0..tail.len() {
                chars.next();
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let both = Shows { date: true, time: true };
        let date = Shows { date: true, time: false };
        let time = Shows { date: false, time: true };
        for (code, want) in [
            ("yyyy-mm-dd hh:mm:ss", both),
            ("m/d/yy h:mm", both),
            ("dd/mm/yyyy hh:mm", both),
            ("d mmm yyyy h:mm AM/PM", both),
            ("[$-409]mmmm d, yyyy h:mm A/P;@", both),
            ("yyyy-mm-dd", date),
            ("mm-dd-yy", date),
            ("d-mmm", date),
            ("mmm-yy", date),
            ("[Red]dd.mm.yyyy", date),
            ("\"Day \"d\" at h\"", date),
            ("dd\\h yyyy", date),
            ("hh:mm:ss", time),
            ("h:mm AM/PM", time),
            ("mm:ss", time),
            ("[h]:mm:ss", time),
            ("General", Shows::default()),
            ("0.00", Shows::default()),
        ] {
            assert_eq!(shows(code), want, "{code}");
        }
    }
}
