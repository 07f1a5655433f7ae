#!/usr/bin/env bash
# Installs drgn from PyPI into /var/cache/rkdump/venv (or $RKDUMP_DRGN_VENV) for the
# cross-check tests (value walks, stack traces) and the benchmarks. Idempotent.
set -euo pipefail
VENV=${RKDUMP_DRGN_VENV:-/var/cache/rkdump/venv}
if [ -x "$VENV/bin/drgn" ]; then exit 0; fi
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check drgn
"$VENV/bin/drgn" --version
