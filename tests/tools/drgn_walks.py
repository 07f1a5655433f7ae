# Prints container walks with drgn's helpers, for tests/value_walks.rs to compare with
# rkdump's walkers on the same dump:
#   drgn -q -c DUMP -s VMLINUX --no-default-symbols tests/tools/drgn_walks.py
# Output lines:
#   rbroot ROOT                  the rb_root walked: vmap_area_root, or (6.9+, where the busy
#                                vmap areas moved into per-node trees) vmap_nodes[0].busy.root
#   rbtree NODE                  in-order rb_node addresses of that tree
#   idr ID ENTRY                 idr_for_each(init_pid_ns.idr)
#   mm PID MM_MT                 address of the maple tree walked below
#   maple FIRST LAST ENTRY       mt_for_each(&task(pid 1)->mm->mm_mt)
#   task PID COMM                thread-group leaders on init_task.tasks
from drgn import cast
from drgn.helpers.linux.idr import idr_for_each
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.mapletree import mt_for_each
from drgn.helpers.linux.pid import find_task
from drgn.helpers.linux.rbtree import rbtree_inorder_for_each

try:
    root = prog["vmap_area_root"].address_of_()
except KeyError:
    root = prog["vmap_nodes"][0].busy.root.address_of_()
print("rbroot %x" % root.value_())
for node in rbtree_inorder_for_each(root):
    print("rbtree %x" % node.value_())
for i, entry in idr_for_each(prog["init_pid_ns"].idr.address_of_()):
    print("idr %d %x" % (i, entry.value_()))
t = find_task(prog, 1)
mt = t.mm.mm_mt.address_of_()
print("mm 1 %x" % mt.value_())
for first, last, entry in mt_for_each(mt):
    print("maple %x %x %x" % (first, last, entry.value_()))
for t in list_for_each_entry("struct task_struct", prog["init_task"].tasks.address_of_(), "tasks"):
    print("task %d %s" % (t.pid.value_(), t.comm.string_().decode()))
