//! `net`: the network devices of the initial namespace (NET_DEVICE NAME IP ADDRESS(ES)), and
//! `net -s PID`: a task's sockets (FD SOCKET SOCK FAMILY:TYPE SOURCE-PORT DESTINATION-PORT),
//! as the kernel layer's `linux::net` reads them.

use super::files::{task_header, tasks_for};
use super::{Command, Data, Opts};
use crate::error::Result;
use crate::linux::net::{ipv6_addresses, net_devices, task_sockets, SocketInfo};
use crate::linux::sched;
use crate::session::Session;
use std::io::Write;

/// The `net` command.
pub struct Net;

const USAGE: &str = "\
net [-s [PID | TASK]...]
  (no option)  network devices of the initial namespace: struct net_device, name, IPv4 and
               IPv6 addresses
  -s           the sockets of each task: fd, struct socket, struct sock, family:type and the
               source and destination address-port";

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
            let list = sched::task_list(session)?;
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
            let list = sched::task_list(session)?;
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
