//! The vmlinux: ELF symbols, build-id, section contents, and (in `types`) the DWARF type index.
//! gimli and object types never leave this module.
//!
//! Must not import `dump`.

use std::path::{Path, PathBuf};
use thiserror::Error;

pub mod symbols;

pub use symbols::{Symbol, SymbolKind, SymbolTable};

/// Why debug info could not be loaded or a lookup failed.
#[derive(Debug, Error)]
pub enum DebugInfoError {
    /// The file could not be opened or mapped.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not an ELF object we can read.
    #[error("{path}: not a usable ELF file: {reason}")]
    BadElf {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file has no symbol table or no DWARF.
    #[error("{path}: {what} missing (is this a vmlinux with debug info?)")]
    Missing {
        /// The file.
        path: PathBuf,
        /// What is missing.
        what: &'static str,
    },
}

/// Placeholder so the module compiles before the loader lands.
pub struct Vmlinux {
    path: PathBuf,
}

impl Vmlinux {
    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
