// SPDX-License-Identifier: GPL-2.0-only
/* bypass: sockhash key encoding shared with bpf/bypass.bpf.c, port bitmaps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "bypass.h"

static void key4(struct accel_bypass_key *k, const char *l, uint16_t lp, const char *r, uint16_t rp,
		 uint64_t ns)
{
	memset(k, 0, sizeof(*k));
	k->netns_cookie = ns;
	k->local_ip[10] = k->local_ip[11] = 0xff;	/* ::ffff:a.b.c.d, as the BPF side */
	k->remote_ip[10] = k->remote_ip[11] = 0xff;
	inet_pton(AF_INET, l, k->local_ip + 12);
	inet_pton(AF_INET, r, k->remote_ip + 12);
	k->local_port = lp;
	k->remote_port = rp;
	k->family = ACCEL_FAM_INET;
}

static void test_abi_layout(void **state)
{
	(void)state;
	/* the BPF object and the controller must agree byte for byte */
	assert_int_equal(sizeof(struct accel_bypass_key), 48);
	assert_int_equal(offsetof(struct accel_bypass_key, local_ip), 8);
	assert_int_equal(offsetof(struct accel_bypass_key, remote_ip), 24);
	assert_int_equal(offsetof(struct accel_bypass_key, local_port), 40);
	assert_int_equal(offsetof(struct accel_bypass_key, family), 44);
	assert_int_equal(sizeof(struct accel_bypass_config), 48);
	assert_int_equal(offsetof(struct accel_bypass_config, abi), 32);
	assert_int_equal(offsetof(struct accel_bypass_config, handover_deadline_ns), 40);
	assert_int_equal(offsetof(struct accel_bypass_config, learn_conns), 24);
	assert_int_equal(offsetof(struct accel_bypass_config, learn_window_s), 28);
	assert_int_equal(sizeof(struct accel_bypass_learned), 40);
}

static void test_mirror_is_the_peer_and_an_involution(void **state)
{
	struct accel_bypass_key c, s, m, mm;

	(void)state;
	key4(&c, "127.0.0.1", 40000, "127.0.0.2", 6379, 4096);
	key4(&s, "127.0.0.2", 6379, "127.0.0.1", 40000, 4096);
	bypass_key_mirror(&c, &m);
	assert_memory_equal(&m, &s, sizeof(m));
	bypass_key_mirror(&m, &mm);
	assert_memory_equal(&mm, &c, sizeof(c));
}

static void test_netns_cookie_separates_identical_tuples(void **state)
{
	struct accel_bypass_key a, b, pa;

	(void)state;
	key4(&a, "127.0.0.1", 40000, "127.0.0.1", 80, 1);
	key4(&b, "127.0.0.1", 40000, "127.0.0.1", 80, 2);
	assert_memory_not_equal(&a, &b, sizeof(a));
	bypass_key_mirror(&a, &pa);
	assert_memory_not_equal(&pa, &b, sizeof(b));
	assert_int_equal(pa.netns_cookie, 1);
}

static void test_key_str(void **state)
{
	struct accel_bypass_key k;
	char buf[160];

	(void)state;
	key4(&k, "127.0.0.1", 40000, "10.1.2.3", 6379, 7);
	assert_string_equal(bypass_key_str(&k, buf, sizeof(buf)),
			    "inet 127.0.0.1:40000 -> 10.1.2.3:6379 netns 7");
	memset(&k, 0, sizeof(k));
	k.local_ip[15] = k.remote_ip[15] = 1;
	k.local_port = 1;
	k.remote_port = 2;
	k.family = ACCEL_FAM_INET6;
	assert_string_equal(bypass_key_str(&k, buf, sizeof(buf)), "inet6 [::1]:1 -> [::1]:2 netns 0");
}

static void test_ports_bitmap(void **state)
{
	struct port_list pl = { 0 };
	uint64_t w[ACCEL_BYPASS_PORT_WORDS];
	char err[64];

	(void)state;
	assert_int_equal(port_list_parse("6379,8080-8090,65535", &pl, err, sizeof(err)), 0);
	bypass_ports_bitmap(&pl, w);
	assert_true(w[6379 / 64] & (1ULL << (6379 % 64)));
	assert_false(w[6378 / 64] & (1ULL << (6378 % 64)));
	for (int p = 8080; p <= 8090; p++)
		assert_true(w[p / 64] & (1ULL << (p % 64)));
	assert_false(w[8091 / 64] & (1ULL << (8091 % 64)));
	assert_true(w[1023] & (1ULL << 63));
	assert_false(w[0] & 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_layout),
		cmocka_unit_test(test_mirror_is_the_peer_and_an_involution),
		cmocka_unit_test(test_netns_cookie_separates_identical_tuples),
		cmocka_unit_test(test_key_str),
		cmocka_unit_test(test_ports_bitmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
