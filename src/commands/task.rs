//! `task`: a task's header, its whole `task_struct` and its `thread_info`, printed by the
//! `struct` command as crash does.

use super::ps::{task_header, TaskFilter};
use super::struct_cmd::StructCmd;
use super::{Command, Data, Opts};
use crate::error::{Error, Result};
use crate::linux::sched::{self, TaskInfo, TaskList};
use crate::session::Session;
use crate::value::{Scalar, Value};
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

/// The tasks `task ARGS` shows: the PIDs or task addresses given, else the panic task or
/// CPU 0's current task.
fn task_selection<'a>(
    session: &Session,
    args: &[String],
    list: &'a TaskList,
) -> Result<Vec<&'a TaskInfo>> {
    let o = Opts::parse("task", args, "xd", "R", &[])?;
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
            sched::panic_task(session, list)
                .or_else(|| list.current_on(0))
                .ok_or_else(|| Error::Usage("task: no current task".into()))?,
        );
    }
    Ok(sel)
}

/// The structured `task` of one task: pid, tgid, ppid, comm, state, task, cpu, active and the
/// other summary fields `task` prints, plus `fields`: every top-level scalar member of the
/// `task_struct` (integers, enums, pointers as addresses, `char[]` as strings).
pub fn task_data(session: &Session, t: &TaskInfo) -> Result<Data> {
    let ty = session.find_type("struct task_struct")?;
    let mut fields = Vec::new();
    for (name, v) in Value::at(ty, t.addr).members(session)? {
        let Some(name) = name else { continue };
        let d = match v.scalar(session) {
            Ok(Scalar::Float(f)) => Data::Float(f),
            Ok(Scalar::Bool(b)) => Data::Bool(b),
            Ok(Scalar::Pointer(a)) => Data::addr(a),
            Ok(Scalar::Unsigned(u)) => Data::uint(u),
            Ok(sc) => Data::Int(sc.as_i64()),
            Err(_) => match v.string(session) {
                Ok(text) => Data::Str(text),
                Err(_) => continue,
            },
        };
        fields.push((name, d));
    }
    Ok(Data::map([
        ("pid", Data::Int(t.pid.into())),
        ("tgid", Data::Int(t.tgid.into())),
        ("ppid", Data::Int(t.ppid.into())),
        ("comm", Data::Str(t.comm.clone())),
        ("state", Data::Str(t.state.code().to_string())),
        ("task", Data::addr(t.addr)),
        ("cpu", Data::Int(t.cpu.into())),
        ("active", Data::Bool(t.active)),
        ("flags", Data::Int(t.flags.into())),
        ("mm", Data::addr(t.mm)),
        ("real_parent", Data::addr(t.parent)),
        ("group_leader", Data::addr(t.group_leader)),
        ("last_arrival", Data::uint(t.last_arrival)),
        ("fields", Data::Map(fields)),
    ]))
}

/// The structured `task ARGS`, one map per task.
pub fn tasks_data(session: &Session, args: &[String]) -> Result<Vec<Data>> {
    let list = sched::task_list(session)?;
    task_selection(session, args, &list)?
        .into_iter()
        .map(|t| task_data(session, t))
        .collect()
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
        let list = sched::task_list(session)?;
        let sel = task_selection(session, args, &list)?;
        let radix: Vec<String> = ["x", "d"]
            .iter()
            .filter(|f| o.has(f))
            .map(|f| format!("-{f}"))
            .collect();
        let members = o.value("R");
        // crash ends each task's block with a blank line.
        for t in sel {
            if let Err(e) = print_task(session, t, members, &radix, out) {
                super::report_task_error(out, "task", t, e)?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
    /// One task gives a map, several a list of maps.
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        tasks_data(session, args).map(Data::one_or_list)
    }
}
