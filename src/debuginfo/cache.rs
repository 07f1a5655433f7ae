//! On-disk cache of the DWARF name index, keyed by build-id: a compact little-endian binary
//! format of our own (no serialization crate).
//!
//! Layout: magic `RKDWIDX\0`, format version (u32), build-id (u32 length + bytes), fingerprint
//! (file length, `.debug_info` file offset and size: u64 each), payload length (u64), payload,
//! checksum of the payload (u64). The payload holds the unit offsets, the name arena
//! (u32 length + UTF-8 bytes) and fixed-size records (names as u32 offset + u32 length into the
//! arena). Anything that does not check out makes `load` return `None` and the caller rebuilds.
//!
//! Must not import `dump`.

use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::dwarf_index::{EnumEntry, GlobalEntry, IndexData, NameRef, TypeEntry};
use super::reader::{FxHasher, NKINDS};

const MAGIC: &[u8; 8] = b"RKDWIDX\0";
/// Bump when the layout or the meaning of the index changes.
const VERSION: u32 = 1;

/// What identifies the ELF file a cache was made from, besides its build-id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub(crate) file_len: u64,
    pub(crate) info_offset: u64,
    pub(crate) info_len: u64,
}

/// The cache file for `build_id` in `dir`; `None` if the build-id is empty or not hex.
pub(crate) fn cache_path(dir: &Path, build_id: &str) -> Option<PathBuf> {
    let ok = !build_id.is_empty()
        && build_id.len() <= 128
        && build_id.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| dir.join(format!("{}.rkdwarf", build_id.to_ascii_lowercase())))
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    h.write_u64(bytes.len() as u64);
    h.finish()
}

struct Out(Vec<u8>);

impl Out {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn name(&mut self, r: NameRef) {
        self.u32(r.off);
        self.u32(r.len);
    }
}

/// Serializes `data` (the payload part).
fn encode(data: &IndexData) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(8 << 20));
    o.u64(data.units.len() as u64);
    for u in &data.units {
        o.u64(*u);
    }
    o.u32(data.units_failed);
    o.u64(data.names.len() as u64);
    o.0.extend_from_slice(data.names.as_bytes());
    for list in &data.types {
        o.u64(list.len() as u64);
        for e in list {
            o.name(e.name);
            o.u64(e.die);
            o.u8(u8::from(e.decl));
        }
    }
    o.u64(data.globals.len() as u64);
    for g in &data.globals {
        o.name(g.name);
        o.u64(g.die);
        o.u64(g.addr);
    }
    o.u64(data.enumerators.len() as u64);
    for e in &data.enumerators {
        o.name(e.name);
        o.u64(e.die);
    }
    o.u64(data.member_names.len() as u64);
    for m in &data.member_names {
        o.name(*m);
    }
    o.0
}

/// Writes the cache file atomically (temporary file, then rename).
pub(crate) fn save(
    path: &Path,
    build_id: &str,
    fp: Fingerprint,
    data: &IndexData,
) -> std::io::Result<()> {
    let payload = encode(data);
    let mut o = Out(Vec::with_capacity(payload.len() + 128));
    o.0.extend_from_slice(MAGIC);
    o.u32(VERSION);
    o.u32(build_id.len() as u32);
    o.0.extend_from_slice(build_id.as_bytes());
    o.u64(fp.file_len);
    o.u64(fp.info_offset);
    o.u64(fp.info_len);
    o.u64(payload.len() as u64);
    o.0.extend_from_slice(&payload);
    o.u64(checksum(&payload));
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&o.0)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A bounds-checked reader over the cache bytes.
struct In<'a> {
    b: &'a [u8],
}

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.b.len() {
            return None;
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Some(h)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    /// A record count, sanity-checked against the bytes left (`rec` bytes per record).
    fn count(&mut self, rec: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n.checked_mul(rec)? <= self.b.len()).then_some(n)
    }
    fn name(&mut self, arena: usize) -> Option<NameRef> {
        let r = NameRef {
            off: self.u32()?,
            len: self.u32()?,
        };
        ((r.off as usize).checked_add(r.len as usize)? <= arena).then_some(r)
    }
}

fn decode(payload: &[u8]) -> Option<IndexData> {
    let mut i = In { b: payload };
    let n = i.count(8)?;
    let mut units = Vec::with_capacity(n);
    for _ in 0..n {
        units.push(i.u64()?);
    }
    if units.windows(2).any(|w| w[0] >= w[1]) {
        return None;
    }
    let units_failed = i.u32()?;
    let arena_len = i.count(1)?;
    let names = std::str::from_utf8(i.take(arena_len)?).ok()?.to_string();
    let mut types: [Vec<TypeEntry>; NKINDS] = Default::default();
    for list in types.iter_mut() {
        let n = i.count(17)?;
        list.reserve_exact(n);
        for _ in 0..n {
            list.push(TypeEntry {
                name: i.name(arena_len)?,
                die: i.u64()?,
                decl: i.u8()? != 0,
            });
        }
    }
    let n = i.count(24)?;
    let mut globals = Vec::with_capacity(n);
    for _ in 0..n {
        globals.push(GlobalEntry {
            name: i.name(arena_len)?,
            die: i.u64()?,
            addr: i.u64()?,
        });
    }
    let n = i.count(16)?;
    let mut enumerators = Vec::with_capacity(n);
    for _ in 0..n {
        enumerators.push(EnumEntry {
            name: i.name(arena_len)?,
            die: i.u64()?,
        });
    }
    let n = i.count(8)?;
    let mut member_names = Vec::with_capacity(n);
    for _ in 0..n {
        member_names.push(i.name(arena_len)?);
    }
    if !i.b.is_empty() {
        return None;
    }
    // Names must fall on character boundaries for `&names[..]` to be sound to slice.
    let data = IndexData {
        units,
        names,
        types,
        globals,
        enumerators,
        member_names,
        units_failed,
    };
    let boundary_ok = |r: &NameRef| {
        data.names.is_char_boundary(r.off as usize)
            && data.names.is_char_boundary(r.off as usize + r.len as usize)
    };
    let all_ok = data.types.iter().flatten().all(|e| boundary_ok(&e.name))
        && data.globals.iter().all(|e| boundary_ok(&e.name))
        && data.enumerators.iter().all(|e| boundary_ok(&e.name))
        && data.member_names.iter().all(boundary_ok);
    all_ok.then_some(data)
}

/// Loads the cache at `path` if it is for `build_id` and `fp` and intact.
pub(crate) fn load(path: &Path, build_id: &str, fp: Fingerprint) -> Option<IndexData> {
    let bytes = std::fs::read(path).ok()?;
    parse(&bytes, build_id, fp)
}

/// Decodes a payload with no header or checksum around it: for the fuzz target, which must reach
/// the decoder with bytes the checksum would otherwise turn away.
pub(crate) fn decode_payload(payload: &[u8]) -> Option<IndexData> {
    decode(payload)
}

fn parse(bytes: &[u8], build_id: &str, fp: Fingerprint) -> Option<IndexData> {
    let mut i = In { b: bytes };
    if i.take(8)? != MAGIC || i.u32()? != VERSION {
        return None;
    }
    let id_len = i.u32()? as usize;
    if i.take(id_len)? != build_id.as_bytes() {
        return None;
    }
    let got = Fingerprint {
        file_len: i.u64()?,
        info_offset: i.u64()?,
        info_len: i.u64()?,
    };
    if got != fp {
        return None;
    }
    let len = i.count(1)?;
    let payload = i.take(len)?;
    if i.u64()? != checksum(payload) || !i.b.is_empty() {
        return None;
    }
    decode(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> IndexData {
        let mut d = IndexData {
            units: vec![0, 100, 250],
            names: "task_structpidlist_head".to_string(),
            ..Default::default()
        };
        d.types[0].push(TypeEntry {
            name: NameRef { off: 0, len: 11 },
            die: 0x40,
            decl: false,
        });
        d.globals.push(GlobalEntry {
            name: NameRef { off: 11, len: 3 },
            die: 0x80,
            addr: 0xffff_ffff_8200_0000,
        });
        d.enumerators.push(EnumEntry {
            name: NameRef { off: 11, len: 3 },
            die: 0x90,
        });
        d.member_names.push(NameRef { off: 14, len: 9 });
        d
    }

    const FP: Fingerprint = Fingerprint {
        file_len: 1000,
        info_offset: 64,
        info_len: 500,
    };

    #[test]
    fn roundtrip_and_rejections() {
        let dir = std::env::temp_dir().join(format!("rkdump-cache-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = cache_path(&dir, "abcdef01").unwrap();
        let d = sample();
        save(&p, "abcdef01", FP, &d).unwrap();
        assert_eq!(load(&p, "abcdef01", FP), Some(sample()));
        // Wrong build-id, wrong fingerprint.
        assert_eq!(load(&p, "abcdef02", FP), None);
        let fp2 = Fingerprint {
            file_len: 1001,
            ..FP
        };
        assert_eq!(load(&p, "abcdef01", fp2), None);
        // Every truncation and every single-byte corruption is rejected, never a panic.
        let bytes = std::fs::read(&p).unwrap();
        for n in 0..bytes.len() {
            assert!(parse(&bytes[..n], "abcdef01", FP).is_none());
        }
        for k in 0..bytes.len() {
            let mut b = bytes.clone();
            b[k] ^= 0x5a;
            assert!(parse(&b, "abcdef01", FP).is_none(), "corruption at {k}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn path_requires_hex() {
        let d = Path::new("/tmp");
        assert!(cache_path(d, "").is_none());
        assert!(cache_path(d, "../etc").is_none());
        assert!(cache_path(d, "ABC123").is_some());
    }
}
