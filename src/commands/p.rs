//! `p`: evaluate a C-like expression and print its value as crash (gdb) does:
//! `p init_task.comm`, `p *init_task.thread_pid`, `p &init_task`, `p (struct list_head *)0x…`,
//! `p runqueues:0`, `p -x jiffies`.
//!
//! Must not import `script` or `repl`.

use super::struct_cmd::radix;
use super::{Command, Opts};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::value::expr::{self, CpuSel, Expr};
use crate::value::format::{format_top, FormatOptions};
use crate::value::{Target, Value};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The `p` command; numbers its results `$1`, `$2`, … as crash does.
#[derive(Default)]
pub struct P {
    history: AtomicUsize,
}

const USAGE: &str = "\
p [-x|-d] EXPRESSION
  Prints the value of a C expression: symbols, numbers, enumerators, member chains
  (. and -> both follow pointers), [index], *pointer, &object, casts (struct x *)ADDR,
  sizeof(type), + and -. Per-CPU variables: symbol:CPU, or symbol:a for every CPU.
  -x / -d   integers in hexadecimal / decimal";

/// One evaluated result: the label crash prints before `$N =` (`jiffies`,
/// `per_cpu(runqueues, 0)`), if any, and the value.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// `name` for a bare symbol, `per_cpu(name, cpu)` for a per-CPU reference.
    pub label: Option<String>,
    /// The value.
    pub value: Value,
}

/// Evaluates `text` (a `sym:a` expression gives one result per CPU).
pub fn evaluate(session: &Session, text: &str) -> Result<Vec<Evaluated>> {
    evaluate_in(session, text)
}

/// Evaluates `text` with the types and globals of `k` (the vmlinux, or a module's).
pub fn evaluate_in(k: &dyn Target, text: &str) -> Result<Vec<Evaluated>> {
    let e = expr::parse(k, text)?;
    let label = |cpu: Option<usize>, v: &Value| match &e {
        Expr::Ident(n) if v.address().is_some() => Some(n.clone()),
        Expr::PerCpu(n, CpuSel::One(c)) => Some(format!("per_cpu({n}, {c})")),
        Expr::PerCpu(n, CpuSel::All) => cpu.map(|c| format!("per_cpu({n}, {c})")),
        _ => None,
    };
    if expr::uses_all_cpus(&e) {
        let n = k.cpu_offsets().len();
        (0..n)
            .map(|c| {
                let value = expr::eval(k, &e, Some(c))?;
                Ok(Evaluated {
                    label: label(Some(c), &value),
                    value,
                })
            })
            .collect()
    } else {
        let value = expr::eval(k, &e, None)?;
        Ok(vec![Evaluated {
            label: label(None, &value),
            value,
        }])
    }
}

impl Command for P {
    fn name(&self) -> &'static str {
        "p"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["print"]
    }
    fn summary(&self) -> &'static str {
        "print the value of an expression"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("p", args, "xdu", "", &[])?;
        if o.positional.is_empty() {
            return Err(Error::Usage(format!(
                "p: missing expression\nusage: {USAGE}"
            )));
        }
        let text = o.positional.join(" ");
        let opts = FormatOptions {
            radix: radix(&o),
            ..FormatOptions::default()
        };
        // Not in the vmlinux: the expression's module types or globals (module debuginfo,
        // loaded on first need).
        let module;
        let module2;
        let first = match session.module_target_for_types(&text) {
            // A type the vmlinux only declares: the module's definition, never the
            // declaration's size 0.
            Some(t) => {
                module = t;
                Ok((&module as &dyn Target, evaluate_in(&module, &text)?))
            }
            None => evaluate(session, &text).map(|r| (session as &dyn Target, r)),
        };
        let (target, results): (&dyn Target, _) = match first {
            Ok(r) => r,
            Err(e) => match session.module_target_for_expr(&text) {
                Some(t) => {
                    module2 = t;
                    (&module2, evaluate_in(&module2, &text)?)
                }
                None => return Err(e),
            },
        };
        for r in results {
            let body = format_top(target, &r.value, &opts)?;
            let n = self.history.fetch_add(1, Ordering::Relaxed) + 1;
            match r.label {
                Some(l) => writeln!(out, "{l} = ${n} = {body}")?,
                None => writeln!(out, "${n} = {body}")?,
            }
        }
        Ok(())
    }
    /// Each result as `{label, type, address, module, value}` (a list for `sym:a`).
    fn data(&self, session: &Session, args: &[String]) -> Result<super::Data> {
        use super::value_data::object_data;
        let o = Opts::parse("p", args, "xdu", "", &[])?;
        let text = o.positional.join(" ");
        let module = session.module_target_for_types(&text).or_else(|| {
            evaluate(session, &text)
                .is_err()
                .then(|| session.module_target_for_expr(&text))
                .flatten()
        });
        let (target, name): (&dyn Target, Option<String>) = match &module {
            Some(m) => (m, Some(m.debug().module.clone())),
            None => (session, None),
        };
        let items = evaluate_in(target, &text)?
            .iter()
            .map(|r| {
                let mut d = object_data(target, &r.value, name.as_deref())?;
                if let super::Data::Map(fields) = &mut d {
                    fields.insert(
                        0,
                        ("label".into(), super::Data::opt_str(r.label.as_deref())),
                    );
                }
                Ok(d)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(super::Data::one_or_list(items))
    }
}
