//! Type introspection: `sizeof(type)`, `member_offset(type, "a.b")` and `member_size(type,
//! "a.b")` (-1 when absent), `has_member`, `type_exists`, `enum_info("enum X")` (map name →
//! value), `enum_name(type, value)`; PyKdump's `struct_size`, `member_size`, `EnumInfo`.
//!
//! ```rhai
//! if member_size("struct elevator_queue", "elevator_type") != -1 { print("has elevator_type"); }
//! ```

use crate::debuginfo::{Type, TypeId, TypeIndex};
use crate::register_aliases;
use crate::script::error::{from_error, runtime};
use crate::script::HostContext;
use rhai::{Dynamic, Engine, EvalAltResult, Map, INT};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

fn types(ctx: &HostContext) -> R<&TypeIndex> {
    ctx.session.types().map_err(from_error)
}

fn find(t: &TypeIndex, name: &str) -> Option<TypeId> {
    t.find_type(name.trim())
}

fn require(t: &TypeIndex, name: &str) -> R<TypeId> {
    find(t, name).ok_or_else(|| runtime("type", format!("no type named '{name}'"), None))
}

fn enumerators(t: &TypeIndex, id: TypeId) -> R<Vec<(String, i64)>> {
    let id = t.resolve(id).map_err(|e| from_error(e.into()))?;
    match &*t.get(id).map_err(|e| from_error(e.into()))? {
        Type::Enum { enumerators, .. } => Ok(enumerators.clone()),
        _ => Err(runtime(
            "type",
            format!("'{}' is not an enum", t.type_name(id)),
            None,
        )),
    }
}

/// Registers the type functions.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["sizeof", "struct_size"],
        move |name: &str| -> R<INT> {
            let t = types(&c)?;
            let id = require(t, name)?;
            t.size_of(id)
                .map(|s| s as INT)
                .map_err(|e| from_error(e.into()))
        }
    );
    let c = ctx.clone();
    engine.register_fn("member_offset", move |ty: &str, path: &str| -> R<INT> {
        let t = types(&c)?;
        Ok(find(t, ty)
            .and_then(|id| t.member(id, path).ok())
            .map(|m| m.offset as INT)
            .unwrap_or(-1))
    });
    let c = ctx.clone();
    engine.register_fn("member_size", move |ty: &str, path: &str| -> R<INT> {
        let t = types(&c)?;
        Ok(find(t, ty)
            .and_then(|id| t.member(id, path).ok())
            .and_then(|m| t.size_of(m.ty).ok())
            .map(|s| s as INT)
            .unwrap_or(-1))
    });
    let c = ctx.clone();
    engine.register_fn("has_member", move |ty: &str, path: &str| -> R<bool> {
        let t = types(&c)?;
        Ok(find(t, ty).is_some_and(|id| t.member(id, path).is_ok()))
    });
    let c = ctx.clone();
    engine.register_fn("type_exists", move |ty: &str| -> R<bool> {
        Ok(find(types(&c)?, ty).is_some())
    });
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["enum_info", "EnumInfo"],
        move |ty: &str| -> R<Map> {
            let t = types(&c)?;
            // An anonymous enum (`enum { TCP_ESTABLISHED = 1, … }`) is named by one of its
            // enumerators: `enum_info("TCP_LISTEN")`.
            let id = match find(t, ty) {
                Some(id) => id,
                None => t.enumerator(ty).map(|(id, _)| id).ok_or_else(|| {
                    runtime("type", format!("no type or enumerator named '{ty}'"), None)
                })?,
            };
            Ok(enumerators(t, id)?
                .into_iter()
                .map(|(n, v)| (n.into(), Dynamic::from(v)))
                .collect())
        }
    );
    let c = ctx.clone();
    engine.register_fn("enum_name", move |ty: &str, value: INT| -> R<String> {
        let t = types(&c)?;
        let id = require(t, ty)?;
        Ok(enumerators(t, id)?
            .into_iter()
            .find(|(_, v)| *v == value)
            .map(|(n, _)| n)
            .unwrap_or_default())
    });
    let c = ctx.clone();
    engine.register_fn("enum_value", move |name: &str| -> R<INT> {
        types(&c)?
            .enumerator(name)
            .map(|(_, v)| v)
            .ok_or_else(|| runtime("type", format!("no enumerator named '{name}'"), None))
    });
}
