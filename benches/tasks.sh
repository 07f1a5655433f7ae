#!/usr/bin/env bash
# Benchmark: tasks and stacks. `ps`, `bt -a`, and the backtrace of every task, rkdump vs drgn
# vs crash on the same fixture dumps (each tool started fresh: open, work, exit). Prints a
# Markdown table of wall time (hyperfine, mean ± σ). When crash 8.0.6 is built
# (benches/build-crash.sh, or $CRASH806), it is an extra column; a run of it that does not
# print the expected output (it stops at start-up on dumps whose CPU 0 was stopped on an
# entry-area stack) shows as "fails".
#
# usage: benches/tasks.sh [DUMP_NAME...]     (default: live.elf panic.elf live.mdf-zlib-d31)
# needs: the fixtures (tests/fixtures/make-fixtures.sh), hyperfine, crash (apt), drgn
# (tests/tools/install-drgn.sh). crash 8.0.2's task list is broken on this 6.1 kernel and its
# `bt` fails for CPUs stopped in the cpu_entry_area: its rows time what it does, not a
# successful result.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
dumps=("$@")
[ ${#dumps[@]} -gt 0 ] || dumps=(live.elf panic.elf live.mdf-zlib-d31)
out=$("$rk" -q "$vmlinux" "$fix/${dumps[0]}" -c 'foreach bt'); [[ $out == PID:* ]] || { echo "rkdump foreach bt failed" >&2; exit 1; }

cat > "$tmp/drgn_ps.py" <<'PY'
# What `ps` prints, through drgn: pid, ppid, cpu, task, state, comm of every task.
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_cpu, task_state_to_char
for t in for_each_task(prog):
    print(int(t.pid), int(t.real_parent.pid), task_cpu(t), hex(t.value_()),
          task_state_to_char(t), t.comm.string_().decode())
PY
cat > "$tmp/drgn_bt_a.py" <<'PY'
# What `bt -a` prints, through drgn: the stack of each CPU's current task.
from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.sched import cpu_curr
for cpu in for_each_online_cpu(prog):
    print(prog.stack_trace(cpu_curr(prog, cpu)))
PY
cat > "$tmp/drgn_bt_all.py" <<'PY'
# What `foreach bt` prints, through drgn: the stack of every task.
from drgn.helpers.linux.pid import for_each_task
for t in for_each_task(prog):
    print(prog.stack_trace(t))
PY
printf 'ps\nq\n' > "$tmp/crash_ps.in"
printf 'bt -a\nq\n' > "$tmp/crash_bt_a.in"
printf 'foreach bt\nq\n' > "$tmp/crash_bt_all.in"

crash806=${CRASH806:-/var/cache/rkdump/crash-8.0.6/crash}
[ -x "$crash806" ] || crash806=
if [ -n "$crash806" ]; then
  echo "| dump | work | rkdump (s) | drgn (s) | crash 8.0.2 (s) | crash 8.0.6 (s) | drgn / rkdump |"
  echo "|---|---|---|---|---|---|---|"
else
  echo "| dump | work | rkdump (s) | drgn (s) | crash (s) | drgn / rkdump |"
  echo "|---|---|---|---|---|---|"
fi
time_of() {
  rm -f "$tmp/h.json"
  hyperfine -N -i --warmup 1 --runs "${RUNS:-5}" --export-json "$tmp/h.json" "$1" >/dev/null 2>&1 || true
  python3 -c "import json;r=json.load(open('$tmp/h.json'))['results'][0];print(f\"{r['mean']:.3f} ± {r['stddev']:.3f}\")" 2>/dev/null || echo n/a
}
# What each crash run must print for its timing to stand for the work.
crash_ok() {
  case $2 in
    ps) grep -q "PPID" "$1" && grep -Eq "^[> ] +1 +0 " "$1" ;;
    *) grep -q "^ *#1 " "$1" ;;
  esac
}
for d in "${dumps[@]}"; do
  core=$fix/$d
  for work in ps bt_a bt_all; do
    case $work in
      ps) rkc="ps"; label="ps" ;;
      bt_a) rkc="bt -a"; label="bt -a" ;;
      bt_all) rkc="foreach bt"; label="every task's backtrace" ;;
    esac
    r=$(time_of "$rk -q $vmlinux $core -c '$rkc'")
    g=$(time_of "$venv/bin/drgn -q -c $core -s $vmlinux --no-default-symbols $tmp/drgn_$work.py")
    c=$(time_of "crash -s $vmlinux $core -i $tmp/crash_$work.in")
    ratio=$(python3 -c "print(f'{float(\"${g%% *}\")/float(\"${r%% *}\"):.1f}x')" 2>/dev/null || echo n/a)
    if [ -n "$crash806" ]; then
      "$crash806" -s "$vmlinux" "$core" -i "$tmp/crash_$work.in" >"$tmp/c806.out" 2>&1 </dev/null || true
      if crash_ok "$tmp/c806.out" "$work"; then
        c6=$(time_of "$crash806 -s $vmlinux $core -i $tmp/crash_$work.in")
      else
        c6="fails"
      fi
      echo "| $d | $label | $r | $g | $c | $c6 | $ratio |"
    else
      echo "| $d | $label | $r | $g | $c | $ratio |"
    fi
  done
done
