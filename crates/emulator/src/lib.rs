//! zcrm-emulator.
