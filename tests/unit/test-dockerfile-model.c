/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The typed instruction model: every instruction's arguments and flags,
 * BuildKit's errors for bad input (message and line), RUN mounts and
 * devices, --chmod, platforms, durations.
 */
#include <string.h>

#include "base/base.h"
#include "dockerfile/dockerfile.h"
#include "dockerfile/model-internal.h"
#include "tap.h"

struct typed {
	struct kiln_df_ast *ast;
	struct kiln_df_model *m;
	struct kiln_error err;
};

static int type_file(const char *df, struct typed *t)
{
	memset(t, 0, sizeof(*t));
	int r = kiln_df_parse(df, strlen(df), "Dockerfile", &t->ast, &t->err);
	if (r < 0)
		return r;
	return kiln_df_model_new(t->ast, &t->m, &t->err);
}

static void typed_release(struct typed *t)
{
	kiln_df_model_free(t->m);
	kiln_df_ast_free(t->ast);
	kiln_error_release(&t->err);
}

/* ---- errors: message and line, in BuildKit's words ---- */

struct err_case {
	const char *df;
	const char *msg; /* exact message */
	int line;
};

static const struct err_case errors[] = {
	{ "FROM alpine\nRUNN true\n", "unknown instruction: RUNN (did you mean RUN?)", 2 },
	{ "FROM alpine\ncopyy a b\n", "unknown instruction: copyy (did you mean copy?)", 2 },
	{ "FROM alpine\nBADCMD\n", "unknown instruction: BADCMD", 2 },
	{ "FROM alpine\nCOPY --fro=x a b\n", "unknown flag: --fro (did you mean from?)", 2 },
	{ "FROM alpine\nADD --from=x a b\n", "unknown flag: --from", 2 },
	{ "FROM alpine\nCOPY --link=maybe a b\n",
	  "expecting boolean value for flag --link, not: maybe", 2 },
	{ "FROM alpine\nCOPY --from a b\n", "missing a value on flag: --from", 2 },
	{ "FROM alpine\nCOPY --link= a b\n", "missing a value on flag: --link", 2 },
	{ "FROM alpine\nCOPY --exclude a b\n", "missing a value on flag: --exclude", 2 },
	{ "FROM alpine\nCOPY --chown=a --chown=b x y\n", "duplicate flag specified: --chown", 2 },
	{ "FROM alpine\nADD foo\n",
	  "ADD requires at least two arguments, but only one was provided. Destination could "
	  "not be determined",
	  2 },
	{ "FROM alpine\nCOPY foo\n",
	  "COPY requires at least two arguments, but only one was provided. Destination could "
	  "not be determined",
	  2 },
	{ "FROM alpine\nCOPY <<EOF <<OUT\nx\nEOF\ny\nOUT\n",
	  "COPY cannot accept a heredoc as a destination", 2 },
	{ "FROM alpine AS 1x\n",
	  "invalid name for build stage: \"1x\", name can't start with a number or contain symbols",
	  1 },
	{ "FROM alpine AS a$b\n",
	  "invalid name for build stage: \"a$b\", name can't start with a number or contain "
	  "symbols",
	  1 },
	{ "FROM alpine b\n", "FROM requires either one or three arguments", 1 },
	{ "FROM a b c d\n", "FROM requires either one or three arguments", 1 },
	{ "FROM --platfrom=x alpine\n", "unknown flag: --platfrom (did you mean platform?)", 1 },
	{ "FROM --plat=x alpine\n", "unknown flag: --plat", 1 },
	{ "FROM alpine\nONBUILD ONBUILD RUN x\n",
	  "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", 2 },
	{ "FROM alpine\nONBUILD FROM x\n", "FROM isn't allowed as an ONBUILD trigger", 2 },
	{ "FROM alpine\nonbuild maintainer x\n", "MAINTAINER isn't allowed as an ONBUILD trigger",
	  2 },
	{ "FROM alpine\nWORKDIR\n", "WORKDIR requires exactly one argument", 2 },
	{ "FROM alpine\nUSER\n", "USER requires exactly one argument", 2 },
	{ "FROM alpine\nMAINTAINER\n", "MAINTAINER requires exactly one argument", 2 },
	{ "FROM alpine\nSTOPSIGNAL\n", "STOPSIGNAL requires exactly one argument", 2 },
	/* the first argument with a NUL byte fails, wherever it is in the list */
	{ "FROM alpine\nRUN [\"a\\u0000b\"]\n", "NUL byte in the arguments of RUN", 2 },
	{ "FROM alpine\nCMD [\"a\", \"b\", \"c\\u0000\"]\n", "NUL byte in the arguments of CMD",
	  2 },
	{ "FROM alpine\nEXPOSE\n", "EXPOSE requires at least one argument", 2 },
	{ "FROM alpine\nVOLUME\n", "VOLUME requires at least one argument", 2 },
	{ "FROM alpine\nVOLUME [\"/a\", \" \"]\n", "VOLUME specified can not be an empty string",
	  2 },
	{ "FROM alpine\nSHELL /bin/bash -c\n", "SHELL requires the arguments to be in JSON form",
	  2 },
	{ "FROM alpine\nSHELL []\n", "SHELL requires at least one argument", 2 },
	{ "FROM alpine\nARG\n", "ARG requires at least one argument", 2 },
	{ "FROM alpine\nARG =x\n", "ARG names can not be blank", 2 },
	{ "FROM alpine\nHEALTHCHECK\n", "HEALTHCHECK requires at least one argument", 2 },
	{ "FROM alpine\nHEALTHCHECK NONE x\n", "HEALTHCHECK NONE takes no arguments", 2 },
	{ "FROM alpine\nHEALTHCHECK FOO x\n", "Unknown type \"FOO\" in HEALTHCHECK (try CMD)", 2 },
	{ "FROM alpine\nHEALTHCHECK CMD\n", "Missing command after HEALTHCHECK CMD", 2 },
	{ "FROM alpine\nHEALTHCHECK --interval=1ns CMD x\n",
	  "Interval \"interval\" cannot be less than 1ms", 2 },
	{ "FROM alpine\nHEALTHCHECK --start-interval=999us CMD x\n",
	  "Interval \"start-interval\" cannot be less than 1ms", 2 },
	{ "FROM alpine\nHEALTHCHECK --timeout=10 CMD x\n", "time: missing unit in duration \"10\"",
	  2 },
	{ "FROM alpine\nHEALTHCHECK --timeout=5x CMD x\n",
	  "time: unknown unit \"x\" in duration \"5x\"", 2 },
	{ "FROM alpine\nHEALTHCHECK --start-period=abc CMD x\n", "time: invalid duration \"abc\"",
	  2 },
	{ "FROM alpine\nHEALTHCHECK --retries=-1 CMD x\n", "--retries cannot be negative (-1)", 2 },
	{ "FROM alpine\nHEALTHCHECK --retries=x CMD x\n",
	  "strconv.ParseInt: parsing \"x\": invalid syntax", 2 },
	{ "FROM alpine\nHEALTHCHECK --retries=99999999999 CMD x\n",
	  "strconv.ParseInt: parsing \"99999999999\": value out of range", 2 },
	{ "FROM alpine\nHEALTHCHECK --foo=1 CMD x\n", "unknown flag: --foo", 2 },
	{ "FROM alpine\nRUN --network=bridge true\n", "invalid network mode \"bridge\"", 2 },
	{ "FROM alpine\nRUN --security=foo true\n", "security \"foo\" is not valid", 2 },
	{ "FROM alpine\nRUN --mount=from=$X,target=/x true\n",
	  "'from' doesn't support variable expansion, define alias stage instead", 2 },
	{ "FROM alpine\nRUN --mount=target=/x,FrOm=$Y true\n",
	  "'from' doesn't support variable expansion, define alias stage instead", 2 },
	{ "FROM alpine\nRUN --mount=type=bind,\\\"a true\n",
	  "failed to parse csv mounts: extraneous or missing \" in quoted-field", 2 },
	{ "FROM alpine\nRUN --mount=src=a\\\"b true\n",
	  "failed to parse csv mounts: bare \" in non-quoted-field", 2 },
	{ "FROM alpine\nRUN --device=a,b true\n", "invalid field 'b' must be a key=value pair", 2 },
	{ "FROM alpine\nRUN --device=name=a,name=b true\n", "device name already set to a", 2 },
	{ "FROM alpine\nRUN --devic=a true\n", "unknown flag: --devic (did you mean device?)", 2 },
	{ "FROM alpine\nRUN \\\n  --mont=a \\\n  true\n",
	  "unknown flag: --mont (did you mean mount?)", 2 },
	{ "RUN true\nFROM alpine\n", "no build stage in current context", 1 },
	{ "ARG A=1\nENV B=2\nFROM alpine\n", "no build stage in current context", 2 },
	{ "ARG A=1\n", "dockerfile contains no stages to build", 0 },
};

/* ---- successful typing ---- */

static void test_from(void)
{
	struct typed t;
	int r = type_file("ARG P\nFROM --platform=$P ubuntu:22.04 AS Build\n", &t);
	TAP_OK(r == 0, "FROM types");
	if (r == 0) {
		TAP_INT_EQ((long) t.m->n_meta_args, 1, "one global ARG");
		const struct kiln_df_from *f = &t.m->stages[0].from->u.from;
		TAP_STR_EQ(f->base, "ubuntu:22.04", "FROM base as written");
		TAP_STR_EQ(f->name, "build", "stage name lower-cased");
		TAP_STR_EQ(f->name_raw, "Build", "stage name as written");
		TAP_STR_EQ(f->as_raw, "AS", "AS keyword as written");
		TAP_STR_EQ(f->platform, "$P", "--platform unexpanded");
	}
	typed_release(&t);
	r = type_file("FROM a AS low\nFROM b AS \xe2\x84\xaax\n", &t);
	TAP_OK(r == 0, "FROM names in other cases type");
	if (r == 0) {
		TAP_STR_EQ(t.m->stages[0].from->u.from.name, "low", "a lower-case name as it is");
		TAP_STR_EQ(t.m->stages[1].from->u.from.name, "kx", "the Kelvin sign lowers to k");
	}
	typed_release(&t);
}

static void test_run(void)
{
	struct typed t;
	int r = type_file("FROM alpine\n"
			  "RUN --mount=type=cache,target=/root/.cache --network=none "
			  "--security=insecure --device=name=gpu0,required apk add x\n"
			  "RUN [\"echo\", \"a b\"]\n"
			  "RUN <<EOF\necho hi\nEOF\n"
			  "run --mount=type=bind,target=/a --mount=type=tmpfs,target=/b true\n"
			  "RUN [\"\", \"a\\\"b\", \"\xc3\xa9\", \"x y\"]\n",
			  &t);
	TAP_OK(r == 0, "RUN types");
	if (r == 0) {
		const struct kiln_df_run *run = &t.m->stages[0].instrs[1].u.run;
		TAP_INT_EQ((long) run->mount_specs.n, 1, "one --mount kept for expansion");
		TAP_STR_EQ(run->mount_specs.v[0], "type=cache,target=/root/.cache",
			   "mount spec as written");
		TAP_INT_EQ(run->network, KILN_DF_NETWORK_NONE, "--network=none");
		TAP_INT_EQ(run->security, KILN_DF_SECURITY_INSECURE, "--security=insecure");
		TAP_INT_EQ((long) run->n_devices, 1, "one device");
		TAP_STR_EQ(run->devices[0].name, "gpu0", "device name");
		TAP_INT_EQ(run->devices[0].required, 1, "device required");
		TAP_INT_EQ((long) run->flags_used.n, 4, "four flags used");
		TAP_STR_EQ(run->cmd.args.v[0], "apk add x", "shell form: one string");
		TAP_INT_EQ(run->cmd.exec_form, 0, "shell form");
		const struct kiln_df_run *ex = &t.m->stages[0].instrs[2].u.run;
		TAP_INT_EQ(ex->cmd.exec_form, 1, "exec form");
		TAP_INT_EQ((long) ex->cmd.args.n, 2, "exec form: the array");
		TAP_STR_EQ(ex->cmd.args.v[1], "a b", "exec form element");
		TAP_INT_EQ(ex->network, KILN_DF_NETWORK_DEFAULT, "default network");
		const struct kiln_df_run *hd = &t.m->stages[0].instrs[3].u.run;
		TAP_INT_EQ((long) hd->cmd.n_files, 1, "heredoc file");
		TAP_STR_EQ(hd->cmd.files[0].data, "echo hi\n", "heredoc body");
		TAP_STR_EQ(run->flags_used.v[0], "mount", "flags used in order: first");
		TAP_STR_EQ(run->flags_used.v[3], "device", "flags used in order: last");
		const struct kiln_df_instr *two = &t.m->stages[0].instrs[4];
		TAP_STR_EQ(two->keyword, "run", "keyword as written");
		TAP_INT_EQ((long) two->u.run.mount_specs.n, 2, "two --mount flags");
		TAP_STR_EQ(two->u.run.mount_specs.v[1], "type=tmpfs,target=/b", "second --mount");
		TAP_INT_EQ((long) two->u.run.flags_used.n, 2, "a repeated flag is used twice");
		const struct kiln_df_words *js = &t.m->stages[0].instrs[5].u.run.cmd.args;
		TAP_INT_EQ((long) js->n, 4, "JSON: four strings");
		TAP_STR_EQ(js->v[0], "", "JSON: an empty string");
		TAP_STR_EQ(js->v[1], "a\"b", "JSON: an escape");
		TAP_STR_EQ(js->v[2], "\xc3\xa9", "JSON: UTF-8");
		TAP_STR_EQ(js->v[3], "x y", "JSON: plain ASCII");
	}
	typed_release(&t);
}

static void test_copy_add(void)
{
	struct typed t;
	int r = type_file("FROM alpine\n"
			  "COPY --from=build --chown=1:2 --chmod=u+x --link --parents "
			  "--exclude=*.md --exclude=tmp a b /dst/\n"
			  "ADD --checksum=sha256:abc --keep-git-dir=false https://x/y.tgz /d\n"
			  "ADD --unpack=true a.tar /d\n"
			  "COPY <<EOF <<-\"TWO\" /etc/\nhello $X\nEOF\n\tindented\n\tTWO\n"
			  "COPY [\"a b\", \"/c d/\"]\n"
			  "COPY a<b <<c /d/\nbody\nc\n"
			  "COPY s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 s12 s13 s14 s15 s16 s17 "
			  "/many/\n",
			  &t);
	TAP_OK(r == 0, "COPY/ADD type");
	if (r == 0) {
		const struct kiln_df_instr *in = t.m->stages[0].instrs;
		const struct kiln_df_copy *c = &in[1].u.copy;
		TAP_STR_EQ(c->from, "build", "--from");
		TAP_STR_EQ(c->chown, "1:2", "--chown");
		TAP_STR_EQ(c->chmod, "u+x", "--chmod");
		TAP_INT_EQ(c->link, 1, "--link");
		TAP_INT_EQ(c->parents, 1, "--parents");
		TAP_INT_EQ((long) c->excludes.n, 2, "--exclude twice");
		TAP_STR_EQ(c->excludes.v[1], "tmp", "second --exclude");
		TAP_INT_EQ((long) c->sources.n, 2, "two sources");
		TAP_STR_EQ(c->dest, "/dst/", "destination");
		const struct kiln_df_copy *a = &in[2].u.copy;
		TAP_STR_EQ(a->checksum, "sha256:abc", "--checksum");
		TAP_INT_EQ(a->keep_git_dir, 0, "--keep-git-dir=false is set and false");
		TAP_INT_EQ(a->unpack, -1, "--unpack unset");
		TAP_INT_EQ(in[3].u.copy.unpack, 1, "--unpack=true");
		TAP_INT_EQ(in[3].u.copy.keep_git_dir, -1, "--keep-git-dir unset");
		const struct kiln_df_copy *h = &in[4].u.copy;
		TAP_INT_EQ((long) h->sources.n, 0, "heredoc sources are not paths");
		TAP_INT_EQ((long) h->n_inline, 2, "two inline sources");
		TAP_STR_EQ(h->inline_sources[0].data, "hello $X\n", "heredoc body unexpanded");
		TAP_INT_EQ(h->inline_sources[0].expand, 1, "unquoted delimiter expands");
		TAP_STR_EQ(h->inline_sources[1].data, "indented\n", "<<- chomps tabs");
		TAP_INT_EQ(h->inline_sources[1].expand, 0, "quoted delimiter does not expand");
		const struct kiln_df_copy *j = &in[5].u.copy;
		TAP_STR_EQ(j->sources.v[0], "a b", "JSON form source");
		TAP_STR_EQ(j->dest, "/c d/", "JSON form destination");
		const struct kiln_df_copy *lt = &in[6].u.copy;
		TAP_INT_EQ((long) lt->sources.n, 1, "a '<' alone opens no heredoc");
		TAP_STR_EQ(lt->sources.v[0], "a<b", "a source with '<' is a path");
		TAP_INT_EQ((long) lt->n_inline, 1, "the heredoc after it is inline");
		TAP_STR_EQ(lt->inline_sources[0].data, "body\n", "its body");
		const struct kiln_df_copy *many = &in[7].u.copy;
		TAP_INT_EQ((long) many->sources.n, 17, "more words than the short list holds");
		TAP_STR_EQ(many->sources.v[16], "s17", "the last of many sources");
		TAP_STR_EQ(many->dest, "/many/", "the destination after many sources");
		TAP_INT_EQ((long) in[1].u.copy.n_inline, 0, "no heredoc, no inline source");
	}
	typed_release(&t);
}

static void test_other(void)
{
	struct typed t;
	int r = type_file("FROM alpine\n"
			  "ENV A b c\n"
			  "ENV X=1 Y=\"2 3\"\n"
			  "LABEL k=v\n"
			  "ARG a=1 b\n"
			  "EXPOSE 8080 80/udp 443\n"
			  "VOLUME [\" /data \", \"/logs\"]\n"
			  "HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=2h "
			  "--start-interval=500ms --retries=3 CMD curl -f http://x/\n"
			  "HEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n"
			  "HEALTHCHECK NONE\n"
			  "ONBUILD RUN echo hi\n"
			  "SHELL [\"/bin/bash\", \"-c\"]\n"
			  "STOPSIGNAL SIGKILL\n"
			  "CMD echo a   b\n"
			  "ENTRYPOINT [\"/app\"]\n"
			  "USER 1000:1000\n"
			  "WORKDIR /a b\n"
			  "MAINTAINER someone\n",
			  &t);
	TAP_OK(r == 0, "the other instructions type");
	if (r == 0) {
		const struct kiln_df_instr *in = t.m->stages[0].instrs;
		TAP_STR_EQ(in[1].u.pairs.v[0].value, "b c", "legacy ENV value");
		TAP_INT_EQ(in[1].u.pairs.v[0].legacy, 1, "legacy ENV form");
		TAP_INT_EQ((long) in[2].u.pairs.n, 2, "two ENV pairs");
		TAP_STR_EQ(in[2].u.pairs.v[1].value, "\"2 3\"",
			   "ENV value keeps quotes until expansion");
		TAP_INT_EQ(in[2].u.pairs.v[1].legacy, 0, "k=v ENV form");
		TAP_INT_EQ((long) in[4].u.args.n, 2, "two ARG names");
		TAP_STR_EQ(in[4].u.args.v[0].value, "1", "ARG default");
		TAP_OK(in[4].u.args.v[1].value == NULL, "ARG without default");
		TAP_STR_EQ(in[5].u.words.v[0], "443", "EXPOSE sorted (first)");
		TAP_STR_EQ(in[5].u.words.v[2], "8080", "EXPOSE sorted (last)");
		TAP_STR_EQ(in[6].u.words.v[0], "/data", "VOLUME trimmed");
		const struct kiln_df_healthcheck *h = &in[7].u.health;
		TAP_STR_EQ(h->test.v[0], "CMD-SHELL", "shell-form healthcheck");
		TAP_STR_EQ(h->test.v[1], "curl -f http://x/", "healthcheck command");
		TAP_OK(h->interval == 90000000000LL, "--interval=1m30s");
		TAP_OK(h->timeout == 1500000000LL, "--timeout=1.5s");
		TAP_OK(h->start_period == 7200000000000LL, "--start-period=2h");
		TAP_OK(h->start_interval == 500000000LL, "--start-interval=500ms");
		TAP_INT_EQ(h->retries, 3, "--retries");
		TAP_STR_EQ(in[8].u.health.test.v[0], "CMD", "exec-form healthcheck");
		TAP_INT_EQ((long) in[8].u.health.test.n, 3, "exec-form healthcheck arguments");
		TAP_STR_EQ(in[9].u.health.test.v[0], "NONE", "HEALTHCHECK NONE");
		TAP_STR_EQ(in[10].u.onbuild.expression, "RUN echo hi", "ONBUILD expression");
		TAP_STR_EQ(in[10].u.onbuild.trigger, "RUN", "ONBUILD trigger");
		TAP_INT_EQ((long) in[11].u.cmdline.args.n, 2, "SHELL array");
		TAP_STR_EQ(in[12].u.value, "SIGKILL", "STOPSIGNAL");
		TAP_STR_EQ(in[13].u.cmdline.args.v[0], "echo a   b", "CMD shell form");
		TAP_INT_EQ(in[14].u.cmdline.exec_form, 1, "ENTRYPOINT exec form");
		TAP_STR_EQ(in[15].u.value, "1000:1000", "USER");
		TAP_STR_EQ(in[16].u.value, "/a b", "WORKDIR is the rest of the line");
		TAP_STR_EQ(in[17].u.value, "someone", "MAINTAINER");
		TAP_STR_EQ(kiln_df_cmd_upper(in[17].cmd), "MAINTAINER", "upper-case name");
	}
	typed_release(&t);

	r = type_file("FROM alpine\nSTOPSIGNAL --ignored SIGTERM\nARG --ignored=1 X\n", &t);
	TAP_OK(r == 0, "STOPSIGNAL and ARG do not parse flags (BuildKit ignores them)");
	typed_release(&t);
	r = type_file("FROM alpine\nHEALTHCHECK --interval=5 NONE\n", &t);
	TAP_OK(r == 0, "HEALTHCHECK NONE ignores its flags");
	typed_release(&t);
	r = type_file("FROM alpine\nHEALTHCHECK --interval=0s --timeout=0 CMD x\n", &t);
	TAP_OK(r == 0 && t.m->stages[0].instrs[1].u.health.interval == 0,
	       "zero durations are allowed");
	typed_release(&t);
	/* JSON strings are scanned four bytes a step: an escape or a control
	 * byte at each offset of a step, and a closing quote after it */
	for (size_t k = 0; k < 9; k++) {
		char df[64], want[16], tab[64];
		memset(want, 'a', k);
		memcpy(want + k, "\"x", 3);
		(void) snprintf(df, sizeof(df), "FROM alpine\nCMD [\"%.*s\\\"x\"]\n", (int) k,
				"aaaaaaaa");
		r = type_file(df, &t);
		TAP_OK(r == 0 && t.m->stages[0].instrs[1].u.cmdline.exec_form &&
			       !strcmp(t.m->stages[0].instrs[1].u.cmdline.args.v[0], want),
		       "JSON escape after %zu bytes", k);
		typed_release(&t);
		(void) snprintf(tab, sizeof(tab), "FROM alpine\nCMD [\"%.*s\tx\"]\n", (int) k,
				"aaaaaaaa");
		r = type_file(tab, &t);
		TAP_OK(r == 0 && !t.m->stages[0].instrs[1].u.cmdline.exec_form,
		       "control byte after %zu bytes: not JSON", k);
		typed_release(&t);
	}
	r = type_file("FROM alpine\nSHELL [\"c:\\\\windows\\\\cmd.exe\", \"/S\"]\n", &t);
	TAP_OK(r == 0 && !strcmp(t.m->stages[0].instrs[1].u.cmdline.args.v[0],
				 "c:\\windows\\cmd.exe"),
	       "SHELL JSON with escaped back-slashes");
	typed_release(&t);
	r = type_file("FROM alpine\nSHELL [\"c:\\windows\\cmd.exe\", \"/S\"]\n", &t);
	TAP_OK(r < 0 && t.err.msg &&
		       strstr(t.err.msg, "includes a file path without an escaped "
					 "back-slash"),
	       "SHELL hint for unescaped Windows paths: %s", t.err.msg ? t.err.msg : "");
	typed_release(&t);
}

static void test_errors(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(errors); i++) {
		struct typed t;
		int r = type_file(errors[i].df, &t);
		int ok = r < 0 && t.err.msg && strcmp(t.err.msg, errors[i].msg) == 0 &&
			 t.err.pos.line == errors[i].line;
		if (!ok)
			tap_diag("got r=%d line %d: %s", r, t.err.pos.line,
				 t.err.msg ? t.err.msg : "");
		TAP_OK(ok, "error %zu: %s", i, errors[i].msg);
		typed_release(&t);
	}
}

/* A raw NUL byte in the file: the arguments and flags that hold one still fail. */
static void test_nul_bytes(void)
{
	static const struct {
		const char *df;
		size_t len;
		const char *msg; /* NULL: typed */
	} cases[] = {
		{ "FROM alpine\nRUN a\0b\n", 20, "NUL byte in the arguments of RUN" },
		{ "FROM alpine\nCOPY --from=a\0b x y\n", 32, "NUL byte in a flag of COPY" },
		{ "FROM alpine\nONBUILD RUN a\0b\n", 28, "NUL byte in the arguments of ONBUILD" },
		/* in a comment only: every argument is free of it */
		{ "FROM alpine\n# a\0b\nRUN ab\n", 25, NULL },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct typed t;
		memset(&t, 0, sizeof(t));
		int r = kiln_df_parse(cases[i].df, cases[i].len, "Dockerfile", &t.ast, &t.err);
		if (r >= 0)
			r = kiln_df_model_new(t.ast, &t.m, &t.err);
		int ok = cases[i].msg ? r < 0 && t.err.msg && !strcmp(t.err.msg, cases[i].msg)
				      : r >= 0;
		if (!ok)
			tap_diag("got r=%d: %s", r, t.err.msg ? t.err.msg : "");
		TAP_OK(ok, "NUL byte case %zu", i);
		typed_release(&t);
	}
}

/* ---- RUN --mount after expansion ---- */

struct mount_case {
	const char *spec;
	const char *err; /* NULL: valid */
	enum kiln_df_mount_type type;
	int readonly;
};

static const struct mount_case mounts[] = {
	{ "target=/x", NULL, KILN_DF_MOUNT_BIND, 1 },
	{ "type=bind,source=a,target=/x,rw", NULL, KILN_DF_MOUNT_BIND, 0 },
	{ "type=bind,src=a,dst=/x,readwrite=true", NULL, KILN_DF_MOUNT_BIND, 0 },
	{ "type=cache,target=/x", NULL, KILN_DF_MOUNT_CACHE, 0 },
	{ "type=cache,target=/x,ro", NULL, KILN_DF_MOUNT_CACHE, 1 },
	{ "type=cache,id=go,target=/x,sharing=locked,mode=0700,uid=1000,gid=1000", NULL,
	  KILN_DF_MOUNT_CACHE, 0 },
	{ "type=tmpfs,target=/t,size=64m", NULL, KILN_DF_MOUNT_TMPFS, 0 },
	{ "type=secret,id=npm,target=/root/.npmrc,required", NULL, KILN_DF_MOUNT_SECRET, 1 },
	{ "type=secret,id=tok,env=TOKEN", NULL, KILN_DF_MOUNT_SECRET, 1 },
	{ "type=ssh,required=true", NULL, KILN_DF_MOUNT_SSH, 1 },
	{ "TYPE=CACHE,Target=/x", NULL, KILN_DF_MOUNT_CACHE, 0 },
	{ "type=Cache,target=/x,Sharing=PRIVATE", NULL, KILN_DF_MOUNT_CACHE, 0 },
	{ "\"type=cache\",\"target=/a,b\",ro", NULL, KILN_DF_MOUNT_CACHE, 1 },
	{ "type=cache,\"target=/x\"\"y\"", NULL, KILN_DF_MOUNT_CACHE, 0 },
	{ "type=cachex,target=/x", "unsupported mount type \"cachex\" (did you mean cache?)", 0,
	  0 },
	{ "target=/x,AVeryLongUnknownKeyName=1",
	  "unexpected key 'averylongunknownkeyname' in 'AVeryLongUnknownKeyName=1'", 0, 0 },
	{ "target=/x,FifteenLetterKy=1", "unexpected key 'fifteenletterky' in 'FifteenLetterKy=1'",
	  0, 0 },
	{ "target=/x,SixteenLetterKey=1",
	  "unexpected key 'sixteenletterkey' in 'SixteenLetterKey=1'", 0, 0 },
	{ "type=nfs,target=/x", "unsupported mount type \"nfs\"", 0, 0 },
	{ "type=cahce,target=/x", "unsupported mount type \"cahce\" (did you mean cache?)", 0, 0 },
	{ "type=cache,target=/x,sharing=bogus", "unsupported sharing value \"bogus\"", 0, 0 },
	{ "type=cache,target=/x,sharing=privat",
	  "unsupported sharing value \"privat\" (did you mean private?)", 0, 0 },
	{ "target=/x,sharing=shared", "invalid cache sharing set for bind mount", 0, 0 },
	{ "target=/x,required", "unexpected key 'required' for mount type 'bind'", 0, 0 },
	{ "type=cache,target=/x,size=1g", "unexpected key 'size' for mount type 'cache'", 0, 0 },
	{ "type=tmpfs,target=/x,size=lots", "invalid value for size: lots", 0, 0 },
	{ "target=/x,mode=0755", "mode not allowed for \"bind\" type mounts", 0, 0 },
	{ "type=tmpfs,target=/x,uid=1", "uid not allowed for \"tmpfs\" type mounts", 0, 0 },
	{ "type=cache,target=/x,mode=9", "invalid value 9 for mode", 0, 0 },
	{ "type=cache,target=/x,uid=-1", "invalid value -1 for uid", 0, 0 },
	{ "type=cache,target=/x,gid=x", "invalid value x for gid", 0, 0 },
	{ "target=/x,ro=maybe", "invalid value for ro: maybe", 0, 0 },
	{ "target=/x,bogus", "invalid field 'bogus' must be a key=value pair", 0, 0 },
	{ "target=/x,tagret=/y", "unexpected key 'tagret' in 'tagret=/y' (did you mean target?)", 0,
	  0 },
	{ "type=secret,from=x,id=a", "secret mount should not have a from", 0, 0 },
	{ "type=secret,id=a,sharing=locked", "secret mount should not define sharing", 0, 0 },
	{ "type=secret", "invalid secret mount. one of source, target required", 0, 0 },
	{ "type=secret,source=a,id=b", "both source and id can't be set", 0, 0 },
};

static void test_mounts(void)
{
	struct kiln_df_model *m = NULL;
	if (kiln_df_model_empty(NULL, &m, NULL) < 0)
		return;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(mounts); i++) {
		struct kiln_df_mount mt;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_mount_parse(m, mounts[i].spec, &mt, &err);
		if (mounts[i].err)
			TAP_OK(r < 0 && err.msg && !strcmp(err.msg, mounts[i].err), "mount %s: %s",
			       mounts[i].spec, err.msg ? err.msg : "(accepted)");
		else
			TAP_OK(r == 0 && mt.type == mounts[i].type &&
				       mt.readonly == mounts[i].readonly,
			       "mount %s valid (type %d, readonly %d)", mounts[i].spec, mt.type,
			       mt.readonly);
		kiln_error_release(&err);
	}
	struct kiln_df_mount mt;
	TAP_OK(kiln_df_mount_parse(m, "type=cache,\"target=/x\"\"y\",id=i", &mt, NULL) == 0 &&
		       !strcmp(mt.target, "/x\"y") && !strcmp(mt.id, "i"),
	       "quoted CSV field with a doubled quote, then a plain one");
	TAP_OK(kiln_df_mount_parse(m, "\"target=/a,b\",source=s", &mt, NULL) == 0 &&
		       !strcmp(mt.target, "/a,b") && !strcmp(mt.source, "s"),
	       "quoted CSV field holding a comma");
	TAP_OK(kiln_df_mount_parse(m, "type=tmpfs,target=/t,size=1.5k", &mt, NULL) == 0 &&
		       mt.size == 1536,
	       "tmpfs size 1.5k is 1536 bytes");
	TAP_OK(kiln_df_mount_parse(m, "type=cache,id=x,target=/c,sharing=private,uid=5,mode=750",
				   &mt, NULL) == 0 &&
		       mt.sharing == KILN_DF_SHARING_PRIVATE && mt.has_uid && mt.uid == 5 &&
		       mt.has_mode && mt.mode == 0750 && !strcmp(mt.id, "x"),
	       "cache mount options");
	TAP_OK(kiln_df_mount_parse(m, "type=secret,id=a,env=", &mt, NULL) == 0 && mt.has_env &&
		       !strcmp(mt.env, ""),
	       "secret env= empty is set");
	TAP_OK(kiln_df_mount_parse(m, "\"target=/a,b\"", &mt, NULL) == 0 &&
		       !strcmp(mt.target, "/a,b"),
	       "a quoted CSV field keeps its comma");
	/* more fields than the split without csv takes: the same answer through csv */
	TAP_OK(kiln_df_mount_parse(m, "type=cache,target=/a,id=1,id=2,id=3,id=4,id=5,id=6,id=7,"
				      "id=8,id=9,id=10,id=11,id=12,id=13,id=14,id=15,ID=last",
				   &mt, NULL) == 0 &&
		       mt.type == KILN_DF_MOUNT_CACHE && !strcmp(mt.id, "last") &&
		       !strcmp(mt.target, "/a"),
	       "a mount of 18 fields, the last id winning");
	struct kiln_error ferr = KILN_ERROR_INIT;
	TAP_OK(kiln_df_mount_parse(m, "Target=/x,Src=s,", &mt, &ferr) < 0 && ferr.msg &&
		       !strcmp(ferr.msg, "invalid field '' must be a key=value pair"),
	       "an empty last field is a field");
	kiln_error_release(&ferr);
	TAP_OK(kiln_df_mount_parse(m, "Target=/x,Src=s,READONLY", &mt, NULL) == 0 &&
		       !strcmp(mt.target, "/x") && !strcmp(mt.source, "s") && mt.readonly,
	       "keys in any case");
	struct kiln_df_device d;
	TAP_OK(kiln_df_device_parse(m, "vendor.com/gpu=all,required=false", &d, NULL) == 0 &&
		       !strcmp(d.name, "vendor.com/gpu=all") && !d.required,
	       "device name with '=' is its name");
	kiln_df_model_free(m);
}

/* ---- --chmod ---- */

struct chmod_case {
	const char *spec;
	unsigned mode;
	int dir;
	long want; /* -1: error */
};

static const struct chmod_case chmods[] = {
	{ "755", 0644, 0, 0755 },    { "0644", 0777, 0, 0644 },
	{ "7777", 0, 0, 07777 },     { "10000", 0, 0, -1 },
	{ "8", 0, 0, -1 },	     { "u+x", 0644, 0, 0744 },
	{ "go-w", 0666, 0, 0644 },   { "+x", 0644, 0, 0755 },
	{ "a=r", 0777, 0, 0444 },    { "u=rwx,go=rx", 0, 0, 0755 },
	{ "+X", 0644, 0, 0644 },     { "+X", 0644, 1, 0755 },
	{ "+X", 0744, 0, 0755 },     { "g=u", 0740, 0, 0770 },
	{ "go=u-w", 0700, 0, 0755 }, { "u+s", 0755, 0, 04755 },
	{ "+t", 0755, 1, 01755 },    { "o=", 0777, 0, 0770 },
	{ "u", 0, 0, -1 },	     { "u+x,", 0, 0, -1 },
	{ "q+x", 0, 0, -1 },	     { "", 0, 0, -1 },
};

static void test_chmod(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(chmods); i++) {
		uint32_t got = 0;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_chmod_apply(chmods[i].spec, 0100000 | chmods[i].mode, chmods[i].dir,
					    &got, &err);
		if (chmods[i].want < 0)
			TAP_OK(r < 0, "--chmod=%s rejected: %s", chmods[i].spec,
			       err.msg ? err.msg : "");
		else
			TAP_OK(r == 0 && got == (0100000 | (uint32_t) chmods[i].want),
			       "--chmod=%s on %04o%s gives %04o (got %04o)", chmods[i].spec,
			       chmods[i].mode, chmods[i].dir ? " (dir)" : "",
			       (unsigned) chmods[i].want, got & 07777);
		kiln_error_release(&err);
	}
	uint32_t got;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(kiln_df_chmod_apply("99", 0, 0, &got, &err) < 0 && err.msg &&
		       !strcmp(err.msg,
			       "invalid chmod parameter: '99'. it should be octal string and "
			       "between 0 and 07777"),
	       "BuildKit's message for a non-octal number");
	kiln_error_release(&err);
}

/* ---- platforms ---- */

struct platform_case {
	const char *in;
	const char *want; /* Format(), or NULL for an error */
};

static const struct platform_case platforms[] = {
	{ "linux/amd64", "linux/amd64" },
	{ "linux/x86_64", "linux/amd64" },
	{ "Linux/AMD64", "linux/amd64" },
	{ "linux/arm", "linux/arm" },
	{ "linux/arm/7", "linux/arm/v7" },
	{ "linux/armhf", "linux/arm" },
	{ "linux/armel", "linux/arm/v6" },
	{ "linux/aarch64", "linux/arm64" },
	{ "linux/arm64/8", "linux/arm64/v8" },
	{ "linux/i386", "linux/386" },
	{ "macos/arm64", "darwin/arm64" },
	{ "amd64", "linux/amd64" },
	{ "windows(10.0.17763)/amd64", "windows/amd64" },
	{ "linux/", NULL },
	{ "linux/*", NULL },
	{ "a/b/c/d", NULL },
	{ "nosuchthing", NULL },
	{ "li nux/amd64", NULL },
};

static void test_platforms(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(platforms); i++) {
		struct kiln_df_platform p;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_platform_parse(platforms[i].in, &p, &err);
		if (!platforms[i].want) {
			TAP_OK(r < 0, "platform %s rejected: %s", platforms[i].in,
			       err.msg ? err.msg : "");
		} else {
			char *f = r == 0 ? kiln_df_platform_format(&p) : NULL;
			TAP_STR_EQ(f ? f : "(error)", platforms[i].want, "platform %s",
				   platforms[i].in);
			free(f);
			kiln_df_platform_release(&p);
		}
		kiln_error_release(&err);
	}
	struct kiln_df_platform p;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_df_platform_parse("linux/", &p, &err);
	TAP_OK(r < 0 && !strcmp(err.msg, "\"\" is an invalid component of \"linux/\": platform "
					 "specifier component must match \"^[A-Za-z0-9_.-]+$\": "
					 "invalid argument"),
	       "containerd's message for an empty component");
	kiln_error_release(&err);
	r = kiln_df_platform_parse("windows(10.0)/amd64", &p, &err);
	char *all = r == 0 ? kiln_df_platform_format_all(&p) : NULL;
	TAP_STR_EQ(all ? all : "", "windows(10.0)/amd64", "FormatAll keeps the OS version");
	free(all);
	kiln_df_platform_release(&p);
	r = kiln_df_platform_host(&p, &err);
	TAP_OK(r == 0 && !strcmp(p.os, "linux") && *p.arch, "host platform");
	kiln_df_platform_release(&p);
}

/* An AST and its models in the caller's arena: the same result, the arena reused. */
static void test_parse_in(void)
{
	static const char df[] = "FROM alpine AS b\nRUN --mount=type=cache,target=/c make\n"
				 "FROM b\nCOPY --from=b /x /y\n";
	struct kiln_arena *a = kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK);
	TAP_OK(a != NULL, "parse_in: an arena");
	if (!a)
		return;
	for (int round = 0; round < 2; round++) {
		struct kiln_error err = KILN_ERROR_INIT;
		struct kiln_df_ast *ast = NULL, *own = NULL;
		struct kiln_df_model *m = NULL;
		struct kiln_buf d1 = KILN_BUF_INIT, d2 = KILN_BUF_INIT;
		int r = kiln_df_parse_in(a, df, strlen(df), "Dockerfile", &ast, &err);
		if (r >= 0)
			r = kiln_df_parse(df, strlen(df), "Dockerfile", &own, &err);
		if (r >= 0)
			r = kiln_df_model_new(ast, &m, &err);
		TAP_OK(r >= 0, "parse_in round %d: parsed and typed", round);
		if (r >= 0) {
			TAP_OK(kiln_df_dump(ast, &d1) >= 0 && kiln_df_dump(own, &d2) >= 0 &&
				       d1.len == d2.len && !memcmp(d1.buf, d2.buf, d1.len),
			       "parse_in round %d: the dump of a parse of its own", round);
			TAP_OK(m->n_stages == 2 && m->stages[1].n_instrs == 2 &&
				       !strcmp(m->stages[0].from->u.from.name, "b"),
			       "parse_in round %d: the model", round);
		}
		kiln_buf_release(&d1);
		kiln_buf_release(&d2);
		kiln_df_model_free(m);
		kiln_arena_reset(a); /* before the AST is freed, as kiln lint does */
		kiln_df_ast_free(ast);
		kiln_df_ast_free(own);
		kiln_error_release(&err);
	}
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_df_ast *bad = NULL;
	int r = kiln_df_parse_in(a, "# nothing\n", 10, "Dockerfile", &bad, &err);
	TAP_OK(r == -KILN_EPARSE && !bad, "parse_in: an error leaves no AST");
	kiln_error_release(&err);
	kiln_arena_free(a);
}

/* Stage names to indexes: a table for few stages (scanned) and one for many (hashed). */
static void test_names(void)
{
	static const char *const names[] = { "a", "b", "a", "", "base", "b", "a" };
	for (size_t n = 7; n <= 40; n += 33) {
		struct df_names t;
		TAP_OK(df_names_init(&t, n) == 0, "names(%zu): a table", n);
		long want_prev[] = { -1, -1, 0, -1, -1, 1, 2 };
		int ok = 1;
		for (size_t i = 0; i < 7; i++)
			ok &= df_names_add(&t, names[i], i) == want_prev[i];
		TAP_OK(ok, "names(%zu): add returns the index hidden", n);
		TAP_OK(df_names_find(&t, "a") == 6 && df_names_find(&t, "b") == 5 &&
			       df_names_find(&t, "") == 3 && df_names_find(&t, "base") == 4 &&
			       df_names_find(&t, "c") == -1 && df_names_find(&t, "ba") == -1 &&
			       df_names_find(&t, NULL) == -1,
		       "names(%zu): find the last index", n);
		TAP_OK(df_names_find_before(&t, "a", 6) == 2 &&
			       df_names_find_before(&t, "a", 2) == 0 &&
			       df_names_find_before(&t, "a", 0) == -1 &&
			       df_names_find_before(&t, "b", 5) == 1,
		       "names(%zu): find before an index", n);
		TAP_OK(df_names_add(&t, "x", n) == -1, "names(%zu): an index out of range", n);
		df_names_release(&t);
	}
	struct df_names none = { 0 };
	TAP_OK(df_names_find(&none, "a") == -1 && df_names_add(&none, "a", 0) == -1,
	       "names: a table never made");
	df_names_release(&none);
}

/* An ENV of more words than the parser's first list holds, typed. */
static void test_many_pairs(void)
{
	struct typed t;
	int r = type_file("FROM x\nENV a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10\n", &t);
	const struct kiln_df_instr *in = r < 0 ? NULL : &t.m->stages[0].instrs[1];
	TAP_OK(in && in->u.pairs.n == 10 && !strcmp(in->u.pairs.v[0].key, "a") &&
		       !strcmp(in->u.pairs.v[0].value, "1") &&
		       !strcmp(in->u.pairs.v[9].key, "j") &&
		       !strcmp(in->u.pairs.v[9].value, "10") && !in->u.pairs.v[9].legacy,
	       "ten ENV pairs: keys cut at the '=', values after it");
	typed_release(&t);
}

int main(void)
{
	test_from();
	test_run();
	test_copy_add();
	test_other();
	test_errors();
	test_nul_bytes();
	test_mounts();
	test_chmod();
	test_platforms();
	test_parse_in();
	test_names();
	test_many_pairs();
	return tap_done();
}
