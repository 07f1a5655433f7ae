//! Value-layer benchmark (not a timed test): a 10 000-element list walk reading three members
//! per element through `Value` (pid, __state, comm), the same walk with raw reads at offsets
//! looked up once, and one member read (`se.avg.load_avg`) against the raw read it stands for.
//! The task list of the fixture has 64 entries, so the walk goes round it until 10 000
//! elements have been read (each lap re-reads memory; nothing is cached between laps).
//!
//! Run by `benches/types.sh`, or `cargo bench --bench values`; env `RKDUMP_BENCH_DIR` names the
//! fixture directory (vmlinux + live.elf).

use rkdump::addr::Kva;
use rkdump::memory::ReadExt;
use rkdump::session::Session;
use rkdump::value::walk::{self, ListOpts, ListStart};
use rkdump::value::Value;
use std::path::PathBuf;
use std::time::Instant;

const N: usize = 10_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::var("RKDUMP_BENCH_DIR")
            .unwrap_or_else(|_| "/var/cache/rkdump/fixtures/6.1.0-56-cloud-amd64".into()),
    );
    let s = Session::open(&dir.join("vmlinux"), &dir.join("live.elf"))?;
    s.types()?;
    let (init, ty) = s.global("init_task")?;
    let tasks = s.offset_of("struct task_struct", "tasks")?;
    let head = ListStart::Head(init + tasks);
    let opts = ListOpts {
        offset: tasks,
        ..Default::default()
    };

    // Warm the member-path cache and the page cache of the dump.
    let _ = walk::list(&s, head, &opts);

    let t0 = Instant::now();
    let (mut n, mut sum) = (0usize, 0u64);
    'v: loop {
        for a in walk::list(&s, head, &opts).items {
            let t = Value::at(ty, a);
            sum = sum
                .wrapping_add(t.member_u64(&s, "pid")?)
                .wrapping_add(t.member_u64(&s, "__state")?);
            sum = sum.wrapping_add(t.member(&s, "comm")?.string(&s)?.len() as u64);
            n += 1;
            if n == N {
                break 'v;
            }
        }
    }
    let value_walk = t0.elapsed();

    let (o_pid, o_state, o_comm) = (
        s.offset_of("struct task_struct", "pid")?,
        s.offset_of("struct task_struct", "__state")?,
        s.offset_of("struct task_struct", "comm")?,
    );
    let t0 = Instant::now();
    let (mut n, mut raw_sum) = (0usize, 0u64);
    'r: loop {
        for a in walk::list(&s, head, &opts).items {
            raw_sum = raw_sum
                .wrapping_add(u64::from(s.read_u32(Kva(a + o_pid))?))
                .wrapping_add(u64::from(s.read_u32(Kva(a + o_state))?));
            raw_sum = raw_sum.wrapping_add(s.read_cstring(Kva(a + o_comm), 16)?.len() as u64);
            n += 1;
            if n == N {
                break 'r;
            }
        }
    }
    let raw_walk = t0.elapsed();
    assert_eq!(sum, raw_sum, "value and raw walks read the same data");

    // One member read against the raw read it stands for.
    const M: u32 = 1_000_000;
    let t = Value::at(ty, init);
    let off = s.offset_of("struct task_struct", "se.avg.load_avg")?;
    let t0 = Instant::now();
    let mut x = 0u64;
    for _ in 0..M {
        x = x.wrapping_add(t.member_u64(&s, "se.avg.load_avg")?);
    }
    let member = t0.elapsed();
    let t0 = Instant::now();
    let mut y = 0u64;
    for _ in 0..M {
        y = y.wrapping_add(s.read_u64(Kva(init + off))?);
    }
    let raw = t0.elapsed();
    assert_eq!(x, y);

    println!(
        "list walk {N} x 3 members (Value): {:.2} ms",
        value_walk.as_secs_f64() * 1e3
    );
    println!(
        "list walk {N} x 3 members (raw reads): {:.2} ms",
        raw_walk.as_secs_f64() * 1e3
    );
    println!(
        "member read se.avg.load_avg: {:.0} ns; raw read_u64: {:.0} ns; ratio {:.2}",
        member.as_nanos() as f64 / f64::from(M),
        raw.as_nanos() as f64 / f64::from(M),
        member.as_secs_f64() / raw.as_secs_f64()
    );
    println!(
        "walk ratio Value/raw: {:.2}",
        value_walk.as_secs_f64() / raw_walk.as_secs_f64()
    );
    Ok(())
}
