//! Stack traces: the frames an unwind found, with symbols, trust levels, exception frames and
//! the stacks they lie on, plus the warnings of an unwind that stopped early.
//!
//! Symbol lookup goes through the [`SymbolResolver`] trait so that module symbols can plug in
//! later. Must not import `session` or `commands`.

pub use crate::arch::x86_64::unwind::{ExceptionFrame, FrameTrust, PtRegs, RawFrame, Unwound};

/// Which stack a frame lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackKind {
    /// The task's own kernel stack (`task->stack`).
    Task,
    /// The per-CPU hard-IRQ stack.
    Irq,
    /// The per-CPU soft-IRQ stack (not separate on x86_64 6.x: shares the IRQ stack).
    SoftIrq,
    /// An exception (IST) stack in the cpu_entry_area: `NMI`, `DB`, `DF`, `MCE`, `VC`, `VC2`.
    Exception(&'static str),
    /// The per-CPU entry (trampoline) stack in the cpu_entry_area.
    Entry,
    /// Not a known stack.
    Unknown,
}

impl StackKind {
    /// crash's name for the stack in its `--- <…> ---` transition lines.
    pub fn label(&self) -> String {
        match self {
            StackKind::Task => "task stack".into(),
            StackKind::Irq => "IRQ stack".into(),
            StackKind::SoftIrq => "soft IRQ stack".into(),
            StackKind::Exception(n) => format!("{n} exception stack"),
            StackKind::Entry => "ENTRY_TRAMPOLINE stack".into(),
            StackKind::Unknown => "unknown stack".into(),
        }
    }
}

/// A stack region `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackRegion {
    /// What it is.
    pub kind: StackKind,
    /// Lowest address.
    pub start: u64,
    /// One past the highest address.
    pub end: u64,
}

impl StackRegion {
    /// Whether `addr` lies in the region.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end
    }
}

/// A symbol found for an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSymbol {
    /// Function name.
    pub name: String,
    /// Runtime start address of the function.
    pub start: u64,
    /// The module it belongs to, `None` for the kernel image.
    pub module: Option<String>,
}

/// Maps code addresses to symbols (kernel image today; modules can implement it later).
pub trait SymbolResolver {
    /// The function containing runtime address `addr`.
    fn resolve(&self, addr: u64) -> Option<ResolvedSymbol>;
}

/// One frame of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Program counter (return address, or interrupted instruction).
    pub pc: u64,
    /// Stack address the pc was read from (crash's `[…]`), or the stack pointer of a
    /// register-given frame.
    pub sp: u64,
    /// How the frame was found.
    pub trust: FrameTrust,
    /// Function name, when known.
    pub symbol: Option<String>,
    /// `pc` minus the function's start.
    pub offset: u64,
    /// Module of the function (`None`: kernel image or unknown).
    pub module: Option<String>,
    /// The exception frame (`struct pt_regs`) saved by this function's entry, if any.
    pub exception: Option<ExceptionFrame>,
    /// The stack `sp` lies on.
    pub stack: StackKind,
    /// Whether `pc` is an interrupted instruction (the first frame of a CPU's saved state,
    /// the frame after an exception) rather than a return address.
    pub exact_pc: bool,
}

impl Frame {
    /// The address to look symbols and source lines up at: `pc` for an interrupted
    /// instruction, `pc - 1` (inside the call) for a return address.
    pub fn lookup_pc(&self) -> u64 {
        if self.exact_pc {
            self.pc
        } else {
            self.pc.wrapping_sub(1)
        }
    }

    /// `name+0xoff` or the bare hex address.
    pub fn sym_off(&self) -> String {
        match &self.symbol {
            Some(s) if self.offset == 0 => s.clone(),
            Some(s) => format!("{s}+{:#x}", self.offset),
            None => format!("{:x}", self.pc),
        }
    }
}

/// A whole backtrace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackTrace {
    /// Frames, innermost first.
    pub frames: Vec<Frame>,
    /// Why the unwind stopped early, or what it had to guess.
    pub warnings: Vec<String>,
}

impl StackTrace {
    /// Builds a trace from raw frames: symbols from `resolver` (a return address is looked
    /// up at `pc - 1` so that a call at the very end of a function names that function) and
    /// stacks from `regions`.
    pub fn from_unwound(
        raw: Unwound,
        resolver: &dyn SymbolResolver,
        regions: &[StackRegion],
    ) -> Self {
        let frames = raw
            .frames
            .into_iter()
            .map(|f| {
                let key = if f.signal { f.pc } else { f.pc.wrapping_sub(1) };
                let sym = resolver.resolve(key);
                let stack = regions
                    .iter()
                    .find(|r| r.contains(f.sp))
                    .map(|r| r.kind)
                    .unwrap_or(StackKind::Unknown);
                Frame {
                    pc: f.pc,
                    sp: f.sp,
                    trust: f.trust,
                    offset: sym
                        .as_ref()
                        .map(|s| f.pc.wrapping_sub(s.start))
                        .unwrap_or(0),
                    module: sym.as_ref().and_then(|s| s.module.clone()),
                    symbol: sym.map(|s| s.name),
                    exception: f.exception,
                    stack,
                    exact_pc: f.signal,
                }
            })
            .collect();
        Self {
            frames,
            warnings: raw.warnings,
        }
    }

    /// Whether a frame's function is `name`.
    pub fn has_func(&self, name: &str) -> bool {
        self.frames
            .iter()
            .any(|f| f.symbol.as_deref() == Some(name))
    }

    /// Function names, innermost first (`None` for unknown code).
    pub fn function_names(&self) -> Vec<Option<&str>> {
        self.frames.iter().map(|f| f.symbol.as_deref()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Two;
    impl SymbolResolver for Two {
        fn resolve(&self, addr: u64) -> Option<ResolvedSymbol> {
            let (name, start) = match addr {
                0x1000..=0x1fff => ("alpha", 0x1000),
                0x2000..=0x2fff => ("beta", 0x2000),
                _ => return None,
            };
            Some(ResolvedSymbol {
                name: name.into(),
                start,
                module: None,
            })
        }
    }

    #[test]
    fn symbolizes_return_addresses_at_pc_minus_one() {
        let raw = Unwound {
            frames: vec![
                RawFrame {
                    pc: 0x1010,
                    sp: 0x10,
                    trust: FrameTrust::Context,
                    signal: true,
                    exception: None,
                },
                // A call at the very end of alpha returns to beta's first byte.
                RawFrame {
                    pc: 0x2000,
                    sp: 0x20,
                    trust: FrameTrust::Orc,
                    signal: false,
                    exception: None,
                },
                RawFrame {
                    pc: 0x9000,
                    sp: 0x900,
                    trust: FrameTrust::FramePointer,
                    signal: false,
                    exception: None,
                },
            ],
            warnings: vec!["x".into()],
        };
        let regions = [StackRegion {
            kind: StackKind::Task,
            start: 0,
            end: 0x100,
        }];
        let t = StackTrace::from_unwound(raw, &Two, &regions);
        assert_eq!(t.function_names(), vec![Some("alpha"), Some("alpha"), None]);
        assert_eq!(t.frames[0].sym_off(), "alpha+0x10");
        assert_eq!(t.frames[1].sym_off(), "alpha+0x1000");
        assert_eq!(t.frames[2].sym_off(), "9000");
        assert_eq!(t.frames[2].stack, StackKind::Unknown);
        assert_eq!(t.frames[0].stack, StackKind::Task);
        assert!(t.has_func("alpha") && !t.has_func("beta"));
    }
}
