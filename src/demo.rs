//! `rkdump demo`: finds the demo dump made by the fixture generator, or runs the generator
//! (from the source tree) to make it, and returns (vmlinux, vmcore).

use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::Command;

/// Where the fixture generator keeps its output unless `RKDUMP_FIXTURES` says otherwise.
pub const DEFAULT_FIXTURE_ROOT: &str = "/var/cache/rkdump/fixtures";

/// The generator script in the source tree this binary was built from.
pub fn generator_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make-fixtures.sh")
}

/// Runs (or reuses) the fixture generator and returns the directory it filled.
pub fn fixture_dir(quiet: bool) -> anyhow::Result<PathBuf> {
    let script = generator_script();
    if !script.exists() {
        bail!(
            "the fixture generator {} is missing: run the demo from the rkdump source tree",
            script.display()
        );
    }
    if !quiet {
        eprintln!(
            "rkdump: preparing the demo dump with {} ...",
            script.display()
        );
    }
    let output = Command::new("bash")
        .arg(&script)
        .stderr(if quiet {
            std::process::Stdio::null()
        } else {
            std::process::Stdio::inherit()
        })
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!("{} failed ({})", script.display(), output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = stdout
        .lines()
        .last()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .context("the fixture generator printed no output directory")?;
    Ok(PathBuf::from(dir))
}

/// Returns (vmlinux, vmcore) of the demo dump, making it first if needed.
pub fn prepare(quiet: bool) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = fixture_dir(quiet)?;
    let vmlinux = dir.join("vmlinux");
    let vmcore = dir.join("live.mdf-zlib-d31");
    for p in [&vmlinux, &vmcore] {
        if !p.exists() {
            bail!(
                "{} is missing after running the fixture generator",
                p.display()
            );
        }
    }
    Ok((vmlinux, vmcore))
}

/// A few things to type first, printed when the demo opens its dump: an analyzer, a backtrace
/// of a task the dump really has in D state (else PID 1), and one Rhai line that follows
/// pointers the way C's `->` does.
pub fn tour(session: &crate::session::Session) -> String {
    let stuck = crate::linux::sched::task_list(session)
        .ok()
        .and_then(|list| {
            list.tasks
                .iter()
                .find(|t| t.state == crate::linux::sched::TaskState::Uninterruptible)
                .map(|t| (t.pid, t.comm.clone()))
        });
    let (pid, what) = match stuck {
        Some((pid, comm)) => (pid, format!("where {comm} (PID {pid}, in D state) sleeps")),
        None => (1, "where init (PID 1) sleeps".to_string()),
    };
    let rows = [
        (
            "hanginfo".to_string(),
            "who blocks whom: locks, owners, deadlocks".to_string(),
        ),
        (format!("bt {pid}"), what),
        (
            "find_task(1).mm.owner.comm".to_string(),
            "Rhai: pointers are followed as C's -> does".to_string(),
        ),
        (
            "help".to_string(),
            "every command; TAB completes them".to_string(),
        ),
    ];
    let mut out = String::from("A short tour; try:\n");
    for (cmd, why) in rows {
        out.push_str(&format!("  {cmd:<30} {why}\n"));
    }
    out
}
