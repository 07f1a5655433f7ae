#!/usr/bin/env bash
# Benchmark: two builds of rkdump side by side on the same dump, command by command (each run
# starts fresh: open, work, exit), so a refactor can show it did not get slower. Prints one
# Markdown table per command (hyperfine, mean ± σ) and a summary line with the ratio new/old.
#
# usage: benches/before_after.sh OLD_BINARY [DUMP_NAME]     (default dump: live.elf)
#        RKDUMP_BIN=NEW_BINARY benches/before_after.sh ...   (default: a release build of HEAD)
# needs: the fixtures (tests/fixtures/make-fixtures.sh), hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: benches/before_after.sh OLD_BINARY [DUMP_NAME]}
[ -x "$old" ] || { echo "not an executable: $old" >&2; exit 1; }
source benches/setup.sh
core=$fix/${2:-live.elf}
cp "$old" "$tmp/rkdump-old"

commands=("ps" "foreach bt" "bt -a" "files 1" "mount" "net" "runq" "mod" "log" "p jiffies"
          "hanginfo" "crashinfo")
printf '| command | old (ms) | new (ms) | new/old |\n|---|---|---|---|\n'
for c in "${commands[@]}"; do
  # Both builds must print the same thing, or the comparison means nothing.
  if ! cmp -s <("$tmp/rkdump-old" -q "$vmlinux" "$core" -c "$c" 2>&1) \
              <("$rk" -q "$vmlinux" "$core" -c "$c" 2>&1); then
    echo "| $c | output differs between the builds | | |"
    continue
  fi
  hyperfine -N -w 2 -r 10 --export-json "$tmp/h.json" \
    -n old "$tmp/rkdump-old -q $vmlinux $core -c '$c'" \
    -n new "$rk -q $vmlinux $core -c '$c'" >/dev/null 2>&1
  python3 - "$tmp/h.json" "$c" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
o, n = r["old"], r["new"]
f = lambda x: f'{x["mean"] * 1000:.1f} ± {x["stddev"] * 1000:.1f}'
print(f'| {sys.argv[2]} | {f(o)} | {f(n)} | {n["mean"] / o["mean"]:.2f} |')
PY
done
