//! The Rhai host: an engine per run with the rkdump API registered (one file per surface under
//! `api/`), the module resolver (embedded `stdlib/`, then pack folders), limits (an operation
//! budget, Ctrl-C) and the sandbox (no file or process access unless granted).
//!
//! Must not import `repl`.

pub mod api;
pub mod error;
pub mod live;
pub mod packs;
pub mod resolver;
pub mod sandbox;
pub mod setup;

/// The `.rhai` files built into the binary.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

use crate::commands::Registry;
use crate::session::Session;
use rhai::{Dynamic, Engine, Scope};
use sandbox::Capabilities;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Version of the script API; packs name the lowest version they need.
pub const API_VERSION: u32 = 1;
/// Default operation budget of one run (Rhai operations).
pub const DEFAULT_MAX_OPERATIONS: u64 = 2_000_000_000;

/// A late-bound handle to the command registry (script commands live inside the registry
/// they call back into).
pub type RegistryCell = Arc<OnceLock<Weak<Registry>>>;

/// A writer shared between the host and the engine's `print`.
#[derive(Clone)]
pub struct SharedOut(pub Arc<Mutex<Box<dyn Write + Send>>>);

impl SharedOut {
    /// Wraps a writer.
    pub fn new(w: Box<dyn Write + Send>) -> Self {
        Self(Arc::new(Mutex::new(w)))
    }
    /// Writes a line.
    pub fn line(&self, s: &str) {
        if let Ok(mut w) = self.0.lock() {
            let _ = writeln!(w, "{s}");
        }
    }
    /// Flushes.
    pub fn flush(&self) {
        if let Ok(mut w) = self.0.lock() {
            let _ = w.flush();
        }
    }
}

/// An in-memory output for tests and `exec`-style capture.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// The text written so far.
    pub fn text(&self) -> String {
        self.0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A problem reported by a script with `warn`/`error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `WARNING` or `ERROR`.
    pub severity: &'static str,
    /// The message.
    pub message: String,
}

/// How a run is set up.
#[derive(Clone)]
pub struct ScriptOptions {
    /// Capabilities granted with `--allow`.
    pub caps: Capabilities,
    /// Pack folders (`-L`, `$RKDUMP_PATH`) searched after the embedded stdlib by `import`.
    pub pack_dirs: Vec<PathBuf>,
    /// `--json` was given.
    pub json: bool,
    /// Operation budget.
    pub max_operations: u64,
}

impl Default for ScriptOptions {
    fn default() -> Self {
        Self {
            caps: Capabilities::none(),
            pack_dirs: Vec::new(),
            json: false,
            max_operations: DEFAULT_MAX_OPERATIONS,
        }
    }
}

/// What the API functions share during a run.
pub struct HostContext {
    /// The dump.
    pub session: Arc<Session>,
    /// The commands (for `exec` and `cmd`).
    pub registry: RegistryCell,
    /// Options of this run.
    pub options: ScriptOptions,
    /// Where `print` and reports go.
    pub out: SharedOut,
    /// Findings of this run, for the closing summary.
    pub findings: Mutex<Vec<Finding>>,
}

impl HostContext {
    /// The registry, if it is still alive.
    pub fn registry(&self) -> Option<Arc<Registry>> {
        self.registry.get().and_then(Weak::upgrade)
    }
}

/// One engine, ready to run scripts against a session.
pub struct ScriptHost {
    engine: Engine,
    ctx: Arc<HostContext>,
}

impl ScriptHost {
    /// A host whose output is kept in the returned [`Capture`] (a command's text).
    pub fn captured(
        session: Arc<Session>,
        registry: RegistryCell,
        options: ScriptOptions,
    ) -> (Self, Capture) {
        let capture = Capture::default();
        let host = Self::new(session, registry, options, Box::new(capture.clone()));
        (host, capture)
    }

    /// Builds an engine with the whole API registered, writing to `out`.
    pub fn new(
        session: Arc<Session>,
        registry: RegistryCell,
        options: ScriptOptions,
        out: Box<dyn Write + Send>,
    ) -> Self {
        // A script started by another script's exec()/cmd() gets no more than its caller.
        let mut options = options;
        options.caps = sandbox::effective(&options.caps);
        let ctx = Arc::new(HostContext {
            session,
            registry,
            options,
            out: SharedOut::new(out),
            findings: Mutex::new(Vec::new()),
        });
        let mut engine = Engine::new();
        engine.set_max_operations(ctx.options.max_operations);
        engine.set_max_expr_depths(256, 256);
        engine.set_max_call_levels(256);
        engine.on_progress(|_| {
            crate::interrupt::requested().then(|| Dynamic::from("interrupted (Ctrl-C)"))
        });
        let out = ctx.out.clone();
        engine.on_print(move |s| out.line(s));
        let out = ctx.out.clone();
        engine.on_debug(move |s, src, pos| {
            out.line(&format!(
                "[debug] {}{pos:?}: {s}",
                src.map(|s| format!("{s} ")).unwrap_or_default()
            ))
        });
        engine.set_module_resolver(resolver::Resolver::new(ctx.options.pack_dirs.clone()));
        api::register_all(&mut engine, &ctx);
        Self { engine, ctx }
    }

    /// The engine (for tests and the REPL's completion).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
    /// The shared context.
    pub fn context(&self) -> &Arc<HostContext> {
        &self.ctx
    }

    /// Runs `source` (named `name` in errors) with `args` as the `ARGV` array.
    pub fn run(
        &self,
        name: &str,
        source: &str,
        args: &[String],
    ) -> Result<Dynamic, error::ScriptError> {
        crate::interrupt::clear();
        let mut scope = Scope::new();
        let argv: rhai::Array = args.iter().map(|a| Dynamic::from(a.clone())).collect();
        scope.push_constant("ARGV", argv);
        let mut ast = self
            .engine
            .compile(source)
            .map_err(|e| error::ScriptError::from_parse(name, e))?;
        ast.set_source(name);
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
            .map_err(|e| error::ScriptError::from_eval(name, *e));
        self.ctx.out.flush();
        result
    }

    /// Evaluates one line (REPL or `-c`) in `scope`, which keeps variables between lines;
    /// prints a non-unit result.
    pub fn eval_line(&self, scope: &mut Scope, line: &str) -> Result<(), error::ScriptError> {
        crate::interrupt::clear();
        let r = self
            .engine
            .eval_with_scope::<Dynamic>(scope, line)
            .map_err(|e| error::ScriptError::from_eval("<input>", *e));
        if let Ok(v) = &r {
            if !v.is_unit() {
                self.ctx.out.line(&self.show(v));
            }
        }
        self.ctx.out.flush();
        r.map(|_| ())
    }

    /// The text of a value as the REPL echoes it: addresses in hex, objects C-like, maps and
    /// arrays with their elements shown the same way.
    pub fn show(&self, v: &Dynamic) -> String {
        api::addr::display(v)
    }

    /// Runs a script file.
    pub fn run_file(&self, path: &Path, args: &[String]) -> Result<Dynamic, error::ScriptError> {
        let source = std::fs::read_to_string(path).map_err(|e| error::ScriptError {
            script: path.display().to_string(),
            message: e.to_string(),
            line: None,
        })?;
        self.run(&path.display().to_string(), &source, args)
    }

    /// Prints the closing "Summary of problems found" when the run reported any.
    pub fn print_summary(&self) {
        let findings = self
            .ctx
            .findings
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default();
        if findings.is_empty() {
            return;
        }
        self.ctx.out.line("");
        self.ctx.out.line("Summary of problems found:");
        for f in &findings {
            self.ctx
                .out
                .line(&format!("  +++{}+++ {}", f.severity, f.message));
        }
        self.ctx.out.flush();
    }

    /// The findings reported so far.
    pub fn findings(&self) -> Vec<Finding> {
        self.ctx
            .findings
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default()
    }
}
