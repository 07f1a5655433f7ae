//! `task`: a task's header and the main `task_struct` fields (the full structure print will
//! come from the value layer).

use super::ps::{task_header, TaskFilter};
use super::{Command, Opts};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::tasks::{self, TaskInfo};
use std::io::Write;

/// The `task` command.
pub struct Task;

const USAGE: &str = "\
task [PID | TASK]...
  (no argument)  the panic task, else the task running on CPU 0
  prints the task header and the main task_struct fields";

/// Prints the fields `task` shows.
pub fn print_task(session: &Session, t: &TaskInfo, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{}", task_header(t))?;
    let o = tasks::TaskOffsets::get(session)?;
    let stack = {
        use crate::memory::ReadExt;
        session
            .read_u64(crate::addr::Kva(t.addr + o.stack))
            .unwrap_or(0)
    };
    writeln!(out, "struct task_struct {{")?;
    writeln!(out, "  __state = {:#x},", t.raw_state)?;
    writeln!(out, "  exit_state = {:#x},", t.exit_state)?;
    writeln!(out, "  stack = {stack:#x},")?;
    writeln!(out, "  flags = {:#x},", t.flags)?;
    writeln!(out, "  cpu = {},", t.cpu)?;
    writeln!(out, "  mm = {:#x},", t.mm)?;
    writeln!(out, "  pid = {},", t.pid)?;
    writeln!(out, "  tgid = {},", t.tgid)?;
    writeln!(out, "  real_parent = {:#x},", t.parent)?;
    writeln!(out, "  group_leader = {:#x},", t.group_leader)?;
    writeln!(out, "  comm = \"{}\",", t.comm)?;
    writeln!(out, "  sched_info.last_arrival = {},", t.last_arrival)?;
    writeln!(out, "}}")?;
    Ok(())
}

impl Command for Task {
    fn name(&self) -> &'static str {
        "task"
    }
    fn summary(&self) -> &'static str {
        "task_struct contents of a task"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("task", args, "", "", &[])?;
        let list = tasks::task_list(session)?;
        let mut sel: Vec<&TaskInfo> = Vec::new();
        for w in &o.positional {
            let f = TaskFilter::parse(w)?;
            let hits: Vec<&TaskInfo> = list.tasks.iter().filter(|t| f.matches(t)).collect();
            if hits.is_empty() {
                return Err(Error::Usage(format!(
                    "task: invalid task or pid value: {w}"
                )));
            }
            sel.extend(hits);
        }
        if sel.is_empty() {
            sel.push(
                tasks::panic_task(session, &list)
                    .or_else(|| list.current_on(0))
                    .ok_or_else(|| Error::Usage("task: no current task".into()))?,
            );
        }
        for (i, t) in sel.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            print_task(session, t, out)?;
        }
        Ok(())
    }
}
