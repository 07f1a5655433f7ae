//! The vmlinux: ELF symbols, build-id, section contents, and (in `types`) the DWARF type index.
//! gimli and object types never leave this module.
//!
//! Must not import `dump`.

use std::path::{Path, PathBuf};
use thiserror::Error;

mod cache;
pub mod dwarf_index;
mod reader;
pub mod symbols;
pub mod types;

pub use dwarf_index::{IndexStats, Progress, TypeIndex};
pub use symbols::{Symbol, SymbolKind, SymbolTable};
pub use types::{BaseEncoding, Global, Member, MemberInfo, Qualifier, StructKind, Type, TypeId};

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
    /// DWARF data is malformed where it was needed.
    #[error("malformed DWARF at .debug_info+{offset:#x}: {reason}")]
    Dwarf {
        /// `.debug_info` offset of the DIE or unit concerned.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// No type of that name.
    #[error("no type named '{name}'")]
    NoType {
        /// The name as asked.
        name: String,
    },
    /// The type has no member of that name (or the path crosses a pointer or a non-aggregate).
    #[error("{type_name} has no member '{member}'")]
    NoMember {
        /// The outer type, in C spelling.
        type_name: String,
        /// The member path as asked.
        member: String,
    },
    /// The type has no size (void, function, flexible array, unresolved declaration).
    #[error("{type_name} has no size")]
    NoSize {
        /// The type, in C spelling.
        type_name: String,
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
