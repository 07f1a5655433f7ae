//! `foreach`: run `bt`, `ps`, `task`, `files` or `net` on each task chosen by PID, task address,
//! command name, regex, state code, or the keywords `user`, `kernel`, `active`.

use super::ps::{select, TaskFilter};
use super::{Command, Data, Opts};
use crate::error::{Error, Result};
use crate::linux::sched;
use crate::session::Session;
use std::io::Write;

/// The `foreach` command.
pub struct Foreach;

const USAGE: &str = "\
foreach [PID | TASK | NAME | 'REGEX' | STATE | user | kernel | active]... bt|ps|task|files|net [OPTIONS]
  STATE is a crash state code (RU IN UN ID ZO ST TR DE WA PA NE)
  net runs `net -s` (the task's sockets)
  examples: foreach UN bt      foreach dd bt -f      foreach kernel ps      foreach user net";

const COMMANDS: [&str; 5] = ["bt", "ps", "task", "files", "net"];

impl Command for Foreach {
    fn name(&self) -> &'static str {
        "foreach"
    }
    fn summary(&self) -> &'static str {
        "run a command on many tasks"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let Some((cmd, full)) = plan(session, args)? else {
            return Ok(());
        };
        match cmd.as_str() {
            "bt" => super::bt::Bt.run(session, &full, out),
            "ps" => super::ps::Ps.run(session, &full, out),
            "files" => super::files::Files.run(session, &full, out),
            "net" => super::net::Net.run(session, &full, out),
            _ => super::task::Task.run(session, &full, out),
        }
    }
    /// A list with one element per chosen task: its `bt` trace, `ps` row or `task` map (`ps -S`
    /// gives its map of counts); `files` and `net` give their own lists (of tasks with their
    /// files, of sockets with their PID).
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        let Some((cmd, full)) = plan(session, args)? else {
            return Ok(Data::List(Vec::new()));
        };
        match cmd.as_str() {
            "bt" => super::bt::bt_data(session, &full).map(Data::List),
            "ps" => super::ps::Ps.data(session, &full),
            "files" => super::files::Files.data(session, &full),
            "net" => super::net::Net.data(session, &full),
            _ => super::task::tasks_data(session, &full).map(Data::List),
        }
    }
}

/// The inner command of `foreach ARGS` and its arguments: its own options followed by the
/// addresses of the chosen tasks; `None` when no task is chosen.
fn plan(session: &Session, args: &[String]) -> Result<Option<(String, Vec<String>)>> {
    let Some(ci) = args.iter().position(|a| COMMANDS.contains(&a.as_str())) else {
        return Err(Error::Usage(format!(
            "foreach: missing command (bt, ps, task, files or net)\nusage: {USAGE}"
        )));
    };
    let (sel_words, rest) = args.split_at(ci);
    let Some((cmd, cmd_args)) = rest.split_first() else {
        return Err(Error::Usage(USAGE.into()));
    };
    let _ = Opts::parse("foreach", sel_words, "", "", &[])?;
    let (mut user, mut kernel, mut active) = (false, false, false);
    let mut filters = Vec::new();
    for w in sel_words {
        match w.as_str() {
            "user" => user = true,
            "kernel" => kernel = true,
            "active" => active = true,
            _ => filters.push(TaskFilter::parse(w)?),
        }
    }
    let list = sched::task_list(session)?;
    let chosen: Vec<String> = select(&list, &filters)
        .into_iter()
        .filter(|t| !user || !t.is_kthread())
        .filter(|t| !kernel || t.is_kthread())
        .filter(|t| !active || t.active)
        .map(|t| format!("{:x}", t.addr))
        .collect();
    if chosen.is_empty() {
        return Ok(None);
    }
    let mut full: Vec<String> = cmd_args.to_vec();
    if cmd == "net" && !full.iter().any(|a| a == "-s") {
        full.insert(0, "-s".into());
    }
    full.extend(chosen);
    Ok(Some((cmd.clone(), full)))
}
