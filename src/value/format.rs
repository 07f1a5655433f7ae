//! C-like printing of values, in the layout crash's `p` and `struct` use (gdb's): structs as
//! `{\n  name = value,\n  …\n}` with two spaces per level, arrays as `{a, b, …}` (at most 200
//! elements, then `...`), `char` arrays as escaped strings, pointers as `0x…` with `<symbol+off>`
//! when they point into the kernel image, enums by name.
//!
//! Must not import `session` or `commands`.

use super::object::{decode_scalar, raw_from, read_c_string};
use super::{Result, Scalar, Target, Value};
use crate::debuginfo::{BaseEncoding, Type, TypeId, TypeIndex};
use std::fmt::Write as _;

/// How integers are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Radix {
    /// Decimal integers, hex pointers (gdb's default).
    #[default]
    Natural,
    /// Everything in hex (`p -x`).
    Hex,
    /// Integers in decimal, pointers too where gdb would (`p -d`).
    Decimal,
}

/// Printing options.
#[derive(Debug, Clone, Copy)]
pub struct FormatOptions {
    /// Integer radix.
    pub radix: Radix,
    /// Most array elements (and string characters behind a `char *`) shown.
    pub max_elements: usize,
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self {
            radix: Radix::Natural,
            max_elements: 200,
        }
    }
}

/// Formats `v` as gdb prints the right-hand side of `$1 = …`: pointers at the top level are
/// prefixed with their type, `(struct pid *) 0xffff… <init_struct_pid>`.
pub fn format_top(k: &dyn Target, v: &Value, opts: &FormatOptions) -> Result<String> {
    let types = k.type_index()?;
    let t = v.resolved_type(k)?;
    let mut s = String::new();
    if let Type::Pointer { target, .. } = &*t {
        if !target.is_some_and(|tg| is_char(types, tg)) {
            let _ = write!(s, "({}) ", types.type_name(v.ty()));
        }
    }
    s.push_str(&format_value(k, v, opts)?);
    Ok(s)
}

/// Formats `v` (struct bodies multi-line, starting at indentation level 0).
pub fn format_value(k: &dyn Target, v: &Value, opts: &FormatOptions) -> Result<String> {
    let types = k.type_index()?;
    let f = Formatter { k, types, opts };
    let size = types.size_of(v.ty()).unwrap_or(0);
    // Read the whole object once, then format from the bytes.
    let bytes = match (v.bitfield(), size) {
        (Some((bo, bs)), _) => v.read_bytes(k, (bo + bs).div_ceil(8) as usize)?,
        (None, 0) => Vec::new(),
        (None, n) => v.read_bytes(k, usize::try_from(n).unwrap_or(0).min(64 << 20))?,
    };
    let mut out = String::new();
    f.value(&mut out, v.ty(), &bytes, v.address(), v.bitfield(), 0)?;
    Ok(out)
}

/// Formats one struct member line as crash's `struct NAME.member ADDR` prints it:
/// `  name = value,` (nested structs indented one level).
pub fn format_member_line(
    k: &dyn Target,
    name: &str,
    v: &Value,
    opts: &FormatOptions,
) -> Result<String> {
    let types = k.type_index()?;
    let f = Formatter { k, types, opts };
    let size = types.size_of(v.ty()).unwrap_or(0);
    let bytes = match (v.bitfield(), size) {
        (Some((bo, bs)), _) => v.read_bytes(k, (bo + bs).div_ceil(8) as usize)?,
        (None, n) => v.read_bytes(k, usize::try_from(n).unwrap_or(0).min(64 << 20))?,
    };
    let mut out = format!("  {name} = ");
    f.value(&mut out, v.ty(), &bytes, v.address(), v.bitfield(), 1)?;
    out.push(',');
    Ok(out)
}

/// Escapes bytes as gdb does inside a C string or char literal.
pub fn escape_c(bytes: &[u8], quote: char) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x0c => s.push_str("\\f"),
            0x0b => s.push_str("\\v"),
            0x1b => s.push_str("\\033"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\{b:03o}");
            }
        }
    }
    s
}

/// Whether `id` is (a typedef of) a character type.
pub(crate) fn is_char(types: &TypeIndex, id: TypeId) -> bool {
    types
        .resolve(id)
        .ok()
        .and_then(|r| types.get(r).ok())
        .is_some_and(|t| {
            matches!(
                &*t,
                Type::Base {
                    encoding: BaseEncoding::SignedChar | BaseEncoding::UnsignedChar,
                    ..
                }
            )
        })
}

struct Formatter<'a> {
    k: &'a dyn Target,
    types: &'a TypeIndex,
    opts: &'a FormatOptions,
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

impl Formatter<'_> {
    fn pointer(&self, out: &mut String, p: u64) {
        // crash's `p -d` leaves pointers in hex.
        let _ = write!(out, "{p:#x}");
        if p != 0 {
            if let Some((name, off)) = self.k.symbol_near(p) {
                if off == 0 {
                    let _ = write!(out, " <{name}>");
                } else {
                    let _ = write!(out, " <{name}+{off}>");
                }
            }
        }
    }

    fn int(&self, out: &mut String, s: &Scalar, size: u64, bits: Option<(u32, u32)>) {
        let width = bits.map(|b| b.1).unwrap_or((size.min(8) * 8) as u32);
        let hex = |v: i64| {
            let u = v as u64;
            if width >= 64 {
                u
            } else {
                u & ((1u64 << width) - 1)
            }
        };
        match (s, self.opts.radix) {
            (Scalar::Signed(v), Radix::Hex) => {
                let _ = write!(out, "{:#x}", hex(*v));
            }
            (Scalar::Unsigned(v), Radix::Hex) => {
                let _ = write!(out, "{v:#x}");
            }
            (Scalar::Signed(v), _) => {
                let _ = write!(out, "{v}");
            }
            (Scalar::Unsigned(v), _) => {
                let _ = write!(out, "{v}");
            }
            (Scalar::Char { value, byte }, Radix::Hex) => {
                let _ = (value, byte);
                let _ = write!(out, "{:#x}", hex(*value));
            }
            (Scalar::Char { value, byte }, _) => {
                let _ = write!(out, "{value} '{}'", escape_c(&[*byte], '\''));
            }
            (Scalar::Bool(b), Radix::Hex) => {
                let _ = write!(out, "{:#x}", u8::from(*b));
            }
            (Scalar::Bool(b), _) => {
                let _ = write!(out, "{b}");
            }
            (Scalar::Float(f), _) => {
                let _ = write!(out, "{f}");
            }
            (Scalar::Enum { value, .. }, Radix::Hex) => {
                let _ = write!(out, "{:#x}", hex(*value));
            }
            (Scalar::Enum { value, name }, _) => match name {
                Some(n) => out.push_str(n),
                None => {
                    let _ = write!(out, "{value}");
                }
            },
            (Scalar::Pointer(p), _) => self.pointer(out, *p),
        }
    }

    fn value(
        &self,
        out: &mut String,
        ty: TypeId,
        bytes: &[u8],
        addr: Option<u64>,
        bits: Option<(u32, u32)>,
        level: usize,
    ) -> Result<()> {
        let types = self.types;
        let r = types.resolve(ty)?;
        let t = types.get(r)?;
        match &*t {
            Type::Struct { members, .. } => {
                if members.is_empty() {
                    out.push_str("{<No data fields>}");
                    return Ok(());
                }
                out.push_str("{\n");
                for (i, m) in members.iter().enumerate() {
                    indent(out, level + 1);
                    if let Some(n) = &m.name {
                        out.push_str(n);
                        out.push_str(" = ");
                    }
                    let off = usize::try_from(m.offset).unwrap_or(usize::MAX);
                    let sub = bytes.get(off..).unwrap_or(&[]);
                    let sub_addr = addr.and_then(|a| a.checked_add(m.offset));
                    let mbits = m.bit_offset.zip(m.bit_size);
                    self.value(out, m.ty, sub, sub_addr, mbits, level + 1)?;
                    if i + 1 < members.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                indent(out, level);
                out.push('}');
            }
            Type::Array { elem, count } => {
                let count = count.unwrap_or(0);
                if count == 0 {
                    // A flexible or zero-length array: gdb shows where it starts and, for
                    // characters, the string stored there.
                    self.pointer(out, addr.unwrap_or(0));
                    if is_char(types, *elem) {
                        let text = addr
                            .and_then(|a| read_c_string(self.k, a, self.opts.max_elements).ok())
                            .unwrap_or_default();
                        let _ = write!(out, " \"{}\"", escape_c(text.as_bytes(), '"'));
                    }
                    return Ok(());
                }
                let esize = types.size_of(*elem).unwrap_or(0);
                if is_char(types, *elem) && esize == 1 && self.opts.radix != Radix::Hex {
                    let n = (count as usize).min(bytes.len());
                    let mut s = &bytes[..n];
                    // gdb drops one trailing NUL of a char array.
                    if s.last() == Some(&0) {
                        s = &s[..s.len() - 1];
                    }
                    let shown = char_array_cut(s, self.opts.max_elements);
                    let _ = write!(out, "\"{}\"", escape_c(&s[..shown], '"'));
                    if shown < s.len() {
                        out.push_str("...");
                    }
                    return Ok(());
                }
                out.push('{');
                let shown = (count as usize).min(self.opts.max_elements);
                for i in 0..shown {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let off = (i as u64).saturating_mul(esize);
                    let o = usize::try_from(off).unwrap_or(usize::MAX);
                    let sub = bytes.get(o..).unwrap_or(&[]);
                    let sub_addr = addr.and_then(|a| a.checked_add(off));
                    self.value(out, *elem, sub, sub_addr, None, level + 1)?;
                }
                if (count as usize) > shown {
                    out.push_str("...");
                }
                out.push('}');
            }
            Type::Pointer { target, size } => {
                let p = raw_from(bytes, *size, None);
                self.pointer(out, p);
                if p != 0 && target.is_some_and(|tg| is_char(types, tg)) {
                    match read_c_string(self.k, p, self.opts.max_elements) {
                        Ok(s) => {
                            let _ = write!(out, " \"{}\"", escape_c(s.as_bytes(), '"'));
                            if s.len() >= self.opts.max_elements {
                                out.push_str("...");
                            }
                        }
                        Err(_) => {
                            let _ = write!(out, " <error: Cannot access memory at address {p:#x}>");
                        }
                    }
                }
            }
            Type::Base { size, .. } | Type::Enum { size, .. } => {
                let raw = raw_from(bytes, *size, bits);
                let s = decode_scalar(types, ty, &t, raw, bits)?;
                self.int(out, &s, *size, bits);
            }
            Type::Function { .. } => {
                out.push('{');
                out.push_str(&types.type_name(ty));
                out.push_str("} ");
                self.pointer(out, addr.unwrap_or(0));
            }
            Type::Void => out.push_str("void"),
            Type::Typedef { .. } | Type::Qualified { .. } => out.push_str("<unresolved>"),
        }
        Ok(())
    }
}

/// How many bytes of a `char` array gdb (and so crash) prints before `...`: whole runs of equal
/// bytes, until `max` elements have been reached.
fn char_array_cut(s: &[u8], max: usize) -> usize {
    let (mut end, mut total) = (0, 0);
    while end < s.len() && total < max {
        let run = s[end..].iter().take_while(|&&b| b == s[end]).count();
        end += run;
        total += run;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::char_array_cut;

    #[test]
    fn char_arrays_are_cut_after_whole_runs() {
        // Short strings print whole.
        assert_eq!(char_array_cut(b"rkd_abba_1\0\0\0\0\0", 200), 15);
        // The run that reaches the limit prints whole, then the cut (crash's xsave padding).
        let mut s = vec![0x7f, 3];
        s.extend([0; 22]);
        s.extend([0x80, 0x1f]);
        s.extend([0; 487]);
        s.push(b'@');
        s.extend([0; 18]);
        assert_eq!(char_array_cut(&s, 200), 513);
        // One long run is not cut at all.
        assert_eq!(char_array_cut(&[0; 4095], 200), 4095);
        assert_eq!(char_array_cut(b"", 200), 0);
    }
}
