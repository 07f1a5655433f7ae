//! makedumpfile's flattened stream (`makedumpfile -F`, QEMU `dump-guest-memory -z` kdump formats):
//! a 4096-byte `makedumpfile_header` ("makedumpfile", type, version; big-endian), then records of
//! `makedumpfile_data_header { offset: i64 BE, buf_size: i64 BE }` followed by `buf_size` bytes that
//! belong at `offset` of the logical image, ended by a record with offset = size = -1.
//!
//! [`FlattenedSource`] indexes the records once (later records overwrite earlier ones at the same
//! logical offsets, as `makedumpfile -R` would when rearranging) and then serves random access to
//! the logical image, so the kdump and ELF readers parse it exactly like a plain file.
//!
//! Must not import `debuginfo` or `arch`.

use super::source::{sub, ByteSource, Bytes, SourceError};
use std::collections::BTreeMap;
use thiserror::Error;

/// Signature at the start of a flattened stream.
pub const MAKEDUMPFILE_SIGNATURE: &[u8; 12] = b"makedumpfile";
/// Size of the stream header; the first record follows it.
pub const MAX_SIZE_MDF_HEADER: u64 = 4096;
/// `type` of a flattened-format header.
pub const TYPE_FLAT_HEADER: i64 = 1;
/// Size of one `makedumpfile_data_header`.
pub const DATA_HEADER_SIZE: u64 = 16;
/// Offset and size of the end-of-stream record.
pub const END_FLAG_FLAT_HEADER: i64 = -1;

/// Why a flattened stream could not be indexed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FlattenedError {
    /// The 4096-byte stream header is missing or cut short.
    #[error("stream header cut short: file has {size} bytes, header needs 4096")]
    ShortHeader {
        /// File size.
        size: u64,
    },
    /// The signature is not "makedumpfile".
    #[error("bad signature (not \"makedumpfile\")")]
    BadSignature,
    /// The header's type is not 1 (flattened format).
    #[error("unknown flattened header type {ty}")]
    BadType {
        /// The type found.
        ty: i64,
    },
    /// A record has a negative offset or size, or one that overflows the logical image.
    #[error("bad record at file offset {at:#x}: logical offset {offset}, size {size}")]
    BadRecord {
        /// File offset of the record header.
        at: u64,
        /// Its logical offset.
        offset: i64,
        /// Its data size.
        size: i64,
    },
}

/// One run of logical bytes stored contiguously in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extent {
    logical: u64,
    len: u64,
    file: u64,
}

impl Extent {
    fn end(&self) -> u64 {
        // Cannot overflow: every extent is checked against i64::MAX when indexed.
        self.logical.saturating_add(self.len)
    }
}

/// Random access to the logical image of a flattened stream.
pub struct FlattenedSource {
    data: Bytes,
    extents: Vec<Extent>,
    len: u64,
    stored: u64,
    records: u64,
    complete: bool,
    version: i64,
}

impl std::fmt::Debug for FlattenedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlattenedSource")
            .field("len", &self.len)
            .field("extents", &self.extents.len())
            .field("records", &self.records)
            .field("complete", &self.complete)
            .finish()
    }
}

/// Whether `head` (the first bytes of a file) starts a flattened stream.
pub fn is_flattened(head: &[u8]) -> bool {
    head.starts_with(MAKEDUMPFILE_SIGNATURE)
}

fn be_i64(b: &[u8], off: usize) -> Option<i64> {
    let s = b.get(off..off.checked_add(8)?)?;
    Some(i64::from_be_bytes(s.try_into().ok()?))
}

/// Non-overlapping logical extents; inserting a new one trims whatever it covers.
#[derive(Default)]
struct ExtentMap {
    map: BTreeMap<u64, (u64, u64)>, // logical start -> (len, file offset)
}

impl ExtentMap {
    fn insert(&mut self, logical: u64, len: u64, file: u64) {
        let end = logical.saturating_add(len);
        // Fast path: records usually arrive in increasing, non-overlapping order.
        let last_end = self
            .map
            .iter()
            .next_back()
            .map(|(s, (l, _))| s.saturating_add(*l));
        if last_end.is_none_or(|e| e <= logical) {
            self.map.insert(logical, (len, file));
            return;
        }
        let mut overlapping: Vec<(u64, u64, u64)> = Vec::new();
        if let Some((&s, &(l, f))) = self.map.range(..logical).next_back() {
            if s.saturating_add(l) > logical {
                overlapping.push((s, l, f));
            }
        }
        for (&s, &(l, f)) in self.map.range(logical..end) {
            overlapping.push((s, l, f));
        }
        for (s, l, f) in overlapping {
            self.map.remove(&s);
            let e = s.saturating_add(l);
            if s < logical {
                self.map.insert(s, (logical - s, f));
            }
            if e > end {
                let skip = end - s;
                self.map.insert(end, (e - end, f.saturating_add(skip)));
            }
        }
        self.map.insert(logical, (len, file));
    }

    fn into_extents(self) -> Vec<Extent> {
        let mut out: Vec<Extent> = Vec::with_capacity(self.map.len());
        for (logical, (len, file)) in self.map {
            if let Some(last) = out.last_mut() {
                if last.end() == logical && last.file.checked_add(last.len) == Some(file) {
                    last.len = last.len.saturating_add(len);
                    continue;
                }
            }
            out.push(Extent { logical, len, file });
        }
        out
    }
}

impl FlattenedSource {
    /// Indexes the stream in `data`. A stream cut short (no end record, or a record whose data runs
    /// past the end of the file) is accepted with what it holds; [`FlattenedSource::is_complete`]
    /// then says false and reads of the missing parts fail or read as zeros like holes.
    pub fn new(data: Bytes) -> Result<Self, FlattenedError> {
        let size = ByteSource::len(&data);
        let header = sub(&data, 0, MAX_SIZE_MDF_HEADER as usize)
            .ok_or(FlattenedError::ShortHeader { size })?;
        if !is_flattened(header) {
            return Err(FlattenedError::BadSignature);
        }
        let ty = be_i64(header, 16).unwrap_or(0);
        if ty != TYPE_FLAT_HEADER {
            return Err(FlattenedError::BadType { ty });
        }
        let version = be_i64(header, 24).unwrap_or(0);

        let mut map = ExtentMap::default();
        let mut pos = MAX_SIZE_MDF_HEADER;
        let mut complete = false;
        let mut records = 0u64;
        // A stream cut short simply ends the loop without an end record.
        while let Some(rec) = sub(&data, pos, DATA_HEADER_SIZE as usize) {
            let offset = be_i64(rec, 0).unwrap_or(END_FLAG_FLAT_HEADER);
            let buf_size = be_i64(rec, 8).unwrap_or(END_FLAG_FLAT_HEADER);
            if offset == END_FLAG_FLAT_HEADER && buf_size == END_FLAG_FLAT_HEADER {
                complete = true;
                break;
            }
            let bad = FlattenedError::BadRecord {
                at: pos,
                offset,
                size: buf_size,
            };
            let (Ok(logical), Ok(len)) = (u64::try_from(offset), u64::try_from(buf_size)) else {
                return Err(bad);
            };
            if logical.checked_add(len).is_none_or(|e| e > i64::MAX as u64) {
                return Err(bad);
            }
            let data_at = pos.saturating_add(DATA_HEADER_SIZE);
            let avail = size.saturating_sub(data_at).min(len);
            records = records.saturating_add(1);
            if avail > 0 {
                map.insert(logical, avail, data_at);
            }
            if avail < len {
                break; // data cut short
            }
            pos = data_at.saturating_add(len);
        }
        let extents = map.into_extents();
        let len = extents.last().map_or(0, Extent::end);
        let stored = extents.iter().fold(0u64, |a, e| a.saturating_add(e.len));
        Ok(Self {
            data,
            extents,
            len,
            stored,
            records,
            complete,
            version,
        })
    }

    /// Whether the stream ended with its end record.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Number of data records indexed.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Number of contiguous extents after resolving overlaps and merging neighbours.
    pub fn extents(&self) -> usize {
        self.extents.len()
    }

    /// The `version` field of the stream header.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Index of the first extent that ends after `offset`.
    fn first_after(&self, offset: u64) -> usize {
        let i = self.extents.partition_point(|e| e.logical <= offset);
        match i.checked_sub(1).and_then(|j| self.extents.get(j)) {
            Some(e) if e.end() > offset => i - 1,
            _ => i,
        }
    }
}

impl ByteSource for FlattenedSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn stored_len(&self) -> u64 {
        self.stored
    }

    fn complete(&self) -> bool {
        self.is_complete()
    }
    fn file_len(&self) -> u64 {
        ByteSource::len(&self.data)
    }

    /// Bytes inside the logical image that no record wrote read as zeros (a rearranged file would
    /// have a hole there).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), SourceError> {
        let want = buf.len() as u64;
        let oor = SourceError::OutOfRange {
            offset,
            len: want,
            size: self.len,
        };
        let end = offset.checked_add(want).ok_or(oor.clone())?;
        if end > self.len {
            return Err(oor);
        }
        buf.fill(0);
        let mut i = self.first_after(offset);
        while let Some(e) = self.extents.get(i) {
            if e.logical >= end {
                break;
            }
            let from = e.logical.max(offset);
            let to = e.end().min(end);
            let n = (to - from) as usize;
            let file_at = e.file.saturating_add(from - e.logical);
            let dst_at = (from - offset) as usize;
            let src = sub(&self.data, file_at, n).ok_or(oor.clone())?;
            let dst = buf.get_mut(dst_at..dst_at + n).ok_or(oor.clone())?;
            dst.copy_from_slice(src);
            i += 1;
        }
        Ok(())
    }

    fn slice(&self, offset: u64, len: usize) -> Option<&[u8]> {
        let e = self.extents.get(self.first_after(offset))?;
        let end = offset.checked_add(len as u64)?;
        if e.logical <= offset && end <= e.end() {
            sub(&self.data, e.file.checked_add(offset - e.logical)?, len)
        } else {
            None
        }
    }
}

/// Builds a flattened stream from `(logical offset, data)` records, for tests and fuzz seeds.
#[doc(hidden)]
pub fn build_stream(records: &[(u64, &[u8])], with_end: bool) -> Vec<u8> {
    let mut out = vec![0u8; MAX_SIZE_MDF_HEADER as usize];
    out[..12].copy_from_slice(MAKEDUMPFILE_SIGNATURE);
    out[16..24].copy_from_slice(&TYPE_FLAT_HEADER.to_be_bytes());
    out[24..32].copy_from_slice(&1i64.to_be_bytes());
    for (off, d) in records {
        out.extend_from_slice(&(*off as i64).to_be_bytes());
        out.extend_from_slice(&(d.len() as i64).to_be_bytes());
        out.extend_from_slice(d);
    }
    if with_end {
        out.extend_from_slice(&END_FLAG_FLAT_HEADER.to_be_bytes());
        out.extend_from_slice(&END_FLAG_FLAT_HEADER.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &FlattenedSource, off: u64, n: usize) -> Result<Vec<u8>, SourceError> {
        let mut v = vec![0u8; n];
        src.read_at(off, &mut v).map(|_| v)
    }

    #[test]
    fn overlapping_records_later_wins() {
        let a = [1u8; 100];
        let b = [2u8; 20];
        let c = [3u8; 10];
        let d = [4u8; 30];
        let s = build_stream(&[(0, &a), (40, &b), (35, &c), (90, &d), (200, &c)], true);
        let src = FlattenedSource::new(Bytes::Owned(s)).expect("valid stream");
        assert!(src.is_complete());
        assert_eq!(src.records(), 5);
        assert_eq!(src.len(), 210);
        let mut want = vec![0u8; 210];
        want[..100].fill(1);
        want[40..60].fill(2);
        want[35..45].fill(3);
        want[90..120].fill(4);
        want[200..210].fill(3);
        assert_eq!(read(&src, 0, 210).ok(), Some(want.clone()));
        for off in [0u64, 1, 34, 35, 44, 45, 59, 60, 89, 119, 150, 199] {
            for n in [1usize, 7, 11] {
                let end = (off as usize + n).min(210);
                assert_eq!(
                    read(&src, off, end - off as usize).ok().as_deref(),
                    Some(&want[off as usize..end])
                );
            }
        }
        assert!(read(&src, 205, 6).is_err());
        assert_eq!(src.slice(0, 35), Some(&[1u8; 35][..]));
        assert_eq!(src.slice(30, 10), None);
    }

    #[test]
    fn adjacent_records_read_across() {
        let a: Vec<u8> = (0u8..64).collect();
        let s = build_stream(&[(0, &a[..32]), (32, &a[32..])], true);
        let src = FlattenedSource::new(Bytes::Owned(s)).expect("valid");
        // Separate records are not contiguous in the file (a record header sits between them).
        assert_eq!(src.extents(), 2);
        assert_eq!(src.slice(0, 64), None);
        assert_eq!(src.slice(32, 32), Some(&a[32..]));
        assert_eq!(read(&src, 0, 64).ok(), Some(a));
    }

    #[test]
    fn bad_and_truncated_streams() {
        assert!(matches!(
            FlattenedSource::new(Bytes::Owned(vec![0; 100])),
            Err(FlattenedError::ShortHeader { size: 100 })
        ));
        let good = build_stream(&[(0, &[9u8; 50]), (4096, &[8u8; 50])], true);
        let mut bad_type = good.clone();
        bad_type[23] = 2;
        assert!(matches!(
            FlattenedSource::new(Bytes::Owned(bad_type)),
            Err(FlattenedError::BadType { ty: 2 })
        ));
        let mut neg = good.clone();
        neg[4096] = 0x80;
        assert!(matches!(
            FlattenedSource::new(Bytes::Owned(neg)),
            Err(FlattenedError::BadRecord { at: 4096, .. })
        ));
        for cut in 4096..good.len() {
            let src = FlattenedSource::new(Bytes::Owned(good[..cut].to_vec())).expect("partial ok");
            assert!(!src.is_complete());
            let mut b = [0u8; 8];
            let _ = src.read_at(0, &mut b);
            let _ = src.read_at(4100, &mut b);
        }
    }
}
