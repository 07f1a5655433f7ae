//! `runq`: each CPU's runqueue (the current task, the queued RT and CFS tasks) as the kernel
//! layer's `linux::runqueue` reads it.

use super::{Command, Data, Opts};
use crate::error::{Error, Result};
use crate::linux::runqueue::{self, CpuRunq, Queued};
use crate::linux::sched;
use crate::session::Session;
use std::io::Write;

/// The `runq` command.
pub struct Runq;

const USAGE: &str = "\
runq [-c CPU]
  the current task and the queued RT and CFS tasks of each CPU";

fn line(q: &Queued, indent: &str, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{indent}[{:>3}] PID: {:<6} TASK: {:016x}  COMMAND: \"{}\"",
        q.prio, q.pid, q.task, q.comm
    )?;
    Ok(())
}

fn show_cpu(r: &CpuRunq, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "CPU {} RUNQUEUE: {:x}", r.cpu, r.rq)?;
    if let Some((pid, addr, comm)) = &r.current {
        writeln!(
            out,
            "  CURRENT: PID: {pid:<6} TASK: {addr:016x}  COMMAND: \"{comm}\""
        )?;
    }
    writeln!(out, "  RT PRIO_ARRAY: {:x}", r.rt_array)?;
    if r.rt.is_empty() {
        writeln!(out, "     [no tasks queued]")?;
    }
    for q in &r.rt {
        line(q, "     ", out)?;
    }
    writeln!(out, "  CFS RB_ROOT: {:x}", r.cfs_root)?;
    if r.cfs.is_empty() {
        writeln!(out, "     [no tasks queued]")?;
    }
    for q in &r.cfs {
        line(q, "     ", out)?;
    }
    for w in &r.warnings {
        writeln!(out, "  runq: WARNING: {w}")?;
    }
    Ok(())
}

fn queued_data(q: &[Queued]) -> Data {
    Data::list(q.iter().map(|q| {
        Data::map([
            ("prio", Data::Int(q.prio.into())),
            ("pid", Data::Int(q.pid.into())),
            ("task", Data::addr(q.task)),
            ("comm", Data::Str(q.comm.clone())),
        ])
    }))
}

/// The runqueues `runq [-c CPU]` shows.
fn runqueues(session: &Session, args: &[String]) -> Result<Vec<CpuRunq>> {
    let opts = Opts::parse("runq", args, "", "c", &[])?;
    let list = sched::task_list(session)?;
    let cpus: Vec<usize> = match opts.value("c") {
        Some(c) => vec![c
            .parse()
            .map_err(|_| Error::Usage(format!("runq: invalid cpu {c}")))?],
        None => (0..list.current.len()).collect(),
    };
    cpus.into_iter()
        .map(|cpu| runqueue::cpu_runqueue(session, &list, cpu))
        .collect()
}

impl Command for Runq {
    fn name(&self) -> &'static str {
        "runq"
    }
    fn summary(&self) -> &'static str {
        "run queue of each CPU"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        for (i, r) in runqueues(session, args)?.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            show_cpu(r, out)?;
        }
        Ok(())
    }
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        Ok(Data::list(runqueues(session, args)?.into_iter().map(|r| {
            let current = match &r.current {
                Some((pid, addr, comm)) => Data::map([
                    ("pid", Data::Int((*pid).into())),
                    ("task", Data::addr(*addr)),
                    ("comm", Data::Str(comm.clone())),
                ]),
                None => Data::Null,
            };
            Data::map([
                ("cpu", Data::opt_int(Some(r.cpu))),
                ("rq", Data::addr(r.rq)),
                ("current", current),
                ("rt_prio_array", Data::addr(r.rt_array)),
                ("rt", queued_data(&r.rt)),
                ("cfs_rb_root", Data::addr(r.cfs_root)),
                ("cfs", queued_data(&r.cfs)),
                (
                    "queued",
                    queued_data(&[r.rt.as_slice(), r.cfs.as_slice()].concat()),
                ),
            ])
        })))
    }
}
