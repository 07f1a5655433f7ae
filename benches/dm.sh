#!/usr/bin/env bash
# Benchmark: the device-mapper report. `rkdump VMLINUX DUMP -c "dmshow ..."` (the map list,
# --table, -ll and --check) side by side with drgn-tools' corelens `-M dm` and
# `-M multipath` on the storage dump, in one hyperfine run. Each tool is started fresh: open,
# work, exit. Prints hyperfine's Markdown table (mean ± σ).
#
# usage: benches/dm.sh [DUMP_NAME]     (default: storage.elf)
# needs: the fixtures (tests/fixtures/make-fixtures.sh), hyperfine, drgn
# (tests/tools/install-drgn.sh), drgn-tools sources in $DRGN_TOOLS_SRC (default
# /var/cache/rkdump/drgn-tools-src; not on PyPI), run with PYTHONPATH as benches/hang.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
core=$fix/${1:-storage.elf}
"$rk" -q "$vmlinux" "$core" -c "dmshow --table" | grep -q "multipath" \
  || { echo "rkdump dmshow --table failed" >&2; exit 1; }

cmds=(
  -n "rkdump dmshow" "$rk -q $vmlinux $core -c dmshow"
  -n "rkdump dmshow --table" "$rk -q $vmlinux $core -c 'dmshow --table'"
  -n "rkdump dmshow -ll" "$rk -q $vmlinux $core -c 'dmshow -ll'"
  -n "rkdump dmshow --check" "$rk -q $vmlinux $core -c 'dmshow --check'"
)
dt=${DRGN_TOOLS_SRC:-/var/cache/rkdump/drgn-tools-src}
if [ -f "$dt/drgn_tools/corelens.py" ]; then
  # corelens finds the vmlinux and the modules' debuginfo through -d.
  cl="env PYTHONPATH=$dt $venv/bin/python -m drgn_tools.corelens $core -d $fix"
  cmds+=(-n "corelens -M dm" "$cl -M dm" -n "corelens -M multipath" "$cl -M multipath")
else
  echo "drgn-tools sources not found in $dt: corelens left out" >&2
fi
hyperfine -N -i --warmup 1 --runs "${RUNS:-10}" --export-markdown "$tmp/dm.md" "${cmds[@]}" >&2
cat "$tmp/dm.md"
