//! The pipeline file as serde reads it, values keeping their byte span (`toml::Spanned`) for
//! later checks. [`parse`] first walks the parsed document against the keys each table may
//! hold ([`schema`]), reporting every unknown key and every value of the wrong type (and
//! leaving them out), so that serde, which stops at its first error, only ever sees a document
//! it accepts and the checks that follow still run.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    /// `[connection]`.
    pub connection: Option<Spanned<RawConnection>>,
    /// `[state]`.
    pub state: Option<RawState>,
    /// `[[steps]]`.
    #[serde(default)]
    pub steps: Vec<Spanned<RawStep>>,
    /// `[[tests]]`: offline tests of the import steps' mappings.
    #[serde(default)]
    pub tests: Vec<Spanned<RawTest>>,
}

/// `[[tests]]`: one source row for a step, and what its mapping must make of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `step`: the import step whose mapping is tested.
    pub step: Option<Spanned<String>>,
    /// `input`: the row, `column = "value"` (columns not given are empty).
    pub input: Option<Spanned<toml::Table>>,
    /// `expect`: `"Field" = "value"` the mapped row must carry (`""`: the field is empty).
    pub expect: Option<Spanned<RawMap>>,
    /// `reject`: the row must be rejected, each text found in its reasons.
    pub reject: Option<Spanned<toml::Value>>,
}

/// `[connection]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnection {
    /// `url`: omitted or `embedded` for the built-in emulator.
    pub url: Option<Spanned<String>>,
    /// `authtoken_env`: the name of the variable holding the token.
    pub authtoken_env: Option<Spanned<String>>,
    /// `edition`.
    pub edition: Option<Spanned<String>>,
    /// `licenses`.
    pub licenses: Option<Spanned<i64>>,
    /// `budget_share`, a number in (0, 1].
    pub budget_share: Option<Spanned<toml::Value>>,
    /// `timezone`.
    pub timezone: Option<Spanned<String>>,
    /// `daily_budget`.
    pub daily_budget: Option<Spanned<i64>>,
    /// `write_batch`.
    pub write_batch: Option<Spanned<i64>>,
    /// `writes_in_flight`.
    pub writes_in_flight: Option<Spanned<i64>>,
    /// `reads_in_flight`.
    pub reads_in_flight: Option<Spanned<i64>>,
    /// `org`: a name for the org, keying the budget ledger and the metadata cache.
    pub org: Option<Spanned<String>>,
    /// `api`: `xml` (default) or `v8`.
    pub api: Option<Spanned<String>>,
    /// `client_id_env`: the variable holding the OAuth client id (v8).
    pub client_id_env: Option<Spanned<String>>,
    /// `client_secret_env`: the variable holding the OAuth client secret (v8).
    pub client_secret_env: Option<Spanned<String>>,
    /// `refresh_token_env`: the variable holding the OAuth refresh token (v8).
    pub refresh_token_env: Option<Spanned<String>>,
    /// `daily_credits`: credits per rolling 24 hours instead of the edition formula (v8).
    pub daily_credits: Option<Spanned<i64>>,
}

/// `[state]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    /// `dir`.
    pub dir: Option<Spanned<String>>,
}

/// One `[[steps]]` table, of any kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `import = "Module"`.
    pub import: Option<Spanned<String>>,
    /// `export = "Module"`.
    pub export: Option<Spanned<String>>,
    /// `source`.
    pub source: Option<Spanned<String>>,
    /// `sheet`: a name or a 1-based number.
    pub sheet: Option<Spanned<toml::Value>>,
    /// `mode`.
    pub mode: Option<Spanned<String>>,
    /// `match_on`.
    pub match_on: Option<Spanned<String>>,
    /// `key`.
    pub key: Option<Spanned<String>>,
    /// `rejects`.
    pub rejects: Option<Spanned<String>>,
    /// `success`.
    pub success: Option<Spanned<String>>,
    /// `picklist`.
    pub picklist: Option<Spanned<String>>,
    /// `workflow`: fire the org's workflow rules on this step's writes.
    pub workflow: Option<Spanned<bool>>,
    /// `approval`: create the records in approval mode.
    pub approval: Option<Spanned<bool>>,
    /// `on_duplicate`: `create` (default), `reject` or `match`.
    pub on_duplicate: Option<Spanned<String>>,
    /// `method`: `records` or `bulk` (absent: the planner picks on v8).
    pub method: Option<Spanned<String>>,
    /// `max_rejects = 12` or `"2%"`: the rejected rows an import step tolerates.
    pub max_rejects: Option<Spanned<toml::Value>>,
    /// `sample = N`: a rehearsal on the first N valid rows.
    pub sample: Option<Spanned<i64>>,
    /// `[steps.map]`.
    pub map: Option<Spanned<RawMap>>,
    /// `delimiter` (CSV).
    pub delimiter: Option<Spanned<String>>,
    /// `quote` (CSV).
    pub quote: Option<Spanned<String>>,
    /// `encoding` (CSV).
    pub encoding: Option<Spanned<String>>,
    /// `header_row`.
    pub header_row: Option<Spanned<i64>>,
    /// `to` (export).
    pub to: Option<Spanned<String>>,
    /// `columns` (export): `"all"`, `"A,B"` or a list.
    pub columns: Option<Spanned<toml::Value>>,
    /// `since` (export).
    pub since: Option<Spanned<String>>,
    /// `on_schema_change = "evolve" | "fail"` (export into a folder).
    pub on_schema_change: Option<Spanned<String>>,
    /// `criteria = "(Lead Source:Web)"` (export): only the matching records.
    pub criteria: Option<Spanned<String>>,
    /// `view = "All Open Leads"` (export): only a custom view's records.
    pub view: Option<Spanned<String>>,
    /// `attachments = "DIR"` (export, v8): also download each exported record's attachments.
    pub attachments: Option<Spanned<String>>,
    /// `delete = "Module"`: the step deletes records.
    pub delete: Option<Spanned<String>>,
    /// `attach = "Module"`: the step uploads files to records.
    pub attach: Option<Spanned<String>>,
    /// `relate = "Module"`: the step relates records to records of this module.
    pub relate: Option<Spanned<String>>,
    /// `convert = "Leads"`: the step converts leads.
    pub convert: Option<Spanned<String>>,
    /// `record = { lookup, column }` or `{ column }`: the record a row acts on.
    pub record: Option<Spanned<toml::Value>>,
    /// `target = { lookup, column }` or `{ column }`: the record a relate step relates.
    pub target: Option<Spanned<toml::Value>>,
    /// `file = "column"`: the column holding the path of the file to attach.
    pub file: Option<Spanned<String>>,
    /// `photo = true`: attach the file as the record's photo.
    pub photo: Option<Spanned<bool>>,
    /// `related = "Module"`: the module of a relate step's targets.
    pub related: Option<Spanned<String>>,
    /// `potential = { "Field" = "column" }`: the potential a conversion creates.
    pub potential: Option<Spanned<RawMap>>,
    /// `assign_to = { owner = "column" }`: the converted records' owner.
    pub assign_to: Option<Spanned<toml::Value>>,
    /// `notify = true`: a conversion e-mails the owners.
    pub notify: Option<Spanned<bool>>,
    /// `[steps.line_items]` (Quotes, SalesOrders, PurchaseOrders, Invoices).
    pub line_items: Option<Spanned<RawLineItems>>,
}

/// `[steps.line_items]`: a child file of line items joined to the step's rows by key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLineItems {
    /// `source`: the line file.
    pub source: Option<Spanned<String>>,
    /// `parent`: the line file's column holding the parent row's key.
    pub parent: Option<Spanned<String>>,
    /// `[steps.line_items.map]`.
    pub map: Option<Spanned<RawMap>>,
    /// `delimiter` (CSV).
    pub delimiter: Option<Spanned<String>>,
    /// `quote` (CSV).
    pub quote: Option<Spanned<String>>,
    /// `encoding` (CSV).
    pub encoding: Option<Spanned<String>>,
}

/// `[steps.map]` in file order: field name → a column name or a table.
#[derive(Debug, Default)]
pub struct RawMap {
    /// The entries, in file order.
    pub entries: Vec<(Spanned<String>, Spanned<toml::Value>)>,
}

impl<'de> Deserialize<'de> for RawMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawMap;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table of `\"CRM field\" = \"column\"` or `\"CRM field\" = { ... }`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<RawMap, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = m.next_key::<Spanned<String>>()? {
                    entries.push((k, m.next_value::<Spanned<toml::Value>>()?));
                }
                // The TOML reader hands keys over sorted; the map's order is the file's.
                entries.sort_by_key(|(k, _)| k.span().start);
                Ok(RawMap { entries })
            }
        }
        d.deserialize_map(V)
    }
}

/// What a key's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// Anything (checked later: `sheet`, `columns`, `budget_share`).
    Any,
    /// A table.
    Table,
    /// An array of tables (`[[steps]]`).
    Tables,
}

impl Kind {
    fn accepts(self, v: &DeValue<'_>) -> bool {
        match self {
            Self::Str => v.is_str(),
            Self::Int => v.is_integer(),
            Self::Bool => v.is_bool(),
            Self::Any => true,
            Self::Table => v.is_table(),
            Self::Tables => v.is_array(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Str => "a string",
            Self::Int => "an integer",
            Self::Bool => "true or false",
            Self::Any => "a value",
            Self::Table => "a table",
            Self::Tables => "an array of tables ([[steps]])",
        }
    }
}

/// The keys each table of a pipeline file may hold, with the kind of their values (the same
/// as the fields of [`RawPipeline`], [`RawConnection`], [`RawState`] and [`RawStep`]).
pub mod schema {
    use super::Kind::{self, Any, Bool, Int, Str, Table, Tables};

    /// The top level.
    pub const TOP: &[(&str, Kind)] =
        &[("connection", Table), ("state", Table), ("steps", Tables), ("tests", Tables)];
    /// The keys of a `[[tests]]` table.
    pub const TEST: &[(&str, Kind)] =
        &[("name", Str), ("step", Str), ("input", Table), ("expect", Table), ("reject", Any)];
    /// `[connection]`.
    pub const CONNECTION: &[(&str, Kind)] = &[
        ("url", Str),
        ("authtoken_env", Str),
        ("edition", Str),
        ("licenses", Int),
        ("budget_share", Any),
        ("timezone", Str),
        ("daily_budget", Int),
        ("write_batch", Int),
        ("writes_in_flight", Int),
        ("reads_in_flight", Int),
        ("org", Str),
        ("api", Str),
        ("client_id_env", Str),
        ("client_secret_env", Str),
        ("refresh_token_env", Str),
        ("daily_credits", Int),
    ];
    /// `[state]`.
    pub const STATE: &[(&str, Kind)] = &[("dir", Str)];
    /// A `[[steps]]` table.
    pub const STEP: &[(&str, Kind)] = &[
        ("name", Str),
        ("import", Str),
        ("export", Str),
        ("source", Str),
        ("sheet", Any),
        ("mode", Str),
        ("match_on", Str),
        ("key", Str),
        ("rejects", Str),
        ("success", Str),
        ("picklist", Str),
        ("workflow", Bool),
        ("approval", Bool),
        ("on_duplicate", Str),
        ("method", Str),
        ("max_rejects", Any),
        ("sample", Int),
        ("map", Table),
        ("delimiter", Str),
        ("quote", Str),
        ("encoding", Str),
        ("header_row", Int),
        ("to", Str),
        ("columns", Any),
        ("since", Str),
        ("on_schema_change", Str),
        ("criteria", Str),
        ("view", Str),
        ("attachments", Str),
        ("delete", Str),
        ("attach", Str),
        ("relate", Str),
        ("convert", Str),
        ("record", Table),
        ("target", Table),
        ("file", Str),
        ("photo", Bool),
        ("related", Str),
        ("potential", Table),
        ("assign_to", Table),
        ("notify", Bool),
        ("line_items", Table),
    ];
    /// `[steps.line_items]`.
    pub const LINE_ITEMS: &[(&str, Kind)] = &[
        ("source", Str),
        ("parent", Str),
        ("map", Table),
        ("delimiter", Str),
        ("quote", Str),
        ("encoding", Str),
    ];
}

/// A problem of the file's shape: message, hint, place.
pub type Problem = (String, Option<String>, Option<Range<usize>>);

/// Reports the keys of `table` that `keys` does not list or whose value is of the wrong kind,
/// and removes them; then does the same inside the sub-tables `keys` describes.
fn prune(table: &mut DeTable<'_>, keys: &[(&str, Kind)], what: &str, out: &mut Vec<Problem>) {
    let mut drop = Vec::new();
    for (k, v) in table.iter() {
        let name = k.get_ref().as_ref();
        match keys.iter().find(|(n, _)| *n == name) {
            None => {
                let known = keys.iter().map(|(n, _)| *n);
                let hint = zcrm_mapping::did_you_mean(name, known).map_or_else(
                    || {
                        let all: Vec<_> = keys.iter().map(|(n, _)| *n).collect();
                        format!("the keys of {what} are: {}", all.join(", "))
                    },
                    |s| format!("did you mean `{s}`?"),
                );
                out.push((format!("unknown field `{name}` in {what}"), Some(hint), Some(k.span())));
                drop.push(name.to_owned());
            }
            Some((_, kind)) if !kind.accepts(v.get_ref()) => {
                out.push((
                    format!(
                        "`{name}` must be {}, not {}",
                        kind.name(),
                        type_name(v.get_ref().type_str())
                    ),
                    None,
                    Some(v.span()),
                ));
                drop.push(name.to_owned());
            }
            Some(_) => {}
        }
    }
    for name in &drop {
        table.remove(name.as_str());
    }
}

/// [`prune`] over the whole document: the top level, `[connection]`, `[state]` and each step
/// (a step that is not a table is a problem and left out).
fn prune_document(doc: &mut DeTable<'_>, out: &mut Vec<Problem>) {
    prune(doc, schema::TOP, "the pipeline", out);
    for (name, keys, what) in
        [("connection", schema::CONNECTION, "[connection]"), ("state", schema::STATE, "[state]")]
    {
        if let Some(v) = doc.get_mut(name)
            && let DeValue::Table(t) = v.get_mut()
        {
            prune(t, keys, what, out);
        }
    }
    if let Some(v) = doc.get_mut("steps")
        && let DeValue::Array(a) = v.get_mut()
    {
        for mut s in std::mem::replace(a, DeArray::new()) {
            match s.get_mut() {
                DeValue::Table(t) => {
                    prune(t, schema::STEP, "a step", out);
                    if let Some(v) = t.get_mut("line_items")
                        && let DeValue::Table(li) = v.get_mut()
                    {
                        prune(li, schema::LINE_ITEMS, "[steps.line_items]", out);
                    }
                    a.push(s);
                }
                other => out.push((
                    format!(
                        "each step must be a table ([[steps]]), not {}",
                        type_name(other.type_str())
                    ),
                    None,
                    Some(s.span()),
                )),
            }
        }
    }
    if let Some(v) = doc.get_mut("tests")
        && let DeValue::Array(a) = v.get_mut()
    {
        for mut s in std::mem::replace(a, DeArray::new()) {
            match s.get_mut() {
                DeValue::Table(t) => {
                    prune(t, schema::TEST, "a test", out);
                    a.push(s);
                }
                other => out.push((
                    format!(
                        "each test must be a table ([[tests]]), not {}",
                        type_name(other.type_str())
                    ),
                    None,
                    Some(s.span()),
                )),
            }
        }
    }
}

/// `a string`, `an integer`, ...: TOML's name of a type (`type_str`) with its article.
pub(crate) fn type_name(t: &str) -> String {
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {t}")
}

/// Parses `text`: every unknown key and every value of the wrong type is a problem (left
/// out of what serde reads), so all of them are reported together with the pipeline read from
/// the rest. `None` when the text is not TOML (the one syntax error is the problem).
pub fn parse(text: &str) -> (Option<RawPipeline>, Vec<Problem>) {
    let mut doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => return (None, vec![(e.message().to_owned(), None, e.span())]),
    };
    let mut problems = Vec::new();
    prune_document(doc.get_mut(), &mut problems);
    match RawPipeline::deserialize(toml::de::Deserializer::from(doc)) {
        Ok(raw) => (Some(raw), problems),
        Err(e) => {
            problems.push((e.message().to_owned(), None, e.span()));
            (None, problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of the schema is a field serde reads (the structs deny unknown fields).
    #[test]
    fn the_schema_names_the_fields_of_the_structs() {
        let value = |k: Kind| match k {
            Kind::Str | Kind::Any => "\"x\"",
            Kind::Int => "1",
            Kind::Bool => "true",
            Kind::Table | Kind::Tables => "",
        };
        let table = |keys: &[(&str, Kind)]| {
            keys.iter()
                .filter(|(_, k)| !matches!(k, Kind::Table | Kind::Tables))
                .map(|(n, k)| format!("{n} = {}\n", value(*k)))
                .collect::<String>()
        };
        let text = format!(
            "[connection]\n{}[state]\n{}[[steps]]\n{}[steps.map]\n\"A\" = \"b\"\n[steps.line_items]\n{}[steps.line_items.map]\n\"A\" = \"b\"\n",
            table(schema::CONNECTION),
            table(schema::STATE),
            table(schema::STEP),
            table(schema::LINE_ITEMS)
        );
        let (raw, problems) = parse(&text);
        assert!(problems.is_empty(), "{problems:?}");
        let raw = raw.map(|r| r.steps.len());
        assert_eq!(raw, Some(1));
    }
}
