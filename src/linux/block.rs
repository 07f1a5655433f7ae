//! Block devices: the disks of `block_class` (`struct gendisk` behind each `part0` device) with
//! their queues and the I/O in flight (blk-mq busy tags, or the per-CPU `bd_stats` of
//! bio-based drivers such as device-mapper).

use super::blk_mq;
use super::device::class_devices_head;
use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::memory::ReadExt;
use crate::session::Session;
use crate::value::{walk, Value};

/// One disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskInfo {
    /// `disk->major`.
    pub major: u64,
    /// `disk->first_minor`.
    pub minor: u64,
    /// `struct gendisk *`.
    pub gendisk: u64,
    /// `disk->disk_name`.
    pub name: String,
    /// `disk->queue`.
    pub queue: u64,
    /// Reads in flight.
    pub reads: u64,
    /// Writes in flight.
    pub writes: u64,
    /// Whether the queue is blk-mq (`q->mq_ops` set).
    pub mq: bool,
}

/// The disks of `block_class`, in class order.
pub fn disks(s: &Session) -> Result<(Vec<DiskInfo>, Vec<String>)> {
    let (class, _) = s.global("block_class")?;
    let disk_type = s
        .symbol_addr("disk_type")
        .ok_or_else(|| Error::Kernel("no disk_type symbol".into()))?;
    let head = class_devices_head(s, class)?;
    let dpt = s.find_type("struct device_private")?;
    let devt = s.find_type("struct device")?;
    let bdt = s.find_type("struct block_device")?;
    let gdt = s.find_type("struct gendisk")?;
    let knode = s.offset_in(dpt, "knode_class.n_node")?;
    let w = walk::list(
        s,
        walk::ListStart::Head(head),
        &walk::ListOpts {
            bound: 1 << 20,
            ..Default::default()
        },
    );
    let mut warnings = w.warnings;
    let mut in_flight_errors = Vec::new();
    let mut out = Vec::new();
    for node in w.items {
        let dp = Value::at(dpt, node - knode);
        let r = (|| -> Result<Option<DiskInfo>> {
            let dev = dp.member_u64(s, "device")?;
            let dv = Value::at(devt, dev);
            if dv.member_u64(s, "type")? != disk_type {
                return Ok(None);
            }
            // 6.1: disk_to_dev(disk) is &disk->part0->bd_device.
            let bdev = dev - s.offset_in(bdt, "bd_device")?;
            let bd = Value::at(bdt, bdev);
            let gendisk = bd.member_u64(s, "bd_disk")?;
            let disk = Value::at(gdt, gendisk);
            let name = disk.member(s, "disk_name")?.string(s)?;
            let queue = disk.member_u64(s, "queue")?;
            let mq = disk.member_u64(s, "queue.mq_ops").unwrap_or(0) != 0;
            let counted = if mq {
                blk_mq::in_flight_rw(s, queue)
            } else {
                part_in_flight(s, &bd)
            };
            let (reads, writes) = counted.unwrap_or_else(|e| {
                in_flight_errors.push(format!("{name}: I/O in flight not counted: {e}"));
                (0, 0)
            });
            Ok(Some(DiskInfo {
                major: disk.member_u64(s, "major")?,
                minor: disk.member_u64(s, "first_minor").unwrap_or(0),
                gendisk,
                name,
                queue,
                reads,
                writes,
                mq,
            }))
        })();
        match r {
            Ok(Some(d)) => out.push(d),
            Ok(None) => {}
            Err(e) => warnings.push(format!("device_private at {:#x}: {e}", node - knode)),
        }
    }
    warnings.extend(in_flight_errors);
    Ok((out, warnings))
}

/// `part_in_flight()` split by direction: the per-CPU `bd_stats->in_flight[READ, WRITE]`.
fn part_in_flight(s: &Session, bd: &Value) -> Result<(u64, u64)> {
    let stats = bd.member_u64(s, "bd_stats")?;
    let off = s.offset_of("struct disk_stats", "in_flight")?;
    let (mut r, mut w) = (0i64, 0i64);
    for cpu in s.per_cpu_offsets() {
        let a = stats.wrapping_add(*cpu) + off;
        r += i64::from(s.read_u32(Kva(a))? as i32);
        w += i64::from(s.read_u32(crate::memory::field(a, 4)?)? as i32);
    }
    Ok((r.max(0) as u64, w.max(0) as u64))
}
