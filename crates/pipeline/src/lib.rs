//! zcrm-pipeline: filled by a later issue.
