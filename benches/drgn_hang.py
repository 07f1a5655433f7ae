# drgn's equivalent of `rkdump ... -c hanginfo` for the benchmark in benches/hang.sh: every
# task in D state (TASK_UNINTERRUPTIBLE) with its stack, and for a task blocked in
# __mutex_lock / rwsem_down_{read,write}_slowpath the lock and its owner (the owner word with
# its flag bits, `owner & ~0x7`, is the owning task_struct; an rwsem owned by readers keeps
# the last reader there with RWSEM_READER_OWNED set). On PREEMPT_RT (a `struct mutex` with an
# `rtmutex`), the lock comes from task->pi_blocked_on->lock and the owner from the rt_mutex's
# owner (RT_MUTEX_HAS_WAITERS in bit 0); the enclosing mutex/rwsem/spinlock is not told apart.
#
# usage: drgn -c VMCORE -s VMLINUX benches/drgn_hang.py
from drgn import FaultError, Object, ObjectAbsentError
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char

MUTEX_FLAGS = 0x7
RWSEM_READER_OWNED = 0x1


def lock_of(frame):
    """The lock a blocked frame waits on, as (kind, object), or None."""
    name = frame.name or ""
    if name.startswith("__mutex_lock"):
        kind, var = "mutex", "lock"
    elif name.startswith("rwsem_down_"):
        kind, var = "rw_semaphore", "sem"
    else:
        return None
    try:
        obj = frame[var]
        obj.read_()
        return kind, obj
    except (KeyError, LookupError, ObjectAbsentError, FaultError):
        return kind, None


def owner_of(kind, lock):
    word = lock.owner.counter.value_() & 0xFFFFFFFFFFFFFFFF
    task = Object(prog, "struct task_struct *", word & ~MUTEX_FLAGS)
    if not task.value_():
        return "no owner"
    try:
        desc = f"owner {task.pid.value_()} {task.comm.string_().decode()} ({hex(task.value_())})"
    except FaultError:
        return f"owner word {word:#x} (unreadable task)"
    if kind == "rw_semaphore" and word & RWSEM_READER_OWNED:
        desc += " [reader-owned: last reader]"
    return desc


PREEMPT_RT = prog.type("struct mutex").has_member("rtmutex")


def rt_lock_of(task):
    """PREEMPT_RT: the rt_mutex_base a task is queued on and its owner, or None."""
    w = task.pi_blocked_on
    if not w.value_():
        return None
    base = w.lock
    owner = Object(prog, "struct task_struct *", base.owner.value_() & ~0x1)
    if not owner.value_():
        return f"rt_mutex {base.value_():#x}: no owner"
    return (f"rt_mutex {base.value_():#x}: owner {owner.pid.value_()} "
            f"{owner.comm.string_().decode()} ({hex(owner.value_())})")


count = 0
for task in for_each_task(prog):
    if task_state_to_char(task) != "D":
        continue
    count += 1
    print(f"PID: {task.pid.value_()}  TASK: {task.value_():#x}  COMMAND: "
          f"\"{task.comm.string_().decode()}\"")
    trace = prog.stack_trace(task)
    print(trace)
    if PREEMPT_RT:
        rt = rt_lock_of(task)
        if rt:
            print(f"  blocked on {rt}")
        print()
        continue
    for frame in trace:
        found = lock_of(frame)
        if found is None:
            continue
        kind, lock = found
        if lock is None:
            print(f"  blocked in {frame.name}: {kind} address not available in the frame")
        else:
            print(f"  blocked on {kind} {lock.value_():#x}: {owner_of(kind, lock)}")
        break
    print()
print(f"{count} tasks in D state")
