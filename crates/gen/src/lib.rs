//! Deterministic generated data for tests, benchmarks and demos: Leads-like CSV and XLSX
//! files (25 columns) of any size, streamed to disk, with an optional fraction of rows that
//! carry one deliberate defect each. The same seed always gives the same bytes. Also hostile
//! workbooks (XLSX bombs) for the tests that prove the readers' limits.

pub mod hostile;
mod leads;
mod rng;

pub use leads::{
    BAD_KINDS, LEADS_COLUMNS, LeadGen, LeadsSpec, leads_map_toml, write_leads_csv, write_leads_xlsx,
};
pub use rng::Rng;

/// A file that could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// Writing the CSV failed.
    #[error("{0}")]
    Csv(#[from] csv::Error),
    /// Writing the XLSX failed.
    #[error("{0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// Other I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a generator wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenStats {
    /// Data rows written.
    pub rows: u64,
    /// Rows with a deliberate defect.
    pub bad_rows: u64,
}
