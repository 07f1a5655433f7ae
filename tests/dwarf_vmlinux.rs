//! The DWARF type index on the real Debian vmlinux of the kernel line under test
//! (`/usr/lib/debug/boot/vmlinux-<release>`, the fixtures' `vmlinux`),
//! cross-checked against drgn, run in the test on the same file by `tests/tools/drgn_layouts.py`
//! (installed by `tests/tools/install-drgn.sh`). A missing vmlinux fails loudly.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rkdump::debuginfo::{Type, TypeIndex};

/// The debug vmlinux of the kernel line under test (`RKDUMP_KERNEL`): the file the fixtures'
/// `vmlinux` link points at, `/usr/lib/debug/boot/vmlinux-<release>` of that line.
fn vmlinux_path() -> PathBuf {
    let link = common::vmlinux();
    std::fs::canonicalize(&link).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: install the kernel debug package (linux-image-<release>-dbg)",
            link.display()
        )
    })
}

struct Fixture {
    elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
    idx: TypeIndex,
    golden: serde_json::Value,
}

/// Types of `scsi_mod.ko` compared with drgn.
const SCSI_TYPES: &str = "struct Scsi_Host,struct request,struct request_queue,struct scsi_cmnd,\
struct scsi_device,struct scsi_device_handler,struct scsi_host_template,struct scsi_sense_hdr,\
struct scsi_target,struct task_struct";

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let path = vmlinux_path();
        let file = std::fs::File::open(&path).expect("open vmlinux");
        // SAFETY: read-only mapping of a file nobody modifies during the test.
        let map = unsafe { memmap2::Mmap::map(&file) }.expect("mmap vmlinux");
        let elf: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(map);
        let idx = TypeIndex::build(elf.clone(), None).expect("index vmlinux");
        // drgn reads the same file now: the cross-check follows whatever kernel the
        // fixtures use.
        let golden = common::drgn_layouts(&[path.to_str().expect("utf-8 path")]);
        Fixture { elf, idx, golden }
    })
}

#[test]
fn well_known_layouts() {
    // The layouts scripts and commands lean on most, checked against drgn on this vmlinux
    // (on 6.1.0-56-cloud-amd64: task_struct is 9728 bytes, pid at 2416, comm at 2976).
    let f = fixture();
    let idx = &f.idx;
    let ts = idx.find_type("struct task_struct").expect("task_struct");
    assert_eq!(idx.find_type("task_struct"), Some(ts));
    let drgn_size = |t: &str| f.golden["types"][t]["size"].as_u64();
    assert_eq!(
        Some(idx.size_of(ts).unwrap()),
        drgn_size("struct task_struct")
    );
    let drgn_off = |t: &str, p: &str| {
        f.golden["types"][t]["members"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["path"] == p))
            .and_then(|m| m["bit_offset"].as_u64())
            .map(|b| b / 8)
    };
    let off = |t: &str, p: &str| {
        let id = idx.find_type(t).unwrap_or_else(|| panic!("{t}"));
        idx.member(id, p)
            .unwrap_or_else(|e| panic!("{t}.{p}: {e}"))
            .offset
    };
    for (t, p) in [
        ("struct task_struct", "pid"),
        ("struct task_struct", "comm"),
        ("struct task_struct", "tasks"),
        ("struct task_struct", "mm"),
        ("struct task_struct", "thread.sp"),
        ("struct mm_struct", "pgd"),
        ("struct uts_namespace", "name.nodename"),
        ("struct list_head", "next"),
        ("struct list_head", "prev"),
        ("struct rq", "curr"),
    ] {
        let want = drgn_off(t, p).unwrap_or_else(|| panic!("drgn has no {t}.{p}"));
        assert_eq!(off(t, p), want, "{t}.{p}");
    }
    assert_eq!(off("struct uts_namespace", "name.nodename") % 65, 0);
    assert_eq!(off("struct list_head", "prev"), 8);

    let comm = idx.member(ts, "comm").unwrap();
    assert_eq!(idx.type_name(comm.ty), "char [16]");
    let tasks = idx.member(ts, "tasks.next").unwrap();
    assert_eq!(idx.type_name(tasks.ty), "struct list_head *");
    assert!(
        idx.member(ts, "mm.pgd").is_err(),
        "pointer in the middle of a path"
    );
    assert_eq!(idx.type_name(idx.find_type("pid_t").unwrap()), "pid_t");
    assert_eq!(idx.size_of(idx.find_type("pid_t").unwrap()).unwrap(), 4);
    assert_eq!(
        idx.size_of(idx.find_type("unsigned long").unwrap())
            .unwrap(),
        8
    );
    let pt = idx.find_type("enum pid_type").expect("enum pid_type");
    assert_eq!(idx.enumerator("PIDTYPE_PID"), Some((pt, 0)));
    assert!(idx
        .type_names("struct task_")
        .contains(&"struct task_struct".to_string()));
    let members: Vec<&str> = idx.member_names().collect();
    assert!(members.len() > 20_000);
    for m in ["pid", "comm", "tasks", "nodename", "load_avg"] {
        assert!(members.contains(&m), "{m}");
    }
    let stats = idx.stats();
    assert_eq!(stats.units_failed, 0);
    assert!(stats.units > 2000, "{stats:?}");
}

/// Compares every size and member layout of a drgn golden file with the index: returns the
/// number of checks, layout mismatches and type-spelling mismatches.
fn compare_layouts(
    idx: &TypeIndex,
    golden: &serde_json::Value,
) -> (usize, Vec<String>, BTreeMap<String, String>) {
    let types = golden["types"].as_object().expect("types");
    let mut checked = 0usize;
    let mut mismatches: Vec<String> = Vec::new();
    let mut name_mismatches: BTreeMap<String, String> = BTreeMap::new();
    for (tname, t) in types {
        let Some(id) = idx.find_type(tname) else {
            mismatches.push(format!("{tname}: not found"));
            continue;
        };
        let size = t["size"].as_u64().expect("size");
        checked += 1;
        if idx.size_of(id).ok() != Some(size) {
            mismatches.push(format!(
                "sizeof({tname}) = {:?}, drgn {size}",
                idx.size_of(id)
            ));
        }
        for m in t["members"].as_array().expect("members") {
            let path = m["path"].as_str().expect("path");
            let bit_offset = m["bit_offset"].as_u64().expect("bit_offset");
            let bit_size = m["bit_size"].as_u64();
            checked += 1;
            match idx.member(id, path) {
                Err(e) => mismatches.push(format!("{tname}.{path}: {e}")),
                Ok(info) => {
                    let ours = info.offset * 8 + u64::from(info.bit_offset.unwrap_or(0));
                    if ours != bit_offset || info.bit_size.map(u64::from) != bit_size {
                        mismatches.push(format!(
                            "{tname}.{path}: bits {ours}/{:?}, drgn {bit_offset}/{bit_size:?}",
                            info.bit_size
                        ));
                    }
                    let want = m["type"].as_str().expect("type");
                    let got = idx.type_name(info.ty);
                    if got != want {
                        name_mismatches
                            .insert(format!("{tname}.{path}"), format!("{got} | drgn: {want}"));
                    }
                }
            }
        }
    }
    (checked, mismatches, name_mismatches)
}

/// Compares globals (address, type) and enumerators of a drgn golden file with the index.
fn compare_globals(idx: &TypeIndex, golden: &serde_json::Value) -> usize {
    let mut n = 0;
    for (name, g) in golden["globals"].as_object().expect("globals") {
        let ours = idx.global(name).unwrap_or_else(|| panic!("global {name}"));
        assert_eq!(Some(ours.addr), g["addr"].as_u64(), "address of {name}");
        // An array declared without a bound in one unit (`extern const char linux_banner[];`)
        // and defined with one in another: drgn reports either, depending on which unit it
        // reads first, so `T []` and `T [N]` count as the same type.
        let ours_name = idx.type_name(ours.ty);
        let want = g["type"].as_str().unwrap_or("");
        let unbounded = |t: &str| t.split_once(" [").map(|(base, _)| base.to_string());
        let same = ours_name == want
            || (ours_name.ends_with("[]") || want.ends_with("[]"))
                && unbounded(&ours_name) == unbounded(want);
        assert!(same, "type of {name}: {ours_name} vs drgn's {want}");
        n += 1;
    }
    for (name, v) in golden["enumerators"].as_object().expect("enumerators") {
        let (_, value) = idx
            .enumerator(name)
            .unwrap_or_else(|| panic!("enumerator {name}"));
        assert_eq!(Some(value), v.as_i64(), "{name}");
        n += 1;
    }
    n
}

#[test]
fn layouts_agree_with_drgn() {
    let f = fixture();
    let types = f.golden["types"].as_object().expect("types");
    assert!(types.len() >= 50, "golden covers {} types", types.len());
    let (checked, mismatches, name_mismatches) = compare_layouts(&f.idx, &f.golden);
    eprintln!(
        "drgn cross-check (vmlinux): {checked} sizes+offsets checked, {} mismatches; {} type spellings differ",
        mismatches.len(),
        name_mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "layout mismatches vs drgn:\n{}",
        mismatches.join("\n")
    );
    assert!(
        name_mismatches.is_empty(),
        "type spellings differ from drgn: {name_mismatches:#?}"
    );
    assert!(checked > 4000);
}

/// A module's `.ko` is a relocatable file: its DWARF needs its relocations applied, and its
/// `.debug_str` is not merged across units. Checked against drgn like the vmlinux.
#[test]
fn module_layouts_agree_with_drgn() {
    let vmlinux = vmlinux_path();
    let release = vmlinux
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("vmlinux-"))
        .expect("release from vmlinux name")
        .to_string();
    let ko = PathBuf::from(format!(
        "/usr/lib/debug/lib/modules/{release}/kernel/drivers/scsi/scsi_mod.ko"
    ));
    let bytes = std::fs::read(&ko)
        .unwrap_or_else(|e| panic!("{}: {e}: install the kernel debug package", ko.display()));
    let idx = TypeIndex::build(Arc::new(bytes), None).expect("index scsi_mod.ko");
    let golden = common::drgn_layouts(&[
        ko.to_str().expect("utf-8 path"),
        "--types",
        SCSI_TYPES,
        "--globals",
        "scsi_bus_type,scsi_logging_level",
        "--enumerators",
        "SDEV_RUNNING,SDEV_OFFLINE,SHOST_RUNNING",
    ]);
    let (checked, mismatches, name_mismatches) = compare_layouts(&idx, &golden);
    eprintln!(
        "drgn cross-check (scsi_mod.ko): {checked} checked, {} mismatches, {} spellings differ",
        mismatches.len(),
        name_mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(name_mismatches.is_empty(), "{name_mismatches:#?}");
    assert!(checked > 1000);
    assert!(compare_globals(&idx, &golden) >= 4);
    assert_eq!(idx.stats().units_failed, 0);
    assert_eq!(
        idx.stats().extra_layouts,
        0,
        "one layout per name within a module"
    );
}

#[test]
fn globals_and_enumerators_agree_with_drgn() {
    let f = fixture();
    let idx = &f.idx;
    assert!(compare_globals(idx, &f.golden) >= 30);
    // Per-CPU variables carry their small .data..percpu offset.
    assert!(idx.global("runqueues").unwrap().addr < 0x10_0000);
}

#[test]
fn cache_roundtrip_on_vmlinux() {
    let f = fixture();
    let dir = std::env::temp_dir().join(format!("rkdump-vmlinux-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let id = "3b43fad5034874490492495d552c0af6a5fab235";
    let a = TypeIndex::load_or_build(f.elf.clone(), id, &dir, None).expect("build + save");
    let t = std::time::Instant::now();
    let b = TypeIndex::load_or_build(f.elf.clone(), id, &dir, None).expect("load");
    let took = t.elapsed();
    assert!(took.as_millis() < 1000, "cache load took {took:?}");
    let ts = b.find_type("struct task_struct").unwrap();
    assert_eq!(a.find_type("struct task_struct"), Some(ts));
    // The loaded index places comm where the built one and drgn do.
    let comm = b.member(ts, "comm").unwrap().offset;
    assert_eq!(comm, a.member(ts, "comm").unwrap().offset);
    let drgn_comm = f.golden["types"]["struct task_struct"]["members"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["path"] == "comm"))
        .and_then(|m| m["bit_offset"].as_u64())
        .expect("drgn lists task_struct.comm");
    assert_eq!(comm, drgn_comm / 8);
    assert_eq!(a.stats().types, b.stats().types);
    assert_eq!(a.stats().globals, b.stats().globals);
    match &*b.get(ts).unwrap() {
        Type::Struct { members, .. } => assert!(members.len() > 100),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_indexed_type_materializes() {
    let idx = &fixture().idx;
    let t = std::time::Instant::now();
    let mut errors = Vec::new();
    let mut n = 0usize;
    let mut members = 0usize;
    for prefix in ["struct ", "union ", "enum ", ""] {
        for name in idx.type_names(prefix) {
            for id in idx.find_type_variants(&name) {
                n += 1;
                let Ok(ty) = idx.get(id) else {
                    errors.push(format!("{name}: {:?}", idx.get(id).err()));
                    continue;
                };
                let _ = idx.type_name(id);
                if let Type::Struct {
                    members: ms, size, ..
                } = &*ty
                {
                    if *size > 0 {
                        if let Err(e) = idx.size_of(id) {
                            errors.push(format!("sizeof {name}: {e}"));
                        }
                    }
                    for m in ms {
                        members += 1;
                        if let Err(e) = idx.get(m.ty) {
                            errors.push(format!("{name}.{:?}: {e}", m.name));
                        }
                        let _ = idx.type_name(m.ty);
                        if let Some(mn) = &m.name {
                            if idx.member(id, mn).is_err() {
                                errors.push(format!("{name}.{mn}: member lookup failed"));
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "materialized {n} named types with {members} members in {:?}",
        t.elapsed()
    );
    assert!(n > 10_000);
    assert!(
        errors.is_empty(),
        "{} errors, first: {:#?}",
        errors.len(),
        &errors[..errors.len().min(20)]
    );
}

/// The fast build jumps over repeated definitions by fingerprint; it must find exactly what
/// reading every DIE finds.
#[test]
fn fingerprint_jumps_lose_nothing() {
    let f = fixture();
    let full = TypeIndex::build_exhaustive(f.elf.clone(), None).expect("exhaustive build");
    let (a, b) = (f.idx.stats(), full.stats());
    assert_eq!(
        (
            a.types,
            a.globals,
            a.enumerators,
            a.member_names,
            a.name_bytes,
            a.extra_layouts
        ),
        (
            b.types,
            b.globals,
            b.enumerators,
            b.member_names,
            b.name_bytes,
            b.extra_layouts
        )
    );
    assert!(f.idx.member_names().eq(full.member_names()));
    for prefix in ["struct ", "union ", "enum ", ""] {
        let names = f.idx.type_names(prefix);
        assert_eq!(names, full.type_names(prefix));
        for n in names {
            assert_eq!(
                f.idx.find_type_variants(&n),
                full.find_type_variants(&n),
                "{n}"
            );
        }
    }
    for g in ["init_task", "jiffies_64", "runqueues", "init_uts_ns"] {
        assert_eq!(f.idx.global(g), full.global(g));
    }
    for e in ["PIDTYPE_PID", "TASK_COMM_LEN", "CPUHP_ONLINE"] {
        assert_eq!(f.idx.enumerator(e), full.enumerator(e));
    }
}
