//! Random access to the bytes of a dump image: [`ByteSource`] is what the format readers parse,
//! whether the image is a plain file mapped read-only ([`Bytes`]) or the logical image behind a
//! makedumpfile flattened stream (`flattened::FlattenedSource`).
//!
//! Must not import `debuginfo` or `arch`.

use std::fs::File;
use std::ops::Deref;
use thiserror::Error;

/// Why a read from a [`ByteSource`] failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The range asked for runs past the end of the image.
    #[error("read of {len} bytes at offset {offset:#x} runs past the end of the image ({size:#x} bytes)")]
    OutOfRange {
        /// First byte asked for.
        offset: u64,
        /// Number of bytes asked for.
        len: u64,
        /// Size of the image.
        size: u64,
    },
}

/// Random read access to a dump image.
pub trait ByteSource: Send + Sync {
    /// Length of the image in bytes (the logical length for a flattened stream).
    fn len(&self) -> u64;

    /// Whether the image is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of bytes actually stored in the file behind the image. For a flattened stream this
    /// can be far less than [`ByteSource::len`]; readers use it to refuse allocations that no
    /// stored data could back.
    fn stored_len(&self) -> u64 {
        self.len()
    }

    /// Size of the file behind the image on disk (what [`crate::dump::Dump::file_size`] reports).
    fn file_len(&self) -> u64 {
        self.len()
    }

    /// Whether the image is whole: false for a flattened stream that ends before its end marker.
    fn complete(&self) -> bool {
        true
    }

    /// Fills `buf` with the bytes at `offset`. Fails without touching more than `buf` when the range
    /// leaves the image.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), SourceError>;

    /// Borrows `len` bytes at `offset` without copying, when the source can (contiguous storage).
    fn slice(&self, _offset: u64, _len: usize) -> Option<&[u8]> {
        None
    }
}

/// The bytes of a whole file: a read-only memory map, or an owned buffer (tests and fuzzing).
pub enum Bytes {
    /// A read-only mapping of a file.
    Mapped(memmap2::Mmap),
    /// Bytes held in memory.
    Owned(Vec<u8>),
}

impl Bytes {
    /// Maps `file` read-only. An empty file gives an empty owned buffer (an empty mapping is not
    /// allowed by the OS).
    pub fn map(file: &File) -> std::io::Result<Self> {
        if file.metadata()?.len() == 0 {
            return Ok(Bytes::Owned(Vec::new()));
        }
        // SAFETY: the mapping is read-only and private to this process; the dump file is not
        // expected to change while it is being analysed (a concurrent truncation would raise
        // SIGBUS, as with every mmap-based dump reader).
        let map = unsafe { memmap2::Mmap::map(file)? };
        Ok(Bytes::Mapped(map))
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bytes::Mapped(m) => write!(f, "Bytes::Mapped({} bytes)", m.len()),
            Bytes::Owned(v) => write!(f, "Bytes::Owned({} bytes)", v.len()),
        }
    }
}

/// The byte range `[offset, offset + len)` of `data`, or `None` when it leaves `data`.
pub(crate) fn sub(data: &[u8], offset: u64, len: usize) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(len)?;
    data.get(start..end)
}

impl ByteSource for Bytes {
    fn len(&self) -> u64 {
        self.deref().len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), SourceError> {
        let src = sub(self, offset, buf.len()).ok_or(SourceError::OutOfRange {
            offset,
            len: buf.len() as u64,
            size: ByteSource::len(self),
        })?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn slice(&self, offset: u64, len: usize) -> Option<&[u8]> {
        sub(self, offset, len)
    }
}

/// Little-endian field readers over a byte slice; `None` when the field leaves the slice.
pub(crate) mod le {
    /// `u16` at `off`.
    pub fn u16_at(b: &[u8], off: usize) -> Option<u16> {
        let s = b.get(off..off.checked_add(2)?)?;
        Some(u16::from_le_bytes(s.try_into().ok()?))
    }
    /// `u32` at `off`.
    pub fn u32_at(b: &[u8], off: usize) -> Option<u32> {
        let s = b.get(off..off.checked_add(4)?)?;
        Some(u32::from_le_bytes(s.try_into().ok()?))
    }
    /// `i32` at `off`.
    pub fn i32_at(b: &[u8], off: usize) -> Option<i32> {
        u32_at(b, off).map(|v| v as i32)
    }
    /// `u64` at `off`.
    pub fn u64_at(b: &[u8], off: usize) -> Option<u64> {
        let s = b.get(off..off.checked_add(8)?)?;
        Some(u64::from_le_bytes(s.try_into().ok()?))
    }
    /// `i64` at `off`.
    pub fn i64_at(b: &[u8], off: usize) -> Option<i64> {
        u64_at(b, off).map(|v| v as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_bytes_read_and_bounds() {
        let b = Bytes::Owned((0u8..16).collect());
        let mut buf = [0u8; 4];
        assert!(b.read_at(12, &mut buf).is_ok());
        assert_eq!(buf, [12, 13, 14, 15]);
        assert!(matches!(
            b.read_at(13, &mut buf),
            Err(SourceError::OutOfRange {
                offset: 13,
                len: 4,
                size: 16
            })
        ));
        assert!(b.read_at(u64::MAX, &mut buf).is_err());
        assert_eq!(b.slice(2, 2), Some(&[2u8, 3][..]));
        assert_eq!(b.slice(15, 2), None);
        assert_eq!(le::u32_at(&[1, 0, 0, 0, 9], 0), Some(1));
        assert_eq!(le::u32_at(&[1, 0, 0], 0), None);
        assert_eq!(le::u64_at(&[0; 8], usize::MAX), None);
    }
}
