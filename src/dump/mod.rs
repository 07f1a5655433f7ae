//! Dump files: one submodule per on-disk format, all read-only and memory-mapped, all behind the
//! [`Dump`] trait (which extends [`PhysReader`]). [`open`] sniffs the magic and picks the format.
//!
//! Must not import `debuginfo` or `arch`.

use crate::addr::Pa;
use crate::memory::PhysReader;
use std::path::{Path, PathBuf};
use thiserror::Error;

pub mod cache;
pub mod elf;
pub mod flattened;
pub mod kdump;
pub mod lzo;
pub mod notes;
pub mod source;
pub mod vmcoreinfo;

pub use elf::ElfDump;
pub use flattened::FlattenedSource;
pub use kdump::KdumpDump;
pub use source::{ByteSource, Bytes};
use std::io::Read;
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
    /// `pr_pid` of the NT_PRSTATUS note (the task running on that CPU, 0 for idle). QEMU stores the
    /// 1-based CPU index there instead of a task, so dumps that carry QEMU CPU-state notes report 0.
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
    /// Why the file looks cut short (data its headers describe lies past its end), if it does.
    fn truncation(&self) -> Option<String> {
        None
    }
    /// Time the dump was taken (seconds since the epoch), if the header records it.
    fn timestamp(&self) -> Option<i64> {
        None
    }
}

/// Opens a dump of any supported format, detected from its first bytes. The file is mapped read-only.
///
/// Recognised: ELF64 cores (`\x7fELF`), kdump-compressed files (`KDUMP   `) and makedumpfile
/// flattened streams (`makedumpfile`) holding either of them.
pub fn open(path: &Path) -> Result<Box<dyn Dump>, DumpError> {
    let io = |source: std::io::Error| DumpError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut head = [0u8; 16];
    let mut got = 0;
    while got < head.len() {
        match file.read(head.get_mut(got..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    let head = head.get(..got).unwrap_or_default();
    let kind = sniff(head).ok_or_else(|| DumpError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let bytes = Bytes::map(&file).map_err(io)?;
    open_bytes(path.to_path_buf(), kind, bytes)
}

/// Formats [`open`] recognises from a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    /// `\x7fELF`.
    Elf,
    /// `KDUMP   `.
    Kdump,
    /// `makedumpfile` (flattened stream).
    Flattened,
}

/// Which format `head` (the first bytes of a file) announces.
pub fn sniff(head: &[u8]) -> Option<Magic> {
    if head.starts_with(elf::ELF_MAGIC) {
        Some(Magic::Elf)
    } else if head.starts_with(kdump::KDUMP_SIGNATURE) {
        Some(Magic::Kdump)
    } else if flattened::is_flattened(head) {
        Some(Magic::Flattened)
    } else {
        None
    }
}

/// Opens a dump held in memory (tests and fuzzing); errors name `<memory>`.
pub fn open_in_memory(bytes: Vec<u8>) -> Result<Box<dyn Dump>, DumpError> {
    let path = PathBuf::from("<memory>");
    let kind = sniff(&bytes).ok_or_else(|| DumpError::UnknownFormat { path: path.clone() })?;
    open_bytes(path, kind, Bytes::Owned(bytes))
}

fn open_bytes(path: PathBuf, kind: Magic, bytes: Bytes) -> Result<Box<dyn Dump>, DumpError> {
    match kind {
        Magic::Elf => Ok(Box::new(ElfDump::from_source(path, Box::new(bytes))?)),
        Magic::Kdump => Ok(Box::new(KdumpDump::from_source(
            path,
            Box::new(bytes),
            false,
        )?)),
        Magic::Flattened => {
            let src = FlattenedSource::new(bytes).map_err(|e| DumpError::Corrupt {
                path: path.clone(),
                format: "flattened",
                reason: e.to_string(),
            })?;
            let mut inner = [0u8; 8];
            let inner_len = src.len().min(8) as usize;
            let got = inner.get_mut(..inner_len).unwrap_or_default();
            src.read_at(0, got).map_err(|e| DumpError::Corrupt {
                path: path.clone(),
                format: "flattened",
                reason: e.to_string(),
            })?;
            match sniff(got) {
                Some(Magic::Kdump) => {
                    Ok(Box::new(KdumpDump::from_source(path, Box::new(src), true)?))
                }
                Some(Magic::Elf) => Ok(Box::new(ElfDump::from_source(path, Box::new(src))?)),
                _ => Err(DumpError::Corrupt {
                    path,
                    format: "flattened",
                    reason: "the stream holds neither a kdump-compressed nor an ELF image".into(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::elf::build::{core, Layout, Seg};
    use super::flattened::build_stream;
    use super::kdump::build::kdump;
    use super::kdump::tests::{check_sample, sample_spec};
    use super::*;
    use crate::memory::MemoryError;

    fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rkdump-dump-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join(name);
        let _ = std::fs::write(&p, bytes);
        p
    }

    /// A flattened stream of `image`: garbage records first, then the image in uneven chunks
    /// written back to front, some overlapping their neighbours; later records win.
    fn flatten(image: &[u8]) -> Vec<u8> {
        let garbage = vec![0x5au8; 3000];
        let mut recs: Vec<(u64, &[u8])> = vec![(0, &garbage[..]), (9000, &garbage[..])];
        let mut chunks = Vec::new();
        let mut at = 0usize;
        let mut step = 1000usize;
        while at < image.len() {
            let end = (at + step).min(image.len());
            // Start each chunk a little early so it overlaps the previous one.
            let start = at.saturating_sub(37);
            chunks.push((start as u64, &image[start..end]));
            at = end;
            step = step * 7 % 5003 + 500;
        }
        chunks.reverse();
        recs.extend(chunks);
        build_stream(&recs, true)
    }

    #[test]
    fn open_sniffs_every_format() {
        let spec = sample_spec(6);
        let (image, _) = kdump(&spec);
        let p = temp_file("k.kdump", &image);
        let d = open(&p).expect("kdump opens");
        assert_eq!(d.path(), p.as_path());
        assert_eq!(d.file_size(), image.len() as u64);
        check_sample(d.as_ref(), &spec);

        let flat = flatten(&image);
        let pf = temp_file("k.flat", &flat);
        let f = open(&pf).expect("flattened opens");
        assert_eq!(
            f.format(),
            DumpFormat::Kdump {
                compression: "zlib+lzo+snappy+zstd".into(),
                flattened: true
            }
        );
        check_sample(f.as_ref(), &spec);
        for (pfn, _, _) in &spec.pages {
            let mut a = vec![0u8; 4096];
            let mut b = vec![0u8; 4096];
            let ra = d.read_phys(Pa(pfn * 4096), &mut a);
            let rb = f.read_phys(Pa(pfn * 4096), &mut b);
            assert_eq!(ra, rb);
            assert!(a == b);
        }

        let seg = vec![0x42u8; 8192];
        let elf = core(
            Layout::Qemu,
            &[],
            &[Seg {
                paddr: 0x2000,
                data: &seg,
                zero_tail: 0,
            }],
        );
        let pe = temp_file("e.elf", &elf);
        let e = open(&pe).expect("elf opens");
        assert_eq!(e.format(), DumpFormat::Elf);
        let mut b = [0u8; 8];
        assert_eq!(e.read_phys(Pa(0x3ff0), &mut b), Ok(()));
        assert_eq!(b, [0x42; 8]);
        // makedumpfile -E -F: an ELF image inside a flattened stream.
        let ef = open_in_memory(flatten(&elf)).expect("flattened elf");
        assert_eq!(ef.read_phys(Pa(0x3ff0), &mut b), Ok(()));
        assert_eq!(b, [0x42; 8]);
    }

    #[test]
    fn open_errors_name_the_file() {
        let p = temp_file("junk", b"this is not a dump at all");
        match open(&p) {
            Err(DumpError::UnknownFormat { path }) => assert_eq!(path, p),
            other => panic!("unexpected {:?}", other.map(|d| d.format())),
        }
        let p = temp_file("empty", b"");
        assert!(matches!(open(&p), Err(DumpError::UnknownFormat { .. })));
        let p = temp_file("short.kdump", b"KDUMP   \x06\0\0\0");
        match open(&p) {
            Err(e @ DumpError::Corrupt { .. }) => {
                assert!(e.to_string().contains("short.kdump"), "{e}")
            }
            other => panic!("unexpected {:?}", other.map(|d| d.format())),
        }
        let missing = std::env::temp_dir().join("rkdump-no-such-file");
        assert!(matches!(open(&missing), Err(DumpError::Io { .. })));
        let flat_junk = build_stream(&[(0, b"neither format")], true);
        assert!(matches!(
            open_in_memory(flat_junk),
            Err(DumpError::Corrupt {
                format: "flattened",
                ..
            })
        ));
    }

    /// Seeded mutation stress over every format: flips, overwrites with interesting values and
    /// truncations of the synthetic files; every open and read must return, never panic.
    #[test]
    fn mutation_stress_never_panics() {
        let spec = sample_spec(6);
        let (image, _) = kdump(&spec);
        let seg = vec![7u8; 8192];
        let mut notes = super::notes::build::note("CORE", 1, &super::notes::build::prstatus(1, 2));
        notes.extend(super::notes::build::note("VMCOREINFO", 0, b"OSRELEASE=x\n"));
        let elf = core(
            Layout::QemuXnum,
            &notes,
            &[Seg {
                paddr: 0x1000,
                data: &seg,
                zero_tail: 4096,
            }],
        );
        let seeds = [image.clone(), flatten(&image), elf.clone(), flatten(&elf)];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let iterations: usize = std::env::var("RKDUMP_STRESS_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000);
        let mut opened = 0usize;
        for i in 0..iterations {
            let mut f = seeds[i % seeds.len()].clone();
            for _ in 0..1 + rnd() % 4 {
                let at = (rnd() % f.len() as u64) as usize;
                // Bias toward the headers, where the parsing happens.
                let at = if rnd() % 2 == 0 {
                    at % 8192.min(f.len())
                } else {
                    at
                };
                match rnd() % 4 {
                    0 => f[at] ^= 1 << (rnd() % 8),
                    1 => f[at] = [0, 0xff, 0x7f, 0x80][(rnd() % 4) as usize],
                    2 => {
                        let v = [0u64, u64::MAX, 1 << 63, 0x7fff_ffff, 4096][(rnd() % 5) as usize];
                        let end = (at + 8).min(f.len());
                        f[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
                    }
                    _ => f.truncate(at.max(1)),
                }
            }
            if let Ok(d) = open_in_memory(f) {
                opened += 1;
                let _ = d.cpus();
                let _ = d.vmcoreinfo().map(|v| v.osrelease());
                for r in d.ranges().iter().take(4) {
                    let _ = d.read_phys(r.start, &mut [0u8; 64]);
                }
                for pa in [0x1000u64, 0x4ff0, 0x40000, 299 * 4096, u64::MAX - 8] {
                    let mut b = vec![0u8; 5000];
                    match d.read_phys(Pa(pa), &mut b) {
                        Ok(())
                        | Err(MemoryError::NotInDump { .. })
                        | Err(MemoryError::PageExcluded { .. })
                        | Err(MemoryError::CorruptPage { .. })
                        | Err(MemoryError::Truncated { .. }) => {}
                        Err(e) => panic!("unexpected error kind {e}"),
                    }
                }
            }
        }
        assert!(opened > iterations / 10, "only {opened} mutants opened");
    }

    /// Writes seed corpora for the fuzz targets into `$RKDUMP_FUZZ_SEEDS/<target>/`
    /// (`RKDUMP_FUZZ_SEEDS=fuzz/seeds cargo test write_fuzz_seeds`; a temporary folder
    /// otherwise) and checks that every dump seed opens.
    #[test]
    fn write_fuzz_seeds() {
        let dir = std::env::var_os("RKDUMP_FUZZ_SEEDS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::temp_dir().join(format!("rkdump-seeds-{}", std::process::id()))
            });
        let write = |target: &str, name: &str, bytes: &[u8]| {
            if target != "vmcoreinfo" {
                assert!(
                    open_in_memory(bytes.to_vec()).is_ok(),
                    "seed {target}/{name} does not open"
                );
            }
            let d = dir.join(target);
            std::fs::create_dir_all(&d).expect("seed folder");
            std::fs::write(d.join(name), bytes).expect("seed file");
        };
        let mut spec = sample_spec(6);
        // Keep seeds small: fewer pages, smaller bitmap.
        spec.pages.retain(|p| p.0 < 8);
        spec.max_mapnr = 64;
        let (image, _) = kdump(&spec);
        write("kdump", "v6", &image);
        spec.version = 3;
        write("kdump", "v3", &kdump(&spec).0);
        write("flattened", "kdump", &flatten(&image));
        let seg = vec![7u8; 4096];
        let mut notes = super::notes::build::note("CORE", 1, &super::notes::build::prstatus(1, 2));
        notes.extend(super::notes::build::note(
            "QEMU",
            0,
            &super::notes::build::qemu_cpu_state(1, 2, Some(3)),
        ));
        notes.extend(super::notes::build::note(
            "VMCOREINFO",
            0,
            b"OSRELEASE=6.1
KERNELOFFSET=1000
",
        ));
        for (name, layout) in [
            ("kdump", Layout::Kdump),
            ("qemu", Layout::Qemu),
            ("xnum", Layout::QemuXnum),
        ] {
            let elf = core(
                layout,
                &notes,
                &[
                    Seg {
                        paddr: 0x1000,
                        data: &seg,
                        zero_tail: 4096,
                    },
                    Seg {
                        paddr: 0x10_0000,
                        data: &seg[..100],
                        zero_tail: 0,
                    },
                ],
            );
            write("elf", name, &elf);
            if layout == Layout::Qemu {
                write("flattened", "elf", &flatten(&elf));
            }
        }
        write("vmcoreinfo", "text", b"OSRELEASE=6.1.0-37-amd64\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a14420\nKERNELOFFSET=1c000000\n");
        write("vmcoreinfo", "notes", &notes);
    }
}
