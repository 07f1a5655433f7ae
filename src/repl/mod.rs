//! The interactive prompt (rustyline): history in `~/.rkdump_history`, completion of commands,
//! symbols, types and member paths, hints with each command's synopsis, colored prompt and
//! errors (off without a terminal or with `NO_COLOR`), multi-line input with a trailing `\`,
//! and Ctrl-C that stops the running command, never the session.
//!
//! Must not be imported by library layers below it.

pub mod complete;

use crate::commands::Registry;
use crate::script::setup::Shell;
use crate::session::Session;
use colored::Colorize;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};
use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;

/// The rustyline helper: completion, hints, highlighting and validation for one session.
pub struct ReplHelper<'a> {
    session: &'a Session,
    registry: &'a Registry,
    /// The shapes of the Rhai variables, refreshed after each line.
    variables: complete::Variables,
}

impl Completer for ReplHelper<'_> {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) =
            complete::complete(self.session, self.registry, &self.variables, line, pos);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper<'_> {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        // After "cmd " show the first line of its synopsis, minus the name.
        if pos != line.len() || !line.ends_with(' ') || line.trim().contains(' ') {
            return None;
        }
        let cmd = self.registry.find(line.trim())?;
        let synopsis = cmd.usage().lines().next()?;
        let rest = synopsis.split_once(' ').map(|(_, r)| r)?;
        Some(rest.to_string())
    }
}

impl Highlighter for ReplHelper<'_> {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(hint.dimmed().to_string())
    }
}

impl Validator for ReplHelper<'_> {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if ctx.input().ends_with('\\') {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Helper for ReplHelper<'_> {}

/// `~/.rkdump_history`.
pub fn history_path() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".rkdump_history")
}

/// Runs the prompt until `q`, `quit`, `exit` or Ctrl-D.
pub fn run(shell: &mut Shell) -> rustyline::Result<()> {
    crate::interrupt::install_handler();
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(10_000)?
        .build();
    let mut ed: Editor<ReplHelper<'_>, DefaultHistory> = Editor::with_config(config)?;
    // The helper borrows the session and registry while `shell` runs lines: keep owned
    // handles for it.
    let session = shell.session().self_arc();
    let registry = shell.registry_arc();
    if let Some(session) = &session {
        ed.set_helper(Some(ReplHelper {
            session,
            registry: &registry,
            variables: complete::Variables::new(),
        }));
    }
    let history = history_path();
    let _ = ed.load_history(&history);
    let prompt = format!("{} ", "rkdump>".bold().green());
    loop {
        match ed.readline(&prompt) {
            Ok(input) => {
                let line = input.replace("\\\n", " ");
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let _ = ed.add_history_entry(line);
                if matches!(line, "q" | "quit" | "exit") {
                    break;
                }
                run_interactive_line(shell, line);
                if let Some(h) = ed.helper_mut() {
                    h.variables = shell.variable_shapes();
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e),
        }
    }
    let _ = ed.save_history(&history);
    Ok(())
}

/// Runs one line at the prompt: output to stdout through an interruptible writer, errors in red.
pub fn run_interactive_line(shell: &mut Shell, line: &str) {
    let stdout = std::io::stdout();
    let mut out = InterruptibleWriter(stdout.lock());
    let result = shell.run_line(line, &mut out);
    let _ = out.flush();
    drop(out);
    if let Err(e) = result {
        let msg = if crate::interrupt::requested() {
            "interrupted".to_string()
        } else {
            e
        };
        eprintln!("{}", msg.red());
    }
    crate::interrupt::clear();
}

/// A writer that fails once Ctrl-C was pressed, so any command that prints stops promptly.
pub struct InterruptibleWriter<W: Write>(pub W);

impl<W: Write> Write for InterruptibleWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if crate::interrupt::requested() {
            // Not ErrorKind::Interrupted: write_all retries those forever.
            return Err(std::io::Error::other("interrupted"));
        }
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
