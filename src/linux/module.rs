//! Loaded kernel modules: the `modules` list (`struct module`: name, base, size, state,
//! refcount, taints, section addresses), each module's in-memory kallsyms (`mod->kallsyms`),
//! module debuginfo (`.ko` files with DWARF, found automatically and loaded lazily) and a
//! module-aware [`SymbolResolver`].
//!
//! Sits beside `tasks`: it reads the kernel through the [`Session`]; the session keeps one
//! [`ModuleTable`] (built on first use) so that `symbolize` and `bt` can name module code.
//! Must not import `commands`, `script` or `repl`.

use crate::addr::Kva;
use crate::arch::x86_64::orc::{OrcLayout, OrcTable, ORC_ENTRY_SIZE};
use crate::debuginfo::{objfile, LineFrame, LineTable, TypeId, TypeIndex};
use crate::error::{Error, Result};
use crate::memory::{MemoryReader, ReadExt};
use crate::session::Session;
use crate::stack::{ResolvedSymbol, SymbolResolver};
use crate::value::{walk, PathCache, Target, Value, ValueError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Most modules walked before the list is declared looping.
const MAX_MODULES: usize = 65536;
/// Most symbols read from one module's kallsyms.
const MAX_MODULE_SYMBOLS: u64 = 1 << 20;
/// `MODULE_NAME_LEN` (64 - sizeof(unsigned long)).
const MODULE_NAME_LEN: usize = 56;
/// `MODULE_REF_BASE`: `mod->refcnt` starts at 1 for a live module; `/proc/modules` and `lsmod`
/// print `refcnt - 1`.
const MODULE_REF_BASE: i64 = 1;

/// The taint flags of `kernel/panic.c` `taint_flags[]`, bit order: letter when set.
pub const TAINT_LETTERS: [(u32, char, &str); 19] = [
    (0, 'P', "PROPRIETARY_MODULE"),
    (1, 'F', "FORCED_MODULE"),
    (2, 'S', "CPU_OUT_OF_SPEC"),
    (3, 'R', "FORCED_RMMOD"),
    (4, 'M', "MACHINE_CHECK"),
    (5, 'B', "BAD_PAGE"),
    (6, 'U', "USER"),
    (7, 'D', "DIE"),
    (8, 'A', "OVERRIDDEN_ACPI_TABLE"),
    (9, 'W', "WARN"),
    (10, 'C', "CRAP"),
    (11, 'I', "FIRMWARE_WORKAROUND"),
    (12, 'O', "OOT_MODULE"),
    (13, 'E', "UNSIGNED_MODULE"),
    (14, 'L', "SOFTLOCKUP"),
    (15, 'K', "LIVEPATCH"),
    (16, 'X', "AUX"),
    (17, 'T', "RANDSTRUCT"),
    (18, 'N', "TEST"),
];

/// The taint letters of a taint mask (`"OE"`), empty when untainted.
pub fn taint_string(mask: u64) -> String {
    TAINT_LETTERS
        .iter()
        .filter(|(bit, _, _)| mask & (1u64 << bit) != 0)
        .map(|(_, c, _)| *c)
        .collect()
}

/// One symbol of a module's kallsyms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSymbol {
    /// Symbol name.
    pub name: String,
    /// Runtime address.
    pub addr: u64,
    /// `st_size`.
    pub size: u64,
    /// The `nm`-style type letter from `typetab` (`t`, `T`, `d`, `b`…), `?` when unknown.
    pub kind: char,
}

impl ModuleSymbol {
    /// Whether the symbol is code (`t`/`T`/`w`/`W`).
    pub fn is_text(&self) -> bool {
        matches!(self.kind, 't' | 'T' | 'w' | 'W')
    }
}

/// One loaded module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Address of its `struct module`.
    pub addr: u64,
    /// `mod->name`.
    pub name: String,
    /// Base of its core text (`core_layout.base` before 6.4, `mem[MOD_TEXT].base` since).
    pub base: u64,
    /// Core size as `/proc/modules` prints it.
    pub size: u64,
    /// The text part of the core (`core_layout.text_size`, or `mem[MOD_TEXT].size`).
    pub text_size: u64,
    /// Address ranges the module's core occupies (one before 6.4; one per `mem[]` type since).
    pub ranges: Vec<(u64, u64)>,
    /// `enum module_state` value (0 live, 1 coming, 2 going, 3 unformed).
    pub state: i64,
    /// Reference count as `lsmod` prints it (`refcnt - MODULE_REF_BASE`).
    pub refcount: i64,
    /// `mod->taints` bit mask.
    pub taints: u64,
    /// Section name → load address, from `mod->sect_attrs`.
    pub sections: Vec<(String, u64)>,
    /// Its kallsyms, sorted by address.
    pub symbols: Vec<ModuleSymbol>,
}

impl ModuleInfo {
    /// `Live`, `Coming`, `Going` or `Unformed` as `/proc/modules` prints it.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            0 => "Live",
            1 => "Loading",
            2 => "Unloading",
            3 => "Unformed",
            _ => "?",
        }
    }

    /// Whether runtime address `a` lies in the module's core.
    pub fn contains(&self, a: u64) -> bool {
        self.ranges.iter().any(|&(lo, len)| a >= lo && a - lo < len)
    }

    /// The symbol at or before `a` (text symbols preferred by the caller), with the offset.
    pub fn symbol_at(&self, a: u64, text_only: bool) -> Option<(&ModuleSymbol, u64)> {
        let i = self.symbols.partition_point(|s| s.addr <= a);
        self.symbols[..i]
            .iter()
            .rev()
            .find(|s| !text_only || s.is_text())
            .map(|s| (s, a - s.addr))
    }

    /// The address of a symbol by name.
    pub fn symbol_addr(&self, name: &str) -> Option<u64> {
        self.symbols.iter().find(|s| s.name == name).map(|s| s.addr)
    }
}

/// A module's debuginfo: the `.ko` it came from and its DWARF type index.
pub struct ModuleDebug {
    /// The module name.
    pub module: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// Its DWARF type index (globals section-relative; see [`ModuleTable::global`]).
    pub types: TypeIndex,
    /// The file's bytes (decompressed when it was a `.ko.xz`/`.ko.zst`).
    bytes: Arc<dyn AsRef<[u8]> + Send + Sync>,
    /// Its line table, relocated to the module's runtime sections on first use.
    lines: OnceLock<std::result::Result<Arc<LineTable>, String>>,
    /// The member-path cache of values of its types.
    paths: PathCache,
}

impl ModuleDebug {
    /// The module's source-line table, its sections placed where `m` was loaded.
    pub fn lines(&self, m: &ModuleInfo) -> Result<Arc<LineTable>> {
        self.lines
            .get_or_init(|| {
                let place =
                    |name: &str| m.sections.iter().find(|(n, _)| n == name).map(|&(_, a)| a);
                LineTable::with_placement(Arc::clone(&self.bytes), &place)
                    .map(Arc::new)
                    .map_err(|e| format!("{}: {e}", self.path.display()))
            })
            .clone()
            .map_err(Error::Kernel)
    }
}

impl std::fmt::Debug for ModuleDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleDebug")
            .field("module", &self.module)
            .field("path", &self.path)
            .finish()
    }
}

/// What is known about one module's debuginfo.
#[derive(Debug, Clone)]
enum DebugState {
    Loaded(Arc<ModuleDebug>),
    /// Looked for and not found (or unreadable): the reason, reported once.
    Missing(String),
}

/// All loaded modules, with their debuginfo loaded on demand.
#[derive(Debug, Default)]
pub struct ModuleTable {
    /// The modules, in `modules` list order (most recently loaded first).
    pub modules: Vec<ModuleInfo>,
    /// Problems met while reading the list (partial results).
    pub warnings: Vec<String>,
    debug: Mutex<HashMap<String, DebugState>>,
    extra_dirs: Mutex<Vec<PathBuf>>,
    file_index: Mutex<Option<HashMap<String, PathBuf>>>,
    warned: Mutex<Vec<String>>,
    /// Module name → GNU build-id (hex) read from its in-memory `.note.gnu.build-id`.
    build_ids: HashMap<String, String>,
    /// Type name → the module that defines it completely (and the type there), or `None`
    /// when no module does; see `type_scope.rs`.
    type_answers: Mutex<HashMap<String, Option<(String, TypeId)>>>,
}

/// Normalized module name: `-` and `_` are the same (`dm-mod.ko` is `dm_mod`).
pub fn normalize_name(n: &str) -> String {
    n.replace('-', "_")
}

/// The file-name stem a module file gives its module (`dm-mod.ko.debug`, `dm-mod.ko.xz` →
/// `dm_mod`), or `None`
/// when the file is not a module object.
fn module_stem(file: &str) -> Option<String> {
    for ext in [".ko.debug", ".ko", ".ko.xz", ".ko.zst", ".ko.gz"] {
        if let Some(stem) = file.strip_suffix(ext) {
            return Some(normalize_name(stem));
        }
    }
    None
}

/// Standard places to look for module debuginfo for kernel `release`, in order.
pub fn default_debug_dirs(release: &str) -> Vec<PathBuf> {
    vec![
        PathBuf::from(format!("/usr/lib/debug/lib/modules/{release}")),
        PathBuf::from(format!("/usr/lib/debug/usr/lib/modules/{release}")),
        PathBuf::from(format!("/lib/modules/{release}")),
    ]
}

/// The `.build-id` folders searched for a module's build-id: one under each added
/// directory, then the system's.
fn build_id_roots(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = extra.iter().map(|d| d.join(".build-id")).collect();
    v.push(PathBuf::from("/usr/lib/debug/.build-id"));
    v
}

/// Adds every module file (`.ko`, `.ko.debug`, `.ko.xz`, `.ko.zst`, `.ko.gz`) under `dir` to `map` (first found wins), to a depth of 12.
fn index_dir(dir: &Path, map: &mut HashMap<String, PathBuf>, depth: usize) {
    if depth > 12 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            // `build` and `source` point at kernel source trees, never modules.
            let n = e.file_name();
            if n != "build" && n != "source" {
                index_dir(&p, map, depth + 1);
            }
        } else if let Some(stem) = e.file_name().to_str().and_then(module_stem) {
            map.entry(stem).or_insert(p);
        }
    }
}

impl ModuleTable {
    /// The module called `name` (`-`/`_` insensitive).
    pub fn find(&self, name: &str) -> Option<&ModuleInfo> {
        let n = normalize_name(name);
        self.modules.iter().find(|m| normalize_name(&m.name) == n)
    }

    /// The module whose core contains runtime address `a`.
    pub fn containing(&self, a: u64) -> Option<&ModuleInfo> {
        self.modules.iter().find(|m| m.contains(a))
    }

    /// Adds a directory to search for module debuginfo (`mod -S DIR`, `--debuginfo DIR`);
    /// searched before the standard places. Forgets earlier "not found" answers.
    pub fn add_debug_dir(&self, dir: &Path) {
        if let Ok(mut d) = self.extra_dirs.lock() {
            if !d.iter().any(|x| x == dir) {
                d.insert(0, dir.to_path_buf());
            }
        }
        if let Ok(mut f) = self.file_index.lock() {
            *f = None;
        }
        if let Ok(mut m) = self.debug.lock() {
            m.retain(|_, v| matches!(v, DebugState::Loaded(_)));
        }
        self.forget_types();
    }

    /// The remembered answer for type `name` (see [`ModuleTable::remember_type`]).
    pub(crate) fn remembered_type(&self, name: &str) -> Option<Option<(String, TypeId)>> {
        self.type_answers.lock().ok()?.get(name).cloned()
    }

    /// Remembers which module defines type `name` completely (`None`: none does).
    pub(crate) fn remember_type(&self, name: &str, answer: Option<(String, TypeId)>) {
        if let Ok(mut m) = self.type_answers.lock() {
            m.insert(name.to_string(), answer);
        }
    }

    /// Forgets remembered type answers (the set of debuginfo files changed).
    fn forget_types(&self) {
        if let Ok(mut m) = self.type_answers.lock() {
            m.clear();
        }
    }

    /// The directories searched for module debuginfo, in order.
    pub fn debug_dirs(&self, release: &str) -> Vec<PathBuf> {
        let mut v = self
            .extra_dirs
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default();
        v.extend(default_debug_dirs(release));
        v
    }

    /// The GNU build-id (hex) of loaded module `name`, from its in-memory note.
    pub fn build_id(&self, name: &str) -> Option<&str> {
        self.build_ids
            .get(&self.find(name)?.name)
            .map(String::as_str)
    }

    /// The debuginfo file found for module `name`, without loading it: by its build-id
    /// (`.build-id/xx/rest.debug` under each added directory, then under
    /// `/usr/lib/debug/.build-id`), else by file name in [`ModuleTable::debug_dirs`] order.
    pub fn find_debug_file(&self, release: &str, name: &str) -> Option<PathBuf> {
        if let Some(id) = self.build_id(name) {
            let extra = self
                .extra_dirs
                .lock()
                .map(|d| d.clone())
                .unwrap_or_default();
            for root in build_id_roots(&extra) {
                if let Some(p) = objfile::build_id_path(&root, id).filter(|p| p.is_file()) {
                    return Some(p);
                }
            }
        }
        let mut guard = self.file_index.lock().ok()?;
        if guard.is_none() {
            let mut map = HashMap::new();
            for d in self.debug_dirs(release) {
                index_dir(&d, &mut map, 0);
            }
            *guard = Some(map);
        }
        guard.as_ref()?.get(&normalize_name(name)).cloned()
    }

    /// Loads the debuginfo of module `name` from `file` (or the first one found), replacing
    /// an earlier answer. Errors name the file and the reason.
    pub fn load_debuginfo(
        &self,
        release: &str,
        name: &str,
        file: Option<&Path>,
    ) -> Result<Arc<ModuleDebug>> {
        let m = self
            .find(name)
            .ok_or_else(|| Error::Kernel(format!("{name}: no such module is loaded")))?;
        let path = match file {
            Some(f) => f.to_path_buf(),
            None => self.find_debug_file(release, &m.name).ok_or_else(|| {
                Error::Kernel(format!(
                    "{}: no debuginfo found (searched {})",
                    m.name,
                    self.debug_dirs(release)
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        };
        let result = open_debug(&m.name, &path);
        if file.is_some() {
            // A file named by the user may define types differently than the one found.
            self.forget_types();
        }
        if let Ok(mut map) = self.debug.lock() {
            map.insert(
                m.name.clone(),
                match &result {
                    Ok(d) => DebugState::Loaded(d.clone()),
                    Err(e) => DebugState::Missing(e.to_string()),
                },
            );
        }
        result
    }

    /// The debuginfo of module `name`, loading it automatically on first need. A module with
    /// none is looked for once; later calls return `None` at once.
    pub fn debuginfo(&self, release: &str, name: &str) -> Option<Arc<ModuleDebug>> {
        let key = self.find(name)?.name.clone();
        if let Some(state) = self.debug.lock().ok()?.get(&key) {
            return match state {
                DebugState::Loaded(d) => Some(d.clone()),
                DebugState::Missing(_) => None,
            };
        }
        self.load_debuginfo(release, &key, None).ok()
    }

    /// Whether module `module` may define a type named `type_name` (bare, without `struct `),
    /// judged without building its type index (see [`objfile::debug_str_may_name`]); `false`
    /// when it has no debuginfo to load.
    pub fn may_define(&self, release: &str, module: &str, type_name: &str) -> bool {
        if self.loaded_debuginfo(module).is_some() {
            return true;
        }
        let Some(path) = self.find_debug_file(release, module) else {
            return false;
        };
        match objfile::read_object(&path) {
            Ok(bytes) => objfile::debug_str_may_name((*bytes).as_ref(), type_name),
            Err(_) => true,
        }
    }

    /// The debuginfo already loaded for `name`, without trying to load it.
    pub fn loaded_debuginfo(&self, name: &str) -> Option<Arc<ModuleDebug>> {
        match self.debug.lock().ok()?.get(&self.find(name)?.name)? {
            DebugState::Loaded(d) => Some(d.clone()),
            DebugState::Missing(_) => None,
        }
    }

    /// Why module `name` has no debuginfo, if it was looked for and not found.
    pub fn debuginfo_problem(&self, name: &str) -> Option<String> {
        match self.debug.lock().ok()?.get(&self.find(name)?.name)? {
            DebugState::Missing(why) => Some(why.clone()),
            DebugState::Loaded(_) => None,
        }
    }

    /// Loads debuginfo for every module that has some (`mod -S`); returns how many loaded and
    /// the modules without.
    pub fn load_all(&self, release: &str) -> (usize, Vec<String>) {
        let mut ok = 0;
        let mut missing = Vec::new();
        for m in &self.modules {
            match self.load_debuginfo(release, &m.name, None) {
                Ok(_) => ok += 1,
                Err(_) => missing.push(m.name.clone()),
            }
        }
        (ok, missing)
    }

    /// A module global variable: its runtime address (from the module's kallsyms, which
    /// holds the section-relocated address of every static and global) and DWARF type.
    pub fn global(&self, release: &str, name: &str) -> Option<(u64, Arc<ModuleDebug>, TypeId)> {
        for m in &self.modules {
            let Some(addr) = m.symbol_addr(name) else {
                continue;
            };
            let d = self.debuginfo(release, &m.name)?;
            let g = d.types.global(name)?;
            return Some((addr, d, g.ty));
        }
        None
    }

    /// Records that `what` was reported, returning `true` only the first time.
    pub fn warn_once(&self, what: &str) -> bool {
        match self.warned.lock() {
            Ok(mut w) if !w.iter().any(|x| x == what) => {
                w.push(what.to_string());
                true
            }
            _ => false,
        }
    }

    /// `func+0xoff [module]`-style resolution of a code address in a module.
    pub fn resolve_code(&self, a: u64) -> Option<ResolvedSymbol> {
        let m = self.containing(a)?;
        let (s, _) = m.symbol_at(a, true)?;
        Some(ResolvedSymbol {
            name: s.name.clone(),
            start: s.addr,
            module: Some(m.name.clone()),
        })
    }
}

/// Opens a module's `.ko` (decompressing a `.ko.xz`/`.ko.zst`/`.ko.gz`) and builds (or
/// loads from the cache) its type index.
pub(crate) fn open_debug(name: &str, path: &Path) -> Result<Arc<ModuleDebug>> {
    let bytes = objfile::read_object(path)?;
    let types = match objfile::build_id_hex((*bytes).as_ref()) {
        Some(id) => {
            TypeIndex::load_or_build(bytes.clone(), &id, &crate::session::cache_dir(), None)
        }
        None => TypeIndex::build(bytes.clone(), None),
    }
    .map_err(|e| Error::Kernel(format!("{}: {e}", path.display())))?;
    Ok(Arc::new(ModuleDebug {
        module: name.to_string(),
        path: path.to_path_buf(),
        types,
        bytes,
        lines: OnceLock::new(),
        paths: PathCache::new(),
    }))
}

/// Reads the `modules` list. A bad entry ends the walk with a warning; what was read is kept.
pub fn read_modules(s: &Session) -> Result<ModuleTable> {
    let head = s
        .symbol_addr("modules")
        .ok_or_else(|| Error::Kernel("no 'modules' symbol in the vmlinux".into()))?;
    let ty = s.find_type("struct module")?;
    let list_off = s.offset_in(ty, "list")?;
    let w = walk::list(
        s,
        walk::ListStart::Head(head),
        &walk::ListOpts {
            bound: MAX_MODULES,
            ..Default::default()
        },
    );
    let mut table = ModuleTable::default();
    for e in &w.warnings {
        table.warnings.push(format!("modules list: {e}"));
    }
    for node in w.items {
        let addr = node.wrapping_sub(list_off);
        match read_module(s, ty, addr) {
            Ok(m) => {
                if let Some(id) = module_build_id(s, &m) {
                    table.build_ids.insert(m.name.clone(), id);
                }
                table.modules.push(m)
            }
            Err(e) => table
                .warnings
                .push(format!("struct module at {addr:#x}: {e}")),
        }
    }
    Ok(table)
}

/// A module's build-id from its in-memory `.note.gnu.build-id` section (placed by the
/// loader like any allocated section, its address in `mod->sect_attrs`).
fn module_build_id(s: &Session, m: &ModuleInfo) -> Option<String> {
    let (_, addr) = m.sections.iter().find(|(n, _)| n == ".note.gnu.build-id")?;
    // A GNU build-id note is 16 bytes of header and name plus a 20-byte (SHA-1) or at most
    // 64-byte descriptor.
    let notes = s
        .read_vec(Kva(*addr), 96)
        .or_else(|_| s.read_vec(Kva(*addr), 36))
        .ok()?;
    objfile::note_build_id(&notes)
}

/// Reads one `struct module`.
pub fn read_module(s: &Session, ty: TypeId, addr: u64) -> Result<ModuleInfo> {
    let v = Value::at(ty, addr);
    let mut name_buf = [0u8; MODULE_NAME_LEN];
    s.read_virt(Kva(addr + s.offset_in(ty, "name")?), &mut name_buf)?;
    let end = name_buf
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(MODULE_NAME_LEN);
    let name = String::from_utf8_lossy(&name_buf[..end]).into_owned();
    // Since 6.4 (ac3b43283923 "module: replace module_layout with module_memory") the module's
    // memory is `mod->mem[MOD_MEM_NUM_TYPES]`, one region per kind (text, data, rodata,
    // ro_after_init, then the init kinds); `/proc/modules` prints mem[MOD_TEXT].base and the
    // sum of the core kinds' sizes. Before, one `core_layout { base, size, text_size }` held
    // the whole core, and /proc/modules printed core_layout.base and
    // init_layout.size + core_layout.size.
    let (base, size, text_size, ranges) = if v.has_member(s, "core_layout") {
        let base = v.member_u64(s, "core_layout.base")?;
        let size = v.member_u64(s, "core_layout.size")?;
        let init = v.member_u64(s, "init_layout.size").unwrap_or(0);
        let text = v.member_u64(s, "core_layout.text_size").unwrap_or(size);
        (base, size + init, text, vec![(base, size)])
    } else {
        let mem = v.member(s, "mem")?;
        let mut ranges = Vec::new();
        let mut total = 0;
        // MOD_TEXT, MOD_DATA, MOD_RODATA, MOD_RO_AFTER_INIT are the core kinds (0..4).
        for i in 0..4 {
            let r = mem.index(s, i)?;
            let b = r.member_u64(s, "base")?;
            let z = r.member_u64(s, "size")?;
            total += z;
            if b != 0 && z != 0 {
                ranges.push((b, z));
            }
        }
        let text = mem.index(s, 0)?;
        (
            text.member_u64(s, "base")?,
            total,
            text.member_u64(s, "size")?,
            ranges,
        )
    };
    let state = v.member(s, "state")?.to_i64(s)?;
    let refcount = v
        .member(s, "refcnt.counter")
        .and_then(|r| r.to_i64(s))
        .map(|r| r - MODULE_REF_BASE)
        .unwrap_or(0);
    let taints = v.member_u64(s, "taints").unwrap_or(0);
    let symbols = read_kallsyms(s, &v).unwrap_or_default();
    let sections = read_sections(s, &v).unwrap_or_default();
    Ok(ModuleInfo {
        addr,
        name,
        base,
        size,
        text_size,
        ranges,
        state,
        refcount,
        taints,
        sections,
        symbols,
    })
}

/// The ORC table of one loaded module, in runtime addresses.
#[derive(Debug, Clone)]
pub struct ModuleOrc {
    /// Module name.
    pub name: String,
    /// Text range `[start, end)`.
    pub text: (u64, u64),
    /// Its table.
    pub table: OrcTable,
}

/// Reads the ORC table of module `m` (`mod->arch.num_orcs`, `orc_unwind_ip`, `orc_unwind`)
/// for its text `[base, base + text_size)`.
pub fn module_orc(s: &Session, m: &ModuleInfo, layout: OrcLayout) -> Option<ModuleOrc> {
    let ty = s.find_type("struct module").ok()?;
    let v = Value::at(ty, m.addr);
    let n = v.member_u64(s, "arch.num_orcs").ok()? as usize;
    // A module has a few thousand entries; more than 4 Mi is a corrupt count.
    if n == 0 || n > 1 << 22 {
        return None;
    }
    let ip_at = v.member_u64(s, "arch.orc_unwind_ip").ok()?;
    let orc_at = v.member_u64(s, "arch.orc_unwind").ok()?;
    let ip_bytes = s.read_vec(Kva(ip_at), n.checked_mul(4)?).ok()?;
    let orc_bytes = s
        .read_vec(Kva(orc_at), n.checked_mul(ORC_ENTRY_SIZE)?)
        .ok()?;
    let table = OrcTable::parse(ip_at, &ip_bytes, &orc_bytes, layout).ok()?;
    Some(ModuleOrc {
        name: m.name.clone(),
        text: (m.base, m.base.checked_add(m.text_size)?),
        table,
    })
}

/// Reads `mod->kallsyms`: `num_symtab` `Elf64_Sym`s, their names in `strtab` and their type
/// letters in `typetab` (since 5.2; before, the letter was kept in `st_size`... not handled).
fn read_kallsyms(s: &Session, m: &Value) -> Result<Vec<ModuleSymbol>> {
    let ks = m.member(s, "kallsyms")?;
    let n = ks.member_u64(s, "num_symtab")?.min(MAX_MODULE_SYMBOLS);
    let symtab = ks.member_u64(s, "symtab")?;
    let strtab = ks.member_u64(s, "strtab")?;
    let typetab = ks.member_u64(s, "typetab").unwrap_or(0);
    // The symbol table is an array of `Elf64_Sym` (include/uapi/linux/elf.h), described in
    // the vmlinux's DWARF.
    let sym = s.find_type("Elf64_Sym")?;
    let esz = s.types()?.size_of(sym)?;
    let (name_at, value_at, size_at) = (
        s.offset_in(sym, "st_name")? as usize,
        s.offset_in(sym, "st_value")? as usize,
        s.offset_in(sym, "st_size")? as usize,
    );
    let raw = s.read_vec(Kva(symtab), (n * esz) as usize)?;
    let types = if typetab != 0 {
        s.read_vec(Kva(typetab), n as usize).unwrap_or_default()
    } else {
        Vec::new()
    };
    let le32 = |b: Option<&[u8]>| {
        b.and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .unwrap_or(0)
    };
    let le64 = |b: Option<&[u8]>| {
        b.and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .unwrap_or(0)
    };
    let entries: Vec<(u32, u64, u64)> = raw
        .chunks_exact(esz.max(1) as usize)
        .map(|e| {
            (
                le32(e.get(name_at..name_at + 4)),
                le64(e.get(value_at..value_at + 8)),
                le64(e.get(size_at..size_at + 8)),
            )
        })
        .collect();
    // The names: one read of the whole string table (up to the last name plus slack), page
    // by page reads if that fails.
    let max_name = entries.iter().map(|e| u64::from(e.0)).max().unwrap_or(0);
    let strs = s
        .read_vec(Kva(strtab), (max_name + 256) as usize)
        .or_else(|_| s.read_vec(Kva(strtab), (max_name + 1) as usize))
        .ok();
    let mut out = Vec::new();
    for (i, &(name_off, value, size)) in entries.iter().enumerate() {
        if value == 0 || name_off == 0 {
            continue;
        }
        let name = match &strs {
            Some(b) => b
                .get(name_off as usize..)
                .map(|t| {
                    let end = t.iter().position(|&c| c == 0).unwrap_or(t.len().min(256));
                    String::from_utf8_lossy(&t[..end]).into_owned()
                })
                .unwrap_or_default(),
            None => s
                .read_cstring(Kva(strtab + u64::from(name_off)), 256)
                .unwrap_or_default(),
        };
        if name.is_empty() {
            continue;
        }
        let kind = types.get(i).map(|&c| c as char).unwrap_or('?');
        out.push(ModuleSymbol {
            name,
            addr: value,
            size,
            kind,
        });
    }
    // Among symbols at one address the sized ones sort last, where `symbol_at` looks first:
    // since 6.10 a module has zero-size section markers (`__start_alloc_tags`) at the address
    // of the first object of the next section.
    out.sort_by_key(|x| (x.addr, x.size != 0));
    Ok(out)
}

/// Reads `mod->sect_attrs`: each section's name and load address.
fn read_sections(s: &Session, m: &Value) -> Result<Vec<(String, u64)>> {
    let sa = m.member(s, "sect_attrs")?;
    if sa.is_null(s)? {
        return Ok(Vec::new());
    }
    let n = sa.member_u64(s, "nsections")?.min(4096);
    let attrs = sa.member(s, "attrs")?;
    let mut out = Vec::new();
    for i in 0..n as i64 {
        let a = attrs.index(s, i)?;
        // Since 5.8 the attribute is a `bin_attribute battr`; before, a `module_attribute`
        // plus a `name` pointer.
        let name_ptr = a
            .member_u64(s, "battr.attr.name")
            .or_else(|_| a.member_u64(s, "name"))?;
        let name = s.read_cstring(Kva(name_ptr), 128).unwrap_or_default();
        out.push((name, a.member_u64(s, "address")?));
    }
    Ok(out)
}

/// A [`SymbolResolver`] for the kernel image first, then module kallsyms.
pub struct ModuleAwareSymbols<'a>(pub &'a Session);

impl SymbolResolver for ModuleAwareSymbols<'_> {
    fn resolve(&self, addr: u64) -> Option<ResolvedSymbol> {
        crate::linux::stacktrace::KernelSymbols(self.0)
            .resolve(addr)
            .or_else(|| self.0.modules().ok()?.resolve_code(addr))
    }
}

/// A value-layer [`Target`] that reads memory and symbols through the session but takes its
/// types from one module's debuginfo, so that `Value`s of module types (`struct dm_table`)
/// can be read and printed.
pub struct ModuleTarget<'a> {
    session: &'a Session,
    debug: Arc<ModuleDebug>,
}

impl<'a> ModuleTarget<'a> {
    /// A target for the types of `debug`.
    pub fn new(session: &'a Session, debug: Arc<ModuleDebug>) -> Self {
        Self { session, debug }
    }
    /// The module debuginfo it uses.
    pub fn debug(&self) -> &ModuleDebug {
        &self.debug
    }
}

impl MemoryReader for ModuleTarget<'_> {
    fn read_virt(
        &self,
        kva: Kva,
        buf: &mut [u8],
    ) -> std::result::Result<(), crate::memory::MemoryError> {
        self.session.read_virt(kva, buf)
    }
}

impl Target for ModuleTarget<'_> {
    fn type_index(&self) -> std::result::Result<&TypeIndex, ValueError> {
        Ok(&self.debug.types)
    }
    fn symbol_near(&self, addr: u64) -> Option<(String, u64)> {
        self.session.symbol_near(addr).or_else(|| {
            let t = self.session.modules().ok()?;
            let (sym, off) = t.containing(addr)?.symbol_at(addr, false)?;
            Some((sym.name.clone(), off))
        })
    }
    fn global_var(&self, name: &str) -> Option<(u64, TypeId)> {
        let t = self.session.modules().ok()?;
        let m = t.find(&self.debug.module)?;
        let addr = m.symbol_addr(name)?;
        Some((addr, self.debug.types.global(name)?.ty))
    }
    fn symbol_address(&self, name: &str) -> Option<u64> {
        self.session.symbol_addr(name).or_else(|| {
            let t = self.session.modules().ok()?;
            t.modules.iter().find_map(|m| m.symbol_addr(name))
        })
    }
    fn symbols_at(&self, addr: u64) -> Vec<String> {
        self.session.symbols_at(addr)
    }
    fn is_percpu_offset(&self, addr: u64) -> bool {
        self.session.is_percpu_link_addr(addr)
    }
    fn cpu_offsets(&self) -> &[u64] {
        self.session.per_cpu_offsets()
    }
    fn path_cache(&self) -> &PathCache {
        &self.debug.paths
    }
}

impl Session {
    /// The module table, read on first use (kept for the session's life).
    pub fn modules(&self) -> Result<&ModuleTable> {
        let r = crate::linux::state(self)?
            .modules
            .get_or_init(|| read_modules(self).map_err(|e| e.to_string()));
        r.as_ref().map_err(|e| Error::Kernel(e.clone()))
    }

    /// The kernel release (`init_uts_ns.name.release`, read once), used to find module
    /// debuginfo; empty when unreadable.
    pub fn release_cached(&self) -> String {
        let Ok(state) = crate::linux::state(self) else {
            return String::new();
        };
        state
            .release
            .get_or_init(|| {
                crate::linux::sysinfo::utsname(self)
                    .map(|u| u.release)
                    .unwrap_or_default()
            })
            .clone()
    }

    /// The debuginfo of module `name`, loaded on first need (`None` when there is none; the
    /// reason is in [`ModuleTable::debuginfo_problem`]).
    pub fn module_debuginfo(&self, name: &str) -> Option<Arc<ModuleDebug>> {
        let rel = self.release_cached();
        self.modules().ok()?.debuginfo(&rel, name)
    }

    /// The source position of runtime code address `addr` with its inline chain, innermost
    /// first (see [`LineTable::lookup`]): from the vmlinux, or from the debuginfo of the
    /// module that holds the address. Empty when nothing covers it; an error when the
    /// module has no debuginfo (the reason as [`ModuleTable::debuginfo_problem`] gives it).
    /// Code without a function DIE (assembly such as `entry_SYSCALL_64`) takes the name of
    /// the ELF symbol that holds it.
    pub fn source_lines(&self, addr: u64) -> Result<Vec<LineFrame>> {
        let mut chain = match self.modules().ok().and_then(|t| t.containing(addr)) {
            Some(m) => {
                let d = self.module_debuginfo(&m.name).ok_or_else(|| {
                    Error::Kernel(format!("{}: no debuginfo for source lines", m.name))
                })?;
                d.lines(m)?.lookup(addr)?
            }
            None => {
                let link = addr.wrapping_sub(self.kaslr_offset());
                self.line_table()?.lookup(link)?
            }
        };
        if let Some(outer) = chain.last_mut().filter(|f| f.function.is_none()) {
            outer.function = ModuleAwareSymbols(self).resolve(addr).map(|s| s.name);
        }
        Ok(chain)
    }

    /// A target for evaluating `expr` with a module's types and globals: the module that has
    /// the first `struct`/`union`/`enum` type the expression names and the vmlinux lacks,
    /// else the module with the first global the expression names that the vmlinux lacks.
    /// `None` when the expression needs no module.
    pub fn module_target_for_expr(&self, expr: &str) -> Option<ModuleTarget<'_>> {
        if let Some(t) = self.module_target_for_types(expr) {
            return Some(t);
        }
        let ident = regex_lite::Regex::new(r"[A-Za-z_][A-Za-z0-9_]*").ok()?;
        let rel = self.release_cached();
        let table = self.modules().ok()?;
        for m in ident.find_iter(expr) {
            let before = expr[..m.start()].trim_end();
            if before.ends_with('.')
                || before.ends_with("->")
                || self.symbol_addr(m.as_str()).is_some()
            {
                continue;
            }
            if let Some((_, d, _)) = table.global(&rel, m.as_str()) {
                return Some(ModuleTarget::new(self, d));
            }
        }
        None
    }

    /// A target for an expression that names a `struct`/`union`/`enum` type the vmlinux only
    /// declares and a module defines (`sizeof(struct dm_table)`): the first such module's.
    /// `None` when every type the expression names is complete in the vmlinux.
    pub fn module_target_for_types(&self, expr: &str) -> Option<ModuleTarget<'_>> {
        let tagged =
            regex_lite::Regex::new(r"\b(struct|union|enum)\s+([A-Za-z_][A-Za-z0-9_]*)").ok()?;
        let vm = self.types().ok()?;
        for c in tagged.captures_iter(expr) {
            let name = format!("{} {}", &c[1], &c[2]);
            let complete = vm
                .find_type(&name)
                .is_some_and(|id| vm.declaration_only(id).is_none());
            if complete {
                continue;
            }
            if let Some((t, _)) = self.module_type(&name) {
                return Some(t);
            }
        }
        None
    }

    /// A module type by C name (`struct dm_table`, `dm_round_robin:struct path_info`) that
    /// the vmlinux does not define, with a target to read values of it.
    pub fn module_type(&self, name: &str) -> Option<(ModuleTarget<'_>, TypeId)> {
        let st = self.lookup_type(name).ok()?;
        match st.scope {
            crate::linux::type_scope::TypeScope::Module(d) => {
                Some((ModuleTarget::new(self, d), st.id))
            }
            crate::linux::type_scope::TypeScope::Vmlinux => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const MOD_C: &str = "struct rkd_probe { long a; int b[3]; struct rkd_probe *next; };\n\
                         struct rkd_probe rkd_probe_var;\n";

    /// Builds a module-like relocatable ELF with DWARF (`gcc -g -c`), named `NAME.ko`.
    fn build_ko(dir: &Path, name: &str) -> PathBuf {
        std::fs::create_dir_all(dir).expect("temp dir");
        let src = dir.join(format!("{name}.c"));
        std::fs::write(&src, MOD_C).expect("write source");
        let ko = dir.join(format!("{name}.ko"));
        let st = Command::new("gcc")
            .args(["-g", "-c", "-o"])
            .arg(&ko)
            .arg(&src)
            .status()
            .expect("gcc must be installed");
        assert!(st.success(), "gcc failed");
        ko
    }

    /// Compresses `ko` with `tool` (`xz`, `zstd`, `gzip`), leaving only the compressed file.
    fn compress(ko: &Path, tool: &str, ext: &str) -> PathBuf {
        let st = Command::new(tool)
            .args(["-q", "-f"])
            .arg(ko)
            .status()
            .unwrap_or_else(|e| panic!("{tool} must be installed: {e}"));
        assert!(st.success(), "{tool} failed");
        let out = PathBuf::from(format!("{}.{ext}", ko.display()));
        let _ = std::fs::remove_file(ko);
        assert!(out.is_file(), "{} missing", out.display());
        out
    }

    #[test]
    fn compressed_modules_are_read_and_indexed() {
        let dir = std::env::temp_dir().join(format!("rkdump-koz-{}", std::process::id()));
        for (tool, ext) in [("xz", "xz"), ("zstd", "zst"), ("gzip", "gz")] {
            let name = format!("rkd-probe-{ext}");
            let ko = build_ko(&dir, &name);
            let plain = open_debug("rkd_probe", &ko).expect("plain .ko");
            let want = plain
                .types
                .size_of(plain.types.find_type("struct rkd_probe").expect("type"))
                .expect("size");
            let z = compress(&ko, tool, ext);
            let d = open_debug("rkd_probe", &z).unwrap_or_else(|e| panic!("{ext}: {e}"));
            let ty = d
                .types
                .find_type("struct rkd_probe")
                .expect("type in .ko.{ext}");
            assert_eq!(d.types.size_of(ty).expect("size"), want);
            assert_eq!(want, 32);
            let members: Vec<String> = d
                .types
                .members(ty)
                .expect("members")
                .into_iter()
                .filter_map(|m| m.name)
                .collect();
            assert_eq!(members, ["a", "b", "next"]);
            assert!(d.types.global("rkd_probe_var").is_some());
            // The directory index names the module by its stem.
            let mut map = HashMap::new();
            index_dir(&dir, &mut map, 0);
            assert_eq!(map.get(&normalize_name(&name)), Some(&z));
        }
        // Corrupt compressed data is an error naming the file, not a panic.
        let bad = dir.join("bad.ko.xz");
        std::fs::write(&bad, b"\xfd7zXZ\0garbage").expect("write");
        let e = open_debug("bad", &bad).expect_err("corrupt xz");
        assert!(e.to_string().contains("bad.ko.xz"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
