//! ELF64 little-endian x86_64 core files: kdump's `/proc/vmcore` copies (one PT_NOTE, then PT_LOADs)
//! and QEMU `dump-guest-memory` output (since QEMU 7.2 section headers may come first and
//! `e_ehsize` may be odd; more than 65534 program headers use `PN_XNUM` with the real count in
//! section 0's `sh_info`). Nothing is assumed about layout: the program headers are found through
//! `e_phoff`/`e_phnum` only.
//!
//! Physical memory is served from the PT_LOAD segments (`p_paddr` → `p_offset`), sorted for binary
//! search; `p_filesz < p_memsz` tails read as zeros.
//!
//! Must not import `debuginfo` or `arch`.

use super::notes::{parse_notes, Notes};
use super::source::{le, ByteSource, Bytes};
use super::{CpuState, Dump, DumpError, DumpFormat, PhysRange, VmcoreInfo};
use crate::addr::{Pa, PAGE_SIZE};
use crate::memory::{MemoryError, PhysReader};
use std::path::{Path, PathBuf};

/// ELF magic.
pub const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const ET_CORE: u16 = 4;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
/// `e_phnum` value meaning "the real count is in section 0's `sh_info`".
pub const PN_XNUM: u16 = 0xffff;
const EHDR_SIZE: usize = 64;
const PHDR_MIN: usize = 56;
const SHDR_MIN: usize = 64;
/// Largest note segment read (notes of thousands of CPUs stay far below this).
const MAX_NOTE_BYTES: u64 = 64 << 20;
const FORMAT: &str = "ELF";

/// One PT_LOAD segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    /// `p_paddr`.
    pub paddr: u64,
    /// `p_memsz` (clamped so that `paddr + memsz` does not overflow).
    pub memsz: u64,
    /// `p_offset`.
    pub offset: u64,
    /// `p_filesz`, clamped to `memsz`.
    pub filesz: u64,
}

impl LoadSegment {
    fn end(&self) -> u64 {
        self.paddr.saturating_add(self.memsz)
    }
}

/// An ELF vmcore.
pub struct ElfDump {
    path: PathBuf,
    source: Box<dyn ByteSource>,
    segments: Vec<LoadSegment>,
    /// `max_end[i]` = largest segment end among `segments[..=i]` (for overlapping segments).
    max_end: Vec<u64>,
    ranges: Vec<PhysRange>,
    stored_pages: u64,
    notes: Notes,
}

impl std::fmt::Debug for ElfDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElfDump")
            .field("path", &self.path)
            .field("segments", &self.segments.len())
            .field("cpus", &self.notes.cpus.len())
            .finish()
    }
}

fn corrupt(path: &Path, reason: String) -> DumpError {
    DumpError::Corrupt {
        path: path.to_path_buf(),
        format: FORMAT,
        reason,
    }
}

fn read_vec(src: &dyn ByteSource, off: u64, len: u64) -> Option<Vec<u8>> {
    let n = usize::try_from(len).ok()?;
    // A flattened image can claim a huge logical size; never allocate more than the file stores.
    if off.checked_add(len)? > src.len() || len > src.stored_len() {
        return None;
    }
    let mut v = vec![0u8; n];
    src.read_at(off, &mut v).ok()?;
    Some(v)
}

impl ElfDump {
    /// Parses an ELF core held in memory (tests, fuzzing). The path in errors is `<memory>`.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, DumpError> {
        Self::from_source(PathBuf::from("<memory>"), Box::new(Bytes::Owned(bytes)))
    }

    /// Parses an ELF core from any byte source (a mapped file or a flattened stream's image).
    pub fn from_source(path: PathBuf, source: Box<dyn ByteSource>) -> Result<Self, DumpError> {
        let src = source.as_ref();
        let ehdr = read_vec(src, 0, EHDR_SIZE as u64).ok_or_else(|| {
            corrupt(
                &path,
                format!("ELF header cut short (file has {} bytes)", src.len()),
            )
        })?;
        if ehdr.get(..4) != Some(&ELF_MAGIC[..]) {
            return Err(corrupt(&path, "bad ELF magic".into()));
        }
        let class = ehdr.get(4).copied().unwrap_or(0);
        let data = ehdr.get(5).copied().unwrap_or(0);
        if class != ELFCLASS64 || data != ELFDATA2LSB {
            return Err(corrupt(
                &path,
                format!("unsupported ELF class {class}/data {data} (need ELF64 little-endian)"),
            ));
        }
        let field = |r: Option<u64>, what: &str| {
            r.ok_or_else(|| corrupt(&path, format!("ELF header field {what} unreadable")))
        };
        let e_type = field(le::u16_at(&ehdr, 16).map(u64::from), "e_type")? as u16;
        let e_machine = field(le::u16_at(&ehdr, 18).map(u64::from), "e_machine")? as u16;
        if e_type != ET_CORE {
            return Err(corrupt(&path, format!("not a core file (e_type {e_type})")));
        }
        if e_machine != EM_X86_64 {
            return Err(corrupt(
                &path,
                format!("unsupported machine {e_machine} (need x86_64)"),
            ));
        }
        let e_phoff = field(le::u64_at(&ehdr, 32), "e_phoff")?;
        let e_shoff = field(le::u64_at(&ehdr, 40), "e_shoff")?;
        let e_phentsize = field(le::u16_at(&ehdr, 54).map(u64::from), "e_phentsize")?;
        let e_phnum = field(le::u16_at(&ehdr, 56).map(u64::from), "e_phnum")? as u16;
        let e_shentsize = field(le::u16_at(&ehdr, 58).map(u64::from), "e_shentsize")?;
        let e_shnum = field(le::u16_at(&ehdr, 60).map(u64::from), "e_shnum")?;

        let phnum: u64 = if e_phnum == PN_XNUM {
            // The real count lives in the first section header's sh_info.
            if e_shoff == 0 || e_shnum == 0 || (e_shentsize as usize) < SHDR_MIN {
                return Err(corrupt(
                    &path,
                    "e_phnum is PN_XNUM but there is no section header 0".into(),
                ));
            }
            let sh0 = read_vec(src, e_shoff, SHDR_MIN as u64).ok_or_else(|| {
                corrupt(
                    &path,
                    format!("section header 0 at {e_shoff:#x} lies past the end of the file"),
                )
            })?;
            u64::from(le::u32_at(&sh0, 44).unwrap_or(0))
        } else {
            u64::from(e_phnum)
        };
        if phnum > 0 && (e_phentsize as usize) < PHDR_MIN {
            return Err(corrupt(
                &path,
                format!("e_phentsize {e_phentsize} too small"),
            ));
        }
        let table_len = phnum
            .checked_mul(e_phentsize)
            .ok_or_else(|| corrupt(&path, "program header table size overflows".into()))?;
        let table = read_vec(src, e_phoff, table_len).ok_or_else(|| {
            corrupt(
                &path,
                format!(
                    "program header table ({phnum} entries at {e_phoff:#x}) runs past the end of the file"
                ),
            )
        })?;

        let mut segments = Vec::new();
        let mut note_bytes = Vec::new();
        let mut notes_truncated = false;
        for i in 0..phnum {
            let at = (i * e_phentsize) as usize;
            let ph = table.get(at..at + PHDR_MIN).unwrap_or_default();
            let (Some(p_type), Some(p_offset), Some(p_paddr), Some(p_filesz), Some(p_memsz)) = (
                le::u32_at(ph, 0),
                le::u64_at(ph, 8),
                le::u64_at(ph, 24),
                le::u64_at(ph, 32),
                le::u64_at(ph, 40),
            ) else {
                continue;
            };
            match p_type {
                PT_LOAD if p_memsz > 0 => {
                    let memsz = p_memsz.min(u64::MAX - p_paddr);
                    segments.push(LoadSegment {
                        paddr: p_paddr,
                        memsz,
                        offset: p_offset,
                        filesz: p_filesz.min(memsz),
                    });
                }
                PT_NOTE => {
                    // Bound the notes of all PT_NOTE segments together, not each one.
                    let room = MAX_NOTE_BYTES.saturating_sub(note_bytes.len() as u64);
                    let len = p_filesz.min(src.len().saturating_sub(p_offset)).min(room);
                    notes_truncated |= len < p_filesz;
                    if let Some(v) = read_vec(src, p_offset, len) {
                        note_bytes.extend_from_slice(&v);
                    }
                }
                _ => {}
            }
        }
        let mut notes = parse_notes(&note_bytes);
        if notes_truncated {
            notes
                .warnings
                .push("PT_NOTE segment runs past the end of the file".into());
        }

        segments.sort_by_key(|s| (s.paddr, s.end()));
        let mut max_end = Vec::with_capacity(segments.len());
        let mut m = 0u64;
        for s in &segments {
            m = m.max(s.end());
            max_end.push(m);
        }
        let ranges = coalesce(segments.iter().map(|s| (s.paddr, s.end())));
        let file_len = src.len();
        let stored = coalesce(segments.iter().filter_map(|s| {
            let avail = s.filesz.min(file_len.saturating_sub(s.offset));
            (avail > 0).then(|| (s.paddr, s.paddr.saturating_add(avail)))
        }));
        let stored_pages = stored
            .iter()
            .fold(0u64, |a, r| a.saturating_add(r.len.div_ceil(PAGE_SIZE)));

        Ok(Self {
            path,
            source,
            segments,
            max_end,
            ranges,
            stored_pages,
            notes,
        })
    }

    /// The PT_LOAD segments, sorted by physical address.
    pub fn segments(&self) -> &[LoadSegment] {
        &self.segments
    }

    /// All notes decoded from the PT_NOTE segments (including QEMU CPU states and warnings).
    pub fn notes(&self) -> &Notes {
        &self.notes
    }

    /// The segment holding `pa`, if any.
    fn find(&self, pa: u64) -> Option<&LoadSegment> {
        let i = self.segments.partition_point(|s| s.paddr <= pa);
        let mut j = i;
        while let Some(k) = j.checked_sub(1) {
            let s = self.segments.get(k)?;
            if pa < s.end() {
                return Some(s);
            }
            // Segments further left can only contain `pa` if one of them reaches past it.
            if self.max_end.get(k).is_none_or(|&m| m <= pa) {
                return None;
            }
            j = k;
        }
        None
    }
}

/// Sorts and merges `[start, end)` pairs into ranges.
fn coalesce(it: impl Iterator<Item = (u64, u64)>) -> Vec<PhysRange> {
    let mut v: Vec<(u64, u64)> = it.filter(|(s, e)| e > s).collect();
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out.into_iter()
        .map(|(s, e)| PhysRange {
            start: Pa(s),
            len: e - s,
        })
        .collect()
}

impl PhysReader for ElfDump {
    fn read_phys(&self, pa: Pa, buf: &mut [u8]) -> Result<(), MemoryError> {
        let mut done = 0usize;
        while done < buf.len() {
            let cur =
                pa.0.checked_add(done as u64)
                    .ok_or(MemoryError::NotInDump { pa })?;
            let cur_pa = Pa(cur);
            let seg = self
                .find(cur)
                .ok_or(MemoryError::NotInDump { pa: cur_pa })?;
            let in_seg = cur - seg.paddr;
            let rest = buf.len() - done;
            let chunk = (seg.end() - cur).min(rest as u64) as usize;
            let out = buf
                .get_mut(done..done + chunk)
                .ok_or(MemoryError::NotInDump { pa: cur_pa })?;
            if in_seg < seg.filesz {
                let n = (seg.filesz - in_seg).min(chunk as u64) as usize;
                let file_at = seg
                    .offset
                    .checked_add(in_seg)
                    .ok_or(MemoryError::Truncated { pa: cur_pa })?;
                let (head, tail) = out.split_at_mut(n);
                match self.source.slice(file_at, n) {
                    Some(s) => head.copy_from_slice(s),
                    None => self.source.read_at(file_at, head).map_err(|_| {
                        // Name the first byte whose data lies past the end of the file.
                        let avail = self.source.len().saturating_sub(file_at);
                        MemoryError::Truncated {
                            pa: Pa(cur.saturating_add(avail.min(n as u64))),
                        }
                    })?,
                }
                tail.fill(0);
            } else {
                out.fill(0);
            }
            done += chunk;
        }
        Ok(())
    }
}

impl Dump for ElfDump {
    fn path(&self) -> &Path {
        &self.path
    }
    fn truncation(&self) -> Option<String> {
        let need = self
            .segments
            .iter()
            .map(|s| s.offset.saturating_add(s.filesz))
            .max()?;
        let have = self.source.len();
        let missing: u64 = self
            .segments
            .iter()
            .map(|s| {
                let end = s.offset.saturating_add(s.filesz);
                end.saturating_sub(s.offset.max(have)).div_ceil(4096)
            })
            .sum();
        (need > have).then(|| {
            format!(
                "the file ends early at offset {have:#x} ({have} bytes; its program headers \
                 describe {need}): {missing} pages lie past it and read as missing"
            )
        })
    }
    fn format(&self) -> DumpFormat {
        DumpFormat::Elf
    }
    fn file_size(&self) -> u64 {
        self.source.file_len()
    }
    fn vmcoreinfo(&self) -> Option<&VmcoreInfo> {
        self.notes.vmcoreinfo.as_ref()
    }
    fn cpus(&self) -> &[CpuState] {
        &self.notes.cpus
    }
    fn ranges(&self) -> &[PhysRange] {
        &self.ranges
    }
    fn stored_pages(&self) -> u64 {
        self.stored_pages
    }
}

/// Builders for synthetic ELF cores (tests and fuzz seeds).
#[doc(hidden)]
pub mod build {
    /// Layout of the headers.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum Layout {
        /// kdump's /proc/vmcore: ELF header, program headers right after it.
        Kdump,
        /// QEMU ≥ 7.2: ELF header (odd `e_ehsize`), section header at 64, program headers after.
        Qemu,
        /// QEMU with `e_phnum = PN_XNUM` and the count in section 0's `sh_info`.
        QemuXnum,
    }

    /// A load segment to build: physical address, bytes stored, extra zero tail (memsz - filesz).
    pub struct Seg<'a> {
        /// p_paddr
        pub paddr: u64,
        /// file contents
        pub data: &'a [u8],
        /// memsz beyond the data
        pub zero_tail: u64,
    }

    /// Builds an ELF64 x86_64 core with one PT_NOTE holding `notes` and one PT_LOAD per segment.
    pub fn core(layout: Layout, notes: &[u8], segs: &[Seg<'_>]) -> Vec<u8> {
        let phnum = 1 + segs.len();
        let (phoff, shoff) = match layout {
            Layout::Kdump => (64usize, 0usize),
            Layout::Qemu | Layout::QemuXnum => (64 + 64, 64),
        };
        let mut out = vec![0u8; phoff + 56 * phnum];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2;
        out[5] = 1;
        out[6] = 1;
        out[16..18].copy_from_slice(&4u16.to_le_bytes());
        out[18..20].copy_from_slice(&62u16.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[32..40].copy_from_slice(&(phoff as u64).to_le_bytes());
        let ehsize: u16 = if layout == Layout::Kdump { 64 } else { 0x41 };
        out[52..54].copy_from_slice(&ehsize.to_le_bytes());
        out[54..56].copy_from_slice(&56u16.to_le_bytes());
        let e_phnum = if layout == Layout::QemuXnum {
            0xffff
        } else {
            phnum as u16
        };
        out[56..58].copy_from_slice(&e_phnum.to_le_bytes());
        if shoff != 0 {
            out[40..48].copy_from_slice(&(shoff as u64).to_le_bytes());
            out[58..60].copy_from_slice(&64u16.to_le_bytes());
            out[60..62].copy_from_slice(&1u16.to_le_bytes());
            out[shoff + 44..shoff + 48].copy_from_slice(&(phnum as u32).to_le_bytes());
        }
        let note_off = out.len();
        out.extend_from_slice(notes);
        let mut data_offs = Vec::new();
        for s in segs {
            while out.len() % 4096 != 0 {
                out.push(0);
            }
            data_offs.push(out.len());
            out.extend_from_slice(s.data);
        }
        let mut ph = |i: usize, ty: u32, off: u64, paddr: u64, filesz: u64, memsz: u64| {
            let at = phoff + 56 * i;
            out[at..at + 4].copy_from_slice(&ty.to_le_bytes());
            out[at + 8..at + 16].copy_from_slice(&off.to_le_bytes());
            out[at + 16..at + 24].copy_from_slice(&(0xffff_8880_0000_0000 + paddr).to_le_bytes());
            out[at + 24..at + 32].copy_from_slice(&paddr.to_le_bytes());
            out[at + 32..at + 40].copy_from_slice(&filesz.to_le_bytes());
            out[at + 40..at + 48].copy_from_slice(&memsz.to_le_bytes());
        };
        ph(
            0,
            4,
            note_off as u64,
            0,
            notes.len() as u64,
            notes.len() as u64,
        );
        for (i, s) in segs.iter().enumerate() {
            let len = s.data.len() as u64;
            ph(
                i + 1,
                1,
                data_offs[i] as u64,
                s.paddr,
                len,
                len + s.zero_tail,
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::build::{core, Layout, Seg};
    use super::*;
    use crate::addr::Pfn;
    use crate::dump::notes::build::{note, prstatus, qemu_cpu_state};

    fn pattern(seed: u8, n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn sample(layout: Layout) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut notes = note("CORE", 1, &prstatus(42, 1000));
        notes.extend(note("CORE", 1, &prstatus(43, 2000)));
        if layout != Layout::Kdump {
            notes.extend(note("QEMU", 0, &qemu_cpu_state(1, 0x1234000, Some(0xabc))));
            notes.extend(note("QEMU", 0, &qemu_cpu_state(2, 0x5678000, Some(0xdef))));
        }
        notes.extend(note(
            "VMCOREINFO",
            0,
            b"OSRELEASE=6.1.0-test\nPAGESIZE=4096\n",
        ));
        let a = pattern(1, 3 * 4096);
        let b = pattern(2, 2 * 4096);
        let file = core(
            layout,
            &notes,
            &[
                Seg {
                    paddr: 0x10_0000,
                    data: &b,
                    zero_tail: 4096,
                },
                Seg {
                    paddr: 0x1000,
                    data: &a,
                    zero_tail: 0,
                },
            ],
        );
        (file, a, b)
    }

    #[test]
    fn reads_both_layouts() {
        for layout in [Layout::Kdump, Layout::Qemu, Layout::QemuXnum] {
            let (file, a, b) = sample(layout);
            let d = ElfDump::from_bytes(file).expect("valid core");
            assert_eq!(d.cpus().len(), 2, "{layout:?}");
            assert_eq!(d.cpus()[1].regs.r15, 2000);
            if layout == Layout::Kdump {
                assert_eq!(d.cpus()[0].pid, 42);
                assert_eq!(d.cpus()[0].cr3, None);
            } else {
                assert_eq!(d.cpus()[1].cr3, Some(0x5678000));
                assert_eq!(d.cpus()[0].kernel_gs_base, Some(0xabc));
            }
            assert_eq!(
                d.vmcoreinfo().and_then(|v| v.osrelease()),
                Some("6.1.0-test")
            );
            assert_eq!(
                d.ranges(),
                &[
                    PhysRange {
                        start: Pa(0x1000),
                        len: 3 * 4096
                    },
                    PhysRange {
                        start: Pa(0x10_0000),
                        len: 3 * 4096
                    }
                ]
            );
            assert_eq!(d.stored_pages(), 5);
            let mut buf = vec![0u8; 3 * 4096];
            d.read_phys(Pa(0x1000), &mut buf).expect("read a");
            assert_eq!(buf, a);
            let mut buf = vec![0u8; 100];
            d.read_phys(Pa(0x1000 + 4096 - 50), &mut buf)
                .expect("cross page");
            assert_eq!(&buf[..], &a[4096 - 50..4096 + 50]);
            let mut buf = vec![0xffu8; 200];
            d.read_phys(Pa(0x10_0000 + 2 * 4096 - 100), &mut buf)
                .expect("into zero tail");
            assert_eq!(&buf[..100], &b[2 * 4096 - 100..]);
            assert!(buf[100..].iter().all(|&x| x == 0));
            assert_eq!(
                d.read_phys(Pa(0x10_0000 + 3 * 4096 - 4), &mut [0u8; 8]),
                Err(MemoryError::NotInDump { pa: Pa(0x10_3000) })
            );
            assert_eq!(
                d.read_phys(Pa(0), &mut [0u8; 8]),
                Err(MemoryError::NotInDump { pa: Pa(0) })
            );
            assert!(d.is_present(Pfn(1)));
            assert!(!d.is_present(Pfn(4)));
        }
    }

    #[test]
    fn segment_past_end_is_truncated() {
        let (file, _, _) = sample(Layout::Kdump);
        let cut = file.len() - 4096;
        let d = ElfDump::from_bytes(file[..cut].to_vec()).expect("headers intact");
        assert_eq!(
            d.read_phys(Pa(0x2000 + 4095), &mut [0u8; 2]),
            Err(MemoryError::Truncated { pa: Pa(0x3000) })
        );
        assert!(d.read_phys(Pa(0x1000), &mut [0u8; 4096]).is_ok());
    }

    #[test]
    fn overlapping_segments() {
        let a = pattern(3, 4 * 4096);
        let b = pattern(4, 4096);
        let file = core(
            Layout::Kdump,
            &[],
            &[
                Seg {
                    paddr: 0,
                    data: &a,
                    zero_tail: 0,
                },
                Seg {
                    paddr: 0x1000,
                    data: &b,
                    zero_tail: 0,
                },
            ],
        );
        let d = ElfDump::from_bytes(file).expect("valid");
        let mut buf = [0u8; 16];
        d.read_phys(Pa(0x3000), &mut buf)
            .expect("covered by the long segment");
        assert_eq!(&buf[..], &a[0x3000..0x3010]);
        assert_eq!(d.ranges().len(), 1);
    }

    #[test]
    fn cut_and_corrupt_never_panic() {
        for layout in [Layout::Kdump, Layout::Qemu, Layout::QemuXnum] {
            let (file, _, _) = sample(layout);
            for cut in (0..file.len())
                .step_by(7)
                .chain([0, 4, 63, 64, 127, 128, 200, 300])
            {
                let cut = cut.min(file.len());
                if let Ok(d) = ElfDump::from_bytes(file[..cut].to_vec()) {
                    let _ = d.read_phys(Pa(0x1000), &mut [0u8; 4096]);
                    let _ = d.read_phys(Pa(0x10_0000), &mut [0u8; 8192]);
                } else if cut < 64 {
                    assert!(ElfDump::from_bytes(file[..cut].to_vec()).is_err());
                }
            }
            for at in 0..400 {
                for v in [0u8, 0xff, 0x7f, 0x80] {
                    let mut f = file.clone();
                    f[at] = v;
                    if let Ok(d) = ElfDump::from_bytes(f) {
                        let _ = d.read_phys(Pa(0x1000), &mut [0u8; 64]);
                        let _ = d.read_phys(Pa(u64::MAX - 3), &mut [0u8; 64]);
                    }
                }
            }
        }
        assert!(ElfDump::from_bytes(vec![]).is_err());
    }
}
