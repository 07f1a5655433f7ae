#!/usr/bin/env bash
# Benchmark: the network analyzer. `rkdump VMLINUX DUMP -c "xportshow -a"`, `-v` and
# `--summary` side by side with benches/drgn_net.py (drgn walking the same hashes: TCP lhash2
# and ehash, udp_table, raw, per-namespace UNIX hash and packet list, owners from every task's
# open files) in the same modes, in one hyperfine run on the `net` fixture dump. Each tool is
# started fresh: open, work, exit. Prints hyperfine's Markdown table (mean ± σ).
#
# usage: benches/net.sh [DUMP_NAME]     (default: net.elf)
# needs: the fixtures (tests/fixtures/make-fixtures.sh), hyperfine, drgn
# (tests/tools/install-drgn.sh). corelens (drgn-tools) has no system-wide socket table, so it
# is not compared.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
core=$fix/${1:-net.elf}
"$rk" -q "$vmlinux" "$core" -c "xportshow -a" | grep -q "LISTEN" \
  || { echo "rkdump xportshow failed" >&2; exit 1; }
drgn="$venv/bin/drgn -q -c $core -s $vmlinux --no-default-symbols benches/drgn_net.py"
$drgn -a | grep -q "sockets" || { echo "drgn_net.py failed" >&2; exit 1; }

cmds=()
for m in -a -v --summary; do
  cmds+=(-n "rkdump xportshow $m" "$rk -q $vmlinux $core -c 'xportshow $m'"
         -n "drgn drgn_net.py $m" "$drgn $m")
done
hyperfine -N -i --warmup 1 --runs "${RUNS:-10}" --export-markdown "$tmp/net.md" "${cmds[@]}" >&2
cat "$tmp/net.md"
