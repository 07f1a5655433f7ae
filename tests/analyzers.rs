//! The analyzers (`scripts/hanginfo.rhai`, `taskinfo.rhai`, `crashinfo.rhai`) run by the
//! `rkdump` binary on the real `live` and `panic` dumps, asserted against the guest's truth.

mod common;

/// Output of `rkdump VMLINUX DUMP -c CMD`.
fn run(dump: &str, cmd: &str) -> String {
    common::run_bin(dump, cmd)
}

/// The number after `KEY: ` on the first line that starts with it (indentation aside), 0 when
/// no line does.
fn count_after(out: &str, key: &str) -> usize {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .map(|n| n.trim().parse::<usize>().expect("a count"))
        .unwrap_or(0)
}

/// The first lock of `kind` (`mutex`, `semaphore`…) the test module set up, as the truth
/// describes it.
fn truth_lock<'a>(truth: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    truth["locks"]["locks"]
        .as_array()
        .expect("truth lists the module's locks")
        .iter()
        .find(|l| l["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in the truth"))
}

/// The PIDs of a JSON list of PIDs or of objects with a `pid`, sorted.
fn json_pids(list: &serde_json::Value) -> Vec<i64> {
    let mut pids: Vec<i64> = list
        .as_array()
        .expect("a PID list")
        .iter()
        .map(|p| p.as_i64().or_else(|| p["pid"].as_i64()).expect("a PID"))
        .collect();
    pids.sort();
    pids
}

/// `got` holds the PIDs of the truth's list `want`, in any order.
fn assert_same_pids(mut got: Vec<i64>, want: &serde_json::Value, context: &str) {
    got.sort();
    assert_eq!(got, json_pids(want), "{context}");
}

fn hex_addr(s: &str) -> String {
    format!("0x{s}")
}

/// The block of a `====== Waiting in X ======` section up to the next section.
fn section<'a>(out: &'a str, title: &str) -> &'a str {
    let start = out
        .find(&format!("====== Waiting in {title} ======"))
        .unwrap_or_else(|| panic!("no section {title}:\n{out}"));
    let body = start + out[start..].find('\n').unwrap_or(0);
    let end = out[body..]
        .find("\n======")
        .map(|e| body + e)
        .unwrap_or(out.len());
    &out[start..end]
}

/// The `-- <...>` entry of a section that names `needle`, with its PID lines.
fn entry<'a>(sec: &'a str, needle: &str) -> &'a str {
    let start = sec
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in\n{sec}"));
    let rest = &sec[start..];
    let end = rest[2..].find("\n-- ").map(|e| e + 2).unwrap_or(rest.len());
    &rest[..end]
}

fn pids_line(e: &str) -> Vec<i64> {
    let l = e
        .lines()
        .find(|l| l.trim_start().starts_with("PIDs:"))
        .unwrap_or_else(|| panic!("no PIDs in {e}"));
    l.trim_start()["PIDs:".len()..]
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[test]
fn hanginfo_explains_every_stuck_task_of_the_live_dump() {
    let t = common::truth("live");
    let out = run("live.elf", "hanginfo");
    let locks = &t["locks"];
    // Every lock of the test module with its waiters in the right section and the owner
    // the kernel records.
    for l in locks["locks"].as_array().unwrap() {
        let kind = l["kind"].as_str().unwrap();
        let title = match kind {
            "mutex" => "mutexes",
            "rwsem" => "rw-semaphores",
            "semaphore" => "semaphores",
            "completion" => "completions",
            // PREEMPT_RT only: spinlock_t is a sleeping rt_mutex there
            "spinlock" => "spinlocks",
            _ => "wait queues",
        };
        let sec = section(&out, title);
        let addr = hex_addr(l["addr"].as_str().unwrap());
        let e = entry(sec, &addr);
        assert!(e.contains(l["name"].as_str().unwrap()), "{e}");
        assert_same_pids(
            pids_line(e),
            &l["waiters"],
            &format!("waiters of {addr}: {e}"),
        );
        if kind == "mutex" || kind == "rwsem" || kind == "spinlock" {
            let owner = l["owner_word_pid"].as_i64().unwrap();
            assert!(e.contains(&format!("Owner: pid={owner} ")), "{e}");
        }
    }
    // The ABBA cycle: both PIDs and both lock addresses in one deadlock warning (PREEMPT_RT
    // has a second one, of spinlocks).
    let a0 = hex_addr(locks["abba"]["locks"][0].as_str().unwrap());
    let dl = out
        .lines()
        .find(|l| l.starts_with("+++WARNING+++ Deadlock:") && l.contains(&a0))
        .unwrap_or_else(|| panic!("no deadlock warning:\n{out}"));
    for p in locks["abba"]["pids"].as_array().unwrap() {
        assert!(dl.contains(&format!("pid {}", p)), "{dl}");
    }
    for a in locks["abba"]["locks"].as_array().unwrap() {
        assert!(dl.contains(&hex_addr(a.as_str().unwrap())), "{dl}");
    }
    // PREEMPT_RT: the spinlock ABBA cycle too, in its own warning.
    if !locks["spin_abba"].is_null() {
        let sa = &locks["spin_abba"];
        let a0 = hex_addr(sa["locks"][0].as_str().unwrap());
        let dl = out
            .lines()
            .find(|l| l.starts_with("+++WARNING+++ Deadlock:") && l.contains(&a0))
            .unwrap_or_else(|| panic!("no spinlock deadlock warning:\n{out}"));
        for p in sa["pids"].as_array().unwrap() {
            assert!(dl.contains(&format!("pid {p}")), "{dl}");
        }
        assert!(dl.contains("waits for spinlock"), "{dl}");
    }
    // The ext4 inode lock by path, owned by the direct-I/O writer, with its waiters.
    let fsh = &t["fs_hang"];
    let sec = section(&out, "rw-semaphores");
    let e = entry(sec, "i_rwsem of /mnt/rkdfs/hang/stuck.dat");
    assert!(
        e.contains(&format!("Owner: pid={} ", fsh["holder_pid"])),
        "{e}"
    );
    assert_same_pids(pids_line(e), &fsh["waiter_pids"], e);
    // Block I/O: the dd readers/writers on the suspended dm device, the fs holder on rkd-fs,
    // and sync.
    let io = section(&out, "block I/O");
    let devs = t["dm"]["devices"].as_array().unwrap();
    let kname = |name: &str| {
        devs.iter()
            .find(|d| d["name"] == name)
            .and_then(|d| d["kname"].as_str())
            .unwrap()
            .to_string()
    };
    let stuck = kname("rkd-stuck");
    assert!(devs
        .iter()
        .any(|d| d["name"] == "rkd-stuck" && d["suspended"] == true));
    let e = entry(io, &format!("-- device {stuck} "));
    assert_same_pids(pids_line(e), &t["dm"]["stuck_io"], e);
    assert!(out.contains(&format!(
        "+++WARNING+++ 2 tasks wait for I/O on suspended device-mapper device {stuck} (/dev/mapper/rkd-stuck)"
    )), "{out}");
    let e = entry(io, &format!("-- device {} ", kname("rkd-fs")));
    assert!(pids_line(e).contains(&fsh["holder_pid"].as_i64().unwrap()));
    for p in fsh["sync_pids"].as_array().unwrap() {
        assert!(
            !pids_line(io).is_empty() && io.contains(&p.to_string()),
            "{io}"
        );
    }
    // Every D task of the guest appears, and no "Possible hang" (all blocked < 120 s).
    for p in t["processes"].as_array().unwrap() {
        if p["state"] == "D" {
            assert!(
                out.contains(&format!(" {}", p["pid"])),
                "pid {} missing",
                p["pid"]
            );
        }
    }
    assert!(!out.contains("Possible hang"), "{out}");
    assert!(out.contains("Threads that own resources others wait on"));
}

#[test]
fn hanginfo_json_holds_the_same_findings() {
    let t = common::truth("live");
    let out = run("live.elf", "hanginfo --json");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    let f = v["findings"].as_array().unwrap();
    let d_tasks = t["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "D")
        .count() as u64;
    assert_eq!(v["un_tasks"].as_u64(), Some(d_tasks), "{out}");
    let a0 = hex_addr(t["locks"]["abba"]["locks"][0].as_str().unwrap());
    let dl = f
        .iter()
        .find(|x| {
            x["code"] == "deadlock"
                && x["objects"]["locks"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|a| a.as_str() == Some(a0.as_str())))
        })
        .expect("deadlock finding");
    assert_eq!(dl["severity"], "warning");
    let mut pids: Vec<i64> = dl["objects"]["pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    pids.sort();
    assert_eq!(serde_json::json!(pids), t["locks"]["abba"]["pids"], "{dl}");
    for a in t["locks"]["abba"]["locks"].as_array().unwrap() {
        let a = hex_addr(a.as_str().unwrap());
        assert!(dl["objects"]["locks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str() == Some(a.as_str())));
    }
    for l in t["locks"]["locks"].as_array().unwrap() {
        let a = hex_addr(l["addr"].as_str().unwrap());
        let x = f
            .iter()
            .find(|x| x["objects"]["lock"].as_str() == Some(a.as_str()))
            .unwrap_or_else(|| panic!("no finding for {a}"));
        assert_eq!(x["objects"]["waiters"], l["waiters"], "{x}");
    }
    let dm = f
        .iter()
        .find(|x| x["code"] == "dm_suspended_io" && x["objects"]["path"] == "/dev/mapper/rkd-stuck")
        .expect("suspended dm finding");
    assert_eq!(
        json_pids(&dm["objects"]["pids"]),
        json_pids(&t["dm"]["stuck_io"])
    );
    assert!(!out.contains("+++WARNING+++"), "JSON mode prints only JSON");
}

#[test]
fn taskinfo_summary_counts_equal_the_truth() {
    let t = common::truth("live");
    let out = run("live.elf", "taskinfo --summary");
    let count = |st: &str| count_after(&out, st);
    let procs = t["processes"].as_array().unwrap();
    let truth = |s: &str| procs.iter().filter(|p| p["state"] == s).count();
    assert_eq!(count("UN"), truth("D"), "{out}");
    // Tasks running (R) while the guest listed them (the listing shell, at times a kernel
    // thread such as rcu_preempt) sleep in the dump, in IN or ID; the others keep their state.
    let running = truth("R");
    assert!(
        (truth("I")..=truth("I") + running).contains(&count("ID")),
        "{out}"
    );
    assert_eq!(
        count("ID") + count("IN") + count("RU"),
        truth("I") + truth("S") + running,
        "{out}"
    );
    assert_eq!(count("total"), procs.len());
    let table = run("live.elf", "taskinfo --taskfilter UN");
    let rows = table
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(rows, truth("D"), "{table}");
}

#[test]
fn crashinfo_tells_a_sysrq_crash_and_the_taint() {
    let t = common::truth("panic");
    let out = run("panic.elf", "crashinfo");
    assert!(out.contains("crash triggered by sysrq-c"), "{out}");
    assert!(out.contains("+++WARNING+++ Kernel tainted: OE"), "{out}");
    assert!(out.contains(
        t["panic"]["message"]
            .as_str()
            .unwrap_or("sysrq triggered crash")
    ));
    assert!(out.contains("run 'hanginfo'"));
    let live = run("live.elf", "crashinfo");
    assert!(live.contains("No panic"), "{live}");
}

/// Rows of a `taskinfo` table as whitespace-split words, the `>` marker dropped.
fn table_rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|w| w.trim_start_matches('>').to_string())
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect()
}

#[test]
fn taskinfo_uid_column_equals_drgn() {
    let out = run("live.elf", "taskinfo");
    assert!(out.lines().next().unwrap().ends_with("TGID  UID"), "{out}");
    let want = common::drgn_json(&common::fixture("live.elf"), "drgn_task_uids.py");
    let rows = table_rows(&out);
    assert_eq!(rows.len(), want.as_object().unwrap().len(), "{out}");
    for r in rows {
        let pid = &r[0];
        let uid: i64 = r.last().unwrap().parse().unwrap();
        assert_eq!(Some(uid), want[pid.as_str()].as_i64(), "uid of pid {pid}");
    }
}

#[test]
fn taskinfo_pstree_edges_equal_the_truth() {
    let t = common::truth("live");
    let out = run("live.elf", "taskinfo --pstree");
    // depth = column of the name / 2; parent = the nearest line above one level up
    let mut stack: Vec<i64> = Vec::new();
    let mut parent = std::collections::HashMap::new();
    let mut threads = std::collections::HashMap::new();
    for l in out.lines().filter(|l| !l.trim().is_empty()) {
        let col = l.chars().take_while(|c| "│├└─ ".contains(*c)).count();
        let depth = col / 2;
        let name = &l.chars().skip(col).collect::<String>();
        let pid: i64 = name[name.rfind('(').unwrap() + 1..name.len() - 1]
            .parse()
            .unwrap();
        stack.truncate(depth);
        if let Some(&p) = stack.last() {
            if name.starts_with('{') {
                threads.insert(pid, p);
            } else {
                parent.insert(pid, p);
            }
        }
        stack.push(pid);
    }
    let procs = t["processes"].as_array().unwrap();
    for p in procs {
        let pid = p["pid"].as_i64().unwrap();
        if p["tid_of"].is_null() {
            assert_eq!(
                parent.get(&pid),
                Some(&p["ppid"].as_i64().unwrap()),
                "parent of {pid}\n{out}"
            );
        } else {
            assert_eq!(
                threads.get(&pid),
                Some(&p["tgid"].as_i64().unwrap()),
                "thread {pid}\n{out}"
            );
        }
    }
    assert_eq!(parent.len() + threads.len(), procs.len(), "{out}");
}

#[test]
fn taskinfo_memory_is_ps_rss_largest_first() {
    let ps = run("live.elf", "ps -u -G");
    let mut want: Vec<(i64, i64, i64)> = table_rows(&ps)
        .iter()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[7].parse().unwrap(),
                r[6].parse().unwrap(),
            )
        })
        .collect();
    want.sort_by_key(|&(pid, rss, _)| (-rss, pid));
    assert!(want.len() > 5 && want[0].1 > 0, "{ps}");
    let out = run("live.elf", "taskinfo --memory --maxpids 5");
    let got: Vec<(i64, i64, i64)> = table_rows(&out)
        .iter()
        .filter(|r| r.len() == 6)
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want[..5].to_vec(), "{out}");
}

#[test]
fn taskinfo_pidinfo_decodes_credentials_rlimits_and_flags() {
    let t = common::truth("live");
    let h = &t["sockets"]["helper"];
    let out = run("live.elf", &format!("taskinfo --pidinfo {}", h["pid"]));
    assert!(out.contains("Parent: pid=1 cmd=init"), "{out}");
    assert!(out.contains("Credentials: uid=0 euid=0"), "{out}");
    // the helper and its two worker threads
    let threads = t["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["tgid"] == h["pid"])
        .count();
    assert_eq!(threads, 3);
    let tg = out.lines().find(|l| l.starts_with("Thread group")).unwrap();
    let list = &tg[tg.rfind('[').unwrap()..];
    assert_eq!(list.matches(',').count() + 1, threads, "{tg}");
    assert!(out.contains("NOFILE"), "{out}");
    assert!(out.contains("PF_RANDOMIZE"), "{out}");
    let kt = run("live.elf", "taskinfo --pidinfo 2");
    assert!(kt.contains("PF_KTHREAD"), "{kt}");
}

/// `name=N` in a line of `out`.
fn field(out: &str, name: &str) -> i64 {
    let at = out
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name}= in\n{out}"));
    out[at + name.len() + 1..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

#[test]
fn crashinfo_banner_gives_file_size_and_ram_and_warns_on_partial_dumps() {
    let t = common::truth("live");
    let ram: i64 = t["iomem_ram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_i64().unwrap() - r[0].as_i64().unwrap() + 1)
        .sum();
    let mdf = common::mdf("live", "zlib");
    let mdf_partial = common::excludes_pages(&mdf);
    for (dump, partial) in [("live.elf", false), (mdf.as_str(), mdf_partial)] {
        let out = run(dump, "crashinfo");
        let size = std::fs::metadata(common::fixture(dump)).unwrap().len() as i64;
        assert_eq!(field(&out, "file_size"), size, "{out}");
        // the memory the kernel manages (node_present_pages) is System RAM up to partial pages
        let got = field(&out, "ram_bytes");
        assert!(
            (got - ram).abs() < 4096 * 4,
            "ram_bytes {got}, System RAM {ram}"
        );
        let warn = out
            .lines()
            .find(|l| l.starts_with("+++WARNING+++ partial dump: "));
        assert_eq!(warn.is_some(), partial, "{out}");
        if let Some(w) = warn {
            // tenths of a MiB, halves rounded up (84148224 bytes = 80.25 MiB is "80.3 MB")
            let mb = |b: i64| {
                let t = (b * 10 + 524_288) / 1_048_576;
                format!("{}.{} MB", t / 10, t % 10)
            };
            let kept = field(&out, "stored_bytes");
            assert!(
                w.contains(&format!(": {} of {} RAM kept", mb(kept), mb(got))),
                "{w}"
            );
            // makedumpfile -d31 keeps the kernel's pages only: well under a quarter of RAM
            assert!(kept * 4 < got && kept > 0, "{w}");
            assert!(out.contains("[PARTIAL DUMP]"), "{out}");
        }
    }
}

/// MB figure of a `crashinfo` memory line `  NAME   12.3 MB ...`, in KiB.
fn mem_kb(out: &str, name: &str) -> i64 {
    let l = out
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{out}"));
    let mb: f64 = l.split_whitespace().nth(1).unwrap().parse().unwrap();
    (mb * 1024.0) as i64
}

#[test]
fn crashinfo_memory_agrees_with_meminfo() {
    let t = common::truth("live");
    let mi = &t["meminfo"];
    let kb = |k: &str| mi[k].as_i64().unwrap();
    let out = run("live.elf", "crashinfo");
    let total = kb("MemTotal");
    // the kmem -i test's tolerance: 1.5 % of total memory, plus the 0.1 MB rounding
    let tol = total * 15 / 1000 + 103;
    for (name, key) in [
        ("total", "MemTotal"),
        ("free", "MemFree"),
        ("cached", "Cached"),
        ("slab", "Slab"),
        ("shared", "Shmem"),
    ] {
        let got = mem_kb(&out, name);
        assert!(
            (got - kb(key)).abs() <= tol,
            "{name}: {got} kB, /proc/meminfo {key} {} kB",
            kb(key)
        );
    }
    let l = out
        .lines()
        .find(|l| l.trim_start().starts_with("committed"))
        .unwrap();
    let limit: f64 = l
        .split("commit limit ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        ((limit * 1024.0) as i64 - kb("CommitLimit")).abs() <= 103,
        "{l}"
    );
    assert!(out.contains("swap        none"), "{out}");
    assert!(!out.contains("overcommitted"), "{out}");
}

#[test]
fn crashinfo_runqueue_current_tasks_are_the_active_tasks_of_ps() {
    for dump in ["live.elf", "panic.elf"] {
        let out = run(dump, "crashinfo");
        let mut got: Vec<(i64, i64)> = out
            .lines()
            .filter(|l| l.starts_with("CPU ") && l.contains(": current pid="))
            .map(|l| (l[4..l.find(':').unwrap()].parse().unwrap(), field(l, "pid")))
            .collect();
        let ps = run(dump, "ps");
        let mut want: Vec<(i64, i64)> = ps
            .lines()
            .filter(|l| l.starts_with('>'))
            .map(|l| {
                let w: Vec<&str> = l[1..].split_whitespace().collect();
                (w[2].parse().unwrap(), w[0].parse().unwrap())
            })
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{dump}\n{out}\n{ps}");
        assert!(!got.is_empty());
    }
}

#[test]
fn crashinfo_network_counts_equal_the_truth() {
    let t = common::truth("live");
    let s = &t["sockets"];
    let out = run("live.elf", "crashinfo");
    let count = |k: &str| count_after(&out, k);
    let n = |k: &str| s[k].as_array().unwrap().len();
    assert_eq!(count("TCP"), n("tcp"), "{out}");
    assert_eq!(count("TCPv6"), n("tcp6"), "{out}");
    assert_eq!(count("UDP"), n("udp"), "{out}");
    let tcp: Vec<&serde_json::Value> = s["tcp"]
        .as_array()
        .unwrap()
        .iter()
        .chain(s["tcp6"].as_array().unwrap())
        .collect();
    for st in ["LISTEN", "ESTABLISHED"] {
        assert_eq!(
            count(st),
            tcp.iter().filter(|x| x["state"] == st).count(),
            "{st}\n{out}"
        );
    }
}

#[test]
fn crashinfo_quiet_prints_only_warnings_and_verbose_merges_stacks() {
    let out = run(&common::mdf("live", "zlib"), "crashinfo -q");
    for l in out.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            l.starts_with("+++WARNING+++")
                || l.starts_with("  +++WARNING+++")
                || l.starts_with("Summary of problems"),
            "{l}"
        );
    }
    // Only a dump that leaves pages out is partial (the 6.12 line's `-d 1` files keep all).
    assert_eq!(
        out.contains("partial dump"),
        common::excludes_pages(&common::mdf("live", "zlib")),
        "{out}"
    );
    let t = common::truth("live");
    let v = run("live.elf", "crashinfo -v");
    let sec = &v[v
        .find("====== Stacks merged ======")
        .expect("merged stacks")..];
    // the two semaphore waiters share one stack
    let sema = truth_lock(&t, "semaphore");
    let w: Vec<String> = sema["waiters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert!(
        sec.lines().any(|l| l.trim_start().starts_with("PIDs:")
            && w.iter().all(|p| l.split_whitespace().any(|x| x == p))),
        "{sec}"
    );
    let d = t["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "D")
        .count();
    assert!(v.contains("Ran within 1 s: "), "{v}");
    assert!(v.contains("Longest-blocked UN tasks:"), "{d} {v}");
}

/// `Blocked for: PID Xs, ...` of hanginfo → (pid, seconds).
fn blocked(out: &str) -> std::collections::HashMap<i64, f64> {
    out.lines()
        .filter_map(|l| l.trim_start().strip_prefix("Blocked for: "))
        .flat_map(|l| l.split(", "))
        .filter_map(|x| {
            let (p, s) = x.split_once(' ')?;
            Some((p.parse().ok()?, s.trim_end_matches('s').parse().ok()?))
        })
        .collect()
}

#[test]
fn hanginfo_blocked_for_is_consistent_with_ran_ago() {
    let t = common::truth("live");
    let out = run("live.elf", "hanginfo");
    let b = blocked(&out);
    let ran = run("live.elf", "taskinfo --taskfilter UN");
    let ran: std::collections::HashMap<i64, f64> = table_rows(&ran)
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[3].parse::<f64>().unwrap() / 1000.0))
        .collect();
    let d: Vec<i64> = t["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "D")
        .map(|p| p["pid"].as_i64().unwrap())
        .collect();
    assert_eq!(b.len(), d.len(), "{out}");
    for p in d {
        let bf = b[&p];
        // blocked since the task was switched out, which is after it last arrived on the CPU
        assert!(
            bf > 0.0 && bf >= ran[&p] - 0.15 && bf <= ran[&p] + 0.05,
            "pid {p}: blocked {bf} s, ran {} s ago",
            ran[&p]
        );
    }
    // the guest set the locks up before the fs hang: the lock waiters are blocked longer
    let fs = t["fs_hang"]["waiter_pids"][0].as_i64().unwrap();
    let abba = t["locks"]["abba"]["pids"][0].as_i64().unwrap();
    assert!(b[&abba] > b[&fs], "{out}");
    let j: serde_json::Value =
        serde_json::from_str(run("live.elf", "hanginfo --json").trim()).unwrap();
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "waits_mutex")
        .unwrap();
    let ms = f["objects"]["blocked_ms"][0].as_i64().unwrap();
    let pid = f["objects"]["waiters"][0].as_i64().unwrap();
    assert!((ms as f64 / 1000.0 - b[&pid]).abs() < 0.1, "{f}");
}

#[test]
fn hanginfo_does_not_misclassify_the_fixture_into_the_other_classes() {
    let out = run("live.elf", "hanginfo -v");
    for title in [
        "the kthreadd create queue",
        "NFS/RPC",
        "throttle_direct_reclaim",
        "memory allocation slow path",
        "schedule_timeout",
    ] {
        assert!(
            !out.contains(&format!("====== Waiting in {title}")),
            "{title}\n{out}"
        );
    }
    for w in [
        "Memory pressure",
        "syslog",
        "Possible hang",
        "kthreadd is in D state",
    ] {
        assert!(!out.contains(w), "{w}\n{out}");
    }
    // nothing is left unexplained either
    assert!(!out.contains("====== Other stacks"), "{out}");
    // kthreadd's queue is empty in the dump, as it sleeps in kthreadd()
    let q = run(
        "live.elf",
        r#"import "linux/hang" as h; print(h::kthread_create_queue().len()); print(task_state(find_task(2)))"#,
    );
    assert_eq!(q.split_whitespace().collect::<Vec<_>>(), ["0", "IN"], "{q}");
}

#[test]
fn hang_classes_of_synthetic_stacks() {
    let cases = [
        (
            r#"["__schedule","schedule","schedule_timeout","wait_for_completion_killable","__kthread_create_on_node","kthread_create_on_node","worker"]"#,
            "kthread_create",
        ),
        (
            r#"["__schedule","schedule","rpc_wait_bit_killable","__wait_on_bit","out_of_line_wait_on_bit","__rpc_execute","rpc_run_task"]"#,
            "nfs",
        ),
        (
            r#"["__schedule","schedule","io_schedule","nfs_wait_bit_killable","nfs_wait_on_request","nfs_lock_and_join_requests"]"#,
            "nfs",
        ),
        (
            r#"["__schedule","schedule","throttle_direct_reclaim","try_to_free_pages","__alloc_pages_slowpath.constprop.0","__alloc_pages"]"#,
            "reclaim_throttle",
        ),
        (
            r#"["__schedule","schedule","schedule_timeout","shrink_inactive_list","shrink_lruvec","shrink_node","do_try_to_free_pages"]"#,
            "alloc_slowpath",
        ),
        (
            r#"["__schedule","schedule","schedule_timeout","msleep","ata_eh_recover"]"#,
            "schedule_timeout",
        ),
        (
            r#"["__schedule","schedule","rwsem_down_write_slowpath","do_truncate"]"#,
            "",
        ),
    ];
    for (stack, want) in cases {
        let got = run(
            "live.elf",
            &format!(r#"import "linux/hang" as h; print(h::stack_class({stack}))"#),
        );
        assert_eq!(got.trim(), want, "{stack}");
    }
    let got = run(
        "live.elf",
        r#"import "linux/hang" as h; print(h::caller_of(["__schedule","schedule","schedule_timeout","msleep","ata_eh_recover"], ["schedule_timeout","msleep"])); print(h::caller_of(["__schedule","schedule","schedule_timeout","__wait_for_common","wait_for_completion_killable","__kthread_create_on_node","kthread_create_on_node","create_worker"], ["__kthread_create_on_node","kthread_create_on_node"])); print(h::is_syslog_daemon("rsyslogd")); print(h::is_syslog_daemon("systemd-journal")); print(h::is_syslog_daemon("dd")); print(h::waits_on_unix_peer(["__schedule","schedule","schedule_timeout","unix_wait_for_peer","unix_dgram_sendmsg","__sys_sendto"])); print(h::waits_on_unix_peer(["__schedule","schedule","do_nanosleep"]))"#,
    );
    assert_eq!(
        got.split_whitespace().collect::<Vec<_>>(),
        [
            "ata_eh_recover",
            "create_worker",
            "true",
            "true",
            "false",
            "true",
            "false"
        ],
        "{got}"
    );
}

#[test]
fn mmap_lock_is_named_by_its_owner() {
    let t = common::truth("live");
    let h = t["sockets"]["helper"]["pid"].as_i64().unwrap();
    let worker = t["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["tid_of"] == h)
        .unwrap()["pid"]
        .as_i64()
        .unwrap();
    let out = run(
        "live.elf",
        &format!(
            r#"import "linux/mm" as mm; print(mm::mmap_lock_name(addr_of(find_task({worker}).mm, "mmap_lock"))); print(mm::mmap_lock_name(sym_addr("jiffies")) == "")"#
        ),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("mmap_lock of pid {h} (rkd-helper)").as_str(),
            "true"
        ],
        "{out}"
    );
}

#[test]
fn hanginfo_states_in_puts_the_timed_sleepers_in_schedule_timeout() {
    let t = common::truth("live");
    let out = run("live.elf", "hanginfo --states IN");
    let sec = section(&out, "schedule_timeout");
    let pid_of = |comm: &str| {
        t["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["comm"] == comm)
            .unwrap_or_else(|| panic!("no {comm}"))["pid"]
            .as_i64()
            .unwrap()
    };
    // khungtaskd sleeps in schedule_timeout_interruptible() called from watchdog()
    let e = entry(sec, "-- in watchdog");
    assert_eq!(pids_line(e), [pid_of("khungtaskd")], "{e}");
    // the semaphore holder of the test module sleeps in schedule_timeout() while holding it
    let sema = truth_lock(&t, "semaphore");
    let holder = sema["holders"][0].as_i64().unwrap();
    assert!(
        pids_line(entry(sec, "-- in sem_holder")).contains(&holder),
        "{sec}"
    );
    assert!(
        out.starts_with(&format!(
            "{} tasks in states [\"IN\"]",
            t["processes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["state"] == "S")
                .count()
                + 1
        )),
        "{out}"
    );
}

#[test]
fn unix_socket_paths_of_the_syslog_check() {
    let t = common::truth("live");
    let h = &t["sockets"]["helper"];
    let out = run(
        "live.elf",
        &format!(
            r#"import "linux/af_unix" as u; for k in cmd("net", "-s {}") {{ if k.family == "UNIX" {{ print(u::unix_path(k.sock)); print(u::unix_peer_path(k.sock) == ""); }} }}"#,
            h["pid"]
        ),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [h["unix_path"].as_str().unwrap(), "true"],
        "{out}"
    );
}

/// Seconds of a dmesg line's `[    6.697376]` timestamp.
fn dmesg_time(l: &str) -> f64 {
    l[1..l.find(']').unwrap()].trim().parse().unwrap()
}

#[test]
fn blocked_for_dates_each_hang_to_when_the_guest_started_it() {
    let t = common::truth("live");
    let dmesg: Vec<&str> = t["dmesg"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let at = |needle: &str| {
        dmesg_time(
            dmesg
                .iter()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no dmesg line with {needle}")),
        )
    };
    // The test module starts its threads after it is loaded and logs "task N waits X" once
    // each is blocked; the fs hang starts after the file system is mounted.
    let loaded = at("rkd_locks: loading out-of-tree module");
    let mut windows: Vec<(i64, f64, f64)> = Vec::new();
    for l in &dmesg {
        if let Some(rest) = l.split("rkd_locks: task ").nth(1) {
            if rest.contains(" waits ") {
                let pid = rest.split_whitespace().next().unwrap().parse().unwrap();
                windows.push((pid, loaded, dmesg_time(l)));
            }
        }
    }
    assert!(windows.len() >= 8, "{windows:?}");
    let mounted = at("EXT4-fs (dm-2): mounted");
    let end = t["uptime_s"].as_f64().unwrap();
    for p in t["fs_hang"]["waiter_pids"].as_array().unwrap() {
        windows.push((p.as_i64().unwrap(), mounted, end));
    }
    let pids: Vec<String> = windows.iter().map(|w| w.0.to_string()).collect();
    let out = run(
        "live.elf",
        &format!(
            r#"import "linux/hang" as h; for p in [{}] {{ let t = find_task(p); let i = task_info(t); print(`${{p}} ${{i.rq_clock - h::blocked_for(t, i).ns}}`); }}"#,
            pids.join(",")
        ),
    );
    let starts: std::collections::HashMap<i64, f64> = out
        .lines()
        .map(|l| {
            let (p, ns) = l.split_once(' ').unwrap();
            (p.parse().unwrap(), ns.parse::<f64>().unwrap() / 1e9)
        })
        .collect();
    for (pid, from, to) in windows {
        let s = starts[&pid];
        // 50 ms for the runqueue clock of an idle CPU lagging and IRQ time
        assert!(
            s >= from - 0.05 && s <= to + 0.05,
            "pid {pid}: blocked since {s:.3} s, the guest started it between {from} and {to}"
        );
    }
}

/// `taskinfo --json`: the UN tasks are the truth's D tasks, with their names; the summary's
/// counts are `ps -S`'s without the idle tasks; `--memory --json` holds `ps`'s RSS.
#[test]
fn taskinfo_json_holds_the_truths_tasks() {
    let truth = common::truth("live");
    let procs = truth["processes"].as_array().expect("processes");
    let mut want: Vec<(u64, String)> = procs
        .iter()
        .filter(|p| p["state"] == "D")
        .map(|p| {
            (
                p["pid"].as_u64().expect("pid"),
                p["comm"].as_str().expect("comm").to_string(),
            )
        })
        .collect();
    want.sort();
    let v: serde_json::Value =
        serde_json::from_str(&run("live.elf", "taskinfo --json --taskfilter UN")).expect("JSON");
    let mut got: Vec<(u64, String)> = v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            (
                t["pid"].as_u64().expect("pid"),
                t["comm"].as_str().expect("comm").to_string(),
            )
        })
        .collect();
    got.sort();
    // /proc may show a kthread's full name where comm holds 15 characters.
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for ((gp, gc), (wp, wc)) in got.iter().zip(&want) {
        assert_eq!(gp, wp);
        assert!(wc.starts_with(gc.as_str()), "{gc} vs {wc}");
    }
    let s: serde_json::Value =
        serde_json::from_str(&run("live.elf", "taskinfo --summary --json")).expect("JSON");
    let session = common::open("live.elf");
    let ps_s = common::run(&session, "ps -S");
    for line in ps_s.lines() {
        let Some((state, n)) = line.trim().split_once(": ") else {
            continue;
        };
        let n: u64 = n.trim().parse().expect("count");
        let idle = if state == "RU" { 2 } else { 0 };
        let got = s["summary"]["states"][state].as_u64().unwrap_or(0);
        assert_eq!(got + idle, n, "{state} in {s} vs ps -S {ps_s}");
    }
    assert_eq!(
        s["summary"]["states"]["UN"].as_u64(),
        Some(want.len() as u64)
    );
    let m: serde_json::Value =
        serde_json::from_str(&run("live.elf", "taskinfo --memory --json")).expect("JSON");
    let top = m["memory"].as_array().expect("memory");
    assert!(!top.is_empty(), "{m}");
    let registry = rkdump::commands::Registry::new();
    let ps = registry.find("ps").expect("ps");
    for row in top {
        let pid = row["pid"].as_u64().expect("pid");
        let d = ps.data(&session, &[pid.to_string()]).expect("ps data");
        let json: serde_json::Value = serde_json::from_str(&d.to_json()).expect("ps JSON");
        assert_eq!(row["rss_kb"], json[0]["rss"], "pid {pid}: {row} vs {json}");
        assert_eq!(row["vsz_kb"], json[0]["vsz"], "pid {pid}: {row} vs {json}");
    }
}

/// The device entry `-- device NAME (...)` of the block I/O section for dm map `name`, which
/// must appear exactly once there; no task is left under an unknown or empty device.
fn io_device_entry<'a>(out: &'a str, t: &serde_json::Value, name: &str) -> &'a str {
    let io = section(out, "block I/O");
    let kname = t["dm"]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .and_then(|d| d["kname"].as_str())
        .unwrap_or_else(|| panic!("no dm device {name} in the truth"));
    let needle = format!("-- device {kname} ");
    assert_eq!(io.matches(&needle).count(), 1, "{kname} listed once:\n{io}");
    assert!(!io.contains("unknown device"), "{io}");
    assert!(!io.contains("(0:0)"), "{io}");
    entry(io, &needle)
}

#[test]
fn hanginfo_names_the_f_pos_lock_by_path_with_its_owner_and_waiter() {
    let t = common::truth("live");
    let fsh = &t["fs_hang"];
    let out = run("live.elf", "hanginfo");
    let path = fsh["shared_file"]["path"].as_str().unwrap();
    let e = entry(section(&out, "mutexes"), &format!("f_pos_lock of {path}"));
    let holder = fsh["fpos_holder_pid"].as_i64().unwrap();
    assert!(e.contains(&format!("Owner: pid={holder} cmd=dd")), "{e}");
    assert_same_pids(pids_line(e), &fsh["fpos_waiter_pids"], e);
    // The holder is listed among the owners with the lock it holds.
    let owners = &out[out
        .find("====== Threads that own resources others wait on")
        .expect("owners section")..];
    assert!(
        owners.contains(&format!("-- pid={holder} cmd=dd "))
            && owners.contains(&format!("f_pos_lock of {path}, waited on by pids")),
        "{owners}"
    );
}

#[test]
fn hanginfo_ties_buffer_and_page_waiters_to_their_device() {
    let t = common::truth("live");
    let fsh = &t["fs_hang"];
    let out = run("live.elf", "hanginfo");
    let e = io_device_entry(&out, &t, "rkd-fs");
    assert!(e.contains("mounted on /mnt/rkdfs"), "{e}");
    assert!(e.contains("SUSPENDED"), "{e}");
    let pids = pids_line(e);
    let mut want = vec![
        fsh["holder_pid"].as_i64().unwrap(),
        fsh["fpos_holder_pid"].as_i64().unwrap(),
    ];
    want.extend(json_pids(&fsh["cold_reader_pids"]));
    want.extend(json_pids(&fsh["sync_pids"]));
    for p in &want {
        assert!(pids.contains(p), "pid {p} not under rkd-fs: {e}");
    }
    // Others there can only be the file system's own threads caught writing back (jbd2's
    // commit waits on a journal buffer when the dump is taken late enough).
    let comm = |pid: i64| {
        t["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pid"] == pid)
            .and_then(|p| p["comm"].as_str())
            .unwrap_or("")
            .to_string()
    };
    for p in pids.iter().filter(|p| !want.contains(p)) {
        let c = comm(*p);
        assert!(
            c.starts_with("jbd2/") || c.starts_with("kworker/"),
            "unexpected pid {p} ({c}) under rkd-fs: {e}"
        );
    }
    // What each waits for: the buffer of the shared file (its first block, under
    // ext4_block_write_begin), the page of the cold file.
    let holder = fsh["fpos_holder_pid"].as_i64().unwrap();
    let shared = fsh["shared_file"]["path"].as_str().unwrap();
    assert!(
        e.contains(&format!(
            "pid {holder} (dd) waits on a buffer of {shared} (block "
        )),
        "{e}"
    );
    let cold = fsh["cold_file"]["path"].as_str().unwrap();
    for p in json_pids(&fsh["cold_reader_pids"]) {
        assert!(
            e.contains(&format!("pid {p} (cat) waits on a page of {cold}")),
            "{e}"
        );
    }
    // The other suspended map keeps its own single entry.
    let e = io_device_entry(&out, &t, "rkd-stuck");
    assert_same_pids(pids_line(e), &t["dm"]["stuck_io"], e);
}

#[test]
fn vfs_locks_are_named_by_what_holds_them() {
    let t = common::truth("live");
    let fsh = &t["fs_hang"];
    let holder = fsh["fpos_holder_pid"].as_i64().unwrap();
    let file = fsh["file"].as_str().unwrap();
    let shared = fsh["shared_file"]["path"].as_str().unwrap();
    // The holder's stdout (fd 1) is the shared file; the ext4 super block is its inode's.
    let out = run(
        "live.elf",
        &format!(
            r#"import "linux/fs" as fs; let f = find_task({holder}).files.fdt.fd[1]; let ino = f.f_inode; print(fs::embedded_lock_name("mutex", addr_of(f, "f_pos_lock"))); print(fs::embedded_lock_name("rwsem", addr_of(ino, "i_rwsem"))); print(fs::embedded_lock_name("rwsem", addr_of(ino.i_data, "i_mmap_rwsem"))); print(fs::embedded_lock_name("rwsem", addr_of(ino.i_sb, "s_umount"))); print(fs::embedded_lock_name("mutex", sym_addr("jiffies")) == "")"#
        ),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("f_pos_lock of {shared}").as_str(),
            &format!("i_rwsem of {shared}"),
            &format!("i_mmap_rwsem of {shared}"),
            "s_umount of ext4 on /mnt/rkdfs",
            "true"
        ],
        "{out} ({file})"
    );
}

#[test]
fn scsi_state_of_each_disk_equals_sysfs_and_dm_disks_have_none() {
    let t = common::truth("live");
    let disks = t["disks"].as_array().expect("truth lists the disks");
    let out = run(
        "live.elf",
        r#"import "linux/block" as block; for d in cmd("dev", "-d") { print(`${d.name}=${block::scsi_state(d.gendisk)}`); }"#,
    );
    let states: std::collections::HashMap<&str, &str> =
        out.lines().filter_map(|l| l.split_once('=')).collect();
    for d in disks {
        let name = d["name"].as_str().unwrap();
        // sysfs prints SDEV_RUNNING as "running", SDEV_OFFLINE as "offline", ...
        let want = format!(
            "SDEV_{}",
            d["state"]
                .as_str()
                .unwrap()
                .to_uppercase()
                .replace('-', "_")
        );
        assert_eq!(states.get(name).copied(), Some(want.as_str()), "{out}");
    }
    for dm in t["dm"]["devices"].as_array().unwrap() {
        let k = dm["kname"].as_str().unwrap();
        assert_eq!(states.get(k).copied(), Some(""), "{out}");
    }
}
