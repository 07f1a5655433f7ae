//! The session: one dump, its vmlinux, the address translation and the bootstrap facts, wired
//! together. Every command and script reads the kernel through this object.
//!
//! Must not import `commands` or `script`.

use crate::addr::{Kva, Pa};
use crate::arch::x86_64::Paging;
use crate::arch::Arch;
use crate::debuginfo::{Symbol, TypeId, TypeIndex, Vmlinux};
use crate::dump::{self, Dump};
use crate::error::{Error, Result};
use crate::kernel::layout::{check_match, discover_layout, LayoutSource};
use crate::memory::{MemoryError, MemoryReader, PhysReader, ReadExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};

/// Most bytes past a symbol's end an address may lie and still be shown as `sym+off`.
const SYMBOL_SLACK: u64 = 4096;

/// An open dump with its kernel.
pub struct Session {
    dump: Box<dyn Dump>,
    vmlinux: Vmlinux,
    paging: Paging,
    layout_source: LayoutSource,
    percpu_end: u64,
    per_cpu_offsets: Vec<u64>,
    types: OnceLock<std::result::Result<TypeIndex, String>>,
    self_ref: OnceLock<Weak<Session>>,
    paths: crate::value::PathCache,
    /// The kernel layer's per-session state (its lazy caches: the module table, ...), kept here
    /// without the session knowing its type (see [`Session::kernel_state`]).
    kernel_state: OnceLock<Box<dyn std::any::Any + Send + Sync>>,
    /// The vmlinux's source-line table, made on first use.
    lines: OnceLock<std::result::Result<crate::debuginfo::LineTable, String>>,
    /// What the user should know about the dump as it opens (e.g. that the file ends early).
    open_warnings: Vec<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("dump", &self.dump.path())
            .field("vmlinux", &self.vmlinux.path())
            .field("layout", self.paging.layout())
            .finish()
    }
}

/// What a file looks like from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An ELF executable or relocatable object (a vmlinux or module).
    Kernel,
    /// A dump (ELF core, kdump-compressed or flattened).
    Dump,
    /// Something else.
    Unknown,
}

/// Classifies `path` by its magic number (ELF `e_type` 4 = core).
pub fn file_kind(path: &Path) -> std::io::Result<FileKind> {
    use std::io::Read;
    let mut head = [0u8; 18];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut head)?;
    let head = &head[..n];
    Ok(if head.starts_with(b"\x7fELF") && head.len() >= 18 {
        if u16::from_le_bytes([head[16], head[17]]) == 4 {
            FileKind::Dump
        } else {
            FileKind::Kernel
        }
    } else if head.starts_with(b"KDUMP   ") || head.starts_with(b"makedumpfile") {
        FileKind::Dump
    } else {
        FileKind::Unknown
    })
}

/// Orders two paths as (vmlinux, vmcore) by content, whatever order they were given in.
pub fn order_files(a: &Path, b: &Path) -> Result<(PathBuf, PathBuf)> {
    let kind = |p: &Path| file_kind(p).map_err(|e| Error::Kernel(format!("{}: {e}", p.display())));
    match (kind(a)?, kind(b)?) {
        (FileKind::Kernel, FileKind::Dump) => Ok((a.into(), b.into())),
        (FileKind::Dump, FileKind::Kernel) => Ok((b.into(), a.into())),
        (FileKind::Unknown, _) => Err(Error::Kernel(format!(
            "{}: neither a vmlinux nor a dump",
            a.display()
        ))),
        (_, FileKind::Unknown) => Err(Error::Kernel(format!(
            "{}: neither a vmlinux nor a dump",
            b.display()
        ))),
        (ka, _) => Err(Error::Kernel(format!(
            "{} and {} are both {}",
            a.display(),
            b.display(),
            if ka == FileKind::Dump {
                "dumps"
            } else {
                "kernels"
            }
        ))),
    }
}

impl Session {
    /// Opens `vmcore` with `vmlinux`, finds the kernel's layout and checks that they match.
    pub fn open(vmlinux: &Path, vmcore: &Path) -> Result<Self> {
        let vmlinux = Vmlinux::open(vmlinux)?;
        let dump = dump::open(vmcore)?;
        Self::from_parts(dump, vmlinux)
    }

    /// Builds a session from an already opened dump and vmlinux.
    pub fn from_parts(dump: Box<dyn Dump>, vmlinux: Vmlinux) -> Result<Self> {
        // A file that ends early still opens: what it holds is often what matters, and every
        // read of a missing page fails with its address.
        let truncated = dump
            .truncation()
            .map(|why| format!("{}: {why}", dump.path().display()));
        let with_truncation = |e: Error| match &truncated {
            Some(t) => Error::Kernel(format!("{e} ({t})")),
            None => e,
        };
        let (layout, layout_source) =
            discover_layout(dump.as_ref(), &vmlinux).map_err(with_truncation)?;
        let percpu_end = vmlinux
            .section(".data..percpu")
            .filter(|s| s.addr == 0)
            .map(|s| s.size)
            .unwrap_or(0);
        let mut s = Self {
            dump,
            vmlinux,
            paging: Paging::new(layout),
            layout_source,
            percpu_end,
            per_cpu_offsets: Vec::new(),
            types: OnceLock::new(),
            self_ref: OnceLock::new(),
            paths: crate::value::PathCache::new(),
            kernel_state: OnceLock::new(),
            lines: OnceLock::new(),
            open_warnings: truncated.iter().cloned().collect(),
        };
        let slide = s.kaslr_offset();
        check_match(
            s.dump.as_ref(),
            &s.vmlinux,
            &|kva, len| s.read_vec(kva, len).ok(),
            slide,
        )
        .map_err(with_truncation)?;
        s.per_cpu_offsets = s.read_per_cpu_offsets();
        Ok(s)
    }

    /// Moves the session into an `Arc` that scripts can hold for the length of a run.
    pub fn into_shared(self) -> Arc<Session> {
        let arc = Arc::new(self);
        let _ = arc.self_ref.set(Arc::downgrade(&arc));
        arc
    }

    /// What the user should be told as the dump opens, one line each (e.g. that the file ends
    /// early and how many pages are missing).
    pub fn open_warnings(&self) -> &[String] {
        &self.open_warnings
    }

    /// The `Arc` this session lives in, when it was made with [`Session::into_shared`].
    pub fn self_arc(&self) -> Option<Arc<Session>> {
        self.self_ref.get().and_then(Weak::upgrade)
    }

    fn read_per_cpu_offsets(&self) -> Vec<u64> {
        let Some(base) = self.symbol_addr("__per_cpu_offset") else {
            return Vec::new();
        };
        let n = self
            .symbol_addr("nr_cpu_ids")
            .and_then(|a| self.read_u32(Kva(a)).ok())
            .unwrap_or(1)
            .clamp(1, 8192) as u64;
        (0..n)
            .map_while(|i| self.read_u64(Kva(base + i * 8)).ok())
            .collect()
    }

    /// The dump.
    pub fn dump(&self) -> &dyn Dump {
        self.dump.as_ref()
    }
    /// The vmlinux.
    pub fn vmlinux(&self) -> &Vmlinux {
        &self.vmlinux
    }
    /// The address translation in use.
    pub fn paging(&self) -> &Paging {
        &self.paging
    }
    /// How the layout was found.
    pub fn layout_source(&self) -> LayoutSource {
        self.layout_source
    }
    /// The KASLR slide of the kernel image.
    pub fn kaslr_offset(&self) -> u64 {
        self.paging.layout().kaslr_offset
    }
    /// `__per_cpu_offset[]` for each possible CPU.
    pub fn per_cpu_offsets(&self) -> &[u64] {
        &self.per_cpu_offsets
    }

    /// Whether a link-time address is a per-CPU variable offset (not relocated by KASLR).
    pub fn is_percpu_link_addr(&self, link: u64) -> bool {
        link < self.percpu_end
    }

    /// The runtime address of a vmlinux symbol (KASLR applied; per-CPU symbols stay offsets).
    pub fn symbol_addr(&self, name: &str) -> Option<u64> {
        let s = self.vmlinux.symbols().lookup(name)?;
        Some(self.runtime_addr(s))
    }

    /// The runtime address of `sym`.
    pub fn runtime_addr(&self, sym: &Symbol) -> u64 {
        if self.is_percpu_link_addr(sym.addr) {
            sym.addr
        } else {
            sym.addr.wrapping_add(self.kaslr_offset())
        }
    }

    /// The symbol containing runtime address `addr` and the offset into it.
    pub fn symbol_at(&self, addr: u64) -> Option<(&Symbol, u64)> {
        let link = addr.wrapping_sub(self.kaslr_offset());
        self.vmlinux
            .symbols()
            .resolve(link, SYMBOL_SLACK)
            .filter(|(s, _)| !self.is_percpu_link_addr(s.addr))
    }

    /// `name+0xoff` (or `name`) for a runtime address in the kernel image, or
    /// `name+0xoff [module]` for one in a loaded module's core (from its kallsyms).
    pub fn symbolize(&self, addr: u64) -> Option<String> {
        let Some((s, off)) = self.symbol_at(addr) else {
            let m = self.modules().ok()?.containing(addr)?;
            let (s, off) = m.symbol_at(addr, false)?;
            return Some(if off == 0 {
                format!("{} [{}]", s.name, m.name)
            } else {
                format!("{}+{off:#x} [{}]", s.name, m.name)
            });
        };
        Some(if off == 0 {
            s.name.clone()
        } else {
            format!("{}+{off:#x}", s.name)
        })
    }

    /// Address of per-CPU variable `name` on `cpu`.
    pub fn per_cpu_addr(&self, name: &str, cpu: usize) -> Option<u64> {
        let off = *self.per_cpu_offsets.get(cpu)?;
        let s = self.vmlinux.symbols().lookup(name)?;
        Some(s.addr.wrapping_add(off))
    }

    /// Translates a kernel virtual address.
    pub fn translate(&self, kva: Kva) -> Result<Pa, MemoryError> {
        self.paging
            .translate(self.dump.as_ref() as &dyn PhysReader, kva)
    }
}

/// Where the DWARF index cache lives: `$RKDUMP_CACHE`, else `$XDG_CACHE_HOME/rkdump`, else
/// `~/.cache/rkdump`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RKDUMP_CACHE") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("rkdump");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache/rkdump")
}

impl Session {
    /// The DWARF type index of the vmlinux, built (or loaded from the cache) on first use.
    pub fn types(&self) -> Result<&TypeIndex> {
        let r = self.types.get_or_init(|| {
            let bytes: Arc<dyn AsRef<[u8]> + Send + Sync> = self.vmlinux.bytes();
            match self.vmlinux.build_id_hex() {
                Some(id) => TypeIndex::load_or_build(bytes, &id, &cache_dir(), None),
                None => TypeIndex::build(bytes, None),
            }
            .map_err(|e| e.to_string())
        });
        r.as_ref().map_err(|e| Error::Kernel(e.clone()))
    }

    /// The type called `name` (`struct task_struct`, `pid_t`, …).
    pub fn find_type(&self, name: &str) -> Result<TypeId> {
        self.types()?
            .find_type(name)
            .ok_or_else(|| Error::Kernel(format!("no type named '{name}'")))
    }

    /// Byte offset of a dotted member path inside type `ty`.
    pub fn offset_in(&self, ty: TypeId, path: &str) -> Result<u64> {
        Ok(self.types()?.member(ty, path)?.offset)
    }

    /// Byte offset of a dotted member path inside the type called `type_name`.
    pub fn offset_of(&self, type_name: &str, path: &str) -> Result<u64> {
        self.offset_in(self.find_type(type_name)?, path)
    }

    /// The DWARF type of global variable `name`.
    pub fn type_of_global(&self, name: &str) -> Result<TypeId> {
        Ok(self.global(name)?.1)
    }

    /// Runtime address and type of global variable `name` (KASLR applied; per-CPU variables
    /// give their per-CPU offset).
    pub fn global(&self, name: &str) -> Result<(u64, TypeId)> {
        let g = self.types()?.global(name).ok_or_else(|| {
            Error::Kernel(format!("no global variable '{name}' in the debug info"))
        })?;
        let addr = if self.is_percpu_link_addr(g.addr) {
            g.addr
        } else {
            g.addr.wrapping_add(self.kaslr_offset())
        };
        Ok((addr, g.ty))
    }
}

impl Session {
    /// The state the layer above keeps for this session, made with `T::default()` on first
    /// use. The kernel layer (`linux/`) is its one user; `None` if a different type
    /// was stored first.
    pub fn kernel_state<T: std::any::Any + Send + Sync + Default>(&self) -> Option<&T> {
        self.kernel_state
            .get_or_init(|| Box::new(T::default()))
            .downcast_ref()
    }

    /// The vmlinux's source-line table (link-time addresses), made on first use.
    pub fn line_table(&self) -> Result<&crate::debuginfo::LineTable> {
        self.lines
            .get_or_init(|| {
                crate::debuginfo::LineTable::new(self.vmlinux().bytes()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Error::Kernel(e.clone()))
    }
}

impl MemoryReader for Session {
    fn read_virt(&self, kva: Kva, buf: &mut [u8]) -> Result<(), MemoryError> {
        let mut done = 0usize;
        while done < buf.len() {
            let va = kva
                .checked_add(done as u64)
                .ok_or(MemoryError::InvalidAddress { kva })?;
            let in_page = (4096 - (va.0 & 4095)) as usize;
            let n = in_page.min(buf.len() - done);
            let pa = self.translate(va)?;
            self.dump.read_phys(pa, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
}

impl PhysReader for Session {
    fn read_phys(&self, pa: Pa, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.dump.read_phys(pa, buf)
    }
}

impl crate::value::Target for Session {
    fn type_index(&self) -> std::result::Result<&TypeIndex, crate::value::ValueError> {
        self.types()
            .map_err(|e| crate::value::ValueError::Other(e.to_string()))
    }
    fn symbol_near(&self, addr: u64) -> Option<(String, u64)> {
        // Like gdb (and so crash), data addresses are not named after zero-size untyped
        // symbols such as `init_stack`.
        self.symbol_at(addr)
            .filter(|(s, _)| s.size > 0 || s.kind == crate::debuginfo::SymbolKind::Text)
            .map(|(s, off)| (s.name.clone(), off))
    }
    fn global_var(&self, name: &str) -> Option<(u64, TypeId)> {
        self.global(name).ok()
    }
    fn symbol_address(&self, name: &str) -> Option<u64> {
        self.symbol_addr(name)
    }
    fn symbols_at(&self, addr: u64) -> Vec<String> {
        let link = addr.wrapping_sub(self.kaslr_offset());
        self.vmlinux
            .symbols()
            .iter()
            .filter(|s| s.addr == link)
            .map(|s| s.name.clone())
            .collect()
    }
    fn is_percpu_offset(&self, addr: u64) -> bool {
        self.is_percpu_link_addr(addr)
    }
    fn cpu_offsets(&self) -> &[u64] {
        self.per_cpu_offsets()
    }
    fn path_cache(&self) -> &crate::value::PathCache {
        &self.paths
    }
}
