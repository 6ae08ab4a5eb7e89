//! Errors of starting and running the emulator (API errors are answers, not Rust errors).

/// A failure to start or operate the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The SQLite store failed.
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
    /// The schema file is invalid.
    #[error("schema file {path}: {reason}")]
    Schema {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A standard module's embedded schema file is invalid (a defect of the emulator; the
    /// golden tests keep it from shipping).
    #[error("built-in schema file {file}: {reason}")]
    StandardSchema {
        /// The file, under `crates/emulator/schema/`.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The TLS certificate could not be created or loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server thread is gone.
    #[error("the emulator thread stopped unexpectedly")]
    Stopped,
}

impl EmulatorError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { what: what.into(), source }
    }
}
