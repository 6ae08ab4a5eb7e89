//! Arbitrary text as a pipeline file: the loader reports problems (each with a place inside
//! the text) or a pipeline, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcrm_pipeline::{LoadError, load_str};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = std::path::Path::new("fuzz/pipeline.toml");
    match load_str(path, text) {
        Ok(_) => {}
        Err(LoadError::Invalid(d)) => {
            let lines = text.lines().count().max(1);
            for problem in &d.0 {
                assert!(problem.line <= lines + 1, "a place past the end: {problem:?}");
            }
            let _ = d.to_string();
        }
        Err(_) => {}
    }
});
