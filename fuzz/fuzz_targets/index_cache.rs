//! Fuzz target: the on-disk cache of the DWARF name index. The input is the cache's payload
//! (past the checksum that would turn most inputs away); the index it yields over a small real
//! object must answer lookups safely whatever its records point at.
#![no_main]

mod types_common;

use libfuzzer_sys::fuzz_target;
use rkdump::debuginfo::TypeIndex;
use std::sync::Arc;

/// `struct node` and friends, built with `gcc -g -gdwarf-5 -c` (see ../seeds/dwarf).
static OBJECT: &[u8] = include_bytes!("../seeds/dwarf/node-dwarf5.o");

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(idx)) = TypeIndex::from_cache_payload(Arc::new(OBJECT.to_vec()), data) {
        types_common::exercise(&idx);
    }
});
