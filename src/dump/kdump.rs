//! kdump-compressed dumps ("KDUMP   " diskdump, header versions 1–6) as written by makedumpfile
//! and QEMU `dump-guest-memory -z`: `disk_dump_header` (block 0), `kdump_sub_header` (block 1),
//! the 1st bitmap (page frames that are RAM) and the 2nd bitmap (frames stored), then one
//! `page_desc` per stored frame in frame order, then page data compressed per page with zlib, LZO,
//! snappy or zstd (or raw).
//!
//! A frame's descriptor is found by its rank among stored frames: a rank table per 512-bit block of
//! the 2nd bitmap makes that O(1). Decompressed pages go through a bounded shared [`PageCache`].
//! The image is read through a [`ByteSource`], so a plain file and a flattened stream share this
//! code. QEMU leaves `utsname` zeroed (machine "Unknown"): nothing here requires it.
//!
//! Must not import `debuginfo` or `arch`.

use super::cache::PageCache;
use super::lzo;
use super::notes::{parse_notes, Notes};
use super::source::{le, ByteSource, Bytes};
use super::{CpuState, Dump, DumpError, DumpFormat, PhysRange, VmcoreInfo};
use crate::addr::{Pa, Pfn, PAGE_SIZE};
use crate::memory::{MemoryError, PhysReader};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// Signature of a kdump-compressed file.
pub const KDUMP_SIGNATURE: &[u8; 8] = b"KDUMP   ";
/// Page is compressed with zlib.
pub const DUMP_DH_COMPRESSED_ZLIB: u32 = 0x1;
/// Page is compressed with LZO1X.
pub const DUMP_DH_COMPRESSED_LZO: u32 = 0x2;
/// Page is compressed with snappy (raw format).
pub const DUMP_DH_COMPRESSED_SNAPPY: u32 = 0x4;
/// Header status: the dump was not finished.
pub const DUMP_DH_COMPRESSED_INCOMPLETE: u32 = 0x8;
/// Header status: unused vmemmap pages were excluded.
pub const DUMP_DH_EXCLUDED_VMEMMAP: u32 = 0x10;
/// Page is compressed with zstd.
pub const DUMP_DH_COMPRESSED_ZSTD: u32 = 0x20;
const COMPRESSION_MASK: u32 = DUMP_DH_COMPRESSED_ZLIB
    | DUMP_DH_COMPRESSED_LZO
    | DUMP_DH_COMPRESSED_SNAPPY
    | DUMP_DH_COMPRESSED_ZSTD;
/// Size of `disk_dump_header` on x86_64 (without `tasks[]`).
pub const DISK_DUMP_HEADER_SIZE: usize = 464;
/// Size of `kdump_sub_header` (version 6) on x86_64.
pub const KDUMP_SUB_HEADER_SIZE: usize = 104;
/// Size of `page_desc`.
pub const PAGE_DESC_SIZE: u64 = 24;
const NEW_UTS_LEN: usize = 65;
const FORMAT: &str = "kdump-compressed";
const MAX_NOTE_BYTES: u64 = 64 << 20;
const WORDS_PER_RANK: usize = 8;

/// `struct new_utsname` as stored in the header (each field cut at its NUL, lossy UTF-8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utsname {
    /// sysname ("Linux"; empty in QEMU dumps).
    pub sysname: String,
    /// nodename.
    pub nodename: String,
    /// release.
    pub release: String,
    /// version.
    pub version: String,
    /// machine ("x86_64"; QEMU writes "Unknown" or leaves it empty).
    pub machine: String,
    /// domainname.
    pub domainname: String,
}

/// `struct disk_dump_header`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskDumpHeader {
    /// Header version (1–6 known).
    pub header_version: i32,
    /// The crashed kernel's utsname (may be all empty).
    pub utsname: Utsname,
    /// `timestamp.tv_sec`.
    pub timestamp_sec: i64,
    /// `timestamp.tv_usec`.
    pub timestamp_usec: i64,
    /// Status flags (`DUMP_DH_*`).
    pub status: u32,
    /// Block size in bytes (the page size).
    pub block_size: i32,
    /// Sub-header size in blocks.
    pub sub_hdr_size: i32,
    /// Size of both bitmaps together, in blocks.
    pub bitmap_blocks: u32,
    /// 32-bit max_mapnr (obsolete from version 6).
    pub max_mapnr: u32,
    /// total_ram_blocks.
    pub total_ram_blocks: u32,
    /// device_blocks.
    pub device_blocks: u32,
    /// written_blocks.
    pub written_blocks: u32,
    /// CPU that handled the dump.
    pub current_cpu: u32,
    /// Number of CPUs.
    pub nr_cpus: i32,
}

/// `struct kdump_sub_header`; fields of later versions are zero in earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KdumpSubHeader {
    /// Physical address the kernel image was loaded at, minus its link address.
    pub phys_base: u64,
    /// makedumpfile `-d` level.
    pub dump_level: i32,
    /// Non-zero for one file of a split dump (version ≥ 2).
    pub split: i32,
    /// 32-bit start_pfn (version ≥ 2).
    pub start_pfn: u64,
    /// 32-bit end_pfn (version ≥ 2).
    pub end_pfn: u64,
    /// File offset of the VMCOREINFO text (version ≥ 3).
    pub offset_vmcoreinfo: i64,
    /// Its size.
    pub size_vmcoreinfo: u64,
    /// File offset of the ELF notes (version ≥ 4).
    pub offset_note: i64,
    /// Their size.
    pub size_note: u64,
    /// File offset of the erase info (version ≥ 5).
    pub offset_eraseinfo: i64,
    /// Its size.
    pub size_eraseinfo: u64,
    /// 64-bit start_pfn (version ≥ 6).
    pub start_pfn_64: u64,
    /// 64-bit end_pfn (version ≥ 6).
    pub end_pfn_64: u64,
    /// 64-bit max_mapnr (version ≥ 6).
    pub max_mapnr_64: u64,
}

/// `struct page_desc`: where one stored page lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageDesc {
    /// File offset of the page data.
    pub offset: i64,
    /// Size of the (compressed) data.
    pub size: u32,
    /// `DUMP_DH_COMPRESSED_*` flags; 0 for a raw page.
    pub flags: u32,
    /// The kernel's page flags (unused here).
    pub page_flags: u64,
}

impl PageDesc {
    fn parse(b: &[u8]) -> Option<Self> {
        Some(Self {
            offset: le::i64_at(b, 0)?,
            size: le::u32_at(b, 8)?,
            flags: le::u32_at(b, 12)?,
            page_flags: le::u64_at(b, 16)?,
        })
    }
}

/// A bitmap of page frames with a rank table for O(1) "how many set bits before this one".
#[derive(Debug, Clone, Default)]
pub struct Bitmap {
    words: Vec<u64>,
    nbits: u64,
    /// Set bits before each block of [`WORDS_PER_RANK`] words.
    ranks: Vec<u64>,
}

impl Bitmap {
    /// A bitmap over `nbits` bits from little-endian bytes (bit `n` is bit `n % 8` of byte
    /// `n / 8`); bytes beyond `nbits` are ignored, missing bytes read as zero.
    pub fn from_bytes(bytes: &[u8], nbits: u64) -> Self {
        let nbits = nbits.min((bytes.len() as u64).saturating_mul(8));
        let nwords = nbits.div_ceil(64) as usize;
        let mut words: Vec<u64> = bytes
            .chunks(8)
            .take(nwords)
            .map(|c| {
                let mut w = [0u8; 8];
                for (d, s) in w.iter_mut().zip(c) {
                    *d = *s;
                }
                u64::from_le_bytes(w)
            })
            .collect();
        words.resize(nwords, 0);
        let tail = nbits % 64;
        if tail != 0 {
            if let Some(last) = words.last_mut() {
                *last &= (1u64 << tail) - 1;
            }
        }
        let mut ranks = Vec::with_capacity(nwords / WORDS_PER_RANK + 1);
        let mut acc = 0u64;
        for block in words.chunks(WORDS_PER_RANK) {
            ranks.push(acc);
            acc += block.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
        }
        ranks.push(acc);
        Self {
            words,
            nbits,
            ranks,
        }
    }

    /// Number of bits.
    pub fn len(&self) -> u64 {
        self.nbits
    }

    /// Whether the bitmap has no bits.
    pub fn is_empty(&self) -> bool {
        self.nbits == 0
    }

    /// Bit `n` (false beyond the end).
    pub fn get(&self, n: u64) -> bool {
        n < self.nbits
            && self
                .words
                .get((n / 64) as usize)
                .is_some_and(|w| w & (1u64 << (n % 64)) != 0)
    }

    /// Number of set bits in `[0, n)`.
    pub fn rank(&self, n: u64) -> u64 {
        let n = n.min(self.nbits);
        let word = (n / 64) as usize;
        let block = word / WORDS_PER_RANK;
        let mut r = self.ranks.get(block).copied().unwrap_or(0);
        let first = block * WORDS_PER_RANK;
        for w in self.words.get(first..word).unwrap_or_default() {
            r += u64::from(w.count_ones());
        }
        let bit = n % 64;
        if bit != 0 {
            if let Some(w) = self.words.get(word) {
                r += u64::from((w & ((1u64 << bit) - 1)).count_ones());
            }
        }
        r
    }

    /// Total number of set bits.
    pub fn count(&self) -> u64 {
        self.ranks.last().copied().unwrap_or(0)
    }

    /// Runs of set bits as `[start, end)` pairs, within `[lo, hi)`.
    pub fn runs(&self, lo: u64, hi: u64) -> Vec<(u64, u64)> {
        let hi = hi.min(self.nbits);
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut n = lo;
        while n < hi {
            let w = self.words.get((n / 64) as usize).copied().unwrap_or(0) >> (n % 64);
            if w == 0 {
                n = (n | 63).saturating_add(1);
                continue;
            }
            let skip = u64::from(w.trailing_zeros());
            let start = n + skip;
            if start >= hi {
                break;
            }
            let ones = u64::from((w >> skip).trailing_ones());
            let end = (start + ones).min(hi);
            match out.last_mut() {
                Some(last) if last.1 == start => last.1 = end,
                _ => out.push((start, end)),
            }
            n = end;
        }
        out
    }
}

/// A kdump-compressed dump.
pub struct KdumpDump {
    path: PathBuf,
    source: Box<dyn ByteSource>,
    flattened: bool,
    header: DiskDumpHeader,
    sub: KdumpSubHeader,
    bitmap1: Bitmap,
    /// `None` when the file has a single bitmap (it then says both RAM and stored).
    bitmap2: Option<Bitmap>,
    /// Page frames this file covers (`[start_pfn, end_pfn)` of a split dump, else all).
    pfn_lo: u64,
    pfn_hi: u64,
    /// Rank of `pfn_lo` in the stored-pages bitmap (descriptors of a split file start there).
    rank_base: u64,
    desc_offset: u64,
    ranges: Vec<PhysRange>,
    stored_pages: u64,
    compression: String,
    notes: Notes,
    vmcoreinfo: Option<VmcoreInfo>,
    warnings: Vec<String>,
    cache: PageCache,
}

impl std::fmt::Debug for KdumpDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KdumpDump")
            .field("path", &self.path)
            .field("header", &self.header)
            .field("sub", &self.sub)
            .field("stored_pages", &self.stored_pages)
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

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(b.get(..end).unwrap_or_default()).into_owned()
}

fn read_exact(src: &dyn ByteSource, off: u64, len: u64) -> Option<Vec<u8>> {
    let n = usize::try_from(len).ok()?;
    // A flattened image can claim a huge logical size; never allocate more than the file stores.
    if off.checked_add(len)? > src.len() || len > src.stored_len() {
        return None;
    }
    let mut v = vec![0u8; n];
    src.read_at(off, &mut v).ok()?;
    Some(v)
}

/// Names of the compression flags set in `flags`, joined with '+', or "none".
pub fn compression_name(flags: u32) -> String {
    let names: Vec<&str> = [
        (DUMP_DH_COMPRESSED_ZLIB, "zlib"),
        (DUMP_DH_COMPRESSED_LZO, "lzo"),
        (DUMP_DH_COMPRESSED_SNAPPY, "snappy"),
        (DUMP_DH_COMPRESSED_ZSTD, "zstd"),
    ]
    .iter()
    .filter(|(f, _)| flags & f != 0)
    .map(|(_, n)| *n)
    .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join("+")
    }
}

impl DiskDumpHeader {
    fn parse(b: &[u8]) -> Option<Self> {
        let uts = |i: usize| {
            let at = 12 + i * NEW_UTS_LEN;
            cstr(b.get(at..at + NEW_UTS_LEN).unwrap_or_default())
        };
        Some(Self {
            header_version: le::i32_at(b, 8)?,
            utsname: Utsname {
                sysname: uts(0),
                nodename: uts(1),
                release: uts(2),
                version: uts(3),
                machine: uts(4),
                domainname: uts(5),
            },
            timestamp_sec: le::i64_at(b, 408)?,
            timestamp_usec: le::i64_at(b, 416)?,
            status: le::u32_at(b, 424)?,
            block_size: le::i32_at(b, 428)?,
            sub_hdr_size: le::i32_at(b, 432)?,
            bitmap_blocks: le::u32_at(b, 436)?,
            max_mapnr: le::u32_at(b, 440)?,
            total_ram_blocks: le::u32_at(b, 444)?,
            device_blocks: le::u32_at(b, 448)?,
            written_blocks: le::u32_at(b, 452)?,
            current_cpu: le::u32_at(b, 456)?,
            nr_cpus: le::i32_at(b, 460)?,
        })
    }
}

impl KdumpSubHeader {
    /// Parses the fields that exist in `version`.
    fn parse(b: &[u8], version: i32) -> Option<Self> {
        let mut s = Self {
            phys_base: le::u64_at(b, 0)?,
            dump_level: le::i32_at(b, 8)?,
            ..Self::default()
        };
        if version >= 2 {
            s.split = le::i32_at(b, 12)?;
            s.start_pfn = le::u64_at(b, 16)?;
            s.end_pfn = le::u64_at(b, 24)?;
        }
        if version >= 3 {
            s.offset_vmcoreinfo = le::i64_at(b, 32)?;
            s.size_vmcoreinfo = le::u64_at(b, 40)?;
        }
        if version >= 4 {
            s.offset_note = le::i64_at(b, 48)?;
            s.size_note = le::u64_at(b, 56)?;
        }
        if version >= 5 {
            s.offset_eraseinfo = le::i64_at(b, 64)?;
            s.size_eraseinfo = le::u64_at(b, 72)?;
        }
        if version >= 6 {
            s.start_pfn_64 = le::u64_at(b, 80)?;
            s.end_pfn_64 = le::u64_at(b, 88)?;
            s.max_mapnr_64 = le::u64_at(b, 96)?;
        }
        Some(s)
    }
}

thread_local! {
    static ZLIB: RefCell<flate2::Decompress> = RefCell::new(flate2::Decompress::new(true));
    static ZSTD: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Decompresses one page compressed with `flags` from `input` into `out` (exactly one page).
fn decompress_page(flags: u32, input: &[u8], out: &mut [u8]) -> Result<(), String> {
    let page = out.len();
    match flags & COMPRESSION_MASK {
        0 => {
            if input.len() != page {
                return Err(format!("raw page of {} bytes", input.len()));
            }
            out.copy_from_slice(input);
            Ok(())
        }
        DUMP_DH_COMPRESSED_ZLIB => ZLIB.with(|z| {
            let mut z = z.borrow_mut();
            z.reset(true);
            match z.decompress(input, out, flate2::FlushDecompress::Finish) {
                Ok(flate2::Status::StreamEnd) if z.total_out() == page as u64 => Ok(()),
                Ok(st) => Err(format!("zlib stream gave {} bytes ({st:?})", z.total_out())),
                Err(e) => Err(format!("zlib: {e}")),
            }
        }),
        DUMP_DH_COMPRESSED_LZO => match lzo::decompress(input, out) {
            Ok(n) if n == page => Ok(()),
            Ok(n) => Err(format!("lzo stream gave {n} bytes")),
            Err(e) => Err(format!("lzo: {e}")),
        },
        DUMP_DH_COMPRESSED_SNAPPY => {
            match snap::raw::decompress_len(input) {
                Ok(n) if n == page => {}
                Ok(n) => return Err(format!("snappy stream claims {n} bytes")),
                Err(e) => return Err(format!("snappy: {e}")),
            }
            match snap::raw::Decoder::new().decompress(input, out) {
                Ok(n) if n == page => Ok(()),
                Ok(n) => Err(format!("snappy stream gave {n} bytes")),
                Err(e) => Err(format!("snappy: {e}")),
            }
        }
        DUMP_DH_COMPRESSED_ZSTD => ZSTD.with(|z| {
            let mut z = z.borrow_mut();
            if z.is_none() {
                *z = Some(zstd::bulk::Decompressor::new().map_err(|e| format!("zstd init: {e}"))?);
            }
            let Some(d) = z.as_mut() else {
                return Err("zstd decompressor unavailable".into());
            };
            match d.decompress_to_buffer(input, out) {
                Ok(n) if n == page => Ok(()),
                Ok(n) => Err(format!("zstd stream gave {n} bytes")),
                Err(e) => Err(format!("zstd: {e}")),
            }
        }),
        other => Err(format!("several compression flags at once ({other:#x})")),
    }
}

impl KdumpDump {
    /// Parses a kdump-compressed file held in memory (tests, fuzzing). Errors name `<memory>`.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, DumpError> {
        Self::from_source(
            PathBuf::from("<memory>"),
            Box::new(Bytes::Owned(bytes)),
            false,
        )
    }

    /// Parses a kdump-compressed image from any byte source; `flattened` only labels the format.
    pub fn from_source(
        path: PathBuf,
        source: Box<dyn ByteSource>,
        flattened: bool,
    ) -> Result<Self, DumpError> {
        let src = source.as_ref();
        let hb = read_exact(src, 0, DISK_DUMP_HEADER_SIZE as u64).ok_or_else(|| {
            corrupt(
                &path,
                format!("header cut short (image has {} bytes)", src.len()),
            )
        })?;
        if hb.get(..8) != Some(&KDUMP_SIGNATURE[..]) {
            return Err(corrupt(&path, "bad signature (not \"KDUMP   \")".into()));
        }
        let header =
            DiskDumpHeader::parse(&hb).ok_or_else(|| corrupt(&path, "header unreadable".into()))?;
        if !(1..=64).contains(&header.header_version) {
            return Err(corrupt(
                &path,
                format!("unknown header_version {}", header.header_version),
            ));
        }
        if header.block_size != PAGE_SIZE as i32 {
            return Err(corrupt(
                &path,
                format!(
                    "block_size {} at offset 428 (only {PAGE_SIZE}-byte pages are supported)",
                    header.block_size
                ),
            ));
        }
        let bs = PAGE_SIZE;
        let sub_hdr_size = u64::try_from(header.sub_hdr_size)
            .ok()
            .filter(|&s| s >= 1)
            .ok_or_else(|| {
                corrupt(
                    &path,
                    format!("sub_hdr_size {} at offset 432", header.sub_hdr_size),
                )
            })?;
        let sb = read_exact(src, bs, KDUMP_SUB_HEADER_SIZE as u64).ok_or_else(|| {
            corrupt(
                &path,
                format!("sub-header at {bs:#x} lies past the end of the image"),
            )
        })?;
        let sub = KdumpSubHeader::parse(&sb, header.header_version)
            .ok_or_else(|| corrupt(&path, "sub-header unreadable".into()))?;

        // max_mapnr: the 32-bit header field is obsolete from version 6 (machines past 16 TiB).
        let max_mapnr = if header.header_version >= 6 && sub.max_mapnr_64 != 0 {
            sub.max_mapnr_64
        } else {
            u64::from(header.max_mapnr)
        };

        // Bitmaps.
        let bitmap_off = sub_hdr_size
            .checked_add(1)
            .and_then(|b| b.checked_mul(bs))
            .ok_or_else(|| corrupt(&path, "bitmap offset overflows".into()))?;
        let bitmap_len = u64::from(header.bitmap_blocks) * bs;
        if bitmap_len > src.stored_len()
            || bitmap_off
                .checked_add(bitmap_len)
                .is_none_or(|e| e > src.len())
        {
            return Err(corrupt(
                &path,
                format!(
                    "bitmaps ({bitmap_len:#x} bytes at {bitmap_off:#x}) run past the end of the image ({:#x} bytes)",
                    src.len()
                ),
            ));
        }
        let bitmaps = read_exact(src, bitmap_off, bitmap_len)
            .ok_or_else(|| corrupt(&path, "bitmaps unreadable".into()))?;
        // Two bitmaps when there is room for two of max_mapnr bits (crash's dump_is_partial());
        // otherwise one bitmap says both "RAM" and "stored".
        let one_len = max_mapnr.div_ceil(8).div_ceil(bs).saturating_mul(bs);
        let two = one_len > 0 && bitmap_len >= one_len.saturating_mul(2);
        let half = if two { bitmap_len / 2 } else { bitmap_len } as usize;
        let bitmap1 = Bitmap::from_bytes(bitmaps.get(..half).unwrap_or_default(), max_mapnr);
        let bitmap2 =
            two.then(|| Bitmap::from_bytes(bitmaps.get(half..).unwrap_or_default(), max_mapnr));
        drop(bitmaps);

        // Split dumps cover [start_pfn, end_pfn) only.
        let is_split = header.header_version >= 2 && sub.split != 0;
        let (pfn_lo, pfn_hi) = if is_split {
            let (s, e) = if header.header_version >= 6 {
                (sub.start_pfn_64, sub.end_pfn_64)
            } else {
                (sub.start_pfn, sub.end_pfn)
            };
            (s.min(max_mapnr), e.min(max_mapnr))
        } else {
            (0, max_mapnr)
        };
        let stored_map = bitmap2.as_ref().unwrap_or(&bitmap1);
        let rank_base = stored_map.rank(pfn_lo);
        let stored_pages = stored_map.rank(pfn_hi).saturating_sub(rank_base);
        let ranges = bitmap1
            .runs(pfn_lo, pfn_hi)
            .into_iter()
            .map(|(s, e)| PhysRange {
                start: Pa(s.saturating_mul(bs)),
                len: (e - s).saturating_mul(bs),
            })
            .collect();
        let desc_offset = bitmap_off.saturating_add(bitmap_len);

        // Notes and VMCOREINFO.
        let mut warnings = Vec::new();
        let mut notes = Notes::default();
        if header.header_version >= 4 && sub.offset_note > 0 && sub.size_note > 0 {
            let size = sub.size_note.min(MAX_NOTE_BYTES);
            match read_exact(src, sub.offset_note as u64, size) {
                Some(b) => notes = parse_notes(&b),
                None => warnings.push(format!(
                    "notes ({:#x} bytes at {:#x}) lie past the end of the image",
                    sub.size_note, sub.offset_note
                )),
            }
        }
        warnings.extend(notes.warnings.iter().cloned());
        let mut vmcoreinfo = None;
        if header.header_version >= 3 && sub.offset_vmcoreinfo > 0 && sub.size_vmcoreinfo > 0 {
            let size = sub.size_vmcoreinfo.min(MAX_NOTE_BYTES);
            match read_exact(src, sub.offset_vmcoreinfo as u64, size) {
                Some(b) => vmcoreinfo = Some(VmcoreInfo::parse(&b)),
                None => warnings.push(format!(
                    "VMCOREINFO ({:#x} bytes at {:#x}) lies past the end of the image",
                    sub.size_vmcoreinfo, sub.offset_vmcoreinfo
                )),
            }
        }
        if vmcoreinfo.is_none() {
            vmcoreinfo = notes.vmcoreinfo.clone();
        }
        if header.status & DUMP_DH_COMPRESSED_INCOMPLETE != 0 {
            warnings.push("dump is marked incomplete (DUMP_DH_COMPRESSED_INCOMPLETE)".into());
        }

        let mut dump = Self {
            path,
            source,
            flattened,
            header,
            sub,
            bitmap1,
            bitmap2,
            pfn_lo,
            pfn_hi,
            rank_base,
            desc_offset,
            ranges,
            stored_pages,
            compression: String::new(),
            notes,
            vmcoreinfo,
            warnings,
            cache: PageCache::new(16, 64, PAGE_SIZE as usize),
        };
        // The header status names the compression; sample descriptors for files that do not.
        let mut flags = dump.header.status & COMPRESSION_MASK;
        for i in 0..dump.stored_pages.min(256) {
            if let Some(d) = dump.desc(i) {
                flags |= d.flags & COMPRESSION_MASK;
            }
        }
        dump.compression = compression_name(flags);
        Ok(dump)
    }

    /// The `disk_dump_header`.
    pub fn header(&self) -> &DiskDumpHeader {
        &self.header
    }

    /// The `kdump_sub_header`.
    pub fn sub_header(&self) -> &KdumpSubHeader {
        &self.sub
    }

    /// The decoded ELF notes (including QEMU CPU states).
    pub fn notes(&self) -> &Notes {
        &self.notes
    }

    /// Problems found at open that did not prevent reading (missing notes, incomplete dump).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether the frame is RAM according to the 1st bitmap (and inside this file's pfn range).
    pub fn is_ram(&self, pfn: Pfn) -> bool {
        pfn.0 >= self.pfn_lo && pfn.0 < self.pfn_hi && self.bitmap1.get(pfn.0)
    }

    /// Whether the frame's contents are stored (2nd bitmap).
    pub fn is_stored(&self, pfn: Pfn) -> bool {
        self.is_ram(pfn) && self.bitmap2.as_ref().unwrap_or(&self.bitmap1).get(pfn.0)
    }

    /// The `i`-th page descriptor, if it can be read.
    pub fn desc(&self, i: u64) -> Option<PageDesc> {
        let at = i
            .checked_mul(PAGE_DESC_SIZE)
            .and_then(|o| o.checked_add(self.desc_offset))?;
        let mut b = [0u8; PAGE_DESC_SIZE as usize];
        self.source.read_at(at, &mut b).ok()?;
        PageDesc::parse(&b)
    }

    /// Where the data area starts: makedumpfile stores the one zero page there, and every
    /// zero page's descriptor points at it.
    fn data_start(&self) -> u64 {
        self.desc_offset
            .saturating_add(self.stored_pages.saturating_mul(PAGE_DESC_SIZE))
    }

    /// Whether descriptor `i` is a zero page sharing the data area's first page (or unreadable).
    fn is_shared_zero_desc(&self, i: u64) -> bool {
        self.desc(i)
            .is_none_or(|d| u64::try_from(d.offset).ok() == Some(self.data_start()))
    }

    /// File offset where descriptor `i`'s data ends, if the descriptor can be read.
    fn desc_end(&self, i: u64) -> Option<u64> {
        let d = self.desc(i)?;
        Some(
            u64::try_from(d.offset)
                .ok()?
                .saturating_add(u64::from(d.size)),
        )
    }

    /// The last descriptor with data of its own (not the shared zero page), if any can be read.
    fn last_own_desc(&self) -> Option<u64> {
        (0..self.stored_pages)
            .rev()
            .find(|&i| self.desc(i).is_some() && !self.is_shared_zero_desc(i))
    }

    /// The first descriptor at or after `i` (up to `last`) with data of its own.
    fn next_own_desc(&self, i: u64, last: u64) -> Option<u64> {
        (i..=last).find(|&j| !self.is_shared_zero_desc(j))
    }

    /// The descriptor of a stored frame.
    pub fn page_desc(&self, pfn: Pfn) -> Option<PageDesc> {
        if !self.is_stored(pfn) {
            return None;
        }
        let map = self.bitmap2.as_ref().unwrap_or(&self.bitmap1);
        self.desc(map.rank(pfn.0).saturating_sub(self.rank_base))
    }

    /// Checks the frame is stored and decompresses it into `out` (one page). `pa` is the address
    /// the caller asked for inside that frame (named in errors).
    fn load_page(&self, pfn: u64, pa: Pa, out: &mut [u8]) -> Result<(), MemoryError> {
        if !self.is_ram(Pfn(pfn)) {
            return Err(MemoryError::NotInDump { pa });
        }
        if !self.is_stored(Pfn(pfn)) {
            return Err(MemoryError::PageExcluded { pfn: Pfn(pfn) });
        }
        let bad = |reason: String| MemoryError::CorruptPage {
            pfn: Pfn(pfn),
            reason,
        };
        let map = self.bitmap2.as_ref().unwrap_or(&self.bitmap1);
        let idx = map.rank(pfn).saturating_sub(self.rank_base);
        let d = self.desc(idx).ok_or(MemoryError::Truncated { pa })?;
        if d.offset == 0 {
            return Err(bad(format!(
                "descriptor {idx} has offset 0 (incomplete dump)"
            )));
        }
        let off = u64::try_from(d.offset)
            .map_err(|_| bad(format!("descriptor {idx} has negative offset {}", d.offset)))?;
        if d.size == 0 || u64::from(d.size) > PAGE_SIZE {
            return Err(bad(format!(
                "descriptor {idx} has size {} (page is {PAGE_SIZE})",
                d.size
            )));
        }
        let size = d.size as usize;
        let reason = |e: String| {
            format!(
                "{e} (descriptor {idx}: {} bytes at {off:#x}, flags {:#x})",
                d.size, d.flags
            )
        };
        match self.source.slice(off, size) {
            Some(input) => decompress_page(d.flags, input, out).map_err(|e| bad(reason(e))),
            None => {
                let mut input = vec![0u8; size];
                self.source
                    .read_at(off, &mut input)
                    .map_err(|_| MemoryError::Truncated { pa })?;
                decompress_page(d.flags, &input, out).map_err(|e| bad(reason(e)))
            }
        }
    }
}

impl PhysReader for KdumpDump {
    fn read_phys(&self, pa: Pa, buf: &mut [u8]) -> Result<(), MemoryError> {
        let mut done = 0usize;
        let mut page = Vec::new();
        while done < buf.len() {
            let cur =
                pa.0.checked_add(done as u64)
                    .ok_or(MemoryError::NotInDump { pa })?;
            let pfn = cur / PAGE_SIZE;
            let in_page = (cur % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - in_page).min(buf.len() - done);
            let out = buf
                .get_mut(done..done + n)
                .ok_or(MemoryError::NotInDump { pa: Pa(cur) })?;
            if !self.cache.get(pfn, in_page, out) {
                page.resize(PAGE_SIZE as usize, 0);
                self.load_page(pfn, Pa(cur), &mut page)?;
                self.cache.insert(pfn, &page);
                out.copy_from_slice(page.get(in_page..in_page + n).unwrap_or_default());
            }
            done += n;
        }
        Ok(())
    }

    fn is_present(&self, pfn: Pfn) -> bool {
        self.is_stored(pfn)
    }
}

impl Dump for KdumpDump {
    fn truncation(&self) -> Option<String> {
        let have = self.source.len();
        let stream = if self.source.complete() {
            ""
        } else {
            "the flattened stream ends before its end marker; "
        };
        let n = self.stored_pages;
        let Some(last) = self.last_own_desc() else {
            // No page with data of its own: complete unless the descriptors themselves are cut.
            if n == 0 || self.desc(n - 1).is_some() {
                return (!stream.is_empty()).then(|| stream.trim_end_matches("; ").to_string());
            }
            return Some(format!(
                "{stream}the file ends early at offset {have:#x}: its page descriptor table \
                 ({n} entries at {:#x}) is cut, so all {n} stored pages are missing",
                self.desc_offset
            ));
        };
        if self.desc_end(last).is_some_and(|e| e <= have) {
            return (!stream.is_empty()).then(|| stream.trim_end_matches("; ").to_string());
        }
        // Pages are written in descriptor order, so the descriptors whose data lies past the
        // end are a tail: find where it starts, then count the pages in it.
        let (mut lo, mut hi) = (0, last);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.next_own_desc(mid, last) {
                Some(i) if self.desc_end(i).is_some_and(|e| e <= have) => lo = i + 1,
                _ => hi = mid,
            }
        }
        // Descriptors after `last` that cannot be read are missing too.
        let missing = (lo..=last)
            .filter(|&i| !self.is_shared_zero_desc(i))
            .count()
            + (last + 1..n).filter(|&i| self.desc(i).is_none()).count();
        Some(format!(
            "{stream}the file ends early at offset {have:#x} ({have} bytes): {missing} of {n} \
             stored pages lie past it and read as missing"
        ))
    }
    fn path(&self) -> &Path {
        &self.path
    }
    fn format(&self) -> DumpFormat {
        DumpFormat::Kdump {
            compression: self.compression.clone(),
            flattened: self.flattened,
        }
    }
    fn file_size(&self) -> u64 {
        self.source.file_len()
    }
    fn vmcoreinfo(&self) -> Option<&VmcoreInfo> {
        self.vmcoreinfo.as_ref()
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
    fn timestamp(&self) -> Option<i64> {
        (self.header.timestamp_sec != 0).then_some(self.header.timestamp_sec)
    }
}

/// Builders for synthetic kdump-compressed files (tests and fuzz seeds).
#[doc(hidden)]
pub mod build {
    use super::*;

    /// How to store one page.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Store {
        /// Raw (flags 0).
        Raw,
        /// zlib.
        Zlib,
        /// LZO1X.
        Lzo,
        /// Raw snappy.
        Snappy,
        /// zstd.
        Zstd,
        /// RAM but left out (1st bitmap only).
        Excluded,
    }

    /// What to build.
    pub struct Spec {
        /// header_version.
        pub version: i32,
        /// max_mapnr.
        pub max_mapnr: u64,
        /// Pages: frame, contents (one page), how stored.
        pub pages: Vec<(u64, Vec<u8>, Store)>,
        /// ELF notes blob (VMCOREINFO inside it is also pointed at by the sub-header).
        pub notes: Vec<u8>,
        /// VMCOREINFO text (appended to the notes as a note).
        pub vmcoreinfo: Option<Vec<u8>>,
        /// Leave utsname zeroed like QEMU.
        pub qemu_utsname: bool,
        /// header status.
        pub status: u32,
        /// Timestamp seconds.
        pub timestamp: i64,
    }

    fn compress(store: Store, page: &[u8]) -> (Vec<u8>, u32) {
        match store {
            Store::Zlib => {
                use std::io::Write;
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                let _ = e.write_all(page);
                (e.finish().unwrap_or_default(), DUMP_DH_COMPRESSED_ZLIB)
            }
            Store::Lzo => (
                lzokay_native::compress(page).unwrap_or_default(),
                DUMP_DH_COMPRESSED_LZO,
            ),
            Store::Snappy => (
                snap::raw::Encoder::new()
                    .compress_vec(page)
                    .unwrap_or_default(),
                DUMP_DH_COMPRESSED_SNAPPY,
            ),
            Store::Zstd => (
                zstd::bulk::compress(page, 1).unwrap_or_default(),
                DUMP_DH_COMPRESSED_ZSTD,
            ),
            Store::Raw | Store::Excluded => (page.to_vec(), 0),
        }
    }

    fn put(out: &mut Vec<u8>, at: usize, b: &[u8]) {
        if out.len() < at + b.len() {
            out.resize(at + b.len(), 0);
        }
        out[at..at + b.len()].copy_from_slice(b);
    }

    /// Builds the file; also returns the offsets where its parts start
    /// (sub-header, bitmaps, descriptors, data) for tests that cut or corrupt it.
    pub fn kdump(spec: &Spec) -> (Vec<u8>, [usize; 4]) {
        let bs = 4096usize;
        let mut notes = spec.notes.clone();
        let mut vmci_at = None;
        if let Some(v) = &spec.vmcoreinfo {
            let n = crate::dump::notes::build::note("VMCOREINFO", 0, v);
            vmci_at = Some(notes.len() + 12 + 12);
            notes.extend(n);
        }
        let sub_bytes = KDUMP_SUB_HEADER_SIZE + notes.len();
        let sub_hdr_size = sub_bytes.div_ceil(bs);
        let one = (spec.max_mapnr as usize).div_ceil(8).div_ceil(bs).max(1);
        let bitmap_blocks = 2 * one;
        let bitmap_off = (1 + sub_hdr_size) * bs;
        let desc_off = bitmap_off + bitmap_blocks * bs;
        let mut pages = spec.pages.clone();
        pages.sort_by_key(|p| p.0);
        let stored: Vec<_> = pages.iter().filter(|p| p.2 != Store::Excluded).collect();
        let data_off = desc_off + 24 * stored.len();

        let mut out = vec![0u8; bs];
        out[..8].copy_from_slice(KDUMP_SIGNATURE);
        out[8..12].copy_from_slice(&spec.version.to_le_bytes());
        if !spec.qemu_utsname {
            for (i, s) in [
                "Linux",
                "testhost",
                "6.1.0-test",
                "#1 SMP",
                "x86_64",
                "(none)",
            ]
            .iter()
            .enumerate()
            {
                put(&mut out, 12 + 65 * i, s.as_bytes());
            }
        }
        put(&mut out, 408, &spec.timestamp.to_le_bytes());
        put(&mut out, 424, &spec.status.to_le_bytes());
        put(&mut out, 428, &4096i32.to_le_bytes());
        put(&mut out, 432, &(sub_hdr_size as i32).to_le_bytes());
        put(&mut out, 436, &(bitmap_blocks as u32).to_le_bytes());
        put(
            &mut out,
            440,
            &(spec.max_mapnr.min(u32::MAX as u64) as u32).to_le_bytes(),
        );
        put(&mut out, 460, &1i32.to_le_bytes());
        // Sub-header.
        let sh = bs;
        put(&mut out, sh, &0x1000000u64.to_le_bytes());
        put(&mut out, sh + 8, &31i32.to_le_bytes());
        let note_off = sh + KDUMP_SUB_HEADER_SIZE;
        if let Some(v) = vmci_at {
            put(&mut out, sh + 32, &((note_off + v) as u64).to_le_bytes());
            put(
                &mut out,
                sh + 40,
                &(spec.vmcoreinfo.as_ref().map_or(0, Vec::len) as u64).to_le_bytes(),
            );
        }
        if !notes.is_empty() {
            put(&mut out, sh + 48, &(note_off as u64).to_le_bytes());
            put(&mut out, sh + 56, &(notes.len() as u64).to_le_bytes());
        }
        put(&mut out, sh + 80, &0u64.to_le_bytes());
        put(&mut out, sh + 88, &spec.max_mapnr.to_le_bytes());
        put(&mut out, sh + 96, &spec.max_mapnr.to_le_bytes());
        put(&mut out, note_off, &notes);
        // Bitmaps.
        out.resize(desc_off, 0);
        for (pfn, _, store) in &pages {
            let byte = (*pfn / 8) as usize;
            let bit = 1u8 << (pfn % 8);
            out[bitmap_off + byte] |= bit;
            if *store != Store::Excluded {
                out[bitmap_off + one * bs + byte] |= bit;
            }
        }
        // Descriptors and data.
        out.resize(data_off, 0);
        for (i, (_, data, store)) in stored.iter().enumerate() {
            let (mut c, mut flags) = compress(*store, data);
            if c.len() >= 4096 && flags != 0 {
                c = data.clone();
                flags = 0;
            }
            let at = out.len();
            let d = desc_off + 24 * i;
            put(&mut out, d, &(at as i64).to_le_bytes());
            put(&mut out, d + 8, &(c.len() as u32).to_le_bytes());
            put(&mut out, d + 12, &flags.to_le_bytes());
            out.extend_from_slice(&c);
        }
        (out, [sh, bitmap_off, desc_off, data_off])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::build::{kdump, Spec, Store};
    use super::*;
    use crate::dump::notes::build::{note, prstatus};

    pub(crate) fn page(seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..4096)
            .map(|i| {
                if i % 64 < 40 {
                    (i / 64) as u8 ^ seed as u8
                } else {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                }
            })
            .collect()
    }

    pub(crate) fn sample_spec(version: i32) -> Spec {
        let mut notes = note("CORE", 1, &prstatus(100, 0x10));
        notes.extend(note("CORE", 1, &prstatus(0, 0x20)));
        Spec {
            version,
            max_mapnr: 300,
            pages: vec![
                (1, page(1), Store::Zlib),
                (2, page(2), Store::Lzo),
                (3, page(3), Store::Snappy),
                (4, page(4), Store::Zstd),
                (5, page(5), Store::Raw),
                (6, page(6), Store::Excluded),
                (7, vec![0u8; 4096], Store::Zlib),
                (64, page(64), Store::Zlib),
                (130, page(130), Store::Lzo),
                (131, page(131), Store::Excluded),
                (299, page(299), Store::Zstd),
            ],
            notes,
            vmcoreinfo: Some(b"OSRELEASE=6.1.0-kdump\nKERNELOFFSET=2a000000\n".to_vec()),
            qemu_utsname: false,
            status: DUMP_DH_COMPRESSED_ZLIB,
            timestamp: 1_700_000_000,
        }
    }

    pub(crate) fn check_sample(d: &dyn Dump, spec: &Spec) {
        for (pfn, data, store) in &spec.pages {
            let mut buf = vec![0u8; 4096];
            let r = d.read_phys(Pa(pfn * 4096), &mut buf);
            if *store == Store::Excluded {
                assert_eq!(r, Err(MemoryError::PageExcluded { pfn: Pfn(*pfn) }));
            } else {
                assert_eq!(r, Ok(()), "pfn {pfn} {store:?}");
                assert!(buf == *data, "pfn {pfn} {store:?} differs");
                // Twice: the second read comes from the cache.
                let mut again = vec![0u8; 4096];
                assert_eq!(d.read_phys(Pa(pfn * 4096), &mut again), Ok(()));
                assert!(again == *data);
            }
        }
        // Crossing pages 1 → 2 → 3.
        let mut buf = vec![0u8; 4096 + 200];
        assert_eq!(d.read_phys(Pa(4096 + 4000), &mut buf), Ok(()));
        assert_eq!(&buf[..96], &spec.pages[0].1[4000..]);
        assert_eq!(&buf[96..96 + 4096], &spec.pages[1].1[..]);
        assert_eq!(&buf[96 + 4096..], &spec.pages[2].1[..104]);
        assert_eq!(
            d.read_phys(Pa(0), &mut [0u8; 4]),
            Err(MemoryError::NotInDump { pa: Pa(0) })
        );
        assert_eq!(
            d.read_phys(Pa(300 * 4096), &mut [0u8; 4]),
            Err(MemoryError::NotInDump { pa: Pa(300 * 4096) })
        );
        assert_eq!(
            d.read_phys(Pa(u64::MAX - 1), &mut [0u8; 4]),
            Err(MemoryError::NotInDump {
                pa: Pa(u64::MAX - 1)
            })
        );
        assert_eq!(d.stored_pages(), 9);
        assert!(d.is_present(Pfn(5)));
        assert!(!d.is_present(Pfn(6)));
    }

    #[test]
    fn reads_every_compression() {
        for version in [6, 5, 4] {
            let spec = sample_spec(version);
            let (file, _) = kdump(&spec);
            let d = KdumpDump::from_bytes(file).expect("valid kdump");
            check_sample(&d, &spec);
            assert_eq!(
                d.format(),
                DumpFormat::Kdump {
                    compression: "zlib+lzo+snappy+zstd".into(),
                    flattened: false
                }
            );
            assert_eq!(d.cpus().len(), 2);
            assert_eq!(d.cpus()[0].pid, 100);
            assert_eq!(d.cpus()[1].regs.r15, 0x20);
            assert_eq!(
                d.vmcoreinfo().and_then(|v| v.kernel_offset()),
                Some(0x2a000000)
            );
            assert_eq!(d.timestamp(), Some(1_700_000_000));
            assert_eq!(d.header().utsname.machine, "x86_64");
            assert_eq!(d.sub_header().phys_base, 0x1000000);
            assert_eq!(
                d.ranges(),
                &[
                    PhysRange {
                        start: Pa(0x1000),
                        len: 7 * 4096
                    },
                    PhysRange {
                        start: Pa(64 * 4096),
                        len: 4096
                    },
                    PhysRange {
                        start: Pa(130 * 4096),
                        len: 2 * 4096
                    },
                    PhysRange {
                        start: Pa(299 * 4096),
                        len: 4096
                    },
                ]
            );
        }
    }

    #[test]
    fn qemu_style_header_and_old_versions() {
        let mut spec = sample_spec(6);
        spec.qemu_utsname = true;
        spec.timestamp = 0;
        let (file, _) = kdump(&spec);
        let d = KdumpDump::from_bytes(file).expect("valid");
        assert_eq!(d.header().utsname, Utsname::default());
        assert_eq!(d.timestamp(), None);
        check_sample(&d, &spec);
        // Version 1 has no note offsets: no CPUs and no VMCOREINFO, pages still readable.
        let spec = sample_spec(1);
        let d = KdumpDump::from_bytes(kdump(&spec).0).expect("valid v1");
        assert!(d.cpus().is_empty());
        assert!(d.vmcoreinfo().is_none());
        check_sample(&d, &spec);
    }

    #[test]
    fn bitmap_rank_and_runs() {
        let mut bytes = vec![0u8; 200];
        let set = [0u64, 1, 2, 63, 64, 65, 511, 512, 513, 1000, 1599];
        for &b in &set {
            bytes[(b / 8) as usize] |= 1 << (b % 8);
        }
        let bm = Bitmap::from_bytes(&bytes, 1600);
        for n in 0..1600u64 {
            let want = set.iter().filter(|&&s| s < n).count() as u64;
            assert_eq!(bm.rank(n), want, "rank({n})");
            assert_eq!(bm.get(n), set.contains(&n));
        }
        assert_eq!(bm.count(), set.len() as u64);
        assert_eq!(
            bm.runs(0, 1600),
            vec![(0, 3), (63, 66), (511, 514), (1000, 1001), (1599, 1600)]
        );
        assert_eq!(bm.runs(1, 64), vec![(1, 3), (63, 64)]);
        let short = Bitmap::from_bytes(&bytes, 1000);
        assert!(!short.get(1000));
        assert_eq!(short.count(), 9);
    }

    #[test]
    fn bad_pages_are_corrupt_not_panics() {
        let spec = sample_spec(6);
        let (file, [_, _, desc_off, _]) = kdump(&spec);
        // Descriptor 0 (pfn 1): point at garbage, size too large, offset 0, negative, bad flags.
        let patch = |f: &mut Vec<u8>, field: usize, v: &[u8]| {
            f[desc_off + field..desc_off + field + v.len()].copy_from_slice(v);
        };
        let cases: Vec<(usize, Vec<u8>)> = vec![
            (0, 0u64.to_le_bytes().to_vec()),
            (0, (-5i64).to_le_bytes().to_vec()),
            (0, 16u64.to_le_bytes().to_vec()),
            (0, (u64::MAX / 2).to_le_bytes().to_vec()),
            (8, 0u32.to_le_bytes().to_vec()),
            (8, 5000u32.to_le_bytes().to_vec()),
            (8, 10u32.to_le_bytes().to_vec()),
            (12, 0x3u32.to_le_bytes().to_vec()),
            (12, 0x4u32.to_le_bytes().to_vec()),
            (12, 0x0u32.to_le_bytes().to_vec()),
        ];
        for (field, v) in cases {
            let mut f = file.clone();
            patch(&mut f, field, &v);
            let d = KdumpDump::from_bytes(f).expect("headers intact");
            let r = d.read_phys(Pa(4096), &mut [0u8; 16]);
            assert!(
                matches!(
                    r,
                    Err(MemoryError::CorruptPage { pfn: Pfn(1), .. })
                        | Err(MemoryError::Truncated { .. })
                ),
                "field {field} {v:?}: {r:?}"
            );
            assert_eq!(d.read_phys(Pa(5 * 4096), &mut [0u8; 16]), Ok(()));
        }
    }

    #[test]
    fn cut_at_every_boundary() {
        let spec = sample_spec(6);
        let (file, parts) = kdump(&spec);
        let mut cuts: Vec<usize> = vec![0, 7, 8, 100, 463, 464, 4095, 4096, 4100, 4200];
        for p in parts {
            cuts.extend([p.saturating_sub(1), p, p + 1, p + 24]);
        }
        cuts.extend((parts[3]..file.len()).step_by(97));
        for cut in cuts {
            let cut = cut.min(file.len());
            match KdumpDump::from_bytes(file[..cut].to_vec()) {
                Ok(d) => {
                    assert!(cut >= parts[2], "opened a file cut at {cut}");
                    for (pfn, _, _) in &spec.pages {
                        let _ = d.read_phys(Pa(pfn * 4096), &mut [0u8; 4096]);
                    }
                    if cut < file.len() {
                        assert!(d.read_phys(Pa(299 * 4096), &mut [0u8; 4096]).is_err());
                    }
                }
                Err(DumpError::Corrupt { format, .. }) => assert_eq!(format, FORMAT),
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    }

    #[test]
    fn garbage_headers() {
        let spec = sample_spec(6);
        let (file, parts) = kdump(&spec);
        let fields = [
            8usize,
            428,
            432,
            436,
            440,
            parts[0] + 12,
            parts[0] + 32,
            parts[0] + 48,
            parts[0] + 56,
            parts[0] + 96,
        ];
        for at in fields {
            for v in [0u64, 1, 0x7fff_ffff, 0xffff_ffff, u64::MAX, 1 << 40] {
                let mut f = file.clone();
                f[at..at + 8].copy_from_slice(&v.to_le_bytes());
                if let Ok(d) = KdumpDump::from_bytes(f) {
                    for (pfn, _, _) in &spec.pages {
                        let _ = d.read_phys(Pa(pfn * 4096), &mut [0u8; 64]);
                    }
                    let _ = d.ranges();
                }
            }
        }
    }

    #[test]
    fn split_file_range() {
        let spec = sample_spec(6);
        let (mut file, parts) = kdump(&spec);
        let sh = parts[0];
        file[sh + 12..sh + 16].copy_from_slice(&1i32.to_le_bytes());
        file[sh + 80..sh + 88].copy_from_slice(&3u64.to_le_bytes());
        file[sh + 88..sh + 96].copy_from_slice(&100u64.to_le_bytes());
        // A real split file only holds descriptors from its start_pfn on: drop the first two.
        let desc = parts[2];
        let n = parts[3] - desc;
        let moved = file[desc + 48..desc + n].to_vec();
        file[desc..desc + n - 48].copy_from_slice(&moved);
        file[desc + n - 48..desc + n].fill(0);
        let d = KdumpDump::from_bytes(file).expect("valid split");
        assert_eq!(
            d.read_phys(Pa(4096), &mut [0u8; 4]),
            Err(MemoryError::NotInDump { pa: Pa(4096) })
        );
        let mut buf = vec![0u8; 4096];
        assert_eq!(d.read_phys(Pa(3 * 4096), &mut buf), Ok(()));
        assert!(buf == spec.pages[2].1);
        assert_eq!(d.read_phys(Pa(64 * 4096), &mut buf), Ok(()));
        assert!(buf == spec.pages[7].1);
        assert_eq!(d.stored_pages(), 5);
        assert_eq!(
            d.read_phys(Pa(130 * 4096), &mut [0u8; 4]),
            Err(MemoryError::NotInDump { pa: Pa(130 * 4096) })
        );
    }
}
