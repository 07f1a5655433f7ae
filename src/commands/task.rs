//! `task`: a task's header, its whole `task_struct` and its `thread_info`, printed by the
//! `struct` command as crash does.

use super::ps::{task_header, TaskFilter};
use super::struct_cmd::StructCmd;
use super::{Command, Opts};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::tasks::{self, TaskInfo};
use std::io::Write;

/// The `task` command.
pub struct Task;

const USAGE: &str = "\
task [-R member[,member]] [-x|-d] [PID | TASK]...
  (no argument)  the panic task, else the task running on CPU 0
  prints the task header, then the whole struct task_struct and its struct thread_info
  -R member[,member]  only these task_struct members (dotted paths allowed)
  -x / -d             integers in hexadecimal / decimal";

/// Prints what `task` shows for `t`: the header, the `task_struct` (or only `members`) and,
/// for the whole structure, the `thread_info` (inside the task since 4.9 on x86_64).
pub fn print_task(
    session: &Session,
    t: &TaskInfo,
    members: Option<&str>,
    radix: &[String],
    out: &mut dyn Write,
) -> Result<()> {
    writeln!(out, "{}", task_header(t))?;
    let addr = format!("{:x}", t.addr);
    let st = StructCmd::structs();
    let mut args = vec![match members {
        Some(m) => format!("task_struct.{m}"),
        None => "task_struct".to_string(),
    }];
    args.extend(radix.iter().cloned());
    args.push(addr.clone());
    st.run(session, &args, out)?;
    if members.is_none()
        && session
            .offset_of("struct task_struct", "thread_info")
            .is_ok()
    {
        writeln!(out)?;
        let mut args = vec!["thread_info".to_string()];
        args.extend(radix.iter().cloned());
        args.push(addr);
        st.run(session, &args, out)?;
    }
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
        let o = Opts::parse("task", args, "xd", "R", &[])?;
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
        let radix: Vec<String> = ["x", "d"]
            .iter()
            .filter(|f| o.has(f))
            .map(|f| format!("-{f}"))
            .collect();
        let members = o.value("R");
        // crash ends each task's block with a blank line.
        for t in sel {
            print_task(session, t, members, &radix, out)?;
            writeln!(out)?;
        }
        Ok(())
    }
}
