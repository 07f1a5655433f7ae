//! Networking basics: the network devices of a namespace (the initial one by default) with
//! their IPv4 and IPv6 addresses, and the sockets among a task's open files (family, type,
//! addresses, ports).

use super::fs::open_files;
use crate::error::Result;
use crate::session::Session;
use crate::value::{walk, Value};
use std::net::{Ipv4Addr, Ipv6Addr};

/// One network device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDevice {
    /// `struct net_device *`.
    pub addr: u64,
    /// `dev->name`.
    pub name: String,
    /// IPv4 addresses (`ip_ptr->ifa_list`).
    pub ipv4: Vec<Ipv4Addr>,
}

/// The devices on `init_net.dev_base_head`.
pub fn net_devices(s: &Session) -> Result<(Vec<NetDevice>, Vec<String>)> {
    let (net, _) = s.global("init_net")?;
    net_devices_in(s, net)
}

/// The devices on `dev_base_head` of the `struct net` at `net`.
pub fn net_devices_in(s: &Session, net: u64) -> Result<(Vec<NetDevice>, Vec<String>)> {
    let nt = s.find_type("struct net")?;
    let head = net + s.offset_in(nt, "dev_base_head")?;
    let dt = s.find_type("struct net_device")?;
    let link = s.offset_in(dt, "dev_list")?;
    let w = walk::list(
        s,
        walk::ListStart::Head(head),
        &walk::ListOpts {
            bound: 1 << 16,
            ..Default::default()
        },
    );
    let mut warnings = w.warnings;
    let mut out = Vec::new();
    for node in w.items {
        let addr = node - link;
        let d = Value::at(dt, addr);
        let name = d
            .member(s, "name")
            .and_then(|n| n.string(s))
            .unwrap_or_default();
        let mut ipv4 = Vec::new();
        let mut ifa = d
            .member_u64(s, "ip_ptr")
            .ok()
            .filter(|&p| p != 0)
            .and_then(|_| d.member_u64(s, "ip_ptr.ifa_list").ok());
        let it = s.find_type("struct in_ifaddr")?;
        let mut n = 0;
        while let Some(a) = ifa.filter(|&a| a != 0) {
            n += 1;
            if n > 256 {
                warnings.push(format!("{name}: ifa_list too long"));
                break;
            }
            let v = Value::at(it, a);
            match v.member(s, "ifa_address").and_then(|x| x.bytes(s)) {
                Ok(b) if b.len() == 4 => ipv4.push(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                _ => warnings.push(format!("{name}: unreadable in_ifaddr at {a:#x}")),
            }
            ifa = v.member_u64(s, "ifa_next").ok();
        }
        out.push(NetDevice { addr, name, ipv4 });
    }
    Ok((out, warnings))
}

/// The IPv6 addresses of net_device `dev` (`ip6_ptr->addr_list`), as crash lists them after
/// the IPv4 ones; none when IPv6 is off or unreadable.
pub fn ipv6_addresses(s: &Session, dev: u64) -> Vec<Ipv6Addr> {
    let read = || -> Result<Vec<Ipv6Addr>> {
        let dt = s.find_type("struct net_device")?;
        let idev = Value::at(dt, dev).member_u64(s, "ip6_ptr")?;
        if idev == 0 {
            return Ok(Vec::new());
        }
        let it = s.find_type("struct inet6_dev")?;
        let at = s.find_type("struct inet6_ifaddr")?;
        let head = idev + s.offset_in(it, "addr_list")?;
        let link = s.offset_in(at, "if_list")?;
        let w = walk::list(
            s,
            walk::ListStart::Head(head),
            &walk::ListOpts {
                bound: 256,
                ..Default::default()
            },
        );
        Ok(w.items
            .into_iter()
            .filter_map(|node| {
                let b = Value::at(at, node - link)
                    .member(s, "addr")
                    .and_then(|v| v.bytes(s))
                    .ok()?;
                <[u8; 16]>::try_from(b.as_slice()).ok().map(Ipv6Addr::from)
            })
            .collect())
    };
    read().unwrap_or_default()
}

/// One socket of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketInfo {
    /// File descriptor.
    pub fd: u64,
    /// `struct socket *` (`file->private_data`).
    pub socket: u64,
    /// `struct sock *`.
    pub sock: u64,
    /// `INET`, `INET6`, `UNIX`, `NETLINK`… or the number.
    pub family: String,
    /// `STREAM`, `DGRAM`, `RAW`, `SEQPACKET`… or the number.
    pub kind: String,
    /// Source address and port (inet families).
    pub source: Option<(String, u16)>,
    /// Destination address and port (inet families).
    pub dest: Option<(String, u16)>,
}

fn family_name(f: u64) -> String {
    match f {
        1 => "UNIX".into(),
        2 => "INET".into(),
        10 => "INET6".into(),
        16 => "NETLINK".into(),
        17 => "PACKET".into(),
        n => n.to_string(),
    }
}

fn type_name(t: u64) -> String {
    match t {
        1 => "STREAM".into(),
        2 => "DGRAM".into(),
        3 => "RAW".into(),
        4 => "RDM".into(),
        5 => "SEQPACKET".into(),
        10 => "PACKET".into(),
        n => n.to_string(),
    }
}

/// The sockets among task `task`'s open files.
pub fn task_sockets(s: &Session, task: u64) -> Result<Vec<SocketInfo>> {
    let (_, _, files) = open_files(s, task)?;
    let ft = s.find_type("struct file")?;
    let st = s.find_type("struct socket")?;
    let mut out = Vec::new();
    for f in files.into_iter().filter(|f| f.kind == "SOCK") {
        let socket = Value::at(ft, f.file).member_u64(s, "private_data")?;
        let sv = Value::at(st, socket);
        let sock = sv.member_u64(s, "sk").unwrap_or(0);
        let mut info = SocketInfo {
            fd: f.fd,
            socket,
            sock,
            family: "?".into(),
            kind: type_name(sv.member_u64(s, "type").unwrap_or(0)),
            source: None,
            dest: None,
        };
        if sock != 0 {
            let sk = sv.member(s, "sk")?;
            let fam = sk.member_u64(s, "__sk_common.skc_family").unwrap_or(0);
            info.family = family_name(fam);
            if let Ok(t) = sk.member_u64(s, "sk_type") {
                info.kind = type_name(t);
            }
            let sport = sk.member_u64(s, "__sk_common.skc_num").unwrap_or(0) as u16;
            // skc_dport is big-endian in memory.
            let dport =
                (sk.member_u64(s, "__sk_common.skc_dport").unwrap_or(0) as u16).swap_bytes();
            let ip4 = |m: &str| -> String {
                sk.member(s, m)
                    .and_then(|v| v.bytes(s))
                    .ok()
                    .filter(|b| b.len() == 4)
                    .map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string())
                    .unwrap_or_else(|| "?".into())
            };
            let ip6 = |m: &str| -> String {
                sk.member(s, m)
                    .and_then(|v| v.bytes(s))
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
                    .map(|b| Ipv6Addr::from(b).to_string())
                    .unwrap_or_else(|| "?".into())
            };
            match fam {
                2 => {
                    info.source = Some((ip4("__sk_common.skc_rcv_saddr"), sport));
                    info.dest = Some((ip4("__sk_common.skc_daddr"), dport));
                }
                10 => {
                    info.source = Some((ip6("__sk_common.skc_v6_rcv_saddr"), sport));
                    info.dest = Some((ip6("__sk_common.skc_v6_daddr"), dport));
                }
                _ => {}
            }
        }
        out.push(info);
    }
    Ok(out)
}
