//! rkdump: a Linux kernel crash-dump analysis library and shell.
//!
//! Layers (imports flow left to right only; a module never imports one to its right):
//!
//! `addr, error → memory → dump | debuginfo → arch → value, kernel, stack → session → linux →
//! commands → script → repl → cli, demo, main`
//!
//! - `addr`, `error`, `interrupt`: address newtypes, the crate error, Ctrl-C.
//! - `memory`: reading physical and kernel-virtual bytes.
//! - `dump/`: vmcore formats; `debuginfo/`: vmlinux and module DWARF, symbols, lines.
//! - `arch/`: x86_64 paging, ORC tables and the unwinder.
//! - `value/`: typed kernel objects and list/tree walks; `kernel/`: the bootstrap layout
//!   (KASLR, direct map); `stack`: stack-trace data.
//! - `session`: one dump with its vmlinux; the object every layer above reads through.
//! - `linux/`: the kernel layer, one file per subsystem (sched, mm, module, printk, sysinfo,
//!   fs, net, runqueue, stacktrace, ...).
//! - `commands/`: the crash-like commands; `script/`: the Rhai host and API; `repl/`: the
//!   interactive shell; `cli`, `demo`: the binary's front end.

pub mod addr;
pub mod arch;
pub mod cli;
pub mod commands;
pub mod debuginfo;
pub mod demo;
pub mod dump;
pub mod error;
pub mod interrupt;
pub mod kernel;
pub mod linux;
pub mod memory;
pub mod repl;
pub mod script;
pub mod session;
pub mod stack;
pub mod value;

pub use error::{Error, Result};
