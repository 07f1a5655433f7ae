//! A bounded cache of decompressed pages shared by reader threads: sharded, direct-mapped
//! (each page frame has exactly one slot), each shard behind its own `Mutex`. Consecutive frames
//! land in different shards, so sequential and parallel readers rarely contend.
//!
//! Must not import `debuginfo` or `arch`.

use std::sync::{Mutex, MutexGuard};

const EMPTY: u64 = u64::MAX;

struct Shard {
    tags: Vec<u64>,
    /// One buffer per slot, allocated on its first insert (an unused cache costs nothing).
    pages: Vec<Box<[u8]>>,
}

/// Sharded direct-mapped page cache.
pub struct PageCache {
    shards: Vec<Mutex<Shard>>,
    slots: usize,
    page: usize,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PageCache({} shards x {} slots x {} bytes)",
            self.shards.len(),
            self.slots,
            self.page
        )
    }
}

impl PageCache {
    /// A cache of `shards * slots` pages of `page` bytes (memory is allocated lazily per shard).
    pub fn new(shards: usize, slots: usize, page: usize) -> Self {
        let shards = shards.max(1);
        let slots = slots.max(1);
        Self {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        tags: Vec::new(),
                        pages: Vec::new(),
                    })
                })
                .collect(),
            slots,
            page,
        }
    }

    fn locate(&self, pfn: u64) -> (Option<MutexGuard<'_, Shard>>, usize) {
        let n = self.shards.len() as u64;
        let shard = self
            .shards
            .get((pfn % n) as usize)
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()));
        let slot = ((pfn / n) % self.slots as u64) as usize;
        (shard, slot)
    }

    /// Copies `out.len()` bytes at `offset` inside cached page `pfn` into `out`; false on a miss.
    pub fn get(&self, pfn: u64, offset: usize, out: &mut [u8]) -> bool {
        let (Some(shard), slot) = self.locate(pfn) else {
            return false;
        };
        if shard.tags.get(slot) != Some(&pfn) {
            return false;
        }
        let Some(end) = offset.checked_add(out.len()) else {
            return false;
        };
        match shard.pages.get(slot).and_then(|p| p.get(offset..end)) {
            Some(src) => {
                out.copy_from_slice(src);
                true
            }
            None => false,
        }
    }

    /// Stores page `pfn` (must be exactly one page long), evicting whatever held its slot.
    pub fn insert(&self, pfn: u64, page: &[u8]) {
        if page.len() != self.page || pfn == EMPTY {
            return;
        }
        let (Some(mut shard), slot) = self.locate(pfn) else {
            return;
        };
        if shard.tags.is_empty() {
            shard.tags = vec![EMPTY; self.slots];
            shard.pages = (0..self.slots).map(|_| Box::default()).collect();
        }
        let Some(buf) = shard.pages.get_mut(slot) else {
            return;
        };
        if buf.len() != self.page {
            *buf = vec![0u8; self.page].into_boxed_slice();
        }
        buf.copy_from_slice(page);
        if let Some(t) = shard.tags.get_mut(slot) {
            *t = pfn;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_miss_evict() {
        let c = PageCache::new(4, 2, 8);
        let mut out = [0u8; 4];
        assert!(!c.get(5, 0, &mut out));
        c.insert(5, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(c.get(5, 2, &mut out));
        assert_eq!(out, [3, 4, 5, 6]);
        assert!(!c.get(5, 6, &mut out)); // past the page
        c.insert(5 + 8, &[9; 8]); // same shard and slot: evicts 5
        assert!(!c.get(5, 0, &mut out));
        assert!(c.get(13, 0, &mut out));
        c.insert(1, &[0; 3]); // wrong size ignored
        assert!(!c.get(1, 0, &mut out));
    }
}
