//! The crate-wide error type: wraps each layer's typed error.

use thiserror::Error;

/// Any error rkdump's library can return.
#[derive(Debug, Error)]
pub enum Error {
    /// Reading dump memory failed.
    #[error(transparent)]
    Memory(#[from] crate::memory::MemoryError),
    /// Opening or parsing a dump failed.
    #[error(transparent)]
    Dump(#[from] crate::dump::DumpError),
    /// Loading the vmlinux or its debug info failed.
    #[error(transparent)]
    DebugInfo(#[from] crate::debuginfo::DebugInfoError),
    /// The vmlinux and the dump do not belong together, or a kernel fact could not be found.
    #[error("{0}")]
    Kernel(String),
    /// A typed value could not be read or used.
    #[error(transparent)]
    Value(#[from] crate::value::ValueError),
    /// A command's arguments were wrong.
    #[error("{0}")]
    Usage(String),
    /// The command has no structured result (`cmd()`, `--json`).
    #[error("{0}: no structured output (use exec() for its text)")]
    NoData(String),
    /// The user pressed Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// Writing output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Result with the crate [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
