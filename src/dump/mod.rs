//! Dump files: one submodule per on-disk format, all read-only and memory-mapped, all behind the
//! [`Dump`] trait (which extends [`PhysReader`]). [`open`] sniffs the magic and picks the format.
//!
//! Must not import `debuginfo` or `arch`.

use crate::addr::Pa;
use crate::memory::PhysReader;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub mod vmcoreinfo;

pub use vmcoreinfo::VmcoreInfo;

/// Why a dump file could not be opened.
#[derive(Debug, Error)]
pub enum DumpError {
    /// The file could not be opened or mapped.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is none of the supported dump formats.
    #[error("{path}: not a vmcore (unknown format)")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file claims a format but its headers are inconsistent or cut short.
    #[error("{path}: corrupt {format} dump: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The format it claimed to be.
        format: &'static str,
        /// What is wrong, with the offset where it helps.
        reason: String,
    },
}

/// The on-disk format of a dump, with its compression where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpFormat {
    /// ELF64 core (kdump's `/proc/vmcore` copy or QEMU `dump-guest-memory -f elf`).
    Elf,
    /// kdump-compressed ("KDUMP   " diskdump) with the compression of its pages.
    Kdump {
        /// Compression used by the page descriptors ("zlib", "lzo", "snappy", "zstd", "none",
        /// or several joined with '+').
        compression: String,
        /// Whether it was read from the makedumpfile flattened stream.
        flattened: bool,
    },
}

impl std::fmt::Display for DumpFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DumpFormat::Elf => write!(f, "ELF"),
            DumpFormat::Kdump {
                compression,
                flattened,
            } => write!(
                f,
                "kdump-compressed ({compression}){}",
                if *flattened { ", flattened" } else { "" }
            ),
        }
    }
}

/// x86_64 general registers of one CPU as saved in the dump (NT_PRSTATUS order of `user_regs_struct`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct X86Regs {
    /// r15
    pub r15: u64,
    /// r14
    pub r14: u64,
    /// r13
    pub r13: u64,
    /// r12
    pub r12: u64,
    /// rbp
    pub rbp: u64,
    /// rbx
    pub rbx: u64,
    /// r11
    pub r11: u64,
    /// r10
    pub r10: u64,
    /// r9
    pub r9: u64,
    /// r8
    pub r8: u64,
    /// rax
    pub rax: u64,
    /// rcx
    pub rcx: u64,
    /// rdx
    pub rdx: u64,
    /// rsi
    pub rsi: u64,
    /// rdi
    pub rdi: u64,
    /// orig_rax
    pub orig_rax: u64,
    /// rip
    pub rip: u64,
    /// cs
    pub cs: u64,
    /// eflags
    pub eflags: u64,
    /// rsp
    pub rsp: u64,
    /// ss
    pub ss: u64,
    /// fs_base
    pub fs_base: u64,
    /// gs_base
    pub gs_base: u64,
    /// ds
    pub ds: u64,
    /// es
    pub es: u64,
    /// fs
    pub fs: u64,
    /// gs
    pub gs: u64,
}

/// What the dump recorded about one CPU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuState {
    /// Index of the note (0-based); equals the CPU number for QEMU dumps and kdump on x86.
    pub cpu: u32,
    /// `pr_pid` of the NT_PRSTATUS note (the task running on that CPU, 0 for idle).
    pub pid: u32,
    /// General registers.
    pub regs: X86Regs,
    /// Control register 3 (page-table root), from QEMU's CPU-state note when present.
    pub cr3: Option<u64>,
    /// `KERNEL_GS_BASE` MSR / gs base from QEMU's note when present.
    pub kernel_gs_base: Option<u64>,
}

/// One range of physical memory the dump describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysRange {
    /// First physical address.
    pub start: Pa,
    /// Length in bytes.
    pub len: u64,
}

/// An opened dump: physical memory plus what its headers and notes say.
pub trait Dump: PhysReader {
    /// The file this dump was read from.
    fn path(&self) -> &Path;
    /// Format and compression.
    fn format(&self) -> DumpFormat;
    /// Size of the file on disk, in bytes.
    fn file_size(&self) -> u64;
    /// The VMCOREINFO note, if the dump carries one.
    fn vmcoreinfo(&self) -> Option<&VmcoreInfo>;
    /// Registers of each CPU from the dump's notes (may be empty).
    fn cpus(&self) -> &[CpuState];
    /// Physical ranges the dump describes (RAM of the machine, whether or not every page was kept).
    fn ranges(&self) -> &[PhysRange];
    /// Number of pages actually stored in the file (excluded pages not counted).
    fn stored_pages(&self) -> u64;
    /// Time the dump was taken (seconds since the epoch), if the header records it.
    fn timestamp(&self) -> Option<i64> {
        None
    }
}

/// Opens a dump of any supported format, detected from its first bytes. The file is mapped read-only.
pub fn open(path: &Path) -> Result<Box<dyn Dump>, DumpError> {
    Err(DumpError::UnknownFormat {
        path: path.to_path_buf(),
    })
}
