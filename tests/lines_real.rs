//! Source lines of stack frames (`bt -l`, `Session::source_lines`) on the real live dump,
//! cross-checked against drgn on the same dump: for every frame of every D-state task, the
//! function names (inline frames included) and the line numbers must agree, and the file
//! names must end alike (rkdump joins `DW_AT_comp_dir`, drgn does not). The fixture module
//! `rkd_locks.ko` is given to both, so module frames are checked too.

mod common;

use rkdump::linux::sched::{self, TaskState};
use std::collections::BTreeMap;

const DRGN_SCRIPT: &str = r#"
import json, sys
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char
from drgn.helpers.linux.cpumask import for_each_present_cpu
from drgn.helpers.linux.sched import cpu_curr
prog.load_debug_info([sys.argv[1]])
if sys.argv[2] == "active":
    # A CPU stopped by the panic is no longer online; every present CPU has a task.
    tasks = [cpu_curr(prog, c) for c in for_each_present_cpu(prog)]
else:
    tasks = [t for t in for_each_task(prog) if task_state_to_char(t) == 'D']
for t in tasks:
    for f in prog.stack_trace(t):
        # The kernel stack ends where a syscall's pt_regs hold the user pc: drgn goes on
        # unwinding the user stack by frame pointers, and a stale word there may be a module
        # address (a bogus kernel frame with a line).
        if f.pc < 0xffff800000000000:
            break
        try:
            fn, line, col = f.source()
        except LookupError:
            fn, line = None, None
        print(json.dumps({"task": t.value_(), "name": f.name, "inline": f.is_inline,
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

fn drgn_levels(dump: &str, ko: &str, which: &str) -> BTreeMap<u64, Vec<Level>> {
    let out = common::drgn_text(dump, DRGN_SCRIPT, &[ko, which]);
    let mut map: BTreeMap<u64, Vec<Level>> = BTreeMap::new();
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("drgn json line");
        // Frames without source (user space, unknown code) are not compared.
        let (Some(file), Some(line)) = (v["file"].as_str(), v["line"].as_u64()) else {
            continue;
        };
        map.entry(v["task"].as_u64().expect("task address"))
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

/// Compares rkdump's source levels with drgn's for the D-state tasks (`which` = `"D"`) or
/// the CPUs' active tasks (`"active"`) of `dump`; returns (agree, total, inline, module).
fn compare(dump: &str, which: &str) -> (usize, usize, usize, usize) {
    let ko = common::fixture("rkd_locks.ko");
    let ko = ko.to_str().expect("utf-8 path");
    let s = common::open(dump);
    let rel = s.release_cached();
    s.modules()
        .expect("module list")
        .load_debuginfo(&rel, "rkd_locks", Some(std::path::Path::new(ko)))
        .expect("load rkd_locks.ko");
    let drgn = drgn_levels(dump, ko, which);
    assert!(
        !drgn.is_empty(),
        "drgn found no {which} task with source lines in {dump}"
    );

    let list = sched::task_list(&s).expect("task list");
    let chosen: Vec<&sched::TaskInfo> = if which == "active" {
        (0..list.current.len())
            .filter_map(|c| list.current_on(c))
            .collect()
    } else {
        list.tasks
            .iter()
            .filter(|t| t.state == TaskState::Uninterruptible)
            .collect()
    };
    let mut ours: BTreeMap<u64, Vec<Level>> = BTreeMap::new();
    for t in chosen {
        let trace = rkdump::linux::stacktrace::stack_trace(&s, &list, t).expect("stack trace");
        let levels = ours.entry(t.addr).or_default();
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
    let mut place_agree = 0usize;
    let mut module_agree = 0usize;
    let mut misses = Vec::new();
    for (task, want) in &drgn {
        let got = ours.get(task).cloned().unwrap_or_default();
        for (i, w) in want.iter().enumerate() {
            total += 1;
            // Position alone: inline level, line and file.
            place_agree += usize::from(got.get(i).is_some_and(|g| {
                g.inline == w.inline && g.line == w.line && g.file.ends_with(&w.file)
            }));
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
                    "task {task:#x} level {i}: drgn {w:?}, rkdump {:?}",
                    got.get(i)
                ));
            }
        }
    }
    let pct = agree as f64 * 100.0 / total.max(1) as f64;
    println!(
        "{dump} {which}: {agree}/{total} source levels agree with drgn ({pct:.1}%) in function, \
         file and line; {place_agree}/{total} in file and line; {inline_agree} inline, \
         {module_agree} in rkd_locks.ko"
    );
    for m in misses.iter().take(20) {
        println!("  {m}");
    }
    // Every position agrees; names differ only where assembly has no DWARF function and
    // rkdump names the nearest ELF symbol (`entry_SYSCALL_64_after_hwframe`,
    // `secondary_startup_64_no_verify`, as crash does)
    // where drgn names the enclosing one (`entry_SYSCALL_64`).
    assert_eq!(
        place_agree,
        total,
        "positions differ:\n{}",
        misses.join("\n")
    );
    assert!(pct >= 90.0, "only {pct:.1}% agree:\n{}", misses.join("\n"));
    (agree, total, inline_agree, module_agree)
}

#[test]
fn frame_lines_agree_with_drgn_for_every_d_state_task() {
    let (_, total, inline, module) = compare("live.elf", "D");
    assert!(total >= 20, "too few levels to compare: {total}");
    assert!(inline >= 3, "inline frames: only {inline} agree");
    assert!(module >= 3, "module frames: only {module} agree");
}

#[test]
fn frame_lines_agree_with_drgn_for_active_tasks_of_the_panic_dump() {
    // Interrupted frames (the panic CPU's first frame, `[exception RIP]` frames) are
    // looked up at their exact pc, return addresses at pc - 1.
    let (_, total, inline, _) = compare("panic.elf", "active");
    assert!(total >= 10, "too few levels to compare: {total}");
    assert!(inline >= 2, "inline frames: only {inline} agree");
}

#[test]
fn bt_l_prints_file_and_line_and_reads_only_the_units_it_needs() {
    let s = common::open("live.elf");
    // A D-state task's trace goes through __schedule, which inlines context_switch.
    let list = sched::task_list(&s).expect("task list");
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
