//! `dev -d`: the disks (MAJOR GENDISK NAME REQUEST_QUEUE TOTAL READ WRITE) as the kernel
//! layer's `linux::block::disks` lists them.

use super::{Command, Data, Opts};
use crate::error::{Error, Result};
use crate::linux::block::disks;
use crate::session::Session;
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
