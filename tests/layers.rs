//! The layer rule of `src/lib.rs`: a module never imports one above it. Scans every source file
//! for `crate::NAME` paths outside comments and test modules.

use std::collections::HashMap;
use std::path::Path;

/// Each top-level module's layer, lowest first (the order in `src/lib.rs`'s doc comment).
const LAYERS: &[(&str, u32)] = &[
    ("addr", 0),
    ("interrupt", 0),
    ("memory", 1),
    ("dump", 2),
    ("debuginfo", 2),
    ("arch", 3),
    ("value", 4),
    ("kernel", 4),
    ("stack", 4),
    ("session", 5),
    ("linux", 6),
    ("commands", 7),
    ("script", 8),
    ("repl", 9),
    ("cli", 10),
    ("demo", 10),
];

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::NAME` references in code (not in `//` comments, not after `#[cfg(test)]`).
fn crate_refs(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let layer: HashMap<&str, u32> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    let mut seen_tops = std::collections::HashSet::new();
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .expect("file name");
        // The crate root, the binary and the error type (which wraps every layer's error).
        if ["lib", "main", "error"].contains(&top.as_str()) {
            continue;
        }
        let Some(&mine) = layer.get(top.as_str()) else {
            bad.push(format!(
                "{}: module {top} has no layer in LAYERS",
                rel.display()
            ));
            continue;
        };
        seen_tops.insert(top.clone());
        let text = std::fs::read_to_string(f).expect("read source");
        for name in crate_refs(&text) {
            if let Some(&theirs) = layer.get(name.as_str()) {
                if theirs > mine {
                    bad.push(format!(
                        "{}: {top} (layer {mine}) uses crate::{name} (layer {theirs})",
                        rel.display()
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "layer violations:\n{}", bad.join("\n"));
    // The scan saw the kernel layer and the layers around it (a renamed tree fails here).
    for top in ["session", "linux", "commands", "script"] {
        assert!(
            seen_tops.contains(top),
            "no files of {top} found under src/"
        );
    }
}

#[test]
fn the_scan_finds_references_outside_comments_only() {
    let refs = crate_refs("use crate::linux::fs; // crate::script\nlet x = crate::value::walk;\n#[cfg(test)]\nuse crate::repl;");
    assert_eq!(refs, vec!["linux".to_string(), "value".to_string()]);
}
