//! The analyzers (`scripts/hanginfo.rhai`, `taskinfo.rhai`, `crashinfo.rhai`) run by the
//! `rkdump` binary on the real `live` and `panic` dumps, asserted against the guest's truth.

mod common;

use std::process::Command;

/// Output of `rkdump VMLINUX DUMP -c CMD`.
fn run(dump: &str, cmd: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_rkdump"))
        .arg("-q")
        .arg(common::vmlinux())
        .arg(common::fixture(dump))
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("runs rkdump");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{cmd}: {}\n{out}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
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
            _ => "wait queues",
        };
        let sec = section(&out, title);
        let addr = hex_addr(l["addr"].as_str().unwrap());
        let e = entry(sec, &addr);
        assert!(e.contains(l["name"].as_str().unwrap()), "{e}");
        let mut want: Vec<i64> = l["waiters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_i64().unwrap())
            .collect();
        let mut got = pids_line(e);
        want.sort();
        got.sort();
        assert_eq!(got, want, "waiters of {addr}: {e}");
        if kind == "mutex" || kind == "rwsem" {
            let owner = l["owner_word_pid"].as_i64().unwrap();
            assert!(e.contains(&format!("Owner: pid={owner} ")), "{e}");
        }
    }
    // The ABBA cycle: both PIDs and both lock addresses in one deadlock warning.
    let dl = out
        .lines()
        .find(|l| l.starts_with("+++WARNING+++ Deadlock:"))
        .unwrap_or_else(|| panic!("no deadlock warning:\n{out}"));
    for p in locks["abba"]["pids"].as_array().unwrap() {
        assert!(dl.contains(&format!("pid {}", p)), "{dl}");
    }
    for a in locks["abba"]["locks"].as_array().unwrap() {
        assert!(dl.contains(&hex_addr(a.as_str().unwrap())), "{dl}");
    }
    // The ext4 inode lock by path, owned by the direct-I/O writer, with its waiters.
    let fsh = &t["fs_hang"];
    let sec = section(&out, "rw-semaphores");
    let e = entry(sec, "i_rwsem of /mnt/rkdfs/hang/stuck.dat");
    assert!(
        e.contains(&format!("Owner: pid={} ", fsh["holder_pid"])),
        "{e}"
    );
    let mut want: Vec<i64> = fsh["waiter_pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    let mut got = pids_line(e);
    want.sort();
    got.sort();
    assert_eq!(got, want);
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
    let mut want: Vec<i64> = t["dm"]["stuck_io"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_i64().unwrap())
        .collect();
    let mut got = pids_line(e);
    want.sort();
    got.sort();
    assert_eq!(got, want, "{e}");
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
    assert_eq!(v["un_tasks"].as_u64(), Some(15));
    let dl = f
        .iter()
        .find(|x| x["code"] == "deadlock")
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
    let mut got: Vec<i64> = dm["objects"]["pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    got.sort();
    let mut want: Vec<i64> = t["dm"]["stuck_io"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_i64().unwrap())
        .collect();
    want.sort();
    assert_eq!(got, want);
    assert!(!out.contains("+++WARNING+++"), "JSON mode prints only JSON");
}

#[test]
fn taskinfo_summary_counts_equal_the_truth() {
    let t = common::truth("live");
    let out = run("live.elf", "taskinfo --summary");
    let count = |st: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{st}: ")))
            .map(|n| n.parse::<usize>().unwrap())
            .unwrap_or(0)
    };
    let procs = t["processes"].as_array().unwrap();
    let truth = |s: &str| procs.iter().filter(|p| p["state"] == s).count();
    assert_eq!(count("UN"), truth("D"), "{out}");
    assert_eq!(count("ID"), truth("I"), "{out}");
    // The shell that printed the truth was running (R) then; in the dump it sleeps (IN).
    assert_eq!(count("IN") + count("RU"), truth("S") + truth("R"), "{out}");
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
