//! The DWARF name index (`TypeIndex`): built once over all units in parallel, it maps type,
//! global and enumerator names to DIE offsets; types are materialized lazily into the owned
//! model of [`types`](super::types) and cached.
//!
//! Deduplication: a named struct/union/enum is described in many units; the index keeps one
//! entry per distinct layout (a signature over size, member names, offsets and bitfields),
//! ranked most common first. Typedefs and base types are deduplicated by name alone.
//! References from one type to a named type are canonicalized to the index's entry for that
//! name when the name has a single layout (the usual case in a vmlinux), so `TypeId`s compare
//! equal across units; declarations (`DW_AT_declaration`) resolve to the definition.
//! Where a name has several layouts (common across modules), [`TypeIndex::find_type_in_unit`]
//! picks the one of a given unit.
//!
//! Speed: only unit top levels and the insides of structs, unions and enums are read (function
//! bodies are jumped over with `DW_AT_sibling`), and a named struct/union/enum whose
//! definition a worker has already summarized (same name, size, declaring file and line,
//! encoded length) is recorded without reading its members again.
//!
//! Modules: a module `.ko` (relocatable ELF) gets its own `TypeIndex`; its `.debug_*`
//! relocations are applied (string offsets need them) and `DW_OP_addr` values of its globals
//! come out section-relative, for the module layer to add the section's load address.
//! Variables local to functions are not indexed (as in drgn).
//!
//! Must not import `dump`.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use gimli::constants as dw;
use rayon::prelude::*;

use super::reader::{
    self, dwarf_err, Acc, Const, DieAttrs, Dw, FxMap, Sections, UnitCtx, KIND_BASE, KIND_ENUM,
    KIND_STRUCT, KIND_TYPEDEF, KIND_UNION, NKINDS,
};
use super::types::{
    normalize_base_name, BaseEncoding, Global, Member, MemberInfo, Qualifier, StructKind, Type,
    TypeId,
};
use super::DebugInfoError;

/// How deep type chains are followed before they are declared cyclic (malformed DWARF).
const MAX_DEPTH: usize = 64;

/// A name in the index's string arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameRef {
    pub(crate) off: u32,
    pub(crate) len: u32,
}

/// One named type definition (or a lone declaration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeEntry {
    pub(crate) name: NameRef,
    pub(crate) die: u64,
    pub(crate) decl: bool,
}

/// One global variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GlobalEntry {
    pub(crate) name: NameRef,
    pub(crate) die: u64,
    pub(crate) addr: u64,
}

/// One enumerator: its name and the enum type's DIE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EnumEntry {
    pub(crate) name: NameRef,
    pub(crate) die: u64,
}

/// The persistent part of the index (what the cache stores).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct IndexData {
    /// `.debug_info` offsets of all units, ascending.
    pub(crate) units: Vec<u64>,
    /// All names, concatenated.
    pub(crate) names: String,
    /// Per namespace (struct, union, enum, typedef, base): sorted by name; entries of one name
    /// are contiguous, the primary first.
    pub(crate) types: [Vec<TypeEntry>; NKINDS],
    /// Sorted by name, then address.
    pub(crate) globals: Vec<GlobalEntry>,
    /// Sorted by name.
    pub(crate) enumerators: Vec<EnumEntry>,
    /// Distinct member names, sorted.
    pub(crate) member_names: Vec<NameRef>,
    /// Units whose DIEs could not be fully read.
    pub(crate) units_failed: u32,
}

impl IndexData {
    pub(crate) fn name(&self, r: NameRef) -> &str {
        let start = r.off as usize;
        self.names.get(start..start + r.len as usize).unwrap_or("")
    }
}

/// Sizes of the index, for statistics.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexStats {
    /// Compilation units.
    pub units: usize,
    /// Units that could not be fully read (malformed DWARF); what was read is indexed.
    pub units_failed: usize,
    /// Type entries per namespace: struct, union, enum, typedef, base.
    pub types: [usize; 5],
    /// Global variables.
    pub globals: usize,
    /// Enumerators.
    pub enumerators: usize,
    /// Distinct member names.
    pub member_names: usize,
    /// Bytes of the name arena.
    pub name_bytes: usize,
    /// Struct/union/enum layouts beyond the first of their name (same name, different layout).
    pub extra_layouts: usize,
    /// Types materialized so far.
    pub materialized: usize,
}

/// Key of a type the index composes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SynthKey {
    Ptr(Option<TypeId>),
    Arr(TypeId, Option<u64>),
    Qual(Qualifier, Option<TypeId>),
}

#[derive(Default)]
struct Synth {
    types: Vec<Arc<Type>>,
    map: FxMap<SynthKey, u64>,
}

/// The DWARF type index of one ELF file (vmlinux or a module).
pub struct TypeIndex {
    elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
    sections: Sections,
    data: IndexData,
    unit_ctx: Vec<OnceLock<Option<Arc<UnitCtx>>>>,
    cache: RwLock<FxMap<u64, Arc<Type>>>,
    canon: RwLock<FxMap<u64, u64>>,
    synth: Mutex<Synth>,
    void: Arc<Type>,
    pointer_size: u64,
}

impl std::fmt::Debug for TypeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypeIndex")
            .field("stats", &self.stats())
            .finish()
    }
}

/// The progress callback type: `(done_units, total_units)`.
pub type Progress<'p> = Option<&'p (dyn Fn(usize, usize) + Sync)>;

impl TypeIndex {
    /// Builds the name index over all units in parallel (rayon). `progress(done_units,
    /// total_units)` is called as units complete. Malformed units are indexed as far as they
    /// could be read and counted in [`IndexStats::units_failed`]; only a file with no readable
    /// unit at all is an error.
    pub fn build(
        elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
        progress: Progress<'_>,
    ) -> Result<Self, DebugInfoError> {
        let sections = Sections::from_elf((*elf).as_ref())?;
        let data = build_data(&elf, &sections, progress, true)?;
        Ok(Self::from_parts(elf, sections, data))
    }

    /// Like [`build`](Self::build), but reads every struct, union and enum DIE in full instead of
    /// recognizing repeats of a definition by fingerprint (name, size, declaring file and line,
    /// encoded length). Slower; the result is meant to be identical, and tests check that it is.
    pub fn build_exhaustive(
        elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
        progress: Progress<'_>,
    ) -> Result<Self, DebugInfoError> {
        let sections = Sections::from_elf((*elf).as_ref())?;
        let data = build_data(&elf, &sections, progress, false)?;
        Ok(Self::from_parts(elf, sections, data))
    }

    /// Like [`build`](Self::build), but loads the index from `cache_dir` when a cache file for
    /// `build_id` (hex) exists and matches this file, and saves it there after building. A
    /// stale, corrupt or unwritable cache is ignored silently (the index is rebuilt).
    pub fn load_or_build(
        elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
        build_id: &str,
        cache_dir: &Path,
        progress: Progress<'_>,
    ) -> Result<Self, DebugInfoError> {
        let sections = Sections::from_elf((*elf).as_ref())?;
        let fingerprint = super::cache::Fingerprint {
            file_len: (*elf).as_ref().len() as u64,
            info_offset: sections.info_fingerprint.0,
            info_len: sections.info_fingerprint.1,
        };
        let path = super::cache::cache_path(cache_dir, build_id);
        if let Some(p) = &path {
            if let Some(data) = super::cache::load(p, build_id, fingerprint) {
                return Ok(Self::from_parts(elf, sections, data));
            }
        }
        let data = build_data(&elf, &sections, progress, true)?;
        if let Some(p) = &path {
            let _ = std::fs::create_dir_all(cache_dir);
            // A cache that cannot be written is not an error: the next run rebuilds.
            let _ = super::cache::save(p, build_id, fingerprint, &data);
        }
        Ok(Self::from_parts(elf, sections, data))
    }

    /// For the fuzz target only: an index of `elf` whose name records come from a cache payload
    /// (`None` when the payload does not decode). Every later lookup must stay safe whatever
    /// the records say.
    #[doc(hidden)]
    pub fn from_cache_payload(
        elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
        payload: &[u8],
    ) -> Result<Option<Self>, DebugInfoError> {
        let sections = Sections::from_elf((*elf).as_ref())?;
        Ok(super::cache::decode_payload(payload).map(|data| Self::from_parts(elf, sections, data)))
    }

    fn from_parts(
        elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
        sections: Sections,
        data: IndexData,
    ) -> Self {
        let unit_ctx = (0..data.units.len()).map(|_| OnceLock::new()).collect();
        let mut idx = TypeIndex {
            elf,
            sections,
            data,
            unit_ctx,
            cache: RwLock::new(FxMap::default()),
            canon: RwLock::new(FxMap::default()),
            synth: Mutex::new(Synth::default()),
            void: Arc::new(Type::Void),
            pointer_size: 8,
        };
        if let Some(ctx) = idx
            .data
            .units
            .first()
            .and_then(|u| idx.unit_ctx_for(*u).ok())
        {
            idx.pointer_size = u64::from(ctx.address_size);
        }
        idx
    }

    /// Sizes of the index.
    pub fn stats(&self) -> IndexStats {
        let d = &self.data;
        IndexStats {
            units: d.units.len(),
            units_failed: d.units_failed as usize,
            types: [0, 1, 2, 3, 4].map(|k| d.types[k].len()),
            globals: d.globals.len(),
            enumerators: d.enumerators.len(),
            member_names: d.member_names.len(),
            name_bytes: d.names.len(),
            extra_layouts: d.types[..3]
                .iter()
                .map(|l| l.windows(2).filter(|w| w[0].name == w[1].name).count())
                .sum(),
            materialized: self.cache.read().map(|c| c.len()).unwrap_or(0),
        }
    }

    // ----- lookups by name -------------------------------------------------------------

    /// Entries of namespace `kind` named `name` (primary first).
    fn entries(&self, kind: u8, name: &str) -> &[TypeEntry] {
        let list = &self.data.types[usize::from(kind)];
        let lo = list.partition_point(|e| self.data.name(e.name) < name);
        let hi = lo + list[lo..].partition_point(|e| self.data.name(e.name) == name);
        &list[lo..hi]
    }

    /// Finds a type by C name: `"struct task_struct"`, `"union thread_union"`,
    /// `"enum pid_type"`, typedef `"pid_t"`, base `"unsigned long"` (any C spelling),
    /// `"void"`, and derived spellings `"struct list_head *"`, `"const char *"`, `"char [16]"`,
    /// `"int [2][3]"`. A bare name tries struct, then union, typedef, enum. Function-pointer
    /// spellings are not parsed. Where a name has several layouts, the most common one is
    /// returned (see [`find_type_in_unit`](Self::find_type_in_unit)).
    pub fn find_type(&self, name: &str) -> Option<TypeId> {
        self.find_type_scoped(name, None)
    }

    /// [`find_type`](Self::find_type) as a `Result`: [`DebugInfoError::NoType`] when absent.
    pub fn require_type(&self, name: &str) -> Result<TypeId, DebugInfoError> {
        self.find_type(name).ok_or_else(|| DebugInfoError::NoType {
            name: name.to_string(),
        })
    }

    /// Like [`find_type`](Self::find_type), but where the name has several layouts, picks the
    /// one defined in the compilation unit that contains `near` (any type or a global's type from
    /// that unit), falling back to the most common layout.
    pub fn find_type_in_unit(&self, name: &str, near: TypeId) -> Option<TypeId> {
        self.find_type_scoped(name, near.die_offset().and_then(|o| self.unit_index(o)))
    }

    /// All layouts of a struct/union/enum/typedef name (spelled as for
    /// [`find_type`](Self::find_type), e.g. `"struct path_info"`), most common first.
    pub fn find_type_variants(&self, name: &str) -> Vec<TypeId> {
        let words: Vec<&str> = name.split_whitespace().collect();
        let kinds: &[u8] = match words.first().copied() {
            Some("struct") => &[KIND_STRUCT],
            Some("union") => &[KIND_UNION],
            Some("enum") => &[KIND_ENUM],
            _ => &[KIND_STRUCT, KIND_UNION, KIND_TYPEDEF, KIND_ENUM],
        };
        let bare = if kinds.len() == 1 {
            words.get(1).copied().unwrap_or("")
        } else {
            name.trim()
        };
        for &k in kinds {
            let e = self.entries(k, bare);
            if !e.is_empty() {
                return e.iter().map(|e| TypeId(e.die)).collect();
            }
        }
        Vec::new()
    }

    fn find_type_scoped(&self, name: &str, unit: Option<usize>) -> Option<TypeId> {
        let s = name.trim();
        if s.contains('(') {
            return None;
        }
        let split = s.find(['*', '[']).unwrap_or(s.len());
        let (spec, declarator) = s.split_at(split);
        let mut quals = Vec::new();
        let words: Vec<&str> = spec
            .split_whitespace()
            .filter(|w| match qualifier(w) {
                Some(q) => {
                    quals.push(q);
                    false
                }
                None => true,
            })
            .collect();
        let mut id = self.find_base_spec(&words, unit)?;
        for q in quals {
            id = self.synth(SynthKey::Qual(q, non_void(id)));
        }
        // Declarator: pointers (with qualifiers), then array dimensions.
        let mut dims: Vec<Option<u64>> = Vec::new();
        let mut rest = declarator.trim();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('*') {
                if !dims.is_empty() {
                    return None;
                }
                id = self.synth(SynthKey::Ptr(non_void(id)));
                rest = r.trim_start();
            } else if let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']')?;
                let inner = r[..close].trim();
                dims.push(if inner.is_empty() {
                    None
                } else {
                    Some(parse_number(inner)?)
                });
                rest = r[close + 1..].trim_start();
            } else {
                let end = rest.find(['*', '[', ' ']).unwrap_or(rest.len());
                let q = qualifier(&rest[..end])?;
                if !dims.is_empty() {
                    return None;
                }
                id = self.synth(SynthKey::Qual(q, non_void(id)));
                rest = rest[end..].trim_start();
            }
        }
        for d in dims.into_iter().rev() {
            id = self.synth(SynthKey::Arr(id, d));
        }
        Some(id)
    }

    fn find_base_spec(&self, words: &[&str], unit: Option<usize>) -> Option<TypeId> {
        let pick = |kind: u8, name: &str| -> Option<TypeId> {
            let e = self.entries(kind, name);
            let first = e.first()?;
            if e.len() > 1 {
                if let Some(u) = unit {
                    if let Some(d) = self.find_in_unit(u, kind, name) {
                        return Some(TypeId(d));
                    }
                }
            }
            Some(TypeId(first.die))
        };
        match words {
            [] => None,
            ["void"] => Some(TypeId::VOID),
            ["struct" | "class", n] => pick(KIND_STRUCT, n),
            ["union", n] => pick(KIND_UNION, n),
            ["enum", n] => pick(KIND_ENUM, n),
            _ => {
                let joined = words.join(" ");
                if let Some(b) = normalize_base_name(&joined) {
                    if let Some(id) = pick(KIND_BASE, &b) {
                        return Some(id);
                    }
                }
                if words.len() != 1 {
                    return None;
                }
                [KIND_STRUCT, KIND_UNION, KIND_TYPEDEF, KIND_ENUM]
                    .iter()
                    .find_map(|&k| pick(k, &joined))
            }
        }
    }

    /// Finds a definition of `kind`/`name` in unit number `unit` by walking its top level.
    fn find_in_unit(&self, unit: usize, kind: u8, name: &str) -> Option<u64> {
        let elf = (*self.elf).as_ref();
        let dw = self.sections.dwarf(elf);
        let ctx = self.unit_ctx_for(*self.data.units.get(unit)?).ok()?;
        let header = ctx.header(&dw).ok()?;
        let mut cursor = header.entries(&ctx.abbrevs);
        // The root, then its first child; then child to child with `next_sibling`.
        cursor.next_dfs().ok()??;
        let mut next = cursor.next_dfs().ok()?;
        while let Some(die) = next {
            if reader::tag_kind(die.tag()) != Some(kind) {
                next = cursor.next_sibling().ok()?;
                continue;
            }
            let a = DieAttrs::read(&ctx, &dw, die);
            let matches = match a.name {
                Some(n) if kind == KIND_BASE => std::str::from_utf8(n)
                    .ok()
                    .and_then(normalize_base_name)
                    .is_some_and(|b| b == name),
                Some(n) => n == name.as_bytes(),
                None => false,
            };
            if matches && !a.declaration {
                return Some(ctx.offset + die.offset().0 as u64);
            }
            next = cursor.next_sibling().ok()?;
        }
        None
    }

    /// The global variable `name` (with a fixed address). Where several statics share the
    /// name, the one with the lowest address is returned; see [`globals_named`](Self::globals_named).
    pub fn global(&self, name: &str) -> Option<Global> {
        self.globals_named(name).into_iter().next()
    }

    /// All globals named `name` (file-scope statics of different units may share a name).
    pub fn globals_named(&self, name: &str) -> Vec<Global> {
        let list = &self.data.globals;
        let lo = list.partition_point(|e| self.data.name(e.name) < name);
        list[lo..]
            .iter()
            .take_while(|e| self.data.name(e.name) == name)
            .map(|e| Global {
                name: name.to_string(),
                addr: e.addr,
                ty: self.variable_type(e.die).unwrap_or(TypeId::VOID),
            })
            .collect()
    }

    /// The type of a variable DIE, following `DW_AT_specification`/`DW_AT_abstract_origin`.
    fn variable_type(&self, die: u64) -> Result<TypeId, DebugInfoError> {
        let elf = (*self.elf).as_ref();
        let dw = self.sections.dwarf(elf);
        let mut at = die;
        for _ in 0..8 {
            let ctx = self.unit_ctx_for(at)?;
            let header = ctx.header(&dw)?;
            let d = ctx.entry(&header, at)?;
            let a = DieAttrs::read(&ctx, &dw, &d);
            if let Some(t) = a.ty {
                return Ok(TypeId(self.canon(&dw, t)));
            }
            match a.specification.or(a.abstract_origin) {
                Some(n) => at = n,
                None => return Ok(TypeId::VOID),
            }
        }
        Err(DebugInfoError::Dwarf {
            offset: die,
            reason: "specification chain too long".into(),
        })
    }

    /// An enumerator by name: its enum type and value (`"PIDTYPE_PID"` → `(enum pid_type, 0)`).
    pub fn enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
        let list = &self.data.enumerators;
        let i = list.partition_point(|e| self.data.name(e.name) < name);
        let e = list.get(i).filter(|e| self.data.name(e.name) == name)?;
        let elf = (*self.elf).as_ref();
        let dw = self.sections.dwarf(elf);
        let id = TypeId(self.canon(&dw, e.die));
        match &*self.get(id).ok()? {
            Type::Enum { enumerators, .. } => enumerators
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| (id, *v)),
            _ => None,
        }
    }

    /// Type names starting with `prefix`, for completion. `"struct task"` lists
    /// `"struct task_struct"`, …; likewise `"union "`/`"enum "`; a bare prefix lists bare
    /// struct, union, typedef, enum and base names, deduplicated and sorted.
    pub fn type_names(&self, prefix: &str) -> Vec<String> {
        let collect = |kind: u8, p: &str, out: &mut Vec<String>, tag: &str| {
            let list = &self.data.types[usize::from(kind)];
            let lo = list.partition_point(|e| self.data.name(e.name) < p);
            let mut last = "";
            for e in &list[lo..] {
                let n = self.data.name(e.name);
                if !n.starts_with(p) {
                    break;
                }
                if n != last {
                    out.push(format!("{tag}{n}"));
                    last = n;
                }
            }
        };
        let mut out = Vec::new();
        if let Some(p) = prefix.strip_prefix("struct ") {
            collect(KIND_STRUCT, p.trim_start(), &mut out, "struct ");
        } else if let Some(p) = prefix.strip_prefix("union ") {
            collect(KIND_UNION, p.trim_start(), &mut out, "union ");
        } else if let Some(p) = prefix.strip_prefix("enum ") {
            collect(KIND_ENUM, p.trim_start(), &mut out, "enum ");
        } else {
            for k in [KIND_STRUCT, KIND_UNION, KIND_TYPEDEF, KIND_ENUM, KIND_BASE] {
                collect(k, prefix, &mut out, "");
            }
            out.sort();
            out.dedup();
        }
        out
    }

    /// All distinct member names of all structs and unions, sorted.
    pub fn member_names(&self) -> impl Iterator<Item = &str> {
        self.data.member_names.iter().map(|r| self.data.name(*r))
    }

    // ----- materialization -------------------------------------------------------------

    fn unit_index(&self, off: u64) -> Option<usize> {
        self.data
            .units
            .partition_point(|u| *u <= off)
            .checked_sub(1)
    }

    fn unit_ctx_for(&self, off: u64) -> Result<Arc<UnitCtx>, DebugInfoError> {
        let bad = || DebugInfoError::Dwarf {
            offset: off,
            reason: "offset in no readable unit".into(),
        };
        let i = self.unit_index(off).ok_or_else(bad)?;
        let slot = self.unit_ctx.get(i).ok_or_else(bad)?;
        let unit_off = *self.data.units.get(i).ok_or_else(bad)?;
        slot.get_or_init(|| {
            let elf = (*self.elf).as_ref();
            let dw = self.sections.dwarf(elf);
            UnitCtx::new(&dw, unit_off).ok().map(Arc::new)
        })
        .clone()
        .ok_or_else(bad)
    }

    fn synth(&self, key: SynthKey) -> TypeId {
        let mut s = match self.synth.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        if let Some(&i) = s.map.get(&key) {
            return TypeId(TypeId::SYNTHETIC | i);
        }
        let ty = match key {
            SynthKey::Ptr(target) => Type::Pointer {
                target,
                size: self.pointer_size,
            },
            SynthKey::Arr(elem, count) => Type::Array { elem, count },
            SynthKey::Qual(qual, target) => Type::Qualified { qual, target },
        };
        let i = s.types.len() as u64;
        s.types.push(Arc::new(ty));
        s.map.insert(key, i);
        TypeId(TypeId::SYNTHETIC | i)
    }

    /// The pointer type to `id` (`void *` for [`TypeId::VOID`]), composed by the index.
    pub fn pointer_to(&self, id: TypeId) -> TypeId {
        self.synth(SynthKey::Ptr((id != TypeId::VOID).then_some(id)))
    }

    /// The type `id` denotes, materialized from DWARF on first use and cached.
    pub fn get(&self, id: TypeId) -> Result<Arc<Type>, DebugInfoError> {
        if id == TypeId::VOID {
            return Ok(self.void.clone());
        }
        if id.is_synthetic() {
            let s = match self.synth.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            return s
                .types
                .get((id.0 & !TypeId::SYNTHETIC) as usize)
                .cloned()
                .ok_or(DebugInfoError::Dwarf {
                    offset: id.0,
                    reason: "unknown synthetic type id".into(),
                });
        }
        if let Some(t) = self.cache.read().ok().and_then(|c| c.get(&id.0).cloned()) {
            return Ok(t);
        }
        let ty = self.materialize(id.0)?;
        if let Ok(mut c) = self.cache.write() {
            c.insert(id.0, ty.clone());
        }
        Ok(ty)
    }

    /// Canonical id for a reference to DIE `off`: a named struct/union/enum/typedef/base with a
    /// single layout maps to the index's entry; a declaration maps to its definition.
    fn canon(&self, dw: &Dw<'_>, off: u64) -> u64 {
        if let Some(&c) = self
            .canon
            .read()
            .ok()
            .and_then(|m| m.get(&off).copied())
            .as_ref()
        {
            return c;
        }
        let c = self.compute_canon(dw, off).unwrap_or(off);
        if let Ok(mut m) = self.canon.write() {
            m.insert(off, c);
        }
        c
    }

    fn compute_canon(&self, dw: &Dw<'_>, off: u64) -> Option<u64> {
        let ctx = self.unit_ctx_for(off).ok()?;
        let header = ctx.header(dw).ok()?;
        let die = ctx.entry(&header, off).ok()?;
        let kind = reader::tag_kind(die.tag())?;
        let a = DieAttrs::read(&ctx, dw, &die);
        let raw = std::str::from_utf8(a.name?).ok()?;
        let name = if kind == KIND_BASE {
            normalize_base_name(raw).unwrap_or_else(|| raw.to_string())
        } else {
            raw.to_string()
        };
        let entries = self.entries(kind, &name);
        let first = entries.first()?;
        if a.declaration {
            if first.decl {
                return Some(first.die);
            }
            if entries.len() > 1 {
                if let Some(d) = self
                    .unit_index(off)
                    .and_then(|u| self.find_in_unit(u, kind, &name))
                {
                    return Some(d);
                }
            }
            return Some(first.die);
        }
        (entries.len() == 1).then_some(first.die)
    }

    /// Materializes with a per-thread nesting bound: malformed DWARF (a struct whose bitfield
    /// has its own type, an enum based on itself) must give an error, not a stack overflow.
    fn materialize(&self, off: u64) -> Result<Arc<Type>, DebugInfoError> {
        thread_local! {
            static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        let depth = NESTING.with(|n| {
            let d = n.get() + 1;
            n.set(d);
            d
        });
        let result = if depth > MAX_DEPTH {
            Err(self.cycle(TypeId(off)))
        } else {
            self.materialize_die(off)
        };
        NESTING.with(|n| n.set(n.get().saturating_sub(1)));
        result
    }

    fn materialize_die(&self, off: u64) -> Result<Arc<Type>, DebugInfoError> {
        let elf = (*self.elf).as_ref();
        let dw = self.sections.dwarf(elf);
        let ctx = self.unit_ctx_for(off)?;
        let header = ctx.header(&dw)?;
        let die = ctx.entry(&header, off)?;
        let a = DieAttrs::read(&ctx, &dw, &die);
        let name = a.name.map(|n| String::from_utf8_lossy(n).into_owned());
        let target = |t: Option<u64>| t.map(|t| TypeId(self.canon(&dw, t)));
        let ty = match die.tag() {
            dw::DW_TAG_base_type => {
                let raw = name.unwrap_or_default();
                let size = a.byte_size.unwrap_or(0);
                let encoding = match a.encoding {
                    Some(dw::DW_ATE_signed) => BaseEncoding::Signed,
                    Some(dw::DW_ATE_signed_char) => BaseEncoding::SignedChar,
                    Some(dw::DW_ATE_unsigned_char) => BaseEncoding::UnsignedChar,
                    Some(dw::DW_ATE_boolean) => BaseEncoding::Bool,
                    Some(
                        dw::DW_ATE_float
                        | dw::DW_ATE_complex_float
                        | dw::DW_ATE_decimal_float
                        | dw::DW_ATE_imaginary_float,
                    ) => BaseEncoding::Float,
                    _ => BaseEncoding::Unsigned,
                };
                Type::Base {
                    name: normalize_base_name(&raw).unwrap_or(raw),
                    size,
                    encoding,
                }
            }
            dw::DW_TAG_unspecified_type => Type::Void,
            dw::DW_TAG_pointer_type
            | dw::DW_TAG_reference_type
            | dw::DW_TAG_rvalue_reference_type => Type::Pointer {
                target: target(a.ty),
                size: a.byte_size.unwrap_or(u64::from(ctx.address_size)),
            },
            dw::DW_TAG_const_type
            | dw::DW_TAG_volatile_type
            | dw::DW_TAG_restrict_type
            | dw::DW_TAG_atomic_type => Type::Qualified {
                qual: match die.tag() {
                    dw::DW_TAG_const_type => Qualifier::Const,
                    dw::DW_TAG_volatile_type => Qualifier::Volatile,
                    dw::DW_TAG_restrict_type => Qualifier::Restrict,
                    _ => Qualifier::Atomic,
                },
                target: target(a.ty),
            },
            dw::DW_TAG_typedef => Type::Typedef {
                name: name.unwrap_or_default(),
                target: target(a.ty),
            },
            dw::DW_TAG_structure_type | dw::DW_TAG_class_type | dw::DW_TAG_union_type => {
                let kind = if die.tag() == dw::DW_TAG_union_type {
                    StructKind::Union
                } else {
                    StructKind::Struct
                };
                if a.declaration {
                    let c = self.canon(&dw, off);
                    if c != off {
                        return self.get(TypeId(c));
                    }
                }
                let members = if die.has_children() && !a.declaration {
                    self.read_members(&dw, &ctx, &header, off)?
                } else {
                    Vec::new()
                };
                Type::Struct {
                    kind,
                    name,
                    size: a.byte_size.unwrap_or(0),
                    members,
                }
            }
            dw::DW_TAG_enumeration_type => {
                if a.declaration {
                    let c = self.canon(&dw, off);
                    if c != off {
                        return self.get(TypeId(c));
                    }
                }
                self.read_enum(&dw, &ctx, &header, off, name, &a)?
            }
            dw::DW_TAG_array_type => {
                let elem = target(a.ty).unwrap_or(TypeId::VOID);
                let dims = self.read_children(&dw, &ctx, &header, off, |tag, a| {
                    (tag == dw::DW_TAG_subrange_type).then(|| subrange_count(a))
                })?;
                // int a[2][3] = Array(Array(int, 3), 2): build from the innermost dimension.
                match dims.split_first() {
                    None => Type::Array { elem, count: None },
                    Some((outer, inner)) => {
                        let mut e = elem;
                        for d in inner.iter().rev() {
                            e = self.synth(SynthKey::Arr(e, *d));
                        }
                        Type::Array {
                            elem: e,
                            count: *outer,
                        }
                    }
                }
            }
            dw::DW_TAG_subroutine_type | dw::DW_TAG_subprogram => {
                let mut variadic = false;
                let params = self.read_children(&dw, &ctx, &header, off, |tag, a| {
                    if tag == dw::DW_TAG_unspecified_parameters {
                        variadic = true;
                    }
                    (tag == dw::DW_TAG_formal_parameter).then_some(a.ty)
                })?;
                Type::Function {
                    ret: target(a.ty),
                    params: params
                        .into_iter()
                        .map(|p| target(p).unwrap_or(TypeId::VOID))
                        .collect(),
                    variadic,
                }
            }
            other => {
                return Err(DebugInfoError::Dwarf {
                    offset: off,
                    reason: format!("DIE is not a type ({other})"),
                })
            }
        };
        Ok(Arc::new(ty))
    }

    /// Calls `f` on each direct child of the DIE at `off`; collects its `Some` results.
    fn read_children<'a, T>(
        &self,
        dw: &Dw<'a>,
        ctx: &UnitCtx,
        header: &reader::Header<'a>,
        off: u64,
        mut f: impl FnMut(dw::DwTag, &DieAttrs<'a>) -> Option<T>,
    ) -> Result<Vec<T>, DebugInfoError> {
        let uo = off
            .checked_sub(ctx.offset)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or(DebugInfoError::Dwarf {
                offset: off,
                reason: "DIE offset outside its unit".into(),
            })?;
        let mut raw = header
            .entries_raw(&ctx.abbrevs, Some(gimli::UnitOffset(uo)))
            .map_err(|e| dwarf_err(off, e))?;
        let mut die = gimli::DebuggingInformationEntry::null();
        raw.read_entry(&mut die).map_err(|e| dwarf_err(off, e))?;
        let mut out = Vec::new();
        if !die.has_children() {
            return Ok(out);
        }
        while raw.next_depth() >= 1 && !raw.is_empty() {
            let at = ctx.offset + raw.next_offset().0 as u64;
            let d = raw.next_depth();
            if !raw.read_entry(&mut die).map_err(|e| dwarf_err(at, e))? {
                continue;
            }
            if d != 1 {
                continue;
            }
            let a = DieAttrs::read(ctx, dw, &die);
            if let Some(v) = f(die.tag(), &a) {
                out.push(v);
            }
        }
        Ok(out)
    }

    fn read_members<'a>(
        &self,
        dw: &Dw<'a>,
        ctx: &UnitCtx,
        header: &reader::Header<'a>,
        off: u64,
    ) -> Result<Vec<Member>, DebugInfoError> {
        let raw_members = self.read_children(dw, ctx, header, off, |tag, a| {
            (tag == dw::DW_TAG_member).then(|| {
                (
                    a.name.map(|n| String::from_utf8_lossy(n).into_owned()),
                    a.ty,
                    a.member_location,
                    a.data_bit_offset,
                    a.bit_offset,
                    a.bit_size,
                    a.byte_size,
                )
            })
        })?;
        let mut out = Vec::with_capacity(raw_members.len());
        for (name, ty, loc, data_bit_offset, bit_offset, bit_size, byte_size) in raw_members {
            let ty = ty
                .map(|t| TypeId(self.canon(dw, t)))
                .unwrap_or(TypeId::VOID);
            let loc = loc.unwrap_or(0);
            let (offset, bit_off, bit_size) = match bit_size {
                None => match data_bit_offset {
                    Some(b) => (b / 8, None, None),
                    None => (loc, None, None),
                },
                Some(bs) => {
                    let total_bits = if let Some(dbo) = data_bit_offset {
                        // DWARF 4+: bits from the start of the struct, little-endian numbering.
                        loc.checked_mul(8).and_then(|l| l.checked_add(dbo))
                    } else if let Some(bo) = bit_offset {
                        // DWARF 2/3 (gcc -gdwarf-4 too): DW_AT_bit_offset counts from the most
                        // significant bit of a storage unit of DW_AT_byte_size bytes at `loc`.
                        let storage = match byte_size {
                            Some(s) => s,
                            None => self.size_of(ty).unwrap_or(0),
                        };
                        storage
                            .checked_mul(8)
                            .and_then(|s| s.checked_sub(bo))
                            .and_then(|s| s.checked_sub(bs))
                            .and_then(|s| s.checked_add(loc.checked_mul(8)?))
                    } else {
                        loc.checked_mul(8)
                    };
                    let Some(total) = total_bits else {
                        // Malformed bitfield description: skip the member, keep the rest.
                        continue;
                    };
                    (
                        total / 8,
                        Some((total % 8) as u32),
                        Some(u32::try_from(bs).unwrap_or(u32::MAX)),
                    )
                }
            };
            out.push(Member {
                name,
                ty,
                offset,
                bit_offset: bit_off,
                bit_size,
            });
        }
        Ok(out)
    }

    fn read_enum<'a>(
        &self,
        dw: &Dw<'a>,
        ctx: &UnitCtx,
        header: &reader::Header<'a>,
        off: u64,
        name: Option<String>,
        a: &DieAttrs<'a>,
    ) -> Result<Type, DebugInfoError> {
        let raw: Vec<(String, Option<Const>)> =
            self.read_children(dw, ctx, header, off, |tag, a| {
                (tag == dw::DW_TAG_enumerator).then(|| {
                    (
                        a.name
                            .map(|n| String::from_utf8_lossy(n).into_owned())
                            .unwrap_or_default(),
                        a.const_value,
                    )
                })
            })?;
        // Signedness: from the underlying type when DWARF gives one (gcc does for DWARF 5
        // unless strict), else from the forms (gcc writes negative values as sdata).
        let from_type = a.ty.and_then(|t| {
            let id = self.resolve(TypeId(self.canon(dw, t))).ok()?;
            match &*self.get(id).ok()? {
                Type::Base { encoding, .. } => Some(matches!(
                    encoding,
                    BaseEncoding::Signed | BaseEncoding::SignedChar
                )),
                _ => None,
            }
        });
        let signed = from_type.unwrap_or_else(|| {
            raw.iter()
                .any(|(_, c)| c.is_some_and(|c| c.signed_form && (c.bits as i64) < 0))
        });
        let size = a.byte_size.unwrap_or(4);
        let enumerators = raw
            .into_iter()
            .map(|(n, c)| {
                // gcc writes negative values as sdata and others as the smallest unsigned dataN
                // (CPUHP_ONLINE = 236 is data1 0xec in a signed enum). A fixed-width form is
                // sign-extended only when it is as wide as a signed enum itself.
                let v = match c {
                    None => 0,
                    Some(c) if c.signed_form => c.bits as i64,
                    Some(c) if signed && u64::from(c.width) == size => c.signed(),
                    Some(c) => c.unsigned() as i64,
                };
                (n, v)
            })
            .collect();
        Ok(Type::Enum {
            name,
            size,
            signed,
            enumerators,
        })
    }

    // ----- derived queries -------------------------------------------------------------

    /// Strips typedefs and qualifiers (`const`, `volatile`, …); `void` targets give
    /// [`TypeId::VOID`].
    pub fn resolve(&self, id: TypeId) -> Result<TypeId, DebugInfoError> {
        let mut cur = id;
        for _ in 0..MAX_DEPTH {
            match &*self.get(cur)? {
                Type::Typedef { target, .. } | Type::Qualified { target, .. } => {
                    cur = target.unwrap_or(TypeId::VOID)
                }
                _ => return Ok(cur),
            }
        }
        Err(self.cycle(id))
    }

    /// The C tag spelling (`"struct mapped_device"`) of `id` when it is a named struct, union
    /// or enum (through typedefs and qualifiers) that this file only declares: no unit of the
    /// file defines that name. `None` for anything complete, anonymous or not a tagged type.
    /// Another file (a module, or the vmlinux for a module) may hold the definition.
    pub fn declaration_only(&self, id: TypeId) -> Option<String> {
        let r = self.resolve(id).ok()?;
        let ty = self.get(r).ok()?;
        let (kind, keyword, name) = match &*ty {
            Type::Struct {
                kind: StructKind::Struct,
                name: Some(n),
                size: 0,
                members,
            } if members.is_empty() => (KIND_STRUCT, "struct", n),
            Type::Struct {
                kind: StructKind::Union,
                name: Some(n),
                size: 0,
                members,
            } if members.is_empty() => (KIND_UNION, "union", n),
            Type::Enum {
                name: Some(n),
                enumerators,
                ..
            } if enumerators.is_empty() => (KIND_ENUM, "enum", n),
            _ => return None,
        };
        // A genuinely empty struct (`struct lock_class_key {}` without lockdep) is a
        // definition of size 0: only a name with no definition entry at all is incomplete.
        self.entries(kind, name)
            .iter()
            .all(|e| e.decl)
            .then(|| format!("{keyword} {name}"))
    }

    /// The innermost type of `id` once typedefs, qualifiers, pointers and arrays are
    /// stripped (`struct dm_table` for `struct dm_table **`).
    pub fn core_type(&self, id: TypeId) -> TypeId {
        let mut cur = id;
        for _ in 0..MAX_DEPTH {
            let next = match self.get(cur).as_deref() {
                Ok(Type::Typedef { target, .. })
                | Ok(Type::Qualified { target, .. })
                | Ok(Type::Pointer { target, .. }) => target.unwrap_or(TypeId::VOID),
                Ok(Type::Array { elem, .. }) => *elem,
                _ => return cur,
            };
            cur = next;
        }
        cur
    }

    fn cycle(&self, id: TypeId) -> DebugInfoError {
        DebugInfoError::Dwarf {
            offset: id.0,
            reason: "type chain too deep (cycle?)".into(),
        }
    }

    /// Size in bytes, through typedefs and qualifiers; arrays are element size × count.
    /// `void`, functions, flexible arrays have none ([`DebugInfoError::NoSize`]).
    pub fn size_of(&self, id: TypeId) -> Result<u64, DebugInfoError> {
        self.size_of_depth(id, 0)
    }

    fn size_of_depth(&self, id: TypeId, depth: usize) -> Result<u64, DebugInfoError> {
        if depth > MAX_DEPTH {
            return Err(self.cycle(id));
        }
        let r = self.resolve(id)?;
        let no_size = || DebugInfoError::NoSize {
            type_name: self.type_name(id),
        };
        match &*self.get(r)? {
            Type::Base { size, .. }
            | Type::Pointer { size, .. }
            | Type::Struct { size, .. }
            | Type::Enum { size, .. } => Ok(*size),
            Type::Array {
                elem,
                count: Some(n),
            } => {
                let e = self.size_of_depth(*elem, depth + 1)?;
                e.checked_mul(*n).ok_or_else(no_size)
            }
            _ => Err(no_size()),
        }
    }

    /// Direct members of a struct or union (through typedefs/qualifiers), in declaration
    /// order, anonymous members included with `name: None`.
    pub fn members(&self, id: TypeId) -> Result<Vec<Member>, DebugInfoError> {
        let r = self.resolve(id)?;
        match &*self.get(r)? {
            Type::Struct { members, .. } => Ok(members.clone()),
            _ => Err(DebugInfoError::NoMember {
                type_name: self.type_name(id),
                member: String::new(),
            }),
        }
    }

    /// Locates a member by dotted path (`"se.avg.load_avg"`), looking through anonymous
    /// struct/union members as if flattened; `name[N]` indexes an array member. A pointer in
    /// the middle of the path is an error (following pointers is the value layer's job).
    pub fn member(&self, id: TypeId, path: &str) -> Result<MemberInfo, DebugInfoError> {
        let not_found = |upto: &str| DebugInfoError::NoMember {
            type_name: self.type_name(id),
            member: upto.to_string(),
        };
        let mut cur = id;
        let mut info = MemberInfo {
            offset: 0,
            ty: id,
            bit_offset: None,
            bit_size: None,
        };
        let mut consumed = 0usize;
        for comp in path.split('.') {
            consumed += comp.len() + usize::from(consumed > 0);
            let upto = path.get(..consumed).unwrap_or(path);
            if info.bit_size.is_some() {
                return Err(not_found(upto));
            }
            let (name, indexes) = split_indexes(comp).ok_or_else(|| not_found(upto))?;
            let r = self.resolve(cur)?;
            let found = self
                .find_member(r, name, 0)?
                .ok_or_else(|| not_found(upto))?;
            info.offset = info
                .offset
                .checked_add(found.offset)
                .ok_or_else(|| not_found(upto))?;
            info.ty = found.ty;
            info.bit_offset = found.bit_offset;
            info.bit_size = found.bit_size;
            for ix in indexes {
                let at = self.resolve(info.ty)?;
                let Type::Array { elem, count } = &*self.get(at)? else {
                    return Err(not_found(upto));
                };
                if count.is_some_and(|c| ix >= c) {
                    return Err(not_found(upto));
                }
                let step = self.size_of(*elem)?;
                info.offset = step
                    .checked_mul(ix)
                    .and_then(|s| info.offset.checked_add(s))
                    .ok_or_else(|| not_found(upto))?;
                info.ty = *elem;
            }
            cur = info.ty;
        }
        Ok(info)
    }

    /// Finds `name` among the members of struct `r`, descending into anonymous members.
    fn find_member(
        &self,
        r: TypeId,
        name: &str,
        depth: usize,
    ) -> Result<Option<MemberInfo>, DebugInfoError> {
        if depth > MAX_DEPTH {
            return Err(self.cycle(r));
        }
        let t = self.get(r)?;
        let Type::Struct { members, .. } = &*t else {
            return Ok(None);
        };
        for m in members {
            match &m.name {
                Some(n) if n == name => {
                    return Ok(Some(MemberInfo {
                        offset: m.offset,
                        ty: m.ty,
                        bit_offset: m.bit_offset,
                        bit_size: m.bit_size,
                    }))
                }
                Some(_) => {}
                None => {
                    let inner = self.resolve(m.ty)?;
                    if let Some(mut f) = self.find_member(inner, name, depth + 1)? {
                        f.offset = f.offset.saturating_add(m.offset);
                        return Ok(Some(f));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The C spelling of a type: `"struct list_head *"`, `"char [16]"`,
    /// `"int (*)(struct file *, int)"`, `"const unsigned long"`. Anonymous aggregates print as
    /// `"struct <anonymous>"`.
    pub fn type_name(&self, id: TypeId) -> String {
        let (l, r) = self.name_parts(id, 0);
        if r.is_empty() {
            l
        } else if l.ends_with('*') || l.ends_with('(') {
            format!("{l}{r}")
        } else {
            format!("{l} {r}")
        }
    }

    /// Left and right parts of a C declarator with an empty name.
    fn name_parts(&self, id: TypeId, depth: usize) -> (String, String) {
        if depth > MAX_DEPTH {
            return ("<cycle>".into(), String::new());
        }
        let t = match self.get(id) {
            Ok(t) => t,
            Err(_) => return (format!("<bad type {:#x}>", id.0), String::new()),
        };
        let opt = |t: &Option<TypeId>| t.unwrap_or(TypeId::VOID);
        match &*t {
            Type::Void => ("void".into(), String::new()),
            Type::Base { name, .. } | Type::Typedef { name, .. } => (name.clone(), String::new()),
            Type::Struct { kind, name, .. } => {
                let k = match kind {
                    StructKind::Struct => "struct",
                    StructKind::Union => "union",
                };
                (
                    format!("{k} {}", name.as_deref().unwrap_or("<anonymous>")),
                    String::new(),
                )
            }
            Type::Enum { name, .. } => (
                format!("enum {}", name.as_deref().unwrap_or("<anonymous>")),
                String::new(),
            ),
            Type::Pointer { target, .. } => {
                let tid = opt(target);
                let (l, r) = self.name_parts(tid, depth + 1);
                let inner_is_decl = matches!(
                    self.get(tid).as_deref(),
                    Ok(Type::Array { .. } | Type::Function { .. })
                );
                if inner_is_decl {
                    let sep = if l.ends_with('*') { "" } else { " " };
                    (format!("{l}{sep}(*"), format!("){r}"))
                } else if l.ends_with('*') {
                    (format!("{l}*"), r)
                } else {
                    (format!("{l} *"), r)
                }
            }
            Type::Qualified { qual, target } => {
                let tid = opt(target);
                let (l, r) = self.name_parts(tid, depth + 1);
                let kw = qual.keyword();
                if matches!(self.get(tid).as_deref(), Ok(Type::Pointer { .. })) {
                    (format!("{l} {kw}"), r)
                } else if l.split_whitespace().any(|w| w == kw) {
                    // C has no qualified arrays: `const` on an array of `const char` is the same
                    // type (gcc emits both for `const char s[]`).
                    (l, r)
                } else {
                    (format!("{kw} {l}"), r)
                }
            }
            Type::Array { elem, count } => {
                let (l, r) = self.name_parts(*elem, depth + 1);
                let dim = match count {
                    Some(n) => format!("[{n}]"),
                    None => "[]".to_string(),
                };
                (l, format!("{dim}{r}"))
            }
            Type::Function {
                ret,
                params,
                variadic,
            } => {
                let (l, r) = self.name_parts(opt(ret), depth + 1);
                let mut ps: Vec<String> = params
                    .iter()
                    .map(|p| self.type_name_depth(*p, depth + 1))
                    .collect();
                if *variadic {
                    ps.push("...".into());
                }
                if ps.is_empty() {
                    ps.push("void".into());
                }
                (l, format!("({}){r}", ps.join(", ")))
            }
        }
    }

    fn type_name_depth(&self, id: TypeId, depth: usize) -> String {
        let (l, r) = self.name_parts(id, depth);
        if r.is_empty() {
            l
        } else if l.ends_with('*') || l.ends_with('(') {
            format!("{l}{r}")
        } else {
            format!("{l} {r}")
        }
    }
}

fn non_void(id: TypeId) -> Option<TypeId> {
    (id != TypeId::VOID).then_some(id)
}

fn qualifier(w: &str) -> Option<Qualifier> {
    match w {
        "const" => Some(Qualifier::Const),
        "volatile" => Some(Qualifier::Volatile),
        "restrict" | "__restrict" => Some(Qualifier::Restrict),
        "_Atomic" => Some(Qualifier::Atomic),
        _ => None,
    }
}

fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Splits `"name[1][2]"` into `("name", [1, 2])`.
fn split_indexes(comp: &str) -> Option<(&str, Vec<u64>)> {
    let Some(open) = comp.find('[') else {
        return (!comp.is_empty()).then_some((comp, Vec::new()));
    };
    let (name, mut rest) = comp.split_at(open);
    let mut out = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        let close = r.find(']')?;
        out.push(parse_number(r[..close].trim())?);
        rest = &r[close + 1..];
    }
    (rest.is_empty() && !name.is_empty()).then_some((name, out))
}

/// Element count of a `DW_TAG_subrange_type`: `DW_AT_count`, or `upper − lower + 1`; `None` for
/// a flexible array (no bound). gcc writes `[0]` as upper bound −1.
fn subrange_count(a: &DieAttrs<'_>) -> Option<u64> {
    if let Some(c) = a.count {
        return Some(c.unsigned());
    }
    let upper = a.upper_bound?;
    if upper.is_minus_one() {
        return Some(0);
    }
    let lower = a.lower_bound.map(|l| l.unsigned()).unwrap_or(0);
    upper.unsigned().checked_sub(lower)?.checked_add(1)
}

/// Runs the parallel scan and turns its result into sorted, interned tables.
fn build_data(
    elf: &Arc<dyn AsRef<[u8]> + Send + Sync>,
    sections: &Sections,
    progress: Progress<'_>,
    fingerprints: bool,
) -> Result<IndexData, DebugInfoError> {
    let bytes: &[u8] = (**elf).as_ref();
    let dw = sections.dwarf(bytes);
    let (units, header_error) = reader::unit_offsets(&dw);
    if units.is_empty() {
        return Err(DebugInfoError::Dwarf {
            offset: 0,
            reason: header_error.unwrap_or_else(|| "no compilation units".into()),
        });
    }
    let total = units.len();
    let done = AtomicUsize::new(0);
    let acc = units
        .par_iter()
        .fold(Acc::default, |mut acc, &u| {
            let dw = sections.dwarf(bytes);
            if let Err(e) =
                reader::scan_unit(&dw, u, sections.merged_strings, fingerprints, &mut acc)
            {
                acc.units_failed += 1;
                if acc.first_error.is_none() {
                    acc.first_error = Some(e.to_string());
                }
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = progress {
                p(n, total);
            }
            acc
        })
        .reduce(Acc::default, Acc::merge);
    if acc.units_failed == total {
        return Err(DebugInfoError::Dwarf {
            offset: 0,
            reason: acc
                .first_error
                .unwrap_or_else(|| "no unit could be read".into()),
        });
    }
    let mut data = finish(&dw, acc, units);
    if header_error.is_some() {
        data.units_failed += 1;
    }
    Ok(data)
}

/// The index built by scanning all units in order into one accumulator (so fingerprinted
/// repeats are jumped over wherever possible); tests compare it with the parallel build.
#[cfg(test)]
pub(crate) fn build_data_sequential(elf: &[u8]) -> Result<IndexData, DebugInfoError> {
    let sections = Sections::from_elf(elf)?;
    let dw = sections.dwarf(elf);
    let (units, _) = reader::unit_offsets(&dw);
    let mut acc = Acc::default();
    for &u in &units {
        reader::scan_unit(&dw, u, sections.merged_strings, true, &mut acc)?;
    }
    Ok(finish(&dw, acc, units))
}

/// Interns names and sorts the scan's tables.
fn finish(dw: &Dw<'_>, acc: Acc, units: Vec<u64>) -> IndexData {
    let member_keys: Vec<reader::NameKey> = acc.member_keys().collect();
    let mut names = String::new();
    let mut interned: FxMap<String, NameRef> = FxMap::default();
    let mut intern = |s: &str| -> NameRef {
        if let Some(r) = interned.get(s) {
            return *r;
        }
        let r = NameRef {
            off: names.len() as u32,
            len: s.len() as u32,
        };
        names.push_str(s);
        interned.insert(s.to_string(), r);
        r
    };
    let lossy = |k: reader::NameKey| {
        reader::name_of_key(dw, k)
            .map(|c| c.into_owned())
            .unwrap_or_default()
    };

    // Types: keys become text (different keys may spell one name); base names are normalized
    // (which merges gcc spellings); variants of one name with one layout merge.
    let mut by_name: FxMap<(u8, String), Vec<reader::Variant>> = FxMap::default();
    for ((kind, key), variants) in acc.types {
        let mut n = lossy(key);
        if kind == KIND_BASE {
            if let Some(b) = normalize_base_name(&n) {
                n = b;
            }
        }
        let list = by_name.entry((kind, n)).or_default();
        for v in variants {
            reader::merge_variant(list, v);
        }
    }
    let mut per_kind: [Vec<(String, reader::Variant)>; NKINDS] = Default::default();
    for ((kind, n), variants) in by_name {
        if let Some(list) = per_kind.get_mut(usize::from(kind)) {
            list.extend(variants.into_iter().map(|v| (n.clone(), v)));
        }
    }
    let mut types: [Vec<TypeEntry>; NKINDS] = Default::default();
    for (k, mut list) in per_kind.into_iter().enumerate() {
        // Primary first: most common layout, then lowest offset.
        list.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.1.count.cmp(&a.1.count))
                .then(a.1.die.cmp(&b.1.die))
        });
        if k == usize::from(KIND_BASE) || k == usize::from(KIND_TYPEDEF) {
            list.dedup_by(|b, a| a.0 == b.0);
        }
        types[k] = list
            .into_iter()
            .map(|(n, v)| TypeEntry {
                name: intern(&n),
                die: v.die,
                decl: v.decl,
            })
            .collect();
    }
    let mut globals: Vec<(String, u64, u64)> = acc
        .globals
        .into_iter()
        .flat_map(|(n, vs)| {
            let n = lossy(n);
            vs.into_iter()
                .map(move |(addr, die)| (n.clone(), addr, die))
        })
        .collect();
    globals.sort();
    // In a relocatable file one name may come under several keys.
    globals.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
    let globals = globals
        .into_iter()
        .map(|(n, addr, die)| GlobalEntry {
            name: intern(&n),
            die,
            addr,
        })
        .collect();
    let mut enumerators: Vec<(String, u64)> = acc
        .enumerators
        .into_iter()
        .map(|(n, d)| (lossy(n), d))
        .collect();
    enumerators.sort();
    enumerators.dedup_by(|b, a| a.0 == b.0);
    let enumerators = enumerators
        .into_iter()
        .map(|(n, die)| EnumEntry {
            name: intern(&n),
            die,
        })
        .collect();
    let mut members: Vec<String> = member_keys.into_iter().map(lossy).collect();
    members.sort();
    members.dedup();
    let member_names = members.iter().map(|m| intern(m)).collect();
    IndexData {
        units,
        names,
        types,
        globals,
        enumerators,
        member_names,
        units_failed: acc.units_failed as u32,
    }
}

#[cfg(test)]
#[path = "dwarf_tests.rs"]
mod tests;
