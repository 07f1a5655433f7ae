//! Issue-2 integration tests on the real fixture dumps: every format opens, the kernel layout
//! and `sys` agree with the guest's ground truth, every translation path reads the same bytes
//! from every dump, filtered pages are reported as excluded, and the layout fallbacks (CR3,
//! banner scan) find the same KASLR slide as VMCOREINFO.

mod common;

use rkdump::addr::{Kva, Pa, Pfn};
use rkdump::debuginfo::Vmlinux;
use rkdump::dump::{self, CpuState, Dump, DumpFormat, PhysRange, VmcoreInfo};
use rkdump::linux::sysinfo;
use rkdump::memory::{MemoryError, PhysReader, ReadExt};
use rkdump::session::Session;
use std::path::Path;

fn hex(v: &serde_json::Value) -> u64 {
    let s = v.as_str().expect("hex string");
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex")
}

fn open(name: &str) -> Session {
    Session::open(&common::vmlinux(), &common::fixture(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every dump in the manifest, with its scenario.
fn all_dumps() -> Vec<(String, String)> {
    let m = common::manifest();
    assert!(m.len() >= 12, "manifest lists only {} dumps", m.len());
    m.into_iter().map(|(f, s, _)| (f, s)).collect()
}

#[test]
fn every_format_is_in_the_fixtures() {
    let formats: Vec<String> = all_dumps()
        .iter()
        .map(|(f, _)| {
            dump::open(&common::fixture(f))
                .expect("opens")
                .format()
                .to_string()
        })
        .collect();
    for want in [
        "ELF",
        "kdump-compressed (zlib)",
        "kdump-compressed (zlib), flattened",
        "kdump-compressed (lzo)",
        "kdump-compressed (zstd)",
        "kdump-compressed (snappy)",
    ] {
        assert!(
            formats.iter().any(|f| f == want),
            "no fixture of format {want}: {formats:?}"
        );
    }
}

#[test]
fn sys_matches_ground_truth_on_every_dump() {
    for (file, scenario) in all_dumps() {
        let t = common::truth(&scenario);
        let s = open(&file);
        let info = sysinfo::sys_info(&s);
        assert_eq!(info.release, t["release"].as_str().unwrap(), "{file}");
        assert_eq!(info.nodename, t["nodename"].as_str().unwrap(), "{file}");
        let version = t["version"].as_str().unwrap();
        assert!(
            version.ends_with(&info.version),
            "{file}: {} vs {version}",
            info.version
        );
        assert_eq!(
            info.machine.split_whitespace().next(),
            Some("x86_64"),
            "{file}"
        );
        assert_eq!(info.cpus, t["ncpus"].as_u64(), "{file}");
        // The guest printed its uptime just before the dump was taken.
        let up = t["uptime_s"].as_f64().unwrap();
        let ours = info.uptime_secs.expect("uptime") as f64;
        assert!(
            ours >= up.floor() - 1.0 && ours <= up + 30.0,
            "{file}: uptime {ours} vs {up}"
        );
        assert_eq!(info.hz, Some(250), "{file}: Debian's CONFIG_HZ");
        // Memory: at least what the guest's MemTotal shows, at most the VM's RAM.
        let mem = info.memory_bytes.expect("memory");
        let total_kb = t["mem_total_kb"].as_u64().unwrap();
        let vm_bytes = common::guest_memory_bytes(&scenario);
        assert!(
            mem >= total_kb * 1024 && mem <= vm_bytes,
            "{file}: memory {mem} (VM {vm_bytes})"
        );
        // Wall clock: the guest's `date` a moment before the dump.
        let date = t["date_s"].as_i64().unwrap();
        let wall = sysinfo::wall_seconds(&s).expect("wall clock");
        assert!(
            (date - 1..=date + 30).contains(&wall),
            "{file}: date {wall} vs {date}"
        );
        // Tasks: every thread the guest listed plus one idle task per CPU (kernel threads
        // can start or exit between the listing and the dump, hence the small band).
        let listed = t["processes"].as_array().unwrap().len() as u64;
        let tasks = info.tasks.expect("tasks");
        let ncpus = t["ncpus"].as_u64().unwrap();
        assert!(
            tasks >= listed + ncpus - 2 && tasks <= listed + ncpus + 2,
            "{file}: {tasks} tasks, guest listed {listed}"
        );
        let filtered = common::excludes_pages(&file);
        assert_eq!(
            info.dumpfile.ends_with("[PARTIAL DUMP]"),
            filtered,
            "{file}"
        );
        if scenario == "panic" {
            assert_eq!(
                info.panic.as_deref(),
                Some("Kernel panic - not syncing: sysrq triggered crash"),
                "{file}"
            );
            assert_eq!(
                info.cpus_offline, 1,
                "{file}: the panic stopped the other CPU"
            );
        } else {
            assert_eq!(info.panic, None, "{file}");
        }
    }
}

#[test]
fn kaslr_and_banner_match_the_guest() {
    for (file, scenario) in all_dumps() {
        let t = common::truth(&scenario);
        let s = open(&file);
        assert_eq!(s.kaslr_offset(), hex(&t["kernel_offset"]), "{file}");
        let banner_addr = s.symbol_addr("linux_banner").unwrap();
        assert_eq!(banner_addr, hex(&t["kallsyms"]["linux_banner"]), "{file}");
        let banner = s.read_cstring(Kva(banner_addr), 512).expect("banner");
        assert_eq!(banner.trim_end(), t["version"].as_str().unwrap(), "{file}");
        for sym in ["init_task", "jiffies", "init_uts_ns", "prb", "_text"] {
            assert_eq!(
                s.symbol_addr(sym),
                Some(hex(&t["kallsyms"][sym])),
                "{file}: {sym}"
            );
        }
        // Per-CPU symbols stay offsets, as /proc/kallsyms shows them.
        assert_eq!(
            s.symbol_addr("runqueues"),
            Some(hex(&t["kallsyms"]["runqueues"]))
        );
    }
}

/// Addresses covering each translation path, found in the live dump.
fn probe_addresses(s: &Session) -> Vec<(&'static str, u64, usize)> {
    let t = common::truth("live");
    let init_task = s.symbol_addr("init_task").unwrap();
    let tasks_off = s.offset_of("struct task_struct", "tasks").unwrap();
    let stack_off = s.offset_of("struct task_struct", "stack").unwrap();
    // A task_struct from the slab (direct map): init_task's next on the task list.
    let next = s.read_u64(Kva(init_task + tasks_off)).unwrap() - tasks_off;
    // Its kernel stack is vmalloc'ed (CONFIG_VMAP_STACK).
    let stack = s.read_u64(Kva(next + stack_off)).unwrap();
    // A per-CPU variable on CPU 1.
    let rq1 = s.per_cpu_addr("runqueues", 1).unwrap();
    // Module text (module mapping area, page-table walk).
    let module = hex(&t["modules"][0]["addr"]);
    vec![
        ("kernel text", s.symbol_addr("_text").unwrap(), 4096),
        ("kernel data", s.symbol_addr("init_uts_ns").unwrap(), 512),
        ("direct map (slab task_struct)", next, 1024),
        ("vmalloc (task stack)", stack, 4096),
        ("per-CPU (runqueues on CPU 1)", rq1, 512),
        ("module area", module, 256),
    ]
}

#[test]
fn every_translation_path_reads_the_same_bytes_from_every_dump() {
    let reference = open("live.elf");
    let probes = probe_addresses(&reference);
    assert!(
        probes[3].1 >= 0xffff_c900_0000_0000,
        "stack not in vmalloc space"
    );
    let want: Vec<Vec<u8>> = probes
        .iter()
        .map(|(what, a, n)| {
            reference
                .read_vec(Kva(*a), *n)
                .unwrap_or_else(|e| panic!("live.elf: {what} at {a:#x}: {e}"))
        })
        .collect();
    for (file, scenario) in all_dumps() {
        if scenario != "live" || file == "live.elf" {
            continue;
        }
        let s = open(&file);
        for ((what, a, n), w) in probes.iter().zip(&want) {
            let got = s
                .read_vec(Kva(*a), *n)
                .unwrap_or_else(|e| panic!("{file}: {what} at {a:#x}: {e}"));
            assert!(&got == w, "{file}: {what} at {a:#x} differs from live.elf");
        }
    }
}

#[test]
fn filtered_pages_are_excluded_not_zero() {
    let elf = dump::open(&common::fixture("live.elf")).unwrap();
    for name in [
        common::mdf("live", "zlib"),
        common::mdf("live", "lzo"),
        common::mdf_flat("live", "zlib"),
        common::mdf("live", "zstd"),
        common::mdf("live", "snappy"),
    ] {
        let mdf_dump = dump::open(&common::fixture(&name)).unwrap();
        let mut excluded = 0;
        let mut same = 0;
        let mut page = vec![0u8; 4096];
        let mut ref_page = vec![0u8; 4096];
        for pfn in (0x100u64..0x1f000).step_by(7) {
            let pa = Pa(pfn << 12);
            match mdf_dump.read_phys(pa, &mut page) {
                Err(MemoryError::PageExcluded { pfn: p }) => {
                    assert_eq!(p, Pfn(pfn), "{name}");
                    excluded += 1;
                }
                Ok(()) => {
                    elf.read_phys(pa, &mut ref_page)
                        .expect("ELF has every RAM page");
                    assert!(
                        page == ref_page,
                        "{name}: pfn {pfn:#x} differs from the ELF dump"
                    );
                    same += 1;
                }
                Err(e) => panic!("{name}: pfn {pfn:#x}: unexpected {e}"),
            }
        }
        if common::excludes_pages(&name) {
            assert!(
                excluded > 1000 && same > 1000,
                "{name}: {excluded} excluded, {same} kept"
            );
        } else {
            // The 6.12 line's `-d 1` kdump files keep every page (see `common::excludes_pages`):
            // each one reads as the ELF dump's.
            assert!(excluded == 0 && same > 1000, "{name}: {excluded} excluded");
        }
    }
}

#[test]
fn holes_are_not_in_the_dump() {
    let d = dump::open(&common::fixture("live.kdump-raw-zlib")).unwrap();
    let mut b = [0u8; 8];
    // Far past the 512 MiB of RAM.
    let far = Pa(64 << 30);
    assert!(matches!(
        d.read_phys(far, &mut b),
        Err(MemoryError::NotInDump { .. })
    ));
    let elf = dump::open(&common::fixture("live.elf")).unwrap();
    assert!(matches!(
        elf.read_phys(far, &mut b),
        Err(MemoryError::NotInDump { .. })
    ));
}

/// A dump seen without its VMCOREINFO (and optionally without CPU registers), to exercise
/// the layout fallbacks on real memory.
struct Hidden {
    inner: Box<dyn Dump>,
    keep_cpus: bool,
}

impl PhysReader for Hidden {
    fn read_phys(&self, pa: Pa, buf: &mut [u8]) -> Result<(), MemoryError> {
        self.inner.read_phys(pa, buf)
    }
}

impl Dump for Hidden {
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn format(&self) -> DumpFormat {
        self.inner.format()
    }
    fn file_size(&self) -> u64 {
        self.inner.file_size()
    }
    fn vmcoreinfo(&self) -> Option<&VmcoreInfo> {
        None
    }
    fn cpus(&self) -> &[CpuState] {
        if self.keep_cpus {
            self.inner.cpus()
        } else {
            &[]
        }
    }
    fn ranges(&self) -> &[PhysRange] {
        self.inner.ranges()
    }
    fn stored_pages(&self) -> u64 {
        self.inner.stored_pages()
    }
}

#[test]
fn layout_fallbacks_find_the_same_kernel() {
    use rkdump::kernel::LayoutSource;
    for (file, scenario) in [
        ("live.elf", "live"),
        ("panic.kdump-raw-zlib", "panic"),
        (common::mdf("live", "zlib").as_str(), "live"),
    ] {
        let t = common::truth(scenario);
        let want = open(file);
        for (keep_cpus, source) in [(true, LayoutSource::Cr3), (false, LayoutSource::BannerScan)] {
            let inner = dump::open(&common::fixture(file)).unwrap();
            let vmlinux = Vmlinux::open(&common::vmlinux()).unwrap();
            let s = Session::from_parts(Box::new(Hidden { inner, keep_cpus }), vmlinux)
                .unwrap_or_else(|e| panic!("{file} via {source:?}: {e}"));
            assert_eq!(s.layout_source(), source, "{file}");
            assert_eq!(
                s.kaslr_offset(),
                hex(&t["kernel_offset"]),
                "{file} via {source:?}"
            );
            assert_eq!(
                s.paging().layout(),
                want.paging().layout(),
                "{file} via {source:?}"
            );
            let info = sysinfo::sys_info(&s);
            assert_eq!(info.nodename, "rkdump-guest");
        }
    }
}
