#!/usr/bin/env bash
# Benchmark: open a dump and print the system summary, rkdump vs crash vs drgn, on the same
# fixture dumps. Prints a Markdown table of wall time (hyperfine, mean ± σ) and peak RSS.
#
# usage: benches/compare.sh [DUMP_NAME...]     (default: live.elf live.mdf-zlib-d31)
# needs: the fixtures (tests/fixtures/make-fixtures.sh), hyperfine and crash (apt), drgn (pip).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
command -v crash >/dev/null || { apt-get update -qq && apt-get install -y -qq crash; }
venv=/var/cache/rkdump/venv
[ -x "$venv/bin/drgn" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q drgn; }

fix=$(bash tests/fixtures/make-fixtures.sh | tail -n1)
cargo build --release -q
rk=$PWD/target/release/rkdump
vmlinux=$fix/vmlinux
dumps=("$@")
[ ${#dumps[@]} -gt 0 ] || dumps=(live.elf live.mdf-zlib-d31)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/drgn_sys.py" <<'PY'
# The same facts rkdump's and crash's `sys` print, through drgn.
from drgn.helpers.linux.pid import for_each_task
uts = prog["init_uts_ns"].name
print("NODENAME", uts.nodename.string_().decode())
print("RELEASE", uts.release.string_().decode())
print("VERSION", uts.version.string_().decode())
print("JIFFIES", int(prog["jiffies_64"]))
print("LOAD", [int(x) for x in prog["avenrun"]])
print("TASKS", sum(1 for _ in for_each_task(prog)))
print("CPUS", int(prog["__num_online_cpus"].counter))
PY
printf 'sys\nq\n' > "$tmp/crash.in"

peak_rss() { /usr/bin/time -f %M "$@" >/dev/null 2>"$tmp/rss" || true; tail -n1 "$tmp/rss"; }

echo "| dump | tool | mean time (s) | peak RSS (MB) |"
echo "|---|---|---|---|"
for d in "${dumps[@]}"; do
  core=$fix/$d
  declare -A cmds=(
    [rkdump]="$rk -q $vmlinux $core -c sys"
    [crash]="crash -s $vmlinux $core -i $tmp/crash.in"
    [drgn]="$venv/bin/drgn -q -c $core -s $vmlinux --no-default-symbols $tmp/drgn_sys.py"
  )
  for tool in rkdump crash drgn; do
    hyperfine -N -i --warmup 1 --runs 5 --export-json "$tmp/h.json" "${cmds[$tool]}" >/dev/null 2>&1 || true
    mean=$(python3 -c "import json;r=json.load(open('$tmp/h.json'))['results'][0];print(f\"{r['mean']:.3f} ± {r['stddev']:.3f}\")" 2>/dev/null || echo n/a)
    # shellcheck disable=SC2086
    rss=$(peak_rss ${cmds[$tool]} < /dev/null)
    echo "| $d | $tool | $mean | $(( ${rss:-0} / 1024 )) |"
  done
done
