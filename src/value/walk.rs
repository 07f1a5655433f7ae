//! Walkers of kernel containers, named after the kernel's own iterators: linked lists
//! (`list_for_each`, singly linked `next` chains), `rb_first`/`rb_next` in-order rbtree walks,
//! `xa_for_each` (also radix trees and IDRs, which are xarrays since 4.20) and `mt_for_each` for
//! maple trees (6.1+). Each walk is bounded, detects loops, and on a bad pointer returns what it
//! read plus a warning.
//!
//! Must not import `session` or `commands`.

use super::{Result, Target, ValueError};
use crate::addr::Kva;
use crate::debuginfo::{Type, TypeIndex};
use crate::memory::ReadExt;
use std::collections::HashSet;

/// Default most elements a walk returns.
pub const DEFAULT_BOUND: usize = 1_000_000;

/// What a walk read, and what went wrong on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk<T> {
    /// The elements, in walk order.
    pub items: Vec<T>,
    /// Problems met (bad pointer, loop, bound reached); the walk stopped at the first.
    pub warnings: Vec<String>,
}

impl<T> Default for Walk<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// How a list is laid out and where it starts (crash's `list` modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStart {
    /// `start` is the first structure; the pointer at `start + offset` points to the next
    /// structure itself (a singly linked `next` chain). Ends at NULL or back at `start`.
    Chain(u64),
    /// `start` is a structure with an embedded `list_head` at `offset` (crash `-h`); it is
    /// the first entry.
    Embedded(u64),
    /// `start` is the address of a standalone `list_head` (crash `-H`), not an entry.
    Head(u64),
    /// An `hlist_nulls` chain from its first node: like `Chain`, but it ends at a "nulls"
    /// marker (a value with bit 0 set, `is_a_nulls()` in include/linux/list_nulls.h), not NULL.
    NullsChain(u64),
}

/// Whether `a` can be a list or tree node: nodes hold pointers, so they are 8-byte aligned.
/// Anything else (an `hlist_nulls` end marker, a tagged word, garbage) stops a walk.
pub fn valid_node(a: u64) -> bool {
    a % 8 == 0
}

/// Options of a list walk.
#[derive(Debug, Clone, Copy)]
pub struct ListOpts {
    /// Offset of the `next` pointer / `list_head` in each structure.
    pub offset: u64,
    /// Follow `prev` instead of `next` (list_head lists only).
    pub reverse: bool,
    /// Stop at this structure address (not included).
    pub end: Option<u64>,
    /// Most entries returned.
    pub bound: usize,
}

impl Default for ListOpts {
    fn default() -> Self {
        Self {
            offset: 0,
            reverse: false,
            end: None,
            bound: DEFAULT_BOUND,
        }
    }
}

/// Walks a linked list; returns structure addresses (list_head address − offset).
pub fn list(k: &dyn Target, start: ListStart, o: &ListOpts) -> Walk<u64> {
    let mut w = Walk::default();
    let link = if o.reverse { 8 } else { 0 };
    let read = |a: u64| k.read_u64(Kva(a));
    let mut seen = HashSet::new();
    match start {
        ListStart::Chain(first) | ListStart::NullsChain(first) => {
            let nulls = matches!(start, ListStart::NullsChain(_));
            let mut cur = first;
            while cur != 0 {
                if nulls && cur & 1 == 1 {
                    break;
                }
                if !valid_node(cur) {
                    w.warnings.push(format!(
                        "{cur:#x} is not a valid node (misaligned{}); walk stopped",
                        if cur & 1 == 1 {
                            ": an hlist_nulls end marker? walk it with hlist_nulls_for_each_entry"
                        } else {
                            ""
                        }
                    ));
                    break;
                }
                if Some(cur) == o.end {
                    break;
                }
                if !seen.insert(cur) {
                    w.warnings.push(format!("list loop: {cur:#x} seen twice"));
                    break;
                }
                if w.items.len() >= o.bound {
                    w.warnings
                        .push(format!("stopped after {} entries", o.bound));
                    break;
                }
                w.items.push(cur);
                let at = cur.wrapping_add(o.offset);
                match read(at) {
                    Ok(n) => cur = n,
                    Err(e) => {
                        w.warnings
                            .push(format!("cannot read next pointer at {at:#x}: {e}"));
                        break;
                    }
                }
                if cur == first {
                    break;
                }
            }
        }
        ListStart::Embedded(_) | ListStart::Head(_) => {
            let (head_lh, include_head) = match start {
                ListStart::Embedded(s) => (s.wrapping_add(o.offset), true),
                ListStart::Head(h) => (h, false),
                ListStart::Chain(_) | ListStart::NullsChain(_) => unreachable_chain(),
            };
            if include_head {
                w.items.push(head_lh.wrapping_sub(o.offset));
            }
            let mut lh = head_lh;
            loop {
                let at = lh.wrapping_add(link);
                let next = match read(at) {
                    Ok(n) => n,
                    Err(e) => {
                        w.warnings.push(format!(
                            "cannot read list_head.{} at {at:#x}: {e}",
                            if o.reverse { "prev" } else { "next" }
                        ));
                        break;
                    }
                };
                if next == head_lh {
                    break;
                }
                if next == 0 {
                    w.warnings.push(format!("NULL list pointer at {at:#x}"));
                    break;
                }
                if !valid_node(next) {
                    w.warnings.push(format!(
                        "list pointer {next:#x} at {at:#x} is not a valid node (misaligned); walk stopped"
                    ));
                    break;
                }
                let entry = next.wrapping_sub(o.offset);
                if Some(entry) == o.end {
                    break;
                }
                if !seen.insert(next) {
                    w.warnings.push(format!(
                        "list loop: {next:#x} seen twice (head {head_lh:#x})"
                    ));
                    break;
                }
                if w.items.len() >= o.bound {
                    w.warnings
                        .push(format!("stopped after {} entries", o.bound));
                    break;
                }
                w.items.push(entry);
                lh = next;
            }
        }
    }
    w
}

/// The `Chain` arm is handled above; this keeps the match exhaustive without a panic.
fn unreachable_chain() -> (u64, bool) {
    (0, false)
}

fn off(types: &TypeIndex, ty: &str, member: &str) -> Result<u64> {
    let t = types
        .find_type(ty)
        .ok_or_else(|| ValueError::NoType(ty.into()))?;
    types
        .member(t, member)
        .map(|m| m.offset)
        .map_err(|_| ValueError::NoMember {
            type_name: ty.into(),
            member: member.into(),
        })
}

fn array_len(types: &TypeIndex, ty: &str, member: &str) -> Result<u64> {
    let t = types
        .find_type(ty)
        .ok_or_else(|| ValueError::NoType(ty.into()))?;
    let m = types.member(t, member)?;
    match &*types.get(types.resolve(m.ty)?)? {
        Type::Array { count: Some(n), .. } => Ok(*n),
        _ => Err(ValueError::BadOp {
            op: "array length",
            type_name: format!("{ty}.{member}"),
        }),
    }
}

/// Order of an rbtree walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbOrder {
    /// Smallest first (`rb_first`/`rb_next`, drgn's `rbtree_inorder_for_each`).
    InOrder,
    /// Node, then left subtree, then right subtree (crash's `tree -t rbtree` order).
    PreOrder,
}

/// Walk of an rbtree from its `struct rb_root` at `root` (or, with `is_node`, from the node at
/// `root` as the root), in `order`. Returns `rb_node` addresses.
pub fn rbtree_ordered(
    k: &dyn Target,
    root: u64,
    is_node: bool,
    order: RbOrder,
    bound: usize,
) -> Result<Walk<u64>> {
    if order == RbOrder::InOrder {
        return rbtree(k, root, is_node, bound);
    }
    let mut w = Walk::default();
    let Some(RbStart { left, right, first }) = rb_start(k, root, is_node, &mut w)? else {
        return Ok(w);
    };
    let mut stack = vec![first];
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if n == 0 {
            continue;
        }
        if !valid_node(n) {
            w.warnings.push(format!(
                "{n:#x} is not a valid rb_node (misaligned); walk stopped"
            ));
            break;
        }
        if !seen.insert(n) {
            w.warnings.push(format!("rbtree loop at node {n:#x}"));
            break;
        }
        if w.items.len() >= bound {
            w.warnings.push(format!("stopped after {bound} nodes"));
            break;
        }
        w.items.push(n);
        let l = k.read_u64(Kva(n.wrapping_add(left)));
        let r = k.read_u64(Kva(n.wrapping_add(right)));
        match (l, r) {
            (Ok(l), Ok(r)) => {
                stack.push(r);
                stack.push(l);
            }
            (Err(e), _) | (_, Err(e)) => {
                w.warnings
                    .push(format!("cannot read children of rb_node {n:#x}: {e}"));
                break;
            }
        }
    }
    Ok(w)
}

/// Where an rbtree walk starts: the child offsets of `struct rb_node` and the first node.
struct RbStart {
    left: u64,
    right: u64,
    first: u64,
}

/// The start of a walk from the `struct rb_root` at `root` (or, with `is_node`, the node at
/// `root`); `None`, with a warning in `w`, when the root cannot be read.
fn rb_start(
    k: &dyn Target,
    root: u64,
    is_node: bool,
    w: &mut Walk<u64>,
) -> Result<Option<RbStart>> {
    let types = k.type_index()?;
    let left = off(types, "struct rb_node", "rb_left")?;
    let right = off(types, "struct rb_node", "rb_right")?;
    let first = if is_node {
        root
    } else {
        match k.read_u64(Kva(root)) {
            Ok(n) => n,
            Err(e) => {
                w.warnings
                    .push(format!("cannot read rb_root.rb_node at {root:#x}: {e}"));
                return Ok(None);
            }
        }
    };
    Ok(Some(RbStart { left, right, first }))
}

/// In-order walk of an rbtree from its `struct rb_root` at `root` (or, with `is_node`, from
/// the node at `root` as the root). Returns `rb_node` addresses, smallest first.
pub fn rbtree(k: &dyn Target, root: u64, is_node: bool, bound: usize) -> Result<Walk<u64>> {
    let mut w = Walk::default();
    let Some(RbStart { left, right, first }) = rb_start(k, root, is_node, &mut w)? else {
        return Ok(w);
    };
    let mut stack: Vec<u64> = Vec::new();
    let mut seen = HashSet::new();
    let mut cur = first;
    loop {
        while cur != 0 {
            if !valid_node(cur) {
                w.warnings.push(format!(
                    "{cur:#x} is not a valid rb_node (misaligned); walk stopped"
                ));
                return Ok(w);
            }
            if !seen.insert(cur) {
                w.warnings.push(format!("rbtree loop at node {cur:#x}"));
                return Ok(w);
            }
            stack.push(cur);
            match k.read_u64(Kva(cur.wrapping_add(left))) {
                Ok(l) => cur = l,
                Err(e) => {
                    w.warnings
                        .push(format!("cannot read rb_left of {cur:#x}: {e}"));
                    return Ok(w);
                }
            }
        }
        let Some(n) = stack.pop() else { break };
        if w.items.len() >= bound {
            w.warnings.push(format!("stopped after {bound} nodes"));
            break;
        }
        w.items.push(n);
        match k.read_u64(Kva(n.wrapping_add(right))) {
            Ok(r) => cur = r,
            Err(e) => {
                w.warnings
                    .push(format!("cannot read rb_right of {n:#x}: {e}"));
                break;
            }
        }
    }
    Ok(w)
}

/// `xa_is_node()`: an internal entry above the reserved range (`(e & 3) == 2 && e > 4096`).
fn xa_is_node(e: u64) -> bool {
    e & 3 == 2 && e > 4096
}

/// `xa_is_internal()`.
fn xa_is_internal(e: u64) -> bool {
    e & 3 == 2
}

/// `XA_ZERO_ENTRY` (`xa_mk_internal(257)`).
const XA_ZERO_ENTRY: u64 = (257 << 2) | 2;

/// `xa_for_each()` over the `struct xarray` at `xa` (a radix tree root or an IDR's `idr_rt`
/// too): (index, entry) pairs in index order; sibling, retry and zero entries are skipped.
pub fn xarray(k: &dyn Target, xa: u64, bound: usize) -> Result<Walk<(u64, u64)>> {
    let types = k.type_index()?;
    let head_off = off(types, "struct xarray", "xa_head")?;
    let shift_off = off(types, "struct xa_node", "shift")?;
    let slots_off = off(types, "struct xa_node", "slots")?;
    let nslots = array_len(types, "struct xa_node", "slots")?;
    let mut w = Walk::default();
    let head = match k.read_u64(Kva(xa.wrapping_add(head_off))) {
        Ok(h) => h,
        Err(e) => {
            w.warnings
                .push(format!("cannot read xa_head at {xa:#x}: {e}"));
            return Ok(w);
        }
    };
    if head == 0 {
        return Ok(w);
    }
    if !xa_is_node(head) {
        if !xa_is_internal(head) {
            w.items.push((0, head));
        }
        return Ok(w);
    }
    // Depth-first, slots in order: (node entry, first index it covers, depth).
    let mut stack = vec![(head, 0u64, 0usize)];
    let mut seen = HashSet::new();
    while let Some((entry, base, depth)) = stack.pop() {
        let node = entry - 2;
        if depth > 16 || !seen.insert(node) {
            w.warnings
                .push(format!("xarray loop or too deep at node {node:#x}"));
            break;
        }
        let shift = match k.read_u8(Kva(node.wrapping_add(shift_off))) {
            Ok(s) => u32::from(s),
            Err(e) => {
                w.warnings
                    .push(format!("cannot read xa_node at {node:#x}: {e}"));
                break;
            }
        };
        let mut slots = vec![0u8; (nslots * 8) as usize];
        if let Err(e) = k.read_virt(Kva(node.wrapping_add(slots_off)), &mut slots) {
            w.warnings
                .push(format!("cannot read slots of xa_node {node:#x}: {e}"));
            break;
        }
        let mut children = Vec::new();
        for (i, c) in slots.chunks_exact(8).enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            let e = u64::from_le_bytes(b);
            let index = base.wrapping_add((i as u64).checked_shl(shift).unwrap_or(0));
            if e == 0 {
                continue;
            }
            if xa_is_node(e) && shift > 0 {
                children.push((e, index, depth + 1));
            } else if xa_is_internal(e) || e == XA_ZERO_ENTRY {
                continue;
            } else {
                if w.items.len() >= bound {
                    w.warnings.push(format!("stopped after {bound} entries"));
                    return Ok(w);
                }
                w.items.push((index, e));
            }
        }
        if !children.is_empty() {
            // Entries of this node and its children interleave by index: keep order by
            // handling leaves first only when the node has no children (leaf level), else
            // recurse in slot order.
            for c in children.into_iter().rev() {
                stack.push(c);
            }
        }
    }
    w.items.sort_by_key(|(i, _)| *i);
    Ok(w)
}

/// `idr_for_each()` over the `struct idr` at `idr`: (id, pointer) pairs.
pub fn idr(k: &dyn Target, idr: u64, bound: usize) -> Result<Walk<(u64, u64)>> {
    let types = k.type_index()?;
    let rt = off(types, "struct idr", "idr_rt")?;
    let base_off = off(types, "struct idr", "idr_base")?;
    let base = u64::from(k.read_u32(Kva(idr.wrapping_add(base_off))).unwrap_or(0));
    let mut w = xarray(k, idr.wrapping_add(rt), bound)?;
    for it in &mut w.items {
        it.0 = it.0.wrapping_add(base);
    }
    Ok(w)
}

/// One maple tree entry: the inclusive index range it covers and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapleEntry {
    /// First index.
    pub first: u64,
    /// Last index (inclusive).
    pub last: u64,
    /// The entry.
    pub entry: u64,
}

/// `mt_for_each()` over the `struct maple_tree` at `mt`, in index order; zero entries skipped.
pub fn maple(k: &dyn Target, mt: u64, bound: usize) -> Result<Walk<MapleEntry>> {
    const MAPLE_NODE_MASK: u64 = 255;
    const MAPLE_LEAF_64: u64 = 1;
    const MAPLE_RANGE_64: u64 = 2;
    const MAPLE_ARANGE_64: u64 = 3;
    let types = k.type_index()?;
    let root_off = off(types, "struct maple_tree", "ma_root")?;
    let n = "struct maple_node";
    let r_piv = off(types, n, "mr64.pivot")?;
    let r_slot = off(types, n, "mr64.slot")?;
    let r_end = off(types, n, "mr64.meta.end")?;
    let r_npiv = array_len(types, n, "mr64.pivot")?;
    let a_piv = off(types, n, "ma64.pivot")?;
    let a_slot = off(types, n, "ma64.slot")?;
    let a_end = off(types, n, "ma64.meta.end")?;
    let a_npiv = array_len(types, n, "ma64.pivot")?;
    let mut w = Walk::default();
    let root = match k.read_u64(Kva(mt.wrapping_add(root_off))) {
        Ok(r) => r,
        Err(e) => {
            w.warnings
                .push(format!("cannot read ma_root at {mt:#x}: {e}"));
            return Ok(w);
        }
    };
    if !xa_is_node(root) {
        if root != 0 {
            w.items.push(MapleEntry {
                first: 0,
                last: 0,
                entry: root,
            });
        }
        return Ok(w);
    }
    let mut stack = vec![(root, 0u64, u64::MAX, 0usize)];
    let mut seen = HashSet::new();
    while let Some((entry, min, max, depth)) = stack.pop() {
        let node = entry & !MAPLE_NODE_MASK;
        let ty = (entry >> 3) & 0xf;
        if depth > 32 || !seen.insert(node) {
            w.warnings
                .push(format!("maple tree loop or too deep at node {node:#x}"));
            break;
        }
        let (piv, slot, end_off, npiv) = match ty {
            MAPLE_ARANGE_64 => (a_piv, a_slot, a_end, a_npiv),
            MAPLE_RANGE_64 | MAPLE_LEAF_64 => (r_piv, r_slot, r_end, r_npiv),
            _ => {
                w.warnings
                    .push(format!("maple node {node:#x}: unsupported node type {ty}"));
                continue;
            }
        };
        let rd = |o: u64| k.read_u64(Kva(node.wrapping_add(o)));
        let pivots: Vec<u64> = match (0..npiv).map(|i| rd(piv + i * 8)).collect() {
            Ok(p) => p,
            Err(e) => {
                w.warnings
                    .push(format!("cannot read maple node {node:#x}: {e}"));
                break;
            }
        };
        let meta_end = u64::from(k.read_u8(Kva(node.wrapping_add(end_off))).unwrap_or(0));
        let end = if ty == MAPLE_ARANGE_64 {
            meta_end
        } else {
            match pivots.last().copied() {
                Some(0) | None => meta_end,
                Some(p) if p == max => npiv - 1,
                Some(_) => npiv,
            }
        }
        .min(npiv);
        let slots: Vec<u64> = match (0..=end).map(|i| rd(slot + i * 8)).collect() {
            Ok(s) => s,
            Err(e) => {
                w.warnings
                    .push(format!("cannot read maple slots of {node:#x}: {e}"));
                break;
            }
        };
        let leaf = ty < MAPLE_RANGE_64;
        let mut prev = min;
        let mut ranges = Vec::new();
        for (i, s) in slots.iter().enumerate() {
            let last = if (i as u64) < end {
                pivots.get(i).copied().unwrap_or(max)
            } else {
                max
            };
            ranges.push((prev, last, *s));
            prev = last.wrapping_add(1);
        }
        if leaf {
            for (first, last, e) in ranges {
                if e != 0 && e != XA_ZERO_ENTRY {
                    if w.items.len() >= bound {
                        w.warnings.push(format!("stopped after {bound} entries"));
                        return Ok(w);
                    }
                    w.items.push(MapleEntry {
                        first,
                        last,
                        entry: e,
                    });
                }
            }
        } else {
            for (first, last, e) in ranges.into_iter().rev() {
                stack.push((e, first, last, depth + 1));
            }
        }
    }
    Ok(w)
}
