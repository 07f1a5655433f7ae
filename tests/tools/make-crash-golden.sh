#!/bin/sh
# Regenerates tests/golden/crash/*.txt: `struct -o` and `whatis` output of Debian crash 8.0.2 on the
# fixture vmlinux + live.elf. Usage: tests/tools/make-crash-golden.sh FIXTURE_DIR
set -eu
F=${1:?fixture dir}
OUT=$(dirname "$0")/../golden/crash
mkdir -p "$OUT"
for t in list_head kobject pid_namespace task_struct page rq; do
  printf 'struct %s -o\nexit\n' "$t" > /tmp/rkdump-crash-cmd.$$
  crash -s "$F/vmlinux" "$F/live.elf" -i /tmp/rkdump-crash-cmd.$$ 2>/dev/null \
    | awk '/^(struct|union) /{p=1} p{print} /^SIZE:/{exit}' > "$OUT/struct-o-$t.txt"
done
rm -f /tmp/rkdump-crash-cmd.$$
# print.txt: crash's output for the commands of print.cmds, run in one session (so the `$N`
# value-history numbers match a single rkdump Registry running them in order).
{ cat "$OUT/print.cmds"; echo exit; } > /tmp/rkdump-crash-cmd.$$
crash -s "$F/vmlinux" "$F/live.elf" -i /tmp/rkdump-crash-cmd.$$ 2>/dev/null | grep -v -e '^$' -e '^bt:' > "$OUT/print.txt"
rm -f /tmp/rkdump-crash-cmd.$$
