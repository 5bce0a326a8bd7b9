// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel self-test's probes (user/bypass_selftest.c) can tell: run on
 * plain TCP sockets (control: the same steps, no sockhash), each must
 * report "behaves like TCP"; on sockhash sockets each must reach a verdict
 * (affected or not), never fail to run, and close every descriptor.  Whether this kernel is affected
 * is checked against the A/B conformance scenarios by the integration
 * test (test_bypass_selftest.sh).
 */
#include <dirent.h>
#include <stdlib.h>

#include "bpf_test.h"
#include "bypass.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int main(void)
{
	char name[96], detail[512];
	uint64_t cookie;
	int err, fds;

	libbpf_set_print(bt_silent_print);
	err = bt_private_netns(&cookie);
	if (err) {
		printf("FAIL bypass_selftest: cannot create a private netns: %s\n", strerror(-err));
		return 1;
	}
	for (int i = 0; i < ACCEL_BYPASS_KB_COUNT; i++) {
		const struct bypass_probe *p = &bypass_probes[i];

		snprintf(name, sizeof(name), "bypass_selftest_%s_control_is_ok", p->name);
		err = p->run(true, detail, sizeof(detail));
		BT_CHECK(err == 0, name, "on plain TCP: %d (%s)", err, detail);
		BT_PASS(name);
		snprintf(name, sizeof(name), "bypass_selftest_%s_reaches_a_verdict", p->name);
		fds = open_fds();
		err = p->run(false, detail, sizeof(detail));
		BT_CHECK(err == 0 || err == 1, name, "could not run: %s", detail);
		BT_CHECK(open_fds() == fds, name, "%d file descriptors left open", open_fds() - fds);
		printf("    %s: %s\n", err ? "affected" : "ok", detail);
		BT_PASS(name);
	}
out:
	return bt_failed ? 1 : 0;
}
