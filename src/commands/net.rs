//! `net`: the network devices of the initial namespace (NET_DEVICE NAME IP ADDRESS(ES)), and
//! `net -s PID`: a task's sockets (FD SOCKET SOCK FAMILY:TYPE SOURCE-PORT DESTINATION-PORT).

use super::files::{open_files, task_header, tasks_for};
use super::{Command, Data, Opts};
use crate::error::Result;
use crate::session::Session;
use crate::tasks;
use crate::value::{walk, Value};
use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The `net` command.
pub struct Net;

const USAGE: &str = "\
net [-s [PID | TASK]...]
  (no option)  network devices of the initial namespace: struct net_device, name, IPv4 and
               IPv6 addresses
  -s           the sockets of each task: fd, struct socket, struct sock, family:type and the
               source and destination address-port";

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

/// One `net -s` line in crash's layout: `FD SOCKET SOCK FAMILY:TYPE` then, for inet sockets,
/// `SOURCE-PORT DESTINATION-PORT` (crash writes `DGRAM ` with a trailing blank and names
/// netlink `NETLINK/ROUTE`).
fn socket_line(k: &SocketInfo) -> String {
    let family = match k.family.as_str() {
        "NETLINK" => "NETLINK/ROUTE",
        f => f,
    };
    let kind = match k.kind.as_str() {
        "DGRAM" => "DGRAM ",
        t => t,
    };
    let ap = |x: &Option<(String, u16)>| {
        x.as_ref()
            .map(|(a, p)| format!("{a}-{p}"))
            .unwrap_or_default()
    };
    let mut line = format!(
        "{:>2} {:016x} {:016x} {family}:{kind} ",
        k.fd, k.socket, k.sock
    );
    match k.family.as_str() {
        "INET" => line.push_str(&format!(" {} {}", ap(&k.source), ap(&k.dest))),
        "INET6" => line.push_str(&format!("{:>12} {}", ap(&k.source), ap(&k.dest))),
        _ => {}
    }
    line
}

impl Command for Net {
    fn name(&self) -> &'static str {
        "net"
    }
    fn summary(&self) -> &'static str {
        "network devices and a task's sockets"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("net", args, "s", "", &[])?;
        if o.has("s") {
            let list = tasks::task_list(session)?;
            for (i, t) in tasks_for(session, &list, &o.positional, "net")?
                .into_iter()
                .enumerate()
            {
                if i > 0 {
                    writeln!(out)?;
                }
                task_header(t, out)?;
                let socks = match task_sockets(session, t.addr) {
                    Ok(s) => s,
                    Err(e) => {
                        super::report_task_error(out, "net", t, e)?;
                        continue;
                    }
                };
                if socks.is_empty() {
                    writeln!(out, "No open sockets.")?;
                    continue;
                }
                writeln!(
                    out,
                    "FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT"
                )?;
                for k in socks {
                    writeln!(out, "{}", socket_line(&k).trim_end())?;
                }
            }
            return Ok(());
        }
        let (devs, warnings) = net_devices(session)?;
        writeln!(out, "   NET_DEVICE     NAME       IP ADDRESS(ES)")?;
        for d in devs {
            let mut ips: Vec<String> = d.ipv4.iter().map(|a| a.to_string()).collect();
            ips.extend(
                ipv6_addresses(session, d.addr)
                    .iter()
                    .map(|a| a.to_string()),
            );
            writeln!(out, "{:016x}  {:<10} {}", d.addr, d.name, ips.join(", "))?;
        }
        for x in warnings {
            writeln!(out, "net: WARNING: {x}")?;
        }
        Ok(())
    }
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        let o = Opts::parse("net", args, "s", "", &[])?;
        if o.has("s") {
            let list = tasks::task_list(session)?;
            let mut all = Vec::new();
            for t in tasks_for(session, &list, &o.positional, "net")? {
                for k in task_sockets(session, t.addr)? {
                    let ap = |x: Option<(String, u16)>| match x {
                        Some((a, p)) => {
                            Data::map([("addr", Data::Str(a)), ("port", Data::Int(i64::from(p)))])
                        }
                        None => Data::Null,
                    };
                    all.push(Data::map([
                        ("pid", Data::Int(i64::from(t.pid))),
                        ("fd", Data::Int(k.fd as i64)),
                        ("socket", Data::addr(k.socket)),
                        ("sock", Data::addr(k.sock)),
                        ("family", Data::Str(k.family)),
                        ("type", Data::Str(k.kind)),
                        ("source", ap(k.source)),
                        ("dest", ap(k.dest)),
                    ]));
                }
            }
            return Ok(Data::List(all));
        }
        let (devs, _) = net_devices(session)?;
        Ok(Data::List(
            devs.into_iter()
                .map(|d| {
                    Data::map([
                        ("net_device", Data::addr(d.addr)),
                        ("name", Data::Str(d.name)),
                        (
                            "ipv4",
                            Data::List(d.ipv4.iter().map(|a| Data::Str(a.to_string())).collect()),
                        ),
                    ])
                })
                .collect(),
        ))
    }
}
