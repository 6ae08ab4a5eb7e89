//! zcrm-batcher: filled by a later issue.
