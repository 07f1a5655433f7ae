#!/usr/bin/env bash
# Benchmark: the NFS report. `rkdump VMLINUX DUMP -c 'nfsshow --rpctasks'` side by side with
# benches/drgn_nfs.py (the same NFS mounts with their options, every RPC task with its
# procedure, and the D-state tasks that started them) in one hyperfine run. Each tool is
# started fresh: open, work, exit. Prints hyperfine's Markdown table (mean ± σ).
#
# usage: benches/nfs.sh [DUMP_NAME]     (default: nfs.elf)
# needs: the fixtures (tests/fixtures/make-fixtures.sh), hyperfine, drgn
# (tests/tools/install-drgn.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
core=$fix/${1:-nfs.elf}
"$rk" -q "$vmlinux" "$core" -c "nfsshow --rpctasks" | grep -c "RPC tasks" >/dev/null \
  || { echo "rkdump nfsshow failed" >&2; exit 1; }
"$venv/bin/drgn" -q -c "$core" -s "$vmlinux" benches/drgn_nfs.py \
  | grep -c "RPC tasks" >/dev/null || { echo "drgn_nfs.py failed" >&2; exit 1; }

cmds=(
  -n "rkdump nfsshow --rpctasks" "$rk -q $vmlinux $core -c 'nfsshow --rpctasks'"
  -n "drgn drgn_nfs.py" "$venv/bin/drgn -q -c $core -s $vmlinux benches/drgn_nfs.py"
)
hyperfine -N -i --warmup 1 --runs "${RUNS:-10}" --export-markdown "$tmp/nfs.md" "${cmds[@]}" >&2
cat "$tmp/nfs.md"
