/* SPDX-License-Identifier: GPL-2.0-only */
/* libbpf glue shared by the features. */
#ifndef ACCEL_BPFUTIL_H
#define ACCEL_BPFUTIL_H

#include <stddef.h>
#include <stdint.h>

struct bpf_link;
struct bpf_map;

/* Open <dir>/<name> (a pinned map or link); -errno on failure. */
int pinned_obj_get(const char *dir, const char *name);
/* Sum a pinned per-CPU array of __u64 slots: out[i] = Σcpu value[i]. */
int percpu_array_sum(const char *dir, const char *map, uint64_t *out, uint32_t nslots);
int percpu_array_sum_fd(int fd, uint64_t *out, uint32_t nslots);
/* Pin an attached link as <dir>/link_<prog>. */
int link_pin(struct bpf_link *link, const char *dir, const char *prog_name);
/* Number of possible CPUs, cached. */
int ncpus(void);

#endif
