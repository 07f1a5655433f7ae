//! `kmem -i`: crash's memory summary (TOTAL MEM, FREE, USED, SHARED, BUFFERS, CACHED, SLAB,
//! huge pages, swap, commit limit and committed), from `totalram_pages`, `vm_zone_stat`,
//! `vm_node_stat`, `hstates`, `total_swap_pages`, `nr_swap_pages` and `vm_committed_as`.

use super::{Command, Data, Opts};
use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::memory::ReadExt;
use crate::session::Session;
use std::io::Write;

/// The `kmem` command (only `-i` so far).
pub struct Kmem;

const USAGE: &str = "\
kmem -i
  -i   the memory summary: pages, bytes and percentage of total RAM that are free, used, shared,
       buffers, page cache, slab; huge pages; swap; the overcommit limit and what is committed";

/// The figures of `kmem -i`, in pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemInfo {
    /// Page size in bytes.
    pub page_size: u64,
    /// `totalram_pages`.
    pub total: u64,
    /// `vm_zone_stat[NR_FREE_PAGES]`.
    pub free: u64,
    /// `vm_node_stat[NR_SHMEM]`.
    pub shared: u64,
    /// Pages of block-device inodes' page cache (`nr_blockdev_pages()`).
    pub buffers: u64,
    /// `NR_FILE_PAGES - swap cache - buffers`, as `/proc/meminfo` `Cached`.
    pub cached: u64,
    /// `NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B` (kept in pages by `vm_node_stat`).
    pub slab: u64,
    /// Huge pages of the default size, in base pages.
    pub huge_total: u64,
    /// Free huge pages, in base pages.
    pub huge_free: u64,
    /// `total_swap_pages`.
    pub swap_total: u64,
    /// `nr_swap_pages` (free swap).
    pub swap_free: u64,
    /// `vm_commit_limit()`.
    pub commit_limit: u64,
    /// `vm_committed_as`: its global count plus the per-CPU deltas
    /// (`percpu_counter_sum_positive`, as `/proc/meminfo` `Committed_AS`).
    pub committed: u64,
    /// Figures that could not be read.
    pub warnings: Vec<String>,
}

fn read_long(s: &Session, name: &str) -> Result<i64> {
    let (a, _) = s.global(name)?;
    Ok(s.read_u64(Kva(a))? as i64)
}

fn stat_item(s: &Session, array: &str, item: &str) -> Result<u64> {
    let (base, _) = s.global(array)?;
    let (_, idx) = s
        .types()?
        .enumerator(item)
        .ok_or_else(|| Error::Kernel(format!("no enumerator {item}")))?;
    let v = s.read_u64(Kva(base + 8 * idx as u64))? as i64;
    // The global counters lag the per-CPU deltas and may dip below zero; /proc/meminfo
    // clamps them to 0 and so does this.
    Ok(v.max(0) as u64)
}

/// Reads the `kmem -i` figures; unreadable ones are 0 with a warning.
pub fn meminfo(s: &Session) -> MemInfo {
    let mut w = Vec::new();
    let mut get = |what: &str, r: Result<u64>| match r {
        Ok(v) => v,
        Err(e) => {
            w.push(format!("{what}: {e}"));
            0
        }
    };
    let total = get(
        "totalram_pages",
        crate::linux::mm::totalram_pages(s).ok_or_else(|| Error::Kernel("unreadable".into())),
    );
    let free = get(
        "NR_FREE_PAGES",
        stat_item(s, "vm_zone_stat", "NR_FREE_PAGES"),
    );
    let shared = get("NR_SHMEM", stat_item(s, "vm_node_stat", "NR_SHMEM"));
    let file = get(
        "NR_FILE_PAGES",
        stat_item(s, "vm_node_stat", "NR_FILE_PAGES"),
    );
    let swapcache = stat_item(s, "vm_node_stat", "NR_SWAPCACHE").unwrap_or(0);
    let buffers = get("buffers", blockdev_pages(s));
    let slab_r = get(
        "NR_SLAB_RECLAIMABLE_B",
        stat_item(s, "vm_node_stat", "NR_SLAB_RECLAIMABLE_B"),
    );
    let slab_u = get(
        "NR_SLAB_UNRECLAIMABLE_B",
        stat_item(s, "vm_node_stat", "NR_SLAB_UNRECLAIMABLE_B"),
    );
    let (huge_total, huge_free) = huge_pages(s).unwrap_or((0, 0));
    let swap_total = read_long(s, "total_swap_pages").unwrap_or(0).max(0) as u64;
    let swap_free = read_long(s, "nr_swap_pages").unwrap_or(0).max(0) as u64;
    let committed = get("vm_committed_as", percpu_counter_sum(s, "vm_committed_as"));
    // mm/util.c vm_commit_limit(): overcommit_kbytes if set, else
    // (totalram - hugetlb) * overcommit_ratio / 100, plus total swap.
    let kbytes = read_long(s, "sysctl_overcommit_kbytes").unwrap_or(0).max(0) as u64;
    let ratio = read_long(s, "sysctl_overcommit_ratio")
        .map(|r| r & 0xffff_ffff)
        .unwrap_or(50)
        .max(0) as u64;
    let page_size = 4096;
    let commit_limit = if kbytes != 0 {
        kbytes / (page_size / 1024)
    } else {
        total.saturating_sub(huge_total) * ratio / 100
    } + swap_total;
    MemInfo {
        page_size,
        total,
        free,
        shared,
        buffers,
        cached: file.saturating_sub(swapcache).saturating_sub(buffers),
        slab: slab_r + slab_u,
        huge_total,
        huge_free,
        swap_total,
        swap_free,
        commit_limit,
        committed,
        warnings: w,
    }
}

/// `percpu_counter_sum_positive()` of the global `percpu_counter` called `name`.
fn percpu_counter_sum(s: &Session, name: &str) -> Result<u64> {
    let (a, _) = s.global(name)?;
    let count = s.read_u64(Kva(a + s.offset_of("struct percpu_counter", "count")?))? as i64;
    let counters = s.read_u64(Kva(a + s.offset_of("struct percpu_counter", "counters")?))?;
    let mut sum = count;
    for off in s.per_cpu_offsets() {
        if let Ok(v) = s.read_u32(Kva(counters.wrapping_add(*off))) {
            sum += i64::from(v as i32);
        }
    }
    Ok(sum.max(0) as u64)
}

/// `nr_blockdev_pages()`: page-cache pages of all block-device inodes (the `BUFFERS` line).
/// Walks `blockdev_superblock->s_inodes`.
fn blockdev_pages(s: &Session) -> Result<u64> {
    use crate::value::{walk, Value};
    let (a, _) = s.global("blockdev_superblock")?;
    let sb = s.read_u64(Kva(a))?;
    if sb == 0 {
        return Ok(0);
    }
    let sbt = s.find_type("struct super_block")?;
    let it = s.find_type("struct inode")?;
    let head = sb + s.offset_in(sbt, "s_inodes")?;
    let link = s.offset_in(it, "i_sb_list")?;
    let w = walk::list(
        s,
        walk::ListStart::Head(head),
        &walk::ListOpts {
            bound: 1 << 20,
            ..Default::default()
        },
    );
    let mut n = 0;
    for node in w.items {
        let ino = Value::at(it, node - link);
        n += ino.member_u64(s, "i_mapping.nrpages").unwrap_or(0);
    }
    Ok(n)
}

/// Default-size huge pages (total, free) in base pages: `hstates[default_hstate_idx]`.
fn huge_pages(s: &Session) -> Result<(u64, u64)> {
    use crate::value::Value;
    let (a, ty) = s.global("hstates")?;
    let idx = s
        .global("default_hstate_idx")
        .and_then(|(i, _)| Ok(s.read_u32(Kva(i))?))
        .unwrap_or(0);
    let h = Value::at(ty, a).index(s, i64::from(idx))?;
    let order = h.member_u64(s, "order")?;
    let total = h.member_u64(s, "nr_huge_pages")?;
    let free = h.member_u64(s, "free_huge_pages")?;
    Ok((total << order, free << order))
}

/// A size as crash prints it: GB and MB with one decimal (".0" dropped), KB whole.
fn human(bytes: u64) -> String {
    if bytes == 0 {
        return "0".into();
    }
    const K: f64 = 1024.0;
    let b = bytes as f64;
    let s = if b >= K * K * K {
        format!("{:.1} GB", b / (K * K * K))
    } else if b >= K * K {
        format!("{:.1} MB", b / (K * K))
    } else {
        return format!("{} KB", bytes / 1024);
    };
    s.replacen(".0 ", " ", 1)
}

fn pct(part: u64, whole: u64) -> u64 {
    part.saturating_mul(100).checked_div(whole).unwrap_or(0)
}

/// Prints `m` in crash's `kmem -i` layout.
pub fn print_meminfo(m: &MemInfo, out: &mut dyn Write) -> Result<()> {
    let ps = m.page_size;
    let line = |out: &mut dyn Write, label: &str, pages: u64, of: Option<(u64, &str)>| {
        let p = match of {
            None => "       ----".to_string(),
            Some((whole, name)) => format!("{:>3}% of {name}", pct(pages, whole)),
        };
        writeln!(
            out,
            "{label:>13}  {pages:>7}  {:>11}  {p}",
            human(pages * ps)
        )
    };
    let tm = Some((m.total, "TOTAL MEM"));
    writeln!(out, "                 PAGES        TOTAL      PERCENTAGE")?;
    line(out, "TOTAL MEM", m.total, None)?;
    line(out, "FREE", m.free, tm)?;
    line(out, "USED", m.total.saturating_sub(m.free), tm)?;
    line(out, "SHARED", m.shared, tm)?;
    line(out, "BUFFERS", m.buffers, tm)?;
    line(out, "CACHED", m.cached, tm)?;
    line(out, "SLAB", m.slab, tm)?;
    writeln!(out)?;
    line(out, "TOTAL HUGE", m.huge_total, None)?;
    line(
        out,
        "HUGE FREE",
        m.huge_free,
        Some((m.huge_total, "TOTAL HUGE")),
    )?;
    writeln!(out)?;
    let ts = Some((m.swap_total, "TOTAL SWAP"));
    line(out, "TOTAL SWAP", m.swap_total, None)?;
    line(
        out,
        "SWAP USED",
        m.swap_total.saturating_sub(m.swap_free),
        ts,
    )?;
    line(out, "SWAP FREE", m.swap_free, ts)?;
    writeln!(out)?;
    line(out, "COMMIT LIMIT", m.commit_limit, None)?;
    let limit = (m.commit_limit > 0).then_some((m.commit_limit, "TOTAL LIMIT"));
    line(out, "COMMITTED", m.committed, limit)?;
    for w in &m.warnings {
        writeln!(out, "kmem: WARNING: {w}")?;
    }
    Ok(())
}

impl Command for Kmem {
    fn name(&self) -> &'static str {
        "kmem"
    }
    fn summary(&self) -> &'static str {
        "kernel memory: the -i summary"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("kmem", args, "i", "", &[])?;
        if !o.has("i") {
            return Err(Error::Usage(format!("kmem: only -i is supported\n{USAGE}")));
        }
        print_meminfo(&meminfo(session), out)
    }
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        let o = Opts::parse("kmem", args, "i", "", &[])?;
        if !o.has("i") {
            return Err(Error::Usage("kmem: only -i is supported".into()));
        }
        let m = meminfo(session);
        let i = |v: u64| Data::Int(v as i64);
        Ok(Data::map([
            ("page_size", i(m.page_size)),
            ("total", i(m.total)),
            ("free", i(m.free)),
            ("used", i(m.total.saturating_sub(m.free))),
            ("shared", i(m.shared)),
            ("buffers", i(m.buffers)),
            ("cached", i(m.cached)),
            ("slab", i(m.slab)),
            ("huge_total", i(m.huge_total)),
            ("huge_free", i(m.huge_free)),
            ("swap_total", i(m.swap_total)),
            ("swap_free", i(m.swap_free)),
            ("commit_limit", i(m.commit_limit)),
            ("committed", i(m.committed)),
        ]))
    }
}
