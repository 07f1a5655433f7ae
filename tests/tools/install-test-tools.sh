#!/usr/bin/env bash
# Installs the tools the tests drive or compare against: tmux (REPL tests), Debian's crash
# (cross-checks), hyperfine (benchmarks) and drgn from PyPI (install-drgn.sh).
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
bash "$(dirname "$0")/install-drgn.sh"
