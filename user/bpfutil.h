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
enum bpf_fd_kind { BPF_FD_UNKNOWN = 0, BPF_FD_MAP, BPF_FD_PROG, BPF_FD_LINK };
/* What a BPF object fd refers to (from /proc/self/fdinfo: the info
 * syscall would happily fill a bpf_map_info from a program). */
enum bpf_fd_kind bpf_fd_kind(int fd);
/* A map's max_entries and the memory the kernel charges it (fdinfo
 * "memlock": preallocated, plus elements allocated so far where the map
 * type counts them); either pointer may be NULL.  0 or -errno. */
int map_fd_size(int fd, uint32_t *max_entries, uint64_t *memlock);
/* Sum a pinned per-CPU array of __u64 slots: out[i] = Σcpu value[i]. */
int percpu_array_sum(const char *dir, const char *map, uint64_t *out, uint32_t nslots);
int percpu_array_sum_fd(int fd, uint64_t *out, uint32_t nslots);
/* Pin an attached link as <dir>/link_<prog>. */
int link_pin(struct bpf_link *link, const char *dir, const char *prog_name);
/* Run a test_run-able program (raw_tp / syscall-like ctx) once on every CPU
 * this process may run on, with ctx_in as its context: the program runs in
 * our task's context (we move onto each CPU first), so it sees our netns.
 * -EIO when a run returns non-zero, -ESRCH when it ran nowhere. */
int prog_run_on_each_cpu(int prog_fd, void *ctx_in, size_t ctx_len, int *nran);
/* Number of possible CPUs, cached. */
int ncpus(void);

#endif
