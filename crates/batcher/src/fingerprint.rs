//! Comparable forms of field values, so a row that was sent can be recognised in what the CRM
//! returns (input forms differ from output forms: `03/31/2024` vs `2024-03-31`, `10.50` vs `10.5`).

use zcrm_protocol::{Direction, ModuleFields, Value};

/// The normalised text of `text` for field `label`, read in `direction`'s form.
pub fn normalise(fields: &ModuleFields, label: &str, text: &str, direction: Direction) -> String {
    let Some(meta) = fields.field(label) else { return text.trim().to_owned() };
    match Value::parse(&meta.field_type, text, direction) {
        Ok(v) => canonical(&v).unwrap_or_else(|| text.trim().to_owned()),
        Err(_) => text.trim().to_owned(),
    }
}

/// The comparable form of a typed value (what [`normalise`] gives for its text in either
/// direction): decimals without trailing zeros, everything else in the API's output form.
/// `None` for a value no text form carries (a multi-select item holding `;`).
pub fn canonical(v: &Value) -> Option<String> {
    match v {
        Value::Decimal(d) => Some(d.normalize().to_string()),
        v => v.to_text(Direction::Output).ok().map(|t| t.into_owned()),
    }
}

/// One fingerprint for a row: its labels' normalised values, in the given label order.
pub fn of(
    fields: &ModuleFields,
    labels: &[String],
    get: impl Fn(&str) -> Option<String>,
    direction: Direction,
) -> String {
    of_canonical(labels, |l| get(l).map(|t| normalise(fields, l, &t, direction)))
}

/// [`of`] for values already in their [`canonical`] form (as the journal keeps them).
pub fn of_canonical(labels: &[String], get: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    for l in labels {
        out.push_str(&get(l).unwrap_or_default());
        out.push('\u{1f}');
    }
    out
}
