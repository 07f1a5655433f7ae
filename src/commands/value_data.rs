//! Structured results of the value commands: `cmd("struct T")` gives the type's layout,
//! `cmd("struct T ADDR")` and `cmd("p EXPR")` the value as nested maps and lists.
//!
//! Must not import `script` or `repl`.

use super::Data;
use crate::debuginfo::{BaseEncoding, Type, TypeId, TypeIndex};
use crate::error::Result;
use crate::value::{Scalar, Target, Value};

/// Deepest nesting of structs and arrays turned into maps and lists.
const MAX_DEPTH: usize = 6;
/// Most array elements listed.
const MAX_ELEMENTS: u64 = 256;

/// The layout of type `ty`: `{type, size, module, members: [{name, offset, size, type,
/// bit_offset, bit_size}]}` (anonymous members have name `null`).
pub fn layout_data(types: &TypeIndex, ty: TypeId, module: Option<&str>) -> Result<Data> {
    let members = match types.members(ty) {
        Ok(ms) => ms
            .into_iter()
            .map(|m| {
                Data::map([
                    ("name", Data::opt_str(m.name.as_deref())),
                    ("offset", Data::Uint(m.offset)),
                    (
                        "size",
                        types.size_of(m.ty).map(Data::Uint).unwrap_or(Data::Null),
                    ),
                    ("type", Data::Str(types.type_name(m.ty))),
                    ("bit_offset", Data::opt_int(m.bit_offset)),
                    ("bit_size", Data::opt_int(m.bit_size)),
                ])
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    Ok(Data::map([
        ("type", Data::Str(types.type_name(ty))),
        (
            "size",
            types.size_of(ty).map(Data::Uint).unwrap_or(Data::Null),
        ),
        ("module", Data::opt_str(module)),
        ("members", Data::List(members)),
    ]))
}

/// An object as data: `{type, address, module, value}`.
pub fn object_data(k: &dyn Target, v: &Value, module: Option<&str>) -> Result<Data> {
    let types = k.type_index()?;
    Ok(Data::map([
        ("type", Data::Str(types.type_name(v.ty()))),
        ("address", v.address().map(Data::addr).unwrap_or(Data::Null)),
        ("module", Data::opt_str(module)),
        ("value", value_data(k, v, 0)),
    ]))
}

/// A value as data: integers and pointers as numbers, `char` arrays as strings, structs and
/// unions as maps of their members (anonymous members' members merged), arrays as lists.
/// What cannot be read is `null`.
pub fn value_data(k: &dyn Target, v: &Value, depth: usize) -> Data {
    let Ok(t) = v.resolved_type(k) else {
        return Data::Null;
    };
    match &*t {
        Type::Struct { .. } if depth < MAX_DEPTH => {
            let mut fields = Vec::new();
            struct_fields(k, v, depth, &mut fields);
            Data::Map(fields)
        }
        Type::Array { elem, count } if depth < MAX_DEPTH => {
            let is_char = k
                .type_index()
                .ok()
                .and_then(|ti| ti.resolve(*elem).ok().and_then(|r| ti.get(r).ok()))
                .is_some_and(|e| {
                    matches!(
                        &*e,
                        Type::Base {
                            size: 1,
                            encoding: BaseEncoding::SignedChar | BaseEncoding::UnsignedChar,
                            ..
                        }
                    )
                });
            if is_char {
                return v.string(k).map(Data::Str).unwrap_or(Data::Null);
            }
            let n = count.unwrap_or(0).min(MAX_ELEMENTS);
            Data::list((0..n as i64).map(|i| {
                v.index(k, i)
                    .map(|e| value_data(k, &e, depth + 1))
                    .unwrap_or(Data::Null)
            }))
        }
        Type::Struct { .. } | Type::Array { .. } | Type::Function { .. } | Type::Void => Data::Null,
        _ => match v.scalar(k) {
            Ok(Scalar::Signed(i)) => Data::Int(i),
            Ok(Scalar::Float(f)) => Data::Float(f),
            Ok(s) => Data::Uint(s.as_u64()),
            Err(_) => Data::Null,
        },
    }
}

fn struct_fields(k: &dyn Target, v: &Value, depth: usize, out: &mut Vec<(String, Data)>) {
    let Ok(members) = v.members(k) else {
        return;
    };
    for (name, mv) in members {
        match name {
            Some(n) => out.push((n, value_data(k, &mv, depth + 1))),
            None => struct_fields(k, &mv, depth, out),
        }
    }
}
