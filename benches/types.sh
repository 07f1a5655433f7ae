#!/bin/bash
# Types and values benchmark, rkdump side by side with drgn on the same dump (not a timed test):
#   1. cold open: DWARF index built from scratch (empty RKDUMP_CACHE) + `whatis task_struct`;
#      drgn has no persistent index, so every drgn run is cold
#   2. warm re-open: the same with rkdump's index cache in place
#   3. `whatis task_struct` (warm) vs drgn's `prog.type("struct task_struct")`
#   4. benches/values.rs: 10 000-element list walk reading three members, Value vs raw reads,
#      one member read vs one raw read; benches/drgn_values.py: the same walk with drgn
# Usage: benches/types.sh [FIXTURE_DIR]   (needs hyperfine, drgn from tests/tools/install-drgn.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
F=${1:-${RKDUMP_BENCH_DIR:-/var/cache/rkdump/fixtures/6.1.0-56-cloud-amd64}}
DRGN=${DRGN:-/var/cache/rkdump/venv/bin/drgn}
cargo build --release --quiet
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=$(mktemp -d)/rkdump
cp "$TARGET/release/rkdump" "$BIN"
CACHE=$(mktemp -d)
RK="$BIN -q $F/vmlinux $F/live.elf"
DG="$DRGN -q -c $F/live.elf -s $F/vmlinux --no-default-symbols"
hyperfine -N --runs 5 --export-markdown /tmp/rkdump-bench-cold.md \
  --prepare "rm -rf $CACHE/idx" \
  -n "rkdump cold (index built, whatis task_struct)" "env RKDUMP_CACHE=$CACHE/idx $RK -c 'whatis task_struct'" \
  -n "drgn (whatis task_struct)" "$DG -e 'prog.type(\"struct task_struct\")'"
env RKDUMP_CACHE=$CACHE/idx $RK -c 'whatis task_struct' > /dev/null
hyperfine -N --warmup 2 --runs 20 --export-markdown /tmp/rkdump-bench-warm.md \
  -n "rkdump warm re-open (sys)" "env RKDUMP_CACHE=$CACHE/idx $RK -c 'p jiffies'" \
  -n "rkdump warm whatis task_struct" "env RKDUMP_CACHE=$CACHE/idx $RK -c 'whatis task_struct'" \
  -n "drgn open + p jiffies" "$DG -e 'prog[\"jiffies\"]'"
cat /tmp/rkdump-bench-cold.md /tmp/rkdump-bench-warm.md
RKDUMP_BENCH_DIR=$F RKDUMP_CACHE=$CACHE/idx cargo bench --quiet --bench values
$DG benches/drgn_values.py
rm -rf "$CACHE" "$(dirname "$BIN")"
