//! Tasks: walking every task and thread, decoding their state into crash's codes, the
//! current task of each CPU, memory use (`%MEM`, `VSZ`, `RSS`), run times, user memory
//! (argv/environment), and the backtrace of a task (ORC unwinding from the dump's registers
//! or from the task's saved switch frame).
//!
//! Member offsets are resolved once per vmlinux and cached ([`TaskOffsets::get`]); reads are
//! raw little-endian loads at those offsets. Must not import `commands` or `script`.

use crate::addr::{Kva, Pa};
use crate::arch::x86_64::orc::{OrcEntry, OrcLayout, OrcTable};
use crate::arch::x86_64::unwind::{self, OrcSource, PtRegs, UnwindStart};
use crate::arch::x86_64::CPU_ENTRY_AREA_BASE;
use crate::arch::Arch;
use crate::error::{Error, Result};
use crate::memory::{MemoryError, PhysReader, ReadExt};
use crate::session::Session;
use crate::stack::{ResolvedSymbol, StackKind, StackRegion, StackTrace, SymbolResolver};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// Most tasks a list walk visits before it stops (loop protection).
const MAX_TASKS: usize = 4_000_000;
/// `THREAD_SIZE` on x86_64 without KASAN (16 KiB).
pub const THREAD_SIZE: u64 = 16 * 1024;
/// `IRQ_STACK_SIZE` on x86_64 without KASAN.
pub const IRQ_STACK_SIZE: u64 = 16 * 1024;
/// `PF_KTHREAD`: the task is a kernel thread.
pub const PF_KTHREAD: u32 = 0x0020_0000;
/// `PF_IDLE`: the task is an idle task.
pub const PF_IDLE: u32 = 0x0000_0002;
const PAGE_SIZE: u64 = 4096;

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

fn cache<T: Send + Sync + 'static>(
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

fn vmlinux_key(s: &Session) -> String {
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

/// Memory use of one task, as `ps` shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TaskMem {
    /// Virtual size in KiB (`total_vm` pages).
    pub vsz_kb: u64,
    /// Resident set in KiB (file + anon + shmem pages).
    pub rss_kb: u64,
    /// RSS as a percentage of `totalram_pages`.
    pub pct: f64,
}

/// `totalram_pages` (`_totalram_pages` since 5.0, an `atomic_long_t`).
pub fn totalram_pages(s: &Session) -> Option<u64> {
    ["_totalram_pages", "totalram_pages"]
        .iter()
        .find_map(|n| s.symbol_addr(n))
        .and_then(|a| s.read_u64(Kva(a)).ok())
}

/// Memory use of every user task, keyed by task address. Pre-6.2 kernels keep per-thread RSS
/// deltas in `task->rss_stat` (SPLIT_RSS_COUNTING); they are added for each thread of the mm,
/// as crash does.
pub fn task_memory(s: &Session, list: &TaskList) -> HashMap<u64, TaskMem> {
    let mut out = HashMap::new();
    let Ok(o) = TaskOffsets::get(s) else {
        return out;
    };
    let total = totalram_pages(s).unwrap_or(0);
    // MM_FILEPAGES, MM_ANONPAGES, (MM_SWAPENTS), MM_SHMEMPAGES.
    let rss_counters = [0u64, 1, 3];
    let mut per_mm_delta: HashMap<u64, i64> = HashMap::new();
    if let Some(off) = o.task_rss_stat {
        for t in list.tasks.iter().filter(|t| t.mm != 0) {
            let d: i64 = rss_counters
                .iter()
                .filter_map(|i| s.read_u32(Kva(t.addr + off + i * 4)).ok())
                .map(|v| i64::from(v as i32))
                .sum();
            *per_mm_delta.entry(t.mm).or_default() += d;
        }
    }
    let mut per_mm: HashMap<u64, TaskMem> = HashMap::new();
    for t in &list.tasks {
        if t.mm == 0 || t.is_kthread() {
            continue;
        }
        let m = *per_mm.entry(t.mm).or_insert_with(|| {
            let vm = o
                .mm_total_vm
                .and_then(|off| s.read_u64(crate::memory::field(t.mm, off).ok()?).ok())
                .unwrap_or(0);
            let rss: i64 = if let Some(off) = o.mm_rss_stat {
                rss_counters
                    .iter()
                    .filter_map(|i| s.read_u64(Kva(t.mm.wrapping_add(off + i * 8))).ok())
                    .map(|v| v as i64)
                    .sum()
            } else if let Some(pc) = o.mm_rss_percpu {
                rss_counters
                    .iter()
                    .map(|i| percpu_counter_sum(s, t.mm.wrapping_add(pc[0] + i * pc[1]), pc))
                    .sum()
            } else {
                0
            } + per_mm_delta.get(&t.mm).copied().unwrap_or(0);
            let rss = rss.max(0) as u64;
            TaskMem {
                vsz_kb: vm * 4,
                rss_kb: rss * 4,
                pct: if total > 0 {
                    rss as f64 * 100.0 / total as f64
                } else {
                    0.0
                },
            }
        });
        out.insert(t.addr, m);
    }
    out
}

/// `percpu_counter_sum()` of the `struct percpu_counter` at `addr` (`pc`: the offsets of
/// [`TaskOffsets::mm_rss_percpu`]): the folded `count` plus every possible CPU's `s32` delta,
/// as drgn and crash read the 6.2+ mm counters. Unreadable parts count as 0.
fn percpu_counter_sum(s: &Session, addr: u64, pc: [u64; 4]) -> i64 {
    let count = s
        .read_u64(Kva(addr.wrapping_add(pc[2])))
        .map(|v| v as i64)
        .unwrap_or(0);
    let Ok(counters) = s.read_u64(Kva(addr.wrapping_add(pc[3]))) else {
        return count;
    };
    s.per_cpu_offsets()
        .iter()
        .filter_map(|off| s.read_u32(Kva(counters.wrapping_add(*off))).ok())
        .fold(count, |acc, v| acc.saturating_add(i64::from(v as i32)))
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

/// Why user memory of a task could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserMemError {
    /// A kernel thread has no user memory.
    NoMm,
    /// A page of it is not in the dump (filtered, e.g. `makedumpfile -d 31` drops user pages).
    NotInDump(MemoryError),
}

/// Reads `len` bytes of user memory at `va` through the task's page tables (`mm->pgd`).
pub fn read_user(
    s: &Session,
    mm: u64,
    va: u64,
    len: usize,
) -> std::result::Result<Vec<u8>, UserMemError> {
    let o = TaskOffsets::get(s).map_err(|_| UserMemError::NoMm)?;
    let pgd_off = o.mm_pgd.ok_or(UserMemError::NoMm)?;
    if mm == 0 {
        return Err(UserMemError::NoMm);
    }
    let pgd = s
        .read_u64(crate::memory::field(mm, pgd_off).map_err(UserMemError::NotInDump)?)
        .map_err(UserMemError::NotInDump)?;
    let root = s.translate(Kva(pgd)).map_err(UserMemError::NotInDump)?;
    let mut out = vec![0u8; len];
    let mut done = 0usize;
    while done < len {
        let at = va.wrapping_add(done as u64);
        let n = ((PAGE_SIZE - (at & (PAGE_SIZE - 1))) as usize).min(len - done);
        let pa = s
            .paging()
            .translate_with_root(s.dump() as &dyn PhysReader, root, at)
            .map_err(UserMemError::NotInDump)?;
        s.dump()
            .read_phys(Pa(pa.0), &mut out[done..done + n])
            .map_err(UserMemError::NotInDump)?;
        done += n;
    }
    Ok(out)
}

/// The argument and environment strings of a user task (`ps -a`).
pub fn task_args(
    s: &Session,
    task: &TaskInfo,
) -> std::result::Result<(Vec<String>, Vec<String>), UserMemError> {
    let o = TaskOffsets::get(s).map_err(|_| UserMemError::NoMm)?;
    let [a, b, c, d] = o.mm_args.ok_or(UserMemError::NoMm)?;
    if task.mm == 0 {
        return Err(UserMemError::NoMm);
    }
    let r = |off: u64| {
        crate::memory::field(task.mm, off)
            .and_then(|a| s.read_u64(a))
            .unwrap_or(0)
    };
    let split = |start: u64, end: u64| -> std::result::Result<Vec<String>, UserMemError> {
        let len = end.saturating_sub(start).min(128 * 1024) as usize;
        let bytes = read_user(s, task.mm, start, len)?;
        Ok(bytes
            .split(|&b| b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect())
    };
    Ok((split(r(a), r(b))?, split(r(c), r(d))?))
}

/// The kernel's release `major.minor` from `init_uts_ns` or VMCOREINFO.
pub fn kernel_version(s: &Session) -> Option<(u32, u32)> {
    let rel = crate::sysinfo::utsname(s).map(|u| u.release).or_else(|| {
        s.dump()
            .vmcoreinfo()
            .and_then(|v| v.get("OSRELEASE"))
            .map(str::to_string)
    })?;
    let mut it = rel.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// A kernel ORC table (link-time addresses) with its text range, shared per vmlinux.
type SharedOrc = Arc<(OrcTable, (u64, u64))>;
/// A cache of values keyed by vmlinux (or dump) identity.
type Cache<T> = OnceLock<Mutex<HashMap<String, T>>>;

/// Parses the kernel image's ORC table (link-time addresses) and its text range.
fn parse_kernel_orc(s: &Session) -> Result<(OrcTable, (u64, u64))> {
    // struct orc_entry's bitfields changed in 6.4 (see `OrcLayout`).
    let (major, minor) = kernel_version(s).unwrap_or((6, 1));
    let layout = OrcLayout::for_version(major, minor);
    let v = s.vmlinux();
    let ip_sec = v
        .section(".orc_unwind_ip")
        .ok_or_else(|| Error::Kernel("no .orc_unwind_ip section in the vmlinux".into()))?;
    let ips = v
        .section_data(".orc_unwind_ip")
        .ok_or_else(|| Error::Kernel("empty .orc_unwind_ip section".into()))?;
    let orcs = v
        .section_data(".orc_unwind")
        .ok_or_else(|| Error::Kernel("no .orc_unwind section in the vmlinux".into()))?;
    let table = OrcTable::parse(ip_sec.addr, ips, orcs, layout)
        .map_err(|e| Error::Kernel(e.to_string()))?;
    let sym = |n: &str| v.symbols().lookup(n).map(|x| x.addr);
    // Init text (freed after boot, but still on the idle task's stack) lies past _etext.
    let end = sym("_einittext").or_else(|| sym("_etext"));
    let text = match (sym("_stext"), end) {
        (Some(a), Some(b)) => (a, b),
        _ => table.range().map(|(a, b)| (a, b + 1)).unwrap_or((0, 0)),
    };
    Ok((table, text))
}

/// The ORC table of one loaded module, in runtime addresses.
#[derive(Debug, Clone)]
pub struct ModuleOrc {
    /// Module name.
    pub name: String,
    /// Text range `[start, end)`.
    pub text: (u64, u64),
    /// Its table.
    pub table: OrcTable,
}

/// Kernel ORC (link-time addresses, shared per vmlinux) with this dump's KASLR slide, plus
/// the ORC tables of the loaded modules (read from `mod->arch.orc_unwind*`).
#[derive(Debug, Clone)]
pub struct KernelOrcRef {
    table: SharedOrc,
    slide: u64,
    modules: Arc<Vec<ModuleOrc>>,
}

impl KernelOrcRef {
    /// The loaded modules' ORC tables.
    pub fn modules(&self) -> &[ModuleOrc] {
        &self.modules
    }
}

impl OrcSource for KernelOrcRef {
    fn orc_for(&self, ip: u64) -> Option<OrcEntry> {
        let link = ip.wrapping_sub(self.slide);
        let (lo, hi) = self.table.1;
        if link >= lo && link < hi {
            return self.table.0.lookup(link).copied();
        }
        self.modules
            .iter()
            .find(|m| ip >= m.text.0 && ip < m.text.1)
            .and_then(|m| m.table.lookup(ip).copied())
    }
}

/// Most modules walked (loop protection).
const MAX_MODULES: usize = 10_000;

/// Reads the ORC tables of every loaded module. Kernels before 6.4 describe module text
/// with `core_layout` (`base`, `text_size`); 6.4 replaced it with `mem[MOD_TEXT]`
/// (`base`, `size`). A module whose tables cannot be read is skipped (its frames fall back to
/// frame pointers).
pub fn module_orcs(s: &Session) -> Vec<ModuleOrc> {
    let mut out = Vec::new();
    let Some(head) = s.symbol_addr("modules") else {
        return out;
    };
    let off = |p: &str| s.offset_of("struct module", p).ok();
    let (Some(list), Some(name_off), Some(num), Some(ips), Some(orcs)) = (
        off("list"),
        off("name"),
        off("arch.num_orcs"),
        off("arch.orc_unwind_ip"),
        off("arch.orc_unwind"),
    ) else {
        return out;
    };
    let text = match (off("core_layout.base"), off("core_layout.text_size")) {
        (Some(b), Some(t)) => Some((b, t, 4u64)),
        _ => match (off("mem[0].base"), off("mem[0].size")) {
            (Some(b), Some(t)) => Some((b, t, 4u64)),
            _ => None,
        },
    };
    let Some((base_off, size_off, size_width)) = text else {
        return out;
    };
    let (major, minor) = kernel_version(s).unwrap_or((6, 1));
    let layout = OrcLayout::for_version(major, minor);
    let mut node = s.read_u64(Kva(head)).unwrap_or(head);
    let mut seen = HashSet::new();
    while node != head && node != 0 && out.len() < MAX_MODULES && seen.insert(node) {
        let m = node.wrapping_sub(list);
        let next = s.read_u64(Kva(node)).unwrap_or(head);
        let read = || -> Option<ModuleOrc> {
            let n = s.read_u32(crate::memory::field(m, num).ok()?).ok()? as usize;
            let ip_at = s.read_u64(crate::memory::field(m, ips).ok()?).ok()?;
            let orc_at = s.read_u64(crate::memory::field(m, orcs).ok()?).ok()?;
            let base = s.read_u64(crate::memory::field(m, base_off).ok()?).ok()?;
            let size = if size_width == 4 {
                u64::from(s.read_u32(crate::memory::field(m, size_off).ok()?).ok()?)
            } else {
                s.read_u64(crate::memory::field(m, size_off).ok()?).ok()?
            };
            if n == 0 || n > 1 << 22 {
                return None;
            }
            let ip_bytes = s.read_vec(Kva(ip_at), n.checked_mul(4)?).ok()?;
            let orc_bytes = s
                .read_vec(
                    Kva(orc_at),
                    n.checked_mul(crate::arch::x86_64::orc::ORC_ENTRY_SIZE)?,
                )
                .ok()?;
            let table = OrcTable::parse(ip_at, &ip_bytes, &orc_bytes, layout).ok()?;
            Some(ModuleOrc {
                name: s
                    .read_cstring(crate::memory::field(m, name_off).ok()?, 56)
                    .unwrap_or_default(),
                text: (base, base.checked_add(size)?),
                table,
            })
        };
        if let Some(mo) = read() {
            out.push(mo);
        }
        node = next;
    }
    out
}

/// Shared, cached kernel ORC for the session, with the modules' tables.
pub fn kernel_orc_ref(s: &Session) -> Result<KernelOrcRef> {
    static CACHE: Cache<SharedOrc> = OnceLock::new();
    static MODS: Cache<Arc<Vec<ModuleOrc>>> = OnceLock::new();
    let table = cache(&CACHE, vmlinux_key(s), || parse_kernel_orc(s))?;
    // Module tables depend on the dump (load addresses), not only on the vmlinux.
    let dump_key = format!("{}|{}", vmlinux_key(s), s.dump().path().display());
    let modules = cache(&MODS, dump_key, || Ok(module_orcs(s)))?;
    Ok(KernelOrcRef {
        table,
        slide: s.kaslr_offset(),
        modules,
    })
}

/// Resolves text addresses through the session's symbol table, then loaded modules' kallsyms.
pub struct KernelSymbols<'a>(pub &'a Session);

impl SymbolResolver for KernelSymbols<'_> {
    fn resolve(&self, addr: u64) -> Option<ResolvedSymbol> {
        // Module code: named from the module's kallsyms (`modules.rs`).
        let Some((sym, off)) = self.0.symbol_at(addr) else {
            return self.0.modules().ok()?.resolve_code(addr);
        };
        if sym.kind != crate::debuginfo::SymbolKind::Text {
            return None;
        }
        // Past the end of a sized function: not this function (module or stray address).
        if sym.size > 0 && off >= sym.size {
            return None;
        }
        Some(ResolvedSymbol {
            name: sym.name.clone(),
            start: addr.wrapping_sub(off),
            module: None,
        })
    }
}

/// The stacks a task's frames can lie on: its own stack, and the IRQ and exception stacks of
/// its CPU.
pub fn stack_regions(s: &Session, task: &TaskInfo) -> Vec<StackRegion> {
    let mut out = Vec::new();
    if let Ok(o) = TaskOffsets::get(s) {
        if let Ok(base) = crate::memory::field(task.addr, o.stack).and_then(|a| s.read_u64(a)) {
            out.push(StackRegion {
                kind: StackKind::Task,
                start: base,
                end: base.wrapping_add(THREAD_SIZE),
            });
        }
    }
    let cpu = task.cpu as usize;
    out.extend(cpu_stack_regions(s, cpu));
    out
}

/// The IRQ, exception (IST) and entry stacks of `cpu`.
pub fn cpu_stack_regions(s: &Session, cpu: usize) -> Vec<StackRegion> {
    let mut out = Vec::new();
    // 6.1 keeps the IRQ stack pointer in the per-CPU `hardirq_stack_ptr`; 6.2 moved it to
    // `pcpu_hot.hardirq_stack_ptr`. It points at the top word (stack + IRQ_STACK_SIZE - 8).
    let top = s
        .per_cpu_addr("hardirq_stack_ptr", cpu)
        .or_else(|| {
            let off = s.offset_of("struct pcpu_hot", "hardirq_stack_ptr").ok()?;
            Some(s.per_cpu_addr("pcpu_hot", cpu)? + off)
        })
        .and_then(|a| s.read_u64(Kva(a)).ok());
    if let Some(top) = top.filter(|&t| t != 0) {
        let end = top.wrapping_add(8);
        out.push(StackRegion {
            kind: StackKind::Irq,
            start: end.wrapping_sub(IRQ_STACK_SIZE),
            end,
        });
    }
    // Exception stacks: the per-CPU `cea_exception_stacks` points into the cpu_entry_area.
    if let Some(estacks) = s
        .per_cpu_addr("cea_exception_stacks", cpu)
        .and_then(|a| s.read_u64(Kva(a)).ok())
    {
        if let Ok(types) = s.types() {
            if let Ok(ty) = s.find_type("struct cea_exception_stacks") {
                for (name, member) in [
                    ("DF", "DF_stack"),
                    ("NMI", "NMI_stack"),
                    ("DB", "DB_stack"),
                    ("MCE", "MCE_stack"),
                    ("VC", "VC_stack"),
                    ("VC2", "VC2_stack"),
                ] {
                    let Ok(m) = types.member(ty, member) else {
                        continue;
                    };
                    let size = types.size_of(m.ty).unwrap_or(0);
                    if size == 0 {
                        continue;
                    }
                    let start = estacks.wrapping_add(m.offset);
                    out.push(StackRegion {
                        kind: StackKind::Exception(name),
                        start,
                        end: start.wrapping_add(size),
                    });
                }
            }
        }
    }
    // The entry (trampoline) stack: before 6.2 the cpu_entry_area of CPU n is at
    // CPU_ENTRY_AREA_BASE + PAGE_SIZE + n * sizeof(struct cpu_entry_area) (6.2 randomized it).
    if let (Ok(types), Ok(cea)) = (s.types(), s.find_type("struct cpu_entry_area")) {
        if let (Ok(size), Ok(m)) = (types.size_of(cea), types.member(cea, "entry_stack_page")) {
            let msize = types.size_of(m.ty).unwrap_or(PAGE_SIZE);
            let start = CPU_ENTRY_AREA_BASE
                .wrapping_add(PAGE_SIZE)
                .wrapping_add(size.wrapping_mul(cpu as u64))
                .wrapping_add(m.offset);
            out.push(StackRegion {
                kind: StackKind::Entry,
                start,
                end: start.wrapping_add(msize),
            });
        }
    }
    out
}

/// The CPU whose dump registers belong to `task`, if it was running at dump time.
pub fn task_cpu_regs(s: &Session, list: &TaskList, task: &TaskInfo) -> Option<PtRegs> {
    let cpu = list.current.iter().position(|&c| c == task.addr)?;
    let st = s.dump().cpus().iter().find(|c| c.cpu as usize == cpu)?;
    let r = &st.regs;
    Some(PtRegs {
        r15: r.r15,
        r14: r.r14,
        r13: r.r13,
        r12: r.r12,
        bp: r.rbp,
        bx: r.rbx,
        r11: r.r11,
        r10: r.r10,
        r9: r.r9,
        r8: r.r8,
        ax: r.rax,
        cx: r.rcx,
        dx: r.rdx,
        si: r.rsi,
        di: r.rdi,
        orig_ax: r.orig_rax,
        ip: r.rip,
        cs: r.cs,
        flags: r.eflags,
        sp: r.rsp,
        ss: r.ss,
    })
}

/// Where the unwind of `task` starts: the dump's registers of its CPU if it was running,
/// else its saved `inactive_task_frame` at `thread.sp`.
pub fn unwind_start(s: &Session, list: &TaskList, task: &TaskInfo) -> Result<UnwindStart> {
    if let Some(regs) = task_cpu_regs(s, list, task) {
        return Ok(UnwindStart {
            ip: regs.ip,
            sp: regs.sp,
            bp: regs.bp,
            regs: Some(regs),
            slot: regs.sp,
            signal: true,
        });
    }
    let o = TaskOffsets::get(s)?;
    let sp = s.read_u64(crate::memory::field(task.addr, o.thread_sp)?)?;
    let bp = s.read_u64(Kva(sp.wrapping_add(o.frame_bp)))?;
    let slot = sp.wrapping_add(o.frame_ret);
    let ip = s.read_u64(Kva(slot))?;
    // A task that never ran returns to ret_from_fork, which the kernel treats as a signal
    // frame (look up its own IP).
    let signal = s.symbol_addr("ret_from_fork") == Some(ip);
    Ok(UnwindStart {
        ip,
        sp: sp.wrapping_add(o.frame_size),
        bp,
        regs: None,
        slot,
        signal,
    })
}

/// The backtrace of `task`. Never fails once the start is known: a stopped unwind returns its
/// frames with warnings.
pub fn stack_trace(s: &Session, list: &TaskList, task: &TaskInfo) -> Result<StackTrace> {
    let orc = kernel_orc_ref(s)?;
    stack_trace_with(s, &orc, list, task)
}

/// [`stack_trace`] with an already loaded ORC table (for many tasks).
pub fn stack_trace_with(
    s: &Session,
    orc: &KernelOrcRef,
    list: &TaskList,
    task: &TaskInfo,
) -> Result<StackTrace> {
    let start = unwind_start(s, list, task)?;
    let regions = stack_regions(s, task);
    let region_of = |a: u64| regions.iter().position(|r| r.contains(a));
    let same = |a: u64, b: u64| region_of(a).is_some() && region_of(a) == region_of(b);
    let raw = unwind::unwind(s, orc, start, &same);
    Ok(StackTrace::from_unwound(raw, &KernelSymbols(s), &regions))
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
