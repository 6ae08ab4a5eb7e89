//! Reads a source (CSV or XLSX) to the end and prints rows and time (a profiling aid).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let path = std::env::args().nth(1).expect("a path");
    let t = std::time::Instant::now();
    let r = zcrm_readers::open(std::path::Path::new(&path), &Default::default()).unwrap();
    let mut n = 0;
    for b in r.blocks() {
        n += b.unwrap().decode().len();
    }
    eprintln!("{n} rows in {:?}", t.elapsed());
}
