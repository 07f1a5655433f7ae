//! Unit tests of the value layer on synthetic inputs: a small C program compiled with `gcc -g`
//! inside the test gives the types; objects are laid out by hand in a `MockMemory`. gcc is
//! required: a missing compiler fails the tests loudly.

use super::format::{format_top, format_value, FormatOptions, Radix};
use super::walk::{self, ListOpts, ListStart};
use super::{expr, PathCache, Scalar, Target, Value, ValueError};
use crate::addr::Kva;
use crate::debuginfo::{TypeId, TypeIndex};
use crate::memory::{MemoryError, MemoryReader, MockMemory};
use std::process::Command;
use std::sync::{Arc, OnceLock};

const SRC: &str = r#"
struct list_head { struct list_head *next, *prev; };
enum color { RED = 0, GREEN = 5, BLUE = 10 };
struct bits { unsigned a:3; int b:5; unsigned char c; };
struct node { int id; char name[8]; enum color col; struct bits bf; struct node *peer;
              struct list_head link; long vals[]; };
struct msg { int len; char text[]; };
struct node g_node;
struct list_head g_head;
struct msg *g_msg;
struct holder { struct node **pp; struct node *arr[3]; void *vp; int (*fp)(int); long *lp; };
struct holder g_holder;
int twice(int x) { return 2 * x; }
int main(void) {
    return g_node.id + (g_head.next != 0) + (g_msg != 0) + (g_holder.fp == twice);
}
"#;

fn index() -> &'static TypeIndex {
    static IDX: OnceLock<TypeIndex> = OnceLock::new();
    IDX.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rkdump-value-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let c = dir.join("v.c");
        let o = dir.join("v");
        std::fs::write(&c, SRC).expect("write source");
        let st = Command::new("gcc")
            .args(["-g", "-gdwarf-5", "-O0", "-o"])
            .arg(&o)
            .arg(&c)
            .status()
            .expect("gcc is required for the value unit tests");
        assert!(st.success(), "gcc failed");
        let bytes: Arc<dyn AsRef<[u8]> + Send + Sync> =
            Arc::new(std::fs::read(&o).expect("read object"));
        TypeIndex::build(bytes, None).expect("index")
    })
}

struct Mock {
    mem: MockMemory,
    paths: PathCache,
    globals: Vec<(String, u64, TypeId)>,
}

impl MemoryReader for Mock {
    fn read_virt(&self, kva: Kva, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.mem.read_virt(kva, buf)
    }
}

impl Target for Mock {
    fn type_index(&self) -> super::Result<&TypeIndex> {
        Ok(index())
    }
    fn symbol_near(&self, addr: u64) -> Option<(String, u64)> {
        self.globals
            .iter()
            .find(|(_, a, _)| addr >= *a && addr < a + 64)
            .map(|(n, a, _)| (n.clone(), addr - a))
    }
    fn global_var(&self, name: &str) -> Option<(u64, TypeId)> {
        self.globals
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, a, t)| (*a, *t))
    }
    fn symbol_address(&self, name: &str) -> Option<u64> {
        self.global_var(name).map(|g| g.0)
    }
    fn symbols_at(&self, _addr: u64) -> Vec<String> {
        Vec::new()
    }
    fn is_percpu_offset(&self, _addr: u64) -> bool {
        false
    }
    fn cpu_offsets(&self) -> &[u64] {
        &[]
    }
    fn path_cache(&self) -> &PathCache {
        &self.paths
    }
}

const NODE_A: u64 = 0x1000;
const NODE_B: u64 = 0x2000;
const HEAD: u64 = 0x3000;

/// Two nodes: A (id 7, "alpha", GREEN, bits a=5 b=-3 c=200, peer → B) and B (peer NULL), both
/// on the list headed at HEAD.
fn mock() -> Mock {
    let idx = index();
    let node = idx.find_type("struct node").expect("struct node");
    let lh = idx.find_type("struct list_head").expect("list_head");
    let off = |m: &str| idx.member(node, m).expect("member").offset;
    let mut mem = MockMemory::new();
    for base in [NODE_A, NODE_B] {
        mem.write(base, &[0u8; 0x100]);
    }
    mem.write(HEAD, &[0u8; 16]);
    mem.write(NODE_A + off("id"), &7i32.to_le_bytes());
    mem.write(NODE_A + off("name"), b"alpha\0\0\0");
    mem.write(NODE_A + off("col"), &5u32.to_le_bytes());
    // a:3 = 5 (bits 0..3), b:5 = -3 (bits 3..8, 0b11101), c = 200.
    let bits: u8 = 5 | (0b11101 << 3);
    mem.write(NODE_A + off("bf"), &[bits, 0, 0, 0]);
    mem.write(NODE_A + off("bf.c"), &[200]);
    mem.write_u64(NODE_A + off("peer"), NODE_B);
    mem.write(NODE_B + off("id"), &(-1i32).to_le_bytes());
    mem.write(NODE_B + off("name"), b"beta\0\0\0\0");
    mem.write_u64(NODE_A + off("vals"), 11);
    mem.write_u64(NODE_A + off("vals") + 8, 22);
    // HEAD <-> A.link <-> B.link <-> HEAD
    let (la, lb) = (NODE_A + off("link"), NODE_B + off("link"));
    mem.write_u64(HEAD, la);
    mem.write_u64(HEAD + 8, lb);
    mem.write_u64(la, lb);
    mem.write_u64(la + 8, HEAD);
    mem.write_u64(lb, HEAD);
    mem.write_u64(lb + 8, la);
    Mock {
        mem,
        paths: PathCache::new(),
        globals: vec![("g_node".into(), NODE_A, node), ("g_head".into(), HEAD, lh)],
    }
}

fn node_ty() -> TypeId {
    index().find_type("struct node").expect("struct node")
}

#[test]
fn members_pointers_bitfields_enums() {
    let k = mock();
    let a = Value::at(node_ty(), NODE_A);
    assert_eq!(a.member_u64(&k, "id").ok(), Some(7));
    assert_eq!(
        a.member(&k, "name")
            .and_then(|v| v.string(&k))
            .ok()
            .as_deref(),
        Some("alpha")
    );
    // Pointer-transparent: peer is a pointer; `.` and `->` both follow it.
    assert_eq!(
        a.member(&k, "peer.id").and_then(|v| v.to_i64(&k)).ok(),
        Some(-1)
    );
    assert_eq!(
        a.member(&k, "peer->name")
            .and_then(|v| v.string(&k))
            .ok()
            .as_deref(),
        Some("beta")
    );
    // Bitfields: unsigned and signed, also through the fast path.
    assert_eq!(a.member_u64(&k, "bf.a").ok(), Some(5));
    assert_eq!(
        a.member(&k, "bf.b").and_then(|v| v.to_i64(&k)).ok(),
        Some(-3)
    );
    assert_eq!(a.member_u64(&k, "bf.b").ok(), Some(-3i64 as u64));
    assert_eq!(a.member_u64(&k, "bf.c").ok(), Some(200));
    // Enums give the value and the enumerator.
    assert_eq!(
        a.member(&k, "col").and_then(|v| v.scalar(&k)).ok(),
        Some(Scalar::Enum {
            value: 5,
            name: Some("GREEN".into())
        })
    );
    // Flexible array: index past the declared (absent) bound.
    assert_eq!(a.member_u64(&k, "vals[1]").ok(), Some(22));
    assert_eq!(
        a.member(&k, "vals")
            .and_then(|v| v.index(&k, 0))
            .and_then(|v| v.to_u64(&k))
            .ok(),
        Some(11)
    );
    // NULL pointer: B's peer.
    let b = Value::at(node_ty(), NODE_B);
    match b.member(&k, "peer.id") {
        Err(ValueError::NullPointer {
            pointer, member, ..
        }) => {
            assert_eq!((pointer.as_str(), member.as_str()), ("peer", "peer.id"))
        }
        other => panic!("expected NullPointer, got {other:?}"),
    }
    assert!(matches!(
        b.member_u64(&k, "peer.id"),
        Err(ValueError::NullPointer { .. })
    ));
    // Unknown member names the type and the path.
    match a.member(&k, "bf.zz") {
        Err(ValueError::NoMember { type_name, member }) => {
            assert_eq!(
                (type_name.as_str(), member.as_str()),
                ("struct node", "bf.zz")
            )
        }
        other => panic!("expected NoMember, got {other:?}"),
    }
    // container_of and address_of round-trip.
    let link = a.member(&k, "link").expect("link");
    let la = link.address().expect("address");
    let back = Value::container_of(&k, la, node_ty(), "link").expect("container_of");
    assert_eq!(back.address(), Some(NODE_A));
    let p = a.address_of(&k).expect("&a");
    assert_eq!(p.to_u64(&k).ok(), Some(NODE_A));
    assert_eq!(p.member_u64(&k, "id").ok(), Some(7));
    // Unreadable memory names the type and the address.
    let bad = Value::at(node_ty(), 0x9000);
    match bad.member_u64(&k, "id") {
        Err(ValueError::Read {
            addr, type_name, ..
        }) => {
            assert_eq!((addr, type_name.as_str()), (0x9000, "int"))
        }
        other => panic!("expected Read, got {other:?}"),
    }
}

#[test]
fn gdb_style_printing() {
    let k = mock();
    let a = Value::at(node_ty(), NODE_A);
    let s = format_value(
        &k,
        &a.member(&k, "bf").expect("bf"),
        &FormatOptions::default(),
    )
    .expect("format");
    assert_eq!(s, "{\n  a = 5,\n  b = -3,\n  c = 200 '\\310'\n}");
    let col = a.member(&k, "col").expect("col");
    assert_eq!(
        format_value(&k, &col, &FormatOptions::default())
            .ok()
            .as_deref(),
        Some("GREEN")
    );
    let hex = FormatOptions {
        radix: Radix::Hex,
        ..FormatOptions::default()
    };
    assert_eq!(
        format_value(&k, &a.member(&k, "id").expect("id"), &hex)
            .ok()
            .as_deref(),
        Some("0x7")
    );
    let name = a.member(&k, "name").expect("name");
    assert_eq!(
        format_value(&k, &name, &FormatOptions::default())
            .ok()
            .as_deref(),
        Some("\"alpha\\000\\000\"")
    );
    let peer = a.member(&k, "peer").expect("peer");
    assert_eq!(
        format_top(&k, &peer, &FormatOptions::default())
            .ok()
            .as_deref(),
        Some("(struct node *) 0x2000")
    );
    let link = a.member(&k, "link").expect("link");
    let text = format_value(&k, &link, &FormatOptions::default()).expect("link");
    assert!(text.starts_with("{\n  next = 0x20"), "{text}");
}

/// A flexible `char` array prints where it starts and the string stored there, as gdb does.
#[test]
fn flexible_char_array_shows_its_string() {
    let mut k = mock();
    let msg = index().find_type("struct msg").expect("struct msg");
    const MSG: u64 = 0x5000;
    k.mem.write(MSG, &[0u8; 0x400]);
    k.mem.write(MSG, &[2, 0, 0, 0, b'h', b'i', 0, b'x']);
    let text = Value::at(msg, MSG).member(&k, "text").expect("text");
    assert_eq!(
        format_value(&k, &text, &FormatOptions::default())
            .ok()
            .as_deref(),
        Some("0x5004 \"hi\"")
    );
}

#[test]
fn expressions() {
    let k = mock();
    let ev = |s: &str| expr::eval(&k, &expr::parse(&k, s).expect(s), None);
    assert_eq!(
        ev("g_node.peer->id").and_then(|v| v.to_i64(&k)).ok(),
        Some(-1)
    );
    assert_eq!(
        ev("g_node.name[1]").and_then(|v| v.to_u64(&k)).ok(),
        Some(u64::from(b'l'))
    );
    assert_eq!(
        ev("(*g_node.peer).id").and_then(|v| v.to_i64(&k)).ok(),
        Some(-1)
    );
    assert_eq!(ev("&g_node").and_then(|v| v.to_u64(&k)).ok(), Some(NODE_A));
    assert_eq!(
        ev("((struct node *)0x2000)->id")
            .and_then(|v| v.to_i64(&k))
            .ok(),
        Some(-1)
    );
    assert_eq!(
        ev("sizeof(struct list_head)")
            .and_then(|v| v.to_u64(&k))
            .ok(),
        Some(16)
    );
    assert_eq!(
        ev("&g_node + 1").and_then(|v| v.to_u64(&k)).ok(),
        Some(NODE_A + index().size_of(node_ty()).unwrap_or(0))
    );
    assert_eq!(ev("GREEN").and_then(|v| v.to_u64(&k)).ok(), Some(5));
    assert!(matches!(ev("nope"), Err(ValueError::NoSymbol(_))));
    assert!(expr::parse(&k, "g_node.").is_err());
    assert!(expr::parse(&k, "g_node[1").is_err());
}

#[test]
fn list_walks_and_loops() {
    let mut k = mock();
    let off = index().member(node_ty(), "link").expect("link").offset;
    let o = ListOpts {
        offset: off,
        ..ListOpts::default()
    };
    let w = walk::list(&k, ListStart::Head(HEAD), &o);
    assert_eq!(w.items, vec![NODE_A, NODE_B]);
    assert!(w.warnings.is_empty());
    let r = walk::list(&k, ListStart::Head(HEAD), &ListOpts { reverse: true, ..o });
    assert_eq!(r.items, vec![NODE_B, NODE_A]);
    // -h from A: the standalone head is met on the way round and shows as an entry (as crash).
    let e = walk::list(&k, ListStart::Embedded(NODE_A), &o);
    assert_eq!(e.items, vec![NODE_A, NODE_B, HEAD - off]);
    // A loop B -> A (never back to HEAD) is detected; entries read so far are kept.
    k.mem.write_u64(NODE_B + off, NODE_A + off);
    let l = walk::list(&k, ListStart::Head(HEAD), &o);
    assert_eq!(l.items, vec![NODE_A, NODE_B]);
    assert!(
        l.warnings.iter().any(|w| w.contains("loop")),
        "{:?}",
        l.warnings
    );
    // A bad pointer ends the walk with a warning.
    k.mem.write_u64(NODE_B + off, 0xdead_0000);
    let b = walk::list(&k, ListStart::Head(HEAD), &o);
    assert_eq!(b.items.first(), Some(&NODE_A));
    assert!(!b.warnings.is_empty());
    // Bound.
    let one = walk::list(&k, ListStart::Head(HEAD), &ListOpts { bound: 1, ..o });
    assert_eq!(one.items.len(), 1);
}

const HOLDER: u64 = 0x4000;
const PTRS: u64 = 0x5000;
const LONGS: u64 = 0x6000;
/// A kernel-half address, to check that addresses stay unsigned.
const KVA: u64 = 0xffff_8a7a_c11f_c800;

/// The nodes of [`mock`] plus a `struct holder` at HOLDER: `pp` → PTRS = {A, B, NULL},
/// `arr` = {B, A, NULL}, `vp` = KVA, `fp` = 0xffffffff81000000, `lp` → LONGS = {5, 6, 7}.
fn pointer_mock() -> (Mock, Value) {
    let mut k = mock();
    let idx = index();
    let holder = idx.find_type("struct holder").expect("struct holder");
    let off = |m: &str| idx.member(holder, m).expect("member").offset;
    k.mem.write(HOLDER, &[0u8; 0x40]);
    k.mem.write_u64(HOLDER + off("pp"), PTRS);
    for (i, p) in [NODE_A, NODE_B, 0].into_iter().enumerate() {
        k.mem.write_u64(PTRS + 8 * i as u64, p);
    }
    for (i, p) in [NODE_B, NODE_A, 0].into_iter().enumerate() {
        k.mem.write_u64(HOLDER + off("arr") + 8 * i as u64, p);
    }
    k.mem.write_u64(HOLDER + off("vp"), KVA);
    k.mem.write_u64(HOLDER + off("fp"), 0xffff_ffff_8100_0000);
    k.mem.write_u64(HOLDER + off("lp"), LONGS);
    for (i, n) in [5u64, 6, 7].into_iter().enumerate() {
        k.mem.write_u64(LONGS + 8 * i as u64, n);
    }
    (k, Value::at(holder, HOLDER))
}

#[test]
fn pointer_to_pointer_members_index_to_pointers() {
    let (k, h) = pointer_mock();
    let t = index();
    let pp = h.member(&k, "pp").expect("pp");
    assert_eq!(t.type_name(pp.ty()), "struct node **");
    // pp[i] of a `struct node **` is a `struct node *`, read from the array pp points to.
    let p1 = pp.index(&k, 1).expect("pp[1]");
    assert_eq!(t.type_name(p1.ty()), "struct node *");
    assert_eq!(p1.to_u64(&k).ok(), Some(NODE_B));
    assert_eq!(p1.address(), Some(PTRS + 8));
    assert_eq!(
        p1.member(&k, "id").and_then(|v| v.to_i64(&k)).ok(),
        Some(-1)
    );
    assert_eq!(
        pp.index(&k, 0)
            .and_then(|p| p.member(&k, "name"))
            .and_then(|v| v.string(&k))
            .ok()
            .as_deref(),
        Some("alpha")
    );
    // deref(pp) is pp[0].
    assert_eq!(pp.deref(&k).and_then(|p| p.to_u64(&k)).ok(), Some(NODE_A));
    // pp[2] is NULL: a NULL pointer that equals 0 and errors on member access.
    let p2 = pp.index(&k, 2).expect("pp[2]");
    assert_eq!(p2.is_null(&k).ok(), Some(true));
    assert_eq!(p2.to_u64(&k).ok(), Some(0));
    assert!(matches!(
        p2.member(&k, "id"),
        Err(ValueError::NullPointer { .. })
    ));
}

#[test]
fn arrays_of_pointers_index_like_pointers() {
    let (k, h) = pointer_mock();
    let t = index();
    let arr = h.member(&k, "arr").expect("arr");
    assert_eq!(t.type_name(arr.ty()), "struct node *[3]");
    let a0 = arr.index(&k, 0).expect("arr[0]");
    assert_eq!(t.type_name(a0.ty()), "struct node *");
    assert_eq!(a0.to_u64(&k).ok(), Some(NODE_B));
    assert_eq!(
        arr.index(&k, 1).and_then(|p| p.member_u64(&k, "id")).ok(),
        Some(7)
    );
    assert_eq!(
        arr.index(&k, 2).and_then(|p| p.is_null(&k)).ok(),
        Some(true)
    );
    // The same elements through a path, as `arr[1]->id` in C.
    assert_eq!(h.member_u64(&k, "arr[1].id").ok(), Some(7));
}

#[test]
fn pointer_arithmetic_moves_and_counts_elements() {
    let (k, h) = pointer_mock();
    let t = index();
    let node_size = t.size_of(node_ty()).expect("sizeof node");
    // struct node **: steps of one pointer.
    let pp = h.member(&k, "pp").expect("pp");
    assert_eq!(pp.element_size(&k).ok(), Some(8));
    let pp1 = pp.pointer_add(&k, 1).expect("pp + 1");
    assert_eq!(pp1.ty(), pp.ty());
    assert_eq!(pp1.to_u64(&k).ok(), Some(PTRS + 8));
    assert_eq!(pp1.deref(&k).and_then(|p| p.to_u64(&k)).ok(), Some(NODE_B));
    assert_eq!(pp1.pointer_diff(&k, PTRS).ok(), Some(1));
    // struct node *: steps of sizeof(struct node), back and forth.
    let a = h.member(&k, "arr[1]").expect("arr[1]");
    let a3 = a.pointer_add(&k, 3).expect("a + 3");
    assert_eq!(a3.to_u64(&k).ok(), Some(NODE_A + 3 * node_size));
    assert_eq!(a3.pointer_diff(&k, NODE_A).ok(), Some(3));
    let back = a3.pointer_add(&k, -3).expect("a + 3 - 3");
    assert_eq!(back.to_u64(&k).ok(), Some(NODE_A));
    assert_eq!(a.pointer_diff(&k, NODE_A + 2 * node_size).ok(), Some(-2));
    // long *: p[i] and *(p + i) agree.
    let lp = h.member(&k, "lp").expect("lp");
    for i in 0..3 {
        let by_index = lp.index(&k, i).and_then(|v| v.to_u64(&k)).ok();
        let by_add = lp
            .pointer_add(&k, i)
            .and_then(|p| p.deref(&k))
            .and_then(|v| v.to_u64(&k))
            .ok();
        assert_eq!(by_index, by_add);
        assert_eq!(by_index, Some(5 + i as u64));
    }
    // A struct is no pointer: no element arithmetic on it.
    assert!(matches!(
        h.pointer_add(&k, 1),
        Err(ValueError::BadOp { .. })
    ));
}

#[test]
fn void_and_function_pointers_are_plain_addresses() {
    let (k, h) = pointer_mock();
    let t = index();
    for (m, want) in [("vp", KVA), ("fp", 0xffff_ffff_8100_0000)] {
        let p = h.member(&k, m).expect(m);
        assert_eq!(p.is_untyped_pointer(&k).ok(), Some(true), "{m}");
        assert!(
            matches!(p.pointer_add(&k, 1), Err(ValueError::BadOp { .. })),
            "{m}"
        );
        assert!(p.index(&k, 0).is_err(), "{m}");
        // The full unsigned bit pattern, however high.
        assert_eq!(p.to_u64(&k).ok(), Some(want), "{m}");
    }
    for m in ["pp", "lp", "arr[0]"] {
        let p = h.member(&k, m).expect(m);
        assert_eq!(p.is_untyped_pointer(&k).ok(), Some(false), "{m}");
    }
    let holder = t.find_type("struct holder").expect("holder");
    let fp = t.member(holder, "fp").expect("fp").ty;
    let Ok(ty) = t.get(t.resolve(fp).expect("resolve")) else {
        panic!("fp type");
    };
    let crate::debuginfo::Type::Pointer {
        target: Some(f), ..
    } = &*ty
    else {
        panic!("fp is a pointer");
    };
    assert!(!super::pointer::designates_data(t, *f));
    assert!(super::pointer::designates_data(t, node_ty()));
    // Printed C-like, the addresses are hex.
    let text = format_value(
        &k,
        &h.member(&k, "vp").expect("vp"),
        &FormatOptions::default(),
    )
    .expect("format vp");
    assert!(text.contains("0xffff8a7ac11fc800"), "{text}");
}
