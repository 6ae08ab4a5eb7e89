//! A hardened pull reader over quick-xml for API documents.
//!
//! It refuses DOCTYPE declarations (so no entity is ever defined, let alone expanded), resolves
//! only the five predefined entities and character references, rejects characters XML 1.0 does
//! not allow, bounds nesting depth, and reports a document that ends early as truncated.
//! Adjacent text, CDATA and references come back as one borrowed-when-possible string.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::escape::is_xml_char;
use crate::error::DecodeError;

/// The deepest element nesting accepted; real API documents use fewer than 10 levels.
pub const MAX_DEPTH: usize = 64;

/// A simplified event.
pub(crate) enum Ev<'a> {
    /// An element starts (empty elements come as Start + End).
    Start(BytesStart<'a>),
    /// The current element ends.
    End,
    /// Character data (text, CDATA and references merged).
    Text(Cow<'a, str>),
    /// The document is complete.
    Eof,
}

pub(crate) struct XmlReader<'a> {
    inner: Reader<&'a [u8]>,
    pending: Option<Event<'a>>,
    depth: usize,
}

fn check_chars(s: &str) -> Result<(), DecodeError> {
    if s.bytes().any(suspicious)
        && let Some(c) = s.chars().find(|c| !is_xml_char(*c))
    {
        return Err(DecodeError::InvalidChar(u32::from(c)));
    }
    Ok(())
}

/// Bytes that may start a character XML 1.0 forbids (controls, and EF of U+FFFE/U+FFFF).
fn suspicious(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF
}

/// Whether `bytes` hold no control byte (`\r` included) and no 0xEF, so that the text needs
/// neither line-end normalising nor the character check. No early exit: the loop vectorises.
fn plain(bytes: &[u8]) -> bool {
    let mut special = false;
    for &b in bytes {
        special |= (b < 0x20) | (b == 0xEF);
    }
    !special
}

impl<'a> XmlReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let mut inner = Reader::from_reader(bytes);
        let config = inner.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Self { inner, pending: None, depth: 0 }
    }

    fn raw(&mut self) -> Result<Event<'a>, DecodeError> {
        if let Some(ev) = self.pending.take() {
            return Ok(ev);
        }
        self.inner.read_event().map_err(|e| {
            let offset = self.inner.error_position();
            if self.depth > 0 && matches!(e, quick_xml::Error::Syntax(_)) {
                // An unclosed tag, comment or CDATA at the end of input is a truncated document.
                DecodeError::Truncated { depth: self.depth }
            } else {
                DecodeError::Xml { offset, reason: e.to_string() }
            }
        })
    }

    fn text_piece(ev: Event<'a>) -> Result<Option<Cow<'a, str>>, DecodeError> {
        Ok(match ev {
            // Most pieces hold no control byte and no 0xEF: one pass tells, and they are
            // borrowed as they are. The others may need line ends normalised (`\r`) and may
            // hold a character XML 1.0 forbids.
            Event::Text(t) if plain(t.as_bytes()) => Some(t.into_inner()),
            Event::CData(t) if plain(t.as_bytes()) => Some(t.into_inner()),
            Event::Text(t) => {
                let s = if t.contains('\r') {
                    t.xml_content(XmlVersion::Implicit1_0)
                } else {
                    t.into_inner()
                };
                check_chars(&s)?;
                Some(s)
            }
            Event::CData(t) => {
                let s = if t.contains('\r') {
                    t.xml_content(XmlVersion::Implicit1_0)
                } else {
                    t.into_inner()
                };
                check_chars(&s)?;
                Some(s)
            }
            Event::GeneralRef(r) => {
                let c =
                    r.resolve_char_ref().map_err(|_| DecodeError::UnknownEntity(r.to_string()))?;
                match c {
                    Some(c) if is_xml_char(c) => Some(Cow::Owned(c.to_string())),
                    Some(c) => return Err(DecodeError::InvalidChar(u32::from(c))),
                    None => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => Some(Cow::Borrowed(s)),
                        None => return Err(DecodeError::UnknownEntity(r.to_string())),
                    },
                }
            }
            _ => None,
        })
    }

    pub(crate) fn next(&mut self) -> Result<Ev<'a>, DecodeError> {
        loop {
            let ev = self.raw()?;
            match ev {
                Event::Start(s) => {
                    if self.depth >= MAX_DEPTH {
                        return Err(DecodeError::TooDeep(MAX_DEPTH));
                    }
                    self.depth += 1;
                    return Ok(Ev::Start(s));
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Ev::End);
                }
                Event::Empty(_) => unreachable_empty()?,
                Event::DocType(_) => return Err(DecodeError::DoctypeNotAllowed),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => continue,
                Event::Eof => {
                    return match self.depth {
                        0 => Ok(Ev::Eof),
                        depth => Err(DecodeError::Truncated { depth }),
                    };
                }
                first @ (Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)) => {
                    let mut acc = Self::text_piece(first)?.unwrap_or_default();
                    loop {
                        let next = self.raw()?;
                        match next {
                            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                                if let Some(more) = Self::text_piece(next)? {
                                    acc.to_mut().push_str(&more);
                                }
                            }
                            other => {
                                self.pending = Some(other);
                                break;
                            }
                        }
                    }
                    if self.depth == 0 {
                        if acc.trim().is_empty() {
                            continue;
                        }
                        return Err(DecodeError::Xml {
                            offset: self.inner.buffer_position(),
                            reason: "text outside the root element".to_owned(),
                        });
                    }
                    return Ok(Ev::Text(acc));
                }
            }
        }
    }

    /// Skips the rest of the element whose Start was just read.
    pub(crate) fn skip_element(&mut self) -> Result<(), DecodeError> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                Ev::Start(_) => depth += 1,
                Ev::End => depth -= 1,
                Ev::Text(_) => {}
                Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }),
            }
        }
        Ok(())
    }

    /// Reads the text content of the element whose Start was just read, up to its End.
    /// Child elements are refused.
    pub(crate) fn read_text(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        let mut text: Cow<'a, str> = Cow::Borrowed("");
        loop {
            match self.next()? {
                Ev::Text(t) => {
                    if text.is_empty() {
                        text = t;
                    } else {
                        text.to_mut().push_str(&t);
                    }
                }
                Ev::End => return Ok(text),
                Ev::Start(s) => {
                    return Err(DecodeError::Shape(format!(
                        "unexpected <{}> inside a text element",
                        s.name().as_ref()
                    )));
                }
                Ev::Eof => return Err(DecodeError::Truncated { depth: 0 }),
            }
        }
    }
}

fn unreachable_empty() -> Result<(), DecodeError> {
    Err(DecodeError::Shape("empty-element event with expand_empty_elements on".to_owned()))
}

/// The value of attribute `name` on `start`, with references resolved.
pub(crate) fn attr(start: &BytesStart<'_>, name: &str) -> Result<Option<String>, DecodeError> {
    for a in start.attributes() {
        let a = a.map_err(|e| DecodeError::Xml { offset: 0, reason: e.to_string() })?;
        if a.key.as_ref() == name {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| DecodeError::Xml { offset: 0, reason: e.to_string() })?;
            check_chars(&v)?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// Every attribute of `start`, in document order, with references resolved.
pub(crate) fn attrs(start: &BytesStart<'_>) -> Result<Vec<(String, String)>, DecodeError> {
    start
        .attributes()
        .map(|a| {
            let a = a.map_err(|e| DecodeError::Xml { offset: 0, reason: e.to_string() })?;
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| DecodeError::Xml { offset: 0, reason: e.to_string() })?;
            check_chars(&v)?;
            Ok((a.key.as_ref().to_owned(), v.into_owned()))
        })
        .collect()
}
