/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Expand 100,000 words, a mix of what Dockerfile instructions carry (plain
 * paths, $VAR and ${VAR}, defaults, platform args, trims and replacements,
 * quotes and escapes), against an environment of 40 variables, and report
 * microseconds per word. Not a test: run it with bench/expand/run.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "shell/shell.h"

static const char *const templates[] = {
	"/usr/local/bin",
	"$HOME/.cache/%d",
	"${APP_VERSION}",
	"app-${VERSION:-latest}-%d.tar.gz",
	"\"quoted $USER value %d\"",
	"${TARGETOS}/${TARGETARCH}${TARGETVARIANT:+/${TARGETVARIANT}}",
	"${PATH}:/opt/bin%d",
	"${FILE%%.tar.gz}",
	"${URL#https://}",
	"${IMAGE##*/}",
	"${NAME//-/_}",
	"'single $quoted %d'",
	"a\\ b\\ %d",
	"--mount=type=cache,target=/root/.cache/%d",
	"${UNSET_%d:-default}",
	"${GOPATH}/src/${MODULE}",
	"python${PYTHON_VERSION%%.*}",
	"${REGISTRY:+${REGISTRY}/}library/${BASE}:${TAG}",
	"8080/tcp",
	"${USER}:${GROUP}",
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	struct kiln_shell_envlist *l = NULL;
	char **words = calloc(n, sizeof(*words));
	if (!words || kiln_shell_envlist_new(&l, NULL) < 0)
		return 1;
	static const char *const vars[] = {
		"HOME=/root", "USER=app", "GROUP=app", "APP_VERSION=1.4.2", "VERSION=1.4.2",
		"TARGETOS=linux", "TARGETARCH=arm64", "TARGETVARIANT=v8",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"FILE=release-1.4.2.tar.gz", "URL=https://example.org/releases/app.tar.gz",
		"IMAGE=docker.io/library/debian", "NAME=my-app-name", "GOPATH=/go",
		"MODULE=example.org/app", "PYTHON_VERSION=3.11.4", "REGISTRY=registry.local:5000",
		"BASE=debian", "TAG=bookworm-slim",
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (kiln_shell_envlist_put(l, vars[i], NULL) < 0)
			return 1;
	for (int i = 0; i < 21; i++) {
		char kv[64];
		snprintf(kv, sizeof(kv), "EXTRA_%d=value-%d", i, i);
		if (kiln_shell_envlist_put(l, kv, NULL) < 0)
			return 1;
	}
	size_t nt = sizeof(templates) / sizeof(templates[0]);
	for (size_t i = 0; i < n; i++) {
		char w[256];
		snprintf(w, sizeof(w), templates[i % nt], (int)(i % 1000));
		words[i] = strdup(w);
		if (!words[i])
			return 1;
	}
	struct kiln_shell_env env = kiln_shell_envlist_env(l);

	size_t bytes = 0, nwords = 0, failures = 0;
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
		if (kiln_shell_expand(NULL, words[i], &env, &res, NULL) < 0) {
			failures++;
			continue;
		}
		bytes += strlen(res.word);
		nwords += res.words.len;
		kiln_shell_result_release(&res);
	}
	double t1 = now();
	printf("expand: %zu words in %.3f s: %.3f us/word (%zu output bytes, %zu split words, "
	       "%zu failures)\n",
	       n, t1 - t0, (t1 - t0) * 1e6 / (double)n, bytes, nwords, failures);

	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
	kiln_shell_envlist_free(l);
	return failures ? 1 : 0;
}
