//! Unit tests of the DWARF type index on synthetic DWARF: small C programs compiled with
//! `gcc -g -gdwarf-4` and `-gdwarf-5` inside the test. Ground truth comes from the compiled
//! program itself (it prints `offsetof`/`sizeof` and probes bitfields at run time) and from `nm`.
//! gcc is required: a missing compiler fails the tests loudly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use super::TypeIndex;
use crate::debuginfo::types::{BaseEncoding, StructKind, Type, TypeId};
use crate::debuginfo::DebugInfoError;

const A_C: &str = r#"
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct list_head { struct list_head *next, *prev; };
typedef unsigned long ulong_t;
typedef ulong_t my_ulong;
typedef const volatile my_ulong cv_ulong;
enum color { RED = 0, GREEN = 5, BLUE = 10 };
enum neg { NEG_A = -1, NEG_B = -100, NEG_C = 3, NEG_D = 236 };
enum big { BIG_A = 0xffffffffu };
struct bits { unsigned a:3; unsigned b:5; int c:12; unsigned long d:40; unsigned char e; long f:7; };
struct inner { int x; long y; };
struct opaque;
struct outer {
    int first;
    struct inner in;
    union { int u_i; char u_c[8]; struct { short deep_a; short deep_b; } deep; };
    struct { short s1; short s2; };
    int grid[2][3];
    char name[16];
    int (*fn)(struct outer *, int);
    void (*vfn)(const char *, ...);
    const char *str;
    volatile int vol;
    struct list_head list;
    struct opaque *op;
    cv_ulong cvu;
    enum color col;
    struct inner *inp;
    int flex[];
};
struct zero { int n; int z[0]; };

struct outer g_outer;
int g_array[7] = {1};
struct bits g_bits;
static int g_static = 5;
enum neg g_neg = NEG_B;
enum big g_big;
struct list_head g_list;
struct zero g_zero;
char g_matrix[4][5][6];
const char *g_strs[3];
int get_static(void) { return g_static; }
int opaque_a(struct opaque *o);

#define OFF(t, m) printf("off %s.%s %zu\n", #t, #m, offsetof(struct t, m))
#define SIZE(t) printf("size %s %zu\n", #t, sizeof(struct t))
#define BITS(f) do { struct bits x; memset(&x, 0, sizeof x); x.f = -1; \
    unsigned char *p = (unsigned char *)&x; int first = -1, n = 0; \
    for (int i = 0; i < (int)(sizeof x) * 8; i++) if (p[i / 8] >> (i % 8) & 1) { if (first < 0) first = i; n++; } \
    printf("bits bits.%s %d %d\n", #f, first, n); } while (0)

int main(void) {
    SIZE(outer); SIZE(inner); SIZE(bits); SIZE(list_head); SIZE(zero);
    OFF(outer, first); OFF(outer, in); OFF(outer, u_i); OFF(outer, u_c); OFF(outer, deep);
    OFF(outer, s1); OFF(outer, s2); OFF(outer, grid); OFF(outer, name); OFF(outer, fn);
    OFF(outer, vfn); OFF(outer, str); OFF(outer, vol); OFF(outer, list); OFF(outer, op);
    OFF(outer, cvu); OFF(outer, col); OFF(outer, inp); OFF(outer, flex);
    OFF(outer, in.y); OFF(outer, list.prev); OFF(outer, deep.deep_b);
    OFF(bits, e); OFF(zero, z);
    BITS(a); BITS(b); BITS(c); BITS(d); BITS(f);
    return opaque_a(0) + get_static() + g_outer.first;
}
"#;

const B_C: &str = r#"
struct opaque { int a; long b; char c[3]; };
struct opaque g_opaque;
int opaque_a(struct opaque *o) { return o ? o->a : 0; }
"#;

struct Built {
    _dir: PathBuf,
    exe: PathBuf,
    idx: TypeIndex,
    truth: HashMap<String, Vec<i64>>,
}

fn compile(version: u32) -> Built {
    let dir = std::env::temp_dir().join(format!(
        "rkdump-dwarf-test-{}-v{version}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("a.c"), A_C).expect("write a.c");
    std::fs::write(dir.join("b.c"), B_C).expect("write b.c");
    let exe = dir.join("prog");
    let out = Command::new("gcc")
        .current_dir(&dir)
        .args(["-g", &format!("-gdwarf-{version}"), "-O0", "-o"])
        .arg(&exe)
        .args(["a.c", "b.c"])
        .output()
        .expect("gcc is required for the DWARF unit tests");
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().expect("run test program");
    let mut truth = HashMap::new();
    for line in String::from_utf8_lossy(&run.stdout).lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if let [kind, key, vals @ ..] = w.as_slice() {
            truth.insert(
                format!("{kind} {key}"),
                vals.iter().map(|v| v.parse().expect("number")).collect(),
            );
        }
    }
    assert!(truth.len() > 20, "test program printed too little");
    let bytes = std::fs::read(&exe).expect("read exe");
    let idx = TypeIndex::build(Arc::new(bytes), None).expect("index builds");
    Built {
        _dir: dir,
        exe,
        idx,
        truth,
    }
}

fn nm(exe: &Path) -> HashMap<String, u64> {
    let out = Command::new("nm").arg(exe).output().expect("nm");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.as_slice() {
                [addr, _, name] => Some((name.to_string(), u64::from_str_radix(addr, 16).ok()?)),
                _ => None,
            }
        })
        .collect()
}

fn check_layouts(b: &Built) {
    let idx = &b.idx;
    for (key, vals) in &b.truth {
        let (kind, what) = key.split_once(' ').expect("key");
        match kind {
            "size" => {
                let id = idx
                    .find_type(&format!("struct {what}"))
                    .unwrap_or_else(|| panic!("struct {what}"));
                assert_eq!(idx.size_of(id).unwrap() as i64, vals[0], "sizeof {what}");
            }
            "off" => {
                let (t, path) = what.split_once('.').expect("path");
                let id = idx.find_type(&format!("struct {t}")).expect("type");
                let m = idx
                    .member(id, path)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(m.offset as i64, vals[0], "offsetof {what}");
                assert_eq!(m.bit_size, None);
            }
            "bits" => {
                let (t, path) = what.split_once('.').expect("path");
                let id = idx.find_type(&format!("struct {t}")).expect("type");
                let m = idx.member(id, path).expect("bitfield");
                let total = m.offset as i64 * 8 + i64::from(m.bit_offset.expect("bit_offset"));
                assert_eq!(total, vals[0], "bit position of {what}");
                assert_eq!(i64::from(m.bit_size.expect("bit_size")), vals[1], "{what}");
            }
            _ => {}
        }
    }
}

fn check_model(b: &Built) {
    let idx = &b.idx;
    let outer = idx.find_type("struct outer").expect("struct outer");
    assert_eq!(
        idx.find_type("outer"),
        Some(outer),
        "bare name tries struct"
    );
    assert_eq!(idx.type_name(outer), "struct outer");

    // Type names in C spelling.
    let name_of = |path: &str| idx.type_name(idx.member(outer, path).expect(path).ty);
    assert_eq!(name_of("fn"), "int (*)(struct outer *, int)");
    assert_eq!(name_of("vfn"), "void (*)(const char *, ...)");
    assert_eq!(name_of("str"), "const char *");
    assert_eq!(name_of("grid"), "int [2][3]");
    assert_eq!(name_of("name"), "char [16]");
    assert_eq!(name_of("flex"), "int []");
    assert_eq!(name_of("cvu"), "cv_ulong");
    assert_eq!(name_of("vol"), "volatile int");
    assert_eq!(name_of("list.next"), "struct list_head *");

    // Multi-dimensional arrays nest; flexible and zero-length arrays.
    let grid = idx.member(outer, "grid").unwrap().ty;
    let Type::Array { elem, count } = &*idx.get(grid).unwrap() else {
        panic!("grid not an array")
    };
    assert_eq!(*count, Some(2));
    assert!(matches!(
        &*idx.get(*elem).unwrap(),
        Type::Array { count: Some(3), .. }
    ));
    assert_eq!(idx.size_of(grid).unwrap(), 24);
    assert_eq!(idx.member(outer, "grid[1][2]").unwrap().offset, {
        idx.member(outer, "grid").unwrap().offset + 20
    });
    let flex = idx.member(outer, "flex").unwrap().ty;
    assert!(matches!(
        &*idx.get(flex).unwrap(),
        Type::Array { count: None, .. }
    ));
    assert!(matches!(
        idx.size_of(flex),
        Err(DebugInfoError::NoSize { .. })
    ));
    let zero = idx.find_type("struct zero").unwrap();
    let z = idx.member(zero, "z").unwrap().ty;
    assert!(matches!(
        &*idx.get(z).unwrap(),
        Type::Array { count: Some(0), .. }
    ));
    let m = idx.global("g_matrix").expect("g_matrix");
    assert_eq!(idx.type_name(m.ty), "char [4][5][6]");
    assert_eq!(idx.size_of(m.ty).unwrap(), 120);

    // Typedef chains and qualifiers.
    let cv = idx.find_type("cv_ulong").expect("typedef");
    let r = idx.resolve(cv).unwrap();
    assert_eq!(idx.type_name(r), "unsigned long");
    assert_eq!(idx.size_of(cv).unwrap(), 8);
    assert_eq!(idx.find_type("unsigned long"), Some(r));
    assert_eq!(idx.find_type("long unsigned int"), Some(r));
    assert!(matches!(
        &*idx.get(r).unwrap(),
        Type::Base {
            size: 8,
            encoding: BaseEncoding::Unsigned,
            ..
        }
    ));
    let cvn = idx.type_name(idx.get(cv).map(|_| cv).unwrap());
    assert_eq!(cvn, "cv_ulong");

    // Members: anonymous ones listed with no name; lookups flatten them.
    let ms = idx.members(outer).unwrap();
    assert_eq!(ms[0].name.as_deref(), Some("first"));
    assert!(ms.iter().filter(|m| m.name.is_none()).count() == 2);
    assert!(idx.member(outer, "deep.deep_b").is_ok());
    assert!(matches!(
        idx.member(outer, "nope"),
        Err(DebugInfoError::NoMember { .. })
    ));
    assert!(
        matches!(
            idx.member(outer, "inp.x"),
            Err(DebugInfoError::NoMember { .. })
        ),
        "a pointer in the middle of a path is an error"
    );
    assert!(idx.member(outer, "name[16]").is_err());

    // Declaration in a.c resolves to the definition in b.c.
    let op = idx.member(outer, "op").unwrap().ty;
    let Type::Pointer {
        target: Some(t), ..
    } = &*idx.get(op).unwrap()
    else {
        panic!("op not a pointer")
    };
    let opaque = idx.find_type("struct opaque").unwrap();
    assert_eq!(*t, opaque, "declaration canonicalized to the definition");
    match &*idx.get(*t).unwrap() {
        Type::Struct {
            kind: StructKind::Struct,
            members,
            size,
            ..
        } => {
            assert_eq!(members.len(), 3);
            assert_eq!(*size, 24);
        }
        other => panic!("{other:?}"),
    }
    // Same-name struct referenced from two units gets one id.
    let lh = idx.find_type("struct list_head").unwrap();
    assert_eq!(idx.member(outer, "list").unwrap().ty, lh);

    // Enums, signed and unsigned.
    assert_eq!(idx.enumerator("BLUE").map(|e| e.1), Some(10));
    assert_eq!(idx.enumerator("NEG_B").map(|e| e.1), Some(-100));
    assert_eq!(idx.enumerator("NEG_A").map(|e| e.1), Some(-1));
    assert_eq!(idx.enumerator("NEG_D").map(|e| e.1), Some(236));
    assert_eq!(idx.enumerator("BIG_A").map(|e| e.1), Some(0xffff_ffff));
    let neg = idx.find_type("enum neg").unwrap();
    assert!(matches!(
        &*idx.get(neg).unwrap(),
        Type::Enum { signed: true, .. }
    ));
    assert_eq!(idx.enumerator("NEG_C").map(|e| e.0), Some(neg));
    assert_eq!(idx.enumerator("NO_SUCH"), None);

    // Derived spellings.
    let p = idx.find_type("struct list_head *").unwrap();
    assert_eq!(idx.type_name(p), "struct list_head *");
    assert_eq!(idx.size_of(p).unwrap(), 8);
    let c16 = idx.find_type("char [16]").unwrap();
    assert_eq!(idx.size_of(c16).unwrap(), 16);
    assert_eq!(idx.type_name(c16), "char [16]");
    let ccp = idx.find_type("const char *").unwrap();
    assert_eq!(idx.type_name(ccp), "const char *");
    assert_eq!(
        idx.find_type("struct list_head *"),
        Some(p),
        "synthetic ids are reused"
    );
    assert_eq!(idx.find_type("void"), Some(TypeId::VOID));
    assert_eq!(idx.type_name(idx.find_type("void *").unwrap()), "void *");
    assert_eq!(
        idx.type_name(idx.find_type("int [2][3]").unwrap()),
        "int [2][3]"
    );
    assert_eq!(idx.find_type("struct no_such"), None);
    assert_eq!(idx.find_type("int (*)(void)"), None);

    // Completion and member names.
    assert!(idx
        .type_names("struct out")
        .contains(&"struct outer".to_string()));
    assert!(idx.type_names("my_").contains(&"my_ulong".to_string()));
    let names: Vec<&str> = idx.member_names().collect();
    for n in ["first", "deep_b", "s1", "next", "flex", "a", "e"] {
        assert!(names.contains(&n), "member name {n}");
    }

    // Globals: addresses agree with nm.
    let syms = nm(&b.exe);
    for g in [
        "g_outer", "g_array", "g_bits", "g_static", "g_neg", "g_list", "g_opaque", "g_strs",
    ] {
        let gl = idx.global(g).unwrap_or_else(|| panic!("global {g}"));
        assert_eq!(Some(gl.addr), syms.get(g).copied(), "address of {g}");
    }
    assert_eq!(idx.type_name(idx.global("g_array").unwrap().ty), "int [7]");
    assert_eq!(
        idx.type_name(idx.global("g_strs").unwrap().ty),
        "const char *[3]"
    );
    assert_eq!(idx.global("g_opaque").unwrap().ty, opaque);
    assert!(
        idx.global("opaque_a").is_none(),
        "functions are not globals"
    );
}

#[test]
fn dwarf4_layouts_match_the_compiler() {
    let b = compile(4);
    check_layouts(&b);
    check_model(&b);
}

#[test]
fn dwarf5_layouts_match_the_compiler() {
    let b = compile(5);
    check_layouts(&b);
    check_model(&b);
}

#[test]
fn find_type_in_unit_picks_the_units_layout() {
    let dir = std::env::temp_dir().join(format!("rkdump-dwarf-variants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // `struct twin` has the same name, size, line and encoding in both files but different
    // members: it must stay two layouts. `struct shared` comes from one header: one layout.
    std::fs::write(
        dir.join("common.h"),
        "struct shared { int s1; long s2; };\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("x.c"),
        "struct twin { int ta; int tb; };\n#include \"common.h\"\nstruct path_info { int a; };\nstruct path_info px = {1};\nstruct twin tx;\nstruct shared sx;\nint x_get(void) { return px.a; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("y.c"),
        "struct twin { int tc; int td; };\n#include \"common.h\"\nstruct path_info { long b; long c; };\nstruct path_info py;\nstruct twin ty;\nstruct shared sy;\nint x_get(void);\nint main(void) { return x_get() + (int)py.b; }\n",
    )
    .unwrap();
    let exe = dir.join("prog");
    let st = Command::new("gcc")
        .current_dir(&dir)
        .args(["-g", "-O0", "-o"])
        .arg(&exe)
        .args(["x.c", "y.c"])
        .status()
        .expect("gcc is required");
    assert!(st.success());
    let bytes = Arc::new(std::fs::read(&exe).unwrap());
    let idx = TypeIndex::build(bytes.clone(), None).unwrap();
    // One accumulator scans both units in turn, so repeats are jumped over by fingerprint:
    // the result must be the same as when each unit is read in full.
    let seq = super::build_data_sequential(&bytes).unwrap();
    let full = TypeIndex::build_exhaustive(bytes.clone(), None).unwrap();
    assert_eq!(seq, full.data);
    assert_eq!(idx.data, full.data);
    let vars = idx.find_type_variants("struct path_info");
    assert_eq!(vars.len(), 2, "two layouts kept");
    let px = idx.global("px").unwrap();
    let py = idx.global("py").unwrap();
    let in_x = idx.find_type_in_unit("struct path_info", px.ty).unwrap();
    let in_y = idx.find_type_in_unit("struct path_info", py.ty).unwrap();
    assert_eq!(idx.size_of(in_x).unwrap(), 4);
    assert_eq!(idx.size_of(in_y).unwrap(), 16);
    assert_eq!(
        px.ty, in_x,
        "multi-layout names are not canonicalized across units"
    );
    assert!(idx.member(in_y, "c").is_ok());
    let twins = idx.find_type_variants("struct twin");
    assert_eq!(
        twins.len(),
        2,
        "same name/size/line/encoding, other file: two layouts"
    );
    let tx = idx.global("tx").unwrap().ty;
    let ty = idx.global("ty").unwrap().ty;
    assert!(idx.member(tx, "tb").is_ok() && idx.member(tx, "td").is_err());
    assert!(idx.member(ty, "td").is_ok() && idx.member(ty, "tb").is_err());
    let names: Vec<&str> = idx.member_names().collect();
    for n in ["ta", "tb", "tc", "td", "s1", "s2"] {
        assert!(names.contains(&n), "{n}");
    }
    let shared = idx.find_type_variants("struct shared");
    assert_eq!(shared.len(), 1, "one header definition: one layout");
    assert_eq!(idx.global("sx").unwrap().ty, shared[0]);
    assert_eq!(
        idx.global("sy").unwrap().ty,
        shared[0],
        "canonicalized across units"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Exercises every lookup over everything the index knows; must not panic.
fn exercise(idx: &TypeIndex) {
    for name in idx.type_names("").into_iter().take(2000) {
        for spelled in [name.clone(), format!("struct {name}"), format!("{name} *")] {
            if let Some(id) = idx.find_type(&spelled) {
                let _ = idx.type_name(id);
                let _ = idx.size_of(id);
                if let Ok(ms) = idx.members(id) {
                    for m in ms.iter().take(50) {
                        let _ = idx.type_name(m.ty);
                        let _ = idx.size_of(m.ty);
                        if let Some(n) = &m.name {
                            let _ = idx.member(id, n);
                        }
                    }
                }
            }
        }
    }
    for n in idx.member_names().take(100).collect::<Vec<_>>() {
        let _ = idx.global(n);
        let _ = idx.enumerator(n);
    }
}

/// A tiny deterministic PRNG (xorshift) for the corruption test.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn corrupt_debug_info_never_panics() {
    let b = compile(5);
    let bytes = std::fs::read(&b.exe).unwrap();
    // Locate .debug_info via the ELF section headers.
    let file = object::File::parse(&*bytes).unwrap();
    let sec = object::Object::section_by_name(&file, ".debug_info").unwrap();
    let (start, len) = object::ObjectSection::file_range(&sec).unwrap();
    let (start, len) = (start as usize, len as usize);
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..60 {
        let mut copy = bytes.clone();
        let flips = 1 + (round % 12) * 8;
        for _ in 0..flips {
            let at = start + (xorshift(&mut rng) as usize % len);
            copy[at] = xorshift(&mut rng) as u8;
        }
        if round % 10 == 9 {
            // Zero a whole run, as a truncated/overwritten section would look.
            let at = start + (xorshift(&mut rng) as usize % len);
            let end = (at + 64).min(start + len);
            copy[at..end].fill(0xff);
        }
        if let Ok(idx) = TypeIndex::build(Arc::new(copy), None) {
            exercise(&idx);
        }
    }
    // Garbage instead of .debug_info altogether.
    let mut copy = bytes.clone();
    for (i, byte) in copy[start..start + len].iter_mut().enumerate() {
        *byte = (i * 7 + 3) as u8;
    }
    if let Ok(idx) = TypeIndex::build(Arc::new(copy), None) {
        exercise(&idx);
    }
    // Truncated file.
    let cut = bytes[..start + len / 2].to_vec();
    if let Ok(idx) = TypeIndex::build(Arc::new(cut), None) {
        exercise(&idx);
    }
    // Not ELF at all.
    assert!(TypeIndex::build(Arc::new(vec![0u8; 100]), None).is_err());
}

#[test]
fn cache_roundtrip_on_synthetic() {
    let b = compile(4);
    let bytes: Arc<Vec<u8>> = Arc::new(std::fs::read(&b.exe).unwrap());
    let dir = b._dir.join("cache");
    let built = TypeIndex::load_or_build(bytes.clone(), "00aa", &dir, None).unwrap();
    assert!(dir.join("00aa.rkdwarf").exists());
    let loaded = TypeIndex::load_or_build(bytes.clone(), "00aa", &dir, None).unwrap();
    assert_eq!(built.data, loaded.data, "cache holds the same index");
    // Corrupt the cache: silently rebuilt.
    let p = dir.join("00aa.rkdwarf");
    let mut c = std::fs::read(&p).unwrap();
    let mid = c.len() / 2;
    c[mid] ^= 0xff;
    std::fs::write(&p, &c).unwrap();
    let again = TypeIndex::load_or_build(bytes, "00aa", &dir, None).unwrap();
    assert_eq!(built.data, again.data);
    check_layouts(&Built {
        _dir: b._dir.clone(),
        exe: b.exe.clone(),
        idx: again,
        truth: b.truth.clone(),
    });
}

#[test]
fn progress_send_sync_and_concurrent_lookups() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TypeIndex>();
    assert_send_sync::<Type>();

    let b = compile(5);
    let bytes = Arc::new(std::fs::read(&b.exe).unwrap());
    let calls = std::sync::Mutex::new(Vec::new());
    let progress = |done: usize, total: usize| calls.lock().unwrap().push((done, total));
    let idx = TypeIndex::build(bytes, Some(&progress)).unwrap();
    let calls = calls.into_inner().unwrap();
    let units = idx.stats().units;
    assert!(units >= 2);
    assert_eq!(calls.len(), units);
    assert!(calls.contains(&(units, units)));

    // Many threads materializing the same types at once agree with one another.
    let outer = idx.find_type("struct outer").unwrap();
    let want = idx.member(outer, "deep.deep_b").unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    assert_eq!(idx.member(outer, "deep.deep_b").unwrap(), want);
                    assert_eq!(
                        idx.type_name(idx.find_type("struct list_head *").unwrap()),
                        "struct list_head *"
                    );
                }
            });
        }
    });
    assert!(matches!(
        idx.require_type("struct nope"),
        Err(DebugInfoError::NoType { .. })
    ));
    assert_eq!(idx.require_type("struct outer").unwrap(), outer);
}

/// Builds `src` with `gcc -g -c` into a relocatable object (like a module) and indexes it.
fn index_object(name: &str, src: &str) -> TypeIndex {
    let dir = std::env::temp_dir().join(format!(
        "rkdump-decl-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).expect("write source");
    let o = dir.join(format!("{name}.o"));
    let out = Command::new("gcc")
        .args(["-g", "-O0", "-c", "-o"])
        .arg(&o)
        .arg(&c)
        .output()
        .expect("gcc is required for the DWARF unit tests");
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&o).expect("read object");
    TypeIndex::build(Arc::new(bytes), None).expect("index builds")
}

/// A file that only declares a struct (the vmlinux and `struct mapped_device`) says so; a
/// file that defines it (the module) does not; an empty definition is not a declaration.
#[test]
fn declarations_are_told_from_definitions() {
    let declaring = index_object(
        "declaring",
        "struct md_like;\nstruct empty_def {};\nstruct holder { struct md_like *md; struct empty_def e; };\n\
         struct holder g_holder;\nstruct md_like **g_pp;\n",
    );
    let defining = index_object(
        "defining",
        "struct md_like { long a; int b; struct md_like *next; };\nstruct md_like g_md;\n",
    );
    let md = declaring.find_type("struct md_like").expect("declared");
    assert_eq!(
        declaring.declaration_only(md).as_deref(),
        Some("struct md_like")
    );
    // Through pointers (what a member or a cast names) to the declared core.
    let pp = declaring.global("g_pp").expect("g_pp").ty;
    assert_eq!(declaring.core_type(pp), md);
    let member = declaring
        .member(declaring.find_type("struct holder").expect("holder"), "md")
        .expect("md member");
    assert_eq!(
        declaring
            .declaration_only(declaring.core_type(member.ty))
            .as_deref(),
        Some("struct md_like")
    );
    // `struct empty_def {}` is a definition of size 0, not a declaration.
    let empty = declaring.find_type("struct empty_def").expect("empty");
    assert_eq!(declaring.size_of(empty).expect("size"), 0);
    assert_eq!(declaring.declaration_only(empty), None);
    // The defining file's answer is complete, and so wins.
    let def = defining.find_type("struct md_like").expect("defined");
    assert_eq!(defining.declaration_only(def), None);
    assert_eq!(defining.size_of(def).expect("size"), 24);
    // Complete types are never reported.
    let holder = declaring.find_type("struct holder").expect("holder");
    assert_eq!(declaring.declaration_only(holder), None);
    let long = defining.find_type("long").expect("long");
    assert_eq!(defining.declaration_only(long), None);
}
