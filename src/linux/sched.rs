//! Tasks: walking every task and thread, decoding their state into crash's codes, the
//! current task of each CPU, run times, and finding a task by PID, address or panic CPU.
//! Memory use is in `mm.rs`, backtraces in `stacktrace.rs`.
//!
//! Member offsets are resolved once per vmlinux and cached ([`TaskOffsets::get`]); reads are
//! raw little-endian loads at those offsets. Must not import `commands` or `script`.

use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::memory::{MemoryError, ReadExt};
use crate::session::Session;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// Most tasks a list walk visits before it stops (loop protection).
const MAX_TASKS: usize = 4_000_000;
/// `THREAD_SIZE` on x86_64 without KASAN (16 KiB).
pub const THREAD_SIZE: u64 = 16 * 1024;
/// `PF_KTHREAD`: the task is a kernel thread.
pub const PF_KTHREAD: u32 = 0x0020_0000;
/// `PF_IDLE`: the task is an idle task.
pub const PF_IDLE: u32 = 0x0000_0002;

// Task state bits (include/linux/sched.h). These values hold since 4.14 (TASK_PARKED moved to
// 0x40 and TASK_DEAD to 0x80 then); 5.14 renamed `state` to `__state` (handled in the
// offsets), 5.15 added TASK_RTLOCK_WAIT, 6.1 added TASK_FREEZABLE/TASK_FROZEN (ignored here).
/// `TASK_RUNNING`.
pub const TASK_RUNNING: u32 = 0x0000;
/// `TASK_INTERRUPTIBLE`.
pub const TASK_INTERRUPTIBLE: u32 = 0x0001;
/// `TASK_UNINTERRUPTIBLE`.
pub const TASK_UNINTERRUPTIBLE: u32 = 0x0002;
/// `__TASK_STOPPED`.
pub const TASK_STOPPED: u32 = 0x0004;
/// `__TASK_TRACED`.
pub const TASK_TRACED: u32 = 0x0008;
/// `EXIT_DEAD` (in `exit_state`).
pub const EXIT_DEAD: u32 = 0x0010;
/// `EXIT_ZOMBIE` (in `exit_state`).
pub const EXIT_ZOMBIE: u32 = 0x0020;
/// `TASK_PARKED`.
pub const TASK_PARKED: u32 = 0x0040;
/// `TASK_DEAD`.
pub const TASK_DEAD: u32 = 0x0080;
/// `TASK_WAKEKILL` (with UNINTERRUPTIBLE: `TASK_KILLABLE`).
pub const TASK_WAKEKILL: u32 = 0x0100;
/// `TASK_WAKING`.
pub const TASK_WAKING: u32 = 0x0200;
/// `TASK_NOLOAD` (with UNINTERRUPTIBLE: `TASK_IDLE`).
pub const TASK_NOLOAD: u32 = 0x0400;
/// `TASK_NEW`.
pub const TASK_NEW: u32 = 0x0800;
/// `TASK_RTLOCK_WAIT` (5.15+): a PREEMPT_RT task sleeping on a spinlock_t/rwlock_t; the kernel
/// reports it as uninterruptible (`__task_state_index`), and so does `decode`.
pub const TASK_RTLOCK_WAIT: u32 = 0x1000;

/// A task state as crash prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskState {
    /// `RU`: running or runnable.
    Running,
    /// `IN`: interruptible sleep.
    Interruptible,
    /// `UN`: uninterruptible sleep (also `TASK_KILLABLE`).
    Uninterruptible,
    /// `ID`: `TASK_IDLE` (uninterruptible, not counted in the load).
    Idle,
    /// `ZO`: zombie.
    Zombie,
    /// `ST`: stopped.
    Stopped,
    /// `TR`: traced.
    Traced,
    /// `DE`: dead.
    Dead,
    /// `WA`: waking.
    Waking,
    /// `PA`: parked.
    Parked,
    /// `NE`: new.
    New,
    /// `??`: bits we do not know.
    Unknown,
}

impl TaskState {
    /// Decodes `__state` (or `state`) and `exit_state`.
    pub fn decode(state: u32, exit_state: u32) -> Self {
        if exit_state & EXIT_ZOMBIE != 0 {
            return TaskState::Zombie;
        }
        if exit_state & EXIT_DEAD != 0 || state & TASK_DEAD != 0 {
            return TaskState::Dead;
        }
        if state == TASK_RUNNING {
            return TaskState::Running;
        }
        if state & (TASK_UNINTERRUPTIBLE | TASK_NOLOAD) == TASK_UNINTERRUPTIBLE | TASK_NOLOAD {
            return TaskState::Idle;
        }
        if state & (TASK_UNINTERRUPTIBLE | TASK_RTLOCK_WAIT) != 0 {
            return TaskState::Uninterruptible;
        }
        if state & TASK_INTERRUPTIBLE != 0 {
            return TaskState::Interruptible;
        }
        if state & TASK_STOPPED != 0 {
            return TaskState::Stopped;
        }
        if state & TASK_TRACED != 0 {
            return TaskState::Traced;
        }
        if state & TASK_PARKED != 0 {
            return TaskState::Parked;
        }
        if state & TASK_WAKING != 0 {
            return TaskState::Waking;
        }
        if state & TASK_NEW != 0 {
            return TaskState::New;
        }
        TaskState::Unknown
    }

    /// crash's two-letter code.
    pub fn code(self) -> &'static str {
        match self {
            TaskState::Running => "RU",
            TaskState::Interruptible => "IN",
            TaskState::Uninterruptible => "UN",
            TaskState::Idle => "ID",
            TaskState::Zombie => "ZO",
            TaskState::Stopped => "ST",
            TaskState::Traced => "TR",
            TaskState::Dead => "DE",
            TaskState::Waking => "WA",
            TaskState::Parked => "PA",
            TaskState::New => "NE",
            TaskState::Unknown => "??",
        }
    }

    /// Parses a crash code (`RU`, `UN`, …), case-insensitive.
    pub fn from_code(code: &str) -> Option<Self> {
        let all = [
            TaskState::Running,
            TaskState::Interruptible,
            TaskState::Uninterruptible,
            TaskState::Idle,
            TaskState::Zombie,
            TaskState::Stopped,
            TaskState::Traced,
            TaskState::Dead,
            TaskState::Waking,
            TaskState::Parked,
            TaskState::New,
        ];
        all.into_iter()
            .find(|s| s.code().eq_ignore_ascii_case(code))
    }

    /// The state letter of `/proc/PID/stat` that corresponds.
    pub fn proc_letter(self) -> char {
        match self {
            TaskState::Running | TaskState::Waking | TaskState::New => 'R',
            TaskState::Interruptible => 'S',
            TaskState::Uninterruptible => 'D',
            TaskState::Idle => 'I',
            TaskState::Zombie => 'Z',
            TaskState::Stopped => 'T',
            TaskState::Traced => 't',
            TaskState::Dead => 'X',
            TaskState::Parked => 'P',
            TaskState::Unknown => '?',
        }
    }
}

/// Offsets of the members the task code reads, resolved once per vmlinux.
#[derive(Debug, Clone, Default)]
pub struct TaskOffsets {
    /// `task_struct.tasks`.
    pub tasks: u64,
    /// `task_struct.signal`.
    pub signal: u64,
    /// `task_struct.thread_node`.
    pub thread_node: u64,
    /// `signal_struct.thread_head`.
    pub thread_head: u64,
    /// `task_struct.pid`.
    pub pid: u64,
    /// `task_struct.tgid`.
    pub tgid: u64,
    /// `task_struct.real_parent`.
    pub real_parent: u64,
    /// `task_struct.group_leader`.
    pub group_leader: u64,
    /// `task_struct.comm`.
    pub comm: u64,
    /// `task_struct.__state` (5.14+) or `state` (before; a `long`, the low 32 bits suffice).
    pub state: u64,
    /// `task_struct.exit_state`.
    pub exit_state: u64,
    /// `task_struct.flags`.
    pub flags: u64,
    /// `task_struct.cpu` (5.16+) or `thread_info.cpu`.
    pub cpu: Option<u64>,
    /// `task_struct.mm`.
    pub mm: u64,
    /// `task_struct.stack`.
    pub stack: u64,
    /// `task_struct.thread.sp`.
    pub thread_sp: u64,
    /// `task_struct.sched_info.last_arrival`.
    pub last_arrival: Option<u64>,
    /// `task_struct.se.sum_exec_runtime`.
    pub sum_exec_runtime: Option<u64>,
    /// `task_struct.utime`, `stime`, `start_time`.
    pub utime: Option<u64>,
    /// `task_struct.stime`.
    pub stime: Option<u64>,
    /// `task_struct.start_time` (ns since boot).
    pub start_time: Option<u64>,
    /// `task_struct.rss_stat.count` (per-thread RSS deltas, `SPLIT_RSS_COUNTING`, before 6.2).
    pub task_rss_stat: Option<u64>,
    /// `mm_struct.total_vm`.
    pub mm_total_vm: Option<u64>,
    /// `mm_struct.rss_stat.count` (before 6.2: `atomic_long_t[]`).
    pub mm_rss_stat: Option<u64>,
    /// Since 6.2, `mm_struct.rss_stat` is `struct percpu_counter[]`: the array's offset, the
    /// element size, and the offsets of `count` (s64) and `counters` (`s32 __percpu *`).
    pub mm_rss_percpu: Option<[u64; 4]>,
    /// `mm_struct.pgd`.
    pub mm_pgd: Option<u64>,
    /// `mm_struct.arg_start`, `arg_end`, `env_start`, `env_end`.
    pub mm_args: Option<[u64; 4]>,
    /// `inactive_task_frame.bp`.
    pub frame_bp: u64,
    /// `inactive_task_frame.ret_addr`.
    pub frame_ret: u64,
    /// `sizeof(struct inactive_task_frame)`.
    pub frame_size: u64,
    /// `rq.curr`.
    pub rq_curr: u64,
    /// `rq.idle`.
    pub rq_idle: u64,
    /// `rq.clock`.
    pub rq_clock: Option<u64>,
    /// `rq.cfs_tasks` (list of `task_struct.se.group_node`).
    pub rq_cfs_tasks: Option<u64>,
    /// `task_struct.se.group_node`.
    pub se_group_node: Option<u64>,
    /// `rq.rt.active` (`struct rt_prio_array`).
    pub rq_rt_active: Option<u64>,
    /// `rq.cfs` and `rq.rt`.
    pub rq_cfs: Option<u64>,
    /// `rq.rt`.
    pub rq_rt: Option<u64>,
    /// `task_struct.rt.run_list`.
    pub rt_run_list: Option<u64>,
    /// `task_struct.prio`.
    pub prio: Option<u64>,
}

pub(crate) fn cache<T: Send + Sync + 'static>(
    slot: &'static OnceLock<Mutex<HashMap<String, Arc<T>>>>,
    key: String,
    make: impl FnOnce() -> Result<T>,
) -> Result<Arc<T>> {
    let map = slot.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = map.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(v);
    }
    let v = Arc::new(make()?);
    if let Ok(mut m) = map.lock() {
        m.insert(key, v.clone());
    }
    Ok(v)
}

pub(crate) fn vmlinux_key(s: &Session) -> String {
    s.vmlinux()
        .build_id_hex()
        .unwrap_or_else(|| s.vmlinux().path().display().to_string())
}

impl TaskOffsets {
    /// The offsets for the session's vmlinux (resolved on first use, then cached).
    pub fn get(s: &Session) -> Result<Arc<Self>> {
        static CACHE: OnceLock<Mutex<HashMap<String, Arc<TaskOffsets>>>> = OnceLock::new();
        cache(&CACHE, vmlinux_key(s), || Self::resolve(s))
    }

    fn resolve(s: &Session) -> Result<Self> {
        let types = s.types()?;
        let task = s.find_type("struct task_struct")?;
        let t = |p: &str| s.offset_in(task, p);
        let opt = |ty: &str, p: &str| s.offset_of(ty, p).ok();
        let frame = s.find_type("struct inactive_task_frame")?;
        // 5.14 renamed task_struct.state to __state (and made it unsigned int).
        let state = t("__state").or_else(|_| t("state"))?;
        let mm_args = match (
            opt("struct mm_struct", "arg_start"),
            opt("struct mm_struct", "arg_end"),
            opt("struct mm_struct", "env_start"),
            opt("struct mm_struct", "env_end"),
        ) {
            (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
            _ => None,
        };
        Ok(Self {
            tasks: t("tasks")?,
            signal: t("signal")?,
            thread_node: t("thread_node")?,
            thread_head: s.offset_of("struct signal_struct", "thread_head")?,
            pid: t("pid")?,
            tgid: t("tgid")?,
            real_parent: t("real_parent")?,
            group_leader: t("group_leader")?,
            comm: t("comm")?,
            state,
            exit_state: t("exit_state")?,
            flags: t("flags")?,
            // 5.16 moved cpu from thread_info into task_struct again.
            cpu: t("cpu").or_else(|_| t("thread_info.cpu")).ok(),
            mm: t("mm")?,
            stack: t("stack")?,
            thread_sp: t("thread.sp")?,
            last_arrival: t("sched_info.last_arrival").ok(),
            sum_exec_runtime: t("se.sum_exec_runtime").ok(),
            utime: t("utime").ok(),
            stime: t("stime").ok(),
            start_time: t("start_time").ok(),
            // 6.2 dropped SPLIT_RSS_COUNTING (task->rss_stat) and made mm->rss_stat an array
            // of percpu_counter (read through `mm_rss_percpu`); before, atomic_long_t counters.
            task_rss_stat: t("rss_stat.count").ok(),
            mm_total_vm: opt("struct mm_struct", "total_vm"),
            mm_rss_stat: opt("struct mm_struct", "rss_stat.count"),
            mm_rss_percpu: (|| {
                let pc = s.find_type("struct percpu_counter").ok()?;
                Some([
                    opt("struct mm_struct", "rss_stat")?,
                    types.size_of(pc).ok()?,
                    s.offset_in(pc, "count").ok()?,
                    s.offset_in(pc, "counters").ok()?,
                ])
            })()
            .filter(|_| opt("struct mm_struct", "rss_stat.count").is_none()),
            mm_pgd: opt("struct mm_struct", "pgd"),
            mm_args,
            frame_bp: s.offset_in(frame, "bp")?,
            frame_ret: s.offset_in(frame, "ret_addr")?,
            frame_size: types.size_of(frame)?,
            rq_curr: s.offset_of("struct rq", "curr")?,
            rq_idle: s.offset_of("struct rq", "idle")?,
            rq_clock: opt("struct rq", "clock"),
            rq_cfs_tasks: opt("struct rq", "cfs_tasks"),
            se_group_node: t("se.group_node").ok(),
            rq_rt_active: opt("struct rq", "rt.active"),
            rq_cfs: opt("struct rq", "cfs"),
            rq_rt: opt("struct rq", "rt"),
            rt_run_list: t("rt.run_list").ok(),
            prio: t("prio").ok(),
        })
    }
}

/// What the task commands show about one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// Address of the `task_struct`.
    pub addr: u64,
    /// Thread id (`pid`).
    pub pid: u32,
    /// Thread-group id (`tgid`).
    pub tgid: u32,
    /// Parent's pid (`real_parent->pid`).
    pub ppid: u32,
    /// Parent's `task_struct`.
    pub parent: u64,
    /// Thread-group leader's `task_struct`.
    pub group_leader: u64,
    /// Command name.
    pub comm: String,
    /// Decoded state.
    pub state: TaskState,
    /// Raw `__state`.
    pub raw_state: u32,
    /// Raw `exit_state`.
    pub exit_state: u32,
    /// `flags` (`PF_*`).
    pub flags: u32,
    /// CPU the task last ran on.
    pub cpu: u32,
    /// `mm` (0 for kernel threads).
    pub mm: u64,
    /// `sched_info.last_arrival` (ns of the CPU's runqueue clock).
    pub last_arrival: u64,
    /// Whether the task is the current task of its CPU (`rq->curr`).
    pub active: bool,
}

impl TaskInfo {
    /// Whether this is a kernel thread (`PF_KTHREAD` or no `mm`).
    pub fn is_kthread(&self) -> bool {
        self.flags & PF_KTHREAD != 0 || self.mm == 0
    }
    /// Whether this is a thread-group leader.
    pub fn is_leader(&self) -> bool {
        self.pid == self.tgid
    }
}

/// Every task, plus the per-CPU facts the commands need.
#[derive(Debug, Clone, Default)]
pub struct TaskList {
    /// Tasks in crash's order: idle tasks first (by CPU), then by the task list walk.
    pub tasks: Vec<TaskInfo>,
    /// `rq->curr` of each CPU (index = CPU).
    pub current: Vec<u64>,
    /// `rq->clock` of each CPU.
    pub rq_clock: Vec<u64>,
    /// Problems met during the walk.
    pub warnings: Vec<String>,
}

impl TaskList {
    /// The task at `addr`.
    pub fn by_addr(&self, addr: u64) -> Option<&TaskInfo> {
        self.tasks.iter().find(|t| t.addr == addr)
    }
    /// Tasks with thread id `pid` (several for pid 0: one idle task per CPU).
    pub fn by_pid(&self, pid: u32) -> impl Iterator<Item = &TaskInfo> {
        self.tasks.iter().filter(move |t| t.pid == pid)
    }
    /// The task running on `cpu`.
    pub fn current_on(&self, cpu: usize) -> Option<&TaskInfo> {
        self.by_addr(*self.current.get(cpu)?)
    }
}

/// Addresses of every task: each thread of each thread group on `init_task.tasks`
/// (`signal->thread_head` with `thread_node`), plus the idle task of each other CPU
/// (`rq->idle`; they are not on the list). A broken list yields what was read.
pub fn task_addresses(s: &Session) -> Result<Vec<u64>> {
    let o = TaskOffsets::get(s)?;
    let init = s
        .symbol_addr("init_task")
        .ok_or_else(|| Error::Kernel("no init_task symbol".into()))?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut leader = init;
    loop {
        if !seen.insert(leader) || out.len() > MAX_TASKS {
            break;
        }
        let mut group = Vec::new();
        if let Ok(signal) = s.read_u64(Kva(leader.wrapping_add(o.signal))) {
            let head = signal.wrapping_add(o.thread_head);
            let mut node = s.read_u64(Kva(head)).unwrap_or(head);
            let mut in_group = HashSet::new();
            while node != head && group.len() < MAX_TASKS {
                let t = node.wrapping_sub(o.thread_node);
                if !in_group.insert(t) {
                    break;
                }
                group.push(t);
                match s.read_u64(Kva(node)) {
                    Ok(n) => node = n,
                    Err(_) => break,
                }
            }
        }
        if !group.contains(&leader) {
            group.insert(0, leader);
        }
        for t in group {
            if t == leader || !seen.contains(&t) {
                out.push(t);
            }
        }
        match s.read_u64(Kva(leader.wrapping_add(o.tasks))) {
            Ok(next) => {
                let t = next.wrapping_sub(o.tasks);
                if t == init {
                    break;
                }
                leader = t;
            }
            Err(_) => break,
        }
    }
    for cpu in 0..s.per_cpu_offsets().len() {
        if let Some(rq) = s.per_cpu_addr("runqueues", cpu) {
            if let Ok(idle) = s.read_u64(Kva(rq.wrapping_add(o.rq_idle))) {
                if idle != 0 && !out.contains(&idle) {
                    out.push(idle);
                }
            }
        }
    }
    Ok(out)
}

fn read_u32_at(s: &Session, addr: u64, off: u64) -> Result<u32, MemoryError> {
    s.read_u32(Kva(addr.wrapping_add(off)))
}
fn read_u64_at(s: &Session, addr: u64, off: u64) -> Result<u64, MemoryError> {
    s.read_u64(Kva(addr.wrapping_add(off)))
}

/// Reads one task.
pub fn read_task(s: &Session, o: &TaskOffsets, addr: u64) -> Result<TaskInfo> {
    let parent = read_u64_at(s, addr, o.real_parent)?;
    let pid = read_u32_at(s, addr, o.pid)?;
    // Idle tasks (pid 0) point at init_task or themselves; crash shows their parent as 0.
    let ppid = if pid == 0 || parent == 0 || parent == addr {
        0
    } else {
        read_u32_at(s, parent, o.pid).unwrap_or(0)
    };
    let raw_state = read_u32_at(s, addr, o.state)?;
    let exit_state = read_u32_at(s, addr, o.exit_state)?;
    let mut comm = [0u8; 16];
    s.read_virt_into(addr.wrapping_add(o.comm), &mut comm)?;
    let end = comm.iter().position(|&b| b == 0).unwrap_or(16);
    Ok(TaskInfo {
        addr,
        pid,
        tgid: read_u32_at(s, addr, o.tgid)?,
        ppid,
        parent,
        group_leader: read_u64_at(s, addr, o.group_leader).unwrap_or(addr),
        comm: String::from_utf8_lossy(&comm[..end]).into_owned(),
        state: TaskState::decode(raw_state, exit_state),
        raw_state,
        exit_state,
        flags: read_u32_at(s, addr, o.flags)?,
        cpu: o
            .cpu
            .and_then(|off| read_u32_at(s, addr, off).ok())
            .unwrap_or(0),
        mm: read_u64_at(s, addr, o.mm)?,
        last_arrival: o
            .last_arrival
            .and_then(|off| read_u64_at(s, addr, off).ok())
            .unwrap_or(0),
        active: false,
    })
}

trait ReadInto {
    fn read_virt_into(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemoryError>;
}
impl ReadInto for Session {
    fn read_virt_into(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        crate::memory::MemoryReader::read_virt(self, Kva(addr), buf)
    }
}

/// Every task with its facts, idle tasks first as crash lists them.
pub fn task_list(s: &Session) -> Result<TaskList> {
    let o = TaskOffsets::get(s)?;
    let addrs = task_addresses(s)?;
    let ncpus = s.per_cpu_offsets().len();
    let mut current = Vec::with_capacity(ncpus);
    let mut rq_clock = Vec::with_capacity(ncpus);
    for cpu in 0..ncpus {
        let rq = s.per_cpu_addr("runqueues", cpu);
        current.push(
            rq.and_then(|rq| read_u64_at(s, rq, o.rq_curr).ok())
                .unwrap_or(0),
        );
        rq_clock.push(
            rq.zip(o.rq_clock)
                .and_then(|(rq, off)| read_u64_at(s, rq, off).ok())
                .unwrap_or(0),
        );
    }
    let mut tasks = Vec::with_capacity(addrs.len());
    let mut warnings = Vec::new();
    for a in addrs {
        match read_task(s, &o, a) {
            Ok(mut t) => {
                t.active = current.contains(&t.addr);
                tasks.push(t);
            }
            Err(e) => warnings.push(format!("task {a:x}: {e}")),
        }
    }
    // crash lists the idle tasks (pid 0) first, by CPU, then the rest by pid.
    tasks.sort_by_key(|t| (t.pid != 0, t.pid, t.cpu));
    Ok(TaskList {
        tasks,
        current,
        rq_clock,
        warnings,
    })
}

/// Run-time facts of a task (`ps -t`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskTimes {
    /// `start_time`, ns since boot.
    pub start_time: u64,
    /// `utime`, ns.
    pub utime: u64,
    /// `stime`, ns.
    pub stime: u64,
    /// `se.sum_exec_runtime`, ns.
    pub sum_exec_runtime: u64,
}

/// Reads a task's times.
pub fn task_times(s: &Session, addr: u64) -> Result<TaskTimes> {
    let o = TaskOffsets::get(s)?;
    let r = |off: Option<u64>| {
        off.and_then(|off| s.read_u64(crate::memory::field(addr, off).ok()?).ok())
            .unwrap_or(0)
    };
    Ok(TaskTimes {
        start_time: r(o.start_time),
        utime: r(o.utime),
        stime: r(o.stime),
        sum_exec_runtime: r(o.sum_exec_runtime),
    })
}

/// Resolves a `bt`/`ps` argument: a decimal PID or a task address.
pub fn find_task<'a>(list: &'a TaskList, word: &str) -> Option<&'a TaskInfo> {
    if let Ok(pid) = word.parse::<u32>() {
        if let Some(t) = list.by_pid(pid).next() {
            return Some(t);
        }
    }
    let hex = word.trim_start_matches("0x");
    u64::from_str_radix(hex, 16)
        .ok()
        .and_then(|a| list.by_addr(a))
}

/// The panic task: the current task of the CPU named by `crashing_cpu`/`panic_cpu`.
pub fn panic_task<'a>(s: &Session, list: &'a TaskList) -> Option<&'a TaskInfo> {
    let cpu = ["panic_cpu", "crashing_cpu"]
        .iter()
        .filter_map(|n| s.symbol_addr(n))
        .filter_map(|a| s.read_u32(Kva(a)).ok())
        .find(|&c| (c as usize) < list.current.len())?;
    list.current_on(cpu as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_states() {
        assert_eq!(TaskState::decode(0, 0).code(), "RU");
        assert_eq!(TaskState::decode(1, 0).code(), "IN");
        assert_eq!(TaskState::decode(2, 0).code(), "UN");
        // TASK_KILLABLE = UN | WAKEKILL.
        assert_eq!(TaskState::decode(0x102, 0).code(), "UN");
        // TASK_IDLE = UN | NOLOAD.
        assert_eq!(TaskState::decode(0x402, 0).code(), "ID");
        // TASK_RTLOCK_WAIT (PREEMPT_RT spinlock waiter) counts as UN, as in /proc.
        assert_eq!(TaskState::decode(TASK_RTLOCK_WAIT, 0).code(), "UN");
        assert_eq!(TaskState::decode(0, EXIT_ZOMBIE).code(), "ZO");
        assert_eq!(TaskState::decode(TASK_DEAD, EXIT_DEAD).code(), "DE");
        assert_eq!(TaskState::decode(4, 0).code(), "ST");
        assert_eq!(TaskState::decode(8, 0).code(), "TR");
        assert_eq!(TaskState::decode(0x40, 0).code(), "PA");
        assert_eq!(TaskState::decode(0x200, 0).code(), "WA");
        // 6.1's TASK_FREEZABLE does not change what is shown.
        assert_eq!(TaskState::decode(0x2001, 0).code(), "IN");
        // TASK_IDLE | TASK_FREEZABLE (6.12's NFSv4 callback thread): /proc shows I.
        assert_eq!(TaskState::decode(0x2402, 0).code(), "ID");
        assert_eq!(TaskState::decode(0x2402, 0).proc_letter(), 'I');
        assert_eq!(TaskState::from_code("un"), Some(TaskState::Uninterruptible));
        assert_eq!(TaskState::Idle.proc_letter(), 'I');
    }
}
