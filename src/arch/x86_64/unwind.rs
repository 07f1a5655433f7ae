//! The x86_64 stack unwinder: ORC (the algorithm of the kernel's
//! `arch/x86/kernel/unwind_orc.c`), `struct pt_regs` exception frames, and a frame-pointer
//! fallback where no ORC entry covers an IP. It reads memory through a [`MemoryReader`] and
//! never fails: an unwind that stops early returns the frames it got and says why.
//!
//! Must not import `dump`, `session` or `commands`.

use super::orc::{
    OrcEntry, OrcTable, OrcType, ORC_REG_BP, ORC_REG_BP_INDIRECT, ORC_REG_DI, ORC_REG_DX,
    ORC_REG_PREV_SP, ORC_REG_R10, ORC_REG_R13, ORC_REG_SP, ORC_REG_SP_INDIRECT, ORC_REG_UNDEFINED,
};
use crate::addr::Kva;
use crate::memory::{MemoryReader, ReadExt};

/// Number of 8-byte words of `struct pt_regs` (r15 … ss).
pub const PT_REGS_WORDS: usize = 21;
/// `sizeof(struct pt_regs)`.
pub const PT_REGS_SIZE: u64 = PT_REGS_WORDS as u64 * 8;
/// `offsetof(struct pt_regs, ip)`: where the hardware IRET frame starts (`IRET_FRAME_OFFSET`).
pub const IRET_FRAME_OFFSET: u64 = 16 * 8;
/// Lowest kernel address (4-level paging); anything below is user space.
pub const KERNEL_SPACE_START: u64 = 0xffff_8000_0000_0000;
/// Most frames one unwind produces.
pub const MAX_FRAMES: usize = 256;

/// How much a frame's program counter can be trusted (after rust-minidump's `FrameTrust`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FrameTrust {
    /// Found by scanning the stack for text addresses (a guess).
    Scan,
    /// Found by following the frame-pointer chain (no ORC entry covered the caller).
    FramePointer,
    /// Found with ORC unwind data.
    Orc,
    /// Given by the starting context: dump registers or a saved task frame.
    Context,
}

impl FrameTrust {
    /// A short lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            FrameTrust::Scan => "scan",
            FrameTrust::FramePointer => "frame-pointer",
            FrameTrust::Orc => "orc",
            FrameTrust::Context => "context",
        }
    }
}

/// `struct pt_regs` (x86_64), in the kernel's member order, which is also the order of
/// `user_regs_struct` in NT_PRSTATUS notes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct PtRegs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub bp: u64,
    pub bx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub ax: u64,
    pub cx: u64,
    pub dx: u64,
    pub si: u64,
    pub di: u64,
    pub orig_ax: u64,
    pub ip: u64,
    pub cs: u64,
    pub flags: u64,
    pub sp: u64,
    pub ss: u64,
}

impl PtRegs {
    /// Builds the registers from the 21 words of a `struct pt_regs`.
    pub fn from_words(w: &[u64; PT_REGS_WORDS]) -> Self {
        Self {
            r15: w[0],
            r14: w[1],
            r13: w[2],
            r12: w[3],
            bp: w[4],
            bx: w[5],
            r11: w[6],
            r10: w[7],
            r9: w[8],
            r8: w[9],
            ax: w[10],
            cx: w[11],
            dx: w[12],
            si: w[13],
            di: w[14],
            orig_ax: w[15],
            ip: w[16],
            cs: w[17],
            flags: w[18],
            sp: w[19],
            ss: w[20],
        }
    }

    /// Whether these registers were taken in user mode (`cs & 3 == 3`).
    pub fn user_mode(&self) -> bool {
        self.cs & 3 == 3
    }

    /// Reads a `struct pt_regs` at `addr`.
    pub fn read(mem: &dyn MemoryReader, addr: u64) -> Option<Self> {
        let mut buf = [0u8; PT_REGS_SIZE as usize];
        mem.read_virt(Kva(addr), &mut buf).ok()?;
        let mut w = [0u64; PT_REGS_WORDS];
        for (slot, b) in w.iter_mut().zip(buf.chunks_exact(8)) {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            *slot = u64::from_le_bytes(a);
        }
        Some(Self::from_words(&w))
    }
}

/// An exception frame found on the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionFrame {
    /// Where the frame lies in memory (`struct pt_regs` start).
    pub addr: u64,
    /// The registers; for an IRET-only frame, only `ip`, `cs`, `flags`, `sp`, `ss` are valid.
    pub regs: PtRegs,
    /// Whether only the hardware IRET frame was saved (`ORC_TYPE_REGS_PARTIAL`).
    pub partial: bool,
}

/// Registers the unwind starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnwindStart {
    /// Instruction pointer.
    pub ip: u64,
    /// Stack pointer.
    pub sp: u64,
    /// Frame pointer.
    pub bp: u64,
    /// Full registers, when the start is a CPU's saved state.
    pub regs: Option<PtRegs>,
    /// Stack address the first `ip` was read from (for a saved task frame), else `sp`.
    pub slot: u64,
    /// Whether `ip` is an interrupted instruction (look it up as is) rather than a return
    /// address (look up `ip - 1`).
    pub signal: bool,
}

/// One frame as the unwinder found it (no symbols yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame {
    /// Program counter: the interrupted instruction (frame 0, after an exception) or the
    /// return address.
    pub pc: u64,
    /// The stack address the `pc` was read from (crash's bracketed frame address); the stack
    /// pointer for frames given by registers.
    pub sp: u64,
    /// How the frame was found.
    pub trust: FrameTrust,
    /// Whether `pc` is an interrupted instruction rather than a return address (symbolize
    /// `pc`, not `pc - 1`).
    pub signal: bool,
    /// The exception frame this function's ORC data pointed to, if any.
    pub exception: Option<ExceptionFrame>,
}

/// Where to find ORC data for an address (the kernel image, modules).
pub trait OrcSource {
    /// The ORC entry covering runtime address `ip`, `None` when no table covers it.
    fn orc_for(&self, ip: u64) -> Option<OrcEntry>;
}

/// The kernel image's ORC table (link-time addresses) with the KASLR slide.
#[derive(Debug, Clone)]
pub struct KernelOrc {
    /// The table, in link-time addresses.
    pub table: OrcTable,
    /// KASLR slide: runtime = link + slide.
    pub slide: u64,
    /// Link-time text range `[_stext, _etext)` (or the table's range).
    pub text: (u64, u64),
}

impl OrcSource for KernelOrc {
    fn orc_for(&self, ip: u64) -> Option<OrcEntry> {
        let link = ip.wrapping_sub(self.slide);
        if link < self.text.0 || link >= self.text.1 {
            return None;
        }
        self.table.lookup(link).copied()
    }
}

impl<T: OrcSource + ?Sized> OrcSource for &T {
    fn orc_for(&self, ip: u64) -> Option<OrcEntry> {
        (**self).orc_for(ip)
    }
}

/// The result of an unwind: frames plus why it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unwound {
    /// Frames, innermost first.
    pub frames: Vec<RawFrame>,
    /// Problems met (a normal end of stack gives none).
    pub warnings: Vec<String>,
}

struct State {
    ip: u64,
    sp: u64,
    bp: u64,
    regs: Option<PtRegs>,
    /// `regs` is a full `pt_regs` (not only an IRET frame).
    full_regs: bool,
    signal: bool,
}

fn read(mem: &dyn MemoryReader, addr: u64) -> Option<u64> {
    mem.read_u64(Kva(addr)).ok()
}

fn add(a: u64, off: i16) -> u64 {
    a.wrapping_add(i64::from(off) as u64)
}

/// Unwinds from `start` with ORC data from `orc`, reading the stack from `mem`.
///
/// `same_stack(a, b)` tells whether two stack addresses lie on the same stack (task, IRQ,
/// exception); within one stack the stack pointer must grow, as the kernel's loop check
/// demands.
pub fn unwind(
    mem: &dyn MemoryReader,
    orc: &dyn OrcSource,
    start: UnwindStart,
    same_stack: &dyn Fn(u64, u64) -> bool,
) -> Unwound {
    let mut out = Unwound::default();
    let mut st = State {
        ip: start.ip,
        sp: start.sp,
        bp: start.bp,
        regs: start.regs,
        full_regs: start.regs.is_some(),
        signal: start.signal,
    };
    let mut frame = RawFrame {
        pc: start.ip,
        sp: start.slot,
        trust: FrameTrust::Context,
        signal: start.signal,
        exception: None,
    };
    if start.regs.is_some_and(|r| r.user_mode()) || start.ip < KERNEL_SPACE_START {
        // Stopped in user mode: the registers are all there is on the kernel side.
        frame.exception = start.regs.map(|regs| ExceptionFrame {
            addr: 0,
            regs,
            partial: false,
        });
        out.frames.push(frame);
        return out;
    }
    loop {
        if out.frames.len() >= MAX_FRAMES {
            out.frames.push(frame);
            out.warnings
                .push(format!("stopped after {MAX_FRAMES} frames"));
            return out;
        }
        match step(mem, orc, &mut st, &mut frame, same_stack) {
            Step::Next(next) => {
                out.frames.push(frame);
                frame = next;
            }
            Step::End => {
                out.frames.push(frame);
                return out;
            }
            Step::Fail(why) => {
                out.frames.push(frame);
                out.warnings.push(why);
                return out;
            }
        }
    }
}

enum Step {
    Next(RawFrame),
    End,
    Fail(String),
}

fn step(
    mem: &dyn MemoryReader,
    orc: &dyn OrcSource,
    st: &mut State,
    frame: &mut RawFrame,
    same_stack: &dyn Fn(u64, u64) -> bool,
) -> Step {
    let lookup_ip = if st.signal {
        st.ip
    } else {
        st.ip.wrapping_sub(1)
    };
    let Some(e) = orc.orc_for(lookup_ip) else {
        return frame_pointer_step(mem, st);
    };
    if e.kind == OrcType::EndOfStack {
        return Step::End;
    }
    if e.sp_reg == ORC_REG_UNDEFINED || e.kind == OrcType::Undefined {
        return Step::Fail(format!("no ORC unwind data at {:#x}", st.ip));
    }
    let reg = |f: fn(&PtRegs) -> u64| st.regs.filter(|_| st.full_regs).map(|r| f(&r));
    let cfa = match e.sp_reg {
        ORC_REG_SP => Some(add(st.sp, e.sp_offset)),
        ORC_REG_BP => Some(add(st.bp, e.sp_offset)),
        ORC_REG_SP_INDIRECT => read(mem, st.sp).map(|v| add(v, e.sp_offset)),
        ORC_REG_BP_INDIRECT => read(mem, add(st.bp, e.sp_offset)),
        ORC_REG_R10 => reg(|r| r.r10),
        ORC_REG_R13 => reg(|r| r.r13),
        ORC_REG_DI => reg(|r| r.di),
        ORC_REG_DX => reg(|r| r.dx),
        _ => None,
    };
    let Some(cfa) = cfa else {
        return Step::Fail(format!(
            "cannot compute the frame address at {:#x} (ORC sp_reg {})",
            st.ip, e.sp_reg
        ));
    };
    let prev_sp = st.sp;
    let (next, trust_sp) = match e.kind {
        OrcType::Call => {
            let slot = cfa.wrapping_sub(8);
            let Some(ip) = read(mem, slot) else {
                return Step::Fail(format!("cannot read the return address at {slot:#x}"));
            };
            st.ip = ip;
            st.sp = cfa;
            st.regs = None;
            st.full_regs = false;
            st.signal = e.signal;
            (
                RawFrame {
                    pc: ip,
                    sp: slot,
                    trust: FrameTrust::Orc,
                    signal: e.signal,
                    exception: None,
                },
                cfa,
            )
        }
        OrcType::Regs | OrcType::RegsPartial => {
            let partial = e.kind == OrcType::RegsPartial;
            let at = if partial {
                cfa.wrapping_sub(IRET_FRAME_OFFSET)
            } else {
                cfa
            };
            let regs = if partial {
                let mut w = [0u64; 5];
                for (i, slot) in w.iter_mut().enumerate() {
                    match read(mem, cfa.wrapping_add(i as u64 * 8)) {
                        Some(v) => *slot = v,
                        None => {
                            return Step::Fail(format!("cannot read the IRET frame at {cfa:#x}"))
                        }
                    }
                }
                PtRegs {
                    ip: w[0],
                    cs: w[1],
                    flags: w[2],
                    sp: w[3],
                    ss: w[4],
                    ..PtRegs::default()
                }
            } else {
                match PtRegs::read(mem, at) {
                    Some(r) => r,
                    None => return Step::Fail(format!("cannot read pt_regs at {at:#x}")),
                }
            };
            frame.exception = Some(ExceptionFrame {
                addr: at,
                regs,
                partial,
            });
            if regs.user_mode() || regs.ip < KERNEL_SPACE_START {
                // The bottom of a kernel stack: the user registers of a syscall or fault.
                return Step::End;
            }
            st.ip = regs.ip;
            st.sp = regs.sp;
            st.regs = Some(regs);
            st.full_regs = !partial;
            st.signal = true;
            (
                RawFrame {
                    pc: regs.ip,
                    sp: regs.sp,
                    trust: FrameTrust::Orc,
                    signal: true,
                    exception: None,
                },
                regs.sp,
            )
        }
        OrcType::Undefined | OrcType::EndOfStack => return Step::End,
    };
    // The caller's frame pointer.
    match e.bp_reg {
        ORC_REG_UNDEFINED => {
            if let Some(r) = st.regs.filter(|_| st.full_regs) {
                st.bp = r.bp;
            }
        }
        ORC_REG_PREV_SP => match read(mem, add(cfa, e.bp_offset)) {
            Some(v) => st.bp = v,
            None => return Step::Fail(format!("cannot read the saved bp near {cfa:#x}")),
        },
        ORC_REG_BP => match read(mem, add(st.bp, e.bp_offset)) {
            Some(v) => st.bp = v,
            None => return Step::Fail(format!("cannot read the saved bp near {:#x}", st.bp)),
        },
        other => return Step::Fail(format!("unknown ORC bp_reg {other} at {:#x}", frame.pc)),
    }
    // Loop check (as the kernel's): on one stack, a call frame must move up.
    if e.kind == OrcType::Call && same_stack(prev_sp, trust_sp) && trust_sp <= prev_sp {
        return Step::Fail(format!(
            "stack pointer went backwards ({prev_sp:#x} to {trust_sp:#x})"
        ));
    }
    if next.pc < KERNEL_SPACE_START {
        return Step::Fail(format!("return address {:#x} is not kernel text", next.pc));
    }
    Step::Next(next)
}

/// One step along the frame-pointer chain: `[bp]` is the caller's bp, `[bp + 8]` the return
/// address. Used where no ORC entry covers the IP (modules without ORC tables, stray text).
fn frame_pointer_step(mem: &dyn MemoryReader, st: &mut State) -> Step {
    let bp = st.bp;
    if bp == 0 || bp <= st.sp {
        return Step::Fail(format!(
            "no ORC data for {:#x} and no usable frame pointer (bp {bp:#x})",
            st.ip
        ));
    }
    let (Some(next_bp), Some(ip)) = (read(mem, bp), read(mem, bp.wrapping_add(8))) else {
        return Step::Fail(format!("cannot read the frame at bp {bp:#x}"));
    };
    if ip < KERNEL_SPACE_START {
        return Step::Fail(format!(
            "frame pointer at {bp:#x} gives a non-kernel return address {ip:#x}"
        ));
    }
    st.ip = ip;
    st.sp = bp.wrapping_add(16);
    st.bp = next_bp;
    st.regs = None;
    st.full_regs = false;
    st.signal = false;
    Step::Next(RawFrame {
        pc: ip,
        sp: bp.wrapping_add(8),
        trust: FrameTrust::FramePointer,
        signal: false,
        exception: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::x86_64::orc::OrcLayout;
    use crate::memory::MockMemory;

    /// A fake text layout: functions A (0x…1000), B (0x…2000), an entry stub E (0x…3000)
    /// whose ORC says `pt_regs` at the CFA, and a function C without ORC data (0x…5000).
    const TEXT: u64 = 0xffff_ffff_8100_0000;

    struct Fake;
    impl OrcSource for Fake {
        fn orc_for(&self, ip: u64) -> Option<OrcEntry> {
            let w = |sp_reg: u8, bp_reg: u8, ty: u16| {
                let v = u16::from(sp_reg) | u16::from(bp_reg) << 4 | ty << 8;
                v.to_le_bytes()
            };
            let raw = match ip.wrapping_sub(TEXT) {
                // A: push rbp; sub $0x10 → CFA = sp + 32, bp saved at CFA - 16.
                0x1000..=0x1fff => {
                    let b = w(ORC_REG_SP, ORC_REG_PREV_SP, 0);
                    [32, 0, 0xf0, 0xff, b[0], b[1]]
                }
                // B: leaf-like, CFA = sp + 8, bp untouched.
                0x2000..=0x2fff => {
                    let b = w(ORC_REG_SP, ORC_REG_UNDEFINED, 0);
                    [8, 0, 0, 0, b[0], b[1]]
                }
                // E: pt_regs at sp.
                0x3000..=0x3fff => {
                    let b = w(ORC_REG_SP, ORC_REG_UNDEFINED, 1);
                    [0, 0, 0, 0, b[0], b[1]]
                }
                _ => return None,
            };
            Some(OrcEntry::decode(raw, OrcLayout::Pre6_4))
        }
    }

    #[test]
    fn unwinds_orc_pt_regs_and_frame_pointer() {
        let mut m = MockMemory::new();
        let stack = 0xffff_c900_0000_0000u64;
        m.write(stack, &[0u8; 0x400]);
        // Frame 0: in B at sp = stack + 0x10; CFA = sp + 8 → return address at stack + 0x10.
        m.write_u64(stack + 0x10, TEXT + 0x1010); // into A
                                                  // A: sp = stack + 0x18, CFA = sp + 32 = stack + 0x38; ret at +0x30, bp at +0x28.
        m.write_u64(stack + 0x28, 0x1111);
        m.write_u64(stack + 0x30, TEXT + 0x3005); // into E
                                                  // E: pt_regs at CFA = stack + 0x38 (21 words); interrupted in C with bp chain.
        let regs = stack + 0x38;
        let frame_bp = stack + 0x200;
        let mut w = [0u64; PT_REGS_WORDS];
        w[4] = frame_bp; // bp
        w[16] = TEXT + 0x5020; // ip: C (no ORC)
        w[17] = 0x10; // kernel cs
        w[19] = stack + 0x1f0; // sp
        for (i, v) in w.iter().enumerate() {
            m.write_u64(regs + i as u64 * 8, *v);
        }
        // C's frame-pointer chain: [bp] = 0 (end), [bp+8] = return into B.
        m.write_u64(frame_bp, 0);
        m.write_u64(frame_bp + 8, TEXT + 0x2008);
        // Back in B (ORC): sp = bp + 16 = stack + 0x210; ret at +0x210 → a user-mode end:
        // put pt_regs with a user cs via E again.
        m.write_u64(stack + 0x210, TEXT + 0x3001);
        let uregs = stack + 0x218;
        let mut u = [0u64; PT_REGS_WORDS];
        u[16] = 0x40_0000;
        u[17] = 0x33;
        for (i, v) in u.iter().enumerate() {
            m.write_u64(uregs + i as u64 * 8, *v);
        }
        let start = UnwindStart {
            ip: TEXT + 0x2004,
            sp: stack + 0x10,
            bp: 0x4242,
            regs: None,
            slot: stack + 0x10,
            signal: true,
        };
        let r = unwind(&m, &Fake, start, &|_, _| true);
        let pcs: Vec<u64> = r.frames.iter().map(|f| f.pc - TEXT).collect();
        assert_eq!(pcs, vec![0x2004, 0x1010, 0x3005, 0x5020, 0x2008, 0x3001]);
        let trust: Vec<FrameTrust> = r.frames.iter().map(|f| f.trust).collect();
        assert_eq!(
            trust,
            vec![
                FrameTrust::Context,
                FrameTrust::Orc,
                FrameTrust::Orc,
                FrameTrust::Orc,
                FrameTrust::FramePointer,
                FrameTrust::Orc
            ]
        );
        assert_eq!(r.frames[1].sp, stack + 0x10);
        let ex = r.frames[2].exception.expect("pt_regs frame");
        assert_eq!(ex.addr, regs);
        assert_eq!(ex.regs.ip, TEXT + 0x5020);
        let last = r.frames[5].exception.expect("user regs");
        assert!(last.regs.user_mode());
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn stops_with_frames_on_bad_memory() {
        let m = MockMemory::new();
        let start = UnwindStart {
            ip: TEXT + 0x1004,
            sp: 0xffff_c900_0000_0000,
            bp: 0,
            regs: None,
            slot: 0xffff_c900_0000_0000,
            signal: true,
        };
        let r = unwind(&m, &Fake, start, &|_, _| true);
        assert_eq!(r.frames.len(), 1);
        assert_eq!(r.warnings.len(), 1);
    }

    /// IRQ entry: a stub at 0x…4000 whose CFA is `*sp` (ORC_REG_SP_INDIRECT, the saved
    /// previous stack pointer at the IRQ stack's top) and whose frame below is an IRET frame
    /// (ORC_TYPE_REGS_PARTIAL).
    struct Irq;
    impl OrcSource for Irq {
        fn orc_for(&self, ip: u64) -> Option<OrcEntry> {
            let w = |sp_reg: u8, ty: u16| (u16::from(sp_reg) | ty << 8).to_le_bytes();
            let raw = match ip.wrapping_sub(TEXT) {
                // On the IRQ stack: CFA = *sp + 0, a call frame.
                0x4000..=0x4fff => {
                    let b = w(ORC_REG_SP_INDIRECT, 0);
                    [0, 0, 0, 0, b[0], b[1]]
                }
                // Entry code: an IRET frame at CFA = sp + 8.
                0x6000..=0x6fff => {
                    let b = w(ORC_REG_SP, 2);
                    [8, 0, 0, 0, b[0], b[1]]
                }
                // Interrupted idle function, ends the stack (pre-6.4 end bit).
                0x7000..=0x7fff => {
                    let v: u16 = 1 << 8 | 1 << 10;
                    let b = v.to_le_bytes();
                    [0, 0, 0, 0, b[0], b[1]]
                }
                _ => return None,
            };
            Some(OrcEntry::decode(raw, OrcLayout::Pre6_4))
        }
    }

    #[test]
    fn switches_from_the_irq_stack_and_reads_iret_frames() {
        let mut m = MockMemory::new();
        let irq = 0xffff_c900_0010_0000u64;
        let task = 0xffff_c900_0020_0000u64;
        m.write(irq, &[0u8; 0x100]);
        m.write(task, &[0u8; 0x100]);
        // On the IRQ stack at irq + 0x40: its top word holds the task stack pointer.
        m.write_u64(irq + 0x40, task + 0x20);
        // Task stack: return address into the entry code at CFA - 8.
        m.write_u64(task + 0x18, TEXT + 0x6010);
        // Entry code: sp = task + 0x20, CFA = sp + 8 = task + 0x28 holds the IRET frame.
        let iret = [TEXT + 0x7004, 0x10, 0x246, task + 0x80, 0x18];
        for (i, v) in iret.iter().enumerate() {
            m.write_u64(task + 0x28 + i as u64 * 8, *v);
        }
        let start = UnwindStart {
            ip: TEXT + 0x4008,
            sp: irq + 0x40,
            bp: 0,
            regs: None,
            slot: irq + 0x40,
            signal: true,
        };
        let r = unwind(&m, &Irq, start, &|a, b| (a >> 20) == (b >> 20));
        let pcs: Vec<u64> = r.frames.iter().map(|f| f.pc - TEXT).collect();
        assert_eq!(pcs, vec![0x4008, 0x6010, 0x7004], "{:?}", r.warnings);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let ex = r.frames[1].exception.expect("IRET frame");
        assert!(ex.partial);
        assert_eq!(ex.addr, task + 0x28 - IRET_FRAME_OFFSET);
        assert_eq!(ex.regs.sp, task + 0x80);
        assert!(r.frames[2].signal, "an interrupted pc is looked up as is");
    }

    #[test]
    fn a_cpu_stopped_in_user_mode_gives_its_registers() {
        let m = MockMemory::new();
        let regs = PtRegs {
            ip: 0x40_1000,
            sp: 0x7fff_0000,
            cs: 0x33,
            ss: 0x2b,
            ..PtRegs::default()
        };
        let start = UnwindStart {
            ip: regs.ip,
            sp: regs.sp,
            bp: 0,
            regs: Some(regs),
            slot: regs.sp,
            signal: true,
        };
        let r = unwind(&m, &Fake, start, &|_, _| true);
        assert_eq!(r.frames.len(), 1);
        assert!(r.warnings.is_empty());
        assert_eq!(r.frames[0].exception.map(|e| e.regs.cs), Some(0x33));
    }

    #[test]
    fn the_loop_check_stops_a_cycle() {
        // ORC data that puts the CFA below sp (sp - 8): the stack would go backwards.
        struct Down;
        impl OrcSource for Down {
            fn orc_for(&self, _ip: u64) -> Option<OrcEntry> {
                let b = u16::from(ORC_REG_SP).to_le_bytes();
                Some(OrcEntry::decode(
                    [0xf8, 0xff, 0, 0, b[0], b[1]],
                    OrcLayout::Pre6_4,
                ))
            }
        }
        let mut m = MockMemory::new();
        let stack = 0xffff_c900_0000_0000u64;
        m.write(stack, &[0u8; 0x100]);
        m.write_u64(stack + 0x70, TEXT + 0x1000);
        let start = UnwindStart {
            ip: TEXT + 0x1000,
            sp: stack + 0x80,
            bp: 0,
            regs: None,
            slot: stack + 0x80,
            signal: true,
        };
        let r = unwind(&m, &Down, start, &|_, _| true);
        assert_eq!(r.frames.len(), 1);
        assert!(r.warnings[0].contains("backwards"), "{:?}", r.warnings);
    }
}
