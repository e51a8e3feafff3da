/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build: the image config a Dockerfile's instructions assemble, as
 * BuildKit's dockerfile2llb writes it — what each metadata instruction
 * changes, CMD/ENTRYPOINT's reset rule, the history texts (created_by,
 * empty_layer) and the history times a build fills in. Each case runs the
 * target stage's steps through the build's config code the way a build
 * does, with layer steps standing in for their layers.
 */
#include <string.h>

#include "build/build-private.h"
#include "dockerfile/dockerfile.h"
#include "tap.h"

#define PATHV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct assembled {
	struct kiln_df_ast *ast;
	struct kiln_df_model *model;
	struct kiln_df_graph *graph;
	struct kiln_oci_config *config;
};

static void assembled_release(struct assembled *a)
{
	kiln_oci_config_free(a->config);
	kiln_df_graph_free(a->graph);
	kiln_df_model_free(a->model);
	kiln_df_ast_free(a->ast);
	memset(a, 0, sizeof(*a));
}

/*
 * The config of the Dockerfile's last stage over `base_json` (the "config"
 * object of an image config; NULL: scratch). Layer step i gets the time layer_t0 + 1000 * i.
 */
static int assemble(const char *df, const char *base_json, const char *const *labels,
		    size_t n_labels, int64_t epoch, struct assembled *a, struct kiln_error *err)
{
	memset(a, 0, sizeof(*a));
	struct kiln_build_opts o = { .labels = labels,
				     .n_labels = n_labels,
				     .source_date_epoch = epoch };
	struct bb b = { .o = &o, .created = 1700000000 };
	b.platform.os = (char *) "linux";
	b.platform.arch = (char *) "amd64";
	b.platform.variant = (char *) "";
	struct kiln_df_graph_opts go = { 0 };
	int r = kiln_df_parse(df, strlen(df), "Dockerfile", &a->ast, err);
	if (r >= 0)
		r = kiln_df_model_new(a->ast, &a->model, err);
	if (r >= 0)
		r = kiln_df_graph_new(a->model, &go, &a->graph, err);
	struct bb_stage s = { 0 };
	if (r >= 0 && base_json) {
		cleanup(kiln_oci_config_freep) struct kiln_oci_config *base = NULL;
		cleanup_free char *json = kiln_asprintf(
			"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
			"\"layers\",\"diff_ids\":[]},\"config\":%s}",
			base_json);
		r = json ? kiln_oci_config_parse(json, strlen(json), &base, err)
			 : kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (r >= 0)
			r = bb_config_from_image(base, &s.config, err);
	} else if (r >= 0) {
		r = bb_config_scratch(&b, &s.config, err);
	}
	if (r < 0)
		return r;
	const struct kiln_df_stage *st = &a->graph->stages[a->graph->target];
	int64_t t = 1000;
	for (size_t i = 0; r >= 0 && i < st->n_steps; i++) {
		const struct kiln_df_step *step = &st->steps[i];
		enum kiln_df_cmd cmd = step->instr.cmd;
		int layer = cmd == KILN_DF_RUN || cmd == KILN_DF_COPY || cmd == KILN_DF_ADD ||
			    (cmd == KILN_DF_WORKDIR && strcmp(step->workdir, "/") != 0);
		if (!layer) {
			r = bb_config_apply(&b, &s, step, err);
			continue;
		}
		if (cmd == KILN_DF_WORKDIR)
			r = bb_config_apply(&b, &s, step, err);
		cleanup(kiln_strv_release) struct kiln_strv argv = KILN_STRV_INIT;
		cleanup(kiln_strv_release) struct kiln_strv files = KILN_STRV_INIT;
		if (r >= 0 && cmd == KILN_DF_RUN)
			r = bb_run_argv(step, &argv, &files, err);
		cleanup_free char *created_by = NULL;
		if (r >= 0)
			r = bb_created_by(step, (const char *const *) argv.items, argv.len,
					  &created_by, err);
		if (r >= 0)
			r = bb_config_history(&b, s.config, created_by, 0, epoch >= 0 ? epoch : t,
					      err);
		t += 1000;
	}
	if (r >= 0)
		r = bb_config_finish(&b, s.config, err);
	a->config = s.config;
	return r;
}

/* A field of the config as text: lists joined with '|'. */
static char *join(const struct kiln_strv *v)
{
	struct kiln_buf b = KILN_BUF_INIT;
	int r = kiln_buf_addstr(&b, "");
	for (size_t i = 0; r >= 0 && i < v->len; i++)
		r = kiln_buf_addf(&b, "%s%s", i ? "|" : "", v->items[i]);
	if (r < 0)
		kiln_buf_release(&b);
	return r < 0 ? NULL : kiln_buf_detach(&b, NULL);
}

static char *field(const struct kiln_oci_config *c, const char *name)
{
	const struct kiln_oci_runconfig *rc = &c->config;
	if (!strcmp(name, "env"))
		return join(&rc->env);
	if (!strcmp(name, "cmd"))
		return join(&rc->cmd);
	if (!strcmp(name, "entrypoint"))
		return join(&rc->entrypoint);
	if (!strcmp(name, "shell"))
		return join(&rc->shell);
	if (!strcmp(name, "ports"))
		return join(&rc->exposed_ports);
	if (!strcmp(name, "volumes"))
		return join(&rc->volumes);
	if (!strcmp(name, "onbuild"))
		return join(&rc->on_build);
	if (!strcmp(name, "user"))
		return kiln_strdup(rc->user ? rc->user : "");
	if (!strcmp(name, "workdir"))
		return kiln_strdup(rc->working_dir ? rc->working_dir : "");
	if (!strcmp(name, "stopsignal"))
		return kiln_strdup(rc->stop_signal ? rc->stop_signal : "");
	if (!strcmp(name, "author"))
		return kiln_strdup(c->author ? c->author : "");
	if (!strcmp(name, "argsescaped"))
		return kiln_strdup(rc->args_escaped ? "true" : "false");
	if (!strcmp(name, "labels")) {
		struct kiln_buf b = KILN_BUF_INIT;
		int r = kiln_buf_addstr(&b, "");
		for (size_t i = 0; r >= 0 && i < rc->labels.len; i++)
			r = kiln_buf_addf(&b, "%s%s=%s", i ? "|" : "", rc->labels.items[i].key,
					  rc->labels.items[i].value);
		if (r < 0)
			kiln_buf_release(&b);
		return r < 0 ? NULL : kiln_buf_detach(&b, NULL);
	}
	if (!strcmp(name, "health")) {
		if (!rc->healthcheck)
			return kiln_strdup("");
		cleanup_free char *test = join(&rc->healthcheck->test);
		return kiln_asprintf("%s interval=%lld timeout=%lld start=%lld retries=%lld",
				     test ? test : "?", (long long) rc->healthcheck->interval,
				     (long long) rc->healthcheck->timeout,
				     (long long) rc->healthcheck->start_period,
				     (long long) rc->healthcheck->retries);
	}
	if (!strcmp(name, "history") || !strcmp(name, "times")) {
		int times = !strcmp(name, "times");
		struct kiln_buf b = KILN_BUF_INIT;
		int r = kiln_buf_addstr(&b, "");
		for (size_t i = 0; r >= 0 && i < c->n_history; i++) {
			const struct kiln_oci_history *h = &c->history[i];
			if (times)
				r = kiln_buf_addf(&b, "%s%s", i ? "|" : "",
						  h->created ? h->created : "-");
			else
				r = kiln_buf_addf(&b, "%s%s %s", i ? "\n" : "",
						  h->empty_layer ? "E" : "L", h->created_by);
		}
		if (r >= 0 && times)
			r = kiln_buf_addf(&b, " created=%s", c->created ? c->created : "-");
		if (r < 0)
			kiln_buf_release(&b);
		return r < 0 ? NULL : kiln_buf_detach(&b, NULL);
	}
	if (!strcmp(name, "comments")) {
		int all = c->n_history > 0;
		for (size_t i = 0; i < c->n_history; i++)
			all &= c->history[i].comment &&
			       !strcmp(c->history[i].comment, "buildkit.dockerfile.v0");
		return kiln_strdup(all ? "buildkit.dockerfile.v0" : "mixed");
	}
	if (!strcmp(name, "platform"))
		return kiln_asprintf("%s/%s", c->platform.os ? c->platform.os : "-",
				     c->platform.architecture ? c->platform.architecture : "-");
	return kiln_strdup("?field");
}

static const struct config_case {
	const char *what;
	const char *base; /* the base image's "config" object (JSON); NULL: FROM scratch */
	const char *df;	  /* after "FROM scratch\n" */
	const char *field;
	const char *want;
} cases[] = {
	/* ENV and LABEL: replace in place, append new; history "ENV K=V ..." */
	{ "ENV sets and replaces", NULL, "ENV A=b C=\"d e\"\nENV A=z\n", "env",
	  PATHV "|A=z|C=d e" },
	{ "ENV history", NULL, "ENV A=b C=\"d e\"\nENV A=z\n", "history",
	  "E ENV A=b C=d e\nE ENV A=z" },
	{ "ENV over a base's variables", "{\"Env\":[\"PATH=/bin\",\"A=1\"]}", "ENV A=2 B=3\n",
	  "env", "PATH=/bin|A=2|B=3" },
	{ "a base without PATH gets the default", "{\"Env\":[\"A=1\"]}", "USER x\n", "env",
	  "A=1|" PATHV },
	{ "LABEL", NULL, "LABEL b=2 a=\"one two\"\nLABEL b=3\n", "labels", "a=one two|b=3" },
	{ "LABEL history", NULL, "LABEL b=2 a=\"one two\"\n", "history", "E LABEL b=2 a=one two" },
	{ "LABELs of the base stay", "{\"Labels\":{\"base\":\"yes\"}}", "LABEL x=1\n", "labels",
	  "base=yes|x=1" },
	{ "ARG history", NULL, "ARG A\nARG B=2 C=3\n", "history", "E ARG A\nE ARG B=2 C=3" },

	/* CMD and ENTRYPOINT */
	{ "CMD shell form goes through the shell", NULL, "CMD echo hi there\n", "cmd",
	  "/bin/sh|-c|echo hi there" },
	{ "CMD sets ArgsEscaped", NULL, "CMD echo hi there\n", "argsescaped", "true" },
	{ "CMD history", NULL, "CMD echo hi\nCMD [\"a\", \"b c\"]\n", "history",
	  "E CMD [\"/bin/sh\" \"-c\" \"echo hi\"]\nE CMD [\"a\" \"b c\"]" },
	{ "ENTRYPOINT exec form", NULL, "ENTRYPOINT [\"/e\", \"-x\"]\n", "entrypoint", "/e|-x" },
	{ "ENTRYPOINT shell form", NULL, "ENTRYPOINT exec /e\n", "entrypoint",
	  "/bin/sh|-c|exec /e" },
	{ "ENTRYPOINT does not set ArgsEscaped", NULL, "ENTRYPOINT [\"/e\"]\n", "argsescaped",
	  "false" },
	{ "ENTRYPOINT resets the base's CMD", "{\"Cmd\":[\"base\"]}", "ENTRYPOINT [\"/e\"]\n",
	  "cmd", "" },
	{ "without ENTRYPOINT the base's CMD stays", "{\"Cmd\":[\"base\"]}", "ENV A=1\n", "cmd",
	  "base" },
	{ "CMD before ENTRYPOINT in the stage stays", "{\"Cmd\":[\"base\"]}",
	  "CMD [\"c\"]\nENTRYPOINT [\"/e\"]\n", "cmd", "c" },
	{ "CMD after ENTRYPOINT", NULL, "ENTRYPOINT [\"/e\"]\nCMD [\"c\"]\n", "cmd", "c" },
	{ "ENTRYPOINT history", NULL, "ENTRYPOINT [\"/e\", \"a b\"]\n", "history",
	  "E ENTRYPOINT [\"/e\" \"a b\"]" },

	/* SHELL */
	{ "SHELL changes the shell form", NULL,
	  "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nCMD echo x\n", "cmd",
	  "/bin/bash|-o|pipefail|-c|echo x" },
	{ "SHELL is kept in the config", NULL, "SHELL [\"/bin/bash\", \"-c\"]\n", "shell",
	  "/bin/bash|-c" },
	{ "SHELL history", NULL, "SHELL [\"/bin/bash\", \"-c\"]\n", "history",
	  "E SHELL [/bin/bash -c]" },

	/* ports, volumes, user, signal, author */
	{ "EXPOSE: a sorted set with protocols", NULL, "EXPOSE 8080 53/udp\nEXPOSE 80 8080\n",
	  "ports", "53/udp|80/tcp|8080/tcp" },
	{ "EXPOSE: SplitProtoPort's reading of extra slashes", NULL,
	  "EXPOSE 22/udp/x 80/tcp/ 90//udp\n", "ports", "22/udp|80/tcp|90/tcp" },
	{ "VOLUME: a sorted set", NULL, "VOLUME /logs /data\nVOLUME [\"/data\", \"/cache\"]\n",
	  "volumes", "/cache|/data|/logs" },
	{ "VOLUME history", NULL, "VOLUME /logs /data\n", "history", "E VOLUME [/logs /data]" },
	{ "USER", NULL, "USER app:staff\n", "user", "app:staff" },
	{ "USER history", NULL, "USER app\n", "history", "E USER app" },
	{ "STOPSIGNAL", NULL, "STOPSIGNAL SIGQUIT\n", "stopsignal", "SIGQUIT" },
	{ "MAINTAINER sets the author", NULL, "MAINTAINER Jo <jo@example.org>\n", "author",
	  "Jo <jo@example.org>" },
	{ "MAINTAINER history", NULL, "MAINTAINER Jo\n", "history", "E MAINTAINER Jo" },

	/* HEALTHCHECK */
	{ "HEALTHCHECK CMD with options", NULL,
	  "HEALTHCHECK --interval=1500ms --timeout=250ms --start-period=1m30s --retries=3 "
	  "CMD wget -q localhost\n",
	  "health",
	  "CMD-SHELL|wget -q localhost interval=1500000000 timeout=250000000 "
	  "start=90000000000 retries=3" },
	{ "HEALTHCHECK history in Go's %+v with durations", NULL,
	  "HEALTHCHECK --interval=1500ms --timeout=250ms --start-period=1m30s --retries=3 "
	  "CMD wget -q localhost\n",
	  "history",
	  "E HEALTHCHECK {Test:[CMD-SHELL wget -q localhost] Interval:1.5s Timeout:250ms "
	  "StartPeriod:1m30s StartInterval:0s Retries:3}" },
	{ "HEALTHCHECK exec form", NULL, "HEALTHCHECK CMD [\"/check\", \"-v\"]\n", "health",
	  "CMD|/check|-v interval=0 timeout=0 start=0 retries=0" },
	{ "HEALTHCHECK NONE", "{\"Healthcheck\":{\"Test\":[\"CMD\",\"x\"]}}", "HEALTHCHECK NONE\n",
	  "health", "NONE interval=0 timeout=0 start=0 retries=0" },
	{ "HEALTHCHECK NONE history", NULL, "HEALTHCHECK NONE\n", "history",
	  "E HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s "
	  "Retries:0}" },

	/* ONBUILD: in the config, not in the history; a base's triggers are not passed on */
	{ "ONBUILD is stored", NULL, "ONBUILD RUN make\nONBUILD COPY . /src\n", "onbuild",
	  "RUN make|COPY . /src" },
	{ "ONBUILD leaves no history", NULL, "ONBUILD RUN make\n", "history", "" },
	{ "a base's ONBUILD triggers are not inherited", "{\"OnBuild\":[\"RUN x\"]}", "ENV A=1\n",
	  "onbuild", "" },

	/* WORKDIR: a layer unless "/" */
	{ "WORKDIR joins relative paths", NULL, "WORKDIR /app\nWORKDIR sub\n", "workdir",
	  "/app/sub" },
	{ "WORKDIR makes layers", NULL, "WORKDIR /app\nWORKDIR sub\n", "history",
	  "L WORKDIR /app\nL WORKDIR /app/sub" },
	{ "WORKDIR / makes none", NULL, "WORKDIR /\n", "history", "E WORKDIR /" },
	{ "WORKDIR with a variable", NULL, "ENV D=/srv\nWORKDIR $D/www\n", "workdir", "/srv/www" },

	/* the layer steps' created_by */
	{ "RUN shell form", NULL, "RUN make -j2 all\n", "history",
	  "L RUN /bin/sh -c make -j2 all # buildkit" },
	{ "RUN exec form", NULL, "RUN [\"/bin/echo\", \"a b\"]\n", "history",
	  "L RUN /bin/echo a b # buildkit" },
	{ "RUN lists the stage's ARGs", NULL, "ARG V=1\nARG W\nRUN echo $V\n", "history",
	  "E ARG V=1\nE ARG W\nL RUN |2 V=1 W= /bin/sh -c echo $V # buildkit" },
	{ "RUN through SHELL", NULL, "SHELL [\"/bin/bash\", \"-c\"]\nRUN echo x\n", "history",
	  "E SHELL [/bin/bash -c]\nL RUN /bin/bash -c echo x # buildkit" },
	{ "COPY with flags", NULL, "COPY --chown=1:2 --chmod=644 a b /dst/\n", "history",
	  "L COPY --chown=1:2 --chmod=644 a b /dst/ # buildkit" },
	{ "COPY --parents and --link", NULL, "COPY --parents --link x/a ./\n", "history",
	  "L COPY --parents x/a ./ # buildkit" },
	{ "COPY of a heredoc", NULL, "COPY <<EOF /x\nhi\nEOF\n", "history",
	  "L COPY <<EOF /x # buildkit" },
	{ "ADD", NULL, "ADD --chmod=600 a.tar /opt/\n", "history",
	  "L ADD --chmod=600 a.tar /opt/ # buildkit" },
	{ "every entry carries BuildKit's comment", NULL, "ENV A=1\nRUN x\n", "comments",
	  "buildkit.dockerfile.v0" },

	/* history times: metadata entries take the next layer's time, or the one
	 * before once layers started; the config is as old as its last entry */
	{ "history times", NULL, "ENV A=1\nRUN a\nENV B=2\nLABEL c=3\nRUN b\nUSER x\n", "times",
	  "1970-01-01T00:16:40Z|1970-01-01T00:16:40Z|1970-01-01T00:16:40Z|"
	  "1970-01-01T00:16:40Z|1970-01-01T00:33:20Z|1970-01-01T00:33:20Z "
	  "created=1970-01-01T00:33:20Z" },
	{ "no layer: the build's time", NULL, "ENV A=1\n", "times",
	  "2023-11-14T22:13:20Z created=2023-11-14T22:13:20Z" },
	{ "platform of a scratch stage", NULL, "ENV A=1\n", "platform", "linux/amd64" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		const struct config_case *c = &cases[i];
		cleanup_free char *df = kiln_asprintf("FROM scratch\n%s", c->df);
		struct assembled a;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = df ? assemble(df, c->base, NULL, 0, -1, &a, &err) : -1;
		cleanup_free char *got = r >= 0 ? field(a.config, c->field) : NULL;
		int ok = got && !strcmp(got, c->want);
		TAP_OK(ok, "%s", c->what);
		if (!ok)
			tap_diag("want '%s', got '%s'%s%s", c->want, got ? got : "(error)",
				 err.msg ? ": " : "", err.msg ? err.msg : "");
		kiln_error_release(&err);
		assembled_release(&a);
	}
}

static void test_labels_and_epoch(void)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct assembled a;
	const char *labels[] = { "b=from-cli", "c=" };
	int r = assemble("FROM scratch\nLABEL a=1 b=2\nRUN x\nENV E=1\n",
			 "{\"Labels\":{\"z\":\"base\"}}", labels, 2, 86400, &a, &err);
	cleanup_free char *l = r >= 0 ? field(a.config, "labels") : NULL;
	TAP_STR_EQ(l ? l : "(error)", "a=1|b=from-cli|c=|z=base",
		   "--label is applied last, over the Dockerfile's");
	cleanup_free char *t = r >= 0 ? field(a.config, "times") : NULL;
	TAP_STR_EQ(t ? t : "(error)",
		   "1970-01-02T00:00:00Z|1970-01-02T00:00:00Z|1970-01-02T00:00:00Z "
		   "created=1970-01-02T00:00:00Z",
		   "SOURCE_DATE_EPOCH dates every history entry and the config");
	kiln_error_release(&err);
	assembled_release(&a);

	/* a metadata instruction the config code does not know is an internal error */
	r = assemble("FROM scratch\nENV A=1\n", NULL, NULL, 0, -1, &a, &err);
	if (r >= 0) {
		struct kiln_build_opts o = { .source_date_epoch = -1 };
		struct bb b = { .o = &o };
		struct bb_stage s = { .config = a.config };
		const struct kiln_df_stage *st = &a.graph->stages[a.graph->target];
		struct kiln_df_step run = st->steps[0];
		run.instr.cmd = KILN_DF_RUN;
		TAP_INT_EQ(bb_config_apply(&b, &s, &run, &err), -KILN_EINTERNAL,
			   "RUN is no metadata instruction");
		kiln_error_release(&err);
	} else {
		TAP_OK(0, "RUN is no metadata instruction (setup failed: %s)", err.msg);
	}
	kiln_error_release(&err);
	assembled_release(&a);
}

int main(void)
{
	test_cases();
	test_labels_and_epoch();
	return tap_done();
}
