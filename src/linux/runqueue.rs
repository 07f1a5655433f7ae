//! Runqueues: each CPU's `struct rq` with its current task, the tasks queued on the RT
//! priority array (`rt.active.queue[prio]`, linked by `task->rt.run_list`) and those in the
//! CFS red-black tree (`cfs.tasks_timeline`, linked by `sched_entity.run_node`, descending into
//! group runqueues through `se->my_q`).

use super::sched::TaskList;
use crate::error::{Error, Result};
use crate::memory::ReadExt;
use crate::session::Session;
use crate::value::{walk, Value};

/// `MAX_RT_PRIO`: number of RT priority queues.
const MAX_RT_PRIO: u64 = 100;
/// Most nodes visited in one tree or list (loop protection).
const MAX_NODES: usize = 100_000;
/// Deepest nesting of group runqueues followed.
const MAX_GROUP_DEPTH: usize = 16;

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
    /// Problems met in the walks (loops, unreadable nodes).
    pub warnings: Vec<String>,
}

/// Member offsets the walks need, resolved once per call.
struct Offsets {
    cfs: u64,
    rt_active: u64,
    timeline: u64,
    run_node: u64,
    task_se: u64,
    task_rt: u64,
    rt_queue: u64,
    list_head: u64,
}

impl Offsets {
    fn get(s: &Session) -> Result<Self> {
        Ok(Offsets {
            cfs: s.offset_of("struct rq", "cfs")?,
            rt_active: s.offset_of("struct rq", "rt.active")?,
            timeline: s.offset_of("struct cfs_rq", "tasks_timeline")?,
            run_node: s.offset_of("struct sched_entity", "run_node")?,
            task_se: s.offset_of("struct task_struct", "se")?,
            task_rt: s.offset_of("struct task_struct", "rt.run_list")?,
            rt_queue: s.offset_of("struct rt_prio_array", "queue")?,
            list_head: {
                let t = s.find_type("struct list_head")?;
                s.types()?.size_of(t)?
            },
        })
    }
}

/// The task at `task` as a runqueue entry (unreadable fields are 0 / empty).
fn queued(s: &Session, task: u64) -> Queued {
    let v = s
        .find_type("struct task_struct")
        .map(|t| Value::at(t, task));
    let int = |m: &str| {
        v.as_ref()
            .ok()
            .and_then(|v| v.member_u64(s, m).ok())
            .unwrap_or(0) as u32
    };
    let comm = v
        .as_ref()
        .ok()
        .and_then(|v| v.member(s, "comm").ok()?.address())
        .and_then(|a| s.read_cstring(crate::addr::Kva(a), 16).ok())
        .unwrap_or_default();
    Queued {
        prio: int("prio"),
        pid: int("pid"),
        task,
        comm,
    }
}

/// The tasks in the CFS tree of `cfs_rq`, in order, descending into group runqueues.
fn cfs_tasks(
    s: &Session,
    o: &Offsets,
    cfs_rq: u64,
    depth: usize,
    acc: &mut Vec<u64>,
    warnings: &mut Vec<String>,
) {
    let Some(root) = cfs_rq.checked_add(o.timeline) else {
        return;
    };
    let w = match walk::rbtree(s, root, false, MAX_NODES) {
        Ok(w) => w,
        Err(e) => {
            warnings.push(format!("cfs_rq {cfs_rq:#x}: {e}"));
            return;
        }
    };
    warnings.extend(w.warnings);
    let se_ty = s.find_type("struct sched_entity");
    for node in w.items {
        let se = node.wrapping_sub(o.run_node);
        let my_q = se_ty
            .as_ref()
            .ok()
            .and_then(|&t| Value::at(t, se).member_u64(s, "my_q").ok())
            .unwrap_or(0);
        if my_q != 0 && depth < MAX_GROUP_DEPTH {
            cfs_tasks(s, o, my_q, depth + 1, acc, warnings);
        } else {
            acc.push(se.wrapping_sub(o.task_se));
        }
    }
}

/// Reads `cpu`'s runqueue.
pub fn cpu_runqueue(s: &Session, list: &TaskList, cpu: usize) -> Result<CpuRunq> {
    let o = Offsets::get(s)?;
    let rq = s
        .per_cpu_addr("runqueues", cpu)
        .ok_or_else(|| Error::Kernel("no runqueues symbol".into()))?;
    let mut warnings = Vec::new();
    let rt_array = crate::memory::field(rq, o.rt_active)?.0;
    let mut rt = Vec::new();
    for prio in 0..MAX_RT_PRIO {
        let head = rt_array
            .wrapping_add(o.rt_queue)
            .wrapping_add(prio * o.list_head);
        let w = walk::list(
            s,
            walk::ListStart::Head(head),
            &walk::ListOpts {
                bound: MAX_NODES,
                ..Default::default()
            },
        );
        warnings.extend(w.warnings);
        rt.extend(
            w.items
                .into_iter()
                .map(|node| queued(s, node.wrapping_sub(o.task_rt))),
        );
    }
    let cfs_rq = crate::memory::field(rq, o.cfs)?.0;
    let mut tasks = Vec::new();
    cfs_tasks(s, &o, cfs_rq, 0, &mut tasks, &mut warnings);
    Ok(CpuRunq {
        cpu,
        rq,
        current: list
            .current_on(cpu)
            .map(|t| (t.pid, t.addr, t.comm.clone())),
        rt_array,
        rt,
        cfs_root: cfs_rq.wrapping_add(o.timeline),
        cfs: tasks.into_iter().map(|t| queued(s, t)).collect(),
        warnings,
    })
}
