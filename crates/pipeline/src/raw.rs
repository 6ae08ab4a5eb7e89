//! The pipeline file exactly as serde reads it: unknown keys are errors, and values that later
//! checks refer to keep their byte span (`toml::Spanned`).

use serde::Deserialize;
use toml::Spanned;

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
