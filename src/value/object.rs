//! [`Value`]: a typed object at a kernel address (or in an owned byte buffer), with
//! pointer-transparent member access by dotted path, deref, index, cast, `container_of`,
//! address-of and scalar/string decoding. Resolved member paths are cached per (type, path) in a
//! [`PathCache`], so a repeated `task.se.avg.load_avg` costs one hash lookup and the reads.
//!
//! Must not import `session` or `commands`.

use super::format::is_char;
use super::{Result, Target, ValueError};
use crate::addr::Kva;
use crate::debuginfo::{BaseEncoding, Type, TypeId, TypeIndex};
use crate::memory::{MemoryReader, ReadExt};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Most bytes read for a `char *` string.
pub const MAX_STRING: usize = 4096;

/// Where a value's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// In kernel virtual memory at this address.
    Kernel(u64),
    /// In an owned buffer (computed values, registers, constants).
    Bytes(Arc<[u8]>),
}

/// A typed kernel object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    ty: TypeId,
    loc: Location,
    /// For a bitfield: (bit offset from the location, width in bits).
    bits: Option<(u32, u32)>,
}

/// A decoded scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A signed integer.
    Signed(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A `char`, `signed char` or `unsigned char`: its numeric value and raw byte.
    Char {
        /// The value with the type's signedness.
        value: i64,
        /// The byte.
        byte: u8,
    },
    /// `_Bool`.
    Bool(bool),
    /// A floating-point number.
    Float(f64),
    /// A pointer (data or function).
    Pointer(u64),
    /// An enum: its value and the enumerator's name when one matches.
    Enum {
        /// The value.
        value: i64,
        /// The matching enumerator.
        name: Option<String>,
    },
}

impl Scalar {
    /// The value's bit pattern as `u64` (sign-extended for negative numbers).
    pub fn as_u64(&self) -> u64 {
        match self {
            Scalar::Signed(v) | Scalar::Char { value: v, .. } | Scalar::Enum { value: v, .. } => {
                *v as u64
            }
            Scalar::Unsigned(v) | Scalar::Pointer(v) => *v,
            Scalar::Bool(b) => u64::from(*b),
            Scalar::Float(f) => *f as u64,
        }
    }
    /// The value as `i64`.
    pub fn as_i64(&self) -> i64 {
        self.as_u64() as i64
    }
}

/// One step of a resolved member path.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Move the location forward by this many bytes.
    Offset(u64),
    /// Read the pointer (of type `ptr_ty`) at the location and go where it points. `upto` is
    /// the length of the path prefix that names the pointer (for error messages).
    Deref { ptr_ty: TypeId, upto: usize },
}

/// A member path resolved against a type: what to do to the location, and the result's type.
#[derive(Debug)]
struct Resolved {
    steps: Vec<Step>,
    ty: TypeId,
    bits: Option<(u32, u32)>,
    /// How to decode the result as an integer without asking the type index again.
    leaf: Option<Leaf>,
}

/// Integer decoding of a path's final type: its size and signedness.
#[derive(Debug, Clone, Copy)]
struct Leaf {
    size: u8,
    signed: bool,
}

/// FxHash: fast hashing of small keys (TypeIds, short member paths).
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;
/// Resolved paths whose (type, path) hash to the same key.
type Bucket = Vec<(TypeId, Box<str>, Arc<Resolved>)>;

/// Cache of resolved member paths per (type, path). One per target; cheap to share.
pub struct PathCache {
    /// Distinguishes caches (and so type indexes) in the per-thread front cache.
    id: u64,
    map: RwLock<FxHashMap<u64, Bucket>>,
}

impl Default for PathCache {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            map: RwLock::default(),
        }
    }
}

/// One entry of the per-thread front cache: (cache id, type, path, resolution).
type FrontEntry = (u64, TypeId, Box<str>, Arc<Resolved>);

/// Entries in the per-thread front cache (replaced round-robin).
const FRONT_SLOTS: usize = 32;

/// The per-thread front cache: a few recently used resolutions, searched without hashing,
/// locking or reference counting.
#[derive(Default)]
struct Front {
    slots: Vec<FrontEntry>,
    next: usize,
}

thread_local! {
    static FRONT: RefCell<Front> = RefCell::new(Front::default());
}

/// One hash of (type, path): 8 bytes at a time.
fn path_key(ty: TypeId, path: &str) -> u64 {
    let mut h = Fx(ty.raw());
    let b = path.as_bytes();
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h.write_u64(u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    h.write_u64(u64::from_le_bytes(w) ^ ((b.len() as u64) << 56));
    h.finish()
}

impl std::fmt::Debug for PathCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.map.read().map(|m| m.len()).unwrap_or(0);
        write!(f, "PathCache({n} types)")
    }
}

impl PathCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, types: &TypeIndex, ty: TypeId, path: &str) -> Result<Arc<Resolved>> {
        let key = path_key(ty, path);
        if let Ok(m) = self.map.read() {
            if let Some(b) = m.get(&key) {
                if let Some((_, _, r)) = b.iter().find(|(t, p, _)| *t == ty && &**p == path) {
                    return Ok(r.clone());
                }
            }
        }
        let r = Arc::new(resolve_path(types, ty, path)?);
        if let Ok(mut m) = self.map.write() {
            m.entry(key).or_default().push((ty, path.into(), r.clone()));
        }
        Ok(r)
    }
}

/// Splits `name[1][2]` into `name` and its indexes.
fn split_indexes(comp: &str) -> Option<(&str, Vec<i64>)> {
    let Some(open) = comp.find('[') else {
        return Some((comp, Vec::new()));
    };
    let (name, mut rest) = comp.split_at(open);
    let mut out = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        let close = r.find(']')?;
        let n = r[..close].trim();
        let v = match n.strip_prefix("0x") {
            Some(h) => i64::from_str_radix(h, 16).ok()?,
            None => n.parse().ok()?,
        };
        out.push(v);
        rest = &r[close + 1..];
    }
    rest.is_empty().then_some((name, out))
}

fn resolve_path(types: &TypeIndex, ty: TypeId, path: &str) -> Result<Resolved> {
    let norm;
    let path = if path.contains("->") {
        norm = path.replace("->", ".");
        norm.as_str()
    } else {
        path
    };
    let no_member = |upto: usize| ValueError::NoMember {
        type_name: types.type_name(ty),
        member: path.get(..upto).unwrap_or(path).to_string(),
    };
    let mut steps = Vec::new();
    let mut off: u64 = 0;
    let mut cur = ty;
    let mut bits = None;
    let mut consumed = 0usize;
    let mut prev_end = 0usize;
    for comp in path.split('.') {
        consumed += comp.len() + usize::from(consumed > 0);
        if comp.is_empty() || bits.is_some() {
            return Err(no_member(consumed));
        }
        let (name, idx) = split_indexes(comp).ok_or_else(|| no_member(consumed))?;
        // Pointer transparency: a member of a pointer to a struct is taken through it.
        let r = types.resolve(cur)?;
        if let Type::Pointer {
            target: Some(t), ..
        } = &*types.get(r)?
        {
            if off != 0 {
                steps.push(Step::Offset(off));
                off = 0;
            }
            steps.push(Step::Deref {
                ptr_ty: cur,
                upto: prev_end,
            });
            cur = *t;
        }
        let mi = types.member(cur, name).map_err(|_| no_member(consumed))?;
        off = off
            .checked_add(mi.offset)
            .ok_or_else(|| no_member(consumed))?;
        cur = mi.ty;
        bits = mi.bit_offset.zip(mi.bit_size);
        for i in idx {
            let r = types.resolve(cur)?;
            match &*types.get(r)? {
                Type::Array { elem, .. } => {
                    let step = types.size_of(*elem)?;
                    off = (i as u64)
                        .checked_mul(step)
                        .and_then(|d| off.checked_add(d))
                        .ok_or_else(|| no_member(consumed))?;
                    cur = *elem;
                }
                Type::Pointer {
                    target: Some(t), ..
                } => {
                    if off != 0 {
                        steps.push(Step::Offset(off));
                    }
                    steps.push(Step::Deref {
                        ptr_ty: cur,
                        upto: consumed,
                    });
                    off = (i as u64)
                        .checked_mul(types.size_of(*t)?)
                        .ok_or_else(|| no_member(consumed))?;
                    cur = *t;
                }
                _ => return Err(no_member(consumed)),
            }
        }
        prev_end = consumed;
    }
    if off != 0 {
        steps.push(Step::Offset(off));
    }
    let leaf = match &*types.get(types.resolve(cur)?)? {
        Type::Base { size, encoding, .. } if *size <= 8 => match encoding {
            BaseEncoding::Float => None,
            BaseEncoding::Signed | BaseEncoding::SignedChar => Some(Leaf {
                size: *size as u8,
                signed: true,
            }),
            _ => Some(Leaf {
                size: *size as u8,
                signed: false,
            }),
        },
        Type::Pointer { size, .. } if *size <= 8 => Some(Leaf {
            size: *size as u8,
            signed: false,
        }),
        Type::Enum { size, signed, .. } if *size <= 8 => Some(Leaf {
            size: *size as u8,
            signed: *signed,
        }),
        _ => None,
    };
    Ok(Resolved {
        steps,
        ty: cur,
        bits,
        leaf,
    })
}

fn read_err(types: &TypeIndex, ty: TypeId, addr: u64, e: crate::memory::MemoryError) -> ValueError {
    ValueError::Read {
        type_name: types.type_name(ty),
        addr,
        source: e,
    }
}

impl Value {
    /// The object of type `ty` at kernel address `addr`.
    pub fn at(ty: TypeId, addr: u64) -> Self {
        Self {
            ty,
            loc: Location::Kernel(addr),
            bits: None,
        }
    }

    /// A computed object of type `ty` held in `bytes`.
    pub fn from_bytes(ty: TypeId, bytes: impl Into<Arc<[u8]>>) -> Self {
        Self {
            ty,
            loc: Location::Bytes(bytes.into()),
            bits: None,
        }
    }

    /// A computed integer or pointer of type `ty` (of at most 8 bytes) holding `v`.
    pub fn from_u64(ty: TypeId, v: u64) -> Self {
        Self::from_bytes(ty, v.to_le_bytes().to_vec())
    }

    /// The value's type (as declared: typedefs and qualifiers kept).
    pub fn ty(&self) -> TypeId {
        self.ty
    }

    /// Where the value's bytes are.
    pub fn location(&self) -> &Location {
        &self.loc
    }

    /// The kernel address of the object, if it lives in kernel memory.
    pub fn address(&self) -> Option<u64> {
        match self.loc {
            Location::Kernel(a) => Some(a),
            Location::Bytes(_) => None,
        }
    }

    /// For a bitfield: (bit offset from the location, width in bits).
    pub fn bitfield(&self) -> Option<(u32, u32)> {
        self.bits
    }

    /// The same bytes seen as type `ty`.
    pub fn reinterpret(&self, ty: TypeId) -> Self {
        Self {
            ty,
            loc: self.loc.clone(),
            bits: None,
        }
    }

    /// The type with typedefs and qualifiers stripped, materialized.
    pub fn resolved_type(&self, k: &dyn Target) -> Result<Arc<Type>> {
        let types = k.type_index()?;
        Ok(types.get(types.resolve(self.ty)?)?)
    }

    /// Size of the value's type in bytes.
    pub fn size(&self, k: &dyn Target) -> Result<u64> {
        Ok(k.type_index()?.size_of(self.ty)?)
    }

    /// Reads kernel memory at `addr` for this value; a failure names the value's type.
    fn read_kernel(&self, k: &dyn Target, addr: u64, buf: &mut [u8]) -> Result<()> {
        k.read_virt(Kva(addr), buf).map_err(|e| ValueError::Read {
            type_name: k
                .type_index()
                .map(|t| t.type_name(self.ty))
                .unwrap_or_default(),
            addr,
            source: e,
        })
    }

    /// Reads `len` bytes of the value (from its start).
    pub fn read_bytes(&self, k: &dyn Target, len: usize) -> Result<Vec<u8>> {
        match &self.loc {
            Location::Kernel(a) => {
                let mut buf = vec![0u8; len];
                self.read_kernel(k, *a, &mut buf)?;
                Ok(buf)
            }
            Location::Bytes(b) => {
                let mut v = b.get(..len.min(b.len())).unwrap_or(&[]).to_vec();
                v.resize(len, 0);
                Ok(v)
            }
        }
    }

    /// All bytes of the value (its type's size).
    pub fn bytes(&self, k: &dyn Target) -> Result<Vec<u8>> {
        let n = self.size(k)?;
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= 64 << 20)
            .ok_or_else(|| ValueError::Other(format!("{} bytes is too large to read", n)))?;
        self.read_bytes(k, n)
    }

    /// The location `off` bytes further.
    fn offset_loc(&self, off: u64) -> Result<Location> {
        Ok(match &self.loc {
            Location::Kernel(a) => Location::Kernel(a.checked_add(off).ok_or(
                ValueError::Other(format!("address {a:#x} + {off:#x} overflows")),
            )?),
            Location::Bytes(b) => {
                let o = usize::try_from(off).unwrap_or(usize::MAX);
                Location::Bytes(Arc::from(b.get(o..).unwrap_or(&[])))
            }
        })
    }

    /// Reads a raw unsigned integer of `size` bytes (or the bitfield) without sign extension.
    fn raw(&self, k: &dyn Target, size: u64) -> Result<u64> {
        let n = match self.bits {
            Some((bo, bs)) => ((bo + bs).div_ceil(8) as usize).min(16),
            None => size.min(8) as usize,
        };
        let mut buf = [0u8; 16];
        let dst = &mut buf[..n];
        match &self.loc {
            Location::Kernel(a) => self.read_kernel(k, *a, dst)?,
            Location::Bytes(b) => {
                let take = n.min(b.len());
                dst[..take].copy_from_slice(&b[..take]);
            }
        }
        Ok(raw_from(&buf[..n], size, self.bits))
    }

    /// Decodes a scalar (integer, char, bool, float, pointer, enum, bitfield).
    pub fn scalar(&self, k: &dyn Target) -> Result<Scalar> {
        let types = k.type_index()?;
        let t = types.get(types.resolve(self.ty)?)?;
        let size = match &*t {
            Type::Base { size, .. } | Type::Pointer { size, .. } | Type::Enum { size, .. } => *size,
            _ => {
                return Err(ValueError::BadOp {
                    op: "read as a number",
                    type_name: types.type_name(self.ty),
                })
            }
        };
        let raw = self.raw(k, size)?;
        decode_scalar(types, self.ty, &t, raw, self.bits)
    }

    /// The value as `u64` (integers, pointers, enums, bools, chars).
    pub fn to_u64(&self, k: &dyn Target) -> Result<u64> {
        Ok(self.scalar(k)?.as_u64())
    }

    /// The value as `i64`.
    pub fn to_i64(&self, k: &dyn Target) -> Result<i64> {
        Ok(self.scalar(k)?.as_i64())
    }

    /// Whether the value is a NULL pointer.
    pub fn is_null(&self, k: &dyn Target) -> Result<bool> {
        Ok(matches!(self.scalar(k)?, Scalar::Pointer(0)))
    }

    /// The member at dotted `path` (`"se.avg.load_avg"`, `"pid_links[1].next"`, `"mm.owner"`).
    /// Pointers to structs met on the way (or the value itself, if it is one) are followed; a
    /// NULL one is an error naming the path. Array indexes may pass a flexible array's end.
    pub fn member(&self, k: &dyn Target, path: &str) -> Result<Value> {
        let types = k.type_index()?;
        let r = k.path_cache().get(types, self.ty, path)?;
        let mut loc = self.loc.clone();
        for s in &r.steps {
            loc = match s {
                Step::Offset(o) => Value {
                    ty: self.ty,
                    loc,
                    bits: None,
                }
                .offset_loc(*o)?,
                Step::Deref { ptr_ty, upto } => {
                    let p = Value {
                        ty: *ptr_ty,
                        loc,
                        bits: None,
                    };
                    let v = p.raw(k, 8)?;
                    if v == 0 {
                        return Err(ValueError::NullPointer {
                            type_name: types.type_name(*ptr_ty),
                            member: path.to_string(),
                            pointer: path.get(..*upto).unwrap_or("").to_string(),
                            at: p.address(),
                        });
                    }
                    Location::Kernel(v)
                }
            };
        }
        Ok(Value {
            ty: r.ty,
            loc,
            bits: r.bits,
        })
    }

    /// Shorthand for `member(path)?.to_u64()`: the hot path of scripts and list walks. For an
    /// integer, pointer or enum member of a value in kernel memory it follows the resolved
    /// steps directly (from a per-thread cache: no lock on a hit) and decodes the bytes with
    /// the size and signedness resolved once per (type, path).
    pub fn member_u64(&self, k: &dyn Target, path: &str) -> Result<u64> {
        let Location::Kernel(base) = self.loc else {
            return self.member(k, path)?.to_u64(k);
        };
        let cache = k.path_cache();
        let fast = |r: &Resolved| -> Option<Result<u64>> {
            let leaf = r.leaf?;
            Some(follow_and_read(k, r, leaf, base, path))
        };
        let hit = FRONT.with(|f| {
            let f = f.borrow();
            f.slots
                .iter()
                .find(|(c, t, p, _)| *t == self.ty && *c == cache.id && &**p == path)
                .map(|(_, _, _, r)| fast(r))
        });
        match hit {
            Some(Some(v)) => v,
            Some(None) => self.member(k, path)?.to_u64(k),
            None => {
                let types = k.type_index()?;
                let r = cache.get(types, self.ty, path)?;
                FRONT.with(|f| {
                    let mut f = f.borrow_mut();
                    let e = (cache.id, self.ty, Box::<str>::from(path), r.clone());
                    if f.slots.len() < FRONT_SLOTS {
                        f.slots.push(e);
                    } else {
                        let i = f.next % FRONT_SLOTS;
                        if let Some(slot) = f.slots.get_mut(i) {
                            *slot = e;
                        }
                        f.next = i + 1;
                    }
                });
                match fast(&r) {
                    Some(v) => v,
                    None => self.member(k, path)?.to_u64(k),
                }
            }
        }
    }

    /// Whether the type (through pointers) has member `path`.
    pub fn has_member(&self, k: &dyn Target, path: &str) -> bool {
        k.type_index()
            .ok()
            .is_some_and(|t| k.path_cache().get(t, self.ty, path).is_ok())
    }

    /// `*p` for a pointer (NULL and `void *` are errors); an array gives its first element.
    pub fn deref(&self, k: &dyn Target) -> Result<Value> {
        let types = k.type_index()?;
        match &*self.resolved_type(k)? {
            Type::Pointer { target, size } => {
                let p = self.raw(k, *size)?;
                let Some(t) = target else {
                    return Err(ValueError::BadOp {
                        op: "dereference",
                        type_name: types.type_name(self.ty),
                    });
                };
                if p == 0 {
                    return Err(ValueError::NullPointer {
                        type_name: types.type_name(self.ty),
                        member: "*".into(),
                        pointer: String::new(),
                        at: self.address(),
                    });
                }
                Ok(Value::at(*t, p))
            }
            Type::Array { elem, .. } => Ok(self.reinterpret(*elem)),
            _ => Err(ValueError::BadOp {
                op: "dereference",
                type_name: types.type_name(self.ty),
            }),
        }
    }

    /// Element `i` of an array (past the declared end is allowed, for flexible arrays) or of
    /// the memory a pointer points to.
    pub fn index(&self, k: &dyn Target, i: i64) -> Result<Value> {
        let types = k.type_index()?;
        let (base, elem) = match &*self.resolved_type(k)? {
            Type::Array { elem, .. } => (self.clone(), *elem),
            Type::Pointer {
                target: Some(t), ..
            } => (self.deref(k)?, *t),
            _ => {
                return Err(ValueError::BadOp {
                    op: "index",
                    type_name: types.type_name(self.ty),
                })
            }
        };
        let step = types.size_of(elem)?;
        let off = (i as u64).wrapping_mul(step);
        let loc = match &base.loc {
            Location::Kernel(a) => Location::Kernel(a.wrapping_add(off)),
            Location::Bytes(_) if i >= 0 => base.offset_loc(off)?,
            Location::Bytes(_) => {
                return Err(ValueError::NoAddress {
                    type_name: types.type_name(self.ty),
                })
            }
        };
        Ok(Value {
            ty: elem,
            loc,
            bits: None,
        })
    }

    /// C cast to `ty`: a scalar is converted (pointer ↔ integer); anything else is
    /// reinterpreted in place.
    pub fn cast(&self, k: &dyn Target, ty: TypeId) -> Result<Value> {
        let types = k.type_index()?;
        let to = types.get(types.resolve(ty)?)?;
        let scalar_target = matches!(
            &*to,
            Type::Base { .. } | Type::Pointer { .. } | Type::Enum { .. }
        );
        if scalar_target {
            if let Ok(s) = self.scalar(k) {
                return Ok(Value::from_u64(ty, s.as_u64()));
            }
        }
        Ok(self.reinterpret(ty))
    }

    /// `&value`: a pointer to the value (only for values in kernel memory).
    pub fn address_of(&self, k: &dyn Target) -> Result<Value> {
        let types = k.type_index()?;
        match (self.address(), self.bits) {
            (Some(a), None) => Ok(Value::from_u64(types.pointer_to(self.ty), a)),
            _ => Err(ValueError::NoAddress {
                type_name: types.type_name(self.ty),
            }),
        }
    }

    /// `container_of(addr, ty, member)`: the object of type `ty` whose `member` is at `addr`.
    pub fn container_of(k: &dyn Target, addr: u64, ty: TypeId, member: &str) -> Result<Value> {
        let types = k.type_index()?;
        let off = types
            .member(ty, member)
            .map_err(|_| ValueError::NoMember {
                type_name: types.type_name(ty),
                member: member.to_string(),
            })?
            .offset;
        let base = addr.checked_sub(off).ok_or_else(|| {
            ValueError::Other(format!(
                "container_of({addr:#x}, {}, {member}): address below the member offset {off:#x}",
                types.type_name(ty)
            ))
        })?;
        Ok(Value::at(ty, base))
    }

    /// Number of elements of an array (`None` for flexible arrays and non-arrays).
    pub fn len(&self, k: &dyn Target) -> Result<Option<u64>> {
        Ok(match &*self.resolved_type(k)? {
            Type::Array { count, .. } => *count,
            _ => None,
        })
    }

    /// The string of a `char[]` (up to the first NUL) or a `char *` (at most [`MAX_STRING`]
    /// bytes).
    pub fn string(&self, k: &dyn Target) -> Result<String> {
        let types = k.type_index()?;
        let t = self.resolved_type(k)?;
        match &*t {
            Type::Array { elem, count } if is_char(types, *elem) => {
                let n = count.unwrap_or(MAX_STRING as u64).min(1 << 20) as usize;
                let b = self.read_bytes(k, n)?;
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                Ok(String::from_utf8_lossy(&b[..end]).into_owned())
            }
            Type::Pointer {
                target: Some(tg), ..
            } if is_char(types, *tg) => {
                let p = self.raw(k, 8)?;
                if p == 0 {
                    return Err(ValueError::NullPointer {
                        type_name: types.type_name(self.ty),
                        member: "string".into(),
                        pointer: String::new(),
                        at: self.address(),
                    });
                }
                read_c_string(k, p, MAX_STRING).map_err(|e| read_err(types, self.ty, p, e))
            }
            _ => Err(ValueError::BadOp {
                op: "read as a string",
                type_name: types.type_name(self.ty),
            }),
        }
    }

    /// Direct members in declaration order (anonymous members have no name).
    pub fn members(&self, k: &dyn Target) -> Result<Vec<(Option<String>, Value)>> {
        let types = k.type_index()?;
        let ms = match &*self.resolved_type(k)? {
            Type::Struct { members, .. } => members.clone(),
            Type::Pointer {
                target: Some(_), ..
            } => return self.deref(k)?.members(k),
            _ => {
                return Err(ValueError::BadOp {
                    op: "members",
                    type_name: types.type_name(self.ty),
                })
            }
        };
        ms.into_iter()
            .map(|m| {
                let mut v = Value {
                    ty: m.ty,
                    loc: self.offset_loc(m.offset)?,
                    bits: None,
                };
                v.bits = m.bit_offset.zip(m.bit_size);
                Ok((m.name, v))
            })
            .collect()
    }
}

/// Reads a NUL-terminated string of at most `max` bytes, page by page.
pub(crate) fn read_c_string(
    k: &dyn MemoryReader,
    addr: u64,
    max: usize,
) -> Result<String, crate::memory::MemoryError> {
    let mut out = Vec::new();
    let mut cur = addr;
    while out.len() < max {
        let chunk = ((4096 - (cur & 4095)) as usize).min(max - out.len());
        let mut buf = vec![0u8; chunk];
        k.read_virt(Kva(cur), &mut buf)?;
        if let Some(nul) = buf.iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..nul]);
            break;
        }
        out.extend_from_slice(&buf);
        cur = cur.wrapping_add(chunk as u64);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Reads the raw bits of a scalar of `size` bytes (or a bitfield) from `bytes`.
pub(crate) fn raw_from(bytes: &[u8], size: u64, bits: Option<(u32, u32)>) -> u64 {
    if let Some((bo, bs)) = bits {
        let n = ((bo + bs).div_ceil(8) as usize).min(16);
        let mut w = [0u8; 16];
        let take = n.min(bytes.len());
        w[..take].copy_from_slice(&bytes[..take]);
        let v = u128::from_le_bytes(w) >> bo;
        let mask = if bs >= 64 { u64::MAX } else { (1u64 << bs) - 1 };
        return v as u64 & mask;
    }
    let n = (size.min(8) as usize).min(bytes.len());
    let mut w = [0u8; 8];
    w[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(w)
}

/// Decodes raw bits `raw` as the scalar type `t` (already resolved from `ty`).
pub(crate) fn decode_scalar(
    types: &TypeIndex,
    ty: TypeId,
    t: &Type,
    raw: u64,
    bits: Option<(u32, u32)>,
) -> Result<Scalar> {
    let width = |size: u64| match bits {
        Some((_, bs)) => bs,
        None => (size.min(8) * 8) as u32,
    };
    let sext = |raw: u64, bits: u32| -> i64 {
        if bits == 0 || bits >= 64 {
            raw as i64
        } else {
            let sh = 64 - bits;
            ((raw << sh) as i64) >> sh
        }
    };
    Ok(match t {
        Type::Base { size, encoding, .. } => {
            let w = width(*size);
            match encoding {
                BaseEncoding::Signed => Scalar::Signed(sext(raw, w)),
                BaseEncoding::Unsigned => Scalar::Unsigned(raw),
                BaseEncoding::SignedChar => Scalar::Char {
                    value: sext(raw, w),
                    byte: raw as u8,
                },
                BaseEncoding::UnsignedChar => Scalar::Char {
                    value: raw as i64,
                    byte: raw as u8,
                },
                BaseEncoding::Bool => Scalar::Bool(raw != 0),
                BaseEncoding::Float => Scalar::Float(if *size == 4 {
                    f64::from(f32::from_bits(raw as u32))
                } else {
                    f64::from_bits(raw)
                }),
            }
        }
        Type::Pointer { .. } => Scalar::Pointer(raw),
        Type::Enum {
            size,
            signed,
            enumerators,
            ..
        } => {
            let value = if *signed {
                sext(raw, width(*size))
            } else {
                raw as i64
            };
            let name = enumerators
                .iter()
                .find(|(_, v)| *v == value)
                .map(|(n, _)| n.clone());
            Scalar::Enum { value, name }
        }
        _ => {
            return Err(ValueError::BadOp {
                op: "read as a number",
                type_name: types.type_name(ty),
            })
        }
    })
}

/// Follows the steps of `r` from kernel address `base` and reads the integer at the end.
fn follow_and_read(k: &dyn Target, r: &Resolved, leaf: Leaf, base: u64, path: &str) -> Result<u64> {
    let mut a = base;
    for s in &r.steps {
        match s {
            Step::Offset(o) => {
                a = a.checked_add(*o).ok_or_else(|| {
                    ValueError::Other(format!("address {a:#x} + {o:#x} overflows"))
                })?
            }
            Step::Deref { ptr_ty, upto } => {
                let p = k.read_u64(Kva(a)).map_err(|e| ValueError::Read {
                    type_name: type_name_of(k, *ptr_ty),
                    addr: a,
                    source: e,
                })?;
                if p == 0 {
                    return Err(ValueError::NullPointer {
                        type_name: type_name_of(k, *ptr_ty),
                        member: path.to_string(),
                        pointer: path.get(..*upto).unwrap_or("").to_string(),
                        at: Some(a),
                    });
                }
                a = p;
            }
        }
    }
    let n = match r.bits {
        Some((bo, bs)) => ((bo + bs).div_ceil(8) as usize).min(16),
        None => usize::from(leaf.size),
    };
    let mut buf = [0u8; 16];
    k.read_virt(Kva(a), &mut buf[..n])
        .map_err(|e| ValueError::Read {
            type_name: type_name_of(k, r.ty),
            addr: a,
            source: e,
        })?;
    let raw = raw_from(&buf[..n], u64::from(leaf.size), r.bits);
    let width = r.bits.map(|b| b.1).unwrap_or(u32::from(leaf.size) * 8);
    Ok(if leaf.signed && width > 0 && width < 64 {
        let sh = 64 - width;
        (((raw << sh) as i64) >> sh) as u64
    } else {
        raw
    })
}

fn type_name_of(k: &dyn Target, ty: TypeId) -> String {
    k.type_index().map(|t| t.type_name(ty)).unwrap_or_default()
}
