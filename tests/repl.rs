//! The interactive prompt driven through tmux as a person would use it: member-path
//! completion after a dot (from symbols and from live Rhai variables), type names that only a
//! module defines, pipes into filters, and Ctrl-C stopping a long command while the session
//! goes on.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    name: String,
}

impl Tmux {
    fn start(tag: &str, cmdline: &str) -> Self {
        let name = format!("rkdump-test-{}-{tag}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "200",
                "-y",
                "60",
                cmdline,
            ])
            .env("NO_COLOR", "1")
            .status()
            .expect("tmux is installed (tests/tools/install-test-tools.sh)");
        assert!(ok.success(), "tmux new-session failed");
        Tmux { name }
    }
    fn send(&self, keys: &[&str]) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(ok.success());
    }
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-200", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Waits until the screen satisfies `pred`, failing with the screen after `secs`.
    fn wait_for(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

fn prompts(s: &str) -> usize {
    s.lines().filter(|l| l.starts_with("rkdump>")).count()
}

/// The prompt on the live dump, waited for.
fn open_live(tag: &str) -> Tmux {
    let bin = env!("CARGO_BIN_EXE_rkdump");
    let cmd = format!(
        "HOME={} {bin} {} {}; sleep 60",
        std::env::temp_dir().display(),
        common::vmlinux().display(),
        common::fixture("live.elf").display()
    );
    let t = Tmux::start(tag, &cmd);
    t.wait_for("the first prompt", 60, |s| {
        prompts(s) >= 1 && s.contains("NODENAME: rkdump-guest")
    });
    t
}

/// The last non-empty line of the screen.
fn last_line(s: &str) -> &str {
    s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("")
}

#[test]
fn completion_pipes_and_ctrl_c() {
    let t = open_live("main");

    // Member completion through DWARF: init_task.se.avg.<TAB><TAB> lists sched_avg's members.
    t.send(&["rd init_task.se.av", "Tab"]);
    t.wait_for("completion of se.av", 20, |s| {
        s.contains("rkdump> rd init_task.se.avg")
    });
    t.send(&[".", "Tab", "Tab"]);
    let s = t.wait_for("member list", 20, |s| {
        s.contains("init_task.se.avg.load_avg")
    });
    assert!(s.contains("init_task.se.avg.util_avg"), "{s}");
    t.send(&["C-u"]);

    // Command name completion.
    t.send(&["hel", "Tab", "Enter"]);
    t.wait_for("help output", 20, |s| s.contains("read memory"));

    // A pipe into grep keeps only the matching line of sys.
    t.send(&["sys | grep -c NODE", "Enter"]);
    t.wait_for("grep -c", 20, |s| s.lines().any(|l| l.trim() == "1"));

    // Ctrl-C stops a long command (4 M words of physical memory) and the session goes on.
    t.send(&["rd -p 0 4000000", "Enter"]);
    std::thread::sleep(Duration::from_millis(400));
    t.send(&["C-c"]);
    t.wait_for("interrupted", 20, |s| s.contains("interrupted"));
    t.send(&["sym jiffies", "Enter"]);
    let s = t.wait_for("sym after Ctrl-C", 20, |s| {
        s.contains("(D) jiffies")
            && s.lines().rev().find(|l| !l.trim().is_empty()) == Some("rkdump>")
    });
    // rd stopped long before its last row (physical address 0x1e84800 - 16).
    assert!(!s.contains("0000000001e847f0:"), "rd ran to the end:\n{s}");
}

#[test]
fn completion_on_live_variables_and_module_types() {
    let t = open_live("live");
    // (tmux reads a trailing `;` as its own separator: the Rhai lines go without one.)
    t.send(&["let t = find_task(1)", "Enter"]);
    t.wait_for("the let", 20, |s| {
        s.contains("rkdump> let t = find_task(1)") && last_line(s) == "rkdump>"
    });

    // A live object completes from its type, through pointers (files, fdt are pointers).
    t.send(&["t.files.fdt.", "Tab", "Tab"]);
    let s = t.wait_for("fdtable's members", 20, |s| {
        s.contains("t.files.fdt.max_fds")
    });
    assert!(
        s.contains("t.files.fdt.fd ") && s.contains("t.files.fdt.open_fds"),
        "{s}"
    );
    t.send(&["C-u"]);

    // Inside an expression, a unique member completes in place.
    t.send(&["print(t.mm.arg_s", "Tab"]);
    t.wait_for("t.mm.arg_start", 20, |s| {
        last_line(s) == "rkdump> print(t.mm.arg_start"
    });
    t.send(&["C-u"]);

    // An indexed pointer member keeps its path: fd[0] is a struct file *.
    t.send(&["t.files.fdt.fd[0].f_pa", "Tab"]);
    t.wait_for("f_path", 20, |s| {
        last_line(s) == "rkdump> t.files.fdt.fd[0].f_path"
    });
    t.send(&["C-u"]);

    // Maps complete their keys, and objects inside them their members.
    t.send(&["let m = #{task: t, n: 1}", "Enter"]);
    t.wait_for("the second let", 20, |s| {
        s.contains("rkdump> let m = #{task: t, n: 1}") && last_line(s) == "rkdump>"
    });
    t.send(&["m.task.se.av", "Tab"]);
    t.wait_for("m.task.se.avg", 20, |s| {
        last_line(s) == "rkdump> m.task.se.avg"
    });
    t.send(&["C-u"]);

    // A type that only dm_mod defines (dm-linear.c's private struct): offered by completion
    // (completed outright, or listed beside other `linear_*` types a kernel may have).
    t.send(&["whatis struct linear_", "Tab", "Tab"]);
    t.wait_for("struct linear_c", 20, |s| {
        last_line(s) == "rkdump> whatis struct linear_c"
            || s.lines()
                .any(|l| !l.starts_with("rkdump>") && l.split_whitespace().any(|w| w == "linear_c"))
    });
    t.send(&["C-u", "whatis struct linear_c", "Enter"]);
    t.wait_for("dm_mod's linear_c", 20, |s| {
        s.contains("struct dm_dev *dev;")
    });
    // A type the vmlinux only declares completes to the module's members.
    t.send(&["struct mapped_", "Tab"]);
    t.wait_for("struct mapped_device", 20, |s| {
        last_line(s) == "rkdump> struct mapped_device"
    });
    t.send(&[".na", "Tab"]);
    t.wait_for("mapped_device.name", 20, |s| {
        last_line(s) == "rkdump> struct mapped_device.name"
    });
}
