//! zcrm-emulator: filled by a later issue.
