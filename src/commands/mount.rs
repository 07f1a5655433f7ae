//! `mount`: the mounts of the initial mount namespace (MOUNT SUPERBLK TYPE DEVNAME DIRNAME),
//! from `init_task.nsproxy->mnt_ns`.

use super::{Command, Data, Opts};
use crate::error::Result;
use crate::linux::fs::mounts;
use crate::session::Session;
use std::io::Write;

/// The `mount` command.
pub struct Mount;

const USAGE: &str = "\
mount
  the mounts of the initial mount namespace: struct mount, super_block, file-system type,
  device name and mount point";

impl Command for Mount {
    fn name(&self) -> &'static str {
        "mount"
    }
    fn summary(&self) -> &'static str {
        "mounted file systems"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        Opts::parse("mount", args, "", "", &[])?;
        let (list, warnings) = mounts(session)?;
        let tw = list
            .iter()
            .map(|m| m.fstype.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let dw = list
            .iter()
            .map(|m| m.devname.len())
            .max()
            .unwrap_or(7)
            .max(7);
        writeln!(
            out,
            "     MOUNT           SUPERBLK     {:<tw$} {:<dw$} DIRNAME",
            "TYPE", "DEVNAME"
        )?;
        for m in &list {
            writeln!(
                out,
                "{:016x} {:016x} {:<tw$} {:<dw$} {}",
                m.mount, m.superblock, m.fstype, m.devname, m.dirname
            )?;
        }
        for w in warnings {
            writeln!(out, "mount: WARNING: {w}")?;
        }
        Ok(())
    }
    fn data(&self, session: &Session, _args: &[String]) -> Result<Data> {
        let (list, _) = mounts(session)?;
        Ok(Data::List(
            list.into_iter()
                .map(|m| {
                    Data::map([
                        ("mount", Data::addr(m.mount)),
                        ("superblock", Data::addr(m.superblock)),
                        ("type", Data::Str(m.fstype)),
                        ("devname", Data::Str(m.devname)),
                        ("dirname", Data::Str(m.dirname)),
                    ])
                })
                .collect(),
        ))
    }
}
