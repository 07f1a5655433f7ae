//! The vmlinux: memory-mapped ELF, its symbols, build-id and section contents, and (in the
//! DWARF submodules) the type index. gimli and object types never leave this module.
//!
//! Must not import `dump`.

use memmap2::Mmap;
use object::{Object, ObjectSection, ObjectSymbol};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

mod cache;
pub mod dwarf_index;
pub mod lines;
pub mod objfile;
mod reader;
pub mod symbols;
pub mod types;

pub use dwarf_index::{IndexStats, Progress, TypeIndex};
pub use lines::{LineFrame, LineTable, SourceLoc};
pub use symbols::{Symbol, SymbolKind, SymbolTable};
pub use types::{BaseEncoding, Global, Member, MemberInfo, Qualifier, StructKind, Type, TypeId};

/// Why debug info could not be loaded or a lookup failed.
#[derive(Debug, Error)]
pub enum DebugInfoError {
    /// The file could not be opened or mapped.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not an ELF object we can read.
    #[error("{path}: not a usable ELF file: {reason}")]
    BadElf {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file has no symbol table or no DWARF.
    #[error("{path}: {what} missing (is this a vmlinux with debug info?)")]
    Missing {
        /// The file.
        path: PathBuf,
        /// What is missing.
        what: &'static str,
    },
    /// DWARF data is malformed where it was needed.
    #[error("malformed DWARF at .debug_info+{offset:#x}: {reason}")]
    Dwarf {
        /// `.debug_info` offset of the DIE or unit concerned.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// No type of that name.
    #[error("no type named '{name}'")]
    NoType {
        /// The name as asked.
        name: String,
    },
    /// The type has no member of that name (or the path crosses a pointer or a non-aggregate).
    #[error("{type_name} has no member '{member}'")]
    NoMember {
        /// The outer type, in C spelling.
        type_name: String,
        /// The member path as asked.
        member: String,
    },
    /// The type has no size (void, function, flexible array, unresolved declaration).
    #[error("{type_name} has no size")]
    NoSize {
        /// The type, in C spelling.
        type_name: String,
    },
}

/// A section of the vmlinux: its link-time address and file range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionInfo {
    /// Section name.
    pub name: String,
    /// Link-time virtual address.
    pub addr: u64,
    /// Size in memory.
    pub size: u64,
    /// File offset and length of its contents (`None` for NOBITS such as `.bss`).
    pub file_range: Option<(u64, u64)>,
}

/// A loaded vmlinux (read-only mapping of the file).
pub struct Vmlinux {
    path: PathBuf,
    data: Arc<Mmap>,
    symbols: SymbolTable,
    sections: Vec<SectionInfo>,
    build_id: Option<Vec<u8>>,
}

impl std::fmt::Debug for Vmlinux {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vmlinux")
            .field("path", &self.path)
            .field("symbols", &self.symbols.len())
            .finish()
    }
}

impl Vmlinux {
    /// Maps `path` read-only and reads its symbol table, sections and build-id.
    pub fn open(path: &Path) -> Result<Self, DebugInfoError> {
        let io = |source| DebugInfoError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the mapping is read-only and the file is not modified by this process; a
        // concurrent truncation by another process is outside what any dump tool can guard.
        let data = unsafe { Mmap::map(&file) }.map_err(io)?;
        let data = Arc::new(data);
        let bad = |reason: String| DebugInfoError::BadElf {
            path: path.to_path_buf(),
            reason,
        };
        let obj = object::File::parse(&data[..]).map_err(|e| bad(e.to_string()))?;
        if obj.architecture() != object::Architecture::X86_64 {
            return Err(bad(format!(
                "architecture {:?} is not supported (x86_64 only)",
                obj.architecture()
            )));
        }
        // What each section holds, looked up once instead of once per symbol.
        let section_kinds: Vec<Option<object::SectionKind>> = {
            let mut v = Vec::new();
            for sec in obj.sections() {
                let i = sec.index().0;
                if v.len() <= i {
                    v.resize(i + 1, None);
                }
                v[i] = Some(sec.kind());
            }
            v
        };
        let section_kind = |section: object::SymbolSection| match section {
            object::SymbolSection::Section(idx) => section_kinds.get(idx.0).copied().flatten(),
            _ => None,
        };
        let mut syms = Vec::new();
        for s in obj.symbols() {
            let Ok(name) = s.name() else { continue };
            let sym_kind = s.kind();
            if name.is_empty() || sym_kind == object::SymbolKind::File {
                continue;
            }
            let section = s.section();
            let kind = match (sym_kind, section_kind(section)) {
                (object::SymbolKind::Text, _) => SymbolKind::Text,
                (object::SymbolKind::Data, Some(object::SectionKind::UninitializedData)) => {
                    SymbolKind::Bss
                }
                (object::SymbolKind::Data, _) => SymbolKind::Data,
                _ if section == object::SymbolSection::Absolute => SymbolKind::Absolute,
                (_, Some(object::SectionKind::Text)) => SymbolKind::Text,
                (_, Some(object::SectionKind::UninitializedData)) => SymbolKind::Bss,
                (_, Some(_)) => SymbolKind::Data,
                (_, None) => SymbolKind::Other,
            };
            syms.push(Symbol {
                name: name.to_string(),
                addr: s.address(),
                size: s.size(),
                kind,
                global: s.is_global(),
            });
        }
        if syms.is_empty() {
            return Err(DebugInfoError::Missing {
                path: path.to_path_buf(),
                what: "symbol table",
            });
        }
        let sections = obj
            .sections()
            .map(|s| SectionInfo {
                name: s.name().unwrap_or("").to_string(),
                addr: s.address(),
                size: s.size(),
                file_range: s.file_range(),
            })
            .collect();
        let build_id = obj.build_id().ok().flatten().map(<[u8]>::to_vec);
        Ok(Self {
            path: path.to_path_buf(),
            symbols: SymbolTable::new(syms),
            sections,
            build_id,
            data,
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The whole file's bytes (shared, read-only).
    pub fn bytes(&self) -> Arc<Mmap> {
        Arc::clone(&self.data)
    }
    /// The ELF symbol table (link-time addresses).
    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }
    /// The GNU build-id, if the file has one.
    pub fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_deref()
    }
    /// The build-id as lowercase hex.
    pub fn build_id_hex(&self) -> Option<String> {
        self.build_id()
            .map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
    }
    /// All sections.
    pub fn sections(&self) -> &[SectionInfo] {
        &self.sections
    }
    /// The section called `name`.
    pub fn section(&self, name: &str) -> Option<&SectionInfo> {
        self.sections.iter().find(|s| s.name == name)
    }
    /// The contents of section `name` (empty for NOBITS).
    pub fn section_data(&self, name: &str) -> Option<&[u8]> {
        let (off, len) = self.section(name)?.file_range?;
        let end = off.checked_add(len)?;
        self.data
            .get(usize::try_from(off).ok()?..usize::try_from(end).ok()?)
    }
    /// Bytes the image holds at link-time address `addr` (initialized data only).
    pub fn read_static(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let sec = self.sections.iter().find(|s| {
            s.file_range.is_some()
                && s.addr != 0
                && addr >= s.addr
                && addr
                    .checked_add(len as u64)
                    .is_some_and(|e| e <= s.addr + s.size)
        })?;
        let (off, _) = sec.file_range?;
        let start = off.checked_add(addr - sec.addr)?;
        let start = usize::try_from(start).ok()?;
        self.data.get(start..start.checked_add(len)?)
    }
}
