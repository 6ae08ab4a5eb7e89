//! zcrm-writers: filled by a later issue.
