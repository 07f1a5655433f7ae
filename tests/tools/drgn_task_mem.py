# Prints, as JSON, drgn's memory figures of every user task of the dump drgn was started on:
# {pid: {"rss_kb", "vsz_kb"}} with drgn's task_rss() (mm counters plus the per-thread
# SPLIT_RSS_COUNTING deltas, file + anon + shmem pages) and task_vsize(), and "totalram_pages".
# Run by tests/tasks_real.rs:  drgn -q -c VMCORE -s VMLINUX --no-default-symbols drgn_task_mem.py
import json

from drgn.helpers.linux.mm import task_rss, task_vsize, totalram_pages
from drgn.helpers.linux.pid import for_each_task

out = {"tasks": {}, "totalram_pages": totalram_pages(prog)}  # noqa: F821 (drgn provides prog)
for t in for_each_task(prog):  # noqa: F821
    if not t.mm:
        continue
    out["tasks"][str(t.pid.value_())] = {
        "rss_kb": task_rss(t).total * 4,
        "vsz_kb": task_vsize(t) // 1024,
    }
print(json.dumps(out))
