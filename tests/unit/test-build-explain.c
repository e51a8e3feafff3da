/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build: explained cache misses. What a step was made of the last time and
 * now (key ingredients, the instruction's text, the source files) in, the
 * sentences progress prints and the details --metadata-file holds out:
 * source files changed (capped, counted), build args (values hidden when
 * they came from the environment), the instruction, the environment (names
 * only), mounts, the step before, the base image, --no-cache, a first build,
 * a pruned layer; and the file list made from a real selection.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/explain.h"
#include "tap.h"

/* A state from "name=value" ingredient pairs (a NULL name ends them). */
static void state(struct bb_explain_state *s, const char *const *kv, const char *text,
		  const char *files, const char *hidden)
{
	*s = (struct bb_explain_state){ .key = KILN_PLAN_KEY_INIT };
	for (size_t i = 0; kv[i]; i += 2)
		if (kiln_plan_key_add(&s->key, kv[i], kv[i + 1], NULL) < 0)
			abort();
	if (kiln_plan_key_finish(&s->key, NULL) < 0)
		abort();
	s->text = kiln_strdup(text);
	s->files = files ? kiln_strdup(files) : NULL;
	s->hidden = kiln_strdup(hidden ? hidden : "");
	if (!s->text || (files && !s->files) || !s->hidden)
		abort();
}

/* Explain prev -> now; the miss (released by the caller). */
static struct kiln_build_miss explain(const struct bb_explain_state *prev,
				      const struct bb_explain_state *now, const char *first_miss,
				      const char *base, int no_cache)
{
	struct kiln_build_miss m = { 0 };
	struct kiln_error err = KILN_ERROR_INIT;
	if (bb_explain_compute(prev, now, first_miss, base, no_cache, &m, &err) < 0) {
		tap_diag("bb_explain_compute: %s", err.msg ? err.msg : "?");
		kiln_error_release(&err);
		abort();
	}
	return m;
}

static const struct kiln_build_miss_detail *find_detail(const struct kiln_build_miss *m,
							const char *kind, const char *name)
{
	for (size_t i = 0; i < m->n_details; i++)
		if (!strcmp(m->details[i].kind, kind) &&
		    (!name || (m->details[i].name && !strcmp(m->details[i].name, name))))
			return &m->details[i];
	return NULL;
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void test_simple_reasons(void)
{
	const char *kv[] = { "parent", "base:" D1, "instruction", "{\"cmd\":\"RUN\"}", NULL };
	struct bb_explain_state now, same;
	state(&now, kv, "RUN make", NULL, NULL);
	state(&same, kv, "RUN make", NULL, NULL);

	struct kiln_build_miss m = explain(&same, &now, NULL, NULL, 1);
	TAP_STR_EQ(m.reason, "no-cache", "--no-cache is the reason, whatever the record");
	TAP_STR_EQ(m.message, "--no-cache", "... and says so");
	bb_explain_miss_release(&m);

	m = explain(NULL, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.reason, "new", "no record: a first build of the step");
	TAP_OK(strstr(m.message, "no earlier build of this step") != NULL, "... said: %s",
	       m.message);
	TAP_STR_EQ(m.summary, "first build", "... summary");
	bb_explain_miss_release(&m);

	m = explain(&same, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.reason, "pruned", "the same key missed: its layer was removed");
	TAP_OK(strstr(m.message, "kiln prune") != NULL, "... said: %s", m.message);
	bb_explain_miss_release(&m);
	bb_explain_state_release(&now);
	bb_explain_state_release(&same);
}

static void test_files(void)
{
	const char *old_files = "a.c\tf 0644 0:0 " D1 "\n"
				"b.c\tf 0644 0:0 " D1 "\n"
				"gone.c\tf 0644 0:0 " D1 "\n"
				"run.sh\tf 0644 0:0 " D2 "\n"
				"src\td 0755 0:0 \n";
	const char *new_files = "a.c\tf 0644 0:0 " D2 "\n"
				"b.c\tf 0644 0:0 " D1 "\n"
				"new.c\tf 0644 0:0 " D3 "\n"
				"run.sh\tf 0755 0:0 " D2 "\n"
				"src\tl 0777 0:0 elsewhere\n";
	const char *kv_old[] = { "parent", "base:" D1, "sources", D1, NULL };
	const char *kv_new[] = { "parent", "base:" D1, "sources", D2, NULL };
	struct bb_explain_state prev, now;
	state(&prev, kv_old, "COPY . /src", old_files, NULL);
	state(&now, kv_new, "COPY . /src", new_files, NULL);
	struct kiln_build_miss m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.reason, "sources", "changed files: the reason is the sources");
	TAP_STR_EQ(m.message,
		   "5 source files changed: a.c (sha256:111111111111 → sha256:222222222222), "
		   "gone.c (removed), run.sh (mode 0644 → 0755), src (directory → symlink), "
		   "new.c (added)",
		   "every change said, contents by short digests, in path order, added last");
	TAP_INT_EQ(m.files_changed, 5, "five files counted");
	TAP_STR_EQ(m.summary, "5 source files changed", "... summary");
	const struct kiln_build_miss_detail *d = find_detail(&m, "file", "a.c");
	TAP_OK(d && d->old_value && !strcmp(d->old_value, "f 0644 0:0 " D1) && d->new_value &&
		       !strcmp(d->new_value, "f 0644 0:0 " D2),
	       "the details have the whole digests");
	d = find_detail(&m, "file", "new.c");
	TAP_OK(d && !d->old_value && d->new_value, "an added file has no old value");
	d = find_detail(&m, "file", "gone.c");
	TAP_OK(d && d->old_value && !d->new_value, "a removed file has no new value");
	TAP_OK(!find_detail(&m, "file", "b.c"), "an unchanged file is not a detail");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);

	/* one file gone (a .dockerignore rule): the summary says removed */
	state(&prev, kv_old, "COPY . /src", "a.c\tf 0644 0:0 " D1 "\nb.c\tf 0644 0:0 " D1 "\n",
	      NULL);
	state(&now, kv_new, "COPY . /src", "a.c\tf 0644 0:0 " D1 "\n", NULL);
	m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.summary, "b.c removed", "one removed file: the summary says removed");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);

	/* many files: the message names five, counts the rest */
	struct kiln_buf o = KILN_BUF_INIT, n = KILN_BUF_INIT;
	for (int i = 0; i < 12; i++) {
		if (kiln_buf_addf(&o, "f%02d\tf 0644 0:0 %s\n", i, D1) < 0 ||
		    kiln_buf_addf(&n, "f%02d\tf 0644 0:0 %s\n", i, D2) < 0)
			abort();
	}
	state(&prev, kv_old, "COPY . /src", o.buf, NULL);
	state(&now, kv_new, "COPY . /src", n.buf, NULL);
	m = explain(&prev, &now, NULL, NULL, 0);
	TAP_OK(strstr(m.message, "12 source files changed: f00 (") == m.message &&
		       strstr(m.message, "f04 (") && !strstr(m.message, "f05 (") &&
		       strstr(m.message, ", and 7 more"),
	       "twelve files: five named, and 7 more: %s", m.message);
	TAP_INT_EQ(m.files_changed, 12, "... all counted");
	TAP_INT_EQ(m.n_details, 12, "... all in the details");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);
	kiln_buf_release(&o);
	kiln_buf_release(&n);

	/* no file lists: the digests */
	state(&prev, kv_old, "ADD https://example.org/x /x", NULL, NULL);
	state(&now, kv_new, "ADD https://example.org/x /x", NULL, NULL);
	m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.message, "the sources changed: sha256:111111111111 → sha256:222222222222",
		   "without file lists, the sources' digests");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);
}

static void test_args_and_env(void)
{
	const char *kv_old[] = { "parent", "base:" D1, "args", "A=1\nB=old\nGONE=x\nT=tok1\n",
				 "env",	   "A=1\nB=old\nE=hidden1\nT=tok1\nPATH=/bin\n",
				 NULL };
	const char *kv_new[] = { "parent", "base:" D1, "args", "A=1\nB=new\nADDED=y\nT=tok2\n",
				 "env",	   "A=1\nB=new\nE=hidden2\nT=tok2\nPATH=/bin\n",
				 NULL };
	struct bb_explain_state prev, now;
	state(&prev, kv_old, "RUN make", NULL, "T\n");
	state(&now, kv_new, "RUN make", NULL, "T\n");
	struct kiln_build_miss m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.reason, "args", "changed build args: the reason is the args");
	TAP_STR_EQ(m.message,
		   "build arg B changed: old → new\n"
		   "build arg GONE is not set any more (was x)\n"
		   "build arg T changed: (not shown) → (not shown)\n"
		   "build arg ADDED is set now: y\n"
		   "environment changed: E",
		   "typed values shown, values from the environment not; env by name only");
	TAP_OK(!strstr(m.message, "tok") && !strstr(m.message, "hidden"),
	       "no hidden value anywhere in the message");
	const struct kiln_build_miss_detail *d = find_detail(&m, "arg", "T");
	TAP_OK(d && !d->old_value && !d->new_value, "a hidden arg's values are not in the details");
	d = find_detail(&m, "arg", "B");
	TAP_OK(d && d->old_value && !strcmp(d->old_value, "old") && d->new_value &&
		       !strcmp(d->new_value, "new"),
	       "a typed arg's values are");
	d = find_detail(&m, "env", "E");
	TAP_OK(d && !d->old_value && !d->new_value, "environment details carry names only");
	TAP_OK(!find_detail(&m, "env", "B"), "a variable an arg changed is said once, as the arg");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);
}

static void test_instruction(void)
{
	const char *kv_old[] = { "parent", "base:" D1, "instruction", "{\"a\":1}", NULL };
	const char *kv_new[] = { "parent", "base:" D1, "instruction", "{\"a\":2}", NULL };
	struct bb_explain_state prev, now;
	state(&prev, kv_old, "RUN make", NULL, NULL);
	state(&now, kv_new, "RUN make -j4", NULL, NULL);
	struct kiln_build_miss m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.message, "the instruction changed: RUN make → RUN make -j4",
		   "a short instruction, old and new");
	TAP_STR_EQ(m.reason, "instruction", "... the reason");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);

	state(&prev, kv_old,
	      "RUN apt-get update && apt-get install -y build-essential ca-certificates curl && "
	      "rm -rf /var/lib/apt/lists/*",
	      NULL, NULL);
	state(&now, kv_new,
	      "RUN apt-get update && apt-get install -y build-essential ca-certificates wget && "
	      "rm -rf /var/lib/apt/lists/*",
	      NULL, NULL);
	m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.message,
		   "the instruction changed: …ca-certificates curl && rm -rf /var/lib/apt/lists/* → "
		   "…ca-certificates wget && rm -rf /var/lib/apt/lists/*",
		   "a long instruction: the common start elided");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);

	/* the same text: flags or here-documents */
	state(&prev, kv_old, "RUN <<EOF", NULL, NULL);
	state(&now, kv_new, "RUN <<EOF", NULL, NULL);
	m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.message,
		   "the instruction changed (its variables, flags or here-documents): RUN <<EOF",
		   "the same text, another instruction");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);

	/* control characters and bytes that are not UTF-8 are escaped */
	state(&prev, kv_old, "RUN echo a", NULL, NULL);
	state(&now, kv_new, "RUN echo \x01\xff\tb", NULL, NULL);
	m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.message, "the instruction changed: RUN echo a → RUN echo \\x01\\xff\\tb",
		   "escaped: %s", m.message);
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);
}

static void test_parent(void)
{
	const char *kv_b1[] = { "parent", "base:" D1, NULL };
	const char *kv_b2[] = { "parent", "base:" D2, NULL };
	const char *kv_k1[] = { "parent", D1, NULL };
	const char *kv_k2[] = { "parent", D2, NULL };
	struct bb_explain_state prev, now;
	state(&prev, kv_b1, "RUN make", NULL, NULL);
	state(&now, kv_b2, "RUN make", NULL, NULL);
	struct kiln_build_miss m = explain(&prev, &now, NULL, "docker.io/library/alpine:3", 0);
	TAP_STR_EQ(m.reason, "base", "a new base image: the reason is the base");
	TAP_STR_EQ(m.message,
		   "the base image docker.io/library/alpine:3 changed: sha256:111111111111 → "
		   "sha256:222222222222",
		   "... named, with both digests");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);

	state(&prev, kv_k1, "RUN make", NULL, NULL);
	state(&now, kv_k2, "RUN make", NULL, NULL);
	m = explain(&prev, &now, "[build 2/4] COPY . .", NULL, 0);
	TAP_STR_EQ(m.reason, "parent", "a rebuilt step before: the reason is the parent");
	TAP_STR_EQ(m.message,
		   "the step before it was rebuilt (the first miss: [build 2/4] COPY . .)",
		   "... naming the first step that missed");
	TAP_STR_EQ(m.summary, "step before rebuilt", "... summary");
	bb_explain_miss_release(&m);

	m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.message,
		   "the layers below it changed: sha256:111111111111 → sha256:222222222222",
		   "another parent with no miss in this build");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);

	/* the step's own change comes first, then the parent */
	const char *kv_o[] = { "parent", D1, "instruction", "1", NULL };
	const char *kv_n[] = { "parent", D2, "instruction", "2", NULL };
	state(&prev, kv_o, "RUN a", NULL, NULL);
	state(&now, kv_n, "RUN b", NULL, NULL);
	m = explain(&prev, &now, "[2/3] COPY x /", NULL, 0);
	TAP_STR_EQ(m.reason, "instruction", "own change and parent: the own change is the reason");
	TAP_STR_EQ(m.message,
		   "the instruction changed: RUN a → RUN b\n"
		   "the step before it was rebuilt (the first miss: [2/3] COPY x /)",
		   "... and both are said, own first");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);
}

static void test_other_ingredients(void)
{
	const char *kv_o[] = { "parent", D1, "user", "app",
			       "mounts", "bind from=stage:" D1 " source= target=/src rw=0 id= size=0\n"
					 "tmpfs from=tmpfs source= target=/tmp rw=1 id= size=0\n",
			       "epoch", "1", NULL };
	const char *kv_n[] = { "parent", D1, "user", "root",
			       "mounts", "bind from=stage:" D2 " source= target=/src rw=0 id= size=0\n"
					 "cache from=cache source= target=/root/.cache rw=1 id= size=0\n",
			       "epoch", "2", NULL };
	struct bb_explain_state prev, now;
	state(&prev, kv_o, "RUN make", NULL, NULL);
	state(&now, kv_n, "RUN make", NULL, NULL);
	struct kiln_build_miss m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.message,
		   "what RUN mounts at /src changed\n"
		   "a mount at /root/.cache was added\n"
		   "the mount at /tmp was removed\n"
		   "USER changed: app → root\n"
		   "SOURCE_DATE_EPOCH changed: 1 → 2",
		   "mounts, USER and the epoch");
	TAP_STR_EQ(m.reason, "mounts", "... the first is the reason");
	TAP_OK(find_detail(&m, "user", NULL) != NULL, "a detail per ingredient");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);

	/* a secret for a variable only has no target: its type and id name it */
	const char *sec_o[] = { "parent", D1,
				"mounts", "secret id=tok target= env=TOK required=0 mode=400 uid=0 "
					  "gid=0\n",
				NULL };
	const char *sec_n[] = { "parent", D1,
				"mounts", "secret id=tok target=/run/tk env=TOK required=0 mode=400 "
					  "uid=0 gid=0\n",
				NULL };
	state(&prev, sec_o, "RUN make", NULL, NULL);
	state(&now, sec_n, "RUN make", NULL, NULL);
	m = explain(&prev, &now, NULL, NULL, 0);
	TAP_STR_EQ(m.message,
		   "a mount at /run/tk was added\n"
		   "the mount (secret id=tok) was removed",
		   "a mount without a target is named by its type and id");
	bb_explain_miss_release(&m);
	bb_explain_state_release(&prev);
	bb_explain_state_release(&now);
}

static void test_text(void)
{
	TAP_STR_EQ(bb_explain_text("[build 2/5] RUN make"), "RUN make", "progress name: the text");
	TAP_STR_EQ(bb_explain_text("RUN make"), "RUN make", "no prefix: as is");
}

static int write_file(int dfd, const char *name, const char *data, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	int r = kiln_write_all(fd, data, strlen(data));
	(void) close(fd);
	return r < 0 ? -1 : fchmodat(dfd, name, mode, 0);
}

static void test_files_list(void)
{
	char dir[] = "/tmp/kiln-test-explain-XXXXXX";
	if (!mkdtemp(dir)) {
		tap_skip("no temporary directory", "the file list of a selection");
		return;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ok = dfd >= 0 && mkdirat(dfd, "src", 0755) == 0 &&
		 write_file(dfd, "src/z.c", "zzz\n", 0644) == 0 &&
		 write_file(dfd, "src/a.sh", "#!/bin/sh\n", 0755) == 0 &&
		 symlinkat("a.sh", dfd, "src/link") == 0 && mkdirat(dfd, "src/a", 0755) == 0 &&
		 write_file(dfd, "src/a/b", "zzz\n", 0644) == 0;
	TAP_OK(ok, "a tree to select from");
	struct kiln_plan_selection *sel = NULL;
	struct kiln_plan_hasher *h = NULL;
	struct kiln_plan_tree t = { .root_fd = dfd, .name = "the test tree", .context = 1 };
	const char *srcs[] = { "src" };
	struct kiln_plan_select_opts so = { .sources = srcs, .n_sources = 1 };
	struct kiln_error err = KILN_ERROR_INIT;
	char *files = NULL;
	int r = ok ? kiln_plan_select(&t, &so, NULL, &sel, &err) : -1;
	if (r >= 0)
		r = bb_explain_files(sel, &files, &err);
	TAP_OK(r >= 0 && files == NULL, "an unhashed selection has no file list");
	if (r >= 0)
		r = kiln_plan_hasher_new(NULL, 1, NULL, &h, &err);
	if (r >= 0)
		r = kiln_plan_selection_hash(sel, &t, h, &err);
	if (r >= 0)
		r = bb_explain_files(sel, &files, &err);
	struct kiln_digest za, zz;
	(void) kiln_sha256_buf("#!/bin/sh\n", 10, &za, NULL);
	(void) kiln_sha256_buf("zzz\n", 4, &zz, NULL);
	/* sorted as lines, not in the walk's order (src/a, src/a/b, src/a.sh) */
	char *want = kiln_asprintf("src\td 0755 0:0 \n"
				   "src/a\td 0755 0:0 \n"
				   "src/a.sh\tf 0755 0:0 %s\n"
				   "src/a/b\tf 0644 0:0 %s\n"
				   "src/link\tl 0777 0:0 a.sh\n"
				   "src/z.c\tf 0644 0:0 %s\n",
				   za.str, zz.str, zz.str);
	TAP_STR_EQ(files, want, "one line per entry, sorted: type, mode, owner, content");
	if (r < 0)
		tap_diag("%s", err.msg ? err.msg : "?");
	free(want);
	free(files);
	kiln_error_release(&err);
	kiln_plan_selection_free(sel);
	kiln_plan_hasher_free(h);
	if (dfd >= 0) {
		(void) unlinkat(dfd, "src/z.c", 0);
		(void) unlinkat(dfd, "src/a.sh", 0);
		(void) unlinkat(dfd, "src/link", 0);
		(void) unlinkat(dfd, "src/a/b", 0);
		(void) unlinkat(dfd, "src/a", AT_REMOVEDIR);
		(void) unlinkat(dfd, "src", AT_REMOVEDIR);
		(void) close(dfd);
	}
	(void) rmdir(dir);
}

int main(void)
{
	test_simple_reasons();
	test_files();
	test_args_and_env();
	test_instruction();
	test_parent();
	test_other_ingredients();
	test_text();
	test_files_list();
	return tap_done();
}
