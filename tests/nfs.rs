//! nfsshow (`scripts/nfsshow.rhai`) and hanginfo's NFS/RPC section on the real `nfs` dump (an
//! NFSv4.2 mount of the guest's own nfsd whose threads were stopped), asserted against the
//! guest's truth: /proc/mounts, /proc/fs/nfsd, the RPC tasks debugfs listed, and the staged
//! tasks' stacks.

mod common;

use serde_json::Value;

const DUMP: &str = "nfs.elf";

fn json(cmd: &str) -> Value {
    let out = common::run_bin(DUMP, cmd);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{cmd}: not JSON ({e}):\n{out}"))
}

/// The truth's `nfs` object.
fn truth() -> Value {
    let t = common::truth("nfs");
    assert!(
        t["failures"].as_array().is_some_and(|f| f.is_empty()),
        "the nfs scenario failed: {}",
        t["failures"]
    );
    t["nfs"].clone()
}

/// The staged task of `role` (open, create, ls, dd, manager).
fn staged(t: &Value, role: &str) -> Value {
    t["tasks"]
        .as_array()
        .expect("truth lists the staged tasks")
        .iter()
        .find(|x| x["role"] == role)
        .unwrap_or_else(|| panic!("no {role} task in the truth"))
        .clone()
}

fn waiter(j: &Value, pid: i64) -> Value {
    j["waiters"]
        .as_array()
        .expect("waiters")
        .iter()
        .find(|w| w["pid"].as_i64() == Some(pid))
        .unwrap_or_else(|| panic!("pid {pid} is not among the NFS waiters: {}", j["waiters"]))
        .clone()
}

fn procs(w: &Value) -> Vec<String> {
    w["rpcs"]
        .as_array()
        .expect("rpcs")
        .iter()
        .map(|r| {
            r["proc"]
                .as_str()
                .or_else(|| r.as_str())
                .expect("a procedure")
                .to_string()
        })
        .collect()
}

#[test]
fn nfsshow_mount_and_options_equal_proc_mounts() {
    let t = truth();
    let j = json("nfsshow --json");
    let want = &t["mounts"][0];
    let mounts = j["mounts"].as_array().expect("mounts");
    assert_eq!(mounts.len(), t["mounts"].as_array().expect("mounts").len());
    let m = &mounts[0];
    assert_eq!(m["device"], want["device"]);
    assert_eq!(m["dir"], want["dir"]);
    assert_eq!(m["type"], want["type"]);
    let o = &want["options"];
    assert_eq!(m["vers"], o["vers"]);
    assert_eq!(m["rsize"].to_string(), o["rsize"].as_str().expect("rsize"));
    assert_eq!(m["wsize"].to_string(), o["wsize"].as_str().expect("wsize"));
    assert_eq!(m["timeo"].to_string(), o["timeo"].as_str().expect("timeo"));
    assert_eq!(
        m["retrans"].to_string(),
        o["retrans"].as_str().expect("retrans")
    );
    assert_eq!(m["proto"], o["proto"]);
    assert_eq!(m["addr"], o["addr"]);
    assert_eq!(m["clientaddr"], o["clientaddr"]);
    assert_eq!(m["hard"], Value::Bool(o["hard"] == Value::Bool(true)));
    // Every option nfsshow prints is one /proc/mounts printed, with the same value.
    let text = want["options_text"].as_str().expect("options");
    for opt in m["options"].as_str().expect("options").split(',') {
        assert!(
            text.split(',').any(|x| x == opt),
            "{opt} is not in /proc/mounts' {text}"
        );
    }
    assert_eq!(m["host"], t["server"]);
}

#[test]
fn nfsshow_ties_each_stuck_task_to_its_mount_and_rpc() {
    let t = truth();
    let j = json("nfsshow --json");
    let mnt = t["mountpoint"].as_str().expect("mountpoint");
    for role in ["open", "ls", "dd", "manager"] {
        let s = staged(&t, role);
        assert_eq!(s["state"], "D", "{role} was not in D state: {s}");
        let w = waiter(&j, s["pid"].as_i64().expect("pid"));
        let want = s["proc"]
            .as_str()
            .unwrap_or_else(|| panic!("no RPC in the stack of {s}"));
        let got = procs(&w);
        assert!(
            got.iter().any(|p| p.starts_with(want)),
            "{role}: RPCs {got:?}, the stack says {want}"
        );
        if role == "manager" {
            assert_eq!(w["kind"], "state_manager");
            assert_eq!(w["host"], t["server"]);
        } else {
            assert_eq!(w["mount"], mnt, "{role}: {w}");
            assert_eq!(w["host"], t["server"]);
        }
        if role == "open" || role == "dd" {
            assert_eq!(w["file"], s["path"], "{role}: {w}");
        }
        if role == "dd" {
            assert_eq!(w["kind"], "direct_io", "{w}");
        }
    }
    // The second create waits for the directory's i_rwsem, held by the OPEN.
    let c = staged(&t, "create");
    let w = waiter(&j, c["pid"].as_i64().expect("pid"));
    assert_eq!(w["kind"], "inode_lock");
    assert_eq!(w["mount"], mnt);
    let path = c["path"].as_str().expect("path");
    assert_eq!(
        w["file"].as_str().expect("file"),
        &path[..path.rfind('/').expect("a directory")]
    );
    assert_eq!(w["lock_owner_pid"], staged(&t, "open")["pid"]);
    let codes: Vec<&str> = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    for c in [
        "nfs_loopback_mount",
        "nfsd_stopped",
        "nfs_server_not_responding",
        "nfs_hard_mount_waiters",
    ] {
        assert!(codes.contains(&c), "no finding {c}: {codes:?}");
    }
}

#[test]
fn nfsshow_outstanding_rpc_tasks_match_debugfs() {
    let t = truth();
    let j = json("nfsshow --rpctasks --json");
    let got = j["rpc_tasks"].as_array().expect("rpc_tasks");
    let want = t["rpc_tasks"].as_array().expect("truth rpc_tasks");
    assert_eq!(got.len(), want.len(), "dump {got:?}\ntruth {want:?}");
    // Tasks that cannot time out (not RPC_TASK_SOFT) are the same tasks in the dump.
    for w in want
        .iter()
        .filter(|w| w["flags"].as_u64().unwrap_or(0) & 0x200 == 0)
    {
        let g = got
            .iter()
            .find(|g| g["tk_pid"] == w["tk_pid"])
            .unwrap_or_else(|| panic!("RPC task {w} is not in the dump's list {got:?}"));
        assert_eq!(g["proc"], w["proc"]);
        assert_eq!(
            format!("nfsv{}", g["vers"]),
            w["program"].as_str().expect("program")
        );
    }
    // The text report lists each of them.
    let text = common::run_bin(DUMP, "nfsshow --rpctasks");
    assert!(
        text.contains(&format!("====== RPC tasks ({}) ======", want.len())),
        "{text}"
    );
}

#[test]
fn nfsshow_server_view_matches_nfsd() {
    let t = truth();
    let j = json("nfsshow --server --json");
    let s = &j["server"];
    assert_eq!(
        s["threads"].to_string(),
        t["nfsd"]["threads"].as_str().expect("threads")
    );
    assert_eq!(s["running"], Value::Bool(t["nfsd"]["threads"] != "0"));
    assert_eq!(
        s["lease"].to_string(),
        t["nfsd"]["nfsv4leasetime"].as_str().expect("lease")
    );
    assert_eq!(
        s["grace"].to_string(),
        t["nfsd"]["nfsv4gracetime"].as_str().expect("grace")
    );
    let mut got: Vec<String> = s["exports"]
        .as_array()
        .expect("exports")
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["path"].as_str().unwrap_or(""),
                e["client"].as_str().unwrap_or("")
            )
        })
        .collect();
    let mut want: Vec<String> = t["exports"]
        .as_array()
        .expect("exports")
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["path"].as_str().unwrap_or(""),
                e["client"].as_str().unwrap_or("")
            )
        })
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let text = common::run_bin(DUMP, "nfsshow --server");
    assert!(
        text.contains(&format!(
            "threads={}",
            t["nfsd"]["threads"].as_str().expect("threads")
        )),
        "{text}"
    );
}

#[test]
fn nfsshow_help_and_bad_option() {
    let out = common::run_bin(DUMP, "nfsshow -h");
    assert!(out.contains("--maxrpctasks"), "{out}");
    let all = common::run_bin_failing(DUMP, "nfsshow --bogus");
    assert!(all.contains("unknown option --bogus"), "{all}");
}

#[test]
fn hanginfo_names_mount_file_and_rpc_of_nfs_waiters() {
    let t = truth();
    let j = json("hanginfo --json");
    let nfs: Vec<&Value> = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "waits_nfs")
        .collect();
    let mnt = t["mountpoint"].as_str().expect("mountpoint");
    for role in ["open", "ls", "dd", "manager"] {
        let s = staged(&t, role);
        let f = nfs
            .iter()
            .find(|f| f["objects"]["pid"] == s["pid"])
            .unwrap_or_else(|| {
                panic!(
                    "{role} {} is not in hanginfo's NFS section: {nfs:?}",
                    s["pid"]
                )
            });
        let o = &f["objects"];
        let want = s["proc"].as_str().expect("proc");
        assert!(
            procs(o).iter().any(|p| p.starts_with(want)),
            "{role}: {o}, the stack says {want}"
        );
        if role != "manager" {
            assert_eq!(o["mount"], mnt, "{role}: {o}");
        }
        if role == "open" || role == "dd" {
            assert_eq!(o["file"], s["path"], "{role}: {o}");
        }
    }
    // The direct read is no longer filed under completions.
    let dd = staged(&t, "dd")["pid"].clone();
    for f in j["findings"].as_array().expect("findings") {
        if f["code"] == "waits_completion" {
            assert!(
                !f["objects"]["waiters"]
                    .as_array()
                    .is_some_and(|w| w.contains(&dd)),
                "dd is under completions: {f}"
            );
        }
    }
    // The queued create is under rw-semaphores, with the OPEN as owner of the directory's lock.
    let c = staged(&t, "create");
    let open = staged(&t, "open");
    let rw = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["code"] == "waits_rwsem"
                && f["objects"]["waiters"]
                    .as_array()
                    .is_some_and(|w| w.contains(&c["pid"]))
        })
        .unwrap_or_else(|| panic!("create {} is not under rw-semaphores", c["pid"]));
    assert_eq!(rw["objects"]["owner_pid"], open["pid"]);
    let path = c["path"].as_str().expect("path");
    assert_eq!(
        rw["objects"]["name"].as_str().expect("name"),
        format!("i_rwsem of {}", &path[..path.rfind('/').expect("dir")])
    );
    // The text report: the section, the mount and the files.
    let text = common::run_bin(DUMP, "hanginfo");
    let sec = &text[text
        .find("====== Waiting in NFS/RPC ======")
        .expect("NFS section")..];
    assert!(
        sec.contains(&format!(
            "-- NFS mount {} on {mnt}",
            t["mounts"][0]["device"].as_str().expect("device")
        )),
        "{sec}"
    );
    for role in ["open", "dd"] {
        let p = staged(&t, role)["path"].as_str().expect("path").to_string();
        assert!(sec.contains(&format!("file {p}")), "{p} not in {sec}");
    }
}
