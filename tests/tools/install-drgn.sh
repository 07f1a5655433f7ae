#!/bin/sh
# Installs drgn (used by the stack-trace agreement tests and the benchmarks) into
# /var/cache/rkdump/venv. Idempotent: does nothing when drgn is already there.
set -eu
VENV=${RKDUMP_VENV:-/var/cache/rkdump/venv}
if [ -x "$VENV/bin/drgn" ]; then
    exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet drgn
"$VENV/bin/drgn" --version
