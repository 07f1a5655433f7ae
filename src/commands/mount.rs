//! `mount`: the mounts of the initial mount namespace (MOUNT SUPERBLK TYPE DEVNAME DIRNAME),
//! from `init_task.nsproxy->mnt_ns`.

use super::files::d_path;
use super::{Command, Data, Opts};
use crate::addr::Kva;
use crate::error::Result;
use crate::memory::ReadExt;
use crate::session::Session;
use crate::value::{walk, Value};
use std::io::Write;

/// The `mount` command.
pub struct Mount;

const USAGE: &str = "\
mount
  the mounts of the initial mount namespace: struct mount, super_block, file-system type,
  device name and mount point";

/// One mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// `struct mount *`.
    pub mount: u64,
    /// `mnt.mnt_sb`.
    pub superblock: u64,
    /// `mnt_sb->s_type->name`.
    pub fstype: String,
    /// `mnt_devname`.
    pub devname: String,
    /// The mount point's path.
    pub dirname: String,
}

/// The mounts of `init_task`'s mount namespace, in namespace order, plus warnings.
pub fn mounts(s: &Session) -> Result<(Vec<MountInfo>, Vec<String>)> {
    let (init, tt) = s.global("init_task")?;
    let ns = Value::at(tt, init).member(s, "nsproxy.mnt_ns")?;
    let mt = s.find_type("struct mount")?;
    let mut warnings = Vec::new();
    // Before 6.8 the namespace's mounts are on `mnt_ns->list` (linked by `mount.mnt_list`);
    // since 6.8 (2eea9ce4310d "mounts: keep list of mounts in an rbtree") they are in the
    // rbtree `mnt_ns->mounts`, keyed by mount id, linked by `mount.mnt_node`.
    let addrs: Vec<u64> = if ns.has_member(s, "list") {
        let head = ns.member(s, "list")?.address().unwrap_or(0);
        let link = s.offset_in(mt, "mnt_list")?;
        let w = walk::list(
            s,
            walk::ListStart::Head(head),
            &walk::ListOpts {
                bound: 1 << 20,
                ..Default::default()
            },
        );
        warnings.extend(w.warnings);
        w.items.into_iter().map(|n| n - link).collect()
    } else {
        let root = ns.member(s, "mounts")?.address().unwrap_or(0);
        let link = s.offset_in(mt, "mnt_node")?;
        let w = walk::rbtree(s, root, false, 1 << 20)?;
        warnings.extend(w.warnings);
        w.items.into_iter().map(|n| n - link).collect()
    };
    let mut out = Vec::new();
    for m in addrs {
        let v = Value::at(mt, m);
        let info = (|| -> Result<MountInfo> {
            let sb = v.member_u64(s, "mnt.mnt_sb")?;
            let fstype = v
                .member_u64(s, "mnt.mnt_sb.s_type.name")
                .ok()
                .and_then(|p| s.read_cstring(Kva(p), 64).ok())
                .unwrap_or_default();
            let devname = v
                .member_u64(s, "mnt_devname")
                .ok()
                .and_then(|p| s.read_cstring(Kva(p), 256).ok())
                .unwrap_or_default();
            let parent = v.member_u64(s, "mnt_parent")?;
            let mp = v.member_u64(s, "mnt_mountpoint")?;
            let mnt_off = s.offset_in(mt, "mnt")?;
            let dirname = if parent == m {
                "/".to_string()
            } else {
                d_path(s, parent + mnt_off, mp)?
            };
            Ok(MountInfo {
                mount: m,
                superblock: sb,
                fstype,
                devname,
                dirname,
            })
        })();
        match info {
            Ok(i) => out.push(i),
            Err(e) => warnings.push(format!("struct mount at {m:#x}: {e}")),
        }
    }
    Ok((out, warnings))
}

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
