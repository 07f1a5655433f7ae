//! Types and symbols that only modules define, on the live dump: a complete definition beats
//! the vmlinux's declaration, member by member as drgn reads them; `module:type` picks one
//! module's private type; the answers do not depend on what was asked (and loaded) first;
//! module globals and symbols reach the script API and the commands.

mod common;

use rkdump::session::Session;
use std::collections::BTreeMap;
use std::process::Command;

/// (name, bit offset, size or bit-field width) of each direct member, anonymous ones as "".
type Layout = Vec<(String, u64, Option<u64>)>;

/// The layout rkdump gives type `name` (through the session's lookup rules).
fn rkdump_layout(s: &Session, name: &str) -> (u64, Layout) {
    let st = s
        .lookup_type(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let t = st.types(s).expect("type index");
    let size = t.size_of(st.id).expect("size");
    let members = t
        .members(st.id)
        .expect("members")
        .into_iter()
        .map(|m| {
            let bits = m.offset * 8 + u64::from(m.bit_offset.unwrap_or(0));
            let size = match m.bit_size {
                Some(w) => Some(u64::from(w)),
                None => t.size_of(m.ty).ok(),
            };
            (m.name.unwrap_or_default(), bits, size)
        })
        .collect();
    (size, members)
}

/// The layouts drgn gives `types` on the live dump (module debuginfo found by drgn itself).
fn drgn_layouts(types: &[&str]) -> BTreeMap<String, (u64, Layout)> {
    let script = r#"
import json, sys
from drgn import sizeof
out = {}
for name in sys.argv[1].split(","):
    t = prog.type(name)
    ms = []
    for m in t.members:
        if m.bit_field_size is not None:
            size = m.bit_field_size
        else:
            try:
                size = sizeof(m.type)
            except Exception:
                size = None
        ms.append([m.name or "", m.bit_offset, size])
    out[name] = [t.size, ms]
print(json.dumps(out))
"#;
    let text = common::drgn_text("live.elf", script, &[&types.join(",")]);
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("drgn printed JSON");
    types
        .iter()
        .map(|&name| {
            let e = &v[name];
            let members = e[1]
                .as_array()
                .expect("members")
                .iter()
                .map(|m| {
                    (
                        m[0].as_str().expect("name").to_string(),
                        m[1].as_u64().expect("bit offset"),
                        m[2].as_u64(),
                    )
                })
                .collect();
            (name.to_string(), (e[0].as_u64().expect("size"), members))
        })
        .collect()
}

/// Module types the vmlinux only declares resolve to the modules' definitions, every
/// member's name, offset and size equal to drgn's on the same dump.
#[test]
fn module_defined_types_equal_drgn_member_by_member() {
    let types = [
        "struct mapped_device",
        "struct dm_table",
        "struct multipath",
        "struct svc_xprt",
        "struct hash_cell",
    ];
    let want = drgn_layouts(&types);
    let s = common::open("live.elf");
    for name in types {
        let got = rkdump_layout(&s, name);
        let (size, members) = &want[name];
        assert!(*size > 0, "{name}: drgn found no definition");
        assert_eq!(got.0, *size, "{name}: size");
        assert_eq!(&got.1, members, "{name}: members");
    }
}

/// Runs the rkdump binary on the live dump with the `-c` lines in order (a fresh session).
fn rkdump_lines(lines: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rkdump"));
    cmd.arg("-q")
        .arg(common::vmlinux())
        .arg(common::fixture("live.elf"));
    for l in lines {
        cmd.arg("-c").arg(l);
    }
    let o = cmd.output().expect("runs rkdump");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{lines:?}: {}\n{out}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// `module:type` reaches each path selector's private `struct path_info`, whose sizes differ
/// and equal drgn's reading of each module's own debug file.
#[test]
fn module_selector_picks_each_modules_private_type() {
    let s = common::open("live.elf");
    let mut sizes = BTreeMap::new();
    for module in ["dm_round_robin", "dm_service_time", "dm_queue_length"] {
        let name = format!("{module}:struct path_info");
        let (size, members) = rkdump_layout(&s, &name);
        let file = s
            .module_debuginfo(module)
            .unwrap_or_else(|| panic!("{module}: no debuginfo"))
            .path
            .clone();
        let file = file.to_str().expect("utf-8 path").to_string();
        let d = common::drgn_layouts(&[&file, "--types", "struct path_info"]);
        let t = &d["types"]["struct path_info"];
        assert_eq!(
            Some(size),
            t["size"].as_u64(),
            "{name}: size vs drgn on {file}"
        );
        let want: Vec<(String, u64)> = t["members"]
            .as_array()
            .expect("members")
            .iter()
            .filter(|m| !m["path"].as_str().unwrap_or("").contains('.'))
            .map(|m| {
                (
                    m["path"].as_str().expect("path").to_string(),
                    m["bit_offset"].as_u64().expect("bit offset"),
                )
            })
            .collect();
        let got: Vec<(String, u64)> = members.into_iter().map(|(n, o, _)| (n, o)).collect();
        assert_eq!(got, want, "{name}: members vs drgn on {file}");
        sizes.insert(module, size);
    }
    assert_ne!(
        sizes["dm_round_robin"], sizes["dm_service_time"],
        "the selectors' path_info differ: {sizes:?}"
    );
    // The command spells it MODULE:NAME as well.
    let out = common::run(&s, "struct dm_service_time:path_info");
    assert!(
        out.contains(&format!("SIZE: {}", sizes["dm_service_time"])),
        "{out}"
    );
}

/// The same answers whatever was asked (and so loaded) first: a fresh session asks A then B,
/// another B then A.
#[test]
fn answers_do_not_depend_on_what_was_loaded_first() {
    let a = [
        "struct mapped_device -o",
        "p sizeof(struct dm_table)",
        "print(sizeof(\"struct path_info\"))",
        "whatis struct svc_xprt",
    ];
    let b = [
        "mod -s dm_service_time",
        "struct dm_round_robin:path_info",
        "print(member_offset(\"struct multipath\", \"hw_handler_name\"))",
    ];
    let ab: Vec<&str> = a.iter().chain(b.iter()).copied().collect();
    let ba: Vec<&str> = b.iter().chain(a.iter()).copied().collect();
    let out_ab = rkdump_lines(&ab);
    let out_ba = rkdump_lines(&ba);
    // Split each run's output per command by running them one at a time in the same order
    // would hide the effect; compare the sorted multiset of lines, minus `mod -s`'s own line
    // and `p`'s history number.
    let norm = |t: &str| {
        let mut v: Vec<String> = t
            .lines()
            .filter(|l| !l.contains("dm_service_time ") && !l.contains("MODULE "))
            .map(|l| {
                l.trim_start_matches(|c: char| c == '$' || c.is_ascii_digit())
                    .to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(norm(&out_ab), norm(&out_ba));
    // The sizes drgn gives on the same dump (6.1: 1136 and 328).
    let want = drgn_layouts(&["struct mapped_device", "struct dm_table"]);
    let md = want["struct mapped_device"].0;
    let table = want["struct dm_table"].0;
    assert!(out_ab.contains(&format!("SIZE: {md}")), "{out_ab}");
    assert!(out_ab.contains(&format!("= {table}")), "{out_ab}");
}

/// Module globals and symbols in the script API and the commands, and `readSymbol` of a
/// linker alias (`jiffies`).
#[test]
fn module_symbols_reach_scripts_and_commands() {
    let script = r#"print(readSymbol("jiffies")); print(readSymbol("jiffies_64"));
let t = readSymbol("name_rb_tree"); print(type_name(t));
for h in rbtree_inorder(t, "struct hash_cell", "name_node") { print(`dm ${h.name} ${h.md.name} ${h.md.disk.disk_name}`); }
print(`fs ${sym2addr("nfs4_fs_type")} ${symbol_exists("nfs4_fs_type")}`);
print(type_exists("struct mapped_device"));"#;
    let out = rkdump_lines(&[script, "sym nfs4_fs_type", "p jiffies"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], lines[1], "jiffies is jiffies_64's value");
    assert_eq!(lines[2], "struct rb_root");
    let truth = common::truth("live");
    let mut want: Vec<String> = truth["dm"]["devices"]
        .as_array()
        .expect("dm devices")
        .iter()
        .map(|d| {
            format!(
                "dm {} {} {}",
                d["name"].as_str().expect("name"),
                d["dev"].as_str().expect("dev"),
                d["kname"].as_str().expect("kname")
            )
        })
        .collect();
    want.sort();
    let mut got: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("dm "))
        .map(|l| l.to_string())
        .collect();
    got.sort();
    assert_eq!(got, want);
    let fs = lines
        .iter()
        .find(|l| l.starts_with("fs "))
        .expect("fs line");
    // An address prints as a decimal INT or as 0x… hex: accept both.
    let word = fs.split_whitespace().nth(1).expect("addr");
    let addr = match word.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).expect("hex"),
        None => word.parse::<i64>().expect("int") as u64,
    };
    assert!(fs.ends_with("true"), "{fs}");
    let sym = lines
        .iter()
        .find(|l| l.ends_with("nfs4_fs_type [nfs]"))
        .unwrap_or_else(|| panic!("sym line in {out}"));
    assert_eq!(u64::from_str_radix(&sym[..16], 16).expect("hex"), addr);
    assert!(lines.contains(&"true"), "{out}");
    let p = lines
        .iter()
        .find(|l| l.starts_with("jiffies = "))
        .expect("p jiffies");
    assert!(
        p.ends_with(&format!(" {}", lines[0])),
        "{p} vs {}",
        lines[0]
    );
}

/// `cmd("struct …")` and `cmd("p …")` return maps: the layout of a module type (with the
/// module that defines it), and values.
#[test]
fn struct_and_p_give_structured_results() {
    let script = r#"let l = cmd("struct mapped_device");
print(`${l.type}|${l.size}|${l.module}|${l.members.len()}`);
let name = l.members.filter(|m| m.name == "name")[0]; print(name.offset);
print(cmd("p sizeof(struct dm_table)").value);
print(cmd("struct uts_namespace init_uts_ns").value.name.release);"#;
    let out = rkdump_lines(&[script]);
    let lines: Vec<&str> = out.lines().collect();
    let want = drgn_layouts(&["struct mapped_device", "struct dm_table"]);
    let (size, members) = &want["struct mapped_device"];
    assert_eq!(
        lines[0],
        format!("struct mapped_device|{size}|dm_mod|{}", members.len())
    );
    let name_bits = members
        .iter()
        .find(|m| m.0 == "name")
        .map(|m| m.1)
        .expect("name member");
    assert_eq!(lines[1], (name_bits / 8).to_string());
    assert_eq!(lines[2], want["struct dm_table"].0.to_string());
    assert_eq!(
        lines[3],
        common::truth("live")["release"].as_str().expect("release")
    );
}
