//! Block-layer and driver-core walks for scripts: the requests of a blk-mq queue that hold a
//! tag (`linux::blk_mq`, the walk `dev -d` counts with), blk_mq_rq_to_pdu(), the set bits of an
//! sbitmap, and the devices of a `struct class` (the walk `dev -d` starts from).
//!
//! ```rhai
//! let h = container_of(class_devices(sym_addr("shost_class"))[0], "struct Scsi_Host", "shost_dev");
//! let sdev = list_for_each_entry(addr_of(h, "__devices"), "struct scsi_device", "siblings")[0];
//! for rq in blk_mq_requests(sdev.request_queue) {
//!     let cmd = read_struct("struct scsi_cmnd", blk_mq_rq_to_pdu(rq));
//!     print(`${rq.tag} ${rq.state} ${read_u8(addr_of(cmd, "cmnd"))}`);
//! }
//! print(sbitmap_set_bits(sdev.budget_map).len());          // the device's busy budget
//! ```
//!
//! Must not import `repl`.

use super::addr::{address_arg, Addr};
use super::objects::{report_walk, KObj};
use crate::linux::blk_mq;
use crate::linux::device;
use crate::script::error::from_error;
use crate::script::HostContext;
use crate::value::{walk, Value};
use rhai::{Array, Dynamic, Engine, EvalAltResult, INT};
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

/// Registers `blk_mq_requests`, `blk_mq_rq_to_pdu`, `sbitmap_set_bits` and `class_devices`.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    // The `struct request`s of a `struct request_queue` (object or address) that hold a driver
    // or scheduler tag, any state; `rq.state` tells started ones (1, MQ_RQ_IN_FLIGHT).
    let c = ctx.clone();
    engine.register_fn("blk_mq_requests", move |q: Dynamic| -> R<Array> {
        let s = &c.session;
        let list = blk_mq::busy_requests(s, address_arg(&q)?).map_err(from_error)?;
        let rt = s.find_type("struct request").map_err(from_error)?;
        Ok(list
            .into_iter()
            .map(|b| Dynamic::from(KObj::new(Value::at(rt, b.rq), s.clone())))
            .collect())
    });
    // blk_mq_rq_to_pdu(rq): the address of the driver data behind a request.
    let c = ctx.clone();
    engine.register_fn("blk_mq_rq_to_pdu", move |rq: Dynamic| -> R<Addr> {
        blk_mq::rq_to_pdu(&c.session, address_arg(&rq)?)
            .map(Addr)
            .map_err(from_error)
    });
    // The set bits (word & ~cleared) of a `struct sbitmap` (object or address).
    let c = ctx.clone();
    engine.register_fn("sbitmap_set_bits", move |sb: Dynamic| -> R<Array> {
        Ok(blk_mq::sbitmap_set_bits(&c.session, address_arg(&sb)?)
            .map_err(from_error)?
            .into_iter()
            .map(|b| Dynamic::from(b as INT))
            .collect())
    });
    // The `struct device`s of a `struct class` (object or address), in class order.
    let c = ctx.clone();
    engine.register_fn("class_devices", move |class: Dynamic| -> R<Array> {
        let s = &c.session;
        let class = address_arg(&class)?;
        let head = device::class_devices_head(s, class).map_err(from_error)?;
        let knode = s
            .offset_of("struct device_private", "knode_class.n_node")
            .map_err(from_error)?;
        let devoff = s
            .offset_of("struct device_private", "device")
            .map_err(from_error)?;
        let w = walk::list(
            s.as_ref(),
            walk::ListStart::Head(head),
            &walk::ListOpts {
                bound: 1 << 20,
                ..Default::default()
            },
        );
        report_walk(&c, "class_devices", class, &w.warnings);
        let dt = s.find_type("struct device").map_err(from_error)?;
        let mut out = Array::new();
        for node in w.items {
            let Some(p) = node
                .checked_sub(knode)
                .and_then(|dp| dp.checked_add(devoff))
            else {
                continue;
            };
            let dev = match crate::memory::ReadExt::read_u64(s.as_ref(), crate::addr::Kva(p)) {
                Ok(d) if d != 0 => d,
                _ => continue,
            };
            out.push(Dynamic::from(KObj::new(Value::at(dt, dev), s.clone())));
        }
        Ok(out)
    });
}
