#!/usr/bin/env bash
# Builds crash 8.0.6 (the first release whose task list works on Debian's 6.1.19x kernels;
# Debian bookworm's crash 8.0.2 cannot list tasks there) into /var/cache/rkdump/crash-8.0.6/.
# For benchmarks and manual comparisons only; CI never needs it. Idempotent: does nothing when
# the binary is already there. Prints the binary's path on its last line.
#
# usage: benches/build-crash.sh        (as root: installs build dependencies with apt-get)
# source: Debian trixie's crash_8.0.6 source package (its orig tarball bundles gdb).
set -euo pipefail
ver=8.0.6
dest=/var/cache/rkdump/crash-$ver
bin=$dest/crash
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

deps=(build-essential bison flex texinfo libncurses-dev zlib1g-dev liblzo2-dev libsnappy-dev
      libzstd-dev dpkg-dev wget)
missing=()
for p in "${deps[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
src_list=/etc/apt/sources.list.d/rkdump-trixie-src.list
if [ ! -f "$src_list" ]; then
  # The Debian mirror this machine already uses, for trixie's source packages.
  mirror=$(awk '/^URIs:/ && /debian\/?$/ { print $2; exit }' /etc/apt/sources.list.d/*.sources \
             2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2; exit }' \
                                  /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || { echo "no Debian mirror found in the apt sources" >&2; exit 1; }
  echo "deb-src $mirror trixie main" > "$src_list"
  apt-get update -q >&2
elif [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q >&2
fi
[ ${#missing[@]} -eq 0 ] || apt-get install -y -q "${missing[@]}" >&2

mkdir -p "$dest"
work=$dest/build
mkdir -p "$work"
cd "$work"
if ! ls crash_"$ver".orig*.tar.* >/dev/null 2>&1; then
  # The Debian revision of crash $ver in the source lists (apt-get wants an exact version).
  deb_ver=$(apt-cache showsrc crash | awk -v v="$ver" '$1 == "Version:" && index($2, v "-") == 1 { print $2; exit }')
  [ -n "$deb_ver" ] || { echo "no crash $ver source package in the apt lists" >&2; exit 1; }
  # Only the orig tarball is needed (apt checks its hash); a missing .dsc or Debian diff on the
  # mirror makes apt-get fail after fetching it, so its status is judged by the file.
  apt-get source --download-only "crash=$deb_ver" >&2 || true
  [ -f crash_"$ver".orig.tar.gz ] || { echo "crash_$ver.orig.tar.gz was not fetched" >&2; exit 1; }
fi
srcdir=$work/crash-$ver
if [ ! -d "$srcdir" ]; then
  tar xf crash_"$ver".orig.tar.gz
  # An extra orig component (the bundled gdb) goes beside the crash sources.
  for extra in crash_"$ver".orig-*.tar.*; do
    [ -e "$extra" ] || continue
    cp "$extra" "$srcdir/"
  done
fi
cd "$srcdir"
# crash's Makefile unpacks gdb-*.tar.gz from its own directory; it must not download it.
ls gdb-*.tar.gz >/dev/null 2>&1 || { echo "no gdb tarball in $srcdir" >&2; exit 1; }
# Each of crash's `lzo`/`snappy`/`zstd` targets reconfigures and relinks: run them one after
# the other, after the plain build (which builds gdb, the long part).
for target in "" lzo snappy zstd; do
  nice make -j"${JOBS:-2}" $target >>"$work/make.log" 2>&1 \
    || { tail -n 40 "$work/make.log" >&2; exit 1; }
done
cp crash "$bin"
echo "$bin"
