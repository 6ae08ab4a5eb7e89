//! The XML→JSON conversion of docs/protocol.md §3.6, over any response document, so `/json/` paths
//! answer what the real service did: element → key, attributes → keys, text → `content`, one
//! child → an object, several same-named children → an array, keys in sorted order (as recorded).

use serde_json::{Map, Value};

use crate::error::DecodeError;
use crate::xml::tree::{Element, Node};

fn convert(e: &Element) -> Value {
    let has_elements = e.children.iter().any(|n| matches!(n, Node::Element(_)));
    let text = e.text();
    if e.attrs.is_empty() && !has_elements {
        // A leaf: its text, or `true` when empty (as getDeletedRecordIds past the end answered).
        return if text.is_empty() { Value::Bool(true) } else { Value::String(text) };
    }
    let mut map = Map::new();
    for (k, v) in &e.attrs {
        map.insert(k.clone(), Value::String(v.clone()));
    }
    for child in e.elements() {
        let value = convert(child);
        match map.get_mut(&child.name) {
            Some(Value::Array(items))
                if e.elements().filter(|c| c.name == child.name).count() > 1 =>
            {
                items.push(value)
            }
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                map.insert(child.name.clone(), value);
            }
        }
    }
    if !has_elements || !text.trim().is_empty() {
        map.insert(
            "content".to_owned(),
            Value::String(if has_elements { text.trim().to_owned() } else { text }),
        );
    }
    Value::Object(map)
}

/// Converts an XML response document to the service's JSON form.
pub fn xml_to_json(xml: &[u8]) -> Result<Value, DecodeError> {
    let root = Element::parse(xml)?;
    let mut map = Map::new();
    map.insert(root.name.clone(), convert(&root));
    Ok(Value::Object(map))
}

/// [`xml_to_json`] serialised as the body text.
pub fn xml_to_json_string(xml: &[u8]) -> Result<String, DecodeError> {
    xml_to_json(xml).map(|v| v.to_string())
}
