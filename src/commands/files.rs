//! `files PID|TASK`: a task's root, cwd and open files (FD FILE DENTRY INODE TYPE PATH), with
//! paths built from dentries and mounts (`d_parent`, `mnt_parent`, `mnt_mountpoint`) as
//! `d_path()` does. Also the path and file-table helpers `mount` and `net -s` use.

use super::{Command, Data, Opts};
use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::linux::sched::{self, TaskInfo};
use crate::memory::ReadExt;
use crate::session::Session;
use crate::value::Value;
use std::io::Write;

/// The `files` command.
pub struct Files;

const USAGE: &str = "\
files [PID | TASK]...
  the open files of each task (the current task when none is given): ROOT and CWD, then for
  each file descriptor the struct file, dentry and inode addresses, the file type (REG, DIR,
  CHR, BLK, FIFO, SOCK, LNK) and the path";

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

/// The tasks named by `words` (pids or task addresses), or the panic/current task.
pub fn tasks_for<'a>(
    s: &Session,
    list: &'a sched::TaskList,
    words: &[String],
    cmd: &str,
) -> Result<Vec<&'a TaskInfo>> {
    if words.is_empty() {
        return sched::panic_task(s, list)
            .map(|t| vec![t])
            .ok_or_else(|| Error::Usage(format!("{cmd}: no current task; give a PID")));
    }
    words
        .iter()
        .map(|w| {
            sched::find_task(list, w)
                .ok_or_else(|| Error::Usage(format!("{cmd}: invalid task or pid value: {w}")))
        })
        .collect()
}

/// The `PID: … TASK: … CPU: … COMMAND: "…"` line.
pub fn task_header(t: &TaskInfo, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{}", super::ps::task_header(t))?;
    Ok(())
}

impl Command for Files {
    fn name(&self) -> &'static str {
        "files"
    }
    fn summary(&self) -> &'static str {
        "open files of a task"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("files", args, "", "", &[])?;
        let list = sched::task_list(session)?;
        for (i, t) in tasks_for(session, &list, &o.positional, "files")?
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                writeln!(out)?;
            }
            task_header(t, out)?;
            let (root, cwd, files) = match open_files(session, t.addr) {
                Ok(f) => f,
                Err(e) => {
                    super::report_task_error(out, "files", t, e)?;
                    continue;
                }
            };
            writeln!(
                out,
                "ROOT: {}    CWD: {}",
                root.as_deref().unwrap_or("?"),
                cwd.as_deref().unwrap_or("?")
            )?;
            if files.is_empty() {
                writeln!(out, "No open files")?;
                continue;
            }
            writeln!(
                out,
                " FD       FILE            DENTRY           INODE       TYPE PATH"
            )?;
            for f in files {
                writeln!(
                    out,
                    "{:>3} {:016x} {:016x} {:016x} {:<4} {}",
                    f.fd, f.file, f.dentry, f.inode, f.kind, f.path
                )?;
            }
        }
        Ok(())
    }
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        let list = sched::task_list(session)?;
        let mut all = Vec::new();
        for t in tasks_for(session, &list, args, "files")? {
            let (root, cwd, files) = match open_files(session, t.addr) {
                Ok(f) => f,
                Err(Error::Interrupted) => return Err(Error::Interrupted),
                Err(e) => {
                    all.push(super::task_error_data(t, &e));
                    continue;
                }
            };
            all.push(Data::map([
                ("pid", Data::Int(i64::from(t.pid))),
                ("task", Data::addr(t.addr)),
                ("root", Data::opt_str(root.as_deref())),
                ("cwd", Data::opt_str(cwd.as_deref())),
                (
                    "files",
                    Data::List(
                        files
                            .into_iter()
                            .map(|f| {
                                Data::map([
                                    ("fd", Data::Int(f.fd as i64)),
                                    ("file", Data::addr(f.file)),
                                    ("dentry", Data::addr(f.dentry)),
                                    ("inode", Data::addr(f.inode)),
                                    ("type", Data::Str(f.kind.into())),
                                    ("path", Data::Str(f.path)),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ]));
        }
        Ok(Data::List(all))
    }
}
