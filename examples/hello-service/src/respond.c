/* SPDX-License-Identifier: Apache-2.0 */
#include "respond.h"

#include <stdio.h>
#include <string.h>

static size_t reply(char *out, size_t cap, int code, const char *reason, const char *body)
{
	int n = snprintf(out, cap,
			 "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 code, reason, strlen(body), body);
	return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

size_t respond(const char *request, char *out, size_t cap)
{
	if (strncmp(request, "GET ", 4) != 0)
		return reply(out, cap, 405, "Method Not Allowed", "only GET\n");
	const char *path = request + 4;
	size_t len = strcspn(path, " \r\n");
	if (len == 1 && path[0] == '/')
		return reply(out, cap, 200, "OK", "hello from a multi-stage kiln build\n");
	if (len == 8 && strncmp(path, "/healthz", 8) == 0)
		return reply(out, cap, 200, "OK", "ok\n");
	return reply(out, cap, 404, "Not Found", "not found\n");
}

int respond_self_test(void)
{
	static const struct {
		const char *req;
		const char *status;
	} cases[] = {
		{ "GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK" },
		{ "GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.0 200 OK" },
		{ "GET /nope HTTP/1.0\r\n\r\n", "HTTP/1.0 404 Not Found" },
		{ "POST / HTTP/1.0\r\n\r\n", "HTTP/1.0 405 Method Not Allowed" },
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[512];
		respond(cases[i].req, out, sizeof(out));
		if (strncmp(out, cases[i].status, strlen(cases[i].status)) != 0) {
			fprintf(stderr, "self-test: %s -> %.40s\n", cases[i].req, out);
			bad++;
		}
	}
	printf("self-test: %s\n", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}
