//! Kernel facts: the `kernel` variable (also `kernel_info()` and PyKdump's `sys_info()`):
//! `kernel.release`, `kernel.version` (compares with strings: `kernel.version >= "5.14"`),
//! `kernel.hz`, `kernel.jiffies`, `kernel.nr_cpus`, `kernel.page_size`, `kernel.nodename`,
//! `kernel.machine`, `kernel.kaslr_offset`, `kernel.uptime`; and `dump_info()`: the dump file
//! (path, format, file size, RAM it describes, pages stored, whether pages were left out);
//! `taint_string(mask)`: the letters of a taint mask, from the one table `mod -t` uses too.
//!
//! ```rhai
//! print(taint_string(read_u64(sym_addr("tainted_mask"))));   // "OE"
//! if kernel.version >= "5.14" { print("task state is __state"); }
//! let d = dump_info();
//! print(`${d.format}: ${d.file_size / 1048576} MB of ${d.ram_bytes / 1048576} MB RAM`);
//! ```

use crate::linux::sysinfo;
use crate::script::HostContext;
use rhai::{Dynamic, Engine, Map, INT};
use std::cmp::Ordering;
use std::sync::Arc;

/// A kernel version (`6.1.192`), ordered numerically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelVersion(pub Vec<u32>);

impl KernelVersion {
    /// Parses the leading dotted numbers of a release string (`6.1.0-56-cloud-amd64` → 6.1.0).
    pub fn parse(s: &str) -> Self {
        Self(
            s.split(|c: char| !c.is_ascii_digit() && c != '.')
                .next()
                .unwrap_or("")
                .split('.')
                .filter_map(|p| p.parse().ok())
                .collect(),
        )
    }
    fn cmp_str(&self, other: &str) -> Ordering {
        let o = Self::parse(other);
        let n = self.0.len().max(o.0.len());
        let at = |v: &Vec<u32>, i: usize| v.get(i).copied().unwrap_or(0);
        (0..n)
            .map(|i| at(&self.0, i).cmp(&at(&o.0, i)))
            .find(|c| *c != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    }
}

impl std::fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

fn facts(ctx: &HostContext) -> Map {
    let s = &ctx.session;
    let uts = sysinfo::utsname(s).unwrap_or_default();
    let hz = sysinfo::hz(s);
    let mut m = Map::new();
    let mut put = |k: &str, v: Dynamic| {
        m.insert(k.into(), v);
    };
    put("release", Dynamic::from(uts.release.clone()));
    put("version", Dynamic::from(KernelVersion::parse(&uts.release)));
    put("version_string", Dynamic::from(uts.version.clone()));
    put("nodename", Dynamic::from(uts.nodename.clone()));
    put("machine", Dynamic::from(uts.machine.clone()));
    put("hz", Dynamic::from(hz.unwrap_or(0) as INT));
    put(
        "jiffies",
        Dynamic::from(sysinfo::jiffies(s).unwrap_or(0) as INT),
    );
    put(
        "uptime",
        Dynamic::from(hz.and_then(|h| sysinfo::uptime_secs(s, h)).unwrap_or(0) as INT),
    );
    put(
        "nr_cpus",
        Dynamic::from(s.per_cpu_offsets().len().max(1) as INT),
    );
    put("page_size", Dynamic::from(4096 as INT));
    put("kaslr_offset", Dynamic::from(s.kaslr_offset() as INT));
    m
}

/// The dump file: `path`, `format` ("ELF", "kdump-compressed (zlib)"...), `file_size` (bytes on
/// disk), `ram_bytes` (the machine's memory, as `sys` MEMORY), `range_bytes` (physical ranges the
/// dump describes), `stored_bytes` (pages kept in the file), `partial` (pages were left out) and
/// `truncated` (why the file looks cut short, or "").
/// PyKdump's `sys_info`: the `sys` command's fields under its labels (`HZ`, `RELEASE`,
/// `MACHINE`, `CPUS`, `LOAD AVERAGE`, …), plus `kernel_info()`'s lowercase facts.
fn sys_info(ctx: &HostContext) -> Map {
    let i = sysinfo::sys_info(&ctx.session);
    let mut m = facts(ctx);
    let text = |v: Option<String>| v.map(Dynamic::from).unwrap_or(Dynamic::UNIT);
    let num = |v: Option<u64>| v.map(|n| Dynamic::from(n as INT)).unwrap_or(Dynamic::UNIT);
    for (k, v) in [
        ("KERNEL", Dynamic::from(i.kernel)),
        ("DUMPFILE", Dynamic::from(i.dumpfile)),
        ("CPUS", num(i.cpus)),
        ("DATE", text(i.date)),
        ("UPTIME", text(i.uptime)),
        ("LOAD AVERAGE", text(i.load_average)),
        ("TASKS", num(i.tasks)),
        ("NODENAME", Dynamic::from(i.nodename)),
        ("RELEASE", Dynamic::from(i.release)),
        ("VERSION", Dynamic::from(i.version)),
        ("MACHINE", Dynamic::from(i.machine)),
        ("MEMORY", text(i.memory)),
        ("PANIC", text(i.panic)),
        ("HZ", num(i.hz)),
    ] {
        m.insert(k.into(), v);
    }
    m
}

fn dump_facts(ctx: &HostContext) -> Map {
    let s = &ctx.session;
    let d = s.dump();
    let range_bytes: u64 = d.ranges().iter().map(|r| r.len).sum();
    let stored_bytes = d.stored_pages().saturating_mul(4096);
    let mut m = Map::new();
    let mut put = |k: &str, v: Dynamic| {
        m.insert(k.into(), v);
    };
    put("path", Dynamic::from(d.path().display().to_string()));
    put("format", Dynamic::from(d.format().to_string()));
    put("file_size", Dynamic::from(d.file_size() as INT));
    put(
        "ram_bytes",
        Dynamic::from(sysinfo::memory_bytes(s).unwrap_or(range_bytes) as INT),
    );
    put("range_bytes", Dynamic::from(range_bytes as INT));
    put("stored_bytes", Dynamic::from(stored_bytes as INT));
    put("partial", Dynamic::from(range_bytes > stored_bytes));
    put(
        "truncated",
        Dynamic::from(d.truncation().unwrap_or_default()),
    );
    m
}

/// Registers `kernel`, `kernel_info()`, `sys_info()`, `dump_info()` and the version type.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    engine.register_fn("taint_string", |mask: INT| {
        crate::linux::module::taint_string(mask as u64)
    });
    engine
        .register_type_with_name::<KernelVersion>("KernelVersion")
        .register_fn("to_string", |v: &mut KernelVersion| v.to_string())
        .register_fn("to_debug", |v: &mut KernelVersion| v.to_string());
    for (op, want) in [
        (">=", [Ordering::Greater, Ordering::Equal]),
        (">", [Ordering::Greater, Ordering::Greater]),
        ("<=", [Ordering::Less, Ordering::Equal]),
        ("<", [Ordering::Less, Ordering::Less]),
        ("==", [Ordering::Equal, Ordering::Equal]),
    ] {
        engine.register_fn(op, move |v: KernelVersion, s: &str| {
            want.contains(&v.cmp_str(s))
        });
    }
    engine.register_fn("!=", |v: KernelVersion, s: &str| {
        v.cmp_str(s) != Ordering::Equal
    });
    let c = ctx.clone();
    engine.register_fn("kernel_info", move || facts(&c));
    let c = ctx.clone();
    engine.register_fn("sys_info", move || sys_info(&c));
    let c = ctx.clone();
    engine.register_fn("dump_info", move || dump_facts(&c));
    // `kernel` reads as a variable everywhere, including inside functions and modules.
    let c = ctx.clone();
    let cached = std::sync::OnceLock::new();
    // `on_var` is marked volatile (not deprecated) by Rhai; it is the one way to make a
    // name resolve inside functions and imported modules too.
    #[allow(deprecated)]
    engine.on_var(move |name, _, _| {
        Ok((name == "kernel").then(|| Dynamic::from(cached.get_or_init(|| facts(&c)).clone())))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let v = KernelVersion::parse("6.1.0-56-cloud-amd64");
        assert_eq!(v.to_string(), "6.1.0");
        assert_eq!(v.cmp_str("5.14"), Ordering::Greater);
        assert_eq!(
            KernelVersion::parse("5.4.0").cmp_str("5.14"),
            Ordering::Less
        );
        assert_eq!(v.cmp_str("6.1"), Ordering::Equal);
    }
}
