//! Black-box HTTP tests of the emulator: one test binary, modules by concern.

mod api {
    mod admin_and_faults;
    mod errors_and_limits;
    pub mod harness;
    mod methods;
    mod reads;
    mod writes;
}
