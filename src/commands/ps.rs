//! `ps`: the process list in crash's layout, with its options (`-m`, `-l`, `-S`, `-p`, `-c`,
//! `-t`, `-a`, `-G`, `-k`, `-u`) and filters by PID, task address, command name or regex.
//! Also the task selection shared by `bt`, `task` and `foreach`.

use super::{Command, Data, Opts};
use crate::error::{Error, Result};
use crate::linux::mm::{TaskMem, UserMemError};
use crate::linux::sched::{self, TaskInfo, TaskList, TaskState};
use crate::session::Session;
use std::io::Write;

/// The `ps` command.
pub struct Ps;

const USAGE: &str = "\
ps [-k|-u|-G] [-m|-l|-S|-p|-c|-t|-a] [PID | TASK | COMMAND | 'REGEX' | STATE]...
  (no option)  PID, PPID, CPU, TASK, ST, %MEM, VSZ, RSS, COMM; '>' marks active tasks,
               kernel threads' names are in [brackets]
  -k           kernel threads only          -u  user tasks only
  -G           thread-group leaders only
  -m           time since each task last ran, [D HH:MM:SS.mmm], most recent first
  -l           sched_info.last_arrival in ns, most recent first
  -S           count of tasks in each state
  -p           parental hierarchy of each task (up to PID 0)
  -c           children of each task
  -t           run time, start time, user and system time
  -a           command-line arguments and environment (from user memory)
  A STATE filter is a crash state code: RU IN UN ID ZO ST TR DE WA PA NE.";

/// A filter on tasks given on a command line.
#[derive(Debug, Clone)]
pub enum TaskFilter {
    /// A thread id.
    Pid(u32),
    /// A `task_struct` address.
    Addr(u64),
    /// An exact command name.
    Comm(String),
    /// A regular expression on the command name.
    Regex(Regex),
    /// A state code.
    State(TaskState),
}

impl TaskFilter {
    /// Parses one filter word.
    pub fn parse(word: &str) -> Result<Self> {
        if let Ok(pid) = word.parse::<u32>() {
            return Ok(TaskFilter::Pid(pid));
        }
        let hex = word.trim_start_matches("0x");
        if hex.len() >= 12 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            if let Ok(a) = u64::from_str_radix(hex, 16) {
                return Ok(TaskFilter::Addr(a));
            }
        }
        if word.len() == 2 && word.chars().all(|c| c.is_ascii_uppercase()) {
            if let Some(s) = TaskState::from_code(word) {
                return Ok(TaskFilter::State(s));
            }
        }
        if word.chars().any(|c| "^$.*+?[]|()\\".contains(c)) {
            return Ok(TaskFilter::Regex(Regex::new(word)?));
        }
        Ok(TaskFilter::Comm(word.to_string()))
    }

    /// Whether `t` passes.
    pub fn matches(&self, t: &TaskInfo) -> bool {
        match self {
            TaskFilter::Pid(p) => t.pid == *p,
            TaskFilter::Addr(a) => t.addr == *a,
            TaskFilter::Comm(c) => &t.comm == c,
            TaskFilter::Regex(r) => r.is_match(&t.comm),
            TaskFilter::State(s) => t.state == *s,
        }
    }
}

/// Tasks passing any of `filters` (all tasks when there are none), in list order.
pub fn select<'a>(list: &'a TaskList, filters: &[TaskFilter]) -> Vec<&'a TaskInfo> {
    list.tasks
        .iter()
        .filter(|t| filters.is_empty() || filters.iter().any(|f| f.matches(t)))
        .collect()
}

/// crash's one-line task header: `PID: 1        TASK: ffff…  CPU: 1    COMMAND: "init"`.
pub fn task_header(t: &TaskInfo) -> String {
    format!(
        "PID: {:<8} TASK: {:016x}  CPU: {:<4} COMMAND: \"{}\"",
        t.pid, t.addr, t.cpu, t.comm
    )
}

/// `[D HH:MM:SS.mmm]` of a nanosecond interval.
pub fn format_dhms(ns: u64) -> String {
    let ms = ns / 1_000_000;
    let (s, ms) = (ms / 1000, ms % 1000);
    format!(
        "[{} {:02}:{:02}:{:02}.{:03}]",
        s / 86400,
        s % 86400 / 3600,
        s % 3600 / 60,
        s % 60,
        ms
    )
}

/// The `(pid, comm)` shown in `ps`: kernel threads' names in brackets.
fn comm_of(t: &TaskInfo) -> String {
    if t.is_kthread() {
        format!("[{}]", t.comm)
    } else {
        t.comm.clone()
    }
}

/// `ps`'s one-letter options.
const PS_FLAGS: &str = "kuGmlSpcta";

/// The tasks `ps` lists: those passing the filter words, then `-k`, `-u`, `-G`; `-m` and
/// `-l` order them by last arrival, most recent first.
fn ps_selection<'a>(o: &Opts, list: &'a TaskList) -> Result<Vec<&'a TaskInfo>> {
    let filters = o
        .positional
        .iter()
        .map(|w| TaskFilter::parse(w))
        .collect::<Result<Vec<_>>>()?;
    let mut sel: Vec<&TaskInfo> = select(list, &filters)
        .into_iter()
        .filter(|t| !o.has("k") || t.is_kthread())
        .filter(|t| !o.has("u") || !t.is_kthread())
        .filter(|t| !o.has("G") || t.is_leader())
        .collect();
    if sel.is_empty() && !filters.is_empty() {
        return Err(Error::Usage(format!(
            "ps: no task matches {}",
            o.positional.join(" ")
        )));
    }
    if o.has("m") || o.has("l") {
        sel.sort_by_key(|t| std::cmp::Reverse(t.last_arrival));
    }
    Ok(sel)
}

/// Nanoseconds since `t` last ran: its CPU's runqueue clock minus its last arrival (`ps -m`).
pub fn since_last_run(list: &TaskList, t: &TaskInfo) -> u64 {
    let clock = list.rq_clock.get(t.cpu as usize).copied().unwrap_or(0);
    clock.saturating_sub(t.last_arrival)
}

/// Nanoseconds `t` has existed: its CPU's runqueue clock minus its start time (`ps -t`).
fn run_time(list: &TaskList, t: &TaskInfo, tm: &sched::TaskTimes) -> u64 {
    let clock = list.rq_clock.get(t.cpu as usize).copied().unwrap_or(0);
    clock.saturating_sub(tm.start_time)
}

/// `t` and its parents up to PID 0, `t` first (`ps -p`).
pub fn ancestors<'a>(list: &'a TaskList, t: &'a TaskInfo) -> Vec<&'a TaskInfo> {
    let mut chain = vec![t];
    let mut cur = t;
    while cur.pid != 0 && chain.len() < 512 {
        match list.by_addr(cur.parent) {
            Some(p) if p.addr != cur.addr => {
                chain.push(p);
                cur = p;
            }
            _ => break,
        }
    }
    chain
}

/// The tasks (threads too) whose parent is `t` (`ps -c`).
pub fn children<'a>(list: &'a TaskList, t: &TaskInfo) -> Vec<&'a TaskInfo> {
    list.tasks
        .iter()
        // Like crash: every task (threads too) whose parent is `t`; idle tasks (pid 0) are
        // nobody's children.
        .filter(|c| c.parent == t.addr && c.addr != t.addr && c.pid != 0)
        .collect()
}

/// The fields every structured `ps` row has.
fn row_data(list: &TaskList, t: &TaskInfo, m: TaskMem) -> Vec<(&'static str, Data)> {
    vec![
        ("pid", Data::Int(t.pid.into())),
        ("ppid", Data::Int(t.ppid.into())),
        ("cpu", Data::Int(t.cpu.into())),
        ("task", Data::addr(t.addr)),
        ("state", Data::Str(t.state.code().to_string())),
        // One decimal, as printed.
        ("mem_pct", Data::Float((m.pct * 10.0).round() / 10.0)),
        ("vsz", Data::uint(m.vsz_kb)),
        ("rss", Data::uint(m.rss_kb)),
        ("comm", Data::Str(t.comm.clone())),
        ("tgid", Data::Int(t.tgid.into())),
        ("active", Data::Bool(t.active)),
        ("kthread", Data::Bool(t.is_kthread())),
        ("last_arrival", Data::uint(t.last_arrival)),
        ("since_last_run_ns", Data::uint(since_last_run(list, t))),
    ]
}

/// The structured `ps`: a list of rows (pid, ppid, cpu, task, state, mem_pct, vsz, rss in
/// KiB, comm, tgid, active, kthread, last_arrival, since_last_run_ns), plus `ancestors`
/// (`-p`), `children` (`-c`), times (`-t`) or `args`/`env` (`-a`); `-S` gives a map of state
/// code to count.
fn ps_data(session: &Session, args: &[String]) -> Result<Data> {
    let o = Opts::parse("ps", args, PS_FLAGS, "", &[])?;
    let list = sched::task_list(session)?;
    let sel = ps_selection(&o, &list)?;
    if o.has("S") {
        let mut counts: std::collections::BTreeMap<TaskState, i64> = Default::default();
        for t in &sel {
            *counts.entry(t.state).or_default() += 1;
        }
        return Ok(Data::Map(
            counts
                .into_iter()
                .map(|(s, n)| (s.code().to_string(), Data::Int(n)))
                .collect(),
        ));
    }
    let mem = crate::linux::mm::task_memory(session, &list);
    let pids = |v: Vec<&TaskInfo>| Data::list(v.into_iter().map(|t| Data::Int(t.pid.into())));
    let mut rows = Vec::with_capacity(sel.len());
    for t in sel {
        let mut row = row_data(&list, t, mem.get(&t.addr).copied().unwrap_or_default());
        if o.has("p") {
            row.push(("ancestors", pids(ancestors(&list, t)[1..].to_vec())));
        }
        if o.has("c") {
            row.push(("children", pids(children(&list, t))));
        }
        if o.has("t") {
            let tm = sched::task_times(session, t.addr)?;
            row.push(("run_time_ns", Data::uint(run_time(&list, t, &tm))));
            row.push(("start_time", Data::uint(tm.start_time)));
            row.push(("utime", Data::uint(tm.utime)));
            row.push(("stime", Data::uint(tm.stime)));
        }
        if o.has("a") {
            let strs = |v: Vec<String>| Data::list(v.into_iter().map(Data::Str));
            match crate::linux::mm::task_args(session, t) {
                Ok((argv, env)) => {
                    row.push(("args", strs(argv)));
                    row.push(("env", strs(env)));
                }
                Err(e) => {
                    let why = match e {
                        UserMemError::NoMm => "kernel thread: no user memory".to_string(),
                        UserMemError::NotInDump(e) => format!("user memory not in dump: {e}"),
                    };
                    row.push(("args", Data::Null));
                    row.push(("env", Data::Null));
                    row.push(("args_error", Data::Str(why)));
                }
            }
        }
        rows.push(Data::map(row));
    }
    Ok(Data::List(rows))
}

impl Command for Ps {
    fn name(&self) -> &'static str {
        "ps"
    }
    fn summary(&self) -> &'static str {
        "display process status information"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("ps", args, PS_FLAGS, "", &[])?;
        let list = sched::task_list(session)?;
        let mut sel = ps_selection(&o, &list)?;
        if o.has("S") {
            // States in the order they first appear in the task list, as crash counts them.
            let mut counts: Vec<(TaskState, usize)> = Vec::new();
            for t in &sel {
                match counts.iter_mut().find(|(s, _)| *s == t.state) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((t.state, 1)),
                }
            }
            for (s, n) in counts {
                writeln!(out, "  {}: {n}", s.code())?;
            }
            return Ok(());
        }
        if o.has("m") || o.has("l") {
            sel.sort_by_key(|t| std::cmp::Reverse(t.last_arrival));
            // crash sizes the stamp to the most recent one of all tasks.
            let width = list
                .tasks
                .iter()
                .map(|t| t.last_arrival)
                .max()
                .unwrap_or(0)
                .to_string()
                .len();
            for t in sel {
                let stamp = if o.has("l") {
                    format!("[{:>width$}]", t.last_arrival)
                } else {
                    format_dhms(since_last_run(&list, t))
                };
                writeln!(out, "{stamp} [{}]  {}", t.state.code(), task_header(t))?;
            }
            return Ok(());
        }
        if o.has("p") {
            for t in &sel {
                let chain = ancestors(&list, t);
                for (depth, c) in chain.iter().rev().enumerate() {
                    writeln!(out, "{:depth$}{}", "", task_header(c))?;
                }
                writeln!(out)?;
            }
            return Ok(());
        }
        if o.has("c") {
            for t in &sel {
                writeln!(out, "{}", task_header(t))?;
                let kids = children(&list, t);
                if kids.is_empty() {
                    writeln!(out, "  (no children)")?;
                }
                for c in kids {
                    writeln!(out, "  {}", task_header(c))?;
                }
                writeln!(out)?;
            }
            return Ok(());
        }
        if o.has("t") {
            let ns = |v: u64| {
                let s = v / 1_000_000_000;
                format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
            };
            for t in &sel {
                let tm = sched::task_times(session, t.addr)?;
                writeln!(out, "{}", task_header(t))?;
                writeln!(out, "    RUN TIME: {}", ns(run_time(&list, t, &tm)))?;
                writeln!(out, "  START TIME: {}", tm.start_time)?;
                writeln!(out, "       UTIME: {}", tm.utime)?;
                writeln!(out, "       STIME: {}", tm.stime)?;
                writeln!(out)?;
            }
            return Ok(());
        }
        if o.has("a") {
            let mut filtered = false;
            for t in &sel {
                writeln!(out, "{}", task_header(t))?;
                match crate::linux::mm::task_args(session, t) {
                    Ok((argv, env)) => {
                        writeln!(out, "ARG: {}", argv.join(" "))?;
                        for (j, e) in env.iter().enumerate() {
                            writeln!(out, "{}{e}", if j == 0 { "ENV: " } else { "     " })?;
                        }
                    }
                    Err(UserMemError::NoMm) => writeln!(out, "ps: no user stack")?,
                    Err(UserMemError::NotInDump(e)) => {
                        filtered = true;
                        writeln!(out, "ps: cannot read user memory: {e}")?;
                    }
                }
                writeln!(out)?;
            }
            if filtered {
                writeln!(
                    out,
                    "ps: some user pages are not in this dump (a filtered dump, e.g. \
                     makedumpfile -d 31, drops user memory)"
                )?;
            }
            return Ok(());
        }
        let mem = crate::linux::mm::task_memory(session, &list);
        writeln!(
            out,
            "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM"
        )?;
        for t in sel {
            let m = mem.get(&t.addr).copied().unwrap_or_default();
            writeln!(
                out,
                "{}{:>8}{:>8}{:>4}  {:016x}  {}{:>6.1}{:>9}{:>9}  {}",
                if t.active { '>' } else { ' ' },
                t.pid,
                t.ppid,
                t.cpu,
                t.addr,
                t.state.code(),
                m.pct,
                m.vsz_kb,
                m.rss_kb,
                comm_of(t)
            )?;
        }
        for w in &list.warnings {
            writeln!(out, "ps: WARNING: {w}")?;
        }
        Ok(())
    }
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        ps_data(session, args)
    }
}

/// A small regular-expression matcher for command-name filters: literals, `.`, `^`, `$`,
/// `*`, `+`, `?`, bracket classes (`[a-z]`, `[^0-9]`), `\` escapes and top-level `|`.
#[derive(Debug, Clone)]
pub struct Regex {
    alts: Vec<Vec<(Atom, Rep)>>,
    anchored: Vec<(bool, bool)>,
}

#[derive(Debug, Clone)]
enum Atom {
    Any,
    Lit(char),
    Class(bool, Vec<(char, char)>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rep {
    One,
    Star,
    Plus,
    Opt,
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Any => true,
            Atom::Lit(l) => *l == c,
            Atom::Class(neg, ranges) => ranges.iter().any(|&(a, b)| a <= c && c <= b) != *neg,
        }
    }
}

impl Regex {
    /// Compiles `pat`.
    pub fn new(pat: &str) -> Result<Self> {
        let bad = || Error::Usage(format!("invalid regular expression: {pat}"));
        let mut alts = Vec::new();
        let mut anchored = Vec::new();
        for alt in pat.split('|') {
            let mut s = alt;
            let start = s.starts_with('^');
            if start {
                s = &s[1..];
            }
            let end = s.ends_with('$') && !s.ends_with("\\$");
            if end {
                s = &s[..s.len() - 1];
            }
            let mut atoms: Vec<(Atom, Rep)> = Vec::new();
            let mut it = s.chars().peekable();
            while let Some(c) = it.next() {
                let atom = match c {
                    '.' => Atom::Any,
                    '\\' => Atom::Lit(it.next().ok_or_else(bad)?),
                    '[' => {
                        let neg = it.peek() == Some(&'^');
                        if neg {
                            it.next();
                        }
                        let mut ranges = Vec::new();
                        let mut first = true;
                        loop {
                            let a = it.next().ok_or_else(bad)?;
                            if a == ']' && !first {
                                break;
                            }
                            first = false;
                            if it.peek() == Some(&'-') {
                                it.next();
                                match it.next().ok_or_else(bad)? {
                                    ']' => {
                                        ranges.push((a, a));
                                        ranges.push(('-', '-'));
                                        break;
                                    }
                                    b => ranges.push((a, b)),
                                }
                            } else {
                                ranges.push((a, a));
                            }
                        }
                        Atom::Class(neg, ranges)
                    }
                    '*' | '+' | '?' => return Err(bad()),
                    '(' | ')' => return Err(bad()),
                    c => Atom::Lit(c),
                };
                let rep = match it.peek() {
                    Some('*') => Rep::Star,
                    Some('+') => Rep::Plus,
                    Some('?') => Rep::Opt,
                    _ => Rep::One,
                };
                if rep != Rep::One {
                    it.next();
                }
                atoms.push((atom, rep));
            }
            alts.push(atoms);
            anchored.push((start, end));
        }
        Ok(Self { alts, anchored })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        self.alts
            .iter()
            .zip(&self.anchored)
            .any(|(atoms, &(s, e))| {
                let starts: Vec<usize> = if s {
                    vec![0]
                } else {
                    (0..=chars.len()).collect()
                };
                starts.into_iter().any(|i| Self::m(atoms, &chars[i..], e))
            })
    }

    fn m(atoms: &[(Atom, Rep)], text: &[char], end: bool) -> bool {
        let Some(((atom, rep), rest)) = atoms.split_first() else {
            return !end || text.is_empty();
        };
        let (min, max) = match rep {
            Rep::One => (1, 1),
            Rep::Star => (0, usize::MAX),
            Rep::Plus => (1, usize::MAX),
            Rep::Opt => (0, 1),
        };
        let mut n = 0;
        while n < max && n < text.len() && atom.matches(text[n]) {
            n += 1;
        }
        if n < min {
            return false;
        }
        (min..=n).rev().any(|k| Self::m(rest, &text[k..], end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_subset() {
        let r = |p: &str, t: &str| Regex::new(p).map(|r| r.is_match(t)).unwrap_or(false);
        assert!(r("^kworker", "kworker/0:1"));
        assert!(!r("^worker", "kworker/0:1"));
        assert!(r("d+$", "add"));
        assert!(r("k.*r/[0-9]", "kworker/1"));
        assert!(!r("^[^k]", "kthreadd"));
        assert!(r("^dd$|^init$", "init"));
        assert!(!r("^dd$", "ddx"));
        assert!(r("sh?d", "sd"));
        assert!(Regex::new("*x").is_err());
    }

    #[test]
    fn filters_and_format() {
        assert!(matches!(TaskFilter::parse("169"), Ok(TaskFilter::Pid(169))));
        assert!(matches!(
            TaskFilter::parse("ffff8a6bc1256000"),
            Ok(TaskFilter::Addr(0xffff8a6bc1256000))
        ));
        assert!(matches!(TaskFilter::parse("UN"), Ok(TaskFilter::State(_))));
        assert!(matches!(TaskFilter::parse("dd"), Ok(TaskFilter::Comm(_))));
        assert!(matches!(TaskFilter::parse("^kw"), Ok(TaskFilter::Regex(_))));
        assert_eq!(format_dhms(12_770_000_000), "[0 00:00:12.770]");
        assert_eq!(format_dhms(90_061_001_000_000), "[1 01:01:01.001]");
    }
}
