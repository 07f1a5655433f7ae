//! Reporting: `warn(msg)` prints `+++WARNING+++ msg` inline and adds it to the closing
//! "Summary of problems found"; `error(msg)` likewise with `+++ERROR+++`; `info(msg)`;
//! `print_table(rows, headers)` lines up columns.
//!
//! ```rhai
//! warn("3 tasks blocked for more than 120 s");
//! print_table([[1, "init"], [2, "kthreadd"]], ["PID", "COMM"]);
//! ```

use crate::script::{Finding, HostContext};
use rhai::{Array, Dynamic, Engine, Map};
use std::sync::Arc;

fn cell(v: &Dynamic) -> String {
    super::addr::display(v)
}

/// Formats rows under headers with columns padded to their widest cell.
pub fn format_table(rows: &[Vec<String>], headers: &[String]) -> Vec<String> {
    let ncol = rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(headers.len()))
        .max()
        .unwrap_or(0);
    let mut width = vec![0usize; ncol];
    for r in rows.iter().chain(std::iter::once(&headers.to_vec())) {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |r: &[String]| {
        r.iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = width[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = Vec::new();
    if !headers.is_empty() {
        out.push(line(headers));
    }
    out.extend(rows.iter().map(|r| line(r)));
    out
}

/// Registers the reporting functions.
pub fn register(engine: &mut Engine, ctx: &Arc<HostContext>) {
    for (name, severity) in [("warn", "WARNING"), ("error", "ERROR")] {
        let c = ctx.clone();
        engine.register_fn(name, move |msg: &str| {
            c.out.line(&format!("+++{severity}+++ {msg}"));
            if let Ok(mut f) = c.findings.lock() {
                f.push(Finding {
                    severity,
                    message: msg.to_string(),
                });
            }
        });
    }
    let c = ctx.clone();
    engine.register_fn("info", move |msg: &str| c.out.line(msg));
    let c = ctx.clone();
    engine.register_fn("print_table", move |rows: Array, headers: Array| {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| match r.read_lock::<Array>() {
                Some(a) => a.iter().map(cell).collect(),
                None => match r.read_lock::<Map>() {
                    Some(m) => m.values().map(cell).collect(),
                    None => vec![cell(r)],
                },
            })
            .collect();
        let headers: Vec<String> = headers.iter().map(cell).collect();
        for l in format_table(&rows, &headers) {
            c.out.line(&l);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::format_table;

    #[test]
    fn pads_columns() {
        let rows = vec![
            vec!["1".to_string(), "init".to_string()],
            vec!["1234".to_string(), "kthreadd".to_string()],
        ];
        let t = format_table(&rows, &["PID".into(), "COMM".into()]);
        assert_eq!(t, vec!["PID   COMM", "1     init", "1234  kthreadd"]);
    }
}
