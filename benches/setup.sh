# Sourced by the benchmark scripts (run from the repository root): checks hyperfine, installs
# drgn, builds or finds the fixtures, and puts a private copy of rkdump in a temporary
# directory (a shared target directory may be rebuilt meanwhile; $RKDUMP_BIN names an already
# built binary instead of building). Sets venv, fix, vmlinux, tmp (removed on exit) and rk.
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 1; }
venv=/var/cache/rkdump/venv
bash tests/tools/install-drgn.sh
fix=$(bash tests/fixtures/make-fixtures.sh | tail -n1)
vmlinux=$fix/vmlinux
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${RKDUMP_BIN:-}" ]; then
  cp "$RKDUMP_BIN" "$tmp/rkdump"
else
  cargo build --release -q
  cp "${CARGO_TARGET_DIR:-$PWD/target}/release/rkdump" "$tmp/rkdump"
fi
rk=$tmp/rkdump
