//! x86_64: memory layout constants and address translation (see `paging`).
//!
//! Facts from the kernel's `Documentation/arch/x86/x86_64/mm.rst` and `page_64_types.h`.

pub mod orc;
pub mod paging;
pub mod unwind;

pub use paging::{Layout, Paging};

/// Link-time base of the kernel image mapping (`__START_KERNEL_map`).
pub const START_KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
/// Default direct-map base with 4-level paging (without KASLR).
pub const PAGE_OFFSET_L4: u64 = 0xffff_8880_0000_0000;
/// Default direct-map base with 5-level paging (without KASLR).
pub const PAGE_OFFSET_L5: u64 = 0xff11_0000_0000_0000;
/// Module mapping area start (`MODULES_VADDR` without KASLR offsets).
pub const MODULES_VADDR: u64 = 0xffff_ffff_a000_0000;
/// Kernel image KASLR alignment (`CONFIG_PHYSICAL_ALIGN` on Debian: 2 MiB).
pub const KASLR_ALIGN: u64 = 0x20_0000;
/// Largest KASLR slide of the kernel image (`KERNEL_IMAGE_SIZE` = 1 GiB).
pub const KERNEL_IMAGE_SIZE: u64 = 0x4000_0000;
/// Start of the cpu_entry_area (`CPU_ENTRY_AREA_BASE`, 4-level).
pub const CPU_ENTRY_AREA_BASE: u64 = 0xffff_fe00_0000_0000;
