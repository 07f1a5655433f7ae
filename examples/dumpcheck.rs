//! Throwaway check of the dump readers on real files: opens each dump, prints what its headers and
//! notes say, compares random pages against the ELF dump of the same machine state, and measures
//! open time and sequential read throughput.
//!
//! Usage: `cargo run --release --example dumpcheck -- REFERENCE.elf DUMP...`

use rkdump::addr::{Pa, PAGE_SIZE};
use rkdump::dump::{open, Dump};
use rkdump::memory::MemoryError;
use std::path::PathBuf;
use std::time::Instant;

fn describe(d: &dyn Dump, open_ms: f64) {
    println!("== {}", d.path().display());
    println!(
        "   format: {}   size: {} MiB   open: {:.1} ms",
        d.format(),
        d.file_size() >> 20,
        open_ms
    );
    if let Some(v) = d.vmcoreinfo() {
        println!(
            "   OSRELEASE={:?} KERNELOFFSET={:?} CRASHTIME={:?}",
            v.osrelease(),
            v.kernel_offset().map(|k| format!("{k:#x}")),
            v.crash_time()
        );
    } else {
        println!("   no VMCOREINFO");
    }
    println!("   timestamp: {:?}", d.timestamp());
    println!("   cpus: {}", d.cpus().len());
    for c in d.cpus() {
        println!(
            "     cpu{} pid={} rip={:#x} rsp={:#x} rbp={:#x} cs={:#x} cr3={:?} kgs={:?}",
            c.cpu,
            c.pid,
            c.regs.rip,
            c.regs.rsp,
            c.regs.rbp,
            c.regs.cs,
            c.cr3.map(|v| format!("{v:#x}")),
            c.kernel_gs_base.map(|v| format!("{v:#x}"))
        );
    }
    let total: u64 = d.ranges().iter().map(|r| r.len).sum();
    println!(
        "   ranges: {} covering {} MiB; stored pages: {} ({} MiB)",
        d.ranges().len(),
        total >> 20,
        d.stored_pages(),
        (d.stored_pages() * PAGE_SIZE) >> 20
    );
    for r in d.ranges().iter().take(6) {
        println!("     {:#x}..{:#x}", r.start.0, r.start.0 + r.len);
    }
}

fn throughput(d: &dyn Dump) {
    let start = Instant::now();
    let mut page = vec![0u8; PAGE_SIZE as usize];
    let (mut ok, mut excl, mut other) = (0u64, 0u64, 0u64);
    'outer: for r in d.ranges() {
        let mut pa = r.start.0;
        while pa < r.start.0 + r.len {
            match d.read_phys(Pa(pa), &mut page) {
                Ok(()) => ok += 1,
                Err(MemoryError::PageExcluded { .. }) => excl += 1,
                Err(_) => other += 1,
            }
            pa += PAGE_SIZE;
            if start.elapsed().as_secs() >= 20 {
                break 'outer;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "   sequential: {} pages read, {} excluded, {} errors in {:.2} s = {:.0} MB/s of stored data",
        ok,
        excl,
        other,
        secs,
        (ok * PAGE_SIZE) as f64 / 1e6 / secs
    );
}

fn compare(reference: &dyn Dump, d: &dyn Dump, samples: usize) {
    let pages: Vec<(u64, u64)> = reference
        .ranges()
        .iter()
        .map(|r| (r.start.0 / PAGE_SIZE, r.len / PAGE_SIZE))
        .collect();
    let total: u64 = pages.iter().map(|p| p.1).sum();
    if total == 0 {
        return;
    }
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let (mut same, mut excluded, mut differ, mut missing, mut errors) = (0, 0, 0, 0, 0);
    let mut a = vec![0u8; PAGE_SIZE as usize];
    let mut b = vec![0u8; PAGE_SIZE as usize];
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut k = x % total;
        let mut pfn = 0;
        for (s, n) in &pages {
            if k < *n {
                pfn = s + k;
                break;
            }
            k -= n;
        }
        let pa = Pa(pfn * PAGE_SIZE);
        if reference.read_phys(pa, &mut a).is_err() {
            continue;
        }
        match d.read_phys(pa, &mut b) {
            Ok(()) if a == b => same += 1,
            Ok(()) => {
                differ += 1;
                if differ <= 5 {
                    println!("     DIFFERS at pfn {pfn:#x}");
                }
            }
            Err(MemoryError::PageExcluded { .. }) => excluded += 1,
            Err(MemoryError::NotInDump { .. }) => {
                missing += 1;
                if missing <= 5 {
                    println!("     not in dump: pfn {pfn:#x}");
                }
            }
            Err(e) => {
                errors += 1;
                if errors <= 5 {
                    println!("     error at pfn {pfn:#x}: {e}");
                }
            }
        }
    }
    println!(
        "   vs reference ({samples} random pages): identical {same}, excluded {excluded}, DIFFERENT {differ}, not-in-dump {missing}, errors {errors}"
    );
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some((refpath, rest)) = args.split_first() else {
        eprintln!("usage: dumpcheck REFERENCE.elf DUMP...");
        std::process::exit(2);
    };
    let t = Instant::now();
    let reference = match open(refpath) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    describe(reference.as_ref(), t.elapsed().as_secs_f64() * 1e3);
    throughput(reference.as_ref());
    for p in rest {
        let t = Instant::now();
        match open(p) {
            Ok(d) => {
                describe(d.as_ref(), t.elapsed().as_secs_f64() * 1e3);
                compare(reference.as_ref(), d.as_ref(), 4000);
                throughput(d.as_ref());
            }
            Err(e) => println!("== {}: OPEN FAILED: {e}", p.display()),
        }
    }
}
