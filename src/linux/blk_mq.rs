//! blk-mq: the requests of a request queue that hold a tag, found the way the kernel's busy-tag
//! iterators find them (block/blk-mq-tag.c: bt_for_each over `tags->rqs[]`, bt_tags_for_each
//! with BT_TAG_ITER_STATIC_RQS over `sched_tags->static_rqs[]`), the sbitmap words they scan
//! (lib/sbitmap.c), and the in-flight counts of blk_mq_in_flight_rw(). Used by `dev -d` and,
//! through the script API, by the SCSI analyzer (`stdlib/linux/scsi.rhai`).
//!
//! Must not import `commands` or `script`.

use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::memory::{field, ReadExt};
use crate::session::Session;
use crate::value::{walk, Value};

/// `BLK_MQ_F_TAG_HCTX_SHARED` (5.10+): the hardware queues share `tag_set->shared_tags`.
pub const BLK_MQ_F_TAG_HCTX_SHARED: u64 = 1 << 3;
/// `REQ_OP_MASK` of `cmd_flags` (`REQ_OP_BITS` = 8).
pub const REQ_OP_MASK: u64 = 0xff;
/// `MQ_RQ_IN_FLIGHT` of `enum mq_rq_state`.
pub const MQ_RQ_IN_FLIGHT: u64 = 1;
/// Bound on the tags of one `struct blk_mq_tags` (BLK_MQ_MAX_DEPTH is 10240).
const MAX_TAGS: u64 = 1 << 16;

/// A request that holds a tag of its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyRequest {
    /// `struct request *`.
    pub rq: u64,
    /// The `struct blk_mq_tags *` whose bitmap holds the tag.
    pub tags: u64,
    /// The bit's tag number (reserved tags first, as `rq->tag`/`rq->internal_tag` count).
    pub tag: u64,
    /// Found through a scheduler's tags (`static_rqs[]`) only: allocated, not (yet) given a
    /// driver tag.
    pub sched: bool,
    /// `rq->state` (`enum mq_rq_state`: 0 idle, 1 in flight, 2 complete).
    pub state: u64,
    /// `op_is_write(rq->cmd_flags)`.
    pub write: bool,
}

/// The set bits of the `struct sbitmap` at `sb` (`word & ~cleared` of each word, as
/// sbitmap_for_each_set() sees them).
pub fn sbitmap_set_bits(s: &Session, sb: u64) -> Result<Vec<u64>> {
    let v = Value::at(s.find_type("struct sbitmap")?, sb);
    let depth = v.member_u64(s, "depth")?;
    let shift = v.member_u64(s, "shift")?.min(63);
    let map_nr = v.member_u64(s, "map_nr")?.min(1 << 16);
    let map = v.member_u64(s, "map")?;
    let wt = s.find_type("struct sbitmap_word")?;
    let wsize = Value::at(wt, map).size(s)?;
    let word_off = s.offset_in(wt, "word")?;
    // `cleared` (4.20+) holds bits freed but not yet folded back into `word`.
    let cleared_off = s.offset_in(wt, "cleared").ok();
    let mut bits = Vec::new();
    for i in 0..map_nr {
        let w = map + i * wsize;
        let mut word = s.read_u64(field(w, word_off)?)?;
        if let Some(c) = cleared_off {
            word &= !s.read_u64(field(w, c)?)?;
        }
        bits.extend(word_bits(word, i, shift, depth));
    }
    Ok(bits)
}

/// The tags of the set bits of word `i` of an sbitmap with `1 << shift` bits per word and
/// `depth` bits in all (the last word may be partial).
fn word_bits(word: u64, i: u64, shift: u64, depth: u64) -> impl Iterator<Item = u64> {
    let base = i << shift;
    let n = depth.saturating_sub(base).min(1 << shift).min(64);
    (0..n)
        .filter(move |b| word & (1 << b) != 0)
        .map(move |b| base + b)
}

/// The hardware contexts of a request queue: the `hctx_table` xarray (5.18+), else the
/// `queue_hw_ctx` array of `nr_hw_queues`.
pub fn hw_ctxs(s: &Session, q: &Value) -> Result<Vec<u64>> {
    if let Ok(xa) = q.member(s, "hctx_table") {
        let a = xa
            .address()
            .ok_or_else(|| Error::Kernel("hctx_table has no address".into()))?;
        return Ok(walk::xarray(s, a, 4096)?
            .items
            .into_iter()
            .map(|(_, h)| h)
            .collect());
    }
    let n = q.member_u64(s, "nr_hw_queues")?.min(4096);
    let arr = q.member_u64(s, "queue_hw_ctx")?;
    (0..n).map(|i| Ok(s.read_u64(Kva(arr + 8 * i))?)).collect()
}

/// A `struct sbitmap_queue` member of `struct blk_mq_tags`: embedded since 5.16, a pointer
/// before.
fn tags_sbitmap(s: &Session, tags: &Value, member: &str) -> Result<u64> {
    let m = tags.member(s, member)?;
    let sbq = match *m.resolved_type(s)? {
        crate::debuginfo::Type::Pointer { .. } => m.to_u64(s)?,
        _ => m
            .address()
            .ok_or_else(|| Error::Kernel(format!("blk_mq_tags.{member} has no address")))?,
    };
    Ok(sbq + s.offset_of("struct sbitmap_queue", "sb")?)
}

/// The busy tags of the `struct blk_mq_tags` at `t`: reserved ones first, then the normal
/// ones numbered after them (`tag + nr_reserved_tags`), as bt_for_each() numbers them.
pub fn busy_tags(s: &Session, t: u64) -> Result<Vec<u64>> {
    let tags = Value::at(s.find_type("struct blk_mq_tags")?, t);
    let reserved = tags.member_u64(s, "nr_reserved_tags")?;
    let mut busy = Vec::new();
    if reserved > 0 {
        busy.extend(sbitmap_set_bits(
            s,
            tags_sbitmap(s, &tags, "breserved_tags")?,
        )?);
    }
    busy.extend(
        sbitmap_set_bits(s, tags_sbitmap(s, &tags, "bitmap_tags")?)?
            .into_iter()
            .map(|b| b + reserved),
    );
    busy.retain(|&b| b < MAX_TAGS);
    Ok(busy)
}

/// The driver tag sets a queue's requests take tags from: the set's `shared_tags` with
/// `BLK_MQ_F_TAG_HCTX_SHARED`, else each hardware context's `tags`; and the scheduler tag sets
/// (`hctx->sched_tags`, present while an I/O scheduler is attached).
fn tag_sets(s: &Session, q: &Value) -> Result<(Vec<u64>, Vec<u64>)> {
    let set = q.member(s, "tag_set")?;
    let shared = set.member_u64(s, "flags").unwrap_or(0) & BLK_MQ_F_TAG_HCTX_SHARED != 0;
    let ht = s.find_type("struct blk_mq_hw_ctx")?;
    let hctxs: Vec<Value> = hw_ctxs(s, q)?
        .into_iter()
        .filter(|&h| h != 0)
        .map(|h| Value::at(ht, h))
        .collect();
    let mut driver = match set.member_u64(s, "shared_tags") {
        Ok(t) if shared && t != 0 => vec![t],
        _ => hctxs
            .iter()
            .map(|h| Ok(h.member_u64(s, "tags")?))
            .collect::<Result<Vec<_>>>()?,
    };
    let mut sched: Vec<u64> = hctxs
        .iter()
        .filter_map(|h| h.member_u64(s, "sched_tags").ok())
        .collect();
    for v in [&mut driver, &mut sched] {
        v.retain(|&t| t != 0);
        v.sort_unstable();
        v.dedup();
    }
    Ok((driver, sched))
}

/// The requests of the `struct request_queue` at `qaddr` that hold a tag: each busy driver
/// tag's `tags->rqs[tag]`, then each busy scheduler tag's `sched_tags->static_rqs[tag]` not
/// already seen, keeping those whose `rq->q` is this queue (a shared tag set serves several
/// queues). Requests that cannot be read are left out.
pub fn busy_requests(s: &Session, qaddr: u64) -> Result<Vec<BusyRequest>> {
    let q = Value::at(s.find_type("struct request_queue")?, qaddr);
    let (driver, sched) = tag_sets(s, &q)?;
    let tt = s.find_type("struct blk_mq_tags")?;
    let rt = s.find_type("struct request")?;
    let mut out: Vec<BusyRequest> = Vec::new();
    for (sets, array, is_sched) in [(driver, "rqs", false), (sched, "static_rqs", true)] {
        for t in sets {
            let rqs = Value::at(tt, t).member_u64(s, array)?;
            for tag in busy_tags(s, t)? {
                let rq = s.read_u64(Kva(rqs + 8 * tag)).unwrap_or(0);
                if rq == 0 || out.iter().any(|r| r.rq == rq) {
                    continue;
                }
                let v = Value::at(rt, rq);
                if v.member_u64(s, "q").unwrap_or(0) != qaddr {
                    continue;
                }
                let Ok(state) = v.member_u64(s, "state") else {
                    continue;
                };
                let write = v.member_u64(s, "cmd_flags").unwrap_or(0) & REQ_OP_MASK & 1 != 0;
                out.push(BusyRequest {
                    rq,
                    tags: t,
                    tag,
                    sched: is_sched,
                    state,
                    write,
                });
            }
        }
    }
    Ok(out)
}

/// blk-mq in flight, the way blk_mq_in_flight_rw() and crash count it: the requests of the
/// queue holding a driver tag that are started (`MQ_RQ_IN_FLIGHT`), split by op_is_write()
/// into (reads, writes).
pub fn in_flight_rw(s: &Session, qaddr: u64) -> Result<(u64, u64)> {
    let (mut r, mut w) = (0, 0);
    for b in busy_requests(s, qaddr)? {
        if b.sched || b.state != MQ_RQ_IN_FLIGHT {
            continue;
        }
        if b.write {
            w += 1;
        } else {
            r += 1;
        }
    }
    Ok((r, w))
}

/// blk_mq_rq_to_pdu(): the driver's per-request data (a `struct scsi_cmnd` for SCSI) sits
/// right after the `struct request` at `rq`.
pub fn rq_to_pdu(s: &Session, rq: u64) -> Result<u64> {
    let size = Value::at(s.find_type("struct request")?, rq).size(s)?;
    rq.checked_add(size)
        .ok_or_else(|| Error::Kernel(format!("request at {rq:#x}: pdu address overflows")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_bits_number_tags_by_word_and_stop_at_depth() {
        // 64 bits per word, depth 100: word 1 holds tags 64..99 only.
        assert_eq!(word_bits(0b1010, 0, 6, 100).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(
            word_bits(u64::MAX, 1, 6, 100).collect::<Vec<_>>(),
            (64..100).collect::<Vec<_>>()
        );
        // 8 bits per word: bits past the word's width are not tags of this word.
        assert_eq!(
            word_bits(0x1ff, 2, 3, 64).collect::<Vec<_>>(),
            (16..24).collect::<Vec<_>>()
        );
        assert_eq!(word_bits(1, 5, 6, 100).count(), 0);
    }
}
