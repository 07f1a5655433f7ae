//! Fuzz target: VMCOREINFO text and the ELF note walker.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkdump::dump::notes::parse_notes;
use rkdump::dump::VmcoreInfo;

fuzz_target!(|data: &[u8]| {
    let v = VmcoreInfo::parse(data);
    let _ = (v.osrelease(), v.kernel_offset(), v.build_id(), v.crash_time());
    let _ = (v.symbol("init_uts_ns"), v.offset("list_head.next"), v.size("page"));
    let _ = v.number("NR_FREE_PAGES");
    let n = parse_notes(data);
    let _ = n.cpus.len();
});
