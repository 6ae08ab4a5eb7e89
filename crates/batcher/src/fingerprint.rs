//! Comparable forms of field values, so a row that was sent can be recognised in what the CRM
//! returns (input forms differ from output forms: `03/31/2024` vs `2024-03-31`, `10.50` vs `10.5`).

use zcrm_protocol::{Direction, ModuleFields, Value};

/// The normalised text of `text` for field `label`, read in `direction`'s form.
pub fn normalise(fields: &ModuleFields, label: &str, text: &str, direction: Direction) -> String {
    let Some(meta) = fields.field(label) else { return text.trim().to_owned() };
    match Value::parse(&meta.field_type, text, direction) {
        Ok(Value::Decimal(d)) => d.normalize().to_string(),
        Ok(v) => {
            v.to_text(Direction::Output).map_or_else(|_| text.trim().to_owned(), |t| t.into_owned())
        }
        Err(_) => text.trim().to_owned(),
    }
}

/// One fingerprint for a row: its labels' normalised values, in the given label order.
pub fn of(
    fields: &ModuleFields,
    labels: &[String],
    get: impl Fn(&str) -> Option<String>,
    direction: Direction,
) -> String {
    let mut out = String::new();
    for l in labels {
        let v = get(l).map(|t| normalise(fields, l, &t, direction)).unwrap_or_default();
        out.push_str(&v);
        out.push('\u{1f}');
    }
    out
}
