//! Command-line interface: argument parsing (clap) and the non-interactive runners behind
//! `-c` and the plain line loop used when stdin is not a terminal.

use crate::commands::Registry;
use crate::session::{order_files, Session};
use clap::Parser;
use std::io::{BufRead, Write};
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
    /// Print JSON from commands that support it.
    #[arg(long)]
    pub json: bool,
    /// Grant scripts a capability: fs-read, fs-write, exec.
    #[arg(long = "allow", value_name = "CAP")]
    pub allow: Vec<String>,
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

/// Runs one command line; errors go to `err`, the session goes on. Returns false on error.
pub fn run_one(
    reg: &Registry,
    session: &Session,
    line: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> bool {
    match reg.run_pipeline(session, line, out) {
        Ok(()) => true,
        Err(e) => {
            let _ = writeln!(err, "{e}");
            false
        }
    }
}

/// Reads command lines from `input` until EOF or `q`/`quit`/`exit`, printing a prompt when
/// `prompt` is set. The interactive editor replaces this when stdin is a terminal.
pub fn line_loop(
    reg: &Registry,
    session: &Session,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    prompt: bool,
) -> std::io::Result<()> {
    let mut line = String::new();
    loop {
        if prompt {
            write!(out, "rkdump> ")?;
            out.flush()?;
        }
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let l = line.trim();
        if matches!(l, "q" | "quit" | "exit") {
            return Ok(());
        }
        if !l.is_empty() {
            run_one(reg, session, l, out, err);
        }
    }
}
