// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_floor - loader of bench_floor.bpf.c (next to it), the benchmark's
 * "floor" configuration: the cheapest sockmap bypass this kernel can run.
 *
 *   bench_floor CGROUP_PATH
 *
 * BENCHMARK REFERENCE ONLY, never for real traffic: the programs have
 * none of the safety properties of accelctl's bypass (docs/bypass.md;
 * the list of what is missing is in bench_floor.bpf.c).
 *
 * Attaches the sk_msg program to its sockhash and the sockops program to
 * CGROUP_PATH (a private cgroup2 directory: the cgroup2 root is refused),
 * prints "ready" on stdout and waits for SIGTERM, SIGINT or end of file
 * on stdin; then detaches.  Nothing is pinned: whatever way the process
 * ends, the kernel frees the programs, the map and the cgroup link with
 * it.  Exit 0 after a clean detach, 1 on failure, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "bench_floor.skel.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * 0 when path is a cgroup2 directory other than the root of a cgroup2
 * mount; -EINVAL (with a message) otherwise.
 */
static int check_cgroup(const char *path)
{
	struct statfs sfs;
	struct stat st, mst;
	struct mntent *me;
	bool root = false;
	FILE *f;

	if (statfs(path, &sfs) || stat(path, &st)) {
		fprintf(stderr, "bench_floor: %s: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "bench_floor: %s is not a cgroup2 directory\n", path);
		return -EINVAL;
	}
	f = setmntent("/proc/mounts", "r");
	if (!f) {
		fprintf(stderr, "bench_floor: /proc/mounts: %s\n", strerror(errno));
		return -EINVAL;
	}
	while ((me = getmntent(f))) {
		if (strcmp(me->mnt_type, "cgroup2") || stat(me->mnt_dir, &mst))
			continue;
		if (mst.st_dev == st.st_dev && mst.st_ino == st.st_ino)
			root = true;
	}
	endmntent(f);
	if (root) {
		fprintf(stderr, "bench_floor: %s is the cgroup2 root: it would take over every "
			"TCP connection of the host; use a private cgroup below it\n", path);
		return -EINVAL;
	}
	return 0;
}

/* Until SIGTERM/SIGINT (sfd) or end of file (or an error) on stdin. */
static void wait_for_end(int sfd)
{
	struct pollfd pfd[2] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};
	char buf[256];

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd[0].revents)
			return;
		if (pfd[1].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				return;
		}
	}
}

int main(int argc, char **argv)
{
	struct bench_floor_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	int cg_fd = -1, sfd = -1, map_fd, msg_fd, err, ret = 1;
	bool msg_attached = false;
	sigset_t mask;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: bench_floor CGROUP_PATH\n"
			"benchmark reference only (scripts/bench.sh): attaches a sockmap "
			"bypass without any safety to a private cgroup until SIGTERM or stdin EOF\n");
		return 2;
	}
	if (check_cgroup(argv[1]))
		return 2;

	/* Signals through a signalfd, so that a signal between the
	 * attach and the poll cannot be lost. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "bench_floor: signalfd: %s\n", strerror(errno));
		goto cleanup;
	}
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(libbpf_print);

	cg_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		fprintf(stderr, "bench_floor: open %s: %s\n", argv[1], strerror(errno));
		goto cleanup;
	}
	skel = bench_floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "bench_floor: loading bench_floor.bpf.o: %s\n", strerror(errno));
		goto cleanup;
	}
	map_fd = bpf_map__fd(skel->maps.floor_socks);
	msg_fd = bpf_program__fd(skel->progs.floor_sk_msg);
	if (bpf_prog_attach(msg_fd, map_fd, BPF_SK_MSG_VERDICT, 0)) {
		fprintf(stderr, "bench_floor: attaching sk_msg to the sockhash: %s\n", strerror(errno));
		goto cleanup;
	}
	msg_attached = true;
	/* A link: the kernel detaches it when the last reference goes,
	 * i.e. when this process ends, however it ends. */
	link = bpf_program__attach_cgroup(skel->progs.floor_sockops, cg_fd);
	if (!link) {
		fprintf(stderr, "bench_floor: attaching sockops to %s: %s\n", argv[1], strerror(errno));
		goto cleanup;
	}
	printf("ready\n");
	if (fflush(stdout)) {
		fprintf(stderr, "bench_floor: stdout: %s\n", strerror(errno));
		goto cleanup;
	}

	wait_for_end(sfd);
	ret = 0;

cleanup:
	err = bpf_link__destroy(link);
	if (err && ret == 0) {
		fprintf(stderr, "bench_floor: detaching sockops: %s\n", strerror(-err));
		ret = 1;
	}
	if (msg_attached && bpf_prog_detach2(msg_fd, map_fd, BPF_SK_MSG_VERDICT) && ret == 0) {
		fprintf(stderr, "bench_floor: detaching sk_msg: %s\n", strerror(errno));
		ret = 1;
	}
	bench_floor_bpf__destroy(skel);
	if (cg_fd >= 0)
		close(cg_fd);
	if (sfd >= 0)
		close(sfd);
	return ret;
}
