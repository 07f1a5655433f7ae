//! Shared by the fuzz targets: exercise an opened dump the way the rest of rkdump will
//! (metadata, reads at range edges, page-crossing and far-away reads).

use rkdump::addr::Pa;
use rkdump::dump::Dump;

/// Reads around every range edge (bounded) and at a few fixed addresses.
pub fn exercise(d: &dyn Dump) {
    let _ = d.format().to_string();
    let _ = d.cpus().len();
    let _ = d.stored_pages();
    let _ = d.timestamp();
    if let Some(v) = d.vmcoreinfo() {
        let _ = (v.osrelease(), v.kernel_offset());
    }
    let mut buf = vec![0u8; 4096 + 64];
    for r in d.ranges().iter().take(16) {
        let _ = d.read_phys(r.start, &mut buf[..64]);
        let _ = d.read_phys(Pa(r.start.0.wrapping_add(4064)), &mut buf);
        let last = r.start.0.wrapping_add(r.len).wrapping_sub(32);
        let _ = d.read_phys(Pa(last), &mut buf[..64]);
    }
    for pa in [0u64, 0x1000, 0xfff, 0x10_0000, u64::MAX - 16] {
        let _ = d.read_phys(Pa(pa), &mut buf);
    }
}
