//! Line tables of a small C program compiled with `gcc -g -O2` in the test (DWARF 4 and 5),
//! with an always-inline helper: every address of the function that inlines it is looked up
//! and compared with binutils `addr2line -i -f` on the same file. gcc and addr2line are
//! required: a missing tool fails the test loudly.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use super::LineTable;

const LINES_C: &str = r#"volatile int sink;

static inline __attribute__((always_inline)) int helper(int x)
{
	sink = x * 3;
	return sink + 1;
}

__attribute__((noinline)) int outer_fn(int a)
{
	int r = helper(a);
	return r * 2;
}

int main(int argc, char **argv)
{
	(void)argv;
	return outer_fn(argc) & 1;
}
"#;

/// Line of `sink = x * 3;` and of the call `helper(a)` in `LINES_C`.
const HELPER_LINE: u64 = 5;
const CALL_LINE: u64 = 11;

fn compile(version: u32) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rkdump-lines-{}-{version}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join("lines.c");
    std::fs::write(&src, LINES_C).expect("write source");
    let exe = dir.join("lines");
    let st = Command::new("gcc")
        .args(["-g", &format!("-gdwarf-{version}"), "-O2", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("gcc must be installed for the line-table tests");
    assert!(st.success(), "gcc failed");
    exe
}

/// `(address, size)` of a symbol, from `nm -S`.
fn symbol(exe: &Path, name: &str) -> (u64, u64) {
    let out = Command::new("nm").arg("-S").arg(exe).output().expect("nm");
    let text = String::from_utf8_lossy(&out.stdout);
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() == 4 && f[3] == name {
            let h = |s: &str| u64::from_str_radix(s, 16).expect("hex");
            return (h(f[0]), h(f[1]));
        }
    }
    panic!("{name} not in nm output")
}

/// `addr2line -i -f` levels for each address: `(function, basename, line)`.
fn addr2line(exe: &Path, addrs: &[u64]) -> Vec<Vec<(String, String, u64)>> {
    let mut cmd = Command::new("addr2line");
    cmd.args(["-i", "-f", "-a", "-e"]).arg(exe);
    for a in addrs {
        cmd.arg(format!("{a:#x}"));
    }
    let out = cmd
        .output()
        .expect("addr2line (binutils) must be installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut res: Vec<Vec<(String, String, u64)>> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if l.starts_with("0x") {
            res.push(Vec::new());
            continue;
        }
        let func = l.to_string();
        let loc = lines.next().unwrap_or("");
        let loc = loc.split(" (").next().unwrap_or("");
        let (file, line) = loc.rsplit_once(':').unwrap_or((loc, "0"));
        let base = file.rsplit('/').next().unwrap_or(file).to_string();
        if let Some(cur) = res.last_mut() {
            cur.push((func, base, line.parse().unwrap_or(0)));
        }
    }
    res
}

fn check(version: u32) {
    let exe = compile(version);
    let bytes = std::fs::read(&exe).expect("read exe");
    let table = LineTable::new(Arc::new(bytes)).expect("line table");
    let (start, size) = symbol(&exe, "outer_fn");
    let addrs: Vec<u64> = (start..start + size).collect();
    let want = addr2line(&exe, &addrs);
    assert_eq!(
        want.len(),
        addrs.len(),
        "addr2line answered for every address"
    );
    let mut inline_hits = 0;
    for (a, w) in addrs.iter().zip(&want) {
        let got: Vec<(String, String, u64)> = table
            .lookup(*a)
            .expect("lookup")
            .into_iter()
            .map(|f| {
                let loc = f.location.expect("a location");
                let base = loc.file.rsplit('/').next().unwrap_or("").to_string();
                (f.function.unwrap_or_default(), base, loc.line)
            })
            .collect();
        assert_eq!(&got, w, "DWARF {version}: levels at {a:#x}");
        if got.len() == 2 {
            assert_eq!(got[0].0, "helper");
            assert_eq!(got[1], ("outer_fn".into(), "lines.c".into(), CALL_LINE));
            inline_hits += usize::from(got[0].2 == HELPER_LINE);
        }
    }
    assert!(
        inline_hits > 0,
        "no address shows helper inlined at line {HELPER_LINE}"
    );
    // main's first instruction is on the line of its opening brace or first statement.
    let (main, _) = symbol(&exe, "main");
    let m = table.lookup(main).expect("lookup main");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].function.as_deref(), Some("main"));
    assert!(!m[0].inlined);
    assert!(m[0]
        .location
        .as_ref()
        .is_some_and(|l| l.file.ends_with("/lines.c")));
    // Outside any unit: nothing, no error.
    assert!(table.lookup(1).expect("lookup").is_empty());
    assert!(table.parsed_units() >= 1);
    let _ = std::fs::remove_dir_all(exe.parent().expect("dir"));
}

#[test]
fn dwarf4_lines_and_inlines_match_addr2line() {
    check(4);
}

#[test]
fn dwarf5_lines_and_inlines_match_addr2line() {
    check(5);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(LineTable::new(Arc::new(vec![0u8; 64])).is_err());
}
