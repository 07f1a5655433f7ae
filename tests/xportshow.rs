//! `xportshow` (scripts/xportshow.rhai on stdlib/linux/net.rhai) on the real `net` dump,
//! asserted against the guest's truth: /proc/PID/net tables per namespace, the sockets' owners
//! from /proc/PID/fd, `ip addr`/`ip route`/`ip neigh` per namespace and softnet_stat.

mod common;

use serde_json::Value;

/// `xportshow ARGS` on net.elf, parsed as JSON.
fn xport_json(args: &str) -> Value {
    let out = common::run_bin("net.elf", &format!("xportshow {args} --json"));
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("xportshow {args}: {e}\n{out}"))
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

/// The truth's namespaces (name, pid, inum, tables).
fn truth_namespaces() -> Vec<Value> {
    let t = common::truth("net");
    arr(&t["net"]["namespaces"]).clone()
}

/// The entry of `list` (objects with `inum`) for namespace `inum`.
fn of_ns<'a>(list: &'a Value, inum: &Value) -> &'a Value {
    arr(list)
        .iter()
        .find(|n| n["inum"] == *inum)
        .unwrap_or_else(|| panic!("namespace {inum} missing from {list}"))
}

/// The state name xportshow gives a /proc/net row: TCP names; UDP/raw "ESTABLISHED" when
/// connected, else "".
fn want_state(table: &str, row: &Value) -> String {
    let st = row["state"].as_str().expect("state").to_string();
    if table.starts_with("tcp") || st == "ESTABLISHED" {
        st
    } else {
        String::new()
    }
}

/// A socket of `socks` that equals /proc/net row `row` of `table` (proto, addresses, ports,
/// state, queues and, for sockets a file holds, the inode).
fn find_inet<'a>(socks: &'a [Value], table: &str, row: &Value) -> Option<&'a Value> {
    let proto = table;
    socks.iter().find(|s| {
        s["proto"] == proto
            && s["laddr"] == row["local"]["ip"]
            && s["lport"] == row["local"]["port"]
            && s["raddr"] == row["remote"]["ip"]
            && s["rport"] == row["remote"]["port"]
            && s["state"].as_str() == Some(&want_state(table, row))
            && s["rx"] == row["rx_queue"]
            && s["tx"] == row["tx_queue"]
            && s["inode"] == row["inode"]
    })
}

#[test]
fn every_socket_of_the_truth_with_addresses_state_queues_and_owners() {
    let j = xport_json("-a");
    let t = common::truth("net");
    let namespaces = truth_namespaces();
    assert_eq!(namespaces.len(), 2, "the guest staged two namespaces");
    assert_eq!(
        arr(&j["namespaces"]).len(),
        namespaces.len(),
        "one entry per namespace"
    );
    let mut all = Vec::new();
    for ns in &namespaces {
        let socks = arr(&of_ns(&j["namespaces"], &ns["inum"])["sockets"]).clone();
        for table in ["tcp", "tcp6", "udp", "udp6", "raw"] {
            let rows = arr(&ns[table]);
            for row in rows {
                assert!(
                    find_inet(&socks, table, row).is_some(),
                    "{}: {table} row {row} not reported; got {:#?}",
                    ns["name"],
                    socks
                        .iter()
                        .filter(|s| s["proto"] == table)
                        .collect::<Vec<_>>()
                );
            }
            let got = socks.iter().filter(|s| s["proto"] == table).count();
            assert_eq!(got, rows.len(), "{}: {table} sockets", ns["name"]);
        }
        for row in arr(&ns["unix"]) {
            let s = socks
                .iter()
                .find(|s| s["proto"] == "unix" && s["inode"] == row["inode"])
                .unwrap_or_else(|| panic!("unix socket {row} not reported"));
            let ty = match row["type"].as_i64() {
                Some(1) => "STREAM",
                Some(2) => "DGRAM",
                _ => "SEQPACKET",
            };
            assert_eq!(s["type"], ty, "{row}");
            let state = if row["flags"].as_i64() == Some(0x10000) {
                "LISTENING"
            } else if row["st"].as_i64() == Some(3) {
                "CONNECTED"
            } else {
                "UNCONNECTED"
            };
            assert_eq!(s["state"], state, "{row}");
            assert_eq!(s["path"].as_str(), Some(row["path"].as_str().unwrap_or("")));
        }
        let unix = socks.iter().filter(|s| s["proto"] == "unix").count();
        assert_eq!(unix, arr(&ns["unix"]).len(), "{}: unix sockets", ns["name"]);
        for row in arr(&ns["packet"]) {
            let s = socks
                .iter()
                .find(|s| s["proto"] == "packet" && s["inode"] == row["inode"])
                .unwrap_or_else(|| panic!("packet socket {row} not reported"));
            assert_eq!(s["ifindex"], row["ifindex"]);
            assert_eq!(s["protocol"], row["proto"]);
            assert_eq!(s["type"], row["type"]);
        }
        all.extend(socks);
    }
    // Owners: every socket a task holds, with its PID and fd.
    let owners = arr(&t["net"]["owners"]);
    assert!(owners.len() > 30, "the helpers hold their sockets");
    for o in owners {
        let s = all
            .iter()
            .find(|s| s["inode"] == o["inode"])
            .unwrap_or_else(|| panic!("the socket of owner {o} not reported"));
        assert!(
            arr(&s["owners"])
                .iter()
                .any(|x| x["pid"] == o["pid"] && x["fd"] == o["fd"] && x["comm"] == o["comm"]),
            "owner {o} not on {s}"
        );
    }
    // Sockets no file holds (TIME_WAIT, accept queue) have no owner.
    for s in all.iter().filter(|s| s["inode"] == 0) {
        assert!(arr(&s["owners"]).is_empty(), "{s}");
    }
}

#[test]
fn filters_select_by_protocol_state_port_and_owner() {
    let t = common::truth("net");
    let ns2 = &truth_namespaces()[1];
    let pid = ns2["pid"].as_i64().expect("pid");
    let j = xport_json(&format!("-a --pid {pid}"));
    for n in arr(&j["namespaces"]) {
        for s in arr(&n["sockets"]) {
            assert!(arr(&s["owners"]).iter().any(|o| o["pid"] == pid), "{s}");
        }
    }
    let held = arr(&t["net"]["owners"])
        .iter()
        .filter(|o| o["pid"] == pid)
        .count();
    let got: usize = arr(&j["namespaces"])
        .iter()
        .map(|n| arr(&n["sockets"]).len())
        .sum();
    assert_eq!(got, held, "--pid {pid}: the task's sockets");
    let j = xport_json("--tcpstate TIME_WAIT");
    let tw: Vec<&Value> = arr(&j["namespaces"])
        .iter()
        .flat_map(|n| arr(&n["sockets"]))
        .collect();
    let want: usize = truth_namespaces()
        .iter()
        .map(|n| {
            arr(&n["tcp"])
                .iter()
                .chain(arr(&n["tcp6"]))
                .filter(|r| r["state"] == "TIME_WAIT")
                .count()
        })
        .sum();
    assert!(want > 0, "the guest staged a TIME_WAIT socket");
    assert_eq!(tw.len(), want);
    let j = xport_json("-l -t --port 7002");
    let l: Vec<&Value> = arr(&j["namespaces"])
        .iter()
        .flat_map(|n| arr(&n["sockets"]))
        .collect();
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0]["state"], "LISTEN");
    let text = common::run_bin("net.elf", "xportshow -x --program net-helper");
    assert!(text.contains("@rkd-abstract"), "{text}");
    assert!(text.contains("/tmp/net/net.sock"), "{text}");
    assert!(!text.contains("tcp "), "{text}");
}

#[test]
fn summary_counts_equal_the_truth() {
    let j = xport_json("--summary");
    for ns in truth_namespaces() {
        let counts = &of_ns(&j["summary"], &ns["inum"])["counts"];
        for table in ["tcp", "tcp6", "udp", "udp6", "raw", "unix", "packet"] {
            let rows = arr(&ns[table]);
            let got: i64 = counts[table]
                .as_object()
                .map(|m| m.values().filter_map(Value::as_i64).sum())
                .unwrap_or(0);
            assert_eq!(got, rows.len() as i64, "{}: {table} total", ns["name"]);
            if table.starts_with("tcp") {
                for row in rows {
                    let st = row["state"].as_str().expect("state");
                    let want = rows.iter().filter(|r| r["state"] == st).count() as i64;
                    assert_eq!(counts[table][st], want, "{}: {table} {st}", ns["name"]);
                }
            }
        }
    }
}

#[test]
fn staged_problems_are_flagged() {
    let j = xport_json("--summary");
    let init = &truth_namespaces()[0];
    let findings = arr(&j["findings"]);
    let flagged = |code: &str, inode: &Value| {
        findings
            .iter()
            .any(|f| f["code"] == code && f["objects"]["inode"] == *inode)
    };
    let tcp = arr(&init["tcp"]);
    let row = |pred: &dyn Fn(&Value) -> bool| -> Value {
        tcp.iter()
            .find(|r| pred(r))
            .cloned()
            .unwrap_or_else(|| panic!("truth row missing"))
    };
    // 7002: backlog 1, two connections queued (Recv-Q of a listener is its accept queue)
    let full = row(&|r| r["state"] == "LISTEN" && r["local"]["port"] == 7002);
    assert_eq!(full["rx_queue"], 2, "{full}");
    assert!(
        flagged("listen_queue_full", &full["inode"]),
        "{findings:#?}"
    );
    // 7003: the receiver never reads
    let stuck = row(&|r| r["state"] == "ESTABLISHED" && r["local"]["port"] == 7003);
    assert!(stuck["rx_queue"].as_i64() > Some(0), "{stuck}");
    assert!(flagged("rcv_queue_stuck", &stuck["inode"]), "{findings:#?}");
    // its sender: send queue full against a zero window
    let sender = row(&|r| r["state"] == "ESTABLISHED" && r["remote"]["port"] == 7003);
    assert!(sender["tx_queue"].as_i64() > Some(0), "{sender}");
    assert!(flagged("zero_window", &sender["inode"]), "{findings:#?}");
    // the third connection to the full listener retransmits its SYN
    let syn = row(&|r| r["state"] == "SYN_SENT");
    assert!(flagged("retransmitting", &syn["inode"]), "{findings:#?}");
    // UDP 7010: full receive buffer with drops
    let udp = arr(&init["udp"])
        .iter()
        .find(|r| r["local"]["port"] == 7010)
        .expect("udp 7010");
    assert!(udp["drops"].as_i64() > Some(0), "{udp}");
    assert!(flagged("udp_rcvbuf_full", &udp["inode"]), "{findings:#?}");
    // and nothing else: idle connections are not flagged
    let idle = row(&|r| r["state"] == "FIN_WAIT2");
    assert!(
        !findings
            .iter()
            .any(|f| f["objects"]["inode"] == idle["inode"]),
        "{findings:#?}"
    );
    let text = common::run_bin("net.elf", "xportshow --summary");
    assert!(
        text.contains("+++WARNING+++ tcp 127.0.0.1:7002 LISTEN: accept queue full"),
        "{text}"
    );
}

#[test]
fn interfaces_routes_and_neighbours_equal_ip() {
    let j = xport_json("-i -r --arp");
    for ns in truth_namespaces() {
        let devs = arr(&of_ns(&j["interfaces"], &ns["inum"])["interfaces"]);
        let want = arr(&ns["interfaces"]);
        assert_eq!(devs.len(), want.len(), "{}: interfaces", ns["name"]);
        for w in want {
            let d = devs
                .iter()
                .find(|d| d["name"] == w["name"])
                .unwrap_or_else(|| panic!("interface {w} missing"));
            assert_eq!(d["ifindex"], w["index"], "{w}");
            assert_eq!(d["mtu"], w["mtu"], "{w}");
            assert_eq!(d["qdisc"]["id"], w["qdisc"], "{w}");
            if let Some(mac) = w["mac"].as_str() {
                assert_eq!(d["mac"], mac, "{w}");
            }
            for (k, flag) in [("inet", "ipv4"), ("inet6", "ipv6")] {
                let mut a: Vec<String> = arr(&d[flag])
                    .iter()
                    .map(|x| x.as_str().unwrap_or("").to_string())
                    .collect();
                let mut b: Vec<String> = arr(&w[k])
                    .iter()
                    .map(|x| x.as_str().unwrap_or("").to_string())
                    .collect();
                a.sort();
                b.sort();
                assert_eq!(a, b, "{}: {k} addresses", w["name"]);
            }
            for f in arr(&w["flags"]) {
                let f = f.as_str().unwrap_or("");
                // LOWER_UP and M-DOWN are operational state, not dev->flags
                if !["LOWER_UP", "M-DOWN"].contains(&f) {
                    assert!(
                        arr(&d["flags"]).iter().any(|x| x == f),
                        "{}: {f}",
                        w["name"]
                    );
                }
            }
        }
        // Route lines, whitespace-normalised and sorted: IPv4 (`routes`, `ip route`) and IPv6
        // (`routes6`, `ip -6 route`: link-local and multicast routes, and fd00:1::/64 in the
        // initial namespace).
        let lines = |v: &Value| {
            let mut l: Vec<String> = arr(v)
                .iter()
                .map(|r| {
                    let t = r["line"].as_str().unwrap_or("");
                    t.split_whitespace().collect::<Vec<_>>().join(" ")
                })
                .collect();
            l.sort();
            l
        };
        for key in ["routes", "routes6"] {
            let want = lines(&ns[key]);
            assert!(!want.is_empty(), "{}: the truth has no {key}", ns["name"]);
            let got = lines(&of_ns(&j["routes"], &ns["inum"])[key]);
            assert_eq!(got, want, "{}: {key}", ns["name"]);
        }
        // A resolved entry ages (REACHABLE, STALE, DELAY, PROBE) between the truth and the
        // dump; its address, device and link-layer address do not.
        let resolved = ["REACHABLE", "STALE", "DELAY", "PROBE"];
        let neigh = arr(&of_ns(&j["neighbours"], &ns["inum"])["neighbours"]);
        assert!(
            !arr(&ns["neigh"]).is_empty(),
            "{}: the guest made neighbours",
            ns["name"]
        );
        for w in arr(&ns["neigh"]) {
            let st = |v: &Value| v.as_str().unwrap_or("").to_string();
            assert!(
                neigh.iter().any(|n| n["ip"] == w["ip"]
                    && n["dev"] == w["dev"]
                    && n["lladdr"] == w["lladdr"]
                    && (n["state"] == w["state"]
                        || (resolved.contains(&st(&n["state"]).as_str())
                            && resolved.contains(&st(&w["state"]).as_str())))),
                "{}: neighbour {w} not in {neigh:?}",
                ns["name"]
            );
        }
    }
}

#[test]
fn softnet_counters_follow_softnet_stat() {
    let j = xport_json("--softnet");
    let ns = &truth_namespaces()[0];
    let want = arr(&ns["softnet"]);
    let got = arr(&j["softnet"]);
    assert_eq!(got.len(), want.len(), "one line per CPU");
    for (g, w) in got.iter().zip(want) {
        // the dump is taken after the truth: counters only grow
        assert!(
            g["processed"].as_i64() >= w["processed"].as_i64(),
            "{g} {w}"
        );
        assert!(
            g["time_squeeze"].as_i64() >= w["time_squeeze"].as_i64(),
            "{g} {w}"
        );
        assert_eq!(g["dropped"], w["dropped"], "{g} {w}");
    }
}

#[test]
fn text_report_lists_the_sockets_and_help() {
    let text = common::run_bin("net.elf", "xportshow -a -v");
    let ns = truth_namespaces();
    assert!(
        text.contains(&format!("net:[{}] (init_net)", ns[0]["inum"])),
        "{text}"
    );
    assert!(text.contains(&format!("net:[{}]", ns[1]["inum"])), "{text}");
    assert!(text.contains("accept queue 2 of backlog 1"), "{text}");
    assert!(text.contains("TIME_WAIT"), "{text}");
    let h = common::run_bin("net.elf", "xportshow -h");
    assert!(h.starts_with("xportshow [-a | -l]"), "{h}");
}
