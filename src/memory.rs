//! Memory access traits: `PhysReader` reads physical bytes (implemented by every dump format),
//! `MemoryReader` reads kernel virtual bytes (implemented by the session on top of an `Arch`).
//! `MockMemory` serves tests.
//!
//! Must not import `dump` or `debuginfo`.

use crate::addr::{Kva, Pa, Pfn};
use std::collections::BTreeMap;
use thiserror::Error;

/// Why a read of dump memory failed. Every variant names the address it was about.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MemoryError {
    /// The physical address lies outside every range the dump holds (a hole).
    #[error("physical address {pa:#x} is not in the dump")]
    NotInDump {
        /// The address asked for.
        pa: Pa,
    },
    /// The page exists in the machine but the dump tool left it out (e.g. `makedumpfile -d 31`).
    #[error("page frame {pfn:#x} was excluded from the dump")]
    PageExcluded {
        /// The frame that was filtered out.
        pfn: Pfn,
    },
    /// A page-table entry on the way to `kva` was not present.
    #[error("virtual address {kva:#x} is not mapped (no {level} entry)")]
    NotPresent {
        /// The virtual address being translated.
        kva: Kva,
        /// Name of the level whose entry was empty (`pgd`, `p4d`, `pud`, `pmd`, `pte`).
        level: &'static str,
    },
    /// The virtual address is not canonical or outside the kernel half.
    #[error("invalid kernel address {kva:#x}")]
    InvalidAddress {
        /// The address.
        kva: Kva,
    },
    /// A compressed page failed to decompress or had a bad size.
    #[error("page frame {pfn:#x} is corrupt in the dump: {reason}")]
    CorruptPage {
        /// The frame.
        pfn: Pfn,
        /// What was wrong.
        reason: String,
    },
    /// The dump file is shorter than its headers claim.
    #[error("dump file truncated: data for physical address {pa:#x} lies past its end")]
    Truncated {
        /// The address whose data is missing.
        pa: Pa,
    },
    /// A member's address (a structure's address read from the dump plus the member's offset)
    /// does not fit in 64 bits: the structure pointer was garbage.
    #[error("address {base:#x} + {off:#x} overflows (a corrupt pointer?)")]
    AddressOverflow {
        /// The structure's address.
        base: Kva,
        /// The member's offset.
        off: u64,
    },
    /// A read whose length came from the dump asked for more than any kernel object holds.
    #[error(
        "refusing to read {len} bytes at {kva:#x} (more than {MAX_READ_VEC}; a corrupt length?)"
    )]
    TooLarge {
        /// Where the read would start.
        kva: Kva,
        /// The length asked for.
        len: usize,
    },
}

/// The address of the member at `off` in the structure at `base` (both often read from the
/// dump): an error instead of a silent wrap when the sum does not fit.
pub fn field(base: u64, off: u64) -> Result<Kva, MemoryError> {
    base.checked_add(off)
        .map(Kva)
        .ok_or(MemoryError::AddressOverflow {
            base: Kva(base),
            off,
        })
}

/// The most [`ReadExt::read_vec`] reads at once: lengths often come from the dump itself (a
/// symbol table's size, a string offset), and a corrupt one must not allocate gigabytes.
pub const MAX_READ_VEC: usize = 256 << 20;

/// Reads physical memory from a dump.
pub trait PhysReader: Send + Sync {
    /// Fills `buf` with the bytes at physical address `pa`. Reads may cross page boundaries.
    fn read_phys(&self, pa: Pa, buf: &mut [u8]) -> Result<(), MemoryError>;

    /// Whether the page frame is present in the dump (neither a hole nor excluded).
    fn is_present(&self, pfn: Pfn) -> bool {
        let mut b = [0u8; 1];
        pfn.pa()
            .is_some_and(|pa| self.read_phys(pa, &mut b).is_ok())
    }
}

/// Reads kernel virtual memory.
pub trait MemoryReader: Send + Sync {
    /// Fills `buf` with the bytes at kernel virtual address `kva`.
    fn read_virt(&self, kva: Kva, buf: &mut [u8]) -> Result<(), MemoryError>;
}

/// Little-endian integer helpers on any [`MemoryReader`].
pub trait ReadExt {
    /// Reads a little-endian `u64`.
    fn read_u64(&self, kva: Kva) -> Result<u64, MemoryError>;
    /// Reads a little-endian `u32`.
    fn read_u32(&self, kva: Kva) -> Result<u32, MemoryError>;
    /// Reads a little-endian `u16`.
    fn read_u16(&self, kva: Kva) -> Result<u16, MemoryError>;
    /// Reads one byte.
    fn read_u8(&self, kva: Kva) -> Result<u8, MemoryError>;
    /// Reads `len` bytes into a new vector.
    /// Fails with [`MemoryError::TooLarge`] past [`MAX_READ_VEC`] bytes.
    fn read_vec(&self, kva: Kva, len: usize) -> Result<Vec<u8>, MemoryError>;
    /// Reads a NUL-terminated string of at most `max` bytes (lossy UTF-8).
    fn read_cstring(&self, kva: Kva, max: usize) -> Result<String, MemoryError>;
}

impl<T: MemoryReader + ?Sized> ReadExt for T {
    fn read_u64(&self, kva: Kva) -> Result<u64, MemoryError> {
        let mut b = [0u8; 8];
        self.read_virt(kva, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn read_u32(&self, kva: Kva) -> Result<u32, MemoryError> {
        let mut b = [0u8; 4];
        self.read_virt(kva, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn read_u16(&self, kva: Kva) -> Result<u16, MemoryError> {
        let mut b = [0u8; 2];
        self.read_virt(kva, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }
    fn read_u8(&self, kva: Kva) -> Result<u8, MemoryError> {
        let mut b = [0u8; 1];
        self.read_virt(kva, &mut b)?;
        Ok(b[0])
    }
    fn read_vec(&self, kva: Kva, len: usize) -> Result<Vec<u8>, MemoryError> {
        if len > MAX_READ_VEC {
            return Err(MemoryError::TooLarge { kva, len });
        }
        let mut v = vec![0u8; len];
        self.read_virt(kva, &mut v)?;
        Ok(v)
    }
    fn read_cstring(&self, kva: Kva, max: usize) -> Result<String, MemoryError> {
        // Read page by page so a string near the end of a mapped page does not fail
        // because the following page is unmapped.
        let mut out = Vec::new();
        let mut cur = kva;
        while out.len() < max {
            let to_page_end = 4096 - (cur.0 & 4095) as usize;
            let chunk = to_page_end.min(max - out.len());
            let mut buf = vec![0u8; chunk];
            self.read_virt(cur, &mut buf)?;
            if let Some(nul) = buf.iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..nul]);
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            out.extend_from_slice(&buf);
            cur = cur.wrapping_add(chunk as u64);
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// Sparse in-memory physical and virtual memory for unit tests.
#[derive(Default, Clone)]
pub struct MockMemory {
    bytes: BTreeMap<u64, u8>,
}

impl MockMemory {
    /// Empty memory: every read fails.
    pub fn new() -> Self {
        Self::default()
    }
    /// Stores `data` at address `at`.
    pub fn write(&mut self, at: u64, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            self.bytes.insert(at + i as u64, *b);
        }
    }
    /// Stores a little-endian `u64` at `at`.
    pub fn write_u64(&mut self, at: u64, v: u64) {
        self.write(at, &v.to_le_bytes());
    }
    fn read(&self, at: u64, buf: &mut [u8]) -> Option<()> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = *self.bytes.get(&at.checked_add(i as u64)?)?;
        }
        Some(())
    }
}

impl PhysReader for MockMemory {
    fn read_phys(&self, pa: Pa, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.read(pa.0, buf).ok_or(MemoryError::NotInDump { pa })
    }
}

impl MemoryReader for MockMemory {
    fn read_virt(&self, kva: Kva, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.read(kva.0, buf)
            .ok_or(MemoryError::NotPresent { kva, level: "mock" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_addresses_never_wrap() {
        assert_eq!(
            field(0xffff_8880_0000_0000, 0x10),
            Ok(Kva(0xffff_8880_0000_0010))
        );
        let e = field(u64::MAX - 4, 8).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
    }

    #[test]
    fn read_vec_refuses_lengths_no_object_has() {
        let mut m = MockMemory::new();
        m.write(0x1000, &[7u8; 64]);
        assert_eq!(m.read_vec(Kva(0x1000), 64).map(|v| v.len()), Ok(64));
        let huge = (u32::MAX as usize) + 256;
        let e = m.read_vec(Kva(0x1000), huge).unwrap_err();
        assert_eq!(
            e,
            MemoryError::TooLarge {
                kva: Kva(0x1000),
                len: huge
            }
        );
        assert!(e.to_string().contains("0x1000"), "{e}");
    }

    #[test]
    fn mock_reads_and_strings() {
        let mut m = MockMemory::new();
        m.write(0x1000, &[0u8; 4096]);
        m.write(0x1000, b"hello\0world");
        m.write_u64(0x2000, 0xdead_beef);
        assert_eq!(
            m.read_cstring(Kva(0x1000), 64).ok().as_deref(),
            Some("hello")
        );
        assert_eq!(m.read_u64(Kva(0x2000)).ok(), Some(0xdead_beef));
        assert!(matches!(
            m.read_phys(Pa(0x5000), &mut [0u8; 4]),
            Err(MemoryError::NotInDump { pa: Pa(0x5000) })
        ));
    }
}
