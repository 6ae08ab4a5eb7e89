//! What a run tells its front end while it goes: the binary implements these for progress
//! bars and log lines; [`Silent`] ignores everything.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use zcrm_batcher::StepReport;
use zcrm_client::Ledger;

/// Hears about a run's steps.
pub trait Observer {
    /// Something the user should know that is not an error (a changed source, a wait).
    fn note(&self, text: &str);
    /// An import step starts. `total` receives the source's row count once a counting pass
    /// knows it (until then it holds `u64::MAX`); `ledger` gives today's spend.
    fn import<'a>(
        &'a self,
        step: &str,
        ledger: &'a Ledger,
        total: Arc<AtomicU64>,
    ) -> Box<dyn ImportObserver + 'a>;
    /// An export starts (a step, or the module of an ad hoc export).
    fn export<'a>(&'a self, name: &str, ledger: &'a Ledger) -> Box<dyn ExportObserver + 'a>;
}

/// Hears about one import step.
pub trait ImportObserver {
    /// `n` more source rows were read and handed on (to be sent or rejected).
    fn rows_read(&self, n: u64);
    /// The batcher's running totals after a write call.
    fn written(&self, report: &StepReport);
    /// The step ended with every row read.
    fn finish(&self);
    /// The step stopped early (the budget, an error).
    fn stop(&self);
}

/// Hears about one export.
pub trait ExportObserver {
    /// Pages fetched and records written so far.
    fn page(&self, pages: u64, records: u64);
    /// The export ended.
    fn finish(&self);
}

/// An observer that ignores everything (library use, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {
    fn note(&self, _: &str) {}
    fn import<'a>(
        &'a self,
        _: &str,
        _: &'a Ledger,
        _: Arc<AtomicU64>,
    ) -> Box<dyn ImportObserver + 'a> {
        Box::new(Silent)
    }
    fn export<'a>(&'a self, _: &str, _: &'a Ledger) -> Box<dyn ExportObserver + 'a> {
        Box::new(Silent)
    }
}

impl ImportObserver for Silent {
    fn rows_read(&self, _: u64) {}
    fn written(&self, _: &StepReport) {}
    fn finish(&self) {}
    fn stop(&self) {}
}

impl ExportObserver for Silent {
    fn page(&self, _: u64, _: u64) {}
    fn finish(&self) {}
}
