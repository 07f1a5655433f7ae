//! The device-mapper analyzer (`scripts/dmshow.rhai`) run by the `rkdump` binary on the real
//! `storage` and `live` dumps, asserted against the guest's truth: `dmsetup table` line for line,
//! `dmsetup info -c`, the multipath path states of `dmsetup status`, and the tasks the guest
//! left waiting on a suspended map and on a multipath map without a path.

mod common;

use serde_json::Value;

/// Output of `rkdump VMLINUX DUMP -c CMD`.
fn run(dump: &str, cmd: &str) -> String {
    common::run_bin(dump, cmd)
}

/// The JSON a `--json` run prints.
fn json(dump: &str, cmd: &str) -> Value {
    let out = run(dump, cmd);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{cmd}: not JSON ({e}):\n{out}"))
}

/// The raw lines of section `name` of a scenario's console truth (`NAME.truth.txt`), trailing
/// blanks kept: `dmsetup table` ends some lines with a space.
fn raw_section(scenario: &str, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(common::fixture(&format!("{scenario}.truth.txt")))
        .expect("reads the console truth");
    let mut out = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        let l = l.trim_end_matches('\r');
        if l == format!("@@@BEGIN {name}") {
            inside = true;
        } else if l == format!("@@@END {name}") {
            return out;
        } else if inside {
            out.push(l.to_string());
        }
    }
    panic!("no section {name} in the {scenario} truth");
}

/// The truth's dm devices by name.
fn dm_devices(truth: &Value) -> Vec<&Value> {
    truth["dm"]["devices"]
        .as_array()
        .expect("truth lists the dm devices")
        .iter()
        .collect()
}

/// PIDs of the truth's stuck-I/O tasks with `role` (reader, writer, queued), sorted.
fn stuck_pids(truth: &Value, roles: &[&str]) -> Vec<i64> {
    let mut v: Vec<i64> = truth["dm"]["stuck_io"]
        .as_array()
        .expect("truth lists the stuck I/O")
        .iter()
        .filter(|s| roles.contains(&s["role"].as_str().unwrap_or("")))
        .map(|s| s["pid"].as_i64().expect("a pid"))
        .collect();
    v.sort();
    v
}

/// The findings of a `dmshow --check --json` run with `code`.
fn findings<'a>(json: &'a Value, code: &str) -> Vec<&'a Value> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn sorted_pids(v: &Value) -> Vec<i64> {
    let mut p: Vec<i64> = v
        .as_array()
        .expect("a PID list")
        .iter()
        .map(|x| x.as_i64().expect("a pid"))
        .collect();
    p.sort();
    p
}

#[test]
fn table_equals_dmsetup_table_storage() {
    let want = raw_section("storage", "dm_table");
    assert!(
        want.len() >= 20,
        "the storage guest made its maps: {want:?}"
    );
    let got: Vec<String> = run("storage.elf", "dmshow --table")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(got, want, "dmshow --table vs dmsetup table");
    // every target type the guest staged is there
    for t in [
        " linear ",
        " striped ",
        " multipath ",
        " crypt ",
        " thin-pool ",
        " thin ",
        " snapshot ",
        " snapshot-origin ",
        " mirror ",
        " delay ",
        " zero ",
        " error ",
        " raid ",
        " cache ",
    ] {
        assert!(want.iter().any(|l| l.contains(t)), "no{t}map in the truth");
    }
}

#[test]
fn table_equals_dmsetup_table_live() {
    let want = raw_section("live", "dm_table");
    let got: Vec<String> = run("live.elf", "dmshow --table")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(got, want);
}

#[test]
fn map_list_matches_dmsetup_info() {
    let truth = common::truth("storage");
    let out = run("storage.elf", "dmshow");
    let devs = dm_devices(&truth);
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), devs.len(), "{out}");
    // sorted by minor
    let mut by_minor = devs.clone();
    by_minor.sort_by_key(|d| d["minor"].as_i64());
    for (row, d) in rows.iter().zip(by_minor) {
        let f: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(f[0], d["kname"].as_str().expect("kname"), "{row}");
        assert_eq!(f[1], d["name"].as_str().expect("name"), "{row}");
        assert_eq!(f[2], format!("{}:{}", d["major"], d["minor"]), "{row}");
        assert_eq!(f[4], d["open"].to_string(), "open count of {row}");
        let suspended = d["suspended"].as_bool().expect("suspended");
        assert_eq!(f[5].contains("SUSPENDED"), suspended, "{row}");
    }
}

#[test]
fn json_map_list_holds_the_uuids() {
    let truth = common::truth("storage");
    let json: Value = json("storage.elf", "dmshow --json");
    let list = json["devices"].as_array().expect("devices");
    for d in dm_devices(&truth) {
        let got = list
            .iter()
            .find(|x| x["name"] == d["name"])
            .unwrap_or_else(|| panic!("{} missing", d["name"]));
        assert_eq!(got["uuid"], d["uuid"]);
        assert_eq!(got["kname"], d["kname"]);
    }
}

#[test]
fn multipath_ll_shows_every_path_with_its_state() {
    let truth = common::truth("storage");
    let out = run("storage.elf", "dmshow -ll");
    let disks = truth["dm_storage"]["disks"].as_array().expect("disks");
    let paths = truth["dm_storage"]["paths"].as_array().expect("paths");
    assert!(paths.len() >= 3, "truth has the paths: {paths:?}");
    for p in paths {
        let dev = p["dev"].as_str().expect("dev");
        let disk = disks
            .iter()
            .find(|d| d["dev"] == dev)
            .unwrap_or_else(|| panic!("no disk {dev}"));
        let state = if p["state"] == "A" {
            "active"
        } else {
            "failed"
        };
        let want = format!(
            "{} {} {} {} running",
            disk["hctl"].as_str().expect("hctl"),
            disk["name"].as_str().expect("name"),
            dev,
            state
        );
        assert!(out.contains(&want), "{want} not in\n{out}");
    }
    for map in ["mpatha", "mpathb"] {
        let d = dm_devices(&truth)
            .into_iter()
            .find(|d| d["name"] == map)
            .expect("the map");
        let wwid = d["uuid"]
            .as_str()
            .expect("uuid")
            .trim_start_matches("mpath-");
        let head = format!("{map} ({wwid}) {}", d["kname"].as_str().expect("kname"));
        assert!(out.contains(&head), "{head} not in\n{out}");
    }
    assert!(out.contains("RKDUMP,MPATH-LUN"), "{out}");
    assert!(out.contains("features='1 queue_if_no_path'"), "{out}");
    assert!(out.contains("policy='round-robin 0'"), "{out}");
    assert!(out.contains("policy='service-time 0'"), "{out}");
}

#[test]
fn lvs_lists_every_lvm_volume() {
    let truth = common::truth("storage");
    let json: Value = json("storage.elf", "dmshow --lvs --json");
    let lvs = json["lvs"].as_array().expect("lvs");
    let lvm: Vec<&Value> = dm_devices(&truth)
        .into_iter()
        .filter(|d| d["uuid"].as_str().unwrap_or("").starts_with("LVM-"))
        .collect();
    assert!(lvm.len() >= 12, "truth has the LVM maps");
    assert_eq!(lvs.len(), lvm.len());
    for d in lvm {
        let uuid = d["uuid"].as_str().expect("uuid");
        let got = lvs
            .iter()
            .find(|l| l["name"] == d["name"])
            .unwrap_or_else(|| panic!("{} missing from --lvs", d["name"]));
        assert_eq!(got["vg"], "vg0");
        assert_eq!(got["vg_uuid"], &uuid[4..36]);
        assert_eq!(got["sectors"], d["sectors"]);
    }
    let text = run("storage.elf", "dmshow --lvs");
    for l in [
        "lv_data ",
        "lv_stripe ",
        "thin1 ",
        "pool ",
        "lv_snap ",
        "[pool_tmeta]",
    ] {
        assert!(text.contains(l), "{l} not in\n{text}");
    }
    // lv_data's two segments start at sector 2048 of its two disks; which sd names the disks got
    // depends on probe order, so take them from the truth's slaves of that map.
    let lv_data = dm_devices(&truth)
        .into_iter()
        .find(|d| d["name"] == "vg0-lv_data")
        .expect("truth has vg0-lv_data");
    let disks: Vec<&str> = lv_data["slaves"]
        .as_array()
        .expect("slaves of vg0-lv_data")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(disks.len(), 2, "vg0-lv_data spans two disks: {disks:?}");
    let (a, b) = (disks[0], disks[1]);
    assert!(
        text.contains(&format!("{a}(2048),{b}(2048)"))
            || text.contains(&format!("{b}(2048),{a}(2048)")),
        "lv_data's devices {a}(2048) and {b}(2048) not in\n{text}"
    );
}

#[test]
fn pvs_lists_the_disks_under_lvm() {
    let truth = common::truth("storage");
    let disks = truth["dm_storage"]["disks"].as_array().expect("disks");
    let name_of = |model: &str| {
        disks
            .iter()
            .find(|d| d["model"] == model)
            .and_then(|d| d["name"].as_str())
            .expect("disk by model")
            .to_string()
    };
    let json: Value = json("storage.elf", "dmshow --pvs --json");
    let mut pvs: Vec<String> = json["pvs"]
        .as_array()
        .expect("pvs")
        .iter()
        .map(|p| p["pv"].as_str().expect("pv").to_string())
        .collect();
    pvs.sort();
    let mut want = vec![name_of("PV-A"), name_of("PV-B")];
    want.sort();
    assert_eq!(pvs, want);
}

#[test]
fn check_flags_failed_paths_and_suspended_maps_with_their_waiters() {
    let truth = common::truth("storage");
    let json: Value = json("storage.elf", "dmshow --check --json");
    // every failed path of the truth, and no other
    let failed: Vec<&str> = truth["dm_storage"]["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .filter(|p| p["state"] == "F")
        .map(|p| p["dev"].as_str().expect("dev"))
        .collect();
    assert!(!failed.is_empty());
    let mut got: Vec<&str> = findings(&json, "mpath_path_failed")
        .iter()
        .map(|f| f["objects"]["dev"].as_str().expect("dev"))
        .collect();
    got.sort();
    let mut want = failed.clone();
    want.sort();
    assert_eq!(got, want);
    // the suspended map with the two dd processes the guest left on it
    let hold = findings(&json, "dm_suspended_io");
    assert_eq!(hold.len(), 1, "{json}");
    assert_eq!(hold[0]["objects"]["map"], "vg0-lv_hold");
    assert_eq!(
        sorted_pids(&hold[0]["objects"]["pids"]),
        stuck_pids(&truth, &["reader", "writer"])
    );
    // mpathb: its only path failed, queue_if_no_path, one dd waiting
    let down = findings(&json, "mpath_all_paths_down_queueing");
    assert_eq!(down.len(), 1, "{json}");
    assert_eq!(down[0]["objects"]["map"], "mpathb");
    assert_eq!(
        sorted_pids(&down[0]["objects"]["pids"]),
        stuck_pids(&truth, &["queued"])
    );
    // no multipathd runs in the guest
    assert_eq!(findings(&json, "mpath_no_multipathd").len(), 1);
    // the text report says the same, with a closing summary
    let text = run("storage.elf", "dmshow --check");
    assert!(text.contains("+++WARNING+++ vg0-lv_hold"), "{text}");
    assert!(text.contains("Summary of problems found"), "{text}");
    for pid in stuck_pids(&truth, &["reader", "writer", "queued"]) {
        assert!(text.contains(&pid.to_string()), "pid {pid} not in\n{text}");
    }
}

#[test]
fn check_on_live_names_the_stuck_map_and_its_waiters() {
    let truth = common::truth("live");
    let json: Value = json("live.elf", "dmshow --check --json");
    let susp: Vec<&Value> = findings(&json, "dm_suspended_io");
    // rkd-stuck (two dd) and rkd-fs (suspended under ext4)
    let stuck = susp
        .iter()
        .find(|f| f["objects"]["map"] == "rkd-stuck")
        .unwrap_or_else(|| panic!("rkd-stuck not flagged: {json}"));
    assert_eq!(
        sorted_pids(&stuck["objects"]["pids"]),
        stuck_pids(&truth, &["reader", "writer"])
    );
    // rkd-fs: the tasks in I/O under the ext4 on it (the direct writer, the one waiting on a
    // buffer, the one on a page, sync), told as hanginfo tells them (block::io_wait); the
    // journal thread may be waiting on a buffer of it too.
    let fs = susp
        .iter()
        .find(|f| f["objects"]["map"] == "rkd-fs")
        .unwrap_or_else(|| panic!("rkd-fs not flagged: {json}"));
    let got = sorted_pids(&fs["objects"]["pids"]);
    let hang = &truth["fs_hang"];
    let want: Vec<i64> = hang["tasks"]
        .as_array()
        .expect("fs_hang tasks")
        .iter()
        .filter(|t| {
            ["holder", "fpos_holder", "cold_reader", "sync"]
                .contains(&t["role"].as_str().unwrap_or(""))
        })
        .map(|t| t["pid"].as_i64().expect("pid"))
        .collect();
    assert_eq!(want.len(), 4, "the truth has the four I/O waiters: {hang}");
    for p in &want {
        assert!(
            got.contains(p),
            "pid {p} not among rkd-fs's waiters {got:?}"
        );
    }
    let comms = fs["objects"]["comms"].as_array().expect("comms");
    let pids = fs["objects"]["pids"].as_array().expect("pids");
    for (p, c) in pids.iter().zip(comms) {
        let p = p.as_i64().expect("pid");
        let c = c.as_str().unwrap_or("");
        assert!(
            want.contains(&p) || c.starts_with("jbd2/"),
            "pid {p} ({c}) is not an I/O waiter of rkd-fs"
        );
    }
}

#[test]
fn help_and_bad_options() {
    let out = run("storage.elf", "dmshow -h");
    assert!(out.contains("--table") && out.contains("-ll") && out.contains("--check"));
    let all = common::run_bin_failing("storage.elf", "dmshow --bogus");
    assert!(all.contains("unknown option --bogus"), "{all}");
}
