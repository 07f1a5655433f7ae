//! Bootstrap facts the core needs before any typed access: where the kernel was loaded
//! (KASLR slide, `phys_base`, page-table root, direct-map base) and whether the vmlinux
//! belongs to the dump.
//!
//! Must not import `commands` or `script`.

pub mod layout;

pub use layout::{discover_layout, LayoutSource};
