/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hello-server: a tiny HTTP service, the example that kiln's README builds.
 * It is compiled in a toolchain stage and shipped alone in a minimal runtime
 * stage. GET / answers a greeting, GET /healthz answers "ok".
 *
 *   hello-server [--port N]     serve (default: $PORT or 8080)
 *   hello-server --self-test    check the request handling without a socket
 *   hello-server --version
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "respond.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int serve(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 64) < 0) {
		perror("bind/listen");
		close(fd);
		return 1;
	}
	fprintf(stderr, "hello-server %s listening on :%d\n", HELLO_VERSION, port);
	struct sigaction sa = { .sa_handler = on_term };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		int c = accept(fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			break;
		}
		char req[2048];
		ssize_t n = read(c, req, sizeof(req) - 1);
		if (n > 0) {
			req[n] = '\0';
			char out[1024];
			size_t len = respond(req, out, sizeof(out));
			(void)!write(c, out, len);
		}
		close(c);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int port = 8080;
	const char *env = getenv("PORT");
	if (env && *env)
		port = atoi(env);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("hello-server %s\n", HELLO_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--self-test") == 0) {
			return respond_self_test();
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			port = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: hello-server [--port N] [--self-test] [--version]\n");
			return 2;
		}
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "hello-server: bad port\n");
		return 2;
	}
	return serve(port);
}
