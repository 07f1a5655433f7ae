//! The SCSI analyzer (`scripts/scsishow.rhai`) on the real `storage` dump, asserted against the
//! guest's truth (tests/fixtures/guest/scenarios/storage-scsi.sh): every host with its driver,
//! every device with H:C:T:L, vendor, model, state and counters, the offline device flagged,
//! the commands left in flight with their opcode, LBA and a plausible age, the two paths of the
//! shared LUN with one WWID, and `--json` carrying the same.

mod common;

use serde_json::Value;

const DUMP: &str = "storage.elf";

fn run(cmd: &str) -> String {
    common::run_bin(DUMP, cmd)
}

fn json(cmd: &str) -> Value {
    let out = run(cmd);
    let line = out
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("{cmd}: no JSON line:\n{out}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{cmd}: bad JSON ({e}):\n{out}"))
}

fn scsi_truth() -> Value {
    let t = common::truth("storage");
    let scsi = t["scsi"].clone();
    assert!(
        !scsi["hosts"].as_array().expect("truth hosts").is_empty(),
        "the storage truth lists no SCSI hosts"
    );
    scsi
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a JSON array")
}

/// The truth's in-flight commands on device `hctl`.
fn truth_cmds_on(truth: &Value, hctl: &str) -> usize {
    arr(&truth["commands"])
        .iter()
        .filter(|c| c["hctl"] == hctl)
        .count()
}

#[test]
fn every_host_with_its_driver_and_state() {
    let truth = scsi_truth();
    let got = json("scsishow -s --json");
    let hosts = arr(&got["hosts"]);
    assert_eq!(hosts.len(), arr(&truth["hosts"]).len(), "{hosts:?}");
    for th in arr(&truth["hosts"]) {
        let h = hosts
            .iter()
            .find(|h| h["host_no"] == th["host_no"])
            .unwrap_or_else(|| panic!("host {} missing", th["host"]));
        assert_eq!(h["name"], th["host"]);
        assert_eq!(h["driver"], th["proc_name"], "{}", th["host"]);
        assert_eq!(h["can_queue"], th["can_queue"], "{}", th["host"]);
        assert_eq!(h["cmd_per_lun"], th["cmd_per_lun"], "{}", th["host"]);
        assert_eq!(
            h["state"].as_str().unwrap().to_lowercase(),
            format!("shost_{}", th["state"].as_str().unwrap()),
            "{}",
            th["host"]
        );
        // busy = the commands left in flight on the host's devices (the truth's host_busy was
        // read before they were issued).
        let inflight = arr(&truth["commands"])
            .iter()
            .filter(|c| {
                c["hctl"].as_str().unwrap().split(':').next()
                    == Some(th["host_no"].to_string().as_str())
            })
            .count();
        assert_eq!(h["busy"], inflight as u64, "{}", th["host"]);
    }
    for d in ["virtio_scsi", "vmw_pvscsi", "ata_piix", "scsi_debug"] {
        assert!(hosts.iter().any(|h| h["driver"] == d), "no {d} host");
    }
    // The text table names each host with its driver.
    let text = run("scsishow");
    for th in arr(&truth["hosts"]) {
        let host = th["host"].as_str().unwrap();
        let driver = th["proc_name"].as_str().unwrap();
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().take(2).eq([host, driver])),
            "{host} {driver} not in:\n{text}"
        );
    }
}

#[test]
fn every_device_with_identity_state_and_counters() {
    let truth = scsi_truth();
    let got = json("scsishow -d --json");
    let devs = arr(&got["devices"]);
    assert_eq!(devs.len(), arr(&truth["devices"]).len(), "{devs:?}");
    let text = run("scsishow -d");
    for td in arr(&truth["devices"]) {
        let hctl = td["hctl"].as_str().unwrap();
        let d = devs
            .iter()
            .find(|d| d["hctl"] == hctl)
            .unwrap_or_else(|| panic!("device {hctl} missing"));
        for k in ["vendor", "model", "rev", "queue_depth"] {
            assert_eq!(d[k], td[k], "{hctl} {k}");
        }
        assert_eq!(d["disk"], td["disk"], "{hctl} disk");
        assert_eq!(d["state_sysfs"], td["state"], "{hctl} state");
        assert_eq!(d["wwid"], td["wwid"], "{hctl} wwid");
        // Counters: the truth read them before the in-flight commands were issued; each of
        // those adds one request not yet done.
        let pending = truth_cmds_on(&truth, hctl) as u64;
        let want_req = td["iorequest_cnt"].as_u64().unwrap() + pending;
        assert_eq!(d["iorequest_cnt"], want_req, "{hctl} iorequest_cnt");
        for k in ["iodone_cnt", "ioerr_cnt", "iotmo_cnt"] {
            assert_eq!(d[k], td[k], "{hctl} {k}");
        }
        assert_eq!(d["commands"], pending, "{hctl} commands");
        // The text row: disk, H:C:T:L, vendor, state.
        let row = text
            .lines()
            .find(|l| l.split_whitespace().nth(2) == Some(hctl))
            .unwrap_or_else(|| panic!("no row for {hctl}:\n{text}"));
        let disk = td["disk"].as_str().unwrap_or("-");
        assert!(row.starts_with(disk), "{row}");
        assert!(row.contains(td["model"].as_str().unwrap()), "{row}");
        assert!(
            row.contains(&format!(" {} ", td["state"].as_str().unwrap())),
            "{row}"
        );
    }
    // The staged errors: a medium error and a timeout on scsi_debug's LUN 0.
    let lun0 = arr(&truth["devices"])
        .iter()
        .find(|d| d["model"] == "SDEBUG-LUN" && d["lun"] == 0)
        .expect("scsi_debug LUN 0 in the truth");
    assert!(lun0["ioerr_cnt"].as_u64().unwrap() >= 1, "{lun0}");
    assert_eq!(lun0["iotmo_cnt"], 1, "{lun0}");
}

#[test]
fn the_shared_lun_has_one_wwid_on_two_hosts() {
    let truth = scsi_truth();
    let got = json("scsishow -d --json");
    let paths: Vec<&Value> = arr(&got["devices"])
        .iter()
        .filter(|d| d["model"] == "MPATH-LUN")
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert_ne!(paths[0]["host_no"], paths[1]["host_no"]);
    assert_eq!(paths[0]["wwid"], paths[1]["wwid"]);
    assert_eq!(paths[0]["wwid"], "naa.5000c50015ea7a01");
    let want: Vec<&Value> = arr(&truth["devices"])
        .iter()
        .filter(|d| d["model"] == "MPATH-LUN")
        .map(|d| &d["wwid"])
        .collect();
    assert_eq!(want, vec![&paths[0]["wwid"], &paths[1]["wwid"]]);
}

#[test]
fn check_flags_the_offline_device_and_the_timeout() {
    let truth = scsi_truth();
    let out = run("scsishow --check");
    let offline: Vec<&Value> = arr(&truth["devices"])
        .iter()
        .filter(|d| d["state"] != "running")
        .collect();
    assert_eq!(offline.len(), 1, "the guest set one device offline");
    let od = offline[0];
    assert_eq!(
        arr(&truth["offline_disks"]),
        &vec![od["disk"].clone()],
        "the offline disk is DISK-P"
    );
    let warning = format!(
        "+++WARNING+++ {} {} ({} {}) is not running: SDEV_OFFLINE",
        od["hctl"].as_str().unwrap(),
        od["disk"].as_str().unwrap(),
        od["vendor"].as_str().unwrap(),
        od["model"].as_str().unwrap()
    );
    assert_eq!(
        out.lines().filter(|l| l.trim() == warning).count(),
        2,
        "inline and in the summary:\n{out}"
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("+++WARNING+++") && l.contains("is not running"))
            .count(),
        1,
        "only the offline device is not running:\n{out}"
    );
    let lun0 = arr(&truth["devices"])
        .iter()
        .find(|d| d["model"] == "SDEBUG-LUN" && d["lun"] == 0)
        .expect("scsi_debug LUN 0");
    assert!(
        out.lines().any(|l| l.starts_with("+++WARNING+++")
            && l.contains(lun0["hctl"].as_str().unwrap())
            && l.contains("time out (iotmo_cnt)")),
        "{out}"
    );
    assert!(out.contains("====== SCSI summary ======"), "{out}");
    let n_cmds = arr(&truth["commands"]).len();
    assert!(
        out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["commands", "in", "flight", &n_cmds.to_string()]),
        "{out}"
    );
    // --json carries the same findings.
    let j = json("scsishow --check --json");
    let f = arr(&j["findings"]);
    assert!(
        f.iter().any(|x| x["code"] == "device_state"
            && x["objects"]["hctl"] == od["hctl"]
            && x["severity"] == "warning"),
        "{f:?}"
    );
    assert!(f.iter().any(|x| x["code"] == "io_timeouts"), "{f:?}");
    // The commands in flight are younger than their 3600 s timeout and were not retried.
    assert!(
        !f.iter()
            .any(|x| x["code"] == "cmd_timed_out" || x["code"] == "cmd_retried"),
        "{f:?}"
    );
}

/// Age expected for a command issued at guest uptime `issued_s`: the truth's clock section
/// gives uptime and jiffies at one moment; the dump's jiffies say how much later it was taken.
fn expected_age_ms(t: &Value, dump_jiffies: i64, hz: i64, issued_s: f64) -> f64 {
    let clock_up = t["uptime_s"].as_f64().expect("truth uptime");
    let clock_j = t["jiffies"].as_i64().expect("truth jiffies");
    let dump_up = clock_up + (dump_jiffies - clock_j) as f64 / hz as f64;
    (dump_up - issued_s) * 1000.0
}

#[test]
fn commands_in_flight_with_opcode_lba_and_age() {
    let truth = scsi_truth();
    let full = common::truth("storage");
    let got = json("scsishow -c --json");
    let cmds = arr(&got["commands"]);
    let k = json("kernel_info().to_json()");
    let (jiffies, hz) = (k["jiffies"].as_i64().unwrap(), k["hz"].as_i64().unwrap());
    assert!(!arr(&truth["commands"]).is_empty());
    assert_eq!(cmds.len(), arr(&truth["commands"]).len(), "{cmds:?}");
    let text = run("scsishow -c");
    let queues = run("scsishow -q");
    for tc in arr(&truth["commands"]) {
        let hctl = tc["hctl"].as_str().unwrap();
        let c = cmds
            .iter()
            .find(|c| c["hctl"] == hctl)
            .unwrap_or_else(|| panic!("no command on {hctl}: {cmds:?}"));
        let op = c["op_name"].as_str().unwrap();
        assert!(
            op.starts_with(&format!("{}(", tc["op"].as_str().unwrap())),
            "{hctl}: {op} for {}",
            tc["op"]
        );
        assert_eq!(c["write"], tc["op"] == "WRITE", "{hctl}");
        assert_eq!(c["lba"], tc["lba"], "{hctl} LBA");
        assert_eq!(c["blocks"], tc["blocks"], "{hctl} blocks");
        assert_eq!(c["sector"], tc["lba"], "{hctl} sector (512-byte blocks)");
        assert_eq!(c["disk"], tc["disk"], "{hctl}");
        assert_eq!(c["rq_state"], "IN_FLIGHT", "{hctl}");
        assert_eq!(c["inflight"], true, "{hctl}");
        assert_eq!(c["retries"], 0, "{hctl}");
        assert_eq!(c["result"], 0, "{hctl}");
        // The guest raised the timeout to 3600 s before issuing.
        assert_eq!(c["timeout_ms"], 3_600_000, "{hctl}");
        let age = c["age_ms"].as_i64().expect("a started command has an age") as f64;
        let want = expected_age_ms(&full, jiffies, hz, tc["issued_uptime_s"].as_f64().unwrap());
        // dd starts a little after the uptime was read; ticks are 1000/HZ ms.
        assert!(
            age <= want + 50.0 && age >= want - 600.0,
            "{hctl}: age {age} ms, expected about {want:.0} ms"
        );
        assert!(
            text.lines().any(|l| l.contains(hctl) && l.contains(op)),
            "{text}"
        );
        assert!(
            queues.lines().any(|l| l.contains(op)
                && l.contains(&format!("LBA {} blocks {}", tc["lba"], tc["blocks"]))),
            "{queues}"
        );
    }
    // The read was issued first: it is the older one, by the gap between the two issues.
    let tcs = arr(&truth["commands"]);
    if tcs.len() == 2 {
        let age = |i: usize| {
            cmds.iter().find(|c| c["hctl"] == tcs[i]["hctl"]).unwrap()["age_ms"]
                .as_f64()
                .unwrap()
        };
        let gap = (tcs[1]["issued_uptime_s"].as_f64().unwrap()
            - tcs[0]["issued_uptime_s"].as_f64().unwrap())
            * 1000.0;
        let d = age(0) - age(1);
        assert!(
            (d - gap).abs() < 150.0,
            "age gap {d} ms vs issue gap {gap} ms"
        );
    }
}

#[test]
fn dev_d_counts_the_same_requests() {
    let truth = scsi_truth();
    let out = common::run_bin(DUMP, "dev -d");
    for (disk, io) in truth["inflight"].as_object().expect("inflight per disk") {
        let row = out
            .lines()
            .find(|l| l.split_whitespace().nth(2) == Some(disk.as_str()))
            .unwrap_or_else(|| panic!("{disk} not in dev -d:\n{out}"));
        let f: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(f[5], io["read"].to_string(), "{row}");
        assert_eq!(f[6], io["write"].to_string(), "{row}");
    }
}

#[test]
fn proc_scsi_lists_every_device_and_help_works() {
    let truth = scsi_truth();
    let out = run("scsishow -p");
    assert!(out.starts_with("Attached devices:"), "{out}");
    for td in arr(&truth["devices"]) {
        let h: Vec<u64> = td["hctl"]
            .as_str()
            .unwrap()
            .split(':')
            .map(|x| x.parse().unwrap())
            .collect();
        let line = format!(
            "Host: scsi{} Channel: {:02} Id: {:02} Lun: {:02}",
            h[0], h[1], h[2], h[3]
        );
        let i = out
            .find(&line)
            .unwrap_or_else(|| panic!("{line} not in:\n{out}"));
        let next = out[i..].lines().nth(1).unwrap();
        assert!(
            next.contains(&format!(
                "Vendor: {:<8} Model: {:<16} Rev: {}",
                td["vendor"].as_str().unwrap(),
                td["model"].as_str().unwrap(),
                td["rev"].as_str().unwrap()
            )),
            "{next}"
        );
    }
    let h = run("scsishow -h");
    assert!(h.contains("--check") && h.contains("-T"), "{h}");
    let t = json("scsishow -T --json");
    assert_eq!(
        arr(&t["targets"]).len(),
        arr(&truth["devices"])
            .iter()
            .map(|d| {
                let f: Vec<&str> = d["hctl"].as_str().unwrap().split(':').collect();
                (f[0], f[1], f[2])
            })
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        "one target per H:C:T"
    );
}
