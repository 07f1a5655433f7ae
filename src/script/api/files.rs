//! Access outside the dump, each behind a capability granted with `--allow`:
//! `read_file(path)`, `file_exists(path)` (fs-read); `write_file(path, text)`,
//! `append_file(path, text)` (fs-write); `run_process(cmdline)` (exec). Without the grant they
//! fail with a message that names the capability.

use crate::script::error::runtime;
use crate::script::sandbox::Capability;
use crate::script::HostContext;
use rhai::{Engine, EvalAltResult};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

fn allowed(ctx: &HostContext, c: Capability, what: &str) -> R<()> {
    ctx.options
        .caps
        .check(c, what)
        .map_err(|m| runtime("sandbox", m, None))
}

fn io(path: &str, e: std::io::Error) -> Box<EvalAltResult> {
    runtime("io", format!("{path}: {e}"), None)
}

/// Registers the sandboxed file and process functions.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    let c = ctx.clone();
    engine.register_fn("read_file", move |path: &str| -> R<String> {
        allowed(&c, Capability::FsRead, "read_file")?;
        std::fs::read_to_string(path).map_err(|e| io(path, e))
    });
    let c = ctx.clone();
    engine.register_fn("file_exists", move |path: &str| -> R<bool> {
        allowed(&c, Capability::FsRead, "file_exists")?;
        Ok(std::path::Path::new(path).exists())
    });
    let c = ctx.clone();
    engine.register_fn("write_file", move |path: &str, text: &str| -> R<()> {
        allowed(&c, Capability::FsWrite, "write_file")?;
        std::fs::write(path, text).map_err(|e| io(path, e))
    });
    let c = ctx.clone();
    engine.register_fn("append_file", move |path: &str, text: &str| -> R<()> {
        use std::io::Write;
        allowed(&c, Capability::FsWrite, "append_file")?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| io(path, e))
    });
    let c = ctx.clone();
    engine.register_fn("run_process", move |cmdline: &str| -> R<String> {
        allowed(&c, Capability::Exec, "run_process")?;
        let words = crate::commands::split_line(cmdline)
            .map_err(|e| runtime("usage", e.to_string(), None))?;
        let (prog, args) = words
            .split_first()
            .ok_or_else(|| runtime("usage", "run_process: empty command".into(), None))?;
        let out = std::process::Command::new(prog)
            .args(args)
            .output()
            .map_err(|e| io(prog, e))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    });
}
