// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "accel_abi.h"
#include "bpfutil.h"
#include "log.h"
#include "util.h"

int ncpus(void)
{
	static int n;

	if (!n) {
		n = libbpf_num_possible_cpus();
		if (n <= 0)
			n = 1;
	}
	return n;
}

int pinned_obj_get(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (path_join(path, sizeof(path), dir, name))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

enum bpf_fd_kind bpf_fd_kind(int fd)
{
	enum bpf_fd_kind kind = BPF_FD_UNKNOWN;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return BPF_FD_UNKNOWN;
	while (kind == BPF_FD_UNKNOWN && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "link_type:", 10))
			kind = BPF_FD_LINK;
		else if (!strncmp(line, "prog_type:", 10))
			kind = BPF_FD_PROG;
		else if (!strncmp(line, "map_type:", 9))
			kind = BPF_FD_MAP;
	}
	fclose(f);
	return kind;
}

int map_fd_size(int fd, uint32_t *max_entries, uint64_t *memlock)
{
	char path[64], line[128];
	unsigned long long v;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "max_entries: %llu", &v) == 1) {
			if (max_entries)
				*max_entries = (uint32_t)v;
			found |= 1;
		} else if (sscanf(line, "memlock: %llu", &v) == 1) {
			if (memlock)
				*memlock = v;
			found |= 2;
		}
	}
	fclose(f);
	return found == 3 ? 0 : -ENOENT;
}

int percpu_array_sum_fd(int fd, uint64_t *out, uint32_t nslots)
{
	int n = ncpus();
	uint64_t *vals = calloc(n, sizeof(*vals));

	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < nslots; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < n; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

int percpu_array_sum(const char *dir, const char *map, uint64_t *out, uint32_t nslots)
{
	int fd = pinned_obj_get(dir, map), err;

	if (fd < 0)
		return fd;
	err = percpu_array_sum_fd(fd, out, nslots);
	close(fd);
	return err;
}

int link_pin(struct bpf_link *link, const char *dir, const char *prog_name)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/" ACCEL_PIN_LINK_PREFIX "%s", dir, prog_name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (bpf_link__pin(link, path)) {
		int err = -errno;

		pr_err("cannot pin link of %s at %s: %s\n", prog_name, path, strerror(-err));
		return err;
	}
	return 0;
}

int prog_run_on_each_cpu(int prog_fd, void *ctx_in, size_t ctx_len, int *nran)
{
	int ncpu = sysconf(_SC_NPROCESSORS_CONF), err = 0;
	cpu_set_t saved, one;

	*nran = 0;
	if (sched_getaffinity(0, sizeof(saved), &saved))
		return -errno;
	for (int cpu = 0; cpu < ncpu && cpu < CPU_SETSIZE; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts);

		opts.ctx_in = ctx_in;
		opts.ctx_size_in = ctx_len;
		opts.flags = BPF_F_TEST_RUN_ON_CPU;
		opts.cpu = cpu;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;	/* offline or not ours: nothing runs there for us */
		err = bpf_prog_test_run_opts(prog_fd, &opts);
		if (err || opts.retval) {
			pr_debug("program run on CPU %d: %s (returned %u)\n", cpu,
				 err ? strerror(-err) : "ok", opts.retval);
			err = err ?: -EIO;
			break;
		}
		(*nran)++;
	}
	if (sched_setaffinity(0, sizeof(saved), &saved) && !err)
		err = -errno;
	if (!err && !*nran)
		err = -ESRCH;
	return err;
}
