//! Symbols (the vmlinux's, then the modules' kallsyms): `sym_addr(name)`, `symbol_exists(name)`, `addr_to_sym(addr)` → `"name+0x10"`,
//! `per_cpu_addr(name, cpu)`, `for_each_cpu()`; PyKdump's `sym2addr`/`addr2sym`.
//!
//! ```rhai
//! print(addr_to_sym(sym_addr("schedule") + 8));   // schedule+0x8
//! ```

use super::addr::{address_arg, Addr};
use crate::register_aliases;
use crate::script::error::runtime;
use crate::script::HostContext;
use rhai::{Array, Dynamic, Engine, EvalAltResult, INT};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

/// Registers the symbol functions.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["sym_addr", "sym2addr"],
        move |name: &str| -> R<Addr> {
            c.session
                .any_symbol_addr(name)
                .map(Addr)
                .ok_or_else(|| runtime("symbol", format!("no symbol named '{name}'"), None))
        }
    );
    let c = ctx.clone();
    engine.register_fn("symbol_exists", move |name: &str| {
        c.session.any_symbol_addr(name).is_some()
    });
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["addr_to_sym", "addr2sym"],
        move |a: Dynamic| -> R<String> {
            Ok(c.session.symbolize(address_arg(&a)?).unwrap_or_default())
        }
    );
    let c = ctx.clone();
    engine.register_fn("per_cpu_addr", move |name: &str, cpu: INT| -> R<Addr> {
        usize::try_from(cpu)
            .ok()
            .and_then(|cpu| c.session.per_cpu_addr(name, cpu))
            .map(Addr)
            .ok_or_else(|| {
                runtime(
                    "symbol",
                    format!("no per-CPU symbol '{name}' for CPU {cpu}"),
                    None,
                )
            })
    });
    let c = ctx.clone();
    engine.register_fn("for_each_cpu", move || -> Array {
        (0..c.session.per_cpu_offsets().len())
            .map(|i| Dynamic::from(i as INT))
            .collect()
    });
}
