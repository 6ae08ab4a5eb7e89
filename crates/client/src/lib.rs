//! zcrm-client: filled by a later issue.
