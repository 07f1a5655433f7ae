//! Built-in crash-style commands, one per file, behind the [`Command`] trait. Commands write
//! their text to the output they are given and never print on their own.
//!
//! Must not import `script` or `repl`.

use crate::error::{Error, Result};
use crate::session::Session;
use std::io::Write;

pub mod args;
pub mod bt;
pub mod data;
pub mod dev;
pub mod files;
pub mod foreach;
pub mod help;
pub mod kmem;
pub mod list;
pub mod log;
pub mod mod_cmd;
pub mod mount;
pub mod net;
pub mod p;
pub mod pipe;
pub mod ps;
pub mod rd;
pub mod runq;
pub mod struct_cmd;
pub mod sym;
pub mod sys;
pub mod task;
pub mod tree;
pub mod value_data;
pub mod whatis;

pub use args::{parse_address, split_line, Opts};
pub use data::Data;

/// In a loop over tasks, turns an error that concerns one task into a line naming the task
/// (as crash does) so the loop goes on; output errors and Ctrl-C still end the command.
pub fn report_task_error(
    out: &mut dyn Write,
    cmd: &str,
    t: &crate::linux::sched::TaskInfo,
    e: Error,
) -> Result<()> {
    match e {
        Error::Io(_) | Error::Interrupted => Err(e),
        e => {
            writeln!(out, "{cmd}: PID {} ({}): {e}", t.pid, t.comm)?;
            Ok(())
        }
    }
}

/// Runs one command, turning a panic (a bug in rkdump) into an error that names the command
/// line, so that one command's bug never ends the session.
pub fn guarded<T>(line: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::Kernel(format!(
            "internal error in `{line}`: {why} (a bug in rkdump; the session goes on)"
        )))
    })
}

/// The structured counterpart of [`report_task_error`]: the task's entry carries the error.
pub fn task_error_data(t: &crate::linux::sched::TaskInfo, e: &Error) -> Data {
    Data::map([
        ("pid", Data::Int(t.pid.into())),
        ("comm", Data::Str(t.comm.clone())),
        ("task", Data::addr(t.addr)),
        ("error", Data::Str(e.to_string())),
    ])
}

/// One built-in command.
pub trait Command: Send + Sync {
    /// The name typed at the prompt.
    fn name(&self) -> &'static str;
    /// Other names accepted.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// One line for `help`.
    fn summary(&self) -> &'static str;
    /// Synopsis and options, shown by `help NAME`.
    fn usage(&self) -> &'static str;
    /// Runs with `args` (without the command name), writing to `out`.
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()>;
    /// The structured result for scripts (`cmd(name, args)`) and `--json`; commands without
    /// one say so.
    fn data(&self, _session: &Session, _args: &[String]) -> Result<Data> {
        Err(Error::NoData(self.name().to_string()))
    }
    /// What reads files of the machine rkdump runs on (not the dump) when this command runs
    /// with `args`, if anything does: a script needs the `fs-read` capability to run it.
    fn reads_host_files(&self, _args: &[String]) -> Option<String> {
        None
    }
}

/// All built-in commands.
pub struct Registry {
    commands: Vec<Box<dyn Command>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// The registry with every built-in command.
    pub fn new() -> Self {
        Self {
            commands: vec![
                Box::new(help::Help),
                Box::new(sys::Sys),
                Box::new(rd::Rd),
                Box::new(sym::Sym),
                Box::new(log::Log),
                Box::new(ps::Ps),
                Box::new(bt::Bt),
                Box::new(task::Task),
                Box::new(foreach::Foreach),
                Box::new(runq::Runq),
                Box::new(struct_cmd::StructCmd::structs()),
                Box::new(struct_cmd::StructCmd::unions()),
                Box::new(p::P::default()),
                Box::new(whatis::Whatis),
                Box::new(list::List),
                Box::new(tree::Tree),
                Box::new(mod_cmd::Mod),
                Box::new(kmem::Kmem),
                Box::new(files::Files),
                Box::new(mount::Mount),
                Box::new(net::Net),
                Box::new(dev::Dev),
            ],
        }
    }
    /// The command called `name` (or one of its aliases).
    pub fn find(&self, name: &str) -> Option<&dyn Command> {
        self.commands
            .iter()
            .find(|c| c.name() == name || c.aliases().contains(&name))
            .map(|c| c.as_ref())
    }
    /// Every command, in registration order.
    pub fn all(&self) -> impl Iterator<Item = &dyn Command> {
        self.commands.iter().map(|c| c.as_ref())
    }
    /// Adds a command (script commands from packs and `scripts/`). A later command with the
    /// same name as an earlier one replaces it.
    pub fn add(&mut self, cmd: Box<dyn Command>) {
        self.commands.retain(|c| c.name() != cmd.name());
        self.commands.push(cmd);
    }

    /// Whether `word` names a command.
    pub fn is_command(&self, word: &str) -> bool {
        self.find(word).is_some()
    }

    /// Runs a command line with its pipes and redirections (`log | tail 5 > end.txt`).
    pub fn run_pipeline(&self, session: &Session, line: &str, out: &mut dyn Write) -> Result<()> {
        crate::interrupt::clear();
        let (command, stages) = pipe::split_pipeline(line)?;
        if stages.is_empty() {
            return self.run_line(session, &command, out);
        }
        let mut buf = Vec::new();
        let result = self.run_line(session, &command, &mut buf);
        pipe::apply(&buf, &stages, out)?;
        result
    }

    /// `--json`: runs a command line (no pipes) and prints its structured result as one line
    /// of JSON. `Ok(false)` when the line is not a command with a structured result (the
    /// caller then runs it as text).
    pub fn run_json(&self, session: &Session, line: &str, out: &mut dyn Write) -> Result<bool> {
        let (command, stages) = pipe::split_pipeline(line)?;
        let words = split_line(&command)?;
        let Some((name, args)) = words.split_first() else {
            return Ok(false);
        };
        let Some(cmd) = self.find(name).filter(|_| stages.is_empty()) else {
            return Ok(false);
        };
        crate::interrupt::clear();
        match guarded(line, || cmd.data(session, args)) {
            Ok(d) => {
                writeln!(out, "{}", d.to_json())?;
                Ok(true)
            }
            Err(Error::NoData(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Runs one command line (`name args…`, no pipes), writing to `out`.
    pub fn run_line(&self, session: &Session, line: &str, out: &mut dyn Write) -> Result<()> {
        let words = split_line(line)?;
        let Some((name, args)) = words.split_first() else {
            return Ok(());
        };
        // crash's `*type ADDR` shorthand for `struct type ADDR` (or union).
        if let Some(ty) = name.strip_prefix('*').filter(|t| !t.is_empty()) {
            let mut a = vec![ty.to_string()];
            a.extend(args.iter().cloned());
            let base = ty.split('.').next().unwrap_or(ty);
            let kw = match session.types() {
                Ok(t)
                    if t.find_type(&format!("struct {base}")).is_none()
                        && t.find_type(&format!("union {base}")).is_some() =>
                {
                    "union"
                }
                _ => "struct",
            };
            return struct_cmd::run_struct(session, kw, &a, out);
        }
        let cmd = self
            .find(name)
            .ok_or_else(|| Error::Usage(format!("{name}: command not found")))?;
        if name == "help" {
            return help::run_help(self, args, out);
        }
        guarded(line, || cmd.run(session, args, out))
    }
}
