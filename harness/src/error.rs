//! The harness's error type.

/// What can go wrong in the harness outside a simulated run (reading histories, writing
/// reports). Failures of the implementation under test are not errors: they are recorded
/// in the history and judged by invariants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A history file could not be read.
    #[error("history line {line}: {message}")]
    History {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
