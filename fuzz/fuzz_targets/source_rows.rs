//! Arbitrary bytes as a source file, read as CSV and as XLSX through `zcrm-readers` (the same
//! path an import takes: header, row splitting, decoding). Any input must end in rows or a
//! typed error, never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcrm_readers::{SourceOptions, open};

fn read_all(path: &std::path::Path) {
    let Ok(reader) = open(path, &SourceOptions::default()) else { return };
    let width = reader.headers().len();
    for chunk in reader {
        let Ok(chunk) = chunk else { return };
        for row in &chunk.rows {
            // Every row is as wide as the header (short rows padded, long ones flagged).
            let _ = (row, width);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    for name in ["source.csv", "source.xlsx"] {
        let path = dir.path().join(name);
        if std::fs::write(&path, data).is_ok() {
            read_all(&path);
        }
    }
});
