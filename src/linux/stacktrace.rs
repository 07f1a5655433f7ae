//! A task's backtrace: the stacks its frames may lie on (task, IRQ, exception and entry
//! stacks of x86_64), where the unwind starts (the dump's registers of a running task, else
//! the saved switch frame), the kernel's and the modules' ORC tables, and symbol resolution
//! for the frames. The unwinder itself is `arch::x86_64::unwind`.

use super::module::{module_orc, ModuleOrc};
use super::sched::{cache, vmlinux_key, TaskInfo, TaskList, TaskOffsets, THREAD_SIZE};
use super::sysinfo::kernel_version;
use crate::addr::Kva;
use crate::arch::x86_64::orc::{self, OrcEntry, OrcLayout, OrcTable};
use crate::arch::x86_64::unwind::{self, OrcSource, PtRegs, UnwindStart};
use crate::arch::x86_64::CPU_ENTRY_AREA_BASE;
use crate::error::{Error, Result};
use crate::memory::ReadExt;
use crate::session::Session;
use crate::stack::{ResolvedSymbol, StackKind, StackRegion, StackTrace, SymbolResolver};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// `IRQ_STACK_SIZE` on x86_64 without KASAN.
pub const IRQ_STACK_SIZE: u64 = 16 * 1024;
const PAGE_SIZE: u64 = 4096;

/// A kernel ORC table (link-time addresses) with its text range, shared per vmlinux.
type SharedOrc = Arc<(OrcTable, (u64, u64))>;
/// A cache of values keyed by vmlinux (or dump) identity.
type Cache<T> = OnceLock<Mutex<HashMap<String, T>>>;

/// Kernel ORC (link-time addresses, shared per vmlinux) with this dump's KASLR slide, plus
/// the ORC tables of the loaded modules (read from `mod->arch.orc_unwind*`).
#[derive(Debug, Clone)]
pub struct KernelOrcRef {
    table: SharedOrc,
    slide: u64,
    modules: Arc<Vec<ModuleOrc>>,
}

impl KernelOrcRef {
    /// The loaded modules' ORC tables.
    pub fn modules(&self) -> &[ModuleOrc] {
        &self.modules
    }
}

impl OrcSource for KernelOrcRef {
    fn orc_for(&self, ip: u64) -> Option<OrcEntry> {
        let link = ip.wrapping_sub(self.slide);
        let (lo, hi) = self.table.1;
        if link >= lo && link < hi {
            return self.table.0.lookup(link).copied();
        }
        self.modules
            .iter()
            .find(|m| ip >= m.text.0 && ip < m.text.1)
            .and_then(|m| m.table.lookup(ip).copied())
    }
}

/// The ORC tables of every loaded module (a module whose tables cannot be read is left out:
/// its frames fall back to frame pointers).
pub fn module_orcs(s: &Session) -> Vec<ModuleOrc> {
    let Ok(table) = s.modules() else {
        return Vec::new();
    };
    let (major, minor) = kernel_version(s).unwrap_or((6, 1));
    let layout = OrcLayout::for_version(major, minor);
    table
        .modules
        .iter()
        .filter_map(|m| module_orc(s, m, layout))
        .collect()
}

/// Shared, cached kernel ORC for the session, with the modules' tables.
pub fn kernel_orc_ref(s: &Session) -> Result<KernelOrcRef> {
    static CACHE: Cache<SharedOrc> = OnceLock::new();
    let table = cache(&CACHE, vmlinux_key(s), || {
        // struct orc_entry's bitfields changed in 6.4 (see `OrcLayout`).
        let (major, minor) = kernel_version(s).unwrap_or((6, 1));
        orc::vmlinux_table(s.vmlinux(), OrcLayout::for_version(major, minor))
            .map_err(|e| Error::Kernel(e.to_string()))
    })?;
    // Module tables depend on the dump (load addresses): kept with the session.
    let modules = super::state(s)?
        .module_orcs
        .get_or_init(|| Arc::new(module_orcs(s)))
        .clone();
    Ok(KernelOrcRef {
        table,
        slide: s.kaslr_offset(),
        modules,
    })
}

/// Resolves text addresses through the session's symbol table, then loaded modules' kallsyms.
pub struct KernelSymbols<'a>(pub &'a Session);

impl SymbolResolver for KernelSymbols<'_> {
    fn resolve(&self, addr: u64) -> Option<ResolvedSymbol> {
        // Module code: named from the module's kallsyms (`module.rs`).
        let Some((sym, off)) = self.0.symbol_at(addr) else {
            return self.0.modules().ok()?.resolve_code(addr);
        };
        if sym.kind != crate::debuginfo::SymbolKind::Text {
            return None;
        }
        // Past the end of a sized function: not this function (module or stray address).
        if sym.size > 0 && off >= sym.size {
            return None;
        }
        Some(ResolvedSymbol {
            name: sym.name.clone(),
            start: addr.wrapping_sub(off),
            module: None,
        })
    }
}

/// The stacks a task's frames can lie on: its own stack, and the IRQ and exception stacks of
/// its CPU.
pub fn stack_regions(s: &Session, task: &TaskInfo) -> Vec<StackRegion> {
    let mut out = Vec::new();
    if let Ok(o) = TaskOffsets::get(s) {
        if let Ok(base) = crate::memory::field(task.addr, o.stack).and_then(|a| s.read_u64(a)) {
            out.push(StackRegion {
                kind: StackKind::Task,
                start: base,
                end: base.wrapping_add(THREAD_SIZE),
            });
        }
    }
    let cpu = task.cpu as usize;
    out.extend(cpu_stack_regions(s, cpu));
    out
}

/// The IRQ, exception (IST) and entry stacks of `cpu`.
pub fn cpu_stack_regions(s: &Session, cpu: usize) -> Vec<StackRegion> {
    let mut out = Vec::new();
    // 6.1 keeps the IRQ stack pointer in the per-CPU `hardirq_stack_ptr`; 6.2 moved it to
    // `pcpu_hot.hardirq_stack_ptr`. It points at the top word (stack + IRQ_STACK_SIZE - 8).
    let top = s
        .per_cpu_addr("hardirq_stack_ptr", cpu)
        .or_else(|| {
            let off = s.offset_of("struct pcpu_hot", "hardirq_stack_ptr").ok()?;
            Some(s.per_cpu_addr("pcpu_hot", cpu)? + off)
        })
        .and_then(|a| s.read_u64(Kva(a)).ok());
    if let Some(top) = top.filter(|&t| t != 0) {
        let end = top.wrapping_add(8);
        out.push(StackRegion {
            kind: StackKind::Irq,
            start: end.wrapping_sub(IRQ_STACK_SIZE),
            end,
        });
    }
    // Exception stacks: the per-CPU `cea_exception_stacks` points into the cpu_entry_area.
    if let Some(estacks) = s
        .per_cpu_addr("cea_exception_stacks", cpu)
        .and_then(|a| s.read_u64(Kva(a)).ok())
    {
        if let Ok(types) = s.types() {
            if let Ok(ty) = s.find_type("struct cea_exception_stacks") {
                for (name, member) in [
                    ("DF", "DF_stack"),
                    ("NMI", "NMI_stack"),
                    ("DB", "DB_stack"),
                    ("MCE", "MCE_stack"),
                    ("VC", "VC_stack"),
                    ("VC2", "VC2_stack"),
                ] {
                    let Ok(m) = types.member(ty, member) else {
                        continue;
                    };
                    let size = types.size_of(m.ty).unwrap_or(0);
                    if size == 0 {
                        continue;
                    }
                    let start = estacks.wrapping_add(m.offset);
                    out.push(StackRegion {
                        kind: StackKind::Exception(name),
                        start,
                        end: start.wrapping_add(size),
                    });
                }
            }
        }
    }
    // The entry (trampoline) stack: before 6.2 the cpu_entry_area of CPU n is at
    // CPU_ENTRY_AREA_BASE + PAGE_SIZE + n * sizeof(struct cpu_entry_area) (6.2 randomized it).
    if let (Ok(types), Ok(cea)) = (s.types(), s.find_type("struct cpu_entry_area")) {
        if let (Ok(size), Ok(m)) = (types.size_of(cea), types.member(cea, "entry_stack_page")) {
            let msize = types.size_of(m.ty).unwrap_or(PAGE_SIZE);
            let start = CPU_ENTRY_AREA_BASE
                .wrapping_add(PAGE_SIZE)
                .wrapping_add(size.wrapping_mul(cpu as u64))
                .wrapping_add(m.offset);
            out.push(StackRegion {
                kind: StackKind::Entry,
                start,
                end: start.wrapping_add(msize),
            });
        }
    }
    out
}

/// The CPU whose dump registers belong to `task`, if it was running at dump time.
pub fn task_cpu_regs(s: &Session, list: &TaskList, task: &TaskInfo) -> Option<PtRegs> {
    let cpu = list.current.iter().position(|&c| c == task.addr)?;
    let st = s.dump().cpus().iter().find(|c| c.cpu as usize == cpu)?;
    let r = &st.regs;
    Some(PtRegs {
        r15: r.r15,
        r14: r.r14,
        r13: r.r13,
        r12: r.r12,
        bp: r.rbp,
        bx: r.rbx,
        r11: r.r11,
        r10: r.r10,
        r9: r.r9,
        r8: r.r8,
        ax: r.rax,
        cx: r.rcx,
        dx: r.rdx,
        si: r.rsi,
        di: r.rdi,
        orig_ax: r.orig_rax,
        ip: r.rip,
        cs: r.cs,
        flags: r.eflags,
        sp: r.rsp,
        ss: r.ss,
    })
}

/// Where the unwind of `task` starts: the dump's registers of its CPU if it was running,
/// else its saved `inactive_task_frame` at `thread.sp`.
pub fn unwind_start(s: &Session, list: &TaskList, task: &TaskInfo) -> Result<UnwindStart> {
    if let Some(regs) = task_cpu_regs(s, list, task) {
        return Ok(UnwindStart {
            ip: regs.ip,
            sp: regs.sp,
            bp: regs.bp,
            regs: Some(regs),
            slot: regs.sp,
            signal: true,
        });
    }
    let o = TaskOffsets::get(s)?;
    let sp = s.read_u64(crate::memory::field(task.addr, o.thread_sp)?)?;
    let bp = s.read_u64(Kva(sp.wrapping_add(o.frame_bp)))?;
    let slot = sp.wrapping_add(o.frame_ret);
    let ip = s.read_u64(Kva(slot))?;
    // A task that never ran returns to ret_from_fork, which the kernel treats as a signal
    // frame (look up its own IP).
    let signal = s.symbol_addr("ret_from_fork") == Some(ip);
    Ok(UnwindStart {
        ip,
        sp: sp.wrapping_add(o.frame_size),
        bp,
        regs: None,
        slot,
        signal,
    })
}

/// The backtrace of `task`. Never fails once the start is known: a stopped unwind returns its
/// frames with warnings.
pub fn stack_trace(s: &Session, list: &TaskList, task: &TaskInfo) -> Result<StackTrace> {
    let orc = kernel_orc_ref(s)?;
    stack_trace_with(s, &orc, list, task)
}

/// [`stack_trace`] with an already loaded ORC table (for many tasks).
pub fn stack_trace_with(
    s: &Session,
    orc: &KernelOrcRef,
    list: &TaskList,
    task: &TaskInfo,
) -> Result<StackTrace> {
    let start = unwind_start(s, list, task)?;
    let regions = stack_regions(s, task);
    let region_of = |a: u64| regions.iter().position(|r| r.contains(a));
    let same = |a: u64, b: u64| region_of(a).is_some() && region_of(a) == region_of(b);
    let raw = unwind::unwind(s, orc, start, &same);
    Ok(StackTrace::from_unwound(raw, &KernelSymbols(s), &regions))
}
