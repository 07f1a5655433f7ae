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
int main(void) { return g_node.id + (g_head.next != 0) + (g_msg != 0); }
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
