//! Text helpers a ported PyKdump program needs: byte order (`ntohs`, `ntohl`, `htons`,
//! `htonl`), network addresses as text (`ip4_str` of a `__be32`, `ip6_str` of a `struct
//! in6_addr` object or a 16-byte Blob) and C/Python-style padded formatting (`sprintf`).
//!
//! ```rhai
//! let sk = read_struct("struct sock_common", some_addr);
//! print(`${ip4_str(sk.skc_rcv_saddr)}:${sk.skc_num}`);       // 127.0.0.1:4142
//! print(`${ip6_str(sk.skc_v6_rcv_saddr)}`);                   // ::1
//! print(ntohs(sk.skc_dport));                                  // 57660
//! print(sprintf("%-8s %5d %#x", ["init", 1, 255]));            // "init         1 0xff"
//! ```
//!
//! Must not import `repl`.

use super::addr::Addr;
use super::objects::KObj;
use crate::script::error::runtime;
use rhai::{Array, Blob, Dynamic, Engine, EvalAltResult, INT};
use std::net::{Ipv4Addr, Ipv6Addr};

type R<T> = Result<T, Box<EvalAltResult>>;

/// An IPv4 address stored in network order, as read from memory into an INT (the bytes of a
/// `__be32` loaded little-endian), in dotted text.
pub fn ip4_text(be32: INT) -> String {
    let b = (be32 as u32).to_le_bytes();
    Ipv4Addr::from(b).to_string()
}

/// Sixteen bytes of an IPv6 address in RFC 5952 text (`::1`, `fe80::1`).
pub fn ip6_text(b: &[u8]) -> Option<String> {
    let a: [u8; 16] = b.get(..16)?.try_into().ok()?;
    Some(Ipv6Addr::from(a).to_string())
}

/// One `%` conversion: flags, width, precision and the conversion character.
struct Spec {
    left: bool,
    zero: bool,
    alt: bool,
    plus: bool,
    width: usize,
    prec: Option<usize>,
    conv: char,
}

fn pad(s: String, sp: &Spec) -> String {
    let n = s.chars().count();
    if n >= sp.width {
        return s;
    }
    let fill = sp.width - n;
    if sp.left {
        format!("{s}{}", " ".repeat(fill))
    } else if sp.zero && sp.conv != 's' {
        // zeros go after a sign or 0x prefix
        let cut = if s.starts_with("0x") || s.starts_with("0X") {
            2
        } else {
            usize::from(s.starts_with('-') || s.starts_with('+'))
        };
        format!("{}{}{}", &s[..cut], "0".repeat(fill), &s[cut..])
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

fn int_arg(d: &Dynamic) -> Option<(u64, bool)> {
    if let Some(a) = d.read_lock::<Addr>() {
        return Some((a.0, false));
    }
    if let Some(o) = d.read_lock::<KObj>() {
        return o.addr().ok().map(|a| (a, false));
    }
    if let Ok(b) = d.as_bool() {
        return Some((u64::from(b), false));
    }
    d.as_int().ok().map(|i| (i as u64, true))
}

fn convert(sp: &Spec, d: &Dynamic) -> R<String> {
    let bad = |what: &str| {
        runtime(
            "usage",
            format!("sprintf: %{} needs {what}, got {}", sp.conv, d.type_name()),
            None,
        )
    };
    let s = match sp.conv {
        's' => {
            let mut s = super::addr::display(d);
            if let Some(p) = sp.prec {
                s = s.chars().take(p).collect();
            }
            s
        }
        'd' | 'i' | 'u' => {
            let (v, signed) = int_arg(d).ok_or_else(|| bad("a number"))?;
            let mut s = if signed && sp.conv != 'u' {
                (v as i64).to_string()
            } else {
                v.to_string()
            };
            if sp.plus && !s.starts_with('-') {
                s.insert(0, '+');
            }
            s
        }
        'x' | 'X' | 'o' => {
            let (v, _) = int_arg(d).ok_or_else(|| bad("a number"))?;
            match (sp.conv, sp.alt) {
                ('x', false) => format!("{v:x}"),
                ('x', true) => format!("{v:#x}"),
                ('X', false) => format!("{v:X}"),
                ('X', true) => format!("0X{v:X}"),
                (_, false) => format!("{v:o}"),
                (_, true) => format!("0{v:o}"),
            }
        }
        'c' => {
            let (v, _) = int_arg(d).ok_or_else(|| bad("a character code"))?;
            char::from_u32(v as u32)
                .map(String::from)
                .unwrap_or_default()
        }
        'f' | 'e' | 'g' => {
            let f = d
                .as_float()
                .or_else(|_| d.as_int().map(|i| i as f64))
                .map_err(|_| bad("a number"))?;
            let p = sp.prec.unwrap_or(6);
            match sp.conv {
                'e' => format!("{f:.p$e}"),
                _ => format!("{f:.p$}"),
            }
        }
        c => {
            return Err(runtime(
                "usage",
                format!("sprintf: unknown conversion %{c}"),
                None,
            ))
        }
    };
    Ok(pad(s, sp))
}

/// C/Python `%` formatting: `%s %d %i %u %x %X %o %c %f %e %%` with flags `-` (left), `0`,
/// `#` (0x prefix), `+`, a width and a precision. Addresses and objects format as numbers
/// under `%x`/`%d` and as their hex/C text under `%s`.
pub fn sprintf(fmt: &str, args: &[Dynamic]) -> R<String> {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut next = args.iter();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if it.peek() == Some(&'%') {
            it.next();
            out.push('%');
            continue;
        }
        let mut sp = Spec {
            left: false,
            zero: false,
            alt: false,
            plus: false,
            width: 0,
            prec: None,
            conv: 's',
        };
        while let Some(&f) = it.peek() {
            match f {
                '-' => sp.left = true,
                '0' => sp.zero = true,
                '#' => sp.alt = true,
                '+' => sp.plus = true,
                ' ' => {}
                _ => break,
            }
            it.next();
        }
        while let Some(d) = it.peek().and_then(|c| c.to_digit(10)) {
            sp.width = sp.width * 10 + d as usize;
            it.next();
        }
        if it.peek() == Some(&'.') {
            it.next();
            let mut p = 0usize;
            while let Some(d) = it.peek().and_then(|c| c.to_digit(10)) {
                p = p * 10 + d as usize;
                it.next();
            }
            sp.prec = Some(p);
        }
        // length modifiers (`%lx`, `%llu`) mean nothing here
        while matches!(it.peek(), Some('l' | 'h' | 'z')) {
            it.next();
        }
        sp.conv = it
            .next()
            .ok_or_else(|| runtime("usage", "sprintf: format ends inside a %".into(), None))?;
        let arg = next.next().ok_or_else(|| {
            runtime(
                "usage",
                format!("sprintf: not enough arguments for '{fmt}'"),
                None,
            )
        })?;
        out.push_str(&convert(&sp, arg)?);
    }
    Ok(out)
}

/// Registers the text helpers.
pub fn register(engine: &mut Engine) {
    engine.register_fn("ntohs", |v: INT| INT::from((v as u16).swap_bytes()));
    engine.register_fn("htons", |v: INT| INT::from((v as u16).swap_bytes()));
    engine.register_fn("ntohl", |v: INT| INT::from((v as u32).swap_bytes()));
    engine.register_fn("htonl", |v: INT| INT::from((v as u32).swap_bytes()));
    engine.register_fn("ip4_str", ip4_text);
    engine.register_fn("ip6_str", |b: Blob| -> R<String> {
        ip6_text(&b).ok_or_else(|| runtime("usage", "ip6_str: needs 16 bytes".into(), None))
    });
    engine.register_fn("ip6_str", |o: KObj| -> R<String> {
        let b = o.bytes()?;
        ip6_text(&b).ok_or_else(|| {
            runtime(
                "usage",
                format!("ip6_str: {} is not 16 bytes", o.type_name()),
                None,
            )
        })
    });
    engine.register_fn("sprintf", |fmt: &str, args: Array| sprintf(fmt, &args));
    engine.register_fn("sprintf", |fmt: &str, arg: Dynamic| {
        sprintf(fmt, std::slice::from_ref(&arg))
    });
    engine.register_fn("pad_left", |d: Dynamic, w: INT| {
        format!(
            "{:>w$}",
            super::addr::display(&d),
            w = usize::try_from(w).unwrap_or(0)
        )
    });
    engine.register_fn("pad_right", |d: Dynamic, w: INT| {
        format!(
            "{:<w$}",
            super::addr::display(&d),
            w = usize::try_from(w).unwrap_or(0)
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_c() {
        let a = |v: Vec<Dynamic>| v;
        let s = sprintf(
            "%-8s|%5d|%#x|%05d|%X|%%|%.3s|%c",
            &a(vec![
                "init".into(),
                Dynamic::from(1 as INT),
                Dynamic::from(255 as INT),
                Dynamic::from(-42 as INT),
                Dynamic::from(0xab as INT),
                "abcdef".into(),
                Dynamic::from(65 as INT),
            ]),
        );
        assert_eq!(
            s.ok().as_deref(),
            Some("init    |    1|0xff|-0042|AB|%|abc|A")
        );
        let s = sprintf(
            "%016lx %s",
            &a(vec![Addr::dynamic(0xffff_8a7a_c11f_c800), Addr::dynamic(1)]),
        );
        assert_eq!(s.ok().as_deref(), Some("ffff8a7ac11fc800 0x1"));
        assert!(sprintf("%d", &[]).is_err());
    }

    #[test]
    fn network_text() {
        // 127.0.0.1 as a __be32 read little-endian
        assert_eq!(ip4_text(0x0100_007f), "127.0.0.1");
        let mut b = [0u8; 16];
        b[15] = 1;
        assert_eq!(ip6_text(&b).as_deref(), Some("::1"));
        assert_eq!((0x1234u16).swap_bytes(), 0x3412);
    }
}
