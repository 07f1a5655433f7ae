//! `runq`: each CPU's runqueue: the current task, the queued RT tasks (`rt.active` priority
//! array) and the queued CFS tasks (the `cfs.tasks_timeline` red-black tree, descending into
//! group runqueues).

use super::{Command, Opts};
use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::memory::ReadExt;
use crate::session::Session;
use crate::tasks::{self, TaskList};
use std::io::Write;

/// The `runq` command.
pub struct Runq;

const USAGE: &str = "\
runq [-c CPU]
  the current task and the queued RT and CFS tasks of each CPU";

/// `MAX_RT_PRIO`: number of RT priority queues.
const MAX_RT_PRIO: u64 = 100;
/// Most nodes visited in one tree or list (loop protection).
const MAX_NODES: usize = 100_000;

struct Off {
    cfs: u64,
    rt_active: u64,
    timeline: u64,
    run_node: u64,
    my_q: u64,
    task_se: u64,
    task_rt: u64,
    rt_queue: u64,
    prio: u64,
    pid: u64,
    comm: u64,
}

fn offsets(s: &Session) -> Result<Off> {
    Ok(Off {
        cfs: s.offset_of("struct rq", "cfs")?,
        rt_active: s.offset_of("struct rq", "rt.active")?,
        timeline: s.offset_of("struct cfs_rq", "tasks_timeline")?,
        run_node: s.offset_of("struct sched_entity", "run_node")?,
        my_q: s.offset_of("struct sched_entity", "my_q")?,
        task_se: s.offset_of("struct task_struct", "se")?,
        task_rt: s.offset_of("struct task_struct", "rt.run_list")?,
        rt_queue: s.offset_of("struct rt_prio_array", "queue")?,
        prio: s.offset_of("struct task_struct", "prio")?,
        pid: s.offset_of("struct task_struct", "pid")?,
        comm: s.offset_of("struct task_struct", "comm")?,
    })
}

fn line(s: &Session, o: &Off, task: u64, indent: &str, out: &mut dyn Write) -> Result<()> {
    let prio = s.read_u32(Kva(task + o.prio)).unwrap_or(0);
    let pid = s.read_u32(Kva(task + o.pid)).unwrap_or(0);
    let comm = s.read_cstring(Kva(task + o.comm), 16).unwrap_or_default();
    writeln!(
        out,
        "{indent}[{prio:>3}] PID: {pid:<6} TASK: {task:016x}  COMMAND: \"{comm}\""
    )?;
    Ok(())
}

/// In-order walk of the CFS tree of `cfs_rq`, descending into group runqueues.
fn cfs_tasks(s: &Session, o: &Off, cfs_rq: u64, depth: usize, acc: &mut Vec<u64>) {
    let Ok(root) = s.read_u64(Kva(cfs_rq + o.timeline)) else {
        return;
    };
    let mut stack = Vec::new();
    let mut node = root;
    let mut visited = 0usize;
    while (node != 0 || !stack.is_empty()) && visited < MAX_NODES {
        while node != 0 && stack.len() < 128 {
            stack.push(node);
            // rb_node: __rb_parent_color, rb_right, rb_left.
            node = s.read_u64(Kva(node + 16)).unwrap_or(0);
        }
        let Some(n) = stack.pop() else { break };
        visited += 1;
        let se = n.wrapping_sub(o.run_node);
        let my_q = s.read_u64(Kva(se + o.my_q)).unwrap_or(0);
        if my_q != 0 && depth < 16 {
            cfs_tasks(s, o, my_q, depth + 1, acc);
        } else {
            acc.push(se.wrapping_sub(o.task_se));
        }
        node = s.read_u64(Kva(n + 8)).unwrap_or(0);
    }
}

fn show_cpu(s: &Session, o: &Off, list: &TaskList, cpu: usize, out: &mut dyn Write) -> Result<()> {
    let rq = s
        .per_cpu_addr("runqueues", cpu)
        .ok_or_else(|| Error::Kernel("no runqueues symbol".into()))?;
    writeln!(out, "CPU {cpu} RUNQUEUE: {rq:x}")?;
    if let Some(t) = list.current_on(cpu) {
        writeln!(
            out,
            "  CURRENT: PID: {:<6} TASK: {:016x}  COMMAND: \"{}\"",
            t.pid, t.addr, t.comm
        )?;
    }
    let rt = rq + o.rt_active;
    writeln!(out, "  RT PRIO_ARRAY: {rt:x}")?;
    let mut any = false;
    for prio in 0..MAX_RT_PRIO {
        let head = rt + o.rt_queue + prio * 16;
        let mut node = s.read_u64(Kva(head)).unwrap_or(head);
        let mut n = 0;
        while node != head && node != 0 && n < MAX_NODES {
            line(s, o, node.wrapping_sub(o.task_rt), "     ", out)?;
            any = true;
            n += 1;
            node = s.read_u64(Kva(node)).unwrap_or(head);
        }
    }
    if !any {
        writeln!(out, "     [no tasks queued]")?;
    }
    let cfs = rq + o.cfs;
    writeln!(out, "  CFS RB_ROOT: {:x}", cfs + o.timeline)?;
    let mut queued = Vec::new();
    cfs_tasks(s, o, cfs, 0, &mut queued);
    if queued.is_empty() {
        writeln!(out, "     [no tasks queued]")?;
    }
    for t in queued {
        line(s, o, t, "     ", out)?;
    }
    Ok(())
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
        let opts = Opts::parse("runq", args, "", "c", &[])?;
        let o = offsets(session)?;
        let list = tasks::task_list(session)?;
        let cpus: Vec<usize> = match opts.value("c") {
            Some(c) => vec![c
                .parse()
                .map_err(|_| Error::Usage(format!("runq: invalid cpu {c}")))?],
            None => (0..list.current.len()).collect(),
        };
        for (i, cpu) in cpus.into_iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            show_cpu(session, &o, &list, cpu, out)?;
        }
        Ok(())
    }
}
