//! `dev -d`: the disks (MAJOR GENDISK NAME REQUEST_QUEUE TOTAL READ WRITE), from the devices of
//! `block_class` whose type is `disk_type`.

use super::{Command, Data, Opts};
use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::memory::ReadExt;
use crate::session::Session;
use crate::value::{walk, Value};
use std::io::Write;

/// The `dev` command (`-d` so far).
pub struct Dev;

const USAGE: &str = "\
dev -d
  -d   the disks: major number, struct gendisk, name, struct request_queue and the I/O in flight
       (total, reads, writes; ASYNC = writes and SYNC = reads before 5.0). In-flight counts are the per-CPU
       part0->bd_stats->in_flight[] sums, which bio-based drivers (device-mapper) keep; blk-mq
       disks are counted from their tag sets' started requests.";

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
    let (class, ct) = s.global("block_class")?;
    let disk_type = s
        .symbol_addr("disk_type")
        .ok_or_else(|| Error::Kernel("no disk_type symbol".into()))?;
    let cls = Value::at(ct, class);
    // Since 6.4 the class's private part is found through class_to_subsys(); before, it is
    // `class->p`. Only the older layout is read here.
    let klist = cls.member(s, "p.klist_devices.k_list")?;
    let head = klist
        .address()
        .ok_or_else(|| Error::Kernel("block_class klist has no address".into()))?;
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
            let (reads, writes) = if mq {
                mq_in_flight(s, &disk).unwrap_or((0, 0))
            } else {
                part_in_flight(s, &bd).unwrap_or((0, 0))
            };
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
        w += i64::from(s.read_u32(Kva(a + 4))? as i32);
    }
    Ok((r.max(0) as u64, w.max(0) as u64))
}

/// blk-mq in flight: the requests of this queue in its hardware contexts' tag sets that are
/// started (`rq->state == MQ_RQ_IN_FLIGHT`), split by `REQ_OP_WRITE` bit of `cmd_flags`.
fn mq_in_flight(s: &Session, disk: &Value) -> Result<(u64, u64)> {
    let qaddr = disk.member_u64(s, "queue")?;
    let q = Value::at(s.find_type("struct request_queue")?, qaddr);
    let n = q.member_u64(s, "nr_hw_queues")?.min(4096);
    let hctxs = q.member_u64(s, "queue_hw_ctx")?;
    let ht = s.find_type("struct blk_mq_hw_ctx")?;
    let rt = s.find_type("struct request")?;
    let (mut r, mut w) = (0, 0);
    for i in 0..n {
        let h = s.read_u64(Kva(hctxs + 8 * i))?;
        if h == 0 {
            continue;
        }
        let tags = Value::at(ht, h).member(s, "tags")?;
        let depth = tags.member_u64(s, "nr_tags")?.min(1 << 16);
        let rqs = tags.member_u64(s, "rqs")?;
        if rqs == 0 {
            continue;
        }
        for j in 0..depth {
            let rq = s.read_u64(Kva(rqs + 8 * j)).unwrap_or(0);
            if rq == 0 {
                continue;
            }
            let v = Value::at(rt, rq);
            // enum mq_rq_state: MQ_RQ_IDLE 0, MQ_RQ_IN_FLIGHT 1, MQ_RQ_COMPLETE 2.
            if v.member_u64(s, "q").unwrap_or(0) != qaddr
                || v.member_u64(s, "state").unwrap_or(0) != 1
            {
                continue;
            }
            // REQ_OP_WRITE and the other data-out ops have the low bit set (op_is_write).
            if v.member_u64(s, "cmd_flags").unwrap_or(0) & 1 != 0 {
                w += 1;
            } else {
                r += 1;
            }
        }
    }
    Ok((r, w))
}

impl Command for Dev {
    fn name(&self) -> &'static str {
        "dev"
    }
    fn summary(&self) -> &'static str {
        "devices: the -d disk list with I/O in flight"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("dev", args, "d", "", &[])?;
        if !o.has("d") {
            return Err(Error::Usage(format!("dev: only -d is supported\n{USAGE}")));
        }
        let (list, warnings) = disks(session)?;
        // Kernels before 5.0 count requests by BLK_RW_ASYNC/BLK_RW_SYNC and crash names the
        // columns so; later ones by READ/WRITE.
        let sync = session
            .types()
            .is_ok_and(|t| t.enumerator("BLK_RW_SYNC").is_some());
        let (c1, c2) = if sync {
            ("ASYNC", "SYNC")
        } else {
            ("READ", "WRITE")
        };
        writeln!(
            out,
            "MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL {c1:>5} {c2:>5}"
        )?;
        for d in &list {
            let (a, b) = if sync {
                (d.writes, d.reads)
            } else {
                (d.reads, d.writes)
            };
            writeln!(
                out,
                "{:>5} {:016x}   {:<10} {:016x} {:>7} {a:>5} {b:>5}",
                d.major,
                d.gendisk,
                d.name,
                d.queue,
                d.reads + d.writes,
            )?;
        }
        for w in warnings {
            writeln!(out, "dev: WARNING: {w}")?;
        }
        Ok(())
    }
    fn data(&self, session: &Session, _args: &[String]) -> Result<Data> {
        let (list, _) = disks(session)?;
        Ok(Data::List(
            list.into_iter()
                .map(|d| {
                    Data::map([
                        ("major", Data::Int(d.major as i64)),
                        ("minor", Data::Int(d.minor as i64)),
                        ("gendisk", Data::Int(d.gendisk as i64)),
                        ("name", Data::Str(d.name)),
                        ("request_queue", Data::Int(d.queue as i64)),
                        ("total", Data::Int((d.reads + d.writes) as i64)),
                        ("async", Data::Int(d.writes as i64)),
                        ("sync", Data::Int(d.reads as i64)),
                        ("mq", Data::Bool(d.mq)),
                    ])
                })
                .collect(),
        ))
    }
}
