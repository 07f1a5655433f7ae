#!/usr/bin/env bash
# Benchmark: the SCSI report. Each `rkdump VMLINUX DUMP -c "scsishow MODE"` mode side by side
# with drgn-tools' corelens `scsiinfo` (hosts, devices, in-flight commands, targets) on the
# same dump, in one hyperfine run. Each tool is started fresh: open, work, exit. Prints
# hyperfine's Markdown table (mean ± σ).
#
# usage: benches/scsi.sh [DUMP_NAME]     (default: storage.elf)
# needs: the fixtures (tests/fixtures/make-fixtures.sh), hyperfine, drgn
# (tests/tools/install-drgn.sh). corelens runs from a drgn-tools source checkout given by
# $DRGN_TOOLS_SRC (default /var/cache/rkdump/drgn-tools-src), with PYTHONPATH, and is left
# out when absent (see benches/hang.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
core=$fix/${1:-storage.elf}
"$rk" -q "$vmlinux" "$core" -c scsishow | grep -q "^host0 " \
  || { echo "rkdump scsishow failed" >&2; exit 1; }

cmds=()
for mode in -s -d -T -c -q -p --check "--check --json"; do
  cmds+=(-n "rkdump scsishow $mode" "$rk -q $vmlinux $core -c 'scsishow $mode'")
done
dt=${DRGN_TOOLS_SRC:-/var/cache/rkdump/drgn-tools-src}
if [ -f "$dt/drgn_tools/corelens.py" ]; then
  # corelens finds the vmlinux through -d (a directory of debuginfo files).
  cl="env PYTHONPATH=$dt $venv/bin/python -m drgn_tools.corelens $core -d $fix"
  cmds+=(-n "corelens -M scsiinfo (default: -s -d -q -t -v)" "$cl -M scsiinfo"
         -n "corelens -M scsiinfo -s" "$cl -M scsiinfo -s"
         -n "corelens -M scsiinfo -d" "$cl -M scsiinfo -d"
         -n "corelens -M scsiinfo -q" "$cl -M scsiinfo -q")
else
  echo "drgn-tools sources not found in $dt: corelens left out" >&2
fi
hyperfine -i --warmup 1 --runs "${RUNS:-10}" --export-markdown "$tmp/scsi.md" "${cmds[@]}" >&2
cat "$tmp/scsi.md"
