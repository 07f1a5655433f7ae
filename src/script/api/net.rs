//! Networking walks the `net` command already does, for scripts: `net_devices(net)`, the
//! devices of a network namespace (`struct net`) with their IPv4 and IPv6 addresses, and
//! `task_sockets(task)`, the sockets among a task's open files (fd, `struct socket *`,
//! `struct sock *`). The per-socket decoding lives in `stdlib/linux/net.rhai`.
//!
//! ```rhai
//! let init = read_struct("struct net", sym_addr("init_net"));
//! for d in net_devices(init) { print(`${d.name} ${d.ipv4} ${d.ipv6} mtu ${d.dev.mtu}`); }
//! for k in task_sockets(find_task(1)) { print(`${k.fd} ${hex(k.sock)}`); }
//! ```
//!
//! Must not import `repl`.

use super::addr::address_arg;
use super::objects::{report_walk, KObj};
use crate::linux::net;
use crate::script::error::from_error;
use crate::script::HostContext;
use crate::value::Value;
use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, INT};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

fn strings<T: ToString>(v: &[T]) -> Dynamic {
    Dynamic::from(
        v.iter()
            .map(|a| Dynamic::from(a.to_string()))
            .collect::<Array>(),
    )
}

/// Registers `net_devices` and `task_sockets`.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    let c = ctx.clone();
    engine.register_fn("net_devices", move |netns: Dynamic| -> R<Array> {
        let at = address_arg(&netns)?;
        let (list, warnings) = net::net_devices_in(&c.session, at).map_err(from_error)?;
        report_walk(&c, "net_devices", at, &warnings);
        let dt = c
            .session
            .find_type("struct net_device")
            .map_err(from_error)?;
        Ok(list
            .into_iter()
            .map(|d| {
                let mut m = Map::new();
                let v6 = net::ipv6_addresses(&c.session, d.addr);
                m.insert(
                    "dev".into(),
                    Dynamic::from(KObj::new(Value::at(dt, d.addr), c.session.clone())),
                );
                m.insert("name".into(), Dynamic::from(d.name));
                m.insert("ipv4".into(), strings(&d.ipv4));
                m.insert("ipv6".into(), strings(&v6));
                Dynamic::from(m)
            })
            .collect())
    });
    let c = ctx.clone();
    engine.register_fn("task_sockets", move |task: Dynamic| -> R<Array> {
        let at = address_arg(&task)?;
        let list = net::task_sockets(&c.session, at).map_err(from_error)?;
        Ok(list
            .into_iter()
            .map(|k| {
                let mut m = Map::new();
                m.insert("fd".into(), Dynamic::from(k.fd as INT));
                m.insert("socket".into(), Dynamic::from(k.socket as INT));
                m.insert("sock".into(), Dynamic::from(k.sock as INT));
                Dynamic::from(m)
            })
            .collect())
    });
}
