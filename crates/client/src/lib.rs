//! The only crate that talks HTTP to Zoho CRM (or the emulator). It carries the token, spends the
//! org's daily call budget through a persistent ledger, and reports every outcome honestly:
//! reads are retried with back-off and jitter, writes whose outcome is unknown are reported as
//! in doubt and never retried, and the daily limit stops everything at once.

pub mod actions;
pub mod api;
pub mod budget;
pub mod bulk;
pub mod bulk_read;
mod client;
pub mod endpoint;
mod error;
pub mod filtered;
pub mod metadata;
pub mod owner_only;
pub mod rest;
pub mod retry;
pub mod secret;
pub mod server_clock;
pub mod transport;

pub use actions::{Assignee, Conversion, Relation};
pub use api::{
    AttachmentFile, CallKind, CrmApi, Dialect, MAX_ATTACHMENT_BYTES, MAX_RELATIONS, OnDuplicate,
    PayloadBuilder, WriteKind, WriteOptions,
};
pub use budget::{BudgetExhausted, BudgetLimit, BudgetStatus, Ledger, LedgerConfig};
pub use bulk::{BulkColumn, BulkEncoder, BulkJob, BulkOperation, BulkState};
pub use bulk_read::{BulkReadOutcome, BulkReadRequest, DownloadPacer};
pub use client::{Client, ClientConfig, write_sent};
pub use endpoint::{DataCentre, Endpoint};
pub use error::{ClientError, ErrorClass};
pub use filtered::RecordFilter;
pub use metadata::{CachedFields, MetadataCache};
pub use rest::{OAuthConfig, OAuthError, RestClient, RestConfig};
pub use retry::RetryPolicy;
pub use secret::{AuthToken, Secret};
pub use server_clock::ServerClock;
pub use transport::{DEFAULT_MAX_BODY_BYTES, FilePart, TransportConfig};
