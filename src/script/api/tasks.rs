//! Tasks and stacks: `for_each_task()` (every thread, idle tasks included), `find_task(pid)`,
//! `for_each_thread(t)`, `task_state(t)` → `"UN"`, `"RU"`…, `task_info(t)` (pid, tgid, ppid,
//! comm, state, cpu, active, last_arrival, ran_ago_ns), `stack_trace(t)` → frames with
//! `.func`, `.pc`, `.sp`, `.offset`, `.module` (`stack_trace(t, true)` adds `.file`, `.line`
//! and `.inlined`), `addr_to_line(addr)`, and `has_func(t, "io_schedule")`.
//!
//! ```rhai
//! for t in for_each_task() {
//!     if task_state(t) == "UN" && has_func(t, "io_schedule") { print(`${t.pid} ${t.comm}`); }
//! }
//! ```

use super::addr::Addr;
use super::objects::KObj;
use crate::linux::sched::{self, TaskInfo, TaskList};
use crate::script::error::{from_error, runtime};
use crate::script::HostContext;
use crate::session::Session;
use crate::value::Value;
use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, INT};
use std::sync::{Arc, OnceLock};

type R<T> = Result<T, Box<EvalAltResult>>;

/// The task list and unwinder tables, read once per run.
struct Cache {
    list: OnceLock<Result<TaskList, String>>,
    orc: OnceLock<Result<crate::linux::stacktrace::KernelOrcRef, String>>,
}

impl Cache {
    fn list(&self, s: &Session) -> R<&TaskList> {
        self.list
            .get_or_init(|| sched::task_list(s).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| runtime("task", e.clone(), None))
    }
    fn orc(&self, s: &Session) -> R<&crate::linux::stacktrace::KernelOrcRef> {
        self.orc
            .get_or_init(|| crate::linux::stacktrace::kernel_orc_ref(s).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| runtime("stack", e.clone(), None))
    }
}

fn task_obj(s: &Arc<Session>, addr: u64) -> R<Dynamic> {
    let ty = s.find_type("struct task_struct").map_err(from_error)?;
    Ok(Dynamic::from(KObj::new(Value::at(ty, addr), s.clone())))
}

fn info_of<'a>(list: &'a TaskList, t: &Dynamic) -> R<&'a TaskInfo> {
    let addr = super::addr::address_arg(t)
        .map_err(|_| runtime("usage", "expected a task".into(), None))?;
    list.by_addr(addr).ok_or_else(|| {
        runtime(
            "task",
            format!("{addr:#x} is not a task on the task list"),
            Some(addr),
        )
    })
}

/// Registers the task and stack functions.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    let cache = Arc::new(Cache {
        list: OnceLock::new(),
        orc: OnceLock::new(),
    });
    let (c, k) = (ctx.clone(), cache.clone());
    engine.register_fn("for_each_task", move || -> R<Array> {
        let list = k.list(&c.session)?;
        list.tasks
            .iter()
            .map(|t| task_obj(&c.session, t.addr))
            .collect()
    });
    let (c, k) = (ctx.clone(), cache.clone());
    engine.register_fn("for_each_thread", move |t: Dynamic| -> R<Array> {
        let list = k.list(&c.session)?;
        let leader = info_of(list, &t)?.group_leader;
        list.tasks
            .iter()
            .filter(|x| x.group_leader == leader)
            .map(|x| task_obj(&c.session, x.addr))
            .collect()
    });
    let (c, k) = (ctx.clone(), cache.clone());
    engine.register_fn("find_task", move |pid: INT| -> R<Dynamic> {
        let list = k.list(&c.session)?;
        let t = u32::try_from(pid)
            .ok()
            .and_then(|p| list.by_pid(p).next())
            .ok_or_else(|| runtime("task", format!("no task with PID {pid}"), None))?;
        task_obj(&c.session, t.addr)
    });
    let (c, k) = (ctx.clone(), cache.clone());
    engine.register_fn("task_state", move |t: Dynamic| -> R<String> {
        Ok(info_of(k.list(&c.session)?, &t)?.state.code().to_string())
    });
    let (c, k) = (ctx.clone(), cache.clone());
    engine.register_fn("task_info", move |t: Dynamic| -> R<Map> {
        let list = k.list(&c.session)?;
        let i = info_of(list, &t)?;
        let clock = list.rq_clock.get(i.cpu as usize).copied().unwrap_or(0);
        let mut m = Map::new();
        let mut put = |key: &str, v: Dynamic| {
            m.insert(key.into(), v);
        };
        put("addr", Addr::dynamic(i.addr));
        put("pid", Dynamic::from(INT::from(i.pid)));
        put("tgid", Dynamic::from(INT::from(i.tgid)));
        put("ppid", Dynamic::from(INT::from(i.ppid)));
        put("comm", Dynamic::from(i.comm.clone()));
        put("state", Dynamic::from(i.state.code().to_string()));
        put("cpu", Dynamic::from(INT::from(i.cpu)));
        put("active", Dynamic::from(i.active));
        put("kthread", Dynamic::from(i.is_kthread()));
        put("last_arrival", Dynamic::from(i.last_arrival as INT));
        put("rq_clock", Dynamic::from(clock as INT));
        put(
            "ran_ago_ns",
            Dynamic::from(clock.saturating_sub(i.last_arrival) as INT),
        );
        Ok(m)
    });
    for with_lines in [false, true] {
        let (c, k) = (ctx.clone(), cache.clone());
        let f = move |t: Dynamic| -> R<Array> {
            let list = k.list(&c.session)?;
            let info = info_of(list, &t)?;
            let trace = crate::linux::stacktrace::stack_trace_with(
                &c.session,
                k.orc(&c.session)?,
                list,
                info,
            )
            .map_err(from_error)?;
            Ok(trace
                .frames
                .iter()
                .map(|f| Dynamic::from(frame_map(&c.session, f, with_lines)))
                .collect())
        };
        if with_lines {
            engine.register_fn("stack_trace", move |t: Dynamic, lines: bool| -> R<Array> {
                let _ = lines;
                f(t)
            });
        } else {
            engine.register_fn("stack_trace", f);
        }
    }
    let c = ctx.clone();
    engine.register_fn("addr_to_line", move |addr: Dynamic| -> R<Dynamic> {
        let chain = c
            .session
            .source_lines(super::addr::address_arg(&addr)?)
            .map_err(from_error)?;
        Ok(lines_map(&chain)
            .map(Dynamic::from)
            .unwrap_or(Dynamic::UNIT))
    });
    let (c, k) = (ctx.clone(), cache);
    engine.register_fn("has_func", move |t: Dynamic, name: &str| -> R<bool> {
        let list = k.list(&c.session)?;
        let info = info_of(list, &t)?;
        let trace =
            crate::linux::stacktrace::stack_trace_with(&c.session, k.orc(&c.session)?, list, info)
                .map_err(from_error)?;
        Ok(trace.has_func(name))
    });
}

/// One frame of `stack_trace(t)` as a map; with `lines`, its source position too.
fn frame_map(s: &Session, f: &crate::stack::Frame, lines: bool) -> Map {
    let mut m = Map::new();
    m.insert(
        "func".into(),
        Dynamic::from(f.symbol.clone().unwrap_or_default()),
    );
    m.insert("pc".into(), Addr::dynamic(f.pc));
    m.insert("sp".into(), Addr::dynamic(f.sp));
    m.insert("offset".into(), Dynamic::from(f.offset as INT));
    m.insert(
        "module".into(),
        f.module.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT),
    );
    m.insert("text".into(), Dynamic::from(f.sym_off()));
    if lines {
        let chain = s.source_lines(f.lookup_pc()).unwrap_or_default();
        let l = lines_map(&chain);
        for key in ["file", "line", "inlined"] {
            let v = l
                .as_ref()
                .and_then(|l| l.get(key).cloned())
                .unwrap_or(Dynamic::UNIT);
            m.insert(key.into(), v);
        }
    }
    m
}

/// `#{func, file, line, column, inlined}` for a source chain (innermost first): the
/// out-of-line function's position, and `inlined` listing the inlined levels innermost
/// first as `#{func, file, line, column}`. `None` when the chain is empty.
fn lines_map(chain: &[crate::debuginfo::LineFrame]) -> Option<Map> {
    let level = |f: &crate::debuginfo::LineFrame| {
        let mut m = Map::new();
        m.insert(
            "func".into(),
            f.function
                .clone()
                .map(Dynamic::from)
                .unwrap_or(Dynamic::UNIT),
        );
        let (file, line, column) = match &f.location {
            Some(l) => (
                Dynamic::from(l.file.clone()),
                Dynamic::from(l.line as INT),
                Dynamic::from(l.column as INT),
            ),
            None => (Dynamic::UNIT, Dynamic::UNIT, Dynamic::UNIT),
        };
        m.insert("file".into(), file);
        m.insert("line".into(), line);
        m.insert("column".into(), column);
        m
    };
    let (outer, inner) = chain.split_last()?;
    let mut m = level(outer);
    let inlined: Array = inner.iter().map(|f| Dynamic::from(level(f))).collect();
    m.insert("inlined".into(), Dynamic::from(inlined));
    Some(m)
}
