//! Built-in commands from scripts: `exec(cmd)` → its text (pipes work: `exec("log | tail 5")`),
//! `exec_bg(cmd, timeout_s)` → the text it printed before the timeout, `cmd(name)` /
//! `cmd(name, args)` / `cmd("name args")` → its structured result; PyKdump's `exec_crash_command(_bg)`.
//! Redirections to files inside `exec` need the fs-write capability, and commands that read files
//! of the host (`run FILE`, `mod -S DIR`) need fs-read; a script started from here (`run`, a pack
//! command) gets no more capabilities than the script that started it.
//!
//! ```rhai
//! let release = cmd("sys").release;
//! let tail = exec("log | tail 3");
//! ```

use crate::commands::pipe::{split_pipeline, Stage};
use crate::commands::{Data, Registry};
use crate::register_aliases;
use crate::script::error::{from_error, runtime};
use crate::script::sandbox::{self, Capability};
use crate::script::HostContext;
use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, INT};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

type R<T> = Result<T, Box<EvalAltResult>>;

/// A buffer that refuses writes past a deadline, which stops the command at its next line.
struct DeadlineBuf {
    buf: Vec<u8>,
    deadline: Option<Instant>,
}

impl Write for DeadlineBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.deadline.is_some_and(|d| Instant::now() > d) || crate::interrupt::requested() {
            return Err(std::io::Error::other("timed out"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Checks that the calling script may run `name args`: a command that reads files of the host
/// needs `fs-read`.
fn check_host_files(ctx: &HostContext, reg: &Registry, words: &[String]) -> R<()> {
    let Some((name, args)) = words.split_first() else {
        return Ok(());
    };
    match reg.find(name).and_then(|c| c.reads_host_files(args)) {
        Some(what) => ctx
            .options
            .caps
            .check(Capability::FsRead, &what)
            .map_err(|m| runtime("sandbox", m, None)),
        None => Ok(()),
    }
}

fn run_text(ctx: &HostContext, line: &str, deadline: Option<Instant>) -> R<String> {
    let (command, stages) = split_pipeline(line).map_err(from_error)?;
    if stages.iter().any(|s| matches!(s, Stage::Redirect { .. })) {
        ctx.options
            .caps
            .check(Capability::FsWrite, "a redirection in exec()")
            .map_err(|m| runtime("sandbox", m, None))?;
    }
    let reg = ctx
        .registry()
        .ok_or_else(|| runtime("internal", "command registry is gone".into(), None))?;
    check_host_files(
        ctx,
        &reg,
        &crate::commands::split_line(&command).map_err(from_error)?,
    )?;
    let mut out = DeadlineBuf {
        buf: Vec::new(),
        deadline,
    };
    // A script this command starts (`run`, a pack command) gets no more than this script.
    let result = sandbox::with_ceiling(&ctx.options.caps, || {
        reg.run_pipeline(&ctx.session, line, &mut out)
    });
    let text = String::from_utf8_lossy(&out.buf).into_owned();
    match result {
        Ok(()) => Ok(text),
        // Past the deadline: return what the command printed so far.
        Err(_) if deadline.is_some_and(|d| Instant::now() > d) => Ok(text),
        Err(e) => Err(from_error(e)),
    }
}

/// Converts structured command data into Rhai values.
pub fn to_dynamic(d: Data) -> Dynamic {
    match d {
        Data::Null => Dynamic::UNIT,
        Data::Bool(b) => Dynamic::from(b),
        Data::Int(i) => Dynamic::from(i as INT),
        Data::Uint(u) => Dynamic::from(u as INT),
        Data::Addr(a) => super::addr::Addr::dynamic(a),
        Data::Float(f) => Dynamic::from(f),
        Data::Str(s) => Dynamic::from(s),
        Data::List(v) => Dynamic::from(v.into_iter().map(to_dynamic).collect::<Array>()),
        Data::Map(m) => Dynamic::from(
            m.into_iter()
                .map(|(k, v)| (k.into(), to_dynamic(v)))
                .collect::<Map>(),
        ),
    }
}

fn run_data(ctx: &HostContext, name: &str, args: &str) -> R<Dynamic> {
    let reg = ctx
        .registry()
        .ok_or_else(|| runtime("internal", "command registry is gone".into(), None))?;
    // `cmd("bt 1")` is `cmd("bt", "1")`.
    let mut words = crate::commands::split_line(name).map_err(from_error)?;
    words.extend(crate::commands::split_line(args).map_err(from_error)?);
    let Some((name, args)) = words.split_first() else {
        return Err(runtime("usage", "cmd: missing command name".into(), None));
    };
    let cmd = reg
        .find(name)
        .ok_or_else(|| runtime("usage", format!("{name}: command not found"), None))?;
    check_host_files(ctx, &reg, &words)?;
    let line = words.join(" ");
    sandbox::with_ceiling(&ctx.options.caps, || {
        crate::commands::guarded(&line, || cmd.data(&ctx.session, args))
    })
    .map(to_dynamic)
    .map_err(from_error)
}

/// Registers `exec`, `exec_bg`, `cmd` and their aliases.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["exec", "exec_crash_command"],
        move |line: &str| -> R<String> { run_text(&c, line, None) }
    );
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["exec_bg", "exec_crash_command_bg"],
        move |line: &str, timeout: INT| -> R<String> {
            let secs = u64::try_from(timeout).unwrap_or(0);
            run_text(&c, line, Some(Instant::now() + Duration::from_secs(secs)))
        }
    );
    let c = ctx.clone();
    register_aliases!(
        engine,
        ["exec_bg", "exec_crash_command_bg"],
        move |line: &str| -> R<String> {
            run_text(&c, line, Some(Instant::now() + Duration::from_secs(60)))
        }
    );
    let c = ctx.clone();
    engine.register_fn("cmd", move |name: &str| run_data(&c, name, ""));
    let c = ctx.clone();
    engine.register_fn("cmd", move |name: &str, args: &str| {
        run_data(&c, name, args)
    });
}
