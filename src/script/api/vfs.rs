//! Paths of files in scripts, from the same `d_path()` walk the `files` and `mount` commands
//! use: `d_path(path)` of a `struct path` (a file's `f_path`, a task's `fs.pwd`),
//! `d_path(vfsmount, dentry)`, and `dentry_path(dentry)` (from the root of its super block,
//! no mount crossed).
//!
//! ```rhai
//! let f = find_task(1).files.fdt.fd[0];
//! print(d_path(f.f_path));                   // /dev/console
//! print(d_path(f.f_path.mnt, f.f_path.dentry));
//! print(dentry_path(f.f_path.dentry));       // /console (inside devtmpfs)
//! ```
//!
//! Must not import `repl`.

use super::addr::address_arg;
use super::objects::KObj;
use crate::commands::files;
use crate::script::error::{from_error, runtime};
use crate::script::HostContext;
use rhai::{Dynamic, Engine, EvalAltResult};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

/// Registers `d_path` and `dentry_path`.
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
        files::d_path(&c.session, address_arg(&mnt)?, address_arg(&dentry)?).map_err(from_error)
    });
    let c = ctx.clone();
    engine.register_fn(
        "d_path",
        move |mnt: Dynamic, dentry: Dynamic| -> R<String> {
            files::d_path(&c.session, address_arg(&mnt)?, address_arg(&dentry)?).map_err(from_error)
        },
    );
    let c = ctx.clone();
    engine.register_fn("dentry_path", move |dentry: Dynamic| -> R<String> {
        files::dentry_path(&c.session, address_arg(&dentry)?).map_err(from_error)
    });
}
