//! zcrm-mapping: filled by a later issue.
