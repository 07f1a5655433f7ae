#!/usr/bin/env bash
# Benchmark: scripting, rkdump (Rhai) vs drgn (Python) on the same dump, one run:
#   1. walk every task and read five members each;
#   2. one million member reads in a loop (init_task.se.avg.load_avg).
# Prints a Markdown table (hyperfine mean ± σ over 5 runs).
# usage: benches/script.sh [DUMP_NAME]   (default live.elf)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/tools/install-test-tools.sh
fix=$(bash tests/fixtures/make-fixtures.sh | tail -n1)
cargo build --release -q
rk=$PWD/target/release/rkdump
py=/var/cache/rkdump/venv/bin/drgn
dump=$fix/${1:-live.elf}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/tasks.rhai" <<'RHAI'
let n = 0;
for t in for_each_task() {
    let x = [t.pid, t.tgid, t.comm, t.prio, t.flags];
    n += 1;
}
print(n);
RHAI
cat > "$tmp/tasks.py" <<'PY'
from drgn.helpers.linux.pid import for_each_task
n = 0
for t in for_each_task(prog):
    x = (int(t.pid), int(t.tgid), t.comm.string_(), int(t.prio), int(t.flags))
    n += 1
print(n)
PY
cat > "$tmp/reads.rhai" <<'RHAI'
let t = read_symbol("init_task");
let s = 0;
for i in 0..1000000 { s += t.se.avg.load_avg; }
print(s);
RHAI
cat > "$tmp/reads.py" <<'PY'
t = prog["init_task"]
s = 0
for i in range(1000000):
    s += int(t.se.avg.load_avg)
print(s)
PY

row() {
  hyperfine -N -i --warmup 1 --runs 5 --export-json "$tmp/h.json" "$2" >/dev/null 2>&1 || true
  python3 -c "import json;r=json.load(open('$tmp/h.json'))['results'][0];print(f\"| $1 | {r['mean']:.3f} ± {r['stddev']:.3f} |\")"
}
echo "| work | mean time (s) |"
echo "|---|---|"
row "rkdump: every task, 5 members" "$rk -q $fix/vmlinux $dump -x $tmp/tasks.rhai"
row "drgn: every task, 5 members" "$py -q -c $dump -s $fix/vmlinux --no-default-symbols $tmp/tasks.py"
row "rkdump: 1 M member reads" "$rk -q $fix/vmlinux $dump -x $tmp/reads.rhai"
row "drgn: 1 M member reads" "$py -q -c $dump -s $fix/vmlinux --no-default-symbols $tmp/reads.py"
