# drgn side of benches/values.rs: the same 10 000-element walk of init_task.tasks (round and
# round the 64-task list) reading pid, __state and comm; prints the time in ms.
# drgn -q -c DUMP -s VMLINUX --no-default-symbols benches/drgn_values.py
import time
from drgn.helpers.linux.list import list_for_each_entry

N = 10000
head = prog["init_task"].tasks.address_of_()
t0 = time.perf_counter()
n = 0
s = 0
while n < N:
    for t in list_for_each_entry("struct task_struct", head, "tasks"):
        s += t.pid.value_() + t.__state.value_() + len(t.comm.string_())
        n += 1
        if n == N:
            break
print("list walk %d x 3 members (drgn): %.2f ms" % (N, (time.perf_counter() - t0) * 1e3))
