//! rkdump: a Linux kernel crash-dump analysis library and shell.
//!
//! Layers (imports flow left to right only):
//! `addr, error → memory → dump | debuginfo → arch → value, kernel, stack → session → commands → script → repl`.

pub mod addr;
pub mod debuginfo;
pub mod dump;
pub mod error;
pub mod memory;

pub use error::{Error, Result};
