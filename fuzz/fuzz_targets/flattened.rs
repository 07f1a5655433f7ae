//! Fuzz target: flattened-stream indexing, random access to the logical image, and the dump
//! (kdump or ELF) inside it.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use rkdump::dump::{open_in_memory, ByteSource, Bytes, FlattenedSource};

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = FlattenedSource::new(Bytes::Owned(data.to_vec())) {
        let len = src.len();
        let mut buf = [0u8; 300];
        for off in [0, 1, len / 3, len / 2, len.saturating_sub(300), len.saturating_sub(7)] {
            let _ = src.read_at(off, &mut buf);
            let _ = src.slice(off, 100);
        }
    }
    if let Ok(d) = open_in_memory(data.to_vec()) {
        common::exercise(d.as_ref());
    }
});
