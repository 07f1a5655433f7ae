//! rkdump: a Linux kernel crash-dump analysis library and shell.
//!
//! Layers (imports flow left to right only):
//! `addr, error → memory → dump | debuginfo → arch → value, kernel, stack → session → commands → script → repl`.

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
