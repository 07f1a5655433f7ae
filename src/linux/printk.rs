//! The kernel log from the printk ring buffer (the lockless `struct printk_ringbuffer` of
//! Linux 5.10+: a descriptor ring, an info array and a text data ring), and the panic message
//! found in it.
//!
//! Must not import `commands` or `script`.

use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::memory::ReadExt;
use crate::session::Session;

/// Descriptor state, the top two bits of `prb_desc.state_var` (`desc_committed` = 1,
/// `desc_finalized` = 2; reserved = 0 and reusable = 3 hold no readable record).
const DESC_SV_BITS: u32 = 64;
const DESC_COMMITTED: u64 = 1;
const DESC_FINALIZED: u64 = 2;
/// `lpos` values with bit 0 set mark data-less records (`FAILED_LPOS`, `NO_LPOS`).
const LPOS_DATALESS: u64 = 1;
/// Most records read (the ring's descriptor count bounds it anyway).
const MAX_RECORDS: u64 = 1 << 22;

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Sequence number.
    pub seq: u64,
    /// Nanoseconds since boot (local clock).
    pub ts_nsec: u64,
    /// Log level (0 = emerg … 7 = debug).
    pub level: u8,
    /// Syslog facility.
    pub facility: u8,
    /// `caller_id`: thread id, or CPU id with bit 31 set.
    pub caller_id: u32,
    /// The text (one record may hold several lines).
    pub text: String,
}

struct Offsets {
    desc_ring: u64,
    text_ring: u64,
    count_bits: u64,
    descs: u64,
    infos: u64,
    head_id: u64,
    tail_id: u64,
    desc_size: u64,
    state_var: u64,
    text_begin: u64,
    text_next: u64,
    info_size: u64,
    seq: u64,
    ts_nsec: u64,
    text_len: u64,
    facility: u64,
    caller_id: u64,
    size_bits: u64,
    data: u64,
}

fn offsets(s: &Session) -> Result<Offsets> {
    let ring = s.find_type("struct printk_ringbuffer")?;
    let desc = s.find_type("struct prb_desc")?;
    let info = s.find_type("struct printk_info")?;
    let types = s.types()?;
    Ok(Offsets {
        desc_ring: s.offset_in(ring, "desc_ring")?,
        text_ring: s.offset_in(ring, "text_data_ring")?,
        count_bits: s.offset_in(ring, "desc_ring.count_bits")? - s.offset_in(ring, "desc_ring")?,
        descs: s.offset_in(ring, "desc_ring.descs")? - s.offset_in(ring, "desc_ring")?,
        infos: s.offset_in(ring, "desc_ring.infos")? - s.offset_in(ring, "desc_ring")?,
        head_id: s.offset_in(ring, "desc_ring.head_id")? - s.offset_in(ring, "desc_ring")?,
        tail_id: s.offset_in(ring, "desc_ring.tail_id")? - s.offset_in(ring, "desc_ring")?,
        desc_size: types.size_of(desc)?,
        state_var: s.offset_in(desc, "state_var")?,
        text_begin: s.offset_in(desc, "text_blk_lpos.begin")?,
        text_next: s.offset_in(desc, "text_blk_lpos.next")?,
        info_size: types.size_of(info)?,
        seq: s.offset_in(info, "seq")?,
        ts_nsec: s.offset_in(info, "ts_nsec")?,
        text_len: s.offset_in(info, "text_len")?,
        facility: s.offset_in(info, "facility")?,
        caller_id: s.offset_in(info, "caller_id")?,
        size_bits: s.offset_in(ring, "text_data_ring.size_bits")?
            - s.offset_in(ring, "text_data_ring")?,
        data: s.offset_in(ring, "text_data_ring.data")? - s.offset_in(ring, "text_data_ring")?,
    })
}

/// Reads every finalized or committed record of the printk ring buffer, oldest first.
/// Records whose memory cannot be read are skipped.
pub fn read_log(s: &Session) -> Result<Vec<LogRecord>> {
    let o = offsets(s)?;
    let prb_ptr = s
        .symbol_addr("prb")
        .ok_or_else(|| Error::Kernel("no 'prb' symbol: printk ring buffer not found".into()))?;
    let prb = s.read_u64(Kva(prb_ptr))?;
    let dr = prb + o.desc_ring;
    let tr = prb + o.text_ring;
    let count_bits = s.read_u32(crate::memory::field(dr, o.count_bits)?)?;
    let descs = s.read_u64(crate::memory::field(dr, o.descs)?)?;
    let infos = s.read_u64(crate::memory::field(dr, o.infos)?)?;
    let head = s.read_u64(crate::memory::field(dr, o.head_id)?)?;
    let tail = s.read_u64(crate::memory::field(dr, o.tail_id)?)?;
    let size_bits = s.read_u32(crate::memory::field(tr, o.size_bits)?)?;
    let data = s.read_u64(crate::memory::field(tr, o.data)?)?;
    if count_bits >= 32 || size_bits >= 40 {
        return Err(Error::Kernel(format!(
            "printk ring buffer at {prb:#x} looks corrupt (count_bits {count_bits}, size_bits {size_bits})"
        )));
    }
    let count = 1u64 << count_bits;
    let data_size = 1u64 << size_bits;
    let id_mask = (1u64 << (DESC_SV_BITS - 2)) - 1;
    let mut out = Vec::new();
    let mut id = tail;
    let mut n = 0;
    loop {
        n += 1;
        if n > count.min(MAX_RECORDS) + 1 {
            break;
        }
        let idx = id & (count - 1);
        let d = descs + idx * o.desc_size;
        if let Some(rec) = read_record(
            s,
            &o,
            d,
            infos + idx * o.info_size,
            id,
            id_mask,
            data,
            data_size,
        ) {
            out.push(rec);
        }
        if id == head {
            break;
        }
        id = id.wrapping_add(1) & id_mask;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn read_record(
    s: &Session,
    o: &Offsets,
    desc: u64,
    info: u64,
    id: u64,
    id_mask: u64,
    data: u64,
    data_size: u64,
) -> Option<LogRecord> {
    let sv = s
        .read_u64(crate::memory::field(desc, o.state_var).ok()?)
        .ok()?;
    let state = sv >> (DESC_SV_BITS - 2);
    if (sv & id_mask) != id || !(state == DESC_COMMITTED || state == DESC_FINALIZED) {
        return None;
    }
    let begin = s
        .read_u64(crate::memory::field(desc, o.text_begin).ok()?)
        .ok()?;
    let next = s
        .read_u64(crate::memory::field(desc, o.text_next).ok()?)
        .ok()?;
    let text_len = u64::from(
        s.read_u16(crate::memory::field(info, o.text_len).ok()?)
            .ok()?,
    );
    let text = if begin & LPOS_DATALESS != 0 || next & LPOS_DATALESS != 0 || begin == next {
        String::new()
    } else {
        // A block that wraps lives at the start of the ring; each block begins with its id.
        let start = if begin / data_size == next / data_size {
            begin % data_size
        } else {
            0
        };
        let len = text_len.min(data_size.saturating_sub(start + 8));
        let bytes = s.read_vec(Kva(data + start + 8), len as usize).ok()?;
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let fac_level = s.read_u8(Kva(info + o.facility + 1)).ok()?;
    Some(LogRecord {
        seq: s.read_u64(crate::memory::field(info, o.seq).ok()?).ok()?,
        ts_nsec: s
            .read_u64(crate::memory::field(info, o.ts_nsec).ok()?)
            .ok()?,
        facility: s
            .read_u8(crate::memory::field(info, o.facility).ok()?)
            .ok()?,
        // `u8 flags:5; u8 level:3;` share the byte after `facility`.
        level: fac_level >> 5,
        caller_id: s
            .read_u32(crate::memory::field(info, o.caller_id).ok()?)
            .ok()?,
        text,
    })
}

/// Formats a record's timestamp as `[    5.123456]`.
pub fn format_timestamp(ts_nsec: u64) -> String {
    format!(
        "[{:>5}.{:06}]",
        ts_nsec / 1_000_000_000,
        ts_nsec % 1_000_000_000 / 1000
    )
}

/// Markers of a crash in the log, most specific first (what crash's PANIC line shows).
const PANIC_MARKERS: [&str; 8] = [
    "Kernel panic - not syncing:",
    "SysRq : Crash",
    "SysRq : Trigger a crash",
    "kernel BUG at",
    "BUG: unable to handle",
    "general protection fault",
    "BUG:",
    "Oops:",
];

/// The panic message: the last log line with the most specific crash marker, when the kernel
/// panicked (`panic_cpu` set) or the log shows one.
pub fn panic_message(s: &Session, log: &[LogRecord]) -> Option<String> {
    let panicked = s
        .symbol_addr("panic_cpu")
        .and_then(|a| s.read_u32(Kva(a)).ok())
        .is_some_and(|c| c != u32::MAX);
    for marker in PANIC_MARKERS {
        // Prefer a line that starts with the marker over one quoting it (`---[ end … ]---`).
        let lines = || log.iter().rev().flat_map(|r| r.text.lines().rev());
        let hit = lines()
            .find(|l| l.trim_start().starts_with(marker))
            .map(|l| l.trim().to_string())
            .or_else(|| {
                lines().find_map(|l| l.find(marker).map(|i| l[i..].trim_end().to_string()))
            });
        if hit.is_some() {
            return hit;
        }
        if !panicked {
            break;
        }
    }
    None
}
