//! getFields: `<Module><section name dv><FL req type isreadonly maxlength label dv customfield>
//! <val>option</val>...</FL></section></Module>` — no `<response>` wrapper.

use super::{parse_checked, shape};
use crate::error::{EncodeError, ResponseError};
use crate::field::{FieldMeta, FieldType, ModuleFields, Section};
use crate::xml::tree::Element;
use crate::xml::writer::XmlWriter;

fn flag(e: &Element, name: &str) -> bool {
    e.attr(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn field(fl: &Element) -> Result<FieldMeta, ResponseError> {
    let label =
        fl.attr("label").ok_or_else(|| shape("<FL> without label in getFields"))?.to_owned();
    let max_length = match fl.attr("maxlength").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| {
            ResponseError::Decode(crate::DecodeError::BadValue {
                what: "maxlength",
                value: v.to_owned(),
            })
        })?),
    };
    Ok(FieldMeta {
        display_label: fl.attr("dv").unwrap_or(&label).to_owned(),
        field_type: FieldType::parse(fl.attr("type").unwrap_or("Text")),
        required: flag(fl, "req"),
        read_only: flag(fl, "isreadonly"),
        max_length,
        custom: flag(fl, "customfield"),
        picklist: fl.elements().filter(|e| e.name == "val").map(Element::text).collect(),
        lookup_module: fl.attr("lm").map(str::to_owned),
        default_format: fl.attr("fval").map(str::to_owned),
        api_name: None,
        decimal_places: None,
        label,
    })
}

impl ModuleFields {
    /// Decodes a getFields response.
    pub fn decode(bytes: &[u8]) -> Result<Self, ResponseError> {
        let root = parse_checked(bytes)?;
        if root.name == "response" {
            return Err(shape("getFields answered with a <response> envelope but no error"));
        }
        let sections = root
            .elements()
            .filter(|e| e.name == "section")
            .map(|s| {
                let name = s.attr("name").unwrap_or_default().to_owned();
                Ok(Section {
                    display_name: s.attr("dv").unwrap_or(&name).to_owned(),
                    name,
                    fields: s
                        .elements()
                        .filter(|e| e.name == "FL")
                        .map(field)
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<_, ResponseError>>()?;
        Ok(Self { module: root.name, sections })
    }

    /// Encodes the getFields response (the emulator's side).
    pub fn encode(&self) -> Result<String, EncodeError> {
        let mut w = XmlWriter::document();
        w.open(&self.module, &[])?;
        for s in &self.sections {
            w.open("section", &[("name", &s.name), ("dv", &s.display_name)])?;
            for f in &s.fields {
                let max = f.max_length.map(|m| m.to_string());
                let mut attrs: Vec<(&str, &str)> = vec![
                    ("req", if f.required { "true" } else { "false" }),
                    ("type", f.field_type.as_str()),
                    ("isreadonly", if f.read_only { "true" } else { "false" }),
                ];
                if let Some(m) = &max {
                    attrs.push(("maxlength", m));
                }
                if let Some(v) = &f.default_format {
                    attrs.push(("fval", v));
                }
                if let Some(v) = &f.lookup_module {
                    attrs.push(("lm", v));
                }
                attrs.push(("label", &f.label));
                attrs.push(("dv", &f.display_label));
                attrs.push(("customfield", if f.custom { "true" } else { "false" }));
                if f.picklist.is_empty() {
                    w.empty("FL", &attrs)?;
                } else {
                    w.open("FL", &attrs)?;
                    for v in &f.picklist {
                        w.leaf("val", &[], v)?;
                    }
                    w.close("FL");
                }
            }
            w.close("section");
        }
        w.close(&self.module);
        Ok(w.finish())
    }
}
