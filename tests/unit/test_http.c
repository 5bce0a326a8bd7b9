// SPDX-License-Identifier: GPL-2.0-only
/* serve's HTTP layer without sockets: routing and --listen parsing. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"

static void h(void *arg, const char *path, struct http_response *r)
{
	(void)arg;
	(void)path;
	(void)r;
}

static const struct http_route routes[] = {
	{ "/metrics", h },
	{ "/healthz", h },
	{ "/", h },
};

static void test_routing(void **state)
{
	unsigned int st = 0;

	assert_ptr_equal(http_route_find(routes, 3, "GET", "/metrics", &st), &routes[0]);
	assert_int_equal(st, 200);
	assert_ptr_equal(http_route_find(routes, 3, "HEAD", "/healthz", &st), &routes[1]);
	assert_ptr_equal(http_route_find(routes, 3, "GET", "/", &st), &routes[2]);
	assert_null(http_route_find(routes, 3, "GET", "/metrics/", &st));
	assert_int_equal(st, 404);
	assert_null(http_route_find(routes, 3, "GET", "/METRICS", &st));
	assert_int_equal(st, 404);
	assert_null(http_route_find(routes, 3, "GET", "/../metrics", &st));
	assert_int_equal(st, 404);
	assert_null(http_route_find(routes, 3, "POST", "/metrics", &st));
	assert_int_equal(st, 405);
	assert_null(http_route_find(routes, 3, "get", "/metrics", &st));
	assert_int_equal(st, 405);
	/* an unknown path is 404 whatever the method */
	assert_null(http_route_find(routes, 3, "DELETE", "/nope", &st));
	assert_int_equal(st, 404);
}

static int parse(const char *s, struct sockaddr_storage *ss)
{
	char err[256] = "";
	socklen_t len = 0;
	int e = http_listen_parse(s, ss, &len, err, sizeof(err));

	if (e)
		assert_true(err[0] != '\0');	/* every refusal says why */
	else
		assert_true(len > 0);
	return e;
}

static void test_listen_parse(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	char buf[64];

	assert_int_equal(parse("127.0.0.1:9435", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 9435);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), INADDR_LOOPBACK);
	http_addr_str((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:9435");

	assert_int_equal(parse("[::1]:80", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 80);
	assert_true(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
	http_addr_str((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:80");

	/* :PORT is every address, IPv6 and IPv4 */
	assert_int_equal(parse(":9435", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr));
	assert_int_equal(parse("0.0.0.0:0", &ss), 0);
	assert_int_equal(parse("localhost:9435", &ss), 0);

	assert_int_equal(parse("", &ss), -EINVAL);
	assert_int_equal(parse("127.0.0.1", &ss), -EINVAL);
	assert_int_equal(parse("127.0.0.1:", &ss), -EINVAL);
	assert_int_equal(parse("127.0.0.1:65536", &ss), -EINVAL);
	assert_int_equal(parse("127.0.0.1:-1", &ss), -EINVAL);
	assert_int_equal(parse("127.0.0.1:http", &ss), -EINVAL);
	assert_int_equal(parse("::1:9435", &ss), -EINVAL);
	assert_int_equal(parse("[::1]", &ss), -EINVAL);
	assert_int_equal(parse("[::1:9435", &ss), -EINVAL);
	assert_int_equal(parse("[]:9435", &ss), -EINVAL);
	assert_int_equal(parse("[127.0.0.1]:9435", &ss), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
