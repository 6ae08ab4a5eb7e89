//! Response codecs, one file per response shape of docs/protocol.md §3 and §4: decoders for clients
//! and encoders for the emulator, so both sides share one definition of every byte.

pub mod fields;
pub mod misc;
pub mod records;
pub mod write;

use crate::error::{ApiCode, ApiError, DecodeError, EncodeError, ResponseError};
use crate::xml::tree::Element;
use crate::xml::writer::XmlWriter;

/// The message of `<nodata>` (code 4422).
pub const NODATA_MESSAGE: &str = "There is no data to show";

/// The API error a tree-parsed document carries, if it is an `<error>` envelope or the bare
/// refusal the removed methods get.
pub(crate) fn envelope_error(root: &Element) -> Option<ApiError> {
    if root.name != "response" {
        return None;
    }
    if let Some(err) = root.child("error") {
        let code = err.child_text("code").unwrap_or_default();
        let message = err.child_text("message").unwrap_or_default();
        return Some(ApiError::new(ApiCode::parse(&code), message));
    }
    if root.elements().next().is_none() {
        let text = root.text();
        if !text.trim().is_empty() {
            return Some(ApiError::new(ApiCode::Refused, text.trim()));
        }
    }
    None
}

/// Parses a small response and fails with the API error it carries, if any.
pub(crate) fn parse_checked(bytes: &[u8]) -> Result<Element, ResponseError> {
    let root = Element::parse(bytes)?;
    if let Some(err) = envelope_error(&root) {
        return Err(err.into());
    }
    Ok(root)
}

/// Whether a tree-parsed document is a `<nodata>` answer.
pub(crate) fn is_nodata(root: &Element) -> bool {
    root.name.ends_with("nodata") || root.child("nodata").is_some()
}

pub(crate) fn shape(msg: impl Into<String>) -> ResponseError {
    ResponseError::Decode(DecodeError::Shape(msg.into()))
}

/// Decodes any response only for its envelope: `Ok(())` unless it is an `<error>`.
pub fn check_error(bytes: &[u8]) -> Result<(), ResponseError> {
    parse_checked(bytes).map(|_| ())
}

/// `<response uri=..><error><code>..</code><message>..</message></error></response>`.
pub fn encode_error(uri: &str, code: &ApiCode, message: &str) -> Result<String, EncodeError> {
    let mut w = XmlWriter::document();
    w.open("response", &[("uri", uri)])?;
    w.open("error", &[])?;
    w.leaf("code", &[], code.as_str())?;
    w.leaf("message", &[], message)?;
    w.close("error");
    w.close("response");
    Ok(w.finish())
}

/// `<response uri=..><nodata><code>4422</code><message>There is no data to show</message></nodata></response>`.
pub fn encode_nodata(uri: &str) -> Result<String, EncodeError> {
    let mut w = XmlWriter::document();
    w.open("response", &[("uri", uri)])?;
    w.open("nodata", &[])?;
    w.leaf("code", &[], ApiCode::NoData.as_str())?;
    w.leaf("message", &[], NODATA_MESSAGE)?;
    w.close("nodata");
    w.close("response");
    Ok(w.finish())
}

/// The seed notes' bare refusal for removed methods: `<response>Unable to process ...</response>`.
pub fn encode_refusal() -> String {
    let mut w = XmlWriter::document();
    w.out.push_str("<response>");
    w.out.push_str(crate::method::DEPRECATED_REFUSAL);
    w.out.push_str("</response>");
    w.finish()
}
