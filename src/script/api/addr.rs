//! Kernel addresses in scripts: the `Addr` type. Every address the API hands out (`t.addr`,
//! `sym_addr`, `read_ptr`, a `void *` member, a frame's `pc`) is an `Addr`: it prints as
//! `0xffff8a7ac11fc800` (in `print`, interpolation, `to_string`, maps and tables), compares
//! unsigned with other addresses and with INT, and `to_json` writes it as an unsigned number.
//! Counts and plain numbers stay INT.
//!
//! Arithmetic on an `Addr` is in bytes: `a + 8`, `a - 8`, `a & 7`, `a >> 12`, `a | 1` give an
//! `Addr`; `a - b` of two addresses gives an INT. (A typed pointer *object* moves in elements,
//! as in C: see `objects.rs`.)
//!
//! ```rhai
//! let a = sym_addr("init_task");
//! print(a);                           // 0xffffffff9e80ac00
//! print(a > 0x1000);                  // true (unsigned)
//! print(is_kernel_ptr(a));            // true
//! print(align_down(a + 9, 8) - a);    // 8
//! let b = addr(0xffff8a7ac11c1280);   // an INT with the bit pattern → Addr
//! ```
//!
//! Must not import `repl`.

use super::objects::KObj;
use crate::arch::x86_64::unwind::KERNEL_SPACE_START;
use crate::commands::data::json_string;
use crate::script::error::runtime;
use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, INT};
use std::fmt::Write as _;

type R<T> = Result<T, Box<EvalAltResult>>;

/// A kernel virtual address in a script: a `u64` that prints in hex and compares unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub u64);

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl Addr {
    /// The address as a Rhai value.
    pub fn dynamic(a: u64) -> Dynamic {
        Dynamic::from(Addr(a))
    }
}

/// An address from an `Addr`, an INT (its bit pattern) or an object (its address; a pointer
/// object gives the address it holds).
pub fn address_arg(d: &Dynamic) -> R<u64> {
    if let Some(a) = d.read_lock::<Addr>() {
        return Ok(a.0);
    }
    if let Some(o) = d.read_lock::<KObj>() {
        return o.addr();
    }
    d.as_int().map(|i| i as u64).map_err(|t| {
        runtime(
            "usage",
            format!("expected an address, INT or object, got {t}"),
            None,
        )
    })
}

/// Whether `a` lies in the kernel half of the x86_64 address space.
pub fn is_kernel_address(a: u64) -> bool {
    a >= KERNEL_SPACE_START
}

/// How a value reads in text (tables, the REPL's echo): addresses in hex, objects C-like,
/// maps and arrays element by element (strings inside them quoted).
pub fn display(d: &Dynamic) -> String {
    if d.is_string() {
        return d.clone().into_string().unwrap_or_default();
    }
    inner(d)
}

fn inner(d: &Dynamic) -> String {
    if let Some(a) = d.read_lock::<Addr>() {
        return a.to_string();
    }
    if let Some(o) = d.read_lock::<KObj>() {
        return o.render();
    }
    if let Some(v) = d.read_lock::<super::kernel::KernelVersion>() {
        return v.to_string();
    }
    if let Some(m) = d.read_lock::<Map>() {
        let items: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{k:?}: {}", inner(v)))
            .collect();
        return format!("#{{{}}}", items.join(", "));
    }
    if let Some(a) = d.read_lock::<Array>() {
        let items: Vec<String> = a.iter().map(inner).collect();
        return format!("[{}]", items.join(", "));
    }
    if d.is_string() {
        return format!("{:?}", d.clone().into_string().unwrap_or_default());
    }
    d.to_string()
}

/// Writes `d` as JSON: addresses (and objects, by address) as unsigned numbers, as the
/// commands' `--json` does.
pub fn write_json(d: &Dynamic, s: &mut String) {
    if let Some(a) = d.read_lock::<Addr>() {
        let _ = write!(s, "{}", a.0);
    } else if let Some(o) = d.read_lock::<KObj>() {
        match o.addr() {
            Ok(a) => {
                let _ = write!(s, "{a}");
            }
            Err(_) => s.push_str("null"),
        }
    } else if let Some(m) = d.read_lock::<Map>() {
        s.push('{');
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            json_string(k, s);
            s.push(':');
            write_json(v, s);
        }
        s.push('}');
    } else if let Some(a) = d.read_lock::<Array>() {
        s.push('[');
        for (i, v) in a.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            write_json(v, s);
        }
        s.push(']');
    } else if d.is_unit() {
        s.push_str("null");
    } else if let Ok(b) = d.as_bool() {
        s.push_str(if b { "true" } else { "false" });
    } else if let Ok(i) = d.as_int() {
        let _ = write!(s, "{i}");
    } else if let Ok(f) = d.as_float() {
        if f.is_finite() {
            let _ = write!(s, "{f:?}");
        } else {
            s.push_str("null");
        }
    } else if d.is_string() {
        json_string(&d.clone().into_string().unwrap_or_default(), s);
    } else {
        json_string(&display(d), s);
    }
}

/// `parse_int(s, 16)` over the whole `u64` range: up to 16 hex digits (with or without `0x`)
/// give the INT with that bit pattern; other radixes parse as signed numbers.
fn parse_radix(s: &str, radix: INT) -> R<INT> {
    let t = s.trim();
    let bad = || runtime("usage", format!("cannot parse '{s}' in base {radix}"), None);
    let radix = u32::try_from(radix)
        .ok()
        .filter(|r| (2..=36).contains(r))
        .ok_or_else(bad)?;
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let body = if radix == 16 {
        body.strip_prefix("0x")
            .or_else(|| body.strip_prefix("0X"))
            .unwrap_or(body)
    } else {
        body
    };
    let v = u64::from_str_radix(body, radix).map_err(|_| bad())?;
    if neg {
        i64::try_from(v).map(|v| -v).map_err(|_| bad())
    } else if radix == 16 || v <= i64::MAX as u64 {
        Ok(v as INT)
    } else {
        Err(bad())
    }
}

/// One unsigned comparison of two addresses.
pub(crate) type UnsignedCmp = fn(u64, u64) -> bool;

/// The comparison operators scripts get between addresses (and objects, by their address):
/// all unsigned.
pub(crate) const UNSIGNED_CMP: [(&str, UnsignedCmp); 6] = [
    ("==", |a, b| a == b),
    ("!=", |a, b| a != b),
    ("<", |a, b| a < b),
    ("<=", |a, b| a <= b),
    (">", |a, b| a > b),
    (">=", |a, b| a >= b),
];

fn cmp_ops(engine: &mut Engine) {
    for (op, f) in UNSIGNED_CMP {
        engine.register_fn(op, move |a: Addr, b: Addr| f(a.0, b.0));
        engine.register_fn(op, move |a: Addr, b: INT| f(a.0, b as u64));
        engine.register_fn(op, move |a: INT, b: Addr| f(a as u64, b.0));
    }
}

fn shift(a: u64, n: INT, left: bool) -> Addr {
    let n = u32::try_from(n).unwrap_or(64);
    Addr(if n >= 64 {
        0
    } else if left {
        a << n
    } else {
        a >> n
    })
}

/// Registers `Addr`, its operators and the address helpers.
pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<Addr>("Addr")
        .register_fn("to_string", |a: &mut Addr| a.to_string())
        .register_fn("to_debug", |a: &mut Addr| a.to_string())
        .register_indexer_get(|a: &mut Addr, _i: INT| -> R<Dynamic> {
            Err(runtime(
                "usage",
                format!(
                    "{a} is an untyped address: give it a type with read_struct(\"struct T\", a), \
                     or read a word with read_ptr(a)"
                ),
                Some(a.0),
            ))
        });
    cmp_ops(engine);
    engine.register_fn("+", |a: Addr, n: INT| Addr(a.0.wrapping_add(n as u64)));
    engine.register_fn("+", |n: INT, a: Addr| Addr(a.0.wrapping_add(n as u64)));
    engine.register_fn("-", |a: Addr, n: INT| Addr(a.0.wrapping_sub(n as u64)));
    engine.register_fn("-", |a: Addr, b: Addr| a.0.wrapping_sub(b.0) as INT);
    engine.register_fn("&", |a: Addr, m: INT| Addr(a.0 & m as u64));
    engine.register_fn("&", |m: INT, a: Addr| Addr(a.0 & m as u64));
    engine.register_fn("|", |a: Addr, m: INT| Addr(a.0 | m as u64));
    engine.register_fn("^", |a: Addr, m: INT| Addr(a.0 ^ m as u64));
    engine.register_fn(">>", |a: Addr, n: INT| shift(a.0, n, false));
    engine.register_fn("<<", |a: Addr, n: INT| shift(a.0, n, true));
    engine.register_fn("%", |a: Addr, n: INT| -> R<INT> {
        u64::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .map(|n| (a.0 % n) as INT)
            .ok_or_else(|| runtime("usage", format!("{a} % {n}: bad divisor"), None))
    });
    engine.register_fn("/", |a: Addr, n: INT| -> R<INT> {
        u64::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .map(|n| (a.0 / n) as INT)
            .ok_or_else(|| runtime("usage", format!("{a} / {n}: bad divisor"), None))
    });
    engine.register_fn("addr", |i: INT| Addr(i as u64));
    engine.register_fn("addr", |a: Addr| a);
    engine.register_fn("to_int", |a: Addr| a.0 as INT);
    engine.register_fn("hex", |a: Addr| a.to_string());
    engine.register_fn("is_null", |a: Addr| a.0 == 0);
    engine.register_fn("!", |a: Addr| a.0 == 0);
    engine.register_fn("is_kernel_ptr", |d: Dynamic| {
        address_arg(&d).is_ok_and(is_kernel_address)
    });
    engine.register_fn("align_down", |d: Dynamic, n: INT| -> R<Addr> {
        let a = address_arg(&d)?;
        let n = u64::try_from(n).ok().filter(|n| n.is_power_of_two());
        n.map(|n| Addr(a & !(n - 1)))
            .ok_or_else(|| runtime("usage", "align_down: not a power of two".into(), None))
    });
    engine.register_fn("align_up", |d: Dynamic, n: INT| -> R<Addr> {
        let a = address_arg(&d)?;
        let n = u64::try_from(n).ok().filter(|n| n.is_power_of_two());
        n.map(|n| Addr(a.wrapping_add(n - 1) & !(n - 1)))
            .ok_or_else(|| runtime("usage", "align_up: not a power of two".into(), None))
    });
    engine.register_fn("parse_int", parse_radix);
    engine.register_fn("parse_addr", |s: &str| -> R<Addr> {
        parse_radix(s, 16).map(|v| Addr(v as u64))
    });
    engine.register_fn("to_json", |m: &mut Map| {
        let mut s = String::new();
        write_json(&Dynamic::from(m.clone()), &mut s);
        s
    });
    engine.register_fn("to_json", |a: &mut Array| {
        let mut s = String::new();
        write_json(&Dynamic::from(a.clone()), &mut s);
        s
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str) -> String {
        let mut e = Engine::new();
        register(&mut e);
        match e.eval::<Dynamic>(src) {
            Ok(v) => display(&v),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn prints_hex_and_compares_unsigned() {
        assert_eq!(eval("addr(-129215145981952)"), "0xffff8a7ac11fc800");
        assert_eq!(eval(r#"`${addr(-8)}`"#), "0xfffffffffffffff8");
        assert_eq!(eval("addr(-8) > 0"), "true");
        assert_eq!(eval("addr(-8) > addr(16)"), "true");
        assert_eq!(eval("0x1000 < addr(-1)"), "true");
        assert_eq!(eval("addr(0) == 0"), "true");
        assert_eq!(eval("addr(0x18) - addr(0x10)"), "8");
        assert_eq!(eval("addr(0x18) + 8"), "0x20");
        assert_eq!(eval("(addr(-1) >> 60)"), "0xf");
        assert_eq!(eval("addr(0x1234) & 0xff0"), "0x230");
        assert_eq!(eval("align_down(addr(0x1237), 8)"), "0x1230");
        assert_eq!(eval("is_kernel_ptr(addr(0xffff888000000000))"), "true");
        assert_eq!(eval("is_kernel_ptr(0x7fff0000)"), "false");
        let m = eval("let m = #{a: addr(-1)}; m.to_string()");
        assert!(m.contains("0xffffffffffffffff"), "{m}");
        assert_eq!(
            eval("#{a: addr(-1)}.to_json()"),
            r#"{"a":18446744073709551615}"#
        );
        assert!(eval("addr(8)[0]").contains("untyped address"));
    }

    #[test]
    fn parses_u64_hex() {
        assert_eq!(
            parse_radix("ffff8a7ac11c1280", 16).ok(),
            Some(-129215146225024)
        );
        assert_eq!(parse_radix("0x10", 16).ok(), Some(16));
        assert_eq!(parse_radix("-10", 10).ok(), Some(-10));
        assert!(parse_radix("18446744073709551615", 10).is_err());
        assert_eq!(
            eval(r#"parse_addr("ffff8a7ac11c1280")"#),
            "0xffff8a7ac11c1280"
        );
    }
}
