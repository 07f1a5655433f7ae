//! `bt`: the kernel backtrace of a task, in crash's layout (` #0 [sp] func at pc`, exception
//! frames printed as registers under the frame that saved them), with `-a`, `-p`, `-c`,
//! `-f`, `-s`, `-x`, `-t`, `-T`, `-e`, `-r`.

use super::ps::{task_header, TaskFilter};
use super::{Command, Data, Opts};
use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::linux::sched::{self, TaskInfo, TaskList, THREAD_SIZE};
use crate::linux::stacktrace::{KernelOrcRef, KernelSymbols};
use crate::memory::ReadExt;
use crate::session::Session;
use crate::stack::{ExceptionFrame, Frame, PtRegs, StackKind, StackTrace};
use std::io::Write;

/// The `bt` command.
pub struct Bt;

const USAGE: &str = "\
bt [-a | -p | -c CPU | PID | TASK]... [-f] [-l] [-s] [-x] [-t | -T] [-e] [-r]
  (no argument)  the panic task, else the task running on CPU 0
  PID | TASK     the task with this PID or task_struct address
  -a             the active task of every CPU
  -p             the panic task
  -c CPU         the active task of CPU (a list: 0,2-3)
  -f             show the stack words of each frame
  -s             show symbol+offset for each frame (decimal; hex with -x)
  -x             hexadecimal offsets
  -t             text symbols found on the stack, from the stack pointer up
  -T             text symbols found on the whole stack
  -e             search the stack for exception frames (struct pt_regs)
  -r             the raw stack, two words a line, symbols shown
  -l             the source file and line of each frame, inlined callers included";

/// `bt`'s one-letter options.
const BT_FLAGS: &str = "apfsxtTerl";

fn cpu_list(spec: &str) -> Result<Vec<usize>> {
    let bad = || Error::Usage(format!("bt: invalid CPU list {spec}"));
    let mut out = Vec::new();
    for part in spec.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

/// Prints `struct pt_regs` as crash does under an exception frame.
pub fn print_regs(
    session: &Session,
    ex: &ExceptionFrame,
    out: &mut dyn Write,
    indent: &str,
) -> Result<()> {
    let r: &PtRegs = &ex.regs;
    if !r.user_mode() {
        let name = KernelSymbols(session)
            .0
            .symbol_at(r.ip)
            .map(|(s, off)| {
                if off == 0 {
                    s.name.clone()
                } else {
                    format!("{}+{off}", s.name)
                }
            })
            .unwrap_or_else(|| format!("{:x}", r.ip));
        writeln!(out, "{indent}[exception RIP: {name}]")?;
    }
    writeln!(
        out,
        "{indent}RIP: {:016x}  RSP: {:016x}  RFLAGS: {:08x}",
        r.ip, r.sp, r.flags
    )?;
    if !ex.partial {
        let rows = [
            [("RAX", r.ax), ("RBX", r.bx), ("RCX", r.cx)],
            [("RDX", r.dx), ("RSI", r.si), ("RDI", r.di)],
            [("RBP", r.bp), ("R8", r.r8), ("R9", r.r9)],
            [("R10", r.r10), ("R11", r.r11), ("R12", r.r12)],
        ];
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .map(|(n, v)| format!("{n:>3}: {v:016x}"))
                .collect();
            writeln!(out, "{indent}{}", cells.join("  "))?;
        }
        writeln!(
            out,
            "{indent}R13: {:016x}  R14: {:016x}  R15: {:016x}",
            r.r13, r.r14, r.r15
        )?;
        writeln!(
            out,
            "{indent}ORIG_RAX: {:016x}  CS: {:04x}  SS: {:04x}",
            r.orig_ax, r.cs, r.ss
        )?;
    } else {
        writeln!(out, "{indent}CS: {:04x}  SS: {:04x}", r.cs, r.ss)?;
    }
    Ok(())
}

struct Style {
    frame_data: bool,
    sym_off: bool,
    hex: bool,
    lines: bool,
}

/// Prints one task's trace in crash's layout.
fn print_trace(
    session: &Session,
    t: &TaskInfo,
    trace: &StackTrace,
    style: &Style,
    out: &mut dyn Write,
) -> Result<()> {
    let mut n = 0usize;
    let mut skip_next = false;
    let frames = &trace.frames;
    for (i, f) in frames.iter().enumerate() {
        if skip_next {
            // The interrupted function of an exception frame is shown as `[exception RIP]`.
            skip_next = false;
            continue;
        }
        if i > 0 {
            if let Some(prev) = frames.get(i - 1) {
                if prev.stack != f.stack && prev.stack != StackKind::Unknown {
                    writeln!(out, "--- <{}> ---", prev.stack.label())?;
                }
            }
        }
        let name = if style.sym_off {
            match &f.symbol {
                Some(s) if style.hex => format!("{s}+{:#x}", f.offset),
                Some(s) => format!("{s}+{}", f.offset),
                None => format!("{:x}", f.pc),
            }
        } else {
            f.symbol.clone().unwrap_or_else(|| format!("{:x}", f.pc))
        };
        let num = format!("#{n}");
        // crash names a module function's module after the address: `… at ffffffffc0431234 [scsi_mod]`.
        let module = f
            .module
            .as_deref()
            .map(|m| format!(" [{m}]"))
            .unwrap_or_default();
        writeln!(
            out,
            "{num:>3} [{:016x}] {name} at {:016x}{module}",
            f.sp, f.pc
        )?;
        n += 1;
        if style.lines {
            print_source_lines(session, f, out)?;
        }
        if let Some(ex) = &f.exception {
            print_regs(session, ex, out, "    ")?;
            if !ex.regs.user_mode() && i + 1 < frames.len() {
                skip_next = true;
                // The interrupted function (`[exception RIP: …]`) has its line too.
                if let Some(next) = frames.get(i + 1).filter(|_| style.lines) {
                    print_source_lines(session, next, out)?;
                }
            }
        }
        if style.frame_data {
            if let Some(next) = frames.get(i + 1 + usize::from(skip_next)) {
                // From the word above this frame's return address up to and including the
                // next frame's return-address slot, as crash shows it.
                let (lo, hi) = (f.sp.wrapping_add(8), next.sp.wrapping_add(8));
                if hi > lo && hi - lo <= 0x2000 {
                    let mut at = lo;
                    while at < hi {
                        let mut line = format!("    {at:016x}: ");
                        for k in 0..2u64 {
                            let a = at + k * 8;
                            if a >= hi {
                                break;
                            }
                            match session.read_u64(Kva(a)) {
                                Ok(v) => line.push_str(&format!("{v:016x} ")),
                                Err(_) => line.push_str("???????????????? "),
                            }
                        }
                        writeln!(out, "{}", line.trim_end())?;
                        at += 16;
                    }
                }
            }
        }
    }
    for w in &trace.warnings {
        writeln!(out, "bt: WARNING: {w} (pid {})", t.pid)?;
    }
    Ok(())
}

/// `bt -l`: the frame's source position as crash prints it (`    FILE: LINE`), preceded by
/// one `    [inlined] FUNC at FILE: LINE` line per inlined function that covers the address,
/// innermost first. A module without debuginfo is reported once per session.
fn print_source_lines(session: &Session, f: &Frame, out: &mut dyn Write) -> Result<()> {
    let chain = match session.source_lines(f.lookup_pc()) {
        Ok(c) => c,
        Err(e) => {
            let key = format!("bt -l: {e}");
            if session.modules().is_ok_and(|t| t.warn_once(&key)) {
                writeln!(out, "    ({e})")?;
            }
            return Ok(());
        }
    };
    for lf in &chain {
        let at = lf
            .location
            .as_ref()
            .map(|l| format!("{}: {}", l.file, l.line))
            .unwrap_or_else(|| "?".into());
        if lf.inlined {
            let func = lf.function.as_deref().unwrap_or("?");
            writeln!(out, "    [inlined] {func} at {at}")?;
        } else {
            writeln!(out, "    {at}")?;
        }
    }
    Ok(())
}

fn stack_base(session: &Session, t: &TaskInfo) -> Option<u64> {
    let o = sched::TaskOffsets::get(session).ok()?;
    session
        .read_u64(crate::memory::field(t.addr, o.stack).ok()?)
        .ok()
}

fn read_stack(session: &Session, base: u64) -> Vec<(u64, Option<u64>)> {
    (0..THREAD_SIZE / 8)
        .map(|i| {
            let a = base + i * 8;
            (a, session.read_u64(Kva(a)).ok())
        })
        .collect()
}

/// A text address found on a stack: the symbol, the offset into it and, for module text,
/// the module's name.
struct TextSym {
    name: String,
    off: u64,
    module: Option<String>,
}

/// The text symbol `v` points into, in the kernel image or in a module's text.
fn is_text(session: &Session, v: u64) -> Option<TextSym> {
    if let Some((s, off)) = session.symbol_at(v) {
        if s.kind != crate::debuginfo::SymbolKind::Text || (s.size > 0 && off >= s.size) {
            return None;
        }
        return Some(TextSym {
            name: s.name.clone(),
            off,
            module: None,
        });
    }
    let m = session.modules().ok()?.containing(v)?;
    if v.wrapping_sub(m.base) >= m.text_size {
        return None;
    }
    let (sym, off) = m.symbol_at(v, true)?;
    Some(TextSym {
        name: sym.name.clone(),
        off,
        module: Some(m.name.clone()),
    })
}

/// `v` as crash's raw stack dump (`bt -r`) names a word: `symbol+offset` for any kernel or
/// module symbol (module names left out), the offset decimal unless `hex` (crash's `bt -r`
/// always uses decimal, whatever `-x`).
fn raw_symbol(session: &Session, v: u64, hex: bool) -> Option<String> {
    let (name, off) = match session.symbol_at(v) {
        Some((s, off)) => {
            if s.size > 0 && off >= s.size {
                return None;
            }
            (s.name.as_str(), off)
        }
        None => {
            let m = session.modules().ok()?.containing(v)?;
            let (sym, off) = m.symbol_at(v, false)?;
            return Some(sym_off(&sym.name, off, hex));
        }
    };
    Some(sym_off(name, off, hex))
}

fn sym_off(name: &str, off: u64, hex: bool) -> String {
    match (off, hex) {
        (0, _) => name.to_string(),
        (_, true) => format!("{name}+{off:#x}"),
        (_, false) => format!("{name}+{off}"),
    }
}

/// `-e`: plausible `struct pt_regs` on the task stack (kernel cs 0x10 or user cs 0x33 with
/// the matching ss, a canonical ip, and the always-one flags bit 1).
fn search_exceptions(session: &Session, t: &TaskInfo, out: &mut dyn Write) -> Result<()> {
    let Some(base) = stack_base(session, t) else {
        return Ok(());
    };
    let words = read_stack(session, base);
    let val = |i: usize| words.get(i).and_then(|w| w.1);
    for i in 0..(words.len() + 1).saturating_sub(21) {
        let (Some(ip), Some(cs), Some(flags), Some(ss)) =
            (val(i + 16), val(i + 17), val(i + 18), val(i + 20))
        else {
            continue;
        };
        let kernel = cs == 0x10 && (ss == 0x18 || ss == 0) && is_text(session, ip).is_some();
        let user = cs == 0x33 && ss == 0x2b && ip < 0x0000_8000_0000_0000;
        if !(kernel || user) || flags & 2 == 0 || flags >> 32 != 0 {
            continue;
        }
        let mut w = [0u64; 21];
        for (k, slot) in w.iter_mut().enumerate() {
            *slot = val(i + k).unwrap_or(0);
        }
        let addr = base + i as u64 * 8;
        writeln!(
            out,
            "\n  {}-MODE EXCEPTION FRAME AT: {addr:x}",
            if kernel { "KERNEL" } else { "USER" }
        )?;
        let ex = ExceptionFrame {
            addr,
            regs: PtRegs::from_words(&w),
            partial: false,
        };
        print_regs(session, &ex, out, "    ")?;
    }
    // Like crash, nothing more is printed when no frame is found.
    Ok(())
}

/// The tasks `bt` shows: `-a` (every CPU's active task), `-c CPU`, `-p` (the panic task),
/// PIDs or task addresses; with none of them, the panic task or else CPU 0's current task.
fn bt_selection<'a>(session: &Session, o: &Opts, list: &'a TaskList) -> Result<Vec<&'a TaskInfo>> {
    let mut sel: Vec<&TaskInfo> = Vec::new();
    if o.has("a") {
        for cpu in 0..list.current.len() {
            if let Some(t) = list.current_on(cpu) {
                sel.push(t);
            }
        }
    }
    if let Some(spec) = o.value("c") {
        for cpu in cpu_list(spec)? {
            let t = list
                .current_on(cpu)
                .ok_or_else(|| Error::Usage(format!("bt: invalid cpu {cpu}")))?;
            sel.push(t);
        }
    }
    if o.has("p") {
        sel.push(
            sched::panic_task(session, list)
                .ok_or_else(|| Error::Usage("bt: no panic task found".into()))?,
        );
    }
    for w in &o.positional {
        let f = TaskFilter::parse(w)?;
        let hits: Vec<&TaskInfo> = list.tasks.iter().filter(|t| f.matches(t)).collect();
        if hits.is_empty() {
            return Err(Error::Usage(format!("bt: invalid task or pid value: {w}")));
        }
        sel.extend(hits);
    }
    if sel.is_empty() {
        let t = sched::panic_task(session, list)
            .or_else(|| list.current_on(0))
            .ok_or_else(|| Error::Usage("bt: no current task".into()))?;
        sel.push(t);
    }
    Ok(sel)
}

/// crash's frame number of each frame (`#N`), `None` for the function a kernel-mode exception
/// frame interrupted, which the text shows as `[exception RIP: …]` under the frame before.
fn frame_levels(frames: &[Frame]) -> Vec<Option<usize>> {
    let mut levels = Vec::with_capacity(frames.len());
    let (mut n, mut hide_next) = (0usize, false);
    for f in frames {
        if hide_next {
            hide_next = false;
            levels.push(None);
            continue;
        }
        levels.push(Some(n));
        n += 1;
        hide_next = f.exception.as_ref().is_some_and(|ex| !ex.regs.user_mode());
    }
    levels
}

/// `struct pt_regs` as a map of register name to value.
fn regs_data(r: &PtRegs) -> Data {
    Data::map([
        ("ip", Data::addr(r.ip)),
        ("sp", Data::addr(r.sp)),
        ("flags", Data::uint(r.flags)),
        ("ax", Data::addr(r.ax)),
        ("bx", Data::addr(r.bx)),
        ("cx", Data::addr(r.cx)),
        ("dx", Data::addr(r.dx)),
        ("si", Data::addr(r.si)),
        ("di", Data::addr(r.di)),
        ("bp", Data::addr(r.bp)),
        ("r8", Data::addr(r.r8)),
        ("r9", Data::addr(r.r9)),
        ("r10", Data::addr(r.r10)),
        ("r11", Data::addr(r.r11)),
        ("r12", Data::addr(r.r12)),
        ("r13", Data::addr(r.r13)),
        ("r14", Data::addr(r.r14)),
        ("r15", Data::addr(r.r15)),
        ("orig_ax", Data::uint(r.orig_ax)),
        ("cs", Data::uint(r.cs)),
        ("ss", Data::uint(r.ss)),
        ("user_mode", Data::Bool(r.user_mode())),
    ])
}

/// One task's trace as data: `{pid, comm, task, cpu, frames, warnings}`.
pub fn trace_data(t: &TaskInfo, trace: &StackTrace) -> Data {
    let levels = frame_levels(&trace.frames);
    let frames = trace.frames.iter().zip(levels).map(|(f, level)| {
        let mut m = vec![
            ("level", Data::opt_int(level)),
            ("sp", Data::addr(f.sp)),
            ("pc", Data::addr(f.pc)),
            ("function", Data::opt_str(f.symbol.as_deref())),
            ("offset", Data::uint(f.offset)),
            ("module", Data::opt_str(f.module.as_deref())),
            ("trust", Data::Str(f.trust.name().to_string())),
            ("stack", Data::Str(f.stack.label())),
            ("interrupted", Data::Bool(level.is_none())),
            ("exception", Data::Bool(f.exception.is_some())),
        ];
        if let Some(ex) = &f.exception {
            m.push(("exception_frame", Data::addr(ex.addr)));
            m.push(("regs", regs_data(&ex.regs)));
        }
        Data::map(m)
    });
    Data::map([
        ("pid", Data::Int(t.pid.into())),
        ("comm", Data::Str(t.comm.clone())),
        ("task", Data::addr(t.addr)),
        ("cpu", Data::Int(t.cpu.into())),
        ("frames", Data::list(frames)),
        (
            "warnings",
            Data::list(trace.warnings.iter().cloned().map(Data::Str)),
        ),
    ])
}

/// The structured `bt`: one [`trace_data`] per selected task (the selection options of `bt`;
/// the display options are ignored).
pub fn bt_data(session: &Session, args: &[String]) -> Result<Vec<Data>> {
    let o = Opts::parse("bt", args, BT_FLAGS, "c", &[])?;
    let list = sched::task_list(session)?;
    let sel = bt_selection(session, &o, &list)?;
    let orc = crate::linux::stacktrace::kernel_orc_ref(session)?;
    sel.into_iter()
        .map(
            |t| match crate::linux::stacktrace::stack_trace_with(session, &orc, &list, t) {
                Ok(trace) => Ok(trace_data(t, &trace)),
                Err(Error::Interrupted) => Err(Error::Interrupted),
                Err(e) => Ok(super::task_error_data(t, &e)),
            },
        )
        .collect()
}

impl Command for Bt {
    fn name(&self) -> &'static str {
        "bt"
    }
    fn summary(&self) -> &'static str {
        "backtrace of tasks"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("bt", args, BT_FLAGS, "c", &[])?;
        let list = sched::task_list(session)?;
        let sel = bt_selection(session, &o, &list)?;
        let orc = crate::linux::stacktrace::kernel_orc_ref(session)?;
        let style = Style {
            frame_data: o.has("f"),
            sym_off: o.has("s"),
            hex: o.has("x"),
            lines: o.has("l"),
        };
        for (i, t) in sel.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            // One task whose stack cannot be read must not hide the others.
            if let Err(e) = run_one(session, &orc, &list, t, &o, &style, out) {
                super::report_task_error(out, "bt", t, e)?;
            }
        }
        Ok(())
    }
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        bt_data(session, args).map(Data::List)
    }
}

fn run_one(
    session: &Session,
    orc: &KernelOrcRef,
    list: &TaskList,
    t: &TaskInfo,
    o: &Opts,
    style: &Style,
    out: &mut dyn Write,
) -> Result<()> {
    writeln!(out, "{}", task_header(t))?;
    if o.has("e") {
        return search_exceptions(session, t, out);
    }
    if o.has("r") {
        let Some(base) = stack_base(session, t) else {
            return Err(Error::Usage(
                "bt: cannot read the task's stack pointer".into(),
            ));
        };
        let words = read_stack(session, base);
        for pair in words.chunks(2) {
            let cells: Vec<String> = pair
                .iter()
                .map(|(_, v)| match v {
                    Some(v) => raw_symbol(session, *v, false)
                        .map(|s| format!("{s:<16}"))
                        .unwrap_or_else(|| format!("{v:016x}")),
                    None => "????????????????".into(),
                })
                .collect();
            if let Some((a, _)) = pair.first() {
                writeln!(out, "{a:016x}:  {}", cells.join(" "))?;
            }
        }
        return Ok(());
    }
    let trace = crate::linux::stacktrace::stack_trace_with(session, orc, list, t)?;
    if o.has("t") || o.has("T") {
        let Some(base) = stack_base(session, t) else {
            return Ok(());
        };
        let from = if o.has("T") {
            base
        } else {
            trace
                .frames
                .first()
                .map(|f| f.sp)
                .filter(|&sp| sp >= base && sp < base + THREAD_SIZE)
                .unwrap_or(base)
        };
        // crash heads `-t` (not `-T`) with where the trace starts.
        if let Some(f) = trace.frames.first().filter(|_| !o.has("T")) {
            let name = f.symbol.clone().unwrap_or_else(|| format!("{:x}", f.pc));
            writeln!(out, "              START: {name} at {:x}", f.pc)?;
        }
        for (a, v) in read_stack(session, base) {
            let Some(v) = v else { continue };
            if a < from {
                continue;
            }
            if let Some(ts) = is_text(session, v) {
                let name = if style.sym_off {
                    sym_off(&ts.name, ts.off, style.hex)
                } else {
                    ts.name
                };
                let module = ts.module.map(|m| format!(" [{m}]")).unwrap_or_default();
                writeln!(out, "  [{a:016x}] {name} at {v:x}{module}")?;
            }
        }
        return Ok(());
    }
    print_trace(session, t, &trace, style, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ex: Option<u64>) -> Frame {
        Frame {
            pc: 0xffff_ffff_8100_0000,
            sp: 0xffff_c900_0000_0000,
            trust: crate::stack::FrameTrust::Orc,
            symbol: None,
            offset: 0,
            module: None,
            exception: ex.map(|cs| ExceptionFrame {
                addr: 0,
                regs: PtRegs {
                    cs,
                    ..PtRegs::default()
                },
                partial: false,
            }),
            stack: StackKind::Task,
            exact_pc: false,
        }
    }

    #[test]
    fn levels_skip_the_interrupted_function() {
        // A kernel-mode exception frame: the next frame is shown as [exception RIP].
        let f = [frame(None), frame(Some(0x10)), frame(None), frame(None)];
        assert_eq!(frame_levels(&f), vec![Some(0), Some(1), None, Some(2)]);
        // A user-mode one (syscall entry) ends the kernel stack; nothing is hidden.
        let f = [frame(None), frame(Some(0x33)), frame(None)];
        assert_eq!(frame_levels(&f), vec![Some(0), Some(1), Some(2)]);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list("0,2-3").ok(), Some(vec![0, 2, 3]));
        assert!(cpu_list("x").is_err());
    }
}
