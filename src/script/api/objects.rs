//! Kernel objects in Rhai: `KObj` wraps a typed [`Value`] and resolves members from DWARF at
//! run time. Member access is **pointer-transparent** (`t.mm.owner.comm`); a NULL pointer is a
//! null object that errors on member access; `char[]`/`char *` read as strings, integers,
//! enums and bitfields as INT; structs, unions, arrays and pointers to structs stay objects.
//!
//! ```rhai
//! let t = read_struct("struct task_struct", sym_addr("init_task"));
//! print(t.comm);                      // swapper/0
//! for m in t.se.avg.members() { print(`${m.name} = ${m.value}`); }
//! let pid1 = find_task(1);
//! print(pid1.mm.owner.comm);          // init
//! ```

use crate::debuginfo::{Type, TypeId, TypeIndex};
use crate::linux::type_scope::{ScopedTarget, ScopedType, TypeScope};
use crate::register_aliases;
use crate::script::error::{from_error, runtime};
use crate::script::HostContext;
use crate::session::Session;
use crate::value::{format, Value, ValueError};
use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, INT};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

/// A kernel object in a script.
#[derive(Clone)]
pub struct KObj {
    /// The value.
    pub value: Value,
    session: Arc<Session>,
    /// The file (vmlinux or module) whose DWARF the value's type comes from.
    scope: TypeScope,
}

impl std::fmt::Debug for KObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KObj({:?})", self.value)
    }
}

fn verr(e: ValueError) -> Box<EvalAltResult> {
    let addr = match &e {
        ValueError::Read { addr, .. } => Some(*addr),
        ValueError::NullPointer { at, .. } => *at,
        _ => None,
    };
    let kind = match &e {
        ValueError::NoMember { .. } => "member",
        ValueError::NullPointer { .. } => "null",
        ValueError::Read { .. } => "memory",
        ValueError::NoType(..) => "type",
        _ => "value",
    };
    runtime(kind, e.to_string(), addr)
}

fn types<'a>(s: &'a Session, scope: &'a TypeScope) -> R<&'a TypeIndex> {
    scope.types(s).map_err(from_error)
}

fn is_char(t: &TypeIndex, id: TypeId) -> bool {
    t.resolve(id)
        .ok()
        .and_then(|r| t.get(r).ok())
        .is_some_and(|ty| {
            matches!(&*ty, Type::Base { encoding, size: 1, .. }
                if matches!(encoding, crate::debuginfo::BaseEncoding::SignedChar
                    | crate::debuginfo::BaseEncoding::UnsignedChar))
        })
}

impl KObj {
    /// Wraps a value of a vmlinux type.
    pub fn new(value: Value, session: Arc<Session>) -> Self {
        Self::scoped(value, session, TypeScope::Vmlinux)
    }

    /// Wraps a value whose type belongs to `scope` (the vmlinux or a module).
    pub fn scoped(value: Value, session: Arc<Session>, scope: TypeScope) -> Self {
        Self {
            value,
            session,
            scope,
        }
    }

    /// The file whose types the value uses.
    pub fn scope(&self) -> &TypeScope {
        &self.scope
    }

    /// The target to read the value with (memory through the session, types of its scope).
    fn k(&self) -> ScopedTarget<'_> {
        self.scope.target(&self.session)
    }

    /// Whether this is a pointer (to a struct) rather than the struct itself.
    fn pointer_target(&self) -> R<Option<Option<TypeId>>> {
        let t = self.value.resolved_type(&*self.k()).map_err(verr)?;
        Ok(match &*t {
            Type::Pointer { target, .. } => Some(*target),
            _ => None,
        })
    }

    /// The address of the object (a pointer gives the address it holds).
    pub fn addr(&self) -> R<u64> {
        if self.pointer_target()?.is_some() {
            return self.value.to_u64(&*self.k()).map_err(verr);
        }
        self.value
            .address()
            .ok_or_else(|| runtime("value", "the value has no address".into(), None))
    }

    /// Whether this is a NULL pointer.
    pub fn is_null(&self) -> R<bool> {
        Ok(self.pointer_target()?.is_some() && self.value.to_u64(&*self.k()).map_err(verr)? == 0)
    }

    /// The object the value designates for member access: a pointer is followed.
    fn target(&self) -> R<Value> {
        if self.pointer_target()?.is_some() {
            return self.value.deref(&*self.k()).map_err(verr);
        }
        Ok(self.value.clone())
    }

    /// A member by dotted path, converted for scripts.
    pub fn get(&self, path: &str) -> R<Dynamic> {
        let v = self.value.member(&*self.k(), path).map_err(verr)?;
        to_dynamic_in(&self.session, &self.scope, v)
    }

    /// Element `i` of an array (or of what a pointer points to).
    pub fn at_index(&self, i: INT) -> R<Dynamic> {
        let v = self.value.index(&*self.k(), i).map_err(verr)?;
        to_dynamic_in(&self.session, &self.scope, v)
    }

    /// Members as (name, value) pairs, anonymous members flattened.
    pub fn member_list(&self) -> R<Vec<(String, Dynamic)>> {
        let target = self.target()?;
        let mut out = Vec::new();
        let mut stack = vec![target];
        while let Some(v) = stack.pop() {
            let members = v.members(&*self.k()).map_err(verr)?;
            let mut anon = Vec::new();
            for (name, mv) in members {
                match name {
                    Some(n) => {
                        let d = to_dynamic_in(&self.session, &self.scope, mv).unwrap_or_else(|e| {
                            Dynamic::from(format!("<{}>", crate::script::error::describe_eval(&e)))
                        });
                        out.push((n, d));
                    }
                    None => anon.push(mv),
                }
            }
            stack.extend(anon.into_iter().rev());
        }
        Ok(out)
    }

    /// The C-like text of the object.
    pub fn render(&self) -> String {
        let opts = format::FormatOptions::default();
        format::format_top(&*self.k(), &self.value, &opts).unwrap_or_else(|e| format!("<{e}>"))
    }

    /// The usage error of pointer arithmetic on something that is no typed pointer.
    fn arithmetic_error(&self, e: ValueError) -> Box<EvalAltResult> {
        match e {
            ValueError::BadOp { .. } => runtime(
                "usage",
                format!(
                    "pointer arithmetic on {}: only a typed pointer moves in elements \
                     (for bytes use addr(obj) + n, for elements of an array obj[i])",
                    self.type_name()
                ),
                None,
            ),
            e => verr(e),
        }
    }

    /// `p + n` in C: the pointer `n` elements further, of the same type.
    pub fn offset(&self, n: INT) -> R<KObj> {
        let v = self
            .value
            .pointer_add(&*self.k(), n)
            .map_err(|e| self.arithmetic_error(e))?;
        Ok(KObj::scoped(v, self.session.clone(), self.scope.clone()))
    }

    /// `p - q` in C: elements from `q` (its address) to this pointer.
    pub fn elements_from(&self, q: u64) -> R<INT> {
        self.value
            .pointer_diff(&*self.k(), q)
            .map_err(|e| self.arithmetic_error(e))
    }

    /// The bytes of the object (of what a pointer points to).
    pub fn bytes(&self) -> R<Vec<u8>> {
        self.target()?.bytes(&*self.k()).map_err(verr)
    }

    /// The C spelling of its type.
    pub fn type_name(&self) -> String {
        self.scope
            .types(&self.session)
            .map(|t| t.type_name(self.value.ty()))
            .unwrap_or_default()
    }
}

impl IntoIterator for KObj {
    type Item = Dynamic;
    type IntoIter = std::vec::IntoIter<Dynamic>;
    /// Iterates an array's elements (a failed element read ends the iteration).
    fn into_iter(self) -> Self::IntoIter {
        let n = self.value.len(&*self.k()).ok().flatten().unwrap_or(0);
        (0..n as INT)
            .map_while(|i| self.at_index(i).ok())
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// Converts a value of a vmlinux type into what a script sees: INT, string, `Addr`, or an
/// object.
///
/// Pointers: `char *` reads as its string; `void *` and function pointers are an `Addr` (they
/// have nothing to index or follow); every other pointer is an object of the pointer type, so
/// members are followed through it and `p[i]`/`deref(p)` read what it points to.
pub fn to_dynamic(s: &Arc<Session>, v: Value) -> R<Dynamic> {
    to_dynamic_in(s, &TypeScope::Vmlinux, v)
}

/// Converts a value whose type belongs to `scope` into what a script sees. A struct (or a
/// pointer to one) that `scope` only declares is first completed from the file that defines
/// it (`struct mapped_device` reached from a vmlinux type becomes dm_mod's).
pub fn to_dynamic_in(s: &Arc<Session>, scope: &TypeScope, v: Value) -> R<Dynamic> {
    if let Some((scope, v)) = s.complete_value(scope, &v) {
        return convert(s, &scope, v);
    }
    convert(s, scope, v)
}

fn convert(s: &Arc<Session>, scope: &TypeScope, v: Value) -> R<Dynamic> {
    let t = types(s, scope)?;
    let target = scope.target(s);
    let k: &dyn crate::value::Target = &*target;
    let obj = |v: Value| Dynamic::from(KObj::scoped(v, s.clone(), scope.clone()));
    let ty = v.resolved_type(k).map_err(verr)?;
    match &*ty {
        Type::Struct { .. } => Ok(obj(v)),
        Type::Array { elem, .. } if is_char(t, *elem) => {
            v.string(k).map(Dynamic::from).map_err(verr)
        }
        Type::Array { .. } => Ok(obj(v)),
        Type::Pointer {
            target: Some(tg), ..
        } if is_char(t, *tg) => {
            if v.to_u64(k).map_err(verr)? == 0 {
                Ok(Dynamic::from(String::new()))
            } else {
                v.string(k).map(Dynamic::from).map_err(verr)
            }
        }
        Type::Pointer {
            target: Some(tg), ..
        } if crate::value::pointer::designates_data(t, *tg) => Ok(obj(v)),
        Type::Pointer { .. } => Ok(Addr::dynamic(v.to_u64(k).map_err(verr)?)),
        Type::Base {
            encoding: crate::debuginfo::BaseEncoding::Float,
            ..
        } => match v.scalar(k).map_err(verr)? {
            crate::value::Scalar::Float(f) => Ok(Dynamic::from(f)),
            other => Ok(Dynamic::from(other.as_i64())),
        },
        Type::Base {
            encoding: crate::debuginfo::BaseEncoding::Bool,
            ..
        } => Ok(Dynamic::from(v.to_u64(k).map_err(verr)? != 0)),
        _ => Ok(Dynamic::from(v.to_u64(k).map_err(verr)? as INT)),
    }
}

/// The type called `name` (complete definition first, `module:type` accepted; see
/// `type_scope.rs`); `near` is where the object lies, to prefer the definition of the module
/// holding it.
fn find_type(s: &Session, name: &str, near: Option<u64>) -> R<ScopedType> {
    s.lookup_type_near(name, near)
        .map_err(|_| runtime("type", format!("no type named '{}'", name.trim()), None))
}

use super::addr::{address_arg as address_of, Addr};

fn obj_at(ctx: &HostContext, ty: &str, addr: u64) -> R<KObj> {
    let st = find_type(&ctx.session, ty, Some(addr))?;
    Ok(KObj::scoped(
        Value::at(st.id, addr),
        ctx.session.clone(),
        st.scope,
    ))
}

/// The type called `ty` (for nodes reached from `near`) and the offset of its member
/// `member`.
fn type_and_offset(s: &Session, ty: &str, member: &str, near: u64) -> R<(ScopedType, u64)> {
    let st = find_type(s, ty, Some(near))?;
    let off = types(s, &st.scope)?
        .member(st.id, member)
        .map_err(|e| from_error(e.into()))?
        .offset;
    Ok((st, off))
}

/// The structures of type `st` that embed the nodes at `nodes` at offset `off`.
fn containers(s: &Arc<Session>, st: &ScopedType, off: u64, nodes: Vec<u64>) -> Array {
    nodes
        .into_iter()
        .map(|n| {
            Dynamic::from(KObj::scoped(
                Value::at(st.id, n.wrapping_sub(off)),
                s.clone(),
                st.scope.clone(),
            ))
        })
        .collect()
}

/// Structures linked through the `list_head` member `member`, from the list head at `head`.
fn list_entries(ctx: &HostContext, head: u64, ty: &str, member: &str, bound: usize) -> R<Array> {
    let (st, off) = type_and_offset(&ctx.session, ty, member, head)?;
    let opts = crate::value::walk::ListOpts {
        offset: off,
        reverse: false,
        end: None,
        bound,
    };
    let walk = crate::value::walk::list(
        &*ctx.session,
        crate::value::walk::ListStart::Head(head),
        &opts,
    );
    report_walk(ctx, "list", head, &walk.warnings);
    Ok(walk
        .items
        .into_iter()
        .map(|a| {
            Dynamic::from(KObj::scoped(
                Value::at(st.id, a),
                ctx.session.clone(),
                st.scope.clone(),
            ))
        })
        .collect())
}

/// `o` cast to `st`, which may belong to another file than `o`'s type: a scalar (pointer,
/// integer) is converted, anything else reinterpreted in place, as [`Value::cast`] does.
fn cast_across(o: &KObj, st: &ScopedType) -> R<Value> {
    let to_types = types(&o.session, &st.scope)?;
    let to = to_types
        .resolve(st.id)
        .and_then(|r| to_types.get(r))
        .map_err(|e| from_error(e.into()))?;
    if matches!(
        &*to,
        Type::Base { .. } | Type::Pointer { .. } | Type::Enum { .. }
    ) {
        if let Ok(sc) = o.value.scalar(&*o.k()) {
            return Ok(Value::from_u64(st.id, sc.as_u64()));
        }
    }
    Ok(o.value.reinterpret(st.id))
}

/// `==`, `!=`, `<`, `<=`, `>`, `>=` between objects, `Addr` and INT compare addresses
/// (unsigned); an object equals `0` or `()` when it is a NULL pointer.
fn register_comparisons(engine: &mut Engine) {
    for (op, f) in super::addr::UNSIGNED_CMP {
        engine.register_fn(op, move |a: KObj, b: KObj| -> R<bool> {
            Ok(f(a.addr()?, b.addr()?))
        });
        engine.register_fn(op, move |a: KObj, b: Addr| -> R<bool> {
            Ok(f(a.addr()?, b.0))
        });
        engine.register_fn(op, move |a: Addr, b: KObj| -> R<bool> {
            Ok(f(a.0, b.addr()?))
        });
        engine.register_fn(op, move |a: KObj, b: INT| -> R<bool> {
            Ok(f(a.addr()?, b as u64))
        });
        engine.register_fn(op, move |a: INT, b: KObj| -> R<bool> {
            Ok(f(a as u64, b.addr()?))
        });
    }
    engine.register_fn("==", |a: KObj, _b: ()| a.is_null());
    engine.register_fn("!=", |a: KObj, _b: ()| a.is_null().map(|n| !n));
}

/// Prints a walk's warnings as `warn()` does (inline and in the closing summary).
pub(super) fn report_walk(ctx: &HostContext, what: &str, at: u64, warnings: &[String]) {
    for w in warnings {
        let msg = format!("{what} at {at:#x}: {w}");
        ctx.out.line(&format!("+++WARNING+++ {msg}"));
        if let Ok(mut f) = ctx.findings.lock() {
            f.push(crate::script::Finding {
                severity: "WARNING",
                message: msg,
            });
        }
    }
}

/// Structures linked through the `hlist_node` (or, with `nulls`, `hlist_nulls_node`) member
/// `member`, from the `hlist_head`/`hlist_nulls_head` at `head` (its `first` at offset 0; each
/// node's `next` at offset 0).
fn hlist_entries(ctx: &HostContext, head: u64, ty: &str, member: &str, nulls: bool) -> R<Array> {
    use crate::memory::ReadExt;
    use crate::value::walk::{list, ListOpts, ListStart};
    let (st, off) = type_and_offset(&ctx.session, ty, member, head)?;
    let first = ctx
        .session
        .read_u64(crate::addr::Kva(head))
        .map_err(crate::script::error::from_memory)?;
    let start = if nulls {
        ListStart::NullsChain(first)
    } else {
        ListStart::Chain(first)
    };
    let opts = ListOpts {
        offset: 0,
        reverse: false,
        end: None,
        bound: WALK_BOUND,
    };
    let walk = list(&*ctx.session, start, &opts);
    report_walk(
        ctx,
        if nulls { "hlist_nulls" } else { "hlist" },
        head,
        &walk.warnings,
    );
    Ok(containers(&ctx.session, &st, off, walk.items))
}

/// Most elements a walk returns.
const WALK_BOUND: usize = 1_000_000;

/// Lets kernel member names that are Rhai keywords or reserved words (`thread`, `private`,
/// `default`, `new`, `match`, `sync`, …) follow a dot: `t.thread.sp`, `page.private`.
fn map_keywords_after_dot(engine: &mut Engine) {
    use rhai::Token;
    let after_dot = std::cell::Cell::new(false);
    // `on_parse_token` is marked volatile (not deprecated) by Rhai.
    #[allow(deprecated)]
    engine.on_parse_token(move |token, _pos, _state| {
        let was_dot = after_dot.replace(matches!(token, Token::Period | Token::Elvis));
        if !was_dot {
            return token;
        }
        let word = match &token {
            Token::Reserved(s) => Some(s.to_string()),
            Token::Identifier(_) => None,
            t => {
                let w = t.literal_syntax();
                (!w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .then(|| w.to_string())
            }
        };
        match word {
            Some(w) => Token::Identifier(Box::new(w.as_str().into())),
            None => token,
        }
    });
}

/// Registers the object type and the functions that make and walk objects.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    map_keywords_after_dot(engine);
    engine
        .register_type_with_name::<KObj>("KObj")
        .register_fn("to_string", |o: &mut KObj| o.render())
        .register_fn("to_debug", |o: &mut KObj| o.render())
        .register_iterator::<KObj>()
        .register_indexer_get(|o: &mut KObj, name: &str| o.get(name))
        .register_indexer_get(|o: &mut KObj, i: INT| o.at_index(i));
    // A getter per member name: faster than the indexer fallback. `addr` is also the object's
    // address when the type has no member of that name.
    if let Ok(t) = ctx.session.types() {
        let mut names: Vec<&str> = t.member_names().collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            if name == "addr" {
                continue;
            }
            let n = name.to_string();
            engine.register_get(name, move |o: &mut KObj| o.get(&n));
        }
    }
    engine.register_get("addr", |o: &mut KObj| -> R<Dynamic> {
        if o.value.has_member(&*o.k(), "addr") {
            o.get("addr")
        } else {
            o.addr().map(Addr::dynamic)
        }
    });
    engine.register_fn("addr", |o: &mut KObj| o.addr().map(Addr));
    engine.register_fn("hex", |o: &mut KObj| o.addr().map(|a| format!("{a:#x}")));
    engine.register_fn("is_null", |o: &mut KObj| o.is_null());
    engine.register_fn("is_null", |a: INT| a == 0);
    engine.register_fn("!", |o: &mut KObj| o.is_null());
    engine.register_fn("deref", |o: &mut KObj| -> R<Dynamic> {
        let v = o.value.deref(&*o.k()).map_err(verr)?;
        to_dynamic_in(&o.session, &o.scope, v)
    });
    engine.register_fn("+", |o: KObj, n: INT| o.offset(n));
    engine.register_fn("-", |o: KObj, n: INT| o.offset(n.wrapping_neg()));
    engine.register_fn("-", |a: KObj, b: KObj| -> R<INT> {
        a.elements_from(b.addr()?)
    });
    register_comparisons(engine);
    engine.register_fn("len", |o: &mut KObj| -> R<INT> {
        Ok(o.value.len(&*o.k()).map_err(verr)?.unwrap_or(0) as INT)
    });
    engine.register_fn("type_name", |o: &mut KObj| o.type_name());
    engine.register_fn("fields", |o: &mut KObj| -> R<Array> {
        Ok(o.member_list()?
            .into_iter()
            .map(|(n, _)| Dynamic::from(n))
            .collect())
    });
    engine.register_fn("to_map", |o: &mut KObj| -> R<Map> {
        Ok(o.member_list()?
            .into_iter()
            .map(|(n, v)| (n.into(), v))
            .collect())
    });
    engine.register_fn("members", |o: &mut KObj| -> R<Array> {
        Ok(o.member_list()?
            .into_iter()
            .map(|(n, v)| {
                let mut m = Map::new();
                m.insert("name".into(), Dynamic::from(n));
                m.insert("value".into(), v);
                Dynamic::from(m)
            })
            .collect())
    });
    engine.register_fn("contains", |o: &mut KObj, name: &str| {
        o.target().is_ok_and(|t| t.has_member(&*o.k(), name))
    });
    engine.register_fn("has_member", |o: &mut KObj, name: &str| {
        o.target().is_ok_and(|t| t.has_member(&*o.k(), name))
    });
    engine.register_fn("first_member", |o: &mut KObj, names: Array| -> R<Dynamic> {
        for n in &names {
            let n = n.to_string();
            if o.target()?.has_member(&*o.k(), &n) {
                return o.get(&n);
            }
        }
        Err(runtime(
            "member",
            format!("{} has none of the members {names:?}", o.type_name()),
            None,
        ))
    });
    engine.register_fn("cast", |o: &mut KObj, ty: &str| -> R<Dynamic> {
        let st = find_type(&o.session, ty, o.value.address())?;
        let v = cast_across(o, &st)?;
        to_dynamic_in(&o.session, &st.scope, v)
    });
    engine.register_fn("addr_of", |o: &mut KObj, member: &str| -> R<INT> {
        let v = o.target()?.member(&*o.k(), member).map_err(verr)?;
        v.address()
            .map(|a| a as INT)
            .ok_or_else(|| runtime("value", format!("'{member}' has no address"), None))
    });

    let c = ctx.clone();
    register_aliases!(engine, ["read_struct", "readSU"], move |ty: &str,
                                                               addr: Dynamic|
          -> R<KObj> {
        obj_at(&c, ty, address_of(&addr)?)
    });
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["read_symbol", "readSymbol"],
        move |name: &str| -> R<Dynamic> {
            let (scope, v) = c.session.read_global(name).map_err(from_error)?;
            to_dynamic_in(&c.session, &scope, v)
        }
    );
    let c = ctx.clone();
    engine.register_fn("per_cpu", move |name: &str, cpu: INT| -> R<Dynamic> {
        let (off, ty) = c.session.global(name).map_err(from_error)?;
        let base = usize::try_from(cpu)
            .ok()
            .and_then(|i| c.session.per_cpu_offsets().get(i).copied())
            .ok_or_else(|| runtime("usage", format!("no CPU {cpu}"), None))?;
        to_dynamic(&c.session, Value::at(ty, off.wrapping_add(base)))
    });
    let c = ctx.clone();
    engine.register_fn(
        "container_of",
        move |addr: Dynamic, ty: &str, member: &str| -> R<KObj> {
            let a = address_of(&addr)?;
            let st = find_type(&c.session, ty, Some(a))?;
            let v = Value::container_of(&*st.target(&c.session), a, st.id, member).map_err(verr)?;
            Ok(KObj::scoped(v, c.session.clone(), st.scope))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "list_for_each_entry",
        move |head: Dynamic, ty: &str, member: &str| -> R<Array> {
            list_entries(&c, address_of(&head)?, ty, member, WALK_BOUND)
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "readSUListFromHead",
        move |head: Dynamic, member: &str, ty: &str| -> R<Array> {
            list_entries(&c, address_of(&head)?, ty, member, WALK_BOUND)
        },
    );
    // PyKdump's `ListHead(addr, "struct T")` is an object whose attribute names the member
    // (`ListHead(a, "struct T").member`); Rhai cannot name a member after the call, so it
    // answers with the rkdump spelling.
    let list_head_hint = |shape: &str| -> Box<EvalAltResult> {
        runtime(
            "usage",
            format!(
                "ListHead({shape}) is PyKdump's shape; in rkdump write \
                 list_for_each_entry(head, \"struct T\", \"member\") (or \
                 readSUListFromHead(head, \"member\", \"struct T\"))"
            ),
            None,
        )
    };
    engine.register_fn("ListHead", move |_h: Dynamic| -> R<Array> {
        Err(list_head_hint("addr"))
    });
    engine.register_fn("ListHead", move |_h: Dynamic, _t: &str| -> R<Array> {
        Err(list_head_hint("addr, \"struct T\""))
    });
    for (name, nulls) in [
        ("hlist_for_each_entry", false),
        ("hlist_nulls_for_each_entry", true),
    ] {
        let c = ctx.clone();
        engine.register_fn(
            name,
            move |head: Dynamic, ty: &str, member: &str| -> R<Array> {
                hlist_entries(&c, address_of(&head)?, ty, member, nulls)
            },
        );
    }
    let c = ctx.clone();
    engine.register_fn(
        "rbtree_inorder",
        move |root: Dynamic, ty: &str, member: &str| -> R<Array> {
            let root = address_of(&root)?;
            let (st, off) = type_and_offset(&c.session, ty, member, root)?;
            let walk =
                crate::value::walk::rbtree(&*c.session, root, false, WALK_BOUND).map_err(verr)?;
            report_walk(&c, "rbtree", root, &walk.warnings);
            Ok(containers(&c.session, &st, off, walk.items))
        },
    );
    for (name, idr) in [("xa_for_each", false), ("idr_for_each", true)] {
        let c = ctx.clone();
        engine.register_fn(name, move |root: Dynamic| -> R<Array> {
            let a = address_of(&root)?;
            let walk = if idr {
                crate::value::walk::idr(&*c.session, a, WALK_BOUND)
            } else {
                crate::value::walk::xarray(&*c.session, a, WALK_BOUND)
            }
            .map_err(verr)?;
            Ok(walk
                .items
                .into_iter()
                .map(|(i, e)| Dynamic::from(vec![Dynamic::from(i as INT), Dynamic::from(e as INT)]))
                .collect())
        });
    }
}
