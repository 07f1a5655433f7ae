//! What the prompt may know of the Rhai variables a session keeps, without running anything
//! or reading the dump: the type (and the file it comes from) of each kernel object, the keys
//! of each map, the shape of an array's first element. Completion walks member paths
//! (`t.files.fdt.<TAB>`) through these shapes.
//!
//! Must not import `repl`.

use super::api::objects::KObj;
use crate::linux::type_scope::ScopedType;
use rhai::{Array, Dynamic, Map};
use std::collections::BTreeMap;

/// How deep maps and arrays inside a variable are described.
const MAX_DEPTH: u32 = 4;
/// Most keys of one map described (the rest complete as nothing).
const MAX_KEYS: usize = 512;

/// The shape of one Rhai value, as completion needs it.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A kernel object: its type, pointers included (`struct mm_struct *`).
    Object(ScopedType),
    /// A map: each key's shape.
    Map(BTreeMap<String, Shape>),
    /// An array: the shape of its first element (arrays of kernel objects hold one type).
    Array(Box<Shape>),
    /// Anything else (numbers, strings, addresses): no members.
    Other,
}

impl Shape {
    /// The shape of `d`.
    pub fn of(d: &Dynamic) -> Shape {
        shape_at(d, 0)
    }
}

fn shape_at(d: &Dynamic, depth: u32) -> Shape {
    if let Some(o) = d.read_lock::<KObj>() {
        return Shape::Object(ScopedType {
            scope: o.scope().clone(),
            id: o.value.ty(),
        });
    }
    if depth >= MAX_DEPTH {
        return Shape::Other;
    }
    if let Some(m) = d.read_lock::<Map>() {
        return Shape::Map(
            m.iter()
                .take(MAX_KEYS)
                .map(|(k, v)| (k.to_string(), shape_at(v, depth + 1)))
                .collect(),
        );
    }
    if let Some(a) = d.read_lock::<Array>() {
        return Shape::Array(Box::new(
            a.first().map_or(Shape::Other, |e| shape_at(e, depth + 1)),
        ));
    }
    Shape::Other
}

/// The shapes of the variables of `scope`, by name (a later variable of the same name
/// shadows an earlier one, as in Rhai).
pub fn shapes(scope: &rhai::Scope<'_>) -> BTreeMap<String, Shape> {
    scope
        .iter_raw()
        .map(|(name, _, v)| (name.to_string(), Shape::of(v)))
        .collect()
}
