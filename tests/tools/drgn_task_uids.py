# Prints {pid: real uid} of every task as JSON; run by `drgn -c DUMP -s VMLINUX` (tests/analyzers.rs).
import json

from drgn.helpers.linux.pid import for_each_task

out = {}
for t in for_each_task(prog):
    out[int(t.pid)] = int(t.real_cred.uid.val)
print(json.dumps(out))
