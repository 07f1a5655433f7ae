//! `runq`: each CPU's runqueue: the current task, the queued RT tasks (`rt.active` priority
//! array) and the queued CFS tasks (the `cfs.tasks_timeline` red-black tree, descending into
//! group runqueues).

use super::{Command, Data, Opts};
use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::linux::sched::{self, TaskList};
use crate::memory::ReadExt;
use crate::session::Session;
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

/// A task queued on a runqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// `task->prio`.
    pub prio: u32,
    /// `task->pid`.
    pub pid: u32,
    /// The `task_struct`.
    pub task: u64,
    /// `task->comm`.
    pub comm: String,
}

fn queued(s: &Session, o: &Off, task: u64) -> Queued {
    Queued {
        prio: crate::memory::field(task, o.prio)
            .and_then(|a| s.read_u32(a))
            .unwrap_or(0),
        pid: crate::memory::field(task, o.pid)
            .and_then(|a| s.read_u32(a))
            .unwrap_or(0),
        task,
        comm: crate::memory::field(task, o.comm)
            .and_then(|a| s.read_cstring(a, 16))
            .unwrap_or_default(),
    }
}

fn line(q: &Queued, indent: &str, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{indent}[{:>3}] PID: {:<6} TASK: {:016x}  COMMAND: \"{}\"",
        q.prio, q.pid, q.task, q.comm
    )?;
    Ok(())
}

/// In-order walk of the CFS tree of `cfs_rq`, descending into group runqueues.
fn cfs_tasks(s: &Session, o: &Off, cfs_rq: u64, depth: usize, acc: &mut Vec<u64>) {
    let Ok(root) = crate::memory::field(cfs_rq, o.timeline).and_then(|a| s.read_u64(a)) else {
        return;
    };
    let mut stack = Vec::new();
    let mut node = root;
    let mut visited = 0usize;
    while (node != 0 || !stack.is_empty()) && visited < MAX_NODES {
        while node != 0 && stack.len() < 128 {
            stack.push(node);
            // rb_node: __rb_parent_color, rb_right, rb_left.
            node = crate::memory::field(node, 16)
                .and_then(|a| s.read_u64(a))
                .unwrap_or(0);
        }
        let Some(n) = stack.pop() else { break };
        visited += 1;
        let se = n.wrapping_sub(o.run_node);
        let my_q = crate::memory::field(se, o.my_q)
            .and_then(|a| s.read_u64(a))
            .unwrap_or(0);
        if my_q != 0 && depth < 16 {
            cfs_tasks(s, o, my_q, depth + 1, acc);
        } else {
            acc.push(se.wrapping_sub(o.task_se));
        }
        node = crate::memory::field(n, 8)
            .and_then(|a| s.read_u64(a))
            .unwrap_or(0);
    }
}

/// One CPU's runqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuRunq {
    /// The CPU.
    pub cpu: usize,
    /// Its `struct rq`.
    pub rq: u64,
    /// `rq->curr` (pid, task, comm).
    pub current: Option<(u32, u64, String)>,
    /// `&rq->rt.active` (`struct rt_prio_array`).
    pub rt_array: u64,
    /// Tasks on the RT priority queues, highest priority first.
    pub rt: Vec<Queued>,
    /// `&rq->cfs.tasks_timeline`.
    pub cfs_root: u64,
    /// Tasks in the CFS tree, leftmost (next to run) first.
    pub cfs: Vec<Queued>,
}

/// Reads `cpu`'s runqueue.
fn cpu_runq(s: &Session, o: &Off, list: &TaskList, cpu: usize) -> Result<CpuRunq> {
    let rq = s
        .per_cpu_addr("runqueues", cpu)
        .ok_or_else(|| Error::Kernel("no runqueues symbol".into()))?;
    let rt_array = rq + o.rt_active;
    let mut rt = Vec::new();
    for prio in 0..MAX_RT_PRIO {
        let head = rt_array + o.rt_queue + prio * 16;
        let mut node = s.read_u64(Kva(head)).unwrap_or(head);
        let mut n = 0;
        while node != head && node != 0 && n < MAX_NODES {
            rt.push(queued(s, o, node.wrapping_sub(o.task_rt)));
            n += 1;
            node = s.read_u64(Kva(node)).unwrap_or(head);
        }
    }
    let cfs_rq = rq + o.cfs;
    let mut tasks = Vec::new();
    cfs_tasks(s, o, cfs_rq, 0, &mut tasks);
    Ok(CpuRunq {
        cpu,
        rq,
        current: list
            .current_on(cpu)
            .map(|t| (t.pid, t.addr, t.comm.clone())),
        rt_array,
        rt,
        cfs_root: cfs_rq + o.timeline,
        cfs: tasks.into_iter().map(|t| queued(s, o, t)).collect(),
    })
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
    let o = offsets(session)?;
    let list = sched::task_list(session)?;
    let cpus: Vec<usize> = match opts.value("c") {
        Some(c) => vec![c
            .parse()
            .map_err(|_| Error::Usage(format!("runq: invalid cpu {c}")))?],
        None => (0..list.current.len()).collect(),
    };
    cpus.into_iter()
        .map(|cpu| cpu_runq(session, &o, &list, cpu))
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
