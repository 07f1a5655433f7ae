# drgn's equivalent of `rkdump ... -c "xportshow -a|-v|--summary"` for benches/net.sh: the same
# hashes walked the same way: per network namespace the TCP listening (lhash2) and established
# (ehash, with TIME_WAIT and request sockets) hashes, udp_table, raw_v4/v6_hashinfo, the
# namespace's UNIX hash and packet list; each socket's owners from every task's open files;
# netstat-like lines, `-v` TCP details, `--summary` counts per state and the same findings.
#
# usage: drgn -c VMCORE -s VMLINUX benches/drgn_net.py [-a | -v | --summary]
import sys
from collections import Counter

from drgn import Object, cast, container_of
from drgn.helpers.linux.fs import for_each_file
from drgn.helpers.linux.list import hlist_for_each_entry
from drgn.helpers.linux.list_nulls import hlist_nulls_for_each_entry
from drgn.helpers.linux.net import for_each_net
from drgn.helpers.linux.pid import for_each_task

mode = sys.argv[1] if len(sys.argv) > 1 else "-a"
STATES = ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
          "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"]
socket_fops = prog["socket_file_ops"].address_of_()


def ip4(be):
    v = be.value_()
    return ".".join(str((v >> s) & 0xFF) for s in (0, 8, 16, 24))


def ip6(a):
    b = a.in6_u.u6_addr8.value_()
    import ipaddress
    return str(ipaddress.IPv6Address(bytes(b)))


def addrs(skc):
    if skc.skc_family.value_() == 10:
        return ip6(skc.skc_v6_rcv_saddr), ip6(skc.skc_v6_daddr)
    return ip4(skc.skc_rcv_saddr), ip4(skc.skc_daddr)


def ino(sk):
    so = sk.sk_socket
    if not so.value_():
        return 0
    return container_of(so, "struct socket_alloc", "socket").vfs_inode.i_ino.value_()


def owners():
    m = {}
    for t in for_each_task(prog):
        if t.pid.value_() != t.tgid.value_() or not t.files.value_():
            continue
        for fd, f in for_each_file(t):
            if f.f_op.value_() != socket_fops.value_():
                continue
            sk = cast("struct socket *", f.private_data).sk.value_()
            m.setdefault(sk, []).append(f"{t.pid.value_()}/{t.comm.string_().decode()}")
    return m


def nonempty(base, n, nulls):
    for i in range(n):
        h = base[i]
        first = (h.chain.first if nulls == "ehash" else h.nulls_head.first if nulls == "lhash"
                 else h.head.first if nulls == "udp" else h.first).value_()
        if first and not (nulls in ("ehash", "lhash") and first & 1):
            yield h


def rows():
    out = []
    h = prog["tcp_hashinfo"]
    for b in nonempty(h.lhash2, h.lhash2_mask.value_() + 1, "lhash"):
        for skc in hlist_nulls_for_each_entry("struct sock_common", b.nulls_head.address_of_(), "skc_nulls_node"):
            out.append(("tcp", skc))
    for b in nonempty(h.ehash, h.ehash_mask.value_() + 1, "ehash"):
        for skc in hlist_nulls_for_each_entry("struct sock_common", b.chain.address_of_(), "skc_nulls_node"):
            out.append(("tcp", skc))
    t = prog["udp_table"]
    for b in nonempty(t.hash, t.mask.value_() + 1, "udp"):
        for skc in hlist_for_each_entry("struct sock_common", b.head.address_of_(), "skc_node"):
            out.append(("udp", skc))
    for sym in ("raw_v4_hashinfo", "raw_v6_hashinfo"):
        r = prog[sym]
        for b in nonempty(r.ht, 256, "raw"):
            for skc in hlist_for_each_entry("struct sock_common", b.address_of_(), "skc_node"):
                out.append(("raw", skc))
    for net in for_each_net(prog):
        bk = net.unx.table.buckets
        for b in nonempty(bk, 512, "raw"):
            for skc in hlist_for_each_entry("struct sock_common", b.address_of_(), "skc_node"):
                out.append(("unix", skc))
        for skc in hlist_for_each_entry("struct sock_common", net.packet.sklist.address_of_(), "skc_node"):
            out.append(("packet", skc))
    return out


own = owners()
lines, counts, findings = [], Counter(), []
for proto, skc in rows():
    st = skc.skc_state.value_()
    sk = cast("struct sock *", skc)
    rx = tx = 0
    detail = None
    if proto == "tcp":
        if st == 6:
            st = cast("struct inet_timewait_sock *", sk).tw_substate.value_()
        elif st == 12:
            st = 3
        else:
            tp = cast("struct tcp_sock *", sk)
            tx = (tp.write_seq.value_() - tp.snd_una.value_()) & 0xFFFFFFFF
            rx = (sk.sk_ack_backlog.value_() if st == 10 else
                  (tp.rcv_nxt.value_() - tp.copied_seq.value_()) & 0xFFFFFFFF)
            icsk = tp.inet_conn
            detail = dict(snd_wnd=tp.snd_wnd.value_(), rcv_wnd=tp.rcv_wnd.value_(),
                          cwnd=tp.snd_cwnd.value_(), rto=icsk.icsk_rto.value_(),
                          retrans=icsk.icsk_retransmits.value_(), rout=tp.retrans_out.value_(),
                          ack=sk.sk_ack_backlog.value_(), max=sk.sk_max_ack_backlog.value_(),
                          rmem=sk.sk_backlog.rmem_alloc.counter.value_(), rcvbuf=sk.sk_rcvbuf.value_())
            if st == 10 and detail["ack"] > detail["max"]:
                findings.append("listen_queue_full")
            if st == 1 and detail["snd_wnd"] == 0 and tx > 0:
                findings.append("zero_window")
            if detail["retrans"] or detail["rout"]:
                findings.append("retransmitting")
    elif proto in ("udp", "raw"):
        rx = sk.sk_backlog.rmem_alloc.counter.value_()
        if proto == "udp" and rx * 4 >= sk.sk_rcvbuf.value_() * 3:
            findings.append("udp_rcvbuf_full")
    fam = skc.skc_family.value_()
    if fam in (2, 10):
        la, ra = addrs(skc)
        line = (f"{proto}{'6' if fam == 10 else ''} {rx} {tx} {la}:{skc.skc_num.value_()} "
                f"{ra}:{int.from_bytes(skc.skc_dport.value_().to_bytes(2, 'little'), 'big')} "
                f"{STATES[st] if proto == 'tcp' else ''}")
    else:
        line = f"{proto} {rx} inode {ino(sk) if proto != 'tcp' else 0}"
    if proto == "tcp" and detail is None:
        pass
    line += " " + ",".join(own.get(sk.value_(), ["-"]))
    counts[(proto, STATES[st] if proto == "tcp" else "")] += 1
    lines.append(line)
    if mode == "-v" and detail:
        lines.append("    " + " ".join(f"{k} {v}" for k, v in detail.items()))

if mode == "--summary":
    for (p, s), n in sorted(counts.items()):
        print(f"{p:8} {s:12} {n}")
    for f in findings:
        print("WARNING", f)
else:
    print("\n".join(lines))
print(f"{sum(counts.values())} sockets")
