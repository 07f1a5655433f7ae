//! The Rhai scripting host on a real dump: PyKdump idioms, catchable errors, the sandbox,
//! the operation budget, packs as commands.

mod common;

use rkdump::script::sandbox::{Capabilities, Capability};
use rkdump::script::setup::{build_registry, registry_cell};
use rkdump::script::{Capture, ScriptHost, ScriptOptions};
use rkdump::session::Session;
use std::sync::{Arc, OnceLock};

fn session() -> Arc<Session> {
    static S: OnceLock<Arc<Session>> = OnceLock::new();
    S.get_or_init(|| {
        Session::open(
            &common::vmlinux(),
            &common::fixture(&common::mdf("live", "zlib")),
        )
        .expect("opens")
        .into_shared()
    })
    .clone()
}

/// Runs `src` with `options`; returns (result text or error, printed output).
fn run_with(src: &str, options: ScriptOptions) -> (Result<String, String>, String) {
    let (reg, warnings) = build_registry(&options);
    assert!(warnings.is_empty(), "{warnings:?}");
    let out = Capture::default();
    let host = ScriptHost::new(
        session(),
        registry_cell(&reg),
        options,
        Box::new(out.clone()),
    );
    let r = host.run("test.rhai", src, &[]);
    host.print_summary();
    (
        r.map(|v| rkdump::script::api::addr::display(&v))
            .map_err(|e| e.to_string()),
        out.text(),
    )
}

fn run(src: &str) -> (Result<String, String>, String) {
    run_with(src, ScriptOptions::default())
}

#[test]
fn pykdump_idioms_work_as_written() {
    let t = common::truth("live");
    // exec_crash_command_bg("sys") parsed for RELEASE.
    let (r, _) = run(r#"
        let text = exec_crash_command_bg("sys");
        let release = "";
        for line in text.split("\n") {
            let kv = line.split(":");
            if kv.len() >= 2 && kv[0].strip() == "RELEASE" { release = kv[1].strip(); }
        }
        release
        "#);
    assert_eq!(r.as_deref(), Ok(t["release"].as_str().unwrap()));
    // The member_size idiom picks the member this kernel has (6.1: elevator_queue.type).
    let (r, _) = run(r#"
        if member_size("struct elevator_queue", "elevator_type") != -1 { "elevator_type" }
        else if member_size("struct elevator_queue", "type") != -1 { "type" } else { "none" }
        "#);
    assert_eq!(r.as_deref(), Ok("type"));
    // Structured command output and kernel facts.
    let (r, _) =
        run(r#"cmd("sys").nodename + " " + kernel.release + " " + (kernel.version >= "5.14")"#);
    assert_eq!(
        r.unwrap(),
        format!("rkdump-guest {} true", t["release"].as_str().unwrap())
    );
    let (r, _) = run(r#"sizeof("struct list_head") + member_offset("struct list_head", "prev")"#);
    assert_eq!(r.as_deref(), Ok("24"));
    let (r, _) = run(r#"enum_info("enum pid_type")["PIDTYPE_TGID"]"#);
    assert_eq!(r.as_deref(), Ok("1"));
    let (r, _) = run(r#"addr_to_sym(sym_addr("schedule") + 8)"#);
    assert_eq!(r.as_deref(), Ok("schedule+0x8"));
}

#[test]
fn read_errors_are_catchable_with_address_and_kind() {
    let (r, _) = run(r#"
        let r = "no error";
        try { read_u64(0xffffc90000000000 + 0x12345000); } catch (e) { r = `${e.kind} ${hex(e.addr)} ${e.message}`; }
        r
        "#);
    let r = r.unwrap();
    assert!(r.starts_with("memory 0xffffc90012345000 "), "{r}");
    assert!(r.contains("not mapped"), "{r}");
    // Uncaught, the error names the script, the line and the address.
    let (r, _) = run("let x = 1;\nread_u64(0x10)");
    let e = r.unwrap_err();
    assert!(e.starts_with("test.rhai:2:") && e.contains("0x10"), "{e}");
}

#[test]
fn the_sandbox_refuses_files_unless_granted() {
    let (r, _) = run(r#"read_file("/etc/hostname")"#);
    let e = r.unwrap_err();
    assert!(
        e.contains("'fs-read' capability") && e.contains("--allow fs-read"),
        "{e}"
    );
    let (r, _) = run(r#"exec("sys > /tmp/rkdump-sandbox-test.txt")"#);
    assert!(r.unwrap_err().contains("fs-write"));
    let (r, _) = run(r#"run_process("id")"#);
    assert!(r.unwrap_err().contains("'exec' capability"));
    let mut caps = Capabilities::none();
    caps.grant(Capability::FsRead);
    let (r, _) = run_with(
        r#"read_file("/proc/self/comm").len() > 0"#,
        ScriptOptions {
            caps,
            ..ScriptOptions::default()
        },
    );
    assert_eq!(r.as_deref(), Ok("true"));
}

/// Commands reached through `exec`/`cmd` honour the calling script's capabilities: `run FILE`
/// and `mod -S DIR` read host files, and a script started from a script gets no more than it.
#[test]
fn commands_from_scripts_honour_the_sandbox() {
    let (r, out) = run(r#"exec("run /etc/hostname")"#);
    let e = r.unwrap_err();
    assert!(
        e.contains("run /etc/hostname needs the 'fs-read' capability"),
        "{e}"
    );
    assert!(!out.contains("Variable not found"), "{out}");
    let (r, _) = run(r#"cmd("mod -S /etc")"#);
    assert!(r.unwrap_err().contains("'fs-read' capability"));
    let (r, _) = run(r#"exec("mod -s dm_mod /etc/passwd")"#);
    assert!(r.unwrap_err().contains("'fs-read' capability"));
    // mod with the default debuginfo folders reads nothing the script names.
    let (r, _) = run(r#"exec("mod").contains("dm_mod")"#);
    assert_eq!(r.as_deref(), Ok("true"));

    // The user granted everything to the commands; the script only fs-read: the script it
    // runs may read files but not run processes.
    let inner = std::env::temp_dir().join(format!("rkdump-ceiling-{}.rhai", std::process::id()));
    std::fs::write(
        &inner,
        "print(read_file(\"/proc/self/comm\").len() > 0);\nrun_process(\"id\")\n",
    )
    .unwrap();
    let all = Capabilities::parse_all(&["fs-read,fs-write,exec"]).unwrap();
    let (reg, _) = build_registry(&ScriptOptions {
        caps: all,
        ..ScriptOptions::default()
    });
    let mut read_only = Capabilities::none();
    read_only.grant(Capability::FsRead);
    let out = Capture::default();
    let host = ScriptHost::new(
        session(),
        registry_cell(&reg),
        ScriptOptions {
            caps: read_only,
            ..ScriptOptions::default()
        },
        Box::new(out.clone()),
    );
    let src = format!(r#"exec("run {}")"#, inner.display());
    let r = host.run("outer.rhai", &src, &[]).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&inner);
    let e = r.unwrap_err();
    assert!(e.contains("'exec' capability"), "{e}");
}

#[test]
fn runaway_scripts_stop_at_the_budget() {
    let (r, _) = run_with(
        "let i = 0; loop { i += 1; }",
        ScriptOptions {
            max_operations: 100_000,
            ..ScriptOptions::default()
        },
    );
    assert!(r.unwrap_err().contains("operation budget exhausted"));
}

#[test]
fn exec_bg_returns_what_it_had_at_the_timeout() {
    // 100 000 lines of kernel text, stopped at once by a zero timeout: fewer lines, no error.
    let (r, _) = run(r#"exec_bg("rd _text 200000", 0).split("\n").len()"#);
    let lines: usize = r.unwrap().parse().unwrap();
    assert!(lines < 100_000, "{lines} lines");
    let (r, _) = run(r#"exec_bg("rd _text 8", 5).split("\n").len()"#);
    assert_eq!(
        r.as_deref(),
        Ok("5"),
        "4 lines of 2 words and the empty rest"
    );
    let (r, _) = run(r#"exec("log | tail 2").split("\n").len()"#);
    assert_eq!(
        r.as_deref(),
        Ok("3"),
        "two lines and the empty rest after the last newline"
    );
}

#[test]
fn warnings_are_summarized() {
    let (r, out) = run(r#"warn("first"); info("middle"); error("bad"); 1"#);
    assert_eq!(r.as_deref(), Ok("1"));
    assert_eq!(
        out,
        "+++WARNING+++ first\nmiddle\n+++ERROR+++ bad\n\nSummary of problems found:\n  +++WARNING+++ first\n  +++ERROR+++ bad\n"
    );
}

#[test]
fn packs_become_commands() {
    let dir = std::env::temp_dir().join(format!("rkdump-pack-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("pack.toml"),
        "name = \"team\"\nversion = \"0.3\"\napi = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("nodename.rhai"),
        "// nodename: print the machine's name\nimport \"helpers\" as h;\nprint(h::shout(kernel.nodename) + \" \" + ARGV.len());\n",
    )
    .unwrap();
    std::fs::write(dir.join("helpers.rhai"), "fn shout(s) { s.to_upper() }\n").unwrap();
    let options = ScriptOptions {
        pack_dirs: vec![dir.clone()],
        ..ScriptOptions::default()
    };
    let (reg, warnings) = build_registry(&options);
    assert!(warnings.is_empty());
    let mut out = Vec::new();
    reg.run_line(&session(), "nodename a b", &mut out)
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out), "RKDUMP-GUEST 2\n");
    let mut out = Vec::new();
    reg.run_line(&session(), "packs", &mut out).expect("lists");
    let listing = String::from_utf8_lossy(&out);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("nodename") && l.contains("team") && l.contains("0.3")),
        "{listing}"
    );
    // A pack that needs a newer API says so in one line.
    std::fs::write(dir.join("pack.toml"), "name = \"future\"\napi = 99\n").unwrap();
    let (reg, _) = build_registry(&options);
    let e = reg
        .run_line(&session(), "nodename", &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert_eq!(e.lines().count(), 1);
    assert!(e.contains("needs script API 99"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gendisk_with_readsu_lists_the_guests_disks() {
    let t = common::truth("live");
    let (r, _) = run(r#"
        let sb = read_symbol("blockdev_superblock");
        let names = [];
        for inode in list_for_each_entry(addr_of(sb, "s_inodes"), "struct inode", "i_sb_list") {
            let bdev = container_of(inode, "struct bdev_inode", "vfs_inode").bdev;
            // 6.10 moved bd_partno into the low byte of __bd_flags
            let partno = if "bd_partno" in bdev { bdev.bd_partno } else { bdev.__bd_flags.counter & 0xff };
            if partno == 0 && !is_null(bdev.bd_disk) {
                names.push(readSU("struct gendisk", bdev.bd_disk.addr).disk_name);
            }
        }
        names.sort();
        names.reduce(|s, n| if s == () { n } else { s + " " + n })
        "#);
    let mut want: Vec<String> = t["disks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .chain(
            t["dm"]["devices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["kname"].as_str().unwrap().to_string()),
        )
        .collect();
    want.sort();
    assert_eq!(r.unwrap(), want.join(" "));
}

#[test]
fn pointer_transparent_objects() {
    // Member names that are Rhai keywords work after a dot; pointers are followed.
    let (r, _) = run(r#"
        let t = read_symbol("init_task");
        let sp = t.thread.sp;
        let raw = read_u64(addr_of(t, "thread") + member_offset("struct thread_struct", "sp"));
        `${t.comm} ${sp == raw && sp != 0} ${find_task(1).mm.owner.comm} ${"comm" in t} ${"nope" in t}`
        "#);
    assert_eq!(r.unwrap(), "swapper/0 true init true false");
    // A NULL pointer errors on member access with the pointer's name; catchable.
    let (r, _) = run(r#"
        let k = "";
        try { read_symbol("init_task").mm.owner } catch (e) { k = e.kind + ": " + e.message; }
        k
        "#);
    let r = r.unwrap();
    assert!(
        r.starts_with("null: cannot take 'owner'") && r.contains("NULL"),
        "{r}"
    );
    // Objects behave as maps of their members.
    let (r, _) = run(r#"
        let avg = read_symbol("init_task").se.avg;
        let m = avg.to_map();
        `${fields(avg).len() == m.len()} ${m.contains("load_avg")} ${avg.members()[0].name}`
        "#);
    assert_eq!(r.unwrap(), "true true last_update_time");
}

#[test]
fn walking_all_tasks_matches_the_guest() {
    let t = common::truth("live");
    let (r, _) = run(r#"
        let pids = [];
        for t in for_each_task() { if t.pid != 0 { pids.push(t.pid); } }
        pids.sort();
        pids
        "#);
    let mut want: Vec<i64> = t["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_i64().unwrap())
        .collect();
    want.sort();
    let want = format!("{want:?}");
    assert_eq!(r.unwrap(), want);
    // States and stacks: the D-state dd tasks wait in submit_bio_wait.
    let (r, _) = run(r#"
        let n = 0;
        for t in for_each_task() {
            if task_state(t) == "UN" && t.comm == "dd" && has_func(t, "submit_bio_wait") { n += 1; }
        }
        n
        "#);
    let dd = t["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["comm"] == "dd"
                && p["state"] == "D"
                && p["stack"].to_string().contains("submit_bio_wait")
        })
        .count();
    assert!(dd >= 2);
    assert_eq!(r.unwrap(), dd.to_string());
}

#[test]
fn cmd_takes_the_arguments_in_its_name() {
    // cmd("bt 1") is cmd("bt", "1"); the result is a list of traces with frames.
    let (r, _) = run(r#"
        let t = cmd("bt 1");
        let u = cmd("bt", "1");
        `${t.len()} ${t[0].pid} ${t[0].frames[0].function} ${t[0].frames.len() == u[0].frames.len()}`
        "#);
    assert_eq!(r.as_deref(), Ok("1 1 __schedule true"));
    // sym NAME is a map; a failing lookup is a catchable error.
    let (r, _) = run(r#"
        let s = cmd("sym schedule");
        let e = "";
        try { cmd("sym no_such_symbol_here"); } catch (err) { e = "caught"; }
        `${s.name} ${s.address == sym_addr("schedule")} ${e}`
        "#);
    assert_eq!(r.as_deref(), Ok("schedule true caught"));
}

#[test]
fn stack_frames_and_addresses_carry_source_lines() {
    // A D-state dd task waits in submit_bio_wait (block/bio.c); __schedule inlines
    // context_switch.
    let (r, _) = run(r#"
        let out = "";
        for t in for_each_task() {
            if task_state(t) == "UN" && t.comm == "dd" {
                for f in stack_trace(t, true) {
                    if f.func == "submit_bio_wait" { out += `${f.file}:${f.line > 0};`; }
                    if f.func == "__schedule" { out += f.inlined[0].func + ";"; }
                }
                break;
            }
        }
        let l = addr_to_line(sym_addr("schedule"));
        out += `${l.func}:${l.file.ends_with("kernel/sched/core.c")}`;
        out
        "#);
    let r = r.expect("script runs");
    assert!(r.contains("block/bio.c:true;"), "{r}");
    assert!(r.contains("context_switch;"), "{r}");
    assert!(r.ends_with("schedule:true"), "{r}");
}

/// PID of the guest's socket helper (several open files and sockets).
fn helper_pid(t: &serde_json::Value) -> i64 {
    t["sockets"]["helper"]["pid"].as_i64().expect("helper pid")
}

#[test]
fn pointer_members_index_like_c_and_match_files() {
    let t = common::truth("live");
    for pid in [1, helper_pid(&t)] {
        // Every open fd: `fdt.fd[i]` is the `struct file *` that `files PID` lists, and its
        // path follows from it in one line.
        let (r, _) = run(&format!(
            r#"
            let fdt = find_task({pid}).files.fdt;
            let out = [];
            for f in cmd("files {pid}")[0].files {{
                let p = fdt.fd[f.fd];
                if p != f.file {{ out.push(`fd ${{f.fd}}: ${{p}} != ${{f.file}}`); }}
                if type_name(p) != "struct file *" {{ out.push(`fd ${{f.fd}}: ${{type_name(p)}}`); }}
                if d_path(p.f_path) != f.path && !f.path.starts_with("socket:") {{ out.push(`fd ${{f.fd}}: ${{d_path(p.f_path)}} != ${{f.path}}`); }}
                out.push(`${{f.fd}}`);
            }}
            out
            "#
        ));
        let r = r.unwrap();
        assert!(!r.contains("!=") && !r.contains(": "), "pid {pid}: {r}");
        assert!(r.contains("\"0\""), "pid {pid}: no fd 0 in {r}");
    }
    // The one-liner of the issue, and `T **` arithmetic in elements.
    let (r, _) = run("find_task(1).files.fdt.fd[0].f_path.dentry.d_name.name");
    assert_eq!(r.as_deref(), Ok("console"));
    let (r, _) = run(
        "let fd = find_task(1).files.fdt.fd; [(fd + 2)[0] == fd[2], deref(fd + 1) == fd[1], (fd + 3) - fd]",
    );
    assert_eq!(r.as_deref(), Ok("[true, true, 3]"));
    // A pointer never reaches Rhai's integer bit-indexing: `void *` is an Addr and refuses.
    let (r, _) = run("find_task(1).stack[0]");
    assert!(r.unwrap_err().contains("untyped address"));
}

#[test]
fn addresses_print_as_the_ps_task_column() {
    let ps = common::run(&common::open(&common::mdf("live", "zlib")), "ps 1");
    let task = ps
        .lines()
        .find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.first() == Some(&"1")).then(|| w[3].to_string())
        })
        .expect("ps 1 row");
    let want = format!("0x{task}");
    for src in [
        "find_task(1).addr",
        "`${find_task(1).addr}`",
        "find_task(1).addr.to_string()",
        "addr(find_task(1))",
        "#{t: find_task(1).addr}.t",
    ] {
        let (r, _) = run(src);
        assert_eq!(r.as_deref(), Ok(want.as_str()), "{src}");
    }
    let (r, _) = run("#{t: find_task(1).addr}");
    assert_eq!(r.unwrap(), format!("#{{\"t\": {want}}}"));
    let (r, _) = run("#{t: find_task(1).addr}.to_json()");
    let n = u64::from_str_radix(&task, 16).unwrap();
    assert_eq!(r.unwrap(), format!("{{\"t\":{n}}}"));
    // Unsigned comparisons, the kernel-pointer test, NULL equality and object equality.
    let (r, _) = run(r#"let t = find_task(1); let i = read_symbol("init_task");
        [t.addr > 0, is_kernel_ptr(t), is_kernel_ptr(0x7fff0000), i.mm == 0, t.mm == 0, !i.mm,
         t == find_task(1), t != i, t.mm == t.mm.owner.mm, parse_int("ffff8a7ac11c1280", 16) == addr(0xffff8a7ac11c1280)]"#);
    assert_eq!(
        r.as_deref(),
        Ok("[true, true, false, true, false, true, true, true, true, true]")
    );
}

#[test]
fn tcp_sockets_from_the_hashes_equal_the_guest() {
    let t = common::truth("live");
    // PyKdump's proto.py walk: established hash and listening hash, both hlist_nulls.
    let (r, out) = run(r#"
        let states = enum_info("TCP_LISTEN");
        fn state_name(states, v) { for k in states.keys() { if states[k] == v { return k.sub_string(4); } } "?" }
        fn row(states, sk) {
            let v6 = sk.skc_family == 10;
            let l = if v6 { ip6_str(sk.skc_v6_rcv_saddr) } else { ip4_str(sk.skc_rcv_saddr) };
            let r = if v6 { ip6_str(sk.skc_v6_daddr) } else { ip4_str(sk.skc_daddr) };
            sprintf("%s %s %s:%d %s:%d", [if v6 { "tcp6" } else { "tcp" }, state_name(states, sk.skc_state), l, sk.skc_num, r, ntohs(sk.skc_dport)])
        }
        let hi = readSymbol("tcp_hashinfo");
        let rows = [];
        for i in 0..=hi.lhash2_mask {
            for sk in hlist_nulls_for_each_entry(hi.lhash2[i].nulls_head, "struct sock_common", "skc_nulls_node") { rows.push(row(states, sk)); }
        }
        for i in 0..=hi.ehash_mask {
            for sk in hlist_nulls_for_each_entry(hi.ehash[i].chain, "struct sock_common", "skc_nulls_node") { rows.push(row(states, sk)); }
        }
        rows.sort();
        rows
        "#);
    assert!(!out.contains("WARNING"), "{out}");
    let mut want: Vec<String> = Vec::new();
    for proto in ["tcp", "tcp6"] {
        for s in t["sockets"][proto].as_array().expect("truth sockets") {
            want.push(format!(
                "\"{proto} {} {}:{} {}:{}\"",
                s["state"].as_str().unwrap(),
                s["local"]["ip"].as_str().unwrap(),
                s["local"]["port"],
                s["remote"]["ip"].as_str().unwrap(),
                s["remote"]["port"],
            ));
        }
    }
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(r.unwrap(), format!("[{}]", want.join(", ")));
    // The plain hlist walker on an hlist_nulls head stops at the nulls marker with a warning
    // instead of making an object of it.
    let (r, out) = run(r#"
        let hi = readSymbol("tcp_hashinfo");
        let n = 0;
        for i in 0..=hi.lhash2_mask { n += hlist_for_each_entry(hi.lhash2[i].nulls_head, "struct sock_common", "skc_nulls_node").len(); }
        n
        "#);
    let listening = want.iter().filter(|w| w.contains("LISTEN")).count();
    assert_eq!(r.unwrap(), listening.to_string());
    assert!(out.contains("hlist_nulls end marker"), "{out}");
}

#[test]
fn pykdump_walls_are_gone() {
    let t = common::truth("live");
    let (r, _) = run(r#"[sys_info().HZ, sys_info().RELEASE, readSymbol("jiffies") > 0]"#);
    assert_eq!(
        r.unwrap(),
        format!("[250, \"{}\", true]", t["release"].as_str().unwrap())
    );
    let (r, _) = run("ListHead(sym_addr(\"modules\"))");
    assert!(r.unwrap_err().contains("list_for_each_entry"));
    let (r, _) = run("print(kernel); 1");
    assert_eq!(r.as_deref(), Ok("1"));
    let (_, out) = run("print(kernel)");
    assert!(
        out.contains(t["release"].as_str().unwrap()) && !out.contains("rkdump::"),
        "{out}"
    );
}

#[test]
fn mounts_with_options_equal_the_guest() {
    let t = common::truth("live");
    // progs/mountshow.py's table, as /proc/mounts prints it: the walk and the option
    // decoding live in linux/fs.
    let (r, out) = run(r#"
        import "linux/fs" as fs;
        for m in mounts() { print(fs::proc_mounts_line(m)); }
        "#);
    r.unwrap();
    assert!(!out.contains("WARNING"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    // The guest's own /proc/mounts line of the file system it mounted.
    let want = t["fs_hang"]["mount"].as_str().expect("truth mount line");
    assert!(lines.contains(&want), "{want} not in:\n{out}");
    // Every mount of the namespace, in the order and with the names the mount command gives.
    let (r, listed) =
        run(r#"for m in cmd("mount") { print(`${m.devname} ${m.dirname} ${m.type}`); }"#);
    r.unwrap();
    let ours: Vec<String> = lines
        .iter()
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(ours, listed.lines().collect::<Vec<_>>());
    assert!(lines.iter().all(|l| {
        let opts = l.split(' ').nth(3).unwrap_or("");
        (opts == "rw" || opts.starts_with("rw,") || opts == "ro" || opts.starts_with("ro,"))
            && l.ends_with(" 0 0")
    }));
}

#[test]
fn dm_tables_from_dm_mods_types_equal_the_guest() {
    let t = common::truth("live");
    // progs/dmshow.py's table: hash cells of dm-ioctl → mapped_device → live dm_table →
    // targets, with dm_mod's own types; the walk lives in linux/dm.
    let (r, out) = run(r#"
        import "linux/dm" as dm;
        for d in dm::devices() {
            for row in d.table { print(`${d.name} ${d.dev} ${d.suspended} ${dm::table_line(row)}`); }
        }
        "#);
    r.unwrap();
    assert!(!out.contains("WARNING"), "{out}");
    let mut want: Vec<String> = Vec::new();
    for d in t["dm"]["devices"].as_array().expect("truth dm devices") {
        for line in d["table"].as_array().expect("truth dm table") {
            want.push(format!(
                "{} {} {} {}",
                d["name"].as_str().unwrap(),
                d["dev"].as_str().unwrap(),
                d["suspended"].as_bool().unwrap(),
                line.as_str().unwrap()
            ));
        }
    }
    want.sort();
    assert_eq!(want.len(), 3);
    let got: Vec<String> = out.lines().map(str::to_string).collect();
    assert_eq!(got, want);
}

/// The rows of the book's porting table: (PyKdump cell, rkdump cell).
fn porting_rows() -> Vec<(String, String)> {
    let page =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/scripting/porting.md");
    let text = std::fs::read_to_string(&page).expect("porting page");
    text.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| PyKdump |"))
        .filter_map(|l| {
            let inner = l.strip_prefix("| ")?.strip_suffix(" |")?;
            let (left, right) = inner.split_once(" | ")?;
            Some((left.to_string(), right.to_string()))
        })
        .collect()
}

/// The names called in the code spans of `cell` (`readSU` in `` `readSU("struct x", a)` ``).
fn called_names(cell: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, span) in cell.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        let mut word = String::new();
        for c in span.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            if c == '(' && !word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()) {
                names.push(word.clone());
            }
            word.clear();
        }
    }
    names
}

#[test]
fn every_porting_row_runs_as_written() {
    // Names the rows use, bound to objects of the live dump.
    let prelude = r#"
        let t = find_task(1);
        let task = t;
        let p = t;
        let x = 255;
        let a = readSymbol("name_rb_tree").rb_node.addr;
        let head = sym_addr("modules");
        let sb = read_symbol("blockdev_superblock");
        let ino = list_for_each_entry(addr_of(sb, "s_inodes"), "struct inode", "i_sb_list")[0];
        let disk = container_of(ino, "struct bdev_inode", "vfs_inode").bdev.bd_disk.addr;
        let file = t.files.fdt.fd[0];
        let hi = readSymbol("tcp_hashinfo");
        let sk = ();
        for i in 0..=hi.lhash2_mask {
            for s in hlist_nulls_for_each_entry(hi.lhash2[i].nulls_head, "struct sock_common", "skc_nulls_node") { sk = s; }
        }
    "#;
    // Each row's spellings made concrete (placeholders such as "struct x" and `addr` bound
    // to real ones); every name a row calls must be called here.
    let cases: &[(&str, &[&str])] = &[
        (
            "`readSU(\"struct gendisk\", addr)`",
            &[
                r#"readSU("struct gendisk", disk).disk_name"#,
                r#"read_struct("struct gendisk", disk).disk_name"#,
            ],
        ),
        (
            "`readSymbol(\"jiffies\")`",
            &[r#"readSymbol("jiffies")"#, r#"read_symbol("jiffies")"#],
        ),
        (
            "`readPtr(addr)`, `readU64(addr)`, `readS32(addr)`",
            &[
                "readPtr(head)",
                "readU64(head)",
                "readS32(head)",
                "read_ptr(head)",
                "read_u64(head)",
                "read_s32(head)",
            ],
        ),
        (
            "`readmem(addr, n)`",
            &["readmem(head, 16).len()", "read_bytes(head, 16).len()"],
        ),
        (
            "`sym2addr(name)`, `addr2sym(addr)`",
            &[
                r#"addr2sym(sym2addr("schedule"))"#,
                r#"addr_to_sym(sym_addr("schedule"))"#,
            ],
        ),
        (
            "`member_size(t, m)`, `member_offset(t, m)`",
            &[
                r#"member_size("struct task_struct", "pid") + member_offset("struct task_struct", "pid")"#,
            ],
        ),
        (
            "`struct_size(t)`",
            &[
                r#"struct_size("struct task_struct")"#,
                r#"sizeof("struct task_struct")"#,
            ],
        ),
        (
            "`EnumInfo(\"enum x\")`",
            &[
                r#"EnumInfo("enum pid_type")"#,
                r#"enum_info("enum pid_type")"#,
            ],
        ),
        (
            "`readSUListFromHead(head, \"member\", \"struct x\")`",
            &[
                r#"readSUListFromHead(head, "list", "struct module").len()"#,
                r#"list_for_each_entry(head, "struct module", "list").len()"#,
            ],
        ),
        (
            "`ListHead(addr, \"struct x\").member`",
            &[
                r#"list_for_each_entry(head, "struct module", "list").len()"#,
                r#"let r = ""; try { ListHead(head, "struct module") } catch (e) { r = e.message } if !r.contains("list_for_each_entry") { throw r }"#,
            ],
        ),
        (
            "`hlist_for_each_entry(...)`, `hlist_nulls_for_each_entry(...)` (`LinuxDump` walkers)",
            &[
                r#"hlist_for_each_entry(addr_of(t.thread_pid, "tasks[0]"), "struct task_struct", "pid_links[0]").len()"#,
                r#"hlist_nulls_for_each_entry(hi.lhash2[0].nulls_head, "struct sock_common", "skc_nulls_node").len()"#,
            ],
        ),
        (
            "`fd[0]` of a `struct file **`",
            &["find_task(1).files.fdt.fd[0].f_path.dentry.d_name.name"],
        ),
        ("`Deref(p)`", &["deref(t.mm).owner.comm"]),
        (
            "`p == 0`, `if p:`",
            &["t.mm == 0", "if !is_null(p) { 1 } else { 0 }"],
        ),
        (
            "`ntodots(addr)`, `ntohs(port)`",
            &[
                "ip4_str(sk.skc_rcv_saddr)",
                "ntohs(sk.skc_dport)",
                "ip6_str(sk.skc_v6_daddr)",
            ],
        ),
        (
            "`\"%-10s %5d\" % (a, b)`",
            &[r#"sprintf("%-10s %5d", ["init", 1])"#],
        ),
        (
            "`int(\"ffff8a7ac11c1280\", 16)`",
            &[
                r#"parse_int("ffff8a7ac11c1280", 16)"#,
                r#"parse_addr("ffff8a7ac11c1280")"#,
            ],
        ),
        (
            "`EnumInfo(\"enum tcp_state\")` (anonymous in DWARF)",
            &[r#"enum_info("TCP_LISTEN")"#],
        ),
        (
            "`get_pathname(dentry, vfsmnt)`",
            &[
                "d_path(file.f_path)",
                "d_path(file.f_path.mnt, file.f_path.dentry)",
            ],
        ),
        (
            "`container_of(addr, \"struct x\", \"member\")`",
            &[r#"container_of(readPtr(head), "struct module", "list").name"#],
        ),
        (
            "`exec_crash_command(\"sys\")`",
            &[r#"exec_crash_command("sys")"#, r#"exec("sys")"#],
        ),
        (
            "`exec_crash_command_bg(\"sys\", 10)`",
            &[
                r#"exec_crash_command_bg("sys", 10)"#,
                r#"exec_bg("sys", 10)"#,
            ],
        ),
        (
            "`sys_info.HZ`, `sys_info.RELEASE`",
            &["sys_info().HZ", "sys_info().RELEASE", "kernel.hz"],
        ),
        (
            "`task.pid`, `task.mm.owner.comm`",
            &["task.pid", "task.mm.owner.comm"],
        ),
        (
            "`p.hasField(\"x\")`",
            &[r#""comm" in p"#, r#"has_member(p, "comm")"#],
        ),
        ("`long(p)` / `Addr(p)`", &["addr(p)", "p.addr"]),
        ("`print(hex(x))`", &["print(hex(x))"]),
        ("`pylog.warning(...)`, `+++WARNING+++`", &[r#"warn("...")"#]),
        (
            "`try: … except crash.error:`",
            &["try { read_u64(0) } catch (e) { e.kind; e.message; e.addr }"],
        ),
        (
            "`readSU(\"struct hash_cell\", a)`, a type only a module defines",
            &[
                r#"container_of(a, "struct hash_cell", "name_node").name"#,
                r#"readSU("struct hash_cell", a).md.name"#,
            ],
        ),
        (
            "a type private to one module (`struct path_info` of dm_round_robin)",
            &[r#"readSU("dm_round_robin:struct path_info", a).repeat_count"#],
        ),
        (
            "`readSymbol(\"name_rb_tree\")`, `sym2addr(\"nfs4_fs_type\")` (module globals)",
            &[
                r#"readSymbol("name_rb_tree")"#,
                r#"sym2addr("nfs4_fs_type")"#,
            ],
        ),
        (
            "`progs/mountshow.py`: mounts with their options",
            &[r#"import "linux/fs" as fs; for m in mounts() { print(fs::proc_mounts_line(m)) }"#],
        ),
        (
            "`progs/dmshow.py`: dm tables",
            &[
                r#"import "linux/dm" as dm; for d in dm::devices() { for r in d.table { print(d.name + ": " + dm::table_line(r)) } }"#,
            ],
        ),
        (
            "`crash.exec_crash_command(\"struct T -o\")` parsed as text",
            &[r#"cmd("struct mapped_device").members.len()"#],
        ),
    ];
    let rows = porting_rows();
    assert!(rows.len() >= 30, "{rows:?}");
    for (left, right) in &rows {
        let Some((_, snippets)) = cases.iter().find(|(l, _)| l == left) else {
            panic!("porting row without a test case: {left}");
        };
        // The rkdump spellings, and the PyKdump ones where the row says they are the same.
        let mut names = called_names(right);
        if right.contains("the same") {
            names.extend(called_names(left));
        }
        let all = snippets.join("\n");
        for n in &names {
            assert!(
                all.contains(&format!("{n}(")),
                "row {left}: {n}() is not exercised"
            );
        }
        for s in *snippets {
            // Statements first (import must open the script), then the snippet.
            let src = if s.starts_with("import") {
                format!("{s}\n{prelude}")
            } else {
                format!("{prelude}\n{s}")
            };
            let (r, out) = run(&src);
            assert!(r.is_ok(), "row {left}: `{s}` failed: {r:?}\n{out}");
        }
    }
    assert_eq!(rows.len(), cases.len(), "a case names no row of the page");
}
