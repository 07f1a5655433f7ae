//! The `rkdump` binary on real dumps: `-c` commands print crash-shaped output with the
//! guest's values, files are accepted in either order, and bad input (missing, truncated,
//! corrupt, mismatched) is a one-line error with exit status 2, never a panic.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn rkdump(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rkdump"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs rkdump")
}

fn run(vmlinux: &Path, dump: &Path, cmds: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![vmlinux.as_os_str(), dump.as_os_str()];
    for c in cmds {
        args.push("-c".as_ref());
        args.push(c.as_ref());
    }
    rkdump(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failed open: exit status 2, exactly one line on stderr naming `needle`, no panic.
fn assert_clean_failure(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn sys_prints_crash_layout_with_ground_truth() {
    let t = common::truth("live");
    let o = run(
        &common::vmlinux(),
        &common::fixture(&common::mdf("live", "zlib")),
        &["sys"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let field = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k:>12}: ")))
            .unwrap_or_else(|| panic!("no {k} line in\n{out}"))
            .to_string()
    };
    assert_eq!(field("NODENAME"), t["nodename"].as_str().unwrap());
    assert_eq!(field("RELEASE"), t["release"].as_str().unwrap());
    assert_eq!(field("CPUS"), t["ncpus"].to_string());
    assert_eq!(field("PANIC"), "\"\"");
    let mdf = common::mdf("live", "zlib");
    let partial = if common::excludes_pages(&mdf) {
        "  [PARTIAL DUMP]"
    } else {
        ""
    };
    assert!(field("DUMPFILE").ends_with(&format!("{mdf}{partial}")));
    assert!(field("MACHINE").starts_with("x86_64  ("));
    // The 13 rows crash prints, in crash's order.
    let labels: Vec<&str> = out
        .lines()
        .map(|l| l.split(':').next().unwrap_or("").trim())
        .collect();
    assert_eq!(
        labels,
        [
            "KERNEL",
            "DUMPFILE",
            "CPUS",
            "DATE",
            "UPTIME",
            "LOAD AVERAGE",
            "TASKS",
            "NODENAME",
            "RELEASE",
            "VERSION",
            "MACHINE",
            "MEMORY",
            "PANIC"
        ]
    );
}

#[test]
fn files_in_either_order() {
    let o = run(&common::fixture("live.elf"), &common::vmlinux(), &["sys"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("NODENAME: rkdump-guest"));
}

#[test]
fn sym_and_rd_agree_with_kallsyms_and_proc_version() {
    let t = common::truth("live");
    let banner_addr = t["kallsyms"]["linux_banner"].as_str().unwrap();
    let o = run(
        &common::vmlinux(),
        &common::fixture("live.kdump-raw-zlib"),
        &[
            "sym linux_banner",
            "rd -a linux_banner",
            "sym init_task+0x10",
            "rd -s init_task 2",
            "rd -32 -x jiffies 4",
            "rd -p 0 2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // The banner ends with a newline, which `rd -a` prints as it is.
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], format!("{banner_addr} (D) linux_banner"));
    assert_eq!(
        lines[1],
        format!("{banner_addr}:  {}", t["version"].as_str().unwrap())
    );
    let init_task = u64::from_str_radix(t["kallsyms"]["init_task"].as_str().unwrap(), 16).unwrap();
    assert_eq!(
        lines[2],
        format!("{:016x} (D) init_task+16", init_task + 16)
    );
    assert!(
        lines[3].starts_with(&format!("{init_task:016x}:  ")),
        "{}",
        lines[3]
    );
    // rd -32 -x: four 32-bit words on one line, no ASCII column.
    assert_eq!(lines[4].split_whitespace().count(), 5, "{}", lines[4]);
    assert!(lines[5].starts_with("0000000000000000:  "));
}

#[test]
fn command_errors_do_not_end_the_run() {
    let o = run(
        &common::vmlinux(),
        &common::fixture("live.elf"),
        &[
            "rd 0xdead000000000000",
            "sym no_such_symbol_here",
            "frobnicate",
            "sym jiffies",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("rd: read error: KVADDR dead000000000000"),
        "{err}"
    );
    assert!(err.contains("no_such_symbol_here"), "{err}");
    assert!(err.contains("frobnicate: command not found"), "{err}");
    assert!(stdout(&o).contains(" jiffies"), "later commands still run");
}

#[test]
fn excluded_page_read_names_the_page() {
    // Find a page present in the ELF dump but filtered out of the makedumpfile dump.
    use rkdump::dump;
    use rkdump::memory::MemoryError;
    let mdf = common::mdf("live", "zlib");
    if !common::excludes_pages(&mdf) {
        // The 6.12 line has no dump that leaves pages out (`common::excludes_pages`): what
        // holds there is that no page reads as excluded (`filtered_pages_are_excluded_not_zero`
        // compares every sampled page with the ELF dump).
        eprintln!("{mdf} keeps every page: no excluded page to read on this kernel line");
        let all = dump::open(&common::fixture(&mdf)).unwrap();
        let mut b = [0u8; 8];
        assert!(
            (0x1000u64..0x1f000).all(|p| all.read_phys(rkdump::addr::Pa(p << 12), &mut b).is_ok())
        );
        return;
    }
    let mdf_dump = dump::open(&common::fixture(&mdf)).unwrap();
    let mut b = [0u8; 8];
    let pfn = (0x1000u64..0x1f000)
        .find(|p| {
            matches!(
                mdf_dump.read_phys(rkdump::addr::Pa(p << 12), &mut b),
                Err(MemoryError::PageExcluded { .. })
            )
        })
        .expect("an excluded page");
    let addr = format!("{:x}", pfn << 12);
    let o = run(
        &common::vmlinux(),
        &common::fixture(&mdf),
        &[&format!("rd -p {addr}")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("page frame {pfn:#x} was excluded from the dump")),
        "{}",
        stderr(&o)
    );
    let o = run(
        &common::vmlinux(),
        &common::fixture("live.elf"),
        &[&format!("rd -p {addr}")],
    );
    assert!(
        o.status.success(),
        "the ELF dump has the page: {}",
        stderr(&o)
    );
}

#[test]
fn missing_files_fail_cleanly() {
    let o = rkdump(&[
        common::vmlinux().as_os_str(),
        "/nonexistent/vmcore".as_ref(),
    ]);
    assert_clean_failure(&o, "/nonexistent/vmcore");
    let o = rkdump(&["only-one-file".as_ref()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn truncated_and_corrupt_dumps_fail_cleanly() {
    let dir = tempdir();
    // Cut before the page data: the headers themselves are incomplete.
    for (src, keep) in [
        (common::mdf_flat("live", "zlib"), 8 << 10),
        ("live.kdump-raw-zlib".to_string(), 4096 + 100),
    ] {
        let bytes = std::fs::read(common::fixture(&src)).unwrap();
        let cut = dir.join(format!("{src}.cut"));
        std::fs::write(&cut, &bytes[..keep]).unwrap();
        let o = run(&common::vmlinux(), &cut, &["sys"]);
        assert_clean_failure(&o, &cut.display().to_string());
    }
    // Garbage after a valid magic.
    let bad = dir.join("garbage.kdump");
    let mut g = b"KDUMP   ".to_vec();
    g.extend((0..8192u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    std::fs::write(&bad, &g).unwrap();
    assert_clean_failure(&run(&common::vmlinux(), &bad, &["sys"]), "garbage.kdump");
    // Not a dump at all.
    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    assert_clean_failure(&run(&common::vmlinux(), &text, &["sys"]), "notes.txt");
}

/// The number in `text` right before `word` (`"14504 of"` -> 14504).
fn number_before(text: &str, word: &str) -> u64 {
    let at = text
        .find(word)
        .unwrap_or_else(|| panic!("{word:?} not in {text}"));
    let digits: String = text[..at]
        .trim_end()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .chars()
        .rev()
        .collect::<String>()
        .parse()
        .expect("a number")
}

/// A dump cut short opens: one warning line says where the file ends and how many pages are
/// missing, RELEASE comes from VMCOREINFO when init_uts_ns's page is gone, and commands go on.
#[test]
fn truncated_dumps_open_and_say_what_is_missing() {
    let t = common::truth("live");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::fixture("manifest.json")).unwrap())
            .unwrap();
    let entry = |file: &str| {
        manifest["dumps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["file"] == file)
            .unwrap_or_else(|| panic!("{file} not in the manifest"))
            .clone()
    };
    let dir = tempdir();
    for (src, keep) in [
        (common::mdf("live", "zlib"), 3_000_000usize),
        (common::mdf("live", "zlib"), 64 << 10),
        ("live.elf".to_string(), 100_000_000),
        ("live.elf".to_string(), 1 << 20),
    ] {
        let src = src.as_str();
        let bytes = std::fs::read(common::fixture(src)).unwrap();
        let full = bytes.len();
        let cut = dir.join(format!("{src}.{keep}"));
        std::fs::write(&cut, &bytes[..keep]).unwrap();
        drop(bytes);
        let o = run(&common::vmlinux(), &cut, &["sys"]);
        let (err, out) = (stderr(&o), stdout(&o));
        assert_eq!(o.status.code(), Some(0), "{src} cut at {keep}: {err}");
        assert_eq!(err.lines().count(), 1, "one warning line: {err}");
        assert!(
            err.starts_with("rkdump: warning: ")
                && err.contains(&cut.display().to_string())
                && err.contains(&format!("ends early at offset {keep:#x} ({keep} bytes")),
            "{err}"
        );
        if src.ends_with(".elf") {
            // Every byte past the cut is page data: that many pages, give or take one per
            // segment (a segment's pages need not be aligned in the file).
            let described = number_before(&err, "): ");
            assert!(
                described <= full as u64 && full as u64 - described < 4096,
                "{err}"
            );
            let missing = number_before(&err, "pages lie past it");
            let expect = (described - keep as u64) / 4096;
            assert!(
                missing.abs_diff(expect) <= 16,
                "{missing} vs {expect}: {err}"
            );
        } else {
            let stored = entry(src)["num_dumpable"].as_u64().expect("num_dumpable");
            assert_eq!(number_before(&err, "stored pages"), stored, "{err}");
            let missing = number_before(&err, "of ");
            assert!(missing > 0 && missing < stored, "{err}");
        }
        assert!(out.contains("[PARTIAL DUMP]"), "{out}");
        let release = t["release"].as_str().unwrap();
        assert!(
            out.lines()
                .any(|l| l.trim() == format!("RELEASE: {release}")),
            "{out}"
        );
    }
}

/// On a dump cut in the middle, `foreach bt` reports each task whose stack is missing and goes
/// on: every task `ps` lists gets its header, whatever came before it.
#[test]
fn foreach_bt_goes_on_past_a_task_it_cannot_read() {
    let dir = tempdir();
    let bytes = std::fs::read(common::fixture("live.elf")).unwrap();
    let pids = |text: &str, prefix: &str| -> Vec<u64> {
        let mut v: Vec<u64> = text
            .lines()
            .filter_map(|l| l.trim_start_matches('>').trim_start().strip_prefix(prefix))
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        v.sort();
        v
    };
    // (failed, listed) of `foreach bt` on `cut`, with what must hold on any cut: every task
    // `ps` lists gets its header, and a task that cannot be read says its stack is past the end.
    let check = |cut: &std::path::Path| -> (usize, usize) {
        let ps = stdout(&run(&common::vmlinux(), cut, &["ps"]));
        let listed = pids(&ps, "");
        let o = run(&common::vmlinux(), cut, &["foreach bt"]);
        let bt = stdout(&o);
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        let failed: Vec<&str> = bt.lines().filter(|l| l.starts_with("bt: PID ")).collect();
        assert!(
            failed.iter().all(|l| l.contains("past its end")),
            "{failed:?}"
        );
        assert_eq!(pids(&bt, "PID:"), listed, "{bt}");
        (failed.len(), listed.len())
    };
    let wanted = |(failed, listed): (usize, usize)| failed > 0 && listed > failed + 10;
    // Cut at 3/5 of the file. Where the kernel image, the task structs and the stacks lie in
    // RAM differs by kernel and boot (KASLR moves the image, 6.12 allocates from the top), so
    // when that cut keeps no listed task's stack out, cuts from 39/40 down (the same file
    // shortened in place) until one keeps the task list but leaves some stacks past the end.
    let cut = dir.join("live.elf.cut");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 5]).unwrap();
    let mut tried = vec![(24, check(&cut))];
    if wanted(tried[0].1) {
        return;
    }
    std::fs::write(&cut, &bytes).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&cut).unwrap();
    for fortieths in (1..40usize).rev().filter(|&f| f != 24) {
        file.set_len((bytes.len() * fortieths / 40) as u64).unwrap();
        let got = check(&cut);
        if wanted(got) {
            return;
        }
        tried.push((fortieths, got));
    }
    panic!("no cut leaves some stacks past the end: (fortieths, (failed, listed)) {tried:?}");
}

#[test]
fn mismatched_vmlinux_is_named() {
    // A copy of the vmlinux whose build-id differs by one byte: the dump's VMCOREINFO BUILD-ID
    // no longer matches.
    let dir = tempdir();
    let copy = dir.join("vmlinux-other");
    let mut bytes = std::fs::read(common::vmlinux()).unwrap();
    let v = rkdump::debuginfo::Vmlinux::open(&common::vmlinux()).unwrap();
    let id = v.build_id().unwrap().to_vec();
    let at = bytes
        .windows(id.len())
        .position(|w| w == id.as_slice())
        .expect("build-id bytes");
    bytes[at] ^= 0xff;
    std::fs::write(&copy, &bytes).unwrap();
    drop(bytes);
    let o = run(&copy, &common::fixture("live.elf"), &["sys"]);
    assert_clean_failure(&o, "do not match");
    assert!(stderr(&o).contains("vmlinux-other") && stderr(&o).contains("live.elf"));
    // A dump given twice, and a kernel given twice.
    let o = run(
        &common::fixture("live.elf"),
        &common::fixture("panic.elf"),
        &["sys"],
    );
    assert_clean_failure(&o, "both dumps");
}

/// A scratch directory under the system temp dir, removed when dropped (also when the test
/// fails: the copies of dumps made here are hundreds of MB).
struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> TempDir {
    let d = std::env::temp_dir().join(format!(
        "rkdump-cli-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(1);
    h.finish()
}

#[test]
fn log_equals_the_guests_dmesg() {
    // Every line the guest's dmesg printed, in order, at the start of `log` (the kernel
    // logged a few more lines between the guest's dmesg and the dump). busybox dmesg prints
    // continuation lines of a record with their own timestamp; rkdump, like crash, indents them.
    for (scenario, dump) in [
        ("live", common::mdf("live", "zlib")),
        ("panic", "panic.elf".into()),
    ] {
        let t = common::truth(scenario);
        let want: Vec<&str> = t["dmesg"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert!(want.len() > 300, "{scenario}: {} dmesg lines", want.len());
        let o = run(&common::vmlinux(), &common::fixture(&dump), &["log"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let got: Vec<&str> = out.lines().collect();
        assert!(
            got.len() >= want.len(),
            "{dump}: {} < {}",
            got.len(),
            want.len()
        );
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let text = |l: &str| {
                l.split_once("] ")
                    .map(|x| x.1.to_string())
                    .unwrap_or_else(|| l.trim().to_string())
            };
            if g.starts_with('[') {
                assert_eq!(g, w, "{dump}: log line {}", i + 1);
            } else {
                assert_eq!(
                    g.trim(),
                    text(w).trim(),
                    "{dump}: continuation line {}",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn sym_resolves_module_addresses() {
    // The test module's locks are module data: `sym ADDR` names them with their module.
    let t = common::truth("live");
    let locks = t["locks"]["locks"].as_array().expect("locks");
    assert!(locks.len() >= 5);
    let cmds: Vec<String> = locks
        .iter()
        .map(|l| format!("sym {}", l["addr"].as_str().unwrap()))
        .collect();
    let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
    let o = run(&common::vmlinux(), &common::fixture("live.elf"), &refs);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for (l, line) in locks.iter().zip(out.lines()) {
        let want = format!("{} (", l["addr"].as_str().unwrap().trim_start_matches("0x"));
        assert!(line.starts_with(&want), "{line}");
        assert!(
            line.ends_with(&format!(") {} [rkd_locks]", l["name"].as_str().unwrap())),
            "{line}"
        );
    }
}

/// `rkdump ... -c 'ps' | head -1`: the reader closing the pipe ends the run quietly, with
/// success, instead of an error per remaining command.
#[test]
fn closed_output_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rkdump"))
        .arg("-q")
        .arg(common::vmlinux())
        .arg(common::fixture("live.elf"))
        .args([
            "-c", "ps", "-c", "log", "-c", "log", "-c", "log", "-c", "log",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs rkdump");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("reads a line");
    assert!(first.contains("PID"), "first line of ps: {first}");
    // The reader is dropped here; four logs (over 100 KiB) overflow the 64 KiB pipe buffer, so
    // rkdump is still writing when the pipe closes.
    let o = child.wait_with_output().expect("rkdump ends");
    assert!(o.status.success(), "exit status {:?}", o.status);
    assert_eq!(stderr(&o), "", "nothing on stderr");
}

#[test]
fn json_prints_structured_results() {
    // --json: each command with a structured result prints one line of JSON; a command
    // without one (`rd`) prints its text.
    let vmlinux = common::vmlinux();
    let dump = common::fixture("live.elf");
    let mut args: Vec<&std::ffi::OsStr> = vec![vmlinux.as_os_str(), dump.as_os_str()];
    args.push("--json".as_ref());
    for c in ["ps", "bt -a", "log", "rd -a linux_banner"] {
        args.push("-c".as_ref());
        args.push(c.as_ref());
    }
    let o = rkdump(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 4, "{out}");
    let ps: serde_json::Value = serde_json::from_str(lines[0]).expect("ps JSON");
    let truth = common::truth("live");
    let user_pids = truth["processes"].as_array().expect("processes").len();
    // Every process of the truth plus one idle task per CPU.
    assert_eq!(
        ps.as_array().map(Vec::len),
        Some(user_pids + truth["ncpus"].as_u64().expect("ncpus") as usize)
    );
    assert!(
        ps[0]["task"].as_u64().is_some(),
        "addresses are unsigned: {}",
        ps[0]
    );
    let bt: serde_json::Value = serde_json::from_str(lines[1]).expect("bt JSON");
    assert!(bt[0]["frames"].as_array().is_some_and(|f| !f.is_empty()));
    let log: serde_json::Value = serde_json::from_str(lines[2]).expect("log JSON");
    assert!(log.as_array().is_some_and(|l| l.len() > 300));
    assert!(lines[3].contains("Linux version"), "{}", lines[3]);
}

/// `rkdump --json -c hanginfo` gives the analyzer its `--json` option: the same findings as
/// `-c 'hanginfo --json'`, as JSON.
#[test]
fn json_flag_reaches_the_analyzers() {
    let vmlinux = common::vmlinux();
    let dump = common::fixture("live.elf");
    use std::ffi::OsStr;
    let base = [OsStr::new("-q"), vmlinux.as_os_str(), dump.as_os_str()];
    let mut flag = base.to_vec();
    flag.extend(["--json", "-c", "hanginfo"].map(OsStr::new));
    let mut option = base.to_vec();
    option.extend(["-c", "hanginfo --json"].map(OsStr::new));
    let (a, b) = (rkdump(&flag), rkdump(&option));
    assert!(a.status.success() && b.status.success(), "{}", stderr(&a));
    let a: serde_json::Value = serde_json::from_str(&stdout(&a)).expect("--json gives JSON");
    let b: serde_json::Value = serde_json::from_str(&stdout(&b)).expect("hanginfo --json");
    assert!(
        a["findings"].as_array().is_some_and(|f| !f.is_empty()),
        "{a}"
    );
    assert_eq!(a["findings"], b["findings"]);
}
