#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# No include circle among user/ modules.  A module is foo.c with foo.h;
# foo.c or foo.h including bar.h (`#include "..."`, a file of DIR) is the
# edge foo -> bar.  Each cycle found is printed (a -> b -> a): then exit 1,
# else 0.  Module level, so profile.c including profile_io.h while
# profile_io.c includes profile.h is a cycle although no file includes
# itself.  Run by `make check`.
#
# Usage: scripts/check-includes.sh [DIR]   (default: user)
set -euo pipefail
dir=${1:-user}
edges=$(for f in "$dir"/*.c "$dir"/*.h; do
	[ -e "$f" ] || continue
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
	while read -r inc; do
		m=$(basename "$f") && m=${m%.*} && to=${inc%.*}
		[ -e "$dir/$inc" ] && [ "$m" != "$to" ] && printf '%s %s\n' "$m" "$to"
	done
done)
# Depth-first search with colours (0 new, 1 on the path, 2 done); a grey
# node reached again closes a cycle, printed from where it starts.
awk '
{ adj[$1] = adj[$1] " " $2; node[$1]; node[$2] }
function dfs(n,   i, j, k, m, to, c) {
	colour[n] = 1; path[++depth] = n
	k = split(adj[n], to, " ")
	for (i = 1; i <= k; i++) {
		m = to[i]
		if (colour[m] == 1) {
			c = ""
			for (j = depth; j >= 1 && path[j] != m; j--) ;
			for (; j <= depth; j++) c = c path[j] " -> "
			print "include cycle: " c m
			found++
		} else if (!colour[m])
			dfs(m)
	}
	depth--; colour[n] = 2
}
END {
	for (n in node) if (!colour[n]) dfs(n)
	if (found) { print found " include cycle(s) among '"$dir"'/ modules" > "/dev/stderr"; exit 1 }
	print "check-includes: no include cycle among '"$dir"'/ modules"
}' <<<"$edges"
