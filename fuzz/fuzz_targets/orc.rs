//! Fuzz target: ORC unwind tables (`.orc_unwind_ip` and `.orc_unwind`) in both layouts, and
//! lookups in them. Input: a layout byte, an 8-byte base address, then the two tables (as many
//! 4-byte ips as 6-byte entries fit; a mismatch is tried too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkdump::arch::x86_64::orc::{OrcLayout, OrcTable};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((base, rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let base = u64::from_le_bytes(*base);
    let layout = if flags & 1 == 0 {
        OrcLayout::Pre6_4
    } else {
        OrcLayout::Since6_4
    };
    let n = rest.len() / 10;
    let (ips, orcs) = rest.split_at(n * 4);
    // Bit 1: cut one entry off the ORC table, so the counts disagree.
    let orcs = if flags & 2 != 0 && n > 0 {
        &orcs[..(n - 1) * 6]
    } else {
        &orcs[..n * 6]
    };
    if let Ok(t) = OrcTable::parse(base, ips, orcs, layout) {
        let _ = t.len();
        for ip in [0, base, base.wrapping_add(4), base.wrapping_sub(1), u64::MAX] {
            let _ = t.lookup(ip);
        }
        for chunk in ips.chunks_exact(4).take(16) {
            let rel = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let _ = t.lookup(base.wrapping_add(rel as i64 as u64));
        }
    }
});
