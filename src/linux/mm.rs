//! Memory of tasks: `VSZ`, `RSS` and `%MEM` as `ps` shows them (the mm's counters, per-CPU
//! since 6.2), and user memory read through a task's own page tables (argv, environment).

use super::sched::{TaskInfo, TaskList, TaskOffsets};
use crate::addr::{Kva, Pa};
use crate::arch::Arch;
use crate::memory::{MemoryError, PhysReader, ReadExt};
use crate::session::Session;
use std::collections::HashMap;

const PAGE_SIZE: u64 = 4096;

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
