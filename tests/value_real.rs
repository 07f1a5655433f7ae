//! The value layer and the type commands (`p`, `struct`, `whatis`, `list`, `tree`) on the real
//! fixture dumps: values against the guest's ground truth, output against crash 8.0.2
//! (golden files made by `tests/tools/make-crash-golden.sh`), walks against drgn's helpers (run
//! here, from `tests/tools/drgn_walks.py`).

mod common;

use rkdump::commands::Registry;
use rkdump::session::Session;
use rkdump::value::walk::{self, RbOrder};
use rkdump::value::{expr, Target, Value, ValueError};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/crash");

fn live() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| {
        Session::open(&common::vmlinux(), &common::fixture("live.elf")).expect("open live.elf")
    })
}

fn run(s: &Session, reg: &Registry, line: &str) -> Result<String, rkdump::Error> {
    let mut out = Vec::new();
    reg.run_line(s, line, &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn run_ok(s: &Session, line: &str) -> String {
    run(s, &Registry::new(), line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// `p init_task.comm` is `"swapper/0"`, through the value API and the command.
#[test]
fn p_init_task_comm() {
    let s = live();
    let e = expr::parse(s, "init_task.comm").expect("parse");
    let v = expr::eval(s, &e, None).expect("eval");
    assert_eq!(v.string(s).expect("string"), "swapper/0");
    assert_eq!(
        run_ok(s, "p init_task.comm"),
        "$1 = \"swapper/0\\000\\000\\000\\000\\000\\000\"\n"
    );
}

/// Value API: pointer-transparent paths, deref, index, cast, container_of, address-of, enums,
/// bitfields, NULL pointers.
#[test]
fn value_api_on_init_task() {
    let s = live();
    let (addr, ty) = s.global("init_task").expect("init_task");
    let t = Value::at(ty, addr);
    assert_eq!(t.member_u64(s, "pid").expect("pid"), 0);
    // tasks.next is a list_head *: `.` follows it; container_of goes back to the task.
    let next = t.member_u64(s, "tasks.next").expect("tasks.next");
    let task_ty = s.find_type("struct task_struct").expect("task_struct");
    let init = Value::container_of(s, next, task_ty, "tasks").expect("container_of");
    assert_eq!(init.member_u64(s, "pid").expect("pid of first task"), 1);
    assert_eq!(
        init.member(s, "comm")
            .and_then(|c| c.string(s))
            .ok()
            .as_deref(),
        Some("init")
    );
    // Pointer transparency through two pointers: init's parent is init_task (swapper).
    assert_eq!(
        init.member(s, "real_parent.comm")
            .and_then(|c| c.string(s))
            .ok()
            .as_deref(),
        Some("swapper/0")
    );
    assert_eq!(
        init.member(s, "real_parent")
            .and_then(|p| p.deref(s))
            .ok()
            .and_then(|v| v.address()),
        Some(addr)
    );
    // Index past a flexible array's end is allowed; arrays index normally.
    let c1 = t
        .member(s, "comm")
        .and_then(|c| c.index(s, 1))
        .expect("comm[1]");
    assert_eq!(c1.to_u64(s).ok(), Some(u64::from(b'w')));
    assert_eq!(
        t.member(s, "comm[2]").and_then(|c| c.to_u64(s)).ok(),
        Some(u64::from(b'a'))
    );
    // Address-of and cast.
    let p = t.address_of(s).expect("&init_task");
    assert_eq!(p.to_u64(s).ok(), Some(addr));
    let lh = s.find_type("struct list_head *").expect("list_head *");
    let c = p.cast(s, lh).expect("cast");
    use rkdump::memory::ReadExt;
    let first_word = s.read_u64(rkdump::addr::Kva(addr)).expect("raw read");
    assert_eq!(c.member_u64(s, "next").ok(), Some(first_word));
    // Enum: value and name.
    let st = t
        .member(s, "restart_block.nanosleep.type")
        .expect("enum member");
    match st.scalar(s).expect("scalar") {
        rkdump::value::Scalar::Enum { value, name } => {
            assert_eq!((value, name.as_deref()), (0, Some("TT_NONE")))
        }
        other => panic!("not an enum: {other:?}"),
    }
    // Bitfields decode (init_task has none of these set).
    assert_eq!(
        t.member(s, "in_execve").and_then(|b| b.to_u64(s)).ok(),
        Some(0)
    );
    assert!(t
        .member(s, "in_execve")
        .expect("bitfield")
        .bitfield()
        .is_some());
    // NULL pointer: init_task.mm is NULL; taking a member through it names the path.
    assert!(t.member(s, "mm").and_then(|m| m.is_null(s)).expect("mm"));
    match t.member(s, "mm.owner") {
        Err(ValueError::NullPointer {
            member,
            pointer,
            type_name,
            at,
        }) => {
            assert_eq!((member.as_str(), pointer.as_str()), ("mm.owner", "mm"));
            assert_eq!(type_name, "struct mm_struct *");
            assert!(at.is_some());
        }
        other => panic!("expected NullPointer, got {other:?}"),
    }
    // Unknown member: the error names the type and the member.
    match t.member(s, "se.no_such_thing") {
        Err(ValueError::NoMember { type_name, member }) => {
            assert_eq!(type_name, "struct task_struct");
            assert_eq!(member, "se.no_such_thing");
        }
        other => panic!("expected NoMember, got {other:?}"),
    }
}

/// `p jiffies` and `p init_uts_ns.name` agree with the guest on every live dump format.
#[test]
fn uts_and_jiffies_on_every_format() {
    let truth = common::truth("live");
    let vm = common::vmlinux();
    let formats: Vec<(String, String)> = common::manifest()
        .into_iter()
        .filter(|(_, scen, _)| scen == "live")
        .map(|(f, _, fmt)| (f, fmt))
        .collect();
    assert!(
        formats.len() >= 4,
        "expected several live dumps: {formats:?}"
    );
    let mut jiffies = BTreeSet::new();
    for (file, fmt) in &formats {
        let s =
            Session::open(&vm, &common::fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let uts = expr::eval(
            s_ref(&s),
            &expr::parse(&s, "init_uts_ns.name").expect("p"),
            None,
        )
        .expect("init_uts_ns.name");
        let field = |m: &str| uts.member(&s, m).and_then(|v| v.string(&s)).expect(m);
        assert_eq!(
            field("nodename"),
            truth["nodename"].as_str().expect("nodename"),
            "{file}"
        );
        assert_eq!(
            field("release"),
            truth["release"].as_str().expect("release"),
            "{file}"
        );
        let version = field("version");
        assert!(
            truth["version"]
                .as_str()
                .expect("version")
                .ends_with(&version),
            "{file} ({fmt}): version {version:?}"
        );
        let out = run_ok(&s, "p jiffies");
        let j: u64 = out
            .trim()
            .strip_prefix("jiffies = $1 = ")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{file}: p jiffies printed {out:?}"));
        jiffies.insert(j);
    }
    // All formats hold the same memory snapshot.
    assert_eq!(
        jiffies.len(),
        1,
        "jiffies differ between formats: {jiffies:?}"
    );
    // The guest read jiffies from /proc/timer_list just before the dump was taken, so the
    // dump's value is at least that one and at most a few seconds of ticks later (HZ=250 on
    // Debian's cloud kernel; the dump follows the READY line within about a second).
    let j = *jiffies.iter().next().expect("one value");
    let before = truth["jiffies"].as_u64().expect("jiffies in the truth");
    assert!(
        j >= before && j - before <= 5 * 250,
        "jiffies in the dump {j} vs {before} read by the guest before the dump"
    );
    // The uptime `sys` derives from jiffies (INITIAL_JIFFIES = (u32)(-300 * HZ)) is the
    // guest's /proc/uptime to within what separates the two clocks: /proc/uptime is printed
    // in 10 ms steps, jiffies advance in 4 ms ticks, and jiffies only start counting at the
    // first timer tick, after the boot clock starts (tens of ms under QEMU TCG).
    let initial = u64::from((-300i32 * 250) as u32);
    let up = j.wrapping_sub(initial) as f64 / 250.0;
    let printed = truth["uptime_s"].as_f64().expect("uptime_s");
    assert!(
        up >= printed - 0.01 - 0.004 - 0.5 && up <= printed + 5.0,
        "uptime from jiffies {up}s vs guest's {printed}s"
    );
}

fn s_ref(s: &Session) -> &dyn Target {
    s
}

/// `list task_struct.tasks -s task_struct.pid,comm -h init_task` gives the guest's
/// thread-group leaders, exactly.
#[test]
fn task_list_matches_guest() {
    let s = live();
    let out = run_ok(
        s,
        "list task_struct.tasks -s task_struct.pid,comm -h init_task",
    );
    let mut got = BTreeSet::new();
    let mut pid = None;
    for l in out.lines() {
        if let Some(p) = l.trim().strip_prefix("pid = ") {
            pid = p.trim_end_matches(',').parse::<u64>().ok();
        } else if let Some(c) = l.trim().strip_prefix("comm = \"") {
            let comm = c
                .split("\\000")
                .next()
                .unwrap_or("")
                .trim_end_matches("\",");
            got.insert((pid.take().expect("pid before comm"), comm.to_string()));
        }
    }
    // The walk starts at init_task (pid 0, "swapper/0"), which /proc does not list.
    assert!(
        got.remove(&(0, "swapper/0".to_string())),
        "init_task first: {out}"
    );
    let truth = common::truth("live");
    let want: BTreeSet<(u64, String)> = truth["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| p["tid_of"].is_null())
        .map(|p| {
            (
                p["pid"].as_u64().expect("pid"),
                p["comm"].as_str().expect("comm").to_string(),
            )
        })
        .collect();
    // Exact on the PID set and on each name, with the one difference /proc makes on purpose:
    // since 5.x /proc/PID/comm of a kernel thread shows its full name (`kthread->full_name`,
    // so task->comm is its first 15 bytes) and a workqueue worker's shows `comm-workqueue`
    // (`wq_worker_comm`; `comm+workqueue` while it runs a work item). The guest's scenario is
    // quiescent when it prints the truth and the dump follows at once, so no kernel thread
    // comes or goes in between on this fixture.
    let got_pids: Vec<u64> = got.iter().map(|(p, _)| *p).collect();
    let want_pids: Vec<u64> = want.iter().map(|(p, _)| *p).collect();
    assert_eq!(got_pids, want_pids, "PIDs differ from the guest's /proc");
    for ((pid, ours), (_, proc_comm)) in got.iter().zip(&want) {
        let same = ours == proc_comm
            || (ours.len() == 15 && proc_comm.starts_with(ours.as_str()))
            || (ours.starts_with("kworker/")
                && (proc_comm.starts_with(&format!("{ours}-"))
                    || proc_comm.starts_with(&format!("{ours}+"))));
        assert!(
            same,
            "pid {pid}: task->comm {ours:?} vs /proc {proc_comm:?}"
        );
    }
}

fn drgn_output() -> &'static str {
    static OUT: OnceLock<String> = OnceLock::new();
    OUT.get_or_init(|| {
        let drgn = "/var/cache/rkdump/venv/bin/drgn";
        assert!(
            Path::new(drgn).exists(),
            "{drgn} missing: run tests/tools/install-drgn.sh"
        );
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/drgn_walks.py");
        let out = std::process::Command::new(drgn)
            .args(["-q", "-c"])
            .arg(common::fixture("live.elf"))
            .arg("-s")
            .arg(common::vmlinux())
            .arg("--no-default-symbols")
            .arg(script)
            .output()
            .expect("run drgn");
        assert!(
            out.status.success(),
            "drgn failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

fn drgn_lines(kind: &str) -> Vec<Vec<String>> {
    drgn_output()
        .lines()
        .filter_map(|l| l.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')))
        .map(|r| r.split(' ').map(str::to_string).collect())
        .collect()
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("not hex: {s}"))
}

/// The in-order rbtree walk of the busy vmap areas equals drgn's `rbtree_inorder_for_each`:
/// `vmap_area_root`, or since 6.9 (the areas split into per-node trees) `vmap_nodes[0].busy.root`.
#[test]
fn rbtree_walk_agrees_with_drgn() {
    let s = live();
    let root = s.symbol_addr("vmap_area_root").unwrap_or_else(|| {
        let (at, ty) = s
            .global("vmap_nodes")
            .expect("vmap_area_root or vmap_nodes");
        let nodes = Value::at(ty, at).deref(s).expect("vmap_nodes[0]");
        let root = nodes.member(s, "busy.root").expect("vmap_node.busy.root");
        root.address().expect("address")
    });
    let drgn_root = drgn_lines("rbroot");
    assert_eq!(drgn_root.len(), 1);
    assert_eq!(root, hex(&drgn_root[0][0]), "the same tree");
    let w = walk::rbtree_ordered(s, root, false, RbOrder::InOrder, 1 << 20).expect("walk");
    assert!(w.warnings.is_empty(), "{:?}", w.warnings);
    let want: Vec<u64> = drgn_lines("rbtree").iter().map(|l| hex(&l[0])).collect();
    assert!(want.len() > 50, "drgn printed {} nodes", want.len());
    assert_eq!(w.items, want);
    // The command's -I order is the same walk.
    let out = run_ok(s, &format!("tree -t rbtree -I {root:#x}"));
    let cmd: Vec<u64> = out.lines().map(hex).collect();
    assert_eq!(cmd, want);
}

/// The xarray walk of `init_pid_ns.idr` equals drgn's `idr_for_each`.
#[test]
fn idr_walk_agrees_with_drgn() {
    let s = live();
    let (addr, ty) = s.global("init_pid_ns").expect("init_pid_ns");
    let idr = Value::at(ty, addr).member(s, "idr").expect("idr");
    let w = walk::idr(s, idr.address().expect("addr"), 1 << 20).expect("walk");
    assert!(w.warnings.is_empty(), "{:?}", w.warnings);
    let want: Vec<(u64, u64)> = drgn_lines("idr")
        .iter()
        .map(|l| (l[0].parse().expect("id"), hex(&l[1])))
        .collect();
    assert!(want.len() > 50, "drgn printed {} ids", want.len());
    assert_eq!(w.items, want);
}

/// The maple tree walk of pid 1's `mm->mm_mt` equals drgn's `mt_for_each`.
#[test]
fn maple_walk_agrees_with_drgn() {
    let s = live();
    // Find pid 1 on the task list with the value layer, as drgn's find_task does by pid.
    let (addr, ty) = s.global("init_task").expect("init_task");
    let off = s.offset_of("struct task_struct", "tasks").expect("tasks");
    let w = walk::list(
        s,
        walk::ListStart::Embedded(addr),
        &walk::ListOpts {
            offset: off,
            ..Default::default()
        },
    );
    let init = w
        .items
        .iter()
        .map(|a| Value::at(ty, *a))
        .find(|t| t.member_u64(s, "pid").ok() == Some(1))
        .expect("pid 1");
    let mt = init.member(s, "mm.mm_mt").expect("mm.mm_mt");
    let mt_addr = mt.address().expect("mm_mt address");
    let drgn_mt = drgn_lines("mm");
    assert_eq!(hex(&drgn_mt[0][1]), mt_addr, "same maple tree as drgn");
    let got = walk::maple(s, mt_addr, 1 << 20).expect("walk");
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    let want: Vec<(u64, u64, u64)> = drgn_lines("maple")
        .iter()
        .map(|l| (hex(&l[0]), hex(&l[1]), hex(&l[2])))
        .collect();
    assert!(want.len() >= 5, "drgn printed {} ranges", want.len());
    let got: Vec<(u64, u64, u64)> = got
        .items
        .iter()
        .map(|e| (e.first, e.last, e.entry))
        .collect();
    assert_eq!(got, want);
}

/// The task list from drgn's `list_for_each_entry` equals ours (pid and comm, in order).
#[test]
fn task_list_agrees_with_drgn() {
    let s = live();
    let (addr, ty) = s.global("init_task").expect("init_task");
    let off = s.offset_of("struct task_struct", "tasks").expect("tasks");
    let w = walk::list(
        s,
        walk::ListStart::Head(addr + off),
        &walk::ListOpts {
            offset: off,
            ..Default::default()
        },
    );
    let got: Vec<(String, String)> = w
        .items
        .iter()
        .map(|a| {
            let t = Value::at(ty, *a);
            (
                t.member_u64(s, "pid").expect("pid").to_string(),
                t.member(s, "comm").and_then(|c| c.string(s)).expect("comm"),
            )
        })
        .collect();
    let want: Vec<(String, String)> = drgn_lines("task")
        .into_iter()
        .map(|l| (l[0].clone(), l[1..].join(" ")))
        .collect();
    assert_eq!(got, want);
}

/// `struct NAME -o` equals crash 8.0.2's output on the same vmlinux for six types.
#[test]
fn struct_offsets_match_crash() {
    if !common::crash_reads_this_line() {
        eprintln!(
            "crash 8.0.2 cannot read the {} line's dumps: comparison not run",
            common::kernel_line()
        );
        return;
    }
    let s = live();
    let types = [
        "list_head",
        "kobject",
        "pid_namespace",
        "task_struct",
        "page",
        "rq",
    ];
    let cmds: Vec<String> = types.iter().map(|t| format!("struct {t} -o")).collect();
    let cmd_refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
    let want = common::crash_outputs(&common::fixture("live.elf"), &cmd_refs);
    for (cmd, want) in cmds.iter().zip(want) {
        assert_eq!(run_ok(s, cmd), want, "{cmd}");
    }
}

/// `p`, `struct`, `whatis`, `list`, `tree` print exactly what crash 8.0.2 prints for the
/// commands of `tests/golden/crash/print.cmds`, run on the same dump by crash in the test:
/// `p init_task.*` fields and the whole of `init_task`, `init_mm`, `*init_task.nsproxy`,
/// `init_uts_ns`, `struct list_head ADDR`, an enum, a typedef, bitfield members, a list, a tree.
/// Commands run in one session in both tools so the `$N` value numbers line up.
#[test]
fn printing_matches_crash() {
    if !common::crash_reads_this_line() {
        eprintln!(
            "crash 8.0.2 cannot read the {} line's dumps: comparison not run",
            common::kernel_line()
        );
        return;
    }
    let s = live();
    let reg = Registry::new();
    // Addresses move with KASLR: print.cmds names them as placeholders.
    let tasks = s.symbol_addr("init_task").expect("init_task")
        + s.offset_of("struct task_struct", "tasks").expect("tasks");
    let cmds = std::fs::read_to_string(format!("{GOLDEN}/print.cmds"))
        .expect("cmds")
        .replace("@INIT_TASK_TASKS@", &format!("{tasks:x}"));
    let cmds: Vec<&str> = cmds.lines().filter(|l| !l.trim().is_empty()).collect();
    let want = common::crash_outputs(&common::fixture("live.elf"), &cmds);
    let mut compared = 0;
    for (line, want) in cmds.iter().zip(&want) {
        let got = run(s, &reg, line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let got: Vec<&str> = got.lines().filter(|l| !l.is_empty()).collect();
        let want: Vec<&str> = want.lines().collect();
        assert_eq!(got, want, "{line}");
        compared += want.len();
    }
    assert!(compared > 1500, "only {compared} lines compared");
}

/// Bad inputs give clear errors, never panics.
#[test]
fn bad_inputs_are_clear_errors() {
    let s = live();
    let reg = Registry::new();
    let err = |line: &str| match run(s, &reg, line) {
        Ok(o) => panic!("{line}: expected an error, got {o:?}"),
        Err(e) => e.to_string(),
    };
    assert_eq!(err("struct no_such_type"), "no type named 'no_such_type'");
    assert_eq!(
        err("struct task_struct.no_such_member init_task"),
        "struct task_struct has no member 'no_such_member'"
    );
    assert!(err("p init_task.nope").contains("struct task_struct has no member 'nope'"));
    let e = err("struct list_head 0x10");
    assert!(e.contains("struct list_head") && e.contains("0x10"), "{e}");
    let e = err("p *(struct task_struct *)0");
    assert!(e.contains("NULL"), "{e}");
    let e = err("p init_task.mm.owner");
    assert!(e.contains("'owner'") && e.contains("NULL"), "{e}");
    assert!(err("p no_such_symbol").contains("no_such_symbol"));
    assert!(err("p (struct list_head *").contains("syntax"));
    assert!(err("whatis no_such_thing").contains("no_such_thing"));
    assert!(err("tree -t bogus init_task").contains("invalid tree type"));
    assert!(err("list").contains("missing"));
    assert!(err("p runqueues:99").contains("CPU 99"));
    // A list through a bad pointer returns what it read plus a warning.
    let out = run_ok(s, "list 0 0x10");
    assert!(out.contains("list:"), "{out}");
}

/// `whatis` of a variable, a type with `-o`, per-CPU `p sym:a`, `*type` shorthand, counts.
#[test]
fn command_variants() {
    let s = live();
    assert_eq!(
        run_ok(s, "whatis init_task"),
        "struct task_struct init_task;\n"
    );
    assert!(run_ok(s, "whatis -o kobject").contains("  [60] unsigned int state_initialized : 1;"));
    let all = run_ok(s, "p runqueues:a");
    let n = s.per_cpu_offsets().len();
    assert_eq!(all.matches("per_cpu(runqueues, ").count(), n);
    assert_eq!(
        run_ok(s, "*list_head init_task.tasks"),
        run_ok(s, "struct list_head init_task.tasks")
    );
    let two = run_ok(s, "struct list_head init_task.tasks 2");
    assert_eq!(two.matches("struct list_head {").count(), 2);
    let back = run_ok(s, "struct list_head init_task.tasks -2");
    assert_eq!(back.matches("struct list_head {").count(), 2);
    assert!(run_ok(s, "p -x init_task.pid").contains("= 0x0"));
    assert!(run_ok(s, "p sizeof(struct list_head)").ends_with("= 16\n"));
    let rev = run_ok(s, "list -r -H init_task.tasks -o task_struct.tasks");
    let fwd = run_ok(s, "list -H init_task.tasks -o task_struct.tasks");
    let mut r: Vec<&str> = rev.lines().collect();
    r.reverse();
    assert_eq!(r, fwd.lines().collect::<Vec<_>>());
}
