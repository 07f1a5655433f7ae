//! C declarations of types, as crash's `whatis` and `struct -o` print them: struct and union
//! bodies with four spaces per level (anonymous members expanded), optional `[offset]` columns,
//! enums with their values, typedefs.
//!
//! Must not import `session` or `commands`.

use super::Result;
use crate::debuginfo::{Member, StructKind, Type, TypeId, TypeIndex};
use std::fmt::Write as _;

/// `type name` as a C declarator: `struct list_head *next`, `char comm[16]`,
/// `void (*func)(struct callback_head *)`.
pub fn declare(types: &TypeIndex, ty: TypeId, name: &str) -> String {
    let tn = types.type_name(ty);
    if let Some(i) = tn.find("(*") {
        return format!("{}{}{}", &tn[..i + 2], name, &tn[i + 2..]);
    }
    if let Some(i) = tn.find('[') {
        let left = tn[..i].trim_end();
        let sep = if left.ends_with('*') { "" } else { " " };
        return format!("{left}{sep}{name}{}", &tn[i..]);
    }
    if tn.ends_with('*') {
        format!("{tn}{name}")
    } else {
        format!("{tn} {name}")
    }
}

/// One line of a struct layout: what `struct -o` prints, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutLine {
    /// Nesting depth (1 for direct members).
    pub depth: usize,
    /// Byte offset from the outer struct, for member lines.
    pub offset: Option<u64>,
    /// The text: a declaration (`int x;`), an opening (`union {`) or a closing (`};`).
    pub text: String,
}

/// The layout of struct/union `ty` as lines, anonymous members expanded.
pub fn layout(types: &TypeIndex, ty: TypeId) -> Result<Vec<LayoutLine>> {
    let mut out = Vec::new();
    let members = types.members(ty)?;
    walk(types, &members, 0, 1, &mut out)?;
    Ok(out)
}

fn walk(
    types: &TypeIndex,
    members: &[Member],
    base: u64,
    depth: usize,
    out: &mut Vec<LayoutLine>,
) -> Result<()> {
    if depth > 32 {
        return Ok(());
    }
    for m in members {
        let off = base.saturating_add(m.offset);
        let anon_aggregate = match types.get(m.ty).as_deref() {
            Ok(Type::Struct {
                kind,
                name: None,
                members,
                ..
            }) => Some((*kind, members.clone())),
            _ => None,
        };
        match (&m.name, anon_aggregate) {
            // `struct { … } b;`: a named member of an anonymous type is expanded in place.
            (Some(n), Some((kind, inner))) => {
                nested(types, kind, &inner, off, depth, format!("}} {n};"), out)?;
            }
            (Some(n), None) => {
                let mut text = declare(types, m.ty, n);
                if let Some(bs) = m.bit_size {
                    let _ = write!(text, " : {bs}");
                }
                text.push(';');
                out.push(LayoutLine {
                    depth,
                    offset: Some(off),
                    text,
                });
            }
            (None, _) => {
                let r = types.resolve(m.ty)?;
                let t = types.get(r)?;
                let (kind, inner) = match &*t {
                    Type::Struct { kind, members, .. } => (*kind, members.clone()),
                    _ => continue,
                };
                nested(types, kind, &inner, off, depth, "};".into(), out)?;
            }
        }
    }
    Ok(())
}

/// An anonymous struct or union laid out in place: `struct {`, its members one level deeper,
/// then `closing` (`};` or `} name;`).
fn nested(
    types: &TypeIndex,
    kind: StructKind,
    inner: &[Member],
    off: u64,
    depth: usize,
    closing: String,
    out: &mut Vec<LayoutLine>,
) -> Result<()> {
    let kw = if kind == StructKind::Union {
        "union"
    } else {
        "struct"
    };
    out.push(LayoutLine {
        depth,
        offset: None,
        text: format!("{kw} {{"),
    });
    walk(types, inner, off, depth + 1, out)?;
    out.push(LayoutLine {
        depth,
        offset: None,
        text: closing,
    });
    Ok(())
}

/// The C definition of `ty` as crash prints it (`struct X {…}` / `enum X {…};` /
/// `typedef T X;`), with `[offset]` columns when `offsets`, followed by `SIZE: n` for sized
/// types.
pub fn definition(types: &TypeIndex, ty: TypeId, offsets: bool) -> Result<String> {
    let t = types.get(ty)?;
    let mut s = String::new();
    match &*t {
        Type::Struct { .. } => {
            let lines = layout(types, ty)?;
            let _ = writeln!(s, "{} {{", types.type_name(ty));
            let maxoff = lines.iter().filter_map(|l| l.offset).max().unwrap_or(0);
            let width = maxoff.to_string().len().max(2) + 4;
            for l in &lines {
                let pad = "    ".repeat(l.depth.saturating_sub(1));
                if offsets {
                    let col = match l.offset {
                        Some(o) => format!("{:>width$}", format!("[{o}]")),
                        None => " ".repeat(width),
                    };
                    let _ = writeln!(s, "{col} {pad}{}", l.text);
                } else {
                    let _ = writeln!(s, "    {pad}{}", l.text);
                }
            }
            s.push_str("}\n");
        }
        Type::Enum { enumerators, .. } => {
            let _ = writeln!(s, "{} {{", types.type_name(ty));
            for (n, v) in enumerators {
                let _ = writeln!(s, "  {n} = {v}");
            }
            s.push_str("};\n");
        }
        Type::Typedef { name, target } => {
            // crash shows the typedef chain resolved: `typedef int pid_t;`.
            let target = target.unwrap_or(TypeId::VOID);
            let target = match &*types.get(target)? {
                Type::Typedef { .. } => types.resolve(target)?,
                _ => target,
            };
            let _ = writeln!(s, "typedef {};", declare(types, target, name));
        }
        _ => {
            let _ = writeln!(s, "{};", types.type_name(ty));
        }
    }
    // crash prints no size after an enum body.
    if !matches!(&*t, Type::Enum { .. }) {
        if let Ok(n) = types.size_of(ty) {
            let _ = writeln!(s, "SIZE: {n}");
        }
    }
    Ok(s)
}
