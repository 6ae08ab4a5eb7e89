//! zcrm-protocol tests: one binary, one module per concern.

mod golden_responses;
mod hostile;
mod json;
mod line_items;
mod param_errors;
mod requests;
mod roundtrip;
mod values;

/// Reads a fixture from `tests/fixtures/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}
