//! Paths of files in scripts, from the same `d_path()` walk the `files` and `mount` commands
//! use: `d_path(path)` of a `struct path` (a file's `f_path`, a task's `fs.pwd`),
//! `d_path(vfsmount, dentry)`, and `dentry_path(dentry)` (from the root of its super block,
//! no mount crossed), and `mounts()`, the `struct mount`s of the initial namespace as the
//! `mount` command walks them.
//!
//! ```rhai
//! let f = find_task(1).files.fdt.fd[0];
//! print(d_path(f.f_path));                   // /dev/console
//! print(d_path(f.f_path.mnt, f.f_path.dentry));
//! print(dentry_path(f.f_path.dentry));       // /console (inside devtmpfs)
//! for m in mounts() { print(d_path(addr_of(m, "mnt"), m.mnt.mnt_root)); }
//! ```
//!
//! Must not import `repl`.

use super::addr::address_arg;
use super::objects::{report_walk, KObj};
use crate::linux::fs;
use crate::script::error::{from_error, runtime};
use crate::script::HostContext;
use crate::value::Value;
use rhai::{Array, Dynamic, Engine, EvalAltResult};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

/// Registers `d_path`, `dentry_path` and `mounts`.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    let c = ctx.clone();
    engine.register_fn("d_path", move |path: KObj| -> R<String> {
        let mnt = path.get("mnt")?;
        let dentry = path.get("dentry")?;
        if address_arg(&dentry)? == 0 {
            return Err(runtime(
                "null",
                "d_path: the path has no dentry".into(),
                None,
            ));
        }
        fs::d_path(&c.session, address_arg(&mnt)?, address_arg(&dentry)?).map_err(from_error)
    });
    let c = ctx.clone();
    engine.register_fn(
        "d_path",
        move |mnt: Dynamic, dentry: Dynamic| -> R<String> {
            fs::d_path(&c.session, address_arg(&mnt)?, address_arg(&dentry)?).map_err(from_error)
        },
    );
    let c = ctx.clone();
    engine.register_fn("dentry_path", move |dentry: Dynamic| -> R<String> {
        fs::dentry_path(&c.session, address_arg(&dentry)?).map_err(from_error)
    });
    let c = ctx.clone();
    engine.register_fn("mounts", move || -> R<Array> {
        let (list, warnings) = fs::mounts(&c.session).map_err(from_error)?;
        report_walk(&c, "mounts", 0, &warnings);
        let mt = c.session.find_type("struct mount").map_err(from_error)?;
        Ok(list
            .into_iter()
            .map(|m| Dynamic::from(KObj::new(Value::at(mt, m.mount), c.session.clone())))
            .collect())
    });
}
