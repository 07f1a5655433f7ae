//! `log`: the kernel message buffer, like crash's `log` and `dmesg`.

use super::{Command, Opts};
use crate::error::Result;
use crate::printk::{format_timestamp, read_log};
use crate::session::Session;
use crate::sysinfo::{format_date_utc, monotonic_ns, wall_seconds};
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
                format!("[{}] ", format_date_utc(b + (r.ts_nsec / 1_000_000_000) as i64))
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
}
