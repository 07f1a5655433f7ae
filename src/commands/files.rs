//! `files PID|TASK`: a task's root, cwd and open files (FD FILE DENTRY INODE TYPE PATH), from
//! the kernel layer's `linux::fs::open_files`; also the task-argument helpers `net -s` uses.

use super::{Command, Data, Opts};
use crate::error::{Error, Result};
use crate::linux::fs::open_files;
use crate::linux::sched::{self, TaskInfo};
use crate::session::Session;
use std::io::Write;

/// The `files` command.
pub struct Files;

const USAGE: &str = "\
files [PID | TASK]...
  the open files of each task (the current task when none is given): ROOT and CWD, then for
  each file descriptor the struct file, dentry and inode addresses, the file type (REG, DIR,
  CHR, BLK, FIFO, SOCK, LNK) and the path";

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
