//! Fuzz target: ELF64 vmcore parsing and physical reads.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rkdump::dump::ElfDump;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = ElfDump::from_bytes(data.to_vec()) {
        common::exercise(&d);
    }
});
