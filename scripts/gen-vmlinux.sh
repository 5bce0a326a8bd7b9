#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Regenerate vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
# The header is checked in so that a build needs no kernel BTF; BPF code is
# CO-RE, so a header from one kernel builds objects that load on others.
#
# Usage: scripts/gen-vmlinux.sh [BTF_FILE]   (default /sys/kernel/btf/vmlinux)
set -euo pipefail
btf=${1:-/sys/kernel/btf/vmlinux}
arch=$(uname -m)
case "$arch" in
x86_64) dir=x86 ;;
aarch64) dir=arm64 ;;
*) dir=$arch ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/vmlinux/$dir/vmlinux.h"
[ -r "$btf" ] || { echo "gen-vmlinux: cannot read $btf (kernel built without CONFIG_DEBUG_INFO_BTF?)" >&2; exit 1; }
command -v bpftool >/dev/null || { echo "gen-vmlinux: bpftool not found (scripts/install-deps.sh build)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "gen-vmlinux: wrote $out ($(wc -l <"$out") lines) from $btf ($(uname -r))"
