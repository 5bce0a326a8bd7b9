// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp_other: attach or detach a test's own XDP program through libxdp,
 * inside a named network namespace (`ip netns exec` would hide bpffs,
 * which libxdp needs for its dispatcher).
 *
 *   xdp_other attach NETNS IFACE OBJ   prints the program id
 *   xdp_other detach NETNS IFACE ID
 *   xdp_other ids NETNS IFACE          ids of the programs on IFACE
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xdp/libxdp.h>

static int enter(const char *ns)
{
	char path[256];
	int fd, err;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int ifindex, err;

	libxdp_set_print(NULL);	/* the test reads results, not libxdp chatter */
	if (argc < 4 || enter(argv[2])) {
		fprintf(stderr, "usage: xdp_other attach|detach|ids NETNS IFACE [OBJ|ID]\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[3]);
	if (!ifindex) {
		fprintf(stderr, "xdp_other: no interface %s\n", argv[3]);
		return 1;
	}
	if (!strcmp(argv[1], "attach") && argc == 5) {
		p = xdp_program__open_file(argv[4], "xdp", NULL);
		err = libxdp_get_error(p);
		if (!err)
			err = xdp_program__attach(p, ifindex, XDP_MODE_NATIVE, 0);
		if (err) {
			fprintf(stderr, "xdp_other: attach failed: %s\n", strerror(-err));
			if (!libxdp_get_error(p))
				xdp_program__close(p);
			return 1;
		}
		printf("%u\n", xdp_program__id(p));
		xdp_program__close(p);	/* frees our handle; the attachment stays */
		return 0;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp) {
		fprintf(stderr, "xdp_other: no XDP programs on %s\n", argv[3]);
		return 1;
	}
	if (xdp_multiprog__is_legacy(mp)) {
		/* a program attached alone, without a dispatcher */
		p = xdp_multiprog__main_prog(mp);
		if (!strcmp(argv[1], "ids") && p)
			printf("%u %s\n", xdp_program__id(p), xdp_program__name(p));
		else if (!strcmp(argv[1], "detach") && argc == 5 && p &&
			 xdp_program__id(p) == strtoul(argv[4], NULL, 10)) {
			int err = xdp_multiprog__detach(mp);

			xdp_multiprog__close(mp);
			return err ? 1 : 0;
		}
		xdp_multiprog__close(mp);
		return !strcmp(argv[1], "ids") ? 0 : 1;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (!strcmp(argv[1], "ids")) {
			printf("%u %s\n", xdp_program__id(p), xdp_program__name(p));
		} else if (!strcmp(argv[1], "detach") && argc == 5 &&
			   xdp_program__id(p) == strtoul(argv[4], NULL, 10)) {
			err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
			xdp_multiprog__close(mp);
			return err ? 1 : 0;
		}
	}
	xdp_multiprog__close(mp);
	return !strcmp(argv[1], "ids") ? 0 : 1;
}
