//! `struct`, `union` and the `*type` shorthand: print a type's definition (with `-o`
//! offsets), or objects of that type at an address, whole or by member, as crash does.
//! Also the helpers the other value commands share (type and address arguments, radix).
//!
//! Must not import `script` or `repl`.

use super::{parse_address, Command, Opts};
use crate::debuginfo::TypeId;
use crate::error::{Error, Result};
use crate::linux::type_scope::{split_module_selector, ScopedType};
use crate::session::Session;
use crate::value::decl::{definition, layout};
use crate::value::format::{format_member_line, format_value, FormatOptions, Radix};
use crate::value::{expr, Target, Value};
use std::io::Write;

/// The `struct` command (and `union`, by keyword).
pub struct StructCmd {
    keyword: &'static str,
}

impl StructCmd {
    /// `struct`.
    pub fn structs() -> Self {
        Self { keyword: "struct" }
    }
    /// `union`.
    pub fn unions() -> Self {
        Self { keyword: "union" }
    }
}

const STRUCT_USAGE: &str = "\
struct struct_name[.member[,member]] [-o] [-x|-d] [ADDRESS|SYMBOL[+OFF]] [COUNT]
  (also: union NAME…, and *NAME ADDRESS as a shorthand for struct/union NAME ADDRESS)
  Without an address, prints the definition of the type; with one, the object(s) there.
  .member[,member]  only these members (dotted paths like se.avg.load_avg allowed)
  -o                show member offsets (with an address: member addresses)
  -x / -d           integers in hexadecimal / decimal
  COUNT             number of consecutive objects; negative: objects ending at ADDRESS";

const UNION_USAGE: &str = "\
union union_name[.member[,member]] [-o] [-x|-d] [ADDRESS|SYMBOL[+OFF]] [COUNT]
  Like struct, for unions.";

/// The radix asked for by `-x`/`-d`.
pub(crate) fn radix(o: &Opts) -> Radix {
    if o.has("x") {
        Radix::Hex
    } else if o.has("d") {
        Radix::Decimal
    } else {
        Radix::Natural
    }
}

/// What `list` and `tree` print for each entry: the `-s`/`-S` member spec and the radix.
pub(crate) fn entry_format(
    session: &Session,
    o: &Opts,
) -> Result<(Option<StructSpec>, FormatOptions)> {
    let spec = o
        .value("s")
        .or(o.value("S"))
        .map(|s| StructSpec::parse(session, s))
        .transpose()?;
    let fo = FormatOptions {
        radix: radix(o),
        ..FormatOptions::default()
    };
    Ok((spec, fo))
}

/// Finds a type named on a command line: `task_struct` tries `keyword task_struct` first, then
/// the bare name (typedefs, base types), and explicit `struct x`/`union x`/`enum x` spellings.
/// A complete definition beats a declaration, from the vmlinux or a module; `MODULE:name`
/// (`dm_round_robin:path_info`) picks one module's definition (see `type_scope.rs`).
pub(crate) fn lookup_type(session: &Session, keyword: &str, name: &str) -> Result<ScopedType> {
    let (module, bare) = split_module_selector(name);
    let prefix = module.map(|m| format!("{m}:")).unwrap_or_default();
    let explicit = ["struct ", "union ", "enum "]
        .iter()
        .any(|k| bare.starts_with(k));
    let specs: Vec<String> = if explicit {
        vec![format!("{prefix}{bare}")]
    } else {
        vec![
            format!("{prefix}{keyword} {bare}"),
            format!("{prefix}{bare}"),
        ]
    };
    session.lookup_type_first(&specs).map_err(|e| match e {
        Error::Kernel(m) if m.starts_with("no type named") => {
            Error::Value(crate::value::ValueError::NoType(name.to_string()))
        }
        other => other,
    })
}

/// Parses an address argument: a number, `symbol[+off]`, or a `p` expression whose value is a
/// pointer (its value) or an object in memory (its address).
pub(crate) fn address_arg(session: &Session, word: &str) -> Result<u64> {
    if let Ok(a) = parse_address(session, word) {
        return Ok(a);
    }
    let e = expr::parse(session, word)?;
    let v = expr::eval(session, &e, None)?;
    let t = v.resolved_type(session)?;
    if matches!(&*t, crate::debuginfo::Type::Pointer { .. })
        || matches!(&*t, crate::debuginfo::Type::Base { .. })
    {
        return Ok(v.to_u64(session)?);
    }
    v.address()
        .ok_or_else(|| Error::Usage(format!("{word}: not an address")))
}

/// Reads `count` consecutive objects of type `ty` at `addr` (a negative count gives the
/// objects that end at `addr`, in address order).
pub fn read_objects(k: &dyn Target, ty: TypeId, addr: u64, count: i64) -> Result<Vec<Value>> {
    let size = k.type_index()?.size_of(ty)?;
    let n = count.unsigned_abs().max(1);
    let start = if count < 0 {
        addr.checked_sub((n - 1).saturating_mul(size))
            .ok_or_else(|| Error::Usage(format!("count {count} reaches below address 0")))?
    } else {
        addr
    };
    (0..n)
        .map(|i| {
            let a = i
                .checked_mul(size)
                .and_then(|d| start.checked_add(d))
                .ok_or_else(|| Error::Usage("address overflow".into()))?;
            Ok(Value::at(ty, a))
        })
        .collect()
}

/// Prints `struct NAME ...` for any keyword: shared by `struct`, `union` and `*NAME`.
pub(crate) fn run_struct(
    session: &Session,
    keyword: &str,
    args: &[String],
    out: &mut dyn Write,
) -> Result<()> {
    let o = Opts::parse(keyword, args, "oxdfpl", "", &[])?;
    let Some(spec) = o.positional.first() else {
        return Err(Error::Usage(format!(
            "{keyword}: missing type name\nusage: {}",
            if keyword == "union" {
                UNION_USAGE
            } else {
                STRUCT_USAGE
            }
        )));
    };
    let (tname, members) = match spec.split_once('.') {
        Some((t, m)) => (
            t,
            m.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        None => (spec.as_str(), Vec::<String>::new()),
    };
    let st = lookup_type(session, keyword, tname)?;
    let ty = st.id;
    let target = st.target(session);
    let k: &dyn Target = &*target;
    let types = k.type_index()?;
    // Check members before reading anything, so a typo is reported as such.
    for m in &members {
        if !Value::at(ty, 0).has_member(k, m) {
            return Err(Error::Value(crate::value::ValueError::NoMember {
                type_name: types.type_name(ty),
                member: m.clone(),
            }));
        }
    }
    let opts = FormatOptions {
        radix: radix(&o),
        ..FormatOptions::default()
    };
    let Some(addr_word) = o.positional.get(1) else {
        if members.is_empty() {
            out.write_all(definition(types, ty, o.has("o"))?.as_bytes())?;
        } else {
            writeln!(out, "{} {{", types.type_name(ty))?;
            for m in &members {
                let mi = types.member(ty, m)?;
                let decl = crate::value::decl::declare(types, mi.ty, m);
                let bits = mi.bit_size.map(|b| format!(" : {b}")).unwrap_or_default();
                if o.has("o") {
                    writeln!(out, "  [{}] {decl}{bits};", mi.offset)?;
                } else {
                    writeln!(out, "  {decl}{bits};")?;
                }
            }
            writeln!(out, "}}")?;
        }
        return Ok(());
    };
    let addr = address_arg(session, addr_word)?;
    let count = match o.positional.get(2) {
        Some(c) => c
            .parse::<i64>()
            .ok()
            .or_else(|| super::args::parse_number(c).map(|v| v as i64))
            .ok_or_else(|| Error::Usage(format!("{keyword}: invalid count {c}")))?,
        None => 1,
    };
    for obj in read_objects(k, ty, addr, count)? {
        let base = obj.address().unwrap_or(0);
        if o.has("o") && !members.is_empty() {
            writeln!(out, "{} {{", types.type_name(ty))?;
            for m in &members {
                let mi = types.member(ty, m)?;
                let decl = crate::value::decl::declare(types, mi.ty, m);
                let bits = mi.bit_size.map(|b| format!(" : {b}")).unwrap_or_default();
                writeln!(out, "  [{:x}] {decl}{bits};", base.wrapping_add(mi.offset))?;
            }
            writeln!(out, "}}")?;
            continue;
        }
        if o.has("o") {
            writeln!(out, "{} {{", types.type_name(ty))?;
            for l in layout(types, ty)? {
                let pad = "    ".repeat(l.depth.saturating_sub(1));
                match l.offset {
                    Some(off) => writeln!(out, "  [{:x}] {pad}{}", base.wrapping_add(off), l.text)?,
                    None => writeln!(out, "  {:18} {pad}{}", "", l.text)?,
                }
            }
            writeln!(out, "}}")?;
            continue;
        }
        if members.is_empty() {
            writeln!(
                out,
                "{} {}",
                types.type_name(ty),
                format_value(k, &obj, &opts)?
            )?;
        } else {
            for m in &members {
                let v = obj.member(k, m)?;
                writeln!(out, "{}", format_member_line(k, m, &v, &opts)?)?;
            }
        }
    }
    Ok(())
}

impl Command for StructCmd {
    fn name(&self) -> &'static str {
        self.keyword
    }
    fn summary(&self) -> &'static str {
        if self.keyword == "union" {
            "union contents"
        } else {
            "structure contents"
        }
    }
    fn usage(&self) -> &'static str {
        if self.keyword == "union" {
            UNION_USAGE
        } else {
            STRUCT_USAGE
        }
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        run_struct(session, self.keyword, args, out)
    }
    /// Without an address, the type's layout (`type`, `size`, `module`, `members`); with
    /// one, the object (`type`, `address`, `module`, `value`; a list for a count).
    fn data(&self, session: &Session, args: &[String]) -> Result<super::Data> {
        struct_data(session, self.keyword, args)
    }
}

/// The structured result of `struct`/`union` (see [`StructCmd`]'s `data`).
pub(crate) fn struct_data(
    session: &Session,
    keyword: &str,
    args: &[String],
) -> Result<super::Data> {
    use super::value_data::{layout_data, object_data};
    let o = Opts::parse(keyword, args, "oxdfpl", "", &[])?;
    let spec = o
        .positional
        .first()
        .ok_or_else(|| Error::Usage(format!("{keyword}: missing type name")))?;
    let tname = spec.split_once('.').map_or(spec.as_str(), |(t, _)| t);
    let st = lookup_type(session, keyword, tname)?;
    let module = st.scope.module_name().map(str::to_string);
    let target = st.target(session);
    let k: &dyn Target = &*target;
    let Some(addr_word) = o.positional.get(1) else {
        return layout_data(k.type_index()?, st.id, module.as_deref());
    };
    let addr = address_arg(session, addr_word)?;
    let count = o
        .positional
        .get(2)
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(1);
    let objs = read_objects(k, st.id, addr, count)?
        .iter()
        .map(|v| object_data(k, v, module.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    Ok(super::Data::one_or_list(objs))
}

/// A `-s struct[.member[,member]]` argument of `list` and `tree`.
#[derive(Debug, Clone)]
pub(crate) struct StructSpec {
    ty: ScopedType,
    members: Vec<String>,
}

impl StructSpec {
    /// Parses `task_struct.pid,comm`.
    pub(crate) fn parse(session: &Session, spec: &str) -> Result<Self> {
        let (t, m) = spec.split_once('.').unwrap_or((spec, ""));
        let ty = lookup_type(session, "struct", t)?;
        let members: Vec<String> = m
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let k = ty.target(session);
        for mm in &members {
            if !Value::at(ty.id, 0).has_member(&*k, mm) {
                return Err(Error::Value(crate::value::ValueError::NoMember {
                    type_name: ty.type_name(session),
                    member: mm.clone(),
                }));
            }
        }
        Ok(Self { ty, members })
    }

    /// Prints the object at `addr` as `struct X {…}` or as member lines.
    pub(crate) fn print(
        &self,
        session: &Session,
        addr: u64,
        opts: &FormatOptions,
        out: &mut dyn Write,
    ) -> Result<()> {
        let obj = Value::at(self.ty.id, addr);
        let target = self.ty.target(session);
        let k: &dyn Target = &*target;
        if self.members.is_empty() {
            writeln!(
                out,
                "{} {}",
                self.ty.type_name(session),
                format_value(k, &obj, opts)?
            )?;
        } else {
            for m in &self.members {
                let v = obj.member(k, m)?;
                writeln!(out, "{}", format_member_line(k, m, &v, opts)?)?;
            }
        }
        Ok(())
    }
}

/// Parses an offset argument: a number or `struct.member`.
pub(crate) fn offset_arg(session: &Session, word: &str) -> Result<u64> {
    if let Some(v) = super::args::parse_number(word) {
        return Ok(v);
    }
    let (t, m) = word.split_once('.').ok_or_else(|| {
        Error::Usage(format!(
            "invalid offset '{word}': use a number or struct.member"
        ))
    })?;
    let ty = lookup_type(session, "struct", t)?;
    Ok(ty.types(session)?.member(ty.id, m)?.offset)
}
