//! `sys`: the system summary crash prints at start-up (KERNEL, DUMPFILE, CPUS, DATE, UPTIME,
//! LOAD AVERAGE, TASKS, NODENAME, RELEASE, VERSION, MACHINE, MEMORY, PANIC).

use super::{Command, Data, Opts};
use crate::error::Result;
use crate::linux::sysinfo::{self as facts, SysInfo};
use crate::session::Session;
use std::io::Write;

/// The `sys` command.
pub struct Sys;

const USAGE: &str = "\
sys [-i]
  (no option)  the system summary
  -i           also how the dump and the kernel layout were read (format, KASLR, phys_base,
               page_offset_base, page-table root)";

impl Command for Sys {
    fn name(&self) -> &'static str {
        "sys"
    }
    fn summary(&self) -> &'static str {
        "system data: release, uptime, load, tasks, memory, panic"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("sys", args, "i", "", &[])?;
        let info = facts::sys_info(session);
        print_sys(&info, out)?;
        if o.has("i") {
            let l = session.paging().layout();
            writeln!(out, "      FORMAT: {}", session.dump().format())?;
            writeln!(out, "      LAYOUT: from {:?}", session.layout_source())?;
            writeln!(out, "KERNELOFFSET: {:x}", l.kaslr_offset)?;
            writeln!(out, "   PHYS_BASE: {:x}", l.phys_base)?;
            writeln!(out, " PAGE_OFFSET: {:x}", l.page_offset_base)?;
            writeln!(
                out,
                "         PGD: {:x}{}",
                l.pgd,
                if l.five_level { " (5-level)" } else { "" }
            )?;
        }
        Ok(())
    }
    fn data(&self, session: &Session, _args: &[String]) -> Result<Data> {
        let i = facts::sys_info(session);
        Ok(Data::map([
            ("kernel", Data::Str(i.kernel)),
            ("dumpfile", Data::Str(i.dumpfile)),
            ("cpus", Data::opt_int(i.cpus)),
            ("cpus_offline", Data::Int(i.cpus_offline as i64)),
            ("date", Data::opt_str(i.date.as_deref())),
            ("uptime", Data::opt_str(i.uptime.as_deref())),
            ("uptime_secs", Data::opt_int(i.uptime_secs)),
            ("load_average", Data::opt_str(i.load_average.as_deref())),
            ("tasks", Data::opt_int(i.tasks)),
            ("nodename", Data::Str(i.nodename)),
            ("release", Data::Str(i.release)),
            ("version", Data::Str(i.version)),
            ("machine", Data::Str(i.machine)),
            ("memory", Data::opt_str(i.memory.as_deref())),
            ("memory_bytes", Data::opt_int(i.memory_bytes)),
            ("panic", Data::opt_str(i.panic.as_deref())),
            ("hz", Data::opt_int(i.hz)),
        ]))
    }
}

/// Prints `info` in crash's layout (labels right-aligned to 12 columns).
pub fn print_sys(info: &SysInfo, out: &mut dyn Write) -> Result<()> {
    let row = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "{k:>12}: {v}");
    let na = || "(unavailable)".to_string();
    row(out, "KERNEL", &info.kernel)?;
    row(out, "DUMPFILE", &info.dumpfile)?;
    let cpus = match (info.cpus, info.cpus_offline) {
        (Some(c), 0) => c.to_string(),
        (Some(c), off) => format!("{c} [OFFLINE: {off}]"),
        (None, _) => na(),
    };
    row(out, "CPUS", &cpus)?;
    row(out, "DATE", info.date.as_deref().unwrap_or("(unavailable)"))?;
    row(
        out,
        "UPTIME",
        info.uptime.as_deref().unwrap_or("(unavailable)"),
    )?;
    row(
        out,
        "LOAD AVERAGE",
        info.load_average.as_deref().unwrap_or("(unavailable)"),
    )?;
    row(
        out,
        "TASKS",
        &info.tasks.map(|c| c.to_string()).unwrap_or_else(na),
    )?;
    row(out, "NODENAME", &info.nodename)?;
    row(out, "RELEASE", &info.release)?;
    row(out, "VERSION", &info.version)?;
    row(out, "MACHINE", &info.machine)?;
    row(
        out,
        "MEMORY",
        info.memory.as_deref().unwrap_or("(unavailable)"),
    )?;
    row(
        out,
        "PANIC",
        &format!("\"{}\"", info.panic.as_deref().unwrap_or("")),
    )?;
    Ok(())
}
