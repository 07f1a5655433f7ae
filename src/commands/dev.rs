//! `dev -d`: the disks (MAJOR GENDISK NAME REQUEST_QUEUE TOTAL READ WRITE), from the devices of
//! `block_class` whose type is `disk_type`.

use super::{Command, Data, Opts};
use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::linux::blk_mq;
use crate::memory::{MemoryReader, ReadExt};
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
       disks count the started requests of the queue among the busy tags of its tag sets, as
       the kernel's blk_mq_in_flight_rw() and crash do.";

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

/// Where a `struct class` keeps its private part (`struct subsys_private`, which holds the
/// `klist_devices` of the class's devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassLayout {
    /// Before 6.4: the `class->p` pointer.
    ClassP,
    /// 6.4 and later (class made const, `p` removed): class_to_subsys() looks for the
    /// `subsys_private` on `class_kset`'s list whose `class` member points to the class.
    ClassKset,
}

impl ClassLayout {
    /// The layout given what the types have: `struct class` member `p`, `struct
    /// subsys_private` member `class`.
    pub fn select(class_has_p: bool, subsys_has_class: bool) -> Option<Self> {
        match (class_has_p, subsys_has_class) {
            (true, _) => Some(ClassLayout::ClassP),
            (false, true) => Some(ClassLayout::ClassKset),
            (false, false) => None,
        }
    }

    /// The layout of the kernel of `s`.
    pub fn of(s: &Session) -> Option<Self> {
        Self::select(
            s.offset_of("struct class", "p").is_ok(),
            s.offset_of("struct subsys_private", "class").is_ok(),
        )
    }
}

/// Offsets for the 6.4+ class_to_subsys() walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubsysOffsets {
    /// `kobject.entry` (the node on the kset's list).
    pub kobj_entry: u64,
    /// `subsys_private.subsys.kobj`.
    pub subsys_kobj: u64,
    /// `subsys_private.class`.
    pub class: u64,
}

/// 6.4+ class_to_subsys(): the `subsys_private` on the kset list at `head` (`&class_kset->list`)
/// whose `class` is `class`; `None` when no entry matches or the list cannot be read.
pub fn find_class_subsys(
    mem: &dyn MemoryReader,
    head: u64,
    o: &SubsysOffsets,
    class: u64,
) -> Option<u64> {
    let mut node = mem.read_u64(Kva(head)).ok()?;
    let mut seen = 0;
    while node != head && node != 0 && seen < 4096 {
        let sp = node.checked_sub(o.kobj_entry)?.checked_sub(o.subsys_kobj)?;
        if mem.read_u64(crate::memory::field(sp, o.class).ok()?).ok()? == class {
            return Some(sp);
        }
        node = mem.read_u64(Kva(node)).ok()?;
        seen += 1;
    }
    None
}

/// `&subsys_private->klist_devices.k_list` of the class at `class`, on the kernel's layout.
pub fn class_devices_head(s: &Session, class: u64) -> Result<u64> {
    let klist = s.offset_of("struct subsys_private", "klist_devices.k_list")?;
    Ok(class_subsys(s, class, ClassLayout::of(s))? + klist)
}

/// The `struct subsys_private` of the class at `class`, found the way `layout` says. (6.1
/// kernels have both `class->p` and the `class_kset` list, so both ways can be checked there.)
pub fn class_subsys(s: &Session, class: u64, layout: Option<ClassLayout>) -> Result<u64> {
    let sp = match layout {
        Some(ClassLayout::ClassP) => s.read_u64(Kva(class + s.offset_of("struct class", "p")?))?,
        Some(ClassLayout::ClassKset) => {
            let kset_ptr = s
                .symbol_addr("class_kset")
                .ok_or_else(|| Error::Kernel("no class_kset symbol".into()))?;
            let kset = s.read_u64(Kva(kset_ptr))?;
            let head = kset + s.offset_of("struct kset", "list")?;
            let o = SubsysOffsets {
                kobj_entry: s.offset_of("struct kobject", "entry")?,
                subsys_kobj: s.offset_of("struct subsys_private", "subsys.kobj")?,
                class: s.offset_of("struct subsys_private", "class")?,
            };
            find_class_subsys(s, head, &o, class).ok_or_else(|| {
                Error::Kernel(format!(
                    "no subsys_private for the class at {class:#x} on class_kset"
                ))
            })?
        }
        None => {
            return Err(Error::Kernel(
                "struct class has neither p nor a subsys_private.class back-pointer".into(),
            ))
        }
    };
    if sp == 0 {
        return Err(Error::Kernel(format!(
            "the class at {class:#x} has no private part (not registered)"
        )));
    }
    Ok(sp)
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
                        ("gendisk", Data::addr(d.gendisk)),
                        ("name", Data::Str(d.name)),
                        ("request_queue", Data::addr(d.queue)),
                        ("total", Data::Int((d.reads + d.writes) as i64)),
                        ("read", Data::Int(d.reads as i64)),
                        ("write", Data::Int(d.writes as i64)),
                        ("async", Data::Int(d.writes as i64)),
                        ("sync", Data::Int(d.reads as i64)),
                        ("mq", Data::Bool(d.mq)),
                    ])
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MockMemory;

    #[test]
    fn class_layout_follows_the_types() {
        assert_eq!(ClassLayout::select(true, false), Some(ClassLayout::ClassP));
        assert_eq!(
            ClassLayout::select(false, true),
            Some(ClassLayout::ClassKset)
        );
        assert_eq!(ClassLayout::select(false, false), None);
    }

    #[test]
    fn class_subsys_is_found_on_the_kset_list() {
        // A kset list head and two subsys_private entries; the second belongs to the class.
        let o = SubsysOffsets {
            kobj_entry: 0x10,
            subsys_kobj: 0x08,
            class: 0x100,
        };
        let (head, sp1, sp2, class) = (0x1000u64, 0x2000u64, 0x3000u64, 0x9000u64);
        let node = |sp: u64| sp + o.subsys_kobj + o.kobj_entry;
        let mut m = MockMemory::new();
        m.write_u64(head, node(sp1));
        m.write_u64(node(sp1), node(sp2));
        m.write_u64(node(sp2), head);
        m.write_u64(sp1 + o.class, 0x8000);
        m.write_u64(sp2 + o.class, class);
        assert_eq!(find_class_subsys(&m, head, &o, class), Some(sp2));
        assert_eq!(find_class_subsys(&m, head, &o, 0x7000), None);
        // A broken link ends the walk without a match.
        m.write_u64(node(sp1), 0xdead_0000);
        assert_eq!(find_class_subsys(&m, head, &o, class), None);
    }
}
