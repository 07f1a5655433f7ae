//! Embeds the Rhai files of `stdlib/` and `scripts/` into the binary: writes
//! `$OUT_DIR/embedded.rs` with one `(path, source)` entry per `.rhai` file.

use std::fmt::Write as _;
use std::path::Path;

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(root, &p, out);
        } else if p.extension().is_some_and(|e| e == "rhai") {
            let rel = p
                .strip_prefix(root)
                .map(|r| r.with_extension("").to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.push((rel, p.to_string_lossy().into_owned()));
        }
    }
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    let mut code = String::new();
    for (name, folder) in [("STDLIB", "stdlib"), ("SCRIPTS", "scripts")] {
        let root = Path::new(&manifest).join(folder);
        println!("cargo:rerun-if-changed={}", root.display());
        let mut files = Vec::new();
        collect(&root, &root, &mut files);
        let _ = writeln!(
            code,
            "/// Embedded `{folder}/` files: (path without `.rhai`, source)."
        );
        let _ = writeln!(code, "pub static {name}: &[(&str, &str)] = &[");
        for (rel, path) in &files {
            println!("cargo:rerun-if-changed={path}");
            let _ = writeln!(code, "    ({rel:?}, include_str!({path:?})),");
        }
        let _ = writeln!(code, "];");
    }
    let _ = std::fs::write(Path::new(&out_dir).join("embedded.rs"), code);
}
