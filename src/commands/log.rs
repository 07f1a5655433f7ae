//! `log`: the kernel message buffer, like crash's `log` and `dmesg`.

use super::{Command, Data, Opts};
use crate::error::Result;
use crate::linux::printk::{format_timestamp, read_log, LogRecord};
use crate::linux::sysinfo::{format_date_utc, monotonic_ns, wall_seconds};
use crate::session::Session;
use std::io::Write;

/// The `log` command.
pub struct Log;

const USAGE: &str = "\
log [-t] [-T] [-m]
  (no option)  each line with its [seconds.micros] timestamp since boot
  -t           no timestamps
  -T           wall-clock timestamps (UTC), from the dump's clock
  -m           prefix each line with its log level, <N>";

impl Command for Log {
    fn name(&self) -> &'static str {
        "log"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["dmesg"]
    }
    fn summary(&self) -> &'static str {
        "dump the kernel message buffer"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("log", args, "tTm", "", &[])?;
        let records = read_log(session)?;
        // Wall time of boot = wall clock now - monotonic clock now (no suspend in a dump).
        let boot_wall = match (wall_seconds(session), monotonic_ns(session)) {
            (Some(w), Some(m)) if o.has("T") => Some(w - (m / 1_000_000_000) as i64),
            _ => None,
        };
        for r in &records {
            let level = if o.has("m") {
                format!("<{}>", r.level)
            } else {
                String::new()
            };
            let stamp = if o.has("t") {
                String::new()
            } else if let Some(b) = boot_wall {
                format!(
                    "[{}] ",
                    format_date_utc(b + (r.ts_nsec / 1_000_000_000) as i64)
                )
            } else {
                format!("{} ", format_timestamp(r.ts_nsec))
            };
            // Continuation lines of one record are indented under the first, as crash does.
            for (i, line) in r.text.split('\n').enumerate() {
                if i == 0 {
                    writeln!(out, "{level}{stamp}{line}")?;
                } else {
                    writeln!(out, "{level}{:w$}{line}", "", w = stamp.len())?;
                }
            }
        }
        Ok(())
    }
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        Opts::parse("log", args, "tTm", "", &[])?;
        Ok(Data::list(read_log(session)?.iter().map(record_data)))
    }
}

/// `printk`'s caller id as the kernel prints it: `T<pid>`, or `C<cpu>` when bit 31 is set.
fn caller(id: u32) -> String {
    if id & 0x8000_0000 != 0 {
        format!("C{}", id & 0x7fff_ffff)
    } else {
        format!("T{id}")
    }
}

/// One record: `{seq, timestamp_ns, level, facility, caller, text}` (`text` may hold several
/// lines).
fn record_data(r: &LogRecord) -> Data {
    Data::map([
        ("seq", Data::uint(r.seq)),
        ("timestamp_ns", Data::uint(r.ts_nsec)),
        ("level", Data::Int(r.level.into())),
        ("facility", Data::Int(r.facility.into())),
        ("caller", Data::Str(caller(r.caller_id))),
        ("text", Data::Str(r.text.clone())),
    ])
}
