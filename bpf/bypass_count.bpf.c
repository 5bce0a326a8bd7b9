// SPDX-License-Identifier: GPL-2.0-only
/*
 * bypass_count.bpf.c - how many sockets a sockhash holds, as the kernel
 * counts them.
 *
 * accel_bypass_sockets used to be counted by walking bypass_socks from
 * userspace, two syscalls per entry: 0.5-0.7 s per scrape at 50,000
 * connections.  A counter kept by bypass.bpf.c cannot be exact: the
 * kernel takes a socket out of the sockhash by itself when its file is
 * closed (sock_map_close()) or the socket is destroyed, and no sockops
 * callback tells the program (TCP_CLOSE comes earlier or later, and after
 * an RST the socket stays in until its file closes).  The sockhash keeps
 * its own count of elements (struct bpf_shtab.count, raised and lowered
 * with every element it allocates and frees): this iterator over the
 * host's maps (iter/bpf_map) writes one accel_bypass_count_rec per
 * sockhash, and userspace picks its own by map id.
 *
 * It reads; it changes nothing and has no maps.  Attach pins its link as
 * link_bypass_count in the bypass pin directory (user/bypass.c).
 */
#include "accel_common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/bpf_map")
int bypass_count_iter(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;
	struct accel_bypass_count_rec rec;
	struct bpf_shtab *h;

	if (!map || map->map_type != BPF_MAP_TYPE_SOCKHASH)
		return 0;
	h = container_of(map, struct bpf_shtab, map);
	rec.map_id = map->id;
	rec.count = (__u32)BPF_CORE_READ(h, count.counter);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
