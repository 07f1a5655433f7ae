# drgn's equivalent of `rkdump ... -c nfsshow --rpctasks` for the benchmark in benches/nfs.sh:
# every NFS mount (device, mount point, version, rsize/wsize, timeo, retrans, hard/soft, the
# transport's address and protocol) and every RPC task of every RPC client (sunrpc_net's
# all_clients, each client's cl_tasks) with its procedure name (tk_msg.rpc_proc->p_name),
# status, owner and age, then the tasks in D state with the RPC tasks they started (tk_owner).
#
# usage: drgn -c VMCORE -s VMLINUX benches/drgn_nfs.py
from drgn import Object, cast
from drgn.helpers.linux.fs import for_each_mount, d_path
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char

jiffies = prog["jiffies"].value_()
hz = 250  # CONFIG_HZ of the Debian cloud kernels (drgn has no kernel.hz)
now = prog["tk_core"].timekeeper.tkr_mono.base.value_()


def net_generic(net, id_name):
    i = prog[id_name].value_()
    return net.gen.ptr[i]


mounts = 0
for mnt in for_each_mount(prog):
    sb = mnt.mnt.mnt_sb
    fstype = sb.s_type.name.string_().decode()
    if fstype not in ("nfs", "nfs4"):
        continue
    mounts += 1
    server = cast("struct nfs_server *", sb.s_fs_info)
    clp = server.nfs_client
    clnt = server.client
    to = clnt.cl_timeout
    xprt = clnt.cl_xprt
    vers = clp.rpc_ops.version.value_()
    print(f"{mnt.mnt_devname.string_().decode()} on {d_path(mnt.mnt.address_of_(), mnt.mnt.mnt_root).decode()} "
          f"type {fstype} vers={vers}.{clp.cl_minorversion.value_()} rsize={server.rsize.value_()} "
          f"wsize={server.wsize.value_()} {'soft' if clnt.cl_softrtry else 'hard'} "
          f"proto={xprt.address_strings[5].string_().decode()} timeo={to.to_initval.value_() * 10 // hz} "
          f"retrans={to.to_retries.value_()} addr={xprt.address_strings[0].string_().decode()}")

sn = cast("struct sunrpc_net *", net_generic(prog["init_net"], "sunrpc_net_id"))
owners = {}
ntasks = 0
for clnt in list_for_each_entry("struct rpc_clnt", sn.all_clients.address_of_(), "cl_clients"):
    prog_name = clnt.cl_program.name.string_().decode()
    for t in list_for_each_entry("struct rpc_task", clnt.cl_tasks.address_of_(), "tk_task"):
        ntasks += 1
        p = t.tk_msg.rpc_proc
        proc = p.p_name.string_().decode() if p and p.p_name else "NULL"
        age = (now - t.tk_start.value_()) // 1000000
        owner = t.tk_owner.value_()
        owners.setdefault(owner, []).append(proc)
        print(f"  rpc_task {t.tk_pid.value_()} clnt {clnt.cl_clid.value_()} {prog_name}v{clnt.cl_vers.value_()} "
              f"{proc} status={t.tk_status.value_()} age={age}ms owner={owner}")
for task in for_each_task(prog):
    if task_state_to_char(task) != "D":
        continue
    tgid = task.tgid.value_()
    if tgid in owners:
        print(f"  pid {task.pid.value_()} {task.comm.string_().decode()} waits on RPC {', '.join(owners[tgid])}")
print(f"{mounts} NFS mounts, {ntasks} RPC tasks")
