/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parse a generated 10,000-line Dockerfile and report microseconds per line
 * for the parse, the BuildKit dump and the JSON model. The file mixes what
 * real Dockerfiles hold: stages, comments, RUN with continuations and
 * mounts, COPY/ADD with flags, ENV/LABEL pairs, ARG, exec-form JSON,
 * heredocs, HEALTHCHECK and ONBUILD. Not a test: run bench/parse/run.sh.
 *
 *   bench-parse [LINES] [OUT.Dockerfile]   (default 10000; OUT keeps the file)
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "dockerfile/dockerfile.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* One block of instructions; %1$d is a running number. Lines per block vary. */
static const char *const blocks[] = {
	"# stage %1$d: build the component\n"
	"FROM --platform=$BUILDPLATFORM golang:1.22-bookworm AS build%1$d\n",
	"WORKDIR /src/component%1$d\n",
	"COPY --link --chown=1000:1000 go.mod go.sum ./\n",
	"RUN --mount=type=cache,target=/go/pkg/mod \\\n"
	"    --mount=type=cache,target=/root/.cache/go-build \\\n"
	"    go mod download && \\\n"
	"    go build -trimpath -ldflags=\"-s -w -X main.version=${VERSION}\" -o /out/app%1$d "
	"./cmd/app\n",
	"ENV CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOFLAGS=\"-mod=readonly -buildvcs=false\"\n",
	"LABEL org.opencontainers.image.title=\"component %1$d\" \\\n"
	"      org.opencontainers.image.version=$VERSION \\\n"
	"      org.opencontainers.image.source=https://example.com/repo.git\n",
	"ARG VERSION=1.%1$d.0 TARGETOS TARGETARCH\n",
	"RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
	"      ca-certificates curl git make \\\n"
	"    && rm -rf /var/lib/apt/lists/*\n",
	"COPY <<EOF /etc/app%1$d.conf\n"
	"listen = 0.0.0.0:80%1$d\n"
	"workers = 4\n"
	"EOF\n",
	"# the runtime image\n"
	"FROM gcr.io/distroless/static-debian12 AS final%1$d\n",
	"COPY --from=build%1$d /out/app%1$d /usr/local/bin/app\n",
	"EXPOSE 8080/tcp 9090/tcp\n",
	"HEALTHCHECK --interval=30s --timeout=3s CMD [\"/usr/local/bin/app\", \"health\"]\n",
	"USER 65532:65532\n",
	"ENTRYPOINT [\"/usr/local/bin/app\", \"--config\", \"/etc/app%1$d.conf\"]\n",
	"ONBUILD COPY . /src\n",
	"\n",
};

static char *generate(int lines, size_t *ret_len)
{
	struct kiln_buf b = KILN_BUF_INIT;
	int n = 0, k = 0;
	while (n < lines) {
		const char *fmt = blocks[(size_t) k % KILN_ARRAY_SIZE(blocks)];
		size_t before = b.len;
		if (kiln_buf_addf(&b, fmt, k / (int) KILN_ARRAY_SIZE(blocks)) < 0)
			abort();
		for (size_t i = before; i < b.len; i++)
			n += b.buf[i] == '\n';
		k++;
	}
	return kiln_buf_detach(&b, ret_len);
}

int main(int argc, char **argv)
{
	int lines = argc > 1 ? atoi(argv[1]) : 10000;
	size_t len;
	char *df = generate(lines > 0 ? lines : 10000, &len);
	if (!df)
		return 1;
	if (argc > 2) {
		FILE *f = fopen(argv[2], "w");
		if (!f || fwrite(df, 1, len, f) != len || fclose(f) != 0)
			return 1;
	}
	size_t nl = 0;
	for (size_t i = 0; i < len; i++)
		nl += df[i] == '\n';

	/* repeat until each phase has run for about a second */
	struct kiln_df_ast *ast = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int rounds = 0;
	double t0 = now(), t;
	do {
		kiln_df_ast_free(ast);
		ast = NULL;
		if (kiln_df_parse(df, len, "Dockerfile", &ast, &err) < 0) {
			fprintf(stderr, "parse: %s\n", err.msg);
			return 1;
		}
		rounds++;
	} while ((t = now() - t0) < 1.0);
	double parse_us = t / rounds / (double) nl * 1e6;

	int drounds = 0;
	size_t dump_len = 0;
	t0 = now();
	do {
		struct kiln_buf out = KILN_BUF_INIT;
		if (kiln_df_dump(ast, &out) < 0)
			return 1;
		dump_len = out.len;
		kiln_buf_release(&out);
		drounds++;
	} while ((t = now() - t0) < 1.0);
	double dump_us = t / drounds / (double) nl * 1e6;

	int jrounds = 0;
	t0 = now();
	do {
		json_t *j = NULL;
		if (kiln_df_to_json(ast, &j, NULL) < 0)
			return 1;
		char *s = json_dumps(j, JSON_COMPACT);
		free(s);
		json_decref(j);
		jrounds++;
	} while ((t = now() - t0) < 1.0);
	double json_us = t / jrounds / (double) nl * 1e6;

	size_t stages = 0, heredocs = 0;
	for (size_t i = 0; i < ast->n_nodes; i++) {
		stages += ast->nodes[i].cmd == KILN_DF_FROM;
		heredocs += ast->nodes[i].n_heredocs;
	}
	printf("Dockerfile: %zu lines, %zu bytes, %zu instructions, %zu stages, %zu heredocs\n", nl,
	       len, ast->n_nodes, stages, heredocs);
	printf("parse: %8.3f us/line  (%d rounds)\n", parse_us, rounds);
	printf("dump:  %8.3f us/line  (%d rounds, %zu bytes)\n", dump_us, drounds, dump_len);
	printf("json:  %8.3f us/line  (%d rounds, model + serialisation)\n", json_us, jrounds);
	kiln_df_ast_free(ast);
	free(df);
	return 0;
}
