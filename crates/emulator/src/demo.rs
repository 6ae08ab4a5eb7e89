//! `--seed-demo`: a few thousand realistic, deterministic records across related modules.

use crate::error::EmulatorError;
use crate::state::State;

/// Fills an empty store with demo data (does nothing when records exist).
pub fn seed(st: &State) -> Result<(), EmulatorError> {
    crate::api::seed_demo(st)
}
