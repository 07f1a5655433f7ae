//! Golden-output tests of the analyzers' reports and of the commands' output on the real
//! fixture dumps (insta snapshots in `tests/snapshots/`).
//!
//! The fixtures are rebuilt on every new machine, with a new KASLR slide, new PIDs and new
//! timings, so each report is normalized before the comparison: addresses become `<addr>`, PIDs
//! become `<pid:COMM>` (the guest's truth maps them to names), the fixture folder becomes
//! `<fixtures>`, other numbers become `N`, and runs of blanks one blank. What stays is what must
//! not change unnoticed: the sections, their order, the wording, names, paths, devices, states,
//! owners and waiters. Values are asserted exactly by `tests/analyzers.rs`.
//!
//! The kernel's release and version strings become `<release>` and `<version>`. Reports whose
//! text differs between kernel lines for the kernel's own reasons (other stack frames, other
//! modules, crash's 6.4+ `TEXT_BASE` title) are kept once per line ([`PER_LINE`]:
//! `NAME@6.1.snap`, `NAME@6.12.snap`); the others are shared by both lines.
//!
//! After an intended change of a report: `cargo insta review` (or `INSTA_UPDATE=always cargo
//! test --release --test golden_reports`) and review the diff of the `.snap` files.

mod common;

use std::collections::HashMap;

use regex_lite::Regex;

/// PID → command name of every task the guest listed.
fn truth_pids(scenario: &str) -> HashMap<String, String> {
    let truth = common::truth(scenario);
    truth["processes"]
        .as_array()
        .expect("truth has processes")
        .iter()
        .filter_map(|p| {
            Some((
                p["pid"].as_u64()?.to_string(),
                p["comm"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Snapshots whose text legitimately differs between kernel lines (see the module comment),
/// with why: 6.12 kernel threads start in `ret_from_fork_asm`, its rwsem and mutex sleepers
/// show `schedule_preempt_disabled`/`down_write` frames 6.1 inlines, `sync` runs
/// `__iterate_supers`, the panic path runs `vpanic`; `mod` lists the modules each kernel has
/// (6.12 builds virtio and fscache in) under crash's title for the line.
const PER_LINE: &[&str] = &[
    "hanginfo_live",
    "hanginfo_live_verbose",
    "crashinfo_panic",
    "mod_live",
    "foreach_un_bt_live",
    "nfsshow_nfs",
    "hanginfo_nfs",
    "dmshow_storage",
    "dmshow_storage_check",
    "dmshow_storage_ll",
];

/// Compares `text` with snapshot `name`, one per kernel line for the names in [`PER_LINE`].
fn assert_golden(name: &str, text: &str) {
    if PER_LINE.contains(&name) {
        insta::with_settings!({snapshot_suffix => common::kernel_line()}, {
            insta::assert_snapshot!(name, text);
        });
    } else {
        insta::assert_snapshot!(name, text);
    }
}

/// The report with its run-dependent parts replaced (see the module comment).
fn normalize(report: &str, scenario: &str) -> String {
    let pids = truth_pids(scenario);
    let root = common::fixture_dir().display().to_string();
    let truth = common::truth(scenario);
    let release = truth["release"]
        .as_str()
        .expect("truth has the release")
        .to_string();
    // utsname's version is the tail of /proc/version: "#1 SMP PREEMPT_DYNAMIC Debian ...".
    let version = truth["version"]
        .as_str()
        .and_then(|v| v.find(" #").map(|i| v[i + 1..].trim().to_string()))
        .expect("truth has the version");
    let addr = Regex::new(r"0x[0-9a-f]+|\b[0-9a-f]{12,16}\b").expect("regex");
    // Numbers that are PIDs by their context: `pid=N`, `pid N`, `PID N`, `PID: N`, the lists
    // after `PIDs:`, `Youngest, oldest:` and `pids [`, and the PID and PPID columns of `ps`.
    let pid_one = Regex::new(r"\b(pid[= ]|PID:? +|pids? )(\d+)").expect("regex");
    let ps_row = Regex::new(r"^([> ]*)(\d+)( +)(\d+)( +\d+ +[0-9a-f]{16} )").expect("regex");
    let pid_list = Regex::new(r"(PIDs:|Youngest, oldest:|pids \[)([0-9, ]+)").expect("regex");
    // A decimal fraction is one number: sizes print as `12 MB` or `12.5 MB` by their value.
    let number = Regex::new(r"\d+(\.\d+)?").expect("regex");
    let blanks = Regex::new(r"[ \t]+").expect("regex");
    // Dates: the guest's clock starts at a random date on every fixture build.
    let date = Regex::new(
        r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d+ \d+:\d+:\d+( [A-Z]+)? \d{4}\b",
    )
    .expect("regex");
    let name = |n: &str| match pids.get(n) {
        Some(comm) => format!("<pid:{comm}>"),
        None => n.to_string(),
    };
    let mut out = String::new();
    for line in report.lines() {
        let line = line
            .replace(&root, "<fixtures>")
            .replace(&version, "<version>")
            .replace(&release, "<release>");
        let line = date.replace_all(&line, "<date>");
        let line = ps_row.replace(&line, |c: &regex_lite::Captures| {
            format!("{}{}{}{}{}", &c[1], name(&c[2]), &c[3], name(&c[4]), &c[5])
        });
        let line = addr.replace_all(&line, "<addr>");
        let line = pid_list.replace_all(&line, |c: &regex_lite::Captures| {
            let list = number.replace_all(&c[2], |n: &regex_lite::Captures| name(&n[0]));
            format!("{}{}", &c[1], list)
        });
        let line = pid_one.replace_all(&line, |c: &regex_lite::Captures| {
            format!("{}{}", &c[1], name(&c[2]))
        });
        // Digits left over (counts, times, sizes), except inside the `<pid:...>` names.
        let mut rest = String::new();
        for (i, part) in line.split('<').enumerate() {
            if i > 0 {
                rest.push('<');
            }
            match part.split_once('>') {
                Some((inside, after)) if i > 0 => {
                    rest.push_str(inside);
                    rest.push('>');
                    rest.push_str(&number.replace_all(after, "N"));
                }
                _ => rest.push_str(&number.replace_all(part, "N")),
            }
        }
        out.push_str(blanks.replace_all(&rest, " ").trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn normalize_replaces_run_dependent_parts() {
    let pids = truth_pids("live");
    let (pid, comm) = pids.iter().next().expect("a task");
    let text = format!(
        "-- pid={pid} cmd=x at 0xffffffffc0356060  Ran ms ago: 8822, 8826\n  DATE: Sat Feb  3 04:05:06 UTC 2035\n"
    );
    let got = normalize(&text, "live");
    assert_eq!(
        got,
        format!("-- pid=<pid:{comm}> cmd=x at <addr> Ran ms ago: N, N\n DATE: <date>\n")
    );
}

#[test]
fn hanginfo_report() {
    let report = common::run_bin("live.elf", "hanginfo");
    assert_golden("hanginfo_live", &normalize(&report, "live"));
}

#[test]
fn hanginfo_verbose_sorted_report() {
    let report = common::run_bin("live.elf", "hanginfo -v --sortbypid");
    assert_golden("hanginfo_live_verbose", &normalize(&report, "live"));
}

/// A `dmshow` report on the storage dump, normalized, with SCSI disk names as `sdX`: the
/// storage guest's disks probe in parallel, so their letters change from boot to boot.
fn dmshow_storage(args: &str) -> String {
    let report = common::run_bin("storage.elf", &format!("dmshow {args}"));
    let sd = Regex::new(r"\bsd[a-z]+\b").expect("regex");
    normalize(&sd.replace_all(&report, "sdX"), "storage")
}

#[test]
fn dmshow_report() {
    assert_golden("dmshow_storage", &dmshow_storage(""));
}

#[test]
fn dmshow_check_report() {
    assert_golden("dmshow_storage_check", &dmshow_storage("--check"));
}

#[test]
fn dmshow_multipath_report() {
    assert_golden("dmshow_storage_ll", &dmshow_storage("-ll"));
}

#[test]
fn nfsshow_report() {
    let report = common::run_bin("nfs.elf", "nfsshow --client --server --rpctasks");
    // The transport's state bits and queue lengths change while the client retries to connect.
    let report: String = report
        .lines()
        .filter(|l| !l.starts_with("   transport ") && !l.starts_with("   queues: "))
        .map(|l| format!("{l}\n"))
        .collect();
    // An RPC task's status is its current retry's (0 or -EAGAIN while it reconnects).
    assert_golden(
        "nfsshow_nfs",
        &normalize(&report, "nfs").replace(" -N ", " N "),
    );
}

#[test]
fn hanginfo_nfs_report() {
    let report = common::run_bin("nfs.elf", "hanginfo --sortbypid");
    assert_golden("hanginfo_nfs", &normalize(&report, "nfs"));
}

#[test]
fn taskinfo_summary_report() {
    let report = common::run_bin("live.elf", "taskinfo --summary");
    assert_golden("taskinfo_live_summary", &normalize(&report, "live"));
}

#[test]
fn taskinfo_uninterruptible_report() {
    let report = common::run_bin("live.elf", "taskinfo --taskfilter UN");
    assert_golden("taskinfo_live_un", &normalize(&report, "live"));
}

/// The report with the blocks of section `title` that start with a line beginning `head`
/// sorted by their text: which CPU ran what depends on the run, so the order does too.
fn sort_blocks(report: &str, title: &str, head: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    let mut inside = false;
    let flush = |blocks: &mut Vec<Vec<&str>>, out: &mut Vec<String>| {
        blocks.sort();
        out.extend(blocks.drain(..).flatten().map(str::to_string));
    };
    for line in report.lines() {
        if line.starts_with("======") {
            flush(&mut blocks, &mut out);
            inside = line.contains(title);
            out.push(line.to_string());
        } else if inside && line.starts_with(head) {
            blocks.push(vec![line]);
        } else if inside && !blocks.is_empty() && !line.is_empty() {
            if let Some(b) = blocks.last_mut() {
                b.push(line);
            }
        } else {
            flush(&mut blocks, &mut out);
            out.push(line.to_string());
        }
    }
    flush(&mut blocks, &mut out);
    out.join("\n") + "\n"
}

#[test]
fn sort_blocks_orders_cpu_blocks() {
    let text = "====== Per-CPU ======\nCPU 1: b\n #0 y\nCPU 0: a\n #0 x\n\nend\n";
    assert_eq!(
        sort_blocks(text, "Per-CPU", "CPU "),
        "====== Per-CPU ======\nCPU 0: a\n #0 x\nCPU 1: b\n #0 y\n\nend\n"
    );
}

/// The report without the indented lines that follow a line equal to `label`: lists whose
/// members depend on the run's timing (which tasks ran last).
fn drop_list(report: &str, label: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in report.lines() {
        if skipping && line.starts_with(' ') {
            continue;
        }
        skipping = line == label;
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn crashinfo_panic_report() {
    let report = normalize(&common::run_bin("panic.elf", "crashinfo"), "panic");
    let report = sort_blocks(&report, "Per-CPU", "CPU ");
    let report = sort_blocks(&report, "Runqueues", "CPU ");
    let report = drop_list(&report, "Most recently run:");
    let report = drop_list(&report, "Longest-blocked UN tasks:");
    assert_golden("crashinfo_panic", &report);
}

/// The lines of `text` in each block (runs of lines between `======` titles and blank lines)
/// sorted: socket tables are ordered by port, and ephemeral ports change on every build.
fn sort_each_block(text: &str) -> String {
    let mut out = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for l in text.lines() {
        if l.is_empty() || l.starts_with("======") || l.starts_with("Proto") {
            block.sort_unstable();
            out.append(&mut block);
            out.push(l);
        } else {
            block.push(l);
        }
    }
    block.sort_unstable();
    out.append(&mut block);
    out.join("\n") + "\n"
}

#[test]
fn xportshow_net_report() {
    let report = normalize(&common::run_bin("net.elf", "xportshow -a"), "net");
    assert_golden("xportshow_net", &sort_each_block(&report));
}

#[test]
fn xportshow_net_summary_report() {
    let mut report = String::new();
    // (neighbour states age with time: `--arp` is asserted against the truth only)
    for cmd in ["xportshow --summary", "xportshow -i -r"] {
        report += &common::run_bin("net.elf", cmd);
    }
    // MAC addresses (and the link-local IPv6 addresses made from them) are random per boot.
    let mac = Regex::new(r"\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b").expect("regex");
    let eui = Regex::new(r"\bfe80::[0-9a-f:]+").expect("regex");
    let report = mac.replace_all(&report, "<mac>").into_owned();
    let report = eui.replace_all(&report, "fe80::<eui64>").into_owned();
    assert_golden("xportshow_net_summary", &normalize(&report, "net"));
}

/// `COMMAND` on the `live` dump, normalized.
fn live_command(command: &str) -> String {
    normalize(&common::run_bin("live.elf", command), "live")
}

#[test]
fn sys_command() {
    assert_golden("sys_live", &live_command("sys"));
}

/// The first line (the header) and then the other lines sorted: tables ordered by address
/// (modules, disks) change order with the KASLR slide.
fn header_then_sorted(text: &str) -> String {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let mut rows: Vec<&str> = lines.collect();
    rows.sort();
    std::iter::once(header)
        .chain(rows)
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn mod_command() {
    assert_golden("mod_live", &header_then_sorted(&live_command("mod")));
}

#[test]
fn dev_disks_command() {
    assert_golden("dev_d_live", &header_then_sorted(&live_command("dev -d")));
}

#[test]
fn mount_command() {
    assert_golden("mount_live", &live_command("mount"));
}

#[test]
fn ps_of_uninterruptible_tasks() {
    assert_golden("foreach_un_ps_live", &live_command("foreach UN ps"));
}

#[test]
fn bt_of_uninterruptible_tasks() {
    assert_golden("foreach_un_bt_live", &live_command("foreach UN bt"));
}

#[test]
fn files_of_the_inode_lock_holder() {
    let holder = common::truth("live")["fs_hang"]["holder_pid"]
        .as_u64()
        .expect("truth names the inode lock holder");
    assert_golden(
        "files_holder_live",
        &live_command(&format!("files {holder}")),
    );
}

#[test]
fn kmem_summary_command() {
    assert_golden("kmem_i_live", &live_command("kmem -i"));
}

/// scsishow's hosts, devices, targets, commands and findings on the storage dump; disk names
/// (`sdX`, given in probe order, which varies between boots) become `sdX`, and the `INFO:`
/// lines (devices whose probing counted an `ioerr_cnt`, which differs between kernels; the
/// counters are asserted against the truth by `tests/scsishow.rs`) are left out.
#[test]
fn scsishow_report() {
    let report = common::run_bin("storage.elf", "scsishow -s -d -T -c --check");
    let disk = Regex::new(r"\bsd[a-z]+\b").expect("regex");
    let report: String = report
        .lines()
        .filter(|l| !l.starts_with("INFO: "))
        .map(|l| format!("{l}\n"))
        .collect();
    let report = disk.replace_all(&report, "sdX");
    assert_golden("scsishow_storage", &normalize(&report, "storage"));
}
