//! ELF note parsing shared by the ELF and kdump readers: walks `Elf64_Nhdr` records and decodes
//! `NT_PRSTATUS` ("CORE", type 1: x86_64 `struct elf_prstatus`), `VMCOREINFO` and QEMU's per-CPU
//! `QEMUCPUState` note ("QEMU", type 0), then assembles one [`CpuState`] per CPU in note order.
//!
//! Must not import `debuginfo` or `arch`.

use super::source::le;
use super::{CpuState, VmcoreInfo, X86Regs};

/// Note type of `NT_PRSTATUS`.
pub const NT_PRSTATUS: u32 = 1;
/// Offset of `pr_pid` in x86_64 `struct elf_prstatus`: `pr_info` (siginfo: 12) + `pr_cursig` (2) +
/// pad (2) + `pr_sigpend` (8) + `pr_sighold` (8).
pub const PRSTATUS_PID_OFFSET: usize = 32;
/// Offset of `pr_reg` in x86_64 `struct elf_prstatus`: after pid, ppid, pgrp, sid (4 each) and
/// four `struct timeval` (16 each) (`include/linux/elfcore.h`).
pub const PRSTATUS_REG_OFFSET: usize = 112;
/// Number of `u64` in x86_64 `user_regs_struct` (`arch/x86/include/asm/user_64.h`).
pub const USER_REGS_COUNT: usize = 27;
/// Size of QEMU's `QEMUCPUState` up to and including `cr[5]` (version 1).
pub const QEMU_CPU_STATE_BASE_SIZE: usize = 432;
/// Offset of the optional `kernel_gs_base` field QEMU appends after `cr[5]` (present when the
/// note's `size` field says so; added without a version bump).
pub const QEMU_KERNEL_GS_BASE_OFFSET: usize = 432;

/// One ELF note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note<'a> {
    /// Name without its trailing NULs (e.g. `b"CORE"`).
    pub name: &'a [u8],
    /// `n_type`.
    pub n_type: u32,
    /// The descriptor bytes.
    pub desc: &'a [u8],
    /// Offset of the note header inside the buffer that was walked.
    pub offset: usize,
}

/// Iterator over the notes of a buffer; stops at the first malformed or all-zero header.
#[derive(Debug, Clone)]
pub struct NoteIter<'a> {
    data: &'a [u8],
    pos: usize,
    /// Set when the walk stopped on a malformed note (offset and reason).
    pub error: Option<(usize, &'static str)>,
}

/// Walks the notes in `data` (a PT_NOTE segment, or kdump's note area).
pub fn iter_notes(data: &[u8]) -> NoteIter<'_> {
    NoteIter {
        data,
        pos: 0,
        error: None,
    }
}

fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|v| v & !3)
}

impl<'a> Iterator for NoteIter<'a> {
    type Item = Note<'a>;

    fn next(&mut self) -> Option<Note<'a>> {
        if self.error.is_some() {
            return None;
        }
        let start = self.pos;
        let hdr = self.data.get(start..start.checked_add(12)?)?;
        let namesz = le::u32_at(hdr, 0)? as usize;
        let descsz = le::u32_at(hdr, 4)? as usize;
        let n_type = le::u32_at(hdr, 8)?;
        if namesz == 0 && descsz == 0 && n_type == 0 {
            return None; // zero padding after the last note
        }
        let name_at = start + 12;
        let Some(desc_at) = align4(namesz).and_then(|n| name_at.checked_add(n)) else {
            self.error = Some((start, "name size overflows"));
            return None;
        };
        let Some(next) = align4(descsz).and_then(|d| desc_at.checked_add(d)) else {
            self.error = Some((start, "descriptor size overflows"));
            return None;
        };
        let name = self.data.get(name_at..name_at.saturating_add(namesz));
        let desc = self.data.get(desc_at..desc_at.saturating_add(descsz));
        let (Some(name), Some(desc)) = (name, desc) else {
            self.error = Some((start, "note runs past the end of the note area"));
            return None;
        };
        let name_len = name.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        self.pos = next;
        Some(Note {
            name: name.get(..name_len).unwrap_or_default(),
            n_type,
            desc,
            offset: start,
        })
    }
}

/// Decodes an x86_64 `NT_PRSTATUS` descriptor into `(pr_pid, registers)`.
pub fn parse_prstatus(desc: &[u8]) -> Option<(u32, X86Regs)> {
    let pid = le::u32_at(desc, PRSTATUS_PID_OFFSET)?;
    let mut v = [0u64; USER_REGS_COUNT];
    for (i, slot) in v.iter_mut().enumerate() {
        *slot = le::u64_at(desc, PRSTATUS_REG_OFFSET + 8 * i)?;
    }
    let [r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs] =
        v;
    Some((
        pid,
        X86Regs {
            r15,
            r14,
            r13,
            r12,
            rbp,
            rbx,
            r11,
            r10,
            r9,
            r8,
            rax,
            rcx,
            rdx,
            rsi,
            rdi,
            orig_rax,
            rip,
            cs,
            eflags,
            rsp,
            ss,
            fs_base,
            gs_base,
            ds,
            es,
            fs,
            gs,
        },
    ))
}

/// One segment register / descriptor-table register from QEMU's CPU-state note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QemuSegment {
    /// Selector.
    pub selector: u32,
    /// Limit.
    pub limit: u32,
    /// Descriptor flags.
    pub flags: u32,
    /// Base address.
    pub base: u64,
}

/// QEMU's `QEMUCPUState` note (`target/i386/arch_dump.c`), written by `dump-guest-memory` for each
/// virtual CPU after the `NT_PRSTATUS` notes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QemuCpuState {
    /// Structure version (1 so far).
    pub version: u32,
    /// Structure size as written; tells which optional trailing fields exist.
    pub size: u32,
    /// General registers in QEMU's order: rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8..r15.
    pub gpr: [u64; 16],
    /// Instruction pointer.
    pub rip: u64,
    /// Flags.
    pub rflags: u64,
    /// cs, ds, es, fs, gs, ss.
    pub segs: [QemuSegment; 6],
    /// LDT register.
    pub ldt: QemuSegment,
    /// Task register.
    pub tr: QemuSegment,
    /// GDT register.
    pub gdt: QemuSegment,
    /// IDT register.
    pub idt: QemuSegment,
    /// cr0..cr4.
    pub cr: [u64; 5],
    /// `MSR_KERNEL_GS_BASE`, when the note is long enough to hold it.
    pub kernel_gs_base: Option<u64>,
}

fn qemu_segment(d: &[u8], off: usize) -> Option<QemuSegment> {
    Some(QemuSegment {
        selector: le::u32_at(d, off)?,
        limit: le::u32_at(d, off + 4)?,
        flags: le::u32_at(d, off + 8)?,
        base: le::u64_at(d, off + 16)?,
    })
}

/// Decodes a QEMU CPU-state note descriptor.
pub fn parse_qemu_cpu_state(desc: &[u8]) -> Option<QemuCpuState> {
    let version = le::u32_at(desc, 0)?;
    let size = le::u32_at(desc, 4)?;
    let mut gpr = [0u64; 16];
    for (i, r) in gpr.iter_mut().enumerate() {
        *r = le::u64_at(desc, 8 + 8 * i)?;
    }
    let rip = le::u64_at(desc, 136)?;
    let rflags = le::u64_at(desc, 144)?;
    let mut segs = [QemuSegment::default(); 6];
    for (i, s) in segs.iter_mut().enumerate() {
        *s = qemu_segment(desc, 152 + 24 * i)?;
    }
    let ldt = qemu_segment(desc, 296)?;
    let tr = qemu_segment(desc, 320)?;
    let gdt = qemu_segment(desc, 344)?;
    let idt = qemu_segment(desc, 368)?;
    let mut cr = [0u64; 5];
    for (i, c) in cr.iter_mut().enumerate() {
        *c = le::u64_at(desc, 392 + 8 * i)?;
    }
    let kernel_gs_base = if size as usize >= QEMU_KERNEL_GS_BASE_OFFSET + 8 {
        le::u64_at(desc, QEMU_KERNEL_GS_BASE_OFFSET)
    } else {
        None
    };
    Some(QemuCpuState {
        version,
        size,
        gpr,
        rip,
        rflags,
        segs,
        ldt,
        tr,
        gdt,
        idt,
        cr,
        kernel_gs_base,
    })
}

impl QemuCpuState {
    /// The registers in `user_regs_struct` shape (orig_rax and fs/gs bases as QEMU knows them).
    pub fn to_regs(&self) -> X86Regs {
        let g = &self.gpr;
        let s = &self.segs;
        X86Regs {
            rax: g[0],
            rbx: g[1],
            rcx: g[2],
            rdx: g[3],
            rsi: g[4],
            rdi: g[5],
            rsp: g[6],
            rbp: g[7],
            r8: g[8],
            r9: g[9],
            r10: g[10],
            r11: g[11],
            r12: g[12],
            r13: g[13],
            r14: g[14],
            r15: g[15],
            orig_rax: 0,
            rip: self.rip,
            eflags: self.rflags,
            cs: u64::from(s[0].selector),
            ds: u64::from(s[1].selector),
            es: u64::from(s[2].selector),
            fs: u64::from(s[3].selector),
            gs: u64::from(s[4].selector),
            ss: u64::from(s[5].selector),
            fs_base: s[3].base,
            gs_base: s[4].base,
        }
    }
}

/// What the notes of a dump said.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    /// One entry per CPU, in note order.
    pub cpus: Vec<CpuState>,
    /// The VMCOREINFO note, if any.
    pub vmcoreinfo: Option<VmcoreInfo>,
    /// QEMU CPU-state notes, in note order.
    pub qemu: Vec<QemuCpuState>,
    /// Problems met while walking (malformed notes); the notes before them are kept.
    pub warnings: Vec<String>,
}

/// Parses every note in `data`.
///
/// CPUs come from the `NT_PRSTATUS` notes in order. When QEMU CPU-state notes are present (QEMU
/// writes all "CORE" notes, then all "QEMU" notes), the i-th one adds `cr3` and `kernel_gs_base` to
/// the i-th CPU, and `pid` is set to 0 because QEMU stores the 1-based CPU index in `pr_pid`, not
/// a task. QEMU notes with no matching PRSTATUS note become CPUs of their own.
pub fn parse_notes(data: &[u8]) -> Notes {
    let mut out = Notes::default();
    let mut prstatus: Vec<(u32, X86Regs)> = Vec::new();
    let mut iter = iter_notes(data);
    for note in iter.by_ref() {
        match (note.name, note.n_type) {
            (b"CORE", NT_PRSTATUS) => match parse_prstatus(note.desc) {
                Some(p) => prstatus.push(p),
                None => out.warnings.push(format!(
                    "NT_PRSTATUS note at offset {:#x} too short ({} bytes)",
                    note.offset,
                    note.desc.len()
                )),
            },
            (b"VMCOREINFO", _) if out.vmcoreinfo.is_none() => {
                out.vmcoreinfo = Some(VmcoreInfo::parse(note.desc));
            }
            (b"QEMU", _) => match parse_qemu_cpu_state(note.desc) {
                Some(q) => out.qemu.push(q),
                None => out.warnings.push(format!(
                    "QEMU CPU-state note at offset {:#x} too short ({} bytes)",
                    note.offset,
                    note.desc.len()
                )),
            },
            _ => {}
        }
    }
    if let Some((at, why)) = iter.error {
        out.warnings.push(format!("note at offset {at:#x}: {why}"));
    }
    let from_qemu = !out.qemu.is_empty();
    let n = prstatus.len().max(out.qemu.len());
    for i in 0..n {
        let q = out.qemu.get(i);
        let (pid, regs) = match prstatus.get(i) {
            Some(&(pid, regs)) => (if from_qemu { 0 } else { pid }, regs),
            None => (0, q.map(QemuCpuState::to_regs).unwrap_or_default()),
        };
        out.cpus.push(CpuState {
            cpu: u32::try_from(i).unwrap_or(u32::MAX),
            pid,
            regs,
            cr3: q.map(|q| q.cr[3]),
            kernel_gs_base: q.and_then(|q| q.kernel_gs_base),
        });
    }
    out
}

/// Builders for synthetic notes (tests and fuzz seeds).
#[doc(hidden)]
pub mod build {
    /// One note with `name` (NUL added) of `n_type` holding `desc`, 4-byte padded.
    pub fn note(name: &str, n_type: u32, desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((name.len() + 1) as u32).to_le_bytes());
        v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        v.extend_from_slice(&n_type.to_le_bytes());
        v.extend_from_slice(name.as_bytes());
        v.push(0);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v.extend_from_slice(desc);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    /// An x86_64 NT_PRSTATUS descriptor (336 bytes) with `pid` and `regs[i] = base + i` in
    /// `user_regs_struct` order.
    pub fn prstatus(pid: u32, base: u64) -> Vec<u8> {
        let mut d = vec![0u8; 336];
        d[32..36].copy_from_slice(&pid.to_le_bytes());
        for i in 0..27u64 {
            let at = 112 + 8 * i as usize;
            d[at..at + 8].copy_from_slice(&(base + i).to_le_bytes());
        }
        d
    }

    /// A QEMU CPU-state descriptor with `cr3` and, when given, `kernel_gs_base`.
    pub fn qemu_cpu_state(rip: u64, cr3: u64, kernel_gs_base: Option<u64>) -> Vec<u8> {
        let size = if kernel_gs_base.is_some() { 440 } else { 432 };
        let mut d = vec![0u8; size];
        d[0..4].copy_from_slice(&1u32.to_le_bytes());
        d[4..8].copy_from_slice(&(size as u32).to_le_bytes());
        d[136..144].copy_from_slice(&rip.to_le_bytes());
        d[392 + 24..392 + 32].copy_from_slice(&cr3.to_le_bytes());
        if let Some(k) = kernel_gs_base {
            d[432..440].copy_from_slice(&k.to_le_bytes());
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    #[test]
    fn kdump_style_notes() {
        let mut buf = note("CORE", 1, &prstatus(1234, 100));
        buf.extend(note("CORE", 1, &prstatus(0, 200)));
        buf.extend(note(
            "VMCOREINFO",
            0,
            b"OSRELEASE=6.1.0\nKERNELOFFSET=1e000000\n",
        ));
        buf.extend([0u8; 24]);
        let n = parse_notes(&buf);
        assert!(n.warnings.is_empty(), "{:?}", n.warnings);
        assert_eq!(n.cpus.len(), 2);
        assert_eq!(n.cpus[0].pid, 1234);
        assert_eq!(n.cpus[0].regs.r15, 100);
        assert_eq!(n.cpus[0].regs.rip, 116);
        assert_eq!(n.cpus[0].regs.rsp, 119);
        assert_eq!(n.cpus[0].regs.gs, 126);
        assert_eq!(n.cpus[1].cpu, 1);
        assert_eq!(n.cpus[1].cr3, None);
        let vi = n.vmcoreinfo.expect("vmcoreinfo");
        assert_eq!(vi.osrelease(), Some("6.1.0"));
        assert_eq!(vi.kernel_offset(), Some(0x1e000000));
    }

    #[test]
    fn qemu_style_notes() {
        let mut buf = note("CORE", 1, &prstatus(1, 10));
        buf.extend(note("CORE", 1, &prstatus(2, 20)));
        buf.extend(note(
            "QEMU",
            0,
            &qemu_cpu_state(0x1111, 0xaaa000, Some(0xffff8880)),
        ));
        buf.extend(note("QEMU", 0, &qemu_cpu_state(0x2222, 0xbbb000, None)));
        let n = parse_notes(&buf);
        assert_eq!(n.cpus.len(), 2);
        assert_eq!(n.cpus[0].pid, 0);
        assert_eq!(n.cpus[0].cr3, Some(0xaaa000));
        assert_eq!(n.cpus[0].kernel_gs_base, Some(0xffff8880));
        assert_eq!(n.cpus[1].cr3, Some(0xbbb000));
        assert_eq!(n.cpus[1].kernel_gs_base, None);
        assert_eq!(n.qemu[1].rip, 0x2222);
    }

    #[test]
    fn malformed_notes_stop_cleanly() {
        let good = note("CORE", 1, &prstatus(7, 0));
        let mut buf = good.clone();
        buf.extend(note("CORE", 1, &prstatus(8, 0)));
        for cut in 0..buf.len() {
            let n = parse_notes(&buf[..cut]);
            assert!(n.cpus.len() <= 2);
        }
        let n = parse_notes(&buf[..good.len() + 100]);
        assert_eq!(n.cpus.len(), 1);
        assert_eq!(n.warnings.len(), 1);
        let mut huge = good;
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_notes(&huge).cpus.is_empty());
        let short = note("CORE", 1, &[0u8; 100]);
        assert_eq!(parse_notes(&short).warnings.len(), 1);
    }
}
