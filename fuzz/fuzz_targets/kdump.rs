//! Fuzz target: kdump-compressed parsing, descriptor lookup and page decompression.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rkdump::dump::KdumpDump;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = KdumpDump::from_bytes(data.to_vec()) {
        common::exercise(&d);
    }
});
