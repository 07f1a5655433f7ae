#!/usr/bin/env python3
"""Produces the golden layout file tests/golden/vmlinux-layouts.json with drgn, the independent
source the DWARF type index is checked against (tests/dwarf_vmlinux.rs).

For each struct/union below: its size, and for every member reachable by a dotted path of at
most two named components (looking through anonymous struct/union members, as rkdump's
`TypeIndex::member` does): bit offset from the start of the type, bitfield width, and the member
type's C spelling. Also a few globals (address, type) and enumerators.

A module's .ko (relocatable; drgn applies its relocations) works the same, with the type,
global and enumerator lists given on the command line:
    drgn_layouts.py scsi_mod.ko --types "struct scsi_device,struct Scsi_Host" \
        --globals scsi_bus_type --enumerators SDEV_RUNNING > tests/golden/scsi_mod-layouts.json

Usage (drgn from PyPI in a venv of its own; made with drgn 0.3.0):
    python3 -m venv /var/cache/rkdump-drgn-venv
    /var/cache/rkdump-drgn-venv/bin/pip install drgn
    /var/cache/rkdump-drgn-venv/bin/python tests/tools/drgn_layouts.py \
        /usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64 > tests/golden/vmlinux-layouts.json

drgn is given the vmlinux as the debug file of an "extra module" (no core dump, no running
kernel), which makes it read types and variables from that file alone.
"""

import argparse
import json
import sys

import drgn

TYPES = [
    "struct task_struct", "struct mm_struct", "struct vm_area_struct", "struct inode",
    "struct super_block", "struct dentry", "struct file", "struct path", "struct vfsmount",
    "struct mount", "struct request_queue", "struct gendisk", "struct block_device", "struct bio",
    "struct request", "struct sock", "struct tcp_sock", "struct inet_sock", "struct sk_buff",
    "struct net_device", "struct net", "struct page", "struct folio", "struct rq", "struct cfs_rq",
    "struct sched_entity", "struct sched_avg", "struct list_head", "struct hlist_head",
    "struct hlist_node", "struct rb_node", "struct rb_root", "struct pid", "struct pid_namespace",
    "struct uts_namespace", "struct new_utsname", "struct nsproxy", "struct cred",
    "struct files_struct", "struct fdtable", "struct signal_struct", "struct sighand_struct",
    "struct thread_struct", "struct pt_regs", "struct mutex", "struct rw_semaphore",
    "struct spinlock", "struct wait_queue_head", "struct timer_list", "struct hrtimer",
    "struct work_struct", "struct workqueue_struct", "struct kmem_cache", "struct zone",
    "struct pglist_data", "struct module", "struct kobject", "struct device",
    "struct address_space", "struct xarray", "struct idr", "struct socket",
    "struct scsi_device", "struct Scsi_Host", "struct irq_desc", "struct task_group",
    "struct cgroup", "struct css_set", "struct kernfs_node", "struct mem_cgroup", "struct upid",
    "struct qstr", "struct super_operations", "struct printk_ringbuffer", "struct prb_desc",
    "struct timekeeper", "struct kernel_param", "struct percpu_counter",
    "union thread_union", "union ktime", "union bpf_attr", "struct bpf_prog",
]

GLOBALS = [
    "init_task", "init_mm", "init_uts_ns", "runqueues", "linux_banner", "nr_cpu_ids",
    "__per_cpu_offset", "init_pid_ns", "modules", "super_blocks", "init_net", "jiffies_64",
    "prb", "vmcoreinfo_note", "init_nsproxy", "system_wq", "cpu_number", "current_task",
    "page_offset_base", "vmemmap_base", "phys_base", "tk_core", "init_files",
]

ENUMERATORS = [
    "PIDTYPE_PID", "PIDTYPE_TGID", "PIDTYPE_MAX", "TASK_COMM_LEN", "ZONE_NORMAL",
    "NR_FREE_PAGES", "CPUHP_ONLINE", "MODULE_STATE_LIVE", "TCP_ESTABLISHED", "__MAX_NR_ZONES",
    "HRTIMER_BASE_MONOTONIC", "REQ_OP_READ", "SOCK_DEAD", "PG_locked", "PG_slab",
]


def is_anonymous_aggregate(t):
    t = t.unqualified()
    return t.kind in (drgn.TypeKind.STRUCT, drgn.TypeKind.UNION) and t.tag is None


def aggregate(t):
    while t.kind == drgn.TypeKind.TYPEDEF:
        t = t.type
    t = t.unqualified()
    while t.kind == drgn.TypeKind.TYPEDEF:
        t = t.type.unqualified()
    return t if t.kind in (drgn.TypeKind.STRUCT, drgn.TypeKind.UNION) else None


def flat_members(t, base=0):
    """Named members of aggregate t, looking through anonymous members: (name, bit offset, member)."""
    for m in t.members:
        if m.name is None:
            inner = aggregate(m.type)
            if inner is not None:
                yield from flat_members(inner, base + m.bit_offset)
            continue
        yield m.name, base + m.bit_offset, m


def walk(t, prefix, base, depth, out):
    seen = set()
    for name, off, m in flat_members(t, base):
        if name in seen:
            continue
        seen.add(name)
        path = prefix + name
        out.append({
            "path": path,
            "bit_offset": off,
            "bit_size": m.bit_field_size,
            "type": m.type.type_name(),
        })
        if depth > 1:
            inner = aggregate(m.type)
            if inner is not None and inner.tag is not None and m.bit_field_size is None:
                walk(inner, path + ".", off, depth - 1, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="vmlinux or module .ko with DWARF")
    ap.add_argument("--types", help="comma-separated type names (default: the vmlinux list)")
    ap.add_argument("--globals", default=None, help="comma-separated global names")
    ap.add_argument("--enumerators", default=None, help="comma-separated enumerator names")
    args = ap.parse_args()
    path = args.file
    split = lambda s: [x.strip() for x in s.split(",") if x.strip()] if s is not None else None
    types_list = split(args.types) or TYPES
    globals_list = split(args.globals) if args.globals is not None else (GLOBALS if not args.types else [])
    enum_list = split(args.enumerators) if args.enumerators is not None else (ENUMERATORS if not args.types else [])
    prog = drgn.Program(drgn.Platform(
        drgn.Architecture.X86_64,
        drgn.PlatformFlags.IS_64_BIT | drgn.PlatformFlags.IS_LITTLE_ENDIAN))
    mod = prog.extra_module("vmlinux", 0, create=True)
    if isinstance(mod, tuple):
        mod = mod[0]
    mod.loaded_file_status = drgn.ModuleFileStatus.DONT_WANT
    mod.try_file(path, force=True)
    types = {}
    missing = []
    for name in types_list:
        try:
            t = prog.type(name)
        except LookupError:
            missing.append(name)
            continue
        members = []
        walk(t, "", 0, 2, members)
        types[name] = {"size": t.size, "members": members}
    globals_ = {}
    for name in globals_list:
        try:
            o = prog.object(name)
        except LookupError:
            missing.append(name)
            continue
        globals_[name] = {"addr": o.address_, "type": o.type_.type_name()}
    enums = {}
    for name in enum_list:
        try:
            enums[name] = prog.constant(name).value_()
        except LookupError:
            missing.append(name)
    json.dump({
        "vmlinux": path.rsplit("/", 1)[-1],
        "build_id": mod.build_id.hex() if mod.build_id else None,
        "drgn_version": drgn.__version__,
        "missing": missing,
        "types": types,
        "globals": globals_,
        "enumerators": enums,
    }, sys.stdout, indent=0, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
