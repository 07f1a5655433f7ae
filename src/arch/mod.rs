//! Architecture support. Only x86_64 today; the [`Arch`] trait is the seam for others.
//!
//! Must not import concrete dump formats.

use crate::addr::{Kva, Pa};
use crate::memory::{MemoryError, PhysReader};

pub mod x86_64;

/// Translates kernel virtual addresses of one machine to physical addresses.
pub trait Arch: Send + Sync {
    /// The physical address behind `kva`, read through the page tables in `phys` when needed.
    fn translate(&self, phys: &dyn PhysReader, kva: Kva) -> Result<Pa, MemoryError>;
    /// Page-table walk from a given root (e.g. a process's `mm->pgd`), for user addresses too.
    fn translate_with_root(
        &self,
        phys: &dyn PhysReader,
        root: Pa,
        va: u64,
    ) -> Result<Pa, MemoryError>;
}
