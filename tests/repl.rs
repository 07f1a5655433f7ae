//! The interactive prompt driven through tmux as a person would use it: member-path
//! completion after a dot, pipes into filters, and Ctrl-C stopping a long command while the
//! session goes on.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    name: String,
}

impl Tmux {
    fn start(cmdline: &str) -> Self {
        let name = format!("rkdump-test-{}", std::process::id());
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

#[test]
fn completion_pipes_and_ctrl_c() {
    let bin = env!("CARGO_BIN_EXE_rkdump");
    let cmd = format!(
        "HOME={} {bin} {} {}; sleep 60",
        std::env::temp_dir().display(),
        common::vmlinux().display(),
        common::fixture("live.elf").display()
    );
    let t = Tmux::start(&cmd);
    t.wait_for("the first prompt", 60, |s| {
        prompts(s) >= 1 && s.contains("NODENAME: rkdump-guest")
    });

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
