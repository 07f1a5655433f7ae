//! The kernel layer: one file per kernel subsystem, named like the kernel's, holding the walks
//! and decoding that built-in commands and scripts share (each written once, exposed to Rhai).
//!
//! It sits above `session`/`value`/`arch` and below `commands` and `script`; `Session` never
//! imports it. Analyzer-only subsystems (SCSI, device-mapper, NFS/RPC) live in
//! `stdlib/linux/*.rhai` on top of it.

pub mod blk_mq;
