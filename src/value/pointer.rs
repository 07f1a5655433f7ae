//! The pointer rules, as C has them: which pointers designate data (a `void *` or a function
//! pointer has nothing to index or follow, so scripts see it as a plain address), and
//! arithmetic in elements (`p + n` moves `n * sizeof(*p)` bytes, `p - q` counts elements).
//! Indexing (`p[i]`, `pp[i]` of a `T **` giving a `T *`) is [`Value::index`].
//!
//! Must not import `session`, `commands` or anything to their right.

use super::{Result, Target, Value, ValueError};
use crate::debuginfo::{Type, TypeId, TypeIndex};

/// Whether a pointer to `target` designates data that can be followed and indexed: a struct
/// or union (even one its file only declares), or any type with a size. `void` and functions
/// do not.
pub fn designates_data(types: &TypeIndex, target: TypeId) -> bool {
    types
        .resolve(target)
        .ok()
        .and_then(|r| types.get(r).ok())
        .is_some_and(|ty| match &*ty {
            Type::Struct { .. } => true,
            Type::Void | Type::Function { .. } => false,
            _ => types.size_of(target).is_ok_and(|n| n > 0),
        })
}

impl Value {
    /// The type a pointer value points to: `Some(None)` for `void *`, `None` when the value
    /// is no pointer.
    pub fn pointee(&self, k: &dyn Target) -> Result<Option<Option<TypeId>>> {
        Ok(match &*self.resolved_type(k)? {
            Type::Pointer { target, .. } => Some(*target),
            _ => None,
        })
    }

    /// Whether this is a pointer with no data to follow: `void *` or a function pointer.
    pub fn is_untyped_pointer(&self, k: &dyn Target) -> Result<bool> {
        let types = k.type_index()?;
        Ok(match self.pointee(k)? {
            Some(Some(t)) => !designates_data(types, t),
            Some(None) => true,
            None => false,
        })
    }

    /// `sizeof(*p)`: the step of `p + 1`. Only a pointer that designates data of non-zero
    /// size has one.
    pub fn element_size(&self, k: &dyn Target) -> Result<u64> {
        let types = k.type_index()?;
        let bad = || ValueError::BadOp {
            op: "pointer arithmetic",
            type_name: types.type_name(self.ty()),
        };
        match self.pointee(k)? {
            Some(Some(t)) if designates_data(types, t) => match types.size_of(t) {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    /// `p + n` in C: the pointer `n` elements further (negative: back), of the same type.
    pub fn pointer_add(&self, k: &dyn Target, n: i64) -> Result<Value> {
        let step = self.element_size(k)?;
        let to = self.to_u64(k)?.wrapping_add((n as u64).wrapping_mul(step));
        Ok(Value::from_u64(self.ty(), to))
    }

    /// `p - q` in C, with `q` given as the address it holds: the number of elements from
    /// `q` to `p` (negative when `p` lies below `q`).
    pub fn pointer_diff(&self, k: &dyn Target, q: u64) -> Result<i64> {
        let step = self.element_size(k)?;
        Ok((self.to_u64(k)?.wrapping_sub(q) as i64) / step as i64)
    }
}
