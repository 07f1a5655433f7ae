//! Kernel facts derived through the session for `sys` and the scripting API: utsname, HZ,
//! uptime, date, load average, CPU and task counts, memory size.
//!
//! Must not import `commands` or `script`.

use crate::addr::Kva;
use crate::memory::ReadExt;
use crate::session::Session;

/// Candidate values of `CONFIG_HZ`.
const HZ_CANDIDATES: [u64; 4] = [100, 250, 300, 1000];
/// `FSHIFT` of the load-average fixed-point numbers.
const FSHIFT: u32 = 11;
const FIXED_1: u64 = 1 << FSHIFT;

/// What `sys` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysInfo {
    /// vmlinux path.
    pub kernel: String,
    /// Dump path, with `[PARTIAL DUMP]` for filtered dumps.
    pub dumpfile: String,
    /// Present CPUs.
    pub cpus: Option<u64>,
    /// Present CPUs that are offline.
    pub cpus_offline: u64,
    /// Wall-clock time of the dump, e.g. `Wed Nov 25 18:55:01 UTC 2026`.
    pub date: Option<String>,
    /// Time since boot, `HH:MM:SS` or `N days, HH:MM:SS`.
    pub uptime: Option<String>,
    /// Seconds since boot.
    pub uptime_secs: Option<u64>,
    /// `0.00, 0.01, 0.05`.
    pub load_average: Option<String>,
    /// Tasks (threads, idle tasks included).
    pub tasks: Option<u64>,
    /// `utsname.nodename`.
    pub nodename: String,
    /// `utsname.release`.
    pub release: String,
    /// `utsname.version`.
    pub version: String,
    /// `utsname.machine` and CPU clock.
    pub machine: String,
    /// Memory size, e.g. `512 MB`.
    pub memory: Option<String>,
    /// Memory size in bytes.
    pub memory_bytes: Option<u64>,
    /// The panic message, if the kernel panicked.
    pub panic: Option<String>,
    /// `CONFIG_HZ` as deduced from jiffies and the monotonic clock.
    pub hz: Option<u64>,
}

/// The utsname strings of `init_uts_ns`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UtsName {
    /// `sysname`.
    pub sysname: String,
    /// `nodename`.
    pub nodename: String,
    /// `release`.
    pub release: String,
    /// `version`.
    pub version: String,
    /// `machine`.
    pub machine: String,
}

/// Reads `init_uts_ns.name`.
pub fn utsname(s: &Session) -> Option<UtsName> {
    let (base, _) = s.global("init_uts_ns").ok()?;
    let field = |m: &str| -> Option<String> {
        let off = s
            .offset_of("struct uts_namespace", &format!("name.{m}"))
            .ok()?;
        s.read_cstring(crate::memory::field(base, off).ok()?, 65)
            .ok()
    };
    Some(UtsName {
        sysname: field("sysname")?,
        nodename: field("nodename")?,
        release: field("release")?,
        version: field("version")?,
        machine: field("machine")?,
    })
}

fn read_sym_u64(s: &Session, name: &str) -> Option<u64> {
    s.read_u64(Kva(s.symbol_addr(name)?)).ok()
}

fn read_sym_u32(s: &Session, name: &str) -> Option<u32> {
    s.read_u32(Kva(s.symbol_addr(name)?)).ok()
}

/// `jiffies` as a 64-bit count.
pub fn jiffies(s: &Session) -> Option<u64> {
    read_sym_u64(s, "jiffies_64").or_else(|| read_sym_u64(s, "jiffies"))
}

/// `INITIAL_JIFFIES` for a given HZ: `(unsigned long)(unsigned int)(-300 * HZ)`.
pub fn initial_jiffies(hz: u64) -> u64 {
    (300u64 * hz).wrapping_neg() & 0xffff_ffff
}

/// Monotonic nanoseconds at the last timekeeping update (`tk_core.timekeeper.tkr_mono.base`).
pub fn monotonic_ns(s: &Session) -> Option<u64> {
    let (base, _) = s.global("tk_core").ok()?;
    let tk_ty = s.type_of_global("tk_core").ok()?;
    let off = s.offset_in(tk_ty, "timekeeper.tkr_mono.base").ok()?;
    s.read_u64(crate::memory::field(base, off).ok()?).ok()
}

/// Wall-clock seconds at the last timekeeping update (`tk_core.timekeeper.xtime_sec`).
pub fn wall_seconds(s: &Session) -> Option<i64> {
    let (base, _) = s.global("tk_core").ok()?;
    let tk_ty = s.type_of_global("tk_core").ok()?;
    let off = s.offset_in(tk_ty, "timekeeper.xtime_sec").ok()?;
    s.read_u64(crate::memory::field(base, off).ok()?)
        .ok()
        .map(|v| v as i64)
}

/// `CONFIG_HZ`: the candidate under which jiffies since boot best agree with the monotonic
/// clock (the kernel exports HZ nowhere in memory).
pub fn hz(s: &Session) -> Option<u64> {
    let j = jiffies(s)?;
    let mono = monotonic_ns(s)? as f64 / 1e9;
    HZ_CANDIDATES
        .iter()
        .map(|&hz| {
            let secs = j.wrapping_sub(initial_jiffies(hz)) as f64 / hz as f64;
            (hz, (secs - mono).abs())
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(hz, _)| hz)
}

/// Seconds since boot, from jiffies as crash computes it.
pub fn uptime_secs(s: &Session, hz: u64) -> Option<u64> {
    Some(jiffies(s)?.wrapping_sub(initial_jiffies(hz)) / hz)
}

/// Formats seconds as crash's UPTIME: `HH:MM:SS`, with `N days, ` in front past a day.
pub fn format_uptime(secs: u64) -> String {
    let (d, rem) = (secs / 86400, secs % 86400);
    let hms = format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    match d {
        0 => hms,
        1 => format!("1 day, {hms}"),
        _ => format!("{d} days, {hms}"),
    }
}

/// Formats epoch seconds as `date` does in UTC: `Wed Nov 25 18:55:01 UTC 2026`.
pub fn format_date_utc(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil-from-days (proleptic Gregorian), days since 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} UTC {}",
        WD[days.rem_euclid(7) as usize],
        MO[(month - 1).clamp(0, 11) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

/// `avenrun[]` as crash prints it: `0.00, 0.01, 0.05`.
pub fn load_average(s: &Session) -> Option<String> {
    let base = s.symbol_addr("avenrun")?;
    let mut parts = Vec::new();
    for i in 0..3u64 {
        let v = s.read_u64(Kva(base + i * 8)).ok()? + FIXED_1 / 200;
        parts.push(format!(
            "{}.{:02}",
            v >> FSHIFT,
            ((v & (FIXED_1 - 1)) * 100) >> FSHIFT
        ));
    }
    Some(parts.join(", "))
}

/// Number of set bits in the CPU mask at symbol `name` (the first `nr_cpu_ids` bits).
pub fn cpumask_weight(s: &Session, name: &str) -> Option<u64> {
    let base = s.symbol_addr(name)?;
    let n = read_sym_u32(s, "nr_cpu_ids").unwrap_or(64).clamp(1, 8192) as u64;
    let mut count = 0u64;
    for w in 0..n.div_ceil(64) {
        let mut word = s.read_u64(Kva(base + w * 8)).ok()?;
        if (w + 1) * 64 > n {
            word &= (1u64 << (n % 64)) - 1;
        }
        count += u64::from(word.count_ones());
    }
    Some(count)
}

/// CPUs present (`__cpu_present_mask`) and how many of them are offline, as crash's
/// `CPUS: 2 [OFFLINE: 1]` (a panic stops the other CPUs and marks them offline).
pub fn cpu_counts(s: &Session) -> Option<(u64, u64)> {
    let online = cpumask_weight(s, "__cpu_online_mask")
        .filter(|&n| n > 0)
        .or_else(|| online_cpus(s))?;
    let present = cpumask_weight(s, "__cpu_present_mask")
        .unwrap_or(online)
        .max(online);
    Some((present, present - online))
}

/// Online CPUs (`__num_online_cpus`), else the CPUs the dump has notes for.
pub fn online_cpus(s: &Session) -> Option<u64> {
    read_sym_u32(s, "__num_online_cpus")
        .map(u64::from)
        .filter(|&n| n > 0)
        .or_else(|| Some(s.dump().cpus().len() as u64).filter(|&n| n > 0))
}

/// Addresses of every task (threads and idle tasks included); see [`crate::linux::sched::task_addresses`].
pub fn task_addresses(s: &Session) -> Option<Vec<u64>> {
    crate::linux::sched::task_addresses(s).ok()
}

/// Memory size: the pages present in every NUMA node (`node_data[]`), else the dump's RAM.
pub fn memory_bytes(s: &Session) -> Option<u64> {
    let spanned_off = s.offset_of("struct pglist_data", "node_present_pages").ok();
    if let (Some(nd), Some(off)) = (s.symbol_addr("node_data"), spanned_off) {
        let nodes = read_sym_u32(s, "nr_node_ids").unwrap_or(1).clamp(1, 1024) as u64;
        let mut pages = 0u64;
        for i in 0..nodes {
            let Ok(pgdat) = s.read_u64(Kva(nd + i * 8)) else {
                continue;
            };
            if pgdat == 0 {
                continue;
            }
            pages += s
                .read_u64(crate::memory::field(pgdat, off).ok()?)
                .unwrap_or(0);
        }
        if pages > 0 {
            return Some(pages * 4096);
        }
    }
    let ranges = s.dump().ranges();
    (!ranges.is_empty()).then(|| ranges.iter().map(|r| r.len).sum())
}

/// Formats a byte count as crash does: `512 MB`, `1.5 GB`.
pub fn format_memory(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    let (v, unit) = if bytes >= 1 << 30 {
        (bytes as f64 / (MB * 1024.0), "GB")
    } else {
        (bytes as f64 / MB, "MB")
    };
    if (v - v.round()).abs() < 0.05 {
        format!("{} {unit}", v.round() as u64)
    } else {
        format!("{v:.1} {unit}")
    }
}

/// Everything `sys` prints.
pub fn sys_info(s: &Session) -> SysInfo {
    let mut uts = utsname(s).unwrap_or_default();
    // The page holding init_uts_ns may be missing (a file cut short); VMCOREINFO still names
    // the release.
    if uts.release.is_empty() {
        if let Some(r) = s.dump().vmcoreinfo().and_then(|v| v.osrelease()) {
            uts.release = r.to_string();
        }
    }
    let hz = hz(s);
    let uptime_secs = hz.and_then(|h| uptime_secs(s, h));
    // Partial: pages left out by a filter, or stored pages lost past the end of a cut file
    // (a `makedumpfile -d 1` kdump file keeps every page: zero pages share one stored page).
    let filtered = s.dump().ranges().iter().map(|r| r.len / 4096).sum::<u64>()
        > s.dump().stored_pages()
        || s.dump().truncation().is_some();
    let mhz = read_sym_u32(s, "cpu_khz").map(|k| k / 1000);
    let memory_bytes = memory_bytes(s);
    SysInfo {
        kernel: s.vmlinux().path().display().to_string(),
        dumpfile: format!(
            "{}{}",
            s.dump().path().display(),
            if filtered { "  [PARTIAL DUMP]" } else { "" }
        ),
        cpus: cpu_counts(s).map(|c| c.0),
        cpus_offline: cpu_counts(s).map(|c| c.1).unwrap_or(0),
        date: wall_seconds(s).map(format_date_utc),
        uptime: uptime_secs.map(format_uptime),
        uptime_secs,
        load_average: load_average(s),
        tasks: task_addresses(s).map(|v| v.len() as u64),
        nodename: uts.nodename,
        release: uts.release,
        version: uts.version,
        machine: match mhz {
            Some(m) if m > 0 => format!("{}  ({m} Mhz)", uts.machine),
            _ => uts.machine,
        },
        memory: memory_bytes.map(format_memory),
        memory_bytes,
        panic: crate::linux::printk::read_log(s)
            .ok()
            .and_then(|log| crate::linux::printk::panic_message(s, &log)),
        hz,
    }
}

/// The kernel's release `major.minor` from `init_uts_ns` or VMCOREINFO.
pub fn kernel_version(s: &Session) -> Option<(u32, u32)> {
    let rel = utsname(s).map(|u| u.release).or_else(|| {
        s.dump()
            .vmcoreinfo()
            .and_then(|v| v.get("OSRELEASE"))
            .map(str::to_string)
    })?;
    let mut it = rel.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_uptime(59), "00:00:59");
        assert_eq!(format_uptime(86400 + 3661), "1 day, 01:01:01");
        assert_eq!(format_uptime(3 * 86400), "3 days, 00:00:00");
        assert_eq!(format_date_utc(0), "Thu Jan  1 00:00:00 UTC 1970");
        assert_eq!(
            format_date_utc(1_795_635_301),
            "Wed Nov 25 19:35:01 UTC 2026"
        );
        assert_eq!(format_memory(512 << 20), "512 MB");
        assert_eq!(format_memory(3 << 29), "1.5 GB");
        assert_eq!(initial_jiffies(250), 0xfffe_db08);
    }
}
