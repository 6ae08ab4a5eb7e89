//! Black-box HTTP tests of the emulator: one test binary, modules by concern.

// Helpers outside #[test] functions abort the test on failure too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api {
    mod admin_and_faults;
    mod documented;
    mod errors_and_limits;
    mod export;
    mod golden;
    pub mod harness;
    mod kill;
    mod line_items;
    mod methods;
    mod rate_and_lag;
    mod reads;
    mod rest;
    mod rest_actions;
    mod rest_bulk;
    mod rest_search;
    mod rest_views;
    mod schema_file;
    mod writes;
}
