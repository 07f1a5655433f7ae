//! Shared helpers for the integration tests: the real-dump fixtures (built on demand by the
//! project's generator, never skipped) and their ground truth.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Runs the fixture generator once per test binary (it is a no-op when the cache is warm;
/// `flock` serializes concurrent test binaries) and returns its output directory.
pub fn fixture_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make-fixtures.sh");
        let root = std::env::var("RKDUMP_FIXTURES")
            .unwrap_or_else(|_| rkdump::demo::DEFAULT_FIXTURE_ROOT.to_string());
        std::fs::create_dir_all(&root).expect("cannot create the fixture root");
        // The tools the cross-checks drive (crash, tmux, drgn): installed once, like the
        // fixtures' own packages; a failure here fails the tests loudly.
        let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/install-test-tools.sh");
        let ok = Command::new("flock")
            .arg(Path::new(&root).join(".tools.lock"))
            .arg("bash")
            .arg(&tools)
            .status()
            .expect("cannot run install-test-tools.sh");
        assert!(ok.success(), "{} failed", tools.display());
        // make-fixtures.sh serializes concurrent runs on <root>/.lock itself (holding that
        // lock here too would deadlock it whenever it has to rebuild).
        let out = Command::new("bash")
            .arg(&script)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("cannot run the fixture generator");
        assert!(
            out.status.success(),
            "fixture generator {} failed: {}",
            script.display(),
            out.status
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let dir = stdout
            .lines()
            .last()
            .expect("fixture generator printed nothing")
            .trim()
            .to_string();
        PathBuf::from(dir)
    })
}

/// Path of a fixture file; panics (fails the test) when the generator did not make it.
pub fn fixture(name: &str) -> PathBuf {
    let p = fixture_dir().join(name);
    assert!(p.exists(), "fixture {} is missing", p.display());
    p
}

/// The vmlinux of the fixtures.
pub fn vmlinux() -> PathBuf {
    fixture("vmlinux")
}

/// Ground truth printed by the guest for `scenario` (`live`, `panic`).
pub fn truth(scenario: &str) -> serde_json::Value {
    let p = fixture(&format!("{scenario}.truth.json"));
    let text = std::fs::read_to_string(&p).expect("cannot read the ground truth");
    serde_json::from_str(&text).expect("ground truth is not JSON")
}

/// Dump files listed in the manifest: (file name, scenario, format).
pub fn manifest() -> Vec<(String, String, String)> {
    let p = fixture("manifest.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).expect("manifest"))
        .expect("manifest json");
    let list = v
        .get("dumps")
        .and_then(|d| d.as_array())
        .cloned()
        .or_else(|| v.as_array().cloned())
        .expect("manifest has no dump list");
    list.iter()
        .map(|d| {
            let s = |k: &str| d.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            (s("file"), s("scenario"), s("format"))
        })
        .collect()
}

/// The RAM of `scenario`'s VM in bytes, from the manifest (`"memory": {"live": "512M", …}`).
pub fn guest_memory_bytes(scenario: &str) -> u64 {
    let p = fixture("manifest.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).expect("manifest"))
        .expect("manifest json");
    let size = v["memory"][scenario]
        .as_str()
        .unwrap_or_else(|| panic!("manifest has no memory size for scenario {scenario}"));
    let mib: u64 = size
        .strip_suffix('M')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("manifest memory {size:?} is not NNNM"));
    mib << 20
}

/// The kernel line the suite runs on: `RKDUMP_KERNEL` (`6.1` or `6.12`), `6.1` when unset,
/// as `make-fixtures.sh` reads it.
pub fn kernel_line() -> String {
    std::env::var("RKDUMP_KERNEL").unwrap_or_else(|_| "6.1".to_string())
}

/// The manifest's entry for dump `file` (its producer, format, compression, dump level, …).
pub fn manifest_entry(file: &str) -> serde_json::Value {
    let p = fixture("manifest.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).expect("manifest"))
        .expect("manifest json");
    v["dumps"]
        .as_array()
        .expect("manifest has no dump list")
        .iter()
        .find(|d| d["file"] == file)
        .unwrap_or_else(|| panic!("{file} is not in the manifest"))
        .clone()
}

/// Whether dump `file` leaves pages of RAM out, by the manifest's header figures: a filtered
/// makedumpfile dump that stores fewer pages (`num_dumpable`) than its bitmap spans
/// (`max_mapnr`). The 6.12 line's `-d 1` kdump files leave none out (makedumpfile stores zero
/// pages as one shared page there; only its ELF output drops them), 6.1's `-d 31` many.
pub fn excludes_pages(file: &str) -> bool {
    let e = manifest_entry(file);
    let n = |k: &str| e[k].as_u64();
    e["filtered"].as_bool().unwrap_or(false)
        && matches!((n("num_dumpable"), n("max_mapnr")), (Some(d), Some(m)) if d < m)
}

/// The filtered makedumpfile dump (kdump format) of `scenario` compressed with `codec`
/// (`zlib`, `lzo`, `zstd`, `snappy`), whatever dump level this kernel line uses (6.1: `-d 31`,
/// 6.12: `-d 1`, see `tests/fixtures/README.md`): `common::mdf("live", "zlib")` → `live.mdf-zlib-d31` on 6.1.
pub fn mdf(scenario: &str, codec: &str) -> String {
    mdf_in(scenario, codec, "kdump")
}

/// Like [`mdf`], the flattened (`makedumpfile -F`) file.
pub fn mdf_flat(scenario: &str, codec: &str) -> String {
    mdf_in(scenario, codec, "kdump-flat")
}

fn mdf_in(scenario: &str, codec: &str, format: &str) -> String {
    let p = fixture("manifest.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).expect("manifest"))
        .expect("manifest json");
    let prefix = format!("{scenario}.mdf-{codec}-");
    v["dumps"]
        .as_array()
        .expect("manifest has no dump list")
        .iter()
        .filter(|d| d["scenario"] == scenario && d["format"] == format && d["filtered"] == true)
        .filter(|d| d["expected_compression"] == codec)
        .filter_map(|d| d["file"].as_str())
        .find(|f| f.starts_with(&prefix))
        .unwrap_or_else(|| {
            panic!("no filtered {format} {codec} dump of {scenario} in the manifest")
        })
        .to_string()
}

/// The Python of the drgn venv made by `tests/tools/install-drgn.sh`; fails the test loudly
/// when drgn is not installed.
pub fn drgn_python() -> PathBuf {
    // Installs the tools (and builds the fixtures) on first use.
    let _ = fixture_dir();
    let venv =
        std::env::var("RKDUMP_DRGN_VENV").unwrap_or_else(|_| "/var/cache/rkdump/venv".into());
    let py = Path::new(&venv).join("bin/python");
    assert!(
        Path::new(&venv).join("bin/drgn").exists(),
        "drgn is not installed in {venv}: run tests/tools/install-drgn.sh"
    );
    py
}

/// Runs `tests/tools/drgn_layouts.py ARGS` (drgn reading the same file) and parses its JSON.
pub fn drgn_layouts(args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/drgn_layouts.py");
    let out = Command::new(drgn_python())
        .arg(&script)
        .args(args)
        .output()
        .expect("runs drgn_layouts.py");
    assert!(
        out.status.success(),
        "drgn_layouts.py {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("drgn_layouts.py printed JSON")
}

/// Whether Debian 12's crash (8.0.2) reads this kernel line's dumps. It refuses the 6.12
/// line's ("vmlinux and dump do not match": it predates the kernel's layouts), so the
/// comparisons with crash run on 6.1; the tests' own and truth-based assertions run on both.
pub fn crash_reads_this_line() -> bool {
    kernel_line() == "6.1"
}

/// Runs Debian's `crash` once on `vmlinux` + `dump` with `cmds` and returns each command's
/// output (crash's start-up noise and empty lines dropped). Fails loudly when crash is missing
/// (`tests/tools/install-test-tools.sh` installs it).
pub fn crash_outputs(dump: &Path, cmds: &[&str]) -> Vec<String> {
    let _ = fixture_dir();
    const MARK: &str = "@@@RKDUMP-NEXT";
    let mut input = String::new();
    for c in cmds {
        input.push_str(c);
        input.push_str(&format!("\n!echo {MARK}\n"));
    }
    input.push_str("exit\n");
    // One input file per call: tests of one binary run crash concurrently.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let file = std::env::temp_dir().join(format!("rkdump-crash-{}-{call}.in", std::process::id()));
    std::fs::write(&file, input).expect("write crash input");
    let out = Command::new("crash")
        .arg("-s")
        .arg(vmlinux())
        .arg(dump)
        .arg("-i")
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("crash is not installed: run tests/tools/install-test-tools.sh");
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut parts: Vec<String> = text
        .split(&format!("{MARK}\n"))
        .map(|p| {
            p.lines()
                .filter(|l| !l.is_empty() && !l.starts_with("bt: "))
                .map(|l| format!("{l}\n"))
                .collect()
        })
        .collect();
    parts.truncate(cmds.len());
    assert_eq!(
        parts.len(),
        cmds.len(),
        "crash printed {} of {} outputs; stderr: {}",
        parts.len(),
        cmds.len(),
        String::from_utf8_lossy(&out.stderr)
    );
    parts
}

/// Opens fixture dump `name` with the fixtures' vmlinux; fails the test with the reason.
pub fn open(name: &str) -> rkdump::session::Session {
    rkdump::session::Session::open(&vmlinux(), &fixture(name))
        .unwrap_or_else(|e| panic!("cannot open {name}: {e}"))
}

/// Runs one built-in command line and returns its text; fails the test on an error.
pub fn run(s: &rkdump::session::Session, line: &str) -> String {
    let mut out = Vec::new();
    rkdump::commands::Registry::new()
        .run_line(s, line, &mut out)
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    String::from_utf8_lossy(&out).into_owned()
}

/// The `drgn` executable of the venv made by `tests/tools/install-drgn.sh` (installed on
/// first use with the other tools).
pub fn drgn_bin() -> PathBuf {
    drgn_python().with_file_name("drgn")
}

/// `rkdump -q VMLINUX FIXTURE -c CMD` that must fail: its stdout and stderr joined (the error
/// message a user sees); fails the test when it exits zero.
pub fn run_bin_failing(dump: &str, cmd: &str) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rkdump"))
        .arg("-q")
        .arg(vmlinux())
        .arg(fixture(dump))
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("runs rkdump");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "{cmd} succeeded:\n{all}");
    all
}

/// Output of the `rkdump` binary: `rkdump -q VMLINUX FIXTURE -c CMD`; fails the test when it
/// exits non-zero.
pub fn run_bin(dump: &str, cmd: &str) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rkdump"))
        .arg("-q")
        .arg(vmlinux())
        .arg(fixture(dump))
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("runs rkdump");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{cmd}: {}\n{out}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Runs the drgn script `tests/tools/SCRIPT` on `dump` with the fixtures' vmlinux and parses
/// the JSON it prints; fails loudly when drgn fails.
pub fn drgn_json(dump: &Path, script: &str) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tools")
        .join(script);
    let out = Command::new(drgn_bin())
        .args(["-q", "-c"])
        .arg(dump)
        .arg("-s")
        .arg(vmlinux())
        .arg("--no-default-symbols")
        .arg(&script)
        .output()
        .expect("cannot run drgn");
    assert!(
        out.status.success(),
        "drgn {} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("drgn printed JSON")
}

/// Runs the drgn script text `script` on the fixture `dump` with the fixtures' vmlinux and
/// `args` after it, and returns what it printed; fails loudly when drgn fails.
pub fn drgn_text(dump: &str, script: &str, args: &[&str]) -> String {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("rkdump-drgn-{}-{n}.py", std::process::id()));
    std::fs::write(&path, script).expect("write drgn script");
    let out = Command::new(drgn_bin())
        .args(["-q", "-c"])
        .arg(fixture(dump))
        .arg("-s")
        .arg(vmlinux())
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run drgn (tests/tools/install-drgn.sh): {e}"));
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "drgn failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
