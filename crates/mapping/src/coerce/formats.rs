//! The format checks of text fields: e-mail address, host name, URL, phone number.

/// ASCII bytes allowed in an e-mail address's local part besides letters and digits.
const LOCAL_PUNCT: &[u8] = b"!#$%&'*+/=?^_`{|}~.-";

/// ASCII bytes allowed in an e-mail address's local part.
const LOCAL_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        let mut punct = false;
        let mut k = 0;
        while k < LOCAL_PUNCT.len() {
            punct |= LOCAL_PUNCT[k] == c;
            k += 1;
        }
        t[b] = c.is_ascii_alphanumeric() || punct;
        b += 1;
    }
    t
};

/// `local@domain.tld`, no spaces, at most 254 characters.
pub(crate) fn is_email(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() > 254 {
        return false;
    }
    let Some(at) = b.iter().rposition(|&c| c == b'@') else { return false };
    let (local, domain) = (b.get(..at).unwrap_or_default(), b.get(at + 1..).unwrap_or_default());
    if local.is_empty()
        || local.len() > 64
        || local.first() == Some(&b'.')
        || local.last() == Some(&b'.')
    {
        return false;
    }
    // One pass for ASCII: allowed bytes and no `..`.
    let mut prev = 0u8;
    let mut ascii = true;
    for &c in local {
        if c >= 0x80 {
            ascii = false;
            break;
        }
        if !LOCAL_BYTES[usize::from(c)] || (c == b'.' && prev == b'.') {
            return false;
        }
        prev = c;
    }
    let chars_ok = ascii
        || (!local.windows(2).any(|w| w == b"..")
            && s.get(..at).unwrap_or_default().chars().all(|c| {
                c.is_alphanumeric() || (c.is_ascii() && LOCAL_PUNCT.contains(&(c as u8)))
            }));
    chars_ok && is_host(s.get(at + 1..).unwrap_or_default()) && !domain.is_empty()
}

fn is_host(d: &str) -> bool {
    if d.is_ascii() {
        return is_ascii_host(d.as_bytes());
    }
    let mut labels = 0;
    let mut last = "";
    for l in d.split('.') {
        let ok = !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-');
        if !ok {
            return false;
        }
        labels += 1;
        last = l;
    }
    labels >= 2 && last.chars().all(char::is_alphabetic)
}

/// Classes of bytes in an ASCII host name: 0 not allowed, then letter, digit, `-`, `.`.
const HOST_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() {
            1
        } else if c.is_ascii_digit() {
            2
        } else if c == b'-' {
            3
        } else if c == b'.' {
            4
        } else {
            0
        };
        b += 1;
    }
    t
};

/// [`is_host`] for ASCII text, in one pass: labels of letters, digits and inner `-` of 1 to
/// 63 bytes, at least two, the last one letters only.
fn is_ascii_host(d: &[u8]) -> bool {
    let (mut labels, mut len, mut alpha, mut prev) = (0u32, 0usize, true, 4u8);
    for &c in d {
        let k = HOST_CLASS[usize::from(c)];
        match k {
            0 => return false,
            4 => {
                // A label ends: not empty, not ending with `-`.
                if prev == 4 || prev == 3 {
                    return false;
                }
                labels += 1;
                len = 0;
                alpha = true;
            }
            _ => {
                if prev == 4 && k == 3 {
                    return false;
                }
                len += 1;
                alpha &= k == 1;
            }
        }
        if len > 63 {
            return false;
        }
        prev = k;
    }
    labels >= 1 && prev != 4 && prev != 3 && alpha
}

/// `[http(s)://]host.tld[:port][/path...]`, no white space.
pub(crate) fn is_url(s: &str) -> bool {
    let white = if s.is_ascii() {
        s.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0B)
    } else {
        s.chars().any(char::is_whitespace)
    };
    if white {
        return false;
    }
    let rest = ["https://", "http://", "ftp://"]
        .iter()
        .find_map(|p| s.get(..p.len()).filter(|h| h.eq_ignore_ascii_case(p)).map(|_| &s[p.len()..]))
        .unwrap_or(s);
    let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let host_port = rest.get(..end).unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) => return false,
        None => host_port,
    };
    is_host(host)
}

/// A phone number's separators.
fn phone_sep(b: u8) -> bool {
    matches!(b, b' ' | b'+' | b'-' | b'(' | b')' | b'.' | b'/')
}

/// Digits with `+ - ( ) . /` and spaces, 3 to 20 digits, optionally `x123` / `ext 123`.
pub(crate) fn is_phone(s: &str) -> bool {
    // Fast path: only digits and separators (no extension).
    let mut digits = 0usize;
    let mut plain = true;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            digits += 1;
        } else if !phone_sep(b) {
            plain = false;
            break;
        }
    }
    if plain {
        return (3..=20).contains(&digits);
    }
    let lower = s.to_ascii_lowercase();
    let mut main = lower.as_str();
    for marker in ["ext.", "ext", "x"] {
        if let Some(i) = lower.rfind(marker) {
            let tail = lower[i + marker.len()..].trim();
            if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            main = &lower[..i];
            break;
        }
    }
    let digits = main.bytes().filter(u8::is_ascii_digit).count();
    (3..=20).contains(&digits) && main.bytes().all(|b| b.is_ascii_digit() || phone_sep(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.co.uk", "x_y@sub.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@", "@b.co", "a@b", "a b@c.co", "a@b..co", "a@b.c0", ".a@b.co"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn urls() {
        for ok in ["example.com", "https://www.example.com/a?b=c", "http://x.io:8080/"] {
            assert!(is_url(ok), "{ok}");
        }
        for bad in ["", "not a url", "http://", "localhost", "https://a.b:port"] {
            assert!(!is_url(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        for ok in ["+1 (415) 555-0123", "415.555.0123", "555-0123 x12", "020 7946 0958 ext. 4"] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in ["", "12", "call me", "555-CALL", "+1 415 555 0123 x"] {
            assert!(!is_phone(bad), "{bad}");
        }
    }

    /// The checks as they were written before their fast paths, as an oracle.
    mod reference {
        pub(super) fn is_email(s: &str) -> bool {
            let Some((local, domain)) = s.rsplit_once('@') else { return false };
            let ok_local = !local.is_empty()
                && local.len() <= 64
                && !local.starts_with('.')
                && !local.ends_with('.')
                && !local.contains("..")
                && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
            ok_local && s.len() <= 254 && is_host(domain)
        }

        pub(super) fn is_host(d: &str) -> bool {
            let mut labels = 0;
            let mut last = "";
            for l in d.split('.') {
                let ok = !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-');
                if !ok {
                    return false;
                }
                labels += 1;
                last = l;
            }
            labels >= 2 && last.chars().all(char::is_alphabetic)
        }

        pub(super) fn is_url(s: &str) -> bool {
            if s.chars().any(char::is_whitespace) {
                return false;
            }
            let rest = ["https://", "http://", "ftp://"]
                .iter()
                .find_map(|p| {
                    s.get(..p.len()).filter(|h| h.eq_ignore_ascii_case(p)).map(|_| &s[p.len()..])
                })
                .unwrap_or(s);
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let host_port = &rest[..end];
            let host = match host_port.rsplit_once(':') {
                Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                    h
                }
                Some(_) => return false,
                None => host_port,
            };
            is_host(host)
        }

        pub(super) fn is_phone(s: &str) -> bool {
            if s.bytes().all(|b| b.is_ascii_digit() || b" +-()./".contains(&b)) {
                return (3..=20).contains(&s.bytes().filter(u8::is_ascii_digit).count());
            }
            let lower = s.to_ascii_lowercase();
            let mut main = lower.as_str();
            for marker in ["ext.", "ext", "x"] {
                if let Some(i) = lower.rfind(marker) {
                    let tail = lower[i + marker.len()..].trim();
                    if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
                        return false;
                    }
                    main = &lower[..i];
                    break;
                }
            }
            let digits = main.bytes().filter(u8::is_ascii_digit).count();
            (3..=20).contains(&digits)
                && main.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c))
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_checks_agree_with_the_reference(
            s in "[a-zA-Z0-9.@:/?#_+ \\-éü\u{0B}\u{85}x]{0,40}",
            host in "[a-z0-9.\\-é]{0,24}",
        ) {
            let url = format!("https://{host}/p");
            for t in [s.as_str(), host.as_str(), url.as_str(), &format!("a@{host}")] {
                proptest::prop_assert_eq!(is_email(t), reference::is_email(t), "{:?}", t);
                proptest::prop_assert_eq!(is_host(t), reference::is_host(t), "{:?}", t);
                proptest::prop_assert_eq!(is_url(t), reference::is_url(t), "{:?}", t);
                proptest::prop_assert_eq!(is_phone(t), reference::is_phone(t), "{:?}", t);
            }
        }
    }
}
