# Prints, as JSON, drgn's stack trace of every task (threads and each CPU's idle task) of the
# dump drgn was started on: {task address (hex): {"frames": [{"name", "pc", "start", "size"}]}}.
# Inline frames are left out (rkdump shows only real frames). Run by tests/tasks_real.rs:
#   drgn -q -c VMCORE -s VMLINUX --no-default-symbols drgn_stack_traces.py
import json
import sys

from drgn.helpers.linux.cpumask import for_each_possible_cpu
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import idle_task


def trace(task):
    frames = []
    try:
        st = prog.stack_trace(task)  # noqa: F821 (drgn provides prog)
    except Exception as e:  # a task drgn cannot unwind at all
        return {"error": str(e), "frames": []}
    for f in st:
        if f.is_inline:
            continue
        entry = {"name": None, "pc": f.pc, "start": None, "size": None}
        try:
            sym = f.symbol()
            entry.update(name=sym.name, start=sym.address, size=sym.size)
        except LookupError:
            pass
        frames.append(entry)
    return {"frames": frames}


tasks = list(for_each_task(prog))  # noqa: F821
seen = {t.value_() for t in tasks}
for cpu in for_each_possible_cpu(prog):  # noqa: F821
    t = idle_task(prog, cpu)  # noqa: F821
    if t.value_() not in seen:
        tasks.append(t)
        seen.add(t.value_())
json.dump({"%x" % t.value_(): trace(t) for t in tasks}, sys.stdout)
