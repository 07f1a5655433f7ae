//! Builds the command registry a session uses: the built-in commands, the analyzers of
//! `scripts/`, every pack (`-L`, `$RKDUMP_PATH`), and `run`/`packs`; and evaluates lines that
//! are not commands as Rhai.

use super::packs::{builtin_scripts, load_pack, ScriptCommand};
use super::{RegistryCell, ScriptHost, ScriptOptions};
use crate::commands::{Command, Opts, Registry};
use crate::error::{Error, Result};
use crate::session::Session;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Pack folders from `-L` followed by `$RKDUMP_PATH` (colon-separated).
pub fn pack_dirs(cli_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut v = cli_dirs.to_vec();
    if let Some(p) = std::env::var_os("RKDUMP_PATH") {
        v.extend(std::env::split_paths(&p).filter(|p| !p.as_os_str().is_empty()));
    }
    v
}

/// The registry with built-in commands, analyzers, packs, `run` and `packs`. A pack that
/// cannot be read is reported in the returned warnings, not fatal.
pub fn build_registry(options: &ScriptOptions) -> (Arc<Registry>, Vec<String>) {
    let cell: RegistryCell = Arc::new(OnceLock::new());
    let mut reg = Registry::new();
    let mut listing = Vec::new();
    let mut warnings = Vec::new();
    let mut add_scripts = |reg: &mut Registry, cmds: Vec<ScriptCommand>| {
        for c in cmds {
            listing.push(PackEntry {
                command: c.name().to_string(),
                pack: c.pack().name.clone(),
                version: c.pack().version.clone(),
                origin: c.origin().to_string(),
                summary: c.summary().to_string(),
            });
            reg.add(Box::new(c));
        }
    };
    add_scripts(&mut reg, builtin_scripts(&cell, options));
    for dir in &options.pack_dirs {
        match load_pack(dir, &cell, options) {
            Ok(cmds) => add_scripts(&mut reg, cmds),
            Err(e) => warnings.push(format!("pack {}: {e}", dir.display())),
        }
    }
    reg.add(Box::new(RunCommand {
        registry: cell.clone(),
        options: options.clone(),
    }));
    reg.add(Box::new(PacksCommand { listing }));
    let reg = Arc::new(reg);
    let _ = cell.set(Arc::downgrade(&reg));
    (reg, warnings)
}

/// One line of `packs`.
#[derive(Debug, Clone)]
struct PackEntry {
    command: String,
    pack: String,
    version: String,
    origin: String,
    summary: String,
}

/// `run FILE [ARGS…]`: runs a `.rhai` file.
struct RunCommand {
    registry: RegistryCell,
    options: ScriptOptions,
}

impl Command for RunCommand {
    fn name(&self) -> &'static str {
        "run"
    }
    fn summary(&self) -> &'static str {
        "run a .rhai script file"
    }
    fn usage(&self) -> &'static str {
        "run FILE [ARGS...]\n  runs FILE with ARGS in its ARGV array (the sandbox and --allow grants apply)"
    }
    fn reads_host_files(&self, args: &[String]) -> Option<String> {
        Some(format!(
            "run {}",
            args.first().map_or("FILE", String::as_str)
        ))
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let (file, rest) = args
            .split_first()
            .ok_or_else(|| Error::Usage("run: missing FILE".into()))?;
        let session = session
            .self_arc()
            .ok_or_else(|| Error::Usage("run: scripts need a shared session".into()))?;
        let (host, capture) =
            ScriptHost::captured(session, self.registry.clone(), self.options.clone());
        let r = host.run_file(std::path::Path::new(file), rest);
        host.print_summary();
        out.write_all(capture.text().as_bytes())?;
        r.map(|_| ()).map_err(|e| Error::Usage(e.to_string()))
    }
}

/// `packs`: the script commands and where they come from.
struct PacksCommand {
    listing: Vec<PackEntry>,
}

impl Command for PacksCommand {
    fn name(&self) -> &'static str {
        "packs"
    }
    fn summary(&self) -> &'static str {
        "list script packs and the commands they add"
    }
    fn usage(&self) -> &'static str {
        "packs [-v]\n  -v  also the file each command runs"
    }
    fn run(&self, _session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("packs", args, "v", "", &[])?;
        writeln!(
            out,
            "{:<14} {:<12} {:<8} SUMMARY",
            "COMMAND", "PACK", "VERSION"
        )?;
        for e in &self.listing {
            writeln!(
                out,
                "{:<14} {:<12} {:<8} {}",
                e.command, e.pack, e.version, e.summary
            )?;
            if o.has("v") {
                writeln!(out, "{:<14} {}", "", e.origin)?;
            }
        }
        Ok(())
    }
}

/// A late-bound cell pointing at `reg`.
pub fn registry_cell(reg: &Arc<Registry>) -> RegistryCell {
    let cell: RegistryCell = Arc::new(OnceLock::new());
    let _ = cell.set(Arc::downgrade(reg));
    cell
}

/// Runs lines the way the prompt and `-c` do: a line whose first word is a command runs it
/// (with pipes); anything else is Rhai, evaluated in a scope that keeps variables.
pub struct Shell {
    session: Arc<Session>,
    registry: Arc<Registry>,
    /// Built on the first Rhai line: plain commands never pay for the engine.
    host: std::cell::OnceCell<ScriptHost>,
    pending: std::cell::RefCell<Option<(ScriptOptions, Box<dyn Write + Send>)>>,
    scope: rhai::Scope<'static>,
}

impl Shell {
    /// A shell whose Rhai output goes to `script_out`.
    pub fn new(
        session: Arc<Session>,
        registry: Arc<Registry>,
        options: ScriptOptions,
        script_out: Box<dyn Write + Send>,
    ) -> Self {
        Self {
            session,
            registry,
            host: std::cell::OnceCell::new(),
            pending: std::cell::RefCell::new(Some((options, script_out))),
            scope: rhai::Scope::new(),
        }
    }
    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
    /// The registry, shared.
    pub fn registry_arc(&self) -> Arc<Registry> {
        self.registry.clone()
    }
    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }
    /// The script host (built on first use).
    pub fn host(&self) -> &ScriptHost {
        self.host.get_or_init(|| {
            let (options, out) = self
                .pending
                .borrow_mut()
                .take()
                .unwrap_or_else(|| (ScriptOptions::default(), Box::new(std::io::sink())));
            ScriptHost::new(
                self.session.clone(),
                registry_cell(&self.registry),
                options,
                out,
            )
        })
    }
    /// The shapes of the Rhai variables kept across lines (for completion on live objects).
    pub fn variable_shapes(&self) -> std::collections::BTreeMap<String, super::live::Shape> {
        super::live::shapes(&self.scope)
    }
    /// Whether `line` would run as a command (rather than as Rhai).
    pub fn is_command_line(&self, line: &str) -> bool {
        let first = line.split_whitespace().next().unwrap_or("");
        self.registry.is_command(first)
    }
    /// Runs one line; command output goes to `out`. Errors are returned as text.
    pub fn run_line(&mut self, line: &str, out: &mut dyn Write) -> std::result::Result<(), String> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        let rhai_block = line
            .strip_prefix("rhai")
            .filter(|r| r.trim_start().starts_with('{'));
        if let Some(block) = rhai_block {
            let mut scope = std::mem::take(&mut self.scope);
            let r = self.host().eval_line(&mut scope, block);
            self.scope = scope;
            return r.map_err(|e| e.to_string());
        }
        if self.is_command_line(line) {
            return self
                .registry
                .run_pipeline(&self.session, line, out)
                .map_err(|e| e.to_string());
        }
        let mut scope = std::mem::take(&mut self.scope);
        let r = self.host().eval_line(&mut scope, line);
        self.scope = scope;
        r.map_err(|e| {
            // A crash command rkdump lacks reads as an unknown Rhai variable or function:
            // say it the way a shell would.
            let first = line.split_whitespace().next().unwrap_or("");
            let word_like = first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let unknown_name = e.message.contains(&format!("Variable not found: {first}"));
            let shell_like =
                e.message.contains("Syntax error") && !line.contains(['(', '=', '"', '{', ';']);
            if word_like && !first.is_empty() && (unknown_name || shell_like) {
                format!(
                    "{first}: command not found (nor a Rhai expression: {})",
                    e.message
                )
            } else {
                e.to_string()
            }
        })
    }
}
