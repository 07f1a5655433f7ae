//! Low-level DWARF access for the type index: locating (and if needed decompressing) the
//! `.debug_*` sections in the ELF bytes, per-unit context (abbreviations, string-offsets base),
//! one-pass attribute extraction from a DIE, and the parallel name scan that feeds
//! [`TypeIndex::build`](super::TypeIndex::build).
//!
//! gimli and object types live here and in `dwarf_index.rs` only; nothing of them is public.
//! Must not import `dump`.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::path::PathBuf;

use gimli::Section as _;
use gimli::{
    constants as dw, AttributeValue, DebugInfoOffset, DebugStrOffsetsBase, EndianSlice,
    LittleEndian, UnitOffset,
};
use object::{Object, ObjectSection};

use super::DebugInfoError;

/// The gimli reader over the ELF bytes.
pub(crate) type R<'a> = EndianSlice<'a, LittleEndian>;
/// A DIE as read by gimli.
pub(crate) type Die<'a> = gimli::DebuggingInformationEntry<R<'a>>;
/// A unit header as read by gimli.
pub(crate) type Header<'a> = gimli::UnitHeader<R<'a>>;

/// A small fast hasher (the Fx multiply-rotate scheme) for name and offset keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 56));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// `HashMap` with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// `HashSet` with [`FxHasher`].
pub(crate) type FxSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// Where one section's bytes are.
#[derive(Debug)]
pub(crate) enum SectionBytes {
    /// Absent.
    Empty,
    /// Uncompressed, at this range of the ELF bytes.
    Range { start: usize, len: usize },
    /// Decompressed into memory.
    Owned(Box<[u8]>),
}

impl SectionBytes {
    pub(crate) fn get<'a>(&'a self, elf: &'a [u8]) -> &'a [u8] {
        match self {
            SectionBytes::Empty => &[],
            SectionBytes::Range { start, len } => start
                .checked_add(*len)
                .and_then(|end| elf.get(*start..end))
                .unwrap_or(&[]),
            SectionBytes::Owned(b) => b,
        }
    }
}

/// The DWARF sections the type index reads, located once in the ELF bytes.
#[derive(Debug)]
pub(crate) struct Sections {
    info: SectionBytes,
    abbrev: SectionBytes,
    str: SectionBytes,
    line_str: SectionBytes,
    str_offsets: SectionBytes,
    line: SectionBytes,
    /// File offset and size of `.debug_info` (a fingerprint for the cache).
    pub(crate) info_fingerprint: (u64, u64),
    /// Whether equal strings have equal `.debug_str` offsets (a linked file: the linker merged
    /// the string sections). Not so in a relocatable `.ko`, where layout signatures must hash
    /// the names' bytes.
    pub(crate) merged_strings: bool,
}

fn elf_error(reason: impl Into<String>) -> DebugInfoError {
    DebugInfoError::BadElf {
        path: PathBuf::from("<ELF image>"),
        reason: reason.into(),
    }
}

impl Sections {
    /// Finds the `.debug_*` sections in an ELF image. Relocation sections are ignored on
    /// purpose: a linked vmlinux needs none for names, types and `DW_OP_addr`.
    pub(crate) fn from_elf(data: &[u8]) -> Result<Self, DebugInfoError> {
        let file = object::File::parse(data).map_err(|e| elf_error(e.to_string()))?;
        if !file.is_little_endian() {
            return Err(elf_error("big-endian ELF files are not supported"));
        }
        let relocatable = file.kind() == object::ObjectKind::Relocatable;
        let link_value = |s: &object::Symbol<'_, '_>| object::ObjectSymbol::address(s);
        let load = |name: &str| load_section(&file, data, name, &link_value);
        let (info, info_fingerprint) = load(".debug_info")?;
        if matches!(info, SectionBytes::Empty) {
            return Err(DebugInfoError::Missing {
                path: PathBuf::from("<ELF image>"),
                what: ".debug_info",
            });
        }
        Ok(Sections {
            info,
            abbrev: load(".debug_abbrev")?.0,
            str: load(".debug_str")?.0,
            line_str: load(".debug_line_str")?.0,
            str_offsets: load(".debug_str_offsets")?.0,
            line: load(".debug_line")?.0,
            info_fingerprint,
            merged_strings: !relocatable,
        })
    }

    /// gimli views of the sections, borrowing `elf`.
    pub(crate) fn dwarf<'a>(&'a self, elf: &'a [u8]) -> Dw<'a> {
        let r = |s: &'a SectionBytes| EndianSlice::new(s.get(elf), LittleEndian);
        Dw {
            info: gimli::DebugInfo::from(r(&self.info)),
            abbrev: gimli::DebugAbbrev::from(r(&self.abbrev)),
            str: gimli::DebugStr::from(r(&self.str)),
            line_str: gimli::DebugLineStr::from(r(&self.line_str)),
            str_offsets: gimli::DebugStrOffsets::from(r(&self.str_offsets)),
            line: gimli::DebugLine::from(r(&self.line)),
        }
    }
}

/// Applies the absolute relocations of `sec` (x86-64 `R_X86_64_32`/`64` and their generic
/// equivalents: symbol value + addend; in a relocatable file section symbols are 0, so string and
/// abbreviation offsets come out right, and `DW_OP_addr` values are section-relative).
/// Relocations of other kinds are left unapplied.
fn apply_relocations(
    file: &object::File<'_>,
    sec: &object::Section<'_, '_>,
    bytes: SectionBytes,
    elf: &[u8],
    symbol_value: &SymbolValue<'_>,
) -> Result<SectionBytes, String> {
    let mut relocs = sec.relocations().peekable();
    if relocs.peek().is_none() {
        return Ok(bytes);
    }
    let mut out = bytes.get(elf).to_vec();
    for (offset, r) in relocs {
        if r.kind() != object::RelocationKind::Absolute {
            continue;
        }
        let sym_value = match r.target() {
            object::RelocationTarget::Symbol(i) => file
                .symbol_by_index(i)
                .map(|s| symbol_value(&s))
                .map_err(|e| e.to_string())?,
            object::RelocationTarget::Absolute => 0,
            _ => continue,
        };
        let at = usize::try_from(offset).map_err(|_| "relocation offset".to_string())?;
        let size = usize::from(r.size() / 8);
        let Some(place) = at.checked_add(size).and_then(|end| out.get_mut(at..end)) else {
            return Err(format!("relocation at {offset:#x} outside the section"));
        };
        let implicit = if r.has_implicit_addend() {
            match size {
                4 => i64::from(u32::from_le_bytes(place.try_into().unwrap_or([0; 4]))),
                8 => i64::from_le_bytes(place.try_into().unwrap_or([0; 8])),
                _ => 0,
            }
        } else {
            0
        };
        let value = sym_value
            .wrapping_add(r.addend() as u64)
            .wrapping_add(implicit as u64);
        match size {
            4 => place.copy_from_slice(&(value as u32).to_le_bytes()),
            8 => place.copy_from_slice(&value.to_le_bytes()),
            _ => {}
        }
    }
    Ok(SectionBytes::Owned(out.into_boxed_slice()))
}

/// Relocated value of a relocation's target symbol (its link value in a `.ko`, or its runtime
/// address when a module's sections are placed where the kernel loaded them).
pub(crate) type SymbolValue<'f> = dyn Fn(&object::Symbol<'_, '_>) -> u64 + 'f;

/// The largest section a debuginfo file may declare (a 6.x vmlinux's `.debug_info` is under
/// 1 GiB uncompressed).
pub(crate) const MAX_SECTION_BYTES: u64 = 4 << 30;

/// Locates (decompressing if needed) section `name` of `file`, whose bytes are `data`, and in
/// a relocatable file applies its absolute relocations with `symbol_value`. Returns the bytes
/// and the section's file offset and stored size (empty and `(0, 0)` when absent).
///
/// A compressed section is decompressed up to the size its header declares, which may be at
/// most [`MAX_SECTION_BYTES`].
pub(crate) fn load_section(
    file: &object::File<'_>,
    data: &[u8],
    name: &str,
    symbol_value: &SymbolValue<'_>,
) -> Result<(SectionBytes, (u64, u64)), DebugInfoError> {
    let relocatable = file.kind() == object::ObjectKind::Relocatable;
    let Some(sec) = file.section_by_name(name) else {
        return Ok((SectionBytes::Empty, (0, 0)));
    };
    let range = sec
        .compressed_file_range()
        .map_err(|e| elf_error(format!("{name}: {e}")))?;
    let fp = (range.offset, range.compressed_size);
    let start = usize::try_from(range.offset).map_err(|_| elf_error("offset"))?;
    let len = usize::try_from(range.compressed_size).map_err(|_| elf_error("size"))?;
    if start.checked_add(len).is_none_or(|end| end > data.len()) {
        return Err(elf_error(format!("{name} lies outside the file")));
    }
    let raw = &data[start..start + len];
    let bytes = match range.format {
        object::CompressionFormat::None => SectionBytes::Range { start, len },
        object::CompressionFormat::Zlib | object::CompressionFormat::Zstandard => {
            // The header's uncompressed size comes from the file: it bounds what is read, and
            // the buffer grows with what really decompresses (zlib expands at most ~1032:1).
            let declared = range.uncompressed_size;
            if declared > MAX_SECTION_BYTES {
                return Err(elf_error(format!(
                    "{name}: claims {declared} bytes uncompressed (more than {MAX_SECTION_BYTES})"
                )));
            }
            let reserve = declared.min((len as u64).saturating_mul(1032));
            let mut out = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
            let read = if range.format == object::CompressionFormat::Zlib {
                flate2::read::ZlibDecoder::new(raw)
                    .take(declared)
                    .read_to_end(&mut out)
            } else {
                // zstd has no such bound of its own: 16384:1 is far above what debug sections
                // reach (3-10:1) and keeps a forged header from asking for gigabytes.
                let limit = declared.min((len as u64).saturating_mul(1 << 14).max(1 << 20));
                zstd::stream::read::Decoder::new(raw)
                    .and_then(|d| d.take(limit).read_to_end(&mut out))
            };
            read.map_err(|e| elf_error(format!("{name}: {:?}: {e}", range.format)))?;
            SectionBytes::Owned(out.into_boxed_slice())
        }
        other => {
            return Err(elf_error(format!(
                "{name}: unsupported compression {other:?}"
            )))
        }
    };
    // A relocatable file (a module's .ko) has its cross-section references (string
    // offsets, abbreviation offsets, DW_OP_addr) in relocations; a linked vmlinux does
    // not need them and they are not applied there.
    let bytes = if relocatable {
        apply_relocations(file, &sec, bytes, data, symbol_value)
            .map_err(|e| elf_error(format!("{name}: {e}")))?
    } else {
        bytes
    };
    Ok((bytes, fp))
}

/// Borrowed gimli section views.
pub(crate) struct Dw<'a> {
    pub(crate) info: gimli::DebugInfo<R<'a>>,
    pub(crate) abbrev: gimli::DebugAbbrev<R<'a>>,
    pub(crate) str: gimli::DebugStr<R<'a>>,
    pub(crate) line_str: gimli::DebugLineStr<R<'a>>,
    pub(crate) str_offsets: gimli::DebugStrOffsets<R<'a>>,
    pub(crate) line: gimli::DebugLine<R<'a>>,
}

/// Converts a gimli error at `offset` to ours.
pub(crate) fn dwarf_err(offset: u64, e: gimli::Error) -> DebugInfoError {
    DebugInfoError::Dwarf {
        offset,
        reason: e.to_string(),
    }
}

/// Per-unit state needed to read its DIEs: abbreviations and string-offsets base.
pub(crate) struct UnitCtx {
    /// `.debug_info` offset of the unit header.
    pub(crate) offset: u64,
    /// The unit's abbreviations.
    pub(crate) abbrevs: gimli::Abbreviations,
    /// `DW_AT_str_offsets_base` of the unit (0 if absent).
    pub(crate) str_base: DebugStrOffsetsBase<usize>,
    /// Address size in bytes.
    pub(crate) address_size: u8,
}

impl UnitCtx {
    /// Reads the unit header at `offset` and its abbreviations.
    pub(crate) fn new(dw: &Dw<'_>, offset: u64) -> Result<Self, DebugInfoError> {
        let header = unit_header(dw, offset)?;
        let abbrevs = header
            .abbreviations(&dw.abbrev)
            .map_err(|e| dwarf_err(offset, e))?;
        let mut str_base = DebugStrOffsetsBase(0);
        if header.version() >= 5 {
            let root = header
                .entry(&abbrevs, header.root_offset())
                .map_err(|e| dwarf_err(offset, e))?;
            if let Some(AttributeValue::DebugStrOffsetsBase(b)) =
                root.attr_value(dw::DW_AT_str_offsets_base)
            {
                str_base = b;
            }
        }
        Ok(UnitCtx {
            offset,
            abbrevs,
            str_base,
            address_size: header.address_size(),
        })
    }

    /// The unit header (re-read; it is a few bytes).
    pub(crate) fn header<'a>(&self, dw: &Dw<'a>) -> Result<Header<'a>, DebugInfoError> {
        unit_header(dw, self.offset)
    }

    /// Reads the DIE at `.debug_info` offset `off`, which must lie in this unit.
    pub(crate) fn entry<'a>(
        &self,
        header: &Header<'a>,
        off: u64,
    ) -> Result<Die<'a>, DebugInfoError> {
        let uo = off
            .checked_sub(self.offset)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| DebugInfoError::Dwarf {
                offset: off,
                reason: "DIE offset outside its unit".into(),
            })?;
        header
            .entry(&self.abbrevs, UnitOffset(uo))
            .map_err(|e| dwarf_err(off, e))
    }

    /// A string attribute's bytes, whatever its form.
    pub(crate) fn attr_str<'a>(&self, dw: &Dw<'a>, v: &AttributeValue<R<'a>>) -> Option<&'a [u8]> {
        match v {
            AttributeValue::String(s) => Some(s.slice()),
            AttributeValue::DebugStrRef(o) => dw.str.get_str(*o).ok().map(|s| s.slice()),
            AttributeValue::DebugLineStrRef(o) => dw.line_str.get_str(*o).ok().map(|s| s.slice()),
            AttributeValue::DebugStrOffsetsIndex(i) => {
                let o = dw
                    .str_offsets
                    .get_str_offset(gimli::Format::Dwarf32, self.str_base, *i)
                    .ok()?;
                dw.str.get_str(o).ok().map(|s| s.slice())
            }
            _ => None,
        }
    }

    /// A reference attribute as a `.debug_info` offset.
    pub(crate) fn attr_ref(&self, v: &AttributeValue<R<'_>>) -> Option<u64> {
        match v {
            AttributeValue::UnitRef(o) => self.offset.checked_add(o.0 as u64),
            AttributeValue::DebugInfoRef(o) => Some(o.0 as u64),
            _ => None,
        }
    }
}

/// Reads the unit header at `.debug_info` offset `offset`.
pub(crate) fn unit_header<'a>(dw: &Dw<'a>, offset: u64) -> Result<Header<'a>, DebugInfoError> {
    let o = usize::try_from(offset).map_err(|_| DebugInfoError::Dwarf {
        offset,
        reason: "unit offset too large".into(),
    })?;
    dw.info
        .header_from_offset(DebugInfoOffset(o))
        .map_err(|e| dwarf_err(offset, e))
}

/// A constant attribute value: its bits and the width of its form (0 for LEB128 forms), and
/// whether the form was signed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Const {
    pub(crate) bits: u64,
    pub(crate) width: u8,
    pub(crate) signed_form: bool,
}

impl Const {
    /// Reads a constant-class value.
    pub(crate) fn from_value(v: &AttributeValue<R<'_>>) -> Option<Const> {
        let (bits, width, signed_form) = match *v {
            AttributeValue::Data1(x) => (u64::from(x), 1, false),
            AttributeValue::Data2(x) => (u64::from(x), 2, false),
            AttributeValue::Data4(x) => (u64::from(x), 4, false),
            AttributeValue::Data8(x) => (x, 8, false),
            AttributeValue::Udata(x) => (x, 0, false),
            AttributeValue::Sdata(x) => (x as u64, 0, true),
            _ => return None,
        };
        Some(Const {
            bits,
            width,
            signed_form,
        })
    }

    /// The value read as unsigned.
    pub(crate) fn unsigned(self) -> u64 {
        self.bits
    }

    /// The value read as signed (sign-extended from the form's width).
    pub(crate) fn signed(self) -> i64 {
        match self.width {
            1 => i64::from(self.bits as u8 as i8),
            2 => i64::from(self.bits as u16 as i16),
            4 => i64::from(self.bits as u32 as i32),
            _ => self.bits as i64,
        }
    }

    /// Whether the value is all ones for its form (i.e. -1 in a fixed-width data form).
    pub(crate) fn is_minus_one(self) -> bool {
        self.signed() == -1
    }
}

/// The attributes of one DIE the type model uses, gathered in one pass.
#[derive(Default)]
pub(crate) struct DieAttrs<'a> {
    pub(crate) name: Option<&'a [u8]>,
    pub(crate) ty: Option<u64>,
    pub(crate) byte_size: Option<u64>,
    pub(crate) encoding: Option<dw::DwAte>,
    pub(crate) declaration: bool,
    pub(crate) member_location: Option<u64>,
    pub(crate) data_bit_offset: Option<u64>,
    pub(crate) bit_offset: Option<u64>,
    pub(crate) bit_size: Option<u64>,
    pub(crate) count: Option<Const>,
    pub(crate) upper_bound: Option<Const>,
    pub(crate) lower_bound: Option<Const>,
    pub(crate) const_value: Option<Const>,
    pub(crate) location: Option<&'a [u8]>,
    pub(crate) specification: Option<u64>,
    pub(crate) abstract_origin: Option<u64>,
}

impl<'a> DieAttrs<'a> {
    /// Extracts the attributes of `die`.
    pub(crate) fn read(ctx: &UnitCtx, dw: &Dw<'a>, die: &Die<'a>) -> DieAttrs<'a> {
        let mut a = DieAttrs::default();
        for attr in die.attrs() {
            let v = attr.value();
            match attr.name() {
                dw::DW_AT_name => a.name = ctx.attr_str(dw, &v),
                dw::DW_AT_type => a.ty = ctx.attr_ref(&v),
                dw::DW_AT_byte_size => a.byte_size = v.udata_value(),
                dw::DW_AT_encoding => {
                    if let AttributeValue::Encoding(e) = v {
                        a.encoding = Some(e);
                    }
                }
                dw::DW_AT_declaration => a.declaration = matches!(v, AttributeValue::Flag(true)),
                dw::DW_AT_data_member_location => {
                    a.member_location = match v {
                        AttributeValue::Exprloc(e) => simple_offset_expr(e.0.slice()),
                        other => other.udata_value(),
                    }
                }
                dw::DW_AT_data_bit_offset => a.data_bit_offset = v.udata_value(),
                dw::DW_AT_bit_offset => a.bit_offset = v.udata_value(),
                dw::DW_AT_bit_size => a.bit_size = v.udata_value(),
                dw::DW_AT_count => a.count = Const::from_value(&attr.raw_value()),
                dw::DW_AT_upper_bound => a.upper_bound = Const::from_value(&attr.raw_value()),
                dw::DW_AT_lower_bound => a.lower_bound = Const::from_value(&attr.raw_value()),
                dw::DW_AT_const_value => a.const_value = Const::from_value(&attr.raw_value()),
                dw::DW_AT_location => {
                    if let AttributeValue::Exprloc(e) = v {
                        a.location = Some(e.0.slice());
                    }
                }
                dw::DW_AT_specification => a.specification = ctx.attr_ref(&v),
                dw::DW_AT_abstract_origin => a.abstract_origin = ctx.attr_ref(&v),
                _ => {}
            }
        }
        a
    }
}

/// Evaluates the only location expressions compilers emit for member offsets:
/// `DW_OP_plus_uconst N` and `DW_OP_constu N`.
fn simple_offset_expr(bytes: &[u8]) -> Option<u64> {
    let (&op, rest) = bytes.split_first()?;
    if op != dw::DW_OP_plus_uconst.0 && op != dw::DW_OP_constu.0 {
        return None;
    }
    let mut r = EndianSlice::new(rest, LittleEndian);
    gimli::Reader::read_uleb128(&mut r).ok()
}

/// The address in a location that is exactly `DW_OP_addr <addr>`.
pub(crate) fn op_addr(expr: &[u8], address_size: u8) -> Option<u64> {
    let (&op, rest) = expr.split_first()?;
    if op != dw::DW_OP_addr.0 || rest.len() != usize::from(address_size) {
        return None;
    }
    match address_size {
        8 => rest.try_into().ok().map(u64::from_le_bytes),
        4 => rest
            .try_into()
            .ok()
            .map(|b: [u8; 4]| u64::from(u32::from_le_bytes(b))),
        _ => None,
    }
}

/// Type namespaces of the index.
pub(crate) const KIND_STRUCT: u8 = 0;
/// `union`.
pub(crate) const KIND_UNION: u8 = 1;
/// `enum`.
pub(crate) const KIND_ENUM: u8 = 2;
/// `typedef`.
pub(crate) const KIND_TYPEDEF: u8 = 3;
/// Base types.
pub(crate) const KIND_BASE: u8 = 4;
/// Number of namespaces.
pub(crate) const NKINDS: usize = 5;

/// The namespace of a DWARF tag, if it names one.
pub(crate) fn tag_kind(tag: dw::DwTag) -> Option<u8> {
    match tag {
        dw::DW_TAG_structure_type | dw::DW_TAG_class_type => Some(KIND_STRUCT),
        dw::DW_TAG_union_type => Some(KIND_UNION),
        dw::DW_TAG_enumeration_type => Some(KIND_ENUM),
        dw::DW_TAG_typedef => Some(KIND_TYPEDEF),
        dw::DW_TAG_base_type => Some(KIND_BASE),
        _ => None,
    }
}

/// One definition (layout) of a named type seen by the scan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Variant {
    /// Layout signature (0 for kinds without one).
    pub(crate) sig: u64,
    /// Lowest DIE offset with this layout.
    pub(crate) die: u64,
    /// How many DIEs had this layout.
    pub(crate) count: u32,
    /// A declaration only (no definition seen yet).
    pub(crate) decl: bool,
}

/// A name as the scan sees it, without reading the string: the `.debug_str` offset for
/// `DW_FORM_strp`/`strx` names (the linker merged `.debug_str`, so equal strings have equal
/// offsets); tag bit 63 with up to 7 bytes packed for short inline strings (gcc writes names of
/// 4 bytes or fewer inline); tag bit 62 with a `.debug_line_str` offset; tag bit 61 with a
/// `.debug_info` offset for longer inline strings. Resolved to text by [`name_of_key`].
pub(crate) type NameKey = u64;

const KEY_PACKED: u64 = 1 << 63;
const KEY_LINE_STR: u64 = 1 << 62;
const KEY_INFO: u64 = 1 << 61;

/// The key of a name attribute value; `None` if it is not a string. Also says whether the key
/// depends on where the string lies (then layout signatures hash its bytes instead).
#[inline]
fn name_key<'a>(
    dw: &Dw<'a>,
    ctx: &UnitCtx,
    v: &AttributeValue<R<'a>>,
) -> Option<(NameKey, Option<&'a [u8]>)> {
    match v {
        AttributeValue::DebugStrRef(o) => Some((o.0 as u64, None)),
        AttributeValue::DebugLineStrRef(o) => Some((KEY_LINE_STR | o.0 as u64, None)),
        AttributeValue::DebugStrOffsetsIndex(i) => {
            let o = dw
                .str_offsets
                .get_str_offset(gimli::Format::Dwarf32, ctx.str_base, *i)
                .ok()?;
            Some((o.0 as u64, None))
        }
        AttributeValue::String(s) => Some(slice_key(dw, s.slice())),
        _ => None,
    }
}

/// The key of a name given as bytes borrowed from one of the sections.
pub(crate) fn slice_key<'a>(dw: &Dw<'a>, s: &'a [u8]) -> (NameKey, Option<&'a [u8]>) {
    if s.len() <= 7 {
        let mut b = [0u8; 8];
        b[..s.len()].copy_from_slice(s);
        return (
            KEY_PACKED | ((s.len() as u64) << 56) | u64::from_le_bytes(b),
            None,
        );
    }
    let within = |sec: &[u8]| {
        let base = sec.as_ptr() as usize;
        let p = s.as_ptr() as usize;
        (p >= base && p < base + sec.len()).then(|| (p - base) as u64)
    };
    if let Some(o) = within(dw.str.reader().slice()) {
        return (o, None);
    }
    if let Some(o) = within(dw.line_str.reader().slice()) {
        return (KEY_LINE_STR | o, None);
    }
    match within(dw.info.reader().slice()) {
        Some(o) => (KEY_INFO | o, Some(s)),
        // Not in a section we know (cannot happen for names read from them): hash the bytes.
        None => {
            let mut h = FxHasher::default();
            h.write(s);
            (KEY_INFO | (h.finish() >> 4), Some(s))
        }
    }
}

/// The text of a name key.
pub(crate) fn name_of_key<'a>(dw: &Dw<'a>, key: NameKey) -> Option<std::borrow::Cow<'a, str>> {
    let cstr = |b: &'a [u8]| -> &'a [u8] {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        &b[..end]
    };
    let bytes: std::borrow::Cow<'a, [u8]> = if key & KEY_PACKED != 0 {
        let len = ((key >> 56) & 0x7f) as usize;
        let b = (key & ((1 << 56) - 1)).to_le_bytes();
        std::borrow::Cow::Owned(b.get(..len.min(7))?.to_vec())
    } else if key & KEY_LINE_STR != 0 {
        let o = usize::try_from(key & !KEY_LINE_STR).ok()?;
        std::borrow::Cow::Borrowed(cstr(dw.line_str.reader().slice().get(o..)?))
    } else if key & KEY_INFO != 0 {
        let o = usize::try_from(key & !KEY_INFO).ok()?;
        std::borrow::Cow::Borrowed(cstr(dw.info.reader().slice().get(o..)?))
    } else {
        let o = usize::try_from(key).ok()?;
        std::borrow::Cow::Borrowed(cstr(dw.str.reader().slice().get(o..)?))
    };
    Some(match bytes {
        std::borrow::Cow::Borrowed(b) => String::from_utf8_lossy(b),
        std::borrow::Cow::Owned(b) => {
            std::borrow::Cow::Owned(String::from_utf8_lossy(&b).into_owned())
        }
    })
}

/// What the scan of some units found, keyed by [`NameKey`]s.
#[derive(Default)]
pub(crate) struct Acc {
    pub(crate) types: FxMap<(u8, NameKey), Vec<Variant>>,
    /// name → distinct (address, lowest DIE).
    pub(crate) globals: FxMap<NameKey, Vec<(u64, u64)>>,
    /// enumerator name → lowest enum DIE offset.
    pub(crate) enumerators: FxMap<NameKey, u64>,
    /// Member names that are `.debug_str` offsets, as a bitmap over the section (most member
    /// DIEs repeat a name already seen: setting a bit is cheaper than a hash-set insert).
    pub(crate) member_strp: Vec<u64>,
    /// Other member name keys.
    pub(crate) members: FxSet<NameKey>,
    pub(crate) units_failed: usize,
    pub(crate) first_error: Option<String>,
    /// Structs/unions/enums already summarized by this worker, by [`Fingerprint`]: their
    /// layout signature and (for enums) enumerator names, so a repeat is jumped over.
    seen: FxMap<Fingerprint, (u64, Box<[NameKey]>)>,
}

/// Identifies one source definition of a struct/union/enum across the units of a linked file
/// (where equal names have equal keys): name, size, declaring file path and line, and the
/// encoded length of its DIE subtree (which also changes when configuration `#ifdef`s change
/// the members).
///
/// Only named types are fingerprinted. Anonymous ones are not: inside a macro expansion
/// (`struct_group()` in `struct sk_buff`) every anonymous union gets the invocation's line, and
/// two of them of equal size and encoding collide. The assumption for named types (one name,
/// file, line, size and encoding means one member list) is checked by the tests: the index
/// of the real vmlinux and of a module is byte-identical with and without the jumps. A repeat with the same fingerprint is taken to have the same layout, and
/// its children are not read again (a vmlinux describes the same struct in hundreds of units).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Fingerprint {
    kind: u8,
    name: NameKey,
    size: u64,
    /// Hash of the declaring file's path (directory and name from the line table).
    file: u64,
    line: u64,
    len: u64,
    decl: bool,
}

impl Acc {
    #[inline]
    fn add_member(&mut self, key: NameKey, str_len: usize) {
        let bit = key as usize;
        if key < (1 << 61) && bit < str_len {
            if self.member_strp.is_empty() {
                self.member_strp = vec![0; str_len / 64 + 1];
            }
            if let Some(w) = self.member_strp.get_mut(bit / 64) {
                *w |= 1 << (bit % 64);
                return;
            }
        }
        self.members.insert(key);
    }

    /// All member name keys collected.
    pub(crate) fn member_keys(&self) -> impl Iterator<Item = NameKey> + '_ {
        let strp = self.member_strp.iter().enumerate().flat_map(|(i, &w)| {
            (0..64u64)
                .filter(move |b| w >> b & 1 != 0)
                .map(move |b| i as u64 * 64 + b)
        });
        strp.chain(self.members.iter().copied())
    }

    fn add_type(&mut self, kind: u8, name: NameKey, v: Variant) {
        let list = self.types.entry((kind, name)).or_default();
        merge_variant(list, v);
    }

    fn add_global(&mut self, name: NameKey, addr: u64, die: u64) {
        let list = self.globals.entry(name).or_default();
        match list.iter_mut().find(|(a, _)| *a == addr) {
            Some(e) => e.1 = e.1.min(die),
            None => list.push((addr, die)),
        }
    }

    /// Folds `other` into `self`.
    pub(crate) fn merge(mut self, other: Acc) -> Acc {
        for (k, vs) in other.types {
            let list = self.types.entry(k).or_default();
            for v in vs {
                merge_variant(list, v);
            }
        }
        for (k, vs) in other.globals {
            for (addr, die) in vs {
                self.add_global(k, addr, die);
            }
        }
        for (k, die) in other.enumerators {
            let e = self.enumerators.entry(k).or_insert(die);
            *e = (*e).min(die);
        }
        if self.member_strp.len() < other.member_strp.len() {
            self.member_strp.resize(other.member_strp.len(), 0);
        }
        for (a, b) in self.member_strp.iter_mut().zip(&other.member_strp) {
            *a |= *b;
        }
        self.members.extend(other.members);
        self.units_failed += other.units_failed;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self
    }
}

/// Adds a variant to a name's list: a definition replaces lone declarations; equal layouts
/// merge (lowest offset, summed count).
pub(crate) fn merge_variant(list: &mut Vec<Variant>, v: Variant) {
    if v.decl {
        match list.first_mut() {
            None => list.push(v),
            Some(first) if first.decl => {
                first.die = first.die.min(v.die);
                first.count += v.count;
            }
            Some(_) => {}
        }
        return;
    }
    if list.first().is_some_and(|f| f.decl) {
        list.clear();
    }
    match list.iter_mut().find(|x| x.sig == v.sig) {
        Some(x) => {
            x.die = x.die.min(v.die);
            x.count += v.count;
        }
        None => list.push(v),
    }
}

/// What an open DIE with children is, during the scan.
enum FrameKind {
    /// The unit's root DIE.
    Unit,
    /// A struct/union being summarized.
    Agg {
        kind: u8,
        name: Option<NameKey>,
        die: u64,
        decl: bool,
        hasher: FxHasher,
        members: u32,
        fp: Option<Fingerprint>,
        /// Only members as children (so a repeat can be jumped over losing nothing).
        pure: bool,
    },
    /// An enum: its enumerators are indexed.
    Enum {
        name: Option<NameKey>,
        die: u64,
        decl: bool,
        hasher: FxHasher,
        fp: Option<Fingerprint>,
        pure: bool,
        enumerators: Vec<NameKey>,
    },
    /// Anything whose children are not indexed.
    Other,
}

struct Frame {
    depth: isize,
    kind: FrameKind,
}

fn finish_frame(f: Frame, acc: &mut Acc) {
    match f.kind {
        FrameKind::Agg {
            kind,
            name: Some(name),
            die,
            decl,
            mut hasher,
            members,
            fp,
            pure,
        } => {
            hasher.write_u32(members);
            let sig = hasher.finish();
            if let (Some(fp), true) = (fp, pure) {
                acc.seen.insert(fp, (sig, Box::default()));
            }
            acc.add_type(
                kind,
                name,
                Variant {
                    sig,
                    die,
                    count: 1,
                    decl,
                },
            )
        }
        FrameKind::Enum {
            name: Some(name),
            die,
            decl,
            hasher,
            fp,
            pure,
            enumerators,
        } => {
            let sig = hasher.finish();
            if let (Some(fp), true) = (fp, pure) {
                acc.seen.insert(fp, (sig, enumerators.into_boxed_slice()));
            }
            acc.add_type(
                KIND_ENUM,
                name,
                Variant {
                    sig,
                    die,
                    count: 1,
                    decl,
                },
            )
        }
        _ => {}
    }
}

/// The file table of a unit's line program, read on first use, for [`Fingerprint`]s.
#[derive(Default)]
struct UnitFiles<'a> {
    stmt_list: Option<gimli::DebugLineOffset<usize>>,
    program: Option<Option<gimli::IncompleteLineProgram<R<'a>>>>,
    hashes: FxMap<u64, Option<u64>>,
}

impl<'a> UnitFiles<'a> {
    /// Hash of the path (directory and file name) of file `index`; `None` if unknown.
    fn path_hash(&mut self, dw: &Dw<'a>, ctx: &UnitCtx, index: u64) -> Option<u64> {
        if let Some(h) = self.hashes.get(&index) {
            return *h;
        }
        let stmt_list = self.stmt_list;
        let program = self.program.get_or_insert_with(|| {
            dw.line
                .program(stmt_list?, ctx.address_size, None, None)
                .ok()
        });
        let h = program.as_ref().and_then(|p| {
            let header = p.header();
            let file = header.file(index)?;
            let mut hasher = FxHasher::default();
            if let Some(dir) = file.directory(header) {
                hasher.write(ctx.attr_str(dw, &dir)?);
            }
            hasher.write_u8(b'/');
            hasher.write(ctx.attr_str(dw, &file.path_name())?);
            Some(hasher.finish())
        });
        self.hashes.insert(index, h);
        h
    }
}

/// Scans one unit: named types (with a layout signature), globals with a `DW_OP_addr`
/// location, enumerators and member names. Only the unit's top level and the insides of
/// structs, unions and enums are read; function bodies are jumped over with `DW_AT_sibling`.
/// With `fingerprints`, a named struct/union/enum this accumulator already summarized (same
/// [`Fingerprint`]) is recorded without reading its children again.
/// On malformed DWARF it returns the error; what was found before it stays in `acc`.
pub(crate) fn scan_unit<'a>(
    dw: &Dw<'a>,
    unit_off: u64,
    merged_strings: bool,
    fingerprints: bool,
    acc: &mut Acc,
) -> Result<(), DebugInfoError> {
    // Fingerprints compare name keys, which needs merged strings.
    let fingerprints = fingerprints && merged_strings;
    let ctx = UnitCtx::new(dw, unit_off)?;
    let header = ctx.header(dw)?;
    let abbrevs = &ctx.abbrevs;
    let addr_size = ctx.address_size;
    let str_len = dw.str.reader().len();
    let err = |e| dwarf_err(unit_off, e);
    let mut raw = header.entries_raw(abbrevs, None).map_err(err)?;
    let mut bias: isize = 0;
    let mut files = UnitFiles::default();
    let mut stack: Vec<Frame> = Vec::with_capacity(16);
    // (spec/origin DIE, variable DIE, address) for globals named through another DIE.
    let mut pending: Vec<(u64, u64, u64)> = Vec::new();

    while !raw.is_empty() {
        let depth = raw.next_depth() + bias;
        let uoff = raw.next_offset().0 as u64;
        let die = unit_off.saturating_add(uoff);
        let Some(abbrev) = raw.read_abbreviation().map_err(err)? else {
            continue;
        };
        while stack.last().is_some_and(|t| t.depth >= depth) {
            if let Some(f) = stack.pop() {
                finish_frame(f, acc);
            }
        }
        let tag = abbrev.tag();
        let specs = abbrev.attributes();
        let parent_is = |stack: &Vec<Frame>| match stack.last().map(|f| &f.kind) {
            None => 0u8,
            Some(FrameKind::Unit) => 1,
            Some(FrameKind::Agg { .. }) => 2,
            Some(FrameKind::Enum { .. }) => 3,
            Some(FrameKind::Other) => 4,
        };
        let parent = parent_is(&stack);
        let kind = tag_kind(tag);
        match stack.last_mut().map(|f| &mut f.kind) {
            Some(FrameKind::Agg { pure, .. })
                if tag != dw::DW_TAG_member || abbrev.has_children() =>
            {
                *pure = false
            }
            Some(FrameKind::Enum { pure, .. })
                if tag != dw::DW_TAG_enumerator || abbrev.has_children() =>
            {
                *pure = false
            }
            _ => {}
        }
        let wanted = match parent {
            0 => true,
            1 => kind.is_some() || tag == dw::DW_TAG_variable,
            2 => {
                tag == dw::DW_TAG_member
                    || matches!(kind, Some(KIND_STRUCT | KIND_UNION | KIND_ENUM))
            }
            3 => tag == dw::DW_TAG_enumerator,
            _ => false,
        };
        if !wanted {
            // Skip this DIE; jump over its children when DW_AT_sibling allows.
            let mut sibling = None;
            let at = if abbrev.has_children() {
                specs.iter().position(|s| s.name() == dw::DW_AT_sibling)
            } else {
                None
            };
            match at {
                Some(i) => {
                    skip_run(&mut raw, specs.get(..i)).map_err(err)?;
                    if let Some(spec) = specs.get(i) {
                        let a = raw.read_attribute(*spec).map_err(err)?;
                        if let AttributeValue::UnitRef(o) = a.value() {
                            sibling = Some(o);
                        }
                    }
                    skip_run(&mut raw, specs.get(i + 1..)).map_err(err)?;
                }
                None => raw.skip_attributes(specs).map_err(err)?,
            }
            if abbrev.has_children() {
                match sibling {
                    Some(s) if (s.0 as u64) > uoff => {
                        raw = header.entries_raw(abbrevs, Some(s)).map_err(err)?;
                        bias = depth;
                    }
                    _ => stack.push(Frame {
                        depth,
                        kind: FrameKind::Other,
                    }),
                }
            }
            continue;
        }
        if parent == 0 {
            for spec in specs {
                if spec.name() == dw::DW_AT_stmt_list {
                    if let AttributeValue::DebugLineRef(o) =
                        raw.read_attribute(*spec).map_err(err)?.value()
                    {
                        files.stmt_list = Some(o);
                    }
                } else {
                    raw.skip_attributes(std::slice::from_ref(spec))
                        .map_err(err)?;
                }
            }
            if abbrev.has_children() {
                stack.push(Frame {
                    depth,
                    kind: FrameKind::Unit,
                });
            }
            continue;
        }

        // Read the attributes we use.
        let mut name: Option<NameKey> = None;
        let mut name_bytes: Option<&'a [u8]> = None;
        let mut decl = false;
        let mut byte_size: Option<u64> = None;
        let mut loc_expr: Option<&'a [u8]> = None;
        let mut spec_ref: Option<u64> = None;
        let mut member_loc: Option<u64> = None;
        let mut bit_a: Option<u64> = None;
        let mut bit_b: Option<u64> = None;
        let mut const_bits: Option<u64> = None;
        let mut decl_line: Option<u64> = None;
        let mut decl_file: Option<u64> = None;
        let mut sibling: Option<u64> = None;
        let aggregate = matches!(kind, Some(KIND_STRUCT | KIND_UNION | KIND_ENUM));
        let mut run_start = 0usize;
        for (i, spec) in specs.iter().enumerate() {
            let extra = aggregate
                && matches!(
                    spec.name(),
                    dw::DW_AT_decl_line | dw::DW_AT_decl_file | dw::DW_AT_sibling
                );
            if !extra
                && !matches!(
                    spec.name(),
                    dw::DW_AT_name
                        | dw::DW_AT_declaration
                        | dw::DW_AT_byte_size
                        | dw::DW_AT_location
                        | dw::DW_AT_specification
                        | dw::DW_AT_abstract_origin
                        | dw::DW_AT_data_member_location
                        | dw::DW_AT_data_bit_offset
                        | dw::DW_AT_bit_offset
                        | dw::DW_AT_bit_size
                        | dw::DW_AT_const_value
                )
            {
                continue;
            }
            // Skip the run of unused attributes before this one in one call.
            skip_run(&mut raw, specs.get(run_start..i)).map_err(err)?;
            run_start = i + 1;
            let a = raw.read_attribute_inline(*spec).map_err(err)?;
            match a.name() {
                dw::DW_AT_name => {
                    if let Some((k, b)) = name_key(dw, &ctx, &a.raw_value()) {
                        name = Some(k);
                        name_bytes = if merged_strings {
                            b
                        } else {
                            ctx.attr_str(dw, &a.raw_value())
                        };
                    }
                }
                dw::DW_AT_declaration => decl = matches!(a.value(), AttributeValue::Flag(true)),
                dw::DW_AT_byte_size => byte_size = a.udata_value(),
                dw::DW_AT_location => {
                    if let AttributeValue::Exprloc(e) = a.value() {
                        loc_expr = Some(e.0.slice());
                    }
                }
                dw::DW_AT_specification | dw::DW_AT_abstract_origin => {
                    spec_ref = ctx.attr_ref(&a.value())
                }
                dw::DW_AT_data_member_location => member_loc = a.udata_value(),
                dw::DW_AT_data_bit_offset | dw::DW_AT_bit_offset => bit_a = a.udata_value(),
                dw::DW_AT_bit_size => bit_b = a.udata_value(),
                dw::DW_AT_const_value => {
                    const_bits = Const::from_value(&a.raw_value()).map(Const::unsigned)
                }
                dw::DW_AT_decl_line => decl_line = a.udata_value(),
                dw::DW_AT_decl_file => decl_file = a.udata_value(),
                dw::DW_AT_sibling => {
                    if let AttributeValue::UnitRef(o) = a.value() {
                        sibling = Some(o.0 as u64);
                    }
                }
                _ => {}
            }
        }

        skip_run(&mut raw, specs.get(run_start..)).map_err(err)?;

        if tag == dw::DW_TAG_member {
            if let Some(FrameKind::Agg {
                hasher, members, ..
            }) = stack.last_mut().map(|f| &mut f.kind)
            {
                match name_bytes {
                    Some(b) => hasher.write(b),
                    None => hasher.write_u64(name.unwrap_or(u64::MAX)),
                }
                hasher.write_u64(member_loc.unwrap_or(u64::MAX));
                hasher.write_u64(bit_a.unwrap_or(u64::MAX));
                hasher.write_u64(bit_b.unwrap_or(u64::MAX));
                *members += 1;
            }
            if let Some(n) = name {
                acc.add_member(n, str_len);
            }
            if abbrev.has_children() {
                stack.push(Frame {
                    depth,
                    kind: FrameKind::Other,
                });
            }
            continue;
        }
        if tag == dw::DW_TAG_enumerator {
            if let Some(FrameKind::Enum {
                hasher,
                die: edie,
                enumerators,
                ..
            }) = stack.last_mut().map(|f| &mut f.kind)
            {
                match name_bytes {
                    Some(b) => hasher.write(b),
                    None => hasher.write_u64(name.unwrap_or(u64::MAX)),
                }
                hasher.write_u64(const_bits.unwrap_or(u64::MAX));
                if let Some(n) = name {
                    let e = acc.enumerators.entry(n).or_insert(*edie);
                    *e = (*e).min(*edie);
                    enumerators.push(n);
                }
            }
            if abbrev.has_children() {
                stack.push(Frame {
                    depth,
                    kind: FrameKind::Other,
                });
            }
            continue;
        }
        if tag == dw::DW_TAG_variable {
            if let Some(addr) = loc_expr.and_then(|e| op_addr(e, addr_size)) {
                match (name, spec_ref) {
                    (Some(n), _) => acc.add_global(n, addr, die),
                    (None, Some(s)) => pending.push((s, die, addr)),
                    (None, None) => {}
                }
            }
            if abbrev.has_children() {
                stack.push(Frame {
                    depth,
                    kind: FrameKind::Other,
                });
            }
            continue;
        }
        let Some(kind) = kind else { continue };
        let mut hasher = FxHasher::default();
        hasher.write_u64(byte_size.unwrap_or(u64::MAX));
        // A repeat of a struct/union/enum this worker already summarized: record it with the
        // known signature and jump over its children.
        let file = match decl_file {
            Some(f) if fingerprints && aggregate && abbrev.has_children() => {
                files.path_hash(dw, &ctx, f)
            }
            _ => None,
        };
        let fp = match (name, sibling, decl_line, file) {
            (Some(n), Some(sib), Some(line), Some(file))
                if fingerprints && aggregate && abbrev.has_children() && sib > uoff =>
            {
                Some((
                    Fingerprint {
                        kind,
                        name: n,
                        size: byte_size.unwrap_or(u64::MAX),
                        file,
                        line,
                        len: sib - uoff,
                        decl,
                    },
                    sib,
                ))
            }
            _ => None,
        };
        if let Some((f, sib)) = fp {
            if let Some((sig, enumerators)) = acc.seen.get(&f) {
                let sig = *sig;
                for &e in enumerators.iter() {
                    let v = acc.enumerators.entry(e).or_insert(die);
                    *v = (*v).min(die);
                }
                acc.add_type(
                    kind,
                    f.name,
                    Variant {
                        sig,
                        die,
                        count: 1,
                        decl,
                    },
                );
                let s = usize::try_from(sib).unwrap_or(usize::MAX);
                raw = header
                    .entries_raw(abbrevs, Some(gimli::UnitOffset(s)))
                    .map_err(err)?;
                bias = depth;
                continue;
            }
        }
        let fp = fp.map(|(f, _)| f);
        match kind {
            KIND_STRUCT | KIND_UNION => {
                let frame = Frame {
                    depth,
                    kind: FrameKind::Agg {
                        kind,
                        name,
                        die,
                        decl,
                        hasher,
                        members: 0,
                        fp,
                        pure: true,
                    },
                };
                if abbrev.has_children() {
                    stack.push(frame);
                } else {
                    finish_frame(frame, acc);
                }
            }
            KIND_ENUM => {
                let frame = Frame {
                    depth,
                    kind: FrameKind::Enum {
                        name,
                        die,
                        decl,
                        hasher,
                        fp,
                        pure: true,
                        enumerators: Vec::new(),
                    },
                };
                if abbrev.has_children() {
                    stack.push(frame);
                } else {
                    finish_frame(frame, acc);
                }
            }
            _ => {
                if let Some(n) = name {
                    let sig = if kind == KIND_BASE {
                        byte_size.unwrap_or(0)
                    } else {
                        0
                    };
                    acc.add_type(
                        kind,
                        n,
                        Variant {
                            sig,
                            die,
                            count: 1,
                            decl,
                        },
                    );
                }
                if abbrev.has_children() {
                    stack.push(Frame {
                        depth,
                        kind: FrameKind::Other,
                    });
                }
            }
        }
    }
    while let Some(f) = stack.pop() {
        finish_frame(f, acc);
    }
    // Globals whose defining DIE names them only through DW_AT_specification/abstract_origin.
    for (target, die, addr) in pending {
        let mut at = target;
        for _ in 0..4 {
            // Specifications of globals lie in the same unit (gcc without LTO); others are
            // not followed here.
            let Ok(d) = ctx.entry(&header, at) else {
                break;
            };
            let a = DieAttrs::read(&ctx, dw, &d);
            if let Some(n) = a.name {
                acc.add_global(slice_key(dw, n).0, addr, die);
                break;
            }
            match a.specification.or(a.abstract_origin) {
                Some(next) => at = next,
                None => break,
            }
        }
    }
    Ok(())
}

/// Skips a run of attributes (nothing for an empty or absent run).
#[inline]
fn skip_run(
    raw: &mut gimli::EntriesRaw<'_, R<'_>>,
    specs: Option<&[gimli::AttributeSpecification]>,
) -> gimli::Result<()> {
    match specs {
        Some(s) if !s.is_empty() => raw.skip_attributes(s),
        _ => Ok(()),
    }
}

/// Lists the `.debug_info` offsets of all units, stopping at the first unreadable header.
pub(crate) fn unit_offsets(dw: &Dw<'_>) -> (Vec<u64>, Option<String>) {
    let mut out = Vec::new();
    let mut iter = dw.info.units();
    loop {
        match iter.next() {
            Ok(Some(h)) => {
                if let Some(o) = h.debug_info_offset() {
                    out.push(o.0 as u64);
                }
            }
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
}
