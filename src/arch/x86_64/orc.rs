//! ORC unwind tables: decoding of `struct orc_entry` and lookup by instruction pointer.
//!
//! The kernel's `.orc_unwind_ip` section holds one `s32` per entry, each relative to its own
//! address; `.orc_unwind` holds the matching 6-byte `struct orc_entry` (facts from
//! `arch/x86/include/asm/orc_types.h`). Module tables (`mod->arch.orc_unwind_ip`) use the
//! same encoding. Must not import `dump`, `session` or `commands`.

use crate::debuginfo::Vmlinux;
use thiserror::Error;

/// `ORC_REG_UNDEFINED`: no CFA; for an `end` entry, the end of the stack.
pub const ORC_REG_UNDEFINED: u8 = 0;
/// `ORC_REG_PREV_SP`: the value is relative to the previous frame's CFA.
pub const ORC_REG_PREV_SP: u8 = 1;
/// `ORC_REG_DX`.
pub const ORC_REG_DX: u8 = 2;
/// `ORC_REG_DI`.
pub const ORC_REG_DI: u8 = 3;
/// `ORC_REG_BP`.
pub const ORC_REG_BP: u8 = 4;
/// `ORC_REG_SP`.
pub const ORC_REG_SP: u8 = 5;
/// `ORC_REG_R10`.
pub const ORC_REG_R10: u8 = 6;
/// `ORC_REG_R13`.
pub const ORC_REG_R13: u8 = 7;
/// `ORC_REG_BP_INDIRECT`: CFA = *(bp + offset).
pub const ORC_REG_BP_INDIRECT: u8 = 8;
/// `ORC_REG_SP_INDIRECT`: CFA = *sp + offset.
pub const ORC_REG_SP_INDIRECT: u8 = 9;

/// Size of one `struct orc_entry`.
pub const ORC_ENTRY_SIZE: usize = 6;

/// How the previous frame is found from this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrcType {
    /// A normal call frame: the return address is at CFA - 8.
    Call,
    /// A full `struct pt_regs` starts at the CFA (exception or syscall entry).
    Regs,
    /// Only the IRET frame (`ip`, `cs`, `flags`, `sp`, `ss`) is at the CFA.
    RegsPartial,
    /// No unwind information (6.4+ `ORC_TYPE_UNDEFINED`).
    Undefined,
    /// The end of the stack (6.4+ `ORC_TYPE_END_OF_STACK`; before, the `end` bit).
    EndOfStack,
}

/// The bitfield layout of `struct orc_entry`, which depends on the kernel version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrcLayout {
    /// Before 6.4: `sp_reg:4, bp_reg:4, type:2, end:1`; types CALL=0, REGS=1, REGS_PARTIAL=2.
    Pre6_4,
    /// 6.4 and later (commit "x86/unwind/orc: Add 'signal' field to ORC metadata" and the
    /// `ORC_TYPE_UNDEFINED`/`END_OF_STACK` rework): `sp_reg:4, bp_reg:4, type:3, signal:1`;
    /// types UNDEFINED=0, END_OF_STACK=1, CALL=2, REGS=3, REGS_PARTIAL=4.
    Since6_4,
}

impl OrcLayout {
    /// The layout used by kernel `major.minor`.
    pub fn for_version(major: u32, minor: u32) -> Self {
        if (major, minor) >= (6, 4) {
            OrcLayout::Since6_4
        } else {
            OrcLayout::Pre6_4
        }
    }
}

/// One decoded `struct orc_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrcEntry {
    /// Offset added to the CFA base register.
    pub sp_offset: i16,
    /// Offset of the saved frame pointer from the CFA (or from bp).
    pub bp_offset: i16,
    /// Base register of the CFA (`ORC_REG_*`).
    pub sp_reg: u8,
    /// Where the caller's bp is (`ORC_REG_*`).
    pub bp_reg: u8,
    /// Frame type.
    pub kind: OrcType,
    /// The frame was interrupted (not a call): look up `ip` itself, not `ip - 1` (6.4+ bit;
    /// before 6.4 derived from the type, as the kernel did).
    pub signal: bool,
}

impl OrcEntry {
    /// Decodes 6 bytes of `struct orc_entry` in `layout`.
    pub fn decode(b: [u8; ORC_ENTRY_SIZE], layout: OrcLayout) -> Self {
        let sp_offset = i16::from_le_bytes([b[0], b[1]]);
        let bp_offset = i16::from_le_bytes([b[2], b[3]]);
        let w = u16::from_le_bytes([b[4], b[5]]);
        let sp_reg = (w & 0xf) as u8;
        let bp_reg = ((w >> 4) & 0xf) as u8;
        let (kind, signal) = match layout {
            OrcLayout::Pre6_4 => {
                let t = (w >> 8) & 0x3;
                let end = (w >> 10) & 1 == 1;
                let kind = match t {
                    0 => OrcType::Call,
                    1 => OrcType::Regs,
                    2 => OrcType::RegsPartial,
                    _ => OrcType::Undefined,
                };
                // Before 6.4 an end-of-stack entry had sp_reg UNDEFINED and the end bit.
                let kind = if end && sp_reg == ORC_REG_UNDEFINED {
                    OrcType::EndOfStack
                } else {
                    kind
                };
                (kind, matches!(kind, OrcType::Regs | OrcType::RegsPartial))
            }
            OrcLayout::Since6_4 => {
                let t = (w >> 8) & 0x7;
                let signal = (w >> 11) & 1 == 1;
                let kind = match t {
                    1 => OrcType::EndOfStack,
                    2 => OrcType::Call,
                    3 => OrcType::Regs,
                    4 => OrcType::RegsPartial,
                    _ => OrcType::Undefined,
                };
                (kind, signal)
            }
        };
        Self {
            sp_offset,
            bp_offset,
            sp_reg,
            bp_reg,
            kind,
            signal,
        }
    }

    /// Whether this entry carries no information (an "undefined" entry marking a gap).
    pub fn is_undefined(&self) -> bool {
        self.kind == OrcType::Undefined
            || (self.sp_reg == ORC_REG_UNDEFINED && self.kind != OrcType::EndOfStack)
    }
}

/// Why an ORC table could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OrcError {
    /// The two sections disagree on the number of entries.
    #[error(
        "ORC tables disagree: {ips} IPs in .orc_unwind_ip but {entries} entries in .orc_unwind"
    )]
    CountMismatch {
        /// Entries in the IP table.
        ips: usize,
        /// Entries in the ORC table.
        entries: usize,
    },
    /// A section is missing.
    #[error("no {0} section in the vmlinux")]
    Missing(&'static str),
}

/// A sorted ORC table for one address range (the kernel image or one module).
#[derive(Debug, Clone, Default)]
pub struct OrcTable {
    ips: Vec<u64>,
    entries: Vec<OrcEntry>,
}

impl OrcTable {
    /// Builds a table from the raw sections: `ip_bytes` (s32 each, relative to its own
    /// address, the first at `ip_base`) and `orc_bytes` (6 bytes each). Addresses are those of
    /// `ip_base`'s address space (link-time for a vmlinux).
    pub fn parse(
        ip_base: u64,
        ip_bytes: &[u8],
        orc_bytes: &[u8],
        layout: OrcLayout,
    ) -> Result<Self, OrcError> {
        let n = ip_bytes.len() / 4;
        let m = orc_bytes.len() / ORC_ENTRY_SIZE;
        if n != m {
            return Err(OrcError::CountMismatch { ips: n, entries: m });
        }
        let mut pairs: Vec<(u64, OrcEntry)> = ip_bytes
            .chunks_exact(4)
            .zip(orc_bytes.chunks_exact(ORC_ENTRY_SIZE))
            .enumerate()
            .map(|(i, (ip, e))| {
                let rel = i32::from_le_bytes([ip[0], ip[1], ip[2], ip[3]]);
                let at = ip_base.wrapping_add(i as u64 * 4);
                let mut b = [0u8; ORC_ENTRY_SIZE];
                b.copy_from_slice(e);
                (
                    at.wrapping_add(rel as i64 as u64),
                    OrcEntry::decode(b, layout),
                )
            })
            .collect();
        // The build sorts the tables (scripts/sorttable); keep the code robust if it did not.
        if !pairs.windows(2).all(|w| w[0].0 <= w[1].0) {
            pairs.sort_by_key(|p| p.0);
        }
        let (ips, entries) = pairs.into_iter().unzip();
        Ok(Self { ips, entries })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.ips.len()
    }
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ips.is_empty()
    }
    /// Lowest and highest IP covered.
    pub fn range(&self) -> Option<(u64, u64)> {
        Some((*self.ips.first()?, *self.ips.last()?))
    }

    /// The entry covering `ip` (the last entry whose IP is ≤ `ip`), in the table's address
    /// space.
    pub fn lookup(&self, ip: u64) -> Option<&OrcEntry> {
        let idx = self.ips.partition_point(|&x| x <= ip);
        let i = idx.checked_sub(1)?;
        self.entries.get(i)
    }
}

/// The kernel image's ORC table (link-time addresses) and the text range it covers:
/// `[_stext, _einittext)` (init text, freed after boot, may still be on the idle task's
/// stack), else `[_stext, _etext)`, else the table's own range.
pub fn vmlinux_table(v: &Vmlinux, layout: OrcLayout) -> Result<(OrcTable, (u64, u64)), OrcError> {
    let ip_sec = v
        .section(".orc_unwind_ip")
        .ok_or(OrcError::Missing(".orc_unwind_ip"))?;
    let ips = v
        .section_data(".orc_unwind_ip")
        .ok_or(OrcError::Missing(".orc_unwind_ip"))?;
    let orcs = v
        .section_data(".orc_unwind")
        .ok_or(OrcError::Missing(".orc_unwind"))?;
    let table = OrcTable::parse(ip_sec.addr, ips, orcs, layout)?;
    let sym = |n: &str| v.symbols().lookup(n).map(|x| x.addr);
    let end = sym("_einittext").or_else(|| sym("_etext"));
    let text = match (sym("_stext"), end) {
        (Some(a), Some(b)) => (a, b),
        _ => table.range().map(|(a, b)| (a, b + 1)).unwrap_or((0, 0)),
    };
    Ok((table, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(sp_reg: u16, bp_reg: u16, ty: u16, end: u16) -> [u8; 2] {
        (sp_reg | bp_reg << 4 | ty << 8 | end << 10).to_le_bytes()
    }

    #[test]
    fn decodes_pre_6_4() {
        let w = word(ORC_REG_SP as u16, ORC_REG_PREV_SP as u16, 0, 0);
        let e = OrcEntry::decode([16, 0, 0xf0, 0xff, w[0], w[1]], OrcLayout::Pre6_4);
        assert_eq!(e.sp_offset, 16);
        assert_eq!(e.bp_offset, -16);
        assert_eq!(e.sp_reg, ORC_REG_SP);
        assert_eq!(e.bp_reg, ORC_REG_PREV_SP);
        assert_eq!(e.kind, OrcType::Call);
        assert!(!e.signal);
        let w = word(ORC_REG_SP as u16, 0, 1, 0);
        let e = OrcEntry::decode([0, 0, 0, 0, w[0], w[1]], OrcLayout::Pre6_4);
        assert_eq!(e.kind, OrcType::Regs);
        assert!(e.signal);
        let w = word(ORC_REG_SP as u16, 0, 2, 0);
        let e = OrcEntry::decode([0, 0, 0, 0, w[0], w[1]], OrcLayout::Pre6_4);
        assert_eq!(e.kind, OrcType::RegsPartial);
        let w = word(0, 0, 1, 1);
        let e = OrcEntry::decode([0, 0, 0, 0, w[0], w[1]], OrcLayout::Pre6_4);
        assert_eq!(e.kind, OrcType::EndOfStack);
        let e = OrcEntry::decode([0; 6], OrcLayout::Pre6_4);
        assert!(e.is_undefined());
    }

    #[test]
    fn decodes_6_4() {
        // type 3 = REGS, signal bit 11.
        let w: u16 = ORC_REG_SP as u16 | 3 << 8 | 1 << 11;
        let b = w.to_le_bytes();
        let e = OrcEntry::decode([8, 0, 0, 0, b[0], b[1]], OrcLayout::Since6_4);
        assert_eq!(e.kind, OrcType::Regs);
        assert!(e.signal);
        let w: u16 = 1 << 8;
        let b = w.to_le_bytes();
        let e = OrcEntry::decode([0, 0, 0, 0, b[0], b[1]], OrcLayout::Since6_4);
        assert_eq!(e.kind, OrcType::EndOfStack);
        assert_eq!(OrcLayout::for_version(6, 1), OrcLayout::Pre6_4);
        assert_eq!(OrcLayout::for_version(6, 4), OrcLayout::Since6_4);
    }

    #[test]
    fn relative_ips_and_lookup() {
        // Three entries at base 0x1000: IPs 0x2000, 0x2010, 0x2020 (each relative to itself).
        let base = 0x1000u64;
        let mut ips = Vec::new();
        for (i, ip) in [0x2000u64, 0x2010, 0x2020].iter().enumerate() {
            let rel = (*ip as i64 - (base as i64 + 4 * i as i64)) as i32;
            ips.extend_from_slice(&rel.to_le_bytes());
        }
        let mut orcs = Vec::new();
        for off in [8i16, 16, 24] {
            let w = word(ORC_REG_SP as u16, 0, 0, 0);
            orcs.extend_from_slice(&off.to_le_bytes());
            orcs.extend_from_slice(&[0, 0, w[0], w[1]]);
        }
        let t = OrcTable::parse(base, &ips, &orcs, OrcLayout::Pre6_4).expect("parses");
        assert_eq!(t.len(), 3);
        assert!(t.lookup(0x1fff).is_none());
        assert_eq!(t.lookup(0x2000).map(|e| e.sp_offset), Some(8));
        assert_eq!(t.lookup(0x201f).map(|e| e.sp_offset), Some(16));
        assert_eq!(t.lookup(0x9000).map(|e| e.sp_offset), Some(24));
        assert!(OrcTable::parse(base, &ips, &orcs[..6], OrcLayout::Pre6_4).is_err());
    }
}
