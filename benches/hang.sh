#!/usr/bin/env bash
# Benchmark: the hung-task report. `rkdump VMLINUX DUMP -c hanginfo` side by side with drgn
# equivalents in one hyperfine run: benches/drgn_hang.py (every D-state task, its stack and
# the owner of the mutex/rwsem it waits on) and, when its sources are there, drgn-tools'
# corelens (`-M lock` and the standard report `-a`). Each tool is started fresh: open, work,
# exit. Prints hyperfine's Markdown table (mean ± σ).
#
# usage: benches/hang.sh [DUMP_NAME]     (default: live.elf)
# needs: the fixtures (tests/fixtures/make-fixtures.sh), hyperfine, drgn
# (tests/tools/install-drgn.sh). drgn-tools is not on PyPI: corelens runs from a source
# checkout given by $DRGN_TOOLS_SRC (default /var/cache/rkdump/drgn-tools-src), with
# PYTHONPATH, and is left out when absent. It wants drgn < 0.1.1 but runs on drgn 0.3.0;
# corelens exits non-zero on this dump (modules for absent drivers fail), hence `-i`.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
core=$fix/${1:-live.elf}
"$rk" -q "$vmlinux" "$core" -c hanginfo | grep -q "uninterruptible" \
  || { echo "rkdump hanginfo failed" >&2; exit 1; }
"$venv/bin/drgn" -q -c "$core" -s "$vmlinux" --no-default-symbols benches/drgn_hang.py \
  | grep -q "tasks in D state" || { echo "drgn_hang.py failed" >&2; exit 1; }

cmds=(
  -n "rkdump hanginfo" "$rk -q $vmlinux $core -c hanginfo"
  -n "drgn drgn_hang.py" "$venv/bin/drgn -q -c $core -s $vmlinux --no-default-symbols benches/drgn_hang.py"
)
dt=${DRGN_TOOLS_SRC:-/var/cache/rkdump/drgn-tools-src}
if [ -f "$dt/drgn_tools/corelens.py" ]; then
  # corelens finds the vmlinux through -d (a directory of debuginfo files).
  cl="env PYTHONPATH=$dt $venv/bin/python -m drgn_tools.corelens $core -d $fix"
  cmds+=(-n "corelens -M lock" "$cl -M lock" -n "corelens -a" "$cl -a")
else
  echo "drgn-tools sources not found in $dt: corelens left out" >&2
fi
hyperfine -N -i --warmup 1 --runs "${RUNS:-10}" --export-markdown "$tmp/hang.md" "${cmds[@]}" >&2
cat "$tmp/hang.md"
