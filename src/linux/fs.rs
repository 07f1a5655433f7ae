//! File systems: paths of dentries as `d_path()` builds them (crossing mounts), the mounts of
//! the initial mount namespace, a task's root, cwd and open files, and file-type names.

use crate::addr::Kva;
use crate::error::Result;
use crate::memory::ReadExt;
use crate::session::Session;
use crate::value::{walk, Value};

/// Most path components followed before a dentry chain is declared looping.
const MAX_DEPTH: usize = 256;
/// Most file descriptors looked at.
const MAX_FDS: u64 = 1 << 20;

/// A name from a `struct qstr` (`d_name`).
fn dentry_name(s: &Session, dentry: &Value) -> Result<String> {
    let ptr = dentry.member_u64(s, "d_name.name")?;
    let len = dentry.member_u64(s, "d_name.len").unwrap_or(255).min(255);
    let bytes = s.read_vec(Kva(ptr), len as usize)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `d_path()` of (`vfsmount`, `dentry`): walks `d_parent` to the mount's root, then crosses to
/// `mnt_mountpoint` in `mnt_parent`, until the namespace root. A dentry with a `d_dname`
/// operation (sockets, pipes, anon inodes) gives `name:[inode]` as `/proc` shows it.
pub fn d_path(s: &Session, vfsmnt: u64, dentry: u64) -> Result<String> {
    let dt = s.find_type("struct dentry")?;
    let mt = s.find_type("struct mount")?;
    let mnt_off = s.offset_in(mt, "mnt")?;
    let mut parts: Vec<String> = Vec::new();
    let mut d = dentry;
    let mut mnt = vfsmnt.wrapping_sub(mnt_off);
    if vfsmnt == 0 {
        return dentry_path(s, d);
    }
    for _ in 0..MAX_DEPTH {
        let dv = Value::at(dt, d);
        let mv = Value::at(mt, mnt);
        let mnt_root = mv.member_u64(s, "mnt.mnt_root")?;
        if d == mnt_root {
            let parent = mv.member_u64(s, "mnt_parent")?;
            if parent == mnt || parent == 0 {
                break;
            }
            d = mv.member_u64(s, "mnt_mountpoint")?;
            mnt = parent;
            continue;
        }
        let parent = dv.member_u64(s, "d_parent")?;
        if parent == d {
            // A dentry that is its own parent below no mount root: a pseudo file's dentry
            // (sockfs, pipefs, anon inodes). `/proc` shows it through `d_dname`:
            // `socket:[ino]`, `pipe:[ino]`; others keep their bare name.
            let name = dentry_name(s, &dv)?;
            if parts.is_empty() {
                let inode = dv
                    .member(s, "d_inode")
                    .ok()
                    .filter(|i| !i.is_null(s).unwrap_or(true));
                let mode = inode.as_ref().and_then(|i| i.member_u64(s, "i_mode").ok());
                let ino = inode.as_ref().and_then(|i| i.member_u64(s, "i_ino").ok());
                return Ok(match (mode.map(mode_type), ino) {
                    (Some("SOCK"), Some(n)) => format!("socket:[{n}]"),
                    (Some("FIFO"), Some(n)) => format!("pipe:[{n}]"),
                    _ => name,
                });
            }
            if name != "/" {
                parts.push(name);
            }
            break;
        }
        parts.push(dentry_name(s, &dv)?);
        d = parent;
    }
    parts.reverse();
    Ok(format!("/{}", parts.join("/")))
}

/// Path of `dentry` from the root of its super block (no mount crossed): `"/hang/stuck.dat"`.
pub fn dentry_path(s: &Session, dentry: u64) -> Result<String> {
    let dt = s.find_type("struct dentry")?;
    let mut parts: Vec<String> = Vec::new();
    let mut d = dentry;
    for _ in 0..MAX_DEPTH {
        let dv = Value::at(dt, d);
        let parent = dv.member_u64(s, "d_parent")?;
        if parent == d || parent == 0 {
            break;
        }
        parts.push(dentry_name(s, &dv)?);
        d = parent;
    }
    parts.reverse();
    Ok(format!("/{}", parts.join("/")))
}

/// The C file type of an `i_mode` (`S_IFMT` bits) as crash names it.
pub fn mode_type(mode: u64) -> &'static str {
    match mode & 0o170000 {
        0o140000 => "SOCK",
        0o120000 => "LNK",
        0o100000 => "REG",
        0o060000 => "BLK",
        0o040000 => "DIR",
        0o020000 => "CHR",
        0o010000 => "FIFO",
        _ => "UNKN",
    }
}

/// One open file of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    /// File descriptor.
    pub fd: u64,
    /// `struct file *`.
    pub file: u64,
    /// `f_path.dentry`.
    pub dentry: u64,
    /// `f_inode`.
    pub inode: u64,
    /// `REG`, `DIR`, `SOCK`…
    pub kind: &'static str,
    /// The path (`socket:[1234]` for sockets).
    pub path: String,
    /// `f_path.mnt`.
    pub mnt: u64,
}

/// A task's open files (`task->files->fdt`), and its root and cwd paths.
pub fn open_files(
    s: &Session,
    task: u64,
) -> Result<(Option<String>, Option<String>, Vec<OpenFile>)> {
    let tt = s.find_type("struct task_struct")?;
    let t = Value::at(tt, task);
    let fs = t.member(s, "fs")?;
    let (root, cwd) = if fs.is_null(s)? {
        (None, None)
    } else {
        (
            d_path(
                s,
                fs.member_u64(s, "root.mnt")?,
                fs.member_u64(s, "root.dentry")?,
            )
            .ok(),
            d_path(
                s,
                fs.member_u64(s, "pwd.mnt")?,
                fs.member_u64(s, "pwd.dentry")?,
            )
            .ok(),
        )
    };
    let files = t.member(s, "files")?;
    if files.is_null(s)? {
        return Ok((root, cwd, Vec::new()));
    }
    let fdt = files.member(s, "fdt")?;
    let max = fdt.member_u64(s, "max_fds")?.min(MAX_FDS);
    let arr = fdt.member_u64(s, "fd")?;
    let ptrs = s.read_vec(Kva(arr), (max * 8) as usize)?;
    let ft = s.find_type("struct file")?;
    let mut out = Vec::new();
    for (fd, c) in ptrs.chunks_exact(8).enumerate() {
        let file = c.try_into().map(u64::from_le_bytes).unwrap_or(0);
        if file == 0 {
            continue;
        }
        let f = Value::at(ft, file);
        let dentry = f.member_u64(s, "f_path.dentry").unwrap_or(0);
        let mnt = f.member_u64(s, "f_path.mnt").unwrap_or(0);
        let inode = f.member_u64(s, "f_inode").unwrap_or(0);
        let mode = f.member_u64(s, "f_inode.i_mode").unwrap_or(0);
        let path = if dentry != 0 {
            d_path(s, mnt, dentry).unwrap_or_else(|e| format!("(unreadable: {e})"))
        } else {
            String::new()
        };
        out.push(OpenFile {
            fd: fd as u64,
            file,
            dentry,
            inode,
            kind: mode_type(mode),
            path,
            mnt,
        });
    }
    Ok((root, cwd, out))
}

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
