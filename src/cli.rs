//! Command-line interface: argument parsing (clap) and opening the two files in either order.

use crate::session::{order_files, Session};
use clap::Parser;
use std::path::PathBuf;

/// Command-line options (DESIGN.md §2).
#[derive(Debug, Parser)]
#[command(
    name = "rkdump",
    version,
    about = "Linux kernel crash-dump analysis shell",
    after_help = "Files may be given in either order; `rkdump demo` makes (or reuses) a demo dump and opens it."
)]
pub struct Cli {
    /// VMLINUX (with DWARF) and VMCORE, in either order; or `demo`.
    #[arg(value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Run one command and exit (repeatable, run in order).
    #[arg(short = 'c', long = "command", value_name = "CMD")]
    pub commands: Vec<String>,
    /// Run a .rhai script and exit (arguments after `--` go to the script).
    #[arg(short = 'x', long = "script", value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Add a script pack folder (repeatable).
    #[arg(short = 'L', long = "pack", value_name = "DIR")]
    pub packs: Vec<PathBuf>,
    /// Print JSON from commands that support it: structured results of built-in commands, and `--json` passed to analyzers that offer it.
    #[arg(long)]
    pub json: bool,
    /// Grant scripts a capability: fs-read, fs-write, exec.
    #[arg(long = "allow", value_name = "CAP")]
    pub allow: Vec<String>,
    /// Search DIR for module debuginfo (`NAME.ko`, `NAME.ko.debug`) before the standard places
    /// (repeatable).
    #[arg(long = "debuginfo", value_name = "DIR")]
    pub debuginfo: Vec<PathBuf>,
    /// No banner, no progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// Arguments passed to the script.
    #[arg(last = true)]
    pub script_args: Vec<String>,
}

/// Opens the session for two paths given in any order.
pub fn open_session(a: &std::path::Path, b: &std::path::Path) -> anyhow::Result<Session> {
    let (vmlinux, vmcore) = order_files(a, b)?;
    Ok(Session::open(&vmlinux, &vmcore)?)
}
