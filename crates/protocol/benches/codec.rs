//! Codec benchmarks (filled below).
fn main() {}
