//! Fuzz target: the DWARF name index over an ELF object (vmlinux or .ko), then lookups of its
//! types and members.
#![no_main]

mod types_common;

use libfuzzer_sys::fuzz_target;
use rkdump::debuginfo::TypeIndex;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    if let Ok(idx) = TypeIndex::build(Arc::new(data.to_vec()), None) {
        types_common::exercise(&idx);
    }
});
