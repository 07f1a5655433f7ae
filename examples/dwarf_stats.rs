//! Measures the DWARF type index on a vmlinux: cold build time, cache save/load time, RSS,
//! index sizes and the time to materialize `struct task_struct`.
//!
//! Usage: `cargo run --release --example dwarf_stats -- VMLINUX [BUILD_ID]`

use std::sync::Arc;
use std::time::Instant;

use rkdump::debuginfo::TypeIndex;

/// A /proc/self/status field in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// "RSS x MiB (anonymous y MiB, file-backed z MiB)".
fn rss() -> String {
    format!(
        "RSS {} MiB (anonymous {} MiB, file-backed {} MiB)",
        status_kib("VmRSS:") / 1024,
        status_kib("RssAnon:") / 1024,
        status_kib("RssFile:") / 1024
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: dwarf_stats VMLINUX [BUILD_ID]")?;
    let build_id = args.get(2).cloned().unwrap_or_else(|| "00".to_string());
    let file = std::fs::File::open(path)?;
    // SAFETY: the file is opened read-only and not modified while mapped.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    let elf: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(map);
    println!("before: {}", rss());

    let t = Instant::now();
    let idx = TypeIndex::build(elf.clone(), None)?;
    println!("cold build: {:.3} s", t.elapsed().as_secs_f64());
    println!("after build: {}", rss());
    println!("{:#?}", idx.stats());

    for prefix in ["struct ", "union ", "enum "] {
        for name in idx.type_names(prefix) {
            let v = idx.find_type_variants(&name);
            if v.len() > 1 {
                let sizes: Vec<String> = v
                    .iter()
                    .map(|id| idx.size_of(*id).map(|s| s.to_string()).unwrap_or_default())
                    .collect();
                println!("several layouts: {name} (sizes {})", sizes.join(", "));
            }
        }
    }
    let t = Instant::now();
    let ts = idx
        .find_type("struct task_struct")
        .ok_or("no task_struct")?;
    idx.get(ts)?;
    let mut n = 0usize;
    fn count(idx: &TypeIndex, id: rkdump::debuginfo::TypeId, n: &mut usize, depth: usize) {
        if depth > 8 {
            return;
        }
        if let Ok(ms) = idx.members(id) {
            for m in ms {
                *n += 1;
                if let Ok(r) = idx.resolve(m.ty) {
                    if matches!(
                        idx.get(r).as_deref(),
                        Ok(rkdump::debuginfo::Type::Struct { name: None, .. })
                    ) {
                        count(idx, r, n, depth + 1);
                    }
                }
            }
        }
    }
    count(&idx, ts, &mut n, 0);
    println!(
        "task_struct materialize (incl. anonymous nested, {} members, size {}): {:.3} ms",
        n,
        idx.size_of(ts)?,
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let pid = idx.member(ts, "pid")?;
    println!(
        "member(task_struct, pid) = {:?} in {:.1} us",
        pid.offset,
        t.elapsed().as_secs_f64() * 1e6
    );

    let dir = std::env::temp_dir().join("rkdump-dwarf-stats");
    let _ = std::fs::remove_dir_all(&dir);
    let t = Instant::now();
    let _ = TypeIndex::load_or_build(elf.clone(), &build_id, &dir, None)?;
    println!("build + save cache: {:.3} s", t.elapsed().as_secs_f64());
    let size = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum::<u64>();
    println!("cache size: {} KiB", size / 1024);
    let t = Instant::now();
    let idx2 = TypeIndex::load_or_build(elf, &build_id, &dir, None)?;
    println!("load from cache: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    println!("cache index types: {:?}", idx2.stats().types);
    println!("end: {}", rss());
    Ok(())
}
