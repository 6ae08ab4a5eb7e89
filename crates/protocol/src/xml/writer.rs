//! Writes API documents: elements, escaped text and CDATA, into one growing `String`.

use super::escape::{Context, check_xml_text, escape_into};
use crate::error::EncodeError;

/// The declaration the real service starts every XML body with (followed by CRLF).
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n";

pub(crate) struct XmlWriter {
    pub(crate) out: String,
}

impl XmlWriter {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self { out: String::with_capacity(n) }
    }

    /// A response document: the declaration first.
    pub(crate) fn document() -> Self {
        let mut w = Self::with_capacity(256);
        w.out.push_str(XML_DECLARATION);
        w
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<(), EncodeError> {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_into(&mut self.out, v, Context::Attribute, k)?;
            self.out.push('"');
        }
        Ok(())
    }

    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<(), EncodeError> {
        self.start_tag(name, attrs)?;
        self.out.push('>');
        Ok(())
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<(), EncodeError> {
        self.start_tag(name, attrs)?;
        self.out.push_str("/>");
        Ok(())
    }

    /// Escaped character data; `field` names the value in errors.
    pub(crate) fn text(&mut self, text: &str, field: &str) -> Result<(), EncodeError> {
        escape_into(&mut self.out, text, Context::Text, field)
    }

    /// Character data as CDATA, as the service writes non-id values. Text that CDATA cannot carry
    /// unchanged (`\r`, which parsers normalise, or `]]>`) is written escaped instead.
    pub(crate) fn cdata(&mut self, text: &str, field: &str) -> Result<(), EncodeError> {
        if text.contains('\r') || text.contains("]]>") {
            return self.text(text, field);
        }
        check_xml_text(text, field)?;
        self.out.push_str("<![CDATA[");
        self.out.push_str(text);
        self.out.push_str("]]>");
        Ok(())
    }

    /// `<name attrs>text</name>` with escaped text.
    pub(crate) fn leaf(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> Result<(), EncodeError> {
        self.open(name, attrs)?;
        self.text(text, name)?;
        self.close(name);
        Ok(())
    }

    /// `<name attrs><![CDATA[text]]></name>`.
    pub(crate) fn leaf_cdata(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> Result<(), EncodeError> {
        self.open(name, attrs)?;
        self.cdata(text, attrs.first().map_or(name, |a| a.1))?;
        self.close(name);
        Ok(())
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}
