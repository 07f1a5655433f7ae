//! The kernel layer: one file per kernel subsystem, named like the kernel's, holding the walks
//! and decoding that built-in commands and scripts share (each written once, exposed to Rhai).
//!
//! It sits above `session`/`value`/`arch` and below `commands` and `script`; `Session` never
//! imports it. Analyzer-only subsystems (SCSI, device-mapper, NFS/RPC) live in
//! `stdlib/linux/*.rhai` on top of it.

pub mod blk_mq;
pub mod block;
pub mod device;
pub mod fs;
pub mod mm;
pub mod module;
pub mod net;
pub mod printk;
pub mod runqueue;
pub mod sched;
pub mod stacktrace;
pub mod sysinfo;
pub mod type_scope;

use crate::error::{Error, Result};
use crate::session::Session;
use std::sync::OnceLock;

/// The kernel layer's lazy per-session caches (stored in the session, see
/// [`Session::kernel_state`]).
#[derive(Default)]
pub struct KernelState {
    /// The loaded modules (`module.rs`), read on first use.
    pub(crate) modules: OnceLock<std::result::Result<module::ModuleTable, String>>,
    /// `init_uts_ns.name.release`, read on first use.
    pub(crate) release: OnceLock<String>,
    /// The loaded modules' ORC tables (`stacktrace.rs`), read on first use.
    pub(crate) module_orcs: OnceLock<std::sync::Arc<Vec<module::ModuleOrc>>>,
}

/// This session's kernel-layer state.
pub(crate) fn state(s: &Session) -> Result<&KernelState> {
    s.kernel_state::<KernelState>()
        .ok_or_else(|| Error::Kernel("the session holds another layer's state".into()))
}
