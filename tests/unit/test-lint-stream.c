/* SPDX-License-Identifier: Apache-2.0 */
/* kiln_lint_run_stream: groups handed over in order, each file failing on its
 * own, every report the file's alone, and a stop asked for by the receiver. */
#include <string.h>

#include "analyze/lint.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "tap.h"

static const char *const dockerfiles[] = {
	"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD node server.js\n",
	"FROM golang:1.22 AS build\nRUN go build -o /out/app .\n"
	"FROM scratch\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n",
	"FROM debian:12\nRUN apt-get update && apt-get install -y curl\nUSER root\n",
	"FROM alpine\nRUN cd /tmp && wget http://example.com/x | sh\n",
	"FROM x\nENV\n",
	"",
};
#define N_FILES 203

struct seen {
	size_t next;	/* the first input of the group expected next */
	size_t group;	/* the size every group but the last must have */
	size_t total;	/* inputs of the run */
	size_t stop_at; /* return -KILN_EIO at this group (0: never) */
	size_t groups;
	size_t reports;
	size_t failures; /* NULL report with an error that names the file */
	size_t wrong;	 /* a group out of order or of the wrong size, a report not as alone */
	const struct kiln_lint_input *in;
};

/* The findings of a report as text, for comparing two reports. */
static int render(const struct kiln_lint_report *rep, struct kiln_buf *out)
{
	for (size_t i = 0; i < rep->n_findings; i++)
		if (kiln_buf_addf(out, "%d:%d %s %s %s\n", rep->findings[i].line,
				  rep->findings[i].col, rep->findings[i].rule,
				  rep->findings[i].message, rep->findings[i].fingerprint) < 0)
			return -1;
	return 0;
}

static int same_as_alone(const struct kiln_lint_input *in, const struct kiln_lint_report *rep)
{
	struct kiln_lint_report *one = NULL;
	struct kiln_buf a = KILN_BUF_INIT, b = KILN_BUF_INIT;
	int same = kiln_lint_run(in->data, in->len, in->filename, NULL, &one, NULL) == 0 &&
		   render(one, &a) == 0 && render(rep, &b) == 0 &&
		   !strcmp(rep->file, in->filename) &&
		   !strcmp(a.buf ? a.buf : "", b.buf ? b.buf : "");
	kiln_buf_release(&a);
	kiln_buf_release(&b);
	kiln_lint_report_free(one);
	return same;
}

static int take(void *ud, size_t first, struct kiln_lint_report **reps, struct kiln_error *errs,
		size_t n)
{
	struct seen *s = ud;
	size_t want = s->total - first < s->group ? s->total - first : s->group;
	if (first != s->next || n != want)
		s->wrong++;
	s->next = first + n;
	s->groups++;
	for (size_t i = 0; i < n; i++) {
		const struct kiln_lint_input *in = &s->in[first + i];
		if (!reps[i]) {
			if (in->path && errs[i].msg && strstr(errs[i].msg, in->path))
				s->failures++;
			else
				s->wrong++;
			continue;
		}
		s->reports++;
		if (in->path || !same_as_alone(in, reps[i]))
			s->wrong++;
		kiln_lint_report_free(reps[i]);
	}
	return s->stop_at && s->groups == s->stop_at ? -KILN_EIO : 0;
}

static void make_inputs(struct kiln_lint_input *in, char (*names)[48], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *df = dockerfiles[i % KILN_ARRAY_SIZE(dockerfiles)];
		snprintf(names[i], sizeof(names[i]), "f%zu/Dockerfile", i);
		in[i] = (struct kiln_lint_input){ .data = df,
						  .len = strlen(df),
						  .filename = names[i] };
		/* every 17th input names a file that does not exist */
		if (i % 17 == 5)
			in[i] = (struct kiln_lint_input){
				.path = "/nonexistent/kiln-test/Dockerfile", .filename = names[i]
			};
	}
}

int main(void)
{
	static struct kiln_lint_input in[N_FILES];
	static char names[N_FILES][48];
	make_inputs(in, names, N_FILES);
	size_t missing = 0;
	for (size_t i = 0; i < N_FILES; i++)
		missing += in[i].path != NULL;

	static const size_t groups[] = { 16, 1, 7, 64, 0, 1000 };
	for (size_t g = 0; g < KILN_ARRAY_SIZE(groups); g++) {
		size_t size = groups[g] && groups[g] < N_FILES ? groups[g] : N_FILES;
		struct seen s = { .group = size, .total = N_FILES, .in = in };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_lint_run_stream(in, N_FILES, groups[g], NULL, take, &s, &err);
		TAP_INT_EQ(r, 0, "group %zu: the run succeeds though %zu files fail", groups[g],
			   missing);
		TAP_INT_EQ((long long) s.groups, (long long) ((N_FILES + size - 1) / size),
			   "group %zu: every group handed over", groups[g]);
		TAP_INT_EQ((long long) s.reports, (long long) (N_FILES - missing),
			   "group %zu: a report per readable file", groups[g]);
		TAP_INT_EQ((long long) s.failures, (long long) missing,
			   "group %zu: each missing file fails on its own, named", groups[g]);
		TAP_INT_EQ((long long) s.wrong, 0,
			   "group %zu: groups in order and whole, reports as alone", groups[g]);
		kiln_error_release(&err);
	}

	/* the receiver stops the run: no group after, its error returned */
	struct seen s = { .group = 10, .total = N_FILES, .stop_at = 3, .in = in };
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_lint_run_stream(in, N_FILES, 10, NULL, take, &s, &err);
	TAP_INT_EQ(r, -KILN_EIO, "a receiver's failure ends the run with it");
	TAP_INT_EQ((long long) s.groups, 3, "no group is handed over after it");
	TAP_INT_EQ((long long) s.wrong, 0, "the groups before it were whole");
	kiln_error_release(&err);

	/* no input: no call */
	struct seen none = { .group = 1, .in = in };
	r = kiln_lint_run_stream(in, 0, 8, NULL, take, &none, &err);
	TAP_OK(r == 0 && none.groups == 0, "no input, no group");
	kiln_error_release(&err);
	return tap_done();
}
