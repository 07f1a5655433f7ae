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
