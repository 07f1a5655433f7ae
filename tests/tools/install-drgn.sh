#!/bin/sh
# Installs drgn into /var/cache/rkdump/venv for the cross-check tests (tests/value_*.rs) and
# benches/types.sh. Idempotent. Called from .ci/run.
set -eu
VENV=${RKDUMP_DRGN_VENV:-/var/cache/rkdump/venv}
if [ -x "$VENV/bin/drgn" ]; then exit 0; fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet drgn
