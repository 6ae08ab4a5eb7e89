//! `[steps.map]` values (a column name or a table) into mapping specs.

use std::collections::HashMap;
use std::ops::Range;

use toml::Value;
use zcrm_mapping::{Case, FieldSource, FieldSpec, MapEntry, MapSpec};

use crate::raw::RawMap;

const KEYS: [&str; 11] = [
    "column",
    "trim",
    "case",
    "values",
    "default",
    "template",
    "value",
    "date_format",
    "lookup",
    "owner",
    "creates",
];

/// A conversion's outputs a lookup may name with `creates`, and the module each stands for.
const CREATES: [(&str, &str); 4] = [
    ("Contacts", "Contacts"),
    ("Accounts", "Accounts"),
    ("Potentials", "Potentials"),
    ("Deals", "Potentials"),
];

/// A problem of one entry: message, hint, span.
pub(crate) type EntryError = (String, Option<String>, Range<usize>);

fn string(v: &Value, key: &str, field: &str) -> Result<String, String> {
    v.as_str().map(str::to_owned).ok_or_else(|| format!("`{key}` of `{field}` must be a string"))
}

fn table_spec(field: &str, t: &toml::Table) -> Result<FieldSpec, (String, Option<String>)> {
    let mut spec = FieldSpec::column(String::new());
    let (mut column, mut template, mut value, mut creates) = (None, None, None, None);
    for (k, v) in t {
        let s = |v: &Value| string(v, k, field).map_err(|m| (m, None));
        match k.as_str() {
            "column" => {
                if column.replace(s(v)?).is_some() {
                    return Err((
                        format!(
                            "the mapping of `{field}` names its column twice (`owner` is the column)"
                        ),
                        Some("e.g. { owner = \"owner_email\" }".to_owned()),
                    ));
                }
            }
            "template" => template = Some(s(v)?),
            "value" => value = Some(s(v)?),
            "default" => spec.default = Some(s(v)?),
            "date_format" => spec.date_format = Some(s(v)?),
            "lookup" => spec.lookup = Some(s(v)?),
            // `{ lookup = "convert", column = "lead", creates = "Contacts" }`: a record a
            // conversion step made from the row with that key.
            "creates" => creates = Some(s(v)?),
            // `{ owner = "column" }`: the column holds a user's e-mail or full name.
            "owner" => {
                if column.replace(s(v)?).is_some() {
                    return Err((
                        format!(
                            "the mapping of `{field}` names its column twice (`owner` is the column)"
                        ),
                        Some("e.g. { owner = \"owner_email\" }".to_owned()),
                    ));
                }
                spec.owner = true;
            }
            "trim" => {
                spec.trim = v
                    .as_bool()
                    .ok_or_else(|| (format!("`trim` of `{field}` must be true or false"), None))?;
            }
            "case" => {
                let c = s(v)?;
                spec.case = Some(Case::parse(&c).ok_or_else(|| {
                    (
                        format!("unknown case {c:?} for `{field}`"),
                        Some("use upper, lower or title".to_owned()),
                    )
                })?);
            }
            "values" => {
                let tab = v.as_table().ok_or_else(|| {
                    (format!("`values` of `{field}` must be a table such as {{ \"Tech\" = \"Technology\" }}"), None)
                })?;
                let mut map = HashMap::new();
                for (from, to) in tab {
                    map.insert(from.clone(), string(to, "values", field).map_err(|m| (m, None))?);
                }
                spec.values = map;
            }
            other => {
                let hint = zcrm_mapping::did_you_mean(other, KEYS).map_or_else(
                    || format!("the keys are: {}", KEYS.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                );
                return Err((
                    format!("unknown key `{other}` in the mapping of `{field}`"),
                    Some(hint),
                ));
            }
        }
    }
    let given =
        [column.is_some(), template.is_some(), value.is_some()].iter().filter(|b| **b).count();
    if given != 1 {
        return Err((
            format!(
                "the mapping of `{field}` needs exactly one of `column`, `template` or `value`"
            ),
            Some("e.g. { column = \"phone\", trim = true }".to_owned()),
        ));
    }
    if let Some(c) = creates {
        let Some((_, module)) = CREATES.iter().find(|(n, _)| n.eq_ignore_ascii_case(c.trim()))
        else {
            return Err((
                format!(
                    "`creates` of `{field}` is {c:?}: a conversion creates Contacts, Accounts or Potentials"
                ),
                None,
            ));
        };
        match &spec.lookup {
            Some(step) => spec.lookup = Some(format!("{step}:{module}")),
            None => {
                return Err((
                    format!("`creates` of `{field}` goes with `lookup` (the conversion step)"),
                    Some(
                        "e.g. { lookup = \"convert\", column = \"lead\", creates = \"Contacts\" }"
                            .to_owned(),
                    ),
                ));
            }
        }
    }
    spec.source = match (column, template, value) {
        (Some(c), _, _) => FieldSource::Column(c),
        (_, Some(t), _) => FieldSource::Template(t),
        (_, _, Some(v)) => FieldSource::Value(v),
        _ => FieldSource::Value(String::new()),
    };
    Ok(spec)
}

/// Converts the raw map, collecting every entry's problem.
pub(crate) fn map_spec(raw: &RawMap) -> (MapSpec, Vec<EntryError>) {
    let mut spec = MapSpec::default();
    let mut errors = Vec::new();
    for (k, v) in &raw.entries {
        let field = k.get_ref().as_str();
        let parsed = match v.get_ref() {
            Value::String(c) => Ok(FieldSpec::column(c.clone())),
            Value::Table(t) => table_spec(field, t),
            other => Err((
                format!(
                    "`{field}` must map to a column name or a table, not {}",
                    crate::raw::type_name(other.type_str())
                ),
                Some(format!("e.g. \"{field}\" = \"source column\"")),
            )),
        };
        match parsed {
            Ok(s) => spec.entries.push(MapEntry {
                field: field.to_owned(),
                field_span: k.span(),
                spec: s,
                spec_span: v.span(),
            }),
            Err((m, h)) => errors.push((m, h, v.span())),
        }
    }
    (spec, errors)
}
