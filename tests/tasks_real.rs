//! Tasks, `ps` and backtraces on the real dumps, against the guest's ground truth
//! (`live.truth.json`, `panic.truth.json`) and against drgn's `prog.stack_trace()` on the
//! same dump (`tests/tools/drgn_stack_traces.py`; install drgn with
//! `tests/tools/install-drgn.sh`).

mod common;

use rkdump::linux::sched::{self, TaskInfo, TaskList};
use rkdump::stack::StackTrace;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use common::{open, run};

/// The crash state code for a `/proc/PID/stat` letter.
fn crash_code(letter: &str) -> &'static str {
    match letter {
        "R" => "RU",
        "S" => "IN",
        "D" => "UN",
        "I" => "ID",
        "Z" => "ZO",
        "T" => "ST",
        "t" => "TR",
        "X" => "DE",
        "P" => "PA",
        other => panic!("unknown /proc state letter {other}"),
    }
}

/// Whether a listed task is a kernel thread that may end on its own between the guest's
/// listing and the dump: ext4's `ext4lazyinit` (fs/ext4/super.c, ext4_lazyinit_thread) exits
/// once no file system has inode tables left to zero.
fn may_exit_by_itself(p: &serde_json::Value) -> bool {
    p["ppid"] == 2 && p["comm"] == "ext4lazyinit"
}

/// Every process of the ground truth is in the task list with the same TGID, PPID, command
/// and state, and every task (idle tasks aside) is in the ground truth.
fn check_ps(scenario: &str, dump: &str) {
    let truth = common::truth(scenario);
    let s = open(dump);
    let list = sched::task_list(&s).expect("task list");
    assert!(list.warnings.is_empty(), "{:?}", list.warnings);
    let ours: BTreeMap<u32, &TaskInfo> = list
        .tasks
        .iter()
        .filter(|t| t.pid != 0)
        .map(|t| (t.pid, t))
        .collect();
    let procs = truth["processes"].as_array().expect("processes");
    let mut theirs = BTreeMap::new();
    for p in procs {
        let pid = p["pid"].as_u64().expect("pid") as u32;
        if may_exit_by_itself(p) && !ours.contains_key(&pid) {
            continue;
        }
        theirs.insert(pid, p);
    }
    // The guest printed its listing a moment before the dump was taken; on these scenarios no
    // task came or went in between, so the sets must be equal.
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "{dump}: the set of PIDs differs from the ground truth"
    );
    let listing_pid = 1; // the guest's init script read /proc itself
    for (pid, p) in &theirs {
        let t = ours[pid];
        // /proc shows a kworker's name with its current workqueue (`kworker/0:0-events`,
        // wq_worker_comm()); task_struct.comm holds the bare name.
        let comm = p["comm"].as_str().expect("comm");
        let kworker_suffix = comm
            .strip_prefix(t.comm.as_str())
            .is_some_and(|rest| rest.starts_with(['-', '+']) && t.comm.starts_with("kworker/"));
        // A kernel thread's /proc name is its full name (kthread->full_name, 5.17+) where
        // task_struct.comm is cut at TASK_COMM_LEN - 1 = 15 bytes.
        let truncated = t.is_kthread() && t.comm.len() == 15 && comm.starts_with(t.comm.as_str());
        assert!(
            t.comm == comm || kworker_suffix || truncated,
            "{dump}: comm of {pid}: {} vs {comm}",
            t.comm
        );
        assert_eq!(
            u64::from(t.tgid),
            p["tgid"].as_u64().expect("tgid"),
            "{dump}: tgid of {pid}"
        );
        assert_eq!(
            u64::from(t.ppid),
            p["ppid"].as_u64().expect("ppid"),
            "{dump}: ppid of {pid}"
        );
        let want = crash_code(p["state"].as_str().expect("state"));
        if *pid == listing_pid {
            // The task that wrote the listing was running (R) while it read /proc; by the
            // time of the dump it sleeps (live) or panics on its CPU (panic). Its state is
            // checked below instead.
            continue;
        }
        // The guest listed /proc a moment before the dump: a kernel thread that was running
        // or sleeping then (rcu_preempt, kworkers) may have woken or slept since. Stuck (D)
        // tasks and user processes keep their state.
        let settled = want == "UN" || !t.is_kthread();
        if settled {
            assert_eq!(t.state.code(), want, "{dump}: state of {pid} ({})", t.comm);
        } else {
            assert!(
                ["RU", "IN", "ID"].contains(&t.state.code()),
                "{dump}: state of kernel thread {pid} ({}): {} (listed {want})",
                t.comm,
                t.state.code()
            );
        }
    }
    // ps prints one line per task plus the header, '>' on the active ones.
    let out = run(&s, "ps");
    assert_eq!(out.lines().count(), list.tasks.len() + 1);
    assert!(out.starts_with(
        "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM\n"
    ));
    let active = out.lines().filter(|l| l.starts_with('>')).count();
    assert_eq!(active, truth["ncpus"].as_u64().expect("ncpus") as usize);
}

#[test]
fn ps_matches_ground_truth_live() {
    check_ps("live", "live.elf");
    let s = open("live.elf");
    let list = sched::task_list(&s).expect("task list");
    // init sleeps in the live dump (it waits on a FIFO after writing the listing).
    assert_eq!(list.by_pid(1).next().map(|t| t.state.code()), Some("IN"));
}

#[test]
fn ps_matches_ground_truth_panic() {
    check_ps("panic", "panic.elf");
    let s = open("panic.elf");
    let list = sched::task_list(&s).expect("task list");
    let init = list.by_pid(1).next().expect("init");
    assert!(init.active, "init is the panic CPU's current task");
    assert_eq!(init.state.code(), "RU");
}

#[test]
fn ps_is_the_same_on_every_format() {
    let reference = run(&open("live.elf"), "ps");
    for f in [common::mdf("live", "zlib").as_str(), "live.kdump-raw-zlib"] {
        assert_eq!(run(&open(f), "ps"), reference, "{f}");
    }
}

#[test]
fn ps_options() {
    let truth = common::truth("live");
    let s = open("live.elf");
    let summary = run(&s, "ps -S");
    let un = count_state(&truth, "D");
    assert!(un >= 10, "the live scenario has many D-state tasks");
    assert!(summary.contains(&format!("  UN: {un}\n")), "{summary}");
    let dds = truth["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| p["comm"] == "dd")
        .count();
    let m = run(&s, "ps -m dd");
    assert_eq!(m.lines().count(), dds, "{m}");
    assert!(m
        .lines()
        .all(|l| l.starts_with("[0 00:00:") && l.contains("[UN]")));
    let dd = stuck_dd_pids(&truth)[0];
    let p = run(&s, &format!("ps -p {dd}"));
    assert_eq!(
        p.lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split("TASK").next().unwrap_or("").trim_end().to_string())
            .collect::<Vec<_>>(),
        vec![
            "PID: 0".to_string(),
            " PID: 1".to_string(),
            format!("  PID: {dd}")
        ]
    );
    let k = run(&s, "ps -k");
    assert!(k.lines().skip(1).all(|l| l.ends_with(']')), "{k}");
    // User tasks (threads included) named rkd*: the helper with its threads and the worker.
    let user_rkd = truth["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| {
            p["comm"].as_str().is_some_and(|c| c.starts_with("rkd"))
                && p["ppid"] != 2
                && p["pid"] != 2
        })
        .count();
    let u = run(&s, "ps -u '^rkd'");
    assert!(user_rkd >= 3);
    assert_eq!(
        u.lines().count(),
        1 + user_rkd,
        "header and one line per task: {u}"
    );
    let g = run(&s, "ps -G rkd-worker-1 rkd-helper");
    assert_eq!(g.lines().count(), 2, "{g}");
    let a = run(&s, &format!("ps -a {dd}"));
    assert!(a.contains("ARG: "), "{a}");
}

/// PIDs of the guest's `dd` processes stuck in D state writing to the suspended dm device
/// (their /proc stack shows `submit_bio_wait`), from the ground truth.
fn stuck_dd_pids(truth: &serde_json::Value) -> Vec<u64> {
    truth["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| {
            p["comm"] == "dd"
                && p["state"] == "D"
                && p["stack"].as_array().is_some_and(|st| {
                    st.iter()
                        .any(|f| f.as_str().is_some_and(|f| f.starts_with("submit_bio_wait")))
                })
        })
        .map(|p| p["pid"].as_u64().expect("pid"))
        .collect()
}

/// Processes of the truth in /proc state `letter`.
fn count_state(truth: &serde_json::Value, letter: &str) -> usize {
    truth["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| p["state"] == letter)
        .count()
}

/// `name+0xoff` of each frame.
fn sym_offs(t: &StackTrace) -> Vec<String> {
    t.frames.iter().map(|f| f.sym_off()).collect()
}

/// `/proc/PID/stack` frames appear in the backtrace in order (the backtrace has more: /proc
/// leaves out `__sched` functions).
fn check_d_state(dump: &str, scenario: &str) {
    let truth = common::truth(scenario);
    let s = open(dump);
    let list = sched::task_list(&s).expect("task list");
    let mut checked = 0;
    for p in truth["processes"].as_array().expect("processes") {
        if p["state"] != "D" {
            continue;
        }
        let pid = p["pid"].as_u64().expect("pid") as u32;
        let t = list.by_pid(pid).next().expect("task");
        let trace = rkdump::linux::stacktrace::stack_trace(&s, &list, t).expect("trace");
        assert!(trace.warnings.is_empty(), "{:?}", trace.warnings);
        let ours = sym_offs(&trace);
        // Names of every symbol at each frame's function start: /proc may print another alias
        // of the same address (`__do_sys_sync` for `__ia32_sys_sync`).
        let aliases: Vec<Vec<String>> = trace
            .frames
            .iter()
            .map(|f| {
                let Some(name) = f.symbol.as_deref() else {
                    return vec![f.sym_off()];
                };
                let Some(start) = s.vmlinux().symbols().lookup(name).map(|x| x.addr) else {
                    return vec![f.sym_off()];
                };
                let mut v: Vec<String> = s
                    .vmlinux()
                    .symbols()
                    .iter()
                    .filter(|x| x.addr == start)
                    .map(|x| format!("{}+{:#x}", x.name, f.offset))
                    .collect();
                v.push(f.sym_off());
                v
            })
            .collect();
        let mut it = aliases.iter();
        for want in p["stack"].as_array().expect("stack") {
            // "abba_1+0x39/0x40 [rkd_locks]" → "abba_1+0x39".
            let want = want.as_str().expect("frame");
            let want = want.split('/').next().unwrap_or(want);
            let want = want.split(' ').next().unwrap_or(want);
            assert!(
                it.any(|names| names.iter().any(|f| f == want)),
                "{dump}: pid {pid}: {want} missing or out of order in {ours:?}"
            );
        }
        assert_eq!(
            trace.frames.first().and_then(|f| f.symbol.as_deref()),
            Some("__schedule")
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        count_state(&truth, "D"),
        "every D-state task was checked"
    );
}

#[test]
fn d_state_backtraces_contain_proc_stack_live() {
    check_d_state("live.elf", "live");
    check_d_state(&common::mdf("live", "zlib"), "live");
}

#[test]
fn d_state_backtraces_contain_proc_stack_panic() {
    check_d_state("panic.elf", "panic");
}

#[test]
fn bt_a_on_the_panic_dump() {
    let truth = common::truth("panic");
    let panic_cpu = truth["panic"]["cpu"].as_u64().expect("panic cpu");
    let other_cpu = 1 - panic_cpu;
    let s = open("panic.elf");
    let out = run(&s, "bt -a");
    let blocks: Vec<&str> = out.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{out}");
    // PID 1 panicked via sysrq-c on the CPU the guest printed.
    let panic = blocks
        .iter()
        .find(|b| b.starts_with("PID: 1 "))
        .unwrap_or_else(|| panic!("no PID 1 in {out}"));
    assert!(panic.contains(&format!("CPU: {panic_cpu} ")), "{panic}");
    for f in [
        "] panic at ",
        "] sysrq_handle_crash at ",
        "] ksys_write at ",
    ] {
        assert!(panic.contains(f), "{f} missing in {panic}");
    }
    assert!(
        panic.contains("CS: 0033  SS: 002b"),
        "user-mode syscall frame: {panic}"
    );
    assert!(!panic.contains("WARNING"), "{panic}");
    // The other CPU was stopped by the panic IPI: it unwinds from the IRQ stack through the
    // interrupted idle loop (to the start of the kernel on CPU 0, to the secondary start-up
    // path on CPU 1).
    let cpu0 = blocks
        .iter()
        .find(|b| b.contains(&format!("CPU: {other_cpu} ")))
        .unwrap_or_else(|| panic!("no CPU {other_cpu} in {out}"));
    for f in [
        "stop_this_cpu",
        "--- <IRQ stack> ---",
        "[exception RIP: ",
        "do_idle",
        if other_cpu == 0 {
            "start_kernel"
        } else {
            "start_secondary"
        },
    ] {
        assert!(cpu0.contains(f), "{f} missing in {cpu0}");
    }
    assert!(!cpu0.contains("WARNING"), "{cpu0}");
    // bt -p is the panic task.
    assert!(run(&s, "bt -p").starts_with("PID: 1 "));
}

#[test]
fn bt_options_run() {
    let truth = common::truth("live");
    let dd = stuck_dd_pids(&truth)[0];
    let s = open("live.elf");
    let f = run(&s, &format!("bt -f {dd}"));
    assert!(
        f.lines()
            .any(|l| l.starts_with("    ffff") && l.contains(": ")),
        "{f}"
    );
    let t = run(&s, &format!("bt -t {dd}"));
    assert!(t.contains("] submit_bio_wait at "), "{t}");
    let e = run(&s, &format!("bt -e {dd}"));
    assert!(e.contains("USER-MODE EXCEPTION FRAME AT: "), "{e}");
    let r = run(&s, &format!("bt -r {dd}"));
    assert_eq!(r.lines().count(), 1 + 16 * 1024 / 16);
    let fe = run(&s, "foreach UN bt");
    let dd_d = truth["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| p["comm"] == "dd" && p["state"] == "D")
        .count();
    assert_eq!(fe.matches("COMMAND: \"dd\"").count(), dd_d);
    let q = run(&s, "runq");
    assert!(q.contains("CPU 1 RUNQUEUE: "), "{q}");
}

struct DrgnFrame {
    name: Option<String>,
    pc: u64,
}

fn drgn_traces(dump: &Path) -> HashMap<u64, Vec<DrgnFrame>> {
    let v = common::drgn_json(dump, "drgn_stack_traces.py");
    let obj = v.as_object().expect("object");
    obj.iter()
        .map(|(k, v)| {
            let addr = u64::from_str_radix(k, 16).expect("task address");
            let frames = v["frames"]
                .as_array()
                .expect("frames")
                .iter()
                .map(|f| DrgnFrame {
                    name: f["name"].as_str().map(str::to_string),
                    pc: f["pc"].as_u64().unwrap_or(0),
                })
                // drgn goes on into user space (an unnamed frame); rkdump stops at the
                // syscall's pt_regs and prints them instead.
                .filter(|f| f.pc >= 0xffff_8000_0000_0000)
                .collect();
            (addr, frames)
        })
        .collect()
}

/// Whether an rkdump frame is the same as a drgn frame: same function name, or the same
/// pc (drgn names `entry_SYSCALL_64` where the symbol table has the more precise label
/// `entry_SYSCALL_64_after_hwframe` inside it).
fn same(ours: &rkdump::stack::Frame, theirs: &DrgnFrame) -> bool {
    (ours.symbol.is_some() && ours.symbol == theirs.name) || ours.pc == theirs.pc
}

/// Longest common subsequence of the two frame lists under [`same`].
fn lcs(a: &[rkdump::stack::Frame], b: &[DrgnFrame]) -> usize {
    let mut dp = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in 0..a.len() {
        for j in 0..b.len() {
            dp[i + 1][j + 1] = if same(&a[i], &b[j]) {
                dp[i][j] + 1
            } else {
                dp[i][j + 1].max(dp[i + 1][j])
            };
        }
    }
    dp[a.len()][b.len()]
}

/// Whether a frame is a kernel entry point (a syscall, interrupt or exception entry), where a
/// kernel stack trace ends.
fn is_entry(name: Option<&str>) -> bool {
    name.is_some_and(|n| n.starts_with("entry_") || n.starts_with("asm_"))
}

/// The frames of drgn's trace that drgn can name, up to its entry frame: drgn sometimes
/// unwinds past the entry frame into unnamed frames, which say nothing about the kernel stack.
fn drgn_comparable(frames: &[DrgnFrame]) -> (&[DrgnFrame], bool) {
    for (i, f) in frames.iter().enumerate() {
        if f.name.is_none() {
            return (&frames[..i], true);
        }
        if is_entry(f.name.as_deref()) {
            return (&frames[..=i], false);
        }
    }
    (frames, false)
}

/// rkdump's frames over the same stretch as drgn's comparable ones: up to its own entry frame,
/// and, where drgn's trace was cut at an unnamed frame, up to the frame matching drgn's last.
fn ours_comparable<'a>(
    ours: &'a [rkdump::stack::Frame],
    theirs: &[DrgnFrame],
    cut: bool,
) -> &'a [rkdump::stack::Frame] {
    let end = ours
        .iter()
        .position(|f| is_entry(f.symbol.as_deref()))
        .map_or(ours.len(), |i| i + 1);
    let ours = &ours[..end];
    match theirs.last() {
        Some(last) if cut => match ours.iter().position(|f| same(f, last)) {
            Some(i) => &ours[..=i],
            None => &ours[..ours.len().min(theirs.len())],
        },
        None if cut => &[],
        _ => ours,
    }
}

/// Frames agreeing with drgn, over all tasks: 2·LCS / (ours + theirs), per dump, over the
/// frames drgn can name.
fn check_drgn(dump: &str) -> f64 {
    let s = open(dump);
    let list: TaskList = sched::task_list(&s).expect("task list");
    let theirs = drgn_traces(&common::fixture(dump));
    assert_eq!(
        theirs.len(),
        list.tasks.len(),
        "{dump}: drgn and rkdump see different task counts"
    );
    let (mut matched, mut total, mut cut_tasks) = (0usize, 0usize, 0usize);
    let mut report = Vec::new();
    for t in &list.tasks {
        let ours = rkdump::linux::stacktrace::stack_trace(&s, &list, t).expect("trace");
        // rkdump shows the interrupted function of a user-mode CPU's registers as one frame
        // with no kernel symbol; drgn shows nothing kernel-side there.
        let frames: Vec<_> = ours
            .frames
            .iter()
            .filter(|f| f.pc >= 0xffff_8000_0000_0000)
            .cloned()
            .collect();
        let d = theirs
            .get(&t.addr)
            .unwrap_or_else(|| panic!("{dump}: drgn has no task {:x}", t.addr));
        let (d, cut) = drgn_comparable(d);
        cut_tasks += usize::from(cut);
        let frames = ours_comparable(&frames, d, cut);
        let m = lcs(frames, d);
        matched += 2 * m;
        total += frames.len() + d.len();
        if m != frames.len() || m != d.len() {
            report.push(format!(
                "pid {} {}: rkdump {:?} drgn {:?}",
                t.pid,
                t.comm,
                frames.iter().map(|f| f.sym_off()).collect::<Vec<_>>(),
                d.iter().map(|f| f.name.clone()).collect::<Vec<_>>()
            ));
        }
    }
    let pct = 100.0 * matched as f64 / total.max(1) as f64;
    eprintln!(
        "{dump}: {pct:.2}% of {total} frames agree with drgn ({} tasks; {cut_tasks} of drgn's \
         traces cut at an unnamed frame)",
        list.tasks.len()
    );
    for r in &report {
        eprintln!("  {r}");
    }
    assert!(
        total >= 10 * list.tasks.len(),
        "{dump}: only {total} frames compared for {} tasks",
        list.tasks.len()
    );
    assert!(
        pct >= 98.0,
        "{dump}: only {pct:.2}% agreement with drgn:\n{}",
        report.join("\n")
    );
    pct
}

#[test]
fn stack_traces_agree_with_drgn_live() {
    check_drgn("live.elf");
}

#[test]
fn stack_traces_agree_with_drgn_panic() {
    check_drgn("panic.elf");
}

/// The structured result of a command line (`cmd()` in scripts, `--json` on the command line),
/// as JSON.
fn data(s: &rkdump::session::Session, line: &str) -> serde_json::Value {
    let words = rkdump::commands::split_line(line).expect("words");
    let (name, args) = words.split_first().expect("a command");
    let reg = rkdump::commands::Registry::new();
    let d = reg
        .find(name)
        .expect("command")
        .data(s, args)
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    serde_json::from_str(&d.to_json()).expect("JSON")
}

#[test]
fn ps_data_holds_the_truths_processes() {
    let truth = common::truth("live");
    let s = open("live.elf");
    let rows = data(&s, "ps");
    let rows = rows.as_array().expect("list");
    let ours: BTreeMap<u64, &serde_json::Value> = rows
        .iter()
        .filter(|r| r["pid"] != 0)
        .map(|r| (r["pid"].as_u64().expect("pid"), r))
        .collect();
    let theirs: BTreeMap<u64, &serde_json::Value> = truth["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .map(|p| (p["pid"].as_u64().expect("pid"), p))
        .filter(|(pid, p)| !may_exit_by_itself(p) || ours.contains_key(pid))
        .collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (pid, p) in &theirs {
        let r = ours[pid];
        let comm = r["comm"].as_str().expect("comm");
        let want = p["comm"].as_str().expect("comm");
        // /proc adds a kworker's workqueue and shows a kernel thread's full name (see check_ps).
        assert!(
            want == comm
                || (want.starts_with(comm) && (comm.len() == 15 || comm.starts_with("kworker/"))),
            "comm of {pid}: {comm} vs {want}"
        );
        assert_eq!(r["ppid"], p["ppid"], "ppid of {pid}");
        assert_eq!(r["tgid"], p["tgid"], "tgid of {pid}");
        let want = crash_code(p["state"].as_str().expect("state"));
        let state = r["state"].as_str().expect("state");
        if *pid == 1 {
            // init wrote the listing (running then, asleep in the dump).
        } else if p["ppid"] == 2 && want != "UN" {
            // A kernel thread running or sleeping at the listing may have woken or slept
            // since (rcu_preempt, kworkers); stuck ones keep their state.
            assert!(
                ["RU", "IN", "ID"].contains(&state),
                "state of {pid}: {state}"
            );
        } else {
            assert_eq!(state, want, "state of {pid}");
        }
        assert!(r["task"].as_u64().expect("task") >= 0xffff_8000_0000_0000);
    }
    let active = rows.iter().filter(|r| r["active"] == true).count();
    assert_eq!(active as u64, truth["ncpus"].as_u64().expect("ncpus"));
    // -S counts the same rows.
    let counts = data(&s, "ps -S");
    let total: u64 = counts
        .as_object()
        .expect("map")
        .values()
        .map(|v| v.as_u64().expect("count"))
        .sum();
    assert_eq!(total as usize, rows.len());
    // -p lists the ancestors: init's parent is PID 0.
    let p = data(&s, "ps -p 1");
    assert_eq!(p[0]["ancestors"], serde_json::json!([0]), "{p}");
}

#[test]
fn ps_memory_matches_drgn() {
    // The guest does not record /proc/PID/status, so drgn's task_rss()/task_vsize() are the
    // reference: file + anon + shmem pages of the mm counters plus the per-thread deltas not
    // yet folded in (SPLIT_RSS_COUNTING, before 6.2). crash before 8.0.4 leaves out shmem
    // pages, which on this initramfs (tmpfs) hold the mapped busybox text.
    let drgn = common::drgn_json(&common::fixture("live.elf"), "drgn_task_mem.py");
    let total = drgn["totalram_pages"].as_f64().expect("totalram_pages");
    let s = open("live.elf");
    let rows = data(&s, "ps -u");
    let mut checked = 0;
    for r in rows.as_array().expect("list") {
        let pid = r["pid"].to_string();
        let want = &drgn["tasks"][&pid];
        assert!(want.is_object(), "drgn has no user task {pid}");
        assert_eq!(r["rss"], want["rss_kb"], "RSS of {pid}");
        assert_eq!(r["vsz"], want["vsz_kb"], "VSZ of {pid}");
        let pct = want["rss_kb"].as_f64().expect("rss") / 4.0 * 100.0 / total;
        let got = r["mem_pct"].as_f64().expect("mem_pct");
        assert!(
            (got - pct).abs() <= 0.05 + 1e-9,
            "%MEM of {pid}: {got} vs {pct}"
        );
        checked += 1;
    }
    assert_eq!(checked, drgn["tasks"].as_object().expect("tasks").len());
    assert!(checked >= 10, "{checked} user tasks");
}

#[test]
fn bt_data_of_d_state_tasks_holds_the_proc_stack() {
    let truth = common::truth("live");
    let s = open("live.elf");
    let syms = s.vmlinux().symbols();
    let mut checked = 0;
    for p in truth["processes"].as_array().expect("processes") {
        if p["state"] != "D" {
            continue;
        }
        let pid = p["pid"].as_u64().expect("pid");
        let traces = data(&s, &format!("bt {pid}"));
        let t = &traces[0];
        assert_eq!(traces.as_array().map(Vec::len), Some(1));
        assert_eq!(t["pid"].as_u64(), Some(pid));
        assert!(
            t["warnings"].as_array().expect("warnings").is_empty(),
            "{t}"
        );
        let frames = t["frames"].as_array().expect("frames");
        assert_eq!(frames[0]["function"], "__schedule");
        assert_eq!(frames[0]["level"], 0);
        // Every alias at the frame's function start, as `name+0xoff`.
        let names: Vec<Vec<String>> = frames
            .iter()
            .map(|f| {
                let (Some(name), Some(off)) = (f["function"].as_str(), f["offset"].as_u64()) else {
                    return Vec::new();
                };
                let start = syms.lookup(name).map(|x| x.addr);
                let mut v: Vec<String> = syms
                    .iter()
                    .filter(|x| Some(x.addr) == start)
                    .map(|x| format!("{}+{off:#x}", x.name))
                    .collect();
                v.push(format!("{name}+{off:#x}"));
                v
            })
            .collect();
        let mut it = names.iter();
        for want in p["stack"].as_array().expect("stack") {
            let want = want.as_str().expect("frame");
            let want = want.split('/').next().unwrap_or(want);
            assert!(
                it.any(|n| n.iter().any(|x| x == want)),
                "pid {pid}: {want} missing or out of order in {frames:?}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, count_state(&truth, "D"));
    // foreach UN bt: one trace per D-state task.
    let all = data(&s, "foreach UN bt");
    assert_eq!(all.as_array().map(Vec::len), Some(checked));
    // bt -a: one trace per CPU.
    let a = data(&s, "bt -a");
    assert_eq!(
        a.as_array().map(Vec::len),
        truth["ncpus"].as_u64().map(|n| n as usize)
    );
}

#[test]
fn runq_data_current_tasks_are_the_active_ones() {
    let s = open("live.elf");
    let ps = data(&s, "ps");
    let mut active: Vec<u64> = ps
        .as_array()
        .expect("list")
        .iter()
        .filter(|r| r["active"] == true)
        .map(|r| r["task"].as_u64().expect("task"))
        .collect();
    let rq = data(&s, "runq");
    let mut current: Vec<u64> = rq
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["current"]["task"].as_u64().expect("current"))
        .collect();
    active.sort_unstable();
    current.sort_unstable();
    assert_eq!(active, current);
    for (i, c) in rq.as_array().expect("list").iter().enumerate() {
        assert_eq!(c["cpu"].as_u64(), Some(i as u64));
        assert!(c["rq"].as_u64().is_some_and(|a| a >= 0xffff_8000_0000_0000));
    }
}

#[test]
fn log_task_and_sym_data() {
    let truth = common::truth("live");
    let s = open("live.elf");
    // The record texts, line by line, are the guest's dmesg lines (after their timestamps);
    // the first line of each record carries its timestamp.
    let log = data(&s, "log");
    let mut lines = Vec::new();
    for r in log.as_array().expect("list") {
        let ns = r["timestamp_ns"].as_u64().expect("timestamp_ns");
        let stamp = format!(
            "[{:5}.{:06}]",
            ns / 1_000_000_000,
            ns % 1_000_000_000 / 1000
        );
        for (i, l) in r["text"].as_str().expect("text").split('\n').enumerate() {
            lines.push(
                (i == 0)
                    .then(|| stamp.clone())
                    .map_or(l.to_string(), |s| format!("{s} {l}")),
            );
        }
        assert!(r["level"].as_u64().is_some_and(|l| l <= 7));
    }
    let want: Vec<&str> = truth["dmesg"]
        .as_array()
        .expect("dmesg")
        .iter()
        .map(|l| l.as_str().expect("line"))
        .collect();
    assert!(lines.len() >= want.len() && want.len() > 300);
    for (i, (g, w)) in lines.iter().zip(&want).enumerate() {
        if g.starts_with('[') {
            assert_eq!(g, w, "log record line {}", i + 1);
        } else {
            // busybox dmesg repeats the timestamp on continuation lines.
            assert_eq!(
                Some(g.as_str()),
                w.split_once("] ").map(|x| x.1),
                "line {}",
                i + 1
            );
        }
    }
    // task PID: the summary and the task_struct's scalar members.
    let t = data(&s, "task 1");
    assert_eq!(t["pid"], 1);
    assert_eq!(t["comm"], "init");
    assert_eq!(t["fields"]["pid"], 1);
    assert_eq!(t["fields"]["comm"], "init");
    assert_eq!(t["fields"]["mm"], t["mm"]);
    assert_eq!(data(&s, "task 1 2").as_array().map(Vec::len), Some(2));
    // sym NAME and ADDR.
    let kallsyms = truth["kallsyms"].as_object().expect("kallsyms");
    let want = kallsyms["schedule"].as_str().expect("schedule address");
    let want = u64::from_str_radix(want.trim_start_matches("0x"), 16).expect("hex");
    let sym = data(&s, "sym schedule");
    assert_eq!(sym["address"].as_u64(), Some(want));
    assert_eq!(sym["type"], "T");
    assert_eq!(sym["module"], serde_json::Value::Null);
    let sym = data(&s, &format!("sym {:x}", want + 8));
    assert_eq!(sym["name"], "schedule");
    assert_eq!(sym["offset"], 8);
    assert_eq!(sym["address"].as_u64(), Some(want + 8));
}
