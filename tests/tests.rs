//! End-to-end tests: the real `zcrm` binary against a real emulator on loopback.

// Test helpers panic on setup failures; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions;
mod bulk;
mod bulk_read;
mod chaos;
mod cli_basics;
mod cli_output;
mod crm;
mod examples;
mod exit_codes;
mod export_attachments;
mod export_cli;
mod export_variants;
mod full_migration;
mod harness;
mod hostile;
mod import_run;
mod init;
mod line_items;
mod org_state;
mod pipeline_tests;
mod rehearsal;
mod run_report;
mod secrets;
mod undo;
mod v8;
mod validate_cli;
