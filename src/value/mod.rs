//! The value layer: typed kernel objects ([`Value`]), their C-like printing ([`format`]), C
//! declarations for `whatis`/`struct -o` ([`decl`]), the `p` expression language ([`expr`]), the
//! pointer rules ([`pointer`]) and the list/rbtree/xarray/maple walkers ([`walk`]).
//!
//! Everything here reads the kernel through the [`Target`] trait, which the session implements;
//! this module must not import `session`, `commands` or anything to their right.

pub mod decl;
pub mod expr;
pub mod format;
mod object;
pub mod pointer;
pub mod walk;

#[cfg(test)]
mod tests;

pub use object::{Location, PathCache, Scalar, Value};

use crate::debuginfo::{DebugInfoError, TypeId, TypeIndex};
use crate::memory::{MemoryError, MemoryReader};
use thiserror::Error;

/// What the value layer needs from an open kernel: memory, types, symbols and per-CPU offsets.
pub trait Target: MemoryReader {
    /// The DWARF type index.
    fn type_index(&self) -> Result<&TypeIndex, ValueError>;
    /// The symbol containing runtime address `addr` in the kernel image, and the offset into it.
    fn symbol_near(&self, addr: u64) -> Option<(String, u64)>;
    /// Runtime address and type of global variable `name` (per-CPU variables give their offset).
    fn global_var(&self, name: &str) -> Option<(u64, TypeId)>;
    /// Runtime address of ELF symbol `name`.
    fn symbol_address(&self, name: &str) -> Option<u64>;
    /// Names of all ELF symbols at runtime address `addr` (aliases such as `jiffies` and
    /// `jiffies_64`).
    fn symbols_at(&self, addr: u64) -> Vec<String>;
    /// Whether `addr` is a per-CPU variable offset rather than an address.
    fn is_percpu_offset(&self, addr: u64) -> bool;
    /// `__per_cpu_offset[]` for each possible CPU.
    fn cpu_offsets(&self) -> &[u64];
    /// The member-path cache shared by every value of this target.
    fn path_cache(&self) -> &PathCache;
}

/// Errors of the value layer; each names the type, member and address concerned.
#[derive(Debug, Error)]
pub enum ValueError {
    /// The type has no such member.
    #[error("{type_name} has no member '{member}'")]
    NoMember {
        /// The outer type, in C spelling.
        type_name: String,
        /// The member path as asked.
        member: String,
    },
    /// A member was taken through a NULL pointer.
    #[error("cannot take '{member}': {} ({type_name}) is NULL{}",
        if pointer.is_empty() { "the pointer" } else { pointer.as_str() },
        at.map(|a| format!(", read at {a:#x}")).unwrap_or_default())]
    NullPointer {
        /// The pointer type.
        type_name: String,
        /// The member path asked for.
        member: String,
        /// The path prefix naming the NULL pointer (empty: the value itself).
        pointer: String,
        /// Where the NULL pointer itself lies, when known.
        at: Option<u64>,
    },
    /// Memory could not be read.
    #[error("cannot read {type_name} at {addr:#x}: {source}")]
    Read {
        /// The type being read.
        type_name: String,
        /// The address.
        addr: u64,
        /// Why.
        source: MemoryError,
    },
    /// No type of that name.
    #[error("no type named '{0}'")]
    NoType(String),
    /// No symbol of that name.
    #[error("no symbol '{0}'")]
    NoSymbol(String),
    /// The operation does not apply to this type.
    #[error("{op}: not valid on {type_name}")]
    BadOp {
        /// The operation (`deref`, `index`, `member`, …).
        op: &'static str,
        /// The type, in C spelling.
        type_name: String,
    },
    /// The value was computed and has no address.
    #[error("{type_name} value has no address")]
    NoAddress {
        /// The type, in C spelling.
        type_name: String,
    },
    /// An expression could not be parsed.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// The debug info could not answer.
    #[error(transparent)]
    DebugInfo(#[from] DebugInfoError),
    /// Any other problem, described.
    #[error("{0}")]
    Other(String),
}

/// Result with a [`ValueError`].
pub type Result<T, E = ValueError> = std::result::Result<T, E>;
