//! A small element tree for the short responses (getFields, write results, errors, users) and
//! for the XML→JSON conversion. Record pages never go through it: they are decoded streaming.

use super::reader::{Ev, XmlReader, attrs};
use crate::error::DecodeError;

/// An element with its attributes and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Tag name.
    pub name: String,
    /// Attributes in document order.
    pub attrs: Vec<(String, String)>,
    /// Child nodes in document order.
    pub children: Vec<Node>,
}

/// A child node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data (text and CDATA merged).
    Text(String),
}

impl Element {
    /// Parses a whole document into its root element.
    pub fn parse(bytes: &[u8]) -> Result<Element, DecodeError> {
        let mut reader = XmlReader::new(bytes);
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        loop {
            match reader.next()? {
                Ev::Start(s) => {
                    if root.is_some() {
                        return Err(DecodeError::Xml {
                            offset: 0,
                            reason: "more than one root element".into(),
                        });
                    }
                    stack.push(Element {
                        name: s.name().as_ref().to_owned(),
                        attrs: attrs(&s)?,
                        children: vec![],
                    });
                }
                Ev::End => {
                    let done = stack
                        .pop()
                        .ok_or_else(|| DecodeError::Shape("unbalanced end tag".into()))?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(done)),
                        None => root = Some(done),
                    }
                }
                Ev::Text(t) => {
                    if let Some(cur) = stack.last_mut() {
                        cur.children.push(Node::Text(t.into_owned()));
                    }
                }
                Ev::Eof => break,
            }
        }
        root.ok_or_else(|| DecodeError::Shape("empty document".into()))
    }

    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// All text directly inside this element, concatenated.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out
    }

    /// The text of the child element `name`, if present.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(Element::text)
    }
}
