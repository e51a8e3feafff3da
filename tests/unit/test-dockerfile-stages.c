/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The graph walk: ARG scoping, where words are expanded and what they
 * become, the build args each step uses, the stage graph (bases, edges,
 * needed stages, schedule), ONBUILD replays, base image configs, and the
 * errors BuildKit raises on the way.
 */
#include <string.h>

#include "base/base.h"
#include "dockerfile/dockerfile.h"
#include "tap.h"

struct built {
	struct kiln_df_ast *ast;
	struct kiln_df_model *m;
	struct kiln_df_graph *g;
	struct kiln_error err;
};

static void built_release(struct built *b)
{
	kiln_df_graph_free(b->g);
	kiln_df_model_free(b->m);
	kiln_df_ast_free(b->ast);
	kiln_error_release(&b->err);
}

static int build_opts(const char *df, const struct kiln_df_graph_opts *o, struct built *b)
{
	memset(b, 0, sizeof(*b));
	int r = kiln_df_parse(df, strlen(df), "Dockerfile", &b->ast, &b->err);
	if (r >= 0)
		r = kiln_df_model_new(b->ast, &b->m, &b->err);
	if (r >= 0)
		r = kiln_df_graph_new(b->m, o, &b->g, &b->err);
	return r;
}

static int build(const char *df, struct built *b)
{
	return build_opts(df, NULL, b);
}

static const struct kiln_df_step *step(const struct built *b, size_t stage, size_t i)
{
	if (!b->g || stage >= b->g->n_stages || i >= b->g->stages[stage].n_steps)
		return NULL;
	return &b->g->stages[stage].steps[i];
}

/* the value of NAME in a "K=V" list, or NULL */
static const char *kv(const struct kiln_df_words *w, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < w->n; i++)
		if (!strncmp(w->v[i], name, n) && w->v[i][n] == '=')
			return w->v[i] + n + 1;
	return NULL;
}

/* ---- ARG scoping ---- */

struct scope_case {
	const char *name;
	const char *df; /* the last instruction is `ENV OUT=...` */
	const char *build_arg;
	const char *want;
};

static const struct scope_case scopes[] = {
	{ "global ARG is not visible in a stage", "ARG V=1\nFROM a\nENV OUT=[$V]\n", NULL, "[]" },
	{ "re-declared global ARG takes the global value", "ARG V=1\nFROM a\nARG V\nENV OUT=$V\n",
	  NULL, "1" },
	{ "build arg replaces the global default", "ARG V=1\nFROM a\nARG V\nENV OUT=$V\n", "V=2",
	  "2" },
	{ "build arg replaces a stage default", "FROM a\nARG V=3\nENV OUT=$V\n", "V=2", "2" },
	{ "stage default without build arg", "FROM a\nARG V=3\nENV OUT=$V\n", NULL, "3" },
	{ "undeclared build arg is not visible", "FROM a\nENV OUT=[$V]\n", "V=2", "[]" },
	{ "ENV shadows an ARG", "FROM a\nARG A=1\nENV A=2\nENV OUT=$A\n", NULL, "2" },
	{ "an ARG default expands earlier variables", "FROM a\nENV E=x\nARG A=${E}y\nENV OUT=$A\n",
	  NULL, "xy" },
	{ "predefined TARGETARCH needs ARG in a stage", "FROM a\nENV OUT=[$TARGETARCH]\n", NULL,
	  "[]" },
	{ "ARG TARGETOS takes the predefined value", "FROM a\nARG TARGETOS\nENV OUT=$TARGETOS\n",
	  NULL, "linux" },
	{ "build arg overrides a predefined arg", "FROM a\nARG TARGETOS\nENV OUT=$TARGETOS\n",
	  "TARGETOS=plan9", "plan9" },
	{ "TARGETSTAGE is the target", "FROM a AS first\nARG TARGETSTAGE\nENV OUT=$TARGETSTAGE\n",
	  NULL, "first" },
	{ "a stage inherits its base stage's ARGs", "FROM a AS b\nARG X=1\nFROM b\nENV OUT=$X\n",
	  NULL, "1" },
	{ "a backslash escapes with the default escape", "FROM a\nENV OUT=C:\\x\\$y\n", NULL,
	  "C:x$y" },
	{ "a backslash is plain with the backtick escape",
	  "# escape=`\nFROM a\nENV OUT=C:\\x\\y\n", NULL, "C:\\x\\y" },
	{ "a backtick escapes with the backtick escape", "# escape=`\nFROM a\nENV OUT=C:\\x`$y\n",
	  NULL, "C:\\x$y" },
	{ "a stage inherits its base stage's ENV",
	  "FROM a AS b\nENV X=1 Y=2\nFROM b AS c\nENV X=3\nFROM c\nENV OUT=$X$Y\n", NULL, "32" },
	{ "a stage's ENV leaves its base's for a sibling",
	  "FROM a AS b\nENV X=1\nFROM b AS c\nENV X=3\nFROM b\nCOPY --from=c / /\nENV OUT=$X\n",
	  NULL, "1" },
	{ "a global ARG default refers to earlier globals",
	  "ARG A=x\nARG B=${A}y\nFROM a\nARG B\nENV OUT=$B\n", NULL, "xy" },
	{ "a global ARG without default stays unset",
	  "ARG A\nFROM a\nARG A\nENV OUT=[${A-unset}]\n", NULL, "[unset]" },
	{ "ENV values of one instruction see the previous values",
	  "FROM a\nENV A=1\nENV A=2 OUT=$A\n", NULL, "1" },
	{ "quotes are removed by expansion", "FROM a\nARG Q=\"x y\"\nENV OUT=$Q\n", NULL, "x y" },
	/* df_word_plain takes four bytes a step: a special byte at each offset in
	 * a step expands, words of plain bytes only are kept as they are */
	{ "'$' after 1 plain byte", "FROM a\nARG V=v\nENV OUT=a$V\n", NULL, "av" },
	{ "'$' after 2 plain bytes", "FROM a\nARG V=v\nENV OUT=ab$V\n", NULL, "abv" },
	{ "'$' after 3 plain bytes", "FROM a\nARG V=v\nENV OUT=abc$V\n", NULL, "abcv" },
	{ "'$' after 4 plain bytes", "FROM a\nARG V=v\nENV OUT=abcd$V\n", NULL, "abcdv" },
	{ "a quote after 6 plain bytes", "FROM a\nENV OUT=abcdef'g'\n", NULL, "abcdefg" },
	{ "an escape after 7 plain bytes", "FROM a\nENV OUT=abcdefg\\h\n", NULL, "abcdefgh" },
	{ "4 plain bytes", "FROM a\nENV OUT=abcd\n", NULL, "abcd" },
	{ "7 plain bytes", "FROM a\nENV OUT=abcdefg\n", NULL, "abcdefg" },
	{ "8 plain bytes", "FROM a\nENV OUT=abcdefgh\n", NULL, "abcdefgh" },
	{ "PATH is always set", "FROM scratch\nENV OUT=$PATH\n", NULL,
	  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
};

static void test_scopes(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(scopes); i++) {
		const struct scope_case *c = &scopes[i];
		const char *args[1] = { c->build_arg };
		struct kiln_df_graph_opts o = { .build_args = args,
						.n_build_args = c->build_arg ? 1 : 0 };
		struct built b;
		int r = build_opts(c->df, &o, &b);
		const char *got = NULL;
		if (r == 0) {
			const struct kiln_df_stage *st = &b.g->stages[b.g->target];
			const struct kiln_df_step *s = &st->steps[st->n_steps - 1];
			if (s->instr.cmd == KILN_DF_ENV)
				got = s->instr.u.pairs.v[s->instr.u.pairs.n - 1].value;
		}
		TAP_STR_EQ(got ? got : (b.err.msg ? b.err.msg : "(none)"), c->want, "%s", c->name);
		built_release(&b);
	}
}

/* ---- expansion sites ---- */

static void test_expansion(void)
{
	struct built b;
	const char *args[] = { "D=/dst", "U=app", "M=644", "P=8080", "S=SIGTERM", "V=/vol" };
	struct kiln_df_graph_opts o = { .build_args = args, .n_build_args = KILN_ARRAY_SIZE(args) };
	int r = build_opts("FROM alpine\n"
			   "ARG D\nARG U\nARG M\nARG P\nARG S\nARG V\n"
			   "COPY --chown=$U --chmod=$M src/${U}.txt $D/\n"
			   "RUN --mount=type=cache,target=/cache/$U,id=$U echo $U\n"
			   "CMD echo $U\n"
			   "EXPOSE $P ${P}/udp\n"
			   "STOPSIGNAL $S\n"
			   "USER $U\n"
			   "VOLUME $V\n"
			   "WORKDIR /w/$U\n"
			   "LABEL $U=$U\n"
			   "ONBUILD RUN echo $U\n"
			   "HEALTHCHECK CMD echo $U\n",
			   &o, &b);
	TAP_OK(r == 0, "expansion file builds: %s", b.err.msg ? b.err.msg : "");
	if (r == 0) {
		const struct kiln_df_step *cp = step(&b, 0, 6);
		TAP_STR_EQ(cp->instr.u.copy.chown, "app", "COPY --chown expanded");
		TAP_STR_EQ(cp->instr.u.copy.chmod, "644", "COPY --chmod expanded");
		TAP_STR_EQ(cp->instr.u.copy.sources.v[0], "src/app.txt", "COPY source expanded");
		TAP_STR_EQ(cp->instr.u.copy.dest, "/dst/", "COPY destination expanded");
		TAP_STR_EQ(kv(&cp->used_args, "U"), "app", "COPY uses U");
		TAP_STR_EQ(kv(&cp->used_args, "D"), "/dst", "COPY uses D");
		TAP_OK(kv(&cp->used_args, "P") == NULL, "COPY does not use P");
		const struct kiln_df_step *run = step(&b, 0, 7);
		TAP_STR_EQ(run->instr.u.run.mounts[0].target, "/cache/app",
			   "mount target expanded");
		TAP_STR_EQ(run->instr.u.run.mounts[0].id, "app", "mount id expanded");
		TAP_STR_EQ(run->instr.u.run.cmd.args.v[0], "echo $U", "RUN left to the shell");
		TAP_STR_EQ(kv(&run->env, "U"), "app", "RUN environment has the ARG");
		TAP_STR_EQ(kv(&run->used_args, "P"), "8080", "RUN uses every ARG of the stage");
		TAP_INT_EQ((long) run->used_args.n, 6, "RUN uses the six ARGs");
		TAP_STR_EQ(run->shell.v[0], "/bin/sh", "default shell");
		TAP_STR_EQ(step(&b, 0, 8)->instr.u.cmdline.args.v[0], "echo $U",
			   "CMD left to the shell");
		const struct kiln_df_step *ex = step(&b, 0, 9);
		TAP_INT_EQ((long) ex->instr.u.words.n, 2, "EXPOSE two ports");
		TAP_STR_EQ(ex->instr.u.words.v[0], "8080/tcp", "EXPOSE normalized");
		TAP_STR_EQ(ex->instr.u.words.v[1], "8080/udp", "EXPOSE with protocol");
		TAP_STR_EQ(step(&b, 0, 10)->instr.u.value, "SIGTERM", "STOPSIGNAL expanded");
		TAP_STR_EQ(step(&b, 0, 11)->instr.u.value, "app", "USER expanded");
		TAP_STR_EQ(step(&b, 0, 11)->user, "app", "user after USER");
		TAP_STR_EQ(step(&b, 0, 12)->instr.u.words.v[0], "/vol", "VOLUME expanded");
		TAP_STR_EQ(step(&b, 0, 13)->instr.u.value, "/w/app", "WORKDIR expanded");
		TAP_STR_EQ(step(&b, 0, 13)->workdir, "/w/app", "working directory after WORKDIR");
		TAP_STR_EQ(step(&b, 0, 14)->instr.u.pairs.v[0].key, "app", "LABEL key expanded");
		TAP_STR_EQ(step(&b, 0, 14)->instr.u.pairs.v[0].value, "app",
			   "LABEL value expanded");
		TAP_STR_EQ(step(&b, 0, 15)->instr.u.onbuild.expression, "RUN echo $U",
			   "ONBUILD not expanded");
		TAP_STR_EQ(step(&b, 0, 16)->instr.u.health.test.v[1], "echo $U",
			   "HEALTHCHECK not expanded");
		TAP_STR_EQ(kv(&b.g->stages[0].steps[0].used_args, "D"), "/dst",
			   "ARG D records its value");
	}
	built_release(&b);

	r = build("FROM alpine\nARG PORTS=\"80 443\"\nEXPOSE $PORTS 8000-8002/UDP\n", &b);
	TAP_OK(r == 0 && step(&b, 0, 1)->instr.u.words.n == 5 &&
		       !strcmp(step(&b, 0, 1)->instr.u.words.v[4], "8002/udp"),
	       "EXPOSE splits words and ranges");
	built_release(&b);

	/* specs longer than the copies kept on the stack */
	r = build("FROM alpine\nEXPOSE 0000000000000000000000000000000080-"
		  "0000000000000000000000000000000081/UDP "
		  "[0000:0000:0000:0000:0000:ffff:0102:0304]:65535-65535:65535-65535/sctp\n",
		  &b);
	TAP_OK(r == 0 && step(&b, 0, 0)->instr.u.words.n == 3 &&
		       !strcmp(step(&b, 0, 0)->instr.u.words.v[1], "81/udp") &&
		       !strcmp(step(&b, 0, 0)->instr.u.words.v[2], "65535/sctp"),
	       "EXPOSE with long specs");
	built_release(&b);

	r = build("FROM alpine\nARG X=hi\n"
		  "COPY <<EOF /a\n$X \"q\"\nEOF\n"
		  "COPY <<'EOF' /b\n$X\nEOF\n"
		  "RUN <<EOF\necho $X\nEOF\n",
		  &b);
	TAP_OK(r == 0, "heredocs build");
	if (r == 0) {
		TAP_STR_EQ(step(&b, 0, 1)->instr.u.copy.inline_sources[0].data, "hi \"q\"\n",
			   "COPY heredoc expanded, quotes kept");
		TAP_STR_EQ(step(&b, 0, 2)->instr.u.copy.inline_sources[0].data, "$X\n",
			   "quoted heredoc delimiter: not expanded");
		TAP_STR_EQ(step(&b, 0, 3)->instr.u.run.cmd.files[0].data, "echo $X\n",
			   "RUN heredoc left to the shell");
	}
	built_release(&b);

	r = build("FROM alpine\nWORKDIR /a\nWORKDIR b\nWORKDIR ../c\nCOPY x .\nCOPY x sub/\n"
		  "COPY x /abs\nCOPY x rel\nARG E\nWORKDIR $E\n",
		  &b);
	TAP_OK(r == 0, "workdir file builds");
	if (r == 0) {
		TAP_STR_EQ(step(&b, 0, 2)->workdir, "/a/c", "relative WORKDIRs resolve");
		TAP_STR_EQ(step(&b, 0, 8)->workdir, "/a/c", "a WORKDIR of nothing keeps the current");
		TAP_STR_EQ(step(&b, 0, 3)->dest, "/a/c/", "COPY . is the working directory");
		TAP_STR_EQ(step(&b, 0, 4)->dest, "/a/c/sub/",
			   "COPY to a relative dir keeps the slash");
		TAP_STR_EQ(step(&b, 0, 5)->dest, "/abs", "absolute COPY destination");
		TAP_STR_EQ(step(&b, 0, 6)->dest, "/a/c/rel", "relative COPY destination");
	}
	built_release(&b);

	const char *proxy[] = { "HTTP_PROXY=http://p:3128", "no_proxy=local", "UNUSED=1" };
	struct kiln_df_graph_opts po = { .build_args = proxy, .n_build_args = 3 };
	r = build_opts("FROM alpine\nRUN env\n", &po, &b);
	TAP_OK(r == 0, "proxy file builds");
	if (r == 0) {
		const struct kiln_df_step *s = step(&b, 0, 0);
		TAP_STR_EQ(kv(&s->proxy_env, "HTTP_PROXY"), "http://p:3128",
			   "proxy build arg reaches RUN");
		TAP_STR_EQ(kv(&s->proxy_env, "no_proxy"), "local", "lower-case proxy too");
		TAP_OK(kv(&s->env, "HTTP_PROXY") == NULL, "proxy is not in the cached environment");
		TAP_INT_EQ((long) b.g->unused_build_args.n, 1, "proxy args are never unused");
		char *w = kiln_df_graph_unused_args_warning(b.g);
		TAP_STR_EQ(w, "[Warning] One or more build-args [UNUSED] were not consumed",
			   "docker's unused build-arg warning");
		free(w);
	}
	built_release(&b);
}

/* ---- errors of the walk ---- */

struct gerr_case {
	const char *df;
	const char *target;
	const char *msg;
	int line;
};

static const struct gerr_case gerrs[] = {
	{ "FROM a AS build\n", "buidl",
	  "target stage \"buidl\" could not be found (did you mean build?)", 0 },
	{ "FROM a AS build\n", "nothing", "target stage \"nothing\" could not be found", 0 },
	{ "FROM a\nCOPY --from=5 x y\n", NULL, "invalid stage index 5", 2 },
	{ "FROM a\nCOPY --from=-1 x y\n", NULL, "invalid stage index -1", 2 },
	{ "FROM a\nCOPY --from=$X x y\n", NULL,
	  "variable expansion is not supported for --from, define a new stage with FROM using ARG "
	  "from global scope as a workaround",
	  2 },
	{ "FROM a AS s\nCOPY --from=s x y\n", NULL, "circular dependency detected on stage: s", 2 },
	{ "FROM a AS p\nCOPY --from=q x y\nFROM a AS q\nCOPY --from=p x y\n", NULL,
	  "circular dependency detected on stage: p", 2 },
	{ "FROM a AS p\nCOPY --from=q x y\nFROM a AS q\n", "p",
	  "cannot copy from stage \"q\", it needs to be defined before current stage \"p\"", 2 },
	{ "FROM a AS p\nRUN --mount=from=q,target=/m true\nFROM a AS q\n", "p",
	  "cannot mount from stage \"q\" to \"/m\", stage needs to be defined before current "
	  "command",
	  2 },
	{ "ARG X\nFROM ${X}\n", NULL, "base name (${X}) should not be blank", 2 },
	{ "ARG P\nFROM --platform=$P a\n", NULL, "empty platform value from expression $P", 2 },
	{ "FROM --platform=linux/ a\n", NULL,
	  "failed to parse platform linux/: \"\" is an invalid component of \"linux/\": platform "
	  "specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument",
	  1 },
	{ "FROM a\nARG X=${Y:?needed}\n", NULL, "failed to process \"${Y:?needed}\": Y: needed",
	  2 },
	{ "FROM a\nCOPY --chmod=999 x y\n", NULL,
	  "invalid chmod parameter: '999'. it should be octal string and between 0 and 07777", 2 },
	{ "FROM a\nCOPY --chmod=u+q x y\n", NULL, "invalid syntax", 2 },
	{ "FROM a\nSTOPSIGNAL SIGFOO\n", NULL, "invalid signal: SIGFOO", 2 },
	{ "FROM a\nSTOPSIGNAL 0\n", NULL, "invalid signal: 0", 2 },
	{ "FROM a\nEXPOSE 80/xyz\n", NULL, "invalid port: \"80/xyz\": invalid proto: xyz", 2 },
	{ "FROM a\nEXPOSE 70000\n", NULL, "invalid containerPort: 70000", 2 },
	{ "FROM a\nEXPOSE 9-8\n", NULL, "invalid containerPort: 9-8", 2 },
	{ "FROM a\nEXPOSE 1.2.3.400:80:80\n", NULL, "invalid IP address: 1.2.3.400", 2 },
	{ "FROM a\nEXPOSE 80/abcdefghijklmnopqrstuvwxyz\n", NULL,
	  "invalid port: \"80/abcdefghijklmnopqrstuvwxyz\": invalid proto: "
	  "abcdefghijklmnopqrstuvwxyz",
	  2 },
	{ "FROM a\nARG E\nVOLUME $E\n", NULL, "VOLUME specified can not be an empty string", 3 },
	{ "FROM a\nCOPY <<a/b /d/\nx\na/b\n", NULL,
	  "here-document a/b: a source's name cannot be a path: mkfile /a/b: no such file or "
	  "directory",
	  2 },
	{ "FROM a\nRUN --mount=type=cache,target=/ true\n", NULL, "invalid mount target \"/\"", 2 },
	{ "FROM a\nRUN --mount=type=secret,id=a,from=b true\n", NULL,
	  "secret mount should not have a from", 2 },
	{ "FROM a\nADD --checksum=sha256:aa x y /d\n", NULL,
	  "checksum can't be specified for multiple sources", 2 },
	{ "FROM a\nADD --checksum=sha256:aa x /d\n", NULL,
	  "checksum requires HTTP(S) or Git sources", 2 },
	{ "FROM a\nADD --checksum=sha256:aa https://e.x/f /d\n", NULL,
	  "invalid checksum digest length", 2 },
	{ "FROM a\nCOPY https://e.x/f /d\n", NULL, "source can't be a URL for COPY", 2 },
	{ "FROM a\nCOPY git@github.com:o/r.git /d\n", NULL, "source can't be a git ref for COPY",
	  2 },
	{ "FROM a\nCOPY hub gh ssh ./ssh://x/r /d\nCOPY ssh://h/r /d\n", NULL,
	  "source can't be a git ref for COPY", 3 },
	{ "FROM a\nCOPY https://h/r.git?ref=main /d\n", NULL,
	  "source can't be a git ref for COPY", 2 },
	{ "FROM a\nCOPY git://h/r /d\n", NULL, "source can't be a git ref for COPY", 2 },
	{ "FROM a\nCOPY http://h/f.tgz /d\n", NULL, "source can't be a URL for COPY", 2 },
	{ "FROM a AS base\nONBUILD COPY ${X:?no} /y\nFROM base\n", NULL,
	  "failed to process \"${X:?no}\": X: no", 3 },
};

/* the variables a step used that had no value */
static void test_unset_vars(void)
{
	struct built b;
	const char *args[] = { "B=1" };
	struct kiln_df_graph_opts o = { .build_args = args, .n_build_args = 1 };
	int r = build_opts("ARG G=g\n"
			   "FROM alpine\n"
			   "ARG A\nARG B\nENV E=e\n"
			   "COPY $G/$A/$B/$E/${A:-x}/$HOME src/$N /d/\n"
			   "COPY $B $E /d/\n"
			   "EXPOSE ${P:-80}\n",
			   &o, &b);
	TAP_OK(r == 0, "unset-variables file builds: %s", b.err.msg ? b.err.msg : "");
	if (r == 0) {
		const struct kiln_df_step *cp = step(&b, 0, 3);
		TAP_INT_EQ((long) cp->unset_vars.n, 4, "COPY used four unset variables");
		/* a word's names come sorted (the shell's unmatched set), words in order */
		TAP_STR_EQ(cp->unset_vars.n > 3 ? cp->unset_vars.v[0] : "", "A",
			   "an ARG without value or build arg is unset, once");
		TAP_STR_EQ(cp->unset_vars.n > 3 ? cp->unset_vars.v[1] : "", "G",
			   "a global ARG the stage does not declare is unset");
		TAP_STR_EQ(cp->unset_vars.n > 3 ? cp->unset_vars.v[2] : "", "HOME",
			   "an image ENV the graph does not know is unset");
		TAP_STR_EQ(cp->unset_vars.n > 3 ? cp->unset_vars.v[3] : "", "N",
			   "the next word's names follow");
		TAP_STR_EQ(cp->instr.u.copy.sources.v[0], "//1/e/x/",
			   "unset variables expand to nothing");
		TAP_INT_EQ((long) step(&b, 0, 4)->unset_vars.n, 0, "set variables are not unset");
		const struct kiln_df_step *ex = step(&b, 0, 5);
		TAP_OK(ex->unset_vars.n == 1 && !strcmp(ex->unset_vars.v[0], "P"),
		       "EXPOSE records its unset variables too");
	}
	built_release(&b);
}

static void test_errors(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(gerrs); i++) {
		struct kiln_df_graph_opts o = { .target = gerrs[i].target };
		struct built b;
		int r = build_opts(gerrs[i].df, &o, &b);
		int ok = r < 0 && b.err.msg && !strcmp(b.err.msg, gerrs[i].msg) &&
			 b.err.pos.line == gerrs[i].line;
		if (!ok)
			tap_diag("got r=%d line %d: %s", r, b.err.pos.line,
				 b.err.msg ? b.err.msg : "");
		TAP_OK(ok, "graph error %zu: %s", i, gerrs[i].msg);
		built_release(&b);
	}
}

/* ---- the stage graph ---- */

static void test_graph(void)
{
	struct built b;
	int r = build("ARG BASE=alpine:3.19\n"
		      "FROM busybox AS tool\n"
		      "FROM ${BASE} AS a\n"
		      "FROM a AS b\n"
		      "RUN --mount=from=tool,target=/t true\n"
		      "FROM a AS c\n"
		      "COPY --from=1 /x /x\n"
		      "FROM scratch AS d\n"
		      "COPY --from=b /x /x\n"
		      "COPY --from=c /y /y\n"
		      "COPY --from=nginx:1 /z /z\n"
		      "FROM d AS final\n",
		      &b);
	TAP_OK(r == 0, "diamond builds: %s", b.err.msg ? b.err.msg : "");
	if (r == 0) {
		struct kiln_df_graph *g = b.g;
		TAP_INT_EQ((long) g->n_stages, 6, "six stages");
		TAP_INT_EQ((long) g->target, 5, "target: the last stage");
		TAP_STR_EQ(g->stages[1].base, "alpine:3.19", "base image expanded");
		TAP_STR_EQ(kv(&g->stages[1].from_args, "BASE"), "alpine:3.19", "FROM uses BASE");
		TAP_INT_EQ(g->stages[2].base_kind, KILN_DF_BASE_STAGE, "b is based on a stage");
		TAP_INT_EQ((long) g->stages[2].base_stage, 1, "b's base is a");
		TAP_INT_EQ(g->stages[4].base_kind, KILN_DF_BASE_SCRATCH, "d is scratch");
		TAP_INT_EQ((long) g->stages[3].n_deps, 2, "c: FROM a and COPY --from=1");
		TAP_INT_EQ(g->stages[3].deps[1].kind, KILN_DF_EDGE_COPY, "COPY --from=1 edge");
		TAP_INT_EQ((long) g->stages[3].deps[1].stage, 1, "--from=1 is stage a");
		TAP_INT_EQ((long) g->stages[2].deps[1].stage, 0, "b mounts from tool");
		TAP_INT_EQ(g->stages[2].deps[1].kind, KILN_DF_EDGE_MOUNT, "mount edge");
		TAP_INT_EQ((long) g->stages[4].n_images, 1, "d copies from an image");
		TAP_STR_EQ(g->stages[4].images[0].ref, "nginx:1", "the image");
		TAP_STR_EQ(g->stages[5].id, "final", "stage id");
		TAP_INT_EQ((long) g->n_levels, 4, "four levels");
		TAP_INT_EQ((long) g->level_sizes[0], 2, "level 0: tool and a");
		TAP_INT_EQ((long) g->level_sizes[1], 2, "level 1: b and c");
		TAP_INT_EQ(g->stages[4].level, 2, "d after b and c");
		TAP_INT_EQ(g->stages[5].level, 3, "the target last");
		TAP_OK(g->stages[2].steps[0].mount_stages[0] == 0, "mount reads stage tool");
		TAP_OK(g->stages[4].steps[0].source_stage == 2, "COPY --from=b reads stage b");
	}
	built_release(&b);

	struct kiln_df_graph_opts o = { .target = "B" };
	r = build_opts("FROM x AS a\nFROM x AS b\nFROM x AS c\n", &o, &b);
	TAP_OK(r == 0 && b.g->target == 1 && b.g->stages[1].needed && !b.g->stages[0].needed &&
		       !b.g->stages[2].needed && b.g->stages[0].level == -1 &&
		       !b.g->stages[0].dispatched,
	       "target found case-insensitively; the others skipped and not dispatched");
	built_release(&b);

	o = (struct kiln_df_graph_opts){ .target = "a", .flags = KILN_DF_GRAPH_ALL_STAGES };
	r = build_opts("FROM x AS a\nFROM x AS b\nENV X=1\n", &o, &b);
	TAP_OK(r == 0 && b.g->stages[1].dispatched && !b.g->stages[1].needed,
	       "all-stages mode dispatches every stage");
	built_release(&b);

	o = (struct kiln_df_graph_opts){ .target = "x" };
	r = build_opts("FROM a AS x\nFROM b AS x\n", &o, &b);
	TAP_OK(r == 0 && b.g->target == 1, "a name used twice: --target takes the last");
	built_release(&b);
	/* BuildKit: FROM sees the stages before it, --from every stage */
	r = build("FROM a AS base\nFROM base AS mid\nFROM b AS BASE\n"
		  "FROM c\nCOPY --from=base /x /y\nCOPY --from=mid /x /z\n",
		  &b);
	TAP_OK(r == 0 && b.g->stages[1].base_kind == KILN_DF_BASE_STAGE &&
		       b.g->stages[1].base_stage == 0 && b.g->stages[3].steps[0].source_stage == 2,
	       "a name used twice: FROM finds the one before it, COPY --from the last");
	built_release(&b);

	r = build("FROM later\nFROM alpine AS later\n", &b);
	TAP_OK(r == 0 && b.g->stages[0].base_kind == KILN_DF_BASE_IMAGE,
	       "FROM a later stage's name is an image");
	built_release(&b);
	r = build("FROM alpine AS build\nFROM Build\n", &b);
	TAP_OK(r == 0 && b.g->stages[1].base_kind == KILN_DF_BASE_IMAGE,
	       "FROM matches stage names exactly (BuildKit's map lookup)");
	built_release(&b);
	r = build("FROM alpine AS a\nFROM x\nCOPY --from=A /x /y\n", &b);
	TAP_OK(r == 0 && b.g->stages[1].n_deps == 1 && b.g->stages[1].deps[0].stage == 0,
	       "COPY --from matches stage names case-insensitively");
	built_release(&b);
	r = build("FROM alpine AS a\nFROM x\nCOPY --from=stage-0 /x /y\n", &b);
	TAP_OK(r == 0 && b.g->stages[1].n_images == 2,
	       "COPY --from=stage-0 is an image, not stage 0");
	built_release(&b);

	struct kiln_df_platform arm;
	if (kiln_df_platform_parse("linux/arm64", &arm, NULL) == 0) {
		o = (struct kiln_df_graph_opts){ .target = "child", .target_platform = &arm };
		r = build_opts("FROM --platform=$BUILDPLATFORM golang AS build\n"
			       "ARG TARGETARCH\nENV GOARCH=$TARGETARCH\n"
			       "FROM build AS child\n"
			       "FROM alpine\n",
			       &o, &b);
		TAP_OK(r == 0, "cross build: %s", b.err.msg ? b.err.msg : "");
		if (r == 0) {
			char *p0 = kiln_df_platform_format(&b.g->stages[0].platform);
			char *p1 = kiln_df_platform_format(&b.g->stages[1].platform);
			char *p2 = kiln_df_platform_format(&b.g->stages[2].platform);
			char *bp = kiln_df_platform_format(&b.g->build_platform);
			TAP_STR_EQ(p0, bp,
				   "--platform=$BUILDPLATFORM builds on the build platform");
			TAP_STR_EQ(p1, bp, "a stage based on a stage has its platform");
			TAP_STR_EQ(p2, "linux/arm64", "other stages build for the target platform");
			const struct kiln_df_step *env = step(&b, 0, 1);
			TAP_STR_EQ(env ? env->instr.u.pairs.v[0].value : NULL, "arm64",
				   "TARGETARCH in the stage");
			free(p0);
			free(p1);
			free(p2);
			free(bp);
		}
		built_release(&b);
		kiln_df_platform_release(&arm);
	}
}

/*
 * A graph made with shared defaults borrows their platforms' strings; one
 * that makes its own defaults copies them before it frees those defaults.
 */
static void test_shared_defaults(void)
{
	struct kiln_df_platform arm;
	if (kiln_df_platform_parse("linux/arm64/v8", &arm, NULL) < 0) {
		TAP_OK(0, "parsing linux/arm64/v8");
		return;
	}
	const char *df = "FROM --platform=$BUILDPLATFORM golang AS build\nFROM build\n";
	struct kiln_df_graph_opts o = { .target_platform = &arm };
	struct kiln_df_graph_defaults *d = NULL;
	int r = kiln_df_graph_defaults_new(&o, &d, NULL);
	TAP_OK(r == 0, "defaults made");
	struct built own, shared;
	int r1 = build_opts(df, &o, &own);
	struct kiln_df_graph_opts so = { .defaults = d };
	int r2 = r == 0 ? build_opts(df, &so, &shared) : -1;
	TAP_OK(r1 == 0 && r2 == 0, "both graphs built");
	if (r1 == 0 && r2 == 0) {
		const struct kiln_df_platform *a[] = { &own.g->build_platform,
						       &own.g->target_platform,
						       &own.g->stages[1].platform };
		const struct kiln_df_platform *b[] = { &shared.g->build_platform,
						       &shared.g->target_platform,
						       &shared.g->stages[1].platform };
		for (size_t i = 0; i < 3; i++) {
			char *fa = kiln_df_platform_format_all(a[i]);
			char *fb = kiln_df_platform_format_all(b[i]);
			TAP_STR_EQ(fa, fb, "platform %zu: own defaults and shared agree", i);
			free(fa);
			free(fb);
		}
		TAP_STR_EQ(own.g->target_platform.variant, "v8", "own defaults: variant copied");
		TAP_STR_EQ(shared.g->target_platform.variant, "v8", "shared: variant borrowed");
		TAP_OK(own.g->target_platform.arch != arm.arch &&
			       shared.g->target_platform.arch != arm.arch,
		       "neither graph points at the caller's platform");
	}
	built_release(&own);
	if (r == 0)
		built_release(&shared);
	kiln_df_graph_defaults_free(d);
	kiln_df_platform_release(&arm);
}

/* ---- ONBUILD and base image configs ---- */

static int image_config(void *ud, const char *ref, const struct kiln_df_platform *p,
			struct kiln_df_image_config *ret, struct kiln_error *err)
{
	static const char *const env[] = { "GOPATH=/go", "PATH=/go/bin:/usr/bin" };
	static const char *const shell[] = { "/bin/bash", "-c" };
	static const char *const onbuild[] = { "COPY --from=tool /t /t" };
	(void) p;
	(void) err;
	int *calls = ud;
	(*calls)++;
	if (strcmp(ref, "golang") != 0)
		return 0;
	*ret = (struct kiln_df_image_config){ .env = env,
					      .n_env = 2,
					      .working_dir = "go",
					      .user = "gopher",
					      .shell = shell,
					      .n_shell = 2,
					      .onbuild = onbuild,
					      .n_onbuild = 1 };
	return 1;
}

static int ref_lower(void *ud, const char *s, struct kiln_error *err)
{
	(void) ud;
	for (const char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return kiln_fail(err, KILN_EPARSE, 0, "invalid reference format");
	return 0;
}

/* more stages than a name table holds without allocating, more edges than a list's first room */
static void test_many_stages(void)
{
	struct kiln_buf df = KILN_BUF_INIT;
	int r = 0;
	for (int i = 0; r >= 0 && i < 12; i++)
		r = i == 9 ? kiln_buf_addstr(&df, "FROM a\nRUN x\n") /* unnamed: stage-9 */
			   : kiln_buf_addf(&df, "FROM a AS s%d\nRUN x\n", i);
	if (r >= 0)
		r = kiln_buf_addstr(&df, "FROM s3\nCOPY --from=s10 / /\nCOPY --from=s0 / /\n"
					 "COPY --from=S7 / /\n"
					 "RUN --mount=from=s11,target=/m true\n");
	if (r < 0)
		abort();
	struct built b;
	r = build(df.buf, &b);
	TAP_OK(r == 0, "thirteen stages build: %s", b.err.msg ? b.err.msg : "");
	if (r == 0) {
		const struct kiln_df_stage *last = &b.g->stages[12];
		TAP_INT_EQ(last->base_kind, KILN_DF_BASE_STAGE, "the last is based on a stage");
		TAP_INT_EQ((long) last->base_stage, 3, "its base is s3");
		TAP_INT_EQ((long) last->n_deps, 5, "FROM, three COPY --from and a mount");
		TAP_INT_EQ((long) last->deps[1].stage, 10, "--from=s10");
		TAP_INT_EQ((long) last->deps[2].stage, 0, "--from=s0");
		TAP_INT_EQ((long) last->deps[3].stage, 7, "--from=S7 (names match lower-cased)");
		TAP_INT_EQ((long) last->deps[4].stage, 11, "mount from=s11");
		TAP_STR_EQ(b.g->stages[9].id, "stage-9", "an unnamed stage's id");
		TAP_STR_EQ(b.g->stages[12].id, "stage-12", "a two-digit unnamed stage's id");
		TAP_STR_EQ(b.g->stages[0].id, "s0", "a named stage's id");
	}
	built_release(&b);
	kiln_buf_release(&df);
}

static void test_references(void)
{
	static const struct {
		const char *df;
		const char *msg;
		int line;
	} cases[] = {
		{ "FROM Alpine AS x\nFROM a\n",
		  "failed to parse stage name \"Alpine\": invalid reference format", 1 },
		{ "FROM a\nCOPY --from=Tool /x /y\n",
		  "failed to parse stage name \"Tool\": invalid reference format", 2 },
		{ "FROM a AS base\nONBUILD COPY --from=Bad /x /y\nFROM base\n",
		  "failed to parse stage name \"Bad\": invalid reference format", 3 },
	};
	struct kiln_df_hooks hooks = { .reference_check = ref_lower };
	struct kiln_df_graph_opts o = { .hooks = &hooks };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct built b;
		int r = build_opts(cases[i].df, &o, &b);
		TAP_OK(r < 0 && b.err.msg && !strcmp(b.err.msg, cases[i].msg) &&
			       b.err.pos.line == cases[i].line,
		       "reference check %zu: %s (line %d)", i, b.err.msg ? b.err.msg : "",
		       b.err.pos.line);
		built_release(&b);
	}
}

static void test_onbuild_and_images(void)
{
	struct built b;
	int r = build("FROM alpine AS base\n"
		      "ONBUILD RUN echo from-base\n"
		      "ONBUILD COPY --from=tool /t /t\n"
		      "FROM busybox AS tool\n"
		      "FROM base\n"
		      "RUN echo child\n",
		      &b);
	TAP_OK(r == 0, "onbuild file builds: %s", b.err.msg ? b.err.msg : "");
	if (r == 0) {
		const struct kiln_df_stage *st = &b.g->stages[2];
		TAP_INT_EQ((long) st->n_steps, 3, "two triggers then the stage's own step");
		TAP_OK(st->steps[0].instr.flags & KILN_DF_INSTR_FROM_ONBUILD,
		       "replayed trigger flagged");
		TAP_STR_EQ(st->steps[0].instr.u.run.cmd.args.v[0], "echo from-base",
			   "trigger typed");
		TAP_INT_EQ(st->steps[0].instr.start_line, 5, "trigger located at the FROM");
		TAP_OK(st->n_deps == 2 && st->deps[1].from_onbuild && st->deps[1].stage == 1,
		       "the trigger's COPY --from adds an edge");
		TAP_OK(b.g->stages[1].needed, "the trigger makes tool needed");
		TAP_INT_EQ((long) b.g->stages[0].n_steps, 2,
			   "the base's own ONBUILDs are not run there");
	}
	built_release(&b);

	int calls = 0;
	struct kiln_df_hooks hooks = { .userdata = &calls, .image_config = image_config };
	struct kiln_df_graph_opts o = { .hooks = &hooks };
	r = build_opts("FROM busybox AS tool\nFROM alpine AS unused\n"
		       "FROM golang\nENV X=$GOPATH\nWORKDIR src\nRUN true\nCMD run\n",
		       &o, &b);
	TAP_OK(r == 0, "image config file builds: %s", b.err.msg ? b.err.msg : "");
	if (r == 0) {
		const struct kiln_df_stage *st = &b.g->stages[2];
		TAP_INT_EQ(calls, 2, "configs asked for the needed image stages only");
		TAP_STR_EQ(st->steps[1].instr.u.pairs.v[0].value, "/go", "base image ENV expands");
		TAP_OK(st->steps[0].instr.flags & KILN_DF_INSTR_FROM_ONBUILD,
		       "the image's ONBUILD is replayed");
		TAP_STR_EQ(st->steps[2].workdir, "/go/src", "relative WORKDIR on the image's");
		TAP_STR_EQ(kv(&st->steps[3].env, "PATH"), "/go/bin:/usr/bin",
			   "the image's PATH is kept");
		TAP_STR_EQ(st->steps[3].shell.v[0], "/bin/bash", "the image's SHELL");
		TAP_STR_EQ(st->steps[3].user, "gopher", "the image's USER");
	}
	built_release(&b);
}

/*
 * Allocation failures: in a -Dfailmalloc=true build, fail the Nth allocation
 * of typing and walking a rich file, for every N, and require -KILN_ENOMEM
 * and nothing else (ASan checks that nothing leaks).
 */
static void test_failmalloc(void)
{
#ifdef KILN_FAILMALLOC
	static const char df[] =
		"ARG A=1\nARG B=${A}x\nFROM --platform=$BUILDPLATFORM img:$B AS base\n"
		"ONBUILD COPY --from=tool /t /t\nARG C=2\nENV D=$C E=${C:-x}\n"
		"FROM busybox AS tool\nFROM base AS app\nWORKDIR rel\n"
		"RUN --mount=type=cache,target=/c,id=$C --mount=from=tool,target=/t true\n"
		"COPY --chown=$C --chmod=u+x <<EOF a b ./\n$D\nEOF\nEXPOSE 80/udp 1-3\n"
		"LABEL k=v\nUSER u\nVOLUME /v\nSTOPSIGNAL TERM\nCMD x\nCOPY --from=nginx / /\n";
	struct kiln_df_ast *ast = NULL;
	if (kiln_df_parse(df, sizeof(df) - 1, NULL, &ast, NULL) < 0)
		return;
	const char *args[] = { "A=3", "HTTP_PROXY=p", "UNUSED=1" };
	int failures = 0, oks = 0, bad = 0;
	for (long n = 0; n < 100000; n++) {
		struct kiln_df_model *m = NULL;
		struct kiln_df_graph *g = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		struct kiln_df_graph_opts o = { .build_args = args, .n_build_args = 3 };
		kiln_alloc_fail_after(n);
		int r = kiln_df_model_new(ast, &m, &err);
		if (r == 0)
			r = kiln_df_graph_new(m, &o, &g, &err);
		kiln_alloc_fail_after(-1);
		kiln_df_graph_free(g);
		kiln_df_model_free(m);
		if (r == 0) {
			oks++;
			break;
		}
		bad += r != -KILN_ENOMEM || err.code != KILN_ENOMEM;
		if (r != -KILN_ENOMEM)
			tap_diag("allocation %ld: %d %s", n, r, err.msg ? err.msg : "");
		failures++;
		kiln_error_release(&err);
	}
	kiln_df_ast_free(ast);
	TAP_INT_EQ(bad, 0, "every failed allocation gives -KILN_ENOMEM (%d tried)", failures);
	TAP_INT_EQ(oks, 1, "the walk succeeds once allocations do");
#else
	tap_skip("not a -Dfailmalloc=true build", "allocation failures");
#endif
}

int main(void)
{
	test_failmalloc();
	test_scopes();
	test_expansion();
	test_unset_vars();
	test_errors();
	test_graph();
	test_shared_defaults();
	test_many_stages();
	test_onbuild_and_images();
	test_references();
	return tap_done();
}
