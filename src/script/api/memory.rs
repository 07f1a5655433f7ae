//! Raw memory: `read_u8/u16/u32/u64(addr)` (INT), signed variants, `read_ptr` (an `Addr`),
//! `read_string`, `read_bytes` (a Blob), physical variants `phys_read_*`. Every address
//! argument may be an `Addr`, an INT or an object. The older INT helpers (`ult/ule/ugt/uge`,
//! `shr_u`) still work; `Addr` compares and shifts unsigned by itself.
//!
//! ```rhai
//! let jiffies = read_u64(sym_addr("jiffies"));
//! print(read_ptr(sym_addr("init_task") + 0x10));   // 0xffff… (an Addr)
//! let b = read_bytes(sym_addr("linux_banner"), 5); // Blob: b[0], b.len(), blob_to_string
//! ```

use super::addr::{address_arg, Addr};
use crate::addr::{Kva, Pa};
use crate::memory::{MemoryReader, PhysReader};
use crate::register_aliases;
use crate::script::error::from_memory;
use crate::script::HostContext;
use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

/// Most bytes one `read_bytes`/`read_string` may ask for.
const MAX_READ: INT = 64 << 20;

fn read_virt(ctx: &HostContext, addr: &Dynamic, n: usize) -> R<Vec<u8>> {
    let mut b = vec![0u8; n];
    ctx.session
        .read_virt(Kva(address_arg(addr)?), &mut b)
        .map_err(from_memory)?;
    Ok(b)
}

fn read_phys(ctx: &HostContext, addr: &Dynamic, n: usize) -> R<Vec<u8>> {
    let mut b = vec![0u8; n];
    ctx.session
        .read_phys(Pa(address_arg(addr)?), &mut b)
        .map_err(from_memory)?;
    Ok(b)
}

fn le(b: &[u8], signed: bool) -> INT {
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    let v = u64::from_le_bytes(w);
    let bits = b.len() * 8;
    if signed && bits < 64 {
        let shift = 64 - bits;
        ((v << shift) as i64) >> shift
    } else {
        v as i64
    }
}

fn checked_len(n: INT) -> R<usize> {
    if !(0..=MAX_READ).contains(&n) {
        return Err(crate::script::error::runtime(
            "usage",
            format!("read length {n} out of range (0..={MAX_READ})"),
            None,
        ));
    }
    Ok(n as usize)
}

fn string_at(ctx: &HostContext, addr: &Dynamic, max: INT) -> R<String> {
    use crate::memory::ReadExt;
    let max = checked_len(max)?;
    ctx.session
        .read_cstring(Kva(address_arg(addr)?), max)
        .map_err(from_memory)
}

/// Registers the raw-memory functions.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    for (size, unsigned, signed, up, sp) in [
        (1usize, "read_u8", "read_s8", "readU8", "readS8"),
        (2, "read_u16", "read_s16", "readU16", "readS16"),
        (4, "read_u32", "read_s32", "readU32", "readS32"),
        (8, "read_u64", "read_s64", "readU64", "readS64"),
    ] {
        let c = ctx.clone();
        register_aliases!(engine, [unsigned, up], move |a: Dynamic| -> R<INT> {
            Ok(le(&read_virt(&c, &a, size)?, false))
        });
        let c = ctx.clone();
        register_aliases!(engine, [signed, sp], move |a: Dynamic| -> R<INT> {
            Ok(le(&read_virt(&c, &a, size)?, true))
        });
        let c = ctx.clone();
        engine.register_fn(format!("phys_{unsigned}"), move |a: Dynamic| -> R<INT> {
            Ok(le(&read_phys(&c, &a, size)?, false))
        });
    }
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["read_ptr", "readPtr"],
        move |a: Dynamic| -> R<Addr> { Ok(Addr(le(&read_virt(&c, &a, 8)?, false) as u64)) }
    );
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["read_string", "readString"],
        move |a: Dynamic| -> R<String> { string_at(&c, &a, 256) }
    );
    let c = ctx.clone();
    register_aliases!(engine, ["read_string", "readString"], move |a: Dynamic,
                                                                   max: INT|
          -> R<
        String,
    > {
        string_at(&c, &a, max)
    });
    let c = ctx.clone();
    register_aliases!(engine, ["read_bytes", "readmem"], move |a: Dynamic,
                                                               n: INT|
          -> R<Blob> {
        read_virt(&c, &a, checked_len(n)?)
    });
    let c = ctx.clone();
    engine.register_fn("phys_read_bytes", move |a: Dynamic, n: INT| -> R<Blob> {
        read_phys(&c, &a, checked_len(n)?)
    });
    engine.register_fn("hex", |v: INT| format!("{:#x}", v as u64));
    // Python-style string helpers that return the result (Rhai's own `trim` works in place).
    engine.register_fn("strip", |s: &str| s.trim().to_string());
    engine.register_fn("lstrip", |s: &str| s.trim_start().to_string());
    engine.register_fn("rstrip", |s: &str| s.trim_end().to_string());
    engine.register_fn("ult", |a: INT, b: INT| (a as u64) < (b as u64));
    engine.register_fn("ule", |a: INT, b: INT| (a as u64) <= (b as u64));
    engine.register_fn("ugt", |a: INT, b: INT| (a as u64) > (b as u64));
    engine.register_fn("uge", |a: INT, b: INT| (a as u64) >= (b as u64));
    engine.register_fn("shr_u", |a: INT, n: INT| {
        if (0..64).contains(&n) {
            ((a as u64) >> n) as INT
        } else {
            0
        }
    });
}

#[cfg(test)]
mod tests {
    use super::le;

    #[test]
    fn sign_extension() {
        assert_eq!(le(&[0xff], true), -1);
        assert_eq!(le(&[0xff], false), 255);
        assert_eq!(le(&[0x00, 0x80], true), -32768);
        assert_eq!(le(&[0xff; 8], false), -1);
    }
}
