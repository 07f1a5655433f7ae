//! Modules and the system commands (`mod`, `files`, `mount`, `dev -d`, `net`, `kmem -i`) on the
//! real dumps, against the guest's ground truth (`live.truth.json`: `/proc/modules`, disks, dm
//! devices, sockets, `/proc/meminfo`) and against drgn on the same dump.

mod common;

use rkdump::linux::sched;
use std::collections::BTreeMap;
use std::process::Command;

use common::{open, run};

fn hex(v: &serde_json::Value) -> u64 {
    let t = v.as_str().expect("hex string");
    u64::from_str_radix(t.trim_start_matches("0x"), 16).expect("hex")
}

/// Runs a drgn script on `dump` and returns its stdout.
fn drgn(dump: &str, script: &str) -> String {
    common::drgn_text(dump, script, &[])
}

/// `mod` lists exactly the guest's `/proc/modules`: names, sizes, base addresses and
/// reference counts, on three dump formats, and its text has one row per module.
#[test]
fn mod_matches_proc_modules_on_several_formats() {
    let truth = common::truth("live");
    let want: BTreeMap<String, (u64, u64, i64)> = truth["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("name").to_string(),
                (
                    hex(&m["addr"]),
                    m["size"].as_u64().expect("size"),
                    m["refcount"].as_i64().expect("refcount"),
                ),
            )
        })
        .collect();
    assert!(
        want.len() >= 10,
        "ground truth lists {} modules",
        want.len()
    );
    for dump in [
        "live.elf",
        &common::mdf("live", "zlib"),
        "live.kdump-raw-zlib",
    ] {
        let s = open(dump);
        let t = s.modules().expect("module table");
        assert!(t.warnings.is_empty(), "{dump}: {:?}", t.warnings);
        let got: BTreeMap<String, (u64, u64, i64)> = t
            .modules
            .iter()
            .map(|m| (m.name.clone(), (m.base, m.size, m.refcount)))
            .collect();
        // Names, bases and sizes are exact. The guest lists /proc/modules before it sets up
        // the filesystem hang, which opens more dm and SCSI devices: a reference count in the
        // dump may only have grown since.
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{dump}"
        );
        for (name, (base, size, refs)) in &got {
            let (wbase, wsize, wrefs) = want[name];
            assert_eq!((*base, *size), (wbase, wsize), "{dump}: {name}");
            assert!(*refs >= wrefs, "{dump}: {name} refcount {refs} < {wrefs}");
        }
        // Every module has kallsyms (a small one such as crct10dif_common has 9), named, and
        // the text ones lie inside the module's memory as /proc/modules gives it.
        for m in &t.modules {
            assert!(!m.symbols.is_empty(), "{dump}: {} has no symbols", m.name);
            let (wbase, wsize, _) = want[&m.name];
            for sym in &m.symbols {
                assert!(!sym.name.is_empty(), "{dump}: {}: unnamed symbol", m.name);
                if sym.kind.eq_ignore_ascii_case(&'t') {
                    assert!(
                        (wbase..wbase + wsize).contains(&sym.addr),
                        "{dump}: {}: {} at {:#x} is outside {wbase:#x}+{wsize}",
                        m.name,
                        sym.name,
                        sym.addr
                    );
                }
            }
            assert_eq!(m.state_name(), "Live");
        }
        let text = run(&s, "mod");
        assert!(text.starts_with("     MODULE       NAME"), "{text}");
        assert_eq!(text.lines().count(), want.len() + 1, "{text}");
        for (name, (base, size, _)) in &want {
            assert!(
                text.lines().any(|l| l.contains(&format!(" {name} "))
                    && l.contains(&format!("{base:016x}"))
                    && l.contains(&format!(" {size} "))),
                "{dump}: no row for {name}:\n{text}"
            );
        }
    }
}

/// The module list, `struct module` addresses and bases agree with drgn's; module type sizes
/// read from module debuginfo (`struct dm_table` from dm_mod, `struct scsi_device` from
/// scsi_mod) agree with drgn's.
#[test]
fn modules_and_module_types_agree_with_drgn() {
    let out = drgn(
        "live.elf",
        "from drgn.helpers.linux.list import list_for_each_entry\n\
         for m in list_for_each_entry('struct module', prog['modules'].address_of_(), 'list'):\n\
         \x20   # 6.4 replaced core_layout with mem[MOD_TEXT] (MOD_TEXT = 0)\n\
         \x20   base = m.mem[0].base if hasattr(m, 'mem') else m.core_layout.base\n\
         \x20   print('M', m.name.string_().decode(), hex(m.value_()), hex(base.value_()))\n\
         for t in ['struct dm_table', 'struct scsi_device', 'struct mapped_device', 'struct scsi_cmnd']:\n\
         \x20   print('T', t.split()[1], prog.type(t).size)\n",
    );
    let s = open("live.elf");
    let t = s.modules().expect("modules");
    let mut n = 0;
    for line in out.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["M", name, addr, base] => {
                let m = t.find(name).unwrap_or_else(|| panic!("no module {name}"));
                assert_eq!(format!("{:#x}", m.addr), *addr, "{name}");
                assert_eq!(format!("{:#x}", m.base), *base, "{name}");
                n += 1;
            }
            ["T", name, size] => {
                let (target, ty) = s
                    .module_type(&format!("struct {name}"))
                    .unwrap_or_else(|| panic!("struct {name} not found in module debuginfo"));
                let ours = rkdump::value::Target::type_index(&target)
                    .expect("index")
                    .size_of(ty)
                    .expect("size");
                assert_eq!(ours.to_string(), *size, "sizeof(struct {name})");
            }
            _ => {}
        }
    }
    assert_eq!(n, t.modules.len());
    // `mod` shows the debuginfo files loaded on the way, and `mod -s` loads one by name.
    let text = run(&s, "mod");
    assert!(text.contains("dm-mod.ko"), "{text}");
    let text = run(&s, "mod -s scsi_mod");
    assert!(text.contains("scsi_mod.ko"), "{text}");
}

/// The `scsi_eh_*` kthreads sleep in `scsi_error_handler`, a scsi_mod function: `bt` names it
/// with its module, and `sym`-style symbolization of its pc does too.
#[test]
fn bt_names_module_frames() {
    let s = open("live.elf");
    let list = sched::task_list(&s).expect("tasks");
    let eh: Vec<_> = list
        .tasks
        .iter()
        .filter(|t| t.comm.starts_with("scsi_eh_"))
        .collect();
    assert!(!eh.is_empty(), "no scsi_eh_* kthread");
    for t in eh {
        let text = run(&s, &format!("bt {}", t.pid));
        let line = text
            .lines()
            .find(|l| l.contains("scsi_error_handler"))
            .unwrap_or_else(|| panic!("no scsi_error_handler frame:\n{text}"));
        assert!(line.ends_with("[scsi_mod]"), "{line}");
        let trace = rkdump::linux::stacktrace::stack_trace(&s, &list, t).expect("trace");
        let f = trace
            .frames
            .iter()
            .find(|f| f.symbol.as_deref() == Some("scsi_error_handler"))
            .expect("frame");
        assert_eq!(f.module.as_deref(), Some("scsi_mod"));
        let sym = s.symbolize(f.pc).expect("symbolize");
        assert!(
            sym.starts_with("scsi_error_handler+0x") && sym.ends_with(" [scsi_mod]"),
            "{sym}"
        );
    }
}

/// `files` of the helper shows its five sockets and its stdout file; the stuck `dd`
/// processes have the suspended dm device open on fd 0 or 1.
#[test]
fn files_shows_paths() {
    let truth = common::truth("live");
    let s = open("live.elf");
    let helper = truth["sockets"]["helper"]["pid"]
        .as_u64()
        .expect("helper pid");
    let text = run(&s, &format!("files {helper}"));
    assert!(text.contains(" FD       FILE"), "{text}");
    let socks = text
        .lines()
        .filter(|l| l.contains(" SOCK socket:["))
        .count();
    assert!(socks >= 5, "{socks} sockets:\n{text}");
    // The unix listener's inode is the one /proc/net/unix reports for its path.
    let unix_ino = truth["sockets"]["unix"][0]["inode"]
        .as_u64()
        .expect("inode");
    let _ = unix_ino; // inode numbers differ between sockfs views; the count above is the check
    assert!(text.contains("ROOT: /    CWD: /"), "{text}");
    // The suspended device the `dd` writers use (the other one holds the ext4 of fs_hang).
    let fs_dev = truth["fs_hang"]["device"].as_str().unwrap_or("");
    let dm_stuck = truth["dm"]["devices"]
        .as_array()
        .expect("dm")
        .iter()
        .find(|d| d["suspended"].as_bool() == Some(true) && d["name"] != fs_dev)
        .expect("a suspended dm device");
    let path = format!("/dev/mapper/{}", dm_stuck["name"].as_str().expect("name"));
    for io in truth["dm"]["stuck_io"].as_array().expect("stuck_io") {
        let pid = io["pid"].as_u64().expect("pid");
        let text = run(&s, &format!("files {pid}"));
        assert!(
            text.lines()
                .any(|l| l.contains(" BLK  ") && l.ends_with(&path)),
            "dd {pid} has no {path} open:\n{text}"
        );
    }
}

/// `mount` lists the root file system and the guest's mounts.
#[test]
fn mount_lists_guest_mounts() {
    let s = open("live.elf");
    let text = run(&s, "mount");
    let rows: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[2].to_string(), w[w.len() - 1].to_string())
        })
        .collect();
    for (ty, dir) in [
        ("rootfs", "/"),
        ("proc", "/proc"),
        ("sysfs", "/sys"),
        ("devtmpfs", "/dev"),
        ("tmpfs", "/run"),
        ("tmpfs", "/tmp"),
    ] {
        assert!(
            rows.iter().any(|(t, d)| t == ty && d == dir),
            "no {ty} on {dir}:\n{text}"
        );
    }
}

/// `dev -d` lists the guest's SCSI disks (major 8) and its dm devices.
#[test]
fn dev_d_lists_disks_and_dm_devices() {
    let truth = common::truth("live");
    let s = open("live.elf");
    let text = run(&s, "dev -d");
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    for d in truth["disks"].as_array().expect("disks") {
        let name = d["name"].as_str().expect("name");
        let major = d["dev"]
            .as_str()
            .and_then(|x| x.split(':').next())
            .expect("dev");
        assert!(
            rows.iter().any(|r| r[2] == name && r[0] == major),
            "no {name}:\n{text}"
        );
    }
    for d in truth["dm"]["devices"].as_array().expect("dm") {
        let kname = d["kname"].as_str().expect("kname");
        let major = d["major"].as_u64().expect("major").to_string();
        assert!(
            rows.iter().any(|r| r[2] == kname && r[0] == major),
            "no {kname}:\n{text}"
        );
    }
}

/// `net` shows `lo` with 127.0.0.1; `net -s` of the helper shows its UDP socket, TCP
/// listener, TCP client and the accepted connection with the ground truth's ports, and a
/// unix stream socket.
#[test]
fn net_devices_and_helper_sockets() {
    let truth = common::truth("live");
    let s = open("live.elf");
    let text = run(&s, "net");
    assert!(
        text.lines()
            .any(|l| l.contains("  lo ") && l.ends_with("127.0.0.1, ::1")),
        "{text}"
    );
    let h = &truth["sockets"]["helper"];
    let pid = h["pid"].as_u64().expect("pid");
    let udp = h["udp_port"].as_u64().expect("udp");
    let listen = h["tcp_listen_port"].as_u64().expect("listen");
    let client = h["tcp_client_port"].as_u64().expect("client");
    let text = run(&s, &format!("net -s {pid}"));
    let has = |fam: &str, src: &str, dst: &str| {
        text.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= 6 && w[3] == fam && w[4] == src && w[5] == dst
        })
    };
    assert!(
        has("INET:DGRAM", &format!("0.0.0.0-{udp}"), "0.0.0.0-0"),
        "{text}"
    );
    assert!(
        has("INET:STREAM", &format!("127.0.0.1-{listen}"), "0.0.0.0-0"),
        "{text}"
    );
    assert!(
        has(
            "INET:STREAM",
            &format!("127.0.0.1-{client}"),
            &format!("127.0.0.1-{listen}")
        ),
        "{text}"
    );
    assert!(
        has(
            "INET:STREAM",
            &format!("127.0.0.1-{listen}"),
            &format!("127.0.0.1-{client}")
        ),
        "{text}"
    );
    assert!(text.contains("UNIX:STREAM"), "{text}");
}

/// `kmem -i`: TOTAL MEM is `totalram_pages` (= MemTotal); FREE, CACHED and SLAB agree with the
/// guest's `/proc/meminfo` within 1.5% of total memory (the listing was taken a moment before
/// the dump, and /proc/meminfo folds per-CPU counter deltas that the dump's global counters
/// have not yet absorbed); COMMIT LIMIT is exact.
#[test]
fn kmem_i_agrees_with_meminfo() {
    let truth = common::truth("live");
    let mi = &truth["meminfo"];
    let kb = |k: &str| mi[k].as_u64().unwrap_or_else(|| panic!("meminfo {k}"));
    let s = open("live.elf");
    let m = rkdump::commands::kmem::meminfo(&s);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(Some(m.total), rkdump::linux::mm::totalram_pages(&s));
    assert_eq!(m.total * 4, kb("MemTotal"));
    assert_eq!(m.commit_limit * 4, kb("CommitLimit"));
    let tol = m.total * 15 / 1000;
    for (name, ours, key) in [
        ("FREE", m.free, "MemFree"),
        ("CACHED", m.cached, "Cached"),
        ("SLAB", m.slab, "Slab"),
        ("SHARED", m.shared, "Shmem"),
    ] {
        let want = kb(key) / 4;
        assert!(
            ours.abs_diff(want) <= tol,
            "{name}: {ours} pages, /proc/meminfo {key} {want} pages (tolerance {tol})"
        );
    }
    let text = run(&s, "kmem -i");
    assert!(text.contains("    TOTAL MEM"), "{text}");
    assert!(text.contains(&format!(" {} ", m.total)), "{text}");
}

/// The 6.4+ way to a class's private part (searching `class_kset`'s list for the
/// `subsys_private` whose `class` is the class) finds, on 6.1 where both exist, the same
/// `subsys_private` as `class->p`; on 6.4+ (no `class->p`) one whose `class` is the class.
#[test]
fn block_class_subsys_is_the_same_both_ways() {
    use rkdump::linux::device::{class_subsys, ClassLayout};
    let s = open("live.elf");
    let (class, _) = s.global("block_class").expect("block_class");
    let k = class_subsys(&s, class, Some(ClassLayout::ClassKset)).expect("class_kset");
    assert!(k >= 0xffff_8000_0000_0000);
    if s.offset_of("struct class", "p").is_ok() {
        assert_eq!(ClassLayout::of(&s), Some(ClassLayout::ClassP));
        let p = class_subsys(&s, class, Some(ClassLayout::ClassP)).expect("class->p");
        assert_eq!(p, k);
    } else {
        assert_eq!(ClassLayout::of(&s), Some(ClassLayout::ClassKset));
        let sp = s
            .find_type("struct subsys_private")
            .expect("subsys_private");
        let back = rkdump::value::Value::at(sp, k)
            .member_u64(&s, "class")
            .expect("subsys_private.class");
        assert_eq!(back, class);
    }
}

/// `dev -d` agrees with Debian crash 8.0.2 on the same dump: major, gendisk, name,
/// request_queue and the in-flight counts (TOTAL READ WRITE) of every disk.
#[test]
fn dev_d_agrees_with_crash() {
    let dump = common::fixture("live.elf");
    let rows = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .skip_while(|l| !l.starts_with("MAJOR"))
            .skip(1)
            .map(|l| l.split_whitespace().map(String::from).collect())
            .filter(|r: &Vec<String>| r.len() == 7)
            .collect()
    };
    let s = open("live.elf");
    // Every disk's in-flight count was read (blk-mq: hctx_table, tags, sbitmaps).
    let (disks, warnings) = rkdump::linux::block::disks(&s).expect("disks");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(disks.iter().any(|d| d.mq) && disks.iter().any(|d| !d.mq));
    let text = run(&s, "dev -d");
    let ours = rows(&text);
    assert_eq!(ours.len(), disks.len(), "{text}");
    if !common::crash_reads_this_line() {
        eprintln!(
            "crash 8.0.2 cannot read the {} line's dumps: comparison not run",
            common::kernel_line()
        );
        return;
    }
    let crash = common::crash_outputs(&dump, &["dev -d"]);
    let theirs = rows(&crash[0]);
    assert!(theirs.len() >= 4, "crash printed:\n{}", crash[0]);
    assert_eq!(ours, theirs, "rkdump:\n{text}\ncrash:\n{}", crash[0]);
    // The same layout, line for line (crash pads each line with a trailing space).
    let trimmed = |t: &str| -> Vec<String> {
        t.lines()
            .skip_while(|l| !l.starts_with("MAJOR"))
            .map(|l| l.trim_end().to_string())
            .collect()
    };
    assert_eq!(trimmed(&text), trimmed(&crash[0]));
}

/// `foreach dd files` and `foreach user net` run the inner command on every chosen task: the
/// stuck dd tasks hold the suspended dm device open, the helper's sockets are listed with it,
/// and `cmd("foreach user net")` holds the same sockets.
#[test]
fn foreach_runs_files_and_net() {
    let s = common::open("live.elf");
    let truth = common::truth("live");
    let files = common::run(&s, "foreach dd files");
    for io in truth["dm"]["stuck_io"].as_array().expect("stuck_io") {
        let pid = io["pid"].as_u64().expect("pid");
        let block = files
            .split("\n\n")
            .find(|b| b.starts_with(&format!("PID: {pid} ")))
            .unwrap_or_else(|| panic!("no files of dd {pid}:\n{files}"));
        assert!(block.contains("/dev/mapper/rkd-stuck"), "{block}");
    }
    let helper = &truth["sockets"]["helper"];
    let pid = helper["pid"].as_u64().expect("helper pid");
    let net = common::run(&s, "foreach user net");
    let block = net
        .split("\n\n")
        .find(|b| b.starts_with(&format!("PID: {pid} ")))
        .unwrap_or_else(|| panic!("no sockets of the helper {pid}:\n{net}"));
    for port in ["udp_port", "tcp_listen_port", "tcp_client_port"] {
        let p = helper[port].as_u64().expect("port");
        assert!(
            block.contains(&format!("-{p} ")) || block.ends_with(&format!("-{p}")),
            "{port} {p}:\n{block}"
        );
    }
    use rkdump::commands::{Data, Registry};
    let registry = Registry::new();
    let foreach = registry.find("foreach").expect("foreach is a command");
    let args = ["user".to_string(), "net".to_string()];
    let data = foreach.data(&s, &args).expect("structured foreach net");
    let Data::List(socks) = data else {
        panic!("a list of sockets: {data:?}")
    };
    let is_helpers = |k: &&Data| match k {
        Data::Map(m) => m
            .iter()
            .any(|(n, v)| n == "pid" && *v == Data::Int(pid as i64)),
        _ => false,
    };
    let of_helper = socks.iter().filter(is_helpers).count();
    assert_eq!(
        of_helper,
        block.lines().count() - 2,
        "one entry per socket line:\n{block}"
    );
}

/// `whatis` and `p` fall back to module debuginfo for module types and globals, and agree
/// with drgn on the same dump: `struct dm_table` (dm_mod), `_minor_idr` (a dm_mod static),
/// and a `struct scsi_device` (scsi_mod) found through each SCSI disk's request queue.
#[test]
fn whatis_and_p_read_module_types_and_globals_like_drgn() {
    let d = drgn(
        "live.elf",
        r#"
import drgn
from drgn.helpers.linux.block import for_each_disk
t = prog.type("struct dm_table")
print("dm_table", t.size, ",".join(m.name for m in t.members))
m = prog["_minor_idr"]
print("minor_idr", hex(m.idr_rt.xa_head.value_()), int(m.idr_next))
for disk in for_each_disk(prog):
    if disk.disk_name.string_().decode().startswith("sd"):
        s = drgn.cast("struct scsi_device *", disk.queue.queuedata)
        print("sdev", hex(s.value_()), int(s.id), int(s.lun), s.vendor.string_().decode())
"#,
    );
    let s = open("live.elf");
    let mut sdevs = 0;
    for l in d.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        match f.first().copied() {
            Some("dm_table") => {
                let text = run(&s, "whatis struct dm_table");
                assert!(text.contains(&format!("SIZE: {}", f[1])), "{text}");
                for m in f[2].split(',') {
                    assert!(
                        text.contains(&format!(" {m};"))
                            || text.contains(&format!("*{m};"))
                            || text.contains(&format!(" {m}["))
                            || text.contains(&format!("*{m}["))
                            || text.contains(&format!(" {m} :"))
                            || text.contains(&format!("(*{m})")),
                        "member {m} missing:\n{text}"
                    );
                }
            }
            Some("minor_idr") => {
                assert_eq!(
                    run(&s, "whatis _minor_idr").trim(),
                    "struct idr _minor_idr;"
                );
                let text = run(&s, "p _minor_idr");
                assert!(text.starts_with("_minor_idr = $"), "{text}");
                assert!(text.contains(&format!("xa_head = {}", f[1])), "{text}");
                assert!(text.contains(&format!("idr_next = {}", f[2])), "{text}");
            }
            Some("sdev") => {
                sdevs += 1;
                let text = run(&s, &format!("p *(struct scsi_device *){}", f[1]));
                assert!(text.contains(&format!("\n  id = {},", f[2])), "{text}");
                assert!(text.contains(&format!("\n  lun = {},", f[3])), "{text}");
                assert!(
                    text.contains(&format!("\"{}", f[4])),
                    "vendor {}: {text}",
                    f[4]
                );
                let id = run(&s, &format!("p ((struct scsi_device *){})->id", f[1]));
                assert!(id.trim().ends_with(&format!("= {}", f[2])), "{id}");
            }
            _ => {}
        }
    }
    assert!(sdevs >= 1, "drgn found no SCSI disk:\n{d}");
    assert!(run(&s, "whatis scsi_device").contains("struct scsi_device {"));
}

/// Each module's build-id is read from its in-memory `.note.gnu.build-id`; it equals the
/// build-id of the module's debuginfo file, and a `.build-id/xx/rest.debug` link under an
/// added directory is found by it (before any file found by name).
#[test]
fn module_build_ids_find_debuginfo_by_build_id() {
    let s = open("live.elf");
    let rel = s.release_cached();
    let table = s.modules().expect("module list");
    let id = table
        .build_id("dm_mod")
        .expect("dm_mod build-id from memory");
    let by_name = table
        .find_debug_file(&rel, "dm_mod")
        .expect("dm-mod.ko debuginfo");
    let out = Command::new("readelf")
        .arg("-n")
        .arg(&by_name)
        .output()
        .expect("readelf");
    let notes = String::from_utf8_lossy(&out.stdout);
    assert!(
        notes.contains(&format!("Build ID: {id}")),
        "{id} not in:\n{notes}"
    );
    let n = table
        .modules
        .iter()
        .filter(|m| table.build_id(&m.name).is_some())
        .count();
    assert_eq!(n, table.modules.len(), "every module has a build-id");

    let dir = std::env::temp_dir().join(format!("rkdump-buildid-{}", std::process::id()));
    let link = dir.join(".build-id").join(&id[..2]);
    std::fs::create_dir_all(&link).expect("mkdir");
    let file = link.join(format!("{}.debug", &id[2..]));
    std::fs::copy(&by_name, &file).expect("copy");
    table.add_debug_dir(&dir);
    assert_eq!(table.find_debug_file(&rel, "dm_mod"), Some(file.clone()));
    let d = table
        .load_debuginfo(&rel, "dm_mod", None)
        .expect("load by build-id");
    assert_eq!(d.path, file);
    assert!(d.types.find_type("struct dm_table").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}
