//! Object files on disk for module debuginfo: a `.ko`/`.ko.debug` mapped as it is, or a
//! compressed module (`.ko.xz`, `.ko.zst`, `.ko.gz`) decompressed into memory; GNU build-ids
//! of files and of in-memory `.note.gnu.build-id` sections; and the `.build-id/xx/rest.debug`
//! layout of debuginfo packages.
//!
//! object types stay inside this file. Must not import `dump`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use object::Object;

use super::DebugInfoError;

/// `NT_GNU_BUILD_ID`, the note type of a GNU build-id.
const NT_GNU_BUILD_ID: u32 = 3;
/// Largest decompressed module accepted (a guard against a corrupt or hostile file).
const MAX_DECOMPRESSED: u64 = 1 << 31;

/// The bytes of an object file, shared and read-only.
pub type ObjectBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// The compression a module file's name says it has.
fn compression(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    ["xz", "zst", "gz"]
        .into_iter()
        .find(|ext| name.ends_with(&format!(".{ext}")))
}

/// Reads `path`: mapped when plain, decompressed when its name ends in `.xz`, `.zst` or `.gz`.
pub fn read_object(path: &Path) -> Result<ObjectBytes, DebugInfoError> {
    let io = |source| DebugInfoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let Some(kind) = compression(path) else {
        // SAFETY: read-only mapping of a file this process does not modify.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        return Ok(Arc::new(map));
    };
    let bad = |reason: String| DebugInfoError::BadElf {
        path: path.to_path_buf(),
        reason,
    };
    let input = std::io::BufReader::new(file);
    let mut out = Vec::new();
    match kind {
        "xz" => {
            let mut limited = input.take(MAX_DECOMPRESSED);
            lzma_rs::xz_decompress(&mut limited, &mut out).map_err(|e| bad(format!("xz: {e}")))?;
        }
        "zst" => {
            zstd::stream::Decoder::new(input)
                .map_err(|e| bad(format!("zstd: {e}")))?
                .take(MAX_DECOMPRESSED)
                .read_to_end(&mut out)
                .map_err(|e| bad(format!("zstd: {e}")))?;
        }
        _ => {
            flate2::read::GzDecoder::new(input)
                .take(MAX_DECOMPRESSED)
                .read_to_end(&mut out)
                .map_err(|e| bad(format!("gzip: {e}")))?;
        }
    }
    if object::File::parse(&out[..]).is_err() {
        return Err(bad(format!("decompressed {kind} data is not an ELF file")));
    }
    Ok(Arc::new(out))
}

/// The GNU build-id of an ELF image, as lowercase hex.
pub fn build_id_hex(elf: &[u8]) -> Option<String> {
    let file = object::File::parse(elf).ok()?;
    Some(hex(file.build_id().ok()??))
}

/// The build-id in the bytes of a `.note.gnu.build-id` section (notes as the kernel keeps
/// them in memory: `namesz, descsz, type`, then the name and the descriptor, each padded to
/// 4 bytes), as lowercase hex.
pub fn note_build_id(mut notes: &[u8]) -> Option<String> {
    let word = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let pad = |n: usize| n.checked_add(3).map(|v| v & !3);
    while notes.len() >= 12 {
        let namesz = usize::try_from(word(notes, 0)?).ok()?;
        let descsz = usize::try_from(word(notes, 4)?).ok()?;
        let ty = word(notes, 8)?;
        let name_end = 12usize.checked_add(pad(namesz)?)?;
        let desc_end = name_end.checked_add(descsz)?;
        let name = notes.get(12..12 + namesz)?;
        let desc = notes.get(name_end..desc_end)?;
        if ty == NT_GNU_BUILD_ID && name.starts_with(b"GNU") && !desc.is_empty() {
            return Some(hex(desc));
        }
        notes = notes.get(name_end.checked_add(pad(descsz)?)?..)?;
    }
    None
}

/// Where a debuginfo package puts the file of build-id `id` under `root`
/// (`root/xx/rest.debug`, `root` usually `/usr/lib/debug/.build-id`).
pub fn build_id_path(root: &Path, id: &str) -> Option<PathBuf> {
    if id.len() < 3 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(root.join(&id[..2]).join(format!("{}.debug", &id[2..])))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether the ELF object `elf` may name `name` in its DWARF: a cheap check, before its type
/// index is built, that `.debug_str` holds `name` (as a whole string or the tail of one, since
/// linkers merge string tails). `true` whenever it cannot tell: no or a compressed
/// `.debug_str`, or a name of 4 bytes or less, which compilers may keep inline.
pub fn debug_str_may_name(elf: &[u8], name: &str) -> bool {
    use object::{Object, ObjectSection};
    if name.len() <= 4 {
        return true;
    }
    let Ok(file) = object::File::parse(elf) else {
        return true;
    };
    let Some(sec) = file.section_by_name(".debug_str") else {
        return true;
    };
    match sec.compressed_file_range() {
        Ok(r) if r.format == object::CompressionFormat::None => {}
        _ => return true,
    }
    let Ok(strings) = sec.data() else {
        return true;
    };
    // A string that ends with `name` puts `name` right before a NUL: one SIMD substring search
    // instead of splitting the section into its strings.
    let mut needle = Vec::with_capacity(name.len() + 1);
    needle.extend_from_slice(name.as_bytes());
    needle.push(0);
    memchr::memmem::find(strings, &needle).is_some() || strings.ends_with(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_give_the_build_id() {
        let mut n = Vec::new();
        // An unrelated note first, then the build-id.
        n.extend_from_slice(&4u32.to_le_bytes());
        n.extend_from_slice(&2u32.to_le_bytes());
        n.extend_from_slice(&1u32.to_le_bytes());
        n.extend_from_slice(b"Xen\0\x01\x02\0\0");
        n.extend_from_slice(&4u32.to_le_bytes());
        n.extend_from_slice(&3u32.to_le_bytes());
        n.extend_from_slice(&NT_GNU_BUILD_ID.to_le_bytes());
        n.extend_from_slice(b"GNU\0\xab\xcd\xef");
        assert_eq!(note_build_id(&n).as_deref(), Some("abcdef"));
        assert_eq!(note_build_id(&n[..20]), None);
        assert_eq!(note_build_id(&[0xff; 40]), None);
    }

    #[test]
    fn build_id_paths() {
        let p = build_id_path(Path::new("/r"), "45a67faf").unwrap();
        assert_eq!(p, Path::new("/r/45/a67faf.debug"));
        assert!(build_id_path(Path::new("/r"), "zz").is_none());
        assert!(build_id_path(Path::new("/r"), "../../x").is_none());
    }

    #[test]
    fn debug_str_names_what_the_dwarf_names() {
        // struct node { ... struct node **children; ... } built with gcc -g -gdwarf-5.
        let elf = include_bytes!("../../fuzz/seeds/dwarf/node-dwarf5.o");
        assert!(debug_str_may_name(elf, "children"));
        assert!(debug_str_may_name(elf, "list_head"));
        assert!(!debug_str_may_name(elf, "mapped_device"));
        // Short names may be kept inline in .debug_info: never ruled out.
        assert!(debug_str_may_name(elf, "abc"));
        assert!(debug_str_may_name(b"not an ELF file", "mapped_device"));
    }
}
