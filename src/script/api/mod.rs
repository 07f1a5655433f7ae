//! The script API, one file per surface. `register_all` wires every surface into an engine.

pub mod addr;
pub mod block;
pub mod commands;
pub mod files;
pub mod kernel;
pub mod memory;
pub mod objects;
pub mod report;
pub mod symbols;
pub mod tasks;
pub mod text;
pub mod types;
pub mod vfs;

use super::HostContext;
use rhai::Engine;
use std::sync::Arc;

/// Registers every API surface on `engine`.
pub fn register_all(engine: &mut Engine, ctx: &Arc<HostContext>) {
    addr::register(engine);
    memory::register(engine, ctx);
    objects::register(engine, ctx);
    symbols::register(engine, ctx);
    tasks::register(engine, ctx);
    types::register(engine, ctx);
    kernel::register(engine, ctx);
    commands::register(engine, ctx);
    report::register(engine, ctx);
    text::register(engine);
    files::register(engine, ctx);
    vfs::register(engine, ctx);
    block::register(engine, ctx);
}

/// Registers `f` under each of `names` (snake_case name first, then PyKdump aliases).
#[macro_export]
macro_rules! register_aliases {
    ($engine:expr, [$($name:expr),+], $f:expr) => {{
        let f = $f;
        $( $engine.register_fn($name, f.clone()); )+
    }};
}
