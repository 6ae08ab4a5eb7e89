//! zcrm-readers: filled by a later issue.
