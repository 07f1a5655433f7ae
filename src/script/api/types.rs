//! Type introspection: `sizeof(type)`, `member_offset(type, "a.b")` and `member_size(type,
//! "a.b")` (-1 when absent), `has_member`, `type_exists`, `enum_info("enum X")` (map name →
//! value), `enum_name(type, value)`; PyKdump's `struct_size`, `member_size`, `EnumInfo`.
//!
//! Types the vmlinux only declares come from the module that defines them; a module's own
//! type is named `"module:struct x"`:
//!
//! ```rhai
//! print(sizeof("struct mapped_device"));                 // dm_mod's definition
//! print(sizeof("dm_round_robin:struct path_info"));      // that module's path_info
//! if member_size("struct elevator_queue", "elevator_type") != -1 { print("has elevator_type"); }
//! ```

use crate::debuginfo::{Type, TypeId, TypeIndex};
use crate::linux::type_scope::ScopedType;
use crate::register_aliases;
use crate::script::error::{from_error, runtime};
use crate::script::HostContext;
use rhai::{Dynamic, Engine, EvalAltResult, Map, INT};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

fn types(ctx: &HostContext) -> R<&TypeIndex> {
    ctx.session.types().map_err(from_error)
}

/// The type called `name` in the file that defines it (see `type_scope.rs`): its index and id.
fn find<'a>(ctx: &'a HostContext, name: &str) -> Option<(ScopedType, &'a HostContext)> {
    ctx.session.lookup_type(name).ok().map(|st| (st, ctx))
}

/// Runs `f` on the index and id of type `name`, `None` when there is no such type.
fn with_type<T>(
    ctx: &HostContext,
    name: &str,
    f: impl FnOnce(&TypeIndex, TypeId) -> T,
) -> Option<T> {
    let (st, ctx) = find(ctx, name)?;
    let t = st.types(&ctx.session).ok()?;
    Some(f(t, st.id))
}

fn require<T>(ctx: &HostContext, name: &str, f: impl FnOnce(&TypeIndex, TypeId) -> R<T>) -> R<T> {
    with_type(ctx, name, f)
        .unwrap_or_else(|| Err(runtime("type", format!("no type named '{name}'"), None)))
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

/// Registers the type functions. Type names follow `type_scope.rs`: a complete definition
/// from the vmlinux or a module, or `"module:struct x"` for one module's.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["sizeof", "struct_size"],
        move |name: &str| -> R<INT> {
            require(&c, name, |t, id| {
                t.size_of(id)
                    .map(|s| s as INT)
                    .map_err(|e| from_error(e.into()))
            })
        }
    );
    let c = ctx.clone();
    engine.register_fn("member_offset", move |ty: &str, path: &str| -> INT {
        with_type(&c, ty, |t, id| {
            t.member(id, path).ok().map(|m| m.offset as INT)
        })
        .flatten()
        .unwrap_or(-1)
    });
    let c = ctx.clone();
    engine.register_fn("member_size", move |ty: &str, path: &str| -> INT {
        with_type(&c, ty, |t, id| {
            t.member(id, path)
                .ok()
                .and_then(|m| t.size_of(m.ty).ok())
                .map(|s| s as INT)
        })
        .flatten()
        .unwrap_or(-1)
    });
    let c = ctx.clone();
    engine.register_fn("has_member", move |ty: &str, path: &str| -> bool {
        with_type(&c, ty, |t, id| t.member(id, path).is_ok()).unwrap_or(false)
    });
    let c = ctx.clone();
    engine.register_fn("type_exists", move |ty: &str| -> bool {
        c.session.type_exists(ty)
    });
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["enum_info", "EnumInfo"],
        move |ty: &str| -> R<Map> {
            let map = |t: &TypeIndex, id: TypeId| -> R<Map> {
                Ok(enumerators(t, id)?
                    .into_iter()
                    .map(|(n, v)| (n.into(), Dynamic::from(v)))
                    .collect())
            };
            if let Some(r) = with_type(&c, ty, map) {
                return r;
            }
            // An anonymous enum (`enum { TCP_ESTABLISHED = 1, … }`) is named by one of its
            // enumerators: `enum_info("TCP_LISTEN")`.
            let t = types(&c)?;
            let (id, _) = t.enumerator(ty).ok_or_else(|| {
                runtime("type", format!("no type or enumerator named '{ty}'"), None)
            })?;
            map(t, id)
        }
    );
    let c = ctx.clone();
    engine.register_fn("enum_name", move |ty: &str, value: INT| -> R<String> {
        require(&c, ty, |t, id| {
            Ok(enumerators(t, id)?
                .into_iter()
                .find(|(_, v)| *v == value)
                .map(|(n, _)| n)
                .unwrap_or_default())
        })
    });
    let c = ctx.clone();
    engine.register_fn("enum_value", move |name: &str| -> R<INT> {
        types(&c)?
            .enumerator(name)
            .map(|(_, v)| v)
            .ok_or_else(|| runtime("type", format!("no enumerator named '{name}'"), None))
    });
}
