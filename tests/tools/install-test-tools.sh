#!/usr/bin/env bash
# Installs the tools the tests drive or compare against: tmux (REPL tests), Debian's crash
# (cross-checks), hyperfine (benchmarks) and drgn from PyPI in /var/cache/rkdump/venv.
# Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in tmux crash hyperfine python3-venv; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
venv=/var/cache/rkdump/venv
if [ ! -x "$venv/bin/drgn" ]; then
  mkdir -p /var/cache/rkdump
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q drgn
fi
