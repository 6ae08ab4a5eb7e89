//! Writing text into XML: escapes what must be escaped and refuses what XML 1.0 cannot carry.
//!
//! quick-xml's escaping covers `& < > " '` only; API values also need `\r` kept as a character
//! reference (a literal one is normalised to `\n` by every parser) and control characters
//! rejected, so this module does both in one pass over the bytes.

use crate::error::EncodeError;

/// What a byte needs: copy it, replace it, or refuse the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Copy,
    Special,
    Invalid,
    MaybeNonChar,
}

const fn classify() -> [Class; 256] {
    let mut t = [Class::Copy; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = Class::Invalid;
        b += 1;
    }
    t[b'\t' as usize] = Class::Special;
    t[b'\n' as usize] = Class::Special;
    t[b'\r' as usize] = Class::Special;
    t[b'&' as usize] = Class::Special;
    t[b'<' as usize] = Class::Special;
    t[b'>' as usize] = Class::Special;
    t[b'"' as usize] = Class::Special;
    t[b'\'' as usize] = Class::Special;
    t[0xEF] = Class::MaybeNonChar;
    t
}

static CLASS: [Class; 256] = classify();

/// Where escaped text goes: element content or a double-quoted attribute value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    Text,
    Attribute,
}

fn replacement(b: u8, ctx: Context) -> Option<&'static str> {
    match (b, ctx) {
        (b'&', _) => Some("&amp;"),
        (b'<', _) => Some("&lt;"),
        (b'>', _) => Some("&gt;"),
        (b'\r', _) => Some("&#13;"),
        (b'"', Context::Attribute) => Some("&quot;"),
        (b'\'', Context::Attribute) => Some("&apos;"),
        (b'\n', Context::Attribute) => Some("&#10;"),
        (b'\t', Context::Attribute) => Some("&#9;"),
        _ => None,
    }
}

/// Appends `s` to `out`, escaped for `ctx`; `field` names the value in the error.
pub(crate) fn escape_into(
    out: &mut String,
    s: &str,
    ctx: Context,
    field: &str,
) -> Result<(), EncodeError> {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match CLASS[b as usize] {
            Class::Copy => {}
            Class::Special => {
                if let Some(rep) = replacement(b, ctx) {
                    out.push_str(&s[start..i]);
                    out.push_str(rep);
                    start = i + 1;
                }
            }
            Class::Invalid => return Err(invalid(s, i, field)),
            // U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8.
            Class::MaybeNonChar => {
                if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF))
                {
                    return Err(invalid(s, i, field));
                }
            }
        }
    }
    out.push_str(&s[start..]);
    Ok(())
}

fn invalid(s: &str, byte: usize, field: &str) -> EncodeError {
    let position = s[..byte].chars().count();
    let code = s[byte..].chars().next().map_or(0, u32::from);
    EncodeError::InvalidXmlChar { field: field.to_owned(), code, position }
}

/// Whether `c` may appear in an XML 1.0 document.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Checks that `s` can be sent in XML 1.0, naming `field` in the error.
pub fn check_xml_text(s: &str, field: &str) -> Result<(), EncodeError> {
    match s.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        Some((byte, _)) => Err(invalid(s, byte, field)),
        None => Ok(()),
    }
}
