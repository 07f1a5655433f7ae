//! Source lines of stack frames (`bt -l`, `Session::source_lines`) on the real live dump,
//! cross-checked against drgn on the same dump: for every frame of every D-state task, the
//! function names (inline frames included) and the line numbers must agree, and the file
//! names must end alike (rkdump joins `DW_AT_comp_dir`, drgn does not). The fixture module
//! `rkd_locks.ko` is given to both, so module frames are checked too.

mod common;

use rkdump::tasks::{self, TaskState};
use std::collections::BTreeMap;
use std::process::Command;

const DRGN_SCRIPT: &str = r#"
import json, sys
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char
prog.load_debug_info([sys.argv[1]])
for t in for_each_task(prog):
    if task_state_to_char(t) != 'D':
        continue
    for f in prog.stack_trace(t):
        try:
            fn, line, col = f.source()
        except LookupError:
            fn, line = None, None
        print(json.dumps({"pid": int(t.pid), "name": f.name, "inline": f.is_inline,
                          "file": fn, "line": line}))
"#;

/// One source level of a frame: function, inline or not, file, line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Level {
    name: String,
    inline: bool,
    file: String,
    line: u64,
}

fn drgn_levels(ko: &str) -> BTreeMap<u64, Vec<Level>> {
    let path = std::env::temp_dir().join(format!("rkdump-lines-{}.py", std::process::id()));
    std::fs::write(&path, DRGN_SCRIPT).expect("write drgn script");
    let out = Command::new(common::drgn_bin())
        .args(["-q", "-c"])
        .arg(common::fixture("live.elf"))
        .arg("-s")
        .arg(common::vmlinux())
        .arg(&path)
        .arg(ko)
        .output()
        .unwrap_or_else(|e| panic!("cannot run drgn (tests/tools/install-drgn.sh): {e}"));
    assert!(
        out.status.success(),
        "drgn failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map: BTreeMap<u64, Vec<Level>> = BTreeMap::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("drgn json line");
        // Frames without source (user space, unknown code) are not compared.
        let (Some(file), Some(line)) = (v["file"].as_str(), v["line"].as_u64()) else {
            continue;
        };
        map.entry(v["pid"].as_u64().expect("pid"))
            .or_default()
            .push(Level {
                name: v["name"].as_str().unwrap_or("").to_string(),
                inline: v["inline"].as_bool().unwrap_or(false),
                file: file.to_string(),
                line,
            });
    }
    map
}

#[test]
fn frame_lines_agree_with_drgn_for_every_d_state_task() {
    let ko = common::fixture("rkd_locks.ko");
    let ko = ko.to_str().expect("utf-8 path");
    let s = common::open("live.elf");
    let rel = s.release_cached();
    s.modules()
        .expect("module list")
        .load_debuginfo(&rel, "rkd_locks", Some(std::path::Path::new(ko)))
        .expect("load rkd_locks.ko");
    let drgn = drgn_levels(ko);
    assert!(
        !drgn.is_empty(),
        "drgn found no D-state task with source lines"
    );

    let list = tasks::task_list(&s).expect("task list");
    let mut ours: BTreeMap<u64, Vec<Level>> = BTreeMap::new();
    for t in list
        .tasks
        .iter()
        .filter(|t| t.state == TaskState::Uninterruptible)
    {
        let trace = tasks::stack_trace(&s, &list, t).expect("stack trace");
        let levels = ours.entry(u64::from(t.pid)).or_default();
        for f in &trace.frames {
            let chain = s.source_lines(f.lookup_pc()).unwrap_or_default();
            for lf in chain {
                let Some(loc) = lf.location else { continue };
                levels.push(Level {
                    name: lf.function.unwrap_or_default(),
                    inline: lf.inlined,
                    file: loc.file,
                    line: loc.line,
                });
            }
        }
    }

    let (mut total, mut agree, mut inline_agree) = (0usize, 0usize, 0usize);
    let mut module_agree = 0usize;
    let mut misses = Vec::new();
    for (pid, want) in &drgn {
        let got = ours.get(pid).cloned().unwrap_or_default();
        for (i, w) in want.iter().enumerate() {
            total += 1;
            let ok = got.get(i).is_some_and(|g| {
                g.name == w.name
                    && g.inline == w.inline
                    && g.line == w.line
                    && g.file.ends_with(&w.file)
            });
            if ok {
                agree += 1;
                inline_agree += usize::from(w.inline);
                module_agree += usize::from(w.file.ends_with("rkd_locks.c"));
            } else {
                misses.push(format!(
                    "pid {pid} level {i}: drgn {w:?}, rkdump {:?}",
                    got.get(i)
                ));
            }
        }
    }
    let pct = agree as f64 * 100.0 / total.max(1) as f64;
    println!(
        "source levels: {agree}/{total} agree with drgn ({pct:.1}%), {inline_agree} inline, \
         {module_agree} in rkd_locks.ko"
    );
    for m in misses.iter().take(20) {
        println!("  {m}");
    }
    assert!(total >= 20, "too few levels to compare: {total}");
    assert!(pct >= 95.0, "only {pct:.1}% agree:\n{}", misses.join("\n"));
    assert!(
        inline_agree >= 3,
        "inline frames: only {inline_agree} agree"
    );
    assert!(
        module_agree >= 3,
        "module frames: only {module_agree} agree"
    );
}

#[test]
fn bt_l_prints_file_and_line_and_reads_only_the_units_it_needs() {
    let s = common::open("live.elf");
    // A D-state task's trace goes through __schedule, which inlines context_switch.
    let list = tasks::task_list(&s).expect("task list");
    let t = list
        .tasks
        .iter()
        .find(|t| t.state == TaskState::Uninterruptible)
        .expect("a D-state task");
    let text = common::run(&s, &format!("bt -l {}", t.pid));
    assert!(
        text.contains("    [inlined] context_switch at ") && text.contains("kernel/sched/core.c: "),
        "{text}"
    );
    let parsed = s.line_table().expect("line table").parsed_units();
    assert!(
        (1..200).contains(&parsed),
        "bt -l parsed {parsed} units (must be lazy)"
    );
}
